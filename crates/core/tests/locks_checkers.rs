//! The Locks lab's four checkers, each shown to fail on a hand-built
//! sequence of storage notes that breaks its property and to pass a
//! harmless one; then the two paused-client presets end as they say.
//!
//! Where the expectations come from: the properties as the checkers'
//! module states them (crates/core/src/locks/invariants.rs): fencing
//! (Kleppmann, "How to do distributed locking", 2016: the storage refuses
//! a token lower than one it has seen), mutual exclusion as the storage
//! sees it (writes under one key's lock come in token order), lost update
//! (Berenson et al. 1995, P4: a read-modify-write commits over a write it
//! did not read).

mod locks_common;

use clusterscope_core::locks::invariants::{Fencing, LostUpdate, MutualExclusion, UniqueTokens};
use clusterscope_core::locks::{LockNode, LockNote};
use clusterscope_core::sim::{Invariant, TraceEvent, World};
use locks_common::{metric, run};

fn note(at: u64, note: LockNote) -> TraceEvent<LockNode> {
    TraceEvent::Note { at, node: 0, note }
}

fn read(client: u32, key: u32, token: u64) -> LockNote {
    LockNote::ReadServed { client, key, token }
}

fn write(client: u32, key: u32, token: u64, read_version: u64, before: u64, fenced: bool) -> LockNote {
    LockNote::WriteAccepted { client, key, token, read_version, before, fenced }
}

/// Feeds `notes` one event at a time; the first failure, if any.
fn check(inv: &mut dyn Invariant<LockNode>, notes: Vec<LockNote>) -> Result<(), String> {
    let world = World { now: 0, nodes: &[] };
    for (i, n) in notes.into_iter().enumerate() {
        inv.check(&world, &[note(i as u64, n)])?;
    }
    Ok(())
}

// Unique tokens: the lock service granted key 0's lock to S3 under token
// 8, then (a server that applied an entry Raft never committed, say) to
// S4 under the same token 8. A token names one grant (Chubby's
// sequencers; Raft §5.4.3 makes every server's grant at index 8 the same).
#[test]
fn unique_tokens_fails_when_one_token_is_granted_twice() {
    let grant = |client, key, token| LockNote::Granted { client, key, token };
    let err = check(&mut UniqueTokens::default(), vec![grant(2, 0, 8), grant(3, 0, 8)]).expect_err("token 8 twice");
    assert!(err.contains("key 0's lock to S4 under token 8, which was granted to S3 already"), "{err}");
    // Harmless: one grant noted by two leaders; one token on two keys (an
    // expiry's entry may free and grant several); tokens in order.
    check(&mut UniqueTokens::default(), vec![grant(2, 0, 8), grant(2, 0, 8)]).expect("the same grant");
    check(&mut UniqueTokens::default(), vec![grant(2, 0, 8), grant(3, 1, 8)]).expect("two keys");
    check(&mut UniqueTokens::default(), vec![grant(2, 0, 8), grant(3, 0, 9)]).expect("in order");
    // It remembers more than the last grant: token 8 coming back after
    // token 9 (a deposed leader applying an old entry late) still fails.
    let err = check(&mut UniqueTokens::default(), vec![grant(2, 0, 8), grant(3, 0, 9), grant(4, 0, 8)])
        .expect_err("token 8 again, two grants later");
    assert!(err.contains("to S5 under token 8, which was granted to S3 already"), "{err}");
}

