//! The search: Wing & Gong's with Lowe's memoisation, one key at a time,
//! and the shrinking of a failing history to a 1-minimal set.

use super::model::{Interner, ModelKind, Step};
use super::{Entry, Value};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// How much the checker may explore before it gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Search steps (an operation tried, or a backtrack), over every key
    /// and every check the shrinking makes.
    pub max_steps: u64,
    /// Configurations remembered at once (each costs the size of a set of
    /// operations): a memory bound.
    pub max_states: usize,
}

impl Default for Budget {
    /// Enough for every history of Porcupine's and Jepsen's test data;
    /// about a few seconds and 200 MB at the most.
    fn default() -> Self {
        Budget { max_steps: 50_000_000, max_states: 2_000_000 }
    }
}

/// The checker's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every operation can take effect at one instant between its call and
    /// return, in an order the object allows.
    Linearizable {
        /// Entry indexes in an order that works (key by key).
        order: Vec<usize>,
        /// For each entry, the instant it takes effect.
        points: Vec<u64>,
    },
    /// No such order exists.
    NotLinearizable {
        /// Entry indexes of a set of operations (all on one key) that
        /// cannot be ordered; dropping any one of them leaves a set that
        /// can (unless the budget ran out while shrinking, which `reason`
        /// says).
        ops: Vec<usize>,
        /// The longest legal order of some of `ops` the search found.
        order: Vec<usize>,
        /// Why the search could go no further, in words.
        reason: String,
    },
    /// The budget ran out first.
    GaveUp {
        /// Search steps made.
        steps: u64,
        /// What ran out, in words.
        message: String,
    },
}

/// Checks `entries` against `model`, every key starting at `initial`.
/// An error names an operation the model does not have.
pub fn check(model: ModelKind, initial: &Value, entries: &[Entry], budget: &Budget) -> Result<Verdict, String> {
    check_with(model, initial, entries, budget, true)
}

/// [`check`] without shrinking a failure: a non-linearizable verdict names
/// every operation of the failing key, and the reason is the search's
/// deepest dead end. Faster where only the answer matters (and what
/// Porcupine does, for comparing the two).
pub fn decide(model: ModelKind, initial: &Value, entries: &[Entry], budget: &Budget) -> Result<Verdict, String> {
    check_with(model, initial, entries, budget, false)
}

fn check_with(
    model: ModelKind,
    initial: &Value,
    entries: &[Entry],
    budget: &Budget,
    shrink: bool,
) -> Result<Verdict, String> {
    if let Some((i, e)) = entries.iter().enumerate().find(|(_, e)| !model.allows(&e.op)) {
        return Err(format!("operation {} ({e}) is not an operation of a {}", i + 1, model.name()));
    }
    let mut keys: BTreeMap<&Value, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        keys.entry(&e.key).or_default().push(i);
    }
    let mut run = Run { interner: Interner::default(), steps: 0, limit: 0, budget: *budget };
    let init = run.interner.initial(model, initial);
    let parts: Vec<(&Vec<usize>, Part)> =
        keys.values().map(|ops| (ops, Part::new(&mut run.interner, entries, ops))).collect();
    // Keys take turns with a step allowance that grows fourfold a round,
    // so an easy key that fails is found before a hard one is exhausted
    // (Porcupine checks keys in parallel and stops at the first failure).
    let mut orders: Vec<Option<Vec<usize>>> = vec![None; parts.len()];
    let mut slice = 100_000u64;
    while orders.iter().any(Option::is_none) {
        for (k, (ops, part)) in parts.iter().enumerate() {
            if orders[k].is_some() {
                continue;
            }
            run.limit = run.steps.saturating_add(slice).min(budget.max_steps);
            match run.search(part, init) {
                Search::Found(local) => orders[k] = Some(local.into_iter().map(|l| ops[l]).collect()),
                Search::Stuck(_) if shrink => return Ok(run.explain(entries, ops, init)),
                Search::Stuck(stuck) => {
                    let order: Vec<usize> = stuck.order.iter().map(|&l| ops[l]).collect();
                    let reason =
                        run.reason(entries, &order, ops[stuck.blocked], stuck.state, part.steps[stuck.blocked]);
                    return Ok(Verdict::NotLinearizable { ops: ops.to_vec(), order, reason });
                }
                Search::OutOfBudget(what) if what == "states" || run.steps >= budget.max_steps => {
                    return Ok(run.gave_up(what))
                }
                Search::OutOfBudget(_) => {}
            }
        }
        slice = slice.saturating_mul(4);
    }
    let order: Vec<usize> = orders.into_iter().flatten().flatten().collect();
    let points = points(entries, &order);
    Ok(Verdict::Linearizable { order, points })
}

