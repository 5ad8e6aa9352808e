//! The Load-balancing lab: the [`Balance`] model as a lab.
//!
//! It implements the lab interface directly (it is not a message-passing
//! protocol), but draws like a cluster: the servers and the balancer are
//! nodes, requests and answers are messages, so the shared drawing, node
//! table, metrics, charts and links serve it unchanged.

use super::policy::{Policy, NAMES};
use super::{Balance, BalanceConfig, CostDist, Flight};
use crate::lab::{
    choose_messages, Engine, FieldSpec, Frame, KindStyle, LabDef, LabHead, MessageDot, Messages, MetricSpec, Model,
    NodeAction, NodeStatus, NodeView, RoleStyle, Schema, Unit, DRAWN_MESSAGES, FRAME_LOG_LINES, FULL_LOG_LINES,
};
use crate::scenario::params::{choice, p, Kind, ParamSpec, PCT};
use crate::scenario::{check_node, parse_node, split_word, Action, Scenario, ScenarioError};
use crate::sim::{Time, MS, SEC};
use std::any::Any;

const M: i64 = MS as i64;
const S: i64 = SEC as i64;

/// Cost distributions, as files write them.
pub const COSTS: &[&str] = &["constant", "exponential", "lognormal", "pareto"];
/// Server speed patterns.
pub const SPEEDS: &[&str] = &["equal", "mixed"];

/// Parameters of the Load-balancing lab.
pub const PARAMS: &[ParamSpec] = &[
    choice("policy", "Policy", "how the balancer picks a server for each attempt", NAMES, 1, true),
    p("nodes", "Servers", "number of servers behind the balancer", Kind::Count, 1, 500, 10, false),
    p("d", "Choices (power of d)", "servers compared per pick by power of d choices", Kind::Count, 1, 10, 2, true),
    p("rate", "Requests (per s)", "Poisson arrivals per second of virtual time", Kind::Count, 0, 1_000_000, 800, true),
    choice("cost", "Request cost", "how the work a request needs is distributed", COSTS, 1, false),
    p("cost_mean", "Mean cost (ms)", "mean service time at normal speed", Kind::Duration, 1, 60 * S, 10 * M, false),
    choice("speeds", "Server speeds", "equal: all 100%; mixed: 50%, 100%, 200% in turn (the weights of weighted policies)", SPEEDS, 0, false),
    p("concurrency", "Concurrency", "requests a server works on at once", Kind::Count, 1, 1_000, 1, false),
    p("queue", "Queue capacity", "requests a server queues; beyond it rejects", Kind::Count, 0, 100_000, 100, false),
    p("latency", "Network latency (ms)", "one-way delay between balancer and server", Kind::Duration, 0, 10 * S, M, false),
    p("timeout", "Timeout (ms)", "how long the balancer waits for an attempt", Kind::Duration, M, 600 * S, S, true),
    p("retries", "Retries", "retries per request at most (0: none)", Kind::Count, 0, 10, 0, true),
    p("retry_budget", "Retry budget (%)", "retries allowed per request made in the last 10 s (20%: one in five); 1000%: effectively none", Kind::Percent, 0, 1_000 * PCT, 20 * PCT, true),
    p("backoff", "Back-off (ms)", "first retry waits up to this (full jitter), doubling per retry", Kind::Duration, 0, 60 * S, 10 * M, true),
    p("balancers", "Balancers", "balancers sharing the traffic; each sees only its own connections", Kind::Count, 1, 16, 1, false),
    p("health_interval", "Health checks (ms)", "active check interval per balancer and server; two failures mark a server unhealthy, two passes healthy (0: off)", Kind::Duration, 0, 600 * S, 0, false),
    p("ejection", "Outlier ejection after", "failures in a row (errors, rejections, timeouts) before a balancer ejects a server, as Envoy's consecutive_5xx (0: off)", Kind::Count, 0, 1_000, 0, false),
    p("base_ejection", "Ejection time (ms)", "how long the first ejection lasts; the n-th lasts n times as long (Envoy: 30 s)", Kind::Duration, M, 3_600 * S, 30 * S, false),
    p("max_ejection", "Most ejected (%)", "share of servers a balancer may eject at once, at least one (Envoy: 10%)", Kind::Percent, 0, 100 * PCT, 10 * PCT, false),
    choice("arrivals", "Arrivals", "steady Poisson, or bursts: twice the rate for a second, none for a second", ARRIVALS, 0, false),
    p("keys", "Keys", "distinct request keys for consistent hashing (0: every request its own)", Kind::Count, 0, 100_000, 0, false),
    p("zipf_s", "Key skew (Zipf s)", "key k is requested in proportion to 1/k^s (0: uniform)", Kind::Thousandths, 0, 5_000, 0, false),
    p("regions", "Client regions", "clients in regions on a map (the first the busiest), servers spread over them, balancers placed by k-means over the clients (0: no map)", Kind::Count, 0, 8, 0, false),
    p("distance_latency", "Latency per distance (ms)", "extra one-way latency for crossing the whole map", Kind::Duration, 0, 10 * S, 0, false),
    p("epsilon", "Bounded loads ε (%)", "consistent hashing sends a key elsewhere when its server has more than (1+ε) × the mean outstanding (0: unbounded)", Kind::Percent, 0, 1_000 * PCT, 0, true),
    p("slo", "Latency objective (ms)", "a request counts toward goodput when it succeeds within this long of its arrival (retries included)", Kind::Duration, M, 600 * S, 100 * M, true),
];

