//! Swarm testing of the load-balancing model (crates/core/src/balance), in
//! the manner of raft_swarm.rs and paxos_swarm.rs: each seed draws its own
//! configuration (policy, 1–50 servers, speeds, rate, cost distribution,
//! concurrency, queue capacity — small in a third of the seeds — network
//! latency, timeout, retries, retry budget, back-off; and what the lab grew
//! since: up to four balancers, health checks, outlier ejection, bursty
//! arrivals, keys and bounded loads for consistent hashing) and its own
//! faults over time (crash, recover, slow, errors, and the live `set`s the
//! lab allows: rate, policy, d, timeout, retries, budget, back-off, ε).
//!
//! Source of the invariants: mod.rs, "Every request ends exactly one way:
//! completed, rejected, timed out or failed ([`Totals`] add up)", and the
//! retry rules it documents. Checked after every event:
//!
//! * ended (completed + rejected + timed out + failed) <= requests;
//! * every ended request is in the all-requests latency histogram once,
//!   every completed one in the completed one, and no more succeed within
//!   the latency objective than complete;
//! * requests <= attempts <= requests + retries (every request's first
//!   attempt is sent on arrival; every other attempt is a retry);
//! * retries <= the tokens granted so far (Σ budget/1e6 per request, at the
//!   budget in force when it arrived), within 1e-6 of float rounding;
//! * retries <= requests × the most retries ever allowed;
//! * Σ outstanding <= open requests (one live attempt per request at most);
//! * per server: active <= concurrency, queued <= queue capacity, and a
//!   crashed server holds no work;
//! * virtual time never goes back (the model keeps timeouts in the event
//!   queue's in-order lane, beside its heap);
//! * detection does what mod.rs says: "A balancer sends new requests only
//!   to servers it believes healthy and has not ejected" (every attempt's
//!   server, unless the balancer believes none is: Envoy's panic mode), and
//!   no balancer ever has more than max(1, max_ejection_pct × servers)
//!   servers ejected at once (Envoy's `max_ejection_percent`).
//!
//! Then arrivals stop (`set_rate(0)`), every server recovers, and after
//! D = (retries + 1) × timeout + Σ back-off windows (the largest values ever
//! set) past the last arrival no request may be open, and the counts must
//! add up exactly. Finally the event queue must drain (with health checks,
//! which go on for ever: until no server has work) and leave no work and
//! no outstanding attempt anywhere. One seed in eight is run twice and must
//! give the same fingerprint.
//!
//! This swarm found two bugs (work lost in a crash finishing after the
//! server recovered; an attempt that failed also timing out during its
//! back-off), fixed since and guarded by the reproducers at the end; a
//! failure with either's signature is still named as such.
//!
//! Calm worlds (`calm_worlds_*`: the same random configurations with no
//! faults, unbounded queues and timeouts) check what queueing theory
//! promises for every policy: every request completes, throughput keeps up
//! with arrivals below capacity, and with errors on every server the
//! success ratio is that of independent trials.
//!
//! A failure prints the seed and the command that replays it:
//! `SWARM_SEED=<n> cargo test -p clusterscope-core --test balance_swarm`.
//! `SWARM_SEEDS=<n>` runs seeds `0..n` instead of the default 300.

use clusterscope_core::balance::{Balance, BalanceConfig, CostDist, Policy};
use clusterscope_core::sim::{Rng, StreamKind, Time, MS, SEC};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};

const DEFAULT_SEEDS: u64 = 300;
const SHARDS: u64 = 4;

/// One seed's world.
#[derive(Debug, Clone)]
struct Plan {
    cfg: BalanceConfig,
    /// How long faults go on, and how often one may happen.
    fault_phase: Time,
    tick: Time,
    // Chances per tick, parts per million.
    crash: u32,
    recover: u32,
    slow: u32,
    errors: u32,
    set: u32,
}

fn pick<T: Copy>(rng: &mut Rng, xs: &[T]) -> T {
    xs[rng.range(0, xs.len() as u64 - 1) as usize]
}

/// Log-uniform in [lo, hi].
fn log_uniform(rng: &mut Rng, lo: u64, hi: u64) -> u64 {
    let u = rng.range(0, 1_000_000) as f64 / 1e6;
    ((lo as f64).ln() + u * ((hi as f64).ln() - (lo as f64).ln())).exp().round() as u64
}

