//! The Raft lab: Raft on the shared cluster lab.
//!
//! Everything here is Raft's own: its parameter table, its verbs (`add`
//! and `remove` besides the cluster lab's), how a server is drawn (role,
//! including learner, removed and spare; term, vote, commit index, the
//! snapshot's last index and term, the configuration, the log's last terms,
//! the election timer), the colours of its messages, and its metrics
//! (leader, term, elections, time without a leader, snapshots,
//! configuration changes), tracked from its notes. The faults, clients,
//! network and drawing come from
//! [`ClusterLab`](crate::lab::cluster::ClusterLab).
//!
//! Server slots: the simulation holds `max_servers` servers (or `nodes`);
//! the first `nodes` form the initial configuration and the others are
//! spare until `add` brings them in. A scenario without `max_servers` runs
//! exactly as before membership changes existed.

use super::{invariants, MemberChange, Members, Membership, RaftConfig, RaftNode, RaftNote, ReadPath, Role};
use crate::lab::cluster::{self, ClusterProtocol};
use crate::lab::{
    Engine, FieldSpec, LabDef, LabHead, MetricRole, MetricSpec, NodeAction, NodeView, RoleLook, RoleStyle, StripBase,
    StripSpec, Unit,
};
use crate::scenario::params::{choice, p, Kind, ParamSpec, NETWORK, PCT};
use crate::scenario::{parse_one_node, split_word, Scenario, SHARED_VERBS};
use crate::sim::{Fault, Invariant, Node, NodeId, NodeStatus, Observable, Sim, Time, TraceEvent, MS, SEC};

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
    p("snapshot_every", "Snapshot every (entries)", "compact the log into a snapshot when it holds more entries than this (§7); 0: never", Kind::Count, 0, 1_000_000, 1_000, false),
    p("max_servers", "Server slots", "servers the simulation holds, members or spare for 'add' (thesis §4); 0: as many as Servers", Kind::Count, 0, 101, 0, false),
    choice(
        "read_path",
        "Read path",
        "how reads of the key-value store are served (thesis §6.4): through the log, ReadIndex (a heartbeat round confirms leadership), a leader's lease, or locally by any server (stale)",
        ReadPath::NAMES,
        0,
        false,
    ),
    choice(
        "read_from",
        "Local reads from",
        "with local reads: whether clients read from the server they believe leads, or from any server (the nearest, say)",
        &["leader", "any"],
        0,
        false,
    ),
    p(
        "lease",
        "Lease (% of min election timeout)",
        "how long a leader's lease lasts after a heartbeat round a majority acknowledged, on its own clock, as a share of the minimum election timeout; safe below (1 - d) / (1 + d) for clocks that drift by at most d (thesis §6.4.1)",
        Kind::Percent,
        PCT,
        300 * PCT,
        90 * PCT,
        false,
    ),
    p("vote_guard", "Ignore votes while a leader is heard", "a server that heard from a leader within the minimum election timeout ignores RequestVote (thesis §4.2.3, against disruptive removed servers)", Kind::Toggle, 0, 1, 0, false),
];

fn check(scn: &Scenario) -> Result<(), String> {
    if scn.get("election_timeout_min") > scn.get("election_timeout_max") {
        return Err("election_timeout_min must not be larger than election_timeout_max".into());
    }
    let slots = scn.get("max_servers");
    if slots != 0 && slots < scn.get("nodes") {
        return Err(format!("max_servers ({slots}) must be 0 or at least nodes ({})", scn.get("nodes")));
    }
    cluster::check_network(scn)
}

/// The Raft lab's verbs: the cluster lab's, and membership changes
/// (thesis §4.1): `add S6` asks the leader to catch S6 up and add it,
/// `remove S2` to remove S2 (the leader included).
pub const VERBS: &[&str] = &["timeout", "request", "add", "remove"];

/// Checks a Raft verb's server against the servers the simulation holds,
/// pointing at `max_servers` when a server to add has no slot.
fn check_verb(text: &str, nodes: &mut u32) -> Result<(), String> {
    let (verb, rest) = split_word(text);
    let n = parse_one_node(verb, rest)?;
    if verb == "add" && n >= *nodes {
        return Err(format!(
            "there is no slot for S{}: the simulation holds {} servers; raise max_servers to add more",
            u64::from(n) + 1,
            *nodes
        ));
    }
    cluster::check_verb(text, nodes)
}

/// Servers the simulation holds: `max_servers`, or `nodes` if that is 0
/// or smaller. The first `nodes` are the initial configuration; the
/// others are spare until added.
pub fn servers(scn: &Scenario) -> u32 {
    scn.nodes_param().max(scn.get("max_servers").clamp(0, 101) as u32)
}

