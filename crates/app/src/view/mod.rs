//! The page: function components that render the state and send commands
//! to the worker. Nothing here runs the simulation.

pub mod canvas;
pub mod panels;
pub mod tune;

use crate::codec::{last_decoded_bytes, MeasuredBincode};
use crate::labs;
use crate::protocol::{FromWorker, ToWorker};
use crate::state::{AppState, Msg};
use crate::worker::SimWorker;
use clusterscope_core::sim::time::format_clock;
use gloo_events::EventListener;
use gloo_worker::{Spawnable, WorkerBridge};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Speeds offered: label and virtual seconds per wall second (0 = maximum).
pub const SPEEDS: &[(&str, f64)] = &[
    ("0.01×", 0.01),
    ("0.1×", 0.1),
    ("0.25×", 0.25),
    ("1×", 1.0),
    ("10×", 10.0),
    ("100×", 100.0),
    ("max", 0.0),
];

/// A handle the components use to talk to the worker.
#[derive(Clone)]
pub struct Bridge(Rc<WorkerBridge<SimWorker>>);

impl PartialEq for Bridge {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

impl Bridge {
    /// Sends a command to the worker.
    pub fn send(&self, msg: ToWorker) {
        self.0.send(msg);
    }
    /// A callback that sends a fixed command.
    pub fn cb<E>(&self, msg: ToWorker) -> Callback<E> {
        let b = self.clone();
        Callback::from(move |_| b.send(msg.clone()))
    }
}

fn window() -> web_sys::Window {
    web_sys::window().unwrap_or_else(|| unreachable!("the page always has a window"))
}

fn query_flag(name: &str) -> bool {
    let search = window().location().search().unwrap_or_default();
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()
        .and_then(|p| p.get(name))
        .is_some_and(|v| v != "0" && v != "false")
}

fn current_hash() -> String {
    window().location().hash().unwrap_or_default().trim_start_matches('#').to_string()
}

/// The whole app.
#[function_component]
pub fn App() -> Html {
    let state = use_reducer(AppState::default);
    let embed = use_memo((), |_| query_flag("embed"));
    let bench = use_memo((), |_| query_flag("bench"));
    // The hash this page wrote last, so its own updates are not reloaded.
    let written = use_mut_ref(String::new);
    // A pasted link is loading: frames still in flight carry the old run's
    // link and must not overwrite the address until the worker answers.
    let loading = use_mut_ref(|| false);

    let bridge = {
        let dispatcher = state.dispatcher();
        use_memo((), move |_| {
            let bridge = SimWorker::spawner()
                .encoding::<MeasuredBincode>()
                .callback(move |out: FromWorker| dispatcher.dispatch(Msg::Worker(out, last_decoded_bytes())))
                // Trunk builds the worker for wasm-bindgen's no-modules target
                // and writes a loader shim that imports and starts it.
                .as_module(false)
                .with_loader(true)
                .spawn("./worker_loader.js");
            Bridge(Rc::new(bridge))
        })
    };
    let bridge = (*bridge).clone();

    // First load: the link in the address bar, or the default lab, playing.
    {
        let bridge = bridge.clone();
        let written = written.clone();
        let dispatcher = state.dispatcher();
        let bench = *bench;
        use_effect_with((), move |_| {
            let hash = current_hash();
            dispatcher.dispatch(Msg::Speed(0.1));
            if bench {
                // The benchmark page drives the worker itself (see BenchPanel).
            } else if hash.is_empty() {
                bridge.send(ToWorker::LoadPreset { lab: String::new(), index: 0 });
                bridge.send(ToWorker::Speed(0.1));
                bridge.send(ToWorker::Play);
            } else {
                *written.borrow_mut() = hash.clone();
                bridge.send(ToWorker::Speed(0.1));
                bridge.send(ToWorker::LoadLink(hash));
            }
        });
    }

    // A link pasted into the address bar of this tab.
    {
        let bridge = bridge.clone();
        let written = written.clone();
        let loading = loading.clone();
        use_effect_with((), move |_| {
            let listener = EventListener::new(&window(), "hashchange", move |_| {
                let hash = current_hash();
                if hash != *written.borrow() && !hash.is_empty() {
                    *written.borrow_mut() = hash.clone();
                    *loading.borrow_mut() = true;
                    bridge.send(ToWorker::Pause);
                    bridge.send(ToWorker::LoadLink(hash));
                }
            });
            move || drop(listener)
        });
    }

    // Keep the address bar reproducing what is on screen.
    {
        let written = written.clone();
        let settled = state.status.reset || state.error.is_some();
        use_effect_with((state.link.clone(), state.frames, settled), move |(link, _, settled)| {
            if *loading.borrow() {
                if !*settled {
                    return;
                }
                *loading.borrow_mut() = false;
            }
            if !link.is_empty() && *written.borrow() != *link {
                let loc = window().location();
                let url = format!(
                    "{}{}#{}",
                    loc.pathname().unwrap_or_default(),
                    loc.search().unwrap_or_default(),
                    link
                );
                if let Ok(history) = window().history() {
                    let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
                }
                *written.borrow_mut() = link.clone();
            }
        });
    }

    // Flow control: ask for the next frame once this one is on screen.
    {
        let bridge = bridge.clone();
        use_effect_with(state.frames, move |_| bridge.send(ToWorker::Ack));
    }

    // Space plays and pauses; '.' steps.
    {
        let bridge = bridge.clone();
        let playing = Rc::new(RefCell::new(state.status.playing));
        *playing.borrow_mut() = state.status.playing;
        let playing_now = state.status.playing;
        use_effect_with(playing_now, move |_| {
            // Not passive: the space bar must not also scroll the page.
            let options = gloo_events::EventListenerOptions::enable_prevent_default();
            let listener = EventListener::new_with_options(&window(), "keydown", options, move |e| {
                let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else { return };
                let typing = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT" | "BUTTON"));
                if typing {
                    return;
                }
                match e.key().as_str() {
                    " " => {
                        e.prevent_default();
                        bridge.send(if *playing.borrow() { ToWorker::Pause } else { ToWorker::Play });
                    }
                    "." => bridge.send(ToWorker::Step),
                    _ => {}
                }
            });
            move || drop(listener)
        });
    }

    let ctx = Ctx { state: state.clone(), bridge };
    if *bench {
        return html! { <panels::BenchPanel ctx={ctx} /> };
    }
    let time = state.frame.as_ref().map_or(0, |f| f.time);
    let error = state.error.clone().map(|e| {
        let d = state.dispatcher();
        html! {
            <div class="banner error" role="alert">
                <span>{ e }</span>
                <button aria-label="Dismiss message" onclick={Callback::from(move |_| d.dispatch(Msg::DismissError))}>{ "×" }</button>
            </div>
        }
    });
    let violation = state.frame.as_ref().and_then(|f| f.violation.clone()).map(|v| {
        html! { <div class="banner violation" role="alert"><strong>{ "Invariant violated. " }</strong>{ v }</div> }
    });
    let lab = state.lab().to_string();
    let own = labs::find(&lab);
    let timed = state.schema.as_ref().is_none_or(|s| s.timed);
    let cluster = state.schema.as_ref().is_none_or(|s| s.cluster);
    let own_stage = own.and_then(|v| v.stage);
    let drawing = match own_stage {
        Some(stage) => stage(&ctx),
        None => html! { <canvas::ClusterView ctx={ctx.clone()} /> },
    };
    let data = (time.to_string(), state.frames.to_string(), state.frame_bytes.to_string());

    if *embed {
        let full = {
            let loc = window().location();
            format!("{}#{}", loc.pathname().unwrap_or_default(), state.link)
        };
        return html! {
            <div class="embed" data-time={data.0} data-frames={data.1} data-frame-bytes={data.2} data-lab={lab}>
                { error }{ violation }
                { drawing }
                <div class="embed-bar">
                    <panels::Transport ctx={ctx.clone()} compact={true} />
                    <a class="open-full" href={full} target="_blank" rel="noopener">{ "Open in ClusterScope ↗" }</a>
                </div>
            </div>
        };
    }

    let tabs = state.catalog.iter().map(|info| {
        let b = ctx.bridge.clone();
        let active = lab == info.name;
        let name = info.name.clone();
        let onclick = Callback::from(move |_| {
            if !active {
                b.send(ToWorker::LoadPreset { lab: name.clone(), index: 0 });
                b.send(ToWorker::Play);
            }
        });
        html! {
            <button class={classes!("tab", active.then_some("active"))} aria-current={active.then_some("page")} title={info.about.clone()} {onclick}>{ info.title.clone() }</button>
        }
    });
    html! {
        <div class="app" data-time={data.0} data-frames={data.1} data-frame-bytes={data.2} data-lab={lab.clone()}>
            <header>
                <h1>{ "ClusterScope" }</h1>
                <nav aria-label="Labs">{ for tabs }</nav>
                <panels::Presets lab={lab.clone()} catalog={state.catalog.clone()} bridge={ctx.bridge.clone()} />
                <panels::Share link={state.link.clone()} />
            </header>
            { error }{ violation }
            <main>
                <section class="stage" aria-label="Lab">
                    <panels::Transport ctx={ctx.clone()} compact={false} />
                    { drawing }
                    if timed { <panels::Timeline ctx={ctx.clone()} /> }
                    if let (true, None, Some(schema)) = (cluster, own_stage, state.schema.clone()) {
                        <panels::NodeTable {schema} nodes={state.shown.nodes.clone()} selected={state.selected} dispatch={state.dispatcher()} />
                    }
                    { own.map(|v| (v.below)(&ctx)).unwrap_or_default() }
                </section>
                <aside>
                    if cluster && own_stage.is_none() { <panels::NodePanel ctx={ctx.clone()} /> }
                    <panels::Metrics ctx={ctx.clone()} />
                    <panels::Charts ctx={ctx.clone()} />
                    { settings(&ctx, |p| html! { <panels::Network ..p /> }) }
                    { own.map(|v| (v.side)(&ctx)).unwrap_or_default() }
                    { settings(&ctx, |p| html! { <panels::Setup ..p /> }) }
                    <tune::Tune ctx={ctx.clone()} />
                </aside>
            </main>
            <section class="bottom">
                <panels::EventLog log={state.shown.log.clone()} total={state.shown.log_total} />
            </section>
            if timed { <footer>{ format!("virtual time {}", format_clock(state.shown.frame.as_ref().map_or(0, |f| f.time))) }</footer> }
        </div>
    }
}

/// A settings panel, given only what it depends on.
fn settings(ctx: &Ctx, panel: impl Fn(panels::SettingsProps) -> Html) -> Html {
    match &ctx.state.settings {
        Some(settings) => panel(panels::SettingsProps {
            settings: settings.clone(),
            // Partitions and one-way cuts, for labs that have a network.
            cluster: ctx.state.schema.as_ref().is_some_and(|s| s.verbs.iter().any(|v| v == "partition")),
            bridge: ctx.bridge.clone(),
            dispatch: ctx.state.dispatcher(),
        }),
        None => html! {},
    }
}

/// What every panel gets: the state and the worker.
#[derive(Clone, PartialEq)]
pub struct Ctx {
    /// The page state.
    pub state: UseReducerHandle<AppState>,
    /// The worker.
    pub bridge: Bridge,
}

/// Props of a panel.
#[derive(Properties, Clone, PartialEq)]
pub struct PanelProps {
    /// State and worker.
    pub ctx: Ctx,
}
