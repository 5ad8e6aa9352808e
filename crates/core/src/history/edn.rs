//! Jepsen's history files: EDN (Extensible Data Notation), one map per
//! operation, either in one vector or one map a line, as Jepsen writes
//! `history.edn`:
//!
//! ```text
//! {:process 0, :type :invoke, :f :write, :value 3}
//! {:process 0, :type :ok, :f :write, :value 3}
//! {:process 1, :type :invoke, :f :read, :value nil}
//! {:process 1, :type :info, :f :read, :value nil}
//! ```
//!
//! A small reader of our own for the part of EDN histories use (maps,
//! vectors, lists, sets, keywords, symbols, strings, numbers, `nil`,
//! booleans, characters, `;` comments, `#_` discards, and tagged values
//! such as `#jepsen.history.Op{…}`, read as the value they tag): the EDN
//! crates we looked at either are deprecated or pull in UUID generation,
//! dates and big decimals that do not build for the browser's wasm32
//! without extra features, and weigh more than this file.
//!
//! How operations become [`Entry`]s (Jepsen's meaning of `:type`):
//! `:invoke` opens a process's operation; `:ok` completes it; `:info`
//! leaves it pending (it may have taken effect, or not, and what it
//! answered is unknown); `:fail` means it did not happen, so it is
//! dropped, except a failed `:cas`, which answered that the comparison
//! failed (as Porcupine reads etcd's histories). Operations of a process
//! that is not an integer (Jepsen's `:nemesis`) are ignored. `:f` is
//! `:read`/`:get`, `:write`/`:put`, `:cas` (value `[from to]`),
//! `:append`, `:acquire`/`:lock` or `:release`/`:unlock`; `:key` names
//! the key of a key-value operation.

use super::{Entry, Op, Value};
use std::collections::HashMap;

/// An EDN value.
#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number, as written.
    Float(String),
    /// A string.
    Str(String),
    /// A keyword, without its colon.
    Keyword(String),
    /// A symbol.
    Symbol(String),
    /// A character.
    Char(char),
    /// `[…]`, `(…)` or `#{…}`.
    Seq(Vec<Edn>),
    /// `{…}`, in the order written.
    Map(Vec<(Edn, Edn)>),
}

impl Edn {
    /// The value under keyword `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Edn> {
        match self {
            Edn::Map(pairs) => pairs.iter().find(|(k, _)| matches!(k, Edn::Keyword(s) if s == key)).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Reads EDN text: every top-level value, each with the line it starts on.
pub fn parse(text: &str) -> Result<Vec<(usize, Edn)>, String> {
    let mut r = Reader { s: text.as_bytes(), pos: 0, line: 1, depth: 0 };
    let mut out = Vec::new();
    loop {
        r.skip_space();
        if r.pos >= r.s.len() {
            return Ok(out);
        }
        let line = r.line;
        if let Some(v) = r.value()? {
            out.push((line, v));
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
    depth: usize,
}

/// Deeper nesting than this is refused (no history nests so deep, and
/// the reader recurses).
const MAX_DEPTH: usize = 200;

impl Reader<'_> {
    fn err(&self, what: &str) -> String {
        format!("line {}: {what}", self.line)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c == b';' {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.bump();
                }
            } else if c.is_ascii_whitespace() || c == b',' {
                self.bump();
            } else {
                break;
            }
        }
    }

    /// The next value; `None` for a discarded one (`#_ x`).
    fn value(&mut self) -> Result<Option<Edn>, String> {
        self.skip_space();
        let Some(c) = self.peek() else { return Err(self.err("the text ends where a value should be")) };
        let v = match c {
            b'[' | b'(' => {
                self.bump();
                Edn::Seq(self.items(if c == b'[' { b']' } else { b')' })?)
            }
            b'{' => {
                self.bump();
                self.map()?
            }
            b'"' => Edn::Str(self.string()?),
            b'\\' => {
                self.bump();
                let tok = self.token();
                let ch = match tok.as_str() {
                    "newline" => '\n',
                    "space" => ' ',
                    "tab" => '\t',
                    "return" => '\r',
                    t if t.chars().count() == 1 => t.chars().next().unwrap_or(' '),
                    t => return Err(self.err(&format!("'\\{t}' is not a character"))),
                };
                Edn::Char(ch)
            }
            b'#' => return self.dispatch(),
            b')' | b']' | b'}' => return Err(self.err(&format!("'{}' closes nothing", c as char))),
            _ => self.atom()?,
        };
        Ok(Some(v))
    }

    fn dispatch(&mut self) -> Result<Option<Edn>, String> {
        self.bump();
        match self.peek() {
            Some(b'{') => {
                self.bump();
                Ok(Some(Edn::Seq(self.items(b'}')?)))
            }
            Some(b'_') => {
                self.bump();
                self.nested(|r| r.value())?;
                Ok(None)
            }
            _ => {
                // A tag (`#inst`, `#jepsen.history.Op`): the value it tags.
                if self.token().is_empty() {
                    return Err(self.err("'#' is followed by no tag"));
                }
                self.nested(|r| r.value())
            }
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(&format!("values nest deeper than {MAX_DEPTH}")));
        }
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn items(&mut self, close: u8) -> Result<Vec<Edn>, String> {
        self.nested(|r| {
            let start = r.line;
            let mut items = Vec::new();
            loop {
                r.skip_space();
                match r.peek() {
                    None => return Err(format!("line {start}: '{}' opened here is never closed", open_of(close))),
                    Some(c) if c == close => {
                        r.bump();
                        return Ok(items);
                    }
                    _ => items.extend(r.value()?),
                }
            }
        })
    }

    fn map(&mut self) -> Result<Edn, String> {
        let line = self.line;
        let items = self.items(b'}')?;
        if items.len() % 2 == 1 {
            return Err(format!("line {line}: a map has a key without a value"));
        }
        let mut it = items.into_iter();
        let mut pairs = Vec::new();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            pairs.push((k, v));
        }
        Ok(Edn::Map(pairs))
    }

