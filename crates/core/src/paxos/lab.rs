//! The Paxos lab: Paxos on the shared cluster lab.
//!
//! Its own parts: the parameter table (single-decree or Multi-Paxos,
//! proposers, acceptors, co-located or not, back-off, leader timeout,
//! heartbeat, commands per slot, slots in flight, the deliberate bug), how a server is drawn (its roles, promise, accepted
//! ballot, what it learned), the colours of the six message kinds, and its
//! metrics (decisions, rounds and messages per decision, time to the first
//! decision, the leader, commands per slot), followed from the servers'
//! notes.

use super::invariants::Choices;
use super::{invariants, PaxosConfig, PaxosNode, PaxosNote};
use crate::lab::cluster::{self, ClusterProtocol};
use crate::lab::{Engine, FieldSpec, LabDef, LabHead, MetricRole, MetricSpec, NodeView, StripSpec, Unit};
use crate::scenario::params::{choice, p, Kind, ParamSpec, NETWORK};
use crate::scenario::{Scenario, SHARED_VERBS};
use crate::sim::{Fault, Invariant, Node, NodeStatus, Observable, Sim, Time, TraceEvent, MS, SEC};

const M: i64 = MS as i64;
const S: i64 = SEC as i64;

/// The modes, as files write them.
pub const MODES: &[&str] = &["single", "multi"];

/// Parameters of the Paxos lab.
pub const PARAMS: &[ParamSpec] = &[
    choice("mode", "Mode", "single: one instance of Basic Paxos; multi: Multi-Paxos with a leader and a log of slots", MODES, 0, false),
    p("proposers", "Proposers", "servers that propose (S1 up)", Kind::Count, 1, 9, 2, false),
    p("acceptors", "Acceptors", "servers that accept; a majority of them chooses", Kind::Count, 1, 15, 3, false),
    p(
        "colocated",
        "Proposers are acceptors",
        "on: proposers are also acceptors (S1 up); off: acceptors are the servers after the proposers",
        Kind::Toggle,
        0,
        1,
        1,
        false,
    ),
    p(
        "backoff_min",
        "Back-off, min (ms)",
        "shortest wait before a proposer retries a rejected round",
        Kind::Duration,
        0,
        10 * S,
        10 * M,
        false,
    ),
    p(
        "backoff_max",
        "Back-off, max (ms)",
        "longest wait before a retry; 0 and 0 retry at once (dueling proposers livelock)",
        Kind::Duration,
        0,
        10 * S,
        100 * M,
        false,
    ),
    p(
        "leader_timeout",
        "Leader timeout (ms)",
        "Multi-Paxos: a proposer that hears no leader for this long (up to twice) runs phase 1",
        Kind::Duration,
        M,
        60 * S,
        300 * M,
        false,
    ),
    p(
        "heartbeat",
        "Heartbeat interval (ms)",
        "how often a leader (or the proposer that saw a value chosen) says so",
        Kind::Duration,
        M,
        60 * S,
        50 * M,
        false,
    ),
    p(
        "max_batch",
        "Commands per slot",
        "Multi-Paxos: most client commands one slot carries; commands that wait at the leader (during phase 1 or for room in the pipeline) share a slot, as Raft's max_batch entries share an AppendEntries",
        Kind::Count,
        1,
        10_000,
        64,
        false,
    ),
    p(
        "pipeline",
        "Slots in flight",
        "Multi-Paxos: most slots a leader has in phase 2 at once; commands beyond wait and are batched; 0: no limit",
        Kind::Count,
        0,
        10_000,
        0,
        false,
    ),
    p(
        "bug_ignore_promises",
        "Deliberate bug: ignore promises",
        "a proposer proposes its own value even when phase 1 reported an accepted one, to watch a checker catch it",
        Kind::Toggle,
        0,
        1,
        0,
        false,
    ),
];

fn check(scn: &Scenario) -> Result<(), String> {
    if scn.get("backoff_min") > scn.get("backoff_max") {
        return Err("backoff_min must not be larger than backoff_max".into());
    }
    cluster::check_network(scn)
}

