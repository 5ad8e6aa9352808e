//! # Failure detection and recovery
//!
//! How members of a cluster find out that one of them has failed, and what
//! failures cost a service:
//!
//! * [`node`]: a member running one of three detectors over every other
//!   member: all-to-all heartbeats with a fixed timeout; the φ accrual
//!   detector (Hayashibara et al., 2004, as Akka and Cassandra implement
//!   it; its arithmetic in [`phi`]); and SWIM (Das, Gupta and Motivala,
//!   2002) with indirect probes, suspicion, incarnation numbers and gossip
//!   piggybacked on its messages, and Lifeguard's local health and
//!   confirmed suspicion as an option.
//! * [`lab`]: the lab on the shared cluster lab: crashes, pauses (garbage
//!   collection), slow links and partitions from the shared faults, each
//!   member's view of the others drawn, and the metrics of Chen, Toueg and
//!   Aguilera (2002): detection time, mistake rate, mistake duration,
//!   messages per member per second, and the time a change takes to reach
//!   every member.
//! * [`churn`]: members that fail and come back on their own (exponential or Weibull
//!   times to failure and repair, and whole zones at once), and the
//!   binomial model of how many are down at once.
//! * [`repair`]: keys in R copies on a consistent-hash ring,
//!   re-replicated at a repair bandwidth when the detector declares a
//!   member failed; data at risk, keys lost, needless copies.
//! * [`experiments`]: the detectors' quality-of-service curves, SWIM's
//!   dissemination time over n, availability against the binomial model.

pub mod churn;
pub mod experiments;
pub mod lab;
pub mod node;
pub mod phi;
pub mod repair;
pub mod view;

pub use node::{Detector, FaultsConfig, FaultsMsg, FaultsNode, FaultsNote, FaultsTimer, Peer, Status, Update};
