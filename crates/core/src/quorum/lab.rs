//! The quorum lab: Dynamo-style replication on the shared cluster lab.
//!
//! Its own parts: the parameter table (servers, `N`, `R`, `W`, virtual
//! nodes, fan-outs, read repair, sloppy quorums, anti-entropy, a skewed
//! clock, last writer wins or version vectors, exponential latency, a slow
//! server, where clients send), how a server is drawn (keys held, hints,
//! commands coordinated, most siblings of a key; a strip with the value it
//! holds for each key), and the figures a run is judged by, measured by a
//! tracker that sees every client command and every server's notes:
//!
//! * **k-staleness** (Bailis et al., VLDB 2012, §3): the share of reads
//!   that return one of the `k` newest versions among the writes
//!   acknowledged before the read was invoked (k = 1, 2, 3); reads before
//!   any write of their key was acknowledged are not counted;
//! * **t-visibility** (§4): the share of reads issued `t` after the last
//!   acknowledged write of their key that return it (or a newer version),
//!   for `t` in six windows from 0–5 ms to 100 ms and more;
//! * **lost writes**: under last writer wins, writes acknowledged to
//!   their client but stamped older than a write of the same key
//!   acknowledged before they were invoked, so last-writer-wins drops them
//!   everywhere; under version vectors, acknowledged writes that no read
//!   returned and that no replica (nor hint) holds any more;
//! * **siblings** (version vectors): per read, the most in one read, and
//!   merges written back;
//! * write latency, hints waiting, repairs, hints handed back, versions
//!   copied by anti-entropy, and keys whose replicas disagree now.

use super::view::{self, RingShape};
use super::{Coordinator, Fanout, QuorumConfig, QuorumNode, QuorumNote, ReadRepair, Version, Versions};
use crate::lab::cluster::{self, ClusterProtocol};
use crate::lab::{Engine, FieldSpec, LabDef, LabHead, MetricSpec, NodeView, StripSpec, Unit};
use crate::scenario::params::{choice, p, Kind, ParamSpec, NETWORK, PCT};
use crate::scenario::{Scenario, SHARED_VERBS};
use crate::sim::{Invariant, KvOp, Node, Sim, SimConfig, Time, TraceEvent, MS, SEC};
use hdrhistogram::Histogram;
use std::collections::BTreeSet;
use std::sync::Arc;

const M: i64 = MS as i64;
const S: i64 = SEC as i64;

/// The choices of `coordinator`.
pub const COORDINATORS: &[&str] = &["any", "replica"];
/// The choices of `read_fanout` and `write_fanout`.
pub const FANOUTS: &[&str] = &["all", "quorum"];
/// The choices of `read_repair`.
pub const REPAIRS: &[&str] = &["off", "async", "blocking"];
/// The choices of `clients_to`.
pub const CLIENTS_TO: &[&str] = &["any", "one"];
/// The choices of `versions`.
pub const VERSIONS: &[&str] = &["lww", "vectors"];

