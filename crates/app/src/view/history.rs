//! The history view: what the clients saw, one lane per client, each
//! operation a bar from its call to its return, labelled with what it did
//! and answered (one that never returned is drawn open to the right, since
//! it may take effect any time later, or never). When the history is
//! linearizable, each operation's linearization point is a dot on its bar
//! and a line joins the dots in the order found; when it is not, the
//! operations that cannot be ordered are lit up and the reason is said in
//! words. This is how Porcupine's visualiser and Jepsen's timelines show a
//! history: the reader sees where the story breaks, not only that it does.
//!
//! Time runs left to right as in the space-time diagram, with its window,
//! zoom and tick steps (`spacetime::Window`, `tick_step`), so a stale read
//! here can be followed to the messages behind it there. The history is the
//! run's (its lab's worker checks it) or a file opened with "Open history"
//! or dropped on the page (read and checked by the checker's worker,
//! [`crate::history`], started only then).

use super::spacetime::{tick_label, tick_step, Window, GUTTER as AXIS_GUTTER};
use crate::ctx::spawn_script;
use crate::history::{Checked, HistoryShown, HistoryWorker, OpenFile};
use crate::state::{AppState, Msg};
use clusterscope_core::history::{Entry, ModelKind, Value};
use clusterscope_core::sim::time::format_duration;
use clusterscope_core::sim::Time;
use gloo_worker::{Spawnable, WorkerBridge};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Most bars drawn at once (the rest in the window are counted and said).
pub const MAX_BARS: usize = 3_000;
/// Height of a client's lane, in CSS pixels.
const LANE: f64 = 30.0;
/// Height of the time axis above the lanes.
const AXIS: f64 = 22.0;
/// The lanes' labels' width.
const GUTTER: f64 = AXIS_GUTTER + 24.0;
/// Largest history file read.
const MAX_FILE: f64 = 16.0 * 1024.0 * 1024.0;

thread_local! {
    /// The checker's worker, started with the first file opened.
    static CHECKER: RefCell<Option<WorkerBridge<HistoryWorker>>> = const { RefCell::new(None) };
    /// The last file opened, to check again with another model or value.
    static LAST_FILE: RefCell<Option<OpenFile>> = const { RefCell::new(None) };
    /// Requests made so far.
    static REQUESTS: Cell<u64> = const { Cell::new(0) };
    /// The file being read (dropping it would cancel the read).
    static READING: RefCell<Option<gloo_file::callbacks::FileReader>> = const { RefCell::new(None) };
}

/// Reads and checks a history file in the checker's worker (started now if
/// it is not yet): `model` `None` guesses it from the operations.
pub fn open_text(
    name: String,
    text: String,
    model: Option<ModelKind>,
    initial: String,
    d: &UseReducerDispatcher<AppState>,
) {
    let tag = REQUESTS.with(|r| {
        r.set(r.get() + 1);
        r.get()
    });
    let req = OpenFile { name, text, model, initial, tag };
    LAST_FILE.with(|f| *f.borrow_mut() = Some(req.clone()));
    d.dispatch(Msg::Opening(tag));
    CHECKER.with(|c| {
        let mut c = c.borrow_mut();
        let bridge = c.get_or_insert_with(|| {
            let d = d.clone();
            let mut spawner = HistoryWorker::spawner();
            spawner.callback(move |out| d.dispatch(Msg::Opened(out)));
            spawn_script(&mut spawner, "checker")
        });
        bridge.send(req);
    });
}

/// Checks the last file opened again with another model or first value.
fn recheck(model: Option<ModelKind>, initial: Option<String>, d: &UseReducerDispatcher<AppState>) {
    let Some(last) = LAST_FILE.with(|f| f.borrow().clone()) else { return };
    let model = model.or(last.model);
    open_text(last.name, last.text, model, initial.unwrap_or(last.initial), d);
}

