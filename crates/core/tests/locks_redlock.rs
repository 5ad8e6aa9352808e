//! Redlock on N independent lock servers (`service redlock`).
//!
//! Where the expectations come from: antirez, "Distributed locks with
//! Redis" (the Redlock algorithm): a client sets its random value with a
//! TTL on every server, holds the lock only if a majority of them set it
//! and the validity, TTL − time spent acquiring − drift allowance
//! (clock drift factor × TTL + 2 ms), is positive, and otherwise deletes
//! its value everywhere. Kleppmann, "How to do distributed locking"
//! (2016): the algorithm's safety rests on the servers' clocks; a server
//! whose clock runs fast expires the key early and a second client wins a
//! majority while the first still believes it holds the lock, and without
//! a token that only grows the storage cannot refuse the late write.

mod locks_common;

use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::Lab;
use clusterscope_core::locks::lab::lock_config;
use clusterscope_core::locks::node::Role;
use clusterscope_core::locks::LockNode;
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{Rng, StreamKind, MS};
use locks_common::{metric, run, tracker};

/// One client (S7) against five Redlock servers (S2-S6), fixed 10 ms
/// links, no drift, after crashing `down` of the servers.
fn five_servers_with(down: u32) -> Lab {
    let mut t = String::from(
        "lab locks\nseed 4\nservice redlock\nlock_servers 5\nclients 1\nkeyspace 1\nthink 10s\nwork 100ms\nlease 1s\nresend 200ms\nlatency_min 10ms\nlatency_max 10ms\n",
    );
    for s in 0..down {
        t.push_str(&format!("at 0s crash S{}\n", 2 + s));
    }
    t.push_str("at 10ms timeout S7\nuntil 2s\n");
    run(&t)
}

// Redlock step 3: "the client ... was able to acquire the lock in the
// majority of the instances (at least 3)" of five. With three of five
// servers up every attempt wins; with two up none can, however long the
// client retries, and nothing is written.
#[test]
fn redlock_grants_only_with_a_majority() {
    let mut three_up = five_servers_with(2);
    assert_eq!(tracker(&three_up).grants, 1, "three of five servers set the key: a majority");
    assert_eq!(metric(&mut three_up, "txns"), 1.0);
    assert_eq!(tracker(&three_up).aborts, 0);

    let mut two_up = five_servers_with(3);
    assert_eq!(tracker(&two_up).grants, 0, "two of five servers are no majority");
    assert_eq!(metric(&mut two_up, "txns"), 0.0);
    assert!(tracker(&two_up).aborts >= 3, "the client gives up and tries again: {}", tracker(&two_up).aborts);
    assert!(two_up.violation().is_none());
}

// The validity formula on a hand-built case: TTL 1 s, drift factor 0.01
// and 2 ms, as Redis's reference client has them: 1000 − 30 − (10 + 2) =
// 958 ms; 12 ms left is no validity (it must be positive).
#[test]
fn validity_is_ttl_minus_elapsed_minus_drift_allowance() {
    locks_common::locks();
    let scn = Scenario::parse("lab locks\nservice redlock\nlease 1s\n").expect("parses");
    let cfg = lock_config(&scn);
    assert_eq!((cfg.drift_factor, cfg.drift_margin), (10, 2 * MS));
    assert_eq!(cfg.validity(30 * MS), Some(958 * MS));
    assert_eq!(cfg.validity(987 * MS), Some(MS));
    assert_eq!(cfg.validity(988 * MS), None);
    assert_eq!(cfg.validity(2_000 * MS), None);
    let scn =
        Scenario::parse("lab locks\nservice redlock\nlease 2s\ndrift_factor 0.1\ndrift_margin 5ms\n").expect("parses");
    assert_eq!(lock_config(&scn).validity(100 * MS), Some((2_000 - 100 - 200 - 5) * MS));

    // In a run: the replies of a majority arrive 20 ms after the ask (two
    // 10 ms hops), so the client's lock is valid until 20 + 968 ms.
    let held = run(
        "lab locks\nseed 4\nservice redlock\nlock_servers 5\nclients 1\nkeyspace 1\nthink 10s\nwork 500ms\nlease 1s\nlatency_min 10ms\nlatency_max 10ms\nat 10ms timeout S7\nuntil 300ms\n",
    );
    let model = held.model::<ClusterLab<LockNode>>().expect("a locks run");
    let Role::Client(c) = &model.sim().nodes()[6].state.role else { panic!("S7 is a client") };
    assert_eq!(c.granted_by.count_ones(), 3, "it decides at the third grant of five");
    assert_eq!(c.lease_until, Some((10 + 20 + 968) * MS));
}

