//! The lab boundary: every lab is a plug-in.
//!
//! A lab is three things:
//!
//! * a static description, [`LabDef`]: its name, its parameter table, its
//!   own action verbs (the shared faults come for free), its presets and
//!   its experiments ([`experiment`]); registered in one list,
//!   [`registry`], and light, so every program knows every lab;
//! * its engine, [`Engine`]: the code that builds and runs it and its
//!   experiments. Kept apart from the description so that a program can
//!   read, link and list every lab while linking the code of only the labs
//!   it runs: the browser loads one lab's engine (a Web Worker of its own)
//!   at a time, and an embedded lab downloads no other lab's code;
//! * a running model, [`Model`]: advance to a time, apply an action, and
//!   report what the page draws ([`Schema`] once, [`Frame`]s after).
//!
//! Everything generic is written once against these two: [`Lab`] replays a
//! scenario's timed actions as virtual time passes and records live actions
//! into the scenario (so the link always reproduces the screen), the Web
//! Worker drives a `Lab`, the CLI runs one, and the tests run every
//! scenario file of every registered lab. Ordering rule, the same live and
//! in replay: an action at time `t` applies after every event due at or
//! before `t`.
//!
//! Message-passing protocols share one cluster lab, [`cluster::ClusterLab`],
//! on the simulator; a protocol implements [`cluster::ClusterProtocol`] and
//! gets the faults, the client workload, the drawing of nodes and messages
//! and the event log. A lab with its own model (a placement lab) implements
//! [`Model`] directly.

pub mod catalog;
pub mod cluster;
pub mod consistency;
pub mod diagram;
pub mod experiment;
pub mod frame;
pub mod registry;
pub mod timetravel;
pub mod varint;

pub use catalog::{ExperimentInfo, LabInfo, ParamView, Settings};
pub use experiment::{Better, Cell, Column, ColumnKind, ExpArg, ExpArgs, Experiment, Table};
pub use frame::{
    choose_messages, FieldSpec, Frame, KindStyle, MessageDot, Messages, MetricRole, MetricSpec, NodeAction, NodeForm,
    NodeStatus, NodeView, NoteStyle, RoleLook, RoleShape, RoleStyle, Schema, StripBase, StripSpec, Unit,
};

use crate::scenario::params::ParamSpec;
use crate::scenario::{Action, LabKind, Scenario, ScenarioError, Timed};
use crate::sim::{Counters, Time, Violation};

/// Most trace lines in one frame while playing (a person reads far fewer;
/// the CLI's `--trace` has them all).
pub const FRAME_LOG_LINES: usize = 60;
/// Most trace lines in a frame that starts a run or follows a seek.
pub const FULL_LOG_LINES: usize = 200;
/// Longest trace line sent to the page, in characters.
pub const LOG_LINE_CHARS: usize = 160;
/// Most messages drawn in one frame.
pub const DRAWN_MESSAGES: usize = 1_500;

/// A lab's own benchmark: its arguments as text and a clock in
/// milliseconds in, its result as JSON out (see [`Engine::speed`]).
pub type SpeedBench = fn(&str, &dyn Fn() -> f64) -> Result<String, String>;

/// Runs an experiment: the scenario, if it reads one (of one of the labs in
/// [`Experiment::reads`]), and its complete arguments (defaults filled) in,
/// a table out.
pub type RunExperiment = fn(Option<&Scenario>, &ExpArgs) -> Result<Table, String>;

/// What runs a lab: the code behind its [`LabDef`]. Every program knows
/// every lab's description; only a program that registers a lab's engine
/// (see [`registry::engine`]) links that lab's simulator.
pub struct Engine {
    /// The lab it runs.
    pub lab: &'static LabDef,
    /// Builds the model at time 0.
    pub build: fn(&Scenario) -> Result<Box<dyn Model>, ScenarioError>,
    /// A benchmark of its own beyond the workload: its arguments as text
    /// and a clock in milliseconds (the engine reads none) in, a result as
    /// JSON out. The browser's benchmark page runs it in the worker.
    pub speed: Option<SpeedBench>,
    /// How each of [`LabDef::experiments`] runs, by name (one for each).
    pub runs: &'static [(&'static str, RunExperiment)],
    /// Other labs' engines its experiments run (an experiment that sets two
    /// labs side by side runs both): registering this engine registers them
    /// too.
    pub also: &'static [&'static Engine],
}

