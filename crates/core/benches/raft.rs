//! Raft throughput: a 5-node cluster under a steady client load of 2,000
//! requests per second, with and without the five safety checkers. Reported
//! per delivered message, so `thrpt` reads as delivered messages per second
//! of wall-clock time. Also the cost of an election in a 101-node cluster.

use clusterscope_core::raft::{self, RaftConfig, RaftNode};
use clusterscope_core::sim::{ClientConfig, NetConfig, Sim, SimConfig, Time, SEC};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn loaded(invariants: bool, until: Time) -> Sim<RaftNode> {
    let config = SimConfig {
        nodes: 5,
        seed: 1,
        net: NetConfig::default(),
        client: ClientConfig { rate_per_sec: 2_000, ..ClientConfig::default() },
        trace_window: 4096,
        ..SimConfig::default()
    };
    let mut sim = Sim::new(config, RaftConfig::default());
    if invariants {
        for inv in raft::invariants() {
            sim.add_invariant(inv);
        }
    }
    sim.run_until(until);
    assert!(sim.violation().is_none());
    sim
}

fn steady_load(c: &mut Criterion) {
    let until = 5 * SEC;
    let delivered = loaded(true, until).counters().delivered;
    let mut g = c.benchmark_group("raft");
    g.sample_size(10);
    g.throughput(Throughput::Elements(delivered));
    g.bench_function("5_nodes_2000_rps_checked", |b| b.iter(|| loaded(true, until).trace().fingerprint()));
    g.bench_function("5_nodes_2000_rps_unchecked", |b| b.iter(|| loaded(false, until).trace().fingerprint()));
    g.finish();
}

fn big_election(c: &mut Criterion) {
    let mut g = c.benchmark_group("raft");
    g.sample_size(10);
    g.bench_function("101_nodes_first_second", |b| {
        b.iter(|| {
            let config = SimConfig { nodes: 101, seed: 3, ..SimConfig::default() };
            let mut sim: Sim<RaftNode> = Sim::new(config, RaftConfig::default());
            for inv in raft::invariants() {
                sim.add_invariant(inv);
            }
            sim.run_until(SEC);
            sim.counters().delivered
        })
    });
    g.finish();
}

criterion_group!(benches, steady_load, big_election);
criterion_main!(benches);
