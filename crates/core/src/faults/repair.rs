//! Recovery: keys kept in `R` copies on the members, re-replicated when the
//! detector declares a member failed, and the data at risk meanwhile.
//!
//! * **Placement**: key `k` lives on the first `R` distinct members met
//!   walking clockwise from its hash on the Ring lab's consistent-hash ring
//!   ([`crate::ring::VnodeRing`], [`VNODES`] points a member, xxh3), its
//!   preference list as in Dynamo (§4.3). With virtual nodes a member's
//!   keys share their other copies with many members.
//! * **Declared failed**: by the detector in use, not by the simulator: a
//!   member is declared failed when the first live member declares it dead
//!   (the repair acts on the first verdict it hears, as a membership event
//!   handler does). A false suspicion that ripens into a declaration of
//!   death therefore starts a needless repair, and each copy it makes while
//!   the member is in fact up is counted as needless.
//! * **Repair**: each failed member's keys are rebuilt by one repair stream
//!   of `rate` keys per second, so repairing `K` keys takes `K / rate`:
//!   the `j`-th copy lands `⌈j / rate⌉` seconds (rounded up to the
//!   microsecond) after the declaration. A copy goes from any member
//!   holding the key that is up and not declared failed, to the first
//!   member along the key's preference list that holds no copy and is not
//!   declared failed. A key that already has `R` available copies when its
//!   turn comes is passed over and takes no time. A copy sent to a member
//!   that is down (crashed, not yet declared) is lost and takes its time;
//!   the key waits at the back of the stream. A key with no copy to read
//!   from waits until a member holding it comes back.
//! * **Available copies**: those on members up (not crashed; a paused
//!   member still holds its disk) and not declared failed. A key with fewer
//!   than `R` available copies is **at risk**; with none it is **lost**
//!   (unreachable: it comes back only if a member holding it returns, as
//!   disks survive a crash).
//! * **Rejoin**: a declared member that is up and that no member holds dead
//!   any more rejoins: its stream stops, its copies count again, and for
//!   any key that now has more than `R` available copies the newest copies
//!   (the last made by repair) are dropped, so the data moves back towards
//!   its home placement. The dropped copies are counted.
//!
//! The repair does not send messages through the simulated network: the
//! bandwidth is its whole cost model, so network latency and loss do not
//! change it. It is computed from the members' notes and the faults, so it
//! does not change a run's fingerprint.

use crate::ring::{uniform_nodes, HashKind, Placement, VnodeRing};
use crate::sim::{NodeId, Time, SEC};
use std::collections::VecDeque;
use std::sync::Arc;

/// Ring points per member.
pub const VNODES: u32 = 32;
/// Most keys a scenario may place.
pub const MAX_KEYS: u32 = 100_000;

/// The recovery's parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RepairConfig {
    /// Keys placed (0: no data, no repair).
    pub keys: u32,
    /// Copies of each key, `R`.
    pub copies: u32,
    /// Keys per second one failed member's repair stream copies.
    pub rate: u64,
}

impl RepairConfig {
    /// Whether there is data to keep.
    pub fn active(&self) -> bool {
        self.keys > 0 && self.copies > 0 && self.rate > 0
    }
}

/// One failed member's repair.
#[derive(Clone, Debug)]
struct Stream {
    member: NodeId,
    /// When the member was declared failed.
    declared: Time,
    /// Copies attempted so far (each takes one slot).
    slots: u64,
    /// Keys to rebuild, in order.
    queue: VecDeque<u32>,
    /// Keys with no copy to read from.
    waiting: Vec<u32>,
}

impl Stream {
    fn slot_time(&self, j: u64, rate: u64) -> Time {
        self.declared + (j * SEC).div_ceil(rate)
    }
}

/// One repair, as it ended (for the tests and the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepairRecord {
    /// The member declared failed.
    pub member: NodeId,
    /// When it was declared failed.
    pub declared: Time,
    /// When its repair ended: the last copy landed, or it rejoined.
    pub ended: Time,
    /// Whether it ended by the member rejoining (else: all copies made).
    pub rejoined: bool,
    /// Keys it held when declared.
    pub keys: u32,
    /// Copies made.
    pub copies: u64,
    /// Copies made while the member was up (needless).
    pub needless: u64,
}

