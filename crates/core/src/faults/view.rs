//! What the failure-detection page draws of its own: each member's
//! opinion of every other (alive, suspected, declared dead), next to what
//! is really true of each member (up, crashed, paused, slow, behind a
//! jittery link), so that a false suspicion (suspected, but up) can be told
//! from a true one at a glance.
//!
//! Compact on purpose: a frame carries it many times a second.
//!
//! * Up to [`MATRIX_MAX`] members, the whole matrix: one byte a cell
//!   (`observer * n + member`), 4 KB at 64 members.
//! * Above that (members go to 500, a matrix of 250,000 cells no one could
//!   read on a screen), no matrix: only the per-member counts, "suspected by
//!   k, declared dead by j", which the page draws as one bar per member.
//!
//! The counts are always there, for every member. The φ value behind a
//! φ accrual member's opinion is not part of the view: the cell shows what
//! the detector concluded from it (φ over the threshold is *suspected*),
//! which is what the other members act on.
//!
//! It is computed only when the page asks for a frame, from the lab's
//! tracker (which mirrors the members' notes), and reads nothing that
//! changes the run: a run's fingerprint is the same whether it is drawn or
//! not.

use serde::{Deserialize, Serialize};

/// Most members drawn as a full matrix; above, only per-member counts.
pub const MATRIX_MAX: u32 = 64;

/// One member's opinion of another, as a cell of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opinion {
    /// Trusted.
    Alive,
    /// Suspected: its detector doubts it, not yet declared dead.
    Suspected,
    /// Declared dead (failed).
    Dead,
    /// The observer itself is down: it holds no opinion (a crashed member
    /// forgets its view; it starts afresh when it restarts).
    NoView,
}

impl Opinion {
    /// Every opinion, in the order of their codes.
    pub const ALL: [Opinion; 4] = [Opinion::Alive, Opinion::Suspected, Opinion::Dead, Opinion::NoView];

    /// The opinion a cell's byte encodes.
    pub fn from_code(code: u8) -> Opinion {
        Opinion::ALL.get(code as usize).copied().unwrap_or(Opinion::NoView)
    }

    /// Its byte in [`FaultsView::cells`].
    pub fn code(self) -> u8 {
        self as u8
    }

    /// In words, for the legend and the cells' labels.
    pub fn name(self) -> &'static str {
        match self {
            Opinion::Alive => "alive",
            Opinion::Suspected => "suspected",
            Opinion::Dead => "declared dead",
            Opinion::NoView => "no view (observer down)",
        }
    }
}

/// What is really true of a member: the ground truth a detector guesses at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    /// Up and healthy.
    Up,
    /// Crashed: suspecting it is right.
    Crashed,
    /// Paused (a garbage-collection pause): alive, but silent for now.
    Paused,
    /// The slow member: up, but it reads every message late.
    Slow,
    /// The member behind a jittery link: up, its messages leave late.
    Jittery,
}

impl Truth {
    /// Every truth, in the order of their codes.
    pub const ALL: [Truth; 5] = [Truth::Up, Truth::Crashed, Truth::Paused, Truth::Slow, Truth::Jittery];

    /// The truth a byte of [`FaultsView::truth`] encodes.
    pub fn from_code(code: u8) -> Truth {
        Truth::ALL.get(code as usize).copied().unwrap_or(Truth::Up)
    }

    /// Its byte in [`FaultsView::truth`].
    pub fn code(self) -> u8 {
        self as u8
    }

    /// In words: "which is ...".
    pub fn name(self) -> &'static str {
        match self {
            Truth::Up => "up",
            Truth::Crashed => "crashed",
            Truth::Paused => "paused",
            Truth::Slow => "up but slow",
            Truth::Jittery => "up behind a jittery link",
        }
    }

    /// Whether the member has really failed (suspecting it is no mistake).
    pub fn failed(self) -> bool {
        self == Truth::Crashed
    }
}

/// The failure-detection lab's own view (bincode-encoded in
/// [`crate::lab::Frame::view`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultsView {
    /// Members.
    pub n: u32,
    /// Each observer's [`Opinion`] code of each member, `observer * n +
    /// member`, when `n <= MATRIX_MAX`; empty above. The diagonal (a member
    /// of itself) is always alive.
    pub cells: Vec<u8>,
    /// Each member's [`Truth`] code.
    pub truth: Vec<u8>,
    /// How many members suspect each member (not yet declared dead).
    pub suspected_by: Vec<u16>,
    /// How many members hold each member dead.
    pub dead_by: Vec<u16>,
}

impl FaultsView {
    /// Whether the view holds the whole matrix.
    pub fn has_matrix(&self) -> bool {
        self.n > 0 && self.cells.len() == (self.n as usize) * (self.n as usize)
    }

    /// What `observer` thinks of `member`, if the matrix is held.
    pub fn opinion(&self, observer: u32, member: u32) -> Option<Opinion> {
        if observer >= self.n || member >= self.n {
            return None;
        }
        self.cells.get((observer * self.n + member) as usize).map(|&c| Opinion::from_code(c))
    }

