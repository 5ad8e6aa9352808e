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
//! | locality | two random servers near the balancer (k-means groups of clients on a map), the less loaded; if it has more than (1 + ε) × the mean outstanding, two of all | locality-aware balancing, as zone-aware routing in Envoy |
//! | consistent hash | the key's server by jump consistent hash; with bounded loads, the next server below (1 + ε) × the mean outstanding | Lamping and Veach (2014); Mirrokni, Thorup and Zadimoghaddam, "Consistent Hashing with Bounded Loads" (2018) |
//!
//! Weights are the servers' normal speeds. A balancer sees only its own
//! outstanding attempts and response times, and picks among the servers it
//! believes healthy and has not ejected (all of them if it believes none
//! is, as Envoy's panic mode does).

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
    /// Jump consistent hash of the request's key, optionally with bounded loads.
    ConsistentHash,
    /// The less loaded of two servers local to the balancer (nearest on the
    /// map), spilling over to two of all when it is above the load bound.
    Locality,
}

/// Policy names, as files write them, in menu order.
pub const NAMES: &[&str] = &[
    "random",
    "round_robin",
    "weighted_round_robin",
    "weighted_random",
    "least_connections",
    "power_of_d",
    "peak_ewma",
    "consistent_hash",
    "locality",
];

impl Policy {
    /// Every policy, in menu order.
    pub const ALL: [Policy; 9] = [
        Policy::Random,
        Policy::RoundRobin,
        Policy::WeightedRoundRobin,
        Policy::WeightedRandom,
        Policy::LeastConnections,
        Policy::PowerOfD,
        Policy::PeakEwma,
        Policy::ConsistentHash,
        Policy::Locality,
    ];

    /// The name files use.
    pub fn name(self) -> &'static str {
        NAMES[Policy::ALL.iter().position(|p| *p == self).unwrap_or(0)]
    }
}

impl Balance {
    /// The server balancer `bal` picks for the next attempt of a request
    /// with key `key`.
    pub(super) fn pick(&mut self, bal: u32, key: u64) -> u32 {
        let n = self.servers.len();
        if n <= 1 {
            return 0;
        }
        let now = self.now;
        let b = &self.balancers[bal as usize];
        if b.all_eligible(now) {
            // The common case: nobody excluded; no list to build.
            return self.pick_among(bal, key, None);
        }
        let mut eligible: Vec<u32> = (0..n as u32).filter(|&s| b.eligible(s as usize, now)).collect();
        if eligible.is_empty() {
            eligible = (0..n as u32).collect();
        }
        self.pick_among(bal, key, Some(eligible))
    }

    /// Picks among `eligible` (`None`: every server): each family of
    /// policies is one step below.
    fn pick_among(&mut self, bal: u32, key: u64, eligible: Option<Vec<u32>>) -> u32 {
        let n = self.servers.len();
        let all: Vec<u32>;
        let eligible: &[u32] = match &eligible {
            Some(e) => e,
            // The policies that draw an index need no list: an empty one
            // stands for every server.
            None if matches!(
                self.cfg.policy,
                Policy::Random | Policy::PowerOfD | Policy::PeakEwma | Policy::Locality
            ) =>
            {
                &[]
            }
            None => {
                all = (0..n as u32).collect();
                &all
            }
        };
        let among = Among { list: eligible, n };
        match self.cfg.policy {
            Policy::Random | Policy::WeightedRandom => self.pick_random(among),
            Policy::RoundRobin | Policy::WeightedRoundRobin => self.pick_in_turn(bal, among),
            Policy::LeastConnections | Policy::PowerOfD | Policy::PeakEwma => self.pick_least_loaded(bal, among),
            Policy::Locality => self.pick_local(bal, among),
            Policy::ConsistentHash => self.pick_by_key(bal, key, among),
        }
    }

    /// Random and weighted random: uniform, or in proportion to the
    /// servers' normal speeds.
    fn pick_random(&mut self, among: Among) -> u32 {
        if self.cfg.policy == Policy::Random {
            return among.at(self.picks.range(0, among.len() - 1) as usize);
        }
        let eligible = among.list;
        let total: u64 = eligible.iter().map(|&s| u64::from(self.servers[s as usize].base_speed)).sum();
        let mut x = self.picks.range(0, total.max(1) - 1);
        for &s in eligible {
            let w = u64::from(self.servers[s as usize].base_speed);
            if x < w {
                return s;
            }
            x -= w;
        }
        eligible[eligible.len() - 1]
    }

    /// Round robin and smooth weighted round robin (nginx): the next
    /// eligible server in turn, or the one whose current weight is largest.
    fn pick_in_turn(&mut self, bal: u32, among: Among) -> u32 {
        let (eligible, n) = (among.list, among.n);
        if self.cfg.policy == Policy::RoundRobin {
            let b = &mut self.balancers[bal as usize];
            // The next eligible server in turn from where it left off.
            let start = b.rr_next as usize % n;
            let s = (0..n).map(|k| ((start + k) % n) as u32).find(|s| eligible.contains(s)).unwrap_or(0);
            b.rr_next = (s + 1) % n as u32;
            return s;
        }
        let weights: Vec<i64> = self.servers.iter().map(|s| i64::from(s.base_speed)).collect();
        let b = &mut self.balancers[bal as usize];
        let total: i64 = eligible.iter().map(|&s| weights[s as usize]).sum();
        let mut best = eligible[0];
        for &s in eligible {
            b.wrr_current[s as usize] += weights[s as usize];
            if b.wrr_current[s as usize] > b.wrr_current[best as usize] {
                best = s;
            }
        }
        b.wrr_current[best as usize] -= total;
        best
    }

