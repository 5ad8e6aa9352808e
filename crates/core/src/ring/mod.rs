//! Placement: which server owns a key, and what moves when servers change.
//!
//! A placement algorithm maps a key to one of a set of servers. The naive
//! answer, `hash(key) % n`, moves almost every key when `n` changes; the
//! algorithms here move about the share the new (or departed) server should
//! own, and differ in balance, memory, lookup cost and what they support:
//!
//! | algorithm | type | idea | weights | preference list |
//! |---|---|---|---|---|
//! | modulo | [`Modulo`] | `hash % n`, the baseline | no | next buckets |
//! | ring | [`VnodeRing`] | each server hashed to many points on a circle; a key goes to the next point clockwise (Karger et al. 1997) | more points | next distinct servers clockwise |
//! | ketama | [`Ketama`] | libketama's ring, bit for bit: MD5 of `"name-i"`, four points per digest | libketama's point counts | next distinct servers clockwise |
//! | jump | [`Jump`] | Lamping & Veach 2014: a few multiplications, no memory | no | next buckets |
//! | rendezvous | [`Rendezvous`] | highest random weight: every server scores the key, the best wins (Thaler & Ravishankar 1998) | `-w / ln(h)` | best scores in order |
//! | maglev | [`Maglev`] | Eisenbud et al. 2016 §3.4: a prime-sized lookup table filled from per-server permutations | more turns | none |
//! | bounded | [`BoundedLoads`] | Mirrokni, Thorup & Zadimoghaddam 2018: the ring, but a full server passes keys on | capacity share | ring's, ignoring capacity |
//!
//! Every algorithm implements [`Placement`]: it is built once from the list
//! of servers ([`NodeSpec`]) and then answers [`Placement::locate`] for a
//! key's 64-bit hash. Keys are hashed first, with the [`HashKind`] the user
//! picked (ketama always uses MD5, as libketama does), so that all
//! algorithms can be run on exactly the same keys.
//!
//! [`RingModel`] is what the Ring lab drives: parameters, a seeded key set
//! with a popularity distribution, the changes a user makes (add, remove,
//! fail, reweight a server), and after each change which keys moved and how
//! balanced the load is. [`compare`] runs every algorithm on the same keys
//! and the same changes.
//!
//! Determinism: the same inputs give the same placement, bit for bit,
//! natively and in wasm32. Nothing here hashes a `usize`, uses a std hasher,
//! iterates a hash map, or calls a transcendental function of std (`libm`
//! computes `ln` and `pow`); randomness comes only from the seeded
//! [`crate::sim::Rng`] streams.
//!
//! ```
//! use clusterscope_core::ring::{Algorithm, RingModel, RingParams};
//!
//! let params = RingParams { algorithm: Algorithm::Ring, nodes: 10, keys: 10_000, ..RingParams::default() };
//! let mut model = RingModel::new(&params).unwrap();
//! let report = model.add_node(100).unwrap();
//! // About 1/11 of the keys move, and all of them to the new server.
//! assert!(report.moved_fraction > 0.05 && report.moved_fraction < 0.15);
//! assert_eq!(report.moved_between_others, 0);
//! ```

mod bounded;
mod continuum;
pub mod experiments;
mod hash;
mod jump;
mod ketama;
mod keys;
pub mod lab;
mod maglev;
pub mod model;
mod modulo;
mod rendezvous;
pub mod speed;
mod stats;
mod vnode;

pub use bounded::BoundedLoads;
pub use hash::{fnv1a64, ketama_hash, md5_digest, HashKind};
pub use jump::{jump_hash, Jump};
pub use ketama::Ketama;
pub use keys::{KeyDistribution, KeySet};
pub use maglev::{next_prime, Maglev};
pub use model::{
    compare, compare_with_nodes, ChangeReport, CompareRow, MovedKey, RingChange, RingModel, RingParams, MOVED_SAMPLE,
};
pub use modulo::Modulo;
pub use rendezvous::Rendezvous;
pub use stats::{Balance, NodeLoad, Stats};
pub use vnode::VnodeRing;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A server's number. Numbers are handed out in order from 0 and never
/// reused, so a removed server's number stays unused; it is written
/// `S{n+1}` by default, as in the scenario format.
pub type NodeId = u32;

