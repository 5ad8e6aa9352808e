//! The deterministic simulator.
//!
//! A run is fully defined by its protocol configuration, seed, and the
//! timed actions applied to it. Events (message deliveries, timers, client
//! arrivals) sit in one queue ordered by `(time, sequence)`; the sequence
//! number is handed out when an event is scheduled, so ties break the same
//! way on every run and platform. The queue is [`queue::EventQueue`],
//! generic over the event type: the load-balancing model
//! ([`crate::balance`]) runs on the same one. Nothing here reads a clock,
//! asks the OS for randomness, or iterates a randomly seeded hash map.
//!
//! Nodes can be up, crashed (volatile state lost, persisted state kept) or
//! paused (frozen: deliveries and timers wait until it resumes). Each node's
//! clock may drift: its timers run slower or faster by a fixed number of
//! parts per million; and its timers may fire late by a random few
//! milliseconds each time ([`TimerJitter`], off unless asked for). The simulator is `Clone`, so a UI can keep snapshots
//! and jump back in time by replaying from the nearest one.

pub mod client;
pub mod fingerprint;
pub mod invariant;
pub mod jitter;
pub mod kv;
pub mod network;
pub mod protocol;
pub mod queue;
pub mod rng;
pub mod time;
pub mod trace;

pub use client::{ClientConfig, Clients, History, KvConfig, KvRecord, Operation, Outcome};
pub use fingerprint::Fingerprint;
pub use invariant::{Invariant, Violation, World};
pub use jitter::TimerJitter;
pub use kv::{btree_bytes, KvStore};
pub use network::{Fate, NetConfig, Network};
pub use protocol::{Answer, Command, Ctx, Effect, KvOp, NodeId, Observable, Protocol, Reply, RequestId};
pub use queue::{Due, EventQueue, Item};
pub use rng::{Rng, StreamKind};
pub use time::{Time, MS, SEC};
pub use trace::{DropReason, Fault, Trace, TraceEvent};

use std::collections::BTreeMap;

/// Whether a node is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    /// Running normally.
    Up,
    /// Crashed: its state is what it persisted; it does nothing until restarted.
    Crashed,
    /// Frozen: events wait until it resumes.
    Paused,
}

/// A node as the simulator holds it.
#[derive(Clone, Debug)]
pub struct Node<P: Protocol> {
    /// The protocol state. For a crashed node, the state it will restart
    /// from (persisted state only).
    pub state: P,
    /// Up, crashed or paused.
    pub status: NodeStatus,
    /// Clock drift in parts per million (positive: timers fire late).
    pub drift_ppm: i32,
    /// How late each of its timers fires (off unless the run asks for it).
    pub jitter: TimerJitter,
    rng: Rng,
    /// Armed timers: name -> (generation, armed at, due time).
    timers: BTreeMap<P::Timer, (u64, Time, Time)>,
    /// Events that reached the node while it was paused.
    held: Vec<Event<P>>,
}

impl<P: Protocol> Node<P> {
    /// When each armed timer is due, for display (for example, the election
    /// timer's progress).
    pub fn timers(&self) -> impl Iterator<Item = (&P::Timer, Time)> {
        self.timers.iter().map(|(k, (_, _, due))| (k, *due))
    }

    /// Each armed timer with when it was armed and when it is due (for
    /// drawing a timer's progress).
    pub fn timer_spans(&self) -> impl Iterator<Item = (&P::Timer, Time, Time)> {
        self.timers.iter().map(|(k, (_, set, due))| (k, *set, *due))
    }
}

/// Everything that defines a simulated cluster apart from the protocol's
/// own parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Number of nodes.
    pub nodes: u32,
    /// The run's seed.
    pub seed: u64,
    /// Network conditions.
    pub net: NetConfig,
    /// Largest clock drift, in parts per million, either way.
    pub drift_ppm_max: u32,
    /// Largest timer jitter: every timer a node arms fires late by a
    /// uniform `0..=timer_jitter_max` (0: exact timers, nothing drawn).
    pub timer_jitter_max: Time,
    /// The client workload.
    pub client: ClientConfig,
    /// How many recent trace events to keep.
    pub trace_window: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 5,
            seed: 1,
            net: NetConfig::default(),
            drift_ppm_max: 0,
            timer_jitter_max: 0,
            client: ClientConfig::default(),
            trace_window: 4096,
        }
    }
}

