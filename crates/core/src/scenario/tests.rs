//! Scenario text format and link codec: round trips and bad input.

use super::*;
use proptest::prelude::*;

fn node() -> impl Strategy<Value = NodeId> {
    0u32..5
}

fn raft_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        node().prop_map(Action::Crash),
        node().prop_map(Action::Restart),
        node().prop_map(Action::Pause),
        node().prop_map(Action::Resume),
        node().prop_map(|n| Action::Lab(format!("timeout S{}", n + 1))),
        node().prop_map(|n| Action::Lab(format!("request S{}", n + 1))),
        Just(Action::Heal),
        Just(Action::Partition(vec![vec![0, 1], vec![2, 3, 4]])),
        (node(), node()).prop_filter("distinct", |(a, b)| a != b).prop_map(|(a, b)| Action::Block(a, b)),
        (0i64..=1_000_000).prop_map(|v| Action::Set("loss".into(), v)),
        (0i64..=10_000_000).prop_map(|v| Action::Set("latency_max".into(), v)),
        (0i64..=1).prop_map(|v| Action::Set("reorder".into(), v)),
    ]
}

prop_compose! {
    fn raft_scenario()(
        seed in any::<u64>(),
        loss in 0i64..=1_000_000,
        timeouts in (1_000i64..1_000_000, 0i64..1_000_000),
        mut times in proptest::collection::vec(0u64..100_000_000, 0..20),
        actions in proptest::collection::vec(raft_action(), 20),
        until in 0u64..1_000_000_000,
        title in "[a-zA-Z0-9 ,.()-]{0,40}",
        mut caption_times in proptest::collection::vec(0u64..100_000_000, 0..6),
        captions in proptest::collection::vec("[a-zA-Z0-9 ,.'#\"\\\\-]{0,30}[a-z]", 6),
        speed in proptest::option::of(prop_oneof![Just(0.0), 0.001f64..1_000.0]),
    ) -> Scenario {
        times.sort();
        caption_times.sort();
        let mut s = Scenario::new(crate::raft::lab::kind(), seed);
        s.set("loss", loss).unwrap();
        s.set("election_timeout_min", timeouts.0).unwrap();
        s.set("election_timeout_max", timeouts.0 + timeouts.1).unwrap();
        s.actions = times.iter().zip(actions).map(|(&at, action)| Timed { at, action }).collect();
        s.until = until;
        s.title = title.trim().to_string();
        s.captions = caption_times.iter().zip(captions).map(|(&at, text)| Caption { at, text }).collect();
        s.speed = speed;
        s
    }
}

proptest! {
    // DESIGN.md principle 4: the text format is the scenario; writing then
    // reading gives back the same scenario.
    #[test]
    fn text_round_trips(s in raft_scenario()) {
        let text = s.to_text();
        prop_assert_eq!(Scenario::parse(&text).unwrap(), s);
    }

    // A share link reopens exactly what was shared.
    #[test]
    fn link_round_trips(s in raft_scenario()) {
        let link = link::encode(&s).unwrap();
        prop_assert!(link.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "not URL-safe: {}", link);
        prop_assert_eq!(link::decode(&link).unwrap(), s);
    }

    // Bad input is normal input: a truncated link is an error, not a panic.
    #[test]
    fn truncated_links_are_errors(s in raft_scenario(), cut in 0usize..10_000) {
        let link = link::encode(&s).unwrap();
        let cut = cut % link.len();
        if let Ok(back) = link::decode(&link[..cut]) {
            // A cut that still decodes must at least be a valid scenario.
            prop_assert!(back.validate().is_ok());
        }
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        let _ = Scenario::parse(&text);
        let _ = link::decode(&text);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Scenario::parse(&String::from_utf8_lossy(&bytes));
        let body = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &bytes);
        let _ = link::decode(&format!("v1.{body}"));
    }

    #[test]
    fn random_statement_lines_never_panic(line in "(at [0-9.]{1,25}(s|ms|us) )?(crash|partition|set|block|expect|nodes|seed|until|say|speed) [ -~]{0,40}") {
        let _ = Scenario::parse(&format!("lab raft\n{line}\n"));
    }
}

#[test]
fn reads_the_documented_example() {
    let s = Scenario::parse(
        "# A leader crashes; the others elect a new one.\nlab raft\nseed 42\nnodes 5\nloss 1%\nat 1s crash S1\n\
         at 1.5s partition S2,S3 | S4,S5\nat 3s heal\nat 3s set loss 0%\nuntil 5s\nexpect elections >= 2\n",
    )
    .unwrap();
    assert_eq!(s.title, "A leader crashes; the others elect a new one.");
    assert_eq!(s.seed, 42);
    assert_eq!(s.get("loss"), 10_000);
    assert_eq!(s.actions[0], Timed { at: 1_000_000, action: Action::Crash(0) });
    assert_eq!(s.actions[1].action, Action::Partition(vec![vec![1, 2], vec![3, 4]]));
    assert_eq!(s.until, 5_000_000);
    assert_eq!(s.expects[0].cmp, Cmp::Ge);
}

fn err(text: &str) -> String {
    Scenario::parse(text).unwrap_err().to_string()
}