/// Reads a history file the user picked or dropped, then checks it.
pub fn open_file(file: web_sys::File, d: &UseReducerDispatcher<AppState>) {
    let name = file.name();
    if file.size() > MAX_FILE {
        let mb = file.size() / 1e6;
        d.dispatch(Msg::Error(format!(
            "{name} is {mb:.1} MB: a history file is at most 16 MB. What was on screen was kept."
        )));
        return;
    }
    // A file opened again keeps the model and value chosen for the last.
    let (model, initial) =
        LAST_FILE.with(|f| f.borrow().as_ref().map(|l| (l.model, l.initial.clone()))).unwrap_or_default();
    let d = d.clone();
    let reader = gloo_file::callbacks::read_as_text(&gloo_file::File::from(file).into(), move |r| match r {
        Ok(text) => open_text(name, text, model, initial, &d),
        Err(e) => d.dispatch(Msg::Error(format!("{name} could not be read ({e}). What was on screen was kept."))),
    });
    READING.with(|r| *r.borrow_mut() = Some(reader));
}

/// Whether a file's name says it is a history (Jepsen's `.edn` or `.log`,
/// Porcupine's `.json`) rather than a scenario.
pub fn is_history_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".edn", ".json", ".log"].iter().any(|ext| lower.ends_with(ext))
}

/// Props of [`OpenHistory`].
#[derive(Properties, Clone, PartialEq)]
pub struct OpenHistoryProps {
    /// Where the answer goes.
    pub dispatch: UseReducerDispatcher<AppState>,
}

/// "Open history…": a file picker for a Jepsen or Porcupine history.
#[function_component]
pub fn OpenHistory(props: &OpenHistoryProps) -> Html {
    let d = props.dispatch.clone();
    let onchange = Callback::from(move |e: Event| {
        let Some(input) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            open_file(file, &d);
        }
        input.set_value("");
    });
    html! {
        <label class="button open-history" title="Open a Jepsen EDN history, a Jepsen log or Porcupine JSON, and check it for linearizability (or drop the file on the page)">
            { "Open history…" }
            <input type="file" accept=".edn,.json,.log,.txt" aria-label="Open history" class="visually-hidden" {onchange} />
        </label>
    }
}

/// Places lanes and times.
struct Geometry {
    left: Time,
    span: Time,
    w: f64,
}

impl Geometry {
    fn x(&self, t: Time) -> f64 {
        GUTTER + (t as f64 - self.left as f64) / self.span as f64 * (self.w - GUTTER - 10.0)
    }
    fn t(&self, x: f64) -> Time {
        let f = ((x - GUTTER) / (self.w - GUTTER - 10.0)).clamp(0.0, 1.0);
        self.left + (f * self.span as f64) as Time
    }
}

/// A time as the axis and the details say it: the run's virtual time, or
/// a file's own number.
fn when(t: Time, virtual_time: bool) -> String {
    if virtual_time {
        format_duration(t)
    } else {
        t.to_string()
    }
}

/// What an operation did and answered, with its key if it has one.
fn op_text(e: &Entry) -> String {
    match &e.key {
        Value::Nil => e.op.to_string(),
        key => format!("{key}: {}", e.op),
    }
}

/// The window that shows the whole history: a file's from its first
/// operation to its last; a run's from its start, following it.
fn whole(h: &HistoryShown) -> Window {
    let (first, last) = h.span();
    let first = if h.virtual_time { 0 } else { first };
    let pad = ((last - first) / 25).max(1);
    let right = (!h.virtual_time).then_some(last + pad);
    Window { span: last - first + 2 * pad, right }
}

/// Props of [`HistoryView`]: equal while they hold the same history (the
/// state replaces it whole when a new one comes), so the page's frames do
/// not compare every operation.
#[derive(Properties, Clone)]
pub struct HistoryViewProps {
    /// The history and its verdict.
    pub shown: Rc<HistoryShown>,
    /// Whether it is a file's (then it can be checked again and closed).
    pub file: bool,
    /// Where a file's new model or value goes.
    pub dispatch: UseReducerDispatcher<AppState>,
    /// Takes the run to a time ("Show this moment", for a run's history;
    /// made once by the page, so it is not compared).
    pub go_to: Callback<Time>,
}

