//! The space-time diagram's record of a run.
//!
//! One lane per node, virtual time along the other axis (Lamport's
//! space-time diagrams, "Time, Clocks, and the Ordering of Events in a
//! Distributed System", 1978, Fig. 1). A message-passing lab records, when
//! asked to ([`super::Lab::record_diagram`]), one [`Record`] per finished
//! message (from its send to its delivery or loss), per timer that fired,
//! per note a node made (became leader, value chosen, committed), per
//! fault, and per span a lab marks on a node's lane (from one of its notes
//! to a later one: a lease as its holder believes in it, say). Records are made when the message ends, so they come in order of
//! their end time, and each carries a sequence number so that a replay from
//! a snapshot can say "everything from number N on is replaced".
//!
//! The worker does not keep records: the lab buffers the ones made since
//! the last frame (at most [`BUFFER`]) and the frame carries them, packed,
//! to the page, which keeps its own bounded window. [`causal_past`]
//! computes Lamport's happens-before past of an event over records.

use crate::sim::Time;
use serde::{Deserialize, Serialize};

/// Most records a lab buffers between two frames (and the most a page is
/// sent when a long run opens): older ones are counted, not kept.
pub const BUFFER: usize = 250_000;

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum What {
    /// A message that arrived and was handled.
    Delivered = 0,
    /// A message lost on the link (decided when it was sent).
    Lost = 1,
    /// A message cut by a partition or a one-way cut.
    Cut = 2,
    /// A message that reached a crashed node.
    Down = 3,
    /// A timer fired at a node (`kind` indexes [`Chunk::names`]).
    Timer = 4,
    /// A node noted a change (`kind` indexes [`Chunk::names`]).
    Note = 5,
    /// A fault (`kind` is a [`FaultKind`]).
    Fault = 6,
    /// A span on lane `from`, from `t0` to `t1`: `kind` indexes
    /// [`Chunk::names`] for its label, and `id` is a number shown with it
    /// (see [`SpanEdge`]).
    Span = 7,
    /// A span still open: on lane `from` since `t0`, going on past `t1`
    /// (when it was looked at), with `kind` and `id` as a [`What::Span`]'s.
    /// Never one of the run's numbered records: the lab says which spans
    /// are open now ([`super::Lab::open_spans`]), and a chunk carries them
    /// as they were when it was sent ([`Chunk::open`]).
    Open = 8,
}

impl What {
    fn from_u8(v: u8) -> Option<What> {
        Some(match v {
            0 => What::Delivered,
            1 => What::Lost,
            2 => What::Cut,
            3 => What::Down,
            4 => What::Timer,
            5 => What::Note,
            6 => What::Fault,
            7 => What::Span,
            8 => What::Open,
            _ => return None,
        })
    }

    /// Whether the record is a message (an arrow).
    pub fn is_message(self) -> bool {
        (self as u8) <= 3
    }

    /// Whether the record is a span, ended or still open (a bar).
    pub fn is_span(self) -> bool {
        matches!(self, What::Span | What::Open)
    }
}

/// How a lab marks a span on a node's lane: a note that opens one (in
/// `slot`, with a label and a number), or closes the one open in `slot`.
/// The span becomes a [`What::Span`] record when it closes (or its node
/// crashes, or the run stops at a violation); a span opened again in the
/// same slot closes the old one first. Until it closes it is no record of
/// the run, but the lab shows it as open ([`What::Open`]), so the diagram
/// draws a hold while it is happening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanEdge {
    /// A span starts on the noting node's lane.
    Open {
        /// Which of the node's spans.
        slot: u32,
        /// Its label.
        label: &'static str,
        /// A number shown with the label.
        number: u64,
    },
    /// The node's span in `slot` ends.
    Close {
        /// Which of the node's spans.
        slot: u32,
    },
}

