//! One Raft server as a pure state machine: Figure 2 of the paper, log
//! compaction with snapshots (§7, Figure 13), single-server membership
//! changes (Ongaro's thesis §4), and the optional liveness aids of the
//! thesis (Pre-Vote, §9.6; CheckQuorum, §6.2; the minimum-election-timeout
//! rule against disruptive servers, §4.2.3).
//!
//! The handlers follow the paper's rules in the order Figure 2 gives them:
//!
//! * **All servers** (§5.1): a message carrying a higher term makes the
//!   receiver adopt that term and become a follower; a message with a lower
//!   term is refused and answered with the receiver's term.
//! * **Followers** (§5.2) answer RequestVote and AppendEntries and start an
//!   election when no leader speaks to them for a randomized election
//!   timeout, drawn from the node's own seeded stream (`ctx.rng`).
//! * **Candidates** (§5.2) vote for themselves, ask everybody else, and win
//!   with a majority; an AppendEntries of their term sends them back to
//!   following.
//! * **Leaders** (§5.3) append client commands, replicate them with
//!   AppendEntries, repair followers' logs (with the conflict-term hint of
//!   §5.3's optimisation, so a divergent suffix costs one round trip per
//!   term instead of one per entry), and commit an entry once a majority
//!   stores it, but only entries of their own term (§5.4.2, Figure 8).
//!
//! Replication keeps, per follower, `nextIndex` and `matchIndex` as in the
//! paper, plus a small flow-control state borrowed from etcd and raft-rs:
//! while *probing* (just elected, or after a refusal) the leader sends one
//! AppendEntries per heartbeat or reply until the follower's log matches;
//! once it matches (*replicating*) new entries are pipelined as soon as
//! clients submit them. A pipelined batch that is not acknowledged within a
//! heartbeat interval is sent again from `matchIndex + 1`.
//!
//! **State machine and snapshots (§7).** Committed entries are applied at
//! once to a small real state machine, [`StateMachine`]: a count of client
//! commands and a digest chained over every applied entry, so two servers
//! at the same applied index hold the same state exactly when their digests
//! agree. When the log holds more than
//! [`RaftConfig::snapshot_every`] entries, the server writes a
//! [`Snapshot`] of its state machine (with the last included index and term
//! and the configuration in force there) and discards the log up to it,
//! keeping the last `snapshot_every / 2` applied entries for followers a
//! little behind.
//! Compaction happens at the start of the server's next handler, so every
//! applied entry has been seen by the checkers before it disappears. A
//! leader whose follower needs a compacted entry sends `InstallSnapshot`;
//! the follower keeps the entries after the snapshot if its log holds the
//! snapshot's last entry, and otherwise discards its whole log (Figure 13,
//! steps 6–8). Indexes stay absolute: entry `i` is `log[i - snapshot - 1]`.
//!
//! **Membership (thesis §4).** A configuration ([`Members`]) is a log entry;
//! a server uses the latest configuration in its log, committed or not
//! (§4.1). The first `members` servers form the initial configuration; the
//! others are spare until a leader adds them. Adding a server first
//! replicates to it as a non-voting *learner* in rounds (§4.2.1); when a
//! round takes less than an election timeout, the leader appends the new
//! configuration. At most one change is in flight: a leader appends a
//! configuration only when the previous one is committed and it has
//! committed an entry of its own term (appending a no-op first if needed,
//! the fix to the single-server change bug described on the Raft mailing
//! list in 2015). A leader that removes itself keeps leading until the
//! change commits, without counting itself, then steps down (§4.2.2). A
//! server outside its own configuration starts elections only while that
//! configuration is not known to be committed (§4.2.2); it then counts
//! the votes of the configuration's members, not its own.
//!
//! **Disruptive servers (§4.2.3).** A removed server that never learns of
//! its removal times out and campaigns with ever higher terms. The
//! protection here is the thesis's *minimum election timeout* rule, turned
//! on by [`RaftConfig::vote_guard`]: a server that has heard from a current
//! leader within the minimum election timeout (or is the leader) ignores
//! RequestVote, neither raising its term nor granting its vote. (Pre-Vote,
//! with its own check that a leader is alive, protects too.)
//!
//! Persistence: `currentTerm`, `votedFor`, `log[]` and the snapshot are the
//! durable part ([`RaftDurable`]); a handler's writes are on disk before its
//! messages leave (see [`crate::sim::protocol`]). Everything else is
//! volatile and is rebuilt after a restart, the state machine from the
//! snapshot.

use crate::sim::{Ctx, Fingerprint, NodeId, Observable, Protocol, Reply, RequestId, Time, MS, SEC};
use std::collections::VecDeque;
use std::sync::Arc;

/// The longest timer a node arms, whatever the configuration asks: a year
/// of virtual time keeps `now + delay` far from overflowing.
const TIMER_MAX: Time = 365 * 24 * 3_600 * SEC;

/// Catch-up rounds a leader runs for a new server before giving up (thesis
/// §4.2.1 suggests ten).
pub const CATCH_UP_ROUNDS: u32 = 10;

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
        }
    }
}

/// A set of servers: a Raft configuration (thesis §4). Server ids below
/// [`Members::CAPACITY`] only; a bit set, so entries stay small and `Copy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Members([u64; 2]);

impl Members {
    /// The most servers a configuration can name (ids `0..128`).
    pub const CAPACITY: u32 = 128;

    /// Servers `0..n` (at most [`Members::CAPACITY`]).
    pub fn first(n: u32) -> Members {
        (0..n.min(Self::CAPACITY)).fold(Members::default(), Members::with)
    }
    /// Whether `id` is a member.
    pub fn contains(self, id: NodeId) -> bool {
        id < Self::CAPACITY && self.0[(id / 64) as usize] & (1 << (id % 64)) != 0
    }
    /// The set with `id` added (ids beyond the capacity are ignored).
    pub fn with(self, id: NodeId) -> Members {
        let mut m = self;
        if id < Self::CAPACITY {
            m.0[(id / 64) as usize] |= 1 << (id % 64);
        }
        m
    }
    /// The set without `id`.
    pub fn without(self, id: NodeId) -> Members {
        let mut m = self;
        if id < Self::CAPACITY {
            m.0[(id / 64) as usize] &= !(1 << (id % 64));
        }
        m
    }
    /// Number of members.
    pub fn len(self) -> u32 {
        self.0[0].count_ones() + self.0[1].count_ones()
    }
    /// Whether there are no members.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
    /// Votes (or replicas) that make a majority of this configuration.
    pub fn majority(self) -> u32 {
        self.len() / 2 + 1
    }
    /// The members, in increasing order.
    pub fn iter(self) -> impl Iterator<Item = NodeId> {
        let [mut lo, mut hi] = self.0;
        std::iter::from_fn(move || {
            if lo != 0 {
                let i = lo.trailing_zeros();
                lo &= lo - 1;
                Some(i)
            } else if hi != 0 {
                let i = hi.trailing_zeros();
                hi &= hi - 1;
                Some(64 + i)
            } else {
                None
            }
        })
    }
    /// The two words of the bit set (for digests).
    pub fn bits(self) -> [u64; 2] {
        self.0
    }
    /// Servers in one set but not the other.
    pub fn difference_count(self, other: Members) -> u32 {
        (self.0[0] ^ other.0[0]).count_ones() + (self.0[1] ^ other.0[1]).count_ones()
    }
}

impl std::fmt::Display for Members {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, id) in self.iter().enumerate() {
            if k > 0 {
                f.write_str(",")?;
            }
            write!(f, "S{}", u64::from(id) + 1)?;
        }
        Ok(())
    }
}

/// One log entry: the term in which a leader created it and what it
/// carries: a client command, a new configuration, or nothing (a no-op a
/// leader appends to commit an entry of its term). Log indexes are
/// 1-based, as in the paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Term of the leader that created the entry.
    pub term: u64,
    /// The client command (the request's id); 0 for a configuration or a
    /// no-op.
    pub command: RequestId,
    /// A configuration entry: the servers of the new configuration.
    pub config: Option<Members>,
}

impl Entry {
    /// An entry carrying client command `command`.
    pub fn new(term: u64, command: RequestId) -> Entry {
        Entry { term, command, config: None }
    }
    /// Whether the entry carries a client command.
    pub fn is_command(&self) -> bool {
        self.config.is_none() && self.command != 0
    }
}

/// The digest of the empty prefix of a log (and of a state machine that
/// applied nothing).
pub const EMPTY_DIGEST: u64 = 0x5241_4654_5f4c_4f47;

