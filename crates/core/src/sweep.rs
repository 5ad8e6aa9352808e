//! Parameter sweeps over many seeds: the distribution of a metric, not one
//! run's outcome.
//!
//! A sweep takes a scenario as its template (faults and actions included),
//! one or more parameters with the values to try, a number of seeds and the
//! metrics to read at the end of each run. Every combination of values is a
//! *point*; every (point, seed) is a *unit*, run on its own with
//! [`Lab::replay`]. Units are independent, so they can run on any number of
//! threads or machines ([`Sweep::units`] with a shard) and be combined in
//! any order: [`summarise`] sorts by point and seed first, so one run, many
//! threads and merged shards give identical numbers.
//!
//! ```
//! use clusterscope_core::scenario::Scenario;
//! use clusterscope_core::sweep::{summarise, Sweep};
//!
//! let scn = Scenario::parse("lab raft\nnodes 3\nuntil 2s\n").unwrap();
//! let sweep = Sweep::new(scn, &["election_timeout_max=200ms,400ms"], 4, &["leaders_elected"]).unwrap();
//! let units: Vec<_> = sweep.units(None).map(|u| sweep.run(u).unwrap()).collect();
//! let rows = summarise(&sweep, &units);
//! assert_eq!(rows.len(), 2);
//! assert_eq!(rows[0].stats[0].n, 4);
//! ```

use crate::chart::{Axis, Chart, Mark, Point, Series};
use crate::lab::Lab;
use crate::scenario::{Scenario, ScenarioError};
use serde::{Deserialize, Serialize};

pub use crate::scenario::range::{parse_range, ParamRange, MAX_POINTS, MAX_UNITS};

/// A sweep: the template, the parameters, the seeds and the metrics.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The scenario every run starts from.
    pub template: Scenario,
    /// The parameters swept.
    pub params: Vec<ParamRange>,
    /// Seeds `0..seeds`.
    pub seeds: u64,
    /// Metrics read at the end of each run.
    pub metrics: Vec<String>,
}

/// One run's outcome: which point, which seed, the metrics' values (NaN
/// where the run measured none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitResult {
    /// The point's number.
    pub point: usize,
    /// The seed.
    pub seed: u64,
    /// Values of the sweep's metrics, in order.
    pub values: Vec<f64>,
}

/// A metric's distribution over the seeds of one point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Runs that measured it.
    pub n: usize,
    /// Runs that did not (NaN).
    pub missing: usize,
    /// Mean.
    pub mean: f64,
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// What summarising needs of a sweep, without its scenario (the page has
/// it from the worker and never runs the engine).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    /// The parameters swept.
    pub params: Vec<ParamRange>,
    /// Seeds `0..seeds`.
    pub seeds: u64,
    /// Metrics read.
    pub metrics: Vec<String>,
}

impl Shape {
    /// How many points.
    pub fn points(&self) -> usize {
        self.params.iter().map(|p| p.values.len()).product()
    }

    /// The parameters' value indexes of point `p` (the last parameter
    /// varies fastest).
    pub fn coords(&self, mut p: usize) -> Vec<usize> {
        let mut out = vec![0; self.params.len()];
        for (i, r) in self.params.iter().enumerate().rev() {
            out[i] = p % r.values.len().max(1);
            p /= r.values.len().max(1);
        }
        out
    }

    /// Units in all.
    pub fn units(&self) -> u64 {
        self.points() as u64 * self.seeds
    }
}

/// One point's summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointRow {
    /// The parameters' values, as files write them.
    pub values: Vec<String>,
    /// Per metric, its distribution.
    pub stats: Vec<Stats>,
}

fn bad(m: String) -> ScenarioError {
    ScenarioError::Invalid(m)
}

impl Sweep {
    /// A sweep of `template` over `ranges` (`NAME=...`), seeds `0..seeds`,
    /// reading `metrics`. Everything is checked here, with a sentence.
    pub fn new(template: Scenario, ranges: &[&str], seeds: u64, metrics: &[&str]) -> Result<Sweep, ScenarioError> {
        if template.until == 0 {
            return Err(bad("the template scenario needs an 'until' time: each run goes that far".into()));
        }
        if ranges.is_empty() {
            return Err(bad("give at least one parameter to sweep".into()));
        }
        let params = ranges.iter().map(|r| parse_range(&template, r)).collect::<Result<Vec<_>, _>>()?;
        let points: usize = params.iter().map(|p| p.values.len()).product();
        if points > MAX_POINTS || points as u128 * u128::from(seeds) > MAX_UNITS as u128 || seeds == 0 {
            return Err(bad(format!(
                "{points} points × {seeds} seeds: a sweep needs at least one seed and at most {MAX_POINTS} points and {MAX_UNITS} runs"
            )));
        }
        // Every point must make a valid scenario (a minimum above a maximum
        // is refused now, not in the middle of the sweep).
        let sweep = Sweep { template, params, seeds, metrics: metrics.iter().map(|m| m.to_string()).collect() };
        for p in 0..points {
            sweep.scenario(p, 0)?;
        }
        // And every metric must exist.
        let schema = Lab::new(&sweep.scenario(0, 0)?)?.schema();
        for m in &sweep.metrics {
            if schema.metric_index(m).is_none() {
                let known: Vec<&str> = schema.metrics.iter().map(|m| m.name.as_str()).collect();
                return Err(bad(format!("unknown metric '{m}' (known: {})", known.join(", "))));
            }
        }
        if sweep.metrics.is_empty() {
            return Err(bad("give at least one metric to read".into()));
        }
        Ok(sweep)
    }

