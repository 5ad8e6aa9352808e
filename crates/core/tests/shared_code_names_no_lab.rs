//! Shared code names no lab.
//!
//! Where the expectation comes from: STYLE.md ("Shared code names no lab:
//! what a lab wants drawn or hidden, it says in its schema") and the
//! lab-boundary issue ("the shared page, worker, API and frame code name no
//! lab, no lab's roles and no lab's fields: `grep` finds none, tests
//! excepted"). With four more labs coming, every special case for one lab
//! in shared code would be copied four times; this test fails on the first.
//!
//! Shared code: the engine's lab boundary, scenario model, simulator and
//! sweeps, and every module of the page and the worker except the labs' own
//! views (`crates/app/src/labs/`). The registries, the one place that lists
//! the labs, are left out. So are tests (`tests.rs` files and everything
//! after a `#[cfg(test)]`) and code blocks in doc comments (a scenario
//! example must name a real lab to run).

use std::path::{Path, PathBuf};

/// Words that belong to one lab: the labs' names, their roles, fields and
/// metrics, and the page's old lab-specific plumbing.
const LAB_WORDS: &[&str] = &[
    "raft",
    "paxos",
    "multi-paxos",
    "ballot",
    "ballots",
    "balancer",
    "balancers",
    "spare",
    "learner",
    "candidate",
    "acceptor",
    "acceptors",
    "proposer",
    "proposers",
    "term",
    "terms",
    "snapshot_term",
    "decisions",
    "ketama",
    "ringbench",
    "suspected",
    "incarnation",
    "swim",
];

/// Phrases that name a lab by its name in the app ("the Ring lab").
const LAB_PHRASES: &[&str] = &[
    "ring lab",
    "\"ring\"",
    "\"balance\"",
    "load-balancing lab",
    "load balancing lab",
    "\"faults\"",
    "failure-detection lab",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("readable").flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn shared_files() -> Vec<PathBuf> {
    let root = root();
    let mut files = Vec::new();
    for dir in [
        "crates/core/src/lab",
        "crates/core/src/history",
        "crates/core/src/scenario",
        "crates/core/src/sim",
        "crates/app/src",
        "crates/page/src",
    ] {
        rust_files(&root.join(dir), &mut files);
    }
    files.push(root.join("crates/core/src/sweep.rs"));
    files.push(root.join("crates/core/src/chart.rs"));
    files.retain(|p| {
        let s = p.to_string_lossy().replace('\\', "/");
        !s.ends_with("/tests.rs") && !s.contains("/app/src/labs/") && !s.ends_with("/lab/registry.rs")
    });
    files
}

/// The lines of `text` that count: before any `#[cfg(test)]`, outside doc
/// comments' code blocks.
fn counted_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut in_example = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        let doc = t.starts_with("//!") || t.starts_with("///");
        if doc && t.trim_start_matches('/').trim_start_matches('!').trim_start().starts_with("```") {
            in_example = !in_example;
            continue;
        }
        if !(doc && in_example) {
            out.push((i + 1, line));
        }
    }
    out
}

/// The lab words in one line, as whole words (case-insensitive).
fn lab_words_in(line: &str) -> Vec<String> {
    let lower = line.to_lowercase();
    let mut found: Vec<String> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .flat_map(|w| std::iter::once(w).chain(w.split('-')))
        .filter(|w| LAB_WORDS.contains(w))
        .map(str::to_string)
        .collect();
    found.extend(LAB_PHRASES.iter().filter(|p| lower.contains(*p)).map(|p| p.to_string()));
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_word_finder_finds_what_it_should() {
    assert_eq!(lab_words_in("if role == \"spare\" {"), ["spare"]);
    assert_eq!(lab_words_in("// Raft today"), ["raft"]);
    assert_eq!(lab_words_in("let t = f.name == \"term\";"), ["term"]);
    assert_eq!(lab_words_in("Multi-Paxos slots"), ["multi-paxos", "paxos"]);
    assert_eq!(lab_words_in("the Ring lab's lookup"), ["ring lab"]);
    assert!(lab_words_in("let terminal = determined(spares);").is_empty(), "whole words only");
    let text =
        "fn a() {}\n/// ```\n/// lab raft\n/// ```\nfn b() {}\n#[cfg(test)]\nmod tests { const L: &str = \"raft\"; }\n";
    let lines: Vec<usize> = counted_lines(text).into_iter().map(|(n, _)| n).collect();
    assert_eq!(lines, [1, 5], "doc examples and tests are left out");
}

#[test]
fn shared_code_names_no_lab_no_role_and_no_field() {
    let files = shared_files();
    assert!(files.len() >= 20, "the shared modules were found: {files:?}");
    let mut hits = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        for (n, line) in counted_lines(&text) {
            let words = lab_words_in(line);
            if !words.is_empty() {
                let rel = path.strip_prefix(root()).unwrap_or(path).display().to_string();
                hits.push(format!("{rel}:{n}: {} ({})", line.trim(), words.join(", ")));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "shared code names a lab, its roles or its fields; say it in the lab's schema instead:\n{}",
        hits.join("\n")
    );
}
