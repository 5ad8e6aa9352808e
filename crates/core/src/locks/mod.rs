//! # Locks
//!
//! Clients run read-modify-write transactions (read a key, work, write the
//! value plus one) against a storage server, and keep each other out of
//! one key's transaction in one of two ways:
//!
//! * **Optimistic**: read the key with its version, work, then
//!   compare-and-set on that version; a conflict aborts the attempt, which
//!   retries after a randomized, doubling back-off (Kung and Robinson, "On
//!   Optimistic Methods for Concurrency Control", 1981).
//! * **Pessimistic**: take the key's lock from a lock server first, then
//!   read, work, write and release. The lock lives as long as the client's
//!   session, which its heartbeats keep alive: a session the server has
//!   not heard from for the lease (TTL) expires and its locks go to the next
//!   waiter (Chubby's sessions, ZooKeeper's ephemeral nodes, etcd's leases).
//!
//! Waiters queue in one of two recipes: ZooKeeper's (each waiter holds a
//! sequential node and watches only its predecessor, so a release wakes
//! one client) or the naive one (every waiter watches the lock and every
//! release wakes them all: the herd).
//!
//! Every grant carries a **fencing token**, a number that only grows
//! (it survives a lock server's crash). With fencing on, the storage
//! remembers the highest token it has seen for a key (on reads and writes)
//! and refuses an operation carrying a lower one. Without it, a client
//! that pauses while holding a lock (a garbage-collection pause, a stalled
//! virtual machine) can wake after its lease ran out and another client
//! took the lock, and write anyway (Kleppmann, "How to do distributed
//! locking", 2016). The checkers in [`invariants`] watch the storage.
//!
//! The lock service is one of three, selectable:
//!
//! * **A single lock server** (S2): locks and sessions in its memory, the
//!   next token on its disk. A crash loses every lock.
//! * **A lock service replicated by Raft** (S2 to S(1+k), see [`service`]):
//!   each server holds a [`RaftNode`](crate::raft::RaftNode) of the Raft
//!   lab, and acquire, release, keep-alive and session expiry are commands
//!   committed through its log before they take effect; a grant's fencing
//!   token is the log index of the entry that granted it. Clients find the
//!   leader by redirects and retries. This is how Chubby, ZooKeeper and
//!   etcd keep locks through the crash of a server.
//! * **Redlock on N independent servers** (S2 to S(1+N), see
//!   [`node`]): no replication and no sessions. A client sends "set this
//!   key to my random value if it is unset, for TTL" (the `lease`) to
//!   every server, each of which expires the key by its own clock; it
//!   holds the lock if a majority said yes and the validity, TTL minus
//!   the time acquiring took (on the client's clock) minus the drift
//!   allowance (`drift_factor` × TTL + `drift_margin`), is still positive;
//!   otherwise it deletes its value on every server and tries again later
//!   (antirez, "Distributed locks with Redis"). Redlock hands out no number
//!   that only grows: the storage sees the lock's random value, which
//!   names the holder but cannot be ordered, so fencing cannot be applied
//!   (the `fencing` switch has no effect) and a server whose clock runs
//!   fast, or that restarts without the key, lets a second client win a
//!   majority while the first still believes it holds the lock
//!   (Kleppmann, "How to do distributed locking", 2016).
//!
//! Servers: S1 is the storage, then the lock servers, then the clients.

pub mod experiments;
pub mod invariants;
pub mod keys;
pub mod lab;
pub mod node;
pub mod service;

pub use invariants::invariants;
pub use keys::KeyPicker;
pub use node::{LockMsg, LockNode, LockNote, LockTimer, Phase, Why};

use crate::sim::{NodeId, Time};
use std::sync::Arc;

/// The storage server.
pub const STORAGE: NodeId = 0;
/// The lock server (the first of them, when the service is replicated).
pub const LOCK_SERVER: NodeId = 1;

/// Which lock service hands out the locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// One lock server, no replication.
    Single,
    /// Lock servers replicating their state through Raft's log.
    Raft,
    /// Redlock: a majority of independent lock servers.
    Redlock,
}

/// The lab's configuration, shared by every node.
#[derive(Clone, Debug)]
pub struct LockConfig {
    /// Number of clients.
    pub clients: u32,
    /// Which key a transaction picks.
    pub keys: Arc<KeyPicker>,
    /// Compare-and-set on versions instead of locks.
    pub optimistic: bool,
    /// Every waiter watches the lock (the herd) instead of ZooKeeper's
    /// recipe.
    pub naive: bool,
    /// The storage refuses operations with a token below one it has seen.
    pub fencing: bool,
    /// Mean think time between a client's transactions (exponential).
    pub think: Time,
    /// Time a transaction works between its read and its write.
    pub work: Time,
    /// Time the storage takes to serve one request, one at a time (0: it
    /// serves every request the moment it arrives).
    pub serve: Time,
    /// A session's lease: how long the lock server keeps a silent client's
    /// locks.
    pub lease: Time,
    /// How often a client with a session sends a heartbeat.
    pub heartbeat: Time,
    /// First back-off after an abort (doubling, randomized).
    pub backoff: Time,
    /// How long a client waits for an answer before sending again.
    pub resend: Time,
    /// The lock service.
    pub service: Service,
    /// Lock servers (1 for the single lock server).
    pub servers: u32,
    /// Redlock: the share of the TTL a client allows for clock drift, in
    /// thousandths (Redis's clock drift factor, 0.01: 10).
    pub drift_factor: u64,
    /// Redlock: the constant a client adds to its drift allowance.
    pub drift_margin: Time,
}

impl LockConfig {
    /// Whether node `id` is a client.
    pub fn is_client(&self, id: NodeId) -> bool {
        id >= self.first_client()
    }

    /// Whether node `id` is a lock server.
    pub fn is_lock_server(&self, id: NodeId) -> bool {
        (LOCK_SERVER..self.first_client()).contains(&id)
    }

    /// Whether the storage checks fencing tokens: when fencing is on and
    /// the service hands out tokens (Redlock's random values cannot be
    /// ordered: nothing to fence with).
    pub fn fences(&self) -> bool {
        self.fencing && self.service != Service::Redlock
    }

    /// The first client: right after the lock servers.
    pub fn first_client(&self) -> NodeId {
        LOCK_SERVER + self.servers
    }

    /// Number of servers in all.
    pub fn nodes(&self) -> u32 {
        self.clients + self.first_client()
    }

    /// Redlock: how many servers make a majority.
    pub fn majority(&self) -> u32 {
        self.servers / 2 + 1
    }

    /// Redlock: how long a lock won after `elapsed` (on the client's own
    /// clock) stays valid, TTL − elapsed − (drift factor × TTL + margin);
    /// `None` if not at all (antirez, "Distributed locks with Redis",
    /// step 3).
    pub fn validity(&self, elapsed: Time) -> Option<Time> {
        let drift = self.lease.saturating_mul(self.drift_factor) / 1000 + self.drift_margin;
        self.lease.checked_sub(elapsed)?.checked_sub(drift).filter(|v| *v > 0)
    }

    /// The lock server after `id`, round the service (a client that hears
    /// nothing tries the next one).
    pub fn next_server(&self, id: NodeId) -> NodeId {
        if id + 1 >= self.first_client() || id < LOCK_SERVER {
            LOCK_SERVER
        } else {
            id + 1
        }
    }
}
