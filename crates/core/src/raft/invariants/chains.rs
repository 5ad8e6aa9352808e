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
