//! The Failure-detection lab's own panel: who suspects whom. The shared
//! cluster drawing stays the stage (heartbeats, probes and acks on the
//! wires; each member coloured by what the others think of it), and the
//! space-time diagram marks the moment each member suspects, declares
//! dead or trusts again (the members' notes). This panel adds each
//! member's view of every other, from the lab's own view
//! ([`FaultsView`], decoded from the frame's view bytes):
//!
//! * up to 64 members, a matrix on a canvas: a row per observer, a column
//!   per member, each cell the observer's opinion (alive, suspected,
//!   declared dead, or no view when the observer is down); the diagonal
//!   and a mark over each column say what is really true of the member
//!   (up, crashed, paused, slow, behind a jittery link), and a cell that
//!   doubts a member that has not crashed is hatched: a false suspicion;
//! * above 64 members, one bar per member: how many of the live others
//!   suspect it or hold it dead;
//! * in words: a legend, a summary line ("7 members suspect S4, which is
//!   paused: a false suspicion"), and the cell or bar under the pointer.

use super::LabView;
use crate::ctx::{Ctx, PanelProps};
use crate::view::pen;
use clusterscope_core::faults::view::{FaultsView, Opinion, Truth};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// The Failure-detection lab's own views.
pub const VIEW: LabView = LabView {
    name: "faults",
    stage: None,
    below: |ctx: &Ctx| html! { <Views ctx={ctx.clone()} /> },
    side: |_| Html::default(),
    bench: None,
};

/// Room for the row labels, at the left.
const LEFT: f64 = 34.0;
/// Room for the column labels and the truth marks, at the top.
const TOP: f64 = 26.0;
/// Room at the right, for the last column's label.
const RIGHT: f64 = 16.0;
/// The matrix's width, at most (the canvas scales down on a phone).
const SPAN: f64 = 448.0;
/// The bars' height, for more than 64 members.
const BARS_H: f64 = 120.0;

/// The colours of the drawing, the same as the legend's (web/style.css:
/// `--leader`, `--cand`, `--bad`, `--accent`, `--fd-down`, `--fd-slow`).
struct Palette {
    bg: &'static str,
    fg: &'static str,
    muted: &'static str,
    faint: &'static str,
    alive: &'static str,
    suspected: &'static str,
    dead: &'static str,
    down: &'static str,
    paused: &'static str,
    slow: &'static str,
    /// The glyph inside a coloured cell.
    on_colour: &'static str,
}

const DARK: Palette = Palette {
    bg: "#10141b",
    fg: "#dfe5ef",
    muted: "#8b95a7",
    faint: "#273041",
    alive: "#2e9d5b",
    suspected: "#e0a21b",
    dead: "#e05a5a",
    down: "#5d6470",
    paused: "#4a78c2",
    slow: "#b07ad8",
    on_colour: "#10141b",
};

const LIGHT: Palette = Palette {
    bg: "#ffffff",
    fg: "#161b22",
    muted: "#555f6e",
    faint: "#cfd5de",
    alive: "#1f7a45",
    suspected: "#9a6a00",
    dead: "#c0392b",
    down: "#8a909c",
    paused: "#2f5fae",
    slow: "#7b4fa8",
    on_colour: "#ffffff",
};

fn palette() -> &'static Palette {
    if pen::theme().light {
        &LIGHT
    } else {
        &DARK
    }
}

impl Palette {
    fn opinion(&self, o: Opinion) -> &'static str {
        match o {
            Opinion::Alive => self.alive,
            Opinion::Suspected => self.suspected,
            Opinion::Dead => self.dead,
            Opinion::NoView => self.faint,
        }
    }

    /// A member's truth, `None` for up (nothing to mark).
    fn truth(&self, t: Truth) -> Option<&'static str> {
        match t {
            Truth::Up => None,
            Truth::Crashed => Some(self.down),
            Truth::Paused => Some(self.paused),
            Truth::Slow | Truth::Jittery => Some(self.slow),
        }
    }
}

/// The letter of a truth on the diagonal.
fn letter(t: Truth) -> &'static str {
    match t {
        Truth::Up => "U",
        Truth::Crashed => "C",
        Truth::Paused => "P",
        Truth::Slow => "S",
        Truth::Jittery => "J",
    }
}

/// The glyph of an opinion in a cell large enough for one.
fn glyph(o: Opinion) -> &'static str {
    match o {
        Opinion::Alive => "",
        Opinion::Suspected => "?",
        Opinion::Dead => "×",
        Opinion::NoView => "–",
    }
}

/// The side of a cell for `n` members: the matrix stays within
/// [`SPAN`], cells between 5 and 28 px.
fn cell_size(n: u32) -> f64 {
    (SPAN / f64::from(n.max(1))).floor().clamp(5.0, 28.0)
}

