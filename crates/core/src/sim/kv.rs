//! The small key-value store that a lab's replicated state machine
//! applies clients' key-value commands to (see [`super::client`]).

use super::protocol::{Answer, Command, KvOp, RequestId};
use std::collections::BTreeMap;

/// A replicated key-value store, as the servers' state machine applies
/// commands in their agreed order: each key's value and version (the
/// writes applied to it), and each client process's last command with its
/// answer (client sessions), so a retried command that was agreed on
/// twice is answered, not applied twice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    values: Vec<(Option<i64>, u64)>,
    sessions: BTreeMap<u64, (RequestId, Answer)>,
}

impl KvStore {
    /// Key `key`'s value and version.
    pub fn read(&self, key: u32) -> Answer {
        let (value, version) = self.values.get(key as usize).copied().unwrap_or((None, 0));
        Answer { key, value, version, ok: true }
    }

    /// Applies command `cmd` of request `req`: its answer, the recorded
    /// one if the process's last command was this one, or `None` if the
    /// process has moved on since (an old retry: nobody waits for it).
    pub fn apply(&mut self, req: RequestId, cmd: &Command) -> Option<Answer> {
        match self.sessions.get(&cmd.process) {
            Some(&(last, answer)) if last == req => return Some(answer),
            Some(&(last, _)) if last > req => return None,
            _ => {}
        }
        let k = cmd.key as usize;
        if self.values.len() <= k {
            self.values.resize(k + 1, (None, 0));
        }
        let slot = &mut self.values[k];
        let ok = match cmd.op {
            KvOp::Read => true,
            KvOp::Write(v) => {
                *slot = (Some(v), slot.1 + 1);
                true
            }
            KvOp::Cas(from, to) if slot.0 == from => {
                *slot = (Some(to), slot.1 + 1);
                true
            }
            KvOp::Cas(..) => false,
        };
        let answer = Answer { key: cmd.key, value: slot.0, version: slot.1, ok };
        self.sessions.insert(cmd.process, (req, answer));
        Some(answer)
    }

    /// The version of every key (for the staleness of reads).
    pub fn versions(&self) -> impl Iterator<Item = u64> + '_ {
        self.values.iter().map(|v| v.1)
    }

    /// About how many bytes it holds.
    pub fn heap_bytes(&self) -> usize {
        self.values.len() * std::mem::size_of::<(Option<i64>, u64)>()
            + btree_bytes::<u64, (RequestId, Answer)>(self.sessions.len())
    }
}

/// About the bytes a `BTreeMap<K, V>` of `n` entries takes on the heap:
/// its nodes hold 11 entries, and keys inserted in order (slots, process
/// numbers) leave them about half full.
pub fn btree_bytes<K, V>(n: usize) -> usize {
    n * (std::mem::size_of::<K>() + std::mem::size_of::<V>()) * 2
}
