// Browser tests of the page as a newcomer meets it (issue "The page as a
// newcomer meets it"): the legend never covers a node and stays legible on a
// phone, a partition is drawn as separated groups, a balancer is a hub of its
// own, the status agrees with the drawing, and a first hint can be dismissed
// for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useSite, openPage, runTo as reach, scenarioLink } from './harness.mjs';

const site = useSite();
const open = (path, viewport, context = null) => openPage(site, path, { viewport, context });
const runTo = (page, micros) => reach(page, micros, { timeout: 20_000, settle: 200 });

async function svgExport(page) {
  if ((await page.locator('details.files').getAttribute('open')) === null) {
    await page.getByText('Files', { exact: true }).click();
  }
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Cluster view as SVG' }).click()]);
  return readFileSync(await file.path()).toString();
}

const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

// The legend used to be painted over the drawing's top-left corner, over S5,
// and shrank with the canvas to about 5 px on a phone. It is the page's now:
// beside or under the drawing, never on it, in a readable size.
for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  test(`the legend never covers a node and stays legible at ${viewport.width} px`, async () => {
    const { page, errors } = await open('', viewport);
    const legend = page.locator('.legend');
    await legend.locator('li').first().waitFor();
    const canvas = await page.locator('canvas.cluster').boundingBox();
    for (const li of await legend.locator('li').all()) {
      const box = await li.boundingBox();
      assert.ok(!overlap(box, canvas), `legend entry "${await li.textContent()}" lies on the drawing`);
      assert.ok(box.x >= 0 && box.x + box.width <= viewport.width, `"${await li.textContent()}" fits the screen`);
    }
    const size = await legend.locator('li').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(size >= 12, `legend text ${size} px`);
    // Two parts, nodes then messages, so a role's swatch is not read as a
    // message's dot: Raft's roles are under "Nodes", its RPCs under "Messages".
    const items = await legend.locator('li').allTextContents();
    assert.deepEqual(items.filter((t) => t === 'Nodes' || t === 'Messages'), ['Nodes', 'Messages']);
    const at = (t) => items.indexOf(t);
    assert.ok(at('Nodes') < at('leader') && at('leader') < at('crashed') && at('crashed') < at('Messages') && at('Messages') < at('RequestVote'),
      items.join(' | '));
    assert.deepEqual(errors, []);
    await page.close();
  });
}

// Issue #23: "clients, lock servers and storage as their own shapes". The
// Locks lab's storage is drawn as a square, its lock server as a diamond
// and its clients as circles (crates/core/tests/locks_scenarios.rs holds
// each node's form); the legend shows each role's swatch in its shape.
test('the Locks lab draws storage, lock servers and clients in shapes of their own', async () => {
  const { page, errors } = await open('', { width: 1280, height: 800 });
  await page.locator('nav[aria-label="Labs"] button', { hasText: 'Locks' }).click();
  await page.locator('nav[aria-label="Labs"] button[aria-current="page"]', { hasText: 'Locks' }).waitFor();
  await page.locator('#engine-loading').waitFor({ state: 'detached' });
  const swatch = (name) => page.locator('.legend li', { hasText: new RegExp(`^${name}$`) }).locator('.swatch');
  await swatch('storage').waitFor();
  assert.match(await swatch('storage').getAttribute('class'), /\bsquare\b/);
  assert.match(await swatch('lock server').getAttribute('class'), /\bdiamond\b/);
  assert.match(await swatch('thinking').getAttribute('class'), /^swatch node$/);
  assert.deepEqual(errors, []);
  await page.close();
});

// A partition is drawn as separated groups: each side in a column of its
// own with a wall between, not as a faint halo around nodes in place.
test('a partition is drawn as separated groups, and the status names a leader cut off from a majority', async () => {
  // Seed 1 elects S3 (the default scenario): split it off with S4 and S5,
  // crash S5, and no side has a majority (Raft §5.2).
  const scn = 'lab raft\nseed 1\nrequest_rate 0\nat 1500ms partition S3,S4,S5 | S1,S2\nat 1600ms crash S5\nuntil 3s\n';
  const { page, errors } = await open(`#${scenarioLink(scn)}`);
  await runTo(page, 3_000_000);
  assert.equal(await page.locator('[data-metric="leader"]').textContent(), 'S3, cut off from a majority');
  const svg = await svgExport(page);
  assert.match(svg, /group 1 of 2/);
  assert.match(svg, /group 2 of 2/);
  const x = (name) => Number(svg.match(new RegExp(`<text x="([0-9.]+)"[^>]*>${name}</text>`))[1]);
  const [a, b] = [['S3', 'S4', 'S5'], ['S1', 'S2']].map((g) => g.map(x));
  const apart = Math.max(...a) < Math.min(...b) || Math.max(...b) < Math.min(...a);
  assert.ok(apart, `S3-S5 at ${a}, S1-S2 at ${b}: two columns`);
  assert.deepEqual(errors, []);
  await page.close();
});

