//! Cluster membership changes, one server at a time (Ongaro's thesis §4).
//!
//! A configuration ([`Members`]) is a log entry; a server uses the latest
//! configuration in its log, committed or not (§4.1). The first `members`
//! servers form the initial configuration; the others are spare until a
//! leader adds them. Adding a server first replicates to it as a
//! non-voting *learner* in rounds (§4.2.1); when a round takes less than an
//! election timeout, the leader appends the new configuration. At most one
//! change is in flight: a leader appends a configuration only when the
//! previous one is committed and it has committed an entry of its own term
//! (appending a no-op first if needed, the fix to the single-server change
//! bug described on the Raft mailing list in 2015). A leader that removes
//! itself keeps leading until the change commits, without counting itself,
//! then steps down (§4.2.2). A server outside its own configuration starts
//! elections only while that configuration is not known to be committed
//! (§4.2.2); it then counts the votes of the configuration's members, not
//! its own.

use super::log::Entry;
use super::message::{RaftNote, RaftTimer};
use super::node::{RaftNode, Role};
use crate::sim::{Ctx, NodeId, Time};

/// Catch-up rounds a leader runs for a new server before giving up (thesis
/// §4.2.1 suggests ten).
pub const CATCH_UP_ROUNDS: u32 = 10;

/// A set of servers: a Raft configuration (thesis §4). Server ids below
/// [`Members::CAPACITY`] only; a bit set, so entries stay small and `Copy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Members([u64; 2]);

impl Members {
    /// The most servers a configuration can name (ids `0..128`).
    pub const CAPACITY: u32 = 128;

    /// Servers `0..n` (at most [`Members::CAPACITY`]).
    pub fn first(n: u32) -> Members {
        (0..n.min(Self::CAPACITY)).fold(Members::default(), Members::with)
    }
    /// Whether `id` is a member.
    pub fn contains(self, id: NodeId) -> bool {
        id < Self::CAPACITY && self.0[(id / 64) as usize] & (1 << (id % 64)) != 0
    }
    /// The set with `id` added (ids beyond the capacity are ignored).
    pub fn with(self, id: NodeId) -> Members {
        let mut m = self;
        if id < Self::CAPACITY {
            m.0[(id / 64) as usize] |= 1 << (id % 64);
        }
        m
    }
    /// The set without `id`.
    pub fn without(self, id: NodeId) -> Members {
        let mut m = self;
        if id < Self::CAPACITY {
            m.0[(id / 64) as usize] &= !(1 << (id % 64));
        }
        m
    }
    /// Number of members.
    pub fn len(self) -> u32 {
        self.0[0].count_ones() + self.0[1].count_ones()
    }
    /// Whether there are no members.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
    /// Votes (or replicas) that make a majority of this configuration.
    pub fn majority(self) -> u32 {
        self.len() / 2 + 1
    }
    /// The members, in increasing order.
    pub fn iter(self) -> impl Iterator<Item = NodeId> {
        let [mut lo, mut hi] = self.0;
        std::iter::from_fn(move || {
            if lo != 0 {
                let i = lo.trailing_zeros();
                lo &= lo - 1;
                Some(i)
            } else if hi != 0 {
                let i = hi.trailing_zeros();
                hi &= hi - 1;
                Some(64 + i)
            } else {
                None
            }
        })
    }
    /// The two words of the bit set (for digests).
    pub fn bits(self) -> [u64; 2] {
        self.0
    }
    /// Servers in one set but not the other.
    pub fn difference_count(self, other: Members) -> u32 {
        (self.0[0] ^ other.0[0]).count_ones() + (self.0[1] ^ other.0[1]).count_ones()
    }
}

impl std::fmt::Display for Members {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, id) in self.iter().enumerate() {
            if k > 0 {
                f.write_str(",")?;
            }
            write!(f, "S{}", u64::from(id) + 1)?;
        }
        Ok(())
    }
}

