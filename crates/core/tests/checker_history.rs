//! What a checker remembers: a copy keeps its history, a checker attached
//! mid-run starts from the world as it finds it, and memory is bounded as
//! documented.
//!
//! A copy of a checker keeps its history. The simulator is `Clone`, and the
//! worker seeks back in time by restoring copies of it (snapshots), so a
//! checker's `clone_box` must carry what it has seen: a copy that started
//! afresh would miss a violation whose first half happened before the
//! snapshot, or report one that is none. Source: `sim/invariant.rs`
//! ("`clone_box`: a copy of this checker and its history (the simulator is
//! `Clone`)") and docs/architecture.md on time travel. Mutation testing
//! (`./dev mutants`, docs/testing.md) found no test of it: each case below
//! feeds the first step to a checker, copies it, and feeds the second step
//! to the copy, where only the history makes the difference.

use clusterscope_core::paxos::{self, Ballot, PaxosConfig, PaxosNode, PaxosNote, Value};
use clusterscope_core::raft::invariants::WINDOW;
use clusterscope_core::raft::{self, Entry, RaftConfig, RaftDurable, RaftNode, RaftNote, Snapshot, StateMachine};
use clusterscope_core::sim::{Fault, Invariant, Node, NodeId, Protocol, Sim, SimConfig, TraceEvent, World};

// ------------------------------------------------------------------ Paxos

fn paxos_world(cfg: &PaxosConfig) -> Vec<Node<PaxosNode>> {
    let sim: Sim<PaxosNode> = Sim::new(SimConfig { nodes: cfg.nodes(), ..SimConfig::default() }, cfg.clone());
    sim.nodes().to_vec()
}

fn paxos_checker(name: &str) -> Box<dyn Invariant<PaxosNode>> {
    paxos::invariants().into_iter().find(|i| i.name() == name).unwrap_or_else(|| panic!("no checker named {name}"))
}

fn pnote(node: NodeId, note: PaxosNote) -> TraceEvent<PaxosNode> {
    TraceEvent::Note { at: 0, node, note }
}

fn accepted(node: NodeId, slot: u64, round: u64, value: Value) -> TraceEvent<PaxosNode> {
    let ballot = Ballot { round, proposer: 0 };
    pnote(node, PaxosNote::AcceptedValue { slot, ballot, value, promised: ballot })
}

/// Feeds `first` to the named checker, copies it (as a snapshot does) and
/// feeds `second` to the copy; returns the copy's verdict.
fn paxos_after_copy(
    name: &str,
    first: &[TraceEvent<PaxosNode>],
    second: &[TraceEvent<PaxosNode>],
) -> Result<(), String> {
    let cfg = PaxosConfig { proposers: 2, acceptors: 5, ..PaxosConfig::default() };
    let nodes = paxos_world(&cfg);
    let mut original = paxos_checker(name);
    original.check(&World { now: 0, nodes: &nodes }, first).expect("the first step is fine");
    let mut copy = original.clone();
    drop(original);
    copy.check(&World { now: 1, nodes: &nodes }, second)
}

// "Paxos Made Simple" §2.1: only a proposed value may be chosen. Two votes
// for an unproposed value before the snapshot, the third after: the copy
// must count all three (a majority of five) and report it; and a value
// proposed before the snapshot may be chosen after it.
#[test]
fn a_copy_of_only_proposed_values_chosen_remembers_votes_and_proposals() {
    let name = "Only Proposed Values Chosen";
    let two: Vec<_> = (0..2).map(|a| accepted(a, 0, 1, Value::Own(1))).collect();
    let third = [accepted(2, 0, 1, Value::Own(1))];
    let err = paxos_after_copy(name, &two, &third).expect_err("v(S2) chosen by three votes, never proposed");
    assert!(err.contains("nobody proposed it"), "{err}");
    let proposed = [pnote(1, PaxosNote::Proposed { value: Value::Own(1) })];
    let votes: Vec<_> = (0..3).map(|a| accepted(a, 0, 1, Value::Own(1))).collect();
    assert_eq!(paxos_after_copy(name, &proposed, &votes), Ok(()));
}

