//! The page's state: what the worker last reported, plus what only the page
//! knows (the selected node, the error on screen, chart history). Changed
//! only through [`Msg`] in [`AppState::reduce`], as in Yew's TodoMVC.
//!
//! Frames carry only what changed; the state merges them into whole views
//! (every node, the groups, the lab's own drawing) and keeps the parsed
//! scenario, so no panel parses text or rebuilds what did not change.

use crate::history::{HistoryShown, Opened};
use crate::protocol::{BenchResult, FromWorker, Status, TuneSpec};
use clusterscope_core::lab::{Frame, LabInfo, MessageDot, NodeView, Schema, Settings};
use clusterscope_core::sim::Time;
use clusterscope_core::sweep::{Shape, UnitResult};
use std::collections::VecDeque;
use std::rc::Rc;
use yew::Reducible;

/// Most event-log lines kept on the page.
pub const LOG_LINES: usize = 400;
/// Most chart samples kept.
pub const SAMPLES: usize = 240;

/// One point of the live charts: the time and the charted metrics' values.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Virtual time.
    pub time: Time,
    /// Values of the schema's charted metrics, in schema order.
    pub values: Vec<f64>,
}

/// How often the text panels (tables, metrics, charts, the event log)
/// follow a playing run, in wall-clock milliseconds. The drawing follows
/// every frame; text that changes sixty times a second cannot be read, and
/// re-laying it out that often costs the drawing its smoothness. When the
/// run pauses or starts anew they catch up at once.
pub const TEXT_EVERY_MS: f64 = 100.0;

/// What the text panels show: a snapshot of the state, refreshed at most
/// every [`TEXT_EVERY_MS`] while playing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shown {
    /// The frame whose metrics are shown.
    pub frame: Option<Rc<Frame>>,
    /// Every node.
    pub nodes: Rc<Vec<NodeView>>,
    /// Recent trace lines.
    pub log: Rc<VecDeque<String>>,
    /// Trace lines received since the run started.
    pub log_total: u64,
    /// Chart history.
    pub samples: Rc<VecDeque<Sample>>,
}

/// A sweep the Tune panel runs: its plan, its shape, the results so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tune {
    /// The plan the pool's workers run (its generation numbers the sweep).
    pub spec: Option<TuneSpec>,
    /// What summarising needs.
    pub shape: Option<Shape>,
    /// The current sweep's number; results of other sweeps are ignored.
    pub generation: u64,
    /// Runs done so far.
    pub results: Vec<UnitResult>,
    /// Whether it is running.
    pub running: bool,
    /// When it started (wall-clock milliseconds).
    pub started: f64,
    /// How long it took, once done.
    pub took: Option<f64>,
}

