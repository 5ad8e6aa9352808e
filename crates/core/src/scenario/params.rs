//! Parameters: their names, units, ranges and defaults, per lab.
//!
//! One table per lab drives everything that touches a parameter: the text
//! format parses and prints values by their kind, validation refuses values
//! outside the range with a sentence that names the range, and the UI draws
//! its sliders and inputs from the same table. Every value is an integer in
//! its base unit (microseconds, parts per million, a count), so scenarios
//! compare and encode exactly.

use crate::sim::time::{format_duration, parse_duration, parse_scaled, MS, SEC};

/// How a parameter's value is written and read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole number (nodes, requests per second).
    Count,
    /// A duration in microseconds, written `150ms`, `1.5s`.
    Duration,
    /// A fraction in parts per million, written `1.5%`.
    Percent,
    /// On or off, written `on`/`off`.
    Toggle,
    /// One of a list of names; the value is the index.
    Choice(&'static [&'static str]),
}

/// One parameter of a lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// Name in files, links and the UI.
    pub name: &'static str,
    /// What it means, with its unit, for tooltips and `--help`.
    pub help: &'static str,
    /// How it is written.
    pub kind: Kind,
    /// Smallest allowed value.
    pub min: i64,
    /// Largest allowed value.
    pub max: i64,
    /// Value when the scenario does not set it.
    pub default: i64,
    /// Whether it can change in the middle of a run (network conditions,
    /// load) rather than only at the start.
    pub live: bool,
}

impl ParamSpec {
    /// Writes a value as the text format reads it.
    pub fn format(&self, v: i64) -> String {
        match self.kind {
            Kind::Count => v.to_string(),
            Kind::Duration => format_duration(v.max(0) as u64),
            Kind::Percent => format_percent(v),
            Kind::Toggle => if v != 0 { "on" } else { "off" }.to_string(),
            Kind::Choice(names) => names.get(v as usize).copied().unwrap_or("?").to_string(),
        }
    }

    /// Reads a value and checks its range. The error is a sentence.
    pub fn parse(&self, s: &str) -> Result<i64, String> {
        let v = match self.kind {
            Kind::Count => s.parse::<i64>().ok(),
            Kind::Duration => parse_duration(s).and_then(|v| i64::try_from(v).ok()),
            Kind::Percent => s
                .strip_suffix('%')
                .and_then(|n| parse_scaled(n, 10_000))
                .and_then(|v| i64::try_from(v).ok()),
            Kind::Toggle => match s {
                "on" | "true" | "yes" | "1" => Some(1),
                "off" | "false" | "no" | "0" => Some(0),
                _ => None,
            },
            Kind::Choice(names) => names.iter().position(|n| *n == s).map(|i| i as i64),
        };
        let v = v.ok_or_else(|| format!("'{s}' is not a valid value for {}: expected {}", self.name, self.expected()))?;
        self.check(v)?;
        Ok(v)
    }

    /// Checks that a value is in range.
    pub fn check(&self, v: i64) -> Result<(), String> {
        if v < self.min || v > self.max {
            Err(format!(
                "{} = {} is out of range: it must be between {} and {}",
                self.name,
                self.format(v),
                self.format(self.min),
                self.format(self.max)
            ))
        } else {
            Ok(())
        }
    }

    fn expected(&self) -> String {
        match self.kind {
            Kind::Count => "a whole number".into(),
            Kind::Duration => "a duration such as 150ms or 1.5s".into(),
            Kind::Percent => "a percentage such as 1.5%".into(),
            Kind::Toggle => "on or off".into(),
            Kind::Choice(names) => format!("one of {}", names.join(", ")),
        }
    }
}

fn format_percent(ppm: i64) -> String {
    let whole = ppm / 10_000;
    let frac = ppm % 10_000;
    if frac == 0 {
        format!("{whole}%")
    } else {
        let f = format!("{frac:04}");
        format!("{whole}.{}%", f.trim_end_matches('0'))
    }
}

const fn p(name: &'static str, help: &'static str, kind: Kind, min: i64, max: i64, default: i64, live: bool) -> ParamSpec {
    ParamSpec { name, help, kind, min, max, default, live }
}

const M: i64 = MS as i64;
const S: i64 = SEC as i64;
const PCT: i64 = 10_000;

