//! Rendezvous hashing, or highest random weight (Thaler & Ravishankar, "A
//! Name-Based Mapping Scheme for Rendezvous", 1996/1998).
//!
//! Every server scores every key with a hash of the pair; the key goes to
//! the best score. Adding a server moves only the keys it now wins, all to
//! it; removing one moves only its keys, each to its runner-up. Balance is
//! as good as the hash, with no virtual nodes and no table; the price is
//! `O(n)` work per key. The preference list comes free: the servers in
//! score order.
//!
//! Here a key's hash (with the chosen hash function) is scored against each
//! server's seed, the hash of its name: `xxh3_64_with_seed(key_hash, seed)`.
//!
//! Weights use the logarithmic method (Schindelhauer & Schomaker, "Weighted
//! Distributed Hash Tables", SPAA 2005): with the pair hash mapped to `u` in
//! (0, 1), the score is `-w / ln(u)`, and a server of weight `w` wins a
//! share `w / W` of the keys. `ln` comes from `libm`, so
//! scores are the same bits everywhere. When all weights are equal, the raw
//! hash is compared instead (the same order, without the logarithm).

use super::{check_nodes, Algorithm, HashKind, NodeId, NodeSpec, Placement, RingError};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Rendezvous (HRW) hashing.
#[derive(Clone, Debug)]
pub struct Rendezvous {
    ids: Vec<NodeId>,
    seeds: Vec<u64>,
    weights: Vec<f64>,
    weighted: bool,
}

/// A pair hash in (0, 1): its top 52 bits, centred in their interval
/// (with 53 bits the top value would round up to 1.0).
fn unit(score: u64) -> f64 {
    ((score >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

impl Rendezvous {
    /// Builds it over the live servers; each server's seed is the hash of
    /// its name with `hash`.
    pub fn new(nodes: &[NodeSpec], hash: HashKind) -> Result<Rendezvous, RingError> {
        check_nodes(nodes)?;
        let live: Vec<&NodeSpec> = nodes.iter().filter(|n| !n.failed).collect();
        let weighted = live.windows(2).any(|w| w[0].weight != w[1].weight);
        Ok(Rendezvous {
            ids: live.iter().map(|n| n.id).collect(),
            seeds: live.iter().map(|n| hash.hash(n.name.as_bytes())).collect(),
            weights: live.iter().map(|n| f64::from(n.weight)).collect(),
            weighted,
        })
    }

    /// The number of live servers (the cost of one lookup, in scores).
    pub fn live_servers(&self) -> u64 {
        self.ids.len() as u64
    }

    /// Server `i`'s score for a key; higher wins. Weighted scores are
    /// positive floats, whose bit patterns sort as the numbers do, so both
    /// kinds compare as integers.
    fn score(&self, i: usize, key_hash: u64) -> u64 {
        let h = xxh3_64_with_seed(&key_hash.to_le_bytes(), self.seeds[i]);
        if self.weighted {
            (-self.weights[i] / libm::log(unit(h))).to_bits()
        } else {
            h
        }
    }

    /// The best-scoring server; ties go to the earlier one.
    fn best(&self, key_hash: u64) -> usize {
        let mut best = 0;
        let mut top = self.score(0, key_hash);
        for i in 1..self.ids.len() {
            let s = self.score(i, key_hash);
            if s > top {
                top = s;
                best = i;
            }
        }
        best
    }
}

impl Placement for Rendezvous {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Rendezvous
    }

    fn locate(&self, key_hash: u64) -> NodeId {
        self.ids[self.best(key_hash)]
    }

    /// The servers in order of their scores for this key.
    fn preference_list(&self, key_hash: u64, replicas: usize) -> Vec<NodeId> {
        if replicas <= 1 {
            return vec![self.locate(key_hash)];
        }
        let mut scored: Vec<(u64, usize)> = (0..self.ids.len()).map(|i| (self.score(i, key_hash), i)).collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.iter().take(replicas).map(|&(_, i)| self.ids[i]).collect()
    }

    fn footprint(&self) -> u64 {
        self.ids.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::{mix64, uniform_nodes};

    #[test]
    fn unit_is_strictly_inside_zero_one() {
        assert!(unit(0) > 0.0);
        assert!(unit(u64::MAX) < 1.0);
    }

    // The logarithmic method's claim (Schindelhauer & Schomaker 2005): a
    // server of weight w wins a share w/W. Here 100:300, so 1/4 and 3/4;
    // with 40,000 keys the standard error is about 0.002, tolerance 0.02.
    #[test]
    fn weights_give_proportional_shares() {
        let mut nodes = uniform_nodes(2, 1);
        nodes[1].weight = 300;
        let r = Rendezvous::new(&nodes, HashKind::Xxh3).unwrap();
        let n = 40_000u64;
        let heavy = (0..n).filter(|&k| r.locate(mix64(k)) == 1).count() as f64 / n as f64;
        assert!((heavy - 0.75).abs() < 0.02, "{heavy}");
    }

    #[test]
    fn preference_list_starts_with_the_owner() {
        let r = Rendezvous::new(&uniform_nodes(6, 1), HashKind::Xxh3).unwrap();
        for k in 0..500u64 {
            let list = r.preference_list(mix64(k), 3);
            assert_eq!(list[0], r.locate(mix64(k)));
            assert_eq!(list.len(), 3);
            assert!(list[1] != list[0] && list[2] != list[0] && list[1] != list[2]);
        }
    }
}
