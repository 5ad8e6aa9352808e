//! Client histories on the page: what the history view draws, how a
//! history is checked for it, and the small worker that opens history
//! files.
//!
//! A lab whose clients read and write values (`Lab::client_history`) has
//! its history checked in its own worker, which sends the operations and
//! the verdict ([`HistoryShown`]) a few times a second while they change.
//! A history file (Jepsen's EDN or text log, Porcupine's JSON) is read and
//! checked in a worker of its own, the checker (`checker.js`, this module's
//! [`HistoryWorker`]), started only when a file is opened: the page's own
//! download holds no parser and no checker. Both run the core's
//! [`clusterscope_core::history`].

use clusterscope_core::history::{self, Budget, ClientHistory, Entry, ModelKind, Op, Value, Verdict};
use gloo_worker::{HandlerId, Worker, WorkerScope};
use serde::{Deserialize, Serialize};

/// The checker's answer, as the page draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Checked {
    /// Every operation takes effect at `points[i]`, in `order`.
    Linearizable {
        /// Entry indexes in an order that works (key by key).
        order: Vec<usize>,
        /// For each entry, the instant it takes effect.
        points: Vec<u64>,
    },
    /// The operations `ops` cannot be ordered.
    NotLinearizable {
        /// Entry indexes of a 1-minimal set that cannot be ordered.
        ops: Vec<usize>,
        /// The longest legal order of some of them the search found.
        order: Vec<usize>,
        /// Why, in words.
        reason: String,
    },
    /// The checker's budget ran out: no answer.
    GaveUp {
        /// What ran out, in words.
        message: String,
    },
    /// The history has an operation its model does not have.
    Refused(String),
}

/// A history and its verdict, as the history view shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryShown {
    /// Where it comes from: the run, or a file's name and format.
    pub source: String,
    /// Whether times are the run's virtual microseconds (else a file's own
    /// units, drawn as plain numbers).
    pub virtual_time: bool,
    /// The sequential object it was checked against.
    pub model: ModelKind,
    /// Every key's first value.
    pub initial: Value,
    /// The operations.
    pub entries: Vec<Entry>,
    /// The checker's answer.
    pub verdict: Checked,
    /// How long the check took, in wall-clock ms (in the worker that ran
    /// it; `None` where no clock was given, as in native tests).
    pub check_ms: Option<f64>,
}

impl HistoryShown {
    /// The earliest and latest instants in the history.
    pub fn span(&self) -> (u64, u64) {
        let first = self.entries.iter().map(|e| e.call).min().unwrap_or(0);
        let last = self.entries.iter().map(|e| e.ret.unwrap_or(e.call).max(e.call)).max().unwrap_or(0);
        (first, last)
    }
}

/// Checks a history and puts it as the view draws it.
pub fn checked(
    source: String,
    virtual_time: bool,
    model: ModelKind,
    initial: Value,
    entries: Vec<Entry>,
    budget: &Budget,
    clock: Option<fn() -> f64>,
) -> HistoryShown {
    let start = clock.map(|c| c());
    let verdict = match history::check(model, &initial, &entries, budget) {
        Ok(Verdict::Linearizable { order, points }) => Checked::Linearizable { order, points },
        Ok(Verdict::NotLinearizable { ops, order, reason }) => Checked::NotLinearizable { ops, order, reason },
        Ok(Verdict::GaveUp { message, .. }) => Checked::GaveUp { message },
        Err(e) => Checked::Refused(e),
    };
    let check_ms = clock.zip(start).map(|(c, t0)| c() - t0);
    HistoryShown { source, virtual_time, model, initial, entries, verdict, check_ms }
}

/// A lab's history checked for the view (a run's times are virtual
/// microseconds). The budget is small: the lab's worker checks it again
/// while the run plays, between frames.
pub fn of_run(h: ClientHistory, clock: Option<fn() -> f64>) -> HistoryShown {
    let budget = Budget { max_steps: 2_000_000, max_states: 200_000 };
    checked("this run's clients".into(), true, h.model, h.initial, h.entries, &budget, clock)
}

/// The model a history's operations suggest when the user did not pick
/// one: a mutex for acquire and release, a key-value store for keyed
/// operations or appends, a compare-and-set register for cas, else a
/// register.
pub fn guess_model(entries: &[Entry]) -> ModelKind {
    let any = |f: &dyn Fn(&Entry) -> bool| entries.iter().any(f);
    if any(&|e| matches!(e.op, Op::Acquire | Op::Release)) {
        ModelKind::Mutex
    } else if any(&|e| e.key != Value::Nil || matches!(e.op, Op::Append { .. })) {
        ModelKind::Kv
    } else if any(&|e| matches!(e.op, Op::Cas { .. })) {
        ModelKind::CasRegister
    } else {
        ModelKind::Register
    }
}

