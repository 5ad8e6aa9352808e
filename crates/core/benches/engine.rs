//! Engine throughput: a 5-node Raft cluster under steady client load, the
//! same workload as the browser benchmark (tests/scenarios/raft/bench.scn).
//! Reported per delivered message, so `thrpt` reads as messages per second.

use clusterscope_core::lab::Lab;
use clusterscope_core::scenario::Scenario;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const BENCH: &str = include_str!("../../../tests/scenarios/raft/bench.scn");

fn raft_steady_load(c: &mut Criterion) {
    let scn = Scenario::parse(BENCH).expect("bench.scn is valid");
    let delivered = Lab::replay(&scn).expect("bench.scn runs").counters().delivered;
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.throughput(Throughput::Elements(delivered));
    g.bench_function("raft5_steady_load_delivered_msgs", |b| {
        b.iter(|| Lab::replay(&scn).expect("bench.scn runs").fingerprint())
    });
    g.finish();
}

/// Multi-Paxos under the same kind of load (tests/scenarios/paxos/bench.scn):
/// reported per committed command, each one slot decided, so `thrpt` reads
/// as decisions per second.
fn paxos_steady_load(c: &mut Criterion) {
    const PAXOS: &str = include_str!("../../../tests/scenarios/paxos/bench.scn");
    let scn = Scenario::parse(PAXOS).expect("paxos/bench.scn is valid");
    let committed = Lab::replay(&scn).expect("paxos/bench.scn runs").counters().committed;
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.throughput(Throughput::Elements(committed));
    g.bench_function("multipaxos5_steady_load_decisions", |b| {
        b.iter(|| Lab::replay(&scn).expect("paxos/bench.scn runs").fingerprint())
    });
    g.finish();
}

criterion_group!(benches, raft_steady_load, paxos_steady_load, frame_at_1x, lab_frames);
criterion_main!(benches);

/// The worker's work for one frame at 1x on a busy cluster: 16 ms of
/// virtual time (25 servers, 2,000 requests/s, 40-80 ms latency), then the
/// frame the page draws (tests/scenarios/raft/busy-25.scn).
fn frame_at_1x(c: &mut Criterion) {
    const BUSY: &str = include_str!("../../../tests/scenarios/raft/busy-25.scn");
    let scn = Scenario::parse(BUSY).expect("busy-25.scn is valid");
    let start = Lab::replay(&scn).expect("busy-25.scn runs");
    let mut g = c.benchmark_group("frame");
    g.sample_size(20);
    g.bench_function("busy25_advance_16ms", |b| {
        b.iter_batched(
            || start.clone(),
            |mut lab| {
                let t = lab.now() + 16_000;
                lab.run_until(t);
                lab
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("busy25_frame", |b| frames_at_1x(b, &start));
    g.finish();
}

/// The worker's work for one frame at 1x in the labs that draw a view of
/// their own (`ClusterProtocol::lab_view`, built for every frame): 16 ms of
/// virtual time then the frame (`_frame`), and a full frame of the same
/// state alone (`_full_frame`: every node, the lab's view, the metrics),
/// after the run reached the end of the lab's `bench.scn`. Failure
/// detection twice: at 64 members its view is the whole matrix (4 KB), at
/// 500 (`bench.scn`) only each member's counts.
fn lab_frames(c: &mut Criterion) {
    const LOCKS: &str = include_str!("../../../tests/scenarios/locks/bench.scn");
    const QUORUM: &str = include_str!("../../../tests/scenarios/quorum/bench.scn");
    const FAULTS: &str = include_str!("../../../tests/scenarios/faults/bench.scn");
    const PAXOS: &str = include_str!("../../../tests/scenarios/paxos/bench.scn");
    let faults64 = FAULTS.replace("nodes 500", "nodes 64");
    let labs = [
        ("multipaxos5", PAXOS.to_string()),
        ("locks50", LOCKS.to_string()),
        ("quorum5", QUORUM.to_string()),
        ("faults64", faults64),
        ("faults500", FAULTS.to_string()),
    ];
    let mut g = c.benchmark_group("frame");
    g.sample_size(20);
    for (name, text) in labs {
        let scn = Scenario::parse(&text).expect("a lab's bench.scn is valid");
        let start = Lab::replay(&scn).expect("a lab's bench.scn runs");
        g.bench_function(format!("{name}_frame"), |b| frames_at_1x(b, &start));
        g.bench_function(format!("{name}_full_frame"), |b| {
            let mut lab = start.clone();
            b.iter(|| lab.frame(true))
        });
    }
    g.finish();
}

/// Frame after frame at 1x from `start`: 16 ms of virtual time, then the
/// frame the page draws.
fn frames_at_1x(b: &mut criterion::Bencher, start: &Lab) {
    let mut lab = start.clone();
    let mut t = lab.now();
    b.iter(|| {
        t += 16_000;
        lab.run_until(t);
        lab.frame(false)
    })
}
