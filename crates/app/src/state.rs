//! The page's state: what the worker last reported, plus what only the page
//! knows (the selected node, the error on screen, chart history). Changed
//! only through [`Msg`] in [`AppState::reduce`], as in Yew's TodoMVC.
//!
//! Frames carry only what changed; the state merges them into whole views
//! (every node, the groups, the lab's own drawing) and keeps the parsed
//! scenario, so no panel parses text or rebuilds what did not change.

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
    /// The lab's last answer: question, encoded answer, and a count.
    pub answer: Option<(String, Rc<Vec<u8>>, u64)>,
    /// What the text panels show.
    pub shown: Rc<Shown>,
    /// When `shown` was last refreshed (wall-clock milliseconds).
    pub shown_at: f64,
    /// The Tune panel's sweep.
    pub tune: Rc<Tune>,
    /// The space-time diagram's records (shared, changed in place).
    pub diagram: crate::diagram::Diagram,
    /// Bumped whenever the diagram's records change.
    pub diagram_version: u64,
    /// A message's contents, as the worker last answered.
    pub message_text: Option<(u64, String)>,
    /// The scenario text the worker last exported, and how many exports.
    pub exported: Option<(u64, Rc<String>)>,
}

impl AppState {
    /// The lab's name, once known.
    pub fn lab(&self) -> &str {
        self.schema.as_ref().map_or("", |s| s.lab.as_str())
    }

    /// A metric's value in the latest frame.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let (s, f) = (self.schema.as_ref()?, self.frame.as_ref()?);
        f.metric(s, name)
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
}

impl Reducible for AppState {
    type Action = Msg;

    fn reduce(self: Rc<Self>, msg: Msg) -> Rc<Self> {
        let mut s = (*self).clone();
        match msg {
            Msg::Worker(FromWorker::Catalog(labs), _) => s.catalog = Rc::new(labs),
            Msg::Worker(FromWorker::Schema(schema), _) => {
                s.schema = Some(Rc::new(*schema));
                s.view = None;
                s.answer = None;
            }
            Msg::Worker(FromWorker::Frame(frame, status), bytes) => {
                s.frame_bytes = bytes;
                if status.reset {
                    s.log = Rc::new(VecDeque::new());
                    s.log_total = 0;
                    s.samples = Rc::new(VecDeque::new());
                    s.answer = None;
                }
                let mut nodes = if frame.full { Vec::new() } else { (*s.nodes).clone() };
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
                    s.nodes = Rc::new(nodes);
                }
                if let Some(g) = &frame.groups {
                    s.groups = Rc::new(g.clone());
                }
                if let Some(v) = &frame.view {
                    s.view = Some(Rc::new(v.clone()));
                }
                if let Some(chunk) = &frame.diagram {
                    s.diagram.0.borrow_mut().apply(chunk, frame.node_count);
                    s.diagram_version += 1;
                }
                s.messages = Rc::new(frame.messages.unpack(frame.time));
                if let Some(link) = &status.link {
                    s.link = link.clone();
                }
                if let Some(settings) = &status.settings {
                    s.settings = Some(Rc::new(settings.clone()));
                }
                if !frame.log.is_empty() {
                    s.log_total += frame.log.len() as u64;
                    let log = Rc::make_mut(&mut s.log);
                    log.extend(frame.log.iter().cloned());
                    while log.len() > LOG_LINES {
                        log.pop_front();
                    }
                }
                if let Some(schema) = &s.schema {
                    if s.samples.back().is_none_or(|last| frame.time > last.time) {
                        let values = schema
                            .metrics
                            .iter()
                            .zip(&frame.metrics)
                            .filter(|(m, _)| m.chart)
                            .map(|(_, v)| *v)
                            .collect();
                        let samples = Rc::make_mut(&mut s.samples);
                        samples.push_back(Sample { time: frame.time, values });
                        while samples.len() > SAMPLES {
                            samples.pop_front();
                        }
                    }
                }
                if s.selected.is_some_and(|n| n >= frame.node_count) {
                    s.selected = None;
                }
                let wall = js_sys::Date::now();
                let refresh = status.reset || !status.playing || wall - s.shown_at >= TEXT_EVERY_MS;
                s.status = Status { link: None, settings: None, ..status };
                s.frame = Some(Rc::new(*frame));
                s.frames += 1;
                if refresh {
                    s.shown = Rc::new(Shown {
                        frame: s.frame.clone(),
                        nodes: s.nodes.clone(),
                        log: s.log.clone(),
                        log_total: s.log_total,
                        samples: s.samples.clone(),
                    });
                    s.shown_at = wall;
                }
            }
            Msg::Worker(FromWorker::Error(e), _) | Msg::Error(e) => s.error = Some(e),
            // Answered by the embedding API before the state sees it.
            Msg::Worker(FromWorker::Done(..), _) => {}
            Msg::Worker(FromWorker::MessageText(id, text), _) => s.message_text = Some((id, text)),
            Msg::Worker(FromWorker::Text(text), _) => {
                let n = s.exported.as_ref().map_or(0, |e| e.0) + 1;
                s.exported = Some((n, Rc::new(text)));
            }
            Msg::Worker(FromWorker::Answer(question, answer), _) => {
                let n = s.answer.as_ref().map_or(0, |a| a.2) + 1;
                s.answer = Some((question, Rc::new(answer), n));
            }
            Msg::Worker(FromWorker::LabBench(lab, json), _) => {
                let runs = s.lab_bench.as_ref().map_or(0, |r| r.2) + 1;
                s.lab_bench = Some((lab, json, runs));
            }
            Msg::Worker(FromWorker::Bench(b), _) => {
                s.bench = Some(b);
                s.bench_runs += 1;
            }
            Msg::Worker(FromWorker::TunePlan(spec, shape), _) => {
                let generation = s.tune.generation + 1;
                s.tune = Rc::new(Tune {
                    spec: Some(TuneSpec { generation, ..*spec }),
                    shape: Some(shape),
                    generation,
                    results: Vec::new(),
                    running: true,
                    started: js_sys::Date::now(),
                    took: None,
                });
            }
            Msg::Worker(FromWorker::TuneResults(generation, results), _) => {
                if generation == s.tune.generation && s.tune.running {
                    let t = Rc::make_mut(&mut s.tune);
                    t.results.extend(results);
                    if t.shape.as_ref().is_some_and(|sh| t.results.len() as u64 >= sh.units()) {
                        t.running = false;
                        t.took = Some(js_sys::Date::now() - t.started);
                    }
                }
            }
            Msg::TuneCancel => {
                let t = Rc::make_mut(&mut s.tune);
                t.running = false;
                t.generation += 1;
            }
            Msg::Select(n) => s.selected = n,
            Msg::Speed(v) => s.speed = v,
            Msg::DismissError => s.error = None,
        }
        Rc::new(s)
    }
}
