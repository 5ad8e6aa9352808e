// The Quorum lab's own drawing (issue "Quorum replication lab", Drawing:
// "the ring with each key's replicas, the coordinator's fan-out and the
// quorum's answers; replicas coloured by the version they hold; hints
// waiting to be handed back"). A run whose S2 is down with sloppy quorums
// on: each key is drawn with a line to each of its N = 3 replicas (its
// preference list, checked against the ring natively in
// crates/core/tests/quorum_view.rs), the same replicas the table names,
// and stand-ins keep hints for S2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useSite, scenarioLink } from './harness.mjs';


// The hinted-handoff preset, stopped while S2 is still down.
const DOWN = 'lab quorum\nseed 4\nreplicas 3\nr 2\nw 2\nkeys 4\nsloppy on\nrequest_rate 100\ncheck_history off\n'
  + 'at 1s crash S2\nuntil 3s\n';

const site = useSite();

test('the quorum lab draws each key with a line to each of its N replicas, and the hints kept for a server that is down', async () => {
  const page = await site.browser.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.url}#${scenarioLink(DOWN)}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 3_000_000, null, { timeout: 60_000 });
  const panel = page.locator('section[aria-label="Quorum ring"]');
  await panel.waitFor();
  const ring = panel.locator('svg.quorum-ring');
  assert.match(await ring.getAttribute('aria-label'), /N = 3, R = 2, W = 2/);

  // Every watched key: three replica lines to three distinct servers, the
  // servers its row in the table names, in the same order.
  const rows = panel.locator('table[aria-label="Watched keys"] tbody tr');
  assert.equal(await rows.count(), 4, 'four keys, all watched');
  for (let i = 0; i < 4; i++) {
    const row = rows.nth(i);
    const key = await row.getAttribute('data-key');
    const lines = ring.locator(`line.replica[data-key="${key}"]`);
    assert.equal(await lines.count(), 3, `k${key}: one line per replica (N = 3)`);
    const drawn = await lines.evaluateAll((ls) => ls.map((l) => `${l.dataset.server} ${l.dataset.state}`));
    const named = (await row.locator('.replica-chip').allTextContents()).map((t) => t.split(' (')[0].replace(', down', ''));
    assert.deepEqual(drawn, named, `k${key}: the lines go to the replicas the table names`);
    assert.equal(new Set(drawn.map((d) => d.split(' ')[0])).size, 3, `k${key}: three distinct servers`);
    for (const d of drawn) assert.match(d, / (current|stale|missing|not written yet)$/);
  }

  // S2 is down and stand-ins keep its writes as hints.
  assert.match(await ring.locator('g.server[data-server="S2"]').getAttribute('class'), /\bdown\b/);
  assert.ok(await ring.locator('.hint-badge').count() > 0, 'a hint badge on a stand-in');
  const hints = await panel.locator('ul[aria-label="Hints waiting"] li').allTextContents();
  assert.ok(hints.length > 0 && hints.every((h) => / for S2 /.test(h)), hints.join(' | '));

  // Choosing a key brings its lines forward; the others fade.
  const last = await rows.nth(3).getAttribute('data-key');
  await panel.getByRole('button', { name: `Show key k${last} on the ring` }).click();
  await page.waitForFunction((k) => [...document.querySelectorAll(`svg.quorum-ring line.replica[data-key="${k}"]`)]
    .every((l) => !l.classList.contains('faint')), last);
  const first = await rows.nth(0).getAttribute('data-key');
  assert.ok(await ring.locator(`line.replica.faint[data-key="${first}"]`).count() === 3, 'the other keys fade');
  assert.deepEqual(errors, []);
  await page.close();
});

// On a phone (390 px wide) the ring and the table of keys fit the panel:
// nothing is cut off at the right.
test('at 390×844 the quorum ring and its table of keys fit the screen', async () => {
  const context = await site.browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${site.url}#${scenarioLink(DOWN)}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 3_000_000, null, { timeout: 60_000 });
  const panel = page.locator('section[aria-label="Quorum ring"]');
  await panel.locator('table[aria-label="Watched keys"] tbody tr').first().waitFor();
  const sizes = await panel.evaluate((p) => {
    const table = p.querySelector('table[aria-label="Watched keys"]');
    const box = table.closest('.scroll');
    const svg = p.querySelector('svg.quorum-ring').getBoundingClientRect();
    return { table: table.scrollWidth, box: box.clientWidth, svgRight: svg.right, panelRight: p.getBoundingClientRect().right };
  });
  assert.ok(sizes.table <= sizes.box, `the table is ${sizes.table} px wide in a ${sizes.box} px box`);
  assert.ok(sizes.svgRight <= sizes.panelRight, `the ring ends at ${sizes.svgRight} px, the panel at ${sizes.panelRight}`);
  await context.close();
});
