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
