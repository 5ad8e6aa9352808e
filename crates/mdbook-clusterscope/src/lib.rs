//! `mdbook-clusterscope`: an mdBook preprocessor that turns a fenced block
//!
//! ````markdown
//! ```clusterscope lab=raft controls=compact view=both height=420
//! seed 7
//! at 2s crash S1
//! ```
//! ````
//!
//! into a live lab: the site's `<cluster-scope>` element (`clusterscope.js`)
//! holding the block's scenario. Every block is read with the same parser
//! as files and links, so a malformed one fails the book's build with the
//! chapter's file and line, rather than shipping a broken lab.
//!
//! `book.toml`:
//!
//! ```toml
//! [preprocessor.clusterscope]
//! # Where ClusterScope is served: a URL, or a folder of the book's output.
//! site = "clusterscope/"
//! # Optional: a built site (./dev build's dist/) to copy into the book's
//! # source under `site`, so the book carries its own labs.
//! copy-site = "../../dist"
//! ```
//!
//! The block's words after `clusterscope` are the element's attributes
//! (`controls`, `view`, `height`, `speed`, `autoplay`, `t`, `title`); `lab`
//! also adds a `lab` line when the scenario has none.

use clusterscope_core::scenario::{Scenario, ScenarioError};
use mdbook_preprocessor::book::{Book, BookItem, Chapter};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The attributes a block may set on its element.
const ATTRIBUTES: [&str; 8] = ["lab", "controls", "view", "height", "speed", "autoplay", "t", "title"];

/// The preprocessor.
pub struct ClusterScope;

/// The preprocessor's settings from `book.toml`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Where the site is: a URL, or a folder relative to the book's root.
    pub site: String,
    /// A built site to copy into the book's source under `site`.
    pub copy_site: Option<PathBuf>,
}

impl Settings {
    fn from(ctx: &PreprocessorContext) -> Result<Settings, String> {
        let get = |key: &str| -> Result<Option<String>, String> {
            ctx.config
                .get::<String>(&format!("preprocessor.clusterscope.{key}"))
                .map_err(|e| format!("book.toml, [preprocessor.clusterscope] {key}: {e}"))
        };
        Ok(Settings {
            site: get("site")?.unwrap_or_else(|| "clusterscope/".to_string()),
            copy_site: get("copy-site")?.map(PathBuf::from),
        })
    }
}

impl Preprocessor for ClusterScope {
    fn name(&self) -> &str {
        "clusterscope"
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> mdbook_preprocessor::errors::Result<Book> {
        let settings = Settings::from(ctx).map_err(anyhow_error)?;
        if let Some(from) = &settings.copy_site {
            let to = ctx.root.join(&ctx.config.book.src).join(settings.site.trim_end_matches('/'));
            copy_dir(&ctx.root.join(from), &to).map_err(anyhow_error)?;
        }
        let mut failure = None;
        book.for_each_mut(|item| {
            if let (BookItem::Chapter(ch), None) = (item, &failure) {
                if let Err(e) = expand_chapter(ch, &settings.site) {
                    failure = Some(e);
                }
            }
        });
        match failure {
            Some(e) => Err(anyhow_error(e)),
            None => Ok(book),
        }
    }

    fn supports_renderer(&self, renderer: &str) -> mdbook_preprocessor::errors::Result<bool> {
        Ok(renderer == "html")
    }
}

fn anyhow_error(message: String) -> mdbook_preprocessor::errors::Error {
    mdbook_preprocessor::errors::Error::msg(message)
}

fn expand_chapter(ch: &mut Chapter, site: &str) -> Result<(), String> {
    let file = ch.source_path.clone().or_else(|| ch.path.clone()).unwrap_or_else(|| PathBuf::from(&ch.name));
    let depth = ch.path.as_ref().map_or(0, |p| p.components().count().saturating_sub(1));
    let site =
        if site.contains("://") || site.starts_with('/') { site.to_string() } else { "../".repeat(depth) + site };
    let site = if site.ends_with('/') { site } else { format!("{site}/") };
    ch.content = expand(&ch.content, &file.display().to_string(), &site)?;
    Ok(())
}

/// Replaces every ```` ```clusterscope ```` block of a chapter's text with
/// the element (and the script before the first one). `file` names the
/// chapter in errors; `site` is the site's address as the chapter sees it.
pub fn expand(text: &str, file: &str, site: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.split_inclusive('\n').enumerate();
    let mut scripted = false;
    while let Some((n, line)) = lines.next() {
        let Some(words) = opening(line) else {
            out.push_str(line);
            continue;
        };
        let attrs = attributes(words).map_err(|e| format!("{file}:{}: {e}", n + 1))?;
        let mut body = Vec::new();
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if l.trim_end() == "```" {
                closed = true;
                break;
            }
            body.push(l.trim_end_matches(['\n', '\r']));
        }
        if !closed {
            return Err(format!("{file}:{}: the ```clusterscope block opened here is never closed", n + 1));
        }
        let scenario = scenario_text(&attrs, &body);
        let added = usize::from(scenario.lines().count() > body.len());
        check(&scenario).map_err(|(line, e)| match line {
            Some(l) => format!("{file}:{}: {e}", n + 1 + l - added),
            None => format!("{file}:{}: {e}", n + 1),
        })?;
        if !scripted {
            let _ = writeln!(out, "<script src=\"{site}clusterscope.js\" defer></script>");
            scripted = true;
        }
        out.push_str(&element(&attrs, &scenario));
    }
    Ok(out)
}

