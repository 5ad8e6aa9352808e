//! One test per claim of the Raft paper (Ongaro & Ousterhout, extended
//! version), in the manner of raft-rs's `test_raft_paper.rs`: each test
//! drives a `RaftNode` directly through its handlers with a hand-made `Ctx`
//! and checks the effects it pushes. No simulator is involved, so every
//! message, timer and note is explicit. Tests open with the section they
//! guard; the Pre-Vote and CheckQuorum tests cite Ongaro's thesis.

use clusterscope_core::raft::{Entry, RaftConfig, RaftDurable, RaftMsg, RaftNode, RaftNote, RaftTimer, Role};
use clusterscope_core::sim::{Fingerprint, NodeId, Observable, Protocol, Reply, MS};
use std::sync::Arc;

// ----- a tiny harness (tests/hand) -----

mod hand;
use hand::{cancelled, notes, replies, sends, timers_set};

/// A Raft server driven by hand.
type T = hand::Hand<RaftNode>;
type Effects = hand::Effects<RaftNode>;

impl T {
    fn new(id: NodeId, n: u32) -> T {
        T::fresh(id, n, RaftConfig::default())
    }
    fn with_config(id: NodeId, n: u32, cfg: RaftConfig) -> T {
        T::fresh(id, n, cfg)
    }
    fn recover(id: NodeId, n: u32, cfg: RaftConfig, durable: RaftDurable) -> T {
        T::recovered(id, n, cfg, durable)
    }
    /// A node with the given term and log (entry terms), commands derived
    /// from (index, term) so equal (index, term) means equal entries.
    fn with_log(id: NodeId, n: u32, term: u64, terms: &[u64]) -> T {
        T::recover(
            id,
            n,
            RaftConfig::default(),
            RaftDurable { term, voted_for: None, log: log_of(terms), ..RaftDurable::default() },
        )
    }
}

fn log_of(terms: &[u64]) -> Vec<Entry> {
    terms
        .iter()
        .enumerate()
        .map(|(i, &t)| Entry { term: t, command: t * 1_000 + i as u64 + 1, config: None, kv: None })
        .collect()
}

fn vote(term: u64, granted: bool) -> RaftMsg {
    RaftMsg::RequestVoteReply { term, granted, pre_vote: false }
}

fn request_vote(term: u64, last_log_index: u64, last_log_term: u64) -> RaftMsg {
    RaftMsg::RequestVote { term, last_log_index, last_log_term, pre_vote: false }
}

fn append(term: u64, prev_log_index: u64, prev_log_term: u64, entries: Vec<Entry>, leader_commit: u64) -> RaftMsg {
    RaftMsg::AppendEntries { term, prev_log_index, prev_log_term, entries: Arc::from(entries), leader_commit }
}

fn ack(term: u64, index: u64) -> RaftMsg {
    RaftMsg::AppendEntriesReply { term, success: true, index, conflict_index: 0, conflict_term: None, heartbeat: false }
}

/// The single AppendEntriesReply in `e`, as (success, index, conflict_index, conflict_term, term).
fn the_reply(e: &Effects) -> (bool, u64, u64, Option<u64>, u64) {
    let r: Vec<_> = sends(e)
        .into_iter()
        .filter_map(|(_, m)| match m {
            RaftMsg::AppendEntriesReply { success, index, conflict_index, conflict_term, term, .. } => {
                Some((success, index, conflict_index, conflict_term, term))
            }
            _ => None,
        })
        .collect();
    assert_eq!(r.len(), 1, "expected one AppendEntriesReply in {e:?}");
    r[0]
}

/// Makes `t` the leader of `term`: it times out from `term - 1` and
/// receives just enough votes. Returns the effects of winning.
fn elect(t: &mut T) -> Effects {
    t.force();
    let term = t.node.term();
    let mut last = Vec::new();
    let need = t.n / 2; // votes besides its own
    let me = t.node.id();
    let voters: Vec<NodeId> = (0..t.n).filter(|&p| p != me).take(need as usize).collect();
    for p in voters {
        last = t.msg(p, vote(term, true));
    }
    assert_eq!(t.node.role(), Role::Leader);
    last
}

/// A leader of `term` with the given log.
fn leader_with_log(id: NodeId, n: u32, term: u64, terms: &[u64]) -> T {
    let mut t = T::with_log(id, n, term - 1, terms);
    elect(&mut t);
    assert_eq!(t.node.term(), term);
    t
}

// ----- §5.1: terms -----

// §5.1: "If a server's current term is smaller than the other's, it updates
// its current term to the larger value. If a candidate or leader discovers
// that its term is out of date, it immediately reverts to follower state."
#[test]
fn s5_1_a_higher_term_turns_every_role_into_a_follower_of_it() {
    for role in [Role::Follower, Role::Candidate, Role::Leader] {
        let mut t = T::new(0, 3);
        match role {
            Role::Candidate => {
                t.force();
            }
            Role::Leader => {
                elect(&mut t);
            }
            _ => {}
        }
        assert_eq!(t.node.role(), role);
        let before = t.node.term();
        // A reply carrying a later term is enough.
        let e = t.msg(2, vote(before + 5, false));
        assert_eq!(t.node.term(), before + 5, "{role:?}");
        assert_eq!(t.node.role(), Role::Follower, "{role:?}");
        assert_eq!(t.node.voted_for(), None, "a new term clears the vote ({role:?})");
        assert!(notes(&e).contains(&RaftNote::BecameFollower { term: before + 5 }));
        if role == Role::Leader {
            assert!(notes(&e).iter().any(|n| matches!(n, RaftNote::SteppedDown { .. })));
            assert!(cancelled(&e, RaftTimer::Heartbeat));
            assert!(
                timers_set(&e).iter().any(|(t, _)| *t == RaftTimer::Election),
                "a former leader needs an election timer"
            );
        }
    }
}

