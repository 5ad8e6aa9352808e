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
//! Every request is an operation in a [`History`]: when it was invoked, when
//! it was answered and how, so checkers over histories (linearizability)
//! can be written once for every lab. Latencies go into an HDR histogram
//! (`hdrhistogram`), so percentiles cost the same whatever the run's length.

use super::protocol::{NodeId, Reply, RequestId};
use super::rng::Rng;
use super::time::{Time, MS};
use hdrhistogram::Histogram;
use std::collections::{BTreeMap, VecDeque};

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
    invoked: Time,
    attempt: u32,
    /// The node this attempt waits on.
    waiting_on: NodeId,
    /// Back-offs in a row without a known leader.
    backoffs: u32,
    /// When a backed-off retry to `waiting_on` is due (0: none).
    retry_at: Time,
}

/// The most finished operations kept (older ones are counted only).
pub const HISTORY: usize = 4_096;

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
}

impl Clients {
    /// Clients of a cluster of `nodes`, drawing from `rng`.
    pub fn new(config: ClientConfig, nodes: u32, rng: Rng) -> Clients {
        Clients {
            config,
            nodes: nodes.max(1),
            rng,
            target: 0,
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

    /// Invokes a new request to `node` now.
    pub fn invoke(&mut self, now: Time, node: NodeId) -> (RequestId, ClientStep) {
        let req = self.next_req;
        self.next_req += 1;
        self.requests += 1;
        let node = node % self.nodes;
        self.pending.insert(req, Pending { invoked: now, attempt: 1, waiting_on: node, backoffs: 0, retry_at: 0 });
        (req, ClientStep::Send { node, req, attempt: 1, after: 0, fresh: true })
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
            let invoked = p.invoked;
            self.pending.remove(&req);
            self.gave_up += 1;
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
        if p.retry_at <= now {
            self.target = (p.waiting_on + 1) % nodes;
        } else {
            self.target = p.waiting_on;
        }
        p.retry_at = 0;
        p.attempt += 1;
        p.waiting_on = self.target;
        ClientStep::Send { node: self.target, req, attempt: p.attempt, after: 0, fresh: true }
    }

    /// Node `from` answered `req` at `now`.
    pub fn answered(&mut self, now: Time, from: NodeId, req: RequestId, reply: Reply) -> ClientStep {
        match reply {
            Reply::Committed => {
                if let Some(p) = self.pending.remove(&req) {
                    self.committed += 1;
                    let _ = self.latency.record(now.saturating_sub(p.invoked));
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
                self.target = node;
                ClientStep::Send { node, req, attempt: p.attempt, after, fresh: false }
            }
        }
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
