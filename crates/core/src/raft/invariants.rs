//! Raft's five safety properties (Figure 3 of the paper) as checkers, and
//! two of membership changes (thesis §4).
//!
//! | property | what must always hold |
//! |---|---|
//! | Election Safety | at most one leader is elected in a term (whatever the configurations) |
//! | Leader Append-Only | a leader never overwrites or deletes entries in its log |
//! | Log Matching | two logs (or snapshots) with an entry of the same index and term are identical up to it |
//! | Leader Completeness | an entry committed in a term is in the log (or snapshot) of every leader of a later term |
//! | State Machine Safety | no two servers apply different entries at the same index: their state machines agree at every applied index |
//! | One Change at a Time | a leader appends a configuration only when the previous one is committed, and it differs by one server (thesis §4.1) |
//! | Committed Configuration Kept | a server that has committed a configuration entry never uses an older configuration, and every later leader holds it |
//!
//! The simulator asks every checker after *every* event, so each one is
//! incremental: it follows the nodes' notes ([`RaftNote`]) in the step's
//! events and does work proportional to what changed. Logs are followed as
//! chained prefix digests (`d[i] = chain(d[i-1], entry_i)`, see
//! [`chain`]), so "these two logs agree up to index i" is one comparison.
//! A snapshot (§7) is the same chain cut short: a server's state machine
//! digest at index `i` *is* `d[i]`, so when a server compacts its log the
//! checkers compare its snapshot with the digest of the entries it
//! discarded, and a server that installs a leader's snapshot continues its
//! chain from the snapshot's digest. Checkers read the world only where a
//! note points them and cross-check that each noted node's last index and
//! state machine match what its notes add up to, so a change the node did
//! not note is reported too. A checker attached to a run already under way
//! starts from the world as it finds it.
//!
//! Memory stays bounded however long a run lasts: per node, the digests of
//! the entries its log holds (bounded by compaction); across nodes, the
//! records of the last [`WINDOW`] indexes only. An entry older than the
//! window is no longer compared with entries written after it.
//!
//! [`check_all`] checks Log Matching, committed-prefix and state-machine
//! agreement, Election Safety and the one-change rule from scratch; tests
//! call it at the end of runs to catch a checker that missed a change.

use super::node::{chain, Entry, Members, RaftNode, RaftNote, Role, EMPTY_DIGEST};
use crate::sim::{Fault, Invariant, Node, NodeId, TraceEvent, World};
use std::collections::{BTreeMap, VecDeque};

/// The checkers, in the paper's order, then the thesis's.
pub fn invariants() -> Vec<Box<dyn Invariant<RaftNode>>> {
    vec![
        Box::new(ElectionSafety::default()),
        Box::new(LeaderAppendOnly::default()),
        Box::new(LogMatching::default()),
        Box::new(LeaderCompleteness::default()),
        Box::new(StateMachineSafety::default()),
        Box::new(OneChangeAtATime::default()),
        Box::new(CommittedConfigKept::default()),
    ]
}

/// How many of the most recent log indexes the cross-node records cover.
pub const WINDOW: u64 = 16_384;

/// Most terms whose leader Election Safety remembers.
const TERMS_KEPT: usize = 4_096;

fn s(id: NodeId) -> String {
    format!("S{}", u64::from(id) + 1)
}

fn entry_text(e: &Entry) -> String {
    match e.config {
        Some(m) => format!("(term {}, configuration {m})", e.term),
        None if e.command == 0 => format!("(term {}, no-op)", e.term),
        None => format!("(term {}, request #{})", e.term, e.command),
    }
}

/// A change a checker follows: a node's note, or a crash (which ends
/// leadership and resets the commit index to the snapshot).
enum Change<'a> {
    Note(NodeId, &'a RaftNote),
    Crash(NodeId),
}

