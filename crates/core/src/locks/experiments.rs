//! The Locks lab's experiments: named runs that produce a table.
//!
//! [`CONTENTION`] runs both strategies over a range of key skews;
//! [`HERD`] counts the messages a release costs under each waiting recipe
//! as the waiters grow.

use super::{LockMsg, LockNode};
use crate::chart::{Axis, Chart, Mark, Point, Series};
use crate::lab::cluster::ClusterLab;
use crate::lab::{Cell, Column, ExpArg, ExpArgs, Experiment, Lab, RunExperiment, Table};
use crate::scenario::Scenario;
use crate::sim::time::format_duration;
use crate::sim::{MS, SEC};

/// Optimistic against pessimistic over the Zipf exponent. What to expect:
/// with little contention optimistic transactions commit in one read and
/// one compare-and-set while pessimistic ones also pay an acquire and a
/// release, so optimistic is ahead; as skew concentrates transactions on a
/// few keys, the chance that another commit lands on the key inside a
/// transaction's window grows and optimistic attempts abort and retry
/// (Kung and Robinson, 1981, §5). Whether that loses depends on what an
/// aborted attempt wastes (Agrawal, Carey and Livny, "Concurrency Control
/// Performance Modeling: Alternatives and Implications", ACM TODS 12(4),
/// 1987): with ample resources only its own client's time, and restarts
/// stay ahead (here `serve=0ms`: optimistic ahead at every skew, pessimistic
/// held back by the hottest key's lock, handed over the network); with a
/// finite resource the retries saturate it and blocking, whose waiters
/// queue at the lock server and cost the storage nothing, wins. Once the
/// storage's line is longer than the resend timeout, requests are also
/// sent again, and a copy that arrives after its first was served is
/// served again: part of what saturates it (`resend=2s` narrows the gap
/// but keeps the crossover). The defaults (200 clients, 1 s think time, a storage serving one request
/// at a time in 2 ms) keep the storage about three-quarters busy on
/// uniform keys, and show the crossover between Zipf 0.9 and 1.05.
pub const CONTENTION: Experiment = Experiment {
    name: "contention",
    about: "Optimistic against pessimistic: throughput and aborts over the Zipf exponent of key popularity",
    args: &[
        ExpArg {
            name: "zipf",
            help: "Zipf exponents, comma-separated (0: uniform)",
            default: "0,0.6,0.9,1.05,1.2,1.5",
        },
        ExpArg { name: "clients", help: "clients (1 to 200)", default: "200" },
        ExpArg { name: "keys", help: "keys (1 to 100000)", default: "1000" },
        ExpArg { name: "think", help: "mean think time between a client's transactions", default: "1s" },
        ExpArg {
            name: "work",
            help: "work between a transaction's read and write (what an abort wastes)",
            default: "50ms",
        },
        ExpArg {
            name: "serve",
            help: "the storage's service time per read or write, one at a time (0: none)",
            default: "2ms",
        },
        ExpArg {
            name: "backoff",
            help: "an optimistic client's first back-off after an abort (doubling)",
            default: "20ms",
        },
        ExpArg { name: "resend", help: "how long a client waits for an answer before sending again", default: "200ms" },
        ExpArg { name: "duration", help: "virtual time each run lasts", default: "20s" },
        ExpArg { name: "seed", help: "the runs' seed", default: "1" },
    ],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// The herd: messages per release as the waiters grow. What to expect
/// (Hunt et al., "ZooKeeper: Wait-free coordination for Internet-scale
/// systems", USENIX ATC 2010, §2.4, "Simple Locks without Herd Effect"):
/// when every waiter watches the lock, a release wakes all W of them and
/// each asks again and is answered: 1 + 3W messages. With sequential
/// nodes each waiter watches its predecessor only, so a release wakes one
/// waiter, which checks and is granted: 4 messages, whatever W.
pub const HERD: Experiment = Experiment {
    name: "herd",
    about: "The herd: messages per release as the waiters grow, naive recipe against ZooKeeper's",
    args: &[
        ExpArg { name: "waiters", help: "numbers of waiters, comma-separated (1 to 199)", default: "1,2,4,8,16,32" },
        ExpArg { name: "duration", help: "virtual time each run lasts", default: "5s" },
    ],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// The lab's experiments, as it lists them.
pub static EXPERIMENTS: &[Experiment] = &[CONTENTION, HERD];

/// How each experiment runs (the lab's [`crate::lab::Engine::runs`]).
pub static RUNS: &[(&str, RunExperiment)] = &[("contention", run_contention), ("herd", run_herd)];

/// Runs a scenario of the lab to its end; its metrics by name.
pub fn run_text(text: &str) -> Result<(Vec<(String, f64)>, Scenario), String> {
    let scn = Scenario::parse(text).map_err(|e| e.to_string())?;
    let mut lab = Lab::replay(&scn).map_err(|e| e.to_string())?;
    if let Some(v) = lab.violation_text() {
        return Err(format!("a run broke a checker: {v}"));
    }
    Ok((lab.metrics().into_iter().map(|(m, v)| (m.name, v)).collect(), scn))
}

fn metric(metrics: &[(String, f64)], name: &str) -> f64 {
    metrics.iter().find(|(n, _)| n == name).map_or(f64::NAN, |(_, v)| *v)
}

fn run_contention(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let clients = args.count("clients", 1, 200)?;
    let keys = args.count("keys", 1, 100_000)?;
    let duration = args.duration("duration")?;
    let (think, work, serve) = (args.duration("think")?, args.duration("work")?, args.duration("serve")?);
    if serve > 10 * SEC {
        return Err("serve: at most 10 s".into());
    }
    let seed = args.count("seed", 0, u64::MAX)?;
    let resend = args.duration("resend")?;
    let backoff = args.duration("backoff")?;
    let zipfs: Vec<f64> = args
        .list("zipf")
        .iter()
        .map(|z| {
            z.parse::<f64>()
                .ok()
                .filter(|z| (0.0..=3.0).contains(z))
                .ok_or(format!("zipf: '{z}' is not a number from 0 to 3"))
        })
        .collect::<Result<_, _>>()?;
    if zipfs.is_empty() {
        return Err("zipf: give at least one exponent".into());
    }
    let mut table = Table::new(
        format!(
            "{clients} clients, {keys} keys, think {}, work {}, {}, 10-20 ms latency, {} a run",
            format_duration(think),
            format_duration(work),
            if serve == 0 {
                "a storage that answers at once".to_string()
            } else {
                format!("a storage serving one request at a time, {} each", format_duration(serve))
            },
            format_duration(duration)
        ),
        vec![
            Column::text("zipf / strategy"),
            Column::number("txns/s", "/s", 1).higher(),
            Column::number("aborts/txn", "", 3).lower(),
            Column::number("resent/txn", "", 3).lower(),
            Column::number("lock wait p99", "ms", 1).lower(),
            Column::number("messages/txn", "", 2).lower(),
            Column::number("storage busy", "%", 1),
        ],
    );
    let mut chart = Chart::new(
        "Committed transactions a second over the skew of key popularity",
        Axis::new("Zipf exponent of key popularity (0: uniform)", ""),
        Axis::new("transactions committed", "per second"),
    );
    let mut lines: [Vec<Point>; 2] = [Vec::new(), Vec::new()];
    for z in zipfs {
        for (line, strategy) in ["optimistic", "pessimistic"].into_iter().enumerate() {
            let text = format!(
                "# Contention: {strategy}, Zipf {z}\nlab locks\nseed {seed}\nclients {clients}\nkeyspace {keys}\nzipf {z}\nstrategy {strategy}\nthink {}\nwork {}\nserve {}\nresend {}\nbackoff {}\nuntil {}\n",
                format_duration(think),
                format_duration(work),
                format_duration(serve),
                format_duration(resend),
                format_duration(backoff),
                format_duration(duration)
            );
            let (m, scn) = run_text(&text)?;
            let txns = metric(&m, "txns");
            table.push(vec![
                Cell::text(format!("{z} / {strategy}")),
                Cell::num(metric(&m, "txns_per_sec")),
                Cell::num(metric(&m, "aborts_per_txn")),
                Cell::num(metric(&m, "retries_per_txn")),
                Cell::num(metric(&m, "wait_p99") / 1e3),
                Cell::num(if txns > 0.0 { metric(&m, "sent") / txns } else { f64::NAN }),
                Cell::num(metric(&m, "storage_busy") * 100.0),
            ]);
            table.runs.push(Some(scn.to_text()));
            lines[line].push(Point::new(z, metric(&m, "txns_per_sec")));
        }
    }
    for (name, points) in ["optimistic", "pessimistic"].into_iter().zip(lines) {
        chart.series.push(Series { name: name.into(), mark: Mark::Line, points });
    }
    table.chart = Some(chart);
    table.note("Each row is one run of the same seed; txns/s counts committed transactions; aborts/txn: aborted attempts per committed transaction; resent/txn: requests sent again after the resend timeout with no answer (a copy that reaches the storage after its first was served is served again); messages/txn counts every message, heartbeats included; storage busy: the share of the run the storage spent serving (one request at a time).");
    Ok(table)
}

fn run_herd(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let duration = args.duration("duration")?;
    let waiters: Vec<u64> = args
        .list("waiters")
        .iter()
        .map(|w| {
            w.parse::<u64>()
                .ok()
                .filter(|w| (1..=199).contains(w))
                .ok_or(format!("waiters: '{w}' is not a number from 1 to 199"))
        })
        .collect::<Result<_, _>>()?;
    if waiters.is_empty() {
        return Err("waiters: give at least one number".into());
    }
    let mut table = Table::new(
        format!("One key, every client wanting it, 10 ms latency, no loss, {} a run", format_duration(duration)),
        vec![
            Column::text("waiters / recipe"),
            Column::number("messages/release", "", 2).lower(),
            Column::number("waiters/release", "", 2),
            Column::number("expected", "", 2),
        ],
    );
    let mut chart = Chart::new(
        "Messages per release as the waiters grow",
        Axis::new("waiters at a release", ""),
        Axis::new("messages per release", ""),
    );
    let (mut naive, mut sequential, mut expected_naive) = (Vec::new(), Vec::new(), Vec::new());
    for &w in &waiters {
        for recipe in ["naive", "sequential"] {
            let quiet = quiet_after(&herd_scenario(w + 1, recipe, duration))?;
            let (m, scn) = run_text(&herd_scenario(w + 1, recipe, quiet))?;
            let at = metric(&m, "waiters_per_release");
            let expected = if recipe == "naive" { 1.0 + 3.0 * at } else { 4.0 };
            table.push(vec![
                Cell::text(format!("{w} / {recipe}")),
                Cell::num(metric(&m, "msgs_per_release")),
                Cell::num(at),
                Cell::num(expected),
            ]);
            table.runs.push(Some(scn.to_text()));
            let point = Point::new(at, metric(&m, "msgs_per_release"));
            if recipe == "naive" {
                naive.push(point);
                expected_naive.push(Point::new(at, expected));
            } else {
                sequential.push(point);
            }
        }
    }
    chart.series.push(Series {
        name: "naive recipe, 1 + 3W expected".into(),
        mark: Mark::Line,
        points: expected_naive,
    });
    chart.series.push(Series { name: "naive recipe".into(), mark: Mark::Dots, points: naive });
    chart.series.push(Series { name: "ZooKeeper's recipe".into(), mark: Mark::Line, points: sequential });
    table.chart = Some(chart);
    table.note("Messages per release: the Release, the Wake notices, and what the woken waiters asked and were told; heartbeats are off (the lease outlasts the run); each run ends when no message of a release is on the wire. Expected: 1 + 3W for the naive recipe (W waiters at the release), 4 for ZooKeeper's.");
    Ok(table)
}

/// The first moment at or after the end of `text`'s run when no message
/// a release caused is on the wire, so that every herd counted is
/// counted whole (at most 10 s later).
fn quiet_after(text: &str) -> Result<u64, String> {
    let scn = Scenario::parse(text).map_err(|e| e.to_string())?;
    let mut lab = Lab::replay(&scn).map_err(|e| e.to_string())?;
    let busy = |lab: &Lab| {
        lab.model::<ClusterLab<LockNode>>()
            .is_some_and(|m| m.sim().in_flight().any(|f| f.msg.woken() || matches!(f.msg, LockMsg::Release { .. })))
    };
    let mut t = scn.until;
    while busy(&lab) && t < scn.until + 10 * SEC {
        t += MS;
        lab.run_until(t);
    }
    Ok(t)
}

/// The herd scenario: `clients` clients all after one key, each back in
/// the queue a moment after its release, on a lossless 10 ms network.
pub fn herd_scenario(clients: u64, recipe: &str, duration: u64) -> String {
    format!(
        "# The herd: {clients} clients, one key, {recipe} recipe\nlab locks\nseed 1\nclients {clients}\nkeyspace 1\nrecipe {recipe}\nthink 1ms\nwork 100ms\nlease 600s\nheartbeat 600s\nlatency_min 10ms\nlatency_max 10ms\nuntil {}\n",
        format_duration(duration)
    )
}