/// The width of a bar for `n` members (more than 64).
fn bar_width(n: u32) -> f64 {
    (SPAN / f64::from(n.max(1))).clamp(0.8, 6.0)
}

/// The canvas's size in CSS pixels.
fn canvas_size(v: &FaultsView) -> (f64, f64) {
    if v.has_matrix() {
        let c = cell_size(v.n);
        (LEFT + c * f64::from(v.n) + RIGHT, TOP + c * f64::from(v.n) + 4.0)
    } else {
        (LEFT + bar_width(v.n) * f64::from(v.n) + RIGHT, BARS_H + 34.0)
    }
}

/// Every how many members a label is written (labels 22 px apart at least).
fn label_step(space: f64) -> u32 {
    (22.0 / space).ceil().max(1.0) as u32
}

/// Hatches a cell: a doubt about a member that has not crashed.
fn hatch(ctx: &CanvasRenderingContext2d, p: &Palette, x: f64, y: f64, c: f64) {
    ctx.save();
    ctx.begin_path();
    ctx.rect(x, y, c, c);
    ctx.clip();
    ctx.set_stroke_style_str(p.bg);
    ctx.set_line_width(if c < 10.0 { 1.0 } else { 1.6 });
    ctx.begin_path();
    let step = if c < 10.0 { c } else { 6.0 };
    let mut k = step * 0.5;
    while k < 2.0 * c {
        ctx.move_to(x + k, y);
        ctx.line_to(x + k - c, y + c);
        k += step;
    }
    ctx.stroke();
    ctx.restore();
}

/// Draws the matrix: a row per observer, a column per member.
fn draw_matrix(ctx: &CanvasRenderingContext2d, v: &FaultsView, p: &Palette) {
    let n = v.n;
    let c = cell_size(n);
    let gap = if c >= 10.0 { 1.0 } else { 0.0 };
    let step = label_step(c);
    ctx.set_font(&format!("{}px sans-serif", if c >= 12.0 { 11 } else { 10 }));
    ctx.set_fill_style_str(p.muted);
    ctx.set_text_baseline("middle");
    for m in 0..n {
        // Every `step`-th member and the last (the one before it left out
        // if it would touch it).
        if m + 1 != n && (m % step != 0 || n - 1 - m < step) {
            continue;
        }
        let mid = f64::from(m) * c + c / 2.0;
        ctx.set_text_align("right");
        let _ = ctx.fill_text(&format!("S{}", m + 1), LEFT - 4.0, TOP + mid);
        ctx.set_text_align("center");
        let _ = ctx.fill_text(&format!("S{}", m + 1), LEFT + mid, 8.0);
    }
    for m in 0..n {
        // The truth of each column, above it.
        if let Some(colour) = p.truth(v.truth_of(m)) {
            ctx.set_fill_style_str(colour);
            ctx.fill_rect(LEFT + f64::from(m) * c, TOP - 9.0, c - gap, 6.0);
        }
    }
    let glyphs = c >= 14.0;
    ctx.set_font(&format!("bold {}px sans-serif", (c * 0.55).round()));
    ctx.set_text_align("center");
    for o in 0..n {
        for m in 0..n {
            let (x, y) = (LEFT + f64::from(m) * c, TOP + f64::from(o) * c);
            let size = c - gap;
            if o == m {
                // The diagonal: what is true of the member.
                let t = v.truth_of(m);
                match p.truth(t) {
                    Some(colour) => {
                        ctx.set_fill_style_str(colour);
                        ctx.fill_rect(x, y, size, size);
                    }
                    None => {
                        ctx.set_stroke_style_str(p.muted);
                        ctx.set_line_width(1.0);
                        ctx.stroke_rect(x + 0.5, y + 0.5, size - 1.0, size - 1.0);
                    }
                }
                if glyphs {
                    ctx.set_fill_style_str(if t == Truth::Up { p.fg } else { p.on_colour });
                    let _ = ctx.fill_text(letter(t), x + size / 2.0, y + size / 2.0 + 1.0);
                }
                continue;
            }
            let opinion = v.opinion(o, m).unwrap_or(Opinion::NoView);
            ctx.set_fill_style_str(p.opinion(opinion));
            ctx.fill_rect(x, y, size, size);
            if matches!(opinion, Opinion::Suspected | Opinion::Dead) && !v.truth_of(m).failed() {
                hatch(ctx, p, x, y, size);
            }
            if glyphs && matches!(opinion, Opinion::Suspected | Opinion::Dead) && !v.truth_of(m).failed() {
                // The glyph on a plain patch, legible over the hatch.
                ctx.set_fill_style_str(p.opinion(opinion));
                ctx.fill_rect(x + size * 0.25, y + size * 0.2, size * 0.5, size * 0.6);
            }
            if glyphs && opinion != Opinion::Alive {
                ctx.set_fill_style_str(if opinion == Opinion::NoView { p.muted } else { p.on_colour });
                let _ = ctx.fill_text(glyph(opinion), x + size / 2.0, y + size / 2.0 + 1.0);
            }
        }
    }
}

