//! Paxos's experiments: named runs that produce a table.
//!
//! [`BESIDE`] runs one cluster, network, fault schedule and client load on
//! Multi-Paxos and on Raft and compares what it costs; [`DUEL`] measures
//! what dueling proposers cost single-decree Paxos, with and without
//! randomized back-off.

use crate::lab::{Cell, Column, ExpArg, ExpArgs, Experiment, Lab, RunExperiment, Table};
use crate::scenario::{Action, Scenario, ScenarioError};
use crate::sim::time::format_duration;
use crate::sim::{Time, MS, SEC};

/// Longest time waited for a value to be learned in one run of [`paxos_duel`].
pub const LIMIT: Time = 10 * SEC;

/// Paxos beside Raft: a scenario's cluster size, network, faults and client
/// load run on Multi-Paxos and on Raft ([`paxos_beside_raft`]). What to
/// expect comes from the protocols, not from a paper's figure: with a
/// stable leader both commit a command in one round trip from the leader
/// to a majority (Lamport, "Paxos Made Simple", §3; the Raft paper, §5.3),
/// so commit latencies are alike; under steady load Multi-Paxos here
/// spends 3(n-1) messages a slot (accept, accepted, and the decision to
/// every server) where Raft spends 2(n-1) an entry (it piggybacks the
/// commit index on the next AppendEntries), while under light load
/// heartbeats dominate both; after a leader crash both wait about one
/// randomized timeout for the next leader (Raft §5.2). Both run at the
/// same `max_batch` (commands per slot, entries per AppendEntries), the
/// same heartbeat and the same timeouts, and the table says which.
pub const BESIDE: Experiment = Experiment {
    name: "beside",
    about: "Paxos beside Raft: one scenario's cluster, network, faults and load on Multi-Paxos and on Raft",
    args: &[],
    reads: &["paxos", "raft"],
    needs_scenario: true,
    default_scenario: Some(include_str!("../../../../tests/scenarios/paxos/beside-raft.scn")),
};

/// Dueling proposers in single-decree Paxos ([`paxos_duel`]): messages and
/// rounds until a value is learned, with 1 to 3 proposers, with and without
/// back-off. The expectation comes from "Paxos Made Simple" (Lamport, §2.4):
/// two proposers can keep pre-empting each other's ballots forever, so
/// progress needs a distinguished proposer or, as here, randomized back-off;
/// without back-off the cost grows steeply with the proposers.
pub const DUEL: Experiment = Experiment {
    name: "duel",
    about: "Dueling proposers: messages and rounds until a value is learned, with and without back-off",
    args: &[
        ExpArg { name: "runs", help: "seeded runs per line (seeds 0..runs)", default: "500" },
        ExpArg { name: "proposers", help: "largest number of competing proposers (1 to 5)", default: "3" },
    ],
    reads: &[],
    needs_scenario: false,
    default_scenario: None,
};

/// Paxos's experiments, as its lab lists them.
pub static EXPERIMENTS: &[Experiment] = &[BESIDE, DUEL];

/// How each experiment runs (the lab's [`crate::lab::Engine::runs`]).
pub static RUNS: &[(&str, RunExperiment)] = &[("beside", run_beside), ("duel", run_duel)];

fn run_beside(scn: Option<&Scenario>, _: &ExpArgs) -> Result<Table, String> {
    let scn = scn.ok_or("beside needs a paxos or raft scenario")?;
    if scn.until == 0 {
        return Err("nothing to run: give the file an 'until' line".into());
    }
    let rows = paxos_beside_raft(scn).map_err(|e| e.to_string())?;
    let mut table = Table::new(
        format!(
            "Paxos beside Raft: {} servers, seed {}, {} actions, run to {}",
            scn.nodes(),
            scn.seed,
            scn.actions.len(),
            format_duration(scn.until)
        ),
        vec![
            Column::text("protocol"),
            Column::number("committed", "", 0).higher(),
            Column::number("requests", "", 0),
            Column::number("msgs/commit", "", 1).lower(),
            Column::number("p50", "ms", 1).lower(),
            Column::number("p99", "ms", 1).lower(),
            Column::number("no leader", "ms", 1).lower(),
            Column::number("leaders", "", 0).lower(),
            Column::number("max batch", "", 0),
        ],
    );
    let ms = |v: f64| Cell::num(v / 1e3);
    for r in &rows {
        table.push(vec![
            Cell::text(r.protocol.clone()),
            Cell::num(r.committed as f64),
            Cell::num(r.requests as f64),
            Cell::num(r.msgs_per_commit),
            ms(r.commit_p50),
            ms(r.commit_p99),
            ms(r.leaderless),
            Cell::num(r.leaders),
            Cell::num(r.max_batch as f64),
        ]);
        table.runs.push(Some(r.scenario.clone()));
    }
    table.note("The same cluster size, network, faults and client load on both; both wait a random 150-300 ms before trying to lead, send heartbeats every 50 ms, and S1 tries to lead first.");
    let pipeline = rows.first().map_or(0, |r| r.pipeline);
    table.note(format!(
        "max batch: most commands one Paxos slot or one Raft AppendEntries carries, the same for both; commands share one only when they wait at the leader. Slots in flight: {}; Raft pipelines entries without limit.",
        if pipeline == 0 { "no limit".to_string() } else { pipeline.to_string() }
    ));
    table.note("p50, p99: commit latency of client commands; no leader: time without a leader; msgs/commit: messages sent per committed command.");
    for r in &rows {
        table.note(format!("{}: fingerprint {:016x}.", r.protocol, r.fingerprint));
    }
    Ok(table)
}

