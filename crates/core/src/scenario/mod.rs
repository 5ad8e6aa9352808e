//! The one scenario model.
//!
//! A scenario is a lab, its parameters, a seed, a list of timed actions and
//! the virtual time it is looked at. It is what the UI records while a user
//! plays, what a share link encodes ([`link`]), what a `.scn` file holds
//! ([`Scenario::parse`], [`Scenario::to_text`]), what the CLI runs and what
//! tests are written in. Replaying it gives the same run, event for event.
//!
//! The text format, one statement a line, `#` starts a comment:
//!
//! ```text
//! # A leader crashes; the others elect a new one.
//! lab raft
//! seed 42
//! nodes 5
//! loss 1%
//! at 1s crash S1
//! at 1.5s partition S2,S3 | S4,S5
//! at 3s heal
//! at 3s set loss 0%
//! until 5s
//! expect elections >= 2
//! ```
//!
//! Nodes are written `S1`, `S2`, ... (or just `1`, `2`); parameters take
//! their units (`150ms`, `1.5%`, `on`). `expect` lines are checks the CLI
//! and tests run against the lab's metrics at the end.

pub mod link;
pub mod params;

use crate::sim::time::{format_duration, parse_duration, Time};
use params::ParamSpec;
use std::collections::BTreeMap;
use std::fmt;

/// Which lab a scenario belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LabKind {
    /// Raft elections and replication.
    Raft,
    /// Consistent-hash placement.
    Ring,
}

impl LabKind {
    /// Every lab, in menu order.
    pub const ALL: [LabKind; 2] = [LabKind::Raft, LabKind::Ring];

    /// The name used in files and links.
    pub fn name(self) -> &'static str {
        match self {
            LabKind::Raft => "raft",
            LabKind::Ring => "ring",
        }
    }

    /// Parses a lab name.
    pub fn from_name(s: &str) -> Option<LabKind> {
        LabKind::ALL.into_iter().find(|l| l.name() == s)
    }

    /// The parameters of this lab, in display order.
    pub fn params(self) -> Vec<ParamSpec> {
        match self {
            LabKind::Raft => params::RAFT.iter().chain(params::NETWORK).copied().collect(),
            LabKind::Ring => params::RING.to_vec(),
        }
    }

    /// Looks up one parameter.
    pub fn param(self, name: &str) -> Option<ParamSpec> {
        self.params().into_iter().find(|p| p.name == name)
    }
}

/// A node number as the simulator counts (from 0). Written `S{n+1}`.
pub type NodeId = u32;

/// Something a user does to the running lab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Crash a node (cluster labs) or fail a server (ring).
    Crash(NodeId),
    /// Restart a crashed node.
    Restart(NodeId),
    /// Freeze a node.
    Pause(NodeId),
    /// Unfreeze a node.
    Resume(NodeId),
    /// Force a node's election timeout now.
    Timeout(NodeId),
    /// A client request sent to a node.
    Request(NodeId),
    /// Split the cluster into groups.
    Partition(Vec<Vec<NodeId>>),
    /// Cut messages from one node to another.
    Block(NodeId, NodeId),
    /// Restore all links.
    Heal,
    /// Change a live parameter.
    Set(String, i64),
    /// Ring: add a server with a weight (100 = normal).
    AddNode(u32),
    /// Ring: remove a server for good.
    RemoveNode(NodeId),
    /// Ring: change a server's weight.
    Weight(NodeId, u32),
    /// Ring: change a server's number of virtual nodes.
    Vnodes(NodeId, u32),
}

/// An action and when it happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timed {
    /// Virtual time.
    pub at: Time,
    /// What happens.
    pub action: Action,
}

/// Comparison in an `expect` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    const ALL: [(Cmp, &'static str); 6] =
        [(Cmp::Eq, "=="), (Cmp::Ne, "!="), (Cmp::Le, "<="), (Cmp::Ge, ">="), (Cmp::Lt, "<"), (Cmp::Gt, ">")];

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        Cmp::ALL.iter().find(|(c, _)| *c == self).map_or("==", |(_, s)| s)
    }

    /// Whether `a <op> b` holds.
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// A check on a metric at the end of a run: `expect elections >= 2`, or
/// between two metrics: `expect elections > leaders_elected`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    /// Metric name.
    pub metric: String,
    /// Comparison.
    pub cmp: Cmp,
    /// Value to compare with (durations are written with units and compared
    /// in microseconds).
    pub value: f64,
    /// Compare with this other metric instead of `value`.
    pub other: Option<String>,
    /// The value as written, for messages.
    pub written: String,
}

