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
    /// A decimal number stored in thousandths, written `1.1`.
    Thousandths,
    /// A whole number, or `auto` (stored as 0) for a default that depends
    /// on other parameters.
    CountOrAuto,
    /// One of a list of names; the value is the index.
    Choice(&'static [&'static str]),
}

/// One parameter of a lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// Short name in files and links.
    pub name: &'static str,
    /// Label for people, with its unit: "Election timeout, min (ms)".
    pub label: &'static str,
    /// What it means, in one line, for tooltips and `--help`.
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
            Kind::CountOrAuto if v == 0 => "auto".into(),
            Kind::CountOrAuto => v.to_string(),
            Kind::Thousandths => {
                let (whole, frac) = (v / 1000, (v % 1000).abs());
                if frac == 0 {
                    whole.to_string()
                } else {
                    format!("{whole}.{}", format!("{frac:03}").trim_end_matches('0'))
                }
            }
            Kind::Choice(names) => names.get(v as usize).copied().unwrap_or("?").to_string(),
        }
    }

    /// Reads a value and checks its range. The error is a sentence.
    pub fn parse(&self, s: &str) -> Result<i64, String> {
        let v = match self.kind {
            Kind::Count => s.parse::<i64>().ok(),
            Kind::Duration => parse_duration(s).and_then(|v| i64::try_from(v).ok()),
            Kind::Percent => {
                s.strip_suffix('%').and_then(|n| parse_scaled(n, 10_000)).and_then(|v| i64::try_from(v).ok())
            }
            Kind::Toggle => match s {
                "on" | "true" | "yes" | "1" => Some(1),
                "off" | "false" | "no" | "0" => Some(0),
                _ => None,
            },
            Kind::Choice(names) => names.iter().position(|n| *n == s).map(|i| i as i64),
            Kind::Thousandths => parse_scaled(s, 1000).and_then(|v| i64::try_from(v).ok()),
            Kind::CountOrAuto if s == "auto" => Some(0),
            Kind::CountOrAuto => s.parse::<i64>().ok().filter(|&v| v > 0),
        };
        let v =
            v.ok_or_else(|| format!("'{s}' is not a valid value for {}: expected {}", self.name, self.expected()))?;
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
            Kind::Thousandths => "a decimal number such as 1.1 (at most three decimals)".into(),
            Kind::CountOrAuto => "a whole number from 1, or auto".into(),
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

/// A parameter: short name, label with unit, one-line help, kind, range,
/// default, and whether it can change during a run.
#[allow(clippy::too_many_arguments)]
pub const fn p(
    name: &'static str,
    label: &'static str,
    help: &'static str,
    kind: Kind,
    min: i64,
    max: i64,
    default: i64,
    live: bool,
) -> ParamSpec {
    ParamSpec { name, label, help, kind, min, max, default, live }
}

/// A parameter that takes one of `options` by name: its range is the
/// options' positions, derived from the list so the two cannot disagree;
/// `default` is a position in it.
pub const fn choice(
    name: &'static str,
    label: &'static str,
    help: &'static str,
    options: &'static [&'static str],
    default: i64,
    live: bool,
) -> ParamSpec {
    p(name, label, help, Kind::Choice(options), 0, options.len() as i64 - 1, default, live)
}

const M: i64 = MS as i64;
const S: i64 = SEC as i64;
/// One percent in parts per million.
pub const PCT: i64 = 10_000;

