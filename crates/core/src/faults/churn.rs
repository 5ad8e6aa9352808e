//! Members that fail and come back on their own: exponential or Weibull
//! times to failure (mean MTTF) and to repair (mean MTTR), each member
//! independently, and optionally whole zones (racks) of members failing
//! at once.
//!
//! A Weibull time of shape `k` and scale `λ` is `λ·(−ln U)^(1/k)` for a
//! uniform `U` in (0, 1]; its mean is `λ·Γ(1 + 1/k)`. The lab keeps MTTF
//! and MTTR as the means whatever the shape, so the scale is
//! `mean / Γ(1 + 1/k)`: shape 1 is the exponential; below 1, failures
//! come early or very late (infant mortality, a long tail); above 1, they
//! bunch around the mean (wear-out). Availability of an alternating
//! renewal process depends on the means alone, so `p` is the same for
//! every shape; the shapes change how long each outage and each up time
//! last, and so how failures overlap in a short run.
//!
//! With independent members, each is down a share
//! `p = MTTR / (MTTF + MTTR)` of the time (an alternating renewal process),
//! and the number down at once follows the binomial model the issue's
//! seeds give: `P(k of n down) = C(n,k) p^k (1−p)^(n−k)`. A zone failure
//! takes down `zone` members together, which the binomial model, built on
//! independence, does not foresee: many members down at once becomes far
//! likelier than it predicts.
//!
//! [`Churn`] draws the plan from its own random stream (the scenario's
//! seed), one fault at a time; the lab injects each when it is due, as a
//! user's `crash` or `restart` would be. [`measure`] runs the plan alone
//! (no detector) and measures the share of time each number of members is
//! down, for the experiments and the tests.

use crate::sim::{Fault, NodeId, Rng, StreamKind, Time};
use std::collections::VecDeque;

/// The churn's parameters (times in microseconds; 0 turns a part off).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChurnConfig {
    /// Members.
    pub n: u32,
    /// Mean time to failure of one member (0: no independent failures).
    pub mttf: Time,
    /// Mean time to repair.
    pub mttr: Time,
    /// Members in a zone (0: no zone failures); zone `z` is members
    /// `z·zone .. (z+1)·zone`.
    pub zone: u32,
    /// Mean time between failures of one zone (0: none).
    pub zone_mttf: Time,
    /// Weibull shape of the times to failure, in thousandths (1000, or
    /// 0: exponential).
    pub shape_f: u32,
    /// Weibull shape of the times to repair, in thousandths (1000, or 0:
    /// exponential).
    pub shape_r: u32,
}

impl ChurnConfig {
    /// Whether anything fails on its own.
    pub fn active(&self) -> bool {
        self.mttr > 0 && (self.mttf > 0 || (self.zone > 0 && self.zone_mttf > 0))
    }
    /// The share of time an independent member is down, `MTTR / (MTTF +
    /// MTTR)` (NaN without independent failures).
    pub fn p(&self) -> f64 {
        if self.mttf == 0 || self.mttr == 0 {
            return f64::NAN;
        }
        self.mttr as f64 / (self.mttf as f64 + self.mttr as f64)
    }
    fn zones(&self) -> u32 {
        if self.zone == 0 || self.zone_mttf == 0 {
            0
        } else {
            self.n.div_ceil(self.zone)
        }
    }
}

/// The binomial model: the probability that exactly `k` of `n` independent
/// members are down, each down with probability `p`.
pub fn binomial(n: u32, k: u32, p: f64) -> f64 {
    if k > n {
        return 0.0;
    }
    // ln C(n,k) by sums of logarithms (exact enough for n ≤ a few
    // thousand), then the powers.
    let ln_c: f64 = (0..k).map(|i| libm::log(f64::from(n - i)) - libm::log(f64::from(i + 1))).sum();
    if p <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if p >= 1.0 {
        return if k == n { 1.0 } else { 0.0 };
    }
    libm::exp(ln_c + f64::from(k) * libm::log(p) + f64::from(n - k) * libm::log(1.0 - p))
}

