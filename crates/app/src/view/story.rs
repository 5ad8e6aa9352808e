//! A scenario as a story: its opening paragraph, its captions, and its
//! script.
//!
//! A preset opens with a paragraph saying what it shows (the scenario's
//! opening comment), which the page shows above the drawing until the
//! reader closes it. Its `at T say "..."` lines are captions: the one in
//! force at the current time shows in a band right above the drawing (so
//! it never covers a node, on the cluster, the diagram or both, at any
//! width), and moves with time travel. Its timed actions are its script:
//! the time slider marks them and the captions, a line says what comes
//! next, and "Take over" drops the rest on purpose. Acting back in the past
//! starts a branch, which says what it dropped and offers Undo.
//!
//! Everything here reads the scenario's settings (captions, script, the
//! paragraph) and the frame's time; nothing names a lab.

use crate::ctx::{Ctx, PanelProps};
use crate::protocol::ToWorker;
use clusterscope_core::sim::time::format_duration;
use clusterscope_core::sim::Time;
use yew::prelude::*;

/// Most ticks drawn on the time slider (a long recorded run has thousands
/// of actions; beyond this they are thinned evenly).
const MAX_TICKS: usize = 300;

/// The caption to go to from time `now`: the next one after it, or the
/// last one before it.
pub fn caption_target(captions: &[(Time, String)], now: Time, forward: bool) -> Option<Time> {
    if forward {
        captions.iter().map(|c| c.0).find(|&at| at > now)
    } else {
        captions.iter().map(|c| c.0).rev().find(|&at| at < now)
    }
}

/// The time the slider reaches: the run so far, or further if the script
/// or a caption lies beyond it.
pub fn slider_end(ctx: &Ctx) -> Time {
    let horizon = ctx.state.status.horizon;
    let Some(s) = ctx.state.settings.as_ref() else { return horizon };
    let last = |v: &[(Time, String)]| v.last().map_or(0, |x| x.0);
    horizon.max(last(&s.script)).max(last(&s.captions))
}

/// The scenario's opening paragraph, shown until the reader closes it
/// (a newly opened scenario with another paragraph shows again).
#[function_component]
pub fn Story(props: &PanelProps) -> Html {
    let closed = use_state(String::new);
    let Some(settings) = props.ctx.state.settings.as_ref() else { return html! {} };
    let about = settings.about.trim();
    if about.is_empty() || *closed == about {
        return html! {};
    }
    let close = {
        let (closed, about) = (closed.clone(), about.to_string());
        Callback::from(move |_| closed.set(about.clone()))
    };
    // A blank comment line starts a new paragraph; lines join as prose.
    let paragraphs = about.split("\n\n").map(|p| html! { <p>{ p.split('\n').collect::<Vec<_>>().join(" ") }</p> });
    html! {
        <div class="story" role="note" aria-label="About this scenario">
            <div class="story-text">{ for paragraphs }</div>
            <button class="close" aria-label="Close the story" title="Close" onclick={close}>{ "×" }</button>
        </div>
    }
}

/// The caption in force, in a band above the drawing, with buttons to the
/// previous and next caption. Shown only for scenarios that have captions;
/// before the first, the band keeps its place and says when it comes.
#[function_component]
pub fn CaptionBar(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let Some(settings) = ctx.state.settings.as_ref() else { return html! {} };
    if settings.captions.is_empty() {
        return html! {};
    }
    let now = ctx.state.time();
    let go = |forward: bool| {
        let target = caption_target(&settings.captions, now, forward);
        let b = ctx.bridge.clone();
        let onclick = Callback::from(move |_| {
            if let Some(t) = target {
                b.send(ToWorker::Pause);
                b.send(ToWorker::Seek(t));
            }
        });
        (target.is_none(), onclick)
    };
    let ((no_prev, prev), (no_next, next)) = (go(false), go(true));
    let (text, at) = match ctx.state.caption_at(now) {
        Some((at, text)) => (html! { <span class="caption-text">{ text }</span> }, Some(at)),
        None => (html! { <span class="caption-wait">{ "Captions tell this story as it plays." }</span> }, None),
    };
    html! {
        <div class="caption" data-at={at.map(|t| t.to_string())}>
            <button class="caption-nav" aria-label="Previous caption" title="Previous caption ([ or p)" aria-keyshortcuts="[ p" disabled={no_prev} onclick={prev}>{ "‹" }</button>
            <p role="status" aria-live="polite" aria-label="Caption">{ text }</p>
            <button class="caption-nav" aria-label="Next caption" title="Next caption (] or n)" aria-keyshortcuts="] n" disabled={no_next} onclick={next}>{ "›" }</button>
        </div>
    }
}

/// The script still to come and "Take over"; after a branch or a
/// take-over, what was dropped and Undo.
#[function_component]
pub fn Script(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let b = &ctx.bridge;
    if let Some(said) = ctx.state.status.undo.clone() {
        return html! {
            <div class="script branch" role="status">
                <span>{ said }</span>
                <button onclick={b.cb(ToWorker::Undo(true))} title="Back to where the run was, with the actions that were dropped">{ "Undo" }</button>
                <button class="close" aria-label="Keep the branch" title="Keep it" onclick={b.cb(ToWorker::Undo(false))}>{ "×" }</button>
            </div>
        };
    }
    let Some(settings) = ctx.state.settings.as_ref() else { return html! {} };
    let now = ctx.state.time();
    let to_come: Vec<&(Time, String)> = settings.script.iter().filter(|(at, _)| *at > now).collect();
    let Some((at, next)) = to_come.first() else { return html! {} };
    let more = match to_come.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    html! {
        <div class="script" role="status" aria-label="Script">
            <span>{ "Next in the script: " }<strong>{ format!("{} {next}", format_duration(*at)) }</strong>{ more }</span>
            <button onclick={b.cb(ToWorker::TakeOver)} title="Drop the scripted actions still to come: from here on, only what you do happens">{ "Take over" }</button>
        </div>
    }
}

/// The time slider's ticks: the script's actions and the captions, each
/// a button that goes to its time.
pub fn ticks(ctx: &Ctx, end: Time) -> Html {
    let Some(s) = ctx.state.settings.as_ref() else { return html! {} };
    if end == 0 || (s.script.is_empty() && s.captions.is_empty()) {
        return html! {};
    }
    let thin = |n: usize| n.div_ceil(MAX_TICKS).max(1);
    let tick = |kind: &'static str, (at, what): &(Time, String)| {
        let b = ctx.bridge.clone();
        let at = *at;
        let label = format!("{} {}: {what}", if kind == "caption" { "Caption at" } else { "At" }, format_duration(at));
        let left = format!("left: {:.3}%", at as f64 * 100.0 / end as f64);
        let onclick = Callback::from(move |_| b.send(ToWorker::Seek(at)));
        html! { <button class={classes!("tick", format!("tick-{kind}"))} style={left} tabindex="-1" aria-label={label.clone()} title={label} data-at={at.to_string()} {onclick}></button> }
    };
    html! {
        <div class="ticks" aria-label="Script and captions">
            { for s.script.iter().step_by(thin(s.script.len())).map(|a| tick("action", a)) }
            { for s.captions.iter().step_by(thin(s.captions.len())).map(|c| tick("caption", c)) }
        </div>
    }
}
