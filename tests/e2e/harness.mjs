// Shared by the browser tests and the browser benchmark: serves the built
// site (dist/) on a loopback port and starts headless Chromium through
// playwright-core. Chromium is the system's (Debian's package, or CHROMIUM).
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, extname, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = join(ROOT, 'dist');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml',
};

export async function serve(dist = DIST) {
  const server = createServer(async (req, res) => {
    try {
      let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (path.endsWith('/')) path += 'index.html';
      const file = join(dist, path);
      if (!file.startsWith(dist) || !(await stat(file)).isFile()) throw new Error('not found');
      // Any origin may load the site: a lab embedded in a sandboxed iframe has an
      // opaque origin, and its scripts and wasm are then cross-origin fetches.
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'access-control-allow-origin': '*' });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (p && existsSync(p)) return p;
  }
  throw new Error('Chromium not found: install it (./dev setup does) or set CHROMIUM=/path/to/chrome');
}

export async function launch() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
    // Playwright gives every launch a fresh, empty profile of its own.
  });
}

// The page's virtual time (microseconds), as the app renders it.
export async function virtualTime(page) {
  return Number(await page.locator('[data-time]').first().getAttribute('data-time'));
}

export async function metric(page, name) {
  return page.locator(`[data-metric="${name}"]`).first().textContent();
}

// Plays the run a link fragment holds at `speed` and measures, outside the
// app (on the page's Worker), the messages the worker posts (frames, almost
// all of them) and their bytes, and virtual seconds per wall second.
export async function measureFrames(browser, url, fragment, speed, { warmupMs = 1500, windowMs = 5000 } = {}) {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const Original = window.Worker;
    window.__posted = { count: 0, bytes: 0 };
    window.Worker = class extends Original {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (e) => {
          window.__posted.count += 1;
          window.__posted.bytes += e.data?.byteLength ?? 0;
        });
      }
    };
  });
  await page.goto(`${url}#${fragment}`);
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => Number(document.querySelector('[data-time]')?.getAttribute('data-time')) > 0, null, { timeout: 60_000 });
  await page.getByRole('combobox', { name: 'Speed', exact: true }).selectOption(speed);
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.waitForTimeout(warmupMs);
  const t0 = await virtualTime(page);
  const p0 = await page.evaluate(() => ({ ...window.__posted }));
  await page.waitForTimeout(windowMs);
  const p1 = await page.evaluate(() => ({ ...window.__posted }));
  const t1 = await virtualTime(page);
  await page.close();
  const frames = p1.count - p0.count;
  return {
    fps: frames / (windowMs / 1e3),
    bytesPerFrame: frames ? (p1.bytes - p0.bytes) / frames : 0,
    virtualPerWall: (t1 - t0) / 1e6 / (windowMs / 1e3),
  };
}
