//! Crash safety: a backend killed after the k-th operation of a store or a gc, for every k,
//! leaves a vault that verify accepts and from which every earlier backup reads back.

mod common;

use common::*;
use object_store::ObjectStore;
use std::sync::Arc;
use tidemark_vault::{ManifestId, Vault};

const ACCT: &str = "123456789012";

fn reopen(inner: &Arc<dyn ObjectStore>) -> Vault {
    Vault::open(inner.clone(), small_opts()).unwrap()
}

fn assert_healthy(v: &Vault, live: &[(ManifestId, Vec<Vec<u8>>)], k: u64) {
    let r = v.verify(true).unwrap();
    assert!(r.ok, "k={k}: verify found {:?}", r.problems);
    for (id, recs) in live {
        assert_eq!(
            &v.read_all(ACCT, id).unwrap(),
            recs,
            "k={k}: backup {id} differs"
        );
    }
}

/// Stores `a` and `b`, then makes the backend fail at operation k of `third` (a store of
/// `c`, given `a`'s id), for k = 0, 1, … until `third` succeeds; after each crash the vault
/// must verify, read back every acknowledged backup identically, and gc must leave it so.
fn crash_at_every_operation(
    a: &[Vec<u8>],
    b: &[Vec<u8>],
    c: &[Vec<u8>],
    third: impl Fn(&Vault, ManifestId) -> tidemark_vault::Result<ManifestId>,
) {
    let mut k = 0;
    loop {
        let inner = memory();
        let faulty = FaultStore::new(inner.clone());
        let v = Vault::open(faulty.clone(), small_opts()).unwrap();
        let ida = store(&v, ACCT, a).unwrap();
        let idb = store(&v, ACCT, b).unwrap();
        faulty.kill_in(k);
        let result = third(&v, ida);
        drop(v);
        let v = reopen(&inner);
        let mut live = vec![(ida, a.to_vec()), (idb, b.to_vec())];
        if let Ok(idc) = result {
            live.push((idc, c.to_vec()));
        }
        assert_healthy(&v, &live, k);
        // gc reclaims whatever the crash left and changes nothing readable.
        v.gc().unwrap();
        assert_healthy(&v, &live, k);
        assert!(
            v.verify(false).unwrap().unreferenced_packs.is_empty(),
            "k={k}"
        );
        if result.is_ok() {
            assert!(k > 5, "a store needs several operations");
            break;
        }
        k += 1;
    }
}

#[test]
fn crash_at_every_operation_of_a_store() {
    let (a, b, c) = (records(300, 1), records(300, 2), records(400, 3));
    crash_at_every_operation(&a, &b, &c, |v, _| store(v, ACCT, &c));
}

/// The same for a store with a parent (the parent's reads count as operations too).
#[test]
fn crash_at_every_operation_of_a_delta_store() {
    let (a, b) = (records(300, 1), records(300, 2));
    let mut c = a.clone();
    c[10] = record(10, 9);
    c.insert(200, record(1000, 9));
    crash_at_every_operation(&a, &b, &c, |v, ida| {
        store_delta(v, ACCT, Some(&ida), &c).map(|(id, s)| {
            assert_eq!(s.parent, Some(ida));
            assert!(s.parent_bytes > 0);
            id
        })
    });
}

#[test]
fn crash_at_every_operation_of_a_gc() {
    let (a, b, c) = (records(300, 1), records(300, 2), records(300, 3));
    let mut k = 0;
    loop {
        let inner = memory();
        let faulty = FaultStore::new(inner.clone());
        let v = Vault::open(faulty.clone(), small_opts()).unwrap();
        let ida = store(&v, ACCT, &a).unwrap();
        let idb = store(&v, ACCT, &b).unwrap();
        // c shares half its records with a, so gc must both delete and repack.
        let mixed: Vec<Vec<u8>> = a[..150].iter().chain(&c[150..]).cloned().collect();
        let idc = store(&v, ACCT, &mixed).unwrap();
        v.delete(ACCT, &idb).unwrap();
        v.delete(ACCT, &ida).unwrap();
        faulty.kill_in(k);
        let result = v.gc();
        drop(v);
        let v = reopen(&inner);
        let live = vec![(idc, mixed.clone())];
        assert_healthy(&v, &live, k);
        let again = v.gc().unwrap();
        assert!(again.skipped.is_empty(), "k={k}: {:?}", again.skipped);
        assert_healthy(&v, &live, k);
        assert!(
            v.verify(false).unwrap().unreferenced_packs.is_empty(),
            "k={k}"
        );
        if let Ok(report) = result {
            assert!(
                report.packs_deleted > 0 && report.packs_written > 0,
                "{report:?}"
            );
            break;
        }
        k += 1;
    }
}