/// The digest of a log prefix extended by one entry: `chain(d[i-1], e_i)`.
/// The state machine's digest and the checkers' prefix digests are both
/// this chain, so equal digests at one index mean equal prefixes.
pub fn chain(prev: u64, e: &Entry) -> u64 {
    let mut b = [0u8; 40];
    b[..8].copy_from_slice(&prev.to_le_bytes());
    b[8..16].copy_from_slice(&e.term.to_le_bytes());
    b[16..24].copy_from_slice(&e.command.to_le_bytes());
    match e.config {
        // The common case hashes 24 bytes; a configuration entry 40, so the
        // two never collide by length.
        None => xxhash_rust::xxh3::xxh3_64(&b[..24]),
        Some(m) => {
            b[24..32].copy_from_slice(&m.bits()[0].to_le_bytes());
            b[32..40].copy_from_slice(&m.bits()[1].to_le_bytes());
            xxhash_rust::xxh3::xxh3_64(&b)
        }
    }
}

/// The replicated state machine: what applying the committed log gives.
/// It counts client commands and chains a digest over every entry applied,
/// so "the same state on every server" is a comparison of two numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateMachine {
    /// Index of the last entry applied.
    pub applied: u64,
    /// Term of that entry.
    pub term: u64,
    /// Client commands applied.
    pub commands: u64,
    /// [`chain`] over every entry applied, from [`EMPTY_DIGEST`].
    pub digest: u64,
}

impl Default for StateMachine {
    fn default() -> Self {
        StateMachine { applied: 0, term: 0, commands: 0, digest: EMPTY_DIGEST }
    }
}

impl StateMachine {
    /// Applies `entry`, the entry at index `applied + 1`.
    pub fn apply(&mut self, entry: &Entry) {
        self.applied += 1;
        self.term = entry.term;
        if entry.is_command() {
            self.commands += 1;
        }
        self.digest = chain(self.digest, entry);
    }
}

/// A snapshot (§7): the state machine after applying the log up to its
/// last included entry, that entry's index and term (in `state`), and the
/// configuration in force there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The state machine; `state.applied` and `state.term` are the last
    /// included index and term.
    pub state: StateMachine,
    /// The latest configuration at or before the last included entry
    /// (None: the initial configuration).
    pub config: Option<Members>,
    /// Index of the entry that carried `config` (0 for the initial one).
    pub config_index: u64,
}

impl Snapshot {
    /// The last included index.
    pub fn index(&self) -> u64 {
        self.state.applied
    }
    /// The last included term.
    pub fn term(&self) -> u64 {
        self.state.term
    }
}

/// What a server currently is (§5.1, and thesis §9.6 for pre-candidates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Answers leaders and candidates; issues no requests of its own.
    Follower,
    /// Asking whether it could win an election, without raising its term.
    PreCandidate,
    /// Asking for votes in a new term.
    Candidate,
    /// Handles clients and replicates the log.
    Leader,
}

impl Role {
    /// The role's name for display.
    pub fn name(self) -> &'static str {
        match self {
            Role::Follower => "Follower",
            Role::PreCandidate => "PreCandidate",
            Role::Candidate => "Candidate",
            Role::Leader => "Leader",
        }
    }
}

/// Where a server stands with respect to its own configuration (thesis §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// In its latest configuration: it votes and may campaign.
    Voter,
    /// Not (yet) a member, but a leader replicates to it (or has): it is
    /// catching up before being added.
    Learner,
    /// It was a member and its latest configuration no longer holds it.
    Removed,
    /// Never a member and never contacted: an idle server slot.
    Spare,
}

impl Membership {
    /// The name for display.
    pub fn name(self) -> &'static str {
        match self {
            Membership::Voter => "Voter",
            Membership::Learner => "Learner",
            Membership::Removed => "Removed",
            Membership::Spare => "Spare",
        }
    }
}

/// A membership change an operator asks a leader for (thesis §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberChange {
    /// Add a server: catch it up as a learner, then append the new
    /// configuration.
    Add(NodeId),
    /// Remove a server (possibly the leader itself).
    Remove(NodeId),
}

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
            | RaftMsg::InstallSnapshotReply { term, .. } => *term,
        }
    }
}
impl Observable for RaftMsg {
    fn describe(&self, out: &mut String) {
        use std::fmt::Write as _;
        out.push_str(self.kind());
        let _: std::fmt::Result = (|| match self {
            RaftMsg::RequestVote { term, last_log_index, last_log_term, .. } => {
                write!(out, " t{term} last {last_log_index}/{last_log_term}")
            }
            RaftMsg::RequestVoteReply { term, granted, .. } => {
                write!(out, " t{term} {}", if *granted { "granted" } else { "rejected" })
            }
            RaftMsg::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
                write!(out, " t{term} prev {prev_log_index}/{prev_log_term}")?;
                if !entries.is_empty() {
                    write!(out, " entries {}", entries.len())?;
                }
                write!(out, " commit {leader_commit}")
            }
            RaftMsg::AppendEntriesReply { term, success: true, index, .. } => write!(out, " t{term} ok {index}"),
            RaftMsg::AppendEntriesReply { term, index, conflict_index, conflict_term, .. } => {
                write!(out, " t{term} reject {index} hint {conflict_index}")?;
                match conflict_term {
                    Some(t) => write!(out, "/{t}"),
                    None => Ok(()),
                }
            }
            RaftMsg::InstallSnapshot { term, snapshot } => {
                write!(out, " t{term} last {}/{}", snapshot.index(), snapshot.term())
            }
            RaftMsg::InstallSnapshotReply { term, index: 0 } => write!(out, " t{term} refused"),
            RaftMsg::InstallSnapshotReply { term, index } => write!(out, " t{term} ok {index}"),
        })();
    }

    fn kind(&self) -> &'static str {
        match self {
            RaftMsg::RequestVote { pre_vote: false, .. } => "RequestVote",
            RaftMsg::RequestVote { pre_vote: true, .. } => "PreVote",
            RaftMsg::RequestVoteReply { pre_vote: false, .. } => "RequestVoteReply",
            RaftMsg::RequestVoteReply { pre_vote: true, .. } => "PreVoteReply",
            RaftMsg::AppendEntries { entries, .. } if entries.is_empty() => "Heartbeat",
            RaftMsg::AppendEntries { .. } => "AppendEntries",
            RaftMsg::AppendEntriesReply { heartbeat: true, .. } => "HeartbeatReply",
            RaftMsg::AppendEntriesReply { .. } => "AppendEntriesReply",
            RaftMsg::InstallSnapshot { .. } => "InstallSnapshot",
            RaftMsg::InstallSnapshotReply { .. } => "InstallSnapshotReply",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            RaftMsg::RequestVote { term, last_log_index, last_log_term, pre_vote } => {
                fp.u64(1);
                fp.u64(*term);
                fp.u64(*last_log_index);
                fp.u64(*last_log_term);
                fp.u64(u64::from(*pre_vote));
            }
            RaftMsg::RequestVoteReply { term, granted, pre_vote } => {
                fp.u64(2);
                fp.u64(*term);
                fp.u64(u64::from(*granted));
                fp.u64(u64::from(*pre_vote));
            }
            RaftMsg::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
                fp.u64(3);
                fp.u64(*term);
                fp.u64(*prev_log_index);
                fp.u64(*prev_log_term);
                fp.u64(*leader_commit);
                fp.u64(entries.len() as u64);
                for e in entries.iter() {
                    fp.u64(e.term);
                    fp.u64(e.command);
                    // Configuration entries only, so runs without
                    // membership changes keep their fingerprints.
                    if let Some(m) = e.config {
                        fp.u64(u64::MAX);
                        fp.u64(m.bits()[0]);
                        fp.u64(m.bits()[1]);
                    }
                }
            }
            RaftMsg::AppendEntriesReply { term, success, index, conflict_index, conflict_term, heartbeat } => {
                fp.u64(4);
                fp.u64(*term);
                fp.u64(u64::from(*success));
                fp.u64(*index);
                fp.u64(*conflict_index);
                match conflict_term {
                    None => fp.u64(0),
                    Some(t) => {
                        fp.u64(1);
                        fp.u64(*t);
                    }
                }
                fp.u64(u64::from(*heartbeat));
            }
            RaftMsg::InstallSnapshot { term, snapshot } => {
                fp.u64(5);
                fp.u64(*term);
                fp.u64(snapshot.index());
                fp.u64(snapshot.term());
                fp.u64(snapshot.state.commands);
                fp.u64(snapshot.state.digest);
                fp.u64(snapshot.config_index);
                if let Some(m) = snapshot.config {
                    fp.u64(m.bits()[0]);
                    fp.u64(m.bits()[1]);
                }
            }
            RaftMsg::InstallSnapshotReply { term, index } => {
                fp.u64(6);
                fp.u64(*term);
                fp.u64(*index);
            }
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

