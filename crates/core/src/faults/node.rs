//! A member of the failure-detection lab: one node running one of three
//! detectors over every other member, and its view of each (alive,
//! suspected, declared dead, with the incarnation it knows).
//!
//! * **Heartbeats with a fixed timeout**: every member sends a heartbeat
//!   to every other one each `heartbeat`; a peer not heard from for
//!   `timeout` is suspected.
//! * **φ accrual** ([`super::phi`]): the same heartbeats; a peer is
//!   suspected when φ of the time since its last heartbeat reaches the
//!   threshold.
//! * **SWIM** (Das, Gupta and Motivala, 2002): every protocol period
//!   (`probe`) a member pings one member, chosen round-robin over a
//!   shuffled list; without an ack within `ping_timeout` it asks `k` others
//!   to ping it (ping-req) and relay the ack; without any ack by the end
//!   of the period it suspects the member. Suspicions, refutations and
//!   deaths travel piggybacked on pings and acks, each update retransmitted
//!   `λ·⌈log10(n+1)⌉` times (HashiCorp memberlist's rule); a suspected
//!   member that hears of it raises its incarnation and says it is alive,
//!   which overrides any suspicion at a lower incarnation. A ping to a
//!   member held suspected or dead carries that news to it, so it can
//!   refute (Lifeguard's idea; it also lets the two sides of a healed
//!   partition find each other again).
//!
//! For the heartbeat detectors a suspicion becomes a declaration of death
//! after `suspicion` without a heartbeat; in SWIM after `suspicion`
//! without a refutation. A heartbeat (or an alive message with a higher
//! incarnation) from a member held suspected or dead trusts it again.
//! A member's view is volatile: a restarted member trusts everyone and
//! comes back with a higher incarnation (its one durable number).
//!
//! **Lifeguard** (Dadgar, Phillips and Currey, "Lifeguard: Local Health
//! Awareness for More Accurate Failure Detection", 2018, as HashiCorp
//! memberlist implements it), a SWIM option:
//!
//! * *Local health*: each member keeps a local health multiplier (LHM,
//!   memberlist's awareness score) from 0 to `lhm_max − 1`: a probe period
//!   that ends without an ack raises it by one, one with an ack lowers it
//!   by one, and refuting a suspicion of itself raises it by one. The
//!   member's probe period and ping timeout are scaled by `LHM + 1`, so a
//!   member too slow to read its acks in time probes less eagerly instead
//!   of suspecting healthy members. (memberlist also counts missed nacks
//!   from indirect probes; this lab's members send no nacks.)
//! * *Suspicion that shrinks with confirmations*: a suspicion starts with
//!   a timeout of `suspicion_max × suspicion` and shrinks towards
//!   `suspicion` as independent members confirm it (their own suspect
//!   messages, each carrying its suspector): after `c` of the `k =
//!   confirmations` expected, the timeout is `max − (max − min) ·
//!   log(c + 1) / log(k + 1)` (memberlist's `remainingSuspicionTime`). A
//!   new confirmation is gossiped on.
//!
//! A **slow member** (`slow_member`, `slow_by`) reads every message
//! `slow_by` late, while its timers fire on time: an overloaded member
//! whose handler runs behind, the case Lifeguard was built for.

use super::phi::{self, Fit};
use crate::sim::{Ctx, Fingerprint, NodeId, Observable, Protocol, RequestId, Time};
use std::collections::VecDeque;

/// How a member holds another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Trusted.
    Alive,
    /// Suspected.
    Suspect,
    /// Declared dead.
    Dead,
}

impl Status {
    fn code(self) -> u64 {
        self as u64
    }
}

/// The detector the members run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detector {
    /// All-to-all heartbeats, fixed timeout.
    Heartbeat,
    /// All-to-all heartbeats, φ accrual.
    Phi,
    /// SWIM: probes, indirect probes, suspicion, gossip.
    Swim,
}

/// The detectors, as files write them.
pub const DETECTORS: &[&str] = &["heartbeat", "phi", "swim"];

/// The members' parameters.
#[derive(Clone, Debug)]
pub struct FaultsConfig {
    /// Which detector runs.
    pub detector: Detector,
    /// Time between two heartbeats (heartbeat and φ).
    pub heartbeat: Time,
    /// Fixed timeout (heartbeat detector).
    pub timeout: Time,
    /// φ threshold.
    pub phi_threshold: f64,
    /// Inter-arrival times kept per peer (φ).
    pub window: u32,
    /// Distribution fitted (φ).
    pub fit: Fit,
    /// Smallest standard deviation of the normal fit (φ).
    pub min_std: Time,
    /// Added to the fitted mean: a pause the detector accepts (φ; Akka's
    /// `acceptable-heartbeat-pause`).
    pub pause_margin: Time,
    /// Inter-arrival times longer than this are not kept (φ; Cassandra's
    /// `MAX_INTERVAL_IN_NANO`, 2 s: one long silence, a partition or a
    /// local pause, would otherwise teach the detector to wait for ever);
    /// 0: every one is kept.
    pub max_interval: Time,
    /// SWIM protocol period.
    pub probe: Time,
    /// SWIM: time to wait for a direct ack before indirect probes.
    pub ping_timeout: Time,
    /// SWIM: members asked to probe indirectly.
    pub indirect: u32,
    /// Time from suspicion to declaring death, without news.
    pub suspicion: Time,
    /// SWIM: most updates piggybacked on one message.
    pub piggyback: u32,
    /// SWIM: λ, the retransmission multiplier.
    pub retransmit: u32,
    /// Deliberate bug: accept a suspicion or death at an incarnation older
    /// than the one already known (a refuted suspicion comes back).
    pub bug_stale: bool,
    /// Failures and repairs the lab plans on its own (the members do not
    /// read it).
    pub churn: super::churn::ChurnConfig,
    /// Members the service can lose and stay available.
    pub tolerate: u32,
    /// SWIM: Lifeguard's local health and confirmed suspicion.
    pub lifeguard: bool,
    /// Lifeguard: the local health multiplier stays below this.
    pub lhm_max: u32,
    /// Lifeguard: the longest suspicion timeout, as a multiple of
    /// `suspicion`.
    pub suspicion_max: u32,
    /// Lifeguard: independent confirmations expected (k).
    pub confirmations: u32,
    /// A member that reads every message late, and by how much.
    pub slow: Option<(NodeId, Time)>,
    /// A member behind a jittery link: each message it sends leaves after
    /// a delay drawn uniformly from 0 to this.
    pub jittery: Option<(NodeId, Time)>,
    /// Keys kept in copies and repaired (the lab's, the members do not
    /// read it).
    pub repair: super::repair::RepairConfig,
}

