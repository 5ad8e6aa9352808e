//! Recovery in the failure-detection lab: keys kept in R copies on the
//! members' consistent-hash ring and re-replicated when the detector
//! declares a member failed. Each expectation comes from the repair model
//! the lab documents (`faults::repair`): one repair stream per failed
//! member at `repair_rate` keys per second, the `j`-th copy landing
//! `⌈j·10⁶ / rate⌉` µs after the declaration; a key is lost when no member
//! holding it is available; a copy made for a member declared failed while
//! it is up is needless. The keys each member holds are recomputed here
//! from the placement's definition (Dynamo's preference list on the Ring
//! lab's ring, `VNODES` points a member), not read from the lab.

use clusterscope_core::faults::lab::{FaultsTracker, ENGINE};
use clusterscope_core::faults::repair::VNODES;
use clusterscope_core::faults::FaultsNode;
use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::{registry, Lab};
use clusterscope_core::ring::{uniform_nodes, HashKind, Placement, VnodeRing};
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{NodeId, Time, MS, SEC};

fn lab(text: &str) -> Lab {
    let _ = registry::register_engine(&ENGINE);
    Lab::new(&Scenario::parse(text).expect("valid scenario")).expect("builds")
}

fn tracker(lab: &Lab) -> &FaultsTracker {
    lab.model::<ClusterLab<FaultsNode>>().expect("a faults run").tracker()
}

/// Each key's home members: the first `r` distinct members clockwise from
/// its xxh3 hash on a ring of `VNODES` points a member.
fn homes(n: u32, keys: u32, r: usize) -> Vec<Vec<NodeId>> {
    let ring = VnodeRing::new(&uniform_nodes(n, VNODES), HashKind::Xxh3).expect("ring");
    (0..keys).map(|k| ring.preference_list(HashKind::Xxh3.hash_u64(u64::from(k)), r)).collect()
}

fn scenario(seed: u64, n: u32, keys: u32, copies: u32, rate: u64, extra: &str, until: &str) -> String {
    format!(
        "lab faults\nseed {seed}\nnodes {n}\ndetector heartbeat\nheartbeat 100ms\ntimeout 300ms\nsuspicion 500ms\nlatency_min 10ms\nlatency_max 20ms\nkeys {keys}\ncopies {copies}\nrepair_rate {rate}\n{extra}until {until}\n"
    )
}

// One crash on a lossless network with nothing else failing: the crashed
// member's K keys each lack one copy, and its stream copies them at
// `rate` keys/s, so the repair takes K / rate: the last copy lands
// ⌈K·10⁶ / rate⌉ µs after the declaration (the bound: under 1 µs of
// rounding). Afterwards every key has R copies again, none was lost, and
// the window of data at risk is the time to detect (crash to declaration)
// plus the time to repair.
#[test]
fn repair_time_is_keys_over_bandwidth() {
    for (seed, n, keys, copies, rate, victim) in
        [(1u64, 10u32, 2000u32, 3u32, 200u64, 3u32), (2, 16, 5000, 2, 700, 9), (3, 6, 900, 3, 333, 0)]
    {
        let text = scenario(seed, n, keys, copies, rate, &format!("at 2s crash S{}\n", victim + 1), "40s");
        let mut l = lab(&text);
        l.run_until(40 * SEC);
        let t = tracker(&l);
        let r = &t.repair;
        let k = homes(n, keys, copies as usize).iter().filter(|h| h.contains(&victim)).count() as u64;
        assert!(k > 0, "seed {seed}: the victim holds keys");
        let expected: Time = (k * SEC).div_ceil(rate);
        assert_eq!(r.repair_last, Some(expected), "seed {seed}: repair of {k} keys at {rate}/s");
        assert_eq!(r.copies, k, "seed {seed}: one copy per key the crashed member held");
        assert_eq!((r.at_risk, r.lost_peak, r.needless), (0, 0, 0), "seed {seed}: all back at R, nothing lost");
        let detect = r.detect_last.expect("declared");
        // The heartbeat detector's own bound (see faults_detectors.rs):
        // suspected within (timeout − η + lmin, timeout + lmax] of the
        // crash, declared `suspicion` later by the first member.
        assert!(detect > 210 * MS + 500 * MS && detect <= 320 * MS + 500 * MS, "seed {seed}: detect {detect}");
        assert_eq!(r.risk_last, Some(detect + expected), "seed {seed}: window at risk = detect + repair");
        for key in 0..keys {
            assert_eq!(r.available(key), copies, "seed {seed}: key {key} has R copies again");
        }
    }
}

