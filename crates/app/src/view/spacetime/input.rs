//! Input on the space-time diagram: the wheel zooms around the pointer (or
//! scrolls, with shift or a sideways wheel), dragging scrolls, hovering
//! names the arrow or mark under the pointer, and a click shows it and goes
//! to that time. Scrolling leaves "follow" mode; the window is the
//! component's state, so the diagram is drawn again after each change.

use super::draw::shown_width;
use super::{Filters, Geometry, Hit, Window, GUTTER};
use crate::ctx::Bridge;
use crate::diagram::Diagram;
use crate::protocol::ToWorker;
use clusterscope_core::lab::diagram::{Record, What};
use clusterscope_core::lab::Schema;
use clusterscope_core::sim::time::format_duration;
use clusterscope_core::sim::Time;
use gloo_events::{EventListener, EventListenerOptions};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// Wheel: zoom around the pointer; shift+wheel (or a sideways wheel)
/// scrolls. Not passive: the page must not scroll meanwhile.
#[hook]
pub(super) fn use_wheel(canvas: NodeRef, store: Diagram, win: UseStateHandle<Window>, filters: Filters, now: Time) {
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
                    win.set(w.scrolled(g.left, g.span, if dx.abs() > dy.abs() { dx } else { dy }));
                } else {
                    win.set(w.zoomed(g.left, g.span, (g.t(x), now), dy, 200));
                }
            })
        });
        move || drop(listener)
    });
}

/// The component's handles that pointing at the diagram reads and sets.
#[derive(Clone)]
pub(super) struct Pointing {
    /// The canvas drawn on.
    pub canvas: NodeRef,
    /// What was drawn where, for finding what the pointer is on.
    pub hits: Rc<RefCell<Vec<Hit>>>,
    /// A drag under way: where it started, the window's right edge then, and
    /// whether it moved (a click that did not move is a click).
    pub drag: Rc<RefCell<Option<(f64, Time, bool)>>>,
    /// The diagram's records.
    pub store: Diagram,
    /// The time window.
    pub win: UseStateHandle<Window>,
    /// What is hidden.
    pub filters: UseStateHandle<Filters>,
    /// The tooltip: where, and what it says.
    pub hover: UseStateHandle<Option<(f64, f64, String)>>,
    /// The record last clicked.
    pub chosen: UseStateHandle<Option<Record>>,
    /// The worker, asked for a message's text and to seek.
    pub bridge: Bridge,
    /// The lab's schema (message kinds).
    pub schema: Rc<Schema>,
    /// The run's time.
    pub now: Time,
}

/// The pointer's callbacks on the canvas.
pub(super) struct Pointer {
    /// Starts a drag.
    pub onmousedown: Callback<MouseEvent>,
    /// Drags the window, or shows what the pointer is on.
    pub onmousemove: Callback<MouseEvent>,
    /// A click: shows a record and goes to its time.
    pub onmouseup: Callback<MouseEvent>,
    /// Ends a drag and hides the tooltip.
    pub onmouseleave: Callback<MouseEvent>,
}

/// Dragging scrolls the window; hovering names the arrow or mark under the
/// pointer; a click shows it (asking the worker for a message's contents)
/// and goes to that time.
pub(super) fn pointer(handles: Pointing) -> Pointer {
    Pointer {
        onmousedown: on_down(handles.clone()),
        onmousemove: on_move(handles.clone()),
        onmouseup: on_up(handles.clone()),
        onmouseleave: on_leave(handles),
    }
}

impl Pointing {
    /// Where the pointer is on the canvas, in CSS pixels.
    fn to_local(&self, e: &MouseEvent) -> Option<(f64, f64)> {
        let c = self.canvas.cast::<HtmlCanvasElement>()?;
        let rect = c.get_bounding_client_rect();
        Some((f64::from(e.client_x()) - rect.left(), f64::from(e.client_y()) - rect.top()))
    }

    /// The record drawn nearest to (`x`, `y`), if within 5 pixels.
    fn nearest(&self, x: f64, y: f64) -> Option<usize> {
        self.hits
            .borrow()
            .iter()
            .map(|&(x0, y0, x1, y1, i)| (distance(x, y, (x0, y0, x1, y1)), i))
            .filter(|(d, _)| *d <= 5.0)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, i)| i)
    }
}

/// A press may start a drag: remember where, and the window's right edge.
fn on_down(h: Pointing) -> Callback<MouseEvent> {
    Callback::from(move |e: MouseEvent| {
        if let Some((x, _)) = h.to_local(&e) {
            let g = Geometry::new(&h.store.0.borrow(), &h.win, h.now, &h.filters, shown_width());
            *h.drag.borrow_mut() = Some((x, g.left + g.span, false));
        }
    })
}