#[test]
fn malformed_files_say_what_is_wrong() {
    assert!(err("").contains("empty"));
    assert!(err("seed 3\n").contains("line 1: a scenario must start with 'lab NAME' (lab raft, lab paxos, lab ring"));
    assert!(err("lab paxos-ish\n").contains("unknown lab"));
    assert!(err("lab raft\nnodez 3\n").contains("line 2: 'nodez' is neither"));
    assert!(err("lab raft\nnodes 300\n").contains("between 1 and 101"));
    assert!(err("lab raft\nseed 99999999999999999999999\n").contains("seed must be a whole number"));
    assert!(err("lab raft\nat 1s crash S9\n").contains("there is no server S9"));
    assert!(err("lab raft\nat 2s heal\nat 1s heal\n").contains("time order"));
    assert!(err("lab raft\nat 1x crash S1\n").contains("is not a time"));
    assert!(err("lab raft\nat 1s explode S1\n").contains("unknown action 'explode'"));
    assert!(err("lab raft\nat 1s partition S1\n").contains("at least two groups"));
    assert!(err("lab raft\nat 1s partition S1 | S1\n").contains("in two groups"));
    assert!(err("lab raft\nat 1s set nodes 3\n").contains("only be set at the start"));
    assert!(err("lab raft\nelection_timeout_min 500ms\nelection_timeout_max 200ms\n").contains("must not be larger"));
    assert!(err("lab raft\nuntil 99999999999s\n").contains("too far"));
    assert!(err("lab raft\nat 1s weight S1 3\n").contains("not an action of the raft lab"));
    assert!(err("lab raft\nat 1s add\n").contains("needs a server"));
    assert!(err("lab raft\nat 1s add S9\n").contains("max_servers"));
    assert!(err("lab raft\nexpect leader\n").contains("expect METRIC OP VALUE"));
}

#[test]
fn broken_links_say_what_is_wrong() {
    let good = link::encode(&Scenario::new(crate::raft::lab::kind(), 5)).unwrap();
    assert!(matches!(link::decode(""), Err(ScenarioError::Link(_))));
    assert!(matches!(link::decode("hello"), Err(ScenarioError::Link(_))));
    assert!(matches!(link::decode(&good.replacen("v1", "v7", 1)), Err(ScenarioError::Version(v)) if v == "v7"));
    assert!(link::decode("v1.@@@").unwrap_err().to_string().contains("characters"));
    let cut = &good[..good.len() - 4];
    assert!(link::decode(cut).unwrap_err().to_string().contains("cut short"), "{:?}", link::decode(cut));
    assert_eq!(link::decode(&format!("#{good}")).unwrap().seed, 5);
    // Huge numbers inside an otherwise valid link.
    let huge = Scenario::parse("lab raft\n").map(|_| ()).and_then(|_| {
        let text = "lab raft\nseed 18446744073709551616\n";
        let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
        link::decode(&format!(
            "v1.{}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, packed)
        ))
    });
    assert!(huge.unwrap_err().to_string().contains("seed must be"));
}

#[test]
fn a_decompression_bomb_is_refused() {
    let text = format!("lab raft\n{}", "# padding\n".repeat(200_000));
    let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    let link = format!("v1.{}", base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, packed));
    assert!(link.len() < 10_000);
    assert!(matches!(link::decode(&link), Err(ScenarioError::TooLarge(_))), "{:?}", link::decode(&link));
    assert!(link::decode(&link).unwrap_err().to_string().contains("too large"));
}

// Issue 8: a scenario that stays within the action limit always writes out
// a text and a link that load again; one that would not is refused when the
// action is recorded, with a sentence, rather than producing a dead link.
#[test]
fn long_recorded_runs_write_links_that_load_again() {
    let mut s = Scenario::new(crate::raft::lab::kind(), 3);
    for i in 0..15_000u64 {
        let action = if i % 2 == 0 { Action::Partition(vec![vec![0, 1], vec![2, 3, 4]]) } else { Action::Heal };
        s.actions.push(Timed { at: i * 1_000, action });
    }
    s.validate().expect("15,000 partition/heal actions are within the limits");
    let back = link::decode(&link::encode(&s).expect("encodes")).expect("decodes");
    assert_eq!(back, s);
    // 20,000 five-group partitions of 101 servers cannot fit: refused.
    let mut big = Scenario::new(crate::raft::lab::kind(), 3);
    big.set("nodes", 101).unwrap();
    let groups: Vec<Vec<u32>> = (0..5).map(|g| (g * 20..g * 20 + 20).collect()).collect();
    big.actions = (0..20_000u64).map(|i| Timed { at: i, action: Action::Partition(groups.clone()) }).collect();
    let e = big.validate().unwrap_err();
    assert!(matches!(e, ScenarioError::TooLarge(_)) && e.to_string().contains("bytes"), "{e}");
}

#[test]
fn cut_and_oversized_links_say_so() {
    let s = Scenario::parse("lab raft\nseed 4\nat 1s crash S1\nat 2s restart S1\nuntil 3s\n").unwrap();
    let good = link::encode(&s).unwrap();
    for cut in 4..good.len() - 1 {
        match link::decode(&good[..cut]) {
            Err(e @ ScenarioError::Truncated(_)) => assert!(e.to_string().contains("cut short"), "{e}"),
            Err(e) => panic!("a link cut at {cut} should say it is cut short, not: {e}"),
            Ok(_) => {}
        }
    }
}

#[test]
fn a_parameter_given_twice_names_both_lines() {
    assert!(err("lab raft\nseed 1\nnodes 3\nseed 2\n").contains("line 4: 'seed' is given twice (first on line 2)"));
    assert!(err("lab raft\nnodes 3\nnodes 5\n").contains("line 3: 'nodes' is given twice (first on line 2)"));
    assert!(err("lab raft\nuntil 1s\nuntil 2s\n").contains("'until' is given twice"));
}