fn changes<'a>(events: &'a [TraceEvent<RaftNode>]) -> impl Iterator<Item = Change<'a>> {
    events.iter().filter_map(|ev| match ev {
        TraceEvent::Note { node, note, .. } => Some(Change::Note(*node, note)),
        TraceEvent::Fault { fault: Fault::Crash(id), .. } => Some(Change::Crash(*id)),
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

fn node_of<'a>(world: &'a World<'_, RaftNode>, id: NodeId) -> Option<&'a RaftNode> {
    world.nodes.get(id as usize).map(|n| &n.state)
}

/// One node's chained prefix digests, from its snapshot on: `base` is the
/// snapshot's last index, `base_digest` the digest there, `digests[k]` the
/// digest at `base + 1 + k`.
#[derive(Clone, Debug)]
struct Chain {
    base: u64,
    base_digest: u64,
    digests: VecDeque<u64>,
}

impl Chain {
    fn of(n: &RaftNode) -> Chain {
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

    fn last(&self) -> u64 {
        self.base + self.digests.len() as u64
    }

    fn at(&self, index: u64) -> Option<u64> {
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
struct Chains {
    per_node: Vec<Chain>,
}

impl Chains {
    fn from_nodes(nodes: &[Node<RaftNode>]) -> Chains {
        Chains { per_node: nodes.iter().map(|n| Chain::of(&n.state)).collect() }
    }

    fn truncated(&mut self, id: NodeId, from: u64) {
        if let Some(c) = self.per_node.get_mut(id as usize) {
            let keep = from.saturating_sub(1).saturating_sub(c.base).min(c.digests.len() as u64);
            c.digests.truncate(keep as usize);
        }
    }

    /// Recomputes the digests of `from..=to` from the node's log and returns
    /// the indexes recomputed (possibly more than noted if the chain lagged,
    /// fewer if the log is shorter).
    fn appended(&mut self, id: NodeId, from: u64, to: u64, node: &RaftNode) -> std::ops::Range<u64> {
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
    fn compacted(&mut self, id: NodeId, index: u64, node: &RaftNode) -> Result<(), String> {
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
    fn installed(&mut self, id: NodeId, index: u64, retained: bool, node: &RaftNode) -> Result<(), String> {
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

    fn at(&self, id: NodeId, index: u64) -> Option<u64> {
        self.per_node.get(id as usize)?.at(index)
    }

    fn get(&self, id: NodeId) -> Option<&Chain> {
        self.per_node.get(id as usize)
    }

    /// Compares the chain's end with the node's last index.
    fn check_length(&self, id: NodeId, world: &World<'_, RaftNode>) -> Result<(), String> {
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

/// Records about the last [`WINDOW`] indexes: `lo` is the first index held.
#[derive(Clone, Debug, Default)]
struct Window<T> {
    lo: u64,
    items: VecDeque<Option<T>>,
}

impl<T: Clone> Window<T> {
    fn get(&self, index: u64) -> Option<&T> {
        let k = usize::try_from(index.checked_sub(self.lo)?).ok()?;
        self.items.get(k)?.as_ref()
    }

    /// Sets the record at `index` (ignored below the window), sliding the
    /// window forward if needed.
    fn set(&mut self, index: u64, value: T) {
        if self.items.is_empty() && self.lo == 0 {
            self.lo = index.saturating_sub(WINDOW - 1).max(1);
        }
        if index < self.lo {
            return;
        }
        if index - self.lo >= self.items.len() as u64 + WINDOW {
            // A jump past everything held: start the window afresh.
            self.items.clear();
            self.lo = index + 1 - WINDOW;
        }
        let k = (index - self.lo) as usize;
        if k >= self.items.len() {
            self.items.resize(k + 1, None);
        }
        self.items[k] = Some(value);
        while self.items.len() as u64 > WINDOW {
            self.items.pop_front();
            self.lo += 1;
        }
    }
}

// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------

/// Log Matching: if two logs contain an entry with the same index and term,
/// the logs are identical in all entries up through that index (§5.3). A
/// snapshot's last included entry counts as an entry of its log (§7).
///
/// Keeps every node's chained prefix digests and, for every (index, term)
/// written anywhere within the last [`WINDOW`] indexes, the digest of the
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
}

// ---------------------------------------------------------------------------

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
}

// ---------------------------------------------------------------------------

/// State Machine Safety: if a server has applied a log entry at a given
/// index, no other server ever applies a different entry at that index
/// (§5.4.3). Here committing is applying: every `Committed` note applies
/// the entries between the node's previous commit index and the new one.
/// The checker applies them too, to its own copy of each server's digest,
/// and demands (a) that the digest at each index equal the one any server
/// had there first (within the last [`WINDOW`] indexes), (b) that the
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
}

// ---------------------------------------------------------------------------

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
                        let Some(Entry { config: Some(new), .. }) = node.entry(i).copied() else { continue };
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
        if let Some(m) = node.log()[k].config {
            return (m, first + k as u64);
        }
    }
    match node.snapshot().config {
        Some(m) => (m, node.snapshot().config_index),
        None => (node.initial_configuration(), 0),
    }
}

// ---------------------------------------------------------------------------

/// Committed Configuration Kept: once a configuration entry is committed,
/// no server that has committed it uses an older configuration, and every
/// leader elected afterwards holds it (thesis §4.1: a configuration may be
/// rolled back only while uncommitted). Follows `Committed` and
/// `Configured` notes.
#[derive(Clone, Debug, Default)]
pub struct CommittedConfigKept {
    ready: bool,
    /// The highest committed configuration entry: (index, members).
    committed: Option<(u64, Members)>,
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
                    let c = (st.configuration_index(), st.configuration());
                    if self.committed.is_none_or(|(i, _)| i < c.0) {
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
                    if i > 0 && i <= node.commit_index() && self.committed.is_none_or(|(ci, _)| ci < i) {
                        self.committed = Some((i, m));
                    }
                    self.touched.push(id);
                }
                RaftNote::Configured { .. } | RaftNote::Truncated { .. } => self.touched.push(id),
                RaftNote::BecameLeader { term } => {
                    if let Some((ci, m)) = self.committed {
                        if node.configuration_index() < ci {
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
        if let Some((ci, m)) = self.committed {
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

// ---------------------------------------------------------------------------

/// Each node's prefix digests from its snapshot on: (base index, digests
/// at base, base + 1, ..., last).
fn digests_of(n: &RaftNode) -> (u64, Vec<u64>) {
    let mut d = n.snapshot().state.digest;
    let mut out = Vec::with_capacity(n.log().len() + 1);
    out.push(d);
    for e in n.log() {
        d = chain(d, e);
        out.push(d);
    }
    (n.snapshot().index(), out)
}

fn digest_at(of: &(u64, Vec<u64>), index: u64) -> Option<u64> {
    of.1.get(usize::try_from(index.checked_sub(of.0)?).ok()?).copied()
}

/// Checks, from scratch, what the incremental checkers follow: no two
/// current leaders share a term, every commit index lies between the
/// snapshot and the end of the log, every state machine equals the digest
/// of its committed prefix, Log Matching across all current logs and
/// snapshots, agreement of all committed prefixes (hence of all state
/// machines at the same index), a leader of the highest term holds the
/// longest committed prefix, and no leader's log holds two uncommitted
/// configuration entries. Linear in the total log length. For crashed
/// nodes, `state` is what they would restart from.
pub fn check_all(nodes: &[Node<RaftNode>]) -> Result<(), String> {
    let mut leaders: BTreeMap<u64, NodeId> = BTreeMap::new();
    let digests: Vec<(u64, Vec<u64>)> = nodes.iter().map(|n| digests_of(&n.state)).collect();
    for (i, n) in nodes.iter().enumerate() {
        let st = &n.state;
        let id = i as NodeId;
        if st.commit_index() > st.last_log_index() || st.commit_index() < st.snapshot().index() {
            return Err(format!(
                "{} has commit index {} outside its log (snapshot up to {}, last index {})",
                s(id),
                st.commit_index(),
                st.snapshot().index(),
                st.last_log_index()
            ));
        }
        let sm = st.state_machine();
        if sm.applied != st.commit_index() || Some(sm.digest) != digest_at(&digests[i], sm.applied) {
            return Err(format!(
                "State Machine Safety: the state machine of {} (index {}) is not what applying its log up to its commit index {} gives",
                s(id),
                sm.applied,
                st.commit_index()
            ));
        }
        if st.role() == Role::Leader {
            if let Some(other) = leaders.insert(st.term(), id) {
                return Err(format!("{} and {} both lead term {}", s(other), s(id), st.term()));
            }
            // A configuration entry of its own term beyond its commit index
            // must be the only configuration entry there (the earlier ones
            // may be committed without this leader knowing yet).
            let beyond: Vec<&Entry> = st
                .log()
                .iter()
                .skip(st.commit_index().saturating_sub(st.snapshot().index()) as usize)
                .filter(|e| e.config.is_some())
                .collect();
            if beyond.len() > 1 && beyond.iter().any(|e| e.term == st.term()) {
                return Err(format!(
                    "One Change at a Time: {}, leader of term {}, appended a configuration while {} others were uncommitted",
                    s(id),
                    st.term(),
                    beyond.len() - 1
                ));
            }
        }
    }

    // Log Matching: every (index, term) closes the same prefix everywhere.
    let mut seen: BTreeMap<(u64, u64), (u64, NodeId)> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let st = &n.state;
        let snap = st.snapshot();
        let terms = std::iter::once((snap.index(), snap.term()))
            .chain(st.log().iter().enumerate().map(|(k, e)| (snap.index() + 1 + k as u64, e.term)));
        for (k, (index, term)) in terms.enumerate() {
            if index == 0 {
                continue;
            }
            let d = digests[i].1[k];
            match seen.get(&(index, term)) {
                Some(&(other, by)) if other != d => {
                    return Err(format!(
                        "Log Matching: {} and {} both hold an entry of term {term} at index {index}, but their logs differ before it",
                        s(by),
                        s(i as NodeId),
                    ));
                }
                Some(_) => {}
                None => {
                    seen.insert((index, term), (d, i as NodeId));
                }
            }
        }
    }

    // Committed prefixes (and so state machines) agree.
    let Some((bi, best)) = nodes.iter().enumerate().max_by_key(|(_, n)| n.state.commit_index()) else {
        return Ok(());
    };
    let best_commit = best.state.commit_index();
    for (i, n) in nodes.iter().enumerate() {
        let k = n.state.commit_index().min(best_commit);
        if let (Some(a), Some(b)) = (digest_at(&digests[i], k), digest_at(&digests[bi], k)) {
            if a != b {
                return Err(format!(
                    "State Machine Safety: {} and {} committed different entries at or before index {k}",
                    s(i as NodeId),
                    s(bi as NodeId)
                ));
            }
        }
    }

    // A leader of the highest term holds everything committed.
    let top = nodes.iter().map(|n| n.state.term()).max().unwrap_or(0);
    if let Some(&l) = leaders.get(&top) {
        let ld = &digests[l as usize];
        let lacks = match digest_at(ld, best_commit) {
            Some(d) => Some(d) != digest_at(&digests[bi], best_commit),
            None => best_commit > nodes[l as usize].state.last_log_index(),
        };
        if lacks {
            return Err(format!(
                "Leader Completeness: {}, leader of term {top}, lacks entries committed by {} (up to index {best_commit})",
                s(l),
                s(bi as NodeId),
            ));
        }
    }
    Ok(())
}