fn drift_preset() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/locks/bug-redlock-drift.scn"))
        .expect("the preset exists")
}

// Kleppmann 2016: with servers' clocks running fast the key expires early
// and two clients hold the lock; the storage sees S6 write over S5's
// write computed from the same version. The same file with clocks that
// keep time runs clean: the drift is the cause.
#[test]
fn with_drift_two_holders_write_and_without_it_none_do() {
    let text = drift_preset();
    let lab = run(&text);
    let v = lab.violation().expect("the drift preset breaks mutual exclusion");
    assert_eq!(v.invariant, "Mutual exclusion");
    assert!(v.message.starts_with("S6 wrote key 0") && v.message.contains("S5 wrote it"), "{}", v.message);

    let mut steady = run(&text.replace("drift 200000", "drift 0"));
    assert!(steady.violation().is_none(), "{:?}", steady.violation_text());
    assert_eq!(metric(&mut steady, "txns"), 2.0, "S6 waits for S5's key to expire or be deleted, then commits");
}

/// A Redlock scenario drawn from `seed`: no clock drift, no pauses, no
/// faults, no loss, links of at most 30 ms, work well inside the TTL.
fn steady(seed: u64) -> String {
    let mut r = Rng::stream(seed, StreamKind::Lab, 4_444);
    let mut pick = |lo: u64, hi: u64| r.range(lo, hi);
    let lease = pick(300, 1_500);
    let lat_min = pick(1, 15);
    format!(
        "lab locks\nseed {seed}\nservice redlock\nlock_servers {}\nclients {}\nkeyspace {}\nthink {}ms\nwork {}ms\nlease {lease}ms\nbackoff {}ms\nresend {}ms\nlatency_min {lat_min}ms\nlatency_max {}ms\nreorder {}\nuntil 8s\n",
        [1, 3, 5, 7][pick(0, 3) as usize],
        pick(2, 6),
        pick(1, 3),
        pick(0, 150),
        pick(0, lease / 3),
        pick(5, 60),
        pick(80, 300),
        lat_min + pick(0, 15),
        ["on", "off"][pick(0, 1) as usize],
    )
}

// antirez's safety argument holds when clocks keep time and nothing
// stalls: a key expires no earlier than the client's validity ends, and a
// careful client writes only inside its validity. Over many seeds with
// contention and no drift, no checker fires and transactions commit.
#[test]
fn without_drift_or_faults_redlock_keeps_one_holder() {
    let seeds: u64 = std::env::var("REDLOCK_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let mut committed = 0.0;
    for seed in 0..seeds {
        let text = steady(seed);
        let mut lab = run(&text);
        assert!(lab.violation().is_none(), "seed {seed}: {:?}\n{text}", lab.violation_text());
        committed += metric(&mut lab, "txns");
    }
    assert!(committed > seeds as f64 * 10.0, "transactions commit: {committed} in {seeds} runs");
}

// Issue 23, drawing: "in the space-time diagram, each lease as a bar on
// its client's lane (Kleppmann's figure, live)". Each client's hold, as
// the client believes in it, is one span on its lane from the grant it
// heard to its commit, labelled with its token (Redlock: its random
// value); a hold the violation cut short ends where the run stopped. In
// the drift preset the two bars overlap: S6's starts before S5's ends.
#[test]
fn each_hold_is_a_span_on_its_clients_lane() {
    use clusterscope_core::lab::diagram::What;
    use clusterscope_core::sim::SEC;
    locks_common::locks();
    let mut lab = Lab::new(&Scenario::parse(&drift_preset()).expect("parses")).expect("builds");
    lab.record_diagram(true);
    let (mut records, mut names) = (Vec::new(), Vec::new());
    for t in 1..=6 {
        lab.run_until(t * SEC / 2);
        if let Some(chunk) = lab.take_diagram() {
            names.extend(chunk.names.iter().cloned());
            records.extend(chunk.unpack());
        }
    }
    let spans: Vec<(u32, u64, u64, &str, u64)> = records
        .iter()
        .filter(|r| r.what == What::Span)
        .map(|r| (r.from, r.t0, r.t1, names[r.kind as usize].as_str(), r.id))
        .collect();
    assert_eq!(
        spans,
        vec![(4, 30_474, 1_008_019, "token", 458_267), (5, 958_949, 1_991_865, "token", 465_867)],
        "S5 from its grant to its commit, S6 from its grant to the write that broke mutual exclusion"
    );
    assert!(spans[1].1 < spans[0].2, "the two holds overlap");
}
