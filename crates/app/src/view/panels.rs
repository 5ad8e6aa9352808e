//! The DOM panels around the cluster view: transport controls, the selected
//! node's actions, metrics and charts, network and setup parameters, logs.
//! Every control has an accessible name.

use super::{PanelProps, SPEEDS};
use crate::presets;
use crate::protocol::ToWorker;
use crate::state::{Msg, Sample};
use clusterscope_core::scenario::params::{Kind, ParamSpec};
use clusterscope_core::scenario::{LabKind, Scenario};
use clusterscope_core::sim::time::format_clock;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

fn input_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value())
        .or_else(|| e.target().and_then(|t| t.dyn_into::<HtmlSelectElement>().ok()).map(|s| s.value()))
        .unwrap_or_default()
}

/// Transport properties.
#[derive(Properties, Clone, PartialEq)]
pub struct TransportProps {
    /// State and worker.
    pub ctx: super::Ctx,
    /// Fewer controls (embed layout).
    pub compact: bool,
}

/// Play/pause, step, speed, reset and seed.
#[function_component]
pub fn Transport(props: &TransportProps) -> Html {
    let ctx = &props.ctx;
    let s = &ctx.state;
    let playing = s.status.playing;
    let can_run = s.frame.as_ref().is_some_and(|f| f.can_run);
    let toggle = ctx.bridge.cb(if playing { ToWorker::Pause } else { ToWorker::Play });
    let on_speed = {
        let b = ctx.bridge.clone();
        let d = s.dispatcher();
        Callback::from(move |e: Event| {
            if let Some(&(_, v)) = SPEEDS.iter().find(|(l, _)| *l == input_value(&e)) {
                d.dispatch(Msg::Speed(v));
                b.send(ToWorker::Speed(v));
            }
        })
    };
    let speed_label = SPEEDS.iter().find(|(_, v)| *v == s.speed).map_or("0.1×", |(l, _)| l);
    let time = s.frame.as_ref().map_or(0, |f| f.time);
    html! {
        <div class="transport" role="toolbar" aria-label="Simulation controls">
            <button class="play" aria-label={ if playing { "Pause" } else { "Play" } } aria-keyshortcuts="Space"
                onclick={toggle} disabled={!playing && !can_run}>
                { if playing { "❚❚ Pause" } else { "▶ Play" } }
            </button>
            <button aria-label="Step" title="Advance to the next event (.)" onclick={ctx.bridge.cb(ToWorker::Step)} disabled={!can_run}>{ "Step" }</button>
            <label>{ "Speed " }
                <select aria-label="Speed" onchange={on_speed}>
                    { for SPEEDS.iter().map(|(l, _)| html! { <option value={*l} selected={*l == speed_label}>{ *l }</option> }) }
                </select>
            </label>
            <button aria-label="Reset" title="Back to time 0, same scenario" onclick={ctx.bridge.cb(ToWorker::Reset)}>{ "Reset" }</button>
            <output class="clock" aria-label="Virtual time">{ format_clock(time) }</output>
            if !props.compact {
                <SeedInput ctx={ctx.clone()} />
            }
        </div>
    }
}

/// Props of [`Field`].
#[derive(Properties, Clone, PartialEq)]
pub struct FieldProps {
    /// Accessible name.
    pub label: AttrValue,
    /// The value in force; the field shows it whenever it changes.
    pub value: AttrValue,
    /// Called with the text when the user commits an edit.
    pub onchange: Callback<Event>,
    /// Width in characters.
    #[prop_or(8)]
    pub size: u32,
}

/// A text field that shows `value` when it changes but otherwise leaves the
/// user's typing alone, although the page re-renders many times a second.
#[function_component]
pub fn Field(props: &FieldProps) -> Html {
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with(props.value.clone(), move |v| {
            if let Some(i) = input.cast::<HtmlInputElement>() {
                i.set_value(v);
            }
        });
    }
    html! { <input ref={input} aria-label={props.label.clone()} size={props.size.to_string()} onchange={props.onchange.clone()} /> }
}

