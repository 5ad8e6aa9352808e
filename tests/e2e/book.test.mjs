// The sample book (docs/book) built by mdBook with mdbook-clusterscope
// (issue "Embedding where documentation is written"): its labs run, a
// button in the text crashes the leader and a new `leader` event follows,
// the lock chapter's buttons tell Kleppmann's fencing story; a malformed
// block fails the build naming the chapter and line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { serve, launch, ROOT } from './harness.mjs';

// mdbook-clusterscope is built beside the CLI (./dev test builds both).
const bin = dirname(process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/ci/clusterscope'));
const env = { ...process.env, PATH: `${bin}:${join(process.env.HOME ?? '', '.cargo/bin')}:${process.env.PATH}` };
const out = mkdtempSync(join(tmpdir(), 'clusterscope-book-'));
let server, url, browser;

before(async () => {
  execFileSync('mdbook', ['build', join(ROOT, 'docs/book'), '-d', out], { env, stdio: 'pipe' });
  ({ server, url } = await serve(out));
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
  rmSync(out, { recursive: true, force: true });
});

test('the book\'s lab runs, and its button crashes the leader: a new leader follows', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}raft-election.html`);
  await page.waitForFunction(() => /^S\d leads\.$/.test(document.getElementById('said')?.textContent ?? ''), null, { timeout: 30_000 });
  const first = (await page.textContent('#said')).slice(0, 2);
  // The button is below the lab's iframe, out of view. Clicked right as
  // Playwright scrolled it into view, the click went into the lab's iframe
  // (the window lost focus to it, and the button heard nothing, though it
  // was clear of the iframe by then), presumably because the scroll had not
  // been drawn yet. Scroll first and let two frames be drawn, as a reader's
  // click would come.
  await page.locator('#crash-leader').scrollIntoViewIfNeeded();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.click('#crash-leader');
  await page.waitForFunction((l) => document.getElementById('said').textContent === `${l} crashed; an election follows.`, first, { timeout: 10_000 });
  await page.waitForFunction((l) => { const m = document.getElementById('said').textContent.match(/^(S\d) leads\.$/); return m && m[1] !== l; }, first, { timeout: 30_000 });
  assert.deepEqual(errors, []);
  await page.close();
});

// Scrolls a button of the text into view, lets two frames be drawn (see
// above), and clicks it.
async function clickInText(page, selector) {
  await page.locator(selector).scrollIntoViewIfNeeded();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.click(selector);
}

const said = (page, pattern, timeout = 30_000) =>
  page.waitForFunction((p) => new RegExp(p).test(document.getElementById('said').textContent), pattern.source, { timeout });

// Kleppmann's story ("How to do distributed locking", 2016), as the
// chapter tells it: S3's lease runs out while it is paused, the reader
// wakes it, and the storage refuses its write with the old fencing token;
// loaded again without fencing, the same wake-up trips the lab's
// mutual-exclusion checker.
test("the lock chapter: a paused holder's write is refused by fencing, and without fencing the checker stops the run", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}lock-fencing.html`);
  assert.equal(await page.isDisabled('#wake'), true, 'S3 cannot be woken before its lease has run out');
  await said(page, /Wake S3 now/);
  await clickInText(page, '#wake');
  await said(page, /refused S3's write/);
  const fenced = await page.evaluate(() => document.querySelector('cluster-scope').state());
  assert.equal(fenced.violation, null, 'fencing keeps the two holders apart');

  await clickInText(page, '#unfenced');
  await said(page, /Fencing is off/, 10_000);
  await said(page, /Wake S3 now/);
  await clickInText(page, '#wake');
  await said(page, /checker stopped the run: Mutual exclusion/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a malformed block fails the book\'s build with the chapter and line', () => {
  const book = mkdtempSync(join(tmpdir(), 'clusterscope-badbook-'));
  mkdirSync(join(book, 'src'));
  writeFileSync(join(book, 'book.toml'), '[book]\ntitle = "Bad"\n[preprocessor.clusterscope]\nsite = "https://example.org/clusterscope/"\n');
  writeFileSync(join(book, 'src/SUMMARY.md'), '# Summary\n\n- [Bad](bad.md)\n');
  writeFileSync(join(book, 'src/bad.md'), '# Bad\n\n```clusterscope lab=raft\nnodes 0\n```\n');
  const r = spawnSync('mdbook', ['build', book], { env, encoding: 'utf8' });
  rmSync(book, { recursive: true, force: true });
  assert.notEqual(r.status, 0, 'the build fails');
  assert.match(r.stderr, /bad\.md:4: nodes = 0 is out of range/, r.stderr);
});
