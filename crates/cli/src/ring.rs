//! `clusterscope ring`: placement queries from the command line.
//!
//! Places a seeded key set on a set of servers with one algorithm, says
//! where the keys named with `--key` go, applies the `--change`s in order
//! (reporting how many keys each moved against the ideal), and prints the
//! load table. `--compare` runs every algorithm on the same keys and
//! changes instead and prints one row each: the Ring lab's `compare`
//! experiment (`clusterscope exp ring compare`), which lives in the core.
//!
//! ```text
//! clusterscope ring --algorithm ketama --nodes 10 --keys 100000 --key user:42   # 160 points each, as libketama
//! clusterscope ring --algorithm ketama --server 10.0.1.1:11211=600 --server 10.0.1.2:11211=300 --key foo
//! clusterscope ring --compare --nodes 20 --change add --change fail:S3
//! ```

use clap::Args;
use clusterscope_core::ring::experiments::{compare_table, named_servers};
use clusterscope_core::ring::lab::default_vnodes;
use clusterscope_core::ring::{
    Algorithm, Balance, ChangeReport, HashKind, KeyDistribution, RingModel, RingParams, Stats,
};
use std::fmt::Write as _;

/// Servers are listed one by one up to this many (more with `--per-node`).
const LIST_NODES: usize = 64;

/// Place keys on servers with a placement algorithm: where given keys go,
/// what each change moves, and how even the load is.
#[derive(Args, Debug, Clone, PartialEq)]
pub struct RingArgs {
    /// Placement algorithm: ring, ketama, modulo, jump, rendezvous, maglev, bounded.
    #[arg(long, short = 'a', default_value = "ring")]
    pub algorithm: Algorithm,
    /// Number of servers, named S1, S2, ... (ignored with --server).
    #[arg(long, short = 'n', default_value_t = 8)]
    pub nodes: u32,
    /// A server by name, with an optional weight (100 = normal; ketama: its
    /// memory, as in a ketama.servers file). Repeat for each server.
    #[arg(long = "server", value_name = "NAME[=WEIGHT]")]
    pub servers: Vec<String>,
    /// Virtual nodes per server (ring, bounded; ketama: points per server).
    /// Default: libketama's 160 for ketama, 100 otherwise (as the lab's `auto`).
    #[arg(long, short = 'v')]
    pub vnodes: Option<u32>,
    /// Replication factor: servers in each key's preference list.
    #[arg(long, short = 'r', default_value_t = 1)]
    pub replicas: u32,
    /// Number of keys placed (up to 1000000).
    #[arg(long, short = 'k', default_value_t = 10_000)]
    pub keys: u32,
    /// A key to locate (hashed as its UTF-8 bytes). Repeat for more.
    #[arg(long = "key", value_name = "KEY")]
    pub key: Vec<String>,
    /// Hash function for keys and points: xxh3, xxh64, fnv1a, murmur3, md5
    /// (ketama always uses md5).
    #[arg(long, default_value = "xxh3")]
    pub hash: HashKind,
    /// How requests spread over keys: uniform, zipf:S (such as zipf:1.1),
    /// hot:F (hottest 1 % of keys get a share F, such as hot:0.5).
    #[arg(long, default_value = "uniform")]
    pub dist: KeyDistribution,
    /// Bounded loads: allowed excess over the mean load (0.25 = 25 %).
    #[arg(long, default_value_t = 0.25)]
    pub epsilon: f64,
    /// Maglev lookup table size (rounded up to a prime).
    #[arg(long, default_value_t = 65_537)]
    pub maglev_size: u64,
    /// Seed of the key set.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A change, applied in order: add, add:WEIGHT, add:NAME=WEIGHT,
    /// remove:S3, fail:S3, recover:S3, weight:S3=200, vnodes:S3=50,
    /// epsilon:0.1. Servers by name or S-number.
    #[arg(long = "change", value_name = "CHANGE")]
    pub changes: Vec<String>,
    /// Run every algorithm on the same keys and changes and print one row
    /// each (with no --change, the change is "add"); the same as
    /// `exp ring compare`.
    #[arg(long)]
    pub compare: bool,
    /// List every server, however many there are.
    #[arg(long)]
    pub per_node: bool,
}

impl Default for RingArgs {
    fn default() -> Self {
        RingArgs {
            algorithm: Algorithm::Ring,
            nodes: 8,
            servers: Vec::new(),
            vnodes: None,
            replicas: 1,
            keys: 10_000,
            key: Vec::new(),
            hash: HashKind::Xxh3,
            dist: KeyDistribution::Uniform,
            epsilon: 0.25,
            maglev_size: 65_537,
            seed: 1,
            changes: Vec::new(),
            compare: false,
            per_node: false,
        }
    }
}

