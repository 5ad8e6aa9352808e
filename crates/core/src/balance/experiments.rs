//! The Load-balancing lab's experiments: named runs that produce a table.
//!
//! [`POLICIES`] replays one scenario's traffic and faults under every
//! policy and compares goodput (success within a latency objective),
//! latency percentiles of completed requests and of all requests, failures
//! and retries; the lab's page asks the same question ("compare") and gets
//! [`compare_policies`]'s rows.

use super::lab::BalanceLab;
use super::policy::Policy;
use super::BalanceConfig;
use crate::chart::{Axis, Chart, Mark, Point, Series};
use crate::lab::{Cell, Column, ExpArgs, Experiment, RunExperiment, Table};
use crate::scenario::{Action, Scenario, ScenarioError};
use crate::sim::time::format_duration;
use hdrhistogram::Histogram;

/// Every balancing policy on the same traffic and the same faults
/// ([`compare_policies`]). The expectations come from the literature the
/// lab's presets cite: least connections and the power of two choices
/// (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing",
/// 2001) keep queues, hence tail latency, far below random and round robin
/// at the same load; peak EWMA (Linkerd's "Beyond Round Robin", 2016) avoids
/// a slow server; consistent hashing trades balance for affinity.
pub const POLICIES: Experiment = Experiment {
    name: "policies",
    about: "Every balancing policy on one scenario's traffic and faults: goodput, latency of completed and of all requests, failures, retries",
    args: &[],
    reads: &["balance"],
    needs_scenario: true,
    default_scenario: Some(include_str!("../../../../tests/scenarios/balance/default.scn")),
};

/// The Load-balancing lab's experiments, as its lab lists them.
pub static EXPERIMENTS: &[Experiment] = &[POLICIES];

/// How each experiment runs (the lab's [`crate::lab::Engine::runs`]).
pub static RUNS: &[(&str, RunExperiment)] = &[("policies", run_policies)];

fn run_policies(scn: Option<&Scenario>, _: &ExpArgs) -> Result<Table, String> {
    let scn = scn.ok_or("policies needs a balance scenario")?;
    if scn.until == 0 {
        return Err("nothing to run: give the file an 'until' line".into());
    }
    let rows = compare_policies(scn).map_err(|e| e.to_string())?;
    let slo = super::lab::balance_config(scn).slo;
    let mut table = Table::new(
        format!(
            "Every policy on the same traffic: {} servers, seed {}, run to {}, latency objective {}",
            scn.nodes(),
            scn.seed,
            format_duration(scn.until),
            format_duration(slo)
        ),
        vec![
            Column::text("policy"),
            Column::number("goodput", "%", 2).higher(),
            Column::number("p50 (completed)", "ms", 1).lower(),
            Column::number("p95 (completed)", "ms", 1).lower(),
            Column::number("p99 (completed)", "ms", 1).lower(),
            Column::number("p99.9 (completed)", "ms", 1).lower(),
            Column::number("max (completed)", "ms", 1).lower(),
            Column::number("p50 (all)", "ms", 1).lower(),
            Column::number("p99 (all)", "ms", 1).lower(),
            Column::number("p99.9 (all)", "ms", 1).lower(),
            Column::number("success", "%", 2).higher(),
            Column::number("rejected", "", 0).lower(),
            Column::number("timed out", "", 0).lower(),
            Column::number("failed", "", 0).lower(),
            Column::number("retries", "per request", 3).lower(),
            Column::text("falls back to"),
        ],
    );
    for r in &rows {
        let ms = |v: f64| Cell::num(v / 1e3);
        table.push(vec![
            Cell::text(r.policy.clone()),
            Cell::num(r.goodput * 100.0),
            ms(r.latency[0]),
            ms(r.latency[1]),
            ms(r.latency[2]),
            ms(r.latency[3]),
            ms(r.latency[4]),
            ms(r.latency_all[0]),
            ms(r.latency_all[1]),
            ms(r.latency_all[2]),
            Cell::num(r.success * 100.0),
            Cell::num(r.counts[2] as f64),
            Cell::num(r.counts[3] as f64),
            Cell::num(r.counts[4] as f64),
            Cell::num(r.retries_per_request),
            r.fallback.clone().map_or(Cell::Missing, Cell::text),
        ]);
        table.runs.push(policy_scenario(scn, &r.policy).ok().map(|s| s.to_text()));
    }
    table.chart = Some(policies_chart(&rows));
    table.note(format!(
        "Best goodput first. goodput: requests that succeeded within the latency objective ({}, the 'slo' setting), over requests that ended.",
        format_duration(slo)
    ));
    table.note("p50 (completed) to max (completed): latency of the requests that completed only, over the whole run; a policy that fails its slow requests looks fast here.");
    table.note("p50 (all) to p99.9 (all): latency of every request that ended: a rejected or failed one when its client learned of it, a timed-out one at its timeout.");
    table.note("success: completed over ended. falls back to: what a policy does when the scenario lacks the setting it needs.");
    table.note("The scenario as recorded, with its policy (and any change of policy) replaced by each policy in turn.");
    Ok(table)
}

