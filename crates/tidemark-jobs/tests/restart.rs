//! Persistence across restarts, on a redb data directory: the clock's state, and jobs a
//! killed process left `Running` (resumed or failed per their handler's policy).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::*;
use serde_json::json;
use tidemark_jobs::{
    Engine, Job, JobContext, JobHandler, JobId, JobState, Outcome, RecoveryReport, RestartPolicy,
};
use tidemark_store::RedbStore;

const DIR_VAR: &str = "TIDEMARK_JOBS_CHILD_DIR";
const KIND_VAR: &str = "TIDEMARK_JOBS_CHILD_KIND";

/// Announces it started, then works "forever" (until the parent SIGKILLs the process).
struct Hangs;
impl JobHandler for Hangs {
    fn run(&self, job: &Job, _: &JobContext<'_>) -> Outcome {
        println!("started {}", job.id.0);
        std::thread::sleep(std::time::Duration::from_secs(120));
        Outcome::Done
    }
}

#[test]
#[ignore = "child process for the restart tests; run only by them"]
fn child_runs_a_job_until_killed() {
    let (Ok(dir), Ok(kind)) = (std::env::var(DIR_VAR), std::env::var(KIND_VAR)) else {
        return;
    };
    let engine = frozen_engine(Arc::new(RedbStore::open(dir).unwrap()));
    engine.register(&kind, Arc::new(Hangs));
    engine
        .submit(&kind, json!({"table": "orders"}), Some(at_hours(1)))
        .unwrap();
    engine.advance(2 * 3600).unwrap();
}

/// Runs the child until its job has started, SIGKILLs it, and returns the job's id.
fn crash_while_running(dir: &std::path::Path, kind: &str) -> JobId {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_runs_a_job_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VAR, dir)
        .env(KIND_VAR, kind)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    // libtest prints "test <name> ... " without a newline first, so search within lines.
    let id = stdout.lines().map(Result::unwrap).find_map(|l| {
        l.split_once("started ")
            .map(|(_, n)| n.trim().parse().unwrap())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    JobId(id.expect("the child started its job"))
}

/// Counts runs; restart policy chosen per test.
struct Settles(RestartPolicy, std::sync::Mutex<u32>);
impl JobHandler for Settles {
    fn run(&self, _: &Job, _: &JobContext<'_>) -> Outcome {
        *self.1.lock().unwrap() += 1;
        Outcome::Done
    }
    fn on_restart(&self, _: &Job) -> RestartPolicy {
        self.0
    }
}

#[test]
fn a_job_interrupted_by_a_crash_is_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let id = crash_while_running(tmp.path(), "backup");
    let engine = Engine::open(Arc::new(RedbStore::open(tmp.path()).unwrap())).unwrap();
    let job = engine.get(id).unwrap().unwrap();
    assert_eq!(
        (job.state, job.attempts),
        (JobState::Running, 1),
        "Running was recorded before the work started"
    );
    assert_eq!(
        engine.now(),
        at_hours(1),
        "the clock had stepped to the job's due time"
    );
    let handler = Arc::new(Settles(RestartPolicy::Resume, Default::default()));
    engine.register("backup", handler.clone());
    assert_eq!(
        engine.recover().unwrap(),
        RecoveryReport {
            resumed: vec![id],
            failed: vec![]
        }
    );
    assert_eq!(engine.get(id).unwrap().unwrap().state, JobState::Pending);
    engine.run_due().unwrap();
    let job = engine.get(id).unwrap().unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Done, 2));
    assert_eq!(*handler.1.lock().unwrap(), 1);
    assert_eq!(
        engine.recover().unwrap(),
        RecoveryReport::default(),
        "recovery happens once"
    );
}

#[test]
fn a_job_interrupted_by_a_crash_is_marked_failed_when_its_handler_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let id = crash_while_running(tmp.path(), "restore");
    let engine = Engine::open(Arc::new(RedbStore::open(tmp.path()).unwrap())).unwrap();
    let handler = Arc::new(Settles(RestartPolicy::MarkFailed, Default::default()));
    engine.register("restore", handler.clone());
    // Not calling recover(): running jobs recovers implicitly first.
    engine.advance(3600).unwrap();
    let job = engine.get(id).unwrap().unwrap();
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.error.as_deref(), Some("interrupted by a restart"));
    assert_eq!(*handler.1.lock().unwrap(), 0, "never run again");
}

#[test]
fn a_running_job_without_a_handler_after_restart_is_marked_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let id = crash_while_running(tmp.path(), "retired_kind");
    let engine = Engine::open(Arc::new(RedbStore::open(tmp.path()).unwrap())).unwrap();
    assert_eq!(engine.recover().unwrap().failed, vec![id]);
}

#[test]
fn clock_state_survives_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let engine = frozen_engine(Arc::new(RedbStore::open(tmp.path()).unwrap()));
        engine.advance(5 * 24 * 3600).unwrap();
    }
    {
        let engine = Engine::open(Arc::new(RedbStore::open(tmp.path()).unwrap())).unwrap();
        assert!(engine.clock().is_frozen());
        assert_eq!(engine.now(), at_hours(120));
        engine.set_frozen(false).unwrap();
    }
    let engine = Engine::open(Arc::new(RedbStore::open(tmp.path()).unwrap())).unwrap();
    assert!(!engine.clock().is_frozen(), "running again after reopen");
    let now = engine.now();
    assert!(
        now >= at_hours(120) && now.duration_since(at_hours(120)).as_secs() < 60,
        "{now}"
    );
}
