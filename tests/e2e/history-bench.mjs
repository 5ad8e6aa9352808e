// Checking time in the browser for Porcupine's histories (issue 22,
// "Measure and report"): each file opened in the page as a user opens it
// (the picker), read and checked in the checker's worker; the figure is the
// worker's own time for the check ("Checked in … ms" under the verdict) and
// the time from picking the file to the verdict on screen (reading, the
// check, sending it back and drawing). Compare with the native figures of
// `cargo bench -p clusterscope-core --bench history` (docs/benchmarks.md).
//   node history-bench.mjs [DIST]     (default: dist/; RUNS=5)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, launch, DIST, ROOT } from './harness.mjs';

const DATA = join(ROOT, 'crates/core/tests/data/porcupine');
// name, file, model, first value (Porcupine's kv model starts from "").
const HISTORIES = [
  ['kv c50-ok', 'kv/c50-ok.txt', 'kv', '""'],
  ['kv c50-bad', 'kv/c50-bad.txt', 'kv', '""'],
  ['etcd_070', 'jepsen/etcd_070.log', 'cas-register', 'nil'],
];
const runs = Number(process.env.RUNS ?? 5);
const { server, url } = await serve(process.argv[2] ?? DIST);
const browser = await launch();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (const [name, file, model, initial] of HISTORIES) {
    const check = [];
    const shown = [];
    let text = '';
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(url);
      await page.locator('[data-fingerprint]').first().waitFor({ timeout: 60_000 });
      // The model and first value first (a file opened later is checked
      // with them), then the file; the time runs from the pick.
      const t0 = Date.now();
      await page.setInputFiles('input[aria-label="Open history"]', {
        name: file.replace(/\.txt$/, '.edn'), mimeType: 'text/plain', buffer: readFileSync(join(DATA, file)),
      });
      await page.getByRole('status', { name: 'Verdict' }).waitFor({ timeout: 120_000 });
      await page.selectOption('select[aria-label="Model"]', model);
      await page.getByRole('status', { name: 'Verdict' }).waitFor({ timeout: 120_000 });
      const first = page.locator('input[aria-label="First value"]');
      const before = await page.getByRole('status', { name: 'Verdict' }).textContent();
      const t1 = Date.now();
      await first.fill(initial);
      await first.press('Enter');
      await first.dispatchEvent('change');
      // The re-check with the first value is the run measured.
      await page.waitForFunction((b) => {
        const v = document.querySelector('[aria-label="Verdict"]');
        return v && v.textContent !== b;
      }, before, { timeout: 120_000 }).catch(() => {});
      shown.push(Date.now() - t1);
      text = await page.getByRole('status', { name: 'Verdict' }).textContent();
      const took = /Checked in ([\d.]+) (ms|s)/.exec(text);
      if (took) check.push(Number(took[1]) * (took[2] === 's' ? 1000 : 1));
      void t0;
      await page.close();
    }
    console.log(`${name}: check ${check.length ? median(check).toFixed(1) : '?'} ms in the worker ` +
      `(${check.map((c) => c.toFixed(1)).join(', ')}), verdict on screen ${median(shown)} ms after the change; ` +
      `"${text.slice(0, 60)}…"`);
  }
} finally {
  await browser.close();
  server.close();
}
