//! # Raft
//!
//! Raft (Ongaro & Ousterhout, "In Search of an Understandable Consensus
//! Algorithm", extended version) keeps a replicated log consistent across a
//! cluster in which servers crash and restart and messages are lost,
//! delayed, duplicated or reordered. It splits the problem in three:
//!
//! * **Leader election (§5.2).** Time is divided into numbered *terms*. A
//!   follower that hears nothing from a leader for a randomized election
//!   timeout becomes a candidate for the next term and asks for votes; each
//!   server votes at most once per term, so at most one candidate wins a
//!   majority (Election Safety). Randomized timeouts make split votes rare.
//! * **Log replication (§5.3).** The leader appends client commands to its
//!   log and sends them to followers with AppendEntries. Each AppendEntries
//!   names the entry just before the new ones; a follower accepts only if
//!   its log has that entry, so logs that agree on one entry agree on
//!   everything before it (Log Matching). A follower that disagrees refuses
//!   and the leader backs up until the logs meet, then overwrites the
//!   follower's conflicting suffix. An entry stored on a majority is
//!   *committed*: it is final and may be applied.
//! * **Safety (§5.4).** A server votes only for a candidate whose log is at
//!   least as up-to-date as its own (§5.4.1), and a leader counts replicas
//!   only for entries of its own term (§5.4.2, Figure 8). Together these
//!   guarantee that every leader holds every committed entry (Leader
//!   Completeness), hence no two servers apply different commands at the
//!   same index (State Machine Safety).
//!
//! Beyond the core algorithm, for runs of hours:
//!
//! * **Log compaction (§7).** Each server snapshots its state machine (a
//!   small real one, [`StateMachine`]) when its log passes a threshold and
//!   discards the prefix; a leader sends InstallSnapshot to a follower whose
//!   next entry it discarded.
//! * **Membership changes (Ongaro's thesis §4).** Servers are added (after
//!   catching up as learners) and removed one at a time, the leader
//!   included; the minimum-election-timeout rule (§4.2.3) can keep removed
//!   servers from disrupting the cluster. See [`node`] for the details.
//!
//! Here a Raft server is a pure state machine, [`RaftNode`], driven by the
//! simulator through the [`Protocol`](crate::sim::Protocol) trait: messages
//! and timers go in, effects (messages, timers, replies, notes) come out.
//! Its notes ([`RaftNote`]) say every change of role, log and commit index;
//! the checkers in [`invariants`] follow them after every event and stop the
//! run at the first violation of one of the five properties of Figure 3, or
//! of the two of membership changes.
//!
//! ```
//! use clusterscope_core::raft::{self, RaftConfig, RaftNode, Role};
//! use clusterscope_core::sim::{Sim, SimConfig, SEC};
//!
//! let mut sim: Sim<RaftNode> = Sim::new(SimConfig { nodes: 3, seed: 7, ..SimConfig::default() }, RaftConfig::default());
//! for inv in raft::invariants() {
//!     sim.add_invariant(inv);
//! }
//! sim.run_until(2 * SEC);
//! let leader = sim.nodes().iter().position(|n| n.state.role() == Role::Leader).expect("a leader within 2 s");
//! sim.client_request(leader as u32);
//! sim.run_until(3 * SEC);
//! assert!(sim.nodes().iter().all(|n| n.state.commit_index() == 1));
//! assert!(sim.violation().is_none());
//! raft::check_all(sim.nodes()).unwrap();
//! ```

mod config;
mod election;
pub mod experiments;
pub mod invariants;
pub mod lab;
mod log;
mod membership;
mod message;
pub mod node;
mod reads;
mod replication;
mod trace;
mod tracker;

pub use crate::sim::KvStore;
pub use invariants::{check_all, invariants};
pub use node::{
    chain, Entry, MemberChange, Members, Membership, RaftConfig, RaftDurable, RaftMsg, RaftNode, RaftNote, RaftTimer,
    Role, Snapshot, StateMachine, EMPTY_DIGEST,
};
pub use reads::{PendingRead, ReadPath};
