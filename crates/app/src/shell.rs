//! The page: the app shell that lays out the shared widgets ([`crate::view`])
//! and the open lab's own views ([`crate::labs`]), reads the address and
//! keeps it current, and talks to the worker. Nothing here runs the
//! simulation.

use crate::codec::last_decoded_bytes;
use crate::ctx::{Bridge, Ctx, PanelProps};
use crate::labs;
use crate::protocol::{FromWorker, ToWorker};
use crate::state::{AppState, Msg};
use crate::view::{self, api, canvas, files, history, narration, panels, results, spacetime, story, tune};
use clusterscope_core::lab::LabInfo;
use clusterscope_core::scenario::link;
use clusterscope_core::sim::time::format_clock;
use gloo_events::EventListener;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

fn window() -> web_sys::Window {
    web_sys::window().unwrap_or_else(|| unreachable!("the page always has a window"))
}

fn query(name: &str) -> Option<String> {
    let search = window().location().search().unwrap_or_default();
    web_sys::UrlSearchParams::new_with_str(&search).ok().and_then(|p| p.get(name))
}

fn query_flag(name: &str) -> bool {
    query(name).is_some_and(|v| v != "0" && v != "false")
}

fn current_hash() -> String {
    window().location().hash().unwrap_or_default().trim_start_matches('#').to_string()
}

/// Which drawing the stage shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewMode {
    /// The cluster drawing (the default).
    Cluster,
    /// The space-time diagram instead.
    Diagram,
    /// Both, side by side (stacked on narrow screens).
    Both,
    /// The results at full width: the lab's experiments and Tune.
    Results,
}

impl ViewMode {
    fn parse(s: &str) -> Option<ViewMode> {
        match s {
            "cluster" => Some(ViewMode::Cluster),
            "diagram" => Some(ViewMode::Diagram),
            "both" => Some(ViewMode::Both),
            "results" => Some(ViewMode::Results),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            ViewMode::Cluster => "cluster",
            ViewMode::Diagram => "diagram",
            ViewMode::Both => "both",
            ViewMode::Results => "results",
        }
    }

    /// Whether it shows the space-time diagram.
    fn diagram(self) -> bool {
        matches!(self, ViewMode::Diagram | ViewMode::Both)
    }
}

/// Which controls an embedded lab shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controls {
    /// None: the embedding page drives it (the API).
    None,
    /// Play, step, speed, reset and the clock (the default).
    Compact,
    /// Everything but the side panels: also step back, the time slider and
    /// the view switch.
    Full,
}

/// The page's address options (`?embed=1&controls=compact&autoplay=1&
/// speed=1&t=2s&view=both`); see docs/embedding.md for defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The minimal layout for iframes.
    pub embed: bool,
    /// The benchmark page.
    pub bench: bool,
    /// Which controls an embedded lab shows.
    pub controls: Controls,
    /// Play on open (`Some(false)`: stay paused).
    pub autoplay: Option<bool>,
    /// Speed on open.
    pub speed: Option<f64>,
    /// Time to open at.
    pub start: Option<clusterscope_core::sim::Time>,
    /// The view.
    pub view: ViewMode,
    /// Options that could not be read, in words.
    pub problems: Vec<String>,
}

impl Options {
    /// Reads them from the address.
    pub fn read() -> Options {
        let mut problems = Vec::new();
        let controls = match query("controls").as_deref() {
            None | Some("compact") => Controls::Compact,
            Some("none") => Controls::None,
            Some("full") => Controls::Full,
            Some(other) => {
                problems.push(format!("controls={other} is not none, compact or full"));
                Controls::Compact
            }
        };
        let view = match query("view") {
            None => ViewMode::Cluster,
            Some(v) => ViewMode::parse(&v).unwrap_or_else(|| {
                problems.push(format!("view={v} is not cluster, diagram, both or results"));
                ViewMode::Cluster
            }),
        };
        let speed = query("speed").and_then(|v| match v.trim_end_matches('×').trim_end_matches('x').parse::<f64>() {
            Ok(s) if s.is_finite() && (0.0..=1e6).contains(&s) => Some(s),
            _ => {
                problems.push(format!("speed={v} is not a number from 0 (as fast as possible) to 1000000"));
                None
            }
        });
        let start = query("t").and_then(|v| {
            clusterscope_core::sim::time::parse_duration(&v).or_else(|| {
                problems.push(format!("t={v} is not a time such as 2s or 150ms"));
                None
            })
        });
        Options {
            embed: query_flag("embed"),
            bench: query_flag("bench"),
            controls,
            autoplay: query("autoplay").map(|v| v != "0" && v != "false"),
            speed,
            start,
            view,
            problems,
        }
    }
}

