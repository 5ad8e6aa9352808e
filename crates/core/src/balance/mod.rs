//! # Load balancing
//!
//! A discrete-event model of clients, one load balancer and a set of
//! servers, to compare balancing policies on the same traffic:
//!
//! * **Clients** send requests in a Poisson stream at a rate; each request
//!   has a cost (constant, exponential, lognormal or Pareto) drawn from the
//!   workload's own random stream, so every policy sees the very same
//!   arrivals and costs for the same seed.
//! * **Servers** have a speed (a request takes cost / speed), a number of
//!   requests they work on at once (concurrency) and a queue; a request
//!   arriving at a full queue is rejected. A server can crash (it answers
//!   nothing), slow down (a gray failure) or fail a share of requests.
//! * **Balancers** (one or several, each seeing only its own connections)
//!   pick a server per attempt with a [`Policy`], wait up to a timeout, and
//!   retry failed, rejected or timed-out attempts (up to a number of
//!   retries, after an exponential back-off with jitter) while a retry
//!   budget allows: each request adds `budget` tokens (20% means one retry
//!   per five requests), each retry spends one, and a deposit expires
//!   after ten seconds, as in Finagle's retry budgets ([`budget`]).
//! * **Detection**: active health checks (two failed checks mark a server
//!   unhealthy, two passed ones healthy again) and passive outlier ejection
//!   as Envoy does it (`consecutive_5xx`, ejection time growing with each
//!   ejection, a cap on the share ejected). A balancer sends new requests
//!   only to servers it believes healthy and has not ejected.
//! * **Keys** for consistent hashing: a number of distinct keys with Zipf
//!   popularity; jump consistent hash, optionally with bounded loads.
//! * **Regions**: clients and servers on a map, balancers placed by k-means
//!   over the clients' positions (each client uses its group's balancer),
//!   latency growing with distance, and locality-aware routing that
//!   prefers near servers until they are overloaded.
//!
//! Every request ends exactly one way: completed, rejected, timed out or
//! failed ([`Totals`] add up). Times are integer microseconds; the maths
//! that draws costs uses `libm`, identical natively and in wasm.
//!
//! This module is the event loop: the model ([`Balance`]), its events and
//! what each does, requests and retries. The events wait in the
//! simulator's queue ([`crate::sim::queue::EventQueue`], the one
//! [`crate::sim::Sim`] runs on), ordered by `(time, sequence)` so that ties
//! break in the order events were scheduled; timeouts, set in order of
//! their due time while the timeout stays the same, wait in its in-order
//! lane as small `Deadline`s, where one answered long ago is skipped at
//! no cost. The rest lives
//! beside it: `config` (what defines a run), [`policy`] (which server gets
//! an attempt), `detection` (health checks and outlier ejection), `regions`
//! (the map) and `faults` (crashes, slow-downs, errors).

pub mod budget;
mod config;
mod detection;
pub mod experiments;
mod faults;
pub mod lab;
pub mod policy;
mod regions;

pub use config::{BalanceConfig, CostDist};
pub use detection::Balancer;
pub use policy::Policy;

use crate::sim::{Due, EventQueue, Fingerprint, Item, Rng, StreamKind, Time, SEC};
use hdrhistogram::Histogram;
use regions::Map;
use std::borrow::Cow;
use std::collections::VecDeque;

/// A server's state.
#[derive(Clone, Debug)]
pub struct Server {
    /// Speed in percent.
    pub speed: u32,
    /// Speed before a slow-down.
    pub base_speed: u32,
    /// Share of requests it fails, parts per million.
    pub error_ppm: u32,
    /// Crashed: it answers nothing.
    pub down: bool,
    /// Requests being worked on.
    pub active: u32,
    /// Requests waiting.
    pub queued: VecDeque<(u64, u32, Time)>,
    /// Time spent working (sum over concurrent slots), for utilisation.
    pub busy: Time,
    /// Attempts the balancers sent and have no answer for, in all.
    pub outstanding: u32,
    /// Requests it completed.
    pub served: u64,
    /// Bumped by each crash: work started before it never finishes.
    life: u32,
}

/// How requests ended so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Requests made.
    pub requests: u64,
    /// Completed successfully.
    pub completed: u64,
    /// Ended rejected (a full queue on the last attempt).
    pub rejected: u64,
    /// Ended timed out.
    pub timed_out: u64,
    /// Ended failed (a server error on the last attempt).
    pub failed: u64,
    /// Attempts sent, first ones included.
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Retries the budget refused.
    pub budget_refused: u64,
    /// Completed within the latency objective in force when they
    /// completed ([`BalanceConfig::slo`]): the goodput's numerator.
    pub within_slo: u64,
}

