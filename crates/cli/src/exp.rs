//! `clusterscope exp`: a lab's experiments from the command line, and the
//! JSON forms of `run`'s summary.
//!
//! ```text
//! clusterscope exp --list
//! clusterscope exp raft fig16 --arg runs=200
//! clusterscope exp paxos beside tests/scenarios/raft/leader-crash.scn --json
//! clusterscope exp balance policies tests/scenarios/balance/slow-server.scn --csv
//! clusterscope exp ring compare --arg nodes=20 --arg changes=add,fail:S3
//! ```
//!
//! Every lab lists its experiments in the registry; this module names no
//! lab. A scenario file of a lab the experiment does not read is refused
//! with a sentence naming the labs it does.

use crate::read_scenario;
use clap::Args;
use clusterscope_core::lab::{experiment, registry, Lab};
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::time::format_duration;
use clusterscope_core::sim::Time;
use serde_json::{json, Value};
use std::fmt::Write as _;

/// Run a lab's experiment and print its table, or list them all.
#[derive(Args, Debug, Clone)]
pub struct ExpCommand {
    /// List every lab's experiments with their arguments and defaults.
    #[arg(long, conflicts_with_all = ["lab", "name", "file"])]
    pub list: bool,
    /// The lab (raft, paxos, ring, balance, ...).
    #[arg(required_unless_present = "list")]
    pub lab: Option<String>,
    /// The experiment's name (see --list).
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// A scenario file (.scn) for experiments that read one.
    pub file: Option<String>,
    /// An argument, NAME=VALUE (repeat for several; see --list).
    #[arg(long = "arg", value_name = "NAME=VALUE")]
    pub args: Vec<String>,
    /// Print the table as CSV.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print the table as JSON (title, columns with units, rows, notes).
    #[arg(long)]
    pub json: bool,
    /// Also write the experiment's chart to this SVG file: the drawing the
    /// page's results view shows.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<String>,
}

/// `clusterscope exp`.
pub fn exp(cmd: &ExpCommand) -> Result<bool, String> {
    if cmd.list {
        print!("{}", list());
        return Ok(true);
    }
    let (Some(lab), Some(name)) = (&cmd.lab, &cmd.name) else {
        return Err("give a lab and an experiment's name, or --list".into());
    };
    let exp = registry::find_experiment(lab, name)?;
    let mut args = Vec::with_capacity(cmd.args.len());
    for a in &cmd.args {
        let (n, v) = a.split_once('=').ok_or_else(|| format!("--arg '{a}': write NAME=VALUE, like runs=50"))?;
        args.push((n.trim().to_string(), v.trim().to_string()));
    }
    let scn = cmd.file.as_deref().map(read_scenario).transpose()?;
    let table = experiment::run(exp, scn.as_ref(), &args).map_err(|e| match &cmd.file {
        Some(f) => format!("{f}: {e}"),
        None => e,
    })?;
    if let Some(file) = &cmd.svg {
        let chart = table.chart().ok_or_else(|| format!("{name}: its table has no numbers to draw"))?;
        let svg = chart.to_svg(720.0, 400.0, &clusterscope_core::chart::PAPER);
        std::fs::write(file, svg).map_err(|e| format!("cannot write {file}: {e}"))?;
    }
    if cmd.json {
        println!("{}", table.to_json());
    } else if cmd.csv {
        print!("{}", table.to_csv());
    } else {
        print!("{}", table.to_text());
    }
    Ok(true)
}

/// Every lab's experiments: lab, name, one line, what it reads, and its
/// arguments with their defaults.
fn list() -> String {
    let mut out = String::new();
    for (lab, e) in registry::experiments() {
        let _ = writeln!(out, "{} {}: {}", lab.name, e.name, e.about);
        let reads = match (e.reads, e.needs_scenario, e.default_scenario.is_some()) {
            ([], _, _) => "no scenario file".to_string(),
            (labs, true, true) => format!("a {} scenario file (without one, the lab's own example)", labs.join(" or ")),
            (labs, true, false) => format!("a {} scenario file", labs.join(" or ")),
            (labs, false, _) => format!("a {} scenario file if given, else its arguments", labs.join(" or ")),
        };
        let _ = writeln!(out, "    reads {reads}");
        for a in e.args {
            let default = if a.default.is_empty() { "(none)" } else { a.default };
            let _ = writeln!(out, "    --arg {}={default}  {}", a.name, a.help);
        }
    }
    out
}

/// The command that replays a run up to its violation, with the trace.
pub fn violation_replay(file: &str, scn: &Scenario, at: Time) -> String {
    format!("replay: clusterscope run {file} --seed {} --until {} --trace", scn.seed, format_duration(at))
}

/// The command that replays a run whose expectation failed.
pub fn expect_replay(file: &str, scn: &Scenario) -> String {
    format!("replay: clusterscope run {file} --seed {} --trace", scn.seed)
}

/// A number for JSON: NaN (not measured) is null.
fn number(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// `run --json`: the run's summary as one JSON object, and whether
/// everything held.
pub fn run_json(file: &str, scn: &Scenario, lab: &mut Lab) -> (String, bool) {
    let metrics: Vec<Value> = lab
        .metrics()
        .into_iter()
        .map(|(m, v)| json!({ "name": m.name, "label": m.label, "unit": m.unit, "value": number(v), "shown": m.unit.format(v) }))
        .collect();
    let violation = lab.violation().map(|v| {
        json!({
            "invariant": v.invariant,
            "at_us": v.at,
            "message": v.message,
            "replay": violation_replay(file, scn, v.at).trim_start_matches("replay: "),
        })
    });
    let mut ok = violation.is_none() || violation_expected(scn, lab);
    let expects: Vec<Value> = scn
        .expects
        .iter()
        .map(|e| match lab.check(e) {
            Ok(msg) => json!({ "ok": true, "message": msg }),
            Err(msg) => {
                ok = false;
                json!({ "ok": false, "message": msg, "replay": expect_replay(file, scn).trim_start_matches("replay: ") })
            }
        })
        .collect();
    let summary = json!({
        "file": file,
        "lab": scn.lab.name(),
        "seed": scn.seed,
        "ran_to_us": lab.now(),
        "events": lab.events(),
        "fingerprint": format!("{:016x}", lab.fingerprint()),
        "metrics": metrics,
        "violation": violation,
        "expects": expects,
        "ok": ok,
    });
    (serde_json::to_string_pretty(&summary).unwrap_or_default(), ok)
}

/// Whether the run stopped on the violation an `expect violation "NAME"`
/// line of the scenario declares: a deliberate-bug preset that shows what
/// it exists to show succeeds (issue 23).
pub fn violation_expected(scn: &Scenario, lab: &mut Lab) -> bool {
    lab.violation().is_some() && scn.expects.iter().any(|e| e.violation.is_some() && lab.check(e).is_ok())
}
