//! Every file in tests/scenarios/locks ends as it declares: no checker
//! fires except in a `bug-` file, which names the one that must
//! (`expect violation "..."`); every `expect` line holds; a replay and a
//! share link give the same fingerprint (DESIGN.md, principles 1 and 4).
//! (Once the lab is built in, crates/core/tests/scenario_files.rs runs
//! them too, with every other lab's.) Then the lab's presets are its
//! files, and what a user types gets a sentence when it is wrong.

mod locks_common;

use clusterscope_core::lab::{registry, Lab};
use clusterscope_core::locks::lab::LAB;
use clusterscope_core::scenario::{link, Scenario};
use std::path::PathBuf;

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios/locks")
}

fn files() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(folder())
        .expect("tests/scenarios/locks exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "scn"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_locks_file_ends_as_it_declares_and_replays_identically() {
    locks_common::locks();
    let files = files();
    assert!(files.len() >= 10, "{files:?}");
    for path in files {
        let name = path.display();
        let text = std::fs::read_to_string(&path).expect("readable");
        let scn = Scenario::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!scn.title.is_empty(), "{name}: opens with a comment saying what it shows");
        let mut lab = Lab::replay(&scn).unwrap_or_else(|e| panic!("{name}: {e}"));
        let buggy = path.file_name().is_some_and(|f| f.to_string_lossy().starts_with("bug-"));
        assert_eq!(lab.violation().is_some(), buggy, "{name}: {:?}", lab.violation_text());
        assert_eq!(scn.expects.iter().filter(|e| e.violation.is_some()).count(), usize::from(buggy), "{name}");
        for e in &scn.expects {
            lab.check(e).unwrap_or_else(|m| panic!("{name}: {m}"));
        }
        assert_eq!(Lab::replay(&scn).expect("replays").fingerprint(), lab.fingerprint(), "{name}: deterministic");
        let via_link = link::decode(&link::encode(&scn).expect("encodes")).expect("decodes");
        assert_eq!(Lab::replay(&via_link).expect("replays").fingerprint(), lab.fingerprint(), "{name}: link");
    }
}

// Every preset is a file of the folder, the default first, and every
// file but the benchmark's is a preset.
#[test]
fn the_presets_are_the_files() {
    assert_eq!(LAB.presets[0].1, std::fs::read_to_string(folder().join("default.scn")).expect("readable"));
    for path in files() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let listed = LAB.presets.iter().any(|(_, t)| *t == text);
        let bench = path.file_name().is_some_and(|f| f == "bench.scn");
        assert_eq!(listed, !bench, "{}", path.display());
    }
}

// DESIGN.md principle 4: what a user does live is recorded and replays to
// the same run; principle 6: a refused action changes nothing and says why.
#[test]
fn live_actions_are_recorded_and_mistakes_explained() {
    locks_common::locks();
    let kind = clusterscope_core::locks::lab::kind();
    let mut lab =
        Lab::new(&Scenario::parse("lab locks\nseed 2\nclients 3\nkeyspace 1\n").expect("parses")).expect("builds");
    let act = |lab: &mut Lab, text: &str| lab.act(registry::parse_action(kind, text).expect("parses"));
    lab.run_until(120_000);
    act(&mut lab, "pause S3").expect("pauses a client");
    act(&mut lab, "timeout S4").expect("starts a transaction");
    act(&mut lab, "crash S2").expect("crashes the lock server");
    lab.run_until(900_000);
    act(&mut lab, "restart S2").expect("restarts it");
    act(&mut lab, "resume S3").expect("resumes the client");
    lab.run_until(2_000_000);
    let recorded = lab.scenario();
    assert_eq!(recorded.actions.len(), 5, "{}", recorded.to_text());
    assert_eq!(Lab::replay(&recorded).expect("replays").fingerprint(), lab.fingerprint());

    let error = |text: &str| Scenario::parse(text).expect_err("refused").to_string();
    assert!(error("lab locks\nclients 2\nat 1s timeout S9\n").contains("S9"));
    assert!(error("lab locks\nat 1s request S3\n").contains("not an action of the locks lab"));
    assert!(error("lab locks\nclients 201\n").contains("between 1 and 200"));
    assert!(error("lab locks\nkeyspace 100001\n").contains("between 1 and 100000"));
    assert!(error("lab locks\nstrategy careful\n").contains("careful"));
}

/// Issue #23, Drawing: "clients, lock servers and storage as their own
/// shapes". Every node the lab draws has the form of its kind: the
/// storage a square, a lock server (alone or on Raft, in any role) a
/// diamond, a client (in any phase) a circle.
#[test]
fn storage_lock_servers_and_clients_each_have_their_own_shape() {
    use clusterscope_core::lab::NodeForm;
    for text in ["lab locks\nclients 4\nuntil 2s\n", "lab locks\nservice raft\nlock_servers 3\nclients 4\nuntil 2s\n"] {
        let mut lab = Lab::replay(&Scenario::parse(text).expect("parses")).expect("runs");
        let schema = lab.schema();
        let frame = lab.frame(true);
        let servers = if text.contains("raft") { 3 } else { 1 };
        assert_eq!(frame.nodes.len(), 1 + servers + 4, "{text}");
        for n in &frame.nodes {
            let want = match n.id as usize {
                0 => NodeForm::Square,
                i if i <= servers => NodeForm::Diamond,
                _ => NodeForm::Circle,
            };
            assert_eq!(schema.role_form(n.role), want, "S{} in role {} ({text})", n.id + 1, schema.role_name(n.role));
        }
    }
}