// §2.1: at most one value is chosen per slot. v(S1) chosen before the
// snapshot, v(S2) in the same slot after it: the copy must report it.
#[test]
fn a_copy_of_one_value_per_slot_remembers_the_chosen_value() {
    let first: Vec<_> = (0..3).map(|a| accepted(a, 0, 1, Value::Own(0))).collect();
    let second: Vec<_> = (2..5).map(|a| accepted(a, 0, 2, Value::Own(1))).collect();
    let err = paxos_after_copy("One Value Per Slot", &first, &second).expect_err("two values chosen in slot 0");
    assert!(err.contains("then v(S2)"), "{err}");
}

// §2.3: learners learn only the chosen value, so all learn the same. v(S1)
// proposed, chosen and learned by S1 before the snapshot; S2 learning
// v(S2) in that slot after it must be reported by the copy.
#[test]
fn a_copy_of_learners_agree_remembers_what_was_learned() {
    let mut first = vec![pnote(0, PaxosNote::Proposed { value: Value::Own(0) })];
    first.extend((0..3).map(|a| accepted(a, 0, 1, Value::Own(0))));
    first.push(pnote(0, PaxosNote::Learned { slot: 0, value: Value::Own(0) }));
    let second = [pnote(1, PaxosNote::Learned { slot: 0, value: Value::Own(1) })];
    assert!(paxos_after_copy("Learners Agree", &first, &second).is_err(), "S2 learned another value");
}

// "Paxos Made Moderately Complex" §3: replicas apply slots in order,
// without gaps. S1 applied slot 0 before the snapshot; applying slot 0
// again after it (no crash between) must be reported by the copy, and
// slot 1 next is fine.
#[test]
fn a_copy_of_applied_in_order_remembers_the_next_slot() {
    let name = "Applied In Order";
    let first = [pnote(0, PaxosNote::Applied { slot: 0 })];
    let again = [pnote(0, PaxosNote::Applied { slot: 0 })];
    let err = paxos_after_copy(name, &first, &again).expect_err("slot 0 applied twice");
    assert_eq!(err, "S1 applied slot 0 but the next in order is 1");
    assert_eq!(paxos_after_copy(name, &first, &[pnote(0, PaxosNote::Applied { slot: 1 })]), Ok(()));
}

// ------------------------------------------------------------------- Raft

/// A world of nodes with the given logs ((term, command) per entry), all
/// followers, as the simulator holds them.
fn raft_world(logs: &[&[(u64, u64)]]) -> Vec<Node<RaftNode>> {
    let n = logs.len() as u32;
    let sim: Sim<RaftNode> = Sim::new(SimConfig { nodes: n, ..SimConfig::default() }, RaftConfig::default());
    let mut nodes = sim.nodes().to_vec();
    for (i, log) in logs.iter().enumerate() {
        let durable = RaftDurable {
            term: log.last().map_or(0, |e| e.0),
            log: log.iter().map(|&(term, command)| Entry::new(term, command)).collect(),
            ..RaftDurable::default()
        };
        nodes[i].state = RaftNode::recover(i as NodeId, n, &RaftConfig::default(), durable);
    }
    nodes
}

fn rnote(node: NodeId, note: RaftNote) -> TraceEvent<RaftNode> {
    TraceEvent::Note { at: 0, node, note }
}

/// Runs the named checker over `before` (world, events), copies it and runs
/// the copy over `after`; returns the copy's verdict.
fn raft_after_copy(
    name: &str,
    before: (&[Node<RaftNode>], &[TraceEvent<RaftNode>]),
    after: (&[Node<RaftNode>], &[TraceEvent<RaftNode>]),
) -> Result<(), String> {
    let mut original =
        raft::invariants().into_iter().find(|i| i.name() == name).unwrap_or_else(|| panic!("no checker named {name}"));
    original.check(&World { now: 0, nodes: before.0 }, before.1).expect("the first step is fine");
    let mut copy = original.clone();
    drop(original);
    copy.check(&World { now: 1, nodes: after.0 }, after.1)
}

