//! The quorum lab's own drawing says what the run holds: each key's
//! replicas are its preference list on the Ring lab's ring (Dynamo, SOSP
//! 2007, §4.3: the first N distinct servers clockwise from the key), a
//! replica that missed writes is marked stale, hints wait at stand-ins
//! while their replica is down and are gone once handed back (§4.6), and
//! drawing never changes the run.

mod quorum_common;

use clusterscope_core::lab::Lab;
use clusterscope_core::quorum::view::{QuorumView, ReplicaState, WATCHED_KEYS};
use clusterscope_core::ring::{uniform_nodes, HashKind, Placement, VnodeRing};
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::SEC;
use quorum_common::*;

/// The lab's view in a full frame now.
fn view(lab: &mut Lab) -> QuorumView {
    let bytes = lab.frame(true).view.expect("the quorum lab sends its own view");
    bincode::deserialize(&bytes).expect("a QuorumView")
}

fn lab_at(text: &str, t: u64) -> Lab {
    quorum();
    let scn = Scenario::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut lab = Lab::new(&scn).unwrap_or_else(|e| panic!("{e}"));
    lab.run_until(t);
    lab
}

/// S2 is down from 1 s to 3 s; clients write until 2 s; W = 1, and nothing
/// (no read repair, hinted handoff or anti-entropy) brings S2 the writes
/// it missed.
const MISSED: &str = "# missed\nlab quorum\nseed 7\nnodes 5\nvnodes 16\nreplicas 3\nr 1\nw 1\nkeys 6\n\
    request_rate 100\ncheck_history off\nat 1s crash S2\nat 2s set request_rate 0\nat 3s restart S2\nuntil 5s\n";

// Dynamo §4.3: a key's replicas are the first N distinct servers met
// walking the ring clockwise from the key's hash. The ring is built here
// from the Ring lab's code, not taken from the quorum lab.
#[test]
fn each_key_is_drawn_with_its_preference_list() {
    let mut lab = lab_at(MISSED, 5 * SEC);
    let v = view(&mut lab);
    let ring = VnodeRing::new(&uniform_nodes(5, 16), HashKind::Xxh3).unwrap();
    assert_eq!((v.n, v.r, v.w, v.keys_total), (3, 1, 1, 6));
    assert_eq!(v.keys.len(), 6, "6 keys, all watched (at most {WATCHED_KEYS})");
    assert_eq!(v.ring.points_total, 80, "5 servers x 16 virtual nodes");
    for k in &v.keys {
        let hash = HashKind::Xxh3.hash_u64(u64::from(k.key));
        let servers: Vec<u32> = k.replicas.iter().map(|r| r.server).collect();
        assert_eq!(servers, ring.preference_list(hash, 3), "key {}", k.key);
        assert_eq!(k.position, (hash >> 48) as u16, "key {} drawn where it hashes", k.key);
    }
}

// With W = 1 a write is acknowledged by the first replica to store it;
// S2, down while its keys were written, still holds older versions when
// it comes back: the drawing marks it stale for those keys and the other
// replicas current.
#[test]
fn a_replica_that_missed_writes_is_drawn_stale() {
    let mut lab = lab_at(MISSED, 5 * SEC);
    let v = view(&mut lab);
    let mut s2_keys = 0;
    for k in &v.keys {
        assert!(k.written.is_some(), "key {} was written", k.key);
        for r in &k.replicas {
            let want = if r.server == 1 { ReplicaState::Stale } else { ReplicaState::Current };
            assert_eq!(r.state, want, "key {}: S{} holds {:?}", k.key, r.server + 1, r.value);
        }
        s2_keys += usize::from(k.replicas.iter().any(|r| r.server == 1));
    }
    assert!(s2_keys > 0, "S2 replicates some of the keys");
    assert!(v.up.iter().all(|&u| u), "every server is up again");
}

/// The hinted-handoff preset: S2 down from 1 s to 4 s, sloppy quorums on.
const HANDOFF: &str = include_str!("../../../tests/scenarios/quorum/hinted-handoff.scn");

