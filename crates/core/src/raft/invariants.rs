//! Raft's five safety properties (Figure 3 of the paper) as checkers.
//!
//! | property | what must always hold |
//! |---|---|
//! | Election Safety | at most one leader is elected in a term |
//! | Leader Append-Only | a leader never overwrites or deletes entries in its log |
//! | Log Matching | two logs with an entry of the same index and term are identical up to it |
//! | Leader Completeness | an entry committed in a term is in the log of every leader of a later term |
//! | State Machine Safety | no two servers apply different entries at the same index |
//!
//! The simulator asks every checker after *every* event, so each one is
//! incremental: it follows the nodes' notes ([`RaftNote`]) in the step's
//! events and does work proportional to what changed. Logs are followed as
//! chained prefix digests (`d[i] = hash(d[i-1], term_i, command_i)`), so
//! "these two logs agree up to index i" is one comparison. Checkers read the
//! world only where a note points them (the entries just appended or
//! committed, a new leader's log) and cross-check that each noted node's log
//! length matches what its notes add up to, so a change the node did not
//! note is reported too. A checker attached to a run already under way
//! starts from the world as it finds it.
//!
//! [`check_all`] checks Log Matching, committed-prefix agreement and Election
//! Safety from scratch; tests call it at the end of runs to catch a checker
//! that missed a change.

use super::node::{Entry, RaftNode, RaftNote, Role};
use crate::sim::{Fault, Invariant, Node, NodeId, TraceEvent, World};
use std::collections::BTreeMap;

/// The five checkers, in the paper's order.
pub fn invariants() -> Vec<Box<dyn Invariant<RaftNode>>> {
    vec![
        Box::new(ElectionSafety::default()),
        Box::new(LeaderAppendOnly::default()),
        Box::new(LogMatching::default()),
        Box::new(LeaderCompleteness::default()),
        Box::new(StateMachineSafety::default()),
    ]
}

/// Digest of the empty prefix.
const ROOT: u64 = 0x5241_4654_5f4c_4f47;

/// The digest of a prefix extended by one entry.
fn link(prev: u64, e: &Entry) -> u64 {
    let mut b = [0u8; 24];
    b[..8].copy_from_slice(&prev.to_le_bytes());
    b[8..16].copy_from_slice(&e.term.to_le_bytes());
    b[16..].copy_from_slice(&e.command.to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&b)
}

fn s(id: NodeId) -> String {
    format!("S{}", u64::from(id) + 1)
}

fn entry_text(e: &Entry) -> String {
    format!("(term {}, request #{})", e.term, e.command)
}

/// A change a checker follows: a node's note, or a crash (which ends
/// leadership and forgets the commit index).
enum Change<'a> {
    Note(NodeId, &'a RaftNote),
    Crash(NodeId),
}

fn changes<'a>(events: &'a [TraceEvent<RaftNode>]) -> impl Iterator<Item = Change<'a>> {
    events.iter().filter_map(|ev| match ev {
        TraceEvent::Note { node, note, .. } => Some(Change::Note(*node, note)),
        TraceEvent::Fault {
            fault: Fault::Crash(id),
            ..
        } => Some(Change::Crash(*id)),
        _ => None,
    })
}

/// Whether a note means the node no longer leads.
fn ends_leadership(note: &RaftNote) -> bool {
    matches!(
        note,
        RaftNote::BecameFollower { .. }
            | RaftNote::BecamePreCandidate { .. }
            | RaftNote::BecameCandidate { .. }
            | RaftNote::SteppedDown { .. }
    )
}

fn log_of<'a>(world: &'a World<'_, RaftNode>, id: NodeId) -> &'a [Entry] {
    world.nodes.get(id as usize).map_or(&[], |n| n.state.log())
}

/// Per node, the chained prefix digests of its log, kept up to date from
/// `Appended` and `Truncated` notes.
#[derive(Clone, Debug, Default)]
struct Chains {
    per_node: Vec<Vec<u64>>,
}

