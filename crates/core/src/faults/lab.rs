//! The failure-detection lab: members on the shared cluster lab.
//!
//! Its own parts: the parameter table (the detector and its settings, the
//! churn of failures and repairs, the service's quorum), how a member is
//! drawn (alive, suspected by some, declared dead by some, down; how many
//! suspect it; its incarnation), the message kinds and notes, the checker,
//! and the metrics of Chen, Toueg and Aguilera ("On the Quality of Service
//! of Failure Detectors", 2002), followed from the members' notes:
//!
//! * **detection time**: from a crash to every live member suspecting the
//!   crashed one (and to every live member declaring it dead);
//! * **mistakes**: a member suspects one that has not crashed (a paused or
//!   slow member, or one behind a lossy link or a partition); the mistake
//!   rate is per member per hour of virtual time, the mistake duration
//!   from the suspicion to trusting it again;
//! * **messages per member per second**;
//! * **spread**: from the first member suspecting a crashed one to every
//!   live member suspecting it (for SWIM, how long the news takes to
//!   reach everyone);
//! * **availability**: with churn on, the share of time at most
//!   `tolerate` members are down, against the binomial model.

use super::churn::{binomial_at_most, Churn, ChurnConfig, DownTime};
use super::node::{Detector, FaultsConfig, FaultsNode, FaultsNote, Status, DETECTORS};
use super::phi::Fit;
use super::repair::{Repair, RepairConfig};
use super::view::{FaultsView, Opinion, Truth, MATRIX_MAX};
use crate::lab::cluster::{self, ClusterProtocol};
use crate::lab::{Engine, FieldSpec, LabDef, LabHead, MetricRole, MetricSpec, NodeView, Unit};
use crate::scenario::params::{choice, p, Kind, ParamSpec, NETWORK};
use crate::scenario::{Scenario, SHARED_VERBS};
use crate::sim::{Fault, Invariant, Node, NodeId, NodeStatus, Sim, Time, TraceEvent, World, MS, SEC};
use std::collections::BTreeMap;

const M: i64 = MS as i64;
const S: i64 = SEC as i64;

/// The fits φ can use, as files write them.
pub const FITS: &[&str] = &["normal", "exponential"];