/// An input for one parameter: a menu for choices and toggles, a text
/// field (with units) otherwise. Uncontrolled, keyed by its value, so a
/// frame arriving while the user types does not overwrite what they type.
fn param_input(spec: &ParamSpec, value: i64, onchange: Callback<Event>) -> Html {
    let key = format!("{}={}", spec.name, value);
    let options: Option<Vec<&str>> = match spec.kind {
        Kind::Choice(names) => Some(names.to_vec()),
        Kind::Toggle => Some(vec!["off", "on"]),
        _ => None,
    };
    match options {
        Some(opts) => {
            let current = spec.format(value);
            html! {
                <select {key} aria-label={spec.name} {onchange}>
                    { for opts.iter().map(|o| html! { <option value={*o} selected={*o == current}>{ *o }</option> }) }
                </select>
            }
        }
        None => html! { <Field {key} label={spec.name} value={spec.format(value)} {onchange} /> },
    }
}

fn current_scenario(text: &str) -> Option<Scenario> {
    Scenario::parse(text).ok()
}

/// The seed, and a button for a new one.
#[function_component]
fn SeedInput(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let scn = current_scenario(&ctx.state.scenario);
    let seed = scn.as_ref().map_or(1, |s| s.seed);
    let params: Vec<(String, String)> = Vec::new();
    let on_change = {
        let b = ctx.bridge.clone();
        let d = ctx.state.dispatcher();
        let params = params.clone();
        Callback::from(move |e: Event| match input_value(&e).trim().parse::<u64>() {
            Ok(seed) => b.send(ToWorker::Configure { params: params.clone(), seed }),
            Err(_) => d.dispatch(Msg::Error("The seed must be a whole number from 0 to 18446744073709551615.".into())),
        })
    };
    let on_new = {
        let b = ctx.bridge.clone();
        Callback::from(move |_| {
            let seed = (js_sys::Math::random() * 1e9) as u64;
            b.send(ToWorker::Configure { params: params.clone(), seed });
        })
    };
    html! {
        <span class="seed">
            <label>{ "Seed " }<Field label="Seed" value={seed.to_string()} onchange={on_change} size={10} /></label>
            <button aria-label="New seed" title="Restart with a random seed" onclick={on_new}>{ "New seed" }</button>
        </span>
    }
}

/// A slider over the virtual time reached so far: drag to go back.
#[function_component]
pub fn Timeline(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let horizon = ctx.state.status.horizon;
    let time = ctx.state.frame.as_ref().map_or(0, |f| f.time);
    let on_input = {
        let b = ctx.bridge.clone();
        Callback::from(move |e: Event| {
            if let Ok(t) = input_value(&e).parse::<u64>() {
                b.send(ToWorker::Seek(t));
            }
        })
    };
    html! {
        <div class="timeline">
            <input type="range" aria-label="Time travel" min="0" max={horizon.to_string()} step="1000"
                value={time.to_string()} onchange={on_input} />
            <span>{ format!("{} / {}", format_clock(time), format_clock(horizon)) }</span>
        </div>
    }
}

