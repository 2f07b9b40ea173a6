//! The background runner runs due jobs on a running clock without anyone advancing it.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use jiff::SignedDuration;
use serde_json::json;
use tidemark_jobs::{Engine, JobId, JobState};
use tidemark_store::MemStore;

fn wait_done(engine: &Engine, id: JobId, limit: Duration) -> Duration {
    let start = Instant::now();
    while engine.get(id).unwrap().unwrap().state != JobState::Done {
        assert!(start.elapsed() < limit, "job {id} not done after {limit:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

#[test]
fn background_runner_runs_due_jobs_on_a_running_clock() {
    let engine = Arc::new(Engine::open(Arc::new(MemStore::new())).unwrap());
    let log = Log::default();
    engine.register("k", Recorder::done(&log));
    let background = engine.spawn_background().unwrap();

    let now_job = engine.submit("k", json!({}), None).unwrap();
    assert!(wait_done(&engine, now_job, Duration::from_secs(1)) < Duration::from_secs(1));

    let soon = engine
        .now()
        .checked_add(SignedDuration::from_millis(300))
        .unwrap();
    let soon_job = engine.submit("k", json!({}), Some(soon)).unwrap();
    wait_done(&engine, soon_job, Duration::from_millis(1300));
    let ran_at = runs(&log)[1].2;
    assert!(ran_at >= soon, "never before its due time");

    background.shutdown();
    let after = engine.submit("k", json!({}), None).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        engine.get(after).unwrap().unwrap().state,
        JobState::Pending,
        "stopped runners run nothing"
    );
}
