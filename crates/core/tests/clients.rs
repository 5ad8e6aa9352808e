//! The client workload backs off when no leader is known.
//!
//! Where the expectations come from: the issue "A client that hears 'not
//! leader, leader unknown' backs off instead of retrying every 20 ms without
//! a cap (with 300–800 ms latency and no leader this reached about 28,000
//! events a frame)", and the contract in `sim/client.rs`: a known leader is
//! tried at once; with none known the client backs off exponentially with
//! jitter from `backoff_min` doubling to `backoff_max`; only the node the
//! live attempt waits on may redirect it; only the newest attempt of a
//! request is live; every request is an operation in a history with its
//! invoke and completion times, and latencies feed percentiles. DESIGN.md:
//! "Clients are a shared component that records a history of operations".

use clusterscope_core::lab::cluster::{self, ClusterLab};
use clusterscope_core::lab::Lab;
use clusterscope_core::raft::{lab::raft_config, RaftNode};
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::client::{ClientStep, HISTORY};
use clusterscope_core::sim::{
    ClientConfig, Clients, Fault, NodeId, Operation, Outcome, Reply, RequestId, Rng, Sim, StreamKind, Time, TraceEvent,
    MS, SEC,
};
use proptest::prelude::*;

fn clients(config: ClientConfig, seed: u64) -> Clients {
    Clients::new(config, 5, Rng::stream(seed, StreamKind::Workload, 0))
}

/// The `Send` a step must be.
fn send(step: ClientStep) -> (NodeId, RequestId, u32, Time, bool) {
    match step {
        ClientStep::Send { node, req, attempt, after, fresh } => (node, req, attempt, after, fresh),
        ClientStep::Idle => panic!("expected the client to send, it is idle"),
    }
}

// ---------------------------------------------------------------------------
// The component on its own
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    // The issue and client.rs: "with none known the client backs off
    // exponentially with jitter (from backoff_min doubling to backoff_max)".
    // Each delay is drawn in the upper half of a window that doubles, so the
    // delays grow (never shrink while the window still doubles), reach the
    // cap's upper half and never exceed it; each retry goes to the next node.
    #[test]
    fn not_leader_leader_unknown_backs_off_doubling_to_the_cap(
        seed in any::<u64>(),
        min in 1u64..50_000,
        cap_factor in 1u64..200,
    ) {
        let max = min * cap_factor;
        let mut c = clients(ClientConfig { backoff_min: min, backoff_max: max, ..ClientConfig::default() }, seed);
        let mut now = 0;
        let (req, first) = c.invoke(now, 0);
        prop_assert_eq!(send(first), (0, req, 1, 0, true));
        let (mut waiting, mut last_after, mut last_window) = (0, 0, 0);
        for k in 0..30u32 {
            let (node, r, attempt, after, fresh) = send(c.answered(now, waiting, req, Reply::NotLeader(None)));
            prop_assert_eq!((r, attempt, fresh), (req, 1, false), "a back-off is a redirect of the same attempt");
            prop_assert_eq!(node, (waiting + 1) % 5, "the retry goes to the next node");
            let window = min.saturating_mul(1 << k.min(20)).min(max);
            prop_assert!(after <= max, "retry {} waits {} µs, more than backoff_max {}", k, after, max);
            prop_assert!(after >= window / 2 && after <= window, "retry {}: {} µs outside [{}, {}]", k, after, window / 2, window);
            if window == 2 * last_window {
                prop_assert!(after >= last_after, "retry {} waits {} µs, less than the {} before", k, after, last_after);
            }
            prop_assert!(c.is_live(req, 1) && c.is_pending(req));
            (waiting, last_after, last_window) = (node, after, window);
            now += after;
        }
        prop_assert!(last_after >= max / 2, "after 30 retries the back-off sits at the cap: {} of {}", last_after, max);
    }
}

