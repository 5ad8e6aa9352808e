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

/// Speeds offered: label and virtual seconds per wall second (0 = maximum).
pub const SPEEDS: &[(&str, f64)] =
    &[("0.01×", 0.01), ("0.1×", 0.1), ("0.25×", 0.25), ("1×", 1.0), ("10×", 10.0), ("100×", 100.0), ("max", 0.0)];

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