fn nodes(scn: &Scenario) -> u32 {
    paxos_config(scn).nodes()
}

/// The Paxos lab's handle, for scenarios built in code.
pub fn kind() -> crate::scenario::LabKind {
    crate::scenario::LabKind(&LAB)
}

/// What every program knows of this lab, even one that does not run it
/// (the registry's [`HEADS`](crate::lab::registry::HEADS)).
pub const HEAD: LabHead = LabHead {
    name: "paxos",
    title: "Paxos",
    about: "Basic Paxos rounds and Multi-Paxos: prepares, promises, accepts, rejections, dueling proposers, leaders and slots, checked after every event.",
    bench: true,
};

/// The Paxos lab, as registered.
pub static LAB: LabDef = LabDef {
    name: HEAD.name,
    title: HEAD.title,
    about: HEAD.about,
    params: &[PARAMS, NETWORK],
    shared_verbs: SHARED_VERBS,
    verbs: cluster::VERBS,
    parse_verb: cluster::parse_verb,
    check_verb: cluster::check_verb,
    check,
    nodes,
    bench: Some(include_str!("../../../../tests/scenarios/paxos/bench.scn")),
    experiments: super::experiments::EXPERIMENTS,
    presets: &[
        ("A clean round", include_str!("../../../../tests/scenarios/paxos/default.scn")),
        (
            "Dueling proposers without back-off: livelock",
            include_str!("../../../../tests/scenarios/paxos/dueling-livelock.scn"),
        ),
        (
            "Dueling proposers with randomized back-off",
            include_str!("../../../../tests/scenarios/paxos/dueling-backoff.scn"),
        ),
        (
            "A late proposer adopts the chosen value",
            include_str!("../../../../tests/scenarios/paxos/late-proposer.scn"),
        ),
        (
            "An acceptor hears nothing, then catches up",
            include_str!("../../../../tests/scenarios/paxos/isolated-acceptor.scn"),
        ),
        (
            "No majority decides nothing; a majority decides",
            include_str!("../../../../tests/scenarios/paxos/no-majority.scn"),
        ),
        (
            "Multi-Paxos: leader change with gap filling",
            include_str!("../../../../tests/scenarios/paxos/leader-change.scn"),
        ),
        (
            "Paxos beside Raft: a leader crash under load",
            include_str!("../../../../tests/scenarios/paxos/beside-raft.scn"),
        ),
        (
            "Multi-Paxos: commands batched into slots under load",
            include_str!("../../../../tests/scenarios/paxos/batching.scn"),
        ),
        (
            "The deliberate bug: a proposer ignores promises",
            include_str!("../../../../tests/scenarios/paxos/bug-ignore-promises.scn"),
        ),
    ],
};

/// What runs the lab (see [`Engine`]).
pub static ENGINE: Engine = Engine {
    lab: &LAB,
    build: cluster::build::<PaxosNode>,
    speed: None,
    runs: super::experiments::RUNS,
    also: &[&crate::raft::lab::ENGINE],
};

/// The Paxos configuration a scenario describes.
pub fn paxos_config(scn: &Scenario) -> PaxosConfig {
    let g = |n: &str| scn.get(n).max(0) as u64;
    PaxosConfig {
        proposers: g("proposers") as u32,
        acceptors: g("acceptors") as u32,
        colocated: g("colocated") != 0,
        multi: g("mode") == 1,
        backoff_min: g("backoff_min"),
        backoff_max: g("backoff_max"),
        start_spread: 20 * MS,
        leader_timeout: g("leader_timeout"),
        heartbeat: g("heartbeat"),
        max_batch: g("max_batch").clamp(1, u64::from(u32::MAX)) as u32,
        pipeline: g("pipeline").min(u64::from(u32::MAX)) as u32,
        bug_ignore_promises: g("bug_ignore_promises") != 0,
    }
}

