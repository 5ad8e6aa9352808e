// The ring benchmark, side by side in one browser page: ClusterScope's
// consistent hashing (Rust compiled to wasm, in the app's Web Worker) against
// the most used JavaScript consistent-hashing package from the npm registry,
// on the same keys `key-0` ... `key-(K-1)` and the same servers `S1` ... `SN`.
// The aim (the issue that asked for it): at least 5x faster. Missing the aim
// is reported, not an error: this exits non-zero only when something fails.
//
//   node tests/e2e/ring-bench.mjs             # needs the built site: ./dev build
//   node tests/e2e/ring-bench.mjs --js-only   # only the JavaScript half
//   RING_NODES=1000 RING_VNODES=100 RING_KEYS=1000000 RING_REPEAT=3 node tests/e2e/ring-bench.mjs
//
// Which package, and why:
// * `hashring` (3.2.0, MIT) is the most used: about 900,000 downloads a
//   month on the npm registry, against 54,000 for `consistent-hash`, 4,000
//   for `consistent-hashing`, 1,300 for `ketama` and under 1,000 for the rest;
//   the `memcached` client uses it. It is libketama's algorithm, like our
//   `ketama` row: per server `D` MD5 digests of "name-i", four 32-bit points
//   each, keys hashed with MD5 and placed on the first point at or after them.
// * It hashes with Node's `crypto`, which no browser has, but it takes a hash
//   function in its place (its constructor's second argument). We give it
//   `js-md5` (0.9.2, MIT, 2.5 million downloads a month, no dependencies):
//   tried in this headless Chromium, it was the fastest of the widely used
//   MD5 packages (`md5`, `blueimp-md5`, `spark-md5`) for this job, up to
//   3x, so the comparison favours them rather than us.
// * Virtual nodes: hashring counts digests (its `vnodes`, default 40 = 160
//   points, as libketama); each gives 4 points. We give every server
//   `D = ceil(V / 4)` digests, so it has 4 * D points, the same as our
//   `ketama` (which also takes ceil(V / 4) digests) and exactly V, the
//   points of our `ring`, whenever 4 divides V. We pass D per server rather
//   than through its global 'vnode count' option, because for the latter
//   hashring computes floor(1/N * D * N) in floating point, which loses a
//   digest for some N (e.g. N = 999, D = 25 gives 24).
// * hashring is used as shipped, including its 5,000-entry LRU cache of
//   lookups: a fresh ring per run, and K distinct keys, so it never hits.
// * It is CommonJS with two small dependencies (connection-parse,
//   simple-lru-cache): `browserBundle` below wraps those files by hand in a
//   tiny module/exports/require shim and injects them into the page; Node's
//   built-ins are stubs that throw if touched (hashring's `crypto` is not,
//   since it has our hash function).
//
// Our side: the page `?bench=1&ring_nodes=N&ring_vnodes=V&ring_keys=K`, its
// button #run-ring-bench, and the JSON in #ring-bench-result's data-json
// (see `ring_bench` in crates/app/src/worker.rs): the time to build the
// lab's ring and place K keys with statistics, and per algorithm the time to
// build it and to look up the K string keys (hash, then locate), with a
// checksum (the sum of the 0-based server numbers) that for `ketama` must
// equal hashring's when both put every key on the same server. Both sides
// run RING_REPEAT times (default 3) and keep their best times.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { join } from 'node:path';
import { serve, launch, ROOT, DIST } from './harness.mjs';

const HERE = join(ROOT, 'tests/e2e');
const JS_ONLY = process.argv.includes('--js-only');
for (const a of process.argv.slice(2)) {
  if (a !== '--js-only') throw new Error(`unknown argument ${a} (usage: node ring-bench.mjs [--js-only])`);
}

