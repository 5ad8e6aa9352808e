//! Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory,
//! Consistent Hash Algorithm", 2014).
//!
//! The key seeds a linear congruential generator; the algorithm follows the
//! key's bucket as the number of buckets grows, jumping forward only when
//! the key would move, and stops past `n`. No memory, perfect balance, and
//! `ch(k, n+1)` is either `ch(k, n)` or `n`: growing moves exactly the keys
//! the new bucket should own.
//!
//! Its limit is that buckets are numbered: only the last one can go. Here a
//! removed server's bucket is taken over by the last bucket's server (the
//! model keeps that order), so a removal moves the removed server's keys
//! *and* the last bucket's, about twice the ideal. A failed server keeps its
//! bucket; its keys are re-hashed until they land on a live bucket, so only
//! they move. Weights are ignored.

use super::{check_nodes, mix64, Algorithm, NodeId, NodeSpec, Placement, RingError};

/// The bucket of `key` among `buckets` buckets, in `0..buckets` (0 if there
/// are no buckets). This is the paper's algorithm: the LCG constant
/// 2862933555777941757 and the double-precision jump, so results match
/// every published implementation.
pub fn jump_hash(key: u64, buckets: u32) -> u32 {
    let mut key = key;
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b.max(0) as u32
}

/// How many times a key of a failed bucket is re-hashed before falling back
/// to the next live bucket.
const RETRIES: u64 = 32;

/// Jump consistent hash over an ordered list of buckets.
#[derive(Clone, Debug)]
pub struct Jump {
    buckets: Vec<NodeId>,
    failed: Vec<bool>,
}

impl Jump {
    /// Builds it; bucket `i` is `nodes[i]`.
    pub fn new(nodes: &[NodeSpec]) -> Result<Jump, RingError> {
        check_nodes(nodes)?;
        Ok(Jump { buckets: nodes.iter().map(|n| n.id).collect(), failed: nodes.iter().map(|n| n.failed).collect() })
    }

    fn bucket(&self, key_hash: u64) -> usize {
        let n = self.buckets.len() as u32;
        let b = jump_hash(key_hash, n) as usize;
        if !self.failed[b] {
            return b;
        }
        for attempt in 1..=RETRIES {
            let b = jump_hash(mix64(key_hash ^ attempt.wrapping_mul(0xA076_1D64_78BD_642F)), n) as usize;
            if !self.failed[b] {
                return b;
            }
        }
        (1..self.buckets.len()).map(|i| (b + i) % self.buckets.len()).find(|&i| !self.failed[i]).unwrap_or(b)
    }
}

impl Placement for Jump {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Jump
    }

    fn locate(&self, key_hash: u64) -> NodeId {
        self.buckets[self.bucket(key_hash)]
    }

    /// The owner's bucket and the live buckets after it.
    fn preference_list(&self, key_hash: u64, replicas: usize) -> Vec<NodeId> {
        let n = self.buckets.len();
        let b = self.bucket(key_hash);
        (0..n).map(|i| (b + i) % n).filter(|&i| !self.failed[i]).take(replicas).map(|i| self.buckets[i]).collect()
    }

    fn footprint(&self) -> u64 {
        self.buckets.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::uniform_nodes;

    #[test]
    fn no_buckets_and_one_bucket() {
        assert_eq!(jump_hash(12345, 0), 0);
        assert_eq!(jump_hash(12345, 1), 0);
    }

    #[test]
    fn failed_bucket_keys_go_elsewhere_and_others_stay() {
        let nodes = uniform_nodes(10, 1);
        let all = Jump::new(&nodes).unwrap();
        let mut failed = nodes.clone();
        failed[3].failed = true;
        let some = Jump::new(&failed).unwrap();
        for k in 0..2000u64 {
            let h = mix64(k);
            let (a, b) = (all.locate(h), some.locate(h));
            assert_ne!(b, 3);
            if a != 3 {
                assert_eq!(a, b);
            }
        }
    }
}
