//! What Multi-Paxos costs, and that it keeps deciding when messages are
//! lost: a stable leader's messages per slot, retransmission under loss,
//! and batching under load, each on `Sim<PaxosNode>` with the six checkers
//! of `paxos::invariants()` attached.
//!
//! Sources: "Paxos Made Moderately Complex" (van Renesse & Altinbuken,
//! 2015, "PMMC") §3 for Multi-Paxos with a stable leader (phase 1 once, then
//! phase 2 per slot); "Paxos Made Simple" (Lamport, 2001) §3 (a leader that
//! has run phase 1 "needs only send phase 2 messages" per command); RFC 6298
//! for the retransmission timer; Raft's `max_batch` for what a batch is.

use clusterscope_core::paxos::invariants::Choices;
use clusterscope_core::paxos::{self, PaxosConfig, PaxosMsg, PaxosNode, PaxosNote, Slot, Value};
use clusterscope_core::sim::{ClientConfig, Fault, NetConfig, Observable, Sim, SimConfig, Time, TraceEvent, SEC};
use std::collections::BTreeMap;

const WINDOW: usize = 1 << 22;

/// Multi-Paxos on `n` servers, every one a proposer and an acceptor.
fn multi(n: u32, max_batch: u32, pipeline: u32) -> PaxosConfig {
    PaxosConfig {
        proposers: n,
        acceptors: n,
        colocated: true,
        multi: true,
        max_batch,
        pipeline,
        ..PaxosConfig::default()
    }
}

fn build(cfg: PaxosConfig, seed: u64, net: NetConfig, rate: u64) -> Sim<PaxosNode> {
    let client = ClientConfig { rate_per_sec: rate, ..ClientConfig::default() };
    Sim::with_invariants(
        SimConfig { nodes: cfg.nodes(), seed, net, client, trace_window: WINDOW, ..SimConfig::default() },
        cfg,
        paxos::invariants(),
    )
}

fn run_to(sim: &mut Sim<PaxosNode>, t: Time) {
    sim.run_until(t);
    if let Some(v) = sim.violation() {
        panic!("{} violated at {} µs: {}", v.invariant, v.at, v.message);
    }
}

fn trace(sim: &Sim<PaxosNode>) -> Vec<TraceEvent<PaxosNode>> {
    let t = sim.trace();
    assert_eq!(t.total() as usize, t.window().len(), "the trace window must hold the whole run");
    t.window().cloned().collect()
}

/// What a majority of acceptors chose, per slot.
fn chosen(sim: &Sim<PaxosNode>) -> BTreeMap<Slot, Value> {
    let mut c = Choices::default();
    c.follow(sim.protocol_config().quorum(), &trace(sim));
    c.chosen.into_iter().map(|(s, (v, _))| (s, v)).collect()
}

fn sent_by_kind(sim: &Sim<PaxosNode>) -> BTreeMap<&'static str, u64> {
    let mut out = BTreeMap::new();
    for e in trace(sim) {
        if let TraceEvent::Sent { msg, .. } = e {
            *out.entry(msg.kind()).or_insert(0) += 1;
        }
    }
    out
}

fn count_notes(sim: &Sim<PaxosNode>, kind: &str) -> u64 {
    trace(sim).iter().filter(|e| matches!(e, TraceEvent::Note { note, .. } if note.kind() == kind)).count() as u64
}

// PMMC §3 and "Paxos Made Simple" §3: once a leader has run phase 1, each
// slot costs phase 2 only: an Accept to each other acceptor, its Accepted,
// and the decision to each other server (learners here are every server):
// 3(n-1) messages a slot. Beyond them a stable leader sends only its
// heartbeats, and phase 1 once (a Prepare to and a Promise from each other
// acceptor, 2(n-1)). On a lossless network no Accept is ever sent twice
// (its retransmission timer, RFC 6298, outlasts every round trip) and no
// learner has to fetch a decision. Three servers, 200 commands a second
// for 7 s, one command a slot, over more than 1,000 slots.
#[test]
fn a_stable_leader_on_a_lossless_network_costs_three_messages_per_slot_per_server_plus_heartbeats() {
    let n = 3u64;
    let mut sim = build(multi(3, 1, 0), 1, NetConfig::default(), 200);
    run_to(&mut sim, 7 * SEC);
    // Commands stop so that no slot is still on its way when counting.
    sim.inject(Fault::Set("request_rate".into(), 0));
    run_to(&mut sim, 8 * SEC);
    let decisions = chosen(&sim).len() as u64;
    assert!(decisions >= 1_000, "{decisions} slots decided");
    assert_eq!(count_notes(&sim, "BecameLeader"), 1, "one stable leader");
    let rounds = count_notes(&sim, "RoundStarted");
    let by_kind = sent_by_kind(&sim);
    let sent: u64 = by_kind.values().sum();
    let heartbeats = by_kind.get("Heartbeat").copied().unwrap_or(0);
    let bound = 3 * (n - 1) * decisions + heartbeats + 2 * (n - 1) * rounds;
    assert!(
        sent <= bound,
        "{sent} messages for {decisions} slots, {heartbeats} heartbeats, {rounds} rounds: over {bound}; {by_kind:?}"
    );
    let per_decision = (sent - heartbeats) as f64 / decisions as f64;
    assert!(per_decision <= 3.0 * (n - 1) as f64 + 0.01, "{per_decision} messages per decision beside heartbeats");
}

