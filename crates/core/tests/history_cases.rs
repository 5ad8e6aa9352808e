//! Hand-written histories for the linearizability checker, each with the
//! place its answer comes from, and the readers' handling of bad files.

use clusterscope_core::history::{check, decide, edn, formats, Budget, Entry, ModelKind, Op, Value, Verdict};

fn verdict(model: ModelKind, initial: Value, text: &str) -> Verdict {
    let entries = edn::read(text).expect("the history reads");
    check(model, &initial, &entries, &Budget::default()).expect("the model has these operations")
}

fn is_linearizable(v: &Verdict) -> bool {
    matches!(v, Verdict::Linearizable { .. })
}

/// Porcupine's README, first example (a register starting at 0):
/// C0 put 100 spans both reads; C1 reads 100 and C2 reads 0 inside it.
/// Linearizable: C2's read, then the put, then C1's read.
const PORCUPINE_README_1: &str = r#"
{:process 0, :type :invoke, :f :write, :value 100}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 2, :type :invoke, :f :read, :value nil}
{:process 2, :type :ok, :f :read, :value 0}
{:process 1, :type :ok, :f :read, :value 100}
{:process 0, :type :ok, :f :write, :value 100}
"#;

/// Porcupine's README, second example: C1 reads 200 and returns before
/// C2 reads 0, both inside C0's put of 200. Not linearizable: once a read
/// saw 200, no later read may see 0.
const PORCUPINE_README_2: &str = r#"
{:process 0, :type :invoke, :f :write, :value 200}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value 200}
{:process 2, :type :invoke, :f :read, :value nil}
{:process 2, :type :ok, :f :read, :value 0}
{:process 0, :type :ok, :f :write, :value 200}
"#;

#[test]
fn porcupines_readme_histories_get_its_answers() {
    let v = verdict(ModelKind::Register, Value::Int(0), PORCUPINE_README_1);
    let Verdict::Linearizable { order, points } = &v else { panic!("README example 1 is linearizable: {v:?}") };
    // Operation indexes in file order of invocation: 0 put, 1 C1's read, 2 C2's read.
    assert_eq!(order, &vec![2, 0, 1], "C2 reads 0 before the put, C1 reads 100 after");
    let entries = edn::read(PORCUPINE_README_1).expect("reads");
    for (i, e) in entries.iter().enumerate() {
        let ret = e.ret.expect("all returned");
        assert!(e.call <= points[i] && points[i] <= ret, "operation {i} takes effect while it runs");
    }
    let v = verdict(ModelKind::Register, Value::Int(0), PORCUPINE_README_2);
    let Verdict::NotLinearizable { ops, reason, .. } = v else { panic!("README example 2 is not linearizable") };
    assert_eq!(ops, vec![0, 1, 2], "all three operations are needed to see the contradiction");
    assert!(reason.contains("read → 0"), "the read of 0 is the one that cannot follow: {reason}");
    // A short legal order (up to three operations) is named operation by
    // operation: the put, then C1's read of 200, after which C2's read of
    // 0 cannot come.
    let entries = edn::read(PORCUPINE_README_2).expect("reads");
    let after = format!("after {}, {};", entries[0], entries[1]);
    assert!(reason.contains(&after), "the reason names the order the search found, {after}: {reason}");
}

/// Jepsen's `:info`: the write's outcome is unknown, so it may take
/// effect at any instant after its invocation, even after reads that
/// begin later (Knossos's treatment of indeterminate operations).
const LATE_WRITE: &str = r#"
; process 0's write of 1 times out: it may take effect late, or never
{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :info, :f :write, :value 1}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value nil}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value 1}
"#;

