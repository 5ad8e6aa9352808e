//! The lock service replicated by Raft: each lock server (S2 to S(1+k))
//! holds a [`RaftNode`] of the Raft lab, unchanged, and a lock table (the
//! single lock server's [`LockServer`]) as the state machine its log feeds.
//!
//! * **Commands through the log.** A client's Acquire, Check, Release and
//!   Heartbeat (the session's keep-alive) are proposed to Raft as one
//!   command each ([`Cmd`], packed into the entry's 64-bit command). No
//!   server changes its table before the entry commits; every server
//!   applies the same entries in the same order (Raft's State Machine
//!   Safety, §5.4.3), so every table passes through the same states.
//! * **Only the leader speaks.** Applying an entry produces what the single
//!   server would have done (answers to clients, wake-ups, notes, lease
//!   timers); the leader passes it on, followers keep only the new table.
//!   A follower or candidate answers a client with `NotLeader` and the
//!   leader it knows, and a client that hears nothing tries the next
//!   server (Raft §8: "clients ... find the leader").
//! * **Fencing tokens are log indexes.** A grant's token is the index of the
//!   committed entry that granted it; indexes only grow, across leaders
//!   and crashes (etcd's revision and ZooKeeper's zxid play this part).
//! * **Sessions expire through the log.** The leader times each session
//!   from the last entry that renewed it; when the lease passes without a
//!   keep-alive it proposes `Expire(client, that entry's index)`, which
//!   releases the client's locks when applied, unless a later keep-alive
//!   was applied first. A new leader gives every session a full lease from
//!   its election (etcd renews leases on a leader change the same way),
//!   so a leader change never shortens a lease.
//!
//! The tables live in memory: a restarted server rebuilds its table by
//! applying the log again from the first entry. Logs are not compacted
//! (a snapshot of Raft's own state machine would not carry the table), so
//! each server's log grows by one entry per command.

use super::node::{LockMsg, LockNode, LockNote, LockServer, LockTimer};
use super::{LockConfig, LOCK_SERVER};
use crate::raft::{RaftConfig, RaftDurable, RaftNode, RaftNote, Role};
use crate::sim::{Ctx, Effect, NodeId, Protocol, Reply, RequestId};
use std::collections::BTreeMap;

/// A lock command, as the Raft log carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// A client's message to the lock service.
    Client(NodeId, Ask),
    /// The leader: `client`'s session, last renewed by the entry at
    /// `renewed`, ran out.
    Expire { client: NodeId, renewed: u64 },
}

/// What a client asks of the lock service (the four messages it sends it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// [`LockMsg::Acquire`].
    Acquire { key: u32, op: u64, woken: bool },
    /// [`LockMsg::Check`].
    Check { key: u32 },
    /// [`LockMsg::Release`].
    Release { key: u32, token: u64 },
    /// [`LockMsg::Heartbeat`].
    Heartbeat { key: u32, op: u64 },
}

const KIND_BITS: u32 = 3;
const CLIENT_BITS: u32 = 8;
const KEY_BITS: u32 = 17;
/// Bits left for an attempt number, a token or an index.
const ARG_BITS: u32 = 64 - KIND_BITS - CLIENT_BITS - 1 - KEY_BITS;

impl Ask {
    /// The message a client sends for it.
    pub fn msg(self) -> LockMsg {
        match self {
            Ask::Acquire { key, op, woken } => LockMsg::Acquire { key, op, woken },
            Ask::Check { key } => LockMsg::Check { key },
            Ask::Release { key, token } => LockMsg::Release { key, token },
            Ask::Heartbeat { key, op } => LockMsg::Heartbeat { key, op },
        }
    }

    /// The ask a client's message makes, if it is one for the lock service.
    pub fn of(msg: &LockMsg) -> Option<Ask> {
        Some(match *msg {
            LockMsg::Acquire { key, op, woken } => Ask::Acquire { key, op, woken },
            LockMsg::Check { key } => Ask::Check { key },
            LockMsg::Release { key, token } => Ask::Release { key, token },
            LockMsg::Heartbeat { key, op } => Ask::Heartbeat { key, op },
            _ => return None,
        })
    }
}

impl Cmd {
    /// The command packed into a Raft entry's command number: kind (3
    /// bits), client (8), a flag (1), key (17), and an attempt, token or
    /// index (35). Never 0 (Raft's no-op). None if a field does not fit
    /// (a key beyond 131,071, or more than 34 billion of anything).
    pub fn encode(self) -> Option<RequestId> {
        let (kind, client, flag, key, arg) = match self {
            Cmd::Client(c, Ask::Acquire { key, op, woken }) => (1, c, woken, key, op),
            Cmd::Client(c, Ask::Check { key }) => (2, c, false, key, 0),
            Cmd::Client(c, Ask::Release { key, token }) => (3, c, false, key, token),
            Cmd::Client(c, Ask::Heartbeat { key, op }) => (4, c, false, key, op),
            Cmd::Expire { client, renewed } => (5, client, false, 0, renewed),
        };
        if client >= 1 << CLIENT_BITS || key >= 1 << KEY_BITS || arg >= 1 << ARG_BITS {
            return None;
        }
        let mut w = kind;
        w |= u64::from(client) << KIND_BITS;
        w |= u64::from(flag) << (KIND_BITS + CLIENT_BITS);
        w |= u64::from(key) << (KIND_BITS + CLIENT_BITS + 1);
        w |= arg << (KIND_BITS + CLIENT_BITS + 1 + KEY_BITS);
        Some(w)
    }

