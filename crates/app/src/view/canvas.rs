//! The animated cluster, drawn on a canvas so that dozens of nodes and
//! thousands of messages stay smooth. Nodes sit on a circle; each message is
//! a dot on the line from sender to receiver, placed by how much of its
//! flight time has passed at the frame's virtual time. Text, controls and
//! tables live in the DOM next to it, where screen readers and tests find
//! them; the canvas has a text summary as its accessible description.

use super::PanelProps;
use crate::state::Msg;
use clusterscope_core::lab::{Frame, NodeView};
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
    let ring = (H.min(W) / 2.0 - r_node - 26.0).max(40.0);
    let a = -PI / 2.0 + 2.0 * PI * i as f64 / n.max(1) as f64;
    (W / 2.0 + ring * a.cos(), H / 2.0 + ring * a.sin(), r_node)
}

fn role_color(n: &NodeView) -> &'static str {
    match (n.status.as_str(), n.role.as_str()) {
        ("crashed", _) => "#5b616e",
        (_, "leader") => "#2e9d5b",
        (_, "candidate") => "#e0a21b",
        (_, "pre-candidate") => "#d8c26a",
        _ => "#4a78c2",
    }
}

/// Colours of messages by kind.
pub fn message_color(kind: &str) -> &'static str {
    match kind {
        "RequestVote" | "RequestVoteReply" => "#e0a21b",
        "PreVote" | "PreVoteReply" => "#b07ad8",
        "AppendEntries" | "AppendEntriesReply" => "#2e9d5b",
        _ => "#9aa3b2",
    }
}

const GROUP_COLORS: &[&str] = &["#4a78c2", "#c2504a", "#8a4ac2", "#c28a4a", "#4ac2a8", "#a8c24a"];

fn draw(ctx: &CanvasRenderingContext2d, f: &Frame, selected: Option<u32>, timeout_max: f64) {
    ctx.set_fill_style_str("#10141b");
    ctx.fill_rect(0.0, 0.0, W, H);
    let n = f.nodes.len();
    let partitioned = f.groups.len() > 1;
    let group_of = |id: u32| f.groups.iter().position(|g| g.contains(&id)).unwrap_or(0);

    // Messages.
    for m in &f.messages {
        let (x1, y1, _) = layout(m.from as usize, n);
        let (x2, y2, _) = layout(m.to as usize, n);
        let span = m.deliver_at.saturating_sub(m.sent_at).max(1) as f64;
        let p = ((f.time.saturating_sub(m.sent_at)) as f64 / span).clamp(0.0, 1.0);
        let (x, y) = (x1 + (x2 - x1) * p, y1 + (y2 - y1) * p);
        let reply = m.kind.ends_with("Reply");
        let r = if m.kind.starts_with("Heartbeat") { 3.0 } else { 5.0 };
        ctx.begin_path();
        let _ = ctx.arc(x, y, r, 0.0, 2.0 * PI);
        if reply {
            ctx.set_stroke_style_str(message_color(&m.kind));
            ctx.set_line_width(2.0);
            ctx.stroke();
        } else {
            ctx.set_fill_style_str(message_color(&m.kind));
            ctx.fill();
        }
    }

    // Nodes.
    ctx.set_text_align("center");
    ctx.set_text_baseline("middle");
    for node in &f.nodes {
        let (x, y, r) = layout(node.id as usize, n);
        if partitioned {
            ctx.begin_path();
            let _ = ctx.arc(x, y, r + 9.0, 0.0, 2.0 * PI);
            ctx.set_fill_style_str(GROUP_COLORS[group_of(node.id) % GROUP_COLORS.len()]);
            ctx.set_global_alpha(0.35);
            ctx.fill();
            ctx.set_global_alpha(1.0);
        }
        ctx.begin_path();
        let _ = ctx.arc(x, y, r, 0.0, 2.0 * PI);
        ctx.set_fill_style_str(role_color(node));
        ctx.fill();
        if node.status == "paused" {
            ctx.set_global_alpha(0.55);
            ctx.set_fill_style_str("#10141b");
            ctx.fill();
            ctx.set_global_alpha(1.0);
        }
        // Election timer: the arc still to run.
        if let Some(due) = node.election_due {
            let left = (due.saturating_sub(f.time) as f64 / timeout_max).clamp(0.0, 1.0);
            ctx.begin_path();
            let _ = ctx.arc(x, y, r + 4.0, -PI / 2.0, -PI / 2.0 + 2.0 * PI * left);
            ctx.set_stroke_style_str("#cfd6e4");
            ctx.set_line_width(2.5);
            ctx.stroke();
        }
        if selected == Some(node.id) {
            ctx.begin_path();
            let _ = ctx.arc(x, y, r + 8.0, 0.0, 2.0 * PI);
            ctx.set_stroke_style_str("#ffffff");
            ctx.set_line_width(1.5);
            ctx.stroke();
        }
        ctx.set_fill_style_str("#ffffff");
        if r >= 14.0 {
            ctx.set_font(&format!("bold {}px sans-serif", (r * 0.55).round()));
            let _ = ctx.fill_text(&format!("S{}", node.id + 1), x, y - r * 0.22);
            ctx.set_font(&format!("{}px sans-serif", (r * 0.42).round()));
            let _ = ctx.fill_text(&format!("t{}", node.term), x, y + r * 0.38);
        } else {
            ctx.set_font("10px sans-serif");
            let _ = ctx.fill_text(&format!("{}", node.id + 1), x, y);
        }
        if node.status == "crashed" {
            ctx.set_stroke_style_str("#e05a5a");
            ctx.set_line_width(3.0);
            ctx.begin_path();
            ctx.move_to(x - r * 0.6, y - r * 0.6);
            ctx.line_to(x + r * 0.6, y + r * 0.6);
            ctx.move_to(x + r * 0.6, y - r * 0.6);
            ctx.line_to(x - r * 0.6, y + r * 0.6);
            ctx.stroke();
        }
    }

    // Legend.
    ctx.set_text_align("left");
    ctx.set_font("12px sans-serif");
    let legend = [
        ("#4a78c2", "follower"),
        ("#e0a21b", "candidate / vote"),
        ("#2e9d5b", "leader / append"),
        ("#9aa3b2", "heartbeat"),
        ("#5b616e", "crashed"),
    ];
    for (i, (c, label)) in legend.iter().enumerate() {
        let y = 16.0 + i as f64 * 16.0;
        ctx.set_fill_style_str(c);
        ctx.fill_rect(10.0, y - 5.0, 10.0, 10.0);
        ctx.set_fill_style_str("#cfd6e4");
        let _ = ctx.fill_text(label, 26.0, y);
    }
    if f.messages_total as usize > f.messages.len() {
        ctx.set_fill_style_str("#cfd6e4");
        let _ = ctx.fill_text(&format!("showing {} of {} messages in flight", f.messages.len(), f.messages_total), 10.0, H - 12.0);
    }
}