impl Default for FaultsConfig {
    fn default() -> Self {
        FaultsConfig {
            detector: Detector::Heartbeat,
            heartbeat: 100_000,
            timeout: 300_000,
            phi_threshold: 8.0,
            window: 32,
            fit: Fit::Normal,
            min_std: 10_000,
            pause_margin: 0,
            max_interval: 2_000_000,
            probe: 200_000,
            ping_timeout: 80_000,
            indirect: 3,
            suspicion: 500_000,
            piggyback: 6,
            retransmit: 4,
            bug_stale: false,
            churn: super::churn::ChurnConfig::default(),
            tolerate: 0,
            lifeguard: false,
            lhm_max: 8,
            suspicion_max: 6,
            confirmations: 2,
            slow: None,
            jittery: None,
            repair: super::repair::RepairConfig::default(),
        }
    }
}

/// A membership update, gossiped by SWIM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Update {
    /// What is said of the member.
    pub status: Status,
    /// The member.
    pub member: NodeId,
    /// At which of its incarnations.
    pub inc: u32,
    /// Lifeguard: who suspects it (a suspicion's confirmer); `None`
    /// without Lifeguard.
    pub from: Option<NodeId>,
}

impl Update {
    /// An update with no suspector named.
    pub fn new(status: Status, member: NodeId, inc: u32) -> Update {
        Update { status, member, inc, from: None }
    }
}

/// A message between members.
#[derive(Clone, Debug)]
pub enum FaultsMsg {
    /// A heartbeat (heartbeat and φ detectors).
    Heartbeat {
        /// The sender's incarnation.
        inc: u32,
    },
    /// SWIM ping; `relay`: the member that asked for it (an indirect probe).
    Ping { seq: u64, relay: Option<NodeId>, updates: Vec<Update> },
    /// SWIM ack; `relay`: the member to pass it on to.
    Ack { seq: u64, relay: Option<NodeId>, updates: Vec<Update> },
    /// SWIM ping-req: probe `target` for me.
    PingReq { seq: u64, target: NodeId, updates: Vec<Update> },
    /// Lifeguard: "I probed the member you asked about and it did not
    /// answer in time" (so the asker's own health is not to blame).
    Nack { seq: u64 },
}

fn digest_updates(u: &[Update], fp: &mut Fingerprint) {
    fp.u64(u.len() as u64);
    for x in u {
        fp.u64(x.status.code());
        fp.u64(u64::from(x.member));
        fp.u64(u64::from(x.inc));
        if let Some(f) = x.from {
            fp.u64(u64::from(f) + 1);
        }
    }
}

fn describe_updates(u: &[Update], out: &mut String) {
    for x in u {
        let word = match x.status {
            Status::Alive => "alive",
            Status::Suspect => "suspect",
            Status::Dead => "dead",
        };
        out.push_str(&format!(" {word} S{}@{}", x.member + 1, x.inc));
        if let Some(f) = x.from {
            out.push_str(&format!(" by S{}", f + 1));
        }
    }
}

impl Observable for FaultsMsg {
    fn kind(&self) -> &'static str {
        match self {
            FaultsMsg::Heartbeat { .. } => "Heartbeat",
            FaultsMsg::Ping { relay: None, .. } => "Ping",
            FaultsMsg::Ping { .. } => "IndirectPing",
            FaultsMsg::Ack { .. } => "Ack",
            FaultsMsg::PingReq { .. } => "PingReq",
            FaultsMsg::Nack { .. } => "Nack",
        }
    }
    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            FaultsMsg::Heartbeat { inc } => {
                fp.u64(1);
                fp.u64(u64::from(*inc));
            }
            FaultsMsg::Ping { seq, relay, updates } | FaultsMsg::Ack { seq, relay, updates } => {
                fp.u64(if matches!(self, FaultsMsg::Ping { .. }) { 2 } else { 3 });
                fp.u64(*seq);
                fp.u64(relay.map_or(0, |r| u64::from(r) + 1));
                digest_updates(updates, fp);
            }
            FaultsMsg::PingReq { seq, target, updates } => {
                fp.u64(4);
                fp.u64(*seq);
                fp.u64(u64::from(*target));
                digest_updates(updates, fp);
            }
            FaultsMsg::Nack { seq } => {
                fp.u64(5);
                fp.u64(*seq);
            }
        }
    }
    fn describe(&self, out: &mut String) {
        out.push_str(self.kind());
        match self {
            FaultsMsg::Heartbeat { inc } => out.push_str(&format!(" inc {inc}")),
            FaultsMsg::Ping { seq, relay, updates } | FaultsMsg::Ack { seq, relay, updates } => {
                out.push_str(&format!(" #{seq}"));
                if let Some(r) = relay {
                    out.push_str(&format!(" for S{}", r + 1));
                }
                describe_updates(updates, out);
            }
            FaultsMsg::PingReq { seq, target, updates } => {
                out.push_str(&format!(" #{seq} probe S{}", target + 1));
                describe_updates(updates, out);
            }
            FaultsMsg::Nack { seq } => out.push_str(&format!(" #{seq}")),
        }
    }
}

