//! Frames: what the worker posts to the page many times a second.
//!
//! Where the expectations come from: DESIGN.md principle 5 ("the worker ...
//! posts compact frames (node views, events since the last frame,
//! metrics)") and the front-end note ("thousands of messages in flight"),
//! and the doc comments of `lab/frame.rs`: packed messages cost a few bytes
//! each and unpack to what was packed; `choose_messages` is deterministic,
//! independent of input order and representative ("every link gets its
//! soonest arrival before any link gets a second, and so on, so a busy link
//! cannot hide a quiet one"); a frame that is not full carries only the
//! nodes that changed.

use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::{choose_messages, Frame, Lab, MessageDot, Messages, NodeView, Schema, DRAWN_MESSAGES};
use clusterscope_core::raft::RaftNode;
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{Time, MS};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Thirty days of virtual time, in microseconds (the longest a scenario may
/// run: `scenario::MAX_TIME`).
const DAYS_30: Time = 2_592_000_000_000;

fn dots_around(now: Time) -> impl Strategy<Value = Vec<MessageDot>> {
    let dot = (0u32..65_536, 0u32..65_536, any::<u8>(), 0..=now, now..=DAYS_30)
        .prop_map(|(from, to, kind, sent_at, deliver_at)| MessageDot { from, to, kind, sent_at, deliver_at });
    prop::collection::vec(dot, 0..200)
}

/// Messages on a few links, so that links carry several each.
fn busy_dots() -> impl Strategy<Value = Vec<MessageDot>> {
    let dot = (0u32..6, 0u32..6, 0u8..8, 0u64..1_000, 0u64..400).prop_map(|(from, to, kind, sent_at, flight)| {
        MessageDot { from, to, kind, sent_at, deliver_at: sent_at + flight }
    });
    prop::collection::vec(dot, 0..300)
}

fn link(m: &MessageDot) -> (u32, u32) {
    (m.from, m.to)
}

/// Removes each of `chosen` from `all` once; panics if one is missing.
fn unchosen(all: &[MessageDot], chosen: &[MessageDot]) -> Result<Vec<MessageDot>, TestCaseError> {
    let mut rest = all.to_vec();
    for c in chosen {
        let Some(i) = rest.iter().position(|m| m == c) else {
            return Err(TestCaseError::fail(format!("{c:?} was chosen but is not in the input")));
        };
        rest.swap_remove(i);
    }
    Ok(rest)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // lab/frame.rs, `Messages`: packing relative to the frame's time and
    // unpacking at the same time gives back exactly the messages, in order,
    // for any node numbers, kind and times up to 30 days.
    #[test]
    fn packed_messages_unpack_to_exactly_what_was_packed(
        (now, dots) in (0..=DAYS_30).prop_flat_map(|now| (Just(now), dots_around(now)))
    ) {
        let packed = Messages::pack(now, &dots);
        prop_assert_eq!(packed.len(), dots.len());
        prop_assert_eq!(packed.is_empty(), dots.is_empty());
        prop_assert_eq!(packed.unpack(now), dots);
    }

    // lab/frame.rs, `choose_messages`: the same messages in any order give
    // the same choice, of min(budget, len) messages taken from the input,
    // sorted by link.
    #[test]
    fn choosing_is_deterministic_and_ignores_input_order(
        (dots, shuffled, budget) in (busy_dots(), 0usize..320)
            .prop_flat_map(|(d, b)| (Just(d.clone()), Just(d).prop_shuffle(), Just(b)))
    ) {
        let chosen = choose_messages(dots.clone(), budget);
        prop_assert_eq!(&chosen, &choose_messages(shuffled, budget), "input order changed the choice");
        prop_assert_eq!(&chosen, &choose_messages(dots.clone(), budget), "not deterministic");
        prop_assert_eq!(chosen.len(), budget.min(dots.len()));
        unchosen(&dots, &chosen)?;
        prop_assert!(chosen.windows(2).all(|w| link(&w[0]) <= link(&w[1])), "sorted by link: {:?}", chosen);
    }

    // lab/frame.rs, `choose_messages` is representative: with a budget of
    // at least one message a link, every busy link is drawn; on each link
    // the soonest arrivals are drawn first; and no link gets more than one
    // message beyond any link that still has messages left out (a busy link
    // cannot hide a quiet one).
    #[test]
    fn choosing_is_representative_and_soonest_first(dots in busy_dots(), extra in 0usize..40, short in 1usize..60) {
        let links: BTreeSet<(u32, u32)> = dots.iter().map(link).collect();
        for budget in [links.len() + extra, short] {
            let chosen = choose_messages(dots.clone(), budget);
            let rest = unchosen(&dots, &chosen)?;
            let drawn: BTreeSet<(u32, u32)> = chosen.iter().map(link).collect();
            if budget >= links.len() {
                prop_assert_eq!(&drawn, &links, "budget {} for {} links", budget, links.len());
            }
            let mut per_link: BTreeMap<(u32, u32), usize> = BTreeMap::new();
            for c in &chosen {
                *per_link.entry(link(c)).or_default() += 1;
            }
            let most = per_link.values().copied().max().unwrap_or(0);
            for r in &rest {
                let on_link = chosen.iter().filter(|c| link(c) == link(r));
                for c in on_link {
                    prop_assert!(c.deliver_at <= r.deliver_at, "{:?} was drawn before the sooner {:?}", c, r);
                }
                let have = per_link.get(&link(r)).copied().unwrap_or(0);
                prop_assert!(most <= have + 1, "a link has {} drawn while {:?} has {} and one left out", most, link(r), have);
            }
        }
    }
}

const BIG_RAFT: &str = "lab raft\nseed 1\nnodes 25\nlatency_min 40ms\nlatency_max 80ms\nrequest_rate 2000\nuntil 3s\n";

// DESIGN.md principle 5 and lab/frame.rs: a busy 25-server Raft cluster
// (thousands of messages in flight) still sends a bounded frame: at most
// DRAWN_MESSAGES dots, about nine bytes each, every link with a message in
// flight drawn at least once, and the total on the wire reported apart.
#[test]
fn a_busy_raft_frame_stays_small_and_draws_every_link() {
    let scn = Scenario::parse(BIG_RAFT).expect("parses");
    let mut lab = Lab::replay(&scn).expect("replays");
    assert!(lab.violation().is_none(), "{:?}", lab.violation_text());
    let schema = lab.schema();
    let frame = lab.frame(true);
    let n = frame.messages.len();
    assert!(n <= DRAWN_MESSAGES, "{n} messages drawn, at most {DRAWN_MESSAGES}");
    assert!(frame.messages_total >= n as u64, "{} on the wire, {n} drawn", frame.messages_total);
    assert!(
        frame.messages_total > DRAWN_MESSAGES as u64,
        "the scenario is meant to overflow the budget: {}",
        frame.messages_total
    );
    assert_eq!(n, DRAWN_MESSAGES, "with more on the wire, the whole budget is used");
    assert!(frame.messages.byte_len() <= 12 * n, "{} bytes for {n} messages", frame.messages.byte_len());

    let dots = frame.messages.unpack(frame.time);
    assert_eq!(dots.len(), n);
    let sim = lab.model::<ClusterLab<RaftNode>>().expect("Raft runs on the cluster lab").sim();
    let wire: Vec<MessageDot> = sim
        .in_flight()
        .map(|m| MessageDot { from: m.from, to: m.to, kind: 0, sent_at: m.sent_at, deliver_at: m.deliver_at })
        .collect();
    assert_eq!(wire.len() as u64, frame.messages_total);
    let wire_links: BTreeSet<(u32, u32)> = wire.iter().map(link).collect();
    let drawn_links: BTreeSet<(u32, u32)> = dots.iter().map(link).collect();
    assert!(wire_links.len() <= DRAWN_MESSAGES);
    assert_eq!(drawn_links, wire_links, "every link with a message in flight is drawn");
    for d in &dots {
        assert!(d.from < 25 && d.to < 25 && d.from != d.to, "{d:?}");
        assert!(
            usize::from(d.kind) < schema.kinds.len(),
            "kind {} is not one of Raft's {}",
            d.kind,
            schema.kinds.len()
        );
        assert!(d.sent_at <= frame.time && frame.time <= d.deliver_at, "{d:?} at {}", frame.time);
        let on_wire =
            wire.iter().any(|w| (w.from, w.to, w.sent_at, w.deliver_at) == (d.from, d.to, d.sent_at, d.deliver_at));
        assert!(on_wire, "{d:?} is drawn but not on the wire");
    }
}

// lab/mod.rs, `Lab::frame`: "full: every node ..., not only what changed
// since the last frame". Two frames in a row at the same moment: the second
// sends no node, no groups and no log lines; after time moves on, only the
// servers that changed are sent, and a full frame sends all of them.
#[test]
fn a_frame_that_is_not_full_sends_only_what_changed() {
    let scn = Scenario::parse(&BIG_RAFT.replace("until 3s", "until 1s")).expect("parses");
    let mut lab = Lab::replay(&scn).expect("replays");
    let first = lab.frame(false);
    assert_eq!(first.node_count, 25);
    assert_eq!(first.nodes.len(), 25, "the first frame has nothing to compare with");
    assert!(first.groups.is_some());
    let second = lab.frame(false);
    assert_eq!(second.time, first.time);
    assert!(second.nodes.is_empty(), "nothing changed, yet {} nodes were sent", second.nodes.len());
    assert_eq!(second.groups, None, "the groups did not change");
    assert!(second.log.is_empty(), "no new log lines: {:?}", second.log);
    assert_eq!(second.node_count, 25, "the count is always sent");
    assert_eq!(second.messages, first.messages, "the messages in flight are the same");
    assert_eq!(second.metrics.len(), first.metrics.len());

    lab.run_until(lab.now() + 5 * MS);
    let later = lab.frame(false);
    assert!(!later.nodes.is_empty(), "with 2000 requests a second some server changed in 5 ms");
    for n in &later.nodes {
        assert_ne!(Some(n), first.nodes.get(n.id as usize), "S{} is sent although unchanged", n.id + 1);
    }
    assert!(!later.log.is_empty(), "five milliseconds of a busy cluster leave log lines");
    let full = lab.frame(true);
    assert_eq!(full.nodes.len(), 25, "a full frame sends every node");
    assert!(full.groups.is_some());
}

/// The node views a page holds after applying `frame` to `held` (a frame
/// that is not full replaces only the nodes it carries).
fn apply(held: &mut Vec<NodeView>, frame: &Frame) {
    if frame.full || held.len() != frame.node_count as usize {
        held.clone_from(&frame.nodes);
        return;
    }
    for n in &frame.nodes {
        held[n.id as usize] = n.clone();
    }
}

/// A metric's value in a frame, by its name in the schema.
fn metric(schema: &Schema, frame: &Frame, name: &str) -> f64 {
    let i = schema.metrics.iter().position(|m| m.name == name).unwrap_or_else(|| panic!("no metric {name}"));
    frame.metrics[i]
}

// lab/frame.rs, `Frame::nodes` ("the nodes that changed since the last
// frame") and DESIGN.md principle 5 (the page draws from frames alone): a
// page that applies each frame that is not full to what it holds must hold
// exactly what a full frame of the same moment sends, after every frame,
// through a crash, a restart and a partition (roles, terms, logs and
// statuses change on some servers and not on others). And a frame's metric
// values are the run's own, compared by value: the counts the simulator
// keeps (`Lab::counters`) and the same metrics of the full frame.
#[test]
fn applying_partial_frames_holds_what_a_full_frame_sends() {
    let text = "lab raft\nseed 4\nnodes 7\nrequest_rate 300\nat 600ms crash S2\nat 900ms partition S1,S3 | S2,S4,S5,S6,S7\nat 1300ms restart S2\nat 1500ms heal\nuntil 2s\n";
    let scn = Scenario::parse(text).expect("parses");
    let mut partial = Lab::new(&scn).expect("starts");
    let mut full = Lab::new(&scn).expect("starts");
    let schema = partial.schema();
    let mut held = Vec::new();
    let (mut sent, mut skipped) = (0, 0);
    for step in 1..=200u64 {
        let t = step * 10 * MS;
        partial.run_until(t);
        full.run_until(t);
        let f = partial.frame(false);
        let all = full.frame(true);
        sent += f.nodes.len();
        skipped += all.nodes.len() - f.nodes.len().min(all.nodes.len());
        apply(&mut held, &f);
        assert_eq!(held, all.nodes, "at {t} µs the page would hold other nodes than a full frame sends");
        assert_eq!(f.node_count, all.node_count);
        for (i, (a, b)) in f.metrics.iter().zip(&all.metrics).enumerate() {
            assert!(a == b || (a.is_nan() && b.is_nan()), "metric {} is {a} in one frame and {b} in the other", i);
        }
        assert_eq!(f.metrics.len(), schema.metrics.len());
        let c = partial.counters();
        for (name, want) in
            [("committed", c.committed), ("requests", c.requests), ("sent", c.sent), ("dropped", c.dropped)]
        {
            assert_eq!(metric(&schema, &f, name), want as f64, "{name} at {t} µs");
        }
    }
    assert!(sent > 0 && skipped > 0, "some frames left unchanged nodes out ({skipped}) and some sent nodes ({sent})");
    assert!(partial.counters().dropped > 0 && partial.counters().committed > 100, "{:?}", partial.counters());
}
