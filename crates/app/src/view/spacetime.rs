//! The space-time diagram: one lane per node, virtual time from left to
//! right, each message an arrow from its send to its delivery (a lost one
//! ends in a cross, a network duplicate is dashed), timers as ticks, notes
//! (became leader, chosen, committed) as dots, faults as bands across the
//! lanes they affect (crash, pause, partition groups, one-way cuts).
//!
//! Wheel zooms around the pointer, shift+wheel or dragging scrolls, a click
//! goes to that time (and, on a message, shows its contents). The window
//! follows the run until the user scrolls it. Only what is on screen is
//! drawn, at most [`MAX_ARROWS`] arrows (evenly chosen, and said so), so
//! a run of hundreds of thousands of events scrolls as smoothly as a short
//! one. When an invariant breaks, the violating event is circled and its
//! causal past is drawn bright while everything else fades.

use super::pen::{self, CanvasPen, Pen, SvgPen, Theme};
use crate::diagram::DiagramStore;
use crate::protocol::ToWorker;
use clusterscope_core::lab::diagram::{FaultKind, Record, What};
use clusterscope_core::lab::Schema;
use clusterscope_core::sim::time::format_duration;
use clusterscope_core::sim::{Time, MS, SEC};
use gloo_events::{EventListener, EventListenerOptions};
use std::collections::BTreeSet;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// Width of the drawing when it cannot be measured, in CSS pixels (it is
/// drawn at the width it is shown at, so text stays sharp).
pub const W: f64 = 960.0;
/// Most arrows drawn at once.
pub const MAX_ARROWS: usize = 6_000;
/// Most marks (timers, notes) drawn at once.
const MAX_MARKS: usize = 6_000;
const GUTTER: f64 = 46.0;
const AXIS: f64 = 26.0;
const FOOT: f64 = 22.0;
const LOST: &str = "#e05a5a";

/// The time window on screen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Virtual time across the width.
    pub span: Time,
    /// The right edge; `None`: follow the run (the right edge is now).
    pub right: Option<Time>,
}

impl Default for Window {
    fn default() -> Self {
        Window { span: SEC, right: None }
    }
}

impl Window {
    /// The window's left and right edges at time `now`.
    pub fn edges(&self, now: Time) -> (Time, Time) {
        let right = self.right.unwrap_or_else(|| now.max(self.span));
        (right.saturating_sub(self.span), right.max(self.span))
    }
}

/// What the user chose not to see.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filters {
    /// Message kinds hidden (indexes into the schema's kinds).
    pub kinds: BTreeSet<u16>,
    /// Lanes hidden.
    pub lanes: BTreeSet<u32>,
    /// Timer ticks hidden.
    pub timers: bool,
    /// Notes hidden.
    pub notes: bool,
}

/// What one drawing showed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drawn {
    /// Message arrows in the window (after filters).
    pub in_view: usize,
    /// Arrows drawn.
    pub arrows: usize,
    /// Lanes drawn.
    pub lanes: usize,
    /// Arrows drawn, with their ends, for pointing at them.
    pub hits: Vec<(f64, f64, f64, f64, usize)>,
    /// The middle of one drawn arrow (the middle one drawn), as "x,y":
    /// somewhere a person or a test can click.
    pub sample: String,
}

/// Places lanes and times.
struct Geometry {
    left: Time,
    span: Time,
    lanes: Vec<u32>,
    lane_h: f64,
    w: f64,
}

impl Geometry {
    fn new(store: &DiagramStore, win: &Window, now: Time, filters: &Filters, w: f64) -> Geometry {
        let (left, right) = win.edges(now);
        let lanes: Vec<u32> = (0..store.lanes).filter(|l| !filters.lanes.contains(l)).collect();
        let lane_h = (420.0 / lanes.len().max(1) as f64).clamp(8.0, 34.0);
        Geometry { left, span: (right - left).max(1), lanes, lane_h, w: w.max(200.0) }
    }
    fn height(&self) -> f64 {
        AXIS + self.lane_h * self.lanes.len().max(1) as f64 + FOOT
    }
    fn x(&self, t: Time) -> f64 {
        GUTTER + (t as f64 - self.left as f64) / self.span as f64 * (self.w - GUTTER - 10.0)
    }
    fn t(&self, x: f64) -> Time {
        let f = ((x - GUTTER) / (self.w - GUTTER - 10.0)).clamp(0.0, 1.0);
        self.left + (f * self.span as f64) as Time
    }
    fn y(&self, lane: u32) -> Option<f64> {
        let i = self.lanes.iter().position(|&l| l == lane)?;
        Some(AXIS + self.lane_h * (i as f64 + 0.5))
    }
}

