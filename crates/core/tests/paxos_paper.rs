//! One test per rule of Paxos, in the manner of `raft_paper.rs`: each test
//! drives a `PaxosNode` directly through its handlers with a hand-made `Ctx`
//! and checks the effects it pushes (messages, timers, notes, replies). No
//! simulator is involved, so every message is explicit.
//!
//! Sources: Lamport, "Paxos Made Simple" (2001), §2.1–§2.4 for Basic Paxos
//! (single-decree), and van Renesse & Altinbuken, "Paxos Made Moderately
//! Complex" (2015, "PMMC") for Multi-Paxos. Each test opens with the rule it
//! checks and where its expectation comes from. The last tests feed each of
//! the six checkers of `paxos::invariants()` a hand-made violating note
//! sequence, and a harmless one.

use clusterscope_core::paxos::{
    self, Ballot, PaxosConfig, PaxosDurable, PaxosMsg, PaxosNode, PaxosNote, PaxosTimer, Slot, Value,
};
use clusterscope_core::sim::{
    Fault, Invariant, Node, NodeId, Protocol, Reply, Sim, SimConfig, Time, TraceEvent, World, MS,
};
use std::collections::BTreeMap;
use std::sync::Arc;

// ----- a tiny harness (tests/hand) -----

mod hand;
use hand::{cancelled, notes, replies, sends, timers_set};

/// A Paxos server driven by hand.
type T = hand::Hand<PaxosNode>;
type Effects = hand::Effects<PaxosNode>;

impl T {
    fn new(id: NodeId, cfg: &PaxosConfig) -> T {
        T::recover(id, cfg, PaxosDurable::default())
    }
    fn recover(id: NodeId, cfg: &PaxosConfig, durable: PaxosDurable) -> T {
        T::recovered(id, cfg.nodes(), cfg.clone(), durable)
    }
}

fn ballot(round: u64, proposer: NodeId) -> Ballot {
    Ballot { round, proposer }
}

fn sends_of(e: &Effects, kind: &str) -> Vec<(NodeId, PaxosMsg)> {
    use clusterscope_core::sim::Observable;
    sends(e).into_iter().filter(|(_, m)| m.kind() == kind).collect()
}

fn promise(b: Ballot, accepted: &[(Slot, Ballot, Value)]) -> PaxosMsg {
    PaxosMsg::Promise { ballot: b, accepted: Arc::from(accepted.to_vec()) }
}

/// One proposer (S1) and five acceptors (S2..S6) on separate servers, so
/// every message a proposer sends to an acceptor is an explicit `Send`.
fn separate(acceptors: u32) -> PaxosConfig {
    PaxosConfig { proposers: 1, acceptors, colocated: false, ..PaxosConfig::default() }
}

/// Multi-Paxos with two proposers (S1, S2) and three acceptors (S3..S5).
fn multi() -> PaxosConfig {
    PaxosConfig { proposers: 2, acceptors: 3, colocated: false, multi: true, ..PaxosConfig::default() }
}

/// An acceptor that has promised `promised` and accepted `accepted`.
fn acceptor(id: NodeId, cfg: &PaxosConfig, promised: Ballot, accepted: &[(Slot, Ballot, Value)]) -> T {
    let accepted: BTreeMap<Slot, (Ballot, Value)> = accepted.iter().map(|(s, b, v)| (*s, (*b, v.clone()))).collect();
    T::recover(id, cfg, PaxosDurable { promised, accepted, max_round: promised.round })
}

/// A proposer that has started phase 1 (its Round timer fired); returns
/// the ballot it prepares with.
fn preparing(t: &mut T) -> (Ballot, Effects) {
    let e = t.timer(PaxosTimer::Round);
    assert!(t.node.is_preparing(), "the Round timer starts phase 1");
    (t.node.ballot(), e)
}

/// The single `Phase2` note in `e`: (ballot, slot, value, reported).
fn phase2(e: &Effects) -> Vec<(Ballot, Slot, Value, Option<Value>)> {
    notes(e)
        .into_iter()
        .filter_map(|n| match n {
            PaxosNote::Phase2 { ballot, slot, value, reported } => Some((ballot, slot, value, reported)),
            _ => None,
        })
        .collect()
}

// ----- §2.2, phase 1: prepare and promise -----

// "Paxos Made Simple" §2.2, phase 1(b): "If an acceptor receives a prepare
// request with number n greater than that of any prepare request to which it
// has already responded, then it responds to the request with a promise not
// to accept any more proposals numbered less than n and with the
// highest-numbered proposal (if any) that it has accepted." The promise is
// stable storage, and reports (slot, ballot, value); PMMC's p1b reports every
// slot from the one asked.
#[test]
fn s2_2_an_acceptor_promises_a_higher_ballot_and_reports_what_it_accepted() {
    let cfg = separate(5);
    let old = ballot(2, 0);
    let mut a = acceptor(3, &cfg, old, &[(0, old, Value::Own(0))]);
    let b = ballot(3, 0);
    let e = a.msg(0, PaxosMsg::Prepare { ballot: b, from_slot: 0 });
    assert_eq!(sends(&e), vec![(0, promise(b, &[(0, old, Value::Own(0))]))]);
    assert_eq!(notes(&e), vec![PaxosNote::Promised { ballot: b, before: old }]);
    assert_eq!(a.node.promised(), b);
    assert_eq!(a.node.durable().promised, b, "the promise is on stable storage");
    assert_eq!(a.node.accepted().get(&0), Some(&(old, Value::Own(0))), "a promise changes nothing accepted");

    // A fresh acceptor has nothing to report.
    let mut fresh = T::new(4, &cfg);
    let e = fresh.msg(0, PaxosMsg::Prepare { ballot: b, from_slot: 0 });
    assert_eq!(sends(&e), vec![(0, promise(b, &[]))]);
    assert_eq!(notes(&e), vec![PaxosNote::Promised { ballot: b, before: Ballot::default() }]);

    // PMMC: the report covers the slots from the one asked, each with the
    // ballot it was accepted at.
    let mcfg = multi();
    let mut m = acceptor(
        2,
        &mcfg,
        ballot(4, 1),
        &[(0, ballot(1, 0), Value::Request(10)), (2, ballot(3, 1), Value::Request(12)), (5, ballot(4, 1), Value::Noop)],
    );
    let e = m.msg(0, PaxosMsg::Prepare { ballot: ballot(5, 0), from_slot: 2 });
    assert_eq!(
        sends(&e),
        vec![(0, promise(ballot(5, 0), &[(2, ballot(3, 1), Value::Request(12)), (5, ballot(4, 1), Value::Noop)]))]
    );
}

// §2.2, phase 1(b) read the other way: an acceptor does not respond with a
// promise to a prepare numbered below one it promised. This implementation
// answers with a rejection naming the ballot that beat it, so the proposer
// learns a higher number (the optimisation §2.2 suggests: "the acceptor
// should inform the proposer, who should then abandon its proposal").
#[test]
fn s2_2_an_acceptor_rejects_a_lower_prepare_with_the_ballot_that_beat_it() {
    let cfg = separate(3);
    let high = ballot(5, 0);
    let mut a = acceptor(1, &cfg, high, &[]);
    let low = ballot(4, 0);
    let e = a.msg(0, PaxosMsg::Prepare { ballot: low, from_slot: 0 });
    assert_eq!(sends(&e), vec![(0, PaxosMsg::Reject { ballot: low, promised: high })]);
    assert!(notes(&e).is_empty(), "no promise was made");
    assert_eq!(a.node.promised(), high, "the promise stands");

    // The same round from a lower-numbered proposer is a lower ballot too:
    // ballots are ordered by round, then by proposer.
    let mut a = acceptor(2, &PaxosConfig { proposers: 2, ..cfg.clone() }, ballot(5, 1), &[]);
    let e = a.msg(0, PaxosMsg::Prepare { ballot: ballot(5, 0), from_slot: 0 });
    assert_eq!(sends(&e), vec![(0, PaxosMsg::Reject { ballot: ballot(5, 0), promised: ballot(5, 1) })]);

    // A duplicate of the prepare it promised is answered again (the network
    // duplicates), without a second promise note.
    let mut a = acceptor(1, &cfg, high, &[]);
    let e = a.msg(0, PaxosMsg::Prepare { ballot: high, from_slot: 0 });
    assert_eq!(sends(&e), vec![(0, promise(high, &[]))]);
    assert!(notes(&e).is_empty());
}

