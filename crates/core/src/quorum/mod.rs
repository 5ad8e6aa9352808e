//! # Quorum replication (Dynamo-style N, R, W)
//!
//! DeCandia et al., "Dynamo: Amazon's Highly Available Key-value Store"
//! (SOSP 2007), and its descendants (Cassandra, Riak, Voldemort): every key
//! lives on `N` servers, the first `N` distinct servers met walking the
//! consistent-hash ring clockwise from the key (its *preference list*,
//! computed by the Ring lab's [`crate::ring::VnodeRing`], not a copy of it).
//!
//! * **Coordinators.** The server a client contacts coordinates its
//!   command (or, with `coordinator replica`, redirects it to a replica of
//!   the key, as Dynamo's nodes forward a request for a key they do not
//!   hold). A write is stamped with the coordinator's clock (the shared
//!   clock drift applies, and `skew` sets S1's clock behind), sent to the
//!   key's `N` replicas (or only to `W` of them chosen at random,
//!   `write_fanout quorum`, as if the others had not received it yet) and
//!   acknowledged to the client after `W` replicas stored it. A read asks
//!   all `N` replicas and answers with the newest version among the first
//!   `R` answers (or asks `R` replicas chosen uniformly at random,
//!   `read_fanout quorum`, the setting of Bailis et al.'s closed form).
//! * **Versions** (`versions`, see [`versions`]) are last-writer-wins
//!   (`lww`): the version with the highest (timestamp, coordinator) pair
//!   wins everywhere, so a write stamped by a clock that runs behind loses
//!   silently to an older one; or dotted version vectors with siblings
//!   (`vectors`, as Riak keeps them): writes neither of which saw the other
//!   are both kept, a read returns them all with their merged version
//!   vector, and the client writes back their merge (the largest value)
//!   with that context, which supersedes what it read. Clients write
//!   blind (without reading first), so their writes are concurrent with
//!   every write not merged yet.
//! * **Repair.** Read repair (`off`; `async`: after answering, the
//!   coordinator sends the newest version to the replicas that answered an
//!   older one, as Dynamo does; `blocking`: before answering, it writes the
//!   newest version back until `W` replicas hold it, the second phase of
//!   Attiya, Bar-Noy and Dolev's register, 1995). Sloppy quorums with
//!   hinted handoff (`sloppy on`): a replica that does not answer within
//!   `retry_after` is stood in for by the next server on the ring, which
//!   keeps the write as a *hint* and hands it back when the replica
//!   answers again. Anti-entropy (`anti_entropy`, a period): each server
//!   now and then swaps its versions of the keys it shares with a random
//!   replica peer and both keep the newer (Dynamo uses Merkle trees to find
//!   the differences; here every shared key's version is sent, which is
//!   what a tree saves bandwidth on, not what it finds).
//!
//! Servers persist what they store and the hints they keep (Dynamo writes
//! to disk before acknowledging), so a crash loses only the commands being
//! coordinated. [`pbs`] holds the closed form of Bailis et al.'s
//! "Probabilistically Bounded Staleness" (VLDB 2012) that the lab's
//! measurements are checked against.

pub mod experiments;
pub mod lab;
pub mod pbs;
pub mod versions;
pub mod view;

pub use versions::{Held, Version, Versions};

use crate::ring::{uniform_nodes, HashKind, Placement, VnodeRing};
use crate::sim::{Answer, Command, Ctx, Fingerprint, KvOp, NodeId, Observable, Protocol, Reply, RequestId, Time};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// Which replicas a read or a write is sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fanout {
    /// All `N` replicas (Dynamo, Cassandra).
    All,
    /// Only as many as the quorum: the first `W` replicas for a write, `R`
    /// replicas chosen uniformly at random for a read.
    Quorum,
}

/// Read repair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadRepair {
    /// None.
    Off,
    /// After answering, send the newest version to replicas that answered
    /// an older one.
    Async,
    /// Before answering, write the newest version back until `W` replicas
    /// hold it.
    Blocking,
}

/// Which server coordinates a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coordinator {
    /// The server the client contacted.
    Any,
    /// A replica of the key: any other server redirects the client to the
    /// key's first replica.
    Replica,
}

/// The quorum lab's parameters, shared by every server.
#[derive(Clone, Debug)]
pub struct QuorumConfig {
    /// Replicas per key (`N`).
    pub replicas: u32,
    /// Answers a read waits for (`R`).
    pub r: u32,
    /// Acknowledgements a write waits for (`W`).
    pub w: u32,
    /// Every key's servers in ring order: its replicas first, then the
    /// servers that stand in for them.
    pub prefs: Arc<Vec<Vec<NodeId>>>,
    /// The ring they were read from, for drawing (never consulted by the
    /// servers).
    pub shape: Arc<view::RingShape>,
    /// Who coordinates.
    pub coordinator: Coordinator,
    /// Where reads go.
    pub read_fanout: Fanout,
    /// Where writes go.
    pub write_fanout: Fanout,
    /// Read repair.
    pub read_repair: ReadRepair,
    /// Sloppy quorums with hinted handoff.
    pub sloppy: bool,
    /// How long a coordinator waits for a replica before asking again (or,
    /// sloppy, asking a stand-in).
    pub retry_after: Time,
    /// How often a server tries to hand its hints back.
    pub handoff_every: Time,
    /// How often a server runs an anti-entropy round (0: never).
    pub anti_entropy_every: Time,
    /// How far S1's clock runs behind the others.
    pub skew: Time,
    /// Last writer wins, or version vectors with siblings.
    pub versions: Versions,
}

