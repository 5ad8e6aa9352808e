//! One Raft server as a pure state machine: Figure 2 of the paper, plus
//! the two optional liveness aids of Ongaro's thesis (Pre-Vote, §9.6, and
//! CheckQuorum, §6.2).
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
//! Persistence: `currentTerm`, `votedFor` and `log[]` are the durable part
//! ([`RaftDurable`]); a handler's writes are on disk before its messages
//! leave (see [`crate::sim::protocol`]). Everything else is volatile and is
//! rebuilt after a restart.

use crate::sim::{Ctx, Fingerprint, NodeId, Observable, Protocol, Reply, RequestId, Time, MS, SEC};
use std::collections::VecDeque;
use std::sync::Arc;

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
        }
    }
}

impl RaftConfig {
    /// The configuration with every value brought into a range the node can
    /// run with: timers at least 1 µs and at most a year (a zero heartbeat
    /// would fire forever at one instant), `max >= min`, batches of at
    /// least one entry.
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
        }
    }
}

/// One log entry: the term in which a leader created it and the client
/// command it carries. Log indexes are 1-based, as in the paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Term of the leader that created the entry.
    pub term: u64,
    /// The client command (the request's id).
    pub command: RequestId,
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

/// Messages between Raft servers (Figure 2's two RPCs, their replies, and
/// Pre-Vote as a flagged RequestVote).
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
}

impl RaftMsg {
    /// The term the message carries.
    pub fn term(&self) -> u64 {
        match self {
            RaftMsg::RequestVote { term, .. }
            | RaftMsg::RequestVoteReply { term, .. }
            | RaftMsg::AppendEntries { term, .. }
            | RaftMsg::AppendEntriesReply { term, .. } => *term,
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
        })();
    }

    fn kind(&self) -> &'static str {
        match self {
            RaftMsg::RequestVote {
                pre_vote: false, ..
            } => "RequestVote",
            RaftMsg::RequestVote { pre_vote: true, .. } => "PreVote",
            RaftMsg::RequestVoteReply {
                pre_vote: false, ..
            } => "RequestVoteReply",
            RaftMsg::RequestVoteReply { pre_vote: true, .. } => "PreVoteReply",
            RaftMsg::AppendEntries { entries, .. } if entries.is_empty() => "Heartbeat",
            RaftMsg::AppendEntries { .. } => "AppendEntries",
            RaftMsg::AppendEntriesReply {
                heartbeat: true, ..
            } => "HeartbeatReply",
            RaftMsg::AppendEntriesReply { .. } => "AppendEntriesReply",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            RaftMsg::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote,
            } => {
                fp.u64(1);
                fp.u64(*term);
                fp.u64(*last_log_index);
                fp.u64(*last_log_term);
                fp.u64(u64::from(*pre_vote));
            }
            RaftMsg::RequestVoteReply {
                term,
                granted,
                pre_vote,
            } => {
                fp.u64(2);
                fp.u64(*term);
                fp.u64(u64::from(*granted));
                fp.u64(u64::from(*pre_vote));
            }
            RaftMsg::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => {
                fp.u64(3);
                fp.u64(*term);
                fp.u64(*prev_log_index);
                fp.u64(*prev_log_term);
                fp.u64(*leader_commit);
                fp.u64(entries.len() as u64);
                for e in entries.iter() {
                    fp.u64(e.term);
                    fp.u64(e.command);
                }
            }
            RaftMsg::AppendEntriesReply {
                term,
                success,
                index,
                conflict_index,
                conflict_term,
                heartbeat,
            } => {
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
    /// The commit index advanced to `index`.
    Committed { index: u64 },
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
        }
    }
}

/// What a server keeps on stable storage (Figure 2, "persistent state").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaftDurable {
    /// Latest term the server has seen.
    pub term: u64,
    /// The candidate it voted for in `term`, if any.
    pub voted_for: Option<NodeId>,
    /// The log (index 1 is `log[0]`).
    pub log: Vec<Entry>,
}

/// Why a leader stepped down.
const REASON_HIGHER_TERM: &str = "saw a higher term";
const REASON_QUORUM: &str = "lost contact with a majority";
const REASON_FORCED: &str = "forced election timeout";

