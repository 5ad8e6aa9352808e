//! Leader Completeness (§5.4): an entry committed in a term is in the log
//! (or snapshot) of every leader of a later term.
//!
//! The checker, [`LeaderCompleteness`], is incremental: it follows the nodes' notes
//! after every event (see [`super`] for how); its documentation says what
//! it keeps and compares.

use super::chains::{Chain, Chains};
use super::{changes, ends_leadership, entry_text, node_of, s, Change, Window, WINDOW};
use crate::raft::node::{RaftNode, RaftNote, Role};
use crate::sim::{Invariant, NodeId, TraceEvent, World};

/// Leader Completeness: if an entry is committed in a term, it is present in
/// the logs of the leaders of all later terms (§5.4); an entry inside a
/// leader's snapshot counts as present (§7), once the snapshot is checked
/// to agree with the committed prefix.
///
/// Keeps a record of the committed prefix (from `Committed` notes) for the
/// last [`WINDOW`] indexes: per index, the digest of the prefix and an
/// upper bound on the term in which it was committed (the term of the
/// first server that noted it, made non-decreasing along the log). Checked
/// in both directions: a server that becomes leader of term `T` must hold
/// every entry committed before `T`; an entry newly committed by `T` must
/// already be in the log of every current leader of a term `>= T`. Each is
/// one digest comparison.
#[derive(Clone, Debug, Default)]
pub struct LeaderCompleteness {
    ready: bool,
    chains: Chains,
    /// (digest, commit term) per committed index, for the window.
    committed: Window<(u64, u64)>,
    /// Highest committed index known, and its commit term.
    top: u64,
    top_term: u64,
    node_commit: Vec<u64>,
    leading: Vec<Option<u64>>,
}

impl LeaderCompleteness {
    fn init(&mut self, world: &World<'_, RaftNode>) {
        self.chains = Chains::from_nodes(world.nodes);
        self.node_commit = world.nodes.iter().map(|n| n.state.commit_index()).collect();
        self.leading = world.nodes.iter().map(|n| (n.state.role() == Role::Leader).then(|| n.state.term())).collect();
        self.top_term = world.nodes.iter().map(|n| n.state.term()).max().unwrap_or(0);
        if let Some((i, best)) = world.nodes.iter().enumerate().max_by_key(|(_, n)| n.state.commit_index()) {
            let c = best.state.commit_index();
            self.top = c;
            let from = c.saturating_sub(WINDOW - 1).max(best.state.snapshot().index()).max(1);
            for k in from..=c {
                if let Some(d) = self.chains.at(i as NodeId, k) {
                    self.committed.set(k, (d, self.top_term));
                }
            }
        }
    }

    /// Whether `id`'s log holds the committed entry at `index` with prefix
    /// digest `d`: compared at `index`, or, if the node compacted it, at the
    /// node's snapshot (which must agree with the committed prefix there).
    fn holds(&self, id: NodeId, index: u64, d: u64) -> bool {
        let Some(c) = self.chains.get(id) else { return true };
        if index >= c.base {
            return c.at(index) == Some(d);
        }
        match self.committed.get(c.base) {
            Some(&(cd, _)) => cd == c.base_digest,
            None => true, // beyond what the window remembers
        }
    }

    /// A new leader must hold every entry committed in an earlier term.
    fn check_new_leader(&self, id: NodeId, term: u64, world: &World<'_, RaftNode>) -> Result<(), String> {
        // The highest index in the window committed in a term before `term`.
        let mut j = None;
        for k in (self.committed.lo..=self.top).rev() {
            match self.committed.get(k) {
                Some(&(d, ct)) if ct < term => {
                    j = Some((k, d));
                    break;
                }
                _ => {}
            }
            if self.top - k > WINDOW {
                break;
            }
        }
        let Some((j, d)) = j else { return Ok(()) };
        if self.holds(id, j, d) {
            return Ok(());
        }
        let last = self.chains.get(id).map_or(0, Chain::last);
        // Name the entry, from any log that still holds it.
        let what = (0..world.nodes.len() as NodeId)
            .filter(|&n| self.chains.at(n, j) == Some(d))
            .find_map(|n| node_of(world, n)?.entry(j).map(entry_text))
            .map_or_else(|| "the committed entry".to_string(), |t| format!("the committed entry {t}"));
        Err(format!(
            "{} became leader of term {term} without {what} at index {j} (its log ends at index {last}, or differs before it)",
            s(id)
        ))
    }

    fn committed_by(&mut self, id: NodeId, index: u64, world: &World<'_, RaftNode>) -> Result<(), String> {
        let x = id as usize;
        let Some(node) = node_of(world, id) else {
            return Ok(());
        };
        let term = node.term();
        let start = self.node_commit.get(x).copied().unwrap_or(0).max(self.top) + 1;
        for i in start..=index {
            let Some(d) = self.chains.at(id, i) else {
                break;
            };
            let ct = term.max(self.top_term);
            self.committed.set(i, (d, ct));
            self.top = i;
            self.top_term = ct;
            for (l, lead) in self.leading.iter().enumerate() {
                match lead {
                    Some(lt) if *lt >= ct && !self.holds(l as NodeId, i, d) => {
                        let what = node
                            .entry(i)
                            .map_or_else(|| "an entry".to_string(), |e| format!("entry {}", entry_text(e)));
                        return Err(format!(
                            "{} committed {what} at index {i} in term {term}, but {}, leader of term {lt}, does not hold it",
                            s(id),
                            s(l as NodeId)
                        ));
                    }
                    _ => {}
                }
            }
        }
        if let Some(c) = self.node_commit.get_mut(x) {
            *c = (*c).max(index);
        }
        Ok(())
    }
}

impl Invariant<RaftNode> for LeaderCompleteness {
    fn name(&self) -> &'static str {
        "Leader Completeness"
    }

    fn check(&mut self, world: &World<'_, RaftNode>, events: &[TraceEvent<RaftNode>]) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            self.init(world);
        }
        for change in changes(events) {
            let (id, note) = match change {
                Change::Crash(id) => {
                    if let Some(l) = self.leading.get_mut(id as usize) {
                        *l = None;
                    }
                    if let Some(c) = self.node_commit.get_mut(id as usize) {
                        *c = 0;
                    }
                    continue;
                }
                Change::Note(id, note) => (id, note),
            };
            let Some(node) = node_of(world, id) else { continue };
            match note {
                RaftNote::Truncated { from } => self.chains.truncated(id, *from),
                RaftNote::Appended { from, to } => {
                    self.chains.appended(id, *from, *to, node);
                }
                RaftNote::Snapshotted { index, .. } => self.chains.compacted(id, *index, node)?,
                RaftNote::InstalledSnapshot { index, retained, .. } => {
                    self.chains.installed(id, *index, *retained, node)?;
                    if let Some(c) = self.node_commit.get_mut(id as usize) {
                        *c = (*c).max(*index);
                    }
                }
                RaftNote::BecameLeader { term } => {
                    if let Some(l) = self.leading.get_mut(id as usize) {
                        *l = Some(*term);
                    }
                    self.check_new_leader(id, *term, world)?;
                }
                RaftNote::Committed { index } => self.committed_by(id, *index, world)?,
                n if ends_leadership(n) => {
                    if let Some(l) = self.leading.get_mut(id as usize) {
                        *l = None;
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

    fn heap_bytes(&self) -> usize {
        self.chains.heap_bytes() + self.committed.heap_bytes()
    }
}
