//! The one cluster lab that every message-passing protocol shares.
//!
//! A protocol implements [`ClusterProtocol`]: the
//! [`Protocol`](crate::sim::Protocol) state machine plus what the lab needs
//! to show it (roles, message kinds, node fields, its own metrics) and the
//! safety checkers to run. [`ClusterLab`] then gives it, for free: the
//! simulator with its network and faults (crash, restart, pause, partition,
//! one-way cuts, loss, delay, duplication), the client workload
//! ([`crate::sim::Clients`]) with its latency percentiles, the verbs
//! `timeout` and `request`, the drawing of nodes and messages in flight
//! (chosen by [`choose_messages`] and packed), the event log, and the
//! shared metrics (commits, latency, message rate).

use super::consistency::Consistency;
use super::diagram::{self, FaultKind, Record, SpanEdge, What};
use super::frame::{
    choose_messages, FieldSpec, Frame, KindStyle, MessageDot, Messages, MetricRole, MetricSpec, NodeAction, NoteStyle,
    RoleStyle, Schema, StripSpec, Unit,
};
use super::{shorten, Model, NodeStatus, NodeView, DRAWN_MESSAGES, FRAME_LOG_LINES, FULL_LOG_LINES, LOG_LINE_CHARS};
use crate::scenario::{check_node, parse_one_node, split_word, Action, Scenario, ScenarioError};
use crate::sim::{
    ClientConfig, Counters, DropReason, Fault, Invariant, KvConfig, NetConfig, Node, Observable, Protocol, Sim,
    SimConfig, Time, TraceEvent, Violation, MS,
};
use std::any::Any;
use std::collections::VecDeque;

/// The cluster lab's own verbs (the faults are shared by every lab).
pub const VERBS: &[&str] = &["timeout", "request"];

/// Reads `timeout S3` or `request S1` into its canonical text.
pub fn parse_verb(verb: &str, rest: &str) -> Result<String, String> {
    let n = parse_one_node(verb, rest)?;
    Ok(format!("{verb} S{}", u64::from(n) + 1))
}

/// Checks a cluster verb's server against the cluster's size.
pub fn check_verb(text: &str, nodes: &mut u32) -> Result<(), String> {
    let (verb, rest) = split_word(text);
    check_node(parse_one_node(verb, rest)?, *nodes)
}

/// Checks the shared network parameters (a minimum below a maximum).
pub fn check_network(scn: &Scenario) -> Result<(), String> {
    if scn.get("latency_min") > scn.get("latency_max") {
        return Err("latency_min must not be larger than latency_max".into());
    }
    let (reads, cas) = (scn.get("read_share"), scn.get("cas_share"));
    if reads + cas > 1_000_000 {
        return Err(format!(
            "read_share ({}%) and cas_share ({}%) add up to more than 100%",
            reads as f64 / 1e4,
            cas as f64 / 1e4
        ));
    }
    Ok(())
}

/// Builds the simulator configuration of a cluster lab from its scenario;
/// `reads_anywhere`: key-value reads go to a random server.
pub fn sim_config(scn: &Scenario) -> SimConfig {
    sim_config_with(scn, false, false)
}

/// [`sim_config`], saying whether key-value reads, and writes, go to any
/// server.
pub fn sim_config_with(scn: &Scenario, reads_anywhere: bool, writes_anywhere: bool) -> SimConfig {
    let g = |n: &str| scn.get(n).max(0) as u64;
    let kv = (g("keys") > 0).then(|| KvConfig {
        keys: g("keys") as u32,
        read_ppm: g("read_share") as u32,
        cas_ppm: g("cas_share") as u32,
        reads_anywhere,
        writes_anywhere,
    });
    SimConfig {
        nodes: scn.nodes(),
        seed: scn.seed,
        net: NetConfig {
            latency_min: g("latency_min"),
            latency_max: g("latency_max"),
            tail_ppm: g("tail") as u32,
            tail_max: g("tail_max"),
            loss_ppm: g("loss") as u32,
            dup_ppm: g("duplicate") as u32,
            reorder: g("reorder") != 0,
            ..NetConfig::default()
        },
        drift_ppm_max: g("drift") as u32,
        timer_jitter_max: g("jitter"),
        client: ClientConfig {
            rate_per_sec: g("request_rate"),
            timeout: g("client_timeout"),
            redirect_delay: MS,
            kv,
            ..ClientConfig::default()
        },
        trace_window: 4096,
    }
}