#[derive(Clone, Debug)]
enum Event<P: Protocol> {
    Deliver { id: u64, from: NodeId, to: NodeId, sent: Time, msg: P::Msg },
    Timer { node: NodeId, timer: P::Timer, gen: u64 },
    ClientArrival,
    Request { node: NodeId, req: RequestId, attempt: u32 },
    ClientTimeout { req: RequestId, attempt: u32 },
}

/// Virtual time `now` as a clock drifting by `drift_ppm` counts it: its
/// timers of `d` take `d * (1 + drift)` of virtual time, so it counts
/// `now / (1 + drift)`.
pub fn local_clock(now: Time, drift_ppm: i32) -> Time {
    if drift_ppm == 0 {
        return now;
    }
    (i128::from(now) * 1_000_000 / (1_000_000 + i128::from(drift_ppm)).max(1)) as Time
}

/// A message on the wire, for drawing.
#[derive(Clone, Debug)]
pub struct InFlight<'a, M> {
    /// Message id (unique in the run).
    pub id: u64,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// When it left.
    pub sent_at: Time,
    /// When it is due.
    pub deliver_at: Time,
    /// The message.
    pub msg: &'a M,
}

/// Counters over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events processed.
    pub events: u64,
    /// Messages sent (duplicates count once).
    pub sent: u64,
    /// Messages delivered to a running node.
    pub delivered: u64,
    /// Messages lost (loss, partition, receiver down).
    pub dropped: u64,
    /// Client requests submitted.
    pub requests: u64,
    /// Client requests answered as committed.
    pub committed: u64,
}

/// A simulated cluster running protocol `P`.
#[derive(Clone)]
pub struct Sim<P: Protocol> {
    now: Time,
    next_msg: u64,
    next_timer_gen: u64,
    queue: EventQueue<Event<P>>,
    nodes: Vec<Node<P>>,
    net: Network,
    config: SimConfig,
    proto: P::Config,
    trace: Trace<P>,
    fresh: Vec<TraceEvent<P>>,
    effects: Vec<Effect<P>>,
    invariants: Vec<Box<dyn Invariant<P>>>,
    violation: Option<Violation>,
    clients: Clients,
    counters: Counters,
}

impl<P: Protocol> Sim<P> {
    /// A cluster of `config.nodes` fresh nodes, all started at time 0.
    pub fn new(config: SimConfig, proto: P::Config) -> Self {
        Sim::with_invariants(config, proto, Vec::new())
    }

    /// A cluster whose invariants watch from the first event on, the
    /// nodes' start included.
    pub fn with_invariants(config: SimConfig, proto: P::Config, invariants: Vec<Box<dyn Invariant<P>>>) -> Self {
        let n = config.nodes;
        let seed = config.seed;
        let nodes = (0..n)
            .map(|id| {
                let mut drift_rng = Rng::stream(seed, StreamKind::Lab, 1_000 + u64::from(id));
                let span = u64::from(config.drift_ppm_max);
                let drift = drift_rng.range(0, 2 * span) as i64 - span as i64;
                Node {
                    state: P::new(id, n, &proto),
                    status: NodeStatus::Up,
                    drift_ppm: drift as i32,
                    jitter: TimerJitter::new(seed, id, config.timer_jitter_max),
                    rng: Rng::stream(seed, StreamKind::Node, u64::from(id)),
                    timers: BTreeMap::new(),
                    held: Vec::new(),
                }
            })
            .collect();
        let mut sim = Sim {
            now: 0,
            next_msg: 0,
            next_timer_gen: 0,
            queue: EventQueue::new(),
            nodes,
            net: Network::new(seed, n, config.net.clone()),
            trace: Trace::new(config.trace_window),
            clients: Clients::new(config.client.clone(), n, Rng::stream(seed, StreamKind::Workload, 0)),
            config,
            proto,
            fresh: Vec::new(),
            effects: Vec::new(),
            invariants,
            violation: None,
            counters: Counters::default(),
        };
        for id in 0..n {
            sim.with_node(id, |node, ctx| node.on_start(ctx));
        }
        sim.schedule_client_arrival();
        sim.finish_step();
        sim
    }

    /// Adds a safety invariant, checked after every later event.
    pub fn add_invariant(&mut self, inv: Box<dyn Invariant<P>>) {
        self.invariants.push(inv);
    }

