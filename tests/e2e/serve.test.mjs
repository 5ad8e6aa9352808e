// `./dev serve` (trunk serve) and the browser tests' server send the same
// headers: the tests' server reads them from Trunk.toml's [serve.headers],
// and here Trunk itself reads that table, so a header the embedded lab needs
// cannot be served to the tests only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join, delimiter } from 'node:path';
import { serve, serveHeaders, ROOT } from './harness.mjs';

test('the tests serve the site with the headers ./dev serve sends, which let any origin load it', async (t) => {
  const headers = await serveHeaders();
  // A sandboxed iframe (an opaque origin) loads the scripts and wasm cross-origin.
  assert.equal(headers['access-control-allow-origin'], '*');

  // What Trunk reads from the same file (`trunk config show`), when Trunk is here.
  const env = { ...process.env, PATH: [join(homedir(), '.cargo/bin'), process.env.PATH].join(delimiter) };
  const shown = spawnSync('trunk', ['config', 'show'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  if (shown.error || shown.status !== 0) {
    t.diagnostic('trunk not found: compared with Trunk.toml only');
  } else {
    const serveSection = shown.stdout.slice(shown.stdout.indexOf('serve: Serve {'));
    const block = serveSection.match(/\n\s*headers: \{\n([\s\S]*?)\n\s*\},/);
    assert.ok(block, `no headers in trunk's serve config:\n${serveSection}`);
    const trunk = Object.fromEntries([...block[1].matchAll(/"([^"]+)": "([^"]*)",/g)].map(([, k, v]) => [k.toLowerCase(), v]));
    assert.deepEqual(headers, trunk, "Trunk.toml's [serve.headers] as Trunk reads them");
  }

  // The tests' server sends them on every file.
  const { server, url } = await serve(join(ROOT, 'web'));
  try {
    const res = await fetch(`${url}embed-example.html`);
    assert.equal(res.status, 200);
    for (const [name, value] of Object.entries(headers)) assert.equal(res.headers.get(name), value, name);
  } finally {
    server.close();
  }
});
