//! The failure-detection page's matrix: each member's view of the others
//! as the frames carry it (`faults::view::FaultsView`, decoded from
//! `Frame::view` as the page decodes it), against the detector's
//! arithmetic and the ground truth.

use clusterscope_core::faults::lab::ENGINE;
use clusterscope_core::faults::view::{FaultsView, Opinion, Truth, MATRIX_MAX};
use clusterscope_core::lab::{registry, Lab};
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{Time, MS, SEC};

fn lab(text: &str) -> Lab {
    let _ = registry::register_engine(&ENGINE);
    Lab::new(&Scenario::parse(text).expect("valid scenario")).expect("builds")
}

/// The view a full frame at `t` carries, as the page decodes it.
fn view_at(l: &mut Lab, t: Time) -> FaultsView {
    l.run_until(t);
    let bytes = l.frame(true).view.expect("a faults frame carries the lab's view");
    bincode::deserialize(&bytes).expect("the view decodes")
}

/// The column of `member`: what every other live member thinks of it.
fn column(v: &FaultsView, member: u32) -> Vec<Opinion> {
    (0..v.n)
        .filter(|&o| o != member && v.truth_of(o) != Truth::Crashed)
        .map(|o| v.opinion(o, member).expect("matrix held"))
        .collect()
}

// Heartbeats with a fixed timeout (the arithmetic of tests/scenarios/
// faults/default.scn and faults_detectors.rs): a crashed member's last
// heartbeat reaches each member at most `timeout + latency_max` before
// that member suspects it, and it declares it dead `suspicion` later. So
// by crash + timeout + latency_max + suspicion (300 + 20 + 500 ms) every
// live member's row shows the crashed member declared dead; and before
// crash + timeout − heartbeat + latency_min (210 ms) none even suspects it.
#[test]
fn after_a_crash_every_live_row_turns_dead_within_the_bound() {
    for seed in 1..=6u64 {
        let crash = 2 * SEC + seed * 23 * MS;
        let text = format!(
            "lab faults\nseed {seed}\nnodes 8\ndetector heartbeat\nheartbeat 100ms\ntimeout 300ms\nsuspicion 500ms\nlatency_min 10ms\nlatency_max 20ms\nat {}ms crash S3\nuntil 4s\n",
            crash / MS
        );
        let mut l = lab(&text);
        let early = view_at(&mut l, crash + 200 * MS);
        assert!(early.has_matrix(), "8 members: the whole matrix");
        assert_eq!(early.truth_of(2), Truth::Crashed);
        assert!(column(&early, 2).iter().all(|&o| o == Opinion::Alive), "seed {seed}: no one suspects S3 yet");
        let v = view_at(&mut l, crash + (300 + 20 + 500) * MS);
        assert_eq!(v.n, 8);
        assert_eq!(column(&v, 2), vec![Opinion::Dead; 7], "seed {seed}: every live member holds S3 dead");
        // The crashed member's own row: it holds no view.
        assert!((0..8).all(|m| v.opinion(2, m) == Some(Opinion::NoView)), "seed {seed}: S3's row is empty");
        // Nobody else is doubted.
        for m in (0..8).filter(|&m| m != 2) {
            assert_eq!(column(&v, m), vec![Opinion::Alive; 6], "seed {seed}: S{} trusted by the 6 others", m + 1);
        }
        assert_eq!(v.dead_by[2], 7);
        assert_eq!(v.summary(3), vec!["All 7 live members hold S3 dead: it has crashed, detected".to_string()]);
    }
}