/// Arrival patterns.
pub const ARRIVALS: &[&str] = &["steady", "bursty"];

const VERBS: &[&str] = &["slow", "errors", "recover", "speed"];

fn pct_arg(verb: &str, rest: &str) -> Result<(u32, u32), String> {
    let (n, v) = split_word(rest);
    let node = parse_node(n)?;
    let v = v
        .strip_suffix('%')
        .and_then(|x| x.trim().parse::<u32>().ok())
        .ok_or_else(|| format!("'{verb}' takes a server and a percentage, like '{verb} S2 25%'"))?;
    Ok((node, v))
}

fn parse_verb(verb: &str, rest: &str) -> Result<String, String> {
    match verb {
        "slow" => {
            let (n, v) = pct_arg(verb, rest)?;
            if !(1..=10_000).contains(&v) {
                return Err("slow takes a speed from 1% to 10000% of normal".into());
            }
            Ok(format!("slow S{} {v}%", u64::from(n) + 1))
        }
        "errors" => {
            let (n, v) = pct_arg(verb, rest)?;
            if v > 100 {
                return Err("errors takes a share from 0% to 100%".into());
            }
            Ok(format!("errors S{} {v}%", u64::from(n) + 1))
        }
        "recover" => Ok(format!("recover S{}", u64::from(crate::scenario::parse_one_node(verb, rest)?) + 1)),
        "speed" => {
            let (n, v) = pct_arg(verb, rest)?;
            if !(1..=10_000).contains(&v) {
                return Err("speed takes a normal speed from 1% to 10000% (it is also the server's weight)".into());
            }
            Ok(format!("speed S{} {v}%", u64::from(n) + 1))
        }
        other => Err(format!("'{other}' is not an action of the balance lab")),
    }
}

fn check_verb(text: &str, nodes: &mut u32) -> Result<(), String> {
    let (verb, rest) = split_word(text);
    let n = match verb {
        "recover" => crate::scenario::parse_one_node(verb, rest)?,
        _ => pct_arg(verb, rest)?.0,
    };
    check_node(n, *nodes)
}

fn build(scn: &Scenario) -> Result<Box<dyn Model>, ScenarioError> {
    Ok(Box::new(BalanceLab::new(scn)))
}

/// The Load-balancing lab's handle, for scenarios built in code.
pub fn kind() -> crate::scenario::LabKind {
    crate::scenario::LabKind(&LAB)
}

/// What every program knows of this lab, even one that does not run it
/// (the registry's [`HEADS`](crate::lab::registry::HEADS)).
pub const HEAD: LabHead = LabHead {
    name: "balance",
    title: "Load balancing",
    about: "Policies from round robin to peak EWMA on the same traffic: queues, tail latency, rejections, timeouts and retries, with servers that crash, slow down or fail.",
    bench: true,
};