#[test]
fn a_pending_write_may_take_effect_late_but_not_before_it_is_invoked() {
    assert!(
        is_linearizable(&verdict(ModelKind::Register, Value::Nil, LATE_WRITE)),
        "the write lands between the reads"
    );
    // Never taking effect is allowed too.
    let never = LATE_WRITE
        .replace("{:process 1, :type :ok, :f :read, :value 1}", "{:process 1, :type :ok, :f :read, :value nil}");
    assert!(is_linearizable(&verdict(ModelKind::Register, Value::Nil, &never)), "the write never lands");
    // But a read that returned before the write was invoked cannot see it.
    let early = r#"
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value 1}
{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :info, :f :write, :value 1}
"#;
    assert!(!is_linearizable(&verdict(ModelKind::Register, Value::Nil, early)), "a read cannot see the future");
}

/// Compare-and-set: a failed cas answered that the value was not the one
/// it expected (Porcupine's etcd model), so it cannot be ordered where
/// the value was.
#[test]
fn a_failed_cas_is_a_comparison_that_failed() {
    let h = r#"
{:process 0, :type :invoke, :f :write, :value 3}
{:process 0, :type :ok, :f :write, :value 3}
{:process 1, :type :invoke, :f :cas, :value [3 4]}
{:process 1, :type :fail, :f :cas, :value [3 4]}
"#;
    assert!(!is_linearizable(&verdict(ModelKind::CasRegister, Value::Nil, h)), "the value was 3 throughout");
    let ok = h.replace("[3 4]", "[2 4]");
    assert!(is_linearizable(&verdict(ModelKind::CasRegister, Value::Nil, &ok)), "the value was not 2");
    let v = verdict(ModelKind::CasRegister, Value::Nil, &h.replace(":type :fail, :f :cas", ":type :ok, :f :cas"));
    assert!(is_linearizable(&v), "a cas that succeeded from 3 is fine");
}

/// Knossos's mutex: a second acquire while the first holder has not
/// released is not linearizable; overlapping ones may order either way.
#[test]
fn a_mutex_is_held_by_one_at_a_time() {
    let two_holders = r#"
{:process 0, :type :invoke, :f :acquire, :value nil}
{:process 0, :type :ok, :f :acquire, :value nil}
{:process 1, :type :invoke, :f :acquire, :value nil}
{:process 1, :type :ok, :f :acquire, :value nil}
"#;
    let v = verdict(ModelKind::Mutex, Value::Nil, two_holders);
    let Verdict::NotLinearizable { reason, .. } = v else { panic!("two holders at once") };
    assert!(reason.contains("the mutex is held"), "{reason}");
    let handed_over = r#"
{:process 0, :type :invoke, :f :acquire, :value nil}
{:process 0, :type :ok, :f :acquire, :value nil}
{:process 1, :type :invoke, :f :acquire, :value nil}
{:process 0, :type :invoke, :f :release, :value nil}
{:process 0, :type :ok, :f :release, :value nil}
{:process 1, :type :ok, :f :acquire, :value nil}
"#;
    assert!(is_linearizable(&verdict(ModelKind::Mutex, Value::Nil, handed_over)), "the second acquire waits");
}

/// Each key is its own register (linearizability is local, Herlihy &
/// Wing §3.3): a stale read on one key fails and names that key only.
#[test]
fn keys_are_checked_apart() {
    let h = r#"
[{:process 0, :type :invoke, :f :put, :key "a", :value "1"}
 {:process 0, :type :ok, :f :put, :key "a", :value "1"}
 {:process 1, :type :invoke, :f :put, :key "b", :value "2"}
 {:process 1, :type :ok, :f :put, :key "b", :value "2"}
 {:process 2, :type :invoke, :f :get, :key "a", :value nil}
 {:process 2, :type :ok, :f :get, :key "a", :value nil}
 {:process 3, :type :invoke, :f :get, :key "b", :value nil}
 {:process 3, :type :ok, :f :get, :key "b", :value "2"}]
"#;
    let entries = edn::read(h).expect("a vector of maps reads");
    let v = check(ModelKind::Kv, &Value::Nil, &entries, &Budget::default()).expect("kv");
    let Verdict::NotLinearizable { ops, .. } = v else { panic!("the read of a is stale") };
    assert!(ops.iter().all(|&i| entries[i].key == Value::Str("a".into())), "only key a: {ops:?}");
    assert_eq!(ops, vec![0, 2], "the put of a and the read that missed it");
}

