//! The Ring lab's model: servers, a key set, one placement algorithm, and
//! what each change does.
//!
//! A [`RingModel`] is built from [`RingParams`] (algorithm, servers, virtual
//! nodes, replicas, keys and their popularity, hash, epsilon, Maglev table
//! size, seed). A user then adds, removes, fails, recovers and reweights
//! servers; each change places every key again and reports a
//! [`ChangeReport`]: how many keys moved (and a sample of them, for the
//! animation), how that compares with the ideal, and the new loads.
//!
//! The ideal is the least movement any placement could get away with: the
//! total variation between the servers' fair shares before and after. For
//! adding one server to `n` equal ones that is `1/(n+1)`; for removing one,
//! `1/n`. Consistent algorithms stay close to it; modulo moves nearly
//! everything.
//!
//! Every change is checked before anything is touched: a change that fails
//! (an unknown server, the last live server, a ring too large) returns an
//! error and leaves the model as it was. The model is `Clone` (cheaply: the
//! key set and placement are shared) so a UI can keep snapshots.
//!
//! [`compare`] runs every algorithm on the same keys and the same changes
//! and returns one [`CompareRow`] each.

use super::bounded::check_epsilon;
use super::{
    check_nodes, check_vnodes, check_weight, default_name, Algorithm, Balance, BoundedLoads, HashKind, Jump, Ketama,
    KeyDistribution, KeySet, Maglev, Modulo, NodeId, NodeSpec, Placement, Rendezvous, RingError, RingView, Stats,
    VnodeRing, DEFAULT_WEIGHT, MAX_KEYS, MAX_MAGLEV_SIZE, MAX_NODES, MAX_RENDEZVOUS_WORK, MAX_REPLICAS,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// How many moved keys a [`ChangeReport`] lists, for the animation.
pub const MOVED_SAMPLE: usize = 256;

/// The parameters of a ring model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RingParams {
    /// Placement algorithm.
    pub algorithm: Algorithm,
    /// Servers at the start (`S1..`), 1 ..= 10,000.
    pub nodes: u32,
    /// Virtual nodes per server (ring, bounded loads; ketama: points per
    /// server, 160 = libketama), 1 ..= 10,000.
    pub vnodes: u32,
    /// Replication factor: servers in a key's preference list, 1 ..= 16.
    pub replicas: u32,
    /// Keys placed, 1 ..= 1,000,000.
    pub keys: u32,
    /// How requests spread over keys.
    pub distribution: KeyDistribution,
    /// Hash function for keys and points (ketama always uses MD5).
    pub hash: HashKind,
    /// Bounded loads: allowed excess over the mean load (0.25 = 25 %).
    pub epsilon: f64,
    /// Maglev lookup table size, rounded up to a prime.
    pub maglev_size: u64,
    /// Seed of the key set.
    pub seed: u64,
}

impl Default for RingParams {
    fn default() -> Self {
        RingParams {
            algorithm: Algorithm::Ring,
            nodes: 8,
            vnodes: 100,
            replicas: 1,
            keys: 10_000,
            distribution: KeyDistribution::Uniform,
            hash: HashKind::Xxh3,
            epsilon: 0.25,
            maglev_size: 65_537,
            seed: 1,
        }
    }
}

impl RingParams {
    /// Checks every range (the servers' own checks come when they are built).
    pub fn validate(&self) -> Result<(), RingError> {
        if self.nodes == 0 {
            return Err(RingError::NoNodes);
        }
        if self.nodes > MAX_NODES {
            return Err(RingError::TooManyNodes(u64::from(self.nodes)));
        }
        check_vnodes(self.vnodes)?;
        if !(1..=MAX_REPLICAS).contains(&self.replicas) {
            return Err(RingError::Replicas(u64::from(self.replicas)));
        }
        if !(1..=MAX_KEYS).contains(&self.keys) {
            return Err(RingError::Keys(u64::from(self.keys)));
        }
        self.distribution.validate()?;
        check_epsilon(self.epsilon)?;
        if self.maglev_size == 0 || self.maglev_size > MAX_MAGLEV_SIZE {
            return Err(RingError::MaglevSize { size: self.maglev_size, servers: u64::from(self.nodes) });
        }
        Ok(())
    }
}