impl Totals {
    /// Requests not finished yet.
    pub fn open(&self) -> u64 {
        self.requests - self.completed - self.rejected - self.timed_out - self.failed
    }

    /// Requests that ended, one way or another.
    pub fn ended(&self) -> u64 {
        self.completed + self.rejected + self.timed_out + self.failed
    }

    /// Goodput: the share of ended requests that succeeded within the
    /// latency objective (NaN before any ended). A failed, rejected or
    /// timed-out request never counts, however fast it ended.
    pub fn goodput(&self) -> f64 {
        let ended = self.ended();
        if ended > 0 {
            self.within_slo as f64 / ended as f64
        } else {
            f64::NAN
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Error,
    Rejected,
}

#[derive(Clone, Debug)]
enum Event {
    Arrival,
    /// A balancer's health check of a server is due.
    Check {
        balancer: u32,
        server: u32,
    },
    /// Its result arrives.
    Checked {
        balancer: u32,
        server: u32,
        ok: bool,
    },
    /// An attempt reaches a server.
    AtServer {
        req: u64,
        attempt: u32,
        server: u32,
    },
    /// A server finishes a request.
    Done {
        server: u32,
        req: u64,
        attempt: u32,
        started: Time,
        life: u32,
    },
    /// An answer reaches the balancer.
    Answer {
        req: u64,
        attempt: u32,
        server: u32,
        outcome: Outcome,
        sent: Time,
    },
    /// The balancer stops waiting for an attempt.
    Timeout {
        req: u64,
        attempt: u32,
    },
    /// A retry is due.
    Retry {
        req: u64,
    },
}

/// A timeout as the queue's in-order lane holds it: half the size of an
/// [`Event`], and most are dropped unread (the attempt was answered). One
/// that cannot wait in the lane (the timeout was shortened meanwhile)
/// waits in the heap as an [`Event::Timeout`].
#[derive(Clone, Copy, Debug)]
struct Deadline {
    req: u64,
    attempt: u32,
}

impl From<Deadline> for Event {
    fn from(d: Deadline) -> Event {
        Event::Timeout { req: d.req, attempt: d.attempt }
    }
}

impl Request {
    /// Whether `attempt` is this request's current attempt and still open
    /// (sent, not yet answered or timed out).
    fn live(&self, attempt: u32) -> bool {
        self.attempt == attempt && self.at.is_some()
    }
}

#[derive(Clone, Debug)]
struct Request {
    arrived: Time,
    cost: Time,
    balancer: u32,
    key: u64,
    attempt: u32,
    /// The server the live attempt went to, and when.
    at: Option<(u32, Time)>,
}

/// A request or an answer on the wire, for drawing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flight {
    /// The balancer.
    pub balancer: u32,
    /// The server.
    pub server: u32,
    /// True for an answer (server to balancer).
    pub answer: bool,
    /// When it left.
    pub sent: Time,
    /// When it arrives.
    pub due: Time,
    /// Its outcome, for answers: 0 ok, 1 error, 2 rejected.
    pub outcome: u8,
}

/// The model.
#[derive(Clone)]
pub struct Balance {
    /// The configuration (rate, policy and retry settings change live).
    pub cfg: BalanceConfig,
    now: Time,
    /// Due events, on the simulator's queue. Timeouts go to its in-order
    /// lane as `Deadline`s: they are due in the order they were set
    /// while the timeout stays the same (the common case).
    queue: EventQueue<Event, Deadline>,
    servers: Vec<Server>,
    balancers: Vec<Balancer>,
    arrivals: Rng,
    costs: Rng,
    keys_rng: Rng,
    picks: Rng,
    retry_rng: Rng,
    next_req: u64,
    requests: Requests,
    /// Cumulative key popularity (Zipf), for drawing keys.
    key_cdf: Vec<f64>,
    /// The map, when there are regions.
    map: Option<Map>,
    /// Sum of one-way hop latencies of the attempts sent.
    hop_sum: u64,
    /// The retry budget's deposits of the last ten seconds.
    budget: budget::RetryBudget,
    totals: Totals,
    latency: Histogram<u64>,
    /// The latency of every request that ended without completing:
    /// rejected or failed when its client learned of it, timed out at its
    /// (last) timeout. With `latency`, every ended request once
    /// ([`Balance::latency_all`]); kept apart so that a completed request
    /// is recorded once, not twice, on the hot path.
    latency_failed: Histogram<u64>,
    /// Latencies of the current and the previous second of virtual time,
    /// for live percentiles at constant cost.
    window: (Histogram<u64>, Histogram<u64>, Time),
    /// Completed requests in the current and previous second.
    window_done: (u64, u64),
    events_done: u64,
    fingerprint: Fingerprint,
    /// The server of the last attempt sent, for tests that step one
    /// event at a time.
    last_pick: Option<u32>,
    log: VecDeque<String>,
    log_total: u64,
    arrival_scheduled: bool,
}

/// Lines of log kept.
const LOG_WINDOW: usize = 4096;

/// A histogram's recorded buckets in order of value: each bucket's highest
/// value (what `value_at_quantile` answers) and its count.
fn recorded(h: &Histogram<u64>) -> impl Iterator<Item = (u64, u64)> + '_ {
    h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value()))
}

