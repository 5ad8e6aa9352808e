//! Committed Configuration Kept (thesis §4.1): a server that has committed a
//! configuration entry never uses an older configuration, and every later
//! leader holds it.
//!
//! The checker, [`CommittedConfigKept`], is incremental: it follows the nodes' notes
//! after every event (see [`super`] for how); its documentation says what
//! it keeps and compares.

use super::{changes, node_of, s, Change};
use crate::raft::node::{Members, RaftNode, RaftNote};
use crate::sim::{Invariant, NodeId, TraceEvent, World};

/// Committed Configuration Kept: once a configuration entry is committed,
/// no server that has committed it uses an older configuration, and every
/// leader of a later term holds it (thesis §4.1: a configuration may be
/// rolled back only while uncommitted; §5.4's Leader Completeness, for the
/// configuration entry). A leader of an earlier term may lack it: a server
/// paused while its votes came in wins an old term after the configuration
/// was committed in a newer one, and is deposed as soon as it hears of
/// that term. The commit term is an upper bound, as Leader Completeness
/// keeps it: the term of the first server that noted the entry committed.
/// Follows `Committed` and `Configured` notes.
#[derive(Clone, Debug, Default)]
pub struct CommittedConfigKept {
    ready: bool,
    /// The highest committed configuration entry: (index, members, the
    /// term in which it was committed, at most).
    committed: Option<(u64, Members, u64)>,
    touched: Vec<NodeId>,
}

impl Invariant<RaftNode> for CommittedConfigKept {
    fn name(&self) -> &'static str {
        "Committed Configuration Kept"
    }

    fn check(&mut self, world: &World<'_, RaftNode>, events: &[TraceEvent<RaftNode>]) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            for n in world.nodes.iter() {
                let st = &n.state;
                if st.configuration_index() > 0 && st.configuration_index() <= st.commit_index() {
                    let c = (st.configuration_index(), st.configuration(), st.term());
                    if self.committed.is_none_or(|(i, ..)| i < c.0) {
                        self.committed = Some(c);
                    }
                }
            }
        }
        self.touched.clear();
        for change in changes(events) {
            let Change::Note(id, note) = change else { continue };
            let Some(node) = node_of(world, id) else { continue };
            match note {
                RaftNote::Committed { .. } | RaftNote::InstalledSnapshot { .. } => {
                    let (m, i) = (node.configuration(), node.configuration_index());
                    if i > 0 && i <= node.commit_index() && self.committed.is_none_or(|(ci, ..)| ci < i) {
                        self.committed = Some((i, m, node.term()));
                    }
                    self.touched.push(id);
                }
                RaftNote::Configured { .. } | RaftNote::Truncated { .. } => self.touched.push(id),
                RaftNote::BecameLeader { term } => {
                    if let Some((ci, m, committed_in)) = self.committed {
                        if *term > committed_in && node.configuration_index() < ci {
                            return Err(format!(
                                "{} became leader of term {term} with the configuration of index {}, older than the committed configuration {m} at index {ci}",
                                s(id),
                                node.configuration_index()
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some((ci, m, _)) = self.committed {
            for &id in &self.touched {
                let Some(node) = node_of(world, id) else { continue };
                if node.commit_index() >= ci && node.configuration_index() < ci {
                    return Err(format!(
                        "{} has committed index {} but uses the configuration of index {}, older than the committed configuration {m} at index {ci}",
                        s(id),
                        node.commit_index(),
                        node.configuration_index()
                    ));
                }
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }
}
