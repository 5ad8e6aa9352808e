//! Log replication (§5.3) and the commit rule (§5.3, §5.4.2): the leader's
//! AppendEntries and the follower's answer to it.
//!
//! The leader appends client commands, replicates them with AppendEntries,
//! repairs followers' logs (with the conflict-term hint of §5.3's
//! optimisation, so a divergent suffix costs one round trip per term
//! instead of one per entry), and commits an entry once a majority stores
//! it, but only entries of its own term (§5.4.2, Figure 8). A follower
//! accepts AppendEntries only if its log holds the entry just before the
//! new ones, so logs that agree on one entry agree on everything before it
//! (Log Matching).
//!
//! What the leader knows of each follower (`nextIndex`, `matchIndex`, and
//! whether it is probing or pipelining) is kept in `tracker.rs`.

use super::election::REASON_REMOVED;
use super::log::Entry;
use super::message::{RaftMsg, RaftNote};
use super::node::{RaftNode, Role};
use crate::sim::{Ctx, NodeId, Reply};
use std::sync::Arc;

impl RaftNode {
    /// Sends follower `p` an AppendEntries from its nextIndex, or the
    /// snapshot if that entry was compacted (§7). Without `force`, nothing
    /// is sent if there are no new entries or a probe is already out. While
    /// replicating, nextIndex moves past the entries sent (pipelining);
    /// while probing it stays until the answer.
    pub(super) fn send_append(&mut self, p: NodeId, force: bool, ctx: &mut Ctx<Self>) {
        let k = p as usize;
        if k >= self.progress.next_index.len() || p == self.id || self.role != Role::Leader {
            return;
        }
        if self.progress.probing[k] && self.progress.probe_sent[k] && !force {
            return;
        }
        let last = self.last_log_index();
        let next = self.progress.next_index[k].clamp(1, last + 1);
        if next <= self.snapshot.index() {
            // §7: "the leader must occasionally send snapshots to followers
            // that lag behind". It waits for the answer as for a probe.
            self.progress.probing[k] = true;
            self.progress.probe_sent[k] = true;
            ctx.send(p, RaftMsg::InstallSnapshot { term: self.term, snapshot: self.snapshot.clone() });
            return;
        }
        let prev = next - 1;
        let end = prev.saturating_add(self.config.max_batch).min(last);
        if end == prev && !force {
            return;
        }
        let entries = self.batch_of(next, end);
        let msg = RaftMsg::AppendEntries {
            term: self.term,
            prev_log_index: prev,
            prev_log_term: self.term_at(prev).unwrap_or(0),
            entries,
            leader_commit: self.commit_index,
        };
        ctx.send(p, msg);
        if self.progress.probing[k] {
            self.progress.probe_sent[k] = true;
        } else {
            self.progress.next_index[k] = end + 1;
        }
    }

    /// Entries `from..=to` (all in the log) as a shared slice, reusing the
    /// last batch when several followers are at the same place.
    pub(super) fn batch_of(&mut self, from: u64, to: u64) -> Arc<[Entry]> {
        if to < from {
            return self.empty.clone();
        }
        if let Some((f, t, b)) = &self.batch {
            if *f == from && *t == to {
                return b.clone();
            }
        }
        let base = self.snapshot.index();
        let b: Arc<[Entry]> = Arc::from(&self.log[(from - base - 1) as usize..(to - base) as usize]);
        self.batch = Some((from, to, b.clone()));
        b
    }

    /// A heartbeat round (§5.2): every follower hears from the leader. A
    /// follower being probed gets the probe again; a pipelined follower
    /// that acknowledged nothing for a whole interval is probed again from
    /// matchIndex + 1 (its messages may be lost); the others get an
    /// AppendEntries without entries anchored at their matchIndex, which
    /// always matches and carries the commit index. A follower whose
    /// matchIndex was compacted away is probed (it gets the snapshot).
    pub(super) fn heartbeat(&mut self, ctx: &mut Ctx<Self>) {
        for p in self.targets().iter() {
            let k = p as usize;
            if k >= self.progress.next_index.len() {
                continue;
            }
            let outstanding = self.progress.next_index[k] > self.progress.match_index[k] + 1;
            let compacted = self.progress.match_index[k] < self.snapshot.index();
            if !self.progress.probing[k] && ((outstanding && !self.progress.progressed[k]) || compacted) {
                self.progress.probing[k] = true;
                self.progress.next_index[k] = self.progress.match_index[k] + 1;
            }
            self.progress.progressed[k] = false;
            if self.progress.probing[k] {
                self.progress.probe_sent[k] = false;
                self.send_append(p, true, ctx);
            } else {
                let prev = self.progress.match_index[k];
                let msg = RaftMsg::AppendEntries {
                    term: self.term,
                    prev_log_index: prev,
                    prev_log_term: self.term_at(prev).unwrap_or(0),
                    entries: self.empty.clone(),
                    leader_commit: self.commit_index,
                };
                ctx.send(p, msg);
            }
        }
        self.advance_change(ctx);
    }

