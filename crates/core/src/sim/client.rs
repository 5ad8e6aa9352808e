//! Clients as a component: the workload a protocol lab plugs in.
//!
//! Requests arrive at a mean rate (uniform gaps with that mean, integers
//! only, so every platform draws the same). Each request goes to the node
//! the clients last believed could serve it. A node answers `Committed`, or
//! `NotLeader` with a hint: a known leader is tried at once; with none
//! known the client backs off exponentially with jitter (from
//! [`ClientConfig::backoff_min`] doubling to [`ClientConfig::backoff_max`]),
//! so an election is not drowned in retries. A request with no answer
//! within the timeout is sent to the next node; only the newest attempt of
//! a request is live, so timeouts and redirects never multiply into
//! parallel retry chains.
//!
//! **Key-value workload.** With [`ClientConfig::kv`] set, every request is
//! a command on a small key-value store that the servers replicate: a
//! read, a write of a value no other write uses, or a compare-and-set from
//! the value the clients last saw to a new one, on a key drawn uniformly
//! (from a stream of its own, so the arrivals are those of the plain
//! workload). Each command belongs to a client *process* (Jepsen's word)
//! with at most one command outstanding: a new command takes the lowest
//! idle process, or a new one; a process whose command was given up is
//! retired for good (its command may still take effect), and later
//! commands use new process numbers. Every finished command is kept, in
//! the order they ended, with what it answered ([`KvRecord`]), up to
//! [`KV_HISTORY`] of them: the history a linearizability checker reads,
//! one lane per process.
//!
//! Every request is an operation in a [`History`]: when it was invoked, when
//! it was answered and how, so checkers over histories (linearizability)
//! can be written once for every lab. Latencies go into an HDR histogram
//! (`hdrhistogram`), so percentiles cost the same whatever the run's length.

use super::protocol::{Answer, Command, KvOp, NodeId, Reply, RequestId};
use super::rng::{Rng, StreamKind};
use super::time::{Time, MS};
use hdrhistogram::Histogram;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// The key-value workload's mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvConfig {
    /// Keys, numbered from 0 (at least 1).
    pub keys: u32,
    /// Share of reads, in parts per million.
    pub read_ppm: u32,
    /// Share of compare-and-sets, in parts per million (the rest are
    /// writes).
    pub cas_ppm: u32,
    /// Reads go to a server drawn at random (the nearest one, say), not
    /// to the one the clients believe leads.
    pub reads_anywhere: bool,
    /// Writes go to a server drawn at random too (a store where any
    /// server coordinates any command).
    pub writes_anywhere: bool,
}

/// Client workload settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Mean requests per second of virtual time (0: none).
    pub rate_per_sec: u64,
    /// How long a client waits for an answer before trying another node.
    pub timeout: Time,
    /// Delay before a redirected request reaches the suggested leader.
    pub redirect_delay: Time,
    /// First back-off when no leader is known.
    pub backoff_min: Time,
    /// Longest back-off.
    pub backoff_max: Time,
    /// Attempts (one per timeout) before a client gives a request up.
    pub max_attempts: u32,
    /// Most requests outstanding at once: arrivals beyond it are given up at
    /// once, so memory stays bounded whatever the rate and timeout.
    pub max_outstanding: usize,
    /// The key-value workload, if requests are key-value commands (None:
    /// commands without content).
    pub kv: Option<KvConfig>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            rate_per_sec: 0,
            timeout: 500 * MS,
            redirect_delay: MS,
            backoff_min: 20 * MS,
            backoff_max: 1_000 * MS,
            max_attempts: 8,
            max_outstanding: 10_000,
            kv: None,
        }
    }
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The command was committed (applied) by `node`.
    Committed {
        /// The node that answered.
        node: NodeId,
    },
    /// The client gave up after [`ClientConfig::max_attempts`] timeouts;
    /// the command may or may not have been applied.
    GaveUp,
}