/// A change a user makes to the servers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RingChange {
    /// Add a server (named `S{id+1}` unless a name is given).
    AddNode {
        /// Its name, if not the default.
        name: Option<String>,
        /// Its weight (100 = normal).
        weight: u32,
    },
    /// Remove a server for good.
    RemoveNode(NodeId),
    /// Fail a server: it stays, drawn as failed, but owns no keys.
    FailNode(NodeId),
    /// Bring a failed server back.
    RecoverNode(NodeId),
    /// Change a server's weight.
    SetWeight(NodeId, u32),
    /// Change a server's number of virtual nodes.
    SetVnodes(NodeId, u32),
    /// Change bounded loads' epsilon.
    SetEpsilon(f64),
}

/// A key that moved, for the animation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedKey {
    /// The key's index (its popularity rank, 0 = hottest).
    pub key: u32,
    /// Its position on the circle (see [`RingModel::key_position`]).
    pub position: u64,
    /// Its owner before.
    pub from: NodeId,
    /// Its owner after.
    pub to: NodeId,
}

/// What a change did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeReport {
    /// The change (for an added server, with its name).
    pub change: RingChange,
    /// The server it was about (for an add, the new server's number; none
    /// for an epsilon change).
    pub node: Option<NodeId>,
    /// Keys whose owner changed.
    pub moved: u64,
    /// `moved` over the number of keys.
    pub moved_fraction: f64,
    /// The least fraction any placement must move: the total variation
    /// between fair shares before and after (`1/(n+1)` for adding one of
    /// `n+1` equal servers).
    pub ideal_fraction: f64,
    /// Moved keys that went neither to nor from `node` (all moved keys if
    /// there is none): 0 for a consistent algorithm on an add or a removal.
    pub moved_between_others: u64,
    /// Up to [`MOVED_SAMPLE`] moved keys, hottest first.
    pub sample: Vec<MovedKey>,
    /// Loads after the change.
    pub stats: Stats,
}

impl ChangeReport {
    /// Moved over ideal (1 is the best possible), if anything had to move.
    pub fn moved_over_ideal(&self) -> Option<f64> {
        (self.ideal_fraction > 0.0).then(|| self.moved_fraction / self.ideal_fraction)
    }
}

/// A model of one placement algorithm over a key set.
#[derive(Clone, Debug)]
pub struct RingModel {
    params: RingParams,
    /// Servers in id order (removed ones are gone).
    nodes: Vec<NodeSpec>,
    /// Jump's bucket order: a removed server's bucket goes to the last one's.
    jump_order: Vec<NodeId>,
    next_id: NodeId,
    keys: Arc<KeySet>,
    /// Each key's hash with the algorithm's hash function.
    key_hashes: Arc<Vec<u64>>,
    placement: Arc<dyn Placement>,
    owners: Arc<Vec<NodeId>>,
    stats: Stats,
}

/// The state a change would lead to, before it is committed.
struct Next {
    nodes: Vec<NodeSpec>,
    jump_order: Vec<NodeId>,
    next_id: NodeId,
}

impl Next {
    /// The state for a fresh server list: sorted by number, jump buckets in
    /// that order.
    fn from_nodes(mut nodes: Vec<NodeSpec>) -> Result<Next, RingError> {
        nodes.sort_by_key(|n| n.id);
        if let Some(w) = nodes.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(RingError::DuplicateId(w[0].id));
        }
        let next_id = nodes.last().map_or(0, |n| n.id.saturating_add(1));
        let jump_order = nodes.iter().map(|n| n.id).collect();
        Ok(Next { nodes, jump_order, next_id })
    }
}

