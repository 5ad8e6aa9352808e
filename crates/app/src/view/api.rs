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
//! done it (`view` answers without `state`; `state`: `lab`, `time` in
//! seconds, `playing`, `fingerprint`, `events`, `leader`, `decided`,
//! `violation`, `link`, `script`: actions still to come, `branch`: what
//! the last branch or take-over dropped, in words, while `undo` can bring
//! it back, else `null`), or `{type: "error", id, ok: false, error}`: for
//! an unknown type, a missing or ill-typed field, another version, or
//! something the lab refused (a malformed scenario, an action naming no
//! server, a `takeOver` with no script to come, an `undo` with nothing to
//! undo). An error changes nothing. Events go to the parent as `{type:
//! "event", event, time, ...}`: `ready` (the lab is up: `lab`), `loaded`
//! (a run opened or time jumped: `lab`, `link`), `time` (at most four a
//! second while playing, and after every jump: `playing`), `leader`
//! (`leader`: `"S2"` or `null`), `decided` (`count`: the metric the lab's
//! schema gives the progress role), `note` (a note the lab's schema marks
//! as an event, such as a change of role or a decision: `node`, `note`),
//! `caption` (the run reached a caption of its story, or a seek went to
//! where another is in force: `text`, and `at`, the caption's time in
//! seconds), `violation` (`invariant`: the checker's words).
//!
//! Replies go to the window that asked, events to the parent, with target
//! origin `*`: the lab says nothing private, and a sandboxed iframe
//! (`sandbox="allow-scripts"`, an opaque origin) can name no other.
//!
//! The messages are typed here, in plain Rust: [`Request`] is what a page
//! may send (read in two steps by [`parse`]: the envelope, then the
//! request, each fault named in a sentence), [`Outbound`] in a [`Message`]
//! what the lab posts back, with [`State`] and [`Event`]. The submodule
//! `js` (api/js.rs) only converts them to and from JavaScript objects
//! (serde-wasm-bindgen) and posts them. `web/clusterscope.d.ts` declares the same messages for
//! pages; a test here checks that the two say the same.

use crate::protocol::{ApiState, ToWorker};
use clusterscope_core::sim::time::parse_duration;
use clusterscope_core::sim::{Time, SEC};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

mod js;
#[cfg(test)]
mod tests;

pub use js::{follow, from_parent, parent, read, reply, JsId, Pending, PendingHandle};

/// The API's name in every message.
pub const API: &str = "clusterscope";
/// The API's version.
pub const VERSION: u32 = 1;

/// Every request's `type`, in the order the error for an unknown one
/// lists them (a test checks that these are exactly [`Request`]'s).
pub const TYPES: &[&str] =
    &["play", "pause", "step", "stepBack", "seek", "speed", "load", "act", "takeOver", "undo", "view", "get"];

/// A request, as the embedding page posts it (beside `api`, `version` and
/// `id`, which [`parse`] reads first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Request {
    /// Run virtual time.
    Play,
    /// Stop virtual time.
    Pause,
    /// The next single event.
    Step,
    /// Back one event.
    StepBack,
    /// Go to a time.
    Seek {
        /// Seconds, or a duration such as `"1.5s"`.
        time: At,
    },
    /// Virtual seconds per second, 0 = as fast as possible.
    Speed {
        /// From 0 to 1000000.
        speed: f64,
    },
    /// Open a scenario, at its time.
    Load {
        /// A scenario file's text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scenario: Option<String>,
        /// A share link's part after `#` (used when there is no scenario).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// Apply an action now.
    Act {
        /// As in a scenario file after `at T`: `"crash S1"`.
        action: String,
    },
    /// Drop the scenario's actions still to come.
    TakeOver,
    /// Undo the last branch or take-over.
    Undo,
    /// Show a view.
    View {
        /// `cluster`, `diagram` or `both`.
        view: String,
    },
    /// Nothing: answers with the state.
    Get,
}

/// A time to go to: seconds, or a duration in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum At {
    /// Seconds.
    Seconds(f64),
    /// A duration as in scenario files: `"1.5s"`, `"150ms"`.
    Duration(String),
}

/// The views a page may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewName {
    /// The cluster.
    Cluster,
    /// The space-time diagram.
    Diagram,
    /// Both.
    Both,
}

