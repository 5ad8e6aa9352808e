//! The one scenario model.
//!
//! A scenario is a lab, its parameters, a seed, a list of timed actions and
//! the virtual time it is looked at. It is what the UI records while a user
//! plays, what a share link encodes ([`link`]), what a `.scn` file holds
//! ([`Scenario::parse`], [`Scenario::to_text`]), what the CLI runs and what
//! tests are written in. Replaying it gives the same run, event for event.
//!
//! The text format, one statement a line, `#` starts a comment:
//!
//! ```text
//! # A leader crashes; the others elect a new one.
//! lab raft
//! seed 42
//! nodes 5
//! loss 1%
//! at 1s crash S1
//! at 1.5s partition S2,S3 | S4,S5
//! at 3s heal
//! at 3s set loss 0%
//! at 3s say "The network heals: S2 and S3 hear the leader again."
//! until 5s
//! expect elections >= 2
//! ```
//!
//! Nodes are written `S1`, `S2`, ... (or just `1`, `2`); parameters take
//! their units (`150ms`, `1.5%`, `on`). `expect` lines are checks the CLI
//! and tests run against the lab's metrics at the end.
//!
//! Two kinds of line tell a story without changing the run: `at T say
//! "..."` is a caption the page shows from time `T` on ([`Caption`]), and
//! `speed X` is the playback speed the page starts with (virtual seconds per
//! second). The simulation never sees either, so they leave a run's
//! fingerprint as it was.

pub mod link;
pub mod params;
pub mod range;

pub use crate::lab::LabDef;
use crate::sim::time::{format_duration, parse_duration, Time};
use params::ParamSpec;
use std::collections::BTreeMap;
use std::fmt;

/// Which lab a scenario belongs to: a handle on the lab's static
/// description. Two handles are equal when they name the same lab.
#[derive(Clone, Copy)]
pub struct LabKind(pub &'static LabDef);

impl PartialEq for LabKind {
    fn eq(&self, o: &Self) -> bool {
        self.0.name == o.0.name
    }
}
impl Eq for LabKind {}

impl fmt::Debug for LabKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LabKind({})", self.0.name)
    }
}

/// The labs a scenario may name. The scenario model is read against one,
/// passed in, so this module never calls up into the registry that lists
/// the labs: `lab::registry` implements it, and its `Scenario::parse`,
/// `LabKind::from_name` and `parse_action` pass it in for every caller.
pub trait LabIndex {
    /// Every lab, in menu order (the first is the default).
    fn labs(&self) -> Vec<LabKind>;

    /// A lab by name.
    fn find(&self, name: &str) -> Option<LabKind> {
        self.labs().into_iter().find(|l| l.name() == name)
    }

    /// The names of every lab, in menu order.
    fn names(&self) -> Vec<&'static str> {
        self.labs().into_iter().map(LabKind::name).collect()
    }
}

impl LabKind {
    /// The name used in files and links.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The lab's static description.
    pub fn def(self) -> &'static LabDef {
        self.0
    }

    /// The parameters of this lab, in display order.
    pub fn params(self) -> Vec<ParamSpec> {
        self.0.params.iter().flat_map(|t| t.iter().copied()).collect()
    }

    /// Looks up one parameter.
    pub fn param(self, name: &str) -> Option<ParamSpec> {
        self.0.params.iter().flat_map(|t| t.iter()).find(|p| p.name == name).copied()
    }

    /// Every action verb this lab understands, shared ones first.
    pub fn verbs(self) -> Vec<&'static str> {
        self.0.shared_verbs.iter().chain(self.0.verbs).copied().collect()
    }
}

/// A node number as the simulator counts (from 0). Written `S{n+1}`.
pub type NodeId = u32;

/// Something a user does to the running lab. The faults are one shared
/// vocabulary (every lab that has servers understands the ones its
/// [`LabDef::shared_verbs`] lists); a lab's own verbs travel as
/// [`Action::Lab`] in their canonical text, which only that lab reads, so a
/// new lab adds verbs without touching this enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Crash a node (cluster labs) or fail a server (placement labs).
    Crash(NodeId),
    /// Restart a crashed node.
    Restart(NodeId),
    /// Freeze a node.
    Pause(NodeId),
    /// Unfreeze a node.
    Resume(NodeId),
    /// Split the cluster into groups.
    Partition(Vec<Vec<NodeId>>),
    /// Cut messages from one node to another.
    Block(NodeId, NodeId),
    /// Restore all links.
    Heal,
    /// Change a live parameter.
    Set(String, i64),
    /// One of the lab's own verbs, as its canonical text (`timeout S3`,
    /// `add weight 150`).
    Lab(String),
}

/// The verbs of the shared fault vocabulary.
pub const SHARED_VERBS: &[&str] = &["crash", "restart", "pause", "resume", "partition", "block", "heal", "set"];

