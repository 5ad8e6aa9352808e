//! The results view: the open lab's experiments and Tune, at the page's
//! full width.
//!
//! Every lab lists its experiments (named runs that produce a table: a
//! figure of a paper, every policy on the same traffic); the view offers
//! them with their arguments and shows the last answer as one generic
//! table and its chart. The worker runs them with the same code as
//! `clusterscope exp`, on the run so far when the experiment reads one, so
//! the page and the command line give the same numbers. Tables sort by
//! any column (a click on its heading), mark the best value of each column
//! that says which way is better, and open the run a row is (a link).
//! Charts are drawn by the core's chart module, the same drawing as
//! `--svg`, and export as SVG or PNG.

use super::files::{download_text, download_url};
use super::pen::{theme, CanvasPen, PenSketch};
use super::tune;
use crate::ctx::Ctx;
use crate::protocol::ToWorker;
use clusterscope_core::chart::{Chart, Style, PAGE};
use clusterscope_core::lab::{Cell, ColumnKind, ExperimentInfo, Table};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, HtmlInputElement};
use yew::prelude::*;

/// Props of [`Results`].
#[derive(Properties, Clone, PartialEq)]
pub struct ResultsProps {
    /// State and worker.
    pub ctx: Ctx,
    /// Shows the run a row opened (the cluster view).
    pub show_run: Callback<()>,
}

/// The results view: experiments, then Tune.
#[function_component]
pub fn Results(props: &ResultsProps) -> Html {
    html! {
        <div class="results-view">
            <Experiments ctx={props.ctx.clone()} show_run={props.show_run.clone()} />
            <tune::Tune ctx={props.ctx.clone()} show_run={props.show_run.clone()} />
        </div>
    }
}

/// The experiments of the open lab, each with a run button and its
/// arguments, and the last table with its chart.
#[function_component]
pub fn Experiments(props: &ResultsProps) -> Html {
    let ctx = &props.ctx;
    let lab = ctx.state.lab().to_string();
    let given = use_state(BTreeMap::<(String, String), String>::new);
    let Some(info) = ctx.state.catalog.iter().find(|l| l.name == lab) else { return html! {} };
    if info.experiments.is_empty() {
        return html! {};
    }
    let rows = info.experiments.iter().map(|e| {
        let args: Vec<(String, String)> = e
            .args
            .iter()
            .filter_map(|(name, ..)| given.get(&(e.name.clone(), name.clone())).map(|v| (name.clone(), v.clone())))
            .collect();
        let run = ctx.bridge.cb(ToWorker::Experiment { name: e.name.clone(), args });
        html! {
            <li>
                <button aria-label={format!("Run {}", e.name)} onclick={run}>{ format!("Run {}", e.name) }</button>
                <span class="about">{ &e.about }{ if e.reads_run { " (on the run so far)" } else { "" } }</span>
                { arguments(e, &given) }
            </li>
        }
    });
    let table = ctx.state.table.clone();
    let links = ctx.state.table_links.clone();
    let open = open_link(&props.show_run);
    html! {
        <section class="panel results" aria-label="Experiments">
            <h2>{ "Experiments" }</h2>
            <ul class="experiments">{ for rows }</ul>
            if let Some((name, table, n)) = table {
                if let Some(chart) = table.chart() {
                    <ChartView key={format!("chart-{n}")} chart={Rc::new(chart)} file={format!("clusterscope-{lab}-{name}")} />
                }
                <ResultTable key={n} name={name} table={table} links={links} open={open} />
            }
        </section>
    }
}

/// Opening a row's link: the address takes it (so it loads as a pasted
/// link does, and Back returns), and the run is shown.
fn open_link(show_run: &Callback<()>) -> Callback<(usize, String)> {
    let show_run = show_run.clone();
    Callback::from(move |(_, link): (usize, String)| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(&link);
        }
        show_run.emit(());
    })
}

/// An experiment's arguments as fields, each showing its default.
fn arguments(e: &ExperimentInfo, given: &UseStateHandle<BTreeMap<(String, String), String>>) -> Html {
    if e.args.is_empty() {
        return html! {};
    }
    html! {
        <details><summary>{ "Arguments" }</summary>
            { for e.args.iter().map(|(name, help, default)| {
                let key = (e.name.clone(), name.clone());
                let value = given.get(&key).cloned().unwrap_or_else(|| default.clone());
                let given = given.clone();
                let oninput = Callback::from(move |ev: InputEvent| {
                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                        let mut next = (*given).clone();
                        next.insert(key.clone(), input.value());
                        given.set(next);
                    }
                });
                html! {
                    <label title={help.clone()}>{ name }
                        <input aria-label={format!("{} {name}", e.name)} value={value} {oninput} />
                    </label>
                }
            }) }
        </details>
    }
}

