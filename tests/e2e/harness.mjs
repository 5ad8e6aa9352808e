// Shared by the browser tests and the browser benchmark: serves the built
// site (dist/) on a loopback port and starts headless Chromium through
// playwright-core. Chromium is the system's (Debian's package, or CHROMIUM).
import { chromium } from 'playwright-core';
import { before, after } from 'node:test';
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join, extname, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = join(ROOT, 'dist');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml',
};

// The headers `trunk serve` (./dev serve) sends, from Trunk.toml's
// [serve.headers] table: this server sends the same, so the tests run against
// what a developer serves (one source of truth). Reads only that table's
// `"Name" = "value"` lines.
export async function serveHeaders() {
  const headers = {};
  let inTable = false;
  for (const raw of (await readFile(join(ROOT, 'Trunk.toml'), 'utf8')).split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) { inTable = line === '[serve.headers]'; continue; }
    if (!inTable || line === '' || line.startsWith('#')) continue;
    const m = line.match(/^"([^"]+)"\s*=\s*"([^"]*)"$/) ?? line.match(/^([A-Za-z0-9-]+)\s*=\s*"([^"]*)"$/);
    if (!m) throw new Error(`Trunk.toml [serve.headers]: cannot read ${line}`);
    headers[m[1].toLowerCase()] = m[2];
  }
  return headers;
}

// `onRequest(path)`, if given, hears the path of every request the server
// answers (what the browser really downloaded, whatever its own log says).
export async function serve(dist = DIST, { onRequest } = {}) {
  const extra = await serveHeaders();

  const server = createServer(async (req, res) => {
    try {
      let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      onRequest?.(path);
      if (path.endsWith('/')) path += 'index.html';
      const file = join(dist, path);
      if (!file.startsWith(dist) || !(await stat(file)).isFile()) throw new Error('not found');
      // Trunk.toml's headers: any origin may load the site, since a lab embedded in
      // a sandboxed iframe has an opaque origin and its loads are cross-origin.
      res.writeHead(200, { ...extra, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
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

// The share link (its fragment) of a scenario given as text, made by the
// CLI (CLUSTERSCOPE_CLI, or the release build), as a user's "Copy link"
// would reopen it.
export function scenarioLink(text) {
  const cli = process.env.CLUSTERSCOPE_CLI ?? join(ROOT, 'target/release/clusterscope');
  const file = join(tmpdir(), `scenario-${process.pid}-${Math.random().toString(36).slice(2)}.scn`);
  writeFileSync(file, text);
  return execFileSync(cli, ['link', file], { encoding: 'utf8' }).trim();
}

/** The site and a browser for one test file's tests: served and launched
 * before them, closed after them. Read `site.url` and `site.browser`
 * inside the tests. */
export function useSite() {
  const site = {};
  before(async () => {
    ({ server: site.server, url: site.url } = await serve());
    site.browser = await launch();
  });
  after(async () => {
    await site.browser?.close();
    site.server?.close();
  });
  return site;
}

/** Opens `path` of the site in a new page (of `context`, if given),
 * collecting the console's errors, and waits for the drawing `drawing`
 * (the cluster's by default). A page opened in the diagram view shows the
 * cluster only until the worker's first answer says the lab has a
 * diagram, perhaps for no frame at all, so it waits for the diagram. */
export async function openPage(site, path, { viewport = { width: 1280, height: 800 }, context = null, drawing = 'canvas.cluster' } = {}) {
  const page = context ? await context.newPage() : await site.browser.newPage({ viewport, acceptDownloads: true });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(site.url + path);
  await page.locator(drawing).waitFor();
  return { page, errors };
}

/** Waits until the run's clock reads exactly `micros` (a scenario's
 * `until`), then a moment for the panels to follow. */
export async function runTo(page, micros, { timeout = 30_000, settle = 300 } = {}) {
  await page.waitForFunction((t) => Number(document.querySelector('[data-time]')?.dataset.time) === t, micros, { timeout });
  await page.waitForTimeout(settle);
}

/** Goes to virtual time `t` (microseconds) with the time slider, as a user
 * dragging it does, and waits until the run is there. */
export async function seekTo(page, t) {
  await page.getByRole('slider', { name: 'Time travel' }).evaluate((el, v) => {
    el.max = String(Math.max(Number(el.max), v));
    el.value = String(v);
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, t);
  await page.waitForFunction((v) => Number(document.querySelector('[data-time]')?.dataset.time) === v, t, { timeout: 30_000 });
}