/// Parameters of the quorum lab.
pub const PARAMS: &[ParamSpec] = &[
    p("nodes", "Servers", "servers on the ring", Kind::Count, 1, 64, 5, false),
    p("replicas", "Replicas (N)", "servers that store each key: the first N on the ring from the key", Kind::Count, 1, 9, 3, false),
    p("r", "Read quorum (R)", "answers a read waits for; it returns the newest of them", Kind::Count, 1, 9, 1, false),
    p("w", "Write quorum (W)", "acknowledgements a write waits for before it is acknowledged", Kind::Count, 1, 9, 1, false),
    p("vnodes", "Virtual nodes", "points each server has on the ring (placement as in the Ring lab)", Kind::Count, 1, 1_000, 16, false),
    p("keys", "Keys", "keys the clients read and write", Kind::Count, 1, 64, 4, false),
    choice("coordinator", "Coordinator", "any: the server the client contacted coordinates; replica: a server that does not store the key redirects the client to the key's first replica", COORDINATORS, 0, false),
    choice("read_fanout", "Read fan-out", "all: ask the N replicas and take the first R answers; quorum: ask R replicas chosen at random", FANOUTS, 0, false),
    choice("write_fanout", "Write fan-out", "all: send a write to the N replicas; quorum: only to W of them chosen at random (the others never get it: the setting of the PBS closed form)", FANOUTS, 0, false),
    choice("read_repair", "Read repair", "off; async: after answering, send the newest version to replicas that answered older ones; blocking: before answering, write it back until W replicas hold it", REPAIRS, 0, false),
    p(
        "sloppy",
        "Sloppy quorum, hinted handoff",
        "a replica that does not answer in time is stood in for by the next server on the ring, which keeps the write as a hint and hands it back later",
        Kind::Toggle,
        0,
        1,
        0,
        false,
    ),
    p(
        "retry_after",
        "Retry after (ms)",
        "how long a coordinator waits for a replica before asking again (or, sloppy, asking a stand-in)",
        Kind::Duration,
        M,
        10 * S,
        50 * M,
        false,
    ),
    p("handoff_every", "Handoff period (ms)", "how often a stand-in tries to hand its hints back", Kind::Duration, M, 60 * S, 200 * M, false),
    p(
        "anti_entropy",
        "Anti-entropy period (ms)",
        "how often each server swaps versions with a random replica peer and both keep the newer; 0: never",
        Kind::Duration,
        0,
        60 * S,
        0,
        false,
    ),
    p("skew", "S1's clock behind by (ms)", "S1 stamps writes this far in the past: last writer wins then drops them", Kind::Duration, 0, 60 * S, 0, false),
    choice("versions", "Versions", "lww: last writer wins by the coordinator's clock (a write stamped by a clock behind is dropped unseen); vectors: dotted version vectors keep concurrent writes as siblings, a read returns them all and the client writes back their merge (the largest value) with the read's context", VERSIONS, 0, false),
    p(
        "latency_exp",
        "Exponential latency, mean (ms)",
        "0: every message takes a uniform delay between the minimum and maximum latency; else the minimum plus an exponential delay of this mean (the latency model of Bailis et al.'s PBS simulations)",
        Kind::Duration,
        0,
        10 * S,
        0,
        false,
    ),
    p("slow_server", "Slow server", "0: none; n: every message to or from server Sn takes the slow factor times as long", Kind::Count, 0, 64, 0, false),
    p("slow_factor", "Slow factor", "how many times as long the slow server's messages take", Kind::Count, 1, 1_000, 10, false),
    choice("clients_to", "Clients send to", "any: each command to a server chosen at random; one: every command to one server (S1, until it stops answering), as a client with a single contact point", CLIENTS_TO, 0, false),
];

/// The shared network and client parameters this lab takes: all but
/// `keys` (its own, at least 1) and `cas_share` (a Dynamo-style store
/// offers reads and writes, no compare-and-set).
pub const NETWORK_PARAMS: &[ParamSpec] = &[
    NETWORK[0],
    NETWORK[1],
    NETWORK[2],
    NETWORK[3],
    NETWORK[4],
    NETWORK[5],
    NETWORK[6],
    NETWORK[7],
    NETWORK[8],
    p(
        "request_rate",
        "Client requests (per s)",
        "client requests per second of virtual time",
        Kind::Count,
        0,
        100_000,
        50,
        true,
    ),
    NETWORK[10],
    p(
        "read_share",
        "Reads (%)",
        "share of the client commands that are reads (the rest are writes)",
        Kind::Percent,
        0,
        100 * PCT,
        50 * PCT,
        false,
    ),
    NETWORK[14],
];

fn check(scn: &Scenario) -> Result<(), String> {
    let (n, r, w, servers) = (scn.get("replicas"), scn.get("r"), scn.get("w"), scn.get("nodes"));
    if n > servers {
        return Err(format!("replicas (N = {n}) must not be more than the servers ({servers})"));
    }
    if r > n {
        return Err(format!("the read quorum R = {r} must not be larger than N = {n}"));
    }
    if w > n {
        return Err(format!("the write quorum W = {w} must not be larger than N = {n}"));
    }
    let slow = scn.get("slow_server");
    if slow > servers {
        return Err(format!("the slow server S{slow} is not one of the {servers} servers"));
    }
    cluster::check_network(scn)
}