/// One Raft server.
#[derive(Clone, Debug)]
pub struct RaftNode {
    id: NodeId,
    nodes: u32,
    config: RaftConfig,

    // Persistent state (Figure 2).
    term: u64,
    voted_for: Option<NodeId>,
    log: Vec<Entry>,

    // Volatile state on all servers.
    role: Role,
    commit_index: u64,
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
}

impl RaftNode {
    fn build(id: NodeId, nodes: u32, config: &RaftConfig, durable: RaftDurable) -> RaftNode {
        let n = nodes as usize;
        RaftNode {
            id,
            nodes,
            config: config.sanitized(),
            term: durable.term,
            voted_for: durable.voted_for,
            log: durable.log,
            role: Role::Follower,
            commit_index: 0,
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
        }
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
    /// The current term.
    pub fn term(&self) -> u64 {
        self.term
    }
    /// Whom this server voted for in the current term.
    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }
    /// The log; entry `i` (1-based) is `log()[i - 1]`.
    pub fn log(&self) -> &[Entry] {
        &self.log
    }
    /// Index of the last log entry (0 if the log is empty).
    pub fn last_log_index(&self) -> u64 {
        self.log.len() as u64
    }
    /// Term of the last log entry (0 if the log is empty).
    pub fn last_log_term(&self) -> u64 {
        self.log.last().map_or(0, |e| e.term)
    }
    /// Highest index known to be committed.
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

    // ----- helpers -----

    fn majority(&self) -> u32 {
        self.nodes / 2 + 1
    }

    /// The entry at 1-based `index`, if the log has it.
    fn entry(&self, index: u64) -> Option<&Entry> {
        let k = usize::try_from(index.checked_sub(1)?).ok()?;
        self.log.get(k)
    }

    /// The term of the entry at `index`; index 0 (before the log) has term 0.
    fn term_at(&self, index: u64) -> Option<u64> {
        if index == 0 {
            Some(0)
        } else {
            self.entry(index).map(|e| e.term)
        }
    }

    /// §5.4.1: a candidate's log is at least as up-to-date as ours if its
    /// last term is later, or the same with an index at least as large.
    fn log_is_up_to_date(&self, last_log_term: u64, last_log_index: u64) -> bool {
        let (t, i) = (self.last_log_term(), self.last_log_index());
        last_log_term > t || (last_log_term == t && last_log_index >= i)
    }

    fn arm_election_timer(&mut self, ctx: &mut Ctx<Self>) {
        let after = ctx.rng.range(
            self.config.election_timeout_min,
            self.config.election_timeout_max,
        );
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
        let recent = self
            .election_armed_at
            .is_some_and(|t| ctx.now.saturating_sub(t) < self.config.election_timeout_min / 8);
        if !recent {
            self.arm_election_timer(ctx);
        }
    }

    fn reset_votes(&mut self) {
        self.votes.iter_mut().for_each(|v| *v = false);
        self.votes_granted = 1;
        if let Some(v) = self.votes.get_mut(self.id as usize) {
            *v = true;
        }
    }

