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
//!
//! The drawing passes are in `draw.rs` (one function per layer, the same
//! code for the canvas and the exported SVG), input in `input.rs`, the
//! toolbar and the line under the diagram in `controls.rs`; this module
//! holds the component, its state and the geometry they share.

mod controls;
mod draw;
mod input;

pub use draw::{draw, svg};
pub(crate) use draw::{tick_label, tick_step};

use super::pen::{self, CanvasPen};
use crate::diagram::{Diagram, DiagramStore};
use clusterscope_core::lab::diagram::Record;
use clusterscope_core::lab::Schema;
use clusterscope_core::sim::time::format_duration;
use clusterscope_core::sim::{Time, SEC};
use controls::{detail, toolbar};
use draw::shown_width;
use input::{pointer, use_wheel, Pointer, Pointing};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// Width of the drawing when it cannot be measured, in CSS pixels (it is
/// drawn at the width it is shown at, so text stays sharp).
pub const W: f64 = 960.0;
/// Most arrows drawn at once.
pub const MAX_ARROWS: usize = 6_000;
/// The lanes' labels' width, left of the time axis.
pub(crate) const GUTTER: f64 = 46.0;
const AXIS: f64 = 26.0;
const FOOT: f64 = 22.0;

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

    /// The window scrolled by a wheel's `delta` (600 a width), from showing
    /// `left..left + span`; it no longer follows the run.
    pub fn scrolled(&self, left: Time, span: Time, delta: f64) -> Window {
        // Rounded, not truncated: a history file's times may be coarse
        // (one unit a line), where a scroll of less than a unit would
        // otherwise never move.
        let shift = (delta / 600.0 * span as f64).round() as i64;
        let right = (left + span) as i64 + shift;
        Window { span: self.span, right: Some(right.max(self.span as i64) as Time) }
    }

    /// The window dragged `dx` pixels (of a time axis `width` pixels wide)
    /// from when its right edge was at `right0`; it no longer follows.
    pub fn dragged(&self, right0: Time, dx: f64, width: f64) -> Window {
        let per_px = self.span as f64 / width.max(1.0);
        let right = (right0 as f64 - dx * per_px).round().max(self.span as f64) as Time;
        Window { span: self.span, right: Some(right) }
    }

    /// The window zoomed by a wheel's `delta` (300 is a factor e) around
    /// time `at`, from showing `left..left + span`, the run being at `now`,
    /// never narrower than `least`: it keeps following the run if it did
    /// and still reaches it.
    pub fn zoomed(&self, left: Time, span: Time, (at, now): (Time, Time), delta: f64, least: Time) -> Window {
        let factor = (delta / 300.0).exp().clamp(0.5, 2.0);
        let new_span = ((span as f64 * factor) as Time).clamp(least, 30 * 24 * 3600 * SEC);
        let frac = (at.saturating_sub(left)) as f64 / span.max(1) as f64;
        let new_left = (at as f64 - frac * new_span as f64).max(0.0) as Time;
        let following = self.right.is_none() && new_left + new_span >= now;
        Window { span: new_span, right: if following { None } else { Some(new_left + new_span) } }
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
    /// Spans still open drawn (bars going on to now).
    pub open: usize,
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
    /// The run's time (where open spans end).
    now: Time,
    lanes: Vec<u32>,
    lane_h: f64,
    w: f64,
}