/// Where a server stands with respect to its own configuration (thesis §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// In its latest configuration: it votes and may campaign.
    Voter,
    /// Not (yet) a member, but a leader replicates to it (or has): it is
    /// catching up before being added.
    Learner,
    /// It was a member and its latest configuration no longer holds it.
    Removed,
    /// Never a member and never contacted: an idle server slot.
    Spare,
}

impl Membership {
    /// The name for display.
    pub fn name(self) -> &'static str {
        match self {
            Membership::Voter => "Voter",
            Membership::Learner => "Learner",
            Membership::Removed => "Removed",
            Membership::Spare => "Spare",
        }
    }
}

/// A membership change an operator asks a leader for (thesis §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberChange {
    /// Add a server: catch it up as a learner, then append the new
    /// configuration.
    Add(NodeId),
    /// Remove a server (possibly the leader itself).
    Remove(NodeId),
}

/// A membership change a leader is working on, before its configuration
/// entry is appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PendingChange {
    pub(super) id: NodeId,
    pub(super) add: bool,
    /// Adding: the learner caught up (or removing: nothing to wait for).
    pub(super) ready: bool,
    /// The current catch-up round ends when the learner matches this index.
    pub(super) round_end: u64,
    /// When the current round started.
    pub(super) round_start: Time,
    /// Rounds run so far.
    pub(super) rounds: u32,
}

impl RaftNode {
    /// The servers a leader replicates to: the other members, and the
    /// learner it is catching up.
    pub(super) fn targets(&self) -> Members {
        let t = match self.change {
            Some(c) if c.add && self.role == Role::Leader => self.members.with(c.id),
            _ => self.members,
        };
        t.without(self.id)
    }

    /// The latest configuration at or before `upto`, and its index: from
    /// the log, else the snapshot, else the initial one.
    pub(super) fn latest_config(&self, upto: u64) -> (Members, u64) {
        let first = self.first_log_index();
        let end = upto.saturating_sub(self.snapshot.index()).min(self.log.len() as u64) as usize;
        if let Some(k) = self.log[..end].iter().rposition(|e| e.config.is_some()) {
            if let Some(&m) = self.log[k].config.as_deref() {
                return (m, first + k as u64);
            }
        }
        match self.snapshot.config {
            Some(m) => (m, self.snapshot.config_index),
            None => (self.bootstrap, 0),
        }
    }

    /// Brings the configuration in force up to date with the log (after an
    /// append, a truncation or a snapshot) and notes a change. A server that
    /// becomes a member arms its election timer; a leader keeps
    /// replicating to the new members.
    pub(super) fn refresh_config(&mut self, ctx: &mut Ctx<Self>) {
        let (members, index) = self.latest_config(self.last_log_index());
        if (members, index) == (self.members, self.members_index) {
            return;
        }
        let joined = members.contains(self.id) && !self.members.contains(self.id);
        self.members = members;
        self.members_index = index;
        ctx.note(RaftNote::Configured { index, members });
        if members.contains(self.id) {
            self.ever_member = true;
        }
        if (joined || self.may_campaign()) && self.role != Role::Leader {
            self.arm_election_timer(ctx);
        }
        if self.role == Role::Leader && self.members.len() > 1 && !self.heartbeating {
            self.heartbeating = true;
            ctx.set_timer(RaftTimer::Heartbeat, self.config.heartbeat);
        }
    }

    /// Whether the configuration before the one in force holds this server
    /// (so a learner or a spare never campaigns).
    pub(super) fn in_previous_config(&self) -> bool {
        self.members_index > 0 && self.latest_config(self.members_index - 1).0.contains(self.id)
    }

