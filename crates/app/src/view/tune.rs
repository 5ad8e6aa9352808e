//! Tune: a parameter sweep over many seeds, run by a pool of Web Workers.
//!
//! The template is the whole scenario (its actions, recorded or still to
//! come) run to its end, its `until`, or to the duration the user sets;
//! the form says which, and a metric that measures nothing in that window
//! is named before anything runs. The form and the results live in the
//! results view, at the page's width; the pool ([`TunePool`]) lives outside
//! it, so a sweep goes on while the drawing is shown. The main
//! worker checks the sweep and plans it; the page then starts a pool of
//! workers (as many as the machine has cores, or as chosen), hands each its
//! share of the runs in small chunks, and summarises what comes back with
//! the same code as `clusterscope sweep` (runs are sorted before they are
//! summarised, so the numbers do not depend on the pool). Cancel drops the
//! pool, which stops its workers.

use super::panels::Field;
use super::results::{ChartView, ResultTable};
use crate::codec::last_decoded_bytes;
use crate::ctx::{Bridge, Ctx, PanelProps};
use crate::protocol::{FromWorker, ToWorker, TuneSpec};
use crate::state::{AppState, Msg};
use crate::worker::SimWorker;
use clusterscope_core::lab::{Better, Cell, Column, Schema, Settings, Table, Unit};
use clusterscope_core::scenario::{Expect, TuneDef};
use clusterscope_core::sim::time::{format_duration, parse_duration};
use clusterscope_core::sweep::{search, summarise_shape, Goal, PointRow, Shape, UnitResult};
use gloo_worker::WorkerBridge;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

fn value_of(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value())
        .or_else(|| e.target().and_then(|t| t.dyn_into::<HtmlSelectElement>().ok()).map(|s| s.value()))
        .unwrap_or_default()
}

fn cores() -> u32 {
    web_sys::window().map_or(2.0, |w| w.navigator().hardware_concurrency()).clamp(1.0, 64.0) as u32
}

/// Props of [`Tune`].
#[derive(Properties, Clone, PartialEq)]
pub struct TuneProps {
    /// State and worker.
    pub ctx: Ctx,
    /// Shows the run a row opened.
    pub show_run: Callback<()>,
}

/// The pool of workers of the sweep under way: mounted with the page, so
/// that switching views does not stop a sweep.
#[function_component]
pub fn TunePool(props: &PanelProps) -> Html {
    let workers = props.ctx.state.tune_workers.max(1).to_string();
    use_pool(&props.ctx.state, &workers);
    html! {}
}