impl Plan {
    fn draw(seed: u64) -> Plan {
        let mut r = Rng::stream(seed, StreamKind::Lab, 900);
        let servers = if r.chance_ppm(500_000) { r.range(1, 5) } else { r.range(1, 50) } as u32;
        let speeds = match r.range(0, 2) {
            0 => vec![100],
            1 => vec![50, 100, 200],
            _ => (0..r.range(1, 4)).map(|_| r.range(20, 400) as u32).collect(),
        };
        let cost_mean = log_uniform(&mut r, 200, 20 * MS);
        let concurrency = if r.chance_ppm(600_000) { 1 } else { r.range(2, 8) as u32 };
        let mean_speed = speeds.iter().map(|&s| f64::from(s)).sum::<f64>() / speeds.len() as f64 / 100.0;
        let capacity = f64::from(servers) * f64::from(concurrency) * mean_speed * 1e6 / cost_mean as f64;
        let load = r.range(10, 160) as f64 / 100.0;
        let rate = (capacity * load).clamp(5.0, 2_000.0) as u64;
        let cfg = BalanceConfig {
            servers,
            policy: pick(&mut r, &Policy::ALL),
            d: r.range(1, 5) as u32,
            rate,
            cost: pick(&mut r, &[CostDist::Constant, CostDist::Exponential, CostDist::Lognormal, CostDist::Pareto]),
            cost_mean,
            concurrency,
            queue: if r.chance_ppm(330_000) { r.range(0, 3) as u32 } else { r.range(5, 500) as u32 },
            speeds,
            latency: if r.chance_ppm(300_000) { 0 } else { r.range(0, 5 * MS) },
            timeout: if r.chance_ppm(100_000) { 2 * SEC } else { log_uniform(&mut r, MS, 500 * MS) },
            retries: r.range(0, 4) as u32,
            retry_budget_ppm: match r.range(0, 3) {
                0 => 0,
                1 => 200_000,
                2 => r.range(0, 2_000_000),
                _ => 10_000_000,
            },
            backoff: if r.chance_ppm(200_000) { 0 } else { r.range(0, 50 * MS) },
            ewma_tau: log_uniform(&mut r, MS, 10 * SEC),
            // What the lab grew since: several balancers, health checks,
            // outlier ejection, bursty arrivals, keys for consistent hashing.
            balancers: if r.chance_ppm(300_000) { r.range(2, 4) as u32 } else { 1 },
            health_interval: if r.chance_ppm(250_000) { r.range(5 * MS, 200 * MS) } else { 0 },
            consecutive_errors: if r.chance_ppm(250_000) { r.range(1, 5) as u32 } else { 0 },
            base_ejection: log_uniform(&mut r, 10 * MS, 2 * SEC),
            max_ejection_pct: r.range(0, 100) as u32,
            bursty: r.chance_ppm(200_000),
            keys: if r.chance_ppm(500_000) { r.range(1, 1_000) as u32 } else { 0 },
            zipf_milli: r.range(0, 2_000) as u32,
            epsilon_pct: if r.chance_ppm(500_000) { r.range(1, 200) as u32 } else { 0 },
            // Regions on a map with locality-aware routing's map and latencies.
            regions: if r.chance_ppm(250_000) { r.range(1, 4) as u32 } else { 0 },
            distance_latency: r.range(0, 100 * MS),
            // The latency objective only counts; drawing it would shift
            // every plan's later draws, so it follows the cost instead.
            slo: 10 * cost_mean,
            seed,
        };
        Plan {
            cfg,
            fault_phase: r.range(500 * MS, 2 * SEC),
            tick: r.range(10 * MS, 100 * MS),
            crash: r.range(0, 100_000) as u32,
            recover: r.range(0, 200_000) as u32,
            slow: r.range(0, 50_000) as u32,
            errors: r.range(0, 50_000) as u32,
            set: r.range(0, 50_000) as u32,
        }
    }
}

/// A known bug, recognised by its exact signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Known {
    /// `Event::Done` for work a server lost in a crash, processed after the
    /// server recovered: `s.active -= 1` underflows (balance/mod.rs).
    ActiveUnderflowAfterRecover,
    /// An attempt that failed or was rejected also times out during its
    /// back-off (or a timed-out attempt's late answer arrives during it),
    /// and `retry_or_end` runs twice for it (balance/mod.rs).
    AttemptEndsTwice,
}

#[derive(Debug)]
struct Failure {
    known: Option<Known>,
    text: String,
}

#[derive(Debug, Default)]
struct Outcome {
    events: u64,
    requests: u64,
    completed: u64,
    fingerprint: u64,
}

// The panic hook keeps where the last panic on this thread happened, so a
// known panic is recognised by its file and line, not by its text alone.
// Panics elsewhere (outside `run_caught`) go to the default hook.
thread_local! {
    static LAST_PANIC: RefCell<Option<(String, u32, String)>> = const { RefCell::new(None) };
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn install_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(|c| c.get()) {
                return default(info);
            }
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let (file, line) = info.location().map(|l| (l.file().to_string(), l.line())).unwrap_or_default();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some((file, line, msg)));
        }));
    });
}

