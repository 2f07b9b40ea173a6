//! Test handlers and helpers shared by the job engine tests.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use jiff::SignedDuration;
use tidemark_core::Timestamp;
use tidemark_jobs::{Engine, Job, JobContext, JobHandler, Outcome, RestartPolicy};
use tidemark_store::Store;

pub fn t0() -> Timestamp {
    // Far enough ahead of any real "now" that a fresh clock can be set forward to it.
    "2040-01-01T00:00:00Z".parse().unwrap()
}

pub fn at_hours(h: i64) -> Timestamp {
    t0().checked_add(SignedDuration::from_hours(h)).unwrap()
}

/// An engine on `store` with the clock frozen at [`t0`].
pub fn frozen_engine(store: Arc<dyn Store>) -> Engine {
    let engine = Engine::open(store).unwrap();
    engine.set_frozen(true).unwrap();
    engine.set_time(t0()).unwrap();
    engine
}

/// Every run seen by the recording handlers: `(kind, job id, virtual time)`.
pub type Log = Arc<Mutex<Vec<(String, u64, Timestamp)>>>;

/// Records each run, then reports `outcome`.
pub struct Recorder {
    pub log: Log,
    pub outcome: fn(&Job, Timestamp) -> Outcome,
    pub restart: RestartPolicy,
}

impl Recorder {
    pub fn done(log: &Log) -> Arc<Self> {
        Arc::new(Self {
            log: Arc::clone(log),
            outcome: |_, _| Outcome::Done,
            restart: RestartPolicy::Resume,
        })
    }

    pub fn every_8h(log: &Log) -> Arc<Self> {
        Arc::new(Self {
            log: Arc::clone(log),
            outcome: |_, now| {
                Outcome::Reschedule(now.checked_add(SignedDuration::from_hours(8)).unwrap())
            },
            restart: RestartPolicy::Resume,
        })
    }
}

impl JobHandler for Recorder {
    fn run(&self, job: &Job, ctx: &JobContext<'_>) -> Outcome {
        self.log
            .lock()
            .unwrap()
            .push((job.kind.clone(), job.id.0, ctx.now()));
        (self.outcome)(job, ctx.now())
    }

    fn on_restart(&self, _job: &Job) -> RestartPolicy {
        self.restart
    }
}

pub fn runs(log: &Log) -> Vec<(String, u64, Timestamp)> {
    log.lock().unwrap().clone()
}
