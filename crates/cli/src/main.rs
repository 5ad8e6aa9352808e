//! `clusterscope`: run ClusterScope scenarios headless.
//!
//! The same engine as the browser, for scripts, CI and people who want
//! numbers: run a `.scn` file and check its invariants and expectations,
//! print its trace, turn it into a share link or read a link back.
//! Exit status: 0 when everything holds, 1 when an invariant or an `expect`
//! fails, 2 when the input is wrong (the message says what and where).

mod ring;
mod sweep;

use clap::{Parser, Subcommand};
use clusterscope_core::experiments::{figure16, paxos_beside_raft, paxos_duel, DuelCost, FIGURE16_RANGES};
use clusterscope_core::lab::Lab;
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
    },
    /// Print the share link fragment (the part after '#') of a scenario file.
    Link {
        /// The scenario file (.scn).
        file: String,
    },
    /// Reproduce Figure 16 of the Raft paper: time to elect a new leader
    /// after the leader crashes, for several election timeout ranges.
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
    /// client load on Multi-Paxos and on Raft and compare them.
    Beside {
        /// The scenario file (.scn), of either lab.
        file: String,
    },
    /// Dueling proposers in single-decree Paxos: messages and rounds until a
    /// value is learned, with 1, 2 and 3 proposers, with and without back-off.
    PaxosDuel {
        /// Seeded runs per line.
        #[arg(long, default_value_t = 500)]
        runs: u64,
    },
    /// Load balancing: run a balance scenario's traffic and faults under
    /// every policy and compare latency percentiles and failures.
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
    /// Print the scenario inside a share link or its fragment.
    Decode {
        /// A link, or the part after '#'.
        link: String,
    },
}

fn read_scenario(file: &str) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    Scenario::parse(&text).map_err(|e| format!("{file}: {e}"))
}