/// A tick step of 1, 2 or 5 times a power of ten, about every 110 px.
fn tick_step(span: Time, w: f64) -> Time {
    let want = (span as f64 * 110.0 / (w - GUTTER)).max(1.0);
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if (step * m) as f64 >= want {
                return step * m;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// A tick's time in seconds, with as many decimals as the step needs.
fn tick_label(t: Time, step: Time) -> String {
    let decimals = (0..=6).find(|d| step.is_multiple_of(SEC / 10u64.pow(*d))).unwrap_or(6) as usize;
    format!("{:.*}s", decimals, t as f64 / SEC as f64)
}

/// Draws the diagram of `store` in window `win` at time `now`.
#[allow(clippy::too_many_arguments)] // each is one plain input of the picture
pub fn draw(
    p: &mut impl Pen,
    store: &DiagramStore,
    schema: &Schema,
    win: &Window,
    now: Time,
    filters: &Filters,
    theme: Theme,
    width: f64,
) -> Drawn {
    let g = Geometry::new(store, win, now, filters, width);
    let w = g.w;
    let h = g.height();
    let right = g.left + g.span;
    let mut out = Drawn { lanes: g.lanes.len(), ..Drawn::default() };
    p.fill_style(theme.bg);
    p.fill_rect(0.0, 0.0, w, h);

    // Bands: crashes, pauses, partitions, one-way cuts, up to now.
    let mut crash_from: Vec<Option<Time>> = vec![None; store.lanes as usize];
    let mut pause_from: Vec<Option<Time>> = vec![None; store.lanes as usize];
    let mut part: Option<(Time, Vec<(u32, u32)>)> = None;
    let mut blocks: Vec<(Time, u32, u32)> = Vec::new();
    let mut bands: Vec<(u32, Time, Time, &'static str, f64)> = Vec::new();
    let mut heal_marks: Vec<Time> = Vec::new();
    let close_part = |part: &mut Option<(Time, Vec<(u32, u32)>)>,
                      blocks: &mut Vec<(Time, u32, u32)>,
                      t: Time,
                      bands: &mut Vec<(u32, Time, Time, &'static str, f64)>| {
        if let Some((t0, groups)) = part.take() {
            for (n, grp) in groups {
                bands.push((
                    n,
                    t0,
                    t,
                    super::canvas::GROUP_COLORS[grp as usize % super::canvas::GROUP_COLORS.len()],
                    0.16,
                ));
            }
        }
        for (t0, a, _) in blocks.drain(..) {
            bands.push((a, t0, t, LOST, 0.12));
        }
    };
    let mut i = 0;
    while i < store.faults.len() {
        let f = store.faults[i];
        let k = f.kind;
        if k == FaultKind::Crash as u16 {
            if let Some(c) = crash_from.get_mut(f.from as usize) {
                c.get_or_insert(f.t0);
            }
        } else if k == FaultKind::Restart as u16 {
            if let Some(Some(t0)) = crash_from.get_mut(f.from as usize).map(Option::take) {
                bands.push((f.from, t0, f.t0, theme.crashed, 0.45));
            }
        } else if k == FaultKind::Pause as u16 {
            if let Some(c) = pause_from.get_mut(f.from as usize) {
                c.get_or_insert(f.t0);
            }
        } else if k == FaultKind::Resume as u16 {
            if let Some(Some(t0)) = pause_from.get_mut(f.from as usize).map(Option::take) {
                bands.push((f.from, t0, f.t0, "#c8a040", 0.3));
            }
        } else if k == FaultKind::Partition as u16 {
            close_part(&mut part, &mut blocks, f.t0, &mut bands);
            let mut groups = Vec::new();
            while i < store.faults.len()
                && store.faults[i].kind == FaultKind::Partition as u16
                && store.faults[i].t0 == f.t0
            {
                groups.push((store.faults[i].from, store.faults[i].to));
                i += 1;
            }
            part = Some((f.t0, groups));
            continue;
        } else if k == FaultKind::Block as u16 {
            blocks.push((f.t0, f.from, f.to));
        } else if k == FaultKind::Heal as u16 {
            close_part(&mut part, &mut blocks, f.t0, &mut bands);
            heal_marks.push(f.t0);
        }
        i += 1;
    }
    close_part(&mut part, &mut blocks, now, &mut bands);
    for (lane, c) in crash_from.iter().enumerate() {
        if let Some(t0) = c {
            bands.push((lane as u32, *t0, now, theme.crashed, 0.45));
        }
    }
    for (lane, c) in pause_from.iter().enumerate() {
        if let Some(t0) = c {
            bands.push((lane as u32, *t0, now, "#c8a040", 0.3));
        }
    }
    for (lane, a, b, c, alpha) in &bands {
        if *b < g.left || *a > right {
            continue;
        }
        if let Some(y) = g.y(*lane) {
            let (x0, x1) = (g.x((*a).max(g.left)), g.x((*b).min(right)));
            p.alpha(*alpha);
            p.fill_style(c);
            p.fill_rect(x0, y - g.lane_h * 0.45, (x1 - x0).max(1.0), g.lane_h * 0.9);
        }
    }
    p.alpha(1.0);

    // The causal past of a violation, if one happened.
    let past = store.past.as_ref();
    if let Some((frontier, _)) = past {
        p.stroke_style("#f0c040");
        p.line_width(5.0);
        p.alpha(0.35);
        p.begin_path();
        for (lane, f) in frontier.iter().enumerate() {
            if let (Some(ft), Some(y)) = (f, g.y(lane as u32)) {
                if *ft >= g.left {
                    p.move_to(g.x(g.left), y);
                    p.line_to(g.x((*ft).min(right)), y);
                }
            }
        }
        p.stroke();
        p.alpha(1.0);
    }

    // Lanes and their names.
    p.stroke_style(theme.faint);
    p.line_width(1.0);
    p.begin_path();
    for &lane in &g.lanes {
        if let Some(y) = g.y(lane) {
            p.move_to(GUTTER, y);
            p.line_to(w - 10.0, y);
        }
    }
    p.stroke();
    p.fill_style(theme.muted);
    p.font(&format!("{}px sans-serif", (g.lane_h * 0.5).clamp(8.0, 12.0).round()));
    p.text_align("right");
    p.text_baseline("middle");
    for &lane in &g.lanes {
        if let Some(y) = g.y(lane) {
            p.fill_text(&format!("S{}", lane + 1), GUTTER - 6.0, y);
        }
    }

    // The time axis.
    let step = tick_step(g.span, w);
    p.font("11px sans-serif");
    p.text_align("center");
    p.text_baseline("middle");
    p.stroke_style(theme.faint);
    p.begin_path();
    let mut t = g.left.div_ceil(step) * step;
    let mut labels = Vec::new();
    while t <= right {
        let x = g.x(t);
        p.move_to(x, AXIS - 6.0);
        p.line_to(x, h - FOOT);
        labels.push((x, t));
        t += step;
    }
    p.stroke();
    p.fill_style(theme.muted);
    for (x, t) in labels {
        p.fill_text(&tick_label(t, step), x, AXIS / 2.0 - 2.0);
    }
    p.stroke_style(theme.muted);
    p.dash(&[2.0, 3.0]);
    p.begin_path();
    for t in heal_marks.iter().filter(|t| (g.left..=right).contains(t)) {
        p.move_to(g.x(*t), AXIS);
        p.line_to(g.x(*t), h - FOOT);
    }
    p.stroke();
    p.dash(&[]);

    // Records on screen.
    let range = store.visible(g.left, right);
    let shown = |r: &Record| {
        !filters.lanes.contains(&r.from)
            && !filters.lanes.contains(&r.to)
            && r.t0 <= right
            && r.t1 >= g.left
            && match r.what {
                What::Timer => !filters.timers,
                What::Note => !filters.notes,
                What::Fault => false,
                _ => !filters.kinds.contains(&r.kind),
            }
    };
    let (mut arrows, mut marks) = (Vec::new(), Vec::new());
    for i in range.clone() {
        let r = &store.records[i];
        if shown(r) {
            if r.what.is_message() {
                arrows.push(i);
            } else {
                marks.push(i);
            }
        }
    }
    out.in_view = arrows.len();
    let stride = arrows.len().div_ceil(MAX_ARROWS).max(1);
    let mark_stride = marks.len().div_ceil(MAX_MARKS).max(1);
    let in_past = |i: usize| past.is_none_or(|(_, inside)| store.past_index(i).is_some_and(|j| inside[j]));
    let lost_at = |r: &Record, x0: f64, y0: f64, y1: f64| -> (f64, f64) {
        if r.what == What::Lost {
            // Lost on the way: a short stub towards the receiver.
            (x0 + 14.0, y0 + (y1 - y0) * 0.35)
        } else {
            (g.x(r.t1), y1)
        }
    };

    // Marks: timers as ticks, notes as dots.
    if !marks.is_empty() {
        p.stroke_style(theme.muted);
        p.line_width(1.0);
        p.begin_path();
        for &i in marks.iter().step_by(mark_stride) {
            let r = &store.records[i];
            if r.what == What::Timer {
                if let Some(y) = g.y(r.from) {
                    let x = g.x(r.t0);
                    p.move_to(x, y - g.lane_h * 0.3);
                    p.line_to(x, y + g.lane_h * 0.3);
                }
            }
        }
        p.stroke();
        let rad = (g.lane_h * 0.16).clamp(2.0, 4.5);
        for (ni, name) in store.names.iter().enumerate() {
            let mut any = false;
            p.begin_path();
            for &i in marks.iter().step_by(mark_stride) {
                let r = &store.records[i];
                if r.what == What::Note && r.kind as usize == ni {
                    if let Some(y) = g.y(r.from) {
                        let x = g.x(r.t0);
                        p.move_to(x + rad, y);
                        p.arc(x, y, rad, 0.0, std::f64::consts::TAU);
                        any = true;
                        if out.hits.len() < MAX_ARROWS + MAX_MARKS {
                            out.hits.push((x, y, x, y, i));
                        }
                    }
                }
            }
            if any {
                p.fill_style(schema.note_color(name));
                p.fill();
            }
        }
    }

    // Arrows, one path per kind (and per faded or bright, when a causal
    // past is shown), so thousands of arrows cost a few dozen calls.
    let heads = arrows.len() / stride <= 1_500;
    let mut crosses: Vec<(f64, f64)> = Vec::new();
    for pass in [false, true] {
        if pass && past.is_none() {
            continue;
        }
        for (k, kind) in schema.kinds.iter().enumerate() {
            for copies in [false, true] {
                let mut any = false;
                p.begin_path();
                for &i in arrows.iter().step_by(stride) {
                    let r = &store.records[i];
                    if r.kind as usize != k || r.copy != copies || (past.is_some() && in_past(i) != pass) {
                        continue;
                    }
                    let (Some(y0), Some(y1)) = (g.y(r.from), g.y(r.to)) else {
                        continue;
                    };
                    let x0 = g.x(r.t0);
                    let (x1, y1e) = lost_at(r, x0, y0, y1);
                    p.move_to(x0, y0);
                    p.line_to(x1, y1e);
                    if heads && r.what == What::Delivered {
                        let (dx, dy) = (x1 - x0, y1e - y0);
                        let len = (dx * dx + dy * dy).sqrt().max(1e-6);
                        let (ux, uy) = (dx / len, dy / len);
                        p.move_to(x1 - 6.0 * ux + 3.0 * uy, y1e - 6.0 * uy - 3.0 * ux);
                        p.line_to(x1, y1e);
                        p.line_to(x1 - 6.0 * ux - 3.0 * uy, y1e - 6.0 * uy + 3.0 * ux);
                    }
                    if r.what != What::Delivered {
                        crosses.push((x1, y1e));
                    }
                    if out.hits.len() < MAX_ARROWS {
                        out.hits.push((x0, y0, x1, y1e, i));
                    }
                    out.arrows += 1;
                    any = true;
                }
                if any {
                    p.alpha(if past.is_some() && !pass { 0.18 } else { 1.0 });
                    p.stroke_style(&kind.color);
                    p.line_width(if pass { 2.0 } else { 1.2 });
                    p.dash(if copies { &[4.0, 3.0] } else { &[] });
                    p.stroke();
                    p.dash(&[]);
                }
            }
        }
    }
    p.alpha(1.0);
    if !crosses.is_empty() {
        p.stroke_style(LOST);
        p.line_width(1.6);
        p.begin_path();
        for (x, y) in crosses {
            p.move_to(x - 3.5, y - 3.5);
            p.line_to(x + 3.5, y + 3.5);
            p.move_to(x + 3.5, y - 3.5);
            p.line_to(x - 3.5, y + 3.5);
        }
        p.stroke();
    }

    // The event the user asked about.
    if let Some((node, at)) = store.focus {
        if let (Some(y), true) = (g.y(node), (g.left..=right).contains(&at)) {
            let x = g.x(at);
            p.stroke_style("#f0c040");
            p.line_width(2.5);
            p.begin_path();
            p.move_to(x + 8.0, y);
            p.arc(x, y, 8.0, 0.0, std::f64::consts::TAU);
            p.stroke();
        }
    }

    // The violating event.
    if let Some((node, at)) = store.violation {
        if let (Some(y), true) = (g.y(node), (g.left..=right).contains(&at)) {
            let x = g.x(at);
            p.stroke_style(LOST);
            p.line_width(2.5);
            p.begin_path();
            p.move_to(x + 9.0, y);
            p.arc(x, y, 9.0, 0.0, std::f64::consts::TAU);
            p.stroke();
            p.fill_style(LOST);
            p.font("bold 11px sans-serif");
            p.text_align("left");
            p.text_baseline("middle");
            p.fill_text("invariant broken", x + 12.0, y - 12.0);
        }
    }

    // Now.
    if (g.left..=right).contains(&now) {
        let x = g.x(now);
        p.stroke_style(theme.fg);
        p.line_width(1.0);
        p.begin_path();
        p.move_to(x, AXIS - 4.0);
        p.line_to(x, h - FOOT);
        p.stroke();
    }

    // What is left out, said.
    let mut said = Vec::new();
    if stride > 1 {
        said.push(format!("showing {} of {} arrows in view: zoom in to see every one", out.arrows, out.in_view));
    }
    if let Some(first) = store.first_time().filter(|_| store.dropped > 0) {
        if g.left < first {
            said.push(format!(
                "{} older records not kept: the diagram starts at {}",
                store.dropped,
                format_duration(first)
            ));
        }
    }
    if !said.is_empty() {
        p.fill_style(theme.muted);
        p.font("11px sans-serif");
        p.text_align("left");
        p.text_baseline("middle");
        p.fill_text(&said.join(" · "), GUTTER, h - FOOT / 2.0);
    }
    out
}

impl DiagramStore {
    /// A record's index in the causal past's table (the same index while
    /// nothing was let go since it was computed).
    pub fn past_index(&self, i: usize) -> Option<usize> {
        let (_, inside) = self.past.as_ref()?;
        (i < inside.len()).then_some(i)
    }
}

/// The diagram as an SVG document, for "Export SVG".
pub fn svg(store: &DiagramStore, schema: &Schema, win: &Window, now: Time, filters: &Filters) -> String {
    let w = shown_width();
    let g = Geometry::new(store, win, now, filters, w);
    let mut p = SvgPen::new(w, g.height());
    draw(&mut p, store, schema, win, now, filters, pen::theme(), w);
    p.finish()
}

/// The diagram's width on screen (CSS pixels).
fn shown_width() -> f64 {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("canvas.diagram").ok().flatten())
        .map(|c| c.get_bounding_client_rect().width().round())
        .filter(|w| *w >= 200.0)
        .unwrap_or(W)
}

fn describe(r: &Record, schema: &Schema, names: &[String]) -> String {
    if matches!(r.what, What::Note | What::Timer) {
        let name = names.get(r.kind as usize).map_or("?", String::as_str);
        let what = if r.what == What::Timer { "timer " } else { "" };
        return format!("S{} {what}{name} at {}", r.from + 1, format_duration(r.t0));
    }
    let kind = schema.kinds.get(r.kind as usize).map_or("message", |k| k.name.as_str());
    let end = match r.what {
        What::Delivered => format!("arrived {}", format_duration(r.t1)),
        What::Lost => "lost on the link".to_string(),
        What::Cut => format!("cut by the partition at {}", format_duration(r.t1)),
        What::Down => format!("reached a crashed node at {}", format_duration(r.t1)),
        _ => String::new(),
    };
    let copy = if r.copy { " (network duplicate)" } else { "" };
    format!("S{}→S{} {kind}{copy}: sent {}, {end}", r.from + 1, r.to + 1, format_duration(r.t0))
}

fn distance(px: f64, py: f64, (x0, y0, x1, y1): (f64, f64, f64, f64)) -> f64 {
    let (dx, dy) = (x1 - x0, y1 - y0);
    let len2 = (dx * dx + dy * dy).max(1e-9);
    let u = (((px - x0) * dx + (py - y0) * dy) / len2).clamp(0.0, 1.0);
    ((px - x0 - u * dx).powi(2) + (py - y0 - u * dy).powi(2)).sqrt()
}

/// The diagram's window and filters as last drawn, shared with the page
/// (for exporting what is on screen) without re-rendering the page when
/// they change: scrolling re-renders only the diagram.
#[derive(Clone, Debug, Default)]
pub struct Shared(pub std::rc::Rc<std::cell::RefCell<(Window, Filters)>>);

impl PartialEq for Shared {
    fn eq(&self, o: &Self) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &o.0)
    }
}