/// The scenario under one policy, by name: as recorded, with its policy
/// (and any change of policy) replaced.
fn policy_scenario(scn: &Scenario, name: &str) -> Result<Scenario, ScenarioError> {
    let i = Policy::ALL.iter().position(|p| p.name() == name).ok_or_else(|| ScenarioError::Invalid(name.into()))?;
    let mut s = scn.clone();
    s.set("policy", i as i64).map_err(ScenarioError::Invalid)?;
    s.actions.retain(|t| !matches!(&t.action, Action::Set(n, _) if n == "policy"));
    Ok(s)
}

/// Latency against policy: the percentiles of every request that ended,
/// one group of bars a policy.
fn policies_chart(rows: &[PolicyRow]) -> Chart {
    let mut chart = Chart::new(
        "Latency of every request that ended, by policy",
        Axis::new("policy", ""),
        Axis::new("latency", "ms"),
    );
    chart.categories = rows.iter().map(|r| r.policy.clone()).collect();
    for (k, name) in ["p50 (all)", "p99 (all)", "p99.9 (all)"].iter().enumerate() {
        let points = rows.iter().enumerate().map(|(i, r)| Point::new(i as f64, r.latency_all[k] / 1e3)).collect();
        chart.series.push(Series { name: (*name).into(), mark: Mark::Bars, points });
    }
    chart
}

/// One policy's line in the comparison of policies.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PolicyRow {
    /// The policy's name.
    pub policy: String,
    /// Latency percentiles of the requests that completed, over the whole
    /// run, microseconds: p50, p95, p99, p99.9, max (NaN: nothing
    /// completed).
    pub latency: [f64; 5],
    /// Latency percentiles of every request that ended (rejected and
    /// failed ones when the client learned of it, timed-out ones at the
    /// timeout), microseconds: p50, p99, p99.9 (NaN: nothing ended).
    pub latency_all: [f64; 3],
    /// Completed / ended.
    pub success: f64,
    /// Completed within the latency objective / ended.
    pub goodput: f64,
    /// Requests made, completed, rejected, timed out, failed.
    pub counts: [u64; 5],
    /// Retries per request.
    pub retries_per_request: f64,
    /// What the policy does instead, when the scenario lacks a setting it
    /// needs (locality without client regions).
    pub fallback: Option<String>,
}

/// What `policy` falls back to under `cfg`, when `cfg` lacks the setting
/// the policy is about: the numbers are then another policy's.
pub fn fallback(policy: Policy, cfg: &BalanceConfig) -> Option<&'static str> {
    let equal_speeds = cfg.speeds.windows(2).all(|w| w[0] == w[1]);
    match policy {
        Policy::Locality if cfg.regions == 0 => Some("no client regions: the less loaded of two random servers"),
        Policy::WeightedRoundRobin if equal_speeds => Some("equal weights: round robin"),
        Policy::WeightedRandom if equal_speeds => Some("equal weights: random"),
        Policy::ConsistentHash if cfg.keys == 0 => Some("no keys: every request its own key, hashed"),
        _ => None,
    }
}

/// The same traffic and the same faults under every policy: the scenario
/// as recorded, with its policy (and any change of policy) replaced.
/// Rows come best goodput first (ties in menu order).
pub fn compare_policies(scn: &Scenario) -> Result<Vec<PolicyRow>, ScenarioError> {
    let mut rows = Vec::new();
    for policy in Policy::ALL.iter() {
        let s = policy_scenario(scn, policy.name())?;
        let lab = crate::lab::Lab::replay(&s)?;
        let Some(b) = lab.model::<BalanceLab>() else { continue };
        let m = b.model();
        let q = |h: &Histogram<u64>, q: f64| if h.is_empty() { f64::NAN } else { h.value_at_quantile(q) as f64 };
        let max = |h: &Histogram<u64>| if h.is_empty() { f64::NAN } else { h.max() as f64 };
        let (h, all) = (m.latency(), m.latency_all());
        let t = m.totals();
        let ended = t.ended();
        rows.push(PolicyRow {
            policy: policy.name().into(),
            latency: [q(h, 0.5), q(h, 0.95), q(h, 0.99), q(h, 0.999), max(h)],
            latency_all: [q(&all, 0.5), q(&all, 0.99), q(&all, 0.999)],
            success: if ended > 0 { t.completed as f64 / ended as f64 } else { f64::NAN },
            goodput: t.goodput(),
            counts: [t.requests, t.completed, t.rejected, t.timed_out, t.failed],
            retries_per_request: if t.requests > 0 { t.retries as f64 / t.requests as f64 } else { 0.0 },
            fallback: fallback(*policy, &m.cfg).map(str::to_string),
        });
    }
    // Best goodput first; a policy with nothing ended last.
    rows.sort_by(|a, b| {
        let key = |r: &PolicyRow| if r.goodput.is_nan() { -1.0 } else { r.goodput };
        key(b).total_cmp(&key(a))
    });
    Ok(rows)
}