/// Keys, their copies, and the repairs in progress.
#[derive(Clone, Debug, Default)]
pub struct Repair {
    cfg: RepairConfig,
    ring: Option<Arc<VnodeRing>>,
    n: u32,
    /// Per key, the members holding a copy, oldest first.
    holders: Vec<Vec<NodeId>>,
    /// Per key, its available copies.
    avail: Vec<u32>,
    /// Per member, the keys it holds.
    held: Vec<Vec<u32>>,
    /// Per member: crashed; declared failed.
    down: Vec<bool>,
    failed: Vec<bool>,
    /// Per member, whether it crashed since it was declared failed.
    crashed_since: Vec<bool>,
    streams: Vec<Stream>,
    /// Per member, the copies its current stream made, and the needless.
    made: Vec<(u64, u64)>,
    /// Keys with fewer than R available copies; with none.
    pub at_risk: u32,
    /// Keys with no available copy.
    pub lost: u32,
    /// The most keys lost at once.
    pub lost_peak: u32,
    /// Copies made by repair.
    pub copies: u64,
    /// Copies made for a member declared failed while it was up.
    pub needless: u64,
    /// Copies lost on the way (sent to a member that was down).
    pub failed_copies: u64,
    /// Surplus copies dropped when a member rejoined.
    pub dropped: u64,
    /// Declarations that started a repair.
    pub declarations: u64,
    /// From a crash to the repair starting, the last one (µs).
    pub detect_last: Option<Time>,
    /// When each member last crashed.
    crashed_at: Vec<Time>,
    /// The repairs that ended, in order.
    pub log: Vec<RepairRecord>,
    /// When keys last became at risk, and the last window with keys at
    /// risk (µs).
    risk_since: Option<Time>,
    /// The last window of data at risk, from a key falling below R to
    /// every key back at R (µs).
    pub risk_last: Option<Time>,
    /// Repair stream time of the last repair that made every copy (µs).
    pub repair_last: Option<Time>,
}

impl Repair {
    /// Places the keys on `n` members.
    pub fn new(cfg: RepairConfig, n: u32) -> Repair {
        if !cfg.active() || n == 0 {
            return Repair::default();
        }
        let ring = VnodeRing::new(&uniform_nodes(n, VNODES), HashKind::Xxh3).expect("a ring of at most 500 members");
        let r = cfg.copies.min(n) as usize;
        let mut held = vec![Vec::new(); n as usize];
        let holders: Vec<Vec<NodeId>> = (0..cfg.keys)
            .map(|k| {
                let list = ring.preference_list(HashKind::Xxh3.hash_u64(u64::from(k)), r);
                for &m in &list {
                    held[m as usize].push(k);
                }
                list
            })
            .collect();
        let avail = holders.iter().map(|h| h.len() as u32).collect();
        let nz = n as usize;
        Repair {
            cfg: RepairConfig { copies: r as u32, ..cfg },
            ring: Some(Arc::new(ring)),
            n,
            holders,
            avail,
            held,
            down: vec![false; nz],
            failed: vec![false; nz],
            crashed_since: vec![false; nz],
            made: vec![(0, 0); nz],
            crashed_at: vec![0; nz],
            ..Repair::default()
        }
    }

    /// Whether there is data to keep.
    pub fn active(&self) -> bool {
        self.ring.is_some()
    }

    /// The members key `k` is placed on at first (its preference list).
    pub fn home(cfg: RepairConfig, n: u32, k: u32) -> Vec<NodeId> {
        let ring = VnodeRing::new(&uniform_nodes(n, VNODES), HashKind::Xxh3).expect("a ring of at most 500 members");
        ring.preference_list(HashKind::Xxh3.hash_u64(u64::from(k)), cfg.copies.min(n) as usize)
    }

    /// Keys member `m` holds now.
    pub fn keys_on(&self, m: NodeId) -> usize {
        self.held.get(m as usize).map_or(0, Vec::len)
    }

    /// The available copies of key `k`.
    pub fn available(&self, k: u32) -> u32 {
        self.avail.get(k as usize).copied().unwrap_or(0)
    }

    /// Whether member `m` is declared failed now.
    pub fn is_failed(&self, m: NodeId) -> bool {
        self.failed.get(m as usize).copied().unwrap_or(false)
    }

    fn counted(&self, m: NodeId) -> bool {
        !self.down[m as usize] && !self.failed[m as usize]
    }

