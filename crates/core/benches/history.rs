//! Linearizability checking time on Porcupine's published test data (a
//! copy in `tests/data/porcupine`): its key-value histories of 50 clients
//! (linearizable and not), its largest etcd log, and all 102 etcd logs it
//! answers, parsed outside the timing as Porcupine's own benchmarks do
//! (`BenchmarkKv50ClientsOk`, `BenchmarkEtcdJepsenNNN`), so the figures
//! compare side by side (docs/benchmarks.md). A failing history is shrunk
//! to a small set, which Porcupine does not do: `_decide_only` is the
//! answer alone, the figure to compare with Porcupine's.

use clusterscope_core::history::{check, decide, edn, formats, Budget, Entry, ModelKind, Value};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use std::time::Duration;

fn data(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/porcupine").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn etcd(n: u32) -> Vec<Entry> {
    formats::read_jepsen_log(&data(&format!("jepsen/etcd_{n:03}.log"))).expect("reads")
}

fn histories(c: &mut Criterion) {
    let mut g = c.benchmark_group("linearizability");
    g.sample_size(10).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    let empty = Value::Str(String::new());
    for name in ["c50-ok", "c50-bad"] {
        let entries = edn::read(&data(&format!("kv/{name}.txt"))).expect("reads");
        g.bench_function(format!("kv_{name}"), |b| {
            b.iter(|| check(ModelKind::Kv, &empty, black_box(&entries), &Budget::default()).expect("kv"))
        });
    }
    let largest = etcd(70);
    g.bench_function("etcd_070", |b| {
        b.iter(|| check(ModelKind::CasRegister, &Value::Nil, black_box(&largest), &Budget::default()).expect("cas"))
    });
    // Not linearizable (Porcupine's TestEtcdJepsen070 expects false): the
    // answer alone, without shrinking, is the figure to set beside
    // Porcupine's.
    g.bench_function("etcd_070_decide_only", |b| {
        b.iter(|| decide(ModelKind::CasRegister, &Value::Nil, black_box(&largest), &Budget::default()).expect("cas"))
    });
    let bad = edn::read(&data("kv/c50-bad.txt")).expect("reads");
    g.bench_function("kv_c50-bad_decide_only", |b| {
        b.iter(|| decide(ModelKind::Kv, &empty, black_box(&bad), &Budget::default()).expect("kv"))
    });
    let all: Vec<Vec<Entry>> = (0..=102).filter(|&n| n != 95).map(etcd).collect();
    g.bench_function("etcd_all_102", |b| {
        b.iter(|| {
            for entries in &all {
                black_box(check(ModelKind::CasRegister, &Value::Nil, entries, &Budget::default()).expect("cas"));
            }
        })
    });
    g.bench_function("etcd_all_102_decide_only", |b| {
        b.iter(|| {
            for entries in &all {
                black_box(decide(ModelKind::CasRegister, &Value::Nil, entries, &Budget::default()).expect("cas"));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, histories);
criterion_main!(benches);
