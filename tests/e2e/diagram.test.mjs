// Browser tests of the space-time diagram, stepping one event, files in and
// out, the help overlay, the themes and the embedding API, in real headless
// Chromium. Expectations come from the issue "See why" (its list "Tests that
// must exist and pass") and Lamport's space-time diagrams (one lane per
// process, one arrow per message from its send to its receipt).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seekTo, serve, launch, virtualTime, ROOT } from './harness.mjs';

const CLI = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
let server, url, other, browser;
before(async () => {
  ({ server, url } = await serve());
  other = await serve(); // a second origin, for the embedding tests
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
  other?.server.close();
});

async function open(path = '', options = {}) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true, ...options });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url + path);
  return { page, errors };
}

// A known scenario: five servers, 10% loss, the leader crashes, 1 s.
const KNOWN = 'lab raft\nseed 2\nrequest_rate 0\nloss 10%\nat 400ms crash S1\nuntil 1s\n';

function cli(args, input) {
  const file = join(tmpdir(), `diagram-${process.pid}-${Math.random().toString(36).slice(2)}.scn`);
  writeFileSync(file, input);
  return execFileSync(CLI, [...args, file], { encoding: 'utf8' });
}

async function attr(page, selector, name) {
  return page.locator(selector).first().getAttribute(name);
}

async function fingerprint(page) {
  return attr(page, '[data-fingerprint]', 'data-fingerprint');
}

// Waits until the page shows a time and fingerprint that stop changing.
async function settled(page) {
  let last = '';
  for (let i = 0; i < 50; i++) {
    const now = `${await virtualTime(page)} ${await fingerprint(page)}`;
    if (now === last && !now.endsWith(' ')) return now;
    last = now;
    await page.waitForTimeout(120);
  }
  throw new Error('the page did not settle');
}

test('the diagram draws a known run: one lane per server and one arrow per message that ended', async () => {
  const link = cli(['link'], KNOWN).trim();
  // The CLI's trace of the same run: every message that arrived or was lost.
  const trace = cli(['run', '--trace'], KNOWN);
  const ended = trace.split('\n').filter((l) => / recv | drop /.test(l)).length;
  assert.ok(ended > 50, `the run has messages (${ended})`);
  const { page, errors } = await open(`?view=diagram#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 1_000_000);
  await page.getByRole('button', { name: 'Whole run' }).click();
  const diagram = page.locator('canvas.diagram');
  await page.waitForFunction((n) => Number(document.querySelector('canvas.diagram')?.dataset.inView) === n, ended, { timeout: 10_000 })
    .catch(async () => assert.fail(`arrows in view ${await diagram.getAttribute('data-in-view')}, expected ${ended}`));
  assert.equal(Number(await diagram.getAttribute('data-arrows')), ended, 'every arrow is drawn (fewer than the cap)');
  assert.equal(Number(await diagram.getAttribute('data-lanes')), 5, 'one lane per server');
  // Hiding a lane hides its messages.
  await page.getByRole('group', { name: 'View' }).waitFor();
  await page.locator('.chips[aria-label="Nodes"] button', { hasText: 'S1' }).click();
  await page.waitForFunction(() => Number(document.querySelector('canvas.diagram')?.dataset.lanes) === 4);
  assert.ok(Number(await diagram.getAttribute('data-in-view')) < ended);
  await page.locator('.chips[aria-label="Nodes"] button', { hasText: 'S1' }).click();

  // "Why?": a message's causal past (Lamport's happens-before) lights up:
  // some records, not all (later ones and concurrent ones are outside).
  const [x, y] = (await diagram.getAttribute('data-sample')).split(',').map(Number);
  await diagram.click({ position: { x, y } });
  await page.locator('.message-detail', { hasText: '→' }).waitFor();
  await page.getByRole('button', { name: 'Why? Show what led here' }).click();
  await page.waitForFunction(() => Number(document.querySelector('canvas.diagram')?.dataset.past) > 0);
  const past = Number(await diagram.getAttribute('data-past'));
  assert.ok(past < Number(await diagram.getAttribute('data-records')), `${past} records in the past, not all`);
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.waitForFunction(() => Number(document.querySelector('canvas.diagram')?.dataset.past) === 0);
  assert.deepEqual(errors, []);
  await page.close();
});

// Lamport 1978, §2, and crates/core/tests/diagram.rs (the same run worked
// out by hand from its trace): three servers elect S3 by 180.143 ms, and
// S3's first heartbeat to S2 leaves then and arrives at 199.619. A click on
// that arrow goes to its arrival (the page then holds the 10 records made
// by then); "Why?" lights up its causal past: S2's own events (S3's
// RequestVote reaching it, becoming follower), the heartbeat itself, and
// S3's events up to its send (its timer, candidacy, S2's reply, becoming
// leader): 7. S1's part (the RequestVote to it, its becoming follower, its
// reply, which reached S3 after the send) is concurrent and stays dark.
test('"Why?" on a message lights up exactly the causal past worked out by hand', async () => {
  const ELECTION = 'lab raft\nnodes 3\nseed 2\nrequest_rate 0\nuntil 200ms\n';
  const link = cli(['link'], ELECTION).trim();
  const { page, errors } = await open(`?view=diagram#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 200_000);
  await page.getByRole('button', { name: 'Whole run' }).click();
  const diagram = page.locator('canvas.diagram');
  await page.waitForFunction(() => Number(document.querySelector('canvas.diagram')?.dataset.records) === 11);
  await page.waitForTimeout(200);
  const box = await diagram.boundingBox();
  const [left, right] = [Number(await diagram.getAttribute('data-left')), Number(await diagram.getAttribute('data-right'))];
  // The time axis runs from x = 46 to width - 10; three lanes 34 px high
  // under a 26 px axis (spacetime/mod.rs): S2 at y = 77, S3 at y = 111.
  const x = 46 + ((189_881 - left) / (right - left)) * (box.width - 56);
  await diagram.click({ position: { x, y: 94 } });
  await page.locator('.message-detail', { hasText: 'S3→S2 Heartbeat' }).waitFor();
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 199_619, null, { timeout: 10_000 })
    .catch(async () => assert.fail(`went to ${await virtualTime(page)}, not to the heartbeat's arrival`));
  await page.waitForFunction(() => Number(document.querySelector('canvas.diagram')?.dataset.records) === 10, null, { timeout: 10_000 })
    .catch(async () => assert.fail(`records ${await diagram.getAttribute('data-records')}, expected the 10 up to 199.619 ms`));
  await page.getByRole('button', { name: 'Why? Show what led here' }).click();
  await page.waitForFunction(() => Number(document.querySelector('canvas.diagram')?.dataset.past) > 0);
  assert.equal(Number(await diagram.getAttribute('data-past')), 7, 'the hand-computed causal past');
  assert.deepEqual(errors, []);
  await page.close();
});

