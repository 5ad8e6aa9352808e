//! Experiments: named runs of a lab that produce a table.
//!
//! An experiment is what a reader of a paper or a design doc wants to
//! repeat: many seeded runs, or one scenario run several ways, boiled down
//! to a [`Table`] (a figure of a paper, every policy of a lab on
//! the same traffic). Each lab lists its own in [`LabDef::experiments`]
//! (crate::lab::LabDef); this module names no lab. It holds the shape of
//! an experiment ([`Experiment`], its arguments [`ExpArg`] and their
//! values [`ExpArgs`]), the shape of its answer ([`Table`], which the page
//! and the command line's `--json` read through serde, and which renders as
//! aligned text or CSV), and [`run`], which checks what a user gives
//! (argument names and values, the scenario's lab) and answers with
//! sentences.

use crate::chart::{Axis, Chart, Mark, Point, Series, COLOURS};
use crate::scenario::{parse_time, Scenario};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// One argument an experiment takes, with its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpArg {
    /// Name on the command line (`--arg runs=50`).
    pub name: &'static str,
    /// What it sets, in a few words.
    pub help: &'static str,
    /// Its value when not given, as the user would write it.
    pub default: &'static str,
}

/// A named run of a lab that produces a [`Table`].
pub struct Experiment {
    /// Name on the command line (`fig16`).
    pub name: &'static str,
    /// One line on what it measures.
    pub about: &'static str,
    /// The arguments it takes, with their defaults.
    pub args: &'static [ExpArg],
    /// The labs whose scenario files it reads (empty: it reads none and
    /// runs from its arguments alone).
    pub reads: &'static [&'static str],
    /// Whether it cannot run without a scenario. When none is given it
    /// runs [`Experiment::default_scenario`] if there is one.
    pub needs_scenario: bool,
    /// The scenario (as text) it runs when it needs one and none is given.
    pub default_scenario: Option<&'static str>,
}

impl std::fmt::Debug for Experiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Experiment").field("name", &self.name).finish_non_exhaustive()
    }
}

/// An experiment's argument values: every argument it declares, given or
/// defaulted, read as the type it needs with a sentence if it does not fit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpArgs {
    values: Vec<(String, String)>,
}

impl ExpArgs {
    /// The arguments `given` (name, value) over the defaults of `spec`. A
    /// name the experiment does not take is refused, naming those it does.
    pub fn new(spec: &[ExpArg], given: &[(String, String)]) -> Result<ExpArgs, String> {
        let mut values: Vec<(String, String)> =
            spec.iter().map(|a| (a.name.to_string(), a.default.to_string())).collect();
        for (name, value) in given {
            match values.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = value.trim().to_string(),
                None if spec.is_empty() => return Err(format!("it takes no arguments ('{name}' given)")),
                None => {
                    let known: Vec<&str> = spec.iter().map(|a| a.name).collect();
                    return Err(format!("it has no argument '{name}' (it takes {})", known.join(", ")));
                }
            }
        }
        Ok(ExpArgs { values })
    }

    /// The defaults of `spec`.
    pub fn defaults(spec: &[ExpArg]) -> ExpArgs {
        ExpArgs { values: spec.iter().map(|a| (a.name.to_string(), a.default.to_string())).collect() }
    }

    /// An argument's text (empty if the experiment declares no such argument).
    pub fn text(&self, name: &str) -> &str {
        self.values.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }

    /// A comma-separated list, without empty items.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.text(name).split(',').map(str::trim).filter(|s| !s.is_empty()).collect()
    }

    /// A whole number between `min` and `max`.
    pub fn count(&self, name: &str, min: u64, max: u64) -> Result<u64, String> {
        let text = self.text(name);
        match text.replace('_', "").parse::<u64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            Ok(_) => Err(format!("{name} = {text} is out of range: it must be between {min} and {max}")),
            Err(_) => Err(format!("{name} = '{text}' is not a whole number")),
        }
    }

    /// A number (decimals allowed).
    pub fn number(&self, name: &str) -> Result<f64, String> {
        let text = self.text(name);
        text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| format!("{name} = '{text}' is not a number"))
    }

    /// A duration as files write them (`150ms`, `2s`), in microseconds.
    pub fn duration(&self, name: &str) -> Result<u64, String> {
        parse_time(self.text(name)).map_err(|e| format!("{name}: {e}"))
    }

    /// Every (name, value), in the order the experiment declares them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// Words (a name, a range such as `150-300`).
    Text,
    /// Numbers, shown with this many decimals.
    Number {
        /// Decimals in the text table.
        digits: u8,
    },
}

/// Which way a column's numbers are better, if either is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Higher is better (goodput, commands committed).
    Higher,
    /// Lower is better (latency, messages, failures).
    Lower,
}

