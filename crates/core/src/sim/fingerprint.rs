//! A trace fingerprint: one 64-bit hash of every event of a run.
//!
//! Two runs with the same fingerprint produced the same events in the same
//! order with the same contents. XXH3 (`xxhash-rust`) is fast and its output
//! is specified, so the fingerprint is the same natively and in wasm32 as
//! long as only fixed-width integers are fed in (never `usize`, never
//! `#[derive(Hash)]`, whose encoding depends on the platform).

use xxhash_rust::xxh3::Xxh3;

/// A running hash of a trace.
#[derive(Clone)]
pub struct Fingerprint(Xxh3);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(Xxh3::new())
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({:016x})", self.value())
    }
}

impl Fingerprint {
    /// Feeds one integer.
    pub fn u64(&mut self, v: u64) {
        self.0.update(&v.to_le_bytes());
    }
    /// Feeds several integers at once (one update instead of several).
    pub fn words(&mut self, vs: &[u64; 4]) {
        let mut b = [0u8; 32];
        for (i, v) in vs.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        self.0.update(&b);
    }
    /// Feeds a client's key-value command: its process, key and operation.
    pub fn command(&mut self, c: &super::Command) {
        use super::KvOp;
        self.u64(c.process);
        self.u64(u64::from(c.key));
        match c.op {
            KvOp::Read => self.u64(0),
            KvOp::Write(v) => self.words(&[1, v as u64, 0, 0]),
            KvOp::Cas(from, to) => self.words(&[2, from.map_or(u64::MAX, |f| f as u64), to as u64, 0]),
        }
    }
    /// Feeds a short string (length first, so `"ab","c"` differs from `"a","bc"`).
    pub fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.update(s.as_bytes());
    }
    /// The hash of everything fed so far.
    pub fn value(&self) -> u64 {
        self.0.digest()
    }
}