/// The lab's own parameters.
pub const PARAMS: &[ParamSpec] = &[
    p("nodes", "Members", "number of members, each watching every other", Kind::Count, 3, 500, 8, false),
    choice("detector", "Detector", "heartbeat: all-to-all heartbeats, fixed timeout; phi: the same heartbeats, phi accrual; swim: probes, indirect probes, suspicion, gossip", DETECTORS, 0, false),
    p("heartbeat", "Heartbeat interval (ms)", "heartbeat and phi: time between two heartbeats a member sends every other", Kind::Duration, M, 60 * S, 100 * M, false),
    p("timeout", "Timeout (ms)", "heartbeat: a member not heard from for this long is suspected", Kind::Duration, M, 600 * S, 300 * M, false),
    p("phi_threshold", "Phi threshold", "phi: suspect when phi reaches this (Cassandra's phi_convict_threshold: 8)", Kind::Thousandths, 100, 50_000, 8_000, false),
    p("window", "Phi window", "phi: inter-arrival times kept per member (Akka keeps up to 1000)", Kind::Count, 2, 1000, 32, false),
    choice("fit", "Phi distribution", "phi: normal (Akka) or exponential (Cassandra) fit of the inter-arrival times", FITS, 0, false),
    p("min_std", "Phi minimum deviation (ms)", "phi, normal fit: the smallest standard deviation used (Akka's min-std-deviation)", Kind::Duration, 0, 60 * S, 10 * M, false),
    p("pause_margin", "Phi accepted pause (ms)", "phi: added to the mean interval (Akka's acceptable-heartbeat-pause)", Kind::Duration, 0, 600 * S, 0, false),
    p("max_interval", "Phi longest interval kept (ms)", "phi: a longer silence (a partition, a pause) is not learned as a normal interval (Cassandra: 2 s); 0: keep all", Kind::Duration, 0, 600 * S, 2 * S, false),
    p("probe", "SWIM period (ms)", "swim: each member probes one member per period", Kind::Duration, M, 60 * S, 200 * M, false),
    p("ping_timeout", "SWIM ping timeout (ms)", "swim: wait this long for a direct ack before asking others to probe", Kind::Duration, M, 60 * S, 80 * M, false),
    p("indirect", "SWIM indirect probes (k)", "swim: members asked to probe a member that did not answer", Kind::Count, 0, 16, 3, false),
    p("suspicion", "Suspicion timeout (ms)", "time from suspecting a member to declaring it dead, without news of it", Kind::Duration, 0, 600 * S, 500 * M, false),
    p("piggyback", "SWIM updates per message", "swim: most membership updates one message carries", Kind::Count, 0, 64, 6, false),
    p("retransmit", "SWIM retransmissions (lambda)", "swim: each update is sent lambda * ceil(log10(n+1)) times", Kind::Count, 1, 20, 4, false),
    p("lifeguard", "SWIM: Lifeguard", "swim: local health scales a struggling member's probe period and timeout; suspicions shrink with independent confirmations (HashiCorp memberlist)", Kind::Toggle, 0, 1, 0, false),
    p("lhm_max", "Lifeguard: local health range", "lifeguard: the local health multiplier runs from 0 to this less one (memberlist's AwarenessMaxMultiplier: 8)", Kind::Count, 1, 64, 8, false),
    p("suspicion_max", "Lifeguard: longest suspicion (x suspicion)", "lifeguard: an unconfirmed suspicion waits this many suspicion timeouts (memberlist's SuspicionMaxTimeoutMult: 6)", Kind::Count, 1, 100, 6, false),
    p("confirmations", "Lifeguard: confirmations expected (k)", "lifeguard: independent suspicions that bring the timeout down to 'suspicion' (memberlist: SuspicionMult − 2 = 2)", Kind::Count, 0, 32, 2, false),
    p("slow_member", "Slow member", "this member (1 = S1) reads every message 'slow_by' late while its timers run on time: an overloaded member; 0: none", Kind::Count, 0, 500, 0, false),
    p("slow_by", "Slow member's delay (ms)", "how late the slow member reads each message", Kind::Duration, 0, 60 * S, 0, false),
    p("jitter_member", "Member behind a jittery link", "this member's messages (1 = S1) each leave after a random delay of 0 to 'jitter_by'; 0: none", Kind::Count, 0, 500, 0, false),
    p("jitter_by", "Its link's jitter (ms)", "the longest extra delay on the jittery member's messages", Kind::Duration, 0, 60 * S, 0, false),
    p("mttf", "Mean time to failure (s)", "each member crashes after an exponential time of this mean, on its own; 0: no churn", Kind::Duration, 0, 100_000_000 * S, 0, false),
    p("mttr", "Mean time to repair (s)", "a member crashed by the churn restarts after an exponential time of this mean", Kind::Duration, M, 100_000_000 * S, 10 * S, false),
    p("mttf_shape", "Weibull shape, time to failure", "shape k of each member's times to failure, mean mttf whatever k: 1 exponential, below 1 early failures and a long tail, above 1 wear-out", Kind::Thousandths, 100, 10_000, 1000, false),
    p("mttr_shape", "Weibull shape, time to repair", "shape k of the times to repair, mean mttr whatever k (1: exponential)", Kind::Thousandths, 100, 10_000, 1000, false),
    p("zone", "Zone size", "members in a zone (rack) that fails as a whole; 0: no zone failures", Kind::Count, 0, 500, 0, false),
    p("zone_mttf", "Zone mean time to failure (s)", "each zone fails whole after an exponential time of this mean; 0: never", Kind::Duration, 0, 100_000_000 * S, 0, false),
    p("tolerate", "Service tolerates (members down)", "the service needs all members but this many: its availability is the share of time at most this many are down", Kind::Count, 0, 499, 1, false),
    p("keys", "Keys", "keys placed on the members' consistent-hash ring, each in 'copies' copies; re-replicated when a member is declared failed; 0: no data", Kind::Count, 0, super::repair::MAX_KEYS as i64, 0, false),
    p("copies", "Copies of each key (R)", "members each key is placed on, its preference list on the ring", Kind::Count, 1, 16, 3, false),
    p("repair_rate", "Repair bandwidth (keys/s)", "keys per second the repair of one failed member copies", Kind::Count, 1, 10_000_000, 100, false),
    p(
        "bug_stale",
        "Deliberate bug: stale suspicions",
        "swim: a member accepts a suspicion at an incarnation older than the one it knows, so a refuted suspicion comes back",
        Kind::Toggle,
        0,
        1,
        0,
        false,
    ),
];

/// The shared network's parameters without the client workload (members
/// serve no clients): latency, tail, loss, duplication, reordering, drift,
/// timer jitter.
pub const NET: &[ParamSpec] = NETWORK.split_at(9).0;

/// The lab's own verb: `timeout S3` makes a member beat or probe now.
const VERBS: &[&str] = &["timeout"];

fn check(scn: &Scenario) -> Result<(), String> {
    if scn.get("ping_timeout") >= scn.get("probe") {
        return Err("ping_timeout must be shorter than the SWIM period (probe)".into());
    }
    if scn.get("tolerate") >= scn.get("nodes") {
        return Err(format!(
            "tolerate ({}) must be below the number of members ({})",
            scn.get("tolerate"),
            scn.get("nodes")
        ));
    }
    if scn.get("zone") > scn.get("nodes") {
        return Err(format!("a zone ({}) cannot hold more than the members ({})", scn.get("zone"), scn.get("nodes")));
    }
    if scn.get("keys") > 0 && scn.get("copies") > scn.get("nodes") {
        return Err(format!("copies ({}) cannot be more than the members ({})", scn.get("copies"), scn.get("nodes")));
    }
    if scn.get("jitter_member") > scn.get("nodes") {
        return Err(format!(
            "jitter_member S{} is not one of the {} members",
            scn.get("jitter_member"),
            scn.get("nodes")
        ));
    }
    if scn.get("slow_member") > scn.get("nodes") {
        return Err(format!("slow_member S{} is not one of the {} members", scn.get("slow_member"), scn.get("nodes")));
    }
    if scn.get("latency_min") > scn.get("latency_max") {
        return Err("latency_min must not be larger than latency_max".into());
    }
    Ok(())
}

fn nodes(scn: &Scenario) -> u32 {
    scn.nodes_param()
}