// §2.2, P1a: "An acceptor can accept a proposal numbered n iff it has not
// responded to a prepare request having a number greater than n." So an
// accept at the promised ballot or above is accepted (and raises the
// promise), one below is refused with the ballot that beat it.
#[test]
fn s2_2_p1a_an_acceptor_accepts_at_or_above_its_promise_and_refuses_below() {
    let cfg = PaxosConfig { proposers: 2, acceptors: 3, colocated: false, ..PaxosConfig::default() };
    let p = ballot(3, 0);
    let mut a = acceptor(2, &cfg, p, &[]);

    let e = a.msg(0, PaxosMsg::Accept { ballot: p, slot: 0, value: Value::Own(0) });
    assert_eq!(sends(&e), vec![(0, PaxosMsg::Accepted { ballot: p, slot: 0 })]);
    assert_eq!(notes(&e), vec![PaxosNote::AcceptedValue { slot: 0, ballot: p, value: Value::Own(0), promised: p }]);
    assert_eq!(a.node.accepted().get(&0), Some(&(p, Value::Own(0))));

    // A higher ballot needs no prepare first: it is accepted and becomes the promise.
    let hi = ballot(5, 1);
    let e = a.msg(1, PaxosMsg::Accept { ballot: hi, slot: 0, value: Value::Own(1) });
    assert_eq!(sends(&e), vec![(1, PaxosMsg::Accepted { ballot: hi, slot: 0 })]);
    assert_eq!(notes(&e), vec![PaxosNote::AcceptedValue { slot: 0, ballot: hi, value: Value::Own(1), promised: p }]);
    assert_eq!(a.node.promised(), hi);

    // Below the promise: refused, nothing changes.
    let lo = ballot(4, 0);
    let e = a.msg(0, PaxosMsg::Accept { ballot: lo, slot: 0, value: Value::Own(0) });
    assert_eq!(sends(&e), vec![(0, PaxosMsg::Reject { ballot: lo, promised: hi })]);
    assert!(notes(&e).is_empty());
    assert_eq!(a.node.accepted().get(&0), Some(&(hi, Value::Own(1))));
    assert_eq!(a.node.durable().accepted.get(&0), Some(&(hi, Value::Own(1))), "accepted values are durable");

    // A duplicate accept is acknowledged again without a second note.
    let e = a.msg(1, PaxosMsg::Accept { ballot: hi, slot: 0, value: Value::Own(1) });
    assert_eq!(sends(&e), vec![(1, PaxosMsg::Accepted { ballot: hi, slot: 0 })]);
    assert!(notes(&e).is_empty());
}

// A server that is no acceptor ignores prepares and accepts (roles, §2.1:
// "the three roles"): a proposer-only server must not answer as acceptor.
#[test]
fn s2_1_a_server_that_is_not_an_acceptor_ignores_phase_1a_and_2a() {
    let cfg = separate(3);
    let mut p = T::new(0, &cfg);
    assert!(p.msg(1, PaxosMsg::Prepare { ballot: ballot(9, 1), from_slot: 0 }).is_empty());
    assert!(p.msg(1, PaxosMsg::Accept { ballot: ballot(9, 1), slot: 0, value: Value::Own(1) }).is_empty());
    assert!(p.node.accepted().is_empty());
}

// ----- §2.2, the proposer -----

// §2.2, phase 1(a): "A proposer selects a proposal number n and sends a
// prepare request with number n to a majority of acceptors" (here: to all,
// as most implementations do). A single-decree proposer proposes its own
// value (§2.1) and starts after a random delay.
#[test]
fn s2_2_a_proposer_starts_phase_1_by_preparing_with_every_acceptor() {
    let cfg = separate(5);
    let mut p = T::new(0, &cfg);
    let e = p.start();
    assert_eq!(notes(&e), vec![PaxosNote::Proposed { value: Value::Own(0) }]);
    let t = timers_set(&e);
    assert_eq!(t.len(), 1);
    assert!(t[0].0 == PaxosTimer::Round && t[0].1 <= cfg.start_spread, "{t:?}");
    assert!(sends(&e).is_empty(), "nothing is sent before the round starts");

    let (b, e) = preparing(&mut p);
    assert_eq!(b, ballot(1, 0));
    assert_eq!(notes(&e), vec![PaxosNote::RoundStarted { ballot: b }]);
    let to: Vec<NodeId> = sends(&e).iter().map(|(to, _)| *to).collect();
    assert_eq!(to, vec![1, 2, 3, 4, 5]);
    assert!(sends(&e).iter().all(|(_, m)| *m == PaxosMsg::Prepare { ballot: b, from_slot: 0 }));
    // A lost message must not stall it: the Round timer is re-armed.
    assert!(timers_set(&e).iter().any(|(t, _)| *t == PaxosTimer::Round));

    // An acceptor that is not the proposer's server gets a message; a
    // colocated proposer promises to itself on the spot.
    let col = PaxosConfig { proposers: 1, acceptors: 3, ..PaxosConfig::default() };
    let mut c = T::new(0, &col);
    let e = c.timer(PaxosTimer::Round);
    let to: Vec<NodeId> = sends(&e).iter().map(|(to, _)| *to).collect();
    assert_eq!(to, vec![1, 2], "no message to itself");
    assert!(notes(&e).contains(&PaxosNote::Promised { ballot: ballot(1, 0), before: Ballot::default() }));
    assert_eq!(c.node.promised(), ballot(1, 0));
}

// §2.2, P2c, phase 2(a): "If the proposer receives a response to its
// prepare requests (numbered n) from a majority of acceptors, then it sends
// an accept request ... with a value v, where v is the value of the
// highest-numbered proposal among the responses, or is any value if the
// responses reported no proposals." Fewer than a majority is not enough,
// and one acceptor's promise counts once however often it arrives.
#[test]
fn s2_2_p2c_a_proposer_with_a_majority_proposes_the_highest_ballot_value_reported() {
    let cfg = separate(5); // quorum 3 of S2..S6
    let mut p = T::recover(0, &cfg, PaxosDurable { max_round: 10, ..PaxosDurable::default() });
    p.start();
    let (b, _) = preparing(&mut p);
    assert_eq!(b, ballot(11, 0));

    let e = p.msg(1, promise(b, &[(0, ballot(4, 2), Value::Own(2))]));
    assert!(sends(&e).is_empty());
    let e = p.msg(2, promise(b, &[(0, ballot(7, 3), Value::Own(3))]));
    assert!(sends(&e).is_empty(), "two of five is not a majority");
    let e = p.msg(2, promise(b, &[(0, ballot(7, 3), Value::Own(3))]));
    assert!(sends(&e).is_empty(), "a duplicate promise counts once");
    // A promise for another ballot does not count.
    let e = p.msg(3, promise(ballot(10, 0), &[]));
    assert!(sends(&e).is_empty(), "a promise for an old ballot does not count");
    assert!(p.node.is_preparing());

    let e = p.msg(4, promise(b, &[(0, ballot(5, 1), Value::Own(1))]));
    assert!(notes(&e).contains(&PaxosNote::Prepared { ballot: b }));
    assert_eq!(phase2(&e), vec![(b, 0, Value::Own(3), Some(Value::Own(3)))], "the value of ballot 7, the highest");
    let accepts = sends_of(&e, "Accept");
    assert_eq!(accepts.len(), 5);
    assert!(accepts.iter().all(|(_, m)| *m == PaxosMsg::Accept { ballot: b, slot: 0, value: Value::Own(3) }));
    assert!(p.node.is_leading());
}

