//! Leader election (§5.2, §5.4.1) and the thesis's liveness aids: Pre-Vote
//! (§9.6), CheckQuorum (§6.2) and the minimum-election-timeout rule
//! against disruptive servers (§4.2.3).
//!
//! A follower that hears nothing from a leader for a randomized election
//! timeout, drawn from the node's own seeded stream (`ctx.rng`), becomes a
//! candidate: it raises its term, votes for itself and asks the other
//! members. A server grants at most one vote per term, and only to a
//! candidate whose log is at least as up-to-date as its own (§5.4.1). A
//! candidate with a majority leads; an AppendEntries of its term sends it
//! back to following.
//!
//! **Pre-Vote (thesis §9.6).** With [`RaftConfig::pre_vote`](super::RaftConfig::pre_vote),
//! a server first asks whether it *could* win, without raising anybody's
//! term; a server that hears from a live leader says no.
//!
//! **Disruptive servers (§4.2.3).** A removed server that never learns of
//! its removal times out and campaigns with ever higher terms. The
//! protection here is the thesis's *minimum election timeout* rule, turned
//! on by [`RaftConfig::vote_guard`](super::RaftConfig::vote_guard): a
//! server that has heard from a current leader within the minimum election
//! timeout (or is the leader) ignores RequestVote, neither raising its term
//! nor granting its vote. (Pre-Vote, with its own check that a leader is
//! alive, protects too.)
//!
//! **CheckQuorum (thesis §6.2).** A leader that has not heard from a
//! majority within an election timeout steps down.

use super::message::{RaftMsg, RaftNote, RaftTimer};
use super::node::{RaftNode, Role};
use crate::sim::{Ctx, NodeId, Reply, Time};

/// Why a leader stepped down.
pub(super) const REASON_HIGHER_TERM: &str = "saw a higher term";
pub(super) const REASON_QUORUM: &str = "lost contact with a majority";
pub(super) const REASON_FORCED: &str = "forced election timeout";
pub(super) const REASON_REMOVED: &str = "its removal from the configuration committed";

impl RaftNode {
    /// §5.4.1: a candidate's log is at least as up-to-date as ours if its
    /// last term is later, or the same with an index at least as large
    /// (the snapshot's last entry counts when the log is empty).
    pub(super) fn log_is_up_to_date(&self, last_log_term: u64, last_log_index: u64) -> bool {
        let (t, i) = (self.last_log_term(), self.last_log_index());
        last_log_term > t || (last_log_term == t && last_log_index >= i)
    }

    pub(super) fn arm_election_timer(&mut self, ctx: &mut Ctx<Self>) {
        let after = ctx.rng.range(self.config.election_timeout_min, self.config.election_timeout_max);
        ctx.set_timer(RaftTimer::Election, after);
        self.election_armed_at = Some(ctx.now);
    }

    /// Resets the election timer on hearing from the leader (§5.2). Under
    /// heavy load AppendEntries arrive far more often than heartbeats; a
    /// reset within an eighth of the minimum timeout of the previous one is
    /// skipped, because every re-arm leaves a dead timer event in the
    /// simulator's queue. At heartbeat pace every message still resets it;
    /// under load the timeout since the leader last spoke stays at least
    /// 7/8 of the minimum.
    pub(super) fn reset_election_timer(&mut self, ctx: &mut Ctx<Self>) {
        let recent =
            self.election_armed_at.is_some_and(|t| ctx.now.saturating_sub(t) < self.config.election_timeout_min / 8);
        if !recent {
            self.arm_election_timer(ctx);
        }
    }

    pub(super) fn reset_votes(&mut self) {
        self.votes.iter_mut().for_each(|v| *v = false);
        self.votes_granted = u32::from(self.members.contains(self.id));
        if let Some(v) = self.votes.get_mut(self.id as usize) {
            *v = true;
        }
    }

