//! What the page draws from: a [`Schema`] sent once per load, and compact
//! [`Frame`]s sent many times a second.
//!
//! Everything that does not change while a run plays (the lab's name, its
//! node roles and message kinds with their colours, its metrics' names,
//! labels and units, its node fields) is in the schema. A frame then carries
//! small numbers: metric values in schema order, the nodes that changed
//! since the last frame, the messages chosen for drawing packed a few bytes
//! each ([`Messages`]), and the new log lines. The worker posts it with
//! bincode; `tests/e2e/frame-bench.mjs` measures its size in the browser.

use super::varint::{get_varint, put_varint};
use crate::scenario::Expect;
use crate::sim::time::format_duration;
use crate::sim::Time;
use serde::{Deserialize, Serialize};

/// How a number is shown to people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// A whole number.
    Count,
    /// Microseconds, shown as `12.5 ms`.
    Micros,
    /// A server: the value is its number from 1 (`S3`); 0 means none. A
    /// negative value −n names server n holding the post while it cannot
    /// reach a majority of its cluster (`S3, cut off from a majority`): a
    /// leader left in a minority partition, which the drawing still shows
    /// in its role.
    Node,
    /// A fraction shown as a percentage (0.25 is `25.00%`).
    Fraction,
    /// A ratio with three decimals.
    Ratio,
    /// A rate per second of virtual time.
    PerSec,
    /// A multiple, shown as `1.23×`.
    Times,
    /// Two numbers packed as `major * base + minor`, written
    /// `{prefix}{major}.{minor}` (`b3.2`); 0 means none. A lab whose
    /// numbers come in pairs (a round and who started it) declares its own
    /// `Pair` in its schema.
    Pair {
        /// Written before the pair.
        prefix: char,
        /// What the major number is multiplied by.
        base: u32,
    },
}

impl Unit {
    /// A [`Unit::Node`] value as a node id: servers count from 1, and 0
    /// (or NaN) means none.
    pub fn node_of(v: f64) -> Option<u32> {
        (v.is_finite() && v >= 1.0).then(|| v as u32 - 1)
    }

    /// How a chart's axis shows values of this unit: the factor to apply
    /// and the unit to write (microseconds in ms, fractions in %).
    pub fn axis(self) -> (f64, &'static str) {
        match self {
            Unit::Micros => (1e-3, "ms"),
            Unit::Fraction => (100.0, "%"),
            Unit::PerSec => (1.0, "per s"),
            Unit::Times => (1.0, "×"),
            _ => (1.0, ""),
        }
    }

    /// The value in words. NaN means "not measured yet".
    pub fn format(self, v: f64) -> String {
        if v.is_nan() {
            return "–".into();
        }
        match self {
            Unit::Count => format!("{v:.0}"),
            Unit::Micros => format!("{:.1} ms", v / 1e3),
            Unit::Node if v >= 1.0 => format!("S{v:.0}"),
            Unit::Node if v <= -1.0 => format!("S{:.0}, cut off from a majority", -v),
            Unit::Node => "none".into(),
            Unit::Fraction => format!("{:.2}%", v * 100.0),
            Unit::Ratio => format!("{v:.3}"),
            Unit::PerSec => format!("{v:.0}/s"),
            Unit::Times => format!("{v:.2}×"),
            Unit::Pair { prefix, base } if v >= 1.0 && base > 0 => {
                let code = v as u64;
                format!("{prefix}{}.{}", code / u64::from(base), code % u64::from(base))
            }
            Unit::Pair { .. } => "–".into(),
        }
    }
}

/// One metric a lab measures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSpec {
    /// Name used by `expect` lines, tests and the page's `data-metric`.
    pub name: String,
    /// Label for people.
    pub label: String,
    /// How its value is shown.
    pub unit: Unit,
    /// Whether the page charts it over virtual time.
    pub chart: bool,
    /// What the shared page and the embedding API read it as, if anything.
    #[serde(default)]
    pub role: Option<MetricRole>,
}