#[test]
fn byte_order_marks_and_crlf_are_accepted_and_control_characters_named() {
    let s = Scenario::parse("\u{feff}lab raft\r\nseed 5\r\nat 1s crash S2\r\n").unwrap();
    assert_eq!((s.seed, s.actions.len()), (5, 1));
    let e = err("lab raft\0\n");
    assert!(e.contains("line 1") && e.contains("U+0000"), "{e}");
    let e = err("lab raft\nseed\u{7} 5\n");
    assert!(e.contains("line 2") && e.contains("U+0007"), "{e}");
}

// Issue 12: a sweep set up over a scenario travels with it in files and
// links, so a colleague opens the same sweep.
#[test]
fn a_sweep_travels_with_its_scenario() {
    let text = "lab raft\nseed 3\nuntil 2s\ntune param election_timeout_max=200ms..400ms:100ms\ntune param nodes=3,5\ntune seeds 24\ntune metric leaderless\ntune metric elections\ntune minimise leaderless\ntune subject-to elections <= 3\n";
    let s = Scenario::parse(text).unwrap();
    let t = s.tune.clone().unwrap();
    assert_eq!((t.params.len(), t.seeds, t.metrics.len()), (2, 24, 2));
    assert_eq!(t.goal, Some((true, "leaderless".to_string())));
    assert_eq!(Scenario::parse(&s.to_text()).unwrap(), s);
    assert_eq!(link::decode(&link::encode(&s).unwrap()).unwrap(), s);
    // Found by fuzzing: a sweep without a 'tune seeds' line writes none.
    let no_seeds = Scenario::parse("lab raft\ntune param nodes=3,5\n").unwrap();
    assert_eq!(Scenario::parse(&no_seeds.to_text()).unwrap(), no_seeds);
    assert!(err("lab raft\ntune param nodez=3\n").contains("line 2: unknown parameter 'nodez'"));
    assert!(err("lab raft\ntune seeds 0\n").contains("tune seeds takes"));
    assert!(err("lab raft\ntune explode now\n").contains("write tune param"));
}

#[test]
fn titles_survive_the_round_trip() {
    let mut s = Scenario::new(crate::raft::lab::kind(), 1);
    for title in ["#a#  b", "  indented", "two\n\nparagraphs", "a # b"] {
        s.title = title.to_string();
        assert_eq!(Scenario::parse(&s.to_text()).unwrap().title, title, "{:?}", s.to_text());
    }
}

// Issue 18: a caption is a line of the story, written `at T say "..."`,
// with quotes and backslashes escaped and a '#' inside the quotes kept; it
// survives files and links, and stays apart from the actions.
#[test]
fn captions_read_write_and_link() {
    let text = "lab raft\nseed 3\nspeed 0.25\nat 2s crash S1\n\
                at 2s say \"The leader crashes. Watch the followers' timers.\"  # a comment\n\
                at 3s say \"S2 says \\\"vote for me\\\" # in term 2; a \\\\ stays\"\nuntil 4s\n";
    let s = Scenario::parse(text).unwrap();
    assert_eq!(s.actions.len(), 1, "a caption is not an action");
    assert_eq!(s.speed, Some(0.25));
    assert_eq!(
        s.captions,
        vec![
            Caption { at: 2_000_000, text: "The leader crashes. Watch the followers' timers.".into() },
            Caption { at: 3_000_000, text: "S2 says \"vote for me\" # in term 2; a \\ stays".into() },
        ]
    );
    let written = s.to_text();
    assert!(written.contains("speed 0.25\n"), "{written}");
    assert!(
        written.contains("at 2s crash S1\nat 2s say \"The leader crashes."),
        "actions first at one time: {written}"
    );
    assert_eq!(Scenario::parse(&written).unwrap(), s);
    assert_eq!(link::decode(&link::encode(&s).unwrap()).unwrap(), s);
    assert_eq!(Scenario::parse("lab raft\nspeed max\n").unwrap().speed, Some(0.0));
    assert_eq!(Scenario::parse("lab raft\nspeed 10x\n").unwrap().speed, Some(10.0));
}

// Issue 18: a malformed `say` or `speed` line is refused with its line
// number and what to write instead.
#[test]
fn malformed_captions_say_what_is_wrong() {
    let e = err("lab raft\nat 1s say The leader crashes\n");
    assert!(e.contains("line 2: 'say' takes its words in double quotes"), "{e}");
    let e = err("lab raft\nseed 1\nat 1s say \"no end\n");
    assert!(e.contains("line 3: the caption has no closing double quote"), "{e}");
    assert!(err("lab raft\nat 1s say \"a\" b\n").contains("line 2: unexpected 'b' after the caption's closing quote"));
    assert!(err("lab raft\nat 1s say \"a \\n b\"\n").contains("line 2: '\\n' in a caption"));
    assert!(err("lab raft\nat 1s say \"  \"\n").contains("line 2: the caption is empty"));
    assert!(err("lab raft\nat 1s say\n").contains("line 2: 'say' takes its words"));
    let long = format!("lab raft\nat 1s say \"{}\"\n", "a".repeat(MAX_CAPTION_CHARS + 1));
    assert!(err(&long).contains("line 2: the caption has 241 characters; at most 240"), "{}", err(&long));
    let ok = format!("lab raft\nat 1s say \"{}\"\n", "é".repeat(MAX_CAPTION_CHARS));
    assert!(Scenario::parse(&ok).is_ok(), "the cap counts characters, not bytes");
    assert!(err("lab raft\nat 2s say \"b\"\nat 1s say \"a\"\n").contains("line 3: captions must be in time order"));
    assert!(err("lab raft\nat 1x say \"a\"\n").contains("line 2: '1x' is not a time"));
    assert!(err("lab raft\nspeed fast\n").contains("line 2: 'fast' is not a speed"));
    assert!(err("lab raft\nspeed 0.0001\n").contains("line 2: speed 0.0001 is out of range"));
    assert!(err("lab raft\nspeed -1\n").contains("line 2: speed -1 is out of range"));
    assert!(err("lab raft\nspeed 1\nspeed 2\n").contains("line 3: 'speed' is given twice"));
}