/// What a message-passing protocol adds to become a lab.
pub trait ClusterProtocol: Protocol + 'static {
    /// The protocol's own running figures (elections, leaders, ...),
    /// updated from the trace after every event.
    type Tracker: Clone + Default + 'static;

    /// Whether the shared clients send the servers commands (a replicated
    /// log's, a replicated store's). A protocol whose work is done by
    /// nodes of its own (clients that are nodes of the cluster) or that
    /// serves no commands at all says `false`: the page then shows no
    /// *Client request* action and no request metrics, which would read 0
    /// and "–" for ever.
    const CLIENT_COMMANDS: bool = true;

    /// The protocol's configuration from a scenario.
    fn config(scn: &Scenario) -> Self::Config;
    /// Whether the scenario sends key-value reads to any server (a
    /// protocol's read path that serves them locally), not the leader.
    fn reads_anywhere(scn: &Scenario) -> bool {
        let _ = scn;
        false
    }
    /// Whether the scenario sends key-value writes to any server too (a
    /// store where any server coordinates any command).
    fn writes_anywhere(scn: &Scenario) -> bool {
        let _ = scn;
        false
    }
    /// Adjusts the simulator configuration the shared parameters gave
    /// (for a lab's own network parameters).
    fn adjust_sim(scn: &Scenario, config: &mut SimConfig) {
        let _ = (scn, config);
    }
    /// Safety invariants checked after every event.
    fn invariants() -> Vec<Box<dyn Invariant<Self>>>;
    /// Node roles: (name, CSS colour), indexed by what
    /// [`ClusterProtocol::view`] writes.
    const ROLES: &'static [(&'static str, &'static str)] = &[];
    /// Notes its nodes make: (name as the trace gives it, CSS colour,
    /// whether an embedding page hears it as a `note` event).
    const NOTES: &'static [(&'static str, &'static str, bool)] = &[];
    /// Message kinds: (name as [`Observable::kind`] gives it, CSS colour,
    /// drawn as a reply, drawn small).
    const KINDS: &'static [(&'static str, &'static str, bool, bool)] = &[];
    /// Node roles, indexed by what [`ClusterProtocol::view`] writes.
    fn roles() -> Vec<RoleStyle> {
        Self::ROLES.iter().map(|(n, c)| RoleStyle::new(n, c)).collect()
    }
    /// Whether a run of configuration `cfg` can put a node in the role, or
    /// send a message of the kind, named `name` (as [`ClusterProtocol::ROLES`]
    /// and [`ClusterProtocol::KINDS`] name them): the legend leaves out
    /// those it cannot. By default every one can.
    fn can_show(_cfg: &Self::Config, _name: &str) -> bool {
        true
    }
    /// Buttons of its own verbs on a selected node (the cluster lab adds
    /// *Time out* and *Client request*, the shared faults come with them).
    fn node_actions() -> Vec<NodeAction> {
        Vec::new()
    }
    /// Message kinds, indexed by [`ClusterProtocol::kind_index`].
    fn kinds() -> Vec<KindStyle> {
        Self::KINDS
            .iter()
            .map(|(n, c, reply, small)| KindStyle {
                name: (*n).into(),
                color: (*c).into(),
                reply: *reply,
                small: *small,
                unused: false,
            })
            .collect()
    }
    /// A message's index in [`ClusterProtocol::kinds`].
    fn kind_index(msg: &Self::Msg) -> u8 {
        Self::kind_named(msg.kind()) as u8
    }
    /// The index of the message kind named `kind` in [`ClusterProtocol::kinds`].
    fn kind_named(kind: &str) -> u16 {
        Self::KINDS.iter().position(|(n, ..)| *n == kind).unwrap_or(0) as u16
    }
    /// Per-node numbers shown in the node table.
    fn fields() -> Vec<FieldSpec> {
        Vec::new()
    }
    /// What the node strip shows, if the protocol has one.
    fn strip() -> Option<StripSpec> {
        None
    }
    /// Fills a node's role, fields, strip and timer.
    fn view(node: &Node<Self>, view: &mut NodeView);
    /// Fills a node's view when it depends on what others think of it (the
    /// protocol's running figures): by default, [`ClusterProtocol::view`].
    fn view_in(tracker: &Self::Tracker, node: &Node<Self>, view: &mut NodeView) {
        let _ = tracker;
        Self::view(node, view);
    }
    /// The next fault the protocol's own model plans (a member failing or
    /// coming back on its own, drawn from the seed) and when it is due;
    /// the lab injects it then, as a user's action would be. Called once
    /// at the start and after each planned fault is injected.
    fn planned_fault(tracker: &mut Self::Tracker, sim: &Sim<Self>) -> Option<(Time, Fault)> {
        let _ = (tracker, sim);
        None
    }
    /// The protocol's own metrics, shown before the shared ones.
    fn metric_specs() -> Vec<MetricSpec> {
        Vec::new()
    }
    /// Updates the tracker from the events of the last step
    /// ([`Sim::last_events`]).
    fn observe(_tracker: &mut Self::Tracker, _sim: &Sim<Self>) {}
    /// What the last step did, in one plain sentence for the page's live
    /// narration ("S3 crashed: it stops answering"), if
    /// it did something worth saying; called after
    /// [`ClusterProtocol::observe`]. The shared faults are narrated
    /// already.
    fn narrate(_tracker: &Self::Tracker, _sim: &Sim<Self>) -> Option<String> {
        None
    }
    /// Heap bytes the lab's tracker holds (its histograms, histories,
    /// views), for the snapshot budget: a snapshot copies the tracker.
    fn tracker_bytes(_tracker: &Self::Tracker) -> usize {
        0
    }
    /// The node a note is about, if it is about another node (a failure
    /// detector's "S3 suspects S5"): the space-time diagram's tooltip names
    /// it (the mark stays on the noting node's lane).
    fn note_about(note: &Self::Note) -> Option<u32> {
        let _ = note;
        None
    }
    /// Whether a note opens or closes a span on its node's lane in the
    /// space-time diagram (a bar from one note to the other).
    fn span(note: &Self::Note) -> Option<SpanEdge> {
        let _ = note;
        None
    }
    /// Values of [`ClusterProtocol::metric_specs`], in order.
    fn metrics(_tracker: &Self::Tracker, _sim: &Sim<Self>, _out: &mut Vec<f64>) {}
    /// The run's counters for the benchmarks (`clusterscope bench`, the
    /// `?bench=1` page): the simulator's own, which a protocol whose
    /// clients are not the shared key-value clients completes with its
    /// own work done (`requests` begun, `committed` finished).
    fn counters(_tracker: &Self::Tracker, _counters: &mut Counters) {}
    /// Applies one of the protocol's own verbs (beyond `timeout` and
    /// `request`) naming server `node`.
    fn apply_verb(sim: &mut Sim<Self>, verb: &str, node: crate::sim::NodeId) -> Result<(), String> {
        let _ = (sim, node);
        Err(format!("'{verb}' is not an action of a cluster lab"))
    }
    /// The lab's own view for its page module (its own type,
    /// bincode-encoded, see [`Frame::view`]), made when a frame is drawn;
    /// sent again only when it changed. `None`: the lab has none.
    fn lab_view(tracker: &Self::Tracker, sim: &Sim<Self>) -> Option<Vec<u8>> {
        let _ = (tracker, sim);
        None
    }
    /// A question from the lab's page module, answered in its own
    /// bincode-encoded type (see [`Model::query`]).
    fn query(scn: &Scenario, question: &str) -> Result<Vec<u8>, String> {
        let _ = scn;
        Err(format!("this lab answers no questions ('{question}')"))
    }
}

