//! Timer jitter: real servers' timers fire a little late, by a different
//! amount each time.
//!
//! A timer on a real machine does not fire at the instant it was asked
//! for: the scheduler runs the process late, a garbage collection or a
//! disk write holds it up, and the server acts a few milliseconds after
//! its deadline, by an amount that changes from one timer to the next and
//! from one server to another. With exact timers, two servers whose
//! timeouts differ by less than a message's delay stay in step for as
//! long as their random draws leave them there; the noise of real
//! machines separates them sooner.
//!
//! [`TimerJitter`] models that noise: each server has its own, drawing
//! from its own seeded stream ([`StreamKind::Jitter`], one per server), and
//! every timer the server arms fires late by a uniform `0..=max`
//! microseconds. Timers never fire early: noise delays a deadline, it does
//! not advance it. With `max` 0 (the default) the jitter holds no stream
//! and draws nothing, so a run without jitter is bit for bit the run it
//! was before jitter existed; and because the stream is the server's own,
//! turning jitter on leaves every other draw of the run (the protocol's
//! own randomised timeouts, the links, the workload) unchanged.

use super::rng::{Rng, StreamKind};
use super::time::Time;

/// One server's timer jitter: how late each of its timers fires.
#[derive(Clone, Debug)]
pub struct TimerJitter {
    /// The server's own stream and the largest delay, or `None` when
    /// jitter is off (then nothing is ever drawn).
    draw: Option<(Rng, Time)>,
}

impl TimerJitter {
    /// The jitter of server `node` in a run with `seed`: each timer late by
    /// a uniform `0..=max` microseconds; `max` 0 turns it off.
    pub fn new(seed: u64, node: u32, max: Time) -> TimerJitter {
        let draw = (max > 0).then(|| (Rng::stream(seed, StreamKind::Jitter, u64::from(node)), max));
        TimerJitter { draw }
    }

    /// How late the next timer fires: a fresh uniform draw in `0..=max`,
    /// or exactly 0 (with no draw) when jitter is off.
    pub fn next_delay(&mut self) -> Time {
        match &mut self.draw {
            Some((rng, max)) => rng.range(0, *max),
            None => 0,
        }
    }

    /// The largest delay (0: off).
    pub fn max(&self) -> Time {
        self.draw.as_ref().map_or(0, |(_, max)| *max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Off means off: no draw, every delay exactly 0.
    #[test]
    fn off_draws_nothing() {
        let mut j = TimerJitter::new(7, 0, 0);
        assert!(j.draw.is_none());
        assert!((0..100).all(|_| j.next_delay() == 0));
    }

    // On: uniform in 0..=max, the same sequence for the same seed and
    // server, another for another server.
    #[test]
    fn on_is_bounded_seeded_and_per_server() {
        let seq = |node| {
            let mut j = TimerJitter::new(7, node, 15_000);
            (0..1_000).map(|_| j.next_delay()).collect::<Vec<_>>()
        };
        let a = seq(0);
        assert!(a.iter().all(|&d| d <= 15_000));
        let mean = a.iter().sum::<u64>() as f64 / a.len() as f64;
        assert!((mean - 7_500.0).abs() < 600.0, "mean {mean}");
        assert_eq!(a, seq(0));
        assert_ne!(a, seq(1));
    }
}