/// Parameters of the network and client workload, shared by cluster labs.
pub const NETWORK: &[ParamSpec] = &[
    p("latency_min", "fastest one-way message delay", Kind::Duration, 0, 10 * S, 10 * M, true),
    p("latency_max", "slowest one-way message delay (before the tail)", Kind::Duration, 0, 10 * S, 20 * M, true),
    p("tail", "share of messages that are delayed further", Kind::Percent, 0, 100 * PCT, 0, true),
    p("tail_max", "longest extra delay of a delayed message", Kind::Duration, 0, 60 * S, 0, true),
    p("loss", "share of messages lost", Kind::Percent, 0, 100 * PCT, 0, true),
    p("duplicate", "share of messages delivered twice", Kind::Percent, 0, 100 * PCT, 0, true),
    p("reorder", "whether messages on a link may overtake each other", Kind::Toggle, 0, 1, 1, true),
    p("drift", "largest clock drift of a node, in parts per million", Kind::Count, 0, 200_000, 0, false),
    p("request_rate", "client requests per second of virtual time", Kind::Count, 0, 100_000, 1, true),
    p("client_timeout", "how long a client waits before trying another node", Kind::Duration, MS as i64, 60 * S, 500 * M, false),
];

/// Parameters of the Raft lab.
pub const RAFT: &[ParamSpec] = &[
    p("nodes", "number of servers", Kind::Count, 1, 101, 5, false),
    p("election_timeout_min", "shortest randomized election timeout", Kind::Duration, MS as i64, 60 * S, 150 * M, false),
    p("election_timeout_max", "longest randomized election timeout", Kind::Duration, MS as i64, 60 * S, 300 * M, false),
    p("heartbeat", "interval between a leader's heartbeats", Kind::Duration, MS as i64, 60 * S, 50 * M, false),
    p("max_batch", "most log entries in one AppendEntries", Kind::Count, 1, 10_000, 64, false),
    p("pre_vote", "Pre-Vote: ask before disrupting a leader (thesis §9.6)", Kind::Toggle, 0, 1, 0, false),
    p("check_quorum", "CheckQuorum: a leader steps down without a majority", Kind::Toggle, 0, 1, 0, false),
    p(
        "bug_commit_old_terms",
        "a deliberate bug to watch the checkers catch: commit entries of earlier terms by counting replicas (Figure 8)",
        Kind::Toggle,
        0,
        1,
        0,
        false,
    ),
];

/// The placement algorithms of the Ring lab, in display order.
pub const RING_ALGORITHMS: &[&str] = &["ring", "ketama", "modulo", "jump", "rendezvous", "maglev", "bounded"];
/// Hash functions of the Ring lab.
pub const RING_HASHES: &[&str] = &["xxh3", "xxh64", "fnv1a", "murmur3", "md5"];
/// Key distributions of the Ring lab.
pub const RING_DISTRIBUTIONS: &[&str] = &["uniform", "zipf", "hot"];

/// Parameters of the Ring lab.
pub const RING: &[ParamSpec] = &[
    p("algorithm", "placement algorithm", Kind::Choice(RING_ALGORITHMS), 0, 6, 0, true),
    p("nodes", "number of servers at the start", Kind::Count, 1, 10_000, 8, false),
    p("vnodes", "virtual nodes per server (ring, ketama: points per server)", Kind::Count, 1, 10_000, 100, false),
    p("replicas", "replication factor: servers in a key's preference list", Kind::Count, 1, 16, 1, false),
    p("keys", "number of keys placed", Kind::Count, 1, 1_000_000, 10_000, false),
    p("distribution", "how often each key is requested", Kind::Choice(RING_DISTRIBUTIONS), 0, 2, 0, false),
    p("zipf_s", "Zipf exponent, in thousandths (1100 = 1.1)", Kind::Count, 1, 5_000, 1_100, false),
    p("hot", "share of requests that go to the hottest 1% of keys", Kind::Percent, 0, 100 * PCT, 50 * PCT, false),
    p("hash", "hash function for keys and points", Kind::Choice(RING_HASHES), 0, 4, 0, false),
    p("epsilon", "bounded loads: allowed excess over the mean load", Kind::Percent, 0, 1_000 * PCT, 25 * PCT, true),
    p("maglev_size", "Maglev lookup table size (rounded up to a prime)", Kind::Count, 1, 10_000_019, 65_537, false),
];

/// Looks a parameter up in a table.
pub fn find(table: &[ParamSpec], name: &str) -> Option<ParamSpec> {
    table.iter().find(|p| p.name == name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_is_in_range_and_round_trips() {
        for spec in NETWORK.iter().chain(RAFT).chain(RING) {
            spec.check(spec.default).unwrap();
            assert_eq!(spec.parse(&spec.format(spec.default)), Ok(spec.default), "{}", spec.name);
            assert_eq!(spec.parse(&spec.format(spec.max)), Ok(spec.max), "{}", spec.name);
        }
    }

    #[test]
    fn out_of_range_names_the_range() {
        let nodes = find(RAFT, "nodes").unwrap();
        let err = nodes.parse("500").unwrap_err();
        assert!(err.contains("between 1 and 101"), "{err}");
        let loss = find(NETWORK, "loss").unwrap();
        assert_eq!(loss.parse("1.5%"), Ok(15_000));
        assert!(loss.parse("150%").unwrap_err().contains("between 0% and 100%"));
        assert!(loss.parse("abc").unwrap_err().contains("percentage"));
    }
}