    /// The command an entry's command number carries (None: not one).
    pub fn decode(w: RequestId) -> Option<Cmd> {
        let field = |shift: u32, bits: u32| (w >> shift) & ((1u64 << bits) - 1);
        let client = field(KIND_BITS, CLIENT_BITS) as NodeId;
        let flag = field(KIND_BITS + CLIENT_BITS, 1) == 1;
        let key = field(KIND_BITS + CLIENT_BITS + 1, KEY_BITS) as u32;
        let arg = field(KIND_BITS + CLIENT_BITS + 1 + KEY_BITS, ARG_BITS);
        Some(match field(0, KIND_BITS) {
            1 => Cmd::Client(client, Ask::Acquire { key, op: arg, woken: flag }),
            2 => Cmd::Client(client, Ask::Check { key }),
            3 => Cmd::Client(client, Ask::Release { key, token: arg }),
            4 => Cmd::Client(client, Ask::Heartbeat { key, op: arg }),
            5 => Cmd::Expire { client, renewed: arg },
            _ => return None,
        })
    }
}

/// The Raft configuration of the lock service: the Raft lab's defaults,
/// with Pre-Vote and CheckQuorum (so a leader cut off from its majority
/// steps down, thesis §6.2), a no-op at each election (so a new leader
/// learns what is committed and applies it, thesis §6.4), and no
/// compaction (see the module's comment).
pub fn raft_config(servers: u32) -> RaftConfig {
    RaftConfig {
        pre_vote: true,
        check_quorum: true,
        snapshot_every: 0,
        members: servers,
        read_path: crate::raft::ReadPath::ReadIndex,
        ..RaftConfig::default()
    }
}

/// One server of the replicated lock service.
#[derive(Clone, Debug)]
pub struct Replica {
    /// Its Raft server (numbered from 0 among the lock servers).
    pub raft: RaftNode,
    /// The lock table: the state machine, at `applied`.
    pub table: LockServer,
    /// Per session, the index of the entry that last renewed it.
    pub renewed: BTreeMap<NodeId, u64>,
    /// Index of the last entry applied to the table.
    pub applied: u64,
    /// Whether it led after its last step (to notice winning an election).
    leading: bool,
}

impl Replica {
    /// Lock server `id` (a node id) of a service of `servers`, fresh or from
    /// its disk.
    pub fn new(id: NodeId, servers: u32, durable: Option<RaftDurable>) -> Replica {
        let cfg = raft_config(servers);
        let index = id - LOCK_SERVER;
        let raft = match durable {
            Some(d) => RaftNode::recover(index, servers, &cfg, d),
            None => RaftNode::new(index, servers, &cfg),
        };
        Replica {
            raft,
            table: LockServer { next_token: 0, ..LockServer::default() },
            renewed: BTreeMap::new(),
            applied: 0,
            leading: false,
        }
    }

    /// Whether it leads the service now.
    pub fn is_leader(&self) -> bool {
        self.raft.role() == Role::Leader
    }

    /// Runs `f` on its Raft server, passes on what Raft did (messages to
    /// the other lock servers, timers, redirects to clients, role changes),
    /// then applies what committed.
    pub fn step(
        &mut self,
        cfg: &LockConfig,
        ctx: &mut Ctx<LockNode>,
        f: impl FnOnce(&mut RaftNode, &mut Ctx<RaftNode>),
    ) {
        let mut effects = Vec::new();
        {
            let mut inner = Ctx {
                id: ctx.id - LOCK_SERVER,
                nodes: cfg.servers,
                now: ctx.now,
                clock: ctx.clock,
                rng: &mut *ctx.rng,
                effects: &mut effects,
            };
            f(&mut self.raft, &mut inner);
        }
        for e in effects {
            match e {
                Effect::Send { to, msg } => ctx.send(to + LOCK_SERVER, LockMsg::Raft(msg)),
                Effect::SetTimer { timer, after } => ctx.set_timer(LockTimer::Raft(timer), after),
                Effect::CancelTimer { timer } => ctx.cancel_timer(LockTimer::Raft(timer)),
                Effect::Reply { req, reply: Reply::NotLeader(hint) } => {
                    if let Some(Cmd::Client(client, _)) = Cmd::decode(req) {
                        ctx.send(client, LockMsg::NotLeader { leader: hint.map(|h| h + LOCK_SERVER) });
                    }
                }
                Effect::Reply { .. } => {}
                Effect::Note(n) => {
                    if matches!(
                        n,
                        RaftNote::BecameLeader { .. }
                            | RaftNote::BecameCandidate { .. }
                            | RaftNote::SteppedDown { .. }
                            | RaftNote::Truncated { .. }
                    ) {
                        ctx.note(LockNote::Raft(n));
                    }
                }
            }
        }
        self.apply_committed(cfg, ctx);
        let leading = self.is_leader();
        if leading && !self.leading {
            // A new leader times every session afresh: a full lease from now.
            for &client in self.table.sessions.keys() {
                ctx.set_timer(LockTimer::Session(client), cfg.lease);
            }
        }
        self.leading = leading;
    }

