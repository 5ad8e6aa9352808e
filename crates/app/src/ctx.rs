//! What every panel and every lab's own view is given: the page state and
//! a handle on the simulation worker. It sits below the views and the labs
//! (both import it; it imports neither: the shell hands it the labs' list
//! of engines), so the page shell can import the labs without a cycle.

use crate::codec::MeasuredBincode;
use crate::protocol::{FromWorker, ToWorker};
use crate::state::AppState;
use crate::worker::SimWorker;
use clusterscope_core::scenario::{lab_named, link};
use gloo_worker::{Spawnable, Worker, WorkerBridge, WorkerSpawner};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

/// A handle the components use to talk to the simulation: the Web Worker
/// of the lab on screen. Each lab's engine is a worker of its own
/// (`labs::engines`); a command that opens another lab (a preset,
/// a link, a file, a benchmark) starts that lab's worker first, gives it
/// the speed, diagram and play state the page had set, and lets the old
/// one go (dropping its last bridge closes it). The browser keeps the
/// fetched engine in its cache, so coming back costs no second download.
#[derive(Clone)]
pub struct Bridge(Rc<Router>);

struct Router {
    /// The labs with an engine, in menu order (the first opens by default).
    engines: &'static [&'static str],
    /// The lab whose worker runs, and its worker.
    current: RefCell<Option<(String, WorkerBridge<SimWorker>)>>,
    /// Workers started so far; a message from an older one is dropped.
    started: Rc<Cell<u64>>,
    /// Where the workers' messages go.
    on_message: Rc<dyn Fn(FromWorker)>,
    /// Told the lab whose engine starts loading.
    on_start: Box<dyn Fn(&str)>,
    /// The last speed, diagram and play commands, for the next worker.
    sticky: RefCell<Vec<ToWorker>>,
}

impl PartialEq for Bridge {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}

impl Bridge {
    /// A bridge that starts a lab's worker (one of `engines`, the labs
    /// with an engine in menu order) when a command needs one, and at once
    /// the worker of the lab the page opens with, `first` (so its engine
    /// downloads while the page starts); `on_message` hears the current
    /// worker, `on_start` each lab whose engine starts loading.
    pub fn new(
        engines: &'static [&'static str],
        first: Option<String>,
        on_message: impl Fn(FromWorker) + 'static,
        on_start: impl Fn(&str) + 'static,
    ) -> Bridge {
        let bridge = Bridge(Rc::new(Router {
            engines,
            current: RefCell::new(None),
            started: Rc::new(Cell::new(0)),
            on_message: Rc::new(on_message),
            on_start: Box::new(on_start),
            sticky: RefCell::new(Vec::new()),
        }));
        if let Some(lab) = first.filter(|l| engines.contains(&l.as_str())) {
            bridge.0.start(&lab);
        }
        bridge
    }

    /// Sends a command to the worker of the lab it is for (starting that
    /// worker if another lab's runs).
    pub fn send(&self, msg: ToWorker) {
        let router = &self.0;
        let wanted = router.lab_for(&msg);
        let running = router.current.borrow().as_ref().map(|(lab, _)| lab.clone());
        let lab = match (wanted, running) {
            (Some(w), Some(r)) if w == r => None,
            (Some(w), _) => Some(w),
            (None, None) => Some(router.default_lab().to_string()),
            (None, Some(_)) => None,
        };
        if let Some(lab) = lab {
            router.start(&lab);
        }
        match &msg {
            ToWorker::Speed(_) | ToWorker::Diagram(_) | ToWorker::Play | ToWorker::Pause => router.remember(&msg),
            _ => {}
        }
        if let Some((_, worker)) = router.current.borrow().as_ref() {
            worker.send(msg);
        }
    }

    /// A callback that sends a fixed command.
    pub fn cb<E>(&self, msg: ToWorker) -> Callback<E> {
        let b = self.clone();
        Callback::from(move |_| b.send(msg.clone()))
    }
}