// The balancer is not one more server on the circle named S11: it is a hub
// in the middle, named LB, in the drawing and the table.
test('the balancer is drawn as a hub named LB, not as a server', async () => {
  const { page, errors } = await open(`#${scenarioLink('lab balance\nseed 1\nnodes 10\nuntil 1s\n')}`);
  await runTo(page, 1_000_000);
  assert.equal(await page.getByRole('row', { name: 'LB' }).count(), 1, 'a table row named LB');
  const svg = await svgExport(page);
  assert.match(svg, />LB</);
  assert.doesNotMatch(svg, />S11</);
  assert.deepEqual(errors, []);
  await page.close();
});

// One line for a newcomer, in the page (never a modal), dismissed for good.
test('a first hint is shown once and stays dismissed', async () => {
  const context = await site.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const { page, errors } = await open('', undefined, context);
  const hint = page.locator('.first-hint');
  await hint.waitFor();
  assert.match(await hint.textContent(), /Click a node/);
  assert.equal(await page.locator('[role="dialog"]').count(), 0, 'not a modal');
  await page.getByRole('button', { name: 'Dismiss the hint' }).click();
  assert.equal(await hint.count(), 0);
  await page.reload();
  await page.locator('canvas.cluster').waitFor();
  assert.equal(await page.locator('.first-hint').count(), 0, 'still dismissed after a reload');
  assert.deepEqual(errors, []);
  await context.close();
});