/// 24 appends all left pending and a read nothing can explain: the
/// search must try every subset of the appends (2^24) to know.
fn adversarial_history() -> Vec<Entry> {
    let mut entries: Vec<Entry> = (0..24)
        .map(|p| Entry {
            client: p,
            key: Value::Nil,
            call: p,
            ret: None,
            op: Op::Append { value: Value::Str(format!("<{p}>")) },
        })
        .collect();
    entries.push(Entry {
        client: 99,
        key: Value::Nil,
        call: 100,
        ret: Some(101),
        op: Op::Read { value: Some(Value::Str("never".into())) },
    });
    entries
}

/// The budget: 24 appends all left pending and a read nothing can
/// explain make the search try every subset of appends (2^24); it stops
/// with "gave up after", quickly, instead of hanging.
#[test]
fn an_adversarial_history_ends_with_gave_up_not_a_hang() {
    let entries = adversarial_history();
    let budget = Budget { max_steps: 2_000_000, max_states: 1_000_000 };
    match check(ModelKind::Kv, &Value::Nil, &entries, &budget).expect("kv") {
        Verdict::GaveUp { message, steps } => {
            assert!(message.starts_with("gave up after"), "{message}");
            assert!(steps <= budget.max_steps + 1, "it stopped at the budget: {steps}");
        }
        other => panic!("expected to give up, got {other:?}"),
    }
}

/// A model is asked only for its own operations.
#[test]
fn an_operation_the_model_lacks_is_a_sentence() {
    let err = check(
        ModelKind::Register,
        &Value::Nil,
        &edn::read(
            "{:process 0, :type :invoke, :f :cas, :value [1 2]}\n{:process 0, :type :ok, :f :cas, :value [1 2]}",
        )
        .expect("reads"),
        &Budget::default(),
    )
    .expect_err("a register has no cas");
    assert!(err.contains("not an operation of a register"), "{err}");
}

/// Bad files are sentences naming the line; the nemesis is ignored.
#[test]
fn malformed_histories_name_their_line() {
    let cases = [
        ("{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0 :type :ok", "line 2"),
        (
            "{:process 0, :type :ok, :f :read, :value 1}",
            "line 1: process 0 completes (:ok) an operation it never invoked",
        ),
        ("\n\n{:process 0, :type :invoke, :f :frobnicate}", "line 3: :f :frobnicate is not an operation"),
        ("{:process 0, :type :invoke, :f :cas, :value 5}", "line 1: a :cas's value should be [from to]"),
        ("{:process 0, :type :invoke, :f :read}\n{:process 0, :type :invoke, :f :read}", "line 2: process 0 invokes"),
        ("{:type :invoke, :f :read}", "line 1 (operation 1): the operation has no :process"),
        ("[1 2", "line 1: '[' opened here is never closed"),
        ("\"abc", "line 1: a string opened here is never closed"),
    ];
    for (text, want) in cases {
        let err = edn::read(text).expect_err(text);
        assert!(err.contains(want), "{text:?}: got {err:?}, want {want:?}");
    }
    let with_nemesis = "{:process :nemesis, :type :info, :f :start, :value nil}\n\
        {:process 0, :type :invoke, :f :read, :value nil}\n{:process 0, :type :ok, :f :read, :value nil}";
    assert_eq!(edn::read(with_nemesis).expect("the nemesis is skipped").len(), 1);
    let tagged = "#jepsen.history.Op{:index 0, :process 0, :type :invoke, :f :read, :value nil} #_ {:ignored 1}";
    assert_eq!(edn::read(tagged).expect("tags and discards").len(), 1);
}

