//! The Web Worker that owns the simulation.
//!
//! It holds the [`Lab`], advances virtual time by `speed x` the wall-clock
//! time since its last tick (or, at maximum speed, for a fixed slice of
//! wall-clock time per tick), and posts a [`Frame`] after each tick, but
//! only once the page has acknowledged the previous one, so a slow page is
//! never flooded. Snapshots (the lab is `Clone`) taken every virtual second
//! make seeking back in time a short replay rather than a full one; they
//! thin out as they age and stay within a byte budget, so memory does not
//! grow with the length of the run ([`timetravel::Snapshots`]).
//!
//! [`Frame`]: clusterscope_core::lab::Frame

use crate::protocol::{ApiState, BenchResult, FromWorker, Memory, Status, ToWorker, TuneSpec};
use clusterscope_core::history::ClientHistory;
use clusterscope_core::lab::diagram::{self, Chunk, Record};
use clusterscope_core::lab::registry::parse_action;
use clusterscope_core::lab::timetravel::{self, Snapshots, Stamp};
use clusterscope_core::lab::{experiment, registry, Engine, Lab};
use clusterscope_core::scenario::{link, LabKind, Scenario, TuneDef};
use clusterscope_core::sim::time::format_duration;
use clusterscope_core::sim::{Time, SEC};
use clusterscope_core::sweep::Sweep;
use gloo_timers::callback::Timeout;
use gloo_worker::{HandlerId, Worker, WorkerScope};

/// Wall-clock milliseconds between ticks while playing.
const TICK_MS: u32 = 16;
/// Wall-clock budget of one tick at maximum speed.
const MAX_SPEED_SLICE_MS: f64 = 12.0;
/// Wall-clock milliseconds between two checks of a playing run's client
/// history (each sends the history and its verdict if they changed).
const HISTORY_EVERY_MS: f64 = 400.0;

/// A copy of the lab kept for time travel, and the number its next
/// diagram record will have.
struct Saved {
    lab: Lab,
    next: u64,
}

impl Saved {
    /// A snapshot of `lab`, stamped with its time, position and size.
    fn of(lab: &Lab) -> (Stamp, Saved) {
        let (lab, next) = lab.snapshot();
        let stamp = Stamp { time: lab.now(), position: lab.position(), bytes: lab.approx_bytes() };
        (stamp, Saved { lab, next })
    }
}

/// Diagram records between the lab and the page: taken from the lab every
/// frame and before the lab is replaced by a snapshot (so none is lost),
/// cut back when a snapshot replaces the lab, and sent while the page shows
/// the diagram. They are held packed as the lab made them (about ten bytes
/// a record rather than a [`Record`]'s 48), one chunk a frame, and unpacked
/// only to cut them after a seek back or to send many chunks as one.
#[derive(Default)]
struct Held {
    chunks: std::collections::VecDeque<Chunk>,
    /// Records in `chunks`.
    count: usize,
    names: Vec<String>,
    names_sent: usize,
    skipped: u64,
    violation: Option<(u32, Time)>,
    /// The page must drop its records from this number on.
    restart: Option<u64>,
    /// The spans open as last sent (they go on to the page's now).
    open_sent: Vec<Record>,
}

impl Held {
    fn absorb(&mut self, mut chunk: Chunk) {
        for (i, name) in std::mem::take(&mut chunk.names).into_iter().enumerate() {
            let at = chunk.names_from as usize + i;
            if at < self.names.len() {
                self.names[at] = name;
            } else if at == self.names.len() {
                self.names.push(name);
            }
        }
        self.skipped += std::mem::take(&mut chunk.skipped);
        self.violation = chunk.violation.take().or(self.violation);
        // What to drop is the worker's to say (`cut`), when it sends, and
        // what is open the lab's, then.
        chunk.restart = None;
        chunk.open = Vec::new();
        if chunk.is_empty() {
            return;
        }
        self.count += chunk.len();
        self.chunks.push_back(chunk);
        // The newest BUFFER records at most: older chunks are counted, not
        // kept (a chunk larger than BUFFER alone is kept whole; the lab
        // never makes one).
        while self.count - self.chunks.front().map_or(0, Chunk::len) >= diagram::BUFFER {
            let Some(old) = self.chunks.pop_front() else { break };
            self.count -= old.len();
            self.skipped += old.len() as u64;
        }
    }

    /// Every record held, unpacked, oldest first.
    fn records(&mut self) -> Vec<Record> {
        self.count = 0;
        self.chunks.drain(..).flat_map(|c| c.unpack()).collect()
    }

    /// A replay from record number `next` on replaces the rest.
    fn cut(&mut self, next: u64) {
        let mut records = self.records();
        let keep = records.partition_point(|r| r.seq < next);
        records.truncate(keep);
        if !records.is_empty() {
            self.count = records.len();
            self.chunks.push_back(Chunk::pack(&records));
        }
        self.violation = None;
        self.restart = Some(self.restart.map_or(next, |r| r.min(next)));
    }