fn hist() -> Histogram<u64> {
    // Three significant digits, growing as needed.
    Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are valid"))
}

fn uniform(rng: &mut Rng) -> f64 {
    // (0, 1]: 53 random bits, never 0, so logarithms stay finite.
    ((rng.next_u64() >> 11) as f64 + 1.0) / 9_007_199_254_740_992.0
}

/// `x.round() as Time`, the nearest whole microsecond with halves away
/// from zero (0 for a negative or NaN `x`, `Time::MAX` beyond it), without
/// the call to the C library's `round` that `f64::round` compiles to on
/// x86-64's baseline and in wasm32: two draws per request go through it.
/// Exact: for `1 <= x < 2^52` the whole part `t` is at least `x / 2`, so
/// `x - t` is computed without rounding (Sterbenz); below 1, `t` is 0; from
/// `2^52` on, `x` is whole.
///
/// Below `2^63` (every time a run reaches) it converts through `i64`, one
/// instruction each way on x86-64 where the unsigned conversions take a
/// compare and a fix-up; negative and NaN `x` give 0 there as they do as a
/// `u64`, so the result is the same bit for bit.
#[inline]
fn round_time(x: f64) -> Time {
    if x < 9_223_372_036_854_775_808.0 {
        // Negatives give 0; NaN (false above) takes the path below.
        let t = (x as i64).max(0);
        return (t + i64::from(x - t as f64 >= 0.5)) as Time;
    }
    let t = x as Time;
    t.saturating_add(Time::from(x - t as f64 >= 0.5))
}

impl Balance {
    /// A model at time 0.
    pub fn new(cfg: BalanceConfig) -> Balance {
        let seed = cfg.seed;
        let servers = (0..cfg.servers)
            .map(|i| {
                let speed = cfg.speeds.get(i as usize % cfg.speeds.len().max(1)).copied().unwrap_or(100).max(1);
                Server {
                    speed,
                    base_speed: speed,
                    error_ppm: 0,
                    down: false,
                    active: 0,
                    queued: VecDeque::new(),
                    busy: 0,
                    outstanding: 0,
                    served: 0,
                    life: 0,
                }
            })
            .collect();
        let n = cfg.servers as usize;
        let key_cdf = if cfg.keys > 0 {
            let s = f64::from(cfg.zipf_milli) / 1000.0;
            let mut acc = 0.0;
            (1..=cfg.keys)
                .map(|k| {
                    acc += 1.0 / libm::pow(f64::from(k), s);
                    acc
                })
                .collect()
        } else {
            Vec::new()
        };
        let map = (cfg.regions > 0).then(|| Map::new(&cfg));
        let mut b = Balance {
            balancers: (0..cfg.balancers.max(1)).map(|_| Balancer::new(n)).collect(),
            key_cdf,
            map,
            hop_sum: 0,
            arrivals: Rng::stream(seed, StreamKind::Workload, 0),
            costs: Rng::stream(seed, StreamKind::Workload, 1),
            keys_rng: Rng::stream(seed, StreamKind::Workload, 2),
            picks: Rng::stream(seed, StreamKind::Lab, 20),
            retry_rng: Rng::stream(seed, StreamKind::Lab, 21),
            cfg,
            now: 0,
            queue: EventQueue::new(),
            servers,
            next_req: 1,
            requests: Requests::default(),
            budget: budget::RetryBudget::new(),
            totals: Totals::default(),
            latency: hist(),
            latency_failed: hist(),
            window: (hist(), hist(), 0),
            window_done: (0, 0),
            events_done: 0,
            fingerprint: Fingerprint::default(),
            last_pick: None,
            log: VecDeque::new(),
            log_total: 0,
            arrival_scheduled: false,
        };
        b.schedule_arrival();
        if b.cfg.health_interval > 0 {
            for bal in 0..b.balancers.len() as u32 {
                for s in 0..b.cfg.servers {
                    // Checks spread over the interval, not all at once.
                    let first = b.picks.range(0, b.cfg.health_interval);
                    b.schedule(first, Event::Check { balancer: bal, server: s });
                }
            }
        }
        b
    }