/// The three formats are told apart, and Porcupine's JSON reads.
#[test]
fn formats_are_told_apart() {
    let log = "INFO  jepsen.util - 0\t:invoke\t:write\t3\nINFO  jepsen.util - 0\t:ok\t:write\t3\n";
    let (e, f) = formats::read_any(log).expect("a log");
    assert_eq!((e.len(), f), (1, formats::Format::JepsenLog));
    let json = r#"[{"ClientId": 0, "Input": {"op": "write", "value": 3}, "Call": 0, "Output": {}, "Return": 5},
                  {"ClientId": 1, "Input": {"op": "read"}, "Call": 6, "Output": {"value": 3}, "Return": 8}]"#;
    let (e, f) = formats::read_any(json).expect("Porcupine JSON");
    assert_eq!(f, formats::Format::PorcupineJson);
    assert!(is_linearizable(&check(ModelKind::Register, &Value::Nil, &e, &Budget::default()).expect("register")));
    let (_, f) = formats::read_any(PORCUPINE_README_1).expect("EDN");
    assert_eq!(f, formats::Format::Edn);
    let bad = r#"[{"ClientId": 0, "Input": {"op": "write"}, "Call": 9, "Return": 5}]"#;
    assert!(formats::read_any(bad).expect_err("returns before called").contains("operation 1"));
}

/// Operations whose return and invocation fall at the same instant
/// overlap (Porcupine sorts calls before returns at equal times): a read
/// invoked when a write returns may still be ordered before it.
#[test]
fn a_call_at_the_instant_of_a_return_overlaps_it() {
    let entries = vec![
        Entry { client: 0, key: Value::Nil, call: 0, ret: Some(5), op: Op::Write { value: Value::Int(1) } },
        Entry { client: 1, key: Value::Nil, call: 5, ret: Some(6), op: Op::Read { value: Some(Value::Nil) } },
    ];
    let v = check(ModelKind::Register, &Value::Nil, &entries, &Budget::default()).expect("register");
    assert!(is_linearizable(&v), "the read may take effect at 5, before the write: {v:?}");
    let later = vec![entries[0].clone(), Entry { call: 6, ret: Some(7), ..entries[1].clone() }];
    let v = check(ModelKind::Register, &Value::Nil, &later, &Budget::default()).expect("register");
    assert!(!is_linearizable(&v), "invoked after the write returned, it must see 1");
}

/// An operation that no order can start with is said to come "first":
/// a read of 1 from a register that holds nil and that nobody writes
/// (the reason the checker gives is the sentence the page shows, see the
/// `history` module's doc: "why the next operation cannot follow").
#[test]
fn an_operation_that_cannot_come_first_is_said_to_come_first() {
    let entries =
        vec![Entry { client: 0, key: Value::Nil, call: 0, ret: Some(1), op: Op::Read { value: Some(Value::Int(1)) } }];
    let v = check(ModelKind::Register, &Value::Nil, &entries, &Budget::default()).expect("register");
    let Verdict::NotLinearizable { ops, order, reason } = v else { panic!("nothing wrote 1: {v:?}") };
    assert_eq!((ops, order), (vec![0], vec![]));
    assert_eq!(
        reason,
        "No order of these operations is legal: client 0 read → 1 must take effect before it returns, \
         first; but the value then is nil."
    );
}

/// The step budget is the number of steps the search may make
/// (`Budget::max_steps`: an operation tried, or a backtrack): two writes
/// one after the other are placed in two steps, so a budget of two
/// decides them and a budget of one gives up.
#[test]
fn a_budget_of_n_steps_lets_the_search_make_n_steps() {
    let write = |v: i64, call: u64| Entry {
        client: 0,
        key: Value::Nil,
        call,
        ret: Some(call + 1),
        op: Op::Write { value: Value::Int(v) },
    };
    let entries = vec![write(1, 0), write(2, 2)];
    let with = |max_steps: u64| {
        check(ModelKind::Register, &Value::Nil, &entries, &Budget { max_steps, max_states: 100 }).expect("register")
    };
    let v = with(2);
    assert!(is_linearizable(&v), "two steps place two writes: {v:?}");
    let v = with(1);
    assert!(matches!(&v, Verdict::GaveUp { message, .. } if message.ends_with("(the step budget)")), "{v:?}");
}

