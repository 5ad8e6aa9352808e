//! The Paxos lab's own panel: Paxos beside Raft. The drawing, node table,
//! node actions, metrics and charts are the generic cluster lab's.

use super::LabView;
use crate::ctx::{Ctx, PanelProps};
use crate::protocol::ToWorker;
use clusterscope_core::experiments::BesideRow;
use yew::prelude::*;

/// The Paxos lab's own views.
pub const VIEW: LabView = LabView {
    name: "paxos",
    stage: None,
    below: |_| Html::default(),
    bench: None,
    side: |ctx: &Ctx| html! { <Beside ctx={ctx.clone()} /> },
};

fn ms(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{:.1} ms", v / 1e3)
    }
}

/// The same cluster, network, faults and load on Multi-Paxos and on Raft.
#[function_component]
pub fn Beside(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let rows: Option<Vec<BesideRow>> = ctx
        .state
        .answer
        .as_ref()
        .filter(|(q, ..)| q == "beside")
        .and_then(|(_, bytes, _)| bincode::deserialize(bytes).ok());
    html! {
        <section class="panel compare" aria-label="Paxos beside Raft">
            <h2>{ "Paxos beside Raft" }</h2>
            <p class="note">{ "The same servers, network, faults and client load so far, run on Multi-Paxos and on Raft (150–300 ms to a new leader, 50 ms heartbeats in both)." }</p>
            <button onclick={ctx.bridge.cb(ToWorker::Query("beside".into()))}>{ "Run both" }</button>
            if let Some(rows) = rows {
                <div class="scroll"><table class="logs" aria-label="Beside">
                    <thead><tr><th>{ "Protocol" }</th><th>{ "Committed" }</th><th title="messages sent per committed command">{ "Msgs/cmd" }</th>
                        <th>{ "p50" }</th><th>{ "p99" }</th><th>{ "No leader" }</th></tr></thead>
                    <tbody>
                    { for rows.iter().map(|r| html! {
                        <tr aria-label={r.protocol.clone()}>
                            <th scope="row">{ &r.protocol }</th>
                            <td>{ format!("{}/{}", r.committed, r.requests) }</td>
                            <td data-value={r.msgs_per_commit.to_string()}>{ format!("{:.1}", r.msgs_per_commit) }</td>
                            <td>{ ms(r.commit_p50) }</td>
                            <td>{ ms(r.commit_p99) }</td>
                            <td>{ ms(r.leaderless) }</td>
                        </tr>
                    }) }
                    </tbody>
                </table></div>
            }
        </section>
    }
}
