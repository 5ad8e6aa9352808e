//! What the quorum lab draws of its own: the hash ring with its servers'
//! points, a few keys with their preference lists, the version each
//! replica holds against the newest acknowledged write, the commands
//! coordinators are working on (who was asked, who answered, how many
//! answers the quorum needs), and the hints stand-ins keep for replicas
//! that were down.
//!
//! The view is built when the page asks for a frame, from the servers'
//! state and the lab's running figures; nothing here is read by a server,
//! so it cannot change a run. It is sent with every frame that changes it,
//! so everything in it has a stated limit: [`MAX_POINTS`] ring points,
//! [`WATCHED_KEYS`] keys, [`MAX_OPS`] commands and [`MAX_HINTS`] rows of
//! hints (with the totals, so the page can say what it leaves out).

use super::{Held, QuorumNode, Version, Versions};
use crate::ring::RingPoint;
use crate::sim::{NodeStatus, Sim};
use serde::{Deserialize, Serialize};

/// Most ring points drawn (a ring with more is drawn from every k-th).
pub const MAX_POINTS: usize = 160;
/// Most keys watched: the most recently written ones.
pub const WATCHED_KEYS: usize = 8;
/// Most commands in flight drawn.
pub const MAX_OPS: usize = 8;
/// Most (stand-in, replica) rows of hints.
pub const MAX_HINTS: usize = 24;
/// Most keys named per row of hints.
pub const HINT_KEYS: usize = 6;

/// The ring the preference lists were read from, for drawing: positions
/// are the top 16 bits of the 64-bit hash (0 at the top of the circle,
/// clockwise), enough for a picture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingShape {
    /// Points drawn, sorted by position: (position, server).
    pub points: Vec<(u16, u8)>,
    /// Points on the ring in all.
    pub points_total: u32,
    /// Each key's position.
    pub keys: Vec<u16>,
}

/// The top 16 bits of a position on the 64-bit circle.
fn top16(position: u64) -> u16 {
    (position >> 48) as u16
}

impl RingShape {
    /// The shape of a ring with these points (sorted by position), and of
    /// keys with these hashes.
    pub fn new(points: &[RingPoint], key_hashes: &[u64]) -> RingShape {
        let every = points.len().div_ceil(MAX_POINTS).max(1);
        RingShape {
            points: points.iter().step_by(every).map(|p| (top16(p.position), p.node.min(255) as u8)).collect(),
            points_total: points.len() as u32,
            keys: key_hashes.iter().map(|&h| top16(h)).collect(),
        }
    }
}

/// What a replica holds of a key, against the newest write of that key
/// acknowledged to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplicaState {
    /// It holds the newest acknowledged write (or a newer version; under
    /// version vectors, its clock has seen that write).
    Current,
    /// It holds an older version.
    Stale,
    /// It holds nothing of a key that has an acknowledged write.
    Missing,
    /// No write of the key has been acknowledged yet.
    Unwritten,
}

impl ReplicaState {
    /// In words, for legends and labels.
    pub fn word(self) -> &'static str {
        match self {
            ReplicaState::Current => "current",
            ReplicaState::Stale => "stale",
            ReplicaState::Missing => "missing",
            ReplicaState::Unwritten => "not written yet",
        }
    }

    /// What `held` is against `newest`, the newest acknowledged write.
    pub fn of(held: &Held, newest: Option<&Version>, versions: Versions) -> ReplicaState {
        let Some(newest) = newest else { return ReplicaState::Unwritten };
        let current = match versions {
            Versions::Lww => held.siblings.first().is_some_and(|v| v >= newest),
            Versions::Vectors => !held.is_empty() && held.has_seen(newest),
        };
        if held.is_empty() {
            ReplicaState::Missing
        } else if current {
            ReplicaState::Current
        } else {
            ReplicaState::Stale
        }
    }
}

/// One replica of a watched key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaView {
    /// The server.
    pub server: u32,
    /// What it holds, against the newest acknowledged write.
    pub state: ReplicaState,
    /// The value it holds (the largest of its siblings), if any.
    pub value: Option<i64>,
    /// Versions it holds (more than one: siblings, under version vectors).
    pub siblings: u32,
}

/// A watched key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    /// The key's number.
    pub key: u32,
    /// Its position on the ring (as in [`RingShape`]).
    pub position: u16,
    /// The value of its newest acknowledged write, if any.
    pub written: Option<i64>,
    /// Its `N` replicas, its preference list in ring order.
    pub replicas: Vec<ReplicaView>,
}

