//! What moves when servers change: the defining property of consistent
//! hashing, checked through the lab's model for each algorithm that claims
//! it, plus the modulo baseline that does not.

use clusterscope_core::ring::{Algorithm, RingModel, RingParams};
use proptest::prelude::*;

fn params(algorithm: Algorithm, nodes: u32, keys: u32) -> RingParams {
    RingParams { algorithm, nodes, vnodes: 100, keys, seed: 42, ..RingParams::default() }
}

// Karger et al. 1997 (monotonicity): when a server joins, keys move only
// to it; the share it takes is its share of the circle, 1/(n+1) in
// expectation. With n = 10 and 100 vnodes the new server's share has a
// relative standard deviation of about 1/sqrt(100) = 10 %, so we allow
// 1/11 +- 35 % (3.5 sigma; the seed is fixed, so this is deterministic).
#[test]
fn ring_add_moves_about_one_over_n_plus_one_all_to_the_new_server() {
    let mut m = RingModel::new(&params(Algorithm::Ring, 10, 20_000)).unwrap();
    let r = m.add_node(100).unwrap();
    let ideal = 1.0 / 11.0;
    assert!((r.ideal_fraction - ideal).abs() < 1e-12);
    assert!((r.moved_fraction - ideal).abs() < 0.35 * ideal, "moved {}", r.moved_fraction);
    assert_eq!(r.moved_between_others, 0);
    assert!(r.sample.iter().all(|k| k.to == 10));
    assert_eq!(r.moved, m.stats().nodes[10].keys);
}

// Karger et al. 1997: when a server leaves, exactly its keys move.
#[test]
fn ring_remove_moves_only_the_removed_servers_keys() {
    let mut m = RingModel::new(&params(Algorithm::Ring, 10, 20_000)).unwrap();
    let had = m.stats().nodes[3].keys;
    let r = m.remove_node(3).unwrap();
    assert_eq!(r.moved, had);
    assert_eq!(r.moved_between_others, 0);
    assert!(r.sample.iter().all(|k| k.from == 3));
    assert!(m.node(3).is_none());
}

// The lab's failure model (DESIGN.md, Ring lab): a failed server's keys
// move to the next live points, nothing else moves, and the server stays
// listed (and drawn) as failed. Recovery moves exactly those keys back.
#[test]
fn ring_fail_moves_only_its_keys_and_keeps_it_visible() {
    let mut m = RingModel::new(&params(Algorithm::Ring, 6, 10_000)).unwrap();
    let before = m.owners().to_vec();
    let had = m.stats().nodes[2].keys;
    let r = m.fail_node(2).unwrap();
    assert_eq!((r.moved, r.moved_between_others), (had, 0));
    assert!(m.node(2).unwrap().failed);
    assert_eq!(m.stats().nodes[2].keys, 0);
    let view = m.ring_view().unwrap();
    assert_eq!(view.points.iter().filter(|p| p.node == 2 && p.failed).count(), 100);
    let back = m.recover_node(2).unwrap();
    assert_eq!(back.moved, had);
    assert_eq!(m.owners(), &before[..]);
}

// Thaler & Ravishankar 1998: with highest random weight, a new server takes
// exactly the keys it now scores best on (1/(n+1) in expectation, only
// binomial noise: sd = sqrt(p(1-p)/20000) = 0.002, we allow 0.01), and a
// removed server's keys each go to their runner-up while the rest stay.
#[test]
fn rendezvous_add_and_remove_move_only_what_they_must() {
    let mut m = RingModel::new(&params(Algorithm::Rendezvous, 10, 20_000)).unwrap();
    let r = m.add_node(100).unwrap();
    assert!((r.moved_fraction - 1.0 / 11.0).abs() < 0.01, "moved {}", r.moved_fraction);
    assert_eq!(r.moved_between_others, 0);
    let had = m.stats().nodes[4].keys;
    let r = m.remove_node(4).unwrap();
    assert_eq!((r.moved, r.moved_between_others), (had, 0));
}

// Lamping & Veach 2014 (ch(k, n+1) is ch(k, n) or n): growing from n to
// n+1 buckets moves exactly the keys of the new bucket, 1/(n+1) of them in
// expectation (binomial noise only, as for rendezvous).
#[test]
fn jump_add_moves_one_over_n_plus_one_to_the_new_bucket() {
    let mut m = RingModel::new(&params(Algorithm::Jump, 10, 20_000)).unwrap();
    let r = m.add_node(100).unwrap();
    assert!((r.moved_fraction - 1.0 / 11.0).abs() < 0.01, "moved {}", r.moved_fraction);
    assert_eq!(r.moved_between_others, 0);
    // Removing a middle server: its bucket goes to the last server, whose
    // own keys spread out, so about twice the ideal moves (module docs).
    let r = m.remove_node(2).unwrap();
    let ratio = r.moved_over_ideal().unwrap();
    assert!((1.5..2.5).contains(&ratio), "moved/ideal {ratio}");
}

// libketama's README: with hash % n, adding a server to n remaps nearly all
// keys (a key stays only if h % n == h % (n+1): 1/(n+1) of them stay).
#[test]
fn modulo_add_moves_nearly_everything() {
    let mut m = RingModel::new(&params(Algorithm::Modulo, 10, 20_000)).unwrap();
    let r = m.add_node(100).unwrap();
    assert!((r.moved_fraction - 10.0 / 11.0).abs() < 0.01, "moved {}", r.moved_fraction);
    assert!(r.moved_over_ideal().unwrap() > 9.0);
}

// Weighted rings (Dynamo §4.2 style: capacity as more points): raising a
// server's weight moves keys only to it.
#[test]
fn raising_a_weight_moves_keys_only_to_that_server() {
    for algorithm in [Algorithm::Ring, Algorithm::Rendezvous] {
        let mut m = RingModel::new(&params(algorithm, 8, 10_000)).unwrap();
        let r = m.set_weight(5, 300).unwrap();
        assert!(r.moved > 0, "{algorithm}");
        assert!(r.sample.iter().all(|k| k.to == 5), "{algorithm}");
        assert_eq!(r.moved_between_others, 0, "{algorithm}");
    }
}

// The same properties on many small random setups (Karger et al. 1997;
// Thaler & Ravishankar 1998): adding moves keys only to the new server,
// removing moves only the removed server's keys. Kept small so the suite
// stays fast.
proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn add_and_remove_are_consistent(
        nodes in 1u32..12,
        vnodes in 1u32..40,
        seed in any::<u64>(),
        victim in any::<u32>(),
        rendezvous in any::<bool>(),
    ) {
        let algorithm = if rendezvous { Algorithm::Rendezvous } else { Algorithm::Ring };
        let p = RingParams { algorithm, nodes, vnodes, keys: 400, seed, ..RingParams::default() };
        let mut m = RingModel::new(&p).unwrap();
        let added = m.add_node(100).unwrap();
        prop_assert_eq!(added.moved_between_others, 0);
        prop_assert_eq!(added.moved, m.stats().nodes[nodes as usize].keys);
        let victim = victim % (nodes + 1);
        let had = m.stats().nodes[victim as usize].keys;
        let removed = m.remove_node(victim).unwrap();
        prop_assert_eq!(removed.moved, had);
        prop_assert_eq!(removed.moved_between_others, 0);
    }
}