function envInt(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(v)}`);
  return n;
}
const N = envInt('RING_NODES', 1000);
const V = envInt('RING_VNODES', 100);
const K = envInt('RING_KEYS', 1_000_000);
const REPEAT = envInt('RING_REPEAT', 3);
const WAIT_MS = 5 * 60_000;

// Bundles CommonJS packages for the page by hand: every file reached through
// `require('literal')` from the entries, wrapped in a function that gets
// (module, exports, require). Sets window.__ringBench = { name: exports }.
function browserBundle(entries) {
  const ids = new Map();
  const defs = [];
  const visit = (file) => {
    if (ids.has(file)) return ids.get(file);
    const id = defs.length;
    ids.set(file, id);
    const def = { deps: {}, body: '' };
    defs.push(def);
    const src = readFileSync(file, 'utf8');
    if (file.endsWith('.json')) {
      def.body = `module.exports = ${src};`;
      return id;
    }
    def.body = `${src.replace(/^#!.*/, '')}\n//# sourceURL=${file.slice(HERE.length + 1)}`;
    const resolve = createRequire(file).resolve;
    for (const [, spec] of src.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      if (!(spec in def.deps)) def.deps[spec] = isBuiltin(spec) ? null : visit(resolve(spec));
    }
    return id;
  };
  const resolve = createRequire(join(HERE, 'package.json')).resolve;
  const roots = Object.entries(entries).map(([name, spec]) => {
    let file;
    try {
      file = resolve(spec);
    } catch {
      throw new Error(`${spec} is not installed in tests/e2e/node_modules: run (cd tests/e2e && npm ci)`);
    }
    return [name, visit(file)];
  });
  const modules = defs.map((d) => `[function (module, exports, require) {\n${d.body}\n}, ${JSON.stringify(d.deps)}]`);
  return `(() => {
  const defs = [\n${modules.join(',\n')}];
  const cache = [];
  const builtin = (spec) => new Proxy({}, { get(_, p) {
    throw new Error("Node's built-in module '" + spec + "' is not in the browser (." + String(p) + ')');
  } });
  const load = (id) => {
    if (cache[id]) return cache[id].exports;
    const module = (cache[id] = { exports: {} });
    const [fn, deps] = defs[id];
    fn.call(module.exports, module, module.exports, (spec) => {
      if (!(spec in deps)) throw new Error('not bundled: ' + spec);
      return deps[spec] === null ? builtin(spec) : load(deps[spec]);
    });
    return module.exports;
  };
  window.__ringBench = { ${roots.map(([n, id]) => `${JSON.stringify(n)}: load(${id})`).join(', ')} };
})();`;
}