/// What a metric means to the shared page and the embedding API, so that
/// they never look a metric up by a lab's name for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetricRole {
    /// The node that leads now, as a [`Unit::Node`] value: the summary line
    /// names it and the API's `leader` event follows it.
    Leader,
    /// A count that only grows as the system makes progress (values chosen,
    /// commits): the API reports it as `decided`. The first metric with
    /// this role counts.
    Progress,
}

impl MetricSpec {
    /// A metric: its name, its label for people, its unit, whether charted.
    pub fn new(name: &str, label: &str, unit: Unit, chart: bool) -> MetricSpec {
        MetricSpec { name: name.into(), label: label.into(), unit, chart, role: None }
    }

    /// The same metric with a role for the shared page.
    pub fn with_role(mut self, role: MetricRole) -> MetricSpec {
        self.role = Some(role);
        self
    }
}

/// A role a node can be in (drawn as the node's colour).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleStyle {
    /// Name ("leader").
    pub name: String,
    /// CSS colour.
    pub color: String,
    /// How a node in this role is drawn.
    #[serde(default)]
    pub look: RoleLook,
    /// What kind of node holds this role: a server on the circle, or a
    /// hub (a front end, a client) drawn as a box in the middle under a name
    /// of its own.
    #[serde(default)]
    pub shape: RoleShape,
    /// The outline of a server in this role (a hub is always a box).
    #[serde(default)]
    pub form: NodeForm,
    /// The run's configuration never puts a node in this role: the legend
    /// leaves it out.
    #[serde(default)]
    pub unused: bool,
}

impl RoleStyle {
    /// A role drawn as a filled circle of its colour.
    pub fn new(name: &str, color: &str) -> RoleStyle {
        RoleStyle {
            name: name.into(),
            color: color.into(),
            look: RoleLook::Filled,
            shape: RoleShape::Server,
            form: NodeForm::Circle,
            unused: false,
        }
    }

    /// The same role drawn another way.
    pub fn with_look(mut self, look: RoleLook) -> RoleStyle {
        self.look = look;
        self
    }

    /// The same role drawn with outline `form`: a lab whose servers are
    /// of different kinds (clients, lock servers, storage) tells them
    /// apart by shape, not by colour alone.
    pub fn with_form(mut self, form: NodeForm) -> RoleStyle {
        self.form = form;
        self
    }

    /// The same role held by a hub named `prefix` (`LB`; `LB1`, `LB2`, ...
    /// when there are several), drawn as a box in the middle of the
    /// servers rather than as one of them.
    pub fn hub(mut self, prefix: &str) -> RoleStyle {
        self.shape = RoleShape::Hub { prefix: prefix.into() };
        self
    }
}

/// What kind of node holds a role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleShape {
    /// A server: a circle on the ring, named `S1`, `S2`, ... by its number.
    #[default]
    Server,
    /// Not a server (a front end, a client): a box in the middle, named by
    /// `prefix` and its place among the nodes of its role.
    Hub {
        /// The name's first letters (`LB`).
        prefix: String,
    },
}

/// The outline of a server on the drawing and of its swatch in the legend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeForm {
    /// A circle: the usual server.
    #[default]
    Circle,
    /// A square (storage, a database).
    Square,
    /// A diamond (a coordination service: lock servers).
    Diamond,
}

/// How the drawing shows a node in a role.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleLook {
    /// A filled circle of the role's colour.
    #[default]
    Filled,
    /// A filled circle, faded: a node that has left but is still there.
    Faded,
    /// An empty dashed circle: a slot no working node holds yet.
    Vacant,
}

/// A kind of message (drawn as the dot's colour and shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KindStyle {
    /// Name ("AppendEntries").
    pub name: String,
    /// CSS colour.
    pub color: String,
    /// Replies are drawn hollow.
    pub reply: bool,
    /// Small dots (heartbeats).
    pub small: bool,
    /// The run's configuration never sends this kind: the legend leaves it
    /// out.
    #[serde(default)]
    pub unused: bool,
}

