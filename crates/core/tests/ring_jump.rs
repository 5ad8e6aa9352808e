//! Jump consistent hash (Lamping & Veach 2014) against published answers
//! and its defining property.

use clusterscope_core::ring::jump_hash;
use proptest::prelude::*;

// Source: dgryski/go-jump `jump_test.go`, a table "generated from the
// reference C++ code" of the paper: for each key, the bucket for 1, 2, ...
// buckets.
#[test]
fn matches_the_reference_cpp_table() {
    let table: [(u64, &[u32]); 4] = [
        (0, &[0; 20]),
        (1, &[0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17]),
        (0xdeadbeef, &[0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16]),
        (0x0ddc0ffeebadf00d, &[0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15]),
    ];
    for (key, buckets) in table {
        for (i, &want) in buckets.iter().enumerate() {
            assert_eq!(jump_hash(key, i as u32 + 1), want, "key {key:#x}, {} buckets", i + 1);
        }
    }
}

// Source: Guava `HashingTest.testConsistentHash_linearCongruentialGeneratorCompatibility`
// ("golden values to see that implementations across languages are
// equivalent"): Hashing.consistentHash(i, 100) for i = 0..20, and six
// single answers.
#[test]
fn matches_guava_golden_values() {
    let golden100 = [0, 55, 62, 8, 45, 59, 86, 97, 82, 59, 73, 37, 17, 56, 86, 21, 90, 37, 38, 83];
    for (i, &want) in golden100.iter().enumerate() {
        assert_eq!(jump_hash(i as u64, 100), want, "key {i}");
    }
    assert_eq!(jump_hash(10863919174838991, 11), 6);
    assert_eq!(jump_hash(2016238256797177309, 11), 3);
    assert_eq!(jump_hash(1673758223894951030, 11), 5);
    assert_eq!(jump_hash(2, 100001), 80343);
    assert_eq!(jump_hash(2201, 100001), 22152);
    assert_eq!(jump_hash(2202, 100001), 15018);
}

// Lamping & Veach 2014, the derivation of the algorithm: ch(k, n+1) is
// either ch(k, n) or n, i.e. a key moves only to the new bucket; and the
// result is always in range.
proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn growing_moves_keys_only_to_the_new_bucket(key in any::<u64>(), n in 1u32..100_000) {
        let before = jump_hash(key, n);
        let after = jump_hash(key, n + 1);
        prop_assert!(before < n);
        prop_assert!(after == before || after == n, "ch({key}, {n}) = {before}, ch(.., n+1) = {after}");
    }
}