    /// §5.3, §5.4.2: the commit index moves to the highest index stored on a
    /// majority of the configuration in force (the leader counts itself if
    /// it is a member), but only if that entry is of the leader's current
    /// term; earlier entries then commit with it.
    pub(super) fn advance_commit(&mut self, ctx: &mut Ctx<Self>) {
        if self.role != Role::Leader {
            return;
        }
        let last = self.last_log_index();
        let majority = self.majority() as usize;
        let Some(n) = self.progress.quorum_index(self.members, self.id, last, majority) else {
            return;
        };
        let current_term = self.term_at(n) == Some(self.term);
        if n > self.commit_index && (current_term || self.config.bug_commit_old_terms) {
            self.commit_to(n, ctx);
            while let Some(&(index, req)) = self.pending.front() {
                if index > n {
                    break;
                }
                self.pending.pop_front();
                ctx.reply(req, Reply::Committed);
            }
            // Thesis §4.2.2: a leader removed from the configuration steps
            // down once that configuration is committed.
            if !self.members.contains(self.id) && self.members_index <= self.commit_index {
                self.become_follower(ctx, self.term, None, REASON_REMOVED);
                return;
            }
            self.advance_change(ctx);
        }
    }

    /// AppendEntries (Figure 2, §5.3): refuse a stale term; otherwise
    /// recognise the leader, check that our log has `prev_log_index` with
    /// `prev_log_term` (refusing with a conflict hint if not), delete any
    /// conflicting suffix, append what is new, and advance the commit index
    /// to `min(leader_commit, index of last new entry)`. Entries at or below
    /// our snapshot are committed here already and are skipped (§7).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle_append(
        &mut self,
        from: NodeId,
        term: u64,
        prev_log_index: u64,
        prev_log_term: u64,
        entries: &[Entry],
        leader_commit: u64,
        ctx: &mut Ctx<Self>,
    ) {
        let heartbeat = entries.is_empty();
        let reply = |me: &Self, ctx: &mut Ctx<Self>, success: bool, index: u64, conflict: (u64, Option<u64>)| {
            let (conflict_index, conflict_term) = conflict;
            let msg =
                RaftMsg::AppendEntriesReply { term: me.term, success, index, conflict_index, conflict_term, heartbeat };
            ctx.send(from, msg);
        };
        if term < self.term {
            return reply(self, ctx, false, prev_log_index, (0, None));
        }
        if self.role == Role::Leader {
            // Two leaders in one term: Election Safety says this cannot
            // happen; the checker reports it. Do not touch the log.
            return;
        }
        self.heard_from_leader(from, term, ctx);

        let matched = prev_log_index.saturating_add(entries.len() as u64);
        if let Err(conflict) = self.match_and_append(prev_log_index, prev_log_term, entries, ctx) {
            return reply(self, ctx, false, prev_log_index, conflict);
        }
        if leader_commit > self.commit_index {
            let c = leader_commit.min(matched);
            if c > self.commit_index {
                self.commit_to(c, ctx);
            }
        }
        reply(self, ctx, true, matched, (0, None));
    }

    /// The follower's log check of AppendEntries (§5.3): whether our log
    /// holds the entry at `prev_log_index` with `prev_log_term`, and if so
    /// the new entries stored after it. Entries the snapshot covers are
    /// committed and match the leader's log; they are skipped (§7). On a
    /// mismatch, the hint for the leader: where to look next and the term
    /// of our entry there, if we have one.
    fn match_and_append(
        &mut self,
        prev_log_index: u64,
        prev_log_term: u64,
        entries: &[Entry],
        ctx: &mut Ctx<Self>,
    ) -> Result<(), (u64, Option<u64>)> {
        let base = self.snapshot.index();
        let (prev, entries) = if prev_log_index < base {
            // §7: the snapshot covers the start; what it covers is
            // committed and matches the leader's log.
            let skip = (base - prev_log_index).min(entries.len() as u64) as usize;
            (prev_log_index + skip as u64, &entries[skip..])
        } else {
            (prev_log_index, entries)
        };
        if prev < base {
            return Ok(());
        }
        let last = self.last_log_index();
        if prev > last {
            return Err((last + 1, None));
        }
        let expected = if prev == prev_log_index { prev_log_term } else { self.snapshot.term() };
        match self.term_at(prev) {
            Some(t) if t != expected => {
                // Fast backup: point at the first entry of the
                // conflicting term, so the leader can skip the whole
                // term at once.
                let first = base + self.log.partition_point(|e| e.term < t) as u64 + 1;
                return Err((first.min(prev_log_index), Some(t)));
            }
            _ => {}
        }
        self.append_after(prev, entries, ctx);
        Ok(())
    }

    /// Stores `entries`, which follow index `prev` in the leader's log:
    /// entries we already have are skipped, the log is cut at the first
    /// conflicting one (Figure 2: "delete the existing entry and all that
    /// follow it"), and the rest appended. A truncation or a new
    /// configuration entry changes the configuration in force.
    fn append_after(&mut self, prev: u64, entries: &[Entry], ctx: &mut Ctx<Self>) {
        let base = self.snapshot.index();
        let mut index = prev;
        let mut skip = 0;
        let mut cut = false;
        for e in entries {
            match self.entry(index + 1) {
                Some(mine) if mine.term == e.term => {
                    index += 1;
                    skip += 1;
                }
                Some(_) => {
                    self.log.truncate((index - base) as usize);
                    ctx.note(RaftNote::Truncated { from: index + 1 });
                    cut = true;
                    break;
                }
                None => break,
            }
        }
        let grew = skip < entries.len();
        if grew {
            let from_index = self.last_log_index() + 1;
            self.log.extend_from_slice(&entries[skip..]);
            ctx.note(RaftNote::Appended { from: from_index, to: self.last_log_index() });
        }
        if cut || (grew && entries[skip..].iter().any(|e| e.config.is_some())) {
            self.refresh_config(ctx);
        }
    }

    /// The answer to InstallSnapshot: the follower now matches up to the
    /// snapshot's last index; replicate what follows.
    pub(super) fn handle_install_reply(&mut self, from: NodeId, term: u64, index: u64, ctx: &mut Ctx<Self>) {
        let k = from as usize;
        if self.role != Role::Leader || term != self.term || k >= self.progress.next_index.len() || from == self.id {
            return;
        }
        self.progress.active[k] = true;
        if index == 0 {
            return;
        }
        let index = index.min(self.last_log_index());
        self.progress.matched(k, index);
        self.advance_commit(ctx);
        self.advance_change(ctx);
        if self.progress.next_index[k] <= self.last_log_index() && self.targets().contains(from) {
            self.send_append(from, false, ctx);
        }
    }

    /// A follower's answer to AppendEntries (§5.3): on success, advance
    /// matchIndex and maybe the commit index, and send what is still
    /// missing; on failure, move nextIndex back using the conflict hint and
    /// probe again.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn handle_append_reply(
        &mut self,
        from: NodeId,
        term: u64,
        success: bool,
        index: u64,
        conflict_index: u64,
        conflict_term: Option<u64>,
        ctx: &mut Ctx<Self>,
    ) {
        let k = from as usize;
        if self.role != Role::Leader || term != self.term || k >= self.progress.next_index.len() || from == self.id {
            return;
        }
        self.progress.active[k] = true;
        let last = self.last_log_index();
        if success {
            let advanced = self.progress.matched(k, index.min(last));
            if advanced {
                self.advance_commit(ctx);
                self.advance_change(ctx);
            }
            if self.progress.next_index[k] <= self.last_log_index() && self.targets().contains(from) {
                self.send_append(from, false, ctx);
            }
            return;
        }
        // A refusal below what the follower is known to match, or of a
        // probe we have since moved on from, is stale. (A refusal *at*
        // matchIndex means later pipelined entries arrived before the one
        // they follow: send them again from there.)
        if index < self.progress.match_index[k]
            || (self.progress.probing[k] && Some(index) != self.progress.next_index[k].checked_sub(1))
        {
            return;
        }
        let hinted = match conflict_term {
            Some(t) => {
                // The entry after our last entry of term `t`, if we have that
                // term; otherwise the follower's first index of it.
                let end = self.snapshot.index() + self.log.partition_point(|e| e.term <= t) as u64;
                if end > self.snapshot.index() && self.term_at(end) == Some(t) {
                    end + 1
                } else {
                    conflict_index
                }
            }
            None => conflict_index,
        };
        let floor = self.progress.match_index[k] + 1;
        self.progress.next_index[k] = hinted.min(index).max(floor);
        self.progress.probing[k] = true;
        self.progress.probe_sent[k] = false;
        if self.targets().contains(from) {
            self.send_append(from, true, ctx);
        }
    }
}