/// A member's timers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultsTimer {
    /// Send the next heartbeats.
    Beat,
    /// Judge the peers whose deadline has come (heartbeat and φ).
    Check,
    /// SWIM: the next protocol period.
    Probe,
    /// SWIM: no direct ack yet; ask others.
    PingTimeout,
    /// SWIM: a suspicion of this member ripens into death.
    Suspicion(NodeId),
    /// A slow member reads the messages that waited.
    Inbox,
    /// A jittery member's held messages leave.
    Outbox,
    /// Lifeguard: an indirect probe for this member (sequence) is due an
    /// answer; without one, send it a nack.
    Nack(NodeId, u64),
}

impl Observable for FaultsTimer {
    fn kind(&self) -> &'static str {
        match self {
            FaultsTimer::Beat => "Beat",
            FaultsTimer::Check => "Check",
            FaultsTimer::Probe => "Probe",
            FaultsTimer::PingTimeout => "PingTimeout",
            FaultsTimer::Suspicion(_) => "Suspicion",
            FaultsTimer::Inbox => "Inbox",
            FaultsTimer::Outbox => "Outbox",
            FaultsTimer::Nack(..) => "Nack",
        }
    }
    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            FaultsTimer::Beat => fp.u64(1),
            FaultsTimer::Check => fp.u64(2),
            FaultsTimer::Probe => fp.u64(3),
            FaultsTimer::PingTimeout => fp.u64(4),
            FaultsTimer::Suspicion(m) => {
                fp.u64(5);
                fp.u64(u64::from(*m));
            }
            FaultsTimer::Inbox => fp.u64(6),
            FaultsTimer::Outbox => fp.u64(8),
            FaultsTimer::Nack(origin, seq) => {
                fp.u64(7);
                fp.u64(u64::from(*origin));
                fp.u64(*seq);
            }
        }
    }
}

/// What a member notes: changes of its view, and its refutations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultsNote {
    /// It now suspects `of` (at `of`'s incarnation `inc`).
    Suspect { of: NodeId, inc: u32 },
    /// It now holds `of` dead.
    DeclareDead { of: NodeId, inc: u32 },
    /// It trusts `of` again.
    Trust { of: NodeId, inc: u32 },
    /// It heard itself suspected or declared dead and says it is alive
    /// with a new incarnation.
    Refute { inc: u32 },
    /// Its judging timer fired late (it was paused): it waits a heartbeat
    /// before judging, as Cassandra does after a local pause.
    LocalPause,
}

impl Observable for FaultsNote {
    fn kind(&self) -> &'static str {
        match self {
            FaultsNote::Suspect { .. } => "Suspect",
            FaultsNote::DeclareDead { .. } => "DeclareDead",
            FaultsNote::Trust { .. } => "Trust",
            FaultsNote::Refute { .. } => "Refute",
            FaultsNote::LocalPause => "LocalPause",
        }
    }
    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            FaultsNote::Suspect { of, inc } | FaultsNote::DeclareDead { of, inc } | FaultsNote::Trust { of, inc } => {
                fp.u64(match self {
                    FaultsNote::Suspect { .. } => 1,
                    FaultsNote::DeclareDead { .. } => 2,
                    _ => 3,
                });
                fp.u64(u64::from(*of));
                fp.u64(u64::from(*inc));
            }
            FaultsNote::Refute { inc } => {
                fp.u64(4);
                fp.u64(u64::from(*inc));
            }
            FaultsNote::LocalPause => fp.u64(5),
        }
    }
    fn describe(&self, out: &mut String) {
        match self {
            FaultsNote::Suspect { of, inc } => out.push_str(&format!("suspects S{} (inc {inc})", of + 1)),
            FaultsNote::DeclareDead { of, inc } => out.push_str(&format!("declares S{} dead (inc {inc})", of + 1)),
            FaultsNote::Trust { of, inc } => out.push_str(&format!("trusts S{} again (inc {inc})", of + 1)),
            FaultsNote::Refute { inc } => out.push_str(&format!("refutes: alive with inc {inc}")),
            FaultsNote::LocalPause => out.push_str("judging timer late: waits a heartbeat"),
        }
    }
}

/// Lifeguard's suspicion timeout (µs) after `c` of `k` expected
/// independent confirmations, from `min` up to `max_mult × min`:
/// `max − (max − min)·log(c+1)/log(k+1)`, never below `min` (memberlist's
/// `remainingSuspicionTime`, before the time already waited is taken
/// off); with `k = 0`, `min`.
pub fn lifeguard_suspicion(min: Time, max_mult: u32, k: u32, c: u32) -> Time {
    if k == 0 {
        return min;
    }
    let max = min.saturating_mul(u64::from(max_mult.max(1)));
    let frac = libm::log(f64::from(c) + 1.0) / libm::log(f64::from(k) + 1.0);
    let raw = max as f64 - frac * (max - min) as f64;
    (raw.floor().max(0.0) as Time).max(min)
}

