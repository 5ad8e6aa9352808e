//! Last writer wins against version vectors with siblings.
//!
//! Last writer wins orders versions by the coordinator's clock, so a
//! write stamped by a clock behind loses to an older one and is dropped
//! unseen (Dynamo, SOSP 2007, §4.4 on timestamps; Kingsbury, "The trouble
//! with timestamps", 2013). Dotted version vectors (Preguiça et al.,
//! "Dotted Version Vectors", 2010; Riak's `dvvset`) keep writes neither
//! of which saw the other as siblings; a read returns them all with their
//! merged version vector, and the client's write with that context
//! supersedes exactly what it read (Riak's documentation, "Conflict
//! Resolution": siblings, vector clocks and resolving on read).

mod quorum_common;

use clusterscope_core::sim::{local_clock, KvOp};
use quorum_common::*;

/// Writes to key 0 only (every `request` is one), spaced 100 ms apart,
/// longer than a write takes (2 x 20 ms), so each is acknowledged before
/// the next is sent: none is concurrent with another in real time.
const WRITES: [(u64, u32); 10] =
    [(1000, 2), (1100, 1), (1500, 3), (1600, 5), (2000, 1), (2100, 4), (2500, 2), (2600, 3), (3000, 5), (3100, 1)];

fn sequence(versions: &str) -> String {
    let mut text = format!(
        "# drift\nlab quorum\nseed 3\nreplicas 3\nr 2\nw 2\nkeys 1\nread_share 0%\nrequest_rate 0\n\
         drift 150000\nversions {versions}\n"
    );
    for (t, s) in WRITES {
        text.push_str(&format!("at {t}ms request S{s}\n"));
    }
    text.push_str("until 4s\n");
    text
}

// A hand-built sequence under the shared clock drift. The model: a write
// at virtual time t coordinated by S is stamped with S's drifting clock,
// local_clock(t, drift of S) + 1 (the shared clock of crates/core/src/sim);
// last writer wins keeps the highest stamp, so a write is lost exactly when
// its stamp is below that of a write acknowledged before it was sent. The
// model's prediction comes from the drifts the run drew and the times
// alone. Version vectors, on the same sequence, lose none: the writes are
// blind (no client read first), so each is concurrent with the others and
// every replica keeps all ten as siblings.
#[test]
fn under_drift_last_writer_wins_loses_the_predicted_writes_and_version_vectors_none() {
    let mut lab = replay(&sequence("lww"));
    let sim = cluster(&lab).sim();
    let drift: Vec<i32> = sim.nodes().iter().map(|n| n.drift_ppm).collect();
    let stamp = |(t, s): (u64, u32)| local_clock(t * 1000, drift[s as usize - 1]) + 1;
    let mut lost = Vec::new();
    let mut top = 0;
    for (i, w) in WRITES.iter().enumerate() {
        if stamp(*w) < top {
            lost.push(i + 1);
        }
        top = top.max(stamp(*w));
    }
    assert!(lost.len() >= 2, "the drifts of seed 3 must make the model predict losses: {drift:?}");
    let survivor = (1..=WRITES.len()).max_by_key(|i| stamp(WRITES[i - 1])).expect("ten writes");
    assert_eq!(metric(&mut lab, "lost_writes"), lost.len() as f64, "the model predicts writes {lost:?}");
    assert_eq!(metric(&mut lab, "committed"), WRITES.len() as f64, "every write was acknowledged");
    let sim = cluster(&lab).sim();
    for &n in sim.protocol_config().home(0) {
        let held = &sim.nodes()[n as usize].state.store()[&0];
        // Values are the requests' numbers, 1 to 10 in order.
        assert_eq!(held.siblings.len(), 1);
        assert_eq!(held.value(), Some(survivor as i64), "S{} keeps only the highest stamp", n + 1);
    }

    let mut lab = replay(&sequence("vectors"));
    assert_eq!(metric(&mut lab, "lost_writes"), 0.0);
    assert_eq!(metric(&mut lab, "committed"), WRITES.len() as f64);
    let sim = cluster(&lab).sim();
    for &n in sim.protocol_config().home(0) {
        let held = &sim.nodes()[n as usize].state.store()[&0];
        let mut values: Vec<i64> = held.siblings.iter().map(|v| v.value).collect();
        values.sort_unstable();
        assert_eq!(values, (1..=10).collect::<Vec<i64>>(), "S{} keeps every write as a sibling", n + 1);
    }
}