    fn adjust(&mut self, k: u32, up: bool, now: Time) {
        let r = self.cfg.copies;
        let a = &mut self.avail[k as usize];
        let before = *a;
        *a = if up { before + 1 } else { before.saturating_sub(1) };
        let after = *a;
        match (before < r, after < r) {
            (false, true) => self.at_risk += 1,
            (true, false) => self.at_risk -= 1,
            _ => {}
        }
        match (before == 0, after == 0) {
            (false, true) => self.lost += 1,
            (true, false) => self.lost -= 1,
            _ => {}
        }
        self.lost_peak = self.lost_peak.max(self.lost);
        match (self.at_risk > 0, self.risk_since) {
            (true, None) => self.risk_since = Some(now),
            (false, Some(t)) => {
                self.risk_last = Some(now - t.min(now));
                self.risk_since = None;
            }
            _ => {}
        }
    }

    /// Member `m` stops or starts counting: its keys lose or gain a copy.
    fn set_counted(&mut self, m: NodeId, was: bool, now: Time) {
        let is = self.counted(m);
        if was == is {
            return;
        }
        let keys = std::mem::take(&mut self.held[m as usize]);
        for &k in &keys {
            self.adjust(k, is, now);
        }
        self.held[m as usize] = keys;
        if is {
            self.drop_surplus(m, now);
        }
    }

    /// For the keys `m` holds, drops the newest copies beyond R.
    fn drop_surplus(&mut self, m: NodeId, now: Time) {
        let r = self.cfg.copies;
        let keys = self.held[m as usize].clone();
        let mut removed: Vec<(NodeId, u32)> = Vec::new();
        for k in keys {
            while self.avail[k as usize] > r {
                let hs = &self.holders[k as usize];
                let Some(pos) = hs.iter().rposition(|&h| h != m && self.counted(h)) else { break };
                let h = self.holders[k as usize].remove(pos);
                removed.push((h, k));
                self.adjust(k, false, now);
                self.dropped += 1;
            }
        }
        removed.sort_unstable();
        for (h, ks) in removed.chunk_by(|a, b| a.0 == b.0).map(|c| (c[0].0, c)) {
            let gone: Vec<u32> = ks.iter().map(|x| x.1).collect();
            self.held[h as usize].retain(|k| gone.binary_search(k).is_err());
        }
    }

    /// A member crashed.
    pub fn crash(&mut self, m: NodeId, now: Time) {
        self.catch_up(now);
        let was = self.counted(m);
        self.down[m as usize] = true;
        self.crashed_at[m as usize] = now;
        if self.failed[m as usize] {
            self.crashed_since[m as usize] = true;
        }
        self.set_counted(m, was, now);
    }

    /// A crashed member restarted (its disk, and so its copies, kept).
    pub fn restart(&mut self, m: NodeId, now: Time) {
        self.catch_up(now);
        let was = self.counted(m);
        self.down[m as usize] = false;
        self.set_counted(m, was, now);
        self.wake_waiting(now);
    }

    /// The first live member declared `m` dead.
    pub fn declare(&mut self, m: NodeId, now: Time) {
        self.catch_up(now);
        if self.failed[m as usize] {
            return;
        }
        let was = self.counted(m);
        self.failed[m as usize] = true;
        self.crashed_since[m as usize] = self.down[m as usize];
        self.made[m as usize] = (0, 0);
        self.declarations += 1;
        if self.down[m as usize] {
            self.detect_last = Some(now - self.crashed_at[m as usize].min(now));
        }
        self.set_counted(m, was, now);
        let mut queue: Vec<u32> = self.held[m as usize].clone();
        queue.sort_unstable();
        self.streams.push(Stream { member: m, declared: now, slots: 0, queue: queue.into(), waiting: Vec::new() });
        self.finish_empty(now);
    }

    /// Member `m`, declared failed, is up and no member holds it dead:
    /// it rejoins.
    pub fn rejoin(&mut self, m: NodeId, now: Time) {
        self.catch_up(now);
        if !self.failed[m as usize] || self.down[m as usize] {
            return;
        }
        let was = self.counted(m);
        self.failed[m as usize] = false;
        if let Some(i) = self.streams.iter().position(|s| s.member == m) {
            let s = self.streams.remove(i);
            self.end(&s, now, true);
        }
        self.set_counted(m, was, now);
        self.wake_waiting(now);
    }