/// Each node's log: one box per entry, coloured by term, committed ones solid.
#[function_component]
pub fn Logs(props: &PanelProps) -> Html {
    let Some(f) = props.ctx.state.frame.clone() else { return html! {} };
    if f.nodes.len() > 25 {
        return html! { <p class="note">{ "Logs are listed for clusters of up to 25 nodes." }</p> };
    }
    html! {
        <div class="scroll"><table class="logs" aria-label="Logs">
            <thead><tr><th>{ "Node" }</th><th>{ "Role" }</th><th>{ "Term" }</th><th>{ "Vote" }</th><th>{ "Commit" }</th><th>{ "Log (last entries, by term)" }</th></tr></thead>
            <tbody>
            { for f.nodes.iter().map(|n| {
                let d = props.ctx.state.dispatcher();
                let id = n.id;
                let select = Callback::from(move |_| d.dispatch(Msg::Select(Some(id))));
                let selected = props.ctx.state.selected == Some(n.id);
                html! {
                    <tr class={classes!(selected.then_some("selected"), n.status.clone())} onclick={select} aria-label={format!("S{}", n.id + 1)}>
                        <th scope="row">{ format!("S{}", n.id + 1) }</th>
                        <td class={classes!("role", n.role.clone())}>{ &n.role }{ if n.status == "paused" { " (paused)" } else { "" } }</td>
                        <td>{ n.term }</td>
                        <td>{ n.voted_for.map_or("–".into(), |v| format!("S{}", v + 1)) }</td>
                        <td>{ n.commit }</td>
                        <td class="entries">
                            if n.log_first > 1 { <span class="more">{ format!("…{} ", n.log_first - 1) }</span> }
                            { for n.log_terms.iter().enumerate().map(|(i, t)| {
                                let index = n.log_first + i as u64;
                                let committed = index <= n.commit;
                                html! { <span class={classes!("entry", committed.then_some("committed"))} data-term={t.to_string()}
                                    style={format!("--hue:{}", (t * 67) % 360)} title={format!("index {index}, term {t}{}", if committed { ", committed" } else { "" })}>{ t }</span> }
                            }) }
                        </td>
                    </tr>
                }
            }) }
            </tbody>
        </table></div>
    }
}

/// Actions on the selected node.
#[function_component]
pub fn NodePanel(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let (Some(f), Some(id)) = (ctx.state.frame.clone(), ctx.state.selected) else {
        return html! { <section class="panel node" aria-label="Node"><h2>{ "Node" }</h2><p class="note">{ "Click a node to crash, restart, pause it, force its election timeout or send it a client request." }</p></section> };
    };
    let Some(n) = f.nodes.get(id as usize) else { return html! {} };
    let name = format!("S{}", id + 1);
    let act = |verb: &str| ctx.bridge.cb::<MouseEvent>(ToWorker::Act(format!("{verb} {name}")));
    let label = |what: &str| format!("{what} {name}");
    let others: Vec<String> = f.nodes.iter().filter(|o| o.id != id).map(|o| format!("S{}", o.id + 1)).collect();
    let isolate = ctx.bridge.cb(ToWorker::Act(format!("partition {name} | {}", others.join(","))));
    let up = n.status == "up";
    html! {
        <section class="panel node" aria-label="Node">
            <h2>{ format!("{name}: {}, term {}", n.role, n.term) }</h2>
            <div class="buttons">
                if n.status == "crashed" {
                    <button aria-label={label("Restart")} onclick={act("restart")}>{ "Restart" }</button>
                } else {
                    <button aria-label={label("Crash")} onclick={act("crash")}>{ "Crash" }</button>
                }
                if n.status == "paused" {
                    <button aria-label={label("Resume")} onclick={act("resume")}>{ "Resume" }</button>
                } else {
                    <button aria-label={label("Pause")} onclick={act("pause")} disabled={!up}>{ "Pause" }</button>
                }
                <button aria-label={label("Time out")} onclick={act("timeout")} disabled={!up}>{ "Time out" }</button>
                <button aria-label={label("Client request")} onclick={act("request")} disabled={!up}>{ "Client request" }</button>
                if !others.is_empty() { <button aria-label={label("Isolate")} onclick={isolate}>{ "Isolate" }</button> }
            </div>
            <p class="note">{ format!("log {} entries, commit index {}, clock drift {} ppm", n.log_len, n.commit, n.drift_ppm) }</p>
        </section>
    }
}

/// The lab's live metrics.
#[function_component]
pub fn Metrics(props: &PanelProps) -> Html {
    let Some(f) = props.ctx.state.frame.clone() else { return html! {} };
    html! {
        <section class="panel metrics" aria-label="Metrics">
            <h2>{ "Metrics" }</h2>
            <dl>
                { for f.metrics.iter().map(|m| html! {
                    <><dt>{ &m.label }</dt><dd data-metric={m.name.clone()} data-value={m.value.to_string()}>{ &m.text }</dd></>
                }) }
                <dt>{ "Events" }</dt><dd data-metric="events">{ f.events }</dd>
                <dt>{ "Trace fingerprint" }</dt><dd data-metric="fingerprint" title="Equal fingerprints: identical runs">{ &f.fingerprint }</dd>
            </dl>
        </section>
    }
}

