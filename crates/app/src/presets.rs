//! Scenarios a user can open in one click. They are the same files the
//! tests run (tests/scenarios), so every preset is checked in CI.

/// The scenario the app opens with.
pub const DEFAULT: &str = include_str!("../../../tests/scenarios/raft/default.scn");

/// (title, scenario text) for the Raft lab.
pub const RAFT: &[(&str, &str)] = &[
    ("Leader crash and re-election", include_str!("../../../tests/scenarios/raft/leader-crash.scn")),
    ("Split vote", include_str!("../../../tests/scenarios/raft/split-vote.scn")),
    ("Partitioned leader rejoins with a stale log", include_str!("../../../tests/scenarios/raft/stale-leader.scn")),
    ("Figure 8: committing an old term's entry", include_str!("../../../tests/scenarios/raft/figure-8.scn")),
    ("Churn on a lossy, slow network", include_str!("../../../tests/scenarios/raft/lossy-network.scn")),
    ("Figure 8 with a deliberate bug: watch a checker stop it", include_str!("../../../tests/scenarios/raft/bug-figure-8.scn")),
];

/// The benchmark workload (also run natively by the criterion benchmark).
pub const BENCH: &str = include_str!("../../../tests/scenarios/raft/bench.scn");

/// The scenario the Ring lab opens with.
pub const RING_DEFAULT: &str = include_str!("../../../tests/scenarios/ring/default.scn");

/// (title, scenario text) for the Ring lab.
pub const RING: &[(&str, &str)] = &[
    ("Add a server, then fail one", include_str!("../../../tests/scenarios/ring/add-node.scn")),
    ("Modulo hashing: almost everything moves", include_str!("../../../tests/scenarios/ring/modulo.scn")),
    ("Too few virtual nodes", include_str!("../../../tests/scenarios/ring/virtual-nodes.scn")),
    ("Bounded loads under skewed requests", include_str!("../../../tests/scenarios/ring/bounded-loads.scn")),
    ("Weighted ketama, as memcached clients do", include_str!("../../../tests/scenarios/ring/weights.scn")),
];
