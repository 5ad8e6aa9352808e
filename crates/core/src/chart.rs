//! Charts that explain themselves: a title, axes with ticks and units, a
//! legend, and each value named on hover.
//!
//! A chart is data ([`Chart`]: axes, series of points) and one drawing
//! function, [`Chart::draw`], written once against a small [`Sketch`]
//! (rectangles, lines, dots, text). [`SvgSketch`] writes what it draws as
//! an SVG document: the command line's `--svg` files, the page's charts
//! (inline, where each dot and bar's `<title>` shows its value on hover)
//! and the page's "Export SVG". The page's canvas pen implements [`Sketch`]
//! too, for PNG. So every surface shows the same picture, and the live
//! metrics, the sweeps and the experiments share one look.
//!
//! Why not a plotting crate: the ones that draw SVG (plotters, poloto,
//! charming) bring their own text layout or a JavaScript runtime, and none
//! draws onto the page's existing canvas pen, so the PNG and the SVG could
//! drift apart; what is needed here (ticks at round numbers, a few marks,
//! a legend) fits in this file. Tick positions use only +, ×, ÷ and
//! comparisons, so the same chart gives the same text natively and in wasm.

use std::fmt::Write as _;

/// One axis: what it measures and in which unit.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Axis {
    /// What it measures (`time to elect`).
    pub label: String,
    /// Its unit (`ms`, `%`; empty for counts and ratios).
    pub unit: String,
    /// Fixed ends, if the quantity has them (a fraction from 0 to 1).
    pub range: Option<(f64, f64)>,
}

impl Axis {
    /// An axis of `label` in `unit`.
    pub fn new(label: &str, unit: &str) -> Axis {
        Axis { label: label.into(), unit: unit.into(), range: None }
    }

    /// Its heading: `time to elect (ms)`.
    pub fn heading(&self) -> String {
        if self.unit.is_empty() {
            self.label.clone()
        } else {
            format!("{} ({})", self.label, self.unit)
        }
    }
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mark {
    /// Points joined by a line, each point a dot.
    Line,
    /// Dots only.
    Dots,
    /// Bars from zero (side by side when several series are bars).
    Bars,
}

/// One point: x (an index for a chart of categories), y, and an optional
/// range drawn as a whisker (p10 to p90).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    /// Horizontal value (or category index).
    pub x: f64,
    /// Vertical value; NaN: none (a gap), written `null` in JSON.
    #[serde(with = "gap")]
    pub y: f64,
    /// A range around it, if any.
    pub whisker: Option<(f64, f64)>,
}

/// A value that may be a gap (NaN), as formats without NaN hold it: JSON
/// writes NaN as `null`, which must read back as a gap, not fail.
mod gap {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        (!v.is_nan()).then_some(*v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

impl Point {
    /// A point.
    pub fn new(x: f64, y: f64) -> Point {
        Point { x, y, whisker: None }
    }
}

/// A named series.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// How it is drawn.
    pub mark: Mark,
    /// Its points.
    pub points: Vec<Point>,
}

/// A chart: title, axes, categories (if x is not a number) and series.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Chart {
    /// What it shows, in one line.
    pub title: String,
    /// The horizontal axis.
    pub x: Axis,
    /// The vertical axis.
    pub y: Axis,
    /// Names of the x positions 0, 1, 2, ... when x is a category (a
    /// policy, a parameter's value); empty when x is a number.
    pub categories: Vec<String>,
    /// The series.
    pub series: Vec<Series>,
}

/// Where text is anchored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Its start at the point.
    Start,
    /// Its middle.
    Middle,
    /// Its end.
    End,
}

/// Colours of a drawn chart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    /// Background (`None`: transparent).
    pub bg: Option<&'static str>,
    /// Text and axes.
    pub fg: &'static str,
    /// Grid lines.
    pub grid: &'static str,
}

/// For files: dark text on white.
pub const PAPER: Style = Style { bg: Some("#ffffff"), fg: "#111418", grid: "#d9dde5" };
/// For the page: text in the page's colour (`currentColor`), no background.
pub const PAGE: Style = Style { bg: None, fg: "currentColor", grid: "rgba(128,128,128,0.35)" };