/// One client operation: invoked, and answered or not yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The request.
    pub req: RequestId,
    /// When the client invoked it.
    pub invoked: Time,
    /// When it was answered, and how.
    pub completed: Option<(Time, Outcome)>,
    /// Attempts made (first send, then one per timeout).
    pub attempts: u32,
}

/// What the simulator must do for the clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientStep {
    /// Deliver request `req` (attempt `attempt`) to `node` after `after`.
    Send {
        /// The node.
        node: NodeId,
        /// The request.
        req: RequestId,
        /// Its attempt number.
        attempt: u32,
        /// Delay from now.
        after: Time,
        /// A new attempt (its timeout starts now), not a redirect.
        fresh: bool,
    },
    /// Nothing to do.
    Idle,
}

#[derive(Clone, Debug)]
struct Pending {
    /// The key-value command and its process, if the workload has them.
    command: Option<Command>,
    invoked: Time,
    attempt: u32,
    /// The node this attempt waits on.
    waiting_on: NodeId,
    /// Back-offs in a row without a known leader.
    backoffs: u32,
    /// When a backed-off retry to `waiting_on` is due (0: none).
    retry_at: Time,
}

/// Whether a pending request is a key-value read.
fn is_read(p: &Pending) -> bool {
    p.command.is_some_and(|c| c.op == KvOp::Read)
}

/// The most finished operations kept (older ones are counted only).
pub const HISTORY: usize = 4_096;

/// The most key-value commands kept in the history (later ones are
/// counted only): the checker reads every one from the start.
pub const KV_HISTORY: usize = 100_000;

/// One key-value command: its request, process, when it was invoked, and
/// when it ended with what answer (`None`: given up, or not answered yet;
/// it may have taken effect).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KvRecord {
    /// The request.
    pub req: RequestId,
    /// The command (its process, key and operation).
    pub command: Command,
    /// When it was invoked.
    pub invoked: Time,
    /// When it was answered and what it answered.
    pub done: Option<(Time, Answer)>,
}

/// The key-value history: shared chunks of 256, so copying the clients
/// (for the worker's snapshots) copies one chunk at most.
#[derive(Clone, Debug, Default)]
struct KvLog {
    sealed: Vec<Arc<Vec<KvRecord>>>,
    open: Vec<KvRecord>,
    /// Commands not kept (past [`KV_HISTORY`]).
    dropped: u64,
}

impl KvLog {
    const CHUNK: usize = 256;

    fn len(&self) -> usize {
        self.sealed.len() * Self::CHUNK + self.open.len()
    }

    fn push(&mut self, r: KvRecord) {
        if self.len() >= KV_HISTORY {
            self.dropped += 1;
            return;
        }
        self.open.push(r);
        if self.open.len() == Self::CHUNK {
            self.sealed.push(Arc::new(std::mem::take(&mut self.open)));
        }
    }

    fn iter(&self) -> impl Iterator<Item = &KvRecord> {
        self.since(0)
    }

    /// The records from the `n`-th on.
    fn since(&self, n: usize) -> impl Iterator<Item = &KvRecord> {
        let (chunk, skip) = (n / Self::CHUNK, n % Self::CHUNK);
        self.sealed.iter().skip(chunk).flat_map(|c| c.iter()).chain(self.open.iter()).skip(skip)
    }
}

/// Client processes: each has at most one command outstanding.
#[derive(Clone, Debug, Default)]
struct Processes {
    idle: BTreeSet<u64>,
    next: u64,
}

impl Processes {
    /// The lowest idle process, or a new one.
    fn take(&mut self) -> u64 {
        if let Some(p) = self.idle.pop_first() {
            return p;
        }
        self.next += 1;
        self.next
    }
}

/// A bounded history of operations: the outstanding ones and the most
/// recent finished ones.
#[derive(Clone, Debug, Default)]
pub struct History {
    done: VecDeque<Operation>,
}

impl History {
    /// Finished operations, oldest first.
    pub fn finished(&self) -> impl DoubleEndedIterator<Item = &Operation> {
        self.done.iter()
    }
}

