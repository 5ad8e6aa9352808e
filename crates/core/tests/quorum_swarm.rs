//! Swarm testing of the quorum lab: many seeds, each drawing its own
//! cluster, quorums, repair switches, clocks, network and faults from a
//! seeded generator, so that calm and hostile worlds are both covered.
//!
//! Each seed runs 4 s of faults under client load (servers crash, restart,
//! pause and resume; the network partitions and heals; links lose and
//! delay messages), then everything heals, every server is up, the clients
//! stop, and the servers have 12 s to settle (anti-entropy, when on, runs
//! every 50-300 ms on each server: 40 rounds or more). What must hold, and why:
//!
//! 1. **Intersecting quorums read no stale version.** With R + W > N and
//!    strict quorums (no sloppy quorum), every read returns a version at
//!    least as new as every write acknowledged before it began: the W
//!    replicas that stored it (on disk, surviving crashes) and the R that
//!    answered share one (Gifford 1979; Bailis et al. 2012, §3.2).
//! 2. **Agreeing clocks lose no write.** Without skew or drift, a write
//!    sent after another was acknowledged is stamped later, so last writer
//!    wins never drops an acknowledged write for an older one.
//! 3. **Blocking read repair is linearizable** when, besides 1 and 2,
//!    clients never retry a write at another coordinator (they wait a
//!    minute): the history checker runs live and must not stop the run
//!    (Attiya, Bar-Noy and Dolev 1995; see quorum_history.rs).
//! 4. **Nothing acknowledged is lost once everything heals.** With
//!    anti-entropy on (and hinted handoff, when sloppy quorums are on),
//!    after the settling time every replica of every key holds the newest
//!    version acknowledged to a client (W >= 1 stored it on disk), and no
//!    hint waits (Dynamo, SOSP 2007, §4.6-4.7).
//! 5. **Version vectors lose no write, whatever the clocks.** A quarter of
//!    the seeds keep dotted version vectors (`versions vectors`, drawn on
//!    a stream of its own so the other draws stay as they were): no
//!    acknowledged write is dropped before a read returned it, with skew,
//!    drift, crashes and partitions alike (a sibling is dropped only by a
//!    copy whose clock has seen it; Preguiça et al. 2010), properties 1
//!    and 4 hold as for last writer wins, and once healed every replica of
//!    a key holds the same siblings and clock.
//!
//! A failure prints the seed and the command that replays it:
//! `SWARM_SEED=<seed> cargo test -p clusterscope-core --test quorum_swarm`.
//! `SWARM_SEEDS=<n>` runs seeds `0..n` instead of the default 1,000.

mod quorum_common;

use clusterscope_core::lab::Lab;
use clusterscope_core::quorum::QuorumNode;
use clusterscope_core::sim::{KvOp, Rng, Sim, StreamKind};
use quorum_common::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

const DEFAULT_SEEDS: u64 = 1_000;
const SHARDS: u64 = 4;

/// What a seed draws.
#[derive(Debug)]
struct Plan {
    text: String,
    strict: bool,
    clocks_agree: bool,
    linearizable: bool,
    converges: bool,
    vectors: bool,
}

impl Plan {
    fn draw(seed: u64) -> Plan {
        let mut rng = Rng::stream(seed, StreamKind::Workload, 0x51);
        let mut pick = |lo: u64, hi: u64| rng.range(lo, hi);
        let servers = pick(3, 7);
        let n = pick(1, servers.min(5));
        let (r, w) = (pick(1, n), pick(1, n));
        let sloppy = pick(0, 2) == 0;
        let repair = pick(0, 2);
        let ae = if pick(0, 1) == 0 { 0 } else { pick(50, 300) };
        let skew = if pick(0, 4) == 0 { pick(1, 300) } else { 0 };
        let drift = if pick(0, 4) == 0 { pick(1, 50_000) } else { 0 };
        let loss = pick(0, 5);
        let tail = pick(0, 20);
        let strict = r + w > n && !sloppy;
        let clocks_agree = skew == 0 && drift == 0;
        let linearizable = strict && clocks_agree && repair == 2;
        let mut text = format!(
            "# swarm seed {seed}\nlab quorum\nseed {seed}\nnodes {servers}\nreplicas {n}\nr {r}\nw {w}\nkeys {}\n\
             vnodes {}\ncoordinator {}\nread_fanout {}\nwrite_fanout {}\nread_repair {}\nsloppy {}\n\
             anti_entropy {ae}ms\nskew {skew}ms\ndrift {drift}\nloss {loss}%\ntail {tail}%\ntail_max 200ms\n\
             request_rate {}\ncheck_history {}\nclient_timeout {}\n",
            pick(1, 6),
            pick(1, 64),
            ["any", "replica"][pick(0, 1) as usize],
            ["all", "quorum"][pick(0, 1) as usize],
            ["all", "quorum"][pick(0, 1) as usize],
            ["off", "async", "blocking"][repair as usize],
            if sloppy { "on" } else { "off" },
            pick(20, 100),
            if linearizable { "on" } else { "off" },
            if linearizable { "60s" } else { "500ms" },
        );
        let vectors = Rng::stream(seed, StreamKind::Workload, 0x52).range(0, 3) == 0;
        if vectors {
            text.push_str("versions vectors\n");
        }
        // Faults in the first 5 s, then heal, restart, resume, stop.
        let mut t = 0;
        loop {
            t += pick(100, 1_500);
            if t >= 4_000 {
                break;
            }
            let s = pick(1, servers);
            let line = match pick(0, 5) {
                0 => format!("crash S{s}"),
                1 => format!("restart S{s}"),
                2 => format!("pause S{s}"),
                3 => format!("resume S{s}"),
                4 => {
                    let cut = pick(1, servers - 1);
                    let left: Vec<String> = (1..=cut).map(|i| format!("S{i}")).collect();
                    let right: Vec<String> = (cut + 1..=servers).map(|i| format!("S{i}")).collect();
                    format!("partition {} | {}", left.join(","), right.join(","))
                }
                _ => "heal".to_string(),
            };
            text.push_str(&format!("at {t}ms {line}\n"));
        }
        text.push_str("at 4s heal\nat 4s set request_rate 0\nat 4s set loss 0%\n");
        for s in 1..=servers {
            text.push_str(&format!("at 4s restart S{s}\nat 4s resume S{s}\n"));
        }
        text.push_str("until 16s\n");
        Plan { text, strict, clocks_agree, linearizable, converges: ae > 0, vectors }
    }
}

