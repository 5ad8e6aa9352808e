//! Consistency checkers over the clients' key-value history, for every
//! cluster lab whose clients read and write values.
//!
//! * **History is linearizable.** The history (one lane per client
//!   process, every command from its invocation to its answer; a command
//!   given up or still outstanding may have taken effect or not) is handed
//!   to [`crate::history::check`], a compare-and-set register per key.
//!   Checking costs more as the history grows, so it runs each time
//!   [`CHECK_EVERY`] more commands have finished, over every command since
//!   the start of the run, within [`CHECK_BUDGET`]: a check that runs out
//!   of budget is counted and said in a sentence, not reported as a
//!   violation, and the next one tries again. A failed check stops the run
//!   with a violation that names the commands that cannot be ordered and
//!   why. The commands after the last check (fewer than [`CHECK_EVERY`])
//!   are not checked yet.
//! * **Session guarantees** (Terry et al., "Session guarantees for weakly
//!   consistent replicated data", 1994), per process and key, from the
//!   versions the servers answer with (every write and successful
//!   compare-and-set makes a key's version one higher): *read your writes*
//!   (a read returns at least the version of the process's last
//!   acknowledged write) and *monotonic reads* (a read never returns an
//!   older version than the process's previous read). Weaker read paths
//!   break them; they are counted, so a run shows which guarantees a
//!   configuration keeps.
//! * **Staleness.** A read is stale if it returned an older version than a
//!   write to its key that had been acknowledged before the read was
//!   invoked (a real-time order a linearizable store never breaks); how
//!   stale is the number of newer versions of its key acknowledged before
//!   it was invoked (writes, not the gap between two version numbers: a
//!   store may number versions by timestamp).

use crate::history::{self, Budget, ClientHistory, ModelKind, Op, Value, Verdict};
use crate::sim::{Answer, Clients, KvOp, KvRecord, Time, Violation};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// A check runs each time this many more commands have finished.
pub const CHECK_EVERY: usize = 200;

/// What one check may spend: enough for the histories of a healthy cluster
/// (a few thousand steps per hundred commands), a few hundred milliseconds
/// at most when a history is hard.
pub const CHECK_BUDGET: Budget = Budget { max_steps: 2_000_000, max_states: 500_000 };

/// The checker's name, as a violation shows it.
pub const LINEARIZABLE: &str = "History is linearizable";

/// A command as the checker reads it: its process is the client, its key
/// a number; a command given up or not answered has no return and an
/// unknown result.
pub fn entry_of(rec: &KvRecord) -> history::Entry {
    let c = rec.command;
    let answer = rec.done.map(|(_, a)| a);
    let val = |v: Option<i64>| v.map_or(Value::Nil, Value::Int);
    let op = match c.op {
        KvOp::Read => Op::Read { value: answer.map(|a| val(a.value)) },
        KvOp::Write(v) => Op::Write { value: Value::Int(v) },
        KvOp::Cas(from, to) => Op::Cas { from: val(from), to: Value::Int(to), ok: answer.map(|a| a.ok) },
    };
    history::Entry {
        client: c.process,
        key: Value::Int(i64::from(c.key)),
        call: rec.invoked,
        ret: rec.done.map(|d| d.0),
        op,
    }
}

/// The clients' key-value history so far, finished commands first (in the
/// order they ended), then the outstanding ones, if the clients send
/// key-value commands.
pub fn client_history(clients: &Clients) -> Option<ClientHistory> {
    clients.config.kv?;
    let mut entries: Vec<history::Entry> = clients.kv_history().map(entry_of).collect();
    entries.extend(
        clients
            .kv_outstanding()
            .map(|(req, command, invoked)| entry_of(&KvRecord { req, command, invoked, done: None })),
    );
    Some(ClientHistory { model: ModelKind::CasRegister, initial: Value::Nil, entries })
}

