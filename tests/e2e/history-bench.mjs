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
  ['kv c50-ok', 'kv/c50-ok.txt', 'kv', '""', /^Linearizable/],
  ['kv c50-bad', 'kv/c50-bad.txt', 'kv', '""', /^Not linearizable/],
  ['etcd_070', 'jepsen/etcd_070.log', 'cas-register', 'nil', /^Not linearizable/],
];
const runs = Number(process.env.RUNS ?? 5);
const { server, url } = await serve(process.argv[2] ?? DIST);
const browser = await launch();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const verdictText = (page) => page.evaluate(() => document.querySelector('[aria-label="Verdict"]')?.textContent ?? '');
try {
  for (const [name, file, model, initial, expected] of HISTORIES) {
    const check = [];
    const shown = [];
    let text = '';
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(url);
      await page.locator('[data-fingerprint]').first().waitFor({ timeout: 60_000 });
      // Opened as the user opens it: the model is guessed and the first
      // value is nil (Jepsen's default); Porcupine's kv histories start
      // from "", so the first value is then typed, which checks the file
      // again: that check is the one measured. The etcd log is checked as
      // opened (a cas-register from nil, Porcupine's model).
      let t0 = Date.now();
      await page.setInputFiles('input[aria-label="Open history"]', {
        name: file.replace(/\.txt$/, '.edn'), mimeType: 'text/plain', buffer: readFileSync(join(DATA, file)),
      });
      await page.getByRole('status', { name: 'Verdict' }).waitFor({ timeout: 120_000 });
      const selected = await page.locator('select[aria-label="Model"]').inputValue();
      if (selected !== model) throw new Error(`${name}: the model guessed is ${selected}, not ${model}`);
      if (initial !== 'nil') {
        const before = await verdictText(page);
        const first = page.locator('input[aria-label="First value"]');
        t0 = Date.now();
        await first.fill(initial);
        await first.dispatchEvent('change');
        await page.waitForFunction((b) => document.querySelector('[aria-label="Verdict"]')?.textContent !== b, before, { timeout: 120_000 });
      }
      text = await verdictText(page);
      shown.push(Date.now() - t0);
      if (!expected.test(text)) throw new Error(`${name}: unexpected verdict "${text}"`);
      const took = /Checked in ([\d.]+) (ms|s)/.exec(text);
      if (took) check.push(Number(took[1]) * (took[2] === 's' ? 1000 : 1));
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