// §5.1: "If a server receives a request with a stale term number, it rejects
// the request." The answer carries the current term so the sender learns it.
#[test]
fn s5_1_requests_with_a_stale_term_are_refused() {
    let mut t = T::with_log(0, 3, 5, &[1, 2]);
    let e = t.msg(1, append(3, 2, 2, log_of(&[1, 2, 3])[2..].to_vec(), 2));
    let (success, _, _, _, term) = the_reply(&e);
    assert!(!success);
    assert_eq!(term, 5);
    assert_eq!(t.node.log().len(), 2, "a stale leader must not change the log");
    assert_eq!(t.node.commit_index(), 0);
    assert_eq!(t.node.leader_hint(), None, "a stale leader is not recognised");

    let e = t.msg(2, request_vote(4, 10, 4));
    assert_eq!(sends(&e), vec![(2, vote(5, false))]);
    assert_eq!(t.node.voted_for(), None);
    assert_eq!(t.node.term(), 5);
}

// §5.1: replies from an earlier term are stale and must not count.
#[test]
fn s5_1_replies_from_an_earlier_term_are_ignored() {
    let mut t = T::with_log(0, 3, 4, &[]);
    t.force(); // candidate in term 5
    t.msg(1, vote(4, true));
    assert_eq!(t.node.role(), Role::Candidate, "a vote from term 4 must not elect a term-5 candidate");
    assert_eq!(t.node.votes_granted(), 1);
}

// ----- §5.2: leader election -----

// §5.2: "When servers start up, they begin as followers", and each arms a
// randomized election timeout in [min, max].
#[test]
fn s5_2_servers_start_as_followers_with_an_election_timer() {
    let mut t = T::new(1, 5);
    assert_eq!((t.node.role(), t.node.term(), t.node.voted_for(), t.node.commit_index()), (Role::Follower, 0, None, 0));
    let e = t.start();
    let cfg = RaftConfig::default();
    let set = timers_set(&e);
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].0, RaftTimer::Election);
    assert!((cfg.election_timeout_min..=cfg.election_timeout_max).contains(&set[0].1));
    assert!(sends(&e).is_empty(), "a follower issues no requests of its own");
}

// §5.2: "Raft uses randomized election timeouts ... chosen randomly from a
// fixed interval (e.g., 150–300ms)", drawn from each node's own stream.
#[test]
fn s5_2_election_timeouts_are_randomized_within_the_interval() {
    let cfg = RaftConfig::default();
    let mut seen = std::collections::BTreeSet::new();
    for id in 0..5 {
        let mut t = T::new(id, 5);
        for _ in 0..20 {
            for (timer, after) in timers_set(&t.start()) {
                assert_eq!(timer, RaftTimer::Election);
                assert!((cfg.election_timeout_min..=cfg.election_timeout_max).contains(&after), "{after}");
                seen.insert(after);
            }
        }
    }
    assert!(seen.len() > 50, "timeouts should spread over the interval, got {} distinct values", seen.len());
    // The same stream gives the same timeouts (determinism).
    let draw = || timers_set(&T::new(3, 5).start())[0].1;
    assert_eq!(draw(), draw());
}

// §5.2: "To begin an election, a follower increments its current term and
// transitions to candidate state. It then votes for itself and issues
// RequestVote RPCs in parallel to each of the other servers." It also
// resets its election timer.
#[test]
fn s5_2_a_follower_that_times_out_starts_an_election() {
    let mut t = T::with_log(2, 5, 3, &[1, 3]);
    let e = t.timer(RaftTimer::Election);
    assert_eq!(t.node.role(), Role::Candidate);
    assert_eq!(t.node.term(), 4);
    assert_eq!(t.node.voted_for(), Some(2));
    assert_eq!(t.node.votes_granted(), 1);
    assert_eq!(notes(&e), vec![RaftNote::BecameCandidate { term: 4 }]);
    let mut to: Vec<NodeId> = sends(&e).iter().map(|(p, _)| *p).collect();
    to.sort();
    assert_eq!(to, vec![0, 1, 3, 4]);
    for (_, m) in sends(&e) {
        assert_eq!(m, request_vote(4, 2, 3));
        assert_eq!(m.kind(), "RequestVote");
    }
    assert!(timers_set(&e).iter().any(|(t, _)| *t == RaftTimer::Election));
    assert_eq!(t.node.durable().voted_for, Some(2), "the vote for itself is persisted");
}

// §5.2: "If many followers become candidates at the same time, votes could
// be split ... each candidate will time out and start a new election by
// incrementing its term and initiating another round of RequestVote RPCs."
#[test]
fn s5_2_a_candidate_that_times_out_starts_a_new_election() {
    let mut t = T::new(0, 3);
    t.timer(RaftTimer::Election);
    t.msg(1, vote(1, false));
    let e = t.timer(RaftTimer::Election);
    assert_eq!((t.node.role(), t.node.term()), (Role::Candidate, 2));
    assert_eq!(sends(&e).len(), 2);
    assert!(sends(&e).iter().all(|(_, m)| *m == request_vote(2, 0, 0)));
}

