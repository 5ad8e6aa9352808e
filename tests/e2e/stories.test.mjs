// Browser tests of presets as stories and scripted runs, in real headless
// Chromium. Expectations come from issue 18 ("Stories", "Scripted and
// recorded actions", and its list of tests that must exist): a caption
// appears at its time, is in the link and reaches an embedding page as an
// event; crashing a server during "Leader crash" keeps the scripted restart
// and the link replays both; choosing a preset shows its paragraph and its
// speed; a malformed `say` line is refused with its line number.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { seekTo, serve, launch, virtualTime, ROOT } from './harness.mjs';

const CLI = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
let server, url, browser;
before(async () => {
  ({ server, url } = await serve());
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

async function open(path = '', viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url + path);
  await page.locator('[data-fingerprint]').first().waitFor({ timeout: 60_000 });
  return { page, errors };
}

function cli(args, input) {
  const file = join(tmpdir(), `stories-${process.pid}-${Math.random().toString(36).slice(2)}.scn`);
  if (input !== undefined) writeFileSync(file, input);
  return execFileSync(CLI, input === undefined ? args : [...args, file], { encoding: 'utf8' });
}

const fragment = (page) => page.evaluate(() => location.hash.slice(1));
const caption = (page) => page.getByRole('status', { name: 'Caption' });

// Waits until time and fingerprint stop changing.
async function settled(page) {
  let last = '';
  for (let i = 0; i < 60; i++) {
    const now = `${await virtualTime(page)} ${await page.locator('[data-fingerprint]').first().getAttribute('data-fingerprint')}`;
    if (now === last) return now;
    last = now;
    await page.waitForTimeout(150);
  }
  throw new Error('the page did not settle');
}

// Two captions, one with a '#' and quotes inside, on a short Raft run.
const TOLD = 'lab raft\nseed 3\nspeed 1\nat 300ms say "The first caption."\n' +
  'at 600ms say "Then S2 says \\"vote for me\\" # not a comment"\nuntil 1s\n';

test('a caption appears at its time, moves with time travel, is in the link, and reaches an embedding page', async () => {
  const link = cli(['link'], TOLD).trim();
  // The page, embedded in a documentation page that records the events.
  const host = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await host.setContent('<!doctype html><title>A course page</title><p>Watch the story.</p>');
  await host.evaluate((src) => {
    window.heard = [];
    window.addEventListener('message', (e) => {
      if (e.source === document.getElementById('story')?.contentWindow && e.data?.api === 'clusterscope' && e.data.type === 'event') {
        window.heard.push(e.data);
      }
    });
    const f = document.createElement('iframe');
    f.id = 'story';
    f.src = src;
    f.style = 'width: 390px; height: 600px';
    document.body.append(f);
  }, `${url}?embed=1&controls=full#${link}`);
  const lab = host.frameLocator('#story');
  await lab.locator('[data-fingerprint]').first().waitFor({ timeout: 60_000 });
  // Opened at 1 s: the second caption is in force, with its quotes and '#'.
  const band = lab.getByRole('status', { name: 'Caption' });
  await band.filter({ hasText: 'Then S2 says "vote for me" # not a comment' }).waitFor({ timeout: 20_000 });
  await host.waitForFunction(() => window.heard.some((m) => m.event === 'caption' && m.at === 0.6));
  // Back to the start: no caption yet; then playing reaches the first one at 300 ms.
  // At speed 1 it is on screen for 300 ms of wall time only, while a locator's
  // wait looks every 500 ms once it has waited 270 ms: the page records every
  // text the band shows, with the run's time then, so none can slip between looks.
  const frame = host.frames().find((f) => f.url().includes('embed=1'));
  await frame.evaluate(() => {
    const root = document.querySelector('[data-time]');
    window.shownCaptions = [];
    new MutationObserver(() => {
      const text = root.querySelector('[aria-label="Caption"]')?.textContent ?? '';
      if (text !== window.shownCaptions.at(-1)?.text) window.shownCaptions.push({ text, time: Number(root.dataset.time) });
    }).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await lab.getByRole('button', { name: 'Reset' }).click();
  await lab.locator('[data-time="0"]').first().waitFor();
  assert.doesNotMatch(await band.innerText(), /first caption/);
  await lab.getByRole('button', { name: 'Play', exact: true }).click();
  const first = await frame.waitForFunction(() => window.shownCaptions.find((c) => c.text === 'The first caption.'), null, { timeout: 20_000 });
  const shownAt = (await first.jsonValue()).time;
  assert.ok(shownAt >= 300_000, `shown at ${shownAt} µs, not before its time`);
  await host.waitForFunction(() => window.heard.some((m) => m.event === 'caption' && m.text === 'The first caption.' && m.at === 0.3 && m.time >= 0.3));
  await host.close();

  // The full page: the captions are ticks on the slider and in the link;
  // '[' and ']' go from caption to caption.
  const { page } = await open(`#${link}`);
  await caption(page).filter({ hasText: 'vote for me' }).waitFor();
  assert.equal(await page.locator('.tick-caption').count(), 2);
  // From 1 s, the previous caption is the one in force (at 600 ms), then the first.
  await page.keyboard.press('[');
  await page.waitForFunction(() => document.querySelector('[data-time]')?.dataset.time === '600000');
  await page.keyboard.press('[');
  await page.waitForFunction(() => document.querySelector('[data-time]')?.dataset.time === '300000');
  await caption(page).filter({ hasText: 'The first caption.' }).waitFor();
  await page.keyboard.press(']');
  await page.waitForFunction(() => document.querySelector('[data-time]')?.dataset.time === '600000');
  await caption(page).filter({ hasText: 'vote for me' }).waitFor();
  const text = cli(['decode', await fragment(page)]);
  assert.match(text, /^at 300ms say "The first caption\."$/m);
  assert.match(text, /^at 600ms say "Then S2 says \\"vote for me\\" # not a comment"$/m);
  assert.match(text, /^speed 1$/m);
  await page.close();
});

// The report, step by step: pick "Leader crash", crash S5 at about
// 4.6 s. The preset's `at 5s restart S1` must still happen, and the address
// must hold both, replaying to the page's fingerprint.
test('crash a server during "Leader crash": the scripted restart still happens, and the link replays both', async () => {
  const { page } = await open();
  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('Leader crash and re-election');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await seekTo(page, 4_600_000);
  await page.getByRole('row', { name: 'S5' }).click();
  await page.getByRole('button', { name: 'Crash S5' }).click();
  await page.getByRole('status', { name: 'Script' }).filter({ hasText: '5s restart S1' }).waitFor();
  // Both scripted actions and the user's are ticks on the time slider.
  await page.waitForFunction(() => document.querySelectorAll('.tick-action').length === 3);
  await seekTo(page, 7_000_000);
  await settled(page);
  assert.doesNotMatch(await page.getByRole('row', { name: 'S1' }).getAttribute('class'), /crashed/, 'the script restarted S1');
  assert.match(await page.getByRole('row', { name: 'S5' }).getAttribute('class'), /crashed/);
  const text = cli(['decode', await fragment(page)]);
  assert.match(text, /at 2s crash S1\nat 2s say[^\n]*\n(at [^\n]*say[^\n]*\n)*at 4600ms crash S5\nat 5s restart S1\n/, text);
  const native = cli(['run', '--fingerprint'], text).trim();
  assert.equal(await page.locator('[data-fingerprint]').first().getAttribute('data-fingerprint'), native);
  await page.close();
});

test('Take over drops the rest of the script; acting in the past starts a branch that says what it dropped, with Undo', async () => {
  const { page } = await open();
  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('Leader crash and re-election');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await seekTo(page, 1_000_000);
  await page.getByRole('button', { name: 'Take over' }).click();
  await page.getByRole('status').filter({ hasText: 'Taken over at 1s: 2 scripted actions dropped.' }).waitFor();
  assert.doesNotMatch(cli(['decode', await fragment(page)]), /crash S1|restart S1/);
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('status', { name: 'Script' }).filter({ hasText: '2s crash S1' }).waitFor();
  // Played to 6 s, back to 3 s, crash S5: a branch; the restart at 5 s goes.
  await seekTo(page, 6_000_000);
  await seekTo(page, 3_000_000);
  await page.getByRole('row', { name: 'S5' }).click();
  await page.getByRole('button', { name: 'Crash S5' }).click();
  await page.getByRole('status').filter({ hasText: 'A branch at 3s: 1 later action dropped.' }).waitFor();
  const branch = await fragment(page);
  assert.doesNotMatch(cli(['decode', branch]), /restart S1/);
  await page.getByRole('button', { name: 'Undo' }).click();
  // Back at 3 s, the run as it was: the address changes back.
  await page.getByRole('status', { name: 'Script' }).filter({ hasText: '5s restart S1' }).waitFor();
  await page.waitForFunction((b) => location.hash.slice(1) !== b, branch);
  assert.equal(await virtualTime(page), 3_000_000);
  const back = cli(['decode', await fragment(page)]);
  assert.match(back, /at 5s restart S1/);
  assert.doesNotMatch(back, /crash S5/);
  await page.close();
});

test('choosing a preset shows its opening paragraph, and its speed sets the speed control', async () => {
  const { page } = await open();
  const story = page.getByRole('note', { name: 'About this scenario' });
  const speed = page.getByRole('combobox', { name: 'Speed', exact: true });
  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('Split vote');
  await story.filter({ hasText: 'Split vote (Raft §5.2): with a narrow election timeout range' }).waitFor();
  await page.waitForFunction(() => document.querySelector('select[aria-label="Speed"]').value === '0.1×');
  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('Leader crash and re-election');
  await story.filter({ hasText: 'Leader crash and re-election (Raft §5.2)' }).waitFor();
  await page.waitForFunction(() => document.querySelector('select[aria-label="Speed"]').value === '0.25×');
  assert.equal(await speed.inputValue(), '0.25×');
  // The reader may close it.
  await page.getByRole('button', { name: 'Close the story' }).click();
  await story.waitFor({ state: 'detached' });
  await page.close();
});

test('a malformed caption is refused with its line number, and the run is kept', async () => {
  const { page } = await open();
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await settled(page);
  const before = await page.locator('[data-fingerprint]').first().getAttribute('data-fingerprint');
  const bad = 'lab raft\nseed 3\nat 1s say "The leader crashes.\nuntil 2s\n';
  const link = `v1.${deflateRawSync(Buffer.from(bad)).toString('base64url')}`;
  await page.evaluate((l) => { location.hash = l; }, link);
  const alert = page.getByRole('alert').filter({ hasText: 'line 3: the caption has no closing double quote' });
  await alert.waitFor({ timeout: 20_000 });
  assert.match(await alert.innerText(), /The current run was kept/);
  assert.equal(await page.locator('[data-fingerprint]').first().getAttribute('data-fingerprint'), before);
  await page.close();
});