impl PartialEq for HistoryViewProps {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.shown, &o.shown) && self.file == o.file && self.dispatch == o.dispatch
    }
}

/// The history view, with its controls, verdict and the operation clicked.
#[function_component]
pub fn HistoryView(props: &HistoryViewProps) -> Html {
    let h = &props.shown;
    // The window the user zoomed or scrolled to; `None`: the whole
    // history (a run's grows, and the window with it).
    let chosen_win = use_state(|| None::<Window>);
    let chosen = use_state(|| None::<usize>);
    let width = use_state(|| 960.0);
    let node = use_node_ref();
    // Another history (a file, another run) is shown whole.
    {
        let (chosen_win, chosen) = (chosen_win.clone(), chosen.clone());
        let key = (h.source.clone(), h.entries.first().map(|e| e.call), props.file);
        use_effect_with(key, move |_| {
            chosen_win.set(None);
            chosen.set(None);
        });
    }
    use_width(node.clone(), width.clone());
    let win = (*chosen_win).unwrap_or_else(|| whole(h));
    let (_, last) = h.span();
    let (left, right) = win.edges(last);
    let g = Geometry { left, span: (right - left).max(1), w: *width };
    use_history_wheel(node.clone(), (chosen_win.clone(), win), (left, g.span, *width), last);
    let drag = use_mut_ref(|| None::<Drag>);
    let (onmousedown, onmousemove) = drag_handlers(&drag, &chosen_win, win, g.left + g.span, *width - GUTTER - 10.0);
    let clients = clients(h);
    let drawing = lanes_svg(h, &g, &clients, (&chosen, &drag));
    let go_to = (!props.file).then_some(&props.go_to);
    let detail = chosen.and_then(|i| h.entries.get(i).map(|e| detail(h, i, e, go_to)));
    html! {
        <section class="history panel" aria-label="History">
            { header(props, &chosen_win, win, last) }
            { verdict(h) }
            <div class="history-wrap" ref={node} {onmousedown} {onmousemove}>{ drawing }</div>
            { detail.unwrap_or_default() }
        </section>
    }
}

/// A drag under way or just ended: where it started, the window's right
/// edge then, and whether it moved (then the click that ends it is not a
/// click on an operation).
type Drag = (f64, Time, bool);

/// Dragging scrolls the window, as on the space-time diagram.
fn drag_handlers(
    drag: &Rc<RefCell<Option<Drag>>>,
    set: &UseStateHandle<Option<Window>>,
    win: Window,
    right: Time,
    width: f64,
) -> (Callback<MouseEvent>, Callback<MouseEvent>) {
    let down = {
        let drag = drag.clone();
        Callback::from(move |e: MouseEvent| *drag.borrow_mut() = Some((f64::from(e.client_x()), right, false)))
    };
    let (drag, set) = (drag.clone(), set.clone());
    let moved = Callback::from(move |e: MouseEvent| {
        let mut d = drag.borrow_mut();
        let Some((x0, right0, moved)) = d.as_mut() else { return };
        let dx = f64::from(e.client_x()) - *x0;
        if e.buttons() & 1 == 1 && (dx.abs() > 3.0 || *moved) {
            *moved = true;
            set.set(Some(win.dragged(*right0, dx, width)));
        }
    });
    (down, moved)
}

/// The clients, in order, each a lane.
fn clients(h: &HistoryShown) -> Vec<u64> {
    let mut c: Vec<u64> = h.entries.iter().map(|e| e.client).collect();
    c.sort_unstable();
    c.dedup();
    c
}

/// Follows the drawing's width on screen (it is drawn at that width, so
/// text stays legible on a phone).
#[hook]
fn use_width(node: NodeRef, width: UseStateHandle<f64>) {
    use_effect(move || {
        if let Some(el) = node.cast::<web_sys::Element>() {
            let w = f64::from(el.client_width());
            if w >= 200.0 && (w - *width).abs() > 1.0 {
                width.set(w);
            }
        }
    });
}

