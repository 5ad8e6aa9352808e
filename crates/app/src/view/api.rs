//! The embedding API: a documentation page drives an embedded lab with
//! `postMessage` and hears what happens in it.
//!
//! Every message, both ways, is a plain object with `api: "clusterscope"`
//! and `version: 1`. Requests (from the embedding page, the iframe's
//! parent, only) carry a `type` and an optional `id` that the answer
//! echoes:
//!
//! | type | fields | does |
//! |---|---|---|
//! | `play`, `pause` | | runs or stops virtual time |
//! | `step` | | the next single event |
//! | `stepBack` | | back one event |
//! | `seek` | `time`: seconds (number) or a duration (`"1.5s"`) | goes to that time |
//! | `speed` | `speed`: virtual seconds per second, 0 = as fast as possible | |
//! | `load` | `scenario` (file text) or `link` (the part after `#`) | opens it at its time |
//! | `act` | `action`, as in a scenario file after `at T` (`"crash S1"`) | applies it now |
//! | `takeOver` | | drops the scenario's actions still to come (a preset's script) |
//! | `undo` | | undoes the last branch or take-over: the actions it dropped come back |
//! | `view` | `view`: `cluster`, `diagram` or `both` | |
//! | `get` | | nothing (answers with `state`) |
//!
//! The answer is `{type: "reply", id, ok: true, state}` once the lab has
//! done it (`state`: `lab`, `time` in seconds, `playing`, `fingerprint`,
//! `events`, `leader`, `decided`, `violation`, `link`, `script`: actions
//! still to come, `branch`: what the last branch or take-over dropped, in
//! words, while `undo` can bring it back, else `null`), or `{type:
//! "error", id, ok: false, error}`: for an unknown
//! type, a missing or ill-typed field, another version, or something the
//! lab refused (a malformed scenario, an action naming no server, a
//! `takeOver` with no script to come, an `undo` with nothing to undo). An
//! error changes nothing. Events go to the parent as `{type: "event",
//! event, time, ...}`: `ready` (the lab is up: `lab`), `loaded` (a run
//! opened), `time` (at most four a second while playing, and after every
//! jump: `playing`), `leader` (`leader`: `"S2"` or `null`), `decided`
//! (`count`: the metric the lab's schema gives the progress role), `note`
//! (a note the lab's schema marks as an event, such as a change of role
//! or a decision: `node`, `note`), `caption` (the run reached a caption of
//! its story, or a seek went to where another is in force: `text`, and
//! `at`, the caption's time in seconds), `violation` (`invariant`: the
//! checker's words).
//!
//! Replies go to the window that asked, events to the parent, with target
//! origin `*`: the lab says nothing private, and a sandboxed iframe
//! (`sandbox="allow-scripts"`, an opaque origin) can name no other.

use crate::protocol::ToWorker;
use clusterscope_core::sim::time::parse_duration;
use clusterscope_core::sim::{Time, SEC};
use js_sys::{Object, Reflect};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// The API's name in every message.
pub const API: &str = "clusterscope";
/// The API's version.
pub const VERSION: u32 = 1;

/// What a request asks.
#[derive(Clone, Debug)]
pub enum Request {
    /// Something the worker does.
    Worker(ToWorker),
    /// Show this view.
    View(String),
}