/// The binomial model's probability that at most `f` of `n` are down.
pub fn binomial_at_most(n: u32, f: u32, p: f64) -> f64 {
    (0..=f.min(n)).map(|k| binomial(n, k, p)).sum::<f64>().min(1.0)
}

/// An exponential draw with mean `mean` (µs), at least 1.
fn exponential(rng: &mut Rng, mean: Time) -> Time {
    // A uniform in (0, 1]: 53 random bits.
    let u = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    ((-libm::log(u)) * mean as f64).round().clamp(1.0, 1e15) as Time
}

/// A Weibull draw of shape `k` and scale `scale` (µs):
/// `scale·(−ln U)^(1/k)`, `U` uniform in (0, 1].
pub fn weibull(rng: &mut Rng, scale: f64, k: f64) -> f64 {
    let u = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    scale * libm::pow(-libm::log(u), 1.0 / k)
}

/// A time with mean `mean` (µs) and Weibull shape `shape` thousandths
/// (1000 or 0: the exponential, drawn as before shapes existed), at
/// least 1.
fn lifetime(rng: &mut Rng, mean: Time, shape: u32) -> Time {
    if shape == 0 || shape == 1000 {
        return exponential(rng, mean);
    }
    let k = f64::from(shape) / 1000.0;
    let scale = mean as f64 / libm::tgamma(1.0 + 1.0 / k);
    weibull(rng, scale, k).round().clamp(1.0, 1e15) as Time
}

/// The plan of failures and repairs, drawn one fault at a time.
#[derive(Clone, Debug)]
pub struct Churn {
    cfg: ChurnConfig,
    rng: Rng,
    /// Per member: down on its own, and when that next changes.
    own_down: Vec<bool>,
    own_next: Vec<Time>,
    /// Per zone: down, and when that next changes.
    zone_down: Vec<bool>,
    zone_next: Vec<Time>,
    /// Faults due at one instant, not handed out yet.
    pending: VecDeque<(Time, Fault)>,
}

impl Churn {
    /// The plan for `cfg`, from the run's seed.
    pub fn new(cfg: ChurnConfig, seed: u64) -> Churn {
        let mut rng = Rng::stream(seed, StreamKind::Lab, 25_000);
        let n = cfg.n as usize;
        let own_next = (0..n)
            .map(|_| if cfg.mttf > 0 && cfg.mttr > 0 { lifetime(&mut rng, cfg.mttf, cfg.shape_f) } else { Time::MAX })
            .collect();
        let zones = cfg.zones() as usize;
        let zone_next =
            (0..zones).map(|_| if cfg.mttr > 0 { exponential(&mut rng, cfg.zone_mttf) } else { Time::MAX }).collect();
        Churn {
            cfg,
            rng,
            own_down: vec![false; n],
            own_next,
            zone_down: vec![false; zones],
            zone_next,
            pending: VecDeque::new(),
        }
    }

    fn down(&self, m: usize) -> bool {
        let zone = if self.cfg.zone > 0 { m / self.cfg.zone as usize } else { 0 };
        self.own_down[m] || self.zone_down.get(zone).copied().unwrap_or(false)
    }

