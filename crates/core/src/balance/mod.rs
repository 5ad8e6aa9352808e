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
//!   per five requests), each retry spends one, as in Finagle's retry
//!   budgets.
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

pub mod experiments;
pub mod lab;
pub mod policy;

pub use policy::Policy;

use crate::sim::{Fingerprint, Rng, StreamKind, Time, MS, SEC};
use hdrhistogram::Histogram;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// How request costs are distributed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CostDist {
    /// Every request costs the mean.
    Constant,
    /// Exponential with the mean (M/M/· queues).
    Exponential,
    /// Lognormal with the mean and σ = 1.
    Lognormal,
    /// Pareto with the mean and shape α = 2 (a heavy tail).
    Pareto,
}

/// Everything that defines a run.
#[derive(Clone, Debug, PartialEq)]
pub struct BalanceConfig {
    /// Servers.
    pub servers: u32,
    /// The policy.
    pub policy: Policy,
    /// Choices per pick for power of d (and peak EWMA's two).
    pub d: u32,
    /// Requests per second of virtual time.
    pub rate: u64,
    /// Cost distribution.
    pub cost: CostDist,
    /// Mean cost: service time at speed 100%.
    pub cost_mean: Time,
    /// Requests a server works on at once.
    pub concurrency: u32,
    /// Requests a server queues beyond those; more are rejected.
    pub queue: u32,
    /// Server speeds in percent (100 = normal), cycled over the servers.
    pub speeds: Vec<u32>,
    /// One-way network latency between balancer and server.
    pub latency: Time,
    /// How long the balancer waits for an attempt.
    pub timeout: Time,
    /// Retries per request at most.
    pub retries: u32,
    /// Retry budget: tokens per request, in parts per million (200,000 =
    /// one retry per five requests).
    pub retry_budget_ppm: u64,
    /// First back-off before a retry.
    pub backoff: Time,
    /// Peak EWMA's decay time.
    pub ewma_tau: Time,
    /// Balancers; each sees only its own connections and checks.
    pub balancers: u32,
    /// Active health checks every this often (0: none).
    pub health_interval: Time,
    /// Passive outlier ejection after this many failures in a row (0: off).
    pub consecutive_errors: u32,
    /// First ejection's length; the n-th lasts n times as long.
    pub base_ejection: Time,
    /// Most servers ejected at once, percent (at least one).
    pub max_ejection_pct: u32,
    /// Arrivals come in bursts: twice the rate for a second, then none for
    /// a second (the same mean).
    pub bursty: bool,
    /// Distinct request keys (0: every request its own key).
    pub keys: u32,
    /// Zipf exponent of key popularity, thousandths (0: uniform).
    pub zipf_milli: u32,
    /// Consistent hashing's bound on load: at most (1 + ε) times the mean
    /// outstanding per server, in percent (0: unbounded). Locality-aware
    /// routing spills over beyond the same bound (25% when 0).
    pub epsilon_pct: u32,
    /// Client regions (0: none). Clients and servers sit in regions on a
    /// map; the balancers are placed by k-means over the clients.
    pub regions: u32,
    /// Extra one-way latency per unit of distance on the map (the map is a
    /// unit square).
    pub distance_latency: Time,
    /// The run's seed.
    pub seed: u64,
}

impl Default for BalanceConfig {
    fn default() -> Self {
        BalanceConfig {
            servers: 10,
            policy: Policy::RoundRobin,
            d: 2,
            rate: 800,
            cost: CostDist::Exponential,
            cost_mean: 10 * MS,
            concurrency: 1,
            queue: 100,
            speeds: vec![100],
            latency: MS,
            timeout: SEC,
            retries: 0,
            retry_budget_ppm: 200_000,
            backoff: 10 * MS,
            ewma_tau: 10 * SEC,
            balancers: 1,
            health_interval: 0,
            consecutive_errors: 0,
            base_ejection: 30 * SEC,
            max_ejection_pct: 10,
            bursty: false,
            keys: 0,
            zipf_milli: 0,
            epsilon_pct: 0,
            regions: 0,
            distance_latency: 0,
            seed: 1,
        }
    }
}

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

