//! How evenly each algorithm spreads keys: the claims of the papers, with
//! stated tolerances on fixed seeds.

use clusterscope_core::ring::{uniform_nodes, Algorithm, BoundedLoads, HashKind, Maglev, RingModel, RingParams};

// Karger et al. 1997 / the usual virtual-node analysis: with n servers of
// V random points each, a server's share of the circle is Beta(V, (n-1)V),
// whose standard deviation over its mean is sqrt((n-1)/(nV+1)), about
// 1/sqrt(V). Counting K keys adds multinomial noise, (n-1)/K in relative
// variance. One ring of n = 200 servers estimates this with about
// 1/sqrt(2n) = 5 % sampling error, so we pool the variance of four
// independent rings (four strong hash functions): about 2.5 % error, and
// we allow 12 %.
#[test]
fn ring_relative_std_is_about_one_over_sqrt_vnodes() {
    let (n, keys) = (200u32, 100_000u32);
    for vnodes in [10u32, 100, 400] {
        let hashes = [HashKind::Xxh3, HashKind::Xxh64, HashKind::Murmur3, HashKind::Md5];
        let pooled = hashes
            .iter()
            .map(|&hash| {
                let p = RingParams {
                    algorithm: Algorithm::Ring,
                    nodes: n,
                    vnodes,
                    keys,
                    hash,
                    seed: 7,
                    ..RingParams::default()
                };
                RingModel::new(&p).unwrap().stats().keys.rel_std.powi(2)
            })
            .sum::<f64>()
            / hashes.len() as f64;
        let got = pooled.sqrt();
        let (n, v, k) = (f64::from(n), f64::from(vnodes), f64::from(keys));
        let expected = ((n - 1.0) / (n * v + 1.0) + (n - 1.0) / k).sqrt();
        assert!((got / expected - 1.0).abs() < 0.12, "V = {vnodes}: relative std {got:.4}, expected {expected:.4}");
    }
}

// A weak hash shows: FNV-1a's last multiplication by 2^40 + 0x1b3 barely
// touches the top bits, so point labels "S1-0", "S1-1", ... that differ
// only in their last byte land close together on the circle and the ring
// is far less even than 1/sqrt(V) (this is what the lab's hash menu is
// for). We only claim "at least three times worse" at V = 100.
#[test]
fn fnv1a_points_cluster() {
    let p = RingParams {
        algorithm: Algorithm::Ring,
        nodes: 100,
        vnodes: 100,
        keys: 50_000,
        hash: HashKind::Fnv1a,
        ..RingParams::default()
    };
    let got = RingModel::new(&p).unwrap().stats().keys.rel_std;
    assert!(got > 0.3, "relative std {got:.3}");
}

// Mirrokni, Thorup & Zadimoghaddam 2018: no server holds more than
// ceil((1 + epsilon) * m / n) keys, for any epsilon, including after
// servers fail and join. A ring of only 5 points per server (relative std
// about 45 %) makes the cap bind often.
#[test]
fn bounded_loads_never_exceed_the_cap() {
    for epsilon in [0.0, 0.1, 0.25, 1.0] {
        let p = RingParams {
            algorithm: Algorithm::Bounded,
            nodes: 10,
            vnodes: 5,
            keys: 20_000,
            epsilon,
            seed: 3,
            ..RingParams::default()
        };
        let mut m = RingModel::new(&p).unwrap();
        m.fail_node(4).unwrap();
        m.add_node(100).unwrap();
        let live = u64::from(m.stats().live_nodes);
        let cap = ((1.0 + epsilon) * 20_000.0 / live as f64).ceil() as u64;
        for n in &m.stats().nodes {
            assert!(n.keys <= cap, "epsilon {epsilon}: {} holds {} > {cap}", n.name, n.keys);
        }
        assert!(m.stats().keys.max_over_mean <= 1.0 + epsilon + 1e-9, "epsilon {epsilon}");
        if epsilon < 0.5 {
            assert!(m.stats().overflowed > 0, "epsilon {epsilon}: the cap should have bound");
        }
    }
    // The capacities themselves: ceil(1.25 * 1000 / 3) = 417 each.
    let b = BoundedLoads::new(&uniform_nodes(3, 10), HashKind::Xxh3, 0.25).unwrap();
    assert!(b.capacities(1000).iter().all(|&(_, c)| c == 417));
}

