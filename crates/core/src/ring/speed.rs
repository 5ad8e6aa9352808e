//! How fast placement runs where it runs: the Ring lab's own benchmark.
//! The browser's benchmark page runs it in the Web Worker (with the
//! browser's clock) beside a JavaScript package (`tests/e2e/ring-bench.mjs`);
//! the engine never reads a clock itself, so the caller passes one in.

use super::{Algorithm, RingModel, RingParams};

/// Reads the benchmark's arguments (`NODES VNODES KEYS`) and runs it.
pub fn run(args: &str, clock: &dyn Fn() -> f64) -> Result<String, String> {
    let n: Vec<u32> = args
        .split_whitespace()
        .map(|w| w.parse().map_err(|_| format!("not a count: {w}")))
        .collect::<Result<_, _>>()?;
    let [nodes, vnodes, keys] = n[..] else {
        return Err(format!("the ring benchmark takes NODES VNODES KEYS, not '{args}'"));
    };
    speed(nodes, vnodes, keys, clock)
}

/// Times, with the caller's clock `wall_ms` (milliseconds), (1) building a ring of `nodes` servers with
/// `vnodes` virtual nodes each and placing `keys` keys with their statistics
/// (the Ring lab's model), and (2) per algorithm, building it and looking up
/// the string keys `key-0`, `key-1`, ... (hash, then locate), as the
/// browser benchmark against a JavaScript package does. Returns JSON.
pub fn speed(nodes: u32, vnodes: u32, keys: u32, wall_ms: &dyn Fn() -> f64) -> Result<String, String> {
    let base = RingParams { nodes, vnodes, keys, ..RingParams::default() };
    let start = wall_ms();
    let model = RingModel::new(&base).map_err(|e| e.to_string())?;
    let place_ms = wall_ms() - start;
    drop(model);
    let names: Vec<String> = (0..keys).map(|i| format!("key-{i}")).collect();
    let mut rows = Vec::new();
    for algorithm in Algorithm::ALL {
        // Rendezvous scores every server for every key: a hundredth of the keys.
        let n = if algorithm == Algorithm::Rendezvous { (keys / 100).max(1) } else { keys } as usize;
        let params = RingParams { algorithm, keys: 1, ..base.clone() };
        let start = wall_ms();
        let model = RingModel::new(&params).map_err(|e| e.to_string())?;
        let build_ms = wall_ms() - start;
        let hash = algorithm.key_hash(params.hash);
        let placement = model.placement();
        let start = wall_ms();
        let mut check = 0u64;
        for k in &names[..n] {
            check = check.wrapping_add(u64::from(placement.locate(hash.hash(k.as_bytes()))));
        }
        let lookup_ms = (wall_ms() - start).max(1e-3);
        rows.push(format!(
            "{{\"algorithm\": \"{}\", \"hash\": \"{}\", \"build_ms\": {build_ms:.3}, \"lookups\": {n}, \"lookup_ms\": {lookup_ms:.3}, \"lookups_per_sec\": {:.0}, \"checksum\": {check}}}",
            algorithm.name(),
            hash.name(),
            n as f64 / lookup_ms * 1e3
        ));
    }
    Ok(format!(
        "{{\"nodes\": {nodes}, \"vnodes\": {vnodes}, \"keys\": {keys}, \"place_ms\": {place_ms:.3}, \"algorithms\": [{}]}}",
        rows.join(", ")
    ))
}