/// Paxos's running figures, from its notes.
#[derive(Clone, Debug, Default)]
pub struct PaxosTracker {
    /// What the acceptors chose, slot by slot.
    pub choices: Choices,
    /// Phase-1 rounds started.
    pub rounds: u64,
    /// Client commands in the chosen slots.
    pub commands: u64,
    /// Slots some learner learned.
    pub learned: std::collections::BTreeSet<super::Slot>,
    /// Protocol messages sent (prepare, promise, accept, accepted, reject,
    /// decide).
    pub protocol_messages: u64,
    first_round: Option<Time>,
    first_decision: Option<Time>,
    /// Leaders elected (Multi-Paxos phase 1 successes).
    pub leaders: u64,
    /// The Multi-Paxos leader, if one leads.
    pub leader: Option<(u32, super::Ballot)>,
    leaderless_since: Option<Time>,
    leaderless_total: Time,
    multi: bool,
    started: bool,
    /// The slots a majority of acceptors chose in the last step, with the
    /// ballot (for the narration).
    just_chosen: Vec<(super::Slot, super::Ballot)>,
    /// The last round lost: by whom, when, its ballot and the one that beat
    /// it (the narration joins it to the round started next).
    last_lost: Option<(u32, Time, super::Ballot, super::Ballot)>,
}

const KINDS: &[(&str, &str, bool, bool)] = &[
    ("Prepare", "#e0a21b", false, false),
    ("Promise", "#e0a21b", true, false),
    ("Accept", "#2e9d5b", false, false),
    ("Accepted", "#2e9d5b", true, false),
    ("Reject", "#e05a5a", true, false),
    ("Decide", "#4ac2c2", false, false),
    ("Heartbeat", "#9aa3b2", false, true),
    ("Fetch", "#b07ad8", false, true),
    ("Decided", "#b07ad8", true, true),
];

/// A ballot as [`super::Ballot::code`] packs it: `round * 1024 + proposer
/// + 1`, written `b3.2`.
pub const BALLOT: Unit = Unit::Pair { prefix: 'b', base: 1024 };

const PROTOCOL_KINDS: &[&str] = &["Prepare", "Promise", "Accept", "Accepted", "Reject", "Decide"];

impl ClusterProtocol for PaxosNode {
    type Tracker = PaxosTracker;

    fn config(scn: &Scenario) -> PaxosConfig {
        paxos_config(scn)
    }

    fn invariants() -> Vec<Box<dyn Invariant<Self>>> {
        invariants()
    }