// §5.2: "A candidate wins an election if it receives votes from a majority
// of the servers in the full cluster for the same term." Refusals and
// duplicated grants do not count.
#[test]
fn s5_2_a_candidate_wins_only_with_a_majority_of_distinct_votes() {
    let mut t = T::new(0, 5);
    t.timer(RaftTimer::Election);
    t.msg(1, vote(1, true));
    t.msg(1, vote(1, true)); // the network duplicated it
    t.msg(2, vote(1, false));
    t.msg(3, vote(1, false));
    assert_eq!(t.node.role(), Role::Candidate, "2 distinct votes of 5 are not a majority");
    assert_eq!(t.node.votes_granted(), 2);
    let e = t.msg(4, vote(1, true));
    assert_eq!(t.node.role(), Role::Leader);
    assert_eq!(t.node.leader_hint(), Some(0));
    assert_eq!(notes(&e), vec![RaftNote::BecameLeader { term: 1 }]);
    // "Once a candidate wins ... it sends heartbeat messages to all of the
    // other servers to establish its authority."
    let out = sends(&e);
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|(_, m)| m.kind() == "Heartbeat"));
    assert!(cancelled(&e, RaftTimer::Election));
    assert!(timers_set(&e).contains(&(RaftTimer::Heartbeat, RaftConfig::default().heartbeat)));
    assert_eq!(t.node.next_index()[1], 1, "nextIndex starts after the leader's last entry");
    assert_eq!(t.node.match_index()[1], 0, "matchIndex starts at 0");
}

// §5.2: "Each server will vote for at most one candidate in a given term, on
// a first-come-first-served basis", and the vote is persistent state.
#[test]
fn s5_2_a_server_votes_at_most_once_per_term() {
    let mut t = T::new(0, 3);
    let e = t.msg(1, request_vote(1, 0, 0));
    assert_eq!(sends(&e), vec![(1, vote(1, true))]);
    assert_eq!(t.node.voted_for(), Some(1));
    assert!(timers_set(&e).iter().any(|(t, _)| *t == RaftTimer::Election), "granting a vote resets the election timer");
    let e = t.msg(2, request_vote(1, 0, 0));
    assert_eq!(sends(&e), vec![(2, vote(1, false))], "second candidate of the same term");
    assert!(timers_set(&e).is_empty(), "refusing does not reset the timer");
    let e = t.msg(1, request_vote(1, 0, 0));
    assert_eq!(sends(&e), vec![(1, vote(1, true))], "a retried request from the same candidate is granted again");
    assert_eq!(t.node.durable().voted_for, Some(1));
    let e = t.msg(2, request_vote(2, 0, 0));
    assert_eq!(sends(&e), vec![(2, vote(2, true))], "a new term allows a new vote");
}

// §5.2: "While waiting for votes, a candidate may receive an AppendEntries
// RPC from another server claiming to be leader. If the leader's term is at
// least as large as the candidate's current term, then the candidate
// recognizes the leader as legitimate and returns to follower state. If the
// term in the RPC is smaller ... the candidate rejects the RPC and
// continues in candidate state."
#[test]
fn s5_2_a_candidate_yields_to_a_leader_of_its_term_but_not_an_older_one() {
    let mut t = T::with_log(0, 3, 1, &[]);
    t.force(); // term 2
    let e = t.msg(1, append(1, 0, 0, vec![], 0));
    assert!(!the_reply(&e).0);
    assert_eq!(t.node.role(), Role::Candidate);

    let e = t.msg(2, append(2, 0, 0, vec![], 0));
    assert!(the_reply(&e).0);
    assert_eq!((t.node.role(), t.node.term(), t.node.leader_hint()), (Role::Follower, 2, Some(2)));
    assert!(notes(&e).contains(&RaftNote::BecameFollower { term: 2 }));
}

// §5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no
// log entries) to all followers in order to maintain their authority."
#[test]
fn s5_2_a_leader_sends_heartbeats_every_interval() {
    let mut t = T::new(0, 3);
    elect(&mut t);
    for _ in 0..3 {
        let e = t.timer(RaftTimer::Heartbeat);
        let out = sends(&e);
        assert_eq!(out.len(), 2);
        for (_, m) in &out {
            assert_eq!(m.kind(), "Heartbeat");
            assert!(matches!(m, RaftMsg::AppendEntries { term: 1, entries, .. } if entries.is_empty()));
        }
        assert_eq!(timers_set(&e), vec![(RaftTimer::Heartbeat, RaftConfig::default().heartbeat)]);
    }
}

// §5.2: "A server remains in follower state as long as it receives valid
// RPCs from a leader": each valid AppendEntries resets the election timer.
#[test]
fn s5_2_valid_append_entries_reset_the_follower_election_timer() {
    let mut t = T::new(1, 3);
    let e = t.msg(0, append(1, 0, 0, vec![], 0));
    assert!(timers_set(&e).iter().any(|(t, _)| *t == RaftTimer::Election));
    assert_eq!(t.node.leader_hint(), Some(0));
    let e = t.msg(2, append(0, 0, 0, vec![], 0));
    assert!(timers_set(&e).is_empty(), "a stale leader does not reset the timer");
}

// §5.2 (with §5.3's commit rule): a cluster of one is its own majority: it
// elects itself at its first timeout and commits alone.
#[test]
fn s5_2_a_single_node_cluster_elects_itself_and_commits_alone() {
    let mut t = T::new(0, 1);
    let e = t.timer(RaftTimer::Election);
    assert_eq!(t.node.role(), Role::Leader);
    assert_eq!(notes(&e), vec![RaftNote::BecameCandidate { term: 1 }, RaftNote::BecameLeader { term: 1 }]);
    assert!(sends(&e).is_empty());
    let e = t.request(7);
    assert_eq!(t.node.commit_index(), 1);
    assert_eq!(replies(&e), vec![(7, Reply::Committed)]);
    assert!(notes(&e).contains(&RaftNote::Committed { index: 1 }));
}

// ----- §5.3: log replication -----