impl Action {
    /// The verb, as the text format writes it.
    pub fn verb(&self) -> &str {
        match self {
            Action::Crash(_) => "crash",
            Action::Restart(_) => "restart",
            Action::Pause(_) => "pause",
            Action::Resume(_) => "resume",
            Action::Partition(_) => "partition",
            Action::Block(..) => "block",
            Action::Heal => "heal",
            Action::Set(..) => "set",
            Action::Lab(text) => split_word(text).0,
        }
    }
}

/// An action and when it happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timed {
    /// Virtual time.
    pub at: Time,
    /// What happens.
    pub action: Action,
}

/// A caption: words the page shows from time `at` on, until the next one
/// (`at 2s say "The leader crashes."`). Not an action: the simulation never
/// sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caption {
    /// Virtual time from which it shows.
    pub at: Time,
    /// What it says (one line, at most [`MAX_CAPTION_CHARS`] characters).
    pub text: String,
}

/// Comparison in an `expect` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    const ALL: [(Cmp, &'static str); 6] =
        [(Cmp::Eq, "=="), (Cmp::Ne, "!="), (Cmp::Le, "<="), (Cmp::Ge, ">="), (Cmp::Lt, "<"), (Cmp::Gt, ">")];

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        Cmp::ALL.iter().find(|(c, _)| *c == self).map_or("==", |(_, s)| s)
    }

    /// Whether `a <op> b` holds.
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// A check on a metric at the end of a run: `expect elections >= 2`, or
/// between two metrics: `expect elections > leaders_elected`; or that a
/// named checker stopped the run: `expect violation "Election Safety"`
/// (the files that switch on a deliberate bug say which checker must
/// catch it).
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    /// Metric name.
    pub metric: String,
    /// Comparison.
    pub cmp: Cmp,
    /// Value to compare with (durations are written with units and compared
    /// in microseconds).
    pub value: f64,
    /// Compare with this other metric instead of `value`.
    pub other: Option<String>,
    /// The value as written, for messages.
    pub written: String,
    /// `expect violation "NAME"`: the checker that must have stopped the
    /// run (the other fields then only describe the line).
    pub violation: Option<String>,
}

impl Expect {
    /// The line as a file writes it, after the word `expect`.
    pub fn text(&self) -> String {
        match &self.violation {
            Some(name) => format!("violation \"{name}\""),
            None => format!("{} {} {}", self.metric, self.cmp.symbol(), self.written),
        }
    }
}

/// A complete, replayable run.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Which lab.
    pub lab: LabKind,
    /// The seed of every random stream.
    pub seed: u64,
    /// Parameters that differ from the lab's defaults.
    pub params: BTreeMap<String, i64>,
    /// Timed actions, in time order.
    pub actions: Vec<Timed>,
    /// The virtual time the scenario is looked at (and run to by the CLI).
    pub until: Time,
    /// Checks for the end of the run.
    pub expects: Vec<Expect>,
    /// The opening comment (what the scenario shows).
    pub title: String,
    /// A sweep over this scenario (the Tune panel's), if one was set up.
    pub tune: Option<TuneDef>,
    /// Captions, in time order (not actions: the run never sees them).
    pub captions: Vec<Caption>,
    /// The playback speed the page starts with (virtual seconds per wall
    /// second; 0: as fast as possible), if the scenario gives one.
    pub speed: Option<f64>,
}

/// A sweep that travels with its scenario, in files and links:
///
/// ```text
/// tune param election_timeout_max=200ms..400ms:100ms
/// tune seeds 100
/// tune metric leaderless
/// tune minimise leaderless
/// tune subject-to elections <= 3
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TuneDef {
    /// `NAME=VALUES` per swept parameter.
    pub params: Vec<String>,
    /// Seeds `0..seeds` (0: not given).
    pub seeds: u64,
    /// Metrics read (the first is the one shown).
    pub metrics: Vec<String>,
    /// The search: (minimise, what), if any.
    pub goal: Option<(bool, String)>,
    /// The search's checks, as `expect` lines write them.
    pub subject_to: Vec<String>,
}

impl TuneDef {
    /// The definition's lines in the text format.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.params.iter().map(|p| format!("tune param {p}")).collect();
        // Seeds 0: not given (a sweep then uses its default).
        if self.seeds > 0 {
            out.push(format!("tune seeds {}", self.seeds));
        }
        out.extend(self.metrics.iter().map(|m| format!("tune metric {m}")));
        if let Some((minimise, target)) = &self.goal {
            out.push(format!("tune {} {target}", if *minimise { "minimise" } else { "maximise" }));
        }
        out.extend(self.subject_to.iter().map(|c| format!("tune subject-to {c}")));
        out
    }

    /// Reads one `tune` line (after the word) into this definition.
    fn read(&mut self, scn: &Scenario, rest: &str) -> Result<(), String> {
        let (key, value) = split_word(rest);
        let name_ok =
            |v: &str| !v.is_empty() && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        match key {
            "param" => {
                range::parse_range(scn, value).map_err(|e| e.to_string())?;
                self.params.push(value.to_string());
            }
            "seeds" => {
                self.seeds = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=range::MAX_UNITS as u64).contains(n))
                    .ok_or_else(|| format!("tune seeds takes a whole number from 1 to {}", range::MAX_UNITS))?;
            }
            "metric" if name_ok(value) => self.metrics.push(value.to_string()),
            "minimise" | "maximise" if name_ok(value) => self.goal = Some((key == "minimise", value.to_string())),
            "subject-to" => {
                parse_expect(value)?;
                self.subject_to.push(value.to_string());
            }
            _ => {
                return Err(format!(
                    "'tune {rest}': write tune param NAME=VALUES, tune seeds N, tune metric NAME, tune minimise|maximise NAME or tune subject-to CHECK"
                ))
            }
        }
        Ok(())
    }
}

