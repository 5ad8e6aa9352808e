//! The command line's contract (issue #3): exit 0 when everything holds,
//! 1 when an expectation (or an invariant) fails, with the command that
//! replays it, and 2 with a clear message on bad input.

use std::process::Command;

fn clusterscope(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_clusterscope")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("clusterscope-cli-test-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("writable");
    path.display().to_string()
}

#[test]
fn a_good_scenario_passes() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/raft/leader-crash.scn");
    let (code, out, _) = clusterscope(&["run", file]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok: expect leaders_elected >= 2"), "{out}");
}

#[test]
fn a_failed_expectation_exits_1_with_the_replay_command() {
    let file = temp_file("expect.scn", "# never\nlab raft\nseed 9\nuntil 1s\nexpect leaders_elected >= 5\n");
    let (code, out, _) = clusterscope(&["run", &file]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED: expect leaders_elected >= 5 failed"), "{out}");
    assert!(out.contains("replay: clusterscope run") && out.contains("--seed 9"), "{out}");
}

#[test]
fn malformed_input_exits_2_saying_what_is_wrong() {
    let file = temp_file("bad.scn", "lab raft\nnodes 3\nat 1s crash S7\n");
    let (code, _, err) = clusterscope(&["run", &file]);
    assert_eq!(code, 2);
    assert!(err.contains("there is no server S7"), "{err}");
    let (code, _, err) = clusterscope(&["run", "/nonexistent/x.scn"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
    // Three zero bytes: a compressed stream that stops early.
    let (code, _, err) = clusterscope(&["decode", "http://127.0.0.1:8080/#v1.AAAA"]);
    assert_eq!(code, 2);
    assert!(err.contains("cut short"), "{err}");
    let (code, _, err) = clusterscope(&["decode", "http://127.0.0.1:8080/#v1.A*A"]);
    assert_eq!(code, 2);
    assert!(err.contains("damaged"), "{err}");
}

#[test]
fn link_and_decode_round_trip() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/ring/add-node.scn");
    let (code, fragment, _) = clusterscope(&["link", file]);
    assert_eq!(code, 0);
    let (code, text, _) = clusterscope(&["decode", &format!("http://x/#{}", fragment.trim())]);
    assert_eq!(code, 0);
    assert!(text.contains("lab ring") && text.contains("at 1s add"), "{text}");
}

// An undeclared violation exits 1, naming the checker, with the command
// that replays it; the file that declares it exits 0 (issue 23: "a preset
// may declare the violation it exists to show: `clusterscope run` then
// exits 0 when exactly that happens and 1 when it does not"), and one that
// declares another checker's name exits 1.
#[test]
fn an_invariant_violation_exits_1_naming_it_with_the_replay_command() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/raft/bug-figure-8.scn");
    let text = std::fs::read_to_string(file).expect("readable");
    assert!(text.contains("expect violation \"Leader Completeness\""));
    let dir = std::env::temp_dir().join(format!("clusterscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let undeclared = dir.join("undeclared.scn");
    std::fs::write(&undeclared, text.replace("expect violation \"Leader Completeness\"\n", "")).expect("writable");
    let (code, out, _) = clusterscope(&["run", undeclared.to_str().expect("a path")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("VIOLATION: Leader Completeness at "), "{out}");
    assert!(out.contains("replay: clusterscope run") && out.contains("--seed 8 --until "), "{out}");

    let (code, out, _) = clusterscope(&["run", file]);
    assert_eq!(code, 0, "the file declares it: {out}");
    assert!(out.contains("VIOLATION: Leader Completeness at ") && out.contains("ok: expect violation"), "{out}");
    let (code, _, _) = clusterscope(&["run", file, "--fingerprint"]);
    assert_eq!(code, 0, "--fingerprint: the same exit code");

    let other = dir.join("other.scn");
    std::fs::write(
        &other,
        text.replace("expect violation \"Leader Completeness\"", "expect violation \"Election Safety\""),
    )
    .expect("writable");
    let (code, out, _) = clusterscope(&["run", other.to_str().expect("a path")]);
    assert_eq!(code, 1, "another checker stopped it: {out}");
    let _ = std::fs::remove_dir_all(&dir);
}

// Issue 8: `--until` obeys the same 30-day limit as a file's `until`.
#[test]
fn until_on_the_command_line_obeys_the_file_limit() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/raft/leader-crash.scn");
    let (code, _, err) = clusterscope(&["run", file, "--until", "99999999s"]);
    assert_eq!(code, 2);
    assert!(err.contains("--until") && err.contains("at most 30 days"), "{err}");
}

// Issue 12 (sweeps): the same sweep gives the same numbers on one thread,
// on every core, and split into shards merged back, since runs are
// independent and the summary sorts them first; bad input is a message.
#[test]
fn a_sweep_is_the_same_on_one_thread_every_core_and_merged_shards() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/raft/leader-crash.scn");
    let args = [
        "sweep",
        file,
        "--param",
        "election_timeout_max=200ms..400ms:100ms",
        "--seeds",
        "40",
        "--metric",
        "leaderless",
        "--csv",
    ];
    let (code, one, err) = clusterscope(&[&args[..], &["--jobs", "1"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(one.lines().count(), 4, "a header and three points: {one}");
    let (_, all, _) = clusterscope(&[&args[..], &["--jobs", "4"]].concat());
    assert_eq!(one, all);
    let mut parts = Vec::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let (code, out, err) = clusterscope(&[&args[..], &["--shard", &shard]].concat());
        assert_eq!(code, 0, "{err}");
        parts.push(temp_file(&format!("shard{k}.jsonl"), &out));
    }
    let merge: Vec<&str> = ["merge", "--csv"].into_iter().chain(parts.iter().map(String::as_str)).collect();
    let (code, merged, err) = clusterscope(&merge);
    assert_eq!(code, 0, "{err}");
    assert_eq!(merged, one, "merged shards give the one-run result");
    let (code, _, err) = clusterscope(&["merge", &parts[0], &parts[1]]);
    assert_eq!(code, 2);
    assert!(err.contains("is a shard missing"), "{err}");
    let (code, _, err) =
        clusterscope(&["sweep", file, "--param", "election_timeout_max=4..", "--metric", "leaderless"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a valid value"), "{err}");
    let (code, _, err) = clusterscope(&["sweep", file, "--param", "nodes=3,5", "--metric", "nonsense"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown metric 'nonsense'"), "{err}");
}

// Issue 12: a sweep set up over a scenario travels with it as `tune` lines;
// `sweep` runs it from the file alone, search included.
#[test]
fn a_file_with_tune_lines_is_swept_without_flags() {
    let file = temp_file(
        "tuned.scn",
        "# tuned\nlab raft\nnodes 3\nuntil 2s\ntune param election_timeout_max=200ms,400ms\ntune seeds 10\ntune metric elections\ntune minimise elections\n",
    );
    let (code, out, err) = clusterscope(&["sweep", &file]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("10 seeds per point") && out.contains("best: election_timeout_max="), "{out}");
    let plain = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/raft/default.scn");
    let (code, _, err) = clusterscope(&["sweep", plain]);
    assert_eq!(code, 2);
    assert!(err.contains("give --param and --metric"), "{err}");
}

/// A chart written by `--svg` is a standalone SVG document whose axes say
/// what they measure in which unit, with tick labels (the results issue:
/// "`--svg` writes a valid SVG with axis labels"), drawn by the same code
/// as the page's charts.
fn assert_chart(path: &str, headings: &[&str]) {
    let svg = std::fs::read_to_string(path).expect("the SVG file was written");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    for tag in ["text", "title", "rect", "circle"] {
        assert_eq!(
            svg.matches(&format!("<{tag} ")).count() + svg.matches(&format!("<{tag}>")).count(),
            svg.matches(&format!("</{tag}>")).count(),
            "balanced <{tag}>"
        );
    }
    for h in headings {
        assert!(svg.contains(&format!(">{h}</text>")), "axis label {h} in\n{svg}");
    }
    assert!(svg.contains(">0</text>"), "tick labels from zero:\n{svg}");
}

#[test]
fn svg_charts_of_a_sweep_and_an_experiment_name_their_axes_and_units() {
    let file = temp_file(
        "svg.scn",
        "# svg\nlab raft\nnodes 3\nuntil 2s\ntune param election_timeout_max=200ms,400ms\ntune seeds 6\ntune metric leaderless\n",
    );
    let out = std::env::temp_dir().join(format!("clusterscope-cli-test-{}-sweep.svg", std::process::id()));
    let out = out.display().to_string();
    let (code, _, err) = clusterscope(&["sweep", &file, "--svg", &out]);
    assert_eq!(code, 0, "{err}");
    assert_chart(&out, &["Time without leader (ms)", "election_timeout_max", "400ms"]);
    let exp = std::env::temp_dir().join(format!("clusterscope-cli-test-{}-fig16.svg", std::process::id()));
    let exp = exp.display().to_string();
    let (code, _, err) =
        clusterscope(&["exp", "raft", "fig16", "--arg", "runs=5", "--arg", "ranges=150-300", "--svg", &exp]);
    assert_eq!(code, 0, "{err}");
    // One line per range and timers (exact, and the paper's jitter).
    assert_chart(
        &exp,
        &["time without a leader (ms)", "runs elected by then (%)", "150-300 ms, exact", "150-300 ms, jitter 0-15 ms"],
    );
}

// A metric that the template never measures is named before the runs (the
// results issue: "a metric that is undefined in the template's window is
// named before running"): the default scenario has no crash, so nothing
// measures the election after one.
#[test]
fn a_sweep_names_a_metric_that_measures_nothing_in_its_window() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/raft/default.scn");
    let args = [
        "sweep",
        file,
        "--param",
        "election_timeout_max=200ms,400ms",
        "--seeds",
        "4",
        "--metric",
        "election_after_crash",
    ];
    let (code, _, err) = clusterscope(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("note: election_after_crash measured nothing in trial runs of the template (to 3s)"), "{err}");
    let crash = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/raft/figure-16.scn");
    let (_, _, err) = clusterscope(&["sweep", crash, "--param", "election_timeout_max=200ms", "--seeds", "4"]);
    assert!(!err.contains("measured nothing"), "{err}");
}

// libketama places each server on 160 points (40 MD5 digests of four
// points each, RJ/ketama ketama.c); the lab's `auto` does too, and so does
// `ring --algorithm ketama` when --vnodes is not given. Other algorithms
// keep 100.
#[test]
fn ketama_defaults_to_libketamas_160_points_per_server() {
    let header = |args: &[&str]| {
        let (code, out, err) = clusterscope(&[&["ring", "--nodes", "4", "--keys", "1000"], args].concat());
        assert_eq!(code, 0, "{err}");
        out.lines().next().unwrap_or_default().to_string()
    };
    assert!(header(&["--algorithm", "ketama"]).starts_with("ketama: 4 servers, 160 vnodes"));
    assert!(header(&["--algorithm", "ketama", "--vnodes", "50"]).starts_with("ketama: 4 servers, 50 vnodes"));
    assert!(header(&["--algorithm", "ring"]).starts_with("ring: 4 servers, 100 vnodes"));
    assert!(header(&[]).starts_with("ring: 4 servers, 100 vnodes"));
    // libketama's own binding test (RJ/ketama python_ketama/tests.py): with
    // these two servers, "test" goes to 127.0.0.1:11211.
    let (code, out, err) = clusterscope(&[
        "ring",
        "--algorithm",
        "ketama",
        "--server",
        "127.0.0.1:11211=600",
        "--server",
        "127.0.0.1:11212=400",
        "--key",
        "test",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("test  127.0.0.1:11211"), "{out}");
}

/// `history check` (issue #22): 0 linearizable, 1 not with the operations
/// and why, 2 for a malformed file naming its line, 3 when the budget runs
/// out. The histories are Porcupine's README examples (a register from 0).
#[test]
fn history_check_answers_with_its_exit_status() {
    let ok = temp_file(
        "ok.edn",
        "{:process 0, :type :invoke, :f :write, :value 100}\n{:process 1, :type :invoke, :f :read, :value nil}\n\
         {:process 2, :type :invoke, :f :read, :value nil}\n{:process 2, :type :ok, :f :read, :value 0}\n\
         {:process 1, :type :ok, :f :read, :value 100}\n{:process 0, :type :ok, :f :write, :value 100}\n",
    );
    let (code, out, err) = clusterscope(&["history", "check", &ok, "--initial", "0"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("linearizable: 3 operations of 3 client(s)"), "{out}");
    let bad = temp_file(
        "bad.edn",
        "{:process 0, :type :invoke, :f :write, :value 200}\n{:process 1, :type :invoke, :f :read, :value nil}\n\
         {:process 1, :type :ok, :f :read, :value 200}\n{:process 2, :type :invoke, :f :read, :value nil}\n\
         {:process 2, :type :ok, :f :read, :value 0}\n{:process 0, :type :ok, :f :write, :value 200}\n",
    );
    let (code, out, _) = clusterscope(&["history", "check", &bad, "--initial", "0"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("these 3 operations cannot be ordered"), "{out}");
    assert!(out.contains("client 2 read → 0 (records 4–5)"), "{out}");
    assert!(out.contains("but the value then is 200"), "{out}");
    let broken = temp_file("broken.edn", "{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0 :type\n");
    let (code, _, err) = clusterscope(&["history", "check", &broken]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 2"), "the message names the line: {err}");
    let (code, _, err) = clusterscope(&["history", "check", &ok, "--model", "queue"]);
    assert_eq!(code, 2);
    assert!(err.contains("choose register, cas-register, kv, mutex"), "{err}");
    let (code, out, _) = clusterscope(&["history", "check", &bad, "--initial", "0", "--max-steps", "2"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("gave up after"), "{out}");
}

/// `clusterscope bench` counts each lab's own unit of work, the figure the
/// benchmarks divide by the time (docs/benchmarks.md): for the Locks lab
/// the transactions its run reports committed, not the shared key-value
/// clients' requests (it has none).
#[test]
fn bench_counts_the_locks_labs_transactions() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/locks/bench.scn");
    let (code, out, _) = clusterscope(&["run", file]);
    assert_eq!(code, 0, "{out}");
    let committed: u64 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Transactions committed ")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no transactions committed in {out}"));
    assert!(committed > 1000, "{out}");
    let (code, json, _) = clusterscope(&["bench", file, "--repeat", "1"]);
    assert_eq!(code, 0, "{json}");
    assert!(json.contains(&format!("\"committed\": {committed},")), "{json} against {committed}");
}
