//! Whole-cluster Raft scenarios on the simulator: elections with servers
//! down, partitions, repair of divergent logs, repeated crashes, the
//! Figure 8 situation, and churn on a bad network. Every run has the five
//! safety checkers attached (they stop the run at the first violation) and
//! ends with a from-scratch `check_all`. Each test opens with the paper
//! section or the situation it guards. The last tests prove that each
//! checker can fail, by feeding it a hand-built bad world.
//!
//! Scripted scenarios use election timeouts of 10–20 s, so that elections
//! happen only when a test forces a timeout, and a client timeout of 1000 s,
//! so that clients never resubmit behind the test's back.

mod common;

use clusterscope_core::raft::{self, check_all, Entry, RaftConfig, RaftDurable, RaftMsg, RaftNode, RaftNote, Role};
use clusterscope_core::sim::{
    ClientConfig, Ctx, Fault, Invariant, NetConfig, Node, NodeId, NodeStatus, Protocol, Reply, RequestId, Rng, Sim,
    SimConfig, StreamKind, Time, TraceEvent, World, MS, SEC,
};
use std::sync::Arc;

// ----- helpers -----

const WINDOW: usize = 1 << 21;

fn build(nodes: u32, seed: u64, cfg: RaftConfig, net: NetConfig, client: ClientConfig) -> Sim<RaftNode> {
    let mut sim = Sim::new(SimConfig { nodes, seed, net, client, trace_window: WINDOW, ..SimConfig::default() }, cfg);
    for inv in raft::invariants() {
        sim.add_invariant(inv);
    }
    sim
}

/// Default Raft and network settings.
fn cluster(nodes: u32, seed: u64) -> Sim<RaftNode> {
    build(nodes, seed, RaftConfig::default(), NetConfig::default(), ClientConfig::default())
}

/// Elections only when forced; clients never resubmit on their own.
fn scripted(nodes: u32, seed: u64) -> Sim<RaftNode> {
    let cfg = RaftConfig { election_timeout_min: 10 * SEC, election_timeout_max: 20 * SEC, ..RaftConfig::default() };
    build(nodes, seed, cfg, NetConfig::default(), ClientConfig { timeout: 1_000 * SEC, ..ClientConfig::default() })
}

fn run_for(sim: &mut Sim<RaftNode>, d: Time) {
    let t = sim.now() + d;
    sim.run_until(t);
    assert_safe(sim);
}

fn assert_safe(sim: &Sim<RaftNode>) {
    if let Some(v) = sim.violation() {
        panic!("{} violated at {}: {}", v.invariant, v.at, v.message);
    }
    if let Err(e) = check_all(sim.nodes()) {
        panic!("check_all: {e}");
    }
}

fn state(sim: &Sim<RaftNode>, id: NodeId) -> &RaftNode {
    &sim.nodes()[id as usize].state
}

fn up(sim: &Sim<RaftNode>, id: NodeId) -> bool {
    sim.nodes()[id as usize].status == NodeStatus::Up
}

/// The running leader of the highest term any running node knows, if any.
fn leader(sim: &Sim<RaftNode>) -> Option<NodeId> {
    let ids = 0..sim.config().nodes;
    let top = ids.clone().filter(|&i| up(sim, i)).map(|i| state(sim, i).term()).max()?;
    ids.into_iter().find(|&i| up(sim, i) && state(sim, i).role() == Role::Leader && state(sim, i).term() == top)
}

/// Runs until a leader of the highest term is up (at most `within`).
fn wait_for_leader(sim: &mut Sim<RaftNode>, within: Time) -> NodeId {
    let deadline = sim.now() + within;
    while sim.now() < deadline {
        if let Some(l) = leader(sim) {
            return l;
        }
        run_for(sim, 5 * MS);
    }
    panic!("no leader within {within} µs");
}

fn committed_reply(sim: &Sim<RaftNode>, req: RequestId) -> bool {
    sim.trace().window().any(|e| matches!(e, TraceEvent::Replied { req: r, reply: Reply::Committed, .. } if *r == req))
}

/// Runs until request `req` is answered as committed (at most `within`).
fn wait_committed(sim: &mut Sim<RaftNode>, req: RequestId, within: Time) -> bool {
    let deadline = sim.now() + within;
    while sim.now() < deadline {
        if committed_reply(sim, req) {
            return true;
        }
        run_for(sim, 5 * MS);
    }
    committed_reply(sim, req)
}

/// Notes in the trace so far, with their node.
fn notes(sim: &Sim<RaftNode>) -> Vec<(NodeId, RaftNote)> {
    sim.trace()
        .window()
        .filter_map(|e| match e {
            TraceEvent::Note { node, note, .. } => Some((*node, note.clone())),
            _ => None,
        })
        .collect()
}

fn elections(sim: &Sim<RaftNode>) -> usize {
    notes(sim).iter().filter(|(_, n)| matches!(n, RaftNote::BecameCandidate { .. })).count()
}

fn holds(sim: &Sim<RaftNode>, id: NodeId, index: usize, entry: &Entry) -> bool {
    state(sim, id).log().get(index - 1) == Some(entry)
}

fn committed_everywhere(sim: &Sim<RaftNode>, req: RequestId) -> bool {
    sim.nodes().iter().all(|n| n.state.log()[..n.state.commit_index() as usize].iter().any(|e| e.command == req))
}

fn logs_equal(sim: &Sim<RaftNode>) -> bool {
    let first = state(sim, 0).log();
    sim.nodes().iter().all(|n| n.state.log() == first)
}

/// Forces `id` to time out until it leads (a few tries, 100 ms apart).
fn force_leader(sim: &mut Sim<RaftNode>, id: NodeId) {
    for _ in 0..4 {
        sim.force_timeout(id);
        run_for(sim, 100 * MS);
        if state(sim, id).role() == Role::Leader {
            return;
        }
    }
    panic!("S{} could not win an election", id + 1);
}

