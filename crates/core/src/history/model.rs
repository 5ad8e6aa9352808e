//! The sequential objects a history is checked against, over interned
//! values so that a state is one small number (cheap to copy, hash and
//! compare in the checker's memo).

use super::{Op, Value};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The sequential object a history's clients used. Every one is checked
/// key by key (linearizability is local), so a register history over many
/// keys is one register per key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModelKind {
    /// Reads and writes.
    Register,
    /// Reads, writes and compare-and-set.
    CasRegister,
    /// A key-value store: get (read), put (write), append and
    /// compare-and-set on each key.
    Kv,
    /// Acquire and release (Knossos's mutex: no owner, a release when
    /// free is illegal).
    Mutex,
}

impl ModelKind {
    /// Every model, in the order a menu lists them.
    pub const ALL: [ModelKind; 4] = [ModelKind::Register, ModelKind::CasRegister, ModelKind::Kv, ModelKind::Mutex];

    /// The name the command line and files use.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
            ModelKind::Mutex => "mutex",
        }
    }

    /// The model named `name`, or a sentence listing the names.
    pub fn parse(name: &str) -> Result<ModelKind, String> {
        ModelKind::ALL.into_iter().find(|m| m.name() == name).ok_or_else(|| {
            let names: Vec<&str> = ModelKind::ALL.iter().map(|m| m.name()).collect();
            format!("no model '{name}': choose {}", names.join(", "))
        })
    }

    /// Whether the object has operation `op`.
    pub fn allows(self, op: &Op) -> bool {
        match self {
            ModelKind::Register => matches!(op, Op::Read { .. } | Op::Write { .. }),
            ModelKind::CasRegister => matches!(op, Op::Read { .. } | Op::Write { .. } | Op::Cas { .. }),
            ModelKind::Kv => !matches!(op, Op::Acquire | Op::Release),
            ModelKind::Mutex => matches!(op, Op::Acquire | Op::Release),
        }
    }
}

/// An operation over interned values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    Read(Option<u32>),
    Write(u32),
    Cas(u32, u32, Option<bool>),
    Append(u32),
    Acquire,
    Release,
}

impl Step {
    /// The same operation with its answer unknown.
    pub(super) fn unknown_answer(self) -> Step {
        match self {
            Step::Read(_) => Step::Read(None),
            Step::Cas(from, to, _) => Step::Cas(from, to, None),
            other => other,
        }
    }
}

/// Values by number, and the results of appends already worked out.
#[derive(Default)]
pub(super) struct Interner {
    values: Vec<Value>,
    ids: HashMap<Value, u32>,
    appended: HashMap<(u32, u32), u32>,
}

/// The mutex's states.
const FREE: Value = Value::Nil;
const HELD: Value = Value::Int(1);

impl Interner {
    pub(super) fn id(&mut self, v: &Value) -> u32 {
        if let Some(&id) = self.ids.get(v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.clone());
        self.ids.insert(v.clone(), id);
        id
    }

    pub(super) fn value(&self, id: u32) -> &Value {
        &self.values[id as usize]
    }

    /// The operation with its values interned.
    pub(super) fn step_of(&mut self, op: &Op) -> Step {
        match op {
            Op::Read { value } => Step::Read(value.as_ref().map(|v| self.id(v))),
            Op::Write { value } => Step::Write(self.id(value)),
            Op::Cas { from, to, ok } => Step::Cas(self.id(from), self.id(to), *ok),
            Op::Append { value } => Step::Append(self.id(value)),
            Op::Acquire => Step::Acquire,
            Op::Release => Step::Release,
        }
    }

    /// Whether the string `outer` holds the string `piece`.
    pub(super) fn contains(&self, outer: u32, piece: u32) -> bool {
        match (self.value(outer), self.value(piece)) {
            (Value::Str(o), Value::Str(p)) => o.contains(p.as_str()),
            _ => outer == piece,
        }
    }

    /// The first state of a key.
    pub(super) fn initial(&mut self, model: ModelKind, initial: &Value) -> u32 {
        match model {
            ModelKind::Mutex => self.id(&FREE),
            _ => self.id(initial),
        }
    }

    /// The state after `step` from `state`, or `None` if the step is not
    /// legal there (a read of another value, a release when free).
    pub(super) fn apply(&mut self, state: u32, step: Step) -> Option<u32> {
        match step {
            Step::Read(None) => Some(state),
            Step::Read(Some(v)) => (v == state).then_some(state),
            Step::Write(v) => Some(v),
            Step::Cas(from, to, ok) => match (from == state, ok) {
                (true, Some(true) | None) => Some(to),
                (false, Some(false) | None) => Some(state),
                _ => None,
            },
            Step::Append(piece) => self.append(state, piece),
            Step::Acquire => (self.value(state) == &FREE).then(|| self.id(&HELD)),
            Step::Release => (self.value(state) == &HELD).then(|| self.id(&FREE)),
        }
    }

    fn append(&mut self, state: u32, piece: u32) -> Option<u32> {
        if let Some(&s) = self.appended.get(&(state, piece)) {
            return Some(s);
        }
        let joined = match (self.value(state), self.value(piece)) {
            (Value::Nil, Value::Str(b)) => Value::Str(b.clone()),
            (Value::Str(a), Value::Str(b)) => Value::Str(format!("{a}{b}")),
            _ => return None,
        };
        let id = self.id(&joined);
        self.appended.insert((state, piece), id);
        Some(id)
    }

    /// Why `step` cannot follow in `state`, in words.
    pub(super) fn why_not(&self, state: u32, step: Step) -> String {
        let now = self.value(state);
        match step {
            Step::Read(_) => format!("the value then is {now}"),
            Step::Cas(from, _, Some(true)) => {
                format!("it succeeded, so the value was {}, but the value then is {now}", self.value(from))
            }
            Step::Cas(_, _, _) => format!("it failed, but the value then is {now}, which it expected"),
            Step::Append(piece) => format!("{} cannot be appended to {now}", self.value(piece)),
            Step::Acquire => "the mutex is held then".to_string(),
            Step::Release => "the mutex is free then".to_string(),
            Step::Write(_) => "a write always can".to_string(),
        }
    }
}
