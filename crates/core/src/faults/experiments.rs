//! The failure-detection lab's experiments.
//!
//! * [`QOS`]: each detector over its threshold (the fixed timeout, the φ
//!   threshold, SWIM's suspicion timeout): detection time against mistake
//!   rate, the trade-off Chen, Toueg and Aguilera (2002) measure a
//!   detector's quality of service by. A shorter wait detects a crash
//!   sooner and suspects live members more often; one chart, one line a
//!   detector.
//! * [`SPREAD`]: SWIM over n members: how long a crash takes to reach every
//!   member. SWIM (§5) expects the time for gossip to infect everyone to
//!   grow as log n protocol periods.
//! * [`AVAILABILITY`]: members failing and coming back with exponential
//!   times, the measured share of time at most `f` are down, against the
//!   binomial model over p; and the same with whole zones failing, which
//!   the model, built on independence, does not foresee.

use super::churn::{binomial_at_most, measure, ChurnConfig};
use super::lab::FaultsTracker;
use super::node::FaultsNode;
use crate::chart::{Axis, Chart, Mark, Point, Series};
use crate::lab::cluster::ClusterLab;
use crate::lab::{Cell, Column, ExpArg, ExpArgs, Experiment, Lab, RunExperiment, Table};
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::{Time, MS, SEC};