    /// Everything held, for the page, with the spans `open` now (the
    /// lab's, at the time shown: live, replayed or restored alike). A
    /// change in what is open is sent even with no new record.
    fn send(&mut self, open: Vec<Record>) -> Option<Chunk> {
        // An open span's end is now, which the page knows: only which
        // spans are open is news.
        let same = |a: &Record, b: &Record| (a.from, a.t0, a.kind, a.id) == (b.from, b.t0, b.kind, b.id);
        let open_changed =
            open.len() != self.open_sent.len() || open.iter().zip(&self.open_sent).any(|(a, b)| !same(a, b));
        if self.chunks.is_empty()
            && self.restart.is_none()
            && self.names_sent == self.names.len()
            && self.violation.is_none()
            && !open_changed
        {
            return None;
        }
        let mut chunk = if self.chunks.len() == 1 {
            self.count = 0;
            self.chunks.pop_front().unwrap_or_default()
        } else {
            Chunk::pack(&self.records())
        };
        let from = if self.restart == Some(0) { 0 } else { self.names_sent };
        chunk.names_from = from as u32;
        chunk.names = self.names[from.min(self.names.len())..].to_vec();
        self.names_sent = self.names.len();
        chunk.skipped = std::mem::take(&mut self.skipped);
        chunk.violation = self.violation;
        chunk.restart = self.restart.take();
        self.open_sent.clone_from(&open);
        chunk.open = open;
        Some(chunk)
    }
}

/// What the page is owed in the next frame. Commands set these; sending a
/// frame clears them.
#[derive(Clone, Copy, Debug)]
struct Owed {
    /// A frame at all.
    frame: bool,
    /// A whole frame that replaces what the page holds (a jump in time).
    reset: bool,
    /// The scenario's settings and link (its recorded actions changed).
    scenario: bool,
    /// The lab's schema (a new run).
    schema: bool,
}

impl Owed {
    /// Everything: a new run.
    fn new_run() -> Owed {
        Owed { frame: true, reset: true, scenario: true, schema: true }
    }
    /// A frame: the run moved on or the transport changed.
    fn frame(&mut self) {
        self.frame = true;
    }
    /// A frame with the scenario: its actions or settings changed.
    fn scenario(&mut self) {
        self.scenario = true;
        self.frame = true;
    }
    /// A whole frame with the scenario: the run jumped in time.
    fn jump(&mut self) {
        self.reset = true;
        self.scenario();
    }
    /// The schema, if owed, now being sent.
    fn take_schema(&mut self) -> bool {
        std::mem::take(&mut self.schema)
    }
    /// A frame went out with everything owed but the schema.
    fn sent(&mut self) {
        self.frame = false;
        self.reset = false;
        self.scenario = false;
    }
}

/// Internal messages.
pub enum Msg {
    /// Time to advance.
    Tick,
}

/// The worker.
pub struct SimWorker {
    lab: Lab,
    playing: bool,
    /// Virtual seconds per wall second; 0 = as fast as possible.
    speed: f64,
    last_wall: f64,
    timer: Option<Timeout>,
    client: Option<HandlerId>,
    acked: bool,
    owed: Owed,
    last_link_wall: f64,
    snapshots: Snapshots<Saved>,
    /// Diagram records taken from the lab and not sent to the page yet.
    held: Held,
    horizon: Time,
    /// Where the scenario ends (its `until` as loaded; 0: none).
    end: Time,
    /// When the last tick was due (wall-clock milliseconds).
    last_tick_due: f64,
    /// While an API command runs: its error, kept instead of shown.
    captured: Option<Option<String>>,
    /// Whether the page shows the diagram (or relays its notes to an
    /// embedding page): only then do frames carry its records. Otherwise
    /// they are held here (bounded), for when it is shown.
    diagram_shown: bool,
    /// A scenario's `speed`, taken on load, for the page's control.
    speed_owed: Option<f64>,
    /// The run before the last branch or take-over, for Undo.
    undo: Option<Undo>,
    /// The client history last sent to the page (`None`: none sent since
    /// the run loaded, or the run has none).
    history_sent: Option<ClientHistory>,
    /// When the client history was last looked at (wall-clock ms).
    history_wall: f64,
    /// Whether the page has named a run (or asked anything beyond the
    /// transport's settings): until then this worker's opening run is its
    /// own, and no frame of it is sent, so a page or an embedding parent
    /// hears only of the run it asked for.
    named: bool,
}

/// What Undo goes back to: the scenario as it was (at the time of the
/// action), the time slider's reach then, and what was dropped, in words.
struct Undo {
    scn: Scenario,
    horizon: Time,
    said: String,
}

/// The size of this worker's WebAssembly heap (it grows, never shrinks).
fn wasm_heap_bytes() -> u64 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map_or(0, |m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().map_or(0, |b| u64::from(b.byte_length())))
}

/// The worker's clock (`performance`), if it has one.
fn performance() -> Option<web_sys::Performance> {
    use wasm_bindgen::JsCast;
    js_sys::global().dyn_into::<web_sys::WorkerGlobalScope>().ok().and_then(|g| g.performance())
}