/// The Load-balancing lab, as registered.
pub static LAB: LabDef = LabDef {
    name: HEAD.name,
    title: HEAD.title,
    about: HEAD.about,
    params: &[PARAMS],
    shared_verbs: &["crash", "restart", "set"],
    verbs: VERBS,
    parse_verb,
    check_verb,
    check: |_| Ok(()),
    nodes: Scenario::nodes_param,
    bench: Some(include_str!("../../../../tests/scenarios/balance/bench.scn")),
    experiments: super::experiments::EXPERIMENTS,
    presets: &[
        ("Round robin over equal servers", include_str!("../../../../tests/scenarios/balance/default.scn")),
        (
            "Unequal servers: least connections and two choices",
            include_str!("../../../../tests/scenarios/balance/heterogeneous.scn"),
        ),
        (
            "One slow server (the Linkerd experiment)",
            include_str!("../../../../tests/scenarios/balance/slow-server.scn"),
        ),
        ("A retry storm, and a retry budget", include_str!("../../../../tests/scenarios/balance/retry-storm.scn")),
        ("Eight balancers herd under least connections", include_str!("../../../../tests/scenarios/balance/herd.scn")),
        (
            "Hot keys under consistent hashing, then bounded loads",
            include_str!("../../../../tests/scenarios/balance/hot-keys.scn"),
        ),
        (
            "Outlier ejection (Envoy's defaults)",
            include_str!("../../../../tests/scenarios/balance/outlier-ejection.scn"),
        ),
        ("Active health checks and a crash", include_str!("../../../../tests/scenarios/balance/health-checks.scn")),
        (
            "Locality against balance: regions and k-means",
            include_str!("../../../../tests/scenarios/balance/locality.scn"),
        ),
    ],
};

/// What runs the lab (see [`Engine`]).
pub static ENGINE: Engine = Engine { lab: &LAB, build, speed: None, runs: super::experiments::RUNS, also: &[] };

/// The model's configuration from a scenario.
pub fn balance_config(scn: &Scenario) -> BalanceConfig {
    let g = |n: &str| scn.get(n).max(0) as u64;
    BalanceConfig {
        servers: g("nodes") as u32,
        policy: Policy::ALL.get(g("policy") as usize).copied().unwrap_or(Policy::RoundRobin),
        d: g("d") as u32,
        rate: g("rate"),
        cost: [CostDist::Constant, CostDist::Exponential, CostDist::Lognormal, CostDist::Pareto]
            .get(g("cost") as usize)
            .copied()
            .unwrap_or(CostDist::Exponential),
        cost_mean: g("cost_mean"),
        concurrency: g("concurrency") as u32,
        queue: g("queue") as u32,
        speeds: if g("speeds") == 1 { vec![50, 100, 200] } else { vec![100] },
        latency: g("latency"),
        timeout: g("timeout"),
        retries: g("retries") as u32,
        retry_budget_ppm: g("retry_budget"),
        backoff: g("backoff"),
        ewma_tau: 10 * SEC,
        balancers: g("balancers") as u32,
        health_interval: g("health_interval"),
        consecutive_errors: g("ejection") as u32,
        base_ejection: g("base_ejection"),
        max_ejection_pct: (g("max_ejection") / PCT as u64) as u32,
        bursty: g("arrivals") == 1,
        keys: g("keys") as u32,
        zipf_milli: g("zipf_s") as u32,
        epsilon_pct: (g("epsilon") / PCT as u64) as u32,
        regions: g("regions") as u32,
        distance_latency: g("distance_latency"),
        slo: g("slo"),
        seed: scn.seed,
    }
}

/// The lab's own view: the latency histogram of the last one to two
/// seconds, in log-spaced buckets.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BalanceView {
    /// (upper bound in microseconds, requests completed within it and
    /// above the previous bound); the last bucket has no upper bound.
    pub buckets: Vec<(u64, u64)>,
}

