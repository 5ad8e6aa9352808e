// End-to-end tests of the built site in real headless Chromium.
// Expectations come from issue #3 ("what a user must be able to do") and
// DESIGN.md (the worker owns the simulation; the address reproduces the run).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, launch, virtualTime, metric, ROOT } from './harness.mjs';

let server, url, browser;
before(async () => {
  ({ server, url } = await serve());
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

async function open(path = '') {
  const page = await browser.newPage();
  const errors = [];
  const warnings = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.type() === 'warning') warnings.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url + path);
  return { page, errors, warnings };
}

async function waitForTime(page, pred, what) {
  await page.waitForFunction(
    (src) => { const t = Number(document.querySelector('[data-time]')?.getAttribute('data-time')); return new Function('t', `return ${src}`)(t); },
    pred, { timeout: 20_000 },
  ).catch(() => { throw new Error(`timed out waiting for ${what}`); });
}

test('the page loads, the worker runs the simulation, play advances time and pause stops it', async () => {
  const { page, errors, warnings } = await open();
  await waitForTime(page, 't > 0', 'virtual time to advance');
  // The simulation lives in a Web Worker, not on the page's thread: one,
  // the engine's (Tune's pool starts only when a sweep runs).
  assert.equal(page.workers().length, 1, 'exactly one Web Worker was started');
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('10×');
  const t1 = await virtualTime(page);
  await page.waitForTimeout(500);
  assert.ok((await virtualTime(page)) > t1, 'time advances while playing');
  // A leader gets elected on the default scenario (Raft §5.2).
  await page.waitForFunction(() => document.querySelector('[data-metric="leader"]')?.textContent?.startsWith('S'), null, { timeout: 20_000 });
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  const paused = await virtualTime(page);
  await page.waitForTimeout(600);
  assert.equal(await virtualTime(page), paused, 'time stands still while paused');
  await page.getByRole('button', { name: 'Step' }).click();
  await waitForTime(page, `t > ${paused}`, 'a step to advance time');
  assert.deepEqual(errors, [], 'no console errors');
  // Neither the page (its preloads) nor the worker (its start) warns.
  assert.deepEqual(warnings, [], 'no console warnings');
  await page.close();
});

