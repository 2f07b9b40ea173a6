//! Progress of a running store, readable from other threads (Redshift's backup progress).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A snapshot of a store's progress.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Progress {
    /// Logical (uncompressed record-stream) bytes accepted so far.
    pub bytes_done: u64,
    /// The caller's expected total, if given.
    pub expected_bytes: Option<u64>,
    pub elapsed_secs: f64,
    /// Average rate since the start, in bytes per second.
    pub rate_bytes_per_sec: f64,
    /// Seconds left at the current rate; `None` without an expected total or a rate.
    pub estimated_secs_left: Option<f64>,
}

/// Shared counters behind [`Progress`]; clone it to watch a writer from another thread.
#[derive(Clone, Debug)]
pub struct ProgressHandle {
    bytes: Arc<AtomicU64>,
    expected: Option<u64>,
    start: Instant,
}

impl ProgressHandle {
    pub(crate) fn new(expected: Option<u64>) -> Self {
        ProgressHandle {
            bytes: Arc::new(AtomicU64::new(0)),
            expected,
            start: Instant::now(),
        }
    }

    pub(crate) fn add(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> Progress {
        let done = self.bytes.load(Ordering::Relaxed);
        let elapsed = self.start.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            done as f64 / elapsed
        } else {
            0.0
        };
        let left = match self.expected {
            Some(total) if rate > 0.0 => Some(total.saturating_sub(done) as f64 / rate),
            _ => None,
        };
        Progress {
            bytes_done: done,
            expected_bytes: self.expected,
            elapsed_secs: elapsed,
            rate_bytes_per_sec: rate,
            estimated_secs_left: left,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_needs_expected_total() {
        let p = ProgressHandle::new(Some(1000));
        p.add(500);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let g = p.get();
        assert_eq!(g.bytes_done, 500);
        assert!(g.rate_bytes_per_sec > 0.0);
        assert!(g.estimated_secs_left.is_some_and(|s| s > 0.0));
        assert_eq!(ProgressHandle::new(None).get().estimated_secs_left, None);
    }
}
