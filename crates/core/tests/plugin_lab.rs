//! A lab defined only inside this test joins ClusterScope at run time and
//! is read, validated, linked, replayed, measured, checked and drawn by the
//! same generic machinery as the built-in labs, without touching a shared
//! file.
//!
//! Where the expectation comes from: the lab-boundary issue ("a small lab
//! defined only inside a test is registered and run by the same generic
//! machinery, without touching shared files"), `lab/registry.rs` ("A lab
//! defined elsewhere, such as one inside a test, joins at run time with
//! `register` and is then read, linked, replayed and drawn by the same
//! machinery") and DESIGN.md ("Each lab is a plug-in ... Message-passing
//! protocols share one cluster lab on the simulator"; principles 1, 3, 4
//! and 6).
//!
//! The lab: ping-pong. Node 0 (the pinger) sends `Ping` to every other node
//! on a timer; each of them answers `Pong`; the pinger counts pongs. A
//! forced timeout makes any node ping once. Client requests commit at node
//! 0 and are redirected to it elsewhere. A deliberate bug (`bug_extra_pong`)
//! makes pongers answer twice, which the lab's own checker must catch.

use clusterscope_core::lab::cluster::{self, ClusterLab, ClusterProtocol};
use clusterscope_core::lab::registry::parse_action;
use clusterscope_core::lab::{
    registry, Engine, KindStyle, Lab, LabDef, MetricSpec, NodeStatus, NodeView, RoleStyle, Unit,
};
use clusterscope_core::lab::{FieldSpec, MetricRole, NodeAction, RoleLook, StripSpec, DRAWN_MESSAGES};
use clusterscope_core::scenario::params::{p, Kind, ParamSpec, NETWORK};
use clusterscope_core::scenario::{link, Action, LabKind, Scenario, ScenarioError, SHARED_VERBS};
use clusterscope_core::sim::{
    Ctx, Fingerprint, Invariant, Node, NodeId, Observable, Protocol, Reply, RequestId, Sim, Time, TraceEvent, World,
    MS, SEC,
};

// ---------------------------------------------------------------------------
// The protocol
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum PingMsg {
    Ping { round: u64 },
    Pong { round: u64 },
}