/// The lab's handle, for scenarios built in code.
pub fn kind() -> crate::scenario::LabKind {
    crate::scenario::LabKind(&LAB)
}

/// What every program knows of this lab, even one that does not run it
/// (the registry's [`HEADS`](crate::lab::registry::HEADS)).
pub const HEAD: LabHead = LabHead {
    name: "faults",
    title: "Failure detection",
    about: "How members find a crashed one: heartbeats with a timeout, phi accrual and SWIM; detection time against false suspicions, refutation by incarnation, and availability against the binomial model.",
    bench: true,
};

/// The failure-detection lab, as registered.
pub static LAB: LabDef = LabDef {
    name: HEAD.name,
    title: HEAD.title,
    about: HEAD.about,
    params: &[PARAMS, NET],
    shared_verbs: SHARED_VERBS,
    verbs: VERBS,
    parse_verb: cluster::parse_verb,
    check_verb: cluster::check_verb,
    check,
    nodes,
    bench: Some(include_str!("../../../../tests/scenarios/faults/bench.scn")),
    experiments: super::experiments::EXPERIMENTS,
    presets: &[
        (
            "A crash found by heartbeats with a fixed timeout",
            include_str!("../../../../tests/scenarios/faults/default.scn"),
        ),
        ("The same crash found by phi accrual", include_str!("../../../../tests/scenarios/faults/crash-phi.scn")),
        (
            "A garbage-collection pause: a short timeout suspects",
            include_str!("../../../../tests/scenarios/faults/gc-pause-short-timeout.scn"),
        ),
        (
            "The same pause under phi accrual with an accepted pause",
            include_str!("../../../../tests/scenarios/faults/gc-pause-phi.scn"),
        ),
        (
            "A fixed timeout false-suspects a member behind a jittery link",
            include_str!("../../../../tests/scenarios/faults/jitter-timeout.scn"),
        ),
        ("Phi accrual learns a jittery link", include_str!("../../../../tests/scenarios/faults/jitter-phi.scn")),
        (
            "SWIM: indirect probes save a member behind a lossy link",
            include_str!("../../../../tests/scenarios/faults/swim-indirect.scn"),
        ),
        (
            "SWIM without indirect probes: false suspicions",
            include_str!("../../../../tests/scenarios/faults/swim-no-indirect.scn"),
        ),
        (
            "SWIM: a crash spreads to 64 members by gossip",
            include_str!("../../../../tests/scenarios/faults/swim-gossip.scn"),
        ),
        (
            "SWIM: a slow member accuses healthy ones",
            include_str!("../../../../tests/scenarios/faults/swim-slow-member.scn"),
        ),
        (
            "Lifeguard: the slow member knows it is slow",
            include_str!("../../../../tests/scenarios/faults/lifeguard-slow-member.scn"),
        ),
        (
            "SWIM: a paused member refutes its suspicion",
            include_str!("../../../../tests/scenarios/faults/swim-refute.scn"),
        ),
        ("A partition, then healing", include_str!("../../../../tests/scenarios/faults/partition.scn")),
        (
            "Churn: availability against the binomial model",
            include_str!("../../../../tests/scenarios/faults/churn.scn"),
        ),
        (
            "Churn with Weibull times: the same availability",
            include_str!("../../../../tests/scenarios/faults/churn-weibull.scn"),
        ),
        (
            "A rack fails: what the binomial model calls rare",
            include_str!("../../../../tests/scenarios/faults/rack.scn"),
        ),
        (
            "Re-replication after a crash: the window of data at risk",
            include_str!("../../../../tests/scenarios/faults/repair-crash.scn"),
        ),
        (
            "A too-eager detector re-replicates for a paused member",
            include_str!("../../../../tests/scenarios/faults/repair-needless.scn"),
        ),
        (
            "The deliberate bug: stale suspicions come back",
            include_str!("../../../../tests/scenarios/faults/bug-stale.scn"),
        ),
    ],
};

/// What runs the lab (see [`Engine`]).
pub static ENGINE: Engine =
    Engine { lab: &LAB, build: cluster::build::<FaultsNode>, speed: None, runs: super::experiments::RUNS, also: &[] };

/// The members' configuration a scenario describes.
pub fn faults_config(scn: &Scenario) -> FaultsConfig {
    let g = |n: &str| scn.get(n).max(0) as u64;
    FaultsConfig {
        detector: match g("detector") {
            1 => Detector::Phi,
            2 => Detector::Swim,
            _ => Detector::Heartbeat,
        },
        heartbeat: g("heartbeat").max(1),
        timeout: g("timeout").max(1),
        phi_threshold: g("phi_threshold") as f64 / 1000.0,
        window: g("window").max(2) as u32,
        fit: if g("fit") == 1 { Fit::Exponential } else { Fit::Normal },
        min_std: g("min_std"),
        pause_margin: g("pause_margin"),
        max_interval: g("max_interval"),
        probe: g("probe").max(1),
        ping_timeout: g("ping_timeout").max(1),
        indirect: g("indirect") as u32,
        suspicion: g("suspicion"),
        piggyback: g("piggyback") as u32,
        retransmit: g("retransmit").max(1) as u32,
        bug_stale: g("bug_stale") != 0,
        churn: ChurnConfig {
            n: scn.nodes_param(),
            mttf: g("mttf"),
            mttr: g("mttr"),
            zone: g("zone") as u32,
            zone_mttf: g("zone_mttf"),
            shape_f: g("mttf_shape") as u32,
            shape_r: g("mttr_shape") as u32,
        },
        tolerate: g("tolerate") as u32,
        lifeguard: g("lifeguard") != 0,
        lhm_max: g("lhm_max").max(1) as u32,
        suspicion_max: g("suspicion_max").max(1) as u32,
        confirmations: g("confirmations") as u32,
        slow: (g("slow_member") > 0 && g("slow_by") > 0).then(|| (g("slow_member") as u32 - 1, g("slow_by"))),
        jittery: (g("jitter_member") > 0 && g("jitter_by") > 0)
            .then(|| (g("jitter_member") as u32 - 1, g("jitter_by"))),
        repair: RepairConfig { keys: g("keys") as u32, copies: g("copies") as u32, rate: g("repair_rate") },
    }
}

