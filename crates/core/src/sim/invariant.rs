//! Safety invariants as components.
//!
//! An invariant is a named object that the simulator asks, after every
//! event, whether the cluster is still safe. It sees the whole world (every
//! node's state, crashed ones included, as they would restart) and the
//! events the last step produced, so it can keep its own history (for
//! example, which node led when) and check incrementally. A violation
//! names the invariant, the time and what went wrong, and stops the run.

use super::protocol::Protocol;
use super::time::Time;
use super::trace::TraceEvent;
use super::Node;

/// What an invariant sees after each event.
pub struct World<'a, P: Protocol> {
    /// The current virtual time.
    pub now: Time,
    /// Every node, whatever its status.
    pub nodes: &'a [Node<P>],
}

/// A safety property checked after every event.
pub trait Invariant<P: Protocol> {
    /// Its name as people know it, e.g. "Election Safety".
    fn name(&self) -> &'static str;
    /// Checks the world after an event that produced `events`. Returns a
    /// sentence saying what is wrong if the property no longer holds.
    fn check(&mut self, world: &World<'_, P>, events: &[TraceEvent<P>]) -> Result<(), String>;
    /// A copy of this checker and its history (the simulator is `Clone`).
    fn clone_box(&self) -> Box<dyn Invariant<P>>;
    /// About how many bytes its history holds (for the worker's budget of
    /// time-travel snapshots).
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl<P: Protocol> Clone for Box<dyn Invariant<P>> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// A broken invariant: which, when, and what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's name.
    pub invariant: &'static str,
    /// Virtual time of the event after which it failed.
    pub at: Time,
    /// What is wrong, in words.
    pub message: String,
}
