//! State Machine Safety (§5.4.3): no two servers apply different entries at
//! the same index; their state machines agree at every applied index.
//!
//! The checker, [`StateMachineSafety`], is incremental: it follows the nodes' notes
//! after every event (see [`super`] for how); its documentation says what
//! it keeps and compares.

use super::{changes, entry_text, node_of, s, Change, Window};
use crate::raft::node::{chain, RaftNode, RaftNote};
use crate::sim::{Invariant, NodeId, TraceEvent, World};

/// State Machine Safety: if a server has applied a log entry at a given
/// index, no other server ever applies a different entry at that index
/// (§5.4.3). Here committing is applying: every `Committed` note applies
/// the entries between the node's previous commit index and the new one.
/// The checker applies them too, to its own copy of each server's digest,
/// and demands (a) that the digest at each index equal the one any server
/// had there first (within the last [`WINDOW`](super::WINDOW) indexes), (b) that the
/// server's real state machine hold exactly that digest and index, so the
/// state is compared, not assumed, and (c) that a snapshot installed or
/// taken agree with it too. A server also must never delete an entry it
/// has applied.
#[derive(Clone, Debug, Default)]
pub struct StateMachineSafety {
    ready: bool,
    /// Digest of the applied prefix at each index, and who applied it first.
    applied: Window<(u64, NodeId)>,
    /// Per node: (applied index, digest), as the checker computed it.
    node_state: Vec<(u64, u64)>,
    touched: Vec<NodeId>,
}

impl StateMachineSafety {
    fn agree(
        &mut self,
        id: NodeId,
        index: u64,
        digest: u64,
        what: impl FnOnce() -> String,
        world: &World<'_, RaftNode>,
    ) -> Result<(), String> {
        match self.applied.get(index) {
            Some(&(d, by)) if d != digest => {
                let theirs = node_of(world, by)
                    .and_then(|n| n.entry(index))
                    .map_or_else(String::new, |e| format!(" (its entry there: {})", entry_text(e)));
                Err(format!(
                    "{} {} at index {index} a state that differs from the one {} applied there{theirs}",
                    s(id),
                    what(),
                    s(by)
                ))
            }
            Some(_) => Ok(()),
            None => {
                self.applied.set(index, (digest, id));
                Ok(())
            }
        }
    }

    fn committed_by(
        &mut self,
        id: NodeId,
        index: u64,
        node: &RaftNode,
        world: &World<'_, RaftNode>,
    ) -> Result<(), String> {
        let x = id as usize;
        let Some(&(mut at, mut d)) = self.node_state.get(x) else {
            return Ok(());
        };
        while at < index {
            let Some(e) = node.entry(at + 1) else {
                return Err(format!("{} committed index {index} but its log does not hold index {}", s(id), at + 1));
            };
            at += 1;
            d = chain(d, e);
            self.agree(id, at, d, || format!("applied {}, reaching", entry_text(e)), world)?;
        }
        self.node_state[x] = (at, d);
        Ok(())
    }

    fn reset(&mut self, id: NodeId, node: &RaftNode) {
        if let Some(st) = self.node_state.get_mut(id as usize) {
            *st = (node.state_machine().applied, node.state_machine().digest);
        }
    }
}

impl Invariant<RaftNode> for StateMachineSafety {
    fn name(&self) -> &'static str {
        "State Machine Safety"
    }

    fn check(&mut self, world: &World<'_, RaftNode>, events: &[TraceEvent<RaftNode>]) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            self.node_state =
                world.nodes.iter().map(|n| (n.state.state_machine().applied, n.state.state_machine().digest)).collect();
            for (i, n) in world.nodes.iter().enumerate() {
                let sm = n.state.state_machine();
                self.agree(i as NodeId, sm.applied, sm.digest, || "holds".into(), world)?;
            }
        }
        self.touched.clear();
        for change in changes(events) {
            match change {
                Change::Crash(id) => {
                    // It restarts from its snapshot, which it took from
                    // states already checked.
                    if let Some(node) = node_of(world, id) {
                        self.reset(id, node);
                    }
                }
                Change::Note(id, note) => {
                    let Some(node) = node_of(world, id) else { continue };
                    match note {
                        RaftNote::Committed { index } => {
                            self.committed_by(id, *index, node, world)?;
                            self.touched.push(id);
                        }
                        RaftNote::InstalledSnapshot { index, .. } => {
                            let snap = node.snapshot();
                            self.agree(id, *index, snap.state.digest, || "installed a snapshot holding".into(), world)?;
                            self.reset(id, node);
                            self.touched.push(id);
                        }
                        RaftNote::Snapshotted { index, .. } => {
                            let snap = node.snapshot();
                            if snap.index() == *index {
                                self.agree(id, *index, snap.state.digest, || "took a snapshot holding".into(), world)?;
                            }
                        }
                        RaftNote::Truncated { from } => {
                            let had = self.node_state.get(id as usize).map_or(0, |st| st.0);
                            if *from <= had {
                                return Err(format!(
                                    "{} deleted its entries from index {from}, but had already applied up to index {had}",
                                    s(id)
                                ));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for &id in &self.touched {
            let (Some(node), Some(&(at, d))) = (node_of(world, id), self.node_state.get(id as usize)) else {
                continue;
            };
            // A state machine ahead of its notes applied without a note; one
            // at the same index must hold the same state.
            let sm = node.state_machine();
            if sm.applied > at || (sm.applied == at && sm.digest != d) {
                return Err(format!(
                    "the state machine of {} is at index {} with digest {:016x}, but applying its committed entries gives index {at} with digest {d:016x}",
                    s(id),
                    sm.applied,
                    sm.digest
                ));
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }

    fn heap_bytes(&self) -> usize {
        self.applied.heap_bytes()
    }
}
