//! A time-travel snapshot holds what the lab says it holds.
//!
//! The worker keeps snapshots of the run for seeking back and keeps them
//! within a byte budget (`lab::timetravel::SNAPSHOT_BYTES`) as each lab
//! estimates them (`Lab::approx_bytes`, see docs/architecture.md, "Seeking
//! replays from the nearest snapshot"). An estimate that leaves out part of
//! a copy lets the snapshots grow past the budget unseen: busy Raft
//! clusters' checkers' histories and the messages in flight (whose entries
//! a snapshot shares with the run until the run delivers them) were left
//! out, and a snapshot held about three times what it said. Here a counting
//! allocator measures what a snapshot really holds, on the busiest
//! scenarios, after a while of running.

use clusterscope_core::lab::Lab;
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::SEC;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Mutex;

/// The system allocator, counting the bytes in use.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
/// One measurement at a time: the tests of this file share the counter.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

// SAFETY: every call is passed to the system allocator unchanged; only a
// counter is updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Plays `file` as the worker does (recording the diagram, taking its
/// records every frame) and, at a few moments, takes a snapshot, plays on
/// for two more seconds (the run drops what it shared with the snapshot:
/// messages delivered, entries compacted), and compares what dropping the
/// snapshot then frees with what it said it held when it was taken.
fn estimates_hold(file: &str) {
    let path = format!("{}/../../tests/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    estimates_hold_for(file, &std::fs::read_to_string(path).expect("the scenario file"));
}

/// [`estimates_hold`] for the scenario `text`, named `file` in messages.
fn estimates_hold_for(file: &str, text: &str) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let scn = Scenario::parse(text).expect("a valid scenario");
    let mut lab = Lab::new(&scn).expect("it builds");
    lab.record_diagram(true);
    let mut t = 0;
    let mut play_to = |lab: &mut Lab, until: u64| {
        while t < until {
            t += 16_667;
            lab.run_until(t);
            let _ = lab.take_diagram();
        }
    };
    for second in [1, 4, 8] {
        play_to(&mut lab, second * SEC);
        let (snapshot, _) = lab.snapshot();
        let said = snapshot.approx_bytes() as f64;
        play_to(&mut lab, (second + 2) * SEC);
        let before = LIVE.load(Ordering::Relaxed);
        drop(snapshot);
        let held = (before - LIVE.load(Ordering::Relaxed)) as f64;
        assert!(
            (said - held).abs() <= 0.2 * held,
            "{file} at {second} s: a snapshot holds {:.2} MB but said it holds {:.2} MB",
            held / 1e6,
            said / 1e6
        );
    }
}

#[test]
fn a_busy_raft_snapshot_says_what_it_holds() {
    estimates_hold("raft/busy-25.scn");
}

/// A Raft log entry is 32 bytes: a busy cluster holds about 100,000 of
/// them in the messages in flight alone (busy-25), and every snapshot holds
/// them again; at 80 bytes (the rare configuration and key-value command
/// inline) the worker's heap passed 100 MB (docs/benchmarks.md, "Log
/// entries of 32 bytes").
#[test]
fn a_raft_log_entry_holds_its_rare_parts_elsewhere() {
    assert_eq!(std::mem::size_of::<clusterscope_core::raft::Entry>(), 32);
}

/// Key-value commands are held by the log entries behind an `Arc` (an
/// entry is 32 bytes without them): a snapshot that outlives the run's
/// copies of those entries holds the commands alone, and says so.
#[test]
fn a_busy_raft_snapshot_with_key_value_commands_says_what_it_holds() {
    let path = format!("{}/../../tests/scenarios/raft/busy-25.scn", env!("CARGO_MANIFEST_DIR"));
    let busy = std::fs::read_to_string(path).expect("the scenario file");
    estimates_hold_for("raft/busy-25.scn with keys", &format!("{busy}keys 64\nread_share 20%\ncheck_history off\n"));
}

#[test]
fn a_multi_paxos_snapshot_says_what_it_holds() {
    estimates_hold("paxos/bench.scn");
}

#[test]
fn a_lock_service_snapshot_says_what_it_holds() {
    estimates_hold("locks/bench.scn");
}

#[test]
fn a_quorum_snapshot_says_what_it_holds() {
    estimates_hold("quorum/bench.scn");
}

#[test]
fn a_500_member_swim_snapshot_says_what_it_holds() {
    estimates_hold("faults/bench.scn");
}