/// Writes the page's address: `search` (options) and the link.
fn write_address(search: &str, link: &str) {
    let loc = window().location();
    let url = format!("{}{}#{}", loc.pathname().unwrap_or_default(), search, link);
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The current search string with `name` set to `value` (`None`: removed).
fn search_with(name: &str, value: Option<&str>) -> String {
    let search = window().location().search().unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return search };
    match value {
        Some(v) => params.set(name, v),
        None => params.delete(name),
    }
    let s: String = params.to_string().into();
    if s.is_empty() {
        s
    } else {
        format!("?{s}")
    }
}

const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "Play or pause"),
    ("→", "Forward one event"),
    ("←", "Back one event"),
    (".", "Forward to the next instant"),
    ("] or n", "Next caption (a story's next moment)"),
    ("[ or p", "Previous caption"),
    ("d", "Switch the view: cluster, diagram, both"),
    ("r", "Show the results (experiments, Tune) or go back"),
    ("?", "Show or hide this help"),
    ("Esc", "Close this help"),
    ("Wheel on the diagram", "Zoom around the pointer"),
    ("Shift+wheel or drag", "Scroll the diagram in time"),
    ("Click on the diagram", "Go to that time; on a message, show it"),
];

/// What both page binaries share: the worker, the address, the embedding
/// API and the keys, wired up in hooks (in this order, so the first load
/// reaches the worker before anything else).
struct Shell {
    ctx: Ctx,
    options: Rc<Options>,
    view: UseStateHandle<ViewMode>,
    help: UseStateHandle<bool>,
    diagram_view: Rc<spacetime::Shared>,
    reader: Rc<RefCell<Option<gloo_file::callbacks::FileReader>>>,
    go_to: Rc<Callback<clusterscope_core::sim::Time>>,
    settled: bool,
}

/// Runs the hooks both page binaries share, in their order.
#[hook]
fn use_shell() -> Shell {
    let state = use_reducer(AppState::default);
    let options = use_memo((), |_| Options::read());
    let view = use_state(|| options.view);
    let help = use_state(|| false);
    let diagram_view = use_memo((), |_| spacetime::Shared::default());
    let reader = use_mut_ref(|| None::<gloo_file::callbacks::FileReader>);
    let pending = use_memo((), |_| api::PendingHandle::default());
    let bridge = use_worker(&state, &pending);
    use_address(&state, &bridge, &options, &view);
    // Flow control: ask for the next frame once this one is on screen.
    {
        let bridge = bridge.clone();
        use_effect_with(state.frames, move |_| bridge.send(ToWorker::Ack));
    }
    use_embedding_api(&state, &bridge, &pending, &view);
    use_shortcuts(&state, &bridge, &view, &help);
    use_diagram_records(&state, &bridge, &view);
    use_results_open(&state, &view);

    let go_to = use_go_to(&bridge, &view);
    // A run's first frame, or the sentence saying why none came.
    let settled = use_after_first_paint(state.frame.is_some() || state.error.is_some());
    Shell { ctx: Ctx::new(state, bridge), options, view, help, diagram_view, reader, go_to, settled }
}

impl Shell {
    /// What every layout shows, with `stage`, the lab's own drawing if it
    /// has one.
    fn parts(&self, stage: Option<fn(&Ctx) -> Html>) -> Parts {
        let (state, view) = (&self.ctx.state, &self.view);
        let has_diagram = state.schema.as_ref().is_some_and(|s| s.diagram);
        let mode = if has_diagram || **view == ViewMode::Results { **view } else { ViewMode::Cluster };
        let show_run = {
            let view = view.clone();
            Callback::from(move |_| view.set(ViewMode::Cluster))
        };
        Parts {
            error: match (loading_line(state), error_banner(state)) {
                (None, None) => None,
                (loading, error) => Some(html! { <>{ loading }{ error }</> }),
            },
            violation: violation_banner(state),
            drawing: drawing(&self.ctx, stage, mode, &self.diagram_view, show_run),
            view_switch: Some(view_switch(view, mode, has_diagram)),
            help_overlay: self.help.then(|| help_overlay(&self.help)),
            ondrop: on_drop(&self.ctx, self.reader.clone()),
            mode,
            timed: state.schema.as_ref().is_none_or(|s| s.timed),
            go_to: (*self.go_to).clone(),
            settled: self.settled,
            ctx: self.ctx.clone(),
        }
    }
}

/// The whole app: the full page, the layout for iframes (`?embed=1`) or
/// the benchmark page (`?bench=1`).
#[function_component]
pub fn App() -> Html {
    let shell = use_shell();
    if shell.options.bench {
        return html! { <BenchPanel ctx={shell.ctx.clone()} /> };
    }
    let own = labs::find(shell.ctx.state.lab());
    let parts = shell.parts(own.and_then(|v| v.stage));
    if shell.options.embed {
        embedded(parts, shell.options.controls)
    } else {
        full_page(parts, own, &shell.help, &shell.diagram_view)
    }
}