/// The clients of one cluster.
#[derive(Clone, Debug)]
pub struct Clients {
    /// Settings (the rate changes live).
    pub config: ClientConfig,
    nodes: u32,
    rng: Rng,
    target: NodeId,
    read_target: NodeId,
    next_req: RequestId,
    pending: BTreeMap<RequestId, Pending>,
    history: History,
    latency: Histogram<u64>,
    /// Requests invoked.
    pub requests: u64,
    /// Requests answered as committed.
    pub committed: u64,
    /// Requests given up after the last attempt timed out, or at once
    /// because [`ClientConfig::max_outstanding`] were outstanding.
    pub gave_up: u64,
    /// Arrivals given up at once because too many were outstanding.
    pub shed: u64,
    kv_rng: Rng,
    processes: Processes,
    /// The value the clients last saw of each key (for compare-and-set).
    seen: Vec<Option<i64>>,
    kv: KvLog,
}

impl Clients {
    /// Clients of a cluster of `nodes`, drawing from `rng`.
    pub fn new(config: ClientConfig, nodes: u32, rng: Rng) -> Clients {
        let kv_seed = rng.clone().next_u64();
        Clients {
            config,
            nodes: nodes.max(1),
            rng,
            target: 0,
            read_target: 0,
            next_req: 1,
            pending: BTreeMap::new(),
            history: History::default(),
            // Three significant digits, growing as needed: exact enough for
            // percentiles, a few kilobytes whatever the run's length.
            latency: Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are valid")),
            requests: 0,
            committed: 0,
            gave_up: 0,
            shed: 0,
            // A stream of its own, seeded from a copy of the arrivals'
            // stream, so choosing commands moves no arrival.
            kv_rng: Rng::stream(kv_seed, StreamKind::Workload, 1),
            processes: Processes::default(),
            seen: Vec::new(),
            kv: KvLog::default(),
        }
    }

    /// The gap to the next arrival, if requests arrive at all.
    pub fn next_gap(&mut self) -> Option<Time> {
        let rate = self.config.rate_per_sec;
        if rate == 0 {
            return None;
        }
        let mean = (super::time::SEC / rate).max(1);
        Some(self.rng.range(1, 2 * mean))
    }

    /// The node the clients send new requests to.
    pub fn target(&self) -> NodeId {
        self.target
    }

    /// Where the clients send requests of a kind: key-value reads have a
    /// target of their own (a client's read connection), so a server that
    /// answers reads but cannot commit writes keeps getting reads.
    fn target_of(&mut self, read: bool) -> &mut NodeId {
        if read {
            &mut self.read_target
        } else {
            &mut self.target
        }
    }

    /// Invokes a new request of the workload now, to the node the clients
    /// believe serves it.
    pub fn invoke_next(&mut self, now: Time) -> (RequestId, ClientStep) {
        self.invoke_at(now, None)
    }

    /// Invokes a new request to `node` now (with the key-value workload,
    /// a new command, which a read sent anywhere takes to a random node).
    pub fn invoke(&mut self, now: Time, node: NodeId) -> (RequestId, ClientStep) {
        self.invoke_at(now, Some(node))
    }

    fn invoke_at(&mut self, now: Time, node: Option<NodeId>) -> (RequestId, ClientStep) {
        let req = self.next_req;
        self.next_req += 1;
        self.requests += 1;
        let command = self.config.kv.map(|kv| self.draw_command(req, kv));
        let read = command.is_some_and(|c| c.op == KvOp::Read);
        let anywhere = self.config.kv.is_some_and(|kv| if read { kv.reads_anywhere } else { kv.writes_anywhere });
        let node = match node {
            Some(n) => n % self.nodes,
            None if anywhere => self.kv_rng.range(0, u64::from(self.nodes) - 1) as NodeId,
            None => *self.target_of(read) % self.nodes,
        };
        let p = Pending { command, invoked: now, attempt: 1, waiting_on: node, backoffs: 0, retry_at: 0 };
        self.pending.insert(req, p);
        (req, ClientStep::Send { node, req, attempt: 1, after: 0, fresh: true })
    }

