// First drawn frame after navigation, for several builds side by side:
// fresh page loads taken in turn (A, B, A, B, …) so that a busy machine
// weighs on every build alike; the median and the spread of each.
//   node first-frame.mjs [DIST ...]     (default: dist/; RUNS=9)
// QUERY is added to each page's address: QUERY='?embed=1' measures the
// embedded layout.
import { serve, launch, DIST } from './harness.mjs';

const dists = process.argv.slice(2).length ? process.argv.slice(2) : [DIST];
const runs = Number(process.env.RUNS ?? 9);
const query = process.env.QUERY ?? '';
const servers = await Promise.all(dists.map((d) => serve(d)));
const browser = await launch();
const times = dists.map(() => []);
try {
  for (let i = 0; i < runs; i++) {
    for (const [k, { url }] of servers.entries()) {
      const page = await browser.newPage();
      await page.goto(url + query);
      await page.waitForFunction(() => document.documentElement.hasAttribute('data-first-frame-ms'), null, { timeout: 60_000 });
      times[k].push(Number(await page.evaluate(() => document.documentElement.getAttribute('data-first-frame-ms'))));
      await page.close();
    }
  }
} finally {
  await browser.close();
  for (const { server } of servers) server.close();
}
for (const [k, d] of dists.entries()) {
  const t = [...times[k]].sort((a, b) => a - b);
  console.log(`${d}${query}: first drawn frame median ${t[Math.floor(t.length / 2)].toFixed(0)} ms, ` +
    `fastest ${t[0].toFixed(0)}, slowest ${t[t.length - 1].toFixed(0)} (${t.length} loads, taken in turn)`);
}
