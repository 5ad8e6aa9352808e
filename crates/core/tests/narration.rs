//! Live narration: the page says in one plain sentence what just happened,
//! from the lab's notes and the shared faults. These runs check the
//! sentences a newcomer reads against what the protocol did.

use clusterscope_core::lab::Lab;
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{MS, SEC};

fn lab(text: &str) -> Lab {
    Lab::new(&Scenario::parse(text).expect("parses")).expect("builds")
}

fn said(lab: &mut Lab) -> String {
    lab.frame(true).narration.map(|(_, s)| s).unwrap_or_default()
}

// Raft §5.2: a candidate becomes leader once a majority of the cluster
// voted for it, so the sentence names the winner, its term and a majority
// (3 of 5: it becomes leader on the third vote and asks for no more).
#[test]
fn the_first_election_is_told_with_its_votes() {
    let mut lab = lab("lab raft\nseed 1\nrequest_rate 0\nuntil 2s\n");
    assert_eq!(said(&mut lab), "", "nothing said before anything happened");
    let mut elected = None;
    while lab.now() < 2 * SEC && elected.is_none() {
        lab.run_until(lab.now() + MS);
        let s = said(&mut lab);
        if s.contains("won the election") {
            elected = Some(s);
        }
    }
    let s = elected.expect("an election won within 2 s");
    assert!(s.ends_with("won the election for term 1 with 3 of 5 votes"), "{s}");
    let frame = lab.frame(true);
    let leader = frame.nodes.iter().find(|n| lab.schema().role_name(n.role) == "leader").expect("a leader drawn");
    assert!(s.starts_with(&format!("S{} ", leader.id + 1)), "names the node drawn as leader: {s}");
}

// The leader's crash is said as such (Raft §5.2: the others wait for their
// election timers), a follower's crash plainly, a split with its groups.
#[test]
fn faults_are_told_in_words() {
    let mut lab = lab("lab raft\nseed 1\nrequest_rate 0\nat 1s crash S3\nat 1.2s crash S1\nat 1.4s partition S1,S2 | S3,S4,S5\nuntil 2s\n");
    lab.run_until(SEC - MS);
    let leader = lab.frame(true).metrics[0];
    assert_eq!(leader, 3.0, "seed 1 elects S3 (this test's premise)");
    lab.run_until(SEC);
    assert_eq!(
        said(&mut lab),
        "S3, the leader, crashed: the others hear no heartbeats and wait for their election timers"
    );
    lab.run_until(1200 * MS);
    assert_eq!(said(&mut lab), "S1 crashed: it stops answering and its timers stop");
    lab.run_until(1400 * MS);
    assert_eq!(said(&mut lab), "The network split into groups that cannot reach each other: S1, S2 | S3, S4, S5");
}

// The sentence is part of the run: a replay to the same time says the same.
#[test]
fn a_replay_says_the_same() {
    let text = "lab raft\nseed 4\nloss 5%\nat 700ms crash S2\nuntil 3s\n";
    let mut live = lab(text);
    let mut frames = Vec::new();
    for k in 1..=30 {
        live.run_until(k * 100 * MS);
        frames.push(said(&mut live));
    }
    let mut again = lab(text);
    for (k, s) in frames.iter().enumerate() {
        again.run_until((k as u64 + 1) * 100 * MS);
        assert_eq!(&said(&mut again), s, "at {} ms", (k + 1) * 100);
    }
    assert!(frames.iter().any(|s| s.contains("won the election")));
}

// "Paxos Made Simple" §2.3: a value is chosen when a majority of acceptors
// accept it, which no learner knows until told. In the dueling proposers'
// livelock the narration must say exactly that, and tell the lost rounds.
#[test]
fn a_paxos_livelock_is_told_as_chosen_but_unknown() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/scenarios/paxos/dueling-livelock.scn"
    ))
    .expect("the preset");
    let scn = Scenario::parse(&text).expect("parses");
    let mut lab = Lab::new(&scn).expect("builds");
    let mut seen = Vec::new();
    while lab.now() < scn.until {
        lab.run_until(lab.now() + MS);
        let s = said(&mut lab);
        if seen.last() != Some(&s) {
            seen.push(s);
        }
    }
    let chosen: Vec<&String> = seen.iter().filter(|s| s.starts_with("Slot 0 chosen")).collect();
    assert!(!chosen.is_empty(), "{seen:?}");
    assert!(chosen.iter().all(|s| s.ends_with("; no learner knows it yet")), "{chosen:?}");
    assert!(seen.iter().any(|s| s.contains("gave up ballot")), "lost rounds are told");
}
