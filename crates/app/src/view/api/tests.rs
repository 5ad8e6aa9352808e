//! The embedding API's types, natively, as JSON: what each request reads
//! as, the sentence for each fault, the objects the lab posts, and that
//! `web/clusterscope.d.ts` declares exactly these messages (the
//! expectations are the module's documentation and docs/embedding.md).

use super::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Reads a request given as JSON: its id, and the command (as its debug
/// text) or the error.
fn read(v: Value) -> (Value, Result<String, String>) {
    let (id, out) = parse::<Value, _>(|| &v);
    (id, out.map(|c| format!("{c:?}")))
}

fn request(fields: Value) -> Value {
    let mut v = json!({"api": "clusterscope", "version": 1, "id": 7});
    v.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    v
}

#[test]
fn every_request_type_reads_as_what_the_table_says_it_does() {
    let cases = [
        (json!({"type": "play"}), "Worker(Play)"),
        (json!({"type": "pause"}), "Worker(Pause)"),
        (json!({"type": "step"}), "Worker(StepEvent)"),
        (json!({"type": "stepBack"}), "Worker(StepBack)"),
        // Seconds, or a duration in words; times in microseconds.
        (json!({"type": "seek", "time": 1.5}), "Worker(Seek(1500000))"),
        (json!({"type": "seek", "time": 2}), "Worker(Seek(2000000))"),
        (json!({"type": "seek", "time": "150ms"}), "Worker(Seek(150000))"),
        (json!({"type": "speed", "speed": 0}), "Worker(Speed(0.0))"),
        (json!({"type": "speed", "speed": 2.5}), "Worker(Speed(2.5))"),
        (json!({"type": "load", "scenario": "lab raft\n"}), "Worker(LoadText(\"lab raft\\n\"))"),
        // The part after '#', with or without it.
        (json!({"type": "load", "link": "#v1.abc"}), "Worker(LoadLink(\"v1.abc\"))"),
        (json!({"type": "load", "scenario": "lab ring\n", "link": "v1.abc"}), "Worker(LoadText(\"lab ring\\n\"))"),
        (json!({"type": "act", "action": "crash S1"}), "Worker(Act(\"crash S1\"))"),
        (json!({"type": "takeOver"}), "Worker(TakeOver)"),
        (json!({"type": "undo"}), "Worker(Undo(true))"),
        (json!({"type": "view", "view": "both"}), "View(Both)"),
        (json!({"type": "get"}), "Worker(Describe)"),
        // Fields a type does not have are not its business.
        (json!({"type": "play", "speed": "fast", "extra": [1, 2]}), "Worker(Play)"),
    ];
    for (fields, expected) in cases {
        let (id, out) = read(request(fields.clone()));
        assert_eq!(out.as_deref(), Ok(expected), "{fields}");
        assert_eq!(id, json!(7));
    }
}

#[test]
fn bad_requests_are_refused_in_a_sentence_that_names_the_fault() {
    let api = |fields: Value| request(fields);
    let cases = [
        (json!("hello"), "a request must be an object with api, version and type"),
        (json!(null), "a request must be an object with api, version and type"),
        (json!({"type": "play", "id": 1}), "api must be \"clusterscope\""),
        (json!({"api": "other", "version": 1, "type": "play"}), "api must be \"clusterscope\""),
        (json!({"api": "clusterscope", "version": 2, "type": "play"}), "version 2 is not supported: this lab speaks version 1"),
        (json!({"api": "clusterscope", "version": "1", "type": "play"}), "version must be the number 1"),
        (json!({"api": "clusterscope", "type": "play"}), "version must be the number 1"),
        (api(json!({})), "type must be a string"),
        (api(json!({"type": 3})), "type must be a string"),
        (
            api(json!({"type": "explode"})),
            "unknown type \"explode\": play, pause, step, stepBack, seek, speed, load, act, takeOver, undo, view or get",
        ),
        (api(json!({"type": "seek"})), "'seek' needs 'time': seconds as a number, or a duration such as \"1.5s\""),
        (api(json!({"type": "seek", "time": true})), "'seek' needs 'time'"),
        (api(json!({"type": "seek", "time": "soon"})), "'time' \"soon\" is not a duration such as \"1.5s\""),
        (api(json!({"type": "seek", "time": -1})), "'time' must be between 0 and 30 days, in seconds"),
        (api(json!({"type": "seek", "time": 1e300})), "'time' must be between 0 and 30 days"),
        (api(json!({"type": "speed", "speed": -1})), "'speed' must be a number from 0 (as fast as possible) to 1000000"),
        (api(json!({"type": "speed", "speed": "fast"})), "'speed' must be a number from 0"),
        (api(json!({"type": "speed"})), "'speed' must be a number from 0"),
        (api(json!({"type": "load"})), "'load' needs 'scenario' (the file's text) or 'link' (the part after #)"),
        (api(json!({"type": "load", "scenario": 5})), "'load' needs 'scenario'"),
        (api(json!({"type": "load", "scenario": "x".repeat((1 << 20) + 1)})), "'scenario' is 1048577 bytes, more than the 1048576 allowed"),
        (api(json!({"type": "act"})), "'act' needs 'action', a string"),
        (api(json!({"type": "act", "action": ["crash", "S1"]})), "'act' needs 'action', a string"),
        (api(json!({"type": "view", "view": "sideways"})), "'view' must be cluster, diagram or both, not \"sideways\""),
        (api(json!({"type": "view", "view": 2})), "'view' needs 'view', a string: cluster, diagram or both"),
    ];
    for (msg, expected) in cases {
        let (id, out) = read(msg.clone());
        let error = out.expect_err(&format!("{msg:.80} is refused"));
        assert!(error.starts_with(expected), "{msg:.80}: {error:?} (expected {expected:?})");
        // The answer names the request when it is an object with an id.
        let given = msg.get("id").cloned().unwrap_or(Value::Null);
        assert_eq!(id, given, "{msg:.80}");
    }
}

#[test]
fn odd_values_in_any_field_are_refused_or_read_and_never_panic() {
    let odd = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1e300),
        json!(""),
        json!("1.5s"),
        json!([]),
        json!({}),
        json!([1, "a", null]),
        json!({"type": "play", "a": {"b": []}}),
    ];
    let fields = ["api", "version", "type", "id", "time", "speed", "scenario", "link", "action", "view"];
    let mut read_ok = 0;
    for ty in TYPES {
        for field in fields {
            for value in &odd {
                let mut msg = request(json!({"type": ty}));
                msg[field] = value.clone();
                if read(msg).1.is_ok() {
                    read_ok += 1;
                }
            }
        }
    }
    for value in &odd {
        assert!(read(value.clone()).1.is_err(), "{value} alone is no request");
    }
    assert!(read_ok > 0);
}

