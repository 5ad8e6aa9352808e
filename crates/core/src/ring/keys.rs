//! The keys a model places, and how often each is requested.
//!
//! Keys are 64-bit numbers drawn from the run's seed (the lab stream 0), so
//! a seed gives the same keys everywhere and another seed gives other keys.
//! A key's bytes, for hashing, are its 8 little-endian bytes.
//!
//! Balance of *keys* is one thing; balance of *requests* is what hurts in
//! production, because popularity is skewed. Key `i` is the `i+1`-th most
//! popular, and its share of requests follows the distribution:
//!
//! * uniform: every key `1/m`;
//! * Zipf(s): proportional to `1/(i+1)^s` (`pow` from `libm`, so the bits
//!   match everywhere); `s` around 1 is typical of web caches;
//! * hot keys(f): the hottest 1 % of keys (at least one) share a fraction
//!   `f` of all requests equally, the rest share `1 - f`.

use super::{RingError, MAX_KEYS};
use crate::sim::{Rng, StreamKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How requests spread over keys.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum KeyDistribution {
    /// Every key equally often.
    Uniform,
    /// Zipf with exponent `s` (0 ..= 10).
    Zipf {
        /// The exponent.
        s: f64,
    },
    /// The hottest 1 % of keys get `fraction` (0 ..= 1) of the requests.
    HotKeys {
        /// Their share of the requests.
        fraction: f64,
    },
}

impl KeyDistribution {
    /// Checks the parameter's range.
    pub fn validate(&self) -> Result<(), RingError> {
        match *self {
            KeyDistribution::Uniform => Ok(()),
            KeyDistribution::Zipf { s } if s.is_finite() && (0.0..=10.0).contains(&s) => Ok(()),
            KeyDistribution::Zipf { s } => Err(RingError::ZipfExponent(s)),
            KeyDistribution::HotKeys { fraction } if fraction.is_finite() && (0.0..=1.0).contains(&fraction) => Ok(()),
            KeyDistribution::HotKeys { fraction } => Err(RingError::HotFraction(fraction)),
        }
    }
}

impl fmt::Display for KeyDistribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyDistribution::Uniform => write!(f, "uniform"),
            KeyDistribution::Zipf { s } => write!(f, "zipf:{s}"),
            KeyDistribution::HotKeys { fraction } => write!(f, "hot:{fraction}"),
        }
    }
}

impl FromStr for KeyDistribution {
    type Err = RingError;
    /// `uniform`, `zipf:1.1` (or `zipf` for 1.1), `hot:0.5` (or `hot` for 0.5).
    fn from_str(s: &str) -> Result<Self, RingError> {
        let t = s.trim().to_ascii_lowercase();
        let bad = || RingError::UnknownDistribution(s.trim().to_string());
        let (name, arg) = match t.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (t.as_str(), None),
        };
        let num = |default: f64| -> Result<f64, RingError> {
            match arg {
                None => Ok(default),
                Some(a) => a.trim().parse::<f64>().map_err(|_| bad()),
            }
        };
        let d = match name {
            "uniform" if arg.is_none() => KeyDistribution::Uniform,
            "zipf" => KeyDistribution::Zipf { s: num(1.1)? },
            "hot" | "hotkeys" => KeyDistribution::HotKeys { fraction: num(0.5)? },
            _ => return Err(bad()),
        };
        d.validate()?;
        Ok(d)
    }
}

/// A seeded set of keys with their request shares.
#[derive(Clone, Debug, PartialEq)]
pub struct KeySet {
    ids: Vec<u64>,
    /// Request share of each key (sums to 1); `None` for uniform.
    shares: Option<Vec<f64>>,
    distribution: KeyDistribution,
}

