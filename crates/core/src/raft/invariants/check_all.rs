//! The from-scratch check: what the incremental checkers follow, computed
//! again over the nodes' current logs, snapshots and state machines. Tests
//! call [`check_all`] at the end of runs to catch a checker that missed a
//! change. Linear in the total log length.

use super::s;
use crate::raft::node::{chain, Entry, RaftNode, Role};
use crate::sim::{Node, NodeId};
use std::collections::BTreeMap;

/// A node's prefix digests from its snapshot on: (base index, digests at
/// base, base + 1, ..., last).
type Digests = (u64, Vec<u64>);

/// Each node's prefix digests from its snapshot on.
fn digests_of(n: &RaftNode) -> Digests {
    let mut d = n.snapshot().state.digest;
    let mut out = Vec::with_capacity(n.log().len() + 1);
    out.push(d);
    for e in n.log() {
        d = chain(d, e);
        out.push(d);
    }
    (n.snapshot().index(), out)
}

fn digest_at(of: &Digests, index: u64) -> Option<u64> {
    of.1.get(usize::try_from(index.checked_sub(of.0)?).ok()?).copied()
}

/// Checks, from scratch, what the incremental checkers follow: no two
/// current leaders share a term, every commit index lies between the
/// snapshot and the end of the log, every state machine equals the digest
/// of its committed prefix, Log Matching across all current logs and
/// snapshots, agreement of all committed prefixes (hence of all state
/// machines at the same index), a leader of the highest term holds the
/// longest committed prefix, and no leader's log holds two uncommitted
/// configuration entries. Linear in the total log length. For crashed
/// nodes, `state` is what they would restart from.
pub fn check_all(nodes: &[Node<RaftNode>]) -> Result<(), String> {
    let digests: Vec<Digests> = nodes.iter().map(|n| digests_of(&n.state)).collect();
    let mut leaders: BTreeMap<u64, NodeId> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        check_node(i as NodeId, &n.state, &digests[i])?;
        if n.state.role() == Role::Leader {
            check_leader(i as NodeId, &n.state, &mut leaders)?;
        }
    }
    check_log_matching(nodes, &digests)?;
    let Some((bi, best)) = nodes.iter().enumerate().max_by_key(|(_, n)| n.state.commit_index()) else {
        return Ok(());
    };
    let best_commit = best.state.commit_index();
    check_committed_prefixes(nodes, &digests, bi, best_commit)?;
    check_top_leader(nodes, &digests, &leaders, bi, best_commit)
}

/// One node on its own: its commit index lies between its snapshot and the
/// end of its log, and its state machine is what applying its log up to
/// the commit index gives.
fn check_node(id: NodeId, st: &RaftNode, digests: &Digests) -> Result<(), String> {
    if st.commit_index() > st.last_log_index() || st.commit_index() < st.snapshot().index() {
        return Err(format!(
            "{} has commit index {} outside its log (snapshot up to {}, last index {})",
            s(id),
            st.commit_index(),
            st.snapshot().index(),
            st.last_log_index()
        ));
    }
    let sm = st.state_machine();
    if sm.applied != st.commit_index() || Some(sm.digest) != digest_at(digests, sm.applied) {
        return Err(format!(
            "State Machine Safety: the state machine of {} (index {}) is not what applying its log up to its commit index {} gives",
            s(id),
            sm.applied,
            st.commit_index()
        ));
    }
    Ok(())
}

/// A current leader: no other leads its term (Election Safety), and its log
/// holds no two uncommitted configuration entries (One Change at a Time).
fn check_leader(id: NodeId, st: &RaftNode, leaders: &mut BTreeMap<u64, NodeId>) -> Result<(), String> {
    if let Some(other) = leaders.insert(st.term(), id) {
        return Err(format!("{} and {} both lead term {}", s(other), s(id), st.term()));
    }
    // A configuration entry of its own term beyond its commit index
    // must be the only configuration entry there (the earlier ones
    // may be committed without this leader knowing yet).
    let beyond: Vec<&Entry> = st
        .log()
        .iter()
        .skip(st.commit_index().saturating_sub(st.snapshot().index()) as usize)
        .filter(|e| e.config.is_some())
        .collect();
    if beyond.len() > 1 && beyond.iter().any(|e| e.term == st.term()) {
        return Err(format!(
            "One Change at a Time: {}, leader of term {}, appended a configuration while {} others were uncommitted",
            s(id),
            st.term(),
            beyond.len() - 1
        ));
    }
    Ok(())
}

/// Log Matching: every (index, term) closes the same prefix everywhere.
fn check_log_matching(nodes: &[Node<RaftNode>], digests: &[Digests]) -> Result<(), String> {
    let mut seen: BTreeMap<(u64, u64), (u64, NodeId)> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let st = &n.state;
        let snap = st.snapshot();
        let terms = std::iter::once((snap.index(), snap.term()))
            .chain(st.log().iter().enumerate().map(|(k, e)| (snap.index() + 1 + k as u64, e.term)));
        for (k, (index, term)) in terms.enumerate() {
            if index == 0 {
                continue;
            }
            let d = digests[i].1[k];
            match seen.get(&(index, term)) {
                Some(&(other, by)) if other != d => {
                    return Err(format!(
                        "Log Matching: {} and {} both hold an entry of term {term} at index {index}, but their logs differ before it",
                        s(by),
                        s(i as NodeId),
                    ));
                }
                Some(_) => {}
                None => {
                    seen.insert((index, term), (d, i as NodeId));
                }
            }
        }
    }
    Ok(())
}

/// Committed prefixes (and so state machines) agree: every node's with the
/// longest, node `bi`'s up to `best_commit`.
fn check_committed_prefixes(
    nodes: &[Node<RaftNode>],
    digests: &[Digests],
    bi: usize,
    best_commit: u64,
) -> Result<(), String> {
    for (i, n) in nodes.iter().enumerate() {
        let k = n.state.commit_index().min(best_commit);
        if let (Some(a), Some(b)) = (digest_at(&digests[i], k), digest_at(&digests[bi], k)) {
            if a != b {
                return Err(format!(
                    "State Machine Safety: {} and {} committed different entries at or before index {k}",
                    s(i as NodeId),
                    s(bi as NodeId)
                ));
            }
        }
    }
    Ok(())
}

/// A leader of the highest term holds everything committed (Leader
/// Completeness), the longest committed prefix, node `bi`'s.
fn check_top_leader(
    nodes: &[Node<RaftNode>],
    digests: &[Digests],
    leaders: &BTreeMap<u64, NodeId>,
    bi: usize,
    best_commit: u64,
) -> Result<(), String> {
    let top = nodes.iter().map(|n| n.state.term()).max().unwrap_or(0);
    if let Some(&l) = leaders.get(&top) {
        let ld = &digests[l as usize];
        let lacks = match digest_at(ld, best_commit) {
            Some(d) => Some(d) != digest_at(&digests[bi], best_commit),
            None => best_commit > nodes[l as usize].state.last_log_index(),
        };
        if lacks {
            return Err(format!(
                "Leader Completeness: {}, leader of term {top}, lacks entries committed by {} (up to index {best_commit})",
                s(l),
                s(bi as NodeId),
            ));
        }
    }
    Ok(())
}
