//! The drawing passes of the space-time diagram, back to front: the
//! background, fault bands, the causal past of a violation, lanes, the time
//! axis, marks (timers and notes), message arrows and the crosses of lost
//! ones, the events circled, now, and a line saying what was left out.
//!
//! Each pass draws through a [`Pen`], so the same code paints the canvas
//! and writes the exported SVG. Only what is on screen is drawn, at most
//! [`MAX_ARROWS`] arrows and `MAX_MARKS` marks (evenly chosen).

use super::{Drawn, Filters, Geometry, Window, AXIS, FOOT, GUTTER, MAX_ARROWS, W};
use crate::diagram::DiagramStore;
use crate::view::canvas::GROUP_COLORS;
use crate::view::pen::{self, Pen, SvgPen, Theme};
use clusterscope_core::lab::diagram::{FaultKind, Record, What};
use clusterscope_core::lab::Schema;
use clusterscope_core::sim::time::format_duration;
use clusterscope_core::sim::{Time, SEC};

/// Most marks (timers, notes) drawn at once.
const MAX_MARKS: usize = 6_000;
/// The colour of what was lost: dropped messages, one-way cuts, a violation.
const LOST: &str = "#e05a5a";

/// A band across a lane: (lane, from, to, colour, opacity).
type Band = (u32, Time, Time, &'static str, f64);
/// A partition in force: since when, and each node's group.
type Partition = (Time, Vec<(u32, u32)>);

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
    let mut out = Drawn { lanes: g.lanes.len(), ..Drawn::default() };
    p.fill_style(theme.bg);
    p.fill_rect(0.0, 0.0, g.w, g.height());
    let (bands, heal_marks) = fault_bands(store, now, theme);
    draw_bands(p, &g, &bands);
    draw_past(p, store, &g);
    draw_lanes(p, &g, theme);
    draw_axis(p, &g, theme, &heal_marks);
    let (arrows, marks) = on_screen(store, &g, filters);
    out.in_view = arrows.len();
    out.open = store.open.iter().filter(|r| g.shows_open(r)).count();
    let stride = arrows.len().div_ceil(MAX_ARROWS).max(1);
    let mark_stride = marks.len().div_ceil(MAX_MARKS).max(1);
    draw_marks(p, (store, schema), &g, &marks, mark_stride, theme, &mut out);
    let crosses = draw_arrows(p, store, schema, &g, &arrows, stride, &mut out);
    draw_crosses(p, &crosses);
    draw_markers(p, store, &g, now, theme);
    draw_said(p, store, &g, stride, &out, theme);
    out
}

/// The fault bands up to `now`, from the store's faults in order: crashes
/// (until a restart), pauses (until a resume), partition groups and
/// one-way cuts (until the next partition or a heal); and the times of
/// heals, drawn as dashed lines.
fn fault_bands(store: &DiagramStore, now: Time, theme: Theme) -> (Vec<Band>, Vec<Time>) {
    let mut crash_from: Vec<Option<Time>> = vec![None; store.lanes as usize];
    let mut pause_from: Vec<Option<Time>> = vec![None; store.lanes as usize];
    let mut part: Option<Partition> = None;
    let mut blocks: Vec<(Time, u32, u32)> = Vec::new();
    let mut bands: Vec<Band> = Vec::new();
    let mut heal_marks: Vec<Time> = Vec::new();
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
            close_partition(&mut part, &mut blocks, f.t0, &mut bands);
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
            close_partition(&mut part, &mut blocks, f.t0, &mut bands);
            heal_marks.push(f.t0);
        }
        i += 1;
    }
    close_partition(&mut part, &mut blocks, now, &mut bands);
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
    (bands, heal_marks)
}

/// Ends the partition and the one-way cuts in force at `t`: each becomes a
/// band (a partition group in its group's colour, a cut in red).
fn close_partition(part: &mut Option<Partition>, blocks: &mut Vec<(Time, u32, u32)>, t: Time, bands: &mut Vec<Band>) {
    if let Some((t0, groups)) = part.take() {
        for (n, grp) in groups {
            bands.push((n, t0, t, GROUP_COLORS[grp as usize % GROUP_COLORS.len()], 0.16));
        }
    }
    for (t0, a, _) in blocks.drain(..) {
        bands.push((a, t0, t, LOST, 0.12));
    }
}