/// Histogram bucket bounds: 1, 2, 5, 10, ... ms up to 10 s.
pub const BUCKETS_US: &[u64] = &[
    1_000,
    2_000,
    5_000,
    10_000,
    20_000,
    50_000,
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    u64::MAX,
];

/// The lab.
#[derive(Clone)]
pub struct BalanceLab {
    model: Balance,
    sent_nodes: Vec<NodeView>,
    log_cursor: u64,
}

impl BalanceLab {
    /// The lab a scenario describes, at time 0.
    pub fn new(scn: &Scenario) -> BalanceLab {
        BalanceLab { model: Balance::new(balance_config(scn)), sent_nodes: Vec::new(), log_cursor: 0 }
    }

    /// The model, for tests.
    pub fn model(&self) -> &Balance {
        &self.model
    }

    fn views(&self) -> Vec<NodeView> {
        let m = &self.model;
        let now = m.now().max(1);
        let conc = u64::from(m.cfg.concurrency.max(1));
        let mut out: Vec<NodeView> = m
            .servers()
            .iter()
            .enumerate()
            .map(|(i, s)| NodeView {
                id: i as u32,
                status: if s.down { NodeStatus::Crashed } else { NodeStatus::Up },
                role: if m.balancers().iter().any(|b| !b.eligible(i, m.now())) {
                    5
                } else if s.error_ppm > 0 {
                    3
                } else if s.speed < s.base_speed {
                    2
                } else if !s.queued.is_empty() {
                    1
                } else {
                    0
                },
                fields: vec![
                    s.queued.len() as i64,
                    i64::from(s.active),
                    i64::from(s.outstanding),
                    (s.busy * 100 / (now * conc)) as i64,
                    i64::from(s.speed),
                    i64::from(s.error_ppm / 10_000),
                    s.served as i64,
                ],
                strip: Vec::new(),
                strip_first: 0,
                strip_mark: 0,
                timer: None,
            })
            .collect();
        let n = out.len() as u32;
        for (i, b) in m.balancers().iter().enumerate() {
            out.push(NodeView {
                id: n + i as u32,
                status: NodeStatus::Up,
                role: 4,
                fields: vec![
                    i64::MIN,
                    i64::MIN,
                    b.outstanding.iter().map(|&o| i64::from(o)).sum(),
                    i64::MIN,
                    i64::MIN,
                    i64::MIN,
                    i64::MIN,
                ],
                strip: Vec::new(),
                strip_first: 0,
                strip_mark: 0,
                timer: None,
            });
        }
        out
    }
}

impl Model for BalanceLab {
    fn now(&self) -> Time {
        self.model.now()
    }

    fn next_event(&self) -> Option<Time> {
        self.model.next_event()
    }

    fn run_to(&mut self, t: Time) {
        self.model.run_until(t);
    }

    fn apply(&mut self, action: &Action) -> Result<(), String> {
        let m = &mut self.model;
        match action {
            Action::Crash(n) => m.crash(*n),
            Action::Restart(n) => m.recover(*n),
            Action::Set(name, v) => {
                let v = (*v).max(0) as u64;
                match name.as_str() {
                    "rate" => m.set_rate(v),
                    "policy" => m.cfg.policy = Policy::ALL.get(v as usize).copied().ok_or("no such policy")?,
                    "d" => m.cfg.d = v as u32,
                    "timeout" => m.cfg.timeout = v,
                    "retries" => m.cfg.retries = v as u32,
                    "retry_budget" => m.cfg.retry_budget_ppm = v,
                    "backoff" => m.cfg.backoff = v,
                    "epsilon" => m.cfg.epsilon_pct = (v / PCT as u64) as u32,
                    "slo" => m.cfg.slo = v,
                    other => return Err(format!("{other} cannot change during a run")),
                }
                Ok(())
            }
            Action::Lab(text) => {
                let (verb, rest) = split_word(text);
                match verb {
                    "recover" => m.recover(crate::scenario::parse_one_node(verb, rest)?),
                    "slow" => {
                        let (n, v) = pct_arg(verb, rest)?;
                        m.slow(n, v)
                    }
                    "errors" => {
                        let (n, v) = pct_arg(verb, rest)?;
                        m.errors(n, v * 10_000)
                    }
                    "speed" => {
                        let (n, v) = pct_arg(verb, rest)?;
                        m.set_speed(n, v)
                    }
                    other => Err(format!("'{other}' is not an action of the balance lab")),
                }
            }
            other => Err(format!("'{other}' is not an action of the balance lab")),
        }
    }