    /// Gives up leadership (if held) and becomes a follower of `term`
    /// (Figure 2, "All servers"). A new term clears the vote.
    pub(super) fn become_follower(
        &mut self,
        ctx: &mut Ctx<Self>,
        term: u64,
        leader: Option<NodeId>,
        reason: &'static str,
    ) {
        let was = self.role;
        let new_term = term > self.term;
        if new_term {
            self.term = term;
            self.voted_for = None;
            self.leader_hint = None;
        }
        if was == Role::Leader {
            ctx.note(RaftNote::SteppedDown { term: self.term, reason });
            ctx.cancel_timer(RaftTimer::Heartbeat);
            ctx.cancel_timer(RaftTimer::CheckQuorum);
            self.heartbeating = false;
            self.leader_hint = None;
            // Requests still waiting may or may not commit under the next
            // leader; the client should ask again there.
            while let Some((_, req)) = self.pending.pop_front() {
                ctx.reply(req, Reply::NotLeader(leader));
            }
            self.drop_reads(leader, ctx);
            if let Some(c) = self.change.take() {
                ctx.note(RaftNote::ChangeRefused { id: c.id, reason: "the leader stepped down" });
            }
            self.batch = None;
            self.arm_election_timer(ctx);
        }
        self.role = Role::Follower;
        if leader.is_some() {
            self.leader_hint = leader;
        }
        if was != Role::Follower || new_term {
            ctx.note(RaftNote::BecameFollower { term: self.term });
        }
    }

    /// Whether this server may start elections: a member of its latest
    /// configuration, or a server that configuration leaves out while it is
    /// not known to be committed (thesis §4.2.2: "a server that is not part
    /// of its own latest configuration should still start new elections, as
    /// it might still be needed until the Cnew entry is committed"), if the
    /// configuration before it held the server. A spare, a learner, or a
    /// server that knows its removal committed, waits.
    pub(super) fn may_campaign(&self) -> bool {
        self.members.contains(self.id) || (self.members_index > self.commit_index && self.in_previous_config())
    }

    /// Starts an election, or a Pre-Vote round first if configured (see
    /// [`RaftNode::may_campaign`]).
    pub(super) fn campaign(&mut self, ctx: &mut Ctx<Self>) {
        if !self.may_campaign() {
            return;
        }
        if self.config.pre_vote {
            self.start_pre_vote(ctx);
        } else {
            self.start_election(ctx);
        }
    }

    /// Thesis §9.6: ask whether an election for `term + 1` could be won,
    /// without changing any server's term.
    pub(super) fn start_pre_vote(&mut self, ctx: &mut Ctx<Self>) {
        self.role = Role::PreCandidate;
        self.leader_hint = None;
        self.reset_votes();
        ctx.note(RaftNote::BecamePreCandidate { term: self.term });
        self.arm_election_timer(ctx);
        if self.votes_granted >= self.majority() {
            self.start_election(ctx);
            return;
        }
        self.ask_for_votes(self.term.saturating_add(1), true, ctx);
    }

    /// Sends RequestVote (or a pre-vote) for `term` to the other members,
    /// with this server's last log position, for the up-to-date check of
    /// §5.4.1.
    pub(super) fn ask_for_votes(&self, term: u64, pre_vote: bool, ctx: &mut Ctx<Self>) {
        let msg = RaftMsg::RequestVote {
            term,
            last_log_index: self.last_log_index(),
            last_log_term: self.last_log_term(),
            pre_vote,
        };
        for p in self.members.without(self.id).iter() {
            ctx.send(p, msg.clone());
        }
    }

    /// §5.2: increment the term, vote for self, reset the election timer,
    /// send RequestVote to all other servers.
    pub(super) fn start_election(&mut self, ctx: &mut Ctx<Self>) {
        self.term = self.term.saturating_add(1);
        self.voted_for = Some(self.id);
        self.role = Role::Candidate;
        self.leader_hint = None;
        self.reset_votes();
        ctx.note(RaftNote::BecameCandidate { term: self.term });
        self.arm_election_timer(ctx);
        if self.votes_granted >= self.majority() {
            self.become_leader(ctx);
            return;
        }
        self.ask_for_votes(self.term, false, ctx);
    }

    /// §5.2–5.3: a candidate with a majority becomes leader, initialises
    /// nextIndex to its last index + 1 and matchIndex to 0, and sends
    /// heartbeats at once.
    pub(super) fn become_leader(&mut self, ctx: &mut Ctx<Self>) {
        self.role = Role::Leader;
        self.leader_hint = Some(self.id);
        let last = self.last_log_index();
        self.progress.reset(self.nodes as usize, last, self.id);
        self.pending.clear();
        self.batch = None;
        self.change = None;
        ctx.note(RaftNote::BecameLeader { term: self.term });
        ctx.cancel_timer(RaftTimer::Election);
        self.election_armed_at = None;
        self.reads = super::reads::ReadState::default();
        if self.config.read_path.needs_noop() {
            // Thesis §6.4 step 1: a no-op of the new term, so the leader
            // learns which entries are committed and can serve reads.
            self.leader_append(super::log::Entry { term: self.term, command: 0, config: None, kv: None }, ctx);
        }
        if self.nodes > 1 {
            for p in self.targets().iter() {
                self.send_append(p, true, ctx);
            }
            self.heartbeating = true;
            ctx.set_timer(RaftTimer::Heartbeat, self.config.heartbeat);
            if self.config.check_quorum {
                ctx.set_timer(RaftTimer::CheckQuorum, self.config.election_timeout_max);
            }
        }
        self.advance_commit(ctx);
    }