// ----- elections -----

// §5.2: "A candidate wins an election if it receives votes from a majority
// of the servers in the full cluster": with one of three servers down the
// other two still elect a leader and commit.
#[test]
fn a_leader_is_elected_with_one_of_three_servers_down() {
    for seed in 1..=5 {
        let mut sim = cluster(3, seed);
        sim.inject(Fault::Crash(2));
        let l = wait_for_leader(&mut sim, 3 * SEC);
        assert_ne!(l, 2);
        let f = 1 - l;
        run_for(&mut sim, 100 * MS);
        assert_eq!(state(&sim, f).leader_hint(), Some(l), "seed {seed}: the follower knows its leader");
        assert_eq!(state(&sim, f).term(), state(&sim, l).term());
        let req = sim.client_request(f).expect("request");
        assert!(wait_committed(&mut sim, req, SEC), "seed {seed}: the redirected request commits");
        run_for(&mut sim, 100 * MS);
        assert!(
            state(&sim, 0).log().iter().any(|e| e.command == req)
                && state(&sim, 1).log().iter().any(|e| e.command == req)
        );
        assert!(state(&sim, 2).log().is_empty(), "the crashed server received nothing");
    }
}

// §5.2: without a majority no candidate can win. One server of three keeps
// starting elections (raising its term) and never leads; its clients are
// told that no leader is known. With Pre-Vote (thesis §9.6) it does not even
// raise its term.
#[test]
fn no_leader_is_elected_with_two_of_three_servers_down() {
    let mut sim = cluster(3, 7);
    sim.inject(Fault::Crash(1));
    sim.inject(Fault::Crash(2));
    let req = sim.client_request(0).expect("request");
    run_for(&mut sim, 5 * SEC);
    assert!(!notes(&sim).iter().any(|(_, n)| matches!(n, RaftNote::BecameLeader { .. })));
    assert!(elections(&sim) >= 10, "S1 keeps trying: {} elections", elections(&sim));
    assert_eq!(state(&sim, 0).role(), Role::Candidate);
    assert!(state(&sim, 0).term() >= 10);
    assert!(!committed_reply(&sim, req));
    assert!(sim
        .trace()
        .window()
        .any(|e| matches!(e, TraceEvent::Replied { node: 0, reply: Reply::NotLeader(None), .. })));

    let cfg = RaftConfig { pre_vote: true, ..RaftConfig::default() };
    let mut pv = build(3, 7, cfg, NetConfig::default(), ClientConfig::default());
    pv.inject(Fault::Crash(1));
    pv.inject(Fault::Crash(2));
    run_for(&mut pv, 5 * SEC);
    assert_eq!(state(&pv, 0).term(), 0, "pre-votes never reach a majority, so the term stays");
    assert_eq!(state(&pv, 0).role(), Role::PreCandidate);
}

// §5.2 and §5.1: when the leader is cut off, the others time out and elect a
// new leader in a later term; when the old leader returns it sees the later
// term, steps down, and its log converges with the new leader's.
#[test]
fn a_partitioned_leader_is_replaced_and_steps_down_when_it_returns() {
    for seed in [3, 11, 19] {
        let mut sim = cluster(5, seed);
        let old = wait_for_leader(&mut sim, 3 * SEC);
        let old_term = state(&sim, old).term();
        let req = sim.client_request(old).expect("request");
        assert!(wait_committed(&mut sim, req, SEC));
        let rest: Vec<NodeId> = (0..5).filter(|&i| i != old).collect();
        sim.inject(Fault::Partition(vec![vec![old], rest.clone()]));
        run_for(&mut sim, 2 * SEC);
        let new = leader(&sim).expect("a new leader");
        assert!(rest.contains(&new), "seed {seed}");
        assert!(state(&sim, new).term() > old_term);
        assert_eq!(state(&sim, old).role(), Role::Leader, "cut off, the old leader does not know (CheckQuorum is off)");
        assert_eq!(state(&sim, old).term(), old_term);

        sim.inject(Fault::Heal);
        run_for(&mut sim, SEC);
        assert_eq!(state(&sim, old).role(), Role::Follower, "seed {seed}: the old leader stepped down");
        assert!(notes(&sim).iter().any(|(n, note)| *n == old && matches!(note, RaftNote::SteppedDown { .. })));
        let l = wait_for_leader(&mut sim, SEC);
        let req = sim.client_request(l).expect("request");
        assert!(wait_committed(&mut sim, req, SEC));
        run_for(&mut sim, 200 * MS);
        assert!(logs_equal(&sim), "seed {seed}: logs converge");
        assert!(committed_everywhere(&sim, req));
    }
}

// Thesis §6.2: with CheckQuorum the cut-off leader notices by itself that it
// no longer hears from a majority and steps down, instead of believing it
// leads until the partition heals.
#[test]
fn with_check_quorum_a_cut_off_leader_steps_down_by_itself() {
    let cfg = RaftConfig { check_quorum: true, ..RaftConfig::default() };
    let mut sim = build(5, 5, cfg, NetConfig::default(), ClientConfig::default());
    let old = wait_for_leader(&mut sim, 3 * SEC);
    run_for(&mut sim, SEC);
    assert_eq!(state(&sim, old).role(), Role::Leader, "a healthy leader keeps its quorum");
    let rest: Vec<NodeId> = (0..5).filter(|&i| i != old).collect();
    sim.inject(Fault::Partition(vec![vec![old], rest]));
    run_for(&mut sim, SEC);
    assert_ne!(state(&sim, old).role(), Role::Leader);
    assert!(notes(&sim)
        .iter()
        .any(|(n, note)| *n == old
            && matches!(note, RaftNote::SteppedDown { reason, .. } if reason.contains("majority"))));
}

// ----- replication -----

