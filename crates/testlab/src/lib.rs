//! A lab for tests only, defined outside every shared file, that the shared
//! page must draw from its schema alone: its own roles drawn three ways
//! (filled, faded, an empty dashed slot), a field left out of the node
//! table, a per-node strip with a compacted block before it, a leader and a
//! progress metric, and node buttons of its own verbs offered by role.
//!
//! Where the expectation comes from: the lab-boundary issue ("a test-only
//! lab with spare nodes and a strip of its own is drawn correctly without
//! touching shared code") and STYLE.md ("Shared code names no lab"). The
//! browser test `tests/e2e/testlab.test.mjs` opens a build of the site
//! whose worker registers it ([`register`]); the site users get never
//! does.
//!
//! The model: `nodes` lanterns in a row. A lantern is lit, dark (a slot no
//! working lantern holds: drawn as an empty dashed circle) or retired
//! (faded). `light S2` lights a dark one, `retire S2` retires a lit one.
//! Each lit lantern counts the times it was lit; its strip shows its last
//! brightness levels, the older ones folded into one block.
//!
//! Its client history (for the history view's browser test): each lantern
//! is a client of one register, action by action a second apart. Lighting
//! `Sn` writes n; retiring `Sn` reads n back (a stale read if another was
//! lit since, so the history is then not linearizable); crashing `Sn`
//! leaves a write of n that never returns.

use clusterscope_core::history::{ClientHistory, Entry, ModelKind, Op, Value};
use clusterscope_core::lab::{
    registry, Engine, FieldSpec, Frame, LabDef, MetricRole, MetricSpec, Model, NodeAction, NodeStatus, NodeView,
    RoleLook, RoleStyle, Schema, StripBase, StripSpec, Unit, FULL_LOG_LINES,
};
use clusterscope_core::scenario::params::{p, Kind, ParamSpec};
use clusterscope_core::scenario::{check_node, parse_one_node, split_word, Action, Scenario, ScenarioError};
use clusterscope_core::sim::{Fingerprint, Time};
use std::any::Any;

const PARAMS: &[ParamSpec] = &[p("nodes", "Lanterns", "number of lanterns", Kind::Count, 2, 12, 4, false)];
const VERBS: &[&str] = &["light", "retire"];
const ROLES: [&str; 3] = ["lit", "dark", "retired"];

fn parse_verb(verb: &str, rest: &str) -> Result<String, String> {
    match verb {
        "light" | "retire" => Ok(format!("{verb} S{}", u64::from(parse_one_node(verb, rest)?) + 1)),
        other => Err(format!("'{other}' is not an action of the lanterns lab")),
    }
}

fn check_verb(text: &str, nodes: &mut u32) -> Result<(), String> {
    let (verb, rest) = split_word(text);
    check_node(parse_one_node(verb, rest)?, *nodes)
}

/// A lantern's state: its role (index into [`ROLES`]), whether it runs,
/// and how often it was lit.
#[derive(Clone, Copy)]
struct Lantern {
    role: u8,
    up: bool,
    lit: u32,
}

/// The lab's running model. Nothing happens by itself: every change is an
/// action, so the model has no events.
#[derive(Clone)]
pub struct Lanterns {
    lanterns: Vec<Lantern>,
    changes: u64,
    fingerprint: Fingerprint,
    log: Vec<String>,
    log_sent: usize,
    history: Vec<Entry>,
}

impl Lanterns {
    fn new(scn: &Scenario) -> Lanterns {
        let n = scn.get("nodes").max(1) as usize;
        // The first lantern is lit, the last retired, the others dark.
        let lanterns = (0..n)
            .map(|i| Lantern {
                role: if i == 0 {
                    0
                } else if i + 1 == n {
                    2
                } else {
                    1
                },
                up: true,
                lit: u32::from(i == 0),
            })
            .collect();
        Lanterns {
            lanterns,
            changes: 0,
            fingerprint: Fingerprint::default(),
            log: Vec::new(),
            log_sent: 0,
            history: Vec::new(),
        }
    }

    fn lantern(&mut self, n: u32) -> Result<&mut Lantern, String> {
        self.lanterns.get_mut(n as usize).ok_or_else(|| format!("there is no S{}", n + 1))
    }