/// The wheel zooms around the pointer and, with shift (or sideways),
/// scrolls, as on the space-time diagram (the same window arithmetic).
#[hook]
fn use_history_wheel(
    node: NodeRef,
    wins: (UseStateHandle<Option<Window>>, Window),
    shown: (Time, Time, f64),
    now: Time,
) {
    let (left, span, w) = shown;
    let (set, win) = wins;
    use_effect_with((win, left, span, w as i64, now), move |_| {
        let listener = node.cast::<web_sys::Element>().map(|el| {
            let target = el.clone();
            let opts = gloo_events::EventListenerOptions::enable_prevent_default();
            gloo_events::EventListener::new_with_options(&el, "wheel", opts, move |e| {
                let Some(e) = e.dyn_ref::<web_sys::WheelEvent>() else { return };
                e.prevent_default();
                let g = Geometry { left, span, w };
                let x = f64::from(e.client_x()) - target.get_bounding_client_rect().left();
                let (dx, dy) = (e.delta_x(), e.delta_y());
                if e.shift_key() || dx.abs() > dy.abs() {
                    set.set(Some(win.scrolled(left, span, if dx.abs() > dy.abs() { dx } else { dy })));
                } else {
                    set.set(Some(win.zoomed(left, span, (g.t(x), now), dy, 2)));
                }
            })
        });
        move || drop(listener)
    });
}

/// The title, zoom buttons and, for a file, its model, first value and
/// Close.
fn header(props: &HistoryViewProps, set: &UseStateHandle<Option<Window>>, win: Window, last: Time) -> Html {
    let h = &props.shown;
    let zoom = |factor: f64| {
        let set = set.clone();
        Callback::from(move |_| {
            let span = ((win.span as f64 * factor) as Time).max(2);
            let (left, right) = win.edges(last);
            // Around the middle of what is shown.
            let right = ((left + right) / 2 + span / 2).max(span);
            set.set(Some(Window { span, right: Some(right) }));
        })
    };
    let fit = {
        let set = set.clone();
        Callback::from(move |_| set.set(None))
    };
    let file_controls = props.file.then(|| file_controls(h, &props.dispatch));
    html! {
        <div class="history-bar" role="toolbar" aria-label="History controls">
            <h2>{ format!("History: {}", h.source) }</h2>
            <button onclick={zoom(0.5)} aria-label="Zoom in on the history">{ "+" }</button>
            <button onclick={zoom(2.0)} aria-label="Zoom out of the history">{ "–" }</button>
            <button onclick={fit} title="Show every operation">{ "Whole history" }</button>
            { file_controls.unwrap_or_else(|| html! { <span class="history-model">{ format!("model: {}", h.model.name()) }</span> }) }
        </div>
    }
}

/// A file's model and first value (changing either checks it again), and
/// Close.
fn file_controls(h: &HistoryShown, d: &UseReducerDispatcher<AppState>) -> Html {
    let on_model = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            let value = super::panels::input_value(&e);
            if let Ok(m) = ModelKind::parse(&value) {
                recheck(Some(m), None, &d);
            }
        })
    };
    let on_initial = {
        let d = d.clone();
        Callback::from(move |e: Event| recheck(None, Some(super::panels::input_value(&e)), &d))
    };
    let close = {
        let d = d.clone();
        Callback::from(move |_| d.dispatch(Msg::CloseOpened))
    };
    html! {
        <>
            <label>{ "Model " }
                <select aria-label="Model" onchange={on_model}>
                    { for ModelKind::ALL.iter().map(|m| html! { <option value={m.name()} selected={*m == h.model}>{ m.name() }</option> }) }
                </select>
            </label>
            <label>{ "First value " }
                <input aria-label="First value" size="6" value={h.initial.to_string()} onchange={on_initial} title="Every key's value before the first operation: nil, a number or a string" />
            </label>
            <button onclick={close} aria-label="Close the history file">{ "Close" }</button>
        </>
    }
}

