//! Each node's log as a chain of prefix digests (`d[i] = chain(d[i-1],
//! entry_i)`), kept up to date from the node's notes, so "these two logs
//! agree up to index i" is one comparison. Log Matching and Leader
//! Completeness follow every node's chain; a snapshot is the same chain cut
//! short, and a server that installs a leader's snapshot continues its
//! chain from the snapshot's digest.

use super::{node_of, s};
use crate::raft::node::{chain, RaftNode, EMPTY_DIGEST};
use crate::sim::{Node, NodeId, World};
use std::collections::VecDeque;

/// One node's chained prefix digests, from its snapshot on: `base` is the
/// snapshot's last index, `base_digest` the digest there, `digests[k]` the
/// digest at `base + 1 + k`.
#[derive(Clone, Debug)]
pub(super) struct Chain {
    pub(super) base: u64,
    pub(super) base_digest: u64,
    pub(super) digests: VecDeque<u64>,
}

impl Chain {
    pub(super) fn of(n: &RaftNode) -> Chain {
        let mut d = n.snapshot().state.digest;
        let digests = n
            .log()
            .iter()
            .map(|e| {
                d = chain(d, e);
                d
            })
            .collect();
        Chain { base: n.snapshot().index(), base_digest: n.snapshot().state.digest, digests }
    }

    pub(super) fn last(&self) -> u64 {
        self.base + self.digests.len() as u64
    }

    pub(super) fn at(&self, index: u64) -> Option<u64> {
        if index == self.base {
            Some(self.base_digest)
        } else {
            let k = usize::try_from(index.checked_sub(self.base + 1)?).ok()?;
            self.digests.get(k).copied()
        }
    }
}

/// Per node, the chained prefix digests of its log, kept up to date from
/// its notes.
#[derive(Clone, Debug, Default)]
pub(super) struct Chains {
    pub(super) per_node: Vec<Chain>,
}

impl Chains {
    pub(super) fn from_nodes(nodes: &[Node<RaftNode>]) -> Chains {
        Chains { per_node: nodes.iter().map(|n| Chain::of(&n.state)).collect() }
    }

    /// The bytes its digests take on the heap (what a copy costs).
    pub(super) fn heap_bytes(&self) -> usize {
        self.per_node.iter().map(|c| std::mem::size_of::<Chain>() + c.digests.len() * 8).sum()
    }

    pub(super) fn truncated(&mut self, id: NodeId, from: u64) {
        if let Some(c) = self.per_node.get_mut(id as usize) {
            let keep = from.saturating_sub(1).saturating_sub(c.base).min(c.digests.len() as u64);
            c.digests.truncate(keep as usize);
        }
    }

    /// Recomputes the digests of `from..=to` from the node's log and returns
    /// the indexes recomputed (possibly more than noted if the chain lagged,
    /// fewer if the log is shorter).
    pub(super) fn appended(&mut self, id: NodeId, from: u64, to: u64, node: &RaftNode) -> std::ops::Range<u64> {
        let Some(c) = self.per_node.get_mut(id as usize) else {
            return 0..0;
        };
        let start = from.max(c.base + 1).min(c.last() + 1);
        c.digests.truncate((start - c.base - 1) as usize);
        let end = to.min(node.last_log_index());
        for i in start..=end {
            let Some(e) = node.entry(i) else { break };
            let prev = c.at(i - 1).unwrap_or(EMPTY_DIGEST);
            c.digests.push_back(chain(prev, e));
        }
        start..c.last() + 1
    }

    /// The node compacted its log up to `index`: checks that its snapshot
    /// holds the digest of the entries it discarded.
    pub(super) fn compacted(&mut self, id: NodeId, index: u64, node: &RaftNode) -> Result<(), String> {
        let Some(c) = self.per_node.get_mut(id as usize) else {
            return Ok(());
        };
        let Some(d) = c.at(index) else {
            return Err(format!("{} compacted its log up to index {index}, which its log did not hold", s(id)));
        };
        let snap = node.snapshot();
        if snap.index() == index && snap.state.digest != d {
            return Err(format!(
                "{} took a snapshot up to index {index} whose state differs from applying its log up to there",
                s(id)
            ));
        }
        let drop = (index - c.base) as usize;
        c.digests.drain(..drop.min(c.digests.len()));
        c.base = index;
        c.base_digest = d;
        Ok(())
    }