/// What every program knows of a built-in lab, even one that does not run
/// it (a browser worker links its own lab's [`LabDef`] alone): enough for a
/// menu to name the lab and say what it shows. The lab's [`LabDef`] takes
/// its name, title and sentence from here, so the two cannot differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabHead {
    /// Name in files and links.
    pub name: &'static str,
    /// Name for people.
    pub title: &'static str,
    /// One sentence on what it shows.
    pub about: &'static str,
    /// Whether it has a workload for the engine benchmark
    /// ([`LabDef::bench`]; a test holds the two to agree).
    pub bench: bool,
}

/// A lab's static description, registered in [`registry`].
pub struct LabDef {
    /// Name in files and links (lower case, one word).
    pub name: &'static str,
    /// Name for people.
    pub title: &'static str,
    /// One sentence on what it shows.
    pub about: &'static str,
    /// Parameter tables, in display order (a cluster lab adds the shared
    /// network table).
    pub params: &'static [&'static [ParamSpec]],
    /// The shared fault verbs it accepts (of [`crate::scenario::SHARED_VERBS`]).
    pub shared_verbs: &'static [&'static str],
    /// Its own verbs.
    pub verbs: &'static [&'static str],
    /// Reads one of its own verbs and the rest of the line into the
    /// canonical text stored in [`Action::Lab`].
    pub parse_verb: fn(verb: &str, rest: &str) -> Result<String, String>,
    /// Checks one of its own actions (canonical text) against the node
    /// count, which it may change (adding a server).
    pub check_verb: fn(text: &str, nodes: &mut u32) -> Result<(), String>,
    /// Checks what the parameter table cannot (a minimum below a maximum).
    pub check: fn(&Scenario) -> Result<(), String>,
    /// How many servers the scenario starts with (most labs: its `nodes`
    /// parameter; a lab with several kinds of server adds them up).
    pub nodes: fn(&Scenario) -> u32,
    /// Presets: (title, scenario text); the first opens when the lab does.
    pub presets: &'static [(&'static str, &'static str)],
    /// A steady workload for the engine benchmark (the browser's
    /// `?bench=1` page runs it in the worker), if the lab has one.
    pub bench: Option<&'static str>,
    /// Its experiments: named runs that produce a table (Figure 16, a
    /// comparison of policies), in the order a list shows them.
    pub experiments: &'static [Experiment],
}

/// A lab's running model, driven by [`Lab`].
pub trait Model {
    /// Current virtual time.
    fn now(&self) -> Time;
    /// When the next event is due, if any is queued.
    fn next_event(&self) -> Option<Time>;
    /// Runs every event due at or before `t` (stopping at a violation),
    /// then sets the clock to `t`.
    fn run_to(&mut self, t: Time);
    /// Applies an action now. An error says why it cannot apply; nothing
    /// changed then.
    fn apply(&mut self, action: &Action) -> Result<(), String>;
    /// The first invariant violation, if any (the run has stopped).
    fn violation(&self) -> Option<&Violation> {
        None
    }
    /// Fingerprint of everything that happened so far.
    fn fingerprint(&self) -> u64;
    /// Events processed so far.
    fn events(&self) -> u64;
    /// Run-wide counters of a message-passing lab.
    fn counters(&self) -> Counters {
        Counters::default()
    }
    /// What does not change while the run plays.
    fn schema(&self) -> Schema;
    /// Metric values in schema order (NaN: not measured yet).
    fn metrics(&mut self) -> Vec<f64>;
    /// Fills a frame's nodes, messages, groups, log and the lab's own view
    /// (its own type, bincode-encoded, which its page module decodes).
    /// `full`: everything, not only what changed since the last frame.
    fn draw(&mut self, frame: &mut Frame, full: bool);
    /// The recent trace, one line an event.
    fn trace_lines(&self) -> Vec<String>;
    /// A lab-specific question from its page module (a key
    /// lookup), answered in the lab's own bincode-encoded type.
    /// `scn` is the scenario recorded so far.
    fn query(&self, scn: &Scenario, question: &str) -> Result<Vec<u8>, String> {
        let _ = scn;
        Err(format!("this lab answers no questions ('{question}')"))
    }
    /// Processes the next event only (labs that cannot split an instant
    /// run the whole next instant).
    fn step_event(&mut self) {
        if let Some(t) = self.next_event() {
            self.run_to(t);
        }
    }
    /// Starts or stops recording the space-time diagram (labs without
    /// one ignore it).
    fn record_diagram(&mut self, on: bool) {
        let _ = on;
    }
    /// The diagram records made since the last call, if any, with the
    /// spans open now.
    fn take_diagram(&mut self) -> Option<diagram::Chunk> {
        None
    }
    /// The spans open now, while the diagram is recorded: each a
    /// [`diagram::What::Open`] record from its start to now.
    fn open_spans(&self) -> Vec<diagram::Record> {
        Vec::new()
    }
    /// Drops the records not yet taken and starts the next chunk's names
    /// from the beginning; returns the number the next record will have.
    /// (A snapshot does this: it is restored in place of a later state.)
    fn forget_diagram(&mut self) -> u64 {
        0
    }
    /// A message's contents in words, if the recent trace still holds it.
    fn message_text(&self, id: u64) -> Option<String> {
        let _ = id;
        None
    }
    /// About how many bytes a copy of this model holds (for the worker's
    /// budget of time-travel snapshots).
    fn approx_bytes(&self) -> usize {
        std::mem::size_of_val(self)
    }
    /// The clients' history so far, for the linearizability checker and
    /// the history view; `None` for a lab whose clients read and write no
    /// values.
    fn client_history(&self) -> Option<crate::history::ClientHistory> {
        None
    }
    /// A copy (the worker keeps snapshots for time travel).
    fn clone_box(&self) -> Box<dyn Model>;
    /// The model itself, for a lab's own tests to downcast.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A running lab: a model plus the scenario it replays and records.
pub struct Lab {
    scn: Scenario,
    next_action: usize,
    model: Box<dyn Model>,
}

impl Clone for Lab {
    fn clone(&self) -> Self {
        Lab { scn: self.scn.clone(), next_action: self.next_action, model: self.model.clone_box() }
    }
}

impl Lab {
    /// Builds the lab a scenario describes, at time 0.
    pub fn new(scn: &Scenario) -> Result<Lab, ScenarioError> {
        scn.validate()?;
        let engine = registry::engine(scn.lab.name()).map_err(ScenarioError::Invalid)?;
        let model = (engine.build)(scn)?;
        Ok(Lab { scn: Scenario { until: 0, ..scn.clone() }, next_action: 0, model })
    }