/// Everything the page draws from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppState {
    /// The running lab's schema.
    pub schema: Option<Rc<Schema>>,
    /// The latest frame (its `nodes` are only the changed ones: use `nodes`).
    pub frame: Option<Rc<Frame>>,
    /// Every node, merged from frames.
    pub nodes: Rc<Vec<NodeView>>,
    /// Groups that can reach each other.
    pub groups: Rc<Vec<Vec<u32>>>,
    /// The messages of the latest frame, unpacked.
    pub messages: Rc<Vec<MessageDot>>,
    /// The lab's own drawing (its encoding), as last sent.
    pub view: Option<Rc<Vec<u8>>>,
    /// Frames received so far (drives acknowledgements).
    pub frames: u64,
    /// Bytes of the latest frame as it crossed from the worker.
    pub frame_bytes: usize,
    /// Transport state.
    pub status: Status,
    /// Link fragment of the current moment.
    pub link: String,
    /// Every lab, for the menus.
    pub catalog: Rc<Vec<LabInfo>>,
    /// The scenario's settings, as the worker last sent them.
    pub settings: Option<Rc<Settings>>,
    /// An error to show.
    pub error: Option<String>,
    /// The node the user clicked.
    pub selected: Option<u32>,
    /// Speed: virtual seconds per wall second (0 = maximum).
    pub speed: f64,
    /// Recent trace lines.
    pub log: Rc<VecDeque<String>>,
    /// Trace lines received since the run started.
    pub log_total: u64,
    /// Chart history.
    pub samples: Rc<VecDeque<Sample>>,
    /// The last benchmark result.
    pub bench: Option<BenchResult>,
    /// Benchmark runs finished.
    pub bench_runs: u64,
    /// The last lab benchmark: its lab, its result (JSON) and how many have
    /// finished.
    pub lab_bench: Option<(String, String, u64)>,
    /// The last experiment's table: its name, the table, and how many
    /// tables have come.
    pub table: Option<(String, Rc<clusterscope_core::lab::Table>, u64)>,
    /// Per row of the last table, the link of the run it is.
    pub table_links: Rc<Vec<Option<String>>>,
    /// The lab's last answer: question, encoded answer, and a count.
    pub answer: Option<(String, Rc<Vec<u8>>, u64)>,
    /// What the text panels show.
    pub shown: Rc<Shown>,
    /// When `shown` was last refreshed (wall-clock milliseconds).
    pub shown_at: f64,
    /// Moves whenever something the text panels show may have changed:
    /// `shown` was refreshed, or anything but the drawing changed (the
    /// transport, the scenario, the user's choices, an answer from the
    /// worker). A frame that only moves the drawing leaves it, so those
    /// panels skip re-rendering ([`crate::ctx::Ctx::paced`]).
    pub shown_version: u64,
    /// Counts the runs the page has shown: one more with every new schema
    /// (another lab, other settings) and every frame of a run started
    /// afresh (a reset, a seek, a file). Panels held off the screen
    /// ([`crate::view::use_held`]) follow at once when it moves.
    pub runs: u64,
    /// The Tune panel's sweep.
    pub tune: Rc<Tune>,
    /// How many workers Tune's pool runs.
    pub tune_workers: u32,
    /// The space-time diagram's records (shared, changed in place).
    pub diagram: crate::diagram::Diagram,
    /// Bumped whenever the diagram's records change.
    pub diagram_version: u64,
    /// A message's contents, as the worker last answered.
    pub message_text: Option<(u64, String)>,
    /// The scenario text the worker last exported, and how many exports.
    pub exported: Option<(u64, Rc<String>)>,
    /// The lab whose engine (its worker) is loading, until it answers.
    pub loading: Option<String>,
    /// The run's client history and its verdict, as its worker last sent.
    pub history: Option<Rc<HistoryShown>>,
    /// A history file opened, checked (shown instead of the run's).
    pub opened: Option<Rc<HistoryShown>>,
    /// History files asked for so far (the checker's answer to an older
    /// request is dropped).
    pub opening: u64,
}

impl AppState {
    /// The lab's name, once known.
    pub fn lab(&self) -> &str {
        self.schema.as_ref().map_or("", |s| s.lab.as_str())
    }

    /// The virtual time of the latest frame.
    pub fn time(&self) -> Time {
        self.frame.as_ref().map_or(0, |f| f.time)
    }

    /// The caption in force at time `t` (the last one from `t` or before),
    /// with the time it showed from: a seek shows the one in force then.
    pub fn caption_at(&self, t: Time) -> Option<(Time, &str)> {
        let captions = &self.settings.as_ref()?.captions;
        let i = captions.partition_point(|(at, _)| *at <= t);
        i.checked_sub(1).map(|i| (captions[i].0, captions[i].1.as_str()))
    }
}

/// Everything that changes the state.
// A message lives for one dispatch; boxing the worker's messages would add
// an allocation to every frame for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Msg {
    /// A message from the worker, and its size in bytes.
    Worker(FromWorker, usize),
    /// The user clicked a node (or empty space).
    Select(Option<u32>),
    /// The user changed the speed.
    Speed(f64),
    /// An error found on the page itself.
    Error(String),
    /// The user closed the error.
    DismissError,
    /// The user cancelled the sweep.
    TuneCancel,
    /// How many workers the next sweep runs on.
    TuneWorkers(u32),
    /// A lab's engine started loading (another lab's worker starts).
    Loading(String),
    /// A history file is being read and checked (request number).
    Opening(u64),
    /// The checker's answer for a history file.
    Opened(Opened),
    /// The user closed the history file.
    CloseOpened,
}

impl Reducible for AppState {
    type Action = Msg;