/// Most retries a coordinator makes for one command before dropping it
/// (the client has timed out by then and tries another server).
pub const MAX_RETRIES: u32 = 20;

impl QuorumConfig {
    /// The preference lists of `keys` keys on a ring of `servers` servers
    /// with `vnodes` virtual nodes each (xxh3 of the key's number, as the
    /// Ring lab hashes numbered keys).
    pub fn ring(servers: u32, vnodes: u32, keys: u32) -> Result<Vec<Vec<NodeId>>, String> {
        Self::layout(servers, vnodes, keys).map(|(prefs, _)| prefs)
    }

    /// [`QuorumConfig::ring`], and the ring's shape for drawing (its
    /// points and the keys' positions), from the one ring built.
    pub fn layout(servers: u32, vnodes: u32, keys: u32) -> Result<(Vec<Vec<NodeId>>, view::RingShape), String> {
        let ring = VnodeRing::new(&uniform_nodes(servers, vnodes), HashKind::Xxh3).map_err(|e| e.to_string())?;
        let hashes: Vec<u64> = (0..keys).map(|k| HashKind::Xxh3.hash_u64(u64::from(k))).collect();
        let prefs = hashes.iter().map(|&h| ring.preference_list(h, servers as usize)).collect();
        let points = ring.ring_view().map(|v| v.points).unwrap_or_default();
        Ok((prefs, view::RingShape::new(&points, &hashes)))
    }

    /// Key `key`'s `N` replicas.
    pub fn home(&self, key: u32) -> &[NodeId] {
        let list = &self.prefs[key as usize];
        &list[..(self.replicas as usize).min(list.len())]
    }

    /// Whether server `node` is a replica of `key`.
    pub fn is_home(&self, key: u32, node: NodeId) -> bool {
        self.home(key).contains(&node)
    }

    /// Keys, as the ring was built for.
    pub fn keys(&self) -> u32 {
        self.prefs.len() as u32
    }
}

/// Messages between servers. A version travels as a [`Held`]: one
/// version under last writer wins, a clock and siblings under version
/// vectors (the coordinator's whole copy of the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumMsg {
    /// Store this version (for `hint`, if a stand-in).
    Write {
        /// The coordinator's operation.
        op: u64,
        /// The key.
        key: u32,
        /// The version.
        ver: Held,
        /// The replica this server stands in for.
        hint: Option<NodeId>,
    },
    /// Stored; under version vectors, with what the replica holds now
    /// (empty under last writer wins).
    WriteAck {
        /// The operation.
        op: u64,
        /// Version vectors: the replica's copy after the write.
        held: Held,
    },
    /// What version of `key` do you hold?
    Read {
        /// The operation.
        op: u64,
        /// The key.
        key: u32,
    },
    /// This one (empty: none).
    ReadReply {
        /// The operation.
        op: u64,
        /// The version held.
        ver: Held,
    },
    /// Read repair: store this newer version (`op` 0: no answer wanted).
    Repair {
        /// The operation waiting for it (0: none).
        op: u64,
        /// The key.
        key: u32,
        /// The version.
        ver: Held,
    },
    /// Repaired (blocking read repair).
    RepairAck {
        /// The operation.
        op: u64,
    },
    /// A stand-in hands back a write it kept for this replica.
    Handoff {
        /// The key.
        key: u32,
        /// The version.
        ver: Held,
    },
    /// The replica stored the handed-off write.
    HandoffAck {
        /// The key.
        key: u32,
        /// The version.
        ver: Held,
    },
    /// Anti-entropy: my versions of the keys we share.
    Digest {
        /// (key, version held) for every shared key.
        entries: Vec<(u32, Held)>,
    },
    /// Anti-entropy: the versions I hold that are newer than yours.
    DigestReply {
        /// (key, version) newer than the digest's.
        entries: Vec<(u32, Held)>,
    },
}

impl Observable for QuorumMsg {
    fn kind(&self) -> &'static str {
        match self {
            QuorumMsg::Write { .. } => "Write",
            QuorumMsg::WriteAck { .. } => "WriteAck",
            QuorumMsg::Read { .. } => "Read",
            QuorumMsg::ReadReply { .. } => "ReadReply",
            QuorumMsg::Repair { .. } => "Repair",
            QuorumMsg::RepairAck { .. } => "RepairAck",
            QuorumMsg::Handoff { .. } => "Handoff",
            QuorumMsg::HandoffAck { .. } => "HandoffAck",
            QuorumMsg::Digest { .. } => "Digest",
            QuorumMsg::DigestReply { .. } => "DigestReply",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            QuorumMsg::Write { op, key, ver, hint } => {
                fp.words(&[1, *op, u64::from(*key), hint.map_or(u64::MAX, u64::from)]);
                ver.digest(fp);
            }
            QuorumMsg::WriteAck { op, held } => {
                fp.words(&[2, *op, 0, 0]);
                if !held.is_empty() {
                    held.digest(fp);
                }
            }
            QuorumMsg::Read { op, key } => fp.words(&[3, *op, u64::from(*key), 0]),
            QuorumMsg::ReadReply { op, ver } => {
                fp.words(&[4, *op, 0, 0]);
                ver.digest(fp);
            }
            QuorumMsg::Repair { op, key, ver } => {
                fp.words(&[5, *op, u64::from(*key), 0]);
                ver.digest(fp);
            }
            QuorumMsg::RepairAck { op } => fp.words(&[6, *op, 0, 0]),
            QuorumMsg::Handoff { key, ver } | QuorumMsg::HandoffAck { key, ver } => {
                fp.words(&[if matches!(self, QuorumMsg::Handoff { .. }) { 7 } else { 8 }, u64::from(*key), 0, 0]);
                ver.digest(fp);
            }
            QuorumMsg::Digest { entries } | QuorumMsg::DigestReply { entries } => {
                fp.words(&[if matches!(self, QuorumMsg::Digest { .. }) { 9 } else { 10 }, entries.len() as u64, 0, 0]);
                for (k, v) in entries {
                    fp.u64(u64::from(*k));
                    v.digest(fp);
                }
            }
        }
    }

    fn describe(&self, out: &mut String) {
        out.push_str(self.kind());
        match self {
            QuorumMsg::Write { key, ver, hint, .. } => {
                let _ = write!(out, " k{key} ");
                ver.describe(out);
                if let Some(h) = hint {
                    let _ = write!(out, " hint for S{}", u64::from(*h) + 1);
                }
            }
            QuorumMsg::Read { key, .. } => {
                let _ = write!(out, " k{key}");
            }
            QuorumMsg::ReadReply { ver, .. } => {
                out.push(' ');
                ver.describe(out);
            }
            QuorumMsg::Repair { key, ver, .. }
            | QuorumMsg::Handoff { key, ver }
            | QuorumMsg::HandoffAck { key, ver } => {
                let _ = write!(out, " k{key} ");
                ver.describe(out);
            }
            QuorumMsg::Digest { entries } | QuorumMsg::DigestReply { entries } => {
                let _ = write!(out, " {} keys", entries.len());
            }
            QuorumMsg::WriteAck { .. } | QuorumMsg::RepairAck { .. } => {}
        }
    }
}