/// One member as another holds it.
#[derive(Clone, Debug)]
pub struct Peer {
    /// Alive, suspected or dead.
    pub status: Status,
    /// The highest incarnation known.
    pub inc: u32,
    /// When it entered its status.
    pub since: Time,
    /// When its last heartbeat arrived (heartbeat and φ; the start
    /// before any).
    pub last: Time,
    /// When the member judges it next (heartbeat and φ): suspect it, or
    /// declare it dead.
    pub deadline: Time,
    /// Inter-arrival times (µs), a ring of at most `window` (φ only).
    window: Vec<u32>,
    head: u32,
    heard: bool,
    /// Lifeguard: the members that suspected it, the first one first.
    confirmers: Vec<NodeId>,
}

/// A member.
#[derive(Clone, Debug)]
pub struct FaultsNode {
    id: NodeId,
    n: u32,
    cfg: FaultsConfig,
    inc: u32,
    peers: Vec<Peer>,
    /// When the Check timer is due (heartbeat and φ).
    check_due: Option<Time>,
    /// SWIM: the probe order, its position, the probe in progress
    /// (sequence, target, acked), and the next sequence number.
    order: Vec<NodeId>,
    pos: usize,
    probing: Option<(u64, NodeId, bool)>,
    seq: u64,
    /// SWIM: updates to piggyback, with how often each was sent.
    queue: Vec<(Update, u32)>,
    /// Lifeguard: the local health multiplier.
    lhm: u32,
    /// Lifeguard, the probe in progress: whether its direct ping timed
    /// out, nacks expected and received.
    timed_out: bool,
    nacks: (u32, u32),
    /// Lifeguard: indirect probes this member relays (asker, sequence),
    /// not answered yet.
    relaying: Vec<(NodeId, u64)>,
    /// A jittery member's messages not sent yet, by when they leave.
    outbox: std::collections::BTreeMap<(Time, u64), (NodeId, FaultsMsg)>,
    out_seq: u64,
    /// A slow member's messages not read yet, with when they will be.
    inbox: VecDeque<(Time, NodeId, FaultsMsg)>,
}

impl FaultsNode {
    /// This member's id.
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// Its own incarnation.
    pub fn incarnation(&self) -> u32 {
        self.inc
    }
    /// How it holds member `m`.
    pub fn peer(&self, m: NodeId) -> &Peer {
        &self.peers[m as usize]
    }
    /// How many members it suspects or holds dead.
    pub fn suspects(&self) -> usize {
        self.peers.iter().filter(|p| p.status != Status::Alive).count()
    }
    /// Lifeguard's local health multiplier (0: healthy).
    pub fn local_health(&self) -> u32 {
        self.lhm
    }
    /// The configuration.
    pub fn config(&self) -> &FaultsConfig {
        &self.cfg
    }
    /// φ of peer `m` at time `now` (NaN: not the φ detector).
    pub fn phi_of(&self, m: NodeId, now: Time) -> f64 {
        let p = &self.peers[m as usize];
        match self.stats(p) {
            Some((mean, std)) if self.cfg.detector == Detector::Phi => {
                phi::phi(self.cfg.fit, now.saturating_sub(p.last) as f64, mean, std)
            }
            _ => f64::NAN,
        }
    }

    fn fresh(id: NodeId, n: u32, cfg: &FaultsConfig, inc: u32) -> FaultsNode {
        let peers = (0..n)
            .map(|_| Peer {
                status: Status::Alive,
                inc: 0,
                since: 0,
                last: 0,
                deadline: Time::MAX,
                window: Vec::new(),
                head: 0,
                heard: false,
                confirmers: Vec::new(),
            })
            .collect();
        FaultsNode {
            id,
            n,
            cfg: cfg.clone(),
            inc,
            peers,
            check_due: None,
            order: Vec::new(),
            pos: 0,
            probing: None,
            seq: 0,
            queue: Vec::new(),
            lhm: 0,
            timed_out: false,
            nacks: (0, 0),
            relaying: Vec::new(),
            inbox: VecDeque::new(),
            outbox: std::collections::BTreeMap::new(),
            out_seq: 0,
        }
    }

    /// Mean (plus the accepted pause) and standard deviation of a peer's
    /// inter-arrival times; before two heartbeats, Akka's bootstrap: mean
    /// one heartbeat interval, deviation a quarter of it.
    fn stats(&self, p: &Peer) -> Option<(f64, f64)> {
        let (mean, std) = phi::mean_std(&p.window).unwrap_or_else(|| {
            let m = self.cfg.heartbeat as f64;
            (m, m / 4.0)
        });
        Some((mean + self.cfg.pause_margin as f64, std.max(self.cfg.min_std as f64)))
    }

    /// When peer `m` is next judged, from its status.
    fn deadline(&self, m: usize) -> Time {
        let p = &self.peers[m];
        match p.status {
            Status::Dead => Time::MAX,
            Status::Suspect => p.since.saturating_add(self.cfg.suspicion),
            Status::Alive => match self.cfg.detector {
                Detector::Heartbeat => p.last.saturating_add(self.cfg.timeout),
                Detector::Phi => {
                    let (mean, std) = self.stats(p).unwrap_or((1.0, 1.0));
                    let after = phi::crossing(self.cfg.fit, self.cfg.phi_threshold, mean, std);
                    p.last.saturating_add(after.ceil().clamp(1.0, 1e15) as Time)
                }
                Detector::Swim => Time::MAX,
            },
        }
    }