/// The layout for iframes alone: what index.html starts for `?embed=1`
/// (without `bench`), so an embedded lab downloads neither the full page's
/// header, side panels, node table and event log nor the benchmark page
/// (the `embed` binary of `crates/page`; docs/architecture.md, "Two page
/// binaries").
#[function_component]
pub fn Embedded() -> Html {
    let shell = use_shell();
    let stage = labs::stage(shell.ctx.state.lab());
    embedded(shell.parts(stage), shell.options.controls)
}

/// Whether the run's first frame has been painted: false until `ready`
/// (a frame, or an error, is in the state), then true from the first task after the
/// next paint (an animation frame, then a timeout), and for good. The
/// full page leaves out what its first screen does without (the node
/// table under the drawing, the settings at the foot of the side panel)
/// until then, so the first drawn frame does not wait for their elements;
/// they follow in the next task, after the frame is on the screen.
#[hook]
fn use_after_first_paint(ready: bool) -> bool {
    let painted = use_state_eq(|| false);
    {
        let painted = painted.clone();
        use_effect_with(ready, move |&ready| {
            if ready && !*painted {
                let after_paint = Closure::once_into_js(move || {
                    gloo_timers::callback::Timeout::new(0, move || painted.set(true)).forget();
                });
                let _ = window().request_animation_frame(after_paint.unchecked_ref());
            }
        });
    }
    *painted
}

/// "Show this moment" in the history view: the run paused at a time, and
/// the diagram shown beside the drawing if only the drawing was (so the
/// messages behind an operation can be followed). Made once: the view in
/// force is read when it is used.
#[hook]
fn use_go_to(bridge: &Bridge, view: &UseStateHandle<ViewMode>) -> Rc<Callback<clusterscope_core::sim::Time>> {
    let now = use_mut_ref(|| **view);
    *now.borrow_mut() = **view;
    let (bridge, view) = (bridge.clone(), view.clone());
    use_memo((), move |_| {
        Callback::from(move |t| {
            bridge.send(ToWorker::Pause);
            bridge.send(ToWorker::Seek(t));
            if *now.borrow() == ViewMode::Cluster {
                view.set(ViewMode::Both);
            }
        })
    })
}

/// The bridge to the workers, made once: each lab's engine runs in a
/// worker of its own, started when a command opens that lab. Their
/// messages go to the state, except the embedding API's answers, which go
/// to the page that asked.
#[hook]
fn use_worker(state: &UseReducerHandle<AppState>, pending: &api::PendingHandle) -> Bridge {
    let dispatcher = state.dispatcher();
    let pending = pending.clone();
    let bridge = use_memo((), move |_| {
        let loading = dispatcher.clone();
        // The lab the address opens (its link's), or the first: its
        // engine starts loading with the page's first render.
        let hash = current_hash();
        let first =
            if hash.is_empty() { labs::engines::ENGINES.first().map(|l| l.to_string()) } else { link::lab_of(&hash) };
        Bridge::new(
            labs::engines::ENGINES,
            first,
            move |out: FromWorker| match out {
                FromWorker::Done(tag, error) => pending.borrow_mut().done(tag, error),
                out => dispatcher.dispatch(Msg::Worker(out, last_decoded_bytes())),
            },
            move |lab: &str| loading.dispatch(Msg::Loading(lab.to_string())),
        )
    });
    (*bridge).clone()
}

/// The address: the first load from it, a link pasted into it, and keeping
/// it current (the link of what is on screen, and the view).
#[hook]
fn use_address(
    state: &UseReducerHandle<AppState>,
    bridge: &Bridge,
    options: &Rc<Options>,
    view: &UseStateHandle<ViewMode>,
) {
    // The hash this page wrote last, so its own updates are not reloaded.
    let written = use_mut_ref(String::new);
    // A pasted link is loading: frames still in flight carry the old run's
    // link and must not overwrite the address until the worker answers.
    let loading = use_mut_ref(|| false);
    {
        let (bridge, written, dispatcher, options) =
            (bridge.clone(), written.clone(), state.dispatcher(), options.clone());
        use_effect_with((), move |_| first_load(&options, &bridge, &written, &dispatcher));
    }
    // A link pasted into the address bar of this tab.
    {
        let (bridge, written, loading) = (bridge.clone(), written.clone(), loading.clone());
        use_effect_with((), move |_| {
            let listener = EventListener::new(&window(), "hashchange", move |_| {
                let hash = current_hash();
                if hash != *written.borrow() && !hash.is_empty() {
                    *written.borrow_mut() = hash.clone();
                    *loading.borrow_mut() = true;
                    bridge.send(ToWorker::Pause);
                    bridge.send(ToWorker::LoadLink(hash));
                }
            });
            move || drop(listener)
        });
    }
    // Keep the address bar reproducing what is on screen.
    let settled = state.status.reset || state.error.is_some();
    use_effect_with((state.link.clone(), state.frames, settled), move |(link, _, settled)| {
        if *loading.borrow() {
            if !*settled {
                return;
            }
            *loading.borrow_mut() = false;
        }
        if !link.is_empty() && *written.borrow() != *link {
            write_address(&window().location().search().unwrap_or_default(), link);
            *written.borrow_mut() = link.clone();
        }
    });
    // The view is part of the address (the default, cluster, is left out).
    use_effect_with(**view, move |v| {
        let value = (*v != ViewMode::Cluster).then_some(v.name());
        let search = search_with("view", value);
        if search != window().location().search().unwrap_or_default() {
            write_address(&search, &current_hash());
        }
    });
}

