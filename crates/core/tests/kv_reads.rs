//! The key-value workload, Raft's read paths (Ongaro's thesis §6.4) and
//! the checkers over the clients' history.
//!
//! * The local-reads preset (a leader cut off from the majority keeps
//!   answering reads from its own state machine) fails "History is
//!   linearizable"; the same run with ReadIndex passes it.
//! * A swarm of seeds with faults (a partition, a crash and restart, loss)
//!   and mixed reads, writes and compare-and-sets through the log or
//!   ReadIndex: every history is linearizable (thesis §6.4: both paths are
//!   linearizable). `SWARM_SEEDS=<n>` runs seeds `0..n` (default 1,000);
//!   a failure prints `SWARM_SEED=<n> cargo test -p clusterscope-core
//!   --test kv_reads` to replay it.
//! * The same for Multi-Paxos ("Paxos Made Simple" §3): a chosen slot
//!   carries clients' commands, every server applies them in slot order,
//!   reads go through slots; with faults every history stays linearizable.
//! * The session-guarantee checkers (Terry et al. 1994), each fed a
//!   history that breaks it and one that does not.

use clusterscope_core::history::{self, Budget, Verdict};
use clusterscope_core::lab::consistency::{Guarantee, Sessions, LINEARIZABLE};
use clusterscope_core::lab::Lab;
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{Answer, Command, KvOp, KvRecord, Rng, StreamKind, SEC};

fn preset(name: &str) -> Scenario {
    let path = format!("{}/../../tests/scenarios/raft/{name}.scn", env!("CARGO_MANIFEST_DIR"));
    Scenario::parse(&std::fs::read_to_string(path).expect("readable")).expect("valid")
}

/// The whole history of a run, checked with the default budget.
fn verdict(lab: &Lab) -> Verdict {
    let h = lab.client_history().expect("a key-value history");
    history::check(h.model, &h.initial, &h.entries, &Budget::default()).expect("operations of a register")
}

// Thesis §6.4: a leader that answers reads without confirming it still
// leads can return stale data once it is deposed.
#[test]
fn a_cut_off_leader_serving_local_reads_fails_the_checker() {
    let lab = Lab::replay(&preset("bug-local-reads-cut-off-leader")).expect("runs");
    let v = lab.violation().expect("the checker stops the run");
    assert_eq!(v.invariant, LINEARIZABLE);
    assert!(v.message.contains("read"), "names the stale read: {}", v.message);
    assert!(v.at > 2 * SEC, "after the partition at 2 s: {}", v.at);
}

// Thesis §6.4: with ReadIndex, a deposed leader cannot confirm its
// leadership, so it answers no read; the same faults stay linearizable.
#[test]
fn the_same_partition_with_read_index_stays_linearizable() {
    let scn = preset("read-index-cut-off-leader");
    let lab = Lab::replay(&scn).expect("runs");
    assert!(lab.violation().is_none(), "{:?}", lab.violation());
    assert!(matches!(verdict(&lab), Verdict::Linearizable { .. }), "{:?}", verdict(&lab));
}

/// One swarm world: five servers, a random mix, faults, then healing.
fn world(seed: u64) -> String {
    let mut rng = Rng::stream(seed, StreamKind::Lab, 77);
    let path = if rng.range(0, 1) == 0 { "log" } else { "read-index" };
    let rest = mix_and_faults(&mut rng, 5);
    format!("# swarm world {seed}\nlab raft\nseed {seed}\nclient_timeout 200ms\nread_path {path}\n{rest}")
}

/// One Multi-Paxos swarm world: three proposers, five acceptors, a random
/// mix, a partition and a proposer's crash, then healing.
fn paxos_world(seed: u64) -> String {
    let mut rng = Rng::stream(seed, StreamKind::Lab, 78);
    let rest = mix_and_faults(&mut rng, 3);
    format!("# paxos swarm world {seed}\nlab paxos\nseed {seed}\nmode multi\nproposers 3\nacceptors 5\n{rest}")
}

/// A world's workload (30 commands a second on 1 to 3 keys, a random mix
/// of reads, writes and compare-and-sets, up to 4% loss) and faults (one of
/// five servers cut off, then one of the first `crashable` crashed, both
/// healed), for 3 s; the live checker is off, the test checks at the end.
fn mix_and_faults(rng: &mut Rng, crashable: u64) -> String {
    let keys = rng.range(1, 4);
    let reads = rng.range(20, 80);
    let cas = rng.range(0, 100 - reads);
    let loss = rng.range(0, 5);
    let cut = rng.range(1, 5);
    let crash = rng.range(1, crashable);
    let t1 = rng.range(500, 1_200);
    let t2 = t1 + rng.range(100, 600);
    let others = (1..=5).filter(|&n| n != cut).map(|n| format!("S{n}")).collect::<Vec<_>>().join(",");
    format!(
        "request_rate 30\nkeys {keys}\nread_share {reads}%\ncas_share {cas}%\nloss {loss}%\ncheck_history off\n\
         at {t1}ms partition S{cut} | {others}\nat {t2}ms crash S{crash}\nat {}ms heal\nat {}ms restart S{crash}\nuntil 3s\n",
        t2 + 400,
        t2 + 600,
    )
}