/// A shared fault in one plain sentence, for the live narration (a
/// setting changed says nothing: the Network panel shows it).
pub fn fault_sentence(f: &Fault) -> Option<String> {
    let s = |n: &crate::sim::NodeId| format!("S{}", n + 1);
    Some(match f {
        Fault::Crash(n) => format!("{} crashed: it stops answering and its timers stop", s(n)),
        Fault::Restart(n) => format!("{} restarted from what it had saved", s(n)),
        Fault::Pause(n) => format!("{} paused: messages to it wait", s(n)),
        Fault::Resume(n) => format!("{} resumed", s(n)),
        Fault::Partition(groups) => {
            let g: Vec<String> = groups.iter().map(|g| g.iter().map(s).collect::<Vec<_>>().join(", ")).collect();
            format!("The network split into groups that cannot reach each other: {}", g.join(" | "))
        }
        Fault::Block(a, b) => format!("Messages from {} to {} are cut (one way)", s(a), s(b)),
        Fault::Heal => "The network healed: every link carries messages again".to_string(),
        Fault::Set(..) => return None,
    })
}

/// The buttons every cluster lab offers on a selected node beyond the
/// shared faults, then the protocol's own.
fn cluster_actions<P: ClusterProtocol>() -> Vec<NodeAction> {
    let up = [NodeStatus::Up];
    let mut out = vec![NodeAction::new("Time out", "timeout {node}").enabled(&up).help("its timer fires now")];
    if P::CLIENT_COMMANDS {
        out.push(
            NodeAction::new("Client request", "request {node}").enabled(&up).help("a client sends it one command"),
        );
    }
    out.extend(P::node_actions());
    out
}