// `expect violation "NAME"` names the checker a deliberate bug must trip:
// it parses, writes itself back the same, and malformed forms get a
// sentence that shows the right one.
#[test]
fn an_expected_violation_names_its_checker() {
    let text = "# t\nlab raft\nseed 1\nuntil 1s\nexpect violation \"Election Safety\"\nexpect elections >= 1\n";
    let s = Scenario::parse(text).expect("parses");
    assert_eq!(s.expects[0].violation.as_deref(), Some("Election Safety"));
    assert_eq!(s.expects[1].violation, None);
    let again = Scenario::parse(&s.to_text()).expect("parses back");
    assert_eq!(again, s);
    assert!(s.to_text().contains("expect violation \"Election Safety\"\n"));
    for bad in
        ["expect violation", "expect violation Election Safety", "expect violation \"\"", "expect violation \"a\"b\""]
    {
        let err = Scenario::parse(&format!("lab raft\n{bad}\n")).expect_err(bad).to_string();
        assert!(err.contains("expect violation \"NAME\"") && err.contains("line 2"), "{bad}: {err}");
    }
}

// An `expect` line compares with another metric whose name holds digits
// (`p99_all`), as the balance files do to say the tail fell.
#[test]
fn an_expect_compares_with_a_metric_named_with_digits() {
    let e = parse_expect("p99 < p99_all").expect("parses");
    assert_eq!(e.other.as_deref(), Some("p99_all"));
    assert_eq!(parse_expect("p99 < 70ms").expect("parses").other, None);
    assert!(parse_expect("p99 < 9x").is_err());
}

// The page starts a lab's engine (its own Web Worker) from the `lab` line
// alone, before any engine has read the file; that line is the first
// statement of every scenario (the parser refuses anything before it), so
// reading it must agree with the full parser on every preset and link.
#[test]
fn the_lab_line_is_read_without_the_parser() {
    for def in crate::lab::registry::all() {
        for (title, text) in def.presets {
            assert_eq!(lab_named(text), Some(def.name), "{title}");
            let scn = Scenario::parse(text).expect("a preset parses");
            assert_eq!(link::lab_of(&link::encode(&scn).expect("encodes")).as_deref(), Some(def.name), "{title}");
        }
    }
    assert_eq!(lab_named("\u{feff}# title\n\n  lab paxos   # the lab\r\nseed 1\n"), Some("paxos"));
    assert_eq!(lab_named("seed 1\nlab paxos\n"), None, "not the first statement: the parser refuses it too");
    assert_eq!(lab_named("lab\n"), None);
    assert_eq!(lab_named(""), None);
    assert_eq!(link::lab_of("v1.not-a-link"), None);
    assert_eq!(link::lab_of(""), None);
}

// A scenario names its lab (docs/scenario-format.md: `lab NAME`, "which
// lab"): the same seed and lines for Paxos are not the Raft scenario, and a
// scenario read back from its text is still its own lab's.
#[test]
fn a_scenario_for_one_lab_is_not_taken_for_another_labs() {
    let raft = Scenario::parse("lab raft\nseed 1\nuntil 1s\n").expect("parses");
    let paxos = Scenario::parse("lab paxos\nseed 1\nuntil 1s\n").expect("parses");
    assert_ne!(raft.lab, paxos.lab);
    assert_ne!(raft, paxos, "only the lab differs, and that is a different scenario");
    assert_eq!(raft.lab, crate::raft::lab::kind());
    assert_eq!(Scenario::parse(&paxos.to_text()).expect("parses back"), paxos);
}

// docs/scenario-format.md: `expect METRIC OP VALUE` compares with `<`,
// `<=`, ...: `expect elections < N` fails when there were N elections, and
// `expect elections <= N` holds then.
/// A strict comparison `elections OP N` fails on a run with exactly N
/// elections, while `elections OR_EQUAL N` and `elections OP NEAR` (one
/// step beyond N) hold.
fn strict_expect_fails_at_equality(op: &str, or_equal: &str, near: f64) {
    let scn = Scenario::parse("lab raft\nseed 1\nuntil 3s\n").expect("parses");
    let mut lab = crate::lab::Lab::replay(&scn).expect("runs");
    let n = lab.metrics().into_iter().find(|(m, _)| m.name == "elections").map(|(_, v)| v).expect("a metric");
    let strict = parse_expect(&format!("elections {op} {n}")).expect("parses");
    let e = lab.check(&strict).expect_err("elections OP N with N elections");
    assert!(e.contains("failed"), "{op}: {e}");
    assert!(lab.check(&parse_expect(&format!("elections {or_equal} {n}")).expect("parses")).is_ok());
    assert!(lab.check(&parse_expect(&format!("elections {op} {}", n + near)).expect("parses")).is_ok());
}

#[test]
fn an_expect_less_than_fails_when_the_metric_equals_the_value() {
    strict_expect_fails_at_equality("<", "<=", 1.0);
}