// Raft §5.2, Election Safety: at most one leader per term. S1 elected in
// term 3 before the snapshot (and a follower again in the world the copy
// sees), S3 elected in term 3 after it: the copy must report both.
#[test]
fn a_copy_of_election_safety_remembers_each_terms_leader() {
    let w = raft_world(&[&[], &[], &[]]);
    let err = raft_after_copy(
        "Election Safety",
        (&w, &[rnote(0, RaftNote::BecameLeader { term: 3 })]),
        (&w, &[rnote(2, RaftNote::BecameLeader { term: 3 })]),
    )
    .expect_err("two leaders of term 3");
    assert_eq!(err, "S1 and S3 were both elected leader of term 3");
}

// Raft §5.3, Leader Append-Only: S1 became leader of term 2 before the
// snapshot; deleting its own entry after it must be reported by the copy.
#[test]
fn a_copy_of_leader_append_only_remembers_who_leads() {
    let two = raft_world(&[&[(1, 10), (1, 11)], &[]]);
    let one = raft_world(&[&[(1, 10)], &[]]);
    let err = raft_after_copy(
        "Leader Append-Only",
        (&two, &[rnote(0, RaftNote::BecameLeader { term: 2 })]),
        (&one, &[rnote(0, RaftNote::Truncated { from: 2 })]),
    )
    .expect_err("a leader deleted its entry");
    assert_eq!(err, "S1, leader of term 2, deleted its entries from index 2");
}

// Raft §5.3, Log Matching, which holds across time ("an (index, term)
// pair is created once"): S1 held (term 1, #100), (term 3, #7) before the
// snapshot; after it S1's log is gone and S2 holds (term 2, #200),
// (term 3, #7): the same (index 2, term 3) closing another prefix, which
// the copy must report although no current log pair shows it.
#[test]
fn a_copy_of_log_matching_remembers_entries_written_before() {
    let before = raft_world(&[&[(1, 100), (3, 7)], &[]]);
    let after = raft_world(&[&[], &[(2, 200), (3, 7)]]);
    let err = raft_after_copy(
        "Log Matching",
        (&before, &[]),
        (&after, &[rnote(0, RaftNote::Truncated { from: 1 }), rnote(1, RaftNote::Appended { from: 1, to: 2 })]),
    )
    .expect_err("(index 2, term 3) closes two prefixes");
    assert!(err.contains("term 3 at index 2"), "{err}");
}

// ------------------------------------------------ what a checker starts from

// election_safety.rs: "A checker attached to a run already under way
// starts from the world as it finds it" (raft/invariants/mod.rs), and
// remembers each term's leader for the last 4,096 terms (`TERMS_KEPT`).
// A checker attached after S_l was elected leader of term t must report
// another server elected in term t; and one that saw leaders of 4,096
// terms still remembers the first of them.
#[test]
fn election_safety_starts_from_the_current_leader_and_keeps_4096_terms() {
    let mut sim: Sim<RaftNode> =
        Sim::new(SimConfig { nodes: 3, seed: 4, ..SimConfig::default() }, RaftConfig::default());
    sim.force_timeout(0);
    sim.run_until(clusterscope_core::sim::SEC);
    let nodes = sim.nodes().to_vec();
    let (l, term) = nodes
        .iter()
        .enumerate()
        .find(|(_, n)| n.state.role() == raft::Role::Leader)
        .map(|(i, n)| (i as NodeId, n.state.term()))
        .expect("a leader within a second");
    let other = (l + 1) % 3;
    let mut late = raft::invariants().remove(0);
    assert_eq!(late.name(), "Election Safety");
    let err = late
        .check(&World { now: 0, nodes: &nodes }, &[rnote(other, RaftNote::BecameLeader { term })])
        .expect_err("a second leader of the current leader's term");
    assert!(err.contains(&format!("leader of term {term}")), "{err}");

    let w = raft_world(&[&[], &[], &[]]);
    let mut es = raft::invariants().remove(0);
    let leaders: Vec<_> = (1..=4_096).map(|t| rnote(0, RaftNote::BecameLeader { term: t })).collect();
    es.check(&World { now: 0, nodes: &w }, &leaders).expect("one leader per term");
    let err = es
        .check(&World { now: 1, nodes: &w }, &[rnote(1, RaftNote::BecameLeader { term: 1 })])
        .expect_err("term 1 is among the last 4,096");
    assert_eq!(err, "S1 and S2 were both elected leader of term 1");
}