/// A complete, replayable run.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Which lab.
    pub lab: LabKind,
    /// The seed of every random stream.
    pub seed: u64,
    /// Parameters that differ from the lab's defaults.
    pub params: BTreeMap<String, i64>,
    /// Timed actions, in time order.
    pub actions: Vec<Timed>,
    /// The virtual time the scenario is looked at (and run to by the CLI).
    pub until: Time,
    /// Checks for the end of the run.
    pub expects: Vec<Expect>,
    /// The opening comment (what the scenario shows).
    pub title: String,
}

/// Why a scenario could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// A line of the text format is wrong.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The scenario as a whole is wrong (for example, a missing `lab`).
    #[error("{0}")]
    Invalid(String),
    /// A share link could not be decoded.
    #[error("this link is damaged or incomplete: {0}")]
    Link(String),
    /// A share link from a version of ClusterScope this one does not know.
    #[error("this link was made by a different version of ClusterScope ({0}); this version reads v1 links")]
    Version(String),
}

/// Longest scenario text accepted (links and files), in bytes.
pub const MAX_TEXT: usize = 256 * 1024;
/// Most actions in one scenario.
pub const MAX_ACTIONS: usize = 20_000;
/// Latest time a scenario may mention: 30 days of virtual time.
pub const MAX_TIME: Time = 30 * 24 * 3600 * 1_000_000;

impl Scenario {
    /// A scenario with every parameter at its default.
    pub fn new(lab: LabKind, seed: u64) -> Scenario {
        Scenario {
            lab,
            seed,
            params: BTreeMap::new(),
            actions: Vec::new(),
            until: 0,
            expects: Vec::new(),
            title: String::new(),
        }
    }

    /// The value of a parameter (its default if unset). Unknown names give 0.
    pub fn get(&self, name: &str) -> i64 {
        self.params.get(name).copied().or_else(|| self.lab.param(name).map(|p| p.default)).unwrap_or(0)
    }

    /// Sets a parameter after checking its name and range. Setting the
    /// default removes it from the list, so equal scenarios compare equal.
    pub fn set(&mut self, name: &str, value: i64) -> Result<(), String> {
        let spec = self.lab.param(name).ok_or_else(|| unknown_param(self.lab, name))?;
        spec.check(value)?;
        if value == spec.default {
            self.params.remove(name);
        } else {
            self.params.insert(name.to_string(), value);
        }
        Ok(())
    }

    /// Number of nodes the scenario starts with.
    pub fn nodes(&self) -> u32 {
        self.get("nodes").clamp(0, i64::from(u32::MAX)) as u32
    }