test('clicking in the diagram goes to that time', async () => {
  const link = cli(['link'], KNOWN).trim();
  const { page } = await open(`?view=diagram#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 1_000_000);
  await page.getByRole('button', { name: 'Whole run' }).click();
  await page.waitForTimeout(200);
  const diagram = page.locator('canvas.diagram');
  const box = await diagram.boundingBox();
  const [left, right] = [Number(await diagram.getAttribute('data-left')), Number(await diagram.getAttribute('data-right'))];
  // The drawing's time axis runs from x = 46 to width - 10 (see spacetime.rs).
  const x = 46 + 0.4 * (box.width - 56);
  await diagram.click({ position: { x, y: 12 } });
  const expected = left + 0.4 * (right - left);
  await page.waitForFunction((e) => Math.abs(Number(document.querySelector('[data-time]')?.dataset.time) - e) < 5_000, expected, { timeout: 10_000 });
  const t = await virtualTime(page);
  assert.ok(Math.abs(t - expected) < 5_000, `went to ${t}, expected about ${expected}`);
  await page.close();
});

test('step back one event then forward one returns the same fingerprint', async () => {
  const link = cli(['link'], KNOWN).trim();
  const { page, errors } = await open(`#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 1_000_000);
  await settled(page);
  // Where the run is: events processed and the fingerprint of the trace.
  const where = () => page.evaluate(() => {
    const d = document.querySelector('[data-fingerprint]').dataset;
    return `${d.events} ${d.fingerprint}`;
  });
  const reach = (w) => page.waitForFunction((w) => {
    const d = document.querySelector('[data-fingerprint]').dataset;
    return `${d.events} ${d.fingerprint}` === w;
  }, w, { timeout: 10_000 });
  const seen = [await where()];
  for (let i = 0; i < 3; i++) {
    await page.getByRole('button', { name: 'Forward one event' }).click();
    await page.waitForFunction((w) => {
      const d = document.querySelector('[data-fingerprint]').dataset;
      return `${d.events} ${d.fingerprint}` !== w;
    }, seen.at(-1));
    seen.push(await where());
  }
  assert.equal(new Set(seen).size, 4, 'each step changes the run');
  const events = seen.map((w) => Number(w.split(' ')[0]));
  assert.deepEqual(events.slice(1), events.slice(0, -1).map((e) => e + 1), 'each step moves on by exactly one event');
  // Back with the arrow key, through the worker's snapshots.
  await page.keyboard.press('ArrowLeft');
  await reach(seen[2]);
  await page.keyboard.press('ArrowLeft');
  await reach(seen[1]);
  await page.keyboard.press('ArrowRight');
  await reach(seen[2]);
  await page.keyboard.press('ArrowRight');
  await reach(seen[3]);
  assert.deepEqual(errors, []);
  await page.close();
});

async function download(page, button) {
  if ((await page.locator('details.files').getAttribute('open')) === null) {
    await page.getByText('Files', { exact: true }).click();
  }
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), bytes: readFileSync(path) };
}

