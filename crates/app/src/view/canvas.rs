//! The animated cluster, drawn on a canvas so that dozens of nodes and
//! thousands of messages stay smooth. Nodes sit on a circle; each message is
//! a dot on the line from sender to receiver, placed by how much of its
//! flight time has passed at the frame's virtual time. Text, controls and
//! tables live in the DOM next to it, where screen readers and tests find
//! them; the canvas has a text summary as its accessible description.

use super::pen::{self, CanvasPen, Pen, SvgPen, Theme};
use crate::ctx::PanelProps;
use crate::state::{AppState, Msg};
use clusterscope_core::lab::{MessageDot, MetricRole, NodeStatus, NodeView, RoleLook, Schema};
use clusterscope_core::sim::Time;
use std::f64::consts::PI;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

const W: f64 = 640.0;
const H: f64 = 520.0;

/// Where node `i` of `n` sits, and its radius.
fn layout(i: usize, n: usize) -> (f64, f64, f64) {
    // Neighbours on the circle never overlap: a node takes at most 40% of
    // the arc between two places.
    let arc = 2.0 * PI * (H.min(W) / 2.0 - 40.0) / n.max(1) as f64;
    let r_node = (0.4 * arc).clamp(4.0, 34.0);
    let radius = (H.min(W) / 2.0 - r_node - 26.0).max(40.0);
    let a = -PI / 2.0 + 2.0 * PI * i as f64 / n.max(1) as f64;
    (W / 2.0 + radius * a.cos(), H / 2.0 + radius * a.sin(), r_node)
}

/// Colours of partition groups (also used by the space-time diagram).
pub const GROUP_COLORS: &[&str] = &["#4a78c2", "#c2504a", "#8a4ac2", "#c28a4a", "#4ac2a8", "#a8c24a"];

/// Everything one drawing needs.
struct Scene<'a> {
    schema: &'a Schema,
    nodes: &'a [NodeView],
    messages: &'a [MessageDot],
    messages_total: u64,
    groups: &'a [Vec<u32>],
    time: Time,
    selected: Option<u32>,
    theme: Theme,
    /// Messages jump (near the sender for the first half of their flight,
    /// near the receiver after) instead of gliding.
    still: bool,
}

/// Where each node sits, and its radius, in node order.
type Places = [(f64, f64, f64)];

/// The whole drawing, in passes from the back: messages, nodes, their
/// labels, the legend.
fn draw(ctx: &mut impl Pen, s: &Scene<'_>) {
    ctx.fill_style(s.theme.bg);
    ctx.fill_rect(0.0, 0.0, W, H);
    let n = s.nodes.len();
    let places: Vec<(f64, f64, f64)> = (0..n).map(|i| layout(i, n)).collect();
    draw_messages(ctx, s, &places);
    draw_nodes(ctx, s, &places);
    draw_labels(ctx, s, &places);
    draw_legend(ctx, s);
}

/// Messages, batched: one path per kind, so thousands of dots cost a few
/// dozen canvas calls rather than thousands.
fn draw_messages(ctx: &mut impl Pen, s: &Scene<'_>, places: &Places) {
    for (k, kind) in s.schema.kinds.iter().enumerate() {
        let r = if kind.small { 3.0 } else { 5.0 };
        ctx.begin_path();
        let mut any = false;
        for m in s.messages.iter().filter(|m| usize::from(m.kind) == k) {
            let (Some(&(x1, y1, _)), Some(&(x2, y2, _))) = (places.get(m.from as usize), places.get(m.to as usize))
            else {
                continue;
            };
            let span = m.deliver_at.saturating_sub(m.sent_at).max(1) as f64;
            let mut p = (s.time.saturating_sub(m.sent_at) as f64 / span).clamp(0.0, 1.0);
            if s.still {
                p = if p < 0.5 { 0.2 } else { 0.8 };
            }
            let (x, y) = (x1 + (x2 - x1) * p, y1 + (y2 - y1) * p);
            ctx.move_to(x + r, y);
            ctx.arc(x, y, r, 0.0, 2.0 * PI);
            any = true;
        }
        if !any {
            continue;
        }
        if kind.reply {
            ctx.stroke_style(&kind.color);
            ctx.line_width(2.0);
            ctx.stroke();
        } else {
            ctx.fill_style(&kind.color);
            ctx.fill();
        }
    }
}

