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

/// Starts this test binary's ignored child test `name` with `var` set to `dir`, and yields
/// the N of each `committed N` line it prints (libtest prints "test <name> ... " without a
/// newline first, so the text is searched within lines).
fn spawn_child(
    name: &str,
    var: &str,
    dir: &std::path::Path,
) -> (std::process::Child, impl Iterator<Item = u64>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(var, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let committed = BufReader::new(stdout).lines().filter_map(|line| {
        let line = line.unwrap();
        let (_, n) = line.split_once("committed ")?;
        Some(n.trim().parse::<u64>().unwrap())
    });
    (child, committed)
}

/// SIGKILLs the child (`Child::kill` on Unix) and checks it did not finish on its own.
fn kill(mut child: std::process::Child) {
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");
}

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
    let (child, committed) = spawn_child("child_commits_until_killed", DIR_VAR, tmp.path());
    let reported: Vec<u64> = committed.take(300).collect();
    kill(child);
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
    let (child, committed) = spawn_child(
        "child_commits_from_many_threads_until_killed",
        GROUP_DIR_VAR,
        tmp.path(),
    );
    let reported: Vec<u64> = committed.take(1000).collect();
    kill(child);
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

const MIXED_DIR_VAR: &str = "TIDEMARK_DURABILITY_MIXED_CHILD_DIR";
const MIXED_TABLES: [&str; 3] = ["a", "b", "c"];

/// One change of the mixed workload (table index, key byte, ...).
enum Change {
    Put(usize, u8, Vec<u8>),
    Delete(usize, u8),
    /// Keys from the first byte (included) to the second (excluded).
    DeleteRange(usize, u8, u8),
    DeleteTable(usize),
}

/// The `i`-th change of the mixed workload: every kind the write-ahead log records, now and
/// then a value too large to log (its transaction is made durable by a checkpoint), and
/// values large enough that the log soon reaches its checkpoint size.
fn mixed_change(i: u64) -> Change {
    let r = i
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407)
        >> 33;
    let t = (r % 3) as usize;
    let (k, k2) = (((r >> 2) % 40) as u8, ((r >> 8) % 40) as u8);
    if i % 97 == 96 {
        return Change::Put(t, k, vec![i as u8; 5 << 20]);
    }
    if i % 13 == 12 {
        // Logged, but a few of them fill the log past its checkpoint size.
        return Change::Put(t, k, vec![i as u8; 100 << 10]);
    }
    match (r >> 16) % 20 {
        0 => Change::DeleteTable(t),
        1 | 2 => Change::DeleteRange(t, k.min(k2), k.max(k2)),
        3..=6 => Change::Delete(t, k),
        _ => Change::Put(t, k, format!("value {i}").into_bytes()),
    }
}

/// Each transaction `j` makes changes `2j` and `2j + 1`.
fn mixed_transaction(j: u64) -> [Change; 2] {
    [mixed_change(2 * j), mixed_change(2 * j + 1)]
}

type Model = std::collections::BTreeMap<(usize, u8), Vec<u8>>;

fn apply_to_model(model: &mut Model, change: &Change) {
    match change {
        Change::Put(t, k, v) => {
            model.insert((*t, *k), v.clone());
        }
        Change::Delete(t, k) => {
            model.remove(&(*t, *k));
        }
        Change::DeleteRange(t, lo, hi) => {
            model.retain(|(mt, mk), _| !(mt == t && mk >= lo && mk < hi))
        }
        Change::DeleteTable(t) => model.retain(|(mt, _), _| mt != t),
    }
}

