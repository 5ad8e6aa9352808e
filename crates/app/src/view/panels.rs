//! The DOM panels around the cluster view: transport controls, the selected
//! node's actions, metrics and charts, network and setup parameters, logs.
//! Every control has an accessible name.

use super::SPEEDS;
use crate::ctx::PanelProps;
use crate::protocol::ToWorker;
use crate::state::AppState;
use crate::state::Msg;
use clusterscope_core::lab::{LabInfo, NodeStatus, NodeView, ParamView, Schema, Settings, StripSpec, Unit};
use clusterscope_core::sim::time::format_clock;
use clusterscope_core::sim::Time;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

pub(crate) fn input_value(e: &Event) -> String {
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
    pub ctx: crate::ctx::Ctx,
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
            let label = input_value(&e);
            let v = SPEEDS
                .iter()
                .find(|(l, _)| *l == label)
                .map(|(_, v)| *v)
                .or_else(|| label.trim_end_matches('×').parse().ok());
            if let Some(v) = v {
                d.dispatch(Msg::Speed(v));
                b.send(ToWorker::Speed(v));
            }
        })
    };
    let speed_label =
        SPEEDS.iter().find(|(_, v)| *v == s.speed).map_or_else(|| format!("{}×", s.speed), |(l, _)| l.to_string());
    // A scenario's own speed that the menu does not list is offered too.
    let own_speed = (!SPEEDS.iter().any(|(_, v)| *v == s.speed)).then(|| speed_label.clone());
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
                    if let Some(l) = own_speed { <option value={l.clone()} selected=true>{ l }</option> }
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
        let d = ctx.state.dispatcher();
        Callback::from(move |_| match new_seed() {
            Ok(seed) => b.send(ToWorker::Configure { params: params.clone(), seed }),
            Err(e) => d.dispatch(Msg::Error(e)),
        })
    };
    html! {
        <span class="seed">
            <label>{ "Seed " }<Field label="Seed" value={seed.to_string()} onchange={on_change} size={10} /></label>
            <button aria-label="New seed" title="Restart with a random seed" onclick={on_new}>{ "New seed" }</button>
        </span>
    }
}

/// A seed for "New seed", from the browser's cryptographic source
/// (`crypto.getRandomValues`); the engine itself only ever runs from the
/// seed it is given. Below 10^9, so that it reads and types as a short
/// number.
fn new_seed() -> Result<u64, String> {
    getrandom::u64()
        .map(|r| r % 1_000_000_000)
        .map_err(|e| format!("No new seed: the browser gave no random numbers ({e}). Type a seed instead."))
}

/// A slider over the virtual time reached so far: drag to go back.
#[function_component]
pub fn Timeline(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let horizon = ctx.state.status.horizon;
    // Past the run so far if the script or a caption lies further.
    let end = super::story::slider_end(ctx);
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
            <div class="track">
                <input type="range" aria-label="Time travel" min="0" max={end.to_string()} step="1000"
                    value={time.to_string()} onchange={on_input} />
                { super::story::ticks(ctx, end) }
            </div>
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
    /// Whether the run is playing (off the screen, the table then follows
    /// it once a second: [`super::use_held`]).
    #[prop_or_default]
    pub playing: bool,
    /// The page's count of runs ([`AppState::runs`]).
    #[prop_or_default]
    pub run: u64,
}

/// The node table ([`NodeRows`]), held while off the screen during a run.
#[function_component]
pub fn NodeTable(props: &NodeTableProps) -> Html {
    let node = use_node_ref();
    let shown = super::use_held(&node, props.playing, props.run, props.clone());
    html! { <div ref={node} class="scroll"><NodeRows ..shown /></div> }
}

/// Every node as a table row: status, role, the lab's node fields and its
/// strip (its last values coloured by value, the final ones solid, see
/// `StripSpec`). Click a row to select the node. A row re-renders only when its
/// node changed.
#[function_component]
fn NodeRows(props: &NodeTableProps) -> Html {
    let schema = &props.schema;
    if props.nodes.len() > 25 {
        return html! { <p class="note">{ "The node table lists clusters of up to 25 servers." }</p> };
    }
    html! {
        <table class="logs" aria-label="Nodes">
            <thead><tr>
                <th>{ "Node" }</th><th>{ "Role" }</th>
                { for schema.fields.iter().filter(|f| f.in_table).map(|f| html! { <th>{ &f.label }</th> }) }
                if let Some(strip) = &schema.strip { <th>{ &strip.title }</th> }
            </tr></thead>
            <tbody>
            { for props.nodes.iter().zip(schema.node_names(&props.nodes)).map(|(n, name)| html! {
                <NodeRow key={n.id} schema={schema.clone()} node={n.clone()} {name} selected={props.selected == Some(n.id)} dispatch={props.dispatch.clone()} />
            }) }
            </tbody>
        </table>
    }
}

