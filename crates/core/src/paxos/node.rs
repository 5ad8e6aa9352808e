//! One Paxos server: proposer, acceptor and learner roles as a pure state
//! machine. See the module documentation for the protocol.

use super::rto::Rto;
use crate::sim::{
    btree_bytes, Answer, Command, Ctx, Fingerprint, KvStore, NodeId, Observable, Protocol, Reply, RequestId, Time, MS,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

/// A ballot: a round number and the proposer that owns it. Ballots are
/// unique (no two proposers share one) and totally ordered, round first
/// ("Paxos Made Simple" §2.2: "different proposals have different numbers").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ballot {
    /// The round; 0 is the ballot below every real one.
    pub round: u64,
    /// The proposer.
    pub proposer: NodeId,
}

impl Ballot {
    /// The ballot as one number for display and metrics: round, then the
    /// proposer's number from 1 (`round * 1024 + proposer + 1`).
    pub fn code(self) -> i64 {
        if self.round == 0 {
            0
        } else {
            (self.round.min(1 << 40) as i64) * 1024 + i64::from(self.proposer % 1023) + 1
        }
    }

    fn digest(self, fp: &mut Fingerprint) {
        fp.u64(self.round);
        fp.u64(u64::from(self.proposer));
    }
}

/// A value to agree on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// A gap filler chosen by a new leader (Multi-Paxos).
    Noop,
    /// A client's command.
    Request(RequestId),
    /// A single-decree proposer's own value.
    Own(NodeId),
    /// Several client commands in one slot, in the order the leader took
    /// them (Multi-Paxos with `max_batch` above 1; a batch of one is a
    /// `Request`).
    Batch(Arc<[RequestId]>),
    /// Clients' key-value commands (requests and their commands, in the
    /// same order), which every server applies to its key-value store
    /// when it applies the slot.
    Kv(Arc<[RequestId]>, Arc<[Command]>),
}

impl Value {
    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            Value::Noop => fp.u64(0),
            Value::Request(r) => {
                fp.u64(1);
                fp.u64(*r);
            }
            Value::Own(n) => {
                fp.u64(2);
                fp.u64(u64::from(*n));
            }
            Value::Batch(reqs) => {
                fp.u64(3);
                fp.u64(reqs.len() as u64);
                for r in reqs.iter() {
                    fp.u64(*r);
                }
            }
            Value::Kv(reqs, cmds) => {
                fp.u64(4);
                fp.u64(reqs.len() as u64);
                for (r, c) in reqs.iter().zip(cmds.iter()) {
                    fp.u64(*r);
                    fp.command(c);
                }
            }
        }
    }

    /// The commands `reqs` as one slot's value: one request, or a batch.
    pub fn of_requests(reqs: &[RequestId]) -> Value {
        match reqs {
            [] => Value::Noop,
            [r] => Value::Request(*r),
            _ => Value::Batch(Arc::from(reqs)),
        }
    }

    /// The client commands this value carries, in order.
    pub fn requests(&self) -> &[RequestId] {
        match self {
            Value::Request(r) => std::slice::from_ref(r),
            Value::Batch(reqs) | Value::Kv(reqs, _) => reqs,
            Value::Noop | Value::Own(_) => &[],
        }
    }

    /// A short form for people: `#7`, `v(S2)`, `no-op`, `#7,#8,#9 +5`.
    pub fn text(&self) -> String {
        match self {
            Value::Noop => "no-op".into(),
            Value::Request(r) => format!("#{r}"),
            Value::Own(n) => format!("v(S{})", u64::from(*n) + 1),
            Value::Batch(reqs) | Value::Kv(reqs, _) => {
                let shown: Vec<String> = reqs.iter().take(3).map(|r| format!("#{r}")).collect();
                let mut t = shown.join(",");
                if reqs.len() > 3 {
                    let _ = write!(t, " +{}", reqs.len() - 3);
                }
                t
            }
        }
    }

    /// The value as one number for display: requests as themselves (a
    /// batch as its first), a proposer's own value as minus its number, a
    /// no-op as 0.
    pub fn code(&self) -> i64 {
        match self {
            Value::Noop => 0,
            Value::Request(r) => (*r).min(i64::MAX as u64) as i64,
            Value::Batch(reqs) | Value::Kv(reqs, _) => reqs.first().map_or(0, |r| (*r).min(i64::MAX as u64) as i64),
            Value::Own(n) => -(i64::from(*n) + 1),
        }
    }
}

/// A log position (Multi-Paxos); single-decree Paxos uses slot 0 only.
pub type Slot = u64;

/// Paxos parameters, shared by all servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaxosConfig {
    /// Servers 0..proposers are proposers.
    pub proposers: u32,
    /// How many acceptors.
    pub acceptors: u32,
    /// Proposers are also acceptors (servers 0..acceptors), as in most
    /// deployments; otherwise acceptors are the servers after the proposers.
    pub colocated: bool,
    /// Multi-Paxos (a leader, a log of slots) instead of one instance.
    pub multi: bool,
    /// Back-off after a rejected round, drawn uniformly from this range;
    /// `(0, 0)` retries at once (dueling proposers livelock).
    pub backoff_min: Time,
    /// See `backoff_min`.
    pub backoff_max: Time,
    /// Single-decree: proposers start within this time of the run's start.
    pub start_spread: Time,
    /// Multi-Paxos: a follower that hears no leader for this long runs
    /// phase 1 (randomised up to twice as long).
    pub leader_timeout: Time,
    /// Multi-Paxos: how often a leader says it leads.
    pub heartbeat: Time,
    /// Multi-Paxos: the most client commands one slot carries. Commands
    /// that wait at the leader (during phase 1, or while `pipeline` slots
    /// are in flight) go into one slot, up to this many; a command that
    /// finds room in the pipeline is proposed at once, alone.
    pub max_batch: u32,
    /// Multi-Paxos: the most slots a leader has in phase 2 at once; 0: no
    /// limit (every command is proposed as it comes).
    pub pipeline: u32,
    /// A deliberate bug: a proposer ignores the values promises report and
    /// proposes its own.
    pub bug_ignore_promises: bool,
}

