//! Placement speed: lookups per second for each algorithm on 1,000 servers
//! (100 virtual nodes each where that applies), and the time to place a
//! million keys on such a ring, the figure the Ring lab's UI depends on.
//!
//! `thrpt` of the lookup group reads as lookups per second. Short
//! measurement windows keep the whole run around a minute.

use clusterscope_core::ring::{
    uniform_nodes, Algorithm, BoundedLoads, HashKind, Jump, Ketama, KeyDistribution, KeySet, Maglev, Modulo, Placement,
    Rendezvous, RingModel, RingParams, VnodeRing,
};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

const SERVERS: u32 = 1_000;
const VNODES: u32 = 100;
const LOOKUPS: usize = 10_000;

fn placements() -> Vec<Box<dyn Placement>> {
    let nodes = uniform_nodes(SERVERS, VNODES);
    let h = HashKind::Xxh3;
    vec![
        Box::new(VnodeRing::new(&nodes, h).expect("ring")),
        Box::new(Ketama::new(&nodes).expect("ketama")),
        Box::new(Modulo::new(&nodes).expect("modulo")),
        Box::new(Jump::new(&nodes).expect("jump")),
        Box::new(Rendezvous::new(&nodes, h).expect("rendezvous")),
        Box::new(Maglev::new(&nodes, h, 65_537).expect("maglev")),
        Box::new(BoundedLoads::new(&nodes, h, 0.25).expect("bounded")),
    ]
}

fn lookups(c: &mut Criterion) {
    let keys = KeySet::generate(LOOKUPS as u32, KeyDistribution::Uniform, 1).expect("keys");
    let mut g = c.benchmark_group("lookup_1000_servers");
    g.throughput(Throughput::Elements(LOOKUPS as u64));
    for p in placements() {
        let hashes = keys.hashes(p.algorithm().key_hash(HashKind::Xxh3));
        g.bench_with_input(BenchmarkId::from_parameter(p.algorithm().name()), &hashes, |b, hashes| {
            b.iter(|| {
                let mut acc = 0u64;
                for &h in hashes {
                    acc = acc.wrapping_add(u64::from(p.locate(black_box(h))));
                }
                acc
            })
        });
    }
    g.finish();
}

fn key_hashing(c: &mut Criterion) {
    let keys = KeySet::generate(LOOKUPS as u32, KeyDistribution::Uniform, 1).expect("keys");
    let mut g = c.benchmark_group("hash_key");
    g.throughput(Throughput::Elements(LOOKUPS as u64));
    for h in HashKind::ALL {
        g.bench_function(h.name(), |b| b.iter(|| keys.hashes(black_box(h))));
    }
    g.finish();
}

fn place_a_million(c: &mut Criterion) {
    let params = RingParams {
        algorithm: Algorithm::Ring,
        nodes: SERVERS,
        vnodes: VNODES,
        keys: 1_000_000,
        ..RingParams::default()
    };
    let mut g = c.benchmark_group("model_1m_keys_1000x100");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("build_ring", |b| b.iter(|| RingModel::new(black_box(&params)).expect("model")));
    let model = RingModel::new(&params).expect("model");
    g.bench_function("add_server", |b| {
        b.iter(|| {
            let mut m = model.clone();
            m.add_node(100).expect("add").moved
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = lookups, key_hashing, place_a_million
}
criterion_main!(benches);