    /// Least connections, power of d choices and peak EWMA: the server
    /// with the fewest outstanding attempts, among all of them or among d
    /// at random, or the lower EWMA cost of two at random.
    fn pick_least_loaded(&mut self, bal: u32, among: Among) -> u32 {
        let m = among.len();
        match self.cfg.policy {
            Policy::LeastConnections => {
                let b = &self.balancers[bal as usize];
                among.list.iter().copied().min_by_key(|&s| (b.out(s), s)).unwrap_or(0)
            }
            Policy::PowerOfD => {
                let d = self.cfg.d.clamp(1, m as u32);
                let mut best = among.at(self.picks.range(0, m - 1) as usize);
                for _ in 1..d {
                    let c = among.at(self.picks.range(0, m - 1) as usize);
                    let b = &self.balancers[bal as usize];
                    if b.out(c) < b.out(best) {
                        best = c;
                    }
                }
                best
            }
            _ => {
                let i = self.picks.range(0, m - 1) as usize;
                let mut j = if m > 1 { self.picks.range(0, m - 2) as usize } else { 0 };
                if m > 1 && j >= i {
                    j += 1;
                }
                let (a, c) = (among.at(i), among.at(j.min(m as usize - 1)));
                let b = &self.balancers[bal as usize];
                let (now, tau) = (self.now, self.cfg.ewma_tau.max(1) as f64);
                // Between answers the estimate decays towards zero with
                // time constant τ (Finagle's `PeakEwma` reads it as
                // `observe(0.0)`), so a server once slow is tried again.
                let cost = |s: u32| {
                    let i = s as usize;
                    let age = now - b.ewma_at[i].min(now);
                    (b.ewma[i] * libm::exp(-(age as f64) / tau)).max(1.0) * f64::from(b.out(s) + 1)
                };
                if cost(c) < cost(a) {
                    c
                } else {
                    a
                }
            }
        }
    }

    /// Locality: the less loaded of two servers near the balancer; two of
    /// all when there is none near, or when the pick is above the bound.
    fn pick_local(&mut self, bal: u32, among: Among) -> u32 {
        let eligible = among.list;
        let m = among.len();
        let local: Vec<u32> = self
            .local(bal)
            .map(|l| l.iter().copied().filter(|&s| eligible.is_empty() || eligible.contains(&s)).collect())
            .unwrap_or_default();
        let b = &self.balancers[bal as usize];
        let two = |cands: &[u32], rng: &mut crate::sim::Rng| -> u32 {
            let a = cands[rng.range(0, cands.len() as u64 - 1) as usize];
            let c = cands[rng.range(0, cands.len() as u64 - 1) as usize];
            if b.out(c) < b.out(a) {
                c
            } else {
                a
            }
        };
        let all: Vec<u32> = (0..m as usize).map(|k| among.at(k)).collect();
        if local.is_empty() {
            return two(&all, &mut self.picks);
        }
        let s = two(&local, &mut self.picks);
        let eps = if self.cfg.epsilon_pct == 0 { 25 } else { self.cfg.epsilon_pct };
        let total: u64 = all.iter().map(|&x| u64::from(b.out(x))).sum();
        let bound = (100 + u64::from(eps)) as f64 * total as f64 / (100.0 * m as f64) + 1.0;
        if f64::from(b.out(s)) > bound {
            two(&all, &mut self.picks)
        } else {
            s
        }
    }

    /// Consistent hash: the key's server by jump consistent hash; with
    /// bounded loads, the first eligible one from there below capacity.
    fn pick_by_key(&mut self, bal: u32, key: u64, among: Among) -> u32 {
        let (eligible, n, m) = (among.list, among.n, among.len());
        let h = xxhash_rust::xxh3::xxh3_64(&key.to_le_bytes());
        let home = crate::ring::jump_hash(h, n as u32);
        let b = &self.balancers[bal as usize];
        let cap = (self.cfg.epsilon_pct > 0).then(|| {
            // Bounded loads: capacity ⌈(1 + ε) · (outstanding + 1) / servers⌉.
            let total: u64 = eligible.iter().map(|&s| u64::from(b.out(s))).sum::<u64>() + 1;
            ((100 + u64::from(self.cfg.epsilon_pct)) * total).div_ceil(100 * m) as u32
        });
        // From the key's server on, the first eligible one below
        // capacity (the key's own server when loads are unbounded).
        (0..n as u32)
            .map(|k| (home + k) % n as u32)
            .find(|&s| eligible.contains(&s) && cap.is_none_or(|c| b.out(s) < c))
            .unwrap_or(home)
    }
}

/// The servers a pick chooses among: a list of server numbers, or an empty
/// list for all `n` of them (index k is then server k).
#[derive(Clone, Copy)]
struct Among<'a> {
    list: &'a [u32],
    n: usize,
}

impl Among<'_> {
    /// The `k`th server chosen among.
    fn at(self, k: usize) -> u32 {
        if self.list.is_empty() {
            k as u32
        } else {
            self.list[k]
        }
    }

    /// How many servers are chosen among.
    fn len(self) -> u64 {
        if self.list.is_empty() {
            self.n as u64
        } else {
            self.list.len() as u64
        }
    }
}

impl super::Balancer {
    /// This balancer's outstanding attempts at server `s`.
    fn out(&self, s: u32) -> u32 {
        self.outstanding[s as usize]
    }
}
