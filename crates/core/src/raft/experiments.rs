//! Raft's experiments: named runs that produce a table.
//!
//! [`FIGURE16`] repeats the experiment behind Figure 16 of the Raft paper
//! (Ongaro & Ousterhout, extended version, §9.3): in a five-server cluster,
//! crash the leader at a uniformly random moment within its heartbeat
//! interval (half the minimum election timeout) and measure how long the
//! cluster takes to elect a new leader, for several election timeout ranges.
//! The paper's message: a little randomness (a range of 5 ms or more) avoids
//! split votes, and the time to elect shrinks with the minimum timeout.
//! Here one-way latency is 6–9 ms, so a round trip is close to the paper's
//! broadcast time of about 15 ms.

use crate::chart::{Axis, Chart, Mark, Point, Series};
use crate::lab::{Cell, Column, ExpArg, ExpArgs, Experiment, Table};
use crate::raft::{RaftConfig, RaftNode, RaftNote, Role};
use crate::scenario::Scenario;
use crate::sim::time::format_duration;
use crate::sim::{Fault, NetConfig, NodeStatus, Rng, Sim, SimConfig, StreamKind, Time, TraceEvent, MS, SEC};

/// Figure 16 of the Raft paper (extended version, §9.3): the time to elect
/// a new leader after the leader crashes, for each election timeout range,
/// over seeded runs. The expectation comes from the figure: with no
/// randomness (150–150 ms) or 1 ms of it, split votes drag elections out
/// (here they do not finish in 10 s); 5 ms of randomness already brings the
/// median down a lot, 150–300 ms elects in well under 300 ms in nearly every
/// run; in the lower half, a smaller minimum timeout elects sooner, with
/// 12–24 ms (below the broadcast time) suffering split votes again.
pub const FIGURE16: Experiment = Experiment {
    name: "fig16",
    about: "Raft paper Figure 16: time to elect a new leader after the leader crashes, per election timeout range",
    args: &[
        ExpArg { name: "runs", help: "seeded runs per timeout range (seeds 0..runs)", default: "1000" },
        ExpArg {
            name: "ranges",
            help: "election timeout ranges in ms, MIN-MAX, comma-separated",
            default: "150-150,150-151,150-155,150-175,150-200,150-300,12-24,25-50,50-100,100-200",
        },
    ],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
    run: run_figure16,
};

/// Raft's experiments, as its lab lists them.
pub static EXPERIMENTS: &[Experiment] = &[FIGURE16];

fn run_figure16(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let runs = args.count("runs", 1, 1_000_000)?;
    let mut ranges = Vec::new();
    for r in args.list("ranges") {
        let parsed = r.split_once('-').and_then(|(lo, hi)| Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?)));
        match parsed {
            Some((lo, hi)) if (1..=10_000).contains(&lo) && lo <= hi && hi <= 10_000 => ranges.push((lo, hi)),
            _ => {
                return Err(format!(
                    "ranges: '{r}' is not a timeout range: write MIN-MAX in ms, 1 <= MIN <= MAX <= 10000, like 150-300"
                ))
            }
        }
    }
    if ranges.is_empty() {
        return Err("ranges: give at least one range, like 150-300".into());
    }
    let mut table = Table::new(
        format!(
            "Time to elect a new leader after the leader crashes (5 servers, one-way latency 6-9 ms, {runs} runs each)"
        ),
        vec![
            Column::text("timeout (ms)"),
            Column::number("p10", "ms", 1).lower(),
            Column::number("p50", "ms", 1).lower(),
            Column::number("p90", "ms", 1).lower(),
            Column::number("p99", "ms", 1).lower(),
            Column::number("max", "ms", 1).lower(),
            Column::number("unfinished", "", 0).lower(),
        ],
    );
    let rows = figure16(&ranges, runs);
    table.chart = Some(figure16_cdf(&rows, runs));
    for row in rows {
        table.runs.push(Some(figure16_run(row.timeout_min, row.timeout_max)));
        let ms = |p: f64| Cell::opt(row.percentile(p).map(|t| t as f64 / 1e3));
        table.push(vec![
            Cell::text(format!("{}-{}", row.timeout_min / MS, row.timeout_max / MS)),
            ms(10.0),
            ms(50.0),
            ms(90.0),
            ms(99.0),
            ms(100.0),
            Cell::num(row.unfinished as f64),
        ]);
    }
    table.note(format!(
        "Seeds 0..{runs} for each range; the leader crashes at a random moment within its heartbeat interval (half the minimum timeout)."
    ));
    table.note("Unfinished: runs that elected no leader within 10 s of the crash (split votes without end).");
    table.note("Expected, from the Raft paper's Figure 16: a few ms of randomness avoids split votes; a smaller minimum timeout elects sooner.");
    Ok(table)
}

/// Figure 16 as the paper draws it: per timeout range, the fraction of runs
/// that elected a new leader within each time (a CDF through the measured
/// percentiles, reaching the share of runs that finished).
fn figure16_cdf(rows: &[ElectionTimes], runs: u64) -> Chart {
    let mut chart = Chart::new(
        "Time to elect a new leader after the leader crashes (CDF)",
        Axis::new("time without a leader", "ms"),
        Axis { range: Some((0.0, 100.0)), ..Axis::new("runs elected by then", "%") },
    );
    // A range with no run that elected in time has no line (the table says so).
    for row in rows.iter().filter(|r| !r.times.is_empty()) {
        let share = row.times.len() as f64 / runs.max(1) as f64;
        let points = [0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 100.0]
            .iter()
            .filter_map(|p| row.percentile(*p).map(|t| Point::new(t as f64 / 1e3, p * share)))
            .collect();
        let name = format!("{}-{} ms", row.timeout_min / MS, row.timeout_max / MS);
        chart.series.push(Series { name, mark: Mark::Line, points });
    }
    chart
}

/// One run of a Figure 16 row as a scenario a user can play: the cluster
/// and network of the experiment, S1 leading, S1 crashing at 1 s.
fn figure16_run(timeout_min: Time, timeout_max: Time) -> String {
    let d = format_duration;
    format!(
        "# Figure 16, one run: election timeout {}-{}; the leader S1 crashes at 1 s.\nlab raft\nseed 0\nheartbeat {}\nlatency_min 6ms\nlatency_max 9ms\nrequest_rate 0\nelection_timeout_min {}\nelection_timeout_max {}\nat 0s timeout S1\nat 1s crash S1\nuntil 3s\n",
        d(timeout_min),
        d(timeout_max),
        d((timeout_min / 2).max(1)),
        d(timeout_min),
        d(timeout_max)
    )
}

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
