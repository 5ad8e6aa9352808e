// Memory over a long run in the browser: 25 Raft servers, 2,000 client
// requests per second (tests/scenarios/raft/busy-25.scn, or the scenario
// file MEMORY_SCENARIO names, relative to the repository) played at 1x for
// MEMORY_MINUTES minutes (default 10) of wall-clock time, each build in its
// own headless Chromium, side by side. Every 30 s it reads the resident
// memory of the whole browser (the sum over its process tree: the page,
// the worker's renderer, the GPU and utility processes), so builds that do
// not know about this benchmark are measured the same way. Memory is PSS
// (proportional set size), summed over the processes.
// Usage: node memory-bench.mjs [DIST ...]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serve, launch, ROOT, DIST, virtualTime } from './harness.mjs';

const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
const scenario = process.env.MEMORY_SCENARIO ?? 'tests/scenarios/raft/busy-25.scn';
const fragment = execFileSync(cli, ['link', join(ROOT, scenario)], { encoding: 'utf8' }).trim();
const dists = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [DIST];
const minutes = Number(process.env.MEMORY_MINUTES ?? 10);

// Proportional resident memory (MB; shared pages split between the
// processes sharing them, so the sum is not inflated) of a process and all
// its descendants, from /proc/PID/smaps_rollup.
function treeRss(root) {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const kids = new Map();
  for (const [pid, ppid] of rows) kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    try {
      const m = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
      total += m ? Number(m[1]) : 0;
    } catch { /* the process ended */ }
    stack.push(...(kids.get(p) ?? []));
  }
  return total / 1024;
}

// The browser's main process: the child this process started with it.
function children() {
  return execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => ppid === process.pid).map(([pid]) => pid);
}
let launching = Promise.resolve();

async function measure(dist) {
  const { server, url } = await serve(dist);
  // One launch at a time, so the new child is this browser.
  let browser, pid;
  launching = launching.then(async () => {
    const before = new Set(children());
    browser = await launch();
    pid = children().find((p) => !before.has(p));
  });
  await launching;
  const rows = [];
  try {
    const page = await browser.newPage();
    await page.goto(`${url}#${fragment}`);
    await page.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 60_000 });
    await page.getByRole('combobox', { name: 'Speed', exact: true }).selectOption('1×');
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    const start = Date.now();
    for (let i = 0; ; i++) {
      const wall = (Date.now() - start) / 60_000;
      // Builds that report it: the worker's WebAssembly heap and snapshots.
      // Newer ones also what of it is in use.
      const worker = await page.locator('[data-metric="worker_memory"]').first()
        .evaluate((e) => [Number(e.dataset.value), e.title, e.dataset.inUse], null).catch(() => null);
      rows.push({ wall, virtual: (await virtualTime(page)) / 1e6, rss: treeRss(pid), worker });
      if (wall >= minutes) break;
      await page.waitForTimeout(30_000);
    }
  } finally {
    await browser.close();
    server.close();
  }
  return rows;
}

console.log(`Memory: ${scenario} at 1x for ${minutes} min; browser memory (PSS, MB)`);
const results = await Promise.all(dists.map(measure));
dists.forEach((dist, i) => {
  console.log(dist.replace(ROOT + '/', ''));
  for (const r of results[i]) {
    const inUse = r.worker?.[2] ? `, ${(Number(r.worker[2]) / 1e6).toFixed(1)} MB in use` : '';
    const snapshots = r.worker?.[1].match(/(\d+) snapshots.*$/)?.[0] ?? '';
    const worker = r.worker ? `  worker heap ${(r.worker[0] / 1e6).toFixed(1)} MB${inUse} (${snapshots})` : '';
    console.log(`  ${r.wall.toFixed(1).padStart(5)} min  virtual ${r.virtual.toFixed(1).padStart(6)} s  ${r.rss.toFixed(0).padStart(6)} MB${worker}`);
  }
});
