//! Each lab's experiments give the same numbers on the page and on the
//! command line: the page runs them on the scenario recorded up to now,
//! the command line on a file. For a lab replayed to the file's end both
//! must agree.

use clusterscope_core::lab::experiment::{self, ExpArgs};
use clusterscope_core::lab::{registry, Cell, Lab, Table};
use clusterscope_core::scenario::Scenario;

fn scenario(path: &str) -> Scenario {
    let file = format!("{}/../../tests/scenarios/{path}", env!("CARGO_MANIFEST_DIR"));
    Scenario::parse(&std::fs::read_to_string(&file).expect("readable")).expect("a valid scenario")
}

fn run(lab: &str, name: &str, scn: &Scenario) -> Table {
    let exp = registry::find_experiment(lab, name).expect("registered");
    experiment::run(exp, Some(scn), &[]).expect("runs")
}

fn column(t: &Table, name: &str) -> Vec<Option<f64>> {
    let i = t.column(name).unwrap_or_else(|| panic!("no column {name}"));
    t.rows.iter().map(|r| r[i].value()).collect()
}

// The page runs an experiment on the run so far: the scenario a replayed
// lab records (`Lab::scenario`, cut at its current time), through the very
// function `clusterscope exp` calls on the file. For a lab replayed to the
// file's end both must give the same table, to the last digit.
fn page_and_file_agree(lab: &str, name: &str, path: &str) -> Table {
    let scn = scenario(path);
    let on_file = run(lab, name, &scn);
    let on_page = run(lab, name, &Lab::replay(&scn).expect("replays").scenario());
    assert_eq!(on_page, on_file, "{lab} {name} on {path}");
    assert!(!on_file.rows.is_empty(), "{lab} {name} answers rows");
    on_file
}

#[test]
fn the_balance_pages_comparison_and_the_policies_table_agree() {
    let table = page_and_file_agree("balance", "policies", "balance/default.scn");
    let policies: Vec<&Cell> = table.rows.iter().map(|r| &r[0]).collect();
    assert!(policies.contains(&&Cell::Text("peak_ewma".into())), "{policies:?}");
}

#[test]
fn the_paxos_pages_beside_and_the_beside_table_agree() {
    let table = page_and_file_agree("paxos", "beside", "paxos/beside-raft.scn");
    assert!(column(&table, "committed").iter().all(|c| c.is_some_and(|v| v > 0.0)), "both commit");
    // A balance file is refused.
    let balance = scenario("balance/default.scn");
    let exp = registry::find_experiment("paxos", "beside").unwrap();
    let err = experiment::run(exp, Some(&balance), &[]).unwrap_err();
    assert_eq!(err, "beside needs a paxos or raft scenario; this file is a balance scenario");
}

#[test]
fn the_ring_pages_comparison_and_the_compare_table_agree() {
    let table = page_and_file_agree("ring", "compare", "ring/add-node.scn");
    // Karger et al.: a ring moves about the ideal share when a server joins.
    let ring = table.rows.iter().position(|r| r[0] == Cell::Text("ring".into())).expect("a ring row");
    let (moved, ideal) = (column(&table, "moved")[ring], column(&table, "ideal")[ring]);
    assert!(moved.zip(ideal).is_some_and(|(m, i)| m < 2.0 * i), "moved {moved:?}, ideal {ideal:?}");
}

// Every experiment states its arguments' defaults, and they are valid:
// the defaults alone (with the experiment's own example scenario if it
// needs one) must not be refused. Runs are cut to a few for speed.
#[test]
fn every_experiments_defaults_are_accepted() {
    for (lab, e) in registry::experiments() {
        let mut given = Vec::new();
        if e.args.iter().any(|a| a.name == "runs") {
            given.push(("runs".to_string(), "3".to_string()));
        }
        assert!(ExpArgs::new(e.args, &given).is_ok());
        let table = experiment::run(e, None, &given).unwrap_or_else(|err| panic!("{} {}: {err}", lab.name, e.name));
        assert!(!table.rows.is_empty(), "{} {}", lab.name, e.name);
        assert!(e.about.lines().count() == 1, "{} {}: one line", lab.name, e.name);
    }
}

// Each lab runs in the browser with its own engine alone (lab::registry;
// issue "Light enough to embed anywhere"). So an engine must run every
// experiment its lab lists, and every lab whose scenario one of them reads
// must be that engine's own or one it brings along (`Engine::also`): Paxos
// beside Raft runs Raft in the Paxos lab's worker.
#[test]
fn every_engine_runs_its_experiments_and_brings_the_engines_they_read() {
    for engine in registry::engines() {
        let lab = engine.lab;
        let listed: Vec<&str> = lab.experiments.iter().map(|e| e.name).collect();
        let runs: Vec<&str> = engine.runs.iter().map(|r| r.0).collect();
        assert_eq!(listed, runs, "{}: one run per experiment, in order", lab.name);
        for exp in lab.experiments {
            for read in exp.reads {
                assert!(
                    *read == lab.name || engine.also.iter().any(|e| e.lab.name == *read),
                    "{}'s {} reads {read} scenarios: its engine must bring the {read} engine",
                    lab.name,
                    exp.name
                );
            }
        }
    }
}
