//! The failure-detection lab's three detectors, each against where its
//! expectation comes from: the arithmetic of a fixed timeout, the φ formula
//! of Hayashibara et al. (2004) as Akka and Cassandra compute it, SWIM's
//! refutation by incarnation (Das, Gupta and Motivala, 2002, §4.2), and
//! SWIM's dissemination in O(log n) periods (§5).

use clusterscope_core::faults::lab::{FaultsTracker, ENGINE};
use clusterscope_core::faults::phi::{self, Fit};
use clusterscope_core::faults::{FaultsNode, Status};
use clusterscope_core::lab::cluster::ClusterLab;
use clusterscope_core::lab::{registry, Lab};
use clusterscope_core::scenario::Scenario;
use clusterscope_core::sim::{Time, MS, SEC};

fn lab(text: &str) -> Lab {
    let _ = registry::register_engine(&ENGINE);
    Lab::new(&Scenario::parse(text).expect("valid scenario")).expect("builds")
}

fn cluster(lab: &Lab) -> &ClusterLab<FaultsNode> {
    lab.model::<ClusterLab<FaultsNode>>().expect("a faults run")
}

fn tracker(lab: &Lab) -> &FaultsTracker {
    cluster(lab).tracker()
}

// A fixed timeout on a lossless network, exact timers, no drift. The
// crashed member's last heartbeat left at some s in (crash − η, crash]
// (η: the heartbeat interval; an action at t comes after the events due
// at t, so a beat at the crash's instant still leaves), and reached each
// member after a latency d in [lmin, lmax]; a member suspects it exactly
// `timeout` after that heartbeat arrived. So the time to every member
// suspecting, s + max d + timeout − crash, lies in
// (timeout − η + lmin, timeout + lmax]. (The last heartbeat can leave
// almost an interval before the crash, so detection can be shorter than
// the timeout.) Several seeds and crash instants.
#[test]
fn fixed_timeout_detection_time_is_within_its_bound() {
    let (eta, timeout, lmin, lmax) = (100 * MS, 300 * MS, 10 * MS, 20 * MS);
    let mut seen = Vec::new();
    for seed in 1..=12u64 {
        let crash = 2 * SEC + seed * 37 * MS;
        let text = format!(
            "lab faults\nseed {seed}\nnodes 6\ndetector heartbeat\nheartbeat 100ms\ntimeout 300ms\nsuspicion 200ms\nlatency_min 10ms\nlatency_max 20ms\nat {}ms crash S2\nuntil 4s\n",
            crash / MS
        );
        let mut l = lab(&text);
        l.run_until(4 * SEC);
        let t = tracker(&l);
        assert_eq!(t.mistakes, 0, "seed {seed}: no false suspicion on a calm network with timeout 3 intervals");
        let d = t.detect_last.unwrap_or_else(|| panic!("seed {seed}: the crash was detected by every member"));
        assert!(
            d > timeout - eta + lmin && d <= timeout + lmax,
            "seed {seed}: detection {d} µs outside ({}, {}]",
            timeout - eta + lmin,
            timeout + lmax
        );
        // Declared dead `suspicion` later, by the same arithmetic.
        let dead = t.declare_last.expect("declared dead");
        assert!(dead > timeout - eta + lmin + 200 * MS && dead <= timeout + lmax + 200 * MS, "seed {seed}: {dead}");
        seen.push(d);
    }
    // The bound is not met by one value only: the crash instants move the
    // last heartbeat across the interval.
    let spread = seen.iter().max().unwrap() - seen.iter().min().unwrap();
    assert!(spread > 30 * MS, "detection times vary with the crash's phase: {seen:?}");
}