/// The commands a failed check names, one per line, with their times.
fn describe_ops(entries: &[history::Entry], ops: &[usize]) -> String {
    let clock = crate::sim::time::format_clock;
    let lines: Vec<String> = ops
        .iter()
        .filter_map(|&i| entries.get(i))
        .map(|e| {
            let ret = e.ret.map_or("never answered".to_string(), clock);
            format!("process {} key {} {} ({} to {ret})", e.client, e.key, e.op, clock(e.call))
        })
        .collect();
    lines.join("; ")
}

/// Checks a whole history: a violation's sentence if it is not
/// linearizable, the checker's sentence if it gave up.
pub fn check_history(h: &ClientHistory, budget: &Budget) -> Result<CheckOutcome, String> {
    match history::check(h.model, &h.initial, &h.entries, budget) {
        Ok(Verdict::Linearizable { .. }) => Ok(CheckOutcome::Linearizable),
        Ok(Verdict::NotLinearizable { ops, reason, .. }) => Err(format!(
            "no order of these {} commands explains what they answered: {}. {reason}",
            ops.len(),
            describe_ops(&h.entries, &ops)
        )),
        Ok(Verdict::GaveUp { message, .. }) => Ok(CheckOutcome::GaveUp(message)),
        Err(e) => Ok(CheckOutcome::GaveUp(e)),
    }
}

/// A check that found no violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The history is linearizable.
    Linearizable,
    /// The budget ran out: the sentence says which.
    GaveUp(String),
}

/// A session guarantee (Terry et al. 1994).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarantee {
    /// A read sees the process's own earlier writes.
    ReadYourWrites,
    /// A read sees nothing older than the process's earlier reads.
    MonotonicReads,
}

impl Guarantee {
    /// Its name as people know it.
    pub fn name(self) -> &'static str {
        match self {
            Guarantee::ReadYourWrites => "Read your writes",
            Guarantee::MonotonicReads => "Monotonic reads",
        }
    }
}

/// Per process and key: the version of its last acknowledged write and of
/// its last read.
#[derive(Clone, Debug, Default)]
pub struct Sessions {
    seen: BTreeMap<(u64, u32), (u64, u64)>,
}

impl Sessions {
    /// Takes one finished command (in the order commands ended; a
    /// process's commands end in the order it made them) and says which
    /// guarantee it breaks, if any, in a sentence.
    pub fn observe(&mut self, rec: &KvRecord) -> Option<(Guarantee, String)> {
        let (at, a) = rec.done?;
        let c = rec.command;
        let (wrote, read) = self.seen.entry((c.process, c.key)).or_default();
        let clock = crate::sim::time::format_clock;
        match c.op {
            KvOp::Read => {
                let broke = if a.version < *wrote {
                    Some((
                        Guarantee::ReadYourWrites,
                        format!(
                            "process {} read key {} at {} and got version {}, older than its own write (version {wrote})",
                            c.process,
                            c.key,
                            clock(at),
                            a.version
                        ),
                    ))
                } else if a.version < *read {
                    Some((
                        Guarantee::MonotonicReads,
                        format!(
                            "process {} read key {} at {} and got version {}, older than it had read before (version {read})",
                            c.process,
                            c.key,
                            clock(at),
                            a.version
                        ),
                    ))
                } else {
                    None
                };
                *read = (*read).max(a.version);
                broke
            }
            _ => {
                if a.ok {
                    *wrote = (*wrote).max(a.version);
                }
                None
            }
        }
    }
}

/// Versions acknowledged per key: (when, highest version acknowledged by
/// then), in the order acknowledged.
#[derive(Clone, Debug, Default)]
struct Acked {
    keys: Vec<Vec<(Time, u64)>>,
}

impl Acked {
    fn push(&mut self, at: Time, a: &Answer) {
        let k = a.key as usize;
        if self.keys.len() <= k {
            self.keys.resize(k + 1, Vec::new());
        }
        let list = &mut self.keys[k];
        let best = list.last().map_or(0, |l| l.1).max(a.version);
        list.push((at, best));
    }