impl ViewName {
    /// All of them.
    pub const ALL: [ViewName; 3] = [ViewName::Cluster, ViewName::Diagram, ViewName::Both];

    /// As the page's `view` option spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ViewName::Cluster => "cluster",
            ViewName::Diagram => "diagram",
            ViewName::Both => "both",
        }
    }
}

/// What a request asks, once read and checked.
#[derive(Clone, Debug)]
pub enum Command {
    /// Something the worker does.
    Worker(ToWorker),
    /// Show this view.
    View(ViewName),
}

/// The fields every request has, whatever its type; read loosely, so
/// that each fault gets its own sentence.
#[derive(Deserialize)]
struct Envelope<Id> {
    api: Option<Loose>,
    version: Option<Loose>,
    #[serde(rename = "type")]
    ty: Option<Loose>,
    /// Echoed as it came, whatever it is.
    #[serde(default)]
    id: Id,
}

/// Any value, told apart only as far as the envelope's errors need.
#[derive(Deserialize)]
#[serde(untagged)]
enum Loose {
    Number(f64),
    Text(String),
    #[allow(dead_code)]
    Other(IgnoredAny),
}

/// Reads a request from `input` (called once for the envelope, once for
/// the request: each call gives the same message to read). Returns the
/// request's `id` (the default when it has none or is not an object),
/// and the command or what is wrong, in words.
pub fn parse<'de, Id, D>(input: impl Fn() -> D) -> (Id, Result<Command, String>)
where
    Id: Deserialize<'de> + Default,
    D: Deserializer<'de>,
{
    let Ok(envelope) = Envelope::<Id>::deserialize(input()) else {
        return (Id::default(), Err("a request must be an object with api, version and type".into()));
    };
    let checked = check(&envelope).and_then(|ty| {
        let request = Request::deserialize(input()).map_err(|e| needs(ty, &e.to_string()))?;
        request.command()
    });
    (envelope.id, checked)
}

/// The envelope's faults; else the request's type, one of [`TYPES`].
fn check<Id>(e: &Envelope<Id>) -> Result<&'static str, String> {
    if !matches!(&e.api, Some(Loose::Text(a)) if a == API) {
        return Err(format!("api must be \"{API}\""));
    }
    match e.version {
        Some(Loose::Number(v)) if v == f64::from(VERSION) => {}
        Some(Loose::Number(v)) => {
            return Err(format!("version {v} is not supported: this lab speaks version {VERSION}"))
        }
        _ => return Err(format!("version must be the number {VERSION}")),
    }
    let Some(Loose::Text(ty)) = &e.ty else {
        return Err("type must be a string".into());
    };
    TYPES.iter().find(|t| **t == ty.as_str()).copied().ok_or_else(|| {
        let (last, rest) = TYPES.split_last().unwrap_or((&"", &[]));
        format!("unknown type {ty:?}: {} or {last}", rest.join(", "))
    })
}

/// What a request of type `ty` needs, when its fields have the wrong
/// shape (`error`: the reader's words, for a type with no fields).
fn needs(ty: &str, error: &str) -> String {
    match ty {
        "seek" => "'seek' needs 'time': seconds as a number, or a duration such as \"1.5s\"".into(),
        "speed" => SPEED_RANGE.into(),
        "load" => "'load' needs 'scenario' (the file's text) or 'link' (the part after #), a string".into(),
        "act" => "'act' needs 'action', a string".into(),
        "view" => "'view' needs 'view', a string: cluster, diagram or both".into(),
        _ => format!("'{ty}' cannot be read: {error}"),
    }
}

const SPEED_RANGE: &str = "'speed' must be a number from 0 (as fast as possible) to 1000000";

/// `text` unless it is longer than `max` bytes.
fn bounded(name: &str, text: String, max: usize) -> Result<String, String> {
    if text.len() > max {
        return Err(format!("'{name}' is {} bytes, more than the {max} allowed", text.len()));
    }
    Ok(text)
}

