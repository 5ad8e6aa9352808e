//! Load statistics: how evenly keys and requests spread over the servers.
//!
//! A server's load is compared with its fair share: its weight over the
//! total weight of the live servers (equal shares for algorithms that
//! ignore weights). Each live server's load is scaled by `1 / (n * share)`,
//! so at equal weights it is the raw load, and a perfectly weighted
//! placement has every scaled load equal. Over those: the mean, the
//! standard deviation relative to the mean (0 is perfect; a ring with `V`
//! points per server gives about `1/sqrt(V)`), and max/mean, the number
//! capacity planning cares about. Failed servers are listed with their
//! (zero) load but left out of the statistics.

use super::{KeySet, NodeId, NodeSpec};
use serde::{Deserialize, Serialize};

/// One server's load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeLoad {
    /// Its number.
    pub id: NodeId,
    /// Its name.
    pub name: String,
    /// Its weight.
    pub weight: u32,
    /// Whether it is failed.
    pub failed: bool,
    /// Keys it owns (as the first of the preference list).
    pub keys: u64,
    /// Its share of all requests (0..=1), by the key distribution.
    pub requests: f64,
    /// Keys whose preference list contains it (equals `keys` for one replica).
    pub replicas: u64,
}

/// Spread of a load over the live servers, scaled by fair share.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Balance {
    /// Mean scaled load.
    pub mean: f64,
    /// Standard deviation over the mean (population standard deviation).
    pub rel_std: f64,
    /// Largest scaled load over the mean.
    pub max_over_mean: f64,
    /// Smallest scaled load.
    pub min: f64,
    /// Largest scaled load.
    pub max: f64,
}

impl Balance {
    /// The statistics of some values (all zero for none).
    pub fn of(values: &[f64]) -> Balance {
        if values.is_empty() {
            return Balance::default();
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (rel_std, max_over_mean) = if mean > 0.0 { (libm::sqrt(var) / mean, max / mean) } else { (0.0, 0.0) };
        Balance { mean, rel_std, max_over_mean, min, max }
    }
}

/// Loads after a placement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Stats {
    /// Every server, in id order.
    pub nodes: Vec<NodeLoad>,
    /// Servers that are up.
    pub live_nodes: u32,
    /// Balance of key counts.
    pub keys: Balance,
    /// Balance of request shares.
    pub requests: Balance,
    /// Balance of replica counts (the same as `keys` for one replica).
    pub replicas: Balance,
    /// Keys not on their first choice (bounded loads), else 0.
    pub overflowed: u64,
}

impl Stats {
    /// Computes the loads. `nodes` is in id order; `owners[i]` owns key `i`;
    /// `replica_counts`, if given, counts each server's appearances in the
    /// preference lists (in `nodes` order).
    pub fn compute(
        nodes: &[NodeSpec],
        owners: &[NodeId],
        keys: &KeySet,
        uses_weights: bool,
        overflowed: u64,
        replica_counts: Option<&[u64]>,
    ) -> Stats {
        let mut key_counts = vec![0u64; nodes.len()];
        let mut requests = vec![0f64; nodes.len()];
        for (i, &o) in owners.iter().enumerate() {
            if let Ok(s) = nodes.binary_search_by_key(&o, |n| n.id) {
                key_counts[s] += 1;
                requests[s] += keys.share(i);
            }
        }
        let loads: Vec<NodeLoad> = nodes
            .iter()
            .enumerate()
            .map(|(s, n)| NodeLoad {
                id: n.id,
                name: n.name.clone(),
                weight: n.weight,
                failed: n.failed,
                keys: key_counts[s],
                requests: requests[s],
                replicas: replica_counts.map_or(key_counts[s], |r| r[s]),
            })
            .collect();
        let live: Vec<&NodeSpec> = nodes.iter().filter(|n| !n.failed).collect();
        let n = live.len() as f64;
        let total_weight: u64 = live.iter().map(|n| u64::from(n.weight)).sum();
        // Scale = 1 / (n * fair share).
        let scale = |node: &NodeSpec| -> f64 {
            if uses_weights && total_weight > 0 {
                total_weight as f64 / (n * f64::from(node.weight))
            } else {
                1.0
            }
        };
        let scaled = |f: &dyn Fn(&NodeLoad) -> f64| -> Vec<f64> {
            nodes.iter().zip(&loads).filter(|(n, _)| !n.failed).map(|(n, l)| f(l) * scale(n)).collect()
        };
        Stats {
            live_nodes: live.len() as u32,
            keys: Balance::of(&scaled(&|l| l.keys as f64)),
            requests: Balance::of(&scaled(&|l| l.requests)),
            replicas: Balance::of(&scaled(&|l| l.replicas as f64)),
            nodes: loads,
            overflowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_of_known_values() {
        let b = Balance::of(&[1.0, 3.0]);
        assert_eq!(b.mean, 2.0);
        assert_eq!(b.rel_std, 0.5);
        assert_eq!(b.max_over_mean, 1.5);
        assert_eq!(Balance::of(&[]), Balance::default());
    }

    #[test]
    fn weights_scale_to_fair_share() {
        let mut nodes = crate::ring::uniform_nodes(2, 1);
        nodes[1].weight = 300;
        let keys = KeySet::from_ids(vec![1, 2, 3, 4]);
        // One key on S1, three on S2: exactly fair for weights 100:300.
        let s = Stats::compute(&nodes, &[0, 1, 1, 1], &keys, true, 0, None);
        assert_eq!(s.keys.rel_std, 0.0);
        assert_eq!(s.nodes[1].keys, 3);
        assert_eq!(s.nodes[1].requests, 0.75);
        let s = Stats::compute(&nodes, &[0, 1, 1, 1], &keys, false, 0, None);
        assert_eq!(s.keys.rel_std, 0.5);
    }
}
