//! The herd, counted exactly on a lossless network with a fixed 10 ms
//! latency.
//!
//! Where the expectation comes from: Hunt et al., "ZooKeeper: Wait-free
//! coordination for Internet-scale systems" (USENIX ATC 2010), §2.4,
//! "Simple Locks without Herd Effect", and ZooKeeper's lock recipe. When
//! every waiter watches the lock, a release with W waiters costs the
//! Release, W wake-ups, W new requests and W answers: 1 + 3W messages,
//! linear in the waiters. With sequential nodes each waiter watches only
//! its predecessor: the Release, one wake-up, one check and one grant, 4
//! messages whatever W (1, the Release alone, when nobody waits).
//!
//! The run: N clients all start a transaction on the one key within the
//! first millisecond (the `timeout` verb), work 100 ms each, and then
//! think for a mean of 600 s, so the releases see N-1, N-2, ..., 0
//! waiters; heartbeats are off (the lease outlasts the run).

mod locks_common;

use locks_common::{run, tracker};

fn herd(clients: u32, recipe: &str) -> String {
    let mut text = format!(
        "# herd\nlab locks\nseed 5\nclients {clients}\nkeyspace 1\nrecipe {recipe}\nthink 600s\nwork 100ms\nlease 600s\nheartbeat 600s\nlatency_min 10ms\nlatency_max 10ms\n"
    );
    for c in 0..clients {
        text.push_str(&format!("at {}us timeout S{}\n", c * 10, c + 3));
    }
    text.push_str(&format!("until {}s\n", 1 + clients / 3));
    text
}

#[test]
fn naive_waiters_cost_three_messages_each_per_release() {
    for n in [2u64, 5, 12, 25] {
        let lab = run(&herd(n as u32, "naive"));
        assert!(lab.violation().is_none());
        let t = tracker(&lab);
        assert_eq!(t.releases, n, "{n} clients: one transaction each");
        assert_eq!(t.waiters_at_release, n * (n - 1) / 2, "{n} clients: N-1, N-2, ..., 0 waiters");
        assert_eq!(t.release_msgs, 3 * n * (n - 1) / 2 + n, "{n} clients: the sum of 1 + 3W");
    }
}

#[test]
fn sequential_waiters_cost_four_messages_per_release() {
    for n in [2u64, 5, 12, 25] {
        let lab = run(&herd(n as u32, "sequential"));
        assert!(lab.violation().is_none());
        let t = tracker(&lab);
        assert_eq!(t.releases, n);
        assert_eq!(t.waiters_at_release, n * (n - 1) / 2);
        assert_eq!(t.release_msgs, 4 * (n - 1) + 1, "{n} clients: 4 per release, 1 for the last");
    }
}

// The herd experiment's table agrees: per release, 1 + 3W against 4.
#[test]
fn the_herd_experiment_shows_linear_against_constant() {
    locks_common::locks();
    let exp = clusterscope_core::lab::registry::find_experiment("locks", "herd").expect("declared");
    let given = [("waiters".to_string(), "2,8".to_string()), ("duration".to_string(), "3s".to_string())];
    let table = clusterscope_core::lab::experiment::run(exp, None, &given).expect("runs");
    let col = table.column("messages/release").expect("a column");
    let per: Vec<f64> = table.rows.iter().map(|r| r[col].value().unwrap_or(f64::NAN)).collect();
    // Rows: 2 naive, 2 sequential, 8 naive, 8 sequential.
    assert_eq!(per, vec![7.0, 4.0, 25.0, 4.0], "{}", table.to_text());
}