/// Faults as diagram records: `from` is the node (or the sender of a cut
/// link, or a node of a partition), `to` the receiver of a cut link or the
/// partition group of `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum FaultKind {
    /// A node crashed (band until it restarts).
    Crash = 0,
    /// A crashed node restarted.
    Restart = 1,
    /// A node froze (band until it resumes).
    Pause = 2,
    /// A paused node went on.
    Resume = 3,
    /// `from` is in group `to` of a partition (one record per node).
    Partition = 4,
    /// Messages from `from` to `to` are cut.
    Block = 5,
    /// Every link restored.
    Heal = 6,
    /// A network or workload setting changed.
    Set = 7,
}

impl FaultKind {
    /// Its name, as the diagram labels it.
    pub fn name(k: u16) -> &'static str {
        ["crash", "restart", "pause", "resume", "partition", "block", "heal", "set"]
            .get(k as usize)
            .copied()
            .unwrap_or("fault")
    }
}

/// One thing on the diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Its number in the run (records made by a replay from a snapshot
    /// get the numbers they had the first time).
    pub seq: u64,
    /// When the message was sent (a mark: when it happened).
    pub t0: Time,
    /// When the message arrived or was lost (a mark: the same as `t0`).
    pub t1: Time,
    /// Sender, or the node a mark is on.
    pub from: u32,
    /// Receiver (a timer: the same as `from`; a note: the node it is about,
    /// else `from`; a fault: see [`FaultKind`]).
    pub to: u32,
    /// A message's kind (index into the schema's kinds), a timer's or
    /// note's name (index into [`Chunk::names`]), or a [`FaultKind`].
    pub kind: u16,
    /// What it is.
    pub what: What,
    /// The message is the network's duplicate of another.
    pub copy: bool,
    /// The message's id in the run (to ask for its contents), or a span's
    /// number.
    pub id: u64,
}

/// Records made since the last frame, packed, with the names new since then.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// The page drops every record it holds numbered `>= restart` before
    /// adding these (after a seek back or a new run).
    pub restart: Option<u64>,
    /// Timer and note names, `names_from..` of the lab's table.
    pub names_from: u32,
    /// The new names.
    pub names: Vec<String>,
    /// Records made but not sent (more than [`BUFFER`] at once).
    pub skipped: u64,
    /// The node and time of the event that broke an invariant, if one did.
    pub violation: Option<(u32, Time)>,
    /// The spans open when the chunk was sent ([`What::Open`], each ending
    /// then): all of them, in place of those the page holds (none: no span
    /// is open). Few: a lab has a few per node.
    pub open: Vec<Record>,
    bytes: Vec<u8>,
    count: u32,
}

use super::varint::{get_varint as get, put_varint as put};

impl Chunk {
    /// Packs records (in the order they were made): each as differences
    /// from the one before, LEB128, about ten bytes a record.
    pub fn pack(records: &[Record]) -> Chunk {
        let mut bytes = Vec::with_capacity(records.len() * 10);
        let (mut seq, mut t1, mut id) = (0u64, 0u64, 0u64);
        for r in records {
            put(&mut bytes, r.seq.wrapping_sub(seq));
            put(&mut bytes, r.t1.wrapping_sub(t1));
            put(&mut bytes, r.t1.saturating_sub(r.t0));
            put(&mut bytes, u64::from(r.from));
            put(&mut bytes, u64::from(r.to));
            put(&mut bytes, u64::from(r.kind));
            bytes.push(r.what as u8 | if r.copy { 0x80 } else { 0 });
            if r.what.is_message() {
                // Zig-zag: ids mostly grow, but records come in arrival order.
                let d = r.id.wrapping_sub(id) as i64;
                put(&mut bytes, ((d << 1) ^ (d >> 63)) as u64);
                id = r.id;
            } else if r.what.is_span() {
                // A span's number, as it is.
                put(&mut bytes, r.id);
            }
            seq = r.seq;
            t1 = r.t1;
        }
        Chunk { bytes, count: records.len() as u32, ..Chunk::default() }
    }

