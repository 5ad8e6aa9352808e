//! A lab behind one interface, as the Web Worker and the CLI drive it.
//!
//! A [`Lab`] is built from a [`Scenario`] and replays its timed actions as
//! virtual time passes. Live actions (a click in the UI) are applied at the
//! current time and recorded into the scenario, so the scenario, and the
//! link made from it, always reproduces what is on the screen. Ordering
//! rule, the same live and in replay: an action at time `t` applies after
//! every event due at or before `t`.
//!
//! [`Lab::frame`] produces a [`Frame`]: plain, serialisable views of the
//! nodes, the messages in flight, new trace lines and the lab's metrics,
//! which is all the UI draws from.

pub mod ring;

pub use ring::{RingFrame, RingLab, RingNodeView};

use crate::raft::{RaftConfig, RaftNode, RaftNote, Role};
use crate::scenario::{Action, Expect, LabKind, Scenario, ScenarioError, Timed};
use crate::sim::{
    ClientConfig, Counters, Fault, NetConfig, NodeStatus, Observable, Sim, SimConfig, Time, TraceEvent, Violation, MS,
};
use serde::{Deserialize, Serialize};

/// Most trace lines sent in one frame.
pub const FRAME_LOG_LINES: usize = 200;
/// Longest trace line sent to the page, in characters.
pub const LOG_LINE_CHARS: usize = 240;

fn shorten(mut line: String, max: usize) -> String {
    if let Some((cut, _)) = line.char_indices().nth(max) {
        line.truncate(cut);
        line.push('…');
    }
    line
}

/// Most log entries shown per node.
pub const LOG_TAIL: usize = 32;

/// A node as the UI draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    /// Node number from 0 (shown as S1, S2, ...).
    pub id: u32,
    /// "up", "crashed" or "paused".
    pub status: String,
    /// "follower", "candidate", "pre-candidate" or "leader".
    pub role: String,
    /// Current term.
    pub term: u64,
    /// Whom it voted for in this term.
    pub voted_for: Option<u32>,
    /// Whom it believes leads.
    pub leader_hint: Option<u32>,
    /// Votes a candidate has collected.
    pub votes: u32,
    /// Commit index.
    pub commit: u64,
    /// Log length.
    pub log_len: u64,
    /// Index of the first entry in `log_terms`.
    pub log_first: u64,
    /// Terms of the last entries of the log.
    pub log_terms: Vec<u64>,
    /// When the election timer fires, if armed.
    pub election_due: Option<Time>,
    /// A leader's view of each follower's replicated index.
    pub match_index: Vec<u64>,
    /// Clock drift, parts per million.
    pub drift_ppm: i32,
}

/// A message in flight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    /// Unique id.
    pub id: u64,
    /// Sender.
    pub from: u32,
    /// Receiver.
    pub to: u32,
    /// Kind, e.g. "AppendEntries", "Heartbeat", "RequestVote".
    pub kind: String,
    /// When it left.
    pub sent_at: Time,
    /// When it arrives.
    pub deliver_at: Time,
}

/// One measured figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Name used by `expect` lines and tests.
    pub name: String,
    /// Label for people.
    pub label: String,
    /// Numeric value (durations in microseconds).
    pub value: f64,
    /// Value for people, with its unit.
    pub text: String,
}

/// Everything the UI needs to draw one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// Lab name.
    pub lab: String,
    /// Virtual time.
    pub time: Time,
    /// Events processed so far.
    pub events: u64,
    /// Fingerprint of the trace so far (hex).
    pub fingerprint: String,
    /// The nodes.
    pub nodes: Vec<NodeView>,
    /// Messages on the wire (at most `max_messages` of them).
    pub messages: Vec<MessageView>,
    /// Messages on the wire in all.
    pub messages_total: u64,
    /// Groups of nodes that can reach each other (one group: no partition).
    pub groups: Vec<Vec<u32>>,
    /// Trace lines since the previous frame (newest last).
    pub log: Vec<String>,
    /// The lab's metrics.
    pub metrics: Vec<Metric>,
    /// A broken invariant, in words; the run has stopped.
    pub violation: Option<String>,
    /// Whether the run can go on (events are queued and nothing broke).
    pub can_run: bool,
    /// The Ring lab's drawing, when it changed since the last frame.
    pub ring: Option<RingFrame>,
}

