//! The quorum lab's client histories through the project's
//! linearizability checker (the same one the Raft lab feeds; `check_history
//! on` runs it every 200 commands and a failure stops the run).
//!
//! What to expect, and where it comes from:
//!
//! * R + W > N with strict quorums (no sloppy quorum), clocks that agree
//!   (no drift, no skew) and reads that write back the version they return
//!   to W replicas before answering (`read_repair blocking`) is Attiya,
//!   Bar-Noy and Dolev's quorum register ("Sharing memory robustly in
//!   message-passing systems", JACM 1995), with the coordinator's clock in
//!   place of the writer's query phase: linearizable, under message loss and
//!   crashes of a minority (servers keep what they stored on disk), as long
//!   as a write keeps one version: a client that times out and sends the
//!   same write to another coordinator gets a new, later stamp for it, so
//!   the write can take effect twice, around another client's write
//!   (Cassandra's drivers send client-side timestamps for this reason).
//!   The tests state it with a client timeout longer than any command.
//! * Without the write-back, R + W > N is not enough: a read that sees a
//!   write still in progress on one replica, followed by a read that asks
//!   two replicas it has not reached, returns the new value then the old
//!   one (a "new-old inversion"; Lynch, "Distributed Algorithms", §17.1).
//! * R + W <= N lets a read miss a completed write (Bailis et al. 2012).
//! * A sloppy quorum counts acknowledgements from servers that are not
//!   the key's replicas, so a read of R replicas can miss an acknowledged
//!   write (Dynamo, §4.6: "sloppy quorum" trades this for availability).

mod quorum_common;

use quorum_common::*;

/// Links of 10-20 ms, one message in five up to 300 ms later: a write
/// reaches its replicas at very different times.
const TAIL: &str = "tail 20%\ntail_max 300ms\n";

/// R + W > N, strict quorums, blocking read repair, agreeing clocks, on
/// lossy links with a long tail.
const BLOCKING: &str = "r 2\nw 2\nread_repair blocking\ntail 20%\ntail_max 300ms\nloss 2%\n";

fn run(extra: &str, seed: u64) -> clusterscope_core::lab::Lab {
    replay(&format!("# history\nlab quorum\nseed {seed}\nreplicas 3\nkeys 2\nrequest_rate 200\n{extra}until 6s\n"))
}

// The conditions stated above hold: 20 seeds, each with lossy links (2%)
// with a long tail,
// one server crashed for a second and restarted, 200 commands a second on
// two keys: every history is linearizable and was checked.
#[test]
fn blocking_read_repair_with_intersecting_quorums_is_linearizable() {
    for seed in 0..20 {
        let s = seed % 5 + 1;
        let extra = format!("{BLOCKING}client_timeout 60s\nat 2s crash S{s}\nat 3s restart S{s}\n");
        let mut lab = run(&extra, seed);
        assert!(lab.violation().is_none(), "seed {seed}: {:?}", lab.violation());
        let checked = metric(&mut lab, "history_checked");
        assert!(checked >= 600.0, "seed {seed}: the checker ran over {checked} commands");
        assert_eq!(metric(&mut lab, "history_gave_up"), 0.0, "seed {seed}");
    }
}

/// The first seed in `0..40` whose run the checker stops, and its message.
fn first_caught(extra: &str) -> Option<(u64, String)> {
    (0..40).find_map(|seed| {
        let lab = run(extra, seed);
        lab.violation().map(|v| {
            assert_eq!(v.invariant, "History is linearizable", "seed {seed}");
            (seed, v.message.clone())
        })
    })
}

// Without the write-back, the same quorums are not linearizable: the
// checker stops some run and names the read that went back in time.
#[test]
fn intersecting_quorums_without_write_back_are_caught() {
    let caught = first_caught(&format!("r 2\nw 2\nread_repair off\n{TAIL}"));
    let (seed, message) = caught.expect("some seed shows a new-old inversion");
    assert!(message.contains("read"), "seed {seed}: {message}");
}

// The same with clients that give a command up after 500 ms and send it to
// another server: a retried write is stamped again, takes effect a second
// time after another client's write, and a read sees the old value come
// back. The checker names the write and the reads.
#[test]
fn a_retried_write_is_stamped_twice_and_caught() {
    let (seed, message) = first_caught(&format!("{BLOCKING}client_timeout 500ms\nat 2s crash S1\nat 3s restart S1\n"))
        .expect("some seed retries a write");
    assert!(message.contains("write") && message.contains("read"), "seed {seed}: {message}");
}

// R + W <= N: a read misses a completed write, and the checker says so.
#[test]
fn partial_quorums_are_caught() {
    let (seed, message) = first_caught("r 1\nw 1\n").expect("R = W = 1 reads stale");
    assert!(message.contains("read"), "seed {seed}: {message}");
}

// The preset bug-sloppy-not-linearizable.scn is stopped by the checker;
// the same scenario with strict quorums is not: the anomaly is the sloppy
// quorum's.
#[test]
fn the_sloppy_quorum_is_what_the_checker_catches() {
    let text = include_str!("../../../tests/scenarios/quorum/bug-sloppy-not-linearizable.scn");
    let lab = replay(text);
    let v = lab.violation().expect("stopped");
    assert_eq!(v.invariant, "History is linearizable");
    let strict = replay(&text.replace("sloppy on", "sloppy off"));
    assert!(strict.violation().is_none(), "{:?}", strict.violation());
}
