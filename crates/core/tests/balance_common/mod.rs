//! Shared by the load-balancing tests that follow single picks.

use clusterscope_core::balance::{BalanceConfig, CostDist, Policy};
use clusterscope_core::sim::{MS, SEC};

/// A config with the given policy and seed; everything else ordinary.
pub fn config(policy: Policy, servers: u32, seed: u64) -> BalanceConfig {
    BalanceConfig {
        servers,
        policy,
        rate: 1_000,
        cost: CostDist::Exponential,
        cost_mean: 5 * MS,
        concurrency: 1,
        queue: 50,
        latency: MS,
        timeout: 100 * MS,
        retries: 0,
        ewma_tau: SEC,
        seed,
        ..BalanceConfig::default()
    }
}
