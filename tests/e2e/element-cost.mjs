// What an author's page pays for one lab through <cluster-scope>: the
// site's files the browser fetched (gzip -9 sizes, as bench.mjs counts),
// and the time from the author page's navigation to the lab's first drawn
// frame (median of RUNS fresh loads).
//   node element-cost.mjs [DIST]   (default dist/; RUNS=7)
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { serve, launch, DIST } from './harness.mjs';

const dist = process.argv[2] ?? DIST;
const runs = Number(process.env.RUNS ?? 7);
let fetched = new Set();
const site = await serve(dist, { onRequest: (p) => fetched.add(p) });
const author = `<!doctype html><meta charset="utf-8"><script src="${site.url}clusterscope.js" defer></script>
<cluster-scope controls="compact" height="480">
  lab raft
  seed 7
</cluster-scope>`;
const host = createServer((_, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(author); });
await new Promise((ok) => host.listen(0, '127.0.0.1', ok));
const browser = await launch();
const times = [];
let bytes = null;
try {
  for (let i = 0; i < runs; i++) {
    fetched = new Set();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${host.address().port}/`);
    const frame = await (await page.waitForSelector('cluster-scope iframe')).contentFrame();
    await frame.waitForFunction(() => document.documentElement.hasAttribute('data-first-frame-ms'), null, { timeout: 60_000 });
    const inFrame = await frame.evaluate(() => [performance.timeOrigin, Number(document.documentElement.getAttribute('data-first-frame-ms'))]);
    const origin = await page.evaluate(() => performance.timeOrigin);
    times.push(inFrame[0] + inFrame[1] - origin);
    if (!bytes) {
      bytes = {};
      for (const p of [...fetched].sort()) {
        const file = p.endsWith('/') ? 'index.html' : p.slice(1);
        try { bytes[file] = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length; } catch { /* not a file */ }
      }
    }
    await page.close();
  }
} finally {
  await browser.close();
  site.server.close();
  host.close();
}
const total = Object.values(bytes).reduce((a, b) => a + b, 0);
for (const [f, b] of Object.entries(bytes)) console.log(`  ${f.padEnd(34)} ${String(b).padStart(8)}`);
console.log(`one lab through <cluster-scope>: ${total} bytes (gzip -9) in ${Object.keys(bytes).length} files`);
times.sort((a, b) => a - b);
console.log(`first drawn frame after the author page's navigation: median ${times[Math.floor(times.length / 2)].toFixed(0)} ms, fastest ${times[0].toFixed(0)}, slowest ${times[times.length - 1].toFixed(0)} (${times.length} loads)`);