/// Draws one bar per member: the share of the live others that suspect it
/// (above) or hold it dead (below), and its truth under it.
fn draw_bars(ctx: &CanvasRenderingContext2d, v: &FaultsView, p: &Palette) {
    let bw = bar_width(v.n);
    let base = BARS_H + 8.0;
    ctx.set_stroke_style_str(p.faint);
    ctx.set_line_width(1.0);
    ctx.begin_path();
    for y in [8.0, 8.0 + BARS_H / 2.0, base] {
        ctx.move_to(LEFT, y + 0.5);
        ctx.line_to(LEFT + bw * f64::from(v.n), y + 0.5);
    }
    ctx.stroke();
    ctx.set_font("10px sans-serif");
    ctx.set_fill_style_str(p.muted);
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    for (y, t) in [(8.0, "all"), (8.0 + BARS_H / 2.0, "half"), (base, "none")] {
        let _ = ctx.fill_text(t, LEFT - 4.0, y);
    }
    for m in 0..v.n {
        let x = LEFT + f64::from(m) * bw;
        let live = f64::from(v.live_others(m).max(1));
        let dead = f64::from(v.dead_by.get(m as usize).copied().unwrap_or(0)) / live;
        let sus = f64::from(v.suspected_by.get(m as usize).copied().unwrap_or(0)) / live;
        let (hd, hs) = (dead.min(1.0) * BARS_H, sus.min(1.0 - dead.min(1.0)) * BARS_H);
        let w = (bw - if bw >= 3.0 { 1.0 } else { 0.0 }).max(0.8);
        ctx.set_fill_style_str(p.dead);
        ctx.fill_rect(x, base - hd, w, hd);
        ctx.set_fill_style_str(p.suspected);
        ctx.fill_rect(x, base - hd - hs, w, hs);
        if let Some(colour) = p.truth(v.truth_of(m)) {
            ctx.set_fill_style_str(colour);
            ctx.fill_rect(x, base + 4.0, w, 7.0);
        }
    }
    ctx.set_fill_style_str(p.muted);
    ctx.set_text_align("center");
    ctx.set_text_baseline("top");
    // Labels about 34 px apart, at round numbers.
    let step = (34.0 / bw).ceil().max(1.0) as u32;
    let step = [1, 2, 5, 10, 20, 25, 50, 100].into_iter().find(|&s| s >= step).unwrap_or(step);
    for m in (0..v.n).filter(|m| (m + 1) % step == 0 || (step == 1 && *m == 0)) {
        let _ = ctx.fill_text(&format!("S{}", m + 1), LEFT + (f64::from(m) + 0.5) * bw, base + 14.0);
    }
}

