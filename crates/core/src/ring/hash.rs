//! Hash functions for keys and ring points.
//!
//! Every placement starts by hashing: keys to a 64-bit number, servers to
//! their points or seeds. The choice matters for balance only when a hash is
//! weak, which is something the lab lets a user see. All of them are
//! specified bit for bit, so a placement is the same on every platform:
//!
//! * `xxh3` and `xxh64`: XXH3-64 and XXH64 (seed 0), fast and strong.
//! * `fnv1a`: 64-bit FNV-1a, tiny and weaker (its low bits mix poorly).
//! * `murmur3`: MurmurHash3 x64-128 with seed 0, first 64-bit half
//!   (Cassandra's partitioner takes the same half).
//! * `md5`: the first 8 bytes of the MD5 digest, little-endian. Its low
//!   32 bits are exactly libketama's key hash.

use super::RingError;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which hash function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HashKind {
    /// XXH3, 64-bit.
    Xxh3,
    /// XXH64, seed 0.
    Xxh64,
    /// 64-bit FNV-1a.
    Fnv1a,
    /// MurmurHash3 x64-128, seed 0, first half.
    Murmur3,
    /// MD5, first 8 bytes little-endian.
    Md5,
}

impl HashKind {
    /// All hash functions, in display order (the scenario format's `hash` choice).
    pub const ALL: [HashKind; 5] = [HashKind::Xxh3, HashKind::Xxh64, HashKind::Fnv1a, HashKind::Murmur3, HashKind::Md5];

    /// The name in files, links, the CLI and the UI.
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Xxh3 => "xxh3",
            HashKind::Xxh64 => "xxh64",
            HashKind::Fnv1a => "fnv1a",
            HashKind::Murmur3 => "murmur3",
            HashKind::Md5 => "md5",
        }
    }

    /// The 64-bit hash of some bytes.
    pub fn hash(self, bytes: &[u8]) -> u64 {
        match self {
            HashKind::Xxh3 => xxhash_rust::xxh3::xxh3_64(bytes),
            HashKind::Xxh64 => xxhash_rust::xxh64::xxh64(bytes, 0),
            HashKind::Fnv1a => fnv1a64(bytes),
            HashKind::Murmur3 => murmur3_64(bytes),
            HashKind::Md5 => {
                let d = md5_digest(bytes);
                u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
            }
        }
    }

    /// The hash of a 64-bit key, as its 8 little-endian bytes.
    pub fn hash_u64(self, key: u64) -> u64 {
        self.hash(&key.to_le_bytes())
    }

    /// A second, independent hash of the same bytes: the hash of the seed's
    /// 8 little-endian bytes followed by the bytes. Maglev's `h1` and `h2`
    /// are two seeds of one function.
    pub fn hash_seeded(self, seed: u64, bytes: &[u8]) -> u64 {
        let mut buf = Vec::with_capacity(8 + bytes.len());
        buf.extend_from_slice(&seed.to_le_bytes());
        buf.extend_from_slice(bytes);
        self.hash(&buf)
    }
}

impl fmt::Display for HashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashKind {
    type Err = RingError;
    fn from_str(s: &str) -> Result<Self, RingError> {
        let s = s.trim().to_ascii_lowercase();
        HashKind::ALL.into_iter().find(|h| h.name() == s).ok_or(RingError::UnknownHash(s))
    }
}

/// 64-bit FNV-1a (Fowler, Noll, Vo): offset basis 0xcbf29ce484222325,
/// prime 0x100000001b3, xor then multiply, byte by byte.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The MD5 digest of some bytes.
pub fn md5_digest(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}

/// libketama's hash of a key (`ketama_hashi`): the first four bytes of its
/// MD5 digest, read little-endian.
pub fn ketama_hash(bytes: &[u8]) -> u32 {
    let d = md5_digest(bytes);
    u32::from_le_bytes([d[0], d[1], d[2], d[3]])
}

/// MurmurHash3 x64-128 with seed 0, first 64-bit half (`h1`).
fn murmur3_64(bytes: &[u8]) -> u64 {
    // Reading from a byte slice cannot fail, so the error arm is never taken.
    match murmur3::murmur3_x64_128(&mut &bytes[..], 0) {
        Ok(h) => h as u64,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answers, each from the function's own reference material:
    // FNV-1a 64: the FNV test suite (Landon Curt Noll, "FNV hash test
    // vectors": "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c, "foobar" ->
    // 85944171f73967e8). MD5: RFC 1321 §A.5. XXH64 and XXH3 of the empty
    // input: the xxHash reference's sanity checks. MurmurHash3 x64-128 h1:
    // the vectors of spaolacci/murmur3 (murmur_test.go), the Go port.
    #[test]
    fn known_answers() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
        let hex = |d: [u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(md5_digest(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(md5_digest(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(HashKind::Xxh64.hash(b""), 0xEF46DB3751D8E999);
        assert_eq!(HashKind::Xxh3.hash(b""), 0x2D06800538D394C2);
        assert_eq!(HashKind::Murmur3.hash(b""), 0);
        assert_eq!(HashKind::Murmur3.hash(b"hello"), 0xcbd8a7b341bd9b02);
        assert_eq!(HashKind::Murmur3.hash(b"hello, world"), 0x342fac623a5ebc8e);
        assert_eq!(HashKind::Murmur3.hash(b"The quick brown fox jumps over the lazy dog."), 0xcd99481f9ee902c9);
        // MD5("") = d41d8cd9 8f00b204...: the first 8 bytes little-endian.
        assert_eq!(HashKind::Md5.hash(b""), 0x04b2008fd98c1dd4);
    }

    #[test]
    fn names_round_trip_and_seeds_differ() {
        for h in HashKind::ALL {
            assert_eq!(h.name().parse::<HashKind>(), Ok(h));
            assert_ne!(h.hash_seeded(1, b"S1"), h.hash_seeded(2, b"S1"), "{h}");
        }
        assert!("sha1".parse::<HashKind>().unwrap_err().to_string().contains("xxh3, xxh64"));
    }
}