    /// Checks what a single line cannot: node numbers within the cluster,
    /// parameter pairs in order, actions in time order and valid for the lab.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad = |m: String| Err(ScenarioError::Invalid(m));
        for (name, v) in &self.params {
            let spec = self.lab.param(name).ok_or_else(|| ScenarioError::Invalid(unknown_param(self.lab, name)))?;
            spec.check(*v).map_err(ScenarioError::Invalid)?;
        }
        if self.lab == LabKind::Raft {
            if self.get("election_timeout_min") > self.get("election_timeout_max") {
                return bad("election_timeout_min must not be larger than election_timeout_max".into());
            }
            if self.get("latency_min") > self.get("latency_max") {
                return bad("latency_min must not be larger than latency_max".into());
            }
        }
        if self.actions.len() > MAX_ACTIONS {
            return bad(format!("too many actions ({}); at most {MAX_ACTIONS}", self.actions.len()));
        }
        let mut nodes = i64::from(self.nodes());
        let mut last = 0;
        for t in &self.actions {
            if t.at < last {
                return bad(format!("actions must be in time order: {} comes after {}", format_duration(t.at), format_duration(last)));
            }
            last = t.at;
            let when = format_duration(t.at);
            let check_node = |n: NodeId, nodes: i64| {
                if i64::from(n) >= nodes {
                    Err(ScenarioError::Invalid(format!("at {when}: there is no server S{} (the cluster has {nodes})", n + 1)))
                } else {
                    Ok(())
                }
            };
            match (&t.action, self.lab) {
                (Action::Crash(n) | Action::Restart(n), _) => check_node(*n, nodes)?,
                (Action::Pause(n) | Action::Resume(n) | Action::Timeout(n) | Action::Request(n), LabKind::Raft) => {
                    check_node(*n, nodes)?
                }
                (Action::Block(a, b), LabKind::Raft) => {
                    check_node(*a, nodes)?;
                    check_node(*b, nodes)?;
                }
                (Action::Partition(groups), LabKind::Raft) => {
                    let mut seen = std::collections::BTreeSet::new();
                    for &n in groups.iter().flatten() {
                        check_node(n, nodes)?;
                        if !seen.insert(n) {
                            return bad(format!("at {when}: S{} is in two groups of the partition", n + 1));
                        }
                    }
                }
                (Action::Heal, LabKind::Raft) => {}
                (Action::Set(name, v), lab) => {
                    let spec = lab
                        .param(name)
                        .ok_or_else(|| ScenarioError::Invalid(format!("at {when}: {}", unknown_param(lab, name))))?;
                    if !spec.live {
                        return bad(format!("at {when}: {name} can only be set at the start, not during a run"));
                    }
                    spec.check(*v).map_err(|m| ScenarioError::Invalid(format!("at {when}: {m}")))?;
                }
                (Action::AddNode(w), LabKind::Ring) => {
                    check_weight(*w).map_err(|m| ScenarioError::Invalid(format!("at {when}: {m}")))?;
                    nodes += 1;
                }
                (Action::RemoveNode(n), LabKind::Ring) => check_node(*n, nodes)?,
                (Action::Weight(n, w), LabKind::Ring) => {
                    check_node(*n, nodes)?;
                    check_weight(*w).map_err(|m| ScenarioError::Invalid(format!("at {when}: {m}")))?;
                }
                (Action::Vnodes(n, v), LabKind::Ring) => {
                    check_node(*n, nodes)?;
                    if !(1..=10_000).contains(v) {
                        return bad(format!("at {when}: vnodes must be between 1 and 10000"));
                    }
                }
                (a, lab) => {
                    return bad(format!("at {when}: '{}' is not an action of the {} lab", action_text(a), lab.name()));
                }
            }
        }
        Ok(())
    }

    /// Reads the text format. Errors name the line.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        if text.len() > MAX_TEXT {
            return Err(ScenarioError::Invalid(format!("the scenario is too long ({} bytes; at most {MAX_TEXT})", text.len())));
        }
        let mut lab: Option<LabKind> = None;
        let mut scn = Scenario::new(LabKind::Raft, 1);
        let mut title = Vec::new();
        let mut in_title = true;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let err = |message: String| ScenarioError::Line { line: line_no, message };
            let trimmed = raw.trim();
            if let Some(c) = trimmed.strip_prefix('#') {
                if in_title {
                    title.push(c.trim().to_string());
                }
                continue;
            }
            let line = trimmed.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                if !title.is_empty() {
                    in_title = false;
                }
                continue;
            }
            in_title = false;
            let (word, rest) = split_word(line);
            match word {
                "lab" => {
                    if lab.is_some() {
                        return Err(err("'lab' is given twice".into()));
                    }
                    let l = LabKind::from_name(rest).ok_or_else(|| err(format!("unknown lab '{rest}' (known: raft, ring)")))?;
                    lab = Some(l);
                    scn.lab = l;
                }
                _ if lab.is_none() => {
                    return Err(err("a scenario must start with 'lab raft' or 'lab ring'".into()));
                }
                "seed" => scn.seed = rest.parse().map_err(|_| err(format!("seed must be a whole number from 0 to {}, not '{rest}'", u64::MAX)))?,
                "until" => scn.until = parse_time(rest).map_err(err)?,
                "at" => {
                    let (when, what) = split_word(rest);
                    let at = parse_time(when).map_err(err)?;
                    let action = parse_action(scn.lab, what).map_err(err)?;
                    if scn.actions.len() >= MAX_ACTIONS {
                        return Err(err(format!("too many actions; at most {MAX_ACTIONS}")));
                    }
                    scn.actions.push(Timed { at, action });
                }
                "expect" => scn.expects.push(parse_expect(rest).map_err(err)?),
                name => {
                    let spec = scn.lab.param(name).ok_or_else(|| err(unknown_word(scn.lab, name)))?;
                    if rest.is_empty() {
                        return Err(err(format!("{name} needs a value")));
                    }
                    let v = spec.parse(rest).map_err(err)?;
                    scn.set(name, v).map_err(err)?;
                }
            }
        }
        if lab.is_none() {
            return Err(ScenarioError::Invalid("the scenario is empty: it must start with 'lab raft' or 'lab ring'".into()));
        }
        scn.title = title.join("\n");
        scn.validate()?;
        Ok(scn)
    }

    /// Writes the text format; [`Scenario::parse`] reads it back equal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for l in self.title.lines() {
            out.push_str(&format!("# {l}\n").replace("#  ", "# ").replace("# \n", "#\n"));
        }
        out.push_str(&format!("lab {}\nseed {}\n", self.lab.name(), self.seed));
        for spec in self.lab.params() {
            if let Some(v) = self.params.get(spec.name) {
                out.push_str(&format!("{} {}\n", spec.name, spec.format(*v)));
            }
        }
        for t in &self.actions {
            out.push_str(&format!("at {} {}\n", format_duration(t.at), self.action_to_text(&t.action)));
        }
        if self.until > 0 {
            out.push_str(&format!("until {}\n", format_duration(self.until)));
        }
        for e in &self.expects {
            out.push_str(&format!("expect {} {} {}\n", e.metric, e.cmp.symbol(), e.written));
        }
        out
    }

    /// One action as the text format writes it.
    pub fn action_to_text(&self, a: &Action) -> String {
        match a {
            Action::Set(name, v) => match self.lab.param(name) {
                Some(spec) => format!("set {name} {}", spec.format(*v)),
                None => format!("set {name} {v}"),
            },
            other => action_text(other),
        }
    }
}