    /// Builds the lab and runs it to the scenario's `until` time.
    pub fn replay(scn: &Scenario) -> Result<Lab, ScenarioError> {
        let mut lab = Lab::new(scn)?;
        lab.run_until(scn.until);
        Ok(lab)
    }

    /// Which lab this is.
    pub fn kind(&self) -> LabKind {
        self.scn.lab
    }

    /// Current virtual time.
    pub fn now(&self) -> Time {
        self.model.now()
    }

    /// Runs events and scenario actions up to `t`.
    pub fn run_until(&mut self, t: Time) {
        loop {
            if self.model.violation().is_some() {
                return;
            }
            let next_action = self.scn.actions.get(self.next_action).map(|a| a.at).filter(|&a| a <= t);
            self.model.run_to(next_action.unwrap_or(t));
            if self.model.violation().is_some() || next_action.is_none() {
                return;
            }
            let action = self.scn.actions[self.next_action].action.clone();
            self.next_action += 1;
            // A recorded action the model refuses (possible only in a
            // hand-written file) is noted by the model and skipped.
            let _ = self.model.apply(&action);
        }
    }

    /// How far the run is, counting every event and every action applied:
    /// [`Lab::step_event`] moves it on by exactly one.
    pub fn position(&self) -> u64 {
        self.model.events() + self.next_action as u64
    }

    /// Processes the next single event, or applies the next recorded
    /// action if it comes first (an action at `t` applies after every event
    /// due at or before `t`, as in [`Lab::run_until`]). Returns false if
    /// nothing is left to do or the run stopped.
    pub fn step_event(&mut self) -> bool {
        if self.model.violation().is_some() {
            return false;
        }
        let te = self.model.next_event();
        let ta = self.scn.actions.get(self.next_action).map(|a| a.at);
        match (te, ta) {
            (_, Some(a)) if te.is_none_or(|e| a < e) => {
                self.model.run_to(a);
                let action = self.scn.actions[self.next_action].action.clone();
                self.next_action += 1;
                let _ = self.model.apply(&action);
                true
            }
            (Some(_), _) => {
                let before = self.position();
                self.model.step_event();
                self.position() > before
            }
            _ => false,
        }
    }

    /// Starts or stops recording the space-time diagram.
    pub fn record_diagram(&mut self, on: bool) {
        self.model.record_diagram(on);
    }

    /// The diagram records made since the last call.
    pub fn take_diagram(&mut self) -> Option<diagram::Chunk> {
        self.model.take_diagram()
    }