/// Times one part of the worker's work on a frame (`step`: advancing the
/// run; `build`: building the frame; `post`: encoding and posting it) as a
/// user-timing measure named `worker:PART`, which Chromium's tracing
/// records and the frame benchmark reads (tests/e2e/frame-cost.mjs). The
/// entry is cleared at once, so nothing accumulates.
fn timed<T>(part: &'static str, f: impl FnOnce() -> T) -> T {
    let Some(perf) = performance() else { return f() };
    let start = ["worker:", part, ":start"].concat();
    let _ = perf.mark(&start);
    let out = f();
    let name = ["worker:", part].concat();
    let _ = perf.measure_with_start_mark(&name, &start);
    perf.clear_marks_with_mark_name(&start);
    perf.clear_measures_with_measure_name(&name);
    out
}

/// Wall-clock milliseconds, from the worker's high-resolution clock. Used
/// only to pace playback and to time benchmarks; never inside the engine.
pub(crate) fn wall_ms() -> f64 {
    performance().map_or_else(js_sys::Date::now, |p| p.now())
}

/// The run itself: loading, playing, snapshots, frames.
impl SimWorker {
    fn load(&mut self, scn: &Scenario) -> Result<(), String> {
        let mut lab = Lab::new(scn).map_err(|e| e.to_string())?;
        lab.record_diagram(true);
        let mut start = lab.clone();
        lab.run_until(scn.until);
        let (stamp, first) = Saved::of(&start);
        let mut snapshots = Snapshots::starting(stamp, first);
        // Snapshots up to the loaded time, spaced as playing would have
        // left them, so seeking back is quick.
        for t in timetravel::plan(lab.now()) {
            start.run_until(t);
            let _ = start.take_diagram();
            let (stamp, saved) = Saved::of(&start);
            snapshots.push(stamp, saved);
        }
        snapshots.thin(self.lab.now());
        self.snapshots = snapshots;
        self.horizon = lab.now();
        if scn.until > 0 {
            self.end = scn.until;
        }
        self.lab = lab;
        self.held = Held { restart: Some(0), ..Held::default() };
        self.owed = Owed::new_run();
        self.undo = None;
        // The page forgets the history with the new run's schema.
        self.history_sent = None;
        self.history_wall = f64::NEG_INFINITY;
        Ok(())
    }

    /// Loads a scenario a user opened (a link, a file, a preset): as
    /// [`SimWorker::load`], and its `speed` line, if any, sets the speed.
    fn open(&mut self, scn: &Scenario) -> Result<(), String> {
        self.load(scn)?;
        if let Some(speed) = scn.speed {
            self.set_speed(speed);
            self.speed_owed = Some(self.speed);
        }
        Ok(())
    }

    fn snapshot_if_due(&mut self) {
        // One a virtual second, in a new second (see timetravel::keep).
        if self.snapshots.due(self.lab.now()) {
            let (stamp, saved) = Saved::of(&self.lab);
            self.snapshots.push(stamp, saved);
            self.snapshots.thin(self.lab.now());
        }
    }

    /// A copy of the lab from `base`, a snapshot (the start if `None`),
    /// with every action recorded since, and the number of its next
    /// diagram record.
    fn restore(&self, base: Option<&Saved>) -> Option<(Lab, u64)> {
        let actions = self.lab.scenario().actions;
        let (mut lab, next) = match base {
            Some(s) => (s.lab.clone(), s.next),
            None => {
                let mut lab = Lab::new(&self.lab.scenario()).ok()?;
                lab.record_diagram(true);
                (lab, 0)
            }
        };
        lab.adopt_actions(actions);
        Some((lab, next))
    }

    /// Puts a lab restored from a snapshot (whose diagram records start at
    /// number `next`) in place of the live one, keeping the records before.
    fn replace_lab(&mut self, lab: Lab, next: u64) {
        if let Some(chunk) = self.lab.take_diagram() {
            self.held.absorb(chunk);
        }
        self.held.cut(next);
        self.lab = lab;
    }

    fn advance(&mut self) {
        let now_wall = wall_ms();
        let elapsed = (now_wall - self.last_wall).clamp(0.0, 100.0);
        self.last_wall = now_wall;
        if self.speed <= 0.0 {
            self.advance_flat_out();
        } else {
            let dt = (elapsed * 1_000.0 * self.speed) as Time;
            let target = self.lab.now() + dt;
            self.lab.run_until(target);
            self.snapshot_if_due();
        }
        self.horizon = self.horizon.max(self.lab.now());
        if self.lab.violation().is_some() {
            self.playing = false;
            self.owed.scenario();
        }
        self.owed.frame();
    }