impl Chains {
    fn from_nodes(nodes: &[Node<RaftNode>]) -> Chains {
        Chains {
            per_node: nodes.iter().map(|n| chain_of(n.state.log())).collect(),
        }
    }

    fn truncated(&mut self, id: NodeId, from: u64) {
        if let Some(c) = self.per_node.get_mut(id as usize) {
            c.truncate(from.saturating_sub(1).min(c.len() as u64) as usize);
        }
    }

    /// Recomputes the digests of `from..=to` from the node's log and returns
    /// the indexes recomputed (possibly more than noted if the chain lagged,
    /// fewer if the log is shorter).
    fn appended(&mut self, id: NodeId, from: u64, to: u64, log: &[Entry]) -> std::ops::Range<u64> {
        let Some(c) = self.per_node.get_mut(id as usize) else {
            return 0..0;
        };
        let start = from.max(1).min(c.len() as u64 + 1);
        c.truncate((start - 1) as usize);
        let end = to.min(log.len() as u64);
        for e in log.iter().take(end as usize).skip(c.len()) {
            let prev = c.last().copied().unwrap_or(ROOT);
            c.push(link(prev, e));
        }
        start..end + 1
    }

    /// The digest of the node's prefix up to `index` (1-based).
    fn at(&self, id: NodeId, index: u64) -> Option<u64> {
        let c = self.per_node.get(id as usize)?;
        c.get(usize::try_from(index.checked_sub(1)?).ok()?).copied()
    }

    fn len(&self, id: NodeId) -> Option<u64> {
        self.per_node.get(id as usize).map(|c| c.len() as u64)
    }
}

fn chain_of(log: &[Entry]) -> Vec<u64> {
    let mut out = Vec::with_capacity(log.len());
    let mut d = ROOT;
    for e in log {
        d = link(d, e);
        out.push(d);
    }
    out
}

/// Reports a node whose log length disagrees with what its notes said.
fn unnoted_change(id: NodeId, noted: u64, world: &World<'_, RaftNode>) -> Result<(), String> {
    let actual = log_of(world, id).len() as u64;
    if noted == actual {
        Ok(())
    } else {
        Err(format!(
            "the log of {} holds {actual} entries but its Appended/Truncated notes account for {noted}: it changed without a note",
            s(id)
        ))
    }
}

// ---------------------------------------------------------------------------

/// Election Safety: at most one leader can be elected in a given term
/// (§5.2). Follows `BecameLeader` notes and remembers each term's leader.
#[derive(Clone, Debug, Default)]
pub struct ElectionSafety {
    ready: bool,
    leaders: BTreeMap<u64, NodeId>,
}

impl ElectionSafety {
    fn elected(&mut self, id: NodeId, term: u64) -> Result<(), String> {
        match self.leaders.get(&term) {
            Some(&other) if other != id => Err(format!(
                "{} and {} were both elected leader of term {term}",
                s(other),
                s(id)
            )),
            Some(_) => Ok(()),
            None => {
                self.leaders.insert(term, id);
                Ok(())
            }
        }
    }
}

impl Invariant<RaftNode> for ElectionSafety {
    fn name(&self) -> &'static str {
        "Election Safety"
    }

    fn check(
        &mut self,
        world: &World<'_, RaftNode>,
        events: &[TraceEvent<RaftNode>],
    ) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            for (i, n) in world.nodes.iter().enumerate() {
                if n.state.role() == Role::Leader {
                    self.elected(i as NodeId, n.state.term())?;
                }
            }
        }
        for ev in events {
            if let TraceEvent::Note {
                node,
                note: RaftNote::BecameLeader { term },
                ..
            } = ev
            {
                self.elected(*node, *term)?;
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }
}

// ---------------------------------------------------------------------------

