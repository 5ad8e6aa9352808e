//! The Load-balancing lab's experiments: named runs that produce a table.
//!
//! [`POLICIES`] replays one scenario's traffic and faults under every
//! policy and compares latency percentiles, failures and retries; the lab's
//! page asks the same question ("compare") and gets [`compare_policies`]'s
//! rows.

use super::lab::BalanceLab;
use super::policy::Policy;
use crate::lab::{Cell, Column, ExpArgs, Experiment, Table};
use crate::scenario::{Action, Scenario, ScenarioError};
use crate::sim::time::format_duration;

/// Every balancing policy on the same traffic and the same faults
/// ([`compare_policies`]). The expectations come from the literature the
/// lab's presets cite: least connections and the power of two choices
/// (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing",
/// 2001) keep queues, hence tail latency, far below random and round robin
/// at the same load; peak EWMA (Linkerd's "Beyond Round Robin", 2016) avoids
/// a slow server; consistent hashing trades balance for affinity.
pub const POLICIES: Experiment = Experiment {
    name: "policies",
    about: "Every balancing policy on one scenario's traffic and faults: latency percentiles, failures, retries",
    args: &[],
    reads: &["balance"],
    needs_scenario: true,
    default_scenario: Some(include_str!("../../../../tests/scenarios/balance/default.scn")),
    run: run_policies,
};

/// The Load-balancing lab's experiments, as its lab lists them.
pub static EXPERIMENTS: &[Experiment] = &[POLICIES];

fn run_policies(scn: Option<&Scenario>, _: &ExpArgs) -> Result<Table, String> {
    let scn = scn.ok_or("policies needs a balance scenario")?;
    if scn.until == 0 {
        return Err("nothing to run: give the file an 'until' line".into());
    }
    let rows = compare_policies(scn).map_err(|e| e.to_string())?;
    let mut table = Table::new(
        format!(
            "Every policy on the same traffic: {} servers, seed {}, run to {}",
            scn.nodes(),
            scn.seed,
            format_duration(scn.until)
        ),
        vec![
            Column::text("policy"),
            Column::number("p50", "ms", 1),
            Column::number("p95", "ms", 1),
            Column::number("p99", "ms", 1),
            Column::number("p99.9", "ms", 1),
            Column::number("max", "ms", 1),
            Column::number("success", "%", 2),
            Column::number("rejected", "", 0),
            Column::number("timed out", "", 0),
            Column::number("failed", "", 0),
            Column::number("retries", "per request", 3),
        ],
    );
    for r in &rows {
        let ms = |v: f64| Cell::num(v / 1e3);
        table.push(vec![
            Cell::text(r.policy.clone()),
            ms(r.latency[0]),
            ms(r.latency[1]),
            ms(r.latency[2]),
            ms(r.latency[3]),
            ms(r.latency[4]),
            Cell::num(r.success * 100.0),
            Cell::num(r.counts[2] as f64),
            Cell::num(r.counts[3] as f64),
            Cell::num(r.counts[4] as f64),
            Cell::num(r.retries_per_request),
        ]);
    }
    table.note("Latency percentiles over the whole run, of requests that completed; success: completed over ended.");
    table.note("The scenario as recorded, with its policy (and any change of policy) replaced by each policy in turn.");
    Ok(table)
}

/// One policy's line in the comparison of policies.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PolicyRow {
    /// The policy's name.
    pub policy: String,
    /// Latency percentiles over the whole run, microseconds: p50, p95,
    /// p99, p99.9, max (NaN: nothing completed).
    pub latency: [f64; 5],
    /// Completed / ended.
    pub success: f64,
    /// Requests made, completed, rejected, timed out, failed.
    pub counts: [u64; 5],
    /// Retries per request.
    pub retries_per_request: f64,
}

/// The same traffic and the same faults under every policy: the scenario
/// as recorded, with its policy (and any change of policy) replaced.
pub fn compare_policies(scn: &Scenario) -> Result<Vec<PolicyRow>, ScenarioError> {
    let mut rows = Vec::new();
    for (i, policy) in Policy::ALL.iter().enumerate() {
        let mut s = scn.clone();
        s.set("policy", i as i64).map_err(ScenarioError::Invalid)?;
        s.actions.retain(|t| !matches!(&t.action, Action::Set(n, _) if n == "policy"));
        let lab = crate::lab::Lab::replay(&s)?;
        let Some(b) = lab.model::<BalanceLab>() else { continue };
        let m = b.model();
        let h = m.latency();
        let q = |q: f64| if h.is_empty() { f64::NAN } else { h.value_at_quantile(q) as f64 };
        let t = m.totals();
        let ended = t.completed + t.rejected + t.timed_out + t.failed;
        rows.push(PolicyRow {
            policy: policy.name().into(),
            latency: [q(0.5), q(0.95), q(0.99), q(0.999), if h.is_empty() { f64::NAN } else { h.max() as f64 }],
            success: if ended > 0 { t.completed as f64 / ended as f64 } else { f64::NAN },
            counts: [t.requests, t.completed, t.rejected, t.timed_out, t.failed],
            retries_per_request: if t.requests > 0 { t.retries as f64 / t.requests as f64 } else { 0.0 },
        });
    }
    Ok(rows)
}