/// The quorum lab's handle, for scenarios built in code.
pub fn kind() -> crate::scenario::LabKind {
    crate::scenario::LabKind(&LAB)
}

/// What every program knows of this lab, even one that does not run it
/// (the registry's [`HEADS`](crate::lab::registry::HEADS)).
pub const HEAD: LabHead = LabHead {
    name: "quorum",
    title: "Quorum replication",
    about: "Dynamo-style replication: N replicas per key on a hash ring, reads and writes that wait for R and W of them, how stale the reads are, and what read repair, hinted handoff and anti-entropy change.",
    bench: true,
};

/// The quorum lab, as registered.
pub static LAB: LabDef = LabDef {
    name: HEAD.name,
    title: HEAD.title,
    about: HEAD.about,
    params: &[PARAMS, NETWORK_PARAMS],
    shared_verbs: SHARED_VERBS,
    verbs: cluster::VERBS,
    parse_verb: cluster::parse_verb,
    check_verb: cluster::check_verb,
    check,
    nodes: Scenario::nodes_param,
    bench: Some(include_str!("../../../../tests/scenarios/quorum/bench.scn")),
    experiments: super::experiments::EXPERIMENTS,
    presets: &[
        ("R = W = 1 on N = 3: fast and often stale", include_str!("../../../../tests/scenarios/quorum/default.scn")),
        ("R = W = 2 on N = 3: no stale read", include_str!("../../../../tests/scenarios/quorum/strict.scn")),
        ("Lossy links with read repair", include_str!("../../../../tests/scenarios/quorum/read-repair.scn")),
        ("Lossy links without read repair", include_str!("../../../../tests/scenarios/quorum/read-repair-off.scn")),
        (
            "A partition with sloppy quorums: accepted, then stale",
            include_str!("../../../../tests/scenarios/quorum/sloppy-partition.scn"),
        ),
        ("A replica down, without hinted handoff", include_str!("../../../../tests/scenarios/quorum/replica-down.scn")),
        (
            "A replica down: hinted handoff brings it back",
            include_str!("../../../../tests/scenarios/quorum/hinted-handoff.scn"),
        ),
        (
            "Anti-entropy catches up a replica that missed writes",
            include_str!("../../../../tests/scenarios/quorum/anti-entropy.scn"),
        ),
        (
            "Drifting clocks: last writer wins loses writes",
            include_str!("../../../../tests/scenarios/quorum/clock-drift.scn"),
        ),
        (
            "Drifting clocks, version vectors: siblings, no write lost",
            include_str!("../../../../tests/scenarios/quorum/clock-drift-vectors.scn"),
        ),
        (
            "One slow replica: R = 1 barely notices, W = N waits for it",
            include_str!("../../../../tests/scenarios/quorum/slow-replica.scn"),
        ),
        (
            "Blocking read repair: a linearizable register",
            include_str!("../../../../tests/scenarios/quorum/blocking-repair.scn"),
        ),
        (
            "Sloppy quorum caught by the history checker",
            include_str!("../../../../tests/scenarios/quorum/bug-sloppy-not-linearizable.scn"),
        ),
    ],
};

/// What runs the lab (see [`Engine`]).
pub static ENGINE: Engine =
    Engine { lab: &LAB, build: cluster::build::<QuorumNode>, speed: None, runs: super::experiments::RUNS, also: &[] };

