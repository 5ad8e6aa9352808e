//! The three kinds of server of the Locks lab, as one protocol: the
//! storage (S1), the lock server (S2; or S2 to S(1+k) replicating it by
//! Raft, see [`super::service`]; or S2 to S(1+N), Redlock's independent
//! servers) and the clients (after the lock servers).
//! A client asks the lock server it believes leads; one that does not
//! lead answers `NotLeader` with the leader it knows, and a client that
//! hears nothing tries the next lock server.
//!
//! Everything a client sends, it sends again after `resend` until it hears
//! back, so a lost message costs time, not the transaction; the storage
//! remembers each client's last operation and answers a repeat the same
//! way (a duplicated write is applied once).

use super::keys::exponential;
use super::service::{Ask, Replica};
use super::{LockConfig, Service, LOCK_SERVER, STORAGE};
use crate::raft::{RaftDurable, RaftMsg, RaftNote, RaftTimer};
use crate::sim::{Ctx, Fingerprint, NodeId, Observable, Protocol, RequestId, Time};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

/// Messages between clients, the lock server and the storage. `woken`
/// marks the messages a release caused (a waiter woken, and what it and
/// the server said next), which the lab counts per release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockMsg {
    /// Client to lock server: I want `key`'s lock, for attempt `op` (a
    /// newer attempt than the one holding it ends that hold: a release
    /// overtaken on the network cannot leave a stale hold behind).
    Acquire { key: u32, op: u64, woken: bool },
    /// Lock server: you hold `key`'s lock, with this fencing token.
    Granted { key: u32, op: u64, token: u64, woken: bool },
    /// Lock server (ZooKeeper's recipe): you wait, `ahead` before you.
    Queued { key: u32, op: u64, ahead: u32, woken: bool },
    /// Lock server (naive recipe): it is held; you will be told when it is
    /// released.
    Busy { key: u32, op: u64, woken: bool },
    /// Lock server to a waiter: the lock (naive), or your predecessor
    /// (ZooKeeper), is gone.
    Wake { key: u32 },
    /// A woken waiter (ZooKeeper's recipe): am I first now?
    Check { key: u32 },
    /// Lock server: I know no wait or hold of yours on `key` (your session
    /// expired, or I restarted).
    Gone { key: u32, woken: bool },
    /// Client to lock server: I am done with `key`.
    Release { key: u32, token: u64 },
    /// Client to lock server: my session is alive; I want or hold `key`
    /// for attempt `op`.
    Heartbeat { key: u32, op: u64 },
    /// Lock server: whether the session lives, the token if the client
    /// holds `key` for attempt `op`, and whether `key` is free.
    HeartbeatAck { key: u32, op: u64, alive: bool, holds: Option<u64>, free: bool },
    /// Client to storage: read `key` (operation `op`) with a fencing
    /// token (0: none).
    Read { key: u32, op: u64, token: u64 },
    /// Storage: the value and its version.
    ReadOk { key: u32, op: u64, value: i64, version: u64 },
    /// Client to storage (pessimistic): write `value`, computed from the
    /// read of `read_version`, under `token`.
    Write { key: u32, op: u64, token: u64, read_version: u64, value: i64 },
    /// Client to storage (optimistic): write `value` if the key is still
    /// at `version`.
    Cas { key: u32, op: u64, version: u64, value: i64 },
    /// Storage: written; the key is now at `version`.
    WriteOk { key: u32, op: u64, version: u64 },
    /// Storage (fencing): refused, it has seen token `seen` on this key.
    Refused { key: u32, op: u64, seen: u64 },
    /// Storage: the compare-and-set failed, the key is at `version`.
    CasFailed { key: u32, op: u64, version: u64 },
    /// A lock server of the replicated service that does not lead: ask
    /// `leader` (if it knows one).
    NotLeader { leader: Option<NodeId> },
    /// Between the lock servers of the replicated service: Raft.
    Raft(RaftMsg),
    /// Client to a Redlock server: set `key` to `value` if it is unset,
    /// expiring after the TTL (Redis's `SET key value NX PX ttl`).
    SetKey { key: u32, op: u64, value: u64 },
    /// Redlock server: whether it set the key (`ok`), for attempt `op`.
    SetReply { key: u32, op: u64, ok: bool },
    /// Client to a Redlock server: delete `key` if it still holds `value`.
    Unlock { key: u32, value: u64 },
}

impl LockMsg {
    /// Whether a release caused it (see [`LockMsg`]).
    pub fn woken(&self) -> bool {
        match self {
            LockMsg::Acquire { woken, .. }
            | LockMsg::Granted { woken, .. }
            | LockMsg::Queued { woken, .. }
            | LockMsg::Busy { woken, .. }
            | LockMsg::Gone { woken, .. } => *woken,
            LockMsg::Wake { .. } | LockMsg::Check { .. } => true,
            _ => false,
        }
    }
}

impl Observable for LockMsg {
    fn kind(&self) -> &'static str {
        match self {
            LockMsg::Acquire { .. } => "Acquire",
            LockMsg::Granted { .. } => "Granted",
            LockMsg::Queued { .. } => "Queued",
            LockMsg::Busy { .. } => "Busy",
            LockMsg::Wake { .. } => "Wake",
            LockMsg::Check { .. } => "Check",
            LockMsg::Gone { .. } => "Gone",
            LockMsg::Release { .. } => "Release",
            LockMsg::Heartbeat { .. } => "Heartbeat",
            LockMsg::HeartbeatAck { .. } => "HeartbeatAck",
            LockMsg::Read { .. } => "Read",
            LockMsg::ReadOk { .. } => "ReadOk",
            LockMsg::Write { .. } => "Write",
            LockMsg::Cas { .. } => "Cas",
            LockMsg::WriteOk { .. } => "WriteOk",
            LockMsg::Refused { .. } => "Refused",
            LockMsg::CasFailed { .. } => "CasFailed",
            LockMsg::NotLeader { .. } => "NotLeader",
            LockMsg::SetKey { .. } => "SetKey",
            LockMsg::SetReply { .. } => "SetReply",
            LockMsg::Unlock { .. } => "Unlock",
            LockMsg::Raft(m) => match m.kind() {
                "Heartbeat" => "RaftHeartbeat",
                "HeartbeatReply" => "RaftHeartbeatReply",
                k => k,
            },
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        let b = |v: bool| u64::from(v);
        let words: [u64; 5] = match *self {
            LockMsg::Raft(ref m) => {
                fp.u64(18);
                m.digest(fp);
                return;
            }
            LockMsg::NotLeader { leader } => [19, leader.map_or(0, |l| u64::from(l) + 1), 0, 0, 0],
            LockMsg::Acquire { key, op, woken } => [1, key.into(), b(woken), op, 0],
            LockMsg::Granted { key, op, token, woken } => [2, key.into(), token, b(woken), op],
            LockMsg::Queued { key, op, ahead, woken } => [3, key.into(), ahead.into(), b(woken), op],
            LockMsg::Busy { key, op, woken } => [4, key.into(), b(woken), op, 0],
            LockMsg::Wake { key } => [5, key.into(), 0, 0, 0],
            LockMsg::Check { key } => [6, key.into(), 0, 0, 0],
            LockMsg::Gone { key, woken } => [7, key.into(), b(woken), 0, 0],
            LockMsg::Release { key, token } => [8, key.into(), token, 0, 0],
            LockMsg::Heartbeat { key, op } => [9, key.into(), op, 0, 0],
            LockMsg::HeartbeatAck { key, op, alive, holds, free } => {
                [10, u64::from(key) | op << 32, b(alive), holds.map_or(0, |t| t + 1), b(free)]
            }
            LockMsg::Read { key, op, token } => [11, key.into(), op, token, 0],
            LockMsg::ReadOk { key, op, value, version } => [12, key.into(), op, value as u64, version],
            LockMsg::Write { key, op, token, read_version, value } => {
                [13, u64::from(key) ^ (value as u64) << 20, op, token, read_version]
            }
            LockMsg::Cas { key, op, version, value } => [14, key.into(), op, version, value as u64],
            LockMsg::WriteOk { key, op, version } => [15, key.into(), op, version, 0],
            LockMsg::Refused { key, op, seen } => [16, key.into(), op, seen, 0],
            LockMsg::CasFailed { key, op, version } => [17, key.into(), op, version, 0],
            LockMsg::SetKey { key, op, value } => [20, key.into(), op, value, 0],
            LockMsg::SetReply { key, op, ok } => [21, key.into(), op, b(ok), 0],
            LockMsg::Unlock { key, value } => [22, key.into(), value, 0, 0],
        };
        for w in words {
            fp.u64(w);
        }
    }

