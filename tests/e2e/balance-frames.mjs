// The Load-balancing lab in the browser: the largest configuration (servers
// x requests per virtual second) animated at 1x at 50 frames per second or
// more. Each configuration runs at 80% load (10 ms exponential service, one
// request at a time per server, so 80 requests per second per server),
// round robin, 1 ms latency; measured like frame-bench.mjs. Run by ./dev bench.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, launch, ROOT, measureFrames } from './harness.mjs';

const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
const dir = mkdtempSync(join(tmpdir(), 'clusterscope-balance-'));
const sizes = [10, 25, 50, 100, 200, 500];
const { server, url } = await serve();
const browser = await launch();
try {
  console.log('Load balancing at 1x, 80% load: servers, requests per virtual second, frames per second, KB per frame');
  let largest = null;
  for (const n of sizes) {
    const file = join(dir, `b${n}.scn`);
    writeFileSync(file, `# ${n} servers at 80% load\nlab balance\nseed 1\nnodes ${n}\nrate ${80 * n}\nuntil 1s\n`);
    const fragment = execFileSync(cli, ['link', file], { encoding: 'utf8' }).trim();
    const r = await measureFrames(browser, url, fragment, '1×');
    console.log(`${String(n).padStart(5)} servers ${String(80 * n).padStart(7)} req/s ${r.fps.toFixed(1).padStart(7)} fps ${(r.bytesPerFrame / 1024).toFixed(1).padStart(7)} KB`);
    if (r.fps >= 50) largest = n;
  }
  console.log(largest ? `Largest at >= 50 fps: ${largest} servers x ${80 * largest} requests/s` : 'No configuration reached 50 fps');
} finally {
  await browser.close();
  server.close();
}
