// Where a frame's time goes, measured from outside the app so that any build
// is measured the same way (frame-bench.mjs prints it). While a run plays,
// Chromium's tracing records every task on the page's main thread and on
// the worker's thread; a wrapper around the page's Worker puts a user-timing
// mark in the trace each time the worker posts a message (a frame, almost
// always). The time between two marks is one frame: the tasks that start in
// it are that frame's work. Per frame, on the main thread: all its tasks,
// and of those the script (JavaScript and the page's WebAssembly, Yew's
// rendering and the canvas calls), style and layout, and paint (pre-paint,
// paint, layerize, commit); on the worker's thread: all its tasks
// (advancing the simulation, building and encoding the frame). Builds that
// time their worker's parts themselves (user-timing measures named
// `worker:…` in the worker) get those too. Chromium's own counters
// (Performance.getMetrics: task, script, layout and style durations) over
// the same window give the mean per frame as a second opinion. Tasks count
// their thread (CPU) time where Chromium records it, so a machine busy with
// other work slows the frames down but does not inflate these figures;
// Chromium's counters are wall-clock time.
// With FRAME_BENCH_DETAIL=1 the trace also records Blink's and the
// compositor's own events, and each run lists the main thread's largest
// items by self time per frame (an event's time less its children's):
// where "all" goes beyond script, style, layout and paint, such as the
// canvas's rasterisation (`CanvasRenderingContext2D::FinalizeFrame`).
// Those categories cost the page a little more time.

// The trace's names for each part of the main thread's work.
const SCRIPT = new Set(['FunctionCall', 'EvaluateScript', 'EventDispatch', 'TimerFire', 'FireAnimationFrame',
  'RunMicrotasks', 'V8.Execute', 'v8.callFunction', 'v8.run', 'GCEvent', 'MajorGC', 'MinorGC',
  'V8.GC_SCAVENGER', 'V8.GC_MARK_COMPACTOR']);
const STYLE_LAYOUT = new Set(['UpdateLayoutTree', 'Layout', 'RecalculateStyles', 'UpdateLayerTree']);
const PAINT = new Set(['PrePaint', 'Paint', 'PaintImage', 'Layerize', 'Commit', 'CompositeLayers', 'RasterTask']);

export const DETAIL = process.env.FRAME_BENCH_DETAIL === '1';
const CATEGORIES = [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'toplevel', 'v8',
  ...(DETAIL ? ['blink', 'cc', 'skia'] : []),
].join(',');

/// Installs the marks: call before the page loads (page.addInitScript).
export function markWorkerMessages() {
  const Original = window.Worker;
  window.__posted = { count: 0, bytes: 0 };
  window.Worker = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        window.__posted.count += 1;
        window.__posted.bytes += e.data?.byteLength ?? 0;
        if (window.__markFrames) {
          performance.mark('bench:frame');
          performance.clearMarks('bench:frame');
        }
      });
    }
  };
}

/// The q-quantile of a list of numbers (nearest rank).
export function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/// Traces `windowMs` of the page (already playing) and returns per-frame
/// lists (ms) and Chromium's counters per frame.
export async function traceFrames(browser, page, windowMs) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const before = await cdp.send('Performance.getMetrics');
  const p0 = await page.evaluate(() => ({ ...window.__posted }));
  await browser.startTracing(page, { categories: CATEGORIES.split(',') });
  await page.evaluate(() => { window.__markFrames = true; });
  await page.waitForTimeout(windowMs);
  await page.evaluate(() => { window.__markFrames = false; });
  const trace = JSON.parse((await browser.stopTracing()).toString('utf8'));
  const after = await cdp.send('Performance.getMetrics');
  const p1 = await page.evaluate(() => ({ ...window.__posted }));
  await cdp.detach();
  const frames = p1.count - p0.count;
  const metric = (m, name) => m.metrics.find((x) => x.name === name)?.value ?? 0;
  const perFrame = (name) => frames ? (metric(after, name) - metric(before, name)) * 1e3 / frames : NaN;
  return {
    ...splitTrace(trace.traceEvents ?? trace),
    counters: {
      task: perFrame('TaskDuration'), script: perFrame('ScriptDuration'),
      layout: perFrame('LayoutDuration'), style: perFrame('RecalcStyleDuration'),
    },
  };
}

/// The milliseconds an event kept its thread busy: its thread time (CPU
/// time) where the trace has it, so that other programs on a busy machine
/// do not count; else its wall-clock duration.
function busy(e) {
  return (e.tdur ?? e.dur ?? 0) / 1e3;
}

