// The frame benchmark: how smoothly the page animates a busy cluster.
// 25 Raft servers, 2,000 client requests per second, 40-80 ms latency
// (tests/scenarios/raft/busy-25.scn: thousands of messages in flight), played
// in headless Chromium at 1x and at maximum speed. Measured outside the app,
// so any build can be measured the same way: a wrapper around the page's
// Worker counts the messages the worker posts (frames, almost all of them)
// and their bytes; the page's virtual clock gives virtual seconds per wall
// second.
// Then where a frame's time goes (frame-cost.mjs): busy-25.scn and
// paxos/bench.scn at 1x, 5 s traced after 1.5 s of warm-up; per frame, the
// page's main thread (all of it, script, style and layout, paint) and the
// worker's thread, median and 95th percentile, in ms; Chromium's counters
// (mean per frame) beside them. Tracing itself costs a little, so these
// frames/s (counted between the first and last traced frame) are a little
// below the untraced ones above.
// Usage (./dev bench runs it on dist/):
//   node frame-bench.mjs [DIST ...]    # several builds side by side
//   FRAME_BENCH_ROUNDS=5 node frame-bench.mjs OLD_DIST dist
//                                      # A and B interleaved, 5 rounds, medians
//   FRAME_BENCH_DETAIL=1 node frame-bench.mjs
//                                      # and the main thread's largest items
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { serve, launch, ROOT, DIST, measureFrames, virtualTime } from './harness.mjs';
import { markWorkerMessages, traceFrames, quantile, DETAIL } from './frame-cost.mjs';

const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
const link = (scn) => execFileSync(cli, ['link', join(ROOT, 'tests/scenarios', scn)], { encoding: 'utf8' }).trim();
const fragment = link('raft/busy-25.scn');
const dists = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [DIST];
const rounds = Math.max(1, Number(process.env.FRAME_BENCH_ROUNDS ?? 1));
const query = process.env.FRAME_BENCH_QUERY ?? '';
const name = (dist) => dist.replace(ROOT + '/', '');

// Plays a link at 1x and traces it (see frame-cost.mjs).
async function measureCost(browser, url, frag, { warmupMs = 1500, windowMs = 5000 } = {}) {
  const page = await browser.newPage();
  await page.addInitScript(markWorkerMessages);
  await page.goto(`${url}#${frag}`);
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.getAttribute('data-time')) > 0, null, { timeout: 60_000 });
  await page.getByRole('combobox', { name: 'Speed', exact: true }).selectOption('1×');
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.waitForTimeout(warmupMs);
  const p0 = await page.evaluate(() => ({ ...window.__posted }));
  const t0 = await virtualTime(page);
  const r = await traceFrames(page.context().browser(), page, windowMs);
  const t1 = await virtualTime(page);
  const p1 = await page.evaluate(() => ({ ...window.__posted }));
  await page.close();
  const frames = p1.count - p0.count;
  return { ...r, bytesPerFrame: frames ? (p1.bytes - p0.bytes) / frames : 0,
    virtualPerWall: (t1 - t0) / 1e6 / (windowMs / 1e3) };
}

const SCENES = [['raft/busy-25.scn', fragment], ['paxos/bench.scn', link('paxos/bench.scn')]];
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const mp = (xs) => `${fmt(quantile(xs, 0.5))}/${fmt(quantile(xs, 0.95))}`.padStart(12);
const median = (xs) => quantile(xs, 0.5);

function costRow(dist, scn, r) {
  const parts = Object.entries(r.workerParts).map(([k, v]) => `${k} ${fmt(quantile(v, 0.5))}`).join(', ');
  const c = r.counters;
  return [name(dist).padEnd(28), scn.padEnd(17), r.fps.toFixed(1).padStart(6), (r.bytesPerFrame / 1024).toFixed(1).padStart(6),
    mp(r.main), mp(r.script), mp(r.styleLayout), mp(r.paint), mp(r.worker),
    `  ${fmt(c.task)} ${fmt(c.script)} ${fmt(c.layout)} ${fmt(c.style)}`, parts ? `  worker: ${parts}` : ''].join(' ');
}

const browser = await launch();
try {
  console.log('Frames: 25 servers, 2,000 requests/s, 40-80 ms latency (busy-25.scn), 5 s after 1.5 s warm-up');
  console.log('build'.padEnd(40), 'speed', 'frames/s'.padStart(9), 'KB/frame'.padStart(9), 'virtual s/wall s'.padStart(17));
  const costs = new Map(); // dist -> scene -> [result per round]
  const servers = await Promise.all(dists.map((d) => serve(d)));
  try {
    for (let round = 0; round < rounds; round++) {
      // One round: each build in turn, so a busy moment of the machine
      // falls on all of them alike.
      for (const [i, dist] of dists.entries()) {
        const { url } = servers[i];
        for (const speed of ['1×', 'max']) {
          const r = await measureFrames(browser, `${url}${query}`, fragment, speed);
          console.log(name(dist).padEnd(40), speed.padEnd(5), r.fps.toFixed(1).padStart(9),
            (r.bytesPerFrame / 1024).toFixed(1).padStart(9), r.virtualPerWall.toFixed(3).padStart(17));
        }
      }
      for (const [scn, frag] of SCENES) {
        for (const [i, dist] of dists.entries()) {
          const r = await measureCost(browser, `${servers[i].url}${query}`, frag);
          if (!costs.has(dist)) costs.set(dist, new Map());
          if (!costs.get(dist).has(scn)) costs.get(dist).set(scn, []);
          costs.get(dist).get(scn).push(r);
        }
      }
    }
  } finally {
    for (const s of servers) s.server.close();
  }
  console.log();
  console.log('Frame cost at 1×, 5 s traced after 1.5 s warm-up; ms per frame, median/p95 (main thread: all, script, style+layout, paint; worker thread: all)');
  console.log('Chromium counters (mean ms per frame): task script layout style');
  console.log(['build'.padEnd(28), 'scenario'.padEnd(17), 'fps'.padStart(6), 'KB/fr'.padStart(6), 'main'.padStart(12),
    'script'.padStart(12), 'style+layout'.padStart(12), 'paint'.padStart(12), 'worker'.padStart(12), '  counters'].join(' '));
  for (const [dist, byScene] of costs) {
    for (const [scn, runs] of byScene) {
      for (const r of runs) {
        console.log(costRow(dist, scn, r));
        if (DETAIL) console.log(`    main thread, largest items (self ms per frame): ${r.items.slice(0, 8).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
      }
    }
  }
  if (rounds > 1) {
    console.log();
    console.log(`Medians over ${rounds} interleaved rounds (of each round's median; fps and counters: median of the rounds)`);
    for (const [dist, byScene] of costs) {
      for (const [scn, runs] of byScene) {
        const pick = (f) => median(runs.map(f));
        const row = (key) => `${fmt(pick((r) => quantile(r[key], 0.5)))}/${fmt(pick((r) => quantile(r[key], 0.95)))}`.padStart(12);
        console.log([name(dist).padEnd(28), scn.padEnd(17), pick((r) => r.fps).toFixed(1).padStart(6),
          (pick((r) => r.bytesPerFrame) / 1024).toFixed(1).padStart(6), row('main'), row('script'), row('styleLayout'),
          row('paint'), row('worker'),
          `  ${fmt(pick((r) => r.counters.task))} ${fmt(pick((r) => r.counters.script))} ${fmt(pick((r) => r.counters.layout))} ${fmt(pick((r) => r.counters.style))}`,
        ].join(' '));
      }
    }
  }
} finally {
  await browser.close();
}
