//! The Ring lab: consistent-hash placement as a scenario.
//!
//! Its "events" are the changes a user makes to the servers (add, remove,
//! fail, recover, weight, virtual nodes, algorithm, epsilon), applied at
//! their virtual times like any scenario action. Each change re-places the
//! keys and reports which moved against the ideal. The fingerprint chains
//! every key's owner after every change, so two runs with the same
//! fingerprint placed every key the same way.

use super::{Frame, Metric};
use crate::ring::{
    Algorithm, ChangeReport, HashKind, KeyDistribution, RingChange, RingError, RingModel, RingParams,
};
use crate::scenario::{params, Action, Scenario, ScenarioError, Timed};
use crate::sim::{Fingerprint, Time};
use serde::{Deserialize, Serialize};

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
    pub(super) scn: Scenario,
    model: RingModel,
    now: Time,
    next_action: usize,
    last: Option<ChangeReport>,
    changes: Vec<RingChange>,
    version: u64,
    sent_version: u64,
    fingerprint: Fingerprint,
    errors: Vec<String>,
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
    RingParams {
        algorithm: Algorithm::ALL.get(g("algorithm") as usize).copied().unwrap_or(Algorithm::Ring),
        nodes: g("nodes") as u32,
        vnodes: g("vnodes") as u32,
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
    pub(super) fn new(scn: &Scenario) -> Result<RingLab, ScenarioError> {
        let model = RingModel::new(&ring_params(scn)).map_err(ring_error)?;
        let mut lab = RingLab {
            scn: Scenario { until: 0, ..scn.clone() },
            model,
            now: 0,
            next_action: 0,
            last: None,
            changes: Vec::new(),
            version: 1,
            sent_version: 0,
            fingerprint: Fingerprint::default(),
            errors: Vec::new(),
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

    pub(super) fn now(&self) -> Time {
        self.now
    }

    pub(super) fn fingerprint(&self) -> u64 {
        self.fingerprint.value()
    }

    pub(super) fn events(&self) -> u64 {
        self.version - 1
    }

    pub(super) fn next_action_index(&self) -> usize {
        self.next_action
    }

    pub(super) fn set_actions(&mut self, actions: Vec<Timed>) {
        self.scn.actions = actions;
    }

    fn digest(&mut self) {
        self.fingerprint.u64(self.now);
        for &o in self.model.owners() {
            self.fingerprint.u64(u64::from(o));
        }
    }

    pub(super) fn run_until(&mut self, t: Time) {
        while let Some(timed) = self.scn.actions.get(self.next_action).filter(|a| a.at <= t).cloned() {
            self.now = timed.at;
            self.next_action += 1;
            if let Err(e) = self.apply(&timed.action) {
                // A recorded change the model refuses (possible only in a
                // hand-written file): say so in the log and go on.
                let line = format!("{} refused: {e}", crate::sim::time::format_clock(self.now));
                self.errors.push(line.clone());
                self.log.push(line);
            }
        }
        self.now = self.now.max(t);
    }

    pub(super) fn step(&mut self) -> bool {
        let target = self.scn.actions.get(self.next_action).map_or(self.now + crate::sim::SEC, |a| a.at);
        self.run_until(target);
        true
    }

    pub(super) fn act(&mut self, action: Action) -> Result<(), ScenarioError> {
        let now = self.now;
        self.run_until(now);
        let mut trial = self.scn.clone();
        trial.actions.truncate(self.next_action);
        trial.actions.push(Timed { at: now, action: action.clone() });
        trial.validate()?;
        self.apply(&action)?;
        self.scn = trial;
        self.next_action = self.scn.actions.len();
        Ok(())
    }

    fn apply(&mut self, action: &Action) -> Result<(), ScenarioError> {
        let change = match action {
            Action::AddNode(w) => RingChange::AddNode { name: None, weight: *w },
            Action::RemoveNode(n) => RingChange::RemoveNode(*n),
            Action::Crash(n) => RingChange::FailNode(*n),
            Action::Restart(n) => RingChange::RecoverNode(*n),
            Action::Weight(n, w) => RingChange::SetWeight(*n, *w),
            Action::Vnodes(n, v) => RingChange::SetVnodes(*n, *v),
            Action::Set(name, v) if name == "epsilon" => RingChange::SetEpsilon(*v as f64 / 1e6),
            Action::Set(name, v) if name == "algorithm" => {
                let a = Algorithm::ALL
                    .get(*v as usize)
                    .copied()
                    .ok_or_else(|| ScenarioError::Invalid(format!("no algorithm number {v}")))?;
                self.model.set_algorithm(a).map_err(ring_error)?;
                self.last = None;
                self.log.push(format!("{} algorithm {}", crate::sim::time::format_clock(self.now), a.name()));
                self.version += 1;
                self.digest();
                return Ok(());
            }
            other => {
                return Err(ScenarioError::Invalid(format!("'{other}' is not an action of the ring lab")));
            }
        };
        let report = self.model.apply(&change).map_err(ring_error)?;
        self.log.push(format!(
            "{} {}: moved {} keys ({:.2}%, ideal {:.2}%)",
            crate::sim::time::format_clock(self.now),
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

    /// Every algorithm on the same keys and the same changes so far.
    pub fn compare(&self) -> Result<Vec<crate::ring::CompareRow>, ScenarioError> {
        crate::ring::compare(&ring_params(&self.scn), &self.changes).map_err(ring_error)
    }

    fn metrics(&self) -> Vec<Metric> {
        let st = self.model.stats();
        let m = |name: &str, label: &str, value: f64, text: String| Metric { name: name.into(), label: label.into(), value, text };
        let mut out = vec![
            m("servers_up", "Servers up", f64::from(st.live_nodes), format!("{} of {}", st.live_nodes, self.model.nodes().len())),
            m("keys_rsd", "Keys: std / mean", st.keys.rel_std, format!("{:.4}", st.keys.rel_std)),
            m("keys_max_mean", "Keys: max / mean", st.keys.max_over_mean, format!("{:.3}", st.keys.max_over_mean)),
            m("requests_rsd", "Requests: std / mean", st.requests.rel_std, format!("{:.4}", st.requests.rel_std)),
            m("requests_max_mean", "Requests: max / mean", st.requests.max_over_mean, format!("{:.3}", st.requests.max_over_mean)),
            m("overflow", "Keys past capacity (bounded)", st.overflowed as f64, st.overflowed.to_string()),
        ];
        let params = self.model.params();
        if params.algorithm == Algorithm::Bounded && st.live_nodes > 0 {
            let cap = ((1.0 + params.epsilon) * self.model.owners().len() as f64 / f64::from(st.live_nodes)).ceil();
            out.push(m("capacity", "Capacity per server, ⌈(1+ε)·keys/servers⌉", cap, format!("{cap:.0} keys")));
        }
        if let Some(r) = &self.last {
            out.push(m("moved", "Moved on the last change", r.moved_fraction, format!("{} keys ({:.2}%)", r.moved, r.moved_fraction * 100.0)));
            out.push(m("ideal", "Ideal for that change", r.ideal_fraction, format!("{:.2}%", r.ideal_fraction * 100.0)));
            if let Some(x) = r.moved_over_ideal().filter(|_| r.ideal_fraction > 0.0) {
                out.push(m("moved_over_ideal", "Moved / ideal", x, format!("{x:.2}×")));
            }
        }
        out
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
                let pts = view.points.iter().step_by(stride).map(|p| (scale(p.position, view.circle_bits), p.node)).collect();
                (pts, total as u64)
            }
            None => (Vec::new(), 0),
        };
        let owners = self.model.owners();
        let stride = owners.len().div_ceil(MAX_KEYS).max(1);
        let keys = (0..owners.len()).step_by(stride).map(|i| (scale(self.model.key_position(i), bits), owners[i])).collect();
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

    pub(super) fn frame(&mut self, all: bool) -> Frame {
        let ring = (all || self.version != self.sent_version).then(|| self.ring_frame());
        self.sent_version = self.version;
        let from = if all { self.log.len().saturating_sub(super::FRAME_LOG_LINES) } else { self.log_sent };
        let log = self.log[from.min(self.log.len())..].to_vec();
        self.log_sent = self.log.len();
        Frame {
            lab: "ring".into(),
            time: self.now,
            events: self.events(),
            fingerprint: format!("{:016x}", self.fingerprint()),
            nodes: Vec::new(),
            messages: Vec::new(),
            messages_total: 0,
            groups: Vec::new(),
            log,
            metrics: self.metrics(),
            violation: None,
            can_run: true,
            ring,
        }
    }

    pub(super) fn trace_lines(&self) -> Vec<String> {
        self.log.clone()
    }
}

/// The algorithms offered, as the scenario format names them (for menus).
pub fn algorithm_names() -> &'static [&'static str] {
    params::RING_ALGORITHMS
}