    /// Arms the Check timer for the earliest deadline, if it is earlier
    /// than the one armed.
    fn arm_check(&mut self, ctx: &mut Ctx<Self>, at: Time) {
        if at == Time::MAX {
            return;
        }
        if self.check_due.is_none_or(|d| at < d) {
            self.check_due = Some(at);
            ctx.set_timer(FaultsTimer::Check, at.saturating_sub(ctx.now));
        }
    }

    fn set_status(&mut self, ctx: &mut Ctx<Self>, m: NodeId, status: Status, inc: u32) {
        let p = &mut self.peers[m as usize];
        if p.status == status && p.inc == inc {
            return;
        }
        let was = p.status;
        p.inc = inc;
        if was == status {
            return;
        }
        p.status = status;
        p.since = ctx.now;
        ctx.note(match status {
            Status::Alive => FaultsNote::Trust { of: m, inc },
            Status::Suspect => FaultsNote::Suspect { of: m, inc },
            Status::Dead => FaultsNote::DeclareDead { of: m, inc },
        });
    }

    // ----- Heartbeats and φ -----

    fn beat(&mut self, ctx: &mut Ctx<Self>) {
        for to in 0..self.n {
            if to != self.id {
                let inc = self.inc;
                self.post(ctx, to, FaultsMsg::Heartbeat { inc });
            }
        }
        ctx.set_timer(FaultsTimer::Beat, self.cfg.heartbeat);
    }

    fn on_heartbeat(&mut self, from: NodeId, inc: u32, ctx: &mut Ctx<Self>) {
        let window = self.cfg.window as usize;
        let phi = self.cfg.detector == Detector::Phi;
        let p = &mut self.peers[from as usize];
        let gap = ctx.now.saturating_sub(p.last);
        let keep = self.cfg.max_interval == 0 || gap <= self.cfg.max_interval;
        if phi && p.heard && keep {
            let gap = gap.min(u64::from(u32::MAX)) as u32;
            if p.window.len() < window {
                p.window.push(gap);
            } else if window > 0 {
                p.window[p.head as usize] = gap;
                p.head = ((p.head as usize + 1) % window) as u32;
            }
        }
        p.heard = true;
        p.last = ctx.now;
        let inc = inc.max(p.inc);
        self.set_status(ctx, from, Status::Alive, inc);
        let d = self.deadline(from as usize);
        self.peers[from as usize].deadline = d;
        self.arm_check(ctx, d);
    }

    fn check(&mut self, ctx: &mut Ctx<Self>) {
        let due = self.check_due.take().unwrap_or(ctx.now);
        // Cassandra skips judging after a local pause longer than it
        // expects (its MAX_LOCAL_PAUSE_IN_MS): the heartbeats that
        // arrived meanwhile wait to be read. Here: a timer late by more
        // than a heartbeat interval.
        if ctx.now > due.saturating_add(self.cfg.heartbeat) {
            ctx.note(FaultsNote::LocalPause);
            for p in &mut self.peers {
                if p.status == Status::Alive {
                    p.last = p.last.max(ctx.now.saturating_sub(self.cfg.heartbeat));
                }
            }
            for m in 0..self.n as usize {
                self.peers[m].deadline = self.deadline(m);
            }
        }
        for m in 0..self.n {
            if m == self.id {
                continue;
            }
            let p = &self.peers[m as usize];
            if p.deadline <= ctx.now {
                let (status, inc) = (p.status, p.inc);
                match status {
                    Status::Alive => self.set_status(ctx, m, Status::Suspect, inc),
                    Status::Suspect => self.set_status(ctx, m, Status::Dead, inc),
                    Status::Dead => {}
                }
                self.peers[m as usize].deadline = self.deadline(m as usize);
            }
        }
        let next = (0..self.n as usize).filter(|&m| m != self.id as usize).map(|m| self.peers[m].deadline).min();
        if let Some(at) = next {
            self.arm_check(ctx, at.max(ctx.now + 1));
        }
    }

    // ----- SWIM -----

    /// Retransmissions of one update: λ·⌈log10(n+1)⌉ (memberlist).
    fn limit(&self) -> u32 {
        let mut digits = 0u32;
        let mut x = u64::from(self.n) + 1;
        let mut exact = true;
        while x >= 10 {
            if x % 10 != 0 {
                exact = false;
            }
            x /= 10;
            digits += 1;
        }
        // ⌈log10(n+1)⌉: the digits beyond the first, plus one unless n+1
        // is a power of ten.
        let ceil = if x == 1 && exact { digits } else { digits + 1 };
        self.cfg.retransmit.max(1) * ceil.max(1)
    }

    fn enqueue(&mut self, u: Update) {
        self.queue.retain(|(q, _)| q.member != u.member);
        self.queue.push((u, 0));
    }

    /// The updates a message carries: first what is known of `to` itself
    /// if it is held suspected or dead (so it can refute), then the
    /// queued updates sent least often.
    fn piggyback(&mut self, to: NodeId) -> Vec<Update> {
        let mut out = Vec::new();
        let p = &self.peers[to as usize];
        if p.status != Status::Alive {
            out.push(Update::new(p.status, to, p.inc));
        }
        let room = self.cfg.piggyback as usize;
        if room == 0 {
            return out;
        }
        let mut idx: Vec<usize> = (0..self.queue.len()).collect();
        idx.sort_by_key(|&i| (self.queue[i].1, i));
        for i in idx.into_iter().take(room) {
            self.queue[i].1 += 1;
            if !out.contains(&self.queue[i].0) {
                out.push(self.queue[i].0);
            }
        }
        let limit = self.limit();
        self.queue.retain(|(_, sent)| *sent < limit);
        out
    }

