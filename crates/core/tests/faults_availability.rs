//! Availability under churn against the binomial model.
//!
//! Where the expectation comes from: each member alternates between up
//! (exponential, mean MTTF) and down (exponential, mean MTTR); in the long
//! run it is down a share p = MTTR / (MTTF + MTTR) of the time (renewal
//! theory), and members that fail independently are down together as the
//! binomial model says: P(k of n down) = C(n,k) p^k (1−p)^(n−k). A service
//! that tolerates f down is available P(at most f down) of the time.
//!
//! Statistical bound: each case runs 40 seeds, each over 2,000 mean
//! failure-repair cycles per member; the seeds' results are independent,
//! so their mean lies within 4 standard errors (the seeds' sample standard
//! deviation over √40) of the model unless something is wrong (a false
//! alarm about once in 16,000 cases; the seeds are fixed, so the test is
//! deterministic).

use clusterscope_core::faults::churn::{binomial, binomial_at_most, measure, ChurnConfig, DownTime};
use clusterscope_core::faults::lab::{FaultsTracker, ENGINE};
use clusterscope_core::faults::FaultsNode;
use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::{registry, Lab};
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{Time, SEC};

const SEEDS: u64 = 40;
const CYCLES: u64 = 2_000;

fn unavailability(cfg: ChurnConfig, f: u32, seed: u64) -> (f64, f64) {
    let horizon = (cfg.mttf + cfg.mttr) * CYCLES;
    let dt: DownTime = measure(cfg, seed, horizon);
    let down_share = (0..=cfg.n).map(|k| f64::from(k) * dt.share(horizon, k)).sum::<f64>() / f64::from(cfg.n);
    (1.0 - dt.at_most(horizon, f), down_share)
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, v.sqrt())
}

// The binomial arithmetic itself, by hand: n = 3, p = 0.1:
// P(0) = 0.729, P(1) = 3·0.1·0.81 = 0.243, P(2) = 3·0.01·0.9 = 0.027,
// P(3) = 0.001.
#[test]
fn binomial_model_by_hand() {
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} against {b}");
    close(binomial(3, 0, 0.1), 0.729);
    close(binomial(3, 1, 0.1), 0.243);
    close(binomial(3, 2, 0.1), 0.027);
    close(binomial(3, 3, 0.1), 0.001);
    close(binomial_at_most(3, 1, 0.1), 0.972);
}

#[test]
fn independent_failures_match_the_binomial_model() {
    let mttr: Time = 3_600 * SEC;
    for (n, f, p) in [(5u32, 1u32, 0.05), (5, 2, 0.1), (9, 2, 0.1), (3, 1, 0.2), (12, 3, 0.15)] {
        let mttf = (mttr as f64 * (1.0 - p) / p).round() as Time;
        let cfg = ChurnConfig { n, mttf, mttr, zone: 0, zone_mttf: 0, ..ChurnConfig::default() };
        let runs: Vec<(f64, f64)> = (1..=SEEDS).map(|s| unavailability(cfg, f, s)).collect();
        let (u, su) = mean_sd(&runs.iter().map(|r| r.0).collect::<Vec<_>>());
        let (d, sd) = mean_sd(&runs.iter().map(|r| r.1).collect::<Vec<_>>());
        let model = 1.0 - binomial_at_most(n, f, p);
        let se = su / (SEEDS as f64).sqrt();
        assert!(
            (u - model).abs() <= 4.0 * se,
            "n {n}, f {f}, p {p}: unavailability {u:.6} against the model's {model:.6} (4 SE = {:.6})",
            4.0 * se
        );
        assert!((d - p).abs() <= 4.0 * sd / (SEEDS as f64).sqrt(), "n {n}, p {p}: each member down {d:.5} of the time");
    }
}

// Correlated failures: zones of 3 of 6 members, a service that tolerates
// 2 down; each member fails on its own at 4/5 of the rate and with its
// zone at 1/5, so it is down about as often as an independent one with the
// same p — but when it is down its zone-mates often are too, and "three
// down at once", which the binomial model (independence) puts at about
// 20·p³ = 0.2%, happens whenever a zone is down (about 2% of the time).
#[test]
fn zone_failures_break_the_binomial_model() {
    let (n, f, p) = (6u32, 2u32, 0.05);
    let mttr: Time = 3_600 * SEC;
    let mttf = (mttr as f64 * (1.0 - p) / p).round() as Time;
    let cfg = ChurnConfig { n, mttf: mttf * 5 / 4, mttr, zone: 3, zone_mttf: mttf * 5, ..ChurnConfig::default() };
    let runs: Vec<(f64, f64)> = (1..=SEEDS).map(|s| unavailability(cfg, f, s)).collect();
    let (u, _) = mean_sd(&runs.iter().map(|r| r.0).collect::<Vec<_>>());
    let (d, _) = mean_sd(&runs.iter().map(|r| r.1).collect::<Vec<_>>());
    let model = 1.0 - binomial_at_most(n, f, d);
    assert!((d - p).abs() < 0.25 * p, "each member is down about p of the time: {d:.4}");
    assert!(u > 3.0 * model, "zones: unavailability {u:.5} is far above the model's {model:.5} at the measured p");
}