test('the cluster view and the diagram export as SVG and PNG', async () => {
  const link = cli(['link'], KNOWN).trim();
  const { page } = await open(`?view=both#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 1_000_000);
  await page.waitForTimeout(300);
  const svg = await download(page, 'Cluster view as SVG');
  assert.match(svg.name, /\.svg$/);
  const text = svg.bytes.toString();
  assert.match(text, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok((text.match(/<path /g) ?? []).length >= 5, 'the servers are drawn');
  assert.match(text, />S3</, 'with their names');
  const png = await download(page, 'Drawing as PNG');
  assert.deepEqual([...png.bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG file');
  assert.ok(png.bytes.length > 2000);
  const dsvg = await download(page, 'Diagram as SVG');
  const arrows = Number(await page.locator('canvas.diagram').getAttribute('data-arrows'));
  assert.ok(arrows > 0);
  // Message arrows are the only strokes 1.2 px wide (no causal past
  // shown), each one `M x y L x y` shaft (its head, when drawn, a second
  // subpath with two `L`s): the file holds exactly the arrows on screen.
  const shafts = dsvg.bytes.toString().split('\n')
    .filter((l) => l.includes('stroke-width="1.2"'))
    .flatMap((l) => l.match(/ d="([^"]*)"/)[1].split('M').slice(1))
    .filter((sub) => (sub.match(/L/g) ?? []).length === 1).length;
  assert.equal(shafts, arrows, 'the SVG holds every arrow drawn');
  const dpng = await download(page, 'Diagram as PNG');
  assert.deepEqual([...dpng.bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  await page.close();
});

// Issue 23, drawing: "in the space-time diagram, each lease as a bar on its
// client's lane (Kleppmann's figure, live)". In the Redlock drift preset S5
// holds the lock under value 458267 from 30 ms to its commit at 1.008 s, and
// S6 under 465867 from 959 ms to the write that breaks mutual exclusion (the
// lab's own test, locks_redlock.rs, pins the times): both bars, with their
// labels, are on the diagram and in its SVG.
test("the locks lab draws each client's hold as a bar on its lane, labelled with its token", async () => {
  const file = readFileSync(join(ROOT, 'tests/scenarios/locks/bug-redlock-drift.scn'), 'utf8');
  const link = cli(['link'], file).trim();
  const { page, errors } = await open(`?view=both#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) >= 1_991_865, null, { timeout: 60_000 });
  await page.getByRole('button', { name: 'Whole run' }).click();
  await page.waitForTimeout(300);
  const svg = (await download(page, 'Diagram as SVG')).bytes.toString();
  assert.match(svg, />token 458267</, "S5's hold");
  assert.match(svg, />token 465867</, "S6's hold");
  assert.ok((svg.match(/<rect [^>]*fill="#2e9d5b"/g) ?? []).length >= 2, 'two bars');
  assert.deepEqual(errors, []);
  await page.close();
});

// Goes to virtual time `t` (microseconds) with the time slider, as a user
// dragging it does, and shows the whole run.
async function seek(page, t) {
  await seekTo(page, t);
  await page.getByRole('button', { name: 'Whole run' }).click();
}

async function openSpans(page, n) {
  await page.waitForFunction((v) => document.querySelector('canvas.diagram')?.dataset.openSpans === String(v), n, { timeout: 20_000 })
    .catch(async () => assert.fail(`open spans drawn: ${await attr(page, 'canvas.diagram', 'data-open-spans')}, expected ${n}`));
}

// Kleppmann, "How to do distributed locking" (2016), Figure 1: the paused
// client's hold is drawn while it happens, not once it is over. In the
// paused-client preset (tests/scenarios/locks/default.scn; the times are
// pinned in crates/core/tests/diagram.rs) S3 holds token 1 from 36.659 ms
// and is paused from 100 ms; S4 holds token 2 from 563.752 ms to 826.927
// ms; S3's write is refused at 1.53 s and it aborts. At 1 s S3's bar runs
// from its grant to now, ending in an arrowhead, "token 1, still open";
// at 2 s it is one plain bar; back at 1 s (time travel) the diagram is the
// one drawn the first time; playing, at some moment both bars are open.
test("a hold still open is a bar to now, said to be still open, the same after time travel", async () => {
  const file = readFileSync(join(ROOT, 'tests/scenarios/locks/default.scn'), 'utf8').replace('until 3s', 'until 1s');
  const link = cli(['link'], file).trim();
  const { page, errors } = await open(`?view=both#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 1_000_000, null, { timeout: 60_000 });
  await page.getByRole('button', { name: 'Whole run' }).click();
  await openSpans(page, 1);
  assert.match(await attr(page, 'canvas.diagram', 'aria-label'), /still open: S3 token 1 since 36659us/);
  // One lock server: the filter offers the message kinds this run sent,
  // none of the replicated service's (Raft) or Redlock's.
  const chips = await page.locator('.chips[aria-label="Message kinds"] button').allTextContents();
  assert.ok(['Acquire', 'Granted', 'Read', 'Write'].every((k) => chips.includes(k)), chips.join(' '));
  assert.ok(!chips.some((c) => /AppendEntries|RequestVote|PreVote|SetKey|NotLeader/.test(c)), chips.join(' '));
  // So does the legend beside the drawing: the roles and kinds this
  // configuration (one lock server, pessimistic, fencing) can show, none of
  // the replicated service's, Redlock's or optimistic clients'
  // (crates/core/tests/legend.rs holds the rule for every
  // configuration).
  const legend = await page.locator('.legend li').allTextContents();
  assert.ok(['lock server', 'holding', 'Acquire', 'Check', 'Write'].every((k) => legend.includes(k)), legend.join(', '));
  assert.ok(!legend.some((l) => /^lock service|AppendEntries|SetKey|^Cas$|in a transaction/.test(l)), legend.join(', '));
  const first = (await download(page, 'Diagram as SVG')).bytes.toString();
  assert.match(first, />token 1, still open</, "S3's hold, still going on");
  assert.match(first, />token 2</, "S4's hold, over");
  // Now is the line from the axis down (its path starts at y 22); the open
  // bar's arrowhead (tip 6 px right, base at now) sits on it, and the bar
  // ends there.
  const nowX = Number(first.match(/<path d="M([\d.]+) 22\.0L\1 [\d.]+" fill="none"/)?.[1]);
  assert.ok(nowX > 0, 'the line of now is drawn');
  const head = first.match(/<path d="M([\d.]+) [\d.]+L([\d.]+) [\d.]+L\2 [\d.]+" fill="#2e9d5b"/);
  assert.ok(head, 'an arrowhead at the open end');
  assert.ok(Math.abs(Number(head[2]) - nowX) <= 0.2 && Math.abs(Number(head[1]) - nowX - 6) <= 0.2, `at now (${nowX}): ${head[0]}`);
  const bars = [...first.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" [^>]*fill="#2e9d5b"/g)];
  assert.equal(bars.length, 2, 'two bars: S3 open, S4 closed');
  assert.ok(bars.some((b) => Math.abs(Number(b[1]) + Number(b[2]) - nowX) <= 0.2), 'one reaches now');

  await seek(page, 2_000_000);
  await openSpans(page, 0);
  const later = (await download(page, 'Diagram as SVG')).bytes.toString();
  assert.doesNotMatch(later, /still open/, 'no hold is open at 2 s');
  assert.equal((later.match(/>token 1</g) ?? []).length, 1, "S3's first hold, once, closed at its abort");
  assert.equal((later.match(/<rect [^>]*fill="#2e9d5b"/g) ?? []).length, 3, 'three bars: tokens 1, 2 and 3, none twice');

  await seek(page, 1_000_000);
  await openSpans(page, 1);
  assert.equal((await download(page, 'Diagram as SVG')).bytes.toString(), first, 'back at 1 s, the diagram drawn the first time');

  // Playing from 400 ms: while both believe they hold the lock, both bars
  // are open.
  await seek(page, 400_000);
  await openSpans(page, 1);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await openSpans(page, 2);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  assert.deepEqual(errors, []);
  await page.close();
});

test('a scenario saved as .scn and opened again gives the same run; a malformed file is refused and the run kept', async () => {
  const link = cli(['link'], KNOWN).trim();
  const { page } = await open(`#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 1_000_000);
  const before = await settled(page);
  const scn = await download(page, 'Save scenario (.scn)');
  assert.match(scn.name, /\.scn$/);
  assert.match(scn.bytes.toString(), /^# |^lab raft/m);

  // Opened in a fresh page (which starts on the default run).
  const fresh = await open('');
  await fresh.page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) > 0);
  await fresh.page.setInputFiles('input[aria-label="Scenario file"]', { name: 'saved.scn', mimeType: 'text/plain', buffer: scn.bytes });
  await fresh.page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 1_000_000, null, { timeout: 15_000 });
  assert.equal(await settled(fresh.page), before, 'same time, same fingerprint');

  // A malformed file: a clear message naming the problem, and the run stays.
  await fresh.page.setInputFiles('input[aria-label="Scenario file"]', { name: 'broken.scn', mimeType: 'text/plain', buffer: Buffer.from('lab raft\nnodes banana\n') });
  const alert = fresh.page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /line 2.*banana|banana.*line 2/i);
  assert.match(await alert.textContent(), /kept/);
  assert.equal(await settled(fresh.page), before, 'the run was kept');
  // Dropped on the page, a file loads the same way.
  const dropped = await fresh.page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped.scn', { type: 'text/plain' }));
    return dt;
  }, 'lab raft\nseed 9\nuntil 500ms\n');
  await fresh.page.dispatchEvent('.app', 'drop', { dataTransfer: dropped });
  await fresh.page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 500_000, null, { timeout: 15_000 });
  await page.close();
  await fresh.page.close();
});

