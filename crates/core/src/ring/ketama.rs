//! A ring that places keys exactly as libketama does (Last.fm, 2007), so a
//! user can check a placement against a real memcached deployment.
//!
//! libketama's continuum, as its `ketama_create_continuum` builds it:
//!
//! * each server `i` with memory (weight) `m_i`, out of a total `M` over `n`
//!   servers, gets `ks = floorf(pct * 40.0 * (float)n)` digests, where
//!   `pct = (float)m_i / (float)M` (single precision; the product is
//!   computed in double and rounded to float before `floorf`, which this
//!   code reproduces step by step). At equal weights that is 40 digests.
//! * digest `k` is `MD5("<name>-<k>")`, and each digest gives four points:
//!   bytes `4h..4h+4` read little-endian, `h = 0..4`. So 160 points per
//!   server at equal weights, on a circle of 2^32 positions.
//! * a key is hashed with MD5 and its first four bytes read little-endian
//!   (`ketama_hashi`); it goes to the first point at or after that value,
//!   wrapping to the first point.
//!
//! Here the 40 is `ceil(vnodes / 4)` so the lab's virtual-node count can
//! vary it; `vnodes = 160` (the default of [`Ketama::from_servers`]) is
//! libketama exactly. A failed server keeps its points (the continuum is not
//! rebuilt, as a client that skips a dead server) but lookups pass over
//! them; removing a server rebuilds the continuum, which with unequal
//! weights changes the other servers' point counts, as in libketama.

use super::continuum::{Continuum, RawPoint};
use super::hash::md5_digest;
use super::{check_nodes, Algorithm, NodeId, NodeSpec, Placement, RingError, RingView, MAX_RING_POINTS};

/// libketama's continuum.
#[derive(Clone, Debug)]
pub struct Ketama {
    continuum: Continuum,
}

/// One server as libketama sees it.
struct Server<'a> {
    id: NodeId,
    name: &'a str,
    memory: u64,
    digests: u64,
    failed: bool,
}

/// libketama's digest count for a server: `floorf(pct * digests * (float)n)`
/// with `pct = (float)memory / (float)total`.
fn digest_count(memory: u64, total: u64, digests: u64, servers: usize) -> u64 {
    let pct = memory as f32 / total as f32;
    let product = f64::from(pct) * digests as f64 * f64::from(servers as f32);
    let ks = (product as f32).floor();
    if ks > 0.0 {
        ks as u64
    } else {
        0
    }
}

impl Ketama {
    /// Builds the continuum from the lab's servers: weight is libketama's
    /// memory, `ceil(vnodes / 4)` replaces its 40 digests per server.
    pub fn new(nodes: &[NodeSpec]) -> Result<Ketama, RingError> {
        check_nodes(nodes)?;
        let servers: Vec<Server> = nodes
            .iter()
            .map(|n| Server {
                id: n.id,
                name: &n.name,
                memory: u64::from(n.weight),
                digests: u64::from(n.vnodes).div_ceil(4),
                failed: n.failed,
            })
            .collect();
        Ketama::build(&servers)
    }

    /// Builds the continuum exactly as libketama does for a server list of
    /// `(address, memory)` lines, such as its `ketama.servers` file. The
    /// servers get numbers 0, 1, ... in list order.
    pub fn from_servers(servers: &[(&str, u64)]) -> Result<Ketama, RingError> {
        if servers.is_empty() {
            return Err(RingError::NoNodes);
        }
        let mut names: Vec<&str> = servers.iter().map(|s| s.0).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(RingError::DuplicateName(w[0].to_string()));
        }
        let list: Vec<Server> = servers
            .iter()
            .enumerate()
            .map(|(i, &(name, memory))| {
                if name.is_empty() {
                    Err(RingError::EmptyName)
                } else if memory == 0 {
                    Err(RingError::Weight(0))
                } else {
                    Ok(Server { id: i as NodeId, name, memory, digests: 40, failed: false })
                }
            })
            .collect::<Result<_, _>>()?;
        Ketama::build(&list)
    }

    fn build(servers: &[Server]) -> Result<Ketama, RingError> {
        let total: u64 = servers.iter().map(|s| s.memory).sum();
        let counts: Vec<u64> =
            servers.iter().map(|s| digest_count(s.memory, total, s.digests, servers.len())).collect();
        let points: u64 = counts.iter().map(|k| 4 * k).sum();
        if points > MAX_RING_POINTS {
            return Err(RingError::TooManyPoints { points });
        }
        let mut raw = Vec::with_capacity(points as usize);
        let mut label = Vec::new();
        for (i, (s, &ks)) in servers.iter().zip(&counts).enumerate() {
            for k in 0..ks {
                super::point_label(&mut label, s.name, k);
                let d = md5_digest(&label);
                for h in 0..4 {
                    let b = &d[4 * h..4 * h + 4];
                    raw.push(RawPoint {
                        position: u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                        tie: ((i as u64) << 40) | (k << 2) | h as u64,
                        node: s.id,
                        failed: s.failed,
                    });
                }
            }
        }
        if !raw.iter().any(|p| !p.failed) {
            return Err(RingError::NoLivePoints);
        }
        Ok(Ketama { continuum: Continuum::build(raw, 32) })
    }

    /// Where libketama sends a key: the continuum point it lands on and that
    /// point's server (`ketama_get_server`).
    pub fn server_for(&self, key: &[u8]) -> (u32, NodeId) {
        self.point_for(super::hash::ketama_hash(key))
    }

    /// The continuum point and server for a key hash ([`super::ketama_hash`]).
    pub fn point_for(&self, key_hash: u32) -> (u32, NodeId) {
        let i = self.continuum.index_of(u64::from(key_hash));
        (self.continuum.position(i) as u32, self.continuum.owner(i))
    }
}

impl Placement for Ketama {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Ketama
    }

    fn locate(&self, key_hash: u64) -> NodeId {
        self.continuum.locate(key_hash & 0xFFFF_FFFF)
    }

    fn preference_list(&self, key_hash: u64, replicas: usize) -> Vec<NodeId> {
        self.continuum.distinct_from(key_hash & 0xFFFF_FFFF, replicas)
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

    // libketama's point counts (ketama.c, ketama_create_continuum): 40
    // digests per server at equal weights; weighted by memory share times
    // 40 times the number of servers, floored.
    #[test]
    fn digest_counts_follow_libketama() {
        assert_eq!(digest_count(1, 3, 40, 3), 40);
        assert_eq!(digest_count(600, 1000, 40, 2), 48);
        assert_eq!(digest_count(400, 1000, 40, 2), 32);
        assert_eq!(digest_count(1, 10_001, 40, 2), 0);
        let k = Ketama::from_servers(&[("a:1", 1), ("b:1", 10_000)]).unwrap();
        assert_eq!(k.footprint(), 4 * digest_count(10_000, 10_001, 40, 2));
    }

    #[test]
    fn a_live_server_without_points_is_an_error() {
        let mut nodes = crate::ring::uniform_nodes(2, 160);
        nodes[0].weight = 10_000;
        nodes[1].weight = 1;
        nodes[0].failed = true;
        assert_eq!(Ketama::new(&nodes).unwrap_err(), RingError::NoLivePoints);
    }
}
