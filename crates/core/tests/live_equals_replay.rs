//! DESIGN.md principle 4: what the UI records while a user plays is what a
//! link replays. Whatever a user does live (run, step, act, at any moment),
//! replaying the recorded scenario from scratch gives the same trace
//! fingerprint at the same virtual time, in every registered lab; and
//! seeking back from a snapshot, as the worker does, lands where a replay
//! does.
//!
//! Every lab is taken from the registry, with no list here: its presets
//! give the configurations played (each with a random seed) and the
//! vocabulary of actions (every action any of its presets takes). Every
//! action is checked for what happened to it: accepted and recorded as the
//! scenario's last action, or refused with a message and nothing changed
//! (state and recording). Each lab must see many actions accepted, so an
//! `act` that refused everything (and so trivially replays) fails.

use clusterscope_core::lab::registry;
use clusterscope_core::lab::{Lab, LabDef};
use clusterscope_core::scenario::{Scenario, Timed};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;

#[derive(Clone, Debug)]
enum Move {
    Run(u64),
    Step,
    Act(String),
}

/// A lab's presets, without their actions, expectations and sweeps: the
/// configurations played.
fn bases(def: &LabDef) -> Vec<Scenario> {
    def.presets
        .iter()
        .map(|(title, text)| {
            let scn = Scenario::parse(text).unwrap_or_else(|e| panic!("{}: preset {title}: {e}", def.name));
            Scenario { actions: Vec::new(), expects: Vec::new(), until: 0, tune: None, ..scn }
        })
        .collect()
}

/// Every action any preset of the lab takes, as its file writes it (the
/// rest of each `at TIME ...` line; `say` lines are captions, not actions).
fn vocabulary(def: &LabDef) -> Vec<String> {
    let mut out: Vec<String> = def
        .presets
        .iter()
        .flat_map(|(_, text)| text.lines())
        .filter_map(|line| line.trim().strip_prefix("at "))
        .filter_map(|rest| rest.split_once(' ').map(|(_, action)| action.trim().to_string()))
        .filter(|action| !action.starts_with("say "))
        .collect();
    out.sort();
    out.dedup();
    assert!(out.len() >= 3, "{}: only {} distinct actions in its presets: {out:?}", def.name, out.len());
    out
}

fn moves(vocab: Vec<String>, horizon: u64) -> impl Strategy<Value = Move> {
    prop_oneof![(1u64..horizon).prop_map(Move::Run), Just(Move::Step), prop::sample::select(vocab).prop_map(Move::Act),]
}

/// Accepted and refused actions, over all cases of a lab.
#[derive(Default)]
struct Tally {
    accepted: Cell<u32>,
    refused: Cell<u32>,
}

/// Does what a user does: run on, step, or act now. An accepted action is
/// recorded as the scenario's last action at the current time; a refused
/// one (restarting a running server, removing the last one, acting after a
/// violation stopped the run) comes with a message and changes nothing.
fn apply(lab: &mut Lab, def: &LabDef, m: &Move, tally: &Tally) -> Result<(), TestCaseError> {
    match m {
        Move::Run(dt) => lab.run_until(lab.now() + dt),
        Move::Step => {
            lab.step();
        }
        Move::Act(text) => {
            let action = registry::parse_action(lab.kind(), text).map_err(TestCaseError::fail)?;
            // What is due now happens first in `act`, as in a replay.
            lab.run_until(lab.now());
            let (before, recorded, now) = (lab.fingerprint(), lab.scenario().actions, lab.now());
            match lab.act(action.clone()) {
                Ok(()) => {
                    tally.accepted.set(tally.accepted.get() + 1);
                    let after = lab.scenario().actions;
                    prop_assert_eq!(after.len(), recorded.len() + 1, "{}: '{}' accepted, not recorded", def.name, text);
                    prop_assert_eq!(after.last(), Some(&Timed { at: now, action }));
                }
                Err(e) => {
                    tally.refused.set(tally.refused.get() + 1);
                    prop_assert!(!e.to_string().is_empty(), "{}: '{}' refused without a message", def.name, text);
                    prop_assert_eq!(
                        lab.fingerprint(),
                        before,
                        "{}: '{}' refused ({}) but changed the run",
                        def.name,
                        text,
                        e
                    );
                    prop_assert_eq!(lab.scenario().actions, recorded, "{}: '{}' refused but recorded", def.name, text);
                }
            }
        }
    }
    Ok(())
}

fn play(def: &LabDef, base: &Scenario, seed: u64, moves: &[Move], tally: &Tally) -> Result<(), TestCaseError> {
    let scn = Scenario { seed, ..base.clone() };
    let mut lab = Lab::new(&scn).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for m in moves {
        apply(&mut lab, def, m, tally)?;
    }
    let recorded = lab.scenario();
    let replayed = Lab::replay(&recorded).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(replayed.now(), lab.now());
    prop_assert_eq!(replayed.fingerprint(), lab.fingerprint(), "{}: scenario:\n{}", def.name, recorded.to_text());
    Ok(())
}

// Time travel (DESIGN.md principle 4): the worker seeks back by cloning the
// nearest older snapshot, handing it the actions recorded since, and running
// it forward. That must land on exactly the state a replay reaches.
fn seek(
    def: &LabDef,
    base: &Scenario,
    seed: u64,
    moves: &[Move],
    back: u64,
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let scn = Scenario { seed, ..base.clone() };
    let mut lab = Lab::new(&scn).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut snapshots = vec![lab.clone()];
    for m in moves {
        apply(&mut lab, def, m, tally)?;
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
    prop_assert_eq!(from.fingerprint(), replayed.fingerprint(), "{}: seeking back to {} µs", def.name, target);
    Ok(())
}

/// Runs `cases` random plays of every registered lab through `f`; each lab
/// must accept at least a third of the actions tried.
fn every_lab(cases: u32, f: impl Fn(&LabDef, &Scenario, u64, &[Move], u64, &Tally) -> Result<(), TestCaseError>) {
    let labs = registry::all();
    assert!(labs.len() >= 4, "labs: {:?}", registry::names());
    for def in labs {
        let (bases, vocab) = (bases(def), vocabulary(def));
        let tally = Tally::default();
        let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
        let strategy =
            (0..bases.len(), any::<u64>(), prop::collection::vec(moves(vocab, 2_000_000), 1..30), 0u64..3_000_000);
        runner
            .run(&strategy, |(b, seed, moves, back)| f(def, &bases[b], seed, &moves, back, &tally))
            .unwrap_or_else(|e| panic!("{}: {e}", def.name));
        let (ok, no) = (tally.accepted.get(), tally.refused.get());
        println!("{}: {ok} actions accepted, {no} refused", def.name);
        assert!(ok >= (ok + no) / 3 && ok >= 50, "{}: {ok} actions accepted, {no} refused", def.name);
    }
}

#[test]
fn live_play_replays_identically_in_every_lab() {
    every_lab(120, |def, base, seed, moves, _, tally| play(def, base, seed, moves, tally));
}

#[test]
fn seeking_back_from_a_snapshot_equals_a_replay_in_every_lab() {
    every_lab(60, seek);
}