    fn describe(&self, out: &mut String) {
        if let LockMsg::Raft(m) = self {
            return m.describe(out);
        }
        out.push_str(self.kind());
        let w =
            if self.woken() && !matches!(self, LockMsg::Wake { .. } | LockMsg::Check { .. }) { " woken" } else { "" };
        let _ = match self {
            LockMsg::Acquire { key, .. } | LockMsg::Busy { key, .. } | LockMsg::Gone { key, .. } => {
                write!(out, " k{key}{w}")
            }
            LockMsg::Wake { key } | LockMsg::Check { key } | LockMsg::Heartbeat { key, .. } => write!(out, " k{key}"),
            LockMsg::Granted { key, token, .. } => write!(out, " k{key} token {token}{w}"),
            LockMsg::Queued { key, ahead, .. } => write!(out, " k{key} ahead {ahead}{w}"),
            LockMsg::Release { key, token } => write!(out, " k{key} token {token}"),
            LockMsg::HeartbeatAck { key, alive, holds, .. } => match (alive, holds) {
                (false, _) => write!(out, " k{key} session expired"),
                (true, Some(t)) => write!(out, " k{key} holds token {t}"),
                (true, None) => write!(out, " k{key} alive"),
            },
            LockMsg::Read { key, token, .. } => write!(out, " k{key} token {token}"),
            LockMsg::ReadOk { key, value, version, .. } => write!(out, " k{key} = {value} v{version}"),
            LockMsg::Write { key, token, read_version, value, .. } => {
                write!(out, " k{key} = {value} token {token} read v{read_version}")
            }
            LockMsg::Cas { key, version, value, .. } => write!(out, " k{key} = {value} if v{version}"),
            LockMsg::WriteOk { key, version, .. } => write!(out, " k{key} now v{version}"),
            LockMsg::Refused { key, seen, .. } => write!(out, " k{key} saw token {seen}"),
            LockMsg::CasFailed { key, version, .. } => write!(out, " k{key} is at v{version}"),
            LockMsg::NotLeader { leader: Some(l) } => write!(out, " ask S{}", l + 1),
            LockMsg::NotLeader { leader: None } => Ok(()),
            LockMsg::SetKey { key, value, .. } | LockMsg::Unlock { key, value } => write!(out, " k{key} value {value}"),
            LockMsg::SetReply { key, ok: true, .. } => write!(out, " k{key} set"),
            LockMsg::SetReply { key, ok: false, .. } => write!(out, " k{key} taken"),
            LockMsg::Raft(_) => Ok(()),
        };
    }
}

/// Timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LockTimer {
    /// A client's think time is over: it starts a transaction.
    Think,
    /// A client's work between read and write is done.
    Work,
    /// A client sends its unanswered request again.
    Resend,
    /// A client sends a heartbeat.
    Heartbeat,
    /// A client's back-off after an abort is over.
    Backoff,
    /// The lock server's lease on a client's session ran out.
    Session(NodeId),
    /// A timer of a replicated lock server's Raft.
    Raft(RaftTimer),
    /// A Redlock server's key ran out its TTL (on the server's clock).
    KeyTtl(u32),
    /// The storage has served the request at the head of its line.
    Serve,
}

impl Observable for LockTimer {
    fn kind(&self) -> &'static str {
        match self {
            LockTimer::Think => "Think",
            LockTimer::Work => "Work",
            LockTimer::Resend => "Resend",
            LockTimer::Heartbeat => "Heartbeat",
            LockTimer::Backoff => "Backoff",
            LockTimer::Session(_) => "Lease",
            LockTimer::KeyTtl(_) => "KeyTtl",
            LockTimer::Serve => "Serve",
            LockTimer::Raft(RaftTimer::Heartbeat) => "RaftHeartbeat",
            LockTimer::Raft(t) => t.kind(),
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        fp.u64(match self {
            LockTimer::Think => 1,
            LockTimer::Work => 2,
            LockTimer::Resend => 3,
            LockTimer::Heartbeat => 4,
            LockTimer::Backoff => 5,
            LockTimer::Session(c) => 6 + (u64::from(*c) << 8),
            LockTimer::KeyTtl(k) => 8 + (u64::from(*k) << 8),
            LockTimer::Serve => 9,
            LockTimer::Raft(t) => {
                fp.u64(7);
                t.digest(fp);
                return;
            }
        });
    }

    fn describe(&self, out: &mut String) {
        if let LockTimer::Raft(t) = self {
            return t.describe(out);
        }
        out.push_str(self.kind());
        match self {
            LockTimer::Session(c) => {
                let _ = write!(out, " of S{}", c + 1);
            }
            LockTimer::KeyTtl(k) => {
                let _ = write!(out, " of k{k}");
            }
            _ => {}
        }
    }
}

/// Why a transaction's attempt aborted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Optimistic: the key changed since the read.
    Conflict,
    /// The storage refused a stale fencing token.
    Fenced,
    /// The lock server said the session had expired before the write (or,
    /// with Redlock, the lock's validity ran out on the client's clock).
    LockLost,
    /// Redlock: no majority of servers granted the lock in time, or the
    /// validity left was not positive.
    NoMajority,
}

/// What a server notes, for the trace, the checkers and the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockNote {
    /// Storage: a read with a fencing token was served.
    ReadServed { client: NodeId, key: u32, token: u64 },
    /// Storage: a write was applied. `before`: the key's version before
    /// it; `fenced`: whether the storage checks tokens.
    WriteAccepted { client: NodeId, key: u32, token: u64, read_version: u64, before: u64, fenced: bool },
    /// Storage (fencing): a write with a token below `seen` was refused.
    WriteRefused { client: NodeId, key: u32, token: u64, seen: u64 },
    /// Storage (fencing): a read with a token below `seen` was refused.
    ReadRefused { client: NodeId, key: u32, token: u64, seen: u64 },
    /// Storage: a compare-and-set found another version.
    CasConflict { client: NodeId, key: u32 },
    /// Lock server: `client` holds `key`'s lock with `token`.
    Granted { client: NodeId, key: u32, token: u64 },
    /// Lock server: `client`'s lock on `key` is free again, with `waiters`
    /// waiting; `expired`: its session's lease ran out.
    Released { client: NodeId, key: u32, token: u64, waiters: u32, expired: bool },
    /// Lock server: a session's lease ran out.
    SessionExpired { client: NodeId },
    /// Client: it holds `key` after waiting `wait`.
    Acquired { key: u32, token: u64, wait: Time },
    /// Client: the transaction committed `latency` after it began, after
    /// `aborts` aborted attempts, holding the lock for `hold` (pessimistic).
    Committed { key: u32, latency: Time, aborts: u32, hold: Option<Time> },
    /// Client: an attempt aborted.
    Aborted { key: u32, why: Why },
    /// Client: a request went again (no answer in time).
    Resent,
    /// A replicated lock server's Raft changed role (or cut its log).
    Raft(RaftNote),
    /// Redlock server: `key` now holds `client`'s `value`.
    KeySet { client: NodeId, key: u32, value: u64 },
    /// Redlock server: `key`, holding `client`'s `value`, ran out its TTL
    /// on this server's clock.
    KeyExpired { client: NodeId, key: u32, value: u64 },
    /// Redlock server: `client` deleted its `value` of `key`.
    KeyDeleted { client: NodeId, key: u32, value: u64 },
    /// Redlock client: `granted` of the servers set `key`; the lock is
    /// valid for `validity` on its clock (`None`: not won).
    Tally { key: u32, granted: u32, validity: Option<Time> },
}