/// The Raft lab's handle, for scenarios built in code.
pub fn kind() -> crate::scenario::LabKind {
    crate::scenario::LabKind(&LAB)
}

/// What every program knows of this lab, even one that does not run it
/// (the registry's [`HEADS`](crate::lab::registry::HEADS)).
pub const HEAD: LabHead = LabHead {
    name: "raft",
    title: "Raft",
    about: "Elections, terms, votes, log replication and commits, snapshots and membership changes, with Raft's safety properties checked after every event.",
    bench: true,
};

/// The Raft lab, as registered.
pub static LAB: LabDef = LabDef {
    name: HEAD.name,
    title: HEAD.title,
    about: HEAD.about,
    params: &[PARAMS, NETWORK],
    shared_verbs: SHARED_VERBS,
    verbs: VERBS,
    parse_verb: cluster::parse_verb,
    check_verb,
    check,
    nodes: servers,
    bench: Some(include_str!("../../../../tests/scenarios/raft/bench.scn")),
    experiments: super::experiments::EXPERIMENTS,
    presets: &[
        ("Five servers elect a leader and replicate", include_str!("../../../../tests/scenarios/raft/default.scn")),
        ("Leader crash and re-election", include_str!("../../../../tests/scenarios/raft/leader-crash.scn")),
        ("Split vote", include_str!("../../../../tests/scenarios/raft/split-vote.scn")),
        (
            "Partitioned leader rejoins with a stale log",
            include_str!("../../../../tests/scenarios/raft/stale-leader.scn"),
        ),
        ("Figure 8: committing an old term's entry", include_str!("../../../../tests/scenarios/raft/figure-8.scn")),
        ("Churn on a lossy, slow network", include_str!("../../../../tests/scenarios/raft/lossy-network.scn")),
        (
            "Figure 8 with a deliberate bug: watch a checker stop it",
            include_str!("../../../../tests/scenarios/raft/bug-figure-8.scn"),
        ),
        (
            "Figure 16: time to a new leader, swept in Tune",
            include_str!("../../../../tests/scenarios/raft/figure-16.scn"),
        ),
        (
            "§7: a follower down long enough to need a snapshot",
            include_str!("../../../../tests/scenarios/raft/snapshot-catch-up.scn"),
        ),
        (
            "Growing the cluster from 3 to 5 under load",
            include_str!("../../../../tests/scenarios/raft/grow-3-to-5.scn"),
        ),
        ("Removing the leader", include_str!("../../../../tests/scenarios/raft/remove-leader.scn")),
        (
            "A removed server keeps timing out (disruptive server)",
            include_str!("../../../../tests/scenarios/raft/disruptive-server.scn"),
        ),
        (
            "The disruptive server, with the minimum-election-timeout guard",
            include_str!("../../../../tests/scenarios/raft/disruptive-server-guarded.scn"),
        ),
        (
            "Local reads at a leader cut off from the majority: not linearizable",
            include_str!("../../../../tests/scenarios/raft/bug-local-reads-cut-off-leader.scn"),
        ),
        (
            "ReadIndex on the same partition stays linearizable",
            include_str!("../../../../tests/scenarios/raft/read-index-cut-off-leader.scn"),
        ),
        (
            "Lease reads past their bound go stale",
            include_str!("../../../../tests/scenarios/raft/lease-beyond-bound.scn"),
        ),
        ("Follower reads and their staleness", include_str!("../../../../tests/scenarios/raft/follower-reads.scn")),
    ],
};

/// What runs the lab (see [`Engine`]).
pub static ENGINE: Engine =
    Engine { lab: &LAB, build: cluster::build::<RaftNode>, speed: None, runs: super::experiments::RUNS, also: &[] };

/// The scenario's read path.
pub fn read_path(scn: &Scenario) -> ReadPath {
    ReadPath::ALL.get(scn.get("read_path").max(0) as usize).copied().unwrap_or_default()
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
        snapshot_every: g("snapshot_every"),
        members: scn.nodes_param(),
        vote_guard: g("vote_guard") != 0,
        read_path: read_path(scn),
        lease: g("election_timeout_min") * g("lease") / 1_000_000,
        local_reads_anywhere: g("read_from") == 1,
        ..RaftConfig::default()
    }
}

