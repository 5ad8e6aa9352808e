//! The timed event queue every model runs on.
//!
//! Events wait in one queue ordered by `(time, sequence)`. The sequence
//! number is handed out when an event is scheduled, so events due at the
//! same instant come out in the order they were scheduled: ties break the
//! same way on every run and platform, and nothing depends on where an
//! event happens to sit in memory. The queue is generic over the event
//! type: the simulator's message deliveries, timers and client events
//! ([`Sim`](super::Sim)) and the load-balancing model's arrivals, service
//! completions, answers and timeouts ([`Balance`](crate::balance::Balance))
//! all wait here.
//!
//! Two lanes hold the events, and neither changes the order:
//!
//! * **The heap**, for any event. Events stay put in a slab; the binary
//!   heap moves 24-byte keys (time, sequence, slot) rather than whole
//!   events (a profile showed heap moves dominating).
//! * **The in-order lane**, a FIFO for events scheduled in order of their
//!   due time, such as timeouts that all wait the same duration: appending
//!   and taking the front cost O(1) instead of O(log n).
//!   [`EventQueue::schedule_in_order`] appends when the event is due no
//!   earlier than the lane's last one and otherwise falls back to the heap,
//!   so the lane is always sorted.
//!
//! [`EventQueue::pop`] takes whichever lane's front is first by `(time,
//! sequence)`. One counter numbers the events of both lanes, so the merged
//! order is exactly the order of a single queue: the lanes are a matter of
//! cost only. The lane an event came from is reported with it, for a model
//! that treats the events of its fast lane more cheaply.

use super::time::Time;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// A heap entry: when, in which order, and where the event waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    at: Time,
    seq: u64,
    slot: u32,
}

impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Key {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    // (at, seq) is unique, so the slot never decides.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// Which lane an event waited in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// The heap ([`EventQueue::schedule`], or an out-of-order
    /// [`EventQueue::schedule_in_order`]).
    Heap,
    /// The in-order lane ([`EventQueue::schedule_in_order`]).
    InOrder,
}

/// An event taken from the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due<E> {
    /// When it is due.
    pub at: Time,
    /// The event.
    pub event: E,
    /// The lane it waited in.
    pub lane: Lane,
}

