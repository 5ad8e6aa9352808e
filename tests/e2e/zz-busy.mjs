import { serve, launch, scenarioLink, ROOT } from './harness.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const { server, url } = await serve();
const browser = await launch();
const text = readFileSync(join(ROOT, 'tests/scenarios/locks/busy-storage-optimistic.scn'), 'utf8');
const link = scenarioLink(text);
for (const [w, h, name] of [[1280, 800, 'laptop'], [390, 844, 'phone']]) {
  const page = await browser.newPage({ viewport: { width: w, height: h } });
  await page.goto(`${url}?view=both#${link}`);
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.dataset.time) === 30_000_000, null, { timeout: 120_000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: `/tmp/zz-busy-${name}.png`, fullPage: false });
  await page.screenshot({ path: `/tmp/zz-busy-${name}-full.png`, fullPage: true });
  const chips = await page.locator('.chips[aria-label="Message kinds"] button').allTextContents();
  console.log(name, chips.join(','));
  await page.close();
}
await browser.close(); server.close();