/// With the button down and moved more than 3 px, drags the window;
/// otherwise names what is under the pointer.
fn on_move(h: Pointing) -> Callback<MouseEvent> {
    Callback::from(move |e: MouseEvent| {
        let Some((x, y)) = h.to_local(&e) else { return };
        let win = &h.win;
        let mut dragging = h.drag.borrow_mut();
        if let Some((x0, right0, moved)) = dragging.as_mut() {
            if e.buttons() & 1 == 1 && ((x - *x0).abs() > 3.0 || *moved) {
                *moved = true;
                win.set(win.dragged(*right0, x - *x0, shown_width() - GUTTER - 10.0));
                return;
            }
        }
        drop(dragging);
        let store = &h.store;
        let text = h
            .nearest(x, y)
            .and_then(|i| store.0.borrow().get(i).map(|r| describe(r, &h.schema, &store.0.borrow().names)));
        let next = text.map(|t| (x, y, t));
        if *h.hover != next {
            h.hover.set(next);
        }
    })
}

/// A click (a release without a drag): shows the record under the pointer
/// (asking the worker for a message's contents) and seeks to that time; on
/// a record, to when it ended (a message's arrival or loss, a mark's time),
/// so that the page still holds it and all that led to it for "Why?" (a
/// seek back drops the records made after its time).
fn on_up(h: Pointing) -> Callback<MouseEvent> {
    Callback::from(move |e: MouseEvent| {
        let Some((x, y)) = h.to_local(&e) else { return };
        let was = h.drag.borrow_mut().take();
        if was.is_some_and(|(_, _, moved)| moved) {
            return;
        }
        let store = h.store.0.borrow();
        let chosen = h.nearest(x, y).and_then(|i| store.get(i).copied());
        if let Some(r) = chosen {
            if r.what.is_message() {
                h.bridge.send(ToWorker::MessageText { id: r.id, sent: r.t0 });
            }
            h.chosen.set(Some(r));
        }
        let g = Geometry::new(&store, &h.win, h.now, &h.filters, shown_width());
        if x >= GUTTER {
            // A span still open ends now: the run stays where it is.
            let end = |r: Record| if r.what == What::Open { h.now } else { r.t1 };
            h.bridge.send(ToWorker::Seek(chosen.map_or(g.t(x), end)));
        }
    })
}

/// Leaving the canvas ends a drag and hides the tooltip.
fn on_leave(h: Pointing) -> Callback<MouseEvent> {
    Callback::from(move |_| {
        *h.drag.borrow_mut() = None;
        h.hover.set(None);
    })
}

/// A record in words, for the tooltip and the line under the diagram.
pub(super) fn describe(r: &Record, schema: &Schema, names: &[String]) -> String {
    if r.what == What::Span {
        let name = names.get(r.kind as usize).map_or("?", String::as_str);
        return format!("S{} {name} {}: {} to {}", r.from + 1, r.id, format_duration(r.t0), format_duration(r.t1));
    }
    if r.what == What::Open {
        let name = names.get(r.kind as usize).map_or("?", String::as_str);
        return format!("S{} {name} {}: since {}, still open", r.from + 1, r.id, format_duration(r.t0));
    }
    if matches!(r.what, What::Note | What::Timer) {
        let name = names.get(r.kind as usize).map_or("?", String::as_str);
        let what = if r.what == What::Timer { "timer " } else { "" };
        let about = if r.what == What::Note && r.to != r.from { format!(" S{}", r.to + 1) } else { String::new() };
        return format!("S{} {what}{name}{about} at {}", r.from + 1, format_duration(r.t0));
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

#[cfg(test)]
mod tests {
    use super::describe;
    use clusterscope_core::lab::diagram::{Record, What};
    use clusterscope_core::lab::Lab;
    use clusterscope_core::scenario::Scenario;
    use clusterscope_core::sim::MS;

    // A failure detector's mark says whom it is about (issue 25: "the
    // moment each member suspects"), and a mark about no one else says
    // only who made it.
    #[test]
    fn a_note_about_another_node_names_it() {
        let schema = Lab::new(&Scenario::parse("lab faults\n").expect("parses")).expect("starts").schema();
        let names = vec!["Suspect".to_string(), "LocalPause".to_string()];
        let mark = |from, to, kind| Record {
            seq: 0,
            t0: 2_310 * MS,
            t1: 2_310 * MS,
            from,
            to,
            kind,
            what: What::Note,
            copy: false,
            id: 0,
        };
        assert_eq!(describe(&mark(3, 2, 0), &schema, &names), "S4 Suspect S3 at 2310ms");
        assert_eq!(describe(&mark(3, 3, 1), &schema, &names), "S4 LocalPause at 2310ms");
    }
}
