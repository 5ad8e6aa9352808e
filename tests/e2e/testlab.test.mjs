// The lab boundary in the browser: a lab for tests only (crates/testlab,
// "Lanterns"), defined outside every shared file, is drawn by the shared
// page from its schema alone: its roles' looks (a faded node, an empty
// dashed slot), the fields its table leaves out, its strip with the
// compacted block before it, its leader metric in the summary, and its own
// node buttons offered by role. Expectation: the lab-boundary issue ("a
// test-only lab with spare nodes and a strip of its own is drawn correctly
// without touching shared code") and STYLE.md ("Shared code names no
// lab"). The build with this lab is ./dev test's dist-testlab/; the site
// users get never has it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, launch, ROOT } from './harness.mjs';

let server, url, browser;
before(async () => {
  ({ server, url } = await serve(join(ROOT, 'dist-testlab')));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

test('a test-only lab is drawn by the shared page from its schema: looks, table, strip, buttons', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.getByRole('button', { name: 'Lanterns (test)' }).click();
  // Its engine is a worker of its own: wait until it runs the lab.
  await page.locator('[data-lab="lanterns"]').waitFor();
  const table = page.getByRole('table', { name: 'Nodes' });
  await table.getByRole('row', { name: 'S4' }).waitFor();

  // The node table: its own roles, the one field it keeps, its strip.
  const headings = await table.locator('thead th').allTextContents();
  assert.deepEqual(headings, ['Node', 'Role', 'Times lit', 'Brightness (last levels)'], 'off-table fields are left out');
  const roles = await table.locator('tbody td.role').allTextContents();
  assert.deepEqual(roles, ['lit', 'dark', 'dark', 'retired']);
  const s1 = table.getByRole('row', { name: 'S1' });
  // Levels 4..6 after a block folding 1..3 (its last level 2), 4 and 5 settled.
  assert.equal(await s1.locator('.entry.base').textContent(), '≤3 L2');
  assert.match(await s1.locator('.entry.base').getAttribute('title'), /^folded: entries 1 to 3 compacted; last included level 2$/);
  assert.deepEqual(await s1.locator('.entry:not(.base)').evaluateAll((es) => es.map((e) => e.classList.contains('final'))), [true, true, false]);
  assert.equal(await s1.locator('.entry:not(.base)').first().getAttribute('title'), 'index 4, level 1, settled');

  // The summary names the leader metric with its own label.
  assert.match(await page.locator('canvas').first().getAttribute('aria-label') ?? '', /First lit lantern S1/);

  // The drawing, exported as SVG with the same code: the dark slots are
  // empty dashed circles, the retired lantern is faded.
  await page.getByText('Files', { exact: true }).click();
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Cluster view as SVG' }).click()]);
  const svg = readFileSync(await file.path(), 'utf8');
  assert.equal((svg.match(/stroke-dasharray="4 4"/g) ?? []).length, 2, 'two dark slots, drawn dashed');
  assert.ok(svg.includes('fill="#8a8f98" opacity="0.40"'), 'the retired lantern is faded');
  assert.ok(svg.includes('fill="#e0a21b"'), 'the lit lantern is filled with its role colour');
  await page.getByText('Files', { exact: true }).click();

  // Its own buttons, by role: a dark lantern can be lit, a lit one retired.
  await table.getByRole('row', { name: 'S2' }).click();
  assert.equal(await page.getByRole('button', { name: 'Retire S2' }).count(), 0, 'not offered to a dark lantern');
  await page.getByRole('button', { name: 'Light S2' }).click();
  await page.getByRole('button', { name: 'Retire S2' }).waitFor();
  await table.getByRole('row', { name: 'S2' }).locator('td.role', { hasText: /^lit$/ }).waitFor();
  // The shared faults come with it: crashing disables lighting.
  await table.getByRole('row', { name: 'S3' }).click();
  await page.getByRole('button', { name: 'Crash S3' }).click();
  await page.getByRole('button', { name: 'Restart S3' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Light S3' }).isDisabled(), 'a crashed lantern cannot be lit');
  // The link reproduces it.
  assert.match(decodeURIComponent(page.url()), /#v1\./);
  assert.deepEqual(errors, []);
  await page.close();
});