/// A column of a [`Table`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Its heading (`p50`).
    pub name: String,
    /// The unit of its numbers (`ms`, `%`; empty for counts, ratios and text).
    pub unit: String,
    /// Text or numbers.
    pub kind: ColumnKind,
    /// Which way its numbers are better (`None`: neither, such as a count
    /// of requests made or the ideal a placement is measured against).
    #[serde(default)]
    pub better: Option<Better>,
}

impl Column {
    /// A column of words.
    pub fn text(name: &str) -> Column {
        Column { name: name.into(), unit: String::new(), kind: ColumnKind::Text, better: None }
    }

    /// A column of numbers in `unit`, shown with `digits` decimals.
    pub fn number(name: &str, unit: &str, digits: u8) -> Column {
        Column { name: name.into(), unit: unit.into(), kind: ColumnKind::Number { digits }, better: None }
    }

    /// The same column, lower being better.
    pub fn lower(self) -> Column {
        Column { better: Some(Better::Lower), ..self }
    }

    /// The same column, higher being better.
    pub fn higher(self) -> Column {
        Column { better: Some(Better::Higher), ..self }
    }

    /// Its heading with its unit: `p50 (ms)`.
    pub fn heading(&self) -> String {
        if self.unit.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.unit)
        }
    }
}

/// One cell of a [`Table`]. In JSON a cell is a plain number, a string or
/// `null` (missing); in bincode (the page) a tagged value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Words.
    Text(String),
    /// A number in its column's unit.
    Number(f64),
    /// Nothing measured (no run finished, nothing committed).
    Missing,
}

/// A cell as bincode and other compact formats hold it.
#[derive(Serialize, Deserialize)]
enum TaggedCell {
    Text(String),
    Number(f64),
    Missing,
}

/// A cell as JSON writes it: a number or a string (or null, outside).
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PlainCell {
    Number(f64),
    Text(String),
}

impl Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            match self {
                Cell::Text(t) => s.serialize_str(t),
                Cell::Number(v) => s.serialize_f64(*v),
                Cell::Missing => s.serialize_none(),
            }
        } else {
            match self {
                Cell::Text(t) => TaggedCell::Text(t.clone()),
                Cell::Number(v) => TaggedCell::Number(*v),
                Cell::Missing => TaggedCell::Missing,
            }
            .serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cell, D::Error> {
        Ok(if d.is_human_readable() {
            match Option::<PlainCell>::deserialize(d)? {
                Some(PlainCell::Number(v)) => Cell::Number(v),
                Some(PlainCell::Text(t)) => Cell::Text(t),
                None => Cell::Missing,
            }
        } else {
            match TaggedCell::deserialize(d)? {
                TaggedCell::Text(t) => Cell::Text(t),
                TaggedCell::Number(v) => Cell::Number(v),
                TaggedCell::Missing => Cell::Missing,
            }
        })
    }
}

impl Cell {
    /// A number; NaN or an infinity is [`Cell::Missing`].
    pub fn num(v: f64) -> Cell {
        if v.is_finite() {
            Cell::Number(v)
        } else {
            Cell::Missing
        }
    }

    /// A number if there is one.
    pub fn opt(v: Option<f64>) -> Cell {
        v.map_or(Cell::Missing, Cell::num)
    }

    /// Words.
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// The number, if the cell holds one.
    pub fn value(&self) -> Option<f64> {
        match self {
            Cell::Number(v) => Some(*v),
            _ => None,
        }
    }
}