impl Observable for LockNote {
    fn kind(&self) -> &'static str {
        match self {
            LockNote::ReadServed { .. } => "ReadServed",
            LockNote::WriteAccepted { .. } => "WriteAccepted",
            LockNote::WriteRefused { .. } => "WriteRefused",
            LockNote::ReadRefused { .. } => "ReadRefused",
            LockNote::CasConflict { .. } => "CasConflict",
            LockNote::Granted { .. } => "LeaseGranted",
            LockNote::Released { expired: true, .. } => "LeaseExpired",
            LockNote::Released { .. } => "Released",
            LockNote::SessionExpired { .. } => "SessionExpired",
            LockNote::Acquired { .. } => "Acquired",
            LockNote::Committed { .. } => "Committed",
            LockNote::Aborted { .. } => "Aborted",
            LockNote::Resent => "Resent",
            LockNote::KeySet { .. } => "KeySet",
            LockNote::KeyExpired { .. } => "KeyExpired",
            LockNote::KeyDeleted { .. } => "KeyDeleted",
            LockNote::Tally { validity: Some(_), .. } => "MajorityWon",
            LockNote::Tally { .. } => "MajorityMissed",
            LockNote::Raft(n) => n.kind(),
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        let words: [u64; 6] = match *self {
            LockNote::Raft(ref n) => {
                fp.u64(13);
                n.digest(fp);
                return;
            }
            LockNote::ReadServed { client, key, token } => [1, client.into(), key.into(), token, 0, 0],
            LockNote::WriteAccepted { client, key, token, read_version, before, fenced } => {
                [2, u64::from(client) | u64::from(fenced) << 32, key.into(), token, read_version, before]
            }
            LockNote::WriteRefused { client, key, token, seen } => [3, client.into(), key.into(), token, seen, 0],
            LockNote::ReadRefused { client, key, token, seen } => [4, client.into(), key.into(), token, seen, 0],
            LockNote::CasConflict { client, key } => [5, client.into(), key.into(), 0, 0, 0],
            LockNote::Granted { client, key, token } => [6, client.into(), key.into(), token, 0, 0],
            LockNote::Released { client, key, token, waiters, expired } => {
                [7, client.into(), key.into(), token, waiters.into(), expired.into()]
            }
            LockNote::SessionExpired { client } => [8, client.into(), 0, 0, 0, 0],
            LockNote::Acquired { key, token, wait } => [9, key.into(), token, wait, 0, 0],
            LockNote::Committed { key, latency, aborts, hold } => {
                [10, key.into(), latency, aborts.into(), hold.map_or(0, |h| h + 1), 0]
            }
            LockNote::Aborted { key, why } => [11, key.into(), why as u64, 0, 0, 0],
            LockNote::Resent => [12, 0, 0, 0, 0, 0],
            LockNote::KeySet { client, key, value } => [14, client.into(), key.into(), value, 0, 0],
            LockNote::KeyExpired { client, key, value } => [15, client.into(), key.into(), value, 0, 0],
            LockNote::KeyDeleted { client, key, value } => [16, client.into(), key.into(), value, 0, 0],
            LockNote::Tally { key, granted, validity } => {
                [17, key.into(), granted.into(), validity.map_or(0, |v| v + 1), 0, 0]
            }
        };
        for w in words {
            fp.u64(w);
        }
    }

    fn describe(&self, out: &mut String) {
        if let LockNote::Raft(n) = self {
            return n.describe(out);
        }
        out.push_str(self.kind());
        let s = |n: &NodeId| n + 1;
        let _ = match self {
            LockNote::ReadServed { client, key, token } => write!(out, " S{} k{key} token {token}", s(client)),
            LockNote::WriteAccepted { client, key, token, read_version, before, .. } => {
                write!(out, " S{} k{key} token {token} read v{read_version} was v{before}", s(client))
            }
            LockNote::WriteRefused { client, key, token, seen }
            | LockNote::ReadRefused { client, key, token, seen } => {
                write!(out, " S{} k{key} token {token} < {seen}", s(client))
            }
            LockNote::CasConflict { client, key } => write!(out, " S{} k{key}", s(client)),
            LockNote::Granted { client, key, token } => write!(out, " S{} k{key} token {token}", s(client)),
            LockNote::Released { client, key, token, waiters, .. } => {
                write!(out, " S{} k{key} token {token}, {waiters} waiting", s(client))
            }
            LockNote::SessionExpired { client } => write!(out, " S{}", s(client)),
            LockNote::Acquired { key, token, .. } => write!(out, " k{key} token {token}"),
            LockNote::Committed { key, aborts, .. } => write!(out, " k{key} after {aborts} aborts"),
            LockNote::Aborted { key, why } => write!(out, " k{key} {why:?}"),
            LockNote::Resent => Ok(()),
            LockNote::KeySet { client, key, value }
            | LockNote::KeyExpired { client, key, value }
            | LockNote::KeyDeleted { client, key, value } => write!(out, " S{} k{key} value {value}", s(client)),
            LockNote::Tally { key, granted, validity: Some(v) } => {
                write!(out, " k{key} {granted} granted, valid {} ms", v / 1000)
            }
            LockNote::Tally { key, granted, validity: None } => write!(out, " k{key} {granted} granted"),
            LockNote::Raft(_) => Ok(()),
        };
    }
}

/// One key at the storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// Its value (a counter: each transaction adds one).
    pub value: i64,
    /// Writes applied so far.
    pub version: u64,
    /// The highest fencing token seen on it.
    pub seen: u64,
}

/// The storage server: every key's value, version and highest token, and
/// each client's last operation with its answer, all of it on disk; and,
/// in memory, the requests waiting for it.
///
/// With a service time (`serve`), the storage handles one request at a
/// time, each taking `serve`, in the order they arrived: a single server
/// with a FIFO line (an M/D/1 queue under Poisson arrivals). This is the
/// finite resource that aborted optimistic attempts load, which is what
/// makes blocking win at high contention (Agrawal, Carey and Livny,
/// "Concurrency Control Performance Modeling: Alternatives and
/// Implications", ACM TODS 12(4), 1987). With none, it answers every
/// request the moment it arrives.
#[derive(Clone, Debug, Default)]
pub struct Storage {
    /// The keys touched so far (bounded by the key count).
    pub keys: BTreeMap<u32, Slot>,
    /// Each client's last write or compare-and-set and its answer (one per
    /// client).
    done: BTreeMap<NodeId, (u64, LockMsg)>,
    /// Requests waiting, the first being served (in memory: a crash loses
    /// them, and the clients send again). At most one per client and
    /// operation: a resent copy of a request already in line is dropped.
    pub line: VecDeque<(NodeId, LockMsg)>,
    /// Requests served so far.
    pub served: u64,
}

