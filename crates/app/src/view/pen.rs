//! One drawing, two surfaces: the drawings are written once against
//! [`Pen`], which a canvas implements (what the page shows) and [`SvgPen`]
//! implements (what "Export SVG" saves), so the exported picture is the
//! same drawing, not a second one that could drift from it.
//!
//! Colours follow the page's theme ([`Theme`]): dark by default, light when
//! the system asks for it (`prefers-color-scheme: light`).

use std::f64::consts::PI;
use std::fmt::Write as _;
use web_sys::CanvasRenderingContext2d;

/// The 2D drawing operations the drawings use (a subset of the canvas API).
pub trait Pen {
    /// Fill colour (CSS).
    fn fill_style(&mut self, c: &str);
    /// Stroke colour (CSS).
    fn stroke_style(&mut self, c: &str);
    /// Stroke width.
    fn line_width(&mut self, w: f64);
    /// Opacity of what follows.
    fn alpha(&mut self, a: f64);
    /// Font (CSS shorthand, e.g. "12px sans-serif").
    fn font(&mut self, f: &str);
    /// "left", "center" or "right".
    fn text_align(&mut self, a: &str);
    /// "middle", "top" or "alphabetic".
    fn text_baseline(&mut self, b: &str);
    /// Dash pattern (empty: solid).
    fn dash(&mut self, d: &[f64]);
    /// Starts a new path.
    fn begin_path(&mut self);
    /// Moves the pen.
    fn move_to(&mut self, x: f64, y: f64);
    /// A straight line.
    fn line_to(&mut self, x: f64, y: f64);
    /// An arc, clockwise from angle `a0` to `a1` (radians).
    fn arc(&mut self, x: f64, y: f64, r: f64, a0: f64, a1: f64);
    /// Fills the path.
    fn fill(&mut self);
    /// Strokes the path.
    fn stroke(&mut self);
    /// A filled rectangle.
    fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64);
    /// Text at a point.
    fn fill_text(&mut self, t: &str, x: f64, y: f64);
    /// Text at a point, turned `degrees` about it (negative: anticlockwise).
    fn turned_text(&mut self, t: &str, x: f64, y: f64, degrees: f64);
    /// Many dots of one look at once: discs of radius `r` in `color`, or
    /// rings (stroked 2 wide) when `ring`. As one path; a canvas stamps a
    /// picture of the dot instead (see [`CanvasPen`]).
    fn dots(&mut self, at: &[(f64, f64)], r: f64, color: &str, ring: bool) {
        path_dots(self, at, r, color, ring);
    }
}

/// Dots as one path: [`Pen::dots`] for a pen without a quicker way.
fn path_dots<P: Pen + ?Sized>(pen: &mut P, at: &[(f64, f64)], r: f64, color: &str, ring: bool) {
    if at.is_empty() {
        return;
    }
    pen.begin_path();
    for &(x, y) in at {
        pen.move_to(x + r, y);
        pen.arc(x, y, r, 0.0, 2.0 * PI);
    }
    if ring {
        pen.stroke_style(color);
        pen.line_width(2.0);
        pen.stroke();
    } else {
        pen.fill_style(color);
        pen.fill();
    }
}

/// A canvas as a [`Pen`].
pub struct CanvasPen<'a>(pub &'a CanvasRenderingContext2d);

