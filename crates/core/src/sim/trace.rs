//! The typed trace: everything that happened in a run, in order.
//!
//! The UI animates from it, tests assert on it, checkers read it, and its
//! [`Fingerprint`] proves two runs identical. A long run keeps only a bounded
//! window of recent events (plus counters), so memory stays flat.

use super::fingerprint::Fingerprint;
use super::protocol::{NodeId, Observable, Protocol, Reply, RequestId};
use super::time::Time;
use std::collections::VecDeque;

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Random loss on the link.
    Loss,
    /// The link was cut by a partition when the message was sent or arrived.
    Partition,
    /// The receiver was crashed when the message arrived.
    NodeDown,
}

impl DropReason {
    /// Lower-case name for display.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::NodeDown => "node down",
        }
    }
}

/// A fault or a change of network conditions applied to the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A node crashed: volatile state lost.
    Crash(NodeId),
    /// A crashed node restarted from its persisted state.
    Restart(NodeId),
    /// A node froze: it processes nothing until resumed.
    Pause(NodeId),
    /// A paused node goes on.
    Resume(NodeId),
    /// The cluster split into groups that cannot talk to each other.
    Partition(Vec<Vec<NodeId>>),
    /// Messages from one node to another are cut (one-way).
    Block(NodeId, NodeId),
    /// All links restored.
    Heal,
    /// A network or clock parameter changed (name and new value).
    Set(String, i64),
}

