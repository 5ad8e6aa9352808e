//! The page's copy of the space-time diagram: the records the worker sent,
//! in order, within a bounded window.
//!
//! The worker keeps none of them (its memory stays flat); the page keeps at
//! most [`KEPT`] records and says how many older ones it let go, so the
//! diagram never silently stops. Records are in the order they were made,
//! which is the order of their end times, so the ones on screen are found
//! by binary search and a window of any size is drawn in time proportional
//! to what is on screen.

use clusterscope_core::lab::diagram::{causal_past, Chunk, Record, What};
use clusterscope_core::sim::Time;
use std::cell::RefCell;
use std::rc::Rc;

/// Most records the page keeps.
pub const KEPT: usize = 400_000;

/// The records of the run on screen.
#[derive(Debug, Default)]
pub struct DiagramStore {
    /// Records, in the order they were made (non-decreasing end time).
    pub records: Vec<Record>,
    /// Timer and note names, by index.
    pub names: Vec<String>,
    /// Faults only (few), for the bands.
    pub faults: Vec<Record>,
    /// Records let go: older than the window, or never sent.
    pub dropped: u64,
    /// The longest message flight seen (bounds the search for arrows that
    /// start before the window and end inside it).
    pub longest: Time,
    /// The node and time of the event that broke an invariant.
    pub violation: Option<(u32, Time)>,
    /// The violation's causal past: per lane the latest time in it, and
    /// per record whether it is in it (computed once).
    pub past: Option<(Vec<Option<Time>>, Vec<bool>)>,
    /// Lanes (nodes).
    pub lanes: u32,
    /// An event the user asked "why?" about: its node and time. Its causal
    /// past is shown instead of the violation's.
    pub focus: Option<(u32, Time)>,
    /// The spans open at the run's time ([`What::Open`]), as the last chunk
    /// said: drawn from their start to now, they become records when they
    /// close.
    pub open: Vec<Record>,
    /// The message kinds the run has sent (by index in the lab's kinds),
    /// so that the filter offers only those: kinds a lab declares but
    /// whose configuration never sends are not listed.
    pub kinds_seen: std::collections::BTreeSet<u16>,
}

impl DiagramStore {
    /// Merges a chunk from the worker.
    pub fn apply(&mut self, chunk: &Chunk, lanes: u32) {
        self.lanes = lanes;
        if let Some(restart) = chunk.restart {
            let cut = self.records.partition_point(|r| r.seq < restart);
            self.records.truncate(cut);
            self.faults.retain(|r| r.seq < restart);
            if restart == 0 {
                self.kinds_seen.clear();
                self.dropped = 0;
                self.longest = 0;
                self.focus = None;
            }
            self.violation = None;
            self.past = None;
        }
        for (i, name) in chunk.names.iter().enumerate() {
            let at = chunk.names_from as usize + i;
            if at < self.names.len() {
                self.names[at] = name.clone();
            } else if at == self.names.len() {
                self.names.push(name.clone());
            }
        }
        self.dropped += chunk.skipped;
        self.open.clone_from(&chunk.open);
        let new = chunk.unpack();
        // After a fresh start, records numbered before the first one sent
        // were made while the diagram was hidden and are gone.
        if chunk.restart == Some(0) {
            self.dropped += new.first().map_or(0, |r| r.seq);
        }
        for r in &new {
            if r.what == What::Fault {
                self.faults.push(*r);
            }
            if r.what.is_message() || r.what == What::Span {
                self.longest = self.longest.max(r.t1 - r.t0);
            }
            if r.what.is_message() {
                self.kinds_seen.insert(r.kind);
            }
        }
        self.records.extend(new);
        if self.records.len() > KEPT {
            let extra = self.records.len() - KEPT / 10 * 9;
            self.records.drain(..extra);
            self.dropped += extra as u64;
            self.past = None;
        }
        if chunk.violation.is_some() && self.violation != chunk.violation {
            self.violation = chunk.violation;
            self.past = None;
        }
        if self.past.is_none() {
            self.refresh_past();
        }
    }

    /// Shows the causal past of an event (`None`: of the violation, if any).
    pub fn set_focus(&mut self, focus: Option<(u32, Time)>) {
        self.focus = focus;
        self.refresh_past();
    }