/// When the memory bound (`Budget::max_states`, configurations
/// remembered at once) runs out before the step budget, the checker says
/// so, and names the bound: the history of the adversarial test above
/// (2^24 subsets of pending appends) with room for 1,000 configurations.
#[test]
fn running_out_of_states_is_said_to_be_the_state_budget() {
    let entries = adversarial_history();
    let budget = Budget { max_steps: 50_000_000, max_states: 1_000 };
    match check(ModelKind::Kv, &Value::Nil, &entries, &budget).expect("kv") {
        Verdict::GaveUp { message, .. } => {
            assert!(message.ends_with("more than 1000 configurations to remember (the state budget)"), "{message}")
        }
        other => panic!("expected to give up, got {other:?}"),
    }
}

/// A failed compare-and-set saw a value other than the one it expected,
/// so the write that put that other value there explains it and stays in
/// the set the checker names. The register starts at 3; 5 is written,
/// then a cas 3→4 fails (the value was 5), then a read returns 3: the
/// read is stale (Herlihy & Wing: it began after the write of 5 ended).
/// The set is the write and the read, not the failed cas alone, which
/// cannot be ordered only once the write it saw is dropped.
#[test]
fn a_failed_cas_keeps_the_write_it_saw_in_the_set() {
    let entries = vec![
        Entry { client: 0, key: Value::Nil, call: 0, ret: Some(1), op: Op::Write { value: Value::Int(5) } },
        Entry {
            client: 1,
            key: Value::Nil,
            call: 2,
            ret: Some(3),
            op: Op::Cas { from: Value::Int(3), to: Value::Int(4), ok: Some(false) },
        },
        Entry { client: 2, key: Value::Nil, call: 4, ret: Some(5), op: Op::Read { value: Some(Value::Int(3)) } },
    ];
    let v = check(ModelKind::CasRegister, &Value::Int(3), &entries, &Budget::default()).expect("cas register");
    let Verdict::NotLinearizable { ops, reason, .. } = v else { panic!("the read of 3 is stale: {v:?}") };
    assert_eq!(ops, vec![0, 2], "the write of 5 and the stale read: {reason}");
}

/// Lowe's memoisation (Lowe, "Testing for linearizability", 2017): the
/// search remembers each configuration (the set of operations placed, and
/// the object's state) once, however many orders reach it. Three
/// overlapping writes of 1 to a register at 0, then a read of 2 that
/// nothing explains: the configurations are the seven non-empty sets of
/// writes, each with the value 1, so a state budget of 7 is enough to
/// decide that the history is not linearizable and a budget of 6 is not
/// (`Budget::max_states`: configurations remembered at once). Searching
/// every order without the memo would remember 15.
#[test]
fn the_search_remembers_each_configuration_once() {
    let write = |p: u64| Entry {
        client: p,
        key: Value::Nil,
        call: p,
        ret: Some(3 + p),
        op: Op::Write { value: Value::Int(1) },
    };
    let read =
        Entry { client: 9, key: Value::Nil, call: 10, ret: Some(11), op: Op::Read { value: Some(Value::Int(2)) } };
    let entries = vec![write(0), write(1), write(2), read];
    let with = |max_states: usize| {
        check(ModelKind::Register, &Value::Int(0), &entries, &Budget { max_steps: 1_000_000, max_states })
            .expect("register")
    };
    let v = with(7);
    assert!(matches!(v, Verdict::NotLinearizable { .. }), "seven configurations decide it: {v:?}");
    let v = with(6);
    assert!(matches!(&v, Verdict::GaveUp { message, .. } if message.ends_with("(the state budget)")), "{v:?}");
}