fn action_text(a: &Action) -> String {
    let s = |n: &NodeId| format!("S{}", n + 1);
    match a {
        Action::Crash(n) => format!("crash {}", s(n)),
        Action::Restart(n) => format!("restart {}", s(n)),
        Action::Pause(n) => format!("pause {}", s(n)),
        Action::Resume(n) => format!("resume {}", s(n)),
        Action::Timeout(n) => format!("timeout {}", s(n)),
        Action::Request(n) => format!("request {}", s(n)),
        Action::Partition(groups) => {
            let g: Vec<String> = groups.iter().map(|g| g.iter().map(s).collect::<Vec<_>>().join(",")).collect();
            format!("partition {}", g.join(" | "))
        }
        Action::Block(a, b) => format!("block {} {}", s(a), s(b)),
        Action::Heal => "heal".into(),
        Action::Set(name, v) => format!("set {name} {v}"),
        Action::AddNode(w) => format!("add weight {w}"),
        Action::RemoveNode(n) => format!("remove {}", s(n)),
        Action::Weight(n, w) => format!("weight {} {w}", s(n)),
        Action::Vnodes(n, v) => format!("vnodes {} {v}", s(n)),
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&action_text(self))
    }
}

fn split_word(s: &str) -> (&str, &str) {
    match s.split_once(char::is_whitespace) {
        Some((w, rest)) => (w, rest.trim()),
        None => (s, ""),
    }
}

fn unknown_param(lab: LabKind, name: &str) -> String {
    let names: Vec<&str> = lab.params().iter().map(|p| p.name).collect();
    format!("unknown parameter '{name}' for the {} lab (known: {})", lab.name(), names.join(", "))
}

fn unknown_word(lab: LabKind, name: &str) -> String {
    format!("'{name}' is neither a statement (lab, seed, at, until, expect) nor a parameter; {}", unknown_param(lab, name))
}

fn parse_time(s: &str) -> Result<Time, String> {
    let t = parse_duration(s).ok_or_else(|| format!("'{s}' is not a time: write it like 1.5s, 200ms or 0"))?;
    if t > MAX_TIME {
        return Err(format!("{s} is too far in the future (at most 30 days)"));
    }
    Ok(t)
}

/// Parses `S3` or `3` into node 2.
pub fn parse_node(s: &str) -> Result<NodeId, String> {
    let digits = s.strip_prefix('S').or_else(|| s.strip_prefix('s')).unwrap_or(s);
    match digits.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n - 1),
        _ => Err(format!("'{s}' is not a server: write S1, S2, ...")),
    }
}