/// A simulated cluster running protocol `P`, as a lab.
pub struct ClusterLab<P: ClusterProtocol> {
    sim: Sim<P>,
    tracker: P::Tracker,
    log_cursor: u64,
    sent_nodes: Vec<NodeView>,
    sent_groups: Option<Vec<Vec<u32>>>,
    /// The lab's own view as last sent ([`ClusterProtocol::lab_view`]).
    sent_view: Option<Vec<u8>>,
    rate_mark: (Time, u64),
    rate: f64,
    diagram: Option<Recorder>,
    /// The last sentence of narration, and when it was said.
    narration: Option<(Time, String)>,
    consistency: Consistency,
    /// The protocol's next planned fault, and how many it injected.
    planned: Option<(Time, Fault)>,
    planned_applied: u64,
}

/// The space-time diagram's records made since the last frame.
#[derive(Clone, Default)]
struct Recorder {
    buf: VecDeque<Record>,
    next: u64,
    names: Vec<&'static str>,
    names_sent: usize,
    skipped: u64,
    violation: Option<(u32, Time)>,
    /// Network duplicates in flight (few: duplication is rare).
    copies: std::collections::BTreeSet<u64>,
    /// Spans open, by node and slot: since when, label, number (a few per
    /// node).
    open: std::collections::BTreeMap<(u32, u32), (Time, u16, u64)>,
}

impl Recorder {
    fn name(&mut self, name: &'static str) -> u16 {
        let i = self.names.iter().position(|n| *n == name).unwrap_or_else(|| {
            self.names.push(name);
            self.names.len() - 1
        });
        i as u16
    }

    fn push(&mut self, mut r: Record) {
        r.seq = self.next;
        self.next += 1;
        if self.buf.len() == diagram::BUFFER {
            self.buf.pop_front();
            self.skipped += 1;
        }
        self.buf.push_back(r);
    }

    /// The spans open, as [`What::Open`] records ending at `now`, by node
    /// and slot.
    fn open_spans(&self, now: Time) -> Vec<Record> {
        let open = |(&(node, _), &(t0, kind, id)): (&(u32, u32), &(Time, u16, u64))| Record {
            seq: self.next,
            t0,
            t1: now.max(t0),
            from: node,
            to: node,
            kind,
            what: What::Open,
            copy: false,
            id,
        };
        self.open.iter().map(open).collect()
    }

    /// Ends `node`'s span in `slot`, if one is open, at `at`.
    fn close_span(&mut self, node: u32, slot: u32, at: Time) {
        if let Some((t0, kind, id)) = self.open.remove(&(node, slot)) {
            self.push(Record { seq: 0, t0, t1: at, from: node, to: node, kind, what: What::Span, copy: false, id });
        }
    }

    fn record<P: ClusterProtocol>(&mut self, events: &[TraceEvent<P>]) {
        let rec = |t0, t1, from, to, kind, what| Record { seq: 0, t0, t1, from, to, kind, what, copy: false, id: 0 };
        for ev in events {
            match ev {
                TraceEvent::Sent { id, copy: true, .. } => {
                    self.copies.insert(*id);
                }
                TraceEvent::Sent { .. } | TraceEvent::Request { .. } | TraceEvent::Replied { .. } => {}
                TraceEvent::Delivered { at, id, from, to, kind, sent } => {
                    let k = P::kind_named(kind);
                    let copy = !self.copies.is_empty() && self.copies.remove(id);
                    self.push(Record { id: *id, copy, ..rec(*sent, *at, *from, *to, k, What::Delivered) });
                }
                TraceEvent::Dropped { at, id, from, to, kind, reason, sent } => {
                    let k = P::kind_named(kind);
                    let what = match reason {
                        DropReason::Loss => What::Lost,
                        DropReason::Partition => What::Cut,
                        DropReason::NodeDown => What::Down,
                    };
                    let copy = !self.copies.is_empty() && self.copies.remove(id);
                    self.push(Record { id: *id, copy, ..rec(*sent, *at, *from, *to, k, what) });
                }
                TraceEvent::TimerFired { at, node, timer } => {
                    let k = self.name(timer.kind());
                    self.push(rec(*at, *at, *node, *node, k, What::Timer));
                }
                TraceEvent::Note { at, node, note } => {
                    let k = self.name(note.kind());
                    self.push(rec(*at, *at, *node, P::note_about(note).unwrap_or(*node), k, What::Note));
                    match P::span(note) {
                        Some(SpanEdge::Open { slot, label, number }) => {
                            self.close_span(*node, slot, *at);
                            let label = self.name(label);
                            self.open.insert((*node, slot), (*at, label, number));
                        }
                        Some(SpanEdge::Close { slot }) => self.close_span(*node, slot, *at),
                        None => {}
                    }
                }
                TraceEvent::Fault { at, fault } => {
                    let f = |kind: FaultKind, from: u32, to: u32| rec(*at, *at, from, to, kind as u16, What::Fault);
                    match fault {
                        Fault::Crash(n) => {
                            let slots: Vec<u32> =
                                self.open.range((*n, 0)..=(*n, u32::MAX)).map(|((_, s), _)| *s).collect();
                            for slot in slots {
                                self.close_span(*n, slot, *at);
                            }
                            self.push(f(FaultKind::Crash, *n, *n))
                        }
                        Fault::Restart(n) => self.push(f(FaultKind::Restart, *n, *n)),
                        Fault::Pause(n) => self.push(f(FaultKind::Pause, *n, *n)),
                        Fault::Resume(n) => self.push(f(FaultKind::Resume, *n, *n)),
                        Fault::Partition(groups) => {
                            for (g, group) in groups.iter().enumerate() {
                                for n in group {
                                    self.push(f(FaultKind::Partition, *n, g as u32));
                                }
                            }
                        }
                        Fault::Block(a, b) => self.push(f(FaultKind::Block, *a, *b)),
                        Fault::Heal => self.push(f(FaultKind::Heal, 0, 0)),
                        Fault::Set(..) => self.push(f(FaultKind::Set, 0, 0)),
                    }
                }
            }
        }
    }
}