/// Bands: crashes, pauses, partitions, one-way cuts, up to now.
fn draw_bands(p: &mut impl Pen, g: &Geometry, bands: &[Band]) {
    let right = g.left + g.span;
    for (lane, a, b, c, alpha) in bands {
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
}

/// The causal past of a violation, if one happened: each lane bright up to
/// the last event of the past on it.
fn draw_past(p: &mut impl Pen, store: &DiagramStore, g: &Geometry) {
    let right = g.left + g.span;
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
}

/// Lanes and their names.
fn draw_lanes(p: &mut impl Pen, g: &Geometry, theme: Theme) {
    let w = g.w;
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
}

/// The time axis: ticks at round times with their labels, and the heals
/// as dashed lines.
fn draw_axis(p: &mut impl Pen, g: &Geometry, theme: Theme, heal_marks: &[Time]) {
    let (w, h, right) = (g.w, g.height(), g.left + g.span);
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
}

/// Records on screen (after filters), by index: message arrows, and marks
/// (timers and notes).
fn on_screen(store: &DiagramStore, g: &Geometry, filters: &Filters) -> (Vec<usize>, Vec<usize>) {
    let right = g.left + g.span;
    let range = store.visible(g.left, right);
    let shown = |r: &Record| {
        !filters.lanes.contains(&r.from)
            // A note's mark is on its own lane alone (`to` names whom it
            // is about).
            && (r.what == What::Note || !filters.lanes.contains(&r.to))
            && r.t0 <= right
            && r.t1 >= g.left
            && match r.what {
                What::Timer => !filters.timers,
                What::Note => !filters.notes,
                What::Fault => false,
                What::Span => true,
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
    (arrows, marks)
}

/// Marks: timers as ticks, notes as dots in their colour, spans as thin
/// bars along their lane with their label and number (every `stride`-th
/// when there are too many).
fn draw_marks(
    p: &mut impl Pen,
    (store, schema): (&DiagramStore, &Schema),
    g: &Geometry,
    marks: &[usize],
    stride: usize,
    theme: Theme,
    out: &mut Drawn,
) {
    draw_spans(p, store, g, marks, stride, out);
    if !marks.is_empty() {
        p.stroke_style(theme.muted);
        p.line_width(1.0);
        p.begin_path();
        for &i in marks.iter().step_by(stride) {
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
            for &i in marks.iter().step_by(stride) {
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
}

/// Colour of a span's bar and label.
const SPAN: &str = "#2e9d5b";

/// Spans: a bar just under the lane from start to end, its label and
/// number under the bar's start. A span still open runs to now, where an
/// arrowhead says it goes on, and its label says it is still open.
fn draw_spans(p: &mut impl Pen, store: &DiagramStore, g: &Geometry, marks: &[usize], stride: usize, out: &mut Drawn) {
    let spans: Vec<usize> =
        marks.iter().step_by(stride).copied().filter(|&i| store.records[i].what == What::Span).collect();
    if spans.is_empty() && out.open == 0 {
        return;
    }
    p.fill_style(SPAN);
    p.alpha(0.85);
    p.font("10px sans-serif");
    p.text_align("left");
    p.text_baseline("top");
    for i in spans {
        span_bar(p, store, g, (&store.records[i], i), None, out);
    }
    for (j, r) in store.open.iter().enumerate() {
        if g.shows_open(r) {
            span_bar(p, store, g, (r, store.records.len() + j), Some(g.now), out);
        }
    }
    p.alpha(1.0);
}

/// One span's bar and label (`open`: still open, the bar going on to this
/// time); `i` is its index for pointing at it ([`DiagramStore::get`]).
fn span_bar(
    p: &mut impl Pen,
    store: &DiagramStore,
    g: &Geometry,
    (r, i): (&Record, usize),
    open: Option<Time>,
    out: &mut Drawn,
) {
    let right = g.left + g.span;
    let Some(lane) = g.y(r.from) else { return };
    let thick = (g.lane_h * 0.1).clamp(2.0, 4.0);
    let y = lane + g.lane_h * 0.22;
    let end = open.map_or(r.t1, |now| now.max(r.t0));
    let (x0, x1) = (g.x(r.t0.max(g.left)), g.x(end.min(right)));
    p.fill_rect(x0, y, (x1 - x0).max(1.0), thick);
    let name = store.names.get(r.kind as usize).map_or("", String::as_str);
    if open.is_some() {
        // An arrowhead at its open end: the hold goes on.
        let mid = y + thick / 2.0;
        p.begin_path();
        p.move_to(x1 + 6.0, mid);
        p.line_to(x1, mid - thick - 2.0);
        p.line_to(x1, mid + thick + 2.0);
        p.fill();
        p.fill_text(&format!("{name} {}, still open", r.id), x0 + 2.0, y + thick + 1.0);
    } else {
        p.fill_text(&format!("{name} {}", r.id), x0 + 2.0, y + thick + 1.0);
    }
    if out.hits.len() < MAX_ARROWS + MAX_MARKS {
        out.hits.push((x0, y, x1, y, i));
    }
}

/// Arrows, one path per kind (and per faded or bright, when a causal past
/// is shown), so thousands of arrows cost a few dozen calls; every
/// `stride`-th when there are too many. Returns where the arrows of lost,
/// cut or undelivered messages end, for their crosses.
fn draw_arrows(
    p: &mut impl Pen,
    store: &DiagramStore,
    schema: &Schema,
    g: &Geometry,
    arrows: &[usize],
    stride: usize,
    out: &mut Drawn,
) -> Vec<(f64, f64)> {
    let past = store.past.as_ref();
    let in_past = |i: usize| past.is_none_or(|(_, inside)| store.past_index(i).is_some_and(|j| inside[j]));
    let lost_at = |r: &Record, x0: f64, y0: f64, y1: f64| -> (f64, f64) {
        if r.what == What::Lost {
            // Lost on the way: a short stub towards the receiver.
            (x0 + 14.0, y0 + (y1 - y0) * 0.35)
        } else {
            (g.x(r.t1), y1)
        }
    };
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
    crosses
}

/// A cross where each message that was not delivered ends.
fn draw_crosses(p: &mut impl Pen, crosses: &[(f64, f64)]) {
    p.alpha(1.0);
    if !crosses.is_empty() {
        p.stroke_style(LOST);
        p.line_width(1.6);
        p.begin_path();
        for &(x, y) in crosses {
            p.move_to(x - 3.5, y - 3.5);
            p.line_to(x + 3.5, y + 3.5);
            p.move_to(x + 3.5, y - 3.5);
            p.line_to(x - 3.5, y + 3.5);
        }
        p.stroke();
    }
}

/// The event the user asked about (circled), the violating event (circled
/// in red, and said), and now (a line across the lanes).
fn draw_markers(p: &mut impl Pen, store: &DiagramStore, g: &Geometry, now: Time, theme: Theme) {
    let (h, right) = (g.height(), g.left + g.span);
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
}

/// What is left out, said: arrows thinned out, records no longer kept.
fn draw_said(p: &mut impl Pen, store: &DiagramStore, g: &Geometry, stride: usize, out: &Drawn, theme: Theme) {
    let h = g.height();
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
}

/// A tick step of 1, 2 or 5 times a power of ten, about every 110 px.
pub(crate) fn tick_step(span: Time, w: f64) -> Time {
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
pub(crate) fn tick_label(t: Time, step: Time) -> String {
    let decimals = (0..=6).find(|d| step.is_multiple_of(SEC / 10u64.pow(*d))).unwrap_or(6) as usize;
    format!("{:.*}s", decimals, t as f64 / SEC as f64)
}

impl DiagramStore {
    /// A record's index in the causal past's table (the same index while
    /// nothing was let go since it was computed).
    pub fn past_index(&self, i: usize) -> Option<usize> {
        let (_, inside) = self.past.as_ref()?;
        (i < inside.len()).then_some(i)
    }
}

/// The diagram as an SVG document, for "Export SVG", with the story's
/// caption in force (if any) under it.
pub fn svg(
    store: &DiagramStore,
    schema: &Schema,
    (win, filters): (&Window, &Filters),
    now: Time,
    caption: Option<&str>,
) -> String {
    let w = shown_width();
    let g = Geometry::new(store, win, now, filters, w);
    let band = pen::CaptionBand::new(caption, w);
    let mut p = SvgPen::new(w, g.height() + band.height);
    draw(&mut p, store, schema, win, now, filters, pen::theme(), w);
    band.draw(&mut p, g.height(), w, pen::theme());
    p.finish()
}

/// The diagram's width on screen (CSS pixels).
pub(super) fn shown_width() -> f64 {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("canvas.diagram").ok().flatten())
        .map(|c| c.get_bounding_client_rect().width().round())
        .filter(|w| *w >= 200.0)
        .unwrap_or(W)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clusterscope_core::lab::diagram::Chunk;
    use clusterscope_core::lab::Lab;
    use clusterscope_core::scenario::Scenario;
    use clusterscope_core::sim::MS;

    /// `n` delivered messages between four lanes, 50 µs apart, 30 µs each.
    fn store(n: u64) -> DiagramStore {
        let records: Vec<Record> = (0..n)
            .map(|i| Record {
                seq: i,
                t0: i * 50,
                t1: i * 50 + 30,
                from: (i % 4) as u32,
                to: ((i + 1) % 4) as u32,
                kind: 0,
                what: What::Delivered,
                copy: false,
                id: i,
            })
            .collect();
        let mut s = DiagramStore::default();
        s.apply(&Chunk::pack(&records), 4);
        s
    }

    fn raft_schema() -> Schema {
        Lab::new(&Scenario::parse("lab raft\n").expect("parses")).expect("starts").schema()
    }

    /// Draws the whole of `store` as SVG; returns what was drawn, the
    /// document, and the arrows in it: message arrows are the only strokes
    /// 1.2 px wide (no causal past shown), one `M x y L x y` shaft each
    /// (a head is a second subpath with two `L`s).
    fn drawn(store: &DiagramStore) -> (Drawn, String, usize) {
        let win = Window { span: SEC, right: Some(SEC) };
        let mut p = SvgPen::new(W, 600.0);
        let out = draw(&mut p, store, &raft_schema(), &win, SEC, &Filters::default(), pen::DARK, W);
        let doc = p.finish();
        let shafts = doc
            .lines()
            .filter(|l| l.contains("stroke-width=\"1.2\""))
            .filter_map(|l| l.split("d=\"").nth(1)?.split('"').next())
            .flat_map(|d| d.split('M').skip(1))
            .filter(|sub| sub.matches('L').count() == 1)
            .count();
        (out, doc, shafts)
    }

    // docs/using.md, the diagram: "It draws only what is on screen and at
    // most 6,000 arrows (evenly chosen), saying "showing N of M arrows in
    // view"". 7,000 in view, a thousand over the cap: every second one is
    // drawn, 3,500, and the line under the diagram says so; the exported
    // picture (the same drawing through `SvgPen`) holds exactly the arrows
    // drawn.
    #[test]
    fn at_most_6000_arrows_are_drawn_and_the_rest_is_said() {
        let (out, doc, shafts) = drawn(&store(7_000));
        assert_eq!(out.in_view, 7_000);
        assert!(out.arrows <= 6_000, "{} drawn", out.arrows);
        assert_eq!(out.arrows, 3_500, "evenly chosen: every second arrow");
        assert_eq!(shafts, out.arrows, "the SVG holds the arrows drawn");
        assert!(doc.contains(">showing 3500 of 7000 arrows in view: zoom in to see every one<"), "the line says it");
    }

    // Issue 23, drawing: "each lease as a bar on its client's lane". A span
    // record is drawn as one bar along its lane, from its start to its end,
    // with its label and number under it, in the exported picture too.
    #[test]
    fn a_span_is_a_bar_along_its_lane_with_its_label() {
        let span = Record {
            seq: 0,
            t0: 200 * MS,
            t1: 700 * MS,
            from: 2,
            to: 2,
            kind: 0,
            what: What::Span,
            copy: false,
            id: 458_267,
        };
        let mut chunk = Chunk::pack(&[span]);
        chunk.names = vec!["token".to_string()];
        let mut s = DiagramStore::default();
        s.apply(&chunk, 4);
        let (_, doc, _) = drawn(&s);
        assert!(doc.contains(">token 458267<"), "the label and number");
        let g = Geometry::new(&s, &Window { span: SEC, right: Some(SEC) }, SEC, &Filters::default(), W);
        let (x0, x1) = (g.x(200 * MS), g.x(700 * MS));
        let bar = format!("<rect x=\"{x0:.1}\" y=");
        let line = doc.lines().find(|l| l.starts_with(&bar)).expect("a bar starting at the span's start");
        assert!(line.contains(&format!("width=\"{:.1}\"", x1 - x0)), "ending at its end: {line}");
        assert!(line.contains(SPAN), "{line}");
    }

    // Kleppmann, "How to do distributed locking" (2016), Figure 1, drawn
    // live: a hold still open is a bar from its grant to now, with an
    // arrowhead at now and "still open" by its token, on screen and in the
    // exported picture. When it closes the next chunk carries it as a
    // record and no longer as open: one plain bar, from start to end.
    #[test]
    fn an_open_span_runs_to_now_then_becomes_one_closed_bar() {
        let open = Record {
            seq: 5,
            t0: 200 * MS,
            t1: 600 * MS,
            from: 2,
            to: 2,
            kind: 0,
            what: What::Open,
            copy: false,
            id: 1,
        };
        let mut chunk = Chunk::pack(&[]);
        chunk.names = vec!["token".to_string()];
        chunk.open = vec![open];
        let mut s = DiagramStore::default();
        s.apply(&chunk, 4);
        // The page is at 800 ms: later than the chunk, the bar goes on.
        let win = Window { span: SEC, right: Some(SEC) };
        let g = Geometry::new(&s, &win, 800 * MS, &Filters::default(), W);
        let mut p = SvgPen::new(W, 600.0);
        let out = draw(&mut p, &s, &raft_schema(), &win, 800 * MS, &Filters::default(), pen::DARK, W);
        let doc = p.finish();
        assert_eq!(out.open, 1, "one open span drawn");
        assert!(doc.contains(">token 1, still open<"), "said to be still open, with its token");
        let (x0, x1) = (g.x(200 * MS), g.x(800 * MS));
        let bar = format!("<rect x=\"{x0:.1}\" y=");
        let line = doc.lines().find(|l| l.starts_with(&bar)).expect("a bar from the span's start");
        assert!(line.contains(&format!("width=\"{:.1}\"", x1 - x0)) && line.contains(SPAN), "to now: {line}");
        let head = format!("<path d=\"M{:.1} ", x1 + 6.0);
        assert!(doc.lines().any(|l| l.starts_with(&head) && l.contains(SPAN)), "an arrowhead at now");
        assert!(out.hits.iter().any(|h| h.4 == s.records.len()), "pointing at it finds it");
        assert_eq!(s.get(out.hits[0].4).map(|r| r.what), Some(What::Open));

        // It closes at 700 ms: a record, and nothing open.
        let closed = Record { t1: 700 * MS, what: What::Span, ..open };
        s.apply(&Chunk::pack(&[closed]), 4);
        let mut p = SvgPen::new(W, 600.0);
        let out = draw(&mut p, &s, &raft_schema(), &win, 800 * MS, &Filters::default(), pen::DARK, W);
        let doc = p.finish();
        assert_eq!(out.open, 0);
        assert!(!doc.contains("still open"), "no longer said open");
        assert_eq!(doc.matches(">token 1<").count(), 1, "one bar, labelled once");
        assert_eq!(doc.lines().filter(|l| l.starts_with("<rect") && l.contains(SPAN)).count(), 1, "no duplicate bar");
        let width = format!("width=\"{:.1}\"", g.x(700 * MS) - x0);
        assert!(doc.lines().any(|l| l.starts_with(&bar) && l.contains(&width)), "from its start to its end");
    }

    // Below the cap every arrow in view is drawn, each once, and nothing is
    // said about arrows left out.
    #[test]
    fn below_the_cap_every_arrow_is_drawn() {
        let (out, doc, shafts) = drawn(&store(6_000));
        assert_eq!((out.in_view, out.arrows, shafts), (6_000, 6_000, 6_000));
        assert!(!doc.contains("showing"));
        let (out, _, shafts) = drawn(&store(40));
        assert_eq!((out.in_view, out.arrows, shafts), (40, 40, 40), "with arrow heads drawn too");
    }
}
