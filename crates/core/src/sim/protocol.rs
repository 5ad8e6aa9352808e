//! The contract between a protocol and the simulator.
//!
//! A protocol node is a pure state machine. The simulator calls
//! [`Protocol::on_start`], [`Protocol::on_message`], [`Protocol::on_timer`]
//! and [`Protocol::on_request`] with a [`Ctx`]; the node answers by pushing
//! effects (send a message, set or cancel a timer, reply to a client, note
//! what happened) into the context. It never performs I/O, never reads a
//! clock and never sees the simulator, so it can be unit-tested by calling
//! its handlers and reading the effects back.
//!
//! Persistence: a node keeps the state that must survive a crash in a value
//! returned by [`Protocol::durable`]. Writes are synchronous (a handler's
//! writes are on disk before its messages leave), which is what
//! consensus protocols' "respond after persisting" rule asks for; on restart the simulator builds a
//! fresh node with [`Protocol::recover`] from that value, and all volatile
//! state is gone.

use super::fingerprint::Fingerprint;
use super::rng::Rng;
use super::time::Time;
use std::fmt::Debug;

/// A node's index in the cluster, from 0. People see node `i` as `S{i+1}`.
pub type NodeId = u32;

/// A client request, identified by a number unique in the run. Protocols
/// treat it as the command to agree on.
pub type RequestId = u64;

/// What a node tells a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// The command was committed (applied to the replicated state machine).
    Committed,
    /// This node cannot serve; it believes the leader is the given node.
    NotLeader(Option<NodeId>),
    /// A key-value command was served: what it read or did.
    Answer(Answer),
}

impl Reply {
    /// Whether the request is done (committed, or served with an answer).
    pub fn is_done(&self) -> bool {
        matches!(self, Reply::Committed | Reply::Answer(_))
    }
}

/// What a key-value command does, for labs whose clients read and write
/// the values of a small replicated key-value store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KvOp {
    /// Reads the key.
    Read,
    /// Writes `value` (every write of a run writes its own value).
    Write(i64),
    /// If the key holds `from` (`None`: never written), sets it to `to`.
    Cas(Option<i64>, i64),
}

/// A key-value command: which client process asked (a process has at most
/// one command outstanding, so a server can recognise a retry of one it
/// already applied, with client sessions), the key, and the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Command {
    /// The client process.
    pub process: u64,
    /// The key, from 0.
    pub key: u32,
    /// The operation.
    pub op: KvOp,
}

/// A key-value command's result. Every key's value has a version: the
/// number of writes (and successful compare-and-sets) applied to it, so
/// "which value is newer" is a comparison of two numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Answer {
    /// The key.
    pub key: u32,
    /// The value read, or held after the write or compare-and-set
    /// (`None`: never written).
    pub value: Option<i64>,
    /// The version of that value.
    pub version: u64,
    /// For a compare-and-set, whether it set the value; true otherwise.
    pub ok: bool,
}

/// Data that a message, timer or note must offer to the simulator.
pub trait Observable: Clone + Debug {
    /// A short, stable name for display and counting, e.g. `"RequestVote"`.
    fn kind(&self) -> &'static str;
    /// Feeds the content into a trace fingerprint. Must depend only on the
    /// value (no addresses, no `usize`), so native and wasm agree.
    fn digest(&self, fp: &mut Fingerprint);
    /// Writes a compact one-line form for the event log, in the style of
    /// etcd's interaction tests: `AppendEntries t3 prev 4/2 entries 3 commit 4`.
    /// The default writes the kind only.
    fn describe(&self, out: &mut String) {
        out.push_str(self.kind());
    }
}

/// A protocol node.
pub trait Protocol: Clone + Debug {
    /// Messages between nodes.
    type Msg: Observable;
    /// Timer names. Setting a timer that is already set re-arms it.
    type Timer: Observable + Ord;
    /// Events a node notes for the trace, the checkers and the metrics.
    type Note: Observable;
    /// The state that survives a crash.
    type Durable: Clone + Debug;
    /// Protocol parameters, shared by all nodes.
    type Config: Clone + Debug;