/// What one balancer knows of the servers: only its own connections, its
/// own health checks and its own ejections.
#[derive(Clone, Debug)]
pub struct Balancer {
    /// Its attempts without an answer, per server.
    pub outstanding: Vec<u32>,
    /// Peak EWMA of response time per server, microseconds.
    pub ewma: Vec<f64>,
    ewma_at: Vec<Time>,
    rr_next: u32,
    wrr_current: Vec<i64>,
    /// Health as its checks see it.
    pub healthy: Vec<bool>,
    hc_streak: Vec<i32>,
    /// Failures in a row per server (passive outlier detection).
    pub consecutive: Vec<u32>,
    /// Ejected until this time (0: not ejected).
    pub ejected_until: Vec<Time>,
    times_ejected: Vec<u32>,
    /// Servers its checks call unhealthy, and the end of the latest
    /// ejection: while both say "none", every server is eligible and a pick
    /// needs no list of them.
    unhealthy: u32,
    ejections_end: Time,
}

impl Balancer {
    fn new(n: usize) -> Balancer {
        Balancer {
            outstanding: vec![0; n],
            ewma: vec![0.0; n],
            ewma_at: vec![0; n],
            rr_next: 0,
            wrr_current: vec![0; n],
            healthy: vec![true; n],
            hc_streak: vec![0; n],
            consecutive: vec![0; n],
            ejected_until: vec![0; n],
            times_ejected: vec![0; n],
            unhealthy: 0,
            ejections_end: 0,
        }
    }

    /// Whether every server is eligible at `now`.
    pub fn all_eligible(&self, now: Time) -> bool {
        self.unhealthy == 0 && self.ejections_end <= now
    }

    /// Whether this balancer sends new requests to server `s` at `now`.
    pub fn eligible(&self, s: usize, now: Time) -> bool {
        self.healthy[s] && self.ejected_until[s] <= now
    }
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
}

