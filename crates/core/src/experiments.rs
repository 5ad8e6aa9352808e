//! Experiments that reproduce published measurements with many seeded runs.
//!
//! [`figure16`] repeats the experiment behind Figure 16 of the Raft paper
//! (Ongaro & Ousterhout, extended version, §9.3): in a five-server cluster,
//! crash the leader at a uniformly random moment within its heartbeat
//! interval (half the minimum election timeout) and measure how long the
//! cluster takes to elect a new leader, for several election timeout ranges.
//! The paper's message: a little randomness (a range of 5 ms or more) avoids
//! split votes, and the time to elect shrinks with the minimum timeout.
//! Here one-way latency is 6–9 ms, so a round trip is close to the paper's
//! broadcast time of about 15 ms.
//!
//! [`paxos_beside_raft`] runs one cluster, network, fault schedule and
//! client load on Multi-Paxos and on Raft and compares what it costs.

use crate::lab::Lab;
use crate::raft::{RaftConfig, RaftNode, RaftNote, Role};
use crate::scenario::{Action, Scenario, ScenarioError};
use crate::sim::{Fault, NetConfig, NodeStatus, Rng, Sim, SimConfig, StreamKind, Time, TraceEvent, MS, SEC};

/// The measured time to elect, for one timeout range.
#[derive(Clone, Debug, PartialEq)]
pub struct ElectionTimes {
    /// Smallest election timeout.
    pub timeout_min: Time,
    /// Largest election timeout.
    pub timeout_max: Time,
    /// Time from the crash to the next leader, sorted, one per run that
    /// elected a leader within the limit.
    pub times: Vec<Time>,
    /// Runs that elected no leader within the limit.
    pub unfinished: usize,
}

impl ElectionTimes {
    /// The `p`-th percentile (0–100) of the times, if any.
    pub fn percentile(&self, p: f64) -> Option<Time> {
        if self.times.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.times.len() as f64).ceil() as usize;
        Some(self.times[rank.clamp(1, self.times.len()) - 1])
    }
}

/// Longest time waited for a new leader in one run.
pub const LIMIT: Time = 10 * SEC;

/// One run: time from crashing the leader to the next leader, if one is
/// elected within [`LIMIT`].
pub fn election_after_crash(timeout_min: Time, timeout_max: Time, seed: u64) -> Option<Time> {
    let config = SimConfig {
        nodes: 5,
        seed,
        net: NetConfig { latency_min: 6 * MS, latency_max: 9 * MS, ..NetConfig::default() },
        trace_window: 0,
        ..SimConfig::default()
    };
    let heartbeat = (timeout_min / 2).max(1);
    let raft = RaftConfig {
        election_timeout_min: timeout_min,
        election_timeout_max: timeout_max,
        heartbeat,
        ..RaftConfig::default()
    };
    let mut sim: Sim<RaftNode> = Sim::new(config, raft);
    // S1 starts an election at once, so even identical timeouts (150-150)
    // get a first leader; then let it settle.
    sim.force_timeout(0);
    let mut t = 0;
    let leader = loop {
        t += 100 * MS;
        sim.run_until(t);
        let leader = sim.nodes().iter().position(|n| n.status == NodeStatus::Up && n.state.role() == Role::Leader);
        if let Some(l) = leader {
            if t >= 2 * timeout_max {
                break l as u32;
            }
        }
        if t > LIMIT {
            return None;
        }
    };
    let mut rng = Rng::stream(seed, StreamKind::Lab, 16);
    let crash_at = sim.now() + rng.range(0, heartbeat);
    sim.run_until(crash_at);
    // The leader may have changed in the meantime; crash whoever leads now.
    let leader = sim
        .nodes()
        .iter()
        .position(|n| n.status == NodeStatus::Up && n.state.role() == Role::Leader)
        .map_or(leader, |l| l as u32);
    sim.inject(Fault::Crash(leader));
    let start = sim.now();
    while sim.step() {
        if sim.now() - start > LIMIT {
            return None;
        }
        let elected = sim.last_events().iter().any(
            |e| matches!(e, TraceEvent::Note { node, note: RaftNote::BecameLeader { .. }, .. } if *node != leader),
        );
        if elected {
            return Some(sim.now() - start);
        }
    }
    None
}

