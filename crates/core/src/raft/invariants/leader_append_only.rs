//! Leader Append-Only (§5.3): a leader never overwrites or deletes entries in
//! its log.
//!
//! The checker, [`LeaderAppendOnly`], is incremental: it follows the nodes' notes
//! after every event (see [`super`] for how); its documentation says what
//! it keeps and compares.

use super::{changes, ends_leadership, node_of, s, Change};
use crate::raft::node::{RaftNode, RaftNote, Role};
use crate::sim::{Invariant, NodeId, TraceEvent, World};

/// Leader Append-Only: a leader never overwrites or deletes entries in its
/// log; it only appends (§5.3). Follows each node's last index through its
/// notes and, while the node leads, refuses any `Truncated` note, any
/// `Appended` that starts inside the existing log, and any snapshot
/// installed over its log. (Compacting its own applied entries is not a
/// deletion: they live on in the snapshot, §7.)
#[derive(Clone, Debug, Default)]
pub struct LeaderAppendOnly {
    ready: bool,
    last: Vec<u64>,
    leading: Vec<Option<u64>>,
    touched: Vec<NodeId>,
}

impl Invariant<RaftNode> for LeaderAppendOnly {
    fn name(&self) -> &'static str {
        "Leader Append-Only"
    }

    fn check(&mut self, world: &World<'_, RaftNode>, events: &[TraceEvent<RaftNode>]) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            self.last = world.nodes.iter().map(|n| n.state.last_log_index()).collect();
            self.leading =
                world.nodes.iter().map(|n| (n.state.role() == Role::Leader).then(|| n.state.term())).collect();
        }
        self.touched.clear();
        for change in changes(events) {
            let (id, note) = match change {
                Change::Crash(id) => {
                    if let Some(l) = self.leading.get_mut(id as usize) {
                        *l = None;
                    }
                    continue;
                }
                Change::Note(id, note) => (id, note),
            };
            let x = id as usize;
            if x >= self.last.len() {
                continue;
            }
            match note {
                RaftNote::BecameLeader { term } => self.leading[x] = Some(*term),
                n if ends_leadership(n) => self.leading[x] = None,
                RaftNote::Truncated { from } => {
                    if let Some(t) = self.leading[x] {
                        return Err(format!("{}, leader of term {t}, deleted its entries from index {from}", s(id)));
                    }
                    self.last[x] = self.last[x].min(from.saturating_sub(1));
                    self.touched.push(id);
                }
                RaftNote::Appended { from, to } => {
                    if let Some(t) = self.leading[x] {
                        if *from <= self.last[x] {
                            return Err(format!(
                                "{}, leader of term {t}, overwrote its entries from index {from} (its log ended at index {})",
                                s(id),
                                self.last[x]
                            ));
                        }
                    }
                    self.last[x] = *to;
                    self.touched.push(id);
                }
                RaftNote::InstalledSnapshot { index, retained, .. } => {
                    if let Some(t) = self.leading[x] {
                        return Err(format!(
                            "{}, leader of term {t}, installed a snapshot up to index {index} over its log",
                            s(id)
                        ));
                    }
                    if !retained {
                        self.last[x] = *index;
                    }
                    self.touched.push(id);
                }
                RaftNote::Snapshotted { .. } => self.touched.push(id),
                _ => {}
            }
        }
        for &id in &self.touched {
            let actual = node_of(world, id).map_or(0, |n| n.last_log_index());
            let noted = self.last[id as usize];
            if noted != actual {
                return Err(format!(
                    "the log of {} ends at index {actual} but its notes account for {noted}: it changed without a note",
                    s(id)
                ));
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }
}