    /// A new key-value command for request `req`: its process, a key
    /// drawn uniformly, and a read, a write of the request's own number,
    /// or a compare-and-set from the key's last value seen to that number.
    fn draw_command(&mut self, req: RequestId, kv: KvConfig) -> Command {
        let keys = kv.keys.max(1);
        let key = self.kv_rng.range(0, u64::from(keys) - 1) as u32;
        let roll = self.kv_rng.range(0, 999_999) as u32;
        if self.seen.len() < keys as usize {
            self.seen.resize(keys as usize, None);
        }
        let value = req as i64;
        let op = if roll < kv.read_ppm {
            KvOp::Read
        } else if roll < kv.read_ppm.saturating_add(kv.cas_ppm) {
            KvOp::Cas(self.seen[key as usize], value)
        } else {
            KvOp::Write(value)
        };
        Command { process: self.processes.take(), key, op }
    }

    /// The key-value command of request `req`, if it is outstanding and
    /// has one.
    pub fn command(&self, req: RequestId) -> Option<Command> {
        self.pending.get(&req).and_then(|p| p.command)
    }

    /// Whether `req` awaits an answer.
    pub fn is_pending(&self, req: RequestId) -> bool {
        self.pending.contains_key(&req)
    }

    /// Whether attempt `attempt` of `req` is the live one.
    pub fn is_live(&self, req: RequestId, attempt: u32) -> bool {
        self.pending.get(&req).is_some_and(|p| p.attempt == attempt)
    }

    /// The timeout of attempt `attempt` of `req` fired at `now`: try the
    /// next node, or give up after the last attempt (so a cluster without
    /// a leader carries a bounded number of outstanding requests).
    pub fn timed_out(&mut self, now: Time, req: RequestId, attempt: u32) -> ClientStep {
        let nodes = self.nodes;
        let Some(p) = self.pending.get_mut(&req).filter(|p| p.attempt == attempt) else { return ClientStep::Idle };
        if p.attempt >= self.config.max_attempts.max(1) {
            let (invoked, command) = (p.invoked, p.command);
            self.pending.remove(&req);
            self.gave_up += 1;
            if let Some(command) = command {
                // The process is retired: its command may still take
                // effect, so it must not start another.
                self.kv.push(KvRecord { req, command, invoked, done: None });
            }
            self.record(Operation { req, invoked, completed: Some((now, Outcome::GaveUp)), attempts: attempt });
            return ClientStep::Idle;
        }
        // The next node after the one this attempt waited on (not after
        // the shared target, which other requests' redirects move: a
        // request could otherwise land on the same dead node every time).
        // A backed-off retry still on its way would die with this attempt:
        // send the new attempt there instead of moving on (otherwise, with
        // back-offs longer than the timeout, a client bounced between a
        // node that knows no leader and the next one never reaches it).
        let next = if p.retry_at <= now { (p.waiting_on + 1) % nodes } else { p.waiting_on };
        p.retry_at = 0;
        p.attempt += 1;
        p.waiting_on = next;
        let attempt = p.attempt;
        let read = is_read(p);
        *self.target_of(read) = next;
        ClientStep::Send { node: next, req, attempt, after: 0, fresh: true }
    }

