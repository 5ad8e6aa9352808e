//! The replicated log, the state machine it feeds, and log compaction with
//! snapshots (§7, Figure 13).
//!
//! Log indexes are 1-based and absolute, as in the paper: entry `i` is
//! `log[i - snapshot - 1]`, whatever has been compacted.
//!
//! **State machine.** Committed entries are applied at once to a small real
//! state machine, [`StateMachine`]: a count of client commands and a digest
//! chained over every applied entry ([`chain`]), so two servers at the same
//! applied index hold the same state exactly when their digests agree; and,
//! when clients send key-value commands, a key-value store ([`KvStore`])
//! that remembers each client process's last command and its answer, so a
//! command retried after a leader change and appended twice is applied
//! once (§8: "the state machine tracks the latest serial number processed
//! for each client, along with the associated response").
//!
//! **Snapshots (§7).** When the log holds more than
//! [`RaftConfig::snapshot_every`](super::RaftConfig::snapshot_every)
//! entries, the server writes a [`Snapshot`] of its state machine (with the
//! last included index and term and the configuration in force there) and
//! discards the log up to it, keeping the last `snapshot_every / 2` applied
//! entries for followers a little behind. Compaction happens at the start
//! of the server's next handler, so every applied entry has been seen by
//! the checkers before it disappears. A leader whose follower needs a
//! compacted entry sends `InstallSnapshot`; the follower keeps the entries
//! after the snapshot if its log holds the snapshot's last entry, and
//! otherwise discards its whole log (Figure 13, steps 6–8).

use super::membership::Members;
use super::message::{RaftMsg, RaftNote};
use super::node::{RaftNode, Role};
use crate::sim::{Answer, Command, Ctx, KvStore, NodeId, RequestId};
use std::sync::Arc;

/// One log entry: the term in which a leader created it and what it
/// carries: a client command, a new configuration, or nothing (a no-op a
/// leader appends to commit an entry of its term). Log indexes are
/// 1-based, as in the paper.
///
/// The rare parts (a configuration, a key-value command) are held behind
/// an `Arc`, so an entry is 32 bytes instead of 80: a busy cluster holds
/// hundreds of thousands of entries in its logs and in the messages in
/// flight, and every time-travel snapshot holds them again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Term of the leader that created the entry.
    pub term: u64,
    /// The client command (the request's id); 0 for a configuration or a
    /// no-op.
    pub command: RequestId,
    /// A configuration entry: the servers of the new configuration.
    pub config: Option<Arc<Members>>,
    /// A key-value command (with `command`, its request), if the client
    /// sent one.
    pub kv: Option<Arc<Command>>,
}

impl Entry {
    /// An entry carrying client command `command`.
    pub fn new(term: u64, command: RequestId) -> Entry {
        Entry { term, command, config: None, kv: None }
    }
    /// An entry carrying key-value command `kv` of request `command`.
    pub fn with_kv(term: u64, command: RequestId, kv: Command) -> Entry {
        Entry { term, command, config: None, kv: Some(Arc::new(kv)) }
    }
    /// A configuration entry of `members`.
    pub fn with_config(term: u64, members: Members) -> Entry {
        Entry { term, command: 0, config: Some(Arc::new(members)), kv: None }
    }
    /// The bytes its shared parts hold on the heap (an `Arc`'s two counts
    /// beside the value): what a copy of the entry holds alone once the
    /// other copies are gone.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.config.as_ref().map_or(0, |_| 16 + size_of::<Members>())
            + self.kv.as_ref().map_or(0, |_| 16 + size_of::<Command>())
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
    match e.config.as_deref() {
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
/// so "the same state on every server" is a comparison of two numbers; and
/// holds the key-value store when clients send key-value commands (shared
/// between copies until one changes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateMachine {
    /// Index of the last entry applied.
    pub applied: u64,
    /// Term of that entry.
    pub term: u64,
    /// Client commands applied.
    pub commands: u64,
    /// [`chain`] over every entry applied, from [`EMPTY_DIGEST`].
    pub digest: u64,
    /// The key-value store, once a key-value command was applied.
    pub kv: Option<Arc<KvStore>>,
}

impl Default for StateMachine {
    fn default() -> Self {
        StateMachine { applied: 0, term: 0, commands: 0, digest: EMPTY_DIGEST, kv: None }
    }
}

impl StateMachine {
    /// Applies `entry`, the entry at index `applied + 1`; a key-value
    /// command's answer (see [`KvStore::apply`]).
    pub fn apply(&mut self, entry: &Entry) -> Option<Answer> {
        self.applied += 1;
        self.term = entry.term;
        if entry.is_command() {
            self.commands += 1;
        }
        self.digest = chain(self.digest, entry);
        let cmd = entry.kv.as_ref()?;
        Arc::make_mut(self.kv.get_or_insert_with(Default::default)).apply(entry.command, cmd)
    }