    /// At maximum speed: as far as a slice of wall-clock time goes, in
    /// growing chunks of virtual time. A run short of the scenario's end
    /// stops there, paused (played on from there, it goes on past it).
    fn advance_flat_out(&mut self) {
        let start = wall_ms();
        let mut chunk: Time = 10_000;
        let stop = (self.lab.now() < self.end).then_some(self.end);
        while wall_ms() - start < MAX_SPEED_SLICE_MS {
            let before = self.lab.events();
            let target = stop.map_or(self.lab.now() + chunk, |end| (self.lab.now() + chunk).min(end));
            self.lab.run_until(target);
            self.snapshot_if_due();
            if stop.is_some_and(|end| self.lab.now() >= end) {
                self.playing = false;
                self.owed.scenario();
                break;
            }
            if self.lab.violation().is_some() || (self.lab.events() == before && !self.lab.can_run()) {
                break;
            }
            chunk = (chunk * 2).min(SEC);
        }
    }

    /// Ticks keep a steady cadence: the next is due one period after the
    /// last was, whatever the tick itself took (a fixed delay after each
    /// tick would add the tick's own work to every period).
    fn schedule_tick(&mut self, scope: &WorkerScope<Self>) {
        if self.playing && self.timer.is_none() {
            let now = wall_ms();
            let due = (self.last_tick_due + f64::from(TICK_MS)).max(now);
            self.last_tick_due = due;
            let scope = scope.clone();
            self.timer = Some(Timeout::new((due - now).round() as u32, move || scope.send_message(Msg::Tick)));
        }
    }

    fn send_frame(&mut self, scope: &WorkerScope<Self>) {
        let Some(client) = self.client else { return };
        if !self.named || !self.owed.frame || !self.acked {
            return;
        }
        let (frame, status) = timed("build", || {
            let status = self.status();
            let mut frame = self.lab.frame(self.owed.reset);
            if let Some(chunk) = self.lab.take_diagram() {
                self.held.absorb(chunk);
            }
            if self.diagram_shown {
                frame.diagram = self.held.send(self.lab.open_spans());
            }
            (frame, status)
        });
        self.owed.sent();
        self.acked = false;
        let schema = self.owed.take_schema().then(|| Box::new(self.lab.schema()));
        timed("post", || scope.respond(client, FromWorker::Frame(Box::new(frame), status, schema)));
        self.send_history(scope, client);
    }

    /// The run's client history and its verdict (checked here, in the
    /// lab's worker), if they changed since last sent: at once while
    /// paused, at most every [`HISTORY_EVERY_MS`] while playing.
    fn send_history(&mut self, scope: &WorkerScope<Self>, client: HandlerId) {
        let now = wall_ms();
        if self.playing && now - self.history_wall < HISTORY_EVERY_MS {
            return;
        }
        self.history_wall = now;
        let h = self.lab.client_history();
        if h == self.history_sent {
            return;
        }
        self.history_sent = h.clone();
        let shown = timed("history", || h.map(|h| Box::new(crate::history::of_run(h, Some(wall_ms)))));
        scope.respond(client, FromWorker::History(shown));
    }

    /// The transport's state for the next frame, with the link when the
    /// scenario changed, when paused, or once a second while playing.
    fn status(&mut self) -> Status {
        let now_wall = wall_ms();
        let send_link = self.owed.scenario || !self.playing || now_wall - self.last_link_wall > 1_000.0;
        if send_link {
            self.last_link_wall = now_wall;
        }
        Status {
            playing: self.playing,
            // A recorded scenario always fits a link (validation refuses
            // actions that would not); should one not, no link is better
            // than a dead one.
            link: if send_link { link::encode(&self.lab.scenario()).ok() } else { None },
            settings: self.owed.scenario.then(|| Box::new(self.lab.settings())),
            horizon: self.horizon,
            end: self.end,
            reset: self.owed.reset,
            memory: Memory {
                heap: wasm_heap_bytes(),
                in_use: crate::alloc::in_use(),
                snapshots: self.snapshots.len() as u32,
                snapshot_bytes: self.snapshots.bytes() as u64,
            },
            speed: self.speed_owed.take(),
            undo: self.undo.as_ref().map(|u| u.said.clone()),
        }
    }

    fn error(&mut self, scope: &WorkerScope<Self>, msg: String) {
        if let Some(captured) = self.captured.as_mut() {
            captured.get_or_insert(msg);
            return;
        }
        if let Some(client) = self.client {
            scope.respond(client, FromWorker::Error(msg));
        }
    }
}

/// Loading a run: from a link, a file, a preset, new settings, or anew.
impl SimWorker {
    fn load_link(&mut self, scope: &WorkerScope<Self>, fragment: &str) {
        match link::decode(fragment) {
            Ok(scn) => {
                if let Err(e) = self.open(&scn) {
                    self.error(scope, e);
                }
                self.playing = false;
            }
            Err(e) => self.error(scope, format!("{e}. The current run was kept.")),
        }
    }

    fn load_text(&mut self, scope: &WorkerScope<Self>, text: &str) {
        match Scenario::parse(text) {
            Ok(scn) => {
                if let Err(e) = self.open(&scn) {
                    self.error(scope, format!("{e}. The current run was kept."));
                }
                self.playing = false;
            }
            Err(e) => self.error(scope, format!("{e}. The current run was kept.")),
        }
    }

