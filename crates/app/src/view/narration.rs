//! Live narration: one plain sentence under the drawing for what just
//! happened ("The network healed: every link carries messages again"), from the
//! lab's own notes and the shared faults (the core's `Frame::narration`).
//! Switchable; the choice is remembered in the browser's local storage.
//! Shown once the lab has said something.

use crate::ctx::PanelProps;
use clusterscope_core::sim::time::format_clock;
use yew::prelude::*;

/// Where the page remembers that narration was switched off.
const OFF_KEY: &str = "clusterscope.narration-off";

/// The narration line and its switch.
#[function_component]
pub fn Narration(props: &PanelProps) -> Html {
    let on = use_state(|| !super::remembered(OFF_KEY));
    let toggle = {
        let on = on.clone();
        Callback::from(move |_| {
            let next = !*on;
            super::remember(OFF_KEY, !next);
            on.set(next);
        })
    };
    // Labs that do not narrate, and a run before its first event worth a
    // sentence, show nothing.
    let Some((t, said)) = props.ctx.state.frame.as_ref().and_then(|f| f.narration.clone()) else {
        return html! {};
    };
    html! {
        <div class="narration">
            <button class="narration-switch" aria-pressed={on.to_string()} title="Say in words what just happened" onclick={toggle}>
                { if *on { "Narration on" } else { "Narration off" } }
            </button>
            if *on {
                <p aria-live="polite" data-narration={said.clone()}>
                    <span class="when">{ format_clock(t) }</span>{ " " }{ said }
                </p>
            }
        </div>
    }
}