/// One key's lock at the lock server.
#[derive(Clone, Debug, Default)]
pub struct Lock {
    /// Who holds it, with which token, for which of its attempts.
    pub holder: Option<(NodeId, u64, u64)>,
    /// ZooKeeper's recipe: the waiters in order, with their attempts (each
    /// watches the one before it; the first watches the holder).
    pub queue: VecDeque<(NodeId, u64)>,
    /// Naive recipe: every waiter, all woken by a release.
    pub watchers: BTreeSet<NodeId>,
}

impl Lock {
    fn is_empty(&self) -> bool {
        self.holder.is_none() && self.queue.is_empty() && self.watchers.is_empty()
    }
}

/// The lock server: locks and sessions are in memory (a crash loses them);
/// the next token is on disk, so tokens only grow.
#[derive(Clone, Debug, Default)]
pub struct LockServer {
    /// The next token it hands out.
    pub next_token: u64,
    /// Locks held or waited for (bounded by the keys).
    pub locks: BTreeMap<u32, Lock>,
    /// Live sessions and the keys each holds or waits for (bounded by the
    /// clients).
    pub sessions: BTreeMap<NodeId, BTreeSet<u32>>,
    /// In the replicated service: the index of the log entry being
    /// applied, which is the token of every grant it makes.
    pub token_is: Option<u64>,
}

/// A Redlock server: independent of the others, its keys in memory (a
/// crash, or a restart without the data on disk, loses them), each
/// expiring after the TTL as its own clock counts it.
#[derive(Clone, Debug, Default)]
pub struct RedlockServer {
    /// Per key set: the client and its random value (bounded by the keys).
    pub keys: BTreeMap<u32, (NodeId, u64)>,
}

impl RedlockServer {
    fn on_message(&mut self, cfg: &LockConfig, from: NodeId, msg: LockMsg, ctx: &mut Ctx<LockNode>) {
        match msg {
            LockMsg::SetKey { key, op, value } => {
                let ok = match self.keys.get(&key) {
                    None => {
                        self.keys.insert(key, (from, value));
                        ctx.set_timer(LockTimer::KeyTtl(key), cfg.lease);
                        ctx.note(LockNote::KeySet { client: from, key, value });
                        true
                    }
                    // A copy of the request that set it.
                    Some(&(c, v)) => (c, v) == (from, value),
                };
                ctx.send(from, LockMsg::SetReply { key, op, ok });
            }
            LockMsg::Unlock { key, value } if self.keys.get(&key).is_some_and(|&(c, v)| (c, v) == (from, value)) => {
                self.keys.remove(&key);
                ctx.cancel_timer(LockTimer::KeyTtl(key));
                ctx.note(LockNote::KeyDeleted { client: from, key, value });
            }
            _ => {}
        }
    }

    fn expire(&mut self, key: u32, ctx: &mut Ctx<LockNode>) {
        if let Some((client, value)) = self.keys.remove(&key) {
            ctx.note(LockNote::KeyExpired { client, key, value });
        }
    }
}

/// Where a client is in its transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Between transactions.
    Thinking,
    /// Asked for the lock.
    Acquiring,
    /// Told to wait for the lock.
    Waiting,
    /// Reading the key.
    Reading,
    /// Working on what it read.
    Working,
    /// Writing the key.
    Writing,
    /// Waiting after an abort before trying again.
    BackingOff,
}

/// A client.
#[derive(Clone, Debug)]
pub struct Client {
    /// Where it is.
    pub phase: Phase,
    /// The key of its transaction.
    pub key: u32,
    /// Its fencing token (pessimistic, once granted; 0: none).
    pub token: u64,
    /// Its operation number (one per attempt; on disk, so the storage
    /// never mistakes a new attempt for a repeat).
    pub op: u64,
    read: (i64, u64),
    /// Aborted attempts of this transaction.
    pub aborts: u32,
    started: Time,
    asked: Time,
    granted: Time,
    /// When it believes its lease runs out (pessimistic, holding).
    pub lease_until: Option<Time>,
    heartbeat_sent: Time,
    beating: bool,
    /// Whether its last heartbeat was answered.
    beat_answered: bool,
    /// The lock server it asks (the leader it believes in).
    pub server: NodeId,
    pending: Option<(NodeId, LockMsg)>,
    /// Transactions committed.
    pub committed: u64,
    /// Attempts aborted.
    pub aborted: u64,
    /// Redlock: the servers that set the key for this attempt (bit i:
    /// server S(2+i)).
    pub granted_by: u32,
    /// Redlock: the servers that answered this attempt.
    pub answered_by: u32,
    /// Redlock: when it asked, on its own clock.
    asked_clock: Time,
    /// Redlock: until when, on its own clock, its lock is valid.
    valid_until: Time,
    /// Redlock: this attempt's random value.
    pub value: u64,
}

/// What survives a crash.
#[derive(Clone, Debug)]
pub enum LockDurable {
    /// The storage keeps everything.
    Storage(Storage),
    /// The lock server keeps its next token.
    Server(u64),
    /// A client keeps its operation number.
    Client(u64),
    /// A replicated lock server keeps its Raft state (term, vote, log).
    Replica(RaftDurable),
    /// A Redlock server keeps nothing (its keys are in memory).
    Nothing,
}

/// What a node is.
#[derive(Clone, Debug)]
pub enum Role {
    /// S1.
    Storage(Storage),
    /// S2, the single lock server.
    Server(LockServer),
    /// S2 and up, a server of the replicated lock service.
    Replica(Box<Replica>),
    /// S2 and up, one of Redlock's independent servers.
    Redlock(RedlockServer),
    /// S3 and up.
    Client(Box<Client>),
}

/// A node of the Locks lab.
#[derive(Clone, Debug)]
pub struct LockNode {
    id: NodeId,
    cfg: LockConfig,
    /// Its role and state.
    pub role: Role,
}

impl LockNode {
    /// The configuration.
    pub fn config(&self) -> &LockConfig {
        &self.cfg
    }

    /// Its id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    fn fresh(id: NodeId, cfg: &LockConfig, durable: Option<LockDurable>) -> LockNode {
        let role = match (id, durable) {
            (STORAGE, Some(LockDurable::Storage(s))) => Role::Storage(Storage { line: VecDeque::new(), ..s }),
            (STORAGE, _) => Role::Storage(Storage::default()),
            (id, d) if cfg.service == Service::Raft && cfg.is_lock_server(id) => {
                let d = match d {
                    Some(LockDurable::Replica(d)) => Some(d),
                    _ => None,
                };
                Role::Replica(Box::new(Replica::new(id, cfg.servers, d)))
            }
            (id, _) if cfg.service == Service::Redlock && cfg.is_lock_server(id) => {
                Role::Redlock(RedlockServer::default())
            }
            (LOCK_SERVER, d) => Role::Server(LockServer {
                next_token: match d {
                    Some(LockDurable::Server(t)) => t,
                    _ => 1,
                },
                ..LockServer::default()
            }),
            (_, d) => Role::Client(Box::new(Client {
                phase: Phase::Thinking,
                key: 0,
                token: 0,
                op: match d {
                    Some(LockDurable::Client(op)) => op,
                    _ => 0,
                },
                read: (0, 0),
                aborts: 0,
                started: 0,
                asked: 0,
                granted: 0,
                lease_until: None,
                heartbeat_sent: 0,
                beating: false,
                beat_answered: true,
                server: LOCK_SERVER,
                pending: None,
                committed: 0,
                aborted: 0,
                granted_by: 0,
                answered_by: 0,
                asked_clock: 0,
                valid_until: 0,
                value: 0,
            })),
        };
        LockNode { id, cfg: cfg.clone(), role }
    }
}

