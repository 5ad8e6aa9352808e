//! The space-time diagram's records and stepping one event at a time.
//!
//! Where the expectations come from: issue "See why" (a space-time diagram
//! with one arrow per message from send to delivery, lost messages ending
//! in a cross, duplicates visible, timers, notes and faults as marks; the
//! violating event marked; step forward and back one event, step back
//! through the worker's snapshots landing where a replay does), DESIGN.md
//! principles 1 and 4 (determinism; time travel is replay from the nearest
//! snapshot), and `lab/diagram.rs` (records come in order of their end
//! time and keep their numbers across a replay from a snapshot).

use clusterscope_core::lab::diagram::{FaultKind, Record, What};
use clusterscope_core::lab::Lab;
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{MS, SEC};

fn scenario(text: &str) -> Scenario {
    Scenario::parse(text).expect("scenario parses")
}

fn records(lab: &mut Lab) -> Vec<Record> {
    lab.take_diagram().map(|c| c.unpack()).unwrap_or_default()
}

const LOSSY: &str = "lab raft\nseed 3\nloss 5%\nduplicate 5%\nrequest_rate 50\nat 800ms crash S2\nat 1200ms partition S1,S3 | S2,S4,S5\nat 1500ms restart S2\nat 1800ms heal\n";

/// One arrow per message that ended: as many delivered arrows as the
/// simulator delivered, as many crossed ones as it dropped; duplicates
/// marked; marks for timers and notes; faults with their nodes.
#[test]
fn every_finished_message_is_one_record() {
    let mut lab = Lab::new(&scenario(LOSSY)).unwrap();
    lab.record_diagram(true);
    let mut all = Vec::new();
    for t in (1..=20).map(|i| i * 100 * MS) {
        lab.run_until(t);
        all.extend(records(&mut lab));
    }
    let c = lab.counters();
    let delivered = all.iter().filter(|r| r.what == What::Delivered).count() as u64;
    let dropped = all.iter().filter(|r| matches!(r.what, What::Lost | What::Cut | What::Down)).count() as u64;
    assert_eq!(delivered, c.delivered);
    assert_eq!(dropped, c.dropped);
    assert!(all.iter().any(|r| r.what == What::Lost), "5% loss loses some");
    assert!(all.iter().any(|r| r.what == What::Cut), "the partition cuts some");
    assert!(all.iter().any(|r| r.what == What::Down), "messages to crashed S2 are lost");
    assert!(all.iter().any(|r| r.copy), "5% duplication duplicates some");
    assert!(all.iter().any(|r| r.what == What::Timer) && all.iter().any(|r| r.what == What::Note));
    let crash = all.iter().find(|r| r.what == What::Fault && r.kind == FaultKind::Crash as u16).expect("the crash");
    assert_eq!((crash.from, crash.t0), (1, 800 * MS));
    let parts: Vec<(u32, u32)> = all
        .iter()
        .filter(|r| r.what == What::Fault && r.kind == FaultKind::Partition as u16)
        .map(|r| (r.from, r.to))
        .collect();
    assert_eq!(parts, vec![(0, 0), (2, 0), (1, 1), (3, 1), (4, 1)]);
    // In order of their end, numbered 0, 1, 2, ...
    assert!(all.windows(2).all(|w| w[0].t1 <= w[1].t1));
    assert!(all.iter().enumerate().all(|(i, r)| r.seq == i as u64));
    assert!(all.iter().all(|r| r.t0 <= r.t1));
}

/// Recording changes nothing about the run.
#[test]
fn recording_does_not_change_the_run() {
    let scn = scenario(LOSSY);
    let plain = Lab::replay(&Scenario { until: 2 * SEC, ..scn.clone() }).unwrap();
    let mut rec = Lab::new(&scn).unwrap();
    rec.record_diagram(true);
    rec.run_until(2 * SEC);
    assert_eq!(plain.fingerprint(), rec.fingerprint());
}

/// A snapshot restored and run again makes the same records with the same
/// numbers as the first time (so the page can replace "everything from
/// number N on").
#[test]
fn replay_from_a_snapshot_makes_the_same_records() {
    let mut lab = Lab::new(&scenario(LOSSY)).unwrap();
    lab.record_diagram(true);
    lab.run_until(SEC);
    let _ = records(&mut lab);
    let (mut snap, next) = lab.snapshot();
    lab.run_until(2 * SEC);
    let first = records(&mut lab);
    assert_eq!(first.first().map(|r| r.seq), Some(next));
    snap.run_until(2 * SEC);
    let again = snap.take_diagram().expect("records");
    assert_eq!(again.names_from, 0, "a restored snapshot sends every name again");
    assert_eq!(again.unpack(), first);
}