    /// Node `from` answered `req` at `now`.
    pub fn answered(&mut self, now: Time, from: NodeId, req: RequestId, reply: Reply) -> ClientStep {
        match reply {
            Reply::Committed | Reply::Answer(_) => {
                if let Some(p) = self.pending.remove(&req) {
                    self.committed += 1;
                    let _ = self.latency.record(now.saturating_sub(p.invoked));
                    if let Some(command) = p.command {
                        self.finish_command(req, command, p.invoked, now, reply);
                    }
                    self.record(Operation {
                        req,
                        invoked: p.invoked,
                        completed: Some((now, Outcome::Committed { node: from })),
                        attempts: p.attempt,
                    });
                }
                ClientStep::Idle
            }
            Reply::NotLeader(hint) => {
                let nodes = self.nodes;
                // Only the node the live attempt waits on may redirect it.
                let Some(p) = self.pending.get_mut(&req).filter(|p| p.waiting_on == from) else {
                    return ClientStep::Idle;
                };
                let (node, after) = match hint {
                    Some(h) if h < nodes && h != from => {
                        p.backoffs = 0;
                        (h, self.config.redirect_delay)
                    }
                    _ => {
                        // No leader known: exponential back-off with jitter
                        // (a uniform draw in the upper half of the window).
                        let cap = self.config.backoff_max.max(1);
                        let window = self.config.backoff_min.max(1).saturating_mul(1 << p.backoffs.min(20)).min(cap);
                        p.backoffs += 1;
                        ((from + 1) % nodes, self.rng.range(window / 2, window.max(1)))
                    }
                };
                p.waiting_on = node;
                p.retry_at = now + after;
                let (read, attempt) = (is_read(p), p.attempt);
                *self.target_of(read) = node;
                ClientStep::Send { node, req, attempt, after, fresh: false }
            }
        }
    }

    /// Records a key-value command answered at `now` and frees its
    /// process. A plain `Committed` (a protocol without a store) answers
    /// nothing about the value.
    fn finish_command(&mut self, req: RequestId, command: Command, invoked: Time, now: Time, reply: Reply) {
        self.processes.idle.insert(command.process);
        if let Reply::Answer(a) = reply {
            if let Some(seen) = self.seen.get_mut(a.key as usize) {
                *seen = a.value;
            }
            self.kv.push(KvRecord { req, command, invoked, done: Some((now, a)) });
        }
    }

    /// The key-value commands, finished ones (answered or given up) in
    /// order of their end, from the start of the run (up to
    /// [`KV_HISTORY`]).
    pub fn kv_history(&self) -> impl Iterator<Item = &KvRecord> {
        self.kv.iter()
    }

    /// The finished key-value commands from the `n`-th on.
    pub fn kv_since(&self, n: usize) -> impl Iterator<Item = &KvRecord> {
        self.kv.since(n)
    }

    /// How many finished key-value commands [`Clients::kv_history`] holds.
    pub fn kv_finished(&self) -> usize {
        self.kv.len()
    }

    /// Finished key-value commands not kept (past [`KV_HISTORY`]).
    pub fn kv_dropped(&self) -> u64 {
        self.kv.dropped
    }

    /// The key-value commands still outstanding: request, command, when
    /// invoked.
    pub fn kv_outstanding(&self) -> impl Iterator<Item = (RequestId, Command, Time)> + '_ {
        self.pending.iter().filter_map(|(r, p)| p.command.map(|c| (*r, c, p.invoked)))
    }

    fn record(&mut self, op: Operation) {
        if self.history.done.len() == HISTORY {
            self.history.done.pop_front();
        }
        self.history.done.push_back(op);
    }

    /// Whether a new arrival may be sent: fewer than
    /// [`ClientConfig::max_outstanding`] are outstanding. If not, it is
    /// counted as given up (and shed).
    pub fn admit(&mut self) -> bool {
        if self.pending.len() < self.config.max_outstanding.max(1) {
            return true;
        }
        self.shed += 1;
        self.gave_up += 1;
        false
    }

    /// Requests not answered yet.
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// About how many bytes the clients hold (outstanding requests, the
    /// history window, the latency histogram).
    pub fn approx_bytes(&self) -> usize {
        self.pending.len() * (std::mem::size_of::<Pending>() + 48)
            + self.kv.open.len() * std::mem::size_of::<KvRecord>()
            + self.history.done.len() * std::mem::size_of::<Operation>()
            + self.latency.distinct_values() * 8
    }

    /// The operation history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The `q`-quantile (0..=1) of commit latency, if anything committed.
    pub fn latency_quantile(&self, q: f64) -> Option<Time> {
        (!self.latency.is_empty()).then(|| self.latency.value_at_quantile(q))
    }
}