// §5.3: a leader whose partition holds only a minority accepts entries but
// cannot commit them; after the partition heals, a leader of a later term
// overwrites them (§5.3: "conflicting entries in follower logs will be
// overwritten with entries from the leader's log"), and the committed
// entries of the majority side survive.
#[test]
fn a_partitioned_leaders_uncommitted_entries_are_overwritten() {
    let mut sim = scripted(5, 1);
    force_leader(&mut sim, 0);
    let first = sim.client_request(0).expect("request");
    assert!(wait_committed(&mut sim, first, SEC));
    run_for(&mut sim, 100 * MS);

    sim.inject(Fault::Partition(vec![vec![0, 1], vec![2, 3, 4]]));
    let lost: Vec<RequestId> = (0..3).filter_map(|_| sim.client_request(0)).collect();
    run_for(&mut sim, 500 * MS);
    assert_eq!(state(&sim, 0).log().len(), 4);
    assert_eq!(state(&sim, 1).log().len(), 4, "S2 stored them too");
    assert_eq!(state(&sim, 0).commit_index(), 1, "2 of 5 is no majority");
    assert!(lost.iter().all(|&r| !committed_reply(&sim, r)));

    force_leader(&mut sim, 2);
    let kept: Vec<RequestId> = (0..2).filter_map(|_| sim.client_request(2)).collect();
    for &r in &kept {
        assert!(wait_committed(&mut sim, r, SEC));
    }
    sim.inject(Fault::Heal);
    run_for(&mut sim, SEC);
    for id in [0, 1] {
        assert_eq!(state(&sim, id).role(), Role::Follower);
        assert!(
            notes(&sim).contains(&(id, RaftNote::Truncated { from: 2 })),
            "S{} dropped its uncommitted suffix",
            id + 1
        );
    }
    assert!(logs_equal(&sim));
    let log = state(&sim, 0).log();
    assert!(log.iter().skip(1).all(|e| e.term == 2), "only the new leader's entries follow the first: {log:?}");
    for &r in &kept {
        assert!(log.iter().any(|e| e.command == r));
    }
}

// §5.3: a follower that is cut off misses entries; the others go on
// committing without it (a majority suffices), and once it is back the
// leader brings it up to date. Being behind, it cannot win an election
// meanwhile (§5.4.1).
#[test]
fn a_disconnected_follower_catches_up_and_the_rest_agree_meanwhile() {
    for seed in [2, 8] {
        let mut sim = cluster(3, seed);
        let l = wait_for_leader(&mut sim, 3 * SEC);
        let f = (l + 1) % 3;
        let other = (l + 2) % 3;
        sim.inject(Fault::Partition(vec![vec![f], vec![l, other]]));
        let reqs: Vec<RequestId> = (0..10).filter_map(|_| sim.client_request(l)).collect();
        for &r in &reqs {
            assert!(wait_committed(&mut sim, r, SEC), "seed {seed}: committed without the cut-off follower");
        }
        assert!(state(&sim, f).log().is_empty());
        sim.inject(Fault::Heal);
        run_for(&mut sim, 2 * SEC);
        let l = wait_for_leader(&mut sim, 2 * SEC);
        assert_ne!(l, f, "seed {seed}: a server missing committed entries cannot be elected");
        let last = sim.client_request(l).expect("request");
        assert!(wait_committed(&mut sim, last, SEC));
        run_for(&mut sim, 200 * MS);
        assert!(logs_equal(&sim), "seed {seed}");
        for &r in reqs.iter().chain([&last]) {
            assert!(committed_everywhere(&sim, r), "seed {seed}: request {r}");
        }
        assert!(!notes(&sim).iter().any(|(n, note)| *n == f && matches!(note, RaftNote::BecameLeader { .. })));
    }
}

// §5.3: "A log entry is committed once the leader that created the entry has
// replicated it on a majority of the servers": with three of five servers
// down the leader's entry stays uncommitted and its client waits; when two
// come back it commits and the client is answered.
#[test]
fn nothing_commits_without_a_majority_and_it_commits_once_restored() {
    let mut sim = cluster(5, 4);
    let l = wait_for_leader(&mut sim, 3 * SEC);
    let down: Vec<NodeId> = (0..5).filter(|&i| i != l).take(3).collect();
    for &d in &down {
        sim.inject(Fault::Crash(d));
    }
    let req = sim.client_request(l).expect("request");
    run_for(&mut sim, 2 * SEC);
    assert_eq!(state(&sim, l).role(), Role::Leader);
    assert_eq!(state(&sim, l).commit_index(), 0);
    assert!(!committed_reply(&sim, req));
    assert_eq!(sim.nodes().iter().filter(|n| n.state.log().iter().any(|e| e.command == req)).count(), 2);

    sim.inject(Fault::Restart(down[0]));
    assert!(wait_committed(&mut sim, req, 2 * SEC), "a third server is back: 3 of 5");
    assert_eq!(state(&sim, l).commit_index(), 1);
    for &d in &down[1..] {
        assert!(state(&sim, d).log().is_empty(), "the still-crashed servers have nothing");
    }
}