// Dynamo §4.6: while S2 is down, the writes meant for it wait as hints at
// the next servers on the ring past the key's N replicas; once S2 is back
// the hints are handed over and deleted, and every replica is current.
#[test]
fn hints_wait_while_a_replica_is_down_and_go_after_handoff() {
    let mut lab = lab_at(HANDOFF, 3 * SEC);
    let v = view(&mut lab);
    assert!(!v.up[1], "S2 is down");
    assert!(v.hints_total > 0, "stand-ins keep hints for S2");
    assert_eq!(v.hints_total, v.hints.iter().map(|h| h.count).sum::<u32>());
    assert_eq!(f64::from(v.hints_total), metric(&mut lab, "hints"), "the drawing counts what the metric counts");
    let cfg = cluster(&lab).sim().protocol_config().clone();
    for h in &v.hints {
        assert_eq!(h.for_node, 1, "every hint is for S2");
        assert_ne!(h.holder, 1);
        for &key in &h.keys {
            let list = &cfg.prefs[key as usize];
            let place = list.iter().position(|&s| s == h.holder).unwrap();
            assert!(place >= 3, "S{} stands in for key {key}: past its 3 replicas {list:?}", h.holder + 1);
            assert!(cfg.home(key).contains(&1), "key {key} is one of S2's");
        }
    }
    // Commands in flight wait for W = 2 (writes) or R = 2 (reads), and only
    // servers asked have answered.
    assert!(v.ops.iter().all(|o| o.need == 2));
    for o in &v.ops {
        let asked = |s: &u32| o.asked.contains(s) || o.stand_ins.iter().any(|(_, st)| st == s);
        assert!(o.answered.iter().all(asked), "{o:?}");
    }

    lab.run_until(8 * SEC);
    let v = view(&mut lab);
    assert!(v.up[1]);
    assert_eq!(v.hints_total, 0, "every hint was handed back");
    assert!(v.hints.is_empty());
    for k in &v.keys {
        assert!(k.replicas.iter().all(|r| r.state == ReplicaState::Current), "key {}: {:?}", k.key, k.replicas);
    }
}

// The drawing is built when the page asks for a frame; asking for one
// after every event must leave the run exactly as it was.
#[test]
fn drawing_does_not_change_the_run() {
    let text = HANDOFF.replace("until 8s", "until 5s");
    let quiet = replay(&text);
    quorum();
    let mut drawn = Lab::new(&Scenario::parse(&text).unwrap()).unwrap();
    let mut frames = 0u32;
    while drawn.now() < 5 * SEC && drawn.step_event() {
        if drawn.position().is_multiple_of(7) {
            let _ = drawn.frame(frames.is_multiple_of(5));
            frames += 1;
        }
    }
    drawn.run_until(5 * SEC);
    assert!(frames > 100);
    assert_eq!(drawn.fingerprint(), quiet.fingerprint());
}

// The view goes with every frame that changes it, so it has a bound
// whatever the lab's size: at the largest ring (64 servers with 1,000
// virtual nodes each, 64 keys, N = 9) under load with servers down and
// hints piling up, it keeps 160 ring points, 8 keys, 8 commands and 24
// rows of hints, a few kilobytes in all.
#[test]
fn the_view_stays_small_on_the_largest_ring() {
    let text = "# big\nlab quorum\nseed 3\nnodes 64\nvnodes 1000\nreplicas 9\nr 5\nw 5\nkeys 64\nsloppy on\n\
        request_rate 2000\ncheck_history off\nat 500ms crash S2\nat 500ms crash S9\nat 500ms crash S30\nuntil 1500ms\n";
    let mut lab = lab_at(text, 1500 * clusterscope_core::sim::MS);
    let bytes = lab.frame(true).view.expect("a view");
    let v: QuorumView = bincode::deserialize(&bytes).unwrap();
    assert_eq!(v.ring.points_total, 64_000);
    assert!(v.ring.points.len() <= 160);
    assert_eq!(v.keys.len(), WATCHED_KEYS);
    assert!(v.keys.iter().all(|k| k.replicas.len() == 9));
    assert!(v.ops.len() <= 8 && v.hints.len() <= 24);
    assert!(v.hints_total > 0, "hints pile up for the three servers down");
    assert!(bytes.len() <= 6_000, "{} bytes", bytes.len());
}