/// The weight of a server of normal size. Weights are relative: a server of
/// weight 200 should get twice the keys of one of weight 100.
pub const DEFAULT_WEIGHT: u32 = 100;
/// Largest weight a server may have.
pub const MAX_WEIGHT: u32 = 10_000;
/// Largest number of virtual nodes (ring points) per server.
pub const MAX_VNODES: u32 = 10_000;
/// Largest number of servers.
pub const MAX_NODES: u32 = 10_000;
/// Largest number of keys a model places.
pub const MAX_KEYS: u32 = 1_000_000;
/// Largest replication factor.
pub const MAX_REPLICAS: u32 = 16;
/// Most points a ring may have in total (all servers, after weighting), so
/// that memory stays bounded (12 bytes a point).
pub const MAX_RING_POINTS: u64 = 4_000_000;
/// Largest Maglev lookup table (a prime).
pub const MAX_MAGLEV_SIZE: u64 = 10_000_019;
/// Most (key, server) scores rendezvous hashing may compute to place a key
/// set: it scores every server for every key.
pub const MAX_RENDEZVOUS_WORK: u64 = 1_000_000_000;
/// Largest bounded-loads epsilon (1000 = 100000 % over the mean).
pub const MAX_EPSILON: f64 = 1000.0;

/// One server as a placement algorithm sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    /// Its number.
    pub id: NodeId,
    /// Its name. Ring points and rendezvous scores are hashed from the name,
    /// so a server keeps its points when others come and go. For ketama,
    /// use the address a real deployment uses (`10.0.1.1:11211`).
    pub name: String,
    /// Relative capacity ([`DEFAULT_WEIGHT`] = normal).
    pub weight: u32,
    /// Virtual nodes (ring points at normal weight; ketama: points per
    /// server at equal weights, in groups of 4).
    pub vnodes: u32,
    /// A failed server keeps its number and its points on the ring (drawn
    /// as failed) but owns no keys.
    pub failed: bool,
}

impl NodeSpec {
    /// A live server of normal weight named `S{id+1}`.
    pub fn new(id: NodeId, vnodes: u32) -> NodeSpec {
        NodeSpec { id, name: default_name(id), weight: DEFAULT_WEIGHT, vnodes, failed: false }
    }
}

/// The default name of server `id`: `S1` for 0, as the scenario format writes it.
pub fn default_name(id: NodeId) -> String {
    format!("S{}", u64::from(id) + 1)
}

/// `count` live servers `S1..` of normal weight, each with `vnodes` virtual nodes.
pub fn uniform_nodes(count: u32, vnodes: u32) -> Vec<NodeSpec> {
    (0..count).map(|id| NodeSpec::new(id, vnodes)).collect()
}

/// Which placement algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Algorithm {
    /// Consistent hashing ring with virtual nodes.
    Ring,
    /// libketama-compatible ring.
    Ketama,
    /// `hash % n`.
    Modulo,
    /// Jump consistent hash.
    Jump,
    /// Rendezvous (highest random weight) hashing.
    Rendezvous,
    /// Maglev lookup table.
    Maglev,
    /// Consistent hashing with bounded loads.
    Bounded,
}

impl Algorithm {
    /// All algorithms, in display order (the order of the scenario format's
    /// `algorithm` choice).
    pub const ALL: [Algorithm; 7] = [
        Algorithm::Ring,
        Algorithm::Ketama,
        Algorithm::Modulo,
        Algorithm::Jump,
        Algorithm::Rendezvous,
        Algorithm::Maglev,
        Algorithm::Bounded,
    ];

    /// The name in files, links, the CLI and the UI.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Ring => "ring",
            Algorithm::Ketama => "ketama",
            Algorithm::Modulo => "modulo",
            Algorithm::Jump => "jump",
            Algorithm::Rendezvous => "rendezvous",
            Algorithm::Maglev => "maglev",
            Algorithm::Bounded => "bounded",
        }
    }

    /// The hash function keys are hashed with when the user picked `chosen`:
    /// ketama always uses MD5, as libketama does.
    pub fn key_hash(self, chosen: HashKind) -> HashKind {
        match self {
            Algorithm::Ketama => HashKind::Md5,
            _ => chosen,
        }
    }

    /// Whether server weights change the placement.
    pub fn uses_weights(self) -> bool {
        !matches!(self, Algorithm::Modulo | Algorithm::Jump)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = RingError;
    fn from_str(s: &str) -> Result<Self, RingError> {
        let s = s.trim().to_ascii_lowercase();
        Algorithm::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| RingError::UnknownAlgorithm(s.to_string()))
    }
}

