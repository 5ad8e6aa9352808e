//! One Change at a Time (thesis §4.1): a leader appends a configuration only
//! when the previous one is committed, and it differs by one server.
//!
//! The checker, [`OneChangeAtATime`], is incremental: it follows the nodes' notes
//! after every event (see [`super`] for how); its documentation says what
//! it keeps and compares.

use super::{changes, ends_leadership, node_of, s, Change};
use crate::raft::node::{Members, RaftNode, RaftNote, Role};
use crate::sim::{Invariant, TraceEvent, World};

/// One Change at a Time (thesis §4.1): a leader appends a configuration
/// entry only when the configuration before it is committed, and the new
/// configuration adds or removes exactly one server. Follows leaders'
/// `Appended` notes, with their commit index as noted so far in the step.
#[derive(Clone, Debug, Default)]
pub struct OneChangeAtATime {
    ready: bool,
    leading: Vec<bool>,
    commit: Vec<u64>,
}

impl Invariant<RaftNode> for OneChangeAtATime {
    fn name(&self) -> &'static str {
        "One Change at a Time"
    }

    fn check(&mut self, world: &World<'_, RaftNode>, events: &[TraceEvent<RaftNode>]) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            self.leading = world.nodes.iter().map(|n| n.state.role() == Role::Leader).collect();
            self.commit = world.nodes.iter().map(|n| n.state.commit_index()).collect();
        }
        for change in changes(events) {
            let (id, note) = match change {
                Change::Crash(id) => {
                    if let Some(l) = self.leading.get_mut(id as usize) {
                        *l = false;
                    }
                    continue;
                }
                Change::Note(id, note) => (id, note),
            };
            let x = id as usize;
            if x >= self.leading.len() {
                continue;
            }
            match note {
                RaftNote::BecameLeader { .. } => self.leading[x] = true,
                n if ends_leadership(n) => self.leading[x] = false,
                RaftNote::Committed { index } => self.commit[x] = *index,
                RaftNote::InstalledSnapshot { index, .. } => self.commit[x] = *index,
                RaftNote::Appended { from, to } if self.leading[x] => {
                    let Some(node) = node_of(world, id) else { continue };
                    for i in *from..=*to {
                        let Some(&new) = node.entry(i).and_then(|e| e.config.as_deref()) else { continue };
                        let (prev, prev_index) = previous_config(node, i);
                        if prev_index > self.commit[x] {
                            return Err(format!(
                                "{} appended configuration {new} at index {i} while the configuration at index {prev_index} was not committed (it had committed up to {})",
                                s(id),
                                self.commit[x]
                            ));
                        }
                        if new.difference_count(prev) != 1 {
                            return Err(format!(
                                "{} appended configuration {new} at index {i}, which differs from {prev} by {} servers, not one",
                                s(id),
                                new.difference_count(prev)
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }
}

/// The configuration before index `i` in `node`'s log (or snapshot, or the
/// initial one), and its index.
fn previous_config(node: &RaftNode, i: u64) -> (Members, u64) {
    let first = node.first_log_index();
    let end = i.saturating_sub(first).min(node.log().len() as u64) as usize;
    if let Some(k) = node.log()[..end].iter().rposition(|e| e.config.is_some()) {
        if let Some(&m) = node.log()[k].config.as_deref() {
            return (m, first + k as u64);
        }
    }
    match node.snapshot().config {
        Some(m) => (m, node.snapshot().config_index),
        None => (node.initial_configuration(), 0),
    }
}