/// Leader Append-Only: a leader never overwrites or deletes entries in its
/// log; it only appends (§5.3). Follows each node's log length through its
/// notes and, while the node leads, refuses any `Truncated` note and any
/// `Appended` that starts inside the existing log.
#[derive(Clone, Debug, Default)]
pub struct LeaderAppendOnly {
    ready: bool,
    len: Vec<u64>,
    leading: Vec<Option<u64>>,
    touched: Vec<NodeId>,
}

impl Invariant<RaftNode> for LeaderAppendOnly {
    fn name(&self) -> &'static str {
        "Leader Append-Only"
    }

    fn check(
        &mut self,
        world: &World<'_, RaftNode>,
        events: &[TraceEvent<RaftNode>],
    ) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            self.len = world
                .nodes
                .iter()
                .map(|n| n.state.log().len() as u64)
                .collect();
            self.leading = world
                .nodes
                .iter()
                .map(|n| (n.state.role() == Role::Leader).then(|| n.state.term()))
                .collect();
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
            if x >= self.len.len() {
                continue;
            }
            match note {
                RaftNote::BecameLeader { term } => self.leading[x] = Some(*term),
                n if ends_leadership(n) => self.leading[x] = None,
                RaftNote::Truncated { from } => {
                    if let Some(t) = self.leading[x] {
                        return Err(format!(
                            "{}, leader of term {t}, deleted its entries from index {from}",
                            s(id)
                        ));
                    }
                    self.len[x] = self.len[x].min(from.saturating_sub(1));
                    self.touched.push(id);
                }
                RaftNote::Appended { from, to } => {
                    if let Some(t) = self.leading[x] {
                        if *from <= self.len[x] {
                            return Err(format!(
                                "{}, leader of term {t}, overwrote its entries from index {from} (its log had {} entries)",
                                s(id),
                                self.len[x]
                            ));
                        }
                    }
                    self.len[x] = *to;
                    self.touched.push(id);
                }
                _ => {}
            }
        }
        for &id in &self.touched {
            unnoted_change(id, self.len[id as usize], world)?;
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }
}

// ---------------------------------------------------------------------------

/// Log Matching: if two logs contain an entry with the same index and term,
/// the logs are identical in all entries up through that index (§5.3).
///
/// Keeps every node's chained prefix digests and, for every (index, term)
/// ever written anywhere, the digest of the prefix it closed. Any entry of
/// that index and term written later, on any node, must close the same
/// prefix. (An (index, term) pair is created once, by that term's leader,
/// so the property holds across time too, not only between current logs.)
#[derive(Clone, Debug, Default)]
pub struct LogMatching {
    ready: bool,
    chains: Chains,
    /// Per index, the first (term, digest, node) seen; most indexes only
    /// ever hold one term.
    first: Vec<Option<(u64, u64, NodeId)>>,
    /// Further terms at an index: (index, term) -> (digest, node).
    others: BTreeMap<(u64, u64), (u64, NodeId)>,
    touched: Vec<NodeId>,
}