    fn string(&mut self) -> Result<String, String> {
        let start = self.line;
        self.bump();
        let mut out = Vec::new();
        loop {
            match self.bump() {
                None => return Err(format!("line {start}: a string opened here is never closed")),
                Some(b'"') => break,
                Some(b'\\') => match self.bump() {
                    Some(b'n') => out.push(b'\n'),
                    Some(b't') => out.push(b'\t'),
                    Some(b'r') => out.push(b'\r'),
                    Some(c @ (b'"' | b'\\')) => out.push(c),
                    _ => return Err(self.err("a string has an unknown escape")),
                },
                Some(c) => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("a string is not UTF-8"))
    }

    fn token(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| !c.is_ascii_whitespace() && !b",()[]{}\";".contains(&c)) {
            self.bump();
        }
        String::from_utf8_lossy(&self.s[start..self.pos]).into_owned()
    }

    fn atom(&mut self) -> Result<Edn, String> {
        let tok = self.token();
        if tok.is_empty() {
            let c = self.peek().map(|c| c as char).unwrap_or(' ');
            return Err(self.err(&format!("unexpected '{c}'")));
        }
        Ok(match tok.as_str() {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            t if t.starts_with(':') => Edn::Keyword(t[1..].to_string()),
            t if t.starts_with(|c: char| c.is_ascii_digit())
                || (t.len() > 1 && t.starts_with(['-', '+']) && t[1..].starts_with(|c: char| c.is_ascii_digit())) =>
            {
                number(t).ok_or_else(|| self.err(&format!("'{t}' is not a number")))?
            }
            t => Edn::Symbol(t.to_string()),
        })
    }
}

fn open_of(close: u8) -> char {
    match close {
        b']' => '[',
        b')' => '(',
        _ => '{',
    }
}

fn number(t: &str) -> Option<Edn> {
    let int = t.strip_suffix('N').unwrap_or(t);
    if let Ok(i) = int.parse::<i64>() {
        return Some(Edn::Int(i));
    }
    let float = t.strip_suffix('M').unwrap_or(t);
    float.parse::<f64>().ok().map(|_| Edn::Float(float.to_string()))
}

/// One operation record as read: its line, process, type, function,
/// value and key.
pub(super) struct Record {
    pub line: usize,
    pub process: Option<u64>,
    pub kind: String,
    pub f: String,
    pub value: Edn,
    pub key: Option<Edn>,
}

/// Reads a Jepsen EDN history into entries (see the module's doc for what
/// each `:type` means). Errors name the line.
pub fn read(text: &str) -> Result<Vec<Entry>, String> {
    let mut forms = parse(text)?;
    if forms.len() == 1 && matches!(forms[0].1, Edn::Seq(_)) {
        // One vector of maps: the maps' own lines are not kept, so the
        // position in the vector stands in for them.
        let (line, Edn::Seq(items)) = forms.remove(0) else { unreachable!("checked just above") };
        forms = items.into_iter().map(|v| (line, v)).collect();
    }
    let mut records = Vec::with_capacity(forms.len());
    for (n, (line, form)) in forms.into_iter().enumerate() {
        records.push(record(line, n, form)?);
    }
    entries(records)
}

fn record(line: usize, n: usize, form: Edn) -> Result<Record, String> {
    let at = format!("line {line} (operation {})", n + 1);
    if !matches!(form, Edn::Map(_)) {
        return Err(format!("{at}: an operation must be a map such as {{:process 0, :type :invoke, :f :read}}"));
    }
    let kw = |k: &str| -> Result<String, String> {
        match form.get(k) {
            Some(Edn::Keyword(s)) => Ok(s.clone()),
            Some(other) => Err(format!("{at}: :{k} should be a keyword, not {}", show(other))),
            None => Err(format!("{at}: the operation has no :{k}")),
        }
    };
    let process = match form.get("process") {
        Some(Edn::Int(p)) if *p >= 0 => Some(*p as u64),
        Some(Edn::Int(p)) => return Err(format!("{at}: :process {p} is negative")),
        Some(_) => None,
        None => return Err(format!("{at}: the operation has no :process")),
    };
    Ok(Record {
        line,
        process,
        kind: kw("type")?,
        f: if process.is_some() { kw("f")? } else { String::new() },
        value: form.get("value").cloned().unwrap_or(Edn::Nil),
        key: form.get("key").cloned(),
    })
}