impl Frame {
    /// Looks a metric up by name.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Checks one `expect` line against this frame's metrics. `Ok` and
    /// `Err` both carry a sentence for people.
    pub fn check(&self, e: &Expect) -> Result<String, String> {
        let known = || self.metrics.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ");
        let line = format!("expect {} {} {}", e.metric, e.cmp.symbol(), e.written);
        let m = self.metric(&e.metric).ok_or_else(|| format!("{line}: no metric '{}' (known: {})", e.metric, known()))?;
        let (rhs, rhs_text) = match &e.other {
            Some(name) => {
                let o = self.metric(name).ok_or_else(|| format!("{line}: no metric '{name}' (known: {})", known()))?;
                (o.value, format!("{} is {}", name, o.text))
            }
            None => (e.value, e.written.clone()),
        };
        if e.cmp.holds(m.value, rhs) {
            Ok(format!("{line} (it is {}; {rhs_text})", m.text))
        } else {
            Err(format!("{line} failed: {} is {}, {rhs_text}", e.metric, m.text))
        }
    }
}

/// A running lab.
#[derive(Clone)]
pub enum Lab {
    /// The Raft lab.
    Raft(Box<RaftLab>),
    /// The Ring lab.
    Ring(Box<RingLab>),
}

impl Lab {
    /// Builds the lab a scenario describes, at time 0.
    pub fn new(scn: &Scenario) -> Result<Lab, ScenarioError> {
        scn.validate()?;
        match scn.lab {
            LabKind::Raft => Ok(Lab::Raft(Box::new(RaftLab::new(scn)))),
            LabKind::Ring => Ok(Lab::Ring(Box::new(RingLab::new(scn)?))),
        }
    }

    /// Builds the lab and runs it to the scenario's `until` time.
    pub fn replay(scn: &Scenario) -> Result<Lab, ScenarioError> {
        let mut lab = Lab::new(scn)?;
        lab.run_until(scn.until);
        Ok(lab)
    }

    /// Current virtual time.
    pub fn now(&self) -> Time {
        match self {
            Lab::Raft(l) => l.sim.now(),
            Lab::Ring(l) => l.now(),
        }
    }

    /// Runs events and scenario actions up to `t`.
    pub fn run_until(&mut self, t: Time) {
        match self {
            Lab::Raft(l) => l.run_until(t),
            Lab::Ring(l) => l.run_until(t),
        }
    }

    /// Runs until the next instant at which something happens. Returns
    /// false if nothing is left to do or the run stopped.
    pub fn step(&mut self) -> bool {
        match self {
            Lab::Raft(l) => l.step(),
            Lab::Ring(l) => l.step(),
        }
    }

    /// Applies a user's action now and records it in the scenario.
    pub fn act(&mut self, action: Action) -> Result<(), ScenarioError> {
        match self {
            Lab::Raft(l) => l.act(action),
            Lab::Ring(l) => l.act(action),
        }
    }

    /// The scenario that reproduces this lab as it is now (`until` is now).
    pub fn scenario(&self) -> Scenario {
        let (mut s, now) = match self {
            Lab::Raft(l) => (l.scn.clone(), l.sim.now()),
            Lab::Ring(l) => (l.scn.clone(), l.now()),
        };
        s.until = now;
        s
    }