fn run_duel(_: Option<&Scenario>, args: &ExpArgs) -> Result<Table, String> {
    let runs = args.count("runs", 1, 100_000)?;
    let most = args.count("proposers", 1, 5)? as u32;
    let mut table = Table::new(
        format!("Single-decree Paxos, 5 acceptors (proposers among them), 10-20 ms latency, {runs} runs a line"),
        vec![
            Column::number("proposers", "", 0),
            Column::text("back-off"),
            Column::number("msgs (median)", "", 0).lower(),
            Column::number("msgs (p90)", "", 0).lower(),
            Column::number("rounds (median)", "", 0).lower(),
            Column::number("unfinished", "", 0).lower(),
        ],
    );
    for proposers in 1..=most {
        for backoff in [true, false] {
            let c = paxos_duel(proposers, backoff, runs).map_err(|e| e.to_string())?;
            let p90 = |v: &[u64]| (!v.is_empty()).then(|| v[(v.len() * 9 / 10).min(v.len() - 1)] as f64);
            table.push(vec![
                Cell::num(f64::from(proposers)),
                Cell::text(if backoff { "10-100ms" } else { "none" }),
                Cell::opt(DuelCost::median(&c.messages).map(|x| x as f64)),
                Cell::opt(p90(&c.messages)),
                Cell::opt(DuelCost::median(&c.rounds).map(|x| x as f64)),
                Cell::num(c.unfinished as f64),
            ]);
            table.runs.push(Some(duel_scenario(proposers, backoff, 0) + "until 2s\n"));
        }
    }
    table.note(format!("Seeds 0..{runs} a line; every proposer starts within 20 ms; messages counted until the first learner learns the value."));
    table.note("Unfinished: runs in which nothing was learned within 10 s (livelock).");
    table.note("Expected, from Paxos Made Simple (section 2.4): without back-off, competing proposers pre-empt each other and the cost grows steeply.");
    Ok(table)
}

/// One protocol's line in [`paxos_beside_raft`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BesideRow {
    /// "Multi-Paxos" or "Raft".
    pub protocol: String,
    /// Client commands committed.
    pub committed: u64,
    /// Client commands made.
    pub requests: u64,
    /// Messages sent per committed command.
    pub msgs_per_commit: f64,
    /// Commit latency, 50th percentile, microseconds (NaN: none committed).
    pub commit_p50: f64,
    /// Commit latency, 99th percentile, microseconds.
    pub commit_p99: f64,
    /// Time without a leader, microseconds.
    pub leaderless: f64,
    /// Leaders elected.
    pub leaders: f64,
    /// The most commands a Paxos slot (entries a Raft AppendEntries)
    /// carries in the run.
    pub max_batch: u64,
    /// The Paxos leader's limit on slots in flight (0: none; Raft: 0).
    pub pipeline: u64,
    /// The fingerprint of the run (each can be opened on its own).
    pub fingerprint: u64,
    /// The scenario that ran, as text.
    pub scenario: String,
}

