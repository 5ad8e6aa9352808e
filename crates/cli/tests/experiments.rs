//! `clusterscope exp`: every lab's experiments from the command line.
//!
//! The outputs in `tests/golden/` were printed by the commands that came
//! before `exp` (`fig16 --runs 20`, `paxos-duel --runs 20`, `beside`,
//! `policies`, `ring --compare`), on the same seeds and files, before the
//! experiments moved into their labs. Each experiment run through `exp`
//! must give the same numbers, shown to the same decimals; the old
//! commands stay as aliases that print exactly `exp`'s table.
//! `policies.txt` was printed again by `clusterscope policies` when the
//! table gained goodput and latency over all requests and came ordered by
//! goodput (the old columns kept every number), and once more when peak
//! EWMA's estimate began to decay between answers as Finagle's does (only
//! the peak_ewma row changed). `beside-paxos.txt` and `beside-raft.txt`
//! were printed again by `clusterscope beside FILE` when Multi-Paxos
//! stopped resending every open Accept at each heartbeat (a retransmission
//! timer instead) and the table gained the batch size both ran at (the
//! Raft rows kept every number).

use clusterscope_core::lab::registry;
use clusterscope_core::lab::{Cell, Table};
use std::process::Command;

fn clusterscope(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_clusterscope")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scenario(path: &str) -> String {
    format!("{}/../../tests/scenarios/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn golden(name: &str) -> String {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The runs of digits (with a decimal point) in a piece of text, in order:
/// `1582/1586` gives 1582 and 1586, `17.50 %` gives 17.50.
fn digit_runs(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| t.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// Checks that a table holds the numbers of an old command's rows (the
/// golden output's lines from `skip` to the first blank line): each
/// number shown to the decimals the old command used, each text cell's
/// digits as they were; a missing number was a '-' and has no digits.
fn assert_same_numbers(old: &str, skip: usize, new: &Table) {
    let old_rows: Vec<&str> = old.lines().skip(skip).take_while(|l| !l.trim().is_empty()).collect();
    assert_eq!(old_rows.len(), new.rows.len(), "rows: old\n{old}\nnew\n{}", new.to_text());
    for (old_row, row) in old_rows.iter().zip(&new.rows) {
        let want = digit_runs(old_row);
        let mut got = Vec::new();
        for cell in row {
            match cell {
                Cell::Text(t) => got.extend(digit_runs(t)),
                Cell::Number(v) => {
                    let decimals = want.get(got.len()).and_then(|w| w.split_once('.')).map_or(0, |(_, d)| d.len());
                    got.push(format!("{v:.decimals$}"));
                }
                Cell::Missing => {}
            }
        }
        assert_eq!(got, want, "old row '{old_row}'");
    }
}

fn exp_json(args: &[&str]) -> Table {
    let (code, out, err) = clusterscope(&[&["exp"], args, &["--json"]].concat());
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not a table in JSON ({e}): {out}"))
}

#[test]
fn every_experiment_gives_the_old_commands_numbers() {
    // Raft paper, Figure 16: seeds 0..20 for each timeout range, exact
    // timers only (`jitter=0`; by default each range also gets a line with
    // timer jitter, which the old command did not have).
    assert_same_numbers(
        &golden("fig16.txt"),
        2,
        &exp_json(&["raft", "fig16", "--arg", "runs=20", "--arg", "jitter=0"]),
    );
    // Dueling proposers, "Paxos Made Simple" §2.4: seeds 0..20 a line.
    assert_same_numbers(&golden("paxos-duel.txt"), 2, &exp_json(&["paxos", "duel", "--arg", "runs=20"]));
    // Paxos beside Raft, from a file of either lab.
    let paxos = scenario("paxos/beside-raft.scn");
    assert_same_numbers(&golden("beside-paxos.txt"), 2, &exp_json(&["paxos", "beside", &paxos]));
    let raft = scenario("raft/leader-crash.scn");
    assert_same_numbers(&golden("beside-raft.txt"), 2, &exp_json(&["paxos", "beside", &raft]));
    // Every balancing policy on the balance lab's first preset.
    let balance = scenario("balance/default.scn");
    assert_same_numbers(&golden("policies.txt"), 2, &exp_json(&["balance", "policies", &balance]));
    // Every placement algorithm on 5,000 keys: a server joins, then S3 fails.
    let ring =
        exp_json(&["ring", "compare", "--arg", "nodes=10", "--arg", "keys=5000", "--arg", "changes=add,fail:S3"]);
    assert_same_numbers(&golden("ring-compare.txt"), 4, &ring);
}

#[test]
fn the_old_commands_print_exactly_the_experiments_tables() {
    let paxos = scenario("paxos/beside-raft.scn");
    let balance = scenario("balance/default.scn");
    let pairs: [(&[&str], &[&str]); 5] = [
        (&["fig16", "--runs", "10"], &["exp", "raft", "fig16", "--arg", "runs=10"]),
        (&["paxos-duel", "--runs", "10"], &["exp", "paxos", "duel", "--arg", "runs=10"]),
        (&["beside", &paxos], &["exp", "paxos", "beside", &paxos]),
        (&["policies", &balance], &["exp", "balance", "policies", &balance]),
        (
            &["ring", "--compare", "--nodes", "10", "--keys", "3000", "--change", "add", "--change", "remove:S2"],
            &["exp", "ring", "compare", "--arg", "nodes=10", "--arg", "keys=3000", "--arg", "changes=add,remove:S2"],
        ),
    ];
    for (old, new) in pairs {
        let (code, a, err) = clusterscope(old);
        assert_eq!(code, 0, "{old:?}: {err}");
        let (code, b, err) = clusterscope(new);
        assert_eq!(code, 0, "{new:?}: {err}");
        assert_eq!(a, b, "{old:?} against {new:?}");
    }
}

#[test]
fn exp_list_names_every_experiment_with_its_arguments() {
    let (code, out, err) = clusterscope(&["exp", "--list"]);
    assert_eq!(code, 0, "{err}");
    let all = registry::experiments();
    assert!(all.len() >= 5, "Figure 16, beside, duel, policies, compare at least");
    for (lab, e) in all {
        assert!(out.contains(&format!("{} {}: {}\n", lab.name, e.name, e.about)), "{} {}: {out}", lab.name, e.name);
        for a in e.args {
            let default = if a.default.is_empty() { "(none)" } else { a.default };
            assert!(out.contains(&format!("--arg {}={default}  {}", a.name, a.help)), "{}: {out}", a.name);
        }
    }
}

#[test]
fn a_file_of_the_wrong_lab_is_refused_naming_the_right_one() {
    let balance = scenario("balance/default.scn");
    let (code, _, err) = clusterscope(&["exp", "paxos", "beside", &balance]);
    assert_eq!(code, 2);
    assert!(err.contains("beside needs a paxos or raft scenario; this file is a balance scenario"), "{err}");
    let (code, _, err) = clusterscope(&["beside", &balance]);
    assert_eq!(code, 2, "the old command refuses it the same way");
    assert!(err.contains("beside needs a paxos or raft scenario; this file is a balance scenario"), "{err}");
    let raft = scenario("raft/default.scn");
    let (code, _, err) = clusterscope(&["policies", &raft]);
    assert_eq!(code, 2);
    assert!(err.contains("policies needs a balance scenario; this file is a raft scenario"), "{err}");
    let (code, _, err) = clusterscope(&["exp", "ring", "compare", &raft]);
    assert_eq!(code, 2);
    assert!(err.contains("compare needs a ring scenario; this file is a raft scenario"), "{err}");
    let (code, _, err) = clusterscope(&["exp", "raft", "fig16", &raft]);
    assert_eq!(code, 2);
    assert!(err.contains("fig16 reads no scenario file"), "{err}");
}

#[test]
fn bad_names_and_arguments_are_sentences() {
    let cases: [(&[&str], &str); 7] = [
        (&["exp", "raft", "nonsense"], "the raft lab has no experiment 'nonsense' (it has fig16)"),
        (&["exp", "nolab", "fig16"], "there is no lab 'nolab'"),
        (
            &["exp", "raft", "fig16", "--arg", "seeds=5"],
            "fig16: it has no argument 'seeds' (it takes runs, ranges, jitter)",
        ),
        (&["exp", "raft", "fig16", "--arg", "runs"], "--arg 'runs': write NAME=VALUE"),
        (&["exp", "raft", "fig16", "--arg", "runs=0"], "runs = 0 is out of range"),
        (&["exp", "raft", "fig16", "--arg", "ranges=300-150"], "'300-150' is not a timeout range"),
        (&["exp", "raft", "fig16", "--arg", "jitter=0,-3"], "'-3' is not a timer jitter"),
    ];
    for (args, want) in cases {
        let (code, _, err) = clusterscope(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn json_and_csv_hold_the_columns_of_every_experiment() {
    for (lab, e) in registry::experiments() {
        // Few runs, so the test is quick; the other arguments keep their defaults.
        let small: Vec<&str> = e.args.iter().filter(|a| a.name == "runs").flat_map(|_| ["--arg", "runs=5"]).collect();
        let args: Vec<&str> = [lab.name, e.name].into_iter().chain(small.iter().copied()).collect();
        let table = exp_json(&args);
        assert!(!table.title.is_empty() && !table.columns.is_empty() && !table.rows.is_empty(), "{args:?}");
        assert!(table.rows.iter().all(|r| r.len() == table.columns.len()), "{args:?}: one cell per column");
        assert!(!table.notes.is_empty(), "{args:?}: notes say what was compared");
        let (code, csv, err) = clusterscope(&[&["exp"], &args[..], &["--csv"]].concat());
        assert_eq!(code, 0, "{err}");
        // A heading with a comma or a quote is quoted, as RFC 4180 has it.
        let field = |h: String| {
            if h.contains([',', '"']) {
                format!("\"{}\"", h.replace('"', "\"\""))
            } else {
                h
            }
        };
        let heading: Vec<String> = table.columns.iter().map(|c| field(c.heading())).collect();
        assert_eq!(csv.lines().next(), Some(heading.join(",").as_str()), "{args:?}");
        assert_eq!(csv.lines().count(), table.rows.len() + 1, "{args:?}");
    }
    let fig16 = exp_json(&["raft", "fig16", "--arg", "runs=5", "--arg", "ranges=150-300"]);
    let names: Vec<&str> = fig16.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["timeout (ms)", "timers", "p10", "p50", "p90", "p99", "max", "unfinished"]);
    assert_eq!(fig16.columns[3].unit, "ms");
    assert_eq!(fig16.rows[0][0], Cell::Text("150-300".into()));
    // Each range twice: exact timers, then the paper's servers' noise.
    assert_eq!(fig16.rows[0][1], Cell::Text("exact".into()));
    assert_eq!(fig16.rows[1][1], Cell::Text("jitter 0-15 ms".into()));
}

#[test]
fn run_and_sweep_print_json() {
    let file = scenario("raft/leader-crash.scn");
    let (code, out, err) = clusterscope(&["run", &file, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["lab"], "raft");
    assert_eq!(v["ok"], true);
    assert!(v["metrics"].as_array().is_some_and(|m| m.iter().any(|m| m["name"] == "leaders_elected")), "{out}");
    assert!(v["expects"].as_array().is_some_and(|e| !e.is_empty() && e.iter().all(|e| e["ok"] == true)), "{out}");
    let (_, plain, _) = clusterscope(&["run", &file]);
    let fingerprint = v["fingerprint"].as_str().expect("a fingerprint");
    assert!(plain.contains(&format!("fingerprint {fingerprint}")), "the same run: {plain}");

    let bug = scenario("raft/bug-figure-8.scn");
    let (code, out, _) = clusterscope(&["run", &bug, "--json"]);
    // The file declares the violation it shows (issue 23): it exits 0, and
    // the JSON still names it.
    assert_eq!(code, 0, "the violation the file declares");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["violation"]["invariant"], "Leader Completeness");
    assert!(v["violation"]["replay"].as_str().is_some_and(|r| r.starts_with("clusterscope run")), "{out}");

    let args =
        ["sweep", &file, "--param", "election_timeout_max=200ms,300ms", "--seeds", "10", "--metric", "leaderless"];
    let (code, out, err) = clusterscope(&[&args[..], &["--json", "--minimise", "leaderless"]].concat());
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["seeds"], 10);
    let points = v["points"].as_array().expect("points");
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["values"]["election_timeout_max"], "200ms");
    assert!(points[0]["metrics"]["leaderless"]["p50"].is_number(), "{out}");
    assert!(v["best"]["values"].is_object(), "{out}");
}

// The Ring lab's page asks the running lab to "compare"; with a ring file,
// `exp ring compare` answers from the same replayed lab, and refuses
// settings given twice.
#[test]
fn ring_compare_reads_a_ring_file_and_refuses_settings_given_twice() {
    let file = scenario("ring/add-node.scn");
    let table = exp_json(&["ring", "compare", &file]);
    assert_eq!(table.rows.len(), 7, "one row per algorithm: {}", table.to_text());
    assert!(table.notes[0].starts_with("Changes: the 2 the scenario records"), "{:?}", table.notes);
    let (code, _, err) = clusterscope(&["exp", "ring", "compare", &file, "--arg", "nodes=4"]);
    assert_eq!(code, 2);
    assert!(err.contains("give the file or --arg nodes, not both"), "{err}");
}