impl Geometry {
    fn new(store: &DiagramStore, win: &Window, now: Time, filters: &Filters, w: f64) -> Geometry {
        let (left, right) = win.edges(now);
        let lanes: Vec<u32> = (0..store.lanes).filter(|l| !filters.lanes.contains(l)).collect();
        let lane_h = (420.0 / lanes.len().max(1) as f64).clamp(8.0, 34.0);
        Geometry { left, span: (right - left).max(1), now, lanes, lane_h, w: w.max(200.0) }
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
    /// Whether a span still open (from its start to now) shows: its lane
    /// is not hidden and it overlaps the window.
    fn shows_open(&self, r: &Record) -> bool {
        self.lanes.contains(&r.from) && r.t0 <= self.left + self.span && self.now >= self.left
    }
    fn y(&self, lane: u32) -> Option<f64> {
        let i = self.lanes.iter().position(|&l| l == lane)?;
        Some(AXIS + self.lane_h * (i as f64 + 0.5))
    }
}

/// An arrow (or a mark, with both ends the same) as drawn: its ends and
/// its record's index.
type Hit = (f64, f64, f64, f64, usize);

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

/// What the drawing depends on: the diagram's version, the run's time, the
/// window, the filters, and (frames received, "why?" asked) for changes
/// made in place.
type PaintDeps = (u64, Time, Window, Filters, (u64, u32));

/// Draws the diagram on the canvas whenever what it shows changes, at the
/// canvas's size on screen and the device's pixel ratio, and keeps what was
/// drawn where (`hits`) for pointing at it.
#[hook]
fn use_painting(
    canvas: NodeRef,
    store: Diagram,
    schema: Rc<Schema>,
    hits: Rc<RefCell<Vec<Hit>>>,
    drawn: UseStateHandle<Drawn>,
    deps: PaintDeps,
) {
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
        let Some(ctx) = c.get_context("2d").ok().flatten().and_then(|o| o.dyn_into::<CanvasRenderingContext2d>().ok())
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

    let deps = (state.diagram_version, now, *win, (*filters).clone(), (state.frames, *redraw));
    use_painting(canvas.clone(), state.diagram.clone(), schema.clone(), hits.clone(), drawn.clone(), deps);
    use_wheel(canvas.clone(), state.diagram.clone(), win.clone(), (*filters).clone(), now);
    let Pointer { onmousedown, onmousemove, onmouseup, onmouseleave } = pointer(Pointing {
        canvas: canvas.clone(),
        hits: hits.clone(),
        drag: drag.clone(),
        store: state.diagram.clone(),
        win: win.clone(),
        filters: filters.clone(),
        hover: hover.clone(),
        chosen: chosen.clone(),
        bridge: props.ctx.bridge.clone(),
        schema: schema.clone(),
        now,
    });
    let bar = toolbar(&win, &filters, &schema, &state.diagram, now);
    let (kept, in_past, open) = {
        let d = state.diagram.0.borrow();
        let past = d.past.as_ref().map_or(0, |(_, inside)| inside.iter().filter(|i| **i).count());
        (d.records.len(), past, open_said(&d))
    };
    let (left, right) = win.edges(now);
    let label = format!(
        "Space-time diagram: {} lanes, {} message arrows drawn of {} in view, from {} to {}{open}",
        drawn.lanes,
        drawn.arrows,
        drawn.in_view,
        format_duration(left),
        format_duration(right)
    );
    let detail = detail(state, &chosen, &schema, &redraw);
    html! {
        <div class="spacetime">
            { bar }
            <div class="diagram-wrap">
                <canvas ref={canvas} class="diagram" role="img" aria-label={label}
                    data-arrows={drawn.arrows.to_string()} data-in-view={drawn.in_view.to_string()} data-lanes={drawn.lanes.to_string()} data-open-spans={drawn.open.to_string()}
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

/// The spans still open, said for the diagram's description: "; still
/// held: S3 token 1 since 36659us" (nothing when none is).
fn open_said(store: &DiagramStore) -> String {
    let said: Vec<String> = store
        .open
        .iter()
        .map(|r| {
            let name = store.names.get(r.kind as usize).map_or("", String::as_str);
            format!("S{} {name} {} since {}", r.from + 1, r.id, format_duration(r.t0))
        })
        .collect();
    if said.is_empty() {
        String::new()
    } else {
        format!("; still open: {}", said.join(", "))
    }
}

#[cfg(test)]
mod window_tests {
    use super::Window;

    // A history file's times are coarse (one unit a line in Porcupine's
    // README histories): a drag of 200 px over a 3-unit window 900 px wide
    // is two thirds of a unit, and must still move the window (it did not
    // when the position was truncated).
    #[test]
    fn a_drag_or_scroll_of_under_a_unit_still_moves_a_coarse_window() {
        let w = Window { span: 3, right: Some(5) };
        assert_eq!(w.dragged(5, -200.0, 900.0).right, Some(6), "dragging left shows later times");
        assert_eq!(w.dragged(5, 200.0, 900.0).right, Some(4), "dragging right shows earlier times");
        assert_eq!(w.scrolled(2, 3, 100.0).right, Some(6), "a wheel's sixth of a width is half a unit, rounded up");
        // Microseconds, as on the space-time diagram: half a window a 450 px drag.
        let us = Window { span: 2_000_000, right: Some(10_000_000) };
        assert_eq!(us.dragged(10_000_000, -450.0, 900.0).right, Some(11_000_000));
    }
}