    /// A node that has never run.
    fn new(id: NodeId, nodes: u32, config: &Self::Config) -> Self;
    /// A node restarting after a crash from what it had persisted.
    fn recover(id: NodeId, nodes: u32, config: &Self::Config, durable: Self::Durable) -> Self;
    /// What this node has persisted so far.
    fn durable(&self) -> Self::Durable;

    /// Called once when the node starts or restarts.
    fn on_start(&mut self, ctx: &mut Ctx<Self>);
    /// A message from another node arrived.
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<Self>);
    /// A timer set earlier fired.
    fn on_timer(&mut self, timer: Self::Timer, ctx: &mut Ctx<Self>);
    /// A client asks this node to run a command.
    fn on_request(&mut self, req: RequestId, ctx: &mut Ctx<Self>);
    /// A client asks this node to run key-value command `cmd` (request
    /// `req`). A protocol without a key-value store treats it as any
    /// command.
    fn on_command(&mut self, req: RequestId, cmd: Command, ctx: &mut Ctx<Self>) {
        let _ = cmd;
        self.on_request(req, ctx);
    }
    /// The user forces this node's main timeout (a leader election or a new round, now).
    fn on_force_timeout(&mut self, ctx: &mut Ctx<Self>);
    /// About how many bytes the node holds on the heap (its log, say),
    /// beyond its own size: for the worker's snapshot budget.
    fn heap_bytes(&self) -> usize {
        0
    }
    /// About how many bytes a message holds on the heap, shared payloads
    /// counted whole (a snapshot's messages in flight outlive the copies
    /// the run delivered): for the worker's snapshot budget.
    fn msg_heap_bytes(msg: &Self::Msg) -> usize {
        let _ = msg;
        0
    }
    /// Which shared payload a message's heap bytes are (its address), so
    /// copies of one message (in flight and in the trace) count it once;
    /// 0: none, or count every copy.
    fn msg_payload(msg: &Self::Msg) -> usize {
        let _ = msg;
        0
    }
}

/// An effect a handler asks for.
#[derive(Clone, Debug)]
pub enum Effect<P: Protocol> {
    /// Send a message to another node.
    Send { to: NodeId, msg: P::Msg },
    /// Arm (or re-arm) a timer to fire after `after` microseconds of the
    /// node's own clock.
    SetTimer { timer: P::Timer, after: Time },
    /// Disarm a timer if it is set.
    CancelTimer { timer: P::Timer },
    /// Answer a client request.
    Reply { req: RequestId, reply: Reply },
    /// Record something that happened, for the trace, checkers and metrics.
    Note(P::Note),
}

/// What a handler can see and do: its id, the cluster size, the current
/// time, its own random stream, and a list to push effects into.
pub struct Ctx<'a, P: Protocol> {
    /// This node.
    pub id: NodeId,
    /// Number of nodes in the cluster.
    pub nodes: u32,
    /// Current virtual time.
    pub now: Time,
    /// This node's own clock: virtual time as the node's drifting clock
    /// counts it (equal to `now` without drift), for what a node measures
    /// itself, such as a lease.
    pub clock: Time,
    /// This node's own random stream.
    pub rng: &'a mut Rng,
    /// Effects pushed so far, applied in order when the handler returns.
    pub effects: &'a mut Vec<Effect<P>>,
}

impl<P: Protocol> Ctx<'_, P> {
    /// Send `msg` to node `to`.
    pub fn send(&mut self, to: NodeId, msg: P::Msg) {
        self.effects.push(Effect::Send { to, msg });
    }
    /// Arm `timer` to fire after `after` microseconds.
    pub fn set_timer(&mut self, timer: P::Timer, after: Time) {
        self.effects.push(Effect::SetTimer { timer, after });
    }
    /// Disarm `timer`.
    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.effects.push(Effect::CancelTimer { timer });
    }
    /// Answer client request `req`.
    pub fn reply(&mut self, req: RequestId, reply: Reply) {
        self.effects.push(Effect::Reply { req, reply });
    }
    /// Note an event.
    pub fn note(&mut self, note: P::Note) {
        self.effects.push(Effect::Note(note));
    }
    /// Every other node's id.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + 'static {
        let (me, n) = (self.id, self.nodes);
        (0..n).filter(move |&p| p != me)
    }
}
