// Each lab's engine is a Web Worker of its own, loaded when the lab is shown
// (issue "Light enough to embed anywhere": "An embedded Raft lab never
// downloads the load-balancing, ring or Paxos code"; "switching labs
// fetches the next engine once, with a visible progress line"). The
// server counts what the browser really fetched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { serve, launch, ROOT, DIST } from './harness.mjs';

const fetched = [];
let server, url, browser;
before(async () => {
  ({ server, url } = await serve(undefined, { onRequest: (path) => fetched.push(path) }));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

// The share link of a scenario file, as the CLI writes it.
function linkOf(file) {
  const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
  return execFileSync(cli, ['link', join(ROOT, file)], { encoding: 'utf8' }).trim();
}

// A new page, and the errors it reports (uncaught, or on the console).
async function pageWithErrors() {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { page, errors };
}

// How many times each lab's engine files were fetched.
function engineFetches() {
  const counts = {};
  for (const path of fetched) {
    const m = path.match(/\/engine-([a-z]+)(_bg\.wasm|\.js|_loader\.js)$/);
    if (m) counts[`${m[1]}${m[2]}`] = (counts[`${m[1]}${m[2]}`] ?? 0) + 1;
  }
  return counts;
}

test('an embedded Raft lab fetches the Raft engine alone; opening the load-balancing lab fetches its engine once', async () => {
  const balanceLink = linkOf('tests/scenarios/balance/default.scn');
  const { page, errors } = await pageWithErrors();
  fetched.length = 0;
  await page.goto(`${url}?embed=1`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.getAttribute('data-time')) > 0, null, { timeout: 20_000 });
  const first = engineFetches();
  assert.deepEqual(first, { 'raft_loader.js': 1, 'raft.js': 1, 'raft_bg.wasm': 1 }, 'the Raft engine and no other');

  // A load-balancing link pasted into the same tab: that lab's engine loads,
  // with a line saying so until its worker answers.
  const loading = page.waitForSelector('#engine-loading', { timeout: 10_000 }).then((el) => el.textContent());
  await page.evaluate((link) => { location.hash = link; }, balanceLink);
  assert.match(await loading, /^Loading the .+ lab's engine…$/);
  await page.waitForFunction(() => document.querySelector('[data-lab]')?.getAttribute('data-lab') === 'balance', null, { timeout: 20_000 });
  await page.waitForSelector('#engine-loading', { state: 'detached', timeout: 20_000 });
  const second = engineFetches();
  assert.equal(second['balance_bg.wasm'], 1, 'the load-balancing engine is fetched once');
  assert.equal(second['raft_bg.wasm'], 1, 'the Raft engine is not fetched again');
  for (const lab of ['paxos', 'ring']) assert.equal(second[`${lab}_bg.wasm`], undefined, `no ${lab} engine`);
  // One simulation worker runs: the Raft one closed when the lab changed.
  assert.equal(page.workers().length, 1, 'the old lab\'s worker is closed');
  assert.deepEqual(errors, []);
  await page.close();
});

// Each engine describes its own lab alone (issue "Light enough to embed
// anywhere": the other labs' presets, parameter tables and experiments stay
// out of a lab's download): a lab's default preset, stored verbatim in its
// engine, is in no other lab's engine (Paxos's also runs Raft, for Paxos
// beside Raft). The page still lists every lab, and each lab's presets when
// it opens, since that lab's own worker describes it.
test('each engine holds its own lab\'s presets and no other lab\'s; every lab still lists its presets', async () => {
  const labs = ['raft', 'paxos', 'ring', 'balance', 'locks', 'quorum', 'faults'];
  const engines = Object.fromEntries(await Promise.all(labs.map(async (lab) => [lab, await readFile(join(DIST, `engine-${lab}_bg.wasm`))])));
  for (const lab of labs) {
    const preset = await readFile(join(ROOT, `tests/scenarios/${lab}/default.scn`));
    for (const engine of labs) {
      const expected = engine === lab || (engine === 'paxos' && lab === 'raft');
      assert.equal(engines[engine].includes(preset), expected, `${lab}'s default preset ${expected ? 'in' : 'not in'} the ${engine} engine`);
    }
  }

  const page = await browser.newPage();
  await page.goto(url);
  const options = () => page.$$eval('select[aria-label="Preset scenario"] option:not([disabled])', (os) => os.map((o) => o.textContent));
  await page.waitForSelector('button.tab', { timeout: 20_000 });
  const tabs = await page.$$eval('button.tab', (bs) => bs.map((b) => b.textContent));
  for (const title of ['Raft', 'Paxos', 'Ring', 'Load balancing', 'Locks', 'Quorum replication', 'Failure detection']) {
    assert.ok(tabs.includes(title), `the ${title} tab, before its engine loads (tabs: ${tabs.join(', ')})`);
  }
  for (const [title, lab, preset] of [['Ring', 'ring', 'Modulo hashing: almost everything moves'], ['Raft', 'raft', null]]) {
    await page.click(`button.tab:text-is("${title}")`);
    await page.waitForFunction((l) => document.querySelector('[data-lab]')?.getAttribute('data-lab') === l, lab, { timeout: 20_000 });
    await page.waitForFunction(() => document.querySelectorAll('select[aria-label="Preset scenario"] option:not([disabled])').length > 1, null, { timeout: 20_000 });
    if (preset) assert.ok((await options()).includes(preset), `${title} lists its preset "${preset}"`);
  }
  assert.ok((await options()).length >= 5, 'back on Raft, its presets are listed again');
  await page.close();
});

// The first drawn frame (issue "Light enough to embed anywhere": at most
// 300 ms): the engine of the lab an address opens starts loading while the
// page's own WebAssembly does, from index.html's early script, and the page
// takes that worker instead of starting its own. Here the address is a Ring
// link, so the script must read the link's `lab` line. Every worker
// constructed is noted with the script that constructed it: the page's own
// start would come from its wasm-bindgen glue (`app.js` or `embed.js`).
test('the engine of the lab a link opens starts before the page has loaded, and the page takes that worker', async () => {
  const ringLink = linkOf('tests/scenarios/ring/default.scn');
  const { page, errors } = await pageWithErrors();
  await page.addInitScript(() => {
    const Native = window.Worker;
    window.__constructed = [];
    window.Worker = function Worker(url, options) {
      window.__constructed.push({ url: String(url), from: new Error().stack });
      return new Native(url, options);
    };
    window.Worker.prototype = Native.prototype;
  });
  fetched.length = 0;
  await page.goto(`${url}#${ringLink}`);
  await page.waitForFunction(() => document.querySelector('[data-lab]')?.getAttribute('data-lab') === 'ring', null, { timeout: 20_000 });
  await page.waitForFunction(() => document.documentElement.hasAttribute('data-first-frame-ms'), null, { timeout: 20_000 });
  const constructed = await page.evaluate(() => window.__constructed);
  assert.equal(constructed.length, 1, `one worker constructed (${constructed.map((c) => c.url).join(', ')})`);
  assert.match(constructed[0].url, /engine-ring_loader\.js$/);
  assert.doesNotMatch(constructed[0].from, /\/(app|embed)\.js/, 'started by the early script, not by the page');
  assert.deepEqual(engineFetches(), { 'ring_loader.js': 1, 'ring.js': 1, 'ring_bg.wasm': 1 }, 'the Ring engine once, and no other');
  assert.equal(page.workers().length, 1);
  assert.deepEqual(errors, []);
  await page.close();
});

// A run's first frame carries the lab's schema (docs/architecture.md, "The
// first frame"): the page lays the lab out and shows its first moment from
// one message, in one render, where the schema sent on its own cost the
// full page a render of its own on the way to the first frame. Counted at
// the page's side of the wire: the messages it had heard from the worker
// when it first rendered a frame (the root's `data-frames` leaving 0).
test('the page renders a run\'s first frame from the message that brings the lab\'s schema', async () => {
  const { page, errors } = await pageWithErrors();
  await page.addInitScript(() => {
    const Native = window.Worker;
    let heard = 0;
    window.__heardAtFirstFrame = null;
    window.Worker = function Worker(url, options) {
      const w = new Native(url, options);
      w.addEventListener('message', () => { heard += 1; });
      return w;
    };
    window.Worker.prototype = Native.prototype;
    new MutationObserver((changes) => {
      for (const c of changes) {
        if (window.__heardAtFirstFrame === null && Number(c.target.getAttribute('data-frames')) > 0) {
          window.__heardAtFirstFrame = { heard, lab: c.target.getAttribute('data-lab') };
        }
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-frames'] });
  });
  await page.goto(url);
  await page.waitForFunction(() => window.__heardAtFirstFrame !== null, null, { timeout: 20_000 });
  const first = await page.evaluate(() => window.__heardAtFirstFrame);
  // The worker's greeting (gloo-worker's own), the catalog, then the frame
  // with the schema: three. With the schema a message of its own, four.
  assert.deepEqual(first, { heard: 3, lab: 'raft' });
  await page.waitForFunction(() => document.documentElement.hasAttribute('data-first-frame-ms'), null, { timeout: 20_000 });
  assert.deepEqual(errors, []);
  await page.close();
});

// The page comes in two builds (docs/architecture.md, "Two page binaries"):
// an embedded lab (`?embed=1`) downloads the layout for iframes alone, not
// the whole app's header, side panels and benchmark page, and the full page
// never downloads the embedded build. index.html's script reads the flag as
// the page reads its options (any value but 0 or false), and the benchmark
// page (`bench`) is the whole app's.
test('an embedded lab downloads the page built for iframes, the full page the whole app, each once', async () => {
  const pageFetches = () => {
    const counts = {};
    for (const path of fetched) {
      const m = path.match(/\/(app|embed)(\.js|_bg\.wasm)$/);
      if (m) counts[m[1] + m[2]] = (counts[m[1] + m[2]] ?? 0) + 1;
    }
    return counts;
  };
  const cases = [
    { query: '?embed=1', build: 'embed', root: '.embed' },
    { query: '?embed=yes&controls=full', build: 'embed', root: '.embed' },
    { query: '', build: 'app', root: '.app' },
    { query: '?embed=0', build: 'app', root: '.app' },
    { query: '?embed=false', build: 'app', root: '.app' },
    { query: '?embed=1&bench=1', build: 'app', root: '#run-raft-bench' },
  ];
  for (const { query, build, root } of cases) {
    const { page, errors } = await pageWithErrors();
    fetched.length = 0;
    await page.goto(`${url}${query}`);
    await page.waitForSelector(root, { timeout: 20_000 });
    if (root !== '#run-raft-bench') {
      await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.getAttribute('data-time')) > 0, null, { timeout: 20_000 });
    }
    assert.deepEqual(pageFetches(), { [`${build}.js`]: 1, [`${build}_bg.wasm`]: 1 }, `${query || 'no options'}: the ${build} build alone`);
    if (build === 'embed') {
      // The way out of an iframe opens the whole app at the same scenario.
      const full = await page.getAttribute('a.open-full', 'href');
      assert.doesNotMatch(full, /embed/, full);
      assert.match(full, /#v1\./, full);
    }
    assert.deepEqual(errors, [], query);
    await page.close();
  }
});

// A page whose WebAssembly cannot be fetched says so instead of staying blank.
test('a page that cannot load its WebAssembly says so', async () => {
  const { page } = await pageWithErrors();
  await page.route('**/embed_bg.wasm', (route) => route.abort());
  await page.goto(`${url}?embed=1`);
  const alert = await page.waitForSelector('[role="alert"]', { timeout: 20_000 });
  assert.match(await alert.textContent(), /^ClusterScope could not start \(embed\): .+\. Reload the page to try again\.$/);
  await page.close();
});