// docs/scenario-format.md: "a scenario mentions at most 30 days of virtual
// time": 29 days, and 30 exactly, are fine; a microsecond more is refused
// with the limit.
#[test]
fn times_up_to_thirty_days_are_accepted_and_later_ones_refused() {
    let day: u64 = 24 * 3600;
    let s = Scenario::parse(&format!("lab raft\nat {}s crash S1\nuntil {}s\n", 29 * day, 30 * day)).expect("parses");
    assert_eq!((s.actions[0].at, s.until), (29 * day * 1_000_000, MAX_TIME));
    let e = err(&format!("lab raft\nuntil {}.000001s\n", 30 * day));
    assert!(e.contains("line 2") && e.contains("too far in the future (at most 30 days)"), "{e}");
    let e = err(&format!("lab raft\nat {}s crash S1\n", 31 * day));
    assert!(e.contains("line 2") && e.contains("too far in the future"), "{e}");
}

// A recorded scenario may fill its text to the last byte a link or file
// holds (MAX_TEXT; docs/scenario-format.md, "Links": a valid scenario's
// text is never over that cap, so every run a user records writes a link
// that loads): exactly MAX_TEXT bytes is valid and loads again, one byte
// more is refused with a sentence.
#[test]
fn a_recorded_scenario_of_exactly_max_text_bytes_is_valid_and_one_byte_more_is_not() {
    let mut s = Scenario::new(crate::raft::lab::kind(), 3);
    s.actions = (0..1_001u64).map(|i| Timed { at: i * 1_000, action: Action::Heal }).collect();
    // A title line is written "# TITLE\n".
    s.title = "t".repeat(MAX_TEXT - s.to_text().len() - 3);
    assert_eq!(s.to_text().len(), MAX_TEXT);
    s.validate().expect("a text of exactly MAX_TEXT bytes is within the cap");
    assert_eq!(Scenario::parse(&s.to_text()).expect("reads back"), s);
    assert_eq!(link::decode(&link::encode(&s).expect("encodes")).expect("decodes"), s);
    s.title.push('t');
    let e = s.validate().unwrap_err();
    assert!(matches!(e, ScenarioError::TooLarge(_)) && e.to_string().contains("1048577 bytes"), "{e}");
}

// docs/scenario-format.md: captions come "in time order"; two at the same
// instant are in order (a story may say two things of one moment), in a
// file and in a scenario the page builds; an earlier one after a later one
// is not.
#[test]
fn two_captions_at_the_same_instant_are_allowed() {
    let s = Scenario::parse("lab raft\nat 2s say \"The leader crashes.\"\nat 2s say \"Watch S2.\"\n").expect("parses");
    assert_eq!(s.captions.iter().map(|c| c.at).collect::<Vec<_>>(), [2_000_000, 2_000_000]);
    s.validate().expect("valid");
    assert_eq!(Scenario::parse(&s.to_text()).expect("reads back"), s);
    let mut swapped = s.clone();
    swapped.captions[0].at = 3_000_000;
    let e = swapped.validate().unwrap_err().to_string();
    assert!(e.contains("captions must be in time order: 2s comes after 3s"), "{e}");
}

// A file may be as long as the MAX_TEXT bytes a link or file holds
// (docs/scenario-format.md, "Links"), comments included: a file of exactly
// that many bytes is read, one byte more is refused with its size.
#[test]
fn a_file_of_exactly_max_text_bytes_is_read_and_one_byte_more_is_refused() {
    let head = "lab raft\nseed 2\n";
    // A comment line is written "# WORDS\n".
    let mut text = format!("{head}# {}\n", "p".repeat(MAX_TEXT - head.len() - 3));
    assert_eq!(text.len(), MAX_TEXT);
    assert_eq!(Scenario::parse(&text).expect("a file of exactly MAX_TEXT bytes is read").seed, 2);
    text.push('\n');
    let e = err(&text);
    assert!(e.contains("the scenario is too long (1048577 bytes; at most 1048576)"), "{e}");
}

// docs/scenario-format.md, "Sweeps": `NAME=LO..HI:STEP` is every value
// from LO to HI in steps of STEP, both ends included. A range that does
// not start at zero counts its points from LO (10..20:5 is three values,
// not one); a range whose ends are equal is that one value; a range that
// runs downwards is refused with a sentence that says so, not read as a
// count below zero.
#[test]
fn a_swept_range_runs_from_lo_to_hi_both_ends_included_and_never_downwards() {
    let scn = Scenario::parse("lab raft\n").expect("parses");
    let r = range::parse_range(&scn, "nodes=3..7:2").expect("an upward range");
    assert_eq!((r.values.as_slice(), r.texts.as_slice()), (&[3, 5, 7][..], &["3", "5", "7"].map(String::from)[..]));
    let r = range::parse_range(&scn, "election_timeout_max=200ms..400ms:100ms").expect("a range of times");
    assert_eq!(r.values, [200_000, 300_000, 400_000]);
    let r = range::parse_range(&scn, "nodes=5..5:1").expect("a range of one value");
    assert_eq!(r.values, [5]);
    // The step is a difference, not a value of the parameter: it may be
    // below the parameter's own minimum (1 ms for an election timeout).
    let r = range::parse_range(&scn, "election_timeout_max=200ms..201ms:0.5ms").expect("a step under 1 ms");
    assert_eq!(r.values, [200_000, 200_500, 201_000]);
    for downward in ["nodes=7..3:1", "nodes=7..3:2"] {
        let e = range::parse_range(&scn, downward).unwrap_err().to_string();
        assert!(e.contains("the range must run upwards with a positive step"), "{downward}: {e}");
    }
}

