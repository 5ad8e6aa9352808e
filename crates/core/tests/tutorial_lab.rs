//! The lab that docs/adding-a-lab.md builds, step by step: the page shows
//! this file whole, in order, and the last test below checks that it does,
//! so the tutorial and the code cannot drift apart.
//!
//! The lab: gossip. One server knows a rumour; every round, each server up
//! that knows it tells `fanout` peers chosen at random; a crashed server
//! forgets it. How many rounds until everyone knows, and what does the
//! fanout change? (Push gossip: Demers et al., "Epidemic Algorithms for
//! Replicated Database Maintenance", 1987.)

use clusterscope_core::lab::{
    registry, Engine, FieldSpec, Frame, Lab, LabDef, MetricSpec, Model, NodeAction, NodeStatus, NodeView, RoleStyle,
    Schema, Unit, FULL_LOG_LINES,
};
use clusterscope_core::scenario::params::{p, Kind, ParamSpec};
use clusterscope_core::scenario::{
    check_node, link, parse_one_node, split_word, Action, LabKind, Scenario, ScenarioError,
};
use clusterscope_core::sim::{Fingerprint, Rng, StreamKind, Time, MS, SEC};
use std::any::Any;

/// The parameter table: short name, label with its unit, one line of help,
/// kind, range, default, and whether it may change during a run.
const PARAMS: &[ParamSpec] = &[
    p("nodes", "Servers", "number of servers", Kind::Count, 2, 100, 8, false),
    p("fanout", "Fanout", "peers each server that knows the rumour tells per round", Kind::Count, 1, 10, 1, true),
    p(
        "round",
        "Round (ms)",
        "time between two gossip rounds",
        Kind::Duration,
        MS as i64,
        10 * SEC as i64,
        100 * MS as i64,
        false,
    ),
];

/// The lab's own verbs; the shared ones (crash, restart, set) come free.
const VERBS: &[&str] = &["tell"];

/// Reads `tell S3` into its canonical text (what files and links hold).
fn parse_verb(verb: &str, rest: &str) -> Result<String, String> {
    match verb {
        "tell" => Ok(format!("tell S{}", u64::from(parse_one_node(verb, rest)?) + 1)),
        other => Err(format!("'{other}' is not an action of the gossip lab")),
    }
}

/// Checks a verb against the servers there are (no verb here adds one).
fn check_verb(text: &str, nodes: &mut u32) -> Result<(), String> {
    let (verb, rest) = split_word(text);
    check_node(parse_one_node(verb, rest)?, *nodes)
}

/// The gossip lab's running model.
#[derive(Clone)]
struct GossipLab {
    now: Time,
    /// Time between rounds, and when the next one is due.
    round: Time,
    next_round: Time,
    fanout: u32,
    /// When each server heard the rumour (`None`: it does not know it).
    heard: Vec<Option<Time>>,
    up: Vec<bool>,
    rounds: u64,
    /// When every server up first knew it.
    everyone_at: Option<Time>,
    /// The lab's one random stream, drawn from the scenario's seed.
    rng: Rng,
    fingerprint: Fingerprint,
    /// One line per change (bounded by the servers and the scenario's actions).
    log: Vec<String>,
    log_sent: usize,
}

fn build(scn: &Scenario) -> Result<Box<dyn Model>, ScenarioError> {
    let n = scn.nodes() as usize;
    let mut heard = vec![None; n];
    heard[0] = Some(0);
    Ok(Box::new(GossipLab {
        now: 0,
        round: scn.get("round") as Time,
        next_round: scn.get("round") as Time,
        fanout: scn.get("fanout") as u32,
        heard,
        up: vec![true; n],
        rounds: 0,
        everyone_at: None,
        rng: Rng::stream(scn.seed, StreamKind::Lab, 0),
        fingerprint: Fingerprint::default(),
        log: vec!["S1 knows the rumour".into()],
        log_sent: 0,
    }))
}