impl Pen for CanvasPen<'_> {
    fn fill_style(&mut self, c: &str) {
        self.0.set_fill_style_str(c);
    }
    fn stroke_style(&mut self, c: &str) {
        self.0.set_stroke_style_str(c);
    }
    fn line_width(&mut self, w: f64) {
        self.0.set_line_width(w);
    }
    fn alpha(&mut self, a: f64) {
        self.0.set_global_alpha(a);
    }
    fn font(&mut self, f: &str) {
        self.0.set_font(f);
    }
    fn text_align(&mut self, a: &str) {
        self.0.set_text_align(a);
    }
    fn text_baseline(&mut self, b: &str) {
        self.0.set_text_baseline(b);
    }
    fn dash(&mut self, d: &[f64]) {
        let arr = js_sys::Array::new();
        for v in d {
            arr.push(&(*v).into());
        }
        let _ = self.0.set_line_dash(&arr);
    }
    fn begin_path(&mut self) {
        self.0.begin_path();
    }
    fn move_to(&mut self, x: f64, y: f64) {
        self.0.move_to(x, y);
    }
    fn line_to(&mut self, x: f64, y: f64) {
        self.0.line_to(x, y);
    }
    fn arc(&mut self, x: f64, y: f64, r: f64, a0: f64, a1: f64) {
        let _ = self.0.arc(x, y, r, a0, a1);
    }
    fn fill(&mut self) {
        self.0.fill();
    }
    fn stroke(&mut self) {
        self.0.stroke();
    }
    fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.0.fill_rect(x, y, w, h);
    }
    fn fill_text(&mut self, t: &str, x: f64, y: f64) {
        let _ = self.0.fill_text(t, x, y);
    }
    fn turned_text(&mut self, t: &str, x: f64, y: f64, degrees: f64) {
        self.0.save();
        let _ = self.0.translate(x, y);
        let _ = self.0.rotate(degrees.to_radians());
        let _ = self.0.fill_text(t, 0.0, 0.0);
        self.0.restore();
    }
    /// Each dot is a copy of one small picture of it, drawn once per look
    /// and scale and kept: a copy costs the canvas a blit, where thousands
    /// of round paths cost it their rasterisation on every frame (the
    /// largest part of a busy frame's main-thread time; docs/benchmarks.md,
    /// "Dots as stamps"). Copies land on whole device pixels.
    fn dots(&mut self, at: &[(f64, f64)], r: f64, color: &str, ring: bool) {
        if at.is_empty() {
            return;
        }
        let scale = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
        let Some(stamp) = stamp(r, color, ring, scale) else {
            // No stamp to be had (no OffscreenCanvas): the dots as paths.
            return path_dots(self, at, r, color, ring);
        };
        let half = f64::from(stamp.width()) / scale / 2.0;
        let side = 2.0 * half;
        for &(x, y) in at {
            let px = ((x - half) * scale).round() / scale;
            let py = ((y - half) * scale).round() / scale;
            let _ = self.0.draw_image_with_image_bitmap_and_dw_and_dh(&stamp, px, py, side, side);
        }
    }
}

/// What a stamp is drawn for: its colour, radius and ring-ness, and the
/// device pixels per CSS pixel (in hundredths).
type StampKey = (String, u64, bool, u64);

thread_local! {
    static STAMPS: std::cell::RefCell<std::collections::HashMap<StampKey, web_sys::ImageBitmap>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The picture of one dot at `scale` device pixels per CSS pixel, made on
/// first use: a bitmap of whole device pixels with the dot in its middle
/// and a pixel of margin for the antialiased edge. A bitmap, not a canvas:
/// the canvas would be copied each time it is drawn from.
fn stamp(r: f64, color: &str, ring: bool, scale: f64) -> Option<web_sys::ImageBitmap> {
    use wasm_bindgen::JsCast;
    let key = (color.to_string(), r.to_bits(), ring, (scale * 100.0).round() as u64);
    if let Some(c) = STAMPS.with(|s| s.borrow().get(&key).cloned()) {
        return Some(c);
    }
    let reach = r + if ring { 1.0 } else { 0.0 } + 1.0;
    let side = (2.0 * reach * scale).ceil() as u32;
    let canvas = web_sys::OffscreenCanvas::new(side, side).ok()?;
    let ctx: web_sys::OffscreenCanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    let mid = f64::from(side) / 2.0;
    let _ = ctx.set_transform(scale, 0.0, 0.0, scale, mid, mid);
    ctx.begin_path();
    let _ = ctx.arc(0.0, 0.0, r, 0.0, 2.0 * PI);
    if ring {
        ctx.set_stroke_style_str(color);
        ctx.set_line_width(2.0);
        ctx.stroke();
    } else {
        ctx.set_fill_style_str(color);
        ctx.fill();
    }
    let bitmap = canvas.transfer_to_image_bitmap().ok()?;
    STAMPS.with(|s| s.borrow_mut().insert(key, bitmap.clone()));
    Some(bitmap)
}

/// Writes what is drawn as an SVG document.
pub struct SvgPen {
    out: String,
    path: String,
    fill: String,
    stroke: String,
    width: f64,
    alpha: f64,
    font: String,
    align: &'static str,
    baseline: &'static str,
    dash: String,
    elements: usize,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl SvgPen {
    /// An empty picture `w` by `h`.
    pub fn new(w: f64, h: f64) -> SvgPen {
        SvgPen {
            out: format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n"
            ),
            path: String::new(),
            fill: "#000".into(),
            stroke: "#000".into(),
            width: 1.0,
            alpha: 1.0,
            font: "10px sans-serif".into(),
            align: "start",
            baseline: "auto",
            dash: String::new(),
            elements: 0,
        }
    }

    /// The document.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }

    /// Shapes and texts drawn so far.
    pub fn elements(&self) -> usize {
        self.elements
    }

    fn opacity(&self) -> String {
        if self.alpha < 1.0 {
            format!(" opacity=\"{:.2}\"", self.alpha)
        } else {
            String::new()
        }
    }

    /// One `<text>` in the pen's fill, font and alignment, with `extra`
    /// attributes (a rotation) after them.
    fn text_element(&mut self, t: &str, x: f64, y: f64, extra: String) {
        let _ = writeln!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" fill=\"{}\" style=\"font: {}\" text-anchor=\"{}\" dominant-baseline=\"{}\"{extra}{}>{}</text>",
            self.fill,
            self.font,
            self.align,
            self.baseline,
            self.opacity(),
            esc(t)
        );
        self.elements += 1;
    }
}

