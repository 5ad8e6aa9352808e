//! The DOM panels around the cluster view: transport controls, the selected
//! node's actions, metrics and charts, network and setup parameters, logs.
//! Every control has an accessible name.

use super::{PanelProps, SPEEDS};
use crate::protocol::ToWorker;
use crate::state::AppState;
use crate::state::Msg;
use clusterscope_core::lab::{LabInfo, NodeStatus, NodeView, ParamView, Schema, Settings, Unit};
use clusterscope_core::sim::time::format_clock;
use clusterscope_core::sim::Time;
use std::collections::VecDeque;
use std::rc::Rc;
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
    // The clock's text follows at the text panels' pace.
    let time = s.shown.frame.as_ref().map_or(0, |f| f.time);
    let timed = s.schema.as_ref().is_none_or(|s| s.timed);
    if !timed {
        // A lab without a clock (placement): changes apply in order; Reset
        // undoes them all.
        return html! {
            <div class="transport" role="toolbar" aria-label="Simulation controls">
                <button aria-label="Reset" title="Undo every change, same scenario" onclick={ctx.bridge.cb(ToWorker::Reset)}>{ "Reset" }</button>
                if !props.compact {
                    <SeedInput ctx={ctx.clone()} />
                }
            </div>
        };
    }
    html! {
        <div class="transport" role="toolbar" aria-label="Simulation controls">
            <button class="play" aria-label={ if playing { "Pause" } else { "Play" } } aria-keyshortcuts="Space"
                onclick={toggle} disabled={!playing && !can_run}>
                { if playing { "❚❚ Pause" } else { "▶ Play" } }
            </button>
            <button aria-label="Back one event" title="Back one event (←)" aria-keyshortcuts="ArrowLeft" onclick={ctx.bridge.cb(ToWorker::StepBack)} disabled={time == 0}>{ "◀" }</button>
            <button aria-label="Forward one event" title="Forward one event (→)" aria-keyshortcuts="ArrowRight" onclick={ctx.bridge.cb(ToWorker::StepEvent)} disabled={!can_run}>{ "▶|" }</button>
            <button aria-label="Step" title="Advance to the next instant at which something happens (.)" onclick={ctx.bridge.cb(ToWorker::Step)} disabled={!can_run}>{ "Step" }</button>
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
fn param_input(p: &ParamView, onchange: Callback<Event>) -> Html {
    let key = format!("{}={}", p.name, p.value);
    if p.choices.is_empty() {
        html! { <Field {key} label={p.label.clone()} value={p.value.clone()} {onchange} /> }
    } else {
        html! {
            <select {key} aria-label={p.label.clone()} {onchange}>
                { for p.choices.iter().map(|o| html! { <option value={o.clone()} selected={*o == p.value}>{ o }</option> }) }
            </select>
        }
    }
}

fn param_title(p: &ParamView) -> String {
    format!("{}: {} (from {} to {}; in files: {})", p.label, p.help, p.range.0, p.range.1, p.name)
}

/// The seed, and a button for a new one.
#[function_component]
fn SeedInput(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let seed = ctx.state.settings.as_ref().map_or(1, |s| s.seed);
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
    let time = ctx.state.shown.frame.as_ref().map_or(0, |f| f.time);
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

/// Props of [`NodeTable`].
#[derive(Properties, Clone, PartialEq)]
pub struct NodeTableProps {
    /// The lab's schema.
    pub schema: Rc<Schema>,
    /// Every node.
    pub nodes: Rc<Vec<NodeView>>,
    /// The selected node.
    pub selected: Option<u32>,
    /// To select a node.
    pub dispatch: UseReducerDispatcher<AppState>,
}

/// Every node as a table row: status, role, the lab's node fields and its
/// strip (Raft: the log's last entries, coloured by term, committed ones
/// solid). Click a row to select the node. A row re-renders only when its
/// node changed.
#[function_component]
pub fn NodeTable(props: &NodeTableProps) -> Html {
    let schema = &props.schema;
    if props.nodes.len() > 25 {
        return html! { <p class="note">{ "The node table lists clusters of up to 25 servers." }</p> };
    }
    html! {
        <div class="scroll"><table class="logs" aria-label="Nodes">
            <thead><tr>
                <th>{ "Node" }</th><th>{ "Role" }</th>
                { for schema.fields.iter().filter(|f| !HIDDEN_FIELDS.contains(&f.name.as_str())).map(|f| html! { <th>{ &f.label }</th> }) }
                if let Some(strip) = &schema.strip { <th>{ strip }</th> }
            </tr></thead>
            <tbody>
            { for props.nodes.iter().map(|n| html! {
                <NodeRow key={n.id} schema={schema.clone()} node={n.clone()} selected={props.selected == Some(n.id)} dispatch={props.dispatch.clone()} />
            }) }
            </tbody>
        </table></div>
    }
}

/// Node fields the table leaves out (the strip or the node panel shows them).
const HIDDEN_FIELDS: &[&str] = &["log", "drift", "snapshot", "snapshot_term", "config"];

/// Props of [`NodeRow`].
#[derive(Properties, Clone, PartialEq)]
struct NodeRowProps {
    schema: Rc<Schema>,
    node: NodeView,
    selected: bool,
    dispatch: UseReducerDispatcher<AppState>,
}

#[function_component]
fn NodeRow(props: &NodeRowProps) -> Html {
    let (schema, n) = (&props.schema, &props.node);
    let d = props.dispatch.clone();
    let id = n.id;
    let select = Callback::from(move |_| d.dispatch(Msg::Select(Some(id))));
    let role_name = if n.status == NodeStatus::Crashed {
        "crashed"
    } else {
        schema.roles.get(n.role as usize).map_or("?", |r| r.name.as_str())
    };
    let field = |name: &str| {
        schema.fields.iter().position(|f| f.name == name).and_then(|i| n.field(i)).map(|v| v.max(0) as u64)
    };
    let snapshot = field("snapshot").zip(field("snapshot_term"));
    html! {
        <tr class={classes!(props.selected.then_some("selected"), n.status.name())} onclick={select} aria-label={format!("S{}", n.id + 1)}>
            <th scope="row">{ format!("S{}", n.id + 1) }</th>
            <td class={classes!("role", role_name.to_string())}>{ role_name }{ if n.status == NodeStatus::Paused { " (paused)" } else { "" } }</td>
            { for schema.fields.iter().enumerate().filter(|(_, f)| !HIDDEN_FIELDS.contains(&f.name.as_str())).map(|(i, f)| {
                html! { <td>{ n.field(i).map_or("–".to_string(), |v| f.unit.format(v as f64)) }</td> }
            }) }
            if schema.strip.is_some() {
                <td class="entries">
                    // A compacted prefix (Raft §7) as one block with its last index and term.
                    if let Some((index, term)) = snapshot.filter(|(i, _)| *i > 0) {
                        <span class="entry snapshot" style={format!("--hue:{}", (term * 67) % 360)}
                            title={format!("snapshot: entries 1 to {index} compacted; last included term {term}")}>{ format!("≤{index} t{term}") }</span>
                    }
                    if n.strip_first > 1 + snapshot.map_or(0, |s| s.0) { <span class="more">{ format!("…{} ", n.strip_first - 1 - snapshot.map_or(0, |s| s.0)) }</span> }
                    { for n.strip.iter().enumerate().map(|(i, t)| {
                        let index = n.strip_first + i as u64;
                        let committed = index <= n.strip_mark;
                        html! { <span key={index} class={classes!("entry", committed.then_some("committed"))} data-term={t.to_string()}
                            style={format!("--hue:{}", (u64::from(*t) * 67) % 360)} title={format!("index {index}, term {t}{}", if committed { ", committed" } else { "" })}>{ t }</span> }
                    }) }
                </td>
            }
        </tr>
    }
}

/// Actions on the selected node: the shared faults and the cluster verbs.
#[function_component]
pub fn NodePanel(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let (Some(schema), Some(id)) = (ctx.state.schema.clone(), ctx.state.selected) else {
        return html! { <section class="panel node" aria-label="Node"><h2>{ "Node" }</h2><p class="note">{ "Click a node to crash, restart, pause it, force its timeout or send it a client request." }</p></section> };
    };
    let nodes = ctx.state.nodes.clone();
    let Some(n) = nodes.get(id as usize) else { return html! {} };
    let name = format!("S{}", id + 1);
    let act = |verb: &str| ctx.bridge.cb::<MouseEvent>(ToWorker::Act(format!("{verb} {name}")));
    let act_with = |verb: &str, arg: &str| ctx.bridge.cb::<MouseEvent>(ToWorker::Act(format!("{verb} {name} {arg}")));
    let label = |what: &str| format!("{what} {name}");
    let others: Vec<String> = nodes.iter().filter(|o| o.id != id).map(|o| format!("S{}", o.id + 1)).collect();
    let isolate = ctx.bridge.cb(ToWorker::Act(format!("partition {name} | {}", others.join(","))));
    let up = n.status == NodeStatus::Up;
    let role = schema.roles.get(n.role as usize).map_or("?", |r| r.name.as_str());
    let has = |verb: &str| schema.verbs.iter().any(|v| v == verb);
    // Nodes past the scenario's servers (the load balancer) take no actions.
    let actionable = ctx.state.settings.as_ref().is_none_or(|s| id < s.nodes);
    let facts: Vec<String> = schema
        .fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| n.field(i).map(|v| format!("{} {}", f.label.to_lowercase(), f.unit.format(v as f64))))
        .collect();
    html! {
        <section class="panel node" aria-label="Node">
            <h2>{ format!("{name}: {}", if n.status == NodeStatus::Up { role } else { n.status.name() }) }</h2>
            if actionable {
            <div class="buttons">
                if n.status == NodeStatus::Crashed {
                    <button aria-label={label("Restart")} onclick={act("restart")}>{ "Restart" }</button>
                } else {
                    <button aria-label={label("Crash")} onclick={act("crash")}>{ "Crash" }</button>
                }
                if has("pause") {
                    if n.status == NodeStatus::Paused {
                        <button aria-label={label("Resume")} onclick={act("resume")}>{ "Resume" }</button>
                    } else {
                        <button aria-label={label("Pause")} onclick={act("pause")} disabled={!up}>{ "Pause" }</button>
                    }
                }
                if has("timeout") { <button aria-label={label("Time out")} onclick={act("timeout")} disabled={!up}>{ "Time out" }</button> }
                if has("request") { <button aria-label={label("Client request")} onclick={act("request")} disabled={!up}>{ "Client request" }</button> }
                if has("partition") && !others.is_empty() { <button aria-label={label("Isolate")} onclick={isolate}>{ "Isolate" }</button> }
                if has("slow") { <button aria-label={label("Slow down")} title="to 10% of its speed" onclick={act_with("slow", "10%")} disabled={!up}>{ "Slow to 10%" }</button> }
                if has("errors") { <button aria-label={label("Fail half")} title="fail 50% of requests" onclick={act_with("errors", "50%")} disabled={!up}>{ "Fail 50%" }</button> }
                if has("recover") { <button aria-label={label("Recover")} title="normal speed, no errors" onclick={act("recover")}>{ "Recover" }</button> }
                // Membership changes (Raft, thesis §4): one server at a time.
                if has("add") && matches!(role, "spare" | "removed") {
                    <button aria-label={label("Add")} title="the leader catches it up as a learner, then adds it to the configuration" onclick={act("add")}>{ "Add to the cluster" }</button>
                }
                if has("remove") && !matches!(role, "spare" | "removed") {
                    <button aria-label={label("Remove")} title="the leader appends a configuration without it (the leader itself steps down once that commits)" onclick={act("remove")}>{ "Remove from the cluster" }</button>
                }
            </div>
            }
            <p class="note">{ facts.join(", ") }</p>
        </section>
    }
}

/// The lab's live metrics.
#[function_component]
pub fn Metrics(props: &PanelProps) -> Html {
    let state = &props.ctx.state;
    let (Some(schema), Some(f)) = (state.schema.clone(), state.shown.frame.clone()) else { return html! {} };
    html! {
        <section class="panel metrics" aria-label="Metrics">
            <h2>{ "Metrics" }</h2>
            <dl>
                { for schema.metrics.iter().zip(&f.metrics).filter(|(_, v)| !v.is_nan()).map(|(m, v)| html! {
                    <><dt>{ &m.label }</dt><dd data-metric={m.name.clone()} data-value={v.to_string()}>{ m.unit.format(*v) }</dd></>
                }) }
                <dt>{ "Events" }</dt><dd data-metric="events">{ f.events }</dd>
                if f.messages_total as usize > f.messages.len() {
                    <dt>{ "Messages drawn" }</dt><dd data-metric="drawn">{ format!("{} of {}", f.messages.len(), f.messages_total) }</dd>
                }
                <dt>{ "Trace fingerprint" }</dt><dd data-metric="fingerprint" title="Equal fingerprints: identical runs">{ f.fingerprint_hex() }</dd>
                if state.status.memory.0 > 0 {
                    <dt>{ "Worker memory" }</dt>
                    <dd data-metric="worker_memory" data-value={state.status.memory.0.to_string()}
                        title={format!("the worker's WebAssembly heap; {} snapshots for time travel hold about {:.1} MB", state.status.memory.1, state.status.memory.2 as f64 / 1e6)}>
                        { format!("{:.1} MB", state.status.memory.0 as f64 / 1e6) }</dd>
                }
            </dl>
        </section>
    }
}

fn sparkline(samples: &[(Time, f64)], label: &str, unit: Unit) -> Html {
    let max = samples.iter().map(|s| s.1).filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let n = samples.len().max(2) as f64;
    let points: Vec<String> = samples
        .iter()
        .enumerate()
        .filter(|(_, s)| s.1.is_finite())
        .map(|(i, s)| format!("{:.1},{:.1}", i as f64 * 200.0 / (n - 1.0), 40.0 - 38.0 * s.1 / max.max(1e-9)))
        .collect();
    html! {
        <figure>
            <figcaption>{ format!("{label} (max {})", unit.format(max)) }</figcaption>
            <svg viewBox="0 0 200 40" role="img" aria-label={label.to_string()} preserveAspectRatio="none">
                <polyline points={points.join(" ")} fill="none" stroke="currentColor" stroke-width="1.5" />
            </svg>
        </figure>
    }
}

/// Live charts of the lab's charted metrics over virtual time.
#[function_component]
pub fn Charts(props: &PanelProps) -> Html {
    let state = &props.ctx.state;
    let Some(schema) = state.schema.clone() else { return html! {} };
    let samples = state.shown.samples.clone();
    if samples.len() < 2 {
        return html! {};
    }
    let charted: Vec<_> = schema.metrics.iter().filter(|m| m.chart).collect();
    html! {
        <section class="panel charts" aria-label="Charts">
            { for charted.iter().enumerate().map(|(i, m)| {
                let series: Vec<(Time, f64)> = samples.iter().map(|s| (s.time, s.values.get(i).copied().unwrap_or(f64::NAN))).collect();
                // A metric this run does not measure (NaN throughout) gets no chart.
                if series.iter().all(|(_, v)| v.is_nan()) { html! {} } else { sparkline(&series, &m.label, m.unit) }
            }) }
        </section>
    }
}

/// What the settings panels depend on: they re-render only when the
/// scenario changes, not on every frame.
#[derive(Properties, Clone, PartialEq)]
pub struct SettingsProps {
    /// The scenario's settings.
    pub settings: Rc<Settings>,
    /// Whether the lab has a network (partitions, one-way cuts).
    pub cluster: bool,
    /// The worker.
    pub bridge: super::Bridge,
    /// For error messages.
    pub dispatch: UseReducerDispatcher<AppState>,
}

/// Network conditions and partitions, changed live (recorded as actions).
#[function_component]
pub fn Network(props: &SettingsProps) -> Html {
    let ctx = props;
    // Hooks first, every render, before anything can return early.
    let partition = use_state(String::new);
    let block = (use_state(|| 0u32), use_state(|| 1u32));
    let settings = ctx.settings.clone();
    let live: Vec<&ParamView> = settings.params.iter().filter(|p| p.live).collect();
    let cluster = ctx.cluster;
    let n = settings.nodes;
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
        let d = ctx.dispatch.clone();
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
            { for live.iter().map(|p| {
                let b = ctx.bridge.clone();
                let name = p.name.clone();
                let onchange = Callback::from(move |e: Event| b.send(ToWorker::Act(format!("set {name} {}", input_value(&e).trim()))));
                html! {
                    <label class="param" title={param_title(p)}>
                        <span>{ &p.label }</span>
                        { param_input(p, onchange) }
                    </label>
                }
            }) }
        </section>
    }
}