/// Reads a request. Errors say what is wrong, in words.
pub fn parse(data: &JsValue) -> Result<Request, String> {
    if !data.is_object() {
        return Err("a request must be an object with api, version and type".into());
    }
    let get = |k: &str| Reflect::get(data, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    if get("api").as_string().as_deref() != Some(API) {
        return Err(format!("api must be \"{API}\""));
    }
    match get("version").as_f64() {
        Some(v) if v == f64::from(VERSION) => {}
        Some(v) => return Err(format!("version {v} is not supported: this lab speaks version {VERSION}")),
        None => return Err(format!("version must be the number {VERSION}")),
    }
    let ty = get("type").as_string().ok_or("type must be a string")?;
    let text = |k: &str, max: usize| -> Result<String, String> {
        let v = get(k).as_string().ok_or_else(|| format!("'{ty}' needs '{k}', a string"))?;
        if v.len() > max {
            return Err(format!("'{k}' is {} bytes, more than the {max} allowed", v.len()));
        }
        Ok(v)
    };
    Ok(match ty.as_str() {
        "play" => Request::Worker(ToWorker::Play),
        "pause" => Request::Worker(ToWorker::Pause),
        "step" => Request::Worker(ToWorker::StepEvent),
        "stepBack" => Request::Worker(ToWorker::StepBack),
        "seek" => {
            let t = get("time");
            let at: Time = if let Some(secs) = t.as_f64() {
                if !secs.is_finite() || !(0.0..=30.0 * 86_400.0).contains(&secs) {
                    return Err("'time' must be between 0 and 30 days, in seconds".into());
                }
                (secs * SEC as f64).round() as Time
            } else if let Some(s) = t.as_string() {
                parse_duration(&s).ok_or_else(|| format!("'time' {s:?} is not a duration such as \"1.5s\""))?
            } else {
                return Err("'seek' needs 'time': seconds as a number, or a duration such as \"1.5s\"".into());
            };
            Request::Worker(ToWorker::Seek(at))
        }
        "speed" => match get("speed").as_f64() {
            Some(s) if s.is_finite() && (0.0..=1e6).contains(&s) => Request::Worker(ToWorker::Speed(s)),
            _ => return Err("'speed' must be a number from 0 (as fast as possible) to 1000000".into()),
        },
        "load" => {
            if !get("scenario").is_undefined() {
                Request::Worker(ToWorker::LoadText(text("scenario", 1 << 20)?))
            } else if !get("link").is_undefined() {
                let link = text("link", 1 << 21)?;
                Request::Worker(ToWorker::LoadLink(link.trim_start_matches('#').to_string()))
            } else {
                return Err("'load' needs 'scenario' (the file's text) or 'link' (the part after #)".into());
            }
        }
        "act" => Request::Worker(ToWorker::Act(text("action", 10_000)?)),
        "view" => {
            let v = text("view", 16)?;
            if !["cluster", "diagram", "both"].contains(&v.as_str()) {
                return Err(format!("'view' must be cluster, diagram or both, not {v:?}"));
            }
            Request::View(v)
        }
        "takeOver" => Request::Worker(ToWorker::TakeOver),
        "undo" => Request::Worker(ToWorker::Undo(true)),
        "get" => Request::Worker(ToWorker::Describe),
        other => {
            return Err(format!(
            "unknown type {other:?}: play, pause, step, stepBack, seek, speed, load, act, takeOver, undo, view or get"
        ))
        }
    })
}

/// Builds a message object.
pub fn message(ty: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    };
    set("api", &JsValue::from_str(API));
    set("version", &JsValue::from(VERSION));
    set("type", &JsValue::from_str(ty));
    for (k, v) in fields {
        set(k, v);
    }
    o.into()
}

fn post(to: &JsValue, msg: &JsValue) {
    if let Some(w) = to.dyn_ref::<web_sys::Window>() {
        let _ = w.post_message(msg, "*");
    } else {
        // A cross-origin parent is a WindowProxy that is not an instance
        // of this realm's Window; calling postMessage on it still works.
        let w: web_sys::Window = to.clone().unchecked_into();
        let _ = w.post_message(msg, "*");
    }
}

/// The parent window, if this page is embedded.
pub fn parent() -> Option<JsValue> {
    let w = web_sys::window()?;
    let parent = w.parent().ok().flatten()?;
    let me: &JsValue = w.as_ref();
    (!Object::is(parent.as_ref(), me)).then(|| parent.into())
}

/// Sends an event to the embedding page, if there is one.
pub fn emit(event: &str, time: Time, fields: &[(&str, JsValue)]) {
    if let Some(p) = parent() {
        let mut all = vec![("event", JsValue::from_str(event)), ("time", JsValue::from_f64(time as f64 / SEC as f64))];
        all.extend(fields.iter().map(|(k, v)| (*k, v.clone())));
        post(&p, &message("event", &all));
    }
}

/// Requests sent to the worker and not answered yet.
#[derive(Default)]
pub struct Pending {
    next: u64,
    waiting: BTreeMap<u64, (JsValue, JsValue)>,
}

/// The state as an object.
pub fn state_object(s: &crate::protocol::ApiState) -> JsValue {
    let node = |n: Option<u32>| n.map_or(JsValue::NULL, |n| JsValue::from_str(&format!("S{}", n + 1)));
    let o = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &v);
    };
    set("lab", JsValue::from_str(&s.lab));
    set("time", JsValue::from_f64(s.time as f64 / SEC as f64));
    set("playing", JsValue::from_bool(s.playing));
    set("fingerprint", JsValue::from_str(&s.fingerprint));
    set("events", JsValue::from_f64(s.events as f64));
    set("leader", node(s.leader));
    set("decided", JsValue::from_f64(s.decided));
    set("violation", s.violation.as_deref().map_or(JsValue::NULL, JsValue::from_str));
    set("link", JsValue::from_str(&s.link));
    set("script", JsValue::from_f64(s.script as f64));
    set("branch", s.branch.as_deref().map_or(JsValue::NULL, JsValue::from_str));
    o.into()
}

/// A shared handle.
pub type PendingHandle = Rc<RefCell<Pending>>;

/// Answers a request with an error.
pub fn refuse(to: &JsValue, id: &JsValue, error: &str) {
    post(to, &message("error", &[("id", id.clone()), ("ok", JsValue::FALSE), ("error", JsValue::from_str(error))]));
}

/// Answers a request with success.
pub fn accept(to: &JsValue, id: &JsValue, state: Option<&JsValue>) {
    let mut f = vec![("id", id.clone()), ("ok", JsValue::TRUE)];
    if let Some(s) = state {
        f.push(("state", s.clone()));
    }
    post(to, &message("reply", &f));
}