/// The Tune panel: the form, then the sweep's progress and results.
#[function_component]
pub fn Tune(props: &TuneProps) -> Html {
    let ctx = &props.ctx;
    let state = &ctx.state;
    let form = use_form();
    use_form_from_scenario(&form, state.settings.as_ref().and_then(|s| s.tune.clone()));
    let Some(settings) = state.settings.clone() else { return html! {} };
    let Some(schema) = state.schema.clone() else { return html! {} };
    let tune = state.tune.clone();
    let ask = Ask::read(&form, &schema, &settings);
    let on_run = on_run(ctx, &form, &ask);
    let on_cancel = {
        let d = state.dispatcher();
        Callback::from(move |_| d.dispatch(Msg::TuneCancel))
    };
    let total = tune.shape.as_ref().map_or(0, |s| s.units());
    let done = tune.results.len() as u64;
    let rows: Option<Vec<PointRow>> = (!tune.running)
        .then(|| tune.shape.as_ref().map(|s| summarise_shape(s, &tune.results)))
        .flatten()
        .filter(|r| !r.is_empty());
    let best = best(&form, &ask, rows.as_deref(), tune.shape.as_ref());
    let end = state.status.end;
    let window = match parse_duration(form.until.trim()) {
        Some(t) if !form.until.trim().is_empty() => format!("0 to {} (the duration set here)", format_duration(t)),
        _ if end > 0 => format!("0 to {} (the scenario's until)", format_duration(end)),
        _ => "not set: this scenario has no until, give a duration".to_string(),
    };
    html! {
        <section class="panel tune" aria-label="Tune">
            <h2>{ "Tune: sweep over seeds" }</h2>
            <div class="tune-form">{ form_fields(&form, &ask, &settings, &schema) }</div>
            <p class="note" aria-label="Tune template">{ format!("Template: the whole scenario, its actions included, each run from {window}.") }</p>
            <p class="note">{ "Values: 1,2,3 or LO..HI:STEP, units as in Setup (150ms..300ms:50ms)." }</p>
            <div class="buttons">
                <button onclick={on_run} disabled={tune.running}>{ "Run sweep" }</button>
                if tune.running { <button onclick={on_cancel}>{ "Cancel" }</button> }
            </div>
            if let Some(p) = progress(&tune, &form.workers) {
                <p class="note" aria-live="polite">
                    if tune.running { <progress max={total.to_string()} value={done.to_string()}></progress> }
                    { " " }{ p }
                </p>
            }
            if let Some(Err(e)) = &best { <p class="note" role="status">{ format!("Search: {e}") }</p> }
            if let Some(Ok(b)) = &best {
                <p class="note best" aria-label="Best setting">{ match (b, &rows, &tune.shape) {
                    (Some(p), Some(rows), Some(shape)) => format!("Best: {}", shape.params.iter().zip(&rows[*p].values).map(|(r, v)| format!("{} = {v}", r.name)).collect::<Vec<_>>().join(", ")),
                    _ => "Best: no point meets the constraint".to_string(),
                } }</p>
            }
            if let (Some(rows), Some(shape)) = (rows, tune.shape.clone()) {
                { results(ctx, &props.show_run, &rows, &shape, &schema, &ask, best.as_ref().and_then(|b| b.as_ref().ok().copied().flatten())) }
            }
        </section>
    }
}

/// The form's fields, as typed.
#[derive(Clone)]
struct Form {
    param1: UseStateHandle<String>,
    values1: UseStateHandle<String>,
    param2: UseStateHandle<String>,
    values2: UseStateHandle<String>,
    metric: UseStateHandle<String>,
    also: UseStateHandle<String>,
    seeds: UseStateHandle<String>,
    // The search: none, minimise or maximise a metric or a parameter,
    // subject to a check on a metric's median.
    goal: UseStateHandle<String>,
    target: UseStateHandle<String>,
    constraint: UseStateHandle<String>,
    workers: UseStateHandle<String>,
    // How far each run goes (empty: the scenario's until).
    until: UseStateHandle<String>,
}

impl Form {
    /// Whether a second parameter is chosen.
    fn two_params(&self) -> bool {
        !self.param2.is_empty() && self.param2.as_str() != "none"
    }
}

#[hook]
fn use_form() -> Form {
    Form {
        param1: use_state(String::new),
        values1: use_state(String::new),
        param2: use_state(String::new),
        values2: use_state(String::new),
        metric: use_state(String::new),
        also: use_state(|| "none".to_string()),
        seeds: use_state(|| "100".to_string()),
        goal: use_state(|| "none".to_string()),
        target: use_state(String::new),
        constraint: use_state(String::new),
        workers: use_state(|| cores().to_string()),
        until: use_state(String::new),
    }
}

/// Starts the pool of `workers` when a plan arrives; drops it when the
/// sweep stops.
#[hook]
fn use_pool(state: &UseReducerHandle<AppState>, workers: &str) {
    let pool: Rc<RefCell<Pool>> = use_mut_ref(Pool::default);
    let dispatcher = state.dispatcher();
    let tune = state.tune.clone();
    let n = workers.parse::<u32>().unwrap_or(1).clamp(1, 64);
    use_effect_with((tune.generation, tune.running), move |_| {
        // Dropping the bridges asks their workers to close; each has at
        // most one small chunk left, so a cancel stops them promptly.
        *pool.borrow_mut() = Pool::default();
        if let (true, Some(spec), Some(shape)) = (tune.running, tune.spec.clone(), tune.shape.clone()) {
            Pool::start(&pool, &dispatcher, n, spec, shape.units());
        }
    });
}