/// Props of [`SpaceTime`].
#[derive(Properties, Clone, PartialEq)]
pub struct SpaceTimeProps {
    /// State and worker.
    pub ctx: crate::ctx::Ctx,
    /// Where the window and filters are published.
    pub shared: Shared,
}

/// The space-time diagram with its controls.
#[function_component]
pub fn SpaceTime(props: &SpaceTimeProps) -> Html {
    let canvas = use_node_ref();
    let state = &props.ctx.state;
    let win = {
        let start = props.shared.0.borrow().0;
        use_state(move || start)
    };
    let filters = {
        let start = props.shared.0.borrow().1.clone();
        use_state(move || start)
    };
    *props.shared.0.borrow_mut() = (*win, (*filters).clone());
    let hits = use_mut_ref(Vec::<(f64, f64, f64, f64, usize)>::new);
    let drag = use_mut_ref(|| None::<(f64, Time, bool)>);
    let hover = use_state(|| None::<(f64, f64, String)>);
    let chosen = use_state(|| None::<Record>);
    // Bumped when the store changes in place (a "why?" asked).
    let redraw = use_state(|| 0u32);
    let drawn = use_state(Drawn::default);
    let now = state.frame.as_ref().map_or(0, |f| f.time);
    let Some(schema) = state.schema.clone() else {
        return html! {};
    };

    {
        let canvas = canvas.clone();
        let store = state.diagram.clone();
        let hits = hits.clone();
        let drawn = drawn.clone();
        let schema = schema.clone();
        let deps = (state.diagram_version, now, *win, (*filters).clone(), (state.frames, *redraw));
        use_effect_with(deps, move |(_, now, win, filters, _)| {
            let Some(c) = canvas.cast::<HtmlCanvasElement>() else {
                return;
            };
            let store = store.0.borrow();
            let w = shown_width();
            let g = Geometry::new(&store, win, *now, filters, w);
            let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
            let (pw, ph) = ((w * dpr) as u32, (g.height() * dpr) as u32);
            if c.width() != pw || c.height() != ph {
                c.set_width(pw);
                c.set_height(ph);
                let _ = c.style().set_property("height", &format!("{}px", g.height()));
            }
            let Some(ctx) =
                c.get_context("2d").ok().flatten().and_then(|o| o.dyn_into::<CanvasRenderingContext2d>().ok())
            else {
                return;
            };
            let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
            let mut d = draw(&mut CanvasPen(&ctx), &store, &schema, win, *now, filters, pen::theme(), w);
            let arrows: Vec<_> = d.hits.iter().filter(|h| (h.0, h.1) != (h.2, h.3)).collect();
            d.sample = arrows
                .get(arrows.len() / 2)
                .map(|h| format!("{:.0},{:.0}", (h.0 + h.2) / 2.0, (h.1 + h.3) / 2.0))
                .unwrap_or_default();
            *hits.borrow_mut() = std::mem::take(&mut d.hits);
            if *drawn != d {
                drawn.set(d);
            }
        });
    }

    // Wheel: zoom around the pointer; shift+wheel (or a sideways wheel)
    // scrolls. Not passive: the page must not scroll meanwhile.
    {
        let canvas = canvas.clone();
        let win = win.clone();
        let store = state.diagram.clone();
        let filters = (*filters).clone();
        use_effect_with((*win, now, filters), move |(w, now, filters)| {
            let (w, now, filters) = (*w, *now, filters.clone());
            let listener = canvas.cast::<HtmlCanvasElement>().map(|c| {
                let el = c.clone();
                EventListener::new_with_options(&c, "wheel", EventListenerOptions::enable_prevent_default(), move |e| {
                    let Some(e) = e.dyn_ref::<web_sys::WheelEvent>() else {
                        return;
                    };
                    e.prevent_default();
                    let rect = el.get_bounding_client_rect();
                    let x = f64::from(e.client_x()) - rect.left();
                    let g = Geometry::new(&store.0.borrow(), &w, now, &filters, rect.width());
                    let (dx, dy) = (e.delta_x(), e.delta_y());
                    if e.shift_key() || dx.abs() > dy.abs() {
                        let d = if dx.abs() > dy.abs() { dx } else { dy };
                        let shift = (d / 600.0 * g.span as f64) as i64;
                        let right = (g.left + g.span) as i64 + shift;
                        win.set(Window { span: w.span, right: Some(right.max(w.span as i64) as Time) });
                    } else {
                        let factor = (dy / 300.0).exp().clamp(0.5, 2.0);
                        let span = ((g.span as f64 * factor) as Time).clamp(200, 30 * 24 * 3600 * SEC);
                        let at = g.t(x);
                        let frac = (at - g.left) as f64 / g.span as f64;
                        let left = (at as f64 - frac * span as f64).max(0.0) as Time;
                        let following = w.right.is_none() && left + span >= now;
                        win.set(Window { span, right: if following { None } else { Some(left + span) } });
                    }
                })
            });
            move || drop(listener)
        });
    }

    let to_local = {
        let canvas = canvas.clone();
        move |e: &MouseEvent| -> Option<(f64, f64)> {
            let c = canvas.cast::<HtmlCanvasElement>()?;
            let rect = c.get_bounding_client_rect();
            Some((f64::from(e.client_x()) - rect.left(), f64::from(e.client_y()) - rect.top()))
        }
    };
    let nearest = {
        let hits = hits.clone();
        move |x: f64, y: f64| -> Option<usize> {
            hits.borrow()
                .iter()
                .map(|&(x0, y0, x1, y1, i)| (distance(x, y, (x0, y0, x1, y1)), i))
                .filter(|(d, _)| *d <= 5.0)
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, i)| i)
        }
    };
    let onmousedown = {
        let to_local = to_local.clone();
        let drag = drag.clone();
        let store = state.diagram.clone();
        let win = win.clone();
        let filters = filters.clone();
        Callback::from(move |e: MouseEvent| {
            if let Some((x, _)) = to_local(&e) {
                let g = Geometry::new(&store.0.borrow(), &win, now, &filters, shown_width());
                *drag.borrow_mut() = Some((x, g.left + g.span, false));
            }
        })
    };
    let onmousemove = {
        let to_local = to_local.clone();
        let drag = drag.clone();
        let win = win.clone();
        let hover = hover.clone();
        let nearest = nearest.clone();
        let store = state.diagram.clone();
        let schema = schema.clone();
        Callback::from(move |e: MouseEvent| {
            let Some((x, y)) = to_local(&e) else { return };
            let mut dragging = drag.borrow_mut();
            if let Some((x0, right0, moved)) = dragging.as_mut() {
                if e.buttons() & 1 == 1 && ((x - *x0).abs() > 3.0 || *moved) {
                    *moved = true;
                    let per_px = win.span as f64 / (shown_width() - GUTTER - 10.0);
                    let right = (*right0 as f64 - (x - *x0) * per_px).max(win.span as f64) as Time;
                    win.set(Window { span: win.span, right: Some(right) });
                    return;
                }
            }
            drop(dragging);
            let text = nearest(x, y)
                .and_then(|i| store.0.borrow().records.get(i).map(|r| describe(r, &schema, &store.0.borrow().names)));
            let next = text.map(|t| (x, y, t));
            if *hover != next {
                hover.set(next);
            }
        })
    };
    let onmouseup = {
        let drag = drag.clone();
        let store = state.diagram.clone();
        let win = win.clone();
        let filters = filters.clone();
        let bridge = props.ctx.bridge.clone();
        let chosen = chosen.clone();
        Callback::from(move |e: MouseEvent| {
            let Some((x, y)) = to_local(&e) else { return };
            let was = drag.borrow_mut().take();
            if was.is_some_and(|(_, _, moved)| moved) {
                return;
            }
            let store = store.0.borrow();
            if let Some(r) = nearest(x, y).and_then(|i| store.records.get(i).copied()) {
                if r.what.is_message() {
                    bridge.send(ToWorker::MessageText { id: r.id, sent: r.t0 });
                }
                chosen.set(Some(r));
            }
            let g = Geometry::new(&store, &win, now, &filters, shown_width());
            if x >= GUTTER {
                bridge.send(ToWorker::Seek(g.t(x)));
            }
        })
    };
    let onmouseleave = {
        let hover = hover.clone();
        let drag = drag.clone();
        Callback::from(move |_| {
            *drag.borrow_mut() = None;
            hover.set(None);
        })
    };

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
        let store = state.diagram.clone();
        Callback::from(move |_| {
            let first = store.0.borrow().first_time().unwrap_or(0);
            win.set(Window { span: now.saturating_sub(first).max(MS), right: None });
        })
    };
    let kind_chips = schema.kinds.iter().enumerate().map(|(k, kind)| {
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
    });
    let toggle = |label: &'static str, on: bool, set: fn(&mut Filters)| {
        let filters = filters.clone();
        let onclick = Callback::from(move |_| {
            let mut f = (*filters).clone();
            set(&mut f);
            filters.set(f);
        });
        html! { <button class={classes!("chip", on.then_some("on"))} aria-pressed={on.to_string()} {onclick}>{ label }</button> }
    };
    let (lanes, kept, in_past) = {
        let d = state.diagram.0.borrow();
        (d.lanes, d.records.len(), d.past.as_ref().map_or(0, |(_, inside)| inside.iter().filter(|i| **i).count()))
    };
    let lane_chips = (lanes <= 32).then(|| {
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
    });
    let (left, right) = win.edges(now);
    let label = format!(
        "Space-time diagram: {} lanes, {} message arrows drawn of {} in view, from {} to {}",
        drawn.lanes,
        drawn.arrows,
        drawn.in_view,
        format_duration(left),
        format_duration(right)
    );
    let focused = state.diagram.0.borrow().focus.is_some();
    let why = |focus: Option<(u32, Time)>| {
        let store = state.diagram.clone();
        let redraw = redraw.clone();
        Callback::from(move |_| {
            store.0.borrow_mut().set_focus(focus);
            redraw.set(*redraw + 1);
        })
    };
    let detail = chosen.as_ref().map(|r| {
        let text = state
            .message_text
            .as_ref()
            .filter(|(id, _)| *id == r.id && r.what.is_message())
            .map(|(_, t)| t.clone());
        // The event to explain: a message's arrival, or the mark itself.
        let event = if r.what == What::Delivered { (r.to, r.t1) } else { (r.from, r.t0) };
        html! {
            <p class="message-detail" aria-live="polite">
                <strong>{ describe(r, &schema, &state.diagram.0.borrow().names) }</strong>
                { " " }<button onclick={why(Some(event))} title="Light up every event that happened before this one (Lamport's happens-before) and fade the rest">{ "Why? Show what led here" }</button>
                if focused { { " " }<button onclick={why(None)}>{ "Clear" }</button> }
                if let Some(t) = text { <br /><code>{ t }</code> }
            </p>
        }
    });
    html! {
        <div class="spacetime">
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
            <div class="diagram-wrap">
                <canvas ref={canvas} class="diagram" role="img" aria-label={label}
                    data-arrows={drawn.arrows.to_string()} data-in-view={drawn.in_view.to_string()} data-lanes={drawn.lanes.to_string()}
                    data-left={left.to_string()} data-right={right.to_string()} data-records={kept.to_string()} data-past={in_past.to_string()} data-sample={drawn.sample.clone()}
                    {onmousedown} {onmousemove} {onmouseup} {onmouseleave}></canvas>
                if let Some((x, y, t)) = (*hover).clone() {
                    <div class="tip" style={format!("left: {:.0}px; top: {:.0}px", x, y + 14.0)}>{ t }</div>
                }
            </div>
            { detail.unwrap_or_default() }
        </div>
    }
}