    fn refresh_past(&mut self) {
        self.past =
            self.focus.or(self.violation).map(|(node, at)| causal_past(&self.records, self.lanes as usize, node, at));
    }

    /// The index range of records that may show between `from` and `to`:
    /// every record ending at or after `from`, up to the first ending after
    /// `to + longest` (arrows and spans end at most `longest` after they
    /// start).
    pub fn visible(&self, from: Time, to: Time) -> std::ops::Range<usize> {
        let a = self.records.partition_point(|r| r.t1 < from);
        let limit = to.saturating_add(self.longest);
        let b = self.records.partition_point(|r| r.t1 <= limit);
        a..b.max(a)
    }

    /// Record `i` as drawn: one of [`DiagramStore::records`], or past
    /// them, one of the spans open (`records.len() + j` is open span `j`).
    pub fn get(&self, i: usize) -> Option<&Record> {
        self.records.get(i).or_else(|| self.open.get(i.checked_sub(self.records.len())?))
    }

    /// The time of the first record kept.
    pub fn first_time(&self) -> Option<Time> {
        self.records.first().map(|r| r.t0)
    }
}

/// A shared handle to the store: the state clones it cheaply on every
/// frame, and compares by identity (the version number says what changed).
#[derive(Clone, Debug, Default)]
pub struct Diagram(pub Rc<RefCell<DiagramStore>>);

impl PartialEq for Diagram {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(from: u64, n: u64) -> Chunk {
        let records: Vec<Record> = (from..from + n)
            .map(|i| Record { seq: i, t0: i, t1: i, from: 0, to: 0, kind: 0, what: What::Timer, copy: false, id: 0 })
            .collect();
        Chunk::pack(&records)
    }

    // docs/using.md, the diagram: "the page keeps the last 400,000 records
    // and says how many older ones it let go". Half a million records in
    // chunks of 50,000: never more than 400,000 held, the newest always
    // kept, the oldest let go and counted, none lost from the middle.
    #[test]
    fn the_page_keeps_the_last_400000_records_and_counts_the_rest() {
        let mut store = DiagramStore::default();
        for k in 0..10 {
            store.apply(&marks(k * 50_000, 50_000), 1);
            assert!(store.records.len() <= 400_000, "{} held", store.records.len());
            assert_eq!(store.records.last().map(|r| r.seq), Some(k * 50_000 + 49_999), "the newest is kept");
            assert_eq!(store.dropped + store.records.len() as u64, (k + 1) * 50_000, "every record held or counted");
        }
        assert!(store.dropped >= 100_000, "{} let go", store.dropped);
        assert_eq!(store.records.first().map(|r| r.seq), Some(store.dropped), "the oldest went first");
        assert!(store.records.windows(2).all(|w| w[1].seq == w[0].seq + 1), "none lost in the middle");
    }

    // The filter chips offer the message kinds the run has sent: a kind
    // counts once a message of it is drawn (delivered, lost, cut or sent
    // to a crashed node), a timer or note with the same index does not,
    // and a fresh start forgets them.
    #[test]
    fn the_filter_knows_which_message_kinds_the_run_sent() {
        let rec = |seq: u64, kind: u16, what: What| Record {
            seq,
            t0: seq,
            t1: seq + 1,
            from: 0,
            to: 1,
            kind,
            what,
            copy: false,
            id: seq,
        };
        let mut store = DiagramStore::default();
        store.apply(
            &Chunk::pack(&[
                rec(0, 2, What::Delivered),
                rec(1, 5, What::Lost),
                rec(2, 7, What::Timer),
                rec(3, 9, What::Note),
            ]),
            2,
        );
        assert_eq!(store.kinds_seen.iter().copied().collect::<Vec<_>>(), vec![2, 5]);
        store.apply(&Chunk::pack(&[rec(4, 3, What::Cut)]), 2);
        assert_eq!(store.kinds_seen.iter().copied().collect::<Vec<_>>(), vec![2, 3, 5]);
        let mut fresh = Chunk::pack(&[rec(0, 4, What::Down)]);
        fresh.restart = Some(0);
        store.apply(&fresh, 2);
        assert_eq!(store.kinds_seen.iter().copied().collect::<Vec<_>>(), vec![4], "a fresh start forgets");
    }
}