// §5.3: "The leader appends the command to its log as a new entry, then
// issues AppendEntries RPCs in parallel to each of the other servers",
// naming the index and term of the entry that precedes the new ones.
#[test]
fn s5_3_the_leader_appends_client_commands_and_replicates_them() {
    let mut t = leader_with_log(0, 3, 3, &[1, 2]);
    // The followers match up to index 2.
    t.msg(1, ack(3, 2));
    t.msg(2, ack(3, 2));
    let e = t.request(42);
    assert_eq!(t.node.log().last(), Some(&Entry::new(3, 42)));
    assert_eq!(notes(&e), vec![RaftNote::Appended { from: 3, to: 3 }]);
    let out = sends(&e);
    assert_eq!(out.len(), 2);
    for (_, m) in out {
        assert_eq!(m, append(3, 2, 2, vec![Entry::new(3, 42)], 0));
        assert_eq!(m.kind(), "AppendEntries");
    }
    assert!(replies(&e).is_empty(), "the client waits until the entry commits");
}

// §5.3: "A log entry is committed once the leader that created the entry has
// replicated it on a majority of the servers"; the leader counts itself and
// then answers the client.
#[test]
fn s5_3_an_entry_commits_once_a_majority_stores_it() {
    let mut t = T::new(0, 5);
    elect(&mut t);
    t.request(10);
    let e = t.msg(1, ack(1, 1));
    assert_eq!(t.node.commit_index(), 0, "leader + 1 follower = 2 of 5");
    assert!(replies(&e).is_empty());
    t.msg(1, ack(1, 1)); // duplicates do not count twice
    assert_eq!(t.node.commit_index(), 0);
    let e = t.msg(3, ack(1, 1));
    assert_eq!(t.node.commit_index(), 1);
    assert_eq!(notes(&e), vec![RaftNote::Committed { index: 1 }]);
    assert_eq!(replies(&e), vec![(10, Reply::Committed)]);
    assert_eq!(t.node.match_index()[3], 1);
}

// §5.3: committing an entry "also commits all preceding entries in the
// leader's log".
#[test]
fn s5_3_committing_an_entry_commits_the_entries_before_it() {
    let mut t = T::new(0, 3);
    elect(&mut t);
    for req in 1..=3 {
        t.request(req);
    }
    let e = t.msg(2, ack(1, 3));
    assert_eq!(t.node.commit_index(), 3);
    assert_eq!(replies(&e), vec![(1, Reply::Committed), (2, Reply::Committed), (3, Reply::Committed)]);
}

// §5.3: "The leader keeps track of the highest index it knows to be
// committed, and it includes that index in future AppendEntries RPCs
// (including heartbeats) so that the other servers eventually find out."
// Figure 2: commitIndex = min(leaderCommit, index of last new entry).
#[test]
fn s5_3_followers_learn_the_commit_index_but_only_for_entries_checked_to_match() {
    let mut t = T::with_log(1, 3, 1, &[1, 1, 1]);
    // The leader (term 2) has committed 5, but this message only vouches for
    // the prefix up to index 1; entries 2..3 here may be stale.
    let e = t.msg(0, append(2, 1, 1, vec![], 5));
    assert_eq!(t.node.commit_index(), 1);
    assert_eq!(notes(&e).last(), Some(&RaftNote::Committed { index: 1 }));
    let e = t.msg(0, append(2, 2, 1, vec![Entry { term: 2, command: 7, config: None, kv: None }], 5));
    assert_eq!(t.node.commit_index(), 3, "min(5, last new entry 3)");
    assert!(notes(&e).contains(&RaftNote::Truncated { from: 3 }));
    let e = t.msg(0, append(2, 1, 1, vec![], 2));
    assert_eq!(t.node.commit_index(), 3, "the commit index never goes back");
    assert!(!notes(&e).iter().any(|n| matches!(n, RaftNote::Committed { .. })));
}

// §5.3: "If the follower does not find an entry in its log with the same
// index and term, then it refuses the new entries." With the optimisation
// of §5.3 the refusal names the conflicting term and its first index.
#[test]
fn s5_3_a_follower_refuses_entries_whose_predecessor_it_lacks() {
    let mut t = T::with_log(1, 3, 3, &[1, 2, 2, 2]);
    // Too short: the hint is the end of its log.
    let e = t.msg(0, append(3, 6, 3, vec![Entry { term: 3, command: 9, config: None, kv: None }], 0));
    assert_eq!(the_reply(&e), (false, 6, 5, None, 3));
    // Wrong term at index 4: hint at the first entry of term 2.
    let e = t.msg(0, append(3, 4, 3, vec![Entry { term: 3, command: 9, config: None, kv: None }], 0));
    assert_eq!(the_reply(&e), (false, 4, 2, Some(2), 3));
    assert_eq!(t.node.log(), &log_of(&[1, 2, 2, 2])[..], "a refusal changes nothing");
    assert!(notes(&e).is_empty());
}

// §5.3: "If an existing entry conflicts with a new one (same index but
// different terms), delete the existing entry and all that follow it";
// then "append any new entries not already in the log".
#[test]
fn s5_3_a_follower_deletes_a_conflicting_suffix_and_appends() {
    let mut t = T::with_log(1, 3, 3, &[1, 2, 2, 2]);
    let new = vec![
        Entry { term: 2, command: 2_002, config: None, kv: None },
        Entry { term: 3, command: 50, config: None, kv: None },
        Entry { term: 3, command: 51, config: None, kv: None },
    ];
    let e = t.msg(0, append(3, 1, 1, new, 0));
    assert_eq!(the_reply(&e), (true, 4, 0, None, 3));
    assert_eq!(notes(&e), vec![RaftNote::Truncated { from: 3 }, RaftNote::Appended { from: 3, to: 4 }]);
    let terms: Vec<u64> = t.node.log().iter().map(|e| e.term).collect();
    assert_eq!(terms, vec![1, 2, 3, 3]);
    assert_eq!(t.node.log()[2].command, 50);
}