// §2.2, P2c, second half: when no promise reports an accepted value, the
// proposer is free to propose its own.
#[test]
fn s2_2_p2c_a_proposer_proposes_its_own_value_when_none_was_reported() {
    let cfg = separate(3);
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    p.msg(1, promise(b, &[]));
    let e = p.msg(3, promise(b, &[]));
    assert_eq!(phase2(&e), vec![(b, 0, Value::Own(0), None)]);
    assert_eq!(sends_of(&e, "Accept").len(), 3);
}

// The deliberate bug (`bug_ignore_promises`) breaks P2c on purpose: the
// proposer proposes its own value although phase 1 reported another. Its
// Phase2 note says so, which is what the "Proposer Adopts Reported Value"
// checker catches (shown here on the very note the node produced).
#[test]
fn s2_2_p2c_with_the_deliberate_bug_a_proposer_ignores_reported_values() {
    let cfg = PaxosConfig { bug_ignore_promises: true, ..separate(3) };
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    p.msg(1, promise(b, &[(0, ballot(1, 1), Value::Own(1))]));
    let e = p.msg(2, promise(b, &[]));
    let ph = phase2(&e);
    assert_eq!(ph, vec![(b, 0, Value::Own(0), Some(Value::Own(1)))]);
    assert!(sends_of(&e, "Accept").iter().all(|(_, m)| matches!(m, PaxosMsg::Accept { value: Value::Own(0), .. })));

    let events: Vec<TraceEvent<PaxosNode>> =
        notes(&e).into_iter().map(|note| TraceEvent::Note { at: 0, node: 0, note }).collect();
    let err = feed("Proposer Adopts Reported Value", &cfg, &[events]).expect_err("the checker catches it");
    assert!(err.contains("S1 proposed v(S1)") && err.contains("reported v(S2)"), "{err}");
}

// §2.2 / §2.3: a value is chosen when a majority of acceptors has accepted
// it (with one ballot); the proposer that sees this tells the learners
// ("have each acceptor ... respond to some set of distinguished learners";
// here the proposer sends a Decide to every server, itself included).
// Acknowledgements for another ballot, or repeated ones, do not count.
#[test]
fn s2_3_a_value_accepted_by_a_majority_is_chosen_and_announced_to_every_server() {
    let cfg = separate(5);
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    for a in 1..=3 {
        p.msg(a, promise(b, &[]));
    }
    assert!(p.node.is_leading());
    let e = p.msg(1, PaxosMsg::Accepted { ballot: b, slot: 0 });
    assert!(notes(&e).is_empty());
    let e = p.msg(1, PaxosMsg::Accepted { ballot: b, slot: 0 });
    assert!(notes(&e).is_empty(), "a duplicate acknowledgement counts once");
    let e = p.msg(2, PaxosMsg::Accepted { ballot: ballot(0, 0), slot: 0 });
    assert!(notes(&e).is_empty(), "an acknowledgement of another ballot does not count");
    let e = p.msg(2, PaxosMsg::Accepted { ballot: b, slot: 0 });
    assert!(notes(&e).is_empty(), "two of five");
    let e = p.msg(4, PaxosMsg::Accepted { ballot: b, slot: 0 });
    let n = notes(&e);
    assert_eq!(n[0], PaxosNote::Chosen { slot: 0, value: Value::Own(0) });
    let decides = sends_of(&e, "Decide");
    let to: Vec<NodeId> = decides.iter().map(|(to, _)| *to).collect();
    assert_eq!(to, vec![1, 2, 3, 4, 5], "a Decide to every other server");
    assert!(decides.iter().all(|(_, m)| *m == PaxosMsg::Decide { slot: 0, value: Value::Own(0) }));
    assert!(n.contains(&PaxosNote::Learned { slot: 0, value: Value::Own(0) }), "and it learns itself");
    assert!(n.contains(&PaxosNote::Applied { slot: 0 }));
    assert_eq!(p.node.learned().get(&0), Some(&Value::Own(0)));
    // It keeps announcing the decision, for learners cut off meanwhile.
    assert!(timers_set(&e).iter().any(|(t, _)| *t == PaxosTimer::Heartbeat));
    assert!(cancelled(&e, PaxosTimer::Round), "a decided proposer stops starting rounds");
    // A late acknowledgement changes nothing.
    let e = p.msg(5, PaxosMsg::Accepted { ballot: b, slot: 0 });
    assert!(e.is_empty(), "{e:?}");
    // A decided proposer's Round timer starts nothing.
    assert!(sends(&p.timer(PaxosTimer::Round)).is_empty());
    // A client asking the decided instance is answered at once.
    assert_eq!(replies(&p.request(77)), vec![(77, Reply::Committed)]);
}

// A proposer that is also an acceptor (the usual deployment, §2.1: "a single
// process may act as more than one agent") counts its own promise and its
// own acceptance: with three acceptors one more of each is a majority.
#[test]
fn s2_1_a_colocated_proposer_counts_its_own_promise_and_acceptance() {
    let cfg = PaxosConfig { proposers: 1, acceptors: 3, ..PaxosConfig::default() };
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    let e = p.msg(2, promise(b, &[]));
    assert_eq!(phase2(&e), vec![(b, 0, Value::Own(0), None)]);
    assert!(notes(&e).contains(&PaxosNote::AcceptedValue { slot: 0, ballot: b, value: Value::Own(0), promised: b }));
    assert_eq!(sends_of(&e, "Accept").len(), 2);
    let e = p.msg(1, PaxosMsg::Accepted { ballot: b, slot: 0 });
    assert!(notes(&e).contains(&PaxosNote::Chosen { slot: 0, value: Value::Own(0) }));
    assert_eq!(sends_of(&e, "Decide").len(), 2);
}

// §2.2 (and §2.4 on progress): "the acceptor should inform the proposer
// [of a higher number], who should then abandon its proposal". Here the
// Reject carries the higher ballot; the proposer gives its round up and
// retries after a randomized back-off drawn from [backoff_min,
// backoff_max] (the remedy §2.4 gives for dueling proposers: "a randomized
// ... timeout"). Its next ballot is above the one that beat it.
#[test]
fn s2_4_a_rejected_proposer_gives_up_and_retries_after_a_random_back_off() {
    let cfg = PaxosConfig { backoff_min: 10 * MS, backoff_max: 100 * MS, ..separate(3) };
    let mut waits = Vec::new();
    for seed in 0..40 {
        let mut p = T::new(0, &cfg).with_seed(seed);
        p.start();
        let (b, _) = preparing(&mut p);
        // A reject for another ballot is stale and ignored.
        let e = p.msg(1, PaxosMsg::Reject { ballot: ballot(0, 0), promised: ballot(7, 1) });
        assert!(e.is_empty() && p.node.is_preparing());
        let by = ballot(12, 1);
        let e = p.msg(2, PaxosMsg::Reject { ballot: b, promised: by });
        assert_eq!(notes(&e), vec![PaxosNote::RoundLost { ballot: b, by }]);
        assert!(!p.node.is_preparing() && !p.node.is_leading(), "the round is given up");
        let t = timers_set(&e);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].0, PaxosTimer::Round);
        assert!((10 * MS..=100 * MS).contains(&t[0].1), "back-off {} outside [10ms, 100ms]", t[0].1);
        waits.push(t[0].1);
        // Promises for the abandoned round no longer count.
        for a in 1..=3 {
            assert!(sends(&p.msg(a, promise(b, &[]))).is_empty());
        }
        let (next, _) = preparing(&mut p);
        assert!(next > by, "the retry {next:?} must beat {by:?}");
        assert_eq!(next, ballot(13, 0));
    }
    waits.sort();
    waits.dedup();
    assert!(waits.len() > 10, "the back-off is randomized: {waits:?}");

    // Without back-off (0, 0) the retry is immediate: the livelock of §2.4.
    let cfg = PaxosConfig { backoff_min: 0, backoff_max: 0, ..separate(3) };
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    let e = p.msg(1, PaxosMsg::Reject { ballot: b, promised: ballot(2, 1) });
    assert_eq!(timers_set(&e), vec![(PaxosTimer::Round, 0)]);
}