/// Series colours (Tableau 10: told apart by most colour-blind readers and
/// legible on light and dark backgrounds).
pub const COLOURS: [&str; 10] =
    ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/// What [`Chart::draw`] draws with. `hover` is the value in words, shown
/// when the pointer rests on the mark (where the surface can).
pub trait Sketch {
    /// A filled rectangle.
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, hover: Option<&str>);
    /// A line through points.
    fn line(&mut self, points: &[(f64, f64)], stroke: &str, width: f64);
    /// A filled dot.
    fn dot(&mut self, x: f64, y: f64, r: f64, fill: &str, hover: Option<&str>);
    /// Text at a point (its baseline at `y`) in `font`.
    fn text(&mut self, x: f64, y: f64, text: &str, font: Font, fill: &str);
    /// Text turned `degrees` about its point `at` (negative: anticlockwise),
    /// with `hover` (its full words, when the text is shortened) shown where
    /// the surface can.
    fn turned_text(&mut self, at: (f64, f64), text: &str, font: Font, fill: &str, degrees: f64, hover: Option<&str>);
}

/// How a text is set: its size in px, bold or not, and where it is anchored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Font {
    /// Size in px.
    pub size: f64,
    /// Bold.
    pub bold: bool,
    /// Where the point is.
    pub anchor: Anchor,
}

fn font(anchor: Anchor, size: f64, bold: bool) -> Font {
    Font { size, bold, anchor }
}

/// Round steps for an axis from `lo` to `hi`: about `count` ticks at
/// multiples of 1, 2 or 5 times a power of ten, and the decimals they need.
pub fn ticks(lo: f64, hi: f64, count: usize) -> (Vec<f64>, usize) {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
    let raw = (hi - lo) / count.max(1) as f64;
    let (mut power, mut decimals) = (1.0f64, 0usize);
    while power * 10.0 <= raw {
        power *= 10.0;
    }
    while power > raw && power > 1e-9 {
        power /= 10.0;
        decimals += 1;
    }
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(power * 10.0);
    let decimals = if step >= power * 10.0 { decimals.saturating_sub(1) } else { decimals };
    let first = (lo / step).ceil();
    let mut out = Vec::new();
    let mut k = first;
    while k * step <= hi + step * 1e-9 && out.len() < 50 {
        out.push(k * step);
        k += 1.0;
    }
    (out, decimals)
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// A number for a label: `decimals` after the point, no `-0`.
pub fn label(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// A value for hover text: up to three decimals, without trailing zeros.
fn value_text(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The plot's frame and scales, laid out for a size.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x.0) / (self.x.1 - self.x.0) * (self.right - self.left)
    }
    fn py(&self, y: f64) -> f64 {
        self.bottom - (y - self.y.0) / (self.y.1 - self.y.0) * (self.bottom - self.top)
    }
}

/// Width of a text, roughly, in px (the drawing has no font metrics).
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.58
}

/// `text` in lines of at most `width` px at `size` px (words kept whole
/// unless one alone is wider).
fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let longer = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if text_width(&longer, size) > width && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = longer;
        }
    }
    lines.push(line);
    lines
}

/// Longest category name drawn whole; a longer one is cut, with "…".
pub const MAX_NAME: usize = 22;

/// A category's name as drawn (at most [`MAX_NAME`] characters) and
/// whether it was cut.
fn short_name(name: &str) -> (String, bool) {
    if name.chars().count() <= MAX_NAME {
        (name.to_string(), false)
    } else {
        (name.chars().take(MAX_NAME - 1).chain(['…']).collect(), true)
    }
}

/// How the category names sit under the plot: their angle, and the depth
/// they take below the ticks.
struct NameLayout {
    degrees: f64,
    depth: f64,
    overhang: f64,
}

impl Chart {
    /// An empty chart.
    pub fn new(title: impl Into<String>, x: Axis, y: Axis) -> Chart {
        Chart { title: title.into(), x, y, categories: Vec::new(), series: Vec::new() }
    }

