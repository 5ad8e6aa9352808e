//! The linearizability checker gives the answers Porcupine's own tests
//! expect on Porcupine's published test data (a copy in
//! `tests/data/porcupine`, see its README): 102 of Jepsen's etcd logs
//! against a compare-and-set register, and the key-value histories of 1,
//! 10 and 50 clients.

use clusterscope_core::history::{check, decide, edn, formats, Budget, ModelKind, Op, Value, Verdict};
use std::path::PathBuf;

fn data(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/porcupine").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn linearizable(v: &Verdict) -> bool {
    match v {
        Verdict::Linearizable { .. } => true,
        Verdict::NotLinearizable { .. } => false,
        Verdict::GaveUp { message, .. } => panic!("the checker gave up: {message}"),
    }
}

#[test]
fn every_etcd_log_gets_porcupines_answer() {
    let expected = data("jepsen/expected.txt");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in expected.lines().filter(|l| !l.starts_with('#')) {
        let (n, answer) = line.split_once(' ').expect("'NNN true|false'");
        let n: u32 = n.parse().expect("a log number");
        let entries =
            formats::read_jepsen_log(&data(&format!("jepsen/etcd_{n:03}.log"))).expect("Porcupine's logs read");
        assert!(!entries.is_empty(), "log {n} has operations");
        let v = check(ModelKind::CasRegister, &Value::Nil, &entries, &Budget::default()).expect("register operations");
        if linearizable(&v) != (answer == "true") {
            wrong.push(n);
        }
        checked += 1;
    }
    assert_eq!(checked, 102, "Porcupine answers 102 of the 103 logs");
    assert!(wrong.is_empty(), "logs answered unlike Porcupine: {wrong:?}");
}

fn kv(name: &str) -> Verdict {
    let entries = edn::read(&data(&format!("kv/{name}.txt"))).expect("Porcupine's kv histories read");
    check(ModelKind::Kv, &Value::Str(String::new()), &entries, &Budget::default()).expect("kv operations")
}

#[test]
fn kv_histories_of_1_10_and_50_clients_get_porcupines_answers() {
    for clients in ["c01", "c10", "c50"] {
        assert!(linearizable(&kv(&format!("{clients}-ok"))), "{clients}-ok is linearizable (TestKv…Ok)");
        assert!(!linearizable(&kv(&format!("{clients}-bad"))), "{clients}-bad is not (TestKv…Bad)");
    }
}

/// A non-linearizable verdict names a few operations of one key that
/// really cannot be ordered; they fail for the history's own reasons
/// (every value read in the set was appended by an operation in the set),
/// and without any one of the reads the rest can be ordered.
#[test]
fn a_failing_history_shrinks_to_a_small_set_that_fails_for_its_own_reasons() {
    for name in ["c10-bad", "c50-bad"] {
        let entries = edn::read(&data(&format!("kv/{name}.txt"))).expect("reads");
        let initial = Value::Str(String::new());
        let Verdict::NotLinearizable { ops, reason, .. } = kv(name) else { panic!("{name} is not linearizable") };
        assert!(ops.len() <= 12, "{name}: a handful of operations, not the whole key: {} ({reason})", ops.len());
        let key = &entries[ops[0]].key;
        assert!(ops.iter().all(|&i| &entries[i].key == key), "one key");
        let subset = |keep: &[usize]| keep.iter().map(|&i| entries[i].clone()).collect::<Vec<_>>();
        let fails = |keep: &[usize]| {
            !linearizable(&check(ModelKind::Kv, &initial, &subset(keep), &Budget::default()).expect("kv operations"))
        };
        assert!(fails(&ops), "the set itself cannot be ordered");
        let appended: Vec<String> = ops
            .iter()
            .filter_map(|&i| match &entries[i].op {
                Op::Append { value: Value::Str(s) } => Some(s.clone()),
                _ => None,
            })
            .collect();
        for &i in &ops {
            if let Op::Read { value: Some(Value::Str(read)) } = &entries[i].op {
                let mut rest = read.as_str();
                while !rest.is_empty() {
                    let piece = appended.iter().find(|a| rest.starts_with(a.as_str()));
                    let piece = piece.unwrap_or_else(|| panic!("{name}: {read:?} is made of appends in the set"));
                    rest = &rest[piece.len()..];
                }
                let others: Vec<usize> = ops.iter().copied().filter(|&j| j != i).collect();
                assert!(!fails(&others), "{name}: without the read {} the rest can be ordered", entries[i]);
            }
        }
        assert!(reason.starts_with("No order of these operations is legal:"), "{reason}");
    }
}

/// `decide` gives the same answers without shrinking (the figure the
/// benchmark compares with Porcupine).
#[test]
fn deciding_alone_gives_the_same_answers() {
    let expected = data("jepsen/expected.txt");
    for line in expected.lines().filter(|l| !l.starts_with('#')) {
        let (n, answer) = line.split_once(' ').expect("'NNN true|false'");
        let n: u32 = n.parse().expect("a log number");
        let entries = formats::read_jepsen_log(&data(&format!("jepsen/etcd_{n:03}.log"))).expect("reads");
        let v = decide(ModelKind::CasRegister, &Value::Nil, &entries, &Budget::default()).expect("register");
        assert_eq!(linearizable(&v), answer == "true", "log {n}");
    }
}