/// Events of type `E`, each due at a virtual time, taken in order of
/// `(time, sequence)`.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    /// The last sequence number handed out (the first event gets 1).
    seq: u64,
    heap: BinaryHeap<Key>,
    /// The heap's events, indexed by `Key::slot`; `free` lists empty slots.
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    /// The in-order lane: (due, sequence, event), sorted by both.
    lane: VecDeque<(Time, u64, E)>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue { seq: 0, heap: BinaryHeap::new(), slab: Vec::new(), free: Vec::new(), lane: VecDeque::new() }
    }

    /// Schedules `event` at time `at`, after every event already scheduled
    /// for the same time.
    pub fn schedule(&mut self, at: Time, event: E) {
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot as usize] = Some(event);
                slot
            }
            None => {
                let slot = u32::try_from(self.slab.len()).expect("fewer than 2^32 events queued at once");
                self.slab.push(Some(event));
                slot
            }
        };
        self.heap.push(Key { at, seq: self.seq, slot });
    }

    /// Schedules `event` at time `at` like [`EventQueue::schedule`] (the
    /// same place in the order), in the in-order lane when it is due no
    /// earlier than the lane's last event, else in the heap.
    pub fn schedule_in_order(&mut self, at: Time, event: E) {
        if self.lane.back().is_none_or(|last| last.0 <= at) {
            self.seq += 1;
            self.lane.push_back((at, self.seq, event));
        } else {
            self.schedule(at, event);
        }
    }

    /// Whether the in-order lane's front comes before the heap's top.
    fn lane_first(&self) -> bool {
        match (self.heap.peek(), self.lane.front()) {
            (Some(h), Some((at, seq, _))) => (*at, *seq) < (h.at, h.seq),
            (None, Some(_)) => true,
            (_, None) => false,
        }
    }

    /// Takes the first event by `(time, sequence)`, if any.
    pub fn pop(&mut self) -> Option<Due<E>> {
        if self.lane_first() {
            let (at, _, event) = self.lane.pop_front()?;
            debug_assert!(self.lane.front().is_none_or(|next| next.0 >= at), "the in-order lane stays sorted");
            return Some(Due { at, event, lane: Lane::InOrder });
        }
        let Key { at, slot, .. } = self.heap.pop()?;
        self.free.push(slot);
        let event = self.slab[slot as usize].take().expect("a heap key points at a queued event");
        Some(Due { at, event, lane: Lane::Heap })
    }

    /// When the first event is due, if any.
    pub fn next_time(&self) -> Option<Time> {
        let heap = self.heap.peek().map(|k| k.at);
        let lane = self.lane.front().map(|e| e.0);
        match (heap, lane) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Every queued event with its due time, in no particular order (but
    /// the same order on every run): the heap's, then the lane's.
    pub fn iter(&self) -> impl Iterator<Item = (Time, &E)> {
        let heap = self.heap.iter().filter_map(|k| Some((k.at, self.slab.get(k.slot as usize)?.as_ref()?)));
        heap.chain(self.lane.iter().map(|(at, _, e)| (*at, e)))
    }

    /// How many events are queued.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lane.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.lane.is_empty()
    }

    /// About how many bytes the queue holds (what a copy costs).
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        self.slab.capacity() * size_of::<Option<E>>()
            + self.heap.capacity() * size_of::<Key>()
            + self.free.capacity() * size_of::<u32>()
            + self.lane.capacity() * size_of::<(Time, u64, E)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain<E>(q: &mut EventQueue<E>) -> Vec<(Time, E, Lane)> {
        std::iter::from_fn(|| q.pop().map(|d| (d.at, d.event, d.lane))).collect()
    }

    // DESIGN.md, "Events ordered by (time, sequence) so ties are stable":
    // events due at the same time come out in the order they were scheduled.
    #[test]
    fn ties_come_out_in_scheduling_order() {
        let mut q = EventQueue::new();
        for (at, name) in [(5, "a"), (3, "b"), (5, "c"), (3, "d"), (5, "e"), (0, "f")] {
            q.schedule(at, name);
        }
        let order: Vec<&str> = drain(&mut q).into_iter().map(|(_, e, _)| e).collect();
        assert_eq!(order, ["f", "b", "d", "a", "c", "e"]);
    }

    // The in-order lane changes cost, not order: the same events scheduled
    // through either method come out in the same order, ties included.
    #[test]
    fn the_in_order_lane_keeps_the_order_of_one_queue() {
        let mut rng = crate::sim::Rng::stream(7, crate::sim::StreamKind::Lab, 0);
        let (mut one, mut two) = (EventQueue::new(), EventQueue::new());
        let mut popped = (Vec::new(), Vec::new());
        for i in 0..5_000u32 {
            let at = rng.range(0, 50);
            if rng.chance_ppm(300_000) {
                popped.0.extend(one.pop().map(|d| (d.at, d.event)));
                popped.1.extend(two.pop().map(|d| (d.at, d.event)));
            } else if rng.chance_ppm(500_000) {
                one.schedule(at, i);
                two.schedule(at, i);
            } else {
                // A timeout of a fixed length from a clock that goes on.
                let at = u64::from(i) / 10 + rng.range(0, 2);
                one.schedule(at, i);
                two.schedule_in_order(at, i);
            }
            assert_eq!(one.next_time(), two.next_time());
            assert_eq!(one.len(), two.len());
        }
        popped.0.extend(drain(&mut one).into_iter().map(|(at, e, _)| (at, e)));
        popped.1.extend(drain(&mut two).into_iter().map(|(at, e, _)| (at, e)));
        assert_eq!(popped.0, popped.1);
        assert!(one.is_empty() && two.is_empty());
    }

    // An event due before the lane's last one goes to the heap, and each
    // comes out saying which lane it waited in.
    #[test]
    fn an_out_of_order_event_waits_in_the_heap() {
        let mut q = EventQueue::new();
        q.schedule_in_order(10, "late");
        q.schedule_in_order(4, "early");
        q.schedule(10, "heap");
        assert_eq!(q.iter().count(), 3);
        assert_eq!(drain(&mut q), [(4, "early", Lane::Heap), (10, "late", Lane::InOrder), (10, "heap", Lane::Heap)]);
        assert_eq!(q.next_time(), None);
    }
}