    /// What is true of `member`.
    pub fn truth_of(&self, member: u32) -> Truth {
        self.truth.get(member as usize).map_or(Truth::Up, |&c| Truth::from_code(c))
    }

    /// Members that doubt `member` (suspect it or hold it dead).
    pub fn doubted_by(&self, member: u32) -> u32 {
        let at = |v: &[u16]| u32::from(v.get(member as usize).copied().unwrap_or(0));
        at(&self.suspected_by) + at(&self.dead_by)
    }

    /// Members that could hold an opinion of `member`: the others not
    /// crashed.
    pub fn live_others(&self, member: u32) -> u32 {
        (0..self.n).filter(|&o| o != member && self.truth_of(o) != Truth::Crashed).count() as u32
    }

    /// Whether `member` is doubted by someone though it has not failed.
    pub fn falsely_suspected(&self, member: u32) -> bool {
        self.doubted_by(member) > 0 && !self.truth_of(member).failed()
    }

    /// The view in a few plain sentences, most telling first: false
    /// suspicions ("3 members suspect S4, which is paused: a false
    /// suspicion"), then crashes and how far their detection has got; at
    /// most `most` sentences and one saying how many more.
    pub fn summary(&self, most: usize) -> Vec<String> {
        let verb = |k: u32, one: &str, many: &str| {
            if k == 1 {
                format!("1 member {one}")
            } else {
                format!("{k} members {many}")
            }
        };
        // (false first, then more doubters first, then by member).
        let mut items: Vec<(bool, u32, u32, String)> = Vec::new();
        for m in 0..self.n {
            let truth = self.truth_of(m);
            let (sus, dead) = (
                u32::from(self.suspected_by.get(m as usize).copied().unwrap_or(0)),
                u32::from(self.dead_by.get(m as usize).copied().unwrap_or(0)),
            );
            let doubt = sus + dead;
            let what = match (sus, dead) {
                (s, 0) => format!("{} S{}", verb(s, "suspects", "suspect"), m + 1),
                (0, d) => format!("{} S{} dead", verb(d, "holds", "hold"), m + 1),
                (s, d) => format!(
                    "{} S{} and {d} {} it dead",
                    verb(s, "suspects", "suspect"),
                    m + 1,
                    if d == 1 { "holds" } else { "hold" }
                ),
            };
            if truth.failed() {
                let live = self.live_others(m);
                let text = if doubt == 0 {
                    format!("S{} has crashed; no member suspects it yet", m + 1)
                } else if dead >= live && live > 0 {
                    format!("All {live} live members hold S{} dead: it has crashed, detected", m + 1)
                } else {
                    format!("{what}, which has crashed: {doubt} of {live} live members know")
                };
                items.push((false, doubt, m, text));
            } else if doubt > 0 {
                let text = format!("{what}, which is {}: a false suspicion", truth.name());
                items.push((true, doubt, m, text));
            }
        }
        if items.is_empty() {
            return vec!["Every member trusts every other, and none has crashed.".to_string()];
        }
        items.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let more = items.len().saturating_sub(most);
        let mut out: Vec<String> = items.into_iter().take(most).map(|i| i.3).collect();
        if more > 0 {
            out.push(format!(
                "And {more} more {}",
                if more == 1 { "member doubted or down" } else { "members doubted or down" }
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(truth: &[Truth], sus: &[u16], dead: &[u16]) -> FaultsView {
        FaultsView {
            n: truth.len() as u32,
            cells: Vec::new(),
            truth: truth.iter().map(|t| t.code()).collect(),
            suspected_by: sus.to_vec(),
            dead_by: dead.to_vec(),
        }
    }

    // The sentences the page shows under the matrix (the example:
    // "3 members suspect S4, which is up: false suspicion").
    #[test]
    fn the_summary_names_false_suspicions_first() {
        let v = view(&[Truth::Up, Truth::Crashed, Truth::Up, Truth::Paused], &[0, 1, 0, 3], &[0, 1, 0, 0]);
        assert_eq!(
            v.summary(3),
            vec![
                "3 members suspect S4, which is paused: a false suspicion".to_string(),
                "1 member suspects S2 and 1 holds it dead, which has crashed: 2 of 3 live members know".to_string(),
            ]
        );
        let calm = view(&[Truth::Up; 3], &[0; 3], &[0; 3]);
        assert_eq!(calm.summary(3), vec!["Every member trusts every other, and none has crashed.".to_string()]);
        let done = view(&[Truth::Up, Truth::Crashed, Truth::Up], &[0; 3], &[0, 2, 0]);
        assert_eq!(done.summary(3), vec!["All 2 live members hold S2 dead: it has crashed, detected".to_string()]);
        let many = view(&[Truth::Up; 5], &[1; 5], &[0; 5]);
        assert_eq!(many.summary(2).last().map(String::as_str), Some("And 3 more members doubted or down"));
    }

    #[test]
    fn codes_round_trip() {
        for o in Opinion::ALL {
            assert_eq!(Opinion::from_code(o.code()), o);
        }
        for t in Truth::ALL {
            assert_eq!(Truth::from_code(t.code()), t);
        }
    }
}
