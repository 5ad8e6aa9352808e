//! The Ring lab: consistent-hash placement as a lab.
//!
//! It implements the lab interface directly (it has no messages): its
//! "events" are the changes a user makes to the servers (add, remove, fail,
//! recover, weight, virtual nodes, algorithm, epsilon). Each change
//! re-places the keys and reports which moved against the ideal. Time has
//! no meaning in placement, so the lab says so in its schema and the page
//! shows no clock, play or speed for it: changes are applied in order.
//! The fingerprint chains every key's owner after every change, so two
//! runs with the same fingerprint placed every key the same way.

use super::{Algorithm, ChangeReport, HashKind, KeyDistribution, RingChange, RingError, RingModel, RingParams};
use crate::lab::{Engine, Frame, LabDef, LabHead, MetricSpec, Model, Schema, Unit, FULL_LOG_LINES};
use crate::scenario::params::{choice, p, Kind, ParamSpec, PCT};
use crate::scenario::{check_node, parse_node, parse_one_node, parse_u32, split_word, Action, Scenario, ScenarioError};
use crate::sim::{Fingerprint, Time};
use serde::{Deserialize, Serialize};
use std::any::Any;

/// The placement algorithms of the Ring lab, in display order.
pub const ALGORITHMS: &[&str] = &["ring", "ketama", "modulo", "jump", "rendezvous", "maglev", "bounded"];
/// Hash functions of the Ring lab.
pub const HASHES: &[&str] = &["xxh3", "xxh64", "fnv1a", "murmur3", "md5"];
/// Key distributions of the Ring lab.
pub const DISTRIBUTIONS: &[&str] = &["uniform", "zipf", "hot"];

/// Points per server when the user sets none: libketama's 160 for ketama
/// (so placements match what a memcached client computes), 100 otherwise.
pub fn default_vnodes(algorithm: i64) -> i64 {
    if ALGORITHMS.get(algorithm as usize) == Some(&"ketama") {
        160
    } else {
        100
    }
}

/// Parameters of the Ring lab.
pub const PARAMS: &[ParamSpec] = &[
    choice("algorithm", "Algorithm", "how keys are placed on servers", ALGORITHMS, 0, true),
    p("nodes", "Servers", "number of servers at the start", Kind::Count, 1, 10_000, 8, false),
    p(
        "vnodes",
        "Points per server",
        "virtual nodes per server (ring, ketama); auto: libketama's 160 for ketama, 100 otherwise",
        Kind::CountOrAuto,
        0,
        10_000,
        0,
        false,
    ),
    p("replicas", "Replicas", "servers in a key's preference list", Kind::Count, 1, 16, 1, false),
    p("keys", "Keys", "number of keys placed", Kind::Count, 1, 1_000_000, 10_000, false),
    choice("distribution", "Request distribution", "how often each key is requested", DISTRIBUTIONS, 0, false),
    p(
        "zipf_s",
        "Zipf exponent s",
        "skew of Zipf requests: key k is asked for in proportion to 1/k^s",
        Kind::Thousandths,
        1,
        5_000,
        1_100,
        false,
    ),
    p(
        "hot",
        "Hot-key share (%)",
        "share of requests that go to the hottest 1% of keys",
        Kind::Percent,
        0,
        100 * PCT,
        50 * PCT,
        false,
    ),
    choice("hash", "Hash function", "hash for keys and points", HASHES, 0, false),
    p(
        "epsilon",
        "Bounded loads ε (%)",
        "allowed excess over the mean load",
        Kind::Percent,
        0,
        1_000 * PCT,
        25 * PCT,
        true,
    ),
    p(
        "maglev_size",
        "Maglev table size",
        "lookup table size (rounded up to a prime)",
        Kind::Count,
        1,
        10_000_019,
        65_537,
        false,
    ),
];

const VERBS: &[&str] = &["add", "remove", "weight", "vnodes"];

fn check_weight(w: u32) -> Result<(), String> {
    if (1..=10_000).contains(&w) {
        Ok(())
    } else {
        Err(format!("weight {w} is out of range: it must be between 1 and 10000 (100 = normal)"))
    }
}

/// One of the Ring lab's own changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Add(u32),
    Remove(u32),
    Weight(u32, u32),
    Vnodes(u32, u32),
}

