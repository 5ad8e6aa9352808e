//! `clusterscope sweep` and `clusterscope merge`: a scenario's parameters
//! over many seeds, on every core, or split over machines.
//!
//! ```text
//! clusterscope sweep tests/scenarios/raft/leader-crash.scn \
//!     --param election_timeout_max=200ms..400ms:50ms --seeds 200 --metric leaderless --metric elections
//! clusterscope sweep FILE --param ... --shard 0/4 > part0.jsonl     # on machine 0 of 4
//! clusterscope merge part*.jsonl                                      # the same table as one run
//! ```
//!
//! A shard prints a header line (the sweep's definition) and one JSON line
//! per run; `merge` checks that every part belongs to the same sweep and
//! prints the summary a single run would.

use clap::Args;
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sweep::{summarise, PointRow, Sweep, UnitResult};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Sweep a scenario's parameters over many seeds.
#[derive(Args, Debug, Clone)]
pub struct SweepArgs {
    /// The template scenario (.scn): its faults and actions are kept.
    pub file: String,
    /// A parameter and its values: NAME=1,2,3 or NAME=LO..HI:STEP (units as
    /// in files). Without any, the file's `tune` lines define the sweep.
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// Seeds 0..N for every point (default: the file's `tune seeds`, else 100).
    #[arg(long)]
    pub seeds: Option<u64>,
    /// A metric to read at the end of each run (repeat for several; default:
    /// the file's `tune metric` lines).
    #[arg(long = "metric")]
    pub metrics: Vec<String>,
    /// Threads (default: every core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print CSV instead of a table.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print JSON instead of a table: each point's values and each metric's
    /// distribution, and the search's best point.
    #[arg(long, conflicts_with = "shard")]
    pub json: bool,
    /// Run only shard K of N (K from 0) and print its raw results for `merge`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Search: the point with the lowest median of this metric...
    #[arg(long, conflicts_with = "maximise")]
    pub minimise: Option<String>,
    /// ...or the highest.
    #[arg(long)]
    pub maximise: Option<String>,
    /// ...among the points whose medians meet this check, written like an
    /// `expect` line: "elections <= 2", "leaderless < 300ms" (repeat for several).
    #[arg(long = "subject-to")]
    pub subject_to: Vec<String>,
    /// Also write the chart of the first metric (median, p10 to p90, p99 per
    /// point) to this SVG file: the drawing the page's Tune shows.
    #[arg(long, value_name = "FILE", conflicts_with = "shard")]
    pub svg: Option<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Header {
    sweep: String,
    scenario: String,
    params: Vec<String>,
    seeds: u64,
    metrics: Vec<String>,
}

fn build(text: &str, params: &[String], seeds: u64, metrics: &[String]) -> Result<Sweep, String> {
    let scn = Scenario::parse(text).map_err(|e| e.to_string())?;
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    let metrics: Vec<&str> = metrics.iter().flat_map(|m| m.split(',')).map(str::trim).collect();
    Sweep::new(scn, &params, seeds, &metrics).map_err(|e| e.to_string())
}

/// Runs a sweep's units on `jobs` threads, with progress on stderr.
fn run_units(sweep: &Sweep, units: &[(usize, u64)], jobs: usize) -> Result<Vec<UnitResult>, String> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let start = Instant::now();
    let results: Vec<Result<Vec<UnitResult>, String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&unit) = units.get(i) else { break };
                        out.push(sweep.run(unit).map_err(|e| e.to_string())?);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(out)
                })
            })
            .collect();
        // Progress: the main thread reports while the workers run.
        let mut last = Instant::now();
        while workers.iter().any(|w| !w.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            if last.elapsed() >= Duration::from_millis(500) {
                last = Instant::now();
                let d = done.load(Ordering::Relaxed).max(1);
                let left = start.elapsed().as_secs_f64() / d as f64 * (units.len() - d.min(units.len())) as f64;
                eprint!("\r{d}/{} runs, about {left:.1} s left   ", units.len());
            }
        }
        workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err("a worker thread stopped".into()))).collect()
    });
    if start.elapsed() >= Duration::from_millis(500) {
        eprintln!("\r{}/{} runs in {:.1} s          ", units.len(), units.len(), start.elapsed().as_secs_f64());
    }
    let mut all = Vec::with_capacity(units.len());
    for r in results {
        all.extend(r?);
    }
    Ok(all)
}