/// The replicas that miss their key's newest acknowledged version.
fn behind(sim: &Sim<QuorumNode>) -> Vec<(u32, u32)> {
    let mut newest = std::collections::BTreeMap::new();
    for rec in sim.clients().kv_history() {
        if let (KvOp::Write(_), Some((_, a))) = (rec.command.op, rec.done) {
            let b = newest.entry(rec.command.key).or_insert(0);
            *b = (*b).max(a.version);
        }
    }
    let cfg = sim.protocol_config();
    let mut out = Vec::new();
    for (key, ts) in newest {
        for &n in cfg.home(key) {
            if sim.nodes()[n as usize].state.store().get(&key).map_or(0, |v| v.ts()) < ts {
                out.push((n + 1, key));
            }
        }
    }
    out
}

/// Runs one seed: its events, commands answered and commands the history
/// checker found linearizable; or what broke.
fn run_seed(seed: u64) -> Result<(u64, u64, u64), String> {
    let plan = Plan::draw(seed);
    let mut lab: Lab = replay(&plan.text);
    if let Some(v) = lab.violation() {
        return Err(format!("{} at {} µs: {}", v.invariant, v.at, v.message));
    }
    let stale = metric(&mut lab, "stale_reads");
    if plan.strict && stale > 0.0 {
        return Err(format!("R + W > N, strict quorums: {stale} stale reads"));
    }
    let lost = metric(&mut lab, "lost_writes");
    if plan.clocks_agree && lost > 0.0 {
        return Err(format!("clocks agree: {lost} writes lost"));
    }
    if plan.vectors && lost > 0.0 {
        return Err(format!("version vectors: {lost} writes lost"));
    }
    let checked = if plan.linearizable { metric(&mut lab, "history_checked") as u64 } else { 0 };
    if plan.converges {
        let sim = cluster(&lab).sim();
        let missing = behind(sim);
        if !missing.is_empty() {
            return Err(format!("after healing, replicas (server, key) miss acknowledged writes: {missing:?}"));
        }
        let hints: usize = sim.nodes().iter().map(|n| n.state.hints().len()).sum();
        if hints > 0 {
            return Err(format!("{hints} hints still wait after healing"));
        }
        let divergent = metric(&mut lab, "divergent");
        if plan.vectors && divergent > 0.0 {
            return Err(format!("version vectors: {divergent} keys' replicas still differ after healing"));
        }
    }
    Ok((lab.events(), metric(&mut lab, "committed") as u64, checked))
}

fn seeds(shard: u64) -> Vec<u64> {
    if let Some(one) = std::env::var("SWARM_SEED").ok().and_then(|s| s.trim().parse::<u64>().ok()) {
        return if one % SHARDS == shard { vec![one] } else { vec![] };
    }
    let count = std::env::var("SWARM_SEEDS").ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(DEFAULT_SEEDS);
    (0..count).filter(|s| s % SHARDS == shard).collect()
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

fn run_shard(shard: u64) {
    quorum();
    let seeds = seeds(shard);
    let single = std::env::var("SWARM_SEED").is_ok();
    let (mut events, mut committed, mut checked) = (0, 0, 0);
    let mut failures = Vec::new();
    for &seed in &seeds {
        match catch_unwind(AssertUnwindSafe(|| run_seed(seed))).unwrap_or_else(|p| Err(format!("panicked: {}", panic_text(&p)))) {
            Ok((e, c, h)) => {
                events += e;
                committed += c;
                checked += h;
                if single {
                    println!("seed {seed}:\n{}", Plan::draw(seed).text);
                }
            }
            Err(e) => failures.push(format!(
                "seed {seed}: {e}\n{}\n  replay: SWARM_SEED={seed} cargo test -p clusterscope-core --test quorum_swarm -- --nocapture",
                Plan::draw(seed).text
            )),
        }
    }
    println!(
        "shard {shard}: {} seeds, {events} events, {committed} commands answered, {checked} checked linearizable",
        seeds.len()
    );
    assert!(failures.is_empty(), "{} of {} seeds failed:\n{}", failures.len(), seeds.len(), failures.join("\n"));
}

// Swarm, shard 0 of 4 (the shards run in parallel; together they cover
// seeds 0..1000, or SWARM_SEEDS / SWARM_SEED).
#[test]
fn swarm_shard_0() {
    run_shard(0);
}

// Swarm, shard 1 of 4.
#[test]
fn swarm_shard_1() {
    run_shard(1);
}

// Swarm, shard 2 of 4.
#[test]
fn swarm_shard_2() {
    run_shard(2);
}

// Swarm, shard 3 of 4.
#[test]
fn swarm_shard_3() {
    run_shard(3);
}