/// First load: the link in the address bar, or the default lab, playing;
/// then the address's options.
fn first_load(
    options: &Options,
    bridge: &Bridge,
    written: &RefCell<String>,
    dispatcher: &UseReducerDispatcher<AppState>,
) {
    let hash = current_hash();
    // A scenario's own `speed` line sets the speed when it loads; a speed
    // in the address wins over it, so it is sent again after the load.
    let speed = options.speed.unwrap_or(0.1);
    dispatcher.dispatch(Msg::Speed(speed));
    if !options.problems.is_empty() {
        dispatcher
            .dispatch(Msg::Error(format!("In the address: {}. Defaults were used.", options.problems.join("; "))));
    }
    if options.bench {
        // The benchmark page drives the workers itself (see BenchPanel);
        // the first lab's greets it with the catalog its buttons list.
        bridge.send(ToWorker::Describe);
        return;
    }
    bridge.send(ToWorker::Speed(speed));
    let play = if hash.is_empty() {
        bridge.send(ToWorker::LoadPreset { lab: String::new(), index: 0 });
        options.autoplay.unwrap_or(true)
    } else {
        *written.borrow_mut() = hash.clone();
        bridge.send(ToWorker::LoadLink(hash));
        options.autoplay.unwrap_or(false)
    };
    if let Some(speed) = options.speed {
        bridge.send(ToWorker::Speed(speed));
    }
    if let Some(t) = options.start {
        bridge.send(ToWorker::Seek(t));
    }
    if play {
        bridge.send(ToWorker::Play);
    }
}

/// The embedding API: requests from the parent page, and events to it.
#[hook]
fn use_embedding_api(
    state: &UseReducerHandle<AppState>,
    bridge: &Bridge,
    pending: &api::PendingHandle,
    view: &UseStateHandle<ViewMode>,
) {
    {
        let (bridge, pending, view) = (bridge.clone(), pending.clone(), view.clone());
        use_effect_with((), move |_| {
            let listener = EventListener::new(&window(), "message", move |e| {
                let Some(e) = e.dyn_ref::<web_sys::MessageEvent>() else { return };
                if api::from_parent(e) {
                    api_request(e, &bridge, &pending, &view);
                }
            });
            move || drop(listener)
        });
    }
    let seen = use_mut_ref(api::Seen::default);
    let state = state.clone();
    use_effect_with(state.frames, move |_| api::follow(&state, &mut seen.borrow_mut()));
}

/// One request from the parent page: the view is switched here, anything
/// else goes to the worker, which answers when it is done.
fn api_request(
    e: &web_sys::MessageEvent,
    bridge: &Bridge,
    pending: &api::PendingHandle,
    view: &UseStateHandle<ViewMode>,
) {
    let Some(source) = e.source().map(wasm_bindgen::JsValue::from) else { return };
    match api::read(&e.data()) {
        (id, Err(error)) => api::reply(&source, id, Err(error)),
        (id, Ok(api::Command::View(v))) => {
            view.set(ViewMode::parse(v.as_str()).unwrap_or(ViewMode::Cluster));
            api::reply(&source, id, Ok(None));
        }
        (id, Ok(api::Command::Worker(cmd))) => {
            let tag = pending.borrow_mut().wait(source, id);
            bridge.send(ToWorker::Api { tag, cmd: Box::new(cmd) });
        }
    }
}

