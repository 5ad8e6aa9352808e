//! What a leader knows of each follower's log (§5.3), and the quorum
//! arithmetic of the commit rule, apart from the state machine (as etcd
//! raft keeps them in `tracker/` and `quorum/`).
//!
//! Per follower the leader keeps `nextIndex` and `matchIndex` as in the
//! paper, plus a small flow-control state borrowed from etcd and raft-rs:
//! while *probing* (just elected, or after a refusal) the leader sends one
//! AppendEntries per heartbeat or reply until the follower's log matches;
//! once it matches (*replicating*) new entries are pipelined as soon as
//! clients submit them. A pipelined batch that is not acknowledged within a
//! heartbeat interval is sent again from `matchIndex + 1`. The leader also
//! notes which followers answered since the last CheckQuorum (thesis §6.2).
//!
//! Everything is indexed by node id, one slot per server of the cluster
//! (members or not), and is reinitialised after each election.

use super::membership::Members;
use crate::sim::NodeId;

/// The leader's view of every server's progress, indexed by node id.
#[derive(Clone, Debug)]
pub(super) struct Tracker {
    /// `nextIndex`: the index of the next entry to send.
    pub(super) next_index: Vec<u64>,
    /// `matchIndex`: the highest index known to match the leader's log (the
    /// leader's own slot is its last index).
    pub(super) match_index: Vec<u64>,
    /// The follower's log is not known to match from `next_index - 1`.
    pub(super) probing: Vec<bool>,
    /// While probing: an AppendEntries is out; wait for its answer or the
    /// next heartbeat.
    pub(super) probe_sent: Vec<bool>,
    /// `match_index` advanced since the last heartbeat.
    pub(super) progressed: Vec<bool>,
    /// Heard from since the last CheckQuorum.
    pub(super) active: Vec<bool>,
    /// Scratch space for the commit rule, kept to avoid allocating.
    scratch: Vec<u64>,
}

impl Tracker {
    /// A tracker for `n` servers, as a server starts (not leading).
    pub(super) fn new(n: usize) -> Tracker {
        Tracker {
            next_index: vec![1; n],
            match_index: vec![0; n],
            probing: vec![true; n],
            probe_sent: vec![false; n],
            progressed: vec![false; n],
            active: vec![false; n],
            scratch: Vec::with_capacity(n),
        }
    }

    /// §5.3: a new leader `me` with `last` as its last index initialises
    /// nextIndex to `last + 1` and matchIndex to 0 for `n` servers, and
    /// probes every follower.
    pub(super) fn reset(&mut self, n: usize, last: u64, me: NodeId) {
        self.next_index.clear();
        self.next_index.resize(n, last + 1);
        self.match_index.clear();
        self.match_index.resize(n, 0);
        for v in [&mut self.probing, &mut self.probe_sent, &mut self.progressed, &mut self.active] {
            v.clear();
            v.resize(n, false);
        }
        self.probing.iter_mut().for_each(|p| *p = true);
        if let Some(m) = self.match_index.get_mut(me as usize) {
            *m = last;
        }
    }

    /// A learner the leader starts to catch up (thesis §4.2.1): nothing of
    /// its log is known, probe it from the leader's `last + 1`.
    pub(super) fn add_learner(&mut self, k: usize, last: u64) {
        self.next_index[k] = last + 1;
        self.match_index[k] = 0;
        self.probing[k] = true;
        self.probe_sent[k] = false;
        self.progressed[k] = false;
    }

    /// Follower `k` matches the leader's log up to `index`: it leaves
    /// probing, and its matchIndex (and nextIndex, if behind) move up.
    /// Returns whether matchIndex advanced.
    pub(super) fn matched(&mut self, k: usize, index: u64) -> bool {
        self.probe_sent[k] = false;
        self.probing[k] = false;
        let advanced = index > self.match_index[k];
        if advanced {
            self.match_index[k] = index;
            self.progressed[k] = true;
        }
        if self.next_index[k] <= self.match_index[k] {
            self.next_index[k] = self.match_index[k] + 1;
        }
        advanced
    }

    /// The highest index stored on a majority of `members`, counting `last`
    /// for the leader `me` (§5.3): the `majority`-th highest matchIndex.
    /// None if `members` has fewer servers than `majority`.
    pub(super) fn quorum_index(&mut self, members: Members, me: NodeId, last: u64, majority: usize) -> Option<u64> {
        self.scratch.clear();
        for m in members.iter() {
            let v = if m == me { last } else { self.match_index.get(m as usize).copied().unwrap_or(0) };
            self.scratch.push(v);
        }
        self.scratch.sort_unstable();
        self.scratch.len().checked_sub(majority).and_then(|i| self.scratch.get(i)).copied()
    }

    /// Members heard from since the last CheckQuorum, the leader `me`
    /// included if it is a member (thesis §6.2).
    pub(super) fn heard_from(&self, members: Members, me: NodeId) -> u32 {
        u32::from(members.contains(me))
            + members.iter().filter(|&i| i != me && self.active.get(i as usize).copied().unwrap_or(false)).count()
                as u32
    }

    /// Starts a new CheckQuorum period: nobody heard from yet.
    pub(super) fn clear_active(&mut self) {
        self.active.iter_mut().for_each(|a| *a = false);
    }

    /// Heap memory held, in bytes, as the node reports it.
    pub(super) fn heap_bytes(&self) -> usize {
        (self.next_index.capacity() + self.match_index.capacity() + self.scratch.capacity()) * 8
    }
}
