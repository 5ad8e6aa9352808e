//! One test per claim, continued: log compaction (§7 and Figure 13 of the
//! Raft paper, extended version) and single-server membership changes
//! (Ongaro's thesis, "Consensus: Bridging Theory and Practice", §4). As in
//! `raft_paper.rs`, each test drives `RaftNode`s directly through their
//! handlers with a hand-made `Ctx` and checks the effects they push; each
//! opens with the section it guards.

use clusterscope_core::raft::{
    Entry, MemberChange, Members, Membership, RaftConfig, RaftDurable, RaftMsg, RaftNode, RaftNote, RaftTimer, Role,
    Snapshot, StateMachine,
};
use clusterscope_core::sim::{NodeId, Protocol, MS};
use std::sync::Arc;

// ----- a tiny harness (tests/hand) -----

mod hand;
use hand::{notes, sends};

/// A Raft server driven by hand.
type T = hand::Hand<RaftNode>;
type Effects = hand::Effects<RaftNode>;

impl T {
    fn new(id: NodeId, n: u32, cfg: RaftConfig) -> T {
        T::fresh(id, n, cfg)
    }
    fn recover(id: NodeId, n: u32, cfg: RaftConfig, durable: RaftDurable) -> T {
        T::recovered(id, n, cfg, durable)
    }
    fn change(&mut self, change: MemberChange) -> Effects {
        self.run(|n, c| n.change_membership(change, c))
    }
    /// Makes this node leader of its next term with just enough votes.
    fn elect(&mut self) {
        self.force();
        let term = self.node.term();
        let me = self.node.id();
        let voters: Vec<NodeId> = self.node.configuration().iter().filter(|&p| p != me).collect();
        for p in voters {
            if self.node.role() == Role::Leader {
                break;
            }
            self.msg(p, RaftMsg::RequestVoteReply { term, granted: true, pre_vote: false });
        }
        assert_eq!(self.node.role(), Role::Leader);
    }
}

fn cfg(snapshot_every: u64) -> RaftConfig {
    RaftConfig { snapshot_every, ..RaftConfig::default() }
}

fn log_of(terms: &[u64]) -> Vec<Entry> {
    terms.iter().enumerate().map(|(i, &t)| Entry::new(t, t * 1_000 + i as u64 + 1)).collect()
}

/// The snapshot a server holds after applying `log` (a prefix from index 1).
fn snapshot_of(log: &[Entry]) -> Snapshot {
    let mut state = StateMachine::default();
    for e in log {
        state.apply(e);
    }
    Snapshot { state, config: None, config_index: 0 }
}

fn append(term: u64, prev: u64, prev_term: u64, entries: Vec<Entry>, commit: u64) -> RaftMsg {
    RaftMsg::AppendEntries {
        term,
        prev_log_index: prev,
        prev_log_term: prev_term,
        entries: Arc::from(entries),
        leader_commit: commit,
    }
}

fn ack(term: u64, index: u64) -> RaftMsg {
    RaftMsg::AppendEntriesReply { term, success: true, index, conflict_index: 0, conflict_term: None, heartbeat: false }
}

fn install_replies(e: &Effects) -> Vec<u64> {
    sends(e)
        .into_iter()
        .filter_map(|(_, m)| if let RaftMsg::InstallSnapshotReply { index, .. } = m { Some(index) } else { None })
        .collect()
}