    /// A lab's preset (this worker's lab's if `lab` is empty), at its start.
    fn load_preset(&mut self, scope: &WorkerScope<Self>, lab: &str, index: usize) {
        let def = if lab.is_empty() { Some(self.lab.kind().def()) } else { registry::find(lab) };
        match def.and_then(|d| d.presets.get(index)) {
            Some((_, text)) => match Scenario::parse(text) {
                Ok(scn) => {
                    match self.open(&Scenario { until: 0, ..scn.clone() }) {
                        // The preset's `until` is where its story ends.
                        Ok(()) => self.end = scn.until,
                        Err(e) => self.error(scope, e),
                    }
                }
                Err(e) => self.error(scope, e.to_string()),
            },
            None => self.error(scope, format!("there is no preset {index} of a lab '{lab}'")),
        }
    }

    /// The current scenario with new parameters and seed, from its start.
    fn configure(&mut self, scope: &WorkerScope<Self>, params: &[(String, String)], seed: u64) {
        let mut scn = self.lab.scenario();
        scn.seed = seed;
        scn.until = 0;
        for (name, value) in params {
            let set = scn
                .lab
                .param(name)
                .ok_or_else(|| format!("unknown parameter {name}"))
                .and_then(|spec| spec.parse(value.trim()))
                .and_then(|v| scn.set(name, v));
            if let Err(e) = set {
                return self.error(scope, format!("{e}. The current run was kept."));
            }
        }
        if let Err(e) = self.load(&scn) {
            self.error(scope, format!("{e}. The current run was kept."));
        }
    }

    /// The current scenario from its start.
    fn reset(&mut self, scope: &WorkerScope<Self>) {
        let scn = Scenario { until: 0, ..self.lab.scenario() };
        if let Err(e) = self.load(&scn) {
            self.error(scope, e);
        }
    }
}

/// The transport, and actions recorded at the current time.
impl SimWorker {
    fn play(&mut self) {
        if self.lab.violation().is_none() {
            self.playing = true;
            self.last_wall = wall_ms();
        }
        self.owed.frame();
    }

    fn pause(&mut self) {
        self.playing = false;
        self.owed.frame();
    }

    /// Pauses and steps forward: one event, or to the next instant.
    fn step_forward(&mut self, one_event: bool) {
        self.playing = false;
        if one_event {
            self.lab.step_event();
        } else {
            self.lab.step();
        }
        self.snapshot_if_due();
        self.horizon = self.horizon.max(self.lab.now());
        self.owed.frame();
    }

    fn set_speed(&mut self, speed: f64) {
        self.speed = if speed.is_finite() { speed.clamp(0.0, 1e6) } else { 0.0 };
        self.owed.frame();
    }

    fn show_diagram(&mut self, shown: bool) {
        if shown && !self.diagram_shown {
            // Everything held, from scratch; the page says how many
            // earlier records it never got.
            self.held.restart = Some(0);
            self.held.names_sent = 0;
            self.owed.frame();
        }
        self.diagram_shown = shown;
    }

    /// Applies and records an action now. At the front of the run the
    /// actions still to come (a preset's script) stay; back in the past
    /// (after a seek) the action starts a branch: the later ones go, and
    /// Undo brings them back.
    fn act(&mut self, scope: &WorkerScope<Self>, text: &str) {
        let lab_kind = self.lab.kind();
        let (before, horizon) = (self.lab.scenario(), self.horizon);
        let in_past = self.lab.now() < horizon;
        match parse_action(lab_kind, text)
            .map_err(|e| e.to_string())
            .and_then(|a| self.lab.act(a).map_err(|e| e.to_string()))
        {
            Ok(()) => {
                let now = self.lab.now();
                let dropped = if in_past { self.lab.drop_script() } else { 0 };
                self.undo = (dropped > 0).then(|| Undo {
                    said: format!(
                        "A branch at {}: {} later action{} dropped.",
                        format_duration(now),
                        dropped,
                        if dropped == 1 { "" } else { "s" }
                    ),
                    scn: before,
                    horizon,
                });
                self.snapshots.forget_after(now);
                self.horizon = now;
                self.owed.scenario();
            }
            Err(e) => self.error(scope, e),
        }
    }

    /// Drops the script's actions still to come: the user takes over.
    /// With none to come, says so and changes nothing.
    fn take_over(&mut self, scope: &WorkerScope<Self>) {
        let before = self.lab.scenario();
        let dropped = self.lab.drop_script();
        if dropped == 0 {
            self.error(scope, "Nothing to take over: the scenario has no actions still to come.".into());
        } else {
            let now = format_duration(self.lab.now());
            let plural = if dropped == 1 { "" } else { "s" };
            self.undo = Some(Undo {
                said: format!("Taken over at {now}: {dropped} scripted action{plural} dropped."),
                scn: before,
                horizon: self.horizon,
            });
            self.owed.scenario();
        }
    }