    fn own(&mut self, text: &str) -> Result<(), String> {
        let (verb, rest) = split_word(text);
        let l = self.lantern(parse_one_node(verb, rest)?)?;
        match (verb, l.role) {
            ("light", 1) if l.up => (l.role, l.lit) = (0, l.lit + 1),
            ("retire", 0) => l.role = 2,
            _ => return Err(format!("'{text}' does not apply to a {} lantern", ROLES[usize::from(l.role)])),
        }
        Ok(())
    }
}

impl Lanterns {
    /// The client operation an action is (see the module's doc): the
    /// `changes`-th, called at that many seconds, returning 0.6 s later.
    fn record(&mut self, action: &Action) {
        let (n, op, returns) = match action {
            Action::Crash(n) => (*n, Op::Write { value: Value::Int(i64::from(*n) + 1) }, false),
            Action::Lab(text) => {
                let (verb, rest) = split_word(text);
                let Ok(n) = parse_one_node(verb, rest) else { return };
                let value = Value::Int(i64::from(n) + 1);
                let op = if verb == "light" { Op::Write { value } } else { Op::Read { value: Some(value) } };
                (n, op, true)
            }
            _ => return,
        };
        let call = self.changes * clusterscope_core::sim::SEC;
        let ret = returns.then_some(call + 600 * clusterscope_core::sim::MS);
        self.history.push(Entry { client: u64::from(n) + 1, key: Value::Nil, call, ret, op });
    }
}

fn build(scn: &Scenario) -> Result<Box<dyn Model>, ScenarioError> {
    Ok(Box::new(Lanterns::new(scn)))
}