fn print(sweep: &Sweep, rows: &[PointRow], csv: bool) -> String {
    let mut out = String::new();
    let names: Vec<&str> = sweep.params.iter().map(|p| p.name.as_str()).collect();
    if csv {
        out.push_str(&names.join(","));
        for m in &sweep.metrics {
            out.push_str(&format!(",{m}_n,{m}_mean,{m}_p10,{m}_p50,{m}_p90,{m}_p99"));
        }
        out.push('\n');
        for r in rows {
            out.push_str(&r.values.join(","));
            for s in &r.stats {
                out.push_str(&format!(",{},{},{},{},{},{}", s.n, s.mean, s.p10, s.p50, s.p90, s.p99));
            }
            out.push('\n');
        }
        return out;
    }
    out.push_str(&format!("{} seeds per point\n", sweep.seeds));
    // Values in the metrics' own units (ms, %, ...), as the app shows them.
    let schema = sweep.scenario(0, 0).ok().and_then(|s| clusterscope_core::lab::Lab::new(&s).ok()).map(|l| l.schema());
    for (m, metric) in sweep.metrics.iter().enumerate() {
        let unit = schema
            .as_ref()
            .and_then(|s| s.metrics.iter().find(|x| x.name == *metric).map(|x| x.unit))
            .unwrap_or(clusterscope_core::lab::Unit::Ratio);
        let label = schema
            .as_ref()
            .and_then(|s| s.metrics.iter().find(|x| x.name == *metric).map(|x| x.label.clone()))
            .unwrap_or_default();
        out.push_str(&format!(
            "\n{metric} ({label})\n{:<28} {:>6} {:>12} {:>12} {:>12} {:>12} {:>12}\n",
            names.join(" "),
            "n",
            "mean",
            "p10",
            "p50",
            "p90",
            "p99"
        ));
        for r in rows {
            let s = &r.stats[m];
            let f = |v: f64| unit.format(v);
            out.push_str(&format!(
                "{:<28} {:>6} {:>12} {:>12} {:>12} {:>12} {:>12}\n",
                r.values.join(" "),
                s.n,
                f(s.mean),
                f(s.p10),
                f(s.p50),
                f(s.p90),
                f(s.p99)
            ));
        }
    }
    out
}

/// `sweep --json`: every point's parameter values and metric distributions
/// (NaN, a metric no run measured, is null), and with a search its best
/// point (null when none meets the constraints).
fn json(sweep: &Sweep, rows: &[PointRow], best: Option<Option<usize>>) -> String {
    let points: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let values: serde_json::Map<String, serde_json::Value> =
                sweep.params.iter().zip(&r.values).map(|(p, v)| (p.name.clone(), v.clone().into())).collect();
            let metrics: serde_json::Map<String, serde_json::Value> = sweep
                .metrics
                .iter()
                .zip(&r.stats)
                .map(|(m, st)| (m.clone(), serde_json::to_value(st).unwrap_or_default()))
                .collect();
            serde_json::json!({ "values": values, "metrics": metrics })
        })
        .collect();
    let mut out = serde_json::json!({
        "seeds": sweep.seeds,
        "params": sweep.params.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        "metrics": sweep.metrics,
        "points": points,
    });
    if let Some(best) = best {
        out["best"] = best.map_or(serde_json::Value::Null, |p| out["points"][p].clone());
    }
    serde_json::to_string_pretty(&out).unwrap_or_default() + "\n"
}