// A rejection of the accept (phase 2) ends the round as well: §2.2, P1a on
// the acceptor's side means the proposer's ballot can no longer gather a
// majority.
#[test]
fn s2_4_a_rejected_accept_also_gives_the_round_up() {
    let cfg = separate(3);
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    p.msg(1, promise(b, &[]));
    p.msg(2, promise(b, &[]));
    assert!(p.node.is_leading());
    let e = p.msg(3, PaxosMsg::Reject { ballot: b, promised: ballot(4, 0) });
    assert!(notes(&e).contains(&PaxosNote::RoundLost { ballot: b, by: ballot(4, 0) }));
    assert!(!p.node.is_leading());
    // Acknowledgements of the abandoned phase 2 no longer choose anything.
    assert!(notes(&p.msg(1, PaxosMsg::Accepted { ballot: b, slot: 0 })).is_empty());
    assert!(notes(&p.msg(2, PaxosMsg::Accepted { ballot: b, slot: 0 })).is_empty());
}

// §2.2: "Different proposals have different numbers", and a proposer's
// numbers increase ("a proposer ... chooses a new proposal number larger
// than any it has used"). Ballots are (round, proposer): unique across
// proposers, ordered by round first.
#[test]
fn s2_2_ballots_are_unique_and_increase() {
    assert!(ballot(1, 5) < ballot(2, 0), "round first");
    assert!(ballot(2, 0) < ballot(2, 1), "then proposer");
    assert!(Ballot::default() < ballot(1, 0), "round 0 is below every real ballot");

    let cfg = PaxosConfig { proposers: 3, acceptors: 3, colocated: false, ..PaxosConfig::default() };
    let mut seen = Vec::new();
    for id in 0..3 {
        let mut p = T::new(id, &cfg);
        p.start();
        let mut last = Ballot::default();
        for _ in 0..5 {
            let (b, _) = preparing(&mut p);
            assert!(b > last, "S{}: {b:?} after {last:?}", id + 1);
            assert_eq!(b.proposer, id, "a proposer only uses its own ballots");
            last = b;
            seen.push(b);
        }
    }
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), n, "no two proposers share a ballot");

    // A proposer that heard of a higher round jumps above it.
    let mut p = T::new(1, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    p.msg(3, PaxosMsg::Reject { ballot: b, promised: ballot(41, 2) });
    assert_eq!(preparing(&mut p).0, ballot(42, 1));
}

// §2.2 requires unique numbers across failures too ("a proposer must
// remember the highest-numbered proposal it has tried to issue", "stable
// storage"). A proposer that crashes and restarts recovers max_round from
// its durable state and never reuses a round; its own acceptor's promise to
// another proposer's ballot raises it as well.
#[test]
fn s2_2_a_restarted_proposer_never_reuses_a_round() {
    let cfg = separate(3);
    let mut p = T::new(0, &cfg);
    p.start();
    let mut used = Vec::new();
    for _ in 0..3 {
        used.push(preparing(&mut p).0);
    }
    assert_eq!(p.node.durable().max_round, 3, "the highest round used is durable");
    p.crash_restart();
    assert_eq!(p.node.ballot(), Ballot::default(), "the current ballot is volatile");
    p.start();
    let (b, _) = preparing(&mut p);
    assert!(used.iter().all(|u| b > *u), "{b:?} reuses one of {used:?}");
    assert_eq!(b.round, 4);

    // Colocated: the acceptor's side saw round 9 from S2; a restart of S1
    // starts at round 10.
    let col = PaxosConfig { proposers: 2, acceptors: 3, ..PaxosConfig::default() };
    let mut s1 = T::new(0, &col);
    s1.msg(1, PaxosMsg::Prepare { ballot: ballot(9, 1), from_slot: 0 });
    s1.crash_restart();
    s1.start();
    assert_eq!(preparing(&mut s1).0, ballot(10, 0));
}

// §2.3 and "stable storage" (§2.2: "an acceptor must remember this
// information even if it fails and then restarts"): an acceptor's promise
// and accepted values survive a crash, so after a restart it still refuses
// what it promised not to accept; what a learner learned is volatile and is
// gone (it learns again from the others).
#[test]
fn s2_2_acceptor_state_survives_a_crash_and_learned_state_does_not() {
    let cfg = separate(3);
    let mut a = T::new(1, &cfg);
    a.msg(0, PaxosMsg::Prepare { ballot: ballot(3, 0), from_slot: 0 });
    a.msg(0, PaxosMsg::Accept { ballot: ballot(3, 0), slot: 0, value: Value::Own(0) });
    a.msg(0, PaxosMsg::Prepare { ballot: ballot(4, 0), from_slot: 0 });
    let e = a.msg(0, PaxosMsg::Decide { slot: 0, value: Value::Own(0) });
    assert!(notes(&e).contains(&PaxosNote::Learned { slot: 0, value: Value::Own(0) }));
    assert_eq!(a.node.applied(), 1);

    a.crash_restart();
    assert_eq!(a.node.promised(), ballot(4, 0));
    assert_eq!(a.node.accepted().get(&0), Some(&(ballot(3, 0), Value::Own(0))));
    assert!(a.node.learned().is_empty(), "learned values are volatile");
    assert_eq!(a.node.applied(), 0);

    // After the restart it still keeps its promise ...
    let e = a.msg(0, PaxosMsg::Accept { ballot: ballot(3, 0), slot: 0, value: Value::Own(0) });
    assert_eq!(sends(&e), vec![(0, PaxosMsg::Reject { ballot: ballot(3, 0), promised: ballot(4, 0) })]);
    // ... and still reports what it accepted.
    let e = a.msg(0, PaxosMsg::Prepare { ballot: ballot(5, 0), from_slot: 0 });
    assert_eq!(sends(&e), vec![(0, promise(ballot(5, 0), &[(0, ballot(3, 0), Value::Own(0))]))]);
}

// A single-decree proposer whose messages were lost tries again: §2.4 says
// progress needs a proposer that can communicate; the Round timer armed in
// start_round starts a higher round when the first one stalls.
#[test]
fn s2_4_a_stalled_round_is_retried_with_a_higher_ballot() {
    let cfg = separate(3);
    let mut p = T::new(0, &cfg);
    p.start();
    let (b1, e) = preparing(&mut p);
    let stall = timers_set(&e).into_iter().find(|(t, _)| *t == PaxosTimer::Round).expect("armed").1;
    assert_eq!(stall, 4 * cfg.leader_timeout);
    p.msg(1, promise(b1, &[]));
    let (b2, e) = preparing(&mut p);
    assert!(b2 > b1);
    assert_eq!(sends_of(&e, "Prepare").len(), 3);
    // The old round's promise does not add up with the new one's.
    assert!(sends(&p.msg(2, promise(b1, &[]))).is_empty());
    p.msg(1, promise(b2, &[]));
    assert!(p.node.is_preparing());
    p.msg(2, promise(b2, &[]));
    assert!(p.node.is_leading());
}

// Single-decree: a proposer that learns the decision from another proposer
// stops its own round (there is nothing left to propose, §2.3).
#[test]
fn s2_3_a_proposer_that_learns_the_decision_stops_proposing() {
    let cfg = PaxosConfig { proposers: 2, acceptors: 3, colocated: false, ..PaxosConfig::default() };
    let mut p = T::new(1, &cfg);
    p.start();
    preparing(&mut p);
    let e = p.msg(0, PaxosMsg::Decide { slot: 0, value: Value::Own(0) });
    assert!(notes(&e).contains(&PaxosNote::Learned { slot: 0, value: Value::Own(0) }));
    assert!(cancelled(&e, PaxosTimer::Round));
    assert!(!p.node.is_preparing());
    assert!(p.timer(PaxosTimer::Round).is_empty(), "decided: no new round");
}

// ----- Multi-Paxos ("Paxos Made Moderately Complex") -----