/// Stepping one event at a time moves the position by one and passes
/// through the same states as running: the fingerprint at position p is
/// the same however p was reached (stepping from 0, from a snapshot, or
/// running to a time first).
#[test]
fn step_event_lands_where_a_replay_does() {
    let scn = scenario(LOSSY);
    let mut a = Lab::new(&scn).unwrap();
    a.run_until(790 * MS);
    let start = a.position();
    let mut seen = Vec::new();
    for _ in 0..400 {
        let p = a.position();
        assert!(a.step_event());
        assert_eq!(a.position(), p + 1);
        seen.push((a.position(), a.fingerprint()));
    }
    // The crash at 800 ms is one of the steps, applied after every event
    // due at or before 800 ms.
    assert!(a.now() > 800 * MS, "400 events pass 800 ms (now {})", a.now());
    let mut b = Lab::new(&scn).unwrap();
    while b.position() < start {
        assert!(b.step_event());
    }
    for (p, fp) in &seen {
        assert!(b.step_event());
        assert_eq!((b.position(), b.fingerprint()), (*p, *fp));
    }
    // And running by time to the same moment agrees.
    let mut c = Lab::new(&scn).unwrap();
    c.run_until(a.now());
    assert_eq!(c.fingerprint(), a.fingerprint());
}

/// A broken invariant is marked at the node and time of the event that
/// broke it (the deliberate bug of Figure 8).
#[test]
fn the_violating_event_is_marked() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/raft/bug-figure-8.scn"))
            .unwrap();
    let mut lab = Lab::new(&scenario(&text)).unwrap();
    lab.record_diagram(true);
    lab.run_until(5 * SEC);
    let v = lab.violation().expect("the bug is caught").clone();
    let chunk = lab.take_diagram().unwrap();
    let (node, at) = chunk.violation.expect("the violation is marked");
    assert_eq!(at, v.at);
    assert!(node < 5);
    // The violating event's causal past reaches back to the start.
    let recs = chunk.unpack();
    let (frontier, inside) = clusterscope_core::lab::diagram::causal_past(&recs, 5, node, at);
    assert!(inside.iter().any(|&i| i));
    assert!(frontier.iter().filter(|f| f.is_some()).count() >= 2);
}

/// Message contents can be asked for while the trace window holds them.
#[test]
fn message_text_names_the_message() {
    let mut lab = Lab::new(&scenario("lab raft\nseed 1\n")).unwrap();
    lab.record_diagram(true);
    lab.run_until(400 * MS);
    let recs = records(&mut lab);
    let last = recs.iter().rev().find(|r| r.what == What::Delivered).expect("a message");
    let text = lab.message_text(last.id).expect("in the window");
    assert!(text.contains(&format!("S{}->S{}", last.from + 1, last.to + 1)), "{text}");
}

/// Three servers elect S3 in 180 ms (seed 2; `clusterscope run --trace`):
/// S3's election timer fires at 150.323 ms and it becomes candidate;
/// RequestVote S3→S2 arrives at 166.099 (S2 becomes follower and replies),
/// S3→S1 at 169.104 (S1 the same); S2's reply reaches S3 at 180.143 and S3
/// becomes leader. Kept to 180.7 ms, as the page holds them after a click
/// there: 3 messages and 5 marks.
const ELECTION: &str = "lab raft\nnodes 3\nseed 2\nrequest_rate 0\nuntil 200ms\n";

// Lamport, "Time, Clocks, and the Ordering of Events" (1978), §2: the
// causal past of S3 becoming leader, worked out by hand from the trace
// above. In it: S3's own earlier events (its timer, becoming candidate,
// becoming leader), S2's reply delivered to S3 at 180.143, and through it
// S2's events before that reply: S3's RequestVote delivered to S2 and S2
// becoming follower. Outside: the RequestVote delivered to S1 and S1
// becoming follower (S1 sent nothing that reached S3 by then). Six of eight.
#[test]
fn why_lights_up_the_hand_computed_past_of_an_election() {
    let mut lab = Lab::new(&scenario(ELECTION)).unwrap();
    lab.record_diagram(true);
    lab.run_until(180_700);
    let recs = records(&mut lab);
    let described: Vec<(What, u32, u32, u64)> = recs.iter().map(|r| (r.what, r.from, r.to, r.t1)).collect();
    assert_eq!(
        described,
        vec![
            (What::Timer, 2, 2, 150_323),
            (What::Note, 2, 2, 150_323),
            (What::Delivered, 2, 1, 166_099),
            (What::Note, 1, 1, 166_099),
            (What::Delivered, 2, 0, 169_104),
            (What::Note, 0, 0, 169_104),
            (What::Delivered, 1, 2, 180_143),
            (What::Note, 2, 2, 180_143),
        ],
        "the trace of the election"
    );
    let (frontier, inside) = clusterscope_core::lab::diagram::causal_past(&recs, 3, 2, 180_143);
    assert_eq!(inside, vec![true, true, true, true, false, false, true, true]);
    assert_eq!(frontier, vec![None, Some(166_099), Some(180_143)]);
    // S3's first heartbeat to S2 (sent at 180.143, arrived at 199.619): its
    // arrival's past is S2's own events, the message itself, and S3's
    // events up to the send, which include S2's reply and so S2's earlier
    // events: 7 of the 10 records made by then. Outside: the RequestVote to
    // S1 and S1 becoming follower (S1's reply reached S3 at 184.453, after
    // the send), and that reply.
    lab.run_until(199_619);
    let mut recs = recs;
    recs.extend(records(&mut lab));
    let tail: Vec<(What, u32, u32, u64)> = recs[8..].iter().map(|r| (r.what, r.from, r.to, r.t1)).collect();
    assert_eq!(tail, vec![(What::Delivered, 0, 2, 184_453), (What::Delivered, 2, 1, 199_619)]);
    let (_, inside) = clusterscope_core::lab::diagram::causal_past(&recs, 3, 1, 199_619);
    assert_eq!(inside, vec![true, true, true, true, false, false, true, true, false, true]);
    // To the end, 200 ms: S3's heartbeat to S1 ends too, 11 records in all.
    lab.run_until(200_000);
    assert_eq!(records(&mut lab).len(), 1);
}

