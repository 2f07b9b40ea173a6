//! The virtual clock: the one source of "now" for every schedule, window and expiry.
//!
//! While running, virtual time is the wall clock plus an offset; frozen, it stands still at
//! a fixed instant. Advancing or setting it only ever moves forward. The state
//! ([`ClockState`]) is small and serialisable so the server can persist it and come back
//! at the same virtual time after a restart.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::wall_now;

/// Why a clock change was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClockError {
    #[error("the clock only moves forward: {requested} is before the current time {now}")]
    Backwards {
        requested: Timestamp,
        now: Timestamp,
    },
    #[error("advance_seconds must not be negative (got {0})")]
    NegativeAdvance(i64),
    #[error("the requested time is out of range")]
    OutOfRange,
}

/// The persisted form of the clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    /// Virtual minus wall time, in nanoseconds, while running (±292 years).
    pub offset_ns: i64,
    /// Set while frozen: the instant the clock stands at.
    pub frozen_at: Option<Timestamp>,
}

#[derive(Debug)]
struct Inner {
    state: ClockState,
    /// The last instant handed out, so `now` never goes backwards if the wall clock does.
    last: Timestamp,
}

/// A thread-safe virtual clock.
#[derive(Debug)]
pub struct Clock {
    inner: Mutex<Inner>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::from_state(ClockState::default())
    }
}

impl Clock {
    pub fn from_state(state: ClockState) -> Self {
        let clock = Self {
            inner: Mutex::new(Inner {
                state,
                last: Timestamp::MIN,
            }),
        };
        let _ = clock.now();
        clock
    }

    /// A frozen clock at `at`; the usual start for tests.
    pub fn frozen(at: Timestamp) -> Self {
        Self::from_state(ClockState {
            offset_ns: 0,
            frozen_at: Some(at),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means a panic elsewhere while holding it; the state is two
        // plain values that are always consistent, so keep going.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn compute(state: &ClockState) -> Timestamp {
        match state.frozen_at {
            Some(t) => t,
            None => wall_now()
                .checked_add(SignedDuration::from_nanos(state.offset_ns))
                .unwrap_or(Timestamp::MAX),
        }
    }

    /// The current virtual time. Monotonic.
    pub fn now(&self) -> Timestamp {
        let mut inner = self.lock();
        let t = Self::compute(&inner.state).max(inner.last);
        inner.last = t;
        t
    }

    pub fn is_frozen(&self) -> bool {
        self.lock().state.frozen_at.is_some()
    }

    pub fn state(&self) -> ClockState {
        self.lock().state
    }

    /// Moves the clock to `t`, which must not be before now. Keeps frozen/running as is.
    pub fn set(&self, t: Timestamp) -> Result<(), ClockError> {
        let mut inner = self.lock();
        let now = Self::compute(&inner.state).max(inner.last);
        if t < now {
            return Err(ClockError::Backwards { requested: t, now });
        }
        match inner.state.frozen_at {
            Some(_) => inner.state.frozen_at = Some(t),
            None => {
                let offset = t.duration_since(wall_now());
                inner.state.offset_ns =
                    i64::try_from(offset.as_nanos()).map_err(|_| ClockError::OutOfRange)?;
            }
        }
        inner.last = t;
        Ok(())
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: i64) -> Result<Timestamp, ClockError> {
        if seconds < 0 {
            return Err(ClockError::NegativeAdvance(seconds));
        }
        let target = self
            .now()
            .checked_add(SignedDuration::from_secs(seconds))
            .map_err(|_| ClockError::OutOfRange)?;
        self.set(target)?;
        Ok(target)
    }

    /// Replaces the whole state, backwards included. Only for a full reset of the server
    /// (`POST /_tidemark/reset`); everything else moves the clock forward.
    pub fn restore(&self, state: ClockState) {
        let mut inner = self.lock();
        inner.state = state;
        inner.last = Timestamp::MIN;
    }

    /// Freezes at the current instant, or lets a frozen clock run on from where it stands.
    pub fn set_frozen(&self, frozen: bool) {
        let mut inner = self.lock();
        let now = Self::compute(&inner.state).max(inner.last);
        match (frozen, inner.state.frozen_at) {
            (true, None) => inner.state.frozen_at = Some(now),
            (false, Some(at)) => {
                inner.state.frozen_at = None;
                inner.state.offset_ns =
                    i64::try_from(at.duration_since(wall_now()).as_nanos()).unwrap_or(0);
            }
            _ => {}
        }
        inner.last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().expect("test timestamps are valid")
    }

    #[test]
    fn frozen_clock_stands_still_and_advances() {
        let c = Clock::frozen(t("2026-01-01T00:00:00Z"));
        assert_eq!(c.now(), t("2026-01-01T00:00:00Z"));
        c.advance(3600).unwrap();
        assert_eq!(c.now(), t("2026-01-01T01:00:00Z"));
        assert!(c.is_frozen());
    }

    #[test]
    fn moving_backwards_is_refused_and_changes_nothing() {
        let c = Clock::frozen(t("2026-01-01T00:00:00Z"));
        let err = c.set(t("2025-12-31T23:59:59Z")).unwrap_err();
        assert!(matches!(err, ClockError::Backwards { .. }));
        assert_eq!(c.advance(-1).unwrap_err(), ClockError::NegativeAdvance(-1));
        assert_eq!(c.now(), t("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn running_clock_keeps_its_offset_and_state_round_trips() {
        let c = Clock::default();
        let before = c.now();
        c.advance(86_400 * 36).unwrap();
        let after = c.now();
        assert!(after.duration_since(before).as_secs() >= 86_400 * 36);
        let restored = Clock::from_state(c.state());
        assert!(restored.now() >= after);
        assert!(!restored.is_frozen());
    }

    #[test]
    fn freeze_and_unfreeze_continue_from_the_same_instant() {
        let c = Clock::default();
        c.advance(1000).unwrap();
        c.set_frozen(true);
        let at = c.now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(c.now(), at);
        c.set_frozen(false);
        assert!(c.now() >= at);
        assert!(c.now().duration_since(at).as_secs() < 5);
    }
}