impl Observable for PingMsg {
    fn kind(&self) -> &'static str {
        match self {
            PingMsg::Ping { .. } => "Ping",
            PingMsg::Pong { .. } => "Pong",
        }
    }
    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            PingMsg::Ping { round } => {
                fp.u64(0);
                fp.u64(*round);
            }
            PingMsg::Pong { round } => {
                fp.u64(1);
                fp.u64(*round);
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PingTimer {
    Tick,
}

impl Observable for PingTimer {
    fn kind(&self) -> &'static str {
        "Tick"
    }
    fn digest(&self, fp: &mut Fingerprint) {
        fp.u64(0);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PingNote {
    GotPong { from: NodeId, round: u64 },
}

impl Observable for PingNote {
    fn kind(&self) -> &'static str {
        "GotPong"
    }
    fn digest(&self, fp: &mut Fingerprint) {
        let PingNote::GotPong { from, round } = self;
        fp.u64(u64::from(*from));
        fp.u64(*round);
    }
}

#[derive(Clone, Debug)]
struct PingConfig {
    interval: Time,
    extra_pong: bool,
}

#[derive(Clone, Debug)]
struct PingNode {
    id: NodeId,
    config: PingConfig,
    /// Ping rounds this node started (persisted).
    round: u64,
    /// Pongs this node received (persisted).
    pongs: u64,
    /// Pongs received per sender since the last start (volatile).
    pongs_from: Vec<u64>,
}

impl PingNode {
    fn ping_all(&mut self, ctx: &mut Ctx<Self>) {
        self.round += 1;
        for peer in ctx.peers() {
            ctx.send(peer, PingMsg::Ping { round: self.round });
        }
    }
}

impl Protocol for PingNode {
    type Msg = PingMsg;
    type Timer = PingTimer;
    type Note = PingNote;
    type Durable = (u64, u64);
    type Config = PingConfig;

    fn new(id: NodeId, nodes: u32, config: &PingConfig) -> Self {
        PingNode { id, config: config.clone(), round: 0, pongs: 0, pongs_from: vec![0; nodes as usize] }
    }
    fn recover(id: NodeId, nodes: u32, config: &PingConfig, (round, pongs): (u64, u64)) -> Self {
        PingNode { round, pongs, ..PingNode::new(id, nodes, config) }
    }
    fn durable(&self) -> (u64, u64) {
        (self.round, self.pongs)
    }
    fn on_start(&mut self, ctx: &mut Ctx<Self>) {
        if self.id == 0 {
            ctx.set_timer(PingTimer::Tick, self.config.interval);
        }
    }
    fn on_message(&mut self, from: NodeId, msg: PingMsg, ctx: &mut Ctx<Self>) {
        match msg {
            PingMsg::Ping { round } => {
                ctx.send(from, PingMsg::Pong { round });
                if self.config.extra_pong {
                    ctx.send(from, PingMsg::Pong { round });
                }
            }
            PingMsg::Pong { round } => {
                self.pongs += 1;
                self.pongs_from[from as usize] += 1;
                ctx.note(PingNote::GotPong { from, round });
            }
        }
    }
    fn on_timer(&mut self, PingTimer::Tick: PingTimer, ctx: &mut Ctx<Self>) {
        self.ping_all(ctx);
        ctx.set_timer(PingTimer::Tick, self.config.interval);
    }
    fn on_request(&mut self, req: RequestId, ctx: &mut Ctx<Self>) {
        ctx.reply(req, if self.id == 0 { Reply::Committed } else { Reply::NotLeader(Some(0)) });
    }
    fn on_force_timeout(&mut self, ctx: &mut Ctx<Self>) {
        self.ping_all(ctx);
    }
}

/// The lab's own checker: a node never hears more pongs than it asked for
/// (one per peer per round it started).
#[derive(Clone)]
struct OnePongPerPing;

impl Invariant<PingNode> for OnePongPerPing {
    fn name(&self) -> &'static str {
        "One Pong per Ping"
    }
    fn check(&mut self, world: &World<'_, PingNode>, _events: &[TraceEvent<PingNode>]) -> Result<(), String> {
        let peers = world.nodes.len().saturating_sub(1) as u64;
        for (i, n) in world.nodes.iter().enumerate() {
            if n.state.pongs > n.state.round * peers {
                return Err(format!(
                    "S{} heard {} pongs for {} rounds of {peers} pings",
                    i + 1,
                    n.state.pongs,
                    n.state.round
                ));
            }
        }
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn Invariant<PingNode>> {
        Box::new(self.clone())
    }
}

#[derive(Clone, Debug, Default)]
struct PingTracker {
    /// Pongs seen in the trace's notes.
    pongs: u64,
}

const KINDS: [&str; 2] = ["Ping", "Pong"];
const ROLES: [&str; 2] = ["pinger", "ponger"];

impl ClusterProtocol for PingNode {
    type Tracker = PingTracker;

    fn config(scn: &Scenario) -> PingConfig {
        PingConfig { interval: scn.get("ping_interval").max(1) as Time, extra_pong: scn.get("bug_extra_pong") != 0 }
    }
    fn invariants() -> Vec<Box<dyn Invariant<Self>>> {
        vec![Box::new(OnePongPerPing)]
    }
    fn roles() -> Vec<RoleStyle> {
        // Pongers are drawn as empty dashed circles: a look of the lab's own
        // choosing, which the shared drawing follows.
        ROLES
            .iter()
            .map(|n| {
                RoleStyle::new(n, "#123456").with_look(if *n == "ponger" { RoleLook::Vacant } else { RoleLook::Filled })
            })
            .collect()
    }
    fn node_actions() -> Vec<NodeAction> {
        vec![
            NodeAction::new("Ping now", "timeout {node}").named("Ping").roles(&["ponger"]).enabled(&[NodeStatus::Up]),
            // Not a verb of this lab: the shared schema leaves it out.
            NodeAction::new("Frobnicate", "frobnicate {node}"),
        ]
    }
    fn strip() -> Option<StripSpec> {
        Some(StripSpec { title: "Pongs per sender".into(), value: "pongs".into(), mark: "heard".into(), base: None })
    }
    fn kinds() -> Vec<KindStyle> {
        KINDS
            .iter()
            .map(|n| KindStyle {
                name: (*n).into(),
                color: "#654321".into(),
                reply: *n == "Pong",
                small: false,
                unused: false,
            })
            .collect()
    }
    fn kind_index(msg: &PingMsg) -> u8 {
        match msg {
            PingMsg::Ping { .. } => 0,
            PingMsg::Pong { .. } => 1,
        }
    }
    fn fields() -> Vec<FieldSpec> {
        vec![
            FieldSpec::new("round", "Round", Unit::Count).with_short("r"),
            FieldSpec::new("pongs", "Pongs", Unit::Count).off_table(),
        ]
    }
    fn view(node: &Node<Self>, v: &mut NodeView) {
        v.role = if node.state.id == 0 { 0 } else { 1 };
        v.fields = vec![node.state.round as i64, node.state.pongs as i64];
        v.timer = node.timer_spans().next().map(|(_, set, due)| (set, due));
        v.strip = node.state.pongs_from.iter().map(|&p| p.min(u64::from(u32::MAX)) as u32).collect();
        v.strip_first = 1;
        v.strip_mark = v.strip.len() as u64;
    }
    fn metric_specs() -> Vec<MetricSpec> {
        vec![
            MetricSpec::new("pongs", "Pongs heard", Unit::Count, true).with_role(MetricRole::Progress),
            MetricSpec::new("rounds", "Ping rounds of S1", Unit::Count, false),
        ]
    }
    fn observe(t: &mut PingTracker, sim: &Sim<Self>) {
        for ev in sim.last_events() {
            if let TraceEvent::Note { note: PingNote::GotPong { .. }, .. } = ev {
                t.pongs += 1;
            }
        }
    }
    fn metrics(t: &PingTracker, sim: &Sim<Self>, out: &mut Vec<f64>) {
        out.extend([t.pongs as f64, sim.nodes()[0].state.round as f64]);
    }
}

// ---------------------------------------------------------------------------
// The lab's static description
// ---------------------------------------------------------------------------

const PARAMS: &[ParamSpec] = &[
    p("nodes", "Nodes", "number of nodes", Kind::Count, 2, 64, 3, false),
    p(
        "ping_interval",
        "Ping interval (ms)",
        "time between the pinger's rounds",
        Kind::Duration,
        MS as i64,
        10 * SEC as i64,
        200 * MS as i64,
        false,
    ),
    p("bug_extra_pong", "Deliberate bug: extra pong", "pongers answer every ping twice", Kind::Toggle, 0, 1, 0, false),
];

const PINGPONG: LabDef = LabDef {
    name: "pingpong",
    title: "Ping-pong",
    about: "One node pings the others on a timer; they answer; it counts the answers.",
    params: &[PARAMS, NETWORK],
    shared_verbs: SHARED_VERBS,
    verbs: cluster::VERBS,
    parse_verb: cluster::parse_verb,
    check_verb: cluster::check_verb,
    nodes: Scenario::nodes_param,
    check: cluster::check_network,
    bench: None,
    experiments: &[],
    presets: &[(
        "Four nodes ping and pong",
        "# Four nodes: S1 pings, the others answer.\nlab pingpong\nseed 1\nnodes 4\nuntil 2s\nexpect pongs >= 20\nexpect rounds == 10\n",
    )],
};

/// The lab, as registered.
static LAB: LabDef = PINGPONG;

/// What runs it.
static ENGINE: Engine = Engine { lab: &LAB, build: cluster::build::<PingNode>, speed: None, runs: &[], also: &[] };

/// A second description under a name that is already taken.
static IMPOSTOR: LabDef = LabDef { name: "raft", title: "Not Raft", ..PINGPONG };

/// Registers the lab once per test binary (every test may call this, in any
/// order, on any thread) and returns its handle.
fn pingpong() -> LabKind {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| registry::register_engine(&ENGINE).expect("the name 'pingpong' is free"));
    LabKind(&LAB)
}