// §5.3 / §5.5: AppendEntries is idempotent. A delayed or duplicated
// message that carries a prefix of what the follower already has must not
// truncate the entries after it.
#[test]
fn s5_3_a_stale_append_entries_does_not_truncate_matching_entries() {
    let mut t = T::with_log(1, 3, 2, &[2, 2, 2]);
    let first = log_of(&[2, 2, 2])[..1].to_vec();
    for _ in 0..2 {
        let e = t.msg(0, append(2, 0, 0, first.clone(), 0));
        assert_eq!(the_reply(&e), (true, 1, 0, None, 2));
        assert!(notes(&e).is_empty(), "nothing changes: {:?}", notes(&e));
        assert_eq!(t.node.log().len(), 3);
    }
}

// §5.3: clients talk to the leader; "if a client contacts a follower, the
// follower redirects it to the leader" (§8). It answers at once.
#[test]
fn s5_3_followers_and_candidates_redirect_clients() {
    let mut t = T::new(1, 3);
    assert_eq!(replies(&t.request(5)), vec![(5, Reply::NotLeader(None))]);
    t.msg(2, append(1, 0, 0, vec![], 0));
    assert_eq!(replies(&t.request(6)), vec![(6, Reply::NotLeader(Some(2)))]);
    t.force();
    assert_eq!(replies(&t.request(7)), vec![(7, Reply::NotLeader(None))]);
    assert!(t.node.log().is_empty(), "nobody but the leader appends client commands");
}

/// Delivers messages among `nodes` until none are left (messages to nodes
/// not in the list are lost). Returns every delivered (from, to, message).
fn pump(nodes: &mut [&mut T], mut queue: Vec<(NodeId, NodeId, RaftMsg)>) -> Vec<(NodeId, NodeId, RaftMsg)> {
    let mut delivered = Vec::new();
    let mut steps = 0;
    while !queue.is_empty() {
        steps += 1;
        assert!(steps < 10_000, "messages keep flowing");
        let (from, to, msg) = queue.remove(0);
        let Some(t) = nodes.iter_mut().find(|t| t.node.id() == to) else {
            continue;
        };
        delivered.push((from, to, msg.clone()));
        let e = t.msg(from, msg);
        queue.extend(sends(&e).into_iter().map(|(p, m)| (to, p, m)));
    }
    delivered
}

fn leader_sends(e: &Effects, leader: NodeId) -> Vec<(NodeId, NodeId, RaftMsg)> {
    sends(e).into_iter().map(|(p, m)| (leader, p, m)).collect()
}

// §5.3, Figure 7: whatever a follower's log looks like (missing entries,
// extra uncommitted entries, or both), the leader brings it into agreement
// with its own: it backs up nextIndex until the logs match and then
// overwrites the follower's conflicting suffix. With the conflict-term hint,
// each refusal skips a whole term.
#[test]
fn s5_3_figure_7_every_follower_log_is_brought_in_line_with_the_leader() {
    let leader_terms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let followers: [(&str, &[u64]); 6] = [
        ("a", &[1, 1, 1, 4, 4, 5, 5, 6, 6]),
        ("b", &[1, 1, 1, 4]),
        ("c", &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]),
        ("d", &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]),
        ("e", &[1, 1, 1, 4, 4, 4, 4]),
        ("f", &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
    ];
    for (name, terms) in followers {
        // A 3-node cluster: S1 leads term 8 with S3's vote; S2 is the follower.
        let mut leader = T::with_log(0, 3, 7, &leader_terms);
        leader.force();
        let won = leader.msg(2, vote(8, true));
        assert_eq!(leader.node.role(), Role::Leader);
        let mut follower = T::with_log(1, 3, 7, terms);
        let delivered = pump(&mut [&mut leader, &mut follower], leader_sends(&won, 0));
        let refusals = delivered
            .iter()
            .filter(|(_, _, m)| matches!(m, RaftMsg::AppendEntriesReply { success: false, .. }))
            .count();
        let mut expected = leader.node.log().to_vec();
        // The follower now holds the leader's whole log; extra entries after
        // it (c, d) go when the leader writes over them.
        assert!(follower.node.log().starts_with(&expected), "follower ({name}): {:?}", follower.node.log());
        assert!(refusals <= 2, "follower ({name}) needed {refusals} refusals");
        // Then a new entry commits on both (2 of 3 is a majority).
        let e = leader.request(99);
        pump(&mut [&mut leader, &mut follower], leader_sends(&e, 0));
        let hb = leader.timer(RaftTimer::Heartbeat);
        pump(&mut [&mut leader, &mut follower], leader_sends(&hb, 0));
        expected.push(Entry { term: 8, command: 99, config: None, kv: None });
        assert_eq!(follower.node.log(), &expected[..], "follower ({name})");
        assert_eq!(leader.node.commit_index(), 11);
        assert_eq!(follower.node.commit_index(), 11, "follower ({name}) learns the commit from the heartbeat");
    }
}

