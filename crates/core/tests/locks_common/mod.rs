//! What the Locks lab's tests share: registering its engine (until the lab
//! is built in, a test registers it at run time, as a plug-in would), and
//! running a scenario text to its end.

use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::{registry, Lab};
use clusterscope_core::locks::lab::LocksTracker;
use clusterscope_core::locks::LockNode;
use clusterscope_core::scenario::Scenario;

/// Makes sure this program runs the Locks lab.
pub fn locks() {
    if registry::engine("locks").is_err() {
        let _ = registry::register_engine(&clusterscope_core::locks::lab::ENGINE);
    }
}

/// Parses and replays `text` to its `until`.
#[allow(dead_code)]
pub fn run(text: &str) -> Lab {
    locks();
    let scn = Scenario::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    Lab::replay(&scn).unwrap_or_else(|e| panic!("{e}"))
}

/// The lab's running figures.
#[allow(dead_code)]
pub fn tracker(lab: &Lab) -> &LocksTracker {
    lab.model::<ClusterLab<LockNode>>().expect("a locks run").tracker()
}

/// A metric by name.
#[allow(dead_code)]
pub fn metric(lab: &mut Lab, name: &str) -> f64 {
    lab.metrics()
        .into_iter()
        .find(|(m, _)| m.name == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no metric {name}"))
}