impl RingModel {
    /// A model with `params.nodes` servers `S1..` of normal weight.
    pub fn new(params: &RingParams) -> Result<RingModel, RingError> {
        params.validate()?;
        let nodes = super::uniform_nodes(params.nodes, params.vnodes);
        RingModel::with_nodes(params, nodes)
    }

    /// A model with the given servers (in any order; numbers must be
    /// unique); `params.nodes` is replaced by their count. For ketama, name
    /// the servers as a real deployment does (`10.0.1.1:11211`) to check
    /// placements against it.
    pub fn with_nodes(params: &RingParams, nodes: Vec<NodeSpec>) -> Result<RingModel, RingError> {
        let count = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
        let params = &RingParams { nodes: count, ..params.clone() };
        params.validate()?;
        let next = Next::from_nodes(nodes)?;
        let keys = Arc::new(KeySet::generate(params.keys, params.distribution, params.seed)?);
        RingModel::build(params, next, keys, None)
    }

    fn build(
        params: &RingParams,
        next: Next,
        keys: Arc<KeySet>,
        hashes: Option<Arc<Vec<u64>>>,
    ) -> Result<RingModel, RingError> {
        params.validate()?;
        check_nodes(&next.nodes)?;
        let key_hashes = match hashes {
            Some(h) => h,
            None => Arc::new(keys.hashes(params.algorithm.key_hash(params.hash))),
        };
        let placement = build_placement(params, &next, keys.len())?;
        let (owners, stats) = evaluate(params, &next.nodes, placement.as_ref(), &keys, &key_hashes);
        Ok(RingModel {
            params: params.clone(),
            nodes: next.nodes,
            jump_order: next.jump_order,
            next_id: next.next_id,
            keys,
            key_hashes,
            placement,
            owners: Arc::new(owners),
            stats,
        })
    }

    /// The parameters (with the current algorithm and epsilon).
    pub fn params(&self) -> &RingParams {
        &self.params
    }

    /// The servers, in id order, failed ones included.
    pub fn nodes(&self) -> &[NodeSpec] {
        &self.nodes
    }

    /// A server by number.
    pub fn node(&self, id: NodeId) -> Option<&NodeSpec> {
        self.nodes.binary_search_by_key(&id, |n| n.id).ok().map(|i| &self.nodes[i])
    }

    /// A server's name, or `S{id+1}` if there is no such server.
    pub fn node_name(&self, id: NodeId) -> String {
        self.node(id).map_or_else(|| default_name(id), |n| n.name.clone())
    }

    /// Finds a server by name, or by `S{n}` for server number `n - 1`.
    pub fn find_node(&self, name: &str) -> Option<NodeId> {
        let name = name.trim();
        if let Some(n) = self.nodes.iter().find(|n| n.name == name) {
            return Some(n.id);
        }
        let n: u64 = name.strip_prefix(['S', 's'])?.parse().ok()?;
        let id = NodeId::try_from(n.checked_sub(1)?).ok()?;
        self.node(id).map(|n| n.id)
    }

    /// The placement in use.
    pub fn placement(&self) -> &dyn Placement {
        self.placement.as_ref()
    }

    /// The keys.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Owner of each key, in key order.
    pub fn owners(&self) -> &[NodeId] {
        &self.owners
    }

    /// Loads now.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The circle's size is `2^circle_bits`: 32 for ketama, 64 otherwise.
    pub fn circle_bits(&self) -> u32 {
        if self.params.algorithm == Algorithm::Ketama {
            32
        } else {
            64
        }
    }

    /// Key `i`'s position on the circle (its hash; ketama: the low 32 bits).
    pub fn key_position(&self, i: usize) -> u64 {
        let h = self.key_hashes[i];
        if self.circle_bits() == 32 {
            h & 0xFFFF_FFFF
        } else {
            h
        }
    }

