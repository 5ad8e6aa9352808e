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
//! * **The heap**, for any event. Events stay put in a slab; the heap
//!   moves 24-byte keys (time, sequence, slot) rather than whole events
//!   (a profile showed heap moves dominating). It is a four-ary heap
//!   (`dary_heap`, the standard library's `BinaryHeap` with four children
//!   a node): half as many levels to sift through, the four children of a
//!   node in one or two cache lines, and fewer mispredicted comparisons
//!   (eight children were worse than two; docs/benchmarks.md, "A four-ary
//!   event heap"). What [`EventQueue::events`] lists comes in the heap's
//!   order, the same on every run.
//! * **The in-order lane**, a FIFO for items scheduled in order of their
//!   due time, such as timeouts that all wait the same duration: appending
//!   and taking the front cost O(1) instead of O(log n), and an item is
//!   of a type of its own (`L`), as small as the model can make it.
//!   [`EventQueue::schedule_in_order`] appends when the item is due no
//!   earlier than the lane's last one and otherwise turns it into an event
//!   and puts it in the heap, so the lane is always sorted.
//!
//! [`EventQueue::pop`] takes whichever lane's front is first by `(time,
//! sequence)`. One counter numbers the entries of both lanes, so the merged
//! order is exactly the order of a single queue: the lanes are a matter of
//! cost only. What comes out says which lane it waited in ([`Item`]), for
//! a model that treats the items of its fast lane more cheaply.

use super::time::Time;
use dary_heap::QuaternaryHeap;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::marker::PhantomData;

/// A heap entry: when, in which order, and where the event waits. It
/// names the event type only so that each model's queue gets a heap of its
/// own in the compiled code, which the compiler then inlines into that
/// model's event loop (one heap shared by every model was not inlined:
/// 2% more instructions in the load-balancing benchmark).
struct Key<E> {
    at: Time,
    seq: u64,
    /// A `u32`, held in 64 bits: with no padding in the key, the heap
    /// reads back whole the key it has just written (a 4-byte write read
    /// back as 8 bytes cannot be forwarded from the store buffer, and
    /// stalls every push).
    slot: u64,
    event: PhantomData<fn() -> E>,
}

impl<E> Clone for Key<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Key<E> {}

impl<E> Key<E> {
    /// Whether this key comes out before `o`. `(at, seq)` is unique, so
    /// two keys never tie and the slot never decides. Compared as one
    /// 128-bit number, which compiles to flag arithmetic rather than
    /// branches: which of two children comes first is a coin toss that a
    /// branch predictor gets wrong half the time.
    #[inline(always)]
    fn before(&self, o: &Key<E>) -> bool {
        let order = |k: &Key<E>| u128::from(k.at) << 64 | u128::from(k.seq);
        order(self) < order(o)
    }
}

// Reversed, as the heap is a max-heap and the earliest must come out
// first: a key is "greater" when it comes out before. The comparisons the
// heap makes (`<=`) are spelt out rather than derived from `cmp`, which
// costs more in the innermost loop of every run.
impl<E> Ord for Key<E> {
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

impl<E> PartialOrd for Key<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
    #[inline(always)]
    fn lt(&self, o: &Self) -> bool {
        o.before(self)
    }
    #[inline(always)]
    fn le(&self, o: &Self) -> bool {
        !self.before(o)
    }
    #[inline(always)]
    fn gt(&self, o: &Self) -> bool {
        self.before(o)
    }
    #[inline(always)]
    fn ge(&self, o: &Self) -> bool {
        !o.before(self)
    }
}

impl<E> PartialEq for Key<E> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}

impl<E> Eq for Key<E> {}

impl<E> std::fmt::Debug for Key<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key {{ at: {}, seq: {}, slot: {} }}", self.at, self.seq, self.slot)
    }
}

/// What waited in the queue, as it waited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item<E, L = E> {
    /// An event from the heap ([`EventQueue::schedule`], or an
    /// out-of-order [`EventQueue::schedule_in_order`]).
    Heap(E),
    /// An item from the in-order lane ([`EventQueue::schedule_in_order`]).
    InOrder(L),
}

impl<E> Item<E, E> {
    /// The event, whichever lane it waited in.
    pub fn into_inner(self) -> E {
        match self {
            Item::Heap(e) | Item::InOrder(e) => e,
        }
    }
}