/// Props of [`NodeRow`].
#[derive(Properties, Clone, PartialEq)]
struct NodeRowProps {
    schema: Rc<Schema>,
    node: NodeView,
    /// Its name on the page (`S3`, or a hub's `LB`).
    name: AttrValue,
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
    html! {
        <tr class={classes!(props.selected.then_some("selected"), n.status.name())} onclick={select} aria-label={props.name.clone()}>
            <th scope="row">{ props.name.clone() }</th>
            <td class={classes!("role", role_name.to_string())}>{ role_name }{ if n.status == NodeStatus::Paused { " (paused)" } else { "" } }</td>
            { for schema.fields.iter().enumerate().filter(|(_, f)| f.in_table).map(|(i, f)| {
                html! { <td>{ n.field(i).map_or("–".to_string(), |v| f.unit.format(v as f64)) }</td> }
            }) }
            if let Some(strip) = &schema.strip {
                <td class="entries">{ strip_cells(strip, n, &field) }</td>
            }
        </tr>
    }
}

/// A node's strip: the block of its compacted prefix, if the lab has one,
/// then its last values coloured by value, the final ones solid.
fn strip_cells(strip: &StripSpec, n: &NodeView, field: &dyn Fn(&str) -> Option<u64>) -> Html {
    let base = strip.base.as_ref().and_then(|b| {
        let block = field(&b.index_field).zip(field(&b.value_field)).filter(|(i, _)| *i > 0)?;
        Some((b, block))
    });
    let covered = base.map_or(0, |(_, (index, _))| index);
    let (value, mark) = (&strip.value, &strip.mark);
    html! { <>
        if let Some((b, (index, v))) = base {
            <span class="entry base" style={format!("--hue:{}", (v * 67) % 360)}
                title={format!("{}: entries 1 to {index} compacted; last included {value} {v}", b.name)}>{ format!("≤{index} {}{v}", b.short) }</span>
        }
        if n.strip_first > 1 + covered { <span class="more">{ format!("…{} ", n.strip_first - 1 - covered) }</span> }
        { for n.strip.iter().enumerate().map(|(i, t)| {
            let index = n.strip_first + i as u64;
            let done = index <= n.strip_mark;
            html! { <span key={index} class={classes!("entry", done.then_some("final"))} data-value={t.to_string()}
                style={format!("--hue:{}", (u64::from(*t) * 67) % 360)} title={format!("index {index}, {value} {t}{}", if done { format!(", {mark}") } else { String::new() })}>{ t }</span> }
        }) }
    </> }
}

/// Actions on the selected node: the buttons the lab's schema offers for
/// a node in its status and role.
#[function_component]
pub fn NodePanel(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let Some(schema) = ctx.state.schema.clone() else { return html! {} };
    let Some(id) = ctx.state.selected else {
        let offered: Vec<String> = schema.node_actions.iter().map(|a| a.label.to_lowercase()).collect();
        let hint = if offered.is_empty() {
            "Click a node to see its state.".to_string()
        } else {
            format!("Click a node to act on it: {}.", offered.join(", "))
        };
        return html! { <section class="panel node" aria-label="Node"><h2>{ "Node" }</h2><p class="note">{ hint }</p></section> };
    };
    let nodes = ctx.state.nodes.clone();
    let Some(n) = nodes.get(id as usize) else { return html! {} };
    let name = format!("S{}", id + 1);
    let others: Vec<String> = nodes.iter().filter(|o| o.id != id).map(|o| format!("S{}", o.id + 1)).collect();
    let role = schema.role_name(n.role);
    // Its name on the page: a hub's own (`LB`), with the number scenario
    // lines use.
    let shown = match schema.node_names(&nodes).get(id as usize) {
        Some(own) if *own != name => format!("{own} ({name})"),
        _ => name.clone(),
    };
    // Nodes past the scenario's servers (helpers the lab adds) take no actions.
    let actionable = ctx.state.settings.as_ref().is_none_or(|s| id < s.nodes);
    let facts: Vec<String> = schema
        .fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| n.field(i).map(|v| format!("{} {}", f.label.to_lowercase(), f.unit.format(v as f64))))
        .collect();
    let buttons = schema.node_actions.iter().filter(|a| a.offered(n.status, role)).filter_map(|a| {
        let text = a.text(&name, &others)?;
        let help = (!a.help.is_empty()).then(|| a.help.clone());
        Some(html! {
            <button aria-label={format!("{} {name}", a.name)} title={help} onclick={ctx.bridge.cb(ToWorker::Act(text))}
                disabled={!a.usable(n.status)}>{ &a.label }</button>
        })
    });
    html! {
        <section class="panel node" aria-label="Node">
            <h2>{ format!("{shown}: {}", if n.status == NodeStatus::Up { role } else { n.status.name() }) }</h2>
            if actionable { <div class="buttons">{ for buttons }</div> }
            <p class="note">{ facts.join(", ") }</p>
        </section>
    }
}