/// The quorum configuration a scenario describes.
pub fn quorum_config(scn: &Scenario) -> QuorumConfig {
    let g = |n: &str| scn.get(n).max(0) as u64;
    let servers = (g("nodes") as u32).max(1);
    let keys = (g("keys") as u32).max(1);
    let (prefs, shape) = QuorumConfig::layout(servers, (g("vnodes") as u32).max(1), keys)
        .unwrap_or_else(|_| (vec![(0..servers).collect(); keys as usize], RingShape::default()));
    let replicas = (g("replicas") as u32).clamp(1, servers);
    QuorumConfig {
        replicas,
        r: (g("r") as u32).clamp(1, replicas),
        w: (g("w") as u32).clamp(1, replicas),
        prefs: Arc::new(prefs),
        shape: Arc::new(shape),
        coordinator: if g("coordinator") == 1 { Coordinator::Replica } else { Coordinator::Any },
        read_fanout: if g("read_fanout") == 1 { Fanout::Quorum } else { Fanout::All },
        write_fanout: if g("write_fanout") == 1 { Fanout::Quorum } else { Fanout::All },
        read_repair: match g("read_repair") {
            1 => ReadRepair::Async,
            2 => ReadRepair::Blocking,
            _ => ReadRepair::Off,
        },
        sloppy: g("sloppy") != 0,
        retry_after: g("retry_after").max(1),
        handoff_every: g("handoff_every").max(1),
        anti_entropy_every: g("anti_entropy"),
        skew: g("skew"),
        versions: if g("versions") == 1 { Versions::Vectors } else { Versions::Lww },
    }
}

/// The windows of t-visibility: a read issued at least this long after
/// the last acknowledged write of its key (and less than the next).
pub const WINDOWS: [Time; 6] = [0, 5 * MS, 10 * MS, 20 * MS, 50 * MS, 100 * MS];

/// One acknowledged write, as the tracker keeps it: when it was
/// acknowledged, its version's timestamp, and the three highest
/// timestamps among the writes of its key acknowledged up to it.
#[derive(Clone, Copy, Debug)]
struct Acked {
    at: Time,
    ts: u64,
    top: [u64; 3],
}

/// The quorum lab's running figures.
#[derive(Clone, Debug)]
pub struct QuorumTracker {
    cursor: usize,
    acked: Vec<Vec<Acked>>,
    /// Reads invoked after some write of their key was acknowledged.
    pub reads_measured: u64,
    /// Of those, reads that returned one of the k newest versions, for
    /// k = 1, 2, 3.
    pub fresh: [u64; 3],
    /// Per window of [`WINDOWS`]: (reads that saw the last write, reads).
    pub visible: [(u64, u64); 6],
    /// Acknowledged writes that last writer wins drops.
    pub lost_writes: u64,
    writes: Histogram<u64>,
    /// Writes acknowledged with a stand-in's acknowledgement counted.
    pub sloppy_writes: u64,
    /// Read repairs sent (one per replica).
    pub repairs: u64,
    /// Reads whose replicas disagreed.
    pub disagreed: u64,
    /// Hints handed back.
    pub handed_off: u64,
    /// Versions copied by anti-entropy.
    pub synced: u64,
    /// Whether the run keeps version vectors (set when it is first seen).
    pub vectors: bool,
    /// Version vectors: acknowledged writes (key, dot) no read has
    /// returned yet.
    unseen: BTreeSet<(u32, u32, u64)>,
    /// Version vectors: the dots reads have returned (a read may return a
    /// write before it is acknowledged).
    seen: BTreeSet<(u32, u32, u64)>,
    /// Version vectors: reads that returned something, and the siblings
    /// they returned in all.
    pub sibling_reads: u64,
    /// Siblings those reads returned.
    pub siblings_seen: u64,
    /// The most siblings one read returned.
    pub max_siblings: u64,
    /// Merges written back.
    pub merges: u64,
    /// What the last step did worth saying.
    said: Option<String>,
    /// The keys written most recently, the latest first (at most
    /// [`view::WATCHED_KEYS`]): the keys the lab's drawing watches.
    recent: Vec<u32>,
    /// Per key, its newest acknowledged write: the highest version under
    /// last writer wins, the last acknowledged under version vectors.
    newest: Vec<Option<Version>>,
}

impl Default for QuorumTracker {
    fn default() -> Self {
        QuorumTracker {
            cursor: 0,
            acked: Vec::new(),
            reads_measured: 0,
            fresh: [0; 3],
            visible: [(0, 0); 6],
            lost_writes: 0,
            writes: Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are valid")),
            sloppy_writes: 0,
            repairs: 0,
            disagreed: 0,
            handed_off: 0,
            synced: 0,
            vectors: false,
            unseen: BTreeSet::new(),
            seen: BTreeSet::new(),
            sibling_reads: 0,
            siblings_seen: 0,
            max_siblings: 0,
            merges: 0,
            said: None,
            recent: Vec::new(),
            newest: Vec::new(),
        }
    }
}