/// The line of `s.active -= 1;` in the model's source, read at compile time.
fn active_decrement_line() -> u32 {
    let src = include_str!("../src/balance/mod.rs");
    src.lines().position(|l| l.trim() == "s.active -= 1;").map(|i| i as u32 + 1).expect("the decrement is in mod.rs")
}

/// Which attempts have ended, from the model's log lines ("S3 failed #12
/// (attempt 1)", "#12 timed out at S3 (attempt 1)", "S3 rejected #12: queue
/// full (attempt 1)"), to catch one ending twice.
#[derive(Default)]
struct Endings {
    cursor: u64,
    seen: HashMap<(u64, u32), String>,
    twice: Vec<String>,
}

impl Endings {
    fn read(&mut self, b: &Balance) {
        let (log, total) = b.log();
        if total == self.cursor {
            return;
        }
        // Read after every event, which writes a line or two: none is
        // missed from the 4096-line window.
        let first = total - log.len() as u64;
        let skip = self.cursor.saturating_sub(first) as usize;
        for line in log.iter().skip(skip) {
            if !(line.contains(" failed #") || line.contains(" rejected #") || line.contains(" timed out at ")) {
                continue;
            }
            let num = |after: &str| -> Option<u64> {
                let i = line.find(after)? + after.len();
                line[i..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().ok()
            };
            if let (Some(req), Some(att)) = (num("#"), num("(attempt ")) {
                if let Some(first) = self.seen.insert((req, att as u32), line.clone()) {
                    if self.twice.len() < 2 {
                        self.twice.push(format!("{first} / {line}"));
                    }
                }
            }
        }
        self.cursor = total;
    }
}

/// Watches the invariants after every event.
struct Watch {
    tokens: f64,
    last_requests: u64,
    max_retries: u32,
    max_timeout: Time,
    max_backoff: Time,
    endings: Endings,
    violations: Vec<(bool, String)>, // (explained by AttemptEndsTwice if that is seen, text)
    last_arrival: Time,
    last_now: Time,
    /// Attempts sent, and each balancer's outstanding attempts per server,
    /// after the last event: a new attempt is found by what grew.
    last_attempts: u64,
    last_outstanding: Vec<Vec<u32>>,
}

impl Watch {
    fn new(cfg: &BalanceConfig) -> Watch {
        Watch {
            tokens: 0.0,
            last_requests: 0,
            max_retries: cfg.retries,
            max_timeout: cfg.timeout,
            max_backoff: cfg.backoff,
            endings: Endings::default(),
            violations: Vec::new(),
            last_arrival: 0,
            last_now: 0,
            last_attempts: 0,
            last_outstanding: Vec::new(),
        }
    }

    fn note(&mut self, cfg: &BalanceConfig) {
        self.max_retries = self.max_retries.max(cfg.retries);
        self.max_timeout = self.max_timeout.max(cfg.timeout);
        self.max_backoff = self.max_backoff.max(cfg.backoff);
    }

    fn fail(&mut self, k2: bool, text: String) {
        if self.violations.len() < 5 {
            self.violations.push((k2, text));
        }
    }

    /// One event, then the checks.
    fn step(&mut self, b: &mut Balance) -> bool {
        if !b.step() {
            return false;
        }
        self.check(b);
        true
    }

    fn check(&mut self, b: &Balance) {
        let t = b.totals();
        let now = b.now();
        if now < self.last_now {
            self.fail(false, format!("time went back from {} to {now}", self.last_now));
        }
        self.last_now = now;
        if t.requests > self.last_requests {
            // Arrivals happen one per event, at the budget in force now.
            self.tokens += (t.requests - self.last_requests) as f64 * b.cfg.retry_budget_ppm as f64 / 1e6;
            self.last_requests = t.requests;
            self.last_arrival = now;
        }
        self.endings.read(b);
        let ended = t.completed + t.rejected + t.timed_out + t.failed;
        if ended > t.requests {
            self.fail(false, format!("t={now}: {ended} requests ended of {} made: {t:?}", t.requests));
            return;
        }
        if b.latency_all().len() != ended || b.latency().len() != t.completed || t.within_slo > t.completed {
            self.fail(
                false,
                format!(
                    "t={now}: {} latencies of all requests and {} of completed ones for {ended} ended: {t:?}",
                    b.latency_all().len(),
                    b.latency().len()
                ),
            );
        }
        if t.attempts < t.requests || t.attempts > t.requests + t.retries {
            self.fail(false, format!("t={now}: attempts outside [requests, requests + retries]: {t:?}"));
        }
        if t.retries as f64 > self.tokens + 1e-6 * (1.0 + self.tokens) {
            self.fail(
                false,
                format!("t={now}: {} retries but only {:.3} budget tokens granted: {t:?}", t.retries, self.tokens),
            );
        }
        if t.retries > t.requests * u64::from(self.max_retries) {
            self.fail(
                true,
                format!(
                    "t={now}: {} retries for {} requests, at most {} each: {t:?}",
                    t.retries, t.requests, self.max_retries
                ),
            );
        }
        let open = t.requests - ended;
        let mut outstanding = 0u64;
        for (i, s) in b.servers().iter().enumerate() {
            outstanding += u64::from(s.outstanding);
            if s.active > b.cfg.concurrency || s.queued.len() as u64 > u64::from(b.cfg.queue) {
                self.fail(false, format!("t={now}: S{} has {} active, {} queued", i + 1, s.active, s.queued.len()));
            }
            if s.down && (s.active > 0 || !s.queued.is_empty()) {
                self.fail(false, format!("t={now}: crashed S{} holds work", i + 1));
            }
        }
        if outstanding > open {
            self.fail(true, format!("t={now}: {outstanding} outstanding attempts for {open} open requests"));
        }
        self.check_detection(b);
    }