    /// Sends a message; a member behind a jittery link holds it for a
    /// random delay first (messages may overtake one another).
    fn post(&mut self, ctx: &mut Ctx<Self>, to: NodeId, msg: FaultsMsg) {
        match self.cfg.jittery {
            Some((j, by)) if j == self.id && by > 0 => {
                let at = ctx.now + ctx.rng.range(0, by);
                let first = self.outbox.keys().next().map(|k| k.0);
                self.out_seq += 1;
                self.outbox.insert((at, self.out_seq), (to, msg));
                if first.is_none_or(|f| at < f) {
                    ctx.set_timer(FaultsTimer::Outbox, at - ctx.now);
                }
            }
            _ => ctx.send(to, msg),
        }
    }

    fn send_swim(&mut self, ctx: &mut Ctx<Self>, to: NodeId, make: impl FnOnce(Vec<Update>) -> FaultsMsg) {
        let updates = self.piggyback(to);
        self.post(ctx, to, make(updates));
    }

    /// Applies one gossiped update (memberlist's rules, in SWIM's order:
    /// alive overrides suspect only at a higher incarnation; suspect
    /// overrides alive at the same or a higher one; dead overrides both).
    fn apply_update(&mut self, u: Update, ctx: &mut Ctx<Self>) {
        if u.member >= self.n {
            return;
        }
        if u.member == self.id {
            if u.status != Status::Alive && u.inc >= self.inc {
                self.inc = u.inc + 1;
                ctx.note(FaultsNote::Refute { inc: self.inc });
                self.enqueue(Update::new(Status::Alive, self.id, self.inc));
                // Lifeguard: being suspected is a sign of its own ill
                // health.
                self.health(1);
            } else if u.status != Status::Alive {
                // News of an older incarnation (from before a restart or a
                // refutation the sender missed): say again which one is
                // current, on the very reply to it.
                self.enqueue(Update::new(Status::Alive, self.id, self.inc));
            }
            return;
        }
        let p = &self.peers[u.member as usize];
        let (status, inc) = (p.status, p.inc);
        if self.cfg.lifeguard && u.status == Status::Suspect && status == Status::Suspect && u.inc == inc {
            self.confirm(u, ctx);
            return;
        }
        let accept = match u.status {
            Status::Alive => u.inc > inc,
            Status::Suspect => match status {
                Status::Alive => u.inc >= inc || self.cfg.bug_stale,
                Status::Suspect => u.inc > inc,
                Status::Dead => false,
            },
            Status::Dead => status != Status::Dead && (u.inc >= inc || self.cfg.bug_stale),
        };
        if !accept {
            return;
        }
        self.set_status(ctx, u.member, u.status, u.inc);
        let confirmers = &mut self.peers[u.member as usize].confirmers;
        confirmers.clear();
        match u.status {
            Status::Suspect => {
                confirmers.extend(u.from);
                let wait = if self.cfg.lifeguard { self.suspicion_timeout(0) } else { self.cfg.suspicion };
                ctx.set_timer(FaultsTimer::Suspicion(u.member), wait);
            }
            _ => ctx.cancel_timer(FaultsTimer::Suspicion(u.member)),
        }
        self.enqueue(u);
    }

    /// Lifeguard: the suspicion timeout after `c` independent
    /// confirmations, `max − (max − min)·log(c+1)/log(k+1)`, at least
    /// `min` (memberlist's `remainingSuspicionTime`; with k = 0, `min`).
    fn suspicion_timeout(&self, c: u32) -> Time {
        lifeguard_suspicion(self.cfg.suspicion, self.cfg.suspicion_max, self.cfg.confirmations, c)
    }

    /// Lifeguard: another member's suspicion of one already suspected, at
    /// the same incarnation. A new suspector (up to k of them) shortens
    /// the timeout, and the confirmation is gossiped on.
    fn confirm(&mut self, u: Update, ctx: &mut Ctx<Self>) {
        let Some(f) = u.from else { return };
        let k = self.cfg.confirmations as usize;
        let p = &mut self.peers[u.member as usize];
        // The first suspector is not a confirmation; at most k count.
        if p.confirmers.contains(&f) || p.confirmers.len() > k {
            return;
        }
        p.confirmers.push(f);
        let c = (p.confirmers.len() - 1) as u32;
        let elapsed = ctx.now.saturating_sub(p.since);
        let left = self.suspicion_timeout(c).saturating_sub(elapsed);
        ctx.set_timer(FaultsTimer::Suspicion(u.member), left);
        self.enqueue(u);
    }

    /// Lifeguard: moves the local health multiplier by `delta`, within
    /// 0 ..= lhm_max − 1.
    fn health(&mut self, delta: i32) {
        if self.cfg.lifeguard {
            let top = self.cfg.lhm_max.max(1) - 1;
            self.lhm = self.lhm.saturating_add_signed(delta).min(top);
        }
    }

    /// A SWIM time scaled by the local health multiplier.
    fn scaled(&self, t: Time) -> Time {
        t.saturating_mul(u64::from(self.lhm) + 1)
    }