/// Paxos beside Raft: the same cluster size, network, fault schedule and
/// client load run on Multi-Paxos (every server a proposer and an acceptor)
/// and on Raft, and the figures that compare them. `scn` may be either
/// lab's scenario; its seed, server count, network and client settings,
/// faults, requests and `max_batch` carry over (and a Paxos scenario's
/// `pipeline`). To compare like with like, both wait a random 150–300 ms
/// without a leader before trying to lead (Raft's default election timeout;
/// Paxos's leader timeout of 150 ms, randomised up to twice), both leaders
/// send heartbeats every 50 ms, both put at most `max_batch` commands in
/// one slot or AppendEntries, and S1 tries to lead first in both (`at 0s
/// timeout S1`), so a fault on S1 hits each leader.
pub fn paxos_beside_raft(scn: &Scenario) -> Result<Vec<BesideRow>, ScenarioError> {
    use crate::scenario::params::NETWORK;
    let n = scn.nodes();
    let mut paxos = Scenario::new(crate::paxos::lab::kind(), scn.seed);
    let mut raft = Scenario::new(crate::raft::lab::kind(), scn.seed);
    let invalid = |e: String| ScenarioError::Invalid(e);
    let max_batch = scn.get("max_batch");
    let pipeline = if scn.lab.name() == "paxos" { scn.get("pipeline") } else { 0 };
    for (s, settings) in [
        (
            &mut paxos,
            vec![
                ("mode", 1),
                ("proposers", i64::from(n)),
                ("acceptors", i64::from(n)),
                ("colocated", 1),
                ("leader_timeout", 150_000),
                ("heartbeat", 50_000),
                ("max_batch", max_batch),
                ("pipeline", pipeline),
            ],
        ),
        (
            &mut raft,
            vec![
                ("nodes", i64::from(n)),
                ("election_timeout_min", 150_000),
                ("election_timeout_max", 300_000),
                ("heartbeat", 50_000),
                ("max_batch", max_batch),
            ],
        ),
    ] {
        for (name, v) in settings {
            s.set(name, v).map_err(invalid)?;
        }
        for p in NETWORK {
            s.set(p.name, scn.get(p.name)).map_err(invalid)?;
        }
        s.actions = std::iter::once(crate::scenario::Timed { at: 0, action: Action::Lab("timeout S1".into()) })
            .chain(scn.actions.iter().cloned())
            .collect();
        s.until = scn.until;
        s.title = format!("{} beside {}", s.lab.name(), if s.lab.name() == "raft" { "paxos" } else { "raft" });
    }
    let mut rows = Vec::new();
    for (name, s) in [("Multi-Paxos", &paxos), ("Raft", &raft)] {
        let mut lab = Lab::replay(s)?;
        let metrics = lab.metrics();
        let get = |m: &str| metrics.iter().find(|(spec, _)| spec.name == m).map_or(f64::NAN, |(_, v)| *v);
        let c = lab.counters();
        rows.push(BesideRow {
            protocol: name.into(),
            committed: c.committed,
            requests: c.requests,
            msgs_per_commit: if c.committed > 0 { c.sent as f64 / c.committed as f64 } else { f64::NAN },
            commit_p50: get("commit_p50"),
            commit_p99: get("commit_p99"),
            leaderless: get("leaderless"),
            leaders: get("leaders_elected"),
            max_batch: s.get("max_batch").max(0) as u64,
            pipeline: if s.lab.name() == "paxos" { s.get("pipeline").max(0) as u64 } else { 0 },
            fingerprint: lab.fingerprint(),
            scenario: s.to_text(),
        });
    }
    Ok(rows)
}

/// What dueling proposers cost, over many seeded runs of single-decree
/// Paxos: see [`paxos_duel`].
#[derive(Clone, Debug, PartialEq)]
pub struct DuelCost {
    /// Competing proposers.
    pub proposers: u32,
    /// Whether they back off (10–100 ms) after a rejection.
    pub backoff: bool,
    /// Protocol messages (prepare, promise, accept, accepted, reject,
    /// decide) until the first learner learned the value, per run, sorted.
    pub messages: Vec<u64>,
    /// Phase-1 rounds until then, per run, sorted.
    pub rounds: Vec<u64>,
    /// Runs in which nobody learned a value within [`LIMIT`].
    pub unfinished: usize,
}

impl DuelCost {
    /// The median of a sorted list.
    pub fn median(v: &[u64]) -> Option<u64> {
        (!v.is_empty()).then(|| v[(v.len() - 1) / 2])
    }
}

/// One run of [`paxos_duel`] as a scenario (without its `until`).
fn duel_scenario(proposers: u32, backoff: bool, seed: u64) -> String {
    let (lo, hi) = if backoff { ("10ms", "100ms") } else { ("0", "0") };
    format!("lab paxos\nseed {seed}\nproposers {proposers}\nacceptors 5\nbackoff_min {lo}\nbackoff_max {hi}\nrequest_rate 0\n")
}

/// Single-decree Paxos with `proposers` proposers (also acceptors among
/// five), 10–20 ms latency, all starting within 20 ms, with or without
/// back-off: messages and rounds until a value is learned, for seeds
/// `0..runs`.
pub fn paxos_duel(proposers: u32, backoff: bool, runs: u64) -> Result<DuelCost, ScenarioError> {
    use crate::lab::cluster::ClusterLab;
    use crate::paxos::PaxosNode;
    let mut out = DuelCost { proposers, backoff, messages: Vec::new(), rounds: Vec::new(), unfinished: 0 };
    for seed in 0..runs {
        let mut lab = Lab::new(&Scenario::parse(&duel_scenario(proposers, backoff, seed))?)?;
        let mut t = 0;
        loop {
            t += 5 * MS;
            lab.run_until(t);
            let Some(p) = lab.model::<ClusterLab<PaxosNode>>() else { break };
            let tr = p.tracker();
            if !tr.learned.is_empty() {
                out.messages.push(tr.protocol_messages);
                out.rounds.push(tr.rounds);
                break;
            }
            if t >= LIMIT || lab.violation().is_some() {
                out.unfinished += 1;
                break;
            }
        }
    }
    out.messages.sort_unstable();
    out.rounds.sort_unstable();
    Ok(out)
}