    /// What summarising needs.
    pub fn shape(&self) -> Shape {
        Shape { params: self.params.clone(), seeds: self.seeds, metrics: self.metrics.clone() }
    }

    /// How many points.
    pub fn points(&self) -> usize {
        self.shape().points()
    }

    /// The parameters' value indexes of point `p`.
    pub fn coords(&self, p: usize) -> Vec<usize> {
        self.shape().coords(p)
    }

    /// Unit number `i` (points in order, seeds within each).
    pub fn unit(&self, i: u64) -> (usize, u64) {
        ((i / self.seeds) as usize, i % self.seeds)
    }

    /// The scenario of point `p` with seed `seed`.
    pub fn scenario(&self, p: usize, seed: u64) -> Result<Scenario, ScenarioError> {
        let mut s = self.template.clone();
        s.seed = seed;
        for (r, &i) in self.params.iter().zip(&self.coords(p)) {
            s.set(&r.name, r.values[i]).map_err(bad)?;
        }
        s.validate()?;
        Ok(s)
    }

    /// The units, in order, or those of shard `k` of `n` (every n-th).
    pub fn units(&self, shard: Option<(u64, u64)>) -> impl Iterator<Item = (usize, u64)> + '_ {
        let seeds = self.seeds;
        (0..self.points() as u64 * seeds)
            .filter(move |i| shard.is_none_or(|(k, n)| i % n.max(1) == k))
            .map(move |i| ((i / seeds) as usize, i % seeds))
    }

    /// Runs one unit.
    pub fn run(&self, (point, seed): (usize, u64)) -> Result<UnitResult, ScenarioError> {
        let mut lab = Lab::replay(&self.scenario(point, seed)?)?;
        let metrics = lab.metrics();
        let values = self
            .metrics
            .iter()
            .map(|m| metrics.iter().find(|(spec, _)| spec.name == *m).map_or(f64::NAN, |(_, v)| *v))
            .collect();
        Ok(UnitResult { point, seed, values })
    }

    /// The metrics that measure nothing in the template's window: none of
    /// seeds 0 and 1 at up to [`PROBE_POINTS`] points spread over the sweep
    /// gives them a value (an election after a crash, in a scenario with
    /// no crash before its `until`). Named before the sweep runs, so that
    /// no one waits for a table of empty rows.
    pub fn undefined_metrics(&self) -> Result<Vec<String>, ScenarioError> {
        let points = self.points();
        let probes = PROBE_POINTS.min(points);
        let mut measured = vec![false; self.metrics.len()];
        for k in 0..probes {
            let point = if probes > 1 { k * (points - 1) / (probes - 1) } else { 0 };
            for seed in 0..self.seeds.min(2) {
                let r = self.run((point, seed))?;
                for (m, v) in measured.iter_mut().zip(&r.values) {
                    *m |= !v.is_nan();
                }
            }
            if measured.iter().all(|m| *m) {
                break;
            }
        }
        Ok(self.metrics.iter().zip(measured).filter(|(_, m)| !m).map(|(name, _)| name.clone()).collect())
    }

    /// The template's `until`: how far each run goes.
    pub fn until(&self) -> crate::sim::Time {
        self.template.until
    }
}

/// Points tried by [`Sweep::undefined_metrics`].
pub const PROBE_POINTS: usize = 4;

/// What a search asks: the point whose median of `objective` is lowest (or
/// highest) among those whose medians meet every constraint. The objective
/// may also be a swept parameter: "the fewest virtual nodes that keep the
/// keys' spread under 10%".
#[derive(Clone, Debug, PartialEq)]
pub struct Goal {
    /// The metric to optimise (one of the sweep's).
    pub objective: String,
    /// Minimise (else maximise).
    pub minimise: bool,
    /// Checks on other metrics' medians (`elections <= 2`).
    pub constraints: Vec<crate::scenario::Expect>,
}

