//! [`Engine`]: submits, stores and runs jobs, and moves the clock.

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

use jiff::SignedDuration;
use tidemark_core::{Clock, ClockError, Timestamp};
use tidemark_store::Store;

use crate::records::{self, load_job, save_job};
use crate::{
    AdvanceReport, DEFAULT_HISTORY_LIMIT, Job, JobContext, JobError, JobFilter, JobHandler, JobId,
    JobRun, JobState, Outcome, RecoveryReport, RestartPolicy,
};

thread_local! {
    /// Set while this thread runs a handler: running jobs or moving the clock from inside
    /// one would deadlock on the run lock, so those calls are refused instead.
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
}

/// Clears [`IN_HANDLER`] however the handler ends.
struct HandlerScope;

impl HandlerScope {
    fn enter() -> Self {
        IN_HANDLER.with(|f| f.set(true));
        HandlerScope
    }
}

impl Drop for HandlerScope {
    fn drop(&mut self) {
        IN_HANDLER.with(|f| f.set(false));
    }
}

fn not_in_handler() -> Result<(), JobError> {
    if IN_HANDLER.with(Cell::get) {
        Err(JobError::Reentrant)
    } else {
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values (a unit, a counter) cannot be left half-updated by a panic.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The job engine: one per store.
pub struct Engine {
    store: Arc<dyn Store>,
    /// Shared with the services; [`Engine::reset`] restores it in place.
    clock: RwLock<Arc<Clock>>,
    handlers: RwLock<HashMap<String, Arc<dyn JobHandler>>>,
    /// Held while jobs run or the clock moves: jobs run one at a time, in order.
    run_lock: Mutex<()>,
    recovered: AtomicBool,
    history_limit: AtomicU64,
    /// Bumped by every submit and clock change, to wake the background runner.
    pub(crate) wake: Mutex<u64>,
    pub(crate) wake_cv: Condvar,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("clock", &self.clock())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the engine on `store`, restoring the persisted clock (default: running, no
    /// offset). Register handlers, then call [`Engine::recover`].
    pub fn open(store: Arc<dyn Store>) -> Result<Self, JobError> {
        let state = records::load_clock(&*store.read()?)?.unwrap_or_default();
        Ok(Self {
            store,
            clock: RwLock::new(Arc::new(Clock::from_state(state))),
            handlers: RwLock::new(HashMap::new()),
            run_lock: Mutex::new(()),
            recovered: AtomicBool::new(false),
            history_limit: AtomicU64::new(DEFAULT_HISTORY_LIMIT),
            wake: Mutex::new(0),
            wake_cv: Condvar::new(),
        })
    }

    /// The clock, for reading `now`. Change it only through the engine, and do not keep
    /// it across [`Engine::reset`], which replaces it.
    pub fn clock(&self) -> Arc<Clock> {
        Arc::clone(&self.clock.read().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn now(&self) -> Timestamp {
        self.clock().now()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn register(&self, kind: &str, handler: Arc<dyn JobHandler>) {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(kind.to_owned(), handler);
    }

    /// How many finished jobs to keep (the oldest are deleted as new ones finish).
    pub fn set_history_limit(&self, limit: u64) {
        self.history_limit.store(limit, Ordering::Relaxed);
    }

    fn handler(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(kind)
            .cloned()
    }

    fn run_lock(&self) -> Result<MutexGuard<'_, ()>, JobError> {
        not_in_handler()?;
        Ok(lock(&self.run_lock))
    }

    pub(crate) fn notify(&self) {
        *lock(&self.wake) += 1;
        self.wake_cv.notify_all();
    }

    /// Settles jobs a previous process left `Running`: each handler's
    /// [`JobHandler::on_restart`] decides (no handler: failed). Only the first call does
    /// anything (and the first after a job's outcome could not be saved, which left it
    /// `Running`); running jobs call it implicitly if it was not called.
    pub fn recover(&self) -> Result<RecoveryReport, JobError> {
        let _run = self.run_lock()?;
        self.recover_locked()
    }

    fn recover_locked(&self) -> Result<RecoveryReport, JobError> {
        let mut report = RecoveryReport::default();
        if self.recovered.load(Ordering::Acquire) {
            return Ok(report);
        }
        let now = self.now();
        let limit = self.history_limit.load(Ordering::Relaxed);
        let mut w = self.store.write()?;
        for prev in records::all_jobs(&*w)?
            .into_iter()
            .filter(|j| j.state == JobState::Running)
        {
            let policy = self
                .handler(&prev.kind)
                .map_or(RestartPolicy::MarkFailed, |h| h.on_restart(&prev));
            let mut job = prev.clone();
            match policy {
                RestartPolicy::Resume => {
                    job.state = JobState::Pending;
                    report.resumed.push(job.id);
                }
                RestartPolicy::MarkFailed => {
                    job.state = JobState::Failed;
                    job.finished_at = Some(now);
                    job.error = Some("interrupted by a restart".to_owned());
                    report.failed.push(job.id);
                }
            }
            save_job(&mut *w, &job, Some(&prev), limit)?;
        }
        w.commit()?;
        self.recovered.store(true, Ordering::Release);
        Ok(report)
    }

    /// Records a job (durably, before returning) due at `due_at`, or now.
    pub fn submit(
        &self,
        kind: &str,
        payload: serde_json::Value,
        due_at: Option<Timestamp>,
    ) -> Result<JobId, JobError> {
        if self.handler(kind).is_none() {
            return Err(JobError::UnknownKind(kind.to_owned()));
        }
        let now = self.now();
        let mut w = self.store.write()?;
        let id = records::allocate_id(&mut *w)?;
        let job = Job {
            id,
            kind: kind.to_owned(),
            payload,
            state: JobState::Pending,
            due_at: due_at.unwrap_or(now),
            created_at: now,
            attempts: 0,
            started_at: None,
            finished_at: None,
            error: None,
        };
        save_job(
            &mut *w,
            &job,
            None,
            self.history_limit.load(Ordering::Relaxed),
        )?;
        w.commit()?;
        self.notify();
        Ok(id)
    }

    /// Cancels a pending job. Returns `false` if it is running or already finished.
    pub fn cancel(&self, id: JobId) -> Result<bool, JobError> {
        let mut w = self.store.write()?;
        let prev = load_job(&*w, id)?.ok_or(JobError::NotFound(id))?;
        if prev.state != JobState::Pending {
            return Ok(false);
        }
        let mut job = prev.clone();
        job.state = JobState::Cancelled;
        job.finished_at = Some(self.now());
        save_job(
            &mut *w,
            &job,
            Some(&prev),
            self.history_limit.load(Ordering::Relaxed),
        )?;
        w.commit()?;
        Ok(true)
    }

    pub fn get(&self, id: JobId) -> Result<Option<Job>, JobError> {
        load_job(&*self.store.read()?, id)
    }

    /// The jobs matching `filter`, by id.
    pub fn list(&self, filter: &JobFilter) -> Result<Vec<Job>, JobError> {
        let jobs = records::all_jobs(&*self.store.read()?)?;
        Ok(jobs
            .into_iter()
            .filter(|j| filter.kind.as_deref().is_none_or(|k| j.kind == k))
            .filter(|j| filter.state.is_none_or(|s| j.state == s))
            .collect())
    }

    /// When the earliest pending job is due.
    pub fn next_due_at(&self) -> Result<Option<Timestamp>, JobError> {
        records::next_due_at(&*self.store.read()?)
    }

    /// Runs every job due at the current time, in `(due_at, id)` order, without moving
    /// the clock.
    pub fn run_due(&self) -> Result<Vec<JobRun>, JobError> {
        let _run = self.run_lock()?;
        self.recover_locked()?;
        let mut ran = Vec::new();
        while let Some(entry) = records::first_due(&*self.store.read()?, self.now())? {
            if let Some(run) = self.run_job_locked(&entry)? {
                ran.push(run);
            }
        }
        Ok(ran)
    }

    /// Moves the clock forward by `seconds`, running every job that falls due on the way.
    pub fn advance(&self, seconds: i64) -> Result<AdvanceReport, JobError> {
        let _run = self.run_lock()?;
        if seconds < 0 {
            return Err(ClockError::NegativeAdvance(seconds).into());
        }
        let from = self.now();
        let target = from
            .checked_add(SignedDuration::from_secs(seconds))
            .map_err(|_| ClockError::OutOfRange)?;
        self.advance_to_locked(from, target)
    }

    /// Moves the clock forward to `t`, running every job that falls due on the way.
    pub fn set_time(&self, t: Timestamp) -> Result<AdvanceReport, JobError> {
        let _run = self.run_lock()?;
        let from = self.now();
        if t < from {
            return Err(ClockError::Backwards {
                requested: t,
                now: from,
            }
            .into());
        }
        self.advance_to_locked(from, t)
    }

    fn advance_to_locked(
        &self,
        from: Timestamp,
        target: Timestamp,
    ) -> Result<AdvanceReport, JobError> {
        self.recover_locked()?;
        let mut ran = Vec::new();
        while let Some(entry) = records::first_due(&*self.store.read()?, target)? {
            if let Some(job) = self.get(entry.id)? {
                self.move_clock_to(job.due_at)?;
            }
            if let Some(run) = self.run_job_locked(&entry)? {
                ran.push(run);
            }
        }
        self.move_clock_to(target)?;
        let mut w = self.store.write()?;
        records::save_clock(&mut *w, &self.clock().state())?;
        w.commit()?;
        self.notify();
        Ok(AdvanceReport {
            from,
            to: self.now(),
            ran,
        })
    }

    /// Moves the clock to `t` if it is not there yet. Not persisted here: the caller
    /// commits the clock state with its next write.
    fn move_clock_to(&self, t: Timestamp) -> Result<(), JobError> {
        let clock = self.clock();
        if t <= clock.now() {
            return Ok(());
        }
        match clock.set(t) {
            // A running clock may pass `t` by itself between the check and the set.
            Ok(()) | Err(ClockError::Backwards { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs one pending job: commits `Running` (and the clock) before the handler starts,
    /// then commits the outcome. Returns `None` if the index entry named no pending job
    /// (it cannot, by the index invariant; the stale entry is removed so loops end).
    fn run_job_locked(&self, entry: &records::DueEntry) -> Result<Option<JobRun>, JobError> {
        let id = entry.id;
        let limit = self.history_limit.load(Ordering::Relaxed);
        let clock = self.clock();
        let now = clock.now();
        let mut w = self.store.write()?;
        let Some(prev) = load_job(&*w, id)?.filter(|j| j.state == JobState::Pending) else {
            tracing::warn!(job = %id, "removing a due-index entry that names no pending job");
            w.delete(records::DUE, &entry.key)?;
            w.commit()?;
            return Ok(None);
        };
        records::save_clock(&mut *w, &clock.state())?;
        let mut job = prev.clone();
        let Some(handler) = self.handler(&job.kind) else {
            job.state = JobState::Failed;
            job.finished_at = Some(now);
            job.error = Some(format!(
                "no handler is registered for job kind {:?}",
                job.kind
            ));
            save_job(&mut *w, &job, Some(&prev), limit)?;
            w.commit()?;
            return Ok(Some(JobRun {
                id,
                kind: job.kind,
                at: now,
                state: JobState::Failed,
            }));
        };
        job.state = JobState::Running;
        job.attempts = job.attempts.saturating_add(1);
        job.started_at = Some(now);
        job.error = None;
        save_job(&mut *w, &job, Some(&prev), limit)?;
        w.commit()?;

        let outcome = {
            let _scope = HandlerScope::enter();
            let ctx = JobContext { engine: self, now };
            catch_unwind(AssertUnwindSafe(|| handler.run(&job, &ctx))).unwrap_or_else(|panic| {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-string panic".to_owned());
                tracing::error!(job = %id, kind = %job.kind, "job handler panicked: {msg}");
                Outcome::Failed(format!("handler panicked: {msg}"))
            })
        };

        let running = job.clone();
        match outcome {
            Outcome::Done => {
                job.state = JobState::Done;
                job.finished_at = Some(clock.now());
            }
            Outcome::Reschedule(t) if t > now => {
                job.state = JobState::Pending;
                job.due_at = t;
            }
            Outcome::Reschedule(t) => {
                job.state = JobState::Failed;
                job.finished_at = Some(clock.now());
                job.error = Some(format!(
                    "rescheduled to {t}, which is not after its run time {now}"
                ));
            }
            Outcome::Failed(reason) => {
                job.state = JobState::Failed;
                job.finished_at = Some(clock.now());
                job.error = Some(reason);
            }
        }
        let saved = self
            .store
            .write()
            .map_err(JobError::from)
            .and_then(|mut w| {
                save_job(&mut *w, &job, Some(&running), limit)?;
                Ok(w.commit()?)
            });
        if let Err(e) = saved {
            // The store refused the outcome (a full disk, say): the job stays `Running` in
            // it with nothing running it. Settle it as a restart would, on the next run once
            // the store takes writes again, so it is resumed or failed, never stuck.
            self.recovered.store(false, Ordering::Release);
            return Err(e);
        }
        Ok(Some(JobRun {
            id,
            kind: job.kind,
            at: now,
            state: job.state,
        }))
    }

    /// Freezes or unfreezes the clock (persisted).
    pub fn set_frozen(&self, frozen: bool) -> Result<(), JobError> {
        let _run = self.run_lock()?;
        let clock = self.clock();
        clock.set_frozen(frozen);
        let mut w = self.store.write()?;
        records::save_clock(&mut *w, &clock.state())?;
        w.commit()?;
        self.notify();
        Ok(())
    }

    /// Deletes every job and the clock state, and puts a fresh running clock (real time)
    /// in place. Other crates' tables are the caller's to wipe.
    pub fn reset(&self) -> Result<(), JobError> {
        let _run = self.run_lock()?;
        let mut w = self.store.write()?;
        for table in records::TABLES {
            w.delete_table(table)?;
        }
        w.commit()?;
        // Restore in place: services hold this same `Arc<Clock>`.
        self.clock().restore(tidemark_core::ClockState::default());
        self.notify();
        Ok(())
    }
}
