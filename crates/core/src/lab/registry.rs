//! The one list of labs, and the engines that run them.
//!
//! Adding a lab to ClusterScope is one line in [`BUILT_IN`] and one in
//! [`BUILT_IN_ENGINES`] (and, in the app, a line in its list of lab
//! engines and views; docs/adding-a-lab.md). Everything that needs to know
//! the labs (the scenario parser, the CLI, the worker, the tests over every
//! scenario file) asks this module. A lab defined elsewhere, such as one
//! inside a test, joins at run time with [`register`] and
//! [`register_engine`] and is then read, linked, replayed and drawn by the
//! same machinery.
//!
//! Every program knows every built-in lab's head ([`HEADS`]: its name,
//! title and one sentence, what a menu shows). A program with the
//! `engines` feature (on by default: the CLI, the tests) also has every
//! built-in lab's description ([`BUILT_IN`]: parameter tables, verbs,
//! presets, experiments) and engine ([`BUILT_IN_ENGINES`]). Each of the
//! browser's lab workers turns the feature off and registers its own lab's
//! engine alone, which brings that lab's description with it, so the
//! linker leaves the other labs' simulators and texts out of its download;
//! [`catalog`] then describes the other labs by their heads.

use super::catalog::{ExperimentInfo, LabInfo};
use super::{Engine, Experiment, LabDef, LabHead, RunExperiment};
use crate::scenario::{parse_action_in, Action, LabIndex, LabKind, Scenario, ScenarioError};
use std::sync::RwLock;

/// The labs that ship, in menu order, as every program knows them (the
/// first is the one the app opens).
pub static HEADS: &[LabHead] = &[
    crate::raft::lab::HEAD,
    crate::paxos::lab::HEAD,
    crate::ring::lab::HEAD,
    crate::balance::lab::HEAD,
    crate::locks::lab::HEAD,
    crate::quorum::lab::HEAD,
    crate::faults::lab::HEAD,
];

/// The labs that ship, described, in [`HEADS`]' order (with the `engines`
/// feature).
#[cfg(feature = "engines")]
pub static BUILT_IN: &[&LabDef] = &[
    &crate::raft::lab::LAB,
    &crate::paxos::lab::LAB,
    &crate::ring::lab::LAB,
    &crate::balance::lab::LAB,
    &crate::locks::lab::LAB,
    &crate::quorum::lab::LAB,
    &crate::faults::lab::LAB,
];

/// The labs that ship, described: none without the `engines` feature (a
/// program then registers the engines it runs, each with its lab).
#[cfg(not(feature = "engines"))]
pub static BUILT_IN: &[&LabDef] = &[];

static EXTRA: RwLock<Vec<&'static LabDef>> = RwLock::new(Vec::new());

/// The built-in labs' engines, in [`BUILT_IN`]'s order (with the
/// `engines` feature).
#[cfg(feature = "engines")]
pub static BUILT_IN_ENGINES: &[&Engine] = &[
    &crate::raft::lab::ENGINE,
    &crate::paxos::lab::ENGINE,
    &crate::ring::lab::ENGINE,
    &crate::balance::lab::ENGINE,
    &crate::locks::lab::ENGINE,
    &crate::quorum::lab::ENGINE,
    &crate::faults::lab::ENGINE,
];

/// The built-in labs' engines: none without the `engines` feature (a
/// program then registers the ones it runs).
#[cfg(not(feature = "engines"))]
pub static BUILT_IN_ENGINES: &[&Engine] = &[];

static EXTRA_ENGINES: RwLock<Vec<&'static Engine>> = RwLock::new(Vec::new());

/// Adds a lab's engine at run time (and its description, unless it is
/// known already), then the engines its experiments run
/// ([`Engine::also`]) that are not registered yet. A second engine for a
/// lab is refused with a sentence.
pub fn register_engine(engine: &'static Engine) -> Result<(), String> {
    if find(engine.lab.name).is_none() {
        register(engine.lab)?;
    }
    {
        let mut extra = EXTRA_ENGINES.write().unwrap_or_else(|e| e.into_inner());
        if BUILT_IN_ENGINES.iter().chain(extra.iter()).any(|e| e.lab.name == engine.lab.name) {
            return Err(format!("the {} lab's engine is already registered", engine.lab.name));
        }
        extra.push(engine);
    }
    for other in engine.also {
        if self::engine(other.lab.name).is_err() {
            register_engine(other)?;
        }
    }
    Ok(())
}

/// Every engine this program has: the built-in ones it links, then those
/// registered at run time.
pub fn engines() -> Vec<&'static Engine> {
    let extra = EXTRA_ENGINES.read().unwrap_or_else(|e| e.into_inner());
    BUILT_IN_ENGINES.iter().copied().chain(extra.iter().copied()).collect()
}