/// The words after ```` ```clusterscope ````, if `line` opens such a block.
fn opening(line: &str) -> Option<&str> {
    let rest = line.trim_end().strip_prefix("```clusterscope")?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(rest.trim())
}

fn attributes(words: &str) -> Result<Vec<(String, String)>, String> {
    words
        .split_whitespace()
        .map(|w| {
            let (k, v) = w.split_once('=').ok_or_else(|| format!("'{w}' should be name=value"))?;
            if !ATTRIBUTES.contains(&k) {
                return Err(format!("'{k}' is not an option of a lab block (choose from {})", ATTRIBUTES.join(", ")));
            }
            Ok((k.to_string(), v.trim_matches('"').to_string()))
        })
        .collect()
}

/// The block's scenario, with a `lab` line first when the block names the
/// lab and the text does not.
fn scenario_text(attrs: &[(String, String)], body: &[&str]) -> String {
    let has_lab = body.iter().any(|l| l.split_whitespace().next() == Some("lab"));
    let mut text = String::new();
    if let (Some((_, lab)), false) = (attrs.iter().find(|(k, _)| k == "lab"), has_lab) {
        let _ = writeln!(text, "lab {lab}");
    }
    for l in body {
        text.push_str(l);
        text.push('\n');
    }
    text
}

/// Reads the scenario as files and links are read: the line (of the
/// scenario text) and the sentence when it is wrong.
fn check(text: &str) -> Result<(), (Option<usize>, String)> {
    match Scenario::parse(text) {
        Ok(_) => Ok(()),
        Err(ScenarioError::Line { line, message }) => Err((Some(line), message)),
        Err(e) => Err((None, e.to_string())),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The element. Blank lines are left out: in Markdown a blank line ends
/// an HTML block, and a scenario's blank lines mean nothing.
fn element(attrs: &[(String, String)], scenario: &str) -> String {
    // The element finds the site where its script came from.
    let mut out = String::from("<cluster-scope");
    for (k, v) in attrs.iter().filter(|(k, _)| k != "lab") {
        let _ = write!(out, " {k}=\"{}\"", escape(v));
    }
    out.push_str(">\n");
    for l in scenario.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(&escape(l));
        out.push('\n');
    }
    out.push_str("</cluster-scope>\n");
    out
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("copy-site: cannot read {}: {e}", from.display()))?;
    std::fs::create_dir_all(to).map_err(|e| format!("copy-site: cannot create {}: {e}", to.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("copy-site: {e}"))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("copy-site: {} to {}: {e}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}
