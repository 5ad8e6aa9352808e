//! A protocol node driven by hand, for the tests that check a paper's rules
//! one handler call at a time (`raft_paper.rs`, `paxos_paper.rs`,
//! `raft_paper_compaction_membership.rs`), in the manner of raft-rs's
//! `test_raft_paper.rs`: no simulator, so every message, timer, note and
//! reply a handler pushes is explicit and checked by the test.
//!
//! Each test file names `Hand<ItsNode>` `T` and adds the constructors and
//! steps of its protocol (a Raft log, a Paxos configuration) as an `impl`
//! of its own.

// Each test binary that includes this module uses part of it.
#![allow(dead_code)]

use clusterscope_core::sim::{Ctx, Effect, NodeId, Protocol, Reply, Rng, StreamKind, Time};

/// A node with its configuration, its own random stream and the virtual
/// time its handlers see (set `now` to move it).
pub struct Hand<P: Protocol> {
    pub id: NodeId,
    pub node: P,
    pub config: P::Config,
    /// The cluster's size, as handlers see it.
    pub n: u32,
    pub rng: Rng,
    pub now: Time,
}

/// What one handler call pushed, in order.
pub type Effects<P> = Vec<Effect<P>>;

impl<P: Protocol> Hand<P> {
    /// Node `id` of `n`, new, at time 0; its random stream is seed 9's.
    pub fn fresh(id: NodeId, n: u32, config: P::Config) -> Self {
        let node = P::new(id, n, &config);
        Hand { id, node, config, n, rng: Rng::stream(9, StreamKind::Node, u64::from(id)), now: 0 }
    }

    /// Node `id` of `n`, recovered from what it kept durably.
    pub fn recovered(id: NodeId, n: u32, config: P::Config, durable: P::Durable) -> Self {
        let node = P::recover(id, n, &config, durable);
        Hand { id, node, config, n, rng: Rng::stream(9, StreamKind::Node, u64::from(id)), now: 0 }
    }

    /// The same node with another random stream (for its draws).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Rng::stream(seed, StreamKind::Node, u64::from(self.id));
        self
    }

    /// Calls `f` on the node with a context at `now`, and returns what it pushed.
    pub fn run(&mut self, f: impl FnOnce(&mut P, &mut Ctx<P>)) -> Effects<P> {
        let mut effects = Vec::new();
        let mut ctx = Ctx {
            id: self.id,
            nodes: self.n,
            now: self.now,
            clock: self.now,
            rng: &mut self.rng,
            effects: &mut effects,
        };
        f(&mut self.node, &mut ctx);
        effects
    }

    pub fn start(&mut self) -> Effects<P> {
        self.run(|n, c| n.on_start(c))
    }

    pub fn msg(&mut self, from: NodeId, msg: P::Msg) -> Effects<P> {
        self.run(|n, c| n.on_message(from, msg, c))
    }

    pub fn timer(&mut self, t: P::Timer) -> Effects<P> {
        self.run(|n, c| n.on_timer(t, c))
    }

    pub fn request(&mut self, req: u64) -> Effects<P> {
        self.run(|n, c| n.on_request(req, c))
    }

    pub fn force(&mut self) -> Effects<P> {
        self.run(|n, c| n.on_force_timeout(c))
    }

    /// A crash and restart: only what `durable()` returns survives.
    pub fn crash_restart(&mut self) {
        let durable = self.node.durable();
        self.node = P::recover(self.id, self.n, &self.config, durable);
    }
}

/// The messages sent, with their destinations.
pub fn sends<P: Protocol>(e: &[Effect<P>]) -> Vec<(NodeId, P::Msg)> {
    e.iter().filter_map(|e| if let Effect::Send { to, msg } = e { Some((*to, msg.clone())) } else { None }).collect()
}

/// The notes pushed.
pub fn notes<P: Protocol>(e: &[Effect<P>]) -> Vec<P::Note> {
    e.iter().filter_map(|e| if let Effect::Note(n) = e { Some(n.clone()) } else { None }).collect()
}

/// The replies to clients.
pub fn replies<P: Protocol>(e: &[Effect<P>]) -> Vec<(u64, Reply)> {
    e.iter().filter_map(|e| if let Effect::Reply { req, reply } = e { Some((*req, *reply)) } else { None }).collect()
}

/// The timers armed, with their delays.
pub fn timers_set<P: Protocol>(e: &[Effect<P>]) -> Vec<(P::Timer, Time)> {
    e.iter()
        .filter_map(|e| if let Effect::SetTimer { timer, after } = e { Some((timer.clone(), *after)) } else { None })
        .collect()
}

/// Whether timer `t` was disarmed.
pub fn cancelled<P: Protocol>(e: &[Effect<P>], t: P::Timer) -> bool {
    e.iter().any(|e| matches!(e, Effect::CancelTimer { timer } if *timer == t))
}