// ------------------------------------------- the term each entry committed in

// leader_completeness.rs: the checker keeps, per committed index, "an upper
// bound on the term in which it was committed (the term of the first
// server that noted it)". Raft §5.4: an entry committed in term 2 must be in
// the log of the leader of every later term, 5 included. S1 (term 2)
// commits entry 1; S2, already in term 5, notes the same commit later; S3,
// whose log is empty, becomes leader of term 5. The second note must not
// move the entry's commit term to 5 (which would excuse the leader of term
// 5 from holding it).
#[test]
fn leader_completeness_keeps_the_term_an_entry_was_first_committed_in() {
    let mut world = raft_world(&[&[(2, 100)], &[(2, 100)], &[]]);
    let mut lc = raft_checker("Leader Completeness");
    lc.check(&World { now: 0, nodes: &world }, &[rnote(0, RaftNote::Committed { index: 1 })])
        .expect("S1 commits entry 1 in term 2");
    world[1].state = in_term(1, 5, &[(2, 100)]);
    lc.check(&World { now: 1, nodes: &world }, &[rnote(1, RaftNote::Committed { index: 1 })])
        .expect("S2, in term 5, learns the same commit");
    world[2].state = in_term(2, 5, &[]);
    s3_leads_without_index_1(&mut *lc, &world, 5);
}

/// S3 becomes leader of `term` in `world`; Leader Completeness must say it
/// lacks the committed entry at index 1.
fn s3_leads_without_index_1(lc: &mut dyn Invariant<RaftNode>, world: &[Node<RaftNode>], term: u64) {
    let err = lc
        .check(&World { now: 2, nodes: world }, &[rnote(2, RaftNote::BecameLeader { term })])
        .expect_err("S3 leads without an entry committed in an earlier term");
    assert!(err.contains(&format!("S3 became leader of term {term} without the committed entry")), "{err}");
    assert!(err.contains("at index 1"), "{err}");
}

fn raft_checker(name: &str) -> Box<dyn Invariant<RaftNode>> {
    raft::invariants().into_iter().find(|i| i.name() == name).unwrap_or_else(|| panic!("no checker named {name}"))
}

/// Server `id` of three in `term`, with a log of (term, command) entries.
fn in_term(id: NodeId, term: u64, log: &[(u64, u64)]) -> RaftNode {
    let log = log.iter().map(|&(t, c)| Entry::new(t, c)).collect();
    RaftNode::recover(id, 3, &RaftConfig::default(), RaftDurable { term, log, ..RaftDurable::default() })
}

/// Server `id` of three in `term`, its log empty, with a snapshot of these
/// (term, command) entries.
fn compacted_in_term(id: NodeId, term: u64, entries: &[(u64, u64)]) -> RaftNode {
    let mut state = StateMachine::default();
    for &(t, c) in entries {
        state.apply(&Entry::new(t, c));
    }
    let snapshot = Snapshot { state, config: None, config_index: 0 };
    RaftNode::recover(id, 3, &RaftConfig::default(), RaftDurable { term, snapshot, ..RaftDurable::default() })
}

