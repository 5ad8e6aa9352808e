//! Faults a user (or a scenario) injects into servers while a run goes on:
//! a crash (the server answers nothing, and its work in progress and queue
//! are lost), a recovery, a slow-down (a gray failure), a change of normal
//! speed (and so of weight), and a share of requests failed. Each is noted
//! in the log, so it is part of the run's fingerprint.

use super::Balance;

impl Balance {
    /// Applies a change to a server now: `down`, `up`, a speed factor
    /// (percent of its speed), or an error rate.
    pub fn crash(&mut self, server: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        if s.down {
            return Err(format!("S{} is already down", server + 1));
        }
        s.down = true;
        // Work in progress and the queue are lost.
        s.active = 0;
        s.life += 1;
        s.queued.clear();
        self.note(format!("{} S{} crashed", crate::sim::time::format_clock(self.now), server + 1));
        Ok(())
    }

    /// Brings a crashed server back, or clears a slow-down and errors.
    pub fn recover(&mut self, server: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        if !s.down && s.speed == s.base_speed && s.error_ppm == 0 {
            return Err(format!("S{} is up and healthy", server + 1));
        }
        s.down = false;
        s.speed = s.base_speed;
        s.error_ppm = 0;
        self.note(format!("{} S{} recovered", crate::sim::time::format_clock(self.now), server + 1));
        Ok(())
    }

    /// Slows a server to `percent` of its normal speed.
    pub fn slow(&mut self, server: u32, percent: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        s.speed = (u64::from(s.base_speed) * u64::from(percent.max(1)) / 100).max(1) as u32;
        self.note(format!(
            "{} S{} slowed to {percent}% of its speed",
            crate::sim::time::format_clock(self.now),
            server + 1
        ));
        Ok(())
    }

    /// Sets a server's normal speed (and weight) in percent.
    pub fn set_speed(&mut self, server: u32, percent: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        let slowed = s.speed < s.base_speed;
        s.base_speed = percent.max(1);
        if !slowed {
            s.speed = s.base_speed;
        }
        self.note(format!(
            "{} S{} runs at {percent}% speed (weight {percent})",
            crate::sim::time::format_clock(self.now),
            server + 1
        ));
        Ok(())
    }

    /// Makes a server fail a share of its requests (parts per million).
    pub fn errors(&mut self, server: u32, ppm: u32) -> Result<(), String> {
        let s = self.servers.get_mut(server as usize).ok_or("no such server")?;
        s.error_ppm = ppm.min(1_000_000);
        self.note(format!(
            "{} S{} fails {}% of requests",
            crate::sim::time::format_clock(self.now),
            server + 1,
            ppm as f64 / 1e4
        ));
        Ok(())
    }
}