impl Request {
    /// Checks the values and says what the lab is to do.
    pub fn command(self) -> Result<Command, String> {
        Ok(Command::Worker(match self {
            Request::Play => ToWorker::Play,
            Request::Pause => ToWorker::Pause,
            Request::Step => ToWorker::StepEvent,
            Request::StepBack => ToWorker::StepBack,
            Request::Seek { time: At::Seconds(secs) } => {
                if !secs.is_finite() || !(0.0..=30.0 * 86_400.0).contains(&secs) {
                    return Err("'time' must be between 0 and 30 days, in seconds".into());
                }
                ToWorker::Seek((secs * SEC as f64).round() as Time)
            }
            Request::Seek { time: At::Duration(s) } => ToWorker::Seek(
                parse_duration(&s).ok_or_else(|| format!("'time' {s:?} is not a duration such as \"1.5s\""))?,
            ),
            Request::Speed { speed } if speed.is_finite() && (0.0..=1e6).contains(&speed) => ToWorker::Speed(speed),
            Request::Speed { .. } => return Err(SPEED_RANGE.into()),
            Request::Load { scenario: Some(text), .. } => ToWorker::LoadText(bounded("scenario", text, 1 << 20)?),
            Request::Load { scenario: None, link: Some(link) } => {
                ToWorker::LoadLink(bounded("link", link, 1 << 21)?.trim_start_matches('#').to_string())
            }
            Request::Load { scenario: None, link: None } => {
                return Err("'load' needs 'scenario' (the file's text) or 'link' (the part after #)".into())
            }
            Request::Act { action } => ToWorker::Act(bounded("action", action, 10_000)?),
            Request::TakeOver => ToWorker::TakeOver,
            Request::Undo => ToWorker::Undo(true),
            Request::Get => ToWorker::Describe,
            Request::View { view } => {
                let view = bounded("view", view, 16)?;
                return match ViewName::ALL.into_iter().find(|v| v.as_str() == view) {
                    Some(v) => Ok(Command::View(v)),
                    None => Err(format!("'view' must be cluster, diagram or both, not {view:?}")),
                };
            }
        }))
    }
}

/// A server's name as the API gives it: `S1` for the first.
fn node(n: u32) -> String {
    format!("S{}", u64::from(n) + 1)
}

/// Virtual time in seconds, as every message gives it.
fn seconds(t: Time) -> f64 {
    t as f64 / SEC as f64
}

/// The lab's state, as every reply carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The lab's name.
    pub lab: String,
    /// Virtual time, in seconds.
    pub time: f64,
    /// Whether virtual time is advancing.
    pub playing: bool,
    /// The trace fingerprint (hex).
    pub fingerprint: String,
    /// Events processed.
    pub events: u64,
    /// The leader (`"S2"`), if the lab has one now.
    pub leader: Option<String>,
    /// The lab's progress count.
    pub decided: f64,
    /// A broken invariant, in words.
    pub violation: Option<String>,
    /// The link fragment that reproduces this moment.
    pub link: String,
    /// How many of the scenario's actions are still to come.
    pub script: u64,
    /// What the last branch or take-over dropped, in words, while `undo`
    /// can bring it back.
    pub branch: Option<String>,
}

impl From<&ApiState> for State {
    fn from(s: &ApiState) -> State {
        State {
            lab: s.lab.clone(),
            time: seconds(s.time),
            playing: s.playing,
            fingerprint: s.fingerprint.clone(),
            events: s.events,
            leader: s.leader.map(node),
            decided: s.decided,
            violation: s.violation.clone(),
            link: s.link.clone(),
            script: s.script,
            branch: s.branch.clone(),
        }
    }
}

/// What happened in the lab, as the parent hears it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    /// The lab is up.
    Ready {
        /// Its name.
        lab: String,
    },
    /// A run opened, or time jumped.
    Loaded {
        /// The lab's name.
        lab: String,
        /// The link fragment of the run.
        link: String,
    },
    /// Time moved, or play started or stopped.
    Time {
        /// Whether virtual time is advancing.
        playing: bool,
    },
    /// The leader changed.
    Leader {
        /// `"S2"`, or none.
        leader: Option<String>,
    },
    /// The lab's progress count grew (or a new run reset it).
    Decided {
        /// The count.
        count: f64,
    },
    /// A note the lab's schema marks as an event.
    Note {
        /// The server: `"S1"`.
        node: String,
        /// The note's name: `"BecameLeader"`.
        note: String,
    },
    /// A caption of the run's story is in force.
    Caption {
        /// Its words.
        text: String,
        /// Its time, in seconds.
        at: f64,
    },
    /// An invariant broke.
    Violation {
        /// The checker's words.
        invariant: String,
    },
}

