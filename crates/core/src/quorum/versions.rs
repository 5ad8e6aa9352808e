//! What a replica holds for a key, under either way of ordering versions.
//!
//! * **Last writer wins** (`versions lww`): one version, the one with the
//!   highest (timestamp, coordinator) pair. Two copies meet and the older
//!   is dropped, whether or not anybody ever read it (Dynamo, SOSP 2007,
//!   §4.4 on Cassandra-style timestamps; Kingsbury, "The trouble with
//!   timestamps", 2013).
//! * **Version vectors with siblings** (`versions vectors`): Riak's
//!   *dotted version vector sets* (Preguiça, Baquero, Almeida, Fonte and
//!   Gonçalves, "Dotted Version Vectors: Logical Clocks for Optimistic
//!   Replication", 2010; Almeida et al., "Scalable and Accurate Causality
//!   Tracking for Eventually Consistent Stores", DAIS 2014; Riak's
//!   `dvvset`). An object is a version vector (`clock`: per coordinator,
//!   the highest write counter whose effect it has seen) and the values
//!   still alive (`siblings`), each tagged with the *dot* (coordinator,
//!   counter) of the write that made it. Two copies *sync*: a sibling
//!   survives if both hold it or if the other's clock has not seen its dot;
//!   the clocks take the pointwise maximum. A sibling is therefore dropped
//!   only by a copy whose clock has seen it, that is, by a write whose
//!   client read it. A coordinator writes by taking a fresh dot one above
//!   everything its own copy of the key has seen, keeping its own siblings
//!   the client's context had not seen, and shipping the whole object (as
//!   Riak's coordinating vnode does): so a clock entry `(S, n)` never
//!   claims a write of `S` it has not carried.
//!
//! A read returns every sibling and the merged clock as its context; the
//! client (here, the read's coordinator on the client's behalf) merges
//! the siblings into one value, deterministically the **largest** value
//! (values are request numbers, so the latest-issued write among them),
//! and writes it back with the context, which collapses them.

use crate::sim::{Fingerprint, NodeId};
use std::fmt::Write as _;

/// A stored version: its timestamp (the coordinator's clock), the
/// coordinator, the value, and under version vectors the coordinator's
/// write counter (the dot is `(node, n)`; 0 under last writer wins).
/// Last-writer-wins orders versions by timestamp, then by coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The coordinator's clock when it took the write, in microseconds,
    /// plus one (0 is "never written").
    pub ts: u64,
    /// The coordinator.
    pub node: NodeId,
    /// The value written.
    pub value: i64,
    /// Version vectors: the coordinator's write counter (0: last writer
    /// wins).
    pub n: u64,
}

impl Version {
    /// The dot of the write that made it: (coordinator, counter).
    pub fn dot(&self) -> (NodeId, u64) {
        (self.node, self.n)
    }
}

/// How versions are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versions {
    /// Last writer wins by timestamp.
    Lww,
    /// Dotted version vectors keeping concurrent siblings.
    Vectors,
}

/// What a server holds for a key: nothing, one version (last writer
/// wins), or a version vector and its siblings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Held {
    /// Version vectors: per coordinator, the highest counter seen, sorted
    /// by coordinator (empty under last writer wins).
    pub clock: Vec<(NodeId, u64)>,
    /// The versions alive, sorted by dot (last writer wins: at most one).
    pub siblings: Vec<Version>,
}

impl Held {
    /// Holding one version (last writer wins).
    pub fn one(ver: Version) -> Held {
        Held { clock: Vec::new(), siblings: vec![ver] }
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.siblings.is_empty()
    }

    /// The clock's entry for `node` (0 if none).
    pub fn seen(&self, node: NodeId) -> u64 {
        entry(&self.clock, node)
    }

    /// The value a client is given: the largest of the siblings' values
    /// (the deterministic merge; under last writer wins the one value).
    pub fn value(&self) -> Option<i64> {
        self.siblings.iter().map(|s| s.value).max()
    }

    /// The newest timestamp among the siblings (0: none).
    pub fn ts(&self) -> u64 {
        self.siblings.iter().map(|s| s.ts).max().unwrap_or(0)
    }

    /// Whether it holds a version with this dot, or its clock has seen it
    /// (under last writer wins: holds that very version).
    pub fn has_seen(&self, ver: &Version) -> bool {
        if self.clock.is_empty() {
            self.siblings.contains(ver)
        } else {
            self.seen(ver.node) >= ver.n
        }
    }