fn sparkline(samples: &[Sample], pick: fn(&Sample) -> f64, label: &str, unit: fn(f64) -> String) -> Html {
    let max = samples.iter().map(pick).fold(0.0f64, f64::max);
    let n = samples.len().max(2) as f64;
    let points: Vec<String> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{:.1},{:.1}", i as f64 * 200.0 / (n - 1.0), 40.0 - 38.0 * pick(s) / max.max(1e-9)))
        .collect();
    html! {
        <figure>
            <figcaption>{ format!("{label} (max {})", unit(max)) }</figcaption>
            <svg viewBox="0 0 200 40" role="img" aria-label={label.to_string()} preserveAspectRatio="none">
                <polyline points={points.join(" ")} fill="none" stroke="currentColor" stroke-width="1.5" />
            </svg>
        </figure>
    }
}

/// Live charts of the metrics over virtual time.
#[function_component]
pub fn Charts(props: &PanelProps) -> Html {
    let samples: Vec<Sample> = props.ctx.state.samples.iter().copied().collect();
    if samples.len() < 2 {
        return html! {};
    }
    let ms = |v: f64| format!("{:.1} ms", v / 1e3);
    html! {
        <section class="panel charts" aria-label="Charts">
            { sparkline(&samples, |s| s.msgs_per_sec, "Messages per second", |v| format!("{v:.0}")) }
            { sparkline(&samples, |s| s.commit_p99, "Commit latency p99", ms) }
            { sparkline(&samples, |s| s.leaderless, "Time without leader", ms) }
            { sparkline(&samples, |s| s.term, "Term", |v| format!("{v:.0}")) }
        </section>
    }
}

/// Network conditions and partitions, changed live (recorded as actions).
#[function_component]
pub fn Network(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    // Hooks first, every render, before anything can return early.
    let partition = use_state(String::new);
    let block = (use_state(|| 0u32), use_state(|| 1u32));
    let Some(scn) = current_scenario(&ctx.state.scenario) else { return html! {} };
    // The value in force now: the last `set` action, else the parameter.
    let value_now = |name: &str| {
        scn.actions
            .iter()
            .rev()
            .find_map(|t| match &t.action {
                clusterscope_core::scenario::Action::Set(n, v) if n == name => Some(*v),
                _ => None,
            })
            .unwrap_or_else(|| scn.get(name))
    };
    let live: Vec<_> = scn.lab.params().into_iter().filter(|p| p.live).collect();
    let cluster = scn.lab == LabKind::Raft;
    let n = scn.nodes();
    let pick = |state: UseStateHandle<u32>| {
        Callback::from(move |e: Event| {
            if let Ok(v) = input_value(&e).parse::<u32>() {
                state.set(v);
            }
        })
    };
    let on_block_from = pick(block.0.clone());
    let on_block_to = pick(block.1.clone());
    let on_block = {
        let b = ctx.bridge.clone();
        let (from, to) = (*block.0, *block.1);
        let d = ctx.state.dispatcher();
        Callback::from(move |_| {
            if from == to {
                d.dispatch(Msg::Error("Pick two different servers to cut the link between them.".into()));
            } else {
                b.send(ToWorker::Act(format!("block S{} S{}", from + 1, to + 1)));
            }
        })
    };
    let on_split = {
        let b = ctx.bridge.clone();
        let p = partition.clone();
        Callback::from(move |_| b.send(ToWorker::Act(format!("partition {}", *p))))
    };
    let on_part_input = {
        let p = partition.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                p.set(i.value());
            }
        })
    };
    html! {
        <section class="panel network" aria-label={if cluster { "Network" } else { "Live settings" }}>
            <h2>{ if cluster { "Network (live)" } else { "Live settings" } }</h2>
            if cluster {
                <div class="row">
                    <input aria-label="Partition groups" placeholder="S1,S2 | S3,S4,S5" value={(*partition).clone()} oninput={on_part_input} />
                    <button onclick={on_split}>{ "Split" }</button>
                    <button onclick={ctx.bridge.cb(ToWorker::Act("heal".into()))}>{ "Heal" }</button>
                </div>
                <div class="row">
                    <span class="note">{ "Cut one way:" }</span>
                    <select aria-label="Block from" onchange={on_block_from}>
                        { for (0..n).map(|i| html! { <option value={i.to_string()} selected={*block.0 == i}>{ format!("S{}", i + 1) }</option> }) }
                    </select>
                    <span>{ "→" }</span>
                    <select aria-label="Block to" onchange={on_block_to}>
                        { for (0..n).map(|i| html! { <option value={i.to_string()} selected={*block.1 == i}>{ format!("S{}", i + 1) }</option> }) }
                    </select>
                    <button onclick={on_block}>{ "Block" }</button>
                </div>
            }
            { for live.iter().map(|spec| {
                let b = ctx.bridge.clone();
                let name = spec.name;
                let onchange = Callback::from(move |e: Event| b.send(ToWorker::Act(format!("set {name} {}", input_value(&e).trim()))));
                html! {
                    <label class="param" title={format!("{} (from {} to {})", spec.help, spec.format(spec.min), spec.format(spec.max))}>
                        <span>{ spec.name }</span>
                        { param_input(spec, value_now(spec.name), onchange) }
                    </label>
                }
            }) }
        </section>
    }
}

