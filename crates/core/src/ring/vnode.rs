//! Consistent hashing on a ring with virtual nodes (Karger et al., STOC
//! 1997; virtual nodes as in Dynamo, SOSP 2007 §4.2).
//!
//! Each server is hashed to many points on a circle of 2^64 positions: point
//! `j` of server `name` sits at `hash("name-j")`. A key goes to the first
//! point at or after its hash. When a server joins, it takes over the arcs
//! just before its points, and only those keys move, all of them to it; when
//! it leaves, only its keys move. With `V` points per server the share each
//! server owns varies with a relative standard deviation of about
//! `1/sqrt(V)`, which is why real rings use a hundred or more.
//!
//! Weights scale the number of points: a server of weight `w` gets
//! `round(vnodes * w / 100)` points (at least one). Because points are
//! numbered, raising a weight adds points and lowering it removes the last
//! ones, so a weight change also moves only the keys it must.
//!
//! A key's preference list (for replication factor `R`) is the first `R`
//! distinct servers met walking clockwise, skipping failed ones.

use super::continuum::{Continuum, RawPoint};
use super::point_label;
use super::{
    check_nodes, Algorithm, HashKind, NodeId, NodeSpec, Placement, RingError, RingView, DEFAULT_WEIGHT, MAX_RING_POINTS,
};

/// A consistent-hash ring with virtual nodes.
#[derive(Clone, Debug)]
pub struct VnodeRing {
    continuum: Continuum,
    hash: HashKind,
}

/// Points of a server: `round(vnodes * weight / 100)`, at least one.
pub(crate) fn scaled_points(vnodes: u32, weight: u32) -> u64 {
    let p = (u64::from(vnodes) * u64::from(weight) + u64::from(DEFAULT_WEIGHT) / 2) / u64::from(DEFAULT_WEIGHT);
    p.max(1)
}

impl VnodeRing {
    /// Builds the ring. Errors if there is no live server, a name repeats,
    /// or the ring would exceed [`MAX_RING_POINTS`].
    pub fn new(nodes: &[NodeSpec], hash: HashKind) -> Result<VnodeRing, RingError> {
        check_nodes(nodes)?;
        let total: u64 = nodes.iter().map(|n| scaled_points(n.vnodes, n.weight)).sum();
        if total > MAX_RING_POINTS {
            return Err(RingError::TooManyPoints { points: total });
        }
        let mut points = Vec::with_capacity(total as usize);
        let mut label = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            for j in 0..scaled_points(n.vnodes, n.weight) {
                point_label(&mut label, &n.name, j);
                points.push(RawPoint {
                    position: hash.hash(&label),
                    tie: ((i as u64) << 32) | j,
                    node: n.id,
                    failed: n.failed,
                });
            }
        }
        Ok(VnodeRing { continuum: Continuum::build(points, 64), hash })
    }

    /// The hash function of points (and, in the model, of keys).
    pub fn hash(&self) -> HashKind {
        self.hash
    }

    pub(crate) fn continuum(&self) -> &Continuum {
        &self.continuum
    }
}

impl Placement for VnodeRing {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Ring
    }

    fn locate(&self, key_hash: u64) -> NodeId {
        self.continuum.locate(key_hash)
    }

    fn preference_list(&self, key_hash: u64, replicas: usize) -> Vec<NodeId> {
        self.continuum.distinct_from(key_hash, replicas)
    }

    fn ring_view(&self) -> Option<RingView> {
        Some(self.continuum.view())
    }

    fn footprint(&self) -> u64 {
        self.continuum.total_points()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::uniform_nodes;

    #[test]
    fn weights_scale_points() {
        assert_eq!(scaled_points(100, 100), 100);
        assert_eq!(scaled_points(100, 250), 250);
        assert_eq!(scaled_points(3, 10), 1); // never zero
        let mut nodes = uniform_nodes(2, 10);
        nodes[1].weight = 300;
        let ring = VnodeRing::new(&nodes, HashKind::Xxh3).unwrap();
        let view = ring.ring_view().unwrap();
        assert_eq!(view.points.iter().filter(|p| p.node == 1).count(), 30);
        assert!(view.points.windows(2).all(|w| w[0].position <= w[1].position));
    }

    #[test]
    fn too_many_points_is_an_error() {
        let nodes = uniform_nodes(500, 10_000);
        let err = VnodeRing::new(&nodes, HashKind::Xxh3).unwrap_err();
        assert_eq!(err, RingError::TooManyPoints { points: 5_000_000 });
    }

    #[test]
    fn preference_list_is_distinct_and_skips_failed() {
        let mut nodes = uniform_nodes(5, 20);
        nodes[2].failed = true;
        let ring = VnodeRing::new(&nodes, HashKind::Xxh3).unwrap();
        for k in 0..200u64 {
            let list = ring.preference_list(HashKind::Xxh3.hash_u64(k), 3);
            assert_eq!(list.len(), 3);
            assert!(!list.contains(&2));
            assert_eq!(list[0], ring.locate(HashKind::Xxh3.hash_u64(k)));
            let mut d = list.clone();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), 3);
        }
        // Asking for more replicas than live servers gives every live server.
        assert_eq!(ring.preference_list(7, 10).len(), 4);
    }
}