impl KeySet {
    /// `count` keys from `seed`, with request shares from `distribution`.
    pub fn generate(count: u32, distribution: KeyDistribution, seed: u64) -> Result<KeySet, RingError> {
        if count == 0 || count > MAX_KEYS {
            return Err(RingError::Keys(u64::from(count)));
        }
        distribution.validate()?;
        let mut rng = Rng::stream(seed, StreamKind::Lab, 0);
        let ids: Vec<u64> = (0..count).map(|_| rng.next_u64()).collect();
        let m = u64::from(count);
        let shares = match distribution {
            KeyDistribution::Uniform => None,
            KeyDistribution::Zipf { s } => {
                let raw: Vec<f64> = (1..=m).map(|r| libm::pow(r as f64, -s)).collect();
                let total: f64 = raw.iter().sum();
                Some(raw.into_iter().map(|x| x / total).collect())
            }
            KeyDistribution::HotKeys { fraction } => {
                let hot = (m / 100).max(1);
                let cold = m - hot;
                let (hot_share, cold_share) = if cold == 0 {
                    (1.0 / hot as f64, 0.0)
                } else {
                    (fraction / hot as f64, (1.0 - fraction) / cold as f64)
                };
                Some((0..m).map(|i| if i < hot { hot_share } else { cold_share }).collect())
            }
        };
        Ok(KeySet { ids, shares, distribution })
    }

    /// A key set of the given ids, all equally popular (for tests and user keys).
    pub fn from_ids(ids: Vec<u64>) -> KeySet {
        KeySet { ids, shares: None, distribution: KeyDistribution::Uniform }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The keys, most popular first.
    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    /// Key `i`'s share of all requests.
    pub fn share(&self, i: usize) -> f64 {
        match &self.shares {
            Some(s) => s[i],
            None => 1.0 / self.ids.len() as f64,
        }
    }

    /// The distribution the shares follow.
    pub fn distribution(&self) -> KeyDistribution {
        self.distribution
    }

    /// Every key hashed with `hash` (as its 8 little-endian bytes).
    pub fn hashes(&self, hash: super::HashKind) -> Vec<u64> {
        self.ids.iter().map(|&k| hash.hash_u64(k)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_distributions() {
        assert_eq!("uniform".parse(), Ok(KeyDistribution::Uniform));
        assert_eq!("zipf:1.3".parse(), Ok(KeyDistribution::Zipf { s: 1.3 }));
        assert_eq!("zipf".parse(), Ok(KeyDistribution::Zipf { s: 1.1 }));
        assert_eq!("hot:0.9".parse(), Ok(KeyDistribution::HotKeys { fraction: 0.9 }));
        assert!("zipf:abc".parse::<KeyDistribution>().unwrap_err().to_string().contains("zipf:1.1"));
        assert!("hot:2".parse::<KeyDistribution>().unwrap_err().to_string().contains("between 0 and 1"));
        assert!("pareto".parse::<KeyDistribution>().is_err());
    }

    #[test]
    fn shares_sum_to_one_and_follow_rank() {
        for d in
            [KeyDistribution::Uniform, KeyDistribution::Zipf { s: 1.1 }, KeyDistribution::HotKeys { fraction: 0.5 }]
        {
            let k = KeySet::generate(1000, d, 3).unwrap();
            let total: f64 = (0..k.len()).map(|i| k.share(i)).sum();
            assert!((total - 1.0).abs() < 1e-9, "{d}: {total}");
            assert!(k.share(0) >= k.share(999));
        }
        let hot = KeySet::generate(1000, KeyDistribution::HotKeys { fraction: 0.5 }, 3).unwrap();
        let top: f64 = (0..10).map(|i| hot.share(i)).sum();
        assert!((top - 0.5).abs() < 1e-12);
        // Zipf(1): share of rank 1 over rank 2 is 2.
        let z = KeySet::generate(10, KeyDistribution::Zipf { s: 1.0 }, 3).unwrap();
        assert!((z.share(0) / z.share(1) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn seeds_give_keys() {
        let a = KeySet::generate(5, KeyDistribution::Uniform, 1).unwrap();
        assert_eq!(a, KeySet::generate(5, KeyDistribution::Uniform, 1).unwrap());
        assert_ne!(a.ids(), KeySet::generate(5, KeyDistribution::Uniform, 2).unwrap().ids());
        assert_eq!(KeySet::generate(0, KeyDistribution::Uniform, 1), Err(RingError::Keys(0)));
    }
}