/// Why a scenario could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// A line of the text format is wrong.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The scenario as a whole is wrong (for example, a missing `lab`).
    #[error("{0}")]
    Invalid(String),
    /// A share link could not be decoded.
    #[error("this link is damaged or incomplete: {0}")]
    Link(String),
    /// A share link was cut short (copied in part).
    #[error("this link is cut short: {0}")]
    Truncated(String),
    /// A share link or file holds more than this version reads.
    #[error("this scenario is too large: {0}")]
    TooLarge(String),
    /// A share link from a version of ClusterScope this one does not know.
    #[error("this link was made by a different version of ClusterScope ({0}); this version reads v1 links")]
    Version(String),
}

/// Longest scenario text accepted (links and files), in bytes. A valid
/// scenario's own text never exceeds it ([`Scenario::validate`] checks), so
/// whatever a user records can always be written, linked and read back.
pub const MAX_TEXT: usize = 1024 * 1024;
/// Most actions in one scenario.
pub const MAX_ACTIONS: usize = 20_000;
/// Latest time a scenario may mention: 30 days of virtual time.
pub const MAX_TIME: Time = 30 * 24 * 3600 * 1_000_000;
/// Longest caption, in characters: two lines of a phone's screen or so.
pub const MAX_CAPTION_CHARS: usize = 240;
/// Most captions in one scenario.
pub const MAX_CAPTIONS: usize = 1_000;
/// The speeds a `speed` line may give (besides `max`), in virtual seconds
/// per wall second.
pub const SPEED_RANGE: (f64, f64) = (0.001, 1_000_000.0);

impl Scenario {
    /// A scenario with every parameter at its default.
    pub fn new(lab: LabKind, seed: u64) -> Scenario {
        Scenario {
            lab,
            seed,
            params: BTreeMap::new(),
            actions: Vec::new(),
            until: 0,
            expects: Vec::new(),
            title: String::new(),
            tune: None,
            captions: Vec::new(),
            speed: None,
        }
    }

    /// The value of a parameter (its default if unset). Unknown names give 0.
    pub fn get(&self, name: &str) -> i64 {
        self.params.get(name).copied().or_else(|| self.lab.param(name).map(|p| p.default)).unwrap_or(0)
    }

    /// Sets a parameter after checking its name and range. Setting the
    /// default removes it from the list, so equal scenarios compare equal.
    pub fn set(&mut self, name: &str, value: i64) -> Result<(), String> {
        let spec = self.lab.param(name).ok_or_else(|| unknown_param(self.lab, name))?;
        spec.check(value)?;
        if value == spec.default {
            self.params.remove(name);
        } else {
            self.params.insert(name.to_string(), value);
        }
        Ok(())
    }

    /// Number of nodes the scenario starts with.
    pub fn nodes(&self) -> u32 {
        (self.lab.def().nodes)(self)
    }

    /// The `nodes` parameter, for labs whose server count is that.
    pub fn nodes_param(&self) -> u32 {
        self.get("nodes").clamp(0, i64::from(u32::MAX)) as u32
    }