/// Parameters fixed at the start of a run; applying them restarts at 0.
#[function_component]
pub fn Setup(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let edits = use_state(Vec::<(String, String)>::new);
    let Some(scn) = current_scenario(&ctx.state.scenario) else { return html! {} };
    let fixed: Vec<_> = scn.lab.params().into_iter().filter(|p| !p.live).collect();
    let on_apply = {
        let b = ctx.bridge.clone();
        let edits = edits.clone();
        let seed = scn.seed;
        Callback::from(move |_| {
            b.send(ToWorker::Configure { params: (*edits).clone(), seed });
            edits.set(Vec::new());
        })
    };
    html! {
        <section class="panel setup" aria-label="Setup">
            <h2>{ "Setup (restarts the run)" }</h2>
            { for fixed.iter().map(|spec| {
                let edits = edits.clone();
                let name = spec.name.to_string();
                let onchange = Callback::from(move |e: Event| {
                    let mut v: Vec<(String, String)> = (*edits).iter().filter(|(n, _)| *n != name).cloned().collect();
                    v.push((name.clone(), input_value(&e)));
                    edits.set(v);
                });
                html! {
                    <label class="param" title={format!("{} (from {} to {})", spec.help, spec.format(spec.min), spec.format(spec.max))}>
                        <span>{ spec.name }</span>
                        { param_input(spec, scn.get(spec.name), onchange) }
                    </label>
                }
            }) }
            <button onclick={on_apply} disabled={edits.is_empty()}>{ "Apply and restart" }</button>
        </section>
    }
}

/// One-click scenarios.
#[function_component]
pub fn Presets(props: &PanelProps) -> Html {
    let b = props.ctx.bridge.clone();
    let ring = props.ctx.state.frame.as_ref().is_some_and(|f| f.lab == "ring");
    let list: &'static [(&'static str, &'static str)] = if ring { presets::RING } else { presets::RAFT };
    let onchange = Callback::from(move |e: Event| {
        let v = input_value(&e);
        if let Some((_, text)) = list.iter().find(|(t, _)| *t == v) {
            b.send(ToWorker::LoadText(text.to_string()));
            b.send(ToWorker::Play);
        }
    });
    html! {
        <label class="presets">{ "Scenario " }
            <select key={if ring { "ring" } else { "raft" }} aria-label="Preset scenario" {onchange}>
                <option value="" selected=true disabled=true>{ "Open a classic situation…" }</option>
                { for list.iter().map(|(t, _)| html! { <option value={*t}>{ *t }</option> }) }
            </select>
        </label>
    }
}