/// The verdict in words.
fn verdict(h: &HistoryShown) -> Html {
    let (class, text) = match &h.verdict {
        Checked::Linearizable { .. } => (
            "ok",
            format!(
                "Linearizable: each of the {} operations takes effect at one instant between its call and its return (the dots), in the order the line joins, as a {} allows.",
                h.entries.len(),
                h.model.name()
            ),
        ),
        Checked::NotLinearizable { ops, reason, .. } => (
            "bad",
            format!("Not linearizable: these {} operations cannot be put in any order a {} allows (lit up). {reason}", ops.len(), h.model.name()),
        ),
        Checked::GaveUp { message } => ("unknown", format!("No verdict: {message}")),
        Checked::Refused(e) => ("bad", format!("Cannot check this history: {e}.")),
    };
    // How long the check took, where the worker timed it: an engineer
    // judging the checker (or a history too big for it) wants the figure.
    let took = h.check_ms.map(
        |ms| html! { <span class="took" aria-label="Check time">{ format!(" Checked in {}.", format_ms(ms)) }</span> },
    );
    html! { <p class={classes!("verdict", class)} role="status" aria-label="Verdict">{ text }{ for took }</p> }
}

/// A wall-clock duration in ms, with the digits that matter.
fn format_ms(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1e3)
    }
}

/// What each operation is in the verdict: its point, or whether it is lit.
struct Marks {
    points: Option<Vec<u64>>,
    lit: Vec<bool>,
}

impl Marks {
    fn of(h: &HistoryShown) -> Marks {
        let mut lit = vec![false; h.entries.len()];
        let points = match &h.verdict {
            Checked::Linearizable { points, .. } => Some(points.clone()),
            Checked::NotLinearizable { ops, .. } => {
                let n = lit.len();
                for &i in ops.iter().filter(|i| **i < n) {
                    lit[i] = true;
                }
                None
            }
            _ => None,
        };
        Marks { points, lit }
    }
}

/// The lanes, the axis, the bars and the linearization, as SVG.
fn lanes_svg(
    h: &HistoryShown,
    g: &Geometry,
    clients: &[u64],
    (chosen, drag): (&UseStateHandle<Option<usize>>, &Rc<RefCell<Option<Drag>>>),
) -> Html {
    let height = AXIS + LANE * clients.len().max(1) as f64 + 6.0;
    let right = g.left + g.span;
    let in_view: Vec<usize> = (0..h.entries.len())
        .filter(|&i| {
            let e = &h.entries[i];
            e.call <= right && e.ret.is_none_or(|r| r >= g.left)
        })
        .collect();
    let marks = Marks::of(h);
    let lane_of = |c: u64| clients.binary_search(&c).unwrap_or(0);
    let y = |i: usize| AXIS + LANE * (lane_of(h.entries[i].client) as f64 + 0.5);
    let bars = in_view.iter().take(MAX_BARS).map(|&i| bar(h, g, (i, y(i)), &marks, (chosen, drag)));
    let line = linearization(h, g, &marks, &y);
    let label = format!(
        "History: {} operations of {} clients, {} in view from {} to {}",
        h.entries.len(),
        clients.len(),
        in_view.len(),
        when(g.left, h.virtual_time),
        when(right, h.virtual_time)
    );
    html! {
        <>
            <svg class="history-lanes" width={format!("{:.0}", g.w)} height={format!("{height:.0}")} role="group" aria-label={label}
                data-ops={in_view.len().min(MAX_BARS).to_string()} data-left={g.left.to_string()} data-right={right.to_string()}>
                { axis(g, height, h.virtual_time) }
                { for clients.iter().enumerate().map(|(k, c)| lane(*c, AXIS + LANE * (k as f64 + 0.5), g.w)) }
                { for bars }
                { line }
            </svg>
            if in_view.len() > MAX_BARS {
                <p class="note">{ format!("{} of the {} operations in view are drawn: zoom in to see every one.", MAX_BARS, in_view.len()) }</p>
            }
        </>
    }
}

