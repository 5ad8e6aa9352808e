//! Each lab's experiments and its page's questions give the same numbers:
//! the page asks a running lab ("compare", "beside") and decodes the
//! lab's own rows, for the scenario recorded up to now; the command line
//! runs the lab's experiment on a file and prints its table. For a lab
//! replayed to the file's end both must agree: they call the same
//! functions.

use clusterscope_core::balance::lab::PolicyRow;
use clusterscope_core::lab::experiment::{self, ExpArgs};
use clusterscope_core::lab::{registry, Cell, Lab, Table};
use clusterscope_core::paxos::experiments::BesideRow;
use clusterscope_core::ring::lab::CompareView;
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

fn close(a: Option<f64>, b: f64) -> bool {
    match a {
        Some(a) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        None => !b.is_finite(),
    }
}

#[test]
fn the_balance_pages_comparison_and_the_policies_table_agree() {
    let scn = scenario("balance/default.scn");
    let rows: Vec<PolicyRow> = bincode::deserialize(&Lab::replay(&scn).unwrap().query("compare").unwrap()).unwrap();
    let table = run("balance", "policies", &scn);
    assert_eq!(rows.len(), table.rows.len());
    for (r, t) in rows.iter().zip(&table.rows) {
        assert_eq!(t[0], Cell::Text(r.policy.clone()));
    }
    for (r, p99) in rows.iter().zip(column(&table, "p99")) {
        assert!(close(p99, r.latency[2] / 1e3), "{}: {p99:?} against {}", r.policy, r.latency[2]);
    }
}

#[test]
fn the_paxos_pages_beside_and_the_beside_table_agree() {
    let scn = scenario("paxos/beside-raft.scn");
    let rows: Vec<BesideRow> = bincode::deserialize(&Lab::replay(&scn).unwrap().query("beside").unwrap()).unwrap();
    let table = run("paxos", "beside", &scn);
    let committed = column(&table, "committed");
    for (r, c) in rows.iter().zip(committed) {
        assert_eq!(c, Some(r.committed as f64), "{}", r.protocol);
    }
    // A balance file is refused.
    let balance = scenario("balance/default.scn");
    let exp = registry::find_experiment("paxos", "beside").unwrap();
    let err = experiment::run(exp, Some(&balance), &[]).unwrap_err();
    assert_eq!(err, "beside needs a paxos or raft scenario; this file is a balance scenario");
}

#[test]
fn the_ring_pages_comparison_and_the_compare_table_agree() {
    let scn = scenario("ring/add-node.scn");
    let lab = Lab::replay(&scn).unwrap();
    let rows: Vec<CompareView> = bincode::deserialize(&lab.query("compare").unwrap()).unwrap();
    let table = run("ring", "compare", &scn);
    for (r, rsd) in rows.iter().zip(column(&table, "keys rsd")) {
        assert!(close(rsd, r.keys_rsd), "{}", r.algorithm);
    }
    for (r, moved) in rows.iter().zip(column(&table, "moved")) {
        assert!(close(moved, r.moved * 100.0), "{}", r.algorithm);
    }
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