/// A per-node number the lab shows (a round, an index, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// Short name ("round").
    pub name: String,
    /// Label for people ("Round").
    pub label: String,
    /// How its value is shown.
    pub unit: Unit,
    /// Whether the node table has a column for it (the node panel lists
    /// every field; a field the strip already shows can stay out).
    #[serde(default = "yes")]
    pub in_table: bool,
    /// Written before the bare number where space is short (the first
    /// field is drawn inside each node: `r3` rather than `3`); `None`
    /// writes the value in its unit.
    #[serde(default)]
    pub short: Option<String>,
}

fn yes() -> bool {
    true
}

impl FieldSpec {
    /// A node field: its name, its label for people, its unit.
    pub fn new(name: &str, label: &str, unit: Unit) -> FieldSpec {
        FieldSpec { name: name.into(), label: label.into(), unit, in_table: true, short: None }
    }

    /// The same field, left out of the node table.
    pub fn off_table(mut self) -> FieldSpec {
        self.in_table = false;
        self
    }

    /// The same field, written `{prefix}{value}` inside a node.
    pub fn with_short(mut self, prefix: &str) -> FieldSpec {
        self.short = Some(prefix.into());
        self
    }

    /// A value as drawn inside a node.
    pub fn short_text(&self, v: i64) -> String {
        match &self.short {
            Some(prefix) => format!("{prefix}{v}"),
            None => self.unit.format(v as f64),
        }
    }
}

/// What each node's strip shows: a row of small numbered cells (the last
/// entries of a log, one value per slot), the first `mark` of them final.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StripSpec {
    /// Column title ("Log (last entries, by round)").
    pub title: String,
    /// What a cell's value is ("round"), for its tooltip.
    pub value: String,
    /// What a final cell is ("committed"), for its tooltip.
    pub mark: String,
    /// A block drawn before the cells for a prefix that is kept as one
    /// piece (a compacted log), if the lab has one.
    #[serde(default)]
    pub base: Option<StripBase>,
}

/// A prefix of the strip kept as one block, read from two node fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StripBase {
    /// What the block is ("snapshot").
    pub name: String,
    /// The node field with the last index the block covers (0: none).
    pub index_field: String,
    /// The node field with the value the block ends with.
    pub value_field: String,
    /// Written before that value in the block (`≤1200 r3`).
    pub short: String,
}

/// A button offered on a selected node: an action of the lab's verbs,
/// with the conditions under which it makes sense.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeAction {
    /// Button text ("Crash").
    pub label: String,
    /// Accessible name, followed by the node's name ("Crash S3").
    pub name: String,
    /// Tooltip; empty for none.
    pub help: String,
    /// The action as a scenario line writes it, with `{node}` for the
    /// node and `{others}` for every other node, comma-separated (the
    /// button is left out when there are none).
    pub command: String,
    /// Node statuses in which it is offered (empty: all).
    pub shown: Vec<NodeStatus>,
    /// Node statuses in which it is enabled (empty: wherever shown).
    pub enabled: Vec<NodeStatus>,
    /// Roles in which it is offered (empty: all).
    pub roles: Vec<String>,
    /// Roles in which it is not offered.
    pub not_roles: Vec<String>,
}

