//! The Ring lab's experiments: named runs that produce a table.
//!
//! [`COMPARE`] places the same keys with every placement algorithm, applies
//! the same changes, and compares how evenly each spreads the keys and how
//! many keys each change moves against the least any placement must move.
//! The lab's page asks the same question ("compare") of a running lab; both
//! end in [`compare`](super::compare).

use super::lab::RingLab;
use super::{
    compare_with_nodes, uniform_nodes, Algorithm, CompareRow, HashKind, KeyDistribution, NodeSpec, RingChange,
    RingModel, RingParams, DEFAULT_WEIGHT,
};
use crate::chart::{Axis, Chart, Mark, Point, Series};
use crate::lab::{Cell, Column, ExpArg, ExpArgs, Experiment, Lab, RunExperiment, Table};
use crate::scenario::Scenario;

/// Every placement algorithm on the same keys and the same changes. The
/// expectations come from the algorithms' papers: consistent hashing
/// (Karger et al., STOC 1997) and jump hash (Lamping & Veach, 2014) move
/// about the ideal fraction of keys when a server joins, modulo placement
/// moves nearly all of them; jump hash and Maglev (Eisenbud et al., NSDI
/// 2016) spread keys most evenly; a ring's spread shrinks as its points per
/// server grow (about 1/sqrt(points)); bounded loads (Mirrokni et al., SODA
/// 2018) caps the most loaded server at (1 + epsilon) of the mean.
pub const COMPARE: Experiment = Experiment {
    name: "compare",
    about: "Every placement algorithm on the same keys and changes: balance, and keys moved against the ideal",
    args: &[
        ExpArg { name: "nodes", help: "servers at the start, named S1, S2, ... (ignored with servers)", default: "8" },
        ExpArg { name: "servers", help: "servers by name, NAME or NAME=WEIGHT, comma-separated", default: "" },
        ExpArg { name: "vnodes", help: "points per server (ring, ketama, bounded)", default: "100" },
        ExpArg { name: "replicas", help: "servers in each key's preference list", default: "1" },
        ExpArg { name: "keys", help: "keys placed (up to 1000000)", default: "10000" },
        ExpArg { name: "hash", help: "hash of keys: xxh3, xxh64, fnv1a, murmur3, md5", default: "xxh3" },
        ExpArg { name: "dist", help: "requests over keys: uniform, zipf:S, hot:F", default: "uniform" },
        ExpArg { name: "epsilon", help: "bounded loads: allowed excess over the mean", default: "0.25" },
        ExpArg { name: "maglev_size", help: "Maglev table size (rounded up to a prime)", default: "65537" },
        ExpArg { name: "seed", help: "seed of the key set", default: "1" },
        ExpArg {
            name: "changes",
            help: "changes in order, comma-separated: add, add:WEIGHT, remove:S3, fail:S3, recover:S3, weight:S3=200",
            default: "add",
        },
    ],
    reads: &["ring"],
    needs_scenario: false,
    default_scenario: None,
};

/// The Ring lab's experiments, as its lab lists them.
pub static EXPERIMENTS: &[Experiment] = &[COMPARE];

/// How each experiment runs (the lab's [`crate::lab::Engine::runs`]).
pub static RUNS: &[(&str, RunExperiment)] = &[("compare", run_compare)];

fn run_compare(scn: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    if let Some(scn) = scn {
        let set: Vec<&str> = COMPARE.args.iter().filter(|a| args.text(a.name) != a.default).map(|a| a.name).collect();
        if !set.is_empty() {
            return Err(format!(
                "compare takes its settings and changes from the scenario file; give the file or --arg {}, not both",
                set.join(", --arg ")
            ));
        }
        return compare_scenario(scn);
    }
    let e = |e: super::RingError| e.to_string();
    let params = RingParams {
        algorithm: Algorithm::Ring,
        nodes: args.count("nodes", 1, 10_000)? as u32,
        vnodes: args.count("vnodes", 0, u64::from(u32::MAX))? as u32,
        replicas: args.count("replicas", 0, u64::from(u32::MAX))? as u32,
        keys: args.count("keys", 0, u64::from(u32::MAX))? as u32,
        distribution: args.text("dist").parse::<KeyDistribution>().map_err(e)?,
        hash: args.text("hash").parse::<HashKind>().map_err(e)?,
        epsilon: args.number("epsilon")?,
        maglev_size: args.count("maglev_size", 0, u64::MAX)?,
        seed: args.count("seed", 0, u64::MAX)?,
    };
    let servers = args.list("servers").into_iter().map(str::to_string).collect::<Vec<_>>();
    let nodes = named_servers(&servers, params.vnodes)?;
    let params = RingParams { nodes: nodes.as_ref().map_or(params.nodes, |n| n.len() as u32), ..params };
    let changes = args.list("changes").into_iter().map(str::to_string).collect::<Vec<_>>();
    compare_table(&params, nodes, &changes)
}

