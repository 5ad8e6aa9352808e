//! # ClusterScope core
//!
//! The engine and the algorithms behind ClusterScope, with no web
//! dependencies: the same code runs natively (tests, CLI, benchmarks) and in
//! the browser's Web Worker (wasm32), and produces the same trace bit for bit.
//!
//! * [`sim`]: virtual time, seeded random streams, the event queue (which
//!   the load-balancing model runs on too), the network model, faults, the
//!   typed trace and its fingerprint, invariants.
//! * [`raft`]: Raft (Ongaro & Ousterhout, extended version, §5) as a pure
//!   state machine, its safety invariants and the Raft lab.
//! * [`paxos`]: Basic Paxos and Multi-Paxos as a pure state machine, its
//!   six safety checkers and the Paxos lab.
//! * [`ring`]: placement algorithms (modulo, ring with virtual nodes, ketama,
//!   jump, rendezvous, Maglev, bounded loads) and their statistics.
//! * [`balance`]: load balancing: clients, one balancer with seven
//!   policies, servers with queues, failures, timeouts and retries.
//! * [`scenario`]: the one scenario model (lab, parameters, seed, timed
//!   actions), its text format and its share-link codec.
//! * [`sweep`]: parameter sweeps over many seeds, split over threads or
//!   machines and merged in any order.
//! * [`lab`]: the lab boundary: every lab a plug-in (a static description
//!   in one registry, a running model behind one trait), and the generic
//!   driver the worker, the CLI and the tests use; each lab's experiments
//!   (named runs that produce a table, [`lab::experiment`]) live in the
//!   lab's own module.
//!
//! ```
//! use clusterscope_core::scenario::Scenario;
//! use clusterscope_core::lab::Lab;
//!
//! let scn = Scenario::parse("lab raft\nseed 7\nnodes 3\n").unwrap();
//! let mut lab = Lab::new(&scn).unwrap();
//! lab.run_until(2_000_000); // two virtual seconds
//! let leader = lab.metrics().into_iter().find(|(m, _)| m.name == "leader").unwrap();
//! assert!(leader.1 >= 1.0, "a leader within two seconds");
//! ```

pub mod balance;
pub mod chart;
pub mod faults;
pub mod history;
pub mod lab;
pub mod locks;
pub mod paxos;
pub mod quorum;
pub mod raft;
pub mod ring;
pub mod scenario;
pub mod sim;
pub mod sweep;
