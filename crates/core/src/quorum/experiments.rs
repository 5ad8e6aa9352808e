//! The quorum lab's experiments: named runs that produce a table.
//!
//! [`TRADEOFF`] is the latency–consistency trade-off over (R, W) for a
//! given N, as in the tables of Bailis et al. (VLDB 2012, §5): for each
//! pair, the staleness the closed form predicts and the staleness measured
//! when reads pick R replicas at random and writes reach exactly W, then,
//! with Dynamo's fan-out (every replica asked, the first answers taken) on
//! a network with a long tail, k-staleness, t-visibility within 10 ms and
//! the read and write p99. [`VISIBILITY`] is the t-visibility curve of a
//! few (R, W) pairs. [`ANTI_ENTROPY`] is staleness over the anti-entropy
//! period, with a chart.

use super::pbs;
use crate::chart::{Axis, Chart, Mark, Point, Series};
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

/// Staleness over the anti-entropy rate.
pub const ANTI_ENTROPY: Experiment = Experiment {
    name: "antientropy",
    about: "Staleness over the anti-entropy period: the share of stale reads when writes reach only W replicas and anti-entropy is the only repair",
    args: &[ExpArg { name: "seconds", help: "seconds of virtual time per run (50 requests a second)", default: "60" }],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// The anti-entropy periods the experiment runs, in ms.
pub const PERIODS_MS: [u64; 8] = [5, 10, 20, 50, 100, 200, 500, 1_000];

fn run_anti_entropy(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let seconds = args.count("seconds", 1, 600)?;
    let quorums = [(1, 1), (1, 2)];
    let mut table = Table::new(
        format!("Stale reads over the anti-entropy period, N = 3, 5 servers, one key, 50 requests a second, half reads, {seconds} s a run"),
        vec![
            Column::number("anti-entropy period", "ms", 0),
            Column::number("stale, R = 1, W = 1", "%", 1).lower(),
            Column::number("stale, R = 1, W = 2", "%", 1).lower(),
            Column::number("versions copied, R = 1, W = 1", "", 0),
        ],
    );
    let mut chart = Chart::new(
        "Stale reads over the anti-entropy period (N = 3, reads of R random replicas, writes to W)",
        Axis::new("anti-entropy period", "ms"),
        Axis::new("stale reads", "%"),
    );
    let mut series: Vec<Vec<Point>> = vec![Vec::new(); quorums.len()];
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for period in PERIODS_MS.iter().map(|&p| Some(p)).chain([None]) {
        let extra = match period {
            Some(p) => format!("{CLOSED_FORM}anti_entropy {p}ms\n"),
            None => CLOSED_FORM.to_string(),
        };
        let mut row = vec![period.map_or(Cell::text("never"), |p| Cell::num(p as f64))];
        let mut copied = f64::NAN;
        for (i, &(r, w)) in quorums.iter().enumerate() {
            let text = scenario(3, r, w, 50, seconds, &extra);
            let m = run(&text)?;
            let stale = 100.0 * (1.0 - metric(&m, "fresh_k1"));
            row.push(Cell::num(stale));
            if let Some(p) = period {
                series[i].push(Point::new(p as f64, stale));
            }
            if i == 0 {
                copied = metric(&m, "synced");
                table.runs.push(Some(text));
            }
        }
        row.push(Cell::num(copied));
        rows.push(row);
    }
    for row in rows {
        table.push(row);
    }
    for (i, &(r, w)) in quorums.iter().enumerate() {
        chart.series.push(Series {
            name: format!("R = {r}, W = {w}"),
            mark: Mark::Line,
            points: std::mem::take(&mut series[i]),
        });
        let never = 100.0 * pbs::p_stale(3, r, w);
        chart.series.push(Series {
            name: format!("R = {r}, W = {w}, no anti-entropy (closed form)"),
            mark: Mark::Line,
            points: vec![
                Point::new(PERIODS_MS[0] as f64, never),
                Point::new(PERIODS_MS[PERIODS_MS.len() - 1] as f64, never),
            ],
        });
    }
    table.chart = Some(chart);
    table.note("stale: the share of reads that missed the newest write acknowledged before they began (1 - k-staleness at k = 1). Reads ask R replicas chosen at random, writes reach W chosen at random and no others, no read repair: anti-entropy is the only way a write reaches the other replicas (Dynamo, SOSP 2007, §4.7; Bailis et al., VLDB 2012, §4 on anti-entropy and staleness).");
    table.note("Each server, once a period, swaps its versions of the keys it shares with a random replica peer, and both keep the newer. The flat lines: the closed form without anti-entropy, C(N-W, R) / C(N, R) (Bailis et al. §3.2), which the longest periods approach.");
    Ok(table)
}

/// The quorum lab's experiments.
pub static EXPERIMENTS: &[Experiment] = &[TRADEOFF, VISIBILITY, ANTI_ENTROPY];

/// How each runs.
pub static RUNS: &[(&str, RunExperiment)] =
    &[("tradeoff", run_tradeoff), ("visibility", run_visibility), ("antientropy", run_anti_entropy)];

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
    let mut chart = Chart::new(
        format!("Stale reads over (R, W), N = {n}: the closed form beside the lab"),
        Axis::new("quorums", ""),
        Axis::new("stale reads", "%"),
    );
    let (mut closed_pts, mut measured_pts, mut dynamo_pts) = (Vec::new(), Vec::new(), Vec::new());
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
            let x = chart.categories.len() as f64;
            chart.categories.push(format!("R={r} W={w}"));
            closed_pts.push(Point::new(x, 100.0 * pbs::p_stale(n, r, w)));
            measured_pts.push(Point::new(x, 100.0 * (1.0 - metric(&closed, "fresh_k1"))));
            dynamo_pts.push(Point::new(x, 100.0 * (1.0 - metric(&dynamo, "fresh_k1"))));
        }
    }
    for (name, points) in [
        ("closed form (R random, W random)", closed_pts),
        ("measured (R random, W random)", measured_pts),
        ("measured, all replicas asked, long tail", dynamo_pts),
    ] {
        chart.series.push(Series { name: name.into(), mark: Mark::Bars, points });
    }
    table.chart = Some(chart);
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
    // The bars are the share of reads that saw the write, one bar per
    // time since it was acknowledged.
    table.chart = table.chart().map(|mut chart| {
        chart.y = crate::chart::Axis::new("reads that saw the write", "%");
        chart
    });
    table.note("Each cell: of the reads issued that long after the last acknowledged write of their key, the share that returned it or a newer version (Bailis et al., VLDB 2012, §4: t-visibility).");
    table.note("Writes go to all three replicas, reads ask all three and take the first R answers; no repair. R + W > N sees every write at once; smaller quorums catch up as the write reaches the other replicas.");
    Ok(table)
}