impl Default for PaxosConfig {
    fn default() -> Self {
        PaxosConfig {
            proposers: 2,
            acceptors: 3,
            colocated: true,
            multi: false,
            backoff_min: 10 * MS,
            backoff_max: 100 * MS,
            start_spread: 20 * MS,
            leader_timeout: 300 * MS,
            heartbeat: 50 * MS,
            max_batch: 64,
            pipeline: 0,
            bug_ignore_promises: false,
        }
    }
}

impl PaxosConfig {
    /// Servers in all.
    pub fn nodes(&self) -> u32 {
        if self.colocated {
            self.proposers.max(self.acceptors)
        } else {
            self.proposers + self.acceptors
        }
    }

    /// Whether server `id` proposes.
    pub fn is_proposer(&self, id: NodeId) -> bool {
        id < self.proposers
    }

    /// Whether server `id` accepts.
    pub fn is_acceptor(&self, id: NodeId) -> bool {
        if self.colocated {
            id < self.acceptors
        } else {
            id >= self.proposers && id < self.proposers + self.acceptors
        }
    }

    /// The acceptors.
    pub fn acceptor_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes()).filter(|&i| self.is_acceptor(i))
    }

    /// A majority of the acceptors.
    pub fn quorum(&self) -> usize {
        self.acceptors as usize / 2 + 1
    }
}

/// Messages between servers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaxosMsg {
    /// Phase 1a: promise to ignore ballots below `ballot`, and report what
    /// you accepted in slots from `from_slot` on.
    Prepare { ballot: Ballot, from_slot: Slot },
    /// Phase 1b: the promise, with the highest-ballot value accepted in
    /// each slot from the asked one on.
    Promise { ballot: Ballot, accepted: Arc<[(Slot, Ballot, Value)]> },
    /// Phase 2a: accept `value` in `slot` at `ballot`.
    Accept { ballot: Ballot, slot: Slot, value: Value },
    /// Phase 2b: accepted.
    Accepted { ballot: Ballot, slot: Slot },
    /// A refusal: `ballot` was beaten by the promise `promised`.
    Reject { ballot: Ballot, promised: Ballot },
    /// A value was chosen in `slot` (to learners).
    Decide { slot: Slot, value: Value },
    /// Multi-Paxos: the leader of `ballot` is alive; it has learned every
    /// slot below `learned`.
    Heartbeat { ballot: Ballot, learned: Slot },
    /// A learner missing slots from `from` on asks for them.
    Fetch { from: Slot },
    /// Decided values of consecutive slots from `from`.
    Decided { from: Slot, values: Arc<[Value]> },
}

/// Kinds in display order.
pub const KINDS: &[&str] =
    &["Prepare", "Promise", "Accept", "Accepted", "Reject", "Decide", "Heartbeat", "Fetch", "Decided"];

impl Observable for PaxosMsg {
    fn kind(&self) -> &'static str {
        match self {
            PaxosMsg::Prepare { .. } => "Prepare",
            PaxosMsg::Promise { .. } => "Promise",
            PaxosMsg::Accept { .. } => "Accept",
            PaxosMsg::Accepted { .. } => "Accepted",
            PaxosMsg::Reject { .. } => "Reject",
            PaxosMsg::Decide { .. } => "Decide",
            PaxosMsg::Heartbeat { .. } => "Heartbeat",
            PaxosMsg::Fetch { .. } => "Fetch",
            PaxosMsg::Decided { .. } => "Decided",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            PaxosMsg::Prepare { ballot, from_slot } => {
                fp.u64(1);
                ballot.digest(fp);
                fp.u64(*from_slot);
            }
            PaxosMsg::Promise { ballot, accepted } => {
                fp.u64(2);
                ballot.digest(fp);
                fp.u64(accepted.len() as u64);
                for (s, b, v) in accepted.iter() {
                    fp.u64(*s);
                    b.digest(fp);
                    v.digest(fp);
                }
            }
            PaxosMsg::Accept { ballot, slot, value } => {
                fp.u64(3);
                ballot.digest(fp);
                fp.u64(*slot);
                value.digest(fp);
            }
            PaxosMsg::Accepted { ballot, slot } => {
                fp.u64(4);
                ballot.digest(fp);
                fp.u64(*slot);
            }
            PaxosMsg::Reject { ballot, promised } => {
                fp.u64(5);
                ballot.digest(fp);
                promised.digest(fp);
            }
            PaxosMsg::Decide { slot, value } => {
                fp.u64(6);
                fp.u64(*slot);
                value.digest(fp);
            }
            PaxosMsg::Heartbeat { ballot, learned } => {
                fp.u64(7);
                ballot.digest(fp);
                fp.u64(*learned);
            }
            PaxosMsg::Fetch { from } => {
                fp.u64(8);
                fp.u64(*from);
            }
            PaxosMsg::Decided { from, values } => {
                fp.u64(9);
                fp.u64(*from);
                fp.u64(values.len() as u64);
                for v in values.iter() {
                    v.digest(fp);
                }
            }
        }
    }

    fn describe(&self, out: &mut String) {
        out.push_str(self.kind());
        let b = |b: &Ballot| format!("b{}.{}", b.round, u64::from(b.proposer) + 1);
        let _ = match self {
            PaxosMsg::Prepare { ballot, from_slot } => write!(out, " {} from {from_slot}", b(ballot)),
            PaxosMsg::Promise { ballot, accepted } => {
                let _ = write!(out, " {}", b(ballot));
                for (s, ab, v) in accepted.iter().take(4) {
                    let _ = write!(out, " [{s}: {} {}]", b(ab), v.text());
                }
                if accepted.len() > 4 {
                    let _ = write!(out, " +{}", accepted.len() - 4);
                }
                Ok(())
            }
            PaxosMsg::Accept { ballot, slot, value } => write!(out, " {} slot {slot} {}", b(ballot), value.text()),
            PaxosMsg::Accepted { ballot, slot } => write!(out, " {} slot {slot}", b(ballot)),
            PaxosMsg::Reject { ballot, promised } => write!(out, " {} beaten by {}", b(ballot), b(promised)),
            PaxosMsg::Decide { slot, value } => write!(out, " slot {slot} {}", value.text()),
            PaxosMsg::Heartbeat { ballot, learned } => write!(out, " {} learned {learned}", b(ballot)),
            PaxosMsg::Fetch { from } => write!(out, " from {from}"),
            PaxosMsg::Decided { from, values } => write!(out, " slots {from}..{}", from + values.len() as u64),
        };
    }
}

