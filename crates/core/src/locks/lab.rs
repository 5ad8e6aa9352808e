//! The Locks lab on the shared cluster lab: its parameters, how its three
//! kinds of server are drawn, and its metrics (transactions, aborts, lock
//! waits and holds, messages per acquire and per release, stale writes
//! refused), followed from the servers' notes and messages.

use super::keys::KeyPicker;
use super::node::{LockMsg, LockNode, LockNote, LockTimer, Phase, Role};
use super::{invariants, LockConfig, Service, LOCK_SERVER, STORAGE};
use crate::lab::cluster::{self, ClusterProtocol};
use crate::lab::diagram::SpanEdge;
use crate::lab::{Engine, FieldSpec, LabDef, LabHead, MetricRole, MetricSpec, NodeForm, NodeView, RoleStyle, Unit};
use crate::raft::{RaftNote, Role as RaftRole};
use crate::scenario::params::{choice, p, Kind, ParamSpec, NETWORK};
use crate::scenario::{split_word, Scenario, SHARED_VERBS};
use crate::sim::{Counters, Fault, Invariant, Node, Sim, Time, TraceEvent, MS, SEC};
use hdrhistogram::Histogram;
use std::sync::Arc;

const M: i64 = MS as i64;
const S: i64 = SEC as i64;

/// The strategies, as files write them.
pub const STRATEGIES: &[&str] = &["pessimistic", "optimistic"];
/// The waiting recipes, as files write them.
pub const RECIPES: &[&str] = &["sequential", "naive"];
/// The lock services, as files write them.
pub const SERVICES: &[&str] = &["single", "raft", "redlock"];

/// Parameters of the Locks lab.
pub const PARAMS: &[ParamSpec] = &[
    p("clients", "Clients", "clients running transactions (S3 and up)", Kind::Count, 1, 200, 4, false),
    p("keyspace", "Keys", "keys the storage holds; each transaction reads and writes one", Kind::Count, 1, 100_000, 10, false),
    p(
        "zipf",
        "Zipf exponent",
        "skew of key popularity: key k is picked in proportion to 1/k^s; 0: uniform",
        Kind::Thousandths,
        0,
        3_000,
        0,
        false,
    ),
    choice("strategy", "Strategy", "pessimistic: take the key's lock, read, work, write, release; optimistic: read with the version, work, compare-and-set, retry on conflict", STRATEGIES, 0, false),
    choice("recipe", "Waiting recipe", "sequential: ZooKeeper's recipe, each waiter watches the one before it; naive: every waiter watches the lock and all are woken by each release (the herd)", RECIPES, 0, false),
    choice("service", "Lock service", "single: one lock server, its locks in its memory; raft: lock servers that commit every acquire, release, keep-alive and session expiry through the Raft log, each grant's token the log index that granted it; redlock: N independent servers, none replicating, each expiring a key by its own clock; a client holds the lock if a majority set its random value and validity is left, and the storage sees only that random value: Redlock has no token that only grows, so fencing cannot help", SERVICES, 0, false),
    p(
        "lock_servers",
        "Lock servers",
        "servers of the replicated lock service, or Redlock's independent servers (S2 and up; a majority must be up and connected)",
        Kind::Count,
        1,
        7,
        3,
        false,
    ),
    p(
        "fencing",
        "Fencing tokens",
        "on: the storage refuses a read or write whose token is below one it has seen for the key (no effect with Redlock, which has no such token)",
        Kind::Toggle,
        0,
        1,
        1,
        false,
    ),
    p("think", "Think time (ms)", "mean time between a client's transactions (exponential)", Kind::Duration, 0, 600 * S, 100 * M, false),
    p("work", "Work (ms)", "time a transaction works between its read and its write", Kind::Duration, 0, 60 * S, 50 * M, false),
    p(
        "serve",
        "Storage service time (ms)",
        "time the storage takes for each read or write, serving one at a time in the order they came: what an aborted attempt costs everyone else (0: every request served the moment it arrives)",
        Kind::Duration,
        0,
        10 * S,
        0,
        false,
    ),
    p(
        "lease",
        "Lease (ms)",
        "the lock server frees the locks of a client it has not heard from for this long (Redlock: each key's TTL)",
        Kind::Duration,
        M,
        600 * S,
        SEC as i64,
        false,
    ),
    p(
        "heartbeat",
        "Heartbeat (ms)",
        "how often a client that holds or waits for a lock tells the lock server it is alive",
        Kind::Duration,
        M,
        600 * S,
        250 * M,
        false,
    ),
    p(
        "backoff",
        "Back-off (ms)",
        "after an abort a client waits a random time up to this, doubling with each abort of the transaction",
        Kind::Duration,
        0,
        10 * S,
        20 * M,
        false,
    ),
    p(
        "resend",
        "Resend after (ms)",
        "a client sends a request again when it has no answer after this long",
        Kind::Duration,
        M,
        60 * S,
        200 * M,
        false,
    ),
    p(
        "drift_factor",
        "Redlock drift factor",
        "Redlock: a client allows this share of the TTL, plus the drift margin, for clock drift: validity = TTL - time taken to acquire - drift allowance (Redis uses 0.01)",
        Kind::Thousandths,
        0,
        1_000,
        10,
        false,
    ),
    p(
        "drift_margin",
        "Redlock drift margin (ms)",
        "Redlock: the constant part of the drift allowance (Redis adds 2 ms)",
        Kind::Duration,
        0,
        10 * S,
        2 * M,
        false,
    ),
];

