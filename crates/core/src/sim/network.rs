//! The network model: latency, loss, duplication, reordering, partitions.
//!
//! Every directed link `a -> b` draws from its own random stream, so the
//! fate of messages on one link never depends on traffic on another.
//! Latency is uniform between `min` and `max`, with an optional tail: with
//! probability `tail_ppm` a message takes up to `tail_max` longer (long
//! delays without floating-point maths, which could differ between
//! platforms). With `exp_mean` set, the delay is `min` plus an exponential
//! draw of that mean instead (drawn exactly with integers, see
//! [`exponential`]). One server may be slow: every message to or from it
//! takes `slow_factor` times as long. Without `reorder`, each link is
//! FIFO: a message never overtakes an earlier one on the same link.

use super::protocol::NodeId;
use super::rng::{Rng, StreamKind};
use super::time::{Time, MS};

/// Conditions that apply to every link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// Fastest one-way delay.
    pub latency_min: Time,
    /// Slowest one-way delay (before the tail).
    pub latency_max: Time,
    /// Chance, in parts per million, that a message is delayed further.
    pub tail_ppm: u32,
    /// Longest extra delay of a tail message.
    pub tail_max: Time,
    /// Chance, in parts per million, that a message is lost.
    pub loss_ppm: u32,
    /// Chance, in parts per million, that a message is delivered twice.
    pub dup_ppm: u32,
    /// Whether messages on one link may overtake each other.
    pub reorder: bool,
    /// Mean of an exponential delay added to `latency_min` in place of the
    /// uniform one (0: uniform between `latency_min` and `latency_max`).
    pub exp_mean: Time,
    /// A slow server: every message to or from it takes `slow_factor`
    /// times as long (none: no server is slow).
    pub slow_node: Option<NodeId>,
    /// How many times as long (at least 1).
    pub slow_factor: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            latency_min: 10 * MS,
            latency_max: 20 * MS,
            tail_ppm: 0,
            tail_max: 0,
            loss_ppm: 0,
            dup_ppm: 0,
            reorder: true,
            exp_mean: 0,
            slow_node: None,
            slow_factor: 1,
        }
    }
}

/// An exponential draw of mean `mean`, rounded down, with integers only
/// (so native and wasm runs agree bit for bit): von Neumann's method
/// (1951; Knuth, TAOCP vol. 2, §3.4.1; Devroye, "Non-Uniform Random
/// Variate Generation", 1986, §IV.2.2). Draw uniforms `U1, U2, ...` while
/// they decrease; if the run's length is odd, the draw is `K + U1`, else
/// `K` grows by one and it starts again. The accepted `U1` has density
/// proportional to `e^-x` on [0, 1) and `K` is geometric with ratio `1/e`,
/// so `K + U1` is exponential of mean 1. Uniforms are 64-bit fractions.
pub fn exponential(rng: &mut Rng, mean: Time) -> Time {
    let mut k: u64 = 0;
    loop {
        let first = rng.next_u64();
        let (mut last, mut len) = (first, 1u32);
        loop {
            let u = rng.next_u64();
            if u > last {
                break;
            }
            last = u;
            len += 1;
        }
        if len % 2 == 1 {
            let frac = ((u128::from(mean) * u128::from(first)) >> 64) as u64;
            return mean.saturating_mul(k).saturating_add(frac);
        }
        k += 1;
    }
}

/// What the network decided for one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Lost at random.
    Lost,
    /// Cut by a partition.
    Cut,
    /// Arrives after the given delays (the second is a duplicate copy).
    Arrives(Time, Option<Time>),
}

/// Links, their random streams and which of them are cut.
///
/// Every directed link draws from its own stream, and `n` nodes have `n²`
/// links. A live ChaCha8 stream with its block of output is about 330
/// bytes, 85 MB for 500 nodes, in the run and in every snapshot of it; so
/// a link keeps only how many words of its stream it drew, and the streams
/// of the links in use live in a cache of [`HOT_LINKS`] slots. A link
/// whose slot another link took is set back to its place in its stream
/// when it sends again (a ChaCha stream can start at any word), so it
/// draws the same numbers whether it stayed in the cache or not: the cache
/// decides only the cost. Up to 64 nodes every link has a slot of its own.
#[derive(Clone, Debug)]
pub struct Network {
    seed: u64,
    nodes: u32,
    /// Per directed link `from * nodes + to`.
    links: Vec<Link>,
    /// Live streams: slot `i % len` holds link `i`'s, if it is there.
    hot: Vec<Option<(u32, Rng)>>,
    /// The conditions in force.
    pub config: NetConfig,
}