    /// Checks what a single line cannot: node numbers within the cluster,
    /// parameter pairs in order (the lab's own check), actions in time order
    /// and valid for the lab.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad = |m: String| Err(ScenarioError::Invalid(m));
        for (name, v) in &self.params {
            let spec = self.lab.param(name).ok_or_else(|| ScenarioError::Invalid(unknown_param(self.lab, name)))?;
            spec.check(*v).map_err(ScenarioError::Invalid)?;
        }
        (self.lab.def().check)(self).map_err(ScenarioError::Invalid)?;
        if self.actions.len() > MAX_ACTIONS {
            return bad(format!("too many actions ({}); at most {MAX_ACTIONS}", self.actions.len()));
        }
        // Only long scenarios can be too long to write out: skip the work
        // for the usual few dozen actions.
        if self.actions.len() + self.captions.len() > 1_000 {
            let len = self.to_text().len();
            if len > MAX_TEXT {
                return Err(ScenarioError::TooLarge(format!(
                    "its text would be {len} bytes, more than the {MAX_TEXT} a link or file may hold; start a new run (Reset) to record more"
                )));
            }
        }
        self.validate_story()?;
        let def = self.lab.def();
        let mut nodes = self.nodes();
        let mut last = 0;
        for t in &self.actions {
            if t.at < last {
                return bad(format!(
                    "actions must be in time order: {} comes after {}",
                    format_duration(t.at),
                    format_duration(last)
                ));
            }
            last = t.at;
            let when = format_duration(t.at);
            let at = |m: String| ScenarioError::Invalid(format!("at {when}: {m}"));
            let verb = t.action.verb();
            if !matches!(t.action, Action::Lab(_)) && !def.shared_verbs.contains(&verb) {
                return Err(at(not_an_action(self.lab, verb)));
            }
            match &t.action {
                Action::Crash(n) | Action::Restart(n) | Action::Pause(n) | Action::Resume(n) => {
                    check_node(*n, nodes).map_err(at)?
                }
                Action::Block(a, b) => {
                    check_node(*a, nodes).map_err(at)?;
                    check_node(*b, nodes).map_err(at)?;
                }
                Action::Partition(groups) => {
                    let mut seen = std::collections::BTreeSet::new();
                    for &n in groups.iter().flatten() {
                        check_node(n, nodes).map_err(at)?;
                        if !seen.insert(n) {
                            return Err(at(format!("S{} is in two groups of the partition", n + 1)));
                        }
                    }
                }
                Action::Heal => {}
                Action::Set(name, v) => {
                    let spec = self.lab.param(name).ok_or_else(|| at(unknown_param(self.lab, name)))?;
                    if !spec.live {
                        return Err(at(format!("{name} can only be set at the start, not during a run")));
                    }
                    spec.check(*v).map_err(at)?;
                }
                Action::Lab(text) => {
                    if !def.verbs.contains(&verb) {
                        return Err(at(not_an_action(self.lab, verb)));
                    }
                    (def.check_verb)(text, &mut nodes).map_err(at)?;
                }
            }
        }
        Ok(())
    }

    /// Checks the captions (in time order, within their limits) and the
    /// speed: what [`Scenario::parse`] checks line by line, for a scenario
    /// built otherwise.
    fn validate_story(&self) -> Result<(), ScenarioError> {
        if self.captions.len() > MAX_CAPTIONS {
            return Err(ScenarioError::Invalid(format!(
                "too many captions ({}); at most {MAX_CAPTIONS}",
                self.captions.len()
            )));
        }
        for pair in self.captions.windows(2) {
            if pair[1].at < pair[0].at {
                return Err(ScenarioError::Invalid(format!(
                    "captions must be in time order: {} comes after {}",
                    format_duration(pair[1].at),
                    format_duration(pair[0].at)
                )));
            }
        }
        for c in &self.captions {
            let reread = parse_caption(&quote_caption(&c.text)).map_err(ScenarioError::Invalid);
            if reread? != c.text || c.text.chars().any(|ch| ch.is_control() && ch != '\t') {
                return Err(ScenarioError::Invalid(format!(
                    "the caption at {} cannot be written",
                    format_duration(c.at)
                )));
            }
        }
        if let Some(v) = self.speed {
            check_speed(v).map_err(ScenarioError::Invalid)?;
        }
        Ok(())
    }

    /// Reads the text format. Errors name the line. A byte-order mark and
    /// CRLF line ends are accepted; invisible control characters are not.
    pub fn parse_in(text: &str, labs: &dyn LabIndex) -> Result<Scenario, ScenarioError> {
        if text.len() > MAX_TEXT {
            return Err(ScenarioError::Invalid(format!(
                "the scenario is too long ({} bytes; at most {MAX_TEXT})",
                text.len()
            )));
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Some(&first) = labs.labs().first() else {
            return Err(ScenarioError::Invalid("no lab is registered".into()));
        };
        let mut parser = Parser::new(labs, first);
        for (i, raw) in text.lines().enumerate() {
            parser.line(i + 1, raw)?;
        }
        parser.finish()
    }

    /// Writes the text format; [`Scenario::parse`] reads it back equal.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        if !self.title.trim().is_empty() {
            for l in self.title.lines() {
                let l = l.trim_end();
                if l.is_empty() {
                    out.push_str("#\n");
                } else {
                    let _ = writeln!(out, "# {l}");
                }
            }
        }
        let _ = write!(out, "lab {}\nseed {}\n", self.lab.name(), self.seed);
        if let Some(v) = self.speed {
            let _ = writeln!(out, "speed {}", format_speed(v));
        }
        for spec in self.lab.params() {
            if let Some(v) = self.params.get(spec.name) {
                let _ = writeln!(out, "{} {}", spec.name, spec.format(*v));
            }
        }
        // Actions and captions in one time line; at the same time, the
        // actions first (a caption speaks of what they did).
        let mut captions = self.captions.iter().peekable();
        for t in &self.actions {
            while let Some(c) = captions.next_if(|c| c.at < t.at) {
                let _ = writeln!(out, "at {} say {}", format_duration(c.at), quote_caption(&c.text));
            }
            let _ = writeln!(out, "at {} {}", format_duration(t.at), self.action_to_text(&t.action));
        }
        for c in captions {
            let _ = writeln!(out, "at {} say {}", format_duration(c.at), quote_caption(&c.text));
        }
        if self.until > 0 {
            let _ = writeln!(out, "until {}", format_duration(self.until));
        }
        for e in &self.expects {
            let _ = writeln!(out, "expect {}", e.text());
        }
        for line in self.tune.iter().flat_map(TuneDef::lines) {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// One action as the text format writes it.
    pub fn action_to_text(&self, a: &Action) -> String {
        match a {
            Action::Set(name, v) => match self.lab.param(name) {
                Some(spec) => format!("set {name} {}", spec.format(*v)),
                None => format!("set {name} {v}"),
            },
            other => action_text(other),
        }
    }
}