/// Keys: space plays and pauses; arrows step one event; '.' steps to the
/// next instant; ']' and '[' (or 'n' and 'p') go to the next and previous
/// caption; 'd' switches the view; '?' shows the help.
#[hook]
fn use_shortcuts(
    state: &UseReducerHandle<AppState>,
    bridge: &Bridge,
    view: &UseStateHandle<ViewMode>,
    help: &UseStateHandle<bool>,
) {
    // The captions and the time, read when a key comes (not a reason to
    // listen anew at every frame).
    let story = use_mut_ref(|| (Vec::new(), 0));
    *story.borrow_mut() = (state.settings.as_ref().map(|s| s.captions.clone()).unwrap_or_default(), state.time());
    let (bridge, view, help) = (bridge.clone(), view.clone(), help.clone());
    let playing = state.status.playing;
    let diagram = state.schema.as_ref().is_some_and(|s| s.diagram);
    use_effect_with((playing, *view, *help, diagram), move |_| {
        // Not passive: the space bar must not also scroll the page.
        let options = gloo_events::EventListenerOptions::enable_prevent_default();
        let listener = EventListener::new_with_options(&window(), "keydown", options, move |e| {
            let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else { return };
            if !for_the_page(e) {
                return;
            }
            match e.key().as_str() {
                " " => {
                    e.prevent_default();
                    bridge.send(if playing { ToWorker::Pause } else { ToWorker::Play });
                }
                "." => bridge.send(ToWorker::Step),
                "]" | "n" | "[" | "p" => {
                    let (captions, now) = &*story.borrow();
                    if let Some(t) = story::caption_target(captions, *now, matches!(e.key().as_str(), "]" | "n")) {
                        bridge.send(ToWorker::Pause);
                        bridge.send(ToWorker::Seek(t));
                    }
                }
                "ArrowRight" => {
                    e.prevent_default();
                    bridge.send(ToWorker::StepEvent);
                }
                "ArrowLeft" => {
                    e.prevent_default();
                    bridge.send(ToWorker::StepBack);
                }
                "d" if diagram => view.set(match *view {
                    ViewMode::Cluster => ViewMode::Diagram,
                    ViewMode::Diagram => ViewMode::Both,
                    ViewMode::Both | ViewMode::Results => ViewMode::Cluster,
                }),
                "r" => view.set(if *view == ViewMode::Results { ViewMode::Cluster } else { ViewMode::Results }),
                "?" => help.set(!*help),
                "Escape" => help.set(false),
                _ => {}
            }
        });
        move || drop(listener)
    });
}

/// Whether a key is the page's: fields take every key, a focused button
/// takes the space bar, and keys with a modifier belong to the browser.
fn for_the_page(e: &web_sys::KeyboardEvent) -> bool {
    let tag = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).map(|el| el.tag_name());
    let typing = matches!(tag.as_deref(), Some("INPUT" | "TEXTAREA" | "SELECT"));
    !(typing || (tag.as_deref() == Some("BUTTON") && e.key() == " ") || e.ctrl_key() || e.meta_key() || e.alt_key())
}

/// Frames carry the diagram's records only while someone looks at them:
/// the diagram on screen, or an embedding page hearing the lab's notes.
#[hook]
fn use_diagram_records(state: &UseReducerHandle<AppState>, bridge: &Bridge, view: &UseStateHandle<ViewMode>) {
    let bridge = bridge.clone();
    let shown = state.schema.as_ref().is_some_and(|s| s.diagram) && (view.diagram() || api::parent().is_some());
    use_effect_with(shown, move |shown| bridge.send(ToWorker::Diagram(*shown)));
}

/// An experiment's table or a sweep's plan arriving opens the results view,
/// where they have room.
#[hook]
fn use_results_open(state: &UseReducerHandle<AppState>, view: &UseStateHandle<ViewMode>) {
    let answers = (state.table.as_ref().map_or(0, |t| t.2), state.tune.generation);
    let view = view.clone();
    use_effect_with(answers, move |answers| {
        if *answers != (0, 0) {
            view.set(ViewMode::Results);
        }
    });
}

/// What every layout shows, made once.
struct Parts {
    ctx: Ctx,
    error: Option<Html>,
    violation: Option<Html>,
    drawing: Html,
    view_switch: Option<Html>,
    help_overlay: Option<Html>,
    ondrop: Callback<DragEvent>,
    mode: ViewMode,
    timed: bool,
    /// Where the history view's "Show this moment" goes.
    go_to: Callback<clusterscope_core::sim::Time>,
    /// Whether the run's first frame has been painted (see
    /// [`use_after_first_paint`]).
    settled: bool,
}

impl Parts {
    /// The root's data attributes, read by the browser tests and benchmarks:
    /// time, frames, frame bytes, fingerprint, events.
    fn data(&self) -> [String; 5] {
        let state = &self.ctx.state;
        let frame = state.frame.as_ref();
        [
            frame.map_or(0, |f| f.time).to_string(),
            state.frames.to_string(),
            state.frame_bytes.to_string(),
            frame.map(|f| f.fingerprint_hex()).unwrap_or_default(),
            frame.map_or(0, |f| f.events).to_string(),
        ]
    }
}

/// The line shown while a lab's engine loads (its worker's first answer
/// ends it).
fn loading_line(state: &AppState) -> Option<Html> {
    let lab = state.loading.as_ref()?;
    let title = state.catalog.iter().find(|l| &l.name == lab).map(|l| l.title.clone());
    let line = match title {
        Some(t) => format!("Loading the {t} lab's engine…"),
        None => "Loading the simulator…".to_string(),
    };
    Some(html! { <div class="banner loading" role="status" id="engine-loading">{ line }</div> })
}