/// The instant each entry takes effect: the latest call so far in the
/// order, which a legal order keeps before every later entry's return.
fn points(entries: &[Entry], order: &[usize]) -> Vec<u64> {
    let mut points = vec![0; entries.len()];
    let mut at: BTreeMap<&Value, u64> = BTreeMap::new();
    for &i in order {
        let last = at.entry(&entries[i].key).or_insert(0);
        *last = (*last).max(entries[i].call);
        points[i] = *last;
    }
    points
}

/// One key's operations, ready for the search.
struct Part {
    /// Each operation's call and return instants (`u64::MAX`: never).
    times: Vec<(u64, u64)>,
    steps: Vec<Step>,
}

impl Part {
    fn new(interner: &mut Interner, entries: &[Entry], ops: &[usize]) -> Part {
        let times = ops
            .iter()
            .map(|&i| {
                let e = &entries[i];
                (e.call, e.ret.map_or(u64::MAX, |r| r.max(e.call)))
            })
            .collect();
        let steps = ops.iter().map(|&i| interner.step_of(&entries[i].op)).collect();
        Part { times, steps }
    }

    /// The same operations but only those in `keep` (local indexes).
    fn subset(&self, keep: &[usize]) -> Part {
        Part {
            times: keep.iter().map(|&i| self.times[i]).collect(),
            steps: keep.iter().map(|&i| self.steps[i]).collect(),
        }
    }
}

