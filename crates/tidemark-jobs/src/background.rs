//! The background runner: a thread that runs due jobs as (virtual) time passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::Engine;

/// The longest the runner sleeps before looking again.
const MAX_NAP: Duration = Duration::from_millis(200);

/// Stops (and joins) the background runner when dropped or shut down.
#[derive(Debug)]
pub struct BackgroundHandle {
    engine: Arc<Engine>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundHandle {
    /// Stops the runner after the job it is running, if any, and waits for it.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.engine.notify();
        if let Some(thread) = self.thread.take() {
            // A panic on the runner thread was already reported by the panic hook.
            let _ = thread.join();
        }
    }
}

impl Drop for BackgroundHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl Engine {
    /// Starts a thread that runs due jobs: it wakes on every submit or clock change, at
    /// the next due time, and at least every 200 ms. Frozen time does not move, so then it
    /// only runs jobs submitted as already due.
    pub fn spawn_background(self: &Arc<Self>) -> std::io::Result<BackgroundHandle> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("tidemark-jobs".to_owned())
            .spawn({
                let engine = Arc::clone(self);
                let stop = Arc::clone(&stop);
                move || engine.background_loop(&stop)
            })?;
        Ok(BackgroundHandle {
            engine: Arc::clone(self),
            stop,
            thread: Some(thread),
        })
    }

    fn background_loop(&self, stop: &AtomicBool) {
        while !stop.load(Ordering::Acquire) {
            let seen = *self.wake.lock().unwrap_or_else(|p| p.into_inner());
            let ran = self.run_due();
            if let Err(e) = &ran {
                tracing::warn!("background job run failed (retrying): {e}");
            }
            let nap = match self.next_due_at() {
                Ok(Some(due)) if ran.is_ok() && !self.clock().is_frozen() => {
                    let until = due.duration_since(self.now());
                    Duration::try_from(until)
                        .unwrap_or(Duration::ZERO)
                        .min(MAX_NAP)
                }
                _ => MAX_NAP,
            };
            let guard = self.wake.lock().unwrap_or_else(|p| p.into_inner());
            if *guard == seen && !stop.load(Ordering::Acquire) {
                // Spurious wakeups and timeouts both just lead to another look.
                let _ = self.wake_cv.wait_timeout(guard, nap);
            }
        }
    }
}