/// The shared network table up to the client workload (this lab's clients
/// are its own servers).
pub const NETWORK_PARAMS: &[ParamSpec] = NETWORK.split_at(9).0;

/// The lab's own verb: `timeout S3` starts client S3's next transaction now.
pub const VERBS: &[&str] = &["timeout"];

fn parse_verb(verb: &str, rest: &str) -> Result<String, String> {
    match verb {
        "timeout" => cluster::parse_verb(verb, rest),
        other => Err(format!("'{other}' is not an action of the locks lab")),
    }
}

fn check_verb(text: &str, nodes: &mut u32) -> Result<(), String> {
    let (verb, _) = split_word(text);
    if verb != "timeout" {
        return Err(format!("'{verb}' is not an action of the locks lab"));
    }
    cluster::check_verb(text, nodes)
}

fn check(scn: &Scenario) -> Result<(), String> {
    cluster::check_network(scn)
}

fn lock_servers(scn: &Scenario) -> u32 {
    if scn.get("service") >= 1 {
        scn.get("lock_servers").clamp(1, 7) as u32
    } else {
        1
    }
}

fn nodes(scn: &Scenario) -> u32 {
    scn.get("clients").clamp(1, 200) as u32 + 1 + lock_servers(scn)
}

/// The Locks lab's handle, for scenarios built in code.
pub fn kind() -> crate::scenario::LabKind {
    crate::scenario::LabKind(&LAB)
}

/// What every program knows of this lab, even one that does not run it
/// (the registry's [`HEADS`](crate::lab::registry::HEADS)).
pub const HEAD: LabHead = LabHead {
    name: "locks",
    title: "Locks",
    about: "Optimistic against pessimistic locking, a single lock server, one replicated by Raft or Redlock on independent servers, leases that run out while a client sleeps, fencing tokens, and the herd: checked at the storage after every event.",
    bench: true,
};

