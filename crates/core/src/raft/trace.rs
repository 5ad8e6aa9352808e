//! How a Raft server's messages, timers and notes appear in a trace: the
//! one-line text people read (`AppendEntries t3 prev 4/2 entries 2 commit 4`),
//! the kind name the diagram and the metrics group by, and the digest that
//! goes into a run's fingerprint.
//!
//! The digests are written by hand, field by field, with a tag per variant,
//! so that a fingerprint depends on what a message means and not on how
//! Rust lays it out. They must not change: the scenario tests pin the
//! fingerprints of recorded runs. (Configuration entries are hashed only
//! when present, so runs without membership changes kept their
//! fingerprints when configurations were added.)

use super::message::{RaftMsg, RaftNote, RaftTimer};
use crate::sim::{Fingerprint, Observable};

impl Observable for RaftMsg {
    fn describe(&self, out: &mut String) {
        use std::fmt::Write as _;
        out.push_str(self.kind());
        let _: std::fmt::Result = (|| match self {
            RaftMsg::RequestVote { term, last_log_index, last_log_term, .. } => {
                write!(out, " t{term} last {last_log_index}/{last_log_term}")
            }
            RaftMsg::RequestVoteReply { term, granted, .. } => {
                write!(out, " t{term} {}", if *granted { "granted" } else { "rejected" })
            }
            RaftMsg::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
                write!(out, " t{term} prev {prev_log_index}/{prev_log_term}")?;
                if !entries.is_empty() {
                    write!(out, " entries {}", entries.len())?;
                }
                write!(out, " commit {leader_commit}")
            }
            RaftMsg::AppendEntriesReply { term, success: true, index, .. } => write!(out, " t{term} ok {index}"),
            RaftMsg::AppendEntriesReply { term, index, conflict_index, conflict_term, .. } => {
                write!(out, " t{term} reject {index} hint {conflict_index}")?;
                match conflict_term {
                    Some(t) => write!(out, "/{t}"),
                    None => Ok(()),
                }
            }
            RaftMsg::InstallSnapshot { term, snapshot } => {
                write!(out, " t{term} last {}/{}", snapshot.index(), snapshot.term())
            }
            RaftMsg::LeaderCheck { term, round } | RaftMsg::LeaderCheckReply { term, round } => {
                write!(out, " t{term} round {round}")
            }
            RaftMsg::InstallSnapshotReply { term, index: 0 } => write!(out, " t{term} refused"),
            RaftMsg::InstallSnapshotReply { term, index } => write!(out, " t{term} ok {index}"),
        })();
    }

    fn kind(&self) -> &'static str {
        match self {
            RaftMsg::RequestVote { pre_vote: false, .. } => "RequestVote",
            RaftMsg::RequestVote { pre_vote: true, .. } => "PreVote",
            RaftMsg::RequestVoteReply { pre_vote: false, .. } => "RequestVoteReply",
            RaftMsg::RequestVoteReply { pre_vote: true, .. } => "PreVoteReply",
            RaftMsg::AppendEntries { entries, .. } if entries.is_empty() => "Heartbeat",
            RaftMsg::AppendEntries { .. } => "AppendEntries",
            RaftMsg::AppendEntriesReply { heartbeat: true, .. } => "HeartbeatReply",
            RaftMsg::AppendEntriesReply { .. } => "AppendEntriesReply",
            RaftMsg::InstallSnapshot { .. } => "InstallSnapshot",
            RaftMsg::InstallSnapshotReply { .. } => "InstallSnapshotReply",
            RaftMsg::LeaderCheck { .. } => "LeaderCheck",
            RaftMsg::LeaderCheckReply { .. } => "LeaderCheckReply",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            RaftMsg::RequestVote { term, last_log_index, last_log_term, pre_vote } => {
                fp.u64(1);
                fp.u64(*term);
                fp.u64(*last_log_index);
                fp.u64(*last_log_term);
                fp.u64(u64::from(*pre_vote));
            }
            RaftMsg::RequestVoteReply { term, granted, pre_vote } => {
                fp.u64(2);
                fp.u64(*term);
                fp.u64(u64::from(*granted));
                fp.u64(u64::from(*pre_vote));
            }
            RaftMsg::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
                fp.u64(3);
                fp.u64(*term);
                fp.u64(*prev_log_index);
                fp.u64(*prev_log_term);
                fp.u64(*leader_commit);
                fp.u64(entries.len() as u64);
                for e in entries.iter() {
                    fp.u64(e.term);
                    fp.u64(e.command);
                    // Configuration entries only, so runs without
                    // membership changes keep their fingerprints.
                    if let Some(m) = e.config.as_deref() {
                        fp.u64(u64::MAX);
                        fp.u64(m.bits()[0]);
                        fp.u64(m.bits()[1]);
                    }
                    // Key-value commands only, likewise.
                    if let Some(c) = e.kv.as_deref() {
                        fp.u64(u64::MAX - 1);
                        fp.command(c);
                    }
                }
            }
            RaftMsg::AppendEntriesReply { term, success, index, conflict_index, conflict_term, heartbeat } => {
                fp.u64(4);
                fp.u64(*term);
                fp.u64(u64::from(*success));
                fp.u64(*index);
                fp.u64(*conflict_index);
                match conflict_term {
                    None => fp.u64(0),
                    Some(t) => {
                        fp.u64(1);
                        fp.u64(*t);
                    }
                }
                fp.u64(u64::from(*heartbeat));
            }
            RaftMsg::InstallSnapshot { term, snapshot } => {
                fp.u64(5);
                fp.u64(*term);
                fp.u64(snapshot.index());
                fp.u64(snapshot.term());
                fp.u64(snapshot.state.commands);
                fp.u64(snapshot.state.digest);
                fp.u64(snapshot.config_index);
                if let Some(m) = snapshot.config {
                    fp.u64(m.bits()[0]);
                    fp.u64(m.bits()[1]);
                }
            }
            RaftMsg::InstallSnapshotReply { term, index } => {
                fp.u64(6);
                fp.u64(*term);
                fp.u64(*index);
            }
            RaftMsg::LeaderCheck { term, round } | RaftMsg::LeaderCheckReply { term, round } => {
                fp.u64(if matches!(self, RaftMsg::LeaderCheck { .. }) { 7 } else { 8 });
                fp.u64(*term);
                fp.u64(*round);
            }
        }
    }
}