impl QuorumTracker {
    /// The last acknowledged write of `key` acknowledged strictly before `t`.
    fn before(&self, key: u32, t: Time) -> Option<Acked> {
        let list = self.acked.get(key as usize)?;
        let n = list.partition_point(|a| a.at < t);
        (n > 0).then(|| list[n - 1])
    }

    /// Takes one finished client command.
    fn take(&mut self, rec: &crate::sim::KvRecord) {
        let Some((at, a)) = rec.done else { return };
        let key = rec.command.key;
        let last = self.before(key, rec.invoked);
        match rec.command.op {
            KvOp::Read => {
                let Some(last) = last else { return };
                self.reads_measured += 1;
                for k in 0..3 {
                    if a.version >= last.top[k] {
                        self.fresh[k] += 1;
                    }
                }
                let since = rec.invoked - last.at;
                let w = WINDOWS.iter().rposition(|&t| since >= t).unwrap_or(0);
                self.visible[w].1 += 1;
                if a.version >= last.ts {
                    self.visible[w].0 += 1;
                }
            }
            KvOp::Write(_) | KvOp::Cas(..) => {
                let _ = self.writes.record(at.saturating_sub(rec.invoked));
                if !self.vectors && last.is_some_and(|l| l.top[0] > a.version) {
                    self.lost_writes += 1;
                }
                let k = key as usize;
                if self.acked.len() <= k {
                    self.acked.resize(k + 1, Vec::new());
                }
                let list = &mut self.acked[k];
                let mut top = list.last().map_or([0; 3], |l| l.top);
                if a.version > top[2] {
                    top[2] = a.version;
                    top.sort_unstable_by(|x, y| y.cmp(x));
                }
                list.push(Acked { at, ts: a.version, top });
            }
        }
    }

    /// The share of measured reads that returned one of the `k` newest
    /// versions (NaN before any).
    pub fn k_fresh(&self, k: usize) -> f64 {
        if self.reads_measured == 0 {
            f64::NAN
        } else {
            self.fresh[k - 1] as f64 / self.reads_measured as f64
        }
    }

    /// The share of reads in window `w` of [`WINDOWS`] that saw the last
    /// write (NaN if none fell in it).
    pub fn t_visible(&self, w: usize) -> f64 {
        let (seen, all) = self.visible[w];
        if all == 0 {
            f64::NAN
        } else {
            seen as f64 / all as f64
        }
    }

    /// Version vectors: the mean number of siblings a read returned (NaN
    /// before any read returned something).
    pub fn siblings_per_read(&self) -> f64 {
        if self.sibling_reads == 0 {
            f64::NAN
        } else {
            self.siblings_seen as f64 / self.sibling_reads as f64
        }
    }

    /// Acknowledged writes lost. Last writer wins: writes stamped older
    /// than a write of their key acknowledged before they were invoked
    /// (counted as they finish). Version vectors: acknowledged writes that
    /// no read has returned and that no replica (nor a stand-in's hint)
    /// holds any more: dropped without a client having seen them.
    pub fn lost(&self, sim: &Sim<QuorumNode>) -> u64 {
        if !self.vectors {
            return self.lost_writes;
        }
        if self.unseen.is_empty() {
            return 0;
        }
        let cfg = sim.protocol_config();
        let mut held: BTreeSet<(u32, u32, u64)> = BTreeSet::new();
        for node in sim.nodes() {
            let s = &node.state;
            for (&k, h) in s.store() {
                if cfg.is_home(k, s.id()) {
                    held.extend(h.siblings.iter().map(|v| (k, v.node, v.n)));
                }
            }
            for (&(_, k), h) in s.hints() {
                held.extend(h.siblings.iter().map(|v| (k, v.node, v.n)));
            }
        }
        self.unseen.iter().filter(|d| !held.contains(d)).count() as u64
    }