/// Props of [`ResultTable`].
#[derive(Properties, Clone, PartialEq)]
pub struct ResultTableProps {
    /// The table's accessible name (the experiment that answered).
    pub name: String,
    /// The table.
    pub table: Rc<Table>,
    /// Per row, the link of the run it is (if any).
    #[prop_or_default]
    pub links: Rc<Vec<Option<String>>>,
    /// Opens row `i` (given its link, or empty when it has none but the
    /// table opens its rows itself).
    pub open: Callback<(usize, String)>,
    /// Every row opens (through `open`), with or without a link.
    #[prop_or_default]
    pub rows_open: bool,
    /// A row to highlight (the best setting of a search).
    #[prop_or_default]
    pub selected: Option<usize>,
    /// Hover text of an opening row.
    #[prop_or_default]
    pub open_title: Option<String>,
}

/// How rows are ordered: by a column, up or down; none keeps the table's order.
type Sort = Option<(usize, bool)>;

/// The order of the rows under `sort`: numbers by value, words in
/// alphabetical order, missing cells last either way.
fn order(t: &Table, sort: Sort) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..t.rows.len()).collect();
    let Some((col, up)) = sort else { return rows };
    let key = |r: usize| t.rows[r].get(col).cloned().unwrap_or(Cell::Missing);
    rows.sort_by(|a, b| match (key(*a), key(*b)) {
        (Cell::Missing, Cell::Missing) => Ordering::Equal,
        (Cell::Missing, _) => Ordering::Greater,
        (_, Cell::Missing) => Ordering::Less,
        (x, y) => {
            let o = match (x, y) {
                (Cell::Number(p), Cell::Number(q)) => p.total_cmp(&q),
                (Cell::Text(p), Cell::Text(q)) => p.cmp(&q),
                (Cell::Number(_), _) => Ordering::Less,
                _ => Ordering::Greater,
            };
            if up {
                o
            } else {
                o.reverse()
            }
        }
    });
    rows
}

