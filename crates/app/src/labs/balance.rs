//! The Load-balancing lab's own panel: the latency histogram, a chart of
//! the shared chart module (title, axes, values on hover, export). The drawing
//! (servers, the balancer, requests and answers), the server table,
//! metrics and charts are the shared ones; the comparison of every policy
//! on the same traffic is one of the lab's experiments.

use super::LabView;
use crate::ctx::{Ctx, PanelProps};
use crate::view::results::ChartView;
use clusterscope_core::balance::lab::BalanceView;
use clusterscope_core::chart::{Axis, Chart, Mark, Point, Series};
use std::rc::Rc;
use yew::prelude::*;

/// The Load-balancing lab's own views.
pub const VIEW: LabView = LabView {
    name: "balance",
    stage: None,
    below: |ctx: &Ctx| html! { <Histogram ctx={ctx.clone()} /> },
    bench: None,
    side: |_| Html::default(),
};

/// The name of the bucket up to `hi` microseconds.
fn bucket_name(hi: u64) -> String {
    if hi == u64::MAX {
        "more".to_string()
    } else if hi >= 1_000_000 {
        format!("≤{}s", hi / 1_000_000)
    } else {
        format!("≤{}ms", hi / 1_000)
    }
}

/// The histogram as a chart of the shared chart module: a title, axes
/// with their units, each bar's count on hover, SVG and PNG export.
pub fn histogram_chart(view: &BalanceView) -> Chart {
    let completed: u64 = view.buckets.iter().map(|b| b.1).sum();
    let mut chart = Chart::new(
        format!("Latency of the {completed} requests completed in the last 1–2 s"),
        Axis::new("latency, up to", ""),
        Axis::new("requests completed", ""),
    );
    chart.categories = view.buckets.iter().map(|(hi, _)| bucket_name(*hi)).collect();
    let points = view.buckets.iter().enumerate().map(|(i, (_, n))| Point::new(i as f64, *n as f64)).collect();
    chart.series.push(Series { name: "requests".into(), mark: Mark::Bars, points });
    chart
}

/// The latency histogram of the last one to two seconds.
#[function_component]
pub fn Histogram(props: &PanelProps) -> Html {
    let Some(view) = super::decoded::<BalanceView>(&props.ctx.state) else {
        return html! {};
    };
    html! {
        <section class="panel charts histogram" aria-label="Latency histogram">
            <ChartView chart={Rc::new(histogram_chart(&view))} file="clusterscope-balance-latency" />
        </section>
    }
}