/// Runs each world and checks its whole history; panics with the world and
/// how to replay it on a violation or a history that is not linearizable.
/// Returns (histories linearizable, checks that gave up, operations).
fn check_worlds(worlds: impl Iterator<Item = (u64, String)>, test: &str) -> (u64, u64, usize) {
    let (mut checked, mut gave_up, mut ops) = (0u64, 0u64, 0usize);
    for (seed, text) in worlds {
        let scn = Scenario::parse(&text).expect("valid");
        let lab = Lab::replay(&scn).expect("runs");
        let replay = format!("replay: SWARM_SEED={seed} cargo test -p clusterscope-core --test kv_reads -- {test}");
        assert!(lab.violation().is_none(), "seed {seed}: {:?}\n{replay}", lab.violation());
        let h = lab.client_history().expect("a key-value history");
        ops += h.entries.len();
        let budget = Budget { max_steps: 300_000, max_states: 100_000 };
        match history::check(h.model, &h.initial, &h.entries, &budget).expect("operations of a register") {
            Verdict::Linearizable { .. } => checked += 1,
            Verdict::GaveUp { .. } => gave_up += 1,
            v @ Verdict::NotLinearizable { .. } => panic!("seed {seed}: {v:?}\n{text}\n{replay}"),
        }
    }
    // A check that runs out of budget decides nothing; most must decide.
    assert!(gave_up * 10 <= checked + gave_up, "{gave_up} of {} checks gave up", checked + gave_up);
    (checked, gave_up, ops)
}

fn seeds() -> Vec<u64> {
    if let Some(one) = std::env::var("SWARM_SEED").ok().and_then(|s| s.trim().parse::<u64>().ok()) {
        return vec![one];
    }
    let n = std::env::var("SWARM_SEEDS").ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(1_000);
    (0..n).collect()
}

// Thesis §6.4: reads through the log and by ReadIndex are linearizable,
// whatever the faults; so is every write and compare-and-set (§8's
// sessions keep a retried command from applying twice).
#[test]
fn a_swarm_with_faults_through_the_log_or_read_index_stays_linearizable() {
    let (checked, gave_up, _) = check_worlds(seeds().into_iter().map(|s| (s, world(s))), "swarm");
    println!("{checked} histories linearizable, {gave_up} checks gave up");
}

fn record(process: u64, op: KvOp, at: u64, version: u64) -> KvRecord {
    let value = match op {
        KvOp::Write(v) | KvOp::Cas(_, v) => Some(v),
        KvOp::Read => Some(version as i64 * 10),
    };
    KvRecord {
        req: at,
        command: Command { process, key: 0, op },
        invoked: at,
        done: Some((at + 1, Answer { key: 0, value, version, ok: true })),
    }
}

fn broken(records: &[KvRecord]) -> Vec<Guarantee> {
    let mut s = Sessions::default();
    records.iter().filter_map(|r| s.observe(r)).map(|(g, _)| g).collect()
}

// Terry et al. 1994, "read your writes": a read sees the session's own
// earlier writes.
#[test]
fn read_your_writes_is_broken_by_a_read_older_than_the_own_write() {
    let bad = [record(1, KvOp::Write(30), 10, 3), record(1, KvOp::Read, 20, 2)];
    assert_eq!(broken(&bad), vec![Guarantee::ReadYourWrites]);
    // Another process's older read is no breach of process 1's session.
    let fine = [record(1, KvOp::Write(30), 10, 3), record(2, KvOp::Read, 20, 2), record(1, KvOp::Read, 30, 3)];
    assert!(broken(&fine).is_empty());
}

// Terry et al. 1994, "monotonic reads": a session's reads never go back
// to an older version.
#[test]
fn monotonic_reads_is_broken_by_a_read_going_back() {
    let bad = [record(4, KvOp::Read, 10, 5), record(4, KvOp::Read, 20, 4)];
    assert_eq!(broken(&bad), vec![Guarantee::MonotonicReads]);
    let fine = [record(4, KvOp::Read, 10, 5), record(4, KvOp::Read, 20, 5), record(5, KvOp::Read, 30, 1)];
    assert!(broken(&fine).is_empty());
}

// "Paxos Made Simple" §3: servers that apply the chosen commands in slot
// order are one state machine, so reads and writes through slots are
// linearizable whatever the faults (a violation would mean two servers
// applied different commands in a slot, or a command applied twice).
// A tenth of the Raft swarm's seeds: each world runs the same 3 s.
#[test]
fn a_multi_paxos_swarm_with_faults_stays_linearizable() {
    let worlds = seeds().into_iter().filter(|s| s % 10 == 0).map(|s| (s, paxos_world(s)));
    let (checked, gave_up, ops) = check_worlds(worlds, "paxos");
    // The clients did read and write: about 30 commands a second for 3 s.
    assert!(ops as u64 >= 40 * (checked + gave_up), "{ops} operations in {} worlds", checked + gave_up);
    println!("{checked} Multi-Paxos histories linearizable, {gave_up} checks gave up, {ops} operations");
}