    const ROLES: &'static [(&'static str, &'static str)] = &[
        ("learner", "#5d7390"),
        ("acceptor", "#4a78c2"),
        ("proposer", "#8a6ad0"),
        ("preparing", "#e0a21b"),
        ("leading", "#2e9d5b"),
    ];
    const KINDS: &'static [(&'static str, &'static str, bool, bool)] = KINDS;
    const NOTES: &'static [(&'static str, &'static str, bool)] = &[
        ("Prepared", "#e0a050", false),
        ("Chosen", "#f0c040", true),
        ("Learned", "#5cc08a", false),
        ("Applied", "#5cc08a", false),
        ("BecameLeader", "#f0c040", true),
        ("SteppedDown", "#8fa3bf", true),
    ];

    fn fields() -> Vec<FieldSpec> {
        let f = FieldSpec::new;
        vec![
            f("promised", "Promised", BALLOT),
            f("accepted", "Accepted ballot", BALLOT),
            f("ballot", "Own ballot", BALLOT),
            f("learned", "Slots learned", Unit::Count),
            f("leader", "Leader hint", Unit::Node),
        ]
    }

    fn strip() -> Option<StripSpec> {
        Some(StripSpec {
            title: "Accepted per slot (round; solid: learned)".into(),
            value: "round".into(),
            mark: "learned".into(),
            base: None,
        })
    }

    fn view(node: &Node<Self>, v: &mut NodeView) {
        let s = &node.state;
        let cfg = s.config();
        v.role = if s.is_leading() {
            4
        } else if s.is_preparing() {
            3
        } else if cfg.is_proposer(s.id()) {
            2
        } else if cfg.is_acceptor(s.id()) {
            1
        } else {
            0
        };
        let none = i64::MIN;
        let acceptor = cfg.is_acceptor(s.id());
        let top_accepted = s.top_accepted();
        v.fields = vec![
            if acceptor { s.promised().code() } else { none },
            if acceptor { top_accepted.map_or(0, |b| b.code()) } else { none },
            if cfg.is_proposer(s.id()) { s.ballot().code() } else { none },
            s.applied() as i64,
            s.leader_hint().map_or(0, |l| i64::from(l) + 1),
        ];
        let last = s.accepted().keys().next_back().map_or(0, |k| k + 1).max(s.applied());
        let first = last.saturating_sub(32);
        v.strip = (first..last)
            .map(|slot| s.accepted().get(&slot).map_or(0, |(b, _)| b.round.min(u64::from(u32::MAX)) as u32))
            .collect();
        v.strip_first = first + 1;
        v.strip_mark = s.applied();
        v.timer = node.timer_spans().find(|(t, ..)| **t == super::PaxosTimer::Round).map(|(_, set, due)| (set, due));
    }

    fn metric_specs() -> Vec<MetricSpec> {
        let m = MetricSpec::new;
        vec![
            m("decisions", "Slots chosen (by a majority of acceptors)", Unit::Count, true)
                .with_role(MetricRole::Progress),
            m("learned", "Slots learned (by some learner)", Unit::Count, false),
            m("unlearned", "Slots chosen that no learner knows yet", Unit::Count, false),
            m("rounds", "Rounds started (phase 1)", Unit::Count, true),
            m("rounds_per_decision", "Rounds per decision", Unit::Ratio, false),
            m("msgs_per_decision", "Messages per decision", Unit::Ratio, false),
            m("first_decision", "Time until acceptors first chose a value", Unit::Micros, false),
            m("decided_per_sec", "Slots chosen per second", Unit::PerSec, false),
            m("learners_behind", "Servers up that miss a decision", Unit::Count, false),
            m("leader", "Leader", Unit::Node, false).with_role(MetricRole::Leader),
            m("leaders_elected", "Leaders elected", Unit::Count, false),
            m("leaderless", "Time without leader", Unit::Micros, true),
            m("commands_per_slot", "Commands per slot chosen (no-ops count as slots)", Unit::Ratio, false),
        ]
    }

    fn narrate(t: &PaxosTracker, sim: &Sim<Self>) -> Option<String> {
        let b = |b: &super::Ballot| format!("b{}.{}", b.round, u64::from(b.proposer) + 1);
        let name = |n: &crate::sim::NodeId| format!("S{}", n + 1);
        // "Paxos Made Simple" §2.3: a value is chosen once a majority of
        // acceptors accepted it; a learner knows only when told.
        if let Some((slot, ballot)) = t.just_chosen.last() {
            let known = if t.learned.contains(slot) { "" } else { "; no learner knows it yet" };
            return Some(format!(
                "Slot {slot} chosen: a majority of acceptors accepted it with ballot {}{known}",
                b(ballot)
            ));
        }
        // The step's most telling note: a new leader, then a lost round
        // (a proposer that loses usually starts the next round at once),
        // then a new round, then a value learned.
        let told = sim.last_events().iter().rev().filter_map(|ev| {
            let TraceEvent::Note { node, note, .. } = ev else { return None };
            Some(match note {
                PaxosNote::BecameLeader { ballot } => {
                    (3, format!("{} leads with ballot {}: a majority promised it", name(node), b(ballot)))
                }
                PaxosNote::RoundLost { ballot, by } => (
                    2,
                    format!(
                        "{} gave up ballot {}: an acceptor had promised the higher {}",
                        name(node),
                        b(ballot),
                        b(by)
                    ),
                ),
                PaxosNote::RoundStarted { ballot } => match t.last_lost {
                    Some((who, at, lost, by)) if who == *node && at == sim.now() => (
                        2,
                        format!(
                            "{} gave up ballot {} (an acceptor had promised the higher {}) and starts again with {}",
                            name(node),
                            b(&lost),
                            b(&by),
                            b(ballot)
                        ),
                    ),
                    _ => (
                        1,
                        format!(
                            "{} starts a round with ballot {}: it asks the acceptors to promise (phase 1)",
                            name(node),
                            b(ballot)
                        ),
                    ),
                },
                PaxosNote::Learned { slot, .. } if !t.multi => {
                    (0, format!("{} learned the value chosen in slot {slot}", name(node)))
                }
                _ => return None,
            })
        });
        told.fold(None, |best: Option<(u8, String)>, (p, s)| match best {
            Some((bp, _)) if bp >= p => best,
            _ => Some((p, s)),
        })
        .map(|(_, s)| s)
    }

    fn observe(t: &mut PaxosTracker, sim: &Sim<Self>) {
        let events = sim.last_events();
        let now = sim.now();
        t.multi = sim.protocol_config().multi;
        if !t.started {
            t.started = true;
            t.leaderless_since = Some(now);
        }
        let quorum = sim.protocol_config().quorum();
        let new = t.choices.follow(quorum, events);
        t.just_chosen = new.iter().map(|(slot, _, ballot)| (*slot, *ballot)).collect();
        t.commands += new.iter().map(|(_, v, _)| v.requests().len() as u64).sum::<u64>();
        if !new.is_empty() && t.first_decision.is_none() {
            t.first_decision = Some(now);
        }
        let was = t.leader;
        for ev in events {
            match ev {
                TraceEvent::Sent { msg, .. } if PROTOCOL_KINDS.contains(&msg.kind()) => t.protocol_messages += 1,
                TraceEvent::Note { note: PaxosNote::Learned { slot, .. }, .. } => {
                    t.learned.insert(*slot);
                }
                TraceEvent::Note { node, note: PaxosNote::RoundLost { ballot, by }, .. } => {
                    t.last_lost = Some((*node, now, *ballot, *by));
                }
                TraceEvent::Note { note: PaxosNote::RoundStarted { .. }, .. } => {
                    t.rounds += 1;
                    t.first_round.get_or_insert(now);
                }
                TraceEvent::Note { node, note: PaxosNote::BecameLeader { ballot }, .. } => {
                    t.leaders += 1;
                    if t.leader.is_none_or(|(_, b)| *ballot > b) {
                        t.leader = Some((*node, *ballot));
                    }
                }
                TraceEvent::Note { node, note: PaxosNote::SteppedDown { .. }, .. }
                | TraceEvent::Fault { fault: Fault::Crash(node), .. }
                    if t.leader.is_some_and(|(l, _)| l == *node) =>
                {
                    t.leader = None
                }
                _ => {}
            }
        }
        if t.multi {
            match (was, t.leader) {
                (Some(_), None) => t.leaderless_since = Some(now),
                (None, Some(_)) => {
                    let since = t.leaderless_since.take().unwrap_or(0);
                    t.leaderless_total += now - since;
                }
                _ => {}
            }
        }
    }

    fn metrics(t: &PaxosTracker, sim: &Sim<Self>, out: &mut Vec<f64>) {
        let now = sim.now();
        let decisions = t.choices.chosen.len() as f64;
        let per = |x: f64| if decisions > 0.0 { x / decisions } else { f64::NAN };
        let chosen_upto = t.choices.chosen_upto();
        let behind =
            sim.nodes().iter().filter(|n| n.status == NodeStatus::Up && n.state.applied() < chosen_upto).count();
        let leaderless =
            if t.multi { (t.leaderless_total + t.leaderless_since.map_or(0, |s| now - s)) as f64 } else { f64::NAN };
        out.extend([
            decisions,
            t.learned.len() as f64,
            (decisions - t.learned.len() as f64).max(0.0),
            t.rounds as f64,
            per(t.rounds as f64),
            per(t.protocol_messages as f64),
            match (t.first_round, t.first_decision) {
                (Some(a), Some(b)) => (b - a.min(b)) as f64,
                _ => f64::NAN,
            },
            if now > 0 { decisions / (now as f64 / 1e6) } else { 0.0 },
            behind as f64,
            if t.multi { t.leader.map_or(0.0, |(l, _)| f64::from(l + 1)) } else { f64::NAN },
            if t.multi { t.leaders as f64 } else { f64::NAN },
            leaderless,
            if t.multi { per(t.commands as f64) } else { f64::NAN },
        ]);
    }
}