// docs/architecture.md: "a frame is sent only after the page acknowledged
// the previous one, so a slow page is never flooded". Played at full speed,
// the page counts the frames it receives (`data-frames`); its main thread
// is then kept busy for 1.5 s. A worker that did not wait would queue a
// frame every tick meanwhile (about as many as the page takes in 1.5 s
// when free), all handled at once when the page is free again; waiting,
// it has sent one, and then sends one per tick as the page acknowledges
// (about 4 in the 60 ms after, at 60 frames/s): a quarter of the free
// count (at least 10) separates the two with room on any machine.
test('a busy page is never flooded: the worker waits for each frame to be acknowledged', async () => {
  const { page, errors } = await open();
  await waitForTime(page, 't > 0', 'the run to start');
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('10×');
  const frames = () => page.evaluate(() => Number(document.querySelector('[data-frames]').dataset.frames));
  const free0 = await frames();
  await page.waitForTimeout(1500);
  const free = (await frames()) - free0;
  assert.ok(free >= 30, `${free} frames in 1.5 s while the page is free`);
  const busy0 = await frames();
  await page.evaluate(() => { const end = performance.now() + 1500; while (performance.now() < end); });
  await page.waitForTimeout(60);
  const busy = (await frames()) - busy0;
  assert.ok(busy <= Math.max(10, free / 4), `${busy} frames handled right after 1.5 s busy (${free} in 1.5 s free): the worker did not wait`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a copied address reopens the same run at the same virtual time', async () => {
  const { page, errors } = await open();
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('10×');
  await waitForTime(page, 't > 1500000', 'the run to pass 1.5 s');
  // A user action is part of what the link must reproduce.
  await page.getByRole('row', { name: 'S2' }).click();
  await page.getByRole('button', { name: 'Crash S2' }).click();
  await page.getByRole('combobox', { name: 'Block from' }).selectOption('S1');
  await page.getByRole('combobox', { name: 'Block to' }).selectOption('S3');
  await page.getByRole('button', { name: 'Block', exact: true }).click();
  await page.waitForTimeout(400);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  await page.waitForTimeout(300);
  const time = await virtualTime(page);
  const fingerprint = await metric(page, 'fingerprint');
  const address = page.url();
  assert.match(address, /#v1\./, 'the address holds a versioned scenario');
  const again = await open(address.slice(url.length));
  await waitForTime(again.page, `t === ${time}`, 'the reopened run to reach the same time');
  assert.equal(await metric(again.page, 'fingerprint'), fingerprint, 'identical trace');
  assert.match(await again.page.getByRole('row', { name: 'S2' }).textContent(), /crashed/);
  const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
  const recorded = execFileSync(cli, ['decode', address], { encoding: 'utf8' });
  assert.match(recorded, /at [0-9.]+m?s crash S2\n/);
  assert.match(recorded, /at [0-9.]+m?s block S1 S3\n/, 'the one-way cut is recorded in the link');
  assert.deepEqual([...errors, ...again.errors], []);
  await page.close();
  await again.page.close();
});

test('the embed layout shows the cluster and compact controls only', async () => {
  const { page, errors } = await open('?embed=1');
  await page.locator('.embed canvas.cluster').waitFor();
  assert.equal(await page.locator('header').count(), 0, 'no page chrome');
  assert.equal(await page.locator('.eventlog').count(), 0);
  await page.getByRole('button', { name: /Play|Pause/ }).waitFor();
  await waitForTime(page, 't > 0', 'the embedded run to play');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a broken link shows a clear message, and a broken link pasted later keeps the current run', async () => {
  const { page } = await open('#v1.this-is-not-a-scenario');
  await page.getByRole('alert').filter({ hasText: 'damaged' }).waitFor();
  const { page: p2 } = await open();
  await waitForTime(p2, 't > 0', 'the run to start');
  await p2.getByRole('button', { name: 'Pause', exact: true }).click();
  await p2.getByRole('button', { name: 'Play', exact: true }).waitFor();
  const before = await metric(p2, 'fingerprint');
  const time = await virtualTime(p2);
  await p2.evaluate(() => { location.hash = 'v9.abc'; });
  await p2.getByRole('alert').filter({ hasText: 'different version' }).waitFor();
  assert.equal(await metric(p2, 'fingerprint'), before, 'the current run is kept');
  assert.equal(await virtualTime(p2), time);
  await page.close();
  await p2.close();
});

test('bad input in a control gets a message, not a crash, and is refused', async () => {
  const { page, errors } = await open();
  await waitForTime(page, 't > 0', 'the run to start');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  const loss = page.getByRole('textbox', { name: 'Loss (%)' });
  const before = await loss.inputValue();
  const address = page.url();
  await loss.fill('250%');
  await loss.press('Enter');
  await loss.blur();
  await page.getByRole('alert').filter({ hasText: 'between 0% and 100%' }).waitFor();
  // Refused, not only reported: the field shows the loss in force again and
  // the link (which records every setting changed) is unchanged.
  assert.equal(await loss.inputValue(), before, 'the old loss is kept');
  assert.equal(page.url(), address, 'no 250% loss was recorded');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a live field refuses bad input as Setup does: a message, and the value in force is kept', async () => {
  const { page, errors } = await open();
  await waitForTime(page, 't > 0', 'the run to start');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  const latency = page.getByRole('textbox', { name: 'Latency, min (ms)' });
  const before = await latency.inputValue();
  const address = page.url();
  await latency.fill('banana');
  await latency.press('Enter');
  await latency.blur();
  await page.getByRole('alert').filter({ hasText: "'banana' is not a valid value" }).waitFor();
  assert.equal(await latency.inputValue(), before, 'the field shows the value in force again');
  assert.equal(page.url(), address, 'the link records no change');
  // A good value is still taken, and shown.
  await latency.fill('20ms');
  await latency.press('Enter');
  await page.waitForFunction((a) => location.href !== a, address, { timeout: 10_000 });
  assert.equal(await page.getByRole('textbox', { name: 'Latency, min (ms)' }).inputValue(), '20ms');
  assert.deepEqual(errors, []);
  await page.close();
});

// DESIGN.md principle 1: the same scenario gives the same trace natively and
// in wasm. Each scenario file runs in the CLI (native) and in the browser's
// worker (wasm) and the fingerprints must match.
test('every scenario file has the same fingerprint natively and in the browser', async () => {
  const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
  // Every lab's folder: a lab registered in the core brings its own files.
  const files = readdirSync(join(ROOT, 'tests/scenarios')).flatMap((lab) =>
    readdirSync(join(ROOT, 'tests/scenarios', lab)).filter((f) => f.endsWith('.scn')).map((f) => join(lab, f)));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const file = join(ROOT, 'tests/scenarios', f);
    // A run that ends in a violation (bug-*.scn) exits 1 but still prints its fingerprint.
    const run = spawnSync(cli, ['run', file, '--fingerprint'], { encoding: 'utf8' });
    assert.ok(run.status === 0 || (run.status === 1 && f.includes('bug-')), `${f}: ${run.stderr}`);
    const native = run.stdout.trim();
    const fragment = execFileSync(cli, ['link', file], { encoding: 'utf8' }).trim();
    const page = await browser.newPage();
    await page.goto(`${url}#${fragment}`);
    await page.waitForFunction(
      (fp) => document.querySelector('[data-metric="fingerprint"]')?.textContent === fp, native, { timeout: 30_000 },
    ).catch(async () => {
      throw new Error(`${f}: native ${native}, browser ${await metric(page, 'fingerprint')}`);
    });
    await page.close();
  }
});

// Issue #5: adding a server to a consistent-hash ring moves about 1/(n+1) of
// the keys (Karger et al.); the change is recorded in the link.
test('the ring lab: add and fail servers, see what moved, compare algorithms, share it', async () => {
  const { page, errors } = await open();
  await page.getByRole('button', { name: 'Ring' }).click();
  await page.getByRole('table', { name: 'Servers' }).waitFor();
  assert.equal(await page.getByRole('table', { name: 'Servers' }).locator('tbody tr').count(), 8);
  await page.getByRole('button', { name: 'Add server' }).click();
  await page.getByRole('row', { name: 'S9' }).waitFor();
  const moved = Number(await page.locator('[data-metric="moved"]').getAttribute('data-value'));
  assert.ok(moved > 0.07 && moved < 0.16, `moved ${moved}, ideal 1/9`);
  const lookup = page.getByRole('textbox', { name: 'Key to look up' });
  await lookup.fill('user:42');
  await lookup.press('Enter');
  await page.locator('output[aria-label="Key\'s servers"]').filter({ hasText: /^user:42 → S\d+$/ }).waitFor();
  await page.getByRole('button', { name: 'Fail S3' }).click();
  await page.getByRole('button', { name: 'Recover S3' }).waitFor();
  // The lab's experiment, on the run so far (the same code as `clusterscope exp ring compare`).
  await page.getByRole('button', { name: 'Results', exact: true }).click();
  await page.getByRole('button', { name: 'Run compare', exact: true }).click();
  const modulo = page.getByRole('table', { name: 'compare' }).getByRole('row', { name: 'modulo' });
  await modulo.waitFor();
  // Modulo renumbers servers: a change moves most keys (the baseline).
  const movedModulo = Number(await modulo.locator('td[data-column="moved"]').getAttribute('data-value'));
  assert.ok(movedModulo > 50, `modulo moved ${movedModulo}%`);
  // Placement has no clock: the lab shows no play, speed or time slider.
  assert.equal(await page.getByRole('button', { name: 'Play', exact: true }).count(), 0);
  assert.equal(await page.getByRole('slider', { name: 'Time travel' }).count(), 0);
  // Back to the drawing (the view is in the address too).
  await page.getByRole('button', { name: 'Cluster', exact: true }).click();
  await page.waitForTimeout(300);
  const fingerprint = await metric(page, 'fingerprint');
  const again = await open(page.url().slice(url.length));
  await again.page.getByRole('row', { name: 'S9' }).waitFor();
  assert.equal(await metric(again.page, 'fingerprint'), fingerprint);
  assert.ok(await again.page.getByRole('button', { name: 'Recover S3' }).isVisible());
  assert.deepEqual([...errors, ...again.errors], []);
  await page.close();
  await again.page.close();
});

// DESIGN.md principle 3 and issue #4: a violation stops the run at that event
// and names the invariant, the time and the seed, live in the browser.
test('a deliberate bug is caught live: the run stops and the invariant is named', async () => {
  const { page, errors } = await open();
  await waitForTime(page, 't > 0', 'the run to start');
  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('Figure 8 with a deliberate bug: watch a checker stop it');
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('max');
  const alert = page.getByRole('alert').filter({ hasText: 'Invariant violated' });
  await alert.waitFor({ timeout: 20_000 });
  assert.match(await alert.textContent(), /Leader Completeness violated at 1\.603414s \(seed 8\)/);
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Play', exact: true }).isDisabled(), 'a stopped run cannot play on');
  assert.deepEqual(errors, []);
  await page.close();
});

// Issue 9: the Paxos lab on the shared boundary: its rounds are visible and
// measured, dueling proposers without back-off livelock ("Paxos Made
// Simple" section 2.4), the deliberate bug is caught live by the checker
// named after the rule it breaks (P2c), and Paxos runs beside Raft.
test('the paxos lab: a livelock, a bug caught live, and Paxos beside Raft', async () => {
  const { page, errors } = await open();
  await page.getByRole('button', { name: 'Paxos' }).click();
  await page.getByRole('table', { name: 'Nodes' }).waitFor();
  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('Dueling proposers without back-off: livelock');
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('max');
  await page.waitForFunction(() => Number(document.querySelector('[data-metric="rounds"]')?.getAttribute('data-value')) >= 20, null, { timeout: 20_000 });
  assert.equal(await page.locator('[data-metric="learned"]').getAttribute('data-value'), '0', 'nobody learns a value while they duel');

  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('The deliberate bug: a proposer ignores promises');
  const alert = page.getByRole('alert').filter({ hasText: 'Invariant violated' });
  await alert.waitFor({ timeout: 20_000 });
  assert.match(await alert.textContent(), /Proposer Adopts Reported Value violated at .* \(seed 4\)/);

  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('Paxos beside Raft: a leader crash under load');
  // At maximum speed the run stops at the file's end, 8 s (docs/using.md),
  // so the page runs beside on what the file describes.
  await page.getByRole('combobox', { name: 'Speed' }).selectOption('max');
  await waitForTime(page, 't >= 8000000', 'the run to reach 8 s');
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  assert.equal(await virtualTime(page), 8_000_000, 'paused at the end of the file');
  await page.getByRole('button', { name: 'Results', exact: true }).click();
  await page.getByRole('button', { name: 'Run beside', exact: true }).click();
  const table = page.getByRole('table', { name: 'beside' });
  await table.getByRole('row', { name: 'Raft', exact: true }).waitFor({ timeout: 20_000 });
  // Every figure shown equals the CLI's for the same file (`clusterscope exp
  // paxos beside FILE --json`, the native engine): committed, requests,
  // messages per command, p50, p99, time without a leader, leaders, batch.
  const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
  const native = JSON.parse(execFileSync(cli, ['exp', 'paxos', 'beside', join(ROOT, 'tests/scenarios/paxos/beside-raft.scn'), '--json'], { encoding: 'utf8' }));
  assert.equal(native.rows.length, 2);
  for (const row of native.rows) {
    const shown = table.getByRole('row', { name: row[0], exact: true });
    for (const [i, column] of native.columns.entries()) {
      if (i === 0) continue;
      const cell = shown.locator(`td[data-column="${column.name}"]`);
      assert.equal(Number(await cell.getAttribute('data-value')), row[i], `${row[0]}, ${column.name}`);
      assert.equal((await cell.textContent()).trim(), row[i].toFixed(column.kind.number.digits), `${row[0]}, ${column.name} as shown`);
    }
  }
  assert.deepEqual(errors, []);
  await page.close();
});

// Issue 10: the Load-balancing lab on the shared boundary. Linkerd's
// experiment ("Beyond Round Robin", 2016): one server slowed to a twentieth;
// on the same traffic, round robin keeps sending it its share and loses
// requests, while peak EWMA learns to avoid it.
test('the load-balancing lab: a slow server, and every policy on the same traffic', async () => {
  const { page, errors } = await open();
  await page.getByRole('button', { name: 'Load balancing' }).click();
  await page.getByRole('table', { name: 'Nodes' }).waitFor();
  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('One slow server (the Linkerd experiment)');
  await page.getByRole('combobox', { name: 'Speed', exact: true }).selectOption('max');
  await waitForTime(page, 't >= 22000000', 'the run to reach 22 s');
  await page.getByRole('button', { name: 'Results', exact: true }).click();
  await page.getByRole('button', { name: 'Run policies', exact: true }).click();
  const table = page.getByRole('table', { name: 'policies' });
  await table.getByRole('row', { name: 'peak_ewma' }).waitFor({ timeout: 30_000 });
  const success = async (p) => Number(await table.getByRole('row', { name: p, exact: true }).locator('td[data-column="success"]').getAttribute('data-value'));
  const rr = await success('round_robin');
  const ewma = await success('peak_ewma');
  assert.ok(ewma > rr, `peak EWMA ${ewma} should beat round robin ${rr}`);
  assert.deepEqual(errors, []);
  await page.close();
});

// Issue 12 (Tune): a sweep over seeds in the browser, on a pool of Web
// Workers, gives exactly the numbers `clusterscope sweep` gives for the same
// template (runs are sorted before they are summarised).
test('tune: a sweep on several workers equals the command line', async () => {
  const { page, errors } = await open();
  await page.getByRole('combobox', { name: 'Speed', exact: true }).selectOption('10×');
  await waitForTime(page, 't > 2000000', 'the run to pass 2 s');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  await page.waitForTimeout(300);
  // Tune lives in the results view.
  await page.getByRole('button', { name: 'Results', exact: true }).click();
  await page.getByRole('combobox', { name: 'Tune parameter', exact: true }).selectOption('election_timeout_max');
  const fill = async (name, v) => { const f = page.getByRole('textbox', { name, exact: true }); await f.fill(v); await f.press('Tab'); };
  await fill('Tune values', '200ms,400ms');
  await page.getByRole('combobox', { name: 'Tune metric', exact: true }).selectOption('elections');
  await page.getByRole('combobox', { name: 'Tune also', exact: true }).selectOption('leaderless');
  await fill('Tune seeds', '24');
  await fill('Tune workers', '2');
  // The search: the setting with the fewest elections (median).
  await page.getByRole('combobox', { name: 'Tune goal', exact: true }).selectOption('minimise');
  await page.getByRole('button', { name: 'Run sweep' }).click();
  const table = page.getByRole('table', { name: 'Sweep results' });
  await table.getByRole('row', { name: '400ms' }).waitFor({ timeout: 60_000 });
  const browser = [];
  for (const v of ['200ms', '400ms']) {
    const row = table.getByRole('row', { name: v });
    browser.push([Number(await row.locator('td').nth(0).textContent()), Number(await row.locator('td').nth(2).getAttribute('data-value'))]);
  }
  const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
  // Each run goes to the scenario's end (the default preset's until, 3 s),
  // not to where the run was paused: the link holds the moment (2 s).
  assert.match(await page.getByLabel('Tune template').textContent(), /each run from 0 to 3s \(the scenario's until\)/);
  const template = execFileSync(cli, ['decode', page.url()], { encoding: 'utf8' }).replace(/^until .*$/m, 'until 3s');
  // The sweep travels in the link: a colleague opening it gets the same form.
  assert.match(template, /tune param election_timeout_max=200ms,400ms\ntune seeds 24\ntune metric elections\ntune metric leaderless\ntune minimise elections\n/);
  assert.equal(await page.getByRole('table', { name: 'Sweep other metrics' }).locator('tbody tr').count(), 2, 'the second metric, per point');
  const again = await open(page.url().slice(url.length));
  await again.page.getByRole('button', { name: 'Results', exact: true }).click();
  await again.page.getByRole('textbox', { name: 'Tune values', exact: true }).waitFor();
  await again.page.waitForFunction(() => document.querySelector('input[aria-label="Tune values"]')?.value === '200ms,400ms', null, { timeout: 20_000 });
  assert.equal(await again.page.getByRole('textbox', { name: 'Tune seeds', exact: true }).inputValue(), '24');
  await again.page.close();
  const file = join(tmpdir(), `clusterscope-tune-${process.pid}.scn`);
  writeFileSync(file, template);
  const csv = execFileSync(cli, ['sweep', file, '--param', 'election_timeout_max=200ms,400ms', '--seeds', '24', '--metric', 'elections', '--csv'], { encoding: 'utf8' });
  const native = csv.trim().split('\n').slice(1).map((l) => { const c = l.split(','); return [Number(c[1]), Number(c[4])]; });
  assert.deepEqual(browser, native, `browser ${JSON.stringify(browser)} vs CLI ${JSON.stringify(native)}`);
  const best = execFileSync(cli, ['sweep', file, '--param', 'election_timeout_max=200ms,400ms', '--seeds', '24', '--metric', 'elections', '--minimise', 'elections'], { encoding: 'utf8' });
  const value = best.match(/best: election_timeout_max=(\S+)/)[1];
  assert.equal((await page.getByLabel('Best setting').textContent()).trim(), `Best: election_timeout_max = ${value}`);
  assert.deepEqual(errors, []);
  await page.close();
});

// Issue 12: cancelling a sweep stops every worker of the pool (the page's
// own simulation worker stays).
test('tune: cancel stops every worker of the pool', async () => {
  const { page, errors } = await open();
  await waitForTime(page, 't > 500000', 'the run to pass 0.5 s');
  const before = page.workers().length;
  await page.getByRole('button', { name: 'Results', exact: true }).click();
  const fill = async (name, v) => { const f = page.getByRole('textbox', { name, exact: true }); await f.fill(v); await f.press('Tab'); };
  await page.getByRole('combobox', { name: 'Tune parameter', exact: true }).selectOption('election_timeout_max');
  await fill('Tune values', '200ms..400ms:10ms');
  await fill('Tune seeds', '100000');
  await fill('Tune workers', '2');
  await page.getByRole('button', { name: 'Run sweep' }).click();
  await page.getByRole('button', { name: 'Cancel' }).waitFor();
  await page.waitForTimeout(500);
  assert.equal(page.workers().length, before + 2, 'two pool workers run');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Run sweep' }).waitFor();
  for (let i = 0; i < 50 && page.workers().length > before; i++) await page.waitForTimeout(100);
  assert.equal(page.workers().length, before, 'the pool is gone');
  assert.deepEqual(errors, []);
  await page.close();
});
