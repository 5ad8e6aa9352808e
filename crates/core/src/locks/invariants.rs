//! The Locks lab's safety properties as checkers, run after every event,
//! all of them read from what the storage notes (it is where a lock's
//! purpose, one writer at a time, is either kept or broken).
//!
//! | property | what breaks it | source |
//! |---|---|---|
//! | Fencing | the storage, checking tokens, accepts a write whose token is below one it has seen on that key | Kleppmann, "How to do distributed locking" (2016), fencing; Chubby's sequencers (Burrows, OSDI 2006, §2.4) |
//! | Mutual exclusion | the storage accepts a write under a lock's token after it accepted a write under a later token of that key's lock: the older holder wrote after the newer one did, so their critical sections overlapped. With Redlock, whose values cannot be ordered: the storage accepts a holder's write although another holder wrote the key under another value since this holder's read | the purpose of a lock; Kleppmann's Figure 1 (client 1 paused past its lease) |
//! | Lost update | a read-modify-write commits although the key changed since its read | Berenson et al., "A Critique of ANSI SQL Isolation Levels" (1995), P4 |
//! | Unique tokens | the lock service grants one key's lock to two clients under one token | a token names one grant (Chubby's sequencers); with the service on Raft, a token is a log index, and State Machine Safety (Raft §5.4.3) makes every server that applies that index make the same grant |
//!
//! Fencing only fails if the storage's check is buggy (no preset can
//! break it); the tests feed it a hand-built sequence. Unique tokens reads
//! the lock service's grants instead: two servers that both led may both
//! note one grant, which is the same grant. Each checker keeps
//! one small record per key it has seen (bounded by the keys).

use super::node::{LockNode, LockNote};
use super::Service;
use crate::sim::{Invariant, NodeId, TraceEvent, World};
use std::collections::BTreeMap;

/// The four checkers, in the order they are asked (the first that fails
/// names the violation).
pub fn invariants() -> Vec<Box<dyn Invariant<LockNode>>> {
    vec![
        Box::<Fencing>::default(),
        Box::<MutualExclusion>::default(),
        Box::new(LostUpdate),
        Box::<UniqueTokens>::default(),
    ]
}

fn storage_notes(events: &[TraceEvent<LockNode>]) -> impl Iterator<Item = &LockNote> {
    events.iter().filter_map(|e| match e {
        TraceEvent::Note { note, .. } => Some(note),
        _ => None,
    })
}

fn s(n: NodeId) -> String {
    format!("S{}", u64::from(n) + 1)
}

/// Fencing: an accepted write's token is never below the highest token
/// the storage has seen on its key (reads and writes), when it fences.
#[derive(Clone, Debug, Default)]
pub struct Fencing {
    /// Per key: the highest token seen, and who carried it.
    seen: BTreeMap<u32, (u64, NodeId)>,
}