// client.rs: "a known leader is tried at once". A hint redirects after
// `redirect_delay` and ends the back-off: the next 'leader unknown' starts
// again from the shortest window. A hint naming the answering node itself
// (or no node at all) is no hint, and backs off.
#[test]
fn a_leader_hint_is_tried_at_once_and_resets_the_back_off() {
    let config = ClientConfig::default();
    let mut c = clients(config.clone(), 7);
    let (req, _) = c.invoke(0, 0);
    let mut waiting = 0;
    for _ in 0..6 {
        waiting = send(c.answered(0, waiting, req, Reply::NotLeader(None))).0;
    }
    assert_eq!(waiting, 6 % 5);
    let (node, _, _, after, fresh) = send(c.answered(0, waiting, req, Reply::NotLeader(Some(3))));
    assert_eq!((node, after, fresh), (3, config.redirect_delay, false));
    assert_eq!(c.target(), 3, "new requests go to the hinted leader too");
    let (node, _, _, after, _) = send(c.answered(0, 3, req, Reply::NotLeader(None)));
    assert_eq!(node, 4);
    assert!(after <= config.backoff_min, "the back-off starts over after a hint: {after} µs");

    let (node, _, _, after, _) = send(c.answered(0, 4, req, Reply::NotLeader(Some(4))));
    assert_eq!(node, 0, "a node naming itself is not followed back to itself");
    assert!(after >= config.backoff_min, "it backs off: {after} µs");
    let (node, _, _, after, _) = send(c.answered(0, 0, req, Reply::NotLeader(Some(99))));
    assert_eq!(node, 1, "a hint outside the cluster is no hint");
    assert!(after >= 2 * config.backoff_min, "it backs off further: {after} µs");
}

// client.rs: "Only the node the live attempt waits on may redirect it", so
// late or duplicate answers from other nodes cannot start parallel retry
// chains. Such an answer is ignored and changes nothing.
#[test]
fn not_leader_from_a_node_not_awaited_is_ignored() {
    let mut c = clients(ClientConfig::default(), 3);
    let (req, _) = c.invoke(0, 2);
    assert_eq!(c.answered(0, 1, req, Reply::NotLeader(None)), ClientStep::Idle);
    assert_eq!(c.answered(0, 4, req, Reply::NotLeader(Some(0))), ClientStep::Idle);
    assert_eq!(c.answered(0, 2, req + 1, Reply::NotLeader(None)), ClientStep::Idle, "an unknown request");
    assert_eq!(c.target(), 0, "ignored answers do not move the clients");
    // The awaited node still redirects, from the shortest window: the
    // ignored answers did not count as back-offs.
    let (node, _, attempt, after, _) = send(c.answered(0, 2, req, Reply::NotLeader(None)));
    assert_eq!((node, attempt), (3, 1));
    assert!(after <= ClientConfig::default().backoff_min, "{after} µs");
    // Now node 2 is no longer awaited either.
    assert_eq!(c.answered(0, 2, req, Reply::NotLeader(None)), ClientStep::Idle);
}

// client.rs: "only the newest attempt of a request is live, so timeouts and
// redirects never multiply into parallel retry chains". A timeout of an
// older attempt, of an attempt that never was, or of a finished request
// does nothing; the node the old attempt waited on can no longer redirect.
#[test]
fn a_stale_timeout_does_nothing() {
    let mut c = clients(ClientConfig::default(), 5);
    let (req, _) = c.invoke(0, 0);
    let (node, r, attempt, after, fresh) = send(c.timed_out(0, req, 1));
    assert_eq!(
        (node, r, attempt, after, fresh),
        (1, req, 2, 0, true),
        "a timeout sends a fresh attempt to the next node"
    );
    assert!(!c.is_live(req, 1) && c.is_live(req, 2));
    assert_eq!(c.timed_out(0, req, 1), ClientStep::Idle, "attempt 1 is stale");
    assert_eq!(c.timed_out(0, req, 3), ClientStep::Idle, "attempt 3 was never sent");
    assert_eq!(c.answered(0, 0, req, Reply::NotLeader(None)), ClientStep::Idle, "node 0 waited on attempt 1 only");
    assert!(c.is_live(req, 2));
    assert_eq!(c.answered(10 * MS, 1, req, Reply::Committed), ClientStep::Idle);
    assert_eq!(c.timed_out(0, req, 2), ClientStep::Idle, "the request is finished");
    assert!(!c.is_pending(req) && !c.is_live(req, 2));
}