/// The node an event happened at (for the diagram's violation mark).
fn event_node<P: Protocol>(ev: &TraceEvent<P>) -> Option<u32> {
    match ev {
        TraceEvent::Delivered { to, .. } | TraceEvent::Dropped { to, .. } => Some(*to),
        TraceEvent::TimerFired { node, .. }
        | TraceEvent::Note { node, .. }
        | TraceEvent::Request { node, .. }
        | TraceEvent::Replied { node, .. } => Some(*node),
        TraceEvent::Sent { from, .. } => Some(*from),
        TraceEvent::Fault {
            fault: Fault::Crash(n) | Fault::Restart(n) | Fault::Pause(n) | Fault::Resume(n), ..
        } => Some(*n),
        TraceEvent::Fault { .. } => None,
    }
}

impl<P: ClusterProtocol> Clone for ClusterLab<P> {
    fn clone(&self) -> Self {
        ClusterLab {
            sim: self.sim.clone(),
            tracker: self.tracker.clone(),
            log_cursor: self.log_cursor,
            sent_nodes: self.sent_nodes.clone(),
            sent_groups: self.sent_groups.clone(),
            sent_view: self.sent_view.clone(),
            rate_mark: self.rate_mark,
            rate: self.rate,
            diagram: self.diagram.clone(),
            narration: self.narration.clone(),
            consistency: self.consistency.clone(),
            planned: self.planned.clone(),
            planned_applied: self.planned_applied,
        }
    }
}

/// Builds the cluster lab of protocol `P` (an [`super::Engine::build`]).
pub fn build<P: ClusterProtocol>(scn: &Scenario) -> Result<Box<dyn Model>, ScenarioError> {
    Ok(Box::new(ClusterLab::<P>::new(scn)))
}

impl<P: ClusterProtocol> ClusterLab<P> {
    /// The cluster a scenario describes, at time 0.
    pub fn new(scn: &Scenario) -> ClusterLab<P> {
        let mut config = sim_config_with(scn, P::reads_anywhere(scn), P::writes_anywhere(scn));
        P::adjust_sim(scn, &mut config);
        let sim = Sim::with_invariants(config, P::config(scn), P::invariants());
        let mut tracker = P::Tracker::default();
        P::observe(&mut tracker, &sim);
        let planned = P::planned_fault(&mut tracker, &sim);
        ClusterLab {
            sim,
            tracker,
            log_cursor: 0,
            sent_nodes: Vec::new(),
            sent_groups: None,
            sent_view: None,
            rate_mark: (0, 0),
            rate: 0.0,
            diagram: None,
            narration: None,
            consistency: Consistency::new(scn.get("check_history") != 0),
            planned,
            planned_applied: 0,
        }
    }

    /// Whether the planned fault comes before the next queued event (an
    /// event at the same instant goes first).
    fn planned_first(&self) -> Option<Time> {
        let (at, _) = self.planned.as_ref()?;
        self.sim.next_event_time().is_none_or(|te| *at < te).then_some(*at)
    }

