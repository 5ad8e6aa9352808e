//! Reads of the key-value store, by four paths (Ongaro's thesis §6.4):
//!
//! * **Log.** A read is a command like any other: appended, replicated,
//!   committed, then answered from the state machine. Linearizable, and as
//!   slow as a write.
//! * **ReadIndex** (§6.4). The leader (1) waits until it has committed an
//!   entry of its own term (it appends a no-op when elected, so this is
//!   soon), (2) records its commit index as the read index, (3) confirms it
//!   still leads with a round of heartbeats ([`RaftMsg::LeaderCheck`])
//!   acknowledged by a majority, the round started after the read arrived,
//!   (4) waits until its state machine has applied the read index, and (5)
//!   answers. Linearizable without touching the log; a round serves every
//!   read that arrived before it started (rounds overlap, one per instant
//!   at which reads arrive, at most 64 out).
//! * **Lease** (§6.4.1). The leader starts a round every heartbeat; once a
//!   majority acknowledges a round it holds a lease until the round's start
//!   plus the lease duration, measured on its own clock, and answers reads
//!   at once while the lease holds (otherwise as ReadIndex). It is safe
//!   only because no other leader can be elected before the lease ends:
//!   a server that heard from the leader within the minimum election
//!   timeout (on its own clock) refuses to vote (the rule of §4.2.3), so
//!   the lease must be shorter than that timeout by more than the clocks
//!   can drift apart. With drift beyond that bound, a deposed leader
//!   serves reads that miss writes the new leader committed.
//! * **Local.** A server answers from its own state machine at once,
//!   without confirming anything: only the leader (which a leader cut off
//!   from the others still believes it is), or, with
//!   [`RaftConfig::local_reads_anywhere`](super::RaftConfig), any server.
//!   Fast and stale (a follower behind, a deposed leader).

use super::log::Entry;
use super::message::RaftMsg;
use super::node::{RaftNode, Role};
use crate::sim::{Command, Ctx, KvOp, NodeId, Reply, RequestId, Time};

/// How a Raft cluster serves reads of its key-value store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadPath {
    /// Through the log, as writes.
    #[default]
    Log,
    /// ReadIndex: a heartbeat round confirms leadership (thesis §6.4).
    ReadIndex,
    /// A leader's lease, from its last majority acknowledgement (§6.4.1).
    Lease,
    /// From any server's own state machine (stale).
    Local,
}

impl ReadPath {
    /// The paths, in the order of the scenario parameter's names.
    pub const ALL: [ReadPath; 4] = [ReadPath::Log, ReadPath::ReadIndex, ReadPath::Lease, ReadPath::Local];
    /// The names the scenario parameter uses.
    pub const NAMES: &'static [&'static str] = &["log", "read-index", "lease", "local"];

    /// Whether a new leader commits a no-op first, so it can learn the
    /// commit index of its term (thesis §6.4, step 1).
    pub fn needs_noop(self) -> bool {
        matches!(self, ReadPath::ReadIndex | ReadPath::Lease)
    }
}

/// A read a leader holds until it may answer (ReadIndex).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingRead {
    /// The request.
    pub req: RequestId,
    /// The key.
    pub key: u32,
    /// The heartbeat round that must confirm leadership (one started
    /// after the read arrived).
    pub round: u64,
    /// The read index: the commit index once an entry of the leader's term
    /// is committed (`None` until then).
    pub index: Option<u64>,
}

/// Most confirmation rounds out at once (older ones are dropped: a later
/// round confirms whatever they would have).
const ROUNDS_OUT: usize = 64;

