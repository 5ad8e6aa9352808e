//! Files in and out: the drawings as SVG and PNG, the scenario as a `.scn`
//! file, and a scenario file opened with the file picker or dropped on the
//! page. A file that is not a scenario gets the parser's message (line and
//! column) and the current run goes on.

use super::{canvas, pen, spacetime};
use crate::ctx::Ctx;
use crate::protocol::ToWorker;
use crate::state::Msg;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlAnchorElement, HtmlCanvasElement, HtmlInputElement};
use yew::prelude::*;

/// Largest scenario file read (the format's own limit is 1 MiB).
const MAX_FILE: f64 = 2.0 * 1024.0 * 1024.0;

/// Offers `href` as a download named `name`.
pub(crate) fn download_url(href: &str, name: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(a) = doc.create_element("a").ok().and_then(|e| e.dyn_into::<HtmlAnchorElement>().ok()) else {
        return;
    };
    a.set_href(href);
    a.set_download(name);
    a.set_attribute("data-export", name).ok();
    if let Some(body) = doc.body() {
        let _ = body.append_child(&a);
        a.click();
        let _ = body.remove_child(&a);
    }
}

/// Offers `text` as a download named `name` of type `mime`.
pub fn download_text(text: &str, name: &str, mime: &str) {
    let parts = js_sys::Array::of1(&text.into());
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    download_url(&url, name);
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Offers the canvas matching `selector` as a PNG named `name`, with
/// `caption` (the story's caption in force) in a band under the picture.
fn download_png(selector: &str, name: &str, caption: Option<&str>) -> bool {
    let canvas = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok());
    let Some(canvas) = canvas else { return false };
    let picture = match caption {
        None => Some(canvas),
        Some(text) => with_caption(&canvas, text),
    };
    match picture.and_then(|c| c.to_data_url_with_type("image/png").ok()) {
        Some(url) => {
            download_url(&url, name);
            true
        }
        None => false,
    }
}

/// A new canvas: `src`, then a band with `text` under it (drawn at the
/// device's pixel ratio, as the drawing is).
fn with_caption(src: &HtmlCanvasElement, text: &str) -> Option<HtmlCanvasElement> {
    let doc = web_sys::window()?.document()?;
    let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
    let (w, h) = (f64::from(src.width()), f64::from(src.height()));
    let band = pen::CaptionBand::new(Some(text), w / ratio);
    let out = doc.create_element("canvas").ok()?.dyn_into::<HtmlCanvasElement>().ok()?;
    out.set_width(src.width());
    out.set_height((h + band.height * ratio).ceil() as u32);
    let ctx = out.get_context("2d").ok().flatten()?.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()?;
    ctx.draw_image_with_html_canvas_element(src, 0.0, 0.0).ok()?;
    ctx.scale(ratio, ratio).ok()?;
    band.draw(&mut pen::CanvasPen(&ctx), h / ratio, w / ratio, pen::theme());
    Some(out)
}

/// Reads a scenario file and loads it (the worker answers a malformed one
/// with an error and keeps the run).
pub fn import(file: web_sys::File, ctx: &Ctx, keep: &Rc<RefCell<Option<gloo_file::callbacks::FileReader>>>) {
    let d = ctx.state.dispatcher();
    if file.size() > MAX_FILE {
        d.dispatch(Msg::Error(format!(
            "{} is {:.1} MB: a scenario file is at most 1 MB. The current run was kept.",
            file.name(),
            file.size() / 1e6
        )));
        return;
    }
    let name = file.name();
    let bridge = ctx.bridge.clone();
    let reader = gloo_file::callbacks::read_as_text(&gloo_file::File::from(file).into(), move |r| match r {
        Ok(text) => {
            bridge.send(ToWorker::Pause);
            bridge.send(ToWorker::LoadText(text));
        }
        Err(e) => d.dispatch(Msg::Error(format!("{name} could not be read ({e}). The current run was kept."))),
    });
    *keep.borrow_mut() = Some(reader);
}

/// Props of [`Files`].
#[derive(Properties, Clone, PartialEq)]
pub struct FilesProps {
    /// State and worker.
    pub ctx: Ctx,
    /// The diagram's window and filters (what its export shows).
    pub shared: spacetime::Shared,
    /// Whether the diagram is on screen.
    pub diagram: bool,
}