impl Observable for RaftTimer {
    fn kind(&self) -> &'static str {
        match self {
            RaftTimer::Election => "Election",
            RaftTimer::Heartbeat => "Heartbeat",
            RaftTimer::CheckQuorum => "CheckQuorum",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        fp.u64(*self as u64);
    }
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

impl Observable for RaftNote {
    fn describe(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = match self {
            RaftNote::BecameFollower { term } => write!(out, "became follower t{term}"),
            RaftNote::BecamePreCandidate { term } => write!(out, "became pre-candidate t{term}"),
            RaftNote::BecameCandidate { term } => write!(out, "became candidate t{term}"),
            RaftNote::BecameLeader { term } => write!(out, "became leader t{term}"),
            RaftNote::SteppedDown { term, reason } => write!(out, "stepped down t{term}: {reason}"),
            RaftNote::Appended { from, to } if from == to => write!(out, "appended {from}"),
            RaftNote::Appended { from, to } => write!(out, "appended {from}..{to}"),
            RaftNote::Truncated { from } => write!(out, "truncated from {from}"),
            RaftNote::Committed { index } => write!(out, "committed {index}"),
            RaftNote::Snapshotted { index, term } => write!(out, "snapshot up to {index}/{term}"),
            RaftNote::InstalledSnapshot { index, term, retained } => write!(
                out,
                "installed snapshot up to {index}/{term}, {}",
                if *retained { "kept the entries after it" } else { "discarded its log" }
            ),
            RaftNote::Configured { index, members } => write!(out, "configuration {members} (entry {index})"),
            RaftNote::CatchingUp { id } => write!(out, "catching up S{} as a learner", u64::from(*id) + 1),
            RaftNote::ChangeRefused { id, reason } => {
                write!(out, "membership change of S{} refused: {reason}", u64::from(*id) + 1)
            }
        };
    }

    fn kind(&self) -> &'static str {
        match self {
            RaftNote::BecameFollower { .. } => "BecameFollower",
            RaftNote::BecamePreCandidate { .. } => "BecamePreCandidate",
            RaftNote::BecameCandidate { .. } => "BecameCandidate",
            RaftNote::BecameLeader { .. } => "BecameLeader",
            RaftNote::SteppedDown { .. } => "SteppedDown",
            RaftNote::Appended { .. } => "Appended",
            RaftNote::Truncated { .. } => "Truncated",
            RaftNote::Committed { .. } => "Committed",
            RaftNote::Snapshotted { .. } => "Snapshotted",
            RaftNote::InstalledSnapshot { .. } => "InstalledSnapshot",
            RaftNote::Configured { .. } => "Configured",
            RaftNote::CatchingUp { .. } => "CatchingUp",
            RaftNote::ChangeRefused { .. } => "ChangeRefused",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            RaftNote::BecameFollower { term } => {
                fp.u64(1);
                fp.u64(*term);
            }
            RaftNote::BecamePreCandidate { term } => {
                fp.u64(2);
                fp.u64(*term);
            }
            RaftNote::BecameCandidate { term } => {
                fp.u64(3);
                fp.u64(*term);
            }
            RaftNote::BecameLeader { term } => {
                fp.u64(4);
                fp.u64(*term);
            }
            RaftNote::SteppedDown { term, reason } => {
                fp.u64(5);
                fp.u64(*term);
                fp.str(reason);
            }
            RaftNote::Appended { from, to } => {
                fp.u64(6);
                fp.u64(*from);
                fp.u64(*to);
            }
            RaftNote::Truncated { from } => {
                fp.u64(7);
                fp.u64(*from);
            }
            RaftNote::Committed { index } => {
                fp.u64(8);
                fp.u64(*index);
            }
            RaftNote::Snapshotted { index, term } => {
                fp.u64(9);
                fp.u64(*index);
                fp.u64(*term);
            }
            RaftNote::InstalledSnapshot { index, term, retained } => {
                fp.u64(10);
                fp.u64(*index);
                fp.u64(*term);
                fp.u64(u64::from(*retained));
            }
            RaftNote::Configured { index, members } => {
                fp.u64(11);
                fp.u64(*index);
                fp.u64(members.bits()[0]);
                fp.u64(members.bits()[1]);
            }
            RaftNote::CatchingUp { id } => {
                fp.u64(12);
                fp.u64(u64::from(*id));
            }
            RaftNote::ChangeRefused { id, reason } => {
                fp.u64(13);
                fp.u64(u64::from(*id));
                fp.str(reason);
            }
        }
    }
}

/// What a server keeps on stable storage (Figure 2, "persistent state",
/// and §7's snapshot).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaftDurable {
    /// Latest term the server has seen.
    pub term: u64,
    /// The candidate it voted for in `term`, if any.
    pub voted_for: Option<NodeId>,
    /// The log after the snapshot: entry `snapshot.index() + 1` is `log[0]`.
    pub log: Vec<Entry>,
    /// The latest snapshot (the default: nothing compacted yet).
    pub snapshot: Snapshot,
}

/// Why a leader stepped down.
const REASON_HIGHER_TERM: &str = "saw a higher term";
const REASON_QUORUM: &str = "lost contact with a majority";
const REASON_FORCED: &str = "forced election timeout";
const REASON_REMOVED: &str = "its removal from the configuration committed";

/// A membership change a leader is working on, before its configuration
/// entry is appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PendingChange {
    id: NodeId,
    add: bool,
    /// Adding: the learner caught up (or removing: nothing to wait for).
    ready: bool,
    /// The current catch-up round ends when the learner matches this index.
    round_end: u64,
    /// When the current round started.
    round_start: Time,
    /// Rounds run so far.
    rounds: u32,
}

/// One Raft server.
#[derive(Clone, Debug)]
pub struct RaftNode {
    id: NodeId,
    nodes: u32,
    config: RaftConfig,
    /// The initial configuration (the first `members` servers).
    bootstrap: Members,

    // Persistent state (Figure 2, §7).
    term: u64,
    voted_for: Option<NodeId>,
    log: Vec<Entry>,
    snapshot: Snapshot,

    // Volatile state on all servers.
    role: Role,
    commit_index: u64,
    /// The state machine, at `commit_index` (committing is applying).
    state: StateMachine,
    /// The latest configuration in the log or snapshot, and where it is.
    members: Members,
    members_index: u64,
    /// Was ever a member (to tell a removed server from a spare one).
    ever_member: bool,
    leader_hint: Option<NodeId>,
    /// When this server last heard from the leader it follows (for the
    /// Pre-Vote rule that a server hearing from a leader refuses pre-votes).
    last_leader_contact: Option<Time>,
    /// When the election timer was last armed, if it is.
    election_armed_at: Option<Time>,

    // Candidates and pre-candidates: who granted a vote (duplicated
    // replies must not count twice).
    votes: Vec<bool>,
    votes_granted: u32,

    // Leaders (reinitialised after each election), indexed by node id.
    next_index: Vec<u64>,
    match_index: Vec<u64>,
    /// The follower's log is not known to match from `next_index - 1`.
    probing: Vec<bool>,
    /// While probing: an AppendEntries is out; wait for its answer or the
    /// next heartbeat.
    probe_sent: Vec<bool>,
    /// `match_index` advanced since the last heartbeat.
    progressed: Vec<bool>,
    /// Heard from since the last CheckQuorum.
    active: Vec<bool>,
    /// Client requests waiting for their entry to commit: (index, request).
    pending: VecDeque<(u64, RequestId)>,
    /// Scratch space for the commit rule, kept to avoid allocating.
    scratch: Vec<u64>,
    /// The last batch of entries sent, shared by every follower at the same
    /// position: (first index, last index, entries).
    batch: Option<(u64, u64, Arc<[Entry]>)>,
    /// The empty batch that heartbeats carry.
    empty: Arc<[Entry]>,
    /// A membership change not appended yet (leaders only).
    change: Option<PendingChange>,
    /// Whether the heartbeat timer runs (leaders only).
    heartbeating: bool,
}

impl RaftNode {
    fn build(id: NodeId, nodes: u32, config: &RaftConfig, durable: RaftDurable) -> RaftNode {
        let n = nodes as usize;
        let config = config.sanitized();
        let initial = if config.members == 0 { nodes } else { config.members.min(nodes) };
        let bootstrap = Members::first(initial);
        let mut node = RaftNode {
            id,
            nodes,
            config,
            bootstrap,
            term: durable.term,
            voted_for: durable.voted_for,
            log: durable.log,
            snapshot: durable.snapshot,
            role: Role::Follower,
            commit_index: durable.snapshot.index(),
            state: durable.snapshot.state,
            members: bootstrap,
            members_index: 0,
            ever_member: bootstrap.contains(id),
            leader_hint: None,
            last_leader_contact: None,
            election_armed_at: None,
            votes: vec![false; n],
            votes_granted: 0,
            next_index: vec![1; n],
            match_index: vec![0; n],
            probing: vec![true; n],
            probe_sent: vec![false; n],
            progressed: vec![false; n],
            active: vec![false; n],
            pending: VecDeque::new(),
            scratch: Vec::with_capacity(n),
            batch: None,
            empty: Arc::from(Vec::new()),
            change: None,
            heartbeating: false,
        };
        let (members, index) = node.latest_config(node.last_log_index());
        node.members = members;
        node.members_index = index;
        node.ever_member |= members.contains(id);
        node
    }

