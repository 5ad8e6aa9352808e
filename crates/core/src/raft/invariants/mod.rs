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
//! [`chain`](super::chain)), so "these two logs agree up to index i" is one
//! comparison. A snapshot (§7) is the same chain cut short: a server's
//! state machine digest at index `i` *is* `d[i]`, so when a server compacts
//! its log the checkers compare its snapshot with the digest of the entries
//! it discarded, and a server that installs a leader's snapshot continues
//! its chain from the snapshot's digest. Checkers read the world only where
//! a note points them and cross-check that each noted node's last index and
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
//!
//! One file per checker; this module holds what they share: the notes
//! they follow (`changes`), the window of recent indexes (`Window`),
//! and each node's chain of prefix digests (in `chains`).

mod chains;
mod check_all;
mod committed_config_kept;
mod election_safety;
mod leader_append_only;
mod leader_completeness;
mod log_matching;
mod one_change_at_a_time;
mod state_machine_safety;

pub use check_all::check_all;
pub use committed_config_kept::CommittedConfigKept;
pub use election_safety::ElectionSafety;
pub use leader_append_only::LeaderAppendOnly;
pub use leader_completeness::LeaderCompleteness;
pub use log_matching::LogMatching;
pub use one_change_at_a_time::OneChangeAtATime;
pub use state_machine_safety::StateMachineSafety;

use super::node::{Entry, RaftNode, RaftNote};
use crate::sim::{Fault, Invariant, NodeId, TraceEvent, World};
use std::collections::VecDeque;

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

fn s(id: NodeId) -> String {
    format!("S{}", u64::from(id) + 1)
}

fn entry_text(e: &Entry) -> String {
    match e.config.as_deref() {
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

/// Records about the last [`WINDOW`] indexes: `lo` is the first index held.
#[derive(Clone, Debug, Default)]
struct Window<T> {
    lo: u64,
    items: VecDeque<Option<T>>,
}

impl<T: Clone> Window<T> {
    /// The bytes its records take on the heap (what a copy costs).
    fn heap_bytes(&self) -> usize {
        self.items.len() * std::mem::size_of::<Option<T>>()
    }

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

#[cfg(test)]
mod tests {
    use super::{Window, WINDOW};

    // The checkers' memory (module doc: "records of the last WINDOW indexes
    // only"): filled past WINDOW it slides, forgetting the oldest; a jump
    // past everything it holds (a snapshot installed far ahead) starts it
    // afresh at the new index.
    #[test]
    fn the_window_keeps_the_last_window_indexes_and_restarts_on_a_jump() {
        let mut w = Window::default();
        for i in 1..=WINDOW + 10 {
            w.set(i, i * 2);
        }
        assert_eq!(w.get(WINDOW + 10), Some(&((WINDOW + 10) * 2)), "the newest is held");
        assert_eq!(w.get(11), Some(&22), "the oldest of the last WINDOW is held");
        assert_eq!(w.get(10), None, "older ones are forgotten");
        assert_eq!(w.items.len() as u64, WINDOW);

        let far = 10 * WINDOW;
        w.set(far, 7);
        assert_eq!(w.get(far), Some(&7), "a jump keeps the new record");
        assert_eq!(w.get(WINDOW + 10), None, "and forgets what came before it");
        w.set(far + 1, 8);
        assert_eq!((w.get(far), w.get(far + 1)), (Some(&7), Some(&8)), "and goes on from there");
    }

    // After a jump the window *ends* at the new index, it does not start
    // there (module doc: "records of the last WINDOW indexes only"): a
    // server installs a snapshot far ahead, and a lagging server's appends
    // just below that index, recorded afterwards, must still be compared
    // with what other servers hold there. Only an index older than the
    // last WINDOW is let go.
    #[test]
    fn after_a_jump_the_window_ends_at_the_new_index_and_keeps_what_comes_below_it() {
        let mut w = Window::default();
        w.set(1, 1u64);
        let far = 10 * WINDOW;
        w.set(far, 2);
        w.set(far - 1, 3);
        w.set(far + 1 - WINDOW, 4);
        assert_eq!((w.get(far), w.get(far - 1)), (Some(&2), Some(&3)), "just below the jump");
        assert_eq!(w.get(far + 1 - WINDOW), Some(&4), "the oldest of the last WINDOW");
        w.set(far - WINDOW, 5);
        assert_eq!(w.get(far - WINDOW), None, "older than the last WINDOW: ignored");
        assert_eq!(w.items.len() as u64, WINDOW);
    }

    // What a snapshot of a checker costs is counted from its window
    // (`heap_bytes`, which the snapshot budget trusts): one slot per index
    // from the first one set, none below it, and the count follows them.
    #[test]
    fn the_window_holds_a_slot_per_index_from_the_first_and_counts_them() {
        let slot = std::mem::size_of::<Option<u64>>();
        let mut w = Window::default();
        w.set(1, 5u64);
        assert_eq!((w.items.len(), w.heap_bytes()), (1, slot), "index 1 alone: one slot");
        for i in 2..=100 {
            w.set(i, i);
        }
        assert_eq!((w.items.len(), w.heap_bytes()), (100, 100 * slot), "indexes 1 to 100");
    }

    // A server that installs a snapshot far ahead makes the window jump;
    // the checker must not make room for the indexes it jumped over
    // (a window at 10 × WINDOW jumping to 40 × WINDOW would otherwise
    // reserve 30 × WINDOW slots, and a jump of 2^40 would not fit in
    // memory).
    #[test]
    fn a_jump_far_ahead_makes_no_room_for_the_gap() {
        let mut w = Window::default();
        w.set(10 * WINDOW, 1u64);
        w.set(40 * WINDOW, 2);
        assert_eq!((w.get(10 * WINDOW), w.get(40 * WINDOW)), (None, Some(&2)));
        assert!(w.items.capacity() <= 2 * WINDOW as usize, "{} slots reserved", w.items.capacity());
    }
}