/// `clusterscope sweep`: plan the sweep, run its units on threads, print.
pub fn sweep(args: &SweepArgs) -> Result<String, String> {
    let plan = plan(args)?;
    // A metric that nothing in the template's window measures is named
    // before the runs, not found as empty rows after them.
    let undefined = plan.sweep.undefined_metrics().map_err(|e| e.to_string())?;
    if !undefined.is_empty() {
        eprintln!(
            "note: {} measured nothing in trial runs of the template (to {}): nothing it measures happens in that window",
            undefined.join(", "),
            clusterscope_core::sim::time::format_duration(plan.sweep.until())
        );
    }
    let units: Vec<(usize, u64)> = plan.sweep.units(plan.shard).collect();
    let results = run_units(&plan.sweep, &units, plan.jobs)?;
    if plan.shard.is_some() {
        return shard_output(plan, results);
    }
    summary(&plan, &results)
}

/// A sweep ready to run: the command line completed from the file's `tune`
/// lines, the sweep itself, the shard and the threads.
struct Plan {
    args: SweepArgs,
    text: String,
    seeds: u64,
    sweep: Sweep,
    shard: Option<(u64, u64)>,
    jobs: usize,
}

/// Reads the template and checks the command line; what the command line
/// leaves out, the file's `tune` lines give.
fn plan(args: &SweepArgs) -> Result<Plan, String> {
    let text = std::fs::read_to_string(&args.file).map_err(|e| format!("cannot read {}: {e}", args.file))?;
    let tune = Scenario::parse(&text).ok().and_then(|s| s.tune).unwrap_or_default();
    let mut args = args.clone();
    if args.params.is_empty() {
        args.params = tune.params.clone();
    }
    if args.metrics.is_empty() {
        args.metrics = tune.metrics.clone();
    }
    let seeds = args.seeds.unwrap_or(if tune.seeds > 0 { tune.seeds } else { 100 });
    if args.minimise.is_none() && args.maximise.is_none() {
        match &tune.goal {
            Some((true, t)) => args.minimise = Some(t.clone()),
            Some((false, t)) => args.maximise = Some(t.clone()),
            None => {}
        }
        if args.subject_to.is_empty() {
            args.subject_to = tune.subject_to.clone();
        }
    }
    if args.params.is_empty() || args.metrics.is_empty() {
        return Err(format!("{}: give --param and --metric, or 'tune' lines in the file", args.file));
    }
    let sweep = build(&text, &args.params, seeds, &args.metrics).map_err(|e| format!("{}: {e}", args.file))?;
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if jobs == 0 || jobs > 1024 {
        return Err("--jobs must be between 1 and 1024".into());
    }
    Ok(Plan { args, text, seeds, sweep, shard, jobs })
}

/// `--shard K/N`, with 0 <= K < N.
fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let parsed =
        s.split_once('/').and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((k, n)) if n > 0 && k < n => Ok((k, n)),
        _ => Err(format!("--shard '{s}': write it as K/N with 0 <= K < N, like 0/4")),
    }
}

/// A shard's output for `merge`: the header line, then one JSON line a run.
fn shard_output(plan: Plan, results: Vec<UnitResult>) -> Result<String, String> {
    let header = Header {
        sweep: "clusterscope sweep v1".into(),
        scenario: plan.text,
        params: plan.args.params.clone(),
        seeds: plan.seeds,
        metrics: plan.sweep.metrics.clone(),
    };
    let mut out = serde_json::to_string(&header).map_err(|e| e.to_string())? + "\n";
    for r in results {
        out.push_str(&serde_json::to_string(&r).map_err(|e| e.to_string())?);
        out.push('\n');
    }
    Ok(out)
}