/// One event of a run.
#[derive(Clone, Debug)]
pub enum TraceEvent<P: Protocol> {
    /// A message left `from`; it is due at `to` at `deliver_at`. `copy`:
    /// the network's duplicate of the message sent just before.
    Sent { at: Time, id: u64, from: NodeId, to: NodeId, msg: P::Msg, deliver_at: Time, copy: bool },
    /// A message sent at `sent` arrived and was handled.
    Delivered { at: Time, id: u64, from: NodeId, to: NodeId, kind: &'static str, sent: Time },
    /// A message sent at `sent` was lost.
    Dropped { at: Time, id: u64, from: NodeId, to: NodeId, kind: &'static str, reason: DropReason, sent: Time },
    /// A timer fired at a node.
    TimerFired { at: Time, node: NodeId, timer: P::Timer },
    /// A node noted something (became leader, committed, ...).
    Note { at: Time, node: NodeId, note: P::Note },
    /// A client request reached a node.
    Request { at: Time, node: NodeId, req: RequestId },
    /// A node answered a client.
    Replied { at: Time, node: NodeId, req: RequestId, reply: Reply },
    /// A fault was injected or the network changed.
    Fault { at: Time, fault: Fault },
}

impl<P: Protocol> TraceEvent<P> {
    /// When it happened.
    pub fn at(&self) -> Time {
        match self {
            TraceEvent::Sent { at, .. }
            | TraceEvent::Delivered { at, .. }
            | TraceEvent::Dropped { at, .. }
            | TraceEvent::TimerFired { at, .. }
            | TraceEvent::Note { at, .. }
            | TraceEvent::Request { at, .. }
            | TraceEvent::Replied { at, .. }
            | TraceEvent::Fault { at, .. } => *at,
        }
    }

    /// Feeds this event into a fingerprint.
    pub fn digest(&self, fp: &mut Fingerprint) {
        fp.u64(self.at());
        match self {
            TraceEvent::Sent { id, from, to, msg, deliver_at, .. } => {
                fp.u64(1);
                fp.u64(*id);
                fp.u64(u64::from(*from) << 32 | u64::from(*to));
                fp.u64(*deliver_at);
                fp.str(msg.kind());
                msg.digest(fp);
            }
            TraceEvent::Delivered { id, .. } => {
                fp.u64(2);
                fp.u64(*id);
            }
            TraceEvent::Dropped { id, reason, .. } => {
                fp.u64(3);
                fp.u64(*id);
                fp.u64(*reason as u64);
            }
            TraceEvent::TimerFired { node, timer, .. } => {
                fp.u64(4);
                fp.u64(u64::from(*node));
                timer.digest(fp);
            }
            TraceEvent::Note { node, note, .. } => {
                fp.u64(5);
                fp.u64(u64::from(*node));
                fp.str(note.kind());
                note.digest(fp);
            }
            TraceEvent::Request { node, req, .. } => {
                fp.u64(6);
                fp.u64(u64::from(*node));
                fp.u64(*req);
            }
            TraceEvent::Replied { node, req, reply, .. } => {
                fp.u64(7);
                fp.u64(u64::from(*node));
                fp.u64(*req);
                match reply {
                    Reply::Committed => fp.u64(0),
                    Reply::NotLeader(h) => fp.u64(1 + h.map_or(0, |h| u64::from(h) + 1)),
                    Reply::Answer(a) => {
                        fp.u64(u64::MAX);
                        fp.u64(u64::from(a.key));
                        fp.u64(a.value.map_or(u64::MAX - 1, |v| v as u64));
                        fp.u64(a.version);
                        fp.u64(u64::from(a.ok));
                    }
                }
            }
            TraceEvent::Fault { fault, .. } => {
                fp.u64(8);
                fp.str(&format!("{fault:?}"));
            }
        }
    }

    /// One readable line, etcd-style:
    /// `12.500ms S1->S2 AppendEntries t3 prev 4/2 entries 3 commit 4`.
    pub fn describe(&self) -> String {
        let mut out = String::with_capacity(64);
        self.describe_into(&mut out);
        out
    }

    /// Writes [`TraceEvent::describe`]'s line into `out`.
    pub fn describe_into(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(out, "{} ", super::time::format_clock(self.at()));
        let _ = match self {
            TraceEvent::Sent { from, to, msg, .. } => {
                let _ = write!(out, "S{}->S{} ", from + 1, to + 1);
                msg.describe(out);
                Ok(())
            }
            TraceEvent::Delivered { from, to, kind, .. } => write!(out, "S{}->S{} recv {kind}", from + 1, to + 1),
            TraceEvent::Dropped { from, to, kind, reason, .. } => {
                write!(out, "S{}->S{} drop {kind} ({})", from + 1, to + 1, reason.name())
            }
            TraceEvent::TimerFired { node, timer, .. } => write!(out, "S{} timer {}", node + 1, timer.kind()),
            TraceEvent::Note { node, note, .. } => {
                let _ = write!(out, "S{} ", node + 1);
                note.describe(out);
                Ok(())
            }
            TraceEvent::Request { node, req, .. } => write!(out, "S{} request #{req}", node + 1),
            TraceEvent::Replied { node, req, reply, .. } => match reply {
                Reply::Committed => write!(out, "S{} reply #{req} committed", node + 1),
                Reply::NotLeader(Some(h)) => write!(out, "S{} reply #{req} not leader, try S{}", node + 1, h + 1),
                Reply::NotLeader(None) => write!(out, "S{} reply #{req} not leader, leader unknown", node + 1),
                Reply::Answer(a) => {
                    let v = a.value.map_or("nil".to_string(), |v| v.to_string());
                    let ok = if a.ok { "" } else { " (compare failed)" };
                    write!(out, "S{} reply #{req} key {} = {v} v{}{ok}", node + 1, a.key, a.version)
                }
            },
            TraceEvent::Fault { fault, .. } => write!(out, "fault {}", describe_fault(fault)),
        };
    }
}

/// A fault in words, with nodes named as people see them.
pub fn describe_fault(f: &Fault) -> String {
    let s = |n: &NodeId| format!("S{}", n + 1);
    match f {
        Fault::Crash(n) => format!("crash {}", s(n)),
        Fault::Restart(n) => format!("restart {}", s(n)),
        Fault::Pause(n) => format!("pause {}", s(n)),
        Fault::Resume(n) => format!("resume {}", s(n)),
        Fault::Partition(groups) => {
            let g: Vec<String> = groups.iter().map(|g| g.iter().map(s).collect::<Vec<_>>().join(",")).collect();
            format!("partition {}", g.join(" | "))
        }
        Fault::Block(a, b) => format!("block {}->{}", s(a), s(b)),
        Fault::Heal => "heal".to_string(),
        Fault::Set(name, v) => format!("set {name} = {v}"),
    }
}

/// A bounded window of recent events, the fingerprint of all of them, and
/// a count of everything ever recorded.
#[derive(Clone, Debug)]
pub struct Trace<P: Protocol> {
    window: VecDeque<TraceEvent<P>>,
    capacity: usize,
    total: u64,
    fingerprint: Fingerprint,
}

impl<P: Protocol> Trace<P> {
    /// A trace that keeps the last `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Trace { window: VecDeque::new(), capacity, total: 0, fingerprint: Fingerprint::default() }
    }

    /// Records one event.
    pub fn push(&mut self, ev: TraceEvent<P>) {
        ev.digest(&mut self.fingerprint);
        self.total += 1;
        if self.capacity == 0 {
            return;
        }
        if self.window.len() == self.capacity {
            self.window.pop_front();
        }
        self.window.push_back(ev);
    }

    /// The fingerprint of every event recorded so far.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint.value()
    }

    /// How many events were recorded in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The recent events, oldest first.
    pub fn window(&self) -> impl DoubleEndedIterator<Item = &TraceEvent<P>> + ExactSizeIterator {
        self.window.iter()
    }

    /// The events with sequence number `>= from` still in the window (the
    /// first event ever recorded has number 0).
    pub fn since(&self, from: u64) -> impl Iterator<Item = &TraceEvent<P>> {
        let first = self.total - self.window.len() as u64;
        let skip = from.saturating_sub(first).min(self.window.len() as u64);
        self.window.iter().skip(skip as usize)
    }
}