impl GossipLab {
    /// One round: every server up that knows the rumour tells `fanout`
    /// peers other than itself; those that are up learn it at the end of
    /// the round.
    fn gossip(&mut self) {
        self.rounds += 1;
        let n = self.heard.len();
        let mut told = Vec::new();
        for from in 0..n {
            if !self.up[from] || self.heard[from].is_none() {
                continue;
            }
            for _ in 0..self.fanout {
                let pick = self.rng.range(0, n as u64 - 2) as usize;
                told.push((from, if pick >= from { pick + 1 } else { pick }));
            }
        }
        for (from, to) in told {
            if self.up[to] && self.heard[to].is_none() {
                self.heard[to] = Some(self.now);
                self.log.push(format!("S{}->S{} rumour", from + 1, to + 1));
            }
        }
        if self.everyone_at.is_none() && (0..n).all(|i| !self.up[i] || self.heard[i].is_some()) {
            self.everyone_at = Some(self.now);
        }
        self.digest();
    }

    /// Chains who knows the rumour into the fingerprint.
    fn digest(&mut self) {
        self.fingerprint.u64(self.now);
        for (heard, up) in self.heard.iter().zip(&self.up) {
            self.fingerprint.u64(u64::from(heard.is_some()) + 2 * u64::from(*up));
        }
    }

    fn server(&self, n: u32) -> Result<usize, String> {
        check_node(n, self.heard.len() as u32).map(|()| n as usize)
    }
}

impl Model for GossipLab {
    fn now(&self) -> Time {
        self.now
    }

    fn next_event(&self) -> Option<Time> {
        Some(self.next_round)
    }

    fn run_to(&mut self, t: Time) {
        while self.next_round <= t {
            self.now = self.next_round;
            self.gossip();
            self.next_round += self.round;
        }
        self.now = self.now.max(t);
    }

    fn apply(&mut self, action: &Action) -> Result<(), String> {
        match action {
            Action::Crash(n) => {
                let i = self.server(*n)?;
                (self.up[i], self.heard[i]) = (false, None);
            }
            Action::Restart(n) => {
                let i = self.server(*n)?;
                self.up[i] = true;
            }
            Action::Set(name, v) if name == "fanout" => self.fanout = *v as u32,
            Action::Lab(text) => {
                let (verb, rest) = split_word(text);
                let i = self.server(parse_one_node(verb, rest)?)?;
                if !self.up[i] {
                    return Err(format!("S{} is crashed: it cannot hear anything", i + 1));
                }
                self.heard[i] = self.heard[i].or(Some(self.now));
            }
            other => return Err(format!("'{other}' is not an action of the gossip lab")),
        }
        self.log.push(action.to_string());
        self.fingerprint.str(&action.to_string());
        self.digest();
        Ok(())
    }

    fn fingerprint(&self) -> u64 {
        self.fingerprint.value()
    }

    fn events(&self) -> u64 {
        self.rounds
    }

    fn schema(&self) -> Schema {
        Schema {
            // The driver fills in the name, the title and the verbs from the LabDef.
            lab: String::new(),
            title: String::new(),
            verbs: Vec::new(),
            timed: true,
            cluster: true,
            roles: vec![RoleStyle::new("unaware", "#9aa3b2"), RoleStyle::new("knows", "#2e9d5b")],
            kinds: Vec::new(),
            fields: vec![FieldSpec::new("heard", "Heard at", Unit::Micros)],
            strip: None,
            metrics: vec![
                MetricSpec::new("knows", "Servers that know", Unit::Count, true),
                MetricSpec::new("share", "Share that knows", Unit::Fraction, true),
                MetricSpec::new("rounds", "Rounds", Unit::Count, false),
                MetricSpec::new("everyone", "Every server up knew at", Unit::Micros, false),
            ],
            nodes: self.heard.len() as u32,
            diagram: false,
            // No notes for a space-time diagram (this lab draws none).
            notes: Vec::new(),
            // A button on a selected server that has not heard yet; the
            // shared page adds Crash and Restart, the shared faults it takes.
            node_actions: vec![NodeAction::new("Tell the rumour", "tell {node}")
                .named("Tell")
                .roles(&["unaware"])
                .enabled(&[NodeStatus::Up])],
        }
    }

    fn metrics(&mut self) -> Vec<f64> {
        let knows = self.heard.iter().filter(|h| h.is_some()).count() as f64;
        vec![
            knows,
            knows / self.heard.len() as f64,
            self.rounds as f64,
            self.everyone_at.map_or(f64::NAN, |t| t as f64),
        ]
    }