/// A sweep that came with the scenario (a link, a file) fills the form.
#[hook]
fn use_form_from_scenario(form: &Form, def: Option<TuneDef>) {
    let form = form.clone();
    use_effect_with(def, move |def| {
        let Some(d) = def else { return };
        let split = |p: &String| p.split_once('=').map(|(n, v)| (n.to_string(), v.to_string())).unwrap_or_default();
        if let Some((n, v)) = d.params.first().map(split) {
            form.param1.set(n);
            form.values1.set(v);
        }
        match d.params.get(1).map(split) {
            Some((n, v)) => {
                form.param2.set(n);
                form.values2.set(v);
            }
            None => form.param2.set("none".into()),
        }
        if let Some(m) = d.metrics.first() {
            form.metric.set(m.clone());
        }
        form.seeds.set(d.seeds.to_string());
        match &d.goal {
            Some((min, t)) => {
                form.goal.set(if *min { "minimise" } else { "maximise" }.into());
                form.target.set(t.clone());
            }
            None => form.goal.set("none".into()),
        }
        form.constraint.set(d.subject_to.first().cloned().unwrap_or_default());
    });
}

/// What the form asks for, with blanks read as their defaults.
#[derive(Clone)]
struct Ask {
    /// The first parameter.
    p1: String,
    /// The metric shown first.
    metric: String,
    /// What the search optimises (a metric or a parameter).
    target: String,
    /// Whether there is a search.
    searching: bool,
    /// Whether it minimises (else maximises).
    minimise: bool,
    /// The search's constraint, parsed, if one is given.
    check: Option<Result<Expect, String>>,
    /// The metrics the sweep reads: the one shown first, then those the
    /// search needs.
    metrics: Vec<String>,
}

impl Ask {
    fn read(form: &Form, schema: &Schema, settings: &Settings) -> Ask {
        let or = |v: &str, default: Option<&String>| {
            if v.is_empty() {
                default.cloned().unwrap_or_default()
            } else {
                v.to_string()
            }
        };
        let metric = or(&form.metric, schema.metrics.first().map(|m| &m.name));
        let p1 = or(&form.param1, settings.params.first().map(|p| &p.name));
        let target = or(&form.target, Some(&metric));
        let searching = form.goal.as_str() != "none";
        let check = (searching && !form.constraint.trim().is_empty())
            .then(|| clusterscope_core::scenario::parse_expect(form.constraint.trim()));
        let mut metrics = vec![metric.clone()];
        if form.also.as_str() != "none" && !form.also.is_empty() && !metrics.contains(&*form.also) {
            metrics.push((*form.also).clone());
        }
        if searching && schema.metrics.iter().any(|m| m.name == target) && !metrics.contains(&target) {
            metrics.push(target.clone());
        }
        if let Some(Ok(c)) = &check {
            if !metrics.contains(&c.metric) {
                metrics.push(c.metric.clone());
            }
        }
        let minimise = form.goal.as_str() == "minimise";
        Ask { p1, metric, target, searching, minimise, check, metrics }
    }
}