    /// The node installed a snapshot up to `index`.
    pub(super) fn installed(&mut self, id: NodeId, index: u64, retained: bool, node: &RaftNode) -> Result<(), String> {
        let snap_digest = node.snapshot().state.digest;
        let Some(c) = self.per_node.get_mut(id as usize) else {
            return Ok(());
        };
        if retained {
            if c.at(index).is_some_and(|d| d != snap_digest) {
                return Err(format!(
                    "{} kept its log after a snapshot up to index {index}, but its log up to there differs from the snapshot (Figure 13, step 6)",
                    s(id)
                ));
            }
            let drop = (index.saturating_sub(c.base) as usize).min(c.digests.len());
            c.digests.drain(..drop);
        } else {
            c.digests.clear();
        }
        c.base = index;
        c.base_digest = snap_digest;
        Ok(())
    }

    pub(super) fn at(&self, id: NodeId, index: u64) -> Option<u64> {
        self.per_node.get(id as usize)?.at(index)
    }

    pub(super) fn get(&self, id: NodeId) -> Option<&Chain> {
        self.per_node.get(id as usize)
    }

    /// Compares the chain's end with the node's last index.
    pub(super) fn check_length(&self, id: NodeId, world: &World<'_, RaftNode>) -> Result<(), String> {
        let (Some(c), Some(n)) = (self.get(id), node_of(world, id)) else {
            return Ok(());
        };
        if c.last() == n.last_log_index() {
            Ok(())
        } else {
            Err(format!(
                "the log of {} ends at index {} but its notes account for {}: it changed without a note",
                s(id),
                n.last_log_index(),
                c.last()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Chain, Chains};
    use crate::raft::{Entry, RaftConfig, RaftDurable, RaftNode, Snapshot, StateMachine};
    use crate::sim::Protocol;

    /// Server S1 of three, in term 3, with a log of these entry terms.
    fn node(terms: &[u64]) -> RaftNode {
        compacted(0, terms)
    }

    /// The same, its first `upto` entries compacted into a snapshot.
    fn compacted(upto: usize, terms: &[u64]) -> RaftNode {
        let entries: Vec<Entry> = terms
            .iter()
            .enumerate()
            .map(|(i, &t)| Entry { term: t, command: t * 1_000 + i as u64 + 1, config: None, kv: None })
            .collect();
        let mut state = StateMachine::default();
        for e in &entries[..upto] {
            state.apply(e);
        }
        let snapshot = Snapshot { state, config: None, config_index: 0 };
        let durable = RaftDurable { term: 3, log: entries[upto..].to_vec(), snapshot, ..RaftDurable::default() };
        RaftNode::recover(0, 3, &RaftConfig::default(), durable)
    }

    // `appended`'s promise: the digests of `from..=to` recomputed from the
    // node's log, whatever the chain held there. Entries 3 to 5 replaced
    // by a new leader's, noted as one append over the chain that still
    // holds the old ones: the chain is the one computed from scratch, and
    // noting the same append again changes nothing.
    #[test]
    fn an_append_over_entries_the_chain_holds_recomputes_them_in_place() {
        let mut chains = Chains { per_node: vec![Chain::of(&node(&[1, 1, 1, 2, 2]))] };
        let new = node(&[1, 1, 3, 3, 3]);
        assert_eq!(chains.appended(0, 3, 5, &new), 3..6);
        assert_eq!(chains.per_node[0].digests, Chain::of(&new).digests);
        assert_eq!(chains.appended(0, 3, 5, &new), 3..6);
        assert_eq!(chains.per_node[0].digests, Chain::of(&new).digests, "the same append noted twice");
        assert_ne!(Chain::of(&new).digests, Chain::of(&node(&[1, 1, 1, 2, 2])).digests, "the logs differ");
        // The same after a snapshot of the first two entries: the chain
        // starts at index 3, and entries 4 and 5 are replaced.
        let mut chains = Chains { per_node: vec![Chain::of(&compacted(2, &[1, 1, 1, 2, 2]))] };
        let new = compacted(2, &[1, 1, 1, 3, 3]);
        assert_eq!(chains.per_node[0].base, 2);
        assert_eq!(chains.appended(0, 4, 5, &new), 4..6);
        assert_eq!(chains.per_node[0].digests, Chain::of(&new).digests, "after a snapshot");
    }

    // The snapshot budget counts a chain's digests: 8 bytes each.
    #[test]
    fn a_chains_bytes_grow_by_eight_a_digest() {
        let short = Chains { per_node: vec![Chain::of(&node(&[1]))] };
        let long = Chains { per_node: vec![Chain::of(&node(&[1, 1, 2, 2, 3, 3]))] };
        assert_eq!(long.heap_bytes() - short.heap_bytes(), 5 * 8);
        assert!(short.heap_bytes() >= std::mem::size_of::<Chain>() + 8);
    }
}
