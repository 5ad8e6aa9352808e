import { serve, launch } from './harness.mjs';
const { server, url } = await serve();
const browser = await launch();
for (const [w, h] of [[1280, 800], [390, 844]]) {
  const page = await browser.newPage({ viewport: { width: w, height: h } });
  await page.goto(url);
  await page.getByRole('combobox', { name: 'Preset scenario' }).selectOption('Leader crash and re-election');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  const slider = page.getByRole('slider', { name: 'Time travel' });
  await slider.evaluate((el) => { el.value = '2300000'; el.dispatchEvent(new Event('change', { bubbles: true })); });
  await page.waitForFunction(() => document.querySelector('[data-time]')?.dataset.time === '2300000');
  await page.waitForTimeout(500);
  await page.screenshot({ path: `/tmp/stories-shots/cluster-${w}.png` });
  await page.getByRole('button', { name: 'Both' }).click();
  await page.waitForTimeout(800);
  await page.screenshot({ path: `/tmp/stories-shots/both-${w}.png` });
  await page.getByRole('button', { name: 'Diagram' }).click();
  await page.waitForTimeout(800);
  await page.screenshot({ path: `/tmp/stories-shots/diagram-${w}.png` });
  await page.locator('.timeline').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `/tmp/stories-shots/timeline-${w}.png` });
  await page.close();
}
await browser.close(); server.close();