/// Parameters fixed at the start of a run; applying them restarts at 0.
#[function_component]
pub fn Setup(props: &SettingsProps) -> Html {
    let ctx = props;
    let edits = use_state(Vec::<(String, String)>::new);
    let settings = ctx.settings.clone();
    let fixed: Vec<&ParamView> = settings.params.iter().filter(|p| !p.live).collect();
    let on_apply = {
        let b = ctx.bridge.clone();
        let edits = edits.clone();
        let seed = settings.seed;
        Callback::from(move |_| {
            b.send(ToWorker::Configure { params: (*edits).clone(), seed });
            edits.set(Vec::new());
        })
    };
    html! {
        <section class="panel setup" aria-label="Setup">
            <h2>{ "Setup (restarts the run)" }</h2>
            { for fixed.iter().map(|p| {
                let edits = edits.clone();
                let name = p.name.clone();
                let onchange = Callback::from(move |e: Event| {
                    let mut v: Vec<(String, String)> = (*edits).iter().filter(|(n, _)| *n != name).cloned().collect();
                    v.push((name.clone(), input_value(&e)));
                    edits.set(v);
                });
                html! {
                    <label class="param" title={param_title(p)}>
                        <span>{ &p.label }</span>
                        { param_input(p, onchange) }
                    </label>
                }
            }) }
            <button onclick={on_apply} disabled={edits.is_empty()}>{ "Apply and restart" }</button>
        </section>
    }
}

