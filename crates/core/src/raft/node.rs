//! One Raft server as a pure state machine: Figure 2 of the paper, log
//! compaction with snapshots (§7, Figure 13), single-server membership
//! changes (Ongaro's thesis §4), and the optional liveness aids of the
//! thesis (Pre-Vote, §9.6; CheckQuorum, §6.2; the minimum-election-timeout
//! rule against disruptive servers, §4.2.3).
//!
//! This file holds the server ([`RaftNode`]), what it reports about itself,
//! and its entry points from the simulator ([`Protocol`]): a message, a
//! timer, a client request, an operator's "time out now". The handlers
//! follow the paper's rules in the order Figure 2 gives them:
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
//!   AppendEntries, repair followers' logs, and commit an entry once a
//!   majority stores it, but only entries of their own term (§5.4.2,
//!   Figure 8).
//!
//! The rest of the state machine is written as `impl RaftNode` blocks, one
//! file per part of the paper, so each reads on its own:
//!
//! | file | what it holds |
//! |---|---|
//! | `config.rs` | [`RaftConfig`], the parameters a cluster shares |
//! | `message.rs` | [`RaftMsg`], [`RaftTimer`], [`RaftNote`] |
//! | `trace.rs` | their one-line texts, kinds and fingerprint digests |
//! | `log.rs` | [`Entry`], [`StateMachine`], [`Snapshot`], applying and compaction (§7) |
//! | `election.rs` | timeouts, votes, Pre-Vote, CheckQuorum, stepping down (§5.2) |
//! | `replication.rs` | AppendEntries and the commit rule (§5.3, §5.4.2) |
//! | `tracker.rs` | the leader's view of each follower's progress |
//! | `membership.rs` | [`Members`], adding and removing servers (thesis §4) |
//!
//! Persistence: `currentTerm`, `votedFor`, `log[]` and the snapshot are the
//! durable part ([`RaftDurable`]); a handler's writes are on disk before its
//! messages leave (see [`crate::sim::protocol`]). Everything else is
//! volatile and is rebuilt after a restart, the state machine from the
//! snapshot.

use super::election::{REASON_FORCED, REASON_HIGHER_TERM};
use super::membership::PendingChange;
use super::reads::ReadState;
use super::tracker::Tracker;
use crate::sim::{Command, Ctx, NodeId, Protocol, Reply, RequestId, Time};
use std::collections::VecDeque;
use std::sync::Arc;

pub use super::config::RaftConfig;
pub use super::log::{chain, Entry, Snapshot, StateMachine, EMPTY_DIGEST};
pub use super::membership::{MemberChange, Members, Membership, CATCH_UP_ROUNDS};
pub use super::message::{RaftMsg, RaftNote, RaftTimer};

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

/// One Raft server.
#[derive(Clone, Debug)]
pub struct RaftNode {
    pub(super) id: NodeId,
    pub(super) nodes: u32,
    pub(super) config: RaftConfig,
    /// The initial configuration (the first `members` servers).
    pub(super) bootstrap: Members,

    // Persistent state (Figure 2, §7).
    pub(super) term: u64,
    pub(super) voted_for: Option<NodeId>,
    pub(super) log: Vec<Entry>,
    pub(super) snapshot: Snapshot,

    // Volatile state on all servers.
    pub(super) role: Role,
    pub(super) commit_index: u64,
    /// The state machine, at `commit_index` (committing is applying).
    pub(super) state: StateMachine,
    /// The latest configuration in the log or snapshot, and where it is.
    pub(super) members: Members,
    pub(super) members_index: u64,
    /// Was ever a member (to tell a removed server from a spare one).
    pub(super) ever_member: bool,
    pub(super) leader_hint: Option<NodeId>,
    /// When this server last heard from the leader it follows (for the
    /// Pre-Vote rule that a server hearing from a leader refuses pre-votes).
    pub(super) last_leader_contact: Option<Time>,
    /// When the election timer was last armed, if it is.
    pub(super) election_armed_at: Option<Time>,

    // Candidates and pre-candidates: who granted a vote (duplicated
    // replies must not count twice).
    pub(super) votes: Vec<bool>,
    pub(super) votes_granted: u32,