    /// Undoes the last branch or take-over (the run goes back to where it
    /// was, paused, with its later actions), or forgets it.
    fn undo(&mut self, scope: &WorkerScope<Self>, undo: bool) {
        let Some(u) = self.undo.take() else {
            if undo {
                self.error(scope, "Nothing to undo: no branch or take-over has dropped actions.".into());
            }
            return;
        };
        if undo {
            self.playing = false;
            match self.load(&u.scn) {
                Ok(()) => self.horizon = self.horizon.max(u.horizon),
                Err(e) => self.error(scope, e),
            }
        }
        self.owed.frame();
    }
}

/// Time travel: seeking and stepping back replay from the nearest
/// snapshot; an old message's text is found the same way.
impl SimWorker {
    fn seek(&mut self, t: Time) {
        if t >= self.lab.now() {
            self.lab.run_until(t);
        } else {
            let Some((mut lab, next)) = self.restore(self.snapshots.nearest_at(t)) else { return };
            lab.run_until(t);
            self.replace_lab(lab, next);
        }
        self.horizon = self.horizon.max(self.lab.now());
        self.owed.jump();
    }

    /// Pauses and goes back to the position before this one.
    fn step_back(&mut self) {
        self.playing = false;
        if let Some(target) = self.lab.position().checked_sub(1) {
            if let Some((mut lab, next)) = self.restore(self.snapshots.nearest_at_position(target)) {
                while lab.position() < target && lab.step_event() {}
                self.replace_lab(lab, next);
                self.owed.jump();
            }
        }
        self.owed.frame();
    }

    /// A message's contents, replayed up to its sending if the trace no
    /// longer holds it.
    fn message_text(&self, message: u64, sent: Time) -> FromWorker {
        let text = self.lab.message_text(message).or_else(|| {
            let (mut lab, _) = self.restore(self.snapshots.nearest_before(sent))?;
            lab.run_until(sent);
            lab.message_text(message)
        });
        match text {
            Some(t) => FromWorker::MessageText(message, t),
            None => FromWorker::Error(format!("message #{message} is no longer in the trace")),
        }
    }
}

/// The embedding API and the lab's questions.
impl SimWorker {
    /// Runs `cmd` as the page would, then answers with its error or the
    /// state after it.
    fn api(&mut self, scope: &WorkerScope<Self>, id: HandlerId, tag: u64, cmd: ToWorker) {
        self.captured = Some(None);
        self.received(scope, cmd, id);
        let out = match self.captured.take().flatten() {
            Some(error) => Err(error),
            None => Ok(Box::new(self.api_state())),
        };
        scope.respond(id, FromWorker::Done(tag, out));
    }

    /// The state the embedding API reports.
    fn api_state(&mut self) -> ApiState {
        let schema = self.lab.schema();
        let values: Vec<f64> = self.lab.metrics().into_iter().map(|(_, v)| v).collect();
        let (leader, decided) = (schema.leader(&values), schema.progress(&values));
        let scn = self.lab.scenario();
        ApiState {
            lab: scn.lab.def().name.to_string(),
            time: self.lab.now(),
            playing: self.playing,
            fingerprint: format!("{:016x}", self.lab.fingerprint()),
            events: self.lab.events(),
            leader,
            decided: if decided.is_finite() { decided } else { 0.0 },
            violation: self.lab.violation_text(),
            link: link::encode(&scn).unwrap_or_default(),
            script: self.lab.script_left().len() as u64,
            branch: self.undo.as_ref().map(|u| u.said.clone()),
        }
    }

    /// The lab's answer to a question of its own.
    /// Runs one of the lab's experiments, on the run so far when it reads
    /// one: the same code as `clusterscope exp`.
    fn experiment(&self, name: &str, args: &[(String, String)]) -> FromWorker {
        let lab = self.lab.kind().name();
        let out = registry::find_experiment(lab, name).and_then(|exp| {
            let scn = self.lab.scenario();
            let reads = exp.reads.contains(&lab);
            if reads && self.lab.schema().timed && scn.until == 0 {
                return Err("run the scenario first: it compares the run so far".into());
            }
            experiment::run(exp, reads.then_some(&scn), args)
        });
        match out {
            Ok(table) => {
                // A row that is one run opens as a link.
                let links = table
                    .runs
                    .iter()
                    .map(|r| r.as_deref().and_then(|t| Scenario::parse(t).ok()).and_then(|s| link::encode(&s).ok()))
                    .collect();
                FromWorker::Table(name.to_string(), Box::new(table), links)
            }
            Err(e) => FromWorker::Error(format!("{name}: {e}")),
        }
    }

    fn answer(&self, question: String) -> FromWorker {
        match self.lab.query(&question) {
            Ok(json) => FromWorker::Answer(question, json),
            Err(e) => FromWorker::Error(e),
        }
    }
}