test('the help overlay lists the shortcuts; both themes draw readable pictures', async () => {
  const { page } = await open('', { colorScheme: 'dark', reducedMotion: 'reduce' });
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) > 0);
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  for (const key of ['Space', '→', '←', '?']) assert.ok((await help.textContent()).includes(key));
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
  const pixel = (p) => p.evaluate(() => {
    const c = document.querySelector('canvas.cluster');
    return [...c.getContext('2d').getImageData(2, c.height - 2, 1, 1).data].slice(0, 3);
  });
  const dark = await pixel(page);
  assert.ok(dark.every((v) => v < 40), `dark background ${dark}`);
  const light = await open('', { colorScheme: 'light' });
  await light.page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) > 0);
  await light.page.waitForTimeout(200);
  const white = await pixel(light.page);
  assert.ok(white.every((v) => v > 230), `light background ${white}`);
  await page.close();
  await light.page.close();
});

// The example documentation page, on one origin, embeds the lab from another
// origin in a sandboxed iframe (opaque origin) and drives it with the API.
async function openExample() {
  const app = other.url.replace('127.0.0.1', 'localhost');
  const { page, errors } = await open(`embed-example.html?app=${encodeURIComponent(app)}`);
  await page.locator('#events', { hasText: 'ready' }).waitFor({ timeout: 20_000 });
  return { page, errors, app };
}