/// The running leader of the highest term, if no running server of its
/// configuration has moved to a later term (so a removed server that
/// campaigns with ever higher terms does not hide the real leader).
fn current_leader(sim: &Sim<RaftNode>) -> Option<usize> {
    let nodes = sim.nodes();
    let up = |n: &Node<RaftNode>| n.status == NodeStatus::Up;
    let (i, l) = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| up(n) && n.state.role() == Role::Leader)
        .max_by_key(|(_, n)| n.state.term())?;
    let members = l.state.configuration();
    let overtaken = nodes
        .iter()
        .enumerate()
        .any(|(k, n)| up(n) && members.contains(k as NodeId) && n.state.term() > l.state.term());
    (!overtaken).then_some(i)
}

/// The leader as the metric shows it (see [`Unit::Node`]): the current
/// leader's number; or, negated, a running leader that cannot reach a
/// majority of its configuration (a minority partition, its followers
/// crashed), which the drawing still shows as a leader; 0 for none.
fn shown_leader(current: Option<u32>, sim: &Sim<RaftNode>) -> f64 {
    let nodes = sim.nodes();
    let up = |k: usize| nodes.get(k).is_some_and(|n| n.status == NodeStatus::Up);
    let holder = current.map(|l| l as usize).or_else(|| {
        let leaders = nodes.iter().enumerate().filter(|&(k, n)| up(k) && n.state.role() == Role::Leader);
        leaders.max_by_key(|(_, n)| n.state.term()).map(|(k, _)| k)
    });
    let Some(l) = holder else { return 0.0 };
    let members = nodes[l].state.configuration();
    let net = sim.net();
    let reach = (0..nodes.len())
        .filter(|&k| members.contains(k as NodeId))
        .filter(|&k| {
            k == l || (up(k) && !net.is_cut(l as NodeId, k as NodeId) && !net.is_cut(k as NodeId, l as NodeId))
        })
        .count();
    let id = f64::from(l as u32 + 1);
    if 2 * reach > members.len() as usize {
        if current.is_some() {
            id
        } else {
            0.0
        }
    } else {
        -id
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
    /// Snapshots taken by servers compacting their logs (§7).
    pub snapshots_taken: u64,
    /// Snapshots installed from a leader (§7, Figure 13).
    pub snapshots_installed: u64,
    /// Configuration entries appended by leaders (thesis §4).
    pub config_changes: u64,
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
            snapshots_taken: 0,
            snapshots_installed: 0,
            config_changes: 0,
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
    ("InstallSnapshot", "#c2417a", false, false),
    ("InstallSnapshotReply", "#c2417a", true, false),
    ("LeaderCheck", "#5aa7a7", false, true),
    ("LeaderCheckReply", "#5aa7a7", true, true),
];

impl ClusterProtocol for RaftNode {
    type Tracker = RaftTracker;

    fn config(scn: &Scenario) -> RaftConfig {
        raft_config(scn)
    }

    fn invariants() -> Vec<Box<dyn Invariant<Self>>> {
        invariants()
    }

    /// Local reads may go to any server (the nearest, say).
    fn reads_anywhere(scn: &Scenario) -> bool {
        read_path(scn) == ReadPath::Local && scn.get("read_from") == 1
    }

    const ROLES: &'static [(&'static str, &'static str)] = &[
        ("follower", "#4a78c2"),
        ("pre-candidate", "#d8c26a"),
        ("candidate", "#e0a21b"),
        ("leader", "#2e9d5b"),
        ("learner", "#7fb3d5"),
        ("removed", "#8a8f98"),
        ("spare", "#c9ccd1"),
    ];
    const KINDS: &'static [(&'static str, &'static str, bool, bool)] = KINDS;

    /// Pre-Vote's messages and pre-candidates only with Pre-Vote on;
    /// InstallSnapshot only when logs are compacted (held against every
    /// scenario file by `crates/core/tests/legend.rs`).
    fn can_show(cfg: &RaftConfig, name: &str) -> bool {
        match name {
            "PreVote" | "PreVoteReply" | "pre-candidate" => cfg.pre_vote,
            "InstallSnapshot" | "InstallSnapshotReply" => cfg.snapshot_every > 0,
            _ => true,
        }
    }

    const NOTES: &'static [(&'static str, &'static str, bool)] = &[
        ("BecameFollower", "#8fa3bf", false),
        ("BecamePreCandidate", "#e0a050", false),
        ("BecameCandidate", "#e0a050", true),
        ("BecameLeader", "#f0c040", true),
        ("SteppedDown", "#8fa3bf", true),
        ("Committed", "#5cc08a", false),
    ];

    /// Outside the configuration (thesis §4): a spare slot is drawn as an
    /// empty dashed circle, a removed server faded.
    fn roles() -> Vec<RoleStyle> {
        Self::ROLES
            .iter()
            .map(|(n, c)| {
                let look = match *n {
                    "spare" => RoleLook::Vacant,
                    "removed" => RoleLook::Faded,
                    _ => RoleLook::Filled,
                };
                RoleStyle::new(n, c).with_look(look)
            })
            .collect()
    }

    /// Membership changes, one server at a time (thesis §4).
    fn node_actions() -> Vec<NodeAction> {
        let outside = ["spare", "removed"];
        vec![
            NodeAction::new("Add to the cluster", "add {node}")
                .named("Add")
                .help("the leader catches it up as a learner, then adds it to the configuration")
                .roles(&outside),
            NodeAction::new("Remove from the cluster", "remove {node}")
                .named("Remove")
                .help("the leader appends a configuration without it (the leader itself steps down once that commits)")
                .not_roles(&outside),
        ]
    }

    fn fields() -> Vec<FieldSpec> {
        let f = FieldSpec::new;
        vec![
            f("term", "Term", Unit::Count).with_short("t"),
            f("vote", "Vote", Unit::Node),
            f("leader", "Leader hint", Unit::Node),
            f("votes", "Votes", Unit::Count),
            f("commit", "Commit", Unit::Count),
            f("log", "Last log index", Unit::Count).off_table(),
            f("drift", "Clock drift (ppm)", Unit::Count).off_table(),
            f("snapshot", "Snapshot: last index", Unit::Count).off_table(),
            f("snapshot_term", "Snapshot: last term", Unit::Count).off_table(),
            f("members", "Servers in its configuration", Unit::Count),
            f("config", "Configuration entry", Unit::Count).off_table(),
            f("applied", "Commands applied", Unit::Count),
            f("learner", "Learner it is adding", Unit::Node),
        ]
    }

    /// The log's last entries by term, committed ones solid, after the
    /// compacted prefix drawn as one block (§7).
    fn strip() -> Option<StripSpec> {
        Some(StripSpec {
            title: "Log (last entries, by term)".into(),
            value: "term".into(),
            mark: "committed".into(),
            base: Some(StripBase {
                name: "snapshot".into(),
                index_field: "snapshot".into(),
                value_field: "snapshot_term".into(),
                short: "t".into(),
            }),
        })
    }

    fn view(node: &Node<Self>, v: &mut NodeView) {
        let s = &node.state;
        v.role = match (s.role(), s.membership()) {
            (Role::Leader, _) => 3,
            (_, Membership::Learner) => 4,
            (_, Membership::Removed) => 5,
            (_, Membership::Spare) => 6,
            (Role::Follower, _) => 0,
            (Role::PreCandidate, _) => 1,
            (Role::Candidate, _) => 2,
        };
        let node_no = |n: Option<u32>| n.map_or(0, |n| i64::from(n) + 1);
        let log = s.log();
        v.fields = vec![
            s.term() as i64,
            node_no(s.voted_for()),
            node_no(s.leader_hint()),
            i64::from(s.votes_granted()),
            s.commit_index() as i64,
            s.last_log_index() as i64,
            i64::from(node.drift_ppm),
            s.snapshot().index() as i64,
            s.snapshot().term() as i64,
            i64::from(s.configuration().len()),
            s.configuration_index() as i64,
            s.state_machine().commands as i64,
            node_no(s.learner()),
        ];
        let first = log.len().saturating_sub(LOG_TAIL);
        v.strip = log[first..].iter().map(|e| e.term.min(u64::from(u32::MAX)) as u32).collect();
        v.strip_first = s.first_log_index() + first as u64;
        v.strip_mark = s.commit_index();
        v.timer = node.timer_spans().find(|(t, ..)| t.kind() == "Election").map(|(_, set, due)| (set, due));
    }

    fn metric_specs() -> Vec<MetricSpec> {
        let m = MetricSpec::new;
        vec![
            m("leader", "Leader", Unit::Node, false).with_role(MetricRole::Leader),
            m("term", "Term", Unit::Count, true),
            m("elections", "Elections started", Unit::Count, false),
            m("leaders_elected", "Leaders elected", Unit::Count, false),
            m("leaderless", "Time without leader", Unit::Micros, true),
            m("election_after_crash", "New leader after the leader's crash", Unit::Micros, false),
            m("snapshots_taken", "Snapshots taken", Unit::Count, false),
            m("snapshots_installed", "Snapshots installed", Unit::Count, false),
            m("config_changes", "Configuration changes", Unit::Count, false),
            m("members", "Configuration size", Unit::Count, false),
        ]
    }

    fn observe(t: &mut RaftTracker, sim: &Sim<Self>) {
        let mut roles_changed = false;
        for ev in sim.last_events() {
            match ev {
                TraceEvent::Note { note, node, .. } => {
                    match note {
                        RaftNote::BecameCandidate { .. } => t.elections += 1,
                        RaftNote::Snapshotted { .. } => t.snapshots_taken += 1,
                        RaftNote::InstalledSnapshot { .. } => t.snapshots_installed += 1,
                        RaftNote::Appended { from, to } if from == to => {
                            let n = &sim.nodes()[*node as usize].state;
                            if n.role() == Role::Leader && n.entry(*from).is_some_and(|e| e.config.is_some()) {
                                t.config_changes += 1;
                            }
                        }
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
        let leader = current_leader(sim).map(|i| i as u32);
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

    fn narrate(t: &RaftTracker, sim: &Sim<Self>) -> Option<String> {
        let name = |n: &NodeId| format!("S{}", n + 1);
        sim.last_events().iter().rev().find_map(|ev| match ev {
            TraceEvent::Note { node, note, .. } => {
                let s = &sim.nodes().get(*node as usize)?.state;
                Some(match note {
                    // Raft §5.2: a candidate wins with votes from a majority.
                    RaftNote::BecameLeader { term } => format!(
                        "{} won the election for term {term} with {} of {} votes",
                        name(node),
                        s.votes_won(),
                        s.configuration().len()
                    ),
                    RaftNote::BecameCandidate { term } => {
                        format!(
                            "{} heard no leader before its election timer ran out: it asks for votes in term {term}",
                            name(node)
                        )
                    }
                    RaftNote::BecamePreCandidate { term } => {
                        format!("{} asks first whether it could win (Pre-Vote) before leaving term {term}", name(node))
                    }
                    RaftNote::SteppedDown { term, reason } => {
                        format!("{} stepped down in term {term}: {reason}", name(node))
                    }
                    RaftNote::InstalledSnapshot { .. } => {
                        format!("{} caught up from the leader's snapshot", name(node))
                    }
                    _ => return None,
                })
            }
            TraceEvent::Fault { fault: Fault::Crash(n), .. } if t.leader_crashed_at == Some(sim.now()) => {
                Some(format!(
                    "{}, the leader, crashed: the others hear no heartbeats and wait for their election timers",
                    name(n)
                ))
            }
            _ => None,
        })
    }

    fn metrics(t: &RaftTracker, sim: &Sim<Self>, out: &mut Vec<f64>) {
        let now = sim.now();
        let leaderless = t.leaderless_total + t.leaderless_since.map_or(0, |s| now - s);
        let term = sim.nodes().iter().map(|n| n.state.term()).max().unwrap_or(0);
        out.extend([
            shown_leader(t.leader, sim),
            term as f64,
            t.elections as f64,
            t.leaders_elected as f64,
            leaderless as f64,
            t.election_after_crash.map_or(f64::NAN, |x| x as f64),
            t.snapshots_taken as f64,
            t.snapshots_installed as f64,
            t.config_changes as f64,
            t.leader.map_or(f64::NAN, |l| f64::from(sim.nodes()[l as usize].state.configuration().len())),
        ]);
    }

    /// `add S6` and `remove S2` (thesis §4.1) go to the leader of the
    /// highest term among running servers. Refused, with the reason, when
    /// there is none or the change makes no sense now.
    fn apply_verb(sim: &mut Sim<Self>, verb: &str, id: NodeId) -> Result<(), String> {
        let name = format!("S{}", u64::from(id) + 1);
        let change = match verb {
            "add" => MemberChange::Add(id),
            "remove" => MemberChange::Remove(id),
            other => return Err(format!("'{other}' is not an action of the Raft lab")),
        };
        if id >= Members::CAPACITY {
            return Err(format!(
                "{name} cannot be a member: a configuration holds servers S1 to S{}",
                Members::CAPACITY
            ));
        }
        let nodes = sim.nodes();
        let Some(leader) = current_leader(sim) else {
            return Err(format!("no leader to ask to {verb} {name} right now; try again once one is elected"));
        };
        let st = &nodes[leader].state;
        let members = st.configuration();
        match change {
            MemberChange::Add(_) if members.contains(id) => return Err(format!("{name} is already a member")),
            MemberChange::Remove(_) if !members.contains(id) => return Err(format!("{name} is not a member")),
            MemberChange::Remove(_) if members.len() == 1 => {
                return Err(format!("{name} is the last member and cannot be removed"))
            }
            _ => {}
        }
        if st.learner().is_some() || st.configuration_index() > st.commit_index() {
            return Err(
                "a membership change is already in flight (one at a time, thesis §4.1); wait until it commits".into()
            );
        }
        sim.call(leader as NodeId, |n, ctx| n.change_membership(change, ctx));
        Ok(())
    }
}
