//! Virtual time: integer microseconds since the start of a run.
//!
//! Integers keep runs identical on every platform (no floating-point drift),
//! and a microsecond is fine enough for network latencies and coarse enough
//! that a `u64` never overflows in any run a person would watch.

/// A point in virtual time, in microseconds since the run started.
pub type Time = u64;

/// One millisecond of virtual time.
pub const MS: Time = 1_000;
/// One second of virtual time.
pub const SEC: Time = 1_000_000;

/// Formats a time or duration the way the scenario format reads it back:
/// `0`, `250us`, `12ms`, `1.5s`.
pub fn format_duration(t: Time) -> String {
    if t == 0 {
        "0".to_string()
    } else if t.is_multiple_of(SEC) {
        format!("{}s", t / SEC)
    } else if t.is_multiple_of(MS) && t < 10 * SEC {
        format!("{}ms", t / MS)
    } else if t.is_multiple_of(MS) {
        trim_decimal(&format!("{}.{:03}", t / SEC, (t % SEC) / MS), "s")
    } else if t < SEC {
        format!("{t}us")
    } else {
        trim_decimal(&format!("{}.{:06}", t / SEC, t % SEC), "s")
    }
}

fn trim_decimal(s: &str, unit: &str) -> String {
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{unit}")
}

/// Formats a point in time for clocks and logs: seconds with six decimals,
/// `12.345678s`, so columns line up and nothing is rounded away.
pub fn format_clock(t: Time) -> String {
    format!("{}.{:06}s", t / SEC, t % SEC)
}

/// Parses `250us`, `12ms`, `1.5s`, `2m` or a bare `0` into microseconds.
/// Returns `None` for anything else, including values that overflow.
pub fn parse_duration(s: &str) -> Option<Time> {
    let s = s.trim();
    if s == "0" {
        return Some(0);
    }
    let (num, scale) = if let Some(n) = s.strip_suffix("us") {
        (n, 1)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, MS)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, SEC)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60 * SEC)
    } else {
        return None;
    };
    parse_scaled(num, scale)
}

/// Parses a non-negative decimal like `1.25` multiplied by `scale`, exactly,
/// refusing digits finer than one unit of the result.
pub(crate) fn parse_scaled(num: &str, scale: u64) -> Option<u64> {
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int_v: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut total = int_v.checked_mul(scale)?;
    let mut unit = scale;
    for c in frac.chars() {
        if !unit.is_multiple_of(10) {
            return None;
        }
        unit /= 10;
        total = total.checked_add(u64::from(c.to_digit(10)?) * unit)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        for t in [0, 1, 999, MS, 150 * MS, SEC, 1_500 * MS, 12 * SEC + 345 * MS, 3 * SEC + 7] {
            assert_eq!(parse_duration(&format_duration(t)), Some(t), "{t}");
        }
    }

    #[test]
    fn bad_durations_are_refused() {
        for s in ["", "ms", "1.2.3s", "-1s", "1.0000001s", "99999999999999999999s", "5", "1e3ms"] {
            assert_eq!(parse_duration(s), None, "{s:?}");
        }
    }
}
