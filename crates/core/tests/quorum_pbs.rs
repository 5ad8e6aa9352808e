//! The quorum lab against the closed form of Bailis et al.,
//! "Probabilistically Bounded Staleness for Practical Partial Quorums"
//! (VLDB 2012), §3: with no read repair and no anti-entropy, a write that
//! reached `W` of `N` replicas chosen at random is missed by a read of `R`
//! replicas chosen at random with probability `C(N-W, R) / C(N, R)`, and
//! a read returns one of the last `k` versions with probability
//! `1 - (C(N-W, R) / C(N, R))^k` (Equation 2: each version's replicas are
//! drawn independently). The lab's `read_fanout quorum` and
//! `write_fanout quorum` are that setting; links of 1-2 ms against a mean
//! gap of 20 ms between commands keep reads and writes of the one key
//! from overlapping, so each read is issued after the writes before it
//! completed, as the closed form assumes.
//!
//! Statistical bounds: each measured read is a Bernoulli trial (its
//! replicas are drawn on its coordinator's own random stream, the writes'
//! on theirs), so over `n` reads the measured share has standard deviation
//! `sqrt(p (1 - p) / n)`; the tests allow 4.5 of them (a false alarm about
//! once in 150,000 checks) and need `n >= 1,500`.

mod quorum_common;

use clusterscope_core::quorum::pbs;
use quorum_common::*;

fn closed_form_run(n: u32, r: u32, w: u32, seed: u64) -> (f64, [f64; 3], f64) {
    let text = format!(
        "# closed form\nlab quorum\nseed {seed}\nnodes {n}\nreplicas {n}\nr {r}\nw {w}\nkeys 1\n\
         read_fanout quorum\nwrite_fanout quorum\nlatency_min 1ms\nlatency_max 2ms\n\
         request_rate 50\ncheck_history off\nuntil 120s\n"
    );
    let mut lab = replay(&text);
    let reads = metric(&mut lab, "reads_measured");
    let fresh = [metric(&mut lab, "fresh_k1"), metric(&mut lab, "fresh_k2"), metric(&mut lab, "fresh_k3")];
    (reads, fresh, metric(&mut lab, "stale_reads"))
}

fn within(measured: f64, p: f64, reads: f64, what: &str) {
    let sd = (p * (1.0 - p) / reads).sqrt();
    assert!(
        (measured - p).abs() <= 4.5 * sd + 1e-12,
        "{what}: measured {measured:.4} over {reads} reads, closed form {p:.4} (4.5 sd = {:.4})",
        4.5 * sd
    );
}

// §3.2 and Equation 2, for several (N, R, W) with R + W <= N: the measured
// share of reads that miss the newest completed write (k = 1), and that
// return none of the last 2 and 3 versions, against the closed form.
#[test]
fn k_staleness_matches_the_closed_form() {
    for (n, r, w) in [(3, 1, 1), (3, 1, 2), (3, 2, 1), (5, 1, 1), (5, 2, 2), (5, 1, 3), (5, 2, 3)] {
        let (reads, fresh, _) = closed_form_run(n, r, w, 11);
        assert!(reads >= 1_500.0, "N={n} R={r} W={w}: only {reads} reads measured");
        for k in 1..=3 {
            let p = pbs::p_k_fresh(n, r, w, k);
            within(fresh[k as usize - 1], p, reads, &format!("N={n} R={r} W={w}, k={k}"));
        }
    }
}

// §3.2: R + W > N gives intersecting quorums, so no read returns an older
// version than the newest write completed before it began: exactly zero,
// in the lab's own k-staleness and in the shared stale-read count.
#[test]
fn intersecting_quorums_never_read_stale() {
    for (n, r, w) in [(3, 2, 2), (3, 1, 3), (3, 3, 1), (5, 3, 3), (5, 2, 4)] {
        assert_eq!(pbs::p_stale(n, r, w), 0.0);
        let (reads, fresh, stale) = closed_form_run(n, r, w, 12);
        assert!(reads >= 1_500.0);
        assert_eq!((fresh[0], stale), (1.0, 0.0), "N={n} R={r} W={w}");
    }
}