    /// The spans open now on the diagram (a lock held, a lease believed
    /// in), each a [`diagram::What::Open`] record from its start to now,
    /// numbered as the next record will be but not one of the run's: the
    /// span becomes a [`diagram::What::Span`] record when it closes. Like
    /// every part of the lab's state, they are the same at a time reached
    /// live, by a replay, or from a snapshot.
    pub fn open_spans(&self) -> Vec<diagram::Record> {
        self.model.open_spans()
    }

    /// A copy to keep for time travel: without the diagram records not yet
    /// sent (they belong to this run's page already), and the number its
    /// first new record will have.
    pub fn snapshot(&self) -> (Lab, u64) {
        let mut copy = self.clone();
        let next = copy.model.forget_diagram();
        (copy, next)
    }

    /// A message's contents in words, if the recent trace still holds it.
    pub fn message_text(&self, id: u64) -> Option<String> {
        self.model.message_text(id)
    }

    /// The clients' history so far, if the lab's clients read and write
    /// values.
    pub fn client_history(&self) -> Option<crate::history::ClientHistory> {
        self.model.client_history()
    }

    /// About how many bytes a copy of this lab holds.
    pub fn approx_bytes(&self) -> usize {
        self.model.approx_bytes() + self.scn.actions.len() * std::mem::size_of::<Timed>()
    }

    /// Runs until the next instant at which something happens. Returns
    /// false if nothing is left to do or the run stopped.
    pub fn step(&mut self) -> bool {
        if self.model.violation().is_some() {
            return false;
        }
        let te = self.model.next_event();
        let ta = self.scn.actions.get(self.next_action).map(|a| a.at);
        let target = match (te, ta) {
            (Some(e), Some(a)) => e.min(a),
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => return false,
        };
        self.run_until(target);
        true
    }

    /// Applies a user's action now and records it in the scenario, among
    /// the actions still to come (a preset's script goes on: see
    /// [`Lab::drop_script`] to end it). An action the scenario or the model
    /// refuses changes nothing.
    pub fn act(&mut self, action: Action) -> Result<(), ScenarioError> {
        let now = self.now();
        // Everything due now happens first, as it would in a replay; what
        // is left comes later than now, so the new action goes before it.
        self.run_until(now);
        let mut trial = self.scn.clone();
        trial.actions.insert(self.next_action, Timed { at: now, action: action.clone() });
        trial.validate()?;
        self.model.apply(&action).map_err(ScenarioError::Invalid)?;
        self.scn = trial;
        self.next_action += 1;
        // What the action set off for this same instant runs now too, as a
        // replay up to this time would run it.
        self.run_until(now);
        Ok(())
    }

    /// The recorded actions not applied yet: a preset's script, or what a
    /// run recorded after the time it was taken back to.
    pub fn script_left(&self) -> &[Timed] {
        &self.scn.actions[self.next_action.min(self.scn.actions.len())..]
    }

    /// Drops the actions not applied yet (the user takes over from the
    /// script, or branches off in the past); returns how many went.
    pub fn drop_script(&mut self) -> usize {
        let left = self.scn.actions.len().saturating_sub(self.next_action);
        self.scn.actions.truncate(self.next_action);
        left
    }

    /// The scenario that reproduces this lab as it is now (`until` is now).
    pub fn scenario(&self) -> Scenario {
        Scenario { until: self.now(), ..self.scn.clone() }
    }

    /// Replaces the recorded actions with `actions`, of which this lab's
    /// own must be a prefix (used when seeking from an older snapshot).
    pub fn adopt_actions(&mut self, actions: Vec<Timed>) {
        let n = self.next_action;
        if actions.len() >= n && actions[..n] == self.scn.actions[..n] {
            self.scn.actions = actions;
        }
    }

    /// The first invariant violation, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.model.violation()
    }

    /// The violation in words, with the time and the seed to replay it.
    pub fn violation_text(&self) -> Option<String> {
        self.model.violation().map(|v| {
            format!(
                "{} violated at {} (seed {}): {}",
                v.invariant,
                crate::sim::time::format_duration(v.at),
                self.scn.seed,
                v.message
            )
        })
    }

    /// Fingerprint of everything that happened so far.
    pub fn fingerprint(&self) -> u64 {
        self.model.fingerprint()
    }

    /// Whether anything is left to happen and no invariant broke.
    pub fn can_run(&self) -> bool {
        self.model.violation().is_none()
            && (self.model.next_event().is_some() || self.next_action < self.scn.actions.len())
    }

    /// Run-wide counters (messages sent, delivered, dropped; requests).
    pub fn counters(&self) -> Counters {
        self.model.counters()
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.model.events()
    }

