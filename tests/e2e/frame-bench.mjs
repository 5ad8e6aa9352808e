// The frame benchmark: how smoothly the page animates a busy cluster.
// 25 Raft servers, 2,000 client requests per second, 40-80 ms latency
// (tests/scenarios/raft/busy-25.scn: thousands of messages in flight), played
// in headless Chromium at 1x and at maximum speed. Measured outside the app,
// so any build can be measured the same way: a wrapper around the page's
// Worker counts the messages the worker posts (frames, almost all of them)
// and their bytes; the page's virtual clock gives virtual seconds per wall
// second. Usage (./dev bench runs it on dist/):
//   node frame-bench.mjs [DIST ...]    # several builds side by side
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { serve, launch, ROOT, DIST, virtualTime } from './harness.mjs';

const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
const fragment = execFileSync(cli, ['link', join(ROOT, 'tests/scenarios/raft/busy-25.scn')], { encoding: 'utf8' }).trim();
const dists = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [DIST];
const WARMUP_MS = 1500;
const WINDOW_MS = 5000;

async function measure(browser, url, speed) {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const Original = window.Worker;
    window.__posted = { count: 0, bytes: 0 };
    window.Worker = class extends Original {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (e) => {
          const d = e.data;
          window.__posted.count += 1;
          window.__posted.bytes += d?.byteLength ?? 0;
        });
      }
    };
  });
  await page.goto(`${url}${process.env.FRAME_BENCH_QUERY ?? ''}#${fragment}`);
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.getAttribute('data-time')) > 0, null, { timeout: 60_000 });
  await page.getByRole('combobox', { name: 'Speed' }).selectOption(speed);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.waitForTimeout(WARMUP_MS);
  const t0 = await virtualTime(page);
  const p0 = await page.evaluate(() => ({ ...window.__posted }));
  await page.waitForTimeout(WINDOW_MS);
  const p1 = await page.evaluate(() => ({ ...window.__posted }));
  const t1 = await virtualTime(page);
  await page.close();
  const frames = p1.count - p0.count;
  return {
    fps: frames / (WINDOW_MS / 1e3),
    bytesPerFrame: frames ? (p1.bytes - p0.bytes) / frames : 0,
    virtualPerWall: (t1 - t0) / 1e6 / (WINDOW_MS / 1e3),
  };
}

const browser = await launch();
try {
  console.log('Frames: 25 servers, 2,000 requests/s, 40-80 ms latency (busy-25.scn), 5 s after 1.5 s warm-up');
  console.log('build'.padEnd(40), 'speed', 'frames/s'.padStart(9), 'KB/frame'.padStart(9), 'virtual s/wall s'.padStart(17));
  for (const dist of dists) {
    const { server, url } = await serve(dist);
    try {
      for (const speed of ['1×', 'max']) {
        const r = await measure(browser, url, speed);
        console.log(dist.replace(ROOT + '/', '').padEnd(40), speed.padEnd(5), r.fps.toFixed(1).padStart(9),
          (r.bytesPerFrame / 1024).toFixed(1).padStart(9), r.virtualPerWall.toFixed(3).padStart(17));
      }
    } finally {
      server.close();
    }
  }
} finally {
  await browser.close();
}