/// The scenario most tests use: S2 crashes and restarts, S3 pings once by
/// force, a client asks S1.
const SCENARIO: &str = "\
# S2 is down for a second; S3 pings once by force.
lab pingpong
seed 3
nodes 4
at 1s crash S2
at 1.5s timeout S3
at 1.5s request S1
at 2s restart S2
until 3s
expect pongs >= 10
expect committed >= 1
expect msgs_per_sec > 0
";

fn parse(text: &str) -> Scenario {
    pingpong();
    Scenario::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn model(lab: &Lab) -> &ClusterLab<PingNode> {
    lab.model::<ClusterLab<PingNode>>().expect("the pingpong lab runs on the shared cluster lab")
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

// Issue (lab boundary) + registry.rs: registering makes the lab known by
// name to everything that asks the registry; a name already taken (by this
// lab or a built-in one) is refused with a sentence, not replaced.
#[test]
fn registration_adds_the_lab_and_refuses_a_taken_name() {
    let kind = pingpong();
    let names = registry::names();
    let built_in: Vec<&str> = registry::BUILT_IN.iter().map(|d| d.name).collect();
    assert_eq!(&names[..built_in.len()], &built_in[..], "built-in labs stay first, in menu order: {names:?}");
    assert!(names.contains(&"pingpong"), "{names:?}");
    assert_eq!(names.iter().filter(|n| **n == "pingpong").count(), 1, "{names:?}");
    assert_eq!(LabKind::from_name("pingpong"), Some(kind));
    assert_eq!(registry::find("pingpong").map(|d| d.title), Some("Ping-pong"));

    let again = registry::register(&LAB).expect_err("a second 'pingpong' must be refused");
    assert!(again.contains("'pingpong'") && again.contains("already registered"), "{again}");
    let engine_again = registry::register_engine(&ENGINE).expect_err("a second engine must be refused");
    assert!(engine_again.contains("pingpong lab's engine is already registered"), "{engine_again}");
    let clash = registry::register(&IMPOSTOR).expect_err("'raft' is a built-in lab's name");
    assert!(clash.contains("'raft'"), "{clash}");
    assert_eq!(registry::find("raft").map(|d| d.title), Some("Raft"), "the built-in lab is not replaced");
    assert_eq!(registry::names().len(), names.len(), "refused registrations add nothing");
}

/// A lab known by its description alone: read like any other.
static SILENT: LabDef = LabDef { name: "silent", title: "Silent", ..PINGPONG };

// Descriptions and engines are registered apart (lab::registry): a program
// that knows a lab only by its description (the browser's worker of
// another lab) reads its files and links, but refuses to run it with a
// sentence naming what it does run, rather than panicking or running the
// wrong code.
#[test]
fn a_lab_known_only_by_its_description_is_read_but_not_run() {
    registry::register(&SILENT).expect("the name 'silent' is free");
    let scn = Scenario::parse("lab silent\nseed 1\nnodes 3\n").expect("a description is enough to read a file");
    assert!(link::decode(&link::encode(&scn).expect("encodes")).is_ok(), "and a link");
    let err = Lab::new(&scn).err().expect("no engine: no run").to_string();
    assert!(err.contains("not the silent lab's"), "{err}");
    assert!(err.contains("raft"), "it names the engines it has: {err}");
    let unknown = registry::engine("nosuch").err().expect("unknown lab");
    assert!(unknown.contains("there is no lab 'nosuch'"), "{unknown}");
}

// DESIGN.md principle 4 (one text format for every lab) and principle 6
// (bad input gets a sentence): the shared parser reads the plug-in's
// parameters, the shared fault verbs and the cluster verbs, and its errors
// name the lab and what it accepts.
#[test]
fn the_shared_parser_reads_the_lab_and_explains_mistakes() {
    let kind = pingpong();
    let scn = parse(SCENARIO);
    assert_eq!(scn.lab, kind);
    assert_eq!(scn.seed, 3);
    assert_eq!(scn.nodes(), 4);
    assert_eq!(scn.until, 3 * SEC);
    assert_eq!(scn.get("ping_interval"), 200 * MS as i64, "defaults come from the lab's own table");
    assert_eq!(
        scn.actions.iter().map(|t| (t.at, t.action.clone())).collect::<Vec<_>>(),
        vec![
            (SEC, Action::Crash(1)),
            (1_500 * MS, Action::Lab("timeout S3".into())),
            (1_500 * MS, Action::Lab("request S1".into())),
            (2 * SEC, Action::Restart(1)),
        ]
    );
    assert_eq!(scn.expects.len(), 3);
    assert_eq!(Scenario::parse(&scn.to_text()), Ok(scn.clone()), "the text format round-trips");
    assert_eq!(kind.verbs(), [SHARED_VERBS, cluster::VERBS].concat());

    let err = |text: &str| match Scenario::parse(text) {
        Ok(s) => panic!("should be refused:\n{text}\nparsed as {s:?}"),
        Err(e) => e.to_string(),
    };
    let unknown = err("lab pingpong\nat 1s frobnicate S1\n");
    assert!(
        unknown.contains("line 2") && unknown.contains("'frobnicate'") && unknown.contains("pingpong"),
        "{unknown}"
    );
    assert!(unknown.contains("crash") && unknown.contains("timeout"), "it lists the lab's verbs: {unknown}");
    let ring_verb = err("lab pingpong\nat 1s add\n");
    assert!(ring_verb.contains("'add' is not an action of the pingpong lab"), "{ring_verb}");
    let raft_param = err("lab pingpong\nelection_timeout_min 10ms\n");
    assert!(raft_param.contains("for the pingpong lab") && raft_param.contains("ping_interval"), "{raft_param}");
    let range = err("lab pingpong\nnodes 100\n");
    assert!(range.contains("between 2 and 64"), "the lab's own range: {range}");
    let no_server = err("lab pingpong\nnodes 4\nat 1s crash S9\n");
    assert!(no_server.contains("no server S9") && no_server.contains("has 4"), "{no_server}");
    let no_server_verb = err("lab pingpong\nnodes 4\nat 1s timeout S5\n");
    assert!(no_server_verb.contains("no server S5"), "cluster verbs are checked too: {no_server_verb}");
    let network = err("lab pingpong\nlatency_min 50ms\nlatency_max 10ms\n");
    assert!(network.contains("latency_min"), "the lab's check runs: {network}");
}

// DESIGN.md principles 1 and 4: a replay is deterministic, the run depends
// on the seed, and a share link reproduces the same run.
#[test]
fn replay_is_deterministic_and_a_link_reproduces_it() {
    let scn = parse(SCENARIO);
    let lab = Lab::replay(&scn).expect("replays");
    assert_eq!(lab.now(), 3 * SEC);
    assert!(lab.violation().is_none(), "{:?}", lab.violation_text());
    assert!(lab.events() > 50, "the run did something: {} events", lab.events());
    let again = Lab::replay(&scn).expect("replays");
    assert_eq!(again.fingerprint(), lab.fingerprint(), "same scenario, same run");
    assert_eq!(again.events(), lab.events());

    let other_seed = Lab::replay(&Scenario { seed: 4, ..scn.clone() }).expect("replays");
    assert_ne!(other_seed.fingerprint(), lab.fingerprint(), "the seed draws the latencies");

    let fragment = link::encode(&scn).expect("encodes");
    let decoded = link::decode(&fragment).expect("decodes through the registry");
    assert_eq!(decoded, scn);
    assert_eq!(Lab::replay(&decoded).expect("replays").fingerprint(), lab.fingerprint(), "the link changes nothing");
}

// The issue: the plug-in's own metrics and the shared cluster metrics come
// out of `Lab::metrics` and `expect` lines check them. The values must agree
// with the simulated nodes and with the faults in the scenario (S2 was
// down from 1 s to 2 s, so it answered fewer pings than S3).
#[test]
fn metrics_are_measured_and_expect_lines_check_them() {
    let scn = parse(SCENARIO);
    let mut lab = Lab::replay(&scn).expect("replays");
    let schema = lab.schema();
    assert_eq!((schema.lab.as_str(), schema.title.as_str()), ("pingpong", "Ping-pong"));
    assert!(schema.timed && schema.cluster);
    assert_eq!(schema.nodes, 4);
    let names: Vec<String> = schema.metrics.iter().map(|m| m.name.clone()).collect();
    assert_eq!(&names[..2], &["pongs", "rounds"], "the lab's own metrics come first: {names:?}");
    for shared in ["committed", "requests", "commit_p50", "commit_p99", "msgs_per_sec", "sent", "dropped"] {
        assert!(names.iter().any(|n| n == shared), "shared metric {shared} missing: {names:?}");
    }

    let metrics = lab.metrics();
    let value = |name: &str| metrics.iter().find(|(m, _)| m.name == name).map(|(_, v)| *v).unwrap_or(f64::NAN);
    let sim = model(&lab).sim();
    let s1 = &sim.nodes()[0].state;
    // Ticks at 0.2 s, 0.4 s, ..., 3.0 s: fifteen rounds.
    assert_eq!(value("rounds"), 15.0);
    assert_eq!(value("rounds"), s1.round as f64);
    let heard: u64 = sim.nodes().iter().map(|n| n.state.pongs).sum();
    assert_eq!(value("pongs"), heard as f64, "the tracker saw every pong the nodes counted");
    assert!(value("pongs") >= 30.0, "{}", value("pongs"));
    let (from_s2, from_s3) = (s1.pongs_from[1], s1.pongs_from[2]);
    assert!(from_s2 < from_s3, "S2 was down for five rounds: S2 {from_s2}, S3 {from_s3}");
    assert!(from_s2 > 4, "S2 answered again after its restart: {from_s2}");
    assert_eq!(value("dropped"), sim.counters().dropped as f64);
    assert!(value("dropped") >= 5.0, "pings to the crashed S2 were lost: {}", value("dropped"));
    assert_eq!(value("sent"), sim.counters().sent as f64);
    assert!(value("msgs_per_sec") > 0.0);
    assert!(value("committed") >= 1.0 && value("commit_p50").is_finite());

    for e in &scn.expects {
        lab.check(e).unwrap_or_else(|m| panic!("{m}"));
    }
    let failing = parse("lab pingpong\nexpect pongs > 1000\nexpect nonsense >= 1\n");
    let too_many = lab.check(&failing.expects[0]).expect_err("the run heard fewer than 1000 pongs");
    assert!(too_many.contains("failed") && too_many.contains("pongs"), "{too_many}");
    let unknown = lab.check(&failing.expects[1]).expect_err("no such metric");
    assert!(unknown.contains("no metric 'nonsense'") && unknown.contains("rounds"), "{unknown}");
}

// The lab's presets are scenarios like any other: they parse, run clean
// and their `expect` lines hold (as tests/scenario_files.rs asks of the
// built-in labs' presets).
#[test]
fn the_preset_runs_clean() {
    pingpong();
    for (title, text) in LAB.presets {
        let scn = Scenario::parse(text).unwrap_or_else(|e| panic!("{title}: {e}"));
        assert!(!scn.title.is_empty());
        let mut lab = Lab::replay(&scn).expect("replays");
        assert!(lab.violation().is_none(), "{title}: {:?}", lab.violation_text());
        for e in &scn.expects {
            lab.check(e).unwrap_or_else(|m| panic!("{title}: {m}"));
        }
    }
}

// The issue: the generic drawing works for the plug-in: nodes carry its
// roles, fields and timer, crashed nodes are shown crashed, and the packed
// messages are exactly the simulator's messages in flight, with kinds that
// index the lab's own `kinds()`.
#[test]
fn frames_draw_the_labs_roles_and_messages() {
    pingpong();
    // Slow links and a quick pinger so that messages are always in flight.
    let scn = parse("lab pingpong\nseed 5\nnodes 4\nlatency_min 50ms\nlatency_max 90ms\nping_interval 100ms\nat 1s crash S2\nuntil 1.23s\n");
    let mut lab = Lab::replay(&scn).expect("replays");
    let schema = lab.schema();
    assert_eq!(schema.roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ROLES);
    assert_eq!(schema.kinds.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), KINDS);
    assert_eq!(schema.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["round", "pongs"]);

    let frame = lab.frame(true);
    assert_eq!((frame.time, frame.node_count, frame.nodes.len()), (1_230 * MS, 4, 4));
    assert_eq!(frame.fingerprint, lab.fingerprint());
    assert!(frame.can_run && frame.violation.is_none());
    for n in &frame.nodes {
        let role = &schema.roles[usize::from(n.role)].name;
        assert_eq!(role, if n.id == 0 { "pinger" } else { "ponger" }, "S{}", n.id + 1);
        assert_eq!(n.status, if n.id == 1 { NodeStatus::Crashed } else { NodeStatus::Up }, "S{}", n.id + 1);
    }
    let s1 = &frame.nodes[0];
    assert_eq!(s1.field(0), Some(12), "twelve rounds by 1.2 s");
    assert_eq!(s1.timer, Some((1_200 * MS, 1_300 * MS)), "the pinger's tick, armed at its last round");
    assert_eq!(frame.nodes[2].timer, None, "pongers have no timer");
    assert!(frame.groups.is_some() && !frame.log.is_empty(), "a full frame has the groups and the log");

    let dots = frame.messages.unpack(frame.time);
    assert!(!dots.is_empty(), "pings are in flight at 1.23 s");
    assert_eq!(dots.len() as u64, frame.messages_total, "fewer than {DRAWN_MESSAGES}: every one is drawn");
    let mut in_flight: Vec<(u32, u32, u8, Time, Time)> = model(&lab)
        .sim()
        .in_flight()
        .map(|m| (m.from, m.to, PingNode::kind_index(m.msg), m.sent_at, m.deliver_at))
        .collect();
    let mut drawn: Vec<(u32, u32, u8, Time, Time)> =
        dots.iter().map(|d| (d.from, d.to, d.kind, d.sent_at, d.deliver_at)).collect();
    in_flight.sort_unstable();
    drawn.sort_unstable();
    assert_eq!(drawn, in_flight, "the frame draws exactly what is on the wire");
    for d in &dots {
        let kind = schema.kinds.get(usize::from(d.kind)).unwrap_or_else(|| panic!("kind {} is not in kinds()", d.kind));
        assert!(d.sent_at <= frame.time && frame.time <= d.deliver_at, "{d:?}");
        match kind.name.as_str() {
            "Ping" => {
                assert_eq!(d.from, 0, "only S1 pings here: {d:?}");
                assert_eq!(d.sent_at % (100 * MS), 0, "pings leave on the tick: {d:?}");
            }
            _ => assert_eq!(d.to, 0, "pongs go back to the pinger: {d:?}"),
        }
    }
    assert!(dots.iter().any(|d| d.kind == 0 && d.sent_at == 1_200 * MS), "the 1.2 s round's pings are drawn: {dots:?}");
}

// The lab-boundary issue ("everything a lab needs to say, it says in its
// schema"): how its nodes look, which fields the table leaves out, its
// strip, its metrics' roles and its node buttons reach the page through
// the schema, and the shared code adds the shared faults' buttons and
// keeps only buttons for verbs the lab accepts.
#[test]
fn the_schema_says_how_to_draw_and_act_on_its_nodes() {
    pingpong();
    let scn = parse("lab pingpong\nseed 5\nnodes 3\nuntil 1s\n");
    let mut lab = Lab::replay(&scn).expect("replays");
    let schema = lab.schema();
    let looks: Vec<RoleLook> = schema.roles.iter().map(|r| r.look).collect();
    assert_eq!(looks, [RoleLook::Filled, RoleLook::Vacant]);
    assert_eq!(schema.role_look(1), RoleLook::Vacant);
    let in_table: Vec<&str> = schema.fields.iter().filter(|f| f.in_table).map(|f| f.name.as_str()).collect();
    assert_eq!(in_table, ["round"], "pongs is for the node panel only");
    assert_eq!(schema.fields[0].short_text(7), "r7");
    assert_eq!(schema.strip.as_ref().map(|s| s.title.as_str()), Some("Pongs per sender"));

    let labels: Vec<&str> = schema.node_actions.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Restart", "Crash", "Resume", "Pause", "Time out", "Client request", "Ping now", "Isolate"],
        "the shared faults, the cluster lab's verbs, the lab's own, and no button for a verb it lacks"
    );
    let action = |label: &str| schema.node_actions.iter().find(|a| a.label == label).expect(label);
    assert!(action("Ping now").offered(NodeStatus::Up, "ponger"));
    assert!(!action("Ping now").offered(NodeStatus::Up, "pinger"), "offered only to pongers");
    assert!(!action("Ping now").usable(NodeStatus::Paused));
    assert!(
        action("Restart").offered(NodeStatus::Crashed, "ponger")
            && !action("Restart").offered(NodeStatus::Up, "ponger")
    );
    assert_eq!(action("Isolate").text("S1", &["S2".into(), "S3".into()]).as_deref(), Some("partition S1 | S2,S3"));
    assert_eq!(action("Isolate").text("S1", &[]), None, "nothing to isolate from");
    for a in &schema.node_actions {
        let text = a.text("S2", &["S1".into(), "S3".into()]).expect("text");
        lab.clone().act(parse_action(scn.lab, &text).expect(&text)).unwrap_or_else(|e| panic!("{text}: {e}"));
    }

    let frame = lab.frame(true);
    assert_eq!(schema.progress(&frame.metrics), frame.metric(&schema, "pongs").expect("pongs"));
    assert_eq!(schema.leader(&frame.metrics), None, "this lab has no leader");
    let s1 = &frame.nodes[0];
    assert_eq!(s1.strip.len(), 3, "one cell per node");
    assert!(s1.strip[1] > 0 && s1.strip[2] > 0, "both pongers answered: {:?}", s1.strip);
}

