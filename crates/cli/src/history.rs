//! `clusterscope history check`: a history from outside (Jepsen's EDN or
//! text log, Porcupine's JSON) checked for linearizability.
//!
//! ```text
//! clusterscope history check history.edn --model cas-register
//! clusterscope history check etcd_000.log --model cas-register
//! clusterscope history check c50-ok.txt --model kv --initial '""'
//! ```
//!
//! Exit status: 0 linearizable, 1 not (the operations that cannot be
//! ordered are printed, with why), 2 a file that cannot be read (the
//! message names the line), 3 the search's budget ran out first.

use clap::{Args, Subcommand};
use clusterscope_core::history::{self, edn, formats, Budget, Entry, ModelKind, Value, Verdict};
use std::fmt::Write as _;
use std::io::Write as _;

/// Histories from outside.
#[derive(Subcommand, Debug, Clone)]
pub enum HistoryCommand {
    /// Check a history file for linearizability.
    Check(CheckArgs),
}

/// `history check`'s arguments.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// The history: Jepsen EDN, a Jepsen log, or Porcupine JSON (told apart by their look).
    pub file: String,
    /// The object the clients used: register, cas-register, kv or mutex.
    #[arg(long, default_value = "register")]
    pub model: String,
    /// Every key's first value, in EDN: nil (Jepsen's models), 0, "" ...
    #[arg(long, default_value = "nil")]
    pub initial: String,
    /// Search steps before giving up (about ten million a second here).
    #[arg(long, default_value_t = Budget::default().max_steps)]
    pub max_steps: u64,
    /// Configurations remembered before giving up (a memory bound).
    #[arg(long, default_value_t = Budget::default().max_states)]
    pub max_states: usize,
}

/// Runs `history check`; `Ok(false)` when the history is not linearizable.
pub fn run(cmd: &HistoryCommand) -> Result<bool, String> {
    let HistoryCommand::Check(args) = cmd;
    let model = ModelKind::parse(&args.model).map_err(|e| format!("--model: {e}"))?;
    let initial = initial_value(&args.initial)?;
    let text = std::fs::read_to_string(&args.file).map_err(|e| format!("cannot read {}: {e}", args.file))?;
    let (entries, format) = formats::read_any(&text).map_err(|e| format!("{}: {e}", args.file))?;
    let budget = Budget { max_steps: args.max_steps, max_states: args.max_states };
    let started = std::time::Instant::now();
    let verdict = history::check(model, &initial, &entries, &budget).map_err(|e| format!("{}: {e}", args.file))?;
    let took = started.elapsed().as_secs_f64();
    let keys = entries.iter().map(|e| &e.key).collect::<std::collections::BTreeSet<_>>().len();
    let what = format!(
        "{} operations of {} client(s) on {keys} key(s), read as a {}",
        entries.len(),
        clients(&entries),
        format.name()
    );
    match verdict {
        Verdict::Linearizable { .. } => {
            println!("linearizable: {what}, as a {} (checked in {took:.3} s)", model.name());
            Ok(true)
        }
        Verdict::NotLinearizable { ops, order, reason } => {
            print!("{}", not_linearizable(&entries, &ops, &order, &reason, &what, model));
            println!("(checked in {took:.3} s)");
            Ok(false)
        }
        Verdict::GaveUp { message, .. } => {
            println!("unknown: {what}; the checker {message} in {took:.3} s (raise --max-steps or --max-states)");
            let _ = std::io::stdout().flush();
            std::process::exit(3)
        }
    }
}

fn clients(entries: &[Entry]) -> usize {
    entries.iter().map(|e| e.client).collect::<std::collections::BTreeSet<_>>().len()
}

/// `--initial`: one EDN scalar.
fn initial_value(text: &str) -> Result<Value, String> {
    let bad = || format!("--initial: '{text}' is not nil, an integer or a string in EDN (\"\" for the empty string)");
    let forms = edn::parse(text).map_err(|_| bad())?;
    match forms.as_slice() {
        [(_, edn::Edn::Nil)] => Ok(Value::Nil),
        [(_, edn::Edn::Int(i))] => Ok(Value::Int(*i)),
        [(_, edn::Edn::Str(s))] => Ok(Value::Str(s.clone())),
        _ => Err(bad()),
    }
}

/// Where an operation is in the file: the positions of its invocation
/// and completion among the file's operation records (1 the first).
fn place(e: &Entry) -> String {
    match e.ret {
        Some(r) => format!("records {}–{}", e.call + 1, r + 1),
        None => format!("record {}, never completed", e.call + 1),
    }
}

fn not_linearizable(
    entries: &[Entry],
    ops: &[usize],
    order: &[usize],
    reason: &str,
    what: &str,
    model: ModelKind,
) -> String {
    let mut out = format!("not linearizable: {what}, as a {}\n", model.name());
    match ops.len() {
        1 => out.push_str("this operation cannot take effect anywhere:\n"),
        n => {
            let _ = writeln!(out, "these {n} operations cannot be ordered:");
        }
    }
    for &i in ops {
        let _ = writeln!(out, "  {} ({})", entries[i], place(&entries[i]));
    }
    if !order.is_empty() {
        let names: Vec<String> = order.iter().map(|&i| entries[i].op.to_string()).collect();
        let _ = writeln!(out, "longest legal order found: {}", names.join(", "));
    }
    let _ = writeln!(out, "{reason}");
    out
}