/// One crash being watched: when, who suspected it first, and when every
/// live member suspected it and declared it dead.
#[derive(Clone, Debug, Default)]
struct Watch {
    at: Time,
    first: Option<Time>,
    detected: Option<Time>,
    declared: Option<Time>,
}

/// The lab's running figures, from the members' notes and the faults.
#[derive(Clone, Debug, Default)]
pub struct FaultsTracker {
    n: u32,
    started: bool,
    /// Each member's view of each other, mirrored from its notes
    /// (`observer * n + member`).
    view: Vec<Status>,
    /// Up members that suspect (not dead) / hold dead each member.
    suspected_by: Vec<u32>,
    dead_by: Vec<u32>,
    /// Per crashed member, the crash being watched.
    watch: BTreeMap<NodeId, Watch>,
    /// Detections completed: how many, total time, the last.
    pub detections: u64,
    detect_sum: Time,
    /// Crash to every live member suspecting, the last one (µs).
    pub detect_last: Option<Time>,
    /// Crash to every live member declaring dead, the last one (µs).
    pub declare_last: Option<Time>,
    declare_sum: Time,
    declarations: u64,
    /// First suspicion to every live member suspecting, the last (µs).
    pub spread_last: Option<Time>,
    /// False suspicions so far.
    pub mistakes: u64,
    /// False suspicions of healthy members: up, not paused, not the slow
    /// member.
    pub healthy_mistakes: u64,
    slow: Option<NodeId>,
    jittery: Option<NodeId>,
    open: BTreeMap<(NodeId, NodeId), Time>,
    mistake_sum: Time,
    mistakes_ended: u64,
    /// Refutations so far.
    pub refutes: u64,
    /// Time with each number of members down.
    pub downtime: DownTime,
    plan: Option<Churn>,
    cfg: Option<ChurnConfig>,
    tolerate: u32,
    /// The keys, their copies and the repairs.
    pub repair: Repair,
    /// The last step's most telling note, for the narration.
    said: Option<String>,
}

impl FaultsTracker {
    fn init(&mut self, sim: &Sim<FaultsNode>) {
        let c = sim.protocol_config();
        let n = sim.config().nodes;
        self.n = n;
        self.view = vec![Status::Alive; (n * n) as usize];
        self.suspected_by = vec![0; n as usize];
        self.dead_by = vec![0; n as usize];
        self.downtime = DownTime::new(n);
        self.tolerate = c.tolerate;
        self.slow = c.slow.map(|(m, _)| m);
        self.jittery = c.jittery.map(|(m, _)| m);
        self.cfg = Some(c.churn);
        self.repair = Repair::new(c.repair, n);
        if c.churn.active() {
            self.plan = Some(Churn::new(c.churn, sim.config().seed));
        }
        self.started = true;
    }

    fn set(&mut self, o: NodeId, m: NodeId, s: Status) {
        let i = (o * self.n + m) as usize;
        let old = self.view[i];
        let dec = |v: &mut Vec<u32>| v[m as usize] = v[m as usize].saturating_sub(1);
        match old {
            Status::Suspect => dec(&mut self.suspected_by),
            Status::Dead => dec(&mut self.dead_by),
            Status::Alive => {}
        }
        match s {
            Status::Suspect => self.suspected_by[m as usize] += 1,
            Status::Dead => self.dead_by[m as usize] += 1,
            Status::Alive => {}
        }
        self.view[i] = s;
    }

    fn close_mistake(&mut self, o: NodeId, m: NodeId, now: Time) {
        if let Some(t) = self.open.remove(&(o, m)) {
            self.mistake_sum += now - t.min(now);
            self.mistakes_ended += 1;
        }
    }

    /// How many members suspect or hold dead member `m`.
    pub fn doubted_by(&self, m: NodeId) -> u32 {
        self.suspected_by[m as usize] + self.dead_by[m as usize]
    }

    /// Whether every up member other than `m` holds `m` at least `at_least`.
    fn all_live(&self, sim: &Sim<FaultsNode>, m: NodeId, dead: bool) -> bool {
        sim.nodes().iter().enumerate().all(|(o, node)| {
            let o = o as NodeId;
            o == m || node.status != NodeStatus::Up || {
                let s = self.view[(o * self.n + m) as usize];
                if dead {
                    s == Status::Dead
                } else {
                    s != Status::Alive
                }
            }
        })
    }