/// Ticks at round times, with their labels.
fn axis(g: &Geometry, height: f64, virtual_time: bool) -> Html {
    let step = tick_step(g.span, g.w);
    let right = g.left + g.span;
    let ticks = (g.left.div_ceil(step)..).map(|k| k * step).take_while(|t| *t <= right).take(60);
    html! {
        <g class="axis">
            { for ticks.map(|t| {
                let x = g.x(t);
                let text = if virtual_time { tick_label(t, step) } else { t.to_string() };
                html! { <>
                    <line x1={format!("{x:.1}")} x2={format!("{x:.1}")} y1={format!("{:.0}", AXIS - 4.0)} y2={format!("{height:.0}")} />
                    <text x={format!("{x:.1}")} y="11">{ text }</text>
                </> }
            }) }
        </g>
    }
}

/// A client's lane: its name and a faint line.
fn lane(client: u64, y: f64, w: f64) -> Html {
    html! {
        <g class="lane">
            <text x="4" y={format!("{:.1}", y + 4.0)}>{ format!("client {client}") }</text>
            <line x1={format!("{GUTTER:.0}")} x2={format!("{w:.0}")} y1={format!("{y:.1}")} y2={format!("{y:.1}")} />
        </g>
    }
}

/// One operation's bar, labelled, clickable.
fn bar(
    h: &HistoryShown,
    g: &Geometry,
    (i, y): (usize, f64),
    marks: &Marks,
    (chosen, drag): (&UseStateHandle<Option<usize>>, &Rc<RefCell<Option<Drag>>>),
) -> Html {
    let e = &h.entries[i];
    let x1 = g.x(e.call).max(GUTTER - 4.0);
    let x2 = e.ret.map_or(g.w - 4.0, |r| g.x(r)).min(g.w - 2.0).max(x1 + 3.0);
    let text = op_text(e);
    let room = ((x2 - x1 - 8.0) / 6.5).max(0.0) as usize;
    let shown_text: String = if text.chars().count() <= room {
        text.clone()
    } else {
        text.chars().take(room.saturating_sub(1)).chain(['…']).collect()
    };
    let class = classes!(
        "op",
        marks.lit[i].then_some("lit"),
        (!marks.lit[i] && marks.lit.iter().any(|l| *l)).then_some("faded"),
        e.ret.is_none().then_some("pending"),
        (**chosen == Some(i)).then_some("chosen")
    );
    let onclick = {
        let (chosen, drag) = (chosen.clone(), drag.clone());
        // The end of a drag is not a click.
        Callback::from(move |_| {
            if !drag.borrow_mut().take().is_some_and(|(_, _, moved)| moved) {
                chosen.set(Some(i));
            }
        })
    };
    let returned =
        e.ret.map_or_else(|| "never returned".to_string(), |r| format!("returned {}", when(r, h.virtual_time)));
    let label = format!("client {}: {text}, called {}, {returned}", e.client, when(e.call, h.virtual_time));
    html! {
        <g {class} data-op={i.to_string()} role="button" tabindex="0" aria-label={label} {onclick}>
            <rect x={format!("{x1:.1}")} y={format!("{:.1}", y - 9.0)} width={format!("{:.1}", x2 - x1)} height="18" rx="3" />
            if room >= 2 {
                <text x={format!("{:.1}", x1 + 4.0)} y={format!("{:.1}", y + 4.0)}>{ shown_text }</text>
            }
        </g>
    }
}