impl Storage {
    /// A request arrives: served at once without a service time, else
    /// put in line (and started if the storage is idle).
    fn arrive(&mut self, cfg: &LockConfig, fencing: bool, from: NodeId, msg: LockMsg, ctx: &mut Ctx<LockNode>) {
        if cfg.serve == 0 {
            return self.on_message(fencing, from, msg, ctx);
        }
        if !matches!(msg, LockMsg::Read { .. } | LockMsg::Write { .. } | LockMsg::Cas { .. })
            || self.line.iter().any(|(c, m)| *c == from && *m == msg)
        {
            return;
        }
        self.line.push_back((from, msg));
        if self.line.len() == 1 {
            ctx.set_timer(LockTimer::Serve, cfg.serve);
        }
    }

    /// The request at the head of the line is served; the next one starts.
    fn serve(&mut self, cfg: &LockConfig, fencing: bool, ctx: &mut Ctx<LockNode>) {
        let Some((from, msg)) = self.line.pop_front() else { return };
        self.on_message(fencing, from, msg, ctx);
        if !self.line.is_empty() {
            ctx.set_timer(LockTimer::Serve, cfg.serve);
        }
    }

    fn on_message(&mut self, fencing: bool, from: NodeId, msg: LockMsg, ctx: &mut Ctx<LockNode>) {
        self.served += 1;
        match msg {
            LockMsg::Read { key, op, token } => {
                let slot = self.keys.entry(key).or_default();
                if fencing && token > 0 && token < slot.seen {
                    ctx.note(LockNote::ReadRefused { client: from, key, token, seen: slot.seen });
                    ctx.send(from, LockMsg::Refused { key, op, seen: slot.seen });
                    return;
                }
                if token > 0 {
                    slot.seen = slot.seen.max(token);
                    ctx.note(LockNote::ReadServed { client: from, key, token });
                }
                ctx.send(from, LockMsg::ReadOk { key, op, value: slot.value, version: slot.version });
            }
            LockMsg::Write { key, op, .. } | LockMsg::Cas { key, op, .. } => {
                // A client's operations are numbered in order (the number
                // is on its disk): a repeat gets the same answer, and a
                // copy older than the last one the network delivered late
                // is dropped, never applied twice.
                if let Some((done, reply)) = self.done.get(&from) {
                    if *done == op {
                        ctx.send(from, reply.clone());
                    }
                    if *done >= op {
                        return;
                    }
                }
                let reply = self.write(fencing, from, key, op, &msg, ctx);
                ctx.send(from, reply.clone());
                self.done.insert(from, (op, reply));
            }
            _ => {}
        }
    }

    fn write(
        &mut self,
        fencing: bool,
        client: NodeId,
        key: u32,
        op: u64,
        msg: &LockMsg,
        ctx: &mut Ctx<LockNode>,
    ) -> LockMsg {
        let slot = self.keys.entry(key).or_default();
        let (token, read_version, value) = match *msg {
            LockMsg::Write { token, read_version, value, .. } => (token, read_version, value),
            LockMsg::Cas { version, value, .. } => {
                if slot.version != version {
                    ctx.note(LockNote::CasConflict { client, key });
                    return LockMsg::CasFailed { key, op, version: slot.version };
                }
                (0, version, value)
            }
            _ => unreachable!("write is called with a write or a compare-and-set"),
        };
        if fencing && token > 0 && token < slot.seen {
            ctx.note(LockNote::WriteRefused { client, key, token, seen: slot.seen });
            return LockMsg::Refused { key, op, seen: slot.seen };
        }
        ctx.note(LockNote::WriteAccepted { client, key, token, read_version, before: slot.version, fenced: fencing });
        slot.version += 1;
        slot.value = value;
        slot.seen = slot.seen.max(token);
        LockMsg::WriteOk { key, op, version: slot.version }
    }
}

impl LockServer {
    pub(super) fn on_message(&mut self, cfg: &LockConfig, from: NodeId, msg: LockMsg, ctx: &mut Ctx<LockNode>) {
        match msg {
            LockMsg::Acquire { key, op, woken } => {
                self.touch(cfg, from, ctx);
                self.sessions.entry(from).or_default().insert(key);
                if let Some(reply) = self.acquire(cfg, from, key, op, woken, ctx) {
                    ctx.send(from, reply);
                }
            }
            LockMsg::Check { key } => {
                let reply = if !self.sessions.contains_key(&from) {
                    LockMsg::Gone { key, woken: true }
                } else {
                    self.touch(cfg, from, ctx);
                    self.standing(from, key, true)
                };
                ctx.send(from, reply);
            }
            LockMsg::Release { key, token } => {
                let holds =
                    self.locks.get(&key).and_then(|l| l.holder).is_some_and(|(c, t, _)| (c, t) == (from, token));
                if holds && self.sessions.contains_key(&from) {
                    self.touch(cfg, from, ctx);
                    self.release(cfg, key, false, ctx);
                    if let Some(keys) = self.sessions.get_mut(&from) {
                        keys.remove(&key);
                    }
                }
            }
            LockMsg::Heartbeat { key, op } => {
                if !self.sessions.contains_key(&from) {
                    ctx.send(from, LockMsg::HeartbeatAck { key, op, alive: false, holds: None, free: false });
                    return;
                }
                self.touch(cfg, from, ctx);
                // The session's view: it wants or holds `key` only.
                let others: Vec<u32> =
                    self.sessions.get(&from).map_or(Vec::new(), |k| k.iter().copied().filter(|k| *k != key).collect());
                for k in others {
                    self.leave(cfg, from, k, false, ctx);
                }
                let lock = self.locks.get(&key);
                let holds = lock.and_then(|l| l.holder).filter(|(c, _, o)| (*c, *o) == (from, op)).map(|(_, t, _)| t);
                let free = lock.is_none_or(|l| l.holder.is_none());
                ctx.send(from, LockMsg::HeartbeatAck { key, op, alive: true, holds, free });
            }
            _ => {}
        }
    }

    /// Re-arms `client`'s lease.
    fn touch(&mut self, cfg: &LockConfig, client: NodeId, ctx: &mut Ctx<LockNode>) {
        ctx.set_timer(LockTimer::Session(client), cfg.lease);
    }

    /// Where `client` stands on `key`: holding, waiting, or unknown.
    fn standing(&self, client: NodeId, key: u32, woken: bool) -> LockMsg {
        let Some(lock) = self.locks.get(&key) else { return LockMsg::Gone { key, woken } };
        match lock.holder {
            Some((c, token, op)) if c == client => LockMsg::Granted { key, op, token, woken },
            _ => match lock.queue.iter().position(|(c, _)| *c == client) {
                Some(i) => LockMsg::Queued { key, op: lock.queue[i].1, ahead: i as u32 + 1, woken },
                None => LockMsg::Gone { key, woken },
            },
        }
    }