// φ against hand-worked values. Window of inter-arrival times 1.0, 1.2,
// 0.8, 1.0 s: mean μ = 1.0 s, population σ = √((0 + 0.04 + 0.04 + 0)/4) s
// = √0.02 s = 0.141421 s.
//
// Normal fit, Akka's formula: y = (t − μ)/σ, e = exp(−y(1.5976 +
// 0.070566 y²)), φ = −log10(e/(1+e)) when t > μ:
// * t = μ: y = 0, e = 1, φ = −log10(1 − 1/2) = log10 2 = 0.30103;
// * t = μ + σ: y = 1, e = exp(−1.668166) = 0.188593, e/(1+e) = 0.158670
//   (the exact normal tail P(Z > 1) is 0.158655), φ = 0.79951;
// * t = μ + 3σ: y = 3, y(1.5976 + 0.070566·9) = 3·2.232694 = 6.698082,
//   e = e^−6 · e^−0.698082 = 0.00247875 · 0.497568 = 0.0012334,
//   e/(1+e) = 0.0012318, φ = 2.90948.
//
// Exponential fit, Cassandra's formula φ = t/μ · 1/ln 10:
// * t = 2 s: φ = 2/2.302585 = 0.868589;
// * the default threshold 8 is reached at t = 8 · ln 10 · μ = 18.42068 s.
#[test]
fn phi_matches_hand_worked_values() {
    let window = [1_000_000u32, 1_200_000, 800_000, 1_000_000];
    let (mean, std) = phi::mean_std(&window).expect("a window");
    assert!((mean - 1_000_000.0).abs() < 1e-6);
    assert!((std - 141_421.356).abs() < 0.01, "σ = {std}");
    let close = |a: f64, b: f64, tol: f64| assert!((a - b).abs() < tol, "{a} against {b}");
    close(phi::phi_normal(mean, mean, std), std::f64::consts::LOG10_2, 1e-12);
    close(phi::phi_normal(mean + std, mean, std), 0.79951, 1e-4);
    close(phi::phi_normal(mean + 3.0 * std, mean, std), 2.90948, 1e-4);
    close(phi::phi_exponential(2_000_000.0, mean), 0.868589, 1e-6);
    close(phi::crossing(Fit::Exponential, 8.0, mean, std), 18_420_680.7, 1.0);
    // The normal crossing is where φ reaches the threshold, to a microsecond.
    let t8 = phi::crossing(Fit::Normal, 8.0, mean, std);
    close(phi::phi_normal(t8, mean, std), 8.0, 1e-3);
    assert!(phi::phi_normal(t8 - 5.0, mean, std) < 8.0);
    // φ grows with the time waited.
    assert!(phi::phi_normal(mean + 2.0 * std, mean, std) > phi::phi_normal(mean + std, mean, std));
}

// φ in a run: with regular heartbeats every 100 ms (latency 10–20 ms), a
// member's φ of a peer is low just after a heartbeat, and once the peer
// has crashed it passes the threshold and the member suspects it, as the
// crossing time computed from its window says.
#[test]
fn phi_in_a_run_suspects_a_crashed_member_and_no_live_one() {
    let mut l = lab("lab faults\nseed 3\nnodes 5\ndetector phi\nheartbeat 100ms\nphi_threshold 8\nsuspicion 1s\nlatency_min 10ms\nlatency_max 20ms\nat 5s crash S3\nuntil 8s\n");
    l.run_until(5 * SEC);
    let now: Time = 5 * SEC;
    let s1 = &cluster(&l).sim().nodes()[0].state;
    let phi_live = s1.phi_of(1, now);
    assert!(phi_live < 8.0, "a live member's φ stays below the threshold: {phi_live}");
    l.run_until(8 * SEC);
    let t = tracker(&l);
    assert_eq!(t.mistakes, 0, "no false suspicion with steady heartbeats");
    let d = t.detect_last.expect("the crash was detected");
    // Inter-arrival times vary by about ±10 ms around 100 ms, so σ is
    // below the 10 ms floor or near it: φ = 8 is reached about
    // μ + 5.3σ after the last heartbeat, well under half a second.
    assert!(d > 100 * MS && d < 300 * MS, "detection {d}");
    for o in [0usize, 1, 3, 4] {
        assert_eq!(cluster(&l).sim().nodes()[o].state.peer(2).status, Status::Dead, "S{} holds S3 dead", o + 1);
    }
}