    /// How many newer versions than `version` of `key` were acknowledged
    /// strictly before `t`: the distinct versions, so that a store whose
    /// versions are not consecutive (timestamps) counts writes, not the
    /// gap between two numbers.
    fn newer(&self, key: u32, version: u64, t: Time) -> u64 {
        let Some(list) = self.keys.get(key as usize) else { return 0 };
        let n = list.partition_point(|&(at, _)| at < t);
        // The running highest version only grows: the newer ones are a
        // suffix of the first `n`.
        let from = list[..n].partition_point(|&(_, v)| v <= version);
        let mut last = None;
        list[from..n].iter().filter(|&&(_, v)| last.replace(v) != Some(v)).count() as u64
    }

    /// The highest version of `key` acknowledged strictly before `t`.
    fn before(&self, key: u32, t: Time) -> u64 {
        let Some(list) = self.keys.get(key as usize) else { return 0 };
        let n = list.partition_point(|&(at, _)| at < t);
        if n == 0 {
            0
        } else {
            list[n - 1].1
        }
    }
}

/// The consistency checkers and read figures of one run.
#[derive(Clone)]
pub struct Consistency {
    /// Whether the linearizability checker runs.
    pub check: bool,
    checked_at: usize,
    /// Commands covered by the last check that passed.
    pub checked: usize,
    /// Checks that ran out of budget.
    pub gave_up: u64,
    /// The last such check's sentence.
    pub gave_up_message: Option<String>,
    cursor: usize,
    sessions: Sessions,
    /// Reads that broke read-your-writes.
    pub ryw_broken: u64,
    /// Reads that broke monotonic reads.
    pub monotonic_broken: u64,
    /// The first session guarantee broken, in a sentence.
    pub first_broken: Option<String>,
    acked: Acked,
    reads: Histogram<u64>,
    /// Stale reads (see the module's doc).
    pub stale_reads: u64,
    /// Most acknowledged versions a read was behind (the newer versions
    /// of its key acknowledged before it was invoked).
    pub stale_most: u64,
    /// Reads answered.
    pub reads_done: u64,
}

impl Default for Consistency {
    fn default() -> Self {
        Consistency {
            check: true,
            checked_at: 0,
            checked: 0,
            gave_up: 0,
            gave_up_message: None,
            cursor: 0,
            sessions: Sessions::default(),
            ryw_broken: 0,
            monotonic_broken: 0,
            first_broken: None,
            acked: Acked::default(),
            reads: Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are valid")),
            stale_reads: 0,
            stale_most: 0,
            reads_done: 0,
        }
    }
}

impl Consistency {
    /// Checkers for a run; `check`: whether the linearizability checker
    /// runs.
    pub fn new(check: bool) -> Consistency {
        Consistency { check, ..Consistency::default() }
    }

    /// Takes the commands that finished since the last call: session
    /// guarantees, staleness, read latency; and runs the linearizability
    /// check when its turn comes. A violation stops the run.
    pub fn observe(&mut self, clients: &Clients, now: Time) -> Option<Violation> {
        let finished = clients.kv_finished();
        if finished == self.cursor {
            return None;
        }
        for rec in clients.kv_since(self.cursor) {
            self.take(rec);
        }
        self.cursor = finished;
        if !self.check || finished < self.checked_at + CHECK_EVERY {
            return None;
        }
        self.run_check(clients, now)
    }

    /// Runs the linearizability check on the whole history now.
    pub fn run_check(&mut self, clients: &Clients, now: Time) -> Option<Violation> {
        self.checked_at = clients.kv_finished();
        let h = client_history(clients)?;
        self.settle(check_history(&h, &CHECK_BUDGET), h.entries.len(), now)
    }

    /// Keeps what a check of `commands` commands found: how far the
    /// history is known good, a check that gave up (counted, and said in
    /// a sentence), or the violation.
    fn settle(&mut self, outcome: Result<CheckOutcome, String>, commands: usize, now: Time) -> Option<Violation> {
        match outcome {
            Ok(CheckOutcome::Linearizable) => {
                self.checked = commands;
                None
            }
            Ok(CheckOutcome::GaveUp(message)) => {
                self.gave_up += 1;
                self.gave_up_message =
                    Some(format!("The history check of {commands} commands {message}; the next check tries again"));
                None
            }
            Err(message) => Some(Violation { invariant: LINEARIZABLE, at: now, message }),
        }
    }