    /// Each member's view of the others and what is true of each, for the
    /// page (see [`FaultsView`]): the whole matrix up to
    /// [`MATRIX_MAX`] members, the per-member counts always.
    pub fn faults_view(&self, sim: &Sim<FaultsNode>) -> FaultsView {
        let n = self.n;
        let truth: Vec<Truth> = sim
            .nodes()
            .iter()
            .enumerate()
            .map(|(m, node)| match node.status {
                NodeStatus::Crashed => Truth::Crashed,
                NodeStatus::Paused => Truth::Paused,
                NodeStatus::Up if self.slow == Some(m as NodeId) => Truth::Slow,
                NodeStatus::Up if self.jittery == Some(m as NodeId) => Truth::Jittery,
                NodeStatus::Up => Truth::Up,
            })
            .collect();
        let cells = if n <= MATRIX_MAX && self.view.len() == (n * n) as usize {
            (0..n)
                .flat_map(|o| (0..n).map(move |m| (o, m)))
                .map(|(o, m)| {
                    let opinion = if truth[o as usize] == Truth::Crashed {
                        Opinion::NoView
                    } else {
                        match self.view[(o * n + m) as usize] {
                            Status::Alive => Opinion::Alive,
                            Status::Suspect => Opinion::Suspected,
                            Status::Dead => Opinion::Dead,
                        }
                    };
                    opinion.code()
                })
                .collect()
        } else {
            Vec::new()
        };
        let count = |v: &[u32]| v.iter().map(|&k| k.min(u32::from(u16::MAX)) as u16).collect();
        FaultsView {
            n,
            cells,
            truth: truth.iter().map(|t| t.code()).collect(),
            suspected_by: count(&self.suspected_by),
            dead_by: count(&self.dead_by),
        }
    }

    /// Mistake duration, mean over the mistakes that ended (µs).
    pub fn mistake_duration(&self) -> Option<f64> {
        (self.mistakes_ended > 0).then(|| self.mistake_sum as f64 / self.mistakes_ended as f64)
    }

    /// Detection time, mean over the crashes detected (µs).
    pub fn detect_mean(&self) -> Option<f64> {
        (self.detections > 0).then(|| self.detect_sum as f64 / self.detections as f64)
    }
}

const KINDS: &[(&str, &str, bool, bool)] = &[
    ("Heartbeat", "#9aa3b2", false, true),
    ("Ping", "#4a78c2", false, false),
    ("Ack", "#2e9d5b", true, false),
    ("PingReq", "#e0a21b", false, false),
    ("IndirectPing", "#b07ad8", false, false),
    ("Nack", "#e05a5a", true, false),
];

/// Incarnation order (SWIM §4.2, memberlist's rules): once a member has
/// accepted news of another at incarnation `i`, it never again holds it
/// suspected or dead at an incarnation below `i`; a refutation (alive at a
/// higher incarnation) therefore stays in force. A member's view starts
/// afresh when it restarts.
#[derive(Clone, Default)]
struct IncarnationOrder {
    seen: BTreeMap<(NodeId, NodeId), u32>,
}