fn check_weight(w: u32) -> Result<(), String> {
    if (1..=10_000).contains(&w) {
        Ok(())
    } else {
        Err(format!("weight {w} is out of range: it must be between 1 and 10000 (100 = normal)"))
    }
}

fn parse_u32(s: &str, what: &str) -> Result<u32, String> {
    s.parse().map_err(|_| format!("{what} must be a whole number, not '{s}'"))
}

/// Parses the part of an `at` line after the time.
pub fn parse_action(lab: LabKind, s: &str) -> Result<Action, String> {
    let (verb, rest) = split_word(s);
    let one = |rest: &str| -> Result<NodeId, String> {
        let (n, extra) = split_word(rest);
        if n.is_empty() {
            return Err(format!("'{verb}' needs a server, like '{verb} S1'"));
        }
        if !extra.is_empty() {
            return Err(format!("unexpected '{extra}' after '{verb} {n}'"));
        }
        parse_node(n)
    };
    let action = match verb {
        "crash" | "fail" => Action::Crash(one(rest)?),
        "restart" => Action::Restart(one(rest)?),
        "pause" => Action::Pause(one(rest)?),
        "resume" => Action::Resume(one(rest)?),
        "timeout" => Action::Timeout(one(rest)?),
        "request" => Action::Request(one(rest)?),
        "heal" if rest.is_empty() => Action::Heal,
        "partition" => {
            let mut groups = Vec::new();
            for g in rest.split('|') {
                let members: Result<Vec<NodeId>, String> =
                    g.split(',').map(str::trim).filter(|x| !x.is_empty()).map(parse_node).collect();
                let members = members?;
                if !members.is_empty() {
                    groups.push(members);
                }
            }
            if groups.len() < 2 {
                return Err("a partition needs at least two groups: partition S1,S2 | S3,S4,S5".into());
            }
            Action::Partition(groups)
        }
        "block" => {
            let (a, b) = split_word(rest);
            let (a, b) = (parse_node(a)?, parse_node(b.trim())?);
            if a == b {
                return Err("a server cannot block itself".into());
            }
            Action::Block(a, b)
        }
        "set" => {
            let (name, value) = split_word(rest);
            let spec = lab.param(name).ok_or_else(|| unknown_param(lab, name))?;
            Action::Set(name.to_string(), spec.parse(value)?)
        }
        "add" => {
            let w = match split_word(rest) {
                ("", _) => 100,
                ("weight", w) => parse_u32(w, "a weight")?,
                (other, _) => return Err(format!("expected 'add' or 'add weight N', not 'add {other}'")),
            };
            Action::AddNode(w)
        }
        "remove" => Action::RemoveNode(one(rest)?),
        "weight" => {
            let (n, w) = split_word(rest);
            Action::Weight(parse_node(n)?, parse_u32(w, "a weight")?)
        }
        "vnodes" => {
            let (n, v) = split_word(rest);
            Action::Vnodes(parse_node(n)?, parse_u32(v, "a vnode count")?)
        }
        "" => return Err("'at TIME' needs an action, like 'at 1s crash S1'".into()),
        other => {
            return Err(format!(
                "unknown action '{other}' (known: crash, restart, pause, resume, timeout, request, partition, block, heal, set, add, remove, weight, vnodes)"
            ))
        }
    };
    Ok(action)
}

fn parse_expect(s: &str) -> Result<Expect, String> {
    let mut parts = s.split_whitespace();
    let (Some(metric), Some(op), Some(value), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("write a check as 'expect METRIC OP VALUE', for example 'expect elections >= 1'".into());
    };
    let cmp = Cmp::ALL
        .iter()
        .find(|(_, sym)| *sym == op)
        .map(|(c, _)| *c)
        .ok_or_else(|| format!("unknown comparison '{op}' (use ==, !=, <, <=, >, >=)"))?;
    let mut other = None;
    let number = if let Some(t) = parse_duration(value).filter(|_| value.ends_with('s')) {
        t as f64
    } else if let Some(node) = value.strip_prefix('S').and_then(|n| n.parse::<u32>().ok()) {
        f64::from(node)
    } else if value.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        other = Some(value.to_string());
        0.0
    } else {
        match value.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => return Err(format!("'{value}' is not a number, a duration, a server or a metric")),
        }
    };
    Ok(Expect { metric: metric.to_string(), cmp, value: number, other, written: value.to_string() })
}

#[cfg(test)]
mod tests;