    // ----- accessors (the UI reads these) -----

    /// This server's id.
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// The configuration in force (after [`RaftConfig::sanitized`]).
    pub fn config(&self) -> &RaftConfig {
        &self.config
    }
    /// Follower, pre-candidate, candidate or leader.
    pub fn role(&self) -> Role {
        self.role
    }
    /// Voter, learner, removed or spare (thesis §4).
    pub fn membership(&self) -> Membership {
        if self.members.contains(self.id) {
            Membership::Voter
        } else if self.ever_member {
            Membership::Removed
        } else if self.last_log_index() > 0 || self.leader_hint.is_some() {
            Membership::Learner
        } else {
            Membership::Spare
        }
    }
    /// The current term.
    pub fn term(&self) -> u64 {
        self.term
    }
    /// Whom this server voted for in the current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }
    /// The log after the snapshot: entry `i` is `log()[i - first_log_index()]`.
    pub fn log(&self) -> &[Entry] {
        &self.log
    }
    /// Index of the first entry in [`RaftNode::log`] (the snapshot's last
    /// index + 1).
    pub fn first_log_index(&self) -> u64 {
        self.snapshot.index() + 1
    }
    /// The latest snapshot (§7).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
    /// The state machine, at the commit index.
    pub fn state_machine(&self) -> &StateMachine {
        &self.state
    }
    /// The configuration in force: the latest in the log or snapshot
    /// (thesis §4.1), committed or not.
    pub fn configuration(&self) -> Members {
        self.members
    }
    /// The initial configuration (the first `members` servers).
    pub fn initial_configuration(&self) -> Members {
        self.bootstrap
    }
    /// Index of the entry that carried [`RaftNode::configuration`] (0: the
    /// initial configuration).
    pub fn configuration_index(&self) -> u64 {
        self.members_index
    }
    /// The server being caught up as a learner by this leader, if any.
    pub fn learner(&self) -> Option<NodeId> {
        match self.change {
            Some(c) if self.role == Role::Leader && c.add => Some(c.id),
            _ => None,
        }
    }
    /// Index of the last log entry (0 if the log and snapshot are empty).
    pub fn last_log_index(&self) -> u64 {
        self.snapshot.index() + self.log.len() as u64
    }
    /// Term of the last log entry (the snapshot's last term if the log is
    /// empty; 0 if both are).
    pub fn last_log_term(&self) -> u64 {
        self.log.last().map_or(self.snapshot.term(), |e| e.term)
    }
    /// Highest index known to be committed (and applied).
    pub fn commit_index(&self) -> u64 {
        self.commit_index
    }
    /// The leader this server believes in (itself if it leads).
    pub fn leader_hint(&self) -> Option<NodeId> {
        self.leader_hint
    }
    /// Votes (or pre-votes) granted so far, itself included, while a
    /// candidate or pre-candidate; 0 otherwise.
    pub fn votes_granted(&self) -> u32 {
        match self.role {
            Role::Candidate | Role::PreCandidate => self.votes_granted,
            _ => 0,
        }
    }
    /// The leader's `matchIndex` per node (its own entry is its last index);
    /// empty unless this server leads.
    pub fn match_index(&self) -> &[u64] {
        if self.role == Role::Leader {
            &self.match_index
        } else {
            &[]
        }
    }
    /// The leader's `nextIndex` per node; empty unless this server leads.
    pub fn next_index(&self) -> &[u64] {
        if self.role == Role::Leader {
            &self.next_index
        } else {
            &[]
        }
    }
    /// Client requests the leader is waiting to commit, with their indexes.
    pub fn pending_requests(&self) -> impl Iterator<Item = (u64, RequestId)> + '_ {
        self.pending.iter().copied()
    }
    /// The entry at 1-based `index`, if the log holds it (not compacted).
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        let k = usize::try_from(index.checked_sub(self.first_log_index())?).ok()?;
        self.log.get(k)
    }
    /// The term of the entry at `index`: the snapshot's last term at its
    /// index, 0 at index 0, None if compacted or beyond the log.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.snapshot.index() {
            Some(self.snapshot.term())
        } else if index == 0 {
            Some(0)
        } else {
            self.entry(index).map(|e| e.term)
        }
    }

    // ----- helpers -----

    fn majority(&self) -> u32 {
        self.members.majority()
    }

    /// The servers a leader replicates to: the other members, and the
    /// learner it is catching up.
    fn targets(&self) -> Members {
        let t = match self.change {
            Some(c) if c.add && self.role == Role::Leader => self.members.with(c.id),
            _ => self.members,
        };
        t.without(self.id)
    }

    /// The latest configuration at or before `upto`, and its index: from
    /// the log, else the snapshot, else the initial one.
    fn latest_config(&self, upto: u64) -> (Members, u64) {
        let first = self.first_log_index();
        let end = upto.saturating_sub(self.snapshot.index()).min(self.log.len() as u64) as usize;
        if let Some(k) = self.log[..end].iter().rposition(|e| e.config.is_some()) {
            if let Some(m) = self.log[k].config {
                return (m, first + k as u64);
            }
        }
        match self.snapshot.config {
            Some(m) => (m, self.snapshot.config_index),
            None => (self.bootstrap, 0),
        }
    }

    /// Brings the configuration in force up to date with the log (after an
    /// append, a truncation or a snapshot) and notes a change. A server that
    /// becomes a member arms its election timer; a leader keeps
    /// replicating to the new members.
    fn refresh_config(&mut self, ctx: &mut Ctx<Self>) {
        let (members, index) = self.latest_config(self.last_log_index());
        if (members, index) == (self.members, self.members_index) {
            return;
        }
        let joined = members.contains(self.id) && !self.members.contains(self.id);
        self.members = members;
        self.members_index = index;
        ctx.note(RaftNote::Configured { index, members });
        if members.contains(self.id) {
            self.ever_member = true;
        }
        if (joined || self.may_campaign()) && self.role != Role::Leader {
            self.arm_election_timer(ctx);
        }
        if self.role == Role::Leader && self.members.len() > 1 && !self.heartbeating {
            self.heartbeating = true;
            ctx.set_timer(RaftTimer::Heartbeat, self.config.heartbeat);
        }
    }

    /// §5.4.1: a candidate's log is at least as up-to-date as ours if its
    /// last term is later, or the same with an index at least as large
    /// (the snapshot's last entry counts when the log is empty).
    fn log_is_up_to_date(&self, last_log_term: u64, last_log_index: u64) -> bool {
        let (t, i) = (self.last_log_term(), self.last_log_index());
        last_log_term > t || (last_log_term == t && last_log_index >= i)
    }

    fn arm_election_timer(&mut self, ctx: &mut Ctx<Self>) {
        let after = ctx.rng.range(self.config.election_timeout_min, self.config.election_timeout_max);
        ctx.set_timer(RaftTimer::Election, after);
        self.election_armed_at = Some(ctx.now);
    }

    /// Resets the election timer on hearing from the leader (§5.2). Under
    /// heavy load AppendEntries arrive far more often than heartbeats; a
    /// reset within an eighth of the minimum timeout of the previous one is
    /// skipped, because every re-arm leaves a dead timer event in the
    /// simulator's queue. At heartbeat pace every message still resets it;
    /// under load the timeout since the leader last spoke stays at least
    /// 7/8 of the minimum.
    fn reset_election_timer(&mut self, ctx: &mut Ctx<Self>) {
        let recent =
            self.election_armed_at.is_some_and(|t| ctx.now.saturating_sub(t) < self.config.election_timeout_min / 8);
        if !recent {
            self.arm_election_timer(ctx);
        }
    }

    fn reset_votes(&mut self) {
        self.votes.iter_mut().for_each(|v| *v = false);
        self.votes_granted = u32::from(self.members.contains(self.id));
        if let Some(v) = self.votes.get_mut(self.id as usize) {
            *v = true;
        }
    }

    /// Gives up leadership (if held) and becomes a follower of `term`
    /// (Figure 2, "All servers"). A new term clears the vote.
    fn become_follower(&mut self, ctx: &mut Ctx<Self>, term: u64, leader: Option<NodeId>, reason: &'static str) {
        let was = self.role;
        let new_term = term > self.term;
        if new_term {
            self.term = term;
            self.voted_for = None;
            self.leader_hint = None;
        }
        if was == Role::Leader {
            ctx.note(RaftNote::SteppedDown { term: self.term, reason });
            ctx.cancel_timer(RaftTimer::Heartbeat);
            ctx.cancel_timer(RaftTimer::CheckQuorum);
            self.heartbeating = false;
            self.leader_hint = None;
            // Requests still waiting may or may not commit under the next
            // leader; the client should ask again there.
            while let Some((_, req)) = self.pending.pop_front() {
                ctx.reply(req, Reply::NotLeader(leader));
            }
            if let Some(c) = self.change.take() {
                ctx.note(RaftNote::ChangeRefused { id: c.id, reason: "the leader stepped down" });
            }
            self.batch = None;
            self.arm_election_timer(ctx);
        }
        self.role = Role::Follower;
        if leader.is_some() {
            self.leader_hint = leader;
        }
        if was != Role::Follower || new_term {
            ctx.note(RaftNote::BecameFollower { term: self.term });
        }
    }

    /// Whether this server may start elections: a member of its latest
    /// configuration, or a server that configuration leaves out while it is
    /// not known to be committed (thesis §4.2.2: "a server that is not part
    /// of its own latest configuration should still start new elections, as
    /// it might still be needed until the Cnew entry is committed"), if the
    /// configuration before it held the server. A spare, a learner, or a
    /// server that knows its removal committed, waits.
    fn may_campaign(&self) -> bool {
        self.members.contains(self.id) || (self.members_index > self.commit_index && self.in_previous_config())
    }

    /// Whether the configuration before the one in force holds this server
    /// (so a learner or a spare never campaigns).
    fn in_previous_config(&self) -> bool {
        self.members_index > 0 && self.latest_config(self.members_index - 1).0.contains(self.id)
    }

    /// Starts an election, or a Pre-Vote round first if configured (see
    /// [`RaftNode::may_campaign`]).
    fn campaign(&mut self, ctx: &mut Ctx<Self>) {
        if !self.may_campaign() {
            return;
        }
        if self.config.pre_vote {
            self.start_pre_vote(ctx);
        } else {
            self.start_election(ctx);
        }
    }

    /// Thesis §9.6: ask whether an election for `term + 1` could be won,
    /// without changing any server's term.
    fn start_pre_vote(&mut self, ctx: &mut Ctx<Self>) {
        self.role = Role::PreCandidate;
        self.leader_hint = None;
        self.reset_votes();
        ctx.note(RaftNote::BecamePreCandidate { term: self.term });
        self.arm_election_timer(ctx);
        if self.votes_granted >= self.majority() {
            self.start_election(ctx);
            return;
        }
        self.ask_for_votes(self.term.saturating_add(1), true, ctx);
    }

    /// Sends RequestVote (or a pre-vote) for `term` to the other members,
    /// with this server's last log position, for the up-to-date check of
    /// §5.4.1.
    fn ask_for_votes(&self, term: u64, pre_vote: bool, ctx: &mut Ctx<Self>) {
        let msg = RaftMsg::RequestVote {
            term,
            last_log_index: self.last_log_index(),
            last_log_term: self.last_log_term(),
            pre_vote,
        };
        for p in self.members.without(self.id).iter() {
            ctx.send(p, msg.clone());
        }
    }

    /// §5.2: increment the term, vote for self, reset the election timer,
    /// send RequestVote to all other servers.
    fn start_election(&mut self, ctx: &mut Ctx<Self>) {
        self.term = self.term.saturating_add(1);
        self.voted_for = Some(self.id);
        self.role = Role::Candidate;
        self.leader_hint = None;
        self.reset_votes();
        ctx.note(RaftNote::BecameCandidate { term: self.term });
        self.arm_election_timer(ctx);
        if self.votes_granted >= self.majority() {
            self.become_leader(ctx);
            return;
        }
        self.ask_for_votes(self.term, false, ctx);
    }

    /// §5.2–5.3: a candidate with a majority becomes leader, initialises
    /// nextIndex to its last index + 1 and matchIndex to 0, and sends
    /// heartbeats at once.
    fn become_leader(&mut self, ctx: &mut Ctx<Self>) {
        self.role = Role::Leader;
        self.leader_hint = Some(self.id);
        let last = self.last_log_index();
        let n = self.nodes as usize;
        self.next_index.clear();
        self.next_index.resize(n, last + 1);
        self.match_index.clear();
        self.match_index.resize(n, 0);
        for v in [&mut self.probing, &mut self.probe_sent, &mut self.progressed, &mut self.active] {
            v.clear();
            v.resize(n, false);
        }
        self.probing.iter_mut().for_each(|p| *p = true);
        if let Some(m) = self.match_index.get_mut(self.id as usize) {
            *m = last;
        }
        self.pending.clear();
        self.batch = None;
        self.change = None;
        ctx.note(RaftNote::BecameLeader { term: self.term });
        ctx.cancel_timer(RaftTimer::Election);
        self.election_armed_at = None;
        if self.nodes > 1 {
            for p in self.targets().iter() {
                self.send_append(p, true, ctx);
            }
            self.heartbeating = true;
            ctx.set_timer(RaftTimer::Heartbeat, self.config.heartbeat);
            if self.config.check_quorum {
                ctx.set_timer(RaftTimer::CheckQuorum, self.config.election_timeout_max);
            }
        }
        self.advance_commit(ctx);
    }

    /// Sends follower `p` an AppendEntries from its nextIndex, or the
    /// snapshot if that entry was compacted (§7). Without `force`, nothing
    /// is sent if there are no new entries or a probe is already out. While
    /// replicating, nextIndex moves past the entries sent (pipelining);
    /// while probing it stays until the answer.
    fn send_append(&mut self, p: NodeId, force: bool, ctx: &mut Ctx<Self>) {
        let k = p as usize;
        if k >= self.next_index.len() || p == self.id || self.role != Role::Leader {
            return;
        }
        if self.probing[k] && self.probe_sent[k] && !force {
            return;
        }
        let last = self.last_log_index();
        let next = self.next_index[k].clamp(1, last + 1);
        if next <= self.snapshot.index() {
            // §7: "the leader must occasionally send snapshots to followers
            // that lag behind". It waits for the answer as for a probe.
            self.probing[k] = true;
            self.probe_sent[k] = true;
            ctx.send(p, RaftMsg::InstallSnapshot { term: self.term, snapshot: self.snapshot });
            return;
        }
        let prev = next - 1;
        let end = prev.saturating_add(self.config.max_batch).min(last);
        if end == prev && !force {
            return;
        }
        let entries = self.batch_of(next, end);
        let msg = RaftMsg::AppendEntries {
            term: self.term,
            prev_log_index: prev,
            prev_log_term: self.term_at(prev).unwrap_or(0),
            entries,
            leader_commit: self.commit_index,
        };
        ctx.send(p, msg);
        if self.probing[k] {
            self.probe_sent[k] = true;
        } else {
            self.next_index[k] = end + 1;
        }
    }

    /// Entries `from..=to` (all in the log) as a shared slice, reusing the
    /// last batch when several followers are at the same place.
    fn batch_of(&mut self, from: u64, to: u64) -> Arc<[Entry]> {
        if to < from {
            return self.empty.clone();
        }
        if let Some((f, t, b)) = &self.batch {
            if *f == from && *t == to {
                return b.clone();
            }
        }
        let base = self.snapshot.index();
        let b: Arc<[Entry]> = Arc::from(&self.log[(from - base - 1) as usize..(to - base) as usize]);
        self.batch = Some((from, to, b.clone()));
        b
    }

    /// A heartbeat round (§5.2): every follower hears from the leader. A
    /// follower being probed gets the probe again; a pipelined follower
    /// that acknowledged nothing for a whole interval is probed again from
    /// matchIndex + 1 (its messages may be lost); the others get an
    /// AppendEntries without entries anchored at their matchIndex, which
    /// always matches and carries the commit index. A follower whose
    /// matchIndex was compacted away is probed (it gets the snapshot).
    fn heartbeat(&mut self, ctx: &mut Ctx<Self>) {
        for p in self.targets().iter() {
            let k = p as usize;
            if k >= self.next_index.len() {
                continue;
            }
            let outstanding = self.next_index[k] > self.match_index[k] + 1;
            let compacted = self.match_index[k] < self.snapshot.index();
            if !self.probing[k] && ((outstanding && !self.progressed[k]) || compacted) {
                self.probing[k] = true;
                self.next_index[k] = self.match_index[k] + 1;
            }
            self.progressed[k] = false;
            if self.probing[k] {
                self.probe_sent[k] = false;
                self.send_append(p, true, ctx);
            } else {
                let prev = self.match_index[k];
                let msg = RaftMsg::AppendEntries {
                    term: self.term,
                    prev_log_index: prev,
                    prev_log_term: self.term_at(prev).unwrap_or(0),
                    entries: self.empty.clone(),
                    leader_commit: self.commit_index,
                };
                ctx.send(p, msg);
            }
        }
        self.advance_change(ctx);
    }

    /// §5.3, §5.4.2: the commit index moves to the highest index stored on a
    /// majority of the configuration in force (the leader counts itself if
    /// it is a member), but only if that entry is of the leader's current
    /// term; earlier entries then commit with it.
    fn advance_commit(&mut self, ctx: &mut Ctx<Self>) {
        if self.role != Role::Leader {
            return;
        }
        let last = self.last_log_index();
        self.scratch.clear();
        for m in self.members.iter() {
            let v = if m == self.id { last } else { self.match_index.get(m as usize).copied().unwrap_or(0) };
            self.scratch.push(v);
        }
        self.scratch.sort_unstable();
        let majority = self.majority() as usize;
        let Some(&n) = self.scratch.len().checked_sub(majority).and_then(|i| self.scratch.get(i)) else {
            return;
        };
        let current_term = self.term_at(n) == Some(self.term);
        if n > self.commit_index && (current_term || self.config.bug_commit_old_terms) {
            self.commit_to(n, ctx);
            while let Some(&(index, req)) = self.pending.front() {
                if index > n {
                    break;
                }
                self.pending.pop_front();
                ctx.reply(req, Reply::Committed);
            }
            // Thesis §4.2.2: a leader removed from the configuration steps
            // down once that configuration is committed.
            if !self.members.contains(self.id) && self.members_index <= self.commit_index {
                self.become_follower(ctx, self.term, None, REASON_REMOVED);
                return;
            }
            self.advance_change(ctx);
        }
    }

    /// Raises the commit index to `index` and applies the entries up to it.
    fn commit_to(&mut self, index: u64, ctx: &mut Ctx<Self>) {
        self.commit_index = index;
        ctx.note(RaftNote::Committed { index });
        while self.state.applied < index {
            let Some(e) = self.entry(self.state.applied + 1).copied() else { break };
            self.state.apply(&e);
        }
    }

    /// §7: when the log holds more than `snapshot_every` entries, snapshot
    /// the state machine and discard the prefix it covers. The snapshot
    /// stops `snapshot_every / 2` entries short of the last applied one, so
    /// followers a little behind (the slower half of a large cluster, a
    /// pipelined batch in flight) still find their next entries in the log
    /// rather than needing InstallSnapshot (etcd keeps such a tail too).
    /// Run at the start of a handler, so the entries being compacted were
    /// applied (and seen applied) in an earlier step.
    fn maybe_compact(&mut self, ctx: &mut Ctx<Self>) {
        let every = self.config.snapshot_every;
        let base = self.snapshot.index();
        if every == 0 || (self.log.len() as u64) <= every {
            return;
        }
        let upto = self.state.applied.saturating_sub(every / 2);
        if upto <= base {
            return;
        }
        let drop = (upto - base) as usize;
        let mut state = self.snapshot.state;
        for e in &self.log[..drop] {
            state.apply(e);
        }
        let (config, config_index) = self.latest_config(upto);
        let config = (config_index > 0 || self.snapshot.config.is_some()).then_some(config);
        self.snapshot = Snapshot { state, config, config_index };
        self.log.drain(..drop);
        ctx.note(RaftNote::Snapshotted { index: upto, term: state.term });
    }

    /// Appends one entry of the leader's term, noting it.
    fn leader_append(&mut self, entry: Entry, ctx: &mut Ctx<Self>) -> u64 {
        self.log.push(entry);
        let index = self.last_log_index();
        ctx.note(RaftNote::Appended { from: index, to: index });
        if let Some(m) = self.match_index.get_mut(self.id as usize) {
            *m = index;
        }
        index
    }

    // ----- membership changes (thesis §4) -----

    /// An operator asks this server to add or remove a server (thesis §4.1,
    /// AddServer and RemoveServer). Only a leader acts; it refuses (with a
    /// note) while another change is in flight.
    pub fn change_membership(&mut self, change: MemberChange, ctx: &mut Ctx<Self>) {
        self.maybe_compact(ctx);
        let (id, add) = match change {
            MemberChange::Add(id) => (id, true),
            MemberChange::Remove(id) => (id, false),
        };
        let refuse = |ctx: &mut Ctx<Self>, reason| ctx.note(RaftNote::ChangeRefused { id, reason });
        if self.role != Role::Leader {
            return refuse(ctx, "only a leader changes the configuration");
        }
        if id >= self.nodes || id >= Members::CAPACITY {
            return refuse(ctx, "no such server");
        }
        if self.change.is_some() || self.members_index > self.commit_index {
            return refuse(ctx, "another change is in flight");
        }
        if add == self.members.contains(id) {
            return refuse(ctx, if add { "already a member" } else { "not a member" });
        }
        if !add && self.members.len() == 1 {
            return refuse(ctx, "the last member cannot be removed");
        }
        let last = self.last_log_index();
        self.change = Some(PendingChange { id, add, ready: !add, round_end: last, round_start: ctx.now, rounds: 1 });
        if add {
            // Thesis §4.2.1: replicate to it as a non-voting learner first.
            ctx.note(RaftNote::CatchingUp { id });
            let k = id as usize;
            self.next_index[k] = last + 1;
            self.match_index[k] = 0;
            self.probing[k] = true;
            self.probe_sent[k] = false;
            self.progressed[k] = false;
            if !self.heartbeating {
                self.heartbeating = true;
                ctx.set_timer(RaftTimer::Heartbeat, self.config.heartbeat);
            }
            self.send_append(id, true, ctx);
        }
        self.advance_change(ctx);
    }

    /// Moves a pending change on: counts the learner's catch-up rounds
    /// (thesis §4.2.1: a round replicates everything the leader held when
    /// it began; when a round takes less than an election timeout the
    /// learner is caught up), then appends the configuration once the
    /// previous one is committed and the leader has committed an entry of
    /// its term (a no-op if needed).
    fn advance_change(&mut self, ctx: &mut Ctx<Self>) {
        if self.role != Role::Leader {
            return;
        }
        let Some(mut c) = self.change else { return };
        if !c.ready {
            let matched = self.match_index.get(c.id as usize).copied().unwrap_or(0);
            let took = ctx.now.saturating_sub(c.round_start);
            if matched < c.round_end {
                if took > 10 * self.config.election_timeout_max {
                    self.change = None;
                    ctx.note(RaftNote::ChangeRefused { id: c.id, reason: "the new server did not catch up" });
                }
                return;
            }
            if took < self.config.election_timeout_min {
                c.ready = true;
            } else if c.rounds >= CATCH_UP_ROUNDS {
                self.change = None;
                ctx.note(RaftNote::ChangeRefused { id: c.id, reason: "the new server is too slow to catch up" });
                return;
            } else {
                c.rounds += 1;
                c.round_end = self.last_log_index();
                c.round_start = ctx.now;
            }
            self.change = Some(c);
            if !c.ready {
                return;
            }
        }
        if self.members_index > self.commit_index {
            return; // the previous change is not committed yet
        }
        if self.term_at(self.commit_index) != Some(self.term) {
            // Nothing of this term committed yet: a no-op, once.
            let has_noop =
                self.log.iter().rev().take_while(|e| e.term == self.term).any(|e| e.command == 0 && e.config.is_none());
            if !has_noop {
                self.leader_append(Entry { term: self.term, command: 0, config: None }, ctx);
                for p in self.targets().iter() {
                    self.send_append(p, false, ctx);
                }
                self.advance_commit(ctx);
            }
            return;
        }
        self.change = None;
        let members = if c.add { self.members.with(c.id) } else { self.members.without(c.id) };
        self.leader_append(Entry { term: self.term, command: 0, config: Some(members) }, ctx);
        // Thesis §4.1: the new configuration takes effect on append.
        self.refresh_config(ctx);
        for p in self.targets().iter() {
            self.send_append(p, false, ctx);
        }
        self.advance_commit(ctx);
    }

    // ----- message handlers -----

    /// RequestVote (Figure 2, §5.2, §5.4.1): grant if the term is current,
    /// no other vote was cast in it, and the candidate's log is at least as
    /// up-to-date. Granting resets the election timer.
    fn handle_request_vote(
        &mut self,
        from: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        ctx: &mut Ctx<Self>,
    ) {
        let granted = term == self.term
            && self.voted_for.is_none_or(|v| v == from)
            && self.log_is_up_to_date(last_log_term, last_log_index);
        if granted {
            self.voted_for = Some(from);
            self.arm_election_timer(ctx);
        }
        ctx.send(from, RaftMsg::RequestVoteReply { term: self.term, granted, pre_vote: false });
    }

    /// Whether this server has heard from a current leader within the
    /// minimum election timeout (or leads itself).
    fn leader_recently_heard(&self, now: Time) -> bool {
        self.role == Role::Leader
            || self.last_leader_contact.is_some_and(|t| now.saturating_sub(t) < self.config.election_timeout_min)
    }

    /// Pre-Vote (thesis §9.6): grant if the proposed term is later than ours,
    /// the candidate's log is up-to-date, and we have not heard from a
    /// leader within the minimum election timeout. Nothing changes here.
    fn handle_pre_vote(
        &mut self,
        from: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        ctx: &mut Ctx<Self>,
    ) {
        let recent =
            self.last_leader_contact.is_some_and(|t| ctx.now.saturating_sub(t) < self.config.election_timeout_min);
        let leader_alive =
            self.role == Role::Leader || (self.leader_hint.is_some() && self.leader_hint != Some(from) && recent);
        let granted = term > self.term && !leader_alive && self.log_is_up_to_date(last_log_term, last_log_index);
        let reply_term = if granted { term } else { self.term };
        ctx.send(from, RaftMsg::RequestVoteReply { term: reply_term, granted, pre_vote: true });
    }

    fn handle_vote_reply(&mut self, from: NodeId, term: u64, granted: bool, pre_vote: bool, ctx: &mut Ctx<Self>) {
        let current = if pre_vote {
            self.role == Role::PreCandidate && term == self.term.saturating_add(1)
        } else {
            self.role == Role::Candidate && term == self.term
        };
        // Only members of the candidate's configuration count (thesis §4.1).
        if !current || !granted || !self.members.contains(from) {
            return;
        }
        let Some(v) = self.votes.get_mut(from as usize) else {
            return;
        };
        if *v {
            return; // a duplicate
        }
        *v = true;
        self.votes_granted += 1;
        if self.votes_granted >= self.majority() {
            if pre_vote {
                self.start_election(ctx);
            } else {
                self.become_leader(ctx);
            }
        }
    }

    /// Recognises `from` as the leader of the current term (§5.2): a
    /// candidate steps back, and the election timer restarts.
    fn heard_from_leader(&mut self, from: NodeId, term: u64, ctx: &mut Ctx<Self>) {
        if self.role != Role::Follower {
            self.become_follower(ctx, term, Some(from), REASON_HIGHER_TERM);
        }
        self.leader_hint = Some(from);
        self.last_leader_contact = Some(ctx.now);
        self.reset_election_timer(ctx);
    }

    /// AppendEntries (Figure 2, §5.3): refuse a stale term; otherwise
    /// recognise the leader, check that our log has `prev_log_index` with
    /// `prev_log_term` (refusing with a conflict hint if not), delete any
    /// conflicting suffix, append what is new, and advance the commit index
    /// to `min(leader_commit, index of last new entry)`. Entries at or below
    /// our snapshot are committed here already and are skipped (§7).
    #[allow(clippy::too_many_arguments)]
    fn handle_append(
        &mut self,
        from: NodeId,
        term: u64,
        prev_log_index: u64,
        prev_log_term: u64,
        entries: &[Entry],
        leader_commit: u64,
        ctx: &mut Ctx<Self>,
    ) {
        let heartbeat = entries.is_empty();
        let refuse = |me: &Self, ctx: &mut Ctx<Self>, conflict_index: u64, conflict_term: Option<u64>| {
            ctx.send(
                from,
                RaftMsg::AppendEntriesReply {
                    term: me.term,
                    success: false,
                    index: prev_log_index,
                    conflict_index,
                    conflict_term,
                    heartbeat,
                },
            );
        };
        if term < self.term {
            refuse(self, ctx, 0, None);
            return;
        }
        if self.role == Role::Leader {
            // Two leaders in one term: Election Safety says this cannot
            // happen; the checker reports it. Do not touch the log.
            return;
        }
        self.heard_from_leader(from, term, ctx);

        let matched = prev_log_index.saturating_add(entries.len() as u64);
        let base = self.snapshot.index();
        let (prev, entries) = if prev_log_index < base {
            // §7: the snapshot covers the start; what it covers is
            // committed and matches the leader's log.
            let skip = (base - prev_log_index).min(entries.len() as u64) as usize;
            (prev_log_index + skip as u64, &entries[skip..])
        } else {
            (prev_log_index, entries)
        };
        if prev >= base {
            let last = self.last_log_index();
            if prev > last {
                refuse(self, ctx, last + 1, None);
                return;
            }
            let expected = if prev == prev_log_index { prev_log_term } else { self.snapshot.term() };
            match self.term_at(prev) {
                Some(t) if t != expected => {
                    // Fast backup: point at the first entry of the
                    // conflicting term, so the leader can skip the whole
                    // term at once.
                    let first = base + self.log.partition_point(|e| e.term < t) as u64 + 1;
                    refuse(self, ctx, first.min(prev_log_index), Some(t));
                    return;
                }
                _ => {}
            }

            // Skip entries we already have; cut at the first conflict.
            let mut index = prev;
            let mut skip = 0;
            let mut cut = false;
            for e in entries {
                match self.entry(index + 1) {
                    Some(mine) if mine.term == e.term => {
                        index += 1;
                        skip += 1;
                    }
                    Some(_) => {
                        self.log.truncate((index - base) as usize);
                        ctx.note(RaftNote::Truncated { from: index + 1 });
                        cut = true;
                        break;
                    }
                    None => break,
                }
            }
            let grew = skip < entries.len();
            if grew {
                let from_index = self.last_log_index() + 1;
                self.log.extend_from_slice(&entries[skip..]);
                ctx.note(RaftNote::Appended { from: from_index, to: self.last_log_index() });
            }
            if cut || (grew && entries[skip..].iter().any(|e| e.config.is_some())) {
                self.refresh_config(ctx);
            }
        }
        if leader_commit > self.commit_index {
            let c = leader_commit.min(matched);
            if c > self.commit_index {
                self.commit_to(c, ctx);
            }
        }
        ctx.send(
            from,
            RaftMsg::AppendEntriesReply {
                term: self.term,
                success: true,
                index: matched,
                conflict_index: 0,
                conflict_term: None,
                heartbeat,
            },
        );
    }

    /// InstallSnapshot (§7, Figure 13): refuse a stale term; a snapshot that
    /// adds nothing to what is committed here is only acknowledged; if the
    /// log holds the snapshot's last entry, the entries after it are kept
    /// (step 6); otherwise the whole log is discarded (step 7). The state
    /// machine and configuration are then the snapshot's (step 8).
    fn handle_install_snapshot(&mut self, from: NodeId, term: u64, snap: Snapshot, ctx: &mut Ctx<Self>) {
        if term < self.term {
            ctx.send(from, RaftMsg::InstallSnapshotReply { term: self.term, index: 0 });
            return;
        }
        if self.role == Role::Leader {
            return; // two leaders in one term: the checker reports it
        }
        self.heard_from_leader(from, term, ctx);
        let index = snap.index();
        if index > self.commit_index {
            let retained = self.term_at(index) == Some(snap.term());
            if retained {
                let drop = (index - self.snapshot.index()) as usize;
                self.log.drain(..drop);
            } else {
                self.log.clear();
            }
            self.snapshot = snap;
            self.state = snap.state;
            self.commit_index = index;
            ctx.note(RaftNote::InstalledSnapshot { index, term: snap.term(), retained });
            self.refresh_config(ctx);
        }
        ctx.send(from, RaftMsg::InstallSnapshotReply { term: self.term, index });
    }

    /// The answer to InstallSnapshot: the follower now matches up to the
    /// snapshot's last index; replicate what follows.
    fn handle_install_reply(&mut self, from: NodeId, term: u64, index: u64, ctx: &mut Ctx<Self>) {
        let k = from as usize;
        if self.role != Role::Leader || term != self.term || k >= self.next_index.len() || from == self.id {
            return;
        }
        self.active[k] = true;
        if index == 0 {
            return;
        }
        let index = index.min(self.last_log_index());
        self.probe_sent[k] = false;
        self.probing[k] = false;
        if index > self.match_index[k] {
            self.match_index[k] = index;
            self.progressed[k] = true;
        }
        if self.next_index[k] <= self.match_index[k] {
            self.next_index[k] = self.match_index[k] + 1;
        }
        self.advance_commit(ctx);
        self.advance_change(ctx);
        if self.next_index[k] <= self.last_log_index() && self.targets().contains(from) {
            self.send_append(from, false, ctx);
        }
    }

    /// A follower's answer to AppendEntries (§5.3): on success, advance
    /// matchIndex and maybe the commit index, and send what is still
    /// missing; on failure, move nextIndex back using the conflict hint and
    /// probe again.
    #[allow(clippy::too_many_arguments)]
    fn handle_append_reply(
        &mut self,
        from: NodeId,
        term: u64,
        success: bool,
        index: u64,
        conflict_index: u64,
        conflict_term: Option<u64>,
        ctx: &mut Ctx<Self>,
    ) {
        let k = from as usize;
        if self.role != Role::Leader || term != self.term || k >= self.next_index.len() || from == self.id {
            return;
        }
        self.active[k] = true;
        let last = self.last_log_index();
        if success {
            self.probe_sent[k] = false;
            self.probing[k] = false;
            let index = index.min(last);
            let advanced = index > self.match_index[k];
            if advanced {
                self.match_index[k] = index;
                self.progressed[k] = true;
            }
            if self.next_index[k] <= self.match_index[k] {
                self.next_index[k] = self.match_index[k] + 1;
            }
            if advanced {
                self.advance_commit(ctx);
                self.advance_change(ctx);
            }
            if self.next_index[k] <= self.last_log_index() && self.targets().contains(from) {
                self.send_append(from, false, ctx);
            }
            return;
        }
        // A refusal below what the follower is known to match, or of a
        // probe we have since moved on from, is stale. (A refusal *at*
        // matchIndex means later pipelined entries arrived before the one
        // they follow: send them again from there.)
        if index < self.match_index[k] || (self.probing[k] && Some(index) != self.next_index[k].checked_sub(1)) {
            return;
        }
        let hinted = match conflict_term {
            Some(t) => {
                // The entry after our last entry of term `t`, if we have that
                // term; otherwise the follower's first index of it.
                let end = self.snapshot.index() + self.log.partition_point(|e| e.term <= t) as u64;
                if end > self.snapshot.index() && self.term_at(end) == Some(t) {
                    end + 1
                } else {
                    conflict_index
                }
            }
            None => conflict_index,
        };
        let floor = self.match_index[k] + 1;
        self.next_index[k] = hinted.min(index).max(floor);
        self.probing[k] = true;
        self.probe_sent[k] = false;
        if self.targets().contains(from) {
            self.send_append(from, true, ctx);
        }
    }

    /// CheckQuorum (thesis §6.2): a leader that has not heard from a
    /// majority of its configuration (itself included if a member) since
    /// the last check steps down.
    fn check_quorum(&mut self, ctx: &mut Ctx<Self>) {
        let heard = u32::from(self.members.contains(self.id))
            + self
                .members
                .iter()
                .filter(|&i| i != self.id && self.active.get(i as usize).copied().unwrap_or(false))
                .count() as u32;
        if heard < self.majority() {
            self.become_follower(ctx, self.term, None, REASON_QUORUM);
        } else {
            self.active.iter_mut().for_each(|a| *a = false);
            ctx.set_timer(RaftTimer::CheckQuorum, self.config.election_timeout_max);
        }
    }
}