impl Totals {
    /// Requests not finished yet.
    pub fn open(&self) -> u64 {
        self.requests - self.completed - self.rejected - self.timed_out - self.failed
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
    seq: u64,
    /// Due events: (time, sequence, slot in `events`).
    queue: BinaryHeap<Reverse<(Time, u64, u32)>>,
    events: Vec<Option<Event>>,
    free: Vec<u32>,
    /// Timeouts, due in the order they were set while the timeout stays
    /// the same (the common case): a queue of their own, cheaper than the
    /// heap; merged with it by (time, sequence).
    timeouts: VecDeque<(Time, u64, u64, u32)>,
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
    tokens: f64,
    totals: Totals,
    latency: Histogram<u64>,
    /// Latencies of the current and the previous second of virtual time,
    /// for live percentiles at constant cost.
    window: (Histogram<u64>, Histogram<u64>, Time),
    /// Completed requests in the current and previous second.
    window_done: (u64, u64),
    events_done: u64,
    fingerprint: Fingerprint,
    /// Servers picked, in order, for tests (bounded).
    pub picks_log: VecDeque<u32>,
    log: VecDeque<String>,
    log_total: u64,
    arrival_scheduled: bool,
}

/// Lines of log kept.
const LOG_WINDOW: usize = 4096;
/// Picks kept for tests.
const PICKS_WINDOW: usize = 4096;

fn hist() -> Histogram<u64> {
    // Three significant digits, growing as needed.
    Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are valid"))
}

fn uniform(rng: &mut Rng) -> f64 {
    // (0, 1]: 53 random bits, never 0, so logarithms stay finite.
    ((rng.next_u64() >> 11) as f64 + 1.0) / 9_007_199_254_740_992.0
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
            seq: 0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            free: Vec::new(),
            timeouts: VecDeque::new(),
            servers,
            next_req: 1,
            requests: Requests::default(),
            tokens: 0.0,
            totals: Totals::default(),
            latency: hist(),
            window: (hist(), hist(), 0),
            window_done: (0, 0),
            events_done: 0,
            fingerprint: Fingerprint::default(),
            picks_log: VecDeque::new(),
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
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.events[slot as usize] = Some(ev);
                slot
            }
            None => {
                self.events.push(Some(ev));
                (self.events.len() - 1) as u32
            }
        };
        self.queue.push(Reverse((at, self.seq, slot)));
    }

    fn schedule_timeout(&mut self, at: Time, req: u64, attempt: u32) {
        if self.timeouts.back().is_none_or(|b| b.0 <= at) {
            self.seq += 1;
            self.timeouts.push_back((at, self.seq, req, attempt));
        } else {
            self.schedule(at, Event::Timeout { req, attempt });
        }
    }

    fn schedule_arrival(&mut self) {
        if self.cfg.rate == 0 {
            self.arrival_scheduled = false;
            return;
        }
        let rate = if self.cfg.bursty { 2 * self.cfg.rate } else { self.cfg.rate };
        let mean = SEC as f64 / rate as f64;
        let gap = (-mean * libm::log(uniform(&mut self.arrivals))).round().max(1.0) as Time;
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
        (v.round() as Time).max(1)
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
        let heap = self.queue.peek().map(|r| r.0 .0);
        let timeout = self.timeouts.front().map(|t| t.0);
        match (heap, timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    /// Events processed.
    pub fn events(&self) -> u64 {
        self.events_done
    }
    /// Fingerprint of everything so far.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint.value()
    }
    /// The latency of completed requests (arrival to answer, retries
    /// included), as a histogram.
    pub fn latency(&self) -> &Histogram<u64> {
        &self.latency
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
        for Reverse((due, _, slot)) in self.queue.iter() {
            match self.events.get(*slot as usize).and_then(Option::as_ref) {
                Some(Event::AtServer { server, req, .. }) => out.push(Flight {
                    balancer: balancer(req),
                    server: *server,
                    answer: false,
                    sent: due.saturating_sub(self.hop(balancer(req), *server)),
                    due: *due,
                    outcome: 0,
                }),
                Some(Event::Answer { server, outcome, sent, req, .. }) => out.push(Flight {
                    balancer: balancer(req),
                    server: *server,
                    answer: true,
                    sent: *sent,
                    due: *due,
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
        let from_timeouts = match (self.queue.peek(), self.timeouts.front()) {
            (Some(Reverse((a, sa, _))), Some((b, sb, ..))) => (b, sb) < (a, sa),
            (None, Some(_)) => true,
            (_, None) => false,
        };
        let (at, ev) = if from_timeouts {
            let Some((at, _, req, attempt)) = self.timeouts.pop_front() else { return false };
            if !self.requests.get(&req).is_some_and(|r| r.live(attempt)) {
                // The attempt was answered long ago: nothing happens, so
                // nothing is counted (most timeouts end this way).
                self.now = at;
                return true;
            }
            (at, Event::Timeout { req, attempt })
        } else {
            let Some(Reverse((at, _, slot))) = self.queue.pop() else { return false };
            self.free.push(slot);
            let Some(ev) = self.events[slot as usize].take() else { return true };
            (at, ev)
        };
        self.now = at;
        self.run_event(ev);
        true
    }

    /// Counts, fingerprints and processes one event now.
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

    /// One-way latency between a balancer and a server.
    pub fn hop(&self, balancer: u32, server: u32) -> Time {
        match &self.map {
            Some(map) => {
                let d = dist(map.centroids[balancer as usize % map.centroids.len()], map.servers[server as usize]);
                self.cfg.latency + (d * self.cfg.distance_latency as f64).round() as Time
            }
            None => self.cfg.latency,
        }
    }

    /// Mean one-way hop latency of the attempts sent so far.
    pub fn mean_hop(&self) -> f64 {
        if self.totals.attempts == 0 {
            f64::NAN
        } else {
            self.hop_sum as f64 / self.totals.attempts as f64
        }
    }

    /// The servers local to balancer `b` (nearest to it on the map).
    pub(super) fn local(&self, b: u32) -> Option<&[u32]> {
        self.map.as_ref().map(|m| m.local[b as usize % m.local.len()].as_slice())
    }

    /// Runs every event due at or before `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Time) {
        while self.next_event().is_some_and(|n| n <= t) {
            self.step();
        }
        self.now = self.now.max(t);
    }

    fn process(&mut self, ev: Event) {
        match ev {
            Event::Arrival => {
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
                    Some(map) => {
                        let p = map.client(&mut self.keys_rng);
                        nearest(&map.centroids, p) as u32
                    }
                    None if nb > 1 => self.keys_rng.range(0, nb - 1) as u32,
                    None => 0,
                };
                let key = self.draw_key(req);
                self.totals.requests += 1;
                self.tokens += self.cfg.retry_budget_ppm as f64 / 1e6;
                self.requests.insert(req, Request { arrived: self.now, cost, balancer, key, attempt: 0, at: None });
                self.dispatch(req);
                self.schedule_arrival();
            }
            Event::Check { balancer, server } => {
                let s = &self.servers[server as usize];
                // A probe passes if the server is up and does not fail it.
                let fails = s.error_ppm > 0 && self.picks.chance_ppm(s.error_ppm);
                let ok = !s.down && !fails;
                self.schedule(self.now + 2 * self.hop(balancer, server), Event::Checked { balancer, server, ok });
                if self.cfg.health_interval > 0 {
                    self.schedule(self.now + self.cfg.health_interval, Event::Check { balancer, server });
                }
            }
            Event::Checked { balancer, server, ok } => {
                // Two checks in a row flip a server's health (Envoy's
                // unhealthy and healthy thresholds default to 2... here both 2).
                let b = &mut self.balancers[balancer as usize];
                let i = server as usize;
                b.hc_streak[i] = if ok { b.hc_streak[i].max(0) + 1 } else { b.hc_streak[i].min(0) - 1 };
                let was = b.healthy[i];
                if b.hc_streak[i] >= 2 {
                    b.healthy[i] = true;
                } else if b.hc_streak[i] <= -2 {
                    b.healthy[i] = false;
                }
                if was != b.healthy[i] {
                    b.unhealthy = if b.healthy[i] { b.unhealthy - 1 } else { b.unhealthy + 1 };
                    let state = if b.healthy[i] { "healthy" } else { "unhealthy" };
                    self.note(format!(
                        "{} balancer {} marks S{} {state}",
                        crate::sim::time::format_clock(self.now),
                        balancer + 1,
                        server + 1
                    ));
                }
            }
            Event::AtServer { req, attempt, server } => {
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
            Event::Done { server, req, attempt, started, life } => {
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
            Event::Answer { req, attempt, server, outcome, .. } => {
                // Only the live attempt's answer counts; an older attempt
                // was released when it timed out.
                let Some((balancer, sent_at)) = self
                    .requests
                    .get(&req)
                    .filter(|r| r.live(attempt))
                    .and_then(|r| r.at.map(|(_, t)| (r.balancer, t)))
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
            Event::Timeout { req, attempt } => {
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
            Event::Retry { req } => {
                if self.requests.contains_key(&req) {
                    self.dispatch(req);
                }
            }
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

    /// Passive outlier detection, as Envoy's `consecutive_5xx`: after
    /// `consecutive_errors` failures in a row (errors, rejections and
    /// timeouts) a balancer ejects the server for `base_ejection` times the
    /// number of times it was ejected, unless `max_ejection_pct` of the
    /// servers are ejected already (one always may be).
    fn outlier(&mut self, balancer: u32, server: u32, ok: bool) {
        if self.cfg.consecutive_errors == 0 {
            return;
        }
        let now = self.now;
        let n = self.servers.len();
        let cap = (n * self.cfg.max_ejection_pct as usize / 100).max(1);
        let b = &mut self.balancers[balancer as usize];
        let i = server as usize;
        if ok {
            b.consecutive[i] = 0;
            return;
        }
        b.consecutive[i] += 1;
        let ejected = (0..n).filter(|&j| b.ejected_until[j] > now).count();
        if b.consecutive[i] >= self.cfg.consecutive_errors && b.ejected_until[i] <= now && ejected < cap {
            b.times_ejected[i] += 1;
            let until = now + self.cfg.base_ejection.saturating_mul(u64::from(b.times_ejected[i]));
            b.ejected_until[i] = until;
            b.ejections_end = b.ejections_end.max(until);
            b.consecutive[i] = 0;
            let line = format!(
                "{} balancer {} ejects S{} until {}",
                crate::sim::time::format_clock(now),
                balancer + 1,
                server + 1,
                crate::sim::time::format_clock(until)
            );
            self.note(line);
        }
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
        if self.picks_log.len() == PICKS_WINDOW {
            self.picks_log.pop_front();
        }
        self.picks_log.push_back(server);
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
            if self.tokens >= 1.0 {
                self.tokens -= 1.0;
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
        self.requests.remove(&req);
        match end {
            End::Failed => self.totals.failed += 1,
            End::Rejected => self.totals.rejected += 1,
            End::TimedOut => self.totals.timed_out += 1,
        }
    }

    /// Applies a change to a server now: `down`, `up`, a speed factor
    /// (percent of its speed), or an error rate.
    pub fn crash(&mut self, server: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        if s.down {
            return Err(format!("S{} is already down", server + 1));
        }
        s.down = true;
        // Work in progress and the queue are lost.
        s.active = 0;
        s.life += 1;
        s.queued.clear();
        self.note(format!("{} S{} crashed", crate::sim::time::format_clock(self.now), server + 1));
        Ok(())
    }

    /// Brings a crashed server back, or clears a slow-down and errors.
    pub fn recover(&mut self, server: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        if !s.down && s.speed == s.base_speed && s.error_ppm == 0 {
            return Err(format!("S{} is up and healthy", server + 1));
        }
        s.down = false;
        s.speed = s.base_speed;
        s.error_ppm = 0;
        self.note(format!("{} S{} recovered", crate::sim::time::format_clock(self.now), server + 1));
        Ok(())
    }

    /// Slows a server to `percent` of its normal speed.
    pub fn slow(&mut self, server: u32, percent: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        s.speed = (u64::from(s.base_speed) * u64::from(percent.max(1)) / 100).max(1) as u32;
        self.note(format!(
            "{} S{} slowed to {percent}% of its speed",
            crate::sim::time::format_clock(self.now),
            server + 1
        ));
        Ok(())
    }

    /// Sets a server's normal speed (and weight) in percent.
    pub fn set_speed(&mut self, server: u32, percent: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        let slowed = s.speed < s.base_speed;
        s.base_speed = percent.max(1);
        if !slowed {
            s.speed = s.base_speed;
        }
        self.note(format!(
            "{} S{} runs at {percent}% speed (weight {percent})",
            crate::sim::time::format_clock(self.now),
            server + 1
        ));
        Ok(())
    }

    /// Makes a server fail a share of its requests (parts per million).
    pub fn errors(&mut self, server: u32, ppm: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        s.error_ppm = ppm.min(1_000_000);
        self.note(format!(
            "{} S{} fails {}% of requests",
            crate::sim::time::format_clock(self.now),
            server + 1,
            ppm as f64 / 1e4
        ));
        Ok(())
    }

    /// Changes the request rate now.
    pub fn set_rate(&mut self, rate: u64) {
        self.cfg.rate = rate;
        if !self.arrival_scheduled {
            self.schedule_arrival();
        }
    }
}

/// The map of regions: where clients come from, where servers and
/// balancers sit, and which servers are local to each balancer.
#[derive(Clone, Debug)]
struct Map {
    centers: Vec<(f64, f64)>,
    /// Share of clients per region (the first region has the most).
    weights: Vec<f64>,
    servers: Vec<(f64, f64)>,
    centroids: Vec<(f64, f64)>,
    local: Vec<Vec<u32>>,
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    libm::sqrt((a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1))
}

fn nearest(points: &[(f64, f64)], p: (f64, f64)) -> usize {
    let mut best = 0;
    for (i, q) in points.iter().enumerate() {
        if dist(*q, p) < dist(points[best], p) {
            best = i;
        }
    }
    best
}

fn gaussian(rng: &mut Rng) -> f64 {
    let (u1, u2) = (uniform(rng), uniform(rng));
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

impl Map {
    fn new(cfg: &BalanceConfig) -> Map {
        let r = cfg.regions.max(1) as usize;
        // Region centres on a circle around the middle of the unit square.
        let centers: Vec<(f64, f64)> = (0..r)
            .map(|i| {
                let a = 2.0 * std::f64::consts::PI * i as f64 / r as f64;
                if r == 1 {
                    (0.5, 0.5)
                } else {
                    (0.5 + 0.35 * libm::cos(a), 0.5 + 0.35 * libm::sin(a))
                }
            })
            .collect();
        let weights: Vec<f64> = (0..r).map(|i| (r - i) as f64).collect();
        let mut rng = Rng::stream(cfg.seed, StreamKind::Lab, 22);
        let servers = (0..cfg.servers as usize)
            .map(|i| {
                let c = centers[i % r];
                (c.0 + 0.05 * gaussian(&mut rng), c.1 + 0.05 * gaussian(&mut rng))
            })
            .collect();
        let mut map = Map { centers, weights, servers, centroids: Vec::new(), local: Vec::new() };
        // k-means (Lloyd's algorithm) over a sample of client positions:
        // one balancer per group, at its centroid.
        let sample: Vec<(f64, f64)> = (0..2_000).map(|_| map.client(&mut rng)).collect();
        let k = cfg.balancers.max(1) as usize;
        let mut centroids: Vec<(f64, f64)> = (0..k).map(|i| sample[i * sample.len() / k]).collect();
        for _ in 0..25 {
            let mut sums = vec![(0.0, 0.0, 0usize); k];
            for p in &sample {
                let c = nearest(&centroids, *p);
                sums[c].0 += p.0;
                sums[c].1 += p.1;
                sums[c].2 += 1;
            }
            for (c, s) in centroids.iter_mut().zip(&sums) {
                if s.2 > 0 {
                    *c = (s.0 / s.2 as f64, s.1 / s.2 as f64);
                }
            }
        }
        let mut local = vec![Vec::new(); k];
        for (i, s) in map.servers.iter().enumerate() {
            local[nearest(&centroids, *s)].push(i as u32);
        }
        for (b, l) in local.iter_mut().enumerate() {
            if l.is_empty() {
                l.push(nearest(&map.servers, centroids[b]) as u32);
            }
        }
        map.centroids = centroids;
        map.local = local;
        map
    }

    /// A client's position: a region drawn by weight, then a spread around it.
    fn client(&self, rng: &mut Rng) -> (f64, f64) {
        let total: f64 = self.weights.iter().sum();
        let mut x = uniform(rng) * total;
        let mut region = 0;
        for (i, w) in self.weights.iter().enumerate() {
            if x <= *w {
                region = i;
                break;
            }
            x -= w;
            region = i;
        }
        let c = self.centers[region];
        (c.0 + 0.08 * gaussian(rng), c.1 + 0.08 * gaussian(rng))
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
