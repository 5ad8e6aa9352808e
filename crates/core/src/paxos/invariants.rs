//! Paxos's safety properties as checkers, run after every event.
//!
//! | property | source |
//! |---|---|
//! | Only a proposed value is chosen | "Paxos Made Simple" §2.1, safety (nontriviality) |
//! | At most one value is chosen per slot | §2.1, safety; per slot for Multi-Paxos ("Paxos Made Moderately Complex" §2) |
//! | An acceptor keeps its promises | §2.2, P1a: it accepts a ballot only if it has not promised a higher one (the promises it made, read from the Promise messages it sent and its promise notes, not from its own account of its promise) |
//! | A proposer adopts the reported value | §2.2, P2c: phase 2 uses the highest-ballot value phase 1 reported |
//! | Learners agree | §2.3: a learner learns only a chosen value (the one a majority of acceptors accepted with one ballot), so all learn the same |
//! | Learners apply in order | "Paxos Made Moderately Complex" §3: replicas apply slots in order, without gaps |
//!
//! "Chosen" is computed from the acceptors themselves, not from what any
//! proposer believes: a value is chosen in a slot the moment a majority of
//! acceptors have accepted it with the same ballot, even before anyone
//! knows. Each checker follows the servers' notes and does work in
//! proportion to what changed.

use super::node::{Ballot, PaxosMsg, PaxosNode, PaxosNote, Slot, Value};
use crate::sim::{Fault, Invariant, NodeId, TraceEvent, World};
use std::collections::{BTreeMap, BTreeSet};

/// The six checkers.
pub fn invariants() -> Vec<Box<dyn Invariant<PaxosNode>>> {
    vec![
        Box::new(OnlyProposedChosen::default()),
        Box::new(OneValuePerSlot::default()),
        Box::new(PromisesKept::default()),
        Box::new(AdoptsReportedValue),
        Box::new(LearnersAgree::default()),
        Box::new(AppliedInOrder::default()),
    ]
}

fn s(id: NodeId) -> String {
    format!("S{}", u64::from(id) + 1)
}

fn b(b: Ballot) -> String {
    format!("b{}.{}", b.round, u64::from(b.proposer) + 1)
}

fn notes(events: &[TraceEvent<PaxosNode>]) -> impl Iterator<Item = (NodeId, &PaxosNote)> {
    events.iter().filter_map(|e| match e {
        TraceEvent::Note { node, note, .. } => Some((*node, note)),
        _ => None,
    })
}

/// Which values a majority of acceptors accepted with one ballot: the
/// acceptors that accepted (slot, ballot, value), and what is chosen.
#[derive(Clone, Debug, Default)]
pub struct Choices {
    votes: BTreeMap<(Slot, Ballot), (Value, BTreeSet<NodeId>)>,
    /// The chosen value per slot, and the ballot that chose it first.
    pub chosen: BTreeMap<Slot, (Value, Ballot)>,
    /// The first slot not chosen: every slot below it is.
    upto: Slot,
}

impl Choices {
    /// About the bytes it holds on the heap (what a copy costs): each vote
    /// holds a small set of acceptors, one node of a B-tree.
    fn heap_bytes(&self) -> usize {
        use crate::sim::btree_bytes;
        btree_bytes::<(Slot, Ballot), (Value, BTreeSet<NodeId>)>(self.votes.len())
            + self.votes.len() * 96
            + btree_bytes::<Slot, (Value, Ballot)>(self.chosen.len())
    }

    /// Follows the events; returns what a majority accepted with one ballot
    /// in them: (slot, value, ballot), in order. A slot's first such value
    /// is its chosen one; a later different one breaks safety.
    pub fn follow(&mut self, quorum: usize, events: &[TraceEvent<PaxosNode>]) -> Vec<(Slot, Value, Ballot)> {
        let mut out = Vec::new();
        for (node, note) in notes(events) {
            if let PaxosNote::AcceptedValue { slot, ballot, value, .. } = note {
                let e = self.votes.entry((*slot, *ballot)).or_insert_with(|| (value.clone(), BTreeSet::new()));
                if e.0 != *value {
                    // Two values with one ballot: a proposer broke ballot
                    // uniqueness; count them apart by keeping the first.
                    continue;
                }
                if e.1.insert(node) && e.1.len() == quorum {
                    out.push((*slot, value.clone(), *ballot));
                }
            }
        }
        for (slot, value, ballot) in &out {
            self.chosen.entry(*slot).or_insert_with(|| (value.clone(), *ballot));
        }
        while self.chosen.contains_key(&self.upto) {
            self.upto += 1;
        }
        out
    }