/// Reads a value the user typed for the initial value: `nil`, an integer,
/// or a string (quoted or not).
pub fn parse_value(text: &str) -> Value {
    let t = text.trim();
    if t.is_empty() || t == "nil" {
        Value::Nil
    } else if let Ok(i) = t.parse::<i64>() {
        Value::Int(i)
    } else {
        Value::Str(t.trim_matches('"').to_string())
    }
}

/// A history file to open.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenFile {
    /// The file's name, for the view's title and messages.
    pub name: String,
    /// Its text.
    pub text: String,
    /// The model chosen (`None`: guessed from the operations).
    pub model: Option<ModelKind>,
    /// The initial value typed.
    pub initial: String,
    /// The page's number for this request (answers to older ones are
    /// dropped).
    pub tag: u64,
}

/// The checker's answer to an [`OpenFile`]: its tag, and the history or a
/// sentence naming the line that could not be read.
pub type Opened = (u64, Result<HistoryShown, String>);

/// Reads and checks a history file, timing the check with `clock` if
/// given (wall-clock ms).
pub fn open(req: OpenFile, clock: Option<fn() -> f64>) -> Opened {
    let read = history::formats::read_any(&req.text);
    let shown = read.map(|(entries, format)| {
        let model = req.model.unwrap_or_else(|| guess_model(&entries));
        let source = format!("{} ({})", req.name, format.name());
        checked(source, false, model, parse_value(&req.initial), entries, &Budget::default(), clock)
    });
    (req.tag, shown.map_err(|e| format!("{}: {e}", req.name)))
}

/// The worker that opens history files (the `checker` binary).
pub struct HistoryWorker;

impl Worker for HistoryWorker {
    type Message = ();
    type Input = OpenFile;
    type Output = Opened;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        HistoryWorker
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, req: OpenFile, id: HandlerId) {
        scope.respond(id, open(req, Some(crate::worker::wall_ms)));
    }
}

/// Starts the checker worker (its binary's `main`).
pub fn start_checker() {
    use gloo_worker::Registrable;
    HistoryWorker::registrar().register();
}

#[cfg(test)]
mod tests {
    use super::*;

    // Porcupine's README, its first register history: linearizable.
    const OK: &str = "{:process 0, :type :invoke, :f :write, :value 100}\n{:process 1, :type :invoke, :f :read, :value nil}\n{:process 0, :type :ok, :f :write, :value 100}\n{:process 1, :type :ok, :f :read, :value 100}\n";

    fn req(text: &str) -> OpenFile {
        OpenFile { name: "h.edn".into(), text: text.into(), model: None, initial: "0".into(), tag: 7 }
    }

    #[test]
    fn a_file_is_read_guessed_and_checked() {
        let (tag, shown) = open(req(OK), None);
        let shown = shown.unwrap();
        assert_eq!(tag, 7);
        assert_eq!(shown.model, ModelKind::Register);
        assert_eq!(shown.entries.len(), 2);
        assert!(matches!(shown.verdict, Checked::Linearizable { .. }), "{:?}", shown.verdict);
        assert!(shown.source.contains("Jepsen EDN"));
    }

    #[test]
    fn a_malformed_file_is_a_sentence_naming_the_file_and_line() {
        let (_, shown) = open(req("{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0 :type"), None);
        let e = shown.unwrap_err();
        assert!(e.starts_with("h.edn: ") && e.contains("line 2"), "{e}");
    }

    // The fixtures the browser test opens (tests/e2e/fixtures): Porcupine's
    // README's two register histories, first value 0 as its register model.
    #[test]
    fn the_browser_tests_fixtures_have_the_verdicts_they_expect() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/e2e/fixtures/");
        let read = |name: &str| std::fs::read_to_string(format!("{dir}{name}")).unwrap();
        let open0 = |name: &str| open(OpenFile { initial: "0".into(), ..req(&read(name)) }, None).1.unwrap().verdict;
        assert!(matches!(open0("register-ok.edn"), Checked::Linearizable { .. }));
        match open0("register-bad.edn") {
            Checked::NotLinearizable { ops, reason, .. } => {
                assert_eq!(ops, [0, 1, 2], "the write, the read that saw it, the later read of 0: {reason}");
            }
            v => panic!("{v:?}"),
        }
        let e = open(req(&read("register-malformed.edn")), None).1.unwrap_err();
        assert!(e.contains("line 4"), "{e}");
    }

    #[test]
    fn initial_values_read_as_the_user_means_them() {
        assert_eq!(parse_value(" nil "), Value::Nil);
        assert_eq!(parse_value("-3"), Value::Int(-3));
        assert_eq!(parse_value("\"a\""), Value::Str("a".into()));
    }
}
