//! What Raft servers say to each other and to the outside: the messages of
//! Figure 2 (RequestVote, AppendEntries) and Figure 13 (InstallSnapshot)
//! with their replies, Pre-Vote as a flagged RequestVote (thesis §9.6), a
//! server's timers, and the notes it writes for the trace, the invariant
//! checkers and the metrics.
//!
//! These are plain data; how each reads in the trace (a one-line text, a
//! kind name, a digest for run fingerprints) is in `trace.rs`.

use super::log::{Entry, Snapshot};
use super::membership::Members;
use crate::sim::NodeId;
use std::sync::Arc;

/// Messages between Raft servers (Figure 2's two RPCs and Figure 13's
/// InstallSnapshot, their replies, and Pre-Vote as a flagged RequestVote).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftMsg {
    /// A candidate asks for a vote (§5.2), or with `pre_vote` a
    /// pre-candidate asks whether it would get one.
    RequestVote {
        /// The candidate's term (for a pre-vote: the term it would use).
        term: u64,
        /// Index of the candidate's last log entry (§5.4.1).
        last_log_index: u64,
        /// Term of the candidate's last log entry (§5.4.1).
        last_log_term: u64,
        /// A Pre-Vote: the receiver changes no state.
        pre_vote: bool,
    },
    /// The answer to a RequestVote.
    RequestVoteReply {
        /// The voter's term (for a granted pre-vote: the term asked about).
        term: u64,
        /// Whether the vote was granted.
        granted: bool,
        /// Answers a pre-vote.
        pre_vote: bool,
    },
    /// A leader replicates entries, or with no entries sends a heartbeat.
    AppendEntries {
        /// The leader's term.
        term: u64,
        /// Index of the entry just before the new ones.
        prev_log_index: u64,
        /// Term of that entry.
        prev_log_term: u64,
        /// The entries to store (empty for a heartbeat). Shared, so copying
        /// the message (trace, duplicates) is cheap.
        entries: Arc<[Entry]>,
        /// The leader's commit index.
        leader_commit: u64,
    },
    /// The answer to an AppendEntries.
    AppendEntriesReply {
        /// The follower's term.
        term: u64,
        /// Whether the follower's log matched `prev_log_index` and now holds
        /// the entries.
        success: bool,
        /// On success, the last index known to match the leader's log
        /// (`prev_log_index + entries`); on failure, the refused
        /// `prev_log_index`, so the leader can ignore stale refusals.
        index: u64,
        /// On failure, where the leader should look next: the first index of
        /// `conflict_term` in the follower's log, or the follower's last
        /// index + 1 if its log is too short (§5.3's optimisation).
        conflict_index: u64,
        /// On failure, the term of the follower's entry at `prev_log_index`,
        /// if it has one.
        conflict_term: Option<u64>,
        /// Answers a heartbeat (an AppendEntries without entries).
        heartbeat: bool,
    },
    /// A leader sends its snapshot to a follower whose next entry it has
    /// discarded (§7, Figure 13; in one chunk: the state machine is small).
    InstallSnapshot {
        /// The leader's term.
        term: u64,
        /// The snapshot: last included index and term, state, configuration.
        snapshot: Snapshot,
    },
    /// The answer to an InstallSnapshot.
    InstallSnapshotReply {
        /// The follower's term.
        term: u64,
        /// The snapshot's last included index, now matched by the
        /// follower's log (0 if the snapshot was refused as stale).
        index: u64,
    },
    /// A leader confirms it still leads before it serves reads (thesis
    /// §6.4, ReadIndex) or to hold its lease (§6.4.1): a heartbeat round
    /// numbered `round`.
    LeaderCheck {
        /// The leader's term.
        term: u64,
        /// The round.
        round: u64,
    },
    /// A follower's answer: it follows the leader of `term` (or, with a
    /// later term, that the leader is stale).
    LeaderCheckReply {
        /// The follower's term.
        term: u64,
        /// The round answered.
        round: u64,
    },
}

impl RaftMsg {
    /// The term the message carries.
    pub fn term(&self) -> u64 {
        match self {
            RaftMsg::RequestVote { term, .. }
            | RaftMsg::RequestVoteReply { term, .. }
            | RaftMsg::AppendEntries { term, .. }
            | RaftMsg::AppendEntriesReply { term, .. }
            | RaftMsg::InstallSnapshot { term, .. }
            | RaftMsg::InstallSnapshotReply { term, .. }
            | RaftMsg::LeaderCheck { term, .. }
            | RaftMsg::LeaderCheckReply { term, .. } => *term,
        }
    }
}

/// A server's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RaftTimer {
    /// Followers and candidates: no leader was heard from; start an election.
    Election,
    /// Leaders: time to send heartbeats.
    Heartbeat,
    /// Leaders with CheckQuorum: time to check that a majority answered.
    CheckQuorum,
}

/// What a server notes for the trace, the invariant checkers and the
/// metrics. Every change of role, term-as-follower, log and commit index is
/// noted, in the order it happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftNote {
    /// The server is a follower in `term`, after a change of role or term.
    BecameFollower { term: u64 },
    /// The server started a Pre-Vote round from `term` (its term is unchanged).
    BecamePreCandidate { term: u64 },
    /// The server started an election for `term`.
    BecameCandidate { term: u64 },
    /// The server won the election for `term`.
    BecameLeader { term: u64 },
    /// A leader gave up leadership; `term` is the term it is in afterwards.
    SteppedDown { term: u64, reason: &'static str },
    /// Entries `from..=to` were appended to the log.
    Appended { from: u64, to: u64 },
    /// Entries from index `from` to the end were removed (they conflicted
    /// with the leader's).
    Truncated { from: u64 },
    /// The commit index advanced to `index` (and the state machine applied
    /// the entries up to it).
    Committed { index: u64 },
    /// The server compacted its log (§7): a snapshot now holds everything up
    /// to `index` (of term `term`), and those entries are gone from the log.
    Snapshotted { index: u64, term: u64 },
    /// The server installed a leader's snapshot up to `index` (Figure 13):
    /// `retained` if its log held that entry and it kept the entries after
    /// it (step 6), otherwise its whole log was discarded (step 7). Its
    /// commit index and state machine are now at `index`.
    InstalledSnapshot { index: u64, term: u64, retained: bool },
    /// The configuration in force changed (thesis §4.1: on append, or back
    /// to an older one when a configuration entry was truncated): the one
    /// of the entry at `index` (0: the initial one).
    Configured { index: u64, members: Members },
    /// A leader started catching up server `id` as a learner (thesis §4.2.1).
    CatchingUp { id: NodeId },
    /// A leader refused or gave up a membership change of server `id`.
    ChangeRefused { id: NodeId, reason: &'static str },
}
