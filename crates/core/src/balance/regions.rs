//! Regions: clients and servers on a map (the unit square), balancers
//! placed by k-means over the clients' positions (each client uses its
//! group's balancer), latency growing with distance, and the servers local
//! to each balancer, which locality-aware routing prefers until they are
//! overloaded.
//!
//! Region centres sit on a circle, the first region the busiest; servers
//! are spread around the centres in turn. Every position is drawn from the
//! run's own seeded stream, so a seed gives the same map everywhere.

use super::{uniform, Balance, BalanceConfig};
use crate::sim::{Rng, StreamKind, Time};

/// The map of regions: where clients come from, where servers and
/// balancers sit, and which servers are local to each balancer.
#[derive(Clone, Debug)]
pub(super) struct Map {
    centers: Vec<(f64, f64)>,
    /// Share of clients per region (the first region has the most).
    weights: Vec<f64>,
    servers: Vec<(f64, f64)>,
    centroids: Vec<(f64, f64)>,
    local: Vec<Vec<u32>>,
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    libm::sqrt((a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1))
}

fn nearest(points: &[(f64, f64)], p: (f64, f64)) -> usize {
    let mut best = 0;
    for (i, q) in points.iter().enumerate() {
        if dist(*q, p) < dist(points[best], p) {
            best = i;
        }
    }
    best
}

fn gaussian(rng: &mut Rng) -> f64 {
    let (u1, u2) = (uniform(rng), uniform(rng));
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

impl Map {
    pub(super) fn new(cfg: &BalanceConfig) -> Map {
        let r = cfg.regions.max(1) as usize;
        // Region centres on a circle around the middle of the unit square.
        let centers: Vec<(f64, f64)> = (0..r)
            .map(|i| {
                let a = 2.0 * std::f64::consts::PI * i as f64 / r as f64;
                if r == 1 {
                    (0.5, 0.5)
                } else {
                    (0.5 + 0.35 * libm::cos(a), 0.5 + 0.35 * libm::sin(a))
                }
            })
            .collect();
        let weights: Vec<f64> = (0..r).map(|i| (r - i) as f64).collect();
        let mut rng = Rng::stream(cfg.seed, StreamKind::Lab, 22);
        let servers = (0..cfg.servers as usize)
            .map(|i| {
                let c = centers[i % r];
                (c.0 + 0.05 * gaussian(&mut rng), c.1 + 0.05 * gaussian(&mut rng))
            })
            .collect();
        let mut map = Map { centers, weights, servers, centroids: Vec::new(), local: Vec::new() };
        // k-means (Lloyd's algorithm) over a sample of client positions:
        // one balancer per group, at its centroid.
        let sample: Vec<(f64, f64)> = (0..2_000).map(|_| map.client(&mut rng)).collect();
        let k = cfg.balancers.max(1) as usize;
        let mut centroids: Vec<(f64, f64)> = (0..k).map(|i| sample[i * sample.len() / k]).collect();
        for _ in 0..25 {
            let mut sums = vec![(0.0, 0.0, 0usize); k];
            for p in &sample {
                let c = nearest(&centroids, *p);
                sums[c].0 += p.0;
                sums[c].1 += p.1;
                sums[c].2 += 1;
            }
            for (c, s) in centroids.iter_mut().zip(&sums) {
                if s.2 > 0 {
                    *c = (s.0 / s.2 as f64, s.1 / s.2 as f64);
                }
            }
        }
        let mut local = vec![Vec::new(); k];
        for (i, s) in map.servers.iter().enumerate() {
            local[nearest(&centroids, *s)].push(i as u32);
        }
        for (b, l) in local.iter_mut().enumerate() {
            if l.is_empty() {
                l.push(nearest(&map.servers, centroids[b]) as u32);
            }
        }
        map.centroids = centroids;
        map.local = local;
        map
    }

    /// The balancer a new client uses: the one of its k-means group.
    pub(super) fn client_balancer(&self, rng: &mut Rng) -> u32 {
        let p = self.client(rng);
        nearest(&self.centroids, p) as u32
    }

    /// A client's position: a region drawn by weight, then a spread around it.
    fn client(&self, rng: &mut Rng) -> (f64, f64) {
        let total: f64 = self.weights.iter().sum();
        let mut x = uniform(rng) * total;
        let mut region = 0;
        for (i, w) in self.weights.iter().enumerate() {
            if x <= *w {
                region = i;
                break;
            }
            x -= w;
            region = i;
        }
        let c = self.centers[region];
        (c.0 + 0.08 * gaussian(rng), c.1 + 0.08 * gaussian(rng))
    }
}

impl Balance {
    /// One-way latency between a balancer and a server.
    pub fn hop(&self, balancer: u32, server: u32) -> Time {
        match &self.map {
            Some(map) => {
                let d = dist(map.centroids[balancer as usize % map.centroids.len()], map.servers[server as usize]);
                self.cfg.latency + (d * self.cfg.distance_latency as f64).round() as Time
            }
            None => self.cfg.latency,
        }
    }

    /// Mean one-way hop latency of the attempts sent so far.
    pub fn mean_hop(&self) -> f64 {
        if self.totals.attempts == 0 {
            f64::NAN
        } else {
            self.hop_sum as f64 / self.totals.attempts as f64
        }
    }

    /// The servers local to balancer `b` (nearest to it on the map).
    pub(super) fn local(&self, b: u32) -> Option<&[u32]> {
        self.map.as_ref().map(|m| m.local[b as usize % m.local.len()].as_slice())
    }
}
