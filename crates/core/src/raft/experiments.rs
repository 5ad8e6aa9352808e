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
//!
//! Each range runs twice: with exact timers, and with timer jitter
//! ([`crate::sim::TimerJitter`]: every timer a server arms fires late by a
//! uniform 0–15 ms, [`PAPER_JITTER`]). The paper's servers were real
//! machines: its broadcast time of "roughly 15ms" (§9.3) on a local network
//! is mostly each server's own work (§5.6: 0.5–20 ms "depending on storage
//! technology", since a server persists its term and vote before it
//! answers or asks for votes), and that work takes a different time on
//! every server and every time. So a real server acts anywhere from at once
//! to about one broadcast time after its timer's deadline; 0–15 ms of
//! jitter is that noise. With exact timers, the 150–155 ms line splits
//! votes for seconds (a median near 1.8 s, where the paper measured
//! 287 ms); with the jitter its median falls to the paper's range. What
//! jitter does not reproduce: it is itself randomness, so with it 150–150
//! elects too, where the paper's 150–150 took over 10 s in every trial;
//! in this model that needs noise under about 1 ms, at which 150–155 still
//! takes seconds. docs/benchmarks.md has the figures. The noise must be
//! each server's own: when every server drew from one stream (tried by
//! breaking that on purpose), the 150–155 line's median stayed near 1.9 s.

use crate::chart::{Axis, Chart, Mark, Point, Series};
use crate::lab::{Cell, Column, ExpArg, ExpArgs, Experiment, RunExperiment, Table};
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
/// 12–24 ms (below the broadcast time) suffering split votes again. Each
/// range is run with exact timers and with [`PAPER_JITTER`], the noise of
/// the paper's real servers (see the module's doc): with it, 150–155 ms
/// elects in a few hundred ms, as the paper's 287 ms median.
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
        ExpArg {
            name: "jitter",
            help: "timer jitter of each line in ms (every timer late by 0 to this), comma-separated; 0: exact timers",
            default: "0,15",
        },
    ],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// The timer jitter that matches the paper's servers: each timer late by up
/// to one broadcast time, "roughly 15ms" in §9.3 (see the module's doc).
pub const PAPER_JITTER: Time = 15 * MS;

/// Raft's experiments, as its lab lists them.
pub static EXPERIMENTS: &[Experiment] = &[FIGURE16];

/// How each experiment runs (the lab's [`crate::lab::Engine::runs`]).
pub static RUNS: &[(&str, RunExperiment)] = &[("fig16", run_figure16)];