    /// The ring's points for drawing (ring, ketama, bounded loads; `None`
    /// for the others).
    pub fn ring_view(&self) -> Option<RingView> {
        self.placement.ring_view()
    }

    /// Where a key given by name goes: its preference list (the owner
    /// first, up to `replicas` servers). The key is hashed as its bytes, so
    /// for ketama this is what libketama answers for the same string. For
    /// bounded loads it is the key's first choice on the ring (a key outside
    /// the key set meets no full server).
    pub fn locate(&self, key: &[u8]) -> Vec<NodeId> {
        let h = self.params.algorithm.key_hash(self.params.hash).hash(key);
        self.placement.preference_list(h, self.params.replicas as usize)
    }

    /// Applies a change.
    pub fn apply(&mut self, change: &RingChange) -> Result<ChangeReport, RingError> {
        match change {
            RingChange::AddNode { name, weight } => self.add_named_node(name.clone(), *weight),
            RingChange::RemoveNode(id) => self.remove_node(*id),
            RingChange::FailNode(id) => self.fail_node(*id),
            RingChange::RecoverNode(id) => self.recover_node(*id),
            RingChange::SetWeight(id, w) => self.set_weight(*id, *w),
            RingChange::SetVnodes(id, v) => self.set_vnodes(*id, *v),
            RingChange::SetEpsilon(e) => self.set_epsilon(*e),
        }
    }

    /// Adds a server `S{id+1}` with the given weight.
    pub fn add_node(&mut self, weight: u32) -> Result<ChangeReport, RingError> {
        self.add_named_node(None, weight)
    }

    /// Adds a server with a name (or the default) and a weight.
    pub fn add_named_node(&mut self, name: Option<String>, weight: u32) -> Result<ChangeReport, RingError> {
        check_weight(weight)?;
        if self.nodes.len() as u64 >= u64::from(MAX_NODES) {
            return Err(RingError::TooManyNodes(self.nodes.len() as u64 + 1));
        }
        let id = self.next_id;
        let name = name.unwrap_or_else(|| default_name(id));
        let mut next = self.next();
        next.nodes.push(NodeSpec { id, name: name.clone(), weight, vnodes: self.params.vnodes, failed: false });
        next.jump_order.push(id);
        next.next_id = id.checked_add(1).ok_or(RingError::TooManyNodes(u64::from(id) + 1))?;
        self.transition(next, RingChange::AddNode { name: Some(name), weight }, Some(id))
    }

    /// Removes a server for good.
    pub fn remove_node(&mut self, id: NodeId) -> Result<ChangeReport, RingError> {
        let i = self.index(id)?;
        if !self.nodes[i].failed && self.nodes.iter().filter(|n| !n.failed).count() == 1 {
            return Err(RingError::LastLiveNode(self.nodes[i].name.clone()));
        }
        let mut next = self.next();
        next.nodes.remove(i);
        if let Some(b) = next.jump_order.iter().position(|&n| n == id) {
            next.jump_order.swap_remove(b);
        }
        self.transition(next, RingChange::RemoveNode(id), Some(id))
    }

    /// Fails a server: it keeps its number and points but owns no keys.
    pub fn fail_node(&mut self, id: NodeId) -> Result<ChangeReport, RingError> {
        let i = self.index(id)?;
        if self.nodes[i].failed {
            return Err(RingError::AlreadyFailed(self.nodes[i].name.clone()));
        }
        if self.nodes.iter().filter(|n| !n.failed).count() == 1 {
            return Err(RingError::LastLiveNode(self.nodes[i].name.clone()));
        }
        let mut next = self.next();
        next.nodes[i].failed = true;
        self.transition(next, RingChange::FailNode(id), Some(id))
    }

    /// Brings a failed server back.
    pub fn recover_node(&mut self, id: NodeId) -> Result<ChangeReport, RingError> {
        let i = self.index(id)?;
        if !self.nodes[i].failed {
            return Err(RingError::NotFailed(self.nodes[i].name.clone()));
        }
        let mut next = self.next();
        next.nodes[i].failed = false;
        self.transition(next, RingChange::RecoverNode(id), Some(id))
    }