/// Everything that can go wrong in the ring lab. Each message is a sentence
/// a user can act on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RingError {
    /// No servers at all.
    #[error("a placement needs at least one server")]
    NoNodes,
    /// Too many servers.
    #[error("{0} servers is too many: at most {max} are supported", max = MAX_NODES)]
    TooManyNodes(u64),
    /// Every server is failed.
    #[error("every server is failed: at least one must be up to own the keys")]
    NoLiveNodes,
    /// A server number that does not exist (or was removed).
    #[error("there is no server S{}", u64::from(*.0) + 1)]
    UnknownNode(NodeId),
    /// Two servers with one number.
    #[error("two servers are numbered S{}", u64::from(*.0) + 1)]
    DuplicateId(NodeId),
    /// Two servers with one name.
    #[error("two servers are named '{0}': names must be unique, they are what is hashed")]
    DuplicateName(String),
    /// An empty server name.
    #[error("a server name must not be empty")]
    EmptyName,
    /// Live servers exist but none has a point on the ring.
    #[error("no server that is up has a point on the ring: ketama gives a server floor(weight share x vnodes/4 x servers) digests, which is 0 for a very small weight")]
    NoLivePoints,
    /// Failing or removing the last live server.
    #[error("{0} is the last server that is up: failing or removing it would leave no server for the keys")]
    LastLiveNode(String),
    /// Failing a server twice.
    #[error("{0} is already failed")]
    AlreadyFailed(String),
    /// Recovering a server that is up.
    #[error("{0} is not failed, so it cannot recover")]
    NotFailed(String),
    /// Virtual nodes out of range.
    #[error("vnodes = {0} is out of range: it must be between 1 and {max}", max = MAX_VNODES)]
    Vnodes(u64),
    /// Weight out of range.
    #[error("weight {0} is out of range: it must be between 1 and {max} (100 = normal)", max = MAX_WEIGHT)]
    Weight(u64),
    /// Key count out of range.
    #[error("keys = {0} is out of range: it must be between 1 and {max}", max = MAX_KEYS)]
    Keys(u64),
    /// Replication factor out of range.
    #[error("replicas = {0} is out of range: it must be between 1 and {max}", max = MAX_REPLICAS)]
    Replicas(u64),
    /// Bounded-loads epsilon out of range.
    #[error("epsilon = {0} is out of range: it must be a number between 0 and {max} (0.25 = 25 % over the mean)", max = MAX_EPSILON)]
    Epsilon(f64),
    /// Zipf exponent out of range.
    #[error("Zipf exponent s = {0} is out of range: it must be a number between 0 and 10 (1.1 is typical)")]
    ZipfExponent(f64),
    /// Hot-key share out of range.
    #[error("hot-key share {0} is out of range: it must be between 0 and 1 (0.5 = half of the requests go to the hottest 1 % of keys)")]
    HotFraction(f64),
    /// A ring that would not fit in memory.
    #[error("the ring would have {points} points, more than the {max} supported: use fewer servers, virtual nodes or smaller weights", max = MAX_RING_POINTS)]
    TooManyPoints {
        /// Points the ring would have.
        points: u64,
    },
    /// Maglev table size out of range.
    #[error("Maglev table size {size} is out of range: it must be at least the number of servers that are up ({servers}) and at most {max}", max = MAX_MAGLEV_SIZE)]
    MaglevSize {
        /// Requested size.
        size: u64,
        /// Live servers.
        servers: u64,
    },
    /// Rendezvous hashing over too many (key, server) pairs.
    #[error("rendezvous hashing scores every server for every key: {servers} servers x {keys} keys is more than {max} scores; use fewer servers or keys", max = MAX_RENDEZVOUS_WORK)]
    TooMuchWork {
        /// Live servers.
        servers: u64,
        /// Keys.
        keys: u64,
    },
    /// An unknown algorithm name.
    #[error("unknown algorithm '{0}' (known: ring, ketama, modulo, jump, rendezvous, maglev, bounded)")]
    UnknownAlgorithm(String),
    /// An unknown hash name.
    #[error("unknown hash function '{0}' (known: xxh3, xxh64, fnv1a, murmur3, md5)")]
    UnknownHash(String),
    /// A key distribution that does not parse.
    #[error("unknown key distribution '{0}' (known: uniform, zipf:S such as zipf:1.1, hot:F such as hot:0.5)")]
    UnknownDistribution(String),
    /// A change that does not parse.
    #[error("cannot read the change '{0}' (known: add, add:WEIGHT, add:NAME=WEIGHT, remove:S3, fail:S3, recover:S3, weight:S3=200, vnodes:S3=50, epsilon:0.1)")]
    UnknownChange(String),
}

/// Where the keys of a key set went.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Assignment {
    /// The owner of each key, in key order.
    pub owners: Vec<NodeId>,
    /// Keys that did not land on their first choice because it was full
    /// (bounded loads only; 0 for the others).
    pub overflowed: u64,
}

/// A point on the circle, for drawing the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingPoint {
    /// Position on the circle `0..2^circle_bits`.
    pub position: u64,
    /// The server it belongs to.
    pub node: NodeId,
    /// Whether that server is failed (its points own no keys).
    pub failed: bool,
}

/// The points of a ring, sorted by position, for drawing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingView {
    /// The circle's size is `2^circle_bits`: 64 for the ring, 32 for ketama.
    pub circle_bits: u32,
    /// All points, sorted by position.
    pub points: Vec<RingPoint>,
}

