//! The controls around the space-time diagram: the toolbar (zoom, whole
//! run, follow, filter chips) and the line under it that says what was
//! clicked and offers to light up what led to it.

use super::input::describe;
use super::{Filters, Window};
use crate::diagram::Diagram;
use crate::state::AppState;
use clusterscope_core::lab::diagram::{Record, What};
use clusterscope_core::lab::Schema;
use clusterscope_core::sim::{Time, MS, SEC};
use yew::prelude::*;

/// The toolbar above the diagram: zoom, the whole run, follow, and chips
/// that hide message kinds, timers, notes and (up to 32) lanes.
pub(super) fn toolbar(
    win: &UseStateHandle<Window>,
    filters: &UseStateHandle<Filters>,
    schema: &Schema,
    store: &Diagram,
    now: Time,
) -> Html {
    let zoom = |factor: f64| {
        let win = win.clone();
        Callback::from(move |_| {
            let span = ((win.span as f64 * factor) as Time).clamp(200, 30 * 24 * 3600 * SEC);
            let right = win.right.map(|r| r.max(span));
            win.set(Window { span, right });
        })
    };
    let follow = {
        let win = win.clone();
        Callback::from(move |_| win.set(Window { span: win.span, right: None }))
    };
    let whole = {
        let win = win.clone();
        let store = store.clone();
        Callback::from(move |_| {
            let first = store.0.borrow().first_time().unwrap_or(0);
            win.set(Window { span: now.saturating_sub(first).max(MS), right: None });
        })
    };
    let kind_chips = kind_chips(schema, filters, &store.0.borrow().kinds_seen);
    let toggle = |label: &'static str, on: bool, set: fn(&mut Filters)| {
        let filters = filters.clone();
        let onclick = Callback::from(move |_| {
            let mut f = (*filters).clone();
            set(&mut f);
            filters.set(f);
        });
        html! { <button class={classes!("chip", on.then_some("on"))} aria-pressed={on.to_string()} {onclick}>{ label }</button> }
    };
    let lane_chips = lane_chips(store.0.borrow().lanes, filters);
    html! {
        <div class="diagram-bar" role="toolbar" aria-label="Diagram controls">
            <button onclick={zoom(0.5)} aria-label="Zoom in">{ "+" }</button>
            <button onclick={zoom(2.0)} aria-label="Zoom out">{ "–" }</button>
            <button onclick={whole} title="The whole run kept">{ "Whole run" }</button>
            <button onclick={follow} aria-pressed={win.right.is_none().to_string()} title="Keep now at the right edge">{ "Follow" }</button>
            <span class="chips" aria-label="Message kinds">{ for kind_chips }
                { toggle("timers", !filters.timers, |f| f.timers = !f.timers) }
                { toggle("notes", !filters.notes, |f| f.notes = !f.notes) }
            </span>
            if let Some(l) = lane_chips { <span class="chips" aria-label="Nodes">{ l }</span> }
        </div>
    }
}

/// A chip per message kind the run has sent (or the user has hidden), lit
/// while arrows of that kind are shown.
fn kind_chips(schema: &Schema, filters: &UseStateHandle<Filters>, seen: &std::collections::BTreeSet<u16>) -> Vec<Html> {
    let shown = |k: u16| seen.contains(&k) || filters.kinds.contains(&k);
    schema.kinds.iter().enumerate().filter(move |(k, _)| shown(*k as u16)).map(move |(k, kind)| {
        let on = !filters.kinds.contains(&(k as u16));
        let filters = filters.clone();
        let onclick = Callback::from(move |_| {
            let mut f = (*filters).clone();
            if !f.kinds.remove(&(k as u16)) {
                f.kinds.insert(k as u16);
            }
            filters.set(f);
        });
        html! {
            <button class={classes!("chip", on.then_some("on"))} aria-pressed={on.to_string()} style={format!("--chip: {}", kind.color)} {onclick}>{ &kind.name }</button>
        }
    })
    .collect()
}

/// A chip per lane, lit while the lane is shown (only up to 32 lanes).
fn lane_chips(lanes: u32, filters: &UseStateHandle<Filters>) -> Option<Html> {
    (lanes <= 32).then(|| {
        (0..lanes)
            .map(|l| {
                let on = !filters.lanes.contains(&l);
                let filters = filters.clone();
                let onclick = Callback::from(move |_| {
                    let mut f = (*filters).clone();
                    if !f.lanes.remove(&l) {
                        f.lanes.insert(l);
                    }
                    filters.set(f);
                });
                html! { <button class={classes!("chip", on.then_some("on"))} aria-pressed={on.to_string()} {onclick}>{ format!("S{}", l + 1) }</button> }
            })
            .collect::<Html>()
    })
}

/// What the user clicked, said, with a message's contents when the worker
/// has sent them, and the "why?" that lights up its causal past.
pub(super) fn detail(
    state: &AppState,
    chosen: &Option<Record>,
    schema: &Schema,
    redraw: &UseStateHandle<u32>,
) -> Option<Html> {
    let focused = state.diagram.0.borrow().focus.is_some();
    let why = |focus: Option<(u32, Time)>| {
        let store = state.diagram.clone();
        let redraw = redraw.clone();
        Callback::from(move |_| {
            store.0.borrow_mut().set_focus(focus);
            redraw.set(*redraw + 1);
        })
    };
    chosen.as_ref().map(|r| {
        let text = state
            .message_text
            .as_ref()
            .filter(|(id, _)| *id == r.id && r.what.is_message())
            .map(|(_, t)| t.clone());
        // The event to explain: a message's arrival, or the mark itself.
        let event = if r.what == What::Delivered { (r.to, r.t1) } else { (r.from, r.t0) };
        html! {
            <p class="message-detail" aria-live="polite">
                <strong>{ describe(r, schema, &state.diagram.0.borrow().names) }</strong>
                { " " }<button onclick={why(Some(event))} title="Light up every event that happened before this one (Lamport's happens-before) and fade the rest">{ "Why? Show what led here" }</button>
                if focused { { " " }<button onclick={why(None)}>{ "Clear" }</button> }
                if let Some(t) = text { <br /><code>{ t }</code> }
            </p>
        }
    })
}
