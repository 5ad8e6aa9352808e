//! Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software
//! Network Load Balancer", NSDI 2016, §3.4).
//!
//! A lookup table of prime size `M` maps `hash(key) % M` to a backend. Each
//! backend `i` has a preference order over the table's slots, a permutation
//! given by two hashes of its name:
//!
//! ```text
//! offset = h1(name) mod M
//! skip   = h2(name) mod (M - 1) + 1
//! permutation[i][j] = (offset + j * skip) mod M
//! ```
//!
//! (`M` prime makes every `skip` coprime with it, so each sequence visits
//! every slot.) The table is filled in turns: each backend in order takes
//! the next slot of its permutation that is still empty, until the table is
//! full. So equal-weight backends own `floor(M/N)` or `ceil(M/N)` slots:
//! counts differ by at most one, the paper's balance claim. When a backend
//! goes, the others mostly keep their slots (the paper's "minimal
//! disruption", not guaranteed but close when `M >> N`).
//!
//! Weights change how often a backend takes a turn: per round a backend
//! earns its weight in credit and takes a turn for each `max weight` of
//! credit, so at equal weights every backend takes one turn per round,
//! exactly the paper's procedure. Failed backends are left out of the table.
//! `h1` and `h2` are the chosen hash function with two seeds.

use super::{check_nodes, Algorithm, HashKind, NodeId, NodeSpec, Placement, RingError, MAX_MAGLEV_SIZE};

const OFFSET_SEED: u64 = 0x6d61_676c_6576_3a31; // "maglev:1"
const SKIP_SEED: u64 = 0x6d61_676c_6576_3a32; // "maglev:2"

/// A Maglev lookup table.
#[derive(Clone, Debug)]
pub struct Maglev {
    ids: Vec<NodeId>,
    table: Vec<u32>,
}

/// The smallest prime at least `n` (2 for `n <= 2`), by trial division.
pub fn next_prime(n: u64) -> u64 {
    fn is_prime(n: u64) -> bool {
        if n < 2 {
            return false;
        }
        if n.is_multiple_of(2) {
            return n == 2;
        }
        let mut d = 3;
        while d * d <= n {
            if n.is_multiple_of(d) {
                return false;
            }
            d += 2;
        }
        true
    }
    let mut m = n.max(2);
    while !is_prime(m) {
        m += 1;
    }
    m
}

impl Maglev {
    /// Builds the table over the live servers. `table_size` is rounded up to
    /// a prime; it must be at least the number of live servers and at most
    /// [`MAX_MAGLEV_SIZE`]. The paper uses 65,537 and recommends `M` well
    /// over 100 times the number of backends for balance within 1 %.
    pub fn new(nodes: &[NodeSpec], hash: HashKind, table_size: u64) -> Result<Maglev, RingError> {
        check_nodes(nodes)?;
        let live: Vec<&NodeSpec> = nodes.iter().filter(|n| !n.failed).collect();
        let n = live.len() as u64;
        if table_size < n || table_size > MAX_MAGLEV_SIZE {
            return Err(RingError::MaglevSize { size: table_size, servers: n });
        }
        let m = next_prime(table_size);
        if m > MAX_MAGLEV_SIZE {
            return Err(RingError::MaglevSize { size: table_size, servers: n });
        }
        // Each backend's permutation, as (current slot, skip).
        let mut pos: Vec<u64> = Vec::with_capacity(live.len());
        let mut skip: Vec<u64> = Vec::with_capacity(live.len());
        for b in &live {
            pos.push(hash.hash_seeded(OFFSET_SEED, b.name.as_bytes()) % m);
            skip.push(hash.hash_seeded(SKIP_SEED, b.name.as_bytes()) % (m - 1) + 1);
        }
        let weights: Vec<u64> = live.iter().map(|b| u64::from(b.weight)).collect();
        let max_weight = weights.iter().copied().max().unwrap_or(1);
        let mut credit = vec![0u64; live.len()];
        const EMPTY: u32 = u32::MAX;
        let mut table = vec![EMPTY; m as usize];
        let mut filled = 0u64;
        'fill: loop {
            for i in 0..live.len() {
                credit[i] += weights[i];
                while credit[i] >= max_weight {
                    credit[i] -= max_weight;
                    // Next empty slot in backend i's permutation.
                    while table[pos[i] as usize] != EMPTY {
                        pos[i] = (pos[i] + skip[i]) % m;
                    }
                    table[pos[i] as usize] = i as u32;
                    pos[i] = (pos[i] + skip[i]) % m;
                    filled += 1;
                    if filled == m {
                        break 'fill;
                    }
                }
            }
        }
        Ok(Maglev { ids: live.iter().map(|b| b.id).collect(), table })
    }

    /// The table size `M` (a prime).
    pub fn table_size(&self) -> u64 {
        self.table.len() as u64
    }

    /// The owner of each slot, in slot order.
    pub fn slots(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.table.iter().map(|&i| self.ids[i as usize])
    }
}

impl Placement for Maglev {
    fn algorithm(&self) -> Algorithm {
        Algorithm::Maglev
    }

    fn locate(&self, key_hash: u64) -> NodeId {
        let slot = key_hash % self.table.len() as u64;
        self.ids[self.table[slot as usize] as usize]
    }

    fn footprint(&self) -> u64 {
        self.table.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::uniform_nodes;

    #[test]
    fn primes() {
        assert_eq!(next_prime(0), 2);
        assert_eq!(next_prime(2), 2);
        assert_eq!(next_prime(65_536), 65_537);
        assert_eq!(next_prime(65_537), 65_537);
        assert_eq!(next_prime(MAX_MAGLEV_SIZE), MAX_MAGLEV_SIZE);
        assert_eq!(next_prime(100), 101);
    }

    #[test]
    fn sizes_are_checked() {
        let nodes = uniform_nodes(10, 1);
        assert!(Maglev::new(&nodes, HashKind::Xxh3, 5).is_err());
        assert!(Maglev::new(&nodes, HashKind::Xxh3, MAX_MAGLEV_SIZE + 1).is_err());
        assert_eq!(Maglev::new(&nodes, HashKind::Xxh3, 10).unwrap().table_size(), 11);
        assert_eq!(Maglev::new(&uniform_nodes(1, 1), HashKind::Xxh3, 1).unwrap().table_size(), 2);
    }

    #[test]
    fn weights_scale_slots() {
        let mut nodes = uniform_nodes(2, 1);
        nodes[0].weight = 300;
        let m = Maglev::new(&nodes, HashKind::Xxh3, 4001).unwrap();
        let heavy = m.slots().filter(|&id| id == 0).count();
        // Three turns for one: 3/4 of 4001 slots, within one round.
        assert!((3000..=3002).contains(&heavy), "{heavy}");
    }
}