impl Pen for SvgPen {
    fn fill_style(&mut self, c: &str) {
        self.fill = esc(c);
    }
    fn stroke_style(&mut self, c: &str) {
        self.stroke = esc(c);
    }
    fn line_width(&mut self, w: f64) {
        self.width = w;
    }
    fn alpha(&mut self, a: f64) {
        self.alpha = a;
    }
    fn font(&mut self, f: &str) {
        self.font = esc(f);
    }
    fn text_align(&mut self, a: &str) {
        self.align = match a {
            "center" => "middle",
            "right" | "end" => "end",
            _ => "start",
        };
    }
    fn text_baseline(&mut self, b: &str) {
        self.baseline = match b {
            "middle" => "central",
            "top" | "hanging" => "hanging",
            _ => "auto",
        };
    }
    fn dash(&mut self, d: &[f64]) {
        self.dash = if d.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{}\"", d.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(" "))
        };
    }
    fn begin_path(&mut self) {
        self.path.clear();
    }
    fn move_to(&mut self, x: f64, y: f64) {
        let _ = write!(self.path, "M{x:.1} {y:.1}");
    }
    fn line_to(&mut self, x: f64, y: f64) {
        let _ = write!(self.path, "L{x:.1} {y:.1}");
    }
    fn arc(&mut self, x: f64, y: f64, r: f64, a0: f64, a1: f64) {
        let at = |a: f64| (x + r * a.cos(), y + r * a.sin());
        let (sx, sy) = at(a0);
        let cmd = if self.path.is_empty() { 'M' } else { 'L' };
        let _ = write!(self.path, "{cmd}{sx:.1} {sy:.1}");
        let sweep = a1 - a0;
        if sweep >= 2.0 * PI - 1e-9 {
            let (ox, oy) = at(a0 + PI);
            let _ = write!(self.path, "A{r:.1} {r:.1} 0 1 1 {ox:.1} {oy:.1}A{r:.1} {r:.1} 0 1 1 {sx:.1} {sy:.1}");
        } else if sweep > 0.0 {
            let (ex, ey) = at(a1);
            let large = u8::from(sweep > PI);
            let _ = write!(self.path, "A{r:.1} {r:.1} 0 {large} 1 {ex:.1} {ey:.1}");
        }
    }
    fn fill(&mut self) {
        if !self.path.is_empty() {
            let _ = writeln!(self.out, "<path d=\"{}\" fill=\"{}\"{}/>", self.path, self.fill, self.opacity());
            self.elements += 1;
        }
    }
    fn stroke(&mut self) {
        if !self.path.is_empty() {
            let _ = writeln!(
                self.out,
                "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}{}/>",
                self.path,
                self.stroke,
                self.width,
                self.dash,
                self.opacity()
            );
            self.elements += 1;
        }
    }
    fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64) {
        let _ = writeln!(
            self.out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"{}/>",
            self.fill,
            self.opacity()
        );
        self.elements += 1;
    }
    fn fill_text(&mut self, t: &str, x: f64, y: f64) {
        self.text_element(t, x, y, String::new());
    }
    fn turned_text(&mut self, t: &str, x: f64, y: f64, degrees: f64) {
        self.text_element(t, x, y, format!(" transform=\"rotate({degrees} {x:.1} {y:.1})\""));
    }
}

/// The colours of the drawings, for the page's theme.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Theme {
    /// Background.
    pub bg: &'static str,
    /// Main text and outlines.
    pub fg: &'static str,
    /// Secondary text, timers, grid.
    pub muted: &'static str,
    /// Crashed nodes and lanes.
    pub crashed: &'static str,
    /// Faint lines (lanes, grid).
    pub faint: &'static str,
    /// Whether it is the light theme.
    pub light: bool,
}

/// The dark theme (the default).
pub const DARK: Theme =
    Theme { bg: "#10141b", fg: "#ffffff", muted: "#cfd6e4", crashed: "#5b616e", faint: "#2a3140", light: false };
/// The light theme.
pub const LIGHT: Theme =
    Theme { bg: "#ffffff", fg: "#111418", muted: "#3c4350", crashed: "#8a909c", faint: "#d9dde5", light: true };