/// Props of [`Presets`].
#[derive(Properties, Clone, PartialEq)]
pub struct PresetsProps {
    /// The running lab.
    pub lab: AttrValue,
    /// Every lab.
    pub catalog: Rc<Vec<LabInfo>>,
    /// The worker.
    pub bridge: super::Bridge,
}

/// One-click scenarios: the running lab's presets.
#[function_component]
pub fn Presets(props: &PresetsProps) -> Html {
    let Some(info) = props.catalog.iter().find(|l| *l.name == *props.lab) else { return html! {} };
    let b = props.bridge.clone();
    let (lab, titles) = (info.name.clone(), info.presets.clone());
    let onchange = Callback::from(move |e: Event| {
        let v = input_value(&e);
        if let Some(index) = titles.iter().position(|t| *t == v) {
            b.send(ToWorker::LoadPreset { lab: lab.clone(), index });
            b.send(ToWorker::Play);
        }
    });
    html! {
        <label class="presets">{ "Scenario " }
            <select key={info.name.clone()} aria-label="Preset scenario" {onchange}>
                <option value="" selected=true disabled=true>{ "Open a classic situation…" }</option>
                { for info.presets.iter().map(|t| html! { <option value={t.clone()}>{ t }</option> }) }
            </select>
        </label>
    }
}