    /// Gives up leadership (if held) and becomes a follower of `term`
    /// (Figure 2, "All servers"). A new term clears the vote.
    fn become_follower(
        &mut self,
        ctx: &mut Ctx<Self>,
        term: u64,
        leader: Option<NodeId>,
        reason: &'static str,
    ) {
        let was = self.role;
        let new_term = term > self.term;
        if new_term {
            self.term = term;
            self.voted_for = None;
            self.leader_hint = None;
        }
        if was == Role::Leader {
            ctx.note(RaftNote::SteppedDown {
                term: self.term,
                reason,
            });
            ctx.cancel_timer(RaftTimer::Heartbeat);
            ctx.cancel_timer(RaftTimer::CheckQuorum);
            self.leader_hint = None;
            // Requests still waiting may or may not commit under the next
            // leader; the client should ask again there.
            while let Some((_, req)) = self.pending.pop_front() {
                ctx.reply(req, Reply::NotLeader(leader));
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

    /// Starts an election, or a Pre-Vote round first if configured.
    fn campaign(&mut self, ctx: &mut Ctx<Self>) {
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

    /// Sends RequestVote (or a pre-vote) for `term` with this server's last
    /// log position, for the up-to-date check of §5.4.1.
    fn ask_for_votes(&self, term: u64, pre_vote: bool, ctx: &mut Ctx<Self>) {
        let msg = RaftMsg::RequestVote {
            term,
            last_log_index: self.last_log_index(),
            last_log_term: self.last_log_term(),
            pre_vote,
        };
        for p in ctx.peers() {
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
        for v in [
            &mut self.probing,
            &mut self.probe_sent,
            &mut self.progressed,
            &mut self.active,
        ] {
            v.clear();
            v.resize(n, false);
        }
        self.probing.iter_mut().for_each(|p| *p = true);
        if let Some(m) = self.match_index.get_mut(self.id as usize) {
            *m = last;
        }
        self.pending.clear();
        self.batch = None;
        ctx.note(RaftNote::BecameLeader { term: self.term });
        ctx.cancel_timer(RaftTimer::Election);
        self.election_armed_at = None;
        if self.nodes > 1 {
            for p in ctx.peers() {
                self.send_append(p, true, ctx);
            }
            ctx.set_timer(RaftTimer::Heartbeat, self.config.heartbeat);
            if self.config.check_quorum {
                ctx.set_timer(RaftTimer::CheckQuorum, self.config.election_timeout_max);
            }
        }
        self.advance_commit(ctx);
    }

    /// Sends follower `p` an AppendEntries from its nextIndex. Without
    /// `force`, nothing is sent if there are no new entries or a probe is
    /// already out. While replicating, nextIndex moves past the entries
    /// sent (pipelining); while probing it stays until the answer.
    fn send_append(&mut self, p: NodeId, force: bool, ctx: &mut Ctx<Self>) {
        let k = p as usize;
        if k >= self.next_index.len() || p == self.id {
            return;
        }
        if self.probing[k] && self.probe_sent[k] && !force {
            return;
        }
        let last = self.last_log_index();
        let next = self.next_index[k].clamp(1, last + 1);
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

    /// Entries `from..=to` as a shared slice, reusing the last batch when
    /// several followers are at the same place.
    fn batch_of(&mut self, from: u64, to: u64) -> Arc<[Entry]> {
        if to < from {
            return self.empty.clone();
        }
        if let Some((f, t, b)) = &self.batch {
            if *f == from && *t == to {
                return b.clone();
            }
        }
        let b: Arc<[Entry]> = Arc::from(&self.log[(from - 1) as usize..to as usize]);
        self.batch = Some((from, to, b.clone()));
        b
    }

    /// A heartbeat round (§5.2): every follower hears from the leader. A
    /// follower being probed gets the probe again; a pipelined follower
    /// that acknowledged nothing for a whole interval is probed again from
    /// matchIndex + 1 (its messages may be lost); the others get an
    /// AppendEntries without entries anchored at their matchIndex, which
    /// always matches and carries the commit index.
    fn heartbeat(&mut self, ctx: &mut Ctx<Self>) {
        for p in ctx.peers() {
            let k = p as usize;
            if k >= self.next_index.len() {
                continue;
            }
            let outstanding = self.next_index[k] > self.match_index[k] + 1;
            if !self.probing[k] && outstanding && !self.progressed[k] {
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
    }

    /// §5.3, §5.4.2: the commit index moves to the highest index stored on a
    /// majority (the leader counts itself), but only if that entry is of
    /// the leader's current term; earlier entries then commit with it.
    fn advance_commit(&mut self, ctx: &mut Ctx<Self>) {
        if self.role != Role::Leader {
            return;
        }
        let last = self.last_log_index();
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.match_index);
        if let Some(m) = self.scratch.get_mut(self.id as usize) {
            *m = last;
        }
        self.scratch.sort_unstable();
        let majority = self.majority() as usize;
        let Some(&n) = self
            .scratch
            .len()
            .checked_sub(majority)
            .and_then(|i| self.scratch.get(i))
        else {
            return;
        };
        let current_term = self.term_at(n) == Some(self.term);
        if n > self.commit_index && (current_term || self.config.bug_commit_old_terms) {
            self.commit_index = n;
            ctx.note(RaftNote::Committed { index: n });
            while let Some(&(index, req)) = self.pending.front() {
                if index > n {
                    break;
                }
                self.pending.pop_front();
                ctx.reply(req, Reply::Committed);
            }
        }
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
        ctx.send(
            from,
            RaftMsg::RequestVoteReply {
                term: self.term,
                granted,
                pre_vote: false,
            },
        );
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
        let recent = self
            .last_leader_contact
            .is_some_and(|t| ctx.now.saturating_sub(t) < self.config.election_timeout_min);
        let leader_alive = self.role == Role::Leader
            || (self.leader_hint.is_some() && self.leader_hint != Some(from) && recent);
        let granted = term > self.term
            && !leader_alive
            && self.log_is_up_to_date(last_log_term, last_log_index);
        let reply_term = if granted { term } else { self.term };
        ctx.send(
            from,
            RaftMsg::RequestVoteReply {
                term: reply_term,
                granted,
                pre_vote: true,
            },
        );
    }

    fn handle_vote_reply(
        &mut self,
        from: NodeId,
        term: u64,
        granted: bool,
        pre_vote: bool,
        ctx: &mut Ctx<Self>,
    ) {
        let current = if pre_vote {
            self.role == Role::PreCandidate && term == self.term.saturating_add(1)
        } else {
            self.role == Role::Candidate && term == self.term
        };
        if !current || !granted {
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

    /// AppendEntries (Figure 2, §5.3): refuse a stale term; otherwise
    /// recognise the leader, check that our log has `prev_log_index` with
    /// `prev_log_term` (refusing with a conflict hint if not), delete any
    /// conflicting suffix, append what is new, and advance the commit index
    /// to `min(leader_commit, index of last new entry)`.
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
        let refuse =
            |me: &Self, ctx: &mut Ctx<Self>, conflict_index: u64, conflict_term: Option<u64>| {
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
        if self.role != Role::Follower {
            self.become_follower(ctx, term, Some(from), REASON_HIGHER_TERM);
        }
        self.leader_hint = Some(from);
        self.last_leader_contact = Some(ctx.now);
        self.reset_election_timer(ctx);

        let last = self.last_log_index();
        if prev_log_index > last {
            refuse(self, ctx, last + 1, None);
            return;
        }
        match self.term_at(prev_log_index) {
            Some(t) if t != prev_log_term => {
                // Fast backup: point at the first entry of the conflicting
                // term, so the leader can skip the whole term at once.
                let first = self.log.partition_point(|e| e.term < t) as u64 + 1;
                refuse(self, ctx, first.min(prev_log_index), Some(t));
                return;
            }
            _ => {}
        }

        // Skip entries we already have; cut at the first conflict.
        let mut index = prev_log_index;
        let mut skip = 0;
        for e in entries {
            match self.entry(index + 1) {
                Some(mine) if mine.term == e.term => {
                    index += 1;
                    skip += 1;
                }
                Some(_) => {
                    self.log.truncate(index as usize);
                    ctx.note(RaftNote::Truncated { from: index + 1 });
                    break;
                }
                None => break,
            }
        }
        if skip < entries.len() {
            let from_index = self.last_log_index() + 1;
            self.log.extend_from_slice(&entries[skip..]);
            ctx.note(RaftNote::Appended {
                from: from_index,
                to: self.last_log_index(),
            });
        }
        let matched = prev_log_index + entries.len() as u64;
        if leader_commit > self.commit_index {
            let c = leader_commit.min(matched);
            if c > self.commit_index {
                self.commit_index = c;
                ctx.note(RaftNote::Committed { index: c });
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
        if self.role != Role::Leader
            || term != self.term
            || k >= self.next_index.len()
            || from == self.id
        {
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
            }
            if self.next_index[k] <= last {
                self.send_append(from, false, ctx);
            }
            return;
        }
        // A refusal below what the follower is known to match, or of a
        // probe we have since moved on from, is stale. (A refusal *at*
        // matchIndex means later pipelined entries arrived before the one
        // they follow: send them again from there.)
        if index < self.match_index[k]
            || (self.probing[k] && Some(index) != self.next_index[k].checked_sub(1))
        {
            return;
        }
        let hinted = match conflict_term {
            Some(t) => {
                // The entry after our last entry of term `t`, if we have that
                // term; otherwise the follower's first index of it.
                let end = self.log.partition_point(|e| e.term <= t) as u64;
                if end > 0 && self.term_at(end) == Some(t) {
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
        self.send_append(from, true, ctx);
    }

    /// CheckQuorum (thesis §6.2): a leader that has not heard from a
    /// majority (itself included) since the last check steps down.
    fn check_quorum(&mut self, ctx: &mut Ctx<Self>) {
        let heard = 1 + self
            .active
            .iter()
            .enumerate()
            .filter(|&(i, &a)| a && i != self.id as usize)
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
        RaftDurable {
            term: self.term,
            voted_for: self.voted_for,
            log: self.log.clone(),
        }
    }

    /// Every server starts (and restarts) as a follower with a fresh,
    /// randomized election timer (§5.2).
    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        self.arm_election_timer(ctx);
    }

    fn on_message(&mut self, from: NodeId, msg: RaftMsg, ctx: &mut Ctx<Self>) {
        if from == self.id || from >= self.nodes {
            return;
        }
        // Figure 2, all servers: a later term makes us a follower of it.
        // Pre-votes and granted pre-vote replies carry a proposed term and
        // change nothing.
        let proposes = matches!(
            msg,
            RaftMsg::RequestVote { pre_vote: true, .. }
                | RaftMsg::RequestVoteReply {
                    pre_vote: true,
                    granted: true,
                    ..
                }
        );
        if !proposes && msg.term() > self.term {
            let leader = matches!(msg, RaftMsg::AppendEntries { .. }).then_some(from);
            self.become_follower(ctx, msg.term(), leader, REASON_HIGHER_TERM);
        }
        match msg {
            RaftMsg::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote: false,
            } => self.handle_request_vote(from, term, last_log_index, last_log_term, ctx),
            RaftMsg::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote: true,
            } => self.handle_pre_vote(from, term, last_log_index, last_log_term, ctx),
            RaftMsg::RequestVoteReply {
                term,
                granted,
                pre_vote,
            } => self.handle_vote_reply(from, term, granted, pre_vote, ctx),
            RaftMsg::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => self.handle_append(
                from,
                term,
                prev_log_index,
                prev_log_term,
                &entries,
                leader_commit,
                ctx,
            ),
            RaftMsg::AppendEntriesReply {
                term,
                success,
                index,
                conflict_index,
                conflict_term,
                ..
            } => self.handle_append_reply(
                from,
                term,
                success,
                index,
                conflict_index,
                conflict_term,
                ctx,
            ),
        }
    }

    fn on_timer(&mut self, timer: RaftTimer, ctx: &mut Ctx<Self>) {
        match timer {
            RaftTimer::Election if self.role != Role::Leader => self.campaign(ctx),
            RaftTimer::Heartbeat if self.role == Role::Leader => {
                self.heartbeat(ctx);
                ctx.set_timer(RaftTimer::Heartbeat, self.config.heartbeat);
            }
            RaftTimer::CheckQuorum if self.role == Role::Leader => self.check_quorum(ctx),
            _ => {} // a timer left over from an earlier role
        }
    }

    /// §5.3, §8: the leader appends the command and replies once it
    /// commits; anyone else points the client at the leader it knows.
    fn on_request(&mut self, req: RequestId, ctx: &mut Ctx<Self>) {
        if self.role != Role::Leader {
            ctx.reply(req, Reply::NotLeader(self.leader_hint));
            return;
        }
        if self.pending.iter().any(|&(_, r)| r == req) {
            return; // a retry of a request already in the log
        }
        self.log.push(Entry {
            term: self.term,
            command: req,
        });
        let index = self.last_log_index();
        ctx.note(RaftNote::Appended {
            from: index,
            to: index,
        });
        if let Some(m) = self.match_index.get_mut(self.id as usize) {
            *m = index;
        }
        self.pending.push_back((index, req));
        for p in ctx.peers() {
            self.send_append(p, false, ctx);
        }
        self.advance_commit(ctx);
    }

    /// The user's "time out now": start an election (or a Pre-Vote round)
    /// at once. A leader gives up its leadership to do so.
    fn on_force_timeout(&mut self, ctx: &mut Ctx<Self>) {
        if self.role == Role::Leader {
            self.become_follower(ctx, self.term, None, REASON_FORCED);
        }
        self.campaign(ctx);
    }
}