// Leader Completeness, the other direction (leader_completeness.rs: "an
// entry newly committed by T must already be in the log of every current
// leader of a term >= T"). S1 leads term 2 without entry 1; it notes that
// it is catching up a server, which does not end its leadership; S2, in
// term 2, commits entry 1: S1, leader of term 2, does not hold it.
#[test]
fn leader_completeness_keeps_a_leader_through_notes_that_do_not_end_its_term() {
    let mut world = raft_world(&[&[], &[(1, 100)], &[]]);
    world[0].state = in_term(0, 2, &[]);
    let mut lc = raft_checker("Leader Completeness");
    let w = |now| World { now, nodes: &world };
    lc.check(&w(0), &[rnote(0, RaftNote::BecameLeader { term: 2 })]).expect("S1 leads term 2");
    lc.check(&w(1), &[rnote(0, RaftNote::CatchingUp { id: 2 })]).expect("S1 catches S3 up");
    world[1].state = in_term(1, 2, &[(1, 100)]);
    let err = lc
        .check(&World { now: 2, nodes: &world }, &[rnote(1, RaftNote::Committed { index: 1 })])
        .expect_err("S1, leader of term 2, lacks the entry S2 commits in term 2");
    assert!(err.contains("S1, leader of term 2, does not hold it"), "{err}");
}

// Log Matching follows each note on its own (log_matching.rs keeps every
// node's chain "up to date from the node's notes", and reports a log that
// changed without one): a truncation noted in one step and the append
// that follows it in the next are both an honest log, at each step.
#[test]
fn log_matching_follows_a_truncation_and_the_append_after_it_step_by_step() {
    let mut world = raft_world(&[&[(1, 100), (1, 101)], &[]]);
    let mut lm = raft_checker("Log Matching");
    lm.check(&World { now: 0, nodes: &world }, &[]).expect("S1 holds two entries");
    world[0].state = in_term(0, 2, &[(1, 100)]);
    lm.check(&World { now: 1, nodes: &world }, &[rnote(0, RaftNote::Truncated { from: 2 })])
        .expect("S1 dropped entry 2 and said so");
    world[0].state = in_term(0, 2, &[(1, 100), (2, 200)]);
    lm.check(&World { now: 2, nodes: &world }, &[rnote(0, RaftNote::Appended { from: 2, to: 2 })])
        .expect("then appended another");
}

// The snapshot budget counts Log Matching's records (its `heap_bytes`):
// after 1,000 entries, at least a digest (8 bytes) and a first-writer
// record (index, term, digest and node) for each.
#[test]
fn log_matchings_estimate_counts_its_chains_and_its_records() {
    let log: Vec<(u64, u64)> = (0..1_000).map(|i| (1, 100 + i)).collect();
    let world = raft_world(&[&log, &[]]);
    let mut lm = raft_checker("Log Matching");
    lm.check(&World { now: 0, nodes: &world }, &[]).expect("S1 holds 1,000 entries");
    let floor = 1_000 * (8 + std::mem::size_of::<Option<(u64, u64, NodeId)>>());
    assert!((floor..=4 * floor).contains(&lm.heap_bytes()), "{} bytes, from {floor} to 4 times that", lm.heap_bytes());
}

// State Machine Safety's estimate counts the applied states it keeps: after
// S1 applies 1,000 entries, at least 8 bytes each.
#[test]
fn state_machine_safetys_estimate_counts_what_it_applied() {
    let sms = after_1000_committed("State Machine Safety");
    assert!(sms.heap_bytes() >= 8_000, "{} bytes for 1,000 applied entries", sms.heap_bytes());
}

// Leader Completeness attached mid-run reads who leads from the world:
// here nobody (every server restarted as a follower). S1, a follower of
// term 2 without entry 1, is not held to it when S2 commits it in term 2.
#[test]
fn leader_completeness_attached_mid_run_holds_only_leaders() {
    let mut world = raft_world(&[&[], &[(2, 100)], &[]]);
    world[0].state = in_term(0, 2, &[]);
    let mut lc = raft_checker("Leader Completeness");
    lc.check(&World { now: 0, nodes: &world }, &[rnote(1, RaftNote::Committed { index: 1 })])
        .expect("no leader to hold the entry");
}

