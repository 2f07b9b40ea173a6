//! Behaviour only a file-backed store has: persistence across reopen and the format check.

use std::ops::Bound::Unbounded;

use tidemark_store::{FORMAT_VERSION, RedbStore, Store, StoreError};

#[test]
fn data_dir_is_created_and_commits_survive_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested/data");
    {
        let store = RedbStore::open(&dir).unwrap();
        let mut w = store.write().unwrap();
        w.put("t", b"a", b"1").unwrap();
        w.put("t", b"b", b"2").unwrap();
        w.commit().unwrap();
        let mut w = store.write().unwrap();
        w.put("t", b"rolled back", b"x").unwrap();
        drop(w);
    }
    assert!(dir.join("catalog.redb").is_file());
    let store = RedbStore::open(&dir).unwrap();
    let r = store.read().unwrap();
    let all: Vec<_> = r
        .range("t", Unbounded, Unbounded, false)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(
        all,
        vec![
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec())
        ]
    );
}

#[test]
fn a_newer_format_version_is_refused_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = RedbStore::open(tmp.path()).unwrap();
        store
            .force_format_version_for_tests(&(FORMAT_VERSION + 1).to_be_bytes())
            .unwrap();
    }
    let err = RedbStore::open(tmp.path()).unwrap_err();
    match &err {
        StoreError::UnsupportedFormat {
            found, supported, ..
        } => {
            assert_eq!(found, &(FORMAT_VERSION + 1).to_string());
            assert_eq!(*supported, FORMAT_VERSION);
        }
        other => panic!("expected UnsupportedFormat, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("format version 3") && msg.contains("reads versions up to 2"),
        "{msg}"
    );
}

/// A store written before the write-ahead log (format version 1) opens, keeps its data, and
/// is marked version 2 so that older builds, which would ignore the log, refuse it.
#[test]
fn a_version_1_store_is_upgraded_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = RedbStore::open(tmp.path()).unwrap();
        let mut w = store.write().unwrap();
        w.put("t", b"k", b"v").unwrap();
        w.commit().unwrap();
        store
            .force_format_version_for_tests(&1u32.to_be_bytes())
            .unwrap();
    }
    {
        let store = RedbStore::open(tmp.path()).unwrap();
        assert_eq!(
            store.read().unwrap().get("t", b"k").unwrap(),
            Some(b"v".to_vec())
        );
    }
    let db = redb::Database::open(tmp.path().join("catalog.redb")).unwrap();
    let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
    let meta = txn
        .open_table(redb::TableDefinition::<&[u8], &[u8]>::new(
            "__tidemark_meta",
        ))
        .unwrap();
    let version = redb::ReadableTable::get(&meta, b"format_version".as_slice())
        .unwrap()
        .unwrap();
    assert_eq!(version.value(), 2u32.to_be_bytes());
}

#[test]
fn an_unreadable_format_record_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = RedbStore::open(tmp.path()).unwrap();
        store.force_format_version_for_tests(b"garbage!").unwrap();
    }
    assert!(matches!(
        RedbStore::open(tmp.path()),
        Err(StoreError::UnsupportedFormat { .. })
    ));
}

#[test]
fn a_foreign_redb_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let db = redb::Database::create(tmp.path().join("catalog.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<&[u8], &[u8]> =
                redb::TableDefinition::new("someone_else");
            txn.open_table(def)
                .unwrap()
                .insert(b"k".as_slice(), b"v".as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    assert!(matches!(
        RedbStore::open(tmp.path()),
        Err(StoreError::NotATidemarkStore { .. })
    ));
}

#[test]
fn a_store_already_open_cannot_be_opened_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let _first = RedbStore::open(tmp.path()).unwrap();
    let err = RedbStore::open(tmp.path()).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
}

#[test]
fn a_data_dir_that_is_a_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        RedbStore::open(&file),
        Err(StoreError::CreateDir { .. })
    ));
}
