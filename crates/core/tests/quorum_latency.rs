//! Latency models of the quorum lab: exponential per-link delays and one
//! slow replica, against order statistics.
//!
//! With every one-way delay exponential of mean m (rate λ = 1/m, the
//! model Bailis et al. fit to LinkedIn's and Yammer's latencies in the PBS
//! paper, VLDB 2012, §5), a round trip to a replica is the sum of two
//! independent exponentials: Gamma(2, λ), with CDF
//! F(t) = 1 − e^(−λt)(1 + λt). A coordinator that sends a write to its
//! replicas and answers after the k-th acknowledgement waits for the k-th
//! smallest of n independent round trips, whose mean is (order
//! statistics; David and Nagaraja, "Order Statistics", 2003, §2.1)
//! E[X(k:n)] = ∫₀^∞ P(Binomial(n, F(t)) < k) dt. (For single exponentials
//! this is the familiar sum_{i=n−k+1}^{n} 1/(iλ); a round trip is two.)

mod quorum_common;

use clusterscope_core::quorum::pbs::choose;
use clusterscope_core::sim::{KvOp, MS};
use quorum_common::*;

/// E[X(k:n)] for round trips of two exponentials of mean `m`: Simpson's
/// rule on [0, 60 m] (the tail beyond holds less than 1e-20 of the mass).
fn order_statistic_mean(k: u32, n: u32, m: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let survival = |t: f64| {
        let f = 1.0 - (-t / m).exp() * (1.0 + t / m);
        (0..k).map(|j| choose(n, j) * f.powi(j as i32) * (1.0 - f).powi((n - j) as i32)).sum::<f64>()
    };
    let (steps, end) = (60_000, 60.0 * m);
    let h = end / f64::from(steps);
    let mut sum = survival(0.0) + survival(end);
    for i in 1..steps {
        sum += survival(f64::from(i) * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0
}

// The integral against values worked by hand (m = 1): one round trip has
// mean 2; the faster of two has P(min > t) = e^(−2t)(1 + t)², whose
// integral is 1/2 + 1/2 + 1/4 = 5/4; the slower of two has mean
// 2·2 − 5/4 = 11/4 (E[max] + E[min] = E[X1] + E[X2]).
#[test]
fn the_order_statistic_integral() {
    assert!((order_statistic_mean(1, 1, 1.0) - 2.0).abs() < 1e-9);
    // min of two: ∫ e^(−2t)(1+t)^2 dt = 1/2 + 1/2 + 1/4 = 5/4.
    assert!((order_statistic_mean(1, 2, 1.0) - 1.25).abs() < 1e-9);
    assert!((order_statistic_mean(2, 2, 1.0) - 2.75).abs() < 1e-9);
}

/// Each write's latency (ms) in a run of the lab where every server is a
/// replica of the one key (so the coordinator's own acknowledgement is
/// immediate and it waits for the (W − 1)-th of the N − 1 others).
fn write_latencies(n: u32, w: u32, mean_ms: u64, seed: u64) -> Vec<f64> {
    let text = format!(
        "# latency\nlab quorum\nseed {seed}\nnodes {n}\nreplicas {n}\nr 1\nw {w}\nkeys 1\nread_share 0%\n\
         latency_min 0ms\nlatency_exp {mean_ms}ms\nretry_after 10s\nrequest_rate 200\ncheck_history off\nuntil 20s\n"
    );
    let lab = replay(&text);
    cluster(&lab)
        .sim()
        .clients()
        .kv_history()
        .filter(|r| matches!(r.command.op, KvOp::Write(_)))
        .filter_map(|r| r.done.map(|(at, _)| (at - r.invoked) as f64 / MS as f64))
        .collect()
}

// The mean write latency against E[X(W−1 : N−1)] for several (N, W),
// within 4.5 standard errors of the sample mean (sample standard
// deviation over the square root of the number of writes, about 4,000)
// plus 0.01 ms for the rounding of each delay down to a microsecond.
#[test]
fn write_latency_is_the_order_statistic_of_exponential_round_trips() {
    let m = 5.0;
    for (n, w) in [(3, 2), (3, 3), (5, 2), (5, 3), (5, 5)] {
        let lat = write_latencies(n, w, m as u64, 7);
        let count = lat.len() as f64;
        assert!(count > 3_000.0, "{count} writes");
        let mean = lat.iter().sum::<f64>() / count;
        let sd = (lat.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (count - 1.0)).sqrt();
        let want = order_statistic_mean(w - 1, n - 1, m);
        println!("N={n} W={w}: {count} writes, mean {mean:.3} ms, order statistic {want:.3} ms");
        let bound = 4.5 * sd / count.sqrt() + 0.01;
        assert!(
            (mean - want).abs() <= bound,
            "N={n} W={w}: mean write latency {mean:.3} ms, order statistic {want:.3} ms (bound {bound:.3})"
        );
    }
}

fn p99s(text: &str) -> (f64, f64) {
    let mut lab = replay(text);
    (metric(&mut lab, "read_p99") / 1e3, metric(&mut lab, "write_p99") / 1e3)
}

// One slow replica (every message to or from it ten times as slow), the
// clients sending to S1 (a slow server that coordinates is slow in every
// role; here it is only a replica): with R = W = 1 an operation waits for
// the fastest answer, which is almost never the slow one, so its p99
// barely moves; with R = W = N every operation whose key the slow server
// replicates waits for it, so the p99 is its round trip (order
// statistics: the N-th of N is the slowest). The preset "One slow
// replica" shows both at once: R = 1 reads beside W = N writes.
#[test]
fn one_slow_replica_barely_moves_r1_w1_and_dominates_r_w_n() {
    let run = |rw: u32, slow: u32| {
        p99s(&format!(
            "# slow\nlab quorum\nseed 3\nnodes 5\nreplicas 3\nr {rw}\nw {rw}\nkeys 8\nlatency_min 1ms\nlatency_exp 5ms\n\
             slow_server {slow}\nslow_factor 10\nclients_to one\nretry_after 10s\nrequest_rate 200\ncheck_history off\nuntil 20s\n"
        ))
    };
    let (fast1, slow1) = (run(1, 0), run(1, 2));
    let (fast3, slow3) = (run(3, 0), run(3, 2));
    println!("p99 (read, write) ms: R=W=1 {fast1:?} -> {slow1:?}; R=W=3 {fast3:?} -> {slow3:?}");
    for (what, a, b) in [("read", fast1.0, slow1.0), ("write", fast1.1, slow1.1)] {
        assert!(b <= a * 1.3, "R = W = 1 {what} p99: {a:.1} ms without, {b:.1} ms with the slow replica");
    }
    for (what, a, b) in [("read", fast3.0, slow3.0), ("write", fast3.1, slow3.1)] {
        assert!(b >= a * 4.0, "R = W = 3 {what} p99: {a:.1} ms without, {b:.1} ms with the slow replica");
    }
    let mut lab = replay(include_str!("../../../tests/scenarios/quorum/slow-replica.scn"));
    let (read, write) = (metric(&mut lab, "read_p99"), metric(&mut lab, "write_p99"));
    assert!(write >= 4.0 * read, "the preset: write p99 {write} µs against read p99 {read} µs");
}

// Bad input: a slow server that is not one of the servers.
#[test]
fn a_slow_server_outside_the_cluster_is_refused() {
    quorum();
    let err = clusterscope_core::scenario::Scenario::parse("lab quorum\nnodes 3\nreplicas 3\nslow_server 4\n")
        .expect_err("refused")
        .to_string();
    assert!(err.contains("the slow server S4 is not one of the 3 servers"), "{err}");
}