/// Most live link streams a network keeps (64 nodes' links).
pub const HOT_LINKS: usize = 4_096;

#[derive(Clone, Debug)]
struct Link {
    /// Words of its stream drawn, as of when its stream left the cache.
    drawn: u128,
    cut: bool,
    /// Latest arrival scheduled on this link (for FIFO links).
    last_arrival: Time,
}

impl Network {
    /// Bytes the links hold: a few words each, and the live streams.
    pub fn approx_bytes(&self) -> usize {
        self.links.capacity() * std::mem::size_of::<Link>()
            + self.hot.capacity() * std::mem::size_of::<Option<(u32, Rng)>>()
    }

    /// A fully connected network of `nodes` nodes.
    pub fn new(seed: u64, nodes: u32, config: NetConfig) -> Self {
        Network::with_cache(seed, nodes, config, HOT_LINKS)
    }

    /// The same, keeping at most `hot` live streams.
    pub(crate) fn with_cache(seed: u64, nodes: u32, config: NetConfig, hot: usize) -> Self {
        let count = nodes as usize * nodes as usize;
        let links = vec![Link { drawn: 0, cut: false, last_arrival: 0 }; count];
        let hot = vec![None; count.min(hot).max(1)];
        Network { seed, nodes, links, hot, config }
    }

    fn link(&mut self, from: NodeId, to: NodeId) -> &mut Link {
        &mut self.links[(from * self.nodes + to) as usize]
    }

    /// Link `i` and its live stream, brought into the cache if it is not
    /// there (the link it displaces keeps its place in its own stream).
    fn link_and_stream(&mut self, i: usize) -> (&mut Link, &mut Rng) {
        let slot = i % self.hot.len();
        if !matches!(&self.hot[slot], Some((j, _)) if *j as usize == i) {
            if let Some((j, rng)) = self.hot[slot].take() {
                self.links[j as usize].drawn = rng.words_drawn();
            }
            let n = self.nodes as usize;
            // A link's stream is named by its two ends, not by its position
            // in the matrix, so adding a node leaves existing links' draws
            // alone.
            let name = ((i / n) as u64) << 32 | (i % n) as u64;
            let rng = Rng::stream_at(self.seed, StreamKind::Link, name, self.links[i].drawn);
            self.hot[slot] = Some((i as u32, rng));
        }
        match &mut self.hot[slot] {
            Some((_, rng)) => (&mut self.links[i], rng),
            None => unreachable!("the slot was filled above"),
        }
    }

