//! Rules of the balancing policies and of failure detection that the
//! per-pick tests (balance_picks.rs) leave open: which servers a balancer
//! may pick at all (ejected and unhealthy ones never, all of them in panic
//! mode), weighted random's exact shares, the health checks' timing and
//! their failures, locality's bound for every ε, and what the log says.
//! Each rule comes from the source policy.rs or detection.rs cites; mutation
//! testing (`./dev mutants policies`, docs/testing.md) showed them untested.
//!
//! As in balance_picks.rs, the model is stepped one event at a time; a pick
//! is the event after which `totals().attempts` grew by one, its server the
//! server of `last_pick()`, its balancer the one whose own `outstanding`
//! for that server grew; the balancers read just before `step()` are what
//! the policy saw.

use clusterscope_core::balance::policy::NAMES;
use clusterscope_core::balance::{Balance, Balancer, Policy};
use clusterscope_core::sim::{Time, MS, SEC};

mod balance_common;
use balance_common::config;

/// One pick: the server, the time and the picking balancer's state just
/// before it.
struct Pick {
    server: u32,
    now: Time,
    before: Balancer,
}

/// Steps until `until`, calling `seen` with each pick and `after` after
/// every event with the balancers as they were before it.
fn step_until(b: &mut Balance, until: Time, mut seen: impl FnMut(&Pick), mut after: impl FnMut(&Balance, &[Balancer])) {
    while b.next_event().is_some_and(|t| t <= until) {
        let before = b.balancers().to_vec();
        let attempts = b.totals().attempts;
        b.step();
        if b.totals().attempts == attempts + 1 {
            let server = b.last_pick().expect("a pick is made");
            let bal = (0..before.len())
                .find(|&k| b.balancers()[k].outstanding[server as usize] > before[k].outstanding[server as usize])
                .expect("the picking balancer counts the attempt");
            seen(&Pick { server, now: b.now(), before: before[bal].clone() });
        }
        after(b, &before);
    }
}

// Source: detection.rs ("A balancer sends new requests only to servers it
// believes healthy and has not ejected"), after Envoy: an ejected host is
// out of the load-balancing pool until its ejection time passes, and a host
// failing active health checks gets no traffic while any host is healthy.
// Exact for every pick of every policy: the server picked is one the
// picking balancer believed healthy and not ejected at that moment. S2
// fails every request (ejected again and again), S4 crashes at 0.5 s (the
// health checks take it out); S3 is slowed to 1 % from 0.2 s, so its
// attempts time out and it is ejected but passes its health checks. The test insists that both are excluded
// for a while, that the others take every pick then, and that S3, once its
// ejection ends, is tried again.
#[test]
fn every_policy_picks_only_healthy_servers_that_are_not_ejected() {
    for policy in Policy::ALL {
        let mut c = config(policy, 5, 11);
        c.consecutive_errors = 3;
        c.base_ejection = 150 * MS;
        c.max_ejection_pct = 40;
        c.health_interval = 50 * MS;
        c.speeds = vec![100, 100, 200, 100, 50];
        if policy == Policy::Locality {
            c.regions = 2;
        }
        let mut b = Balance::new(c);
        b.errors(1, 1_000_000).unwrap();
        let (mut excluded_picks, mut s3_after_ejection) = (0u32, 0u32);
        let mut check = |p: &Pick| {
            let s = p.server as usize;
            assert!(
                p.before.healthy[s] && p.before.ejected_until[s] <= p.now,
                "{}: pick of S{} at {} µs, which the balancer believed {} (ejected until {} µs)",
                policy.name(),
                s + 1,
                p.now,
                if p.before.healthy[s] { "healthy" } else { "unhealthy" },
                p.before.ejected_until[s]
            );
            if p.before.ejected_until[1] > p.now || !p.before.healthy[3] {
                excluded_picks += 1;
            }
            if s == 2 && p.before.ejected_until[2] > 0 {
                s3_after_ejection += 1;
            }
        };
        step_until(&mut b, 200 * MS, &mut check, |_, _| {});
        b.slow(2, 1).unwrap();
        step_until(&mut b, 500 * MS, &mut check, |_, _| {});
        b.crash(3).unwrap();
        step_until(&mut b, 2 * SEC, &mut check, |_, _| {});
        assert!(excluded_picks > 300, "{}: {excluded_picks} picks while S2 or S4 was out", policy.name());
        assert!(!b.balancers()[0].healthy[3], "{}: S4 is down and checked", policy.name());
        if policy != Policy::ConsistentHash && policy != Policy::Locality {
            // Hashing and locality send S3 only the keys or clients that are its own.
            assert!(s3_after_ejection > 0, "{}: S3 never tried again after an ejection", policy.name());
        }
    }
}