/// Props of [`Share`].
#[derive(Properties, Clone, PartialEq)]
pub struct ShareProps {
    /// The link fragment of the current moment.
    pub link: AttrValue,
}

/// The share link and a copy button.
#[function_component]
pub fn Share(props: &ShareProps) -> Html {
    let link = props.link.clone();
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

/// Props of [`EventLog`].
#[derive(Properties, Clone, PartialEq)]
pub struct EventLogProps {
    /// Recent lines, oldest first.
    pub log: Rc<VecDeque<String>>,
    /// How many lines were ever received (numbers the lines, so the list
    /// is keyed and a new frame adds and removes items instead of
    /// rewriting every one).
    pub total: u64,
}

/// The trace, newest first.
#[function_component]
pub fn EventLog(props: &EventLogProps) -> Html {
    let first = props.total - props.log.len() as u64;
    html! {
        <section class="panel eventlog" aria-label="Event log">
            <h2>{ "Events (newest first)" }</h2>
            <ol>{ for props.log.iter().enumerate().rev().take(200).map(|(i, l)| html! { <li key={first + i as u64}>{ l }</li> }) }</ol>
        </section>
    }
}

/// The benchmark workloads (also run natively by the criterion benchmark).
const BENCH: &str = include_str!("../../../../tests/scenarios/raft/bench.scn");
const PAXOS_BENCH: &str = include_str!("../../../../tests/scenarios/paxos/bench.scn");
const BALANCE_BENCH: &str = include_str!("../../../../tests/scenarios/balance/bench.scn");

/// The browser benchmark: `?bench=1`. Runs standard workloads in the worker
/// and shows events and messages per second, for `tests/e2e/bench.mjs`.
#[function_component]
pub fn BenchPanel(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let run = {
        let b = ctx.bridge.clone();
        Callback::from(move |_| b.send(ToWorker::Bench(BENCH.to_string())))
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
            <button id="run-paxos-bench" onclick={ctx.bridge.cb(ToWorker::Bench(PAXOS_BENCH.to_string()))}>{ "Run Multi-Paxos" }</button>
            <button id="run-balance-bench" onclick={ctx.bridge.cb(ToWorker::Bench(BALANCE_BENCH.to_string()))}>{ "Run load balancing" }</button>
            if let Some(r) = result {
                <pre id="bench-result" data-run={ctx.state.bench_runs.to_string()} data-events={r.events.to_string()} data-delivered={r.delivered.to_string()} data-committed={r.committed.to_string()} data-requests={r.requests.to_string()}
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