/// Points per server: `--vnodes` if given, else the lab's `auto`
/// (libketama's 160 for ketama, 100 for the others).
pub fn vnodes(args: &RingArgs) -> u32 {
    args.vnodes.unwrap_or_else(|| {
        let index = Algorithm::ALL.iter().position(|&a| a == args.algorithm).unwrap_or(0);
        default_vnodes(index as i64) as u32
    })
}

/// Runs `clusterscope ring`; the text to print, or an error sentence.
pub fn run(args: &RingArgs) -> Result<String, String> {
    let vnodes = vnodes(args);
    let params = RingParams {
        algorithm: args.algorithm,
        nodes: if args.servers.is_empty() { args.nodes } else { args.servers.len() as u32 },
        vnodes,
        replicas: args.replicas,
        keys: args.keys,
        distribution: args.dist,
        hash: args.hash,
        epsilon: args.epsilon,
        maglev_size: args.maglev_size,
        seed: args.seed,
    };
    let nodes = named_servers(&args.servers, vnodes).map_err(|e| format!("--{e}"))?;
    if args.compare {
        let table = compare_table(&params, nodes, &args.changes).map_err(|e| match e.starts_with("change '") {
            true => format!("--{e}"),
            false => e,
        })?;
        return Ok(table.to_text());
    }
    let mut model = match nodes {
        Some(n) => RingModel::with_nodes(&params, n),
        None => RingModel::new(&params),
    }
    .map_err(|e| e.to_string())?;

    let mut out = String::new();
    let _ = writeln!(out, "{}", header(&params, &model));
    if !args.key.is_empty() {
        let _ = writeln!(out);
        let width = args.key.iter().map(|k| k.len()).max().unwrap_or(3).max(3);
        let title = if args.replicas > 1 { "servers (preference list)" } else { "server" };
        let _ = writeln!(out, "{:<width$}  {title}", "key");
        for key in &args.key {
            let names: Vec<String> = model.locate(key.as_bytes()).into_iter().map(|id| model.node_name(id)).collect();
            let _ = writeln!(out, "{key:<width$}  {}", names.join(", "));
        }
    }
    for text in &args.changes {
        let change = model.parse_change(text).map_err(|e| format!("--change '{text}': {e}"))?;
        let what = model.describe(&change);
        let report = model.apply(&change).map_err(|e| format!("--change '{text}': {e}"))?;
        let _ = writeln!(out);
        let _ = writeln!(out, "change: {what}");
        let _ = writeln!(out, "  {}", moved_line(&report));
    }
    let _ = writeln!(out);
    out.push_str(&stats_table(&model, model.stats(), args.per_node));
    Ok(out)
}

fn header(params: &RingParams, model: &RingModel) -> String {
    let hash = params.algorithm.key_hash(params.hash);
    let replicas = if params.replicas > 1 { format!(", {} replicas", params.replicas) } else { String::new() };
    format!(
        "{}: {} servers, {} vnodes, {} keys ({}), hash {hash}{replicas}, seed {}",
        params.algorithm,
        model.nodes().len(),
        params.vnodes,
        params.keys,
        params.distribution,
        params.seed
    )
}

