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
pub mod faults;
pub mod quorum;
pub mod ring;

use crate::ctx::Ctx;
use crate::state::AppState;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
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

/// The list of labs with views of their own, made into [`VIEWS`] and
/// [`STAGES`] (one list, so the two cannot disagree).
macro_rules! views {
    ($($lab:ident),* $(,)?) => {
        /// Labs with views of their own.
        pub static VIEWS: &[LabView] = &[$($lab::VIEW),*];
        /// Their drawings alone, what the embedded layout uses of them: a
        /// table of its own, so that the embed binary links no lab's side
        /// and bench panels.
        static STAGES: &[(&str, Option<fn(&Ctx) -> Html>)] = &[$(($lab::VIEW.name, $lab::VIEW.stage)),*];
    };
}
views!(ring, balance, quorum, faults);

/// The lab's own view in the frame (its type `T`, bincode-encoded by the
/// lab), decoded once per change of the view's bytes: frames that leave
/// it unchanged reuse the last one decoded. One lab is shown at a time,
/// so one slot is kept, whatever its type.
pub fn decoded<T: DeserializeOwned + 'static>(state: &AppState) -> Option<Rc<T>> {
    type Slot = Option<(Rc<Vec<u8>>, Rc<dyn Any>)>;
    thread_local! {
        static LAST: RefCell<Slot> = const { RefCell::new(None) };
    }
    let bytes = state.view.clone()?;
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((k, v)) = last.as_ref() {
            if Rc::ptr_eq(k, &bytes) || **k == *bytes {
                if let Ok(v) = v.clone().downcast::<T>() {
                    return Some(v);
                }
            }
        }
        let view: Rc<T> = Rc::new(bincode::deserialize(&bytes).ok()?);
        *last = Some((bytes, view.clone()));
        Some(view)
    })
}

/// The drawing of lab `name`, if it has one of its own.
pub fn stage(name: &str) -> Option<fn(&Ctx) -> Html> {
    STAGES.iter().find(|(n, _)| *n == name).and_then(|(_, stage)| *stage)
}

/// The view of lab `name`, if it has one.
pub fn find(name: &str) -> Option<&'static LabView> {
    VIEWS.iter().find(|v| v.name == name)
}