impl Protocol for RaftNode {
    type Msg = RaftMsg;
    type Timer = RaftTimer;
    type Note = RaftNote;
    type Durable = RaftDurable;
    type Config = RaftConfig;

    fn new(id: NodeId, nodes: u32, config: &RaftConfig) -> Self {
        RaftNode::build(id, nodes, config, RaftDurable::default())
    }

    fn recover(id: NodeId, nodes: u32, config: &RaftConfig, durable: RaftDurable) -> Self {
        RaftNode::build(id, nodes, config, durable)
    }

    fn durable(&self) -> RaftDurable {
        RaftDurable { term: self.term, voted_for: self.voted_for, log: self.log.clone(), snapshot: self.snapshot }
    }

    /// Every server starts (and restarts) as a follower with a fresh,
    /// randomized election timer (§5.2); a server outside its configuration
    /// (a spare, or one that knows it was removed) waits to be contacted.
    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        if self.may_campaign() {
            self.arm_election_timer(ctx);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: RaftMsg, ctx: &mut Ctx<Self>) {
        if from == self.id || from >= self.nodes {
            return;
        }
        self.maybe_compact(ctx);
        // Thesis §4.2.3: while a leader is heard from, RequestVote is
        // ignored: no new term, no vote.
        if self.config.vote_guard
            && matches!(msg, RaftMsg::RequestVote { pre_vote: false, .. })
            && self.leader_recently_heard(ctx.now)
        {
            return;
        }
        // Figure 2, all servers: a later term makes us a follower of it.
        // Pre-votes and granted pre-vote replies carry a proposed term and
        // change nothing.
        let proposes = matches!(
            msg,
            RaftMsg::RequestVote { pre_vote: true, .. }
                | RaftMsg::RequestVoteReply { pre_vote: true, granted: true, .. }
        );
        if !proposes && msg.term() > self.term {
            let leader = matches!(msg, RaftMsg::AppendEntries { .. } | RaftMsg::InstallSnapshot { .. }).then_some(from);
            self.become_follower(ctx, msg.term(), leader, REASON_HIGHER_TERM);
        }
        match msg {
            RaftMsg::RequestVote { term, last_log_index, last_log_term, pre_vote: false } => {
                self.handle_request_vote(from, term, last_log_index, last_log_term, ctx)
            }
            RaftMsg::RequestVote { term, last_log_index, last_log_term, pre_vote: true } => {
                self.handle_pre_vote(from, term, last_log_index, last_log_term, ctx)
            }
            RaftMsg::RequestVoteReply { term, granted, pre_vote } => {
                self.handle_vote_reply(from, term, granted, pre_vote, ctx)
            }
            RaftMsg::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
                self.handle_append(from, term, prev_log_index, prev_log_term, &entries, leader_commit, ctx)
            }
            RaftMsg::AppendEntriesReply { term, success, index, conflict_index, conflict_term, .. } => {
                self.handle_append_reply(from, term, success, index, conflict_index, conflict_term, ctx)
            }
            RaftMsg::InstallSnapshot { term, snapshot } => self.handle_install_snapshot(from, term, snapshot, ctx),
            RaftMsg::InstallSnapshotReply { term, index } => self.handle_install_reply(from, term, index, ctx),
        }
    }

    fn on_timer(&mut self, timer: RaftTimer, ctx: &mut Ctx<Self>) {
        self.maybe_compact(ctx);
        match timer {
            RaftTimer::Election if self.role != Role::Leader => self.campaign(ctx),
            RaftTimer::Heartbeat if self.role == Role::Leader => {
                self.heartbeat(ctx);
                if self.role == Role::Leader {
                    ctx.set_timer(RaftTimer::Heartbeat, self.config.heartbeat);
                }
            }
            RaftTimer::CheckQuorum if self.role == Role::Leader => self.check_quorum(ctx),
            _ => {} // a timer left over from an earlier role
        }
    }

    /// §5.3, §8: the leader appends the command and replies once it
    /// commits; anyone else points the client at the leader it knows. A
    /// leader with too many uncommitted entries (cut off from its majority)
    /// turns new commands away.
    fn on_request(&mut self, req: RequestId, ctx: &mut Ctx<Self>) {
        self.maybe_compact(ctx);
        if self.role != Role::Leader {
            ctx.reply(req, Reply::NotLeader(self.leader_hint));
            return;
        }
        if self.pending.iter().any(|&(_, r)| r == req) {
            return; // a retry of a request already in the log
        }
        if self.last_log_index() - self.commit_index >= self.config.max_uncommitted {
            ctx.reply(req, Reply::NotLeader(None));
            return;
        }
        let index = self.leader_append(Entry::new(self.term, req), ctx);
        self.pending.push_back((index, req));
        for p in self.targets().iter() {
            self.send_append(p, false, ctx);
        }
        self.advance_commit(ctx);
    }

    /// The user's "time out now": start an election (or a Pre-Vote round)
    /// at once. A leader gives up its leadership to do so.
    fn on_force_timeout(&mut self, ctx: &mut Ctx<Self>) {
        self.maybe_compact(ctx);
        if self.role == Role::Leader {
            self.become_follower(ctx, self.term, None, REASON_FORCED);
        }
        self.campaign(ctx);
    }

    fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.log.capacity() * size_of::<Entry>()
            + self.pending.capacity() * size_of::<(u64, RequestId)>()
            + (self.next_index.capacity() + self.match_index.capacity() + self.scratch.capacity()) * 8
            + self.batch.as_ref().map_or(0, |(_, _, b)| b.len() * size_of::<Entry>())
            + 6 * self.votes.capacity()
    }
}