/// The leader's state for reads: confirmation rounds and its lease.
#[derive(Clone, Debug, Default)]
pub struct ReadState {
    /// Reads waiting.
    pub waiting: Vec<PendingRead>,
    /// The last round started.
    pub round: u64,
    /// The last round a majority acknowledged.
    pub confirmed: u64,
    /// The rounds out: when each started (leader's clock) and who
    /// acknowledged it.
    pub out: std::collections::BTreeMap<u64, (Time, Vec<bool>)>,
    /// When the last round started (virtual time), so reads arriving at
    /// one instant share a round.
    pub last_start: Option<Time>,
    /// The lease ends at this instant of the leader's clock.
    pub lease_until: Option<Time>,
}

impl RaftNode {
    /// A client's key-value command: a read by the configured path, or a
    /// write or compare-and-set through the log.
    pub(super) fn on_kv(&mut self, req: RequestId, cmd: Command, ctx: &mut Ctx<Self>) {
        let path = self.config.read_path;
        match cmd.op {
            KvOp::Read
                if path == ReadPath::Local && (self.config.local_reads_anywhere || self.role == Role::Leader) =>
            {
                ctx.reply(req, Reply::Answer(self.state.read(cmd.key)))
            }
            KvOp::Read if path == ReadPath::Local => ctx.reply(req, Reply::NotLeader(self.leader_hint)),
            KvOp::Read if path != ReadPath::Log => {
                if self.role != Role::Leader {
                    ctx.reply(req, Reply::NotLeader(self.leader_hint));
                } else {
                    self.read_at_leader(req, cmd.key, ctx);
                }
            }
            _ => self.append_command(req, Entry::with_kv(self.term, req, cmd), ctx),
        }
    }

    /// Whether the leader has committed an entry of its own term (thesis
    /// §6.4 step 1: only then is its commit index at least every
    /// committed entry's).
    fn own_term_committed(&self) -> bool {
        self.term_at(self.commit_index) == Some(self.term)
    }

    /// A read at the leader: answered now under a valid lease, otherwise
    /// held for a heartbeat round (ReadIndex).
    fn read_at_leader(&mut self, req: RequestId, key: u32, ctx: &mut Ctx<Self>) {
        let leased = self.reads.lease_until.is_some_and(|until| ctx.clock < until);
        if self.config.read_path == ReadPath::Lease && leased && self.own_term_committed() {
            ctx.reply(req, Reply::Answer(self.state.read(key)));
            return;
        }
        if self.reads.waiting.iter().any(|r| r.req == req) {
            return; // a retry of a read already waiting
        }
        let index = self.own_term_committed().then_some(self.commit_index);
        if self.reads.last_start != Some(ctx.now) {
            self.start_round(ctx);
        }
        let round = self.reads.round;
        self.reads.waiting.push(PendingRead { req, key, round, index });
        self.serve_reads(ctx);
    }

    /// Starts heartbeat round `round + 1` to confirm leadership (rounds
    /// overlap: a read waits for one round trip, not for the round before
    /// it to end).
    pub(super) fn start_round(&mut self, ctx: &mut Ctx<Self>) {
        let r = &mut self.reads;
        r.round += 1;
        r.last_start = Some(ctx.now);
        let mut acks = vec![false; self.nodes as usize];
        if let Some(me) = acks.get_mut(self.id as usize) {
            *me = true;
        }
        r.out.insert(r.round, (ctx.clock, acks));
        while r.out.len() > ROUNDS_OUT {
            r.out.pop_first();
        }
        let (term, round) = (self.term, r.round);
        for p in self.members.iter().filter(|&p| p != self.id) {
            ctx.send(p, RaftMsg::LeaderCheck { term, round });
        }
        self.try_confirm(round, ctx);
    }

    /// Round `round` is confirmed once a majority of the configuration (the
    /// leader counted if a member) acknowledged it; so is every earlier
    /// one.
    fn try_confirm(&mut self, round: u64, ctx: &mut Ctx<Self>) {
        let Some((started, acks)) = self.reads.out.get(&round) else { return };
        let n = self.members.iter().filter(|&p| acks.get(p as usize).copied().unwrap_or(false)).count();
        if (n as u32) < self.majority() {
            return;
        }
        let started = *started;
        self.reads.confirmed = self.reads.confirmed.max(round);
        self.reads.out.retain(|&r, _| r > round);
        if self.config.read_path == ReadPath::Lease {
            self.reads.lease_until = Some(started + self.config.lease);
        }
        self.serve_reads(ctx);
    }