#[test]
fn full_disk_fails_the_store_cleanly() {
    let inner = memory();
    let faulty = FaultStore::new(inner.clone());
    let v = Vault::open(faulty.clone(), small_opts()).unwrap();
    let a = records(300, 1);
    let ida = store(&v, ACCT, &a).unwrap();
    let mut w = v.writer(ACCT, serde_json::json!({}), None).unwrap();
    faulty
        .disk_full
        .store(true, std::sync::atomic::Ordering::SeqCst);
    // Packs upload in the background, so the failure surfaces in a later write or in finish.
    let mut failed = None;
    for r in &records(2000, 2) {
        if let Err(e) = w.write_record(r) {
            failed = Some(e);
            break;
        }
    }
    let err = match failed {
        Some(e) => {
            assert!(w.finish().is_err(), "a failed writer stays failed");
            e
        }
        None => w.finish().expect_err("a full disk must fail the store"),
    };
    assert!(err.to_string().contains("put"), "{err}");
    assert!(
        v.writer(ACCT, serde_json::json!({}), None).is_err(),
        "cannot even lock"
    );
    faulty
        .disk_full
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_healthy(&v, &[(ida, a)], 0);
}

/// gc never runs beside a writer: in one process the account is in use, across processes
/// the writer's lock object stops it.
#[test]
fn gc_skips_an_account_with_a_running_writer() {
    let backend = memory();
    let opts = tidemark_vault::VaultOptions {
        lock_stale_after: std::time::Duration::from_secs(3600),
        ..small_opts()
    };
    let v1 = Vault::open(backend.clone(), opts.clone()).unwrap();
    let v2 = Vault::open(backend.clone(), opts).unwrap();
    let old = store(&v1, ACCT, &records(100, 1)).unwrap();
    v1.delete(ACCT, &old).unwrap();
    let mut w = v1.writer(ACCT, serde_json::json!({}), None).unwrap();
    // The writer deduplicates against the deleted backup's chunks, which gc must not remove.
    let recs = records(100, 1);
    recs.iter().for_each(|r| w.write_record(r).unwrap());
    let same = v1.gc().unwrap();
    assert_eq!(same.skipped.len(), 1, "{same:?}");
    let other = v2.gc().unwrap();
    assert_eq!(other.skipped.len(), 1, "{other:?}");
    assert!(other.skipped[0].contains("Shared lock"), "{other:?}");
    let (id, stats) = w.finish().unwrap();
    assert!(stats.reused_bytes > 0);
    assert_eq!(v2.gc().unwrap().skipped.len(), 0);
    assert_eq!(v2.read_all(ACCT, &id).unwrap(), recs);
}

/// A transient error on any single operation of a store is retried away.
#[test]
fn transient_errors_are_retried() {
    let c = records(400, 3);
    for k in 0..40 {
        let faulty = FaultStore::new(memory());
        let opts = tidemark_vault::VaultOptions {
            retries: 1,
            ..small_opts()
        };
        let v = Vault::open(faulty.clone(), opts).unwrap();
        faulty
            .fail_once_at
            .store(faulty.ops() + k, std::sync::atomic::Ordering::SeqCst);
        let id = store(&v, ACCT, &c).unwrap_or_else(|e| panic!("k={k}: {e}"));
        assert_eq!(v.read_all(ACCT, &id).unwrap(), c);
    }
}
