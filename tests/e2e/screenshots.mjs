// Screenshots of every lab in both themes, at a laptop's and a phone's size,
// into docs/screenshots/ (`./dev screenshots`, after a release build into
// dist/). Each lab is opened from its tab, run for a few seconds of virtual
// time at 10x, then paused, so the pictures show a cluster at work.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { serve, launch, virtualTime, ROOT } from './harness.mjs';

const OUT = process.argv[2] ?? join(ROOT, 'docs/screenshots');
const SIZES = [
  { name: 'laptop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];
const THEMES = ['dark', 'light'];

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

async function shoot(browser, url, size, theme, only) {
  const context = await browser.newContext({
    viewport: { width: size.width, height: size.height },
    colorScheme: theme,
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('[data-time]');
  // The tabs come with the worker's catalog, after the first paint.
  await page.locator('nav[aria-label="Labs"] button').first().waitFor();
  const labs = await page.locator('nav[aria-label="Labs"] button').allTextContents();
  const files = [];
  for (const lab of labs) {
    if (only && slug(lab) !== only) continue;
    const tab = page.locator('nav[aria-label="Labs"] button', { hasText: lab });
    await tab.click();
    // Each lab's engine is a worker of its own: wait until it runs the lab.
    await page.locator('nav[aria-label="Labs"] button[aria-current="page"]', { hasText: lab }).waitFor();
    await page.locator('#engine-loading').waitFor({ state: 'detached' });
    const speed = page.getByRole('combobox', { name: 'Speed', exact: true });
    // The Ring lab has no clock: it is drawn as it is.
    if (!(await speed.count())) {
      await page.waitForTimeout(500);
      const file = join(OUT, `${slug(lab)}-${theme}-${size.name}.png`);
      await page.screenshot({ path: file });
      files.push(file);
      continue;
    }
    await speed.selectOption('10×');
    const t0 = await virtualTime(page);
    const play = page.getByRole('button', { name: 'Play', exact: true });
    if (await play.count()) await play.click();
    await page
      .waitForFunction((t) => Number(document.querySelector('[data-time]').dataset.time) > t + 3e6, t0, { timeout: 30_000 })
      .catch(() => console.error(`${lab}: the run did not reach 3 s in 30 s of waiting`));
    const pause = page.getByRole('button', { name: 'Pause', exact: true });
    if (await pause.count()) await pause.click();
    await page.waitForTimeout(300);
    const file = join(OUT, `${slug(lab)}-${theme}-${size.name}.png`);
    await page.screenshot({ path: file });
    files.push(file);
  }
  await context.close();
  return files;
}

await mkdir(OUT, { recursive: true });
const { server, url } = await serve();
const browser = await launch();
try {
  for (const size of SIZES) {
    for (const theme of THEMES) {
      for (const file of await shoot(browser, url, size, theme, process.env.LAB)) console.log(file);
    }
  }
} finally {
  await browser.close();
  server.close();
}