/// Nodes: a halo in its partition group's colour while the network is
/// split, then each node with its marks.
fn draw_nodes(ctx: &mut impl Pen, s: &Scene<'_>, places: &Places) {
    let partitioned = s.groups.len() > 1;
    let group_of = |id: u32| s.groups.iter().position(|g| g.contains(&id)).unwrap_or(0);
    ctx.text_align("center");
    ctx.text_baseline("middle");
    for node in s.nodes {
        let Some(&(x, y, r)) = places.get(node.id as usize) else { continue };
        if partitioned {
            ctx.begin_path();
            ctx.arc(x, y, r + 9.0, 0.0, 2.0 * PI);
            ctx.fill_style(GROUP_COLORS[group_of(node.id) % GROUP_COLORS.len()]);
            ctx.alpha(0.35);
            ctx.fill();
            ctx.alpha(1.0);
        }
        draw_node_body(ctx, s, node, (x, y, r));
        draw_node_marks(ctx, s, node, (x, y, r));
    }
}

/// A node's disc in its role's colour and look; a paused node is veiled.
fn draw_node_body(ctx: &mut impl Pen, s: &Scene<'_>, node: &NodeView, (x, y, r): (f64, f64, f64)) {
    let th = s.theme;
    let color = match node.status {
        NodeStatus::Crashed => th.crashed,
        _ => s.schema.roles.get(node.role as usize).map_or("#4a78c2", |r| r.color.as_str()),
    };
    // The role's look: a vacant slot is an empty dashed circle, a node
    // that has left is faded.
    let look = s.schema.role_look(node.role);
    ctx.begin_path();
    ctx.arc(x, y, r, 0.0, 2.0 * PI);
    if look == RoleLook::Vacant && node.status != NodeStatus::Crashed {
        ctx.stroke_style(th.muted);
        ctx.line_width(1.5);
        ctx.dash(&[4.0, 4.0]);
        ctx.stroke();
        ctx.dash(&[]);
    } else {
        ctx.alpha(if look == RoleLook::Faded { 0.4 } else { 1.0 });
        ctx.fill_style(color);
        ctx.fill();
        ctx.alpha(1.0);
    }
    if node.status == NodeStatus::Paused {
        ctx.alpha(0.55);
        ctx.fill_style(th.bg);
        ctx.fill();
        ctx.alpha(1.0);
    }
}

/// What is drawn over a node: its main timer, the selection ring, the
/// cross of a crash.
fn draw_node_marks(ctx: &mut impl Pen, s: &Scene<'_>, node: &NodeView, (x, y, r): (f64, f64, f64)) {
    let th = s.theme;
    // The main timer: the arc still to run.
    if let Some((set, due)) = node.timer {
        let left = (due.saturating_sub(s.time) as f64 / due.saturating_sub(set).max(1) as f64).clamp(0.0, 1.0);
        ctx.begin_path();
        ctx.arc(x, y, r + 4.0, -PI / 2.0, -PI / 2.0 + 2.0 * PI * left);
        ctx.stroke_style(th.muted);
        ctx.line_width(2.5);
        ctx.stroke();
    }
    if s.selected == Some(node.id) {
        ctx.begin_path();
        ctx.arc(x, y, r + 8.0, 0.0, 2.0 * PI);
        ctx.stroke_style(th.fg);
        ctx.line_width(1.5);
        ctx.stroke();
    }
    if node.status == NodeStatus::Crashed {
        ctx.stroke_style("#e05a5a");
        ctx.line_width(3.0);
        ctx.begin_path();
        ctx.move_to(x - r * 0.6, y - r * 0.6);
        ctx.line_to(x + r * 0.6, y + r * 0.6);
        ctx.move_to(x + r * 0.6, y - r * 0.6);
        ctx.line_to(x - r * 0.6, y + r * 0.6);
        ctx.stroke();
    }
}