// Eisenbud et al. 2016 §3.4: backends take turns claiming table entries
// until the table is full, so at equal weights each ends with floor(M/N) or
// ceil(M/N) entries: the counts differ by at most one.
#[test]
fn maglev_slot_counts_differ_by_at_most_one() {
    for (n, m) in [(100u32, 65_537u64), (7, 251), (1000, 65_537)] {
        let table = Maglev::new(&uniform_nodes(n, 1), HashKind::Xxh3, m).unwrap();
        let mut counts = vec![0u64; n as usize];
        for id in table.slots() {
            counts[id as usize] += 1;
        }
        let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(hi - lo <= 1, "N = {n}, M = {m}: counts from {lo} to {hi}");
        assert_eq!(*lo, m / u64::from(n));
    }
}

// Eisenbud et al. 2016 §3.4 aims at "minimal disruption": when a backend
// goes, its entries are redistributed and the other backends should mostly
// keep theirs (§5.3 measures how few change; it is not zero, as in a ring).
// With N = 100 and M = 65537, we allow other backends to lose at most 2 %
// of the table, a fifth of the 1 % ... 10 % that a removal must move.
#[test]
fn maglev_removal_disrupts_little_beyond_the_removed_backend() {
    let nodes = uniform_nodes(100, 1);
    let before = Maglev::new(&nodes, HashKind::Xxh3, 65_537).unwrap();
    let mut fewer = nodes.clone();
    fewer.remove(37);
    let after = Maglev::new(&fewer, HashKind::Xxh3, 65_537).unwrap();
    let (mut own, mut others) = (0u64, 0u64);
    for (a, b) in before.slots().zip(after.slots()) {
        if a == 37 {
            own += 1;
        } else if a != b {
            others += 1;
        }
    }
    assert!(own >= 655, "{own}");
    let share = others as f64 / before.table_size() as f64;
    assert!(share < 0.02, "other backends lost {others} entries ({:.2} %)", share * 100.0);
    assert!(others > 0, "Maglev is not a ring: some extra disruption is expected");
}

// Rendezvous and jump have no virtual nodes: their key counts are
// multinomial, relative std about sqrt((n-1)/K); Maglev adds the table's
// own rounding, small for M >> N. Modulo is as even as its hash.
#[test]
fn hashing_without_points_is_as_even_as_the_multinomial() {
    let (n, keys) = (50u32, 100_000u32);
    let expected = (f64::from(n - 1) / f64::from(keys)).sqrt();
    for algorithm in [Algorithm::Rendezvous, Algorithm::Jump, Algorithm::Maglev, Algorithm::Modulo] {
        let p = RingParams { algorithm, nodes: n, keys, seed: 11, ..RingParams::default() };
        let got = RingModel::new(&p).unwrap().stats().keys.rel_std;
        assert!((got / expected - 1.0).abs() < 0.3, "{algorithm}: {got:.4}, expected {expected:.4}");
    }
}

// A sanity check of the footprint column: ring points, ketama's 160 per
// server, Maglev's prime table.
#[test]
fn footprints() {
    let p = RingParams { nodes: 4, vnodes: 160, keys: 10, ..RingParams::default() };
    let fp = |a| RingModel::new(&RingParams { algorithm: a, ..p.clone() }).unwrap().placement().footprint();
    assert_eq!(fp(Algorithm::Ring), 640);
    assert_eq!(fp(Algorithm::Ketama), 640);
    assert_eq!(fp(Algorithm::Maglev), 65_537);
    assert_eq!(fp(Algorithm::Jump), 4);
}
