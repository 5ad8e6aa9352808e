//! The Raft lab: Raft on the shared cluster lab.
//!
//! Everything here is Raft's own: its parameter table, how a server is
//! drawn (role, term, vote, commit index, the log's last terms, the
//! election timer), the colours of its messages, and its metrics (leader,
//! term, elections, time without a leader), tracked from its notes. The
//! faults, clients, network and drawing come from
//! [`ClusterLab`](crate::lab::cluster::ClusterLab).

use super::{invariants, RaftConfig, RaftNode, RaftNote, Role};
use crate::lab::cluster::{self, ClusterProtocol};
use crate::lab::{FieldSpec, LabDef, MetricSpec, NodeView, Unit};
use crate::scenario::params::{p, Kind, ParamSpec, NETWORK};
use crate::scenario::{Scenario, SHARED_VERBS};
use crate::sim::{Fault, Invariant, Node, NodeStatus, Observable, Sim, Time, TraceEvent, MS, SEC};

const M: i64 = MS as i64;
const S: i64 = SEC as i64;

/// Parameters of the Raft lab.
pub const PARAMS: &[ParamSpec] = &[
    p("nodes", "Servers", "number of servers in the cluster", Kind::Count, 1, 101, 5, false),
    p("election_timeout_min", "Election timeout, min (ms)", "shortest randomized election timeout (§5.2)", Kind::Duration, M, 60 * S, 150 * M, false),
    p("election_timeout_max", "Election timeout, max (ms)", "longest randomized election timeout (§5.2)", Kind::Duration, M, 60 * S, 300 * M, false),
    p("heartbeat", "Heartbeat interval (ms)", "time between a leader's heartbeats", Kind::Duration, M, 60 * S, 50 * M, false),
    p("max_batch", "Entries per AppendEntries", "most log entries one AppendEntries carries", Kind::Count, 1, 10_000, 64, false),
    p("pre_vote", "Pre-Vote", "ask before disrupting a leader (thesis §9.6)", Kind::Toggle, 0, 1, 0, false),
    p("check_quorum", "CheckQuorum", "a leader steps down when it has not heard from a majority (thesis §6.2)", Kind::Toggle, 0, 1, 0, false),
    p(
        "bug_commit_old_terms",
        "Deliberate bug: commit old terms",
        "commit entries of earlier terms by counting replicas (Figure 8), to watch a checker catch it",
        Kind::Toggle,
        0,
        1,
        0,
        false,
    ),
];

fn check(scn: &Scenario) -> Result<(), String> {
    if scn.get("election_timeout_min") > scn.get("election_timeout_max") {
        return Err("election_timeout_min must not be larger than election_timeout_max".into());
    }
    cluster::check_network(scn)
}

/// The Raft lab's handle, for scenarios built in code.
pub fn kind() -> crate::scenario::LabKind {
    crate::scenario::LabKind(&LAB)
}

/// The Raft lab, as registered.
pub static LAB: LabDef = LabDef {
    name: "raft",
    title: "Raft",
    about: "Elections, terms, votes, log replication and commits, with Raft's five safety properties checked after every event.",
    params: &[PARAMS, NETWORK],
    shared_verbs: SHARED_VERBS,
    verbs: cluster::VERBS,
    parse_verb: cluster::parse_verb,
    check_verb: cluster::check_verb,
    check,
    nodes: Scenario::nodes_param,
    build: cluster::build::<RaftNode>,
    presets: &[
        ("Five servers elect a leader and replicate", include_str!("../../../../tests/scenarios/raft/default.scn")),
        ("Leader crash and re-election", include_str!("../../../../tests/scenarios/raft/leader-crash.scn")),
        ("Split vote", include_str!("../../../../tests/scenarios/raft/split-vote.scn")),
        ("Partitioned leader rejoins with a stale log", include_str!("../../../../tests/scenarios/raft/stale-leader.scn")),
        ("Figure 8: committing an old term's entry", include_str!("../../../../tests/scenarios/raft/figure-8.scn")),
        ("Churn on a lossy, slow network", include_str!("../../../../tests/scenarios/raft/lossy-network.scn")),
        ("Figure 8 with a deliberate bug: watch a checker stop it", include_str!("../../../../tests/scenarios/raft/bug-figure-8.scn")),
        ("Figure 16: time to a new leader, swept in Tune", include_str!("../../../../tests/scenarios/raft/figure-16.scn")),
    ],
};

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

/// Most log entries shown per server.
pub const LOG_TAIL: usize = 32;

/// Raft's running figures, from its notes.
#[derive(Clone, Debug)]
pub struct RaftTracker {
    /// Elections started (servers that became candidates).
    pub elections: u64,
    /// Leaders elected.
    pub leaders_elected: u64,
    /// The leader of the highest term among running servers, if any.
    pub leader: Option<u32>,
    leaderless_since: Option<Time>,
    leaderless_total: Time,
    /// When the leader last crashed, until a new leader is elected.
    leader_crashed_at: Option<Time>,
    /// Time from the leader's last crash to the next leader (Figure 16).
    pub election_after_crash: Option<Time>,
}

impl Default for RaftTracker {
    fn default() -> Self {
        RaftTracker {
            elections: 0,
            leaders_elected: 0,
            leader: None,
            leaderless_since: Some(0),
            leaderless_total: 0,
            leader_crashed_at: None,
            election_after_crash: None,
        }
    }
}