/// "Run sweep": asks the worker to check and plan the sweep the form
/// describes (it also records it in the scenario).
fn on_run(ctx: &Ctx, form: &Form, ask: &Ask) -> Callback<MouseEvent> {
    let b: Bridge = ctx.bridge.clone();
    let d = ctx.state.dispatcher();
    let (form, ask) = (form.clone(), ask.clone());
    Callback::from(move |_| {
        let Ok(n) = form.seeds.trim().parse::<u64>() else {
            d.dispatch(Msg::Error("Tune: seeds must be a whole number.".into()));
            return;
        };
        let until = match form.until.trim() {
            "" => None,
            t => match parse_duration(t).filter(|t| *t > 0) {
                Some(t) => Some(t),
                None => {
                    d.dispatch(Msg::Error(format!("Tune: the duration '{t}' is not a time such as 10s or 500ms.")));
                    return;
                }
            },
        };
        let workers = form.workers.trim().parse::<u32>().unwrap_or(1).clamp(1, 64);
        d.dispatch(Msg::TuneWorkers(workers));
        if let Some(Err(e)) = &ask.check {
            d.dispatch(Msg::Error(format!("Tune: the constraint: {e}")));
            return;
        }
        let mut params = vec![format!("{}={}", ask.p1, form.values1.trim())];
        if form.two_params() {
            params.push(format!("{}={}", *form.param2, form.values2.trim()));
        }
        let goal = ask.searching.then(|| (form.goal.as_str() == "minimise", ask.target.clone()));
        let constraint = form.constraint.trim();
        let subject_to = constraint.is_empty().then(Vec::new).unwrap_or_else(|| vec![constraint.to_string()]);
        b.send(ToWorker::TunePlan(TuneDef { params, seeds: n, metrics: ask.metrics.clone(), goal, subject_to }, until));
    })
}

/// A callback that keeps what was typed or chosen in `h`.
fn pick(h: &UseStateHandle<String>) -> Callback<Event> {
    let h = h.clone();
    Callback::from(move |e: Event| h.set(value_of(&e)))
}

/// The form's fields, from the parameters to the workers.
fn form_fields(form: &Form, ask: &Ask, settings: &Settings, schema: &Schema) -> Html {
    let (p1, metric_name, target_name) = (&ask.p1, &ask.metric, &ask.target);
    let (param2, also, goal) = (&form.param2, &form.also, &form.goal);
    html! {
        <>
            <label class="param"><span>{ "Parameter" }</span>
                <select aria-label="Tune parameter" onchange={pick(&form.param1)}>
                    { for settings.params.iter().map(|p| html! { <option value={p.name.clone()} selected={p.name == *p1}>{ &p.label }</option> }) }
                </select>
            </label>
            <label class="param"><span>{ "Values" }</span><Field label="Tune values" value={(*form.values1).clone()} onchange={pick(&form.values1)} size={16} /></label>
            <label class="param"><span>{ "Second parameter" }</span>
                <select aria-label="Tune second parameter" onchange={pick(param2)}>
                    <option value="none" selected={!form.two_params()}>{ "none" }</option>
                    { for settings.params.iter().map(|p| html! { <option value={p.name.clone()} selected={p.name == **param2}>{ &p.label }</option> }) }
                </select>
            </label>
            if form.two_params() {
                <label class="param"><span>{ "Values" }</span><Field label="Tune second values" value={(*form.values2).clone()} onchange={pick(&form.values2)} size={16} /></label>
            }
            <label class="param"><span>{ "Metric" }</span>
                <select aria-label="Tune metric" onchange={pick(&form.metric)}>
                    { for schema.metrics.iter().map(|m| html! { <option value={m.name.clone()} selected={m.name == *metric_name}>{ &m.label }</option> }) }
                </select>
            </label>
            <label class="param"><span>{ "Also read" }</span>
                <select aria-label="Tune also" onchange={pick(also)}>
                    <option value="none" selected={also.as_str() == "none"}>{ "none" }</option>
                    { for schema.metrics.iter().map(|m| html! { <option value={m.name.clone()} selected={m.name == **also}>{ &m.label }</option> }) }
                </select>
            </label>
            <label class="param"><span>{ "Seeds" }</span><Field label="Tune seeds" value={(*form.seeds).clone()} onchange={pick(&form.seeds)} size={6} /></label>
            <label class="param"><span>{ "Search" }</span>
                <select aria-label="Tune goal" onchange={pick(goal)}>
                    { for ["none", "minimise", "maximise"].iter().map(|g| html! { <option value={*g} selected={*g == goal.as_str()}>{ *g }</option> }) }
                </select>
            </label>
            if ask.searching {
                <label class="param"><span>{ "Of" }</span>
                    <select aria-label="Tune target" onchange={pick(&form.target)}>
                        { for schema.metrics.iter().map(|m| html! { <option value={m.name.clone()} selected={m.name == *target_name}>{ format!("median {}", m.label) }</option> }) }
                        { for settings.params.iter().map(|p| html! { <option value={p.name.clone()} selected={p.name == *target_name}>{ &p.label }</option> }) }
                    </select>
                </label>
                <label class="param"><span>{ "Subject to" }</span><Field label="Tune constraint" value={(*form.constraint).clone()} onchange={pick(&form.constraint)} size={16} /></label>
            }
            <label class="param"><span>{ "Each run to" }</span><Field label="Tune duration" value={(*form.until).clone()} onchange={pick(&form.until)} size={8} /></label>
            <label class="param"><span>{ "Workers" }</span><Field label="Tune workers" value={(*form.workers).clone()} onchange={pick(&form.workers)} size={4} /></label>
        </>
    }
}

