//! The Load-balancing lab's own panel: every policy on the same traffic and
//! faults. The drawing (servers, the balancer, requests and answers), the
//! server table, metrics and charts are the shared ones.

use super::LabView;
use crate::ctx::{Ctx, PanelProps};
use crate::protocol::ToWorker;
use clusterscope_core::balance::lab::{BalanceView, PolicyRow};
use yew::prelude::*;

/// The Load-balancing lab's own views.
pub const VIEW: LabView = LabView {
    name: "balance",
    stage: None,
    below: |ctx: &Ctx| html! { <Histogram ctx={ctx.clone()} /> },
    bench: None,
    side: |ctx: &Ctx| html! { <Policies ctx={ctx.clone()} /> },
};

fn ms(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{:.1}", v / 1e3)
    }
}

/// The same traffic and faults under each policy, side by side.
#[function_component]
pub fn Policies(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let rows: Option<Vec<PolicyRow>> = ctx
        .state
        .answer
        .as_ref()
        .filter(|(q, ..)| q == "compare")
        .and_then(|(_, bytes, _)| bincode::deserialize(bytes).ok());
    html! {
        <section class="panel compare" aria-label="Compare policies">
            <h2>{ "Compare policies" }</h2>
            <p class="note">{ "The same arrivals, costs and faults so far under every policy. Latency in ms over the whole run." }</p>
            <button onclick={ctx.bridge.cb(ToWorker::Query("compare".into()))}>{ "Compare" }</button>
            if let Some(rows) = rows {
                <div class="scroll"><table class="logs" aria-label="Policies">
                    <thead><tr><th>{ "Policy" }</th><th>{ "p50" }</th><th>{ "p99" }</th><th>{ "p99.9" }</th><th>{ "Success" }</th></tr></thead>
                    <tbody>
                    { for rows.iter().map(|r| html! {
                        <tr aria-label={r.policy.clone()}>
                            <th scope="row">{ r.policy.replace('_', " ") }</th>
                            <td>{ ms(r.latency[0]) }</td>
                            <td data-value={r.latency[2].to_string()}>{ ms(r.latency[2]) }</td>
                            <td>{ ms(r.latency[3]) }</td>
                            <td data-value={r.success.to_string()}>{ format!("{:.2}%", r.success * 100.0) }</td>
                        </tr>
                    }) }
                    </tbody>
                </table></div>
            }
        </section>
    }
}

/// The latency histogram of the last one to two seconds.
#[function_component]
pub fn Histogram(props: &PanelProps) -> Html {
    let Some(view) = props.ctx.state.view.as_ref().and_then(|v| bincode::deserialize::<BalanceView>(v).ok()) else {
        return html! {};
    };
    let max = view.buckets.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let n = view.buckets.len().max(1) as f64;
    let label = |hi: u64| {
        if hi == u64::MAX {
            "more".to_string()
        } else if hi >= 1_000_000 {
            format!("≤{}s", hi / 1_000_000)
        } else {
            format!("≤{}ms", hi / 1_000)
        }
    };
    html! {
        <section class="panel charts histogram" aria-label="Latency histogram">
            <figure>
                <figcaption>{ "Latency histogram, last 1–2 s (requests completed)" }</figcaption>
                <svg viewBox="0 0 560 80" role="img" aria-label="Latency histogram">
                    { for view.buckets.iter().enumerate().map(|(i, (hi, count))| {
                        let h = 56.0 * *count as f64 / max;
                        let x = i as f64 * 560.0 / n;
                        html! { <g>
                            <rect x={format!("{:.1}", x + 2.0)} y={format!("{:.1}", 60.0 - h)} width={format!("{:.1}", 560.0 / n - 4.0)} height={format!("{h:.1}")} fill="currentColor">
                                <title>{ format!("{}: {count}", label(*hi)) }</title>
                            </rect>
                            <text x={format!("{:.1}", x + 560.0 / n / 2.0)} y="74" font-size="10" text-anchor="middle" fill="#8b95a7">{ label(*hi) }</text>
                        </g> }
                    }) }
                </svg>
            </figure>
        </section>
    }
}