// Source: policy.rs ("all of them if it believes none is, as Envoy's panic
// mode does"): Envoy balances over every host when too few are healthy. All
// three servers crash and the checks mark them all unhealthy; round robin
// must then still go round all three in turn (and random reach all three).
#[test]
fn with_every_server_unhealthy_the_balancer_uses_them_all() {
    for policy in [Policy::RoundRobin, Policy::Random] {
        let mut c = config(policy, 3, 5);
        c.rate = 300;
        c.health_interval = 20 * MS;
        let mut b = Balance::new(c);
        for s in 0..3 {
            b.crash(s).unwrap();
        }
        // Two failed checks each, then picks in panic mode.
        step_until(&mut b, 200 * MS, |_| {}, |_, _| {});
        assert!(b.balancers()[0].healthy.iter().all(|h| !h), "all three marked unhealthy");
        let mut picks: Vec<u32> = Vec::new();
        step_until(&mut b, SEC, |p| picks.push(p.server), |_, _| {});
        assert!(picks.len() > 150, "{}: {} picks", policy.name(), picks.len());
        for s in 0..3 {
            assert!(picks.contains(&s), "{}: S{} never picked in panic mode", policy.name(), s + 1);
        }
        if policy == Policy::RoundRobin {
            for w in picks.windows(2) {
                assert_eq!(w[1], (w[0] + 1) % 3, "round robin in panic mode goes round: {picks:?}");
            }
        }
    }
}

// Source: policy.rs's table, weighted random: "a server with probability
// proportional to its weight" (weights are the servers' speeds). Speeds
// 1, 1 and 2 % make the weights 1/4, 1/4 and 1/2 exactly: each share must
// be within 5 standard errors (sqrt(p(1 − p)/N)) of it over 20,000 picks.
// Small weights make an off-by-one in the draw a large error.
#[test]
fn weighted_random_shares_follow_small_weights_exactly() {
    let mut c = config(Policy::WeightedRandom, 3, 8);
    c.speeds = vec![1, 1, 2];
    c.rate = 20_000;
    c.timeout = 10 * MS;
    let mut b = Balance::new(c);
    let mut per = [0u32; 3];
    step_until(&mut b, SEC, |p| per[p.server as usize] += 1, |_, _| {});
    let n: u32 = per.iter().sum();
    assert!(n > 15_000, "{n} picks");
    for (s, want) in [0.25, 0.25, 0.5].into_iter().enumerate() {
        let share = f64::from(per[s]) / f64::from(n);
        let se = (want * (1.0 - want) / f64::from(n)).sqrt();
        assert!((share - want).abs() < 5.0 * se, "S{}: {share:.4} of {n} picks, weight share {want}: {per:?}", s + 1);
    }
}

// Source: the scenario format (docs/scenario-format.md, `policy <name>`)
// and the menu: each policy has its own name, the one files write, in
// menu order.
#[test]
fn each_policy_has_its_own_name() {
    let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
    assert_eq!(names, NAMES);
    assert_eq!(Policy::PeakEwma.name(), "peak_ewma");
}

