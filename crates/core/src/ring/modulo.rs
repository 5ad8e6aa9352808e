//! The baseline: `hash(key) % n` over the servers that are up.
//!
//! Perfectly balanced and free, and the reason consistent hashing exists:
//! when `n` changes, a key stays only if `h % n == h % (n+1)`, so about
//! `n/(n+1)` of all keys move (libketama's README gives exactly this as its
//! motivation). Failing a server is the same as removing it here: the
//! survivors are renumbered. Weights are ignored.

use super::{check_nodes, Algorithm, NodeId, NodeSpec, Placement, RingError};

/// `hash % n`.
#[derive(Clone, Debug)]
pub struct Modulo {
    live: Vec<NodeId>,
}

impl Modulo {
    /// Builds the bucket list: the live servers in list order.
    pub fn new(nodes: &[NodeSpec]) -> Result<Modulo, RingError> {
        check_nodes(nodes)?;
        Ok(Modulo { live: nodes.iter().filter(|n| !n.failed).map(|n| n.id).collect() })
    }

    fn bucket(&self, key_hash: u64) -> usize {
        (key_hash % self.live.len() as u64) as usize
    }
}

impl Placement for Modulo {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Modulo
    }

    fn locate(&self, key_hash: u64) -> NodeId {
        self.live[self.bucket(key_hash)]
    }

    /// The owner's bucket and the buckets after it.
    fn preference_list(&self, key_hash: u64, replicas: usize) -> Vec<NodeId> {
        let n = self.live.len();
        let b = self.bucket(key_hash);
        (0..replicas.min(n)).map(|i| self.live[(b + i) % n]).collect()
    }

    fn footprint(&self) -> u64 {
        self.live.len() as u64
    }
}