    /// detection.rs and mod.rs: a balancer sends a new attempt only to a
    /// server it believes healthy and has not ejected (any server when it
    /// believes none is), and ejects at most max(1, max_ejection_pct × n)
    /// servers at once.
    fn check_detection(&mut self, b: &Balance) {
        let (now, n) = (b.now(), b.servers().len());
        let cap = (n * b.cfg.max_ejection_pct as usize / 100).max(1);
        for (i, bal) in b.balancers().iter().enumerate() {
            let ejected = bal.ejected_until.iter().filter(|&&u| u > now).count();
            if ejected > cap {
                self.fail(false, format!("t={now}: balancer {} has {ejected} servers ejected, cap {cap}", i + 1));
            }
        }
        let attempts = b.totals().attempts;
        // One new attempt since the last look (an event sends at most one):
        // the balancer whose outstanding count at the picked server grew
        // sent it.
        if attempts == self.last_attempts + 1 && self.last_outstanding.len() == b.balancers().len() {
            let server = b.last_pick().unwrap_or(0) as usize;
            let sender = b
                .balancers()
                .iter()
                .zip(&self.last_outstanding)
                .position(|(bal, before)| bal.outstanding[server] > before[server]);
            if let Some(i) = sender {
                let bal = &b.balancers()[i];
                let any = (0..n).any(|s| bal.eligible(s, now));
                if any && !bal.eligible(server, now) {
                    self.fail(
                        false,
                        format!(
                            "t={now}: balancer {} sent an attempt to S{} (healthy {}, ejected until {} µs)",
                            i + 1,
                            server + 1,
                            bal.healthy[server],
                            bal.ejected_until[server]
                        ),
                    );
                }
            }
        }
        self.last_attempts = attempts;
        self.last_outstanding = b.balancers().iter().map(|bal| bal.outstanding.clone()).collect();
    }
}

fn run_seed(seed: u64) -> Result<Outcome, Failure> {
    let plan = Plan::draw(seed);
    let mut b = Balance::new(plan.cfg.clone());
    let mut w = Watch::new(&b.cfg);
    let mut r = Rng::stream(seed, StreamKind::Lab, 901);
    let n = plan.cfg.servers;
    let base_rate = plan.cfg.rate;

    // Phase 1: faults.
    let mut at = 0;
    while at < plan.fault_phase {
        at += plan.tick;
        while b.next_event().is_some_and(|e| e <= at) {
            w.step(&mut b);
        }
        b.run_until(at);
        let s = r.range(0, u64::from(n) - 1) as u32;
        let healthy = |b: &Balance, s: u32| {
            let x = &b.servers()[s as usize];
            !x.down && x.speed == x.base_speed && x.error_ppm == 0
        };
        if r.chance_ppm(plan.crash) && !b.servers()[s as usize].down {
            b.crash(s).map_err(|e| Failure { known: None, text: format!("crash S{}: {e}", s + 1) })?;
        }
        if r.chance_ppm(plan.recover) && !healthy(&b, s) {
            b.recover(s).map_err(|e| Failure { known: None, text: format!("recover S{}: {e}", s + 1) })?;
        }
        if r.chance_ppm(plan.slow) {
            b.slow(s, r.range(1, 100) as u32).unwrap();
        }
        if r.chance_ppm(plan.errors) {
            let ppm = if r.chance_ppm(300_000) { 1_000_000 } else { r.range(0, 1_000_000) as u32 };
            b.errors(s, ppm).unwrap();
        }
        if r.chance_ppm(plan.set) {
            match r.range(0, 7) {
                0 => b.set_rate(r.range(0, 2 * base_rate)),
                1 => b.cfg.policy = pick(&mut r, &Policy::ALL),
                2 => b.cfg.d = r.range(1, 5) as u32,
                3 => b.cfg.timeout = log_uniform(&mut r, MS, 500 * MS),
                4 => b.cfg.retries = r.range(0, 4) as u32,
                5 => b.cfg.retry_budget_ppm = r.range(0, 2_000_000),
                6 => b.cfg.epsilon_pct = r.range(0, 200) as u32,
                _ => b.cfg.backoff = r.range(0, 50 * MS),
            }
            w.note(&b.cfg);
        }
        w.check(&b);
    }

    // Phase 2: arrivals stop, every server recovers; every request must end
    // within D of the last arrival.
    b.set_rate(0);
    for s in 0..n {
        let x = &b.servers()[s as usize];
        if x.down || x.speed != x.base_speed || x.error_ppm != 0 {
            b.recover(s).map_err(|e| Failure { known: None, text: format!("recover S{}: {e}", s + 1) })?;
        }
    }
    let windows: Time = (0..w.max_retries).map(|k| w.max_backoff.saturating_mul(1 << k).max(1)).sum();
    let d = (u64::from(w.max_retries) + 1) * w.max_timeout + windows + 1;
    let stopped = b.now();
    while b.next_event().is_some_and(|e| e <= w.last_arrival.max(stopped) + d) {
        w.step(&mut b);
    }
    let deadline = w.last_arrival.max(stopped) + d;
    b.run_until(deadline);
    let t = b.totals();
    let ended = t.completed + t.rejected + t.timed_out + t.failed;
    if ended != t.requests {
        w.fail(
            false,
            format!(
                "{} requests still open {} us after the last arrival (bound D = {d} us): {t:?}",
                t.requests - ended,
                deadline - w.last_arrival
            ),
        );
    }

    // Phase 3: the queue drains; nothing may be left anywhere. Health
    // checks go on for ever, so with them on the run stops once no server
    // has work (answers to orphaned work still on the wire are ignored).
    let mut drained = 0u64;
    let checks = b.cfg.health_interval > 0;
    let idle = |b: &Balance| b.servers().iter().all(|s| s.active == 0 && s.queued.is_empty()) && b.totals().open() == 0;
    while !(checks && idle(&b)) && w.step(&mut b) {
        drained += 1;
        if drained > 5_000_000 || b.now() > deadline + 100_000 * SEC {
            w.fail(false, format!("events never drain: t={} after {drained} more events", b.now()));
            break;
        }
    }
    let t = b.totals();
    if t.open() != 0 || t.completed + t.rejected + t.timed_out + t.failed != t.requests {
        w.fail(false, format!("after draining, counts do not add up: {t:?}"));
    }
    for (i, s) in b.servers().iter().enumerate() {
        if s.outstanding != 0 {
            w.fail(true, format!("after draining, S{} still has {} outstanding attempts", i + 1, s.outstanding));
        }
        if s.active != 0 || !s.queued.is_empty() || s.down {
            w.fail(
                false,
                format!("after draining, S{}: {} active, {} queued, down {}", i + 1, s.active, s.queued.len(), s.down),
            );
        }
    }

    // Classify.
    let twice = !w.endings.twice.is_empty();
    if let Some((_, text)) = w.violations.iter().find(|(k2, _)| !*k2 || !twice) {
        let all: Vec<&str> = w.violations.iter().map(|(_, t)| t.as_str()).collect();
        return Err(Failure { known: None, text: format!("{text} (all: {all:?})") });
    }
    if twice {
        let mut text = format!("an attempt ended twice: {:?}", w.endings.twice);
        for (_, v) in &w.violations {
            text.push_str(&format!("; then {v}"));
        }
        return Err(Failure { known: Some(Known::AttemptEndsTwice), text });
    }
    Ok(Outcome { events: b.events(), requests: t.requests, completed: t.completed, fingerprint: b.fingerprint() })
}

/// Runs a seed, turning a panic into a failure (a known one if it is the
/// active-count underflow at its exact line).
fn run_caught(seed: u64) -> Result<Outcome, Failure> {
    install_hook();
    LAST_PANIC.with(|p| *p.borrow_mut() = None);
    CATCHING.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| run_seed(seed)));
    CATCHING.with(|c| c.set(false));
    result.unwrap_or_else(|_| {
        let (file, line, msg) = LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_default();
        let known = (file.ends_with("balance/mod.rs")
            && line == active_decrement_line()
            && msg == "attempt to subtract with overflow")
            .then_some(Known::ActiveUnderflowAfterRecover);
        Err(Failure { known, text: format!("panicked at {file}:{line}: {msg}") })
    })
}