fn error_banner(state: &UseReducerHandle<AppState>) -> Option<Html> {
    state.error.clone().map(|e| {
        let d = state.dispatcher();
        html! {
            <div class="banner error" role="alert">
                <span>{ e }</span>
                <button aria-label="Dismiss message" onclick={Callback::from(move |_| d.dispatch(Msg::DismissError))}>{ "×" }</button>
            </div>
        }
    })
}

fn violation_banner(state: &AppState) -> Option<Html> {
    state.frame.as_ref().and_then(|f| f.violation.clone()).map(|v| {
        html! { <div class="banner violation" role="alert"><strong>{ "Invariant violated. " }</strong>{ v }</div> }
    })
}

/// The stage's drawing: the cluster (or the lab's own stage), the
/// diagram, or both.
fn drawing(
    ctx: &Ctx,
    own_stage: Option<fn(&Ctx) -> Html>,
    mode: ViewMode,
    diagram_view: &spacetime::Shared,
    show_run: Callback<()>,
) -> Html {
    let cluster_drawing = match own_stage {
        Some(stage) => stage(ctx),
        None => html! { <canvas::ClusterView ctx={ctx.clone()} /> },
    };
    let spacetime = html! { <spacetime::SpaceTime ctx={ctx.clone()} shared={diagram_view.clone()} /> };
    match mode {
        ViewMode::Cluster => cluster_drawing,
        ViewMode::Diagram => spacetime,
        ViewMode::Both => html! { <div class="both">{ cluster_drawing }{ spacetime }</div> },
        ViewMode::Results => html! { <results::Results ctx={ctx.clone()} {show_run} /> },
    }
}

fn view_switch(view: &UseStateHandle<ViewMode>, mode: ViewMode, diagram: bool) -> Html {
    let modes: &[ViewMode] = if diagram {
        &[ViewMode::Cluster, ViewMode::Diagram, ViewMode::Both, ViewMode::Results]
    } else {
        &[ViewMode::Cluster, ViewMode::Results]
    };
    let buttons = modes.iter().copied().map(|m| {
        let view = view.clone();
        let on = mode == m;
        let label = match m {
            ViewMode::Cluster => "Cluster",
            ViewMode::Diagram => "Diagram",
            ViewMode::Both => "Both",
            ViewMode::Results => "Results",
        };
        html! { <button aria-pressed={on.to_string()} class={classes!(on.then_some("on"))} onclick={Callback::from(move |_| view.set(m))}>{ label }</button> }
    });
    html! { <div class="view-switch" role="group" aria-label="View" title="d switches the drawing; r shows the results">{ for buttons }</div> }
}

fn help_overlay(help: &UseStateHandle<bool>) -> Html {
    let help = help.clone();
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onclick={Callback::from(move |_| help.set(false))}>
            <div class="help">
                <h2>{ "Keyboard shortcuts" }</h2>
                <table>{ for SHORTCUTS.iter().map(|(k, what)| html! { <tr><th><kbd>{ *k }</kbd></th><td>{ *what }</td></tr> }) }</table>
                <p>{ "Click anywhere or press Esc to close." }</p>
            </div>
        </div>
    }
}

/// A scenario file dropped on the page is opened; a history file (by its
/// name: `.edn`, `.json`, `.log`) is checked and shown in the history view.
fn on_drop(ctx: &Ctx, reader: Rc<RefCell<Option<gloo_file::callbacks::FileReader>>>) -> Callback<DragEvent> {
    let ctx = ctx.clone();
    Callback::from(move |e: DragEvent| {
        e.prevent_default();
        if let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            if history::is_history_file(&file.name()) {
                history::open_file(file, &ctx.state.dispatcher());
            } else {
                files::import(file, &ctx, &reader);
            }
        }
    })
}

/// The history view under the drawing: a history file opened, else the
/// run's clients' history (for a lab that has one), else nothing.
fn history_panel(state: &UseReducerHandle<AppState>, go_to: &Callback<clusterscope_core::sim::Time>) -> Html {
    let dispatch = state.dispatcher();
    let go_to = go_to.clone();
    match (&state.opened, &state.history) {
        (Some(shown), _) => html! { <history::HistoryView shown={shown.clone()} file={true} {dispatch} {go_to} /> },
        (None, Some(shown)) => html! { <history::HistoryView shown={shown.clone()} file={false} {dispatch} {go_to} /> },
        (None, None) => html! {},
    }
}

