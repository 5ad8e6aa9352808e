//! The page's state: what the worker last reported, plus what only the page
//! knows (the selected node, the error on screen, chart history). Changed
//! only through [`Msg`] in [`AppState::reduce`], as in Yew's TodoMVC.

use crate::protocol::{BenchResult, CompareView, FromWorker, Status};
use clusterscope_core::lab::{Frame, RingFrame};
use clusterscope_core::sim::Time;
use std::collections::VecDeque;
use std::rc::Rc;
use yew::Reducible;

/// Most event-log lines kept on the page.
pub const LOG_LINES: usize = 400;
/// Most chart samples kept.
pub const SAMPLES: usize = 240;

/// One point of the live charts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Virtual time.
    pub time: Time,
    /// Messages delivered per second.
    pub msgs_per_sec: f64,
    /// Commit latency p99, microseconds.
    pub commit_p99: f64,
    /// Time without a leader so far, microseconds.
    pub leaderless: f64,
    /// Highest term.
    pub term: f64,
}

/// Everything the page draws from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppState {
    /// The latest frame.
    pub frame: Option<Rc<Frame>>,
    /// Frames received so far (drives acknowledgements).
    pub frames: u64,
    /// Transport state.
    pub status: Status,
    /// Link fragment of the current moment.
    pub link: String,
    /// The scenario as text.
    pub scenario: String,
    /// An error to show.
    pub error: Option<String>,
    /// The node the user clicked.
    pub selected: Option<u32>,
    /// Speed: virtual seconds per wall second (0 = maximum).
    pub speed: f64,
    /// Recent trace lines.
    pub log: VecDeque<String>,
    /// Chart history.
    pub samples: VecDeque<Sample>,
    /// The last benchmark result.
    pub bench: Option<BenchResult>,
    /// Benchmark runs finished.
    pub bench_runs: u64,
    /// The Ring lab's latest drawing (frames carry it only when it changed).
    pub ring: Option<Rc<RingFrame>>,
    /// The last ring benchmark (JSON) and how many have finished.
    pub ring_bench: Option<(u64, String)>,
    /// The Ring lab's last key lookup: the key and its servers.
    pub located: Option<(String, Vec<String>)>,
    /// The Ring lab's comparison table, when asked for.
    pub compare: Option<Rc<Vec<CompareView>>>,
}

/// Everything that changes the state.
pub enum Msg {
    /// A message from the worker.
    Worker(FromWorker),
    /// The user clicked a node (or empty space).
    Select(Option<u32>),
    /// The user changed the speed.
    Speed(f64),
    /// An error found on the page itself.
    Error(String),
    /// The user closed the error.
    DismissError,
}

impl Reducible for AppState {
    type Action = Msg;

    fn reduce(self: Rc<Self>, msg: Msg) -> Rc<Self> {
        let mut s = (*self).clone();
        match msg {
            Msg::Worker(FromWorker::Frame(frame, status)) => {
                if status.reset {
                    s.log.clear();
                    s.samples.clear();
                    s.compare = None;
                    s.located = None;
                    if frame.lab != "ring" {
                        s.ring = None;
                    }
                }
                if let Some(ring) = &frame.ring {
                    if s.ring.as_ref().is_some_and(|r| r.version != ring.version) {
                        s.compare = None;
                    }
                    s.ring = Some(Rc::new(ring.clone()));
                }
                if let Some(link) = &status.link {
                    s.link = link.clone();
                }
                if let Some(text) = &status.scenario {
                    s.scenario = text.clone();
                }
                s.log.extend(frame.log.iter().cloned());
                while s.log.len() > LOG_LINES {
                    s.log.pop_front();
                }
                let metric = |name: &str| frame.metric(name).map_or(0.0, |m| m.value);
                if s.samples.back().is_none_or(|last| frame.time > last.time) {
                    s.samples.push_back(Sample {
                        time: frame.time,
                        msgs_per_sec: metric("msgs_per_sec"),
                        commit_p99: metric("commit_p99"),
                        leaderless: metric("leaderless"),
                        term: metric("term"),
                    });
                    while s.samples.len() > SAMPLES {
                        s.samples.pop_front();
                    }
                }
                if s.selected.is_some_and(|n| n as usize >= frame.nodes.len()) {
                    s.selected = None;
                }
                s.status = Status { link: None, scenario: None, ..status };
                s.frame = Some(Rc::new(*frame));
                s.frames += 1;
            }
            Msg::Worker(FromWorker::Error(e)) | Msg::Error(e) => s.error = Some(e),
            Msg::Worker(FromWorker::Compare(rows)) => s.compare = Some(Rc::new(rows)),
            Msg::Worker(FromWorker::Located(key, servers)) => s.located = Some((key, servers)),
            Msg::Worker(FromWorker::RingBench(json)) => {
                let runs = s.ring_bench.as_ref().map_or(0, |r| r.0) + 1;
                s.ring_bench = Some((runs, json));
            }
            Msg::Worker(FromWorker::Bench(b)) => {
                s.bench = Some(b);
                s.bench_runs += 1;
            }
            Msg::Select(n) => s.selected = n,
            Msg::Speed(v) => s.speed = v,
            Msg::DismissError => s.error = None,
        }
        Rc::new(s)
    }
}