    /// The two copies merged: last writer wins keeps the newer version;
    /// version vectors sync (see the module's comment).
    pub fn join(&self, other: &Held) -> Held {
        if self.clock.is_empty() && other.clock.is_empty() {
            // Last writer wins (and nothing against anything).
            return match (self.siblings.first(), other.siblings.first()) {
                (Some(a), Some(b)) => Held::one(*a.max(b)),
                (Some(_), None) => self.clone(),
                _ => other.clone(),
            };
        }
        let mut siblings: Vec<Version> = self
            .siblings
            .iter()
            .filter(|s| other.siblings.contains(s) || s.n > other.seen(s.node))
            .chain(other.siblings.iter().filter(|s| !self.siblings.contains(s) && s.n > self.seen(s.node)))
            .copied()
            .collect();
        siblings.sort_unstable_by_key(Version::dot);
        siblings.dedup_by_key(|s| s.dot());
        Held { clock: max_clock(&self.clock, &other.clock), siblings }
    }

    /// Whether it has everything `other` has (joining `other` in would
    /// change nothing): under last writer wins, whether it is as new.
    pub fn covers(&self, other: &Held) -> bool {
        self.join(other) == *self
    }

    /// Keeps `other` joined in; whether that changed anything.
    pub fn absorb(&mut self, other: &Held) -> bool {
        let joined = self.join(other);
        let changed = joined != *self;
        *self = joined;
        changed
    }

    /// A write coordinated by `node` under version vectors: `ver` (whose
    /// counter is set here) written by a client whose context is
    /// `context`, onto this copy (the coordinator's own). The new version
    /// takes the dot one above what this copy and the context have seen of
    /// `node`; the siblings the context has not seen stay; the clock joins
    /// this copy's, the context's and the new dot.
    pub fn write(&self, context: &[(NodeId, u64)], mut ver: Version) -> (Held, Version) {
        ver.n = self.seen(ver.node).max(entry(context, ver.node)) + 1;
        let mut siblings: Vec<Version> =
            self.siblings.iter().filter(|s| s.n > entry(context, s.node)).copied().collect();
        siblings.push(ver);
        siblings.sort_unstable_by_key(Version::dot);
        let clock = max_clock(&max_clock(&self.clock, context), &[(ver.node, ver.n)]);
        (Held { clock, siblings }, ver)
    }

    /// Adds to a fingerprint: under last writer wins the words a version
    /// always had (so runs keep their fingerprints), else the clock and
    /// the siblings' dots and values.
    pub fn digest(&self, fp: &mut Fingerprint) {
        if self.clock.is_empty() {
            match self.siblings.first() {
                Some(v) => fp.words(&[v.ts, u64::from(v.node), v.value as u64, 1]),
                None => fp.u64(0),
            }
            return;
        }
        fp.words(&[2, self.clock.len() as u64, self.siblings.len() as u64, 0]);
        for &(n, c) in &self.clock {
            fp.u64(u64::from(n));
            fp.u64(c);
        }
        for s in &self.siblings {
            fp.words(&[s.ts, u64::from(s.node), s.value as u64, s.n]);
        }
    }

    /// As the trace says it: `v7@1200.S2` (last writer wins), or
    /// `{v7@S2.3, v9@S4.1} [S2:3 S4:1]` (siblings and clock).
    pub fn describe(&self, out: &mut String) {
        if self.clock.is_empty() {
            match self.siblings.first() {
                Some(v) => {
                    let _ = write!(out, "v{}@{}.S{}", v.value, v.ts, u64::from(v.node) + 1);
                }
                None => out.push_str("none"),
            }
            return;
        }
        out.push('{');
        for (i, s) in self.siblings.iter().enumerate() {
            let _ = write!(out, "{}v{}@S{}.{}", if i > 0 { ", " } else { "" }, s.value, u64::from(s.node) + 1, s.n);
        }
        out.push_str("} [");
        for (i, (n, c)) in self.clock.iter().enumerate() {
            let _ = write!(out, "{}S{}:{c}", if i > 0 { " " } else { "" }, u64::from(*n) + 1);
        }
        out.push(']');
    }
}

fn entry(clock: &[(NodeId, u64)], node: NodeId) -> u64 {
    clock.iter().find(|(n, _)| *n == node).map_or(0, |(_, c)| *c)
}