    /// The first invariant violation, if any.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Lab::Raft(l) => l.sim.violation(),
            Lab::Ring(_) => None,
        }
    }

    /// Fingerprint of everything that happened so far.
    pub fn fingerprint(&self) -> u64 {
        match self {
            Lab::Raft(l) => l.sim.trace().fingerprint(),
            Lab::Ring(l) => l.fingerprint(),
        }
    }

    /// Whether anything is left to happen and no invariant broke.
    pub fn can_run(&self) -> bool {
        match self {
            Lab::Raft(l) => l.sim.violation().is_none() && l.sim.next_event_time().is_some(),
            Lab::Ring(_) => true,
        }
    }

    /// Run-wide counters (messages sent, delivered, dropped; requests).
    pub fn counters(&self) -> Counters {
        match self {
            Lab::Raft(l) => l.sim.counters().clone(),
            Lab::Ring(_) => Counters::default(),
        }
    }

    /// Replaces the recorded actions with `actions`, of which this lab's
    /// own must be a prefix (used when seeking from an older snapshot).
    pub fn adopt_actions(&mut self, actions: Vec<Timed>) {
        match self {
            Lab::Raft(l) => {
                if actions.len() >= l.next_action && actions[..l.next_action] == l.scn.actions[..l.next_action] {
                    l.scn.actions = actions;
                }
            }
            Lab::Ring(l) => {
                let n = l.next_action_index();
                if actions.len() >= n && actions[..n] == l.scn.actions[..n] {
                    l.set_actions(actions);
                }
            }
        }
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        match self {
            Lab::Raft(l) => l.sim.counters().events,
            Lab::Ring(l) => l.events(),
        }
    }

    /// A view of this moment. With `all_log` the frame's log holds the
    /// recent window rather than only what is new since the last frame.
    pub fn frame(&mut self, all_log: bool) -> Frame {
        match self {
            Lab::Raft(l) => l.frame(all_log, 2_000),
            Lab::Ring(l) => l.frame(all_log),
        }
    }

    /// The trace window, one line an event.
    pub fn trace_lines(&self) -> Vec<String> {
        match self {
            Lab::Raft(l) => l.sim.trace().window().map(TraceEvent::describe).collect(),
            Lab::Ring(l) => l.trace_lines(),
        }
    }
}

/// The Raft lab: a simulated Raft cluster, its scenario and its metrics.
#[derive(Clone)]
pub struct RaftLab {
    scn: Scenario,
    sim: Sim<RaftNode>,
    next_action: usize,
    log_cursor: u64,
    elections: u64,
    leaders_elected: u64,
    leader: Option<u32>,
    leaderless_since: Option<Time>,
    leaderless_total: Time,
    rate_mark: (Time, u64),
    rate: f64,
}

/// Builds the simulator configuration of a cluster lab from its scenario.
pub fn sim_config(scn: &Scenario) -> SimConfig {
    let g = |n: &str| scn.get(n).max(0) as u64;
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
        },
        drift_ppm_max: g("drift") as u32,
        client: ClientConfig { rate_per_sec: g("request_rate"), timeout: g("client_timeout"), redirect_delay: MS },
        trace_window: 4096,
    }
}

/// Builds the Raft configuration from a scenario.
pub fn raft_config(scn: &Scenario) -> RaftConfig {
    let g = |n: &str| scn.get(n).max(0) as u64;
    RaftConfig {
        election_timeout_min: g("election_timeout_min"),
        election_timeout_max: g("election_timeout_max"),
        heartbeat: g("heartbeat"),
        pre_vote: g("pre_vote") != 0,
        check_quorum: g("check_quorum") != 0,
        max_batch: g("max_batch"),
        bug_commit_old_terms: g("bug_commit_old_terms") != 0,
    }
}

fn status_name(s: NodeStatus) -> &'static str {
    match s {
        NodeStatus::Up => "up",
        NodeStatus::Crashed => "crashed",
        NodeStatus::Paused => "paused",
    }
}

fn percentile(sorted: &[Time], p: f64) -> Option<Time> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

impl RaftLab {
    fn new(scn: &Scenario) -> RaftLab {
        let mut sim = Sim::new(sim_config(scn), raft_config(scn));
        for inv in crate::raft::invariants() {
            sim.add_invariant(inv);
        }
        let mut lab = RaftLab {
            scn: Scenario { until: 0, ..scn.clone() },
            sim,
            next_action: 0,
            log_cursor: 0,
            elections: 0,
            leaders_elected: 0,
            leader: None,
            leaderless_since: Some(0),
            leaderless_total: 0,
            rate_mark: (0, 0),
            rate: 0.0,
        };
        lab.observe();
        lab
    }

    /// The simulator, for tests and benchmarks.
    pub fn sim(&self) -> &Sim<RaftNode> {
        &self.sim
    }

    fn run_until(&mut self, t: Time) {
        loop {
            if self.sim.violation().is_some() {
                return;
            }
            let next_action = self.scn.actions.get(self.next_action).map(|a| a.at).filter(|&a| a <= t);
            let horizon = next_action.unwrap_or(t);
            while let Some(te) = self.sim.next_event_time() {
                if te > horizon || !self.sim.step() {
                    break;
                }
                self.observe();
            }
            if self.sim.violation().is_some() {
                return;
            }
            match next_action {
                Some(at) => {
                    self.sim.run_until(at);
                    let action = self.scn.actions[self.next_action].action.clone();
                    self.next_action += 1;
                    self.apply(&action);
                }
                None => {
                    self.sim.run_until(t);
                    return;
                }
            }
        }
    }

