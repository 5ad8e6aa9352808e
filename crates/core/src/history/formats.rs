//! The other history formats: Jepsen's older text logs (the form of the
//! etcd histories in Porcupine's test data), and Porcupine's operations
//! as JSON; and [`read_any`], which tells the formats apart.
//!
//! A Jepsen log line looks like
//! `INFO  jepsen.util - 3 :ok :cas [3 0]` (tabs or spaces between): process, type, function and
//! value (EDN); every other line is ignored. The records mean what they
//! mean in EDN histories ([`super::edn`]).
//!
//! Porcupine's JSON is an array of its `Operation` records:
//! `{"ClientId": 0, "Input": {...}, "Call": 10, "Output": {...}, "Return": 25}`,
//! where `Input` is `{"op": "read"|"write"|"cas"|"append"|"acquire"|"release",
//! "key": …, "value": …, "from": …, "to": …}` and `Output` is
//! `{"value": …}` for a read, `{"ok": true|false}` for a cas, or
//! `{"unknown": true}`; a `Return` of `null` (or absent) means the
//! operation never returned. Values are `null`, integers or strings.

use super::edn::{self, Edn, Record};
use super::{Entry, Op, Value};
use serde::Deserialize;

/// A history file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Jepsen's EDN history.
    Edn,
    /// Jepsen's text log.
    JepsenLog,
    /// Porcupine's operations as JSON.
    PorcupineJson,
}

impl Format {
    /// The format's name in words.
    pub fn name(self) -> &'static str {
        match self {
            Format::Edn => "Jepsen EDN history",
            Format::JepsenLog => "Jepsen log",
            Format::PorcupineJson => "Porcupine JSON",
        }
    }
}

/// Reads a history in any of the formats, telling them apart by their look.
pub fn read_any(text: &str) -> Result<(Vec<Entry>, Format), String> {
    if text.lines().any(|l| l.contains("jepsen.util -")) {
        return Ok((read_jepsen_log(text)?, Format::JepsenLog));
    }
    if text.trim_start().starts_with('[') && text.contains("\"ClientId\"") {
        return Ok((read_porcupine_json(text)?, Format::PorcupineJson));
    }
    Ok((edn::read(text)?, Format::Edn))
}

/// Reads a Jepsen text log.
pub fn read_jepsen_log(text: &str) -> Result<Vec<Entry>, String> {
    let mut records = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some((_, rest)) = line.split_once("jepsen.util - ") else { continue };
        let at = n + 1;
        let (proc, rest) = word(rest);
        let (kind, rest) = word(rest);
        let (f, rest) = word(rest);
        if f.is_empty() {
            return Err(format!("line {at}: expected a process, a type and a function after 'jepsen.util - '"));
        }
        let process = match proc.parse::<u64>() {
            Ok(p) => Some(p),
            Err(_) if proc.starts_with(':') => None,
            Err(_) => return Err(format!("line {at}: '{proc}' is not a process number")),
        };
        let value = match Some(rest.trim()).filter(|v| !v.is_empty()) {
            None => Edn::Nil,
            Some(v) => {
                let mut forms = edn::parse(v).map_err(|e| format!("line {at}: {}", strip_line(&e)))?;
                if forms.len() == 1 {
                    forms.remove(0).1
                } else {
                    Edn::Str(v.to_string())
                }
            }
        };
        let kw = |s: &str| s.strip_prefix(':').map(str::to_string);
        let (Some(kind), Some(f)) = (kw(kind), kw(f)) else {
            return Err(format!("line {at}: the type and the function should be keywords such as :invoke :read"));
        };
        // A read that timed out answers nothing: its value is unknown.
        let value = if matches!(&value, Edn::Keyword(k) if k == "timed-out") { Edn::Nil } else { value };
        records.push(Record {
            line: at,
            process,
            kind,
            f: if process.is_some() { f } else { String::new() },
            value,
            key: None,
        });
    }
    edn::entries(records)
}

/// The first word of `s` (split at spaces or tabs) and what follows it.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s.find([' ', '\t']).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn strip_line(e: &str) -> &str {
    e.split_once(": ").map_or(e, |(_, rest)| rest)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct PorcupineOp {
    ClientId: u64,
    Input: Input,
    Call: u64,
    #[serde(default)]
    Output: Output,
    #[serde(default)]
    Return: Option<u64>,
}

#[derive(Deserialize)]
struct Input {
    op: String,
    #[serde(default)]
    key: Option<serde_json::Value>,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    from: Option<serde_json::Value>,
    #[serde(default)]
    to: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct Output {
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    ok: Option<bool>,
    #[serde(default)]
    unknown: bool,
}

fn json_value(v: &Option<serde_json::Value>, at: &str) -> Result<Value, String> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(Value::Nil),
        Some(serde_json::Value::Number(n)) => {
            n.as_i64().map(Value::Int).ok_or_else(|| format!("{at}: {n} is not an integer"))
        }
        Some(serde_json::Value::String(s)) => Ok(Value::Str(s.clone())),
        Some(other) => Err(format!("{at}: the value {other} is not null, an integer or a string")),
    }
}

/// Reads Porcupine's operations as JSON.
pub fn read_porcupine_json(text: &str) -> Result<Vec<Entry>, String> {
    let ops: Vec<PorcupineOp> = serde_json::from_str(text).map_err(|e| format!("line {}: {e}", e.line()))?;
    ops.into_iter()
        .enumerate()
        .map(|(n, o)| {
            let at = format!("operation {}", n + 1);
            let unknown = o.Output.unknown || o.Return.is_none();
            let op = match o.Input.op.as_str() {
                "read" | "get" => {
                    Op::Read { value: if unknown { None } else { Some(json_value(&o.Output.value, &at)?) } }
                }
                "write" | "put" => Op::Write { value: json_value(&o.Input.value, &at)? },
                "cas" => Op::Cas {
                    from: json_value(&o.Input.from, &at)?,
                    to: json_value(&o.Input.to, &at)?,
                    ok: if unknown { None } else { Some(o.Output.ok.unwrap_or(false)) },
                },
                "append" => Op::Append { value: json_value(&o.Input.value, &at)? },
                "acquire" => Op::Acquire,
                "release" => Op::Release,
                other => return Err(format!("{at}: \"op\": \"{other}\" is not an operation these models know")),
            };
            if o.Return.is_some_and(|r| r < o.Call) {
                return Err(format!("{at}: it returns before it is called"));
            }
            Ok(Entry { client: o.ClientId, key: json_value(&o.Input.key, &at)?, call: o.Call, ret: o.Return, op })
        })
        .collect()
}