    fn draw(&mut self, frame: &mut Frame, full: bool) {
        // Every server, every frame: a lab with hundreds sends only those
        // that changed (see the Load-balancing lab).
        frame.node_count = self.heard.len() as u32;
        frame.nodes = (0..self.heard.len())
            .map(|i| NodeView {
                id: i as u32,
                status: if self.up[i] { NodeStatus::Up } else { NodeStatus::Crashed },
                role: u8::from(self.heard[i].is_some()),
                fields: vec![self.heard[i].map_or(i64::MIN, |t| t as i64)],
                strip: Vec::new(),
                strip_first: 0,
                strip_mark: 0,
                timer: None,
            })
            .collect();
        let from = if full { self.log.len().saturating_sub(FULL_LOG_LINES) } else { self.log_sent };
        frame.log = self.log[from..].to_vec();
        self.log_sent = self.log.len();
    }

    fn trace_lines(&self) -> Vec<String> {
        self.log.clone()
    }

    fn clone_box(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The lab's static description.
static LAB: LabDef = LabDef {
    name: "gossip",
    title: "Gossip",
    about: "A rumour spreads from server to server: how many rounds until everyone knows?",
    params: &[PARAMS],
    shared_verbs: &["crash", "restart", "set"],
    verbs: VERBS,
    parse_verb,
    check_verb,
    check: |_| Ok(()),
    nodes: Scenario::nodes_param,
    presets: &[("Eight servers, fanout 1", PRESET)],
    // No benchmark workload.
    bench: None,
    // No experiments yet: an experiment is a named run that returns a
    // table (see `raft/experiments.rs`); `clusterscope exp` and the page
    // list what a lab declares here.
    experiments: &[],
};

/// What runs the lab: the code behind the description. A program that
/// only reads gossip files and links needs the description alone; the
/// browser's gossip worker registers this.
static ENGINE: Engine = Engine { lab: &LAB, build, speed: None, runs: &[], also: &[] };

/// The preset: a scenario file like any other.
const PRESET: &str = "\
# Eight servers; S1 knows a rumour. S8 is down for a while and forgets it.
lab gossip
seed 7
nodes 8
at 250ms crash S8
at 600ms restart S8
until 2s
expect knows == 8
expect rounds == 20
expect everyone <= 1.5s
";

/// Registers the lab once per test binary and returns its handle.
fn gossip() -> LabKind {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| registry::register_engine(&ENGINE).expect("the name 'gossip' is free"));
    LabKind(&LAB)
}

// A scenario file runs as `clusterscope run` runs one: parse, replay to
// `until`, check every `expect` line; a replay and a share link give the
// same fingerprint (DESIGN.md, principles 1 and 4).
#[test]
fn the_preset_runs_and_its_expect_lines_hold() {
    let kind = gossip();
    let scn = Scenario::parse(PRESET).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((scn.lab, scn.nodes(), scn.until), (kind, 8, 2 * SEC));
    let mut lab = Lab::replay(&scn).expect("replays");
    for e in &scn.expects {
        lab.check(e).unwrap_or_else(|m| panic!("{m}"));
    }
    let again = Lab::replay(&scn).expect("replays");
    assert_eq!(again.fingerprint(), lab.fingerprint(), "same scenario, same run");
    let decoded = link::decode(&link::encode(&scn).expect("encodes")).expect("decodes");
    assert_eq!(Lab::replay(&decoded).expect("replays").fingerprint(), lab.fingerprint());
}

// DESIGN.md principle 4: what a user does live is recorded, and the
// recording replays to the same run. Principle 6: an action the lab
// refuses gets a sentence and changes nothing.
#[test]
fn live_actions_are_recorded_and_mistakes_explained() {
    let kind = gossip();
    let mut lab = Lab::new(&Scenario::parse("lab gossip\nseed 3\nnodes 6\n").expect("parses")).expect("builds");
    let act = |lab: &mut Lab, text: &str| lab.act(registry::parse_action(kind, text).expect("parses"));
    lab.run_until(150 * MS);
    act(&mut lab, "crash S2").expect("crashes");
    act(&mut lab, "tell S5").expect("S5 hears it");
    act(&mut lab, "set fanout 3").expect("fanout is live");
    let refused = act(&mut lab, "tell S2").expect_err("S2 is down");
    assert!(refused.to_string().contains("S2 is crashed"), "{refused}");
    lab.run_until(SEC);

    let recorded = lab.scenario();
    assert_eq!(recorded.actions.len(), 3, "the refused action is not recorded:\n{}", recorded.to_text());
    assert_eq!(Lab::replay(&recorded).expect("replays").fingerprint(), lab.fingerprint());

    let error = |text: &str| Scenario::parse(text).expect_err("refused").to_string();
    assert!(error("lab gossip\nnodes 4\nat 1s tell S9\n").contains("no server S9"));
    assert!(error("lab gossip\nat 1s set round 50ms\n").contains("only be set at the start"));
    assert!(error("lab gossip\nat 1s partition S1 | S2\n").contains("not an action of the gossip lab"));
    assert!(error("lab gossip\nfanout 11\n").contains("between 1 and 10"));
}

// The generic drawing: roles, fields and crashed servers come from the
// schema and the frame, with no gossip code in the page.
#[test]
fn frames_show_who_knows() {
    gossip();
    let scn = Scenario::parse("lab gossip\nseed 1\nnodes 5\nat 0 crash S4\nuntil 300ms\n").expect("parses");
    let mut lab = Lab::replay(&scn).expect("replays");
    let schema = lab.schema();
    assert_eq!((schema.lab.as_str(), schema.title.as_str()), ("gossip", "Gossip"));
    let frame = lab.frame(true);
    assert_eq!(frame.nodes.len(), 5);
    for n in &frame.nodes {
        let knows = schema.roles[usize::from(n.role)].name == "knows";
        assert_eq!(knows, n.field(0).is_some(), "S{}: the role and 'Heard at' agree", n.id + 1);
        assert_eq!(n.status == NodeStatus::Crashed, n.id == 3);
    }
    assert_eq!(frame.nodes[0].field(0), Some(0), "S1 knew it from the start");
    assert_eq!(frame.metric(&schema, "rounds"), Some(3.0));
}

// What the lab is for: change a parameter and measure its effect. Over 50
// seeds, telling three peers a round reaches everyone sooner than telling
// one (push gossip takes about log2(n) + ln(n) rounds with fanout 1).
#[test]
fn a_larger_fanout_spreads_the_rumour_sooner() {
    gossip();
    let median = |fanout: u32| {
        let mut times: Vec<f64> = (0..50)
            .map(|seed| {
                let text = format!("lab gossip\nseed {seed}\nnodes 32\nfanout {fanout}\nuntil 5s\n");
                let mut lab = Lab::replay(&Scenario::parse(&text).expect("parses")).expect("replays");
                let metrics = lab.metrics();
                metrics.iter().find(|(m, _)| m.name == "everyone").map_or(f64::NAN, |(_, v)| *v)
            })
            .collect();
        assert!(times.iter().all(|t| t.is_finite()), "everyone knew within 5 s: {times:?}");
        times.sort_by(f64::total_cmp);
        times[25]
    };
    let (one, three) = (median(1), median(3));
    assert!(three < one, "fanout 3: {three} µs, fanout 1: {one} µs");
    assert!(one <= 1.5e6, "32 servers, fanout 1: about 9 rounds of 100 ms, not {one} µs");
}

// The page docs/adding-a-lab.md shows this file: its Rust blocks, in order
// and separated by one blank line, are this file, whole.
#[test]
fn the_tutorial_shows_exactly_this_file() {
    let page = include_str!("../../../docs/adding-a-lab.md");
    let source = include_str!("tutorial_lab.rs");
    let mut blocks: Vec<String> = Vec::new();
    let mut block: Option<String> = None;
    for line in page.lines() {
        if let Some(b) = block.as_mut() {
            if line == "```" {
                blocks.extend(block.take());
            } else {
                b.push_str(line);
                b.push('\n');
            }
        } else if line == "```rust" {
            block = Some(String::new());
        }
    }
    assert!(block.is_none(), "docs/adding-a-lab.md: a rust block is not closed");
    for (i, b) in blocks.iter().enumerate() {
        assert!(source.contains(b.as_str()), "block {} of docs/adding-a-lab.md is not in this file:\n{b}", i + 1);
    }
    assert!(blocks.join("\n") == source, "docs/adding-a-lab.md must show this file whole, in order");
}
