//! The quorum lab's experiments: named runs that produce a table.
//!
//! [`TRADEOFF`] is the latency–consistency trade-off over (R, W) for a
//! given N, as in the tables of Bailis et al. (VLDB 2012, §5): for each
//! pair, the staleness the closed form predicts and the staleness measured
//! when reads pick R replicas at random and writes reach exactly W, then,
//! with Dynamo's fan-out (every replica asked, the first answers taken) on
//! a network with a long tail, k-staleness, t-visibility within 10 ms and
//! the read and write p99. [`VISIBILITY`] is the t-visibility curve of a
//! few (R, W) pairs.

use super::pbs;
use crate::lab::{Cell, Column, ExpArg, ExpArgs, Experiment, Lab, RunExperiment, Table};
use crate::scenario::Scenario;

/// The latency–consistency trade-off over (R, W).
pub const TRADEOFF: Experiment = Experiment {
    name: "tradeoff",
    about: "Staleness and latency over (R, W): the closed form against the lab, then Dynamo's fan-out on a long-tailed network",
    args: &[
        ExpArg { name: "n", help: "replicas per key (N, 1 to 5)", default: "3" },
        ExpArg { name: "seconds", help: "seconds of virtual time per run (200 requests a second; the closed form's runs: 50 a second, six times as long)", default: "20" },
    ],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// The t-visibility curve.
pub const VISIBILITY: Experiment = Experiment {
    name: "visibility",
    about: "t-visibility: the share of reads issued t after a write that see it, over t, for a few (R, W) on N = 3",
    args: &[ExpArg { name: "seconds", help: "seconds of virtual time per run (200 requests a second)", default: "20" }],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// The quorum lab's experiments.
pub static EXPERIMENTS: &[Experiment] = &[TRADEOFF, VISIBILITY];

/// How each runs.
pub static RUNS: &[(&str, RunExperiment)] = &[("tradeoff", run_tradeoff), ("visibility", run_visibility)];

/// A run of the lab: 5 servers, one key, reads and writes at `rate` a
/// second, half reads, no repair; `extra` adds lines.
pub fn scenario(n: u32, r: u32, w: u32, rate: u64, seconds: u64, extra: &str) -> String {
    format!(
        "# N = {n}, R = {r}, W = {w}\nlab quorum\nseed 1\nnodes 5\nreplicas {n}\nr {r}\nw {w}\nkeys 1\nrequest_rate {rate}\ncheck_history off\n{extra}until {seconds}s\n"
    )
}

/// Runs a scenario's text and returns its metrics by name.
pub fn run(text: &str) -> Result<Vec<(String, f64)>, String> {
    let scn = Scenario::parse(text).map_err(|e| e.to_string())?;
    let mut lab = Lab::replay(&scn).map_err(|e| e.to_string())?;
    Ok(lab.metrics().into_iter().map(|(m, v)| (m.name, v)).collect())
}

/// A metric by name (NaN if absent).
pub fn metric(m: &[(String, f64)], name: &str) -> f64 {
    m.iter().find(|(n, _)| n == name).map_or(f64::NAN, |(_, v)| *v)
}

/// The lines that make reads pick R replicas at random and writes reach
/// exactly W: the setting of the closed form. Links of 1-2 ms, against
/// 20 ms on average between two commands (50 a second), keep reads from
/// overlapping writes, as the closed form assumes (a read that overlaps a
/// write may see it before it is acknowledged).
pub const CLOSED_FORM: &str = "read_fanout quorum\nwrite_fanout quorum\nlatency_min 1ms\nlatency_max 2ms\n";

/// Dynamo's fan-out on a network whose delays have a long tail: 10-20 ms,
/// and one message in ten up to 100 ms later.
pub const LONG_TAIL: &str = "tail 10%\ntail_max 100ms\n";

fn run_tradeoff(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let n = args.count("n", 1, 5)? as u32;
    let seconds = args.count("seconds", 1, 600)?;
    let mut table = Table::new(
        format!("Staleness and latency over (R, W), N = {n}, 5 servers, one key, 200 requests a second, half reads, {seconds} s a run"),
        vec![
            Column::number("R", "", 0),
            Column::number("W", "", 0),
            Column::text("R + W > N"),
            Column::number("stale (closed form)", "%", 1),
            Column::number("stale (measured)", "%", 1),
            Column::number("fresh k=1 (all replicas asked)", "%", 1).higher(),
            Column::number("visible 10-20 ms after", "%", 1).higher(),
            Column::number("read p99", "ms", 1).lower(),
            Column::number("write p99", "ms", 1).lower(),
        ],
    );
    let pct = |v: f64| Cell::num(v * 100.0);
    for r in 1..=n {
        for w in 1..=n {
            let closed = run(&scenario(n, r, w, 50, seconds * 6, CLOSED_FORM))?;
            let dynamo_text = scenario(n, r, w, 200, seconds, LONG_TAIL);
            let dynamo = run(&dynamo_text)?;
            table.push(vec![
                Cell::num(f64::from(r)),
                Cell::num(f64::from(w)),
                Cell::text(if r + w > n { "yes" } else { "no" }),
                pct(pbs::p_stale(n, r, w)),
                pct(1.0 - metric(&closed, "fresh_k1")),
                pct(metric(&dynamo, "fresh_k1")),
                pct(metric(&dynamo, "visible_10")),
                Cell::num(metric(&dynamo, "read_p99") / 1e3),
                Cell::num(metric(&dynamo, "write_p99") / 1e3),
            ]);
            table.runs.push(Some(dynamo_text));
        }
    }
    table.note("stale (closed form): C(N-W, R) / C(N, R) (Bailis et al., VLDB 2012, §3.2), the chance a read of R random replicas misses the W a write reached.");
    table.note("stale (measured): the share of reads that missed the newest write acknowledged before they began, with reads sent to R random replicas, writes to W random replicas, no repair, no anti-entropy, on 1-2 ms links at 50 commands a second, so that reads and writes seldom overlap (the closed form's setting).");
    table.note("The other columns ask every replica and take the first R answers (writes: first W acknowledgements), on 10-20 ms links with one message in ten up to 100 ms later: the trade-off a Dynamo-style store offers. visible 10-20 ms after: of the reads issued 10 to 20 ms after the last acknowledged write of their key, the share that saw it (t-visibility).");
    table.note("A latency of 0: the coordinator is itself a replica and its own answer (or acknowledgement) was enough; with N = 5 on 5 servers every coordinator is one.");
    Ok(table)
}

fn run_visibility(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let seconds = args.count("seconds", 1, 600)?;
    let mut table = Table::new(
        format!("t-visibility on N = 3, 5 servers, long-tailed links, {seconds} s a run"),
        vec![
            Column::text("quorums"),
            Column::number("0-5 ms", "%", 1).higher(),
            Column::number("5-10 ms", "%", 1).higher(),
            Column::number("10-20 ms", "%", 1).higher(),
            Column::number("20-50 ms", "%", 1).higher(),
            Column::number("50-100 ms", "%", 1).higher(),
            Column::number("100 ms +", "%", 1).higher(),
        ],
    );
    for (r, w) in [(1, 1), (1, 2), (2, 1), (2, 2)] {
        let text = scenario(3, r, w, 200, seconds, LONG_TAIL);
        let m = run(&text)?;
        let mut row = vec![Cell::text(format!("R = {r}, W = {w}"))];
        for name in ["visible_0", "visible_5", "visible_10", "visible_20", "visible_50", "visible_100"] {
            row.push(Cell::opt(Some(metric(&m, name) * 100.0).filter(|v| v.is_finite())));
        }
        table.push(row);
        table.runs.push(Some(text));
    }
    table.note("Each cell: of the reads issued that long after the last acknowledged write of their key, the share that returned it or a newer version (Bailis et al., VLDB 2012, §4: t-visibility).");
    table.note("Writes go to all three replicas, reads ask all three and take the first R answers; no repair. R + W > N sees every write at once; smaller quorums catch up as the write reaches the other replicas.");
    Ok(table)
}