/// The pointwise maximum of two clocks, sorted by node.
fn max_clock(a: &[(NodeId, u64)], b: &[(NodeId, u64)]) -> Vec<(NodeId, u64)> {
    let mut out: Vec<(NodeId, u64)> = a.to_vec();
    for &(n, c) in b {
        match out.iter_mut().find(|(m, _)| *m == n) {
            Some(e) => e.1 = e.1.max(c),
            None => out.push((n, c)),
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ver(node: NodeId, value: i64) -> Version {
        Version { ts: value as u64, node, value, n: 0 }
    }

    // Preguiça et al. 2010, §3 (and Riak's dvvset): two clients write the
    // same key through the same coordinator without either having read
    // the other's write (both with the empty context). Plain per-server
    // version vectors would order the second after the first and drop it
    // (the "lost update" the paper's Figure 1 shows); dots keep both.
    #[test]
    fn two_concurrent_writes_are_two_siblings() {
        let start = Held::default();
        let (a, va) = start.write(&[], ver(0, 10));
        let (b, vb) = a.write(&[], ver(0, 11));
        assert_eq!((va.n, vb.n), (1, 2));
        assert_eq!(b.siblings, vec![va, vb], "the coordinator keeps its own first write");
        // A replica that got only the first write, then the second object.
        assert_eq!(a.join(&b).siblings.len(), 2);
        // Through two coordinators: a replica holding each syncs to both.
        let (c, vc) = Held::default().write(&[], ver(2, 12));
        let both = b.join(&c);
        assert_eq!(both.siblings, vec![va, vb, vc]);
        assert_eq!(both.clock, vec![(0, 2), (2, 1)]);
        assert_eq!(both.value(), Some(12), "the client's merge: the largest value");
        // Sync is commutative and idempotent.
        assert_eq!(c.join(&b), both);
        assert_eq!(both.join(&both), both);
        assert_eq!(both.join(&a), both, "an older copy adds nothing");
    }

    // Dynamo §4.4: a write whose context has seen a version supersedes it
    // everywhere; one whose context has not leaves it as a sibling.
    #[test]
    fn a_causally_later_write_supersedes_and_a_merge_collapses() {
        let (a, va) = Held::default().write(&[], ver(0, 10));
        // A client read `a` (context [S1:1]) and writes through S3.
        let (later, vl) = Held::default().write(&a.clock, ver(2, 20));
        let replica = a.join(&later);
        assert_eq!(replica.siblings, vec![vl], "the later write supersedes the one its client read");
        assert!(replica.has_seen(&va));
        // Meanwhile a blind write (empty context) through S2 is concurrent.
        let (blind, vb) = Held::default().write(&[], ver(1, 15));
        let two = replica.join(&blind);
        assert_eq!(two.siblings, vec![vb, vl], "sorted by dot");
        // The client reads both, merges (largest value) and writes back
        // with the merged context: one sibling left, on every copy.
        let (merged, vm) = Held::default().write(&two.clock, ver(1, two.value().unwrap_or(0)));
        assert_eq!(vm.value, 20);
        for copy in [&a, &later, &blind, &two] {
            assert_eq!(copy.join(&merged).siblings, vec![vm]);
        }
    }

    // The reason the coordinator ships its whole copy: its second write
    // takes counter 2, and a clock entry S1:2 claims S1's write 1 as seen.
    // A replica that holds write 1 and gets the object of write 2 keeps
    // write 1, because the object carries it.
    #[test]
    fn a_coordinators_later_write_carries_its_earlier_ones() {
        let (first, v1) = Held::default().write(&[], ver(0, 1));
        let (second, _) = first.write(&[], ver(0, 2));
        assert!(first.join(&second).siblings.contains(&v1));
        assert!(Held::default().join(&second).siblings.contains(&v1));
    }

    // Last writer wins keeps one version, the highest (timestamp,
    // coordinator) pair, whatever the order the copies meet in.
    #[test]
    fn last_writer_wins_keeps_the_highest_stamp() {
        let old = Held::one(ver(1, 5));
        let new = Held::one(ver(0, 9));
        assert_eq!(old.join(&new), new);
        assert_eq!(new.join(&old), new);
        assert_eq!(Held::default().join(&old), old);
        assert!(!new.has_seen(&ver(1, 5)), "it dropped that write without anybody reading it");
    }
}
