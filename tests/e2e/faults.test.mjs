// Browser tests of the Failure-detection lab's own panel (issue 25,
// "Drawing": "each member's view of the others (suspected, dead, alive) as
// a small matrix"): the matrix has a cell per observer and member, each in
// the colour its legend gives in words, and says what is true of each
// member; above 64 members it turns into one bar per member.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSite, openPage, runTo, scenarioLink } from './harness.mjs';

const site = useSite();
const open = (path, viewport) => openPage(site, path, { viewport });

// The crash of tests/scenarios/faults/default.scn, looked at 0.9 s after
// it: by then every live member has declared S3 dead (timeout 300 ms +
// latency ≤ 20 ms + suspicion 500 ms; crates/core/tests/faults_view.rs
// checks the same bound natively).
const CRASH = `lab faults
seed 1
nodes 8
detector heartbeat
heartbeat 100ms
timeout 300ms
suspicion 500ms
latency_min 10ms
latency_max 20ms
at 2s crash S3
until 2.9s
`;

test('the faults lab shows an 8×8 matrix whose cells match the legend, S3 dead in every live row', async () => {
  const { page, errors } = await open(`#${scenarioLink(CRASH)}`);
  await runTo(page, 2_900_000);
  const panel = page.getByRole('region', { name: 'Who suspects whom' });
  const canvas = panel.locator('canvas.faults');
  await canvas.waitFor();
  assert.equal(await canvas.getAttribute('data-mode'), 'matrix');
  assert.equal(await canvas.getAttribute('data-members'), '8');

  // The legend, in words (not colour alone).
  const legend = await panel.getByRole('list', { name: 'Legend' }).innerText();
  for (const words of ['alive', 'suspected', 'declared dead', 'no view', 'a false suspicion', 'crashed', 'paused']) {
    assert.ok(legend.includes(words), `the legend says "${words}": ${legend}`);
  }
  assert.match(await panel.locator('.faults-summary').innerText(), /All 7 live members hold S3 dead: it has crashed, detected/);

  // Every cell of the 8×8 matrix, read off the canvas near its corner,
  // against the legend's own swatches.
  const cells = await canvas.evaluate((c) => {
    const swatch = (cls) => {
      const m = getComputedStyle(document.querySelector(`.faults-legend .${cls}`)).backgroundColor.match(/\d+/g).map(Number);
      return m.slice(0, 3);
    };
    const colours = { alive: swatch('fd-alive'), dead: swatch('fd-dead'), suspected: swatch('fd-suspected'), noview: swatch('fd-noview'), down: swatch('fd-down') };
    const n = Number(c.dataset.members), cell = Number(c.dataset.cell), left = Number(c.dataset.left), top = Number(c.dataset.top);
    // Canvas pixels per CSS pixel of the drawing (its width in CSS pixels
    // is its max-width).
    const scale = c.width / parseFloat(c.style.maxWidth);
    const ctx = c.getContext('2d');
    const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 4);
    const grid = [];
    for (let o = 0; o < n; o++) {
      const row = [];
      for (let m = 0; m < n; m++) {
        const x = Math.round((left + m * cell + cell * 0.2) * scale), y = Math.round((top + o * cell + cell * 0.2) * scale);
        const px = Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
        row.push(Object.keys(colours).find((k) => near(px, colours[k])) ?? 'other');
      }
      grid.push(row);
    }
    return grid;
  });
  assert.equal(cells.length, 8);
  for (let o = 0; o < 8; o++) {
    assert.equal(cells[o].length, 8);
    for (let m = 0; m < 8; m++) {
      let want;
      if (o === m) want = m === 2 ? 'down' : 'other'; // the diagonal: the member's truth (U outlined, C filled)
      else if (o === 2) want = 'noview'; // S3 is down: no view
      else if (m === 2) want = 'dead';
      else want = 'alive';
      assert.equal(cells[o][m], want, `row S${o + 1}, column S${m + 1}`);
    }
  }

  // The cell under the pointer, in words.
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  const ratio = box.width / Number((await canvas.getAttribute('style')).match(/max-width: ([\d.]+)px/)[1]);
  const cell = Number(await canvas.getAttribute('data-cell'));
  const left = Number(await canvas.getAttribute('data-left')), top = Number(await canvas.getAttribute('data-top'));
  await page.mouse.move(box.x + (left + 2.5 * cell) * ratio, box.y + (top + 0.5 * cell) * ratio);
  await page.waitForTimeout(200);
  assert.equal(await panel.locator('.faults-hover').innerText(), 'S1 holds S3 declared dead; S3 is crashed: rightly');
  assert.deepEqual(errors, []);
  await page.close();
});

// The preset "A garbage-collection pause: a short timeout suspects": while
// S4 is paused every other member suspects it, and the page calls it a
// false suspicion (crates/core/tests/faults_view.rs has the arithmetic).
test('a paused member is shown suspected but not crashed: a false suspicion', async () => {
  const scenario = `lab faults
seed 2
nodes 8
detector heartbeat
heartbeat 100ms
timeout 250ms
suspicion 500ms
latency_min 10ms
latency_max 20ms
at 2s pause S4
at 2.4s resume S4
until 2.39s
`;
  const { page, errors } = await open(`#${scenarioLink(scenario)}`);
  await runTo(page, 2_390_000);
  const panel = page.getByRole('region', { name: 'Who suspects whom' });
  assert.match(await panel.locator('.faults-summary').innerText(), /7 members suspect S4, which is paused: a false suspicion/);
  assert.match(await panel.locator('canvas.faults').getAttribute('aria-label'), /7 members suspect S4, which is paused/);
  assert.deepEqual(errors, []);
  await page.close();
});

// Above 64 members no matrix (it could not be read): a bar per member.
test('with more than 64 members the panel draws a bar per member instead', async () => {
  const scenario = 'lab faults\nseed 1\nnodes 80\ndetector swim\nat 500ms crash S5\nuntil 1s\n';
  const { page, errors } = await open(`#${scenarioLink(scenario)}`);
  await runTo(page, 1_000_000);
  const canvas = page.locator('canvas.faults');
  await canvas.waitFor();
  assert.equal(await canvas.getAttribute('data-mode'), 'bars');
  assert.equal(await canvas.getAttribute('data-members'), '80');
  assert.match(await page.getByRole('region', { name: 'Who suspects whom' }).locator('h2').innerText(), /80 members, too many for a matrix/i);
  assert.deepEqual(errors, []);
  await page.close();
});