impl Verb {
    fn parse(verb: &str, rest: &str) -> Result<Verb, String> {
        let two = |what: &str| -> Result<(u32, u32), String> {
            let (n, v) = split_word(rest);
            Ok((parse_node(n)?, parse_u32(v, what)?))
        };
        Ok(match verb {
            "add" => Verb::Add(match split_word(rest) {
                ("", _) => 100,
                ("weight", w) => parse_u32(w, "a weight")?,
                (other, _) => return Err(format!("expected 'add' or 'add weight N', not 'add {other}'")),
            }),
            "remove" => Verb::Remove(parse_one_node(verb, rest)?),
            "weight" => {
                let (n, w) = two("a weight")?;
                Verb::Weight(n, w)
            }
            "vnodes" => {
                let (n, v) = two("a vnode count")?;
                Verb::Vnodes(n, v)
            }
            other => return Err(format!("'{other}' is not an action of the ring lab")),
        })
    }

    fn text(self) -> String {
        match self {
            Verb::Add(w) => format!("add weight {w}"),
            Verb::Remove(n) => format!("remove S{}", u64::from(n) + 1),
            Verb::Weight(n, w) => format!("weight S{} {w}", u64::from(n) + 1),
            Verb::Vnodes(n, v) => format!("vnodes S{} {v}", u64::from(n) + 1),
        }
    }

    fn check(self, nodes: &mut u32) -> Result<(), String> {
        match self {
            Verb::Add(w) => {
                check_weight(w)?;
                *nodes = nodes.saturating_add(1);
                Ok(())
            }
            Verb::Remove(n) => check_node(n, *nodes),
            Verb::Weight(n, w) => {
                check_node(n, *nodes)?;
                check_weight(w)
            }
            Verb::Vnodes(n, v) => {
                check_node(n, *nodes)?;
                if (1..=10_000).contains(&v) {
                    Ok(())
                } else {
                    Err("vnodes must be between 1 and 10000".into())
                }
            }
        }
    }
}

fn parse_verb(verb: &str, rest: &str) -> Result<String, String> {
    Verb::parse(verb, rest).map(Verb::text)
}

fn check_verb(text: &str, nodes: &mut u32) -> Result<(), String> {
    let (verb, rest) = split_word(text);
    Verb::parse(verb, rest)?.check(nodes)
}

fn build(scn: &Scenario) -> Result<Box<dyn Model>, ScenarioError> {
    Ok(Box::new(RingLab::new(scn)?))
}

/// The Ring lab's handle, for scenarios built in code.
pub fn kind() -> crate::scenario::LabKind {
    crate::scenario::LabKind(&LAB)
}

/// What every program knows of this lab, even one that does not run it
/// (the registry's [`HEADS`](crate::lab::registry::HEADS)).
pub const HEAD: LabHead = LabHead {
    name: "ring",
    title: "Ring",
    about: "Consistent-hash placement: add, fail and remove servers and see which keys move, under seven algorithms.",
    bench: false,
};

/// The Ring lab, as registered.
pub static LAB: LabDef = LabDef {
    name: HEAD.name,
    title: HEAD.title,
    about: HEAD.about,
    params: &[PARAMS],
    shared_verbs: &["crash", "restart", "set"],
    verbs: VERBS,
    parse_verb,
    check_verb,
    nodes: Scenario::nodes_param,
    check: |_| Ok(()),
    bench: None,
    experiments: super::experiments::EXPERIMENTS,
    presets: &[
        ("Eight servers, 10,000 keys", include_str!("../../../../tests/scenarios/ring/default.scn")),
        ("Add a server, then fail one", include_str!("../../../../tests/scenarios/ring/add-node.scn")),
        ("Modulo hashing: almost everything moves", include_str!("../../../../tests/scenarios/ring/modulo.scn")),
        ("Too few virtual nodes", include_str!("../../../../tests/scenarios/ring/virtual-nodes.scn")),
        ("Bounded loads under skewed requests", include_str!("../../../../tests/scenarios/ring/bounded-loads.scn")),
        ("Weighted ketama, as memcached clients do", include_str!("../../../../tests/scenarios/ring/weights.scn")),
    ],
};

/// What runs the lab (see [`Engine`]).
pub static ENGINE: Engine =
    Engine { lab: &LAB, build, speed: Some(super::speed::run), runs: super::experiments::RUNS, also: &[] };

/// Most ring points sent for drawing.
pub const MAX_POINTS: usize = 4096;
/// Most keys sent for drawing.
pub const MAX_KEYS: usize = 1500;