/// The shrinking starts from the shortest failing prefix (the search
/// over return instants in `check.rs`, after Lowe's observation that a
/// linearizable history has only linearizable prefixes): of two reads
/// that are each wrong on their own, a read of 7 that returns first and a
/// read of 9 after it, from a register at 0 nobody writes, the checker
/// names the first, where the history first went wrong.
#[test]
fn of_two_wrong_reads_the_checker_names_the_first() {
    let read = |p: u64, v: i64| Entry {
        client: p,
        key: Value::Nil,
        call: 2 * p,
        ret: Some(2 * p + 1),
        op: Op::Read { value: Some(Value::Int(v)) },
    };
    let entries = vec![read(0, 7), read(1, 9)];
    let v = check(ModelKind::Register, &Value::Int(0), &entries, &Budget::default()).expect("register");
    let Verdict::NotLinearizable { ops, reason, .. } = v else { panic!("nothing wrote 7 or 9: {v:?}") };
    assert_eq!(ops, vec![0], "the read of 7, which returned first: {reason}");
}

/// `n` compare-and-sets one after the other taking a register from 0 to
/// `n`, then a read of `read` (invoked at 10, after them all for n of 5
/// or less, and returned at 11).
fn cas_chain_then_read(n: i64, read: i64) -> Vec<Entry> {
    let cas = |i: i64| Entry {
        client: 0,
        key: Value::Nil,
        call: 2 * i as u64,
        ret: Some(2 * i as u64 + 1),
        op: Op::Cas { from: Value::Int(i), to: Value::Int(i + 1), ok: Some(true) },
    };
    let mut entries: Vec<Entry> = (0..n).map(cas).collect();
    entries.push(Entry {
        client: 1,
        key: Value::Nil,
        call: 10,
        ret: Some(11),
        op: Op::Read { value: Some(Value::Int(read)) },
    });
    entries
}

/// A long legal order is summed up rather than listed: four
/// compare-and-sets one after the other take a register from 0 to 4, and
/// a read of 3 after them cannot follow; the reason counts the four and
/// names the last (`Run::reason`: an order of more than three operations).
#[test]
fn a_long_legal_order_is_counted_and_its_last_operation_named() {
    let entries = cas_chain_then_read(4, 3);
    let v = check(ModelKind::CasRegister, &Value::Int(0), &entries, &Budget::default()).expect("cas register");
    let Verdict::NotLinearizable { ops, order, reason } = v else { panic!("the read of 3 is stale: {v:?}") };
    assert_eq!((ops, order), (vec![0, 1, 2, 3, 4], vec![0, 1, 2, 3]), "{reason}");
    let after = format!("after the 4 operations of the longest legal order found, the last {};", entries[3]);
    assert!(reason.contains(&after), "{after}: {reason}");
}

/// `clusterscope history check --model NAME` and the page's model menu
/// read a model by the name it is listed under (docs/consistency.md:
/// `--model cas-register`, `--model kv`): each name gives its own model,
/// and an unknown one is refused with the list.
#[test]
fn each_model_is_read_by_its_own_name() {
    for m in ModelKind::ALL {
        assert_eq!(ModelKind::parse(m.name()), Ok(m), "{}", m.name());
    }
    assert_eq!(ModelKind::parse("cas-register"), Ok(ModelKind::CasRegister));
    let e = ModelKind::parse("queue").expect_err("no queue model");
    assert_eq!(e, "no model 'queue': choose register, cas-register, kv, mutex");
}

/// The Thue–Morse string of length `n` over `a` and `b`.
fn thue_morse(n: usize, a: char, b: char) -> String {
    (0..n).map(|i: usize| if i.count_ones().is_multiple_of(2) { a } else { b }).collect()
}

