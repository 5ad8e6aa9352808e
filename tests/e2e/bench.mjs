// The browser benchmark: engine throughput in wasm inside the Web Worker,
// compared with the same workload natively; the size of what the browser
// downloads; and the time from navigation to the first drawn frame.
// Run with ./dev bench (which builds the site and the CLI first).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, extname } from 'node:path';
import { execFileSync } from 'node:child_process';
import { serve, launch, ROOT, DIST } from './harness.mjs';

const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
// Another build to measure (an older dist/, for before-and-after figures).
const dist = process.env.BENCH_DIST ?? DIST;
const workload = join(ROOT, 'tests/scenarios/raft/bench.scn');

// 1. What the browser downloads, by part: the page (its HTML, script,
// WebAssembly, style sheet and icon) and each lab's engine (its worker's
// loader, script and WebAssembly; engine-LAB*). The page's script and
// WebAssembly come in two builds: the whole app (app*) and the layout for
// iframes (embed*), which an embedded lab loads instead (an older build has
// the app's alone). The page starts the engine of the lab it shows and no
// other, so an embedded lab costs the HTML, style sheet and icon, the
// embedded build and that lab's engine, and the whole app before a lab is
// chosen costs the page plus the engine of the lab it opens with (the first
// in the menu).
// Not the page's: the history checker's worker (checker*, started only when
// a history file is opened), the script a host page includes to embed a lab
// (clusterscope.js, counted with each embedded lab) and files no browser
// fetches by itself (the script's type declarations, the embedding example).
const sizes = {};
const parts = { page: { raw: 0, gzip: 0 } };
for (const f of readdirSync(dist)) {
  const kind = { '.wasm': 'wasm', '.js': 'js', '.css': 'css', '.html': 'html', '.svg': 'svg' }[extname(f)] ?? 'other';
  if (f === 'embed-example.html' || statSync(join(dist, f)).isDirectory()) continue;
  const raw = statSync(join(dist, f)).size;
  const gz = gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
  sizes[kind] ??= { raw: 0, gzip: 0 };
  sizes[kind].raw += raw;
  sizes[kind].gzip += gz;
  // An older build has one worker with every lab's engine (worker*).
  const engine = f.match(/^engine-([a-z]+)(?:_loader\.js|\.js|_bg\.wasm)$/) ?? f.match(/^(worker)(?:_loader\.js|\.js|_bg\.wasm)$/);
  const apart = f.match(/^checker(?:_loader\.js|\.js|_bg\.wasm)$/) ? 'checker' : f === 'clusterscope.js' ? 'embedder' : f.endsWith('.d.ts') ? 'unfetched' : null;
  const build = f.match(/^(app|embed)(?:-[0-9a-f]+)?(?:\.js|_bg\.wasm)$/)?.[1];
  const part = engine ? engine[1] : apart ?? (build === 'embed' ? 'embedBuild' : build === 'app' ? 'appBuild' : 'page');
  parts[part] ??= { raw: 0, gzip: 0 };
  parts[part].raw += raw;
  parts[part].gzip += gz;
}
const total = Object.values(sizes).reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip }), { raw: 0, gzip: 0 });
console.log('Download size (bytes), every file:');
for (const [k, s] of Object.entries(sizes)) console.log(`  ${k.padEnd(6)} raw ${String(s.raw).padStart(9)}  gzip ${String(s.gzip).padStart(8)}`);
console.log(`  total  raw ${String(total.raw).padStart(9)}  gzip ${String(total.gzip).padStart(8)}`);
const apart = ['page', 'appBuild', 'embedBuild', 'checker', 'embedder', 'unfetched'];
const labs = Object.keys(parts).filter((p) => !apart.includes(p));
const embedder = parts.embedder?.gzip ?? 0;
// The page as the whole app loads it, and as an embedded lab does.
const zero = { raw: 0, gzip: 0 };
const sum = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip });
const appPage = sum(parts.page, parts.appBuild ?? zero);
const embedPage = sum(parts.page, parts.embedBuild ?? parts.appBuild ?? zero);
const embed = Object.fromEntries(labs.map((l) => [l, embedPage.gzip + parts[l].gzip + embedder]));
console.log('Download size (bytes, gzip -9) by part:');
console.log(`  page alone            ${String(appPage.gzip).padStart(8)}  (raw ${appPage.raw}; the whole app)`);
console.log(`  page alone, embedded  ${String(embedPage.gzip).padStart(8)}  (raw ${embedPage.raw}; the layout for iframes${parts.embedBuild ? '' : ': this build has one page'})`);
if (parts.embedder) console.log(`  embedding script      ${String(embedder).padStart(8)}  (raw ${parts.embedder.raw}; clusterscope.js, counted in each embedded lab)`);
if (parts.checker) console.log(`  history checker       ${String(parts.checker.gzip).padStart(8)}  (raw ${parts.checker.raw}; fetched when a history file is opened)`);
for (const l of labs) console.log(`  ${(l + ' engine').padEnd(21)} ${String(parts[l].gzip).padStart(8)}  (raw ${parts[l].raw}); embedded ${l} lab: ${embed[l]}`);
// The lab the app opens with: the first of the page's list of engines.
const source = readFileSync(join(ROOT, 'crates/app/src/labs/engines.rs'), 'utf8');
const first = source.match(/ENGINES: &\[&str\] = &\["([a-z]+)"/)?.[1] ?? labs[0];
const app = parts[first] ? appPage.gzip + parts[first].gzip : parts.worker ? appPage.gzip + parts.worker.gzip : total.gzip;
const sizeSummary = { page: appPage.gzip, embedPage: embedPage.gzip, embed, app, all: total.gzip };

const { server, url } = await serve(dist);
const browser = await launch();
try {
  // 2. Navigation to first drawn frame (fresh page each time; median of 5).
  const firsts = [];
  for (let i = 0; i < 5; i++) {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.documentElement.hasAttribute('data-first-frame-ms'), null, { timeout: 30_000 });
    firsts.push(Number(await page.evaluate(() => document.documentElement.getAttribute('data-first-frame-ms'))));
    await page.close();
  }
  firsts.sort((a, b) => a - b);
  console.log(`First drawn frame after navigation: median ${firsts[2].toFixed(0)} ms (runs: ${firsts.map((x) => x.toFixed(0)).join(', ')})`);

  // 3. Engine throughput in the worker (wasm), best of 5.
  const page = await browser.newPage();
  await page.goto(url + '?bench=1');
  let best = null;
  for (let i = 0; i < 5; i++) {
    await page.click('#run-raft-bench');
    const el = page.locator(`#bench-result[data-run="${i + 1}"]`);
    await el.waitFor({ timeout: 120_000 });
    const r = {
      events: Number(await el.getAttribute('data-events')),
      delivered: Number(await el.getAttribute('data-delivered')),
      millis: Number(await el.getAttribute('data-millis')),
      fingerprint: await el.getAttribute('data-fingerprint'),
    };
    if (!best || r.millis < best.millis) best = r;
  }
  const wasmRate = best.delivered / (best.millis / 1e3);
  console.log(`wasm (worker): ${best.events} events, ${best.delivered} messages delivered in ${best.millis.toFixed(1)} ms: ` +
    `${(best.events / best.millis * 1e3).toFixed(0)} events/s, ${wasmRate.toFixed(0)} delivered messages/s`);
  const native = JSON.parse(execFileSync(cli, ['bench', workload, '--repeat', '5'], { encoding: 'utf8' }));
  console.log(`native (CLI):  ${native.events} events, ${native.delivered} messages delivered in ${(native.seconds * 1e3).toFixed(1)} ms: ` +
    `${native.events_per_sec} events/s, ${native.delivered_per_sec} delivered messages/s`);
  console.log(`wasm/native time ratio: ${(best.millis / 1e3 / native.seconds).toFixed(2)}x; fingerprints ${best.fingerprint === native.fingerprint ? 'equal' : 'DIFFER'} (${best.fingerprint})`);
  // 4. Every other lab's steady workload (its bench.scn): its unit of
  // work per second in the worker (wasm, best of 5) and natively (the
  // CLI, best of 5), the same fingerprint required.
  const WORK = [
    { lab: 'paxos', name: 'Multi-Paxos', unit: 'decisions', count: (r) => r.committed },
    { lab: 'balance', name: 'Load balancing', unit: 'requests', count: (r) => r.requests },
    { lab: 'locks', name: 'Locks', unit: 'transactions', count: (r) => r.committed },
    { lab: 'quorum', name: 'Quorum replication', unit: 'operations', count: (r) => r.committed },
    { lab: 'faults', name: 'Failure detection (500 members)', unit: 'events', count: (r) => r.events },
  ];
  for (const w of WORK) {
    if (!(await page.locator(`#run-${w.lab}-bench`).count())) continue;
    const file = join(ROOT, `tests/scenarios/${w.lab}/bench.scn`);
    let best = null;
    const runs0 = Number(await page.locator('#bench-result').getAttribute('data-run'));
    for (let i = 0; i < 5; i++) {
      await page.click(`#run-${w.lab}-bench`);
      const el = page.locator(`#bench-result[data-run="${runs0 + i + 1}"]`);
      await el.waitFor({ timeout: 120_000 });
      const attr = async (a) => el.getAttribute(`data-${a}`);
      const r = { events: Number(await attr('events')), requests: Number(await attr('requests')), committed: Number(await attr('committed')),
        millis: Number(await attr('millis')), fingerprint: await attr('fingerprint') };
      if (!best || r.millis < best.millis) best = r;
    }
    const native = JSON.parse(execFileSync(cli, ['bench', file, '--repeat', '5'], { encoding: 'utf8' }));
    const rate = (n, seconds) => (n / seconds).toFixed(0);
    console.log(`${w.name} (${w.lab}/bench.scn): wasm ${w.count(best)} ${w.unit} in ${best.millis.toFixed(1)} ms = ` +
      `${rate(w.count(best), best.millis / 1e3)} ${w.unit}/s; native ${rate(w.count(native), native.seconds)} ${w.unit}/s ` +
      `(${(native.seconds * 1e3).toFixed(1)} ms); wasm/native ${(best.millis / 1e3 / native.seconds).toFixed(2)}x; ` +
      `fingerprints ${best.fingerprint === native.fingerprint ? 'equal' : 'DIFFER'}`);
  }
} finally {
  await browser.close();
  server.close();
}
// Last line: the download sizes as one JSON object (gzip -9 bytes).
console.log(JSON.stringify(sizeSummary));
