//! The shared widgets of the page: function components that render the
//! state and send commands to the worker, for every lab (a lab's own
//! drawing lives in [`crate::labs`]; the page that puts them together is
//! [`crate::shell`]). Nothing here runs the simulation or names a lab.

pub mod api;
pub mod canvas;
pub mod files;
pub mod history;
pub mod narration;
pub mod panels;
pub mod pen;
pub mod results;
pub mod spacetime;
pub mod story;
pub mod tune;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Speeds offered: label and virtual seconds per wall second (0 = maximum).
pub const SPEEDS: &[(&str, f64)] =
    &[("0.01×", 0.01), ("0.1×", 0.1), ("0.25×", 0.25), ("1×", 1.0), ("10×", 10.0), ("100×", 100.0), ("max", 0.0)];

/// How often a panel off the screen follows a playing run, in wall-clock
/// milliseconds (see [`use_held`]).
pub const OFF_SCREEN_EVERY_MS: f64 = 1000.0;

/// Whether `node` is on the screen (any part of it in the viewport), as an
/// IntersectionObserver last said; true until it has said, and where
/// there is none.
#[hook]
pub fn use_on_screen(node: &NodeRef) -> bool {
    let on = use_state_eq(|| true);
    {
        let on = on.clone();
        use_effect_with(node.clone(), move |node| {
            let watching = node.cast::<web_sys::Element>().and_then(|element| {
                let seen = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
                    let last =
                        entries.iter().last().and_then(|e| e.dyn_into::<web_sys::IntersectionObserverEntry>().ok());
                    if let Some(entry) = last {
                        on.set(entry.is_intersecting());
                    }
                });
                let observer = web_sys::IntersectionObserver::new(seen.as_ref().unchecked_ref()).ok()?;
                observer.observe(&element);
                Some((observer, seen))
            });
            move || {
                if let Some((observer, _seen)) = watching {
                    observer.disconnect();
                }
            }
        });
    }
    *on
}

/// `value` as a panel at `node` should show it: as it is while the panel is
/// on the screen, the run is not `playing`, or `run` (the page's count of
/// runs, [`crate::state::AppState::runs`]) moved since it was last shown;
/// off the screen during a run, the value it last showed, renewed every
/// [`OFF_SCREEN_EVERY_MS`]. A long panel below the drawing (the node table,
/// the event log) then costs a busy run's frames almost nothing, and is
/// current again the moment it is scrolled to, the run stops, or another
/// run (another lab, a reset) begins. Give the result to a child
/// component, so that an unchanged value renders nothing.
/// A value kept back is renewed by the next render after the second is
/// up, and a render is asked for then, so that the last change before the
/// frames stop (an action in a lab without a clock) is shown too.
#[hook]
pub fn use_held<T: Clone + 'static>(node: &NodeRef, playing: bool, run: u64, value: T) -> T {
    let on_screen = use_on_screen(node);
    let held = use_mut_ref(|| (value.clone(), f64::NEG_INFINITY, run));
    let wake = use_mut_ref(|| None::<gloo_timers::callback::Timeout>);
    let waking = use_mut_ref(|| false);
    let render = use_force_update();
    let now = web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now());
    let mut held = held.borrow_mut();
    if on_screen || !playing || run != held.2 || now - held.1 >= OFF_SCREEN_EVERY_MS {
        *held = (value, now, run);
    } else if !*waking.borrow() {
        *waking.borrow_mut() = true;
        let wait = (OFF_SCREEN_EVERY_MS - (now - held.1)).clamp(0.0, OFF_SCREEN_EVERY_MS) as u32;
        let waking = waking.clone();
        *wake.borrow_mut() = Some(gloo_timers::callback::Timeout::new(wait + 1, move || {
            *waking.borrow_mut() = false;
            render.force_update();
        }));
    }
    held.0.clone()
}

/// Whether the browser remembers `key` as set (local storage; a browser
/// without it remembers nothing).
pub fn remembered(key: &str) -> bool {
    local_storage().is_some_and(|s| s.get_item(key).ok().flatten().is_some())
}

/// Sets or clears `key` in the browser's local storage (quietly nothing
/// where there is none).
pub fn remember(key: &str, set: bool) {
    if let Some(s) = local_storage() {
        let _ = if set { s.set_item(key, "1") } else { s.remove_item(key) };
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}