    /// Injects the planned fault at its time and asks for the next.
    fn apply_planned(&mut self) {
        let Some((at, fault)) = self.planned.take() else { return };
        if self.sim.violation().is_some() {
            return;
        }
        self.sim.run_until(at);
        self.sim.inject(fault);
        self.planned_applied += 1;
        P::observe(&mut self.tracker, &self.sim);
        self.narrate();
        self.record();
        self.planned = P::planned_fault(&mut self.tracker, &self.sim);
    }

    /// Runs the checkers over the clients' history (a violation stops the
    /// run); a check that gave up is said in the narration.
    fn check_history(&mut self) {
        let gave_up = self.consistency.gave_up;
        if let Some(v) = self.consistency.observe(self.sim.clients(), self.sim.now()) {
            self.sim.report_violation(v);
        }
        if self.consistency.gave_up > gave_up {
            if let Some(m) = &self.consistency.gave_up_message {
                self.narration = Some((self.sim.now(), m.clone()));
            }
        }
    }

    /// The consistency checkers and read figures.
    pub fn consistency(&self) -> &Consistency {
        &self.consistency
    }

    /// Keeps the last step's sentence of narration, if it said something:
    /// the protocol's own, else a shared fault's.
    fn narrate(&mut self) {
        let said = P::narrate(&self.tracker, &self.sim).or_else(|| {
            self.sim.last_events().iter().rev().find_map(|e| match e {
                TraceEvent::Fault { fault, .. } => fault_sentence(fault),
                _ => None,
            })
        });
        if let Some(s) = said {
            self.narration = Some((self.sim.now(), s));
        }
    }

    /// Records the last step's events for the diagram, if it is on.
    fn record(&mut self) {
        if let Some(d) = self.diagram.as_mut() {
            let events = self.sim.last_events();
            d.record(events);
            if d.violation.is_none() {
                if let Some(v) = self.sim.violation() {
                    let node = events.iter().find_map(event_node).unwrap_or(0);
                    d.violation = Some((node, v.at));
                    // The run stops here: spans still open end with it.
                    for (node, slot) in d.open.keys().copied().collect::<Vec<_>>() {
                        d.close_span(node, slot, v.at);
                    }
                }
            }
        }
    }

    /// Processes one event. Returns false if none is queued or the run stopped.
    fn step_one(&mut self) -> bool {
        let Some(te) = self.sim.next_event_time() else { return false };
        if !self.sim.step() {
            return false;
        }
        P::observe(&mut self.tracker, &self.sim);
        self.narrate();
        self.check_history();
        self.record();
        // The message rate over windows of a quarter second of virtual
        // time, measured as events happen, so it is the same whenever and
        // however often it is read.
        let (t0, d0) = self.rate_mark;
        if te >= t0 + 250 * MS {
            let delivered = self.sim.counters().delivered;
            self.rate = (delivered - d0.min(delivered)) as f64 / ((te - t0) as f64 / 1e6);
            self.rate_mark = (te, delivered);
        }
        true
    }

    /// The simulator, for tests and benchmarks.
    pub fn sim(&self) -> &Sim<P> {
        &self.sim
    }

    /// The protocol's running figures.
    pub fn tracker(&self) -> &P::Tracker {
        &self.tracker
    }

    fn node_views(&self) -> Vec<NodeView> {
        self.sim
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut v = NodeView {
                    id: i as u32,
                    status: match n.status {
                        crate::sim::NodeStatus::Up => NodeStatus::Up,
                        crate::sim::NodeStatus::Crashed => NodeStatus::Crashed,
                        crate::sim::NodeStatus::Paused => NodeStatus::Paused,
                    },
                    role: 0,
                    fields: Vec::new(),
                    strip: Vec::new(),
                    strip_first: 0,
                    strip_mark: 0,
                    timer: None,
                };
                P::view_in(&self.tracker, n, &mut v);
                v
            })
            .collect()
    }
}

impl<P: ClusterProtocol> Model for ClusterLab<P> {
    fn now(&self) -> Time {
        self.sim.now()
    }

    fn next_event(&self) -> Option<Time> {
        self.planned_first().or_else(|| self.sim.next_event_time())
    }

    fn run_to(&mut self, t: Time) {
        loop {
            if self.sim.violation().is_some() {
                break;
            }
            if self.planned_first().is_some_and(|at| at <= t) {
                self.apply_planned();
                continue;
            }
            if self.sim.next_event_time().is_none_or(|te| te > t) || !self.step_one() {
                break;
            }
        }
        if self.sim.violation().is_none() {
            self.sim.run_until(t);
        }
    }

    fn step_event(&mut self) {
        if self.planned_first().is_some() {
            self.apply_planned();
        } else {
            self.step_one();
        }
    }