/// Labels, one font at a time (setting a canvas font is costly): the name
/// and the first field on nodes big enough, else the number alone.
fn draw_labels(ctx: &mut impl Pen, s: &Scene<'_>, places: &Places) {
    let r = places.first().map_or(0.0, |p| p.2);
    if r >= 14.0 {
        ctx.font(&format!("bold {}px sans-serif", (r * 0.55).round()));
        for (node, &(x, y, r)) in s.nodes.iter().zip(places) {
            ctx.fill_style(ink(s, node));
            ctx.fill_text(&format!("S{}", node.id + 1), x, y - r * 0.22);
        }
        if let Some(f) = s.schema.fields.first() {
            ctx.font(&format!("{}px sans-serif", (r * 0.42).round()));
            for (node, &(x, y, r)) in s.nodes.iter().zip(places) {
                if let Some(v) = node.field(0) {
                    ctx.fill_style(ink(s, node));
                    ctx.fill_text(&f.short_text(v), x, y + r * 0.38);
                }
            }
        }
    } else {
        ctx.font("10px sans-serif");
        for (node, &(x, y, _)) in s.nodes.iter().zip(places) {
            ctx.fill_style(ink(s, node));
            ctx.fill_text(&format!("{}", node.id + 1), x, y);
        }
    }
}

