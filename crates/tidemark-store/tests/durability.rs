//! A commit reported by a process survives that process being SIGKILLed right after.
//!
//! The test re-executes its own binary, running the ignored `child_commits_until_killed`
//! entry point, which commits one key per transaction and prints `committed N` after each
//! `commit` returns. The parent kills it (`Child::kill` sends SIGKILL on Unix) mid-stream,
//! reopens the store and checks every reported key is there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tidemark_store::{RedbStore, Store};

const DIR_VAR: &str = "TIDEMARK_DURABILITY_CHILD_DIR";
const GROUP_DIR_VAR: &str = "TIDEMARK_DURABILITY_GROUP_CHILD_DIR";
/// Writer threads of the group-commit child: their commits share fsyncs.
const WRITERS: u64 = 8;

#[test]
#[ignore = "child process for kill9_after_commit_loses_nothing; run only by that test"]
fn child_commits_until_killed() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let store = RedbStore::open(dir).unwrap();
    // Bounded so a parent that dies without killing us cannot leave us running forever.
    for i in 0u64..1_000_000 {
        let mut w = store.write().unwrap();
        w.put("t", &i.to_be_bytes(), format!("value {i}").as_bytes())
            .unwrap();
        w.commit().unwrap();
        println!("committed {i}");
    }
}

#[test]
fn kill9_after_commit_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_commits_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VAR, tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reported = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints "test <name> ... " without a newline first, so search within lines.
        if let Some((_, n)) = line.split_once("committed ") {
            reported.push(n.trim().parse::<u64>().unwrap());
            if reported.len() == 300 {
                break;
            }
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");
    assert_eq!(
        reported.len(),
        300,
        "the child reported 300 commits before the kill"
    );

    let store = RedbStore::open(tmp.path()).unwrap();
    let r = store.read().unwrap();
    for i in reported {
        assert_eq!(
            r.get("t", &i.to_be_bytes()).unwrap(),
            Some(format!("value {i}").into_bytes()),
            "commit {i} was lost"
        );
    }
}

#[test]
#[ignore = "child process for kill9_during_group_commit_loses_nothing; run only by that test"]
fn child_commits_from_many_threads_until_killed() {
    let Ok(dir) = std::env::var(GROUP_DIR_VAR) else {
        return;
    };
    let store = RedbStore::open(dir).unwrap();
    std::thread::scope(|scope| {
        for t in 0..WRITERS {
            let store = &store;
            scope.spawn(move || {
                for i in 0u64..100_000 {
                    let key = t * 1_000_000 + i;
                    let mut w = store.write().unwrap();
                    w.put("t", &key.to_be_bytes(), format!("value {key}").as_bytes())
                        .unwrap();
                    w.commit().unwrap();
                    // One write per line (stdout is locked per call), so lines never interleave.
                    println!("committed {key}");
                }
            });
        }
    });
}

/// Group commit: concurrent writers are acknowledged after a shared fsync; every
/// acknowledged commit from any thread must survive SIGKILL.
#[test]
fn kill9_during_group_commit_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_commits_from_many_threads_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(GROUP_DIR_VAR, tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reported = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some((_, n)) = line.split_once("committed ") {
            reported.push(n.trim().parse::<u64>().unwrap());
            if reported.len() == 1000 {
                break;
            }
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");
    assert_eq!(reported.len(), 1000, "the child reported 1000 commits");
    let threads: std::collections::BTreeSet<u64> = reported.iter().map(|k| k / 1_000_000).collect();
    assert!(
        threads.len() > 1,
        "commits came from several writer threads"
    );

    let store = RedbStore::open(tmp.path()).unwrap();
    let r = store.read().unwrap();
    for k in reported {
        assert_eq!(
            r.get("t", &k.to_be_bytes()).unwrap(),
            Some(format!("value {k}").into_bytes()),
            "commit {k} was lost"
        );
    }
}