/// Parameters of the network and client workload, shared by cluster labs.
pub const NETWORK: &[ParamSpec] = &[
    p("latency_min", "Latency, min (ms)", "fastest one-way message delay", Kind::Duration, 0, 10 * S, 10 * M, true),
    p(
        "latency_max",
        "Latency, max (ms)",
        "slowest one-way message delay (before the tail)",
        Kind::Duration,
        0,
        10 * S,
        20 * M,
        true,
    ),
    p("tail", "Tail share (%)", "share of messages that are delayed further", Kind::Percent, 0, 100 * PCT, 0, true),
    p(
        "tail_max",
        "Tail delay, max (ms)",
        "longest extra delay of a delayed message",
        Kind::Duration,
        0,
        60 * S,
        0,
        true,
    ),
    p("loss", "Loss (%)", "share of messages lost", Kind::Percent, 0, 100 * PCT, 0, true),
    p("duplicate", "Duplication (%)", "share of messages delivered twice", Kind::Percent, 0, 100 * PCT, 0, true),
    p("reorder", "Reordering", "whether messages on a link may overtake each other", Kind::Toggle, 0, 1, 1, true),
    p(
        "drift",
        "Clock drift, max (ppm)",
        "largest clock drift of a server, in parts per million",
        Kind::Count,
        0,
        200_000,
        0,
        false,
    ),
    p(
        "jitter",
        "Timer jitter, max (ms)",
        "every timer a server arms fires late by a random 0 to this much (a fresh draw each time, per server, seeded); 0: exact timers",
        Kind::Duration,
        0,
        10 * S,
        0,
        false,
    ),
    p(
        "request_rate",
        "Client requests (per s)",
        "client requests per second of virtual time",
        Kind::Count,
        0,
        100_000,
        1,
        true,
    ),
    p(
        "client_timeout",
        "Client timeout (ms)",
        "how long a client waits before trying another server",
        Kind::Duration,
        M,
        60 * S,
        500 * M,
        false,
    ),
    p(
        "keys",
        "Keys",
        "clients read, write and compare-and-set the values of this many keys, and every history is checked for linearizability; 0: commands without values",
        Kind::Count,
        0,
        64,
        0,
        false,
    ),
    p("read_share", "Reads (%)", "share of the key-value commands that are reads", Kind::Percent, 0, 100 * PCT, 50 * PCT, false),
    p(
        "cas_share",
        "Compare-and-sets (%)",
        "share of the key-value commands that are compare-and-sets (the rest are writes)",
        Kind::Percent,
        0,
        100 * PCT,
        10 * PCT,
        false,
    ),
    p(
        "check_history",
        "Check linearizability",
        "check the key-value history for linearizability every 200 commands, stopping the run at the first violation",
        Kind::Toggle,
        0,
        1,
        1,
        false,
    ),
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
        for lab in crate::lab::registry::all() {
            for spec in lab.params.iter().flat_map(|t| t.iter()) {
                spec.check(spec.default).unwrap();
                assert_eq!(spec.parse(&spec.format(spec.default)), Ok(spec.default), "{}", spec.name);
                assert_eq!(spec.parse(&spec.format(spec.max)), Ok(spec.max), "{}", spec.name);
                assert!(!spec.label.is_empty() && !spec.help.is_empty(), "{} needs a label and a help line", spec.name);
            }
        }
    }

    #[test]
    fn out_of_range_names_the_range() {
        let nodes = find(crate::raft::lab::PARAMS, "nodes").unwrap();
        let err = nodes.parse("500").unwrap_err();
        assert!(err.contains("between 1 and 101"), "{err}");
        let loss = find(NETWORK, "loss").unwrap();
        assert_eq!(loss.parse("1.5%"), Ok(15_000));
        assert!(loss.parse("150%").unwrap_err().contains("between 0% and 100%"));
        assert!(loss.parse("abc").unwrap_err().contains("percentage"));
    }

    // Issue 8: a Zipf exponent reads and shows as people write it.
    #[test]
    fn thousandths_read_and_write_as_decimals() {
        let s = p("s", "S", "s", Kind::Thousandths, 1, 5_000, 1_100, false);
        assert_eq!(s.format(1_100), "1.1");
        assert_eq!(s.format(2_000), "2");
        assert_eq!(s.parse("1.25"), Ok(1_250));
        assert!(s.parse("1.2345").is_err());
    }
}