// Source: detection.rs: "every `health_interval` a balancer probes each
// server"; the probe's answer comes back after a round trip, 2 × the hop
// between balancer and server, and two failed probes in a row mark the
// server unhealthy (Envoy's unhealthy threshold 2). With a 40 ms hop and
// checks every 100 ms, the check that marks a crashed server down is the
// second sent after the crash, so it lands in (crash + 100 ms + 80 ms,
// crash + 200 ms + 80 ms]: exact for each of two balancers and four
// crashed servers (their first checks are spread at random).
#[test]
fn a_crashed_server_is_marked_down_a_round_trip_after_its_second_failed_check() {
    let (hop, interval) = (40 * MS, 100 * MS);
    let mut c = config(Policy::RoundRobin, 5, 3);
    c.latency = hop;
    c.health_interval = interval;
    c.balancers = 2;
    c.timeout = SEC;
    c.rate = 100;
    let mut b = Balance::new(c);
    step_until(&mut b, 1_013 * MS, |_| {}, |_, _| {});
    let crash = b.now();
    for s in 0..4 {
        b.crash(s).unwrap();
    }
    let mut marked = Vec::new();
    step_until(
        &mut b,
        2 * SEC,
        |_| {},
        |b, before| {
            for (k, bal) in b.balancers().iter().enumerate() {
                for s in 0..4 {
                    if before[k].healthy[s] && !bal.healthy[s] {
                        marked.push((k, s, b.now()));
                    }
                }
            }
        },
    );
    assert_eq!(marked.len(), 8, "each balancer marks each crashed server once: {marked:?}");
    for (k, s, at) in marked {
        assert!(
            at > crash + interval + 2 * hop && at <= crash + 2 * interval + 2 * hop,
            "balancer {} marked S{} down at {at} µs, crash at {crash} µs: not a round trip after the second check",
            k + 1,
            s + 1
        );
    }
    assert!(b.balancers()[0].healthy[4] && b.balancers()[1].healthy[4], "S5 stays up and healthy");
}

// Source: detection.rs: "A probe passes if the server is up and does not
// fail it": a server that fails every request fails every probe and is
// marked unhealthy; one that fails 1 % of them almost never fails two
// probes in a row (probability 10⁻⁴ per probe) and stays healthy over 300
// probes; a healthy server is never marked down.
#[test]
fn a_server_that_fails_requests_fails_its_health_checks() {
    let mut c = config(Policy::RoundRobin, 3, 6);
    c.health_interval = 10 * MS;
    c.rate = 100;
    let mut b = Balance::new(c);
    b.errors(0, 10_000).unwrap();
    b.errors(1, 1_000_000).unwrap();
    let mut ever_down = [false; 3];
    step_until(
        &mut b,
        3 * SEC,
        |_| {},
        |b, _| {
            for (s, d) in ever_down.iter_mut().enumerate() {
                *d |= !b.balancers()[0].healthy[s];
            }
        },
    );
    assert_eq!(ever_down, [false, true, false], "1 % errors, 100 % errors, none");
}

// Source: detection.rs and faults.rs: the log tells, per balancer, which
// server it marks or ejects, numbered from 1 as on the page (balancer 1,
// S1). Two balancers, S2 failing every request: each balancer's own
// decisions are logged under its own number.
#[test]
fn the_log_names_the_balancer_and_the_server_of_each_decision() {
    let mut c = config(Policy::RoundRobin, 3, 2);
    c.balancers = 2;
    c.health_interval = 500 * MS;
    c.consecutive_errors = 2;
    c.base_ejection = 300 * MS;
    c.max_ejection_pct = 50;
    c.rate = 100;
    let mut b = Balance::new(c);
    b.errors(1, 1_000_000).unwrap();
    // The log keeps a window of lines: collect the balancers' lines as they come.
    let mut lines: Vec<String> = Vec::new();
    let mut seen_total = b.log().1;
    step_until(
        &mut b,
        2 * SEC,
        |_| {},
        |b, _| {
            let (window, total) = b.log();
            let new = (total - seen_total) as usize;
            seen_total = total;
            lines.extend(
                window.iter().skip(window.len() - new.min(window.len())).filter(|l| l.contains("balancer")).cloned(),
            );
        },
    );
    for bal in 1..=2 {
        let marks = format!("balancer {bal} marks S2 unhealthy");
        let ejects = format!("balancer {bal} ejects S2 until ");
        assert!(lines.iter().any(|l| l.contains(&marks)), "no line with {marks:?}: {lines:#?}");
        assert!(lines.iter().any(|l| l.contains(&ejects)), "no line with {ejects:?}: {lines:#?}");
    }
    assert!(
        lines.iter().all(|l| l.contains(" S2 ") && (l.contains("balancer 1 ") || l.contains("balancer 2 "))),
        "only S2 is in trouble, and there are two balancers: {lines:#?}"
    );
}