    /// The next planned fault (a crash or a restart) and when it is due;
    /// `None` if nothing ever fails.
    pub fn next_fault(&mut self) -> Option<(Time, Fault)> {
        loop {
            if let Some(f) = self.pending.pop_front() {
                return Some(f);
            }
            let own = self.own_next.iter().enumerate().min_by_key(|(i, t)| (**t, *i)).map(|(i, t)| (*t, i));
            let zone = self.zone_next.iter().enumerate().min_by_key(|(i, t)| (**t, *i)).map(|(i, t)| (*t, i));
            let zone_first = match (own, zone) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some((a, _)), Some((b, _))) => b < a,
            };
            if zone_first {
                let (at, z) = zone?;
                if at == Time::MAX {
                    return None;
                }
                let members: Vec<usize> =
                    (z * self.cfg.zone as usize..((z + 1) * self.cfg.zone as usize).min(self.cfg.n as usize)).collect();
                let before: Vec<bool> = members.iter().map(|&m| self.down(m)).collect();
                self.zone_down[z] = !self.zone_down[z];
                let mean = if self.zone_down[z] { self.cfg.mttr } else { self.cfg.zone_mttf };
                self.zone_next[z] = at.saturating_add(exponential(&mut self.rng, mean));
                for (m, was) in members.into_iter().zip(before) {
                    if was != self.down(m) {
                        let f = if was { Fault::Restart(m as NodeId) } else { Fault::Crash(m as NodeId) };
                        self.pending.push_back((at, f));
                    }
                }
            } else {
                let (at, m) = own?;
                if at == Time::MAX {
                    return None;
                }
                let was = self.down(m);
                self.own_down[m] = !self.own_down[m];
                let (mean, shape) = if self.own_down[m] {
                    (self.cfg.mttr, self.cfg.shape_r)
                } else {
                    (self.cfg.mttf, self.cfg.shape_f)
                };
                self.own_next[m] = at.saturating_add(lifetime(&mut self.rng, mean, shape));
                if was != self.down(m) {
                    let f = if was { Fault::Restart(m as NodeId) } else { Fault::Crash(m as NodeId) };
                    self.pending.push_back((at, f));
                }
            }
        }
    }
}

/// Time spent with each number of members down, as a run accumulates it.
#[derive(Clone, Debug, Default)]
pub struct DownTime {
    /// `time[k]`: time with exactly `k` members down.
    pub time: Vec<Time>,
    /// Members down now.
    pub down: u32,
    /// When `down` last changed.
    pub since: Time,
}

impl DownTime {
    /// Counting `n` members, all up, from time 0.
    pub fn new(n: u32) -> DownTime {
        DownTime { time: vec![0; n as usize + 1], down: 0, since: 0 }
    }
    /// `down` members are down from `now` on.
    pub fn change(&mut self, now: Time, down: u32) {
        if let Some(slot) = self.time.get_mut(self.down as usize) {
            *slot += now.saturating_sub(self.since);
        }
        self.down = down;
        self.since = now;
    }
    /// The share of time up to `now` with exactly `k` down.
    pub fn share(&self, now: Time, k: u32) -> f64 {
        if now == 0 {
            return if k == 0 { 1.0 } else { 0.0 };
        }
        let mut t = self.time.get(k as usize).copied().unwrap_or(0);
        if k == self.down {
            t += now.saturating_sub(self.since);
        }
        t as f64 / now as f64
    }
    /// The share of time up to `now` with at most `f` down: the
    /// availability of a service that needs `n − f` members.
    pub fn at_most(&self, now: Time, f: u32) -> f64 {
        (0..=f).map(|k| self.share(now, k)).sum::<f64>().min(1.0)
    }
}

/// Runs the churn plan alone for `horizon` and returns the time spent with
/// each number of members down.
pub fn measure(cfg: ChurnConfig, seed: u64, horizon: Time) -> DownTime {
    let mut churn = Churn::new(cfg, seed);
    let mut down = vec![false; cfg.n as usize];
    let mut count = 0u32;
    let mut dt = DownTime::new(cfg.n);
    while let Some((at, f)) = churn.next_fault() {
        if at > horizon {
            break;
        }
        match f {
            Fault::Crash(m) if !down[m as usize] => {
                down[m as usize] = true;
                count += 1;
            }
            Fault::Restart(m) if down[m as usize] => {
                down[m as usize] = false;
                count -= 1;
            }
            _ => continue,
        }
        dt.change(at, count);
    }
    dt.change(horizon, count);
    dt
}