// SWIM §4.2: a member that hears it is suspected raises its incarnation
// and says it is alive; an alive message overrides a suspicion at a lower
// incarnation. S3 is paused (a garbage-collection pause) long enough for
// the others to suspect it, but less than the suspicion timeout; when it
// resumes it hears the suspicion (piggybacked on a ping to it), refutes
// with incarnation 1, and every member trusts it again at incarnation 1;
// nobody declares it dead.
#[test]
fn swim_suspected_member_refutes_by_incarnation() {
    let mut l = lab("lab faults\nseed 2\nnodes 6\ndetector swim\nprobe 200ms\nping_timeout 80ms\nsuspicion 3s\nlatency_min 5ms\nlatency_max 10ms\nat 2s pause S3\nat 3.2s resume S3\nuntil 8s\n");
    l.run_until(3200 * MS);
    let suspected_by = tracker(&l).doubted_by(2);
    assert!(suspected_by > 0, "S3 was suspected while paused");
    l.run_until(8 * SEC);
    let c = cluster(&l);
    assert_eq!(c.sim().nodes()[2].state.incarnation(), 1, "S3 refuted once, with incarnation 1");
    assert!(c.tracker().refutes >= 1);
    for o in [0usize, 1, 3, 4, 5] {
        let p = c.sim().nodes()[o].state.peer(2);
        assert_eq!((p.status, p.inc), (Status::Alive, 1), "S{} trusts S3 at incarnation 1", o + 1);
    }
    assert_eq!(c.tracker().doubted_by(2), 0);
    assert!(l.violation().is_none());
}

// SWIM §5: the time for news to reach every member grows as log n
// protocol periods. Spread (first suspicion to every member suspecting)
// at n = 8 .. 256 fits a + b·log2 n with b > 0, grows far slower than n
// (256 members take well under 32 times as long as 8), and stays within
// a few periods per doubling.
#[test]
fn swim_dissemination_grows_as_log_n() {
    use clusterscope_core::faults::experiments::spread_runs;
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for n in [8u32, 16, 32, 64, 128, 256] {
        let runs = spread_runs(n, 2).expect("runs");
        let done: Vec<f64> = runs.iter().flatten().map(|(_, s)| *s as f64).collect();
        assert_eq!(done.len(), 2, "n = {n}: every member learned of the crash");
        xs.push(f64::from(n).log2());
        ys.push(done.iter().sum::<f64>() / done.len() as f64);
    }
    let k = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / k, ys.iter().sum::<f64>() / k);
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
    let syy: f64 = ys.iter().map(|y| (y - my) * (y - my)).sum();
    let slope = sxy / sxx;
    let r2 = sxy * sxy / (sxx * syy);
    assert!(slope > 0.0, "spread grows with n: {ys:?}");
    assert!(r2 > 0.6, "spread is close to linear in log2 n (r² = {r2:.2}): {ys:?}");
    assert!(ys[5] < 8.0 * ys[0].max(200_000.0), "256 members take far less than 32× the time of 8: {ys:?}");
    assert!(slope < 5.0 * 200_000.0, "under five periods per doubling: {slope}");
}

// Lifeguard (Dadgar, Phillips and Currey, "Lifeguard: Local Health
// Awareness for More Accurate Failure Detection", 2018, §3.1 and §5): a
// member too slow to read its acks in time suspects healthy members under
// plain SWIM; with local health awareness its missed acks and nacks raise
// its multiplier, which stretches its probe period and timeout until it
// reads its acks in time, so it stops accusing healthy members. The paper
// measures a large drop in false positives at healthy members; the bound
// here (at least ten times fewer on every seed) is this lab's, stated
// below what it measures (about a hundred times). Same seeds, same slow
// member (S3 reading every message 250 ms late, period 200 ms).
#[test]
fn lifeguard_cuts_false_suspicions_of_healthy_members_by_a_slow_one() {
    for seed in 1..=4u64 {
        let run = |lifeguard: u32| {
            let mut l = lab(&format!(
                "lab faults\nseed {seed}\nnodes 16\ndetector swim\nprobe 200ms\nping_timeout 80ms\nsuspicion 1s\nlatency_min 5ms\nlatency_max 15ms\nslow_member 3\nslow_by 250ms\nlifeguard {lifeguard}\nuntil 20s\n"
            ));
            l.run_until(20 * SEC);
            let lhm = cluster(&l).sim().nodes()[2].state.local_health();
            (tracker(&l).healthy_mistakes, lhm)
        };
        let (plain, lhm_plain) = run(0);
        let (guarded, lhm) = run(1);
        assert!(plain > 300, "seed {seed}: the slow member accuses healthy ones under plain SWIM ({plain})");
        assert!(guarded * 10 <= plain, "seed {seed}: Lifeguard {guarded} against plain SWIM {plain}");
        assert_eq!(lhm_plain, 0, "no local health without Lifeguard");
        assert!(lhm > 0, "seed {seed}: the slow member knows it is unwell (LHM {lhm})");
    }
}