// PMMC §3 (the leader's phase 1 merge, "pmax"): a new leader adopts, for
// every slot a promise reports, the value of the highest ballot, proposes it
// again at its own ballot, fills the slots nobody reported with no-ops (so
// learners are never stuck behind a gap), and puts new commands after all of
// them. Requests that arrived during phase 1 wait for it.
#[test]
fn pmmc_a_new_leader_re_proposes_reported_values_and_fills_gaps_with_noops() {
    let cfg = multi();
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, e) = preparing(&mut p);
    assert_eq!(sends_of(&e, "Prepare").len(), 3);
    assert!(sends(&e).iter().all(|(_, m)| *m == PaxosMsg::Prepare { ballot: b, from_slot: 0 }));
    // A client request during phase 1 waits for it.
    assert!(replies(&p.request(500)).is_empty());

    p.msg(2, promise(b, &[(0, ballot(1, 1), Value::Request(100)), (3, ballot(2, 1), Value::Request(103))]));
    let e = p.msg(3, promise(b, &[(0, ballot(2, 1), Value::Request(200)), (1, ballot(1, 1), Value::Request(101))]));
    let n = notes(&e);
    assert!(n.contains(&PaxosNote::Prepared { ballot: b }));
    assert!(n.contains(&PaxosNote::BecameLeader { ballot: b }));
    assert_eq!(
        phase2(&e),
        vec![
            (b, 0, Value::Request(200), Some(Value::Request(200))),
            (b, 1, Value::Request(101), Some(Value::Request(101))),
            (b, 2, Value::Noop, None),
            (b, 3, Value::Request(103), Some(Value::Request(103))),
            (b, 4, Value::Request(500), None),
        ]
    );
    assert!(n.contains(&PaxosNote::Proposed { value: Value::Request(500) }));
    let accepts: Vec<(Slot, Value)> = sends_of(&e, "Accept")
        .into_iter()
        .filter(|(to, _)| *to == 2)
        .map(|(_, m)| match m {
            PaxosMsg::Accept { slot, value, .. } => (slot, value),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        accepts,
        vec![
            (0, Value::Request(200)),
            (1, Value::Request(101)),
            (2, Value::Noop),
            (3, Value::Request(103)),
            (4, Value::Request(500))
        ]
    );
    // Leadership: the Round timer is off, heartbeats on, and announced.
    assert!(cancelled(&e, PaxosTimer::Round));
    assert!(timers_set(&e).contains(&(PaxosTimer::Heartbeat, cfg.heartbeat)));
    let hb: Vec<NodeId> = sends_of(&e, "Heartbeat").iter().map(|(to, _)| *to).collect();
    assert_eq!(hb, vec![1, 2, 3, 4]);
    // The next command goes after every re-proposed slot.
    let e = p.request(501);
    assert_eq!(phase2(&e), vec![(b, 5, Value::Request(501), None)]);
}

// PMMC §3: a leader that slots a client command answers the client once its
// slot is decided and applied in order (the replica's "perform"). A lost
// Accept or Accepted is made good by the leader's retransmission timer
// (RFC 6298 §5): its Heartbeat sends no Accept; the Resend timer, due one
// RTO after the Accept (before any round trip is measured, the leader
// timeout, §2.1), sends it again to the acceptors that have not accepted.
#[test]
fn pmmc_a_leader_commits_a_command_once_its_slot_is_chosen_and_applied() {
    let cfg = multi();
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    p.msg(2, promise(b, &[]));
    p.msg(3, promise(b, &[]));
    assert!(p.node.is_leading());
    let e = p.request(42);
    assert_eq!(phase2(&e), vec![(b, 0, Value::Request(42), None)]);
    assert!(timers_set(&e).contains(&(PaxosTimer::Resend, cfg.leader_timeout)));
    p.now = cfg.heartbeat;
    let e = p.timer(PaxosTimer::Heartbeat);
    assert!(sends_of(&e, "Accept").is_empty(), "a heartbeat re-sends nothing");
    p.msg(2, PaxosMsg::Accepted { ballot: b, slot: 0 });
    p.now = cfg.leader_timeout;
    let e = p.timer(PaxosTimer::Resend);
    let again: Vec<NodeId> = sends_of(&e, "Accept").iter().map(|(to, _)| *to).collect();
    assert_eq!(again, vec![3, 4], "only to the acceptors that have not accepted");
    let e = p.msg(4, PaxosMsg::Accepted { ballot: b, slot: 0 });
    assert!(notes(&e).contains(&PaxosNote::Chosen { slot: 0, value: Value::Request(42) }));
    assert!(notes(&e).contains(&PaxosNote::Applied { slot: 0 }));
    assert_eq!(replies(&e), vec![(42, Reply::Committed)]);
    p.now = 3 * cfg.leader_timeout;
    let e = p.timer(PaxosTimer::Resend);
    assert!(sends_of(&e, "Accept").is_empty(), "nothing open any more");
}