/// The timeout ranges of Figure 16, top (randomness) and bottom (scale), in ms.
pub const FIGURE16_RANGES: &[(u64, u64)] = &[
    (150, 150),
    (150, 151),
    (150, 155),
    (150, 175),
    (150, 200),
    (150, 300),
    (12, 24),
    (25, 50),
    (50, 100),
    (100, 200),
];

/// Runs `runs` seeded trials for each range (seeds `0..runs`).
pub fn figure16(ranges: &[(u64, u64)], runs: u64) -> Vec<ElectionTimes> {
    ranges
        .iter()
        .map(|&(lo, hi)| {
            let (lo, hi) = (lo * MS, hi * MS);
            let mut times = Vec::new();
            let mut unfinished = 0;
            for seed in 0..runs {
                match election_after_crash(lo, hi, seed) {
                    Some(t) => times.push(t),
                    None => unfinished += 1,
                }
            }
            times.sort_unstable();
            ElectionTimes { timeout_min: lo, timeout_max: hi, times, unfinished }
        })
        .collect()
}

/// One protocol's line in [`paxos_beside_raft`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BesideRow {
    /// "Multi-Paxos" or "Raft".
    pub protocol: String,
    /// Client commands committed.
    pub committed: u64,
    /// Client commands made.
    pub requests: u64,
    /// Messages sent per committed command.
    pub msgs_per_commit: f64,
    /// Commit latency, 50th percentile, microseconds (NaN: none committed).
    pub commit_p50: f64,
    /// Commit latency, 99th percentile, microseconds.
    pub commit_p99: f64,
    /// Time without a leader, microseconds.
    pub leaderless: f64,
    /// Leaders elected.
    pub leaders: f64,
    /// The fingerprint of the run (each can be opened on its own).
    pub fingerprint: u64,
    /// The scenario that ran, as text.
    pub scenario: String,
}

/// Paxos beside Raft: the same cluster size, network, fault schedule and
/// client load run on Multi-Paxos (every server a proposer and an acceptor)
/// and on Raft, and the figures that compare them. `scn` may be either
/// lab's scenario; its seed, server count, network and client settings,
/// faults and requests carry over. To compare like with like, both wait a
/// random 150–300 ms without a leader before trying to lead (Raft's default
/// election timeout; Paxos's leader timeout of 150 ms, randomised up to
/// twice), both leaders send heartbeats every 50 ms, and S1 tries to lead
/// first in both (`at 0s timeout S1`), so a fault on S1 hits each leader.
pub fn paxos_beside_raft(scn: &Scenario) -> Result<Vec<BesideRow>, ScenarioError> {
    use crate::scenario::params::NETWORK;
    let n = scn.nodes();
    let mut paxos = Scenario::new(crate::paxos::lab::kind(), scn.seed);
    let mut raft = Scenario::new(crate::raft::lab::kind(), scn.seed);
    let invalid = |e: String| ScenarioError::Invalid(e);
    for (s, settings) in [
        (
            &mut paxos,
            vec![
                ("mode", 1),
                ("proposers", i64::from(n)),
                ("acceptors", i64::from(n)),
                ("colocated", 1),
                ("leader_timeout", 150_000),
                ("heartbeat", 50_000),
            ],
        ),
        (
            &mut raft,
            vec![
                ("nodes", i64::from(n)),
                ("election_timeout_min", 150_000),
                ("election_timeout_max", 300_000),
                ("heartbeat", 50_000),
            ],
        ),
    ] {
        for (name, v) in settings {
            s.set(name, v).map_err(invalid)?;
        }
        for p in NETWORK {
            s.set(p.name, scn.get(p.name)).map_err(invalid)?;
        }
        s.actions = std::iter::once(crate::scenario::Timed { at: 0, action: Action::Lab("timeout S1".into()) })
            .chain(scn.actions.iter().cloned())
            .collect();
        s.until = scn.until;
        s.title = format!("{} beside {}", s.lab.name(), if s.lab.name() == "raft" { "paxos" } else { "raft" });
    }
    let mut rows = Vec::new();
    for (name, s) in [("Multi-Paxos", &paxos), ("Raft", &raft)] {
        let mut lab = Lab::replay(s)?;
        let metrics = lab.metrics();
        let get = |m: &str| metrics.iter().find(|(spec, _)| spec.name == m).map_or(f64::NAN, |(_, v)| *v);
        let c = lab.counters();
        rows.push(BesideRow {
            protocol: name.into(),
            committed: c.committed,
            requests: c.requests,
            msgs_per_commit: if c.committed > 0 { c.sent as f64 / c.committed as f64 } else { f64::NAN },
            commit_p50: get("commit_p50"),
            commit_p99: get("commit_p99"),
            leaderless: get("leaderless"),
            leaders: get("leaders_elected"),
            fingerprint: lab.fingerprint(),
            scenario: s.to_text(),
        });
    }
    Ok(rows)
}

