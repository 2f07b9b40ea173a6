//! The decode budget: concurrent large requests share a fixed amount of decode memory, so
//! eight 17 MB bodies at once queue instead of exhausting the machine.
//!
//! A request reserves its estimated decode cost ([`super::decode::estimated_cost`]) before
//! its body is parsed and holds it until its response is rendered (the typed input, and
//! the output, live that long). When the budget is spent, a request waits up to
//! [`QUEUE_WAIT`] for others to finish, then is refused with a retryable 503. Requests
//! estimated below [`SMALL`] never wait: they are the small writes the budget protects, and
//! their count is bounded by the connection limit instead.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Permits are 64 KiB each: a 512 MiB budget is 8,192 permits, well inside `u32`.
const UNIT: usize = 64 * 1024;

/// Requests estimated below this decode without reserving anything.
pub const SMALL: usize = 1024 * 1024;

/// How long a large request waits for budget before it is refused.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// The default budget (`tidemark serve --decode-budget-mib`).
pub const DEFAULT_BUDGET_BYTES: usize = 512 * 1024 * 1024;

/// Decode memory shared by every request of one server.
#[derive(Debug)]
pub struct DecodeBudget {
    permits: Arc<Semaphore>,
    units: u32,
    wait: Duration,
}

/// A reservation; dropping it returns the memory to the budget. Small requests hold none.
#[derive(Debug)]
pub struct Reserved(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

impl DecodeBudget {
    /// A budget of `bytes` (at least one unit) whose requests wait up to `wait`.
    pub fn new(bytes: usize, wait: Duration) -> Self {
        let units = u32::try_from((bytes / UNIT).max(1)).unwrap_or(u32::MAX);
        // tokio's semaphore holds at most `usize::MAX >> 3` permits; `u32::MAX` is below it
        // on every 64-bit target.
        let permits = Arc::new(Semaphore::new(units as usize));
        Self {
            permits,
            units,
            wait,
        }
    }

    /// Reserves `cost` bytes, waiting up to the queue time; `None` when the budget stayed
    /// spent that long. A request costing more than the whole budget takes all of it, so it
    /// runs alone rather than never.
    pub async fn reserve(&self, cost: usize) -> Option<Reserved> {
        if cost < SMALL {
            return Some(Reserved(None));
        }
        let units = u32::try_from(cost.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .min(self.units);
        let acquire = Arc::clone(&self.permits).acquire_many_owned(units);
        match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(permit)) => Some(Reserved(Some(permit))),
            // Timed out, or the semaphore was closed (never: nothing closes it).
            Ok(Err(_)) | Err(_) => None,
        }
    }
}

impl Default for DecodeBudget {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET_BYTES, QUEUE_WAIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Over budget, a request queues until memory is returned, and is refused if none is
    /// returned within the wait; small requests never queue.
    #[tokio::test]
    async fn over_budget_requests_queue_then_are_refused() {
        let budget = Arc::new(DecodeBudget::new(8 * SMALL, Duration::from_millis(200)));
        let first = budget.reserve(6 * SMALL).await.expect("fits");
        assert!(budget.reserve(SMALL - 1).await.is_some(), "small: no wait");
        let started = std::time::Instant::now();
        assert!(budget.reserve(4 * SMALL).await.is_none(), "over budget");
        assert!(started.elapsed() >= Duration::from_millis(200), "it queued");

        let waiter = {
            let budget = Arc::clone(&budget);
            tokio::spawn(async move { budget.reserve(4 * SMALL).await.is_some() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(first);
        assert!(waiter.await.unwrap(), "admitted once memory came back");

        let whole = budget.reserve(100 * SMALL).await;
        assert!(whole.is_some(), "larger than the budget: runs alone");
    }
}