/// EDN written back, short, for messages.
fn show(v: &Edn) -> String {
    match v {
        Edn::Nil => "nil".into(),
        Edn::Bool(b) => b.to_string(),
        Edn::Int(i) => i.to_string(),
        Edn::Float(f) => f.clone(),
        Edn::Str(s) => format!("{s:?}"),
        Edn::Keyword(k) => format!(":{k}"),
        Edn::Symbol(s) => s.clone(),
        Edn::Char(c) => format!("\\{c}"),
        Edn::Seq(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(" ")),
        Edn::Map(_) => "a map".into(),
    }
}

fn value(v: &Edn, at: &str) -> Result<Value, String> {
    match v {
        Edn::Nil => Ok(Value::Nil),
        Edn::Int(i) => Ok(Value::Int(*i)),
        Edn::Str(s) => Ok(Value::Str(s.clone())),
        Edn::Keyword(k) => Ok(Value::Str(format!(":{k}"))),
        other => Err(format!("{at}: the value {} is not nil, an integer or a string", show(other))),
    }
}

/// Pairs invocations with completions, process by process, in file order
/// (a record's position is its time).
pub(super) fn entries(records: Vec<Record>) -> Result<Vec<Entry>, String> {
    let mut open: HashMap<u64, usize> = HashMap::new();
    let mut out: Vec<Option<Entry>> = Vec::new();
    let mut calls: Vec<(usize, String)> = Vec::new();
    for (t, r) in records.into_iter().enumerate() {
        let Some(p) = r.process else { continue };
        let at = format!("line {}", r.line);
        if r.kind == "invoke" {
            if let Some(&prev) = open.get(&p) {
                return Err(format!(
                    "{at}: process {p} invokes an operation while its operation from line {} is still open",
                    calls[prev].0
                ));
            }
            let op = invocation(&r, &at)?;
            let key = r.key.as_ref().map(|k| value(k, &at)).transpose()?.unwrap_or(Value::Nil);
            open.insert(p, out.len());
            calls.push((r.line, r.f.clone()));
            out.push(Some(Entry { client: p, key, call: t as u64, ret: None, op }));
            continue;
        }
        let Some(i) = open.remove(&p) else {
            return Err(format!("{at}: process {p} completes (:{}) an operation it never invoked", r.kind));
        };
        if calls[i].1 != r.f {
            return Err(format!(
                "{at}: process {p} completes :{} but invoked :{} on line {}",
                r.f, calls[i].1, calls[i].0
            ));
        }
        let Some(entry) = out[i].as_mut() else { unreachable!("open entries are present") };
        match r.kind.as_str() {
            "ok" => {
                entry.ret = Some(t as u64);
                complete(&mut entry.op, &r, &at)?;
            }
            "info" => {}
            "fail" if matches!(entry.op, Op::Cas { .. }) => {
                entry.ret = Some(t as u64);
                if let Op::Cas { ok, .. } = &mut entry.op {
                    *ok = Some(false);
                }
            }
            "fail" => out[i] = None,
            other => return Err(format!("{at}: :type :{other} is not :invoke, :ok, :fail or :info")),
        }
    }
    Ok(out.into_iter().flatten().collect())
}

fn invocation(r: &Record, at: &str) -> Result<Op, String> {
    Ok(match r.f.as_str() {
        "read" | "get" => Op::Read { value: None },
        "write" | "put" => Op::Write { value: value(&r.value, at)? },
        "cas" | "compare-and-set" => {
            let Edn::Seq(pair) = &r.value else {
                return Err(format!("{at}: a :cas's value should be [from to], not {}", show(&r.value)));
            };
            let [from, to] = pair.as_slice() else {
                return Err(format!("{at}: a :cas's value should be [from to], not {}", show(&r.value)));
            };
            Op::Cas { from: value(from, at)?, to: value(to, at)?, ok: None }
        }
        "append" => Op::Append { value: value(&r.value, at)? },
        "acquire" | "lock" => Op::Acquire,
        "release" | "unlock" => Op::Release,
        other => {
            return Err(format!(
                "{at}: :f :{other} is not an operation these models know \
                 (:read, :write, :cas, :append, :acquire, :release)"
            ))
        }
    })
}

fn complete(op: &mut Op, r: &Record, at: &str) -> Result<(), String> {
    match op {
        Op::Read { value: v } => *v = Some(value(&r.value, at)?),
        Op::Cas { ok, .. } => *ok = Some(true),
        _ => {}
    }
    Ok(())
}
