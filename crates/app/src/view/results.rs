//! The open lab's experiments, and the table the last one answered.
//!
//! Every lab lists its experiments (named runs that produce a table: a
//! figure of a paper, every policy on the same traffic); the page offers
//! them here with their arguments and shows the answer as one generic
//! table, in the main area under the drawing where a wide table has room.
//! The worker runs them with the same code as `clusterscope exp`, on the
//! run so far when the experiment reads one, so the page and the command
//! line give the same numbers.

use crate::ctx::PanelProps;
use crate::protocol::ToWorker;
use clusterscope_core::lab::{Cell, ColumnKind, ExperimentInfo, Table};
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The experiments of the open lab, each with a run button and its
/// arguments, and the last table.
#[function_component]
pub fn Experiments(props: &PanelProps) -> Html {
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
    html! {
        <section class="panel results" aria-label="Experiments">
            <h2>{ "Experiments" }</h2>
            <ul class="experiments">{ for rows }</ul>
            if let Some((name, table, n)) = table {
                <ResultTable key={n} name={name} table={table} />
            }
        </section>
    }
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
    /// The experiment that answered.
    pub name: String,
    /// Its answer.
    pub table: Rc<Table>,
}

/// A table: its title, headings with units, one row a line (the first cell
/// names the row), and its notes. Each number cell carries its column and
/// its full value (`data-column`, `data-value`) for scripts and tests.
#[function_component]
pub fn ResultTable(props: &ResultTableProps) -> Html {
    let t = &props.table;
    let shown = |col: usize, cell: &Cell| match (cell, t.columns.get(col).map(|c| c.kind)) {
        (Cell::Text(s), _) => s.clone(),
        (Cell::Number(v), Some(ColumnKind::Number { digits })) => format!("{v:.*}", usize::from(digits)),
        (Cell::Number(v), _) => v.to_string(),
        (Cell::Missing, _) => "–".into(),
    };
    html! {
        <figure class="result">
            // The title above the scrolling box, so a narrow screen wraps it
            // instead of cutting it with the table.
            <figcaption>{ &t.title }</figcaption>
            <div class="scroll"><table class="logs" aria-label={props.name.clone()}>
                <thead><tr>{ for t.columns.iter().map(|c| {
                    let number = matches!(c.kind, ColumnKind::Number { .. });
                    html! { <th scope="col" class={classes!(number.then_some("num"))}>{ c.heading() }</th> }
                }) }</tr></thead>
                <tbody>
                { for t.rows.iter().map(|row| {
                    let name = row.first().map(|c| shown(0, c)).unwrap_or_default();
                    html! {
                        <tr aria-label={name.clone()}>
                            <th scope="row">{ name }</th>
                            { for row.iter().enumerate().skip(1).map(|(i, c)| {
                                let column = t.columns.get(i).map(|c| c.name.clone()).unwrap_or_default();
                                let value = c.value().map(|v| v.to_string());
                                html! { <td data-column={column} data-value={value}>{ shown(i, c) }</td> }
                            }) }
                        </tr>
                    }
                }) }
                </tbody>
            </table></div>
            { for t.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
        </figure>
    }
}