/// A server's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PaxosTimer {
    /// A proposer (re)starts phase 1: single-decree after a back-off;
    /// Multi-Paxos when no leader was heard from.
    Round,
    /// A Multi-Paxos leader's heartbeat.
    Heartbeat,
    /// A Multi-Paxos leader's retransmission timer: it fires when the
    /// earliest open slot's retransmission timeout is due.
    Resend,
}

impl Observable for PaxosTimer {
    fn kind(&self) -> &'static str {
        match self {
            PaxosTimer::Round => "Round",
            PaxosTimer::Heartbeat => "Heartbeat",
            PaxosTimer::Resend => "Resend",
        }
    }
    fn digest(&self, fp: &mut Fingerprint) {
        fp.u64(*self as u64);
    }
}

/// What a server notes, for the trace, the checkers and the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaxosNote {
    /// A value entered the protocol (a proposer's own, a client's, a no-op).
    Proposed { value: Value },
    /// A proposer started phase 1 with `ballot`.
    RoundStarted { ballot: Ballot },
    /// A proposer's phase 1 succeeded.
    Prepared { ballot: Ballot },
    /// A proposer gave up `ballot`, beaten by `by`.
    RoundLost { ballot: Ballot, by: Ballot },
    /// A proposer started phase 2 in `slot` with `value`; `reported` is the
    /// highest-ballot value phase 1 reported for the slot, if any.
    Phase2 { ballot: Ballot, slot: Slot, value: Value, reported: Option<Value> },
    /// An acceptor promised `ballot` (its promise before was `before`).
    Promised { ballot: Ballot, before: Ballot },
    /// An acceptor accepted `value` in `slot` at `ballot`; its promise was
    /// `promised` when the request came.
    AcceptedValue { slot: Slot, ballot: Ballot, value: Value, promised: Ballot },
    /// A proposer saw a majority accept `value` in `slot`.
    Chosen { slot: Slot, value: Value },
    /// A learner learned `value` for `slot`.
    Learned { slot: Slot, value: Value },
    /// A learner applied `slot` (in order).
    Applied { slot: Slot },
    /// A Multi-Paxos proposer became the leader.
    BecameLeader { ballot: Ballot },
    /// A Multi-Paxos leader stepped down.
    SteppedDown { ballot: Ballot },
}

impl Observable for PaxosNote {
    fn kind(&self) -> &'static str {
        match self {
            PaxosNote::Proposed { .. } => "Proposed",
            PaxosNote::RoundStarted { .. } => "RoundStarted",
            PaxosNote::Prepared { .. } => "Prepared",
            PaxosNote::RoundLost { .. } => "RoundLost",
            PaxosNote::Phase2 { .. } => "Phase2",
            PaxosNote::Promised { .. } => "Promised",
            PaxosNote::AcceptedValue { .. } => "AcceptedValue",
            PaxosNote::Chosen { .. } => "Chosen",
            PaxosNote::Learned { .. } => "Learned",
            PaxosNote::Applied { .. } => "Applied",
            PaxosNote::BecameLeader { .. } => "BecameLeader",
            PaxosNote::SteppedDown { .. } => "SteppedDown",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        fp.str(self.kind());
        match self {
            PaxosNote::Proposed { value } => value.digest(fp),
            PaxosNote::RoundStarted { ballot }
            | PaxosNote::Prepared { ballot }
            | PaxosNote::BecameLeader { ballot }
            | PaxosNote::SteppedDown { ballot } => ballot.digest(fp),
            PaxosNote::RoundLost { ballot, by } => {
                ballot.digest(fp);
                by.digest(fp);
            }
            PaxosNote::Phase2 { ballot, slot, value, reported } => {
                ballot.digest(fp);
                fp.u64(*slot);
                value.digest(fp);
                match reported {
                    Some(v) => v.digest(fp),
                    None => fp.u64(u64::MAX),
                }
            }
            PaxosNote::Promised { ballot, before } => {
                ballot.digest(fp);
                before.digest(fp);
            }
            PaxosNote::AcceptedValue { slot, ballot, value, promised } => {
                fp.u64(*slot);
                ballot.digest(fp);
                value.digest(fp);
                promised.digest(fp);
            }
            PaxosNote::Chosen { slot, value } | PaxosNote::Learned { slot, value } => {
                fp.u64(*slot);
                value.digest(fp);
            }
            PaxosNote::Applied { slot } => fp.u64(*slot),
        }
    }

    fn describe(&self, out: &mut String) {
        let b = |b: &Ballot| format!("b{}.{}", b.round, u64::from(b.proposer) + 1);
        let _ = match self {
            PaxosNote::Proposed { value } => write!(out, "proposed {}", value.text()),
            PaxosNote::RoundStarted { ballot } => write!(out, "round {} started", b(ballot)),
            PaxosNote::Prepared { ballot } => write!(out, "phase 1 done {}", b(ballot)),
            PaxosNote::RoundLost { ballot, by } => write!(out, "round {} lost to {}", b(ballot), b(by)),
            PaxosNote::Phase2 { ballot, slot, value, reported } => match reported {
                Some(r) => write!(out, "phase 2 {} slot {slot} {} (reported {})", b(ballot), value.text(), r.text()),
                None => write!(out, "phase 2 {} slot {slot} {} (free)", b(ballot), value.text()),
            },
            PaxosNote::Promised { ballot, .. } => write!(out, "promised {}", b(ballot)),
            PaxosNote::AcceptedValue { slot, ballot, value, .. } => {
                write!(out, "accepted slot {slot} {} {}", b(ballot), value.text())
            }
            PaxosNote::Chosen { slot, value } => write!(out, "chosen slot {slot} {}", value.text()),
            PaxosNote::Learned { slot, value } => write!(out, "learned slot {slot} {}", value.text()),
            PaxosNote::Applied { slot } => write!(out, "applied slot {slot}"),
            PaxosNote::BecameLeader { ballot } => write!(out, "became leader {}", b(ballot)),
            PaxosNote::SteppedDown { ballot } => write!(out, "stepped down {}", b(ballot)),
        };
    }
}