/// What the queue gives out: when it was due, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due<E, L = E> {
    /// When it is due.
    pub at: Time,
    /// The event or lane item.
    pub item: Item<E, L>,
}

/// Events of type `E`, each due at a virtual time, taken in order of
/// `(time, sequence)`; `L` is what the in-order lane holds (by default
/// events too), turned into an event when it cannot wait there.
#[derive(Clone, Debug)]
pub struct EventQueue<E, L = E> {
    /// The last sequence number handed out (the first event gets 1).
    seq: u64,
    heap: QuaternaryHeap<Key<E>>,
    /// The heap's events, indexed by `Key::slot`; `free` lists empty slots.
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    /// The in-order lane: (due, sequence, item), sorted by both.
    lane: VecDeque<(Time, u64, L)>,
}

impl<E, L: Into<E>> Default for EventQueue<E, L> {
    fn default() -> Self {
        EventQueue::new()
    }
}

impl<E, L: Into<E>> EventQueue<E, L> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue { seq: 0, heap: QuaternaryHeap::new(), slab: Vec::new(), free: Vec::new(), lane: VecDeque::new() }
    }

    /// Schedules `event` at time `at`, after every event already scheduled
    /// for the same time.
    #[inline]
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
        self.heap.push(Key { at, seq: self.seq, slot: u64::from(slot), event: PhantomData });
    }

    /// Schedules `item` at time `at`, at the same place in the order as
    /// [`EventQueue::schedule`] would: in the in-order lane when it is due
    /// no earlier than the lane's last item, else as an event in the heap.
    #[inline]
    pub fn schedule_in_order(&mut self, at: Time, item: L) {
        if self.lane.back().is_none_or(|last| last.0 <= at) {
            self.seq += 1;
            self.lane.push_back((at, self.seq, item));
        } else {
            self.schedule(at, item.into());
        }
    }

    /// Whether the in-order lane's front comes before the heap's top.
    #[inline]
    fn lane_first(&self) -> bool {
        match (self.heap.peek(), self.lane.front()) {
            (Some(h), Some(&(at, seq, _))) => Key { at, seq, slot: 0, event: PhantomData }.before(h),
            (None, Some(_)) => true,
            (_, None) => false,
        }
    }

    /// Takes the first event or lane item by `(time, sequence)`, if any.
    #[inline]
    pub fn pop(&mut self) -> Option<Due<E, L>> {
        if self.lane_first() {
            let (at, _, item) = self.lane.pop_front()?;
            debug_assert!(self.lane.front().is_none_or(|next| next.0 >= at), "the in-order lane stays sorted");
            return Some(Due { at, item: Item::InOrder(item) });
        }
        let Key { at, slot, .. } = self.heap.pop()?;
        self.free.push(slot as u32);
        let event = self.slab[slot as usize].take().expect("a heap key points at a queued event");
        Some(Due { at, item: Item::Heap(event) })
    }

    /// When the first event is due, if any.
    #[inline]
    pub fn next_time(&self) -> Option<Time> {
        let heap = self.heap.peek().map(|k| k.at);
        let lane = self.lane.front().map(|e| e.0);
        match (heap, lane) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Every event in the heap with its due time, in no particular order
    /// (but the same order on every run). The in-order lane's items are
    /// [`EventQueue::in_order`].
    pub fn events(&self) -> impl Iterator<Item = (Time, &E)> {
        self.heap.iter().filter_map(|k| Some((k.at, self.slab.get(k.slot as usize)?.as_ref()?)))
    }

    /// Every item in the in-order lane with its due time, earliest first.
    pub fn in_order(&self) -> impl Iterator<Item = (Time, &L)> {
        self.lane.iter().map(|(at, _, item)| (*at, item))
    }

    /// How many events and lane items are queued.
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
            + self.heap.capacity() * size_of::<Key<E>>()
            + self.free.capacity() * size_of::<u32>()
            + self.lane.capacity() * size_of::<(Time, u64, L)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything in the queue, in the order it comes out.
    fn drain<E, L: Into<E>>(q: &mut EventQueue<E, L>) -> Vec<(Time, Item<E, L>)> {
        std::iter::from_fn(|| q.pop().map(|d| (d.at, d.item))).collect()
    }

    // DESIGN.md, "Events ordered by (time, sequence) so ties are stable":
    // events due at the same time come out in the order they were scheduled.
    #[test]
    fn ties_come_out_in_scheduling_order() {
        let mut q = EventQueue::<&str>::new();
        for (at, name) in [(5, "a"), (3, "b"), (5, "c"), (3, "d"), (5, "e"), (0, "f")] {
            q.schedule(at, name);
        }
        let order: Vec<&str> = drain(&mut q).into_iter().map(|(_, e)| e.into_inner()).collect();
        assert_eq!(order, ["f", "b", "d", "a", "c", "e"]);
    }

    // The in-order lane changes cost, not order: the same events scheduled
    // through either method come out in the same order, ties included.
    #[test]
    fn the_in_order_lane_keeps_the_order_of_one_queue() {
        let mut rng = crate::sim::Rng::stream(7, crate::sim::StreamKind::Lab, 0);
        let (mut one, mut two) = (EventQueue::<u32>::new(), EventQueue::<u32>::new());
        let mut popped = (Vec::new(), Vec::new());
        for i in 0..5_000u32 {
            let at = rng.range(0, 50);
            if rng.chance_ppm(300_000) {
                popped.0.extend(one.pop().map(|d| (d.at, d.item.into_inner())));
                popped.1.extend(two.pop().map(|d| (d.at, d.item.into_inner())));
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
        popped.0.extend(drain(&mut one).into_iter().map(|(at, e)| (at, e.into_inner())));
        popped.1.extend(drain(&mut two).into_iter().map(|(at, e)| (at, e.into_inner())));
        assert_eq!(popped.0, popped.1);
        assert!(one.is_empty() && two.is_empty());
    }

    // A lane item due before the lane's last one becomes an event in the
    // heap, and each comes out saying which lane it waited in.
    #[test]
    fn an_out_of_order_item_waits_in_the_heap_as_an_event() {
        #[derive(Debug, PartialEq)]
        struct Small(u8);
        impl From<Small> for String {
            fn from(s: Small) -> String {
                format!("small {}", s.0)
            }
        }
        let mut q = EventQueue::<String, Small>::new();
        q.schedule_in_order(10, Small(1));
        q.schedule_in_order(4, Small(2));
        q.schedule(10, "big".to_string());
        assert_eq!((q.events().count(), q.in_order().count(), q.len()), (2, 1, 3));
        assert_eq!(
            drain(&mut q),
            [
                (4, Item::Heap("small 2".to_string())),
                (10, Item::InOrder(Small(1))),
                (10, Item::Heap("big".to_string()))
            ]
        );
        assert_eq!(q.next_time(), None);
    }

    // What a model draws from (`events`: messages on the wire, requests in
    // flight) is every queued event once, and two queues given the same
    // events in the same order list them in the same order: a frame drawn
    // live and one drawn after a replay are the same (DESIGN.md,
    // "Determinism").
    #[test]
    fn events_lists_every_queued_event_once_in_the_same_order_on_every_run() {
        let mut rng = crate::sim::Rng::stream(11, crate::sim::StreamKind::Lab, 0);
        let (mut q, mut again) = (EventQueue::<u64>::new(), EventQueue::<u64>::new());
        let mut queued = std::collections::BTreeSet::new();
        for seq in 0..20_000u64 {
            if rng.chance_ppm(450_000) {
                let d = q.pop().map(|d| (d.at, d.item.into_inner()));
                assert_eq!(d, again.pop().map(|d| (d.at, d.item.into_inner())));
                if let Some((at, e)) = d {
                    assert_eq!(queued.first(), Some(&(at, e)), "the earliest comes out first");
                    queued.remove(&(at, e));
                }
            } else {
                let at = rng.range(0, 1_000);
                q.schedule(at, seq);
                again.schedule(at, seq);
                queued.insert((at, seq));
            }
            let ours: Vec<(Time, u64)> = q.events().map(|(at, e)| (at, *e)).collect();
            assert_eq!(ours, again.events().map(|(at, e)| (at, *e)).collect::<Vec<_>>());
            let mut sorted = ours.clone();
            sorted.sort_unstable();
            assert!(sorted.iter().eq(queued.iter()), "every queued event, once");
        }
    }
}
