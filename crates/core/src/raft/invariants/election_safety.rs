//! Election Safety (§5.2): at most one leader is elected in a term, whatever
//! the configurations.
//!
//! The checker, [`ElectionSafety`], is incremental: it follows the nodes' notes
//! after every event (see [`super`] for how); its documentation says what
//! it keeps and compares.

use super::s;
use crate::raft::node::{RaftNode, RaftNote, Role};
use crate::sim::{Invariant, NodeId, TraceEvent, World};
use std::collections::BTreeMap;

/// Most terms whose leader Election Safety remembers.
const TERMS_KEPT: usize = 4_096;

/// Election Safety: at most one leader can be elected in a given term
/// (§5.2). Follows `BecameLeader` notes and remembers each term's leader
/// (the last few thousand terms). Configurations change who may vote, not
/// this rule: the single-server changes of thesis §4.1 keep any two
/// majorities of consecutive configurations overlapping.
#[derive(Clone, Debug, Default)]
pub struct ElectionSafety {
    ready: bool,
    leaders: BTreeMap<u64, NodeId>,
}

impl ElectionSafety {
    fn elected(&mut self, id: NodeId, term: u64) -> Result<(), String> {
        match self.leaders.get(&term) {
            Some(&other) if other != id => {
                Err(format!("{} and {} were both elected leader of term {term}", s(other), s(id)))
            }
            Some(_) => Ok(()),
            None => {
                self.leaders.insert(term, id);
                if self.leaders.len() > TERMS_KEPT {
                    self.leaders.pop_first();
                }
                Ok(())
            }
        }
    }
}

impl Invariant<RaftNode> for ElectionSafety {
    fn name(&self) -> &'static str {
        "Election Safety"
    }

    fn check(&mut self, world: &World<'_, RaftNode>, events: &[TraceEvent<RaftNode>]) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            for (i, n) in world.nodes.iter().enumerate() {
                if n.state.role() == Role::Leader {
                    self.elected(i as NodeId, n.state.term())?;
                }
            }
        }
        for ev in events {
            if let TraceEvent::Note { node, note: RaftNote::BecameLeader { term }, .. } = ev {
                self.elected(*node, *term)?;
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }
}