impl NodeAction {
    /// An action offered on every node: its button text and its command.
    pub fn new(label: &str, command: &str) -> NodeAction {
        NodeAction {
            label: label.into(),
            name: label.into(),
            help: String::new(),
            command: command.into(),
            shown: Vec::new(),
            enabled: Vec::new(),
            roles: Vec::new(),
            not_roles: Vec::new(),
        }
    }
    /// Its accessible name, when not the button text.
    pub fn named(mut self, name: &str) -> NodeAction {
        self.name = name.into();
        self
    }
    /// Its tooltip.
    pub fn help(mut self, help: &str) -> NodeAction {
        self.help = help.into();
        self
    }
    /// Offered only in these statuses.
    pub fn shown(mut self, statuses: &[NodeStatus]) -> NodeAction {
        self.shown = statuses.to_vec();
        self
    }
    /// Enabled only in these statuses.
    pub fn enabled(mut self, statuses: &[NodeStatus]) -> NodeAction {
        self.enabled = statuses.to_vec();
        self
    }
    /// Offered only in these roles.
    pub fn roles(mut self, roles: &[&str]) -> NodeAction {
        self.roles = roles.iter().map(|r| r.to_string()).collect();
        self
    }
    /// Not offered in these roles.
    pub fn not_roles(mut self, roles: &[&str]) -> NodeAction {
        self.not_roles = roles.iter().map(|r| r.to_string()).collect();
        self
    }
    /// Whether it is offered on a node in `status` and `role`.
    pub fn offered(&self, status: NodeStatus, role: &str) -> bool {
        (self.shown.is_empty() || self.shown.contains(&status))
            && (self.roles.is_empty() || self.roles.iter().any(|r| r == role))
            && !self.not_roles.iter().any(|r| r == role)
    }
    /// Whether it can be pressed on a node in `status`.
    pub fn usable(&self, status: NodeStatus) -> bool {
        self.enabled.is_empty() || self.enabled.contains(&status)
    }
    /// The action's text for node `node` among `others`; `None` when it
    /// needs other nodes and there are none.
    pub fn text(&self, node: &str, others: &[String]) -> Option<String> {
        if self.command.contains("{others}") && others.is_empty() {
            return None;
        }
        Some(self.command.replace("{node}", node).replace("{others}", &others.join(",")))
    }
}

/// A kind of note a node makes (drawn as a dot of its colour on the
/// space-time diagram).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoteStyle {
    /// Name, as the diagram's records carry it.
    pub name: String,
    /// CSS colour.
    pub color: String,
    /// Whether an embedding page hears it as a `note` event.
    pub event: bool,
}

impl NoteStyle {
    /// Notes from a table of (name, colour, heard by embedding pages).
    pub fn table(rows: &[(&str, &str, bool)]) -> Vec<NoteStyle> {
        rows.iter().map(|(n, c, e)| NoteStyle { name: (*n).into(), color: (*c).into(), event: *e }).collect()
    }
}

/// What does not change while a run plays: sent once per load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Lab name, as in files and links.
    pub lab: String,
    /// Lab title for people.
    pub title: String,
    /// Whether virtual time means something in this lab (play, speed, step
    /// and time travel). A placement lab has changes but no clock.
    pub timed: bool,
    /// Whether the lab has nodes exchanging messages (the cluster drawing).
    pub cluster: bool,
    /// Node roles, indexed by [`NodeView::role`].
    pub roles: Vec<RoleStyle>,
    /// Message kinds, indexed by a packed message's kind.
    pub kinds: Vec<KindStyle>,
    /// Node fields, in the order of [`NodeView::fields`].
    pub fields: Vec<FieldSpec>,
    /// What a node's strip shows, if it has one.
    pub strip: Option<StripSpec>,
    /// Metrics, in the order of [`Frame::metrics`].
    pub metrics: Vec<MetricSpec>,
    /// The node count at the start.
    pub nodes: u32,
    /// The action verbs the lab accepts (shared faults and its own).
    pub verbs: Vec<String>,
    /// Whether the lab records a space-time diagram (message-passing labs).
    #[serde(default)]
    pub diagram: bool,
    /// The kinds of note its nodes make, with their colours.
    #[serde(default)]
    pub notes: Vec<NoteStyle>,
    /// Buttons on a selected node, in order.
    #[serde(default)]
    pub node_actions: Vec<NodeAction>,
}