fn run(cli: Cli) -> Result<bool, String> {
    match cli.command {
        Command::Run { file, until, seed, trace, fingerprint } => {
            let mut scn = read_scenario(&file)?;
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
                return Ok(lab.violation().is_none());
            }
            if trace {
                for line in lab.trace_lines() {
                    println!("{line}");
                }
            }
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
            if let Some(v) = lab.violation() {
                ok = false;
                println!("VIOLATION: {} at {}: {}", v.invariant, format_duration(v.at), v.message);
                println!(
                    "replay: clusterscope run {file} --seed {} --until {} --trace",
                    scn.seed,
                    format_duration(v.at)
                );
            }
            for e in &scn.expects {
                match lab.check(e) {
                    Ok(msg) => println!("ok: {msg}"),
                    Err(msg) => {
                        ok = false;
                        println!("FAILED: {msg}");
                        println!("replay: clusterscope run {file} --seed {} --trace", scn.seed);
                    }
                }
            }
            Ok(ok)
        }
        Command::Fig16 { runs } => {
            if runs == 0 || runs > 1_000_000 {
                return Err("--runs must be between 1 and 1000000".into());
            }
            println!("Time to elect a new leader after the leader crashes (5 servers, one-way latency 6-9 ms, {runs} runs each)");
            println!(
                "{:>14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11}",
                "timeout (ms)", "p10", "p50", "p90", "p99", "max", "unfinished"
            );
            for row in figure16(FIGURE16_RANGES, runs) {
                let ms = |t: Option<u64>| t.map_or("-".to_string(), |t| format!("{:.1}", t as f64 / 1e3));
                println!(
                    "{:>14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11}",
                    format!("{}-{}", row.timeout_min / 1000, row.timeout_max / 1000),
                    ms(row.percentile(10.0)),
                    ms(row.percentile(50.0)),
                    ms(row.percentile(90.0)),
                    ms(row.percentile(99.0)),
                    ms(row.percentile(100.0)),
                    row.unfinished
                );
            }
            Ok(true)
        }
        Command::Bench { file, repeat } => {
            let scn = read_scenario(&file)?;
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
        Command::Policies { file } => {
            let scn = read_scenario(&file)?;
            if scn.lab.name() != "balance" {
                return Err(format!(
                    "{file}: 'policies' compares load-balancing policies: give it a 'lab balance' file"
                ));
            }
            if scn.until == 0 {
                return Err(format!("{file}: nothing to run: give the file an 'until' line"));
            }
            let rows = clusterscope_core::balance::lab::compare_policies(&scn).map_err(|e| format!("{file}: {e}"))?;
            println!(
                "{} servers, seed {}, run to {}; latency over the whole run, ms",
                scn.nodes(),
                scn.seed,
                format_duration(scn.until)
            );
            println!(
                "{:<22} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>8} {:>8}",
                "policy", "p50", "p95", "p99", "p99.9", "max", "success", "rejected", "timed out", "failed", "retries"
            );
            let ms = |v: f64| if v.is_nan() { "-".to_string() } else { format!("{:.1}", v / 1e3) };
            for r in rows {
                println!(
                    "{:<22} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8.2}% {:>9} {:>9} {:>8} {:>8.3}",
                    r.policy,
                    ms(r.latency[0]),
                    ms(r.latency[1]),
                    ms(r.latency[2]),
                    ms(r.latency[3]),
                    ms(r.latency[4]),
                    r.success * 100.0,
                    r.counts[2],
                    r.counts[3],
                    r.counts[4],
                    r.retries_per_request
                );
            }
            Ok(true)
        }
        Command::PaxosDuel { runs } => {
            if runs == 0 || runs > 100_000 {
                return Err("--runs must be between 1 and 100000".into());
            }
            println!("Single-decree Paxos, 5 acceptors (proposers among them), 10-20 ms latency, {runs} runs a line");
            println!(
                "{:>9} {:>9} {:>14} {:>14} {:>12} {:>11}",
                "proposers", "back-off", "msgs (median)", "msgs (p90)", "rounds (med)", "unfinished"
            );
            for proposers in 1..=3 {
                for backoff in [true, false] {
                    let c = paxos_duel(proposers, backoff, runs).map_err(|e| e.to_string())?;
                    let p90 = |v: &[u64]| (!v.is_empty()).then(|| v[(v.len() * 9 / 10).min(v.len() - 1)]);
                    let show = |v: Option<u64>| v.map_or("-".to_string(), |x| x.to_string());
                    println!(
                        "{:>9} {:>9} {:>14} {:>14} {:>12} {:>11}",
                        proposers,
                        if backoff { "10-100ms" } else { "none" },
                        show(DuelCost::median(&c.messages)),
                        show(p90(&c.messages)),
                        show(DuelCost::median(&c.rounds)),
                        c.unfinished
                    );
                }
            }
            Ok(true)
        }
        Command::Beside { file } => {
            let scn = read_scenario(&file)?;
            if scn.until == 0 {
                return Err(format!("{file}: nothing to run: give the file an 'until' line"));
            }
            let rows = paxos_beside_raft(&scn).map_err(|e| format!("{file}: {e}"))?;
            println!(
                "{} servers, seed {}, {} actions, run to {}",
                scn.nodes(),
                scn.seed,
                scn.actions.len(),
                format_duration(scn.until)
            );
            println!(
                "{:<12} {:>10} {:>14} {:>11} {:>11} {:>16} {:>8}",
                "protocol", "committed", "msgs/commit", "p50 (ms)", "p99 (ms)", "no leader (ms)", "leaders"
            );
            let ms = |v: f64| if v.is_nan() { "-".to_string() } else { format!("{:.1}", v / 1e3) };
            for r in rows {
                println!(
                    "{:<12} {:>10} {:>14.1} {:>11} {:>11} {:>16} {:>8}",
                    r.protocol,
                    format!("{}/{}", r.committed, r.requests),
                    r.msgs_per_commit,
                    ms(r.commit_p50),
                    ms(r.commit_p99),
                    ms(r.leaderless),
                    if r.leaders.is_nan() { "-".into() } else { format!("{:.0}", r.leaders) }
                );
            }
            Ok(true)
        }
        Command::Sweep(args) => {
            print!("{}", sweep::sweep(&args)?);
            Ok(true)
        }
        Command::Merge { files, csv } => {
            print!("{}", sweep::merge(&files, csv)?);
            Ok(true)
        }
        Command::Ring(args) => {
            print!("{}", ring::run(&args)?);
            Ok(true)
        }
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
