//! The circle shared by the ring-based algorithms (ring, ketama, bounded
//! loads): points sorted by position, each owned by a server. A key goes to
//! the first point at or after its hash, wrapping past the top to the first
//! point, the rule libketama and Karger et al. use.
//!
//! Points of failed servers are kept apart: they are drawn, but a lookup
//! never lands on them, so a failed server's keys go to the next live point.

use super::{NodeId, RingPoint, RingView};

/// One point before sorting: position, a tie-breaker (so equal positions
/// sort the same way everywhere), owner, and whether the owner is failed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawPoint {
    pub position: u64,
    pub tie: u64,
    pub node: NodeId,
    pub failed: bool,
}

/// Sorted live points, plus the failed servers' points for drawing.
#[derive(Clone, Debug)]
pub(crate) struct Continuum {
    positions: Vec<u64>,
    owners: Vec<NodeId>,
    failed: Vec<RingPoint>,
    circle_bits: u32,
}

impl Continuum {
    /// Sorts the points. There must be at least one live point.
    pub fn build(mut points: Vec<RawPoint>, circle_bits: u32) -> Continuum {
        points.sort_unstable_by_key(|p| (p.position, p.tie));
        let live = points.iter().filter(|p| !p.failed).count();
        let mut positions = Vec::with_capacity(live);
        let mut owners = Vec::with_capacity(live);
        let mut failed = Vec::new();
        for p in &points {
            if p.failed {
                failed.push(RingPoint { position: p.position, node: p.node, failed: true });
            } else {
                positions.push(p.position);
                owners.push(p.node);
            }
        }
        Continuum { positions, owners, failed, circle_bits }
    }

    /// Number of live points.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Number of points, live and failed.
    pub fn total_points(&self) -> u64 {
        (self.positions.len() + self.failed.len()) as u64
    }

    /// Index of the first live point at or after `h`, wrapping to 0.
    pub fn index_of(&self, h: u64) -> usize {
        let i = self.positions.partition_point(|&p| p < h);
        if i == self.positions.len() {
            0
        } else {
            i
        }
    }

    /// Owner of live point `i`.
    pub fn owner(&self, i: usize) -> NodeId {
        self.owners[i]
    }

    /// Position of live point `i`.
    pub fn position(&self, i: usize) -> u64 {
        self.positions[i]
    }

    /// The owner of the first live point at or after `h`.
    pub fn locate(&self, h: u64) -> NodeId {
        self.owners[self.index_of(h)]
    }

    /// Walks clockwise from `h` and collects up to `r` distinct servers.
    pub fn distinct_from(&self, h: u64, r: usize) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = Vec::with_capacity(r);
        let n = self.positions.len();
        let mut i = self.index_of(h);
        for _ in 0..n {
            if out.len() >= r {
                break;
            }
            let node = self.owners[i];
            if !out.contains(&node) {
                out.push(node);
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
        out
    }

    /// All points, live and failed, sorted by position.
    pub fn view(&self) -> RingView {
        let mut points: Vec<RingPoint> = self
            .positions
            .iter()
            .zip(&self.owners)
            .map(|(&position, &node)| RingPoint { position, node, failed: false })
            .collect();
        points.extend_from_slice(&self.failed);
        points.sort_by_key(|p| (p.position, p.node));
        RingView { circle_bits: self.circle_bits, points }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(position: u64, node: NodeId, failed: bool) -> RawPoint {
        RawPoint { position, tie: u64::from(node), node, failed }
    }

    #[test]
    fn next_point_clockwise_and_wrap() {
        let c = Continuum::build(vec![p(30, 2, false), p(10, 1, false), p(20, 3, true)], 64);
        assert_eq!(c.locate(0), 1);
        assert_eq!(c.locate(10), 1); // a point owns its own position
        assert_eq!(c.locate(11), 2); // 20 is failed, skip to 30
        assert_eq!(c.locate(31), 1); // past the top: wrap
        assert_eq!(c.distinct_from(11, 5), vec![2, 1]);
        assert_eq!(c.view().points.len(), 3);
        assert_eq!(c.total_points(), 3);
    }
}