// §5.3's optimisation: after a partition, a follower holding 200 entries of
// a term the leader never had is repaired with one refusal (the whole term
// is skipped at once) and then batches of max_batch entries, not one round
// trip per entry.
#[test]
fn a_long_divergent_log_is_repaired_in_few_round_trips() {
    let mut sim = scripted(3, 6);
    force_leader(&mut sim, 0);
    let first = sim.client_request(0).expect("request");
    assert!(wait_committed(&mut sim, first, SEC));
    sim.inject(Fault::Partition(vec![vec![0], vec![1, 2]]));
    for _ in 0..200 {
        sim.client_request(0);
    }
    run_for(&mut sim, 200 * MS);
    force_leader(&mut sim, 1);
    for _ in 0..150 {
        sim.client_request(1);
    }
    run_for(&mut sim, 500 * MS);
    force_leader(&mut sim, 2);
    for _ in 0..150 {
        sim.client_request(2);
    }
    run_for(&mut sim, 500 * MS);
    assert_eq!(state(&sim, 0).log().len(), 201);
    assert_eq!(state(&sim, 2).commit_index(), 301);
    // S1 restarts (as a follower, its 200 clients forgotten), then rejoins.
    sim.inject(Fault::Crash(0));
    sim.inject(Fault::Restart(0));
    let mark = sim.trace().total();

    sim.inject(Fault::Heal);
    let deadline = sim.now() + 2 * SEC;
    while state(&sim, 0).log() != state(&sim, 2).log() && sim.now() < deadline {
        sim.step();
    }
    assert_safe(&sim);
    assert_eq!(state(&sim, 0).log(), state(&sim, 2).log(), "S1 repaired");
    let repair: Vec<&TraceEvent<RaftNode>> = sim.trace().since(mark).collect();
    let refusals = repair
        .iter()
        .filter(|e| {
            matches!(e, TraceEvent::Sent { from: 0, msg: RaftMsg::AppendEntriesReply { success: false, .. }, .. })
        })
        .count();
    let appends = repair
        .iter()
        .filter(|e| {
            matches!(e, TraceEvent::Sent { from: 2, to: 0, msg: RaftMsg::AppendEntries { entries, .. }, .. } if !entries.is_empty())
        })
        .count();
    // One refusal for S1's too-short log, one naming term 1 (skipped at
    // once); then 300 entries in batches of 64 (5), and perhaps a resend.
    assert!(refusals <= 2, "{refusals} refusals");
    assert!(appends <= 7, "{appends} AppendEntries with entries to repair 300 entries");
    assert!(sim.now() - repair[0].at() < 500 * MS, "repaired in {} µs", sim.now() - repair[0].at());
}

// §5.5 and Figure 2: currentTerm, votedFor and the log survive crashes;
// commit index, role and leader state do not. Leaders and followers crash
// again and again; every committed request stays committed, terms never go
// back, and restarted servers rejoin.
#[test]
fn persistent_state_survives_repeated_crashes_of_leaders_and_followers() {
    let mut sim = cluster(5, 12);
    let mut acknowledged = Vec::new();
    let mut max_term = [0u64; 5];
    for round in 0..8u32 {
        let l = wait_for_leader(&mut sim, 3 * SEC);
        let req = sim.client_request(l).expect("request");
        if wait_committed(&mut sim, req, SEC) {
            acknowledged.push(req);
        }
        let victims = if round % 2 == 0 { vec![l] } else { vec![l, (l + 1 + round % 4) % 5] };
        for &v in &victims {
            let before = state(&sim, v).durable();
            sim.inject(Fault::Crash(v));
            let after = state(&sim, v);
            assert_eq!(after.durable(), before, "round {round}: persistent state kept");
            assert_eq!((after.role(), after.commit_index(), after.leader_hint()), (Role::Follower, 0, None));
        }
        run_for(&mut sim, 400 * MS);
        for &v in &victims {
            sim.inject(Fault::Restart(v));
        }
        run_for(&mut sim, 100 * MS);
        for (id, m) in max_term.iter_mut().enumerate() {
            let t = state(&sim, id as NodeId).term();
            assert!(t >= *m, "round {round}: S{} went back from term {m} to {t}", id + 1);
            *m = t;
        }
    }
    assert!(acknowledged.len() >= 6, "most rounds commit: {acknowledged:?}");
    let l = wait_for_leader(&mut sim, 3 * SEC);
    let last = sim.client_request(l).expect("request");
    assert!(wait_committed(&mut sim, last, SEC));
    run_for(&mut sim, 200 * MS);
    for &r in acknowledged.iter().chain([&last]) {
        assert!(committed_everywhere(&sim, r), "request {r} acknowledged but not committed everywhere");
    }
    assert!(logs_equal(&sim));
}

