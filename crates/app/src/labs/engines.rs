//! The labs' engines, as the page starts them.
//!
//! Each lab's simulator is a Web Worker of its own (`engine-NAME`, a binary
//! in `engines/` that links that lab's engine alone; index.html has Trunk
//! build each), so the page downloads the engine of the lab on screen and
//! no other: an embedded Raft lab never fetches the Paxos, ring or
//! load-balancing code. A worker describes its own lab alone (presets,
//! parameters, experiments) and names the others by their heads for the
//! page's tabs (`clusterscope_core::lab::registry::catalog`); the page
//! picks the worker from a scenario's `lab` line before any engine reads
//! it (`crate::ctx::Bridge`).

/// The labs with an engine, in menu order; the first opens by default.
#[cfg(not(feature = "testlab"))]
pub static ENGINES: &[&str] = &["raft", "paxos", "ring", "balance", "locks", "quorum", "faults"];

/// The labs with an engine, in menu order; the first opens by default. The
/// browser tests' own build also has the test-only lab.
#[cfg(feature = "testlab")]
pub static ENGINES: &[&str] = &["raft", "paxos", "ring", "balance", "locks", "quorum", "faults", "lanterns"];