// client.rs and DESIGN.md ("Clients ... record a history of operations"):
// a commit records the operation with its invoke and completion times, the
// node and the attempts, feeds the latency percentiles, and counts once even
// if a retry is answered again.
#[test]
fn a_commit_is_recorded_in_the_history_with_its_latency() {
    let mut c = clients(ClientConfig::default(), 1);
    assert_eq!(c.latency_quantile(0.5), None, "nothing committed yet");
    let (req, _) = c.invoke(1_000, 0);
    let _ = c.timed_out(0, req, 1);
    assert_eq!(c.answered(5_000, 1, req, Reply::Committed), ClientStep::Idle);
    assert_eq!((c.committed, c.requests, c.outstanding()), (1, 1, 0));
    let ops: Vec<Operation> = c.history().finished().copied().collect();
    assert_eq!(
        ops,
        vec![Operation { req, invoked: 1_000, completed: Some((5_000, Outcome::Committed { node: 1 })), attempts: 2 }]
    );
    let p50 = c.latency_quantile(0.5).expect("one latency");
    assert!(p50.abs_diff(4_000) <= 4, "p50 {p50} µs, the one latency is 4000 µs");
    assert_eq!(c.answered(6_000, 0, req, Reply::Committed), ClientStep::Idle);
    assert_eq!(c.committed, 1, "a second answer to a finished request counts nothing");
    assert_eq!(c.history().finished().count(), 1);

    // Latencies of 1..=100 ms (and the 4 ms above): the percentiles are
    // where they should be, within a millisecond.
    for ms in 1..=100u64 {
        let now = 10 * SEC + ms * SEC;
        let (r, _) = c.invoke(now, 0);
        c.answered(now + ms * MS, 0, r, Reply::Committed);
    }
    let q = |q: f64| c.latency_quantile(q).expect("latencies") as f64;
    assert!((q(0.5) - 50_000.0).abs() <= 1_000.0, "p50 {}", q(0.5));
    assert!((q(0.99) - 99_000.0).abs() <= 1_000.0, "p99 {}", q(0.99));
    let last = c.history().finished().next_back().copied().expect("a finished operation");
    assert_eq!(last.completed.map(|(t, _)| t - last.invoked), Some(100 * MS));
}

// client.rs: "A bounded history": long runs keep the newest HISTORY
// operations, oldest first, and count the rest.
#[test]
fn the_history_keeps_the_newest_operations() {
    let mut c = clients(ClientConfig::default(), 1);
    let n = HISTORY as u64 + 100;
    for i in 0..n {
        let (r, _) = c.invoke(i, 0);
        c.answered(i + 1, 0, r, Reply::Committed);
    }
    assert_eq!(c.committed, n);
    let reqs: Vec<RequestId> = c.history().finished().map(|o| o.req).collect();
    assert_eq!(reqs.len(), HISTORY);
    assert_eq!(reqs.first(), Some(&101), "the oldest hundred were dropped");
    assert_eq!(reqs.last(), Some(&n));
}

// ---------------------------------------------------------------------------
// The component in a cluster with no leader
// ---------------------------------------------------------------------------

/// Every server alone: no majority, no leader, ever.
const LEADERLESS: &str = "lab raft\nseed 2\nnodes 5\nlatency_min 300ms\nlatency_max 800ms\nrequest_rate 200\nat 0s partition S1 | S2 | S3 | S4 | S5\n";

// The issue: with 300–800 ms latency and no leader, 20 ms retries without a
// cap made about 28,000 events a frame. With back-off the work in the 20th
// second stays a small multiple of the requests waiting (each is retried at
// most every few hundred milliseconds), far below the 50 retries a second
// per request that 20 ms retries would cost; and since a client gives a
// request up after `max_attempts` timeouts, the requests waiting stay
// bounded too (at most rate × attempts × timeout, plus a second's arrivals).
#[test]
fn a_leaderless_cluster_is_not_drowned_in_retries() {
    let run = |until: &str| {
        let scn = Scenario::parse(&format!("{LEADERLESS}until {until}\n")).expect("parses");
        Lab::replay(&scn).expect("replays")
    };
    let (before, mut after) = (run("19s"), run("20s"));
    let sim = after.model::<ClusterLab<RaftNode>>().expect("Raft runs on the cluster lab").sim();
    assert_eq!(sim.counters().committed, 0, "nothing can commit without a leader");
    let waiting = sim.outstanding_requests() as u64;
    let c = &sim.config().client;
    let bound = 200 * u64::from(c.max_attempts) * c.timeout / SEC + 200;
    assert!(waiting > 100 && waiting <= bound, "requests waiting: {waiting}, bound {bound}");
    assert!(sim.clients().gave_up > 2_000, "older requests were given up: {}", sim.clients().gave_up);
    let metrics = after.metrics();
    let leader = metrics.iter().find(|(m, _)| m.name == "leader").map(|(_, v)| *v);
    assert_eq!(leader, Some(0.0), "the scenario has no leader");

    let last_second = after.events() - before.events();
    let unbounded = waiting * 50;
    assert!(
        last_second <= waiting * 10,
        "{last_second} events in the 20th second for {waiting} waiting requests (20 ms retries: at least {unbounded})"
    );
    assert!(after.violation().is_none());
}

