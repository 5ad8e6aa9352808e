//! Which snapshots of a run to keep for time travel.
//!
//! Seeking back is a replay from the nearest earlier snapshot (the lab is
//! `Clone`), so snapshots trade memory for seek time. Recent moments are
//! revisited most, so snapshots are dense near now and thin out with age:
//! a snapshot of age `a` is kept only if its second is a multiple of the
//! spacing for that age, the largest power of two not above
//! `a / (AGE_SPACING s)` (at least one second). Each doubling of age thus
//! keeps about `AGE_SPACING` snapshots: a run of length `T` keeps about
//! `AGE_SPACING * (1 + log2(T / AGE_SPACING s))` (about 110 for an hour),
//! and a seek to a moment of age `a` replays at most `a / AGE_SPACING`.
//! Memory grows with the log of the run's length, seek time with the
//! distance travelled.
//!
//! [`Snapshots`] is the store the worker keeps: it takes one a virtual
//! second, thins them by age ([`keep`]) and within a count and a byte
//! budget, and picks the nearest to start a replay from. It holds any
//! value beside a [`Stamp`] (when, where and how big), so it is tested
//! here without a lab.

use crate::sim::{Time, SEC};

/// Snapshots kept per doubling of age (see the module doc).
pub const AGE_SPACING: u64 = 12;
/// The closest two snapshots may be.
pub const MIN_GAP: Time = SEC;

/// The spacing, in seconds, of snapshots of age `age`.
fn spacing(age: Time) -> u64 {
    let r = (age / (AGE_SPACING * MIN_GAP)).max(1);
    1 << (63 - r.leading_zeros())
}

/// Which of the snapshots taken at `times` (ascending) to keep at time
/// `now`: the first (the run's start) and the newest always, the others
/// by their age.
pub fn keep(times: &[Time], now: Time) -> Vec<bool> {
    let n = times.len();
    times
        .iter()
        .enumerate()
        .map(|(i, &t)| i == 0 || i + 1 == n || (t / MIN_GAP).is_multiple_of(spacing(now.saturating_sub(t))))
        .collect()
}

/// When to take snapshots of a run opened at `horizon` (besides its
/// start), spaced as playing up to there would have left them.
pub fn plan(horizon: Time) -> Vec<Time> {
    let mut times: Vec<Time> = (1..=horizon / MIN_GAP)
        .map(|k| k * MIN_GAP)
        .filter(|&t| (t / MIN_GAP).is_multiple_of(spacing(horizon - t)))
        .collect();
    if horizon >= MIN_GAP && times.last() != Some(&horizon) {
        times.push(horizon);
    }
    times
}

/// Most snapshots a [`Snapshots`] store keeps.
pub const MAX_SNAPSHOTS: usize = 128;
/// Most bytes the snapshots of a [`Snapshots`] store may hold together (as
/// the labs estimate them).
pub const SNAPSHOT_BYTES: usize = 48 << 20;

/// What the store knows of a snapshot without opening it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The virtual time it was taken at.
    pub time: Time,
    /// Its position: events processed plus actions applied.
    pub position: u64,
    /// What it holds, as the lab estimates it.
    pub bytes: usize,
}

/// Snapshots of one run for time travel, oldest first: dense near now,
/// thinned with age ([`keep`]), within a count and a byte budget.
#[derive(Clone, Debug)]
pub struct Snapshots<S> {
    kept: Vec<(Stamp, S)>,
    max_count: usize,
    max_bytes: usize,
}

impl<S> Default for Snapshots<S> {
    fn default() -> Self {
        Snapshots::with_budget(MAX_SNAPSHOTS, SNAPSHOT_BYTES)
    }
}

impl<S> Snapshots<S> {
    /// An empty store that keeps at most `max_count` snapshots and
    /// `max_bytes` bytes (the first and the newest stay regardless).
    pub fn with_budget(max_count: usize, max_bytes: usize) -> Self {
        Snapshots { kept: Vec::new(), max_count, max_bytes }
    }

    /// A store holding only `first` (the run's start), with the default
    /// budget.
    pub fn starting(stamp: Stamp, first: S) -> Self {
        let mut store = Snapshots::default();
        store.push(stamp, first);
        store
    }

    /// Whether a snapshot is due at `now`: one a virtual second, the first
    /// in a new second.
    pub fn due(&self, now: Time) -> bool {
        let last = self.kept.last().map_or(0, |(s, _)| s.time);
        now / SEC > last / SEC
    }

    /// Adds the newest snapshot (taken at or after every one held); see
    /// [`Snapshots::thin`].
    pub fn push(&mut self, stamp: Stamp, snapshot: S) {
        debug_assert!(self.kept.last().is_none_or(|(s, _)| s.time <= stamp.time), "snapshots are added in time order");
        self.kept.push((stamp, snapshot));
    }