/// The variant names serde reads for an internally tagged enum, as its
/// derived code gives them when it meets a name it does not know.
fn variants<T: DeserializeOwned>(tag: &'static str) -> Vec<&'static str> {
    #[derive(Debug)]
    struct Names(Vec<&'static str>);
    impl std::fmt::Display for Names {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }
    impl std::error::Error for Names {}
    impl serde::de::Error for Names {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Names(Vec::new())
        }
        fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
            Names(expected.to_vec())
        }
    }
    let input = serde::de::value::MapDeserializer::<_, Names>::new(std::iter::once((tag, "\u{0}no such name")));
    match T::deserialize(input) {
        Err(Names(names)) if !names.is_empty() => names,
        _ => panic!("serde did not list the variants of the enum tagged {tag}"),
    }
}

#[test]
fn the_types_the_errors_list_are_the_requests_serde_reads() {
    assert_eq!(TYPES, variants::<Request>("type"));
}

fn sample_state() -> State {
    State::from(&ApiState {
        lab: "raft".into(),
        time: 1_500_000,
        playing: true,
        fingerprint: "00ff".into(),
        events: 42,
        leader: Some(1),
        decided: 3.0,
        violation: Some("Election safety".into()),
        link: "v1.abc".into(),
        script: 2,
        branch: Some("A branch at 3s: 1 later action dropped.".into()),
    })
}

