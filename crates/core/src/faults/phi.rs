//! The φ accrual failure detector's arithmetic (Hayashibara, Défago,
//! Yared and Katayama, "The φ Accrual Failure Detector", 2004).
//!
//! A member keeps a window of the last inter-arrival times of a peer's
//! heartbeats and fits a distribution to them. Given the time `t` since the
//! last heartbeat, `φ(t) = −log10(P_later(t))`, where `P_later(t)` is the
//! probability that the next heartbeat arrives more than `t` after the last
//! one. φ = 1 means a 10% chance of being wrong in suspecting now, φ = 8 a
//! chance of 10⁻⁸.
//!
//! Two fits, as the two best-known implementations do:
//!
//! * **normal** (Akka's `PhiAccrualFailureDetector`): mean μ and standard
//!   deviation σ of the window (σ no smaller than a minimum); `P_later` is
//!   the normal tail, computed with Akka's logistic approximation of the
//!   normal CDF, `1 / (1 + e^(−y(1.5976 + 0.070566 y²)))` with
//!   `y = (t − μ) / σ` (error below 1.4·10⁻⁴);
//! * **exponential** (Cassandra's `FailureDetector`): `P_later(t) =
//!   e^(−t/μ)`, so `φ(t) = t / (μ ln 10)`: Cassandra's `PHI_FACTOR` is
//!   `1 / ln 10`, and its default `phi_convict_threshold` of 8 convicts a
//!   peer about 18.4 mean intervals after its last heartbeat.
//!
//! Transcendental functions come from `libm`, so the bits are the same
//! natively and in wasm.

/// The distribution fitted to the inter-arrival times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Normal with the window's mean and standard deviation (Akka).
    Normal,
    /// Exponential with the window's mean (Cassandra).
    Exponential,
}

/// Mean and (population) standard deviation of a window of inter-arrival
/// times, in microseconds; `None` for an empty window.
pub fn mean_std(window: &[u32]) -> Option<(f64, f64)> {
    if window.is_empty() {
        return None;
    }
    let n = window.len() as f64;
    let mean = window.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = window.iter().map(|&x| (f64::from(x) - mean) * (f64::from(x) - mean)).sum::<f64>() / n;
    Some((mean, libm::sqrt(var)))
}

/// φ under the normal fit, exactly as Akka computes it: `t` since the last
/// heartbeat, the fitted mean and standard deviation (same unit).
pub fn phi_normal(t: f64, mean: f64, std: f64) -> f64 {
    let y = (t - mean) / std.max(f64::MIN_POSITIVE);
    let e = libm::exp(-y * (1.5976 + 0.070566 * y * y));
    if t > mean {
        -libm::log10(e / (1.0 + e))
    } else {
        -libm::log10(1.0 - 1.0 / (1.0 + e))
    }
}

/// φ under the exponential fit, as Cassandra computes it:
/// `t / mean · 1/ln 10`.
pub fn phi_exponential(t: f64, mean: f64) -> f64 {
    t / mean.max(f64::MIN_POSITIVE) / std::f64::consts::LN_10
}

/// φ of time `t` since the last heartbeat under `fit`.
pub fn phi(fit: Fit, t: f64, mean: f64, std: f64) -> f64 {
    match fit {
        Fit::Normal => phi_normal(t, mean, std),
        Fit::Exponential => phi_exponential(t, mean),
    }
}

/// How long after the last heartbeat φ reaches `threshold` (φ grows with
/// the time waited, so a member can arm one timer for it instead of
/// polling): closed form for the exponential fit, bisection to a
/// microsecond for the normal one.
pub fn crossing(fit: Fit, threshold: f64, mean: f64, std: f64) -> f64 {
    match fit {
        Fit::Exponential => threshold * mean * std::f64::consts::LN_10,
        Fit::Normal => {
            let (mut lo, mut hi) = (0.0f64, mean.max(1.0));
            let mut guard = 0;
            while phi_normal(hi, mean, std) < threshold && guard < 200 {
                lo = hi;
                hi *= 2.0;
                guard += 1;
            }
            while hi - lo > 0.5 {
                let mid = 0.5 * (lo + hi);
                if phi_normal(mid, mean, std) < threshold {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            hi
        }
    }
}