    /// What does not change while the run plays.
    pub fn schema(&self) -> Schema {
        let def = self.scn.lab.def();
        let own = self.model.schema();
        let verbs = self.scn.lab.verbs();
        let mut node_actions = fault_actions(def.shared_verbs);
        // Only buttons for verbs the lab accepts.
        node_actions.extend(
            own.node_actions.iter().filter(|a| verbs.contains(&a.command.split(' ').next().unwrap_or(""))).cloned(),
        );
        if def.shared_verbs.contains(&"partition") {
            node_actions.push(
                NodeAction::new("Isolate", "partition {node} | {others}").help("cut it off from every other node"),
            );
        }
        Schema {
            lab: def.name.into(),
            title: def.title.into(),
            verbs: verbs.into_iter().map(str::to_string).collect(),
            node_actions,
            ..own
        }
    }

    /// The metrics now: each spec with its value.
    pub fn metrics(&mut self) -> Vec<(MetricSpec, f64)> {
        let values = self.model.metrics();
        self.model.schema().metrics.into_iter().zip(values).collect()
    }

    /// Checks one `expect` line against the metrics now.
    pub fn check(&mut self, e: &crate::scenario::Expect) -> Result<String, String> {
        if let Some(name) = &e.violation {
            let line = format!("expect {}", e.text());
            return match self.model.violation() {
                Some(v) if v.invariant == name => Ok(format!("{line} (it stopped the run at {} µs)", v.at)),
                Some(v) => Err(format!("{line} failed: the run was stopped by \"{}\" instead", v.invariant)),
                None => Err(format!("{line} failed: no checker stopped the run")),
            };
        }
        let values = self.model.metrics();
        frame::check_expect(&self.schema(), &values, e)
    }

    /// A view of this moment. `full`: every node and the recent log window,
    /// not only what changed since the last frame.
    pub fn frame(&mut self, full: bool) -> Frame {
        let mut frame = Frame {
            time: self.now(),
            events: self.events(),
            fingerprint: self.fingerprint(),
            full,
            node_count: 0,
            nodes: Vec::new(),
            messages: Messages::default(),
            messages_total: 0,
            groups: None,
            log: Vec::new(),
            metrics: self.model.metrics(),
            violation: self.violation_text(),
            can_run: self.can_run(),
            view: None,
            diagram: None,
            narration: None,
        };
        self.model.draw(&mut frame, full);
        frame
    }

    /// The trace window, one line an event.
    pub fn trace_lines(&self) -> Vec<String> {
        self.model.trace_lines()
    }

    /// Records the sweep set up over this scenario (it then travels in the
    /// link). Not an action: the run is unchanged.
    pub fn set_tune(&mut self, tune: Option<crate::scenario::TuneDef>) {
        self.scn.tune = tune;
    }

    /// The scenario's settings as the page shows them.
    pub fn settings(&self) -> Settings {
        catalog::settings(&self.scn)
    }

    /// A lab-specific question, answered in the lab's own encoded type.
    pub fn query(&self, question: &str) -> Result<Vec<u8>, String> {
        self.model.query(&self.scenario(), question)
    }

    /// The model as its own type, for a lab's tests:
    /// `lab.model::<ClusterLab<MyNode>>()`.
    pub fn model<M: 'static>(&self) -> Option<&M> {
        self.model.as_any().downcast_ref::<M>()
    }
}

/// The node buttons of the shared faults a lab accepts: crash or restart,
/// pause or resume.
fn fault_actions(verbs: &[&str]) -> Vec<NodeAction> {
    use NodeStatus::{Crashed, Paused, Up};
    let mut out = Vec::new();
    if verbs.contains(&"restart") {
        out.push(NodeAction::new("Restart", "restart {node}").shown(&[Crashed]));
    }
    if verbs.contains(&"crash") {
        out.push(NodeAction::new("Crash", "crash {node}").shown(&[Up, Paused]));
    }
    if verbs.contains(&"resume") {
        out.push(NodeAction::new("Resume", "resume {node}").shown(&[Paused]));
    }
    if verbs.contains(&"pause") {
        out.push(NodeAction::new("Pause", "pause {node}").shown(&[Up, Crashed]).enabled(&[Up]));
    }
    out
}

/// Cuts a log line to `max` characters, marking the cut.
pub fn shorten(mut line: String, max: usize) -> String {
    if let Some((cut, _)) = line.char_indices().nth(max) {
        line.truncate(cut);
        line.push('…');
    }
    line
}