// The preset "A garbage-collection pause: a short timeout suspects"
// (tests/scenarios/faults/gc-pause-short-timeout.scn): S4 pauses at 2 s
// for 400 ms; its last heartbeat reached each member by 2.02 s, so every
// member suspects it by 2.27 s (timeout 250 ms), falsely: S4 is paused,
// not crashed; nobody declares it dead (suspicion 500 ms is longer than
// the pause), and once it resumes everyone trusts it again.
#[test]
fn a_paused_member_is_shown_suspected_but_up() {
    let mut l = lab(include_str!("../../../tests/scenarios/faults/gc-pause-short-timeout.scn"));
    let v = view_at(&mut l, 2390 * MS);
    assert_eq!(v.truth_of(3), Truth::Paused);
    assert_eq!(column(&v, 3), vec![Opinion::Suspected; 7], "every other member suspects S4");
    assert!(v.falsely_suspected(3), "suspected, but not crashed: a false suspicion");
    assert_eq!(v.summary(3), vec!["7 members suspect S4, which is paused: a false suspicion".to_string()]);
    let after = view_at(&mut l, 4 * SEC);
    assert_eq!(after.truth_of(3), Truth::Up);
    assert!(column(&after, 3).iter().all(|&o| o == Opinion::Alive), "S4 trusted again after it resumed");
    assert!(!after.falsely_suspected(3));
}

// Above MATRIX_MAX members the view holds no matrix (the page draws one
// bar per member) but still every member's counts and truth.
#[test]
fn above_the_matrix_limit_only_counts_travel() {
    let n = MATRIX_MAX + 36;
    let text = format!(
        "lab faults\nseed 3\nnodes {n}\ndetector heartbeat\nheartbeat 100ms\ntimeout 300ms\nsuspicion 500ms\nlatency_min 10ms\nlatency_max 20ms\nat 1s crash S7\nuntil 3s\n"
    );
    let mut l = lab(&text);
    let v = view_at(&mut l, 2 * SEC);
    assert_eq!(v.n, n);
    assert!(!v.has_matrix() && v.cells.is_empty());
    assert_eq!((v.truth.len(), v.suspected_by.len(), v.dead_by.len()), (n as usize, n as usize, n as usize));
    assert_eq!(v.dead_by[6], (n - 1) as u16, "every live member holds S7 dead a second after its crash");
    assert_eq!(v.truth_of(6), Truth::Crashed);
}

// The space-time diagram marks the moment each member suspects (issue 25,
// "Drawing": "in the space-time diagram, the moment each member
// suspects"), and its tooltip names whom: a suspicion's mark is on the
// suspecting member's lane and its record names the suspected member. In
// the same fixed-timeout world as above, S3 crashes and each of the other
// seven marks "Suspect" and then "DeclareDead", each about S3, at most
// once each; no mark is about anyone else.
#[test]
fn the_diagrams_suspicion_marks_name_the_member_suspected() {
    use clusterscope_core::lab::diagram::What;
    let text = "lab faults\nseed 3\nnodes 8\ndetector heartbeat\nheartbeat 100ms\ntimeout 300ms\nsuspicion 500ms\nlatency_min 10ms\nlatency_max 20ms\nat 2s crash S3\nuntil 4s\n";
    let mut l = lab(text);
    l.record_diagram(true);
    let (mut records, mut names) = (Vec::new(), Vec::new());
    for t in 1..=8 {
        l.run_until(t * SEC / 2);
        if let Some(chunk) = l.take_diagram() {
            names.extend(chunk.names.iter().cloned());
            records.extend(chunk.unpack());
        }
    }
    let marks = |name: &str| -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = records
            .iter()
            .filter(|r| r.what == What::Note && names.get(r.kind as usize).map(String::as_str) == Some(name))
            .map(|r| (r.from, r.to))
            .collect();
        v.sort_unstable();
        v
    };
    let everyone_about_s3: Vec<(u32, u32)> = (0..8).filter(|&m| m != 2).map(|m| (m, 2)).collect();
    assert_eq!(marks("Suspect"), everyone_about_s3, "each live member suspects S3 once, and its mark says so");
    assert_eq!(marks("DeclareDead"), everyone_about_s3, "each live member declares S3 dead once");
}