/// The Locks lab, as registered.
pub static LAB: LabDef = LabDef {
    name: HEAD.name,
    title: HEAD.title,
    about: HEAD.about,
    params: &[PARAMS, NETWORK_PARAMS],
    shared_verbs: SHARED_VERBS,
    verbs: VERBS,
    parse_verb,
    check_verb,
    check,
    nodes,
    bench: Some(include_str!("../../../../tests/scenarios/locks/bench.scn")),
    experiments: super::experiments::EXPERIMENTS,
    presets: &[
        (
            "A paused client wakes after its lease: fencing refuses its write",
            include_str!("../../../../tests/scenarios/locks/default.scn"),
        ),
        (
            "The same pause without fencing: two holders write",
            include_str!("../../../../tests/scenarios/locks/bug-paused-client.scn"),
        ),
        ("Low contention: optimistic", include_str!("../../../../tests/scenarios/locks/low-optimistic.scn")),
        ("Low contention: pessimistic", include_str!("../../../../tests/scenarios/locks/low-pessimistic.scn")),
        (
            "High contention: optimistic aborts and retries",
            include_str!("../../../../tests/scenarios/locks/high-optimistic.scn"),
        ),
        (
            "High contention: pessimistic waiters queue",
            include_str!("../../../../tests/scenarios/locks/high-pessimistic.scn"),
        ),
        (
            "A busy storage: optimistic retries fill its line",
            include_str!("../../../../tests/scenarios/locks/busy-storage-optimistic.scn"),
        ),
        (
            "A busy storage: pessimistic commits more",
            include_str!("../../../../tests/scenarios/locks/busy-storage-pessimistic.scn"),
        ),
        (
            "The herd: every waiter woken by each release",
            include_str!("../../../../tests/scenarios/locks/herd-naive.scn"),
        ),
        (
            "ZooKeeper's recipe: one waiter woken per release",
            include_str!("../../../../tests/scenarios/locks/herd-sequential.scn"),
        ),
        (
            "A lone lock server crashes: its locks are lost",
            include_str!("../../../../tests/scenarios/locks/lock-server-crash.scn"),
        ),
        (
            "The lock service on Raft: its leader crashes, the lock survives",
            include_str!("../../../../tests/scenarios/locks/raft-leader-crash.scn"),
        ),
        (
            "The lock service on Raft: a partition expires the holder's session, fencing refuses its late write",
            include_str!("../../../../tests/scenarios/locks/raft-partition-expiry.scn"),
        ),
        (
            "Redlock with drifting clocks: two holders at once",
            include_str!("../../../../tests/scenarios/locks/bug-redlock-drift.scn"),
        ),
        (
            "The same drift, the lock service on Raft: one holder at a time",
            include_str!("../../../../tests/scenarios/locks/redlock-vs-raft.scn"),
        ),
    ],
};

/// What runs the lab (see [`Engine`]).
pub static ENGINE: Engine =
    Engine { lab: &LAB, build: cluster::build::<LockNode>, speed: None, runs: super::experiments::RUNS, also: &[] };

/// The configuration a scenario describes.
pub fn lock_config(scn: &Scenario) -> LockConfig {
    let g = |n: &str| scn.get(n).max(0) as u64;
    LockConfig {
        clients: g("clients").clamp(1, 200) as u32,
        keys: Arc::new(KeyPicker::new(g("keyspace").clamp(1, 100_000) as u32, g("zipf") as f64 / 1000.0)),
        optimistic: g("strategy") == 1,
        naive: g("recipe") == 1,
        fencing: g("fencing") != 0,
        think: g("think"),
        work: g("work"),
        serve: g("serve"),
        lease: g("lease"),
        heartbeat: g("heartbeat"),
        backoff: g("backoff"),
        resend: g("resend"),
        service: match g("service") {
            1 => Service::Raft,
            2 => Service::Redlock,
            _ => Service::Single,
        },
        servers: lock_servers(scn),
        drift_factor: g("drift_factor"),
        drift_margin: g("drift_margin"),
    }
}