// §5.4.2, Figure 8: a leader must not conclude that an entry of an earlier
// term is committed just because a majority stores it: another server with
// a later last term can still be elected and overwrite it. (a) S1 leads term
// 2 and its entry X reaches S2 only; (b) S5 leads term 3 with S3, S4 and
// stores Y; (c) S1 leads term 4 and spreads X to a majority: not committed.
// (d) S1 crashes; S5 wins term 5 and overwrites X with Y everywhere: no
// violation because X was never committed. (e) Instead, S1 first commits
// an entry of term 4 on a majority: X is then committed with it, and S5 can
// no longer be elected.
#[test]
fn figure_8_an_old_term_entry_on_a_majority_is_not_committed_by_counting() {
    let mut sim = scripted(5, 8);
    force_leader(&mut sim, 0); // term 1
    let r1 = sim.client_request(0).expect("request");
    assert!(wait_committed(&mut sim, r1, SEC));
    run_for(&mut sim, 100 * MS);

    // (a)
    force_leader(&mut sim, 0);
    assert_eq!(state(&sim, 0).term(), 2);
    sim.inject(Fault::Partition(vec![vec![0, 1], vec![2, 3, 4]]));
    let x = sim.client_request(0).expect("request");
    run_for(&mut sim, 100 * MS);
    let xe = Entry { term: 2, command: x, config: None, kv: None };
    assert!(holds(&sim, 0, 2, &xe) && holds(&sim, 1, 2, &xe));
    assert_eq!(state(&sim, 2).log().len(), 1);

    // (b)
    sim.inject(Fault::Crash(0));
    force_leader(&mut sim, 4);
    assert_eq!(state(&sim, 4).term(), 3);
    sim.inject(Fault::Partition(vec![vec![4], vec![0, 1, 2, 3]]));
    let y = sim.client_request(4).expect("request");
    run_for(&mut sim, 50 * MS);
    let ye = Entry { term: 3, command: y, config: None, kv: None };
    assert!(holds(&sim, 4, 2, &ye));
    sim.inject(Fault::Crash(4));

    // (c)
    sim.inject(Fault::Restart(0));
    force_leader(&mut sim, 0);
    assert_eq!(state(&sim, 0).term(), 4);
    run_for(&mut sim, 300 * MS);
    assert!([0, 1, 2].iter().all(|&i| holds(&sim, i, 2, &xe)), "X is on a majority");
    // S1 restarted, so it knows of no commits; counting replicas of entries
    // of terms 1 and 2 must not teach it any.
    assert_eq!(state(&sim, 0).commit_index(), 0, "X is not committed by counting replicas");
    assert!(!notes(&sim).iter().any(|(_, n)| matches!(n, RaftNote::Committed { index } if *index >= 2)));
    let at_c = sim.clone();

    // (d)
    sim.inject(Fault::Crash(0));
    sim.inject(Fault::Restart(4));
    sim.inject(Fault::Heal);
    force_leader(&mut sim, 4);
    assert_eq!(state(&sim, 4).term(), 5);
    run_for(&mut sim, 300 * MS);
    assert!([1, 2, 3, 4].iter().all(|&i| holds(&sim, i, 2, &ye)), "Y replaced X");
    assert_eq!(state(&sim, 4).commit_index(), 0, "Y is of term 3: not committed by counting either");
    let z = sim.client_request(4).expect("request");
    assert!(wait_committed(&mut sim, z, SEC), "a term-5 entry commits, and Y with it");
    sim.inject(Fault::Restart(0));
    run_for(&mut sim, 300 * MS);
    assert!(logs_equal(&sim));
    assert!(holds(&sim, 0, 2, &ye), "S1 lost X as well");
    assert!(!committed_reply(&sim, x));

    // (e)
    let mut sim = at_c;
    let w = sim.client_request(0).expect("request");
    assert!(wait_committed(&mut sim, w, SEC));
    assert!(state(&sim, 0).commit_index() >= 3, "X (index 2) commits indirectly with the term-4 entry");
    assert!(holds(&sim, 0, 2, &xe));
    sim.inject(Fault::Crash(0));
    sim.inject(Fault::Restart(4));
    sim.inject(Fault::Heal);
    for _ in 0..3 {
        sim.force_timeout(4);
        run_for(&mut sim, 100 * MS);
        assert_ne!(state(&sim, 4).role(), Role::Leader, "S5's log is behind a majority's (§5.4.1)");
    }
    assert!([1, 2].iter().all(|&i| holds(&sim, i, 2, &xe)), "committed X stays");
}

// §5 as a whole: churn on an unreliable network (loss, duplication,
// reordering, long tails) with crashes, restarts and partitions. Safety
// holds throughout; once the network heals and everyone restarts, a leader
// is elected and a new request commits everywhere.
#[test]
fn churn_under_an_unreliable_network_keeps_safety_and_recovers() {
    let net = NetConfig {
        latency_min: 5 * MS,
        latency_max: 30 * MS,
        tail_ppm: 50_000,
        tail_max: 300 * MS,
        loss_ppm: 50_000,
        dup_ppm: 50_000,
        reorder: true,
        ..NetConfig::default()
    };
    let client = ClientConfig { rate_per_sec: 50, ..ClientConfig::default() };
    let mut sim = build(5, 21, RaftConfig::default(), net, client);
    let mut rng = Rng::stream(21, StreamKind::Lab, 77);
    let mut t = 0;
    while t < 10 * SEC {
        t += 100 * MS;
        let node = rng.range(0, 4) as NodeId;
        match rng.range(0, 9) {
            0 | 1 if sim.nodes().iter().filter(|n| n.status == NodeStatus::Crashed).count() < 2 => {
                sim.inject(Fault::Crash(node))
            }
            2 | 3 => sim.inject(Fault::Restart(node)),
            4 => {
                let cut = rng.range(1, 2) as NodeId;
                let (a, b): (Vec<NodeId>, Vec<NodeId>) = (0..5).partition(|&i| (i + node) % 5 < cut);
                sim.inject(Fault::Partition(vec![a, b]));
            }
            5 => sim.inject(Fault::Heal),
            6 => sim.force_timeout(node),
            _ => {}
        }
        sim.run_until(t);
        assert_safe(&sim);
    }
    let before = sim.counters().committed;
    assert!(elections(&sim) >= 5, "churn caused elections: {}", elections(&sim));
    assert!(before >= 50, "requests still commit under churn: {before}");

    common::calm_network(&mut sim);
    for id in 0..5 {
        sim.inject(Fault::Restart(id));
    }
    let l = wait_for_leader(&mut sim, 3 * SEC);
    let req = sim.client_request(l).expect("request");
    assert!(wait_committed(&mut sim, req, 2 * SEC));
    run_for(&mut sim, 300 * MS);
    assert!(committed_everywhere(&sim, req));
}

// Robustness: clusters of every size from 1 to 101 elect a leader and
// commit a request without panicking (the lab lets users pick any size).
#[test]
fn every_cluster_size_from_1_to_101_elects_and_commits() {
    for n in 1..=101u32 {
        let mut sim = build(n, u64::from(n), RaftConfig::default(), NetConfig::default(), ClientConfig::default());
        let l = wait_for_leader(&mut sim, 5 * SEC);
        let req = sim.client_request(l).expect("request");
        assert!(wait_committed(&mut sim, req, 2 * SEC), "{n} nodes");
    }
}

// ----- the checkers themselves can fail -----