// docs/cli.md, "Search": a sweep's goal is `tune minimise NAME` or `tune
// maximise NAME`, one metric's (or swept parameter's) name, as `tune metric
// NAME` takes it. Anything else is refused with the forms a `tune` line
// takes, not carried in files and links to a sweep that cannot read it.
#[test]
fn a_sweeps_goal_is_one_name() {
    let s = Scenario::parse("lab raft\ntune maximise p99_all\n").expect("parses");
    assert_eq!(s.tune.expect("a sweep").goal, Some((false, "p99_all".to_string())));
    for bad in ["tune minimise", "tune minimise two words", "tune maximise Leaderless", "tune minimise elections <= 3"]
    {
        let e = err(&format!("lab raft\n{bad}\n"));
        assert!(e.contains("line 2: 'tune") && e.contains("tune minimise|maximise NAME"), "{bad}: {e}");
    }
}

// docs/scenario-format.md, "Stories": a caption's words go in double
// quotes "on one line". A caption the page builds (not read from a file)
// holding a line break or another control character cannot be written as
// a `say` line that reads back, so `validate` refuses it, as the parser
// refuses the character in a file; a tab is an ordinary character there.
#[test]
fn a_caption_with_a_line_break_or_control_character_is_refused_and_a_tab_kept() {
    let mut s = Scenario::new(crate::raft::lab::kind(), 1);
    s.captions = vec![Caption { at: 1_000_000, text: "a\ttab".into() }];
    s.validate().expect("a tab is kept");
    assert_eq!(Scenario::parse(&s.to_text()).expect("reads back"), s);
    for text in ["two\nlines", "a\rb", "bell\u{7}"] {
        s.captions = vec![Caption { at: 1_000_000, text: text.into() }];
        let e = s.validate().expect_err(text).to_string();
        assert!(e.contains("the caption at 1s cannot be written"), "{text:?}: {e}");
    }
}

// A link's version is `v` and a number (`v1`; the module docs of
// `scenario/link.rs`: the prefix lets a later ClusterScope say clearly
// that it cannot read a link). A link that starts `v2.` was made by
// another version; one that starts with a bare `v.` is damaged, not from
// a version called "v".
#[test]
fn a_bare_v_is_not_a_links_version() {
    assert!(matches!(link::decode("v2.abcd"), Err(ScenarioError::Version(v)) if v == "v2"));
    let e = link::decode("v.abcd").unwrap_err();
    assert!(matches!(e, ScenarioError::Link(_)) && e.to_string().contains("a version such as 'v1.'"), "{e}");
}

// A swept range gives at most MAX_POINTS values (`scenario/range.rs`:
// "Most points in a sweep"): 10,000 values are read, 10,001 are refused
// with their count when the line is read, not left for the sweep to
// refuse (nor a hand-edited link to fill memory with).
#[test]
fn a_swept_range_holds_at_most_max_points_values() {
    let scn = Scenario::parse("lab raft\n").expect("parses");
    let r = range::parse_range(&scn, "latency_max=0..9999ms:1ms").expect("10,000 values");
    assert_eq!((r.values.len(), r.values.last()), (range::MAX_POINTS, Some(&9_999_000)));
    let e = range::parse_range(&scn, "latency_max=0..10s:1ms").unwrap_err().to_string();
    assert!(e.contains("has 10001 values; at most 10000"), "{e}");
    assert!(err("lab raft\ntune param latency_max=0..10s:1ms\n")
        .contains("line 2: 'latency_max=0..10s:1ms' has 10001 values"));
}

// docs/scenario-format.md, "Actions": "A verb a lab does not know is
// refused with the list of those it does", the shared fault verbs the lab
// accepts first, then its own (`LabKind::verbs`).
#[test]
fn an_unknown_or_foreign_verb_is_refused_with_the_labs_verbs() {
    let raft = "crash, restart, pause, resume, partition, block, heal, set, timeout, request, add, remove";
    let e = err("lab raft\nat 1s explode S1\n");
    assert!(e.contains(&format!("line 2: unknown action 'explode' (the raft lab knows: {raft})")), "{e}");
    let e = err("lab raft\nat 1s weight S1 3\n");
    assert!(e.contains(&format!("'weight' is not an action of the raft lab (its actions: {raft})")), "{e}");
    let e = err("lab ring\nat 1s pause S1\n");
    assert!(
        e.contains(
            "'pause' is not an action of the ring lab (its actions: crash, restart, set, add, remove, weight, vnodes)"
        ),
        "{e}"
    );
}

// A parameter the lab does not have is refused naming the ones it has,
// as a verb is (docs/scenario-format.md, "Actions"; every parameter's
// name is in its lab's table): on a line of its own, in `at T set`, and in
// a scenario the page builds.
#[test]
fn an_unknown_parameter_is_refused_with_the_labs_parameters() {
    let known = "unknown parameter 'nodez' for the raft lab (known: nodes, election_timeout_min, election_timeout_max, heartbeat,";
    for text in ["lab raft\nnodez 3\n", "lab raft\nat 1s set nodez 3\n"] {
        let e = err(text);
        assert!(e.contains("line 2: ") && e.contains(known), "{text}: {e}");
    }
    let mut s = Scenario::new(crate::raft::lab::kind(), 1);
    s.params.insert("nodez".into(), 3);
    let e = s.validate().unwrap_err().to_string();
    assert!(e.contains(known), "{e}");
}

// docs/scenario-format.md, "Timer jitter": `jitter` ranges from 0 to 10 s.
#[test]
fn timer_jitter_ranges_up_to_ten_seconds() {
    let s = Scenario::parse("lab raft\njitter 10s\n").expect("10 s of jitter");
    assert_eq!(crate::lab::cluster::sim_config(&s).timer_jitter_max, 10_000_000);
    let e = err("lab raft\njitter 10.001s\n");
    assert!(e.contains("line 2: jitter = 10.001s is out of range") && e.contains("and 10s"), "{e}");
}