// Live narration: one sentence for what just happened, from the lab's
// notes (Raft §5.2: the winner, its term, a majority of votes), and a
// switch that turns it off.
test('narration says who won the election, and can be switched off', async () => {
  const context = await site.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const { page, errors } = await open(`#${scenarioLink('lab raft\nseed 1\nrequest_rate 0\nuntil 2s\n')}`, undefined, context);
  await runTo(page, 2_000_000);
  const line = page.locator('[data-narration]');
  assert.match(await line.getAttribute('data-narration'), /^S3 won the election for term 1 with 3 of 5 votes$/);
  const switcher = page.getByRole('button', { name: 'Narration on' });
  await switcher.click();
  assert.equal(await line.count(), 0, 'switched off');
  await page.reload();
  await runTo(page, 2_000_000);
  assert.equal(await page.getByRole('button', { name: 'Narration off' }).count(), 1, 'remembered');
  assert.equal(await page.locator('[data-narration]').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

// Issue 18 ("Presets tell nothing", "Screenshots ... 390×844"): on a phone a
// preset's paragraph and the panels must not push the drawing below the
// fold. With the longest paragraph among the Raft presets, in the cluster
// view and in the diagram view, the whole drawing is on the first screen
// (before, the paragraph above it left 230 px of the cluster drawing and
// 65 px of the diagram in view), and the paragraph is still shown, after it.
test('on a phone the drawing and the diagram are on the first screen under a preset\'s paragraph', async () => {
  for (const view of ['', '?view=diagram']) {
    const drawn = view ? 'canvas.diagram' : 'canvas.cluster';
    const { page, errors } = await openPage(site, view, { viewport: { width: 390, height: 844 }, drawing: drawn });
    await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('Churn on a lossy, slow network');
    const story = page.getByRole('note', { name: 'About this scenario' });
    await story.filter({ hasText: 'Churn on an unreliable network' }).waitFor();
    await page.getByRole('status', { name: 'Caption' }).waitFor();
    const drawing = page.locator(drawn);
    await drawing.waitFor();
    await page.waitForTimeout(300);
    const box = await drawing.boundingBox();
    assert.ok(box.y >= 0 && box.y + box.height <= 844, `${view || 'cluster'}: the drawing spans ${box.y} to ${box.y + box.height} px of 844`);
    const text = await story.boundingBox();
    assert.ok(text.y >= box.y + box.height, 'the paragraph follows the drawing');
    assert.ok(await story.isVisible());
    assert.deepEqual(errors, []);
    await page.close();
  }
});

// Issue 18 ("The page as a newcomer meets it": at 1280×800 the drawing is on
// the first screen). With seven lab tabs the header wrapped to a second line
// (Files, Copy link, Embed and ? alone on it) and pushed the drawing 48 px
// lower; a laptop's width holds it on one line, every tab and the scenario
// menu included.
test('at 1280×800 the header is one line with every lab\'s tab', async () => {
  const { page, errors } = await open('');
  await page.locator('button.tab').first().waitFor();
  const tops = await page.$$eval('.app header > *', (els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
  const tabs = await page.locator('button.tab').count();
  assert.equal(tabs, 7, 'seven labs');
  assert.ok(Math.max(...tops) - Math.min(...tops) <= 8, `the header's parts start at ${tops.join(', ')} px: one line`);
  const header = await page.locator('.app header').boundingBox();
  assert.ok(header.height < 60, `the header is ${header.height} px high`);
  assert.deepEqual(errors, []);
  await page.close();
});

// Issue 18 ("Stories"): a caption is part of the moment; a picture shared
// from the page must tell it too. The drawing's and the diagram's SVG and
// PNG exports carry the caption in force as a line of text under the
// picture; before the first caption there is none (the PNG is shorter).
test('the exports of the drawing and the diagram carry the caption in force', async () => {
  const scn = 'lab raft\nseed 3\nspeed 1\nat 300ms say "The first caption & its <words>."\nuntil 1s\n';
  const { page, errors } = await open(`?view=both#${scenarioLink(scn)}`);
  await runTo(page, 1_000_000);
  const download = async (button) => {
    if ((await page.locator('details.files').getAttribute('open')) === null) await page.getByText('Files', { exact: true }).click();
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
    return readFileSync(await file.path());
  };
  const pngHeight = (bytes) => bytes.readUInt32BE(20);
  assert.match((await download('Cluster view as SVG')).toString(), />The first caption &amp; its &lt;words&gt;\.</);
  assert.match((await download('Diagram as SVG')).toString(), />The first caption &amp; its &lt;words&gt;\.</);
  const [withCluster, withDiagram] = [pngHeight(await download('Drawing as PNG')), pngHeight(await download('Diagram as PNG'))];
  // Before the caption's time: no caption, and shorter pictures.
  await page.getByRole('button', { name: 'Reset' }).click();
  await page.locator('[data-time="0"]').first().waitFor();
  await page.waitForTimeout(300);
  assert.doesNotMatch((await download('Cluster view as SVG')).toString(), /first caption/);
  assert.ok(withCluster > pngHeight(await download('Drawing as PNG')), 'the drawing PNG has a caption band');
  assert.ok(withDiagram > pngHeight(await download('Diagram as PNG')), 'the diagram PNG has a caption band');
  assert.deepEqual(errors, []);
  await page.close();
});

// Issue 18 ("Charts that explain themselves ... used by the live metric
// charts, Tune, Compare and the experiments"): the Ring lab's keys per
// server and its comparison, and the load-balancing histogram and policies,
// are charts of the shared module: a title saying what is compared, axes
// with their headings, and every bar of the policies chart named.
test('the ring and load-balancing charts explain themselves, and every policy is named', async () => {
  const { page, errors } = await open('');
  const svgText = (locator) => locator.evaluate((svg) => svg.outerHTML);
  await page.getByRole('button', { name: 'Ring' }).click();
  const load = page.locator('section.servers svg.chart');
  await load.waitFor();
  const loadSvg = await svgText(load);
  assert.match(loadSvg, />Keys per server under ring/);
  assert.match(loadSvg, />keys</);
  assert.match(loadSvg, />mean of the servers up/);
  // With no change yet, the comparison is of balance; after one, of the
  // keys the change moved.
  await page.getByRole('button', { name: 'Results', exact: true }).click();
  await page.getByRole('button', { name: 'Run compare', exact: true }).click();
  const compare = page.locator('.results-view svg.chart');
  await compare.waitFor({ timeout: 60_000 });
  assert.match(await svgText(compare), /<title>Most loaded server against the mean, by algorithm \(1 is perfectly even\)/);
  assert.match(await svgText(compare), />max \/ mean</);
  await page.getByRole('button', { name: 'Cluster', exact: true }).click();
  await page.getByRole('button', { name: 'Add server' }).click();
  await page.getByRole('row', { name: 'S9' }).waitFor();
  await page.getByRole('button', { name: 'Results', exact: true }).click();
  await page.getByRole('button', { name: 'Run compare', exact: true }).click();
  await page.locator('.results-view svg.chart title', { hasText: 'Keys moved by the changes' }).waitFor({ state: 'attached', timeout: 60_000 });
  const compareSvg = await svgText(compare);
  assert.match(compareSvg, /<title>Keys moved by the changes, by algorithm, against the least possible/);
  assert.match(compareSvg, />keys moved \(%\)</);
  assert.match(compareSvg, />placement algorithm</);
  assert.doesNotMatch(compareSvg, />value</, 'not a generic axis');

  const { page: lb, errors: lbErrors } = await open(`#${scenarioLink('lab balance\nseed 1\nuntil 2s\n')}`);
  await runTo(lb, 2_000_000);
  const histogram = lb.locator('section.histogram svg.chart');
  await histogram.waitFor();
  assert.match(await svgText(histogram), />Latency of the \d+ requests completed in the last 1–2 s</);
  assert.match(await svgText(histogram), />requests completed</);
  await lb.getByRole('button', { name: 'Results', exact: true }).click();
  await lb.getByRole('button', { name: 'Run policies', exact: true }).click();
  const policies = lb.locator('.results-view svg.chart');
  await policies.waitFor({ timeout: 120_000 });
  // The table's names, without the break opportunities (U+200B) it puts in.
  const names = (await lb.getByRole('table', { name: 'policies' }).locator('tbody th').allTextContents()).map((n) => n.replaceAll('\u200b', '').trim());
  assert.ok(names.length >= 9, `policies: ${names}`);
  for (const width of [1280, 390]) {
    await lb.setViewportSize({ width, height: 844 });
    await lb.getByRole('button', { name: 'Run policies', exact: true }).click();
    await lb.waitForTimeout(500);
    const svg = await svgText(policies);
    for (const name of names) {
      const shown = svg.includes(`>${name}</text>`) || svg.includes(`<title>${name}</title>`);
      assert.ok(shown, `at ${width} px the bar of ${name} has no name under it`);
    }
  }
  assert.deepEqual([...errors, ...lbErrors], []);
  await page.close();
  await lb.close();
});

// "New seed" (issue "Embedding where documentation is written"): the seed
// comes from the browser's cryptographic source, crypto.getRandomValues,
// through the page only (the engine runs from the seed it is given). The
// source is stubbed here to give bytes of 1: the 64-bit number
// 0x0101010101010101 = 72340172838076673, which the page keeps below 10^9
// (a seed that reads and types as a short number): 838076673.
test('New seed takes its seed from crypto.getRandomValues', async () => {
  const page = await site.browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    window.randomCalls = 0;
    crypto.getRandomValues = (a) => {
      window.randomCalls += 1;
      new Uint8Array(a.buffer, a.byteOffset, a.byteLength).fill(1);
      return a;
    };
  });
  await page.goto(site.url);
  await page.locator('canvas.cluster').waitFor();
  const seed = page.getByRole('textbox', { name: 'Seed', exact: true });
  assert.equal(await seed.inputValue(), '1', 'the default scenario runs from seed 1');
  await page.getByRole('button', { name: 'New seed' }).click();
  await page.waitForFunction(() => document.querySelector('input[aria-label="Seed"]')?.value === '838076673', null, { timeout: 20_000 });
  assert.equal(await page.evaluate(() => window.randomCalls), 1, 'one draw from the cryptographic source');
  assert.deepEqual(errors, []);
  await page.close();
});

// Issue #21, "a cheaper frame": each message dot is stamped from a small
// picture of its kind's dot (crates/app/src/view/pen.rs, `CanvasPen::dots`)
// instead of being drawn as a path. The SVG export still draws every dot as
// a path from the same scene, so the browser's rendering of the export says
// what the canvas must show at each dot: the same colour at a disc's
// centre and on a ring's edge (overlaps and the nodes on top included).
test('each message in flight is drawn as the SVG export draws it', async () => {
  const busy = 'lab raft\nseed 1\nnodes 5\nlatency_min 40ms\nlatency_max 80ms\nrequest_rate 300\nuntil 1s\n';
  const { page, errors } = await open(`#${scenarioLink(busy)}`, { width: 1280, height: 800 });
  await runTo(page, 1e6);
  const svg = await svgExport(page);
  // Every dot: a circle of radius 3 or 5 in a filled or stroked path.
  const circle = /A(3\.0|5\.0) [\d.]+ 0 1 1 (-?[\d.]+) (-?[\d.]+)A[\d.]+ [\d.]+ 0 1 1 (-?[\d.]+) (-?[\d.]+)/g;
  const dots = [];
  for (const [, d, fill] of svg.matchAll(/<path d="([^"]*)" fill="([^"]*)"/g)) {
    for (const c of d.matchAll(circle)) {
      const [r, ox, sx, y] = [Number(c[1]), Number(c[2]), Number(c[4]), Number(c[5])];
      dots.push(fill === 'none' ? { x: (ox + sx) / 2 + r, y } : { x: (ox + sx) / 2, y });
    }
  }
  assert.ok(dots.length >= 40, `${dots.length} message dots in the export`);
  const differ = await page.evaluate(async ({ svg, dots }) => {
    const c = document.querySelector('canvas.cluster');
    const k = c.width / 640;
    const img = new Image();
    img.src = `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(svg)))}`;
    await img.decode();
    const ref = document.createElement('canvas');
    [ref.width, ref.height] = [c.width, c.height];
    ref.getContext('2d').drawImage(img, 0, 0, img.width * k, img.height * k);
    const a = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const b = ref.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return dots.map((d) => {
      const at = (Math.floor(d.y * k) * c.width + Math.floor(d.x * k)) * 4;
      const same = [0, 1, 2].every((i) => Math.abs(a[at + i] - b[at + i]) <= 40);
      return same ? null : `(${d.x}, ${d.y}): canvas ${[...a.slice(at, at + 3)]}, export ${[...b.slice(at, at + 3)]}`;
    }).filter(Boolean);
  }, { svg, dots });
  assert.ok(differ.length <= 0.1 * dots.length, `${differ.length} of ${dots.length} dots differ: ${differ.slice(0, 4).join('; ')}`);
  assert.deepEqual(errors, []);
  await page.close();
});

// Issue #21, "a cheaper frame": the event log and the node table are below
// the first screen, and rewriting them ten times a second was most of a busy
// frame's page work. Off the screen during a run they follow it once a
// second (crates/app/src/view/mod.rs, `use_held`); on the screen, or once
// the run stops, they are current.
test('the event log follows a run once a second off the screen, and at once on it or when paused', async () => {
  const { page, errors } = await open('', { width: 1280, height: 800 });
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) > 5e5);
  const updates = (ms) => page.evaluate((ms) => new Promise((done) => {
    let n = 0;
    const o = new MutationObserver(() => { n += 1; });
    o.observe(document.querySelector('.eventlog ol'), { childList: true, subtree: true, characterData: true });
    setTimeout(() => { o.disconnect(); done(n); }, ms);
  }), ms);
  const off = await updates(3000);
  assert.ok(off >= 1 && off <= 4, `${off} updates in 3 s off the screen`);
  await page.locator('.eventlog').scrollIntoViewIfNeeded();
  const on = await updates(2000);
  assert.ok(on >= 5, `${on} updates in 2 s on the screen (ten a second on an idle machine)`);
  // Paused off the screen, the log is the run's: scrolling to it changes
  // nothing (a log still held from up to a second ago would gain lines).
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(1500);
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  await page.waitForTimeout(300);
  const newest = () => page.locator('.eventlog li').first().textContent();
  const paused = await newest();
  await page.locator('.eventlog').scrollIntoViewIfNeeded();
  await page.waitForTimeout(500);
  assert.equal(await newest(), paused);
  assert.deepEqual(errors, []);
  await page.close();
});

// The first screen is drawn before what lies below it (issue "Light enough
// to embed anywhere": the first drawn frame within 300 ms). The node table
// under the drawing and the Setup panel at the foot of the side panel are
// left out of the render that draws the run's first frame, and come in the
// task after its paint, with nothing for the user to do. Were they never to
// come (the deferral stuck), a newcomer would lose both.
test('the node table and Setup come right after the first frame, with nothing to click', async () => {
  const page = await site.browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    new MutationObserver(() => {
      if (!('__atFirstFrame' in window)) {
        window.__atFirstFrame = {
          nodes: document.querySelector('table[aria-label="Nodes"]') !== null,
          setup: document.querySelector('section[aria-label="Setup"]') !== null,
        };
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-first-frame-ms'] });
  });
  await page.goto(site.url);
  await page.locator('section[aria-label="Setup"]').waitFor({ timeout: 20_000 });
  await page.locator('table[aria-label="Nodes"]').waitFor({ timeout: 5_000 });
  assert.deepEqual(await page.evaluate(() => window.__atFirstFrame), { nodes: false, setup: false }, 'neither is built for the first frame');
  const drawnAt = Number(await page.evaluate(() => document.documentElement.getAttribute('data-first-frame-ms')));
  assert.ok(drawnAt > 0, 'the first frame was drawn');
  assert.deepEqual(errors, []);
  await page.close();
});