/// A server as the Ring lab shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RingNodeView {
    /// Server number (S1 is 0).
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Weight (100 = normal).
    pub weight: u32,
    /// Virtual nodes.
    pub vnodes: u32,
    /// Failed servers own nothing.
    pub failed: bool,
    /// Keys it owns (first replica).
    pub keys: u64,
    /// Its share of the requests.
    pub requests: f64,
}

/// The ring as drawn: points and keys by position on the circle (0..1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RingFrame {
    /// Algorithm name.
    pub algorithm: String,
    /// Hash function for keys.
    pub hash: String,
    /// Keys placed.
    pub keys_total: u64,
    /// Servers.
    pub nodes: Vec<RingNodeView>,
    /// Ring points (position, server), if the algorithm has a ring.
    pub points: Vec<(f32, u32)>,
    /// Ring points in all.
    pub points_total: u64,
    /// A sample of keys (position, owner).
    pub keys: Vec<(f32, u32)>,
    /// Keys the last change moved (position, from, to), hottest first.
    pub moved: Vec<(f32, u32, u32)>,
    /// The last change in words, with what it moved.
    pub last_change: Option<String>,
    /// Bumped on every change, so the page redraws only then.
    pub version: u64,
}

/// The Ring lab.
#[derive(Clone)]
pub struct RingLab {
    params: RingParams,
    /// Whether the scenario chose the points per server (else switching to
    /// ketama gives libketama's 160).
    vnodes_set: bool,
    model: RingModel,
    now: Time,
    last: Option<ChangeReport>,
    changes: Vec<RingChange>,
    version: u64,
    sent_version: u64,
    fingerprint: Fingerprint,
    log: Vec<String>,
    log_sent: usize,
}

fn ring_error(e: RingError) -> ScenarioError {
    ScenarioError::Invalid(e.to_string())
}

/// The placement parameters a ring scenario describes.
pub fn ring_params(scn: &Scenario) -> RingParams {
    let g = |n: &str| scn.get(n).max(0);
    let distribution = match g("distribution") {
        1 => KeyDistribution::Zipf { s: g("zipf_s") as f64 / 1000.0 },
        2 => KeyDistribution::HotKeys { fraction: g("hot") as f64 / 1e6 },
        _ => KeyDistribution::Uniform,
    };
    let vnodes = match g("vnodes") {
        0 => default_vnodes(g("algorithm")),
        v => v,
    };
    RingParams {
        algorithm: Algorithm::ALL.get(g("algorithm") as usize).copied().unwrap_or(Algorithm::Ring),
        nodes: g("nodes") as u32,
        vnodes: vnodes.max(1) as u32,
        replicas: g("replicas") as u32,
        keys: g("keys") as u32,
        distribution,
        hash: HashKind::ALL.get(g("hash") as usize).copied().unwrap_or(HashKind::Xxh3),
        epsilon: g("epsilon") as f64 / 1e6,
        maglev_size: g("maglev_size") as u64,
        seed: scn.seed,
    }
}

impl RingLab {
    /// The lab a scenario describes, before any change.
    pub fn new(scn: &Scenario) -> Result<RingLab, ScenarioError> {
        let params = ring_params(scn);
        let model = RingModel::new(&params).map_err(ring_error)?;
        let mut lab = RingLab {
            params,
            vnodes_set: scn.get("vnodes") != 0,
            model,
            now: 0,
            last: None,
            changes: Vec::new(),
            version: 1,
            sent_version: 0,
            fingerprint: Fingerprint::default(),
            log: Vec::new(),
            log_sent: 0,
        };
        lab.digest();
        Ok(lab)
    }

    /// The placement model, for tests.
    pub fn model(&self) -> &RingModel {
        &self.model
    }

    fn digest(&mut self) {
        self.fingerprint.u64(self.now);
        for &o in self.model.owners() {
            self.fingerprint.u64(u64::from(o));
        }
    }

