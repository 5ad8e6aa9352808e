//! The Web Worker that owns the simulation.
//!
//! It holds the [`Lab`], advances virtual time by `speed x` the wall-clock
//! time since its last tick (or, at maximum speed, for a fixed slice of
//! wall-clock time per tick), and posts a [`Frame`] after each tick, but
//! only once the page has acknowledged the previous one, so a slow page is
//! never flooded. Snapshots (the lab is `Clone`) taken every virtual second
//! make seeking back in time a short replay rather than a full one; they
//! thin out as they age and stay within a byte budget, so memory does not
//! grow with the length of the run.

use crate::protocol::{ApiState, BenchResult, FromWorker, Status, ToWorker, TuneSpec};
use clusterscope_core::lab::diagram::{self, Chunk, Record};
use clusterscope_core::lab::parse_action;
use clusterscope_core::lab::{catalog, registry, timetravel, Lab};
use clusterscope_core::scenario::{link, Scenario};
use clusterscope_core::sim::{Time, SEC};
use clusterscope_core::sweep::Sweep;
use gloo_timers::callback::Timeout;
use gloo_worker::{HandlerId, Worker, WorkerScope};

/// Wall-clock milliseconds between ticks while playing.
const TICK_MS: u32 = 16;
/// Wall-clock budget of one tick at maximum speed.
const MAX_SPEED_SLICE_MS: f64 = 12.0;
/// Most snapshots kept for seeking.
const MAX_SNAPSHOTS: usize = 128;
/// Most bytes the snapshots may hold together (as the labs estimate them).
const SNAPSHOT_BYTES: usize = 64 << 20;

/// A copy of the lab kept for time travel, and the number its next
/// diagram record will have.
struct Snapshot {
    lab: Lab,
    next: u64,
    /// What it holds, as the lab estimates it.
    bytes: usize,
}

impl Snapshot {
    fn of(lab: &Lab) -> Snapshot {
        let (lab, next) = lab.snapshot();
        let bytes = lab.approx_bytes();
        Snapshot { lab, next, bytes }
    }
}

/// Diagram records between the lab and the page: taken from the lab every
/// frame and before the lab is replaced by a snapshot (so none is lost),
/// cut back when a snapshot replaces the lab, and sent while the page shows
/// the diagram.
#[derive(Default)]
struct Held {
    records: std::collections::VecDeque<Record>,
    names: Vec<String>,
    names_sent: usize,
    skipped: u64,
    violation: Option<(u32, Time)>,
    /// The page must drop its records from this number on.
    restart: Option<u64>,
}

impl Held {
    fn absorb(&mut self, chunk: Chunk) {
        let records = chunk.unpack();
        for (i, name) in chunk.names.into_iter().enumerate() {
            let at = chunk.names_from as usize + i;
            if at < self.names.len() {
                self.names[at] = name;
            } else if at == self.names.len() {
                self.names.push(name);
            }
        }
        self.skipped += chunk.skipped;
        self.violation = chunk.violation.or(self.violation);
        for r in records {
            if self.records.len() == diagram::BUFFER {
                self.records.pop_front();
                self.skipped += 1;
            }
            self.records.push_back(r);
        }
    }

    /// A replay from record number `next` on replaces the rest.
    fn cut(&mut self, next: u64) {
        let keep = self.records.partition_point(|r| r.seq < next);
        self.records.truncate(keep);
        self.violation = None;
        self.restart = Some(self.restart.map_or(next, |r| r.min(next)));
    }

    /// Everything held, for the page.
    fn send(&mut self) -> Option<Chunk> {
        if self.records.is_empty()
            && self.restart.is_none()
            && self.names_sent == self.names.len()
            && self.violation.is_none()
        {
            return None;
        }
        let records: Vec<Record> = self.records.drain(..).collect();
        let mut chunk = Chunk::pack(&records);
        let from = if self.restart == Some(0) { 0 } else { self.names_sent };
        chunk.names_from = from as u32;
        chunk.names = self.names[from.min(self.names.len())..].to_vec();
        self.names_sent = self.names.len();
        chunk.skipped = std::mem::take(&mut self.skipped);
        chunk.violation = self.violation;
        chunk.restart = self.restart.take();
        Some(chunk)
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
    frame_owed: bool,
    reset_owed: bool,
    scenario_owed: bool,
    schema_owed: bool,
    last_link_wall: f64,
    snapshots: Vec<Snapshot>,
    /// Diagram records taken from the lab and not sent to the page yet.
    held: Held,
    horizon: Time,
    /// When the last tick was due (wall-clock milliseconds).
    last_tick_due: f64,
    /// While an API command runs: its error, kept instead of shown.
    captured: Option<Option<String>>,
    /// Whether the page shows the diagram (or relays its notes to an
    /// embedding page): only then do frames carry its records. Otherwise
    /// they are held here (bounded), for when it is shown.
    diagram_shown: bool,
}

/// The size of this worker's WebAssembly heap (it grows, never shrinks).
fn wasm_heap_bytes() -> u64 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map_or(0, |m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().map_or(0, |b| u64::from(b.byte_length())))
}