    /// Changes a server's weight.
    pub fn set_weight(&mut self, id: NodeId, weight: u32) -> Result<ChangeReport, RingError> {
        check_weight(weight)?;
        let i = self.index(id)?;
        let mut next = self.next();
        next.nodes[i].weight = weight;
        self.transition(next, RingChange::SetWeight(id, weight), Some(id))
    }

    /// Changes a server's number of virtual nodes.
    pub fn set_vnodes(&mut self, id: NodeId, vnodes: u32) -> Result<ChangeReport, RingError> {
        check_vnodes(vnodes)?;
        let i = self.index(id)?;
        let mut next = self.next();
        next.nodes[i].vnodes = vnodes;
        self.transition(next, RingChange::SetVnodes(id, vnodes), Some(id))
    }

    /// Switches the algorithm, keeping servers, keys and jump's bucket
    /// order. Returns the new loads.
    pub fn set_algorithm(&mut self, algorithm: Algorithm) -> Result<&Stats, RingError> {
        let params = RingParams { algorithm, ..self.params.clone() };
        let same_hash = algorithm.key_hash(params.hash) == self.params.algorithm.key_hash(self.params.hash);
        let hashes = same_hash.then(|| self.key_hashes.clone());
        *self = RingModel::build(&params, self.next(), self.keys.clone(), hashes)?;
        Ok(&self.stats)
    }

    /// Gives every server that has `from` points `to` points instead, and
    /// makes `to` the count for servers added later (used when the user
    /// switches to ketama without choosing a count: libketama's 160).
    pub fn set_default_vnodes(&mut self, from: u32, to: u32) -> Result<(), RingError> {
        let mut next = self.next();
        for n in next.nodes.iter_mut().filter(|n| n.vnodes == from) {
            n.vnodes = to;
        }
        let params = RingParams { vnodes: to, ..self.params.clone() };
        *self = RingModel::build(&params, next, self.keys.clone(), Some(self.key_hashes.clone()))?;
        Ok(())
    }

    /// Changes bounded loads' epsilon (for other algorithms nothing moves).
    pub fn set_epsilon(&mut self, epsilon: f64) -> Result<ChangeReport, RingError> {
        check_epsilon(epsilon)?;
        let old = self.params.epsilon;
        self.params.epsilon = epsilon;
        let result = self.transition(self.next(), RingChange::SetEpsilon(epsilon), None);
        if result.is_err() {
            self.params.epsilon = old;
        }
        result
    }

    /// Reads a change as the CLI writes it, naming servers by name or
    /// `S{n}`: `add`, `add:200`, `add:10.0.1.9:11211=200`, `remove:S3`,
    /// `fail:S3`, `recover:S3`, `weight:S3=200`, `vnodes:S3=50`, `epsilon:0.1`.
    pub fn parse_change(&self, text: &str) -> Result<RingChange, RingError> {
        let t = text.trim();
        let bad = || RingError::UnknownChange(t.to_string());
        let (verb, arg) = match t.split_once(':') {
            Some((v, a)) => (v.trim().to_ascii_lowercase(), a.trim()),
            None => (t.to_ascii_lowercase(), ""),
        };
        let node =
            |s: &str| self.find_node(s).ok_or_else(|| RingError::UnknownChange(format!("{t}: no server named '{s}'")));
        let num = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
        let split =
            |s: &str| s.rsplit_once('=').map(|(a, b)| (a.trim().to_string(), b.trim().to_string())).ok_or_else(bad);
        Ok(match verb.as_str() {
            "add" if arg.is_empty() => RingChange::AddNode { name: None, weight: DEFAULT_WEIGHT },
            "add" => match arg.rsplit_once('=') {
                Some((name, w)) => RingChange::AddNode { name: Some(name.trim().to_string()), weight: num(w)? },
                None => match arg.parse::<u32>() {
                    Ok(w) => RingChange::AddNode { name: None, weight: w },
                    Err(_) => RingChange::AddNode { name: Some(arg.to_string()), weight: DEFAULT_WEIGHT },
                },
            },
            "remove" => RingChange::RemoveNode(node(arg)?),
            "fail" => RingChange::FailNode(node(arg)?),
            "recover" => RingChange::RecoverNode(node(arg)?),
            "weight" => {
                let (n, w) = split(arg)?;
                RingChange::SetWeight(node(&n)?, num(&w)?)
            }
            "vnodes" => {
                let (n, v) = split(arg)?;
                RingChange::SetVnodes(node(&n)?, num(&v)?)
            }
            "epsilon" => RingChange::SetEpsilon(arg.parse::<f64>().map_err(|_| bad())?),
            _ => return Err(bad()),
        })
    }