    /// Leaders: each server's progress (reinitialised after each election).
    pub(super) progress: Tracker,
    /// Client requests waiting for their entry to commit: (index, request).
    pub(super) pending: VecDeque<(u64, RequestId)>,
    /// The last batch of entries sent, shared by every follower at the same
    /// position: (first index, last index, entries).
    pub(super) batch: Option<(u64, u64, Arc<[Entry]>)>,
    /// The empty batch that heartbeats carry.
    pub(super) empty: Arc<[Entry]>,
    /// A membership change not appended yet (leaders only).
    pub(super) change: Option<PendingChange>,
    /// Whether the heartbeat timer runs (leaders only).
    pub(super) heartbeating: bool,
    /// Leaders: reads held for a heartbeat round, and the lease (thesis
    /// §6.4).
    pub(super) reads: ReadState,
    /// When this server last heard from the leader it follows, on its own
    /// clock (for the lease's vote guard).
    pub(super) last_leader_clock: Option<Time>,
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
            snapshot: durable.snapshot.clone(),
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
            progress: Tracker::new(n),
            pending: VecDeque::new(),
            batch: None,
            empty: Arc::from(Vec::new()),
            change: None,
            heartbeating: false,
            reads: ReadState::default(),
            last_leader_clock: None,
        };
        let (members, index) = node.latest_config(node.last_log_index());
        node.members = members;
        node.members_index = index;
        node.ever_member |= members.contains(id);
        node
    }

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

    /// Highest index known to be committed (and applied).
    pub fn commit_index(&self) -> u64 {
        self.commit_index
    }

    /// The leader this server believes in (itself if it leads).
    pub fn leader_hint(&self) -> Option<NodeId> {
        self.leader_hint
    }

    /// Votes granted in its last election, itself included (a leader's
    /// are those that made it leader).
    pub fn votes_won(&self) -> u32 {
        self.votes_granted
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
            &self.progress.match_index
        } else {
            &[]
        }
    }

    /// The leader's `nextIndex` per node; empty unless this server leads.
    pub fn next_index(&self) -> &[u64] {
        if self.role == Role::Leader {
            &self.progress.next_index
        } else {
            &[]
        }
    }

    /// Client requests the leader is waiting to commit, with their indexes.
    pub fn pending_requests(&self) -> impl Iterator<Item = (u64, RequestId)> + '_ {
        self.pending.iter().copied()
    }

    pub(super) fn majority(&self) -> u32 {
        self.members.majority()
    }

    /// §5.3: the leader appends a client's command and replies once it
    /// commits; anyone else points the client at the leader it knows.
    pub(super) fn append_command(&mut self, req: RequestId, entry: Entry, ctx: &mut Ctx<Self>) {
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
        let index = self.leader_append(entry, ctx);
        self.pending.push_back((index, req));
        for p in self.targets().iter() {
            self.send_append(p, false, ctx);
        }
        self.advance_commit(ctx);
    }

    /// Reads held at this leader (thesis §6.4).
    pub fn held_reads(&self) -> usize {
        self.reads.waiting.len()
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
            snapshot: self.snapshot.clone(),
        }
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
        if matches!(msg, RaftMsg::RequestVote { pre_vote: false, .. })
            && ((self.config.vote_guard && self.leader_recently_heard(ctx.now)) || self.guards_lease(ctx.clock))
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
            RaftMsg::LeaderCheck { term, round } => self.handle_leader_check(from, term, round, ctx),
            RaftMsg::LeaderCheckReply { term, round } => self.handle_leader_check_reply(from, term, round, ctx),
        }
    }

    fn on_timer(&mut self, timer: RaftTimer, ctx: &mut Ctx<Self>) {
        self.maybe_compact(ctx);
        match timer {
            RaftTimer::Election if self.role != Role::Leader => self.campaign(ctx),
            RaftTimer::Heartbeat if self.role == Role::Leader => {
                self.heartbeat(ctx);
                if self.role == Role::Leader {
                    self.tick_reads(ctx);
                }
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
        self.append_command(req, Entry::new(self.term, req), ctx);
    }

    /// A key-value command: reads by the configured path (thesis §6.4),
    /// the rest through the log.
    fn on_command(&mut self, req: RequestId, cmd: Command, ctx: &mut Ctx<Self>) {
        self.maybe_compact(ctx);
        self.on_kv(req, cmd, ctx);
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

    fn msg_heap_bytes(msg: &RaftMsg) -> usize {
        match msg {
            RaftMsg::AppendEntries { entries, .. } => 16 + entries.len() * std::mem::size_of::<Entry>(),
            _ => 0,
        }
    }

    fn msg_payload(msg: &RaftMsg) -> usize {
        match msg {
            RaftMsg::AppendEntries { entries, .. } if !entries.is_empty() => entries.as_ptr() as usize,
            _ => 0,
        }
    }

    fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        // An entry's command is shared by every copy of the entry (in the
        // logs, in messages); the leader's log holds every recent one, so
        // the leader alone counts them, once each.
        let shared = if self.role == Role::Leader { self.log.iter().map(Entry::heap_bytes).sum() } else { 0 };
        // The store, and the Raft snapshot's once the two differ.
        let (store, snapshot_store) = (self.state.kv.as_ref(), self.snapshot.state.kv.as_ref());
        let stores = match (store, snapshot_store) {
            (Some(a), Some(b)) if Arc::ptr_eq(a, b) => a.heap_bytes(),
            _ => store.map_or(0, |s| s.heap_bytes()) + snapshot_store.map_or(0, |s| s.heap_bytes()),
        };
        self.log.capacity() * size_of::<Entry>()
            + shared
            + stores
            + self.pending.capacity() * size_of::<(u64, RequestId)>()
            + self.progress.heap_bytes()
            + self.batch.as_ref().map_or(0, |(_, _, b)| b.len() * size_of::<Entry>())
            + 6 * self.votes.capacity()
    }
}
