//! The embedding API's messages as JavaScript objects: reading a request
//! posted to this window, and posting replies and events (the types and
//! their checks are plain Rust, in the parent module).

use super::{Command, Event, Message, Outbound, State};
use crate::protocol::ApiState;
use clusterscope_core::sim::Time;
use js_sys::Object;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// A request's `id`: any JavaScript value, echoed as it came (`undefined`
/// when there is none).
#[derive(Clone, Debug)]
pub struct JsId(pub JsValue);

impl Default for JsId {
    fn default() -> Self {
        JsId(JsValue::UNDEFINED)
    }
}

impl Serialize for JsId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_wasm_bindgen::preserve::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for JsId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_wasm_bindgen::preserve::deserialize(d).map(JsId)
    }
}

/// Reads a message posted to this window: its `id`, and the command or
/// what is wrong, in words.
pub fn read(data: &JsValue) -> (JsId, Result<Command, String>) {
    super::parse(|| serde_wasm_bindgen::Deserializer::from(data.clone()))
}

/// The message as a plain object (`null` for none, as JSON would have
/// it), or why it cannot be one.
fn object<B: Serialize>(body: B) -> Result<JsValue, String> {
    Message::new(body).serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| e.to_string())
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

/// Answers a request: done (with the state, if there is one to give) or
/// refused.
pub fn reply(to: &JsValue, id: JsId, out: Result<Option<State>, String>) {
    let msg = match out {
        Ok(state) => object(Outbound::reply(id.clone(), state)),
        Err(e) => object(Outbound::error(id.clone(), e)),
    };
    // A state that cannot be a JavaScript object (a count past 2^53) is
    // said as an error rather than dropped.
    if let Ok(msg) = msg.or_else(|e| object(Outbound::error(id, format!("the state cannot be sent: {e}")))) {
        post(to, &msg);
    }
}

/// Sends an event to the embedding page (every event's fields are
/// strings, numbers below 2^53 and booleans, which always convert).
fn emit(parent: &JsValue, time: Time, event: Event) {
    if let Ok(msg) = object(Outbound::<JsId>::event(time, event)) {
        post(parent, &msg);
    }
}

/// Requests sent to the worker and not answered yet.
#[derive(Default)]
pub struct Pending {
    next: u64,
    waiting: BTreeMap<u64, (JsValue, JsId)>,
}

/// A shared handle.
pub type PendingHandle = Rc<RefCell<Pending>>;

impl Pending {
    /// Notes a request going to the worker; returns its tag.
    pub fn wait(&mut self, from: JsValue, id: JsId) -> u64 {
        self.next += 1;
        self.waiting.insert(self.next, (from, id));
        self.next
    }

    /// The worker answered request `tag`.
    pub fn done(&mut self, tag: u64, out: Result<Box<ApiState>, String>) {
        if let Some((from, id)) = self.waiting.remove(&tag) {
            reply(&from, id, out.map(|s| Some(State::from(&*s))));
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

/// After each frame: sends the parent, if there is one, the events since
/// the last frame.
pub fn follow(state: &crate::state::AppState, seen: &mut super::Seen) {
    if let Some(p) = parent() {
        for (time, event) in super::events(state, seen, js_sys::Date::now()) {
            emit(&p, time, event);
        }
    }
}
