//! What the quorum lab's tests share: registering its engine (unless the
//! program has it built in) and running a scenario text to its metrics.

#![allow(dead_code)]

use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::{registry, Lab};
use clusterscope_core::quorum::QuorumNode;
use clusterscope_core::scenario::Scenario;

/// Makes sure this program runs the quorum lab.
pub fn quorum() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if registry::engine("quorum").is_err() {
            registry::register_engine(&clusterscope_core::quorum::lab::ENGINE).expect("the name 'quorum' is free");
        }
    });
}

/// Parses and replays a scenario text to its `until`.
pub fn replay(text: &str) -> Lab {
    quorum();
    let scn = Scenario::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    Lab::replay(&scn).unwrap_or_else(|e| panic!("{e}"))
}

/// A metric by name.
pub fn metric(lab: &mut Lab, name: &str) -> f64 {
    lab.metrics()
        .into_iter()
        .find(|(m, _)| m.name == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

/// The cluster lab under a `Lab`.
pub fn cluster(lab: &Lab) -> &ClusterLab<QuorumNode> {
    lab.model::<ClusterLab<QuorumNode>>().expect("a quorum lab")
}