    /// An operator asks this server to add or remove a server (thesis §4.1,
    /// AddServer and RemoveServer). Only a leader acts; it refuses (with a
    /// note) while another change is in flight.
    pub fn change_membership(&mut self, change: MemberChange, ctx: &mut Ctx<Self>) {
        self.maybe_compact(ctx);
        let (id, add) = match change {
            MemberChange::Add(id) => (id, true),
            MemberChange::Remove(id) => (id, false),
        };
        let refuse = |ctx: &mut Ctx<Self>, reason| ctx.note(RaftNote::ChangeRefused { id, reason });
        if self.role != Role::Leader {
            return refuse(ctx, "only a leader changes the configuration");
        }
        if id >= self.nodes || id >= Members::CAPACITY {
            return refuse(ctx, "no such server");
        }
        if self.change.is_some() || self.members_index > self.commit_index {
            return refuse(ctx, "another change is in flight");
        }
        if add == self.members.contains(id) {
            return refuse(ctx, if add { "already a member" } else { "not a member" });
        }
        if !add && self.members.len() == 1 {
            return refuse(ctx, "the last member cannot be removed");
        }
        let last = self.last_log_index();
        self.change = Some(PendingChange { id, add, ready: !add, round_end: last, round_start: ctx.now, rounds: 1 });
        if add {
            // Thesis §4.2.1: replicate to it as a non-voting learner first.
            ctx.note(RaftNote::CatchingUp { id });
            let k = id as usize;
            self.progress.add_learner(k, last);
            if !self.heartbeating {
                self.heartbeating = true;
                ctx.set_timer(RaftTimer::Heartbeat, self.config.heartbeat);
            }
            self.send_append(id, true, ctx);
        }
        self.advance_change(ctx);
    }

    /// Moves a pending change on: counts the learner's catch-up rounds
    /// (thesis §4.2.1: a round replicates everything the leader held when
    /// it began; when a round takes less than an election timeout the
    /// learner is caught up), then appends the configuration once the
    /// previous one is committed and the leader has committed an entry of
    /// its term (a no-op if needed).
    pub(super) fn advance_change(&mut self, ctx: &mut Ctx<Self>) {
        if self.role != Role::Leader {
            return;
        }
        let Some(mut c) = self.change else { return };
        if !c.ready {
            let matched = self.progress.match_index.get(c.id as usize).copied().unwrap_or(0);
            let took = ctx.now.saturating_sub(c.round_start);
            if matched < c.round_end {
                if took > 10 * self.config.election_timeout_max {
                    self.change = None;
                    ctx.note(RaftNote::ChangeRefused { id: c.id, reason: "the new server did not catch up" });
                }
                return;
            }
            if took < self.config.election_timeout_min {
                c.ready = true;
            } else if c.rounds >= CATCH_UP_ROUNDS {
                self.change = None;
                ctx.note(RaftNote::ChangeRefused { id: c.id, reason: "the new server is too slow to catch up" });
                return;
            } else {
                c.rounds += 1;
                c.round_end = self.last_log_index();
                c.round_start = ctx.now;
            }
            self.change = Some(c);
            if !c.ready {
                return;
            }
        }
        if self.members_index > self.commit_index {
            return; // the previous change is not committed yet
        }
        if self.term_at(self.commit_index) != Some(self.term) {
            // Nothing of this term committed yet: a no-op, once.
            let has_noop =
                self.log.iter().rev().take_while(|e| e.term == self.term).any(|e| e.command == 0 && e.config.is_none());
            if !has_noop {
                self.leader_append(Entry { term: self.term, command: 0, config: None, kv: None }, ctx);
                for p in self.targets().iter() {
                    self.send_append(p, false, ctx);
                }
                self.advance_commit(ctx);
            }
            return;
        }
        self.change = None;
        let members = if c.add { self.members.with(c.id) } else { self.members.without(c.id) };
        self.leader_append(Entry::with_config(self.term, members), ctx);
        // Thesis §4.1: the new configuration takes effect on append.
        self.refresh_config(ctx);
        for p in self.targets().iter() {
            self.send_append(p, false, ctx);
        }
        self.advance_commit(ctx);
    }
}
