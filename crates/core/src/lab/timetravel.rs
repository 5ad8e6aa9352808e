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
}