test('the example page drives a cross-origin, sandboxed embedded lab and hears its events', async () => {
  const { page, app } = await openExample();
  const frame = page.frameLocator('#lab');
  assert.equal(await page.locator('#lab').getAttribute('sandbox'), 'allow-scripts');
  assert.ok(!app.startsWith(url), 'the lab is on another origin');
  await page.click('#start');
  await page.locator('#events', { hasText: /leader: S\d/ }).waitFor({ timeout: 20_000 });
  const first = (await page.locator('#status').textContent()).match(/S\d/)[0];
  await page.click('#crash');
  // The crash is applied in the lab: the leader is gone, then another is elected.
  await page.locator('#events', { hasText: 'leader: none' }).waitFor({ timeout: 20_000 });
  await page.click('#watch');
  await page.waitForFunction((old) => {
    const lines = document.getElementById('events').innerText.split('\n');
    const after = lines.slice(lines.findIndex((l) => l.includes('leader: none')));
    return after.some((l) => /leader: S\d/.test(l) && !l.includes(old));
  }, first, { timeout: 20_000 });
  assert.match(await page.locator('#events').innerText(), /BecameCandidate/);
  await page.click('#diagram');
  await frame.locator('canvas.diagram').waitFor();
  await page.close();
});

// docs/embedding.md, the address options: `controls` is `none` (drive it
// with the API), `compact` (play, step, speed, reset, clock) or `full`
// (also the time slider and the view switch), and "a bad option is named
// in a message and its default is used".
test('embed options: controls none and full, and a bad option named with its default used', async () => {
  const link = cli(['link'], 'lab raft\nseed 4\nuntil 30s\n').trim();
  const embed = async (query) => {
    const { page, errors } = await open(`?embed=1&${query}#${link}`);
    await page.locator('.embed canvas.cluster').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-time]')?.dataset.time !== undefined);
    return { page, errors };
  };
  const seen = async (page) => ({
    play: await page.getByRole('button', { name: /^(Play|Pause)$/ }).count(),
    slider: await page.getByRole('slider', { name: 'Time travel' }).count(),
    views: await page.getByRole('group', { name: 'View' }).count(),
  });
  const none = await embed('controls=none');
  assert.deepEqual(await seen(none.page), { play: 0, slider: 0, views: 0 }, 'controls=none: no controls');
  assert.equal(await none.page.getByRole('alert').count(), 0);
  const full = await embed('controls=full');
  assert.deepEqual(await seen(full.page), { play: 1, slider: 1, views: 1 }, 'controls=full: slider and view switch too');
  const bad = await embed('controls=sideways&view=upside');
  const alert = bad.page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /controls=sideways is not none, compact or full/);
  assert.match(await alert.textContent(), /view=upside is not cluster, diagram, both or results.*Defaults were used/);
  assert.deepEqual(await seen(bad.page), { play: 1, slider: 0, views: 0 }, 'the default, compact controls');
  assert.equal(await bad.page.locator('[data-view]').first().getAttribute('data-view'), 'cluster', 'the default view');
  for (const p of [none, full, bad]) {
    assert.deepEqual(p.errors, []);
    await p.page.close();
  }
});