// The issue and client.rs, followed for one request: while no leader
// exists, one request reaches a server only every few hundred milliseconds
// once its back-off has grown (never every 20 ms), and when the partition
// heals it commits within a back-off and an election (its timeout is long
// enough that it does not give up before).
#[test]
fn one_request_backs_off_without_a_leader_and_commits_after_the_heal() {
    let scn = Scenario::parse("lab raft\nseed 4\nnodes 5\nrequest_rate 0\nclient_timeout 5s\n").expect("parses");
    let mut sim: Sim<RaftNode> = Sim::new(cluster::sim_config(&scn), raft_config(&scn));
    sim.inject(Fault::Partition((0..5).map(|n| vec![n]).collect()));
    sim.run_until(SEC);
    let req = sim.client_request(0).expect("a request");
    let mut reached: Vec<Time> = Vec::new();
    let heal_at = 10 * SEC;
    while sim.next_event_time().is_some_and(|t| t <= heal_at) && sim.step() {
        for ev in sim.last_events() {
            if let TraceEvent::Request { at, req: r, .. } = ev {
                if *r == req {
                    reached.push(*at);
                }
            }
        }
    }
    assert!(sim.violation().is_none());
    assert!(sim.clients().is_pending(req), "no leader, no commit");
    let late: Vec<Time> = reached.iter().copied().filter(|&t| t >= 3 * SEC).collect();
    assert!(late.len() >= 7, "the client keeps trying: {} attempts from 3 s to 10 s", late.len());
    assert!(late.len() <= 28, "{} attempts in 7 s (20 ms retries: 350)", late.len());
    let config = &sim.config().client;
    for w in late.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap <= config.backoff_max + config.timeout, "the client waited {gap} µs at {} µs", w[1]);
    }

    sim.inject(Fault::Heal);
    sim.run_until(heal_at + 3 * SEC);
    assert!(sim.violation().is_none());
    let op =
        sim.clients().history().finished().find(|o| o.req == req).copied().expect("the request commits after the heal");
    assert_eq!(op.invoked, SEC);
    let (done, _) = op.completed.expect("completed");
    assert!(done > heal_at && done <= heal_at + 2_500 * MS, "committed at {done} µs, heal at {heal_at} µs");
}

// Issue #13 ("requests outstanding at any time are bounded"): whatever the
// rate and the timeout, at most `max_outstanding` requests wait at once;
// arrivals beyond it are given up at once (and counted as shed).
#[test]
fn outstanding_requests_never_exceed_the_cap() {
    use clusterscope_core::raft::{RaftConfig, RaftNode};
    use clusterscope_core::sim::{ClientConfig, Sim, SimConfig, MS};
    let raft = RaftConfig { election_timeout_min: 100 * SEC, election_timeout_max: 200 * SEC, ..RaftConfig::default() };
    let client =
        ClientConfig { rate_per_sec: 100_000, timeout: 60 * SEC, max_outstanding: 1_000, ..ClientConfig::default() };
    let mut sim: Sim<RaftNode> = Sim::new(SimConfig { nodes: 3, client, ..SimConfig::default() }, raft);
    let mut most = 0;
    for k in 1..=20 {
        sim.run_until(k * 50 * MS);
        most = most.max(sim.outstanding_requests());
    }
    assert_eq!(most, 1_000, "the cap is reached and held");
    assert!(sim.clients().shed > 90_000, "arrivals beyond it are shed: {}", sim.clients().shed);
    assert_eq!(sim.clients().gave_up, sim.clients().shed);
}

// Found by the Raft swarm with spare servers: a client bounced between a
// server that never knows a leader (a spare) and one that has not become
// leader yet backs off ever longer; once its back-off outlasted the
// timeout, every timeout cancelled the backed-off retry and went back to
// the spare, for ever. Now a timeout sends the new attempt where the
// backed-off retry was going, and the request commits once S1 leads.
#[test]
fn a_backed_off_retry_is_not_lost_to_a_timeout() {
    use clusterscope_core::raft::{RaftConfig, RaftNode};
    use clusterscope_core::sim::{Fault, Sim, SimConfig};
    let raft = RaftConfig { members: 1, pre_vote: true, check_quorum: true, ..RaftConfig::default() };
    let mut sim: Sim<RaftNode> = Sim::new(SimConfig { nodes: 2, seed: 1, ..SimConfig::default() }, raft);
    sim.run_until(2 * SEC);
    for f in [Fault::Crash(0), Fault::Crash(1), Fault::Restart(0), Fault::Restart(1)] {
        sim.inject(f);
    }
    sim.client_request(1);
    sim.run_until(8 * SEC);
    assert_eq!(sim.counters().committed, 1, "the request reached the leader");
    assert_eq!(sim.outstanding_requests(), 0);
}