/// The lab's running figures, from the servers' notes and messages.
#[derive(Clone, Debug)]
pub struct LocksTracker {
    /// Transactions committed.
    pub committed: u64,
    /// Attempts aborted.
    pub aborts: u64,
    /// Requests sent again.
    pub resent: u64,
    waits: Histogram<u64>,
    holds: Histogram<u64>,
    /// Locks granted.
    pub grants: u64,
    /// Locks released (by their holder, or by a lease running out).
    pub releases: u64,
    /// Leases that ran out with a lock held.
    pub expiries: u64,
    /// Waiters at each release, summed.
    pub waiters_at_release: u64,
    /// Releases with at least one waiter.
    pub releases_with_waiters: u64,
    /// Messages of acquiring (asks and answers, not caused by a release).
    pub acquire_msgs: u64,
    /// Messages a release caused (the release, the waiters woken, what they
    /// asked and were told).
    pub release_msgs: u64,
    /// Writes the storage refused for a stale token.
    pub refused_writes: u64,
    /// Reads the storage refused for a stale token.
    pub refused_reads: u64,
    /// Locks held when the lock server crashed.
    pub locks_lost: u64,
    /// Messages among the servers of the replicated lock service (Raft's).
    pub raft_msgs: u64,
    /// Elections won in the replicated lock service.
    pub leaders_elected: u64,
    /// Per key, the last token whose grant and release were counted (a
    /// replicated service's old and new leader may both apply one entry).
    counted: std::collections::BTreeMap<u32, (u64, u64)>,
    held: u64,
    /// Whether the service is Redlock.
    redlock: bool,
    /// The last step's most telling note, for the narration.
    said: Option<String>,
}

impl Default for LocksTracker {
    fn default() -> Self {
        let h = || Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are valid"));
        LocksTracker {
            committed: 0,
            aborts: 0,
            resent: 0,
            waits: h(),
            holds: h(),
            grants: 0,
            releases: 0,
            expiries: 0,
            waiters_at_release: 0,
            releases_with_waiters: 0,
            acquire_msgs: 0,
            release_msgs: 0,
            refused_writes: 0,
            refused_reads: 0,
            locks_lost: 0,
            raft_msgs: 0,
            leaders_elected: 0,
            counted: Default::default(),
            held: 0,
            redlock: false,
            said: None,
        }
    }
}

impl LocksTracker {
    /// The `q`-quantile of lock waits, if any lock was granted.
    pub fn wait(&self, q: f64) -> Option<Time> {
        (!self.waits.is_empty()).then(|| self.waits.value_at_quantile(q))
    }

    /// The `q`-quantile of hold times, if any transaction committed
    /// under a lock.
    pub fn hold(&self, q: f64) -> Option<Time> {
        (!self.holds.is_empty()).then(|| self.holds.value_at_quantile(q))
    }
}

const KINDS: &[(&str, &str, bool, bool)] = &[
    ("Acquire", "#e0a21b", false, false),
    ("Granted", "#2e9d5b", true, false),
    ("Queued", "#e0a21b", true, false),
    ("Busy", "#e0a21b", true, false),
    ("Wake", "#f08030", false, false),
    ("Check", "#f08030", false, false),
    ("Gone", "#9aa3b2", true, false),
    ("Release", "#4ac2c2", false, false),
    ("Heartbeat", "#9aa3b2", false, true),
    ("HeartbeatAck", "#9aa3b2", true, true),
    ("Read", "#4a78c2", false, false),
    ("ReadOk", "#4a78c2", true, false),
    ("Write", "#8a6ad0", false, false),
    ("Cas", "#8a6ad0", false, false),
    ("WriteOk", "#8a6ad0", true, false),
    ("Refused", "#e05a5a", true, false),
    ("CasFailed", "#e05a5a", true, false),
    ("NotLeader", "#9aa3b2", true, false),
    ("SetKey", "#e0a21b", false, false),
    ("SetReply", "#2e9d5b", true, false),
    ("Unlock", "#4ac2c2", false, false),
    ("PreVote", "#d58ad8", false, false),
    ("PreVoteReply", "#d58ad8", true, false),
    ("RequestVote", "#d58ad8", false, false),
    ("RequestVoteReply", "#d58ad8", true, false),
    ("AppendEntries", "#6a3fb8", false, false),
    ("AppendEntriesReply", "#6a3fb8", true, false),
    ("RaftHeartbeat", "#b9a6e3", false, true),
    ("RaftHeartbeatReply", "#b9a6e3", true, true),
];

const NONE: i64 = i64::MIN;

fn s(n: u32) -> String {
    format!("S{}", n + 1)
}

impl ClusterProtocol for LockNode {
    type Tracker = LocksTracker;
    const CLIENT_COMMANDS: bool = false;

    fn config(scn: &Scenario) -> LockConfig {
        lock_config(scn)
    }