/// The layout for iframes: the drawing and the chosen controls.
fn embedded(p: Parts, controls: Controls) -> Html {
    let [time, frames, frame_bytes, fingerprint, events] = p.data();
    let ctx = &p.ctx;
    // Panels that follow at the text panels' pace, not every frame.
    let paced = ctx.paced();
    let full = {
        let loc = window().location();
        format!("{}#{}", loc.pathname().unwrap_or_default(), ctx.state.link)
    };
    let bar = match controls {
        Controls::None => html! {},
        Controls::Compact => html! {
            <div class="embed-bar">
                <panels::Transport ctx={paced.clone()} compact={true} />
                <a class="open-full" href={full} target="_blank" rel="noopener">{ "Open in ClusterScope ↗" }</a>
            </div>
        },
        Controls::Full => html! {
            <>
                <div class="embed-bar">
                    <panels::Transport ctx={paced.clone()} compact={true} />
                    { p.view_switch.clone().unwrap_or_default() }
                    <a class="open-full" href={full} target="_blank" rel="noopener">{ "Open in ClusterScope ↗" }</a>
                </div>
                if p.timed { <panels::Timeline ctx={paced.clone()} /> }
            </>
        },
    };
    let ondragover = Callback::from(|e: DragEvent| e.prevent_default());
    let (mode, ondrop) = (p.mode, p.ondrop);
    html! {
        <div class={classes!("embed", format!("view-{}", mode.name()))} data-time={time} data-frames={frames} data-frame-bytes={frame_bytes} data-lab={ctx.state.lab().to_string()} data-fingerprint={fingerprint} data-events={events} data-view={mode.name()}
            {ondragover} {ondrop}>
            <div class="banners">{ p.error }{ p.violation }</div>
            <story::CaptionBar ctx={paced.clone()} />
            { p.drawing }
            if mode != ViewMode::Results { { history_panel(&ctx.state, &p.go_to) } }
            { bar }
            <tune::TunePool ctx={paced} />
            { p.help_overlay.unwrap_or_default() }
        </div>
    }
}

/// The full page: header, stage, side panels, event log.
fn full_page(
    p: Parts,
    own: Option<&'static labs::LabView>,
    help: &UseStateHandle<bool>,
    diagram_view: &spacetime::Shared,
) -> Html {
    let [time, frames, frame_bytes, fingerprint, events] = p.data();
    let (ctx, state) = (&p.ctx, &p.ctx.state);
    // Panels that follow at the text panels' pace, not every frame.
    let paced = &ctx.paced();
    let lab = state.lab().to_string();
    let own_stage = own.and_then(|v| v.stage);
    let cluster = state.schema.as_ref().is_none_or(|s| s.cluster);
    let show_help = {
        let help = help.clone();
        Callback::from(move |_| help.set(true))
    };
    let ondragover = Callback::from(|e: DragEvent| e.prevent_default());
    let (mode, timed, ondrop) = (p.mode, p.timed, p.ondrop);
    html! {
        <div class={classes!("app", format!("view-{}", mode.name()))} data-time={time} data-frames={frames} data-frame-bytes={frame_bytes} data-lab={lab.clone()} data-fingerprint={fingerprint} data-events={events} data-view={mode.name()}
            {ondragover} {ondrop}>
            <header>
                <h1>{ "ClusterScope" }</h1>
                <nav aria-label="Labs">{ lab_tabs(ctx, &lab) }</nav>
                <panels::Presets lab={lab.clone()} catalog={state.catalog.clone()} bridge={ctx.bridge.clone()} />
                <files::Files ctx={paced.clone()} shared={diagram_view.clone()} diagram={mode.diagram()} />
                <panels::Share link={state.link.clone()} />
                <button class="help-button" aria-label="Keyboard shortcuts" aria-keyshortcuts="?" onclick={show_help}>{ "?" }</button>
            </header>
            // One element always, so that the banners coming and going
            // (the engine's loading line) never rebuilds the header above
            // (a file being picked in it would be lost).
            <div class="banners">{ p.error }{ p.violation }</div>
            <main>
                <section class="stage" aria-label="Lab">
                    <div class="stage-bar">
                        <panels::Transport ctx={paced.clone()} compact={false} />
                        { p.view_switch.unwrap_or_default() }
                    </div>
                    if cluster && own_stage.is_none() { <FirstHint /> }
                    <story::Story ctx={paced.clone()} />
                    <story::CaptionBar ctx={paced.clone()} />
                    { p.drawing }
                    if mode != ViewMode::Results { { history_panel(state, &p.go_to) } }
                    if cluster && own_stage.is_none() && timed && mode != ViewMode::Results { <narration::Narration ctx={paced.clone()} /> }
                    if timed { <panels::Timeline ctx={paced.clone()} /> }
                    if timed { <story::Script ctx={paced.clone()} /> }
                    if mode != ViewMode::Results {
                        if let (true, true, None, Some(schema)) = (p.settled, cluster, own_stage, state.schema.clone()) {
                            <panels::NodeTable {schema} nodes={state.shown.nodes.clone()} selected={state.selected} dispatch={state.dispatcher()} playing={state.status.playing} run={state.runs} />
                        }
                        { own.map(|v| (v.below)(paced)).unwrap_or_default() }
                    }
                </section>
                // The results view has the width of the page.
                <aside hidden={mode == ViewMode::Results}>
                    if cluster && own_stage.is_none() { <panels::NodePanel ctx={paced.clone()} /> }
                    <panels::Metrics ctx={paced.clone()} />
                    <panels::Charts ctx={paced.clone()} />
                    { settings(ctx, |p| html! { <panels::Network ..p /> }) }
                    { own.map(|v| (v.side)(paced)).unwrap_or_default() }
                    if p.settled { { settings(ctx, |p| html! { <panels::Setup ..p /> }) } }
                </aside>
            </main>
            <section class="bottom">
                <panels::EventLog log={state.shown.log.clone()} total={state.shown.log_total} playing={state.status.playing} run={state.runs} />
            </section>
            if timed { <footer>{ format!("virtual time {}", format_clock(state.shown.frame.as_ref().map_or(0, |f| f.time))) }</footer> }
            <tune::TunePool ctx={paced.clone()} />
            { p.help_overlay.unwrap_or_default() }
        </div>
    }
}