impl Invariant<LockNode> for Fencing {
    fn name(&self) -> &'static str {
        "Fencing"
    }

    fn check(&mut self, _: &World<'_, LockNode>, events: &[TraceEvent<LockNode>]) -> Result<(), String> {
        for note in storage_notes(events) {
            match *note {
                LockNote::ReadServed { client, key, token } => {
                    let e = self.seen.entry(key).or_insert((0, client));
                    if token > e.0 {
                        *e = (token, client);
                    }
                }
                LockNote::WriteAccepted { client, key, token, fenced, .. } if token > 0 => {
                    let e = self.seen.entry(key).or_insert((0, client));
                    if fenced && token < e.0 {
                        return Err(format!(
                            "the storage checks fencing tokens, yet it accepted {}'s write to key {key} with token {token} after seeing token {} from {}",
                            s(client),
                            e.0,
                            s(e.1)
                        ));
                    }
                    if token > e.0 {
                        *e = (token, client);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<LockNode>> {
        Box::new(self.clone())
    }

    fn heap_bytes(&self) -> usize {
        self.seen.len() * 48
    }
}

/// Mutual exclusion as the storage sees it: on one key, writes under the
/// lock come in the order of their tokens. With Redlock (whose random
/// values name a holder but have no order): no holder's write follows
/// another holder's write made since its read.
#[derive(Clone, Debug, Default)]
pub struct MutualExclusion {
    /// Per key: the highest token a write was accepted with, and its writer
    /// (Redlock: the last write's value and writer).
    written: BTreeMap<u32, (u64, NodeId)>,
}

impl Invariant<LockNode> for MutualExclusion {
    fn name(&self) -> &'static str {
        "Mutual exclusion"
    }

    fn check(&mut self, world: &World<'_, LockNode>, events: &[TraceEvent<LockNode>]) -> Result<(), String> {
        let unordered = world.nodes.first().is_some_and(|n| n.state.config().service == Service::Redlock);
        for note in storage_notes(events) {
            if let LockNote::WriteAccepted { client, key, token, read_version, before, .. } = *note {
                if token == 0 {
                    continue;
                }
                if unordered {
                    match self.written.get(&key) {
                        Some(&(other, by)) if before > read_version && (other, by) != (token, client) => {
                            return Err(format!(
                                "{} wrote key {key} under lock value {token}, computed from version {read_version}; since that read {} wrote it under lock value {other}: both held the lock at once",
                                s(client),
                                s(by)
                            ));
                        }
                        _ => {
                            self.written.insert(key, (token, client));
                        }
                    }
                    continue;
                }
                match self.written.get(&key) {
                    Some(&(newer, by)) if token < newer => {
                        return Err(format!(
                            "{} wrote key {key} under token {token} after {} had written it under the newer token {newer}: the lock was taken over while {} still used it",
                            s(client),
                            s(by),
                            s(client)
                        ));
                    }
                    _ => {
                        self.written.insert(key, (token, client));
                    }
                }
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<LockNode>> {
        Box::new(self.clone())
    }

    fn heap_bytes(&self) -> usize {
        self.written.len() * 48
    }
}

/// Lost update: every accepted write was computed from the key's current
/// version.
#[derive(Clone, Copy, Debug, Default)]
pub struct LostUpdate;

impl Invariant<LockNode> for LostUpdate {
    fn name(&self) -> &'static str {
        "Lost update"
    }

    fn check(&mut self, _: &World<'_, LockNode>, events: &[TraceEvent<LockNode>]) -> Result<(), String> {
        for note in storage_notes(events) {
            if let LockNote::WriteAccepted { client, key, read_version, before, .. } = *note {
                if read_version != before {
                    return Err(format!(
                        "{}'s write to key {key} was computed from version {read_version}, but the key was at version {before}: {} update(s) lost",
                        s(client),
                        before.saturating_sub(read_version).max(1)
                    ));
                }
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<LockNode>> {
        Box::new(*self)
    }
}

/// Unique tokens: no two clients are granted one key's lock under the same
/// token, whichever lock server granted it.
#[derive(Clone, Debug, Default)]
pub struct UniqueTokens {
    /// Per key, the latest grants: token and holder (the last
    /// [`UniqueTokens::KEEP`]).
    grants: BTreeMap<u32, std::collections::VecDeque<(u64, NodeId)>>,
}

impl UniqueTokens {
    /// Grants remembered per key: a leader that was cut off applies what
    /// it missed within a few dozen grants of the key.
    pub const KEEP: usize = 64;
}

impl Invariant<LockNode> for UniqueTokens {
    fn name(&self) -> &'static str {
        "Unique tokens"
    }

    fn check(&mut self, _: &World<'_, LockNode>, events: &[TraceEvent<LockNode>]) -> Result<(), String> {
        for ev in events {
            let TraceEvent::Note { node, note: LockNote::Granted { client, key, token }, .. } = ev else { continue };
            let (client, key, token) = (*client, *key, *token);
            let seen = self.grants.entry(key).or_default();
            match seen.iter().find(|(t, _)| *t == token) {
                Some(&(_, other)) if other != client => {
                    return Err(format!(
                        "{} granted key {key}'s lock to {} under token {token}, which was granted to {} already",
                        s(*node),
                        s(client),
                        s(other)
                    ));
                }
                Some(_) => {}
                None => {
                    if seen.len() == Self::KEEP {
                        seen.pop_front();
                    }
                    seen.push_back((token, client));
                }
            }
        }
        Ok(())
    }

    fn clone_box(&self) -> Box<dyn Invariant<LockNode>> {
        Box::new(self.clone())
    }

    fn heap_bytes(&self) -> usize {
        self.grants.values().map(|g| 48 + g.len() * 16).sum()
    }
}