impl LogMatching {
    fn record(&mut self, id: NodeId, index: u64, term: u64, digest: u64) -> Result<(), String> {
        let Ok(k) = usize::try_from(index.saturating_sub(1)) else {
            return Ok(());
        };
        if self.first.len() <= k {
            self.first.resize(k + 1, None);
        }
        let seen = match self.first[k] {
            None => {
                self.first[k] = Some((term, digest, id));
                return Ok(());
            }
            Some((t, d, by)) if t == term => (d, by),
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

    fn record_range(
        &mut self,
        id: NodeId,
        range: std::ops::Range<u64>,
        log: &[Entry],
    ) -> Result<(), String> {
        for i in range {
            let (Some(e), Some(d)) = (log.get((i - 1) as usize), self.chains.at(id, i)) else {
                break;
            };
            let term = e.term;
            self.record(id, i, term, d)?;
        }
        Ok(())
    }
}

impl Invariant<RaftNode> for LogMatching {
    fn name(&self) -> &'static str {
        "Log Matching"
    }

    fn check(
        &mut self,
        world: &World<'_, RaftNode>,
        events: &[TraceEvent<RaftNode>],
    ) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            self.chains = Chains::from_nodes(world.nodes);
            for (i, n) in world.nodes.iter().enumerate() {
                let log = n.state.log();
                self.record_range(i as NodeId, 1..log.len() as u64 + 1, log)?;
            }
        }
        self.touched.clear();
        for change in changes(events) {
            let Change::Note(id, note) = change else {
                continue;
            };
            match note {
                RaftNote::Truncated { from } => {
                    self.chains.truncated(id, *from);
                    self.touched.push(id);
                }
                RaftNote::Appended { from, to } => {
                    let log = log_of(world, id);
                    let range = self.chains.appended(id, *from, *to, log);
                    self.record_range(id, range, log)?;
                    self.touched.push(id);
                }
                _ => {}
            }
        }
        for &id in &self.touched {
            if let Some(len) = self.chains.len(id) {
                unnoted_change(id, len, world)?;
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }
}

// ---------------------------------------------------------------------------

/// Leader Completeness: if an entry is committed in a term, it is present in
/// the logs of the leaders of all later terms (§5.4).
///
/// Keeps a record of the committed prefix (from `Committed` notes), with,
/// per index, an upper bound on the term in which it was committed: the
/// term of the first server that noted it (a server learns of a commit from
/// the leader of its own term), made non-decreasing along the log. Checked
/// in both directions: a server that becomes leader of term `T` must hold
/// every entry committed before `T`; an entry newly committed by `T` must
/// already be in the log of every current leader of a term `>= T`. Each is
/// one digest comparison.
#[derive(Clone, Debug, Default)]
pub struct LeaderCompleteness {
    ready: bool,
    chains: Chains,
    committed: Vec<Entry>,
    committed_chain: Vec<u64>,
    commit_term: Vec<u64>,
    node_commit: Vec<u64>,
    leading: Vec<Option<u64>>,
}

impl LeaderCompleteness {
    fn init(&mut self, world: &World<'_, RaftNode>) {
        self.chains = Chains::from_nodes(world.nodes);
        self.node_commit = world.nodes.iter().map(|n| n.state.commit_index()).collect();
        self.leading = world
            .nodes
            .iter()
            .map(|n| (n.state.role() == Role::Leader).then(|| n.state.term()))
            .collect();
        let top_term = world
            .nodes
            .iter()
            .map(|n| n.state.term())
            .max()
            .unwrap_or(0);
        if let Some(best) = world.nodes.iter().max_by_key(|n| n.state.commit_index()) {
            let c = (best.state.commit_index() as usize).min(best.state.log().len());
            self.committed = best.state.log()[..c].to_vec();
            self.committed_chain = chain_of(&self.committed);
            self.commit_term = vec![top_term; c];
        }
    }

    /// A new leader must hold every entry committed in an earlier term.
    fn check_new_leader(&self, id: NodeId, term: u64) -> Result<(), String> {
        let j = self.commit_term.partition_point(|&ct| ct < term);
        if j == 0 || self.chains.at(id, j as u64) == Some(self.committed_chain[j - 1]) {
            return Ok(());
        }
        let log = self.chains.per_node.get(id as usize).map_or(0, |c| c.len());
        Err(format!(
            "{} became leader of term {term} without the committed entry {} at index {j} (its log has {log} entries, or differs before it)",
            s(id),
            entry_text(&self.committed[j - 1])
        ))
    }