    fn reduce(self: Rc<Self>, msg: Msg) -> Rc<Self> {
        let mut s = (*self).clone();
        // Anything but a frame may change what a text panel shows; a
        // frame says so itself (see `merge_frame`).
        if !matches!(msg, Msg::Worker(FromWorker::Frame(..), _)) {
            s.shown_version += 1;
        }
        match msg {
            Msg::Worker(out, bytes) => s.heard(out, bytes),
            Msg::Error(e) => s.error = Some(e),
            Msg::TuneCancel => {
                let t = Rc::make_mut(&mut s.tune);
                t.running = false;
                t.generation += 1;
            }
            Msg::TuneWorkers(n) => s.tune_workers = n,
            Msg::Select(n) => s.selected = n,
            Msg::Speed(v) => s.speed = v,
            Msg::DismissError => s.error = None,
            Msg::Loading(lab) => s.loading = Some(lab),
            Msg::Opening(tag) => s.opening = tag,
            Msg::Opened((tag, answer)) => {
                // A malformed file keeps what is on screen and says why.
                match answer {
                    Ok(shown) if tag == s.opening => s.opened = Some(Rc::new(shown)),
                    Err(e) if tag == s.opening => s.error = Some(format!("{e}. What was on screen was kept.")),
                    _ => {}
                }
            }
            Msg::CloseOpened => s.opened = None,
        }
        Rc::new(s)
    }
}

/// The worker's messages, one family at a time.
impl AppState {
    /// A message from the worker, `bytes` long as it crossed.
    fn heard(&mut self, out: FromWorker, bytes: usize) {
        match out {
            // A worker greets the page with the catalog: its engine is in.
            FromWorker::Catalog(labs) => {
                self.catalog = Rc::new(labs);
                self.loading = None;
            }
            FromWorker::History(h) => self.history = h.map(|h| Rc::new(*h)),
            FromWorker::Frame(frame, status, schema) => {
                if let Some(schema) = schema {
                    self.new_run_of(*schema);
                }
                self.merge_frame(*frame, status, bytes);
            }
            FromWorker::Error(e) => self.error = Some(e),
            // Answered by the embedding API before the state sees it.
            FromWorker::Done(..) => {}
            FromWorker::MessageText(id, text) => self.message_text = Some((id, text)),
            FromWorker::Text(text) => {
                let n = self.exported.as_ref().map_or(0, |e| e.0) + 1;
                self.exported = Some((n, Rc::new(text)));
            }
            FromWorker::Table(name, table, links) => {
                let n = self.table.as_ref().map_or(0, |t| t.2) + 1;
                self.table = Some((name, Rc::new(*table), n));
                self.table_links = Rc::new(links);
            }
            FromWorker::Answer(question, answer) => {
                let n = self.answer.as_ref().map_or(0, |a| a.2) + 1;
                self.answer = Some((question, Rc::new(answer), n));
            }
            FromWorker::LabBench(lab, json) => {
                let runs = self.lab_bench.as_ref().map_or(0, |r| r.2) + 1;
                self.lab_bench = Some((lab, json, runs));
            }
            FromWorker::Bench(b) => {
                self.bench = Some(b);
                self.bench_runs += 1;
            }
            FromWorker::TunePlan(spec, shape) => self.tune_plan(*spec, shape),
            FromWorker::TuneResults(generation, results) => self.tune_results(generation, results),
        }
    }

    /// A run of a (possibly other) lab loaded: its schema came with its
    /// first frame. What the page held of the run before goes.
    fn new_run_of(&mut self, schema: Schema) {
        self.runs += 1;
        self.schema = Some(Rc::new(schema));
        self.view = None;
        self.answer = None;
        self.table = None;
        self.history = None;
        self.shown_version += 1;
    }