// The lab itself: members with churn on, the phi detector running; the
// lab's availability metric is the share of time at most `tolerate` are
// down, and over a long run it lands near the model (a loose bound: one
// run, 400 mean cycles). Mean time to failure 9 s, to repair 1 s: p = 0.1.
#[test]
fn the_lab_measures_availability_under_churn() {
    let _ = registry::register_engine(&ENGINE);
    let text = "lab faults\nseed 5\nnodes 5\ndetector heartbeat\nheartbeat 200ms\ntimeout 700ms\nmttf 9s\nmttr 1s\ntolerate 1\nuntil 4000s\n";
    let mut lab = Lab::new(&Scenario::parse(text).expect("valid")).expect("builds");
    lab.run_until(4000 * SEC);
    let m = lab.metrics();
    let get = |name: &str| m.iter().find(|(s, _)| s.name == name).map(|(_, v)| *v).expect(name);
    let model = binomial_at_most(5, 1, 0.1);
    assert!((get("avail_model") - model).abs() < 1e-12);
    assert!((get("p_model") - 0.1).abs() < 1e-12);
    assert!((get("avail") - model).abs() < 0.03, "measured {} against {model}", get("avail"));
    assert!((get("down_share") - 0.1).abs() < 0.02, "down share {}", get("down_share"));
    let t: &FaultsTracker = lab.model::<ClusterLab<FaultsNode>>().expect("faults").tracker();
    assert!(t.detections > 100, "the detector saw the churn's crashes: {}", t.detections);
}

// Weibull times (what churn draws with `mttf_shape` and `mttr_shape`):
// of shape k and scale λ, λ·(−ln U)^(1/k), mean λ·Γ(1 + 1/k) and variance
// λ²·[Γ(1 + 2/k) − Γ(1 + 1/k)²]. Hand values of Γ: k = 0.5: Γ(3) = 2,
// Γ(5) = 24 (variance 20λ²); k = 1: Γ(2) = 1, Γ(3) = 2 (variance λ²: the
// exponential); k = 2: Γ(1.5) = √π/2 = 0.886227, Γ(2) = 1 (variance
// 0.214602λ²); k = 3: Γ(4/3) = 0.892980, Γ(5/3) = 0.902745 (variance
// 0.105333λ²). Bound: 200,000 draws each, the sample mean within 4
// standard errors (σ/√N) of λ·Γ(1 + 1/k).
#[test]
fn weibull_draws_have_the_mean_gamma_gives() {
    use clusterscope_core::faults::churn::weibull;
    use clusterscope_core::sim::{Rng, StreamKind};
    const N: usize = 200_000;
    let scale = 1_000_000.0;
    for (k, gamma1, var) in
        [(0.5, 2.0, 20.0), (1.0, 1.0, 1.0), (2.0, 0.886_227, 0.214_602), (3.0, 0.892_980, 0.105_333)]
    {
        let mut rng = Rng::stream(11, StreamKind::Lab, 3);
        let mean = (0..N).map(|_| weibull(&mut rng, scale, k)).sum::<f64>() / N as f64;
        let want = scale * gamma1;
        let se = scale * f64::sqrt(var) / (N as f64).sqrt();
        assert!(
            (mean - want).abs() <= 4.0 * se,
            "k {k}: mean {mean:.0} against λΓ(1+1/k) = {want:.0} (4 SE = {:.0})",
            4.0 * se
        );
    }
}

// The churn keeps MTTF and MTTR as the means whatever the shapes (the
// scale is mean / Γ(1 + 1/k)), and the availability of an alternating
// renewal process depends on the means alone, so with Weibull times to
// failure of shape 0.5 (a long tail) and repairs of shape 2 each member is
// still down p = MTTR / (MTTF + MTTR) of the time and independent members
// still follow the binomial model, within the same 4 standard errors over
// 40 seeds as the exponential cases above.
#[test]
fn weibull_churn_keeps_the_binomial_model() {
    let mttr: Time = 3_600 * SEC;
    let (n, f, p) = (5u32, 1u32, 0.1);
    let mttf = (mttr as f64 * (1.0 - p) / p).round() as Time;
    let cfg = ChurnConfig { n, mttf, mttr, zone: 0, zone_mttf: 0, shape_f: 500, shape_r: 2000 };
    let runs: Vec<(f64, f64)> = (1..=SEEDS).map(|s| unavailability(cfg, f, s)).collect();
    let (u, su) = mean_sd(&runs.iter().map(|r| r.0).collect::<Vec<_>>());
    let (d, sd) = mean_sd(&runs.iter().map(|r| r.1).collect::<Vec<_>>());
    let model = 1.0 - binomial_at_most(n, f, p);
    let root = (SEEDS as f64).sqrt();
    assert!((d - p).abs() <= 4.0 * sd / root, "each member down {d:.5} of the time, against p = {p}");
    assert!((u - model).abs() <= 4.0 * su / root, "unavailability {u:.6} against the model's {model:.6}");
}