    fn change(&mut self, action: &Action) -> Result<(), String> {
        let e = |e: RingError| e.to_string();
        let change = match action {
            Action::Crash(n) => RingChange::FailNode(*n),
            Action::Restart(n) => RingChange::RecoverNode(*n),
            Action::Lab(text) => {
                let (verb, rest) = split_word(text);
                match Verb::parse(verb, rest)? {
                    Verb::Add(w) => RingChange::AddNode { name: None, weight: w },
                    Verb::Remove(n) => RingChange::RemoveNode(n),
                    Verb::Weight(n, w) => RingChange::SetWeight(n, w),
                    Verb::Vnodes(n, v) => RingChange::SetVnodes(n, v),
                }
            }
            Action::Set(name, v) if name == "epsilon" => RingChange::SetEpsilon(*v as f64 / 1e6),
            Action::Set(name, v) if name == "algorithm" => {
                let a = Algorithm::ALL.get(*v as usize).copied().ok_or_else(|| format!("no algorithm number {v}"))?;
                let mut model = self.model.clone();
                model.set_algorithm(a).map_err(e)?;
                if !self.vnodes_set {
                    let (from, to) = (default_vnodes(self.params.algorithm as i64), default_vnodes(*v));
                    if from != to {
                        model.set_default_vnodes(from as u32, to as u32).map_err(e)?;
                    }
                }
                self.model = model;
                self.params.algorithm = a;
                self.last = None;
                self.log.push(format!("algorithm {}", a.name()));
                self.version += 1;
                self.digest();
                return Ok(());
            }
            other => return Err(format!("'{other}' is not an action of the ring lab")),
        };
        let report = self.model.apply(&change).map_err(e)?;
        self.log.push(format!(
            "{}: moved {} keys ({:.2}%, ideal {:.2}%)",
            self.model.describe(&report.change),
            report.moved,
            report.moved_fraction * 100.0,
            report.ideal_fraction * 100.0
        ));
        self.changes.push(change);
        self.last = Some(report);
        self.version += 1;
        self.digest();
        Ok(())
    }

    /// The servers a key goes to (its preference list, owner first), by name.
    pub fn locate(&self, key: &str) -> Vec<String> {
        self.model.locate(key.as_bytes()).into_iter().map(|id| self.model.node_name(id)).collect()
    }

    /// Every algorithm on the same keys and the same changes so far, in
    /// full (the Ring lab's `compare` experiment shows them as a table).
    pub fn compare_rows(&self) -> Result<Vec<crate::ring::CompareRow>, String> {
        let base = RingParams { algorithm: Algorithm::Ring, ..self.params.clone() };
        crate::ring::compare(&base, &self.changes).map_err(|e| e.to_string())
    }

    /// The placement parameters now.
    pub fn params(&self) -> &RingParams {
        &self.params
    }

    /// The changes applied so far, in order.
    pub fn changes(&self) -> &[RingChange] {
        &self.changes
    }

    fn ring_frame(&self) -> RingFrame {
        let scale = |pos: u64, bits: u32| -> f32 {
            if bits >= 64 {
                (pos as f64 / 18_446_744_073_709_551_616.0) as f32
            } else {
                (pos as f64 / (1u64 << bits) as f64) as f32
            }
        };
        let bits = self.model.circle_bits();
        let (points, points_total) = match self.model.ring_view() {
            Some(view) => {
                let total = view.points.len();
                let stride = total.div_ceil(MAX_POINTS).max(1);
                let pts =
                    view.points.iter().step_by(stride).map(|p| (scale(p.position, view.circle_bits), p.node)).collect();
                (pts, total as u64)
            }
            None => (Vec::new(), 0),
        };
        let owners = self.model.owners();
        let stride = owners.len().div_ceil(MAX_KEYS).max(1);
        let keys =
            (0..owners.len()).step_by(stride).map(|i| (scale(self.model.key_position(i), bits), owners[i])).collect();
        let st = self.model.stats();
        let nodes = self
            .model
            .nodes()
            .iter()
            .map(|n| {
                let load = st.nodes.iter().find(|l| l.id == n.id);
                RingNodeView {
                    id: n.id,
                    name: n.name.clone(),
                    weight: n.weight,
                    vnodes: n.vnodes,
                    failed: n.failed,
                    keys: load.map_or(0, |l| l.keys),
                    requests: load.map_or(0.0, |l| l.requests),
                }
            })
            .collect();
        let moved = self
            .last
            .as_ref()
            .map(|r| r.sample.iter().map(|k| (scale(k.position, bits), k.from, k.to)).collect())
            .unwrap_or_default();
        let params = self.model.params();
        RingFrame {
            algorithm: params.algorithm.name().into(),
            hash: params.algorithm.key_hash(params.hash).name().into(),
            keys_total: owners.len() as u64,
            nodes,
            points,
            points_total,
            keys,
            moved,
            last_change: self.last.as_ref().map(|r| {
                format!(
                    "{}: {} keys moved ({:.2}%), ideal {:.2}%",
                    self.model.describe(&r.change),
                    r.moved,
                    r.moved_fraction * 100.0,
                    r.ideal_fraction * 100.0
                )
            }),
            version: self.version,
        }
    }
}