impl Observable for RaftTimer {
    fn kind(&self) -> &'static str {
        match self {
            RaftTimer::Election => "Election",
            RaftTimer::Heartbeat => "Heartbeat",
            RaftTimer::CheckQuorum => "CheckQuorum",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        fp.u64(*self as u64);
    }
}

impl Observable for RaftNote {
    fn describe(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = match self {
            RaftNote::BecameFollower { term } => write!(out, "became follower t{term}"),
            RaftNote::BecamePreCandidate { term } => write!(out, "became pre-candidate t{term}"),
            RaftNote::BecameCandidate { term } => write!(out, "became candidate t{term}"),
            RaftNote::BecameLeader { term } => write!(out, "became leader t{term}"),
            RaftNote::SteppedDown { term, reason } => write!(out, "stepped down t{term}: {reason}"),
            RaftNote::Appended { from, to } if from == to => write!(out, "appended {from}"),
            RaftNote::Appended { from, to } => write!(out, "appended {from}..{to}"),
            RaftNote::Truncated { from } => write!(out, "truncated from {from}"),
            RaftNote::Committed { index } => write!(out, "committed {index}"),
            RaftNote::Snapshotted { index, term } => write!(out, "snapshot up to {index}/{term}"),
            RaftNote::InstalledSnapshot { index, term, retained } => write!(
                out,
                "installed snapshot up to {index}/{term}, {}",
                if *retained { "kept the entries after it" } else { "discarded its log" }
            ),
            RaftNote::Configured { index, members } => write!(out, "configuration {members} (entry {index})"),
            RaftNote::CatchingUp { id } => write!(out, "catching up S{} as a learner", u64::from(*id) + 1),
            RaftNote::ChangeRefused { id, reason } => {
                write!(out, "membership change of S{} refused: {reason}", u64::from(*id) + 1)
            }
        };
    }

    fn kind(&self) -> &'static str {
        match self {
            RaftNote::BecameFollower { .. } => "BecameFollower",
            RaftNote::BecamePreCandidate { .. } => "BecamePreCandidate",
            RaftNote::BecameCandidate { .. } => "BecameCandidate",
            RaftNote::BecameLeader { .. } => "BecameLeader",
            RaftNote::SteppedDown { .. } => "SteppedDown",
            RaftNote::Appended { .. } => "Appended",
            RaftNote::Truncated { .. } => "Truncated",
            RaftNote::Committed { .. } => "Committed",
            RaftNote::Snapshotted { .. } => "Snapshotted",
            RaftNote::InstalledSnapshot { .. } => "InstalledSnapshot",
            RaftNote::Configured { .. } => "Configured",
            RaftNote::CatchingUp { .. } => "CatchingUp",
            RaftNote::ChangeRefused { .. } => "ChangeRefused",
        }
    }

    fn digest(&self, fp: &mut Fingerprint) {
        match self {
            RaftNote::BecameFollower { term } => {
                fp.u64(1);
                fp.u64(*term);
            }
            RaftNote::BecamePreCandidate { term } => {
                fp.u64(2);
                fp.u64(*term);
            }
            RaftNote::BecameCandidate { term } => {
                fp.u64(3);
                fp.u64(*term);
            }
            RaftNote::BecameLeader { term } => {
                fp.u64(4);
                fp.u64(*term);
            }
            RaftNote::SteppedDown { term, reason } => {
                fp.u64(5);
                fp.u64(*term);
                fp.str(reason);
            }
            RaftNote::Appended { from, to } => {
                fp.u64(6);
                fp.u64(*from);
                fp.u64(*to);
            }
            RaftNote::Truncated { from } => {
                fp.u64(7);
                fp.u64(*from);
            }
            RaftNote::Committed { index } => {
                fp.u64(8);
                fp.u64(*index);
            }
            RaftNote::Snapshotted { index, term } => {
                fp.u64(9);
                fp.u64(*index);
                fp.u64(*term);
            }
            RaftNote::InstalledSnapshot { index, term, retained } => {
                fp.u64(10);
                fp.u64(*index);
                fp.u64(*term);
                fp.u64(u64::from(*retained));
            }
            RaftNote::Configured { index, members } => {
                fp.u64(11);
                fp.u64(*index);
                fp.u64(members.bits()[0]);
                fp.u64(members.bits()[1]);
            }
            RaftNote::CatchingUp { id } => {
                fp.u64(12);
                fp.u64(u64::from(*id));
            }
            RaftNote::ChangeRefused { id, reason } => {
                fp.u64(13);
                fp.u64(u64::from(*id));
                fp.str(reason);
            }
        }
    }
}
