//! Client histories and a linearizability checker for them.
//!
//! A history is what clients saw: for every operation, who invoked it,
//! when it was invoked, when (if ever) it returned, and what it did and
//! answered. [`check`] decides whether the history is *linearizable*
//! (Herlihy & Wing 1990): whether every operation can be given one instant
//! between its invocation and its return such that, taken in the order of
//! those instants, the operations are a legal run of a sequential object
//! (a register, a compare-and-set register, a key-value store, a mutex).
//!
//! The search is Wing & Gong's (1993) with Lowe's memoisation ("Testing for
//! linearizability", 2017): the history is a linked list of call and return
//! events; the checker tries to linearize the earliest calls first,
//! backtracks when it meets the return of an operation it has not placed,
//! and remembers every (set of placed operations, object state) it has
//! seen so that no configuration is explored twice. A key-value history is
//! checked one key at a time, which is sound because linearizability is
//! local (P-compositionality, Horn & Kroening, "Faster linearizability
//! checking via P-compositionality", 2015).
//!
//! Operations that never returned (a client that crashed or gave up, or
//! Jepsen's `:info`) may take effect at any instant after their invocation,
//! or never; what they answered is unknown.
//!
//! When a history is not linearizable the checker reports a small set of
//! operations that cannot be ordered (1-minimal: drop any one and the rest
//! can be), the longest legal order it found for them and, in a sentence,
//! why the next operation cannot follow. The search is bounded by a
//! [`Budget`]: past it the answer is [`Verdict::GaveUp`], never a hang.
//!
//! [`edn`] reads Jepsen's history files, [`formats`] Jepsen's older text
//! logs and Porcupine's JSON.

mod check;
pub mod edn;
pub mod formats;
mod model;

pub use check::{check, decide, Budget, Verdict};
pub use model::ModelKind;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value a client wrote or read: `nil`, an integer or a string, as in
/// Jepsen's histories.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub enum Value {
    /// No value: a key never written.
    #[default]
    Nil,
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// What an operation did, with what it answered where it answers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    /// A read; `value` is what it returned, `None` if unknown (the read
    /// never completed, or timed out).
    Read {
        /// The value read.
        value: Option<Value>,
    },
    /// A write of `value`.
    Write {
        /// The value written.
        value: Value,
    },
    /// Compare-and-set: if the value is `from`, make it `to`. `ok` is
    /// whether it answered that it did (`Some(false)`: the comparison
    /// failed), `None` if unknown.
    Cas {
        /// The value expected.
        from: Value,
        /// The value set.
        to: Value,
        /// Whether it succeeded, if known.
        ok: Option<bool>,
    },
    /// Appends the string `value` to the string held (a key-value store's
    /// append; `nil` counts as the empty string).
    Append {
        /// The string appended.
        value: Value,
    },
    /// Takes the mutex: legal only when it is free.
    Acquire,
    /// Frees the mutex: legal only when it is held.
    Release,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Read { value: Some(v) } => write!(f, "read → {v}"),
            Op::Read { value: None } => f.write_str("read → ?"),
            Op::Write { value } => write!(f, "write {value}"),
            Op::Cas { from, to, ok } => {
                let ok = match ok {
                    Some(true) => "ok",
                    Some(false) => "failed",
                    None => "?",
                };
                write!(f, "cas {from}→{to} {ok}")
            }
            Op::Append { value } => write!(f, "append {value}"),
            Op::Acquire => f.write_str("acquire"),
            Op::Release => f.write_str("release"),
        }
    }
}

/// One operation of a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The client (Jepsen's process) that invoked it.
    pub client: u64,
    /// The key it touched (`Value::Nil` for a single object).
    pub key: Value,
    /// When it was invoked (any unit; only the order matters).
    pub call: u64,
    /// When it returned; `None` if it never did (it may take effect any
    /// time after `call`, or never).
    pub ret: Option<u64>,
    /// What it did and answered.
    pub op: Op,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client {} ", self.client)?;
        if self.key != Value::Nil {
            write!(f, "key {} ", self.key)?;
        }
        write!(f, "{}", self.op)
    }
}

/// A lab's client history as the checker reads it: which sequential
/// object the clients use, its first value, and the operations so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientHistory {
    /// The sequential object.
    pub model: ModelKind,
    /// Every key's first value.
    pub initial: Value,
    /// The operations, in any order.
    pub entries: Vec<Entry>,
}
