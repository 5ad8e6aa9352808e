//! # Paxos
//!
//! Lamport's Paxos ("Paxos Made Simple", 2001) and Multi-Paxos as described
//! in van Renesse and Altinbuken's "Paxos Made Moderately Complex" (2015).
//!
//! * **Roles.** Proposers propose values, acceptors accept them, learners
//!   learn what was chosen. Here every server learns; proposers and
//!   acceptors are either the same servers (as most deployments run them)
//!   or separate ones.
//! * **Ballots** are (round, proposer) pairs: unique, totally ordered.
//! * **Phase 1** (prepare / promise): a proposer asks the acceptors to
//!   promise to ignore lower ballots; each promise reports the
//!   highest-ballot value the acceptor accepted.
//! * **Phase 2** (accept / accepted): with promises from a majority, the
//!   proposer asks them to accept a value: the highest-ballot value
//!   reported, or its own if none was. A value accepted by a majority with
//!   one ballot is *chosen*; it can never change.
//! * **Rejections** carry the ballot that won; a proposer waits a randomized
//!   back-off and tries a higher ballot. Without back-off, two proposers can
//!   keep pre-empting each other for ever (livelock).
//! * **Multi-Paxos**: a distinguished leader runs phase 1 once for every
//!   future slot, then phase 2 per slot for each client command; followers
//!   that hear no heartbeat for a timeout run phase 1 themselves; a new
//!   leader re-proposes what phase 1 reports and fills gaps with no-ops;
//!   learners apply slots in order and fetch what they missed. A leader
//!   resends an Accept only when its retransmission timeout, computed from
//!   the round trips it measured as TCP does ([`rto`]), expires; commands
//!   that wait at the leader go into one slot, up to `max_batch`, and at
//!   most `pipeline` slots are in phase 2 at once.
//!
//! Acceptors persist their promise and accepted values (and every server the
//! highest round it has seen, so a restarted proposer never reuses a
//! ballot). The checkers in [`invariants`] follow every event.

pub mod experiments;
pub mod invariants;
pub mod lab;
pub mod node;
pub mod rto;

pub use invariants::invariants;
pub use node::{Ballot, PaxosConfig, PaxosDurable, PaxosMsg, PaxosNode, PaxosNote, PaxosTimer, Slot, Value};