    /// Attempt `op` of `client` asks for `key`'s lock; the answer, if the
    /// request is not older than what the server knows of that client.
    fn acquire(
        &mut self,
        cfg: &LockConfig,
        client: NodeId,
        key: u32,
        op: u64,
        woken: bool,
        ctx: &mut Ctx<LockNode>,
    ) -> Option<LockMsg> {
        let lock = self.locks.entry(key).or_default();
        match lock.holder {
            Some((c, token, held)) if c == client && held == op => {
                return Some(LockMsg::Granted { key, op, token, woken })
            }
            Some((c, _, held)) if c == client && held > op => return None,
            // A newer attempt: the client is done with the hold it had
            // (its release is late or lost).
            Some((c, ..)) if c == client => self.release(cfg, key, false, ctx),
            _ => {}
        }
        let lock = self.locks.entry(key).or_default();
        if let Some(i) = lock.queue.iter().position(|(c, _)| *c == client) {
            if lock.queue[i].1 > op {
                return None;
            }
            lock.queue[i].1 = op;
            return Some(LockMsg::Queued { key, op, ahead: i as u32 + 1, woken });
        }
        if lock.holder.is_none() && lock.queue.is_empty() {
            lock.watchers.remove(&client);
            let token = self.grant(client, key, op, ctx);
            return Some(LockMsg::Granted { key, op, token, woken });
        }
        if cfg.naive {
            lock.watchers.insert(client);
            Some(LockMsg::Busy { key, op, woken })
        } else {
            lock.queue.push_back((client, op));
            Some(LockMsg::Queued { key, op, ahead: lock.queue.len() as u32, woken })
        }
    }

    fn grant(&mut self, client: NodeId, key: u32, op: u64, ctx: &mut Ctx<LockNode>) -> u64 {
        let token = self.token_is.unwrap_or(self.next_token);
        self.next_token = self.next_token.max(token + 1);
        self.locks.entry(key).or_default().holder = Some((client, token, op));
        ctx.note(LockNote::Granted { client, key, token });
        token
    }

    /// Frees `key`'s lock and wakes who the recipe wakes.
    fn release(&mut self, cfg: &LockConfig, key: u32, expired: bool, ctx: &mut Ctx<LockNode>) {
        let Some(lock) = self.locks.get_mut(&key) else { return };
        let Some((client, token, _)) = lock.holder.take() else { return };
        let waiters = if cfg.naive { lock.watchers.len() } else { lock.queue.len() } as u32;
        ctx.note(LockNote::Released { client, key, token, waiters, expired });
        if cfg.naive {
            for w in std::mem::take(&mut lock.watchers) {
                ctx.send(w, LockMsg::Wake { key });
            }
        } else if let Some((next, op)) = lock.queue.pop_front() {
            self.grant(next, key, op, ctx);
            ctx.send(next, LockMsg::Wake { key });
        }
        if self.locks.get(&key).is_some_and(Lock::is_empty) {
            self.locks.remove(&key);
        }
    }

    /// `client` no longer holds or waits for `key` (its session expired, or
    /// it moved on).
    fn leave(&mut self, cfg: &LockConfig, client: NodeId, key: u32, expired: bool, ctx: &mut Ctx<LockNode>) {
        if let Some(keys) = self.sessions.get_mut(&client) {
            keys.remove(&key);
        }
        let Some(lock) = self.locks.get_mut(&key) else { return };
        if lock.holder.is_some_and(|(c, ..)| c == client) {
            self.release(cfg, key, expired, ctx);
            return;
        }
        lock.watchers.remove(&client);
        if let Some(i) = lock.queue.iter().position(|(c, _)| *c == client) {
            lock.queue.remove(i);
            // ZooKeeper: the watcher of the deleted node hears of it.
            if let Some(&(next, _)) = lock.queue.get(i) {
                ctx.send(next, LockMsg::Wake { key });
            }
        }
        if lock.is_empty() {
            self.locks.remove(&key);
        }
    }

    pub(super) fn expire(&mut self, cfg: &LockConfig, client: NodeId, ctx: &mut Ctx<LockNode>) {
        let Some(keys) = self.sessions.remove(&client) else { return };
        ctx.note(LockNote::SessionExpired { client });
        for key in keys {
            self.leave(cfg, client, key, true, ctx);
        }
    }
}

impl Client {
    fn send(&mut self, cfg: &LockConfig, to: NodeId, msg: LockMsg, ctx: &mut Ctx<LockNode>) {
        ctx.send(to, msg.clone());
        self.pending = Some((to, msg));
        ctx.set_timer(LockTimer::Resend, cfg.resend);
    }

    fn answered(&mut self, ctx: &mut Ctx<LockNode>) {
        self.pending = None;
        ctx.cancel_timer(LockTimer::Resend);
    }

    fn think(&mut self, cfg: &LockConfig, ctx: &mut Ctx<LockNode>) {
        self.phase = Phase::Thinking;
        self.token = 0;
        self.lease_until = None;
        let t = exponential(ctx.rng, cfg.think);
        ctx.set_timer(LockTimer::Think, t);
    }

    fn begin(&mut self, cfg: &LockConfig, ctx: &mut Ctx<LockNode>) {
        self.key = cfg.keys.pick(ctx.rng);
        self.aborts = 0;
        self.started = ctx.now;
        self.attempt(cfg, ctx);
    }

    fn attempt(&mut self, cfg: &LockConfig, ctx: &mut Ctx<LockNode>) {
        self.op += 1;
        if cfg.optimistic {
            self.read(cfg, ctx);
            return;
        }
        self.phase = Phase::Acquiring;
        self.token = 0;
        self.asked = ctx.now;
        if cfg.service == Service::Redlock {
            self.redlock_acquire(cfg, ctx);
            return;
        }
        self.send(cfg, self.server, LockMsg::Acquire { key: self.key, op: self.op, woken: false }, ctx);
        if !self.beating {
            self.beating = true;
            ctx.set_timer(LockTimer::Heartbeat, cfg.heartbeat);
        }
    }

    fn read(&mut self, cfg: &LockConfig, ctx: &mut Ctx<LockNode>) {
        self.phase = Phase::Reading;
        self.send(cfg, STORAGE, LockMsg::Read { key: self.key, op: self.op, token: self.token }, ctx);
    }

    fn granted(&mut self, cfg: &LockConfig, token: u64, ctx: &mut Ctx<LockNode>) {
        self.answered(ctx);
        self.token = token;
        self.granted = ctx.now;
        self.lease_until = Some(ctx.now + cfg.lease);
        ctx.note(LockNote::Acquired { key: self.key, token, wait: ctx.now - self.asked });
        self.read(cfg, ctx);
    }

    fn abort(&mut self, cfg: &LockConfig, why: Why, ctx: &mut Ctx<LockNode>) {
        self.answered(ctx);
        ctx.note(LockNote::Aborted { key: self.key, why });
        self.aborts += 1;
        self.aborted += 1;
        self.phase = Phase::BackingOff;
        self.token = 0;
        self.lease_until = None;
        let most = cfg.backoff.saturating_mul(1 << (self.aborts - 1).min(6));
        let wait = ctx.rng.range(0, most);
        ctx.set_timer(LockTimer::Backoff, wait);
    }

    /// Redlock, step 1 and 2: a random value, the time on its own clock,
    /// and "set it if unset, for the TTL" to every server at once.
    fn redlock_acquire(&mut self, cfg: &LockConfig, ctx: &mut Ctx<LockNode>) {
        // Six digits, to be readable on the diagram; the checkers tell
        // holders apart by client and value together.
        self.value = ctx.rng.range(100_000, 999_999);
        self.asked_clock = ctx.clock;
        self.granted_by = 0;
        self.answered_by = 0;
        for i in 0..cfg.servers {
            ctx.send(LOCK_SERVER + i, LockMsg::SetKey { key: self.key, op: self.op, value: self.value });
        }
        // No answer from a majority in this long: the attempt failed.
        ctx.set_timer(LockTimer::Resend, cfg.resend);
    }