const KINDS: &[(&str, &str, bool, bool)] = &[
    ("RequestVote", "#e0a21b", false, false),
    ("RequestVoteReply", "#e0a21b", true, false),
    ("PreVote", "#b07ad8", false, false),
    ("PreVoteReply", "#b07ad8", true, false),
    ("AppendEntries", "#2e9d5b", false, false),
    ("AppendEntriesReply", "#2e9d5b", true, false),
    ("Heartbeat", "#9aa3b2", false, true),
    ("HeartbeatReply", "#9aa3b2", true, true),
];

impl ClusterProtocol for RaftNode {
    type Tracker = RaftTracker;

    fn config(scn: &Scenario) -> RaftConfig {
        raft_config(scn)
    }

    fn invariants() -> Vec<Box<dyn Invariant<Self>>> {
        invariants()
    }

    const ROLES: &'static [(&'static str, &'static str)] =
        &[("follower", "#4a78c2"), ("pre-candidate", "#d8c26a"), ("candidate", "#e0a21b"), ("leader", "#2e9d5b")];
    const KINDS: &'static [(&'static str, &'static str, bool, bool)] = KINDS;

    fn fields() -> Vec<FieldSpec> {
        let f = FieldSpec::new;
        vec![
            f("term", "Term", Unit::Count),
            f("vote", "Vote", Unit::Node),
            f("leader", "Leader hint", Unit::Node),
            f("votes", "Votes", Unit::Count),
            f("commit", "Commit", Unit::Count),
            f("log", "Log length", Unit::Count),
            f("drift", "Clock drift (ppm)", Unit::Count),
        ]
    }

    fn strip() -> Option<&'static str> {
        Some("Log (last entries, by term)")
    }

    fn view(node: &Node<Self>, v: &mut NodeView) {
        let s = &node.state;
        v.role = match s.role() {
            Role::Follower => 0,
            Role::PreCandidate => 1,
            Role::Candidate => 2,
            Role::Leader => 3,
        };
        let node_no = |n: Option<u32>| n.map_or(0, |n| i64::from(n) + 1);
        let log = s.log();
        v.fields = vec![
            s.term() as i64,
            node_no(s.voted_for()),
            node_no(s.leader_hint()),
            i64::from(s.votes_granted()),
            s.commit_index() as i64,
            log.len() as i64,
            i64::from(node.drift_ppm),
        ];
        let first = log.len().saturating_sub(LOG_TAIL);
        v.strip = log[first..].iter().map(|e| e.term.min(u64::from(u32::MAX)) as u32).collect();
        v.strip_first = first as u64 + 1;
        v.strip_mark = s.commit_index();
        v.timer = node.timer_spans().find(|(t, ..)| t.kind() == "Election").map(|(_, set, due)| (set, due));
    }

    fn metric_specs() -> Vec<MetricSpec> {
        let m = MetricSpec::new;
        vec![
            m("leader", "Leader", Unit::Node, false),
            m("term", "Term", Unit::Count, true),
            m("elections", "Elections started", Unit::Count, false),
            m("leaders_elected", "Leaders elected", Unit::Count, false),
            m("leaderless", "Time without leader", Unit::Micros, true),
            m("election_after_crash", "New leader after the leader's crash", Unit::Micros, false),
        ]
    }

    fn observe(t: &mut RaftTracker, sim: &Sim<Self>) {
        let mut roles_changed = false;
        for ev in sim.last_events() {
            match ev {
                TraceEvent::Note { note, .. } => {
                    match note {
                        RaftNote::BecameCandidate { .. } => t.elections += 1,
                        RaftNote::BecameLeader { .. } => {
                            t.leaders_elected += 1;
                            // Raft paper, Figure 16: the time from the
                            // leader's crash to the next leader.
                            if let Some(at) = t.leader_crashed_at.take() {
                                t.election_after_crash = Some(sim.now() - at);
                            }
                        }
                        _ => {}
                    }
                    roles_changed = true;
                }
                TraceEvent::Fault { fault: Fault::Crash(n), .. } if t.leader == Some(*n) => {
                    t.leader_crashed_at = Some(sim.now());
                    roles_changed = true;
                }
                TraceEvent::Fault { .. } => roles_changed = true,
                _ => {}
            }
        }
        if !roles_changed {
            return;
        }
        let nodes = sim.nodes();
        let top = nodes.iter().filter(|n| n.status == NodeStatus::Up).map(|n| n.state.term()).max().unwrap_or(0);
        let leader = nodes
            .iter()
            .position(|n| n.status == NodeStatus::Up && n.state.role() == Role::Leader && n.state.term() == top)
            .map(|i| i as u32);
        let now = sim.now();
        match (t.leader, leader) {
            (Some(_), None) => t.leaderless_since = Some(now),
            (None, Some(_)) => {
                if let Some(since) = t.leaderless_since.take() {
                    t.leaderless_total += now - since;
                }
            }
            _ => {}
        }
        t.leader = leader;
    }

    fn metrics(t: &RaftTracker, sim: &Sim<Self>, out: &mut Vec<f64>) {
        let now = sim.now();
        let leaderless = t.leaderless_total + t.leaderless_since.map_or(0, |s| now - s);
        let term = sim.nodes().iter().map(|n| n.state.term()).max().unwrap_or(0);
        out.extend([
            t.leader.map_or(0.0, |l| f64::from(l + 1)),
            term as f64,
            t.elections as f64,
            t.leaders_elected as f64,
            leaderless as f64,
            t.election_after_crash.map_or(f64::NAN, |x| x as f64),
        ]);
    }
}