    fn fingerprint(&self) -> u64 {
        self.model.fingerprint()
    }

    fn events(&self) -> u64 {
        self.model.events()
    }

    fn counters(&self) -> crate::sim::Counters {
        let t = self.model.totals();
        crate::sim::Counters {
            events: self.model.events(),
            sent: t.attempts,
            delivered: t.attempts,
            dropped: 0,
            requests: t.requests,
            committed: t.completed,
        }
    }

    fn schema(&self) -> Schema {
        let m = MetricSpec::new;
        let f = FieldSpec::new;
        let role = RoleStyle::new;
        let up = [crate::lab::NodeStatus::Up];
        let kind = |n: &str, c: &str, reply: bool| KindStyle {
            name: n.into(),
            color: c.into(),
            reply,
            small: true,
            unused: false,
        };
        Schema {
            diagram: false,
            lab: String::new(),
            title: String::new(),
            timed: true,
            cluster: true,
            roles: vec![
                role("serving", "#4a78c2"),
                role("queueing", "#e0a21b"),
                role("slow", "#c2504a"),
                role("failing", "#e05a5a"),
                role("balancer", "#8a6ad0").hub("LB"),
                role("ejected", "#5d6677"),
            ],
            kinds: vec![
                kind("request", "#9aa3b2", false),
                kind("answer", "#2e9d5b", true),
                kind("error", "#e05a5a", true),
                kind("rejected", "#e0a21b", true),
            ],
            fields: vec![
                f("queued", "Queued", Unit::Count),
                f("active", "Working", Unit::Count),
                f("outstanding", "Outstanding", Unit::Count),
                f("util", "Utilisation (%)", Unit::Count),
                f("speed", "Speed (%)", Unit::Count),
                f("errors", "Errors (%)", Unit::Count),
                f("served", "Served", Unit::Count),
            ],
            strip: None,
            metrics: vec![
                m("p50", "Latency p50 of completed requests (last 1–2 s)", Unit::Micros, true),
                m("p95", "Latency p95 of completed requests (last 1–2 s)", Unit::Micros, true),
                m("p99", "Latency p99 of completed requests (last 1–2 s)", Unit::Micros, true),
                m("p999", "Latency p99.9 of completed requests (last 1–2 s)", Unit::Micros, true),
                m("max", "Latency max of completed requests (last 1–2 s)", Unit::Micros, true),
                m("throughput", "Completed per second", Unit::PerSec, true),
                m("success", "Success rate", Unit::Fraction, true),
                m("requests", "Requests made", Unit::Count, false),
                m("completed", "Completed", Unit::Count, false),
                m("rejected", "Rejected", Unit::Count, false),
                m("timed_out", "Timed out", Unit::Count, false),
                m("failed", "Failed", Unit::Count, false),
                m("retries_per_request", "Retries per request", Unit::Ratio, true),
                m("attempts_per_request", "Attempts per request", Unit::Ratio, false),
                m("budget_refused", "Retries the budget refused", Unit::Count, false),
                m("utilisation", "Mean utilisation", Unit::Fraction, false),
                m("queued", "Queued now", Unit::Count, true),
                m("p99_all", "Latency p99 of completed requests, whole run", Unit::Micros, false),
                m("hop", "Mean one-way network delay", Unit::Micros, false),
                m("goodput", "Goodput (succeeded within the objective)", Unit::Fraction, true),
                m("p99_every", "Latency p99 of all requests, whole run", Unit::Micros, true),
            ],
            nodes: self.model.servers().len() as u32,
            verbs: Vec::new(),
            notes: Vec::new(),
            node_actions: vec![
                NodeAction::new("Slow to 10%", "slow {node} 10%")
                    .named("Slow down")
                    .help("to 10% of its speed")
                    .enabled(&up),
                NodeAction::new("Fail 50%", "errors {node} 50%")
                    .named("Fail half")
                    .help("fail 50% of requests")
                    .enabled(&up),
                NodeAction::new("Recover", "recover {node}").help("normal speed, no errors"),
            ],
        }
    }