// Leader Completeness follows truncations: S3 held entry 1, committed in
// term 2, then dropped it (a bug), and became leader of term 3 without it.
#[test]
fn leader_completeness_sees_a_truncated_entry_gone() {
    let mut world = raft_world(&[&[(2, 100)], &[(2, 100)], &[(2, 100)]]);
    let mut lc = raft_checker("Leader Completeness");
    lc.check(&World { now: 0, nodes: &world }, &[rnote(0, RaftNote::Committed { index: 1 })])
        .expect("S1 commits entry 1 in term 2");
    world[2].state = in_term(2, 3, &[]);
    let events = [rnote(2, RaftNote::Truncated { from: 1 }), rnote(2, RaftNote::BecameLeader { term: 3 })];
    let err = lc.check(&World { now: 1, nodes: &world }, &events).expect_err("S3 dropped the committed entry");
    assert!(err.contains("S3 became leader of term 3 without the committed entry"), "{err}");
}

// Leader Completeness looks further back than the last committed index: a
// server far ahead in term (S2, in term 7, cut off and back) notes the
// commit of index 2, so index 2's commit term is 7; S3 then becomes leader
// of term 6 without index 1, committed in term 3. The entry committed in
// an earlier term is the one below the top, and S3 must hold it.
#[test]
fn leader_completeness_looks_below_an_index_committed_in_a_later_term() {
    let (mut world, mut lc) = index_2_noted_committed_in_term_7();
    world[2].state = in_term(2, 6, &[]);
    s3_leads_without_index_1(&mut *lc, &world, 6);
}

/// S1 commits index 1 in term 3; then S2, in term 7, appends index 2 and
/// notes it committed, so index 2's commit term is 7. The world after
/// (S3's log empty) and Leader Completeness, having followed it.
fn index_2_noted_committed_in_term_7() -> (Vec<Node<RaftNode>>, Box<dyn Invariant<RaftNode>>) {
    let mut world = raft_world(&[&[(3, 100)], &[(3, 100)], &[]]);
    let mut lc = raft_checker("Leader Completeness");
    lc.check(&World { now: 0, nodes: &world }, &[rnote(0, RaftNote::Committed { index: 1 })])
        .expect("S1 commits index 1 in term 3");
    world[1].state = in_term(1, 7, &[(3, 100), (3, 101)]);
    let appended_and_committed =
        [rnote(1, RaftNote::Appended { from: 2, to: 2 }), rnote(1, RaftNote::Committed { index: 2 })];
    lc.check(&World { now: 1, nodes: &world }, &appended_and_committed)
        .expect("S2, in term 7, appends index 2 and notes it committed");
    (world, lc)
}

// Leader Completeness (§5.4, Figure 3) with log compaction (§7: a server's
// snapshot replaces the committed entries it covers): an entry inside a new
// leader's snapshot counts as in its log, once the snapshot agrees with
// the committed prefix where it ends (leader_completeness.rs, `holds`).
// The history of the test above, then S3 installs a snapshot up to index 2
// and becomes leader of term 6: index 1, committed in term 3, is the entry
// it must hold, and it lies inside the snapshot. A snapshot of the
// committed entries holds it; one of other entries (a deposed leader's of
// term 2) ending at the same index does not.
#[test]
fn leader_completeness_finds_a_committed_entry_inside_a_new_leaders_snapshot() {
    let s3_installs = |entries: &[(u64, u64)]| {
        let (mut world, mut lc) = index_2_noted_committed_in_term_7();
        world[2].state = compacted_in_term(2, 6, entries);
        let installed = rnote(2, RaftNote::InstalledSnapshot { index: 2, term: entries[1].0, retained: false });
        lc.check(&World { now: 2, nodes: &world }, &[installed]).expect("S3 installs a snapshot up to index 2");
        (world, lc)
    };
    let (world, mut lc) = s3_installs(&[(3, 100), (3, 101)]);
    let leads = [rnote(2, RaftNote::BecameLeader { term: 6 })];
    assert_eq!(lc.check(&World { now: 3, nodes: &world }, &leads), Ok(()), "index 1 is inside S3's snapshot");
    let (world, mut lc) = s3_installs(&[(2, 200), (2, 201)]);
    s3_leads_without_index_1(&mut *lc, &world, 6);
}

