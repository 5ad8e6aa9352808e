//! The legend shows what a run can show, and nothing it cannot.
//!
//! The Locks lab has three lock services, two strategies and two waiting
//! recipes; each configuration uses only some of the lab's roles and
//! message kinds (one lock server sends no Raft message; optimistic
//! clients never ask for a lock). The schema marks the others unused and
//! the legend leaves them out. A role or kind marked unused that a run
//! then shows would leave a newcomer with a colour the legend does not
//! explain: every file of tests/scenarios/locks, and every combination of
//! service, strategy and recipe under crashes, pauses and a partition, is
//! run here, and every message kind it sends and every role a node takes
//! must be one the schema keeps. The converse is checked too: each
//! configuration uses some kind it marks used that another marks unused
//! (the legend does differ by configuration).

mod locks_common;

use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::locks::LockNode;
use clusterscope_core::sim::{Observable, TraceEvent, MS};
use std::collections::BTreeSet;

/// Runs `text` to its end, frame by frame (every 20 ms); the message kinds
/// sent and the roles shown, by name, and the schema's unused ones.
fn shown(text: &str) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
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
            let sim = lab.model::<ClusterLab<LockNode>>().expect("a locks run").sim();
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

fn check(name: &str, text: &str) -> BTreeSet<String> {
    let (kinds, roles, unused) = shown(text);
    let hidden: Vec<_> = kinds.iter().chain(&roles).filter(|k| unused.contains(*k)).collect();
    assert!(hidden.is_empty(), "{name}: the run showed {hidden:?}, which the legend leaves out as unused");
    unused
}

#[test]
fn every_preset_shows_only_what_its_legend_keeps() {
    locks_common::locks();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios/locks");
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("the folder").map(|e| e.expect("an entry").path()).collect();
    files.sort();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "scn")) {
        let text = std::fs::read_to_string(path).expect("readable");
        check(&path.display().to_string(), &text);
    }
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
                let unused = check(&format!("{service} {strategy} {recipe}"), &text);
                unused_sets.insert(unused.into_iter().collect::<Vec<_>>());
            }
        }
    }
    assert!(unused_sets.len() >= 4, "the legend differs by configuration: {unused_sets:?}");
}