/// Wall-clock milliseconds, from the worker's high-resolution clock. Used
/// only to pace playback and to time benchmarks; never inside the engine.
fn wall_ms() -> f64 {
    use wasm_bindgen::JsCast;
    js_sys::global()
        .dyn_into::<web_sys::WorkerGlobalScope>()
        .ok()
        .and_then(|g| g.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

impl SimWorker {
    fn load(&mut self, scn: &Scenario) -> Result<(), String> {
        let mut lab = Lab::new(scn).map_err(|e| e.to_string())?;
        lab.record_diagram(true);
        let mut start = lab.clone();
        lab.run_until(scn.until);
        self.snapshots = vec![Snapshot::of(&start)];
        // Snapshots up to the loaded time, spaced as playing would have
        // left them, so seeking back is quick.
        for t in timetravel::plan(lab.now()) {
            start.run_until(t);
            let _ = start.take_diagram();
            self.snapshots.push(Snapshot::of(&start));
        }
        self.thin_snapshots();
        self.horizon = lab.now();
        self.lab = lab;
        self.held = Held { restart: Some(0), ..Held::default() };
        self.schema_owed = true;
        self.reset_owed = true;
        self.scenario_owed = true;
        self.frame_owed = true;
        Ok(())
    }

    fn snapshot_if_due(&mut self) {
        // One a virtual second, in a new second (see timetravel::keep).
        let last = self.snapshots.last().map_or(0, |s| s.lab.now());
        if self.lab.now() / SEC > last / SEC {
            self.snapshots.push(Snapshot::of(&self.lab));
            self.thin_snapshots();
        }
    }

    /// Keeps the snapshots within their budget: spaced further apart the
    /// older they are ([`timetravel::keep`]), at most [`MAX_SNAPSHOTS`]
    /// and [`SNAPSHOT_BYTES`]. The first (time 0) and the newest stay.
    fn thin_snapshots(&mut self) {
        let times: Vec<Time> = self.snapshots.iter().map(|s| s.lab.now()).collect();
        let keep = timetravel::keep(&times, self.lab.now());
        let mut i = 0;
        self.snapshots.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        let mut kept = std::mem::take(&mut self.snapshots);
        // Over the count or the bytes: drop every other of the older half.
        let bytes = |v: &[Snapshot]| v.iter().map(|s| s.bytes).sum::<usize>();
        while kept.len() > 3 && (kept.len() > MAX_SNAPSHOTS || bytes(&kept) > SNAPSHOT_BYTES) {
            let half = kept.len() / 2;
            let mut i = 0;
            kept.retain(|_| {
                i += 1;
                i == 1 || i > half || i % 2 == 0
            });
        }
        self.snapshots = kept;
    }

    /// A copy of the lab from the latest snapshot that `keep` accepts (the
    /// start if none does), with every action recorded since, and the
    /// number of its next diagram record.
    fn restore(&self, keep: impl Fn(&Lab) -> bool) -> Option<(Lab, u64)> {
        let actions = self.lab.scenario().actions;
        let (mut lab, next) = match self.snapshots.iter().rev().find(|s| keep(&s.lab)) {
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

    fn seek(&mut self, t: Time) {
        if t >= self.lab.now() {
            self.lab.run_until(t);
        } else {
            let Some((mut lab, next)) = self.restore(|l| l.now() <= t) else { return };
            lab.run_until(t);
            self.replace_lab(lab, next);
        }
        self.horizon = self.horizon.max(self.lab.now());
        self.reset_owed = true;
        self.frame_owed = true;
        self.scenario_owed = true;
    }

    fn advance(&mut self) {
        let now_wall = wall_ms();
        let elapsed = (now_wall - self.last_wall).clamp(0.0, 100.0);
        self.last_wall = now_wall;
        if self.speed <= 0.0 {
            let start = wall_ms();
            let mut chunk: Time = 10_000;
            while wall_ms() - start < MAX_SPEED_SLICE_MS {
                let before = self.lab.events();
                let target = self.lab.now() + chunk;
                self.lab.run_until(target);
                self.snapshot_if_due();
                if self.lab.violation().is_some() || (self.lab.events() == before && !self.lab.can_run()) {
                    break;
                }
                chunk = (chunk * 2).min(SEC);
            }
        } else {
            let dt = (elapsed * 1_000.0 * self.speed) as Time;
            let target = self.lab.now() + dt;
            self.lab.run_until(target);
            self.snapshot_if_due();
        }
        self.horizon = self.horizon.max(self.lab.now());
        if self.lab.violation().is_some() {
            self.playing = false;
            self.scenario_owed = true;
        }
        self.frame_owed = true;
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
        if !self.frame_owed || !self.acked {
            return;
        }
        if self.schema_owed {
            scope.respond(client, FromWorker::Schema(Box::new(self.lab.schema())));
            self.schema_owed = false;
        }
        let now_wall = wall_ms();
        let send_link = self.scenario_owed || !self.playing || now_wall - self.last_link_wall > 1_000.0;
        let scn = self.lab.scenario();
        let status = Status {
            playing: self.playing,
            // A recorded scenario always fits a link (validation refuses
            // actions that would not); should one not, no link is better
            // than a dead one.
            link: if send_link { link::encode(&scn).ok() } else { None },
            settings: self.scenario_owed.then(|| self.lab.settings()),
            horizon: self.horizon,
            reset: self.reset_owed,
            memory: (
                wasm_heap_bytes(),
                self.snapshots.len() as u32,
                self.snapshots.iter().map(|s| s.bytes as u64).sum(),
            ),
        };
        if send_link {
            self.last_link_wall = now_wall;
        }
        let mut frame = self.lab.frame(self.reset_owed);
        if let Some(chunk) = self.lab.take_diagram() {
            self.held.absorb(chunk);
        }
        if self.diagram_shown {
            frame.diagram = self.held.send();
        }
        self.frame_owed = false;
        self.reset_owed = false;
        self.scenario_owed = false;
        self.acked = false;
        scope.respond(client, FromWorker::Frame(Box::new(frame), status));
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
        }
    }

    /// Runs a lab's benchmark workload and times it.
    fn bench(&self, lab: &str) -> Result<BenchResult, String> {
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
    }
}

impl Worker for SimWorker {
    type Message = Msg;
    type Input = ToWorker;
    type Output = FromWorker;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        let scn = Scenario::new(registry::default_lab(), 1);
        let lab = Lab::new(&scn).unwrap_or_else(|e| unreachable!("the default scenario is valid: {e}"));
        SimWorker {
            snapshots: vec![Snapshot::of(&lab)],
            held: Held { restart: Some(0), ..Held::default() },
            lab,
            playing: false,
            speed: 0.1,
            last_wall: wall_ms(),
            timer: None,
            client: None,
            acked: true,
            frame_owed: true,
            reset_owed: true,
            scenario_owed: true,
            schema_owed: true,
            last_link_wall: 0.0,
            horizon: 0,
            last_tick_due: 0.0,
            captured: None,
            diagram_shown: false,
        }
    }

    fn update(&mut self, scope: &WorkerScope<Self>, msg: Self::Message) {
        match msg {
            Msg::Tick => {
                self.timer = None;
                if self.playing {
                    self.advance();
                    self.send_frame(scope);
                    self.schedule_tick(scope);
                }
            }
        }
    }

    fn connected(&mut self, scope: &WorkerScope<Self>, id: HandlerId) {
        self.client = Some(id);
        scope.respond(id, FromWorker::Catalog(catalog()));
        self.acked = true;
        self.frame_owed = true;
        self.send_frame(scope);
    }

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Self::Input, id: HandlerId) {
        self.client = Some(id);
        match msg {
            ToWorker::Api { tag, cmd } => {
                self.captured = Some(None);
                self.received(scope, *cmd, id);
                let out = match self.captured.take().flatten() {
                    Some(error) => Err(error),
                    None => Ok(Box::new(self.api_state())),
                };
                scope.respond(id, FromWorker::Done(tag, out));
                return;
            }
            ToWorker::Describe => {}
            ToWorker::LoadLink(fragment) => match link::decode(&fragment) {
                Ok(scn) => {
                    if let Err(e) = self.load(&scn) {
                        self.error(scope, e);
                    }
                    self.playing = false;
                }
                Err(e) => self.error(scope, format!("{e}. The current run was kept.")),
            },
            ToWorker::LoadText(text) => match Scenario::parse(&text) {
                Ok(scn) => {
                    if let Err(e) = self.load(&scn) {
                        self.error(scope, format!("{e}. The current run was kept."));
                    }
                    self.playing = false;
                }
                Err(e) => self.error(scope, format!("{e}. The current run was kept.")),
            },
            ToWorker::LoadPreset { lab, index } => {
                let def = if lab.is_empty() { Some(registry::default_lab().def()) } else { registry::find(&lab) };
                match def.and_then(|d| d.presets.get(index)) {
                    Some((_, text)) => match Scenario::parse(text) {
                        Ok(scn) => {
                            if let Err(e) = self.load(&Scenario { until: 0, ..scn }) {
                                self.error(scope, e);
                            }
                        }
                        Err(e) => self.error(scope, e.to_string()),
                    },
                    None => self.error(scope, format!("there is no preset {index} of a lab '{lab}'")),
                }
            }
            ToWorker::Play => {
                if self.lab.violation().is_none() {
                    self.playing = true;
                    self.last_wall = wall_ms();
                }
                self.frame_owed = true;
            }
            ToWorker::Pause => {
                self.playing = false;
                self.frame_owed = true;
            }
            ToWorker::Step => {
                self.playing = false;
                self.lab.step();
                self.snapshot_if_due();
                self.horizon = self.horizon.max(self.lab.now());
                self.frame_owed = true;
            }
            ToWorker::StepEvent => {
                self.playing = false;
                self.lab.step_event();
                self.snapshot_if_due();
                self.horizon = self.horizon.max(self.lab.now());
                self.frame_owed = true;
            }
            ToWorker::StepBack => {
                self.playing = false;
                if let Some(target) = self.lab.position().checked_sub(1) {
                    if let Some((mut lab, next)) = self.restore(|l| l.position() <= target) {
                        while lab.position() < target && lab.step_event() {}
                        self.replace_lab(lab, next);
                        self.reset_owed = true;
                        self.scenario_owed = true;
                    }
                }
                self.frame_owed = true;
            }
            ToWorker::MessageText { id: message, sent } => {
                let text = self.lab.message_text(message).or_else(|| {
                    let (mut lab, _) = self.restore(|l| l.now() < sent)?;
                    lab.run_until(sent);
                    lab.message_text(message)
                });
                let out = match text {
                    Some(t) => FromWorker::MessageText(message, t),
                    None => FromWorker::Error(format!("message #{message} is no longer in the trace")),
                };
                scope.respond(id, out);
                return;
            }
            ToWorker::ExportText => {
                scope.respond(id, FromWorker::Text(self.lab.scenario().to_text()));
                return;
            }
            ToWorker::Diagram(shown) => {
                if shown && !self.diagram_shown {
                    // Everything held, from scratch; the page says how
                    // many earlier records it never got.
                    self.held.restart = Some(0);
                    self.held.names_sent = 0;
                    self.frame_owed = true;
                }
                self.diagram_shown = shown;
            }
            ToWorker::Speed(s) => {
                self.speed = if s.is_finite() { s.clamp(0.0, 1e6) } else { 0.0 };
                self.frame_owed = true;
            }
            ToWorker::Act(text) => {
                let lab_kind = self.lab.kind();
                match parse_action(lab_kind, &text)
                    .map_err(|e| e.to_string())
                    .and_then(|a| self.lab.act(a).map_err(|e| e.to_string()))
                {
                    Ok(()) => {
                        let now = self.lab.now();
                        self.snapshots.retain(|s| s.lab.now() <= now);
                        self.horizon = now;
                        self.scenario_owed = true;
                        self.frame_owed = true;
                    }
                    Err(e) => self.error(scope, e),
                }
            }
            ToWorker::Configure { params, seed } => {
                let mut scn = self.lab.scenario();
                scn.seed = seed;
                scn.until = 0;
                let mut problem = None;
                for (name, value) in &params {
                    let r = scn
                        .lab
                        .param(name)
                        .ok_or_else(|| format!("unknown parameter {name}"))
                        .and_then(|spec| spec.parse(value.trim()))
                        .and_then(|v| scn.set(name, v));
                    if let Err(e) = r {
                        problem = Some(e);
                        break;
                    }
                }
                match problem {
                    Some(e) => self.error(scope, format!("{e}. The current run was kept.")),
                    None => {
                        if let Err(e) = self.load(&scn) {
                            self.error(scope, format!("{e}. The current run was kept."));
                        }
                    }
                }
            }
            ToWorker::Reset => {
                let scn = Scenario { until: 0, ..self.lab.scenario() };
                if let Err(e) = self.load(&scn) {
                    self.error(scope, e);
                }
            }
            ToWorker::Seek(t) => self.seek(t),
            ToWorker::Ack => self.acked = true,
            ToWorker::Query(question) => {
                let out = match self.lab.query(&question) {
                    Ok(json) => FromWorker::Answer(question, json),
                    Err(e) => FromWorker::Error(e),
                };
                scope.respond(id, out);
                return;
            }
            ToWorker::TunePlan(def) => {
                let (params, seeds, metrics) = (def.params.clone(), def.seeds, def.metrics.clone());
                // The sweep travels in the link from now on.
                self.lab.set_tune(Some(def));
                self.scenario_owed = true;
                self.frame_owed = true;
                let scn = Scenario { tune: None, ..self.lab.scenario() };
                let out = if scn.until == 0 {
                    FromWorker::Error(
                        "Run the scenario first: each run of the sweep goes as far as the current time.".into(),
                    )
                } else {
                    let p: Vec<&str> = params.iter().map(String::as_str).collect();
                    let m: Vec<&str> = metrics.iter().map(String::as_str).collect();
                    match Sweep::new(scn.clone(), &p, seeds, &m) {
                        Ok(sweep) => FromWorker::TunePlan(
                            Box::new(TuneSpec { template: scn.to_text(), params, seeds, metrics, generation: 0 }),
                            sweep.shape(),
                        ),
                        Err(e) => FromWorker::Error(format!("Tune: {e}")),
                    }
                };
                scope.respond(id, out);
                self.send_frame(scope);
                return;
            }
            ToWorker::TuneRun { plan, from, to } => {
                let out = match tune_sweep(&plan) {
                    Ok(sweep) => {
                        let results: Result<Vec<_>, _> = (from..to).map(|i| sweep.run(sweep.unit(i))).collect();
                        match results {
                            Ok(r) => FromWorker::TuneResults(plan.generation, r),
                            Err(e) => FromWorker::Error(format!("Tune: {e}")),
                        }
                    }
                    Err(e) => FromWorker::Error(e),
                };
                scope.respond(id, out);
                return;
            }
            ToWorker::TuneOpen { plan, point, seed } => {
                match tune_sweep(&plan).and_then(|s| s.scenario(point, seed).map_err(|e| e.to_string())) {
                    Ok(scn) => {
                        if let Err(e) = self.load(&scn) {
                            self.error(scope, e);
                        }
                        self.playing = false;
                    }
                    Err(e) => self.error(scope, e),
                }
            }
            ToWorker::LabBench { lab, args } => {
                let out = match registry::find(&lab).and_then(|d| d.speed) {
                    Some(speed) => speed(&args, &wall_ms).map(|json| FromWorker::LabBench(lab, json)),
                    None => Err(format!("the {lab} lab has no benchmark of its own")),
                };
                scope.respond(id, out.unwrap_or_else(FromWorker::Error));
                return;
            }
            ToWorker::Bench(lab) => {
                let out = match self.bench(&lab) {
                    Ok(r) => FromWorker::Bench(r),
                    Err(e) => FromWorker::Error(e),
                };
                scope.respond(id, out);
                return;
            }
        }
        self.send_frame(scope);
        self.schedule_tick(scope);
    }
}

/// The sweep a plan describes (a pool worker rebuilds it from the text).
fn tune_sweep(plan: &TuneSpec) -> Result<Sweep, String> {
    let scn = Scenario::parse(&plan.template).map_err(|e| e.to_string())?;
    let p: Vec<&str> = plan.params.iter().map(String::as_str).collect();
    let m: Vec<&str> = plan.metrics.iter().map(String::as_str).collect();
    Sweep::new(scn, &p, plan.seeds, &m).map_err(|e| format!("Tune: {e}"))
}