    /// Key `key`'s value and version now.
    pub fn read(&self, key: u32) -> Answer {
        self.kv.as_ref().map_or(Answer { key, value: None, version: 0, ok: true }, |kv| kv.read(key))
    }
}

/// A snapshot (§7): the state machine after applying the log up to its
/// last included entry, that entry's index and term (in `state`), and the
/// configuration in force there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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

impl RaftNode {
    /// Index of the first entry in [`RaftNode::log`] (the snapshot's last
    /// index + 1).
    pub fn first_log_index(&self) -> u64 {
        self.snapshot.index() + 1
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

    /// The entry at 1-based `index`, if the log holds it (not compacted).
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        entry_in(&self.log, self.first_log_index(), index)
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

    /// Raises the commit index to `index` and applies the entries up to it.
    /// A leader answers the key-value commands it waits for as they apply.
    pub(super) fn commit_to(&mut self, index: u64, ctx: &mut Ctx<Self>) {
        self.commit_index = index;
        ctx.note(RaftNote::Committed { index });
        while self.state.applied < index {
            // The log and the state machine are apart: apply the entry where
            // it lies, without a copy.
            let Some(e) = entry_in(&self.log, self.first_log_index(), self.state.applied + 1) else { break };
            let (answer, command) = (self.state.apply(e), e.command);
            if let (Some(a), Some(&(i, req))) = (answer, self.pending.front()) {
                if i == self.state.applied && req == command && self.role == Role::Leader {
                    self.pending.pop_front();
                    ctx.reply(req, crate::sim::Reply::Answer(a));
                }
            }
        }
        self.serve_reads(ctx);
    }

    /// §7: when the log holds more than `snapshot_every` entries, snapshot
    /// the state machine and discard the prefix it covers. The snapshot
    /// stops `snapshot_every / 2` entries short of the last applied one, so
    /// followers a little behind (the slower half of a large cluster, a
    /// pipelined batch in flight) still find their next entries in the log
    /// rather than needing InstallSnapshot (etcd keeps such a tail too).
    /// Run at the start of a handler, so the entries being compacted were
    /// applied (and seen applied) in an earlier step.
    pub(super) fn maybe_compact(&mut self, ctx: &mut Ctx<Self>) {
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
        let mut state = self.snapshot.state.clone();
        for e in &self.log[..drop] {
            state.apply(e);
        }
        let (config, config_index) = self.latest_config(upto);
        let config = (config_index > 0 || self.snapshot.config.is_some()).then_some(config);
        let term = state.term;
        self.snapshot = Snapshot { state, config, config_index };
        self.log.drain(..drop);
        ctx.note(RaftNote::Snapshotted { index: upto, term });
    }

    /// Appends one entry of the leader's term, noting it.
    pub(super) fn leader_append(&mut self, entry: Entry, ctx: &mut Ctx<Self>) -> u64 {
        self.log.push(entry);
        let index = self.last_log_index();
        ctx.note(RaftNote::Appended { from: index, to: index });
        if let Some(m) = self.progress.match_index.get_mut(self.id as usize) {
            *m = index;
        }
        index
    }

    /// InstallSnapshot (§7, Figure 13): refuse a stale term; a snapshot that
    /// adds nothing to what is committed here is only acknowledged; if the
    /// log holds the snapshot's last entry, the entries after it are kept
    /// (step 6); otherwise the whole log is discarded (step 7). The state
    /// machine and configuration are then the snapshot's (step 8).
    pub(super) fn handle_install_snapshot(&mut self, from: NodeId, term: u64, snap: Snapshot, ctx: &mut Ctx<Self>) {
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
            let snap_term = snap.term();
            self.state = snap.state.clone();
            self.snapshot = snap;
            self.commit_index = index;
            ctx.note(RaftNote::InstalledSnapshot { index, term: snap_term, retained });
            self.refresh_config(ctx);
        }
        ctx.send(from, RaftMsg::InstallSnapshotReply { term: self.term, index });
    }
}

/// The entry at `index` of a log whose first entry is at `first`, if it
/// holds one: [`RaftNode::entry`], for a caller that borrows the log apart
/// from the rest of the node.
fn entry_in(log: &[Entry], first: u64, index: u64) -> Option<&Entry> {
    let k = usize::try_from(index.checked_sub(first)?).ok()?;
    log.get(k)
}
