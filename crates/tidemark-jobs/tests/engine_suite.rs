//! The job engine's behaviour, run on both `MemStore` and `RedbStore::in_memory`.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;
use tidemark_core::ClockError;
use tidemark_jobs::{Engine, Job, JobContext, JobError, JobFilter, JobHandler, JobState, Outcome};
use tidemark_store::{MemStore, RedbStore, Store};

fn kinds_and_times(log: &Log) -> Vec<(String, u64, jiff::Timestamp)> {
    runs(log)
}

pub fn jobs_run_in_time_order_across_kinds(store: Arc<dyn Store>) {
    let engine = frozen_engine(store);
    let log = Log::default();
    engine.register("backup", Recorder::done(&log));
    engine.register("expiry", Recorder::done(&log));
    let a = engine
        .submit("backup", json!({"n": "a"}), Some(at_hours(3)))
        .unwrap();
    let b = engine
        .submit("backup", json!({"n": "b"}), Some(at_hours(1)))
        .unwrap();
    let c = engine
        .submit("expiry", json!({"n": "c"}), Some(at_hours(2)))
        .unwrap();
    let d = engine
        .submit("expiry", json!({"n": "d"}), Some(at_hours(1)))
        .unwrap();
    let later = engine
        .submit("backup", json!({}), Some(at_hours(5)))
        .unwrap();

    let report = engine.advance(4 * 3600).unwrap();
    // Same due time: lower id first. Each job sees the clock at its own due time.
    let expected = vec![
        ("backup".to_string(), b.0, at_hours(1)),
        ("expiry".to_string(), d.0, at_hours(1)),
        ("expiry".to_string(), c.0, at_hours(2)),
        ("backup".to_string(), a.0, at_hours(3)),
    ];
    assert_eq!(kinds_and_times(&log), expected);
    assert_eq!(
        report.ran.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![b, d, c, a]
    );
    assert!(report.ran.iter().all(|r| r.state == JobState::Done));
    assert_eq!((report.from, report.to), (t0(), at_hours(4)));
    assert_eq!(engine.now(), at_hours(4));
    assert_eq!(engine.get(later).unwrap().unwrap().state, JobState::Pending);
    assert_eq!(engine.get(a).unwrap().unwrap().attempts, 1);
    assert_eq!(engine.next_due_at().unwrap(), Some(at_hours(5)));
}

pub fn recurring_job_fires_the_expected_number_of_times(store: Arc<dyn Store>) {
    let engine = frozen_engine(store);
    let log = Log::default();
    engine.register("auto_snapshot", Recorder::every_8h(&log));
    let id = engine
        .submit("auto_snapshot", json!({"cluster": "c1"}), None)
        .unwrap();
    // Three days in uneven steps (1 h, then 5 h repeatedly, then the rest).
    engine.advance(3600).unwrap();
    while engine.now() < at_hours(71) {
        engine.advance(5 * 3600).unwrap();
    }
    engine.set_time(at_hours(72)).unwrap();
    let times: Vec<_> = runs(&log).into_iter().map(|(_, _, t)| t).collect();
    // Due at 0, 8, ..., 72 hours: ten runs, each exactly on schedule.
    assert_eq!(times, (0..=9).map(|k| at_hours(8 * k)).collect::<Vec<_>>());
    let job = engine.get(id).unwrap().unwrap();
    assert_eq!(
        (job.state, job.due_at, job.attempts),
        (JobState::Pending, at_hours(80), 10)
    );
}

pub fn moving_backwards_is_refused_and_changes_nothing(store: Arc<dyn Store>) {
    let engine = frozen_engine(Arc::clone(&store));
    let log = Log::default();
    engine.register("k", Recorder::done(&log));
    engine.advance(3600).unwrap();
    let id = engine.submit("k", json!({}), Some(at_hours(2))).unwrap();
    let err = engine.set_time(t0()).unwrap_err();
    assert!(
        matches!(err, JobError::Clock(ClockError::Backwards { requested, now }) if requested == t0() && now == at_hours(1)),
        "{err:?}"
    );
    assert!(err.to_string().contains("only moves forward"), "{err}");
    assert!(matches!(
        engine.advance(-1),
        Err(JobError::Clock(ClockError::NegativeAdvance(-1)))
    ));
    assert_eq!(engine.now(), at_hours(1));
    assert!(runs(&log).is_empty());
    assert_eq!(engine.get(id).unwrap().unwrap().state, JobState::Pending);
    // The persisted clock did not move either.
    let reopened = Engine::open(store).unwrap();
    assert_eq!(reopened.now(), at_hours(1));
}