    /// Keeps the snapshots within their budget at time `now`: spaced
    /// further apart the older they are ([`keep`]); then, while over the
    /// count or the bytes, every other of the older half goes (until a pass
    /// drops nothing, at four or five). The first (the start) and the
    /// newest stay.
    pub fn thin(&mut self, now: Time) {
        let times: Vec<Time> = self.kept.iter().map(|(s, _)| s.time).collect();
        let mut keep = keep(&times, now).into_iter();
        self.kept.retain(|_| keep.next().unwrap_or(true));
        while self.kept.len() > 3 && (self.kept.len() > self.max_count || self.bytes() > self.max_bytes) {
            let (before, half) = (self.kept.len(), self.kept.len() / 2);
            let mut i = 0;
            self.kept.retain(|_| {
                i += 1;
                i == 1 || i > half || i % 2 == 0
            });
            // Four or five have no odd one in the older half but the first:
            // the pass drops nothing, and the store stays over budget.
            if self.kept.len() == before {
                break;
            }
        }
    }

    /// Drops the snapshots taken after `t` (the run changed from there on).
    pub fn forget_after(&mut self, t: Time) {
        self.kept.retain(|(s, _)| s.time <= t);
    }

    /// The latest snapshot taken at or before time `t`: where a seek to
    /// `t` replays from.
    pub fn nearest_at(&self, t: Time) -> Option<&S> {
        self.latest(|s| s.time <= t)
    }

    /// The latest snapshot taken strictly before time `t`.
    pub fn nearest_before(&self, t: Time) -> Option<&S> {
        self.latest(|s| s.time < t)
    }

    /// The latest snapshot at or before `position`: where a step back to
    /// it replays from.
    pub fn nearest_at_position(&self, position: u64) -> Option<&S> {
        self.latest(|s| s.position <= position)
    }

    fn latest(&self, fits: impl Fn(&Stamp) -> bool) -> Option<&S> {
        self.kept.iter().rev().find(|(s, _)| fits(s)).map(|(_, v)| v)
    }

    /// How many are held.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The bytes they hold together, as the labs estimate them.
    pub fn bytes(&self) -> usize {
        self.kept.iter().map(|(s, _)| s.bytes).sum()
    }