    /// Notes an acknowledged write of `key` for the drawing.
    fn written(&mut self, key: u32, ver: Version) {
        self.recent.retain(|&k| k != key);
        self.recent.insert(0, key);
        self.recent.truncate(view::WATCHED_KEYS);
        let k = key as usize;
        if self.newest.len() <= k {
            self.newest.resize(k + 1, None);
        }
        let slot = &mut self.newest[k];
        if self.vectors || slot.is_none_or(|old| ver > old) {
            *slot = Some(ver);
        }
    }

    /// The keys the drawing watches among `keys`: the most recently
    /// written, then the lowest-numbered, [`view::WATCHED_KEYS`] at most.
    pub fn watched(&self, keys: u32) -> Vec<u32> {
        let mut out = self.recent.clone();
        for k in 0..keys {
            if out.len() >= view::WATCHED_KEYS {
                break;
            }
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }

    /// The `q`-quantile of write latency.
    pub fn write_latency(&self, q: f64) -> Option<Time> {
        (!self.writes.is_empty()).then(|| self.writes.value_at_quantile(q))
    }
}

/// Keys whose replicas that are up hold different versions now.
pub fn divergent_keys(sim: &Sim<QuorumNode>) -> u64 {
    let cfg = sim.protocol_config();
    (0..cfg.keys())
        .filter(|&k| {
            let mut held =
                cfg.home(k).iter().map(|&n| sim.nodes()[n as usize].state.store().get(&k).cloned().unwrap_or_default());
            let first = held.next().unwrap_or_default();
            held.any(|v| v != first)
        })
        .count() as u64
}

const KINDS: &[(&str, &str, bool, bool)] = &[
    ("Write", "#4a78c2", false, false),
    ("WriteAck", "#4a78c2", true, false),
    ("Read", "#2e9d5b", false, false),
    ("ReadReply", "#2e9d5b", true, false),
    ("Repair", "#e0a21b", false, false),
    ("RepairAck", "#e0a21b", true, false),
    ("Handoff", "#b07ad8", false, false),
    ("HandoffAck", "#b07ad8", true, true),
    ("Digest", "#9aa3b2", false, true),
    ("DigestReply", "#9aa3b2", true, true),
];

impl ClusterProtocol for QuorumNode {
    type Tracker = QuorumTracker;

    fn config(scn: &Scenario) -> QuorumConfig {
        quorum_config(scn)
    }

    fn reads_anywhere(scn: &Scenario) -> bool {
        scn.get("clients_to") == 0
    }

    fn adjust_sim(scn: &Scenario, config: &mut SimConfig) {
        config.net.exp_mean = scn.get("latency_exp").max(0) as Time;
        let slow = scn.get("slow_server");
        config.net.slow_node = (slow > 0).then(|| (slow - 1) as u32);
        config.net.slow_factor = scn.get("slow_factor").max(1) as u64;
    }

    fn writes_anywhere(scn: &Scenario) -> bool {
        scn.get("clients_to") == 0
    }

    fn invariants() -> Vec<Box<dyn Invariant<Self>>> {
        // Safety here is about what clients see: the history checker
        // (`check_history`) and the figures below judge it.
        Vec::new()
    }

    const ROLES: &'static [(&'static str, &'static str)] =
        &[("replica", "#5d7390"), ("coordinating", "#4a78c2"), ("holding hints", "#b07ad8")];
    const KINDS: &'static [(&'static str, &'static str, bool, bool)] = KINDS;
    const NOTES: &'static [(&'static str, &'static str, bool)] = &[
        ("WriteAcked", "#5cc08a", true),
        ("ReadDisagreed", "#e05a5a", true),
        ("Repaired", "#e0a050", true),
        ("HintStored", "#b07ad8", false),
        ("HandedOff", "#b07ad8", true),
        ("Synced", "#9aa3b2", false),
    ];

    fn fields() -> Vec<FieldSpec> {
        let f = FieldSpec::new;
        vec![
            f("keys", "Keys held", Unit::Count),
            f("hints", "Hints kept", Unit::Count),
            f("coordinating", "Commands coordinated now", Unit::Count),
            f("newest", "Newest version held (µs stamp)", Unit::Count),
            f("siblings", "Siblings held (most for one key)", Unit::Count),
        ]
    }

