//! Which key a transaction touches: uniform over the keys, or Zipf (key
//! `i` in proportion to `1/(i+1)^s`), the dial of contention.
//!
//! Zipf draws come from a table of cumulative weights scaled to whole
//! numbers (weights from `libm::pow`, summed in order), so a draw is one
//! integer from the seeded stream and a binary search: the same bits
//! natively and in wasm32.

use crate::sim::Rng;

/// The scale of the cumulative table: 2^53, exact in an `f64`.
const SCALE: u64 = 1 << 53;

/// Picks keys.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyPicker {
    keys: u32,
    /// Cumulative weights out of [`SCALE`] (empty: uniform).
    cumulative: Vec<u64>,
}

impl KeyPicker {
    /// `keys` keys (at least one), uniform when `s` is 0, else Zipf with
    /// exponent `s`.
    pub fn new(keys: u32, s: f64) -> KeyPicker {
        let keys = keys.max(1);
        if s <= 0.0 || !s.is_finite() {
            return KeyPicker { keys, cumulative: Vec::new() };
        }
        let weights: Vec<f64> = (0..keys).map(|i| 1.0 / libm::pow(f64::from(i) + 1.0, s)).collect();
        let total: f64 = weights.iter().sum();
        let mut sum = 0.0;
        let mut cumulative: Vec<u64> = weights
            .iter()
            .map(|w| {
                sum += w;
                ((sum / total) * SCALE as f64) as u64
            })
            .collect();
        if let Some(last) = cumulative.last_mut() {
            *last = SCALE;
        }
        KeyPicker { keys, cumulative }
    }

    /// Number of keys.
    pub fn keys(&self) -> u32 {
        self.keys
    }

    /// The share of draws that pick key `k`.
    pub fn share(&self, k: u32) -> f64 {
        if k >= self.keys {
            return 0.0;
        }
        if self.cumulative.is_empty() {
            return 1.0 / f64::from(self.keys);
        }
        let below = if k == 0 { 0 } else { self.cumulative[k as usize - 1] };
        (self.cumulative[k as usize] - below) as f64 / SCALE as f64
    }

    /// A key.
    pub fn pick(&self, rng: &mut Rng) -> u32 {
        if self.cumulative.is_empty() {
            return rng.range(0, u64::from(self.keys) - 1) as u32;
        }
        let r = rng.range(0, SCALE - 1);
        self.cumulative.partition_point(|&c| c <= r).min(self.keys as usize - 1) as u32
    }
}

/// A draw from the exponential distribution with mean `mean` (inverse
/// transform with `libm::log`, the same bits everywhere).
pub fn exponential(rng: &mut Rng, mean: u64) -> u64 {
    if mean == 0 {
        return 0;
    }
    let u = rng.range(0, SCALE - 1) as f64 / SCALE as f64;
    let x = -libm::log(1.0 - u) * mean as f64;
    x.min(mean as f64 * 50.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::StreamKind;

    // Zipf's law as defined: with s = 1, key 1 is drawn twice as often as
    // key 2; uniform draws cover every key evenly.
    #[test]
    fn shares_follow_the_law() {
        let z = KeyPicker::new(100, 1.0);
        assert!((z.share(0) / z.share(1) - 2.0).abs() < 1e-9);
        let total: f64 = (0..100).map(|k| z.share(k)).sum();
        assert!((total - 1.0).abs() < 1e-9);
        let u = KeyPicker::new(10, 0.0);
        let mut rng = Rng::stream(1, StreamKind::Lab, 0);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            counts[u.pick(&mut rng) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (800..1200).contains(&c)), "{counts:?}");
        let mut hits0 = 0;
        for _ in 0..10_000 {
            hits0 += u32::from(z.pick(&mut rng) == 0);
        }
        let expect = z.share(0) * 10_000.0;
        assert!((f64::from(hits0) - expect).abs() < 5.0 * expect.sqrt(), "{hits0} against {expect}");
    }

    #[test]
    fn exponential_has_its_mean() {
        let mut rng = Rng::stream(2, StreamKind::Lab, 0);
        let n = 20_000;
        let mean = (0..n).map(|_| exponential(&mut rng, 1_000) as f64).sum::<f64>() / f64::from(n);
        // Standard error 1000/sqrt(20000) ~ 7: five of them.
        assert!((mean - 1_000.0).abs() < 35.0, "{mean}");
    }
}
