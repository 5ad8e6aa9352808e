//! The load-balancing model against queueing theory. Settings common to the
//! latency tests: no network latency, a timeout of 10 s (1000 mean service
//! times; at the highest load, 90 %, an M/M/1 sojourn exceeds it with
//! probability e^-100), no retries, queues of a million, one request at a
//! time per server, exponential cost of mean 1/μ = 10 ms, Poisson arrivals
//! at λ = ρ·μ·n. Latency is read from the histogram of completed requests,
//! with the first seconds discarded as warm-up: the histogram at the end
//! minus its copy at the end of the warm-up (requests completed after it).
//! hdrhistogram keeps 3 significant digits, 0.1 % at most on a mean.

use clusterscope_core::balance::{Balance, BalanceConfig, CostDist, Policy};
use clusterscope_core::sim::{Time, MS, SEC};

const MEAN_COST: Time = 10 * MS;
const MU: f64 = 1e6 / MEAN_COST as f64; // services per second

fn queueing(policy: Policy, n: u32, d: u32, rho: f64, seed: u64) -> BalanceConfig {
    BalanceConfig {
        servers: n,
        policy,
        d,
        rate: (rho * MU * f64::from(n)).round() as u64,
        cost: CostDist::Exponential,
        cost_mean: MEAN_COST,
        concurrency: 1,
        queue: 1_000_000,
        speeds: vec![100],
        latency: 0,
        timeout: 10 * SEC,
        retries: 0,
        retry_budget_ppm: 0,
        backoff: 0,
        ewma_tau: SEC,
        seed,
        ..BalanceConfig::default()
    }
}

/// Mean latency (in units of 1/μ) of requests completed between `warm` and
/// `end`, and how many there were.
fn steady_mean(cfg: BalanceConfig, warm: Time, end: Time) -> (f64, u64) {
    let mut b = Balance::new(cfg);
    b.run_until(warm);
    let before = b.latency().clone();
    b.run_until(end);
    let mut h = b.latency().clone();
    h.subtract(&before).expect("the histogram only grows");
    let t = b.totals();
    assert_eq!(t.rejected + t.timed_out + t.failed, 0, "nothing may end but by completing: {t:?}");
    (h.mean() / MEAN_COST as f64, h.len())
}

// Source: M/M/1 (Kleinrock, Queueing Systems vol. 1, 1975, section 3.2):
// random routing splits a Poisson stream into n independent Poisson streams
// of rate ρμ, so each server is an M/M/1 queue with mean time in system
// 1/(μ(1-ρ)): 2/μ at ρ = 0.5, 5/μ at 0.8, 10/μ at 0.9.
// n = 200 servers; warm-up 10 s (the M/M/1 relaxation time at ρ = 0.9 is
// 1/(μ(1-√ρ)²) ≈ 3.8 s); then 150 s. Tolerance: 5 % at every load. The
// sampling error of the mean of a busy M/M/1 is large (asymptotic variance
// of the time-average queue ≈ 2ρ(1+ρ)/(1-ρ)⁴ per service time, Whitt
// 1989): with 200 servers × 15,000 service times it is about 0.3 %, 0.6 %
// and 1.2 % of the mean at the three loads, so 5 % is 4 standard errors at
// ρ = 0.9 and more at the others.
#[test]
fn random_routing_is_m_m_1() {
    for (rho, tol) in [(0.5, 0.05), (0.8, 0.05), (0.9, 0.05)] {
        let (mean, count) = steady_mean(queueing(Policy::Random, 200, 1, rho, 1), 10 * SEC, 160 * SEC);
        let expect = 1.0 / (1.0 - rho);
        let err = (mean - expect) / expect;
        println!(
            "random, rho {rho}: mean {mean:.4}/mu over {count} requests, M/M/1 {expect:.4}/mu, error {:+.2} %",
            err * 100.0
        );
        assert!(err.abs() < tol, "rho {rho}: mean {mean:.4}/mu, expected {expect:.4}/mu (tolerance {} %)", tol * 100.0);
    }
}

/// Mitzenmacher (2001), "The Power of Two Choices in Randomized Load
/// Balancing", IEEE TPDS 12(10), theorem 3.6 and eq. (4): in the supermarket
/// model with n → ∞ the fraction of queues with at least i customers is
/// λ^((d^i − 1)/(d − 1)), and the expected time in system is
/// Σ_{i≥1} λ^((d^i − d)/(d − 1)) (in units of 1/μ).
fn supermarket(rho: f64, d: u32) -> f64 {
    let d = f64::from(d);
    let mut sum = 0.0;
    for i in 1..60 {
        let term = rho.powf((d.powi(i) - d) / (d - 1.0));
        sum += term;
        if term < 1e-15 {
            break;
        }
    }
    sum
}