    /// Redlock, step 3 and 4: with a majority of grants and validity left
    /// (on its own clock), it holds the lock; without, once a majority can
    /// no longer come (or on `give_up`), it deletes its value everywhere.
    fn redlock_tally(&mut self, cfg: &LockConfig, give_up: bool, ctx: &mut Ctx<LockNode>) {
        let granted = self.granted_by.count_ones();
        let refused = self.answered_by.count_ones() - granted;
        let won = granted >= cfg.majority();
        if !won && !give_up && refused + cfg.majority() <= cfg.servers {
            return;
        }
        let validity = if won { cfg.validity(ctx.clock.saturating_sub(self.asked_clock)) } else { None };
        ctx.note(LockNote::Tally { key: self.key, granted, validity });
        ctx.cancel_timer(LockTimer::Resend);
        match validity {
            Some(v) => {
                self.valid_until = ctx.clock + v;
                self.granted(cfg, self.value, ctx);
                // The view's "lease until": virtual time, as the client's
                // own clock would count it out.
                self.lease_until = Some(ctx.now + v);
            }
            None => {
                self.unlock_all(cfg, ctx);
                self.abort(cfg, Why::NoMajority, ctx);
            }
        }
    }

    /// Redlock: delete its value of the key on every server.
    fn unlock_all(&mut self, cfg: &LockConfig, ctx: &mut Ctx<LockNode>) {
        for i in 0..cfg.servers {
            ctx.send(LOCK_SERVER + i, LockMsg::Unlock { key: self.key, value: self.value });
        }
    }

    fn holding(&self) -> bool {
        matches!(self.phase, Phase::Reading | Phase::Working | Phase::Writing)
    }

    fn on_message(&mut self, cfg: &LockConfig, from: NodeId, msg: LockMsg, ctx: &mut Ctx<LockNode>) {
        let waiting = matches!(self.phase, Phase::Acquiring | Phase::Waiting);
        match msg {
            LockMsg::SetReply { key, op, ok }
                if self.phase == Phase::Acquiring && (key, op) == (self.key, self.op) && cfg.is_lock_server(from) =>
            {
                let bit = 1 << (from - LOCK_SERVER);
                if self.answered_by & bit == 0 {
                    self.answered_by |= bit;
                    if ok {
                        self.granted_by |= bit;
                    }
                    self.redlock_tally(cfg, false, ctx);
                }
            }
            LockMsg::Granted { key, op, token, .. } if waiting && (key, op) == (self.key, self.op) => {
                self.granted(cfg, token, ctx)
            }
            // The server holds an older attempt of ours (its Acquire for
            // this one was lost, or turned away by a server that does not
            // lead, while a wake-up for the old one came in): tell it of
            // this attempt, which ends the old one.
            LockMsg::Granted { key, op, .. } | LockMsg::Queued { key, op, .. }
                if waiting && key == self.key && op < self.op =>
            {
                self.phase = Phase::Acquiring;
                self.send(cfg, self.server, LockMsg::Acquire { key, op: self.op, woken: false }, ctx);
            }
            LockMsg::Queued { key, op, .. } | LockMsg::Busy { key, op, .. }
                if self.phase == Phase::Acquiring && (key, op) == (self.key, self.op) =>
            {
                self.answered(ctx);
                self.phase = Phase::Waiting;
            }
            LockMsg::Wake { key } if waiting && key == self.key => {
                self.phase = Phase::Acquiring;
                let ask =
                    if cfg.naive { LockMsg::Acquire { key, op: self.op, woken: true } } else { LockMsg::Check { key } };
                self.send(cfg, self.server, ask, ctx);
            }
            LockMsg::Gone { key, .. } if waiting && key == self.key => {
                self.phase = Phase::Acquiring;
                self.send(cfg, self.server, LockMsg::Acquire { key, op: self.op, woken: false }, ctx);
            }
            LockMsg::HeartbeatAck { key, op, alive, holds, free } if (key, op) == (self.key, self.op) => {
                self.beat_answered = true;
                self.heartbeat_ack(cfg, alive, holds, free, ctx)
            }
            LockMsg::NotLeader { leader } => self.redirected(cfg, leader, ctx),
            LockMsg::ReadOk { op, value, version, .. } if self.phase == Phase::Reading && op == self.op => {
                self.answered(ctx);
                self.read = (value, version);
                self.phase = Phase::Working;
                ctx.set_timer(LockTimer::Work, cfg.work);
            }
            LockMsg::Refused { op, .. } if matches!(self.phase, Phase::Reading | Phase::Writing) && op == self.op => {
                self.abort(cfg, Why::Fenced, ctx)
            }
            LockMsg::CasFailed { op, .. } if self.phase == Phase::Writing && op == self.op => {
                self.abort(cfg, Why::Conflict, ctx)
            }
            LockMsg::WriteOk { op, .. } if self.phase == Phase::Writing && op == self.op => {
                self.answered(ctx);
                self.committed += 1;
                let hold = (!cfg.optimistic).then(|| ctx.now - self.granted);
                let latency = ctx.now - self.started;
                ctx.note(LockNote::Committed { key: self.key, latency, aborts: self.aborts, hold });
                if cfg.service == Service::Redlock && !cfg.optimistic {
                    self.unlock_all(cfg, ctx);
                } else if !cfg.optimistic {
                    ctx.send(self.server, LockMsg::Release { key: self.key, token: self.token });
                }
                self.think(cfg, ctx);
            }
            _ => {}
        }
    }

    /// A lock server that does not lead points elsewhere: a request still
    /// unanswered goes at once to the leader it names; without a name the
    /// client tries the next server when its resend timer fires.
    fn redirected(&mut self, cfg: &LockConfig, leader: Option<NodeId>, ctx: &mut Ctx<LockNode>) {
        if cfg.servers <= 1 {
            return;
        }
        let Some(to) = leader.filter(|l| cfg.is_lock_server(*l) && *l != self.server) else {
            self.server = cfg.next_server(self.server);
            return;
        };
        self.server = to;
        // The heartbeat that was turned away is not a server gone silent.
        self.beat_answered = true;
        if let Some((at, msg)) = self.pending.clone() {
            if cfg.is_lock_server(at) {
                self.send(cfg, to, msg, ctx);
            }
        }
    }