/// What dueling proposers cost, over many seeded runs of single-decree
/// Paxos: see [`paxos_duel`].
#[derive(Clone, Debug, PartialEq)]
pub struct DuelCost {
    /// Competing proposers.
    pub proposers: u32,
    /// Whether they back off (10–100 ms) after a rejection.
    pub backoff: bool,
    /// Protocol messages (prepare, promise, accept, accepted, reject,
    /// decide) until the first learner learned the value, per run, sorted.
    pub messages: Vec<u64>,
    /// Phase-1 rounds until then, per run, sorted.
    pub rounds: Vec<u64>,
    /// Runs in which nobody learned a value within [`LIMIT`].
    pub unfinished: usize,
}

impl DuelCost {
    /// The median of a sorted list.
    pub fn median(v: &[u64]) -> Option<u64> {
        (!v.is_empty()).then(|| v[(v.len() - 1) / 2])
    }
}

/// Single-decree Paxos with `proposers` proposers (also acceptors among
/// five), 10–20 ms latency, all starting within 20 ms, with or without
/// back-off: messages and rounds until a value is learned, for seeds
/// `0..runs`.
pub fn paxos_duel(proposers: u32, backoff: bool, runs: u64) -> Result<DuelCost, ScenarioError> {
    use crate::lab::cluster::ClusterLab;
    use crate::paxos::PaxosNode;
    let mut out = DuelCost { proposers, backoff, messages: Vec::new(), rounds: Vec::new(), unfinished: 0 };
    let (lo, hi) = if backoff { ("10ms", "100ms") } else { ("0", "0") };
    for seed in 0..runs {
        let text = format!(
            "lab paxos\nseed {seed}\nproposers {proposers}\nacceptors 5\nbackoff_min {lo}\nbackoff_max {hi}\nrequest_rate 0\n"
        );
        let mut lab = Lab::new(&Scenario::parse(&text)?)?;
        let mut t = 0;
        loop {
            t += 5 * MS;
            lab.run_until(t);
            let Some(p) = lab.model::<ClusterLab<PaxosNode>>() else { break };
            let tr = p.tracker();
            if !tr.learned.is_empty() {
                out.messages.push(tr.protocol_messages);
                out.rounds.push(tr.rounds);
                break;
            }
            if t >= LIMIT || lab.violation().is_some() {
                out.unfinished += 1;
                break;
            }
        }
    }
    out.messages.sort_unstable();
    out.rounds.sort_unstable();
    Ok(out)
}
