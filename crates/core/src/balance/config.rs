//! What defines a load-balancing run: [`BalanceConfig`], every knob of
//! the model (traffic, servers, balancers, retries, detection, keys,
//! regions) and the seed. Rate, policy and retry settings may change while
//! a run goes on; the rest is fixed when the model is built.

use super::Policy;
use crate::sim::{Time, MS, SEC};

/// How request costs are distributed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CostDist {
    /// Every request costs the mean.
    Constant,
    /// Exponential with the mean (M/M/· queues).
    Exponential,
    /// Lognormal with the mean and σ = 1.
    Lognormal,
    /// Pareto with the mean and shape α = 2 (a heavy tail).
    Pareto,
}

/// Everything that defines a run.
#[derive(Clone, Debug, PartialEq)]
pub struct BalanceConfig {
    /// Servers.
    pub servers: u32,
    /// The policy.
    pub policy: Policy,
    /// Choices per pick for power of d (and peak EWMA's two).
    pub d: u32,
    /// Requests per second of virtual time.
    pub rate: u64,
    /// Cost distribution.
    pub cost: CostDist,
    /// Mean cost: service time at speed 100%.
    pub cost_mean: Time,
    /// Requests a server works on at once.
    pub concurrency: u32,
    /// Requests a server queues beyond those; more are rejected.
    pub queue: u32,
    /// Server speeds in percent (100 = normal), cycled over the servers.
    pub speeds: Vec<u32>,
    /// One-way network latency between balancer and server.
    pub latency: Time,
    /// How long the balancer waits for an attempt.
    pub timeout: Time,
    /// Retries per request at most.
    pub retries: u32,
    /// Retry budget: tokens per request, in parts per million (200,000 =
    /// one retry per five requests).
    pub retry_budget_ppm: u64,
    /// First back-off before a retry.
    pub backoff: Time,
    /// Peak EWMA's decay time.
    pub ewma_tau: Time,
    /// Balancers; each sees only its own connections and checks.
    pub balancers: u32,
    /// Active health checks every this often (0: none).
    pub health_interval: Time,
    /// Passive outlier ejection after this many failures in a row (0: off).
    pub consecutive_errors: u32,
    /// First ejection's length; the n-th lasts n times as long.
    pub base_ejection: Time,
    /// Most servers ejected at once, percent (at least one).
    pub max_ejection_pct: u32,
    /// Arrivals come in bursts: twice the rate for a second, then none for
    /// a second (the same mean).
    pub bursty: bool,
    /// Distinct request keys (0: every request its own key).
    pub keys: u32,
    /// Zipf exponent of key popularity, thousandths (0: uniform).
    pub zipf_milli: u32,
    /// Consistent hashing's bound on load: at most (1 + ε) times the mean
    /// outstanding per server, in percent (0: unbounded). Locality-aware
    /// routing spills over beyond the same bound (25% when 0).
    pub epsilon_pct: u32,
    /// Client regions (0: none). Clients and servers sit in regions on a
    /// map; the balancers are placed by k-means over the clients.
    pub regions: u32,
    /// Extra one-way latency per unit of distance on the map (the map is a
    /// unit square).
    pub distance_latency: Time,
    /// The latency objective: a request that succeeds within it counts
    /// toward goodput.
    pub slo: Time,
    /// The run's seed.
    pub seed: u64,
}

impl Default for BalanceConfig {
    fn default() -> Self {
        BalanceConfig {
            servers: 10,
            policy: Policy::RoundRobin,
            d: 2,
            rate: 800,
            cost: CostDist::Exponential,
            cost_mean: 10 * MS,
            concurrency: 1,
            queue: 100,
            speeds: vec![100],
            latency: MS,
            timeout: SEC,
            retries: 0,
            retry_budget_ppm: 200_000,
            backoff: 10 * MS,
            ewma_tau: 10 * SEC,
            balancers: 1,
            health_interval: 0,
            consecutive_errors: 0,
            base_ejection: 30 * SEC,
            max_ejection_pct: 10,
            bursty: false,
            keys: 0,
            zipf_milli: 0,
            epsilon_pct: 0,
            regions: 0,
            distance_latency: 0,
            slo: 100 * MS,
            seed: 1,
        }
    }
}