/// The linearization points as dots, joined in the order found (key by
/// key: a line never joins two keys).
fn linearization(h: &HistoryShown, g: &Geometry, marks: &Marks, y: &dyn Fn(usize) -> f64) -> Html {
    let (Some(points), Checked::Linearizable { order, .. }) = (&marks.points, &h.verdict) else {
        return html! {};
    };
    let at = |i: usize| (g.x(points[i]), y(i));
    let mut paths: Vec<String> = Vec::new();
    let mut prev: Option<usize> = None;
    for &i in order.iter().filter(|i| **i < points.len()) {
        let (x, yy) = at(i);
        match prev {
            Some(p) if h.entries[p].key == h.entries[i].key => {
                if let Some(path) = paths.last_mut() {
                    path.push_str(&format!(" L{x:.1},{yy:.1}"));
                }
            }
            _ => paths.push(format!("M{x:.1},{yy:.1}")),
        }
        prev = Some(i);
    }
    let (left, right) = (g.left, g.left + g.span);
    let dots = order.iter().filter(|i| **i < points.len() && (left..=right).contains(&points[**i]));
    html! {
        <g class="linearization">
            { for paths.iter().map(|d| html! { <path d={d.clone()} /> }) }
            { for dots.map(|&i| {
                let (x, yy) = at(i);
                html! { <circle class="point" data-op={i.to_string()} cx={format!("{x:.1}")} cy={format!("{yy:.1}")} r="3.5" /> }
            }) }
        </g>
    }
}

/// What the clicked operation did, when, and where the verdict puts it.
fn detail(h: &HistoryShown, i: usize, e: &Entry, go_to: Option<&Callback<Time>>) -> Html {
    let t = |x: Time| when(x, h.virtual_time);
    let returned =
        e.ret.map_or_else(|| "never: it may take effect at any time after its call, or never".to_string(), t);
    let place = match &h.verdict {
        Checked::Linearizable { order, points } => {
            let n = order.iter().position(|&o| o == i).map_or(0, |p| p + 1);
            points.get(i).map(|p| format!("takes effect at {} (number {n} in the order)", t(*p)))
        }
        Checked::NotLinearizable { ops, order, .. } if ops.contains(&i) => {
            Some(match order.iter().position(|&o| o == i) {
                Some(p) => {
                    format!("one of the operations that cannot be ordered; number {} in the longest order found", p + 1)
                }
                None => "one of the operations that cannot be ordered; not in the longest order found".to_string(),
            })
        }
        Checked::NotLinearizable { .. } => Some("not needed to show the history is not linearizable".to_string()),
        _ => None,
    };
    html! {
        <dl class="op-detail" aria-label="Operation">
            <dt>{ "Operation" }</dt><dd>{ format!("{} of {}", i + 1, h.entries.len()) }</dd>
            <dt>{ "Client" }</dt><dd>{ e.client }</dd>
            if e.key != Value::Nil { <dt>{ "Key" }</dt><dd>{ e.key.to_string() }</dd> }
            <dt>{ "Did" }</dt><dd>{ e.op.to_string() }</dd>
            <dt>{ "Called" }</dt><dd>{ t(e.call) }</dd>
            <dt>{ "Returned" }</dt><dd>{ returned }</dd>
            if let Some(p) = place { <dt>{ "Verdict" }</dt><dd>{ p }</dd> }
            if let Some(go) = show_moment(e, go_to) { <dt>{ "In the run" }</dt><dd>{ go }</dd> }
        </dl>
    }
}

/// For a run's operation: a button that takes the run to the moment it
/// returned (or was called, if it never returned), paused, with the
/// space-time diagram beside the drawing, so the messages behind it (a
/// stale read's missing round trip, say) can be followed.
fn show_moment(e: &Entry, go_to: Option<&Callback<Time>>) -> Option<Html> {
    let go = go_to?.clone();
    let t = e.ret.unwrap_or(e.call);
    let onclick = Callback::from(move |_| go.emit(t));
    let what = if e.ret.is_some() { "returned" } else { "was called" };
    Some(html! {
        <button {onclick} title="Pause the run there and show the messages in the space-time diagram">
            { format!("Show the moment it {what} ({})", when(t, true)) }
        </button>
    })
}