// Fencing: a storage that checks tokens saw token 5 on key 0 (S4's read),
// then accepted S3's write under token 4. A buggy check, built by hand.
#[test]
fn fencing_fails_on_a_write_below_a_token_seen() {
    let err = check(&mut Fencing::default(), vec![read(3, 0, 5), write(2, 0, 4, 0, 0, true)])
        .expect_err("a write under token 4 after token 5 was seen");
    assert!(err.contains("S3's write to key 0 with token 4") && err.contains("token 5 from S4"), "{err}");
    // Harmless: the same writes in token order; another key; and a storage
    // that does not fence (it promised nothing: the mutual-exclusion
    // checker speaks for that case).
    check(
        &mut Fencing::default(),
        vec![read(2, 0, 4), write(2, 0, 4, 0, 0, true), read(3, 0, 5), write(3, 0, 5, 1, 1, true)],
    )
    .expect("in order");
    check(&mut Fencing::default(), vec![read(3, 1, 5), write(2, 0, 4, 0, 0, true)]).expect("another key");
    check(&mut Fencing::default(), vec![read(3, 0, 5), write(2, 0, 4, 0, 0, false)]).expect("not fencing");
}

// Mutual exclusion: S4 wrote key 0 under token 2, then S3 wrote it under
// the older token 1: S3 used the lock after it had passed to S4.
#[test]
fn mutual_exclusion_fails_when_an_older_holder_writes_after_a_newer_one() {
    let err = check(&mut MutualExclusion::default(), vec![write(3, 0, 2, 0, 0, false), write(2, 0, 1, 0, 1, false)])
        .expect_err("token 1 after token 2");
    assert!(err.contains("S3 wrote key 0 under token 1 after S4 had written it under the newer token 2"), "{err}");
    check(&mut MutualExclusion::default(), vec![write(2, 0, 1, 0, 0, false), write(3, 0, 2, 1, 1, false)])
        .expect("token order");
    check(&mut MutualExclusion::default(), vec![write(3, 0, 2, 0, 0, false), write(2, 1, 1, 0, 0, false)])
        .expect("other keys");
    // Optimistic writes carry no token: the checker has nothing to order.
    check(&mut MutualExclusion::default(), vec![write(3, 0, 0, 0, 0, false), write(2, 0, 0, 1, 1, false)])
        .expect("no tokens");
}

// Lost update: S3 computed its write from version 0 of key 0, but the key
// was at version 1 when the write was applied: S4's update is lost.
#[test]
fn lost_update_fails_on_a_write_computed_from_a_stale_read() {
    let err = check(&mut LostUpdate, vec![write(3, 0, 1, 0, 0, false), write(2, 0, 2, 0, 1, false)])
        .expect_err("computed from version 0 over version 1");
    assert!(err.contains("S3's write to key 0 was computed from version 0, but the key was at version 1"), "{err}");
    check(&mut LostUpdate, vec![write(3, 0, 1, 0, 0, false), write(2, 0, 2, 1, 1, false)]).expect("fresh reads");
}

// The story of Kleppmann's Figure 1, live: without fencing, the client
// that paused past its lease writes after the new holder did, and the
// mutual-exclusion checker stops the run at that write (at 1.517 s, when
// S3's write reaches the storage); with fencing, that write is refused and
// the run ends clean.
#[test]
fn the_paused_client_breaks_mutual_exclusion_unless_the_storage_fences() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/scenarios/locks/");
    let bug = std::fs::read_to_string(format!("{root}bug-paused-client.scn")).expect("readable");
    let lab = run(&bug);
    let v = lab.violation().expect("stopped by a checker");
    assert_eq!(v.invariant, "Mutual exclusion");
    assert!(v.at > 1_500_000 && v.at < 1_600_000, "right after S3 resumes at 1.5 s: {}", v.at);

    let fenced = std::fs::read_to_string(format!("{root}default.scn")).expect("readable");
    let mut lab = run(&fenced);
    assert!(lab.violation().is_none(), "{:?}", lab.violation_text());
    assert_eq!(metric(&mut lab, "refused_writes"), 1.0, "S3's stale write, refused");
    assert_eq!(metric(&mut lab, "lease_expiries"), 1.0);
}