/// The state of reading a scenario's text, one line at a time: the scenario
/// so far, its title, and the statements already given.
struct Parser<'a> {
    labs: &'a dyn LabIndex,
    scn: Scenario,
    /// Whether a `lab` line was read (it must come before anything else).
    has_lab: bool,
    title: Vec<String>,
    in_title: bool,
    /// Statements that may appear once, and where they first did.
    seen: BTreeMap<String, usize>,
}

/// Turns a message into an error naming line `line`.
fn line_err(line: usize) -> impl Fn(String) -> ScenarioError {
    move |message| ScenarioError::Line { line, message }
}

impl<'a> Parser<'a> {
    fn new(labs: &'a dyn LabIndex, first: LabKind) -> Self {
        Parser {
            labs,
            scn: Scenario::new(first, 1),
            has_lab: false,
            title: Vec::new(),
            in_title: true,
            seen: BTreeMap::new(),
        }
    }

    /// Reads line `line_no`: a comment (part of the title while at the
    /// top), a blank line, or one statement.
    fn line(&mut self, line_no: usize, raw: &str) -> Result<(), ScenarioError> {
        let err = line_err(line_no);
        if let Some((col, c)) = raw.char_indices().find(|(_, c)| c.is_control() && *c != '\t' && *c != '\r') {
            return Err(err(format!(
                "column {}: an invisible control character (U+{:04X}) that a scenario never holds",
                raw[..col].chars().count() + 1,
                u32::from(c)
            )));
        }
        let trimmed = raw.trim();
        if let Some(c) = trimmed.strip_prefix('#') {
            if self.in_title {
                self.title.push(c.strip_prefix(' ').unwrap_or(c).to_string());
            }
            return Ok(());
        }
        let line = strip_comment(trimmed).trim();
        if line.is_empty() {
            if !self.title.is_empty() {
                self.in_title = false;
            }
            return Ok(());
        }
        self.in_title = false;
        let (word, rest) = split_word(line);
        if !matches!(word, "at" | "expect" | "tune") {
            if let Some(first) = self.seen.get(word) {
                return Err(err(format!("'{word}' is given twice (first on line {first})")));
            }
            self.seen.insert(word.to_string(), line_no);
        }
        self.statement(line_no, word, rest)
    }

    /// Reads one statement, `word` followed by `rest`.
    fn statement(&mut self, line_no: usize, word: &str, rest: &str) -> Result<(), ScenarioError> {
        let err = line_err(line_no);
        match word {
            "lab" => self.read_lab(line_no, rest)?,
            _ if !self.has_lab => {
                return Err(err(format!("a scenario must start with 'lab NAME' ({})", lab_choices(self.labs))));
            }
            "seed" => {
                self.scn.seed = rest
                    .parse()
                    .map_err(|_| err(format!("seed must be a whole number from 0 to {}, not '{rest}'", u64::MAX)))?
            }
            "until" => self.scn.until = parse_time(rest).map_err(err)?,
            "speed" => self.scn.speed = Some(parse_speed(rest).map_err(err)?),
            "at" => self.read_at(line_no, rest)?,
            "expect" => self.scn.expects.push(parse_expect(rest).map_err(err)?),
            "tune" => {
                let mut def = self.scn.tune.take().unwrap_or_default();
                def.read(&self.scn, rest).map_err(err)?;
                self.scn.tune = Some(def);
            }
            name => self.read_param(line_no, name, rest)?,
        }
        Ok(())
    }

    /// `lab NAME`: which lab the scenario runs.
    fn read_lab(&mut self, line_no: usize, rest: &str) -> Result<(), ScenarioError> {
        let err = line_err(line_no);
        let labs = self.labs;
        let l =
            labs.find(rest).ok_or_else(|| err(format!("unknown lab '{rest}' (known: {})", labs.names().join(", "))))?;
        self.has_lab = true;
        self.scn.lab = l;
        Ok(())
    }

