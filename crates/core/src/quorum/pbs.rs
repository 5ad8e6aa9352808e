//! The closed form of Bailis, Venkataraman, Franklin, Hellerstein and
//! Stoica, "Probabilistically Bounded Staleness for Practical Partial
//! Quorums" (VLDB 2012), §3.2: without anti-entropy or read repair, a write
//! that reached exactly `W` of a key's `N` replicas is missed by a read of
//! `R` replicas chosen uniformly at random with probability
//! `C(N-W, R) / C(N, R)`; a read that misses every written replica returns
//! an older version. `R + W > N` makes it 0 (the quorums intersect). And a
//! read returns one of the last `k` versions unless it misses each of
//! them: `(C(N-W, R) / C(N, R))^k` (§3.3, Equation 2).

/// `C(n, k)`, the number of ways to choose `k` of `n` (0 when `k > n`).
pub fn choose(n: u32, k: u32) -> f64 {
    if k > n {
        return 0.0;
    }
    let k = k.min(n - k);
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// The probability that a read of `r` random replicas out of `n` misses
/// all `w` written ones.
pub fn p_stale(n: u32, r: u32, w: u32) -> f64 {
    if w > n || r > n || r == 0 {
        return 1.0;
    }
    choose(n - w, r) / choose(n, r)
}

/// The probability that a read returns one of the last `k` versions
/// (§3.3): `1 - p_stale^k`.
pub fn p_k_fresh(n: u32, r: u32, w: u32, k: u32) -> f64 {
    1.0 - p_stale(n, r, w).powi(k as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The values printed in §3.2 of the paper: with N = 3, R = W = 1 a read
    // misses the write with probability 2/3 (C(2,1)/C(3,1)); with N = 100
    // and R = W = 30, 1.88 x 10^-6.
    #[test]
    fn the_papers_examples() {
        assert!((p_stale(3, 1, 1) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(p_stale(3, 2, 2), 0.0);
        assert_eq!(p_stale(3, 1, 3), 0.0);
        let big = p_stale(100, 30, 30);
        assert!((big - 1.88e-6).abs() < 0.01e-6, "{big}");
        assert_eq!(choose(5, 2), 10.0);
        assert_eq!(choose(2, 3), 0.0);
    }
}