    /// A client's message: proposed to the log (a follower redirects).
    pub fn ask(&mut self, cfg: &LockConfig, client: NodeId, ask: Ask, ctx: &mut Ctx<LockNode>) {
        let Some(req) = Cmd::Client(client, ask).encode() else { return };
        self.step(cfg, ctx, |raft, c| raft.on_request(req, c));
    }

    /// The leader's timer on `client`'s session ran out: it proposes the
    /// session's expiry (followers ignore timers left from leading).
    pub fn session_timeout(&mut self, cfg: &LockConfig, client: NodeId, ctx: &mut Ctx<LockNode>) {
        let Some(&renewed) = self.renewed.get(&client) else { return };
        if !self.is_leader() || !self.table.sessions.contains_key(&client) {
            return;
        }
        let Some(req) = (Cmd::Expire { client, renewed }).encode() else { return };
        self.step(cfg, ctx, |raft, c| raft.on_request(req, c));
    }

    /// Applies every committed entry not applied yet, in order. The leader
    /// passes on what applying did; a follower only keeps the table.
    fn apply_committed(&mut self, cfg: &LockConfig, ctx: &mut Ctx<LockNode>) {
        while self.applied < self.raft.commit_index() {
            let index = self.applied + 1;
            let Some(entry) = self.raft.entry(index) else { break };
            self.applied = index;
            let Some(cmd) = entry.is_command().then(|| Cmd::decode(entry.command)).flatten() else { continue };
            let mut effects = Vec::new();
            {
                let mut scratch = Ctx {
                    id: ctx.id,
                    nodes: ctx.nodes,
                    now: ctx.now,
                    clock: ctx.clock,
                    rng: &mut *ctx.rng,
                    effects: &mut effects,
                };
                self.apply(cfg, index, cmd, &mut scratch);
            }
            if self.is_leader() {
                ctx.effects.extend(effects);
            }
        }
    }

    /// Applies the entry at `index` to the table: every grant it makes
    /// carries `index` as its token.
    fn apply(&mut self, cfg: &LockConfig, index: u64, cmd: Cmd, ctx: &mut Ctx<LockNode>) {
        self.table.token_is = Some(index);
        match cmd {
            Cmd::Client(client, ask) => {
                self.table.on_message(cfg, client, ask.msg(), ctx);
                let renewed = ctx
                    .effects
                    .iter()
                    .any(|e| matches!(e, Effect::SetTimer { timer: LockTimer::Session(c), .. } if *c == client));
                if renewed {
                    self.renewed.insert(client, index);
                }
            }
            Cmd::Expire { client, renewed } => {
                if self.renewed.get(&client) == Some(&renewed) {
                    self.renewed.remove(&client);
                    self.table.expire(cfg, client, ctx);
                }
            }
        }
        if !self.table.sessions.contains_key(&cmd.client()) {
            self.renewed.remove(&cmd.client());
        }
    }
}

impl Cmd {
    /// The client the command is about.
    pub fn client(self) -> NodeId {
        match self {
            Cmd::Client(c, _) | Cmd::Expire { client: c, .. } => c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every command a client can send survives the trip through a log
    // entry's command number, at the largest values the lab allows.
    #[test]
    fn commands_survive_the_log() {
        let cmds = [
            Cmd::Client(207, Ask::Acquire { key: 99_999, op: (1 << ARG_BITS) - 1, woken: true }),
            Cmd::Client(3, Ask::Check { key: 0 }),
            Cmd::Client(9, Ask::Release { key: 7, token: 123_456 }),
            Cmd::Client(200, Ask::Heartbeat { key: 131_071, op: 5 }),
            Cmd::Expire { client: 4, renewed: 77 },
        ];
        for c in cmds {
            let w = c.encode().expect("fits");
            assert_ne!(w, 0, "0 is Raft's no-op");
            assert_eq!(Cmd::decode(w), Some(c));
        }
        assert_eq!(Cmd::Client(3, Ask::Check { key: 1 << KEY_BITS }).encode(), None);
        assert_eq!(Cmd::decode(0), None);
    }
}