    /// `at TIME ACTION`: one timed action.
    fn read_at(&mut self, line_no: usize, rest: &str) -> Result<(), ScenarioError> {
        let err = line_err(line_no);
        let (when, what) = split_word(rest);
        let at = parse_time(when).map_err(&err)?;
        if let ("say", words) = split_word(what) {
            return self.read_caption(line_no, at, words);
        }
        let action = parse_action_in(self.scn.lab, what, self.labs).map_err(&err)?;
        if self.scn.actions.len() >= MAX_ACTIONS {
            return Err(err(format!("too many actions; at most {MAX_ACTIONS}")));
        }
        self.scn.actions.push(Timed { at, action });
        Ok(())
    }

    /// `at TIME say "..."`: a caption.
    fn read_caption(&mut self, line_no: usize, at: Time, words: &str) -> Result<(), ScenarioError> {
        let err = line_err(line_no);
        let text = parse_caption(words).map_err(&err)?;
        if let Some(last) = self.scn.captions.last().filter(|c| c.at > at) {
            return Err(err(format!(
                "captions must be in time order: this one at {} comes after one at {}",
                format_duration(at),
                format_duration(last.at)
            )));
        }
        if self.scn.captions.len() >= MAX_CAPTIONS {
            return Err(err(format!("too many captions; at most {MAX_CAPTIONS}")));
        }
        self.scn.captions.push(Caption { at, text });
        Ok(())
    }

    /// `NAME VALUE`: one of the lab's parameters.
    fn read_param(&mut self, line_no: usize, name: &str, rest: &str) -> Result<(), ScenarioError> {
        let err = line_err(line_no);
        let spec = self.scn.lab.param(name).ok_or_else(|| err(unknown_word(self.scn.lab, name)))?;
        if rest.is_empty() {
            return Err(err(format!("{name} needs a value")));
        }
        let v = spec.parse(rest).map_err(&err)?;
        self.scn.set(name, v).map_err(err)?;
        Ok(())
    }

    /// Checks the whole scenario once every line is read.
    fn finish(mut self) -> Result<Scenario, ScenarioError> {
        if !self.has_lab {
            return Err(ScenarioError::Invalid(format!(
                "the scenario is empty: it must start with 'lab NAME' ({})",
                lab_choices(self.labs)
            )));
        }
        while self.title.last().is_some_and(|l| l.trim().is_empty()) {
            self.title.pop();
        }
        self.scn.title = self.title.join("\n");
        self.scn.validate()?;
        Ok(self.scn)
    }
}

fn lab_choices(labs: &dyn LabIndex) -> String {
    labs.names().iter().map(|n| format!("lab {n}")).collect::<Vec<_>>().join(", ")
}

fn not_an_action(lab: LabKind, verb: &str) -> String {
    format!("'{verb}' is not an action of the {} lab (its actions: {})", lab.name(), lab.verbs().join(", "))
}

/// Checks that node `n` exists in a cluster of `nodes`.
pub fn check_node(n: NodeId, nodes: u32) -> Result<(), String> {
    if n >= nodes {
        Err(format!("there is no server S{} (the cluster has {nodes})", u64::from(n) + 1))
    } else {
        Ok(())
    }
}

fn action_text(a: &Action) -> String {
    let s = |n: &NodeId| format!("S{}", u64::from(*n) + 1);
    match a {
        Action::Crash(n) => format!("crash {}", s(n)),
        Action::Restart(n) => format!("restart {}", s(n)),
        Action::Pause(n) => format!("pause {}", s(n)),
        Action::Resume(n) => format!("resume {}", s(n)),
        Action::Partition(groups) => {
            let g: Vec<String> = groups.iter().map(|g| g.iter().map(s).collect::<Vec<_>>().join(",")).collect();
            format!("partition {}", g.join(" | "))
        }
        Action::Block(a, b) => format!("block {} {}", s(a), s(b)),
        Action::Heal => "heal".into(),
        Action::Set(name, v) => format!("set {name} {v}"),
        Action::Lab(text) => text.clone(),
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&action_text(self))
    }
}

/// The lab a scenario's text names on its `lab` line, its first
/// statement, without reading the rest: what the page needs to start the
/// right lab's engine before that engine reads the file (the engine's
/// parser then says what is wrong with it, if anything). `None` when the
/// text does not start with a `lab` line.
pub fn lab_named(text: &str) -> Option<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().map(|l| strip_comment(l.trim()).trim()).find(|l| !l.is_empty() && !l.starts_with('#'))?;
    match split_word(first) {
        ("lab", name) if !name.is_empty() => Some(name),
        _ => None,
    }
}

/// Splits off the first word.
pub fn split_word(s: &str) -> (&str, &str) {
    match s.split_once(char::is_whitespace) {
        Some((w, rest)) => (w, rest.trim()),
        None => (s, ""),
    }
}

