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
