// Browser tests of the history view (issue 22, "A history view" and
// "Histories from outside"): a history file opened with the picker or
// dropped on the page is read and checked in the checker's own worker and
// drawn one lane per client, with its linearization points when it is
// linearizable and the operations that cannot be ordered lit up when it is
// not; a malformed file is a sentence naming its line and loses nothing on
// screen; a lab whose clients read and write shows its own history live.
// The histories are Porcupine's README's two register histories
// (fixtures/register-*.edn, their register's first value 0), whose verdicts
// its README gives. The live test runs the test-only lab (crates/testlab),
// whose lanterns are clients of a register; it needs the test build
// (dist-testlab/, ./dev test makes it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, launch, ROOT } from './harness.mjs';

const FIXTURES = join(ROOT, 'tests/e2e/fixtures');
let server, url, browser;
const requested = [];
before(async () => {
  ({ server, url } = await serve(join(ROOT, 'dist-testlab'), { onRequest: (p) => requested.push(p) }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

async function open(viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.locator('[data-fingerprint]').first().waitFor({ timeout: 60_000 });
  return { page, errors };
}

const pick = (page, name) =>
  page.setInputFiles('input[aria-label="Open history"]', { name, mimeType: 'text/plain', buffer: readFileSync(join(FIXTURES, name)) });
const verdict = (page) => page.getByRole('status', { name: 'Verdict' });
// The entry indexes of the bars lit up, in order.
const lit = (page) => page.locator('.history-lanes .op.lit').evaluateAll((gs) => gs.map((g) => Number(g.dataset.op)));

test('a linearizable history file: one lane per client, a point on every bar, the order joined; its first value can be changed', async () => {
  const { page, errors } = await open();
  assert.ok(!requested.some((p) => p.startsWith('/checker')), 'a page that opens no history file never downloads the checker');
  await pick(page, 'register-ok.edn');
  // Read with the first value nil, client 2's read of 0 cannot be placed.
  await verdict(page).filter({ hasText: /^Not linearizable/ }).waitFor({ timeout: 30_000 });
  assert.ok(requested.some((p) => p.startsWith('/checker')), 'the checker worker is downloaded when a file is opened');
  // Porcupine's register starts at 0: with it, the history is linearizable.
  await page.getByRole('textbox', { name: 'First value' }).fill('0');
  await page.getByRole('textbox', { name: 'First value' }).press('Enter');
  await verdict(page).filter({ hasText: /^Linearizable: each of the 3 operations/ }).waitFor();
  assert.match(await page.getByRole('heading', { name: /History: register-ok\.edn/ }).textContent(), /Jepsen EDN history/);
  assert.equal(await page.locator('.history-lanes .lane').count(), 3, 'a lane per client');
  assert.equal(await page.locator('.history-lanes .op').count(), 3);
  assert.equal(await page.locator('.history-lanes .op.lit').count(), 0);
  // A point per operation, each within its bar: client 2's read (entry 2)
  // before the write takes effect, client 1's (entry 1) after it.
  const points = await page.locator('.history-lanes circle.point').evaluateAll((cs) => cs.map((c) => ({ op: Number(c.dataset.op), x: Number(c.getAttribute('cx')) })));
  assert.deepEqual(points.map((p) => p.op), [2, 0, 1], 'the order: read 0, write 100, read 100');
  for (const p of points) {
    const box = await page.locator(`.history-lanes .op[data-op="${p.op}"] rect`).evaluate((r) => [Number(r.getAttribute('x')), Number(r.getAttribute('x')) + Number(r.getAttribute('width'))]);
    assert.ok(p.x >= box[0] - 0.5 && p.x <= box[1] + 0.5, `point of ${p.op} at ${p.x} within its bar ${box}`);
  }
  // The wheel zooms around the pointer and dragging scrolls, as on the
  // space-time diagram (the same window arithmetic).
  const svg = page.locator('svg.history-lanes');
  const edges = async () => [Number(await svg.getAttribute('data-left')), Number(await svg.getAttribute('data-right'))];
  const [l0, r0] = await edges();
  // The view is under the drawing: a user scrolls down to it (the mouse
  // acts only on what is in the viewport).
  await svg.scrollIntoViewIfNeeded();
  const box = await svg.boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + 40);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction((w) => Number(document.querySelector('svg.history-lanes').dataset.right) - Number(document.querySelector('svg.history-lanes').dataset.left) < w, r0 - l0);
  const [l1, r1] = await edges();
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6 - 200, box.y + 40, { steps: 5 });
  await page.mouse.up();
  const [l2, r2] = await edges();
  assert.ok(l2 > l1 && r2 - l2 === r1 - l1, `dragged left shows later times at the same zoom: ${[l1, r1]} then ${[l2, r2]}`);
  await page.getByRole('button', { name: 'Whole history' }).click();
  assert.deepEqual(await edges(), [l0, r0]);
  // Clicking an operation says what it did and where it takes effect.
  await page.getByRole('button', { name: /^client 1: read → 100/ }).click();
  const detail = page.getByRole('definition').filter({ hasText: /takes effect at/ });
  assert.match(await detail.textContent(), /number 3 in the order/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a history that is not linearizable lights up the operations that cannot be ordered and says why', async () => {
  const { page, errors } = await open();
  await pick(page, 'register-ok.edn');
  await verdict(page).waitFor({ timeout: 30_000 });
  await page.getByRole('textbox', { name: 'First value' }).fill('0');
  await page.getByRole('textbox', { name: 'First value' }).press('Enter');
  await verdict(page).filter({ hasText: /^Linearizable/ }).waitFor();
  // The value chosen stays for the next file; dropped on the page, it opens the same way.
  const dropped = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'register-bad.edn', { type: 'text/plain' }));
    return dt;
  }, readFileSync(join(FIXTURES, 'register-bad.edn'), 'utf8'));
  await page.dispatchEvent('.app', 'drop', { dataTransfer: dropped });
  await verdict(page).filter({ hasText: /^Not linearizable: these 3 operations/ }).waitFor();
  // Client 2 read 0 after client 1's read of 200 had returned: the write,
  // that read and the late read of 0 cannot be ordered.
  assert.match(await verdict(page).textContent(), /client 2 read → 0/);
  assert.deepEqual(await lit(page), [0, 1, 2]);
  assert.equal(await page.locator('.history-lanes circle.point').count(), 0, 'no linearization to draw');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a malformed history file is a sentence naming its line, and the history on screen stays', async () => {
  const { page, errors } = await open();
  await pick(page, 'register-bad.edn');
  await verdict(page).filter({ hasText: /^Not linearizable/ }).waitFor({ timeout: 30_000 });
  await pick(page, 'register-malformed.edn');
  const alert = page.getByRole('alert');
  await alert.filter({ hasText: 'register-malformed.edn' }).waitFor();
  assert.match(await alert.textContent(), /line 4/);
  assert.match(await alert.textContent(), /kept/);
  assert.match(await page.getByRole('heading', { name: /History: / }).textContent(), /register-bad\.edn/, 'the last history is still shown');
  assert.equal(await page.locator('.history-lanes .op').count(), 3);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a lab whose clients read and write shows its history live, checked as it grows', async () => {
  const { page, errors } = await open();
  await page.getByRole('button', { name: 'Lanterns (test)' }).click();
  await page.locator('[data-lab="lanterns"]').waitFor();
  const table = page.getByRole('table', { name: 'Nodes' });
  const act = async (node, button) => {
    await table.getByRole('row', { name: node }).click();
    await page.getByRole('button', { name: `${button} ${node}` }).click();
  };
  // Lighting S2 writes 2, retiring it reads 2 back; crashing S4 leaves a
  // write that never returns (drawn open to the right).
  await act('S2', 'Light');
  await act('S2', 'Retire');
  await act('S4', 'Crash');
  await verdict(page).filter({ hasText: /^Linearizable: each of the 3 operations/ }).waitFor();
  assert.match(await page.getByRole('heading', { name: /History: / }).textContent(), /this run's clients/);
  assert.equal(await page.locator('.history-lanes .op.pending').count(), 1);
  // S3 writes 3, then S1 reads 1: a stale read (the register's rule, Herlihy & Wing).
  await act('S3', 'Light');
  await act('S1', 'Retire');
  await verdict(page).filter({ hasText: /^Not linearizable/ }).waitFor();
  assert.deepEqual(await lit(page), [3, 4], 'the write of 3 and the later read of 1');
  assert.deepEqual(errors, []);
  await page.close();
});

