//! The status a page shows agrees with what it draws: a leader left in a
//! minority is named as cut off (not as "none" beside a node drawn as a
//! leader), a Paxos livelock reads as values chosen that no one learned,
//! and a balancer is a hub with its own name, not one more server.

use clusterscope_core::lab::{Lab, NodeStatus, Unit};
use clusterscope_core::scenario::Scenario;

fn run(text: &str) -> Lab {
    let scn = Scenario::parse(text).expect("parses");
    Lab::replay(&scn).expect("runs")
}

fn metric(lab: &mut Lab, name: &str) -> (Unit, f64) {
    let (spec, v) = lab.metrics().into_iter().find(|(m, _)| m.name == name).expect("the lab has this metric");
    (spec.unit, v)
}

// Raft §5.2 and §6.2 (thesis): a leader needs a majority of its
// configuration to commit; without CheckQuorum it stays leader, cut off,
// while the other side campaigns. The drawing keeps showing it as a
// leader, so the status names it, and says it cannot reach a majority.
#[test]
fn a_leader_in_a_minority_is_named_as_cut_off() {
    let base = "lab raft\nseed 1\n";
    let mut lab = run(&format!("{base}until 2s\n"));
    let (unit, v) = metric(&mut lab, "leader");
    let leader = Unit::node_of(v).expect("a leader by 2 s");
    let name = format!("S{}", leader + 1);
    assert_eq!(unit.format(v), name);

    // The case: split 3 | 2 with the leader among the three, then
    // one of its two followers crashes: its side has 2 of 5 servers up,
    // the other side 2 of 5; no one can reach a majority.
    let others: Vec<String> = (1..=5).filter(|&k| k != leader + 1).map(|k| format!("S{k}")).collect();
    let (mine, theirs) = (format!("{name},{},{}", others[0], others[1]), others[2..].join(","));
    let text = format!("{base}at 2s partition {mine} | {theirs}\nat 2.1s crash {}\n", others[1]);
    let mut lab = run(&format!("{text}until 4s\n"));
    let (unit, v) = metric(&mut lab, "leader");
    let node = lab.frame(true).nodes.into_iter().find(|n| n.id == leader).expect("drawn");
    assert_eq!(node.status, NodeStatus::Up);
    assert_eq!(lab.schema().role_name(node.role), "leader", "still drawn as a leader");
    assert_eq!(unit.format(v), format!("{name}, cut off from a majority"));
    assert_eq!(Unit::node_of(v), None, "not a leader the API reports");

    // A leader left alone in a minority while the majority elects another:
    // the status names the majority's leader, the one that can commit.
    let split = format!("{base}at 2s partition {name},{} | {}\nuntil 4s\n", others[0], others[1..].join(","));
    let mut lab = run(&split);
    let (unit, v) = metric(&mut lab, "leader");
    let shown = Unit::node_of(v).expect("the majority's leader");
    assert!(shown != leader && shown + 1 != others[0][1..].parse::<u32>().unwrap(), "{}", unit.format(v));

    // Healed, it is plainly the leader again or another one is.
    let mut lab = run(&format!("{text}at 4s heal\nuntil 6s\n"));
    let (unit, v) = metric(&mut lab, "leader");
    assert!(unit.format(v).starts_with('S') && !unit.format(v).contains("cut off"), "{}", unit.format(v));
}

// "Paxos Made Simple" §2.3: a value is chosen once a majority of acceptors
// accept it, but a proposer learns it only from their answers. Dueling
// proposers without back-off can have a value chosen that no one learns:
// the status must say so rather than read as progress.
#[test]
fn a_paxos_livelock_reads_as_chosen_but_unlearned() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/scenarios/paxos/dueling-livelock.scn"
    ))
    .expect("the preset");
    let mut lab = run(&text);
    let chosen = metric(&mut lab, "decisions").1;
    let learned = metric(&mut lab, "learned").1;
    let unlearned = metric(&mut lab, "unlearned").1;
    assert_eq!(learned, 0.0, "the preset's livelock: nothing learned");
    assert_eq!(unlearned, chosen, "every chosen slot is counted as not learned");
    let spec = lab.schema().metrics.into_iter().find(|m| m.name == "first_decision").expect("metric");
    assert!(
        spec.label.contains("chose"),
        "the first-decision time says it is about acceptors choosing: {}",
        spec.label
    );
}

// A balancer is not a server: it is drawn as a hub named LB, and the
// servers keep the names S1..Sn that scenario lines use.
#[test]
fn the_balancer_is_a_hub_named_lb() {
    let mut lab = run("lab balance\nseed 1\nnodes 4\nuntil 1s\n");
    let schema = lab.schema();
    let nodes = lab.frame(true).nodes;
    let names = schema.node_names(&nodes);
    assert_eq!(names, ["S1", "S2", "S3", "S4", "LB"]);
    let mut lab = run("lab balance\nseed 1\nnodes 3\nbalancers 2\nuntil 1s\n");
    let nodes = lab.frame(true).nodes;
    assert_eq!(lab.schema().node_names(&nodes), ["S1", "S2", "S3", "LB1", "LB2"]);
}