// docs/embedding.md: the `time` event comes "at most four a second while
// playing". A page embedding the lab counts them while it plays.
test('an embedding page hears time events at most four a second', async () => {
  const link = cli(['link'], 'lab raft\nseed 4\nuntil 30s\n').trim();
  const host = await browser.newPage();
  await host.setContent('<!doctype html><title>A course page</title>');
  await host.evaluate((src) => {
    window.times = [];
    window.addEventListener('message', (e) => {
      if (e.data?.api === 'clusterscope' && e.data.type === 'event' && e.data.event === 'time' && e.data.playing) {
        window.times.push(performance.now());
      }
    });
    const f = document.createElement('iframe');
    f.src = src;
    document.body.append(f);
  }, `${url}?embed=1&controls=none&autoplay=1&speed=1#${link}`);
  await host.waitForFunction(() => window.times.length > 0, null, { timeout: 30_000 });
  await host.waitForTimeout(4000);
  const times = await host.evaluate(() => window.times);
  assert.ok(times.length >= 8, `${times.length} time events in about 4 s of play`);
  // Four a second: posted at least 250 ms apart (received within a few
  // milliseconds of that, as the page is busy or not).
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert.ok(gaps.every((g) => g >= 200), `gaps between time events (ms): ${gaps.map(Math.round)}`);
  const mean = (times.at(-1) - times[0]) / gaps.length;
  assert.ok(mean >= 245, `one every ${mean.toFixed(0)} ms on average: more than four a second`);
  await host.close();
});