fn append_reply(e: &Effects) -> (bool, u64) {
    let r: Vec<_> = sends(e)
        .into_iter()
        .filter_map(|(_, m)| {
            if let RaftMsg::AppendEntriesReply { success, index, .. } = m {
                Some((success, index))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(r.len(), 1, "one AppendEntriesReply expected in {e:?}");
    r[0]
}

// ----- §7: log compaction -----

// §7: "Each server takes snapshots independently, covering just the
// committed entries in its log ... the server ... can delete all log
// entries up through the last included index". A single server commits
// alone; once its log holds more than `snapshot_every` entries, its next
// handler compacts into a snapshot that keeps the last included index and
// term and the state machine there. (It stops `snapshot_every / 2`
// applied entries short, for followers a little behind.)
#[test]
fn s7_a_server_snapshots_its_state_machine_when_its_log_passes_the_threshold() {
    let mut t = T::new(0, 1, cfg(4));
    t.elect();
    for req in 1..=5 {
        t.request(req);
    }
    assert_eq!(t.node.commit_index(), 5);
    assert_eq!(t.node.log().len(), 5, "compaction waits for the next handler");
    let e = t.request(6);
    assert_eq!(notes(&e)[0], RaftNote::Snapshotted { index: 3, term: 1 });
    assert_eq!(t.node.snapshot().index(), 3);
    assert_eq!(t.node.snapshot().term(), 1);
    assert_eq!(t.node.first_log_index(), 4);
    assert_eq!(t.node.last_log_index(), 6);
    assert_eq!(t.node.log(), &[Entry::new(1, 4), Entry::new(1, 5), Entry::new(1, 6)]);
    assert_eq!(t.node.state_machine().commands, 6);
    assert_eq!(t.node.snapshot().state.commands, 3);
    // The snapshot is exactly the state machine after the first three entries.
    let mut expected = StateMachine::default();
    for req in 1..=3 {
        expected.apply(&Entry::new(1, req));
    }
    assert_eq!(t.node.snapshot().state, expected);
}

// §7: with compaction off (`snapshot_every 0`) the log keeps everything.
#[test]
fn s7_no_compaction_when_turned_off() {
    let mut t = T::new(0, 1, cfg(0));
    t.elect();
    for req in 1..=50 {
        t.request(req);
    }
    assert_eq!(t.node.snapshot().index(), 0);
    assert_eq!(t.node.log().len(), 50);
}

// §7 (and Figure 13's "save snapshot file"): the snapshot is on stable
// storage. A server restarting after a crash rebuilds its state machine
// from it; its commit index starts at the last included index.
#[test]
fn s7_snapshots_are_durable_across_a_crash() {
    let mut t = T::new(0, 1, cfg(3));
    t.elect();
    for req in 1..=6 {
        t.request(req);
    }
    // Compacted at the start of request 5 (the log held 4 > 3 entries), up
    // to 4 - 3/2 = 3.
    let durable = t.node.durable();
    assert_eq!(durable.snapshot.index(), 3);
    let r = T::recover(0, 1, cfg(3), durable);
    assert_eq!(r.node.commit_index(), 3);
    assert_eq!(r.node.state_machine(), &r.node.snapshot().state);
    assert_eq!(r.node.last_log_index(), 6);
    assert_eq!(r.node.last_log_term(), 1);
    assert_eq!(r.node.term_at(3), Some(1), "the snapshot's last entry keeps its term");
    assert_eq!(r.node.term_at(2), None, "entries before it are gone");
}

// §7: "the leader must occasionally send snapshots to followers that lag
// behind. This happens when the leader has already discarded the next log
// entry that it needs to send to a follower."
#[test]
fn s7_the_leader_sends_install_snapshot_when_the_next_entry_was_compacted() {
    let prefix = log_of(&[1, 1, 1, 1, 1]);
    let durable = RaftDurable {
        term: 1,
        voted_for: None,
        log: log_of(&[1, 1, 1, 1, 1, 1])[5..].to_vec(),
        snapshot: snapshot_of(&prefix),
    };
    let mut t = T::recover(0, 3, cfg(3), durable);
    t.elect();
    // S2's log is empty: it refuses and hints index 1, which is compacted.
    let e = t.msg(
        1,
        RaftMsg::AppendEntriesReply {
            term: 2,
            success: false,
            index: 6,
            conflict_index: 1,
            conflict_term: None,
            heartbeat: true,
        },
    );
    let out = sends(&e);
    assert_eq!(out.len(), 1);
    match &out[0] {
        (1, RaftMsg::InstallSnapshot { term: 2, snapshot }) => {
            assert_eq!((snapshot.index(), snapshot.term()), (5, 1));
            assert_eq!(snapshot.state, snapshot_of(&prefix).state);
        }
        other => panic!("expected InstallSnapshot to S2, got {other:?}"),
    }
    // The answer moves matchIndex to the snapshot and replication goes on
    // from the next entry.
    let e = t.msg(1, RaftMsg::InstallSnapshotReply { term: 2, index: 5 });
    assert_eq!(t.node.match_index()[1], 5);
    assert!(sends(&e)
        .iter()
        .any(|(to, m)| *to == 1 && matches!(m, RaftMsg::AppendEntries { prev_log_index: 5, prev_log_term: 1, .. })));
}

// Figure 13, step 6: "If existing log entry has same index and term as
// snapshot's last included entry, retain log entries following it and
// reply."
#[test]
fn fig13_a_follower_holding_the_last_included_entry_keeps_what_follows() {
    let log = log_of(&[1, 1, 1, 1, 2, 2]);
    let mut t = T::recover(
        1,
        3,
        cfg(100),
        RaftDurable { term: 2, voted_for: None, log: log.clone(), snapshot: Snapshot::default() },
    );
    let e = t.msg(0, RaftMsg::InstallSnapshot { term: 2, snapshot: snapshot_of(&log[..4]) });
    assert_eq!(notes(&e), vec![RaftNote::InstalledSnapshot { index: 4, term: 1, retained: true }]);
    assert_eq!(install_replies(&e), vec![4]);
    assert_eq!(t.node.log(), &log[4..]);
    assert_eq!(t.node.last_log_index(), 6);
    assert_eq!(t.node.commit_index(), 4);
    assert_eq!(t.node.state_machine(), &snapshot_of(&log[..4]).state);
}

// Figure 13, steps 7 and 8: otherwise "discard the entire log" and "reset
// state machine using snapshot contents".
#[test]
fn fig13_a_follower_without_the_last_included_entry_discards_its_whole_log() {
    let mine = log_of(&[1, 1, 3]);
    let leaders = log_of(&[1, 1, 2, 2]);
    let mut t =
        T::recover(1, 3, cfg(100), RaftDurable { term: 3, voted_for: None, log: mine, snapshot: Snapshot::default() });
    let e = t.msg(0, RaftMsg::InstallSnapshot { term: 3, snapshot: snapshot_of(&leaders) });
    assert_eq!(notes(&e), vec![RaftNote::InstalledSnapshot { index: 4, term: 2, retained: false }]);
    assert!(t.node.log().is_empty());
    assert_eq!((t.node.last_log_index(), t.node.last_log_term()), (4, 2));
    assert_eq!(t.node.state_machine(), &snapshot_of(&leaders).state);
    assert_eq!(install_replies(&e), vec![4]);
}

// Figure 13, step 1: "Reply immediately if term < currentTerm"; and a
// snapshot that brings nothing new (already committed here) changes nothing
// and is only acknowledged.
#[test]
fn fig13_stale_snapshots_change_nothing() {
    let log = log_of(&[1, 1, 1, 1]);
    let mut t = T::recover(
        1,
        3,
        cfg(100),
        RaftDurable { term: 5, voted_for: None, log: log.clone(), snapshot: Snapshot::default() },
    );
    let e = t.msg(0, RaftMsg::InstallSnapshot { term: 4, snapshot: snapshot_of(&log[..2]) });
    assert_eq!(install_replies(&e), vec![0], "refused: stale term");
    assert!(notes(&e).is_empty());
    t.msg(0, append(5, 4, 1, vec![], 3));
    assert_eq!(t.node.commit_index(), 3);
    let e = t.msg(0, RaftMsg::InstallSnapshot { term: 5, snapshot: snapshot_of(&log[..2]) });
    assert_eq!(install_replies(&e), vec![2]);
    assert!(notes(&e).is_empty(), "nothing installed: {:?}", notes(&e));
    assert_eq!(t.node.log().len(), 4);
}

// §7 with §5.3: AppendEntries' consistency check at the snapshot boundary
// uses the last included index and term; entries the snapshot already
// covers are skipped, not refused.
#[test]
fn s7_append_entries_at_and_below_the_snapshot_boundary() {
    let log = log_of(&[1, 1, 1, 1]);
    let mut t =
        T::recover(1, 3, cfg(100), RaftDurable { term: 1, voted_for: None, log: vec![], snapshot: snapshot_of(&log) });
    let e = t.msg(0, append(1, 4, 1, vec![Entry::new(1, 5)], 4));
    assert_eq!(append_reply(&e), (true, 5));
    let all = [log.clone(), vec![Entry::new(1, 5), Entry::new(1, 6)]].concat();
    let e = t.msg(0, append(1, 2, 1, all[2..].to_vec(), 4));
    assert_eq!(append_reply(&e), (true, 6));
    assert_eq!(t.node.last_log_index(), 6);
    assert_eq!(t.node.log(), &all[4..]);
    // A wrong term at the boundary is a conflict like any other.
    let e = t.msg(0, append(1, 4, 9, vec![], 4));
    assert!(!append_reply(&e).0);
}

// §5.4.1 with §7: the up-to-date check uses the last log index and term,
// which is the snapshot's last included entry when the log is empty.
#[test]
fn s7_votes_compare_the_snapshot_last_entry_when_the_log_is_empty() {
    let log = log_of(&[1, 2, 3, 3]);
    let mut t =
        T::recover(1, 3, cfg(100), RaftDurable { term: 3, voted_for: None, log: vec![], snapshot: snapshot_of(&log) });
    let granted =
        |e: &Effects| sends(e).iter().any(|(_, m)| matches!(m, RaftMsg::RequestVoteReply { granted: true, .. }));
    let e = t.msg(2, RaftMsg::RequestVote { term: 4, last_log_index: 3, last_log_term: 3, pre_vote: false });
    assert!(!granted(&e), "a shorter log of the same last term is behind");
    let e = t.msg(0, RaftMsg::RequestVote { term: 5, last_log_index: 4, last_log_term: 3, pre_vote: false });
    assert!(granted(&e));
}

// ----- thesis §4: membership changes -----

fn members(ids: &[NodeId]) -> Members {
    ids.iter().fold(Members::default(), |m, &i| m.with(i))
}

/// A leader (S1) of a cluster of `n` slots whose first `voters` are members,
/// with one committed entry of its term.
fn leader_of(n: u32, voters: u32) -> T {
    let mut t = T::new(0, n, RaftConfig { members: voters, ..RaftConfig::default() });
    t.elect();
    t.request(1);
    for p in 1..voters {
        t.msg(p, ack(1, 1));
    }
    assert_eq!(t.node.commit_index(), 1);
    t
}

// Thesis §4.1 (with the simulator's server slots): a server outside the
// configuration is not a voter; it starts no elections of its own.
#[test]
fn t4_1_a_spare_server_waits_to_be_contacted() {
    let mut t = T::new(4, 5, RaftConfig { members: 3, ..RaftConfig::default() });
    let e = t.run(|n, c| n.on_start(c));
    assert!(e.is_empty(), "no election timer: {e:?}");
    assert_eq!(t.node.membership(), Membership::Spare);
    let e = t.timer(RaftTimer::Election);
    assert!(sends(&e).is_empty() && t.node.role() == Role::Follower);
}

// Thesis §4.2.1: "the new server joins the cluster as a non-voting member
// ... the leader replicates log entries to it, but it is not yet counted
// towards majorities"; the configuration entry is appended only once it
// has caught up (a round shorter than an election timeout).
#[test]
fn t4_2_1_a_new_server_catches_up_as_a_learner_first() {
    let mut t = leader_of(4, 3);
    let e = t.change(MemberChange::Add(3));
    assert_eq!(notes(&e), vec![RaftNote::CatchingUp { id: 3 }]);
    assert!(sends(&e).iter().any(|(to, m)| *to == 3 && matches!(m, RaftMsg::AppendEntries { .. })));
    assert_eq!(t.node.learner(), Some(3));
    assert_eq!(t.node.configuration(), members(&[0, 1, 2]), "no configuration entry yet");
    // Client entries go to the learner too, but it does not count: one
    // ack from the learner alone commits nothing.
    t.request(2);
    t.msg(3, ack(1, 2));
    assert_eq!(t.node.commit_index(), 1, "a learner's copy does not count");
    // Caught up within one round: the leader appends C_new, in force at once.
    assert_eq!(t.node.configuration(), members(&[0, 1, 2, 3]));
    let i = t.node.configuration_index();
    assert_eq!(t.node.log().last().and_then(|e| e.config.as_deref().copied()), Some(members(&[0, 1, 2, 3])));
    assert!(i > t.node.commit_index(), "in force before it commits (§4.1)");
    // C_new needs 3 of 4 now.
    t.msg(1, ack(1, i));
    assert!(t.node.commit_index() < i);
    t.msg(3, ack(1, i));
    assert_eq!(t.node.commit_index(), i);
}

// Thesis §4.1: "the leader ... will not start a new configuration change
// until the previous one has committed"; a second change is refused.
#[test]
fn t4_1_one_change_at_a_time() {
    let mut t = leader_of(5, 5);
    t.change(MemberChange::Remove(4));
    let i = t.node.configuration_index();
    assert!(i > t.node.commit_index());
    let e = t.change(MemberChange::Remove(3));
    assert_eq!(notes(&e), vec![RaftNote::ChangeRefused { id: 3, reason: "another change is in flight" }]);
    assert_eq!(t.node.configuration(), members(&[0, 1, 2, 3]));
    for p in 1..3 {
        t.msg(p, ack(1, i));
    }
    assert_eq!(t.node.commit_index(), i, "3 of the new 4 commit it");
    let e = t.change(MemberChange::Remove(3));
    assert!(notes(&e).iter().any(|n| matches!(n, RaftNote::Configured { .. })), "{:?}", notes(&e));
}

// Thesis §4.1 and the 2015 fix to single-server changes: a leader appends
// a configuration only after it has committed an entry of its own term; a
// fresh leader with nothing committed in its term appends a no-op first.
#[test]
fn t4_1_a_new_leader_commits_a_no_op_before_changing_the_configuration() {
    let mut t = T::new(0, 3, RaftConfig::default());
    t.elect();
    let e = t.change(MemberChange::Remove(2));
    let appended: Vec<Entry> = t.node.log().to_vec();
    assert_eq!(appended, vec![Entry { term: 1, command: 0, config: None, kv: None }], "{:?}", notes(&e));
    t.msg(1, ack(1, 1));
    assert_eq!(t.node.commit_index(), 1);
    assert_eq!(t.node.configuration(), members(&[0, 1]));
    assert_eq!(t.node.configuration_index(), 2);
}

// Thesis §4.1: "a server always uses the latest configuration in its log,
// regardless of whether the entry is committed"; when a configuration
// entry is removed from the log (a conflicting leader), it falls back to
// the previous one.
#[test]
fn t4_1_followers_use_the_latest_configuration_in_their_log_and_roll_back() {
    let mut t = T::new(1, 3, RaftConfig::default());
    let c = Entry::with_config(1, members(&[0, 1]));
    let e = t.msg(0, append(1, 0, 0, vec![c], 0));
    assert!(append_reply(&e).0);
    assert_eq!(t.node.configuration(), members(&[0, 1]));
    assert!(notes(&e).contains(&RaftNote::Configured { index: 1, members: members(&[0, 1]) }));
    let e = t.msg(2, append(2, 0, 0, vec![Entry::new(2, 7)], 0));
    assert!(append_reply(&e).0);
    assert_eq!(t.node.configuration(), members(&[0, 1, 2]));
    assert_eq!(t.node.configuration_index(), 0);
}

// Thesis §4.2.2: a leader removed from the configuration "steps down once
// the Cnew entry is committed", managing the cluster until then without
// counting itself in majorities.
#[test]
fn t4_2_2_a_removed_leader_steps_down_after_committing_its_removal() {
    let mut t = leader_of(3, 3);
    t.change(MemberChange::Remove(0));
    let i = t.node.configuration_index();
    assert_eq!(t.node.configuration(), members(&[1, 2]));
    assert_eq!(t.node.role(), Role::Leader);
    t.msg(1, ack(1, i));
    assert_eq!(t.node.role(), Role::Leader, "one of {{S2, S3}} is not a majority of them");
    let e = t.msg(2, ack(1, i));
    assert!(notes(&e).iter().any(|n| matches!(n, RaftNote::SteppedDown { reason, .. } if reason.contains("removal"))));
    assert_eq!(t.node.role(), Role::Follower);
    assert_eq!(t.node.membership(), Membership::Removed);
    let e = t.timer(RaftTimer::Election);
    assert!(sends(&e).is_empty(), "a removed server does not campaign");
}

// Thesis §4.2.3: "if a server receives a RequestVote request within the
// minimum election timeout of hearing from a current leader, it does not
// update its term or grant its vote." With the guard off, the same request
// deposes the leader's follower into a new term (the disruption).
#[test]
fn t4_2_3_the_vote_guard_ignores_request_vote_while_a_leader_is_heard() {
    for guard in [true, false] {
        let mut t = T::new(1, 3, RaftConfig { vote_guard: guard, ..RaftConfig::default() });
        t.msg(0, append(1, 0, 0, vec![], 0));
        t.now = 10 * MS;
        let rv = RaftMsg::RequestVote { term: 7, last_log_index: 9, last_log_term: 1, pre_vote: false };
        let e = t.msg(2, rv.clone());
        if guard {
            assert!(e.is_empty(), "ignored entirely: {e:?}");
            assert_eq!(t.node.term(), 1);
            // Once the minimum election timeout has passed, it is heard.
            t.now += t.node.config().election_timeout_min;
            t.msg(2, rv);
            assert_eq!(t.node.term(), 7);
        } else {
            assert_eq!(t.node.term(), 7, "without the guard the term rises");
        }
    }
}

// Thesis §4.2.2: "a server that is not part of its own latest configuration
// should still start new elections, as it might still be needed until the
// Cnew entry is committed". It asks the members of Cnew and does not count
// its own vote. Once it knows Cnew committed, it waits; a learner that was
// never in the configuration before never campaigns.
#[test]
fn t4_2_2_a_server_left_out_of_an_uncommitted_configuration_still_campaigns() {
    let mut t = T::new(2, 3, RaftConfig::default());
    let c = Entry::with_config(1, members(&[0, 1]));
    t.msg(0, append(1, 0, 0, vec![Entry::new(1, 1), c.clone()], 0));
    assert_eq!(t.node.membership(), Membership::Removed);
    let e = t.timer(RaftTimer::Election);
    assert_eq!(t.node.role(), Role::Candidate);
    let asked: Vec<NodeId> = sends(&e).into_iter().map(|(to, _)| to).collect();
    assert_eq!(asked, vec![0, 1]);
    assert_eq!(t.node.votes_granted(), 0, "its own vote does not count in Cnew");
    t.msg(0, RaftMsg::RequestVoteReply { term: 2, granted: true, pre_vote: false });
    assert_eq!(t.node.role(), Role::Candidate, "one of two is not a majority of Cnew");
    t.msg(1, RaftMsg::RequestVoteReply { term: 2, granted: true, pre_vote: false });
    assert_eq!(t.node.role(), Role::Leader, "it leads Cnew until Cnew commits");

    // Once Cnew is known committed, the removed server waits.
    let mut u = T::new(2, 3, RaftConfig::default());
    u.msg(0, append(1, 0, 0, vec![Entry::new(1, 1), c], 2));
    let e = u.timer(RaftTimer::Election);
    assert!(sends(&e).is_empty() && u.node.role() == Role::Follower);

    // A learner (S4 of 4 slots, initial members S1..S3) that holds an
    // uncommitted configuration it is not in, and was not in before, waits.
    let mut l = T::new(3, 4, RaftConfig { members: 3, ..RaftConfig::default() });
    l.msg(0, append(1, 0, 0, vec![Entry::with_config(1, members(&[0, 1]))], 0));
    assert_eq!(l.node.membership(), Membership::Learner);
    let e = l.timer(RaftTimer::Election);
    assert!(sends(&e).is_empty() && l.node.role() == Role::Follower);
}
