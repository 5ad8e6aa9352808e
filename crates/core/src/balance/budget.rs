//! The retry budget: retries allowed as a share of the requests made
//! recently, not of every request ever made.
//!
//! The rule is Finagle's `RetryBudget` (com.twitter.finagle.service,
//! `RetryBudget.apply(ttl, minRetriesPerSec, percentCanRetry)`, described
//! in Finagle's "Retry budgets" post of 2016 and its Clients guide): each
//! request *deposits* `percentCanRetry` of a token, each retry *withdraws*
//! one, and a deposit expires after `ttl` (default 10 s), so a calm hour
//! does not bank retries for the next storm. Finagle keeps the deposits in
//! a leaky bucket (`TokenBucket.newLeakyBucket`) over a `WindowedAdder` of
//! ten slices of `ttl / 10`: deposits and withdrawals both go into the
//! current slice, the whole slice leaves the window once it is `ttl` old,
//! and a retry is allowed while the window's sum holds a whole token. This
//! module does the same, in integer parts per million so that the sum is
//! exact natively and in wasm. Finagle also keeps a reserve of
//! `minRetriesPerSec` that never expires; here that reserve is zero (the
//! lab's one setting is the share, `retry_budget`), so with no requests
//! lately there is no retry.
//!
//! A consequence a test checks (`tests/balance_rules.rs`): over any window
//! of `ttl`, retries are at most the share times the requests made in it
//! (give or take one slice of requests), however many requests came before.

use crate::sim::{Time, SEC};

/// How long a deposit counts: Finagle's default `ttl`.
pub const TTL: Time = 10 * SEC;
/// Slices the window is cut into (Finagle's `WindowedAdder` uses ten).
pub const SLICES: usize = 10;
/// One token (one retry), in parts per million.
const TOKEN: i64 = 1_000_000;

/// The deposits and withdrawals of the last [`TTL`], by slice.
#[derive(Clone, Debug, Default)]
pub struct RetryBudget {
    /// Net parts per million put in during each slice, in a ring.
    slices: [i64; SLICES],
    /// The number of the slice `slices[number % SLICES]` holds last
    /// written (time / slice length).
    current: u64,
}

impl RetryBudget {
    /// An empty budget.
    pub fn new() -> RetryBudget {
        RetryBudget::default()
    }

    fn slice_len() -> Time {
        TTL / SLICES as Time
    }

    /// Moves the window to `now`: slices older than [`TTL`] are emptied.
    fn advance(&mut self, now: Time) {
        let n = now / Self::slice_len();
        if n <= self.current {
            return;
        }
        // Every slice between the last written one and now is a new one.
        let stale = (n - self.current).min(SLICES as u64);
        for k in 1..=stale {
            self.slices[((self.current + k) % SLICES as u64) as usize] = 0;
        }
        self.current = n;
    }

    /// A request made at `now` deposits `ppm` parts per million of a token.
    pub fn deposit(&mut self, now: Time, ppm: u64) {
        self.advance(now);
        let i = (self.current % SLICES as u64) as usize;
        self.slices[i] = self.slices[i].saturating_add(i64::try_from(ppm).unwrap_or(i64::MAX));
    }

    /// The tokens in the window at `now`, in parts per million.
    pub fn balance(&mut self, now: Time) -> i64 {
        self.advance(now);
        self.slices.iter().sum()
    }

    /// Withdraws one token at `now` if the window holds one; whether it did.
    pub fn try_withdraw(&mut self, now: Time) -> bool {
        if self.balance(now) < TOKEN {
            return false;
        }
        let i = (self.current % SLICES as u64) as usize;
        self.slices[i] -= TOKEN;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::MS;

    // Finagle's rule: a deposit counts for ttl, then leaves the window.
    #[test]
    fn deposits_expire_after_the_ttl() {
        let mut b = RetryBudget::new();
        for i in 0..1000 {
            b.deposit(i * MS, 200_000); // 1000 requests at 20%: 200 tokens
        }
        assert_eq!(b.balance(SEC), 200 * TOKEN);
        assert_eq!(b.balance(TTL - MS), 200 * TOKEN, "still within the ttl");
        assert_eq!(b.balance(TTL + SEC), 0, "a whole ttl later, nothing is left");
        assert!(!b.try_withdraw(TTL + SEC));
    }

    #[test]
    fn a_retry_spends_one_token_and_never_overdraws() {
        let mut b = RetryBudget::new();
        for i in 0..10 {
            b.deposit(i * MS, 250_000); // 2.5 tokens
        }
        assert!(b.try_withdraw(20 * MS));
        assert!(b.try_withdraw(20 * MS));
        assert!(!b.try_withdraw(20 * MS), "half a token is not a retry");
        assert_eq!(b.balance(20 * MS), TOKEN / 2);
    }
}