const pkgVersion = (name) => {
  const file = join(HERE, 'node_modules', name, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : '?';
};
const ourVersion = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8').match(/\[workspace\.package\][^[]*?\nversion\s*=\s*"([^"]+)"/)?.[1] ?? '?';

// Theirs, in the page's main thread: best of `repeat` for building the ring
// and for the K lookups, each run on a fresh ring.
async function runTheirs(page) {
  await page.addScriptTag({ content: browserBundle({ HashRing: 'hashring', md5: 'js-md5' }) });
  return page.evaluate(({ N, V, K, repeat }) => {
    const { HashRing, md5 } = window.__ringBench;
    const digests = Math.ceil(V / 4);
    const servers = {};
    for (let i = 1; i <= N; i++) servers[`S${i}`] = { vnodes: digests };
    const hash = (s) => md5.array(s);
    const keys = new Array(K);
    for (let i = 0; i < K; i++) keys[i] = `key-${i}`;
    const owners = new Array(K);
    let build = Infinity, lookup = Infinity, points = 0, checksum = 0;
    for (let r = 0; r < repeat; r++) {
      let t = performance.now();
      const ring = new HashRing(servers, hash);
      build = Math.min(build, performance.now() - t);
      t = performance.now();
      for (let i = 0; i < K; i++) owners[i] = ring.get(keys[i]);
      lookup = Math.min(lookup, Math.max(performance.now() - t, 1e-3));
      points = ring.size;
      if (r === 0) for (let i = 0; i < K; i++) checksum += Number(owners[i].slice(1)) - 1;
    }
    return { digests, points, build_ms: build, lookups: K, lookup_ms: lookup, lookups_per_sec: K / lookup * 1e3, checksum };
  }, { N, V, K, repeat: REPEAT });
}

// Ours: the app's ring benchmark, in its worker, run `repeat` times (wasm
// tiers up from a baseline compiler, as JavaScript does): per algorithm the
// best build and the best lookups, and the best placement.
async function runOurs(page) {
  const button = page.locator('#run-ring-bench');
  try {
    await button.waitFor({ timeout: 30_000 });
  } catch {
    throw new Error(`the page has no #run-ring-bench: dist/ predates the ring benchmark, rebuild it (./dev build); or run with --js-only`);
  }
  let best = null;
  for (let run = 1; run <= REPEAT; run++) {
    await button.click();
    const done = page.locator(`#ring-bench-result[data-run="${run}"], .bench [role="alert"]`).first();
    await done.waitFor({ timeout: WAIT_MS });
    if ((await done.getAttribute('role')) === 'alert') throw new Error(`the ring benchmark failed in the worker: ${await done.textContent()}`);
    const r = JSON.parse(await done.getAttribute('data-json'));
    if (r.nodes !== N || r.vnodes !== V || r.keys !== K) {
      throw new Error(`the page ran ${r.nodes} servers x ${r.vnodes} vnodes, ${r.keys} keys, not ${N} x ${V}, ${K}`);
    }
    if (!best) {
      best = r;
      continue;
    }
    best.place_ms = Math.min(best.place_ms, r.place_ms);
    for (const a of r.algorithms) {
      const b = best.algorithms.find((x) => x.algorithm === a.algorithm);
      if (!b) continue;
      if (a.checksum !== b.checksum) throw new Error(`${a.algorithm}: the checksum changed between runs (${b.checksum}, ${a.checksum})`);
      b.build_ms = Math.min(b.build_ms, a.build_ms);
      if (a.lookup_ms < b.lookup_ms) Object.assign(b, { lookup_ms: a.lookup_ms, lookups_per_sec: a.lookups_per_sec });
    }
  }
  return best;
}

const fmt = (x, digits = 0) => (x === undefined || x === null ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const pad = (s, n) => String(s).padStart(n);

if (!existsSync(join(DIST, 'index.html')) && !JS_ONLY) throw new Error('dist/index.html is missing: build the site first (./dev build)');
const { server, url } = await serve();
const browser = await launch();
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const query = `?bench=1&ring_nodes=${N}&ring_vnodes=${V}&ring_keys=${K}`;
  await page.goto(existsSync(join(DIST, 'index.html')) ? url + query : 'about:blank');

  const ours = JS_ONLY ? null : await runOurs(page);
  const theirs = await runTheirs(page);
  if (errors.length) throw new Error(`errors in the page: ${errors.join('; ')}`);

  console.log(`Ring benchmark: ${fmt(N)} servers x ${V} virtual nodes, ${fmt(K)} keys key-0.., one page of headless Chromium ${browser.version()}`);
  console.log(`  ours:   ClusterScope ${ourVersion}, Rust in wasm in the Web Worker` + (ours ? `; the lab's ring with K keys placed and its statistics: ${fmt(ours.place_ms, 1)} ms; best of ${REPEAT}` : ' (skipped: --js-only)'));
  console.log(`  theirs: hashring ${pkgVersion('hashring')} + js-md5 ${pkgVersion('js-md5')}, JavaScript in the page's main thread; ` +
    `${theirs.digests} digests x 4 = ${fmt(theirs.points)} points (${fmt(theirs.points / N)} per server); best of ${REPEAT}`);
  console.log('');
  const head = `  ${'side'.padEnd(8)} ${'algorithm'.padEnd(14)} ${'hash'.padEnd(8)} ${pad('build ms', 10)} ${pad('lookups', 11)} ${pad('lookups/s', 13)} ${pad('x lookups/s', 12)} ${pad('x build', 9)}`;
  console.log(head);
  console.log(`  ${'-'.repeat(head.length - 2)}`);
  const line = (side, name, hash, r) => console.log(`  ${side.padEnd(8)} ${name.padEnd(14)} ${hash.padEnd(8)} ${pad(fmt(r.build_ms, 2), 10)} ${pad(fmt(r.lookups), 11)} ` +
    `${pad(fmt(r.lookups_per_sec), 13)} ${pad(`${fmt(r.lookups_per_sec / theirs.lookups_per_sec, 1)}x`, 12)} ${pad(r.build_ms > 0 ? `${fmt(theirs.build_ms / r.build_ms, 1)}x` : '-', 9)}`);
  const rows = ours?.algorithms ?? [];
  const first = ['ring', 'ketama'];
  const ordered = [...first.map((a) => rows.find((r) => r.algorithm === a)).filter(Boolean), ...rows.filter((r) => !first.includes(r.algorithm))];
  for (const r of ordered) line('wasm', r.algorithm, r.hash ?? '', r);
  line('JS', 'hashring', 'md5', theirs);
  console.log('');

  if (ours) {
    const aims = first.map((a) => rows.find((r) => r.algorithm === a)).filter(Boolean).map((r) => {
      const x = r.lookups_per_sec / theirs.lookups_per_sec;
      const b = r.build_ms > 0 ? theirs.build_ms / r.build_ms : Infinity; // 0: under the timer's resolution
      return `${r.algorithm} ${fmt(x, 1)}x lookups/s (${x >= 5 ? 'met' : 'NOT met'}), ${fmt(b, 1)}x build (${b >= 5 ? 'met' : 'NOT met'})`;
    });
    if (aims.length < first.length) console.log(`  note: data-json has no ${first.filter((a) => !rows.some((r) => r.algorithm === a)).join(' or ')} row`);
    console.log(`  5x aim: ${aims.join('; ')}`);
    const ketama = rows.find((r) => r.algorithm === 'ketama');
    if (ketama?.checksum !== undefined && ketama.lookups === K) {
      const same = ketama.checksum === theirs.checksum;
      console.log(`  same placement as hashring (ketama vs hashring checksum): ${same ? 'yes' : 'NO'} (${ketama.checksum} vs ${theirs.checksum})`);
    }
  } else {
    console.log(`  hashring checksum (sum of 0-based server numbers): ${theirs.checksum}`);
  }
} finally {
  await browser.close();
  server.close();
}