/// A placement algorithm, built for one set of servers.
///
/// `key_hash` is the key's hash with the algorithm's hash function
/// ([`Algorithm::key_hash`]); for ketama, only its low 32 bits are used
/// (MD5's first four bytes, little-endian, as libketama reads them).
pub trait Placement: Send + Sync + fmt::Debug {
    /// Which algorithm this is.
    fn algorithm(&self) -> Algorithm;

    /// The server that owns the key.
    fn locate(&self, key_hash: u64) -> NodeId;

    /// Up to `replicas` distinct servers that are up, the owner first.
    /// Algorithms without a natural order (Maglev) return the owner only.
    fn preference_list(&self, key_hash: u64, replicas: usize) -> Vec<NodeId> {
        let _ = replicas;
        vec![self.locate(key_hash)]
    }

    /// Places a whole key set, in this order. Only bounded loads depends on
    /// the other keys; for the others this is `locate` on each key.
    fn assign(&self, key_hashes: &[u64]) -> Assignment {
        Assignment { owners: key_hashes.iter().map(|&h| self.locate(h)).collect(), overflowed: 0 }
    }

    /// The points on the circle, for ring-based algorithms.
    fn ring_view(&self) -> Option<RingView> {
        None
    }

    /// How much state the algorithm keeps: ring points, table entries or
    /// servers (for the comparison table).
    fn footprint(&self) -> u64;
}

/// Checks a server list: at least one server, one up, unique non-empty
/// names, weights and vnodes in range.
pub(crate) fn check_nodes(nodes: &[NodeSpec]) -> Result<(), RingError> {
    if nodes.is_empty() {
        return Err(RingError::NoNodes);
    }
    if nodes.len() as u64 > u64::from(MAX_NODES) {
        return Err(RingError::TooManyNodes(nodes.len() as u64));
    }
    let mut names: Vec<&str> = Vec::with_capacity(nodes.len());
    for n in nodes {
        check_weight(n.weight)?;
        check_vnodes(n.vnodes)?;
        if n.name.is_empty() {
            return Err(RingError::EmptyName);
        }
        names.push(&n.name);
    }
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(RingError::DuplicateName(w[0].to_string()));
    }
    if nodes.iter().all(|n| n.failed) {
        return Err(RingError::NoLiveNodes);
    }
    Ok(())
}

/// Checks a weight.
pub(crate) fn check_weight(w: u32) -> Result<(), RingError> {
    if (1..=MAX_WEIGHT).contains(&w) {
        Ok(())
    } else {
        Err(RingError::Weight(u64::from(w)))
    }
}

/// Checks a virtual-node count.
pub(crate) fn check_vnodes(v: u32) -> Result<(), RingError> {
    if (1..=MAX_VNODES).contains(&v) {
        Ok(())
    } else {
        Err(RingError::Vnodes(u64::from(v)))
    }
}

/// A 64-bit mixing function (the SplitMix64 finalizer), for re-hashing a
/// key hash deterministically (jump's retries past failed servers).
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(a.name().parse::<Algorithm>(), Ok(a));
        }
        let err = "chord".parse::<Algorithm>().unwrap_err().to_string();
        assert!(err.contains("unknown algorithm 'chord'") && err.contains("maglev"), "{err}");
    }

    #[test]
    fn server_lists_are_checked() {
        assert_eq!(check_nodes(&[]), Err(RingError::NoNodes));
        let mut nodes = uniform_nodes(3, 10);
        nodes[2].name = "S1".into();
        assert_eq!(check_nodes(&nodes), Err(RingError::DuplicateName("S1".into())));
        let mut nodes = uniform_nodes(2, 10);
        nodes[1].vnodes = 0;
        assert!(check_nodes(&nodes).unwrap_err().to_string().contains("between 1 and 10000"));
        let mut nodes = uniform_nodes(2, 10);
        nodes.iter_mut().for_each(|n| n.failed = true);
        assert_eq!(check_nodes(&nodes), Err(RingError::NoLiveNodes));
        assert_eq!(RingError::UnknownNode(4).to_string(), "there is no server S5");
    }
}

/// Writes the label `"{name}-{i}"` into `out` (cleared first), the text a
/// ring hashes for a server's `i`-th point, without the formatting
/// machinery: building a ring of 100,000 points writes 100,000 labels.
pub(crate) fn point_label(out: &mut Vec<u8>, name: &str, i: u64) {
    out.clear();
    out.extend_from_slice(name.as_bytes());
    out.push(b'-');
    push_decimal(out, i);
}

/// Appends `v` in decimal, as `format!("{v}")` would write it.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod decimal_tests {
    #[test]
    fn push_decimal_writes_what_format_writes() {
        for v in [0u64, 7, 10, 99, 100, 12_345, u64::MAX] {
            let mut out = b"S1-".to_vec();
            super::push_decimal(&mut out, v);
            assert_eq!(out, format!("S1-{v}").into_bytes());
        }
    }
}
