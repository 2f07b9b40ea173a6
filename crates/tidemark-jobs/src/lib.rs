//! Persisted jobs and the scheduler driven by the virtual clock.
//!
//! # Model
//!
//! A [`Job`] is a unit of background work of some `kind` (a string naming its
//! [`JobHandler`]) with a JSON payload and a due time. Jobs live in the store (tables
//! `jobs`, `jobs_due`, `jobs_finished`, `jobs_meta`; the clock in table `clock`), so they
//! survive restarts:
//!
//! * `Pending` → `Running` is committed **before** the handler runs. After a crash a job
//!   found `Running` was interrupted; [`Engine::recover`] asks its handler's
//!   [`JobHandler::on_restart`] whether to run it again (back to `Pending`, same due time)
//!   or mark it `Failed`. A job is never silently forgotten.
//! * The handler's [`Outcome`] is then committed: `Done`, `Failed(reason)`, or
//!   `Reschedule(t)` (recurring work: back to `Pending`, due at `t`, which must be after the
//!   run's `now`, otherwise the job fails rather than loop forever).
//! * A handler panic is caught and recorded as `Failed`; the engine keeps going.
//! * Finished jobs (`Done`, `Failed`, `Cancelled`) are kept for inspection, the newest
//!   [`DEFAULT_HISTORY_LIMIT`] of them (see [`Engine::set_history_limit`]); older ones are
//!   deleted as new ones finish.
//!
//! # Time
//!
//! All logic reads time from one [`tidemark_core::Clock`]; its state is persisted on every change and
//! reloaded by [`Engine::open`]. [`Engine::advance`] and [`Engine::set_time`] refuse to move
//! backwards (nothing changes); moving forward they run every job that falls due, one at a
//! time in `(due_at, id)` order, stepping the clock to each job's due time before running
//! it, and return only when the clock stands at the target. Change the clock only through
//! the engine: [`Engine::clock`] is for reading `now`.
//!
//! Jobs run one at a time (a run lock), so advancing is deterministic. Handlers may submit
//! jobs (through [`JobContext`] or the engine) but must not advance the clock or run jobs
//! themselves; that is refused with [`JobError::Reentrant`] instead of deadlocking.
//! [`Engine::spawn_background`] runs due jobs on a thread so work submitted "now" completes
//! without anyone advancing the clock (also while the clock is frozen: then only jobs
//! already due run, since frozen time does not move).

mod background;
mod engine;
mod records;

use serde::{Deserialize, Serialize};
use tidemark_core::{ClockError, Timestamp};
use tidemark_store::StoreError;

pub use background::BackgroundHandle;
pub use engine::Engine;

/// How many finished jobs are kept by default.
pub const DEFAULT_HISTORY_LIMIT: u64 = 10_000;

/// A job's id: allocated in increasing order and never reused, until [`Engine::reset`]
/// wipes everything and starts the counter again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job-{}", self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its due time.
    Pending,
    /// Its handler is running (or was, when the process died).
    Running,
    Done,
    Failed,
    /// Cancelled while pending.
    Cancelled,
}

impl JobState {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }
}

/// A persisted job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    /// When it should (next) run.
    pub due_at: Timestamp,
    pub created_at: Timestamp,
    /// How many times its handler was started (recurring jobs count every run).
    pub attempts: u32,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// Why it failed (or the last failure of a recurring job's reschedule).
    pub error: Option<String>,
}

/// What a handler reports after running a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Run again at this time (recurring work, e.g. automated snapshots every 8 hours).
    Reschedule(Timestamp),
    Failed(String),
}

/// What to do with a job found `Running` after a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Run it again from the start (the handler must be idempotent).
    Resume,
    /// Record it as failed.
    MarkFailed,
}

/// What a running handler may use.
pub struct JobContext<'a> {
    engine: &'a Engine,
    now: Timestamp,
}

impl JobContext<'_> {
    /// The virtual time the job runs at (its due time when run by an advance).
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Submits a follow-up job (persisted before this returns). Do not hold a store write
    /// transaction while calling this: the store has one writer at a time.
    pub fn submit(
        &self,
        kind: &str,
        payload: serde_json::Value,
        due_at: Option<Timestamp>,
    ) -> Result<JobId, JobError> {
        self.engine.submit(kind, payload, due_at)
    }

    pub fn engine(&self) -> &Engine {
        self.engine
    }
}

/// The code behind one job kind.
pub trait JobHandler: Send + Sync {
    /// Does the work. Runs with no engine lock held except the run lock, so it may submit
    /// jobs and use the store freely.
    fn run(&self, job: &Job, ctx: &JobContext<'_>) -> Outcome;

    /// For a job that was `Running` when the process stopped: resume or give up.
    fn on_restart(&self, _job: &Job) -> RestartPolicy {
        RestartPolicy::Resume
    }
}

/// Which jobs [`Engine::list`] returns.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub kind: Option<String>,
    pub state: Option<JobState>,
}

/// One job run by an advance or `run_due`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRun {
    pub id: JobId,
    pub kind: String,
    /// The virtual time it ran at.
    pub at: Timestamp,
    /// `Pending` when it was rescheduled.
    pub state: JobState,
}

/// What an advance did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvanceReport {
    pub from: Timestamp,
    pub to: Timestamp,
    pub ran: Vec<JobRun>,
}

/// What [`Engine::recover`] did with jobs interrupted by a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub resumed: Vec<JobId>,
    pub failed: Vec<JobId>,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Clock(#[from] ClockError),
    #[error("stored {what} is unreadable: {detail}")]
    Corrupt { what: String, detail: String },
    #[error("no handler is registered for job kind {0:?}")]
    UnknownKind(String),
    #[error("{0} does not exist")]
    NotFound(JobId),
    #[error("a job handler may not advance the clock or run jobs itself")]
    Reentrant,
}