// The names a user reads on the violation banner, writes in a preset's
// `expect violation "NAME"` line and finds in docs/using.md's list of the
// lab's checkers; all four run in every Locks run.
#[test]
fn the_checkers_answer_to_the_names_users_write() {
    let names: Vec<&str> = clusterscope_core::locks::invariants::invariants().iter().map(|i| i.name()).collect();
    assert_eq!(names, ["Fencing", "Mutual exclusion", "Lost update", "Unique tokens"]);
}

// Fencing, the cases mutation testing found unchecked (docs/testing.md):
// a token seen on an accepted write counts as much as one seen on a read
// (S3 wrote under token 5 with no read before it: S4's write under 4 must
// then fail); an optimistic write carries no token (0) and is no fencing
// matter, whatever tokens came before.
#[test]
fn fencing_counts_the_tokens_of_accepted_writes_and_leaves_tokenless_writes_alone() {
    let err = check(&mut Fencing::default(), vec![write(2, 0, 5, 0, 0, true), write(3, 0, 4, 1, 1, true)])
        .expect_err("token 4 after a write under token 5");
    assert!(err.contains("S4's write to key 0 with token 4 after seeing token 5 from S3"), "{err}");
    check(&mut Fencing::default(), vec![read(3, 0, 5), write(2, 0, 0, 1, 1, true)]).expect("an optimistic write");
}

// Mutual exclusion: a holder that writes its key twice under its token
// (one transaction's retry) is one holder, not two.
#[test]
fn mutual_exclusion_lets_one_holder_write_twice_under_its_token() {
    check(&mut MutualExclusion::default(), vec![write(2, 0, 1, 0, 0, false), write(2, 0, 1, 1, 1, false)])
        .expect("one holder, one token");
}

// What each checker remembers is counted in the snapshot budget
// (`Invariant::heap_bytes`, held to what dropping a snapshot frees by
// snapshot_memory.rs on the cluster labs): an estimate that does not grow
// with the keys remembered lets a long run's snapshots outgrow the budget.
// Each key costs at least its map entry, a `u32` key and a token and
// holder.
#[test]
fn the_checkers_memory_estimates_grow_with_the_keys_they_remember() {
    let entry = std::mem::size_of::<(u32, (u64, u32))>();
    let keys = 100u32;
    let mut fencing = Fencing::default();
    let mut exclusion = MutualExclusion::default();
    let writes: Vec<LockNote> = (0..keys).map(|k| write(2, k, 1, 0, 0, true)).collect();
    check(&mut fencing, writes.clone()).expect("harmless");
    check(&mut exclusion, writes).expect("harmless");
    for (name, bytes) in [("Fencing", fencing.heap_bytes()), ("Mutual exclusion", exclusion.heap_bytes())] {
        assert!(
            bytes >= keys as usize * entry,
            "{name}: {bytes} bytes for {keys} keys, at least {}",
            keys as usize * entry
        );
        assert!(bytes <= keys as usize * 4 * entry, "{name}: {bytes} bytes for {keys} keys");
    }
    // Unique tokens remembers the last KEEP grants of each key: 10 keys
    // with 20 grants each hold 200 (token, holder) pairs, and no more than
    // KEEP a key however many follow.
    let grant = |key: u32, token: u64| LockNote::Granted { client: 2 + (token % 3) as u32, key, token };
    let pair = std::mem::size_of::<(u64, u32)>();
    let mut unique = UniqueTokens::default();
    check(&mut unique, (0..10).flat_map(|k| (1..=20).map(move |t| grant(k, t))).collect()).expect("in order");
    let bytes = unique.heap_bytes();
    assert!((200 * pair..=4 * 200 * pair).contains(&bytes), "Unique tokens: {bytes} bytes for 200 grants");
    check(&mut unique, (0..10).flat_map(|k| (21..=500).map(move |t| grant(k, t))).collect()).expect("in order");
    let full = unique.heap_bytes();
    let kept = 10 * UniqueTokens::KEEP * pair;
    assert!(
        (kept..=4 * kept).contains(&full),
        "Unique tokens: {full} bytes for 10 keys of {} grants",
        UniqueTokens::KEEP
    );
}
