//! Balancing policies: which server gets the next attempt.
//!
//! | policy | rule | source |
//! |---|---|---|
//! | random | uniform among the servers | the baseline of Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing" (2001) |
//! | round robin | the next server in turn | nginx's default |
//! | weighted round robin | smooth weighted round robin: add each weight to its current value, pick the largest, subtract the total from it | nginx (`ngx_http_upstream_round_robin.c`): weights 5, 1, 1 give a a b a c a a |
//! | weighted random | a server with probability proportional to its weight | |
//! | least connections | the server with fewest outstanding attempts (first on ties) | nginx `least_conn`, HAProxy `leastconn` |
//! | power of d choices | d servers at random, the one with fewest outstanding | Mitzenmacher (2001): the supermarket model |
//! | peak EWMA | two servers at random, the lower (peak EWMA of response time) × (outstanding + 1) | Finagle, Linkerd ("Beyond Round Robin", 2016) |
//!
//! Weights are the servers' normal speeds. Every policy skips crashed
//! servers only by what the balancer sees: nothing (no health checks yet),
//! so a crashed server keeps getting its share until it times out.

use super::Balance;

/// A balancing policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Uniform random.
    Random,
    /// In turn.
    RoundRobin,
    /// Smooth weighted round robin (nginx).
    WeightedRoundRobin,
    /// Random, proportional to weight.
    WeightedRandom,
    /// Fewest outstanding attempts.
    LeastConnections,
    /// The least loaded of d random servers.
    PowerOfD,
    /// Peak EWMA of response time over two random servers.
    PeakEwma,
}

/// Policy names, as files write them, in menu order.
pub const NAMES: &[&str] =
    &["random", "round_robin", "weighted_round_robin", "weighted_random", "least_connections", "power_of_d", "peak_ewma"];

impl Policy {
    /// Every policy, in menu order.
    pub const ALL: [Policy; 7] = [
        Policy::Random,
        Policy::RoundRobin,
        Policy::WeightedRoundRobin,
        Policy::WeightedRandom,
        Policy::LeastConnections,
        Policy::PowerOfD,
        Policy::PeakEwma,
    ];

    /// The name files use.
    pub fn name(self) -> &'static str {
        NAMES[Policy::ALL.iter().position(|p| *p == self).unwrap_or(0)]
    }
}

impl Balance {
    /// The server the policy picks for the next attempt.
    pub(super) fn pick(&mut self) -> u32 {
        let n = self.servers.len() as u32;
        if n <= 1 {
            return 0;
        }
        match self.cfg.policy {
            Policy::Random => self.picks.range(0, u64::from(n) - 1) as u32,
            Policy::RoundRobin => {
                let s = self.rr_next % n;
                self.rr_next = (s + 1) % n;
                s
            }
            Policy::WeightedRoundRobin => {
                let total: i64 = self.servers.iter().map(|s| i64::from(s.base_speed)).sum();
                let mut best = 0;
                for (i, s) in self.servers.iter().enumerate() {
                    self.wrr_current[i] += i64::from(s.base_speed);
                    if self.wrr_current[i] > self.wrr_current[best] {
                        best = i;
                    }
                }
                self.wrr_current[best] -= total;
                best as u32
            }
            Policy::WeightedRandom => {
                let total: u64 = self.servers.iter().map(|s| u64::from(s.base_speed)).sum();
                let mut x = self.picks.range(0, total.max(1) - 1);
                for (i, s) in self.servers.iter().enumerate() {
                    let w = u64::from(s.base_speed);
                    if x < w {
                        return i as u32;
                    }
                    x -= w;
                }
                n - 1
            }
            Policy::LeastConnections => {
                let mut best = 0;
                for (i, s) in self.servers.iter().enumerate() {
                    if s.outstanding < self.servers[best].outstanding {
                        best = i;
                    }
                }
                best as u32
            }
            Policy::PowerOfD => {
                let d = self.cfg.d.clamp(1, n);
                let mut best = self.picks.range(0, u64::from(n) - 1) as u32;
                for _ in 1..d {
                    let c = self.picks.range(0, u64::from(n) - 1) as u32;
                    if self.servers[c as usize].outstanding < self.servers[best as usize].outstanding {
                        best = c;
                    }
                }
                best
            }
            Policy::PeakEwma => {
                let a = self.picks.range(0, u64::from(n) - 1) as u32;
                let mut b = self.picks.range(0, u64::from(n) - 2) as u32;
                if b >= a {
                    b += 1;
                }
                let cost = |s: &super::Server| (s.ewma.max(1.0)) * f64::from(s.outstanding + 1);
                if cost(&self.servers[b as usize]) < cost(&self.servers[a as usize]) {
                    b
                } else {
                    a
                }
            }
        }
    }
}