#[test]
fn replies_errors_and_events_are_the_objects_the_documentation_gives() {
    let json = |m| serde_json::to_value(Message::new(m)).unwrap();
    assert_eq!(
        json(Outbound::reply(json!(7), Some(sample_state()))),
        json!({"api": "clusterscope", "version": 1, "type": "reply", "id": 7, "ok": true, "state": {
            "lab": "raft", "time": 1.5, "playing": true, "fingerprint": "00ff", "events": 42, "leader": "S2",
            "decided": 3.0, "violation": "Election safety", "link": "v1.abc", "script": 2,
            "branch": "A branch at 3s: 1 later action dropped."}})
    );
    // No leader, violation or branch: null, not absent.
    let none = State { leader: None, violation: None, branch: None, ..sample_state() };
    let state = &json(Outbound::reply(json!("a"), Some(none)))["state"];
    assert_eq!((&state["leader"], &state["violation"], &state["branch"]), (&Value::Null, &Value::Null, &Value::Null));
    // `view` answers without a state.
    assert_eq!(
        json(Outbound::reply(json!("v"), None)),
        json!({"api": "clusterscope", "version": 1, "type": "reply", "id": "v", "ok": true})
    );
    assert_eq!(
        json(Outbound::error(json!(3), "Nothing to undo.")),
        json!({"api": "clusterscope", "version": 1, "type": "error", "id": 3, "ok": false, "error": "Nothing to undo."})
    );
    assert_eq!(
        json(Outbound::<Value>::event(250_000, Event::Note { node: "S3".into(), note: "BecameLeader".into() })),
        json!({"api": "clusterscope", "version": 1, "type": "event", "event": "note", "time": 0.25,
            "node": "S3", "note": "BecameLeader"})
    );
    assert_eq!(
        json(Outbound::<Value>::event(0, Event::Leader { leader: None })),
        json!({"api": "clusterscope", "version": 1, "type": "event", "event": "leader", "time": 0.0, "leader": null})
    );
}

// ---- web/clusterscope.d.ts against these types ----

/// One field as declared or as serialized: the kinds of value it takes
/// (string, number, boolean, null, object; unknown: any) and whether it
/// may be absent.
#[derive(Clone, Debug, PartialEq)]
struct Field {
    kinds: BTreeSet<String>,
    optional: bool,
}

type Shapes = BTreeMap<String, BTreeMap<String, Field>>;

/// The shapes of serialized samples, by the value of `key` (`type`,
/// `event`), without `drop` (the envelope's fields): each field's kinds
/// over all samples, optional when some sample of its kind lacks it.
fn shapes(samples: &[Value], key: &str, drop: &[&str]) -> Shapes {
    let mut out: Shapes = BTreeMap::new();
    let mut counts: BTreeMap<String, (usize, BTreeMap<String, usize>)> = BTreeMap::new();
    for s in samples {
        let name = s[key].as_str().unwrap().to_string();
        let fields = out.entry(name.clone()).or_default();
        let count = counts.entry(name).or_default();
        count.0 += 1;
        for (k, v) in s.as_object().unwrap() {
            if drop.contains(&k.as_str()) {
                continue;
            }
            let kind = match v {
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "boolean",
                Value::Null => "null",
                Value::Object(_) => "object",
                Value::Array(_) => "array",
            };
            fields
                .entry(k.clone())
                .or_insert(Field { kinds: BTreeSet::new(), optional: false })
                .kinds
                .insert(kind.into());
            *count.1.entry(k.clone()).or_default() += 1;
        }
    }
    for (name, fields) in &mut out {
        let (n, seen) = &counts[name];
        for (k, f) in fields {
            f.optional = seen[k] < *n;
        }
    }
    out
}

/// The members of `export interface NAME {` … `}` in the declarations:
/// name, whether optional (`?`), and the type's text. Every line of the
/// block must be a member or a comment.
fn interface(dts: &str, name: &str) -> Vec<(String, bool, String)> {
    let head = format!("export interface {name} ");
    let start =
        dts.lines().position(|l| l.starts_with(&head)).unwrap_or_else(|| panic!("no {head}in the declarations"));
    let mut members = Vec::new();
    let mut in_comment = false;
    for line in dts.lines().skip(start + 1) {
        let line = line.trim();
        if line == "}" {
            return members;
        }
        if in_comment {
            in_comment = !line.ends_with("*/");
            continue;
        }
        if line.is_empty() || line.starts_with("//") || (line.starts_with("/**") && line.ends_with("*/")) {
            continue;
        }
        if line.starts_with("/**") {
            in_comment = true;
            continue;
        }
        members.push(member(line.strip_suffix(';').unwrap_or_else(|| panic!("{name}: no ';' ending {line:?}"))));
    }
    panic!("{name} has no closing '}}'");
}

/// `name: type` or `name?: type`.
fn member(text: &str) -> (String, bool, String) {
    let (name, ty) = text.split_once(':').unwrap_or_else(|| panic!("not a member: {text:?}"));
    let (name, optional) = match name.trim().strip_suffix('?') {
        Some(n) => (n, true),
        None => (name.trim(), false),
    };
    assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "not a member's name: {name:?}");
    (name.to_string(), optional, ty.trim().to_string())
}