    /// How many slots from the first are chosen, with no gap: the first
    /// slot not chosen. Kept as choices come, so that a frame's metrics
    /// need not count through every chosen slot.
    pub fn chosen_upto(&self) -> Slot {
        self.upto
    }
}

fn quorum(world: &World<'_, PaxosNode>) -> usize {
    world.nodes.first().map_or(1, |n| n.state.config().quorum())
}

/// Only a proposed value is chosen.
#[derive(Clone, Debug, Default)]
pub struct OnlyProposedChosen {
    proposed: BTreeSet<Value>,
    choices: Choices,
}

impl Invariant<PaxosNode> for OnlyProposedChosen {
    fn name(&self) -> &'static str {
        "Only Proposed Values Chosen"
    }
    fn check(&mut self, world: &World<'_, PaxosNode>, events: &[TraceEvent<PaxosNode>]) -> Result<(), String> {
        for (_, note) in notes(events) {
            match note {
                PaxosNote::Proposed { value } => {
                    self.proposed.insert(value.clone());
                }
                // A new leader's gap filler is proposed by that leader.
                PaxosNote::Phase2 { value: Value::Noop, reported: None, .. } => {
                    self.proposed.insert(Value::Noop);
                }
                _ => {}
            }
        }
        for (slot, value, ballot) in self.choices.follow(quorum(world), events) {
            if !self.proposed.contains(&value) {
                return Err(format!(
                    "slot {slot}: {} was chosen at {} but nobody proposed it",
                    value.text(),
                    b(ballot)
                ));
            }
        }
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn Invariant<PaxosNode>> {
        Box::new(self.clone())
    }
    fn heap_bytes(&self) -> usize {
        self.choices.heap_bytes() + crate::sim::btree_bytes::<Value, ()>(self.proposed.len())
    }
}

/// At most one value is chosen per slot.
#[derive(Clone, Debug, Default)]
pub struct OneValuePerSlot {
    choices: Choices,
}

impl Invariant<PaxosNode> for OneValuePerSlot {
    fn name(&self) -> &'static str {
        "One Value Per Slot"
    }
    fn check(&mut self, world: &World<'_, PaxosNode>, events: &[TraceEvent<PaxosNode>]) -> Result<(), String> {
        for (slot, value, ballot) in self.choices.follow(quorum(world), events) {
            if let Some((first, first_ballot)) = self.choices.chosen.get(&slot) {
                let first_ballot = *first_ballot;
                if *first != value {
                    return Err(format!(
                        "slot {slot}: {} was chosen at {}, then {} at {}",
                        first.text(),
                        b(first_ballot),
                        value.text(),
                        b(ballot)
                    ));
                }
            }
        }
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn Invariant<PaxosNode>> {
        Box::new(self.clone())
    }
    fn heap_bytes(&self) -> usize {
        self.choices.heap_bytes()
    }
}

/// An acceptor never accepts a ballot lower than one it promised. What it
/// promised is read from what it did, not from its own account: the
/// Promise messages it sent, its promise notes (a co-located proposer's
/// own acceptor promises without a message) and the promise its accept
/// note reports; what it accepted, from its accept notes and the Accepted
/// messages it sent. Promises are durable, so they outlive a crash.
#[derive(Clone, Debug, Default)]
pub struct PromisesKept {
    promised: BTreeMap<NodeId, Ballot>,
}

impl PromisesKept {
    fn accepted(&self, node: NodeId, slot: Slot, ballot: Ballot) -> Result<(), String> {
        match self.promised.get(&node) {
            Some(&p) if ballot < p => {
                Err(format!("{} accepted {} in slot {slot} after promising {}", s(node), b(ballot), b(p)))
            }
            _ => Ok(()),
        }
    }

    fn promise(&mut self, node: NodeId, ballot: Ballot) {
        let p = self.promised.entry(node).or_default();
        *p = (*p).max(ballot);
    }
}