/// Timers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum QuorumTimer {
    /// A coordinated command's replicas have not all answered: ask again.
    Retry(u64),
    /// Try to hand hints back.
    Handoff,
    /// Run an anti-entropy round.
    AntiEntropy,
}

impl Observable for QuorumTimer {
    fn kind(&self) -> &'static str {
        match self {
            QuorumTimer::Retry(_) => "Retry",
            QuorumTimer::Handoff => "HandoffRound",
            QuorumTimer::AntiEntropy => "AntiEntropyRound",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            QuorumTimer::Retry(op) => fp.words(&[1, *op, 0, 0]),
            QuorumTimer::Handoff => fp.u64(2),
            QuorumTimer::AntiEntropy => fp.u64(3),
        }
    }
}

/// What a server notes for the trace, the diagram and the figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumNote {
    /// A coordinator acknowledged a write to its client; `sloppy`: a
    /// stand-in's acknowledgement counted towards `W`.
    WriteAcked {
        /// The key.
        key: u32,
        /// The write's version.
        ver: Version,
        /// Whether a stand-in's acknowledgement counted.
        sloppy: bool,
    },
    /// A coordinator answered a read whose replicas disagreed: at least
    /// one answered an older version than the one returned.
    ReadDisagreed {
        /// The key.
        key: u32,
        /// Replicas that answered an older version.
        behind: u32,
    },
    /// A coordinator sent read repairs.
    Repaired {
        /// The key.
        key: u32,
        /// Replicas repaired.
        replicas: u32,
    },
    /// A stand-in kept a write for a replica that did not answer.
    HintStored {
        /// The key.
        key: u32,
        /// The replica it is kept for.
        for_node: NodeId,
    },
    /// A replica took back a hint (noted by the stand-in).
    HandedOff {
        /// The key.
        key: u32,
        /// The replica.
        to: NodeId,
    },
    /// Anti-entropy copied newer versions to this server.
    Synced {
        /// Versions copied.
        copied: u32,
    },
    /// Version vectors: a read returned these siblings to its client.
    ReadSiblings {
        /// The key.
        key: u32,
        /// The siblings returned.
        siblings: Vec<Version>,
    },
    /// Version vectors: the client merged a read's siblings into one
    /// value and writes it back with the read's context.
    Merged {
        /// The key.
        key: u32,
        /// Siblings merged.
        siblings: u32,
        /// The merged value (the largest).
        value: i64,
    },
}

