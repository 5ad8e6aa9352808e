//! Optimistic aborts at low contention against a closed form.
//!
//! The derivation (the standard conflict-window argument; see Kung and
//! Robinson, "On Optimistic Methods for Concurrency Control", ACM TODS
//! 1981, and Gray and Reuter, "Transaction Processing", §7.11, for the
//! same estimate for locks):
//!
//! * With a fixed one-way latency L, an attempt's read is served at the
//!   storage at some time r and its compare-and-set at r + D, where
//!   D = 2L + W (the answer goes back, the client works W, the
//!   compare-and-set comes in). It aborts exactly when another client's
//!   write to the same key is applied inside that window.
//! * A client's cycle at low contention is its think time, a read round
//!   trip, its work and a write round trip: C = T + 4L + W, so it commits
//!   at rate 1/C. Each write picks one of K keys uniformly.
//! * The other N-1 clients' writes to this key then arrive at rate
//!   (N-1)/(C K); taking them as a Poisson stream (a superposition of
//!   many independent renewal streams), the chance that none lands in the
//!   window is exp(-(N-1) D / (C K)):
//!
//!   p_abort = 1 - exp(-(N-1) D / (C K)).
//!
//! With N = 20, K = 100, T = 100 ms, L = 10 ms, W = 50 ms: D = 70 ms,
//! C = 190 ms, p = 1 - exp(-0.07) = 0.0676. Over 300 s of virtual time
//! there are about 31,000 attempts, so the binomial standard error of the
//! measured share is about 0.0014 (2 % of p); the bound below, 10 % of
//! p, allows five standard errors and the approximation's own error.
//! Four times the keys divides the exponent by four.

mod locks_common;

use locks_common::{metric, run};

fn measured(keys: u32) -> (f64, f64) {
    let text = format!(
        "# optimistic\nlab locks\nseed 11\nclients 20\nkeyspace {keys}\nstrategy optimistic\nthink 100ms\nwork 50ms\nlatency_min 10ms\nlatency_max 10ms\nuntil 300s\n"
    );
    let mut lab = run(&text);
    assert!(lab.violation().is_none());
    let (txns, aborts) = (metric(&mut lab, "txns"), metric(&mut lab, "aborts"));
    (aborts / (txns + aborts), txns + aborts)
}

fn closed_form(keys: f64) -> f64 {
    let (n, d, c) = (20.0, 0.070, 0.190);
    1.0 - (-(n - 1.0) * d / (c * keys)).exp()
}

#[test]
fn optimistic_aborts_match_the_conflict_window() {
    for keys in [100u32, 400] {
        let (share, attempts) = measured(keys);
        let p = closed_form(f64::from(keys));
        eprintln!("{keys} keys: {attempts} attempts, aborted share {share:.4}, closed form {p:.4}");
        assert!(attempts > 25_000.0, "{attempts} attempts");
        assert!((share - p).abs() < 0.10 * p, "{keys} keys: aborted share {share:.4}, closed form {p:.4}");
    }
}