    /// A frame, `bytes` long as it crossed, merged into the whole views.
    fn merge_frame(&mut self, frame: Frame, status: Status, bytes: usize) {
        self.frame_bytes = bytes;
        if status.reset {
            self.log = Rc::new(VecDeque::new());
            self.log_total = 0;
            self.samples = Rc::new(VecDeque::new());
            self.answer = None;
        }
        self.merge_nodes(&frame);
        if let Some(g) = &frame.groups {
            self.groups = Rc::new(g.clone());
        }
        if let Some(v) = &frame.view {
            self.view = Some(Rc::new(v.clone()));
        }
        if let Some(chunk) = &frame.diagram {
            self.diagram.0.borrow_mut().apply(chunk, frame.node_count);
            self.diagram_version += 1;
        }
        self.messages = Rc::new(frame.messages.unpack(frame.time));
        if let Some(link) = &status.link {
            self.link = link.clone();
        }
        if let Some(settings) = &status.settings {
            self.settings = Some(Rc::new((**settings).clone()));
        }
        if let Some(speed) = status.speed {
            self.speed = speed;
        }
        self.push_log(&frame.log);
        self.push_sample(&frame);
        if self.selected.is_some_and(|n| n >= frame.node_count) {
            self.selected = None;
        }
        let wall = js_sys::Date::now();
        if status.reset {
            self.runs += 1;
        }
        let refresh = status.reset || !status.playing || wall - self.shown_at >= TEXT_EVERY_MS;
        // What the panels show besides `shown`: the transport, the
        // scenario, a broken invariant, whether the run can go on.
        let moved = status.playing != self.status.playing
            || status.settings.is_some()
            || status.undo != self.status.undo
            || status.end != self.status.end
            || status.speed.is_some()
            || self.frame.as_ref().is_none_or(|f| f.can_run != frame.can_run || f.violation != frame.violation);
        if refresh || moved {
            self.shown_version += 1;
        }
        self.status = Status { link: None, settings: None, ..status };
        self.frame = Some(Rc::new(frame));
        self.frames += 1;
        if refresh {
            self.refresh_shown(wall);
        }
    }

    /// The frame's changed nodes in place (all of them in a full frame).
    fn merge_nodes(&mut self, frame: &Frame) {
        let mut nodes = if frame.full { Vec::new() } else { (*self.nodes).clone() };
        nodes.truncate(frame.node_count as usize);
        for n in &frame.nodes {
            let i = n.id as usize;
            if i < nodes.len() {
                nodes[i] = n.clone();
            } else if i == nodes.len() {
                nodes.push(n.clone());
            }
        }
        if frame.full || !frame.nodes.is_empty() {
            self.nodes = Rc::new(nodes);
        }
    }

    /// New trace lines, keeping the last [`LOG_LINES`].
    fn push_log(&mut self, lines: &[String]) {
        if lines.is_empty() {
            return;
        }
        self.log_total += lines.len() as u64;
        let log = Rc::make_mut(&mut self.log);
        log.extend(lines.iter().cloned());
        while log.len() > LOG_LINES {
            log.pop_front();
        }
    }

    /// The charted metrics at the frame's time, if later than the last
    /// sample, keeping the last [`SAMPLES`].
    fn push_sample(&mut self, frame: &Frame) {
        let Some(schema) = &self.schema else { return };
        if self.samples.back().is_some_and(|last| frame.time <= last.time) {
            return;
        }
        let values = schema.metrics.iter().zip(&frame.metrics).filter(|(m, _)| m.chart).map(|(_, v)| *v).collect();
        let samples = Rc::make_mut(&mut self.samples);
        samples.push_back(Sample { time: frame.time, values });
        while samples.len() > SAMPLES {
            samples.pop_front();
        }
    }

    /// What the text panels show, from the state as it is now.
    fn refresh_shown(&mut self, wall: f64) {
        self.shown = Rc::new(Shown {
            frame: self.frame.clone(),
            nodes: self.nodes.clone(),
            log: self.log.clone(),
            log_total: self.log_total,
            samples: self.samples.clone(),
        });
        self.shown_at = wall;
    }

    /// A new sweep's plan: it starts, and results of earlier ones no
    /// longer count.
    fn tune_plan(&mut self, spec: TuneSpec, shape: Shape) {
        let generation = self.tune.generation + 1;
        self.tune = Rc::new(Tune {
            spec: Some(TuneSpec { generation, ..spec }),
            shape: Some(shape),
            generation,
            results: Vec::new(),
            running: true,
            started: js_sys::Date::now(),
            took: None,
        });
    }

    /// Results of the running sweep (others are ignored); it is done when
    /// every run is in.
    fn tune_results(&mut self, generation: u64, results: Vec<UnitResult>) {
        if generation == self.tune.generation && self.tune.running {
            let t = Rc::make_mut(&mut self.tune);
            t.results.extend(results);
            if t.shape.as_ref().is_some_and(|sh| t.results.len() as u64 >= sh.units()) {
                t.running = false;
                t.took = Some(js_sys::Date::now() - t.started);
            }
        }
    }
}