/// A world of `n` nodes with the given durable states, as the simulator
/// holds them.
fn world_nodes(durables: Vec<RaftDurable>) -> Vec<Node<RaftNode>> {
    let n = durables.len() as u32;
    let sim: Sim<RaftNode> = Sim::new(SimConfig { nodes: n, ..SimConfig::default() }, RaftConfig::default());
    let mut nodes = sim.nodes().to_vec();
    for (i, d) in durables.into_iter().enumerate() {
        nodes[i].state = RaftNode::recover(i as NodeId, n, &RaftConfig::default(), d);
    }
    nodes
}

fn durable(log: &[(u64, u64)]) -> RaftDurable {
    RaftDurable {
        term: log.last().map_or(0, |e| e.0),
        voted_for: None,
        log: log.iter().map(|&(term, command)| Entry::new(term, command)).collect(),
        ..RaftDurable::default()
    }
}

fn note(node: NodeId, note: RaftNote) -> TraceEvent<RaftNode> {
    TraceEvent::Note { at: 0, node, note }
}

fn checker(name: &str) -> Box<dyn Invariant<RaftNode>> {
    raft::invariants().into_iter().find(|i| i.name() == name).unwrap_or_else(|| panic!("no checker named {name}"))
}

/// A world and the events of one step.
type Step = (Vec<Node<RaftNode>>, Vec<TraceEvent<RaftNode>>);

/// Runs `events` (one step each) through the named checker, starting from
/// an empty world, and returns the first error.
fn feed(name: &str, steps: &[Step]) -> Result<(), String> {
    let mut inv = checker(name);
    let empty = world_nodes(vec![RaftDurable::default(); steps[0].0.len()]);
    inv.check(&World { now: 0, nodes: &empty }, &[])?;
    for (nodes, events) in steps {
        inv.check(&World { now: 1, nodes }, events)?;
    }
    Ok(())
}

// Figure 3: the checkers are the paper's five safety properties, under the
// names the UI and violation reports use, then the two of membership
// changes (thesis §4.1).
#[test]
fn the_checkers_are_the_five_properties_of_figure_3() {
    let names: Vec<&str> = raft::invariants().iter().map(|i| i.name()).collect();
    assert_eq!(
        names,
        [
            "Election Safety",
            "Leader Append-Only",
            "Log Matching",
            "Leader Completeness",
            "State Machine Safety",
            "One Change at a Time",
            "Committed Configuration Kept"
        ]
    );
}

// Negative test, Election Safety (§5.2): two leaders in one term.
#[test]
fn election_safety_reports_two_leaders_in_one_term() {
    let w = world_nodes(vec![RaftDurable::default(); 3]);
    let bad = feed(
        "Election Safety",
        &[
            (w.clone(), vec![note(0, RaftNote::BecameLeader { term: 3 })]),
            (w.clone(), vec![note(2, RaftNote::BecameLeader { term: 3 })]),
        ],
    );
    let msg = bad.expect_err("two leaders of term 3");
    assert!(msg.contains("S1") && msg.contains("S3") && msg.contains("term 3"), "{msg}");
    let ok = feed(
        "Election Safety",
        &[
            (w.clone(), vec![note(0, RaftNote::BecameLeader { term: 3 })]),
            (w, vec![note(2, RaftNote::BecameLeader { term: 4 })]),
        ],
    );
    assert_eq!(ok, Ok(()));
}

// Negative test, Leader Append-Only (§5.3): a leader deletes or overwrites
// its own entries.
#[test]
fn leader_append_only_reports_a_leader_rewriting_its_log() {
    let two = world_nodes(vec![durable(&[(1, 10), (1, 11)]), RaftDurable::default()]);
    let one = world_nodes(vec![durable(&[(1, 10)]), RaftDurable::default()]);
    let grow = vec![note(0, RaftNote::Appended { from: 1, to: 2 })];
    let msg = feed(
        "Leader Append-Only",
        &[
            (two.clone(), grow.clone()),
            (two.clone(), vec![note(0, RaftNote::BecameLeader { term: 2 })]),
            (one.clone(), vec![note(0, RaftNote::Truncated { from: 2 })]),
        ],
    )
    .expect_err("a leader truncated");
    assert!(msg.contains("leader of term 2") && msg.contains("index 2"), "{msg}");
    let msg = feed(
        "Leader Append-Only",
        &[
            (two.clone(), grow.clone()),
            (two.clone(), vec![note(0, RaftNote::BecameLeader { term: 2 })]),
            (two.clone(), vec![note(0, RaftNote::Appended { from: 2, to: 2 })]),
        ],
    )
    .expect_err("a leader overwrote");
    assert!(msg.contains("overwrote"), "{msg}");
    // The same truncation by a follower is legitimate.
    assert_eq!(
        feed("Leader Append-Only", &[(two, grow), (one, vec![note(0, RaftNote::Truncated { from: 2 })])]),
        Ok(())
    );
}

// Negative test, Log Matching (§5.3): two logs share an (index, term) but
// differ before it; and a log that changes without a note.
#[test]
fn log_matching_reports_equal_entries_with_different_prefixes() {
    let w = world_nodes(vec![durable(&[(1, 100), (3, 7)]), durable(&[(2, 200), (3, 7)])]);
    let msg = feed(
        "Log Matching",
        &[(w, vec![note(0, RaftNote::Appended { from: 1, to: 2 }), note(1, RaftNote::Appended { from: 1, to: 2 })])],
    )
    .expect_err("prefixes differ");
    assert!(msg.contains("index 2") && msg.contains("term 3"), "{msg}");
    let ok = world_nodes(vec![durable(&[(1, 100), (3, 7)]), durable(&[(1, 100), (3, 7), (3, 8)])]);
    assert_eq!(
        feed(
            "Log Matching",
            &[(
                ok.clone(),
                vec![note(0, RaftNote::Appended { from: 1, to: 2 }), note(1, RaftNote::Appended { from: 1, to: 3 })]
            )]
        ),
        Ok(())
    );
    let msg =
        feed("Log Matching", &[(ok, vec![note(0, RaftNote::Appended { from: 1, to: 1 })])]).expect_err("unnoted entry");
    assert!(msg.contains("without a note"), "{msg}");
}