// §5.3's optimisation: "the follower can include the term of the conflicting
// entry and the first index it stores for that term. With this information,
// the leader can decrement nextIndex to bypass all of the conflicting
// entries in that term; one AppendEntries RPC will be required for each term
// with conflicting entries, rather than one RPC per entry."
#[test]
fn s5_3_fast_backup_costs_one_round_trip_per_conflicting_term() {
    // The follower holds 300 entries of term 2 that the leader never had;
    // the leader holds 300 entries of term 3 after a common entry of term 1.
    let mut lt = vec![1];
    lt.extend(std::iter::repeat_n(3, 300));
    let mut ft = vec![1];
    ft.extend(std::iter::repeat_n(2, 300));
    let mut leader = T::with_log(0, 3, 3, &lt);
    leader.force();
    let won = leader.msg(2, vote(4, true));
    let mut follower = T::with_log(1, 3, 3, &ft);
    let delivered = pump(&mut [&mut leader, &mut follower], leader_sends(&won, 0));
    let refusals =
        delivered.iter().filter(|(_, _, m)| matches!(m, RaftMsg::AppendEntriesReply { success: false, .. })).count();
    let appends = delivered.iter().filter(|(_, to, m)| *to == 1 && matches!(m, RaftMsg::AppendEntries { .. })).count();
    assert_eq!(follower.node.log(), leader.node.log());
    assert_eq!(refusals, 1, "one refusal names term 2, which the leader skips at once");
    // 1 heartbeat + 1 probe + ceil(300 / 64) batches.
    assert!(appends <= 2 + 300_usize.div_ceil(64), "{appends} AppendEntries");
}

// §5.3: "If followers crash or run slowly, or if network packets are lost,
// the leader retries AppendEntries RPCs indefinitely ... until all
// followers eventually store all log entries."
#[test]
fn s5_3_the_leader_retries_entries_that_were_lost() {
    let mut t = T::new(0, 3);
    elect(&mut t);
    t.msg(1, ack(1, 0)); // S2 matches: pipelining starts
    let lost = t.request(5); // this AppendEntries to S2 is lost
    assert!(sends(&lost).iter().any(|(p, m)| *p == 1 && m.kind() == "AppendEntries"));
    let mut resent = false;
    for _ in 0..2 {
        let e = t.timer(RaftTimer::Heartbeat);
        resent |= sends(&e).iter().any(|(p, m)| {
            *p == 1 && matches!(m, RaftMsg::AppendEntries { prev_log_index: 0, entries, .. } if entries.len() == 1)
        });
    }
    assert!(resent, "within two heartbeat intervals the entry is sent again");
}

// ----- §5.4: safety -----

// §5.4.1: "Raft determines which of two logs is more up-to-date by comparing
// the index and term of the last entries in the logs. If the logs have last
// entries with different terms, then the log with the later term is more
// up-to-date. If the logs end with the same term, then whichever log is
// longer is more up-to-date." The voter denies its vote otherwise.
#[test]
fn s5_4_1_votes_go_only_to_candidates_at_least_as_up_to_date() {
    // Voter's log: [1, 2, 2] (last term 2, last index 3).
    let cases = [
        (3, 1, true, "later last term, shorter log"),
        (1, 9, false, "earlier last term, longer log"),
        (2, 3, true, "same last term, same length"),
        (2, 4, true, "same last term, longer"),
        (2, 2, false, "same last term, shorter"),
        (0, 0, false, "empty log"),
    ];
    for (last_term, last_index, granted, why) in cases {
        let mut t = T::with_log(0, 3, 2, &[1, 2, 2]);
        let e = t.msg(1, request_vote(3, last_index, last_term));
        assert_eq!(sends(&e), vec![(1, vote(3, granted))], "{why}");
        assert_eq!(t.node.voted_for(), granted.then_some(1), "{why}");
        assert_eq!(t.node.term(), 3, "the term is adopted either way ({why})");
    }
}

// §5.4.2, Figure 8: "Raft never commits log entries from previous terms by
// counting replicas. Only log entries from the leader's current term are
// committed by counting replicas; once an entry from the current term has
// been committed in this way, then all prior entries are committed
// indirectly."
#[test]
fn s5_4_2_a_leader_commits_old_term_entries_only_through_a_current_term_entry() {
    let mut t = leader_with_log(0, 5, 4, &[1, 2]);
    for p in 1..=4 {
        t.msg(p, ack(4, 2));
    }
    assert_eq!(t.node.commit_index(), 0, "entries of terms 1 and 2 are on all 5 servers, yet not committed");
    t.request(77);
    t.msg(1, ack(4, 3));
    assert_eq!(t.node.commit_index(), 0, "the term-4 entry is on 2 of 5");
    let e = t.msg(2, ack(4, 3));
    assert_eq!(t.node.commit_index(), 3, "the term-4 entry on 3 of 5 commits it and everything before");
    assert_eq!(replies(&e), vec![(77, Reply::Committed)]);
}

// ----- §5.5: follower and candidate crashes -----

// §5.5 / Figure 2: currentTerm, votedFor and log[] are persistent; commit
// index, role, votes and nextIndex/matchIndex are volatile and reset on a
// restart, which starts as a follower with an election timer.
#[test]
fn s5_5_persistent_state_survives_a_restart_and_volatile_state_does_not() {
    let mut t = T::new(0, 3);
    elect(&mut t);
    t.request(1);
    t.msg(1, ack(1, 1));
    assert_eq!(t.node.commit_index(), 1);
    let durable = t.node.durable();
    assert_eq!(
        durable,
        RaftDurable { term: 1, voted_for: Some(0), log: vec![Entry::new(1, 1)], ..RaftDurable::default() }
    );
    let mut r = T::recover(0, 3, RaftConfig::default(), durable);
    assert_eq!((r.node.term(), r.node.voted_for(), r.node.log().len()), (1, Some(0), 1));
    assert_eq!((r.node.role(), r.node.commit_index(), r.node.leader_hint()), (Role::Follower, 0, None));
    assert!(r.node.match_index().is_empty());
    let e = r.start();
    assert_eq!(timers_set(&e).len(), 1);
    assert!(sends(&e).is_empty());
}

// §5.5 with §5.2: the vote is on disk before the reply leaves, so a voter
// that crashes and restarts cannot vote for a second candidate in the same
// term.
#[test]
fn s5_5_a_restarted_voter_does_not_vote_twice_in_a_term() {
    let mut t = T::new(2, 3);
    t.msg(0, request_vote(4, 0, 0));
    let mut r = T::recover(2, 3, RaftConfig::default(), t.node.durable());
    assert_eq!(sends(&r.msg(1, request_vote(4, 0, 0))), vec![(1, vote(4, false))]);
    assert_eq!(sends(&r.msg(0, request_vote(4, 0, 0))), vec![(0, vote(4, true))]);
}