    /// Whether `from -> to` is cut.
    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.links[(from * self.nodes + to) as usize].cut
    }

    /// Decides what happens to a message sent now on `from -> to`.
    pub fn send(&mut self, now: Time, from: NodeId, to: NodeId) -> Fate {
        let cfg = self.config.clone();
        let i = (from * self.nodes + to) as usize;
        if self.links[i].cut {
            return Fate::Cut;
        }
        let (link, rng) = self.link_and_stream(i);
        if rng.chance_ppm(cfg.loss_ppm) {
            return Fate::Lost;
        }
        let slow = cfg.slow_node.is_some_and(|s| s == from || s == to);
        let delay = |link: &mut Link, rng: &mut Rng| {
            let mut d = if cfg.exp_mean > 0 {
                cfg.latency_min.saturating_add(exponential(rng, cfg.exp_mean))
            } else {
                rng.range(cfg.latency_min, cfg.latency_max.max(cfg.latency_min))
            };
            if rng.chance_ppm(cfg.tail_ppm) {
                d += rng.range(0, cfg.tail_max);
            }
            if slow {
                d = d.saturating_mul(cfg.slow_factor.max(1));
            }
            if !cfg.reorder {
                let arrival = (now + d).max(link.last_arrival);
                link.last_arrival = arrival;
                d = arrival - now;
            }
            d
        };
        let first = delay(link, rng);
        let dup = if rng.chance_ppm(cfg.dup_ppm) { Some(delay(link, rng)) } else { None };
        Fate::Arrives(first, dup)
    }

    /// Splits the cluster into groups; links between groups are cut, links
    /// inside a group are restored. Nodes in no group form one more group.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        let n = self.nodes;
        let mut group_of = vec![u32::MAX; n as usize];
        for (g, members) in groups.iter().enumerate() {
            for &m in members {
                if m < n {
                    group_of[m as usize] = g as u32;
                }
            }
        }
        for a in 0..n {
            for b in 0..n {
                let cut = group_of[a as usize] != group_of[b as usize];
                self.link(a, b).cut = cut;
            }
        }
    }

    /// Cuts `from -> to` only.
    pub fn block(&mut self, from: NodeId, to: NodeId) {
        if from < self.nodes && to < self.nodes && from != to {
            self.link(from, to).cut = true;
        }
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        for l in &mut self.links {
            l.cut = false;
        }
    }

    /// The groups of nodes that can reach each other both ways, for display.
    pub fn groups(&self) -> Vec<Vec<NodeId>> {
        let mut seen = vec![false; self.nodes as usize];
        let mut out = Vec::new();
        for a in 0..self.nodes {
            if seen[a as usize] {
                continue;
            }
            let mut g = vec![a];
            seen[a as usize] = true;
            for b in a + 1..self.nodes {
                if !seen[b as usize] && !self.is_cut(a, b) && !self.is_cut(b, a) {
                    seen[b as usize] = true;
                    g.push(b);
                }
            }
            out.push(g);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The exponential draw's mean and spread against the exponential
    // distribution's own (mean m, P(X > t) = e^(-t/m)): over 200,000 draws
    // the sample mean is within 4.5 standard errors (m / sqrt(n)), and the
    // share above m and above 3 m within 4.5 binomial standard deviations
    // of e^-1 and e^-3.
    #[test]
    fn exponential_draws_have_the_exponential_distribution() {
        let mut rng = Rng::stream(5, StreamKind::Link, 77);
        let (n, m) = (200_000u32, 10_000u64);
        let draws: Vec<u64> = (0..n).map(|_| exponential(&mut rng, m)).collect();
        let nf = f64::from(n);
        let mean = draws.iter().sum::<u64>() as f64 / nf;
        assert!((mean - m as f64).abs() < 4.5 * m as f64 / nf.sqrt(), "mean {mean}");
        for (t, p) in [(m, (-1.0f64).exp()), (3 * m, (-3.0f64).exp())] {
            let share = draws.iter().filter(|&&d| d > t).count() as f64 / nf;
            assert!((share - p).abs() < 4.5 * (p * (1.0 - p) / nf).sqrt(), "P(X > {t}) = {share}, want {p}");
        }
    }

    // A slow server: messages to and from it take slow_factor times as
    // long; messages between two other servers do not.
    #[test]
    fn a_slow_server_slows_its_own_links_only() {
        let cfg =
            NetConfig { latency_min: 10, latency_max: 10, slow_node: Some(2), slow_factor: 7, ..NetConfig::default() };
        let mut net = Network::new(1, 4, cfg);
        assert_eq!(net.send(0, 0, 1), Fate::Arrives(10, None));
        assert_eq!(net.send(0, 0, 2), Fate::Arrives(70, None));
        assert_eq!(net.send(0, 2, 3), Fate::Arrives(70, None));
    }

    #[test]
    fn partition_cuts_only_between_groups() {
        let mut net = Network::new(1, 5, NetConfig::default());
        net.partition(&[vec![0, 1], vec![2, 3, 4]]);
        assert!(!net.is_cut(0, 1) && !net.is_cut(3, 4));
        assert!(net.is_cut(0, 2) && net.is_cut(4, 1));
        assert_eq!(net.groups(), vec![vec![0, 1], vec![2, 3, 4]]);
        assert_eq!(net.send(0, 1, 2), Fate::Cut);
        net.heal();
        assert!(matches!(net.send(0, 1, 2), Fate::Arrives(..)));
        assert_eq!(net.groups().len(), 1);
    }

    #[test]
    fn one_way_block_leaves_the_other_direction() {
        let mut net = Network::new(1, 3, NetConfig::default());
        net.block(0, 1);
        assert_eq!(net.send(0, 0, 1), Fate::Cut);
        assert!(matches!(net.send(0, 1, 0), Fate::Arrives(..)));
    }

    #[test]
    fn fifo_links_never_reorder() {
        let cfg = NetConfig { latency_min: 1, latency_max: 1_000, reorder: false, ..NetConfig::default() };
        let mut net = Network::new(3, 2, cfg);
        let mut last = 0;
        for now in 0..500 {
            if let Fate::Arrives(d, _) = net.send(now, 0, 1) {
                assert!(now + d >= last);
                last = now + d;
            }
        }
    }

    #[test]
    fn loss_rate_is_about_what_was_asked() {
        let cfg = NetConfig { loss_ppm: 200_000, ..NetConfig::default() };
        let mut net = Network::new(5, 2, cfg);
        let lost = (0..10_000).filter(|_| net.send(0, 0, 1) == Fate::Lost).count();
        // 20% of 10,000 with a binomial sd of 40: allow 5 sd.
        assert!((1_800..=2_200).contains(&lost), "{lost}");
    }
}
