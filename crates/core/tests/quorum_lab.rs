//! The quorum lab as a user meets it: bad parameters get a sentence, what a
//! user does live is recorded and replays to the same run (DESIGN.md,
//! principles 4 and 6), the drawing shows each server's keys, hints and the
//! value it holds for every key, and a server that does not store a key
//! redirects its client to one that does (`coordinator replica`, as
//! Dynamo's nodes forward requests for keys they do not hold, §4.5).

mod quorum_common;

use clusterscope_core::lab::{registry, Lab};
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{Reply, TraceEvent, SEC};
use quorum_common::*;

#[test]
fn bad_parameters_are_explained() {
    quorum();
    let error = |text: &str| Scenario::parse(text).expect_err("refused").to_string();
    assert!(error("lab quorum\nreplicas 3\nr 4\n").contains("R = 4 must not be larger than N = 3"));
    assert!(error("lab quorum\nreplicas 3\nw 5\n").contains("W = 5 must not be larger than N = 3"));
    assert!(error("lab quorum\nnodes 2\nreplicas 3\n").contains("must not be more than the servers (2)"));
    assert!(error("lab quorum\nread_repair sometimes\n").contains("one of off, async, blocking"));
    assert!(error("lab quorum\ncas_share 10%\n").contains("cas_share"), "no compare-and-set here");
    // The smallest cluster runs.
    let mut lab = replay("# one\nlab quorum\nnodes 1\nreplicas 1\nkeys 1\nuntil 1s\n");
    assert!(metric(&mut lab, "committed") > 0.0);
}

#[test]
fn live_actions_are_recorded_and_replay() {
    quorum();
    let scn = Scenario::parse("lab quorum\nseed 3\nsloppy on\nanti_entropy 200ms\n").expect("parses");
    let mut lab = Lab::new(&scn).expect("builds");
    let act = |lab: &mut Lab, text: &str| lab.act(registry::parse_action(scn.lab, text).expect("parses"));
    lab.run_until(SEC);
    act(&mut lab, "crash S2").expect("crashes");
    act(&mut lab, "partition S1,S3 | S4,S5").expect("splits");
    lab.run_until(2 * SEC);
    act(&mut lab, "heal").expect("heals");
    act(&mut lab, "restart S2").expect("restarts");
    act(&mut lab, "request S4").expect("a client command to S4");
    act(&mut lab, "timeout S1").expect("an anti-entropy round now");
    lab.run_until(3 * SEC);
    let recorded = lab.scenario();
    assert_eq!(recorded.actions.len(), 6, "{}", recorded.to_text());
    assert_eq!(Lab::replay(&recorded).expect("replays").fingerprint(), lab.fingerprint());
}

#[test]
fn frames_show_keys_hints_and_values() {
    let mut lab = replay(
        include_str!("../../../tests/scenarios/quorum/hinted-handoff.scn").replace("until 8s", "until 3s").as_str(),
    );
    let schema = lab.schema();
    let frame = lab.frame(true);
    assert_eq!(frame.nodes.len(), 5);
    let field = |name: &str| schema.fields.iter().position(|f| f.name == name).expect("a field");
    let sim = cluster(&lab).sim();
    let mut hinting = 0;
    for n in &frame.nodes {
        let state = &sim.nodes()[n.id as usize].state;
        assert_eq!(n.field(field("keys")), Some(state.store().len() as i64));
        assert_eq!(n.field(field("hints")), Some(state.hints().len() as i64));
        let role = schema.roles[usize::from(n.role)].name.as_str();
        assert_eq!(role == "holding hints", !state.hints().is_empty(), "S{}", n.id + 1);
        hinting += usize::from(!state.hints().is_empty());
        // The strip: the value held for each of the 4 keys (0: none).
        assert_eq!(n.strip.len(), 4);
        for (k, v) in n.strip.iter().enumerate() {
            assert_eq!(i64::from(*v), state.holds(k as u32).value().unwrap_or(0), "S{} key {k}", n.id + 1);
        }
    }
    assert!(hinting > 0, "at 3 s, with S2 down, some server keeps hints for it");
    assert!(frame.metric(&schema, "hints").is_some_and(|h| h > 0.0));
}

#[test]
fn a_server_that_does_not_store_the_key_redirects_to_one_that_does() {
    let lab = replay(
        "# redirect\nlab quorum\nseed 2\nnodes 5\nreplicas 1\nkeys 4\ncoordinator replica\nrequest_rate 50\nuntil 2s\n",
    );
    let sim = cluster(&lab).sim();
    let cfg = sim.protocol_config();
    let mut redirects = 0;
    for ev in sim.trace().window() {
        if let TraceEvent::Replied { node, reply, .. } = ev {
            match reply {
                Reply::NotLeader(Some(to)) => {
                    redirects += 1;
                    assert!(cfg.prefs.iter().any(|p| p[0] == *to), "redirected to a first replica");
                }
                Reply::Answer(a) => assert!(cfg.is_home(a.key, *node), "S{} answered for key {}", node + 1, a.key),
                other => panic!("{other:?}"),
            }
        }
    }
    assert!(redirects > 0);
}