/// A string the checker built by appending is compared with a value read
/// by its characters, not only by its length and a hash of them: the
/// Thue–Morse string of length 2,048 and its complement collide under
/// every polynomial hash modulo 2^64 with an odd base (the product of
/// `B^(2^i) - 1` for i < 11 is divisible by 2^66), which the checker's
/// string hash is. A key gets the one appended, a read returns it, then a
/// read returns the other, which was never written: not linearizable.
#[test]
fn an_appended_string_is_compared_by_value_even_when_the_hashes_collide() {
    let (t, u) = (thue_morse(2048, 'a', 'b'), thue_morse(2048, 'b', 'a'));
    let poly = |s: &str, base: u64| s.bytes().fold(0u64, |h, b| h.wrapping_mul(base).wrapping_add(u64::from(b) + 1));
    for base in [3, 0x100_0000_01B3, 0x9E37_79B9_7F4A_7C15] {
        assert_eq!(poly(&t, base), poly(&u, base), "the two collide for base {base:#x}");
    }
    let (ops, _) = kv_not_linearizable(&in_turn(vec![
        Op::Append { value: Value::Str(t.clone()) },
        Op::Read { value: Some(Value::Str(t)) },
        Op::Read { value: Some(Value::Str(u)) },
    ]));
    assert!(ops.contains(&2), "the read of the string never written is in the set: {ops:?}");
}

/// `ops` on one key, each by a client of its own, one after another.
fn in_turn(ops: Vec<Op>) -> Vec<Entry> {
    let e = |(client, op): (usize, Op)| {
        let client = client as u64;
        Entry { client, key: Value::Nil, call: 2 * client, ret: Some(2 * client + 1), op }
    };
    ops.into_iter().enumerate().map(e).collect()
}

/// The key-value check of `entries`, which must fail: the operations it
/// names and its reason.
fn kv_not_linearizable(entries: &[Entry]) -> (Vec<usize>, String) {
    match check(ModelKind::Kv, &Value::Nil, entries, &Budget::default()).expect("kv") {
        Verdict::NotLinearizable { ops, reason, .. } => (ops, reason),
        v => panic!("expected no order to explain it: {v:?}"),
    }
}

/// The checker remembers whether a built string equals a literal per
/// pair (the built string, the literal), not per literal: two different
/// strings built by appends, both with the Thue–Morse string's length and
/// hash, are each compared with it by value. A key gets the Thue–Morse
/// string appended and a read returns it; then it is set to "" and gets
/// the complement appended, and a read returns the Thue–Morse string
/// again, which the key no longer holds: not linearizable, and that read
/// is in the set.
#[test]
fn two_built_strings_with_one_hash_are_each_compared_with_the_value_read() {
    let (t, u) = (thue_morse(2048, 'a', 'b'), thue_morse(2048, 'b', 'a'));
    let (ops, _) = kv_not_linearizable(&in_turn(vec![
        Op::Append { value: Value::Str(t.clone()) },
        Op::Read { value: Some(Value::Str(t.clone())) },
        Op::Write { value: Value::Str(String::new()) },
        Op::Append { value: Value::Str(u) },
        Op::Read { value: Some(Value::Str(t)) },
    ]));
    assert!(ops.contains(&4), "the second read is in the set: {ops:?}");
}

/// Appending is to a string (or to a key never written): a string cannot
/// be appended to a number (`why_not`: "cannot be appended to"). A key
/// is set to 5 and then "x" is appended to it, both acknowledged, one
/// after the other: not linearizable, and the reason names both.
#[test]
fn a_string_cannot_be_appended_to_a_number() {
    let (ops, reason) = kv_not_linearizable(&in_turn(vec![
        Op::Write { value: Value::Int(5) },
        Op::Append { value: Value::Str("x".into()) },
    ]));
    assert_eq!(ops, vec![0, 1], "{reason}");
    assert!(reason.contains("cannot be appended to 5"), "{reason}");
}

/// "x" appended to a key, then a read of the number 5 from it.
fn append_x_then_read_5() -> Vec<Entry> {
    vec![
        Entry { client: 0, key: Value::Nil, call: 0, ret: Some(1), op: Op::Append { value: Value::Str("x".into()) } },
        Entry { client: 1, key: Value::Nil, call: 2, ret: Some(3), op: Op::Read { value: Some(Value::Int(5)) } },
    ]
}