// Two writes at the same moment through two coordinators: neither saw
// the other, so every replica keeps both (two siblings). Then a read: it
// returns both siblings, the client merges them into the larger value and
// writes it back with the read's version vector; that write is causally
// later than both, so it supersedes them on every replica (one sibling
// left, the merge, with both dots in its clock). The three commands are
// `request`s, whose kind the workload draws (half reads): seed 34 draws
// write, write, read, which the test checks first.
#[test]
fn two_concurrent_writes_are_two_siblings_until_a_read_merges_them() {
    let base = "# siblings\nlab quorum\nseed 34\nreplicas 3\nr 2\nw 2\nkeys 1\nrequest_rate 0\n\
                versions vectors\nat 1000ms request S2\nat 1000ms request S4\nat 1500ms request S3\n";
    let mut lab = replay(&format!("{base}until 2s\n"));
    let sim = cluster(&lab).sim();
    let mut recs: Vec<_> = sim.clients().kv_history().map(|r| (r.invoked, r.command.op)).collect();
    recs.sort_by_key(|(t, op)| (*t, matches!(op, KvOp::Read)));
    let ops: Vec<KvOp> = recs.into_iter().map(|(_, op)| op).collect();
    assert!(matches!(ops[..], [KvOp::Write(_), KvOp::Write(_), KvOp::Read]), "{ops:?}");
    let home = sim.protocol_config().home(0).to_vec();
    let lab_before = replay(&format!("{base}until 1400ms\n"));
    let before = cluster(&lab_before).sim();
    for &n in &home {
        let held = &before.nodes()[n as usize].state.store()[&0];
        let mut values: Vec<i64> = held.siblings.iter().map(|v| v.value).collect();
        values.sort_unstable();
        assert_eq!(values, [1, 2], "S{}: two siblings", n + 1);
    }
    assert_eq!(metric(&mut lab, "merges"), 1.0);
    assert_eq!(metric(&mut lab, "max_siblings"), 2.0);
    assert_eq!(metric(&mut lab, "lost_writes"), 0.0);
    let sim = cluster(&lab).sim();
    for &n in &home {
        let held = &sim.nodes()[n as usize].state.store()[&0];
        assert_eq!(held.siblings.len(), 1, "S{}: the merge superseded both: {held:?}", n + 1);
        assert_eq!(held.value(), Some(2), "the merge is the larger value");
        assert!(held.seen(1) >= 1 && held.seen(3) >= 1, "its clock has seen both writes: {:?}", held.clock);
    }
}

// The presets "Drifting clocks: last writer wins loses writes" and its
// version-vector twin: the same seed, clocks and load. Last writer wins
// loses writes; version vectors lose none, see siblings and merge them,
// and (with R + W > N) no read is stale either way.
#[test]
fn the_drift_presets_lose_writes_only_under_last_writer_wins() {
    let mut lww = replay(include_str!("../../../tests/scenarios/quorum/clock-drift.scn"));
    let mut vv = replay(include_str!("../../../tests/scenarios/quorum/clock-drift-vectors.scn"));
    let lost = metric(&mut lww, "lost_writes");
    assert!(lost >= 50.0, "last writer wins lost {lost}");
    assert_eq!(metric(&mut vv, "lost_writes"), 0.0);
    assert!(metric(&mut vv, "siblings_per_read") > 1.0);
    assert!(metric(&mut vv, "merges") > 0.0);
    assert_eq!(metric(&mut lww, "committed"), metric(&mut vv, "committed"), "the same load");
    assert_eq!((metric(&mut lww, "stale_reads"), metric(&mut vv, "stale_reads")), (0.0, 0.0));
}
