//! How a balancer finds out that a server is in trouble, and what it does
//! about it. Each balancer sees only its own checks and connections
//! ([`Balancer`]):
//!
//! * **Active health checks**: every `health_interval` a balancer probes
//!   each server; two failed checks in a row mark the server unhealthy, two
//!   passed ones healthy again (Envoy's thresholds, both 2 here).
//! * **Passive outlier ejection**, as Envoy's `consecutive_5xx`: after
//!   `consecutive_errors` failures in a row (errors, rejections and
//!   timeouts) the balancer ejects the server for `base_ejection` times the
//!   number of times it was ejected, unless `max_ejection_pct` of the
//!   servers are ejected already (one always may be).
//!
//! A balancer sends new requests only to servers it believes healthy and
//! has not ejected.

use super::{Balance, Event};
use crate::sim::Time;

/// What one balancer knows of the servers: only its own connections, its
/// own health checks and its own ejections.
#[derive(Clone, Debug)]
pub struct Balancer {
    /// Its attempts without an answer, per server.
    pub outstanding: Vec<u32>,
    /// Peak EWMA of response time per server, microseconds.
    pub ewma: Vec<f64>,
    pub(super) ewma_at: Vec<Time>,
    pub(super) rr_next: u32,
    pub(super) wrr_current: Vec<i64>,
    /// Health as its checks see it.
    pub healthy: Vec<bool>,
    pub(super) hc_streak: Vec<i32>,
    /// Failures in a row per server (passive outlier detection).
    pub consecutive: Vec<u32>,
    /// Ejected until this time (0: not ejected).
    pub ejected_until: Vec<Time>,
    pub(super) times_ejected: Vec<u32>,
    /// Servers its checks call unhealthy, and the end of the latest
    /// ejection: while both say "none", every server is eligible and a pick
    /// needs no list of them.
    pub(super) unhealthy: u32,
    pub(super) ejections_end: Time,
}

impl Balancer {
    pub(super) fn new(n: usize) -> Balancer {
        Balancer {
            outstanding: vec![0; n],
            ewma: vec![0.0; n],
            ewma_at: vec![0; n],
            rr_next: 0,
            wrr_current: vec![0; n],
            healthy: vec![true; n],
            hc_streak: vec![0; n],
            consecutive: vec![0; n],
            ejected_until: vec![0; n],
            times_ejected: vec![0; n],
            unhealthy: 0,
            ejections_end: 0,
        }
    }

    /// Whether every server is eligible at `now`.
    pub fn all_eligible(&self, now: Time) -> bool {
        self.unhealthy == 0 && self.ejections_end <= now
    }

    /// Whether this balancer sends new requests to server `s` at `now`.
    pub fn eligible(&self, s: usize, now: Time) -> bool {
        self.healthy[s] && self.ejected_until[s] <= now
    }
}

impl Balance {
    /// A balancer's active health check of a server is due: the probe's
    /// result comes back after a round trip, and the next check is set.
    pub(super) fn check(&mut self, balancer: u32, server: u32) {
        let s = &self.servers[server as usize];
        // A probe passes if the server is up and does not fail it.
        let fails = s.error_ppm > 0 && self.picks.chance_ppm(s.error_ppm);
        let ok = !s.down && !fails;
        self.schedule(self.now + 2 * self.hop(balancer, server), Event::Checked { balancer, server, ok });
        if self.cfg.health_interval > 0 {
            self.schedule(self.now + self.cfg.health_interval, Event::Check { balancer, server });
        }
    }

    /// A health check's result reaches the balancer.
    pub(super) fn checked(&mut self, balancer: u32, server: u32, ok: bool) {
        // Two checks in a row flip a server's health (Envoy's
        // unhealthy and healthy thresholds default to 2... here both 2).
        let b = &mut self.balancers[balancer as usize];
        let i = server as usize;
        b.hc_streak[i] = if ok { b.hc_streak[i].max(0) + 1 } else { b.hc_streak[i].min(0) - 1 };
        let was = b.healthy[i];
        if b.hc_streak[i] >= 2 {
            b.healthy[i] = true;
        } else if b.hc_streak[i] <= -2 {
            b.healthy[i] = false;
        }
        if was != b.healthy[i] {
            b.unhealthy = if b.healthy[i] { b.unhealthy - 1 } else { b.unhealthy + 1 };
            let state = if b.healthy[i] { "healthy" } else { "unhealthy" };
            self.note(format!(
                "{} balancer {} marks S{} {state}",
                crate::sim::time::format_clock(self.now),
                balancer + 1,
                server + 1
            ));
        }
    }

    /// Passive outlier detection, as Envoy's `consecutive_5xx`: after
    /// `consecutive_errors` failures in a row (errors, rejections and
    /// timeouts) a balancer ejects the server for `base_ejection` times the
    /// number of times it was ejected, unless `max_ejection_pct` of the
    /// servers are ejected already (one always may be).
    pub(super) fn outlier(&mut self, balancer: u32, server: u32, ok: bool) {
        if self.cfg.consecutive_errors == 0 {
            return;
        }
        let now = self.now;
        let n = self.servers.len();
        let cap = (n * self.cfg.max_ejection_pct as usize / 100).max(1);
        let b = &mut self.balancers[balancer as usize];
        let i = server as usize;
        if ok {
            b.consecutive[i] = 0;
            return;
        }
        b.consecutive[i] += 1;
        let ejected = (0..n).filter(|&j| b.ejected_until[j] > now).count();
        if b.consecutive[i] >= self.cfg.consecutive_errors && b.ejected_until[i] <= now && ejected < cap {
            b.times_ejected[i] += 1;
            let until = now + self.cfg.base_ejection.saturating_mul(u64::from(b.times_ejected[i]));
            b.ejected_until[i] = until;
            b.ejections_end = b.ejections_end.max(until);
            b.consecutive[i] = 0;
            let line = format!(
                "{} balancer {} ejects S{} until {}",
                crate::sim::time::format_clock(now),
                balancer + 1,
                server + 1,
                crate::sim::time::format_clock(until)
            );
            self.note(line);
        }
    }
}