    fn invariants() -> Vec<Box<dyn Invariant<Self>>> {
        invariants()
    }

    const ROLES: &'static [(&'static str, &'static str)] = &[
        ("storage", "#5d7390"),
        ("lock server", "#8a6ad0"),
        ("thinking", "#9aa3b2"),
        ("waiting", "#e0a21b"),
        ("holding", "#2e9d5b"),
        ("in a transaction", "#4a78c2"),
        ("backing off", "#e05a5a"),
        ("lock service leader", "#6a3fb8"),
        ("lock service follower", "#b9a6e3"),
        ("lock service candidate", "#d58ad8"),
    ];
    fn roles() -> Vec<RoleStyle> {
        // Three kinds of node, told apart by shape as well as colour: the
        // storage a box, lock servers diamonds, clients circles.
        let form = |name: &str| match name {
            "storage" => NodeForm::Square,
            n if n.starts_with("lock serv") => NodeForm::Diamond,
            _ => NodeForm::Circle,
        };
        Self::ROLES.iter().map(|(n, c)| RoleStyle::new(n, c).with_form(form(n))).collect()
    }

    const KINDS: &'static [(&'static str, &'static str, bool, bool)] = KINDS;

    /// What each configuration can show: Raft's messages and roles only
    /// with the replicated service, Redlock's only with Redlock, the lock
    /// protocol's only with pessimistic clients of a lock server (each
    /// recipe its own), compare-and-set only with optimistic clients and
    /// plain writes only with pessimistic ones, a fencing refusal only
    /// where the storage fences (`crates/core/tests/legend.rs` runs
    /// every configuration and preset against it).
    fn can_show(cfg: &LockConfig, name: &str) -> bool {
        let raft = cfg.service == Service::Raft;
        let locking = !cfg.optimistic && cfg.service != Service::Redlock;
        match name {
            "PreVote" | "PreVoteReply" | "RequestVote" | "RequestVoteReply" | "AppendEntries"
            | "AppendEntriesReply" | "RaftHeartbeat" | "RaftHeartbeatReply" | "NotLeader" => raft,
            n if n.starts_with("lock service ") => raft,
            "lock server" => !raft,
            "SetKey" | "SetReply" | "Unlock" => cfg.service == Service::Redlock && !cfg.optimistic,
            "Queued" | "Check" => locking && !cfg.naive,
            "Busy" => locking && cfg.naive,
            "Acquire" | "Granted" | "Wake" | "Gone" | "Release" | "Heartbeat" | "HeartbeatAck" => locking,
            "Cas" | "CasFailed" | "in a transaction" => cfg.optimistic,
            "Write" | "waiting" | "holding" => !cfg.optimistic,
            "Refused" => !cfg.optimistic && cfg.fences(),
            _ => true,
        }
    }

    const NOTES: &'static [(&'static str, &'static str, bool)] = &[
        ("LeaseGranted", "#5cc08a", true),
        ("LeaseExpired", "#e05a5a", true),
        ("Released", "#4ac2c2", false),
        ("SessionExpired", "#e08080", false),
        ("WriteAccepted", "#8a6ad0", false),
        ("WriteRefused", "#e05a5a", true),
        ("ReadRefused", "#e05a5a", false),
        ("CasConflict", "#f08030", false),
        ("Committed", "#2e9d5b", false),
        ("Aborted", "#f08030", false),
        ("BecameLeader", "#6a3fb8", true),
        ("KeyExpired", "#e05a5a", true),
        ("MajorityWon", "#5cc08a", true),
        ("MajorityMissed", "#f08030", false),
        ("SteppedDown", "#e08080", false),
    ];

    fn fields() -> Vec<FieldSpec> {
        let f = FieldSpec::new;
        vec![
            f("key", "Key", Unit::Count).with_short("k"),
            f("token", "Fencing token", Unit::Count),
            f("lease", "Lease until (client's view)", Unit::Micros),
            f("txns", "Transactions committed", Unit::Count),
            f("aborts", "Attempts aborted", Unit::Count),
            f("count", "Locks held (lock server) / keys written (storage)", Unit::Count),
        ]
    }

    fn view(node: &Node<Self>, v: &mut NodeView) {
        match &node.state.role {
            Role::Storage(st) => {
                v.role = 0;
                let top = st.keys.values().map(|k| k.seen).max().unwrap_or(0);
                let written = st.keys.values().filter(|k| k.version > 0).count();
                v.fields = vec![NONE, top as i64, NONE, NONE, NONE, written as i64];
            }
            Role::Server(ls) => {
                v.role = 1;
                let held = ls.locks.values().filter(|l| l.holder.is_some()).count();
                v.fields = vec![NONE, ls.next_token.saturating_sub(1) as i64, NONE, NONE, NONE, held as i64];
            }
            Role::Redlock(rs) => {
                v.role = 1;
                v.fields = vec![NONE, NONE, NONE, NONE, NONE, rs.keys.len() as i64];
            }
            Role::Replica(r) => {
                v.role = match r.raft.role() {
                    RaftRole::Leader => 7,
                    RaftRole::Follower => 8,
                    RaftRole::Candidate | RaftRole::PreCandidate => 9,
                };
                let held = r.table.locks.values().filter(|l| l.holder.is_some()).count();
                let top = r.table.locks.values().filter_map(|l| l.holder).map(|h| h.1).max();
                v.fields = vec![NONE, top.map_or(NONE, |t| t as i64), NONE, NONE, NONE, held as i64];
            }
            Role::Client(c) => {
                let optimistic = node.state.config().optimistic;
                v.role = match c.phase {
                    Phase::Thinking => 2,
                    Phase::Acquiring | Phase::Waiting => 3,
                    Phase::Reading | Phase::Working | Phase::Writing if optimistic => 5,
                    Phase::Reading | Phase::Working | Phase::Writing => 4,
                    Phase::BackingOff => 6,
                };
                let busy = c.phase != Phase::Thinking;
                v.fields = vec![
                    if busy { i64::from(c.key) } else { NONE },
                    if c.token > 0 { c.token as i64 } else { NONE },
                    c.lease_until.map_or(NONE, |t| t as i64),
                    c.committed as i64,
                    c.aborted as i64,
                    NONE,
                ];
                v.timer = node
                    .timer_spans()
                    .find(|(t, ..)| matches!(t, LockTimer::Work | LockTimer::Think | LockTimer::Backoff))
                    .map(|(_, set, due)| (set, due));
            }
        }
    }

    fn metric_specs() -> Vec<MetricSpec> {
        let m = MetricSpec::new;
        vec![
            m("txns", "Transactions committed", Unit::Count, false).with_role(MetricRole::Progress),
            m("txns_per_sec", "Transactions committed per second", Unit::PerSec, true),
            m("aborts", "Attempts aborted", Unit::Count, false),
            m("aborts_per_txn", "Aborts per transaction", Unit::Ratio, true),
            m("retries_per_txn", "Requests resent per transaction", Unit::Ratio, false),
            m("wait_p50", "Lock wait p50", Unit::Micros, false),
            m("wait_p99", "Lock wait p99", Unit::Micros, true),
            m("hold_p50", "Lock hold time p50", Unit::Micros, false),
            m("hold_p99", "Lock hold time p99", Unit::Micros, false),
            m("grants", "Locks granted", Unit::Count, false),
            m("releases", "Locks released", Unit::Count, false),
            m("msgs_per_acquire", "Messages per acquire", Unit::Ratio, false),
            m("msgs_per_release", "Messages per release", Unit::Ratio, true),
            m("waiters_per_release", "Waiters per release", Unit::Ratio, false),
            m("refused_writes", "Stale writes refused", Unit::Count, true),
            m("refused_reads", "Stale reads refused", Unit::Count, false),
            m("lease_expiries", "Leases run out holding a lock", Unit::Count, false),
            m("locks_lost", "Locks lost in lock server crashes", Unit::Count, false),
            m("raft_msgs", "Messages among lock servers (Raft)", Unit::Count, false),
            m("leaders_elected", "Lock service leaders elected", Unit::Count, false),
            m("storage_busy", "Storage busy (share of the time serving)", Unit::Fraction, false),
            m("violations", "Violations", Unit::Count, false),
        ]
    }

    fn observe(t: &mut LocksTracker, sim: &Sim<Self>) {
        t.said = None;
        t.redlock = sim.protocol_config().service == Service::Redlock;
        let single = sim.protocol_config().service == Service::Single;
        for ev in sim.last_events() {
            match ev {
                TraceEvent::Sent { msg, copy: false, .. } => match msg {
                    LockMsg::Raft(_) => t.raft_msgs += 1,
                    LockMsg::Heartbeat { .. } | LockMsg::HeartbeatAck { .. } => {}
                    // Counted when it arrives (below): a release is the
                    // lock server's, and a run may end with one in flight.
                    LockMsg::Release { .. } => {}
                    m if m.woken() => t.release_msgs += 1,
                    LockMsg::Acquire { .. }
                    | LockMsg::Granted { .. }
                    | LockMsg::Queued { .. }
                    | LockMsg::Busy { .. }
                    | LockMsg::Gone { .. }
                    | LockMsg::SetKey { .. }
                    | LockMsg::SetReply { .. } => t.acquire_msgs += 1,
                    _ => {}
                },
                TraceEvent::Fault { fault: Fault::Crash(n), .. } if single && *n == LOCK_SERVER => {
                    t.locks_lost += t.held;
                    if t.held > 0 {
                        t.said = Some(format!(
                            "The lock server crashed holding {} lock(s) in memory: they are lost, and the next Acquire of those keys is granted at once",
                            t.held
                        ));
                    }
                    t.held = 0;
                }
                TraceEvent::Delivered { kind: "Release" | "Unlock", .. } => t.release_msgs += 1,
                TraceEvent::Note { node, note, .. } => t.note(*node, note),
                _ => {}
            }
        }
    }

    fn narrate(t: &LocksTracker, _sim: &Sim<Self>) -> Option<String> {
        t.said.clone()
    }

    fn counters(t: &LocksTracker, counters: &mut Counters) {
        // A transaction is the lab's unit of work: attempts that ended
        // (committed or aborted) and transactions committed.
        counters.requests = t.committed + t.aborts;
        counters.committed = t.committed;
    }

    /// A client's hold as it believes in it, as a bar on its lane: from
    /// the grant it heard (with its token; Redlock: its random value) to
    /// its commit, or to the abort that gave the lock up (Kleppmann's
    /// Figure 1).
    fn tracker_bytes(t: &LocksTracker) -> usize {
        (t.waits.distinct_values() + t.holds.distinct_values()) * 8 + t.counted.len() * 40
    }

    fn span(note: &LockNote) -> Option<SpanEdge> {
        match *note {
            LockNote::Acquired { token, .. } => Some(SpanEdge::Open { slot: 0, label: "token", number: token }),
            LockNote::Committed { hold: Some(_), .. } | LockNote::Aborted { .. } => Some(SpanEdge::Close { slot: 0 }),
            _ => None,
        }
    }

    fn metrics(t: &LocksTracker, sim: &Sim<Self>, out: &mut Vec<f64>) {
        let secs = sim.now() as f64 / 1e6;
        let per = |x: u64, n: u64| if n > 0 { x as f64 / n as f64 } else { f64::NAN };
        let q = |v: Option<Time>| v.map_or(f64::NAN, |v| v as f64);
        out.extend([
            t.committed as f64,
            if secs > 0.0 { t.committed as f64 / secs } else { f64::NAN },
            t.aborts as f64,
            per(t.aborts, t.committed),
            per(t.resent, t.committed),
            q(t.wait(0.5)),
            q(t.wait(0.99)),
            q(t.hold(0.5)),
            q(t.hold(0.99)),
            t.grants as f64,
            t.releases as f64,
            per(t.acquire_msgs, t.grants),
            per(t.release_msgs, t.releases),
            per(t.waiters_at_release, t.releases),
            t.refused_writes as f64,
            t.refused_reads as f64,
            t.expiries as f64,
            t.locks_lost as f64,
            t.raft_msgs as f64,
            t.leaders_elected as f64,
            storage_busy(sim),
            f64::from(u8::from(sim.violation().is_some())),
        ]);
    }
}