fn summary(f: &Frame) -> String {
    let leader = f.metric("leader").map_or("none".to_string(), |m| m.text.clone());
    let roles: Vec<String> = f.nodes.iter().map(|n| format!("S{} {} term {}", n.id + 1, n.role, n.term)).collect();
    format!("Leader {leader}. {}. {} messages in flight.", roles.join("; "), f.messages_total)
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
    let timeout_max = {
        // The election timeout range's top, from the scenario text.
        let text = &state.scenario;
        text.lines()
            .find_map(|l| l.strip_prefix("election_timeout_max "))
            .and_then(clusterscope_core::sim::time::parse_duration)
            .unwrap_or(300_000) as f64
    };
    {
        let canvas = canvas.clone();
        let frame = state.frame.clone();
        let selected = state.selected;
        use_effect_with((frame, selected), move |(frame, selected)| {
            if let (Some(f), Some(c)) = (frame, canvas.cast::<HtmlCanvasElement>()) {
                let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
                let (pw, ph) = ((W * dpr) as u32, (H * dpr) as u32);
                if c.width() != pw || c.height() != ph {
                    c.set_width(pw);
                    c.set_height(ph);
                }
                if let Some(ctx) = c
                    .get_context("2d")
                    .ok()
                    .flatten()
                    .and_then(|o| o.dyn_into::<CanvasRenderingContext2d>().ok())
                {
                    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
                    draw(&ctx, f, *selected, timeout_max);
                    mark_first_frame();
                }
            }
        });
    }
    let onclick = {
        let canvas = canvas.clone();
        let dispatcher = state.dispatcher();
        let n = state.frame.as_ref().map_or(0, |f| f.nodes.len());
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
    let label = state.frame.as_ref().map_or("Loading the simulation…".to_string(), |f| summary(f));
    html! {
        <canvas ref={canvas} class="cluster" width="640" height="520" role="img" aria-label={label} {onclick}></canvas>
    }
}