enum Search {
    /// A legal order (local indexes).
    Found(Vec<usize>),
    /// None exists; the deepest legal order reached and the operation
    /// whose return blocked it there.
    Stuck(Stuck),
    OutOfBudget(&'static str),
}

struct Stuck {
    order: Vec<usize>,
    state: u32,
    blocked: usize,
}

struct Run {
    interner: Interner,
    /// Steps made so far, over every search.
    steps: u64,
    /// The step count at which the current search stops.
    limit: u64,
    budget: Budget,
}

/// The doubly linked list of call and return events (Wing & Gong), with
/// a head at index `2n`.
struct Events {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// For a call event, its return event's index; `usize::MAX` for a return.
    ret_of: Vec<usize>,
    op: Vec<usize>,
    head: usize,
}

const NONE: usize = usize::MAX;

impl Events {
    fn new(part: &Part) -> Events {
        let n = part.times.len();
        // Calls sort before returns at the same instant: such operations
        // overlap (as in Porcupine).
        let mut evs: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
        for (i, &(c, r)) in part.times.iter().enumerate() {
            evs.push((c, false, i));
            evs.push((r, true, i));
        }
        evs.sort_unstable();
        let head = 2 * n;
        let mut next = vec![NONE; 2 * n + 1];
        let mut prev = vec![NONE; 2 * n + 1];
        let mut ret_of = vec![NONE; 2 * n];
        let mut op = vec![0; 2 * n];
        let mut call_at = vec![0; n];
        let mut last = head;
        for (k, &(_, is_ret, i)) in evs.iter().enumerate() {
            op[k] = i;
            if is_ret {
                ret_of[call_at[i]] = k;
            } else {
                call_at[i] = k;
            }
            next[last] = k;
            prev[k] = last;
            last = k;
        }
        Events { next, prev, ret_of, op, head }
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = n;
        if n != NONE {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.next[p] = e;
        if n != NONE {
            self.prev[n] = e;
        }
    }

    /// Takes a call and its return out of the list.
    fn lift(&mut self, call: usize) {
        self.unlink(call);
        self.unlink(self.ret_of[call]);
    }

    /// Puts them back (in the reverse order of [`Events::lift`]).
    fn unlift(&mut self, call: usize) {
        self.relink(self.ret_of[call]);
        self.relink(call);
    }
}

/// A set of operations with an incrementally kept hash (Zobrist: the xor
/// of a random word per member).
struct Placed {
    words: Box<[u64]>,
    hash: u64,
}

fn zobrist(i: usize) -> u64 {
    // splitmix64's finaliser: a well-spread word per operation.
    let mut z = (i as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Placed {
    fn new(n: usize) -> Placed {
        Placed { words: vec![0; n.div_ceil(64)].into_boxed_slice(), hash: 0 }
    }

    fn flip(&mut self, i: usize) {
        self.words[i / 64] ^= 1 << (i % 64);
        self.hash ^= zobrist(i);
    }
}

/// Every configuration seen (a set placed and the object's state), the
/// sets back to back in one arena so a lookup allocates nothing: a table
/// from hash to the newest entry with it, each entry linking to the next
/// older one with the same hash.
struct Memo {
    words: usize,
    arena: Vec<u64>,
    states: Vec<u32>,
    older: Vec<u32>,
    newest: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
}

impl Memo {
    fn new(n: usize) -> Memo {
        Memo {
            words: n.div_ceil(64),
            arena: Vec::new(),
            states: Vec::new(),
            older: Vec::new(),
            newest: HashMap::default(),
        }
    }

    fn len(&self) -> usize {
        self.states.len()
    }

    /// Remembers (`placed`, `state`); false if it was already there.
    fn insert(&mut self, placed: &Placed, state: u32) -> bool {
        let h = placed.hash ^ zobrist(state as usize).rotate_left(17);
        let head = self.newest.get(&h).copied().unwrap_or(u32::MAX);
        let mut at = head;
        while at != u32::MAX {
            let i = at as usize;
            if self.states[i] == state && self.arena[i * self.words..(i + 1) * self.words] == placed.words[..] {
                return false;
            }
            at = self.older[i];
        }
        self.newest.insert(h, self.states.len() as u32);
        self.states.push(state);
        self.older.push(head);
        self.arena.extend_from_slice(&placed.words);
        true
    }
}

/// The hash is already well spread: pass it through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl Run {
    /// Wing & Gong's search with Lowe's memo over one key.
    fn search(&mut self, part: &Part, init: u32) -> Search {
        let n = part.times.len();
        let mut ev = Events::new(part);
        let mut seen = Memo::new(n);
        let mut placed = Placed::new(n);
        let mut stack: Vec<(usize, u32)> = Vec::new();
        let mut state = init;
        let mut deepest: Option<Stuck> = None;
        let mut entry = ev.next[ev.head];
        while ev.next[ev.head] != NONE {
            self.steps += 1;
            if self.steps > self.limit {
                return Search::OutOfBudget("steps");
            }
            if ev.ret_of[entry] != NONE {
                let i = ev.op[entry];
                if let Some(after) = self.interner.apply(state, part.steps[i]) {
                    placed.flip(i);
                    if seen.insert(&placed, after) {
                        if seen.len() > self.budget.max_states {
                            return Search::OutOfBudget("states");
                        }
                        stack.push((entry, state));
                        state = after;
                        ev.lift(entry);
                        entry = ev.next[ev.head];
                        continue;
                    }
                    placed.flip(i);
                }
                entry = ev.next[entry];
            } else {
                // A return whose call is still unplaced: back up.
                if deepest.as_ref().is_none_or(|d| stack.len() > d.order.len()) {
                    let order = stack.iter().map(|&(c, _)| ev.op[c]).collect();
                    deepest = Some(Stuck { order, state, blocked: ev.op[entry] });
                }
                let Some((call, before)) = stack.pop() else {
                    let stuck = deepest.unwrap_or(Stuck { order: Vec::new(), state, blocked: ev.op[entry] });
                    return Search::Stuck(stuck);
                };
                placed.flip(ev.op[call]);
                state = before;
                ev.unlift(call);
                entry = ev.next[call];
            }
        }
        Search::Found(stack.iter().map(|&(c, _)| ev.op[c]).collect())
    }

    /// Whether `keep` (local indexes of `part`) cannot be ordered; `None`
    /// when the budget ran out.
    fn fails(&mut self, part: &Part, keep: &[usize], init: u32) -> Option<bool> {
        self.limit = self.budget.max_steps;
        match self.search(&part.subset(keep), init) {
            Search::Found(_) => Some(false),
            Search::Stuck(_) => Some(true),
            Search::OutOfBudget(_) => None,
        }
    }

    /// The shortest prefix of the history that already fails: the
    /// operations invoked by some return instant, those still running
    /// then counted as pending (free to take effect or not, answers
    /// unknown). A linearizable history has only linearizable prefixes, so
    /// a binary search over the return instants finds it; the prefix's
    /// operations with their real answers fail too (answers only constrain).
    fn failing_prefix(&mut self, part: &Part, init: u32) -> Option<Vec<usize>> {
        let mut rets: Vec<u64> = part.times.iter().map(|&(_, r)| r).filter(|&r| r != u64::MAX).collect();
        rets.sort_unstable();
        let prefix = |cut: u64| {
            let keep: Vec<usize> = (0..part.times.len()).filter(|&i| part.times[i].0 <= cut).collect();
            let mut p = part.subset(&keep);
            for (t, s) in p.times.iter_mut().zip(p.steps.iter_mut()) {
                if t.1 > cut {
                    *t = (t.0, u64::MAX);
                    *s = s.unknown_answer();
                }
            }
            (keep, p)
        };
        let (mut lo, mut hi) = (0, rets.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let (keep, p) = prefix(rets[mid]);
            match self.fails(&p, &(0..keep.len()).collect::<Vec<_>>(), init)? {
                true => hi = mid,
                false => lo = mid + 1,
            }
        }
        Some(prefix(rets.get(lo).copied().unwrap_or(u64::MAX)).0)
    }

    /// Whether dropping `gone` from `keep` cannot by itself make the rest
    /// fail: reads never can; a write, append or compare-and-set can only
    /// if an operation left observes the value it wrote, or a failed
    /// compare-and-set left might have seen it; mutex operations always
    /// might.
    fn removable(&self, part: &Part, gone: &[usize], rest: &[usize]) -> bool {
        let observed: Vec<u32> = rest
            .iter()
            .filter_map(|&i| match part.steps[i] {
                Step::Read(Some(v)) | Step::Cas(v, _, Some(true)) => Some(v),
                _ => None,
            })
            .collect();
        // A failed compare-and-set saw some value other than the one it
        // expected: any write of another value may be what it saw.
        let failed: Vec<u32> = rest
            .iter()
            .filter_map(|&i| match part.steps[i] {
                Step::Cas(from, _, Some(false)) => Some(from),
                _ => None,
            })
            .collect();
        let writes_free = |v: u32| !observed.contains(&v) && failed.iter().all(|&f| f == v);
        gone.iter().all(|&i| match part.steps[i] {
            Step::Read(_) => true,
            Step::Write(v) | Step::Cas(_, v, _) => writes_free(v),
            Step::Append(piece) => failed.is_empty() && !observed.iter().any(|&o| self.interner.contains(o, piece)),
            Step::Acquire | Step::Release => false,
        })
    }

    /// Shrinks one key's failing operations to a small failing set and
    /// says why it fails: first the shortest failing prefix, then Zeller's
    /// ddmin (drop chunks while the rest still fails, halving the chunks
    /// down to single operations), dropping only what [`Run::removable`]
    /// allows, so the set fails for the history's own reasons.
    fn explain(&mut self, entries: &[Entry], ops: &[usize], init: u32) -> Verdict {
        let part = Part::new(&mut self.interner, entries, ops);
        let mut complete = true;
        let mut keep = self.failing_prefix(&part, init).unwrap_or_else(|| {
            complete = false;
            (0..ops.len()).collect()
        });
        let mut chunk = keep.len().div_ceil(2);
        'shrink: while complete && keep.len() > 1 {
            let mut start = 0;
            let mut dropped = false;
            while start < keep.len() {
                let end = (start + chunk).min(keep.len());
                let rest: Vec<usize> = keep[..start].iter().chain(&keep[end..]).copied().collect();
                if !self.removable(&part, &keep[start..end], &rest) {
                    start = end;
                    continue;
                }
                match self.fails(&part, &rest, init) {
                    Some(true) => {
                        keep = rest;
                        dropped = true;
                    }
                    Some(false) => start = end,
                    None => {
                        complete = false;
                        break 'shrink;
                    }
                }
            }
            if !dropped && chunk == 1 {
                break;
            }
            chunk = if dropped { chunk.min(keep.len().div_ceil(2)) } else { chunk.div_ceil(2) }.max(1);
        }
        self.limit = self.budget.max_steps;
        let small = part.subset(&keep);
        let stuck = match self.search(&small, init) {
            Search::Stuck(s) => s,
            // `keep` failed in the last check that kept it and the search
            // is deterministic, so only a budget run out lands here.
            _ => Stuck { order: Vec::new(), state: init, blocked: 0 },
        };
        let global = |l: usize| ops[keep[l]];
        let order: Vec<usize> = stuck.order.iter().map(|&l| global(l)).collect();
        let blocked = global(stuck.blocked);
        let mut reason = self.reason(entries, &order, blocked, stuck.state, small.steps[stuck.blocked]);
        if !complete {
            reason.push_str(" (The search's budget ran out while shrinking the set, so it may not be the smallest.)");
        }
        Verdict::NotLinearizable { ops: keep.iter().map(|&l| ops[l]).collect(), order, reason }
    }

    fn reason(&mut self, entries: &[Entry], order: &[usize], blocked: usize, state: u32, step: Step) -> String {
        let after = match order {
            [] => "first".to_string(),
            [one] => format!("after {}", entries[*one]),
            [.., last] if order.len() > 3 => {
                format!(
                    "after the {} operations of the longest legal order found, the last {}",
                    order.len(),
                    entries[*last]
                )
            }
            _ => {
                let names: Vec<String> = order.iter().map(|&i| format!("{}", entries[i])).collect();
                format!("after {}", names.join(", "))
            }
        };
        let e = &entries[blocked];
        let why = match self.interner.apply(state, step) {
            None => self.interner.why_not(state, step),
            Some(_) => "it could, but every order that places it there fails later".to_string(),
        };
        format!("No order of these operations is legal: {e} must take effect before it returns, {after}; {why}.")
    }

    fn gave_up(&self, what: &str) -> Verdict {
        let message = match what {
            "states" => format!(
                "gave up after {} steps: more than {} configurations to remember (the state budget)",
                self.steps, self.budget.max_states
            ),
            _ => format!("gave up after {} steps (the step budget)", self.steps),
        };
        Verdict::GaveUp { steps: self.steps, message }
    }
}