/// The share of the run the storage spent serving requests (requests
/// served × the service time ÷ the time run); none without a service time.
fn storage_busy(sim: &Sim<LockNode>) -> f64 {
    let serve = sim.protocol_config().serve;
    let served = sim.nodes().first().and_then(|n| match &n.state.role {
        Role::Storage(s) => Some(s.served),
        _ => None,
    });
    match served {
        Some(served) if serve > 0 && sim.now() > 0 => (served * serve) as f64 / sim.now() as f64,
        _ => f64::NAN,
    }
}

impl LocksTracker {
    fn note(&mut self, node: u32, note: &LockNote) {
        match *note {
            LockNote::Committed { latency: _, hold, .. } => {
                self.committed += 1;
                // Redlock: the holder releases on every server after it
                // commits (the servers do not count holders).
                self.releases += u64::from(hold.is_some() && self.redlock);
                if let Some(h) = hold {
                    let _ = self.holds.record(h.max(1));
                }
            }
            LockNote::Aborted { .. } => self.aborts += 1,
            LockNote::Resent => self.resent += 1,
            LockNote::Acquired { wait, .. } => {
                let _ = self.waits.record(wait.max(1));
            }
            LockNote::Granted { client, key, token } => {
                let counted = self.counted.entry(key).or_default();
                if token <= counted.0 {
                    return;
                }
                counted.0 = token;
                self.grants += 1;
                self.held += 1;
                self.said.get_or_insert(format!(
                    "The lock server grants key {key}'s lock to {} with token {token}",
                    s(client)
                ));
            }
            LockNote::Released { client, key, token, waiters, expired } => {
                let counted = self.counted.entry(key).or_default();
                if token <= counted.1 {
                    return;
                }
                counted.1 = token;
                self.releases += 1;
                self.held = self.held.saturating_sub(1);
                self.waiters_at_release += u64::from(waiters);
                self.releases_with_waiters += u64::from(waiters > 0);
                if expired {
                    self.expiries += 1;
                    self.said = Some(format!(
                        "{}'s lease ran out: the lock server no longer counts it as key {key}'s holder (token {token}), whatever {} believes",
                        s(client),
                        s(client)
                    ));
                }
            }
            LockNote::WriteRefused { client, key, token, seen } => {
                self.refused_writes += 1;
                self.said = Some(format!(
                    "The storage refuses {}'s write to key {key}: its token {token} is older than token {seen}, which it has seen",
                    s(client)
                ));
            }
            LockNote::ReadRefused { .. } => self.refused_reads += 1,
            LockNote::Tally { key, granted, validity: Some(v) } => {
                self.grants += 1;
                self.said = Some(format!(
                    "{} holds key {key}'s lock: {granted} server(s) set its random value, a majority; valid for {} ms more on its own clock",
                    s(node),
                    v / 1000
                ));
            }
            LockNote::Tally { key, granted, validity: None } => {
                self.said.get_or_insert(format!(
                    "{} does not get key {key}'s lock ({granted} server(s) set its value, or no validity left): it deletes its value everywhere and tries later",
                    s(node)
                ));
            }
            LockNote::KeyExpired { client, key, .. } => {
                self.expiries += 1;
                self.said = Some(format!(
                    "{}'s clock says key {key}'s TTL is over: it drops {}'s value, whatever {} believes",
                    s(node),
                    s(client),
                    s(client)
                ));
            }
            LockNote::Raft(RaftNote::BecameLeader { term }) => {
                self.leaders_elected += 1;
                self.said = Some(format!(
                    "{} leads the lock service (term {term}): every acquire, release and keep-alive now goes through its log",
                    s(node)
                ));
            }
            LockNote::WriteAccepted { client, key, token, .. } if node == STORAGE && token > 0 => {
                self.said.get_or_insert(format!(
                    "The storage accepts {}'s write to key {key} under token {token}",
                    s(client)
                ));
            }
            _ => {}
        }
    }
}
