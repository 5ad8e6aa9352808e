//! Messages between the page and the worker.
//!
//! Actions and scenarios travel as the scenario text format, so the worker
//! parses and validates everything a user typed with the same code as files
//! and links, and answers with a clear error instead of a panic. What does
//! not change while a run plays (the lab's [`Schema`]) is sent once per
//! load; frames carry small numbers ([`Frame`]).

use clusterscope_core::lab::{Frame, LabInfo, Schema, Settings};
use clusterscope_core::sim::Time;
use clusterscope_core::sweep::{Shape, UnitResult};
use serde::{Deserialize, Serialize};

/// What the page asks of the worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ToWorker {
    /// Load a share-link fragment (the part after '#'). On error the
    /// current run is kept.
    LoadLink(String),
    /// Load a scenario in the text format (an imported file), at its
    /// `until` time, paused. On error the current run is kept.
    LoadText(String),
    /// Load preset `index` of lab `lab` (empty: the lab the app opens
    /// with), at time 0.
    LoadPreset {
        /// The lab's name.
        lab: String,
        /// The preset's place in the lab's list.
        index: usize,
    },
    /// Run at the current speed.
    Play,
    /// Stop advancing.
    Pause,
    /// Advance to the next instant at which something happens.
    Step,
    /// Process the next single event (or the next recorded action).
    StepEvent,
    /// Go back one event (replays from the nearest snapshot).
    StepBack,
    /// Nothing: (as an API command) only answer with the state.
    Describe,
    /// Whether the page shows the space-time diagram: frames carry its
    /// records only then (turning it on sends what the lab buffered).
    Diagram(bool),
    /// The contents of message `id`, sent at `sent`; answered with
    /// [`FromWorker::MessageText`].
    MessageText {
        /// The message's id in the run.
        id: u64,
        /// When it was sent.
        sent: Time,
    },
    /// The scenario recorded so far, as a file; answered with
    /// [`FromWorker::Text`].
    ExportText,
    /// Virtual seconds per wall-clock second; 0 means as fast as possible.
    Speed(f64),
    /// A command from the embedding API: done as `cmd`, then answered with
    /// [`FromWorker::Done`] carrying `tag` and the error, if any (which is
    /// then not shown on the page: the embedding page handles it).
    Api {
        /// The page's number for the request.
        tag: u64,
        /// The command.
        cmd: Box<ToWorker>,
    },
    /// Apply an action now, written as in a scenario file after `at T`,
    /// e.g. "crash S2" or "partition S1,S2 | S3,S4,S5".
    Act(String),
    /// Restart from time 0 with changed parameters ("name value" pairs, as
    /// in the text format) and seed; recorded actions are kept.
    Configure { params: Vec<(String, String)>, seed: u64 },
    /// Go back to time 0 with the same scenario.
    Reset,
    /// Drop the scenario's actions still to come (a preset's script): the
    /// user takes over from here.
    TakeOver,
    /// `true`: undo the last branch or take-over (the actions it dropped
    /// come back); `false`: keep it and forget the undo.
    Undo(bool),
    /// Jump to a virtual time (replays from the nearest snapshot).
    Seek(Time),
    /// The page has drawn the last frame: send the next one.
    Ack,
    /// Measure engine throughput: run the named lab's benchmark workload
    /// to its `until` time.
    Bench(String),
    /// A question for the running lab's own model (a key lookup, a
    /// comparison); answered with [`FromWorker::Answer`].
    Query(String),
    /// Plan a sweep of the current scenario (the template: the whole
    /// scenario to its end, or to the time given): parameters as
    /// `NAME=VALUES`, seeds, metrics. Answered with [`FromWorker::TunePlan`]
    /// or an error (one naming a metric that measures nothing in the
    /// template's window).
    TunePlan(clusterscope_core::scenario::TuneDef, Option<Time>),
    /// Run units `from..to` of a planned sweep (a worker of the Tune pool).
    TuneRun { plan: Box<TuneSpec>, from: u64, to: u64 },
    /// Open one run of a sweep (point and seed) as the lab's run.
    TuneOpen { plan: Box<TuneSpec>, point: usize, seed: u64 },
    /// Run one of the open lab's experiments on the run so far (if it reads
    /// one) with these arguments (name, value); answered with
    /// [`FromWorker::Table`].
    Experiment {
        /// The experiment's name.
        name: String,
        /// Arguments given; the rest take their defaults.
        args: Vec<(String, String)>,
    },
    /// Run a lab's own benchmark (its `Engine::speed`) with its arguments.
    LabBench {
        /// The lab.
        lab: String,
        /// Its arguments, as the lab reads them.
        args: String,
    },
}

