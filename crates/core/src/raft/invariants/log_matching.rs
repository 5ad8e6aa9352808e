//! Log Matching (§5.3): two logs (or snapshots) with an entry of the same
//! index and term are identical up to it.
//!
//! The checker, [`LogMatching`], is incremental: it follows the nodes' notes
//! after every event (see [`super`] for how); its documentation says what
//! it keeps and compares.

use super::chains::Chains;
use super::{changes, node_of, s, Change, Window};
use crate::raft::node::{RaftNode, RaftNote};
use crate::sim::{Invariant, NodeId, TraceEvent, World};
use std::collections::BTreeMap;

/// Log Matching: if two logs contain an entry with the same index and term,
/// the logs are identical in all entries up through that index (§5.3). A
/// snapshot's last included entry counts as an entry of its log (§7).
///
/// Keeps every node's chained prefix digests and, for every (index, term)
/// written anywhere within the last [`WINDOW`](super::WINDOW) indexes, the digest of the
/// prefix it closed. Any entry of that index and term written later, on
/// any node, must close the same prefix. (An (index, term) pair is created
/// once, by that term's leader, so the property holds across time too, not
/// only between current logs.) A server that compacts its log must hold in
/// its snapshot the digest of the entries it discarded.
#[derive(Clone, Debug, Default)]
pub struct LogMatching {
    ready: bool,
    chains: Chains,
    /// Per index, the first (term, digest, node) seen; most indexes only
    /// ever hold one term.
    first: Window<(u64, u64, NodeId)>,
    /// Further terms at an index: (index, term) -> (digest, node).
    others: BTreeMap<(u64, u64), (u64, NodeId)>,
    touched: Vec<NodeId>,
}

impl LogMatching {
    fn record(&mut self, id: NodeId, index: u64, term: u64, digest: u64) -> Result<(), String> {
        if index == 0 {
            return Ok(());
        }
        let seen = match self.first.get(index) {
            None => {
                self.first.set(index, (term, digest, id));
                if let Some((&(lo, _), _)) = self.others.first_key_value() {
                    if lo < self.first.lo {
                        self.others = self.others.split_off(&(self.first.lo, 0));
                    }
                }
                return Ok(());
            }
            Some(&(t, d, by)) if t == term => (d, by),
            Some(_) => match self.others.get(&(index, term)) {
                Some(&(d, by)) => (d, by),
                None => {
                    self.others.insert((index, term), (digest, id));
                    return Ok(());
                }
            },
        };
        if seen.0 == digest {
            Ok(())
        } else {
            Err(format!(
                "{} and {} both hold an entry of term {term} at index {index}, but their logs differ at or before it",
                s(seen.1),
                s(id)
            ))
        }
    }

    fn record_range(&mut self, id: NodeId, range: std::ops::Range<u64>, node: &RaftNode) -> Result<(), String> {
        for i in range {
            let (Some(e), Some(d)) = (node.entry(i), self.chains.at(id, i)) else {
                break;
            };
            self.record(id, i, e.term, d)?;
        }
        Ok(())
    }

    fn record_snapshot(&mut self, id: NodeId, node: &RaftNode) -> Result<(), String> {
        let snap = node.snapshot();
        self.record(id, snap.index(), snap.term(), snap.state.digest)
    }
}

impl Invariant<RaftNode> for LogMatching {
    fn name(&self) -> &'static str {
        "Log Matching"
    }

    fn check(&mut self, world: &World<'_, RaftNode>, events: &[TraceEvent<RaftNode>]) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            self.chains = Chains::from_nodes(world.nodes);
            for (i, n) in world.nodes.iter().enumerate() {
                self.record_snapshot(i as NodeId, &n.state)?;
                self.record_range(i as NodeId, n.state.first_log_index()..n.state.last_log_index() + 1, &n.state)?;
            }
        }
        self.touched.clear();
        for change in changes(events) {
            let Change::Note(id, note) = change else {
                continue;
            };
            let Some(node) = node_of(world, id) else { continue };
            match note {
                RaftNote::Truncated { from } => {
                    self.chains.truncated(id, *from);
                    self.touched.push(id);
                }
                RaftNote::Appended { from, to } => {
                    let range = self.chains.appended(id, *from, *to, node);
                    self.record_range(id, range, node)?;
                    self.touched.push(id);
                }
                RaftNote::Snapshotted { index, .. } => {
                    self.chains.compacted(id, *index, node)?;
                    self.touched.push(id);
                }
                RaftNote::InstalledSnapshot { index, retained, .. } => {
                    self.chains.installed(id, *index, *retained, node)?;
                    self.record_snapshot(id, node)?;
                    self.touched.push(id);
                }
                _ => {}
            }
        }
        for &id in &self.touched {
            self.chains.check_length(id, world)?;
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }

    fn heap_bytes(&self) -> usize {
        self.chains.heap_bytes() + self.first.heap_bytes() + self.others.len() * 48
    }
}