impl Model for Lanterns {
    fn now(&self) -> Time {
        0
    }
    fn next_event(&self) -> Option<Time> {
        None
    }
    fn run_to(&mut self, _: Time) {}
    fn apply(&mut self, action: &Action) -> Result<(), String> {
        match action {
            Action::Crash(n) => self.lantern(*n)?.up = false,
            Action::Restart(n) => self.lantern(*n)?.up = true,
            Action::Lab(text) => self.own(text)?,
            other => return Err(format!("'{other}' is not an action of the lanterns lab")),
        }
        self.record(action);
        self.changes += 1;
        self.log.push(action.to_string());
        self.fingerprint.str(&action.to_string());
        Ok(())
    }
    fn fingerprint(&self) -> u64 {
        self.fingerprint.value()
    }
    fn events(&self) -> u64 {
        self.changes
    }
    fn schema(&self) -> Schema {
        let up = [NodeStatus::Up];
        Schema {
            lab: String::new(),
            title: String::new(),
            verbs: Vec::new(),
            timed: false,
            cluster: true,
            roles: vec![
                RoleStyle::new(ROLES[0], "#e0a21b"),
                RoleStyle::new(ROLES[1], "#4a78c2").with_look(RoleLook::Vacant),
                RoleStyle::new(ROLES[2], "#8a8f98").with_look(RoleLook::Faded),
            ],
            kinds: Vec::new(),
            fields: vec![
                FieldSpec::new("lit", "Times lit", Unit::Count).with_short("x"),
                FieldSpec::new("secret", "Panel-only field", Unit::Count).off_table(),
                FieldSpec::new("folded", "Folded levels", Unit::Count).off_table(),
                FieldSpec::new("folded_last", "Last folded level", Unit::Count).off_table(),
            ],
            strip: Some(StripSpec {
                title: "Brightness (last levels)".into(),
                value: "level".into(),
                mark: "settled".into(),
                base: Some(StripBase {
                    name: "folded".into(),
                    index_field: "folded".into(),
                    value_field: "folded_last".into(),
                    short: "L".into(),
                }),
            }),
            metrics: vec![
                MetricSpec::new("first_lit", "First lit lantern", Unit::Node, false).with_role(MetricRole::Leader),
                MetricSpec::new("lightings", "Lightings", Unit::Count, false).with_role(MetricRole::Progress),
            ],
            nodes: self.lanterns.len() as u32,
            diagram: false,
            notes: Vec::new(),
            node_actions: vec![
                NodeAction::new("Light it", "light {node}").named("Light").roles(&["dark"]).enabled(&up),
                NodeAction::new("Retire it", "retire {node}").named("Retire").roles(&["lit"]),
            ],
        }
    }
    fn metrics(&mut self) -> Vec<f64> {
        let first = self.lanterns.iter().position(|l| l.role == 0 && l.up).map_or(0.0, |i| i as f64 + 1.0);
        vec![first, self.lanterns.iter().map(|l| f64::from(l.lit)).sum()]
    }
    fn draw(&mut self, frame: &mut Frame, full: bool) {
        frame.node_count = self.lanterns.len() as u32;
        frame.nodes = self
            .lanterns
            .iter()
            .enumerate()
            .map(|(i, l)| NodeView {
                id: i as u32,
                status: if l.up { NodeStatus::Up } else { NodeStatus::Crashed },
                role: l.role,
                fields: vec![i64::from(l.lit), 7, 3, 2],
                // Levels 4..=6 after a block folding levels 1..=3; the first
                // two settled.
                strip: vec![1, 2, 3],
                strip_first: 4,
                strip_mark: 5,
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
    fn client_history(&self) -> Option<ClientHistory> {
        Some(ClientHistory { model: ModelKind::Register, initial: Value::Int(1), entries: self.history.clone() })
    }
    fn clone_box(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The lab's static description.
pub static LAB: LabDef = LabDef {
    name: "lanterns",
    title: "Lanterns (test)",
    about: "A lab for tests only: the shared page draws its roles, strip and buttons from its schema.",
    params: &[PARAMS],
    shared_verbs: &["crash", "restart"],
    verbs: VERBS,
    parse_verb,
    check_verb,
    check: |_| Ok(()),
    nodes: Scenario::nodes_param,
    presets: &[("Four lanterns", "# One lit, two dark, one retired.\nlab lanterns\nseed 1\nnodes 4\n")],
    bench: None,
    experiments: &[],
};

/// What runs the lab.
pub static ENGINE: Engine = Engine { lab: &LAB, build, speed: None, runs: &[], also: &[] };

/// Registers the lab and its engine (once; a second call is refused by the
/// registry).
pub fn register() -> Result<(), String> {
    registry::register_engine(&ENGINE)
}

/// Registers the lab's description alone: a test build's worker for
/// another lab lists it and reads its links without running it.
pub fn register_description() -> Result<(), String> {
    registry::register(&LAB)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clusterscope_core::lab::registry::parse_action;
    use clusterscope_core::lab::Lab;

    // The schema carries the looks, the strip and the buttons; the shared
    // code adds the shared faults' buttons; actions refuse what does not
    // apply (the lab-boundary issue).
    #[test]
    fn the_lab_runs_and_its_schema_says_how_to_draw_it() {
        let _ = register();
        let scn = Scenario::parse("lab lanterns\nseed 1\nnodes 4\n").expect("parses");
        let mut lab = Lab::replay(&scn).expect("builds");
        let schema = lab.schema();
        let labels: Vec<&str> = schema.node_actions.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["Restart", "Crash", "Light it", "Retire it"]);
        let kind = scn.lab;
        lab.act(parse_action(kind, "light S2").unwrap()).expect("S2 is dark");
        assert!(lab.act(parse_action(kind, "light S2").unwrap()).is_err(), "S2 is lit now");
        assert_eq!(schema.progress(&lab.frame(true).metrics), 2.0, "lit twice in all");
    }

    // The client history the browser test of the history view reads: a
    // lantern retired reads back its own number, stale once another was lit
    // since (S1 reads 1 after S3 wrote 3) (a register read must return the last write before it,
    // Herlihy & Wing 1990).
    #[test]
    fn lighting_and_retiring_make_a_register_history() {
        use clusterscope_core::history::{check, Budget, Verdict};
        let _ = register();
        let scn = Scenario::parse("lab lanterns\nseed 1\nnodes 4\n").expect("parses");
        let mut lab = Lab::replay(&scn).expect("builds");
        for a in ["light S2", "retire S2", "crash S4"] {
            lab.act(parse_action(scn.lab, a).unwrap()).expect(a);
        }
        let h = lab.client_history().expect("the lab has clients");
        assert_eq!(h.entries.len(), 3);
        assert_eq!(h.entries[2].ret, None, "a crashed lantern's write never returns");
        let v = check(h.model, &h.initial, &h.entries, &Budget::default()).unwrap();
        assert!(matches!(v, Verdict::Linearizable { .. }), "{v:?}");
        for a in ["light S3", "retire S1"] {
            lab.act(parse_action(scn.lab, a).unwrap()).expect(a);
        }
        let h = lab.client_history().unwrap();
        match check(h.model, &h.initial, &h.entries, &Budget::default()).unwrap() {
            Verdict::NotLinearizable { ops, .. } => assert_eq!(ops, [3, 4], "S1 reads 1 after 3 was written"),
            v => panic!("expected not linearizable: {v:?}"),
        }
    }
}