/// What a server keeps on stable storage: the acceptor's promise and
/// accepted values, and the highest round it has used or seen, so a
/// restarted proposer never reuses a ballot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaxosDurable {
    /// The acceptor's promise.
    pub promised: Ballot,
    /// The acceptor's accepted (ballot, value) per slot.
    pub accepted: BTreeMap<Slot, (Ballot, Value)>,
    /// Highest round seen.
    pub max_round: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    /// Phase 1 under way: who promised, and the highest-ballot accepted
    /// value reported per slot.
    Preparing {
        promised: BTreeSet<NodeId>,
        reports: BTreeMap<Slot, (Ballot, Value)>,
    },
    /// Phase 1 done: phase 2 runs per slot (single-decree: slot 0 only).
    Leading,
}

/// A slot in phase 2 at its proposer.
#[derive(Clone, Debug)]
struct Proposal {
    value: Value,
    /// Acceptors that accepted it.
    accepted: BTreeSet<NodeId>,
    /// When its Accepts were first sent.
    sent: Time,
    /// When they are sent again unless a majority accepted (Multi-Paxos).
    due: Time,
    /// Whether they were sent again (its round trips are then not measured:
    /// Karn's algorithm, RFC 6298 §3).
    resent: bool,
}

/// One Paxos server.
#[derive(Clone, Debug)]
pub struct PaxosNode {
    id: NodeId,
    cfg: PaxosConfig,
    durable: PaxosDurable,
    // Proposer.
    ballot: Ballot,
    phase: Phase,
    /// Phase 2 in progress, per slot.
    proposals: BTreeMap<Slot, Proposal>,
    next_slot: Slot,
    /// Requests waiting for a slot (a leader's queue) or for phase 1.
    queue: Vec<RequestId>,
    /// The key-value commands of queued requests.
    commands: BTreeMap<RequestId, Command>,
    /// The key-value store the applied slots feed.
    store: KvStore,
    /// Commands proposed by this server: slot -> the value that carries
    /// them, answered when the slot is applied.
    clients: BTreeMap<Slot, Value>,
    /// The round trip to acceptors, measured, and the retransmission
    /// timeout it gives (Multi-Paxos).
    rto: Rto,
    /// When the Resend timer is due, if it is set.
    resend_at: Option<Time>,
    /// The learned index of the last leader heartbeat heard (Multi-Paxos).
    heard_learned: Slot,
    /// Single-decree: the value this proposer wants.
    own: Option<Value>,
    leader_hint: Option<NodeId>,
    // Learner.
    learned: BTreeMap<Slot, Value>,
    applied: Slot,
    /// The highest ballot among the accepted values (the page shows it on
    /// every frame; finding it in `durable.accepted` would read every slot).
    top_accepted: Option<Ballot>,
}

impl PaxosNode {
    /// This server's number.
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// The configuration.
    pub fn config(&self) -> &PaxosConfig {
        &self.cfg
    }
    /// The acceptor's promise.
    pub fn promised(&self) -> Ballot {
        self.durable.promised
    }
    /// The acceptor's accepted values.
    pub fn accepted(&self) -> &BTreeMap<Slot, (Ballot, Value)> {
        &self.durable.accepted
    }
    /// The highest ballot among the accepted values, if any.
    pub fn top_accepted(&self) -> Option<Ballot> {
        self.top_accepted
    }
    /// The proposer's current ballot.
    pub fn ballot(&self) -> Ballot {
        self.ballot
    }
    /// Whether this proposer has finished phase 1 for its ballot (Multi-Paxos: leads).
    pub fn is_leading(&self) -> bool {
        self.phase == Phase::Leading
    }
    /// Whether phase 1 is under way.
    pub fn is_preparing(&self) -> bool {
        matches!(self.phase, Phase::Preparing { .. })
    }
    /// Values learned, per slot.
    pub fn learned(&self) -> &BTreeMap<Slot, Value> {
        &self.learned
    }
    /// Slots applied: every slot below this one.
    pub fn applied(&self) -> Slot {
        self.applied
    }
    /// Whom this server believes leads.
    pub fn leader_hint(&self) -> Option<NodeId> {
        self.leader_hint
    }

    fn leader_wait(&self, ctx: &mut Ctx<Self>) -> Time {
        let t = self.cfg.leader_timeout.max(1);
        ctx.rng.range(t, 2 * t)
    }

    fn backoff(&self, ctx: &mut Ctx<Self>) -> Time {
        ctx.rng.range(self.cfg.backoff_min, self.cfg.backoff_max)
    }

    /// Sends `msg` to every acceptor; this server's own acceptor gets it at
    /// once (the simulator does not send a server messages to itself).
    fn send_to_acceptors(&mut self, msg: PaxosMsg, ctx: &mut Ctx<Self>) {
        let acceptors: Vec<NodeId> = self.cfg.acceptor_ids().collect();
        for a in acceptors {
            if a == self.id {
                self.on_message(self.id, msg.clone(), ctx);
            } else {
                ctx.send(a, msg.clone());
            }
        }
    }

    fn send_to_all(&mut self, msg: PaxosMsg, ctx: &mut Ctx<Self>) {
        for n in 0..self.cfg.nodes() {
            if n == self.id {
                self.on_message(self.id, msg.clone(), ctx);
            } else {
                ctx.send(n, msg.clone());
            }
        }
    }

    fn reply_to(&mut self, to: NodeId, msg: PaxosMsg, ctx: &mut Ctx<Self>) {
        if to == self.id {
            self.on_message(self.id, msg, ctx);
        } else {
            ctx.send(to, msg);
        }
    }

    /// The first slot this server has not learned.
    fn first_unlearned(&self) -> Slot {
        let mut s = self.applied;
        while self.learned.contains_key(&s) {
            s += 1;
        }
        s
    }