impl Pending {
    /// Notes a request going to the worker; returns its tag.
    pub fn wait(&mut self, from: JsValue, id: JsValue) -> u64 {
        self.next += 1;
        self.waiting.insert(self.next, (from, id));
        self.next
    }

    /// The worker answered request `tag`.
    pub fn done(&mut self, tag: u64, out: Result<Box<crate::protocol::ApiState>, String>) {
        if let Some((from, id)) = self.waiting.remove(&tag) {
            match out {
                Err(e) => refuse(&from, &id, &e),
                Ok(state) => accept(&from, &id, Some(&state_object(&state))),
            }
        }
    }
}

/// Whether a message came from this page's parent (requests from anyone
/// else are ignored: only the embedding page drives the lab).
pub fn from_parent(e: &web_sys::MessageEvent) -> bool {
    match (e.source(), parent()) {
        (Some(src), Some(p)) => Object::is(src.as_ref(), &p),
        _ => false,
    }
}

/// What the events already told the parent.
#[derive(Default)]
pub struct Seen {
    ready: bool,
    leader: Option<Option<u32>>,
    decided: f64,
    violation: bool,
    last_time_post: f64,
    last_time: Option<Time>,
    last_note_seq: Option<u64>,
    playing: bool,
    /// The caption in force last told: its time and words.
    caption: Option<(Time, String)>,
}

/// After each frame: updates the state `get` answers with and sends the
/// parent the events since the last frame.
pub fn follow(state: &crate::state::AppState, seen: &mut Seen, pending: &PendingHandle) {
    let (Some(frame), Some(schema)) = (state.frame.as_ref(), state.schema.as_ref()) else {
        return;
    };
    let time = frame.time;
    // The metrics the lab gives the roles of leader and progress.
    let (leader, decided) = (schema.leader(&frame.metrics), schema.progress(&frame.metrics));
    let node = |n: Option<u32>| n.map_or(JsValue::NULL, |n| JsValue::from_str(&format!("S{}", n + 1)));
    let _ = pending;
    if parent().is_none() {
        return;
    }
    if !seen.ready {
        seen.ready = true;
        emit("ready", time, &[("lab", JsValue::from_str(&schema.lab))]);
    }
    if state.status.reset {
        emit("loaded", time, &[("lab", JsValue::from_str(&schema.lab)), ("link", JsValue::from_str(&state.link))]);
        seen.violation = false;
        seen.leader = None;
        seen.last_note_seq = None;
    }
    let caption = state.caption_at(time).map(|(at, text)| (at, text.to_string()));
    if caption != seen.caption {
        if let Some((at, text)) = &caption {
            let at = JsValue::from_f64(*at as f64 / SEC as f64);
            emit("caption", time, &[("text", JsValue::from_str(text)), ("at", at)]);
        }
        seen.caption = caption;
    }
    let wall = js_sys::Date::now();
    let playing = state.status.playing;
    // While playing, at most four a second; otherwise whenever time moved.
    let due = if playing { wall - seen.last_time_post >= 250.0 } else { seen.last_time != Some(time) };
    if state.status.reset || playing != seen.playing || due {
        emit("time", time, &[("playing", JsValue::from_bool(playing))]);
        seen.last_time_post = wall;
        seen.last_time = Some(time);
    }
    seen.playing = playing;
    if seen.leader != Some(leader) {
        if seen.leader.is_some() || leader.is_some() {
            emit("leader", time, &[("leader", node(leader))]);
        }
        seen.leader = Some(leader);
    }
    if decided > seen.decided || (decided < seen.decided && state.status.reset) {
        emit("decided", time, &[("count", JsValue::from_f64(decided))]);
    }
    seen.decided = decided;
    // Notes: from the diagram's records made since the last frame.
    let store = state.diagram.0.borrow();
    let from = seen.last_note_seq.map_or(0, |s| s + 1);
    let start = store.records.partition_point(|r| r.seq < from);
    let mut sent = 0;
    for r in &store.records[start..] {
        if r.what == clusterscope_core::lab::diagram::What::Note && sent < 20 {
            // The notes the lab marks as events (changes of role, values chosen;
            // not every commit or heartbeat).
            let heard = |n: &&String| schema.notes.iter().any(|s| s.event && &s.name == *n);
            if let Some(name) = store.names.get(r.kind as usize).filter(heard) {
                emit("note", r.t0, &[("node", node(Some(r.from))), ("note", JsValue::from_str(name))]);
                sent += 1;
            }
        }
    }
    if let Some(last) = store.records.last() {
        seen.last_note_seq = Some(last.seq);
    }
    if let (Some(v), false) = (&frame.violation, seen.violation) {
        seen.violation = true;
        emit("violation", time, &[("invariant", JsValue::from_str(v))]);
    }
}