    /// Whether it has a value to draw.
    pub fn has_values(&self) -> bool {
        self.series.iter().any(|s| s.points.iter().any(|p| p.y.is_finite()))
    }

    fn y_extent(&self) -> (f64, f64) {
        if let Some(r) = self.y.range {
            return r;
        }
        let values = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().flat_map(|p| [Some(p.y), p.whisker.map(|w| w.0), p.whisker.map(|w| w.1)]));
        let (lo, hi) = values
            .flatten()
            .filter_map(finite)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if lo > hi {
            return (0.0, 1.0);
        }
        // From zero, so bars and heights compare; a little room above.
        let lo = lo.min(0.0);
        let hi = if hi > lo { hi + (hi - lo) * 0.05 } else { lo + 1.0 };
        (lo, hi)
    }

    fn x_extent(&self) -> (f64, f64) {
        if !self.categories.is_empty() {
            return (-0.5, self.categories.len() as f64 - 0.5);
        }
        if let Some(r) = self.x.range {
            return r;
        }
        let (lo, hi) = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| p.y.is_finite()).map(|p| p.x))
            .filter_map(finite)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if lo > hi {
            (0.0, 1.0)
        } else if hi > lo {
            (lo.min(0.0), hi)
        } else {
            (lo - 1.0, hi + 1.0)
        }
    }

    /// The legend's rows, laid out for `width`: (name, colour, x, row).
    fn legend(&self, width: f64) -> Vec<(String, &'static str, f64, usize)> {
        let mut out = Vec::new();
        let (mut x, mut row) = (12.0, 0);
        for (i, s) in self.series.iter().enumerate() {
            let w = 18.0 + text_width(&s.name, 11.0) + 14.0;
            if x + w > width - 8.0 && x > 12.0 {
                x = 12.0;
                row += 1;
            }
            out.push((s.name.clone(), COLOURS[i % COLOURS.len()], x, row));
            x += w;
        }
        out
    }

    /// Draws the chart `width` by `height` px.
    pub fn draw(&self, sk: &mut dyn Sketch, width: f64, height: f64, style: &Style) {
        if let Some(bg) = style.bg {
            sk.rect(0.0, 0.0, width, height, bg, None);
        }
        let legend = self.legend(width);
        let legend_rows = legend.iter().map(|l| l.3 + 1).max().unwrap_or(0) as f64;
        let (ylo, yhi) = self.y_extent();
        let (yt, ydec) = ticks(ylo, yhi, ((height / 60.0) as usize).clamp(2, 8));
        let y_labels: Vec<String> = yt.iter().map(|v| label(*v, ydec)).collect();
        let widest = y_labels.iter().map(|l| text_width(l, 10.0)).fold(0.0, f64::max);
        let left = (widest + 14.0).max(36.0);
        let names = self.name_layout(width - 14.0 - left);
        // A turned first name must not run off the picture's left edge.
        let left = left.max(names.overhang + 6.0);
        let title = wrap(&self.title, 13.0, width - 24.0);
        let below_title = (title.len().max(1) - 1) as f64 * 16.0;
        let f = Frame {
            left,
            right: width - 14.0,
            top: 44.0 + below_title,
            bottom: height - 40.0 - legend_rows * 16.0 - names.depth,
            x: self.x_extent(),
            y: (ylo.min(yt.first().copied().unwrap_or(ylo)), yhi.max(yt.last().copied().unwrap_or(yhi))),
        };
        for (i, line) in title.iter().enumerate() {
            sk.text(12.0, 18.0 + i as f64 * 16.0, line, font(Anchor::Start, 13.0, true), style.fg);
        }
        sk.text(12.0, 36.0 + below_title, &self.y.heading(), font(Anchor::Start, 11.0, false), style.fg);
        for (v, l) in yt.iter().zip(&y_labels) {
            let y = f.py(*v);
            sk.line(&[(f.left, y), (f.right, y)], style.grid, 1.0);
            sk.text(f.left - 6.0, y + 3.5, l, font(Anchor::End, 10.0, false), style.fg);
        }
        self.draw_x_axis(sk, &f, style, &names);
        sk.line(&[(f.left, f.top), (f.left, f.bottom), (f.right, f.bottom)], style.fg, 1.0);
        self.draw_series(sk, &f);
        let top = height - 8.0 - (legend_rows - 1.0).max(0.0) * 16.0;
        for (name, colour, x, row) in legend {
            let y = top + row as f64 * 16.0;
            sk.rect(x, y - 9.0, 12.0, 10.0, colour, None);
            sk.text(x + 16.0, y, &name, font(Anchor::Start, 11.0, false), style.fg);
        }
    }

    /// How the category names fit under a plot `plot_width` px wide:
    /// level when every name fits its slot, else turned 45 degrees (90 when
    /// even that would run them into each other), each name shortened to at
    /// most [`MAX_NAME`] characters (its full words on hover). Every
    /// category is named: none is skipped.
    fn name_layout(&self, plot_width: f64) -> NameLayout {
        let n = self.categories.len();
        if n == 0 {
            return NameLayout { degrees: 0.0, depth: 0.0, overhang: 0.0 };
        }
        let slot = plot_width / n as f64;
        let widest = self.categories.iter().map(|c| text_width(&short_name(c).0, 10.0)).fold(0.0, f64::max);
        if widest + 6.0 <= slot {
            return NameLayout { degrees: 0.0, depth: 0.0, overhang: 0.0 };
        }
        // Turned names stand apart by slot × sin(angle); a line is ~12 px.
        let degrees = if slot * std::f64::consts::FRAC_1_SQRT_2 >= 12.0 { -45.0 } else { -90.0 };
        let reach = if degrees == -45.0 { std::f64::consts::FRAC_1_SQRT_2 } else { 1.0 };
        // How far the first name reaches left of the plot's edge.
        let overhang = if degrees == -45.0 { (widest * reach - slot / 2.0).max(0.0) } else { 0.0 };
        NameLayout { degrees, depth: widest * reach, overhang }
    }

    fn draw_x_axis(&self, sk: &mut dyn Sketch, f: &Frame, style: &Style, names: &NameLayout) {
        let below = f.bottom + 14.0;
        if self.categories.is_empty() {
            let (xt, xdec) = ticks(f.x.0, f.x.1, (((f.right - f.left) / 80.0) as usize).clamp(2, 10));
            for v in xt {
                let x = f.px(v);
                sk.line(&[(x, f.bottom), (x, f.bottom + 4.0)], style.fg, 1.0);
                sk.text(x, below, &label(v, xdec), font(Anchor::Middle, 10.0, false), style.fg);
            }
        } else {
            for (i, c) in self.categories.iter().enumerate() {
                let x = f.px(i as f64);
                sk.line(&[(x, f.bottom), (x, f.bottom + 4.0)], style.fg, 1.0);
                let (name, cut) = short_name(c);
                let hover = cut.then_some(c.as_str());
                if names.degrees == 0.0 && !cut {
                    sk.text(x, below, &name, font(Anchor::Middle, 10.0, false), style.fg);
                } else if names.degrees == 0.0 {
                    sk.turned_text((x, below), &name, font(Anchor::Middle, 10.0, false), style.fg, 0.0, hover);
                } else {
                    // The name's end at its tick, running down to the left.
                    let f10 = font(Anchor::End, 10.0, false);
                    sk.turned_text((x + 3.0, f.bottom + 9.0), &name, f10, style.fg, names.degrees, hover);
                }
            }
        }
        let mid = (f.left + f.right) / 2.0;
        sk.text(mid, f.bottom + names.depth + 30.0, &self.x.heading(), font(Anchor::Middle, 11.0, false), style.fg);
    }

    /// Where x is in words, for hover text.
    fn x_words(&self, x: f64) -> String {
        match self.categories.get(x.max(0.0) as usize) {
            Some(c) if !self.categories.is_empty() => c.clone(),
            _ => format!("{} {}{}", self.x.label, value_text(x), unit_suffix(&self.x.unit)),
        }
    }

    fn hover(&self, s: &Series, p: &Point) -> String {
        let mut t = format!("{}, {}: {}{}", s.name, self.x_words(p.x), value_text(p.y), unit_suffix(&self.y.unit));
        if let Some((lo, hi)) = p.whisker {
            let _ = write!(t, " (range {} to {}{})", value_text(lo), value_text(hi), unit_suffix(&self.y.unit));
        }
        t
    }

    fn draw_series(&self, sk: &mut dyn Sketch, f: &Frame) {
        let bars: Vec<usize> = (0..self.series.len()).filter(|i| self.series[*i].mark == Mark::Bars).collect();
        let slot = if self.categories.is_empty() {
            (f.right - f.left) / 20.0
        } else {
            (f.right - f.left) / self.categories.len() as f64
        };
        for (i, s) in self.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let shown = s.points.iter().filter(|p| p.y.is_finite() && p.x.is_finite());
            match s.mark {
                Mark::Bars => {
                    let k = bars.iter().position(|b| *b == i).unwrap_or(0) as f64;
                    let w = slot * 0.8 / bars.len().max(1) as f64;
                    for p in shown {
                        let x = f.px(p.x) - slot * 0.4 + k * w;
                        let (y0, y1) = (f.py(0.0f64.max(f.y.0)), f.py(p.y));
                        sk.rect(
                            x,
                            y0.min(y1),
                            (w - 1.0).max(1.0),
                            (y0 - y1).abs().max(1.0),
                            colour,
                            Some(&self.hover(s, p)),
                        );
                    }
                }
                Mark::Line | Mark::Dots => {
                    if s.mark == Mark::Line {
                        // Gaps (NaN) break the line.
                        let mut run: Vec<(f64, f64)> = Vec::new();
                        for p in &s.points {
                            if p.y.is_finite() && p.x.is_finite() {
                                run.push((f.px(p.x), f.py(p.y)));
                            } else if !run.is_empty() {
                                sk.line(&run, colour, 2.0);
                                run.clear();
                            }
                        }
                        if run.len() > 1 {
                            sk.line(&run, colour, 2.0);
                        }
                    }
                    let r = if s.points.len() > 60 { 1.5 } else { 3.5 };
                    for p in shown {
                        if let Some((lo, hi)) = p.whisker {
                            sk.line(&[(f.px(p.x), f.py(lo)), (f.px(p.x), f.py(hi))], colour, 1.5);
                        }
                        sk.dot(f.px(p.x), f.py(p.y), r, colour, Some(&self.hover(s, p)));
                    }
                }
            }
        }
    }

    /// The chart as an SVG document `width` by `height` px.
    pub fn to_svg(&self, width: f64, height: f64, style: &Style) -> String {
        let mut sk = SvgSketch::new(width, height, &self.title);
        self.draw(&mut sk, width, height, style);
        sk.finish()
    }
}