/// A table: its title, headings with units (a click sorts), one row a line
/// (the first cell names the row, and links to its run), the best value of
/// each column marked, and its notes. Each number cell carries its column
/// and its full value (`data-column`, `data-value`) for scripts and tests.
#[function_component]
pub fn ResultTable(props: &ResultTableProps) -> Html {
    let sort = use_state(|| None::<(usize, bool)>);
    let t = &props.table;
    let shown = |col: usize, cell: &Cell| match (cell, t.columns.get(col).map(|c| c.kind)) {
        (Cell::Text(s), _) => s.clone(),
        (Cell::Number(v), Some(ColumnKind::Number { digits })) => format!("{v:.*}", usize::from(digits)),
        (Cell::Number(v), _) => v.to_string(),
        (Cell::Missing, _) => "–".into(),
    };
    let best: Vec<Vec<usize>> = (0..t.columns.len()).map(|c| t.best(c)).collect();
    let headings = t.columns.iter().enumerate().map(|(i, c)| heading(i, c, &sort));
    let rows = order(t, *sort).into_iter().map(|r| {
        let row = &t.rows[r];
        let name = row.first().map(|c| shown(0, c)).unwrap_or_default();
        let link = props.links.get(r).cloned().flatten();
        let opens = link.is_some() || props.rows_open;
        let onclick = opens.then(|| {
            let (open, link) = (props.open.clone(), link.clone().unwrap_or_default());
            Callback::from(move |e: MouseEvent| {
                // A modified click on the link opens a new tab, as links do.
                if !(e.ctrl_key() || e.meta_key() || e.shift_key()) {
                    e.prevent_default();
                    open.emit((r, link.clone()));
                }
            })
        });
        // Long names (weighted_round_robin) may break after an underscore.
        let wrapped = name.replace('_', "_\u{200b}");
        let first = match &link {
            Some(l) => html! { <a href={format!("#{l}")} title="Open this run">{ wrapped }</a> },
            None => html! { { wrapped } },
        };
        let title = opens.then(|| props.open_title.clone().unwrap_or_else(|| "Open this run".into()));
        html! {
            <tr aria-label={name.clone()} class={classes!(opens.then_some("opens"), (props.selected == Some(r)).then_some("selected"))} {onclick} {title}>
                <th scope="row">{ first }</th>
                { for row.iter().enumerate().skip(1).map(|(i, c)| {
                    let column = t.columns.get(i).map(|c| c.name.clone()).unwrap_or_default();
                    let value = c.value().map(|v| v.to_string());
                    let is_best = best[i].contains(&r);
                    let text = matches!(c, Cell::Text(_));
                    html! {
                        <td data-column={column} data-value={value} class={classes!(is_best.then_some("best"), text.then_some("text"))} data-best={is_best.then_some("true")}
                            title={is_best.then_some("Best of the column")}>{ shown(i, c) }</td>
                    }
                }) }
            </tr>
        }
    });
    html! {
        <figure class="result">
            // The title above the scrolling box, so a narrow screen wraps it
            // instead of cutting it with the table.
            <figcaption>{ &t.title }</figcaption>
            <div class="scroll"><table class="logs results-table" aria-label={props.name.clone()}>
                <thead><tr>{ for headings }</tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
            { for t.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
        </figure>
    }
}

/// A column's heading: a button that sorts by it (numbers first from the
/// lowest, a second click reverses), its unit on a line of its own.
fn heading(i: usize, c: &clusterscope_core::lab::Column, sort: &UseStateHandle<Sort>) -> Html {
    let number = matches!(c.kind, ColumnKind::Number { .. });
    let aria = match **sort {
        Some((col, true)) if col == i => "ascending",
        Some((col, false)) if col == i => "descending",
        _ => "none",
    };
    let onclick = {
        let sort = sort.clone();
        Callback::from(move |_| {
            sort.set(match *sort {
                Some((col, up)) if col == i => Some((i, !up)),
                _ => Some((i, true)),
            })
        })
    };
    let better = match c.better {
        Some(clusterscope_core::lab::Better::Lower) => Some("lower is better"),
        Some(clusterscope_core::lab::Better::Higher) => Some("higher is better"),
        None => None,
    };
    html! {
        <th scope="col" aria-sort={aria} class={classes!(number.then_some("num"))} title={better}>
            <button class="sort" {onclick}>
                { &c.name }
                if !c.unit.is_empty() { <span class="unit">{ &c.unit }</span> }
            </button>
        </th>
    }
}

/// Props of [`ChartView`].
#[derive(Properties, Clone, PartialEq)]
pub struct ChartViewProps {
    /// The chart.
    pub chart: Rc<Chart>,
    /// The exports' file name, without its extension.
    pub file: String,
}

/// Largest size the page's charts are laid out at (the SVG scales to its box).
pub const CHART_SIZE: (f64, f64) = (760.0, 380.0);

/// The size to lay a chart out at: narrower on a narrow screen, so that its
/// text stays legible instead of shrinking with the picture.
fn chart_size() -> (f64, f64) {
    let window = web_sys::window().and_then(|w| w.inner_width().ok()).and_then(|v| v.as_f64()).unwrap_or(1280.0);
    let w = (window - 60.0).clamp(300.0, CHART_SIZE.0);
    // Taller than half its width on a phone: turned category names take
    // room under the plot.
    (w, (w * 0.5).max(320.0))
}

/// A chart on the page (the core's SVG inline, so each mark shows its value
/// on hover) with its exports: SVG (the same document) and PNG (the same
/// drawing through the canvas pen).
#[function_component]
pub fn ChartView(props: &ChartViewProps) -> Html {
    let (w, h) = chart_size();
    let svg = props.chart.to_svg(w, h, &PAGE);
    let export_svg = {
        let (chart, file) = (props.chart.clone(), props.file.clone());
        Callback::from(move |_| {
            let t = theme();
            let style = Style { bg: Some(t.bg), fg: t.fg, grid: t.faint };
            download_text(&chart.to_svg(w, h, &style), &format!("{file}.svg"), "image/svg+xml");
        })
    };
    let export_png = {
        let (chart, file) = (props.chart.clone(), props.file.clone());
        Callback::from(move |_| png(&chart, &format!("{file}.png")))
    };
    html! {
        <figure class="chart-figure">
            { Html::from_html_unchecked(AttrValue::from(svg)) }
            <div class="buttons chart-exports">
                <button onclick={export_svg} aria-label={format!("Export {} as SVG", props.chart.title)}>{ "Export SVG" }</button>
                <button onclick={export_png} aria-label={format!("Export {} as PNG", props.chart.title)}>{ "Export PNG" }</button>
            </div>
        </figure>
    }
}

/// Draws `chart` on a canvas of its own, at twice the size for sharpness,
/// and offers it as a PNG.
fn png(chart: &Chart, name: &str) {
    let (w, h) = CHART_SIZE;
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Some(canvas) = doc.create_element("canvas").ok().and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok()) else {
        return;
    };
    canvas.set_width((w * 2.0) as u32);
    canvas.set_height((h * 2.0) as u32);
    let Some(ctx) =
        canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let _ = ctx.scale(2.0, 2.0);
    let t = theme();
    let style = Style { bg: Some(t.bg), fg: t.fg, grid: t.faint };
    let mut pen = CanvasPen(&ctx);
    chart.draw(&mut PenSketch(&mut pen), w, h, &style);
    if let Ok(url) = canvas.to_data_url_with_type("image/png") {
        download_url(&url, name);
    }
}