// Issue 22, "Raft's read paths" and "A history view": the Raft presets on
// one partition (the leader S3 cut off from the majority at 2 s). With local
// reads, S3 answers reads with values the new majority has overwritten: the
// checker "History is linearizable" stops the run, and the history view
// lights up the operations that cannot be ordered (a write that returned
// before a read began, which still saw the older value: Herlihy & Wing's
// condition). With ReadIndex (Raft thesis §6.4) the same faults leave the
// history linearizable.
test('Raft: local reads at a cut-off leader are stopped by the checker and lit up in the history; ReadIndex on the same partition stays linearizable', async () => {
  const { page, errors } = await open();
  await page.getByRole('button', { name: 'Raft', exact: true }).click();
  await page.getByRole('table', { name: 'Nodes' }).waitFor();
  const preset = page.getByRole('combobox', { name: 'Preset scenario' });
  await preset.selectOption('Local reads at a leader cut off from the majority: not linearizable');
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('max');
  const alert = page.getByRole('alert').filter({ hasText: 'Invariant violated' });
  await alert.waitFor({ timeout: 90_000 });
  assert.match(await alert.textContent(), /History is linearizable violated at/);
  await verdict(page).filter({ hasText: /^Not linearizable/ }).waitFor({ timeout: 30_000 });
  assert.match(await page.getByRole('heading', { name: /History: / }).textContent(), /this run's clients/);
  const bad = await lit(page);
  assert.ok(bad.length >= 2, `a write and a read at least are lit up: ${bad}`);
  // The last lit operation (the stale read) taken back to the moment it
  // returned, with the messages beside it: the run goes there, paused, and
  // the diagram joins the drawing.
  const stopped = Number(await page.locator('[data-time]').first().getAttribute('data-time'));
  const stale = page.locator(`.history-lanes .op[data-op="${bad[bad.length - 1]}"]`);
  await stale.scrollIntoViewIfNeeded();
  await stale.click();
  const show = page.getByRole('button', { name: /^Show the moment it returned/ });
  const [, n, unit] = /\(([\d.]+)(us|µs|ms|s)\)$/.exec(await show.textContent());
  const returned = Number(n) * { us: 1, µs: 1, ms: 1e3, s: 1e6 }[unit];
  await show.click();
  await page.locator('[data-view="both"]').waitFor();
  await page.locator('canvas.diagram').waitFor();
  await page.waitForFunction((t) => Math.abs(Number(document.querySelector('[data-time]').getAttribute('data-time')) - t) < 1, returned);
  assert.ok(returned < stopped, `the read returned (${returned} µs) before the checker stopped the run (${stopped} µs)`);

  await preset.selectOption('ReadIndex on the same partition stays linearizable');
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('max');
  // The run stops at the file's end, 8 s, with no violation.
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.getAttribute('data-time')) >= 8e6, null, { timeout: 120_000 });
  await verdict(page).filter({ hasText: /^Linearizable: each of the \d+ operations/ }).waitFor({ timeout: 30_000 });
  assert.equal(await page.getByRole('alert').filter({ hasText: 'Invariant violated' }).count(), 0);
  assert.ok(await page.locator('.history-lanes circle.point').count() > 100, 'a linearization point on the bars of the reads and writes');
  assert.deepEqual(errors, []);
  await page.close();
});