    /// A follower answers a leader's check as a heartbeat: it recognises
    /// the leader (resetting its election timer) and acknowledges the
    /// round; a stale leader learns the later term.
    pub(super) fn handle_leader_check(&mut self, from: NodeId, term: u64, round: u64, ctx: &mut Ctx<Self>) {
        if term < self.term {
            ctx.send(from, RaftMsg::LeaderCheckReply { term: self.term, round });
            return;
        }
        if self.role == Role::Leader {
            return; // two leaders in one term: the checker reports it
        }
        self.heard_from_leader(from, term, ctx);
        ctx.send(from, RaftMsg::LeaderCheckReply { term, round });
    }

    /// A follower acknowledged round `round`.
    pub(super) fn handle_leader_check_reply(&mut self, from: NodeId, term: u64, round: u64, ctx: &mut Ctx<Self>) {
        if self.role != Role::Leader || term != self.term {
            return;
        }
        let Some((_, acks)) = self.reads.out.get_mut(&round) else { return };
        if let Some(a) = acks.get_mut(from as usize) {
            *a = true;
        }
        self.try_confirm(round, ctx);
    }

    /// Answers the held reads whose round is confirmed and whose read index
    /// the state machine has applied (thesis §6.4 steps 3–5); reads that
    /// arrived before the leader committed an entry of its term take the
    /// commit index once it has.
    pub(super) fn serve_reads(&mut self, ctx: &mut Ctx<Self>) {
        if self.role != Role::Leader || self.reads.waiting.is_empty() {
            return;
        }
        let own = self.own_term_committed();
        let (confirmed, applied, commit) = (self.reads.confirmed, self.state.applied, self.commit_index);
        let mut waiting = std::mem::take(&mut self.reads.waiting);
        waiting.retain_mut(|r| {
            if r.index.is_none() && own {
                r.index = Some(commit);
            }
            let ready = r.round <= confirmed && r.index.is_some_and(|i| i <= applied);
            if ready {
                ctx.reply(r.req, Reply::Answer(self.state.read(r.key)));
            }
            !ready
        });
        self.reads.waiting = waiting;
    }

    /// A heartbeat tick at the leader: with leases, a round every tick;
    /// otherwise a new round if reads still wait (their rounds' messages
    /// may be lost); a later round confirmed serves them too.
    pub(super) fn tick_reads(&mut self, ctx: &mut Ctx<Self>) {
        let lease = self.config.read_path == ReadPath::Lease;
        if lease || self.reads.waiting.iter().any(|r| r.round > self.reads.confirmed) {
            self.start_round(ctx);
        }
    }

    /// A leader stepping down turns its held reads away (they had no
    /// effect; the client asks the next leader) and forgets its lease.
    pub(super) fn drop_reads(&mut self, leader: Option<NodeId>, ctx: &mut Ctx<Self>) {
        for r in std::mem::take(&mut self.reads.waiting) {
            ctx.reply(r.req, Reply::NotLeader(leader));
        }
        self.reads = ReadState { round: self.reads.round, confirmed: self.reads.round, ..ReadState::default() };
    }

    /// Whether this server refuses votes to keep a lease safe: it heard
    /// from a leader within the minimum election timeout, on its own
    /// clock (thesis §4.2.3, which §6.4.1's lease relies on), or leads.
    pub(super) fn guards_lease(&self, clock: Time) -> bool {
        self.config.read_path == ReadPath::Lease
            && (self.role == Role::Leader
                || self.last_leader_clock.is_some_and(|t| clock.saturating_sub(t) < self.config.election_timeout_min))
    }
}