/// The kinds of value a declared type allows.
fn kinds(ty: &str) -> BTreeSet<String> {
    ty.split('|')
        .map(|t| match t.trim() {
            "string" => "string",
            t if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') => "string",
            "number" => "number",
            t if t.parse::<f64>().is_ok() => "number",
            "boolean" | "true" | "false" => "boolean",
            "null" => "null",
            "unknown" => "unknown",
            "ClusterScopeState" => "object",
            other => panic!("a declared type this test cannot read: {other:?} in {ty:?}"),
        })
        .map(String::from)
        .collect()
}

/// The fields of a declared object type `{ a: string; b?: number }`.
fn object_fields(ty: &str) -> BTreeMap<String, Field> {
    let inner = ty.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or_else(|| panic!("not {{ … }}: {ty:?}"));
    inner
        .split(';')
        .filter(|m| !m.trim().is_empty())
        .map(|m| {
            let (name, optional, ty) = member(m.trim());
            (name, Field { kinds: kinds(&ty), optional })
        })
        .collect()
}

/// The differences between the declared fields and the serialized ones.
fn differences(what: &str, declared: &BTreeMap<String, Field>, rust: &BTreeMap<String, Field>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, f) in rust {
        match declared.get(name) {
            None => out.push(format!("{what}: '{name}' is sent but not declared")),
            Some(d) if d.optional != f.optional => out.push(format!(
                "{what}: '{name}' is optional in {} only",
                if f.optional { "Rust" } else { "the declarations" }
            )),
            Some(d) if d.kinds.contains("unknown") => {}
            Some(d) if d.kinds != f.kinds => {
                out.push(format!("{what}: '{name}' is declared {:?} but sent as {:?}", d.kinds, f.kinds))
            }
            Some(_) => {}
        }
    }
    for name in declared.keys().filter(|n| !rust.contains_key(*n)) {
        out.push(format!("{what}: '{name}' is declared but never sent"));
    }
    out
}

/// The differences between a declared map of messages (`name: { … }`)
/// and the serialized samples' shapes.
fn map_differences(dts: &str, interface_name: &str, rust: &Shapes) -> Vec<String> {
    let declared: BTreeMap<String, BTreeMap<String, Field>> =
        interface(dts, interface_name).into_iter().map(|(name, _, ty)| (name, object_fields(&ty))).collect();
    let mut out = Vec::new();
    for (name, fields) in rust {
        match declared.get(name) {
            None => out.push(format!("{interface_name}: '{name}' is not declared")),
            Some(d) => out.extend(differences(&format!("{interface_name}.{name}"), d, fields)),
        }
    }
    for name in declared.keys().filter(|n| !rust.contains_key(*n)) {
        out.push(format!("{interface_name}: '{name}' is declared but the lab has no such message"));
    }
    out
}

fn request_samples() -> Vec<Request> {
    let all = vec![
        Request::Play,
        Request::Pause,
        Request::Step,
        Request::StepBack,
        Request::Seek { time: At::Seconds(1.5) },
        Request::Seek { time: At::Duration("1.5s".into()) },
        Request::Speed { speed: 1.0 },
        Request::Load { scenario: Some("lab raft\n".into()), link: None },
        Request::Load { scenario: None, link: Some("v1.abc".into()) },
        Request::Act { action: "crash S1".into() },
        Request::TakeOver,
        Request::Undo,
        Request::View { view: "both".into() },
        Request::Get,
    ];
    let names: BTreeSet<_> =
        all.iter().map(|r| serde_json::to_value(r).unwrap()["type"].as_str().unwrap().to_string()).collect();
    let serde_names: BTreeSet<_> = variants::<Request>("type").into_iter().map(String::from).collect();
    assert_eq!(names, serde_names, "a sample of every request");
    all
}

fn event_samples() -> Vec<Event> {
    let all = vec![
        Event::Ready { lab: "raft".into() },
        Event::Loaded { lab: "raft".into(), link: "v1.abc".into() },
        Event::Time { playing: true },
        Event::Leader { leader: Some("S2".into()) },
        Event::Leader { leader: None },
        Event::Decided { count: 3.0 },
        Event::Note { node: "S1".into(), note: "BecameLeader".into() },
        Event::Caption { text: "The leader crashes.".into(), at: 2.0 },
        Event::Violation { invariant: "Election safety".into() },
    ];
    let names: BTreeSet<_> =
        all.iter().map(|e| serde_json::to_value(e).unwrap()["event"].as_str().unwrap().to_string()).collect();
    let serde_names: BTreeSet<_> = variants::<Event>("event").into_iter().map(String::from).collect();
    assert_eq!(names, serde_names, "a sample of every event");
    all
}