/// How far the sweep is (runs done, time left), or how long it took.
fn progress(tune: &crate::state::Tune, workers: &str) -> Option<String> {
    let total = tune.shape.as_ref().map_or(0, |s| s.units());
    let done = tune.results.len() as u64;
    if tune.running && total > 0 {
        let elapsed = js_sys::Date::now() - tune.started;
        let left = elapsed / done.max(1) as f64 * (total - done.min(total)) as f64 / 1e3;
        Some(format!("{done}/{total} runs, about {left:.1} s left"))
    } else {
        tune.took.map(|ms| format!("{total} runs in {:.2} s on {} workers", ms / 1e3, workers))
    }
}

/// The search over the finished sweep: the best point, none that meets
/// the constraint, or why it cannot be searched.
fn best(
    form: &Form,
    ask: &Ask,
    rows: Option<&[PointRow]>,
    shape: Option<&Shape>,
) -> Option<Result<Option<usize>, String>> {
    let (Some(rows), Some(shape), true) = (rows, shape, ask.searching) else { return None };
    let constraints = match &ask.check {
        Some(Ok(c)) => vec![c.clone()],
        _ => Vec::new(),
    };
    let g = Goal { objective: ask.target.clone(), minimise: form.goal.as_str() == "minimise", constraints };
    Some(search(shape, rows, &g))
}

/// The finished sweep: its chart, the first metric per point (a row opens
/// the run nearest its median), the other metrics, and CSV and JSON.
fn results(
    ctx: &Ctx,
    show_run: &Callback<()>,
    rows: &[PointRow],
    shape: &Shape,
    schema: &Schema,
    ask: &Ask,
    best: Option<usize>,
) -> Html {
    let spec = schema.metrics.iter().find(|m| m.name == ask.metric);
    let unit = spec.map_or(Unit::Ratio, |m| m.unit);
    let (scale, unit_name) = unit.axis();
    let label = spec.map_or(ask.metric.clone(), |m| m.label.clone());
    let chart = clusterscope_core::sweep::chart(shape, rows, 0, &label, scale, unit_name);
    let tune = &ctx.state.tune;
    let open = {
        let (b, spec, results, show_run) =
            (ctx.bridge.clone(), tune.spec.clone(), tune.results.clone(), show_run.clone());
        let medians: Vec<f64> = rows.iter().map(|r| r.stats[0].p50).collect();
        Callback::from(move |(i, _): (usize, String)| {
            if let Some(spec) = &spec {
                let seed = median_seed(&results, i, medians.get(i).copied().unwrap_or(f64::NAN));
                b.send(ToWorker::TuneOpen { plan: Box::new(spec.clone()), point: i, seed });
                show_run.emit(());
            }
        })
    };
    let lab = ctx.state.lab().to_string();
    html! {
        <>
            <ChartView chart={Rc::new(chart)} file={format!("clusterscope-{lab}-sweep")} />
            <ResultTable name="Sweep results" table={Rc::new(first_table(rows, shape, &label, unit, ask))} open={open.clone()} rows_open={true}
                selected={best} open_title={Some("Open the run nearest the median".to_string())} />
            if shape.metrics.len() > 1 {
                <ResultTable name="Sweep other metrics" table={Rc::new(other_table(rows, shape, schema))} open={open} rows_open={true}
                    open_title={Some("Open the run nearest the median".to_string())} />
            }
            <details><summary>{ "CSV" }</summary>
                <textarea aria-label="Sweep CSV" readonly=true rows="6" cols="40" value={csv(rows, shape)} />
            </details>
            <details><summary>{ "JSON" }</summary>
                <textarea aria-label="Sweep JSON" readonly=true rows="6" cols="40" value={json(rows, shape)} />
            </details>
        </>
    }
}