/// The Files menu: the scenario saved and opened, a history file opened
/// (checked for linearizability), the drawings exported.
#[function_component]
pub fn Files(props: &FilesProps) -> Html {
    let ctx = &props.ctx;
    let reader = use_mut_ref(|| None::<gloo_file::callbacks::FileReader>);
    let input = use_node_ref();
    let lab = ctx.state.lab().to_string();
    use_save_exported(ctx, &lab);
    let scn = ctx.bridge.cb(ToWorker::ExportText);
    let Exports { cluster_svg, cluster_png, diagram_svg, diagram_png } = Exports::new(ctx, &props.shared, &lab);
    let pick = {
        let input = input.clone();
        Callback::from(move |_| {
            if let Some(i) = input.cast::<HtmlInputElement>() {
                i.click();
            }
        })
    };
    let onchange = {
        let ctx = ctx.clone();
        Callback::from(move |e: Event| {
            let Some(i) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else {
                return;
            };
            if let Some(file) = i.files().and_then(|f| f.get(0)) {
                import(file, &ctx, &reader);
            }
            i.set_value("");
        })
    };
    let cluster = ctx.state.schema.as_ref().is_some_and(|s| s.cluster);
    html! {
        <details class="files">
            <summary>{ "Files" }</summary>
            <div class="menu" role="group" aria-label="Files">
                <button onclick={scn} title="The scenario recorded so far: it reproduces this run">{ "Save scenario (.scn)" }</button>
                <button onclick={pick} title="Or drop a .scn file on the page">{ "Open scenario…" }</button>
                <input ref={input} type="file" accept=".scn,.txt,text/plain" aria-label="Scenario file" class="hidden" {onchange} />
                <super::history::OpenHistory dispatch={ctx.state.dispatcher()} />
                if cluster { <button onclick={cluster_svg}>{ "Cluster view as SVG" }</button> }
                <button onclick={cluster_png}>{ "Drawing as PNG" }</button>
                if props.diagram {
                    <button onclick={diagram_svg}>{ "Diagram as SVG" }</button>
                    <button onclick={diagram_png}>{ "Diagram as PNG" }</button>
                }
            </div>
        </details>
    }
}

/// Saves the scenario text when the worker sends it (after "Save scenario").
#[hook]
fn use_save_exported(ctx: &Ctx, lab: &str) {
    let lab = lab.to_string();
    let exported = ctx.state.exported.clone();
    use_effect_with(exported.as_ref().map(|e| e.0), move |_| {
        if let Some((_, text)) = exported {
            download_text(&text, &format!("clusterscope-{lab}.scn"), "text/plain");
        }
    });
}

/// The drawings' exports, each a download named after the lab.
struct Exports {
    cluster_svg: Callback<MouseEvent>,
    cluster_png: Callback<MouseEvent>,
    diagram_svg: Callback<MouseEvent>,
    diagram_png: Callback<MouseEvent>,
}

impl Exports {
    fn new(ctx: &Ctx, shared: &spacetime::Shared, lab: &str) -> Exports {
        let cluster_svg = {
            let state = ctx.state.clone();
            let name = format!("clusterscope-{lab}.svg");
            Callback::from(move |_| {
                if let Some(svg) = canvas::svg(&state) {
                    download_text(&svg, &name, "image/svg+xml");
                }
            })
        };
        // The caption in force when the button is pressed.
        let caption = |state: &crate::state::AppState| state.caption_at(state.time()).map(|c| c.1.to_string());
        let cluster_png = {
            let state = ctx.state.clone();
            let name = format!("clusterscope-{lab}.png");
            Callback::from(move |_| {
                download_png("canvas.cluster, canvas.stage-canvas", &name, caption(&state).as_deref());
            })
        };
        let diagram_svg = {
            let state = ctx.state.clone();
            let shared = shared.clone();
            let name = format!("clusterscope-{lab}-diagram.svg");
            Callback::from(move |_| {
                let (Some(schema), Some(f)) = (state.schema.as_ref(), state.frame.as_ref()) else {
                    return;
                };
                let (win, filters) = shared.0.borrow().clone();
                let words = caption(&state);
                let svg = spacetime::svg(&state.diagram.0.borrow(), schema, (&win, &filters), f.time, words.as_deref());
                download_text(&svg, &name, "image/svg+xml");
            })
        };
        let diagram_png = {
            let state = ctx.state.clone();
            let name = format!("clusterscope-{lab}-diagram.png");
            Callback::from(move |_| {
                download_png("canvas.diagram", &name, caption(&state).as_deref());
            })
        };
        Exports { cluster_svg, cluster_png, diagram_svg, diagram_png }
    }
}