    fn step(&mut self) -> bool {
        let te = self.sim.next_event_time();
        let ta = self.scn.actions.get(self.next_action).map(|a| a.at);
        let target = match (te, ta) {
            (Some(e), Some(a)) => e.min(a),
            (Some(e), None) => e,
            (None, Some(a)) => a,
            (None, None) => return false,
        };
        if self.sim.violation().is_some() {
            return false;
        }
        self.run_until(target);
        true
    }

    fn act(&mut self, action: Action) -> Result<(), ScenarioError> {
        let now = self.sim.now();
        // Everything due now happens first, as it would in a replay.
        self.run_until(now);
        let mut trial = self.scn.clone();
        trial.actions.truncate(self.next_action);
        trial.actions.push(Timed { at: now, action: action.clone() });
        trial.validate()?;
        self.scn = trial;
        self.next_action = self.scn.actions.len();
        self.apply(&action);
        // What the action set off for this same instant (a request due now)
        // runs now too, as a replay up to this time would run it.
        self.run_until(now);
        Ok(())
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::Crash(n) => self.sim.inject(Fault::Crash(*n)),
            Action::Restart(n) => self.sim.inject(Fault::Restart(*n)),
            Action::Pause(n) => self.sim.inject(Fault::Pause(*n)),
            Action::Resume(n) => self.sim.inject(Fault::Resume(*n)),
            Action::Partition(g) => self.sim.inject(Fault::Partition(g.clone())),
            Action::Block(a, b) => self.sim.inject(Fault::Block(*a, *b)),
            Action::Heal => self.sim.inject(Fault::Heal),
            Action::Set(name, v) => self.sim.inject(Fault::Set(name.clone(), *v)),
            Action::Timeout(n) => self.sim.force_timeout(*n),
            Action::Request(n) => {
                self.sim.client_request(*n);
            }
            // Validation keeps ring actions out of a Raft scenario.
            Action::AddNode(_) | Action::RemoveNode(_) | Action::Weight(..) | Action::Vnodes(..) => {}
        }
        self.observe();
    }

    /// Updates the metrics from the events of the last step.
    fn observe(&mut self) {
        let mut roles_changed = false;
        for ev in self.sim.last_events() {
            match ev {
                TraceEvent::Note { note, .. } => {
                    match note {
                        RaftNote::BecameCandidate { .. } => self.elections += 1,
                        RaftNote::BecameLeader { .. } => self.leaders_elected += 1,
                        _ => {}
                    }
                    roles_changed = true;
                }
                TraceEvent::Fault { .. } => roles_changed = true,
                _ => {}
            }
        }
        if !roles_changed {
            return;
        }
        let nodes = self.sim.nodes();
        let top_term = nodes.iter().filter(|n| n.status == NodeStatus::Up).map(|n| n.state.term()).max().unwrap_or(0);
        let leader = nodes
            .iter()
            .position(|n| n.status == NodeStatus::Up && n.state.role() == Role::Leader && n.state.term() == top_term)
            .map(|i| i as u32);
        let now = self.sim.now();
        match (self.leader, leader) {
            (Some(_), None) => self.leaderless_since = Some(now),
            (None, Some(_)) => {
                if let Some(since) = self.leaderless_since.take() {
                    self.leaderless_total += now - since;
                }
            }
            _ => {}
        }
        self.leader = leader;
    }

    fn metrics(&mut self) -> Vec<Metric> {
        let now = self.sim.now();
        let leaderless = self.leaderless_total + self.leaderless_since.map_or(0, |s| now - s);
        let mut lat: Vec<Time> = self.sim.latencies().iter().rev().take(4096).copied().collect();
        lat.sort_unstable();
        let c = self.sim.counters().clone();
        let (t0, d0) = self.rate_mark;
        if now >= t0 + 250 * MS || now < t0 {
            if now > t0 {
                self.rate = (c.delivered - d0.min(c.delivered)) as f64 / ((now - t0) as f64 / 1e6);
            }
            self.rate_mark = (now, c.delivered);
        }
        let term = self.sim.nodes().iter().map(|n| n.state.term()).max().unwrap_or(0);
        let dur = |t: Option<Time>| t.map_or("–".to_string(), |t| format!("{:.1} ms", t as f64 / 1e3));
        let m = |name: &str, label: &str, value: f64, text: String| Metric {
            name: name.into(),
            label: label.into(),
            value,
            text,
        };
        vec![
            m("leader", "Leader", self.leader.map_or(0.0, |l| f64::from(l + 1)), self.leader.map_or("none".into(), |l| format!("S{}", l + 1))),
            m("term", "Term", term as f64, term.to_string()),
            m("elections", "Elections started", self.elections as f64, self.elections.to_string()),
            m("leaders_elected", "Leaders elected", self.leaders_elected as f64, self.leaders_elected.to_string()),
            m("leaderless", "Time without leader", leaderless as f64, format!("{:.1} ms", leaderless as f64 / 1e3)),
            m("committed", "Requests committed", c.committed as f64, format!("{} of {}", c.committed, c.requests)),
            m("commit_p50", "Commit latency p50", percentile(&lat, 50.0).map_or(0.0, |t| t as f64), dur(percentile(&lat, 50.0))),
            m("commit_p99", "Commit latency p99", percentile(&lat, 99.0).map_or(0.0, |t| t as f64), dur(percentile(&lat, 99.0))),
            m("msgs_per_sec", "Messages per second", self.rate, format!("{:.0}", self.rate)),
            m("sent", "Messages sent", c.sent as f64, c.sent.to_string()),
            m("dropped", "Messages lost", c.dropped as f64, c.dropped.to_string()),
        ]
    }

    fn frame(&mut self, all_log: bool, max_messages: usize) -> Frame {
        let now = self.sim.now();
        let nodes = self
            .sim
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let s = &n.state;
                let log = s.log();
                let first = log.len().saturating_sub(LOG_TAIL);
                NodeView {
                    id: i as u32,
                    status: status_name(n.status).into(),
                    role: if n.status == NodeStatus::Crashed { "crashed".into() } else { s.role().name().to_lowercase() },
                    term: s.term(),
                    voted_for: s.voted_for(),
                    leader_hint: s.leader_hint(),
                    votes: s.votes_granted(),
                    commit: s.commit_index(),
                    log_len: log.len() as u64,
                    log_first: first as u64 + 1,
                    log_terms: log[first..].iter().map(|e| e.term).collect(),
                    election_due: n.timers().find(|(t, _)| t.kind() == "Election").map(|(_, due)| due),
                    match_index: s.match_index().to_vec(),
                    drift_ppm: n.drift_ppm,
                }
            })
            .collect();
        let mut messages: Vec<MessageView> = self
            .sim
            .in_flight()
            .map(|m| MessageView {
                id: m.id,
                from: m.from,
                to: m.to,
                kind: m.msg.kind().into(),
                sent_at: m.sent_at,
                deliver_at: m.deliver_at,
            })
            .take(max_messages)
            .collect();
        messages.sort_by_key(|m| m.id);
        let trace = self.sim.trace();
        let from = if all_log { 0 } else { self.log_cursor };
        // Only the newest lines, each cut to a readable length (a batch of
        // 64 entries would make a line of kilobytes); the CLI's --trace has
        // them whole.
        let skip = trace.since(from).count().saturating_sub(FRAME_LOG_LINES);
        let log: Vec<String> = trace.since(from).skip(skip).map(|e| shorten(e.describe(), LOG_LINE_CHARS)).collect();
        self.log_cursor = trace.total();
        let violation = self.sim.violation().map(|v| {
            format!(
                "{} violated at {} (seed {}): {}",
                v.invariant,
                crate::sim::time::format_duration(v.at),
                self.scn.seed,
                v.message
            )
        });
        Frame {
            lab: "raft".into(),
            time: now,
            events: self.sim.counters().events,
            fingerprint: format!("{:016x}", trace.fingerprint()),
            nodes,
            messages_total: self.sim.in_flight().count() as u64,
            messages,
            groups: self.sim.net().groups(),
            log,
            metrics: self.metrics(),
            can_run: violation.is_none() && self.sim.next_event_time().is_some(),
            violation,
            ring: None,
        }
    }
}