// Source: Mitzenmacher (2001), theorem 3.6 (see `supermarket`). Values:
// d = 2: 1.2657, 1.9474, 2.6141 at ρ = 0.5, 0.8, 0.9; d = 3: 1.1252, 1.5809,
// 2.0279. n = 500 servers (the limit is for n → ∞; finite n adds an O(1/n)
// excess, and Mitzenmacher's own simulations at n = 100 agree within about
// 1 %), warm-up 5 s (queues are short), then 15 s: 375,000 to 675,000
// completions. Tolerance: 3 % (the finite-n excess plus sampling error;
// queues this short have a small variance). Power of d uses outstanding attempts, which
// with no network latency is exactly the queue length plus the one in
// service, and draws its d servers with replacement, as in the model.
#[test]
fn power_of_d_matches_the_supermarket_model() {
    for d in [2u32, 3] {
        for rho in [0.5, 0.8, 0.9] {
            let (mean, count) = steady_mean(queueing(Policy::PowerOfD, 500, d, rho, 2), 5 * SEC, 20 * SEC);
            let expect = supermarket(rho, d);
            let err = (mean - expect) / expect;
            println!("power of {d}, rho {rho}: mean {mean:.4}/mu over {count} requests, supermarket {expect:.4}/mu, error {:+.2} %", err * 100.0);
            assert!(err.abs() < 0.03, "d {d}, rho {rho}: mean {mean:.4}/mu, expected {expect:.4}/mu");
        }
    }
}

// The formula's own check: d = 2, λ = 0.9 is 1 + 0.9² + 0.9⁶ + 0.9¹⁴ + ...
// and T_d decreases in d towards 1 (no queueing).
#[test]
fn supermarket_formula_values() {
    let by_hand = 1.0 + 0.81 + 0.9f64.powi(6) + 0.9f64.powi(14) + 0.9f64.powi(30) + 0.9f64.powi(62) + 0.9f64.powi(126);
    assert!((supermarket(0.9, 2) - by_hand).abs() < 1e-9);
    assert!((supermarket(0.9, 2) - 2.6141).abs() < 1e-4 && (supermarket(0.8, 3) - 1.5809).abs() < 1e-4);
    assert!((supermarket(0.5, 3) - (1.0 + 0.125 + 0.5f64.powi(12) + 0.5f64.powi(39))).abs() < 1e-9);
    assert!(supermarket(0.9, 2) > supermarket(0.9, 3) && supermarket(0.9, 3) > 1.0);
}

// Source: independent trials (a geometric distribution truncated at N + 1
// attempts): if every attempt fails with probability p independently, a
// request with N retries makes K attempts, P(K = k) = p^(k−1)(1 − p) for
// k ≤ N and P(K = N + 1) = p^N, so E[K] = (1 − p^(N+1))/(1 − p), and it
// succeeds with probability 1 − p^(N+1). All servers fail p of requests
// (`errors`), the budget is 1000 % (10 tokens per request, far above the
// < 1.5 retries a request can use), back-off 1 ms, timeout 100 s (never
// reached: nothing is lost and the servers run at under 40 % load).
// 150,000 requests per case; arrivals then stop and every request ends.
// Tolerance: 5 standard errors of each mean, from the exact variance of K
// and of the Bernoulli success (about ±0.4 % of attempts per request).
#[test]
fn retries_follow_independent_trials() {
    for (p, retries) in [(0.3f64, 3u32), (0.7, 2), (0.5, 0), (0.3, 1)] {
        let cfg = BalanceConfig {
            servers: 10,
            policy: Policy::RoundRobin,
            d: 2,
            rate: 3_000,
            cost: CostDist::Exponential,
            cost_mean: MS,
            concurrency: 1,
            queue: 1_000_000,
            speeds: vec![100],
            latency: 0,
            timeout: 100 * SEC,
            retries,
            retry_budget_ppm: 10_000_000,
            backoff: MS,
            ewma_tau: SEC,
            seed: 3,
            ..BalanceConfig::default()
        };
        let mut b = Balance::new(cfg);
        for s in 0..10 {
            b.errors(s, (p * 1e6) as u32).unwrap();
        }
        b.run_until(50 * SEC);
        b.set_rate(0);
        b.run_until(60 * SEC);
        let t = b.totals();
        assert_eq!(t.open(), 0, "{t:?}");
        assert_eq!((t.rejected, t.timed_out, t.budget_refused), (0, 0, 0), "{t:?}");
        assert_eq!(t.attempts, t.requests + t.retries, "{t:?}");
        let n = t.requests as f64;
        // Exact moments of K.
        let (mut ek, mut ek2) = (0.0, 0.0);
        for k in 1..=retries + 1 {
            let pk = if k <= retries { p.powi(k as i32 - 1) * (1.0 - p) } else { p.powi(retries as i32) };
            ek += f64::from(k) * pk;
            ek2 += f64::from(k * k) * pk;
        }
        let closed = (1.0 - p.powi(retries as i32 + 1)) / (1.0 - p);
        assert!((ek - closed).abs() < 1e-12);
        let se_k = ((ek2 - ek * ek) / n).sqrt();
        let success = 1.0 - p.powi(retries as i32 + 1);
        let se_s = (success * (1.0 - success) / n).sqrt();
        let attempts = t.attempts as f64 / n;
        let ok = t.completed as f64 / n;
        println!(
            "p {p}, N {retries}: {} requests, attempts/request {attempts:.4} (theory {ek:.4} ± {se_k:.4}), success {ok:.4} (theory {success:.4} ± {se_s:.4})",
            t.requests
        );
        assert!(t.requests > 140_000);
        assert!(
            (attempts - ek).abs() <= 5.0 * se_k + 1e-12,
            "p {p}, N {retries}: {attempts:.4} attempts per request, expected {ek:.4}"
        );
        assert!((ok - success).abs() < 5.0 * se_s, "p {p}, N {retries}: success {ok:.4}, expected {success:.4}");
        assert_eq!(t.completed + t.failed, t.requests);
    }
}
