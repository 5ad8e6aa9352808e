//! The Load-balancing lab's own panel: every policy on the same traffic and
//! faults. The drawing (servers, the balancer, requests and answers), the
//! server table, metrics and charts are the shared ones.

use super::LabView;
use crate::protocol::ToWorker;
use crate::view::{Ctx, PanelProps};
use clusterscope_core::balance::lab::PolicyRow;
use yew::prelude::*;

/// The Load-balancing lab's own views.
pub const VIEW: LabView = LabView {
    name: "balance",
    stage: None,
    below: |_| Html::default(),
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