    fn strip() -> Option<StripSpec> {
        Some(StripSpec {
            title: "Value held per key (from key 0; 0: none)".into(),
            value: "value".into(),
            mark: "stored by this replica".into(),
            base: None,
        })
    }

    fn view(node: &Node<Self>, v: &mut NodeView) {
        let s = &node.state;
        v.role = if !s.hints().is_empty() {
            2
        } else if s.coordinating() > 0 {
            1
        } else {
            0
        };
        let cfg = s.config();
        v.fields = vec![
            s.store().keys().filter(|&&k| cfg.is_home(k, s.id())).count() as i64,
            s.hints().len() as i64,
            s.coordinating() as i64,
            s.store().values().map(|v| v.ts()).max().map_or(i64::MIN, |t| t.min(i64::MAX as u64) as i64),
            s.store().values().map(|v| v.siblings.len()).max().unwrap_or(0) as i64,
        ];
        let keys = cfg.keys();
        v.strip =
            (0..keys).map(|k| s.holds(k).value().map_or(0, |v| (v.rem_euclid(i64::from(u32::MAX))) as u32)).collect();
        v.strip_first = 0;
        v.strip_mark = 0;
    }

    fn metric_specs() -> Vec<MetricSpec> {
        let m = MetricSpec::new;
        let mut out = vec![
            m("reads_measured", "Reads after a completed write", Unit::Count, false),
            m("fresh_k1", "k-staleness: reads returning the newest completed write (k = 1)", Unit::Fraction, true),
            m("fresh_k2", "k-staleness: reads returning one of the 2 newest (k = 2)", Unit::Fraction, false),
            m("fresh_k3", "k-staleness: reads returning one of the 3 newest (k = 3)", Unit::Fraction, false),
        ];
        let labels = [
            ("visible_0", "t-visibility: reads 0-5 ms after a write that see it"),
            ("visible_5", "t-visibility: reads 5-10 ms after a write that see it"),
            ("visible_10", "t-visibility: reads 10-20 ms after a write that see it"),
            ("visible_20", "t-visibility: reads 20-50 ms after a write that see it"),
            ("visible_50", "t-visibility: reads 50-100 ms after a write that see it"),
            ("visible_100", "t-visibility: reads 100 ms or more after a write that see it"),
        ];
        out.extend(labels.iter().map(|(n, l)| m(n, l, Unit::Fraction, false)));
        out.extend([
            m("lost_writes", "Acknowledged writes lost", Unit::Count, true),
            m("write_p50", "Write latency p50", Unit::Micros, false),
            m("write_p99", "Write latency p99", Unit::Micros, true),
            m("hints", "Hints waiting", Unit::Count, true),
            m("sloppy_writes", "Writes acknowledged by a stand-in", Unit::Count, false),
            m("repairs", "Read repairs sent", Unit::Count, false),
            m("disagreed", "Reads whose replicas disagreed", Unit::Count, false),
            m("handed_off", "Hints handed back", Unit::Count, false),
            m("synced", "Versions copied by anti-entropy", Unit::Count, false),
            m("divergent", "Keys whose replicas disagree now", Unit::Count, true),
            m("siblings_per_read", "Version vectors: siblings per read (mean)", Unit::Ratio, true),
            m("max_siblings", "Version vectors: most siblings in one read", Unit::Count, false),
            m("merges", "Version vectors: merges written back", Unit::Count, false),
        ]);
        out
    }