impl Observable for QuorumNote {
    fn kind(&self) -> &'static str {
        match self {
            QuorumNote::WriteAcked { .. } => "WriteAcked",
            QuorumNote::ReadDisagreed { .. } => "ReadDisagreed",
            QuorumNote::Repaired { .. } => "Repaired",
            QuorumNote::HintStored { .. } => "HintStored",
            QuorumNote::HandedOff { .. } => "HandedOff",
            QuorumNote::Synced { .. } => "Synced",
            QuorumNote::ReadSiblings { .. } => "ReadSiblings",
            QuorumNote::Merged { .. } => "Merged",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            QuorumNote::WriteAcked { key, ver, sloppy } => {
                fp.words(&[1, u64::from(*key), u64::from(*sloppy), 0]);
                Held::one(*ver).digest(fp);
                if ver.n > 0 {
                    fp.u64(ver.n);
                }
            }
            QuorumNote::ReadDisagreed { key, behind } => fp.words(&[2, u64::from(*key), u64::from(*behind), 0]),
            QuorumNote::Repaired { key, replicas } => fp.words(&[3, u64::from(*key), u64::from(*replicas), 0]),
            QuorumNote::HintStored { key, for_node } => fp.words(&[4, u64::from(*key), u64::from(*for_node), 0]),
            QuorumNote::HandedOff { key, to } => fp.words(&[5, u64::from(*key), u64::from(*to), 0]),
            QuorumNote::Synced { copied } => fp.words(&[6, u64::from(*copied), 0, 0]),
            QuorumNote::ReadSiblings { key, siblings } => {
                fp.words(&[7, u64::from(*key), siblings.len() as u64, 0]);
                for s in siblings {
                    fp.u64(u64::from(s.node));
                    fp.u64(s.n);
                }
            }
            QuorumNote::Merged { key, siblings, value } => {
                fp.words(&[8, u64::from(*key), u64::from(*siblings), *value as u64]);
            }
        }
    }

    fn describe(&self, out: &mut String) {
        out.push_str(self.kind());
        let _ = match self {
            QuorumNote::WriteAcked { key, ver, sloppy } => {
                let _ = write!(out, " k{key} ");
                if ver.n > 0 {
                    let _ = write!(out, "v{}@S{}.{}", ver.value, u64::from(ver.node) + 1, ver.n);
                } else {
                    Held::one(*ver).describe(out);
                }
                if *sloppy {
                    out.push_str(" (sloppy)");
                }
                Ok(())
            }
            QuorumNote::ReadDisagreed { key, behind } => write!(out, " k{key}: {behind} replicas behind"),
            QuorumNote::Repaired { key, replicas } => write!(out, " k{key} on {replicas} replicas"),
            QuorumNote::HintStored { key, for_node } => write!(out, " k{key} for S{}", u64::from(*for_node) + 1),
            QuorumNote::HandedOff { key, to } => write!(out, " k{key} to S{}", u64::from(*to) + 1),
            QuorumNote::Synced { copied } => write!(out, " {copied} versions"),
            QuorumNote::ReadSiblings { key, siblings } => write!(out, " k{key}: {} siblings", siblings.len()),
            QuorumNote::Merged { key, siblings, value } => {
                write!(out, " k{key}: {siblings} siblings into v{value}, written back")
            }
        };
    }
}

/// What a server keeps on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuorumDurable {
    /// Its versions of the keys it stores (under version vectors, also
    /// its own copy of the keys it coordinated writes of).
    pub store: BTreeMap<u32, Held>,
    /// Writes kept for other replicas: (replica, key) to version.
    pub hints: BTreeMap<(NodeId, u32), Held>,
    /// Restarts so far (operation numbers never repeat across them).
    pub incarnation: u64,
}

#[derive(Clone, Debug)]
enum OpKind {
    /// What the write ships, and the version it wrote.
    Write(Held, Version),
    Read,
}

/// A command a coordinator is working on.
#[derive(Clone, Debug)]
struct Op {
    /// The client's request (none: the write-back of a merge).
    req: Option<RequestId>,
    key: u32,
    kind: OpKind,
    /// Replicas asked (the `N`, or the quorum chosen), in order.
    targets: Vec<NodeId>,
    /// Stand-ins asked: (replica stood in for, stand-in).
    subs: Vec<(NodeId, NodeId)>,
    /// Servers that acknowledged (write) or answered (read), with what.
    answers: Vec<(NodeId, Held)>,
    /// Blocking read repair: servers known to hold the newest version.
    holders: Vec<NodeId>,
    /// Read repair: servers sent a repair.
    repaired: Vec<NodeId>,
    /// The version a read returns, once chosen.
    newest: Option<Held>,
    replied: bool,
    retries: u32,
}

impl Op {
    fn answered(&self, n: NodeId) -> bool {
        self.answers.iter().any(|(a, _)| *a == n)
    }

    fn asked(&self, n: NodeId) -> bool {
        self.targets.contains(&n) || self.subs.iter().any(|(_, s)| *s == n)
    }
}

/// A command a coordinator is working on, as it is drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coordinated {
    /// The key.
    pub key: u32,
    /// A write (else a read).
    pub write: bool,
    /// Replicas asked, in order.
    pub asked: Vec<NodeId>,
    /// Stand-ins asked: (replica stood in for, stand-in).
    pub stand_ins: Vec<(NodeId, NodeId)>,
    /// Servers that acknowledged (write) or answered (read).
    pub answered: Vec<NodeId>,
    /// Whether the client has its answer.
    pub replied: bool,
}

/// A server of the quorum lab.
#[derive(Clone, Debug)]
pub struct QuorumNode {
    id: NodeId,
    nodes: u32,
    config: QuorumConfig,
    disk: QuorumDurable,
    next_op: u64,
    ops: BTreeMap<u64, Op>,
}

impl QuorumNode {
    /// Its number.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Its versions of the keys it stores.
    pub fn store(&self) -> &BTreeMap<u32, Held> {
        &self.disk.store
    }

    /// The writes it keeps for other replicas.
    pub fn hints(&self) -> &BTreeMap<(NodeId, u32), Held> {
        &self.disk.hints
    }