/// The columns of a metric in `unit`: better lower when the search
/// minimises it, higher when it maximises it.
fn metric_column(name: &str, unit: Unit, ask: Option<&Ask>, metric: &str) -> Column {
    let (_, u) = unit.axis();
    let digits = if matches!(unit, Unit::Count | Unit::Node) { 0 } else { 2 };
    let c = Column::number(name, u, digits);
    match ask {
        Some(a) if a.searching && a.target == metric => {
            Column { better: Some(if a.minimise { Better::Lower } else { Better::Higher }), ..c }
        }
        _ => c,
    }
}

/// The first metric per point: n and its percentiles, in the axis's unit.
fn first_table(rows: &[PointRow], shape: &Shape, label: &str, unit: Unit, ask: &Ask) -> Table {
    let (scale, _) = unit.axis();
    let mut columns: Vec<Column> = shape.params.iter().map(|p| Column::text(&p.name)).collect();
    columns.push(Column::number("n", "", 0));
    for p in ["p10", "p50", "p90", "p99"] {
        columns.push(metric_column(p, unit, Some(ask), &ask.metric));
    }
    let mut t = Table::new(format!("{label}: per point, over {} seeds", shape.seeds), columns);
    for r in rows {
        let s = &r.stats[0];
        let mut row: Vec<Cell> = r.values.iter().map(Cell::text).collect();
        row.push(Cell::num(s.n as f64));
        row.extend([s.p10, s.p50, s.p90, s.p99].map(|v| Cell::num(v * scale)));
        t.push(row);
    }
    t
}

/// The metrics after the first: median and p90 per point.
fn other_table(rows: &[PointRow], shape: &Shape, schema: &Schema) -> Table {
    let unit_of = |m: &str| schema.metrics.iter().find(|x| x.name == m).map_or(Unit::Ratio, |x| x.unit);
    let mut columns: Vec<Column> = shape.params.iter().map(|p| Column::text(&p.name)).collect();
    for m in shape.metrics.iter().skip(1) {
        columns.push(metric_column(&format!("{m} p50"), unit_of(m), None, m));
        columns.push(metric_column(&format!("{m} p90"), unit_of(m), None, m));
    }
    let mut t = Table::new("The other metrics: median and p90 per point", columns);
    for r in rows {
        let mut row: Vec<Cell> = r.values.iter().map(Cell::text).collect();
        for (m, s) in shape.metrics.iter().zip(&r.stats).skip(1) {
            let (scale, _) = unit_of(m).axis();
            row.extend([Cell::num(s.p50 * scale), Cell::num(s.p90 * scale)]);
        }
        t.push(row);
    }
    t
}

/// The pool of workers of the sweep under way, and what is left to hand out.
#[derive(Default)]
pub struct Pool {
    bridges: Vec<WorkerBridge<SimWorker>>,
    next: u64,
    units: u64,
    chunk: u64,
    spec: Option<TuneSpec>,
}