    /// Describes a change in words, with server names.
    pub fn describe(&self, change: &RingChange) -> String {
        match change {
            RingChange::AddNode { name, weight } => {
                format!("add {} (weight {weight})", name.clone().unwrap_or_else(|| default_name(self.next_id)))
            }
            RingChange::RemoveNode(id) => format!("remove {}", self.node_name(*id)),
            RingChange::FailNode(id) => format!("fail {}", self.node_name(*id)),
            RingChange::RecoverNode(id) => format!("recover {}", self.node_name(*id)),
            RingChange::SetWeight(id, w) => format!("set weight of {} to {w}", self.node_name(*id)),
            RingChange::SetVnodes(id, v) => format!("set vnodes of {} to {v}", self.node_name(*id)),
            RingChange::SetEpsilon(e) => format!("set epsilon to {e}"),
        }
    }

    fn index(&self, id: NodeId) -> Result<usize, RingError> {
        self.nodes.binary_search_by_key(&id, |n| n.id).map_err(|_| RingError::UnknownNode(id))
    }

    fn next(&self) -> Next {
        Next { nodes: self.nodes.clone(), jump_order: self.jump_order.clone(), next_id: self.next_id }
    }

    /// Builds and evaluates the next state; commits it only if that worked.
    fn transition(&mut self, next: Next, change: RingChange, node: Option<NodeId>) -> Result<ChangeReport, RingError> {
        check_nodes(&next.nodes)?;
        let placement = build_placement(&self.params, &next, self.keys.len())?;
        let (owners, stats) = evaluate(&self.params, &next.nodes, placement.as_ref(), &self.keys, &self.key_hashes);
        let mut moved = 0u64;
        let mut between_others = 0u64;
        let mut sample = Vec::new();
        for (i, (&from, &to)) in self.owners.iter().zip(&owners).enumerate() {
            if from != to {
                moved += 1;
                if Some(from) != node && Some(to) != node {
                    between_others += 1;
                }
                if sample.len() < MOVED_SAMPLE {
                    sample.push(MovedKey { key: i as u32, position: self.key_position(i), from, to });
                }
            }
        }
        let uses_weights = self.params.algorithm.uses_weights();
        let ideal = ideal_fraction(&self.nodes, &next.nodes, uses_weights);
        let report = ChangeReport {
            change,
            node,
            moved,
            moved_fraction: moved as f64 / self.keys.len() as f64,
            ideal_fraction: ideal,
            moved_between_others: between_others,
            sample,
            stats: stats.clone(),
        };
        self.nodes = next.nodes;
        self.jump_order = next.jump_order;
        self.next_id = next.next_id;
        self.placement = placement;
        self.owners = Arc::new(owners);
        self.stats = stats;
        Ok(report)
    }
}