test('malformed API messages get an error reply and change nothing', async () => {
  const { page } = await openExample();
  const ask = (msg) => page.evaluate((m) => new Promise((ok) => {
    const lab = document.getElementById('lab');
    const on = (e) => {
      if (e.source === lab.contentWindow && e.data?.api === 'clusterscope' && (e.data.type === 'reply' || e.data.type === 'error')) {
        window.removeEventListener('message', on);
        ok(e.data);
      }
    };
    window.addEventListener('message', on);
    lab.contentWindow.postMessage(m, '*');
  }), msg);
  const api = { api: 'clusterscope', version: 1 };
  await ask({ ...api, type: 'load', scenario: 'lab raft\nseed 4\nuntil 300ms\n' });
  const state = (await ask({ ...api, type: 'get', id: 1 })).state;
  assert.equal(state.time, 0.3);
  const bad = [
    ['not an object', 'hello'],
    ['no api', { type: 'play' }],
    ['another version', { ...api, version: 2, type: 'play' }],
    ['an unknown type', { ...api, type: 'explode' }],
    ['a seek without a time', { ...api, type: 'seek' }],
    ['a time that is not one', { ...api, type: 'seek', time: 'soon' }],
    ['a negative speed', { ...api, type: 'speed', speed: -1 }],
    ['an action on no server', { ...api, type: 'act', action: 'crash S9' }],
    ['an action that is not one', { ...api, type: 'act', action: 'explode S1' }],
    ['a malformed scenario', { ...api, type: 'load', scenario: 'lab raft\nseed x\n' }],
    ['a view that does not exist', { ...api, type: 'view', view: 'sideways' }],
  ];
  for (const [what, msg] of bad) {
    const reply = await ask(typeof msg === 'object' ? { ...msg, id: what } : msg);
    assert.equal(reply.type, 'error', what);
    assert.equal(reply.ok, false, what);
    assert.ok(reply.error.length > 10, `${what}: ${reply.error}`);
    if (typeof msg === 'object') assert.equal(reply.id, what, 'the reply names the request');
  }
  const after = (await ask({ ...api, type: 'get', id: 2 })).state;
  assert.deepEqual({ ...after, playing: false }, { ...state, playing: false }, 'nothing changed');
  // A good request is answered with success.
  const ok = await ask({ ...api, type: 'seek', time: '150ms', id: 3 });
  assert.equal(ok.type, 'reply');
  assert.equal(ok.ok, true);
  assert.equal((await ask({ ...api, type: 'get' })).state.time, 0.15);
  await page.close();
});

// Issue 18 ("Scripted and recorded actions"): a preset's future actions are
// its script; "Take over" drops the rest on purpose, and acting back in the
// past starts a branch that says what it dropped, with Undo. The embedding
// page does both through the API, and hears the script and the branch in
// the state; each refuses, with an error, when there is nothing to do.
test('the API takes over a script and undoes a branch, and says when there is nothing to do', async () => {
  const { page } = await openExample();
  const ask = (msg) => page.evaluate((m) => new Promise((ok) => {
    const lab = document.getElementById('lab');
    const on = (e) => {
      if (e.source === lab.contentWindow && e.data?.api === 'clusterscope' && (e.data.type === 'reply' || e.data.type === 'error') && e.data.id === m.id) {
        window.removeEventListener('message', on);
        ok(e.data);
      }
    };
    window.addEventListener('message', on);
    lab.contentWindow.postMessage(m, '*');
  }), msg);
  let id = 0;
  const api = (type, fields = {}) => ask({ api: 'clusterscope', version: 1, type, id: ++id, ...fields });
  const decode = (state) => execFileSync(CLI, ['decode', state.link], { encoding: 'utf8' });
  // Opened at 1 s, with two scripted actions still to come.
  await api('load', { scenario: 'lab raft\nseed 4\nrequest_rate 0\nat 2s crash S1\nat 5s restart S1\nuntil 1s\n' });
  let state = (await api('get')).state;
  assert.equal(state.script, 2);
  assert.equal(state.branch, null);
  const undoNothing = await api('undo');
  assert.equal(undoNothing.type, 'error');
  assert.match(undoNothing.error, /Nothing to undo/);
  // Take over: the script goes, and the link no longer holds it.
  const took = await api('takeOver');
  assert.equal(took.ok, true, took.error);
  assert.equal(took.state.script, 0);
  assert.equal(took.state.branch, 'Taken over at 1s: 2 scripted actions dropped.');
  assert.doesNotMatch(decode(took.state), /crash S1|restart S1/);
  const again = await api('takeOver');
  assert.equal(again.type, 'error');
  assert.match(again.error, /Nothing to take over/);
  // Undo brings the script back.
  state = (await api('undo')).state;
  assert.equal(state.script, 2);
  assert.equal(state.branch, null);
  assert.match(decode(state), /at 2s crash S1\nat 5s restart S1/);
  // Played to 6 s, back to 3 s, crash S5: a branch that drops the restart.
  await api('seek', { time: 6 });
  await api('seek', { time: 3 });
  const acted = await api('act', { action: 'crash S5' });
  assert.equal(acted.ok, true, acted.error);
  assert.equal(acted.state.branch, 'A branch at 3s: 1 later action dropped.');
  assert.doesNotMatch(decode(acted.state), /restart S1/);
  // Undo: back at 3 s as the run was, the restart to come, no crash of S5.
  state = (await api('undo')).state;
  assert.equal(state.time, 3);
  assert.equal(state.branch, null);
  assert.equal(state.script, 1);
  assert.match(decode(state), /at 5s restart S1/);
  assert.doesNotMatch(decode(state), /crash S5/);
  // The example page's own buttons do the same: rewind, crash another, undo.
  await page.click('#start');
  await page.locator('#events', { hasText: /leader: S\d/ }).waitFor({ timeout: 20_000 });
  await page.click('#crash');
  await page.locator('#status', { hasText: 'crashed' }).waitFor();
  await page.click('#rewind');
  await page.locator('#status', { hasText: /A branch at \S+: 1 later action dropped\. S\d crashed instead/ }).waitFor({ timeout: 20_000 });
  await page.click('#undo');
  await page.locator('#status', { hasText: /Undone: back at [\d.]+ s, and the crash of S\d is in the run again/ }).waitFor({ timeout: 20_000 });
  await page.close();
});

