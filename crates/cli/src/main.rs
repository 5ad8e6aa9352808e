//! `clusterscope`: run ClusterScope scenarios headless.
//!
//! The same engine as the browser, for scripts, CI and people who want
//! numbers: run a `.scn` file and check its invariants and expectations,
//! print its trace, turn it into a share link or read a link back; run a
//! lab's experiments (`exp`), which print one table as text, CSV or JSON.
//! Exit status: 0 when everything holds, 1 when an invariant or an `expect`
//! fails, 2 when the input is wrong (the message says what and where).

mod exp;
mod history;
mod ring;
mod sweep;

use clap::{Parser, Subcommand};
use clusterscope_core::lab::{experiment, registry, Lab, Table};
use clusterscope_core::scenario::{link, parse_time, Scenario};
use clusterscope_core::sim::time::format_duration;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "clusterscope", version, about = "Run ClusterScope scenarios headless")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario file: print a summary, check invariants and `expect` lines.
    Run {
        /// The scenario file (.scn).
        file: String,
        /// Run to this virtual time instead of the file's `until` (e.g. 10s).
        #[arg(long)]
        until: Option<String>,
        /// Use this seed instead of the file's.
        #[arg(long)]
        seed: Option<u64>,
        /// Print the trace (the last events, one a line).
        #[arg(long)]
        trace: bool,
        /// Print only the trace fingerprint (hex), for determinism checks.
        #[arg(long)]
        fingerprint: bool,
        /// Print the summary as JSON (metrics, violation, expectations).
        #[arg(long, conflicts_with_all = ["trace", "fingerprint"])]
        json: bool,
    },
    /// Run a lab's experiment and print its table, or list every lab's
    /// experiments with `--list`.
    Exp(exp::ExpCommand),
    /// Print the share link fragment (the part after '#') of a scenario file.
    Link {
        /// The scenario file (.scn).
        file: String,
    },
    /// Reproduce Figure 16 of the Raft paper: time to elect a new leader
    /// after the leader crashes, for several election timeout ranges
    /// (the same as `exp raft fig16`).
    Fig16 {
        /// Runs per timeout range.
        #[arg(long, default_value_t = 1000)]
        runs: u64,
    },
    /// Time a scenario run natively: events and delivered messages per second
    /// of wall-clock time, best of several runs (compare with ?bench=1 in the
    /// browser; criterion gives the careful figure: ./dev bench).
    Bench {
        /// The scenario file (.scn).
        file: String,
        /// How many runs.
        #[arg(long, default_value_t = 5)]
        repeat: u32,
    },
    /// Placement queries: where keys go under an algorithm, what changes move,
    /// how even the load is; `--compare` for every algorithm side by side.
    Ring(ring::RingArgs),
    /// Paxos beside Raft: run a scenario's cluster size, network, faults and
    /// client load on Multi-Paxos and on Raft and compare them (the same as
    /// `exp paxos beside FILE`).
    Beside {
        /// The scenario file (.scn), of either lab.
        file: String,
    },
    /// Dueling proposers in single-decree Paxos: messages and rounds until a
    /// value is learned, with 1, 2 and 3 proposers, with and without back-off
    /// (the same as `exp paxos duel`).
    PaxosDuel {
        /// Seeded runs per line.
        #[arg(long, default_value_t = 500)]
        runs: u64,
    },
    /// Load balancing: run a balance scenario's traffic and faults under
    /// every policy and compare latency percentiles and failures (the same
    /// as `exp balance policies FILE`).
    Policies {
        /// The scenario file (.scn) of the balance lab.
        file: String,
    },
    /// Sweep a scenario's parameters over many seeds, on every core:
    /// each metric's distribution per value (or one shard's raw results).
    Sweep(sweep::SweepArgs),
    /// Combine the outputs of `sweep --shard K/N` into one sweep's summary.
    Merge {
        /// The shards' output files.
        files: Vec<String>,
        /// Print CSV instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// Histories from outside: `history check FILE --model M` checks a
    /// Jepsen or Porcupine history for linearizability (exit 0 yes, 1 no,
    /// 2 unreadable, 3 gave up).
    #[command(subcommand)]
    History(history::HistoryCommand),
    /// Print the scenario inside a share link or its fragment.
    Decode {
        /// A link, or the part after '#'.
        link: String,
    },
}

pub(crate) fn read_scenario(file: &str) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    Scenario::parse(&text).map_err(|e| format!("{file}: {e}"))
}

/// An old command that is now a lab's experiment: the same run, the table
/// printed as text.
fn alias(lab: &str, name: &str, file: Option<&str>, args: &[(&str, String)]) -> Result<bool, String> {
    let exp = registry::find_experiment(lab, name)?;
    let scn = file.map(read_scenario).transpose()?;
    let args: Vec<(String, String)> = args.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
    let table: Table = experiment::run(exp, scn.as_ref(), &args).map_err(|e| match file {
        Some(f) => format!("{f}: {e}"),
        None => e,
    })?;
    print!("{}", table.to_text());
    Ok(true)
}