fn unknown_param(lab: LabKind, name: &str) -> String {
    let names: Vec<&str> = lab.params().iter().map(|p| p.name).collect();
    format!("unknown parameter '{name}' for the {} lab (known: {})", lab.name(), names.join(", "))
}

fn unknown_word(lab: LabKind, name: &str) -> String {
    format!(
        "'{name}' is neither a statement (lab, seed, speed, at, until, expect, tune) nor a parameter; {}",
        unknown_param(lab, name)
    )
}

/// The line without its comment: from a `#` outside double quotes on (a
/// caption may hold a `#`).
fn strip_comment(line: &str) -> &str {
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Reads a caption's words as a `say` line writes them: in double quotes,
/// with `\"` for a quote and `\\` for a backslash.
pub fn parse_caption(s: &str) -> Result<String, String> {
    let s = s.trim();
    let Some(body) = s.strip_prefix('"') else {
        return Err(format!(
            "'say' takes its words in double quotes, like: at 2s say \"The leader crashes.\" (not '{}')",
            shorten_for_message(s)
        ));
    };
    let mut text = String::new();
    let mut chars = body.char_indices();
    let end = loop {
        match chars.next() {
            None => return Err("the caption has no closing double quote".into()),
            Some((i, '"')) => break i + 1,
            Some((_, '\\')) => match chars.next() {
                Some((_, c @ ('"' | '\\'))) => text.push(c),
                Some((_, c)) => {
                    return Err(format!("'\\{c}' in a caption: write \\\" for a double quote and \\\\ for a backslash"))
                }
                None => return Err("the caption has no closing double quote".into()),
            },
            Some((_, c)) => text.push(c),
        }
    };
    let after = body[end..].trim();
    if !after.is_empty() {
        return Err(format!("unexpected '{}' after the caption's closing quote", shorten_for_message(after)));
    }
    if text.trim().is_empty() {
        return Err("the caption is empty: write what the reader should notice".into());
    }
    let n = text.chars().count();
    if n > MAX_CAPTION_CHARS {
        return Err(format!("the caption has {n} characters; at most {MAX_CAPTION_CHARS}"));
    }
    Ok(text)
}

/// A caption's words in double quotes, as [`parse_caption`] reads them.
pub fn quote_caption(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// At most 40 characters of user text, for an error message.
fn shorten_for_message(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Reads a `speed` line's value: `0.25`, `1x`, `10×`, or `max` (also written 0).
pub fn parse_speed(s: &str) -> Result<f64, String> {
    if s == "max" {
        return Ok(0.0);
    }
    let number = s.trim_end_matches(['x', '×']).trim();
    let v = number.parse::<f64>().map_err(|_| {
        format!("'{s}' is not a speed: write virtual seconds per second, like 'speed 0.25', or 'speed max'")
    })?;
    check_speed(v)?;
    Ok(v)
}

/// Checks a playback speed: `max` (0) or within [`SPEED_RANGE`].
fn check_speed(v: f64) -> Result<(), String> {
    if v == 0.0 || (SPEED_RANGE.0..=SPEED_RANGE.1).contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "speed {v} is out of range: from {} to {} virtual seconds per second, or max",
            SPEED_RANGE.0, SPEED_RANGE.1
        ))
    }
}

/// A speed as a `speed` line writes it.
pub fn format_speed(v: f64) -> String {
    if v == 0.0 {
        "max".into()
    } else {
        v.to_string()
    }
}

/// Parses a virtual time, at most [`MAX_TIME`].
pub fn parse_time(s: &str) -> Result<Time, String> {
    let t = parse_duration(s).ok_or_else(|| format!("'{s}' is not a time: write it like 1.5s, 200ms or 0"))?;
    if t > MAX_TIME {
        return Err(format!("{s} is too far in the future (at most 30 days)"));
    }
    Ok(t)
}

/// Parses `S3` or `3` into node 2.
pub fn parse_node(s: &str) -> Result<NodeId, String> {
    let digits = s.strip_prefix('S').or_else(|| s.strip_prefix('s')).unwrap_or(s);
    match digits.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n - 1),
        _ => Err(format!("'{s}' is not a server: write S1, S2, ...")),
    }
}

/// Parses a whole number, naming what it is in the error.
pub fn parse_u32(s: &str, what: &str) -> Result<u32, String> {
    s.parse().map_err(|_| format!("{what} must be a whole number, not '{s}'"))
}

/// Parses the one server a verb takes: `crash S1`.
pub fn parse_one_node(verb: &str, rest: &str) -> Result<NodeId, String> {
    let (n, extra) = split_word(rest);
    if n.is_empty() {
        return Err(format!("'{verb}' needs a server, like '{verb} S1'"));
    }
    if !extra.is_empty() {
        return Err(format!("unexpected '{extra}' after '{verb} {n}'"));
    }
    parse_node(n)
}

