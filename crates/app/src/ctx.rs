//! What every panel and every lab's own view is given: the page state and
//! a handle on the simulation worker. It sits below the views and the labs
//! (both import it; it imports neither), so the page shell can import the
//! labs without a cycle.

use crate::codec::MeasuredBincode;
use crate::protocol::{FromWorker, ToWorker};
use crate::state::AppState;
use crate::worker::SimWorker;
use gloo_worker::{Spawnable, WorkerBridge};
use std::rc::Rc;
use yew::prelude::*;

/// A handle the components use to talk to the worker.
#[derive(Clone)]
pub struct Bridge(Rc<WorkerBridge<SimWorker>>);

impl PartialEq for Bridge {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

impl Bridge {
    /// Wraps a spawned worker.
    pub fn new(bridge: WorkerBridge<SimWorker>) -> Bridge {
        Bridge(Rc::new(bridge))
    }
    /// Sends a command to the worker.
    pub fn send(&self, msg: ToWorker) {
        self.0.send(msg);
    }
    /// A callback that sends a fixed command.
    pub fn cb<E>(&self, msg: ToWorker) -> Callback<E> {
        let b = self.clone();
        Callback::from(move |_| b.send(msg.clone()))
    }
}

/// Spawns the simulation worker: a module worker (Trunk builds it for
/// wasm-bindgen's web target, see index.html), whose start passes
/// wasm-bindgen's initialisation no deprecated arguments. A page in a
/// sandboxed iframe has an opaque origin and may not start a worker from a
/// URL, nor a module worker from a blob (`blob:null`), but it may from a
/// `data:` address that imports the worker's script by its full address.
pub fn spawn_worker<F>(callback: F) -> WorkerBridge<SimWorker>
where
    F: 'static + Fn(FromWorker),
{
    let window = web_sys::window();
    let opaque = window.as_ref().is_some_and(|w| w.origin() == "null");
    let mut spawner = SimWorker::spawner().encoding::<MeasuredBincode>();
    spawner.callback(callback).as_module(true).with_loader(true);
    let href = window.and_then(|w| w.location().href().ok()).unwrap_or_default();
    match opaque.then(|| web_sys::Url::new_with_base("./worker.js", &href).ok()).flatten() {
        Some(script) => {
            let start = format!("import init from '{}';await init();", script.href());
            let data = format!("data:text/javascript,{}", js_sys::encode_uri_component(&start));
            spawner.spawn(&data)
        }
        // Trunk's loader shim imports the worker and starts it.
        None => spawner.spawn("./worker_loader.js"),
    }
}

/// What every panel gets: the state and the worker.
#[derive(Clone)]
pub struct Ctx {
    /// The page state.
    pub state: UseReducerHandle<AppState>,
    /// The worker.
    pub bridge: Bridge,
    /// For a panel that follows at the text panels' pace: the state's
    /// [`AppState::shown_version`] when this was made. Two such contexts
    /// are equal while it is the same, so a frame that changes only the
    /// drawing does not re-render the panel; otherwise (`None`) every new
    /// state is a change.
    paced: Option<u64>,
}

impl PartialEq for Ctx {
    fn eq(&self, o: &Self) -> bool {
        let same_state = match (self.paced, o.paced) {
            (Some(a), Some(b)) => a == b,
            _ => self.state == o.state,
        };
        same_state && self.bridge == o.bridge
    }
}

impl Ctx {
    /// The state and the worker, for a view that follows every frame.
    pub fn new(state: UseReducerHandle<AppState>, bridge: Bridge) -> Ctx {
        Ctx { state, bridge, paced: None }
    }

    /// The same, for a panel that follows at the text panels' pace
    /// ([`crate::state::TEXT_EVERY_MS`] while playing, at once otherwise):
    /// it re-renders only when [`AppState::shown_version`] moves.
    pub fn paced(&self) -> Ctx {
        Ctx { paced: Some(self.state.shown_version), ..self.clone() }
    }
}

/// Props of a panel.
#[derive(Properties, Clone, PartialEq)]
pub struct PanelProps {
    /// State and worker.
    pub ctx: Ctx,
}