/// The whole sweep's summary as a table, CSV or JSON, with the search's
/// best point when there is a goal.
fn summary(plan: &Plan, results: &[UnitResult]) -> Result<String, String> {
    let (args, sweep) = (&plan.args, &plan.sweep);
    let rows = summarise(sweep, results);
    if let Some(file) = &args.svg {
        write_svg(sweep, &rows, file)?;
    }
    let mut out = String::new();
    if let Some((objective, minimise)) =
        args.minimise.clone().map(|m| (m, true)).or_else(|| args.maximise.clone().map(|m| (m, false)))
    {
        let constraints = args
            .subject_to
            .iter()
            .map(|c| clusterscope_core::scenario::parse_expect(c).map_err(|e| format!("--subject-to '{c}': {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let goal = clusterscope_core::sweep::Goal { objective: objective.clone(), minimise, constraints };
        let best = clusterscope_core::sweep::search(&sweep.shape(), &rows, &goal)?;
        if args.json {
            return Ok(json(sweep, &rows, Some(best)));
        }
        out = best_line(sweep, &rows, best, &objective, minimise);
    } else if !args.subject_to.is_empty() {
        return Err("--subject-to goes with --minimise or --maximise".into());
    }
    if args.json {
        return Ok(json(sweep, &rows, None));
    }
    // With --csv the table stays pure CSV: the search's answer goes to stderr.
    if args.csv {
        eprint!("{out}");
        return Ok(print(sweep, &rows, true));
    }
    Ok(print(sweep, &rows, false) + &out)
}

/// The chart of the sweep's first metric, in its unit, as an SVG file.
fn write_svg(sweep: &Sweep, rows: &[PointRow], file: &str) -> Result<(), String> {
    let schema = sweep.scenario(0, 0).ok().and_then(|s| clusterscope_core::lab::Lab::new(&s).ok()).map(|l| l.schema());
    let metric = sweep.metrics.first().cloned().unwrap_or_default();
    let spec = schema.as_ref().and_then(|s| s.metrics.iter().find(|x| x.name == metric).cloned());
    let (scale, unit) = spec.as_ref().map_or((1.0, ""), |m| m.unit.axis());
    let label = spec.map_or(metric.clone(), |m| m.label);
    let chart = clusterscope_core::sweep::chart(&sweep.shape(), rows, 0, &label, scale, unit);
    let svg = chart.to_svg(720.0, 400.0, &clusterscope_core::chart::PAPER);
    std::fs::write(file, svg).map_err(|e| format!("cannot write {file}: {e}"))
}

/// The search's answer, in a sentence.
fn best_line(sweep: &Sweep, rows: &[PointRow], best: Option<usize>, objective: &str, minimise: bool) -> String {
    let word = if minimise { "lowest" } else { "highest" };
    match best {
        Some(p) => {
            let names: Vec<String> =
                sweep.params.iter().zip(&rows[p].values).map(|(r, v)| format!("{}={v}", r.name)).collect();
            let what = if sweep.params.iter().any(|r| r.name == objective) {
                objective.to_string()
            } else {
                format!("median {objective}")
            };
            format!(
                "\nbest: {} ({word} {what} among the points meeting every constraint; {} runs, seeds 0..{})\n",
                names.join(" "),
                rows[p].stats[0].n + rows[p].stats[0].missing,
                sweep.seeds
            )
        }
        None => "\nbest: none of the points meets every constraint\n".to_string(),
    }
}

/// `clusterscope merge`: shard outputs into the summary of one run.
pub fn merge(files: &[String], csv: bool) -> Result<String, String> {
    let mut header: Option<Header> = None;
    let mut units = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?;
        let mut lines = text.lines();
        let first = lines.next().ok_or_else(|| format!("{f}: empty; a shard's output starts with its header line"))?;
        let h: Header = serde_json::from_str(first).map_err(|e| format!("{f}: line 1 is not a sweep header: {e}"))?;
        match &header {
            Some(prev) if *prev != h => return Err(format!("{f}: belongs to another sweep than {}", files[0])),
            _ => header = Some(h),
        }
        for (i, line) in lines.enumerate() {
            let u: UnitResult = serde_json::from_str(line).map_err(|e| format!("{f}: line {}: {e}", i + 2))?;
            units.push(u);
        }
    }
    let h = header.ok_or("give the shards' output files to merge")?;
    let sweep = build(&h.scenario, &h.params, h.seeds, &h.metrics)?;
    let expected = sweep.points() as u64 * sweep.seeds;
    let mut seen: Vec<(usize, u64)> = units.iter().map(|u| (u.point, u.seed)).collect();
    seen.sort_unstable();
    seen.dedup();
    if (seen.len() as u64) < expected {
        return Err(format!("the shards hold {} of the {expected} runs: is a shard missing?", seen.len()));
    }
    Ok(print(&sweep, &summarise(&sweep, &units), csv))
}
