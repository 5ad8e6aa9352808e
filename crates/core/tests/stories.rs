//! Presets are stories (issue 18): captions and a playback speed tell the
//! reader what to watch without changing the run, and a preset's timed
//! actions are its script, which goes on when the user acts during it.
//! DESIGN.md, "Presets are stories: a paragraph and timed captions; a
//! preset's timed actions are its script, kept when the user acts", and
//! principle 4 (what the page records is what the link replays).

use clusterscope_core::lab::registry::{self, parse_action};
use clusterscope_core::lab::{Lab, NodeStatus};
use clusterscope_core::scenario::{Action, Caption, Scenario, Timed};
use proptest::prelude::*;
use std::path::PathBuf;

fn preset(lab: &str, file: &str) -> Scenario {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios").join(lab).join(file);
    Scenario::parse(&std::fs::read_to_string(&path).expect("readable")).expect("parses")
}

fn every_file() -> Vec<(String, Scenario)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut out = Vec::new();
    for lab in registry::names() {
        for entry in std::fs::read_dir(root.join(lab)).expect("a folder per lab") {
            let path = entry.expect("readable").path();
            if path.extension().is_some_and(|e| e == "scn") {
                let text = std::fs::read_to_string(&path).expect("readable");
                out.push((path.display().to_string(), Scenario::parse(&text).expect("parses")));
            }
        }
    }
    out
}

// Captions and the speed are for the reader: a run with them is the run
// without them, event for event, in every scenario file (so rewriting the
// presets as stories leaves every recorded fingerprint as it was).
#[test]
fn captions_and_speed_never_change_a_run() {
    let files = every_file();
    assert!(files.iter().any(|(_, s)| !s.captions.is_empty()), "some preset tells a story");
    for (name, scn) in files {
        let plain = Scenario { captions: Vec::new(), speed: None, ..scn.clone() };
        let mut told = scn.clone();
        // A caption at every tenth of the run as well, where events happen.
        told.captions = (0..=10).map(|i| Caption { at: scn.until * i / 10, text: format!("Caption {i}") }).collect();
        let (a, b) = (Lab::replay(&plain).expect("runs"), Lab::replay(&told).expect("runs"));
        assert_eq!(a.fingerprint(), b.fingerprint(), "{name}: captions changed the run");
        assert_eq!(a.events(), b.events(), "{name}");
    }
}

// The report: in "Leader crash", crashing S5 at 4.6 s deleted the
// preset's `at 5s restart S1`, and S1 stayed down. Now the restart still
// happens, and the recorded scenario (the link) holds both, in time order,
// replaying to the same fingerprint.
#[test]
fn acting_during_a_preset_keeps_its_script() {
    let scn = Scenario { until: 0, ..preset("raft", "leader-crash.scn") };
    let mut lab = Lab::new(&scn).expect("builds");
    lab.run_until(4_600_000);
    assert_eq!(lab.script_left().len(), 1, "the restart is still to come");
    lab.act(parse_action(lab.kind(), "crash S5").expect("parses")).expect("S5 is up");
    lab.run_until(7_000_000);
    let recorded = lab.scenario();
    let actions: Vec<(u64, String)> = recorded.actions.iter().map(|t| (t.at, t.action.to_string())).collect();
    assert_eq!(
        actions,
        vec![(2_000_000, "crash S1".into()), (4_600_000, "crash S5".into()), (5_000_000, "restart S1".into())]
    );
    let nodes = lab.frame(true).nodes;
    assert_eq!(nodes[0].status, NodeStatus::Up, "the script restarted S1");
    assert_eq!(nodes[4].status, NodeStatus::Crashed, "the user's crash holds");
    let replayed = Lab::replay(&recorded).expect("replays");
    assert_eq!(replayed.fingerprint(), lab.fingerprint());
}

// "Take over" ends the script on purpose: the actions still to come go, and
// the recorded scenario no longer has them.
#[test]
fn taking_over_drops_the_rest_of_the_script() {
    let scn = Scenario { until: 0, ..preset("raft", "leader-crash.scn") };
    let mut lab = Lab::new(&scn).expect("builds");
    lab.run_until(3_000_000);
    assert_eq!(lab.drop_script(), 1);
    assert_eq!(lab.drop_script(), 0, "nothing left the second time");
    lab.run_until(7_000_000);
    assert_eq!(lab.scenario().actions, vec![Timed { at: 2_000_000, action: Action::Crash(0) }]);
    assert_eq!(lab.frame(true).nodes[0].status, NodeStatus::Crashed, "no one restarts S1 now");
}

fn act_move() -> impl Strategy<Value = (u64, &'static str)> {
    (
        1u64..1_500_000,
        prop::sample::select(vec![
            "crash S1",
            "restart S1",
            "crash S3",
            "restart S3",
            "pause S2",
            "resume S2",
            "timeout S4",
            "request S5",
            "partition S1,S2 | S3,S4,S5",
            "heal",
            "set loss 20%",
        ]),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    // Whatever a user does during a scripted run, every scripted action is
    // still in the recorded scenario, and that scenario replays to the same
    // fingerprint as the live run.
    #[test]
    fn a_script_survives_any_acts(seed in any::<u64>(), moves in prop::collection::vec(act_move(), 1..12)) {
        let kind = clusterscope_core::raft::lab::kind();
        let script = "lab raft\nseed 1\nrequest_rate 20\nat 1s crash S2\nat 2s restart S2\nat 3s partition S1 | S2,S3,S4,S5\nat 4s heal\nat 5s timeout S3\n";
        let scn = Scenario { seed, ..Scenario::parse(script).expect("parses") };
        let mut lab = Lab::new(&scn).expect("builds");
        for (dt, text) in moves {
            lab.run_until(lab.now() + dt);
            let _ = lab.act(parse_action(kind, text).expect("parses"));
        }
        lab.run_until(lab.now().max(6_000_000));
        let recorded = lab.scenario();
        for t in &scn.actions {
            prop_assert!(recorded.actions.contains(t), "{} was lost:\n{}", t.action, recorded.to_text());
        }
        let replayed = Lab::replay(&recorded).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(replayed.fingerprint(), lab.fingerprint(), "scenario:\n{}", recorded.to_text());
    }
}