// The network's delays (the shared table, `scenario/params.rs`): the
// fastest and the slowest one-way delay share one range, 0 to 10 s, and
// the only rule between them is min <= max (`lab::cluster::check_network`),
// so any delay the slowest may take, the fastest may take too: a fixed
// delay of 10 s is `latency_min 10s` with `latency_max 10s`.
#[test]
fn a_fixed_delay_may_be_as_long_as_the_slowest_delay_allows() {
    let s = Scenario::parse("lab raft\nlatency_min 10s\nlatency_max 10s\n").expect("a fixed delay of 10 s");
    let net = crate::lab::cluster::sim_config(&s).net;
    assert_eq!((net.latency_min, net.latency_max), (10_000_000, 10_000_000));
    assert!(err("lab raft\nlatency_min 10.001s\n").contains("latency_min = 10.001s is out of range"));
}

// A default is part of every scenario that leaves the parameter out: a
// scenario writes only what differs from the defaults, so its files and
// links hold no line for it, and replaying one must give the same run
// (docs/scenario-format.md; every default is in its lab's parameter
// table). A key-value workload set with `keys` alone is half reads and one
// compare-and-set in ten, the shared table's `read_share` and `cas_share`.
#[test]
fn a_key_value_workload_with_keys_alone_is_half_reads() {
    let s = Scenario::parse("lab raft\nkeys 4\n").expect("parses");
    assert!(!s.to_text().contains("_share"), "{}", s.to_text());
    let kv = crate::lab::cluster::sim_config(&s).client.kv.expect("a key-value workload");
    assert_eq!((kv.keys, kv.read_ppm, kv.cas_ppm), (4, 500_000, 100_000));
}

// What a failed `assert_eq!` between two scenarios prints (their `Debug`)
// names each one's lab, so two scenarios that differ only in their lab do
// not print alike and the failure says why they differ.
#[test]
fn a_scenario_printed_for_debugging_names_its_lab() {
    let raft = Scenario::new(crate::raft::lab::kind(), 1);
    let paxos = Scenario::new(crate::paxos::lab::kind(), 1);
    assert_eq!(format!("{:?}", raft.lab), "LabKind(raft)");
    assert_ne!(format!("{raft:?}"), format!("{paxos:?}"));
}

// docs/scenario-format.md, "Statements": "The comment lines at the top are
// the scenario's title". Blank lines before it are still the top; a blank
// line after it ends it, so a comment further down is a note to the
// reader, not part of the title the presets menu shows.
#[test]
fn the_title_is_the_comment_lines_at_the_top() {
    let s =
        Scenario::parse("\n\n# Leader crash\n# in two lines\n\n# a note to the reader\nlab raft\n").expect("parses");
    assert_eq!(s.title, "Leader crash\nin two lines");
}

// `validate` holds a scenario the page builds to the limits a file is
// read with (docs/scenario-format.md, "Stories"): at most MAX_CAPTIONS
// captions; as many is valid, one more is refused with the count.
#[test]
fn a_story_holds_at_most_max_captions() {
    let mut s = Scenario::new(crate::raft::lab::kind(), 1);
    s.captions = (0..MAX_CAPTIONS as u64).map(|i| Caption { at: i * 1_000, text: "Watch.".into() }).collect();
    s.validate().expect("MAX_CAPTIONS captions are valid");
    s.captions.push(Caption { at: MAX_CAPTIONS as u64 * 1_000, text: "One more.".into() });
    let e = s.validate().unwrap_err().to_string();
    assert!(e.contains("too many captions (1001); at most 1000"), "{e}");
}

// docs/scenario-format.md: `until TIME` is "the time the scenario is looked
// at: where a link opens and what the CLI runs to". A scenario with none
// (a run recorded on the page before any end was set) writes no `until`
// line, rather than one that names time 0; one with an end writes it.
#[test]
fn a_scenario_without_an_end_writes_no_until_line() {
    let mut s = Scenario::new(crate::raft::lab::kind(), 1);
    assert!(!s.to_text().contains("until"), "{}", s.to_text());
    s.until = 5_000_000;
    assert!(s.to_text().lines().any(|l| l == "until 5s"), "{}", s.to_text());
}

// `>` as the mirror of `<` (docs/scenario-format.md, "Statements", `expect`):
// `expect elections > N` fails when there were exactly N elections, while
// `>= N` and `> N - 1` hold.
#[test]
fn an_expect_greater_than_fails_when_the_metric_equals_the_value() {
    strict_expect_fails_at_equality(">", ">=", -1.0);
}

// An action prints as the words a scenario file writes for it after `at
// TIME` (docs/scenario-format.md, "Actions"): what a lab's log of actions
// shows (the test lab's, whose fingerprint is made of them).
#[test]
fn an_action_prints_as_the_words_a_file_writes() {
    assert_eq!(Action::Crash(0).to_string(), "crash S1");
    assert_eq!(Action::Partition(vec![vec![0, 1], vec![2]]).to_string(), "partition S1,S2 | S3");
    let actions = [Action::Crash(0), Action::Partition(vec![vec![0, 1], vec![2]]), Action::Block(0, 2), Action::Heal];
    let mut s = Scenario::new(crate::raft::lab::kind(), 1);
    s.actions =
        actions.iter().enumerate().map(|(i, a)| Timed { at: i as u64 * 1_000_000, action: a.clone() }).collect();
    let text = s.to_text();
    for a in &actions {
        assert!(text.lines().any(|l| l.starts_with("at ") && l.ends_with(&format!(" {a}"))), "{a}: {text}");
    }
}