// Raft membership changes from the page (thesis §4.1): a spare slot is
// added, then the leader is removed; both are recorded in the address, and
// the address replays them to the same fingerprint.
test('raft: add a spare server and remove the leader from the page; the link replays both', async () => {
  const link = cli(['link'], 'lab raft\nseed 5\nmax_servers 6\nrequest_rate 100\nsnapshot_every 100\nuntil 1500ms\n').trim();
  const { page, errors } = await open(`#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 1_500_000);
  const role = async (s) => (await page.getByRole('row', { name: s, exact: true }).locator('td.role').textContent()).trim();
  assert.equal(await role('S6'), 'spare');
  const leader = (await page.locator('[data-metric="leader"]').textContent()).trim();
  assert.match(leader, /^S[1-5]$/);
  await page.getByRole('row', { name: 'S6', exact: true }).click();
  await page.getByRole('button', { name: 'Add S6' }).click();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('1×');
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  // Learner first, then a voting member (Configuration size 6).
  await page.waitForFunction(() => document.querySelector('[data-metric="members"]')?.textContent?.trim() === '6', null, { timeout: 20_000 });
  assert.match(await role('S6'), /follower|learner|candidate|leader/);
  await page.getByRole('row', { name: leader, exact: true }).click();
  await page.getByRole('button', { name: `Remove ${leader}` }).click();
  // The removed leader steps down once its removal commits; another leads.
  await page.waitForFunction((old) => {
    const l = document.querySelector('[data-metric="leader"]')?.textContent?.trim();
    return l && l !== old && l.startsWith('S');
  }, leader, { timeout: 20_000 });
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  const before = await settled(page);
  const address = page.url();
  assert.match(decodeURIComponent(address), /#v1\./);
  const again = await open(address.slice(url.length));
  await again.page.waitForFunction((t) => document.querySelector('[data-time]')?.dataset.time === t, before.split(' ')[0], { timeout: 20_000 });
  assert.equal(await settled(again.page), before, 'the link replays the changes to the same fingerprint');
  assert.equal((await again.page.getByRole('row', { name: leader, exact: true }).locator('td.role').textContent()).trim(), 'removed');
  assert.deepEqual(errors, []);
  await page.close();
  await again.page.close();
});

test('an address with a start time (t=) opens there with the diagram of the run up to it', async () => {
  // The link is at 3 s; t=1500ms goes back past the snapshots of 1 s and more.
  const text = KNOWN.replace('until 1s', 'until 3s');
  const link = cli(['link'], text).trim();
  const file = join(tmpdir(), `diagram-t-${process.pid}.scn`);
  writeFileSync(file, text);
  const trace = execFileSync(CLI, ['run', '--trace', '--until', '1500ms', file], { encoding: 'utf8' });
  const ended = trace.split('\n').filter((l) => / recv | drop /.test(l)).length;
  const { page, errors } = await open(`?view=diagram&t=1500ms&autoplay=0#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 1_500_000);
  await page.getByRole('button', { name: 'Whole run' }).click();
  await page.waitForFunction((n) => Number(document.querySelector('canvas.diagram')?.dataset.inView) === n, ended, { timeout: 10_000 })
    .catch(async () => assert.fail(`arrows ${await page.locator('canvas.diagram').getAttribute('data-in-view')}, expected ${ended}`));
  assert.deepEqual(errors, []);
  await page.close();
});