    /// RequestVote (Figure 2, §5.2, §5.4.1): grant if the term is current,
    /// no other vote was cast in it, and the candidate's log is at least as
    /// up-to-date. Granting resets the election timer.
    pub(super) fn handle_request_vote(
        &mut self,
        from: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        ctx: &mut Ctx<Self>,
    ) {
        let granted = term == self.term
            && self.voted_for.is_none_or(|v| v == from)
            && self.log_is_up_to_date(last_log_term, last_log_index);
        if granted {
            self.voted_for = Some(from);
            self.arm_election_timer(ctx);
        }
        ctx.send(from, RaftMsg::RequestVoteReply { term: self.term, granted, pre_vote: false });
    }

    /// Whether this server has heard from a current leader within the
    /// minimum election timeout (or leads itself).
    pub(super) fn leader_recently_heard(&self, now: Time) -> bool {
        self.role == Role::Leader
            || self.last_leader_contact.is_some_and(|t| now.saturating_sub(t) < self.config.election_timeout_min)
    }

    /// Pre-Vote (thesis §9.6): grant if the proposed term is later than ours,
    /// the candidate's log is up-to-date, and we have not heard from a
    /// leader within the minimum election timeout. Nothing changes here.
    pub(super) fn handle_pre_vote(
        &mut self,
        from: NodeId,
        term: u64,
        last_log_index: u64,
        last_log_term: u64,
        ctx: &mut Ctx<Self>,
    ) {
        let recent =
            self.last_leader_contact.is_some_and(|t| ctx.now.saturating_sub(t) < self.config.election_timeout_min);
        let leader_alive =
            self.role == Role::Leader || (self.leader_hint.is_some() && self.leader_hint != Some(from) && recent);
        let granted = term > self.term && !leader_alive && self.log_is_up_to_date(last_log_term, last_log_index);
        let reply_term = if granted { term } else { self.term };
        ctx.send(from, RaftMsg::RequestVoteReply { term: reply_term, granted, pre_vote: true });
    }

    pub(super) fn handle_vote_reply(
        &mut self,
        from: NodeId,
        term: u64,
        granted: bool,
        pre_vote: bool,
        ctx: &mut Ctx<Self>,
    ) {
        let current = if pre_vote {
            self.role == Role::PreCandidate && term == self.term.saturating_add(1)
        } else {
            self.role == Role::Candidate && term == self.term
        };
        // Only members of the candidate's configuration count (thesis §4.1).
        if !current || !granted || !self.members.contains(from) {
            return;
        }
        let Some(v) = self.votes.get_mut(from as usize) else {
            return;
        };
        if *v {
            return; // a duplicate
        }
        *v = true;
        self.votes_granted += 1;
        if self.votes_granted >= self.majority() {
            if pre_vote {
                self.start_election(ctx);
            } else {
                self.become_leader(ctx);
            }
        }
    }

    /// Recognises `from` as the leader of the current term (§5.2): a
    /// candidate steps back, and the election timer restarts.
    pub(super) fn heard_from_leader(&mut self, from: NodeId, term: u64, ctx: &mut Ctx<Self>) {
        if self.role != Role::Follower {
            self.become_follower(ctx, term, Some(from), REASON_HIGHER_TERM);
        }
        self.leader_hint = Some(from);
        self.last_leader_contact = Some(ctx.now);
        self.last_leader_clock = Some(ctx.clock);
        self.reset_election_timer(ctx);
    }

    /// CheckQuorum (thesis §6.2): a leader that has not heard from a
    /// majority of its configuration (itself included if a member) since
    /// the last check steps down.
    pub(super) fn check_quorum(&mut self, ctx: &mut Ctx<Self>) {
        let heard = self.progress.heard_from(self.members, self.id);
        if heard < self.majority() {
            self.become_follower(ctx, self.term, None, REASON_QUORUM);
        } else {
            self.progress.clear_active();
            ctx.set_timer(RaftTimer::CheckQuorum, self.config.election_timeout_max);
        }
    }
}
