//! A store on disk heals from I/O errors (a full disk, EIO) without a restart: writes are
//! refused while the files cannot be written, no commit is acknowledged that is not durable,
//! and once writes succeed again every acknowledged commit is there, also after reopening.
//! Faults are injected with `RedbStore::open_with_faults` (no root, no small filesystem
//! needed; `crates/tidemark/tests/disk_full.rs` runs the server on a real full tmpfs).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tidemark_store::{DISK_FULL, Faults, IO_ERROR, RedbStore, Store, StoreError};

fn put(store: &RedbStore, key: u64, value: &[u8]) -> Result<(), StoreError> {
    let mut w = store.write()?;
    w.put("t", &key.to_be_bytes(), value)?;
    w.commit()
}

fn get(store: &RedbStore, key: u64) -> Option<Vec<u8>> {
    store
        .read()
        .expect("read snapshot")
        .get("t", &key.to_be_bytes())
        .expect("read")
}

/// Waits (at most 10 s) until the store reports no fault; returns how long that took.
fn wait_healed(store: &RedbStore) -> Duration {
    let start = Instant::now();
    while let Some(reason) = store.fault() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still in a fault 10 s after the disk was freed: {reason}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

/// Checks the fault a write meets while the disk fails with `errno` (whose message is
/// `expected`), and that everything heals once the disk works again.
fn write_fault_heals(errno: i32, expected: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = RedbStore::open_with_faults(tmp.path(), Arc::clone(&faults)).unwrap();
    for i in 0..50 {
        put(&store, i, b"before").unwrap();
    }
    assert_eq!(store.fault(), None);

    faults.fail_writes(Some(errno));
    let err = put(&store, 50, b"during").unwrap_err();
    assert!(err.to_string().contains(expected), "{err}");
    let reason = store.fault().expect("the store reports its fault");
    assert!(reason.contains(expected), "{reason}");
    // Later writes are refused up front, naming the cause, and change nothing.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(30));
        match put(&store, 51, b"refused") {
            Err(StoreError::Unavailable { reason }) => {
                assert!(reason.contains(expected), "{reason}")
            }
            other => panic!("a write during the fault answered {other:?}"),
        }
    }
    // Reads go on: only the log failed, and the recovery leaves redb alone until the disk
    // takes data again.
    assert_eq!(get(&store, 7).as_deref(), Some(&b"before"[..]));
    assert_eq!(get(&store, 51), None, "a refused write changed nothing");

    faults.fail_writes(None);
    wait_healed(&store);
    assert_eq!(
        store.reopens_for_tests(),
        0,
        "healed by a checkpoint of the open database"
    );
    for i in 52..60 {
        put(&store, i, b"after").unwrap();
    }
    drop(store);

    let store = RedbStore::open(tmp.path()).unwrap();
    for i in 0..50 {
        assert_eq!(get(&store, i).as_deref(), Some(&b"before"[..]), "key {i}");
    }
    for i in 52..60 {
        assert_eq!(get(&store, i).as_deref(), Some(&b"after"[..]), "key {i}");
    }
    assert_eq!(get(&store, 51), None);
}

#[test]
fn a_full_disk_heals_without_a_restart() {
    write_fault_heals(DISK_FULL, "No space left on device");
}

#[test]
fn an_io_error_heals_without_a_restart() {
    write_fault_heals(IO_ERROR, "Input/output error");
}

/// A fault inside redb itself (its durable commit fails, after which redb refuses every
/// operation until reopened): the store reopens the database and replays the log, keeping
/// every acknowledged commit; the failed transaction is there whole or not at all.
#[test]
fn a_fault_inside_redb_reopens_it_and_replays_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = RedbStore::open_with_faults(tmp.path(), Arc::clone(&faults)).unwrap();
    for i in 0..20 {
        put(&store, i, b"logged").unwrap();
    }
    faults.fail_writes(Some(DISK_FULL));
    // Too large for the log (over 256 KiB): only redb's durable commit makes it durable.
    let big = vec![7u8; 4096];
    // redb grows its file as the pages are allocated, so a put may already fail.
    let big_write = || -> Result<(), StoreError> {
        let mut w = store.write()?;
        for i in 1000..1200u64 {
            w.put("t", &i.to_be_bytes(), &big)?;
        }
        w.commit()
    };
    let err = big_write().unwrap_err();
    assert!(err.to_string().contains("No space left on device"), "{err}");
    assert!(store.fault().is_some());

    match put(&store, 21, b"refused") {
        Err(StoreError::Unavailable { .. }) => {}
        other => panic!("a write during the fault answered {other:?}"),
    }

    faults.fail_writes(None);
    wait_healed(&store);
    assert_eq!(store.reopens_for_tests(), 1, "healed by reopening redb");
    let whole = (1000..1200).filter(|&i| get(&store, i).is_some()).count();
    assert!(
        whole == 0 || whole == 200,
        "half-applied: {whole} of 200 keys"
    );
    for i in 0..20 {
        assert_eq!(get(&store, i).as_deref(), Some(&b"logged"[..]), "key {i}");
    }
    put(&store, 5000, b"after").unwrap();
    drop(store);

    let store = RedbStore::open(tmp.path()).unwrap();
    for i in 0..20 {
        assert_eq!(get(&store, i).as_deref(), Some(&b"logged"[..]), "key {i}");
    }
    assert_eq!(get(&store, 5000).as_deref(), Some(&b"after"[..]));
    let whole = (1000..1200).filter(|&i| get(&store, i).is_some()).count();
    assert!(
        whole == 0 || whole == 200,
        "half-applied: {whole} of 200 keys"
    );
}

/// Writers on many threads, the disk failing and recovering under them twice (once in the
/// log, once in redb through a checkpoint-sized transaction): every write that was
/// acknowledged is there after reopening, so no waiter of a failed group commit was
/// acknowledged falsely.
#[test]
fn no_false_acknowledgement_under_concurrent_faults() {
    let tmp = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let store = RedbStore::open_with_faults(tmp.path(), Arc::clone(&faults)).unwrap();
    let stop = AtomicBool::new(false);
    let acked: Vec<Vec<u64>> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4u64)
            .map(|t| {
                let (store, stop) = (&store, &stop);
                scope.spawn(move || {
                    let mut acked = Vec::new();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) && i < 100_000 {
                        let key = t << 32 | i;
                        // Every 50th write is too large to log, so faults also hit redb's
                        // durable commit, not only the log.
                        let value = if i % 50 == 49 {
                            vec![1u8; 300 << 10]
                        } else {
                            b"v".to_vec()
                        };
                        if put(store, key, &value).is_ok() {
                            acked.push(key);
                        }
                        i += 1;
                    }
                    acked
                })
            })
            .collect();
        for _ in 0..2 {
            std::thread::sleep(Duration::from_millis(60));
            faults.fail_writes(Some(DISK_FULL));
            std::thread::sleep(Duration::from_millis(60));
            faults.fail_writes(None);
            wait_healed(&store);
        }
        std::thread::sleep(Duration::from_millis(60));
        stop.store(true, Ordering::Relaxed);
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let after_heal = acked.iter().map(Vec::len).sum::<usize>();
    assert!(after_heal > 0);
    drop(store);

    let store = RedbStore::open(tmp.path()).unwrap();
    let r = store.read().unwrap();
    for key in acked.iter().flatten() {
        assert!(
            r.get("t", &key.to_be_bytes()).unwrap().is_some(),
            "acknowledged write {key:#x} was lost"
        );
    }
}