// Negative test, Leader Completeness (§5.4): a server becomes leader of a
// later term without an entry committed earlier.
#[test]
fn leader_completeness_reports_a_leader_missing_a_committed_entry() {
    let w = world_nodes(vec![
        durable(&[(1, 100)]),
        durable(&[(1, 100)]),
        RaftDurable { term: 1, ..RaftDurable::default() },
    ]);
    let setup = vec![
        note(0, RaftNote::Appended { from: 1, to: 1 }),
        note(1, RaftNote::Appended { from: 1, to: 1 }),
        note(0, RaftNote::Committed { index: 1 }),
    ];
    let msg = feed(
        "Leader Completeness",
        &[(w.clone(), setup.clone()), (w.clone(), vec![note(2, RaftNote::BecameLeader { term: 2 })])],
    )
    .expect_err("S3 lacks the committed entry");
    assert!(msg.contains("S3") && msg.contains("term 2") && msg.contains("request #100"), "{msg}");
    assert_eq!(
        feed(
            "Leader Completeness",
            &[(w.clone(), setup.clone()), (w.clone(), vec![note(1, RaftNote::BecameLeader { term: 2 })])]
        ),
        Ok(())
    );
    // The other direction: an entry committed while a later leader lacks it.
    let msg =
        feed("Leader Completeness", &[(w.clone(), vec![note(2, RaftNote::BecameLeader { term: 1 })]), (w, setup)])
            .expect_err("S3 leads term 1 without the entry committed in term 1");
    assert!(msg.contains("does not hold it"), "{msg}");
}

// Negative test, State Machine Safety (§5.4.3): two servers apply different
// entries at one index, or a server deletes an entry it applied.
#[test]
fn state_machine_safety_reports_different_entries_applied_at_one_index() {
    let w = world_nodes(vec![durable(&[(1, 100)]), durable(&[(1, 200)])]);
    let msg = feed(
        "State Machine Safety",
        &[(w, vec![note(0, RaftNote::Committed { index: 1 }), note(1, RaftNote::Committed { index: 1 })])],
    )
    .expect_err("different entries applied");
    assert!(msg.contains("index 1") && msg.contains("#100") && msg.contains("#200"), "{msg}");
    let same = world_nodes(vec![durable(&[(1, 100)]), durable(&[(1, 100)])]);
    let both = vec![note(0, RaftNote::Committed { index: 1 }), note(1, RaftNote::Committed { index: 1 })];
    assert_eq!(feed("State Machine Safety", &[(same.clone(), both.clone())]), Ok(()));
    let msg =
        feed("State Machine Safety", &[(same.clone(), both), (same, vec![note(1, RaftNote::Truncated { from: 1 })])])
            .expect_err("deleted an applied entry");
    assert!(msg.contains("already applied"), "{msg}");
}

// State Machine Safety (§5.4.3, Figure 3: no server applies a different
// entry at an index where another applied one) can only compare what a
// server applied if its notes say so: the checker applies each server's
// committed entries itself and demands that the real state machine hold
// exactly that index and state (state_machine_safety.rs). S1 applied
// entries 1 and 2, as a follower told commit index 2 does; noting index 2
// committed is fine, but noting only index 1 leaves entry 2 applied
// without a note, beyond any comparison with the others, and that is
// reported.
#[test]
fn state_machine_safety_reports_a_state_machine_ahead_of_its_notes() {
    let mut w = world_nodes(vec![RaftDurable::default(); 3]);
    w[0].state = follower(0, 3, &[(1, 100), (1, 101)], 2);
    assert_eq!(w[0].state.state_machine().applied, 2);
    let committed = |index| vec![note(0, RaftNote::Committed { index })];
    assert_eq!(feed("State Machine Safety", &[(w.clone(), committed(2))]), Ok(()));
    let msg = feed("State Machine Safety", &[(w, committed(1))]).expect_err("S1 applied entry 2 without a note");
    assert!(msg.contains("the state machine of S1 is at index 2") && msg.contains("gives index 1"), "{msg}");
}

/// A follower with `log` that learned `commit` from a leader, built by
/// driving its handlers.
fn follower(id: NodeId, n: u32, log: &[(u64, u64)], commit: u64) -> RaftNode {
    let mut node = RaftNode::new(id, n, &RaftConfig::default());
    send_log(&mut node, n, log, commit);
    node
}

/// Delivers to `node`, one of `n` servers, an AppendEntries from the next
/// server as leader of the last entry's term: `log` from index 1, and
/// `commit`.
fn send_log(node: &mut RaftNode, n: u32, log: &[(u64, u64)], commit: u64) {
    let id = node.id();
    let mut rng = Rng::stream(1, StreamKind::Node, 0);
    let mut effects = Vec::new();
    let mut ctx = Ctx { id, nodes: n, now: 0, clock: 0, rng: &mut rng, effects: &mut effects };
    let entries: Vec<Entry> = log.iter().map(|&(term, command)| Entry::new(term, command)).collect();
    let term = log.last().map_or(1, |e| e.0);
    let msg = RaftMsg::AppendEntries {
        term,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: Arc::from(entries),
        leader_commit: commit,
    };
    node.on_message((id + 1) % n, msg, &mut ctx);
}