impl Schema {
    /// A metric's index by name.
    pub fn metric_index(&self, name: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m.name == name)
    }

    /// The value of the first metric with `role`, if the lab has one and
    /// it is measured.
    pub fn role_value(&self, values: &[f64], role: MetricRole) -> Option<f64> {
        let i = self.metrics.iter().position(|m| m.role == Some(role))?;
        values.get(i).copied().filter(|v| !v.is_nan())
    }

    /// The node that leads now (by the metric with the
    /// [`MetricRole::Leader`] role), if any.
    pub fn leader(&self, values: &[f64]) -> Option<u32> {
        self.role_value(values, MetricRole::Leader).and_then(Unit::node_of)
    }

    /// The lab's progress count (by the [`MetricRole::Progress`] metric),
    /// 0 where it has none.
    pub fn progress(&self, values: &[f64]) -> f64 {
        self.role_value(values, MetricRole::Progress).unwrap_or(0.0)
    }

    /// A node's role by index, `""` if unknown.
    pub fn role_name(&self, role: u8) -> &str {
        self.roles.get(role as usize).map_or("", |r| r.name.as_str())
    }

    /// How a node in role `role` is drawn.
    pub fn role_look(&self, role: u8) -> RoleLook {
        self.roles.get(role as usize).map_or(RoleLook::Filled, |r| r.look)
    }

    /// The outline of a node in role `role`: a box for a hub, else the
    /// role's form.
    pub fn role_form(&self, role: u8) -> NodeForm {
        match self.roles.get(role as usize) {
            Some(RoleStyle { shape: RoleShape::Hub { .. }, .. }) => NodeForm::Square,
            Some(r) => r.form,
            None => NodeForm::Circle,
        }
    }

    /// The hub prefix of role `role`, if nodes in it are not servers.
    pub fn hub_prefix(&self, role: u8) -> Option<&str> {
        match self.roles.get(role as usize).map(|r| &r.shape) {
            Some(RoleShape::Hub { prefix }) => Some(prefix),
            _ => None,
        }
    }

    /// The names people see for `nodes` (in their order): `S<n>` for a
    /// server (its number, as scenario lines write it), a hub's prefix for
    /// a hub (`LB`, or `LB1`, `LB2`, ... when several share it).
    pub fn node_names(&self, nodes: &[NodeView]) -> Vec<String> {
        let prefix = |n: &NodeView| self.hub_prefix(n.role);
        nodes
            .iter()
            .map(|n| match prefix(n) {
                None => format!("S{}", n.id + 1),
                Some(p) => {
                    let same: Vec<u32> = nodes.iter().filter(|o| prefix(o) == Some(p)).map(|o| o.id).collect();
                    match same.iter().position(|&id| id == n.id) {
                        Some(k) if same.len() > 1 => format!("{p}{}", k + 1),
                        _ => p.to_string(),
                    }
                }
            })
            .collect()
    }

    /// A note's colour by name (a neutral one for a note the lab does not
    /// list).
    pub fn note_color(&self, name: &str) -> &str {
        self.notes.iter().find(|n| n.name == name).map_or("#b48ad8", |n| n.color.as_str())
    }
}

/// Whether a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeStatus {
    /// Running.
    Up,
    /// Crashed (or failed).
    Crashed,
    /// Frozen.
    Paused,
}

impl NodeStatus {
    /// Lower-case name for people and CSS classes.
    pub fn name(self) -> &'static str {
        match self {
            NodeStatus::Up => "up",
            NodeStatus::Crashed => "crashed",
            NodeStatus::Paused => "paused",
        }
    }
}

/// A node as the page draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    /// Node number from 0 (shown as S1, S2, ...).
    pub id: u32,
    /// Up, crashed or paused.
    pub status: NodeStatus,
    /// Index into [`Schema::roles`].
    pub role: u8,
    /// Values of [`Schema::fields`]; `i64::MIN` means none.
    pub fields: Vec<i64>,
    /// The strip's values (see [`StripSpec`]).
    pub strip: Vec<u32>,
    /// Index of the strip's first value.
    pub strip_first: u64,
    /// The strip values up to and including this index are final.
    pub strip_mark: u64,
    /// The node's main timer: (when it was armed, when it fires).
    pub timer: Option<(Time, Time)>,
}