    fn schedule(&mut self, at: Time, ev: Event) {
        self.queue.schedule(at, ev);
    }

    fn schedule_timeout(&mut self, at: Time, req: u64, attempt: u32) {
        self.queue.schedule_in_order(at, Deadline { req, attempt });
    }

    fn schedule_arrival(&mut self) {
        if self.cfg.rate == 0 {
            self.arrival_scheduled = false;
            return;
        }
        let rate = if self.cfg.bursty { 2 * self.cfg.rate } else { self.cfg.rate };
        let mean = SEC as f64 / rate as f64;
        let gap = round_time(-mean * libm::log(uniform(&mut self.arrivals))).max(1);
        let mut at = self.now + gap;
        if self.cfg.bursty && (at / SEC) % 2 == 1 {
            // Off for this second: the stream resumes when the next second
            // of bursts starts (memoryless, so the gap starts again there).
            at = (at / SEC + 1) * SEC + gap;
        }
        self.schedule(at, Event::Arrival);
        self.arrival_scheduled = true;
    }

    fn draw_cost(&mut self) -> Time {
        let mean = self.cfg.cost_mean as f64;
        let u = uniform(&mut self.costs);
        let v = match self.cfg.cost {
            CostDist::Constant => mean,
            CostDist::Exponential => -mean * libm::log(u),
            CostDist::Lognormal => {
                // σ = 1: mean = exp(μ + 1/2), so μ = ln(mean) - 1/2.
                let u2 = uniform(&mut self.costs);
                let z = libm::sqrt(-2.0 * libm::log(u)) * libm::cos(2.0 * std::f64::consts::PI * u2);
                libm::exp(libm::log(mean) - 0.5 + z)
            }
            CostDist::Pareto => {
                // α = 2: mean = α·xm/(α-1) = 2·xm.
                let xm = mean / 2.0;
                xm / libm::sqrt(u)
            }
        };
        round_time(v).max(1)
    }

    fn note(&mut self, line: String) {
        self.fingerprint.str(&line);
        if self.log.len() == LOG_WINDOW {
            self.log.pop_front();
        }
        self.log.push_back(line);
        self.log_total += 1;
    }

    /// The servers.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// How requests ended.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// When the next event is due.
    pub fn next_event(&self) -> Option<Time> {
        self.queue.next_time()
    }

    /// Events processed.
    pub fn events(&self) -> u64 {
        self.events_done
    }

