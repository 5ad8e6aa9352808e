//! Tune: a parameter sweep over many seeds, run by a pool of Web Workers.
//!
//! The current scenario, up to the current time, is the template. The main
//! worker checks the sweep and plans it; the page then starts a pool of
//! workers (as many as the machine has cores, or as chosen), hands each its
//! share of the runs in small chunks, and summarises what comes back with
//! the same code as `clusterscope sweep` (runs are sorted before they are
//! summarised, so the numbers do not depend on the pool). Cancel drops the
//! pool, which stops its workers.

use super::panels::Field;
use crate::codec::last_decoded_bytes;
use crate::ctx::{Bridge, PanelProps};
use crate::protocol::{FromWorker, ToWorker};
use crate::state::Msg;
use crate::worker::SimWorker;
use clusterscope_core::lab::Unit;
use clusterscope_core::scenario::TuneDef;
use clusterscope_core::sweep::{search, summarise_shape, Goal, PointRow, UnitResult};
use gloo_worker::WorkerBridge;
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

/// The Tune panel.
#[function_component]
pub fn Tune(props: &PanelProps) -> Html {
    let ctx = &props.ctx;
    let state = &ctx.state;
    let param1 = use_state(String::new);
    let values1 = use_state(String::new);
    let param2 = use_state(String::new);
    let values2 = use_state(String::new);
    let metric = use_state(String::new);
    let also = use_state(|| "none".to_string());
    let seeds = use_state(|| "100".to_string());
    // The search: none, minimise or maximise a metric or a parameter,
    // subject to a check on a metric's median.
    let goal = use_state(|| "none".to_string());
    let target = use_state(String::new);
    let constraint = use_state(String::new);
    let workers = use_state(|| cores().to_string());
    let pool: std::rc::Rc<std::cell::RefCell<Pool>> = use_mut_ref(Pool::default);

    // Start the pool when a plan arrives; drop it when the sweep stops.
    {
        let pool = pool.clone();
        let dispatcher = state.dispatcher();
        let tune = state.tune.clone();
        let n = workers.parse::<u32>().unwrap_or(1).clamp(1, 64);
        use_effect_with((tune.generation, tune.running), move |_| {
            // Dropping the bridges asks their workers to close; each has at
            // most one small chunk left, so a cancel stops them promptly.
            *pool.borrow_mut() = Pool::default();
            if let (true, Some(spec), Some(shape)) = (tune.running, tune.spec.clone(), tune.shape.clone()) {
                let units = shape.units();
                // Small chunks, one at a time per worker: progress shows as
                // they come back, and no worker waits long for the others.
                let chunk = (units / (u64::from(n) * 8)).clamp(1, 200);
                *pool.borrow_mut() = Pool { bridges: Vec::new(), next: 0, units, chunk, spec: Some(spec) };
                for i in 0..n as usize {
                    let d = dispatcher.clone();
                    let feed = pool.clone();
                    // A pool worker also greets the page with its own
                    // (default) run: only its results and errors count.
                    let bridge = crate::ctx::spawn_worker(move |out: FromWorker| {
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
        });
    }

    // A sweep that came with the scenario (a link, a file) fills the form.
    {
        let (param1, values1, param2, values2, metric, seeds, goal, target, constraint) = (
            param1.clone(),
            values1.clone(),
            param2.clone(),
            values2.clone(),
            metric.clone(),
            seeds.clone(),
            goal.clone(),
            target.clone(),
            constraint.clone(),
        );
        let def = state.settings.as_ref().and_then(|s| s.tune.clone());
        use_effect_with(def, move |def| {
            if let Some(d) = def {
                let split =
                    |p: &String| p.split_once('=').map(|(n, v)| (n.to_string(), v.to_string())).unwrap_or_default();
                if let Some((n, v)) = d.params.first().map(split) {
                    param1.set(n);
                    values1.set(v);
                }
                match d.params.get(1).map(split) {
                    Some((n, v)) => {
                        param2.set(n);
                        values2.set(v);
                    }
                    None => param2.set("none".into()),
                }
                if let Some(m) = d.metrics.first() {
                    metric.set(m.clone());
                }
                seeds.set(d.seeds.to_string());
                match &d.goal {
                    Some((min, t)) => {
                        goal.set(if *min { "minimise" } else { "maximise" }.into());
                        target.set(t.clone());
                    }
                    None => goal.set("none".into()),
                }
                constraint.set(d.subject_to.first().cloned().unwrap_or_default());
            }
        });
    }
    let Some(settings) = state.settings.clone() else { return html! {} };
    let Some(schema) = state.schema.clone() else { return html! {} };
    let tune = state.tune.clone();
    let pick = |h: UseStateHandle<String>| Callback::from(move |e: Event| h.set(value_of(&e)));
    let metric_name = if metric.is_empty() {
        schema.metrics.first().map(|m| m.name.clone()).unwrap_or_default()
    } else {
        (*metric).clone()
    };
    let p1 = if param1.is_empty() {
        settings.params.first().map(|p| p.name.clone()).unwrap_or_default()
    } else {
        (*param1).clone()
    };
    let target_name = if target.is_empty() { metric_name.clone() } else { (*target).clone() };
    let searching = goal.as_str() != "none";
    // The metrics the sweep reads: the one shown first, then those the
    // search needs.
    let check = (searching && !constraint.trim().is_empty())
        .then(|| clusterscope_core::scenario::parse_expect(constraint.trim()));
    let mut metrics = vec![metric_name.clone()];
    if also.as_str() != "none" && !also.is_empty() && !metrics.contains(&*also) {
        metrics.push((*also).clone());
    }
    if searching && schema.metrics.iter().any(|m| m.name == target_name) && !metrics.contains(&target_name) {
        metrics.push(target_name.clone());
    }
    if let Some(Ok(c)) = &check {
        if !metrics.contains(&c.metric) {
            metrics.push(c.metric.clone());
        }
    }
    let on_run = {
        let b: Bridge = ctx.bridge.clone();
        let d = state.dispatcher();
        let (values1, param2, values2, seeds) = (values1.clone(), param2.clone(), values2.clone(), seeds.clone());
        let (p1, metrics, check) = (p1.clone(), metrics.clone(), check.clone());
        let (goal_now, target_now, constraint_now) = ((*goal).clone(), target_name.clone(), (*constraint).clone());
        Callback::from(move |_| {
            let Ok(n) = seeds.trim().parse::<u64>() else {
                d.dispatch(Msg::Error("Tune: seeds must be a whole number.".into()));
                return;
            };
            if let Some(Err(e)) = &check {
                d.dispatch(Msg::Error(format!("Tune: the constraint: {e}")));
                return;
            }
            let mut params = vec![format!("{p1}={}", values1.trim())];
            if !param2.is_empty() && param2.as_str() != "none" {
                params.push(format!("{}={}", *param2, values2.trim()));
            }
            let goal = (goal_now.as_str() != "none").then(|| (goal_now.as_str() == "minimise", target_now.clone()));
            let subject_to = constraint_now
                .trim()
                .is_empty()
                .then(Vec::new)
                .unwrap_or_else(|| vec![constraint_now.trim().to_string()]);
            b.send(ToWorker::TunePlan(TuneDef { params, seeds: n, metrics: metrics.clone(), goal, subject_to }));
        })
    };
    let on_cancel = {
        let d = state.dispatcher();
        Callback::from(move |_| d.dispatch(Msg::TuneCancel))
    };
    let unit = schema.metrics.iter().find(|m| m.name == metric_name).map_or(Unit::Ratio, |m| m.unit);
    let total = tune.shape.as_ref().map_or(0, |s| s.units());
    let done = tune.results.len() as u64;
    let progress = if tune.running && total > 0 {
        let elapsed = js_sys::Date::now() - tune.started;
        let left = elapsed / done.max(1) as f64 * (total - done.min(total)) as f64 / 1e3;
        Some(format!("{done}/{total} runs, about {left:.1} s left"))
    } else {
        tune.took.map(|ms| format!("{total} runs in {:.2} s on {} workers", ms / 1e3, *workers))
    };
    let rows: Option<Vec<PointRow>> = (!tune.running)
        .then(|| tune.shape.as_ref().map(|s| summarise_shape(s, &tune.results)))
        .flatten()
        .filter(|r| !r.is_empty());
    // The search over the finished sweep.
    let best: Option<Result<Option<usize>, String>> = match (&rows, &tune.shape, searching) {
        (Some(rows), Some(shape), true) => {
            let constraints = match &check {
                Some(Ok(c)) => vec![c.clone()],
                _ => Vec::new(),
            };
            let g = Goal { objective: target_name.clone(), minimise: goal.as_str() == "minimise", constraints };
            Some(search(shape, rows, &g))
        }
        _ => None,
    };
    let best_point = best.as_ref().and_then(|b| b.as_ref().ok().copied().flatten());
    html! {
        <section class="panel tune" aria-label="Tune">
            <h2>{ "Tune: sweep over seeds" }</h2>
            <label class="param"><span>{ "Parameter" }</span>
                <select aria-label="Tune parameter" onchange={pick(param1.clone())}>
                    { for settings.params.iter().map(|p| html! { <option value={p.name.clone()} selected={p.name == p1}>{ &p.label }</option> }) }
                </select>
            </label>
            <label class="param"><span>{ "Values" }</span><Field label="Tune values" value={(*values1).clone()} onchange={pick(values1.clone())} size={16} /></label>
            <label class="param"><span>{ "Second parameter" }</span>
                <select aria-label="Tune second parameter" onchange={pick(param2.clone())}>
                    <option value="none" selected={param2.is_empty() || param2.as_str() == "none"}>{ "none" }</option>
                    { for settings.params.iter().map(|p| html! { <option value={p.name.clone()} selected={p.name == *param2}>{ &p.label }</option> }) }
                </select>
            </label>
            if !param2.is_empty() && param2.as_str() != "none" {
                <label class="param"><span>{ "Values" }</span><Field label="Tune second values" value={(*values2).clone()} onchange={pick(values2.clone())} size={16} /></label>
            }
            <label class="param"><span>{ "Metric" }</span>
                <select aria-label="Tune metric" onchange={pick(metric.clone())}>
                    { for schema.metrics.iter().map(|m| html! { <option value={m.name.clone()} selected={m.name == metric_name}>{ &m.label }</option> }) }
                </select>
            </label>
            <label class="param"><span>{ "Also read" }</span>
                <select aria-label="Tune also" onchange={pick(also.clone())}>
                    <option value="none" selected={also.as_str() == "none"}>{ "none" }</option>
                    { for schema.metrics.iter().map(|m| html! { <option value={m.name.clone()} selected={m.name == *also}>{ &m.label }</option> }) }
                </select>
            </label>
            <label class="param"><span>{ "Seeds" }</span><Field label="Tune seeds" value={(*seeds).clone()} onchange={pick(seeds.clone())} size={6} /></label>
            <label class="param"><span>{ "Search" }</span>
                <select aria-label="Tune goal" onchange={pick(goal.clone())}>
                    { for ["none", "minimise", "maximise"].iter().map(|g| html! { <option value={*g} selected={*g == goal.as_str()}>{ *g }</option> }) }
                </select>
            </label>
            if searching {
                <label class="param"><span>{ "Of" }</span>
                    <select aria-label="Tune target" onchange={pick(target.clone())}>
                        { for schema.metrics.iter().map(|m| html! { <option value={m.name.clone()} selected={m.name == target_name}>{ format!("median {}", m.label) }</option> }) }
                        { for settings.params.iter().map(|p| html! { <option value={p.name.clone()} selected={p.name == target_name}>{ &p.label }</option> }) }
                    </select>
                </label>
                <label class="param"><span>{ "Subject to" }</span><Field label="Tune constraint" value={(*constraint).clone()} onchange={pick(constraint.clone())} size={16} /></label>
            }
            <label class="param"><span>{ "Workers" }</span><Field label="Tune workers" value={(*workers).clone()} onchange={pick(workers.clone())} size={4} /></label>
            <p class="note">{ "Values: 1,2,3 or LO..HI:STEP, units as in Setup (150ms..300ms:50ms). The current scenario up to now is the template." }</p>
            <div class="buttons">
                <button onclick={on_run} disabled={tune.running}>{ "Run sweep" }</button>
                if tune.running { <button onclick={on_cancel}>{ "Cancel" }</button> }
            </div>
            if let Some(p) = progress {
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
                { chart(&rows, &shape, unit) }
                <div class="scroll"><table class="logs" aria-label="Sweep results">
                    <thead><tr>
                        { for shape.params.iter().map(|p| html! { <th>{ &p.name }</th> }) }
                        <th>{ "n" }</th><th>{ "p10" }</th><th>{ "p50" }</th><th>{ "p90" }</th><th>{ "p99" }</th>
                    </tr></thead>
                    <tbody>
                    { for rows.iter().enumerate().map(|(i, r)| {
                        let s = &r.stats[0];
                        let seed = median_seed(&tune.results, i, s.p50);
                        let open = {
                            let b = ctx.bridge.clone();
                            let spec = tune.spec.clone();
                            Callback::from(move |_| if let Some(spec) = &spec {
                                b.send(ToWorker::TuneOpen { plan: Box::new(spec.clone()), point: i, seed });
                            })
                        };
                        html! {
                            <tr aria-label={r.values.join(" ")} class={classes!((best_point == Some(i)).then_some("selected"))} onclick={open} title={format!("Open the run nearest the median (seed {seed})")}>
                                { for r.values.iter().map(|v| html! { <th scope="row">{ v }</th> }) }
                                <td>{ s.n }</td><td>{ unit.format(s.p10) }</td>
                                <td data-value={s.p50.to_string()}>{ unit.format(s.p50) }</td>
                                <td>{ unit.format(s.p90) }</td><td>{ unit.format(s.p99) }</td>
                            </tr>
                        }
                    }) }
                    </tbody>
                </table></div>
                if shape.metrics.len() > 1 {
                    <div class="scroll"><table class="logs" aria-label="Sweep other metrics">
                        <thead><tr>
                            { for shape.params.iter().map(|p| html! { <th>{ &p.name }</th> }) }
                            { for shape.metrics.iter().skip(1).map(|m| html! { <><th>{ format!("{m} p50") }</th><th>{ "p90" }</th></> }) }
                        </tr></thead>
                        <tbody>
                        { for rows.iter().map(|r| html! {
                            <tr aria-label={r.values.join(" ")}>
                                { for r.values.iter().map(|v| html! { <th scope="row">{ v }</th> }) }
                                { for shape.metrics.iter().zip(&r.stats).skip(1).map(|(m, s)| {
                                    let u = schema.metrics.iter().find(|x| x.name == *m).map_or(Unit::Ratio, |x| x.unit);
                                    html! { <><td data-value={s.p50.to_string()}>{ u.format(s.p50) }</td><td>{ u.format(s.p90) }</td></> }
                                }) }
                            </tr>
                        }) }
                        </tbody>
                    </table></div>
                }
                <details><summary>{ "CSV" }</summary>
                    <textarea aria-label="Sweep CSV" readonly=true rows="6" cols="40" value={csv(&rows, &shape)} />
                </details>
                <details><summary>{ "JSON" }</summary>
                    <textarea aria-label="Sweep JSON" readonly=true rows="6" cols="40" value={json(&rows, &shape)} />
                </details>
            }
        </section>
    }
}

/// The pool of workers of the sweep under way, and what is left to hand out.
#[derive(Default)]
pub struct Pool {
    bridges: Vec<WorkerBridge<SimWorker>>,
    next: u64,
    units: u64,
    chunk: u64,
    spec: Option<crate::protocol::TuneSpec>,
}

impl Pool {
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

fn csv(rows: &[PointRow], shape: &clusterscope_core::sweep::Shape) -> String {
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
fn json(rows: &[PointRow], shape: &clusterscope_core::sweep::Shape) -> String {
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

/// One parameter: per value, the p10–p90 band, the median and p99. Two: a
/// heat map of the median.
fn chart(rows: &[PointRow], shape: &clusterscope_core::sweep::Shape, unit: Unit) -> Html {
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let max = rows.iter().map(|r| finite(r.stats[0].p99)).fold(0.0f64, f64::max).max(1e-9);
    if shape.params.len() >= 2 {
        let (a, b) = (&shape.params[0], &shape.params[1]);
        let (w, h) = (280.0 / b.values.len() as f64, 120.0 / a.values.len() as f64);
        let hi = rows.iter().map(|r| finite(r.stats[0].p50)).fold(0.0f64, f64::max).max(1e-9);
        return html! {
            <svg class="sweep" viewBox="0 0 280 120" role="img" aria-label="Sweep heat map">
                { for rows.iter().enumerate().map(|(i, r)| {
                    let (y, x) = (i / b.values.len(), i % b.values.len());
                    let t = finite(r.stats[0].p50) / hi;
                    html! { <rect x={format!("{:.1}", x as f64 * w)} y={format!("{:.1}", y as f64 * h)} width={format!("{w:.1}")} height={format!("{h:.1}")}
                        fill={format!("hsl({:.0}, 60%, 45%)", 120.0 * (1.0 - t))}>
                        <title>{ format!("{} = {}, {} = {}: median {}", a.name, r.values[0], b.name, r.values[1], unit.format(r.stats[0].p50)) }</title>
                    </rect> }
                }) }
            </svg>
        };
    }
    let n = rows.len().max(1) as f64;
    let y = |v: f64| 110.0 - 100.0 * finite(v) / max;
    html! {
        <svg class="sweep" viewBox="0 0 280 120" role="img" aria-label="Sweep chart">
            { for rows.iter().enumerate().map(|(i, r)| {
                let s = &r.stats[0];
                let x = (i as f64 + 0.5) * 280.0 / n;
                html! { <g>
                    <rect x={format!("{:.1}", x - 6.0)} y={format!("{:.1}", y(s.p90))} width="12" height={format!("{:.1}", (y(s.p10) - y(s.p90)).max(0.5))} fill="#4a78c2" opacity="0.5" />
                    <line x1={format!("{:.1}", x - 8.0)} x2={format!("{:.1}", x + 8.0)} y1={format!("{:.1}", y(s.p50))} y2={format!("{:.1}", y(s.p50))} stroke="#dfe5ef" stroke-width="2" />
                    <circle cx={format!("{x:.1}")} cy={format!("{:.1}", y(s.p99))} r="2.5" fill="#e05a5a"><title>{ format!("p99 {}", unit.format(s.p99)) }</title></circle>
                    <title>{ format!("{}: median {}, p10–p90 {}–{}, n {}", r.values.join(" "), unit.format(s.p50), unit.format(s.p10), unit.format(s.p90), s.n) }</title>
                </g> }
            }) }
        </svg>
    }
}