// Negative test, check_all: the from-scratch check finds diverging
// committed prefixes and Log Matching breaks that the incremental checkers
// would have had to note.
#[test]
fn check_all_reports_diverging_committed_prefixes_and_log_mismatches() {
    let mut nodes = world_nodes(vec![RaftDurable::default(); 3]);
    nodes[0].state = follower(0, 3, &[(1, 100), (1, 101)], 2);
    nodes[1].state = follower(1, 3, &[(1, 100), (1, 101)], 1);
    assert_eq!(check_all(&nodes), Ok(()));
    nodes[2].state = follower(2, 3, &[(1, 100), (2, 999)], 2);
    let msg = check_all(&nodes).expect_err("index 2 differs");
    assert!(msg.contains("State Machine Safety") && msg.contains("index 2"), "{msg}");
    nodes[2].state = follower(2, 3, &[(1, 555), (1, 101)], 0);
    let msg = check_all(&nodes).expect_err("Log Matching");
    assert!(msg.contains("Log Matching"), "{msg}");
}

// Negative test, check_all: each server on its own. Committing is
// applying (§5.3: "once a follower learns that a log entry is committed,
// it applies the entry to its local state machine"), so a server's state
// machine is what applying its log up to its commit index gives, and that
// index lies within its log.
// S1 committed and applied two entries of term 1; a leader of term 2
// that broke the rules then sends a log whose second entry differs, and S1
// replaces it (Figure 2, AppendEntries step 3, deletes a conflicting entry
// without asking whether it was committed): S1 has applied one entry at
// index 2 and its log holds another there, at the same commit index. Sent
// a single entry instead, S1 keeps commit index 3 with a log of one entry.
// S1 is the only server with a log, so only the check of each server
// alone can tell.
#[test]
fn check_all_reports_a_server_whose_state_machine_or_commit_index_left_its_log() {
    let mut nodes = world_nodes(vec![RaftDurable::default(); 3]);
    nodes[0].state = follower(0, 3, &[(1, 100), (1, 101)], 2);
    assert_eq!(check_all(&nodes), Ok(()));
    send_log(&mut nodes[0].state, 3, &[(1, 100), (2, 999)], 2);
    let s1 = &nodes[0].state;
    assert_eq!((s1.commit_index(), s1.state_machine().applied, s1.log()[1].command), (2, 2, 999));
    let msg = check_all(&nodes).expect_err("S1 applied request #101 at index 2, its log holds #999");
    assert!(msg.contains("the state machine of S1 (index 2) is not what applying its log"), "{msg}");

    nodes[0].state = follower(0, 3, &[(1, 100), (1, 101), (1, 102)], 3);
    assert_eq!(check_all(&nodes), Ok(()));
    send_log(&mut nodes[0].state, 3, &[(2, 999)], 3);
    assert_eq!((nodes[0].state.commit_index(), nodes[0].state.last_log_index()), (3, 1));
    let msg = check_all(&nodes).expect_err("S1's commit index is past the end of its log");
    assert!(msg.contains("S1 has commit index 3 outside its log"), "{msg}");
}

// Negative test, check_all: two servers leading one term break Election
// Safety (§5.2, "at most one leader can be elected in a given term"),
// which the from-scratch check must say, not only the incremental checker.
// A real leader's state, copied into a second slot of a world.
#[test]
fn check_all_reports_two_leaders_of_one_term() {
    let mut sim = cluster(3, 1);
    let l = wait_for_leader(&mut sim, 5 * SEC);
    let leader = state(&sim, l).clone();
    let msg = check_all_with(leader.clone(), leader);
    assert!(msg.contains("both lead term"), "{msg}");
}

/// `check_all` on a world of three: `first` alone in S1's slot passes, and
/// with `second` in S2's it fails; its message.
fn check_all_with(first: RaftNode, second: RaftNode) -> String {
    let mut nodes = world_nodes(vec![RaftDurable::default(); 3]);
    nodes[0].state = first;
    assert_eq!(check_all(&nodes), Ok(()), "S1 alone");
    nodes[1].state = second;
    check_all(&nodes).expect_err("with S2")
}

// Negative test, check_all: a leader of the highest term must hold the
// longest committed prefix (Leader Completeness, §5.4). S1's state is a
// follower's that committed two entries in term 1; S2's a leader of term 2,
// elected in another run, whose log holds none of them.
#[test]
fn check_all_reports_a_top_leader_without_committed_entries() {
    let mut a = cluster(3, 1);
    let l = wait_for_leader(&mut a, 5 * SEC);
    for _ in 0..2 {
        a.client_request(l);
    }
    run_for(&mut a, SEC);
    let follower = state(&a, (l + 1) % 3).clone();
    assert!(follower.commit_index() >= 2 && follower.term() == 1, "a follower that committed in term 1");
    let mut b = scripted(3, 2);
    force_leader(&mut b, 0);
    force_leader(&mut b, 1);
    let leader = state(&b, 1).clone();
    assert!(leader.term() >= 2 && leader.log().is_empty(), "a leader of a later term with an empty log");
    let msg = check_all_with(follower, leader);
    assert!(msg.contains("S2, leader of term") && msg.contains("lacks entries committed by S1"), "{msg}");
}

// A violation stops the run and is reported with the checker's name: a
// checker attached to a world that is already broken fails on its first
// look, through the simulator's own path.
#[test]
fn a_violation_stops_the_simulator_with_the_invariants_name() {
    let mut sim: Sim<RaftNode> =
        Sim::new(SimConfig { nodes: 3, seed: 1, ..SimConfig::default() }, RaftConfig::default());
    // A checker that believes S2 led term 1 before this run was attached.
    let mut es = checker("Election Safety");
    let w = world_nodes(vec![RaftDurable::default(); 3]);
    es.check(&World { now: 0, nodes: &w }, &[note(1, RaftNote::BecameLeader { term: 1 })]).expect("fine so far");
    sim.add_invariant(es);
    sim.force_timeout(0);
    sim.run_until(SEC);
    let v = sim.violation().expect("S1 leading term 1 breaks Election Safety for this checker");
    assert_eq!(v.invariant, "Election Safety");
    let stopped_at = sim.now();
    sim.run_until(2 * SEC);
    assert_eq!(sim.now(), stopped_at, "the run stays stopped");
}