    /// Fingerprint of everything so far.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint.value()
    }

    /// The server the last attempt was sent to (none before the first): a
    /// caller stepping one event at a time sees each pick.
    pub fn last_pick(&self) -> Option<u32> {
        self.last_pick
    }

    /// The latency of completed requests (arrival to answer, retries
    /// included), as a histogram.
    pub fn latency(&self) -> &Histogram<u64> {
        &self.latency
    }

    /// The latency of every request that ended, whichever way: a completed
    /// one at its answer, a rejected or failed one when its client learned
    /// of it, a timed-out one at its timeout (retries included). Failures
    /// are not left out, so a policy cannot look fast by failing.
    /// The completed requests' histogram itself while none has ended
    /// otherwise; else the two merged (bucket by bucket, so the same
    /// counts as recording each ended request in one histogram).
    pub fn latency_all(&self) -> Cow<'_, Histogram<u64>> {
        if self.latency_failed.is_empty() {
            return Cow::Borrowed(&self.latency);
        }
        let mut all = self.latency.clone();
        // Both grow as needed, so adding never runs out of range.
        let _ = all.add(&self.latency_failed);
        Cow::Owned(all)
    }

    /// The value at quantile `q` of [`Balance::latency_all`], as its
    /// `value_at_quantile` gives it, without merging the two histograms:
    /// the frame's metrics ask for it every frame. Both histograms have
    /// the same buckets, so their recorded buckets, walked together in
    /// order of value, are the merged histogram's; `None` when none ended.
    pub fn latency_all_at(&self, q: f64) -> Option<u64> {
        let q = q.min(1.0);
        let total = self.latency.len() + self.latency_failed.len();
        // hdrhistogram's rule: the first bucket whose running count
        // reaches ⌈q · total⌉ (at least 1).
        let target = ((q * total as f64).ceil() as u64).max(1);
        let (mut a, mut b) = (recorded(&self.latency).peekable(), recorded(&self.latency_failed).peekable());
        let mut seen = 0;
        loop {
            let (value, count) = match (a.peek().copied(), b.peek().copied()) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    a.next();
                    b.next();
                    (x.0, x.1 + y.1)
                }
                (Some(x), Some(y)) if x.0 < y.0 => a.next().unwrap_or(x),
                (_, Some(_)) => b.next().unwrap_or_default(),
                (Some(_), None) => a.next().unwrap_or_default(),
                (None, None) => return None,
            };
            seen += count;
            if seen >= target {
                return Some(if q == 0.0 { self.latency.lowest_equivalent(value) } else { value });
            }
        }
    }

    /// Latencies of requests completed in the last one to two seconds of
    /// virtual time, and how many completed per second there.
    pub fn recent(&self) -> (Histogram<u64>, f64) {
        let (cur, prev, start) = &self.window;
        let mut h = prev.clone();
        let _ = h.add(cur);
        let span =
            (self.now.saturating_sub(*start) + if self.window_done.1 > 0 || *start > 0 { SEC } else { 0 }).max(1);
        (h, (self.window_done.0 + self.window_done.1) as f64 / (span as f64 / 1e6))
    }

    fn roll_window(&mut self) {
        while self.now >= self.window.2 + SEC {
            let cur = std::mem::replace(&mut self.window.0, hist());
            self.window.1 = cur;
            self.window.2 += SEC;
            self.window_done = (0, self.window_done.0);
        }
    }

    /// The log window and how many lines were ever written.
    pub fn log(&self) -> (&VecDeque<String>, u64) {
        (&self.log, self.log_total)
    }

    /// Requests and answers on the wire.
    pub fn flights(&self) -> Vec<Flight> {
        let mut out = Vec::new();
        let balancer = |req: &u64| self.requests.get(req).map_or(0, |r| r.balancer);
        for (due, ev) in self.queue.events() {
            match ev {
                Event::AtServer { server, req, .. } => out.push(Flight {
                    balancer: balancer(req),
                    server: *server,
                    answer: false,
                    sent: due.saturating_sub(self.hop(balancer(req), *server)),
                    due,
                    outcome: 0,
                }),
                Event::Answer { server, outcome, sent, req, .. } => out.push(Flight {
                    balancer: balancer(req),
                    server: *server,
                    answer: true,
                    sent: *sent,
                    due,
                    outcome: match outcome {
                        Outcome::Ok => 0,
                        Outcome::Error => 1,
                        Outcome::Rejected => 2,
                    },
                }),
                _ => {}
            }
        }
        out
    }

    /// Processes one event. Returns false if nothing is queued.
    pub fn step(&mut self) -> bool {
        let Some(Due { at, item }) = self.queue.pop() else { return false };
        self.now = at;
        let event = match item {
            Item::Heap(event) => event,
            Item::InOrder(Deadline { req, attempt }) => {
                if !self.requests.get(&req).is_some_and(|r| r.live(attempt)) {
                    // The attempt was answered long ago: nothing happens,
                    // so nothing is counted (most timeouts end this way).
                    return true;
                }
                Event::Timeout { req, attempt }
            }
        };
        self.run_event(event);
        true
    }

    /// Counts, fingerprints and processes one event now. Inlined, with
    /// `send` and `process`, where a request's hops are sent with no
    /// latency (`dispatch`, `done`): the kind of event is known there, so
    /// the two matches on it fold away instead of two jump tables taken
    /// per event (`cachegrind --branch-sim=yes`: 4 times fewer mispredicted
    /// indirect branches in the load-balancing benchmark).
    #[inline(always)]
    fn run_event(&mut self, ev: Event) {
        let at = self.now;
        self.events_done += 1;
        let (code, a, b) = match &ev {
            Event::Arrival => (1, 0, 0),
            Event::Check { balancer, server } => (10, u64::from(*balancer), u64::from(*server)),
            Event::Checked { balancer, server, ok } => (11 + u64::from(*ok), u64::from(*balancer), u64::from(*server)),
            Event::AtServer { req, attempt, server } => (2, *req, u64::from(*attempt) << 32 | u64::from(*server)),
            Event::Done { server, req, attempt, .. } => (3, *req, u64::from(*attempt) << 32 | u64::from(*server)),
            Event::Answer { req, attempt, server, outcome, .. } => {
                (4 + *outcome as u64, *req, u64::from(*attempt) << 32 | u64::from(*server))
            }
            Event::Timeout { req, attempt } => (8, *req, u64::from(*attempt)),
            Event::Retry { req } => (9, *req, 0),
        };
        self.fingerprint.words(&[at, code, a, b]);
        self.process(ev);
    }

    /// Sends a message over the network: with no latency it arrives at once
    /// (an event processed now, without the queue).
    #[inline(always)]
    fn send(&mut self, ev: Event) {
        let delay = match &ev {
            Event::AtServer { req, server, .. } | Event::Answer { req, server, .. } => {
                self.hop(self.requests.get(req).map_or(0, |r| r.balancer), *server)
            }
            _ => self.cfg.latency,
        };
        if delay == 0 {
            self.run_event(ev);
        } else {
            self.schedule(self.now + delay, ev);
        }
    }

    /// Runs every event due at or before `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Time) {
        while self.next_event().is_some_and(|n| n <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Processes one event now: each kind is one step below.
    #[inline(always)]
    fn process(&mut self, ev: Event) {
        match ev {
            Event::Arrival => self.arrive(),
            Event::Check { balancer, server } => self.check(balancer, server),
            Event::Checked { balancer, server, ok } => self.checked(balancer, server, ok),
            Event::AtServer { req, attempt, server } => self.at_server(req, attempt, server),
            Event::Done { server, req, attempt, started, life } => self.done(server, req, attempt, started, life),
            Event::Answer { req, attempt, server, outcome, .. } => self.answer(req, attempt, server, outcome),
            Event::Timeout { req, attempt } => self.timed_out(req, attempt),
            Event::Retry { req } => {
                if self.requests.contains_key(&req) {
                    self.dispatch(req);
                }
            }
        }
    }

    /// A client's request arrives: it gets a cost, a balancer (its
    /// group's, on a map) and a key, adds to the retry budget, and its first
    /// attempt is sent; then the next arrival is drawn.
    fn arrive(&mut self) {
        if self.cfg.rate == 0 {
            // Arrivals were stopped after this one was drawn.
            self.arrival_scheduled = false;
            return;
        }
        let req = self.next_req;
        self.next_req += 1;
        let cost = self.draw_cost();
        let nb = self.balancers.len() as u64;
        let balancer = match &self.map {
            // A client joins the balancer of its k-means group.
            Some(map) => map.client_balancer(&mut self.keys_rng),
            None if nb > 1 => self.keys_rng.range(0, nb - 1) as u32,
            None => 0,
        };
        let key = self.draw_key(req);
        self.totals.requests += 1;
        self.budget.deposit(self.now, self.cfg.retry_budget_ppm);
        self.requests.insert(req, Request { arrived: self.now, cost, balancer, key, attempt: 0, at: None });
        self.dispatch(req);
        self.schedule_arrival();
    }

    /// An attempt reaches a server: it starts, waits in the queue, or is
    /// rejected when the queue is full. A crashed server loses it.
    fn at_server(&mut self, req: u64, attempt: u32, server: u32) {
        let Some(cost) = self.requests.get(&req).map(|r| r.cost) else {
            // The request ended meanwhile; the server never learns.
            return self.arrive_orphan(server, req, attempt);
        };
        let s = &mut self.servers[server as usize];
        if s.down {
            return; // lost; the balancer times out
        }
        if s.active < self.cfg.concurrency {
            self.start(server, req, attempt, cost);
        } else if (s.queued.len() as u32) < self.cfg.queue {
            s.queued.push_back((req, attempt, cost));
        } else {
            let sent = self.now;
            self.send(Event::Answer { req, attempt, server, outcome: Outcome::Rejected, sent });
        }
    }

    /// A server finishes an attempt (unless a crash lost it), fails it at
    /// its error rate, starts the next queued one, and answers.
    fn done(&mut self, server: u32, req: u64, attempt: u32, started: Time, life: u32) {
        let s = &mut self.servers[server as usize];
        if s.down || s.life != life {
            return; // the work was lost in a crash
        }
        s.active -= 1;
        s.busy += self.now - started;
        s.served += 1;
        let fail = s.error_ppm > 0 && self.picks.chance_ppm(s.error_ppm);
        let outcome = if fail { Outcome::Error } else { Outcome::Ok };
        if let Some((r, a, c)) = self.servers[server as usize].queued.pop_front() {
            self.start(server, r, a, c);
        }
        let sent = self.now;
        self.send(Event::Answer { req, attempt, server, outcome, sent });
    }

    /// An answer reaches the balancer: the attempt ends, the balancer
    /// learns from it (response time, failures in a row), and the request
    /// completes, or is retried or ends on an error or a rejection.
    fn answer(&mut self, req: u64, attempt: u32, server: u32, outcome: Outcome) {
        // Only the live attempt's answer counts; an older attempt
        // was released when it timed out.
        let Some((balancer, sent_at)) =
            self.requests.get(&req).filter(|r| r.live(attempt)).and_then(|r| r.at.map(|(_, t)| (r.balancer, t)))
        else {
            return;
        };
        // This attempt has ended; nothing else may end it again.
        if let Some(r) = self.requests.get_mut(&req) {
            r.at = None;
        }
        self.release(balancer, server);
        self.observe_ewma(balancer, server, self.now - sent_at.min(self.now));
        self.outlier(balancer, server, outcome == Outcome::Ok);
        match outcome {
            Outcome::Ok => {
                if let Some(r) = self.requests.remove(&req) {
                    let l = self.now - r.arrived;
                    let _ = self.latency.record(l);
                    if l <= self.cfg.slo {
                        self.totals.within_slo += 1;
                    }
                    self.roll_window();
                    let _ = self.window.0.record(l);
                    self.window_done.0 += 1;
                    self.totals.completed += 1;
                }
            }
            Outcome::Error => {
                self.note(format!(
                    "{} S{} failed #{req} (attempt {attempt})",
                    crate::sim::time::format_clock(self.now),
                    server + 1
                ));
                self.retry_or_end(req, End::Failed)
            }
            Outcome::Rejected => {
                self.note(format!(
                    "{} S{} rejected #{req}: queue full (attempt {attempt})",
                    crate::sim::time::format_clock(self.now),
                    server + 1
                ));
                self.retry_or_end(req, End::Rejected)
            }
        }
    }

    /// The balancer stops waiting for an attempt that is still open.
    fn timed_out(&mut self, req: u64, attempt: u32) {
        if let Some((balancer, (server, sent))) =
            self.requests.get(&req).filter(|r| r.live(attempt)).and_then(|r| r.at.map(|a| (r.balancer, a)))
        {
            self.release(balancer, server);
            // A timeout is a slow answer to peak EWMA, and a failure
            // to outlier detection (a locally originated 5xx).
            self.observe_ewma(balancer, server, self.now - sent);
            self.outlier(balancer, server, false);
            if let Some(r) = self.requests.get_mut(&req) {
                r.at = None;
            }
            self.note(format!(
                "{} #{req} timed out at S{} (attempt {attempt})",
                crate::sim::time::format_clock(self.now),
                server + 1
            ));
            self.retry_or_end(req, End::TimedOut);
        }
    }

    fn arrive_orphan(&mut self, server: u32, req: u64, attempt: u32) {
        // Work for a request that already ended still costs the server.
        let s = &mut self.servers[server as usize];
        if s.down {
            return;
        }
        let cost = self.cfg.cost_mean;
        if s.active < self.cfg.concurrency {
            self.start(server, req, attempt, cost);
        } else if (s.queued.len() as u32) < self.cfg.queue {
            s.queued.push_back((req, attempt, cost));
        }
    }

    fn start(&mut self, server: u32, req: u64, attempt: u32, cost: Time) {
        let s = &mut self.servers[server as usize];
        s.active += 1;
        let service = (cost.saturating_mul(100) / Time::from(s.speed.max(1))).max(1);
        let started = self.now;
        let life = s.life;
        self.schedule(self.now + service, Event::Done { server, req, attempt, started, life });
    }

    fn release(&mut self, balancer: u32, server: u32) {
        let s = &mut self.servers[server as usize];
        s.outstanding = s.outstanding.saturating_sub(1);
        let o = &mut self.balancers[balancer as usize].outstanding[server as usize];
        *o = o.saturating_sub(1);
    }

    /// Peak EWMA of response time, kept while the policy uses it (it costs
    /// an exponential per answer); switching to peak EWMA starts it afresh.
    fn observe_ewma(&mut self, balancer: u32, server: u32, rtt: Time) {
        if self.cfg.policy != Policy::PeakEwma {
            return;
        }
        let tau = self.cfg.ewma_tau.max(1) as f64;
        let b = &mut self.balancers[balancer as usize];
        let i = server as usize;
        let rtt = rtt as f64;
        if rtt > b.ewma[i] {
            b.ewma[i] = rtt; // peak-sensitive: jump up at once
        } else {
            let w = libm::exp(-((self.now - b.ewma_at[i].min(self.now)) as f64) / tau);
            b.ewma[i] = b.ewma[i] * w + rtt * (1.0 - w);
        }
        b.ewma_at[i] = self.now;
    }

    fn draw_key(&mut self, req: u64) -> u64 {
        if self.key_cdf.is_empty() {
            return req;
        }
        let total = self.key_cdf.last().copied().unwrap_or(1.0);
        let x = uniform(&mut self.keys_rng) * total;
        self.key_cdf.partition_point(|&c| c < x).min(self.key_cdf.len() - 1) as u64
    }

    /// The balancers.
    pub fn balancers(&self) -> &[Balancer] {
        &self.balancers
    }

    /// The balancer sends the next attempt of `req`.
    fn dispatch(&mut self, req: u64) {
        let Some((balancer, key)) = self.requests.get(&req).map(|r| (r.balancer, r.key)) else { return };
        let server = self.pick(balancer, key);
        self.last_pick = Some(server);
        let Some(r) = self.requests.get_mut(&req) else { return };
        r.attempt += 1;
        r.at = Some((server, self.now));
        let attempt = r.attempt;
        self.totals.attempts += 1;
        self.hop_sum += self.hop(balancer, server);
        self.servers[server as usize].outstanding += 1;
        self.balancers[balancer as usize].outstanding[server as usize] += 1;
        self.schedule_timeout(self.now + self.cfg.timeout, req, attempt);
        self.send(Event::AtServer { req, attempt, server });
    }

    fn retry_or_end(&mut self, req: u64, end: End) {
        let Some(r) = self.requests.get(&req) else { return };
        let retries_used = r.attempt.saturating_sub(1);
        if retries_used < self.cfg.retries {
            if self.budget.try_withdraw(self.now) {
                self.totals.retries += 1;
                // Exponential back-off with full jitter: uniform in
                // [0, backoff · 2^retries).
                let window = self.cfg.backoff.saturating_mul(1 << retries_used.min(16)).max(1);
                let wait = self.retry_rng.range(0, window - 1);
                self.schedule(self.now + wait, Event::Retry { req });
                self.note(format!(
                    "{} #{req} retries in {:.1} ms",
                    crate::sim::time::format_clock(self.now),
                    wait as f64 / 1e3
                ));
                return;
            }
            self.totals.budget_refused += 1;
            self.note(format!("{} #{req}: the retry budget is spent", crate::sim::time::format_clock(self.now)));
        }
        if let Some(r) = self.requests.remove(&req) {
            // Its client learns now: the answer arrived, or the last
            // attempt's timeout fired.
            let _ = self.latency_failed.record(self.now - r.arrived);
        }
        match end {
            End::Failed => self.totals.failed += 1,
            End::Rejected => self.totals.rejected += 1,
            End::TimedOut => self.totals.timed_out += 1,
        }
    }

    /// Changes the request rate now.
    pub fn set_rate(&mut self, rate: u64) {
        self.cfg.rate = rate;
        if !self.arrival_scheduled {
            self.schedule_arrival();
        }
    }
}

