//! The Load-balancing lab's own panel: the latency histogram. The drawing
//! (servers, the balancer, requests and answers), the server table,
//! metrics and charts are the shared ones; the comparison of every policy
//! on the same traffic is one of the lab's experiments.

use super::LabView;
use crate::ctx::{Ctx, PanelProps};
use clusterscope_core::balance::lab::BalanceView;
use yew::prelude::*;

/// The Load-balancing lab's own views.
pub const VIEW: LabView = LabView {
    name: "balance",
    stage: None,
    below: |ctx: &Ctx| html! { <Histogram ctx={ctx.clone()} /> },
    bench: None,
    side: |_| Html::default(),
};

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