// Lifeguard's suspicion timeout (the paper's §3.2; memberlist's
// `remainingSuspicionTime`): with min 1 s, max 6 × min and k = 2 expected
// confirmations, by hand: c = 0: 6 s; c = 1: 6 − 5·ln 2 / ln 3 =
// 6 − 5 × 0.63092975 = 2.84535123 s, floored to the microsecond (memberlist
// floors to the millisecond); c = 2: 1 s; more confirmations stay at min;
// k = 0 expects none and waits min.
#[test]
fn lifeguard_suspicion_shrinks_with_confirmations_by_hand() {
    use clusterscope_core::faults::node::lifeguard_suspicion;
    assert_eq!(lifeguard_suspicion(SEC, 6, 2, 0), 6 * SEC);
    assert_eq!(lifeguard_suspicion(SEC, 6, 2, 1), 2_845_351);
    assert_eq!(lifeguard_suspicion(SEC, 6, 2, 2), SEC);
    assert_eq!(lifeguard_suspicion(SEC, 6, 2, 5), SEC);
    assert_eq!(lifeguard_suspicion(SEC, 6, 0, 0), SEC);
}

// One jittery link (S5's messages each held a uniform 0–300 ms): S5's
// heartbeats, sent every η = 100 ms, reach a member as much as η + 300 ms
// + (lmax − lmin) = 410 ms apart, beyond a fixed 300 ms timeout, so the
// fixed timeout suspects S5 again and again (and only S5). φ with a
// normal fit and Akka's minimum deviation of 100 ms needs at least
// μ + 5.3σ ≥ 100 + 530 ms of silence to reach 8 (the crossing by hand:
// φ = 8 at y ≈ 5.3 in Akka's logistic approximation), more than the
// longest silence the jitter makes, so φ never suspects it. Same seeds,
// same link.
#[test]
fn a_jittery_link_fools_a_fixed_timeout_and_not_phi() {
    for seed in 1..=3u64 {
        let run = |detector: &str| {
            let mut l = lab(&format!(
                "lab faults\nseed {seed}\nnodes 8\n{detector}\nheartbeat 100ms\nsuspicion 2s\nlatency_min 10ms\nlatency_max 20ms\njitter_member 5\njitter_by 300ms\nuntil 40s\n"
            ));
            l.run_until(40 * SEC);
            let t = tracker(&l);
            (t.mistakes, t.healthy_mistakes)
        };
        let (fixed, fixed_healthy) = run("detector heartbeat\ntimeout 300ms");
        let (phi, _) = run("detector phi\nphi_threshold 8\nmin_std 100ms");
        assert!(fixed >= 10, "seed {seed}: the fixed timeout suspects S5 ({fixed})");
        assert_eq!(fixed_healthy, 0, "seed {seed}: and no member behind a calm link");
        assert_eq!(phi, 0, "seed {seed}: phi accrual suspects nobody");
    }
    // Where the 5.3 comes from: φ(μ + yσ) for y = 5.3 is just under 8.
    let y = phi::crossing(Fit::Normal, 8.0, 0.0, 1.0);
    assert!(y > 5.0 && y < 5.6, "crossing at y = {y}");
}
