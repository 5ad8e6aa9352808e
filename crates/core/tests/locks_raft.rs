//! The lock service replicated by Raft (`service raft`): what the Raft
//! paper promises, seen through the lock tables its log feeds.
//!
//! Where the expectations come from:
//! * State Machine Safety (Ongaro and Ousterhout, "In Search of an
//!   Understandable Consensus Algorithm", §5.4.3): servers that applied the
//!   log to the same index applied the same entries, so their lock tables
//!   are equal.
//! * Leader Completeness (§5.4): a new leader's log holds every committed
//!   entry, so after the leader's crash the new one knows who holds the
//!   lock (the preset raft-leader-crash.scn).
//! * Fencing tokens as log indexes (etcd's revision, ZooKeeper's zxid;
//!   Kleppmann, "How to do distributed locking", 2016): a grant's token is
//!   the index of the entry that granted it, so tokens only grow.
//! * Sessions (Chubby, Burrows OSDI 2006, §2.8; etcd leases): a session's
//!   expiry is an entry of the log like any other command.

mod locks_common;

use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::Lab;
use clusterscope_core::locks::node::Role;
use clusterscope_core::locks::service::{Ask, Cmd, Replica};
use clusterscope_core::locks::LockNode;
use clusterscope_core::sim::{NodeStatus, Sim};
use locks_common::run;

fn sim(lab: &Lab) -> &Sim<LockNode> {
    lab.model::<ClusterLab<LockNode>>().expect("a locks run").sim()
}

/// The replicas of the lock service that are up, with their node ids.
fn replicas(lab: &Lab) -> Vec<(u32, &Replica)> {
    sim(lab)
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| n.status == NodeStatus::Up)
        .filter_map(|(i, n)| match &n.state.role {
            Role::Replica(r) => Some((i as u32, &**r)),
            _ => None,
        })
        .collect()
}

/// Every command in a replica's log, with its index.
fn commands(r: &Replica) -> Vec<(u64, Cmd)> {
    let first = r.raft.first_log_index();
    r.raft
        .log()
        .iter()
        .enumerate()
        .filter(|(_, e)| e.is_command())
        .filter_map(|(i, e)| Cmd::decode(e.command).map(|c| (first + i as u64, c)))
        .collect()
}

fn preset(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../../tests/scenarios/locks/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("readable")
}

const BUSY: &str = "lab locks\nseed 5\nservice raft\nlock_servers 5\nclients 6\nkeyspace 3\nwork 30ms\nthink 50ms\nlatency_max 30ms\nreorder on\nduplicate 2%\nloss 2%\n";

// §5.4.3 State Machine Safety: at many moments of a busy run with lost,
// duplicated and reordered messages, a leader crash and a partition, any
// two lock servers that applied the log to the same index hold equal
// lock tables.
#[test]
fn servers_at_one_index_hold_one_lock_table() {
    let text = format!("{BUSY}at 1s crash S2\nat 1s crash S3\nat 1.5s restart S2\nat 2s partition S4,S5 | S1,S2,S3,S6,S7,S8,S9,S10,S11,S12\nat 3s heal\nat 3s restart S3\n");
    let mut compared = 0;
    for until in (1..=16).map(|i| i * 250) {
        let lab = run(&format!("{text}until {until}ms\n"));
        assert!(lab.violation().is_none(), "{:?}", lab.violation_text());
        let rs = replicas(&lab);
        for (a, ra) in &rs {
            for (b, rb) in &rs {
                if a < b && ra.applied == rb.applied && ra.applied > 0 {
                    compared += 1;
                    let table = |r: &Replica| format!("{:?} {:?} {:?}", r.table.locks, r.table.sessions, r.renewed);
                    assert_eq!(table(ra), table(rb), "S{} and S{} at index {}", a + 1, b + 1, ra.applied);
                }
            }
        }
    }
    assert!(compared >= 10, "only {compared} pairs of servers at one index");
}

