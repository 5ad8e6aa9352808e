//! Seeded randomness, split into independent streams.
//!
//! A run has one seed. Every consumer of randomness (each node's timers, each
//! directed network link, the client workload) draws from its own ChaCha8
//! stream of that seed, so adding a node or a link leaves every other
//! stream's numbers unchanged. ChaCha8 (`rand_chacha`) was chosen because it
//! has 2^64 independent streams per seed built in, is fast, and its output is
//! specified bit for bit, natively and in wasm32. Only `u64` ranges are drawn:
//! `usize` ranges would sample differently on 32-bit wasm.

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// Which consumer a stream belongs to. The discriminant is part of the
/// stream number, so streams of different kinds never collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    /// A node's own randomness (election timeouts).
    Node = 1,
    /// One directed link's latency, loss and duplication.
    Link = 2,
    /// The client workload: arrival times and targets.
    Workload = 3,
    /// Lab-level randomness (for example, the keys a lab places).
    Lab = 4,
    /// A node's timer jitter (how late each of its timers fires), apart
    /// from its own stream so that turning jitter on moves no other draw.
    Jitter = 5,
}

/// One independent random stream.
#[derive(Clone, Debug)]
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream `index` of the given kind for this seed.
    pub fn stream(seed: u64, kind: StreamKind, index: u64) -> Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(((kind as u64) << 56) ^ index);
        Rng(rng)
    }

    /// The stream `index` of the given kind for this seed, after its first
    /// `words` 32-bit words: the same numbers from here on as a stream that
    /// drew those words itself.
    pub fn stream_at(seed: u64, kind: StreamKind, index: u64, words: u128) -> Rng {
        let mut rng = Rng::stream(seed, kind, index);
        rng.0.set_word_pos(words);
        rng
    }

    /// How many 32-bit words of the stream were drawn.
    pub fn words_drawn(&self) -> u128 {
        self.0.get_word_pos()
    }

    /// A uniform value in `lo..=hi` (returns `lo` if `hi < lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            self.0.random_range(lo..=hi)
        }
    }

    /// True with probability `ppm` parts per million.
    pub fn chance_ppm(&mut self, ppm: u32) -> bool {
        ppm > 0 && (ppm >= 1_000_000 || self.0.random_range(0..1_000_000u32) < ppm)
    }

    /// A raw 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.0.random()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // DESIGN.md, principle 1: adding a consumer must not reshuffle the others.
    #[test]
    fn streams_are_independent_of_each_other() {
        let a: Vec<u64> = (0..8).map(|_| Rng::stream(9, StreamKind::Node, 0).next_u64()).collect();
        let mut node0 = Rng::stream(9, StreamKind::Node, 0);
        let mut node1 = Rng::stream(9, StreamKind::Node, 1);
        let mut mixed = Vec::new();
        for _ in 0..8 {
            mixed.push(node0.next_u64());
            node1.next_u64();
        }
        assert_eq!(mixed[0], a[0]);
        let mut solo = Rng::stream(9, StreamKind::Node, 0);
        let solo: Vec<u64> = (0..8).map(|_| solo.next_u64()).collect();
        assert_eq!(mixed, solo);
        assert_ne!(Rng::stream(9, StreamKind::Node, 1).next_u64(), solo[0]);
        assert_ne!(Rng::stream(9, StreamKind::Link, 0).next_u64(), solo[0]);
        assert_ne!(Rng::stream(10, StreamKind::Node, 0).next_u64(), solo[0]);
    }

    #[test]
    fn range_stays_in_bounds() {
        let mut r = Rng::stream(1, StreamKind::Lab, 0);
        for _ in 0..1000 {
            let v = r.range(10, 20);
            assert!((10..=20).contains(&v));
        }
        assert_eq!(r.range(5, 5), 5);
        assert_eq!(r.range(7, 3), 7);
        assert!(!r.chance_ppm(0));
        assert!(r.chance_ppm(1_000_000));
    }
}
