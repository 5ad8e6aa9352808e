//! The storage's service time, and what it does to optimistic and
//! pessimistic locking.
//!
//! With `serve S`, the storage is a single server with a first-come,
//! first-served line: the request that arrives i-th leaves (its answer is
//! sent) at d_i = max(a_i, d_(i-1)) + S, where a_i is its arrival. This is
//! the departure form of Lindley's recursion for a single-server queue
//! (D. V. Lindley, "The theory of queues with a single server", Proc.
//! Cambridge Phil. Soc. 48, 1952): the server never idles while a request
//! waits, serves one at a time, and in order.
//!
//! Then the comparison it exists for: restarts (optimistic) against
//! blocking (pessimistic) when what an aborted attempt used is a shared,
//! finite resource. Agrawal, Carey and Livny ("Concurrency Control
//! Performance Modeling: Alternatives and Implications", ACM TODS 12(4),
//! 1987) found restarts ahead with ample resources and little contention,
//! and blocking ahead once contention makes restarts waste a saturated
//! resource.

mod locks_common;

use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::Lab;
use clusterscope_core::locks::node::Role;
use clusterscope_core::locks::{LockMsg, LockNode, STORAGE};
use clusterscope_core::sim::{Observable, Sim, Time, TraceEvent, MS};
use locks_common::{metric, run, tracker};

fn sim(lab: &Lab) -> &Sim<LockNode> {
    lab.model::<ClusterLab<LockNode>>().expect("a locks run").sim()
}

/// A request's arrival at the storage, or an answer leaving it: when, and
/// which client sent or gets it.
type Visit = (Time, u32);

/// Runs `text` (which ends at 0 s) event by event up to `until`; the
/// arrivals at the storage (time, client) and its answers (time, client),
/// each in the order the run made them.
fn arrivals_and_answers(text: &str, until: Time) -> (Lab, Vec<Visit>, Vec<Visit>) {
    let mut lab = run(text);
    let (mut arrived, mut answered) = (Vec::new(), Vec::new());
    while lab.now() < until && lab.step_event() {
        for e in sim(&lab).last_events() {
            note(e, &mut arrived, &mut answered);
        }
    }
    (lab, arrived, answered)
}

fn note(e: &TraceEvent<LockNode>, arrived: &mut Vec<Visit>, answered: &mut Vec<Visit>) {
    match e {
        TraceEvent::Delivered { at, to, from, kind: "Read" | "Write" | "Cas", .. } if *to == STORAGE => {
            arrived.push((*at, *from))
        }
        TraceEvent::Sent { at, from, to, msg, copy: false, .. } if *from == STORAGE => {
            let answer = matches!(
                msg,
                LockMsg::ReadOk { .. } | LockMsg::WriteOk { .. } | LockMsg::CasFailed { .. } | LockMsg::Refused { .. }
            );
            assert!(answer, "the storage only answers, here with {}", msg.kind());
            answered.push((*at, *to))
        }
        _ => {}
    }
}

fn storage_line(lab: &Lab) -> Vec<(u32, LockMsg)> {
    match &sim(lab).nodes()[STORAGE as usize].state.role {
        Role::Storage(s) => s.line.iter().cloned().collect(),
        _ => unreachable!("S1 is the storage"),
    }
}

// Lindley's recursion, exactly: 20 optimistic clients on a fixed 10 ms
// network keep a 3 ms storage about two-thirds busy, so some requests find
// a line and some an idle server. No resends (resend 60 s), so every
// arrival is a distinct request.
#[test]
fn the_storage_serves_one_request_at_a_time_in_the_order_they_came() {
    let serve = 3 * MS;
    let (lab, arrived, answered) = arrivals_and_answers("# storage queue\nlab locks\nseed 4\nclients 20\nkeyspace 1000\nstrategy optimistic\nthink 100ms\nwork 50ms\nserve 3ms\nresend 60s\nlatency_min 10ms\nlatency_max 10ms\nuntil 0s\n", 3000 * MS);
    let waiting = storage_line(&lab).len();
    assert_eq!(arrived.len(), answered.len() + waiting, "every request is answered or still in line");
    assert!(answered.len() > 500, "{} answers", answered.len());
    let (mut last, mut queued) = (0, 0);
    for (i, (&(a, client), &(d, to))) in arrived.iter().zip(&answered).enumerate() {
        assert_eq!(to, client, "answer {i} goes to whoever asked {i}-th");
        let due = a.max(last) + serve;
        assert_eq!(d, due, "answer {i}: arrived at {a}, the one before left at {last}");
        queued += usize::from(last > a);
        last = d;
    }
    // The recursion was tested on both of its branches.
    assert!(queued > 50 && queued < answered.len() - 50, "{queued} of {} found a line", answered.len());
    let mut lab = lab;
    let busy = metric(&mut lab, "storage_busy");
    let expected = (answered.len() as f64 * serve as f64) / lab.now() as f64;
    assert!((busy - expected).abs() < 1e-9, "storage busy {busy}, answers × S / run {expected}");
}