/// Tune: the sweep is planned here and run by a pool of workers like this one.
impl SimWorker {
    /// Records the sweep in the scenario, answers with its plan, and sends
    /// the frame that carries the new link.
    /// The template is the whole scenario (every action, recorded or yet
    /// to come) run to `until` if given, else to the scenario's end; a
    /// metric that measures nothing in that window is named, and nothing
    /// runs.
    fn tune_plan(&mut self, scope: &WorkerScope<Self>, id: HandlerId, def: TuneDef, until: Option<Time>) {
        let (params, seeds, metrics) = (def.params.clone(), def.seeds, def.metrics.clone());
        // The sweep travels in the link from now on.
        self.lab.set_tune(Some(def));
        self.owed.scenario();
        let until = until.unwrap_or(self.end);
        let scn = Scenario { tune: None, until, ..self.lab.scenario() };
        let out = if until == 0 {
            FromWorker::Error("Tune: this scenario has no end ('until'): give each run a duration.".into())
        } else {
            let p: Vec<&str> = params.iter().map(String::as_str).collect();
            let m: Vec<&str> = metrics.iter().map(String::as_str).collect();
            match Sweep::new(scn.clone(), &p, seeds, &m).and_then(|s| Ok((s.undefined_metrics()?, s))) {
                Ok((undefined, _)) if !undefined.is_empty() => FromWorker::Error(format!(
                    "Tune: {} measured nothing in trial runs from 0 to {}: nothing it measures happens in that window. Pick another metric, a longer duration, or a scenario where it happens.",
                    undefined.join(", "),
                    clusterscope_core::sim::time::format_duration(until)
                )),
                Ok((_, sweep)) => FromWorker::TunePlan(
                    Box::new(TuneSpec { template: scn.to_text(), params, seeds, metrics, generation: 0 }),
                    sweep.shape(),
                ),
                Err(e) => FromWorker::Error(format!("Tune: {e}")),
            }
        };
        scope.respond(id, out);
        self.send_frame(scope);
    }

    /// Opens one run of a sweep, paused at its end.
    fn tune_open(&mut self, scope: &WorkerScope<Self>, plan: &TuneSpec, point: usize, seed: u64) {
        match tune_sweep(plan).and_then(|s| s.scenario(point, seed).map_err(|e| e.to_string())) {
            Ok(scn) => {
                if let Err(e) = self.load(&scn) {
                    self.error(scope, e);
                }
                self.playing = false;
            }
            Err(e) => self.error(scope, e),
        }
    }
}

/// Starts a lab's Web Worker: registers the engine it runs (the one lab
/// whose simulator its binary links; see `labs::engines`) and serves the
/// page. Every worker knows every lab's description, so it lists them all
/// and reads any file or link, but runs only its own lab.
pub fn start(engine: &'static Engine) {
    use gloo_worker::Registrable;
    if let Err(e) = registry::register_engine(engine) {
        unreachable!("a worker registers one engine, once: {e}");
    }
    // The browser tests' own build: every worker also knows the test-only
    // lab (crates/testlab), which runs in a worker of its own.
    #[cfg(feature = "testlab")]
    let _ = clusterscope_testlab::register_description();
    SimWorker::registrar().encoding::<crate::codec::MeasuredBincode>().register();
}

