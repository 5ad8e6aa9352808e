//! The one list of lab views on the page.
//!
//! Everything generic (transport, time travel, links and embed, presets,
//! setup and live settings from the parameter table, node actions, the
//! node table, the cluster drawing, metrics and their charts, the event
//! log, the invariant banner) is drawn from the lab's schema and needs no
//! entry here. A lab with a drawing or panels of its own adds one module
//! and one line to [`VIEWS`].

pub mod balance;
pub mod engines;
pub mod ring;

use crate::ctx::Ctx;
use yew::Html;

/// What a lab draws that is its own.
pub struct LabView {
    /// The lab's name, as in its schema.
    pub name: &'static str,
    /// Its drawing, in place of the cluster drawing (with its node table
    /// and node actions); `None` keeps them.
    pub stage: Option<fn(&Ctx) -> Html>,
    /// Panels under the drawing.
    pub below: fn(&Ctx) -> Html,
    /// Panels at the side.
    pub side: fn(&Ctx) -> Html,
    /// A panel of its own on the `?bench=1` page, if it has a benchmark of
    /// its own (its controls send [`crate::protocol::ToWorker::LabBench`],
    /// which runs the lab's [`clusterscope_core::lab::Engine::speed`]).
    pub bench: Option<fn(&Ctx) -> Html>,
}

/// Labs with views of their own.
pub static VIEWS: &[LabView] = &[ring::VIEW, balance::VIEW];

/// The view of lab `name`, if it has one.
pub fn find(name: &str) -> Option<&'static LabView> {
    VIEWS.iter().find(|v| v.name == name)
}
