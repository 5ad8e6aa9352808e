//! What the page needs to know about the labs and the scenario, as plain
//! data: the worker sends it, so the page never links the engine (its
//! download stays small) and never parses a scenario itself.

use crate::scenario::params::Kind;
use crate::scenario::{Action, Scenario};
use crate::sim::Time;
use serde::{Deserialize, Serialize};

/// A lab as the page's menus show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabInfo {
    /// Name in files and links.
    pub name: String,
    /// Name for people.
    pub title: String,
    /// One sentence on what it shows.
    pub about: String,
    /// Titles of its presets; the first opens with the lab.
    pub presets: Vec<String>,
    /// Whether it has a workload for the engine benchmark.
    pub bench: bool,
    /// Its experiments, in the order it lists them.
    pub experiments: Vec<ExperimentInfo>,
}

/// An experiment as the page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentInfo {
    /// Its name (`fig16`).
    pub name: String,
    /// One line on what it measures.
    pub about: String,
    /// Its arguments: (name, what it sets, default).
    pub args: Vec<(String, String, String)>,
    /// Whether it reads the run on the page (else it runs from its
    /// arguments alone).
    pub reads_run: bool,
}

/// One parameter as a settings panel shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamView {
    /// Short name, as in files.
    pub name: String,
    /// Label for people, with its unit.
    pub label: String,
    /// One line on what it means.
    pub help: String,
    /// Whether it can change during a run.
    pub live: bool,
    /// The values a menu offers (choices, on/off); empty for a text field.
    pub choices: Vec<String>,
    /// The value in force now, written as files write it.
    pub value: String,
    /// The smallest and largest values, written as files write them.
    pub range: (String, String),
}

/// The scenario's settings as the page shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The lab's name.
    pub lab: String,
    /// The seed.
    pub seed: u64,
    /// Servers at the start.
    pub nodes: u32,
    /// Every parameter, in display order, with the value in force now (a
    /// live one's last `set` action, else its setting).
    pub params: Vec<ParamView>,
    /// The sweep set up over the scenario, if any.
    pub tune: Option<crate::scenario::TuneDef>,
    /// What the scenario shows: its opening comment (a preset's story).
    pub about: String,
    /// Its captions: when each shows, and its words.
    pub captions: Vec<(Time, String)>,
    /// Its timed actions (played, and the script still to come): when, and
    /// the action as a file writes it. At most [`SCRIPT_SHOWN`], the first.
    pub script: Vec<(Time, String)>,
}

/// Most of a scenario's actions [`Settings::script`] lists (the time
/// slider's ticks; a long recorded run has thousands).
pub const SCRIPT_SHOWN: usize = 500;

/// The settings of a scenario.
pub fn settings(scn: &Scenario) -> Settings {
    let params = scn
        .lab
        .params()
        .into_iter()
        .map(|spec| {
            let now = scn
                .actions
                .iter()
                .rev()
                .find_map(|t| match &t.action {
                    Action::Set(n, v) if n == spec.name => Some(*v),
                    _ => None,
                })
                .unwrap_or_else(|| scn.get(spec.name));
            let choices = match spec.kind {
                Kind::Choice(names) => names.iter().map(|n| n.to_string()).collect(),
                Kind::Toggle => vec!["off".into(), "on".into()],
                _ => Vec::new(),
            };
            ParamView {
                name: spec.name.into(),
                label: spec.label.into(),
                help: spec.help.into(),
                live: spec.live,
                choices,
                value: spec.format(now),
                range: (spec.format(spec.min), spec.format(spec.max)),
            }
        })
        .collect();
    Settings {
        lab: scn.lab.name().into(),
        seed: scn.seed,
        nodes: scn.nodes(),
        params,
        tune: scn.tune.clone(),
        about: scn.title.clone(),
        captions: scn.captions.iter().map(|c| (c.at, c.text.clone())).collect(),
        script: scn.actions.iter().take(SCRIPT_SHOWN).map(|t| (t.at, scn.action_to_text(&t.action))).collect(),
    }
}