impl NodeView {
    /// A field's value by index, `None` where unset.
    pub fn field(&self, i: usize) -> Option<i64> {
        self.fields.get(i).copied().filter(|&v| v != i64::MIN)
    }
}

/// One message in flight, as drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageDot {
    /// Sender.
    pub from: u32,
    /// Receiver.
    pub to: u32,
    /// Index into [`Schema::kinds`].
    pub kind: u8,
    /// When it left.
    pub sent_at: Time,
    /// When it arrives.
    pub deliver_at: Time,
}

/// Messages packed for the wire: per message the sender, receiver and kind,
/// then how long ago it left and how long until it arrives, relative to the
/// frame's time, each an unsigned LEB128 number (40–80 ms takes 3 bytes), so
/// a typical message costs 9 bytes instead of a name and four 64-bit times.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Messages {
    bytes: Vec<u8>,
    count: u32,
}

impl Messages {
    /// Packs messages relative to time `now`.
    pub fn pack(now: Time, dots: &[MessageDot]) -> Messages {
        let mut bytes = Vec::with_capacity(dots.len() * 9);
        for d in dots {
            put_varint(&mut bytes, u64::from(d.from));
            put_varint(&mut bytes, u64::from(d.to));
            bytes.push(d.kind);
            put_varint(&mut bytes, now.saturating_sub(d.sent_at));
            put_varint(&mut bytes, d.deliver_at.saturating_sub(now));
        }
        Messages { bytes, count: dots.len() as u32 }
    }

    /// Unpacks them for a frame at time `now`. Stops at the first damaged
    /// entry rather than failing.
    pub fn unpack(&self, now: Time) -> Vec<MessageDot> {
        let mut out = Vec::with_capacity(self.count as usize);
        let mut at = 0;
        while at < self.bytes.len() {
            let (Some(from), Some(to)) = (get_varint(&self.bytes, &mut at), get_varint(&self.bytes, &mut at)) else {
                break;
            };
            let Some(&kind) = self.bytes.get(at) else { break };
            at += 1;
            let (Some(ago), Some(left)) = (get_varint(&self.bytes, &mut at), get_varint(&self.bytes, &mut at)) else {
                break;
            };
            out.push(MessageDot {
                from: from as u32,
                to: to as u32,
                kind,
                sent_at: now.saturating_sub(ago),
                deliver_at: now.saturating_add(left),
            });
        }
        out
    }