// §5.5: "Raft RPCs are idempotent, so this causes no harm": the same
// AppendEntries twice leaves the same log, notes nothing the second time,
// and succeeds both times.
#[test]
fn s5_5_append_entries_is_idempotent() {
    let mut t = T::new(1, 3);
    let m = append(
        1,
        0,
        0,
        vec![
            Entry { term: 1, command: 3, config: None, kv: None },
            Entry { term: 1, command: 4, config: None, kv: None },
        ],
        1,
    );
    let first = t.msg(0, m.clone());
    let log = t.node.log().to_vec();
    let second = t.msg(0, m);
    assert_eq!(t.node.log(), &log[..]);
    assert_eq!(
        notes(&first),
        vec![
            RaftNote::BecameFollower { term: 1 },
            RaftNote::Appended { from: 1, to: 2 },
            RaftNote::Committed { index: 1 }
        ]
    );
    assert!(notes(&second).is_empty());
    assert_eq!(the_reply(&first), the_reply(&second));
}

// ----- thesis §9.6: Pre-Vote -----

// Thesis §9.6: with Pre-Vote, a server that times out first asks whether it
// could win, with the term it would use, and raises its term only if a
// majority says yes; the servers asked change nothing.
#[test]
fn thesis_9_6_pre_vote_does_not_raise_terms_until_a_majority_agrees() {
    let cfg = RaftConfig { pre_vote: true, ..RaftConfig::default() };
    let mut t =
        T::recover(0, 3, cfg.clone(), RaftDurable { term: 5, voted_for: None, log: vec![], ..RaftDurable::default() });
    let e = t.timer(RaftTimer::Election);
    assert_eq!((t.node.role(), t.node.term()), (Role::PreCandidate, 5));
    assert_eq!(notes(&e), vec![RaftNote::BecamePreCandidate { term: 5 }]);
    let pv = RaftMsg::RequestVote { term: 6, last_log_index: 0, last_log_term: 0, pre_vote: true };
    assert!(sends(&e).iter().all(|(_, m)| *m == pv && m.kind() == "PreVote"));

    let mut voter =
        T::recover(1, 3, cfg, RaftDurable { term: 5, voted_for: Some(2), log: vec![], ..RaftDurable::default() });
    let e = voter.msg(0, pv);
    let reply = RaftMsg::RequestVoteReply { term: 6, granted: true, pre_vote: true };
    assert_eq!(sends(&e), vec![(0, reply.clone())]);
    assert_eq!(reply.kind(), "PreVoteReply");
    assert_eq!((voter.node.term(), voter.node.voted_for()), (5, Some(2)), "a pre-vote changes nothing");

    let e = t.msg(1, reply);
    assert_eq!((t.node.role(), t.node.term()), (Role::Candidate, 6));
    assert!(sends(&e).iter().all(|(_, m)| *m == request_vote(6, 0, 0)));
}

// Thesis §9.6: a server refuses a pre-vote while it hears from a leader
// (within the minimum election timeout), so a partitioned server that comes
// back cannot disrupt a working cluster.
#[test]
fn thesis_9_6_servers_hearing_from_a_leader_refuse_pre_votes() {
    let cfg = RaftConfig { pre_vote: true, ..RaftConfig::default() };
    let mut t = T::with_config(1, 3, cfg.clone());
    t.msg(0, append(1, 0, 0, vec![], 0));
    let pv = RaftMsg::RequestVote { term: 2, last_log_index: 0, last_log_term: 0, pre_vote: true };
    t.now = 10 * MS;
    assert_eq!(
        sends(&t.msg(2, pv.clone())),
        vec![(2, RaftMsg::RequestVoteReply { term: 1, granted: false, pre_vote: true })]
    );
    t.now = cfg.election_timeout_min;
    assert_eq!(sends(&t.msg(2, pv)), vec![(2, RaftMsg::RequestVoteReply { term: 2, granted: true, pre_vote: true })]);
    assert_eq!(t.node.term(), 1);
}

// ----- thesis §6.2: CheckQuorum -----

// Thesis §6.2: "a leader steps down if an election timeout elapses without a
// successful round of heartbeats to a majority of its cluster". Off by
// default.
#[test]
fn thesis_6_2_check_quorum_makes_an_isolated_leader_step_down() {
    let cfg = RaftConfig { check_quorum: true, ..RaftConfig::default() };
    let mut t = T::with_config(0, 5, cfg.clone());
    let won = elect(&mut t);
    assert!(timers_set(&won).contains(&(RaftTimer::CheckQuorum, cfg.election_timeout_max)));
    t.msg(1, ack(1, 0));
    t.msg(2, ack(1, 0));
    let e = t.timer(RaftTimer::CheckQuorum);
    assert_eq!(t.node.role(), Role::Leader, "heard from 3 of 5");
    assert!(timers_set(&e).contains(&(RaftTimer::CheckQuorum, cfg.election_timeout_max)));
    t.msg(1, ack(1, 0));
    let e = t.timer(RaftTimer::CheckQuorum);
    assert_eq!((t.node.role(), t.node.term()), (Role::Follower, 1), "heard from 2 of 5 since the last check");
    assert!(notes(&e).iter().any(|n| matches!(n, RaftNote::SteppedDown { term: 1, .. })));

    let mut plain = T::new(0, 5);
    let won = elect(&mut plain);
    assert!(!timers_set(&won).iter().any(|(t, _)| *t == RaftTimer::CheckQuorum), "off by default");
}