mod locks_common;

/// The Locks lab's preset of a paused client (tests/scenarios/locks/default.scn).
fn paused_client() -> Scenario {
    locks_common::locks();
    let text = include_str!("../../../tests/scenarios/locks/default.scn");
    scenario(text)
}

/// (lane, start, end, number) of each span record.
fn spans(records: &[Record], what: What) -> Vec<(u32, u64, u64, u64)> {
    records.iter().filter(|r| r.what == what).map(|r| (r.from, r.t0, r.t1, r.id)).collect()
}

// Kleppmann, "How to do distributed locking" (2016), Figure 1: the client
// holds the lock, pauses, and its lease runs out while it sleeps: the bar
// is drawn while the hold happens, not only once it ended. In the Locks
// lab's paused-client preset S3 (lane 2) is granted key 0's lock with
// token 1 at 36.659 ms and pauses at 100 ms; S4 (lane 3) holds token 2
// from 563.752 ms to its commit at 826.927 ms; S3 wakes at 1.5 s, its
// write is refused and it aborts at 1.529973 s (times as the run makes
// them, pinned here). At 700 ms both believe they hold the lock: two open
// spans, each from its grant to now, with its token. At 1 s S3's is still
// open and S4's is one closed record. At the end S3's first hold is one
// closed record from its grant to its abort, once, and nothing is open.
// A replay and a snapshot brought to 1 s show the same open span.
#[test]
fn a_hold_is_an_open_span_until_it_ends_then_one_closed_span() {
    let scn = paused_client();
    let mut lab = Lab::new(&scn).unwrap();
    lab.record_diagram(true);
    let (mut all, mut names) = (Vec::new(), Vec::new());
    // Keeps a chunk's records and names; returns the spans open with it.
    fn take(lab: &mut Lab, (all, names): (&mut Vec<Record>, &mut Vec<String>)) -> Vec<Record> {
        let chunk = lab.take_diagram().expect("records");
        names.extend(chunk.names.iter().cloned());
        all.extend(chunk.unpack());
        chunk.open
    }
    lab.run_until(700 * MS);
    take(&mut lab, (&mut all, &mut names));
    let open = lab.open_spans();
    assert_eq!(
        spans(&open, What::Open),
        vec![(2, 36_659, 700 * MS, 1), (3, 563_752, 700 * MS, 2)],
        "S3 and S4 both hold the lock, as each believes, up to now"
    );
    assert!(open.iter().all(|r| r.what == What::Open && r.from == r.to), "open spans on their own lanes");
    assert_eq!(spans(&all, What::Span), vec![], "no hold has ended yet");
    let half = lab.snapshot().0;

    lab.run_until(SEC);
    let open = take(&mut lab, (&mut all, &mut names));
    assert_eq!(spans(&lab.open_spans(), What::Open), vec![(2, 36_659, SEC, 1)], "S3, paused, still holds token 1");
    assert_eq!(spans(&all, What::Span), vec![(3, 563_752, 826_927, 2)], "S4's hold ended at its commit");
    assert_eq!(open, lab.open_spans(), "a chunk carries the spans open when it is taken");
    let label = lab.open_spans()[0].kind as usize;
    assert_eq!(names.get(label).map(String::as_str), Some("token"), "labelled with its token");

    // The same moment reached by a replay, and from a snapshot.
    let mut replay = Lab::new(&scn).unwrap();
    replay.record_diagram(true);
    replay.run_until(SEC);
    assert_eq!(replay.open_spans(), lab.open_spans(), "a replay shows the same open span");
    let mut from_snapshot = half;
    from_snapshot.run_until(SEC);
    assert_eq!(from_snapshot.open_spans(), lab.open_spans(), "so does a snapshot run on");

    lab.run_until(3 * SEC);
    assert_eq!(take(&mut lab, (&mut all, &mut names)), vec![], "every hold has ended");
    assert_eq!(lab.open_spans(), vec![]);
    let s3: Vec<_> = spans(&all, What::Span).into_iter().filter(|s| s.0 == 2).collect();
    assert_eq!(s3, vec![(2, 36_659, 1_529_973, 1), (2, 1_575_746, 1_827_108, 3)], "token 1's hold once, to its abort");
    assert!(all.iter().all(|r| r.what != What::Open), "an open span is never one of the run's records");
}