impl Model for RingLab {
    fn now(&self) -> Time {
        self.now
    }

    fn next_event(&self) -> Option<Time> {
        None
    }

    fn run_to(&mut self, t: Time) {
        self.now = self.now.max(t);
    }

    fn apply(&mut self, action: &Action) -> Result<(), String> {
        self.change(action).inspect_err(|e| {
            // A recorded change the model refuses (possible only in a
            // hand-written file) is said in the log.
            self.log.push(format!("refused: {e}"));
        })
    }

    fn fingerprint(&self) -> u64 {
        self.fingerprint.value()
    }

    fn events(&self) -> u64 {
        self.version - 1
    }

    fn schema(&self) -> Schema {
        let m = |name: &str, label: &str, unit: Unit| MetricSpec::new(name, label, unit, false);
        Schema {
            diagram: false,
            lab: String::new(),
            title: String::new(),
            timed: false,
            cluster: false,
            roles: Vec::new(),
            kinds: Vec::new(),
            fields: Vec::new(),
            strip: None,
            metrics: vec![
                m("servers_up", "Servers up", Unit::Count),
                m("servers", "Servers", Unit::Count),
                m("keys_rsd", "Keys: std / mean", Unit::Ratio),
                m("keys_max_mean", "Keys: max / mean", Unit::Ratio),
                m("requests_rsd", "Requests: std / mean", Unit::Ratio),
                m("requests_max_mean", "Requests: max / mean", Unit::Ratio),
                m("overflow", "Keys past capacity (bounded)", Unit::Count),
                m("capacity", "Capacity per server, ⌈(1+ε)·keys/servers⌉", Unit::Count),
                m("moved", "Moved on the last change", Unit::Fraction),
                m("moved_keys", "Keys moved on the last change", Unit::Count),
                m("ideal", "Ideal for that change", Unit::Fraction),
                m("moved_over_ideal", "Moved / ideal", Unit::Times),
            ],
            nodes: self.params.nodes,
            verbs: Vec::new(),
            notes: Vec::new(),
            node_actions: Vec::new(),
        }
    }

    fn metrics(&mut self) -> Vec<f64> {
        let st = self.model.stats();
        let params = self.model.params();
        let capacity = if params.algorithm == Algorithm::Bounded && st.live_nodes > 0 {
            ((1.0 + params.epsilon) * self.model.owners().len() as f64 / f64::from(st.live_nodes)).ceil()
        } else {
            f64::NAN
        };
        let last = |f: fn(&ChangeReport) -> f64| self.last.as_ref().map_or(f64::NAN, f);
        vec![
            f64::from(st.live_nodes),
            self.model.nodes().len() as f64,
            st.keys.rel_std,
            st.keys.max_over_mean,
            st.requests.rel_std,
            st.requests.max_over_mean,
            st.overflowed as f64,
            capacity,
            last(|r| r.moved_fraction),
            last(|r| r.moved as f64),
            last(|r| r.ideal_fraction),
            last(|r| r.moved_over_ideal().filter(|_| r.ideal_fraction > 0.0).unwrap_or(f64::NAN)),
        ]
    }

    fn draw(&mut self, frame: &mut Frame, full: bool) {
        if full || self.version != self.sent_version {
            frame.view = bincode::serialize(&self.ring_frame()).ok();
        }
        self.sent_version = self.version;
        frame.node_count = self.model.nodes().len() as u32;
        let from = if full { self.log.len().saturating_sub(FULL_LOG_LINES) } else { self.log_sent };
        frame.log = self.log[from.min(self.log.len())..].to_vec();
        self.log_sent = self.log.len();
    }

    fn trace_lines(&self) -> Vec<String> {
        self.log.clone()
    }

    fn query(&self, _: &Scenario, question: &str) -> Result<Vec<u8>, String> {
        let (verb, rest) = split_word(question);
        match verb {
            "locate" => bincode::serialize(&self.locate(rest)).map_err(|e| e.to_string()),
            other => Err(format!("the ring lab does not answer '{other}' (it answers locate KEY)")),
        }
    }

    fn clone_box(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