/// Detection time against mistake rate, per detector, over its threshold.
pub const QOS: Experiment = Experiment {
    name: "qos",
    about: "Detection time against false suspicions: heartbeats over the timeout, phi accrual over its threshold, SWIM over its suspicion timeout",
    args: &[
        ExpArg { name: "runs", help: "seeded runs per point (seeds 1..=runs)", default: "5" },
        ExpArg { name: "nodes", help: "members (3 to 64)", default: "8" },
    ],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// SWIM's dissemination time over n.
pub const SPREAD: Experiment = Experiment {
    name: "spread",
    about: "SWIM: time for a crash to reach every member, n = 8 to 256, against log n",
    args: &[
        ExpArg { name: "largest", help: "largest number of members (8 to 500), doubling from 8", default: "256" },
        ExpArg { name: "runs", help: "seeded runs per size (seeds 1..=runs)", default: "2" },
    ],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// Availability of k-of-n against the binomial model.
pub const AVAILABILITY: Experiment = Experiment {
    name: "availability",
    about: "Availability of a service that tolerates f of n members down, measured under churn, against the binomial model over p; zone failures break it",
    args: &[
        ExpArg { name: "nodes", help: "members (2 to 500)", default: "6" },
        ExpArg { name: "tolerate", help: "members the service can lose", default: "2" },
        ExpArg { name: "cycles", help: "mean failure-repair cycles per member simulated per point", default: "20000" },
    ],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// The lab's experiments, as it lists them.
pub static EXPERIMENTS: &[Experiment] = &[QOS, SPREAD, AVAILABILITY];

/// How each experiment runs.
pub static RUNS: &[(&str, RunExperiment)] =
    &[("qos", run_qos), ("spread", run_spread), ("availability", run_availability)];

/// The network of the QoS runs: 5–15 ms, 2% of messages late by up to
/// 250 ms, 1% lost.
const QOS_NET: &str = "latency_min 5ms\nlatency_max 15ms\ntail 2%\ntail_max 250ms\nloss 1%\n";

/// When the member under watch crashes, and how long a QoS run lasts.
const QOS_CRASH: Time = 60 * SEC;
const QOS_UNTIL: Time = 70 * SEC;

/// One QoS run as a scenario: `settings` are the detector's lines.
pub fn qos_scenario(nodes: u32, settings: &str, seed: u64) -> String {
    format!("lab faults\nseed {seed}\nnodes {nodes}\n{QOS_NET}{settings}at 60s crash S1\nuntil 70s\n")
}

/// What one setting of a detector gives, over its seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct QosPoint {
    /// The detector.
    pub detector: &'static str,
    /// The setting, as a file writes it.
    pub setting: String,
    /// Detection time, mean over runs that detected (µs; NaN: none did).
    pub detect: f64,
    /// False suspicions per member per hour, before the crash.
    pub mistake_rate: f64,
    /// Mean mistake duration (µs).
    pub mistake_duration: f64,
    /// Messages per member per second.
    pub msgs: f64,
    /// Runs in which the crash was not detected by every member in 10 s.
    pub missed: u64,
}

fn tracker(lab: &Lab) -> Option<&FaultsTracker> {
    lab.model::<ClusterLab<FaultsNode>>().map(|m| m.tracker())
}

/// Runs one detector setting over seeds `1..=runs` and averages.
pub fn qos_point(nodes: u32, detector: &'static str, setting: &str, runs: u64) -> Result<QosPoint, ScenarioError> {
    let (mut detect, mut detected, mut mistakes, mut dur, mut durs, mut msgs, mut missed) =
        (0.0, 0u64, 0u64, 0.0, 0u64, 0.0, 0u64);
    for seed in 1..=runs {
        let mut lab = Lab::new(&Scenario::parse(&qos_scenario(nodes, setting, seed))?)?;
        lab.run_until(QOS_CRASH - 1);
        let t = tracker(&lab).ok_or_else(|| ScenarioError::Invalid("not a faults run".into()))?;
        mistakes += t.mistakes;
        if let Some(d) = t.mistake_duration() {
            dur += d;
            durs += 1;
        }
        msgs += lab.counters().sent as f64 / f64::from(nodes) / ((QOS_CRASH - 1) as f64 / 1e6);
        lab.run_until(QOS_UNTIL);
        let t = tracker(&lab).ok_or_else(|| ScenarioError::Invalid("not a faults run".into()))?;
        match t.detect_last {
            Some(d) if t.detections > 0 => {
                detect += d as f64;
                detected += 1;
            }
            _ => missed += 1,
        }
    }
    let hours = (QOS_CRASH as f64 / 3.6e9) * runs as f64;
    Ok(QosPoint {
        detector,
        setting: setting.trim().replace('\n', ", "),
        detect: if detected > 0 { detect / detected as f64 } else { f64::NAN },
        mistake_rate: mistakes as f64 / f64::from(nodes) / hours,
        mistake_duration: if durs > 0 { dur / durs as f64 } else { f64::NAN },
        msgs: msgs / runs as f64,
        missed,
    })
}

/// The settings the QoS experiment sweeps: (detector, label of the knob,
/// settings lines).
pub fn qos_settings() -> Vec<(&'static str, Vec<String>)> {
    vec![
        (
            "heartbeat",
            [120, 150, 200, 300, 500, 800]
                .iter()
                .map(|t| format!("detector heartbeat\nheartbeat 100ms\ntimeout {t}ms\nsuspicion 0\n"))
                .collect(),
        ),
        (
            "phi",
            ["1", "2", "4", "8", "12", "16"]
                .iter()
                .map(|p| format!("detector phi\nheartbeat 100ms\nphi_threshold {p}\nsuspicion 0\n"))
                .collect(),
        ),
        (
            "phi exponential",
            ["0.5", "1", "1.5", "2", "3", "4"]
                .iter()
                .map(|p| format!("detector phi\nfit exponential\nheartbeat 100ms\nphi_threshold {p}\nsuspicion 0\n"))
                .collect(),
        ),
        (
            "swim",
            [0, 100, 250, 500, 1000, 2000]
                .iter()
                .map(|s| format!("detector swim\nprobe 200ms\nping_timeout 80ms\nsuspicion {s}ms\n"))
                .collect(),
        ),
    ]
}

fn run_qos(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let runs = args.count("runs", 1, 1000)?;
    let nodes = args.count("nodes", 3, 64)? as u32;
    let mut table = Table::new(
        format!("Detection time against false suspicions, {nodes} members, {runs} runs a point"),
        vec![
            Column::text("detector"),
            Column::text("setting"),
            Column::number("detection", "ms", 0).lower(),
            Column::number("mistakes", "/member/h", 1).lower(),
            Column::number("mistake duration", "ms", 0).lower(),
            Column::number("msgs", "/member/s", 1).lower(),
            Column::number("missed", "", 0).lower(),
        ],
    );
    let mut chart = Chart::new(
        "Detection time against mistake rate (each point one setting)",
        Axis::new("mistake rate", "per member per hour"),
        Axis::new("detection time", "ms"),
    );
    for (detector, settings) in qos_settings() {
        let mut points = Vec::new();
        for s in settings {
            let q = qos_point(nodes, detector, &s, runs).map_err(|e| e.to_string())?;
            table.push(vec![
                Cell::text(detector),
                Cell::text(q.setting.clone()),
                Cell::num(q.detect / 1e3),
                Cell::num(q.mistake_rate),
                Cell::num(q.mistake_duration / 1e3),
                Cell::num(q.msgs),
                Cell::num(q.missed as f64),
            ]);
            table.runs.push(Some(qos_scenario(nodes, &s, 1)));
            points.push(Point::new(q.mistake_rate, q.detect / 1e3));
        }
        chart.series.push(Series { name: detector.into(), mark: Mark::Line, points });
    }
    table.chart = Some(chart);
    table.note(format!(
        "Network: 5-15 ms, 2% of messages late by up to 250 ms, 1% lost. Mistakes counted over the first {} s; S1 crashes at {} s.",
        QOS_CRASH / SEC,
        QOS_CRASH / SEC
    ));
    table.note("detection: crash to every live member suspecting it (Chen, Toueg and Aguilera's T_D); mistakes: false suspicions per member per hour (their mistake rate); mistake duration: suspicion to trusting again (T_M).");
    table.note("Expected (Chen, Toueg and Aguilera): each detector trades detection time for mistakes along its own curve. On this network most heartbeats arrive on time and a few very late: the normal fit (Akka) learns the common intervals and underestimates that tail, so at the same detection time it makes more mistakes than a fixed timeout; the exponential fit (Cassandra) has a heavier tail and waits longer. SWIM sends a few messages a member a second, whatever n, and its suspicion timeout lets a member refute before it is declared dead.");
    Ok(table)
}

/// One SWIM spread run: `n` members, S1 crashes at 5 s.
pub fn spread_scenario(n: u32, seed: u64) -> String {
    format!(
        "lab faults\nseed {seed}\nnodes {n}\ndetector swim\nprobe 200ms\nping_timeout 80ms\nsuspicion 1s\nlatency_min 5ms\nlatency_max 15ms\nat 5s crash S1\nuntil 60s\n"
    )
}

/// SWIM over `n` members: (detection, spread) in µs for seeds `1..=runs`
/// (`None` where the crash did not reach every member in 55 s).
pub fn spread_runs(n: u32, runs: u64) -> Result<Vec<Option<(Time, Time)>>, ScenarioError> {
    let mut out = Vec::new();
    for seed in 1..=runs {
        let mut lab = Lab::new(&Scenario::parse(&spread_scenario(n, seed))?)?;
        let mut t = 5 * SEC;
        let mut got = None;
        while t < 60 * SEC {
            t += 100 * MS;
            lab.run_until(t);
            if let Some(tr) = tracker(&lab) {
                if tr.detections > 0 {
                    got = tr.detect_last.zip(tr.spread_last);
                    break;
                }
            }
        }
        out.push(got);
    }
    Ok(out)
}

fn run_spread(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let largest = args.count("largest", 8, 500)? as u32;
    let runs = args.count("runs", 1, 100)?;
    let mut table = Table::new(
        format!("SWIM: a crash reaching every member, period 200 ms, {runs} runs a size"),
        vec![
            Column::number("members", "", 0),
            Column::number("log2 n", "", 2),
            Column::number("detection", "ms", 0).lower(),
            Column::number("spread", "ms", 0).lower(),
            Column::number("spread", "periods", 2).lower(),
            Column::number("missed", "", 0).lower(),
        ],
    );
    let mut chart = Chart::new(
        "SWIM: first suspicion to every member suspecting, over n",
        Axis::new("members (log scale: log2 n)", ""),
        Axis::new("spread", "ms"),
    );
    let mut points = Vec::new();
    let mut n = 8;
    while n <= largest {
        let r = spread_runs(n, runs).map_err(|e| e.to_string())?;
        let done: Vec<(Time, Time)> = r.iter().flatten().copied().collect();
        let mean = |f: fn(&(Time, Time)) -> Time| {
            if done.is_empty() {
                f64::NAN
            } else {
                done.iter().map(f).sum::<Time>() as f64 / done.len() as f64
            }
        };
        let spread = mean(|x| x.1);
        let log2 = f64::from(n).log2();
        table.push(vec![
            Cell::num(f64::from(n)),
            Cell::num(log2),
            Cell::num(mean(|x| x.0) / 1e3),
            Cell::num(spread / 1e3),
            Cell::num(spread / 200e3),
            Cell::num((r.len() - done.len()) as f64),
        ]);
        table.runs.push(Some(spread_scenario(n, 1)));
        points.push(Point::new(log2, spread / 1e3));
        n *= 2;
    }
    chart.series.push(Series { name: "spread".into(), mark: Mark::Line, points });
    table.chart = Some(chart);
    table.note("Each member probes one member per 200 ms period; updates ride on pings and acks, each sent 4 * ceil(log10(n+1)) times, at most 6 a message.");
    table.note("detection: crash to every live member suspecting; spread: first suspicion to every live member suspecting (the dissemination time).");
    table.note("Expected (SWIM section 5): spread grows as log n periods: a straight line against log2 n.");
    Ok(table)
}

fn run_availability(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let n = args.count("nodes", 2, 500)? as u32;
    let f = args.count("tolerate", 0, u64::from(n) - 1)? as u32;
    let cycles = args.count("cycles", 100, 10_000_000)?;
    let mut table = Table::new(
        format!("Availability of a service that tolerates {f} of {n} members down"),
        vec![
            Column::number("p", "%", 1),
            Column::text("failures"),
            Column::number("measured", "%", 4),
            Column::number("binomial", "%", 4),
            Column::number("unavailable measured", "%", 4).lower(),
            Column::number("unavailable by model", "%", 4),
            Column::number("ratio", "x", 2),
        ],
    );
    let mut chart = Chart::new(
        format!("Unavailability (more than {f} of {n} down) against p"),
        Axis::new("p = MTTR / (MTTF + MTTR)", "%"),
        Axis::new("unavailable", "%"),
    );
    let (mut model, mut indep, mut zoned) = (Vec::new(), Vec::new(), Vec::new());
    let mttr: Time = 3_600 * SEC;
    for p_pct in [1u32, 2, 5, 10, 20] {
        let p = f64::from(p_pct) / 100.0;
        let mttf = (mttr as f64 * (1.0 - p) / p).round() as Time;
        let horizon = (mttf + mttr).saturating_mul(cycles);
        let want = binomial_at_most(n, f, p);
        for (label, cfg) in [
            ("independent", ChurnConfig { n, mttf, mttr, zone: 0, zone_mttf: 0, ..ChurnConfig::default() }),
            // Zones of half the members: a fifth of the failures are
            // whole-zone ones, so each member is down about as often.
            (
                "zones",
                ChurnConfig {
                    n,
                    mttf: mttf.saturating_mul(5) / 4,
                    mttr,
                    zone: n.div_ceil(2),
                    zone_mttf: mttf.saturating_mul(5),
                    ..ChurnConfig::default()
                },
            ),
        ] {
            let dt = measure(cfg, u64::from(p_pct), horizon);
            let got = dt.at_most(horizon, f);
            table.push(vec![
                Cell::num(f64::from(p_pct)),
                Cell::text(label),
                Cell::num(got * 100.0),
                Cell::num(want * 100.0),
                Cell::num((1.0 - got) * 100.0),
                Cell::num((1.0 - want) * 100.0),
                Cell::num((1.0 - got) / (1.0 - want)),
            ]);
            table.runs.push(None);
            let pt = Point::new(f64::from(p_pct), (1.0 - got) * 100.0);
            if label == "zones" {
                zoned.push(pt);
            } else {
                indep.push(pt);
            }
        }
        model.push(Point::new(f64::from(p_pct), (1.0 - want) * 100.0));
    }
    chart.series.push(Series { name: "binomial model".into(), mark: Mark::Line, points: model });
    chart.series.push(Series { name: "measured, independent".into(), mark: Mark::Dots, points: indep });
    chart.series.push(Series { name: "measured, zones".into(), mark: Mark::Dots, points: zoned });
    table.chart = Some(chart);
    table.note(format!(
        "MTTR 1 h; MTTF = MTTR (1 - p) / p; {cycles} mean failure-repair cycles a point, exponential times."
    ));
    table.note(format!("zones: {} members a zone; each member fails on its own at 4/5 of the rate and its zone fails whole at 1/5, so each is down about as often as in the independent rows.", n.div_ceil(2)));
    table.note("Expected: the independent rows match the binomial model P(k of n down) = C(n,k) p^k (1-p)^(n-k); with zones, being down is no longer independent and the service is unavailable far more often than the model says.");
    Ok(table)
}
