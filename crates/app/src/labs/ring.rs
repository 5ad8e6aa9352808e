//! The Ring lab's views: the hash circle with its points and keys, and the
//! servers with their loads (a chart of keys per server against the mean,
//! drawn by the shared chart module) and actions (the comparison of
//! algorithms is one of the lab's experiments).

use super::LabView;
use crate::ctx::{Ctx, PanelProps};
use crate::protocol::ToWorker;
use crate::state::AppState;
use crate::view::panels::Field;
use crate::view::results::ChartView;
use clusterscope_core::chart::{Axis, Chart, Mark, Point, Series};
use clusterscope_core::ring::lab::RingFrame;
use std::f64::consts::PI;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlInputElement};
use yew::prelude::*;

const W: f64 = 640.0;
const H: f64 = 520.0;

/// The Ring lab's own views.
pub const VIEW: LabView = LabView {
    name: "ring",
    stage: Some(|ctx: &Ctx| html! { <RingView ctx={ctx.clone()} /> }),
    below: |ctx: &Ctx| html! { <Servers ctx={ctx.clone()} /> },
    side: |_| Html::default(),
    bench: Some(|ctx: &Ctx| html! { <Bench ctx={ctx.clone()} /> }),
};

/// The placement benchmark on the `?bench=1` page: `ring_nodes`,
/// `ring_vnodes` and `ring_keys` in the address set its size; the JSON
/// result is in `#ring-bench-result`'s `data-json`, for
/// `tests/e2e/ring-bench.mjs`.
#[function_component]
fn Bench(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let param = |name: &str, default: u32| -> u32 {
        let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        web_sys::UrlSearchParams::new_with_str(&search)
            .ok()
            .and_then(|p| p.get(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (nodes, vnodes, keys) = (param("ring_nodes", 1000), param("ring_vnodes", 100), param("ring_keys", 1_000_000));
    let run = ctx.bridge.cb(ToWorker::LabBench { lab: "ring".into(), args: format!("{nodes} {vnodes} {keys}") });
    let result = ctx.state.lab_bench.as_ref().filter(|(lab, ..)| lab == "ring");
    html! { <>
        <h2>{ format!("Ring: {nodes} servers × {vnodes} virtual nodes, {keys} keys") }</h2>
        <button id="run-ring-bench" onclick={run}>{ "Run ring benchmark" }</button>
        if let Some((_, json, runs)) = result {
            <pre id="ring-bench-result" data-run={runs.to_string()} data-json={json.clone()}>{ json }</pre>
        }
    </> }
}

/// The lab's answer to `question_prefix …`, parsed.
fn answer<T: serde::de::DeserializeOwned>(state: &AppState, question_prefix: &str) -> Option<(String, T)> {
    let (q, bytes, _) = state.answer.as_ref()?;
    q.starts_with(question_prefix).then(|| bincode::deserialize(bytes).ok().map(|v| (q.clone(), v)))?
}

/// A stable, distinct colour per server.
pub fn node_color(id: u32) -> String {
    format!("hsl({}, 62%, 58%)", (id * 137) % 360)
}

fn at(frac: f32, radius: f64) -> (f64, f64) {
    let a = -PI / 2.0 + 2.0 * PI * f64::from(frac);
    (W / 2.0 + radius * a.cos(), 250.0 + radius * a.sin())
}

/// Draws the ring; `t` (0..=1) is how far the animation of the last
/// change's moved keys has run.
fn draw(ctx: &CanvasRenderingContext2d, r: &RingFrame, t: f64) {
    ctx.set_fill_style_str("#10141b");
    ctx.fill_rect(0.0, 0.0, W, H);
    let radius = 200.0;
    let failed = |id: u32| r.nodes.iter().any(|n| n.id == id && n.failed);
    ctx.set_stroke_style_str("#273041");
    ctx.set_line_width(2.0);
    ctx.begin_path();
    let _ = ctx.arc(W / 2.0, 250.0, radius, 0.0, 2.0 * PI);
    ctx.stroke();
    // Keys, just inside the circle, in their owner's colour.
    for &(pos, owner) in &r.keys {
        let (x, y) = at(pos, radius - 14.0);
        ctx.set_fill_style_str(&node_color(owner));
        ctx.fill_rect(x - 1.5, y - 1.5, 3.0, 3.0);
    }
    // Points (virtual nodes), as ticks across the circle.
    for &(pos, node) in &r.points {
        let (x1, y1) = at(pos, radius - 6.0);
        let (x2, y2) = at(pos, radius + 8.0);
        let color = if failed(node) { "#5b616e".to_string() } else { node_color(node) };
        ctx.set_stroke_style_str(&color);
        ctx.set_line_width(2.0);
        ctx.begin_path();
        ctx.move_to(x1, y1);
        ctx.line_to(x2, y2);
        ctx.stroke();
    }
    // Keys the last change moved fly inwards from the ring, from their old
    // owner's colour to the new owner's, and stay marked by a circle.
    for &(pos, from, to) in &r.moved {
        let (x, y) = at(pos, radius - 14.0 - 12.0 * t);
        ctx.begin_path();
        let _ = ctx.arc(x, y, 4.0 + 4.0 * (1.0 - t), 0.0, 2.0 * PI);
        ctx.set_stroke_style_str(&node_color(if t < 0.5 { from } else { to }));
        ctx.set_line_width(1.5);
        ctx.stroke();
    }
    ctx.set_text_align("center");
    ctx.set_text_baseline("middle");
    ctx.set_fill_style_str("#dfe5ef");
    ctx.set_font("bold 15px sans-serif");
    let _ = ctx.fill_text(&format!("{} · {}", r.algorithm, r.hash), W / 2.0, 238.0);
    ctx.set_font("12px sans-serif");
    ctx.set_fill_style_str("#8b95a7");
    let what = if r.points_total > 0 {
        format!("{} points, {} keys", r.points_total, r.keys_total)
    } else {
        format!("no ring: {} keys placed by the algorithm", r.keys_total)
    };
    let _ = ctx.fill_text(&what, W / 2.0, 258.0);
}

/// Most servers named one by one under the load chart; beyond, the chart
/// numbers them and draws a dot each.
const NAMED_SERVERS: usize = 40;

/// Keys per server against the mean, as a chart of the shared chart
/// module (title, axes, legend, each value on hover, SVG and PNG export).
pub fn load_chart(r: &RingFrame) -> Chart {
    let up = r.nodes.iter().filter(|n| !n.failed).count().max(1);
    let mean = r.keys_total as f64 / up as f64;
    let named = r.nodes.len() <= NAMED_SERVERS;
    let mut chart = Chart::new(
        format!("Keys per server under {}, against the mean ({} keys, {} servers up)", r.algorithm, r.keys_total, up),
        if named { Axis::new("server", "") } else { Axis::new("server number", "") },
        Axis::new("keys", ""),
    );
    if named {
        chart.categories =
            r.nodes.iter().map(|n| if n.failed { format!("{} (failed)", n.name) } else { n.name.clone() }).collect();
    }
    let x = |i: usize| if named { i as f64 } else { i as f64 + 1.0 };
    let points = r.nodes.iter().enumerate().map(|(i, n)| Point::new(x(i), n.keys as f64)).collect();
    let mark = if named { Mark::Bars } else { Mark::Dots };
    chart.series.push(Series { name: "keys".into(), mark, points });
    let last = r.nodes.len().saturating_sub(1);
    let line = vec![Point::new(x(0), mean), Point::new(x(last), mean)];
    chart.series.push(Series { name: format!("mean of the servers up ({mean:.0})"), mark: Mark::Line, points: line });
    chart
}

/// The hash circle.
#[function_component]
pub fn RingView(props: &PanelProps) -> Html {
    let canvas = use_node_ref();
    let ring = super::decoded::<RingFrame>(&props.ctx.state);
    {
        let canvas = canvas.clone();
        use_effect_with(ring.clone(), move |ring| {
            let mut animation = None;
            if let (Some(r), Some(c)) = (ring.clone(), canvas.cast::<HtmlCanvasElement>()) {
                let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
                c.set_width((W * dpr) as u32);
                c.set_height((H * dpr) as u32);
                if let Some(ctx) =
                    c.get_context("2d").ok().flatten().and_then(|o| o.dyn_into::<CanvasRenderingContext2d>().ok())
                {
                    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
                    draw(&ctx, &r, if r.moved.is_empty() { 1.0 } else { 0.0 });
                    crate::view::canvas::mark_first_frame();
                    if !r.moved.is_empty() {
                        // About a second of animation at 30 frames a second.
                        let step = std::cell::Cell::new(0u32);
                        animation = Some(gloo_timers::callback::Interval::new(33, move || {
                            let i = step.get() + 1;
                            if i > 30 {
                                return; // done; the timer stops with the next change
                            }
                            step.set(i);
                            draw(&ctx, &r, f64::from(i) / 30.0);
                        }));
                    }
                }
            }
            move || drop(animation)
        });
    }
    let label = ring.as_ref().map_or("Loading…".to_string(), |r| {
        format!(
            "{} with {} servers and {} keys. {}",
            r.algorithm,
            r.nodes.len(),
            r.keys_total,
            r.last_change.clone().unwrap_or_default()
        )
    });
    html! { <canvas ref={canvas} class="cluster ring" width="640" height="520" role="img" aria-label={label}></canvas> }
}

/// The servers: load, weight, virtual nodes, and what to do with each.
#[function_component]
pub fn Servers(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let weight = use_state(|| "100".to_string());
    let Some(r) = super::decoded::<RingFrame>(&ctx.state) else { return html! {} };
    let act = |text: String| ctx.bridge.cb::<MouseEvent>(ToWorker::Act(text));
    let add = {
        let b = ctx.bridge.clone();
        let w = weight.clone();
        Callback::from(move |_| b.send(ToWorker::Act(format!("add weight {}", w.trim()))))
    };
    let on_weight = {
        let w = weight.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                w.set(i.value());
            }
        })
    };
    let edit = |verb: &'static str, name: String| {
        let b = ctx.bridge.clone();
        Callback::from(move |e: Event| {
            if let Some(i) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                b.send(ToWorker::Act(format!("{verb} {name} {}", i.value().trim())));
            }
        })
    };
    let total = r.keys_total.max(1) as f64;
    let on_locate = {
        let b = ctx.bridge.clone();
        Callback::from(move |e: Event| {
            if let Some(i) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                b.send(ToWorker::Query(format!("locate {}", i.value())));
            }
        })
    };
    let located: Option<(String, Vec<String>)> =
        answer(&ctx.state, "locate ").map(|(q, servers)| (q.trim_start_matches("locate ").to_string(), servers));
    html! {
        <section class="panel servers" aria-label="Servers">
            <ChartView chart={Rc::new(load_chart(&r))} file="clusterscope-ring-load" />
            <div class="row">
                <label>{ "Where does key " }<input aria-label="Key to look up" placeholder="user:42" size="14" onchange={on_locate} />{ " go?" }</label>
                if let Some((key, servers)) = located {
                    <output aria-label="Key's servers">{ format!("{key} → {}", servers.join(", then ")) }</output>
                }
            </div>
            <div class="row">
                <label>{ "Weight " }<input aria-label="New server weight" size="5" value={(*weight).clone()} oninput={on_weight} /></label>
                <button onclick={add}>{ "Add server" }</button>
                if let Some(c) = &r.last_change { <span class="note" aria-live="polite">{ c }</span> }
            </div>
            <table class="logs" aria-label="Servers">
                <thead><tr><th>{ "Server" }</th><th>{ "Keys" }</th><th>{ "Share" }</th><th>{ "Requests" }</th><th>{ "Weight" }</th><th>{ "Vnodes" }</th><th>{ "" }</th></tr></thead>
                <tbody>
                { for r.nodes.iter().take(200).map(|n| {
                    let name = format!("S{}", n.id + 1);
                    html! {
                        <tr class={classes!(n.failed.then_some("crashed"))} aria-label={name.clone()}>
                            <th scope="row"><span class="swatch" style={format!("background:{}", node_color(n.id))}></span>{ &n.name }</th>
                            <td>{ n.keys }</td>
                            <td>{ format!("{:.2}%", n.keys as f64 / total * 100.0) }</td>
                            <td>{ format!("{:.2}%", n.requests * 100.0) }</td>
                            <td><Field label={format!("Weight of {name}")} size={5} value={n.weight.to_string()} onchange={edit("weight", name.clone())} /></td>
                            <td><Field label={format!("Vnodes of {name}")} size={5} value={n.vnodes.to_string()} onchange={edit("vnodes", name.clone())} /></td>
                            <td class="buttons">
                                if n.failed {
                                    <button aria-label={format!("Recover {name}")} onclick={act(format!("restart {name}"))}>{ "Recover" }</button>
                                } else {
                                    <button aria-label={format!("Fail {name}")} onclick={act(format!("crash {name}"))}>{ "Fail" }</button>
                                }
                                <button aria-label={format!("Remove {name}")} onclick={act(format!("remove {name}"))}>{ "Remove" }</button>
                            </td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
            if r.nodes.len() > 200 { <p class="note">{ format!("Showing 200 of {} servers.", r.nodes.len()) }</p> }
        </section>
    }
}