// ----- the simulator's contract -----

// The UI's "time out now": a follower starts an election at once; a leader
// gives up leadership to do so.
#[test]
fn a_forced_timeout_starts_an_election_now() {
    let mut t = T::new(0, 3);
    t.force();
    assert_eq!((t.node.role(), t.node.term()), (Role::Candidate, 1));
    t.msg(1, vote(1, true));
    assert_eq!(t.node.role(), Role::Leader);
    t.request(8);
    let e = t.force();
    assert_eq!((t.node.role(), t.node.term()), (Role::Candidate, 2));
    assert!(notes(&e).iter().any(|n| matches!(n, RaftNote::SteppedDown { .. })));
    assert_eq!(replies(&e), vec![(8, Reply::NotLeader(None))], "its waiting client is told to look elsewhere");
}

// Trace contract: kinds distinguish heartbeats, and digests cover every
// field (two AppendEntries differing only in one command differ).
#[test]
fn message_kinds_and_digests_cover_the_content() {
    let hb = append(1, 0, 0, vec![], 0);
    assert_eq!(hb.kind(), "Heartbeat");
    let reply = RaftMsg::AppendEntriesReply {
        term: 1,
        success: true,
        index: 0,
        conflict_index: 0,
        conflict_term: None,
        heartbeat: true,
    };
    assert_eq!(reply.kind(), "HeartbeatReply");
    assert_eq!(ack(1, 1).kind(), "AppendEntriesReply");
    assert_eq!(request_vote(1, 0, 0).kind(), "RequestVote");
    assert_eq!(vote(1, true).kind(), "RequestVoteReply");
    let digest = |m: &RaftMsg| {
        let mut fp = Fingerprint::default();
        m.digest(&mut fp);
        fp.value()
    };
    let a = append(1, 0, 0, vec![Entry { term: 1, command: 5, config: None, kv: None }], 0);
    let b = append(1, 0, 0, vec![Entry { term: 1, command: 6, config: None, kv: None }], 0);
    assert_ne!(digest(&a), digest(&b));
    assert_eq!(digest(&a), digest(&a.clone()));
    let c = RaftMsg::AppendEntriesReply {
        term: 1,
        success: false,
        index: 3,
        conflict_index: 2,
        conflict_term: Some(1),
        heartbeat: false,
    };
    let d = RaftMsg::AppendEntriesReply {
        term: 1,
        success: false,
        index: 3,
        conflict_index: 2,
        conflict_term: None,
        heartbeat: false,
    };
    assert_ne!(digest(&c), digest(&d));
}

// Robustness (DESIGN.md, "bad input is normal input"): absurd
// configurations and malformed messages never panic; the node stays usable.
#[test]
fn absurd_configurations_and_messages_do_not_panic() {
    let zero = RaftConfig {
        election_timeout_min: 0,
        election_timeout_max: 0,
        heartbeat: 0,
        pre_vote: true,
        check_quorum: true,
        max_batch: 0,
        bug_commit_old_terms: false,
        snapshot_every: 1,
        members: 0,
        vote_guard: true,
        max_uncommitted: 0,
        ..RaftConfig::default()
    };
    let huge = RaftConfig {
        election_timeout_min: u64::MAX,
        election_timeout_max: 1,
        heartbeat: u64::MAX,
        max_batch: u64::MAX,
        ..RaftConfig::default()
    };
    for cfg in [zero, huge] {
        let mut t = T::with_config(0, 3, cfg);
        let e = t.start();
        assert!(timers_set(&e).iter().all(|(_, after)| *after >= 1 && *after < u64::MAX / 2));
        t.force();
        t.timer(RaftTimer::Election);
        let proposed = t.node.term() + 1;
        t.msg(1, RaftMsg::RequestVoteReply { term: proposed, granted: true, pre_vote: true });
        let term = t.node.term();
        t.msg(1, vote(term, true));
        assert_eq!(t.node.role(), Role::Leader);
        for req in 0..5 {
            t.request(req);
        }
        t.timer(RaftTimer::Heartbeat);
        t.timer(RaftTimer::CheckQuorum);
    }
    let mut t = T::new(0, 3);
    let junk = [
        append(u64::MAX, u64::MAX, 3, vec![Entry { term: 1, command: 1, config: None, kv: None }], u64::MAX),
        append(1, 0, 0, vec![Entry { term: 1, command: 1, config: None, kv: None }], u64::MAX),
        RaftMsg::AppendEntriesReply {
            term: 1,
            success: false,
            index: u64::MAX,
            conflict_index: u64::MAX,
            conflict_term: Some(u64::MAX),
            heartbeat: false,
        },
        RaftMsg::AppendEntriesReply {
            term: 1,
            success: true,
            index: u64::MAX,
            conflict_index: 0,
            conflict_term: None,
            heartbeat: false,
        },
        request_vote(u64::MAX, u64::MAX, u64::MAX),
        vote(u64::MAX, true),
    ];
    for from in [1, 2, 7, u32::MAX] {
        for m in &junk {
            t.msg(from, m.clone());
        }
    }
    t.force();
    t.request(1);
    t.timer(RaftTimer::Heartbeat);
    // A message from a node outside the cluster is ignored entirely.
    let mut u = T::new(0, 3);
    assert!(u.msg(9, request_vote(1, 0, 0)).is_empty());
    // A leader fed absurd replies stays a leader and keeps working.
    let mut l = T::new(0, 3);
    elect(&mut l);
    l.request(1);
    for m in &junk[2..4] {
        l.msg(1, m.clone());
        l.msg(2, m.clone());
    }
    l.request(2);
    l.timer(RaftTimer::Heartbeat);
    assert_eq!(l.node.role(), Role::Leader);
}