fn percent(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

fn moved_line(r: &ChangeReport) -> String {
    let ratio = r.moved_over_ideal().map_or_else(|| "-".to_string(), |x| format!("{x:.2}x"));
    let mut line = format!(
        "moved {} keys, {} (ideal {}, {ratio} the ideal); {} moved between other servers",
        r.moved,
        percent(r.moved_fraction),
        percent(r.ideal_fraction),
        r.moved_between_others
    );
    if r.stats.overflowed > 0 {
        let _ = write!(line, "; {} keys overflowed past a full server", r.stats.overflowed);
    }
    line
}

fn balance_row(name: &str, b: &Balance, as_percent: bool) -> String {
    let mean = if as_percent { format!("{:.3} %", b.mean * 100.0) } else { format!("{:.2}", b.mean) };
    format!("{name:<9} {mean:>12} {:>10.4} {:>9.3}\n", b.rel_std, b.max_over_mean)
}

fn stats_table(model: &RingModel, s: &Stats, all: bool) -> String {
    let mut out = String::new();
    let keys = model.keys().len() as f64;
    if all || s.nodes.len() <= LIST_NODES {
        let width = s.nodes.iter().map(|n| n.name.len()).max().unwrap_or(6).max(6);
        let replicas = model.params().replicas > 1;
        let _ = write!(
            out,
            "{:<width$} {:>6} {:>6} {:>6} {:>8} {:>9} {:>9}",
            "server", "weight", "vnodes", "state", "keys", "share", "requests"
        );
        if replicas {
            let _ = write!(out, " {:>9}", "replicas");
        }
        out.push('\n');
        for (n, spec) in s.nodes.iter().zip(model.nodes()) {
            let state = if n.failed { "failed" } else { "up" };
            let _ = write!(
                out,
                "{:<width$} {:>6} {:>6} {:>6} {:>8} {:>9} {:>9}",
                n.name,
                n.weight,
                spec.vnodes,
                state,
                n.keys,
                percent(n.keys as f64 / keys),
                percent(n.requests)
            );
            if replicas {
                let _ = write!(out, " {:>9}", n.replicas);
            }
            out.push('\n');
        }
        out.push('\n');
    } else {
        let _ = writeln!(out, "({} servers: --per-node lists them)\n", s.nodes.len());
    }
    let _ = writeln!(out, "{} of {} servers up; load scaled by fair share (weight):", s.live_nodes, s.nodes.len());
    let _ = writeln!(out, "{:<9} {:>12} {:>10} {:>9}", "balance", "mean", "rel. std", "max/mean");
    out.push_str(&balance_row("keys", &s.keys, false));
    out.push_str(&balance_row("requests", &s.requests, true));
    if model.params().replicas > 1 {
        out.push_str(&balance_row("replicas", &s.replicas, false));
    }
    if model.params().algorithm == Algorithm::Bounded {
        let _ = writeln!(out, "overflowed: {} keys not on their first choice", s.overflowed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_keys_and_reports_changes() {
        let args = RingArgs {
            algorithm: Algorithm::Ketama,
            nodes: 4,
            vnodes: Some(160),
            keys: 2_000,
            key: vec!["user:42".into()],
            changes: vec!["add".into(), "fail:S2".into()],
            ..RingArgs::default()
        };
        let out = run(&args).unwrap();
        assert!(out.starts_with("ketama: 4 servers, 160 vnodes, 2000 keys (uniform), hash md5"), "{out}");
        assert!(out.contains("user:42"), "{out}");
        assert!(out.contains("change: add S5 (weight 100)"), "{out}");
        assert!(out.contains("change: fail S2"), "{out}");
        assert!(out.contains("0 moved between other servers"), "{out}");
        assert!(out.contains("failed"), "{out}");
    }

    // libketama's Python binding test (RJ/ketama python_ketama/tests.py):
    // "test" goes to 127.0.0.1:11211 with these two servers.
    #[test]
    fn named_servers_match_libketama() {
        let args = RingArgs {
            algorithm: Algorithm::Ketama,
            servers: vec!["127.0.0.1:11211=600".into(), "127.0.0.1:11212=400".into()],
            key: vec!["test".into()],
            ..RingArgs::default()
        };
        let out = run(&args).unwrap();
        assert!(out.contains("test  127.0.0.1:11211"), "{out}");
    }

    #[test]
    fn compare_prints_every_algorithm() {
        let args = RingArgs { compare: true, nodes: 10, keys: 5_000, ..RingArgs::default() };
        let out = run(&args).unwrap();
        for a in Algorithm::ALL {
            assert!(out.lines().any(|l| l.starts_with(a.name())), "{a}: {out}");
        }
        assert!(out.contains("Changes: add S11 (weight 100)."), "{out}");
        assert!(out.starts_with("Every placement algorithm: 10 servers"), "{out}");
    }

    #[test]
    fn bad_values_are_sentences() {
        let err = run(&RingArgs { vnodes: Some(0), ..RingArgs::default() }).unwrap_err();
        assert!(err.contains("vnodes = 0 is out of range"), "{err}");
        let err = run(&RingArgs { changes: vec!["remove:S99".into()], ..RingArgs::default() }).unwrap_err();
        assert!(err.contains("--change 'remove:S99'") && err.contains("no server named 'S99'"), "{err}");
        let err = run(&RingArgs { servers: vec!["a=x".into()], ..RingArgs::default() }).unwrap_err();
        assert!(err.contains("not a whole number"), "{err}");
        let err = run(&RingArgs { servers: vec!["a".into(), "a".into()], ..RingArgs::default() }).unwrap_err();
        assert!(err.contains("two servers are named 'a'"), "{err}");
    }
}