/// Shrinking drops an append that the failure does not depend on
/// (`Run::removable`: an append can matter only to a read that saw a
/// string holding it): a read of the number 5 from a key that only ever
/// had "x" appended fails on its own, so the set is the read alone.
#[test]
fn an_append_no_read_saw_is_dropped_from_the_set() {
    let entries = append_x_then_read_5();
    let v = check(ModelKind::Kv, &Value::Nil, &entries, &Budget::default()).expect("kv");
    let Verdict::NotLinearizable { ops, reason, .. } = v else { panic!("nothing wrote 5: {v:?}") };
    assert_eq!(ops, vec![1], "the read of 5 alone: {reason}");
}

/// `decide` answers without shrinking (its doc: a non-linearizable
/// verdict names every operation of the failing key; what the comparison
/// with Porcupine times): the append and the read of 5 above are both
/// named, where `check` shrinks the set to the read.
#[test]
fn deciding_alone_names_every_operation_of_the_failing_key() {
    let entries = append_x_then_read_5();
    let v = decide(ModelKind::Kv, &Value::Nil, &entries, &Budget::default()).expect("kv");
    let Verdict::NotLinearizable { ops, .. } = v else { panic!("nothing wrote 5: {v:?}") };
    assert_eq!(ops, vec![0, 1]);
}

/// The reason `decide` gives is the search's deepest dead end (its doc),
/// not the first one it met. Two overlapping writes of 1 and 2 to a
/// register at 0, then a read of 1 and a read of 2: the search first
/// places the write of 1, then the write of 2, and the read of 1 cannot
/// follow (two operations deep); then the write of 2, the write of 1 and
/// the read of 1, after which the read of 2 cannot follow (three deep).
#[test]
fn deciding_alone_reports_the_deepest_dead_end() {
    let e = |client: u64, call: u64, ret: u64, op: Op| Entry { client, key: Value::Nil, call, ret: Some(ret), op };
    let entries = vec![
        e(0, 0, 5, Op::Write { value: Value::Int(1) }),
        e(1, 1, 6, Op::Write { value: Value::Int(2) }),
        e(2, 7, 8, Op::Read { value: Some(Value::Int(1)) }),
        e(3, 9, 10, Op::Read { value: Some(Value::Int(2)) }),
    ];
    let v = decide(ModelKind::Register, &Value::Int(0), &entries, &Budget::default()).expect("register");
    let Verdict::NotLinearizable { order, reason, .. } = v else { panic!("the read of 2 comes too late: {v:?}") };
    assert_eq!(order, vec![1, 0, 2], "{reason}");
    assert!(reason.contains(&format!("{} must take effect", entries[3])), "{reason}");
}

/// The mutex starts free whatever initial value the check is given
/// (`--initial` is for the models that hold a value; Knossos's mutex holds
/// none): an acquire then a release, checked with the initial value 5, is
/// linearizable.
#[test]
fn a_mutex_starts_free_whatever_the_initial_value() {
    let e = |client: u64, op: Op| Entry { client, key: Value::Nil, call: 2 * client, ret: Some(2 * client + 1), op };
    let entries = vec![e(0, Op::Acquire), e(1, Op::Release)];
    for initial in [Value::Nil, Value::Int(5), Value::Str("held".into())] {
        let v = check(ModelKind::Mutex, &initial, &entries, &Budget::default()).expect("mutex");
        assert!(is_linearizable(&v), "initial {initial:?}: {v:?}");
    }
}

/// An order of exactly three operations is still listed one by one
/// (`Run::reason`: more than three are counted): three compare-and-sets
/// take a register from 0 to 3, and a read of 2 after them cannot follow.
#[test]
fn an_order_of_three_is_listed_operation_by_operation() {
    let entries = cas_chain_then_read(3, 2);
    let v = check(ModelKind::CasRegister, &Value::Int(0), &entries, &Budget::default()).expect("cas register");
    let Verdict::NotLinearizable { order, reason, .. } = v else { panic!("the read of 2 is stale: {v:?}") };
    assert_eq!(order, vec![0, 1, 2], "{reason}");
    let after = format!("after {}, {}, {};", entries[0], entries[1], entries[2]);
    assert!(reason.contains(&after), "{after}: {reason}");
}
