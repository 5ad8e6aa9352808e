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

/// Spawns the simulation worker. A page in a sandboxed iframe has an opaque
/// origin and may not start a worker from a URL, but it may from a blob
/// that imports the worker's script by its full address.
pub fn spawn_worker<F>(callback: F) -> WorkerBridge<SimWorker>
where
    F: 'static + Fn(FromWorker),
{
    let opaque = web_sys::window().is_some_and(|w| w.origin() == "null");
    let mut spawner = SimWorker::spawner().encoding::<MeasuredBincode>();
    // Trunk builds the worker for wasm-bindgen's no-modules target.
    spawner.callback(callback).as_module(false);
    if opaque {
        // gloo builds the blob: importScripts(worker.js) and wasm_bindgen(worker_bg.wasm).
        spawner.with_loader(false).spawn("./worker.js")
    } else {
        // Trunk's loader shim imports the worker and starts it.
        spawner.with_loader(true).spawn("./worker_loader.js")
    }
}

/// What every panel gets: the state and the worker.
#[derive(Clone, PartialEq)]
pub struct Ctx {
    /// The page state.
    pub state: UseReducerHandle<AppState>,
    /// The worker.
    pub bridge: Bridge,
}

/// Props of a panel.
#[derive(Properties, Clone, PartialEq)]
pub struct PanelProps {
    /// State and worker.
    pub ctx: Ctx,
}