fn replay_hint(seed: u64, known: bool) -> String {
    let ignored = if known { " --ignored" } else { "" };
    format!("replay: SWARM_SEED={seed} cargo test -p clusterscope-core --test balance_swarm --{ignored} --nocapture")
}

/// The seeds this shard runs.
fn seeds(shard: u64) -> Vec<u64> {
    if let Some(one) = std::env::var("SWARM_SEED").ok().and_then(|s| s.trim().parse::<u64>().ok()) {
        return if shard == u64::MAX || one % SHARDS == shard { vec![one] } else { vec![] };
    }
    let count = std::env::var("SWARM_SEEDS").ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(DEFAULT_SEEDS);
    (0..count).filter(|s| shard == u64::MAX || s % SHARDS == shard).collect()
}

/// Runs a shard's seeds (`u64::MAX`: all). Not `strict`: failures with a
/// known bug's exact signature are listed, not failed.
fn run_shard(shard: u64, strict: bool) {
    let strict = strict || std::env::var("SWARM_STRICT").is_ok();
    let seeds = seeds(shard);
    let single = std::env::var("SWARM_SEED").is_ok();
    let mut failures = Vec::new();
    let mut known: BTreeMap<Known, Vec<u64>> = BTreeMap::new();
    let (mut events, mut requests, mut completed) = (0u64, 0u64, 0u64);
    let started = std::time::Instant::now();
    for &seed in &seeds {
        let result = run_caught(seed);
        // One seed in eight runs twice: a run is fully defined by its seed.
        let result = match result {
            Ok(o) if seed % 8 == 0 => match run_caught(seed) {
                Ok(again) if again.fingerprint == o.fingerprint && again.events == o.events => Ok(o),
                Ok(again) => Err(Failure {
                    known: None,
                    text: format!("not deterministic: fingerprints {:x} and {:x}", o.fingerprint, again.fingerprint),
                }),
                Err(f) => {
                    Err(Failure { known: None, text: format!("not deterministic: the second run failed: {}", f.text) })
                }
            },
            other => other,
        };
        match result {
            Ok(o) => {
                events += o.events;
                requests += o.requests;
                completed += o.completed;
                if single {
                    println!("seed {seed}: {:?}\n{o:?}", Plan::draw(seed));
                }
            }
            Err(Failure { known: Some(k), text }) if !strict => {
                if single {
                    println!(
                        "seed {seed}: known bug {k:?}: {text}\n  {:?}\n  {}",
                        Plan::draw(seed),
                        replay_hint(seed, true)
                    );
                }
                known.entry(k).or_default().push(seed);
            }
            Err(f) => failures.push(format!(
                "seed {seed}: {}{}\n  {:?}\n  {}",
                f.known.map(|k| format!("[known bug {k:?}] ")).unwrap_or_default(),
                f.text,
                Plan::draw(seed),
                replay_hint(seed, f.known.is_some() || strict)
            )),
        }
    }
    let known_text: Vec<String> = known
        .iter()
        .map(|(k, s)| {
            format!(
                "{} with known bug {k:?} (seeds {:?}{})",
                s.len(),
                &s[..s.len().min(8)],
                if s.len() > 8 { " ..." } else { "" }
            )
        })
        .collect();
    println!(
        "shard {}: {} seeds in {:.1} s, {events} events, {requests} requests, {completed} completed{}{}",
        if shard == u64::MAX { "all".to_string() } else { shard.to_string() },
        seeds.len(),
        started.elapsed().as_secs_f64(),
        if known_text.is_empty() { "" } else { "; " },
        known_text.join("; ")
    );
    assert!(failures.is_empty(), "{} of {} seeds failed:\n{}", failures.len(), seeds.len(), failures.join("\n"));
}