// R = 2: a key is lost when both its members crash before it is copied.
// S2 and S5 crash 50 ms apart, long before either is declared failed (at
// least 710 ms after its crash), so every key placed on exactly {S2, S5}
// loses both copies: that many keys are lost, exactly. The same two
// crashes ten seconds apart, after the first repair has ended (about
// 0.8 s + K / 500 s), lose nothing: the window of data at risk closed.
// With R = 3 the two close crashes lose nothing either.
#[test]
fn data_is_lost_only_when_r_members_crash_within_the_repair_window() {
    let (n, keys) = (10u32, 3000u32);
    let both = homes(n, keys, 2).iter().filter(|h| h.contains(&1) && h.contains(&4)).count() as u32;
    assert!(both > 0, "some keys live on both S2 and S5");
    let close = scenario(4, n, keys, 2, 500, "at 2s crash S2\nat 2.05s crash S5\n", "30s");
    let mut l = lab(&close);
    l.run_until(30 * SEC);
    let r = &tracker(&l).repair;
    assert_eq!(r.lost_peak, both, "keys on both crashed members are lost");
    assert_eq!(r.lost, both, "and stay lost: no member holding them came back");

    let apart = scenario(4, n, keys, 2, 500, "at 2s crash S2\nat 12s crash S5\n", "30s");
    let mut l = lab(&apart);
    l.run_until(30 * SEC);
    let r = &tracker(&l).repair;
    let first = r.log.first().expect("the first repair ended");
    assert!(first.ended < 12 * SEC, "the first repair ended before the second crash: {}", first.ended);
    assert_eq!(r.lost_peak, 0, "no key lost when the crashes are further apart than the repair window");
    assert_eq!(r.at_risk, 0);

    let three = scenario(4, n, keys, 3, 500, "at 2s crash S2\nat 2.05s crash S5\n", "30s");
    let mut l = lab(&three);
    l.run_until(30 * SEC);
    assert_eq!(tracker(&l).repair.lost_peak, 0, "R = 3 survives two crashes at once");
}

// A false suspicion: S4 pauses for 1.5 s (garbage collection) but does not
// crash. The heartbeat detector suspects it 210–320 ms after the pause and
// declares it dead 500 ms later, so the repair starts for a member that is
// up; when S4 resumes, its heartbeats arrive and every member trusts it
// again, and it rejoins. The copies made in between are the stream's slots
// up to the rejoin: #{j ≥ 1 : declared + ⌈j·10⁶ / rate⌉ ≤ rejoined}, at most
// the keys S4 holds. Every one is needless and is dropped as surplus when
// S4 rejoins, and no key was lost.
#[test]
fn a_false_suspicion_makes_exactly_the_expected_needless_copies() {
    for (seed, rate) in [(5u64, 400u64), (6, 1000), (7, 37)] {
        let (n, keys, copies) = (8u32, 4000u32, 3u32);
        let text = scenario(seed, n, keys, copies, rate, "at 2s pause S4\nat 3.5s resume S4\n", "10s");
        let mut l = lab(&text);
        l.run_until(10 * SEC);
        let t = tracker(&l);
        let r = &t.repair;
        assert_eq!(t.detections, 0, "seed {seed}: nothing crashed");
        let rec = *r.log.first().expect("a repair was started and ended");
        assert_eq!(rec.member, 3);
        assert!(rec.rejoined, "seed {seed}: it ended by S4 rejoining");
        assert!(
            rec.declared > 2 * SEC + 710 * MS && rec.declared <= 2 * SEC + 820 * MS,
            "seed {seed}: declared at {}",
            rec.declared
        );
        assert!(rec.ended >= 3500 * MS && rec.ended <= 3500 * MS + 220 * MS, "seed {seed}: rejoined at {}", rec.ended);
        let k = homes(n, keys, copies as usize).iter().filter(|h| h.contains(&3)).count() as u64;
        let slots = (1..=k).take_while(|j| rec.declared + (j * SEC).div_ceil(rate) <= rec.ended).count() as u64;
        assert!(slots > 0, "seed {seed}: the pause outlasted the declaration");
        assert_eq!(r.needless, slots, "seed {seed}: needless copies");
        assert_eq!(r.copies, slots, "seed {seed}: every copy was needless");
        assert_eq!(r.dropped, slots, "seed {seed}: each surplus copy dropped at the rejoin");
        assert_eq!((r.at_risk, r.lost_peak), (0, 0), "seed {seed}");
        assert_eq!(r.log.len(), 1);
    }
}