// "Paxos Made Simple" §2.1 assumes messages "can take arbitrarily long to be
// delivered, can be duplicated, and can be lost"; PMMC §3: every slot a
// leader proposes is decided while it leads, and replicas perform every
// decided slot in order. With 10% of messages lost (and some duplicated)
// and no other fault, a leader must still have every slot it proposed
// decided, and every server learn and apply all of them, by resending an
// Accept when its retransmission timeout expires (RFC 6298 §5) and by
// learners fetching what they missed.
#[test]
fn with_loss_every_slot_is_still_decided_and_learned_by_every_server() {
    for seed in 1..=4u64 {
        let net = NetConfig { loss_ppm: 100_000, dup_ppm: 20_000, ..NetConfig::default() };
        let mut sim = build(multi(3, 1, 0), seed, net, 100);
        run_to(&mut sim, 4 * SEC);
        // New commands stop; the loss does not.
        sim.inject(Fault::Set("request_rate".into(), 0));
        run_to(&mut sim, 8 * SEC);
        let c = chosen(&sim);
        assert!(c.len() >= 200, "seed {seed}: {} slots decided", c.len());
        let top = *c.keys().next_back().expect("slots");
        assert_eq!(c.len() as u64, top + 1, "seed {seed}: every slot below {top} decided");
        for node in sim.nodes() {
            assert_eq!(node.state.applied(), top + 1, "seed {seed}: S{} applied every slot", node.state.id() + 1);
            for (s, v) in &c {
                assert_eq!(node.state.learned().get(s), Some(v), "seed {seed}: S{} slot {s}", node.state.id() + 1);
            }
        }
        let by_kind = sent_by_kind(&sim);
        let accepts = by_kind.get("Accept").copied().unwrap_or(0);
        assert!(accepts > 2 * c.len() as u64, "seed {seed}: lost Accepts were sent again ({accepts})");
    }
}

// Batching as Raft's `max_batch` does for entries in one AppendEntries:
// commands that wait at the leader share a slot, up to `max_batch`. With
// at most two slots in phase 2 at once (`pipeline 2`) and 1,000 commands a
// second on three servers, commands wait for the pipeline, so slots carry
// more than one command each, never more than `max_batch`, the pipeline is
// never exceeded, every checker holds, and every command committed is in
// exactly one chosen slot.
#[test]
fn with_batching_under_load_a_slot_carries_several_commands_and_the_checkers_hold() {
    let (max_batch, pipeline) = (16u32, 2u32);
    let mut sim = build(multi(3, max_batch, pipeline), 7, NetConfig::default(), 1_000);
    run_to(&mut sim, 4 * SEC);
    let c = chosen(&sim);
    let commands: usize = c.values().map(|v| v.requests().len()).sum();
    let per_slot = commands as f64 / c.len() as f64;
    assert!(c.len() >= 50, "{} slots", c.len());
    assert!(per_slot > 1.0, "{per_slot} commands per slot");
    assert!(c.values().all(|v| v.requests().len() <= max_batch as usize), "a slot over max_batch");
    let mut seen = std::collections::BTreeSet::new();
    for r in c.values().flat_map(|v| v.requests().iter()) {
        assert!(seen.insert(*r), "command #{r} chosen in two slots");
    }
    // The leader's open slots: Phase2 opens one, Chosen closes it.
    let mut open = std::collections::BTreeSet::new();
    for e in trace(&sim) {
        match e {
            TraceEvent::Note { note: PaxosNote::Phase2 { slot, .. }, .. } => {
                open.insert(slot);
                assert!(open.len() <= pipeline as usize, "{} slots in flight", open.len());
            }
            TraceEvent::Note { note: PaxosNote::Chosen { slot, .. }, .. } => {
                open.remove(&slot);
            }
            _ => {}
        }
    }
    assert!(sim.violation().is_none());
    assert!(sim.counters().committed as usize >= commands / 2, "commands were committed");
}

// RFC 6298 §5 with PMMC §3: an Accept on its way is not sent again at the
// next heartbeat. A leader's heartbeat timer sends heartbeats only; the
// trace of a lossless run has no Accept sent twice for one slot and
// acceptor.
#[test]
fn no_accept_is_sent_twice_to_one_acceptor_on_a_lossless_network() {
    let mut sim = build(multi(5, 1, 0), 3, NetConfig::default(), 300);
    run_to(&mut sim, 3 * SEC);
    let mut sent = std::collections::BTreeSet::new();
    for e in trace(&sim) {
        if let TraceEvent::Sent { to, msg: PaxosMsg::Accept { slot, ballot, .. }, .. } = e {
            assert!(sent.insert((to, slot, ballot)), "slot {slot} sent twice to S{}", to + 1);
        }
    }
    assert!(sent.len() > 1_000);
}
