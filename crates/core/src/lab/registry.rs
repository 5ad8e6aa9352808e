//! The one list of labs.
//!
//! Adding a lab to ClusterScope is one line in [`BUILT_IN`] (and one in the
//! app's list of lab views). Everything that needs to know the labs (the
//! scenario parser, the CLI, the worker, the tests over every scenario
//! file) asks this module. A lab defined elsewhere, such as one inside a
//! test, joins at run time with [`register`] and is then read, linked,
//! replayed and drawn by the same machinery.

use super::catalog::{ExperimentInfo, LabInfo};
use super::{Experiment, LabDef};
use crate::scenario::{parse_action_in, Action, LabIndex, LabKind, Scenario, ScenarioError};
use std::sync::RwLock;

/// The labs that ship, in menu order. The first is the one the app opens.
pub static BUILT_IN: &[&LabDef] =
    &[&crate::raft::lab::LAB, &crate::paxos::lab::LAB, &crate::ring::lab::LAB, &crate::balance::lab::LAB];

static EXTRA: RwLock<Vec<&'static LabDef>> = RwLock::new(Vec::new());

/// Adds a lab at run time. A second lab with a name already taken is
/// refused with a sentence.
pub fn register(def: &'static LabDef) -> Result<(), String> {
    let mut extra = EXTRA.write().unwrap_or_else(|e| e.into_inner());
    if BUILT_IN.iter().chain(extra.iter()).any(|d| d.name == def.name) {
        return Err(format!("a lab named '{}' is already registered", def.name));
    }
    extra.push(def);
    Ok(())
}

/// Every lab: the built-in ones, then those registered at run time.
pub fn all() -> Vec<&'static LabDef> {
    let extra = EXTRA.read().unwrap_or_else(|e| e.into_inner());
    BUILT_IN.iter().copied().chain(extra.iter().copied()).collect()
}

/// Looks a lab up by name.
pub fn find(name: &str) -> Option<&'static LabDef> {
    all().into_iter().find(|d| d.name == name)
}

/// The names of every lab, in menu order.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|d| d.name).collect()
}

/// The lab the app opens with.
pub fn default_lab() -> LabKind {
    LabKind(BUILT_IN[0])
}

/// The registered labs, as the scenario model reads against them.
pub struct Registry;

impl LabIndex for Registry {
    fn labs(&self) -> Vec<LabKind> {
        all().into_iter().map(LabKind).collect()
    }
}

impl Scenario {
    /// Reads the text format against the registered labs. Errors name the
    /// line. A byte-order mark and CRLF line ends are accepted; invisible
    /// control characters are not.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse_in(text, &Registry)
    }
}

impl LabKind {
    /// Looks a lab up by name among the registered labs.
    pub fn from_name(s: &str) -> Option<LabKind> {
        find(s).map(LabKind)
    }
}

/// Parses the part of an `at` line after the time for lab `lab`: a shared
/// fault verb the lab accepts, or one of the lab's own verbs.
pub fn parse_action(lab: LabKind, s: &str) -> Result<Action, String> {
    parse_action_in(lab, s, &Registry)
}

/// Every lab's experiments, as (lab, experiment), in menu order.
pub fn experiments() -> Vec<(&'static LabDef, &'static Experiment)> {
    all().into_iter().flat_map(|d| d.experiments.iter().map(move |e| (d, e))).collect()
}

/// A lab's experiment by name, or a sentence naming what there is.
pub fn find_experiment(lab: &str, name: &str) -> Result<&'static Experiment, String> {
    let def = find(lab).ok_or_else(|| format!("there is no lab '{lab}' (the labs: {})", names().join(", ")))?;
    def.experiments.iter().find(|e| e.name == name).ok_or_else(|| {
        let known: Vec<&str> = def.experiments.iter().map(|e| e.name).collect();
        if known.is_empty() {
            format!("the {lab} lab has no experiments")
        } else {
            format!("the {lab} lab has no experiment '{name}' (it has {})", known.join(", "))
        }
    })
}

/// Every registered lab, in menu order.
pub fn catalog() -> Vec<LabInfo> {
    all()
        .into_iter()
        .map(|d| LabInfo {
            name: d.name.into(),
            title: d.title.into(),
            about: d.about.into(),
            presets: d.presets.iter().map(|p| p.0.to_string()).collect(),
            bench: d.bench.is_some(),
            experiments: d
                .experiments
                .iter()
                .map(|e| ExperimentInfo {
                    name: e.name.into(),
                    about: e.about.into(),
                    args: e.args.iter().map(|a| (a.name.into(), a.help.into(), a.default.into())).collect(),
                    reads_run: e.reads.contains(&d.name),
                })
                .collect(),
        })
        .collect()
}