/// A command a coordinator is working on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpView {
    /// The coordinator.
    pub coordinator: u32,
    /// The key.
    pub key: u32,
    /// A write (else a read).
    pub write: bool,
    /// Replicas asked.
    pub asked: Vec<u32>,
    /// Stand-ins asked: (replica stood in for, stand-in).
    pub stand_ins: Vec<(u32, u32)>,
    /// Servers that answered so far.
    pub answered: Vec<u32>,
    /// Answers the client's answer waits for: `W` or `R`.
    pub need: u32,
    /// Whether the client has its answer (the coordinator still waits
    /// for late answers: a replica's acknowledgement a stand-in's
    /// replaced, or a replica async read repair may still repair).
    pub replied: bool,
}

/// Hints a stand-in keeps for one replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HintView {
    /// The stand-in that keeps them.
    pub holder: u32,
    /// The replica they are for.
    pub for_node: u32,
    /// How many (one per key).
    pub count: u32,
    /// The first of their keys (at most [`HINT_KEYS`]).
    pub keys: Vec<u32>,
}

/// The quorum lab's own drawing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumView {
    /// Replicas per key (`N`).
    pub n: u32,
    /// Read quorum (`R`).
    pub r: u32,
    /// Write quorum (`W`).
    pub w: u32,
    /// Whether sloppy quorums with hinted handoff are on.
    pub sloppy: bool,
    /// Whether versions are version vectors (else last writer wins).
    pub vectors: bool,
    /// Per server, whether it is up (crashed or paused: not).
    pub up: Vec<bool>,
    /// The ring.
    pub ring: RingShape,
    /// Keys in all.
    pub keys_total: u32,
    /// The watched keys, by number.
    pub keys: Vec<KeyView>,
    /// Commands in flight (those still waiting for their quorum first).
    pub ops: Vec<OpView>,
    /// Commands in flight in all.
    pub ops_total: u32,
    /// Hints waiting, by stand-in then replica.
    pub hints: Vec<HintView>,
    /// Hints waiting in all.
    pub hints_total: u32,
}

/// The view of `sim` now, watching `watched` keys (at most
/// [`WATCHED_KEYS`] are taken); `newest[k]` is key `k`'s newest
/// acknowledged write.
pub fn build(sim: &Sim<QuorumNode>, watched: &[u32], newest: &[Option<Version>]) -> QuorumView {
    let cfg = sim.protocol_config();
    let nodes = sim.nodes();
    let mut keys: Vec<u32> = watched.iter().copied().filter(|&k| k < cfg.keys()).take(WATCHED_KEYS).collect();
    keys.sort_unstable();
    keys.dedup();
    let keys = keys
        .into_iter()
        .map(|key| {
            let written = newest.get(key as usize).copied().flatten();
            let replicas = cfg
                .home(key)
                .iter()
                .map(|&s| {
                    let held = nodes[s as usize].state.store().get(&key).cloned().unwrap_or_default();
                    ReplicaView {
                        server: s,
                        state: ReplicaState::of(&held, written.as_ref(), cfg.versions),
                        value: held.value(),
                        siblings: held.siblings.len() as u32,
                    }
                })
                .collect();
            KeyView {
                key,
                position: cfg.shape.keys.get(key as usize).copied().unwrap_or(0),
                written: written.map(|v| v.value),
                replicas,
            }
        })
        .collect();

    let mut ops: Vec<OpView> = Vec::new();
    let mut ops_total = 0u32;
    for node in nodes.iter().filter(|n| n.status == NodeStatus::Up) {
        for c in node.state.coordinated() {
            ops_total += 1;
            ops.push(OpView {
                coordinator: node.state.id(),
                key: c.key,
                write: c.write,
                asked: c.asked,
                stand_ins: c.stand_ins,
                answered: c.answered,
                need: if c.write { cfg.w } else { cfg.r },
                replied: c.replied,
            });
        }
    }
    // Those still waiting for their quorum first (a stable sort keeps
    // each server's oldest first).
    ops.sort_by_key(|o| o.replied);
    ops.truncate(MAX_OPS);

    let mut hints: Vec<HintView> = Vec::new();
    let mut hints_total = 0u32;
    for node in nodes {
        for &(for_node, key) in node.state.hints().keys() {
            hints_total += 1;
            let holder = node.state.id();
            let room = hints.len() < MAX_HINTS;
            match hints.last_mut() {
                Some(h) if h.holder == holder && h.for_node == for_node => {
                    h.count += 1;
                    if h.keys.len() < HINT_KEYS {
                        h.keys.push(key);
                    }
                }
                _ if room => hints.push(HintView { holder, for_node, count: 1, keys: vec![key] }),
                _ => {}
            }
        }
    }

    QuorumView {
        n: cfg.replicas,
        r: cfg.r,
        w: cfg.w,
        sloppy: cfg.sloppy,
        vectors: cfg.versions == Versions::Vectors,
        up: nodes.iter().map(|n| n.status == NodeStatus::Up).collect(),
        ring: (*cfg.shape).clone(),
        keys_total: cfg.keys(),
        keys,
        ops,
        ops_total,
        hints,
        hints_total,
    }
}