/// A label's colour: white on a filled node, the theme's text colour in an
/// empty (vacant) one.
fn ink(s: &Scene<'_>, node: &NodeView) -> &'static str {
    let vacant = node.status != NodeStatus::Crashed && s.schema.role_look(node.role) == RoleLook::Vacant;
    if vacant {
        s.theme.muted
    } else {
        "#ffffff"
    }
}

/// The legend: roles, then message kinds (replies share their request's
/// colour); and a note when not every message in flight is drawn.
fn draw_legend(ctx: &mut impl Pen, s: &Scene<'_>) {
    let th = s.theme;
    ctx.text_align("left");
    ctx.font("12px sans-serif");
    let mut entries: Vec<(&str, &str)> = s.schema.roles.iter().map(|r| (r.color.as_str(), r.name.as_str())).collect();
    entries.extend(s.schema.kinds.iter().filter(|k| !k.reply).map(|k| (k.color.as_str(), k.name.as_str())));
    entries.push((th.crashed, "crashed"));
    for (i, (c, label)) in entries.iter().enumerate() {
        let y = 16.0 + i as f64 * 16.0;
        ctx.fill_style(c);
        ctx.fill_rect(10.0, y - 5.0, 10.0, 10.0);
        ctx.fill_style(th.muted);
        ctx.fill_text(label, 26.0, y);
    }
    if s.messages_total as usize > s.messages.len() {
        ctx.fill_style(th.muted);
        ctx.fill_text(
            &format!("showing {} of {} messages in flight", s.messages.len(), s.messages_total),
            10.0,
            H - 12.0,
        );
    }
}

fn summary(state: &AppState) -> String {
    let Some(schema) = state.schema.as_ref() else { return "Loading the simulation…".into() };
    // The metric the lab calls its leader, with its own label ("Leader S3").
    let values = state.frame.as_ref().map_or(&[][..], |f| &f.metrics[..]);
    let lead = schema.metrics.iter().position(|m| m.role == Some(MetricRole::Leader)).and_then(|i| {
        let m = &schema.metrics[i];
        values.get(i).map(|v| format!("{} {}. ", m.label, m.unit.format(*v)))
    });
    let roles: Vec<String> = state
        .shown
        .nodes
        .iter()
        .map(|n| {
            let role = if n.status == NodeStatus::Up {
                schema.roles.get(n.role as usize).map_or("?", |r| r.name.as_str())
            } else {
                n.status.name()
            };
            format!("S{} {role}", n.id + 1)
        })
        .collect();
    let total = state.shown.frame.as_ref().map_or(0, |f| f.messages_total);
    let lead = lead.unwrap_or_default();
    format!("{} lab. {lead}{}. {total} messages in flight.", schema.title, roles.join("; "))
}

/// The cluster drawing of this moment as an SVG document (for "Export
/// SVG"); `None` before the first frame.
pub fn svg(state: &AppState) -> Option<String> {
    let (Some(f), Some(schema)) = (state.frame.as_ref(), state.schema.as_ref()) else { return None };
    let scene = Scene {
        schema,
        nodes: &state.nodes,
        messages: &state.messages,
        messages_total: f.messages_total,
        groups: &state.groups,
        time: f.time,
        selected: state.selected,
        theme: pen::theme(),
        still: false,
    };
    let mut p = SvgPen::new(W, H);
    draw(&mut p, &scene);
    Some(p.finish())
}

/// Records when the first frame was drawn (milliseconds since navigation),
/// as `data-first-frame-ms` on the root element, for the browser benchmark.
pub(crate) fn mark_first_frame() {
    let Some(w) = web_sys::window() else { return };
    let Some(root) = w.document().and_then(|d| d.document_element()) else { return };
    if !root.has_attribute("data-first-frame-ms") {
        let ms = w.performance().map_or(0.0, |p| p.now());
        let _ = root.set_attribute("data-first-frame-ms", &format!("{ms:.1}"));
    }
}

/// The cluster drawing.
#[function_component]
pub fn ClusterView(props: &PanelProps) -> Html {
    let canvas = use_node_ref();
    let state = &props.ctx.state;
    {
        let canvas = canvas.clone();
        let inputs = (state.frame.clone(), state.selected, state.schema.clone());
        let (nodes, messages, groups) = (state.nodes.clone(), state.messages.clone(), state.groups.clone());
        use_effect_with(inputs, move |(frame, selected, schema)| {
            if let (Some(f), Some(schema), Some(c)) = (frame, schema, canvas.cast::<HtmlCanvasElement>()) {
                let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
                let (pw, ph) = ((W * dpr) as u32, (H * dpr) as u32);
                if c.width() != pw || c.height() != ph {
                    c.set_width(pw);
                    c.set_height(ph);
                }
                if let Some(ctx) =
                    c.get_context("2d").ok().flatten().and_then(|o| o.dyn_into::<CanvasRenderingContext2d>().ok())
                {
                    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
                    let scene = Scene {
                        schema,
                        nodes: &nodes,
                        messages: &messages,
                        messages_total: f.messages_total,
                        groups: &groups,
                        time: f.time,
                        selected: *selected,
                        theme: pen::theme(),
                        still: pen::reduced_motion(),
                    };
                    draw(&mut CanvasPen(&ctx), &scene);
                    mark_first_frame();
                }
            }
        });
    }
    let onclick = {
        let canvas = canvas.clone();
        let dispatcher = state.dispatcher();
        let n = state.nodes.len();
        Callback::from(move |e: MouseEvent| {
            let Some(c) = canvas.cast::<HtmlCanvasElement>() else { return };
            let rect = c.get_bounding_client_rect();
            let x = (f64::from(e.client_x()) - rect.left()) * W / rect.width().max(1.0);
            let y = (f64::from(e.client_y()) - rect.top()) * H / rect.height().max(1.0);
            let hit = (0..n).find(|&i| {
                let (nx, ny, r) = layout(i, n);
                (nx - x).powi(2) + (ny - y).powi(2) <= (r + 6.0).powi(2)
            });
            dispatcher.dispatch(Msg::Select(hit.map(|i| i as u32)));
        })
    };
    let label = summary(state);
    html! {
        <canvas ref={canvas} class="cluster" width="640" height="520" role="img" aria-label={label} {onclick}></canvas>
    }
}