/// What the worker tells the page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum FromWorker {
    /// Every lab, for the menus: sent when the page connects.
    Catalog(Vec<LabInfo>),
    /// A new moment to draw, and with a run's first frame the lab's schema
    /// (a run of a possibly other lab loaded): one message, so that the
    /// page lays the lab out and draws its first moment in one render
    /// rather than two.
    Frame(Box<Frame>, Status, Option<Box<Schema>>),
    /// Something the user asked for could not be done (the run goes on).
    Error(String),
    /// A benchmark's result.
    Bench(BenchResult),
    /// The lab's answer to a [`ToWorker::Query`]: the question and the
    /// answer in the lab's own encoding.
    Answer(String, Vec<u8>),
    /// An experiment's table: the experiment's name, its answer, and per
    /// row the link of the run it is (if it is one).
    Table(String, Box<clusterscope_core::lab::Table>, Vec<Option<String>>),
    /// A lab's own benchmark result: the lab, and the result as JSON.
    LabBench(String, String),
    /// The run's client history and its verdict, when they changed (at
    /// most a few times a second while playing); `None`: the run has none.
    History(Option<Box<crate::history::HistoryShown>>),
    /// A sweep, planned: what to send the pool, and its shape.
    TunePlan(Box<TuneSpec>, Shape),
    /// An API command is done: its tag and the lab's state after it, or
    /// why it failed.
    Done(u64, Result<Box<ApiState>, String>),
    /// A message's contents in words.
    MessageText(u64, String),
    /// The scenario recorded so far, in the text format.
    Text(String),
    /// A chunk of a sweep's runs, done (with the sweep's generation).
    TuneResults(u64, Vec<UnitResult>),
}

/// A planned sweep, as the pool's workers rebuild it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuneSpec {
    /// The template scenario's text (its `until`: how far each run goes).
    pub template: String,
    /// `NAME=VALUES` per parameter.
    pub params: Vec<String>,
    /// Seeds `0..seeds`.
    pub seeds: u64,
    /// Metrics.
    pub metrics: Vec<String>,
    /// Which sweep of the page's (a cancelled one's late results are ignored).
    pub generation: u64,
}

/// Transport and scenario state that comes with a frame.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Whether virtual time is advancing.
    pub playing: bool,
    /// The link fragment that reproduces this moment (sent when it changed).
    pub link: Option<String>,
    /// The scenario's settings (sent when the scenario changed).
    pub settings: Option<Box<Settings>>,
    /// The latest virtual time reached in this run (for the time slider).
    pub horizon: Time,
    /// Where the scenario ends: its `until` as loaded (a preset's, a
    /// file's, a link's), 0 if it has none. Playing at maximum speed stops
    /// there; Tune's runs go that far unless told otherwise.
    #[serde(default)]
    pub end: Time,
    /// The frame starts a new run or follows a seek: drop old history.
    pub reset: bool,
    /// The worker's memory.
    #[serde(default)]
    pub memory: Memory,
    /// The speed the worker took from a scenario it loaded (its `speed`
    /// line), sent once: the page's speed control follows it.
    #[serde(default)]
    pub speed: Option<f64>,
    /// What the last action dropped (acting in the past starts a branch;
    /// "Take over" ends the script), in words, while it can be undone.
    #[serde(default)]
    pub undo: Option<String>,
}

/// The worker's memory, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Its WebAssembly heap (which grows and never shrinks).
    pub heap: u64,
    /// Of that, allocated now (the rest was freed inside the heap).
    pub in_use: u64,
    /// Snapshots kept for time travel.
    pub snapshots: u32,
    /// What they hold, as the lab estimates it.
    pub snapshot_bytes: u64,
}

/// Engine throughput measured in the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Events processed.
    pub events: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Client commands committed (or decided).
    pub committed: u64,
    /// Client requests made.
    pub requests: u64,
    /// Wall-clock milliseconds.
    pub millis: f64,
    /// Trace fingerprint (hex), to compare with the native run.
    pub fingerprint: String,
}

/// The lab's state as the embedding API reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiState {
    /// The lab's name.
    pub lab: String,
    /// Virtual time.
    pub time: Time,
    /// Whether virtual time is advancing.
    pub playing: bool,
    /// The trace fingerprint (hex).
    pub fingerprint: String,
    /// Events processed.
    pub events: u64,
    /// The leader (from 0), if the lab has one now.
    pub leader: Option<u32>,
    /// The lab's progress count (its metric with the progress role:
    /// requests committed, slots chosen).
    pub decided: f64,
    /// A broken invariant, in words.
    pub violation: Option<String>,
    /// The link fragment that reproduces this moment.
    pub link: String,
    /// The scenario's actions still to come (a preset's script).
    pub script: u64,
    /// The last branch or take-over, in words, while Undo can bring back
    /// what it dropped.
    pub branch: Option<String>,
}