    fn next_target(&mut self, ctx: &mut Ctx<Self>) -> Option<NodeId> {
        for _ in 0..2 {
            if self.pos >= self.order.len() {
                // A fresh shuffle each round (Fisher-Yates, own stream).
                self.order = (0..self.n).filter(|&m| m != self.id).collect();
                for i in (1..self.order.len()).rev() {
                    let j = ctx.rng.range(0, i as u64) as usize;
                    self.order.swap(i, j);
                }
                self.pos = 0;
            }
            if let Some(&t) = self.order.get(self.pos) {
                self.pos += 1;
                return Some(t);
            }
        }
        None
    }

    fn probe(&mut self, ctx: &mut Ctx<Self>) {
        // The period that ends: no ack at all means suspicion.
        let (expected, got) = std::mem::take(&mut self.nacks);
        let timed_out = std::mem::take(&mut self.timed_out);
        match self.probing.take() {
            Some((_, target, false)) => {
                // memberlist: with helpers that answer nacks, each nack
                // missing is a sign the member itself is slow; without,
                // the failed probe counts one.
                self.health(if expected > 0 { expected.saturating_sub(got) as i32 } else { 1 });
                let p = &self.peers[target as usize];
                // With Lifeguard, a failed probe of a member already
                // suspected confirms the suspicion.
                if p.status == Status::Alive || (self.cfg.lifeguard && p.status == Status::Suspect) {
                    let inc = p.inc;
                    let from = self.cfg.lifeguard.then_some(self.id);
                    self.apply_update(Update { status: Status::Suspect, member: target, inc, from }, ctx);
                }
            }
            Some((_, _, true)) => self.health(if timed_out { 0 } else { -1 }),
            None => {}
        }
        ctx.set_timer(FaultsTimer::Probe, self.scaled(self.cfg.probe));
        let Some(target) = self.next_target(ctx) else { return };
        self.seq += 1;
        let seq = self.seq;
        self.probing = Some((seq, target, false));
        self.send_swim(ctx, target, |updates| FaultsMsg::Ping { seq, relay: None, updates });
        ctx.set_timer(FaultsTimer::PingTimeout, self.scaled(self.cfg.ping_timeout));
    }

    fn ping_timeout(&mut self, ctx: &mut Ctx<Self>) {
        let Some((seq, target, false)) = self.probing else { return };
        self.timed_out = true;
        if self.peers[target as usize].status == Status::Dead {
            return;
        }
        let mut helpers: Vec<NodeId> = (0..self.n)
            .filter(|&m| m != self.id && m != target && self.peers[m as usize].status != Status::Dead)
            .collect();
        for _ in 0..self.cfg.indirect.min(helpers.len() as u32) {
            let i = ctx.rng.range(0, helpers.len() as u64 - 1) as usize;
            let h = helpers.swap_remove(i);
            self.send_swim(ctx, h, |updates| FaultsMsg::PingReq { seq, target, updates });
            if self.cfg.lifeguard {
                self.nacks.0 += 1;
            }
        }
    }

    fn on_swim(&mut self, from: NodeId, msg: FaultsMsg, ctx: &mut Ctx<Self>) {
        match msg {
            FaultsMsg::Heartbeat { .. } => {}
            FaultsMsg::Ping { seq, relay, updates } => {
                for u in updates {
                    self.apply_update(u, ctx);
                }
                self.send_swim(ctx, from, |updates| FaultsMsg::Ack { seq, relay, updates });
            }
            FaultsMsg::PingReq { seq, target, updates } => {
                for u in updates {
                    self.apply_update(u, ctx);
                }
                self.send_swim(ctx, target, |updates| FaultsMsg::Ping { seq, relay: Some(from), updates });
                if self.cfg.lifeguard && self.relaying.len() < 64 {
                    // memberlist: nack after the probe timeout without an
                    // ack from the target.
                    self.relaying.push((from, seq));
                    ctx.set_timer(FaultsTimer::Nack(from, seq), self.cfg.ping_timeout);
                }
            }
            FaultsMsg::Nack { seq } => {
                if self.probing.is_some_and(|(s, _, _)| s == seq) {
                    self.nacks.1 += 1;
                }
            }
            FaultsMsg::Ack { seq, relay, updates } => {
                for u in updates {
                    self.apply_update(u, ctx);
                }
                match relay {
                    Some(origin) if origin != self.id => {
                        if let Some(i) = self.relaying.iter().position(|r| *r == (origin, seq)) {
                            self.relaying.swap_remove(i);
                            ctx.cancel_timer(FaultsTimer::Nack(origin, seq));
                        }
                        self.send_swim(ctx, origin, |updates| FaultsMsg::Ack { seq, relay: None, updates });
                    }
                    _ => {
                        if let Some((s, _, acked)) = &mut self.probing {
                            if *s == seq {
                                *acked = true;
                            }
                        }
                    }
                }
            }
        }
    }
}

impl Protocol for FaultsNode {
    type Msg = FaultsMsg;
    type Timer = FaultsTimer;
    type Note = FaultsNote;
    type Durable = u32;
    type Config = FaultsConfig;

    fn new(id: NodeId, nodes: u32, config: &FaultsConfig) -> Self {
        FaultsNode::fresh(id, nodes, config, 0)
    }

    fn recover(id: NodeId, nodes: u32, config: &FaultsConfig, durable: u32) -> Self {
        FaultsNode::fresh(id, nodes, config, durable)
    }