fn unit_suffix(unit: &str) -> String {
    match unit {
        "" => String::new(),
        "%" => "%".into(),
        u => format!(" {u}"),
    }
}

/// Writes what is drawn as an SVG document (with each mark's hover text as
/// its `<title>`).
pub struct SvgSketch {
    out: String,
}

/// Escapes text for XML.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn title_of(hover: Option<&str>) -> String {
    hover.map_or(String::new(), |h| format!("<title>{}</title>", xml_escape(h)))
}

impl SvgSketch {
    /// An empty picture, titled for screen readers.
    pub fn new(width: f64, height: f64, title: &str) -> SvgSketch {
        let t = xml_escape(title);
        SvgSketch {
            out: format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{t}\" font-family=\"sans-serif\">\n<title>{t}</title>\n"
            ),
        }
    }

    /// The document.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

impl Sketch for SvgSketch {
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, hover: Option<&str>) {
        let _ = writeln!(
            self.out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\">{}</rect>",
            title_of(hover)
        );
    }
    fn line(&mut self, points: &[(f64, f64)], stroke: &str, width: f64) {
        let pts: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let _ = writeln!(
            self.out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>",
            pts.join(" ")
        );
    }
    fn dot(&mut self, x: f64, y: f64, r: f64, fill: &str, hover: Option<&str>) {
        let _ = writeln!(
            self.out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" fill=\"{fill}\">{}</circle>",
            title_of(hover)
        );
    }
    fn text(&mut self, x: f64, y: f64, text: &str, font: Font, fill: &str) {
        let Font { size, bold, anchor } = font;
        let anchor = anchor_name(anchor);
        let weight = if bold { " font-weight=\"bold\"" } else { "" };
        let _ = writeln!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"{anchor}\" fill=\"{fill}\"{weight}>{}</text>",
            xml_escape(text)
        );
    }
    fn turned_text(&mut self, at: (f64, f64), text: &str, font: Font, fill: &str, degrees: f64, hover: Option<&str>) {
        let (x, y) = at;
        let anchor = anchor_name(font.anchor);
        let weight = if font.bold { " font-weight=\"bold\"" } else { "" };
        let _ = writeln!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{fill}\"{weight} transform=\"rotate({degrees} {x:.1} {y:.1})\">{}{}</text>",
            font.size,
            title_of(hover),
            xml_escape(text)
        );
    }
}

