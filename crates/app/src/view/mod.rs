//! The shared widgets of the page: function components that render the
//! state and send commands to the worker, for every lab (a lab's own
//! drawing lives in [`crate::labs`]; the page that puts them together is
//! [`crate::shell`]). Nothing here runs the simulation or names a lab.

pub mod api;
pub mod canvas;
pub mod files;
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
