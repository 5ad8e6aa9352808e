// The space-time diagram benchmark: a run whose diagram holds over 100,000
// records (a five-server Raft cluster at 500 requests per second for 20
// virtual seconds: every message, timer, note), opened from a link in
// headless Chromium with the diagram showing. Reports the time from
// navigation until the diagram is drawn at the link's time, then frames per
// second while the diagram is scrolled and zoomed: a wheel event every
// animation frame for 5 s, alternating zoom in, scroll, zoom out, from the
// whole run (capped at 6,000 arrows, and saying so) down to a few
// milliseconds. Usage (./dev bench runs it on dist/):
//   node diagram-bench.mjs [DIST ...]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serve, launch, ROOT, DIST } from './harness.mjs';

const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
const scn = join(tmpdir(), 'diagram-bench.scn');
writeFileSync(scn, 'lab raft\nseed 1\nrequest_rate 500\nuntil 20s\n');
const fragment = execFileSync(cli, ['link', scn], { encoding: 'utf8' }).trim();
const dists = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [DIST];

const browser = await launch();
try {
  console.log('Diagram: raft, 5 servers, 500 requests/s, 20 s (link opened with ?view=diagram)');
  for (const dist of dists) {
    const { server, url } = await serve(dist);
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${url}?view=diagram#${fragment}`);
      await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 20_000_000
        && Number(document.querySelector('canvas.diagram')?.dataset.inView) > 0, null, { timeout: 60_000 });
      const openMs = await page.evaluate(() => performance.now());
      const records = Number(await page.locator('canvas.diagram').getAttribute('data-records'));
      await page.getByRole('button', { name: 'Whole run' }).click();
      await page.waitForTimeout(300);
      const whole = await page.locator('canvas.diagram').evaluate((c) => [c.dataset.arrows, c.dataset.inView]);
      const r = await page.evaluate(() => new Promise((done) => {
        const c = document.querySelector('canvas.diagram');
        const box = c.getBoundingClientRect();
        let frames = 0, i = 0, worst = 0, last = performance.now();
        const start = last;
        const tick = (now) => {
          frames++;
          worst = Math.max(worst, now - last);
          last = now;
          // 30 zooms in by 1.5x, scrolls, 30 zooms out, and again.
          const phase = Math.floor(i / 30) % 4;
          const ev = phase === 0 ? { deltaY: -120 } : phase === 2 ? { deltaY: 120 } : { deltaY: 100, shiftKey: true };
          c.dispatchEvent(new WheelEvent('wheel', { ...ev, clientX: box.left + box.width * 0.6, clientY: box.top + 40, bubbles: true, cancelable: true }));
          i++;
          if (now - start < 5000) requestAnimationFrame(tick); else done({ fps: frames / ((now - start) / 1000), worst, wheels: i });
        };
        requestAnimationFrame(tick);
      }));
      console.log(`${dist.replace(ROOT + '/', '')}: ${records} records; opened and drawn in ${openMs.toFixed(0)} ms; ` +
        `whole run: ${whole[0]} of ${whole[1]} arrows drawn; scrolling and zooming: ${r.fps.toFixed(1)} frames/s ` +
        `(${r.wheels} wheel events, longest frame ${r.worst.toFixed(1)} ms)`);
      await page.close();
    } finally {
      server.close();
    }
  }
} finally {
  await browser.close();
}