    /// The records, in order. Stops at the first damaged one.
    pub fn unpack(&self) -> Vec<Record> {
        let mut out = Vec::with_capacity(self.count as usize);
        let (mut seq, mut t1, mut id) = (0u64, 0u64, 0u64);
        let b = &self.bytes;
        let mut at = 0;
        while at < b.len() {
            let mut next = || get(b, &mut at);
            let (Some(ds), Some(dt), Some(span), Some(from), Some(to), Some(kind)) =
                (next(), next(), next(), next(), next(), next())
            else {
                break;
            };
            let Some(&tag) = b.get(at) else { break };
            at += 1;
            let Some(what) = What::from_u8(tag & 0x7f) else {
                break;
            };
            let mut number = 0;
            if what.is_message() {
                let Some(z) = get(b, &mut at) else { break };
                let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
                id = id.wrapping_add(d as u64);
                number = id;
            } else if what.is_span() {
                let Some(n) = get(b, &mut at) else { break };
                number = n;
            }
            seq = seq.wrapping_add(ds);
            t1 = t1.wrapping_add(dt);
            out.push(Record {
                seq,
                t0: t1.saturating_sub(span),
                t1,
                from: from as u32,
                to: to as u32,
                kind: kind as u16,
                what,
                copy: tag & 0x80 != 0,
                id: number,
            });
        }
        out
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether it holds none and changes nothing.
    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.restart.is_none() && self.names.is_empty() && self.open.is_empty()
    }