fn draw(c: &HtmlCanvasElement, v: &FaultsView) {
    let (w, h) = canvas_size(v);
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
    c.set_width((w * dpr) as u32);
    c.set_height((h * dpr) as u32);
    let Some(ctx) = c.get_context("2d").ok().flatten().and_then(|o| o.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    let p = palette();
    ctx.set_fill_style_str(p.bg);
    ctx.fill_rect(0.0, 0.0, w, h);
    if v.has_matrix() {
        draw_matrix(&ctx, v, p);
    } else {
        draw_bars(&ctx, v, p);
    }
}

/// What a cell says, in words.
fn cell_text(v: &FaultsView, o: u32, m: u32) -> String {
    let truth = v.truth_of(m);
    if o == m {
        return format!("S{}: {}", m + 1, truth.name());
    }
    match v.opinion(o, m).unwrap_or(Opinion::NoView) {
        Opinion::NoView => format!("S{} is down: it holds no view of S{}", o + 1, m + 1),
        Opinion::Alive => format!("S{} holds S{} alive; S{} is {}", o + 1, m + 1, m + 1, truth.name()),
        doubt => {
            let verdict = if truth.failed() { "rightly" } else { "a false suspicion" };
            format!("S{} holds S{} {}; S{} is {}: {verdict}", o + 1, m + 1, doubt.name(), m + 1, truth.name())
        }
    }
}

/// What a bar says, in words.
fn bar_text(v: &FaultsView, m: u32) -> String {
    let at = |x: &[u16]| x.get(m as usize).copied().unwrap_or(0);
    format!(
        "S{}: suspected by {}, declared dead by {}, of {} live others; it is {}",
        m + 1,
        at(&v.suspected_by),
        at(&v.dead_by),
        v.live_others(m),
        v.truth_of(m).name()
    )
}

/// What is under the pointer at (x, y) in CSS pixels of the canvas.
fn hovered(v: &FaultsView, x: f64, y: f64) -> Option<String> {
    if v.has_matrix() {
        let c = cell_size(v.n);
        let (col, row) = ((x - LEFT) / c, (y - TOP) / c);
        let n = f64::from(v.n);
        (col >= 0.0 && row >= 0.0 && col < n && row < n).then(|| cell_text(v, row as u32, col as u32))
    } else {
        let col = (x - LEFT) / bar_width(v.n);
        (col >= 0.0 && col < f64::from(v.n)).then(|| bar_text(v, col as u32))
    }
}

/// Who suspects whom: the matrix (or the bars), its legend, the summary
/// and the cell under the pointer.
#[function_component]
pub fn Views(props: &PanelProps) -> Html {
    let canvas = use_node_ref();
    let hover = use_state(|| None::<String>);
    let view = super::decoded::<FaultsView>(&props.ctx.state);
    {
        let canvas = canvas.clone();
        use_effect_with(view.clone(), move |view| {
            if let (Some(v), Some(c)) = (view, canvas.cast::<HtmlCanvasElement>()) {
                draw(&c, v);
            }
        });
    }
    let Some(v) = view else { return html! {} };
    let onmousemove = {
        let (hover, canvas, v) = (hover.clone(), canvas.clone(), v.clone());
        Callback::from(move |e: MouseEvent| {
            let Some(c) = canvas.cast::<HtmlCanvasElement>() else { return };
            let rect = c.get_bounding_client_rect();
            let (w, _) = canvas_size(&v);
            let scale = if rect.width() > 0.0 { w / rect.width() } else { 1.0 };
            let x = (f64::from(e.client_x()) - rect.left()) * scale;
            let y = (f64::from(e.client_y()) - rect.top()) * scale;
            hover.set(hovered(&v, x, y));
        })
    };
    let onmouseleave = {
        let hover = hover.clone();
        Callback::from(move |_| hover.set(None))
    };
    let (w, h) = canvas_size(&v);
    let summary = v.summary(3);
    let matrix = v.has_matrix();
    let label = if matrix {
        format!("Each of the {} members' view of the others, a row per observer. {}", v.n, summary.join(". "))
    } else {
        format!("How many of the live others doubt each of the {} members. {}", v.n, summary.join(". "))
    };
    let mode = if matrix { "matrix" } else { "bars" };
    let cell = if matrix { cell_size(v.n) } else { bar_width(v.n) };
    let heading = if matrix {
        format!("Who suspects whom: each member's view of the other {}", v.n.saturating_sub(1))
    } else {
        format!("Who is doubted: {} members, too many for a matrix (more than 64)", v.n)
    };
    let item = |class: &'static str, mark: &'static str, words: String| {
        html! { <li><span class={classes!("swatch", class)} aria-hidden="true">{ mark }</span>{ words }</li> }
    };
    html! {
        <section class="panel faults-view" aria-label="Who suspects whom">
            <h2>{ heading }</h2>
            <p class="faults-summary" aria-live="polite">{ summary.join(". ") }{ "." }</p>
            <div class="faults-matrix">
                if matrix {
                    <span class="faults-axis">{ "rows: the observer · columns: the member it judges" }</span>
                } else {
                    <span class="faults-axis">{ "bars: share of the live others that suspect (top) or hold dead (bottom) each member" }</span>
                }
                <canvas ref={canvas} class={classes!("faults", mode)} role="img" aria-label={label}
                    data-mode={mode} data-members={v.n.to_string()} data-cell={cell.to_string()}
                    data-left={LEFT.to_string()} data-top={if matrix { TOP } else { 8.0 }.to_string()}
                    width={w.to_string()} height={h.to_string()}
                    style={format!("max-width: {w}px")}
                    {onmousemove} {onmouseleave}></canvas>
            </div>
            <p class="faults-hover" aria-live="off">{ (*hover).clone().unwrap_or_else(|| if matrix { "Point at a cell to read it.".into() } else { "Point at a bar to read it.".into() }) }</p>
            <ul class="faults-legend" aria-label="Legend">
                if matrix { { item("fd-alive", "", Opinion::Alive.name().to_string()) } }
                { item("fd-suspected", "?", Opinion::Suspected.name().to_string()) }
                { item("fd-dead", "×", Opinion::Dead.name().to_string()) }
                if matrix {
                    { item("fd-noview", "–", Opinion::NoView.name().to_string()) }
                    { item("fd-false", "", "hatched: suspected or dead, though not crashed: a false suspicion".to_string()) }
                    { item("fd-up", "U", "diagonal: the member itself, U up".to_string()) }
                }
                { item("fd-down", "C", "crashed".to_string()) }
                { item("fd-paused", "P", "paused".to_string()) }
                { item("fd-slow", "S", "slow, or J behind a jittery link".to_string()) }
            </ul>
        </section>
    }
}