/// Runs one command; each family of subcommands has its own function.
fn run(cli: Cli) -> Result<bool, String> {
    match cli.command {
        Command::Run { file, until, seed, trace, fingerprint, json } => {
            run_file(&file, until, seed, trace, fingerprint, json)
        }
        Command::Bench { file, repeat } => bench(&file, repeat),
        Command::Exp(cmd) => exp::exp(&cmd),
        Command::Fig16 { runs } => alias("raft", "fig16", None, &[("runs", runs.to_string())]),
        Command::Policies { file } => alias("balance", "policies", Some(&file), &[]),
        Command::PaxosDuel { runs } => alias("paxos", "duel", None, &[("runs", runs.to_string())]),
        Command::Beside { file } => alias("paxos", "beside", Some(&file), &[]),
        Command::Sweep(args) => print_table(sweep::sweep(&args)),
        Command::Merge { files, csv } => print_table(sweep::merge(&files, csv)),
        Command::Ring(args) => print_table(ring::run(&args)),
        Command::History(cmd) => history::run(&cmd),
        Command::Link { file } => {
            println!("{}", link::encode(&read_scenario(&file)?).map_err(|e| format!("{file}: {e}"))?);
            Ok(true)
        }
        Command::Decode { link: l } => {
            let fragment = l.rsplit_once('#').map_or(l.as_str(), |(_, f)| f);
            let scn = link::decode(fragment).map_err(|e| e.to_string())?;
            print!("{}", scn.to_text());
            Ok(true)
        }
    }
}

/// Prints what a sweep, merge or ring query wrote.
fn print_table(out: Result<String, String>) -> Result<bool, String> {
    print!("{}", out?);
    Ok(true)
}

/// `clusterscope run`: replays a scenario file and prints its fingerprint,
/// its JSON summary, or its trace and summary.
fn run_file(
    file: &str,
    until: Option<String>,
    seed: Option<u64>,
    trace: bool,
    fingerprint: bool,
    json: bool,
) -> Result<bool, String> {
    let mut scn = read_scenario(file)?;
    if let Some(s) = seed {
        scn.seed = s;
    }
    if let Some(u) = until {
        scn.until = parse_time(&u).map_err(|e| format!("--until: {e}"))?;
    }
    if scn.until == 0 {
        return Err(format!("{file}: nothing to run: give the file an 'until' line or pass --until 10s"));
    }
    let mut lab = Lab::replay(&scn).map_err(|e| format!("{file}: {e}"))?;
    if fingerprint {
        println!("{:016x}", lab.fingerprint());
        return Ok(lab.violation().is_none() || exp::violation_expected(&scn, &mut lab));
    }
    if json {
        let (summary, ok) = exp::run_json(file, &scn, &mut lab);
        println!("{summary}");
        return Ok(ok);
    }
    if trace {
        for line in lab.trace_lines() {
            println!("{line}");
        }
    }
    Ok(print_summary(file, &scn, &mut lab))
}

/// The summary of a run: metrics, any violation and every `expect` line,
/// each failure with the command that replays it. True when all hold and
/// the run stopped on no violation but one the file declares.
fn print_summary(file: &str, scn: &Scenario, lab: &mut Lab) -> bool {
    println!(
        "{} lab, seed {}, ran to {}: {} events, fingerprint {:016x}",
        scn.lab.name(),
        scn.seed,
        format_duration(lab.now()),
        lab.events(),
        lab.fingerprint()
    );
    for (m, v) in lab.metrics() {
        println!("  {:<24} {}", m.label, m.unit.format(v));
    }
    let mut ok = true;
    let expected = exp::violation_expected(scn, lab);
    if let Some(v) = lab.violation() {
        // A violation the file declares (`expect violation "NAME"`) is
        // what it exists to show: its `expect` line below says so.
        ok = expected;
        println!("VIOLATION: {} at {}: {}", v.invariant, format_duration(v.at), v.message);
        println!("{}", exp::violation_replay(file, scn, v.at));
    }
    for e in &scn.expects {
        match lab.check(e) {
            Ok(msg) => println!("ok: {msg}"),
            Err(msg) => {
                ok = false;
                println!("FAILED: {msg}");
                println!("{}", exp::expect_replay(file, scn));
            }
        }
    }
    ok
}

/// `clusterscope bench`: the best of several native runs, as JSON.
fn bench(file: &str, repeat: u32) -> Result<bool, String> {
    let scn = read_scenario(file)?;
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..repeat.clamp(1, 1000) {
        let start = std::time::Instant::now();
        let lab = Lab::replay(&scn).map_err(|e| format!("{file}: {e}"))?;
        best = best.min(start.elapsed().as_secs_f64());
        last = Some(lab);
    }
    if let Some(lab) = last {
        let c = lab.counters();
        println!(
            "{{\"events\": {}, \"delivered\": {}, \"requests\": {}, \"committed\": {}, \"seconds\": {best:.6}, \"events_per_sec\": {:.0}, \"delivered_per_sec\": {:.0}, \"requests_per_sec\": {:.0}, \"fingerprint\": \"{:016x}\"}}",
            lab.events(),
            c.delivered,
            c.requests,
            c.committed,
            lab.events() as f64 / best,
            c.delivered as f64 / best,
            c.requests as f64 / best,
            lab.fingerprint()
        );
    }
    Ok(true)
}

fn main() -> ExitCode {
    // A closed pipe on standard output ends the program quietly (the
    // default for Unix tools); Rust's runtime ignores SIGPIPE, which would
    // make every print after `| head` panic.
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition at start-up, before
    // any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}
