//! Jobs survive a store fault (a full disk): a job whose outcome cannot be saved is not left
//! `Running` for ever; once the store takes writes again, the next run settles it by its
//! handler's restart policy (resumed and run again, or failed), without a restart.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tidemark_jobs::{Job, JobContext, JobHandler, JobState, Outcome, RestartPolicy};
use tidemark_store::{DISK_FULL, Faults, RedbStore, Store};

/// Fills the disk on its first run (as a backup writing to a vault on the same disk would),
/// meets the full disk in the store too, and reports the failure; succeeds on later runs.
struct FillsTheDisk {
    faults: Arc<Faults>,
    store: Arc<RedbStore>,
    runs: AtomicU32,
    restart: RestartPolicy,
}

impl JobHandler for FillsTheDisk {
    fn run(&self, _: &Job, _: &JobContext<'_>) -> Outcome {
        if self.runs.fetch_add(1, Ordering::SeqCst) == 0 {
            self.faults.fail_writes(Some(DISK_FULL));
            // Its own progress write meets the full disk: the store is in a fault before
            // the engine saves the outcome.
            let progress = self.store.write().and_then(|mut w| {
                w.put("progress", b"k", b"v")?;
                w.commit()
            });
            assert!(progress.is_err());
            assert!(self.store.fault().is_some());
            return Outcome::Failed("vault: No space left on device (os error 28)".into());
        }
        Outcome::Done
    }

    fn on_restart(&self, _: &Job) -> RestartPolicy {
        self.restart
    }
}

fn wait_healed(store: &RedbStore) {
    let start = Instant::now();
    while store.fault().is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "store never healed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs one job that fills the disk, frees the disk, runs due jobs again; returns the job's
/// final state and how often the handler ran.
fn settle_after_fault(restart: RestartPolicy) -> (JobState, u32) {
    let tmp = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = Arc::new(RedbStore::open_with_faults(tmp.path(), Arc::clone(&faults)).unwrap());
    let engine = frozen_engine(Arc::clone(&store) as Arc<dyn Store>);
    let handler = Arc::new(FillsTheDisk {
        faults: Arc::clone(&faults),
        store: Arc::clone(&store),
        runs: AtomicU32::new(0),
        restart,
    });
    engine.register("backup", Arc::clone(&handler) as Arc<dyn JobHandler>);
    let id = engine.submit("backup", json!({}), None).unwrap();

    assert!(
        engine.run_due().is_err(),
        "the outcome cannot be saved on a full disk"
    );
    // Meanwhile the scheduler keeps trying, and fails cleanly.
    assert!(engine.run_due().is_err());

    faults.fail_writes(None);
    wait_healed(&store);
    engine.run_due().unwrap();
    let job = engine.get(id).unwrap().expect("the job is kept");
    assert_ne!(job.state, JobState::Running, "stuck: {job:?}");
    (job.state, handler.runs.load(Ordering::SeqCst))
}

#[test]
fn a_job_whose_outcome_could_not_be_saved_resumes_once_the_disk_is_freed() {
    assert_eq!(
        settle_after_fault(RestartPolicy::Resume),
        (JobState::Done, 2)
    );
}

#[test]
fn a_job_whose_outcome_could_not_be_saved_fails_once_the_disk_is_freed() {
    assert_eq!(
        settle_after_fault(RestartPolicy::MarkFailed),
        (JobState::Failed, 1)
    );
}