fn anchor_name(anchor: Anchor) -> &'static str {
    match anchor {
        Anchor::Start => "start",
        Anchor::Middle => "middle",
        Anchor::End => "end",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_round_numbers() {
        assert_eq!(ticks(0.0, 10.0, 5), (vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0], 0));
        assert_eq!(ticks(0.0, 1.0, 5).0.len(), 6);
        assert_eq!(ticks(0.0, 1.0, 5).1, 1);
        let (t, _) = ticks(0.0, 347.0, 4);
        assert_eq!(t, vec![0.0, 100.0, 200.0, 300.0]);
    }

    // Issue 18: "every chart in the app explains itself"; a bar left
    // unnamed does not. Every category is named at a phone's width and at
    // a desktop's, whole or, when cut, with its full name on hover.
    #[test]
    fn every_category_is_named_at_any_width() {
        let names = [
            "random",
            "round_robin",
            "weighted_round_robin",
            "weighted_random",
            "least_connections",
            "power_of_d",
            "peak_ewma",
            "consistent_hash",
            "locality",
            "a_policy_with_a_very_long_name_indeed",
        ];
        let mut chart = Chart::new("Latency by policy", Axis::new("policy", ""), Axis::new("latency", "ms"));
        chart.categories = names.iter().map(|n| n.to_string()).collect();
        let points = (0..names.len()).map(|i| Point::new(i as f64, 10.0 + i as f64)).collect();
        chart.series.push(Series { name: "p99".into(), mark: Mark::Bars, points });
        for width in [330.0, 760.0, 1400.0] {
            let svg = chart.to_svg(width, 380.0, &PAPER);
            for n in names {
                let whole = svg.contains(&format!(">{n}</text>"));
                let hovered = svg.contains(&format!("<title>{n}</title>"));
                assert!(whole || hovered, "at {width} px, {n} is not named:\n{svg}");
            }
            // The axis heading sits below the names, inside the picture.
            let heading = svg.lines().find(|l| l.contains(">policy</text>")).expect("the x axis heading");
            let y: f64 =
                heading.split("y=\"").nth(1).and_then(|r| r.split('"').next()).and_then(|v| v.parse().ok()).unwrap();
            assert!(y < 380.0, "at {width} px the heading is at {y}");
        }
    }
}

#[cfg(test)]
mod gap_tests {
    use super::Point;

    /// A gap in a chart (a cell nothing was measured in) survives JSON,
    /// which has no NaN: `clusterscope exp … --json` writes it as null.
    #[test]
    fn a_gap_goes_through_json_and_back() {
        let points = vec![Point::new(0.0, 1.5), Point::new(1.0, f64::NAN)];
        let text = serde_json::to_string(&points).unwrap();
        assert!(text.contains("\"y\":null"), "{text}");
        let back: Vec<Point> = serde_json::from_str(&text).unwrap();
        assert_eq!(back[0], points[0]);
        assert!(back[1].y.is_nan());
    }
}