/// The lab's live metrics.
#[function_component]
pub fn Metrics(props: &PanelProps) -> Html {
    let state = &props.ctx.state;
    let (Some(schema), Some(f)) = (state.schema.clone(), state.shown.frame.clone()) else { return html! {} };
    let memory = state.status.memory;
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
                if memory.heap > 0 {
                    <dt>{ "Worker memory" }</dt>
                    <dd data-metric="worker_memory" data-value={memory.heap.to_string()} data-in-use={memory.in_use.to_string()}
                        title={format!("the worker's WebAssembly heap (it never shrinks); {:.1} MB of it in use, {} snapshots for time travel hold about {:.1} MB",
                            memory.in_use as f64 / 1e6, memory.snapshots, memory.snapshot_bytes as f64 / 1e6)}>
                        { format!("{:.1} MB", memory.heap as f64 / 1e6) }</dd>
                }
            </dl>
        </section>
    }
}

fn sparkline(samples: &[(Time, f64)], label: &str, unit: Unit) -> Html {
    use clusterscope_core::chart::{Axis, Chart, Mark, Point, Series, PAGE};
    let (scale, u) = unit.axis();
    let mut chart = Chart::new(label, Axis::new("virtual time", "s"), Axis::new(label, u));
    // At most 60 points (each a dot that names its value on hover).
    let every = samples.len().div_ceil(60).max(1);
    let points = samples.iter().step_by(every).map(|(t, v)| Point::new(*t as f64 / 1e6, v * scale)).collect();
    chart.series.push(Series { name: label.to_string(), mark: Mark::Line, points });
    html! {
        <figure class="live-chart">{ Html::from_html_unchecked(AttrValue::from(chart.to_svg(320.0, 190.0, &PAGE))) }</figure>
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
    // A metric this run does not measure (NaN throughout) gets no chart,
    // and a lab with nothing to chart gets no panel.
    let charted: Vec<(_, Vec<(Time, f64)>)> = schema
        .metrics
        .iter()
        .filter(|m| m.chart)
        .enumerate()
        .map(|(i, m)| (m, samples.iter().map(|s| (s.time, s.values.get(i).copied().unwrap_or(f64::NAN))).collect()))
        .filter(|(_, series): &(_, Vec<(Time, f64)>)| !series.iter().all(|(_, v)| v.is_nan()))
        .collect();
    if charted.is_empty() {
        return html! {};
    }
    html! {
        <section class="panel charts" aria-label="Charts">
            { for charted.iter().map(|(m, series)| sparkline(series, &m.label, m.unit)) }
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
    pub bridge: crate::ctx::Bridge,
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
                let (name, in_force) = (p.name.clone(), p.value.clone());
                // The worker checks the value as it checks Setup's (the
                // parameter's own parser) and names what is wrong. The field
                // shows the value in force again: a refused value goes, and an
                // accepted one comes back with the new settings.
                let onchange = Callback::from(move |e: Event| {
                    b.send(ToWorker::Act(format!("set {name} {}", input_value(&e).trim())));
                    if let Some(i) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                        i.set_value(&in_force);
                    }
                });
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
    pub bridge: crate::ctx::Bridge,
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
                <option value="" selected=true disabled=true>{ "Pick a story…" }</option>
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
    /// Whether the run is playing (off the screen, the log then follows it
    /// once a second: [`super::use_held`]).
    #[prop_or_default]
    pub playing: bool,
    /// The page's count of runs ([`AppState::runs`]).
    #[prop_or_default]
    pub run: u64,
}

/// The trace, newest first; held while off the screen during a run.
#[function_component]
pub fn EventLog(props: &EventLogProps) -> Html {
    let node = use_node_ref();
    let shown = super::use_held(&node, props.playing, props.run, props.clone());
    html! {
        <section ref={node} class="panel eventlog" aria-label="Event log">
            <h2>{ "Events (newest first)" }</h2>
            <EventLines ..shown />
        </section>
    }
}

#[function_component]
fn EventLines(props: &EventLogProps) -> Html {
    let first = props.total - props.log.len() as u64;
    html! {
        <ol>{ for props.log.iter().enumerate().rev().take(200).map(|(i, l)| html! { <li key={first + i as u64}>{ l }</li> }) }</ol>
    }
}