impl Invariant<PaxosNode> for PromisesKept {
    fn name(&self) -> &'static str {
        "Promises Kept"
    }
    fn check(&mut self, _: &World<'_, PaxosNode>, events: &[TraceEvent<PaxosNode>]) -> Result<(), String> {
        for e in events {
            match e {
                TraceEvent::Sent { from, msg: PaxosMsg::Promise { ballot, .. }, .. } => self.promise(*from, *ballot),
                TraceEvent::Sent { from, msg: PaxosMsg::Accepted { ballot, slot }, .. } => {
                    self.accepted(*from, *slot, *ballot)?
                }
                TraceEvent::Note { node, note: PaxosNote::Promised { ballot, .. }, .. } => self.promise(*node, *ballot),
                TraceEvent::Note { node, note: PaxosNote::AcceptedValue { slot, ballot, promised, .. }, .. } => {
                    self.promise(*node, *promised);
                    self.accepted(*node, *slot, *ballot)?;
                    // PMMC's acceptor: accepting a ballot adopts it as the promise.
                    self.promise(*node, *ballot);
                }
                _ => {}
            }
        }
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn Invariant<PaxosNode>> {
        Box::new(self.clone())
    }
}

/// A proposer whose phase 1 saw an accepted value proposes the
/// highest-ballot one.
#[derive(Clone, Debug, Default)]
pub struct AdoptsReportedValue;

impl Invariant<PaxosNode> for AdoptsReportedValue {
    fn name(&self) -> &'static str {
        "Proposer Adopts Reported Value"
    }
    fn check(&mut self, _: &World<'_, PaxosNode>, events: &[TraceEvent<PaxosNode>]) -> Result<(), String> {
        for (node, note) in notes(events) {
            if let PaxosNote::Phase2 { ballot, slot, value, reported: Some(r) } = note {
                if value != r {
                    return Err(format!(
                        "{} proposed {} in slot {slot} at {}, but phase 1 reported {} accepted",
                        s(node),
                        value.text(),
                        b(*ballot),
                        r.text()
                    ));
                }
            }
        }
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn Invariant<PaxosNode>> {
        Box::new(self.clone())
    }
}

/// A learner learns only the value chosen in a slot: the one a majority of
/// acceptors accepted with one ballot (followed from the acceptors' notes,
/// not from what any proposer or learner believes). Learning a value before
/// any is chosen, or another value, is reported; so all learners agree.
#[derive(Clone, Debug, Default)]
pub struct LearnersAgree {
    choices: Choices,
}

impl Invariant<PaxosNode> for LearnersAgree {
    fn name(&self) -> &'static str {
        "Learners Agree"
    }
    fn check(&mut self, world: &World<'_, PaxosNode>, events: &[TraceEvent<PaxosNode>]) -> Result<(), String> {
        self.choices.follow(quorum(world), events);
        for (node, note) in notes(events) {
            if let PaxosNote::Learned { slot, value } = note {
                match self.choices.chosen.get(slot) {
                    Some((chosen, _)) if chosen == value => {}
                    Some((chosen, ballot)) => {
                        return Err(format!(
                            "slot {slot}: {} learned {}, but {} was chosen at {}",
                            s(node),
                            value.text(),
                            chosen.text(),
                            b(*ballot)
                        ))
                    }
                    None => {
                        return Err(format!(
                            "slot {slot}: {} learned {}, but no value was chosen there yet",
                            s(node),
                            value.text()
                        ))
                    }
                }
            }
        }
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn Invariant<PaxosNode>> {
        Box::new(self.clone())
    }
    fn heap_bytes(&self) -> usize {
        self.choices.heap_bytes()
    }
}

/// Learners apply slots in order, without gaps.
#[derive(Clone, Debug, Default)]
pub struct AppliedInOrder {
    next: BTreeMap<NodeId, Slot>,
}

impl Invariant<PaxosNode> for AppliedInOrder {
    fn name(&self) -> &'static str {
        "Applied In Order"
    }
    fn check(&mut self, _: &World<'_, PaxosNode>, events: &[TraceEvent<PaxosNode>]) -> Result<(), String> {
        for e in events {
            match e {
                // What a learner learned is volatile: after a crash it
                // learns and applies again from the first slot.
                TraceEvent::Fault { fault: Fault::Crash(n), .. } => {
                    self.next.insert(*n, 0);
                }
                TraceEvent::Note { node, note: PaxosNote::Applied { slot }, .. } => {
                    let next = self.next.entry(*node).or_insert(0);
                    if *slot != *next {
                        return Err(format!("{} applied slot {slot} but the next in order is {next}", s(*node)));
                    }
                    *next += 1;
                }
                _ => {}
            }
        }
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn Invariant<PaxosNode>> {
        Box::new(self.clone())
    }
}