    /// The members declared failed now.
    pub fn failed_members(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.n).filter(|&m| self.failed[m as usize])
    }

    fn end(&mut self, s: &Stream, now: Time, rejoined: bool) {
        let (copies, needless) = self.made[s.member as usize];
        if !rejoined {
            self.repair_last = Some(now - s.declared);
        }
        self.log.push(RepairRecord {
            member: s.member,
            declared: s.declared,
            ended: now,
            rejoined,
            keys: u32::try_from(self.held[s.member as usize].len()).unwrap_or(u32::MAX),
            copies,
            needless,
        });
        if self.log.len() > 1000 {
            self.log.remove(0);
        }
    }

    /// Streams with nothing left to copy end now (a member with no keys,
    /// or whose keys all still have R copies).
    fn finish_empty(&mut self, now: Time) {
        let r = self.cfg.copies;
        let mut i = 0;
        while i < self.streams.len() {
            let s = &mut self.streams[i];
            while let Some(&k) = s.queue.front() {
                if self.avail[k as usize] >= r {
                    s.queue.pop_front();
                } else {
                    break;
                }
            }
            if s.queue.is_empty() && s.waiting.is_empty() {
                let s = self.streams.remove(i);
                let at = if s.slots == 0 { now } else { s.slot_time(s.slots, self.cfg.rate) };
                self.end(&s, at, false);
            } else {
                i += 1;
            }
        }
    }

    fn wake_waiting(&mut self, now: Time) {
        for s in &mut self.streams {
            let w = std::mem::take(&mut s.waiting);
            s.queue.extend(w);
        }
        self.finish_empty(now);
    }

    /// Makes every copy due at or before `now`, in time order (a copy due
    /// at the same instant as a fault comes first).
    pub fn catch_up(&mut self, now: Time) {
        let rate = self.cfg.rate;
        loop {
            // The stream whose next slot comes first (ties: the earlier
            // declaration, which comes first in the list).
            let next = self
                .streams
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.queue.is_empty())
                .map(|(i, s)| (s.slot_time(s.slots + 1, rate), i))
                .min();
            let Some((at, i)) = next else { break };
            if at > now {
                break;
            }
            self.copy_one(i, at);
            self.finish_empty(at);
        }
    }

    /// The `i`-th stream copies its next key at `at`.
    fn copy_one(&mut self, i: usize, at: Time) {
        let r = self.cfg.copies;
        let Some(k) = self.streams[i].queue.pop_front() else { return };
        if self.avail[k as usize] >= r {
            return;
        }
        let source = self.holders[k as usize].iter().any(|&h| self.counted(h));
        if !source {
            self.streams[i].waiting.push(k);
            return;
        }
        let member = self.streams[i].member;
        self.streams[i].slots += 1;
        let Some(target) = self.target(k) else {
            // Every member already holds it or is declared failed.
            self.streams[i].waiting.push(k);
            return;
        };
        if self.down[target as usize] {
            self.failed_copies += 1;
            self.streams[i].queue.push_back(k);
            return;
        }
        self.holders[k as usize].push(target);
        self.held[target as usize].push(k);
        self.adjust(k, true, at);
        self.copies += 1;
        let made = &mut self.made[member as usize];
        made.0 += 1;
        if !self.down[member as usize] && !self.crashed_since[member as usize] {
            made.1 += 1;
            self.needless += 1;
        }
    }

    /// The first member along key `k`'s preference list that holds no
    /// copy and is not declared failed.
    fn target(&self, k: u32) -> Option<NodeId> {
        let ring = self.ring.as_ref()?;
        let h = HashKind::Xxh3.hash_u64(u64::from(k));
        let hs = &self.holders[k as usize];
        let mut want = (hs.len() + 4).min(self.n as usize);
        loop {
            let list = ring.preference_list(h, want);
            if let Some(&t) = list.iter().find(|&&m| !hs.contains(&m) && !self.failed[m as usize]) {
                return Some(t);
            }
            if want >= self.n as usize {
                return None;
            }
            want = (want * 2).min(self.n as usize);
        }
    }

    /// Copies the running streams still have to make.
    pub fn pending(&self) -> usize {
        self.streams.iter().map(|s| s.queue.len() + s.waiting.len()).sum()
    }

    /// Bytes held (for the memory figure).
    pub fn heap_bytes(&self) -> usize {
        self.holders.iter().map(|h| h.capacity() * 4 + 24).sum::<usize>()
            + self.held.iter().map(|h| h.capacity() * 4 + 24).sum::<usize>()
            + self.avail.capacity() * 4
    }
}
