//! The sequential objects a history is checked against, over interned
//! values so that a state is one small number (cheap to copy, hash and
//! compare in the checker's memo).

use super::{Op, Value};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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

/// Values by number. A state is a value the operations name (a
/// literal) or a string built by appends, kept as (the state appended to,
/// the piece): an append costs no string copy and no hashing of long
/// strings. Each built string carries its length and a polynomial hash,
/// so comparing it with a literal is cheap and exact (a match of both is
/// confirmed byte by byte once, then remembered).
#[derive(Default)]
pub(super) struct Interner {
    values: Vec<Value>,
    ids: HashMap<Value, u32>,
    /// Per state: literal (`u32::MAX`) or the state appended to, and the piece.
    built: Vec<(u32, u32)>,
    /// Per state: the string's length and hash (0, 0 if not a string).
    shape: Vec<(usize, u64)>,
    appended: HashMap<u64, u32, BuildHasherDefault<Mixed>>,
    same: HashMap<u64, bool, BuildHasherDefault<Mixed>>,
}

/// The polynomial hash's base (odd, well mixed).
const BASE: u64 = 0x100_0000_01B3;

fn string_shape(v: &Value) -> (usize, u64) {
    match v {
        Value::Str(s) => (s.len(), s.bytes().fold(0u64, |h, b| h.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1))),
        _ => (0, 0),
    }
}

/// A fast hasher for the append cache's keys (two numbers in one word):
/// splitmix64's finaliser instead of the default's SipHash.
#[derive(Default)]
pub(super) struct Mixed(u64);

impl Hasher for Mixed {
    fn finish(&self) -> u64 {
        let mut z = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
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
        self.built.push((u32::MAX, 0));
        self.shape.push(string_shape(v));
        self.ids.insert(v.clone(), id);
        id
    }

    /// State `id` as a value (a built string is put together).
    pub(super) fn value(&self, id: u32) -> Value {
        let mut pieces = Vec::new();
        let mut at = id;
        while self.built[at as usize].0 != u32::MAX {
            let (base, piece) = self.built[at as usize];
            pieces.push(piece);
            at = base;
        }
        if pieces.is_empty() {
            return self.values[id as usize].clone();
        }
        let mut out = match &self.values[at as usize] {
            Value::Str(s) => s.clone(),
            _ => String::new(),
        };
        for &p in pieces.iter().rev() {
            if let Value::Str(s) = &self.values[p as usize] {
                out.push_str(s);
            }
        }
        Value::Str(out)
    }

    /// Whether state `state` holds literal `lit`.
    fn holds(&mut self, state: u32, lit: u32) -> bool {
        if state == lit {
            return true;
        }
        if self.built[state as usize].0 == u32::MAX || !matches!(self.values[lit as usize], Value::Str(_)) {
            // Two literals are the same value only with the same number.
            return false;
        }
        if self.shape[state as usize] != self.shape[lit as usize] {
            return false;
        }
        let key = (u64::from(state) << 32) | u64::from(lit);
        if let Some(&same) = self.same.get(&key) {
            return same;
        }
        let same = self.value(state) == self.values[lit as usize];
        self.same.insert(key, same);
        same
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
            (Value::Str(o), Value::Str(p)) => o.contains(&p),
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
            Step::Read(Some(v)) => self.holds(state, v).then_some(state),
            Step::Write(v) => Some(v),
            Step::Cas(from, to, ok) => match (self.holds(state, from), ok) {
                (true, Some(true) | None) => Some(to),
                (false, Some(false) | None) => Some(state),
                _ => None,
            },
            Step::Append(piece) => self.append(state, piece),
            Step::Acquire => (self.values[state as usize] == FREE).then(|| self.id(&HELD)),
            Step::Release => (self.values[state as usize] == HELD).then(|| self.id(&FREE)),
        }
    }

    fn append(&mut self, state: u32, piece: u32) -> Option<u32> {
        let key = (u64::from(state) << 32) | u64::from(piece);
        if let Some(&s) = self.appended.get(&key) {
            return Some(s);
        }
        let Value::Str(p) = &self.values[piece as usize] else { return None };
        let plen = p.len();
        let base_is_text = self.built[state as usize].0 != u32::MAX
            || matches!(self.values[state as usize], Value::Nil | Value::Str(_));
        if !base_is_text {
            return None;
        }
        let (len, hash) = self.shape[state as usize];
        let (_, phash) = self.shape[piece as usize];
        let hash = (0..plen).fold(hash, |h, _| h.wrapping_mul(BASE)).wrapping_add(phash);
        let id = self.values.len() as u32;
        // A built state has no literal value of its own.
        self.values.push(Value::Nil);
        self.built.push((state, piece));
        self.shape.push((len + plen, hash));
        self.appended.insert(key, id);
        Some(id)
    }

    /// Why `step` cannot follow in `state`, in words.
    pub(super) fn why_not(&self, state: u32, step: Step) -> String {
        let now = self.value(state);
        match step {
            Step::Read(_) => format!("but the value then is {now}"),
            Step::Cas(from, _, Some(true)) => {
                format!("it succeeded, so the value was {}, but the value then is {now}", self.value(from))
            }
            Step::Cas(_, _, _) => format!("it failed, yet the value then is {now}, the value it expected"),
            Step::Append(piece) => format!("but {} cannot be appended to {now}", self.value(piece)),
            Step::Acquire => "but the mutex is held then".to_string(),
            Step::Release => "but the mutex is free then".to_string(),
            Step::Write(_) => "a write always can".to_string(),
        }
    }
}