// Tokens are log indexes: at many moments, every lock held in any
// server's table carries the index of a log entry that granted it to that
// holder: an acquire of that key, or a release, keep-alive or expiry
// that freed the key for the next waiter (a Check only asks where it
// stands).
#[test]
fn a_token_is_the_index_of_the_entry_that_granted_it() {
    let mut held = 0;
    for until in (2..=12).map(|i| i * 250) {
        let lab = run(&format!("{BUSY}until {until}ms\n"));
        for (_, r) in replicas(&lab) {
            let log = commands(r);
            for (key, lock) in &r.table.locks {
                let Some((client, token, _)) = lock.holder else { continue };
                held += 1;
                assert!(token <= r.applied, "key {key}: token {token} beyond what is applied");
                let cmd = log.iter().find(|(i, _)| *i == token).map(|(_, c)| *c);
                let granted = match cmd {
                    // Its own, or a newer attempt of the old holder, which
                    // ends the old hold and passes the lock on.
                    Some(Cmd::Client(_, Ask::Acquire { key: k, .. })) => k == *key,
                    Some(Cmd::Client(_, Ask::Release { key: k, .. })) => k == *key,
                    Some(Cmd::Client(_, Ask::Heartbeat { key: k, .. })) => k != *key,
                    Some(Cmd::Expire { client: c, .. }) => c != client,
                    Some(Cmd::Client(_, Ask::Check { .. })) | None => false,
                };
                assert!(granted, "key {key} held by S{} under token {token}, the entry there: {cmd:?}", client + 1);
            }
        }
    }
    assert!(held >= 10, "only {held} locks held at the moments looked at");
}

// §5.4 Leader Completeness, in the preset raft-leader-crash.scn: the
// leader S3 crashes at 1 s while S5 holds key 0's lock and S6 waits. The
// server elected next knows both from its log alone, and S5 found it.
#[test]
fn the_new_leader_knows_the_holder_after_the_leader_crashes() {
    let text = preset("raft-leader-crash.scn").replace("until 3s", "until 1300ms");
    let lab = run(&text);
    let (id, leader) = replicas(&lab).into_iter().find(|(_, r)| r.is_leader()).expect("a new leader by 1.3 s");
    assert_ne!(id, 2, "S3 crashed");
    let lock = leader.table.locks.get(&0).expect("key 0's lock is known");
    assert_eq!(lock.holder.map(|h| (h.0, h.1)), Some((4, 2)), "S5 holds it under token 2");
    assert_eq!(lock.queue.iter().map(|w| w.0).collect::<Vec<_>>(), vec![5], "S6 waits");
    let Role::Client(s5) = &sim(&lab).nodes()[4].state.role else { panic!("S5 is a client") };
    let later = run(&preset("raft-leader-crash.scn"));
    let Role::Client(s5_end) = &sim(&later).nodes()[4].state.role else { panic!("S5 is a client") };
    assert_eq!(s5_end.server, id, "S5 asks the new leader in the end (it asked S{} at 1.3 s)", s5.server + 1);
}

// Sessions expire through the log, in the preset raft-partition-expiry.scn:
// S5 is cut off; the leader's log holds S5's expiry as a committed entry,
// and S6's token is that entry's index (the expiry freed the lock and
// granted it to the next waiter).
#[test]
fn a_session_expires_by_a_committed_entry_whose_index_is_the_next_token() {
    let text = preset("raft-partition-expiry.scn").replace("until 4s", "until 1500ms");
    let lab = run(&text);
    let (_, leader) = replicas(&lab).into_iter().find(|(_, r)| r.is_leader()).expect("a leader");
    let expiry = commands(leader)
        .into_iter()
        .find(|(_, c)| matches!(c, Cmd::Expire { client: 4, .. }))
        .map(|(i, _)| i)
        .expect("S5's expiry is in the log");
    assert!(expiry <= leader.raft.commit_index(), "committed");
    let holder = leader.table.locks.get(&0).and_then(|l| l.holder).expect("key 0 is held");
    assert_eq!((holder.0, holder.1), (5, expiry), "S6 holds key 0 under the expiry's index");
}
