//! The animated cluster, drawn on a canvas so that dozens of nodes and
//! thousands of messages stay smooth. Nodes sit on a circle; each message is
//! a dot on the line from sender to receiver, placed by how much of its
//! flight time has passed at the frame's virtual time. Text, controls and
//! tables live in the DOM next to it, where screen readers and tests find
//! them; the canvas has a text summary as its accessible description.

use super::pen::{self, CanvasPen, Pen, SvgPen, Theme};
use crate::ctx::PanelProps;
use crate::state::{AppState, Msg};
use clusterscope_core::lab::{MessageDot, MetricRole, NodeForm, NodeStatus, NodeView, RoleLook, Schema};
use clusterscope_core::sim::Time;
use std::f64::consts::PI;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

const W: f64 = 640.0;
const H: f64 = 520.0;

/// Where a node sits, its size, whether it is a hub (in the middle)
/// rather than a server (on the circle), and its outline.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Place {
    x: f64,
    y: f64,
    r: f64,
    hub: bool,
    form: NodeForm,
}

/// Where every node sits, by node id. Servers stand on a circle; hubs (a
/// front end, a client: see [`Schema::hub_prefix`]) stand in its middle.
/// While the network is split, each group of nodes that can reach each
/// other gets a column of its own with its own circle, so a partition reads
/// as separated groups rather than as colours.
fn places(schema: &Schema, nodes: &[NodeView], groups: &[Vec<u32>]) -> Vec<Place> {
    let hub = |n: &NodeView| schema.hub_prefix(n.role).is_some();
    let mut columns: Vec<Vec<&NodeView>> = if groups.len() > 1 {
        let mut cols: Vec<Vec<&NodeView>> =
            groups.iter().map(|g| nodes.iter().filter(|n| g.contains(&n.id)).collect()).collect();
        cols.push(nodes.iter().filter(|n| !groups.iter().any(|g| g.contains(&n.id))).collect());
        cols
    } else {
        vec![nodes.iter().collect()]
    };
    columns.retain(|c| !c.is_empty());
    let k = columns.len().max(1) as f64;
    let col_w = W / k;
    let span = (H.min(col_w) / 2.0 - 40.0).max(20.0);
    // One size for every node: neighbours on the busiest circle never
    // overlap (a node takes at most 40% of the arc between two places).
    let busiest = columns.iter().map(|c| c.iter().filter(|n| !hub(n)).count()).max().unwrap_or(1).max(1);
    let r_node = (0.4 * 2.0 * PI * span / busiest as f64).clamp(4.0, 34.0).min(col_w / 5.0);
    let radius = (H.min(col_w) / 2.0 - r_node - 26.0).max(r_node * 1.5);
    let mut out = vec![Place { x: W / 2.0, y: H / 2.0, r: r_node, hub: false, form: NodeForm::Circle }; nodes.len()];
    for (c, column) in columns.iter().enumerate() {
        let cx = col_w * (c as f64 + 0.5);
        let (ring, hubs): (Vec<&&NodeView>, Vec<&&NodeView>) = column.iter().partition(|n| !hub(n));
        for (i, n) in ring.iter().enumerate() {
            let a = -PI / 2.0 + 2.0 * PI * i as f64 / ring.len() as f64;
            let (x, y) =
                if ring.len() == 1 { (cx, H / 2.0) } else { (cx + radius * a.cos(), H / 2.0 + radius * a.sin()) };
            if let Some(p) = out.get_mut(n.id as usize) {
                *p = Place { x, y, r: r_node, hub: false, form: schema.role_form(n.role) };
            }
        }
        // Hubs side by side across the middle (below a lone server).
        let hr = r_node.clamp(14.0, 26.0);
        let y = if ring.len() == 1 { H / 2.0 + r_node + hr + 16.0 } else { H / 2.0 };
        let step = (2.0 * radius - 2.0 * r_node).max(hr * 2.5) / hubs.len().max(1) as f64;
        for (i, n) in hubs.iter().enumerate() {
            let x = cx + (i as f64 - (hubs.len() as f64 - 1.0) / 2.0) * step.min(hr * 3.0);
            if let Some(p) = out.get_mut(n.id as usize) {
                *p = Place { x, y, r: hr, hub: true, form: NodeForm::Square };
            }
        }
    }
    out
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

/// Where each node sits, by node id.
type Places = [Place];

/// The whole drawing, in passes from the back: the walls between
/// partitioned groups, messages, nodes, their labels. The legend is the
/// page's (HTML beside the canvas, legible at any size); exports draw it
/// in a band below ([`svg`]).
fn draw(ctx: &mut impl Pen, s: &Scene<'_>) {
    ctx.fill_style(s.theme.bg);
    ctx.fill_rect(0.0, 0.0, W, H);
    let places = places(s.schema, s.nodes, s.groups);
    draw_walls(ctx, s, &places);
    draw_messages(ctx, s, &places);
    draw_nodes(ctx, s, &places);
    draw_labels(ctx, s, &places);
}

/// While the network is split: a dashed wall between neighbouring groups'
/// columns, each group named over its column.
fn draw_walls(ctx: &mut impl Pen, s: &Scene<'_>, places: &Places) {
    if s.groups.len() < 2 {
        return;
    }
    let mut spans: Vec<(f64, f64)> = s
        .groups
        .iter()
        .filter_map(|g| {
            let xs = g.iter().filter_map(|&id| places.get(id as usize)).map(|p| p.x);
            let (lo, hi) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
            (lo <= hi).then_some((lo, hi))
        })
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    ctx.stroke_style(s.theme.muted);
    ctx.line_width(1.5);
    ctx.dash(&[6.0, 6.0]);
    for pair in spans.windows(2) {
        let x = (pair[0].1 + pair[1].0) / 2.0;
        ctx.begin_path();
        ctx.move_to(x, 28.0);
        ctx.line_to(x, H - 12.0);
        ctx.stroke();
    }
    ctx.dash(&[]);
    ctx.font("12px sans-serif");
    ctx.text_align("center");
    ctx.text_baseline("middle");
    ctx.fill_style(s.theme.muted);
    let k = spans.len().max(1) as f64;
    for c in 0..spans.len() {
        ctx.fill_text(&format!("group {} of {}", c + 1, spans.len()), W / k * (c as f64 + 0.5), 14.0);
    }
}

/// Messages, batched by kind: each kind's dots in one call
/// ([`Pen::dots`]), drawn in the schema's order of kinds.
fn draw_messages(ctx: &mut impl Pen, s: &Scene<'_>, places: &Places) {
    let mut by_kind: Vec<Vec<(f64, f64)>> = vec![Vec::new(); s.schema.kinds.len()];
    for m in s.messages {
        let (Some(a), Some(b), Some(at)) =
            (places.get(m.from as usize), places.get(m.to as usize), by_kind.get_mut(usize::from(m.kind)))
        else {
            continue;
        };
        let span = m.deliver_at.saturating_sub(m.sent_at).max(1) as f64;
        let mut p = (s.time.saturating_sub(m.sent_at) as f64 / span).clamp(0.0, 1.0);
        if s.still {
            p = if p < 0.5 { 0.2 } else { 0.8 };
        }
        at.push((a.x + (b.x - a.x) * p, a.y + (b.y - a.y) * p));
    }
    for (kind, at) in s.schema.kinds.iter().zip(&by_kind) {
        ctx.dots(at, if kind.small { 3.0 } else { 5.0 }, &kind.color, kind.reply);
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
        let Some(&place) = places.get(node.id as usize) else { continue };
        if partitioned {
            ctx.begin_path();
            outline(ctx, place, 9.0);
            ctx.fill_style(GROUP_COLORS[group_of(node.id) % GROUP_COLORS.len()]);
            ctx.alpha(0.35);
            ctx.fill();
            ctx.alpha(1.0);
        }
        draw_node_body(ctx, s, node, place);
        draw_node_marks(ctx, s, node, place);
    }
}

/// A node's outline grown by `grow`, as a path: its form (a hub's is a
/// square). A square and a diamond are drawn a little smaller than the
/// circle they stand for, so that every form covers about the same area.
fn outline(ctx: &mut impl Pen, p: Place, grow: f64) {
    let r = p.r + grow;
    match p.form {
        NodeForm::Circle => {
            ctx.move_to(p.x + r, p.y);
            ctx.arc(p.x, p.y, r, 0.0, 2.0 * PI);
        }
        NodeForm::Square => {
            let h = r * 0.9;
            ctx.move_to(p.x - h, p.y - h);
            ctx.line_to(p.x + h, p.y - h);
            ctx.line_to(p.x + h, p.y + h);
            ctx.line_to(p.x - h, p.y + h);
            ctx.line_to(p.x - h, p.y - h);
        }
        NodeForm::Diamond => {
            let h = r * 1.2;
            ctx.move_to(p.x, p.y - h);
            ctx.line_to(p.x + h, p.y);
            ctx.line_to(p.x, p.y + h);
            ctx.line_to(p.x - h, p.y);
            ctx.line_to(p.x, p.y - h);
        }
    }
}

/// A node's disc in its role's colour and look; a paused node is veiled.
fn draw_node_body(ctx: &mut impl Pen, s: &Scene<'_>, node: &NodeView, place: Place) {
    let th = s.theme;
    let color = match node.status {
        NodeStatus::Crashed => th.crashed,
        _ => s.schema.roles.get(node.role as usize).map_or("#4a78c2", |r| r.color.as_str()),
    };
    // The role's look: a vacant slot is an empty dashed circle, a node
    // that has left is faded.
    let look = s.schema.role_look(node.role);
    ctx.begin_path();
    outline(ctx, place, 0.0);
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
fn draw_node_marks(ctx: &mut impl Pen, s: &Scene<'_>, node: &NodeView, place: Place) {
    let th = s.theme;
    let (x, y, r) = (place.x, place.y, place.r);
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
        outline(ctx, place, 8.0);
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
    let names = s.schema.node_names(s.nodes);
    let r = places.iter().find(|p| !p.hub).or(places.first()).map_or(0.0, |p| p.r);
    let big = r >= 14.0;
    if big {
        ctx.font(&format!("bold {}px sans-serif", (r * 0.55).round()));
    } else {
        ctx.font("10px sans-serif");
    }
    for ((node, place), name) in s.nodes.iter().zip(places).zip(&names) {
        ctx.fill_style(ink(s, node));
        let short = name.strip_prefix('S').filter(|_| !place.hub && !big).unwrap_or(name);
        // A hub shows no field: its name sits in its middle.
        let y = if big && !place.hub { place.y - place.r.min(r) * 0.22 } else { place.y };
        ctx.fill_text(short, place.x, y);
    }
    if let (true, Some(f)) = (big, s.schema.fields.first()) {
        ctx.font(&format!("{}px sans-serif", (r * 0.42).round()));
        for (node, place) in s.nodes.iter().zip(places).filter(|(_, p)| !p.hub) {
            if let Some(v) = node.field(0) {
                ctx.fill_style(ink(s, node));
                ctx.fill_text(&f.short_text(v), place.x, place.y + place.r.min(r) * 0.38);
            }
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

/// What a legend entry's swatch shows: a node's outline, or a message's dot.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Swatch {
    Node(NodeForm),
    Message,
}

/// The legend's entries: roles, then crashed nodes, then message kinds
/// (replies share their request's colour); each a colour, a label and its
/// swatch.
fn legend_entries(schema: &Schema, theme: Theme) -> Vec<(&str, &str, Swatch)> {
    let mut entries: Vec<(&str, &str, Swatch)> = schema
        .roles
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.unused)
        .map(|(i, r)| (r.color.as_str(), r.name.as_str(), Swatch::Node(schema.role_form(i as u8))))
        .collect();
    entries.push((theme.crashed, "crashed", Swatch::Node(NodeForm::Circle)));
    entries.extend(
        schema
            .kinds
            .iter()
            .filter(|k| !k.reply && !k.unused)
            .map(|k| (k.color.as_str(), k.name.as_str(), Swatch::Message)),
    );
    entries
}

/// Where each legend entry of an export's band goes (left to right,
/// wrapping), and the band's height.
fn legend_band(entries: &[(&str, &str, Swatch)]) -> (Vec<(f64, f64)>, f64) {
    let (mut x, mut y) = (10.0, 18.0);
    let mut at = Vec::with_capacity(entries.len());
    for (_, label, _) in entries {
        // 12 px sans-serif: about 7 px a character.
        let w = 30.0 + 7.0 * label.chars().count() as f64;
        if x + w > W - 10.0 && x > 10.0 {
            (x, y) = (10.0, y + 20.0);
        }
        at.push((x, y));
        x += w;
    }
    (at, y + 16.0)
}

/// The legend as an export draws it: a band under the drawing, from `top`;
/// and a note when not every message in flight is drawn.
fn draw_legend_band(ctx: &mut impl Pen, s: &Scene<'_>, top: f64, height: f64) {
    let th = s.theme;
    ctx.fill_style(th.bg);
    ctx.fill_rect(0.0, top, W, height);
    ctx.text_align("left");
    ctx.text_baseline("middle");
    ctx.font("12px sans-serif");
    let entries = legend_entries(s.schema, th);
    let (at, _) = legend_band(&entries);
    for ((c, label, swatch), (x, y)) in entries.iter().zip(at) {
        ctx.fill_style(c);
        ctx.begin_path();
        match swatch {
            Swatch::Node(form) => outline(ctx, Place { x: x + 5.0, y: top + y, r: 5.5, hub: false, form: *form }, 0.0),
            Swatch::Message => {
                ctx.move_to(x + 9.0, top + y);
                ctx.arc(x + 5.0, top + y, 4.0, 0.0, 2.0 * PI);
            }
        }
        ctx.fill();
        ctx.fill_style(th.muted);
        ctx.fill_text(label, x + 16.0, top + y);
    }
    if let Some(note) = shown_note(s.messages.len(), s.messages_total) {
        ctx.fill_style(th.muted);
        ctx.fill_text(&note, 10.0, top + height - 10.0);
    }
}

/// "showing N of M messages in flight" when the drawing leaves some out.
fn shown_note(shown: usize, total: u64) -> Option<String> {
    (total as usize > shown).then(|| format!("showing {shown} of {total} messages in flight"))
}

/// Props of [`Legend`].
#[derive(Properties, Clone, PartialEq)]
struct LegendProps {
    schema: Rc<Schema>,
    /// "showing N of M messages in flight", when not all are drawn.
    note: Option<AttrValue>,
}

/// The legend on the page, beside the drawing: HTML, so it wraps and stays
/// legible on a phone and never covers a node. It re-renders only when
/// the schema or its note changes, not with every frame the drawing takes.
#[function_component]
fn Legend(props: &LegendProps) -> Html {
    let entries = legend_entries(&props.schema, pen::theme());
    let item = |(c, label, swatch): &(&str, &str, Swatch)| {
        let kind = match swatch {
            Swatch::Node(NodeForm::Circle) => "node",
            Swatch::Node(NodeForm::Square) => "node square",
            Swatch::Node(NodeForm::Diamond) => "node diamond",
            Swatch::Message => "dot",
        };
        html! { <li><span class={format!("swatch {kind}")} style={format!("background:{c}")}></span>{ *label }</li> }
    };
    html! {
        <div class="legend" aria-label="Legend">
            <ul>
                <li class="legend-head">{ "Nodes" }</li>
                { for entries.iter().filter(|e| e.2 != Swatch::Message).map(item) }
                <li class="legend-head">{ "Messages" }</li>
                { for entries.iter().filter(|e| e.2 == Swatch::Message).map(item) }
            </ul>
            if let Some(note) = props.note.clone() { <p class="shown-note">{ note }</p> }
        </div>
    }
}

/// The legend of the state's lab; its note follows at the text panels'
/// pace (the frame they show).
fn legend_html(state: &AppState) -> Html {
    let Some(schema) = state.schema.clone() else { return html! {} };
    let note =
        state.shown.frame.as_ref().and_then(|f| shown_note(f.messages.len(), f.messages_total)).map(AttrValue::from);
    html! { <Legend {schema} {note} /> }
}

fn summary(state: &AppState) -> String {
    let Some(schema) = state.schema.as_ref() else { return "Loading the simulation…".into() };
    // The metric the lab calls its leader, with its own label ("Leader S3").
    let values = state.shown.frame.as_ref().map_or(&[][..], |f| &f.metrics[..]);
    let lead = schema.metrics.iter().position(|m| m.role == Some(MetricRole::Leader)).and_then(|i| {
        let m = &schema.metrics[i];
        values.get(i).map(|v| format!("{} {}. ", m.label, m.unit.format(*v)))
    });
    let names = schema.node_names(&state.shown.nodes);
    let roles: Vec<String> = state
        .shown
        .nodes
        .iter()
        .zip(&names)
        .map(|(n, name)| {
            let role = if n.status == NodeStatus::Up {
                schema.roles.get(n.role as usize).map_or("?", |r| r.name.as_str())
            } else {
                n.status.name()
            };
            format!("{name} {role}")
        })
        .collect();
    let total = state.shown.frame.as_ref().map_or(0, |f| f.messages_total);
    let lead = lead.unwrap_or_default();
    format!("{} lab. {lead}{}. {total} messages in flight.", schema.title, roles.join("; "))
}

/// The cluster drawing of this moment as an SVG document (for "Export
/// SVG"), with its legend and the story's caption in force under it;
/// `None` before the first frame.
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
    let (_, band) = legend_band(&legend_entries(schema, scene.theme));
    let caption = pen::CaptionBand::new(state.caption_at(state.time()).map(|c| c.1), W);
    let mut p = SvgPen::new(W, H + band + caption.height);
    draw(&mut p, &scene);
    draw_legend_band(&mut p, &scene, H, band);
    caption.draw(&mut p, H + band, W, scene.theme);
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
        // The places are worked out on a click, not on every frame.
        let (schema, nodes, groups) = (state.schema.clone(), state.nodes.clone(), state.groups.clone());
        Callback::from(move |e: MouseEvent| {
            let (Some(c), Some(schema)) = (canvas.cast::<HtmlCanvasElement>(), schema.as_ref()) else { return };
            let spots = places(schema, &nodes, &groups);
            let rect = c.get_bounding_client_rect();
            let x = (f64::from(e.client_x()) - rect.left()) * W / rect.width().max(1.0);
            let y = (f64::from(e.client_y()) - rect.top()) * H / rect.height().max(1.0);
            let hit = spots.iter().position(|p| (p.x - x).powi(2) + (p.y - y).powi(2) <= (p.r + 6.0).powi(2));
            dispatcher.dispatch(Msg::Select(hit.map(|i| i as u32)));
        })
    };
    // The text description follows at the text panels' pace.
    let label = {
        let state = state.clone();
        use_memo(state.shown_version, move |_| summary(&state))
    };
    html! {
        <div class="cluster-drawing">
            <canvas ref={canvas} class="cluster" width="640" height="520" role="img" aria-label={(*label).clone()} {onclick}></canvas>
            { legend_html(state) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clusterscope_core::lab::Lab;
    use clusterscope_core::scenario::Scenario;

    /// A pen that keeps the centre of every circle drawn.
    #[derive(Default)]
    struct Circles(Vec<(f64, f64)>);

    impl Pen for Circles {
        fn fill_style(&mut self, _: &str) {}
        fn stroke_style(&mut self, _: &str) {}
        fn line_width(&mut self, _: f64) {}
        fn alpha(&mut self, _: f64) {}
        fn font(&mut self, _: &str) {}
        fn text_align(&mut self, _: &str) {}
        fn text_baseline(&mut self, _: &str) {}
        fn dash(&mut self, _: &[f64]) {}
        fn begin_path(&mut self) {}
        fn move_to(&mut self, _: f64, _: f64) {}
        fn line_to(&mut self, _: f64, _: f64) {}
        fn arc(&mut self, x: f64, y: f64, _: f64, _: f64, _: f64) {
            self.0.push((x, y));
        }
        fn fill(&mut self) {}
        fn stroke(&mut self) {}
        fn fill_rect(&mut self, _: f64, _: f64, _: f64, _: f64) {}
        fn fill_text(&mut self, _: &str, _: f64, _: f64) {}
        fn turned_text(&mut self, _: &str, _: f64, _: f64, _: f64) {}
    }

    /// Where one message from a node at x = 0 to one at x = 100 is drawn
    /// `elapsed` µs into its 1,000 µs flight.
    fn dot_x(elapsed: Time, still: bool) -> f64 {
        let schema = Lab::new(&Scenario::parse("lab raft\n").expect("parses")).expect("starts").schema();
        let at = |x| Place { x, y: 50.0, r: 20.0, hub: false, form: NodeForm::Circle };
        let places = [at(0.0), at(100.0)];
        let messages = [MessageDot { from: 0, to: 1, kind: 0, sent_at: 1_000, deliver_at: 2_000 }];
        let scene = Scene {
            schema: &schema,
            nodes: &[],
            messages: &messages,
            messages_total: 1,
            groups: &[],
            time: 1_000 + elapsed,
            selected: None,
            theme: pen::DARK,
            still,
        };
        let mut pen = Circles::default();
        draw_messages(&mut pen, &scene, &places);
        assert_eq!(pen.0.len(), 1, "one message, one dot");
        pen.0[0].0
    }

    // docs/using.md, Keys: "with `prefers-reduced-motion` messages jump
    // (near the sender, then near the receiver) instead of gliding" (WCAG
    // 2.1, 2.3.3 Animation from Interactions). Gliding, the dot is where
    // the flight has got to; still, it sits at a fifth of the way for the
    // first half of the flight and at four fifths for the second.
    #[test]
    fn with_reduced_motion_messages_jump_instead_of_gliding() {
        let at = |still| [100, 400, 600, 900].map(|t| dot_x(t, still).round());
        assert_eq!(at(false), [10.0, 40.0, 60.0, 90.0]);
        assert_eq!(at(true), [20.0, 20.0, 80.0, 80.0]);
    }
}
