//! The parameters a cluster of Raft servers shares, and the ranges they are
//! brought into before a server runs with them.
//!
//! Every server of a cluster gets the same [`RaftConfig`]. Timers are
//! virtual microseconds; [`RaftConfig::sanitized`] clamps whatever a user or
//! a scenario file asks for into values a server can run with (a zero
//! heartbeat would fire forever at one instant), so the handlers need no
//! checks of their own.

use super::membership::Members;
use super::reads::ReadPath;
use crate::sim::{Time, MS, SEC};

/// The longest timer a node arms, whatever the configuration asks: a year
/// of virtual time keeps `now + delay` far from overflowing.
const TIMER_MAX: Time = 365 * 24 * 3_600 * SEC;

/// Raft parameters, shared by every node of a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftConfig {
    /// Shortest election timeout (§5.2).
    pub election_timeout_min: Time,
    /// Longest election timeout; each timeout is drawn uniformly in
    /// `min..=max`.
    pub election_timeout_max: Time,
    /// Interval between a leader's heartbeats (§5.2).
    pub heartbeat: Time,
    /// Run a Pre-Vote round before a real election (thesis §9.6), so a node
    /// that cannot win does not disrupt the cluster by raising its term.
    pub pre_vote: bool,
    /// A leader steps down if it has not heard from a majority within an
    /// election timeout (thesis §6.2).
    pub check_quorum: bool,
    /// Most entries carried by one AppendEntries.
    pub max_batch: u64,
    /// A deliberate bug, off unless a user turns it on to see the checkers
    /// at work: the leader commits the highest index stored on a majority
    /// whatever its term, the mistake Figure 8 (§5.4.2) warns against.
    pub bug_commit_old_terms: bool,
    /// Log compaction (§7): a server snapshots its state machine and
    /// discards the applied prefix of its log when the log holds more than
    /// this many entries. 0: never.
    pub snapshot_every: u64,
    /// How many servers (the first ones) form the initial configuration;
    /// the others are spare until added (thesis §4.1). 0: all of them.
    pub members: u32,
    /// The minimum-election-timeout rule against disruptive servers
    /// (thesis §4.2.3).
    pub vote_guard: bool,
    /// A leader refuses new client commands while this many entries of its
    /// log are uncommitted (a leader cut off from its majority would
    /// otherwise grow its log for as long as clients keep asking).
    pub max_uncommitted: u64,
    /// How reads of the key-value store are served (thesis §6.4).
    pub read_path: ReadPath,
    /// How long a lease lasts after the start of a heartbeat round a
    /// majority acknowledged, on the leader's clock (thesis §6.4.1).
    pub lease: Time,
    /// With local reads, every server answers them (not only the leader).
    pub local_reads_anywhere: bool,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            election_timeout_min: 150 * MS,
            election_timeout_max: 300 * MS,
            heartbeat: 50 * MS,
            pre_vote: false,
            check_quorum: false,
            max_batch: 64,
            bug_commit_old_terms: false,
            snapshot_every: 1_000,
            members: 0,
            vote_guard: false,
            max_uncommitted: 10_000,
            read_path: ReadPath::Log,
            lease: 135 * MS,
            local_reads_anywhere: false,
        }
    }
}

impl RaftConfig {
    /// The configuration with every value brought into a range the node can
    /// run with: timers at least 1 µs and at most a year (a zero heartbeat
    /// would fire forever at one instant), `max >= min`, batches of at
    /// least one entry, room for at least one uncommitted entry.
    pub fn sanitized(&self) -> RaftConfig {
        let min = self.election_timeout_min.clamp(1, TIMER_MAX);
        let max = self.election_timeout_max.clamp(min, TIMER_MAX);
        RaftConfig {
            election_timeout_min: min,
            election_timeout_max: max,
            heartbeat: self.heartbeat.clamp(1, TIMER_MAX),
            pre_vote: self.pre_vote,
            check_quorum: self.check_quorum,
            max_batch: self.max_batch.max(1),
            bug_commit_old_terms: self.bug_commit_old_terms,
            snapshot_every: self.snapshot_every,
            members: self.members.min(Members::CAPACITY),
            vote_guard: self.vote_guard,
            max_uncommitted: self.max_uncommitted.max(1),
            read_path: self.read_path,
            lease: self.lease.min(TIMER_MAX),
            local_reads_anywhere: self.local_reads_anywhere,
        }
    }
}