/// What the lab posts: answers to requests (`id` as the request gave it),
/// and events.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Outbound<Id> {
    /// Done. `state`: the lab's state after it (none for `view`).
    Reply {
        /// The request's.
        id: Id,
        /// Always true.
        ok: bool,
        /// The state.
        #[serde(skip_serializing_if = "Option::is_none")]
        state: Option<State>,
    },
    /// Refused; nothing changed.
    Error {
        /// The request's.
        id: Id,
        /// Always false.
        ok: bool,
        /// Why, in a sentence.
        error: String,
    },
    /// Something happened.
    Event {
        /// Virtual time, in seconds.
        time: f64,
        /// What, with its own fields.
        #[serde(flatten)]
        event: Event,
    },
}

impl<Id> Outbound<Id> {
    /// The answer to a request that was done.
    pub fn reply(id: Id, state: Option<State>) -> Self {
        Outbound::Reply { id, ok: true, state }
    }

    /// The answer to a request that was refused.
    pub fn error(id: Id, error: impl Into<String>) -> Self {
        Outbound::Error { id, ok: false, error: error.into() }
    }

    /// An event at virtual time `time`.
    pub fn event(time: Time, event: Event) -> Self {
        Outbound::Event { time: seconds(time), event }
    }
}

/// A message as posted: the API's name and version, then the body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message<B> {
    /// [`API`].
    pub api: &'static str,
    /// [`VERSION`].
    pub version: u32,
    /// The rest.
    #[serde(flatten)]
    pub body: B,
}

impl<B> Message<B> {
    /// `body` with the API's name and version.
    pub fn new(body: B) -> Self {
        Message { api: API, version: VERSION, body }
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

/// The events since the last frame, each with its virtual time, given
/// `wall`, the wall clock in milliseconds (`time` events are at most four
/// a second while playing).
pub fn events(state: &crate::state::AppState, seen: &mut Seen, wall: f64) -> Vec<(Time, Event)> {
    let mut out = Vec::new();
    let (Some(frame), Some(schema)) = (state.frame.as_ref(), state.schema.as_ref()) else {
        return out;
    };
    let time = frame.time;
    // The metrics the lab gives the roles of leader and progress.
    let (leader, decided) = (schema.leader(&frame.metrics), schema.progress(&frame.metrics));
    if !seen.ready {
        seen.ready = true;
        out.push((time, Event::Ready { lab: schema.lab.clone() }));
    }
    if state.status.reset {
        out.push((time, Event::Loaded { lab: schema.lab.clone(), link: state.link.clone() }));
        seen.violation = false;
        seen.leader = None;
        seen.last_note_seq = None;
    }
    let caption = state.caption_at(time).map(|(at, text)| (at, text.to_string()));
    if caption != seen.caption {
        if let Some((at, text)) = &caption {
            out.push((time, Event::Caption { text: text.clone(), at: seconds(*at) }));
        }
        seen.caption = caption;
    }
    let playing = state.status.playing;
    // While playing, at most four a second; otherwise whenever time moved.
    let due = if playing { wall - seen.last_time_post >= 250.0 } else { seen.last_time != Some(time) };
    if state.status.reset || playing != seen.playing || due {
        out.push((time, Event::Time { playing }));
        seen.last_time_post = wall;
        seen.last_time = Some(time);
    }
    seen.playing = playing;
    if seen.leader != Some(leader) {
        if seen.leader.is_some() || leader.is_some() {
            out.push((time, Event::Leader { leader: leader.map(node) }));
        }
        seen.leader = Some(leader);
    }
    if decided > seen.decided || (decided < seen.decided && state.status.reset) {
        out.push((time, Event::Decided { count: decided }));
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
                out.push((r.t0, Event::Note { node: node(r.from), note: name.clone() }));
                sent += 1;
            }
        }
    }
    if let Some(last) = store.records.last() {
        seen.last_note_seq = Some(last.seq);
    }
    if let (Some(v), false) = (&frame.violation, seen.violation) {
        seen.violation = true;
        out.push((time, Event::Violation { invariant: v.clone() }));
    }
    out
}