    fn metrics(&mut self) -> Vec<f64> {
        let m = &self.model;
        let t = m.totals();
        let (recent, throughput) = m.recent();
        let q = |h: &hdrhistogram::Histogram<u64>, q: f64| {
            if h.is_empty() {
                f64::NAN
            } else {
                h.value_at_quantile(q) as f64
            }
        };
        let ended = t.completed + t.rejected + t.timed_out + t.failed;
        let now = m.now().max(1);
        let slots = m.servers().len() as u64 * u64::from(m.cfg.concurrency.max(1));
        let busy: Time = m.servers().iter().map(|s| s.busy).sum();
        vec![
            q(&recent, 0.5),
            q(&recent, 0.95),
            q(&recent, 0.99),
            q(&recent, 0.999),
            if recent.is_empty() { f64::NAN } else { recent.max() as f64 },
            throughput,
            if ended > 0 { t.completed as f64 / ended as f64 } else { f64::NAN },
            t.requests as f64,
            t.completed as f64,
            t.rejected as f64,
            t.timed_out as f64,
            t.failed as f64,
            if t.requests > 0 { t.retries as f64 / t.requests as f64 } else { 0.0 },
            if t.requests > 0 { t.attempts as f64 / t.requests as f64 } else { 0.0 },
            t.budget_refused as f64,
            busy as f64 / (now * slots.max(1)) as f64,
            m.servers().iter().map(|s| s.queued.len()).sum::<usize>() as f64,
            q(m.latency(), 0.99),
            m.mean_hop(),
            t.goodput(),
            m.latency_all_at(0.99).map_or(f64::NAN, |v| v as f64),
        ]
    }

    fn draw(&mut self, frame: &mut Frame, full: bool) {
        let views = self.views();
        frame.node_count = views.len() as u32;
        frame.nodes = if full || self.sent_nodes.len() != views.len() {
            views.clone()
        } else {
            views.iter().zip(&self.sent_nodes).filter(|(v, o)| v != o).map(|(v, _)| v.clone()).collect()
        };
        self.sent_nodes = views;
        let (recent, _) = self.model.recent();
        let mut below = 0;
        let buckets = BUCKETS_US
            .iter()
            .map(|&hi| {
                let upto = if hi == u64::MAX || recent.is_empty() {
                    recent.len()
                } else {
                    recent.count_between(0, hi.min(recent.max()))
                };
                let n = upto.saturating_sub(below);
                below = upto.max(below);
                (hi, n)
            })
            .collect();
        frame.view = bincode::serialize(&BalanceView { buckets }).ok();
        let first_balancer = self.model.servers().len() as u32;
        let dots: Vec<MessageDot> = self
            .model
            .flights()
            .into_iter()
            .map(|f: Flight| MessageDot {
                from: if f.answer { f.server } else { first_balancer + f.balancer },
                to: if f.answer { first_balancer + f.balancer } else { f.server },
                kind: if f.answer { 1 + f.outcome } else { 0 },
                sent_at: f.sent,
                deliver_at: f.due,
            })
            .collect();
        frame.messages_total = dots.len() as u64;
        frame.messages = Messages::pack(self.model.now(), &choose_messages(dots, DRAWN_MESSAGES));
        let (log, total) = self.model.log();
        let from = if full { 0 } else { self.log_cursor };
        let first = total - log.len() as u64;
        let skip = from.saturating_sub(first) as usize;
        let budget = if full { FULL_LOG_LINES } else { FRAME_LOG_LINES };
        let lines: Vec<String> = log.iter().skip(skip).cloned().collect();
        frame.log = lines[lines.len().saturating_sub(budget)..].to_vec();
        self.log_cursor = total;
    }

    fn trace_lines(&self) -> Vec<String> {
        self.model.log().0.iter().cloned().collect()
    }

    fn clone_box(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