// Swarm, shard 0 of 4 (the shards run in parallel; together they cover
// seeds 0..300, or SWARM_SEEDS / SWARM_SEED). Source: mod.rs, "Every
// request ends exactly one way" and its retry rules (see the header);
// known bugs are listed, not failed.
#[test]
fn swarm_shard_0() {
    run_shard(0, true);
}

// Swarm, shard 1 of 4.
#[test]
fn swarm_shard_1() {
    run_shard(1, true);
}

// Swarm, shard 2 of 4.
#[test]
fn swarm_shard_2() {
    run_shard(2, true);
}

// Swarm, shard 3 of 4.
#[test]
fn swarm_shard_3() {
    run_shard(3, true);
}

// Source: mod.rs (`crash`: "Work in progress and the queue are lost"; the
// balancer times the lost attempts out). Exact: one server, constant cost
// 100 ms, a request in service when the server crashes and recovers 1 ms
// later. The lost request must not be answered (it times out after 300 ms)
// and the model must not panic.
//
// This failed before the fix (the swarm found it): `crash` set `active = 0`
// and cleared the queue but left the crashed work's `Event::Done`
// scheduled; `Event::Done` only skipped it while the server was down.
// After `recover` the stale Done ran: it answered the lost request as if it
// had been served (here: completed, not timed out), added to `busy` and
// `served`, and decremented `active`, which was already 0: "attempt to subtract with overflow" at `s.active -= 1;`
// (balance/mod.rs, `Event::Done`) under the ci profile (overflow checks);
// in release it wrapped to u32::MAX and the server never started work
// again. Fixed: work carries the server's life (bumped by each crash) and
// a Done from an older life is dropped.
#[test]
fn crash_then_recover_loses_the_work_in_service() {
    let mut b = Balance::new(BalanceConfig {
        servers: 1,
        rate: 1,
        cost: CostDist::Constant,
        cost_mean: 100 * MS,
        latency: 0,
        timeout: 300 * MS,
        retries: 0,
        ..BalanceConfig::default()
    });
    // The first arrival (seed 1, rate 1/s) comes within a few seconds.
    while b.totals().requests == 0 {
        b.step();
    }
    let arrived = b.now();
    b.run_until(arrived + 10 * MS);
    assert_eq!(b.servers()[0].active, 1, "the request is in service");
    b.set_rate(0);
    b.crash(0).unwrap();
    b.run_until(arrived + 11 * MS);
    b.recover(0).unwrap();
    b.run_until(arrived + SEC);
    let t = b.totals();
    assert_eq!((t.completed, t.timed_out), (0, 1), "the lost request was answered: {t:?}");
    assert_eq!(b.servers()[0].active, 0);
}

