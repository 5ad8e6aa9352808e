//! DESIGN.md principle 4: what the UI records while a user plays is what a
//! link replays. Whatever a user does live (run, step, act, at any moment),
//! replaying the recorded scenario from scratch gives the same trace
//! fingerprint at the same virtual time, in both labs.

use clusterscope_core::lab::registry::parse_action;
use clusterscope_core::lab::Lab;
use clusterscope_core::scenario::{LabKind, Scenario};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Move {
    Run(u64),
    Step,
    Act(&'static str),
}

fn raft_move() -> impl Strategy<Value = Move> {
    prop_oneof![
        (1u64..400_000).prop_map(Move::Run),
        Just(Move::Step),
        prop::sample::select(vec![
            "crash S1",
            "restart S1",
            "crash S3",
            "restart S3",
            "pause S2",
            "resume S2",
            "timeout S4",
            "request S5",
            "request S2",
            "partition S1,S2 | S3,S4,S5",
            "block S4 S5",
            "heal",
            "set loss 20%",
            "set loss 0%",
            "set latency_max 80ms",
            "set request_rate 50",
            "add S6",
            "add S7",
            "remove S2",
            "remove S1",
            "remove S6",
        ])
        .prop_map(Move::Act),
    ]
}

fn ring_move() -> impl Strategy<Value = Move> {
    prop_oneof![
        (1u64..2_000_000).prop_map(Move::Run),
        Just(Move::Step),
        prop::sample::select(vec![
            "add",
            "add weight 300",
            "crash S2",
            "restart S2",
            "remove S4",
            "weight S1 250",
            "vnodes S3 7",
            "set algorithm jump",
            "set algorithm ring",
            "set epsilon 5%",
        ])
        .prop_map(Move::Act),
    ]
}

/// Does what a user does: run on, step, or act now. Some actions are refused
/// in some states (restarting a running server, removing the last one): a
/// refusal records nothing, as in the app.
fn apply(lab: &mut Lab, kind: LabKind, m: &Move) -> Result<(), TestCaseError> {
    match m {
        Move::Run(dt) => lab.run_until(lab.now() + dt),
        Move::Step => {
            lab.step();
        }
        Move::Act(text) => {
            let action = parse_action(kind, text).map_err(TestCaseError::fail)?;
            let _ = lab.act(action);
        }
    }
    Ok(())
}

fn play(lab_kind: LabKind, seed: u64, moves: &[Move]) -> Result<(), TestCaseError> {
    let mut scn = Scenario::new(lab_kind, seed);
    if lab_kind == clusterscope_core::ring::lab::kind() {
        scn.set("keys", 2_000).map_err(TestCaseError::fail)?;
    }
    if lab_kind == clusterscope_core::raft::lab::kind() {
        // Spare slots for membership changes, and snapshots often.
        scn.set("max_servers", 7).map_err(TestCaseError::fail)?;
        scn.set("snapshot_every", 20).map_err(TestCaseError::fail)?;
    }
    let mut lab = Lab::new(&scn).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for m in moves {
        apply(&mut lab, lab_kind, m)?;
    }
    let recorded = lab.scenario();
    let replayed = Lab::replay(&recorded).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(replayed.now(), lab.now());
    prop_assert_eq!(replayed.fingerprint(), lab.fingerprint(), "scenario:\n{}", recorded.to_text());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn raft_live_play_replays_identically(seed in any::<u64>(), moves in prop::collection::vec(raft_move(), 1..30)) {
        play(clusterscope_core::raft::lab::kind(), seed, &moves)?;
    }

    #[test]
    fn ring_live_play_replays_identically(seed in any::<u64>(), moves in prop::collection::vec(ring_move(), 1..20)) {
        play(clusterscope_core::ring::lab::kind(), seed, &moves)?;
    }
}

// Time travel (DESIGN.md principle 4): the worker seeks back by cloning the
// nearest older snapshot, handing it the actions recorded since, and running
// it forward. That must land on exactly the state a replay reaches.
fn seek(seed: u64, moves: &[Move], back: u64) -> Result<(), TestCaseError> {
    let scn = Scenario::new(clusterscope_core::raft::lab::kind(), seed);
    let mut lab = Lab::new(&scn).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut snapshots = vec![lab.clone()];
    for m in moves {
        apply(&mut lab, clusterscope_core::raft::lab::kind(), m)?;
        if lab.now() >= snapshots.last().map_or(0, Lab::now) + 300_000 {
            snapshots.push(lab.clone());
        }
    }
    let target = lab.now().saturating_sub(back);
    let mut from = snapshots.iter().rev().find(|s| s.now() <= target).cloned().expect("the first snapshot is at 0");
    from.adopt_actions(lab.scenario().actions);
    from.run_until(target);
    let replayed =
        Lab::replay(&Scenario { until: target, ..lab.scenario() }).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(from.now(), replayed.now());
    prop_assert_eq!(from.fingerprint(), replayed.fingerprint());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn seeking_back_from_a_snapshot_equals_a_replay(
        seed in any::<u64>(),
        moves in prop::collection::vec(raft_move(), 1..30),
        back in 0u64..3_000_000,
    ) {
        seek(seed, &moves, back)?;
    }
}