// The latency-consistency trade-off experiment (Bailis et al., §5, Table
// 3's shape): one row per (R, W); the closed form's column is `pbs`'s;
// the measured staleness stays within the bounds above (the runs are
// 6 x 5 s at 50 commands a second, about 750 reads: 4.5 sd of 750); and
// waiting for more answers costs latency: read p99 grows with R, write p99
// with W (each more answer waits for a slower replica).
#[test]
fn the_tradeoff_experiment() {
    use clusterscope_core::lab::{experiment, registry, Cell};
    quorum();
    let exp = registry::find_experiment("quorum", "tradeoff").expect("declared");
    let table = experiment::run(exp, None, &[("seconds".into(), "5".into())]).expect("runs");
    assert_eq!(table.rows.len(), 9);
    let num = |c: &Cell| match c {
        Cell::Number(v) => *v,
        other => panic!("{other:?}"),
    };
    let mut read_p99 = [0.0; 4];
    let mut write_p99 = [0.0; 4];
    for row in &table.rows {
        let (r, w) = (num(&row[0]) as u32, num(&row[1]) as u32);
        let p = pbs::p_stale(3, r, w);
        assert!((num(&row[3]) - 100.0 * p).abs() < 1e-9);
        within(num(&row[4]) / 100.0, p, 750.0, &format!("tradeoff R={r} W={w}"));
        read_p99[r as usize] += num(&row[7]) / 3.0;
        write_p99[w as usize] += num(&row[8]) / 3.0;
    }
    assert!(read_p99[1] < read_p99[2] && read_p99[2] < read_p99[3], "read p99 by R: {read_p99:?}");
    // Its chart: one bar per (R, W) and source of staleness, in %.
    let chart = table.chart.as_ref().expect("a chart");
    assert_eq!(chart.categories.len(), 9);
    assert_eq!(chart.y.heading(), "stale reads (%)");
    assert_eq!(chart.series.len(), 3);
    for (row, x) in table.rows.iter().zip(0..) {
        assert_eq!(chart.series[0].points[x].y, num(&row[3]), "the closed form's bar");
    }
    assert!(write_p99[1] < write_p99[2] && write_p99[2] < write_p99[3], "write p99 by W: {write_p99:?}");
}

// Staleness over the anti-entropy period (Dynamo, SOSP 2007, §4.7:
// anti-entropy is what brings replicas that missed a write up to date;
// Bailis et al. §4: staleness falls as the write spreads). Writes reach
// only W random replicas and reads ask R random ones, so without
// anti-entropy the closed form C(N-W, R) / C(N, R) holds (the "never"
// row, within the bounds above), and the more often servers swap
// versions, the fewer reads miss the newest write: at a period of 5 ms,
// an eighth of the 40 ms between two writes of the key, under a quarter
// of the closed form; from one period to the next longer one the share
// never falls by more than 4.5 sd (noise). The chart has its axes, units
// and one line per (R, W) with the closed form beside it.
#[test]
fn the_anti_entropy_experiment() {
    use clusterscope_core::lab::{experiment, registry, Cell};
    use clusterscope_core::quorum::experiments::PERIODS_MS;
    quorum();
    let exp = registry::find_experiment("quorum", "antientropy").expect("declared");
    let seconds = 30.0;
    let table = experiment::run(exp, None, &[("seconds".into(), "30".into())]).expect("runs");
    assert_eq!(table.rows.len(), PERIODS_MS.len() + 1);
    let num = |c: &Cell| match c {
        Cell::Number(v) => *v / 100.0,
        other => panic!("{other:?}"),
    };
    // About 25 reads a second are measured (50 commands, half reads).
    let reads = 25.0 * seconds * 0.9;
    for (col, (r, w)) in [(1, (1, 1)), (2, (1, 2))] {
        let closed = pbs::p_stale(3, r, w);
        let never = num(&table.rows[PERIODS_MS.len()][col]);
        within(never, closed, reads, &format!("no anti-entropy, R={r} W={w}"));
        let stale: Vec<f64> = table.rows[..PERIODS_MS.len()].iter().map(|row| num(&row[col])).collect();
        assert!(stale[0] < closed / 4.0, "R={r} W={w}: {stale:?} at 5 ms against {closed}");
        for pair in stale.windows(2) {
            let sd = (pair[0] * (1.0 - pair[0]) / reads).sqrt();
            assert!(pair[1] >= pair[0] - 4.5 * sd, "R={r} W={w}: staleness fell with a longer period: {stale:?}");
        }
        assert!(stale[PERIODS_MS.len() - 1] > stale[0] + 0.2, "R={r} W={w}: {stale:?}");
    }
    let chart = table.chart.as_ref().expect("a chart");
    assert_eq!(
        (chart.x.heading().as_str(), chart.y.heading().as_str()),
        ("anti-entropy period (ms)", "stale reads (%)")
    );
    assert_eq!(chart.series.len(), 4);
    assert!(chart.series.iter().step_by(2).all(|s| s.points.len() == PERIODS_MS.len()));
}