/// Builds the placement for a state.
fn build_placement(params: &RingParams, next: &Next, keys: usize) -> Result<Arc<dyn Placement>, RingError> {
    let nodes = &next.nodes;
    Ok(match params.algorithm {
        Algorithm::Ring => Arc::new(VnodeRing::new(nodes, params.hash)?),
        Algorithm::Ketama => Arc::new(Ketama::new(nodes)?),
        Algorithm::Modulo => Arc::new(Modulo::new(nodes)?),
        Algorithm::Jump => {
            let ordered: Vec<NodeSpec> = next
                .jump_order
                .iter()
                .filter_map(|id| nodes.binary_search_by_key(id, |n| n.id).ok().map(|i| nodes[i].clone()))
                .collect();
            Arc::new(Jump::new(&ordered)?)
        }
        Algorithm::Rendezvous => {
            let r = Rendezvous::new(nodes, params.hash)?;
            let servers = r.live_servers();
            if servers.saturating_mul(keys as u64) > MAX_RENDEZVOUS_WORK {
                return Err(RingError::TooMuchWork { servers, keys: keys as u64 });
            }
            Arc::new(r)
        }
        Algorithm::Maglev => Arc::new(Maglev::new(nodes, params.hash, params.maglev_size)?),
        Algorithm::Bounded => Arc::new(BoundedLoads::new(nodes, params.hash, params.epsilon)?),
    })
}

/// Places every key and computes the loads.
fn evaluate(
    params: &RingParams,
    nodes: &[NodeSpec],
    placement: &dyn Placement,
    keys: &KeySet,
    key_hashes: &[u64],
) -> (Vec<NodeId>, Stats) {
    let assignment = placement.assign(key_hashes);
    let replicas = params.replicas as usize;
    let replica_counts = (replicas > 1).then(|| {
        let mut counts = vec![0u64; nodes.len()];
        for &h in key_hashes {
            for id in placement.preference_list(h, replicas) {
                if let Ok(s) = nodes.binary_search_by_key(&id, |n| n.id) {
                    counts[s] += 1;
                }
            }
        }
        counts
    });
    let stats = Stats::compute(
        nodes,
        &assignment.owners,
        keys,
        params.algorithm.uses_weights(),
        assignment.overflowed,
        replica_counts.as_deref(),
    );
    (assignment.owners, stats)
}

/// Fair shares of the live servers, as `(id, share)` in id order.
fn fair_shares(nodes: &[NodeSpec], uses_weights: bool) -> Vec<(NodeId, f64)> {
    let live: Vec<&NodeSpec> = nodes.iter().filter(|n| !n.failed).collect();
    let total: u64 = live.iter().map(|n| u64::from(n.weight)).sum();
    live.iter()
        .map(|n| {
            let share = if uses_weights { f64::from(n.weight) / total as f64 } else { 1.0 / live.len() as f64 };
            (n.id, share)
        })
        .collect()
}

/// Total variation between fair shares before and after: the least
/// fraction of keys any placement must move.
fn ideal_fraction(before: &[NodeSpec], after: &[NodeSpec], uses_weights: bool) -> f64 {
    let b = fair_shares(before, uses_weights);
    let a = fair_shares(after, uses_weights);
    a.iter()
        .map(|&(id, share)| {
            let old = b.binary_search_by_key(&id, |&(i, _)| i).map_or(0.0, |i| b[i].1);
            (share - old).max(0.0)
        })
        .sum()
}

/// One algorithm's figures in a comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareRow {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The hash keys were hashed with.
    pub hash: HashKind,
    /// Why this algorithm could not run these servers and changes, if so.
    pub error: Option<String>,
    /// State kept: ring points, table entries or servers.
    pub footprint: u64,
    /// Balance of keys after all changes.
    pub keys: Balance,
    /// Balance of requests after all changes.
    pub requests: Balance,
    /// Keys moved by each change.
    pub moved_per_change: Vec<u64>,
    /// Keys moved over all changes, over the number of keys.
    pub moved_fraction: f64,
    /// The least fraction of keys the changes required, summed.
    pub ideal_fraction: f64,
    /// Moved keys that went neither to nor from the changed server.
    pub moved_between_others: u64,
    /// Keys not on their first choice after all changes (bounded loads).
    pub overflowed: u64,
}

