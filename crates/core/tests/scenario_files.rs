//! Every scenario file in tests/scenarios runs clean: no invariant breaks
//! (except in `bug-*` files, which switch on a deliberate bug and must be
//! caught by a checker), every `expect` line holds, a replay gives the same fingerprint, and so
//! does the scenario after a trip through a share link (DESIGN.md,
//! principles 1 and 4). The files are the app's presets, so this also
//! guards what users open with one click.

use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::{registry, Lab};
use clusterscope_core::raft::RaftNode;
use clusterscope_core::scenario::{link, Scenario};
use std::path::PathBuf;

fn files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut out = Vec::new();
    for lab in registry::names() {
        for entry in std::fs::read_dir(root.join(lab)).expect("every lab has a tests/scenarios/<lab> folder") {
            let path = entry.expect("readable").path();
            if path.extension().is_some_and(|e| e == "scn") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_scenario_file_runs_clean_and_replays_identically() {
    let files = files();
    assert!(files.len() >= 12, "found {}", files.len());
    for path in files {
        let name = path.display();
        let text = std::fs::read_to_string(&path).expect("readable");
        let scn = Scenario::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!scn.title.is_empty(), "{name}: a scenario opens with a comment saying what it shows");
        assert!(scn.until > 0, "{name}: give it an 'until' line");
        assert_eq!(
            path.parent().and_then(|p| p.file_name()).map(|f| f.to_string_lossy().to_string()),
            Some(scn.lab.name().to_string()),
            "{name}: in its lab's folder"
        );
        let mut lab = Lab::replay(&scn).unwrap_or_else(|e| panic!("{name}: {e}"));
        let buggy = path.file_name().is_some_and(|f| f.to_string_lossy().starts_with("bug-"));
        assert_eq!(lab.violation().is_some(), buggy, "{name}: {:?}", lab.violation());
        // A deliberate bug's file names the checker that must catch it
        // (`expect violation "NAME"`, checked below with the others).
        let names = scn.expects.iter().filter(|e| e.violation.is_some()).count();
        assert_eq!(names, usize::from(buggy), "{name}: a bug- file names its checker in one 'expect violation' line");
        for e in &scn.expects {
            if let Err(msg) = lab.check(e) {
                panic!("{name}: {msg}");
            }
        }
        let again = Lab::replay(&scn).expect("replays");
        assert_eq!(again.fingerprint(), lab.fingerprint(), "{name}: not deterministic");
        let via_link = link::decode(&link::encode(&scn).expect("encodes")).expect("link decodes");
        assert_eq!(
            Lab::replay(&via_link).expect("replays").fingerprint(),
            lab.fingerprint(),
            "{name}: link changes the run"
        );
    }
}

/// Where each scenario file's recorded fingerprint lives.
fn recorded_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenario_fingerprints.txt")
}

// DESIGN.md principle 1 (a run is defined by its lab, parameters, seed,
// actions and build) and issue 19 ("with jitter off, every existing
// scenario file keeps its fingerprint"): each file's fingerprint, as
// `clusterscope run FILE --fingerprint` prints it, is recorded in
// tests/scenario_fingerprints.txt. A change that moves a run it did not
// mean to move (a parameter whose default draws a random number, say)
// fails here, not only in a user's old link. A change that alters a lab's
// behaviour on purpose records the new ones with
// `UPDATE_FINGERPRINTS=1 cargo test -p clusterscope-core --test scenario_files`
// and says why in its commit; the diff shows which files moved.
#[test]
fn every_scenario_file_keeps_its_recorded_fingerprint() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut now = String::new();
    for path in files() {
        let scn = Scenario::parse(&std::fs::read_to_string(&path).expect("readable")).expect("valid");
        let name = path.strip_prefix(&root).expect("under tests/scenarios").to_string_lossy().replace('\\', "/");
        let lab = Lab::replay(&scn).expect("replays");
        now.push_str(&format!("{name} {:016x}\n", lab.fingerprint()));
    }
    if std::env::var("UPDATE_FINGERPRINTS").is_ok() {
        std::fs::write(recorded_path(), &now).expect("writable");
        return;
    }
    let recorded = std::fs::read_to_string(recorded_path()).unwrap_or_default();
    let differ = |a: &str, b: &str| a.lines().filter(|l| !b.lines().any(|m| m == *l)).collect::<Vec<_>>().join("\n");
    assert!(
        now == recorded,
        "scenario fingerprints differ from tests/scenario_fingerprints.txt\nnow:\n{}\nrecorded:\n{}\nIf the change \
         is meant, record them with UPDATE_FINGERPRINTS=1 cargo test -p clusterscope-core --test scenario_files",
        differ(&now, &recorded),
        differ(&recorded, &now)
    );
}