// RFC 6298 §2 and §3 (Karn): a leader measures the round trip from an
// Accept sent once to its Accepted and sets the next slot's retransmission
// timeout from it: the first sample R gives 3R (SRTT R, RTTVAR R/2), at
// least the floor of `paxos::rto::RTO_MIN`.
#[test]
fn a_leader_times_its_resends_from_the_round_trips_it_measured() {
    let cfg = multi();
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    p.msg(2, promise(b, &[]));
    p.msg(3, promise(b, &[]));
    p.now = 1_000 * MS;
    p.request(42);
    p.now = 1_030 * MS;
    p.msg(2, PaxosMsg::Accepted { ballot: b, slot: 0 });
    let e = p.request(43);
    assert_eq!(timers_set(&e), vec![(PaxosTimer::Resend, 90 * MS)], "3 x 30 ms, earlier than slot 0's 300 ms");
    // A second sample of 30 ms: RTTVAR 3/4 x 15 = 11.25 ms, RTO 75 ms.
    p.msg(3, PaxosMsg::Accepted { ballot: b, slot: 0 });
    // Slot 1 is answered by nobody: at 1,120 ms its Accept goes again to
    // every acceptor, slot 0 (chosen) is not sent, and the RTO doubles to
    // 150 ms (RFC 6298 §5.5).
    p.now = 1_120 * MS;
    let e = p.timer(PaxosTimer::Resend);
    let again: Vec<(NodeId, Slot)> = sends_of(&e, "Accept")
        .into_iter()
        .map(|(to, m)| match m {
            PaxosMsg::Accept { slot, .. } => (to, slot),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(again, vec![(2, 1), (3, 1), (4, 1)]);
    assert_eq!(timers_set(&e), vec![(PaxosTimer::Resend, 150 * MS)]);
    // Karn: the answer to a resent Accept is not a round trip.
    p.now = 1_130 * MS;
    p.msg(2, PaxosMsg::Accepted { ballot: b, slot: 1 });
    let e = p.request(44);
    assert_eq!(timers_set(&e), vec![], "due at 1,280 ms, after slot 1's 1,270: the RTO is still doubled");
}

// PMMC §3 (a leader is preempted by a higher ballot): it steps down,
// stops its heartbeats and hands the clients it held back with a hint
// naming the proposer of the ballot that beat it.
#[test]
fn pmmc_a_preempted_leader_steps_down_and_redirects_its_clients() {
    let cfg = multi();
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    p.msg(2, promise(b, &[]));
    p.msg(3, promise(b, &[]));
    p.request(42);
    let by = ballot(b.round + 1, 1);
    let e = p.msg(2, PaxosMsg::Reject { ballot: b, promised: by });
    let n = notes(&e);
    assert!(n.contains(&PaxosNote::RoundLost { ballot: b, by }));
    assert!(n.contains(&PaxosNote::SteppedDown { ballot: b }));
    assert!(cancelled(&e, PaxosTimer::Heartbeat));
    assert_eq!(replies(&e), vec![(42, Reply::NotLeader(Some(1)))]);
    assert_eq!(p.node.leader_hint(), Some(1));
    assert!(timers_set(&e).iter().any(|(t, _)| *t == PaxosTimer::Round), "it watches the new leader");
}

// PMMC §3 (replicas): decisions may arrive in any order, but a replica
// performs slot s only after every slot below it, so all apply the same
// sequence.
#[test]
fn pmmc_learners_apply_slots_in_order_whatever_order_decisions_arrive() {
    let cfg = multi();
    let mut l = T::new(4, &cfg);
    let e = l.msg(0, PaxosMsg::Decide { slot: 2, value: Value::Request(12) });
    assert_eq!(notes(&e), vec![PaxosNote::Learned { slot: 2, value: Value::Request(12) }]);
    let e = l.msg(0, PaxosMsg::Decide { slot: 0, value: Value::Request(10) });
    assert_eq!(
        notes(&e),
        vec![PaxosNote::Learned { slot: 0, value: Value::Request(10) }, PaxosNote::Applied { slot: 0 }]
    );
    assert_eq!(l.node.applied(), 1, "slot 1 is missing: slot 2 waits");
    let e = l.msg(0, PaxosMsg::Decide { slot: 1, value: Value::Noop });
    assert_eq!(
        notes(&e),
        vec![
            PaxosNote::Learned { slot: 1, value: Value::Noop },
            PaxosNote::Applied { slot: 1 },
            PaxosNote::Applied { slot: 2 }
        ]
    );
    assert_eq!(l.node.applied(), 3);
    // A repeated decision changes nothing.
    assert!(l.msg(1, PaxosMsg::Decide { slot: 1, value: Value::Noop }).is_empty());
}

// PMMC (a replica that missed decisions must obtain them; here by asking):
// the leader's Heartbeat says how far it has learned; a learner still behind
// what the previous heartbeat said (so the Decides had a heartbeat interval
// to arrive; the network may reorder a heartbeat before them) asks with
// Fetch from its first gap and the leader answers with the consecutive
// decided values it has (Decided), which the learner learns and applies.
#[test]
fn pmmc_a_learner_behind_fetches_missing_slots() {
    let cfg = multi();
    let b = ballot(1, 0);
    let mut leader = T::new(0, &cfg);
    for s in 0..5 {
        leader.msg(0, PaxosMsg::Decide { slot: s, value: Value::Request(100 + s) });
    }
    assert_eq!(leader.node.applied(), 5);

    let mut l = T::new(4, &cfg);
    l.msg(0, PaxosMsg::Decide { slot: 0, value: Value::Request(100) });
    l.msg(0, PaxosMsg::Decide { slot: 1, value: Value::Request(101) });
    l.msg(0, PaxosMsg::Decide { slot: 3, value: Value::Request(103) });
    let e = l.msg(0, PaxosMsg::Heartbeat { ballot: b, learned: 5 });
    assert!(sends(&e).is_empty(), "the Decides of slots 2 and 4 may still be on their way");
    let e = l.msg(0, PaxosMsg::Heartbeat { ballot: b, learned: 5 });
    assert_eq!(sends(&e), vec![(0, PaxosMsg::Fetch { from: 2 })]);
    assert_eq!(l.node.leader_hint(), Some(0));

    let e = leader.msg(4, PaxosMsg::Fetch { from: 2 });
    let values: Arc<[Value]> = Arc::from(vec![Value::Request(102), Value::Request(103), Value::Request(104)]);
    assert_eq!(sends(&e), vec![(4, PaxosMsg::Decided { from: 2, values: values.clone() })]);
    let e = l.msg(0, PaxosMsg::Decided { from: 2, values });
    let n = notes(&e);
    assert!(n.contains(&PaxosNote::Learned { slot: 2, value: Value::Request(102) }));
    assert!(n.contains(&PaxosNote::Learned { slot: 4, value: Value::Request(104) }));
    assert!(!n.contains(&PaxosNote::Learned { slot: 3, value: Value::Request(103) }), "slot 3 was known");
    assert_eq!(l.node.applied(), 5);

    // Up to date: a heartbeat asks for nothing; a fetch past the end gets nothing.
    assert!(sends(&l.msg(0, PaxosMsg::Heartbeat { ballot: b, learned: 5 })).is_empty());
    assert!(sends(&leader.msg(4, PaxosMsg::Fetch { from: 5 })).is_empty());
    // At most 64 values an answer.
    let mut big = T::new(0, &cfg);
    for s in 0..100 {
        big.msg(0, PaxosMsg::Decide { slot: s, value: Value::Noop });
    }
    match &sends(&big.msg(4, PaxosMsg::Fetch { from: 0 }))[0].1 {
        PaxosMsg::Decided { from: 0, values } => assert_eq!(values.len(), 64),
        m => panic!("{m:?}"),
    }
}

// Single-decree, the same catch-up: the proposer that saw its value chosen
// keeps announcing (Heartbeat with learned 1), and a learner that missed the
// Decide fetches it.
#[test]
fn s2_3_a_single_decree_learner_that_missed_the_decision_fetches_it() {
    let cfg = separate(3);
    let mut p = T::new(0, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    p.msg(1, promise(b, &[]));
    p.msg(2, promise(b, &[]));
    p.msg(1, PaxosMsg::Accepted { ballot: b, slot: 0 });
    p.msg(2, PaxosMsg::Accepted { ballot: b, slot: 0 });
    let e = p.timer(PaxosTimer::Heartbeat);
    let hb = sends_of(&e, "Heartbeat");
    assert_eq!(hb.len(), 3);
    assert_eq!(hb[0].1, PaxosMsg::Heartbeat { ballot: b, learned: 1 });
    let mut l = T::new(3, &cfg);
    let e = l.msg(0, hb[2].1.clone());
    assert_eq!(sends(&e), vec![(0, PaxosMsg::Fetch { from: 0 })]);
    let e = p.msg(3, PaxosMsg::Fetch { from: 0 });
    let e = l.msg(0, sends(&e)[0].1.clone());
    assert!(notes(&e).contains(&PaxosNote::Learned { slot: 0, value: Value::Own(0) }));
}

// PMMC (clients send to the leader; a replica that is not the leader cannot
// order commands): a server that does not lead answers NotLeader with the
// leader it last heard from, or with no hint if it heard of none.
#[test]
fn pmmc_a_non_leader_answers_not_leader_with_its_hint() {
    let cfg = multi();
    let mut f = T::new(1, &cfg);
    f.start();
    assert_eq!(replies(&f.request(1)), vec![(1, Reply::NotLeader(None))]);
    let e = f.msg(0, PaxosMsg::Heartbeat { ballot: ballot(1, 0), learned: 0 });
    assert!(timers_set(&e).iter().any(|(t, _)| *t == PaxosTimer::Round), "the heartbeat defers its own round");
    assert_eq!(replies(&f.request(2)), vec![(2, Reply::NotLeader(Some(0)))]);
    // A learner that is no proposer, too.
    let mut l = T::new(3, &cfg);
    l.msg(0, PaxosMsg::Heartbeat { ballot: ballot(1, 0), learned: 0 });
    assert_eq!(replies(&l.request(3)), vec![(3, Reply::NotLeader(Some(0)))]);
    // Single-decree: a server that does not propose sends clients to S1.
    let mut a = T::new(2, &separate(3));
    assert_eq!(replies(&a.request(4)), vec![(4, Reply::NotLeader(Some(0)))]);
}

// PMMC §3: a leader's heartbeat with a higher ballot makes a proposer that
// is preparing (or leading) with a lower one give up; an older leader's
// heartbeat does not disturb a newer one.
#[test]
fn pmmc_a_higher_leader_preempts_and_an_older_one_is_ignored() {
    let cfg = multi();
    let mut p = T::new(1, &cfg);
    p.start();
    let (b, _) = preparing(&mut p);
    let e = p.msg(0, PaxosMsg::Heartbeat { ballot: ballot(b.round - 1, 0), learned: 0 });
    assert!(e.is_empty() && p.node.is_preparing(), "an older leader is ignored: {e:?}");
    let e = p.msg(0, PaxosMsg::Heartbeat { ballot: ballot(b.round + 1, 0), learned: 0 });
    assert!(notes(&e).contains(&PaxosNote::RoundLost { ballot: b, by: ballot(b.round + 1, 0) }));
    assert!(!p.node.is_preparing());
    assert_eq!(p.node.leader_hint(), Some(0));
}

// PMMC: a restarted leader has forgotten what it learned; it runs phase 1
// from slot 0, and the acceptors' durable reports bring every decided value
// back (re-proposed at its new ballot, so the same values are chosen again).
#[test]
fn pmmc_a_restarted_leader_recovers_the_log_from_the_acceptors_reports() {
    let cfg = multi();
    let mut p = T::recover(0, &cfg, PaxosDurable { max_round: 3, ..PaxosDurable::default() });
    p.start();
    let (b, e) = preparing(&mut p);
    assert_eq!(b, ballot(4, 0));
    assert!(sends(&e).iter().all(|(_, m)| *m == PaxosMsg::Prepare { ballot: b, from_slot: 0 }));
    p.msg(2, promise(b, &[(0, ballot(3, 0), Value::Request(7)), (1, ballot(3, 0), Value::Request(8))]));
    let e = p.msg(4, promise(b, &[(0, ballot(3, 0), Value::Request(7))]));
    assert_eq!(
        phase2(&e),
        vec![(b, 0, Value::Request(7), Some(Value::Request(7))), (b, 1, Value::Request(8), Some(Value::Request(8)))]
    );
}

// ----- the checkers -----

fn world(cfg: &PaxosConfig) -> Vec<Node<PaxosNode>> {
    let sim: Sim<PaxosNode> = Sim::new(SimConfig { nodes: cfg.nodes(), ..SimConfig::default() }, cfg.clone());
    sim.nodes().to_vec()
}

fn checker(name: &str) -> Box<dyn Invariant<PaxosNode>> {
    paxos::invariants().into_iter().find(|i| i.name() == name).unwrap_or_else(|| panic!("no checker named {name}"))
}

fn note(node: NodeId, note: PaxosNote) -> TraceEvent<PaxosNode> {
    TraceEvent::Note { at: 0, node, note }
}

/// Feeds `steps` (the events of one step each) to the named checker in a
/// world of `cfg`'s servers; returns the first error.
fn feed(name: &str, cfg: &PaxosConfig, steps: &[Vec<TraceEvent<PaxosNode>>]) -> Result<(), String> {
    let nodes = world(cfg);
    let mut inv = checker(name);
    for (i, events) in steps.iter().enumerate() {
        inv.check(&World { now: i as Time, nodes: &nodes }, events)?;
    }
    Ok(())
}

fn accepted(node: NodeId, slot: Slot, b: Ballot, value: Value) -> TraceEvent<PaxosNode> {
    note(node, PaxosNote::AcceptedValue { slot, ballot: b, value, promised: b })
}

/// Five acceptors (quorum 3).
fn five() -> PaxosConfig {
    PaxosConfig { proposers: 2, acceptors: 5, ..PaxosConfig::default() }
}

// The module's table: six checkers, named as violation reports name them.
#[test]
fn the_checkers_are_the_six_properties() {
    let names: Vec<&str> = paxos::invariants().iter().map(|i| i.name()).collect();
    assert_eq!(
        names,
        [
            "Only Proposed Values Chosen",
            "One Value Per Slot",
            "Promises Kept",
            "Proposer Adopts Reported Value",
            "Learners Agree",
            "Applied In Order"
        ]
    );
}

// §2.1, safety: "Only a value that has been proposed may be chosen." A
// majority accepting a value nobody proposed is reported; the same after a
// Proposed note, or a new leader's no-op gap filler (PMMC), is fine. A
// minority accepting does not choose anything.
#[test]
fn only_proposed_values_chosen_reports_an_unproposed_choice() {
    let cfg = five();
    let b = ballot(1, 0);
    let bad = vec![
        note(0, PaxosNote::Proposed { value: Value::Own(0) }),
        accepted(0, 0, b, Value::Own(1)),
        accepted(1, 0, b, Value::Own(1)),
        accepted(2, 0, b, Value::Own(1)),
    ];
    let err =
        feed("Only Proposed Values Chosen", &cfg, std::slice::from_ref(&bad)).expect_err("v(S2) was never proposed");
    assert_eq!(err, "slot 0: v(S2) was chosen at b1.1 but nobody proposed it");
    // Spread over steps, the same.
    let steps: Vec<Vec<_>> = bad.iter().map(|e| vec![e.clone()]).collect();
    assert!(feed("Only Proposed Values Chosen", &cfg, &steps).is_err());
    // Two acceptors of five are no majority: nothing chosen yet.
    assert_eq!(feed("Only Proposed Values Chosen", &cfg, &[bad[..3].to_vec()]), Ok(()));

    let ok = vec![
        note(1, PaxosNote::Proposed { value: Value::Own(1) }),
        accepted(0, 0, b, Value::Own(1)),
        accepted(1, 0, b, Value::Own(1)),
        accepted(2, 0, b, Value::Own(1)),
        note(0, PaxosNote::Phase2 { ballot: b, slot: 1, value: Value::Noop, reported: None }),
        accepted(0, 1, b, Value::Noop),
        accepted(1, 1, b, Value::Noop),
        accepted(3, 1, b, Value::Noop),
    ];
    assert_eq!(feed("Only Proposed Values Chosen", &cfg, &[ok]), Ok(()));
}

// §2.1, safety: "Only a single value is chosen" (per slot, PMMC). Two
// majorities accepting different values in one slot, at two ballots, is
// reported with both; the same value at two ballots, or different values in
// different slots, is fine.
#[test]
fn one_value_per_slot_reports_two_values_chosen_in_a_slot() {
    let cfg = five();
    let (b1, b2) = (ballot(1, 0), ballot(2, 1));
    let first: Vec<_> = (0..3).map(|a| accepted(a, 0, b1, Value::Own(0))).collect();
    let second: Vec<_> = (2..5).map(|a| accepted(a, 0, b2, Value::Own(1))).collect();
    let err = feed("One Value Per Slot", &cfg, &[first.clone(), second]).expect_err("two values in slot 0");
    assert_eq!(err, "slot 0: v(S1) was chosen at b1.1, then v(S2) at b2.2");
    // Both in one step, too.
    let both: Vec<_> = first.iter().cloned().chain((2..5).map(|a| accepted(a, 0, b2, Value::Own(1)))).collect();
    assert!(feed("One Value Per Slot", &cfg, &[both]).is_err());

    let same: Vec<_> = (2..5).map(|a| accepted(a, 0, b2, Value::Own(0))).collect();
    assert_eq!(feed("One Value Per Slot", &cfg, &[first.clone(), same]), Ok(()));
    let other_slot: Vec<_> = (2..5).map(|a| accepted(a, 1, b2, Value::Own(1))).collect();
    assert_eq!(feed("One Value Per Slot", &cfg, &[first, other_slot]), Ok(()));
}

fn sent(from: NodeId, to: NodeId, msg: PaxosMsg) -> TraceEvent<PaxosNode> {
    TraceEvent::Sent { at: 0, id: 0, from, to, msg, deliver_at: 1, copy: false }
}

// §2.2, P1a: an acceptor accepts a ballot only if it has not promised a
// higher one. The checker reads the promise from what the acceptor did (the
// Promise it sent, its promise note), not from the promise it reports in
// its accept note: an acceptor whose own record of its promise was lost
// (here: it reports b1.1 while it sent a Promise for b2.2) is caught. Also
// caught: an Accepted message sent below a promise note; an accept below a
// promise made before a crash (promises are durable); and, as before, an
// accept below the promise the acceptor itself reports.
#[test]
fn promises_kept_reports_an_accept_below_the_promise() {
    let cfg = five();
    let (b1, b2, b3) = (ballot(1, 0), ballot(2, 1), ballot(3, 0));
    let stale = |b: Ballot| note(2, PaxosNote::AcceptedValue { slot: 0, ballot: b, value: Value::Own(0), promised: b });
    let err = feed("Promises Kept", &cfg, &[vec![sent(2, 1, promise(b2, &[]))], vec![stale(b1)]])
        .expect_err("accepted b1.1 after sending a promise for b2.2");
    assert_eq!(err, "S3 accepted b1.1 in slot 0 after promising b2.2");
    let by_note = vec![
        note(2, PaxosNote::Promised { ballot: b2, before: b1 }),
        sent(2, 0, PaxosMsg::Accepted { ballot: b1, slot: 4 }),
    ];
    let err = feed("Promises Kept", &cfg, &[by_note]).expect_err("an Accepted for b1.1 after promising b2.2");
    assert_eq!(err, "S3 accepted b1.1 in slot 4 after promising b2.2");
    let crash = TraceEvent::Fault { at: 0, fault: Fault::Crash(2) };
    let err = feed("Promises Kept", &cfg, &[vec![sent(2, 1, promise(b2, &[])), crash], vec![stale(b1)]])
        .expect_err("a promise outlives a crash");
    assert_eq!(err, "S3 accepted b1.1 in slot 0 after promising b2.2");
    let own = note(2, PaxosNote::AcceptedValue { slot: 0, ballot: b1, value: Value::Own(0), promised: b2 });
    assert!(feed("Promises Kept", &cfg, &[vec![own]]).is_err(), "below the promise it reports itself");

    // Harmless: accepts at or above every promise made; another acceptor's
    // promise binds only that acceptor.
    let ok = vec![
        sent(2, 1, promise(b2, &[])),
        sent(3, 0, promise(b3, &[])),
        stale(b2),
        sent(2, 1, PaxosMsg::Accepted { ballot: b2, slot: 0 }),
        note(2, PaxosNote::Promised { ballot: b3, before: b2 }),
        stale(b3),
        sent(4, 0, PaxosMsg::Accepted { ballot: b1, slot: 0 }),
    ];
    assert_eq!(feed("Promises Kept", &cfg, &[ok]), Ok(()));
}

// §2.2, P2c: phase 2 uses the highest-ballot value phase 1 reported. A
// Phase2 note proposing another value than the reported one is reported;
// a free choice (nothing reported) is fine.
#[test]
fn adopts_reported_value_reports_a_proposer_ignoring_its_promises() {
    let cfg = five();
    let b = ballot(3, 1);
    let bad =
        note(1, PaxosNote::Phase2 { ballot: b, slot: 4, value: Value::Request(9), reported: Some(Value::Request(8)) });
    let err = feed("Proposer Adopts Reported Value", &cfg, &[vec![bad]]).expect_err("ignored the report");
    assert_eq!(err, "S2 proposed #9 in slot 4 at b3.2, but phase 1 reported #8 accepted");
    let ok = vec![
        note(1, PaxosNote::Phase2 { ballot: b, slot: 4, value: Value::Request(8), reported: Some(Value::Request(8)) }),
        note(1, PaxosNote::Phase2 { ballot: b, slot: 5, value: Value::Request(9), reported: None }),
    ];
    assert_eq!(feed("Proposer Adopts Reported Value", &cfg, &[ok]), Ok(()));
}

// §2.3: a learner learns only a chosen value, one that a majority of
// acceptors accepted with one ballot. The checker compares each learner
// with that value, not with the other learners: a learner that learns a
// value nobody chose is caught even when it is the first (or the only) one
// to learn the slot; so is one learning before any value is chosen (two of
// five acceptors are no majority), and one learning a value other than the
// chosen one after others learned right. Harmless: learners, one of them
// after a crash, learning the chosen value in each slot.
#[test]
fn learners_agree_reports_a_learner_with_another_value_than_the_chosen_one() {
    let cfg = five();
    let b = ballot(1, 0);
    let chose = |slot: Slot, v: Value| -> Vec<_> { (0..3).map(|a| accepted(a, slot, b, v.clone())).collect() };
    let learn = |node: NodeId, slot: Slot, v: Value| note(node, PaxosNote::Learned { slot, value: v });
    let err = feed("Learners Agree", &cfg, &[chose(0, Value::Own(0)), vec![learn(3, 0, Value::Own(1))]])
        .expect_err("the first learner learned another value");
    assert_eq!(err, "slot 0: S4 learned v(S2), but v(S1) was chosen at b1.1");
    let minority: Vec<_> = (0..2).map(|a| accepted(a, 0, b, Value::Own(0))).collect();
    let err = feed("Learners Agree", &cfg, &[minority, vec![learn(3, 0, Value::Own(0))]])
        .expect_err("learned before a majority accepted");
    assert_eq!(err, "slot 0: S4 learned v(S1), but no value was chosen there yet");
    let later = vec![learn(1, 0, Value::Own(0)), learn(2, 0, Value::Request(3))];
    assert!(feed("Learners Agree", &cfg, &[chose(0, Value::Own(0)), later]).is_err());

    let ok = vec![
        learn(0, 0, Value::Own(0)),
        learn(1, 0, Value::Own(0)),
        learn(1, 1, Value::Own(1)),
        TraceEvent::Fault { at: 0, fault: Fault::Crash(0) },
        learn(0, 0, Value::Own(0)),
    ];
    let chosen: Vec<_> = chose(0, Value::Own(0)).into_iter().chain(chose(1, Value::Own(1))).collect();
    assert_eq!(feed("Learners Agree", &cfg, &[chosen, ok]), Ok(()));
}

// PMMC §3: replicas apply slots in order without gaps. Applying slot 1
// before slot 0 is reported; after a crash (learned state is volatile) a
// server applies again from slot 0, which is fine.
#[test]
fn applied_in_order_reports_a_gap_and_allows_a_restart() {
    let cfg = five();
    let bad = vec![note(0, PaxosNote::Applied { slot: 0 }), note(0, PaxosNote::Applied { slot: 2 })];
    let err = feed("Applied In Order", &cfg, &[bad]).expect_err("slot 1 skipped");
    assert_eq!(err, "S1 applied slot 2 but the next in order is 1");
    let err =
        feed("Applied In Order", &cfg, &[vec![note(3, PaxosNote::Applied { slot: 1 })]]).expect_err("slot 0 skipped");
    assert_eq!(err, "S4 applied slot 1 but the next in order is 0");
    let again = vec![note(0, PaxosNote::Applied { slot: 0 }), note(0, PaxosNote::Applied { slot: 0 })];
    assert!(feed("Applied In Order", &cfg, &[again]).is_err(), "a slot applied twice without a crash");
    let ok = vec![
        note(0, PaxosNote::Applied { slot: 0 }),
        note(1, PaxosNote::Applied { slot: 0 }),
        note(0, PaxosNote::Applied { slot: 1 }),
        TraceEvent::Fault { at: 0, fault: Fault::Crash(0) },
        note(0, PaxosNote::Applied { slot: 0 }),
    ];
    assert_eq!(feed("Applied In Order", &cfg, &[ok]), Ok(()));
}

// The checkers run inside the simulator and stop it: a checker that was
// told, before the run, that another value was chosen reports S1's choice
// through the simulator's own path, under its name.
#[test]
fn a_violation_stops_the_simulator_with_the_checkers_name() {
    let cfg = PaxosConfig { proposers: 1, acceptors: 3, ..PaxosConfig::default() };
    let mut sim: Sim<PaxosNode> = Sim::new(SimConfig { nodes: 3, seed: 1, ..SimConfig::default() }, cfg.clone());
    let nodes = world(&cfg);
    let mut inv = checker("One Value Per Slot");
    let b = ballot(9, 2);
    inv.check(&World { now: 0, nodes: &nodes }, &(0..2).map(|a| accepted(a, 0, b, Value::Own(2))).collect::<Vec<_>>())
        .expect("fine so far");
    sim.add_invariant(inv);
    sim.run_until(2 * clusterscope_core::sim::SEC);
    let v = sim.violation().expect("S1's own value chosen too");
    assert_eq!(v.invariant, "One Value Per Slot");
    assert!(v.message.contains("v(S3) was chosen at b9.3, then v(S1)"), "{}", v.message);
}