impl Invariant<FaultsNode> for IncarnationOrder {
    fn name(&self) -> &'static str {
        "Incarnation Order"
    }

    fn check(&mut self, _: &World<'_, FaultsNode>, events: &[TraceEvent<FaultsNode>]) -> Result<(), String> {
        for ev in events {
            match ev {
                TraceEvent::Note { node, note, .. } => {
                    let (of, inc, doubt) = match note {
                        FaultsNote::Suspect { of, inc } => (*of, *inc, "suspects"),
                        FaultsNote::DeclareDead { of, inc } => (*of, *inc, "declares dead"),
                        FaultsNote::Trust { of, inc } => (*of, *inc, ""),
                        _ => continue,
                    };
                    let known = self.seen.entry((*node, of)).or_insert(0);
                    if inc < *known && !doubt.is_empty() {
                        return Err(format!(
                            "S{} {doubt} S{} at incarnation {inc}, though it already knew S{} at incarnation {}: a refuted suspicion came back",
                            node + 1,
                            of + 1,
                            of + 1,
                            *known
                        ));
                    }
                    *known = (*known).max(inc);
                }
                TraceEvent::Fault { fault: Fault::Crash(n), .. } => {
                    self.seen.retain(|(o, _), _| o != n);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<FaultsNode>> {
        Box::new(self.clone())
    }

    fn heap_bytes(&self) -> usize {
        self.seen.len() * 24
    }
}

impl ClusterProtocol for FaultsNode {
    type Tracker = FaultsTracker;
    const CLIENT_COMMANDS: bool = false;

    fn config(scn: &Scenario) -> FaultsConfig {
        faults_config(scn)
    }

    fn invariants() -> Vec<Box<dyn Invariant<Self>>> {
        vec![Box::new(IncarnationOrder::default())]
    }

    const ROLES: &'static [(&'static str, &'static str)] =
        &[("alive", "#2e9d5b"), ("suspected", "#e0a21b"), ("declared dead", "#e05a5a"), ("down", "#5d6470")];
    const KINDS: &'static [(&'static str, &'static str, bool, bool)] = KINDS;
    const NOTES: &'static [(&'static str, &'static str, bool)] = &[
        ("Suspect", "#e0a21b", true),
        ("DeclareDead", "#e05a5a", true),
        ("Trust", "#2e9d5b", true),
        ("Refute", "#4a78c2", true),
        ("LocalPause", "#9aa3b2", false),
    ];

    fn fields() -> Vec<FieldSpec> {
        let f = FieldSpec::new;
        vec![
            f("suspected_by", "Suspected by", Unit::Count).with_short("s"),
            f("dead_by", "Declared dead by", Unit::Count),
            f("suspects", "Members it doubts", Unit::Count),
            f("incarnation", "Incarnation", Unit::Count),
        ]
    }

    fn view(node: &Node<Self>, v: &mut NodeView) {
        let s = &node.state;
        v.fields = vec![i64::MIN, i64::MIN, s.suspects() as i64, i64::from(s.incarnation())];
    }

    fn view_in(t: &FaultsTracker, node: &Node<Self>, v: &mut NodeView) {
        Self::view(node, v);
        let m = v.id as usize;
        let (sus, dead) = (t.suspected_by.get(m).copied().unwrap_or(0), t.dead_by.get(m).copied().unwrap_or(0));
        v.role = if node.status == NodeStatus::Crashed {
            3
        } else if dead > 0 {
            2
        } else if sus > 0 {
            1
        } else {
            0
        };
        v.fields[0] = i64::from(sus + dead);
        v.fields[1] = i64::from(dead);
    }

    fn metric_specs() -> Vec<MetricSpec> {
        let m = MetricSpec::new;
        vec![
            m("doubted", "Members suspected or declared dead by someone", Unit::Count, true)
                .with_role(MetricRole::Progress),
            m("up", "Members up", Unit::Count, true),
            m("detections", "Crashes detected by every live member", Unit::Count, false),
            m("detect_last", "Detection time, last crash (to every live member suspecting)", Unit::Micros, false),
            m("detect_mean", "Detection time, mean", Unit::Micros, true),
            m("declare_last", "Time to every live member declaring it dead, last crash", Unit::Micros, false),
            m("spread_last", "Spread, last crash (first suspicion to every live member)", Unit::Micros, false),
            m("mistakes", "False suspicions", Unit::Count, true),
            m("mistake_rate", "Mistake rate (per member per hour)", Unit::Ratio, false),
            m("mistake_duration", "Mistake duration, mean", Unit::Micros, false),
            m("false_dead", "Members up declared dead by someone", Unit::Count, false),
            m("refutes", "Refutations", Unit::Count, false),
            m("msgs_member_sec", "Messages per member per second", Unit::Ratio, false),
            m("avail", "Availability: share of time with at most 'tolerate' members down", Unit::Fraction, false),
            m("avail_model", "Availability, binomial model", Unit::Fraction, false),
            m("down_share", "Share of member-time down", Unit::Fraction, false),
            m("p_model", "p = MTTR / (MTTF + MTTR)", Unit::Fraction, false),
            m(
                "healthy_mistakes",
                "False suspicions of healthy members (up, not paused, not the slow or jittery one)",
                Unit::Count,
                false,
            ),
            m("keys_at_risk", "Keys at risk (fewer than R available copies)", Unit::Count, true),
            m("keys_lost", "Keys lost (no available copy)", Unit::Count, true),
            m("lost_peak", "Most keys lost at once", Unit::Count, false),
            m("repair_copies", "Copies made by repair", Unit::Count, false),
            m("needless_copies", "Needless copies (for a member declared failed while up)", Unit::Count, false),
            m("dropped_copies", "Surplus copies dropped when a member rejoined", Unit::Count, false),
            m("repair_detect_last", "Time to detect, last crash (to the repair starting)", Unit::Micros, false),
            m("repair_last", "Time to repair, last repair (declaration to last copy)", Unit::Micros, false),
            m("risk_window_last", "Window of data at risk, last (a key below R to all back at R)", Unit::Micros, false),
        ]
    }

    fn observe(t: &mut FaultsTracker, sim: &Sim<Self>) {
        if !t.started {
            t.init(sim);
        }
        let now = sim.now();
        let crashed = |m: NodeId| sim.nodes()[m as usize].status == NodeStatus::Crashed;
        let mut touched = false;
        t.said = None;
        if t.repair.active() {
            t.repair.catch_up(now);
        }
        for ev in sim.last_events() {
            match ev {
                TraceEvent::Note { node, note, .. } => {
                    let o = *node;
                    match note {
                        FaultsNote::Suspect { of, .. } | FaultsNote::DeclareDead { of, .. } => {
                            let of = *of;
                            let dead = matches!(note, FaultsNote::DeclareDead { .. });
                            let was = t.view[(o * t.n + of) as usize];
                            t.set(o, of, if dead { Status::Dead } else { Status::Suspect });
                            if was == Status::Alive && !crashed(of) {
                                t.mistakes += 1;
                                if t.slow != Some(of)
                                    && t.jittery != Some(of)
                                    && sim.nodes()[of as usize].status == NodeStatus::Up
                                {
                                    t.healthy_mistakes += 1;
                                }
                                t.open.insert((o, of), now);
                            }
                            if let Some(w) = t.watch.get_mut(&of) {
                                w.first.get_or_insert(now);
                            }
                            if dead && t.repair.active() && !t.repair.is_failed(of) {
                                t.repair.declare(of, now);
                                t.said = Some(format!(
                                    "S{} declares S{} dead: its {} keys are re-replicated",
                                    o + 1,
                                    of + 1,
                                    t.repair.keys_on(of)
                                ));
                                touched = true;
                                continue;
                            }
                            t.said = Some(if dead {
                                format!("S{} declares S{} dead", o + 1, of + 1)
                            } else if crashed(of) {
                                format!("S{} suspects S{}, which has crashed", o + 1, of + 1)
                            } else {
                                format!("S{} suspects S{}, which is alive: a false suspicion", o + 1, of + 1)
                            });
                            touched = true;
                        }
                        FaultsNote::Trust { of, .. } => {
                            t.set(o, *of, Status::Alive);
                            t.close_mistake(o, *of, now);
                            t.said = Some(format!("S{} trusts S{} again", o + 1, of + 1));
                        }
                        FaultsNote::Refute { inc } => {
                            t.refutes += 1;
                            t.said = Some(format!(
                                "S{} heard it is suspected and refutes it: alive, incarnation {inc}",
                                o + 1
                            ));
                        }
                        FaultsNote::LocalPause => {}
                    }
                }
                TraceEvent::Fault { fault, .. } => {
                    touched = true;
                    match fault {
                        Fault::Crash(x) => {
                            let x = *x;
                            // Its view is lost; the doubts about it are
                            // now right.
                            for m in 0..t.n {
                                t.close_mistake(x, m, now);
                                t.set(x, m, Status::Alive);
                                t.close_mistake(m, x, now);
                            }
                            t.watch.insert(x, Watch { at: now, ..Watch::default() });
                            if t.repair.active() {
                                t.repair.crash(x, now);
                            }
                        }
                        Fault::Restart(x) => {
                            t.watch.remove(x);
                            if t.repair.active() {
                                t.repair.restart(*x, now);
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        if t.repair.active() {
            // A member declared failed rejoins once it is up and no member
            // holds it dead any more.
            let back: Vec<NodeId> =
                t.repair.failed_members().filter(|&m| t.dead_by[m as usize] == 0 && !crashed(m)).collect();
            for m in back {
                t.repair.rejoin(m, now);
                t.said = Some(format!("S{} is trusted again and rejoins: its copies count again", m + 1));
            }
        }
        if touched {
            let down = sim.nodes().iter().filter(|n| n.status == NodeStatus::Crashed).count() as u32;
            if down != t.downtime.down {
                t.downtime.change(now, down);
            }
            let pending: Vec<NodeId> = t.watch.iter().filter(|(_, w)| w.declared.is_none()).map(|(m, _)| *m).collect();
            for m in pending {
                let suspected = t.all_live(sim, m, false);
                let declared = suspected && t.all_live(sim, m, true);
                let w = t.watch.get_mut(&m).expect("watched");
                if suspected && w.detected.is_none() {
                    w.detected = Some(now);
                    let d = now - w.at;
                    t.detections += 1;
                    t.detect_sum += d;
                    t.detect_last = Some(d);
                    t.spread_last = Some(now - w.first.unwrap_or(now).min(now));
                }
                let w = t.watch.get_mut(&m).expect("watched");
                if declared && w.declared.is_none() {
                    w.declared = Some(now);
                    let d = now - w.at;
                    t.declarations += 1;
                    t.declare_sum += d;
                    t.declare_last = Some(d);
                }
            }
        }
    }

    fn tracker_bytes(t: &FaultsTracker) -> usize {
        t.view.capacity() * std::mem::size_of::<Status>()
            + (t.suspected_by.capacity() + t.dead_by.capacity()) * 4
            + t.watch.len() * (std::mem::size_of::<Watch>() + 16)
            + t.open.len() * 32
            + t.downtime.time.capacity() * 8
            + t.repair.heap_bytes()
    }

    fn note_about(note: &FaultsNote) -> Option<u32> {
        match *note {
            FaultsNote::Suspect { of, .. } | FaultsNote::DeclareDead { of, .. } | FaultsNote::Trust { of, .. } => {
                Some(of)
            }
            FaultsNote::Refute { .. } | FaultsNote::LocalPause => None,
        }
    }

    fn lab_view(t: &FaultsTracker, sim: &Sim<Self>) -> Option<Vec<u8>> {
        if !t.started {
            return None;
        }
        bincode::serialize(&t.faults_view(sim)).ok()
    }

    fn narrate(t: &FaultsTracker, _sim: &Sim<Self>) -> Option<String> {
        t.said.clone()
    }

    fn metrics(t: &FaultsTracker, sim: &Sim<Self>, out: &mut Vec<f64>) {
        let now = sim.now();
        let n = f64::from(t.n.max(1));
        let hours = now as f64 / 3.6e9;
        let up = sim.nodes().iter().filter(|x| x.status != NodeStatus::Crashed).count();
        let doubted = (0..t.n).filter(|&m| t.doubted_by(m) > 0).count();
        let false_dead = (0..t.n)
            .filter(|&m| t.dead_by[m as usize] > 0 && sim.nodes()[m as usize].status != NodeStatus::Crashed)
            .count();
        let opt = |x: Option<Time>| x.map_or(f64::NAN, |v| v as f64);
        let secs = now as f64 / 1e6;
        let cfg = t.cfg.unwrap_or_default();
        let p = cfg.p();
        let down_share =
            if now > 0 { (0..=t.n).map(|k| f64::from(k) * t.downtime.share(now, k)).sum::<f64>() / n } else { 0.0 };
        out.extend([
            doubted as f64,
            up as f64,
            t.detections as f64,
            opt(t.detect_last),
            t.detect_mean().unwrap_or(f64::NAN),
            opt(t.declare_last),
            opt(t.spread_last),
            t.mistakes as f64,
            if hours > 0.0 { t.mistakes as f64 / n / hours } else { f64::NAN },
            t.mistake_duration().unwrap_or(f64::NAN),
            false_dead as f64,
            t.refutes as f64,
            if secs > 0.0 { sim.counters().sent as f64 / n / secs } else { f64::NAN },
            t.downtime.at_most(now, t.tolerate),
            if p.is_nan() { f64::NAN } else { binomial_at_most(t.n, t.tolerate, p) },
            down_share,
            p,
        ]);
        out.push(t.healthy_mistakes as f64);
        let r = &t.repair;
        if r.active() {
            out.extend([
                f64::from(r.at_risk),
                f64::from(r.lost),
                f64::from(r.lost_peak),
                r.copies as f64,
                r.needless as f64,
                r.dropped as f64,
                opt(r.detect_last),
                opt(r.repair_last),
                opt(r.risk_last),
            ]);
        } else {
            out.extend([f64::NAN; 9]);
        }
    }

    fn planned_fault(t: &mut FaultsTracker, sim: &Sim<Self>) -> Option<(Time, Fault)> {
        if !t.started {
            t.init(sim);
        }
        t.plan.as_mut()?.next_fault()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(node: NodeId, note: FaultsNote) -> TraceEvent<FaultsNode> {
        TraceEvent::Note { at: 0, node, note }
    }

    /// Feeds the events one at a time, as the simulator does.
    fn check(events: &[TraceEvent<FaultsNode>]) -> Result<(), String> {
        let world = World { now: 0, nodes: &[] };
        let mut checker = IncarnationOrder::default();
        events.iter().try_for_each(|e| checker.check(&world, std::slice::from_ref(e)))
    }

    // SWIM (Das et al. 2002, §4.2): news of a member at incarnation i
    // overrides doubts of it at any lower incarnation. Hand-built sequences
    // of S1's notes about S3: a doubt (a suspicion or a declaration of
    // death) below an incarnation S1 already knew, from any note, is a
    // refuted doubt coming back; trust at a lower incarnation is not a
    // doubt; another member's knowledge and what a member knew before it
    // crashed do not count.
    #[test]
    fn incarnation_order_by_hand() {
        use FaultsNote::{DeclareDead, Suspect, Trust};
        let stale = check(&[note(0, DeclareDead { of: 2, inc: 1 }), note(0, Suspect { of: 2, inc: 0 })]);
        assert!(stale.is_err_and(|e| e.contains("S1 suspects S3 at incarnation 0")), "known at 1 from a declaration");
        let stale = check(&[note(0, Trust { of: 2, inc: 1 }), note(0, DeclareDead { of: 2, inc: 0 })]);
        assert!(stale.is_err_and(|e| e.contains("declares dead S3 at incarnation 0")), "a stale declaration");
        assert_eq!(
            check(&[note(0, Suspect { of: 2, inc: 1 }), note(0, Trust { of: 2, inc: 0 })]),
            Ok(()),
            "trust is no doubt"
        );
        assert_eq!(
            check(&[note(0, Trust { of: 2, inc: 1 }), note(1, Suspect { of: 2, inc: 0 })]),
            Ok(()),
            "S2 knew nothing"
        );
        let crash = TraceEvent::Fault { at: 0, fault: Fault::Crash(0) };
        assert_eq!(
            check(&[note(0, Trust { of: 2, inc: 1 }), crash, note(0, Suspect { of: 2, inc: 0 })]),
            Ok(()),
            "S1 forgot"
        );
        assert_eq!(
            check(&[note(0, Suspect { of: 2, inc: 1 }), note(0, Suspect { of: 2, inc: 1 })]),
            Ok(()),
            "the same incarnation"
        );
    }

    // The snapshot budget counts the checker (docs/architecture.md,
    // "Seeking replays from the nearest snapshot"): what it remembers, one
    // incarnation per observer and member, must be in its estimate.
    #[test]
    fn incarnation_orders_estimate_grows_with_what_it_remembers() {
        let world = World { now: 0, nodes: &[] };
        let mut checker = IncarnationOrder::default();
        let notes: Vec<_> = (0..10).map(|m| note(m, FaultsNote::Trust { of: (m + 1) % 10, inc: 1 })).collect();
        assert_eq!(checker.check(&world, &notes), Ok(()));
        let entry = std::mem::size_of::<((NodeId, NodeId), u32)>();
        assert!(checker.heap_bytes() >= 10 * entry, "10 remembered: {} bytes", checker.heap_bytes());
        assert!(checker.heap_bytes() <= 10 * 4 * entry, "10 remembered: {} bytes", checker.heap_bytes());
    }
}
