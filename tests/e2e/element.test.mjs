// The <cluster-scope> element (issue "Embedding where documentation is
// written"): a plain page on another origin holds two elements from the
// site's clusterscope.js; each is driven through its methods, events reach
// the element they belong to, and a malformed scenario in one shows its
// message in that element only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { serve, launch } from './harness.mjs';

let site, host, hostUrl, browser;

// The author's page: served from another port, so another origin.
function authorPage(siteUrl) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Author</title>
<script src="${siteUrl}clusterscope.js"></script></head><body>
<cluster-scope id="a" controls="none" view="cluster" height="360" speed="1" autoplay="0">
    # indented as an author would, inside the page's own markup
    lab raft
    seed 7
    nodes 3
</cluster-scope>
<cluster-scope id="b" controls="compact" height="360">
    lab raft
    nodes 0
</cluster-scope>
<script>
  window.seen = { a: [], b: [] };
  for (const id of ['a', 'b']) {
    const el = document.getElementById(id);
    for (const name of ['ready', 'leader', 'loaded', 'error']) {
      el.addEventListener(name, (e) => window.seen[id].push({ name, detail: e.detail }));
    }
  }
</script></body></html>`;
}

// An element whose text node the page keeps a hold of, as React does with
// the text it rendered (and compares when it hydrates a server-rendered page,
// as Docusaurus does).
function keptPage(siteUrl) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Author</title>
<script src="${siteUrl}clusterscope.js"></script></head><body>
<div id="first"><cluster-scope id="k" controls="none" height="300" autoplay="0">
  lab raft
  seed 11
  nodes 3
</cluster-scope></div><div id="second"></div>
<script>
  const el = document.getElementById('k');
  window.kept = { node: el.firstChild, text: el.textContent, ready: 0 };
  el.addEventListener('ready', () => window.kept.ready++);
</script></body></html>`;
}

before(async () => {
  site = await serve();
  host = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/kept' ? keptPage(site.url) : authorPage(site.url));
  });
  await new Promise((ok) => host.listen(0, '127.0.0.1', ok));
  hostUrl = `http://127.0.0.1:${host.address().port}/`;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  site?.server.close();
  host?.close();
});

test('two elements on an author page from another origin: methods, events per element, a bad scenario stays in its element', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(hostUrl);
  await page.waitForFunction(() => window.seen.a.some((e) => e.name === 'ready'), null, { timeout: 30_000 });

  // Element a: its scenario (the element's text, dedented) is what runs.
  const state = await page.evaluate(() => document.getElementById('a').state());
  assert.equal(state.lab, 'raft');
  const text = await page.evaluate(async (link) => {
    const b64 = link.slice(3).replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    return new Response(stream).text();
  }, state.link);
  assert.match(text, /^seed 7$/m, `the element's own scenario runs: ${text}`);
  assert.match(text, /^nodes 3$/m);
  assert.equal(state.playing, false, 'autoplay="0" reaches the lab: paused until the page says play');
  // One `loaded`, for the element's own run. Before, the lab's worker sent
  // a frame of the run it opens on (lab raft, seed 1) before the page named
  // the element's, so a `loaded` for that run came first (and in one load
  // of five, alone).
  await page.waitForFunction(() => window.seen.a.some((e) => e.name === 'loaded'), null, { timeout: 30_000 });
  const loaded = (await page.evaluate(() => window.seen.a)).filter((e) => e.name === 'loaded');
  assert.deepEqual(loaded.map((e) => [e.detail.lab, e.detail.link]), [['raft', state.link]], 'one loaded event, for the element\'s scenario');
  const played = await page.evaluate(() => document.getElementById('a').play());
  assert.equal(played.playing, true);
  await page.waitForFunction(() => window.seen.a.some((e) => e.name === 'leader' && e.detail.leader), null, { timeout: 30_000 });
  const leader = await page.evaluate(() => window.seen.a.find((e) => e.name === 'leader' && e.detail.leader).detail.leader);
  assert.match(leader, /^S[1-3]$/, 'a leader among the three servers of the scenario');
  const crashed = await page.evaluate((l) => document.getElementById('a').act(`crash ${l}`), leader);
  assert.equal(crashed.lab, 'raft');
  // A refused action rejects with the lab's sentence and changes nothing.
  const refused = await page.evaluate(() => document.getElementById('a').act('crash S9').then(() => 'resolved', (e) => e.message));
  assert.match(refused, /S9/, `the error names the server: ${refused}`);

  // Element b: nodes 0 is out of range (1 to 101); its message is inside b's lab only.
  const frames = page.frames().filter((f) => f !== page.mainFrame());
  assert.equal(frames.length, 2, 'one iframe per element');
  const frameOf = async (id) => {
    const handle = await page.$(`#${id} iframe`);
    return handle.contentFrame();
  };
  const fb = await frameOf('b');
  const fa = await frameOf('a');
  await fb.waitForSelector('[role="alert"]', { timeout: 30_000 });
  const message = await fb.textContent('[role="alert"]');
  assert.match(message, /nodes = 0 is out of range/, `b says what is wrong: ${message}`);
  assert.equal(await fa.$('[role="alert"]'), null, 'a shows no message');
  const seen = await page.evaluate(() => window.seen);
  assert.equal(seen.b.filter((e) => e.name === 'leader' && e.detail.leader === leader).length, 0, "a's leader event did not reach b");
  assert.deepEqual(errors, []);
  await page.close();
});

// Found by building a Docusaurus 3 site with the element in an MDX page: the
// script upgraded the server-rendered element, which swapped its text for the
// iframe before React hydrated the page, so React reported a hydration
// mismatch (error #418) and rendered the whole page again, loading the lab
// twice. And an element moved in the page (removed and put back, as
// frameworks do) lost its scenario, which it had removed from itself.
test("the element leaves its text to the page: the text node stays, and a moved element opens the same scenario", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${hostUrl}kept`);
  await page.waitForFunction(() => window.kept.ready === 1, null, { timeout: 30_000 });
  const kept = await page.evaluate(() => {
    const el = document.getElementById('k');
    return { same: el.firstChild === window.kept.node, only: el.childNodes.length, text: el.textContent === window.kept.text };
  });
  assert.deepEqual(kept, { same: true, only: 1, text: true }, "the element's children are the page's text node, as written");
  const shown = await page.evaluate(() => document.getElementById('k').iframe.getBoundingClientRect().height);
  assert.equal(shown, 300, 'the lab is what is shown, at the height asked');

  const decode = (link) => page.evaluate(async (link) => {
    const b64 = link.slice(3).replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'))).text();
  }, link);
  // Moved: removed from the page and put back elsewhere.
  await page.evaluate(() => document.getElementById('second').appendChild(document.getElementById('k')));
  await page.waitForFunction(() => window.kept.ready === 2, null, { timeout: 30_000 });
  const state = await page.evaluate(() => document.getElementById('k').state());
  const text = await decode(state.link);
  assert.match(text, /^seed 11$/m, `the moved element runs its own scenario: ${text}`);
  assert.match(text, /^nodes 3$/m);
  assert.equal(await page.locator('#k iframe').count(), 1, 'one lab after the move');
  assert.deepEqual(errors, []);
  await page.close();
});
