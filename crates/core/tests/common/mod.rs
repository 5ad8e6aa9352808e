//! Helpers shared by the Raft integration tests.

use clusterscope_core::raft::RaftNode;
use clusterscope_core::sim::{Fault, Sim};

/// Ends a fault phase: every link restored, no more loss, duplication,
/// long tails or new client load, so the liveness phase that follows starts
/// from a calm network (the VOPR-style "faults, then heal" split).
pub fn calm_network(sim: &mut Sim<RaftNode>) {
    sim.inject(Fault::Heal);
    for name in ["loss", "duplicate", "tail", "request_rate"] {
        sim.inject(Fault::Set(name.into(), 0));
    }
}