    fn heartbeat_ack(
        &mut self,
        cfg: &LockConfig,
        alive: bool,
        holds: Option<u64>,
        free: bool,
        ctx: &mut Ctx<LockNode>,
    ) {
        let waiting = matches!(self.phase, Phase::Acquiring | Phase::Waiting);
        match (alive, holds) {
            (true, _) if self.holding() => {
                self.lease_until = Some(self.heartbeat_sent + cfg.lease);
            }
            (true, Some(token)) if waiting => self.granted(cfg, token, ctx),
            (true, None) if self.phase == Phase::Waiting && free && cfg.naive => {
                self.phase = Phase::Acquiring;
                self.send(cfg, self.server, LockMsg::Acquire { key: self.key, op: self.op, woken: false }, ctx);
            }
            (false, _) if matches!(self.phase, Phase::Reading | Phase::Working) => {
                // A careful client gives up a lock it knows it lost; one
                // that was paused past its lease learns it too late.
                ctx.cancel_timer(LockTimer::Work);
                self.abort(cfg, Why::LockLost, ctx);
            }
            (false, _) if waiting => {
                self.phase = Phase::Acquiring;
                self.send(cfg, self.server, LockMsg::Acquire { key: self.key, op: self.op, woken: false }, ctx);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, cfg: &LockConfig, timer: LockTimer, ctx: &mut Ctx<LockNode>) {
        match timer {
            LockTimer::Think if self.phase == Phase::Thinking => self.begin(cfg, ctx),
            LockTimer::Backoff if self.phase == Phase::BackingOff => self.attempt(cfg, ctx),
            // A careful Redlock client checks, on its own clock, that its
            // lock is still valid before it writes.
            LockTimer::Work
                if self.phase == Phase::Working
                    && cfg.service == Service::Redlock
                    && !cfg.optimistic
                    && ctx.clock >= self.valid_until =>
            {
                self.unlock_all(cfg, ctx);
                self.abort(cfg, Why::LockLost, ctx);
            }
            LockTimer::Resend if self.phase == Phase::Acquiring && cfg.service == Service::Redlock => {
                self.redlock_tally(cfg, true, ctx)
            }
            LockTimer::Work if self.phase == Phase::Working => {
                self.phase = Phase::Writing;
                let (key, op, value) = (self.key, self.op, self.read.0 + 1);
                let msg = if cfg.optimistic {
                    LockMsg::Cas { key, op, version: self.read.1, value }
                } else {
                    LockMsg::Write { key, op, token: self.token, read_version: self.read.1, value }
                };
                self.send(cfg, STORAGE, msg, ctx);
            }
            LockTimer::Resend => {
                if let Some((mut to, msg)) = self.pending.clone() {
                    ctx.note(LockNote::Resent);
                    if cfg.servers > 1 && cfg.is_lock_server(to) {
                        // No answer: that server may be down or cut off.
                        self.server = cfg.next_server(self.server);
                        to = self.server;
                    }
                    self.send(cfg, to, msg, ctx);
                }
            }
            LockTimer::Heartbeat => {
                if matches!(self.phase, Phase::Thinking | Phase::BackingOff) {
                    self.beating = false;
                } else {
                    if cfg.servers > 1 && !self.beat_answered {
                        self.server = cfg.next_server(self.server);
                    }
                    self.beat_answered = false;
                    self.heartbeat_sent = ctx.now;
                    ctx.send(self.server, LockMsg::Heartbeat { key: self.key, op: self.op });
                    ctx.set_timer(LockTimer::Heartbeat, cfg.heartbeat);
                }
            }
            _ => {}
        }
    }
}

impl Protocol for LockNode {
    type Msg = LockMsg;
    type Timer = LockTimer;
    type Note = LockNote;
    type Durable = LockDurable;
    type Config = LockConfig;

    fn new(id: NodeId, _nodes: u32, config: &LockConfig) -> Self {
        LockNode::fresh(id, config, None)
    }

    fn recover(id: NodeId, _nodes: u32, config: &LockConfig, durable: LockDurable) -> Self {
        LockNode::fresh(id, config, Some(durable))
    }

    fn durable(&self) -> LockDurable {
        match &self.role {
            Role::Storage(s) => LockDurable::Storage(s.clone()),
            Role::Server(s) => LockDurable::Server(s.next_token),
            Role::Replica(r) => LockDurable::Replica(r.raft.durable()),
            Role::Redlock(_) => LockDurable::Nothing,
            Role::Client(c) => LockDurable::Client(c.op),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        let cfg = &self.cfg;
        match &mut self.role {
            Role::Client(c) => {
                // The first transaction starts within one mean think time.
                c.phase = Phase::Thinking;
                let t = ctx.rng.range(0, cfg.think);
                ctx.set_timer(LockTimer::Think, t);
            }
            Role::Replica(r) => r.step(cfg, ctx, |raft, c| raft.on_start(c)),
            _ => {}
        }
    }

    fn on_message(&mut self, from: NodeId, msg: LockMsg, ctx: &mut Ctx<Self>) {
        let cfg = &self.cfg;
        match &mut self.role {
            // Redlock's values cannot be ordered: nothing to fence with.
            Role::Storage(s) if cfg.is_client(from) => s.arrive(cfg, cfg.fences(), from, msg, ctx),
            Role::Server(s) if cfg.is_client(from) => s.on_message(cfg, from, msg, ctx),
            Role::Replica(r) => match msg {
                LockMsg::Raft(m) if cfg.is_lock_server(from) => {
                    r.step(cfg, ctx, |raft, c| raft.on_message(from - LOCK_SERVER, m, c))
                }
                m if cfg.is_client(from) => {
                    if let Some(ask) = Ask::of(&m) {
                        r.ask(cfg, from, ask, ctx)
                    }
                }
                _ => {}
            },
            Role::Redlock(s) if cfg.is_client(from) => s.on_message(cfg, from, msg, ctx),
            Role::Client(c) => c.on_message(cfg, from, msg, ctx),
            _ => {}
        }
    }

    fn on_timer(&mut self, timer: LockTimer, ctx: &mut Ctx<Self>) {
        let cfg = &self.cfg;
        match (&mut self.role, timer) {
            (Role::Server(s), LockTimer::Session(c)) => s.expire(cfg, c, ctx),
            (Role::Replica(r), LockTimer::Session(c)) => r.session_timeout(cfg, c, ctx),
            (Role::Replica(r), LockTimer::Raft(t)) => r.step(cfg, ctx, |raft, c| raft.on_timer(t, c)),
            (Role::Redlock(s), LockTimer::KeyTtl(k)) => s.expire(k, ctx),
            (Role::Storage(s), LockTimer::Serve) => s.serve(cfg, cfg.fences(), ctx),
            (Role::Client(c), t) => c.on_timer(cfg, t, ctx),
            _ => {}
        }
    }

    fn on_request(&mut self, _req: RequestId, _ctx: &mut Ctx<Self>) {}

    /// A thinking client starts its next transaction now; a server of the
    /// replicated lock service starts an election.
    fn on_force_timeout(&mut self, ctx: &mut Ctx<Self>) {
        let cfg = &self.cfg;
        match &mut self.role {
            Role::Client(c) if c.phase == Phase::Thinking => {
                ctx.cancel_timer(LockTimer::Think);
                c.begin(cfg, ctx);
            }
            // A lock server of the replicated service starts an election.
            Role::Replica(r) => r.step(cfg, ctx, |raft, c| raft.on_force_timeout(c)),
            _ => {}
        }
    }

    fn msg_heap_bytes(msg: &LockMsg) -> usize {
        match msg {
            LockMsg::Raft(m) => crate::raft::RaftNode::msg_heap_bytes(m),
            _ => 0,
        }
    }

    fn msg_payload(msg: &LockMsg) -> usize {
        match msg {
            LockMsg::Raft(m) => crate::raft::RaftNode::msg_payload(m),
            _ => 0,
        }
    }

    fn heap_bytes(&self) -> usize {
        match &self.role {
            Role::Storage(s) => s.keys.len() * 48 + s.done.len() * 96 + s.line.capacity() * 72,
            Role::Server(s) => s.locks.len() * 120 + s.sessions.len() * 64,
            Role::Replica(r) => r.table.locks.len() * 120 + r.table.sessions.len() * 80 + r.raft.heap_bytes(),
            Role::Redlock(s) => s.keys.len() * 48,
            Role::Client(_) => std::mem::size_of::<Client>(),
        }
    }
}