/// Parses the part of an `at` line after the time: a shared fault verb the
/// lab accepts, or one of the lab's own verbs (read by the lab). `labs`
/// tells a verb of another lab from one no lab knows.
pub fn parse_action_in(lab: LabKind, s: &str, labs: &dyn LabIndex) -> Result<Action, String> {
    let (verb, rest) = split_word(s.trim());
    if verb.is_empty() {
        return Err("'at TIME' needs an action, like 'at 1s crash S1'".into());
    }
    let def = lab.def();
    let shared = match verb {
        "fail" => "crash",
        other => other,
    };
    if def.shared_verbs.contains(&shared) {
        let action = match shared {
            "crash" => Action::Crash(parse_one_node(verb, rest)?),
            "restart" => Action::Restart(parse_one_node(verb, rest)?),
            "pause" => Action::Pause(parse_one_node(verb, rest)?),
            "resume" => Action::Resume(parse_one_node(verb, rest)?),
            "heal" if rest.is_empty() => Action::Heal,
            "heal" => return Err(format!("unexpected '{rest}' after 'heal'")),
            "partition" => {
                let mut groups = Vec::new();
                for g in rest.split('|') {
                    let members: Result<Vec<NodeId>, String> =
                        g.split(',').map(str::trim).filter(|x| !x.is_empty()).map(parse_node).collect();
                    let members = members?;
                    if !members.is_empty() {
                        groups.push(members);
                    }
                }
                if groups.len() < 2 {
                    return Err("a partition needs at least two groups: partition S1,S2 | S3,S4,S5".into());
                }
                Action::Partition(groups)
            }
            "block" => {
                let (a, b) = split_word(rest);
                let (a, b) = (parse_node(a)?, parse_node(b.trim())?);
                if a == b {
                    return Err("a server cannot block itself".into());
                }
                Action::Block(a, b)
            }
            "set" => {
                let (name, value) = split_word(rest);
                let spec = lab.param(name).ok_or_else(|| unknown_param(lab, name))?;
                Action::Set(name.to_string(), spec.parse(value)?)
            }
            other => return Err(not_an_action(lab, other)),
        };
        return Ok(action);
    }
    if def.verbs.contains(&verb) {
        return (def.parse_verb)(verb, rest).map(Action::Lab);
    }
    if SHARED_VERBS.contains(&shared) || labs.labs().iter().any(|l| l.def().verbs.contains(&verb)) {
        return Err(not_an_action(lab, verb));
    }
    Err(format!("unknown action '{verb}' (the {} lab knows: {})", lab.name(), lab.verbs().join(", ")))
}

/// Reads a check as `expect` lines write it after the word: `METRIC OP
/// VALUE` (`elections <= 2`, `leaderless < 300ms`).
pub fn parse_expect(s: &str) -> Result<Expect, String> {
    if let Some(rest) = s.trim().strip_prefix("violation").filter(|r| r.is_empty() || r.starts_with(' ')) {
        return parse_violation(rest.trim());
    }
    let mut parts = s.split_whitespace();
    let (Some(metric), Some(op), Some(value), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("write a check as 'expect METRIC OP VALUE', for example 'expect elections >= 1'".into());
    };
    let cmp = Cmp::ALL
        .iter()
        .find(|(_, sym)| *sym == op)
        .map(|(c, _)| *c)
        .ok_or_else(|| format!("unknown comparison '{op}' (use ==, !=, <, <=, >, >=)"))?;
    let mut other = None;
    let number = if let Some(t) = parse_duration(value).filter(|_| value.ends_with('s')) {
        t as f64
    } else if let Some(node) = value.strip_prefix('S').and_then(|n| n.parse::<u32>().ok()) {
        f64::from(node)
    } else if value.starts_with(|c: char| c.is_ascii_lowercase())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        // Another metric (names such as `p99_all` hold digits).
        other = Some(value.to_string());
        0.0
    } else {
        match value.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => return Err(format!("'{value}' is not a number, a duration, a server or a metric")),
        }
    };
    Ok(Expect { metric: metric.to_string(), cmp, value: number, other, written: value.to_string(), violation: None })
}

/// Reads the checker's name of `expect violation "NAME"` (quoted, as the
/// run's violation report names it).
fn parse_violation(quoted: &str) -> Result<Expect, String> {
    let how = "write it as 'expect violation \"NAME\"', the name of the checker that must stop the run in quotes, for example 'expect violation \"Election Safety\"'";
    let name = quoted
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|n| !n.trim().is_empty() && !n.contains('"'))
        .ok_or_else(|| format!("'{quoted}' is not a checker's name in quotes: {how}"))?;
    if name.trim() != name || name.chars().any(char::is_control) {
        return Err(format!("'{quoted}': a checker's name has no leading or trailing spaces: {how}"));
    }
    Ok(Expect {
        metric: "violation".into(),
        cmp: Cmp::Eq,
        value: 0.0,
        other: None,
        written: quoted.to_string(),
        violation: Some(name.to_string()),
    })
}

#[cfg(test)]
mod tests;
