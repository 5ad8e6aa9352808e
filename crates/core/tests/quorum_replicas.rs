//! What the quorum lab's replicas end up holding: hinted handoff returning
//! a replica's missed writes (Dynamo, SOSP 2007, §4.6), and last writer
//! wins dropping the writes of a coordinator whose clock runs behind
//! (Dynamo §4.4 on timestamps; Kingsbury's "The trouble with timestamps",
//! 2013).

mod quorum_common;

use clusterscope_core::quorum::QuorumNode;
use clusterscope_core::sim::{KvOp, Sim};
use quorum_common::*;

/// The newest version acknowledged to a client, per key.
fn newest_acked(sim: &Sim<QuorumNode>) -> Vec<(u32, u64)> {
    let mut best = std::collections::BTreeMap::new();
    for rec in sim.clients().kv_history() {
        if let (KvOp::Write(_), Some((_, a))) = (rec.command.op, rec.done) {
            let b = best.entry(rec.command.key).or_insert(0);
            *b = (*b).max(a.version);
        }
    }
    best.into_iter().collect()
}

/// The replicas (server, key) that do not hold their key's newest
/// acknowledged version.
fn behind(sim: &Sim<QuorumNode>) -> Vec<(u32, u32)> {
    let cfg = sim.protocol_config();
    let mut out = Vec::new();
    for (key, ts) in newest_acked(sim) {
        for &n in cfg.home(key) {
            let held = sim.nodes()[n as usize].state.store().get(&key).map_or(0, |v| v.ts());
            if held < ts {
                out.push((n, key));
            }
        }
    }
    out
}

fn handoff_run(sloppy: &str) -> clusterscope_core::lab::Lab {
    replay(&format!(
        "# handoff\nlab quorum\nseed 4\nreplicas 3\nr 2\nw 2\nkeys 4\nsloppy {sloppy}\nrequest_rate 100\n\
         at 1s crash S2\nat 4s restart S2\nat 4s set request_rate 0\nuntil 8s\n"
    ))
}

// Dynamo §4.6: while S2 is down, the writes meant for it go to the next
// server on the ring with a hint; once S2 is back the hints are handed
// over and deleted. Afterwards every replica holds every key's newest
// acknowledged write, and no hint waits. Without hinted handoff (and with
// no read repair or anti-entropy), S2 keeps missing them: the test would
// pass for the wrong reason if it did not.
#[test]
fn hinted_handoff_returns_every_acknowledged_write() {
    let mut lab = handoff_run("on");
    assert!(metric(&mut lab, "handed_off") > 0.0);
    assert_eq!(metric(&mut lab, "hints"), 0.0, "every hint was handed back");
    let sim = cluster(&lab).sim();
    assert!(newest_acked(sim).len() == 4, "every key was written");
    assert_eq!(behind(sim), vec![], "replicas missing an acknowledged write");

    let lab = handoff_run("off");
    let missing = behind(cluster(&lab).sim());
    assert!(!missing.is_empty() && missing.iter().all(|(n, _)| *n == 1), "only S2 misses writes: {missing:?}");
}

// A hand-built sequence of writes to one key, S1's clock 300 ms behind.
// Last writer wins keeps the highest stamp, so a write is lost exactly
// when its stamp is lower than that of a write acknowledged before it was
// sent: the model below predicts which, from the times and the skew alone.
#[test]
fn last_writer_wins_loses_the_writes_the_model_predicts() {
    // (time in ms, coordinator): every `request` is a write (no reads).
    let writes: [(u64, u32); 8] =
        [(1000, 2), (1100, 1), (1500, 1), (1600, 3), (2000, 1), (2050, 1), (2100, 4), (2200, 1)];
    let skew = 300;
    let mut text = format!(
        "# lww\nlab quorum\nseed 1\nreplicas 3\nr 2\nw 2\nkeys 1\nread_share 0%\nrequest_rate 0\nskew {skew}ms\n"
    );
    for (t, s) in writes {
        text.push_str(&format!("at {t}ms request S{s}\n"));
    }
    text.push_str("until 3s\n");
    // The model: a write's stamp is its time, less the skew at S1; writes
    // are 100 ms or more apart, longer than any write takes (2 x 20 ms),
    // so each was acknowledged before the next was sent.
    let stamp = |(t, s): (u64, u32)| if s == 1 { t - skew } else { t };
    let mut lost = Vec::new();
    let mut top = 0;
    for (i, w) in writes.iter().enumerate() {
        if stamp(*w) < top {
            lost.push(i + 1);
        }
        top = top.max(stamp(*w));
    }
    assert_eq!(lost, vec![2, 8], "the model: S1's writes at 1.1 s and 2.2 s");
    let survivor = (1..=writes.len()).filter(|i| !lost.contains(i)).max_by_key(|i| stamp(writes[i - 1]));

    let mut lab = replay(&text);
    assert_eq!(metric(&mut lab, "lost_writes"), lost.len() as f64);
    assert_eq!(metric(&mut lab, "committed"), writes.len() as f64, "every write was acknowledged");
    let sim = cluster(&lab).sim();
    for &n in sim.protocol_config().home(0) {
        let v = &sim.nodes()[n as usize].state.store()[&0].siblings[0];
        // Values are the requests' numbers, 1 to 8 in order.
        assert_eq!(Some(v.value as usize), survivor, "S{} holds the write with the highest stamp", n + 1);
    }
}