    /// Current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }
    /// The configuration the run started with (network settings may have
    /// changed since: see [`Sim::net`]).
    pub fn config(&self) -> &SimConfig {
        &self.config
    }
    /// The protocol configuration.
    pub fn protocol_config(&self) -> &P::Config {
        &self.proto
    }
    /// All nodes.
    pub fn nodes(&self) -> &[Node<P>] {
        &self.nodes
    }
    /// The network.
    pub fn net(&self) -> &Network {
        &self.net
    }
    /// The trace so far.
    pub fn trace(&self) -> &Trace<P> {
        &self.trace
    }
    /// Events produced by the last step or action.
    pub fn last_events(&self) -> &[TraceEvent<P>] {
        &self.fresh
    }
    /// The first invariant violation, if any. Once set, the run stops.
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }
    /// Stops the run with a violation found outside the invariants (a
    /// checker over the clients' history), unless it stopped already.
    pub fn report_violation(&mut self, v: Violation) {
        if self.violation.is_none() {
            self.violation = Some(v);
        }
    }
    /// Run-wide counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
    /// The clients: their history of operations and latency percentiles.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }
    /// Client requests not answered yet.
    pub fn outstanding_requests(&self) -> usize {
        self.clients.outstanding()
    }
    /// About how many bytes this simulator holds (its queue, trace window,
    /// nodes and what each protocol node says it holds on the heap): what
    /// a copy of it costs, for the worker's budget of time-travel snapshots.
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        self.queue.approx_bytes()
            + self.net.approx_bytes()
            + self.trace.window().len() * size_of::<TraceEvent<P>>()
            + self
                .nodes
                .iter()
                .map(|n| size_of::<Node<P>>() + n.state.heap_bytes() + n.held.len() * size_of::<Event<P>>())
                .sum::<usize>()
            + self.clients.approx_bytes()
            + self.invariants.iter().map(|i| i.heap_bytes()).sum::<usize>()
            + self.payload_bytes()
    }
    /// The heap bytes of the messages in flight and in the trace window,
    /// a payload shared by several copies counted once.
    fn payload_bytes(&self) -> usize {
        let mut seen = std::collections::BTreeSet::new();
        let sent = self.trace.window().filter_map(|e| match e {
            TraceEvent::Sent { msg, .. } => Some(msg),
            _ => None,
        });
        self.in_flight()
            .map(|m| m.msg)
            .chain(sent)
            .filter(|m| {
                let id = P::msg_payload(m);
                id == 0 || seen.insert(id)
            })
            .map(|m| P::msg_heap_bytes(m))
            .sum()
    }
    /// Time of the next queued event, if any.
    pub fn next_event_time(&self) -> Option<Time> {
        self.queue.next_time()
    }
    /// Messages on the wire.
    pub fn in_flight(&self) -> impl Iterator<Item = InFlight<'_, P::Msg>> {
        self.queue.events().filter_map(|(at, ev)| match ev {
            Event::Deliver { id, from, to, sent, msg } => {
                Some(InFlight { id: *id, from: *from, to: *to, sent_at: *sent, deliver_at: at, msg })
            }
            _ => None,
        })
    }

    fn schedule(&mut self, at: Time, ev: Event<P>) {
        self.queue.schedule(at, ev);
    }

    fn schedule_client_arrival(&mut self) {
        if let Some(gap) = self.clients.next_gap() {
            self.schedule(self.now + gap, Event::ClientArrival);
        }
    }

    fn client_step(&mut self, step: client::ClientStep) {
        if let client::ClientStep::Send { node, req, attempt, after, fresh } = step {
            self.schedule(self.now + after, Event::Request { node, req, attempt });
            if fresh {
                self.schedule(self.now + self.clients.config.timeout, Event::ClientTimeout { req, attempt });
            }
        }
    }

    /// Processes every event due at the next instant (all events sharing
    /// the earliest time). Returns false if nothing is queued or the run
    /// stopped on a violation.
    pub fn step_instant(&mut self) -> bool {
        match self.next_event_time() {
            Some(t) if self.violation.is_none() => {
                while self.next_event_time() == Some(t) && self.violation.is_none() {
                    self.step();
                }
                true
            }
            _ => false,
        }
    }

    /// Processes one event. Returns false if nothing is queued or the run
    /// stopped on a violation.
    pub fn step(&mut self) -> bool {
        if self.violation.is_some() {
            return false;
        }
        let Some(Due { at, item }) = self.queue.pop() else { return false };
        let ev = item.into_inner();
        self.now = at;
        self.fresh.clear();
        self.counters.events += 1;
        self.process(ev);
        self.finish_step();
        true
    }

    /// Runs every event due at or before `t`, then sets the clock to `t`.
    /// Stops early on a violation.
    pub fn run_until(&mut self, t: Time) {
        while let Some(next) = self.next_event_time() {
            if next > t || !self.step() {
                break;
            }
        }
        if self.violation.is_none() {
            self.now = self.now.max(t);
        }
    }

    fn process(&mut self, ev: Event<P>) {
        match ev {
            Event::Deliver { id, from, to, sent, msg } => {
                let node = &mut self.nodes[to as usize];
                let kind = msg.kind();
                match node.status {
                    NodeStatus::Paused => node.held.push(Event::Deliver { id, from, to, sent, msg }),
                    NodeStatus::Crashed => self.drop_msg(id, from, to, kind, DropReason::NodeDown, sent),
                    NodeStatus::Up if self.net.is_cut(from, to) => {
                        self.drop_msg(id, from, to, kind, DropReason::Partition, sent)
                    }
                    NodeStatus::Up => {
                        self.counters.delivered += 1;
                        self.fresh.push(TraceEvent::Delivered { at: self.now, id, from, to, kind, sent });
                        self.with_node(to, |n, ctx| n.on_message(from, msg, ctx));
                    }
                }
            }
            Event::Timer { node, timer, gen } => {
                let slot = &mut self.nodes[node as usize];
                if slot.timers.get(&timer).map(|t| t.0) != Some(gen) {
                    return; // re-armed, cancelled, or lost in a crash
                }
                if slot.status == NodeStatus::Paused {
                    slot.held.push(Event::Timer { node, timer, gen });
                    return;
                }
                slot.timers.remove(&timer);
                self.fresh.push(TraceEvent::TimerFired { at: self.now, node, timer: timer.clone() });
                self.with_node(node, |n, ctx| n.on_timer(timer, ctx));
            }
            Event::ClientArrival => {
                if self.clients.admit() {
                    let (_, step) = self.clients.invoke_next(self.now);
                    self.counters.requests += 1;
                    self.client_step(step);
                }
                self.schedule_client_arrival();
            }
            Event::Request { node, req, attempt } => {
                if !self.clients.is_live(req, attempt) {
                    return; // answered meanwhile, or a newer attempt is live
                }
                let slot = &mut self.nodes[node as usize];
                match slot.status {
                    NodeStatus::Paused => slot.held.push(Event::Request { node, req, attempt }),
                    NodeStatus::Crashed => {} // lost; the client times out
                    NodeStatus::Up => {
                        self.fresh.push(TraceEvent::Request { at: self.now, node, req });
                        match self.clients.command(req) {
                            Some(cmd) => self.with_node(node, |n, ctx| n.on_command(req, cmd, ctx)),
                            None => self.with_node(node, |n, ctx| n.on_request(req, ctx)),
                        }
                    }
                }
            }
            Event::ClientTimeout { req, attempt } => {
                let step = self.clients.timed_out(self.now, req, attempt);
                self.client_step(step);
            }
        }
    }

    fn drop_msg(&mut self, id: u64, from: NodeId, to: NodeId, kind: &'static str, reason: DropReason, sent: Time) {
        self.counters.dropped += 1;
        self.fresh.push(TraceEvent::Dropped { at: self.now, id, from, to, kind, reason, sent });
    }

    /// A client request to node `node` now (the UI's "send a request").
    /// Returns the request's id.
    pub fn client_request(&mut self, node: NodeId) -> Option<RequestId> {
        if node >= self.config.nodes || self.violation.is_some() {
            return None;
        }
        self.fresh.clear();
        let req = self.submit(node);
        self.finish_step();
        Some(req)
    }

    fn submit(&mut self, node: NodeId) -> RequestId {
        let (req, step) = self.clients.invoke(self.now, node);
        self.counters.requests += 1;
        self.client_step(step);
        req
    }

    /// Forces node `node`'s main timeout now (a leader election or a new round).
    pub fn force_timeout(&mut self, node: NodeId) {
        if node >= self.config.nodes || self.violation.is_some() {
            return;
        }
        if self.nodes[node as usize].status == NodeStatus::Up {
            self.fresh.clear();
            self.with_node(node, |n, ctx| n.on_force_timeout(ctx));
            self.finish_step();
        }
    }

    /// Runs an operator's command on node `node` now (a membership
    /// change asked of a leader), if it is up. Returns whether it ran.
    pub fn call(&mut self, node: NodeId, f: impl FnOnce(&mut P, &mut Ctx<P>)) -> bool {
        if node >= self.config.nodes || self.violation.is_some() || self.nodes[node as usize].status != NodeStatus::Up {
            return false;
        }
        self.fresh.clear();
        self.with_node(node, f);
        self.finish_step();
        true
    }

    /// Applies a fault now. Out-of-range nodes are ignored (the scenario
    /// layer validates them and reports a clear error first).
    pub fn inject(&mut self, fault: Fault) {
        if self.violation.is_some() {
            return;
        }
        self.fresh.clear();
        let n = self.config.nodes;
        let ok = |id: NodeId| id < n;
        let applied = match &fault {
            Fault::Crash(id) if ok(*id) && self.nodes[*id as usize].status != NodeStatus::Crashed => {
                let node = &mut self.nodes[*id as usize];
                let durable = node.state.durable();
                node.state = P::recover(*id, n, &self.proto, durable);
                node.status = NodeStatus::Crashed;
                node.timers.clear();
                node.held.clear();
                true
            }
            Fault::Restart(id) if ok(*id) && self.nodes[*id as usize].status == NodeStatus::Crashed => {
                self.nodes[*id as usize].status = NodeStatus::Up;
                self.fresh.push(TraceEvent::Fault { at: self.now, fault: fault.clone() });
                self.with_node(*id, |node, ctx| node.on_start(ctx));
                self.finish_step();
                return;
            }
            Fault::Pause(id) if ok(*id) && self.nodes[*id as usize].status == NodeStatus::Up => {
                self.nodes[*id as usize].status = NodeStatus::Paused;
                true
            }
            Fault::Resume(id) if ok(*id) && self.nodes[*id as usize].status == NodeStatus::Paused => {
                let node = &mut self.nodes[*id as usize];
                node.status = NodeStatus::Up;
                let held = std::mem::take(&mut node.held);
                for ev in held {
                    self.schedule(self.now, ev);
                }
                true
            }
            Fault::Partition(groups) => {
                self.net.partition(groups);
                true
            }
            Fault::Block(a, b) if ok(*a) && ok(*b) => {
                self.net.block(*a, *b);
                true
            }
            Fault::Heal => {
                self.net.heal();
                true
            }
            Fault::Set(name, v) => self.set(name, *v),
            _ => false,
        };
        if applied {
            self.fresh.push(TraceEvent::Fault { at: self.now, fault });
        }
        self.finish_step();
    }

    /// Changes a network or workload setting mid-run. Returns false for an
    /// unknown name.
    fn set(&mut self, name: &str, v: i64) -> bool {
        let v = v.max(0) as u64;
        let ppm = v.min(1_000_000) as u32;
        let net = &mut self.net.config;
        match name {
            "latency_min" => net.latency_min = v,
            "latency_max" => net.latency_max = v,
            "tail" => net.tail_ppm = ppm,
            "tail_max" => net.tail_max = v,
            "loss" => net.loss_ppm = ppm,
            "duplicate" => net.dup_ppm = ppm,
            "reorder" => net.reorder = v != 0,
            "request_rate" => {
                let was = self.clients.config.rate_per_sec;
                self.clients.config.rate_per_sec = v;
                self.config.client.rate_per_sec = v;
                if was == 0 {
                    self.schedule_client_arrival();
                }
            }
            _ => return false,
        }
        true
    }

    /// Runs a handler of node `id` and applies its effects.
    fn with_node(&mut self, id: NodeId, f: impl FnOnce(&mut P, &mut Ctx<P>)) {
        let mut effects = std::mem::take(&mut self.effects);
        {
            let node = &mut self.nodes[id as usize];
            let clock = local_clock(self.now, node.drift_ppm);
            let mut ctx =
                Ctx { id, nodes: self.config.nodes, now: self.now, clock, rng: &mut node.rng, effects: &mut effects };
            f(&mut node.state, &mut ctx);
        }
        for eff in effects.drain(..) {
            self.apply(id, eff);
        }
        self.effects = effects;
    }

    /// Applies one effect a handler of node `id` pushed; one function per
    /// kind of effect.
    fn apply(&mut self, id: NodeId, eff: Effect<P>) {
        match eff {
            Effect::Send { to, msg } => self.send(id, to, msg),
            Effect::SetTimer { timer, after } => self.set_timer(id, timer, after),
            Effect::CancelTimer { timer } => {
                self.nodes[id as usize].timers.remove(&timer);
            }
            Effect::Reply { req, reply } => self.reply(id, req, reply),
            Effect::Note(note) => self.fresh.push(TraceEvent::Note { at: self.now, node: id, note }),
        }
    }

    /// Sends `msg` from `from` to `to` through the network: it is lost, cut
    /// by a partition, or scheduled for delivery (perhaps twice).
    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        if to >= self.config.nodes || to == from {
            return;
        }
        let mid = self.next_msg;
        self.next_msg += 1;
        self.counters.sent += 1;
        match self.net.send(self.now, from, to) {
            Fate::Lost => {
                self.record_sent(mid, from, to, &msg, self.now, false);
                self.drop_msg(mid, from, to, msg.kind(), DropReason::Loss, self.now);
            }
            Fate::Cut => {
                self.record_sent(mid, from, to, &msg, self.now, false);
                self.drop_msg(mid, from, to, msg.kind(), DropReason::Partition, self.now);
            }
            Fate::Arrives(d, dup) => self.deliver_later(mid, from, to, msg, d, dup),
        }
    }

    /// Schedules message `mid` to arrive after `d`, and a duplicate copy
    /// after `dup` if the network made one.
    fn deliver_later(&mut self, mid: u64, from: NodeId, to: NodeId, msg: P::Msg, d: Time, dup: Option<Time>) {
        let at = self.now + d;
        self.record_sent(mid, from, to, &msg, at, false);
        if let Some(d2) = dup {
            let copy = self.next_msg;
            self.next_msg += 1;
            let at2 = self.now + d2;
            self.record_sent(copy, from, to, &msg, at2, true);
            self.schedule(at2, Event::Deliver { id: copy, from, to, sent: self.now, msg: msg.clone() });
        }
        self.schedule(at, Event::Deliver { id: mid, from, to, sent: self.now, msg });
    }

    /// Records in the trace that message `id` left `from` for `to`.
    fn record_sent(&mut self, id: u64, from: NodeId, to: NodeId, msg: &P::Msg, deliver_at: Time, copy: bool) {
        self.fresh.push(TraceEvent::Sent { at: self.now, id, from, to, msg: msg.clone(), deliver_at, copy });
    }

    /// Arms `timer` of node `id` to fire after `after` of the node's own
    /// clock (scaled by its drift), late by the node's timer jitter (every
    /// timer a node arms: noise does not choose which deadline it delays).
    fn set_timer(&mut self, id: NodeId, timer: P::Timer, after: Time) {
        let node = &mut self.nodes[id as usize];
        let scaled = (i128::from(after) * (1_000_000 + i128::from(node.drift_ppm)) / 1_000_000).max(0) as Time;
        let at = self.now + scaled + node.jitter.next_delay();
        self.next_timer_gen += 1;
        let gen = self.next_timer_gen;
        self.nodes[id as usize].timers.insert(timer.clone(), (gen, self.now, at));
        self.schedule(at, Event::Timer { node: id, timer, gen });
    }

    /// Records node `id`'s answer to request `req` and lets the client react.
    fn reply(&mut self, id: NodeId, req: RequestId, reply: Reply) {
        self.fresh.push(TraceEvent::Replied { at: self.now, node: id, req, reply });
        if reply.is_done() && self.clients.is_pending(req) {
            self.counters.committed += 1;
        }
        let step = self.clients.answered(self.now, id, req, reply);
        self.client_step(step);
    }

    /// Checks invariants against the fresh events and moves them to the trace.
    fn finish_step(&mut self) {
        if !self.invariants.is_empty() {
            let world = World { now: self.now, nodes: &self.nodes };
            for inv in &mut self.invariants {
                if let Err(message) = inv.check(&world, &self.fresh) {
                    self.violation = Some(Violation { invariant: inv.name(), at: self.now, message });
                    break;
                }
            }
        }
        for ev in &self.fresh {
            self.trace.push(ev.clone());
        }
    }
}

#[cfg(test)]
mod tests;
