//! The run's clock.
//!
//! Every reading of time inside a run goes through its clock, so that a run
//! under a virtual clock (tests, replay, `--now`) is deterministic: WAIT then
//! advances virtual time instead of sleeping.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// How a run tells time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClockMode {
    /// The system clock; WAIT really sleeps.
    Real,
    /// Virtual time starting at the given instant; WAIT advances it.
    Virtual(DateTime<Utc>),
}

/// A run's clock.
#[derive(Clone, Debug)]
pub struct RunClock {
    mode: ClockMode,
    elapsed: Duration,
    /// Virtual time's current reading, kept so that reading it costs nothing.
    virtual_now: DateTime<Utc>,
}

impl RunClock {
    /// A clock in `mode`.
    pub fn new(mode: ClockMode) -> RunClock {
        let virtual_now = match mode {
            ClockMode::Virtual(t) => t,
            ClockMode::Real => DateTime::<Utc>::MIN_UTC,
        };
        RunClock { mode, elapsed: Duration::ZERO, virtual_now }
    }

    /// Whether time is virtual.
    pub fn is_virtual(&self) -> bool {
        matches!(self.mode, ClockMode::Virtual(_))
    }

    /// The mode.
    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match self.mode {
            ClockMode::Real => Utc::now(),
            ClockMode::Virtual(_) => self.virtual_now,
        }
    }

    /// Wait `d`: sleep on the real clock, advance virtual time otherwise.
    pub async fn sleep(&mut self, d: Duration) {
        match self.mode {
            ClockMode::Real => tokio::time::sleep(d).await,
            ClockMode::Virtual(start) => {
                self.elapsed = self.elapsed.saturating_add(d);
                let step = chrono::Duration::from_std(self.elapsed).unwrap_or(chrono::Duration::MAX);
                self.virtual_now = start.checked_add_signed(step).unwrap_or(DateTime::<Utc>::MAX_UTC);
            }
        }
    }

    /// A clock for a run started by this one (SPAWN): same mode, starting
    /// at this clock's current reading.
    pub fn child(&self) -> RunClock {
        match self.mode {
            ClockMode::Real => RunClock::new(ClockMode::Real),
            ClockMode::Virtual(_) => RunClock::new(ClockMode::Virtual(self.now())),
        }
    }
}