    fn record_diagram(&mut self, on: bool) {
        match (on, self.diagram.is_some()) {
            (true, false) => self.diagram = Some(Recorder::default()),
            (false, true) => self.diagram = None,
            _ => {}
        }
    }

    fn take_diagram(&mut self) -> Option<diagram::Chunk> {
        let d = self.diagram.as_mut()?;
        if d.buf.is_empty() && d.names_sent == d.names.len() && d.skipped == 0 && d.violation.is_none() {
            return None;
        }
        let records: Vec<Record> = d.buf.drain(..).collect();
        let mut chunk = diagram::Chunk::pack(&records);
        chunk.names_from = d.names_sent as u32;
        chunk.names = d.names[d.names_sent..].iter().map(|n| (*n).to_string()).collect();
        chunk.skipped = std::mem::take(&mut d.skipped);
        chunk.violation = d.violation;
        d.names_sent = d.names.len();
        chunk.open = d.open_spans(self.sim.now());
        Some(chunk)
    }

    fn open_spans(&self) -> Vec<Record> {
        self.diagram.as_ref().map_or_else(Vec::new, |d| d.open_spans(self.sim.now()))
    }

    fn forget_diagram(&mut self) -> u64 {
        match self.diagram.as_mut() {
            Some(d) => {
                // A snapshot keeps no room for records it will not make.
                d.buf = std::collections::VecDeque::new();
                d.skipped = 0;
                d.names_sent = 0;
                d.next
            }
            None => 0,
        }
    }

    fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.sim.approx_bytes()
            + P::tracker_bytes(&self.tracker)
            + self.sent_nodes.len() * std::mem::size_of::<NodeView>()
    }

    fn message_text(&self, id: u64) -> Option<String> {
        self.sim.trace().window().rev().find_map(|e| match e {
            TraceEvent::Sent { id: i, .. } if *i == id => Some(e.describe()),
            _ => None,
        })
    }

    fn apply(&mut self, action: &Action) -> Result<(), String> {
        match action {
            Action::Crash(n) => self.sim.inject(Fault::Crash(*n)),
            Action::Restart(n) => self.sim.inject(Fault::Restart(*n)),
            Action::Pause(n) => self.sim.inject(Fault::Pause(*n)),
            Action::Resume(n) => self.sim.inject(Fault::Resume(*n)),
            Action::Partition(g) => self.sim.inject(Fault::Partition(g.clone())),
            Action::Block(a, b) => self.sim.inject(Fault::Block(*a, *b)),
            Action::Heal => self.sim.inject(Fault::Heal),
            Action::Set(name, v) => self.sim.inject(Fault::Set(name.clone(), *v)),
            Action::Lab(text) => {
                let (verb, rest) = split_word(text);
                let n = parse_one_node(verb, rest)?;
                match verb {
                    "timeout" => self.sim.force_timeout(n),
                    "request" => {
                        self.sim.client_request(n);
                    }
                    other => P::apply_verb(&mut self.sim, other, n)?,
                }
            }
        }
        P::observe(&mut self.tracker, &self.sim);
        self.narrate();
        self.check_history();
        self.record();
        Ok(())
    }

    fn violation(&self) -> Option<&Violation> {
        self.sim.violation()
    }

    fn fingerprint(&self) -> u64 {
        self.sim.trace().fingerprint()
    }

    fn events(&self) -> u64 {
        self.sim.counters().events + self.planned_applied
    }

    fn counters(&self) -> Counters {
        let mut counters = self.sim.counters().clone();
        P::counters(&self.tracker, &mut counters);
        counters
    }

    fn schema(&self) -> Schema {
        let m = MetricSpec::new;
        let mut metrics = P::metric_specs();
        if P::CLIENT_COMMANDS {
            let progress = metrics.iter().any(|m| m.role == Some(MetricRole::Progress));
            let committed = m("committed", "Requests committed", Unit::Count, false);
            metrics.push(if progress { committed } else { committed.with_role(MetricRole::Progress) });
            metrics.extend([
                m("requests", "Requests made", Unit::Count, false),
                m("gave_up", "Requests given up", Unit::Count, false),
                m("commit_p50", "Commit latency p50", Unit::Micros, false),
                m("commit_p99", "Commit latency p99", Unit::Micros, true),
            ]);
        }
        metrics.extend([
            m("msgs_per_sec", "Messages per second", Unit::PerSec, true),
            m("sent", "Messages sent", Unit::Count, false),
            m("dropped", "Messages lost", Unit::Count, false),
        ]);
        if self.sim.config().client.kv.is_some() {
            metrics.extend([
                m("read_p50", "Read latency p50", Unit::Micros, false),
                m("read_p99", "Read latency p99", Unit::Micros, true),
                m("stale_reads", "Stale reads", Unit::Count, true),
                m("stale_most", "Stale reads: most versions behind", Unit::Count, false),
                m("ryw_broken", "Reads that missed their own write", Unit::Count, false),
                m("monotonic_broken", "Reads older than an earlier read", Unit::Count, false),
                m("history_checked", "Commands checked linearizable", Unit::Count, false),
                m("history_gave_up", "History checks that gave up", Unit::Count, false),
            ]);
        }
        let cfg = self.sim.protocol_config();
        let mut roles = P::roles();
        for r in &mut roles {
            r.unused = !P::can_show(cfg, &r.name);
        }
        let mut kinds = P::kinds();
        for k in &mut kinds {
            k.unused = !P::can_show(cfg, &k.name);
        }
        Schema {
            lab: String::new(),
            title: String::new(),
            timed: true,
            cluster: true,
            roles,
            kinds,
            fields: P::fields(),
            strip: P::strip(),
            metrics,
            nodes: self.sim.config().nodes,
            verbs: Vec::new(),
            diagram: true,
            notes: NoteStyle::table(P::NOTES),
            node_actions: cluster_actions::<P>(),
        }
    }

    fn metrics(&mut self) -> Vec<f64> {
        let c = self.sim.counters().clone();
        let clients = self.sim.clients();
        let q = |q: f64| clients.latency_quantile(q).map_or(f64::NAN, |t| t as f64);
        let mut out = Vec::new();
        P::metrics(&self.tracker, &self.sim, &mut out);
        if P::CLIENT_COMMANDS {
            out.extend([c.committed as f64, c.requests as f64, clients.gave_up as f64, q(0.5), q(0.99)]);
        }
        out.extend([self.rate, c.sent as f64, c.dropped as f64]);
        if self.sim.config().client.kv.is_some() {
            let k = &self.consistency;
            let r = |q: f64| k.read_latency(q).map_or(f64::NAN, |t| t as f64);
            out.extend([
                r(0.5),
                r(0.99),
                k.stale_reads as f64,
                k.stale_most as f64,
                k.ryw_broken as f64,
                k.monotonic_broken as f64,
                k.checked as f64,
                k.gave_up as f64,
            ]);
        }
        out
    }

    fn draw(&mut self, frame: &mut Frame, full: bool) {
        let views = self.node_views();
        frame.node_count = views.len() as u32;
        frame.nodes = if full || self.sent_nodes.len() != views.len() {
            views.clone()
        } else {
            views.iter().zip(&self.sent_nodes).filter(|(v, old)| v != old).map(|(v, _)| v.clone()).collect()
        };
        self.sent_nodes = views;

        let dots: Vec<MessageDot> = self
            .sim
            .in_flight()
            .map(|m| MessageDot {
                from: m.from,
                to: m.to,
                kind: P::kind_index(m.msg),
                sent_at: m.sent_at,
                deliver_at: m.deliver_at,
            })
            .collect();
        frame.messages_total = dots.len() as u64;
        frame.messages = Messages::pack(self.sim.now(), &choose_messages(dots, DRAWN_MESSAGES));

        let groups = self.sim.net().groups();
        if full || self.sent_groups.as_ref() != Some(&groups) {
            frame.groups = Some(groups.clone());
            self.sent_groups = Some(groups);
        }

        let trace = self.sim.trace();
        let from = if full { 0 } else { self.log_cursor };
        let budget = if full { FULL_LOG_LINES } else { FRAME_LOG_LINES };
        let skip = trace.since(from).count().saturating_sub(budget);
        frame.log = trace.since(from).skip(skip).map(|e| shorten(e.describe(), LOG_LINE_CHARS)).collect();
        frame.narration = self.narration.clone();
        self.log_cursor = trace.total();

        if let Some(view) = P::lab_view(&self.tracker, &self.sim) {
            if full || self.sent_view.as_ref() != Some(&view) {
                frame.view = Some(view.clone());
                self.sent_view = Some(view);
            }
        }
    }

    fn trace_lines(&self) -> Vec<String> {
        self.sim.trace().window().map(|e| e.describe()).collect()
    }

    fn query(&self, scn: &Scenario, question: &str) -> Result<Vec<u8>, String> {
        P::query(scn, question)
    }

    fn client_history(&self) -> Option<crate::history::ClientHistory> {
        super::consistency::client_history(self.sim.clients())
    }

    fn clone_box(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