/// Servers given by name (`NAME` or `NAME=WEIGHT`), if any, each with
/// `vnodes` points; a sentence for a weight that is not a whole number or
/// an empty name.
pub fn named_servers(servers: &[String], vnodes: u32) -> Result<Option<Vec<NodeSpec>>, String> {
    if servers.is_empty() {
        return Ok(None);
    }
    let mut nodes = Vec::with_capacity(servers.len());
    for (i, s) in servers.iter().enumerate() {
        let (name, weight) = match s.rsplit_once('=') {
            Some((name, w)) => {
                let w = w.trim().parse::<u32>().map_err(|_| {
                    format!("server '{s}': the weight '{}' is not a whole number (write NAME=WEIGHT, such as 10.0.1.1:11211=600)", w.trim())
                })?;
                (name.trim(), w)
            }
            None => (s.trim(), DEFAULT_WEIGHT),
        };
        if name.is_empty() {
            return Err(format!("server '{s}': the server name is empty"));
        }
        nodes.push(NodeSpec { id: i as u32, name: name.to_string(), weight, vnodes, failed: false });
    }
    Ok(Some(nodes))
}

/// Every algorithm from `params` (its algorithm aside) on the given servers
/// (else `params.nodes` servers named S1, S2, ...) and the changes written
/// as text (with none, "add"), as a table.
pub fn compare_table(params: &RingParams, nodes: Option<Vec<NodeSpec>>, texts: &[String]) -> Result<Table, String> {
    // Resolve the changes (server names, numbers of added servers) on a
    // cheap model: numbers are handed out the same way for every algorithm.
    let cheap =
        RingParams { algorithm: Algorithm::Modulo, keys: 1, distribution: KeyDistribution::Uniform, ..params.clone() };
    let start = match nodes {
        Some(n) => n,
        None => {
            params.validate().map_err(|e| e.to_string())?;
            uniform_nodes(params.nodes, params.vnodes)
        }
    };
    let mut scratch = RingModel::with_nodes(&cheap, start.clone()).map_err(|e| e.to_string())?;
    let add = ["add".to_string()];
    let texts = if texts.is_empty() { &add[..] } else { texts };
    let mut changes: Vec<RingChange> = Vec::with_capacity(texts.len());
    let mut described = Vec::with_capacity(texts.len());
    for text in texts {
        let change = scratch.parse_change(text).map_err(|e| format!("change '{text}': {e}"))?;
        described.push(scratch.describe(&change));
        scratch.apply(&change).map_err(|e| format!("change '{text}': {e}"))?;
        changes.push(change);
    }
    let servers = start.len();
    let rows = compare_with_nodes(params, start, &changes).map_err(|e| e.to_string())?;
    let mut table = rows_table(params, servers, &rows);
    table.notes.insert(0, format!("Changes: {}.", described.join("; ")));
    Ok(table)
}

/// The comparison a ring scenario's lab shows on its page: its settings and
/// the changes it records, every algorithm.
fn compare_scenario(scn: &Scenario) -> Result<Table, String> {
    let lab = Lab::replay(scn).map_err(|e| e.to_string())?;
    let ring = lab.model::<RingLab>().ok_or("this scenario did not build a ring lab")?;
    let rows = ring.compare_rows()?;
    let params = ring.params();
    let mut table = rows_table(params, params.nodes as usize, &rows);
    let n = ring.changes().len();
    // Each row is the same scenario under its algorithm.
    table.runs = rows
        .iter()
        .map(|r| {
            let i = Algorithm::ALL.iter().position(|a| *a == r.algorithm)?;
            let mut s = scn.clone();
            s.set("algorithm", i as i64).ok()?;
            Some(s.to_text())
        })
        .collect();
    table
        .notes
        .insert(0, format!("Changes: the {n} the scenario records, in order; its seed ({}) sets the keys.", scn.seed));
    Ok(table)
}