/// The main thread's complete events by name: their self time (wall
/// clock, less their children's) in ms per frame, over the traced frames,
/// largest first. `list` is in time order.
function selfTimes(list, frameOf, n) {
  const self = new Map();
  const open = []; // [end, event] of the enclosing events
  for (const e of list) {
    if (e.ph !== 'X' || frameOf(e.ts) < 0) continue;
    while (open.length && open[open.length - 1][0] <= e.ts) open.pop();
    const d = e.dur ?? 0;
    if (open.length) {
      const parent = open[open.length - 1][1];
      self.set(parent.name, (self.get(parent.name) ?? 0) - d);
    }
    self.set(e.name, (self.get(e.name) ?? 0) + d);
    open.push([e.ts + d, e]);
  }
  return [...self].map(([k, v]) => [k, v / 1e3 / Math.max(1, n)]).sort((a, b) => b[1] - a[1]);
}

/// The trace cut into frames at the marks: per frame, the main thread's
/// and the worker's busy milliseconds and the main thread's parts.
function splitTrace(events) {
  const marks = events.filter((e) => e.name === 'bench:frame' && e.cat?.includes('user_timing'))
    .map((e) => e.ts).sort((a, b) => a - b);
  const page = events.filter((e) => e.name === 'bench:frame' && e.cat?.includes('user_timing'))[0];
  const threadName = new Map(events.filter((e) => e.name === 'thread_name')
    .map((e) => [`${e.pid}:${e.tid}`, e.args?.name ?? '']));
  const main = page ? `${page.pid}:${page.tid}` : '';
  // The worker: a dedicated worker thread of the page's process.
  const workerThreads = new Set([...threadName].filter(([k, n]) => k.startsWith(`${page?.pid}:`) && /Worker/.test(n)
    && !/Service|Compositor|ThreadPool/.test(n)).map(([k]) => k));
  const n = Math.max(0, marks.length - 1);
  const zero = () => new Array(n).fill(0);
  const out = { main: zero(), script: zero(), styleLayout: zero(), paint: zero(), worker: zero(), workerParts: {} };
  const frameOf = (ts) => {
    if (n === 0 || ts < marks[0] || ts >= marks[n]) return -1;
    let lo = 0, hi = n; // marks[lo] <= ts < marks[hi]
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (marks[mid] <= ts) lo = mid; else hi = mid; }
    return lo;
  };
  // Per thread, events in time order; a part is counted only at its
  // outermost level (a Layout inside script counts as script).
  const byThread = new Map();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (key !== main && !workerThreads.has(key)) continue;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key).push(e);
  }
  for (const [key, list] of byThread) {
    const isMain = key === main;
    list.sort((a, b) => a.ts - b.ts);
    const open = { task: -1, part: -1 };
    const measures = new Map();
    for (const e of list) {
      const f = frameOf(e.ts);
      if (e.ph === 'X' && e.name === 'RunTask' && e.ts >= open.task) {
        open.task = e.ts + (e.dur ?? 0);
        if (f >= 0) (isMain ? out.main : out.worker)[f] += busy(e);
      } else if (isMain && e.ph === 'X' && e.ts >= open.part) {
        const part = SCRIPT.has(e.name) ? 'script' : STYLE_LAYOUT.has(e.name) ? 'styleLayout'
          : PAINT.has(e.name) ? 'paint' : null;
        if (part) {
          open.part = e.ts + (e.dur ?? 0);
          if (f >= 0) out[part][f] += busy(e);
        }
      } else if (!isMain && e.name?.startsWith('worker:') && e.cat?.includes('user_timing')) {
        // performance.measure: a begin and an end event with one id.
        const id = `${e.name}:${e.id ?? e.id2?.local ?? ''}`;
        if (e.ph === 'b') measures.set(id, e.ts);
        else if (e.ph === 'e' && measures.has(id)) {
          const start = measures.get(id);
          measures.delete(id);
          if (frameOf(start) >= 0) {
            const part = e.name.slice('worker:'.length);
            out.workerParts[part] ??= zero();
            out.workerParts[part][frameOf(start)] += (e.ts - start) / 1e3;
          }
        }
      }
    }
  }
  if (DETAIL) out.items = selfTimes(byThread.get(main) ?? [], frameOf, n);
  out.frames = n;
  // Frames per second over the marks themselves (starting and stopping
  // the trace takes a while the page keeps playing through).
  out.fps = n > 0 ? n / ((marks[n] - marks[0]) / 1e6) : 0;
  return out;
}