impl CompareRow {
    fn failed(algorithm: Algorithm, hash: HashKind, error: RingError) -> CompareRow {
        CompareRow {
            algorithm,
            hash,
            error: Some(error.to_string()),
            footprint: 0,
            keys: Balance::default(),
            requests: Balance::default(),
            moved_per_change: Vec::new(),
            moved_fraction: 0.0,
            ideal_fraction: 0.0,
            moved_between_others: 0,
            overflowed: 0,
        }
    }
}

impl fmt::Display for CompareRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            Some(e) => write!(f, "{}: {e}", self.algorithm),
            None => write!(
                f,
                "{}: keys rsd {:.3}, max/mean {:.3}; moved {:.4} (ideal {:.4})",
                self.algorithm, self.keys.rel_std, self.keys.max_over_mean, self.moved_fraction, self.ideal_fraction
            ),
        }
    }
}

/// Runs every algorithm on the same keys (the same seed) and the same
/// changes, starting from `params.nodes` servers; one row per algorithm,
/// in [`Algorithm::ALL`] order. Parameter errors fail the whole call; an
/// algorithm that cannot run (a Maglev table too small, rendezvous on too
/// many pairs, a change it refuses) gets a row with its error.
pub fn compare(params: &RingParams, changes: &[RingChange]) -> Result<Vec<CompareRow>, RingError> {
    params.validate()?;
    compare_with_nodes(params, super::uniform_nodes(params.nodes, params.vnodes), changes)
}

/// [`compare`] starting from the given servers.
pub fn compare_with_nodes(
    params: &RingParams,
    nodes: Vec<NodeSpec>,
    changes: &[RingChange],
) -> Result<Vec<CompareRow>, RingError> {
    params.validate()?;
    check_nodes(&nodes)?;
    let keys = Arc::new(KeySet::generate(params.keys, params.distribution, params.seed)?);
    let chosen = Arc::new(keys.hashes(params.hash));
    let mut md5: Option<Arc<Vec<u64>>> = None;
    let mut rows = Vec::with_capacity(Algorithm::ALL.len());
    for algorithm in Algorithm::ALL {
        let p = RingParams { algorithm, ..params.clone() };
        let hash = algorithm.key_hash(params.hash);
        let hashes = if hash == params.hash {
            chosen.clone()
        } else {
            md5.get_or_insert_with(|| Arc::new(keys.hashes(hash))).clone()
        };
        rows.push(match run_changes(&p, nodes.clone(), keys.clone(), hashes, changes) {
            Ok(row) => row,
            Err(e) => CompareRow::failed(algorithm, hash, e),
        });
    }
    Ok(rows)
}

fn run_changes(
    params: &RingParams,
    nodes: Vec<NodeSpec>,
    keys: Arc<KeySet>,
    hashes: Arc<Vec<u64>>,
    changes: &[RingChange],
) -> Result<CompareRow, RingError> {
    let mut model = RingModel::build(params, Next::from_nodes(nodes)?, keys, Some(hashes))?;
    let mut moved_per_change = Vec::with_capacity(changes.len());
    let (mut moved, mut ideal, mut between) = (0u64, 0.0, 0u64);
    for c in changes {
        let r = model.apply(c)?;
        moved_per_change.push(r.moved);
        moved += r.moved;
        ideal += r.ideal_fraction;
        between += r.moved_between_others;
    }
    let s = model.stats();
    Ok(CompareRow {
        algorithm: params.algorithm,
        hash: params.algorithm.key_hash(params.hash),
        error: None,
        footprint: model.placement().footprint(),
        keys: s.keys,
        requests: s.requests,
        moved_per_change,
        moved_fraction: moved as f64 / model.keys().len() as f64,
        ideal_fraction: ideal,
        moved_between_others: between,
        overflowed: s.overflowed,
    })
}