impl Worker for SimWorker {
    type Message = Msg;
    type Input = ToWorker;
    type Output = FromWorker;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        // A lab's worker opens on its own lab (the first engine it has).
        let own = registry::engines().first().map(|e| LabKind(e.lab)).or_else(registry::default_lab);
        let own = own.unwrap_or_else(|| unreachable!("start() registers the worker's engine"));
        let scn = Scenario::new(own, 1);
        let lab = Lab::new(&scn).unwrap_or_else(|e| unreachable!("{e}: start() registers the worker's engine"));
        let (stamp, start) = Saved::of(&lab);
        SimWorker {
            snapshots: Snapshots::starting(stamp, start),
            held: Held { restart: Some(0), ..Held::default() },
            lab,
            playing: false,
            speed: 0.1,
            last_wall: wall_ms(),
            timer: None,
            client: None,
            acked: true,
            owed: Owed::new_run(),
            last_link_wall: 0.0,
            horizon: 0,
            end: 0,
            last_tick_due: 0.0,
            captured: None,
            diagram_shown: false,
            speed_owed: None,
            undo: None,
            history_sent: None,
            history_wall: f64::NEG_INFINITY,
            named: false,
        }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, msg: Self::Message) {
        match msg {
            Msg::Tick => {
                self.timer = None;
                if self.playing {
                    timed("step", || self.advance());
                    self.send_frame(scope);
                    self.schedule_tick(scope);
                }
            }
        }
    }

    fn connected(&mut self, scope: &WorkerScope<Self>, id: HandlerId) {
        self.client = Some(id);
        scope.respond(id, FromWorker::Catalog(registry::catalog()));
        self.acked = true;
        // No frame yet: the first comes once the page names its run (see
        // `named`).
        self.owed.frame();
    }

    /// Hands each command to its family's handler (the `impl` blocks
    /// above). Commands that change the run are followed by a frame (once
    /// the page is ready for one) and, while playing, the next tick;
    /// questions are answered and leave the run as it is.
    fn received(&mut self, scope: &WorkerScope<Self>, msg: Self::Input, id: HandlerId) {
        self.client = Some(id);
        // The settings a page hands every worker it starts come before the
        // run it names; anything else shows this worker's run from now on.
        let setting =
            matches!(msg, ToWorker::Speed(_) | ToWorker::Diagram(_) | ToWorker::Play | ToWorker::Pause | ToWorker::Ack);
        self.named |= !setting;
        match msg {
            // The embedding API, and questions about the run: answered,
            // the run left as it is.
            ToWorker::Api { tag, cmd } => return self.api(scope, id, tag, *cmd),
            ToWorker::Query(question) => return scope.respond(id, self.answer(question)),
            ToWorker::Experiment { name, args } => return scope.respond(id, self.experiment(&name, &args)),
            ToWorker::ExportText => return scope.respond(id, FromWorker::Text(self.lab.scenario().to_text())),
            // Loading a run.
            ToWorker::LoadLink(fragment) => self.load_link(scope, &fragment),
            ToWorker::LoadText(text) => self.load_text(scope, &text),
            ToWorker::LoadPreset { lab, index } => self.load_preset(scope, &lab, index),
            ToWorker::Configure { params, seed } => self.configure(scope, &params, seed),
            ToWorker::Reset => self.reset(scope),
            // The transport, and actions.
            ToWorker::Describe => {}
            ToWorker::Play => self.play(),
            ToWorker::Pause => self.pause(),
            ToWorker::Step => self.step_forward(false),
            ToWorker::StepEvent => self.step_forward(true),
            ToWorker::Speed(s) => self.set_speed(s),
            ToWorker::Diagram(shown) => self.show_diagram(shown),
            ToWorker::Act(text) => self.act(scope, &text),
            ToWorker::TakeOver => self.take_over(scope),
            ToWorker::Undo(undo) => self.undo(scope, undo),
            ToWorker::Ack => self.acked = true,
            // Time travel.
            ToWorker::Seek(t) => self.seek(t),
            ToWorker::StepBack => self.step_back(),
            ToWorker::MessageText { id: message, sent } => return scope.respond(id, self.message_text(message, sent)),
            // Tune.
            ToWorker::TunePlan(def, until) => return self.tune_plan(scope, id, def, until),
            ToWorker::TuneRun { plan, from, to } => return scope.respond(id, tune_run(&plan, from, to)),
            ToWorker::TuneOpen { plan, point, seed } => self.tune_open(scope, &plan, point, seed),
            // Benchmarks.
            ToWorker::Bench(lab) => return scope.respond(id, bench(&lab)),
            ToWorker::LabBench { lab, args } => return scope.respond(id, lab_bench(lab, &args)),
        }
        self.send_frame(scope);
        self.schedule_tick(scope);
    }
}

/// Runs units `from..to` of a sweep (in a pool worker).
fn tune_run(plan: &TuneSpec, from: u64, to: u64) -> FromWorker {
    match tune_sweep(plan) {
        Ok(sweep) => {
            let results: Result<Vec<_>, _> = (from..to).map(|i| sweep.run(sweep.unit(i))).collect();
            match results {
                Ok(r) => FromWorker::TuneResults(plan.generation, r),
                Err(e) => FromWorker::Error(format!("Tune: {e}")),
            }
        }
        Err(e) => FromWorker::Error(e),
    }
}

/// Runs a lab's benchmark workload and times it.
fn bench(lab: &str) -> FromWorker {
    let timed = || -> Result<BenchResult, String> {
        let text = registry::find(lab)
            .and_then(|d| d.bench)
            .ok_or_else(|| format!("the {lab} lab has no benchmark workload"))?;
        let scn = Scenario::parse(text).map_err(|e| e.to_string())?;
        let start = wall_ms();
        let lab = Lab::replay(&scn).map_err(|e| e.to_string())?;
        let millis = wall_ms() - start;
        Ok(BenchResult {
            events: lab.events(),
            delivered: lab.counters().delivered,
            committed: lab.counters().committed,
            requests: lab.counters().requests,
            millis,
            fingerprint: format!("{:016x}", lab.fingerprint()),
        })
    };
    timed().map_or_else(FromWorker::Error, FromWorker::Bench)
}

/// Runs a lab's own benchmark (its speed test) with `args`.
fn lab_bench(lab: String, args: &str) -> FromWorker {
    let out = match registry::engine(&lab).ok().and_then(|e| e.speed) {
        Some(speed) => speed(args, &wall_ms).map(|json| FromWorker::LabBench(lab, json)),
        None => Err(format!("the {lab} lab has no benchmark of its own")),
    };
    out.unwrap_or_else(FromWorker::Error)
}

/// The sweep a plan describes (a pool worker rebuilds it from the text).
fn tune_sweep(plan: &TuneSpec) -> Result<Sweep, String> {
    let scn = Scenario::parse(&plan.template).map_err(|e| e.to_string())?;
    let p: Vec<&str> = plan.params.iter().map(String::as_str).collect();
    let m: Vec<&str> = plan.metrics.iter().map(String::as_str).collect();
    Sweep::new(scn, &p, plan.seeds, &m).map_err(|e| format!("Tune: {e}"))
}
