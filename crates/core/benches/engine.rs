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

criterion_group!(benches, raft_steady_load);
criterion_main!(benches);