#[test]
#[ignore = "child process for kill9_replays_every_kind_of_change; run only by that test"]
fn child_mixed_changes_until_killed() {
    use std::ops::Bound::{Excluded, Included};
    let Ok(dir) = std::env::var(MIXED_DIR_VAR) else {
        return;
    };
    let store = RedbStore::open(dir).unwrap();
    for j in 0u64..1_000_000 {
        let mut w = store.write().unwrap();
        for change in mixed_transaction(j) {
            match change {
                Change::Put(t, k, v) => w.put(MIXED_TABLES[t], &[k], &v).unwrap(),
                Change::Delete(t, k) => drop(w.delete(MIXED_TABLES[t], &[k]).unwrap()),
                Change::DeleteRange(t, lo, hi) => drop(
                    w.delete_range(MIXED_TABLES[t], Included(&[lo]), Excluded(&[hi]))
                        .unwrap(),
                ),
                Change::DeleteTable(t) => drop(w.delete_table(MIXED_TABLES[t]).unwrap()),
            }
        }
        w.commit().unwrap();
        println!("committed {j}");
    }
}

/// Puts, deletes, range deletes, table deletes and transactions too large to log, killed
/// at a random point: after reopening (which replays the write-ahead log) the store holds
/// exactly the state after some number of transactions, at least every reported one.
#[test]
fn kill9_replays_every_kind_of_change() {
    let tmp = tempfile::tempdir().unwrap();
    let (child, committed) = spawn_child(
        "child_mixed_changes_until_killed",
        MIXED_DIR_VAR,
        tmp.path(),
    );
    let mut reported = 0u64;
    for j in committed.take(400) {
        assert_eq!(j, reported, "transactions are reported in order");
        reported += 1;
    }
    kill(child);
    assert_eq!(reported, 400, "the child reported 400 transactions");

    let store = RedbStore::open(tmp.path()).unwrap();
    let r = store.read().unwrap();
    let mut found = Model::new();
    for (t, name) in MIXED_TABLES.iter().enumerate() {
        for entry in r.scan_prefix(name, b"").unwrap() {
            let (k, v) = entry.unwrap();
            assert_eq!(k.len(), 1);
            found.insert((t, k[0]), v);
        }
    }
    let mut model = Model::new();
    for j in 0..1_000_000u64 {
        if j >= reported && model == found {
            return;
        }
        for change in mixed_transaction(j) {
            apply_to_model(&mut model, &change);
        }
    }
    panic!("the reopened store matches no state after {reported} or more transactions");
}

/// Copies the store's files while it is open, as a crash would leave them (redb's file holds
/// only its last durable commit; the rest is in the write-ahead log).
fn crash_copy(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["catalog.redb", "catalog.wal"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

/// After every acknowledged commit, a copy of the files as they are (a crash at that very
/// moment) opens with that commit in it, whether it was logged, too large to log, dropped
/// from the log tail because a checkpoint was due, or covered by a checkpoint by size.
#[test]
fn every_acknowledged_commit_is_in_a_crash_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let live = tmp.path().join("live");
    let store = RedbStore::open(&live).unwrap();
    let mut model = Model::new();
    for j in 0u64..90 {
        // Small, medium (~100 KiB: a few fill the log) and, every 30th, too large to log.
        let size = match j % 30 {
            29 => 300 << 10,
            n if n % 4 == 3 => 100 << 10,
            _ => 16,
        };
        let change = Change::Put(j as usize % 3, (j % 7) as u8, vec![j as u8; size]);
        let mut w = store.write().unwrap();
        if let Change::Put(t, k, v) = &change {
            w.put(MIXED_TABLES[*t], &[*k], v).unwrap();
        }
        w.commit().unwrap();
        apply_to_model(&mut model, &change);

        let copy = tmp.path().join(format!("crash{j}"));
        crash_copy(&live, &copy);
        let reopened = RedbStore::open(&copy).unwrap();
        let r = reopened.read().unwrap();
        let mut found = Model::new();
        for (t, name) in MIXED_TABLES.iter().enumerate() {
            for entry in r.scan_prefix(name, b"").unwrap() {
                let (k, v) = entry.unwrap();
                found.insert((t, k[0]), v);
            }
        }
        assert!(found == model, "commit {j} is missing after a crash");
        drop(r);
        drop(reopened);
        std::fs::remove_dir_all(&copy).unwrap();
    }
}