/// The best point of a summarised sweep for `goal`, if any meets the
/// constraints: an exhaustive search of the sweep's grid, so the answer is
/// exact for the points swept and the same on every run (ties go to the
/// earlier point). Errors name a metric the sweep did not read.
pub fn search(shape: &Shape, rows: &[PointRow], goal: &Goal) -> Result<Option<usize>, String> {
    let index = |m: &str| {
        shape.metrics.iter().position(|x| x == m).ok_or_else(|| {
            format!("the search needs '{m}' among the sweep's metrics (it read: {})", shape.metrics.join(", "))
        })
    };
    // The objective: a metric's median, or a swept parameter's value.
    let param = shape.params.iter().position(|r| r.name == goal.objective);
    let o = match param {
        Some(_) => 0,
        None => index(&goal.objective)?,
    };
    let checks = goal.constraints.iter().map(|c| Ok((index(&c.metric)?, c))).collect::<Result<Vec<_>, String>>()?;
    let mut best: Option<(usize, f64)> = None;
    for (p, row) in rows.iter().enumerate() {
        let ok = checks.iter().all(|(i, c)| {
            let v = row.stats[*i].p50;
            !v.is_nan() && c.cmp.holds(v, c.value)
        });
        let v = match param {
            Some(i) => shape.params[i].values[shape.coords(p)[i]] as f64,
            None => row.stats[o].p50,
        };
        if !ok || v.is_nan() {
            continue;
        }
        let better = best.is_none_or(|(_, b)| if goal.minimise { v < b } else { v > b });
        if better {
            best = Some((p, v));
        }
    }
    Ok(best.map(|(p, _)| p))
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Each point's distribution of each metric, from units in any order
/// (duplicates of a unit count once).
pub fn summarise(sweep: &Sweep, units: &[UnitResult]) -> Vec<PointRow> {
    summarise_shape(&sweep.shape(), units)
}

/// [`summarise`] from a sweep's [`Shape`].
pub fn summarise_shape(sweep: &Shape, units: &[UnitResult]) -> Vec<PointRow> {
    let mut sorted: Vec<&UnitResult> = units.iter().collect();
    sorted.sort_by_key(|u| (u.point, u.seed));
    sorted.dedup_by_key(|u| (u.point, u.seed));
    (0..sweep.points())
        .map(|p| {
            let mine: Vec<&&UnitResult> = sorted.iter().filter(|u| u.point == p).collect();
            let stats = (0..sweep.metrics.len())
                .map(|m| {
                    let mut v: Vec<f64> = mine.iter().map(|u| u.values.get(m).copied().unwrap_or(f64::NAN)).collect();
                    let missing = v.iter().filter(|x| x.is_nan()).count();
                    v.retain(|x| !x.is_nan());
                    v.sort_by(f64::total_cmp);
                    let mean = if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
                    Stats {
                        n: v.len(),
                        missing,
                        mean,
                        p10: quantile(&v, 0.1),
                        p50: quantile(&v, 0.5),
                        p90: quantile(&v, 0.9),
                        p99: quantile(&v, 0.99),
                    }
                })
                .collect();
            let coords = sweep.coords(p);
            PointRow { values: sweep.params.iter().zip(coords).map(|(r, i)| r.texts[i].clone()).collect(), stats }
        })
        .collect()
}

/// The chart of a summarised sweep's metric `m` (labelled `label`, its
/// values times `scale` in `unit`): with one parameter, per value its
/// median with the p10 to p90 range and its p99; with two, one line of
/// medians per value of the second.
pub fn chart(shape: &Shape, rows: &[PointRow], m: usize, label: &str, scale: f64, unit: &str) -> Chart {
    let first = shape.params.first().map_or(String::new(), |p| p.name.clone());
    let mut chart = Chart::new(
        format!("{label} over {} seeds, by {first}", shape.seeds),
        Axis::new(&first, ""),
        Axis::new(label, unit),
    );
    let Some(a) = shape.params.first() else { return chart };
    chart.categories = a.texts.clone();
    let stat = |r: &PointRow, f: fn(&Stats) -> f64| r.stats.get(m).map_or(f64::NAN, |s| f(s) * scale);
    if let Some(b) = shape.params.get(1) {
        chart.title = format!("{label}, median over {} seeds, by {first} and {}", shape.seeds, b.name);
        for (j, text) in b.texts.iter().enumerate() {
            let points = (0..a.texts.len())
                .map(|i| Point::new(i as f64, rows.get(i * b.texts.len() + j).map_or(f64::NAN, |r| stat(r, |s| s.p50))))
                .collect();
            chart.series.push(Series { name: format!("{} = {text}", b.name), mark: Mark::Line, points });
        }
        return chart;
    }
    let median = rows
        .iter()
        .enumerate()
        .map(|(i, r)| Point {
            whisker: Some((stat(r, |s| s.p10), stat(r, |s| s.p90))),
            ..Point::new(i as f64, stat(r, |s| s.p50))
        })
        .collect();
    chart.series.push(Series { name: "median (bar: p10 to p90)".into(), mark: Mark::Line, points: median });
    let p99 = rows.iter().enumerate().map(|(i, r)| Point::new(i as f64, stat(r, |s| s.p99))).collect();
    chart.series.push(Series { name: "p99".into(), mark: Mark::Dots, points: p99 });
    chart
}