/// A seed's configuration made calm: no faults, a queue and a timeout no
/// request reaches, no retries; arrivals at `load` of the servers' capacity.
fn calm(seed: u64, load: f64) -> BalanceConfig {
    let mut cfg = Plan::draw(seed).cfg;
    cfg.queue = 100_000;
    cfg.timeout = 100_000 * SEC;
    cfg.retries = 0;
    cfg.consecutive_errors = 0;
    let mean_speed = cfg.speeds.iter().map(|&s| f64::from(s)).sum::<f64>() / cfg.speeds.len() as f64 / 100.0;
    let capacity = f64::from(cfg.servers) * f64::from(cfg.concurrency) * mean_speed * 1e6 / cfg.cost_mean as f64;
    cfg.rate = (capacity * load).max(1.0) as u64;
    cfg
}

/// Runs arrivals for `arrivals`, then stops them and runs until every
/// request has ended; returns the totals when arrivals stopped and at the
/// end.
fn arrivals_then_drain(b: &mut Balance, arrivals: Time) -> (clusterscope_core::balance::Totals, Time) {
    b.run_until(arrivals);
    let at_stop = b.totals();
    b.set_rate(0);
    let mut events = 0u64;
    while b.totals().open() > 0 && events < 50_000_000 && b.step() {
        events += 1;
    }
    (at_stop, b.now())
}