fn answer_samples() -> Vec<Value> {
    let all = [
        Outbound::reply(json!(1), Some(sample_state())),
        Outbound::reply(json!("v"), None),
        Outbound::error(json!(2), "Nothing to undo."),
    ];
    for m in &all {
        // A new kind of answer fails to compile here until it has a sample.
        match m {
            Outbound::Reply { .. } | Outbound::Error { .. } | Outbound::Event { .. } => {}
        }
    }
    all.into_iter().map(|m| serde_json::to_value(Message::new(m)).unwrap()).collect()
}

/// Where the declarations are, from this crate.
fn declarations() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/clusterscope.d.ts");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// All that the declarations say differently from these types.
fn declaration_differences(dts: &str) -> Vec<String> {
    let mut out = Vec::new();
    // The state: both with and without its optional parts.
    let states = [sample_state(), State { leader: None, violation: None, branch: None, ..sample_state() }].map(|s| {
        let mut v = serde_json::to_value(s).unwrap();
        v["kind"] = json!("state");
        v
    });
    let rust = &shapes(&states, "kind", &["kind"])["state"];
    let declared = interface(dts, "ClusterScopeState")
        .into_iter()
        .map(|(name, optional, ty)| (name, Field { kinds: kinds(&ty), optional }))
        .collect();
    out.extend(differences("ClusterScopeState", &declared, rust));
    let requests: Vec<Value> = request_samples().iter().map(|r| serde_json::to_value(r).unwrap()).collect();
    out.extend(map_differences(dts, "ClusterScopeRequests", &shapes(&requests, "type", &["type"])));
    out.extend(map_differences(
        dts,
        "ClusterScopeAnswers",
        &shapes(&answer_samples(), "type", &["api", "version", "type"]),
    ));
    let events: Vec<Value> = event_samples()
        .into_iter()
        .map(|e| serde_json::to_value(Message::new(Outbound::<Value>::event(1_000_000, e))).unwrap())
        .collect();
    let event_shapes = shapes(&events, "event", &["api", "version", "type"]);
    out.extend(map_differences(dts, "ClusterScopeEvents", &event_shapes));
    // Each event's `event` is its own name, to tell them apart.
    for (name, _, ty) in interface(dts, "ClusterScopeEvents") {
        if !ty.contains(&format!("event: '{name}';")) {
            out.push(format!("ClusterScopeEvents.{name}: its 'event' is not '{name}'"));
        }
    }
    // The envelope of every message.
    let envelope = format!("api: '{API}'; version: {VERSION};");
    if dts.matches(&envelope).count() < 3 {
        out.push(format!("the requests, answers and events are not all declared with {envelope}"));
    }
    out
}

#[test]
fn the_declarations_for_pages_say_what_the_lab_sends_and_reads() {
    let problems = declaration_differences(&declarations());
    assert!(problems.is_empty(), "web/clusterscope.d.ts and src/view/api.rs differ:\n{}", problems.join("\n"));
}

#[test]
fn the_comparison_finds_a_field_or_a_type_that_is_missing_or_extra() {
    let dts = declarations();
    // Each of these edits of the declarations must be caught.
    let edits = [
        ("  branch: string | null;\n", "", "'branch' is sent but not declared"),
        ("  link: string;\n", "  link: string;\n  extra: number;\n", "'extra' is declared but never sent"),
        ("  leader: string | null;\n", "  leader: string;\n", "'leader' is declared"),
        ("load: { scenario?: string;", "load: { scenario: string;", "'scenario' is optional in Rust only"),
        ("  get: {};\n", "", "'get' is not declared"),
        ("lab: string; link: string }", "lab: string }", "ClusterScopeEvents.loaded: 'link' is sent but not declared"),
        ("  undo: {};\n", "  undo: {};\n  redo: {};\n", "'redo' is declared but the lab has no such message"),
        ("event: 'note';", "event: 'notes';", "its 'event' is not 'note'"),
    ];
    for (from, to, expected) in edits {
        assert!(dts.contains(from), "{from:?} is in the declarations");
        let problems = declaration_differences(&dts.replacen(from, to, 1));
        assert!(problems.iter().any(|p| p.contains(expected)), "{from:?} -> {to:?}: {problems:?}");
    }
}

#[test]
fn the_element_sends_every_request_type() {
    let js = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/clusterscope.js")).unwrap();
    let sent: BTreeSet<&str> =
        js.split("this.#request('").skip(1).filter_map(|rest| rest.split_once('\'').map(|(ty, _)| ty)).collect();
    assert_eq!(sent, TYPES.iter().copied().collect(), "the element's methods and the lab's request types");
}
