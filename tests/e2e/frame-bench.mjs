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
import { serve, launch, ROOT, DIST, measureFrames } from './harness.mjs';

const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
const fragment = execFileSync(cli, ['link', join(ROOT, 'tests/scenarios/raft/busy-25.scn')], { encoding: 'utf8' }).trim();
const dists = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [DIST];

const browser = await launch();
try {
  console.log('Frames: 25 servers, 2,000 requests/s, 40-80 ms latency (busy-25.scn), 5 s after 1.5 s warm-up');
  console.log('build'.padEnd(40), 'speed', 'frames/s'.padStart(9), 'KB/frame'.padStart(9), 'virtual s/wall s'.padStart(17));
  for (const dist of dists) {
    const { server, url } = await serve(dist);
    try {
      for (const speed of ['1×', 'max']) {
        const r = await measureFrames(browser, `${url}${process.env.FRAME_BENCH_QUERY ?? ''}`, fragment, speed);
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