    /// Starts phase 1 with a ballot above every one seen.
    fn start_round(&mut self, ctx: &mut Ctx<Self>) {
        if !self.cfg.is_proposer(self.id) {
            return;
        }
        if !self.cfg.multi && self.learned.contains_key(&0) {
            return; // decided: nothing left to propose
        }
        self.durable.max_round += 1;
        self.ballot = Ballot { round: self.durable.max_round, proposer: self.id };
        self.phase = Phase::Preparing { promised: BTreeSet::new(), reports: BTreeMap::new() };
        self.proposals.clear();
        self.stop_resending(ctx);
        ctx.note(PaxosNote::RoundStarted { ballot: self.ballot });
        if !self.cfg.multi {
            // Single-decree: try again after a back-off unless the round
            // succeeds first (a lost message must not stall the proposer).
            let wait = 4 * self.cfg.leader_timeout.max(1);
            ctx.set_timer(PaxosTimer::Round, wait);
        } else {
            let wait = self.leader_wait(ctx);
            ctx.set_timer(PaxosTimer::Round, wait);
        }
        let from_slot = if self.cfg.multi { self.first_unlearned() } else { 0 };
        let ballot = self.ballot;
        self.send_to_acceptors(PaxosMsg::Prepare { ballot, from_slot }, ctx);
    }

    /// Phase 2 for `slot`: the value phase 1 reported for it if any (the
    /// highest-ballot one, "Paxos Made Simple" §2.2, P2c), else `free`.
    fn propose(&mut self, slot: Slot, free: Value, reported: Option<Value>, ctx: &mut Ctx<Self>) {
        let value = match &reported {
            Some(v) if !self.cfg.bug_ignore_promises => v.clone(),
            _ => free,
        };
        let due = ctx.now.saturating_add(self.rto.rto(self.cfg.leader_timeout));
        let proposal = Proposal { value: value.clone(), accepted: BTreeSet::new(), sent: ctx.now, due, resent: false };
        self.proposals.insert(slot, proposal);
        let ballot = self.ballot;
        ctx.note(PaxosNote::Phase2 { ballot, slot, value: value.clone(), reported });
        if self.cfg.multi {
            self.arm_resend(due, ctx);
        }
        self.send_to_acceptors(PaxosMsg::Accept { ballot, slot, value }, ctx);
    }

    /// Sets the Resend timer for `due` unless it is set for earlier.
    fn arm_resend(&mut self, due: Time, ctx: &mut Ctx<Self>) {
        if self.resend_at.is_none_or(|at| due < at) {
            self.resend_at = Some(due);
            ctx.set_timer(PaxosTimer::Resend, due.saturating_sub(ctx.now));
        }
    }

    fn stop_resending(&mut self, ctx: &mut Ctx<Self>) {
        if self.resend_at.take().is_some() {
            ctx.cancel_timer(PaxosTimer::Resend);
        }
    }

    /// The Resend timer fired: every open slot whose retransmission timeout
    /// expired gets its Accept again, from the acceptors that have not
    /// accepted it, and the timeout doubles (RFC 6298 §5.4, §5.5).
    fn resend_due(&mut self, ctx: &mut Ctx<Self>) {
        self.resend_at = None;
        if self.phase != Phase::Leading {
            return;
        }
        let now = ctx.now;
        let (ballot, me) = (self.ballot, self.id);
        let acceptors: Vec<NodeId> = self.cfg.acceptor_ids().collect();
        let mut expired = false;
        for (&slot, p) in self.proposals.iter_mut().filter(|(_, p)| p.due <= now) {
            if !expired {
                expired = true;
                self.rto.back_off();
            }
            p.resent = true;
            p.due = now.saturating_add(self.rto.rto(self.cfg.leader_timeout));
            for &a in acceptors.iter().filter(|&&a| a != me && !p.accepted.contains(&a)) {
                ctx.send(a, PaxosMsg::Accept { ballot, slot, value: p.value.clone() });
            }
        }
        if let Some(next) = self.proposals.values().map(|p| p.due).min() {
            self.arm_resend(next, ctx);
        }
    }

    /// A leader proposes the commands waiting for a slot, up to `max_batch`
    /// a slot, while fewer than `pipeline` slots are open (0: no limit).
    fn fill_pipeline(&mut self, ctx: &mut Ctx<Self>) {
        let room = |n: &Self| n.cfg.pipeline == 0 || n.proposals.len() < n.cfg.pipeline as usize;
        while self.phase == Phase::Leading && !self.queue.is_empty() && room(self) {
            let take = self.queue.len().min(self.cfg.max_batch.max(1) as usize);
            let reqs: Vec<RequestId> = self.queue.drain(..take).collect();
            let cmds: Vec<Command> = reqs.iter().filter_map(|r| self.commands.remove(r)).collect();
            let value = if !cmds.is_empty() && cmds.len() == reqs.len() {
                Value::Kv(Arc::from(reqs), Arc::from(cmds))
            } else {
                Value::of_requests(&reqs)
            };
            let slot = self.next_slot;
            self.next_slot += 1;
            self.clients.insert(slot, value.clone());
            ctx.note(PaxosNote::Proposed { value: value.clone() });
            self.propose(slot, value, None, ctx);
        }
    }

    fn step_down(&mut self, by: Ballot, ctx: &mut Ctx<Self>) {
        let was = self.ballot;
        let leading = self.phase == Phase::Leading;
        self.phase = Phase::Idle;
        self.proposals.clear();
        self.stop_resending(ctx);
        ctx.note(PaxosNote::RoundLost { ballot: was, by });
        if self.cfg.multi {
            if leading {
                ctx.note(PaxosNote::SteppedDown { ballot: was });
                ctx.cancel_timer(PaxosTimer::Heartbeat);
            }
            self.leader_hint = (by.round > 0).then_some(by.proposer);
            let wait = self.leader_wait(ctx);
            ctx.set_timer(PaxosTimer::Round, wait);
            // Requests this server held go back to the clients.
            self.commands.clear();
            for req in std::mem::take(&mut self.queue) {
                ctx.reply(req, Reply::NotLeader(self.leader_hint));
            }
            for (_, value) in std::mem::take(&mut self.clients) {
                for &req in value.requests() {
                    ctx.reply(req, Reply::NotLeader(self.leader_hint));
                }
            }
        } else {
            let wait = self.backoff(ctx);
            ctx.set_timer(PaxosTimer::Round, wait);
        }
    }