/// The engine of lab `name`, or a sentence saying this program does not
/// run that lab (and which labs it runs).
pub fn engine(name: &str) -> Result<&'static Engine, String> {
    let all = engines();
    all.iter().find(|e| e.lab.name == name).copied().ok_or_else(|| {
        let runs: Vec<&str> = all.iter().map(|e| e.lab.name).collect();
        if find(name).is_none() {
            format!("there is no lab '{name}' (the labs: {})", names().join(", "))
        } else if runs.is_empty() {
            format!("this program runs no lab's engine, so it cannot run the {name} lab")
        } else if let [one] = runs.as_slice() {
            format!("this program runs the {one} lab's engine only, not the {name} lab's")
        } else {
            format!("this program runs the engines of the {} labs, not the {name} lab's", runs.join(", "))
        }
    })
}

/// How an experiment runs: the run its lab's engine gives it, or a
/// sentence if this program does not have that engine.
pub fn run_of(exp: &Experiment) -> Result<RunExperiment, String> {
    let owner = all()
        .into_iter()
        .find(|d| d.experiments.iter().any(|e| std::ptr::eq(e, exp)))
        .ok_or_else(|| format!("the experiment {} belongs to no registered lab", exp.name))?;
    let engine = engine(owner.name)?;
    engine
        .runs
        .iter()
        .find(|(name, _)| *name == exp.name)
        .map(|(_, run)| *run)
        .ok_or_else(|| format!("the {} lab's engine has no run for its experiment {}", owner.name, exp.name))
}

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

/// The lab the app opens with, if this program has its description (else
/// the first it has; `None` if it has none).
pub fn default_lab() -> Option<LabKind> {
    find(HEADS[0].name).or_else(|| all().first().copied()).map(LabKind)
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

/// Every lab, in menu order: each described lab in full, and each
/// built-in lab this program does not describe (another browser worker's)
/// by its head alone, with no presets or experiments: the page lists it,
/// and that lab's own worker describes it when it opens.
pub fn catalog() -> Vec<LabInfo> {
    catalog_of(&all())
}

/// [`catalog`], for a program that describes the labs `described`.
fn catalog_of(described: &[&'static LabDef]) -> Vec<LabInfo> {
    let headed = HEADS.iter().map(|h| match described.iter().find(|d| d.name == h.name) {
        Some(d) => info(d),
        None => LabInfo {
            name: h.name.into(),
            title: h.title.into(),
            about: h.about.into(),
            presets: Vec::new(),
            bench: h.bench,
            experiments: Vec::new(),
        },
    });
    let extra = described.iter().filter(|d| !HEADS.iter().any(|h| h.name == d.name)).map(|d| info(d));
    headed.chain(extra).collect()
}

/// A described lab as the page's menus show it.
fn info(d: &LabDef) -> LabInfo {
    LabInfo {
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
    }
}

#[cfg(all(test, feature = "engines"))]
mod tests {
    use super::*;

    /// A lab's head and its description say the same, in the same order:
    /// the page's tabs (from the heads) and the lab's own worker (from its
    /// description) must name each lab alike.
    #[test]
    fn heads_agree_with_descriptions() {
        let heads: Vec<(&str, &str, &str, bool)> = HEADS.iter().map(|h| (h.name, h.title, h.about, h.bench)).collect();
        let defs: Vec<(&str, &str, &str, bool)> =
            BUILT_IN.iter().map(|d| (d.name, d.title, d.about, d.bench.is_some())).collect();
        assert_eq!(heads, defs);
    }

    /// A browser worker that runs the Ring lab alone lists every lab (the
    /// page's tabs come from it) but describes only its own: the other labs
    /// have a title and no presets or experiments, which their own workers
    /// give when they open.
    #[test]
    fn a_worker_lists_every_lab_and_describes_its_own() {
        let ring = catalog_of(&[&crate::ring::lab::LAB]);
        let names: Vec<&str> = ring.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, HEADS.iter().map(|h| h.name).collect::<Vec<_>>());
        let own = ring.iter().find(|l| l.name == "ring").unwrap();
        assert_eq!(own, &info(&crate::ring::lab::LAB));
        assert!(!own.presets.is_empty() && !own.experiments.is_empty());
        let raft = ring.iter().find(|l| l.name == "raft").unwrap();
        assert_eq!((raft.title.as_str(), raft.bench), ("Raft", true));
        assert!(raft.presets.is_empty() && raft.experiments.is_empty());
        // With every lab described, each is in full, in menu order.
        let full = catalog_of(BUILT_IN);
        assert_eq!(full, BUILT_IN.iter().map(|d| info(d)).collect::<Vec<_>>());
    }
}