/// The share link and a copy button.
#[function_component]
pub fn Share(props: &PanelProps) -> Html {
    let link = props.ctx.state.link.clone();
    let copied = use_state(|| false);
    let onclick = {
        let copied = copied.clone();
        Callback::from(move |_| {
            if let Some(w) = web_sys::window() {
                let href = w.location().href().unwrap_or_default();
                let _ = w.navigator().clipboard().write_text(&href);
                copied.set(true);
            }
        })
    };
    let embed = {
        let w = web_sys::window();
        let base = w.as_ref().and_then(|w| w.location().origin().ok()).unwrap_or_default()
            + &w.as_ref().and_then(|w| w.location().pathname().ok()).unwrap_or_default();
        format!("<iframe src=\"{base}?embed=1#{link}\" width=\"660\" height=\"620\" title=\"ClusterScope\"></iframe>")
    };
    html! {
        <div class="share">
            <button aria-label="Copy link" title="The address bar always reproduces this run" {onclick}>{ if *copied { "Link copied" } else { "Copy link" } }</button>
            <details><summary>{ "Embed" }</summary><textarea aria-label="Embed code" readonly=true rows="3" cols="50" value={embed} /></details>
        </div>
    }
}

/// The trace, newest last.
#[function_component]
pub fn EventLog(props: &PanelProps) -> Html {
    let lines: Vec<String> = props.ctx.state.log.iter().rev().take(200).cloned().collect();
    html! {
        <section class="panel eventlog" aria-label="Event log">
            <h2>{ "Events (newest first)" }</h2>
            <ol>{ for lines.iter().map(|l| html! { <li>{ l }</li> }) }</ol>
        </section>
    }
}

/// The browser benchmark: `?bench=1`. Runs standard workloads in the worker
/// and shows events and messages per second, for `tests/e2e/bench.mjs`.
#[function_component]
pub fn BenchPanel(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let run = {
        let b = ctx.bridge.clone();
        Callback::from(move |_| b.send(ToWorker::Bench(presets::BENCH.to_string())))
    };
    let result = ctx.state.bench.clone();
    let param = |name: &str, default: u32| -> u32 {
        let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        web_sys::UrlSearchParams::new_with_str(&search)
            .ok()
            .and_then(|p| p.get(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (nodes, vnodes, keys) = (param("ring_nodes", 1000), param("ring_vnodes", 100), param("ring_keys", 1_000_000));
    let run_ring = {
        let b = ctx.bridge.clone();
        Callback::from(move |_| b.send(ToWorker::RingBench { nodes, vnodes, keys }))
    };
    let ring = ctx.state.ring_bench.clone();
    html! {
        <div class="bench">
            <h1>{ "ClusterScope engine benchmark" }</h1>
            <p>{ "A 5-node Raft cluster under steady client load, run in the Web Worker (wasm)." }</p>
            <button id="run-bench" onclick={run}>{ "Run" }</button>
            if let Some(r) = result {
                <pre id="bench-result" data-run={ctx.state.bench_runs.to_string()} data-events={r.events.to_string()} data-delivered={r.delivered.to_string()}
                    data-millis={r.millis.to_string()} data-fingerprint={r.fingerprint.clone()}>
                    { format!("{} events, {} messages delivered in {:.1} ms: {:.0} events/s, {:.0} messages/s; fingerprint {}",
                        r.events, r.delivered, r.millis, r.events as f64 / r.millis * 1e3, r.delivered as f64 / r.millis * 1e3, r.fingerprint) }
                </pre>
            }
            <h2>{ format!("Ring: {nodes} servers × {vnodes} virtual nodes, {keys} keys") }</h2>
            <button id="run-ring-bench" onclick={run_ring}>{ "Run ring benchmark" }</button>
            if let Some((runs, json)) = ring {
                <pre id="ring-bench-result" data-run={runs.to_string()} data-json={json.clone()}>{ json }</pre>
            }
            if let Some(e) = ctx.state.error.clone() { <p role="alert">{ e }</p> }
        </div>
    }
}