    /// Packed size in bytes.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The causal past of an event at `node`, time `at` (Lamport's
/// happens-before, ibid. §2): everything earlier on its own lane, and,
/// through every message delivered into the past, everything before that
/// message's send on the sender's lane, and so on.
///
/// Returns, per lane, the latest time in the past (`None`: nothing on that
/// lane is), and per record whether the record is in the past. A message
/// is in the past when its delivery is; a lost message when its send is; a
/// mark when its time is. Records must be in the order they were made
/// (non-decreasing `t1`). `lanes` is the number of nodes.
pub fn causal_past(records: &[Record], lanes: usize, node: u32, at: Time) -> (Vec<Option<Time>>, Vec<bool>) {
    let mut frontier: Vec<Option<Time>> = vec![None; lanes];
    let mut inside = vec![false; records.len()];
    if let Some(f) = frontier.get_mut(node as usize) {
        *f = Some(at);
    }
    let within =
        |f: &[Option<Time>], lane: u32, t: Time| f.get(lane as usize).copied().flatten().is_some_and(|ft| t <= ft);
    // Latest delivery first: a message can only widen the past of its
    // sender to before its own delivery, so one backward pass suffices.
    for (i, r) in records.iter().enumerate().rev() {
        if r.t1 > at {
            continue;
        }
        if r.what == What::Delivered && within(&frontier, r.to, r.t1) {
            inside[i] = true;
            if let Some(f) = frontier.get_mut(r.from as usize) {
                *f = Some(f.map_or(r.t0, |ft| ft.max(r.t0)));
            }
        }
    }
    for (i, r) in records.iter().enumerate() {
        if inside[i] || r.t1 > at {
            continue;
        }
        inside[i] = match r.what {
            What::Delivered => false,
            What::Lost | What::Cut | What::Down => within(&frontier, r.from, r.t0),
            What::Fault if r.kind == FaultKind::Heal as u16 || r.kind == FaultKind::Set as u16 => false,
            _ => within(&frontier, r.from, r.t0),
        };
    }
    (frontier, inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u64, t0: Time, t1: Time, from: u32, to: u32, what: What) -> Record {
        Record { seq, t0, t1, from, to, kind: 0, what, copy: false, id: seq }
    }

    fn mark(seq: u64, t: Time, node: u32) -> Record {
        Record { seq, t0: t, t1: t, from: node, to: node, kind: 0, what: What::Note, copy: false, id: 0 }
    }

    /// Lamport 1978, Fig. 1 style: three processes P(0), Q(1), R(2).
    /// The chain Q→R (1→3), R→P (4→6) leads into P's event at 7; the
    /// message P→Q (2→5) leaves P before 7 but arrives at Q after Q's last
    /// contribution (its send at 1), so Q's past ends at 1; R→Q (8→9)
    /// happens after and is outside; a lost message from R at 3.5 was sent
    /// inside R's past (R's past ends at its send to P, 4).
    #[test]
    fn causal_past_follows_messages_backwards_only() {
        let records = vec![
            msg(1, 1, 3, 1, 2, What::Delivered), // Q→R
            mark(2, 3, 2),                       // R notes at 3
            msg(3, 3, 3, 2, 0, What::Lost),      // R's lost message at 3
            msg(4, 2, 5, 0, 1, What::Delivered), // P→Q
            msg(5, 4, 6, 2, 0, What::Delivered), // R→P
            mark(6, 5, 2),                       // R notes at 5: after its send to P
            mark(7, 7, 0),                       // P's event at 7
            msg(8, 8, 9, 2, 1, What::Delivered), // later
        ];
        let (frontier, inside) = causal_past(&records, 3, 0, 7);
        assert_eq!(frontier, vec![Some(7), Some(1), Some(4)]);
        assert_eq!(inside, vec![true, true, true, false, true, false, true, false]);
    }

    /// An event's past on a lane with no messages into it is only its own lane.
    #[test]
    fn causal_past_without_messages_is_the_lane() {
        let records = vec![msg(1, 1, 2, 1, 2, What::Delivered), mark(2, 3, 0)];
        let (frontier, inside) = causal_past(&records, 3, 0, 3);
        assert_eq!(frontier, vec![Some(3), None, None]);
        assert_eq!(inside, vec![false, true]);
    }

    /// A chain of three hops reaches the first sender; a message delivered
    /// to a lane after that lane's frontier is outside even if sent early.
    #[test]
    fn causal_past_is_transitive() {
        let records = vec![
            msg(1, 0, 1, 3, 0, What::Delivered), // S→P at 1
            msg(2, 2, 3, 0, 1, What::Delivered), // P→Q
            msg(3, 1, 4, 3, 2, What::Delivered), // S→R arrives 4, R's past ends at 5 so inside
            msg(4, 4, 5, 1, 2, What::Delivered), // Q→R
            msg(5, 6, 7, 3, 2, What::Delivered), // S→R at 7: after R's event at 6
        ];
        let (frontier, inside) = causal_past(&records, 4, 2, 6);
        assert_eq!(frontier, vec![Some(2), Some(4), Some(6), Some(1)]);
        assert_eq!(inside, vec![true, true, true, true, false]);
    }

    #[test]
    fn chunks_round_trip() {
        let records = vec![
            msg(1, 5, 9, 0, 1, What::Delivered),
            Record { copy: true, ..msg(2, 5, 12, 0, 1, What::Delivered) },
            msg(3, 12, 12, 3, 2, What::Cut),
            Record { kind: FaultKind::Partition as u16, to: 1, ..mark(4, 13, 2) },
            Record { what: What::Fault, ..mark(4, 13, 2) },
            Record { id: 0, ..msg(9, 1, 14, 1, 0, What::Down) },
            Record { what: What::Span, t0: 2, kind: 3, id: 458_267, ..mark(10, 15, 2) },
            msg(11, 14, 16, 0, 1, What::Delivered),
        ];
        let chunk = Chunk::pack(&records);
        assert_eq!(chunk.unpack(), records);
        assert_eq!(chunk.len(), 8);
        // A damaged chunk gives the records before the damage.
        let mut cut = chunk.clone();
        cut.bytes.truncate(cut.bytes.len() - 1);
        assert_eq!(cut.unpack(), records[..7]);
    }
}