// Source: conservation of work (every request ends exactly one way, mod.rs)
// and a stable queue (Kleinrock, Queueing Systems vol. 1, §1.4: below
// capacity, ρ < 1, the queue does not grow without bound). For every
// policy, in the swarm's own random configurations (servers, speeds,
// costs, concurrency, balancers, health checks, keys, regions) made calm
// (no faults, nothing rejected or timed out: queue 100,000, timeout
// 100,000 s, no retries):
//
// * once arrivals stop, every request completes: completed = requests, and
//   none is rejected, timed out or failed, whatever the load (a balancer
//   that refused or lost requests fails here);
// * below capacity (load 30–80 %, the same speeds everywhere, every request
//   its own key, so no policy has a reason to favour a server), throughput
//   keeps up with arrivals: after 20 s, the requests still open are at most
//   servers × (concurrency + 30), where a stable M/M/1 at ρ = 0.8 exceeds
//   30 waiting with probability 0.8^30 ≈ 0.1 %; a policy that sends every
//   request to one server leaves (ρn − 1) μ × 20 s open.
#[test]
fn calm_worlds_complete_every_request_and_keep_up_below_capacity() {
    let mut wrong = Vec::new();
    let mut per_policy = [0u32; Policy::ALL.len()];
    for seed in 0..240 {
        let mut r = Rng::stream(seed, StreamKind::Lab, 902);
        let load = r.range(30, 80) as f64 / 100.0;
        let mut cfg = calm(seed, load);
        cfg.speeds = vec![100];
        cfg.keys = 0;
        cfg.rate = {
            let capacity = f64::from(cfg.servers) * f64::from(cfg.concurrency) * 1e6 / cfg.cost_mean as f64;
            (capacity * load).max(1.0) as u64
        };
        if cfg.rate > 4_000 || cfg.cost == CostDist::Pareto {
            // Keep each seed quick; Pareto's α = 2 has no finite variance,
            // so an M/G/1 queue has no finite mean length to bound.
            continue;
        }
        let policy = cfg.policy;
        per_policy[Policy::ALL.iter().position(|&p| p == policy).unwrap_or(0)] += 1;
        let mut b = Balance::new(cfg.clone());
        let (at_stop, _) = arrivals_then_drain(&mut b, 20 * SEC);
        let t = b.totals();
        let bound = u64::from(cfg.servers) * (u64::from(cfg.concurrency) + 30);
        if t.completed != t.requests || t.rejected + t.timed_out + t.failed != 0 {
            wrong.push(format!("seed {seed} ({}): not every request completed: {t:?}", policy.name()));
        } else if at_stop.open() > bound {
            wrong.push(format!(
                "seed {seed} ({}, load {load}): {} of {} requests open after 20 s, bound {bound}",
                policy.name(),
                at_stop.open(),
                at_stop.requests
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(per_policy.iter().all(|&k| k >= 5), "seeds per policy {per_policy:?}");
}

// Source: independent trials, as in balance_theory.rs: when every server
// fails each attempt with probability p, a request allowed N retries
// succeeds with probability 1 − p^(N+1) if the budget never runs out (an
// unlimited budget, except late in a drain, see below), and
// with probability between 1 − p (its first attempt) and 1 − p^(N+1)
// whatever the budget. Which server a policy picks does not matter, as all
// fail alike, so this holds for every policy, and for health checks and
// ejection (a server they take out fails as often as the rest). In calm
// versions of the swarm's configurations with p drawn from 5–60 % and
// N from 0–3, the success ratio stays within 5 standard errors
// (sqrt(q(1 − q)/requests)) of those bounds.
#[test]
fn calm_worlds_succeed_as_independent_trials_when_every_server_fails_alike() {
    let mut wrong = Vec::new();
    let mut exact = 0;
    for seed in 0..160 {
        let mut r = Rng::stream(seed, StreamKind::Lab, 903);
        let mut cfg = calm(seed, 0.5);
        if cfg.rate > 4_000 {
            cfg.rate = 4_000;
        }
        let p = r.range(5, 60) as f64 / 100.0;
        cfg.retries = r.range(0, 3) as u32;
        cfg.backoff = r.range(0, 5 * MS);
        let unlimited = r.range(0, 1) == 1;
        if unlimited {
            cfg.retry_budget_ppm = 10_000_000;
        }
        let mut b = Balance::new(cfg.clone());
        for s in 0..cfg.servers {
            b.errors(s, (p * 1e6) as u32).expect("a server");
        }
        let secs = (2_000 / cfg.rate.max(1) + 1).min(200);
        let (stop, _) = arrivals_then_drain(&mut b, secs * SEC);
        let t = b.totals();
        let n = t.requests as f64;
        let ratio = t.completed as f64 / n;
        let top = 1.0 - p.powi(cfg.retries as i32 + 1);
        // The budget's deposits expire after 10 s (budget.rs, after
        // Finagle): an unlimited budget never runs out while requests
        // arrive, but a drain lasting past 10 s after the last arrival has
        // none left, and those late retries may be refused.
        if unlimited && stop.budget_refused > 0 {
            wrong.push(format!("seed {seed}: an unlimited budget refused retries while requests arrived: {stop:?}"));
        }
        let never_ran_out = unlimited && t.budget_refused == 0;
        let bottom = if never_ran_out { top } else { 1.0 - p };
        let se = |q: f64| (q * (1.0 - q) / n).sqrt();
        if t.open() != 0 || t.completed + t.failed != t.requests {
            wrong.push(format!("seed {seed}: requests ended otherwise than completed or failed: {t:?}"));
        } else if ratio < bottom - 5.0 * se(bottom) || ratio > top + 5.0 * se(top) {
            wrong.push(format!(
                "seed {seed} ({}, p {p}, {} retries, budget {}): success {ratio:.4} outside [{bottom:.4}, {top:.4}] ± 5 SE over {n} requests ({} retries refused by the budget; {} req/s, {:?})",
                cfg.policy.name(),
                cfg.retries,
                cfg.retry_budget_ppm,
                t.budget_refused,
                cfg.rate,
                t
            ));
        }
        exact += usize::from(never_ran_out && cfg.retries > 0);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(exact >= 30, "only {exact} seeds with retries and an unlimited budget");
}