pub fn a_panicking_handler_fails_its_job_and_the_engine_goes_on(store: Arc<dyn Store>) {
    struct Panics;
    impl JobHandler for Panics {
        fn run(&self, _: &Job, _: &JobContext<'_>) -> Outcome {
            panic!("disk on fire");
        }
    }
    let engine = frozen_engine(store);
    let log = Log::default();
    engine.register("panics", Arc::new(Panics));
    engine.register("ok", Recorder::done(&log));
    let bad = engine.submit("panics", json!({}), None).unwrap();
    let good = engine.submit("ok", json!({}), None).unwrap();
    let ran = engine.run_due().unwrap();
    assert_eq!(ran.len(), 2);
    let bad = engine.get(bad).unwrap().unwrap();
    assert_eq!(bad.state, JobState::Failed);
    assert!(
        bad.error.as_deref().unwrap().contains("disk on fire"),
        "{:?}",
        bad.error
    );
    assert_eq!(engine.get(good).unwrap().unwrap().state, JobState::Done);
}

pub fn handlers_may_submit_but_not_reenter(store: Arc<dyn Store>) {
    struct Chains {
        reentry: Mutex<Option<String>>,
    }
    impl JobHandler for Chains {
        fn run(&self, job: &Job, ctx: &JobContext<'_>) -> Outcome {
            let err = ctx.engine().advance(1).unwrap_err();
            *self.reentry.lock().unwrap() = Some(err.to_string());
            if job.payload["step"] == 1 {
                let due = ctx
                    .now()
                    .checked_add(jiff::SignedDuration::from_mins(30))
                    .unwrap();
                ctx.submit("chain", json!({"step": 2}), Some(due)).unwrap();
            }
            Outcome::Done
        }
    }
    let engine = frozen_engine(store);
    let handler = Arc::new(Chains {
        reentry: Mutex::new(None),
    });
    engine.register("chain", handler.clone());
    engine
        .submit("chain", json!({"step": 1}), Some(at_hours(1)))
        .unwrap();
    let report = engine.advance(2 * 3600).unwrap();
    // The follow-up, due inside the advanced window, ran in the same call.
    assert_eq!(report.ran.len(), 2);
    assert_eq!(
        report.ran[1].at,
        at_hours(1)
            .checked_add(jiff::SignedDuration::from_mins(30))
            .unwrap()
    );
    assert!(
        handler
            .reentry
            .lock()
            .unwrap()
            .as_deref()
            .unwrap()
            .contains("may not advance")
    );
}

pub fn cancelled_jobs_never_run(store: Arc<dyn Store>) {
    let engine = frozen_engine(store);
    let log = Log::default();
    engine.register("k", Recorder::done(&log));
    let id = engine.submit("k", json!({}), Some(at_hours(1))).unwrap();
    assert!(engine.cancel(id).unwrap());
    assert!(!engine.cancel(id).unwrap(), "already cancelled");
    assert!(matches!(
        engine.cancel(tidemark_jobs::JobId(999)),
        Err(JobError::NotFound(_))
    ));
    engine.advance(7200).unwrap();
    assert!(runs(&log).is_empty());
    assert_eq!(engine.get(id).unwrap().unwrap().state, JobState::Cancelled);
    assert!(matches!(
        engine.submit("nope", json!({}), None),
        Err(JobError::UnknownKind(_))
    ));
}