// Without a service time the storage answers each request the moment it
// arrives, as before the line existed.
#[test]
fn without_a_service_time_every_request_is_answered_at_once() {
    let (mut lab, arrived, answered) = arrivals_and_answers("# no storage queue\nlab locks\nseed 4\nclients 20\nkeyspace 1000\nstrategy optimistic\nthink 100ms\nresend 60s\nuntil 0s\n", 2000 * MS);
    assert!(arrived.len() > 300, "{} requests", arrived.len());
    assert_eq!(arrived, answered, "each answer leaves when its request arrives, to its sender");
    assert!(metric(&mut lab, "storage_busy").is_nan(), "no service time, no busy share");
}

// A client that hears nothing sends its request again; a copy of a request
// still waiting in line is dropped, not served twice (a server that queued
// it would spend a whole service time on the copy and let its line grow
// with every resend).
#[test]
fn a_resent_request_still_in_line_is_not_queued_twice() {
    let mut lab = run("# resends into a line\nlab locks\nseed 2\nclients 40\nkeyspace 1000\nstrategy optimistic\nthink 100ms\nserve 10ms\nresend 100ms\nuntil 0s\n");
    let mut longest = 0;
    for t in (0..4000).map(|ms| ms * MS) {
        lab.run_until(t);
        let line = storage_line(&lab);
        longest = longest.max(line.len());
        for (i, x) in line.iter().enumerate() {
            assert!(!line[i + 1..].contains(x), "at {t}: {x:?} twice in the storage's line");
        }
    }
    // The line outlasted the resend timeout, so copies did arrive.
    assert!(longest > 10, "the longest line was {longest}");
    assert!(tracker(&lab).resent > 100, "{} resends", tracker(&lab).resent);
}

fn strategy(zipf: &str, strategy: &str, seed: u64) -> (f64, f64, f64) {
    let mut lab = run(&format!(
        "# contention\nlab locks\nseed {seed}\nclients 40\nkeyspace 100\nzipf {zipf}\nstrategy {strategy}\nthink 1s\nserve 10ms\nuntil 30s\n"
    ));
    assert!(lab.violation().is_none());
    (metric(&mut lab, "txns_per_sec"), metric(&mut lab, "aborts_per_txn"), metric(&mut lab, "storage_busy"))
}

// Restarts against blocking, with a finite storage (Agrawal, Carey and
// Livny 1987). Uniform keys: optimistic commits at least as many as
// pessimistic (nothing aborts, and it does not wait for a lock server).
// Zipf 1.5: optimistic's aborted attempts (and the requests its clients
// resend once the line outlasts the 200 ms resend timeout) saturate the
// storage and
// pessimistic, whose waiters queue at the lock server and cost the storage
// nothing, commits more. Three seeds, each must agree.
#[test]
fn blocking_overtakes_restarts_once_aborts_saturate_the_storage() {
    for seed in 1..=3 {
        let (opt, _, opt_busy) = strategy("0", "optimistic", seed);
        let (pes, ..) = strategy("0", "pessimistic", seed);
        assert!(opt >= pes * 0.98, "seed {seed}, uniform: optimistic {opt}/s, pessimistic {pes}/s");
        assert!(opt_busy < 0.8, "seed {seed}, uniform: the storage is not saturated ({opt_busy})");
        let (opt, aborts, opt_busy) = strategy("1.5", "optimistic", seed);
        let (pes, _, pes_busy) = strategy("1.5", "pessimistic", seed);
        assert!(pes > opt * 1.05, "seed {seed}, skewed: optimistic {opt}/s, pessimistic {pes}/s");
        assert!(aborts > 2.0 && opt_busy > 0.95, "seed {seed}, skewed: {aborts} aborts/txn, storage {opt_busy}");
        assert!(pes_busy < 0.5, "seed {seed}, skewed: pessimistic storage {pes_busy}");
    }
}

// The contention experiment, with its defaults (200 clients, 1 s think, a
// 2 ms storage), shows the crossover: optimistic ahead on uniform keys,
// pessimistic ahead at the highest skew, with the storage saturated by
// optimistic's retries there.
#[test]
fn the_contention_experiment_crosses_over() {
    locks_common::locks();
    let exp = clusterscope_core::lab::registry::find_experiment("locks", "contention").expect("declared");
    let given = [("zipf".to_string(), "0,1.5".to_string())];
    let table = clusterscope_core::lab::experiment::run(exp, None, &given).expect("runs");
    let col = |name: &str| table.column(name).unwrap_or_else(|| panic!("a column {name}"));
    let at = |row: usize, name: &str| table.rows[row][col(name)].value().unwrap_or(f64::NAN);
    // Rows: 0 optimistic, 0 pessimistic, 1.5 optimistic, 1.5 pessimistic.
    let text = table.to_text();
    assert!(at(0, "txns/s") > at(1, "txns/s"), "uniform keys: optimistic ahead\n{text}");
    assert!(at(3, "txns/s") > 1.15 * at(2, "txns/s"), "Zipf 1.5: pessimistic ahead\n{text}");
    assert!(at(2, "storage busy") > 95.0 && at(3, "storage busy") < 50.0, "{text}");
}