// DESIGN.md principle 4 ("what the UI records while a user plays is what a
// link replays"), for a plug-in lab: live actions (shared faults and
// cluster verbs, parsed with the lab's handle) are recorded, and replaying
// the recorded scenario lands on the same fingerprint at the same time.
#[test]
fn live_actions_are_recorded_and_replay_identically() {
    let kind = pingpong();
    let mut lab = Lab::new(&parse("lab pingpong\nseed 9\nnodes 5\n")).expect("builds");
    let act = |lab: &mut Lab, text: &str| {
        let action = parse_action(kind, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        lab.act(action).unwrap_or_else(|e| panic!("{text}: {e}"));
    };
    lab.run_until(SEC);
    act(&mut lab, "crash S1");
    lab.run_until(1_700 * MS);
    act(&mut lab, "restart S1");
    act(&mut lab, "timeout S3");
    lab.step();
    act(&mut lab, "partition S1,S2 | S3,S4,S5");
    act(&mut lab, "request S2");
    act(&mut lab, "set loss 30%");
    lab.run_until(2_500 * MS);
    act(&mut lab, "heal");
    lab.run_until(3 * SEC);
    let refused = lab.act(Action::Crash(7));
    assert!(matches!(refused, Err(ScenarioError::Invalid(ref m)) if m.contains("no server S8")), "{refused:?}");

    let recorded = lab.scenario();
    assert_eq!(recorded.lab, kind);
    assert_eq!(recorded.until, 3 * SEC);
    assert_eq!(recorded.actions.len(), 7, "the refused action is not recorded:\n{}", recorded.to_text());
    let text = recorded.to_text();
    assert!(text.contains("at 1s crash S1") && text.contains("timeout S3") && text.contains("set loss 30%"), "{text}");

    let replayed = Lab::replay(&recorded).expect("replays");
    assert_eq!(replayed.now(), lab.now());
    assert_eq!(replayed.fingerprint(), lab.fingerprint(), "scenario:\n{text}");
    let via_text = Lab::replay(&Scenario::parse(&text).expect("the recording parses")).expect("replays");
    assert_eq!(via_text.fingerprint(), lab.fingerprint());
}

// DESIGN.md principle 3 ("checkers are components"): the plug-in's own
// invariant runs after every event under the generic machinery; with the
// deliberate bug on it stops the run and names itself, the time and the
// seed, and the frame carries the violation.
#[test]
fn the_labs_own_checker_stops_a_buggy_run() {
    let scn = parse("lab pingpong\nseed 11\nnodes 3\nbug_extra_pong on\nuntil 2s\n");
    let mut lab = Lab::replay(&scn).expect("replays");
    let text = lab.violation_text().expect("two pongs per ping break the checker");
    assert!(text.starts_with("One Pong per Ping violated at") && text.contains("seed 11"), "{text}");
    let at = lab.violation().map(|v| v.at).unwrap_or_default();
    assert!(at > 200 * MS && at < 300 * MS, "caught in the first round, not later: {text}");
    assert!(lab.now() < 2 * SEC, "the run stopped at the violation");
    assert!(!lab.can_run());
    let frame = lab.frame(false);
    assert_eq!(frame.violation.as_deref(), Some(text.as_str()));

    let clean = Lab::replay(&Scenario { params: Default::default(), ..scn.clone() }).expect("replays");
    assert!(clean.violation().is_none(), "without the bug the checker stays quiet");
}