    fn take(&mut self, rec: &KvRecord) {
        let Some((at, a)) = rec.done else { return };
        if let Some((g, sentence)) = self.sessions.observe(rec) {
            match g {
                Guarantee::ReadYourWrites => self.ryw_broken += 1,
                Guarantee::MonotonicReads => self.monotonic_broken += 1,
            }
            self.first_broken.get_or_insert(format!("{}: {sentence}", g.name()));
        }
        match rec.command.op {
            KvOp::Read => {
                self.reads_done += 1;
                let _ = self.reads.record(at.saturating_sub(rec.invoked));
                let latest = self.acked.before(a.key, rec.invoked);
                if a.version < latest {
                    self.stale_reads += 1;
                    self.stale_most = self.stale_most.max(self.acked.newer(a.key, a.version, rec.invoked));
                }
            }
            _ if a.ok => self.acked.push(at, &a),
            _ => {}
        }
    }

    /// The `q`-quantile (0..=1) of read latency, if any read was answered.
    pub fn read_latency(&self, q: f64) -> Option<Time> {
        (!self.reads.is_empty()).then(|| self.reads.value_at_quantile(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acked(writes: &[(Time, u64)]) -> Acked {
        let mut a = Acked::default();
        for &(at, version) in writes {
            a.push(at, &Answer { key: 0, value: Some(1), version, ok: true });
        }
        a
    }

    fn rec(process: u64, op: KvOp, invoked: Time, done: Time, version: u64) -> KvRecord {
        let command = crate::sim::Command { process, key: 0, op };
        KvRecord { req: 0, command, invoked, done: Some((done, Answer { key: 0, value: Some(1), version, ok: true })) }
    }

    // A check that runs out of its budget is not a violation: it is
    // counted ("History checks that gave up", which the cluster labs
    // show) and said in a sentence that the narration shows when the
    // count grows (`check_history` in lab/cluster.rs); a later check that
    // passes moves how far the history is known good. Two checks give up,
    // then one of 40 commands passes, then one fails.
    #[test]
    fn each_check_that_gives_up_is_counted_and_said() {
        let mut k = Consistency::new(true);
        let gave_up = |steps: u32| Ok(CheckOutcome::GaveUp(format!("gave up after {steps} steps")));
        assert_eq!(k.settle(gave_up(2_000_001), 30, 1_000), None);
        assert_eq!(k.settle(gave_up(2_000_002), 35, 2_000), None);
        assert_eq!(k.gave_up, 2, "two checks gave up");
        assert_eq!(
            k.gave_up_message.as_deref(),
            Some("The history check of 35 commands gave up after 2000002 steps; the next check tries again")
        );
        assert_eq!(k.checked, 0, "no check has passed");
        assert_eq!(k.settle(Ok(CheckOutcome::Linearizable), 40, 3_000), None);
        assert_eq!((k.checked, k.gave_up), (40, 2));
        let v = k.settle(Err("no order explains".into()), 45, 4_000).expect("a violation");
        assert_eq!((v.invariant, v.at, v.message.as_str()), (LINEARIZABLE, 4_000, "no order explains"));
    }

    // Read your writes (Terry et al. 1994, and the module's doc): a read
    // returns at least the version of the process's last acknowledged
    // write. Process 1 wrote version 5: a read of version 3 breaks it, a
    // read of version 5 (its own write) does not; another process's read
    // of version 3 is not held to process 1's write.
    #[test]
    fn a_read_older_than_the_processs_own_write_breaks_read_your_writes() {
        let mut s = Sessions::default();
        assert_eq!(s.observe(&rec(1, KvOp::Write(7), 0, 10, 5)), None);
        let own = s.observe(&rec(1, KvOp::Read, 20, 30, 5));
        assert_eq!(own, None, "its own write's version");
        let (g, sentence) = s.observe(&rec(1, KvOp::Read, 40, 50, 3)).expect("version 3 is older than its write");
        assert_eq!(g, Guarantee::ReadYourWrites, "{sentence}");
        assert!(sentence.ends_with("got version 3, older than its own write (version 5)"), "{sentence}");
        assert_eq!(s.observe(&rec(2, KvOp::Read, 40, 50, 3)), None, "process 2 wrote nothing");
    }

    // The figures the cluster labs show (`metrics` in lab/cluster.rs):
    // reads answered, and the read latency's quantiles, none before the
    // first read answers (the page shows "no value" then, not 0). Two
    // reads of 100 and 300 µs and a write of 50 µs: two reads, the
    // fastest 100 µs, the slowest 300.
    #[test]
    fn reads_answered_and_their_latency_count_reads_only() {
        let mut k = Consistency::new(false);
        assert_eq!(k.read_latency(0.5), None, "no read answered yet");
        k.take(&rec(1, KvOp::Read, 1_000, 1_100, 0));
        k.take(&rec(1, KvOp::Write(7), 2_000, 2_050, 1));
        k.take(&rec(2, KvOp::Read, 3_000, 3_300, 1));
        assert_eq!(k.reads_done, 2);
        assert_eq!(k.read_latency(0.0), Some(100));
        assert_eq!(k.read_latency(1.0), Some(300));
    }

    // Staleness and the session guarantees, counted (the module's doc):
    // versions 1 and 2 of key 0 are acknowledged at 100 and 200. A read
    // invoked at 300 that returns version 2 is not stale; one that returns
    // version 1 is, one write behind, and process 2 read version 2 before
    // it (monotonic reads broken); process 1's read of version 1 after its
    // own write of 2 is stale and breaks read your writes. A read invoked
    // at 120, before version 2 was acknowledged, may return version 1.
    #[test]
    fn stale_reads_and_broken_guarantees_are_counted() {
        let mut k = Consistency::new(false);
        k.take(&rec(1, KvOp::Write(7), 50, 100, 1));
        k.take(&rec(1, KvOp::Write(8), 150, 200, 2));
        k.take(&rec(2, KvOp::Read, 300, 310, 2));
        assert_eq!(k.stale_reads, 0, "version 2 is the latest acknowledged");
        k.take(&rec(2, KvOp::Read, 320, 330, 1));
        k.take(&rec(1, KvOp::Read, 400, 410, 1));
        k.take(&rec(3, KvOp::Read, 120, 420, 1));
        assert_eq!((k.stale_reads, k.stale_most), (2, 1));
        assert_eq!((k.ryw_broken, k.monotonic_broken), (1, 1));
        let first = k.first_broken.as_deref().unwrap_or_default();
        assert!(first.starts_with("Monotonic reads: process 2 read key 0"), "{first}");
    }

    // The linearizability check runs each time `CHECK_EVERY` more
    // commands have finished (the module's doc): not after 199, but as
    // soon as the 200th finishes, over all 200.
    #[test]
    fn the_history_check_runs_when_check_every_commands_have_finished() {
        use crate::sim::{ClientConfig, Clients, KvConfig, Reply, Rng, StreamKind};
        let kv = KvConfig { keys: 2, read_ppm: 1_000_000, cas_ppm: 0, reads_anywhere: false, writes_anywhere: false };
        let config = ClientConfig { kv: Some(kv), ..ClientConfig::default() };
        let mut clients = Clients::new(config, 3, Rng::stream(7, StreamKind::Workload, 0));
        let mut k = Consistency::new(true);
        for i in 0..CHECK_EVERY as u64 {
            let (req, _) = clients.invoke_next(10 * i);
            let key = clients.command(req).expect("a key-value command").key;
            // Every key is never written: every read answers nil.
            let answer = Answer { key, value: None, version: 0, ok: true };
            clients.answered(10 * i + 5, 0, req, Reply::Answer(answer));
            assert_eq!(k.observe(&clients, 10 * i + 5), None, "reads of nil are linearizable");
            let want = if i + 1 < CHECK_EVERY as u64 { 0 } else { CHECK_EVERY };
            assert_eq!(k.checked, want, "after {} commands", i + 1);
        }
    }

    // A store that numbers versions by timestamp (last writer wins, µs
    // stamps): a read of version 1,000 after writes stamped 5,000 and
    // 9,000 were acknowledged is two writes behind, not 8,000 versions.
    // A write acknowledged with an older stamp than one already
    // acknowledged (a drifting clock's, which lost) makes nothing newer.
    #[test]
    fn staleness_counts_newer_writes_not_the_gap_between_stamps() {
        let a = acked(&[(10, 1_000), (20, 5_000), (25, 3_000), (30, 9_000)]);
        assert_eq!(a.newer(0, 1_000, 40), 2);
        assert_eq!(a.newer(0, 0, 40), 3);
        assert_eq!(a.newer(0, 5_000, 40), 1);
        assert_eq!(a.newer(0, 9_000, 40), 0);
        assert_eq!(a.newer(0, 1_000, 30), 1, "only what was acknowledged before the read");
        assert_eq!(a.newer(1, 0, 40), 0, "another key");
        // Consecutive versions (a replicated log's): the count is the gap.
        let b = acked(&[(10, 1), (20, 2), (30, 3)]);
        assert_eq!(b.newer(0, 1, 40), 2);
    }

    // Monotonic reads (Terry et al. 1994): a read returns at least the
    // version the process read before; the same version again is no
    // regression.
    #[test]
    fn reading_the_same_version_again_keeps_monotonic_reads() {
        let mut s = Sessions::default();
        assert_eq!(s.observe(&rec(1, KvOp::Read, 0, 10, 3)), None);
        assert_eq!(s.observe(&rec(1, KvOp::Read, 20, 30, 3)), None, "version 3 again");
        let (g, _) = s.observe(&rec(1, KvOp::Read, 40, 50, 2)).expect("version 2 after 3");
        assert_eq!(g, Guarantee::MonotonicReads);
    }

    // A read is stale when it returns a version older than one
    // acknowledged strictly before the read was invoked (the module's doc;
    // Bailis et al.'s staleness): a write acknowledged at the very instant
    // the read is invoked is concurrent with it, so missing it is not stale.
    #[test]
    fn a_write_acknowledged_as_the_read_is_invoked_does_not_make_it_stale() {
        let a = acked(&[(10, 1), (20, 2)]);
        assert_eq!(a.before(0, 20), 1, "version 2 was acknowledged at 20, not before");
        assert_eq!(a.before(0, 21), 2);
        let mut k = Consistency::new(false);
        k.take(&rec(1, KvOp::Write(7), 0, 10, 1));
        k.take(&rec(1, KvOp::Write(8), 15, 20, 2));
        k.take(&rec(2, KvOp::Read, 20, 30, 1));
        assert_eq!(k.stale_reads, 0, "invoked as version 2 was acknowledged");
        k.take(&rec(2, KvOp::Read, 21, 31, 1));
        assert_eq!(k.stale_reads, 1, "invoked after");
    }

    // Only acknowledged writes count towards staleness: a write (or
    // compare-and-set) answered as failed put no new version in place, so
    // a read of the older version after it is not stale.
    #[test]
    fn a_failed_write_makes_no_read_stale() {
        let mut k = Consistency::new(false);
        k.take(&rec(1, KvOp::Write(7), 0, 10, 1));
        let mut failed = rec(1, KvOp::Write(8), 15, 20, 2);
        if let Some((_, a)) = failed.done.as_mut() {
            a.ok = false;
        }
        k.take(&failed);
        k.take(&rec(2, KvOp::Read, 30, 40, 1));
        assert_eq!(k.stale_reads, 0, "version 2 was never acknowledged");
    }
}
