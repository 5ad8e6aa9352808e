// Tune in the browser: 1,000 seeded Raft elections, Figure 16's 150-300 ms
// line (tests/scenarios/raft/figure-16.scn, election_timeout_max = 300 ms,
// metric election_after_crash) on one Web Worker and on as many as the
// machine has cores; the same sweep natively with --jobs 1 and every core.
// Run by ./dev bench.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { serve, launch, ROOT } from './harness.mjs';

const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
const file = join(ROOT, 'tests/scenarios/raft/figure-16.scn');
const fragment = execFileSync(cli, ['link', file], { encoding: 'utf8' }).trim();
const { server, url } = await serve();
const browser = await launch();
try {
  const cores = await (await browser.newPage()).evaluate(() => navigator.hardwareConcurrency);
  for (const workers of [1, cores]) {
    const page = await browser.newPage();
    await page.goto(`${url}#${fragment}`);
    await page.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.getAttribute('data-time')) > 0);
    await page.getByRole('button', { name: 'Results', exact: true }).click();
    await page.getByRole('combobox', { name: 'Tune parameter', exact: true }).selectOption('election_timeout_max');
    const fill = async (name, v) => { const f = page.getByRole('textbox', { name, exact: true }); await f.fill(v); await f.press('Tab'); };
    await fill('Tune values', '300ms');
    await page.getByRole('combobox', { name: 'Tune metric', exact: true }).selectOption('election_after_crash');
    await fill('Tune seeds', '1000');
    await fill('Tune workers', String(workers));
    await page.getByRole('button', { name: 'Run sweep' }).click();
    const done = page.locator('.tune .note', { hasText: 'runs in' });
    await done.waitFor({ timeout: 120_000 });
    console.log(`browser, ${workers} worker(s): ${(await done.textContent()).trim()}`);
    await page.close();
  }
  for (const jobs of [1, cores]) {
    const t0 = process.hrtime.bigint();
    execFileSync(cli, ['sweep', file, '--param', 'election_timeout_max=300ms', '--seeds', '1000', '--metric', 'election_after_crash', '--jobs', String(jobs)], { stdio: 'ignore' });
    console.log(`native, --jobs ${jobs}: ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2)} s`);
  }
} finally {
  await browser.close();
  server.close();
}
