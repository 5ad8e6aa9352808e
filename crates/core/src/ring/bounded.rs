//! Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam,
//! "Consistent Hashing with Bounded Loads", SODA 2018).
//!
//! The ring, with a capacity per server: `ceil((1 + epsilon) * m / n)` for
//! `m` keys on `n` servers (weighted: `ceil((1 + epsilon) * m * w / W)`).
//! Keys are placed one after another; a key whose server is full walks on
//! clockwise to the first server with room. No server ever holds more than
//! its capacity, so the maximum load is within `1 + epsilon` of the mean,
//! whatever the ring's variance; the price is that placement depends on
//! which keys came first, and a change can cascade a little further than on
//! the plain ring. Keys that did not land on their first choice are counted
//! as *overflowed*.
//!
//! Skipping full servers is a union-find over the ring's points: when a
//! server fills up, each of its points is linked to the next point, so a
//! walk jumps over runs of full servers in near-constant time even at
//! `epsilon = 0`.
//!
//! [`Placement::locate`] answers for a key outside any key set: its first
//! choice on the ring, as if that server had room; preference lists are
//! the ring's, ignoring capacity.

use super::vnode::VnodeRing;
use super::{Algorithm, Assignment, HashKind, NodeId, NodeSpec, Placement, RingError, RingView, MAX_EPSILON};

/// Consistent hashing with bounded loads.
#[derive(Clone, Debug)]
pub struct BoundedLoads {
    ring: VnodeRing,
    epsilon: f64,
    /// Live servers' ids, ascending; a server's index here is its slot in
    /// `weights`, `points_of`.
    live: Vec<NodeId>,
    weights: Vec<u64>,
    /// For each live ring point, the index of its server in `live`.
    point_server: Vec<u32>,
    /// For each live server, its live ring points.
    points_of: Vec<Vec<u32>>,
}

/// Checks an epsilon: a number between 0 and [`MAX_EPSILON`].
pub(crate) fn check_epsilon(epsilon: f64) -> Result<(), RingError> {
    if epsilon.is_finite() && (0.0..=MAX_EPSILON).contains(&epsilon) {
        Ok(())
    } else {
        Err(RingError::Epsilon(epsilon))
    }
}

impl BoundedLoads {
    /// Builds the ring (as [`VnodeRing::new`]) with the given epsilon.
    pub fn new(nodes: &[NodeSpec], hash: HashKind, epsilon: f64) -> Result<BoundedLoads, RingError> {
        check_epsilon(epsilon)?;
        let ring = VnodeRing::new(nodes, hash)?;
        let mut live: Vec<(NodeId, u64)> =
            nodes.iter().filter(|n| !n.failed).map(|n| (n.id, u64::from(n.weight))).collect();
        live.sort_unstable();
        let c = ring.continuum();
        let mut point_server = Vec::with_capacity(c.len());
        let mut points_of = vec![Vec::new(); live.len()];
        for p in 0..c.len() {
            // Every live point belongs to a live server.
            let s = live.binary_search_by_key(&c.owner(p), |&(id, _)| id).unwrap_or(0);
            point_server.push(s as u32);
            points_of[s].push(p as u32);
        }
        Ok(BoundedLoads {
            ring,
            epsilon,
            live: live.iter().map(|&(id, _)| id).collect(),
            weights: live.iter().map(|&(_, w)| w).collect(),
            point_server,
            points_of,
        })
    }

    /// The allowed excess over the mean load.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// Each live server's capacity for `keys` keys, as `(id, capacity)`:
    /// `ceil((1 + epsilon) * keys * w / W)`. If rounding left the total
    /// short of `keys`, the first heaviest server gets the difference.
    pub fn capacities(&self, keys: u64) -> Vec<(NodeId, u64)> {
        let total_weight: u64 = self.weights.iter().sum();
        let mut caps: Vec<u64> = self
            .weights
            .iter()
            .map(|&w| ((1.0 + self.epsilon) * keys as f64 * w as f64 / total_weight as f64).ceil() as u64)
            .collect();
        let sum: u64 = caps.iter().sum();
        if sum < keys {
            let heaviest = (0..caps.len()).max_by_key(|&i| (self.weights[i], std::cmp::Reverse(i))).unwrap_or(0);
            caps[heaviest] += keys - sum;
        }
        self.live.iter().copied().zip(caps).collect()
    }
}

/// Finds the first live point at or after `i` (union-find with path
/// compression; a dead point links to its successor).
fn find(next: &mut [u32], i: u32) -> u32 {
    let mut root = i;
    while next[root as usize] != root {
        root = next[root as usize];
    }
    let mut j = i;
    while next[j as usize] != root {
        let k = next[j as usize];
        next[j as usize] = root;
        j = k;
    }
    root
}

impl Placement for BoundedLoads {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Bounded
    }

    fn locate(&self, key_hash: u64) -> NodeId {
        self.ring.locate(key_hash)
    }

    fn preference_list(&self, key_hash: u64, replicas: usize) -> Vec<NodeId> {
        self.ring.preference_list(key_hash, replicas)
    }

    fn assign(&self, key_hashes: &[u64]) -> Assignment {
        let c = self.ring.continuum();
        let points = c.len() as u32;
        let caps: Vec<u64> = self.capacities(key_hashes.len() as u64).into_iter().map(|(_, c)| c).collect();
        let mut load = vec![0u64; self.live.len()];
        let mut next: Vec<u32> = (0..points).collect();
        let mut owners = Vec::with_capacity(key_hashes.len());
        let mut overflowed = 0;
        for &h in key_hashes {
            let start = c.index_of(h) as u32;
            let p = find(&mut next, start);
            let s = self.point_server[p as usize] as usize;
            if s != self.point_server[start as usize] as usize {
                overflowed += 1;
            }
            owners.push(self.live[s]);
            load[s] += 1;
            if load[s] == caps[s] {
                // Full: its points now lead on to the next point. The total
                // capacity is at least the number of keys, so some server
                // always has room and the walk ends.
                for &q in &self.points_of[s] {
                    next[q as usize] = (q + 1) % points;
                }
            }
        }
        Assignment { owners, overflowed }
    }

    fn ring_view(&self) -> Option<RingView> {
        self.ring.ring_view()
    }

    fn footprint(&self) -> u64 {
        self.ring.footprint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::{mix64, uniform_nodes};

    #[test]
    fn epsilon_zero_is_perfect_balance() {
        let b = BoundedLoads::new(&uniform_nodes(7, 3), HashKind::Xxh3, 0.0).unwrap();
        let keys: Vec<u64> = (0..700).map(mix64).collect();
        let a = b.assign(&keys);
        for id in 0..7 {
            assert_eq!(a.owners.iter().filter(|&&o| o == id).count(), 100);
        }
        assert!(a.overflowed > 0);
    }

    #[test]
    fn bad_epsilon_is_an_error() {
        for e in [-0.1, f64::NAN, f64::INFINITY, 1e9] {
            assert!(BoundedLoads::new(&uniform_nodes(2, 3), HashKind::Xxh3, e).is_err());
        }
    }
}