    /// How many messages are packed.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Packed size in bytes.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Chooses which in-flight messages to draw when there are more than
/// `budget`: deterministically (the same messages for the same run and
/// time) and representatively: every link gets its soonest arrival before
/// any link gets a second, and so on, so a busy link cannot hide a quiet
/// one. Input order does not matter. Returns them sorted by link.
pub fn choose_messages(mut all: Vec<MessageDot>, budget: usize) -> Vec<MessageDot> {
    if all.len() <= budget {
        all.sort_by_key(|m| (m.from, m.to, m.deliver_at, m.sent_at, m.kind));
        return all;
    }
    all.sort_by_key(|m| (m.from, m.to, m.deliver_at, m.sent_at, m.kind));
    // Rank of each message within its link, soonest first.
    let mut ranked: Vec<(u32, MessageDot)> = Vec::with_capacity(all.len());
    let mut rank = 0;
    for (i, m) in all.iter().enumerate() {
        rank = if i > 0 && (all[i - 1].from, all[i - 1].to) == (m.from, m.to) { rank + 1 } else { 0 };
        ranked.push((rank, *m));
    }
    ranked.sort_by_key(|(r, m)| (*r, m.deliver_at, m.from, m.to, m.sent_at, m.kind));
    ranked.truncate(budget);
    let mut chosen: Vec<MessageDot> = ranked.into_iter().map(|(_, m)| m).collect();
    chosen.sort_by_key(|m| (m.from, m.to, m.deliver_at, m.sent_at, m.kind));
    chosen
}

/// One moment of a run, as the page draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// Virtual time.
    pub time: Time,
    /// Events processed so far.
    pub events: u64,
    /// Fingerprint of the trace so far.
    pub fingerprint: u64,
    /// Whether `nodes` holds every node (else only those that changed).
    pub full: bool,
    /// Nodes in the cluster now.
    pub node_count: u32,
    /// Nodes that changed since the last frame (all of them when `full`).
    pub nodes: Vec<NodeView>,
    /// The messages chosen for drawing.
    pub messages: Messages,
    /// Messages on the wire in all.
    pub messages_total: u64,
    /// Groups of nodes that can reach each other, when they changed.
    pub groups: Option<Vec<Vec<u32>>>,
    /// Trace lines since the previous frame (newest last).
    pub log: Vec<String>,
    /// Metric values in [`Schema::metrics`] order (NaN: not measured yet).
    pub metrics: Vec<f64>,
    /// A broken invariant, in words; the run has stopped.
    pub violation: Option<String>,
    /// Whether the run can go on (events are queued and nothing broke).
    pub can_run: bool,
    /// The lab's own drawing (its own type, bincode-encoded), when it changed.
    pub view: Option<Vec<u8>>,
    /// Space-time diagram records made since the last frame.
    pub diagram: Option<super::diagram::Chunk>,
    /// The last sentence of live narration and when it was said: what
    /// just happened, in plain words (labs that narrate).
    #[serde(default)]
    pub narration: Option<(Time, String)>,
}

impl Frame {
    /// The fingerprint as people see it (16 hex digits).
    pub fn fingerprint_hex(&self) -> String {
        format!("{:016x}", self.fingerprint)
    }

    /// A metric's value by name.
    pub fn metric(&self, schema: &Schema, name: &str) -> Option<f64> {
        schema.metric_index(name).and_then(|i| self.metrics.get(i).copied())
    }

    /// Checks one `expect` line against this frame's metrics. `Ok` and
    /// `Err` both carry a sentence for people.
    pub fn check(&self, schema: &Schema, e: &Expect) -> Result<String, String> {
        check_expect(schema, &self.metrics, e)
    }
}

/// Checks one `expect` line against metric values in schema order. `Ok`
/// and `Err` both carry a sentence for people.
pub fn check_expect(schema: &Schema, values: &[f64], e: &Expect) -> Result<String, String> {
    let known = || schema.metrics.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ");
    let line = format!("expect {}", e.text());
    let lookup = |name: &str| -> Result<(f64, String), String> {
        let i = schema.metric_index(name).ok_or_else(|| format!("{line}: no metric '{name}' (known: {})", known()))?;
        let v = values.get(i).copied().unwrap_or(f64::NAN);
        if v.is_nan() {
            return Err(format!("{line}: {name} has no value yet"));
        }
        Ok((v, schema.metrics[i].unit.format(v)))
    };
    let (value, text) = lookup(&e.metric)?;
    let (rhs, rhs_text) = match &e.other {
        Some(name) => {
            let (v, t) = lookup(name)?;
            (v, format!("{name} is {t}"))
        }
        None => (e.value, e.written.clone()),
    };
    if e.cmp.holds(value, rhs) {
        Ok(format!("{line} (it is {text}; {rhs_text})"))
    } else {
        Err(format!("{line} failed: {} is {text}, {rhs_text}", e.metric))
    }
}

/// A duration for people, or a dash.
pub fn duration_text(t: Option<Time>) -> String {
    t.map_or("–".into(), format_duration)
}
