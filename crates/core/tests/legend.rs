//! The legend shows what a run can show, and nothing it cannot.
//!
//! A lab's configuration may leave some of its roles and message kinds
//! unused (`ClusterProtocol::can_show`): the Locks lab with one lock server
//! sends no Raft message and optimistic clients never ask for a lock; Raft
//! without Pre-Vote sends no PreVote and never has a pre-candidate. The
//! schema marks those unused and the legend leaves them out. A role or kind
//! marked unused that a run then shows would leave a newcomer with a colour
//! the legend does not explain: every scenario file of those labs, and
//! every combination of the Locks lab's service, strategy and recipe under
//! crashes, a pause and a partition, is run here, and every message kind it
//! sends and every role a node takes must be one the schema keeps. The
//! legend must also differ by configuration (the rule is not "all used").

mod locks_common;

use clusterscope_core::lab::cluster::{ClusterLab, ClusterProtocol};
use clusterscope_core::locks::LockNode;
use clusterscope_core::raft::RaftNode;
use clusterscope_core::sim::{Observable, TraceEvent, MS};
use std::collections::BTreeSet;
use std::path::PathBuf;

type Names = BTreeSet<String>;

/// Runs `text` to its end, frame by frame (every 20 ms); the message kinds
/// sent and the roles shown, by name, and the schema's unused ones.
fn shown<P: ClusterProtocol + 'static>(text: &str) -> (Names, Names, Names) {
    let mut lab = locks_common::run(&format!("{}\nuntil 0s\n", text.replace("\nuntil ", "\n# until ")));
    let until = clusterscope_core::scenario::Scenario::parse(text).expect("parses").until;
    let schema = lab.schema();
    let unused: BTreeSet<String> = schema
        .roles
        .iter()
        .filter(|r| r.unused)
        .map(|r| r.name.clone())
        .chain(schema.kinds.iter().filter(|k| k.unused).map(|k| k.name.clone()))
        .collect();
    let (mut kinds, mut roles) = (BTreeSet::new(), BTreeSet::new());
    let mut t = 0;
    while t < until && lab.violation().is_none() {
        t = (t + 20 * MS).min(until);
        while lab.now() < t && lab.step_event() {
            let sim = lab.model::<ClusterLab<P>>().expect("a run of the lab").sim();
            for e in sim.last_events() {
                if let TraceEvent::Sent { msg, .. } = e {
                    kinds.insert(msg.kind().to_string());
                }
            }
        }
        for n in lab.frame(true).nodes {
            if n.status != clusterscope_core::lab::NodeStatus::Crashed {
                roles.insert(schema.roles[n.role as usize].name.clone());
            }
        }
    }
    (kinds, roles, unused)
}

fn check<P: ClusterProtocol + 'static>(name: &str, text: &str) -> Names {
    let (kinds, roles, unused) = shown::<P>(text);
    let hidden: Vec<_> = kinds.iter().chain(&roles).filter(|k| unused.contains(*k)).collect();
    assert!(hidden.is_empty(), "{name}: the run showed {hidden:?}, which the legend leaves out as unused");
    unused
}

/// Runs every scenario file of `lab` through [`check`]; the unused sets.
fn every_file<P: ClusterProtocol + 'static>(lab: &str) -> BTreeSet<Vec<String>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios").join(lab);
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("the folder").map(|e| e.expect("an entry").path()).collect();
    files.sort();
    let scn = files.iter().filter(|p| p.extension().is_some_and(|e| e == "scn"));
    scn.map(|path| {
        let text = std::fs::read_to_string(path).expect("readable");
        check::<P>(&path.display().to_string(), &text).into_iter().collect()
    })
    .collect()
}

#[test]
fn every_locks_file_shows_only_what_its_legend_keeps() {
    locks_common::locks();
    every_file::<LockNode>("locks");
}

// Raft: Pre-Vote's messages and pre-candidates only with `pre_vote on`,
// InstallSnapshot only when logs are compacted (`snapshot_every` above 0).
#[test]
fn every_raft_file_shows_only_what_its_legend_keeps() {
    let mut unused = every_file::<RaftNode>("raft");
    for (name, setting) in [("Pre-Vote", "pre_vote on"), ("no compaction", "snapshot_every 0")] {
        let text = format!(
            "# legend\nlab raft\nseed 2\nnodes 5\n{setting}\nuntil 4s\nat 1s crash S1\nat 1s crash S2\nat 2s restart S1\nat 2.5s restart S2\n"
        );
        unused.insert(check::<RaftNode>(name, &text).into_iter().collect());
        if setting == "pre_vote on" {
            let (kinds, roles, _) = shown::<RaftNode>(&text);
            assert!(kinds.contains("PreVote") && roles.contains("pre-candidate"), "{kinds:?} {roles:?}");
        }
    }
    assert!(unused.len() >= 3, "the legend differs by configuration: {unused:?}");
}

#[test]
fn every_configuration_shows_only_what_its_legend_keeps() {
    locks_common::locks();
    let mut unused_sets = BTreeSet::new();
    for service in ["single", "raft", "redlock"] {
        for strategy in ["pessimistic", "optimistic"] {
            for recipe in ["sequential", "naive"] {
                let text = format!(
                    "# legend\nlab locks\nseed 3\nclients 6\nkeyspace 2\nservice {service}\nstrategy {strategy}\nrecipe {recipe}\nlease 300ms\nheartbeat 100ms\nlatency_min 5ms\nlatency_max 40ms\nloss 2%\nuntil 6s\nat 1s crash S2\nat 1.2s pause S5\nat 1.8s restart S2\nat 2s resume S5\nat 2.5s partition S1,S3,S5,S7 | S2,S4,S6,S8\nat 3.5s heal\nat 4s crash S3\nat 4.5s restart S3\n"
                );
                let unused = check::<LockNode>(&format!("{service} {strategy} {recipe}"), &text);
                unused_sets.insert(unused.into_iter().collect::<Vec<_>>());
            }
        }
    }
    assert!(unused_sets.len() >= 4, "the legend differs by configuration: {unused_sets:?}");
}