/// Where the page remembers that the first hint was dismissed.
const HINT_KEY: &str = "clusterscope.hint-dismissed";

/// One line for a newcomer, above the drawing until dismissed (remembered
/// in the browser's local storage): what to try first. Never a modal.
#[function_component]
fn FirstHint() -> Html {
    let shown = use_state(|| !view::remembered(HINT_KEY));
    if !*shown {
        return html! {};
    }
    let dismiss = {
        let shown = shown.clone();
        Callback::from(move |_| {
            view::remember(HINT_KEY, true);
            shown.set(false);
        })
    };
    html! {
        <p class="first-hint" role="note">
            { "Click a node to act on it (crash it, restart it, cut it off), or pick a story from Scenario." }
            <button class="link" aria-label="Dismiss the hint" onclick={dismiss}>{ "×" }</button>
        </p>
    }
}

/// One tab per lab; a tab opens its lab's first preset, playing.
fn lab_tabs(ctx: &Ctx, lab: &str) -> Html {
    let tabs = ctx.state.catalog.iter().map(|info| {
        let b = ctx.bridge.clone();
        let active = lab == info.name;
        let name = info.name.clone();
        let onclick = Callback::from(move |_| {
            if !active {
                b.send(ToWorker::LoadPreset { lab: name.clone(), index: 0 });
                b.send(ToWorker::Play);
            }
        });
        html! {
            <button class={classes!("tab", active.then_some("active"))} aria-current={active.then_some("page")} title={info.about.clone()} {onclick}>{ info.title.clone() }</button>
        }
    });
    html! { <>{ for tabs }</> }
}

/// A settings panel, given only what it depends on.
fn settings(ctx: &Ctx, panel: impl Fn(panels::SettingsProps) -> Html) -> Html {
    match &ctx.state.settings {
        Some(settings) => panel(panels::SettingsProps {
            settings: settings.clone(),
            // Partitions and one-way cuts, for labs that have a network.
            cluster: ctx.state.schema.as_ref().is_some_and(|s| s.verbs.iter().any(|v| v == "partition")),
            bridge: ctx.bridge.clone(),
            dispatch: ctx.state.dispatcher(),
        }),
        None => html! {},
    }
}

/// The browser benchmark: `?bench=1`. Runs standard workloads in the worker
/// and shows events and messages per second, for `tests/e2e/bench.mjs`.
#[function_component]
pub fn BenchPanel(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let result = ctx.state.bench.clone();
    let benches: Vec<LabInfo> = ctx.state.catalog.iter().filter(|l| l.bench).cloned().collect();
    html! {
        <div class="bench">
            <h1>{ "ClusterScope engine benchmark" }</h1>
            <p>{ "Each lab's steady workload (its bench.scn), run in the Web Worker (wasm)." }</p>
            { for benches.iter().map(|l| html! {
                <button id={format!("run-{}-bench", l.name)} onclick={ctx.bridge.cb(ToWorker::Bench(l.name.clone()))}>{ format!("Run {}", l.title) }</button>
            }) }
            if let Some(r) = result {
                <pre id="bench-result" data-run={ctx.state.bench_runs.to_string()} data-events={r.events.to_string()} data-delivered={r.delivered.to_string()} data-committed={r.committed.to_string()} data-requests={r.requests.to_string()}
                    data-millis={r.millis.to_string()} data-fingerprint={r.fingerprint.clone()}>
                    { format!("{} events, {} messages delivered in {:.1} ms: {:.0} events/s, {:.0} messages/s; fingerprint {}",
                        r.events, r.delivered, r.millis, r.events as f64 / r.millis * 1e3, r.delivered as f64 / r.millis * 1e3, r.fingerprint) }
                </pre>
            }
            { for ctx.state.catalog.iter().filter_map(|l| labs::find(&l.name)).filter_map(|v| v.bench).map(|panel| panel(ctx)) }
            if let Some(e) = ctx.state.error.clone() { <p role="alert">{ e }</p> }
        </div>
    }
}