// A leader that stepped down is no longer held to what others commit: S1
// led term 2 and became a follower of term 3, its log since cut back;
// S2, still in term 2, notes entry 1 committed. No current leader of term
// 2 or later lacks it.
#[test]
fn leader_completeness_lets_go_of_a_leader_that_stepped_down() {
    let stepped_down = [rnote(0, RaftNote::BecameFollower { term: 3 }), rnote(0, RaftNote::Truncated { from: 1 })];
    s1_led_then(in_term(0, 3, &[]), &stepped_down);
}

/// S1 leads term 2 holding entry 1; then the events `ended` end its
/// leadership, leaving it as `after` (its log empty); then S2, in term 2,
/// notes entry 1 committed. Leader Completeness must require nothing of
/// S1's log.
fn s1_led_then(after: RaftNode, ended: &[TraceEvent<RaftNode>]) {
    let mut world = raft_world(&[&[(2, 100)], &[(2, 100)], &[]]);
    world[0].state = in_term(0, 2, &[(2, 100)]);
    let mut lc = raft_checker("Leader Completeness");
    lc.check(&World { now: 0, nodes: &world }, &[rnote(0, RaftNote::BecameLeader { term: 2 })])
        .expect("S1 leads term 2");
    world[0].state = after;
    lc.check(&World { now: 1, nodes: &world }, ended).expect("S1's leadership ends, its entry 1 dropped");
    world[1].state = in_term(1, 2, &[(2, 100)]);
    lc.check(&World { now: 2, nodes: &world }, &[rnote(1, RaftNote::Committed { index: 1 })])
        .expect("S1 no longer leads: nothing is required of its log");
}

// A crash ends leadership too (invariants/mod.rs, `changes`: "a crash,
// which ends leadership"): S1 led term 2 and crashed, its log since cut
// back to nothing; S2, still in term 2, notes entry 1 committed. A crashed
// server leads nothing, so nothing is required of its log.
#[test]
fn leader_completeness_lets_go_of_a_leader_that_crashed() {
    let crashed = [TraceEvent::Fault { at: 1, fault: Fault::Crash(0) }, rnote(0, RaftNote::Truncated { from: 1 })];
    s1_led_then(in_term(0, 2, &[]), &crashed);
}

// Leader Completeness looks back from the highest committed index for the
// last entry committed before the new leader's term, as far as its window
// reaches (leader_completeness.rs, `check_new_leader`): the test above, at
// indexes past half the window. S2, in term 2, appends and notes entry
// 8,201 committed, so its commit term is 2; the search must go on to 8,200,
// committed in term 1, which S3, leader of term 2, lacks. A bound on the
// search written as a sum instead of a distance stopped it, past index
// 8,192, at the first index it looked at.
#[test]
fn leader_completeness_looks_past_entries_committed_in_the_new_term() {
    let log: Vec<(u64, u64)> = (0..8_200).map(|i| (1, 100 + i)).collect();
    let mut world = raft_world(&[&log, &log, &log[..8_199]]);
    let mut lc = raft_checker("Leader Completeness");
    lc.check(&World { now: 0, nodes: &world }, &[rnote(0, RaftNote::Committed { index: 8_200 })])
        .expect("S1 commits 8,200 entries in term 1");
    let mut longer = log.clone();
    longer.push((1, 9_999));
    world[1].state = in_term(1, 2, &longer);
    world[2].state = in_term(2, 2, &log[..8_199]);
    lc.check(
        &World { now: 1, nodes: &world },
        &[rnote(1, RaftNote::Appended { from: 8_201, to: 8_201 }), rnote(1, RaftNote::Committed { index: 8_201 })],
    )
    .expect("S2, in term 2, appends entry 8,201 and notes it committed");
    let err = lc
        .check(&World { now: 2, nodes: &world }, &[rnote(2, RaftNote::BecameLeader { term: 2 })])
        .expect_err("S3 leads term 2 without entry 8,200, committed in term 1");
    assert!(err.contains("S3 became leader of term 2 without the committed entry"), "{err}");
    assert!(err.contains("at index 8200"), "{err}");
}

