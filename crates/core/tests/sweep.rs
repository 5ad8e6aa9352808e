//! Sweeps and the search over them (issue 12): the same numbers however the
//! runs are split, and the search finds an optimum known from theory.

use clusterscope_core::scenario::{parse_expect, Scenario};
use clusterscope_core::sweep::{search, summarise, Goal, Sweep};

fn sweep(text: &str, params: &[&str], seeds: u64, metrics: &[&str]) -> Sweep {
    Sweep::new(Scenario::parse(text).expect("valid"), params, seeds, metrics).expect("a valid sweep")
}

// Runs are independent and summarised after sorting: any order, any
// split, duplicates included, gives the same table.
#[test]
fn the_summary_does_not_depend_on_the_order_of_the_runs() {
    let s = sweep(
        "lab raft\nnodes 3\nuntil 2s\n",
        &["election_timeout_max=200ms,300ms,400ms"],
        6,
        &["elections", "leaderless"],
    );
    let mut runs: Vec<_> = s.units(None).map(|u| s.run(u).expect("runs")).collect();
    let forward = summarise(&s, &runs);
    runs.reverse();
    let dup = runs[0].clone();
    runs.push(dup);
    assert_eq!(summarise(&s, &runs), forward);
    // Shards cover every unit exactly once.
    let mut sharded: Vec<_> = (0..4).flat_map(|k| s.units(Some((k, 4))).collect::<Vec<_>>()).collect();
    sharded.sort_unstable();
    assert_eq!(sharded, s.units(None).collect::<Vec<_>>());
}

// M/M/1 (Kleinrock, Queueing Systems vol. 1, §3.2): with random routing
// each of n servers is an M/M/1 queue with arrival rate λ/n and service rate
// μ; its time in system is exponential with mean 1/(μ − λ/n), so the median
// is ln 2 / (μ − λ/n). With μ = 100/s (10 ms mean cost), n = 100 and a
// median of at most 25 ms, λ/n ≤ 100 − ln 2 / 0.025 = 72.3/s: the highest
// rate of 6,000..8,000 in steps of 500 that keeps it is 7,000/s (median
// 23.1 ms; 7,500/s gives 27.7 ms), well clear of the bound for the noise of
// a 6 s run.
#[test]
fn the_search_finds_the_highest_rate_mm1_allows() {
    let s = sweep(
        "lab balance\nseed 1\npolicy random\nnodes 100\nlatency 0\nrate 1000\nuntil 6s\n",
        &["rate=6000..8000:500"],
        3,
        &["p50"],
    );
    let runs: Vec<_> = s.units(None).map(|u| s.run(u).expect("runs")).collect();
    let rows = summarise(&s, &runs);
    let goal = Goal {
        objective: "rate".into(),
        minimise: false,
        constraints: vec![parse_expect("p50 <= 25ms").expect("a check")],
    };
    let best = search(&s.shape(), &rows, &goal).expect("a valid goal").expect("some rate meets it");
    assert_eq!(
        rows[best].values,
        vec!["7000".to_string()],
        "medians: {:?}",
        rows.iter().map(|r| r.stats[0].p50).collect::<Vec<_>>()
    );
    // Asking for less than any point can give finds nothing; an unknown
    // metric is a sentence.
    let none = Goal { constraints: vec![parse_expect("p50 <= 1ms").expect("a check")], ..goal.clone() };
    assert_eq!(search(&s.shape(), &rows, &none), Ok(None));
    let unknown = Goal { objective: "nonsense".into(), ..goal };
    assert!(search(&s.shape(), &rows, &unknown).unwrap_err().contains("among the sweep's metrics"));
}

/// The nearest-rank percentile (Hyndman and Fan 1996, definition 1; the one
/// sweep.rs's `quantile` implements as the value of rank ⌈q n⌉): the
/// smallest value with at least q × n of the values at or below it.
/// Computed here by counting, not by indexing a sorted list.
fn nearest_rank(values: &[f64], q: f64) -> f64 {
    let n = values.len() as f64;
    let mut candidates: Vec<f64> =
        values.iter().copied().filter(|x| values.iter().filter(|y| *y <= x).count() as f64 >= q * n).collect();
    candidates.sort_by(f64::total_cmp);
    candidates.first().copied().unwrap_or(f64::NAN)
}

// The summary against an independent computation from the raw rows: for
// each point and metric, the runs that measured it (n), those that did not
// (missing), the mean and the nearest-rank p10, p50, p90 and p99 recomputed
// here from the unit results; and one unit's values against a plain replay
// of the scenario with the parameter written into the file.
#[test]
fn the_summary_equals_statistics_recomputed_from_the_runs() {
    let template = "lab raft\nnodes 5\nrequest_rate 40\nloss 5%\nat 700ms crash S1\nuntil 2s\n";
    let metrics = ["elections", "leaderless", "commit_p99"];
    let s = sweep(template, &["election_timeout_max=250ms,400ms"], 13, &metrics);
    let runs: Vec<_> = s.units(None).map(|u| s.run(u).expect("runs")).collect();
    let rows = summarise(&s, &runs);
    assert_eq!(rows.len(), 2);
    let mut spread = 0;
    for (p, row) in rows.iter().enumerate() {
        assert_eq!(row.values, vec![["250ms", "400ms"][p].to_string()]);
        for (m, stats) in row.stats.iter().enumerate() {
            let raw: Vec<f64> = runs.iter().filter(|u| u.point == p).map(|u| u.values[m]).collect();
            assert_eq!(raw.len(), 13, "one run a seed");
            let measured: Vec<f64> = raw.iter().copied().filter(|v| !v.is_nan()).collect();
            let what = format!("{} at point {p}", metrics[m]);
            assert_eq!((stats.n, stats.missing), (measured.len(), 13 - measured.len()), "{what}");
            let mean = measured.iter().sum::<f64>() / measured.len() as f64;
            assert!((stats.mean - mean).abs() <= 1e-9 * mean.abs().max(1.0), "{what}: mean {} != {mean}", stats.mean);
            for (got, q) in [(stats.p10, 0.1), (stats.p50, 0.5), (stats.p90, 0.9), (stats.p99, 0.99)] {
                assert_eq!(got, nearest_rank(&measured, q), "{what}: p{}", q * 100.0);
            }
            if stats.p10 < stats.p90 {
                spread += 1;
            }
        }
    }
    assert!(spread >= 3, "the seeds must spread the metrics, or the percentiles cannot be told apart");
    // Point 1, seed 5, replayed from a file of its own.
    let file = template.replace("nodes 5\n", "nodes 5\nseed 5\nelection_timeout_max 400ms\n");
    let mut lab = clusterscope_core::lab::Lab::replay(&Scenario::parse(&file).expect("valid")).expect("runs");
    let direct = lab.metrics();
    let unit = runs.iter().find(|u| (u.point, u.seed) == (1, 5)).expect("the unit");
    for (m, name) in metrics.iter().enumerate() {
        let want = direct.iter().find(|(spec, _)| spec.name == *name).expect("the metric").1;
        assert!(
            unit.values[m] == want || (want.is_nan() && unit.values[m].is_nan()),
            "{name}: {} != {want}",
            unit.values[m]
        );
    }
}