fn run_figure16(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let runs = args.count("runs", 1, 1_000_000)?;
    let ranges = parse_ranges(args)?;
    let jitters = parse_jitters(args)?;
    let mut table = Table::new(
        format!(
            "Time to elect a new leader after the leader crashes (5 servers, one-way latency 6-9 ms, {runs} runs each)"
        ),
        vec![
            Column::text("timeout (ms)"),
            Column::text("timers"),
            Column::number("p10", "ms", 1).lower(),
            Column::number("p50", "ms", 1).lower(),
            Column::number("p90", "ms", 1).lower(),
            Column::number("p99", "ms", 1).lower(),
            Column::number("max", "ms", 1).lower(),
            Column::number("unfinished", "", 0).lower(),
        ],
    );
    let rows: Vec<ElectionTimes> = ranges.iter().flat_map(|&range| figure16(&[range], &jitters, runs)).collect();
    table.chart = Some(figure16_cdf(&rows, runs));
    for row in rows {
        table.runs.push(Some(figure16_run(row.timeout_min, row.timeout_max, row.jitter)));
        let ms = |p: f64| Cell::opt(row.percentile(p).map(|t| t as f64 / 1e3));
        let timers = timers_name(row.jitter);
        table.push(vec![
            Cell::text(format!("{}-{}", row.timeout_min / MS, row.timeout_max / MS)),
            Cell::text(timers),
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
    table.note("Timers: exact, or with jitter (every timer a server arms fires late by a random 0 to J ms, a fresh draw each time, per server).");
    table.note("Expected, from the Raft paper's Figure 16: a few ms of randomness avoids split votes; a smaller minimum timeout elects sooner.");
    table.note("The paper's servers were real machines (broadcast time about 15 ms, mostly their own disk writes): jitter 0-15 ms is that noise, and brings 150-155 ms near the paper's 287 ms median.");
    Ok(table)
}

/// How a line's timers are named: exact, or with their jitter.
fn timers_name(jitter: Time) -> String {
    match jitter {
        0 => "exact".to_string(),
        // f64 writes 15.0 as "15" and 0.5 as "0.5".
        j => format!("jitter 0-{} ms", j as f64 / 1e3),
    }
}

/// Figure 16 as the paper draws it: per timeout range (and timers), the
/// fraction of runs that elected a new leader within each time (a CDF
/// through the measured percentiles, reaching the share of runs that
/// finished).
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
        let name = format!("{}-{} ms, {}", row.timeout_min / MS, row.timeout_max / MS, timers_name(row.jitter));
        chart.series.push(Series { name, mark: Mark::Line, points });
    }
    chart
}

/// One run of a Figure 16 row as a scenario a user can play: the cluster
/// and network of the experiment, S1 leading, S1 crashing at 1 s.
fn figure16_run(timeout_min: Time, timeout_max: Time, jitter: Time) -> String {
    let d = format_duration;
    let jitter = if jitter > 0 { format!("jitter {}\n", d(jitter)) } else { String::new() };
    format!(
        "# Figure 16, one run: election timeout {}-{}; the leader S1 crashes at 1 s.\nlab raft\nseed 0\nheartbeat {}\nlatency_min 6ms\nlatency_max 9ms\nrequest_rate 0\nelection_timeout_min {}\nelection_timeout_max {}\n{jitter}at 0s timeout S1\nat 1s crash S1\nuntil 3s\n",
        d(timeout_min),
        d(timeout_max),
        d((timeout_min / 2).max(1)),
        d(timeout_min),
        d(timeout_max)
    )
}

/// Reads the `ranges` argument: timeout ranges in ms, `MIN-MAX`.
fn parse_ranges(args: &ExpArgs) -> Result<Vec<(u64, u64)>, String> {
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
    Ok(ranges)
}

/// Reads the `jitter` argument: timer jitters in ms (decimals allowed, to
/// the µs), each a line of the table.
fn parse_jitters(args: &ExpArgs) -> Result<Vec<Time>, String> {
    let mut jitters = Vec::new();
    for j in args.list("jitter") {
        let us = j.trim().parse::<f64>().ok().filter(|v| (0.0..=10_000.0).contains(v)).map(|v| (v * 1e3).round());
        match us {
            Some(us) if !jitters.contains(&(us as Time)) => jitters.push(us as Time),
            Some(_) => return Err(format!("jitter: {j} ms is given twice")),
            None => {
                return Err(format!(
                    "jitter: '{j}' is not a timer jitter: write it in ms, from 0 (exact timers) to 10000, like 15"
                ))
            }
        }
    }
    if jitters.is_empty() {
        return Err("jitter: give at least one value in ms, like 0,15 (0: exact timers)".into());
    }
    Ok(jitters)
}

/// The measured time to elect, for one timeout range.
#[derive(Clone, Debug, PartialEq)]
pub struct ElectionTimes {
    /// Smallest election timeout.
    pub timeout_min: Time,
    /// Largest election timeout.
    pub timeout_max: Time,
    /// Timer jitter: every timer late by up to this (0: exact timers).
    pub jitter: Time,
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
/// elected within [`LIMIT`], with every timer late by up to `jitter`
/// (0: exact timers).
pub fn election_after_crash(timeout_min: Time, timeout_max: Time, jitter: Time, seed: u64) -> Option<Time> {
    let config = SimConfig {
        nodes: 5,
        seed,
        net: NetConfig { latency_min: 6 * MS, latency_max: 9 * MS, ..NetConfig::default() },
        timer_jitter_max: jitter,
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

/// Runs `runs` seeded trials (seeds `0..runs`) for each range and each
/// timer jitter, ranges outside, jitters inside: one line per pair.
pub fn figure16(ranges: &[(u64, u64)], jitters: &[Time], runs: u64) -> Vec<ElectionTimes> {
    let mut lines = Vec::new();
    for &(lo, hi) in ranges {
        for &jitter in jitters {
            let (lo, hi) = (lo * MS, hi * MS);
            let mut times = Vec::new();
            let mut unfinished = 0;
            for seed in 0..runs {
                match election_after_crash(lo, hi, jitter, seed) {
                    Some(t) => times.push(t),
                    None => unfinished += 1,
                }
            }
            times.sort_unstable();
            lines.push(ElectionTimes { timeout_min: lo, timeout_max: hi, jitter, times, unfinished });
        }
    }
    lines
}