impl Router {
    /// Starts lab `lab`'s worker in place of the current one and gives it
    /// the page's speed, diagram and play state.
    fn start(&self, lab: &str) {
        (self.on_start)(lab);
        let generation = self.started.get() + 1;
        self.started.set(generation);
        let (started, on_message) = (self.started.clone(), self.on_message.clone());
        let worker = spawn_worker(lab, move |out| {
            if started.get() == generation {
                on_message(out);
            }
        });
        for msg in self.sticky.borrow().iter() {
            worker.send(msg.clone());
        }
        // The old worker closes when its bridge is dropped here.
        *self.current.borrow_mut() = Some((lab.to_string(), worker));
    }

    /// The lab that opens when nothing names one.
    fn default_lab(&self) -> &'static str {
        self.engines.first().copied().unwrap_or_default()
    }

    /// The lab a command is for, when it names or carries one this page
    /// has an engine for; `None`: the lab already running (whose worker
    /// then answers with the error a bad link or file deserves).
    fn lab_for(&self, msg: &ToWorker) -> Option<String> {
        let named = match msg {
            ToWorker::LoadPreset { lab, .. } if lab.is_empty() => Some(self.default_lab().to_string()),
            ToWorker::LoadPreset { lab, .. } | ToWorker::LabBench { lab, .. } | ToWorker::Bench(lab) => {
                Some(lab.clone())
            }
            ToWorker::LoadLink(fragment) => link::lab_of(fragment),
            ToWorker::LoadText(text) => lab_named(text).map(str::to_string),
            ToWorker::Api { cmd, .. } => return self.lab_for(cmd),
            _ => None,
        };
        named.filter(|lab| self.engines.contains(&lab.as_str()))
    }

    /// Keeps the latest command of each sticky kind.
    fn remember(&self, msg: &ToWorker) {
        let mut sticky = self.sticky.borrow_mut();
        let same = |m: &ToWorker| match (m, msg) {
            (ToWorker::Play | ToWorker::Pause, ToWorker::Play | ToWorker::Pause) => true,
            _ => std::mem::discriminant(m) == std::mem::discriminant(msg),
        };
        sticky.retain(|m| !same(m));
        sticky.push(msg.clone());
    }
}

/// Spawns lab `lab`'s worker (its engine, `engine-LAB.js`).
pub fn spawn_worker<F>(lab: &str, callback: F) -> WorkerBridge<SimWorker>
where
    F: 'static + Fn(FromWorker),
{
    let mut spawner = SimWorker::spawner().encoding::<MeasuredBincode>();
    spawner.callback(callback);
    spawn_script(&mut spawner, &format!("engine-{lab}"))
}

/// Spawns the worker built as `script` (Trunk's `data-bin`): a module
/// worker (Trunk builds it for wasm-bindgen's web target, see index.html),
/// whose start passes wasm-bindgen's initialisation no deprecated
/// arguments. A page in a sandboxed iframe has an opaque origin and may not
/// start a worker from a URL, nor a module worker from a blob
/// (`blob:null`), but it may from a `data:` address that imports the
/// worker's script by its full address.
pub fn spawn_script<W, C>(spawner: &mut WorkerSpawner<W, C>, script: &str) -> WorkerBridge<W>
where
    W: Worker + 'static,
    W::Input: serde::Serialize + for<'de> serde::Deserialize<'de>,
    W::Output: serde::Serialize + for<'de> serde::Deserialize<'de>,
    C: gloo_worker::Codec,
{
    let window = web_sys::window();
    let opaque = window.as_ref().is_some_and(|w| w.origin() == "null");
    spawner.as_module(true).with_loader(true);
    let href = window.and_then(|w| w.location().href().ok()).unwrap_or_default();
    match opaque.then(|| web_sys::Url::new_with_base(&format!("./{script}.js"), &href).ok()).flatten() {
        Some(url) => {
            let start = format!("import init from '{}';await init();", url.href());
            let data = format!("data:text/javascript,{}", js_sys::encode_uri_component(&start));
            spawner.spawn(&data)
        }
        // Trunk's loader shim imports the worker and starts it.
        None => spawner.spawn(&format!("./{script}_loader.js")),
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