    /// Their stamps, oldest first.
    pub fn stamps(&self) -> impl Iterator<Item = &Stamp> {
        self.kept.iter().map(|(s, _)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Playing for an hour, a snapshot every second, thinned after each:
    /// the count stays logarithmic, the start and now are kept, and every
    /// moment has a snapshot at most a sixteenth of its age (or 2 s) before it.
    #[test]
    fn an_hour_of_play_keeps_about_a_hundred_and_ten() {
        let mut times: Vec<Time> = vec![0];
        let mut most = 0;
        for s in 1..=3600u64 {
            let now = s * SEC;
            times.push(now);
            let k = keep(&times, now);
            times = times.iter().zip(&k).filter(|(_, k)| **k).map(|(t, _)| *t).collect();
            most = most.max(times.len());
        }
        let now = 3600 * SEC;
        assert!(most <= 120, "kept {most}");
        assert_eq!(times.first(), Some(&0));
        assert_eq!(times.last(), Some(&now));
        for target in (0..3600).map(|s| s * SEC) {
            let base = times.iter().rev().find(|t| **t <= target).unwrap();
            let age = now - target;
            // The gap g before a moment of age a obeys g <= (a + g) / AGE_SPACING.
            assert!(target - base <= SEC.max(age / (AGE_SPACING - 1)), "{target}: from {base}");
        }
    }

    #[test]
    fn opening_a_run_plans_the_same_spacing() {
        let times = plan(3600 * SEC);
        assert!(times.len() <= 120 && times.len() > 50, "{}", times.len());
        assert_eq!(times.last(), Some(&(3600 * SEC)));
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        // Nothing to thin: the plan already has the spacing play leaves.
        let mut all = vec![0];
        all.extend(&times);
        assert!(keep(&all, 3600 * SEC).iter().all(|k| *k));
        assert!(plan(0).is_empty() && plan(SEC) == vec![SEC]);
        assert_eq!(plan(SEC + 500), vec![SEC, SEC + 500]);
    }

    /// A stamp for a snapshot taken at second `s`, `bytes` big, at
    /// position `10 * s`.
    fn at(s: u64, bytes: usize) -> Stamp {
        Stamp { time: s * SEC, position: 10 * s, bytes }
    }

    /// The store thins exactly as `keep` says: an hour of play, one
    /// snapshot a second as the worker takes them, keeps what the plain
    /// list of times above keeps.
    #[test]
    fn the_store_thins_by_age_as_keep_says() {
        let mut store = Snapshots::starting(at(0, 1), 0u64);
        let mut times: Vec<Time> = vec![0];
        for s in 1..=3600u64 {
            let now = s * SEC;
            assert!(store.due(now) && !store.due(now - 1));
            store.push(at(s, 1), s);
            store.thin(now);
            times.push(now);
            let k = keep(&times, now);
            times = times.iter().zip(&k).filter(|(_, k)| **k).map(|(t, _)| *t).collect();
            assert_eq!(store.stamps().map(|s| s.time).collect::<Vec<_>>(), times, "at {s} s");
        }
        assert!(!store.due(3600 * SEC + SEC - 1), "one a second");
    }

    /// Over the count or the byte budget, every other of the older half
    /// goes until it fits; the start and the newest stay.
    #[test]
    fn the_store_stays_within_its_budget() {
        let mut by_count = Snapshots::with_budget(8, usize::MAX);
        let mut by_bytes = Snapshots::with_budget(usize::MAX, 100);
        for s in 0..40u64 {
            by_count.push(at(s, 1), s);
            by_bytes.push(at(s, 10), s);
            // Thinned at the start of the run, so age alone keeps them all.
            by_count.thin(0);
            by_bytes.thin(0);
            assert!(by_count.len() <= 8, "{} kept", by_count.len());
            assert!(by_bytes.bytes() <= 100, "{} bytes kept", by_bytes.bytes());
            for store in [&by_count, &by_bytes] {
                assert_eq!(store.nearest_at(0), Some(&0), "the start stays");
                assert_eq!(store.nearest_at(s * SEC), Some(&s), "the newest stays");
            }
        }
    }

    /// The store the worker opens (`Snapshots::starting`, docs/using.md
    /// "Memory that stays flat": "at most 128 and at most 48 MiB"): held
    /// at 0 s so that age thins nothing, it fills up to exactly 128 small
    /// snapshots, or exactly 48 MiB of 1 MiB ones, and never holds more.
    #[test]
    fn the_worker_store_keeps_at_most_128_snapshots_and_48_mib() {
        const MIB: usize = 1 << 20;
        for (bytes, what) in [(1, "count"), (MIB, "bytes")] {
            let mut store = Snapshots::starting(at(0, bytes), 0u64);
            let (mut most, mut most_bytes) = (0, 0);
            for s in 1..400u64 {
                store.push(at(s, bytes), s);
                store.thin(0);
                most = most.max(store.len());
                most_bytes = most_bytes.max(store.bytes());
                assert!(
                    store.len() <= 128 && store.bytes() <= 48 * MIB,
                    "{what}: {} kept, {} bytes",
                    store.len(),
                    store.bytes()
                );
            }
            let limit = if bytes == 1 { (most, 128) } else { (most_bytes, 48 * MIB) };
            assert_eq!(limit.0, limit.1, "the {what} budget is reached, not a smaller one");
        }
    }

    /// Snapshots bigger than the whole budget: thinning stops at five
    /// (where a pass of the rule drops nothing) instead of going round for ever.
    #[test]
    fn thinning_stops_when_a_pass_drops_nothing() {
        let mut store = Snapshots::with_budget(0, 0);
        (0..10).for_each(|s| store.push(at(s, 1000), s));
        store.thin(0);
        assert_eq!(store.stamps().map(|s| s.time / SEC).collect::<Vec<_>>(), vec![0, 1, 7, 8, 9]);
    }

    /// A seek replays from the latest snapshot at or before its target; a
    /// step back from the latest at or before the position before.
    #[test]
    fn the_nearest_snapshot_is_the_latest_not_past_the_target() {
        let mut store = Snapshots::with_budget(usize::MAX, usize::MAX);
        [0, 2, 5, 9].into_iter().for_each(|s| store.push(at(s, 1), s));
        assert_eq!(store.nearest_at(5 * SEC), Some(&5));
        assert_eq!(store.nearest_at(5 * SEC - 1), Some(&2));
        assert_eq!(store.nearest_before(5 * SEC), Some(&2));
        assert_eq!(store.nearest_before(0), None);
        assert_eq!(store.nearest_at(100 * SEC), Some(&9));
        assert_eq!(store.nearest_at_position(50), Some(&5));
        assert_eq!(store.nearest_at_position(49), Some(&2));
        // An action at 5 s changes the run from there: later ones go.
        store.forget_after(5 * SEC);
        assert_eq!(store.nearest_at(100 * SEC), Some(&5));
        assert_eq!(store.len(), 3);
        assert!(!Snapshots::<u8>::default().due(0) && Snapshots::<u8>::default().is_empty());
    }
}