    /// The commands it is coordinating, oldest first: those that wait for
    /// answers, and writes answered that still wait for a replica's
    /// acknowledgement (sloppy) or reads for late answers (async repair).
    pub fn coordinated(&self) -> impl Iterator<Item = Coordinated> + '_ {
        self.ops.values().map(|o| Coordinated {
            key: o.key,
            write: matches!(o.kind, OpKind::Write(..)),
            asked: o.targets.clone(),
            stand_ins: o.subs.clone(),
            answered: o.answers.iter().map(|(n, _)| *n).collect(),
            replied: o.replied,
        })
    }

    /// Commands it is coordinating.
    pub fn coordinating(&self) -> usize {
        self.ops.values().filter(|o| !o.replied).count()
    }

    /// The configuration.
    pub fn config(&self) -> &QuorumConfig {
        &self.config
    }

    /// What it holds of `key`, in its store and its hints, joined.
    pub fn holds(&self, key: u32) -> Held {
        let mut held = self.disk.store.get(&key).cloned().unwrap_or_default();
        for ((_, k), v) in &self.disk.hints {
            if *k == key {
                held.absorb(v);
            }
        }
        held
    }

    fn clock(&self, ctx: &Ctx<Self>) -> u64 {
        let skew = if self.id == 0 { self.config.skew } else { 0 };
        ctx.clock.saturating_sub(skew) + 1
    }

    /// Joins `ver` into its copy of `key` (last writer wins: keeps the
    /// newer; version vectors: syncs).
    fn keep(&mut self, key: u32, ver: &Held) {
        self.disk.store.entry(key).or_default().absorb(ver);
    }

    /// Takes a write: into the store, or, for another replica, as a hint.
    /// Returns what it holds now of that key, where it put it.
    fn take_write(&mut self, key: u32, ver: &Held, hint: Option<NodeId>, ctx: &mut Ctx<Self>) -> Held {
        match hint {
            Some(h) if h != self.id => {
                let slot = self.disk.hints.entry((h, key)).or_default();
                slot.absorb(ver);
                let held = slot.clone();
                ctx.note(QuorumNote::HintStored { key, for_node: h });
                held
            }
            _ => {
                self.keep(key, ver);
                self.disk.store.get(&key).cloned().unwrap_or_default()
            }
        }
    }

    fn new_op(&mut self, req: Option<RequestId>, key: u32, kind: OpKind, targets: Vec<NodeId>) -> u64 {
        self.next_op += 1;
        let op = (self.disk.incarnation << 40) | self.next_op;
        let o = Op {
            req,
            key,
            kind,
            targets,
            subs: Vec::new(),
            answers: Vec::new(),
            holders: Vec::new(),
            repaired: Vec::new(),
            newest: None,
            replied: false,
            retries: 0,
        };
        self.ops.insert(op, o);
        op
    }

    /// Starts a write of `value` to `key`: for client `req`, or (none) the
    /// write-back of a merge. Under version vectors `context` is what the
    /// client had read (empty: a blind write), and the coordinator's own
    /// copy of the key takes the write first; its stamp is then above
    /// every stamp of that copy and of the context (so a merge is stamped
    /// after what it merges, whatever the clocks), used only to show and
    /// to measure staleness, never to drop a version.
    fn start_write(&mut self, req: Option<RequestId>, key: u32, value: i64, context: &Held, ctx: &mut Ctx<Self>) {
        let mut ver = Version { ts: self.clock(ctx), node: self.id, value, n: 0 };
        let (obj, ver) = match self.config.versions {
            Versions::Lww => (Held::one(ver), ver),
            Versions::Vectors => {
                let mine = self.disk.store.entry(key).or_default();
                ver.ts = ver.ts.max(mine.ts().max(context.ts()) + 1);
                let (obj, ver) = mine.write(&context.clock, ver);
                *mine = obj.clone();
                (obj, ver)
            }
        };
        let targets = match self.config.write_fanout {
            Fanout::All => self.config.home(key).to_vec(),
            Fanout::Quorum => self.pick(key, self.config.w, ctx),
        };
        let op = self.new_op(req, key, OpKind::Write(obj, ver), targets.clone());
        for t in targets {
            self.send_write(op, t, None, ctx);
        }
        ctx.set_timer(QuorumTimer::Retry(op), self.config.retry_after);
        self.progress(op, ctx);
    }

    /// Sends op `op`'s write to `to` (applied at once if `to` is this
    /// server).
    fn send_write(&mut self, op: u64, to: NodeId, hint: Option<NodeId>, ctx: &mut Ctx<Self>) {
        let Some(o) = self.ops.get(&op) else { return };
        let OpKind::Write(ver, _) = &o.kind else { return };
        let (key, ver) = (o.key, ver.clone());
        if to == self.id {
            self.take_write(key, &ver, hint, ctx);
            self.answer(op, to, Held::default());
        } else {
            ctx.send(to, QuorumMsg::Write { op, key, ver, hint });
        }
    }

    fn start_read(&mut self, req: RequestId, key: u32, ctx: &mut Ctx<Self>) {
        let targets = match self.config.read_fanout {
            Fanout::All => self.config.home(key).to_vec(),
            Fanout::Quorum => self.pick(key, self.config.r, ctx),
        };
        let op = self.new_op(Some(req), key, OpKind::Read, targets.clone());
        for t in targets {
            self.send_read(op, t, ctx);
        }
        ctx.set_timer(QuorumTimer::Retry(op), self.config.retry_after);
        self.progress(op, ctx);
    }

    /// `count` of `key`'s replicas drawn uniformly at random (a partial
    /// Fisher-Yates shuffle of the replicas).
    fn pick(&self, key: u32, count: u32, ctx: &mut Ctx<Self>) -> Vec<NodeId> {
        let mut home = self.config.home(key).to_vec();
        let count = (count as usize).min(home.len());
        for i in 0..count {
            let j = ctx.rng.range(i as u64, home.len() as u64 - 1) as usize;
            home.swap(i, j);
        }
        home.truncate(count);
        home
    }

    fn send_read(&mut self, op: u64, to: NodeId, ctx: &mut Ctx<Self>) {
        let Some(key) = self.ops.get(&op).map(|o| o.key) else { return };
        if to == self.id {
            let held = self.holds(key);
            self.answer(op, to, held);
        } else {
            ctx.send(to, QuorumMsg::Read { op, key });
        }
    }

    /// Records server `from`'s answer to op `op` (once per server).
    fn answer(&mut self, op: u64, from: NodeId, ver: Held) {
        if let Some(o) = self.ops.get_mut(&op) {
            if !o.answered(from) {
                o.answers.push((from, ver));
            }
        }
    }

    /// Answers the client once op `op` has what it waits for, and sends
    /// read repairs.
    fn progress(&mut self, op: u64, ctx: &mut Ctx<Self>) {
        let (r, w) = (self.config.r as usize, self.config.w as usize);
        let Some(o) = self.ops.get_mut(&op) else { return };
        match &o.kind {
            OpKind::Write(_, ver) => {
                let (key, ver) = (o.key, *ver);
                if !o.replied && o.answers.len() >= w {
                    o.replied = true;
                    let sloppy = o.answers.iter().any(|(n, _)| !self.config.is_home(key, *n));
                    if let Some(req) = o.req {
                        ctx.reply(
                            req,
                            Reply::Answer(Answer { key, value: Some(ver.value), version: ver.ts, ok: true }),
                        );
                    }
                    ctx.note(QuorumNote::WriteAcked { key, ver, sloppy });
                }
                // Answered: done, unless (sloppy) a replica has not
                // acknowledged yet, which the next retry gives a stand-in
                // (Dynamo sends to the first N healthy servers; a replica
                // that does not answer in time is taken for down).
                let covered = |t: &NodeId| o.answered(*t) || o.subs.iter().any(|(h, s)| h == t && o.answered(*s));
                if o.replied && (!self.config.sloppy || o.targets.iter().all(covered)) {
                    self.ops.remove(&op);
                    ctx.cancel_timer(QuorumTimer::Retry(op));
                }
            }
            OpKind::Read => {
                if o.newest.is_none() {
                    if o.answers.len() < r {
                        return;
                    }
                    let newest = o.answers.iter().fold(Held::default(), |acc, (_, v)| acc.join(v));
                    let behind = o.answers.iter().filter(|(_, v)| !v.covers(&newest)).count() as u32;
                    o.newest = Some(newest);
                    if behind > 0 {
                        ctx.note(QuorumNote::ReadDisagreed { key: o.key, behind });
                    }
                }
                let newest = o.newest.clone().unwrap_or_default();
                let key = o.key;
                let repair = self.config.read_repair;
                // Servers known to hold the version returned (or newer).
                for (n, v) in &o.answers {
                    if v.covers(&newest) && !o.holders.contains(n) {
                        o.holders.push(*n);
                    }
                }
                if repair != ReadRepair::Off && !newest.is_empty() {
                    // Repairs: to every server that answered an older
                    // version and was not repaired yet. Blocking repair
                    // waits for their acknowledgements.
                    let blocking = repair == ReadRepair::Blocking && !o.replied;
                    let stale: Vec<NodeId> = o
                        .answers
                        .iter()
                        .filter(|(n, v)| !v.covers(&newest) && !o.repaired.contains(n) && !o.holders.contains(n))
                        .map(|(n, _)| *n)
                        .collect();
                    o.repaired.extend(stale.iter().copied());
                    if stale.contains(&self.id) {
                        o.holders.push(self.id);
                    }
                    let wait = if blocking { op } else { 0 };
                    for &n in &stale {
                        if n != self.id {
                            ctx.send(n, QuorumMsg::Repair { op: wait, key, ver: newest.clone() });
                        }
                    }
                    if stale.contains(&self.id) {
                        self.keep(key, &newest);
                    }
                    if !stale.is_empty() {
                        ctx.note(QuorumNote::Repaired { key, replicas: stale.len() as u32 });
                    }
                }
                let Some(o) = self.ops.get_mut(&op) else { return };
                let ready = repair != ReadRepair::Blocking || newest.is_empty() || o.holders.len() >= w;
                let mut merge = false;
                if !o.replied && ready {
                    o.replied = true;
                    let (value, version) = (newest.value(), newest.ts());
                    if let Some(req) = o.req {
                        ctx.reply(req, Reply::Answer(Answer { key, value, version, ok: true }));
                    }
                    if self.config.versions == Versions::Vectors && !newest.is_empty() {
                        ctx.note(QuorumNote::ReadSiblings { key, siblings: newest.siblings.clone() });
                        merge = newest.siblings.len() > 1;
                    }
                }
                if o.replied {
                    self.finish_read(op, ctx);
                }
                if let Some(value) = newest.value().filter(|_| merge) {
                    // The client merges the siblings (the largest value)
                    // and writes the merge back with the read's context,
                    // which supersedes every sibling it read.
                    ctx.note(QuorumNote::Merged { key, siblings: newest.siblings.len() as u32, value });
                    self.start_write(None, key, value, &newest, ctx);
                }
            }
        }
    }

    /// A read that answered its client: dropped now, unless async read
    /// repair still waits for replicas that have not answered.
    fn finish_read(&mut self, op: u64, ctx: &mut Ctx<Self>) {
        let Some(o) = self.ops.get(&op) else { return };
        let waiting = self.config.read_repair == ReadRepair::Async && o.targets.iter().any(|t| !o.answered(*t));
        if !waiting {
            self.ops.remove(&op);
            ctx.cancel_timer(QuorumTimer::Retry(op));
        }
    }

    /// The retry timer of op `op` fired.
    fn retry(&mut self, op: u64, ctx: &mut Ctx<Self>) {
        let sloppy = self.config.sloppy;
        let Some(o) = self.ops.get_mut(&op) else { return };
        o.retries += 1;
        let handing = sloppy && matches!(o.kind, OpKind::Write(..));
        if o.retries > MAX_RETRIES || (o.replied && !handing) {
            self.ops.remove(&op);
            return;
        }
        let key = o.key;
        let prefs = self.config.prefs.clone();
        let list = &prefs[key as usize];
        let n = self.config.replicas as usize;
        match o.kind.clone() {
            OpKind::Write(..) => {
                // Replicas that have not acknowledged, directly or through
                // a stand-in.
                let missing: Vec<NodeId> = o
                    .targets
                    .iter()
                    .copied()
                    .filter(|t| !o.answered(*t) && !o.subs.iter().any(|(h, s)| h == t && o.answered(*s)))
                    .collect();
                for m in missing {
                    if sloppy {
                        let Some(o) = self.ops.get(&op) else { return };
                        let next = list[n.min(list.len())..].iter().copied().find(|s| !o.asked(*s));
                        if let Some(s) = next {
                            if let Some(o) = self.ops.get_mut(&op) {
                                o.subs.push((m, s));
                            }
                            self.send_write(op, s, Some(m), ctx);
                        }
                    } else {
                        self.send_write(op, m, None, ctx);
                    }
                }
            }
            OpKind::Read => {
                if o.newest.is_some() {
                    // Blocking repair waits for acks: resend the repairs,
                    // and write to replicas not heard from.
                    if let Some(ver) = o.newest.clone().filter(|v| !v.is_empty()) {
                        let home = self.config.home(key).to_vec();
                        let pending: Vec<NodeId> = home.into_iter().filter(|h| !o.holders.contains(h)).collect();
                        for h in pending {
                            if h == self.id {
                                self.keep(key, &ver);
                                if let Some(o) = self.ops.get_mut(&op) {
                                    o.holders.push(h);
                                }
                            } else {
                                ctx.send(h, QuorumMsg::Repair { op, key, ver: ver.clone() });
                            }
                        }
                    }
                } else {
                    let missing: Vec<NodeId> = o.targets.iter().copied().filter(|t| !o.answered(*t)).collect();
                    let home = self.config.home(key).to_vec();
                    for m in missing {
                        let Some(o) = self.ops.get(&op) else { return };
                        // Another replica not asked yet, else (sloppy) a
                        // stand-in, else the same replica again.
                        let other = home.iter().copied().find(|h| !o.asked(*h));
                        let stand = if sloppy {
                            list[n.min(list.len())..].iter().copied().find(|s| !o.asked(*s))
                        } else {
                            None
                        };
                        match (other, stand) {
                            (Some(h), _) => {
                                if let Some(o) = self.ops.get_mut(&op) {
                                    o.targets.push(h);
                                }
                                self.send_read(op, h, ctx);
                            }
                            (None, Some(s)) => {
                                if let Some(o) = self.ops.get_mut(&op) {
                                    o.subs.push((m, s));
                                }
                                self.send_read(op, s, ctx);
                            }
                            (None, None) => self.send_read(op, m, ctx),
                        }
                    }
                }
            }
        }
        ctx.set_timer(QuorumTimer::Retry(op), self.config.retry_after);
        self.progress(op, ctx);
    }

    fn handoff(&mut self, ctx: &mut Ctx<Self>) {
        for (&(to, key), ver) in &self.disk.hints {
            ctx.send(to, QuorumMsg::Handoff { key, ver: ver.clone() });
        }
        ctx.set_timer(QuorumTimer::Handoff, self.config.handoff_every);
    }

    /// The keys servers `a` and `b` both replicate.
    fn shared_keys(&self, a: NodeId, b: NodeId) -> impl Iterator<Item = u32> + '_ {
        (0..self.config.keys()).filter(move |&k| self.config.is_home(k, a) && self.config.is_home(k, b))
    }

    fn anti_entropy(&mut self, ctx: &mut Ctx<Self>) {
        let peers: Vec<NodeId> =
            (0..self.nodes).filter(|&p| p != self.id && self.shared_keys(self.id, p).next().is_some()).collect();
        if !peers.is_empty() {
            let peer = peers[ctx.rng.range(0, peers.len() as u64 - 1) as usize];
            let entries: Vec<(u32, Held)> = self
                .shared_keys(self.id, peer)
                .map(|k| (k, self.disk.store.get(&k).cloned().unwrap_or_default()))
                .collect();
            ctx.send(peer, QuorumMsg::Digest { entries });
        }
        ctx.set_timer(QuorumTimer::AntiEntropy, self.config.anti_entropy_every);
    }

    /// Keeps the newer of each entry; returns the entries where this server
    /// holds a newer version.
    fn merge(&mut self, entries: &[(u32, Held)], ctx: &mut Ctx<Self>) -> Vec<(u32, Held)> {
        let mut newer = Vec::new();
        let mut copied = 0;
        for (key, theirs) in entries {
            if !self.config.is_home(*key, self.id) {
                continue;
            }
            let mine = self.disk.store.get(key).cloned().unwrap_or_default();
            let joined = mine.join(theirs);
            if joined != mine {
                self.disk.store.insert(*key, joined.clone());
                copied += 1;
            }
            if joined != *theirs {
                newer.push((*key, joined));
            }
        }
        if copied > 0 {
            ctx.note(QuorumNote::Synced { copied });
        }
        newer
    }
}