    fn observe(t: &mut QuorumTracker, sim: &Sim<Self>) {
        t.vectors = sim.protocol_config().versions == Versions::Vectors;
        let clients = sim.clients();
        let finished = clients.kv_finished();
        if finished > t.cursor {
            let recs: Vec<crate::sim::KvRecord> = clients.kv_since(t.cursor).copied().collect();
            for rec in &recs {
                t.take(rec);
            }
            t.cursor = finished;
        }
        t.said = None;
        let name = |n: &u32| format!("S{}", n + 1);
        for ev in sim.last_events() {
            let TraceEvent::Note { node, note, .. } = ev else { continue };
            if let QuorumNote::WriteAcked { key, ver, .. } = note {
                t.written(*key, *ver);
                let dot = (*key, ver.node, ver.n);
                if ver.n > 0 && !t.seen.contains(&dot) {
                    t.unseen.insert(dot);
                }
            }
            match note {
                QuorumNote::WriteAcked { key, sloppy: true, .. } => {
                    t.sloppy_writes += 1;
                    t.said = Some(format!(
                        "{} acknowledged a write of key {key} counting a stand-in: a sloppy quorum, not W of the key's replicas",
                        name(node)
                    ));
                }
                QuorumNote::Repaired { key, replicas } => {
                    t.repairs += u64::from(*replicas);
                    t.said = Some(format!(
                        "{} repaired key {key} on {replicas} replicas that answered an older version",
                        name(node)
                    ));
                }
                QuorumNote::ReadDisagreed { key, behind } => {
                    t.disagreed += 1;
                    t.said.get_or_insert(format!(
                        "{} read key {key}: {behind} of the replicas that answered held an older version",
                        name(node)
                    ));
                }
                QuorumNote::HandedOff { key, to } => {
                    t.handed_off += 1;
                    t.said = Some(format!("{} handed key {key}'s hint back to {}", name(node), name(to)));
                }
                QuorumNote::Synced { copied } => t.synced += u64::from(*copied),
                QuorumNote::ReadSiblings { key, siblings } => {
                    t.sibling_reads += 1;
                    t.siblings_seen += siblings.len() as u64;
                    t.max_siblings = t.max_siblings.max(siblings.len() as u64);
                    for v in siblings {
                        t.unseen.remove(&(*key, v.node, v.n));
                        t.seen.insert((*key, v.node, v.n));
                    }
                }
                QuorumNote::Merged { key, siblings, value } => {
                    t.merges += 1;
                    t.said = Some(format!(
                        "{} read {siblings} siblings of key {key}: the client merged them into {value} and writes it back with their version vector",
                        name(node)
                    ));
                }
                _ => {}
            }
        }
    }

    fn tracker_bytes(t: &QuorumTracker) -> usize {
        use std::mem::size_of;
        t.acked.iter().map(|a| size_of::<Vec<Acked>>() + a.capacity() * size_of::<Acked>()).sum::<usize>()
            + t.writes.distinct_values() * 8
            + (t.unseen.len() + t.seen.len()) * 40
            + t.newest.capacity() * size_of::<Option<Version>>()
            + t.recent.capacity() * 4
    }

    fn lab_view(t: &QuorumTracker, sim: &Sim<Self>) -> Option<Vec<u8>> {
        let view = view::build(sim, &t.watched(sim.protocol_config().keys()), &t.newest);
        bincode::serialize(&view).ok()
    }

    fn narrate(t: &QuorumTracker, _: &Sim<Self>) -> Option<String> {
        t.said.clone()
    }

    fn metrics(t: &QuorumTracker, sim: &Sim<Self>, out: &mut Vec<f64>) {
        let w = |q: f64| t.write_latency(q).map_or(f64::NAN, |v| v as f64);
        out.extend([t.reads_measured as f64, t.k_fresh(1), t.k_fresh(2), t.k_fresh(3)]);
        out.extend((0..6).map(|i| t.t_visible(i)));
        let hints: usize = sim.nodes().iter().map(|n| n.state.hints().len()).sum();
        out.extend([
            t.lost(sim) as f64,
            w(0.5),
            w(0.99),
            hints as f64,
            t.sloppy_writes as f64,
            t.repairs as f64,
            t.disagreed as f64,
            t.handed_off as f64,
            t.synced as f64,
            divergent_keys(sim) as f64,
            t.siblings_per_read(),
            t.max_siblings as f64,
            t.merges as f64,
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shared parameters are taken by position: this says which.
    #[test]
    fn the_shared_parameters_are_the_ones_meant() {
        let names: Vec<&str> = NETWORK_PARAMS.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "latency_min",
                "latency_max",
                "tail",
                "tail_max",
                "loss",
                "duplicate",
                "reorder",
                "drift",
                "jitter",
                "request_rate",
                "client_timeout",
                "read_share",
                "check_history"
            ]
        );
    }
}