// The snapshot budget counts Leader Completeness's records (its
// `heap_bytes`): after 1,000 committed entries, a digest per entry in each
// log's chain and a (digest, term) record per committed index.
#[test]
fn leader_completeness_estimate_counts_its_chains_and_its_records() {
    let lc = after_1000_committed("Leader Completeness");
    assert!(lc.heap_bytes() >= 1_000 * (8 + 16), "{} bytes for 1,000 committed entries", lc.heap_bytes());
}

/// The named checker after S1 (of two) commits its 1,000 entries.
fn after_1000_committed(name: &str) -> Box<dyn Invariant<RaftNode>> {
    let log: Vec<(u64, u64)> = (0..1_000).map(|i| (1, 100 + i)).collect();
    let world = raft_world(&[&log, &[]]);
    let mut checker = raft_checker(name);
    checker
        .check(&World { now: 0, nodes: &world }, &[rnote(0, RaftNote::Committed { index: 1_000 })])
        .expect("S1 commits its 1,000 entries");
    checker
}

// Log Matching keeps a record for each other term it saw at an index
// (`others`) and counts them in its estimate; once the window has slid past
// those indexes it drops them. S2's entries 2 to 101 are of term 2 where
// S1's are of term 1 (neither committed): 100 such records, about 48 bytes
// each (from one to four times a key and a value). Then S1 appends past
// the window: the records go with it.
#[test]
fn log_matching_counts_the_other_terms_it_saw_and_drops_them_behind_its_window() {
    let ones: Vec<(u64, u64)> = (0..101).map(|i| (1, 100 + i)).collect();
    let twos: Vec<(u64, u64)> = std::iter::once((1, 100)).chain((1..101).map(|i| (2, 500 + i))).collect();
    let fresh = |logs: &[&[(u64, u64)]]| {
        let world = raft_world(logs);
        let mut lm = raft_checker("Log Matching");
        lm.check(&World { now: 0, nodes: &world }, &[]).expect("logs that differ only where uncommitted");
        (world, lm)
    };
    let (_, same) = fresh(&[&ones, &ones]);
    let (mut world, mut lm) = fresh(&[&ones, &twos]);
    let others = lm.heap_bytes().checked_sub(same.heap_bytes()).expect("the other term's records add to the estimate");
    let record = std::mem::size_of::<((u64, u64), (u64, NodeId))>();
    assert!((100 * record..=4 * 100 * record).contains(&others), "{others} bytes for 100 records of another term");
    let long: Vec<(u64, u64)> = (0..101 + WINDOW + 10).map(|i| (1, 100 + i)).collect();
    world[0].state = in_term(0, 1, &long);
    lm.check(&World { now: 1, nodes: &world }, &[rnote(0, RaftNote::Appended { from: 102, to: 101 + WINDOW + 10 })])
        .expect("S1 appends past the window");
    let (_, behind) = fresh(&[&long, &ones]);
    assert!(
        lm.heap_bytes() <= behind.heap_bytes() + 1_000,
        "{} bytes, {} without the other term's records",
        lm.heap_bytes(),
        behind.heap_bytes()
    );
}