    fn learn(&mut self, slot: Slot, value: Value, ctx: &mut Ctx<Self>) {
        if slot < self.applied || self.learned.contains_key(&slot) {
            return;
        }
        self.learned.insert(slot, value.clone());
        ctx.note(PaxosNote::Learned { slot, value });
        while let Some(v) = self.learned.get(&self.applied) {
            let slot = self.applied;
            ctx.note(PaxosNote::Applied { slot });
            self.applied += 1;
            let answers: Vec<Option<Answer>> = match v {
                Value::Kv(reqs, cmds) => reqs.iter().zip(cmds.iter()).map(|(r, c)| self.store.apply(*r, c)).collect(),
                _ => Vec::new(),
            };
            if let Some(mine) = self.clients.remove(&slot) {
                // A slot chosen with another value (a new leader's) means the
                // commands were not committed there: the clients retry.
                let chosen = *v == mine;
                for (i, &req) in mine.requests().iter().enumerate() {
                    let reply = match answers.get(i) {
                        _ if !chosen => Reply::NotLeader(self.leader_hint),
                        Some(Some(a)) => Reply::Answer(*a),
                        _ => Reply::Committed,
                    };
                    ctx.reply(req, reply);
                }
            }
        }
        if !self.cfg.multi {
            // Single-decree: the instance is decided; answer waiting
            // requests. A proposer that knows the decision keeps announcing
            // it, so a learner cut off (or restarted) meanwhile catches up
            // whatever happened to the proposer that saw it chosen.
            for req in std::mem::take(&mut self.queue) {
                ctx.reply(req, Reply::Committed);
            }
            ctx.cancel_timer(PaxosTimer::Round);
            if self.cfg.is_proposer(self.id) {
                ctx.set_timer(PaxosTimer::Heartbeat, self.cfg.heartbeat);
            }
        }
    }

    /// Acceptor, phase 1b ("Paxos Made Simple" §2.2: respond to a prepare
    /// numbered above any it has responded to).
    fn on_prepare(&mut self, from: NodeId, ballot: Ballot, from_slot: Slot, ctx: &mut Ctx<Self>) {
        self.durable.max_round = self.durable.max_round.max(ballot.round);
        if ballot >= self.durable.promised {
            let before = self.durable.promised;
            self.durable.promised = ballot;
            if ballot != before {
                ctx.note(PaxosNote::Promised { ballot, before });
            }
            let accepted: Arc<[(Slot, Ballot, Value)]> =
                self.durable.accepted.range(from_slot..).map(|(s, (b, v))| (*s, *b, v.clone())).collect();
            self.reply_to(from, PaxosMsg::Promise { ballot, accepted }, ctx);
        } else {
            let promised = self.durable.promised;
            self.reply_to(from, PaxosMsg::Reject { ballot, promised }, ctx);
        }
    }

    /// Acceptor, phase 2b: accept unless it promised a higher ballot.
    fn on_accept(&mut self, from: NodeId, ballot: Ballot, slot: Slot, value: Value, ctx: &mut Ctx<Self>) {
        self.durable.max_round = self.durable.max_round.max(ballot.round);
        let promised = self.durable.promised;
        if ballot >= promised {
            self.durable.promised = ballot;
            if self.durable.accepted.get(&slot).is_none_or(|(b, v)| (*b, v) != (ballot, &value)) {
                self.durable.accepted.insert(slot, (ballot, value.clone()));
                self.top_accepted = self.top_accepted.max(Some(ballot));
                ctx.note(PaxosNote::AcceptedValue { slot, ballot, value, promised });
            }
            self.reply_to(from, PaxosMsg::Accepted { ballot, slot }, ctx);
        } else {
            self.reply_to(from, PaxosMsg::Reject { ballot, promised }, ctx);
        }
    }

    /// Proposer, phase 2: a quorum of acceptances chooses the value.
    fn on_accepted(&mut self, from: NodeId, ballot: Ballot, slot: Slot, ctx: &mut Ctx<Self>) {
        if ballot != self.ballot || self.phase != Phase::Leading {
            return;
        }
        let quorum = self.cfg.quorum();
        let Some(p) = self.proposals.get_mut(&slot) else { return };
        if from != self.id && !p.resent && !p.accepted.contains(&from) {
            // A round trip to `from`, measured (RFC 6298 §3: only on an
            // Accept sent once).
            self.rto.sample(ctx.now.saturating_sub(p.sent));
        }
        p.accepted.insert(from);
        if p.accepted.len() >= quorum {
            let value = p.value.clone();
            self.proposals.remove(&slot);
            ctx.note(PaxosNote::Chosen { slot, value: value.clone() });
            self.send_to_all(PaxosMsg::Decide { slot, value }, ctx);
            if !self.cfg.multi {
                // The proposer that saw the value chosen keeps
                // announcing it, so a learner cut off meanwhile
                // catches up when it hears again.
                ctx.set_timer(PaxosTimer::Heartbeat, self.cfg.heartbeat);
            } else {
                self.fill_pipeline(ctx);
            }
        }
    }

    /// Proposer: an acceptor promised a higher ballot; step down to it.
    fn on_reject(&mut self, ballot: Ballot, promised: Ballot, ctx: &mut Ctx<Self>) {
        self.durable.max_round = self.durable.max_round.max(promised.round);
        if ballot == self.ballot && self.phase != Phase::Idle && promised > self.ballot {
            self.step_down(promised, ctx);
        }
    }

    /// Learner: a value was chosen for a slot.
    fn on_decide(&mut self, from: NodeId, slot: Slot, value: Value, ctx: &mut Ctx<Self>) {
        self.learn(slot, value, ctx);
        if !self.cfg.multi && self.cfg.is_proposer(self.id) && self.phase != Phase::Idle && from != self.id {
            self.phase = Phase::Idle;
        }
    }