/// The table of a comparison's rows.
fn rows_table(params: &RingParams, servers: usize, rows: &[CompareRow]) -> Table {
    let mut table = Table::new(
        format!(
            "Every placement algorithm: {servers} servers, {} vnodes, {} keys ({}), hash {}, seed {}",
            params.vnodes, params.keys, params.distribution, params.hash, params.seed
        ),
        vec![
            Column::text("algorithm"),
            Column::text("hash"),
            Column::text("state"),
            Column::number("keys rsd", "", 4).lower(),
            Column::number("max/mean", "", 3).lower(),
            Column::number("req rsd", "", 4).lower(),
            Column::number("req max", "", 3).lower(),
            Column::number("moved", "%", 2).lower(),
            Column::number("ideal", "%", 2),
            Column::number("x ideal", "", 2).lower(),
            Column::number("overflow", "", 0).lower(),
        ],
    );
    for r in rows {
        if let Some(e) = &r.error {
            let mut row = vec![Cell::text(r.algorithm.name()), Cell::text(r.hash.name())];
            row.resize(table.columns.len(), Cell::Missing);
            table.push(row);
            table.note(format!("{} cannot run: {e}", r.algorithm.name()));
            continue;
        }
        let unit = match r.algorithm {
            Algorithm::Ring | Algorithm::Ketama | Algorithm::Bounded => "points",
            Algorithm::Maglev => "slots",
            _ => "servers",
        };
        table.push(vec![
            Cell::text(r.algorithm.name()),
            Cell::text(r.hash.name()),
            Cell::text(format!("{} {unit}", r.footprint)),
            Cell::num(r.keys.rel_std),
            Cell::num(r.keys.max_over_mean),
            Cell::num(r.requests.rel_std),
            Cell::num(r.requests.max_over_mean),
            Cell::num(r.moved_fraction * 100.0),
            Cell::num(r.ideal_fraction * 100.0),
            if r.ideal_fraction > 0.0 { Cell::num(r.moved_fraction / r.ideal_fraction) } else { Cell::Missing },
            Cell::num(r.overflowed as f64),
        ]);
    }
    table.chart = Some(compare_chart(servers, params.keys, rows));
    table.note("keys rsd, max/mean: spread of keys over servers after the changes (rsd = std/mean); req: of requests.");
    table.note("moved: keys moved by all changes, over the keys; ideal: the least any placement must move.");
    table
}

/// What the comparison is about, drawn: after changes, the keys each
/// algorithm moved against the least any placement must move (the ideal);
/// with no change to compare, how evenly each spreads the keys (the most
/// loaded server over the mean). One group of bars per algorithm; one that
/// could not run has none.
fn compare_chart(servers: usize, keys: u32, rows: &[CompareRow]) -> Chart {
    let changed = rows.iter().any(|r| r.error.is_none() && r.ideal_fraction > 0.0);
    let (title, y) = if changed {
        ("Keys moved by the changes, by algorithm, against the least possible", Axis::new("keys moved", "%"))
    } else {
        ("Most loaded server against the mean, by algorithm (1 is perfectly even)", Axis::new("max / mean", ""))
    };
    let mut chart =
        Chart::new(format!("{title} ({servers} servers, {keys} keys)"), Axis::new("placement algorithm", ""), y);
    chart.categories = rows.iter().map(|r| r.algorithm.name().to_string()).collect();
    let bars = |name: &str, value: fn(&CompareRow) -> f64| Series {
        name: name.into(),
        mark: Mark::Bars,
        points: rows
            .iter()
            .enumerate()
            .map(|(i, r)| Point::new(i as f64, if r.error.is_some() { f64::NAN } else { value(r) }))
            .collect(),
    };
    if changed {
        chart.series.push(bars("moved", |r| r.moved_fraction * 100.0));
        chart.series.push(bars("least possible (ideal)", |r| r.ideal_fraction * 100.0));
    } else {
        chart.series.push(bars("keys", |r| r.keys.max_over_mean));
        chart.series.push(bars("requests", |r| r.requests.max_over_mean));
    }
    chart
}