impl Pool {
    /// `n` workers for a sweep of `units` runs, each given its first chunk.
    fn start(
        pool: &Rc<RefCell<Pool>>,
        dispatcher: &UseReducerDispatcher<AppState>,
        n: u32,
        spec: TuneSpec,
        units: u64,
    ) {
        // Small chunks, one at a time per worker: progress shows as they
        // come back, and no worker waits long for the others.
        let chunk = (units / (u64::from(n) * 8)).clamp(1, 200);
        // The pool runs the template's lab: that lab's engine, in workers
        // of its own.
        let lab = clusterscope_core::scenario::lab_named(&spec.template).unwrap_or_default().to_string();
        *pool.borrow_mut() = Pool { bridges: Vec::new(), next: 0, units, chunk, spec: Some(spec) };
        for i in 0..n as usize {
            let d = dispatcher.clone();
            let feed = pool.clone();
            // A pool worker also greets the page with its own (default)
            // run: only its results and errors count.
            let bridge = crate::ctx::spawn_worker(&lab, move |out: FromWorker| {
                let more = matches!(out, FromWorker::TuneResults(..));
                if more || matches!(out, FromWorker::Error(_)) {
                    d.dispatch(Msg::Worker(out, last_decoded_bytes()));
                }
                if more {
                    feed.borrow_mut().send_next(i);
                }
            });
            pool.borrow_mut().bridges.push(bridge);
        }
        let mut p = pool.borrow_mut();
        for i in 0..n as usize {
            p.send_next(i);
        }
    }

    /// Gives worker `i` the next chunk of runs, if any is left.
    fn send_next(&mut self, i: usize) {
        let (Some(spec), Some(bridge)) = (&self.spec, self.bridges.get(i)) else { return };
        if self.next >= self.units {
            return;
        }
        let (from, to) = (self.next, (self.next + self.chunk).min(self.units));
        self.next = to;
        bridge.send(ToWorker::TuneRun { plan: Box::new(spec.clone()), from, to });
    }
}

/// The seed of the run whose value is nearest the point's median.
fn median_seed(results: &[UnitResult], point: usize, p50: f64) -> u64 {
    results
        .iter()
        .filter(|u| u.point == point)
        .min_by(|a, b| {
            let d = |u: &UnitResult| (u.values.first().copied().unwrap_or(f64::NAN) - p50).abs();
            d(a).total_cmp(&d(b)).then(a.seed.cmp(&b.seed))
        })
        .map_or(0, |u| u.seed)
}

fn csv(rows: &[PointRow], shape: &Shape) -> String {
    let mut out: String = shape.params.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join(",");
    out.push_str(",n,mean,p10,p50,p90,p99\n");
    for r in rows {
        let s = &r.stats[0];
        out.push_str(&format!("{},{},{},{},{},{},{}\n", r.values.join(","), s.n, s.mean, s.p10, s.p50, s.p90, s.p99));
    }
    out
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Every point with every metric's distribution, as JSON.
fn json(rows: &[PointRow], shape: &Shape) -> String {
    let points: Vec<String> = rows
        .iter()
        .map(|r| {
            let params: Vec<String> = shape
                .params
                .iter()
                .zip(&r.values)
                .map(|(p, v)| format!("\"{}\": \"{}\"", esc(&p.name), esc(v)))
                .collect();
            let metrics: Vec<String> = shape
                .metrics
                .iter()
                .zip(&r.stats)
                .map(|(m, s)| {
                    format!(
                        "\"{}\": {{\"n\": {}, \"mean\": {}, \"p10\": {}, \"p50\": {}, \"p90\": {}, \"p99\": {}}}",
                        esc(m),
                        s.n,
                        num(s.mean),
                        num(s.p10),
                        num(s.p50),
                        num(s.p90),
                        num(s.p99)
                    )
                })
                .collect();
            format!("{{\"params\": {{{}}}, \"metrics\": {{{}}}}}", params.join(", "), metrics.join(", "))
        })
        .collect();
    format!("{{\"seeds\": {}, \"points\": [{}]}}", shape.seeds, points.join(", "))
}