    /// A leader's heartbeat: follow it, wait for it, and fetch what it has
    /// learned that this server has not.
    fn on_heartbeat(&mut self, from: NodeId, ballot: Ballot, learned: Slot, ctx: &mut Ctx<Self>) {
        self.durable.max_round = self.durable.max_round.max(ballot.round);
        if ballot < self.ballot && self.phase != Phase::Idle {
            return; // an old leader; ours is newer
        }
        if self.phase != Phase::Idle && ballot > self.ballot {
            self.step_down(ballot, ctx);
        }
        self.leader_hint = Some(from);
        if self.cfg.multi && self.cfg.is_proposer(self.id) {
            let wait = self.leader_wait(ctx);
            ctx.set_timer(PaxosTimer::Round, wait);
        }
        // Multi-Paxos: ask only for slots the leader had learned by its
        // previous heartbeat: their Decides had a heartbeat interval to
        // arrive, where a heartbeat may overtake Decides still on their way.
        let known = if self.cfg.multi { std::mem::replace(&mut self.heard_learned, learned) } else { learned };
        let mine = self.first_unlearned();
        if mine < known.min(learned) {
            ctx.send(from, PaxosMsg::Fetch { from: mine });
        }
    }

    /// Answers a fetch with the learned values from `first` on (at most 64).
    fn on_fetch(&mut self, from: NodeId, first: Slot, ctx: &mut Ctx<Self>) {
        let values: Arc<[Value]> = (first..).map_while(|s| self.learned.get(&s).cloned()).take(64).collect();
        if !values.is_empty() {
            ctx.send(from, PaxosMsg::Decided { from: first, values });
        }
    }

    /// Learns the values a fetch brought back, from slot `first` on.
    fn on_decided(&mut self, first: Slot, values: &[Value], ctx: &mut Ctx<Self>) {
        for (i, v) in values.iter().enumerate() {
            self.learn(first + i as u64, v.clone(), ctx);
        }
    }

    fn on_promise(&mut self, from: NodeId, ballot: Ballot, accepted: &[(Slot, Ballot, Value)], ctx: &mut Ctx<Self>) {
        if ballot != self.ballot {
            return;
        }
        let quorum = self.cfg.quorum();
        let Phase::Preparing { promised, reports } = &mut self.phase else { return };
        promised.insert(from);
        for (slot, b, v) in accepted {
            let e = reports.entry(*slot).or_insert((*b, v.clone()));
            if *b > e.0 {
                *e = (*b, v.clone());
            }
        }
        if promised.len() < quorum {
            return;
        }
        let reports = std::mem::take(reports);
        self.phase = Phase::Leading;
        ctx.note(PaxosNote::Prepared { ballot });
        if self.cfg.multi {
            ctx.note(PaxosNote::BecameLeader { ballot });
            self.leader_hint = Some(self.id);
            ctx.cancel_timer(PaxosTimer::Round);
            ctx.set_timer(PaxosTimer::Heartbeat, self.cfg.heartbeat);
            // Re-propose what phase 1 reported, fill gaps with no-ops
            // ("Paxos Made Moderately Complex" §3: the leader's p1b merge).
            let first = self.first_unlearned();
            let last = reports.keys().next_back().map_or(first, |s| (s + 1).max(first));
            for slot in first..last {
                if self.learned.contains_key(&slot) {
                    continue;
                }
                let reported = reports.get(&slot).map(|(_, v)| v.clone());
                self.propose(slot, Value::Noop, reported, ctx);
            }
            // Slots from `last` on are free: no acceptor in this quorum
            // accepted anything there, so nothing there can be chosen. A
            // slot number this server handed out in an earlier term is not
            // kept: reusing it leaves no gap below the next command.
            self.next_slot = last.max(first);
            // Commands that waited for phase 1 go into slots of up to
            // `max_batch`, as many as the pipeline has room for.
            self.fill_pipeline(ctx);
            self.heartbeat(ctx);
        } else {
            let own = self.own.clone().unwrap_or(Value::Own(self.id));
            let reported = reports.get(&0).map(|(_, v)| v.clone());
            self.propose(0, own, reported, ctx);
        }
    }

    fn heartbeat(&mut self, ctx: &mut Ctx<Self>) {
        let msg = PaxosMsg::Heartbeat { ballot: self.ballot, learned: self.first_unlearned() };
        for n in 0..self.cfg.nodes() {
            if n != self.id {
                ctx.send(n, msg.clone());
            }
        }
    }
}

impl Protocol for PaxosNode {
    type Msg = PaxosMsg;
    type Timer = PaxosTimer;
    type Note = PaxosNote;
    type Durable = PaxosDurable;
    type Config = PaxosConfig;

    fn new(id: NodeId, _nodes: u32, config: &PaxosConfig) -> Self {
        PaxosNode::recover(id, _nodes, config, PaxosDurable::default())
    }

    fn recover(id: NodeId, _nodes: u32, config: &PaxosConfig, durable: PaxosDurable) -> Self {
        PaxosNode {
            id,
            cfg: config.clone(),
            top_accepted: durable.accepted.values().map(|(b, _)| *b).max(),
            durable,
            ballot: Ballot::default(),
            phase: Phase::Idle,
            proposals: BTreeMap::new(),
            next_slot: 0,
            queue: Vec::new(),
            commands: BTreeMap::new(),
            store: KvStore::default(),
            clients: BTreeMap::new(),
            rto: Rto::default(),
            resend_at: None,
            heard_learned: 0,
            own: None,
            leader_hint: None,
            learned: BTreeMap::new(),
            applied: 0,
        }
    }

    fn durable(&self) -> PaxosDurable {
        self.durable.clone()
    }

    fn msg_heap_bytes(msg: &PaxosMsg) -> usize {
        use std::mem::size_of;
        let value = |v: &Value| match v {
            Value::Batch(b) => 16 + b.len() * size_of::<RequestId>(),
            _ => 0,
        };
        match msg {
            PaxosMsg::Promise { accepted, .. } => {
                16 + accepted.len() * size_of::<(Slot, Ballot, Value)>()
                    + accepted.iter().map(|(_, _, v)| value(v)).sum::<usize>()
            }
            PaxosMsg::Accept { value: v, .. } | PaxosMsg::Decide { value: v, .. } => value(v),
            PaxosMsg::Decided { values, .. } => {
                16 + values.len() * size_of::<Value>() + values.iter().map(value).sum::<usize>()
            }
            _ => 0,
        }
    }