// Raft §5.4.2, Figure 8 (d): the term-1 entry S1 copied to a majority was
// never committed, and S5, elected with a log whose last term is higher,
// overwrote it on every server. The preset must show exactly that.
#[test]
fn the_figure_8_preset_shows_an_old_term_entry_overwritten() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios/raft/figure-8.scn");
    let scn = Scenario::parse(&std::fs::read_to_string(path).expect("readable")).expect("valid");
    let lab = Lab::replay(&scn).expect("runs");
    let lab = lab.model::<ClusterLab<RaftNode>>().expect("a raft scenario");
    let nodes = lab.sim().nodes();
    let s5 = &nodes[4].state;
    let entry2 = &s5.log()[1];
    assert_eq!(entry2.term, 2, "S5's own entry from term 2");
    for id in [1, 2, 3] {
        assert_eq!(&nodes[id].state.log()[1], entry2, "S{} holds S5's entry at index 2", id + 1);
    }
    let mid = Lab::replay(&Scenario { until: 1_200_000, ..scn.clone() }).expect("runs");
    let mid = mid.model::<ClusterLab<RaftNode>>().expect("a raft scenario");
    let n = mid.sim().nodes();
    // At 1.2 s, S1 (leader) has copied its term-1 entry to S3 and S4 ...
    assert!([0, 1, 2, 3].iter().all(|&i| n[i].state.log().get(1).map(|e| e.term) == Some(1)));
    // ... a majority, yet nobody counts it committed.
    assert!(n.iter().all(|x| x.state.commit_index() < 2), "an old-term entry was committed by counting");
}

// Checkers are components (DESIGN.md principle 3): with the Figure 8 bug on,
// a checker stops the run at the first event that breaks safety, and names
// itself, the time and what is wrong. Without the bug the same run is safe.
#[test]
fn the_figure_8_bug_is_caught_and_stops_the_run() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios/raft/bug-figure-8.scn");
    let scn = Scenario::parse(&std::fs::read_to_string(path).expect("readable")).expect("valid");
    let lab = Lab::replay(&scn).expect("runs");
    let v = lab.violation().expect("the bug is caught");
    assert!(["Leader Completeness", "State Machine Safety"].contains(&v.invariant), "{v:?}");
    assert_eq!(lab.now(), v.at, "the run stops at the violating event");
    let mut fixed = scn.clone();
    fixed.set("bug_commit_old_terms", 0).expect("valid");
    assert!(Lab::replay(&fixed).expect("runs").violation().is_none());
}

// Every preset a lab offers in the app is one of its scenario files, so
// this test runs each of them, and the first (the one the lab opens with)
// is its default.scn.
#[test]
fn every_preset_is_a_scenario_file_of_its_lab() {
    let texts: Vec<String> = files().iter().map(|p| std::fs::read_to_string(p).expect("readable")).collect();
    for def in registry::all() {
        assert!(!def.presets.is_empty(), "{} has presets", def.name);
        for (title, text) in def.presets {
            assert!(
                texts.iter().any(|t| t == text),
                "{}: preset '{title}' is not a file in tests/scenarios/{}",
                def.name,
                def.name
            );
            assert_eq!(Scenario::parse(text).expect("valid").lab.name(), def.name);
        }
    }
}