// Servers are numbered from S1 (docs/scenario-format.md, "Actions":
// `crash S1`): `S0` or `0` names no server and is refused with the
// sentence that shows the numbering, never read as a wrapped-around id.
#[test]
fn a_server_is_numbered_from_one_and_s0_is_refused() {
    assert_eq!(parse_node("S1"), Ok(0));
    assert_eq!(parse_node("s3"), Ok(2));
    assert_eq!(parse_node("4"), Ok(3));
    for bad in ["S0", "s0", "0"] {
        let e = parse_node(bad).expect_err(bad);
        assert!(e.contains("is not a server: write S1, S2"), "{bad}: {e}");
    }
    assert!(err("lab raft\nat 1s crash S0\n").contains("line 2"));
}

// A checker's name is matched exactly against the run's violation report
// (docs/scenario-format.md, `expect violation "NAME"`): a name with a
// space inside its quotes at either end could never match, so it is
// refused with the sentence that shows the right form. (A control
// character never gets this far: a scenario holds none, on any line.)
#[test]
fn a_checker_name_with_spaces_at_its_ends_is_refused() {
    for bad in ["\" Election Safety\"", "\"Election Safety \""] {
        let e = err(&format!("lab raft\nexpect violation {bad}\n"));
        assert!(e.contains("line 2") && e.contains("a checker's name has no leading or trailing spaces"), "{bad}: {e}");
    }
    let e = err("lab raft\nexpect violation \"Election\u{7}Safety\"\n");
    assert!(e.contains("line 2") && e.contains("control character (U+0007)"), "{e}");
}

// `vnodes` takes a whole number from 1, or `auto` (its help in the Ring
// lab's table, and the message below): `0` is refused rather than read as
// `auto`, which is how the parameter stores "auto" inside.
#[test]
fn a_count_or_auto_parameter_refuses_zero_and_takes_auto() {
    let ring = |line: &str| Scenario::parse(&format!("lab ring\n{line}\n"));
    assert_eq!(ring("vnodes auto").expect("auto").get("vnodes"), 0);
    assert_eq!(ring("vnodes 7").expect("7").get("vnodes"), 7);
    let e = ring("vnodes 0").expect_err("0 is not a count").to_string();
    assert!(e.contains("'0' is not a valid value for vnodes: expected a whole number from 1, or auto"), "{e}");
}

// The longest extra delay of a delayed message is up to a minute (the
// network's table, shared by the cluster labs): `tail_max 60s` is taken,
// a millisecond more is refused with the range.
#[test]
fn a_tail_delay_may_be_up_to_a_minute() {
    let s = Scenario::parse("lab raft\ntail_max 60s\n").expect("a minute is in range");
    assert_eq!(s.get("tail_max"), 60_000_000);
    let e = err("lab raft\ntail_max 60.001s\n");
    assert!(e.contains("tail_max = 60.001s is out of range: it must be between 0 and 60s"), "{e}");
}

// `heal` takes no argument (docs/scenario-format.md, "Actions": `heal`
// ends every partition and cut link at once): `heal S1` is refused with
// what followed the verb, not read as a heal of everything.
#[test]
fn heal_takes_no_argument() {
    assert_eq!(Scenario::parse("lab raft\nat 1s heal\n").expect("heal").actions[0].action, Action::Heal);
    let e = err("lab raft\nat 1s heal S1\n");
    assert!(e.contains("line 2") && e.contains("unexpected 'S1' after 'heal'"), "{e}");
}

// An `expect` compares with a finite number: a value that overflows to
// infinity (`1e999`) or is not a number (`NaN`) would make a comparison
// that always or never holds, so it is refused with the forms an
// expectation takes.
#[test]
fn an_expect_value_must_be_a_finite_number() {
    for bad in ["1e999", "-1e999", "NaN", "Infinity"] {
        let e = err(&format!("lab raft\nexpect elections < {bad}\n"));
        assert!(e.contains(&format!("'{bad}' is not a number, a duration, a server or a metric")), "{bad}: {e}");
    }
    assert_eq!(parse_expect("elections < 1e3").expect("a finite number").value, 1000.0);
}

// A written scenario reads in time order (docs/scenario-format.md: a
// story is its lines from top to bottom): a caption at 1 s comes before
// the crash at 2 s, and one at 3 s after it.
#[test]
fn a_written_scenario_lists_captions_and_actions_in_time_order() {
    let text = "lab raft\nat 1s say \"Calm.\"\nat 2s crash S1\nat 3s say \"After.\"\n";
    let s = Scenario::parse(text).expect("parses");
    let written = s.to_text();
    assert!(written.contains("at 1s say \"Calm.\"\nat 2s crash S1\nat 3s say \"After.\"\n"), "{written}");
}

// `tune metric` and `tune minimise` take a metric's name (lower case,
// digits and `_`, as `expect` names one): anything else is refused with
// the forms a sweep's lines take.
#[test]
fn a_sweeps_metric_is_a_metrics_name() {
    for bad in ["tune metric p99!", "tune metric Leaderless", "tune minimise p 99"] {
        let e = err(&format!("lab raft\n{bad}\n"));
        assert!(e.contains("line 2") && e.contains("write tune param"), "{bad}: {e}");
    }
    let t = Scenario::parse("lab raft\ntune metric p99_all\n").expect("a metric's name").tune.expect("a sweep");
    assert_eq!(t.metrics, ["p99_all"]);
}
