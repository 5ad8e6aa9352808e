//! The labs' engines, as the page starts them.
//!
//! Each lab's simulator is a Web Worker of its own (`engine-NAME`, a binary
//! in `engines/` that links that lab's engine alone; web/index.html has Trunk
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
        let html = include_str!("../../../../web/index.html");
        let list = html
            .split_once("const labs = [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| list)
            .expect("index.html's early script lists the labs");
        let labs: Vec<&str> = list.split(',').map(|s| s.trim().trim_matches('\'')).collect();
        assert_eq!(labs, super::ENGINES);
    }

    /// The lines of a TOML table, from its header to the next one.
    fn table<'a>(toml: &'a str, header: &str) -> Vec<&'a str> {
        let mut lines = toml.lines().skip_while(|l| l.trim() != header);
        assert!(lines.next().is_some(), "Cargo.toml has no {header}");
        lines.take_while(|l| !l.trim_start().starts_with('[')).map(str::trim).collect()
    }

    /// The page is built for size and the engines for speed, each with a
    /// profile of its own (docs/benchmarks.md, "The page's own profile"):
    /// the page's profile took 107 KB (gzip -9) off every embedded lab,
    /// and the same profile for the engines made Raft's engine 17–27 %
    /// slower, since LTO optimises a binary's code at the binary's level.
    /// Both page binaries, the whole app and the layout for iframes
    /// (docs/architecture.md, "Two page binaries"), are the page.
    #[test]
    fn index_html_builds_the_page_for_size_and_the_engines_for_speed() {
        let html = include_str!("../../../../web/index.html");
        let cargo = include_str!("../../../../Cargo.toml");
        let rust: Vec<&str> =
            html.lines().map(str::trim).filter(|l| l.starts_with(r#"<link data-trunk rel="rust""#)).collect();
        for bin in ["app", "embed"] {
            let page: Vec<&&str> = rust.iter().filter(|l| l.contains(&format!(r#"data-bin="{bin}""#))).collect();
            assert_eq!(page.len(), 1, "index.html builds the page's {bin} binary once");
            assert!(
                page[0].contains(r#"data-cargo-profile-release="page""#),
                "the page is built with its own profile: {}",
                page[0]
            );
            assert!(page[0].contains(r#"data-wasm-opt="z""#), "wasm-opt shrinks the page: {}", page[0]);
        }
        let page_profile = table(cargo, "[profile.page]");
        assert!(page_profile.contains(&r#"inherits = "release""#), "{page_profile:?}");
        assert!(page_profile.contains(&r#"opt-level = "z""#), "{page_profile:?}");
        assert!(table(cargo, "[profile.release]").contains(&"opt-level = 3"));
        for lab in super::ENGINES {
            let bin = format!(r#"data-bin="engine-{lab}""#);
            let engine =
                rust.iter().find(|l| l.contains(&bin)).unwrap_or_else(|| panic!("index.html builds engine-{lab}"));
            assert!(!engine.contains("data-cargo-profile"), "engine-{lab} is built with the release profile: {engine}");
            assert!(engine.contains(r#"data-wasm-opt="3""#), "wasm-opt keeps engine-{lab} fast: {engine}");
        }
    }
}