    fn committed_by(
        &mut self,
        id: NodeId,
        index: u64,
        world: &World<'_, RaftNode>,
    ) -> Result<(), String> {
        let x = id as usize;
        let Some(node) = world.nodes.get(x) else {
            return Ok(());
        };
        let (term, log) = (node.state.term(), node.state.log());
        let start = self
            .node_commit
            .get(x)
            .copied()
            .unwrap_or(0)
            .max(self.committed.len() as u64)
            + 1;
        for i in start..=index {
            let Some(e) = log.get((i - 1) as usize) else {
                break;
            };
            let prev = self.committed_chain.last().copied().unwrap_or(ROOT);
            let d = link(prev, e);
            let ct = term.max(self.commit_term.last().copied().unwrap_or(0));
            self.committed.push(*e);
            self.committed_chain.push(d);
            self.commit_term.push(ct);
            for (l, lead) in self.leading.iter().enumerate() {
                match lead {
                    Some(lt) if *lt >= ct && self.chains.at(l as NodeId, i) != Some(d) => {
                        return Err(format!(
                            "{} committed entry {} at index {i} in term {term}, but {}, leader of term {lt}, does not hold it",
                            s(id),
                            entry_text(e),
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

    fn check(
        &mut self,
        world: &World<'_, RaftNode>,
        events: &[TraceEvent<RaftNode>],
    ) -> Result<(), String> {
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
            match note {
                RaftNote::Truncated { from } => self.chains.truncated(id, *from),
                RaftNote::Appended { from, to } => {
                    self.chains.appended(id, *from, *to, log_of(world, id));
                }
                RaftNote::BecameLeader { term } => {
                    if let Some(l) = self.leading.get_mut(id as usize) {
                        *l = Some(*term);
                    }
                    self.check_new_leader(id, *term)?;
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
}

// ---------------------------------------------------------------------------

/// State Machine Safety: if a server has applied a log entry at a given
/// index, no other server ever applies a different entry at that index
/// (§5.4.3). Here committing is applying: every `Committed` note applies
/// the entries between the node's previous commit index and the new one,
/// and each must equal what was applied there first, by anyone. A server
/// also must never delete an entry it has applied.
#[derive(Clone, Debug, Default)]
pub struct StateMachineSafety {
    ready: bool,
    applied: Vec<(Entry, NodeId)>,
    node_commit: Vec<u64>,
}

impl StateMachineSafety {
    fn apply(&mut self, id: NodeId, index: u64, log: &[Entry]) -> Result<(), String> {
        let Some(e) = log.get((index - 1) as usize) else {
            return Err(format!(
                "{} committed index {index} but its log has only {} entries",
                s(id),
                log.len()
            ));
        };
        match self.applied.get((index - 1) as usize) {
            Some((first, by)) if first != e => Err(format!(
                "{} applied {} at index {index}, but {} applied {} there",
                s(id),
                entry_text(e),
                s(*by),
                entry_text(first)
            )),
            Some(_) => Ok(()),
            None if index == self.applied.len() as u64 + 1 => {
                self.applied.push((*e, id));
                Ok(())
            }
            None => Err(format!(
                "{} applied index {index} before index {}",
                s(id),
                self.applied.len() + 1
            )),
        }
    }

    fn committed_by(
        &mut self,
        id: NodeId,
        index: u64,
        world: &World<'_, RaftNode>,
    ) -> Result<(), String> {
        let x = id as usize;
        let (Some(node), Some(&had)) = (world.nodes.get(x), self.node_commit.get(x)) else {
            return Ok(());
        };
        let log = node.state.log();
        for i in had + 1..=index {
            self.apply(id, i, log)?;
        }
        self.node_commit[x] = had.max(index);
        Ok(())
    }
}

impl Invariant<RaftNode> for StateMachineSafety {
    fn name(&self) -> &'static str {
        "State Machine Safety"
    }

    fn check(
        &mut self,
        world: &World<'_, RaftNode>,
        events: &[TraceEvent<RaftNode>],
    ) -> Result<(), String> {
        if !self.ready {
            self.ready = true;
            self.node_commit = vec![0; world.nodes.len()];
            for (i, n) in world.nodes.iter().enumerate() {
                self.committed_by(i as NodeId, n.state.commit_index(), world)?;
            }
        }
        for change in changes(events) {
            match change {
                Change::Crash(id) => {
                    if let Some(c) = self.node_commit.get_mut(id as usize) {
                        *c = 0;
                    }
                }
                Change::Note(id, RaftNote::Committed { index }) => {
                    self.committed_by(id, *index, world)?
                }
                Change::Note(id, RaftNote::Truncated { from }) => {
                    let had = self.node_commit.get(id as usize).copied().unwrap_or(0);
                    if *from <= had {
                        return Err(format!(
                            "{} deleted its entries from index {from}, but had already applied up to index {had}",
                            s(id)
                        ));
                    }
                }
                Change::Note(..) => {}
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<RaftNode>> {
        Box::new(self.clone())
    }
}

// ---------------------------------------------------------------------------

/// Checks, from scratch, what the incremental checkers follow: no two
/// current leaders share a term, every commit index lies within its log,
/// Log Matching across all current logs, and agreement of all committed
/// prefixes; a leader of the highest term holds the longest committed
/// prefix. Linear in the total log length. For crashed nodes, `state` is
/// what they would restart from.
pub fn check_all(nodes: &[Node<RaftNode>]) -> Result<(), String> {
    let mut leaders: BTreeMap<u64, NodeId> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let st = &n.state;
        let id = i as NodeId;
        if st.commit_index() > st.log().len() as u64 {
            return Err(format!(
                "{} has commit index {} beyond its {} entries",
                s(id),
                st.commit_index(),
                st.log().len()
            ));
        }
        if st.role() == Role::Leader {
            if let Some(other) = leaders.insert(st.term(), id) {
                return Err(format!(
                    "{} and {} both lead term {}",
                    s(other),
                    s(id),
                    st.term()
                ));
            }
        }
    }

    // Log Matching: every (index, term) closes the same prefix everywhere.
    let mut seen: BTreeMap<(u64, u64), (u64, NodeId)> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let mut d = ROOT;
        for (k, e) in n.state.log().iter().enumerate() {
            d = link(d, e);
            let key = (k as u64 + 1, e.term);
            match seen.get(&key) {
                Some(&(other, by)) if other != d => {
                    return Err(format!(
                        "Log Matching: {} and {} both hold an entry of term {} at index {}, but their logs differ before it",
                        s(by),
                        s(i as NodeId),
                        e.term,
                        k + 1
                    ));
                }
                Some(_) => {}
                None => {
                    seen.insert(key, (d, i as NodeId));
                }
            }
        }
    }

    // Committed prefixes agree.
    let Some((bi, best)) = nodes
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| n.state.commit_index())
    else {
        return Ok(());
    };
    let best_log = &best.state.log()[..best.state.commit_index() as usize];
    for (i, n) in nodes.iter().enumerate() {
        let c = n.state.commit_index() as usize;
        if let Some(k) = (0..c).find(|&k| n.state.log()[k] != best_log[k]) {
            return Err(format!(
                "State Machine Safety: {} committed {} at index {}, but {} committed {}",
                s(i as NodeId),
                entry_text(&n.state.log()[k]),
                k + 1,
                s(bi as NodeId),
                entry_text(&best_log[k])
            ));
        }
    }

    // A leader of the highest term holds everything committed.
    let top = nodes.iter().map(|n| n.state.term()).max().unwrap_or(0);
    if let Some(&l) = leaders.get(&top) {
        let log = nodes[l as usize].state.log();
        if log.len() < best_log.len() || log[..best_log.len()] != *best_log {
            return Err(format!(
                "Leader Completeness: {}, leader of term {top}, lacks entries committed by {} (up to index {})",
                s(l),
                s(bi as NodeId),
                best_log.len()
            ));
        }
    }
    Ok(())
}