    fn heap_bytes(&self) -> usize {
        btree_bytes::<Slot, (Ballot, Value)>(self.durable.accepted.len())
            + btree_bytes::<Slot, Value>(self.learned.len() + self.clients.len())
            + btree_bytes::<Slot, Proposal>(self.proposals.len())
            + self.queue.capacity() * std::mem::size_of::<RequestId>()
            + self.store.heap_bytes()
    }

    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        if !self.cfg.is_proposer(self.id) {
            return;
        }
        if self.cfg.multi {
            // The lowest-numbered proposer tries first; others wait longer,
            // so a clean start has one leader without a duel.
            let wait = if self.id == 0 { ctx.rng.range(1, 10 * MS) } else { self.leader_wait(ctx) };
            ctx.set_timer(PaxosTimer::Round, wait);
        } else {
            let own = Value::Own(self.id);
            self.own = Some(own.clone());
            ctx.note(PaxosNote::Proposed { value: own });
            let wait = ctx.rng.range(0, self.cfg.start_spread);
            ctx.set_timer(PaxosTimer::Round, wait);
        }
    }

    /// The protocol is one guarded match over messages; each arm calls the
    /// handler of that message.
    fn on_message(&mut self, from: NodeId, msg: PaxosMsg, ctx: &mut Ctx<Self>) {
        match msg {
            PaxosMsg::Prepare { ballot, from_slot } if self.cfg.is_acceptor(self.id) => {
                self.on_prepare(from, ballot, from_slot, ctx)
            }
            PaxosMsg::Accept { ballot, slot, value } if self.cfg.is_acceptor(self.id) => {
                self.on_accept(from, ballot, slot, value, ctx)
            }
            PaxosMsg::Prepare { .. } | PaxosMsg::Accept { .. } => {}
            PaxosMsg::Promise { ballot, accepted } => self.on_promise(from, ballot, &accepted, ctx),
            PaxosMsg::Accepted { ballot, slot } => self.on_accepted(from, ballot, slot, ctx),
            PaxosMsg::Reject { ballot, promised } => self.on_reject(ballot, promised, ctx),
            PaxosMsg::Decide { slot, value } => self.on_decide(from, slot, value, ctx),
            PaxosMsg::Heartbeat { ballot, learned } => self.on_heartbeat(from, ballot, learned, ctx),
            PaxosMsg::Fetch { from: first } => self.on_fetch(from, first, ctx),
            PaxosMsg::Decided { from: first, values } => self.on_decided(first, &values, ctx),
        }
    }

    fn on_timer(&mut self, timer: PaxosTimer, ctx: &mut Ctx<Self>) {
        match timer {
            PaxosTimer::Round => {
                if self.cfg.multi && self.phase == Phase::Leading {
                    return;
                }
                self.start_round(ctx);
            }
            PaxosTimer::Heartbeat if !self.cfg.multi && self.learned.contains_key(&0) => {
                let msg = PaxosMsg::Heartbeat { ballot: self.ballot, learned: 1 };
                for n in 0..self.cfg.nodes() {
                    if n != self.id {
                        ctx.send(n, msg.clone());
                    }
                }
                ctx.set_timer(PaxosTimer::Heartbeat, self.cfg.heartbeat);
            }
            PaxosTimer::Heartbeat => {
                // Only a heartbeat: open slots are sent again when their
                // retransmission timeout expires (the Resend timer).
                if self.phase == Phase::Leading {
                    self.heartbeat(ctx);
                    ctx.set_timer(PaxosTimer::Heartbeat, self.cfg.heartbeat);
                }
            }
            PaxosTimer::Resend => self.resend_due(ctx),
        }
    }

    fn on_request(&mut self, req: RequestId, ctx: &mut Ctx<Self>) {
        if !self.cfg.multi {
            // Single-decree: a request asks this proposer to propose it (if
            // it has not proposed yet) and waits for the decision.
            if self.learned.contains_key(&0) {
                ctx.reply(req, Reply::Committed);
                return;
            }
            if !self.cfg.is_proposer(self.id) {
                ctx.reply(req, Reply::NotLeader(Some(0)));
                return;
            }
            self.queue.push(req);
            if self.own.is_none() || self.phase == Phase::Idle {
                let v = Value::Request(req);
                if self.own.is_none() {
                    self.own = Some(v.clone());
                    ctx.note(PaxosNote::Proposed { value: v });
                }
                if self.phase == Phase::Idle {
                    self.start_round(ctx);
                }
            }
            return;
        }
        match self.phase {
            Phase::Leading => {
                self.queue.push(req);
                self.fill_pipeline(ctx);
            }
            Phase::Preparing { .. } => self.queue.push(req),
            Phase::Idle => ctx.reply(req, Reply::NotLeader(self.leader_hint.filter(|&h| h != self.id))),
        }
    }

    /// A key-value command goes through a slot like any request; every
    /// server applies it when it applies the slot.
    fn on_command(&mut self, req: RequestId, cmd: Command, ctx: &mut Ctx<Self>) {
        if self.cfg.multi && self.phase != Phase::Idle {
            // A retry of a command this server already holds (queued, or
            // in a slot it proposed): the answer comes when that slot is
            // applied. Queued twice, the second copy would find its command
            // taken by the first and go out as a plain request, losing the
            // commands batched with it.
            if self.queue.contains(&req) || self.clients.values().any(|v| v.requests().contains(&req)) {
                return;
            }
            self.commands.insert(req, cmd);
        }
        self.on_request(req, ctx);
    }

    fn on_force_timeout(&mut self, ctx: &mut Ctx<Self>) {
        if self.cfg.is_proposer(self.id) && !(self.cfg.multi && self.phase == Phase::Leading) {
            self.start_round(ctx);
        }
    }
}