enum End {
    Failed,
    Rejected,
    TimedOut,
}

/// Open requests by number. Numbers are handed out in order and most
/// requests end soon, so a window over the numbers from the oldest open one
/// is a map with constant-time access.
#[derive(Clone, Debug, Default)]
struct Requests {
    base: u64,
    items: VecDeque<Option<Request>>,
}

impl Requests {
    fn get(&self, id: &u64) -> Option<&Request> {
        let i = id.checked_sub(self.base)?;
        self.items.get(usize::try_from(i).ok()?)?.as_ref()
    }
    fn get_mut(&mut self, id: &u64) -> Option<&mut Request> {
        let i = id.checked_sub(self.base)?;
        self.items.get_mut(usize::try_from(i).ok()?)?.as_mut()
    }
    fn contains_key(&self, id: &u64) -> bool {
        self.get(id).is_some()
    }
    /// Adds request `id`, the next number after every one added before.
    fn insert(&mut self, id: u64, r: Request) {
        if self.items.is_empty() {
            self.base = id;
        }
        let i = (id - self.base) as usize;
        while self.items.len() < i {
            self.items.push_back(None);
        }
        self.items.push_back(Some(r));
    }
    fn remove(&mut self, id: &u64) -> Option<Request> {
        let i = usize::try_from(id.checked_sub(self.base)?).ok()?;
        let r = self.items.get_mut(i)?.take();
        while self.items.front().is_some_and(Option::is_none) {
            self.items.pop_front();
            self.base += 1;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every gap between arrivals and every service cost goes through
    // `round_time`; the scenario files' fingerprints rest on it giving
    // exactly what `f64::round` then `as u64` gives (Rust reference,
    // "Numeric cast": a float to an integer rounds towards zero and
    // saturates, NaN gives 0), halves and the edges of f64 included.
    #[test]
    fn round_time_rounds_as_the_standard_library_does() {
        let edges = [
            0.0,
            -0.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            -0.5,
            -3.7,
            f64::MIN_POSITIVE,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1.8e19,
            1.9e19,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut rng = Rng::stream(5, StreamKind::Lab, 0);
        let draws = (0..200_000).map(|i| -(10f64.powi(i % 12)) * libm::log(uniform(&mut rng)));
        for x in edges.into_iter().chain(draws) {
            assert_eq!(round_time(x), x.round() as Time, "{x:?}");
        }
    }
}