impl Protocol for QuorumNode {
    type Msg = QuorumMsg;
    type Timer = QuorumTimer;
    type Note = QuorumNote;
    type Durable = QuorumDurable;
    type Config = QuorumConfig;

    fn new(id: NodeId, nodes: u32, config: &QuorumConfig) -> Self {
        QuorumNode {
            id,
            nodes,
            config: config.clone(),
            disk: QuorumDurable::default(),
            next_op: 0,
            ops: BTreeMap::new(),
        }
    }

    fn recover(id: NodeId, nodes: u32, config: &QuorumConfig, durable: QuorumDurable) -> Self {
        let mut node = QuorumNode::new(id, nodes, config);
        node.disk = durable;
        node.disk.incarnation += 1;
        node
    }

    fn durable(&self) -> QuorumDurable {
        self.disk.clone()
    }

    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        if self.config.sloppy {
            ctx.set_timer(QuorumTimer::Handoff, self.config.handoff_every);
        }
        let every = self.config.anti_entropy_every;
        if every > 0 {
            // Servers start their rounds at different times.
            let first = ctx.rng.range(1, every);
            ctx.set_timer(QuorumTimer::AntiEntropy, first);
        }
    }

    fn on_message(&mut self, from: NodeId, msg: QuorumMsg, ctx: &mut Ctx<Self>) {
        match msg {
            QuorumMsg::Write { op, key, ver, hint } => {
                let now = self.take_write(key, &ver, hint, ctx);
                // Version vectors: the coordinator learns what this
                // replica holds now (it keeps its own copy of the key).
                let held = if self.config.versions == Versions::Vectors { now } else { Held::default() };
                ctx.send(from, QuorumMsg::WriteAck { op, held });
            }
            QuorumMsg::WriteAck { op, held } => {
                if !held.is_empty() {
                    if let Some(key) = self.ops.get(&op).map(|o| o.key) {
                        self.keep(key, &held);
                    }
                }
                self.answer(op, from, Held::default());
                self.progress(op, ctx);
            }
            QuorumMsg::Read { op, key } => {
                let ver = self.holds(key);
                ctx.send(from, QuorumMsg::ReadReply { op, ver });
            }
            QuorumMsg::ReadReply { op, ver } => {
                self.answer(op, from, ver);
                self.progress(op, ctx);
            }
            QuorumMsg::Repair { op, key, ver } => {
                self.keep(key, &ver);
                if op != 0 {
                    ctx.send(from, QuorumMsg::RepairAck { op });
                }
            }
            QuorumMsg::RepairAck { op } => {
                if let Some(o) = self.ops.get_mut(&op) {
                    if !o.holders.contains(&from) {
                        o.holders.push(from);
                    }
                }
                self.progress(op, ctx);
            }
            QuorumMsg::Handoff { key, ver } => {
                self.keep(key, &ver);
                ctx.send(from, QuorumMsg::HandoffAck { key, ver });
            }
            QuorumMsg::HandoffAck { key, ver } => {
                if self.disk.hints.get(&(from, key)) == Some(&ver) {
                    self.disk.hints.remove(&(from, key));
                    ctx.note(QuorumNote::HandedOff { key, to: from });
                }
            }
            QuorumMsg::Digest { entries } => {
                let newer = self.merge(&entries, ctx);
                // Keys the peer sent but this server lacks are in
                // `entries`; keys it holds and the peer lacks too.
                ctx.send(from, QuorumMsg::DigestReply { entries: newer });
            }
            QuorumMsg::DigestReply { entries } => {
                self.merge(&entries, ctx);
            }
        }
    }

    fn on_timer(&mut self, timer: QuorumTimer, ctx: &mut Ctx<Self>) {
        match timer {
            QuorumTimer::Retry(op) => self.retry(op, ctx),
            QuorumTimer::Handoff => self.handoff(ctx),
            QuorumTimer::AntiEntropy => self.anti_entropy(ctx),
        }
    }

    fn on_request(&mut self, req: RequestId, ctx: &mut Ctx<Self>) {
        // A request without a key-value command (the `request` verb with
        // no workload): a write of its own number to key 0.
        self.on_command(req, Command { process: 0, key: 0, op: KvOp::Write(req as i64) }, ctx);
    }

    fn on_command(&mut self, req: RequestId, cmd: Command, ctx: &mut Ctx<Self>) {
        let key = cmd.key;
        if key >= self.config.keys() {
            return;
        }
        if self.config.coordinator == Coordinator::Replica && !self.config.is_home(key, self.id) {
            ctx.reply(req, Reply::NotLeader(Some(self.config.home(key)[0])));
            return;
        }
        match cmd.op {
            KvOp::Read => self.start_read(req, key, ctx),
            // Clients write blind: without reading first, so with an
            // empty context (under version vectors, concurrent with every
            // write not merged yet).
            KvOp::Write(v) => self.start_write(Some(req), key, v, &Held::default(), ctx),
            // The lab has no compare-and-set (its parameter table leaves
            // `cas_share` out, so clients never send one); a stray one is
            // not answered, and the client gives it up.
            KvOp::Cas(..) => {}
        }
    }

    fn on_force_timeout(&mut self, ctx: &mut Ctx<Self>) {
        // "Time out" runs an anti-entropy round now.
        self.anti_entropy(ctx);
    }

    fn heap_bytes(&self) -> usize {
        let held = |h: &Held| 16 + h.siblings.len() * 32 + h.clock.len() * 16;
        self.disk.store.values().map(held).sum::<usize>()
            + self.disk.hints.values().map(|h| 8 + held(h)).sum::<usize>()
            + self.ops.len() * 256
    }

    fn msg_heap_bytes(msg: &QuorumMsg) -> usize {
        match msg {
            QuorumMsg::Digest { entries } | QuorumMsg::DigestReply { entries } => {
                entries.iter().map(|(_, h)| h.siblings.len().max(1) * 32 + h.clock.len() * 16).sum()
            }
            _ => 0,
        }
    }
}