fn media(query: &str) -> bool {
    web_sys::window().and_then(|w| w.match_media(query).ok().flatten()).is_some_and(|m| m.matches())
}

/// The theme the system asks for.
pub fn theme() -> Theme {
    if media("(prefers-color-scheme: light)") {
        LIGHT
    } else {
        DARK
    }
}

/// Whether the system asks for reduced motion (messages then jump from
/// sender to receiver instead of gliding).
pub fn reduced_motion() -> bool {
    media("(prefers-reduced-motion: reduce)")
}

/// A [`Pen`] as a chart's [`Sketch`](clusterscope_core::chart::Sketch): a
/// chart drawn on a canvas (its PNG) is the same drawing as its SVG.
pub struct PenSketch<'a, P: Pen>(pub &'a mut P);

impl<P: Pen> clusterscope_core::chart::Sketch for PenSketch<'_, P> {
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, _hover: Option<&str>) {
        self.0.fill_style(fill);
        self.0.fill_rect(x, y, w, h);
    }
    fn line(&mut self, points: &[(f64, f64)], stroke: &str, width: f64) {
        let Some((first, rest)) = points.split_first() else { return };
        self.0.stroke_style(stroke);
        self.0.line_width(width);
        self.0.dash(&[]);
        self.0.begin_path();
        self.0.move_to(first.0, first.1);
        for (x, y) in rest {
            self.0.line_to(*x, *y);
        }
        self.0.stroke();
    }
    fn dot(&mut self, x: f64, y: f64, r: f64, fill: &str, _hover: Option<&str>) {
        self.0.fill_style(fill);
        self.0.begin_path();
        self.0.arc(x, y, r, 0.0, 2.0 * PI);
        self.0.fill();
    }
    fn text(&mut self, x: f64, y: f64, text: &str, font: clusterscope_core::chart::Font, fill: &str) {
        use clusterscope_core::chart::{Anchor, Font};
        let Font { size, bold, anchor } = font;
        self.0.fill_style(fill);
        self.0.font(&format!("{}{size}px sans-serif", if bold { "bold " } else { "" }));
        self.0.text_align(match anchor {
            Anchor::Start => "left",
            Anchor::Middle => "center",
            Anchor::End => "right",
        });
        self.0.text_baseline("alphabetic");
        self.0.fill_text(text, x, y);
    }
    fn turned_text(
        &mut self,
        (x, y): (f64, f64),
        text: &str,
        font: clusterscope_core::chart::Font,
        fill: &str,
        degrees: f64,
        _hover: Option<&str>,
    ) {
        self.text(0.0, 0.0, "", font, fill); // sets the font, alignment and colour
        self.0.turned_text(text, x, y, degrees);
    }
}

/// The story's caption in force, as a band an export draws under its
/// picture, so a shared image tells the moment it shows (the page shows
/// the same words in its caption bar above the drawing).
pub struct CaptionBand {
    lines: Vec<String>,
    /// The band's height (0 without a caption).
    pub height: f64,
}

/// Size of a caption's text in an export.
const CAPTION_PX: f64 = 14.0;
/// Height of one of its lines.
const CAPTION_LINE: f64 = 19.0;

impl CaptionBand {
    /// The band for `caption`, set in lines that fit `width` px.
    pub fn new(caption: Option<&str>, width: f64) -> CaptionBand {
        let Some(text) = caption.map(str::trim).filter(|t| !t.is_empty()) else {
            return CaptionBand { lines: Vec::new(), height: 0.0 };
        };
        // About 0.55 em a character in a sans-serif face.
        let per_line = ((width - 28.0) / (CAPTION_PX * 0.55)).max(12.0) as usize;
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > per_line {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
        let height = 16.0 + lines.len() as f64 * CAPTION_LINE;
        CaptionBand { lines, height }
    }

    /// Draws the band from `top`, `width` px wide.
    pub fn draw(&self, p: &mut impl Pen, top: f64, width: f64, theme: Theme) {
        if self.lines.is_empty() {
            return;
        }
        p.alpha(1.0);
        p.fill_style(theme.bg);
        p.fill_rect(0.0, top, width, self.height);
        p.fill_style(theme.faint);
        p.fill_rect(0.0, top, width, 1.0);
        p.fill_style("#4e79a7");
        p.fill_rect(8.0, top + 8.0, 3.0, self.height - 16.0);
        p.fill_style(theme.fg);
        p.font(&format!("{CAPTION_PX}px sans-serif"));
        p.text_align("left");
        p.text_baseline("middle");
        for (i, line) in self.lines.iter().enumerate() {
            p.fill_text(line, 18.0, top + 8.0 + CAPTION_LINE * (i as f64 + 0.5));
        }
    }
}
