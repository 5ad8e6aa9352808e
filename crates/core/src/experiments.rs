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

use crate::raft::{RaftConfig, RaftNode, RaftNote, Role};
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
    let raft = RaftConfig { election_timeout_min: timeout_min, election_timeout_max: timeout_max, heartbeat, ..RaftConfig::default() };
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
        let elected = sim
            .last_events()
            .iter()
            .any(|e| matches!(e, TraceEvent::Note { node, note: RaftNote::BecameLeader { .. }, .. } if *node != leader));
        if elected {
            return Some(sim.now() - start);
        }
    }
    None
}

/// The timeout ranges of Figure 16, top (randomness) and bottom (scale), in ms.
pub const FIGURE16_RANGES: &[(u64, u64)] =
    &[(150, 150), (150, 151), (150, 155), (150, 175), (150, 200), (150, 300), (12, 24), (25, 50), (50, 100), (100, 200)];

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
