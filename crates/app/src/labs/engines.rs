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

#[cfg(all(test, not(feature = "testlab")))]
mod tests {
    /// index.html's early script starts the engine of the lab an address
    /// opens before the page has loaded, and hands it to the page only if
    /// the page asks for the same worker: it must know the same labs, and
    /// the same first one (the lab that opens without a link), or the page
    /// loses the head start or the script starts an engine that is not there.
    #[test]
    fn the_early_start_in_index_html_knows_the_labs_of_the_page() {
        let html = include_str!("../../../../index.html");
        let list = html
            .split_once("const labs = [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| list)
            .expect("index.html's early script lists the labs");
        let labs: Vec<&str> = list.split(',').map(|s| s.trim().trim_matches('\'')).collect();
        assert_eq!(labs, super::ENGINES);
    }
}