/// An experiment's answer: a titled table with units and notes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// What was measured, in one line.
    pub title: String,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows, each one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// Sentences: the settings, what the columns mean, what to expect.
    pub notes: Vec<String>,
    /// The scenario each row ran, as text, where a row is one run (empty,
    /// or `None` for a row, where it is not): the page opens it.
    #[serde(default)]
    pub runs: Vec<Option<String>>,
    /// The chart that tells the table's story, if the experiment drew one
    /// (otherwise [`Table::chart`] makes one from the columns).
    #[serde(default)]
    pub chart: Option<Chart>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(title: impl Into<String>, columns: Vec<Column>) -> Table {
        Table { title: title.into(), columns, rows: Vec::new(), notes: Vec::new(), runs: Vec::new(), chart: None }
    }

    /// The rows holding the best value of column `col` (ties all count),
    /// if the column says which way is better and holds two numbers or more.
    pub fn best(&self, col: usize) -> Vec<usize> {
        let Some(better) = self.columns.get(col).and_then(|c| c.better) else { return Vec::new() };
        let values: Vec<(usize, f64)> = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.get(col).and_then(Cell::value).map(|v| (i, v)))
            .collect();
        if values.len() < 2 {
            return Vec::new();
        }
        let pick = |a: f64, b: f64| if better == Better::Higher { a.max(b) } else { a.min(b) };
        let best = values.iter().map(|v| v.1).reduce(pick).unwrap_or(f64::NAN);
        if values.iter().all(|v| v.1 == best) {
            return Vec::new();
        }
        values.into_iter().filter(|v| v.1 == best).map(|v| v.0).collect()
    }

    /// The chart of the table: the experiment's own, else one group of bars
    /// per row. A row's group is named by the columns that say what the row
    /// is (those before the first column with a better direction, joined:
    /// `1 / 2` for R and W). The bars are the headline column (the first
    /// with a direction) and the other number columns in its unit, unless
    /// that unit is empty: plain counts and ratios seldom measure the same
    /// thing, so the headline is then drawn alone. `None` if the table has
    /// no numbers.
    pub fn chart(&self) -> Option<Chart> {
        if let Some(c) = &self.chart {
            return Some(c.clone());
        }
        let number = |i: &usize| matches!(self.columns[*i].kind, ColumnKind::Number { .. });
        let keys = self.columns.iter().skip(1).take_while(|c| c.better.is_none()).count() + 1;
        let headline = (keys..self.columns.len())
            .find(|i| number(i) && self.columns[*i].better.is_some())
            .or_else(|| (1..self.columns.len()).find(number))?;
        let unit = self.columns[headline].unit.clone();
        let chosen: Vec<usize> = if unit.is_empty() {
            vec![headline]
        } else {
            (keys..self.columns.len())
                .filter(|i| number(i) && self.columns[*i].unit == unit)
                .take(COLOURS.len())
                .collect()
        };
        let key_names: Vec<&str> = self.columns[..keys].iter().map(|c| c.name.as_str()).collect();
        let names: Vec<&str> = chosen.iter().map(|i| self.columns[*i].name.as_str()).collect();
        let y = if names.len() <= 3 { names.join(", ") } else { "value".to_string() };
        let mut chart = Chart::new(self.title.clone(), Axis::new(&key_names.join(" / "), ""), Axis::new(&y, &unit));
        chart.categories = self
            .rows
            .iter()
            .map(|r| {
                let named: Vec<String> = r[..keys.min(r.len())]
                    .iter()
                    .map(|c| match c {
                        Cell::Text(t) => t.clone(),
                        Cell::Number(v) => v.to_string(),
                        _ => String::new(),
                    })
                    .collect();
                named.join(" / ")
            })
            .collect();
        for i in chosen {
            let points = self
                .rows
                .iter()
                .enumerate()
                .map(|(k, r)| Point::new(k as f64, r.get(i).and_then(Cell::value).unwrap_or(f64::NAN)))
                .collect();
            chart.series.push(Series { name: self.columns[i].name.clone(), mark: Mark::Bars, points });
        }
        chart.has_values().then_some(chart)
    }

    /// The scenario row `row` ran, if it is one run.
    pub fn run_of(&self, row: usize) -> Option<&str> {
        self.runs.get(row).and_then(|r| r.as_deref())
    }

    /// Adds a row (one cell per column).
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "a row has one cell per column");
        self.rows.push(row);
    }

    /// Adds a note.
    pub fn note(&mut self, sentence: impl Into<String>) {
        self.notes.push(sentence.into());
    }

    /// The index of a column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// A cell as the text table shows it.
    fn shown(&self, col: usize, cell: &Cell) -> String {
        match (cell, self.columns[col].kind) {
            (Cell::Text(s), _) => s.clone(),
            (Cell::Number(v), ColumnKind::Number { digits }) => format!("{v:.*}", usize::from(digits)),
            (Cell::Number(v), ColumnKind::Text) => v.to_string(),
            (Cell::Missing, _) => "-".into(),
        }
    }

    /// An aligned text table: the title, the headings, the rows (words to
    /// the left, numbers to the right), then the notes.
    pub fn to_text(&self) -> String {
        let headings: Vec<String> = self.columns.iter().map(Column::heading).collect();
        let cells: Vec<Vec<String>> =
            self.rows.iter().map(|r| r.iter().enumerate().map(|(i, c)| self.shown(i, c)).collect()).collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| cells.iter().map(|r| r[i].chars().count()).chain([headings[i].chars().count()]).max().unwrap_or(0))
            .collect();
        let line = |items: &[String]| {
            let mut s = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                let pad = widths[i].saturating_sub(item.chars().count());
                match self.columns[i].kind {
                    ColumnKind::Text => {
                        s.push_str(item);
                        s.extend(std::iter::repeat_n(' ', pad));
                    }
                    ColumnKind::Number { .. } => {
                        s.extend(std::iter::repeat_n(' ', pad));
                        s.push_str(item);
                    }
                }
            }
            s.truncate(s.trim_end().len());
            s + "\n"
        };
        let mut out = format!("{}\n", self.title);
        out.push_str(&line(&headings));
        for r in &cells {
            out.push_str(&line(r));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                let _ = writeln!(out, "{n}");
            }
        }
        out
    }

    /// CSV: a heading line (with units) and one line per row; numbers at
    /// full precision, nothing for a missing number.
    pub fn to_csv(&self) -> String {
        fn field(s: &str) -> String {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        }
        let mut out: String = self.columns.iter().map(|c| field(&c.heading())).collect::<Vec<_>>().join(",");
        out.push('\n');
        for r in &self.rows {
            let items: Vec<String> = r
                .iter()
                .map(|c| match c {
                    Cell::Text(s) => field(s),
                    Cell::Number(v) => v.to_string(),
                    Cell::Missing => String::new(),
                })
                .collect();
            out.push_str(&items.join(","));
            out.push('\n');
        }
        out
    }

    /// The table as JSON (the serde form the page reads too).
    pub fn to_json(&self) -> String {
        // A table holds strings and finite numbers only, so this cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Why a scenario does not suit an experiment, in a sentence.
fn wrong_lab(exp: &Experiment, scn: &Scenario) -> Option<String> {
    let lab = scn.lab.name();
    if exp.reads.contains(&lab) {
        return None;
    }
    Some(if exp.reads.is_empty() {
        format!("{} reads no scenario file (it runs from its arguments alone); this file is a {lab} scenario", exp.name)
    } else {
        format!("{} needs a {} scenario; this file is a {lab} scenario", exp.name, exp.reads.join(" or "))
    })
}

/// Runs an experiment on a scenario (or its default one) with the given
/// arguments, after checking both; every refusal is a sentence.
pub fn run(exp: &Experiment, scn: Option<&Scenario>, given: &[(String, String)]) -> Result<Table, String> {
    let args = ExpArgs::new(exp.args, given).map_err(|e| format!("{}: {e}", exp.name))?;
    if let Some(s) = scn {
        if let Some(why) = wrong_lab(exp, s) {
            return Err(why);
        }
    }
    let default;
    let scn = match (scn, exp.default_scenario) {
        (Some(s), _) => Some(s),
        (None, Some(text)) if exp.needs_scenario => {
            default = Scenario::parse(text).map_err(|e| format!("{}: its default scenario: {e}", exp.name))?;
            Some(&default)
        }
        (None, None) if exp.needs_scenario => {
            return Err(format!("{} needs a {} scenario file", exp.name, exp.reads.join(" or ")))
        }
        (None, _) => None,
    };
    (super::registry::run_of(exp)?)(scn, &args)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARGS: &[ExpArg] = &[ExpArg { name: "runs", help: "runs", default: "10" }];

    fn table() -> Table {
        let mut t = Table::new("Two rows", vec![Column::text("name"), Column::number("p50", "ms", 1)]);
        t.push(vec![Cell::text("a, b"), Cell::num(12.345)]);
        t.push(vec![Cell::text("c"), Cell::num(f64::NAN)]);
        t.note("A note.");
        t
    }

    #[test]
    fn a_table_renders_as_text_csv_and_json() {
        let t = table();
        assert_eq!(t.to_text(), "Two rows\nname  p50 (ms)\na, b      12.3\nc            -\n\nA note.\n");
        assert_eq!(t.to_csv(), "name,p50 (ms)\n\"a, b\",12.345\nc,\n");
        let json = t.to_json();
        assert!(json.contains("\"a, b\",\n      12.345\n") && json.contains("null"), "plain cells: {json}");
        let back: Table = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let bytes = bincode::serialize(&t).unwrap();
        assert_eq!(bincode::deserialize::<Table>(&bytes).unwrap(), t, "the page reads it in bincode");
    }

    #[test]
    fn arguments_default_and_refuse_in_sentences() {
        let a = ExpArgs::new(ARGS, &[]).unwrap();
        assert_eq!(a.count("runs", 1, 100), Ok(10));
        let a = ExpArgs::new(ARGS, &[("runs".into(), "500".into())]).unwrap();
        assert_eq!(a.count("runs", 1, 100).unwrap_err(), "runs = 500 is out of range: it must be between 1 and 100");
        let e = ExpArgs::new(ARGS, &[("seeds".into(), "5".into())]).unwrap_err();
        assert_eq!(e, "it has no argument 'seeds' (it takes runs)");
    }
}