pub fn bad_outcomes_become_failures(store: Arc<dyn Store>) {
    let engine = frozen_engine(store);
    let log = Log::default();
    let fails = Arc::new(Recorder {
        log: Arc::clone(&log),
        outcome: |_, _| Outcome::Failed("table is gone".into()),
        restart: tidemark_jobs::RestartPolicy::Resume,
    });
    // Rescheduling to "now" would loop forever; it fails instead.
    let stuck = Arc::new(Recorder {
        log: Arc::clone(&log),
        outcome: |_, now| Outcome::Reschedule(now),
        restart: tidemark_jobs::RestartPolicy::Resume,
    });
    engine.register("fails", fails);
    engine.register("stuck", stuck);
    let f = engine.submit("fails", json!({}), None).unwrap();
    let s = engine.submit("stuck", json!({}), None).unwrap();
    engine.run_due().unwrap();
    assert_eq!(
        engine.get(f).unwrap().unwrap().error.as_deref(),
        Some("table is gone")
    );
    let s = engine.get(s).unwrap().unwrap();
    assert_eq!(s.state, JobState::Failed);
    assert!(s.error.unwrap().contains("not after its run time"));
    assert_eq!(runs(&log).len(), 2);
}

pub fn history_is_bounded(store: Arc<dyn Store>) {
    let engine = frozen_engine(store);
    let log = Log::default();
    engine.register("k", Recorder::done(&log));
    engine.set_history_limit(5);
    let pending = engine.submit("k", json!({}), Some(at_hours(100))).unwrap();
    let ids: Vec<_> = (0..12)
        .map(|i| engine.submit("k", json!({}), Some(at_hours(i))).unwrap())
        .collect();
    engine.advance(20 * 3600).unwrap();
    let done = engine
        .list(&JobFilter {
            state: Some(JobState::Done),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        done.iter().map(|j| j.id).collect::<Vec<_>>(),
        ids[7..].to_vec(),
        "the newest five are kept"
    );
    assert!(engine.get(ids[0]).unwrap().is_none());
    assert_eq!(
        engine.get(pending).unwrap().unwrap().state,
        JobState::Pending,
        "pending jobs are never pruned"
    );
    assert_eq!(
        engine
            .list(&JobFilter {
                kind: Some("k".into()),
                ..Default::default()
            })
            .unwrap()
            .len(),
        6
    );
}

pub fn reset_wipes_jobs_and_clock(store: Arc<dyn Store>) {
    let engine = frozen_engine(Arc::clone(&store));
    let log = Log::default();
    engine.register("k", Recorder::done(&log));
    engine.submit("k", json!({}), Some(at_hours(1))).unwrap();
    engine.reset().unwrap();
    assert!(engine.list(&JobFilter::default()).unwrap().is_empty());
    assert!(!engine.clock().is_frozen());
    assert!(engine.now() < t0(), "back to real time");
    assert!(
        store.read().unwrap().table_names().unwrap().is_empty(),
        "no job or clock table left"
    );
    let id = engine.submit("k", json!({}), None).unwrap();
    assert_eq!(id.0, 1, "ids start again");
}

macro_rules! suite {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;
            fn store() -> Arc<dyn Store> {
                $make
            }
            #[test]
            fn time_order() {
                jobs_run_in_time_order_across_kinds(store())
            }
            #[test]
            fn recurring() {
                recurring_job_fires_the_expected_number_of_times(store())
            }
            #[test]
            fn backwards() {
                moving_backwards_is_refused_and_changes_nothing(store())
            }
            #[test]
            fn panics() {
                a_panicking_handler_fails_its_job_and_the_engine_goes_on(store())
            }
            #[test]
            fn reentry() {
                handlers_may_submit_but_not_reenter(store())
            }
            #[test]
            fn cancel() {
                cancelled_jobs_never_run(store())
            }
            #[test]
            fn bad_outcomes() {
                bad_outcomes_become_failures(store())
            }
            #[test]
            fn history() {
                history_is_bounded(store())
            }
            #[test]
            fn reset() {
                reset_wipes_jobs_and_clock(store())
            }
        }
    };
}

suite!(mem_store, Arc::new(MemStore::new()));
suite!(redb_in_memory, Arc::new(RedbStore::in_memory().unwrap()));