    fn durable(&self) -> u32 {
        self.inc
    }

    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        // A restart comes back with a new incarnation, which overrides
        // whatever the others concluded about the old one.
        if ctx.now > 0 {
            self.inc += 1;
        }
        for p in &mut self.peers {
            p.last = ctx.now;
            p.since = ctx.now;
        }
        match self.cfg.detector {
            Detector::Heartbeat | Detector::Phi => {
                // Start at a random point of the interval, as real
                // members do not start in step.
                let first = ctx.rng.range(0, self.cfg.heartbeat.saturating_sub(1));
                ctx.set_timer(FaultsTimer::Beat, first);
                for m in 0..self.n as usize {
                    let d = if m == self.id as usize { Time::MAX } else { self.deadline(m) };
                    self.peers[m].deadline = d;
                }
                let next = (0..self.n as usize).map(|m| self.peers[m].deadline).min().unwrap_or(Time::MAX);
                self.arm_check(ctx, next);
            }
            Detector::Swim => {
                if self.inc > 0 {
                    self.enqueue(Update::new(Status::Alive, self.id, self.inc));
                }
                let first = ctx.rng.range(0, self.cfg.probe.saturating_sub(1));
                ctx.set_timer(FaultsTimer::Probe, first);
            }
        }
    }

    fn on_message(&mut self, from: NodeId, msg: FaultsMsg, ctx: &mut Ctx<Self>) {
        if from >= self.n {
            return;
        }
        if let Some((slow, by)) = self.cfg.slow {
            if slow == self.id && by > 0 {
                if self.inbox.is_empty() {
                    ctx.set_timer(FaultsTimer::Inbox, by);
                }
                self.inbox.push_back((ctx.now + by, from, msg));
                return;
            }
        }
        self.read(from, msg, ctx);
    }

    fn on_timer(&mut self, timer: FaultsTimer, ctx: &mut Ctx<Self>) {
        self.timer(timer, ctx);
    }

    fn on_request(&mut self, _req: RequestId, _ctx: &mut Ctx<Self>) {
        // Members serve no client commands (the lab has no workload).
    }

    fn on_force_timeout(&mut self, ctx: &mut Ctx<Self>) {
        match self.cfg.detector {
            Detector::Heartbeat | Detector::Phi => self.beat(ctx),
            Detector::Swim => self.probe(ctx),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.peers.len() * std::mem::size_of::<Peer>()
            + self.peers.iter().map(|p| p.window.capacity() * 4 + p.confirmers.capacity() * 4).sum::<usize>()
            + self.order.capacity() * 4
            + self.relaying.capacity() * 16
            + self.outbox.values().map(|(_, m)| 64 + Self::msg_heap_bytes(m)).sum::<usize>()
            + self.queue.capacity() * std::mem::size_of::<(Update, u32)>()
            + self
                .inbox
                .iter()
                .map(|(_, _, m)| std::mem::size_of::<(Time, NodeId, FaultsMsg)>() + Self::msg_heap_bytes(m))
                .sum::<usize>()
    }

    fn msg_heap_bytes(msg: &FaultsMsg) -> usize {
        match msg {
            FaultsMsg::Heartbeat { .. } | FaultsMsg::Nack { .. } => 0,
            FaultsMsg::Ping { updates, .. } | FaultsMsg::Ack { updates, .. } | FaultsMsg::PingReq { updates, .. } => {
                updates.capacity() * std::mem::size_of::<Update>()
            }
        }
    }
}

impl FaultsNode {
    /// Reads one message (at once, or when a slow member gets to it).
    fn read(&mut self, from: NodeId, msg: FaultsMsg, ctx: &mut Ctx<Self>) {
        match (self.cfg.detector, msg) {
            (Detector::Heartbeat | Detector::Phi, FaultsMsg::Heartbeat { inc }) => self.on_heartbeat(from, inc, ctx),
            (Detector::Swim, msg) => self.on_swim(from, msg, ctx),
            _ => {}
        }
    }

    fn timer(&mut self, timer: FaultsTimer, ctx: &mut Ctx<Self>) {
        match timer {
            FaultsTimer::Beat => self.beat(ctx),
            FaultsTimer::Check => self.check(ctx),
            FaultsTimer::Probe => self.probe(ctx),
            FaultsTimer::PingTimeout => self.ping_timeout(ctx),
            FaultsTimer::Suspicion(m) => {
                let p = &self.peers[m as usize];
                if p.status == Status::Suspect {
                    let inc = p.inc;
                    self.apply_update(Update::new(Status::Dead, m, inc), ctx);
                }
            }
            FaultsTimer::Nack(origin, seq) => {
                if let Some(i) = self.relaying.iter().position(|r| *r == (origin, seq)) {
                    self.relaying.swap_remove(i);
                    self.post(ctx, origin, FaultsMsg::Nack { seq });
                }
            }
            FaultsTimer::Outbox => {
                while let Some(entry) = self.outbox.first_entry() {
                    if entry.key().0 > ctx.now {
                        break;
                    }
                    let (to, msg) = entry.remove();
                    ctx.send(to, msg);
                }
                if let Some(&(at, _)) = self.outbox.keys().next() {
                    ctx.set_timer(FaultsTimer::Outbox, at - ctx.now);
                }
            }
            FaultsTimer::Inbox => {
                while self.inbox.front().is_some_and(|(at, _, _)| *at <= ctx.now) {
                    let Some((_, from, msg)) = self.inbox.pop_front() else { break };
                    self.read(from, msg, ctx);
                }
                if let Some((at, _, _)) = self.inbox.front() {
                    ctx.set_timer(FaultsTimer::Inbox, at.saturating_sub(ctx.now));
                }
            }
        }
    }
}
