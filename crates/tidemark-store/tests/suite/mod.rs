//! The one conformance suite every `Store` implementation must pass (instantiated per
//! implementation by `conformance!` in `tests/conformance.rs`).

use std::ops::Bound::{self, Excluded, Included, Unbounded};
use std::sync::{Arc, mpsc};

use tidemark_store::{Reads, Store, StoreError};

pub fn put(store: &dyn Store, table: &str, pairs: &[(&[u8], &[u8])]) {
    let mut w = store.write().unwrap();
    for (k, v) in pairs {
        w.put(table, k, v).unwrap();
    }
    w.commit().unwrap();
}

fn keys(
    r: &dyn Reads,
    table: &str,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    reverse: bool,
) -> Vec<Vec<u8>> {
    r.range(table, start, end, reverse)
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect()
}

fn v(items: &[&[u8]]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.to_vec()).collect()
}

pub fn get_put_delete(store: Arc<dyn Store>) {
    let r = store.read().unwrap();
    assert_eq!(
        r.get("missing", b"k").unwrap(),
        None,
        "a missing table reads as empty"
    );
    assert_eq!(
        keys(&*r, "missing", Unbounded, Unbounded, false),
        Vec::<Vec<u8>>::new()
    );
    put(&*store, "t", &[(b"k", b"v1"), (b"j", b"x")]);
    put(&*store, "t", &[(b"k", b"v2")]);
    let r = store.read().unwrap();
    assert_eq!(
        r.get("t", b"k").unwrap(),
        Some(b"v2".to_vec()),
        "put replaces"
    );
    assert_eq!(r.get("t", b"nope").unwrap(), None);
    assert_eq!(r.get("other", b"k").unwrap(), None, "tables are separate");
    let mut w = store.write().unwrap();
    assert!(w.delete("t", b"k").unwrap());
    assert!(!w.delete("t", b"k").unwrap(), "second delete finds nothing");
    assert!(!w.delete("never", b"k").unwrap());
    w.commit().unwrap();
    assert_eq!(store.read().unwrap().get("t", b"k").unwrap(), None);
    assert_eq!(
        store.read().unwrap().get("t", b"j").unwrap(),
        Some(b"x".to_vec())
    );
}

pub fn reserved_names_are_refused(store: Arc<dyn Store>) {
    let mut w = store.write().unwrap();
    assert!(matches!(
        w.put("__tidemark_meta", b"k", b"v"),
        Err(StoreError::ReservedTable(_))
    ));
    assert!(matches!(
        w.get("__tidemark_x", b"k"),
        Err(StoreError::ReservedTable(_))
    ));
    drop(w);
    assert!(matches!(
        store
            .read()
            .unwrap()
            .get("__tidemark_meta", b"format_version"),
        Err(StoreError::ReservedTable(_))
    ));
}

pub fn range_bounds_and_reverse(store: Arc<dyn Store>) {
    put(
        &*store,
        "t",
        &[
            (b"", b"empty"),
            (b"a", b"1"),
            (b"b", b"2"),
            (b"b\x00", b"3"),
            (b"c", b"4"),
            (b"d", b"5"),
        ],
    );
    put(&*store, "u", &[(b"b", b"other table")]);
    let r = store.read().unwrap();
    let all = v(&[b"", b"a", b"b", b"b\x00", b"c", b"d"]);
    assert_eq!(keys(&*r, "t", Unbounded, Unbounded, false), all);
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(keys(&*r, "t", Unbounded, Unbounded, true), rev);
    assert_eq!(
        keys(&*r, "t", Included(b"b"), Included(b"c"), false),
        v(&[b"b", b"b\x00", b"c"])
    );
    assert_eq!(
        keys(&*r, "t", Excluded(b"b"), Excluded(b"d"), false),
        v(&[b"b\x00", b"c"])
    );
    assert_eq!(
        keys(&*r, "t", Excluded(b"b"), Excluded(b"d"), true),
        v(&[b"c", b"b\x00"])
    );
    assert_eq!(
        keys(&*r, "t", Unbounded, Excluded(b"b"), true),
        v(&[b"a", b""])
    );
    assert_eq!(
        keys(&*r, "t", Included(b"c"), Unbounded, false),
        v(&[b"c", b"d"])
    );
    // Empty and inverted ranges yield nothing instead of failing.
    assert!(keys(&*r, "t", Excluded(b"b"), Excluded(b"b"), false).is_empty());
    assert!(keys(&*r, "t", Included(b"b"), Excluded(b"b"), false).is_empty());
    assert!(keys(&*r, "t", Included(b"d"), Included(b"a"), true).is_empty());
    assert_eq!(
        keys(&*r, "t", Included(b"b"), Included(b"b"), false),
        v(&[b"b"])
    );
    let pre: Vec<_> = r
        .scan_prefix("t", b"b")
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(
        pre,
        vec![
            (b"b".to_vec(), b"2".to_vec()),
            (b"b\x00".to_vec(), b"3".to_vec())
        ]
    );
    assert_eq!(r.scan_prefix("t", b"").unwrap().count(), 6);
}

pub fn write_txn_reads_its_own_writes_across_pages(store: Arc<dyn Store>) {
    // 1,000 keys: more than one page of the redb write-range pager.
    let mut w = store.write().unwrap();
    for i in 0u32..1000 {
        w.put("t", &i.to_be_bytes(), &i.to_le_bytes()).unwrap();
    }
    assert_eq!(
        w.get("t", &7u32.to_be_bytes()).unwrap(),
        Some(7u32.to_le_bytes().to_vec())
    );
    let fwd: Vec<u32> = w
        .range("t", Unbounded, Unbounded, false)
        .unwrap()
        .map(|e| u32::from_be_bytes(e.unwrap().0.try_into().unwrap()))
        .collect();
    assert_eq!(fwd, (0..1000).collect::<Vec<_>>());
    let rev: Vec<u32> = w
        .range(
            "t",
            Included(&10u32.to_be_bytes()),
            Excluded(&990u32.to_be_bytes()),
            true,
        )
        .unwrap()
        .map(|e| u32::from_be_bytes(e.unwrap().0.try_into().unwrap()))
        .collect();
    assert_eq!(rev, (10..990).rev().collect::<Vec<_>>());
    assert_eq!(w.table_names().unwrap(), vec!["t".to_string()]);
    w.commit().unwrap();
    assert_eq!(
        store
            .read()
            .unwrap()
            .range("t", Unbounded, Unbounded, false)
            .unwrap()
            .count(),
        1000
    );
}

pub fn delete_range_and_tables(store: Arc<dyn Store>) {
    put(
        &*store,
        "t",
        &[(b"a", b""), (b"b", b""), (b"c", b""), (b"d", b"")],
    );
    put(&*store, "u", &[(b"x", b"")]);
    assert_eq!(
        store.read().unwrap().table_names().unwrap(),
        vec!["t".to_string(), "u".to_string()]
    );
    let mut w = store.write().unwrap();
    assert_eq!(
        w.delete_range("t", Excluded(b"a"), Included(b"c")).unwrap(),
        2
    );
    assert_eq!(
        w.delete_range("t", Excluded(b"c"), Excluded(b"c")).unwrap(),
        0
    );
    assert_eq!(w.delete_range("missing", Unbounded, Unbounded).unwrap(), 0);
    assert!(w.delete_table("u").unwrap());
    assert!(!w.delete_table("missing").unwrap());
    w.commit().unwrap();
    let r = store.read().unwrap();
    assert_eq!(
        keys(&*r, "t", Unbounded, Unbounded, false),
        v(&[b"a", b"d"])
    );
    assert_eq!(r.get("u", b"x").unwrap(), None);
    assert_eq!(r.table_names().unwrap(), vec!["t".to_string()]);
    // A table whose last key is deleted (or that was only read) is not listed.
    let mut w = store.write().unwrap();
    w.delete_range("t", Unbounded, Unbounded).unwrap();
    let _ = w.get("only_read", b"k").unwrap();
    w.commit().unwrap();
    assert!(store.read().unwrap().table_names().unwrap().is_empty());
}

pub fn snapshot_isolation(store: Arc<dyn Store>) {
    put(&*store, "t", &[(b"k", b"old")]);
    let before = store.read().unwrap();
    let mut w = store.write().unwrap();
    w.put("t", b"k", b"new").unwrap();
    w.put("t", b"k2", b"added").unwrap();
    let during = store.read().unwrap();
    assert_eq!(
        during.get("t", b"k").unwrap(),
        Some(b"old".to_vec()),
        "uncommitted writes are invisible"
    );
    w.commit().unwrap();
    let after = store.read().unwrap();
    assert_eq!(
        before.get("t", b"k").unwrap(),
        Some(b"old".to_vec()),
        "a snapshot never sees later commits"
    );
    assert_eq!(before.get("t", b"k2").unwrap(), None);
    assert_eq!(
        during
            .range("t", Unbounded, Unbounded, false)
            .unwrap()
            .count(),
        1
    );
    assert_eq!(after.get("t", b"k").unwrap(), Some(b"new".to_vec()));
    assert_eq!(after.get("t", b"k2").unwrap(), Some(b"added".to_vec()));
}

pub fn rollback_on_drop(store: Arc<dyn Store>) {
    put(&*store, "t", &[(b"keep", b"1")]);
    {
        let mut w = store.write().unwrap();
        w.put("t", b"gone", b"x").unwrap();
        w.delete("t", b"keep").unwrap();
        w.put("new_table", b"k", b"v").unwrap();
    }
    let r = store.read().unwrap();
    assert_eq!(r.get("t", b"keep").unwrap(), Some(b"1".to_vec()));
    assert_eq!(r.get("t", b"gone").unwrap(), None);
    assert_eq!(r.table_names().unwrap(), vec!["t".to_string()]);
    // The dropped transaction released the writer slot.
    put(&*store, "t", &[(b"after", b"2")]);
    assert_eq!(
        store.read().unwrap().get("t", b"after").unwrap(),
        Some(b"2".to_vec())
    );
}

pub fn long_reader_does_not_block_writers(store: Arc<dyn Store>) {
    let mut w = store.write().unwrap();
    for i in 0u32..2000 {
        w.put("t", &i.to_be_bytes(), b"v0").unwrap();
    }
    w.commit().unwrap();
    let snapshot = store.read().unwrap();
    let (half_tx, half_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // The reader streams on its own thread, pausing halfway while the writer commits.
    let reader = std::thread::spawn(move || {
        let mut seen = 0u32;
        for (n, e) in snapshot
            .range("t", Unbounded, Unbounded, false)
            .unwrap()
            .enumerate()
        {
            let (k, val) = e.unwrap();
            assert_eq!(u32::from_be_bytes(k.try_into().unwrap()), n as u32);
            assert_eq!(val, b"v0", "the snapshot never sees a later value");
            seen += 1;
            if n == 1000 {
                half_tx.send(()).unwrap();
                done_rx.recv().unwrap();
            }
        }
        seen
    });
    half_rx.recv().unwrap();
    for round in 0u32..50 {
        let mut w = store.write().unwrap();
        w.put("t", &(round * 40).to_be_bytes(), b"v1").unwrap();
        w.delete("t", &(round * 40 + 1).to_be_bytes()).unwrap();
        w.put("t", &(5000 + round).to_be_bytes(), b"v1").unwrap();
        w.commit().unwrap();
    }
    done_tx.send(()).unwrap();
    assert_eq!(reader.join().unwrap(), 2000);
    assert_eq!(
        store
            .read()
            .unwrap()
            .range("t", Unbounded, Unbounded, false)
            .unwrap()
            .count(),
        2000
    );
}

pub fn writers_are_serialized(store: Arc<dyn Store>) {
    put(&*store, "t", &[(b"n", &0u64.to_be_bytes())]);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let mut w = store.write().unwrap();
                    let n =
                        u64::from_be_bytes(w.get("t", b"n").unwrap().unwrap().try_into().unwrap());
                    std::thread::yield_now();
                    w.put("t", b"n", &(n + 1).to_be_bytes()).unwrap();
                    w.commit().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let n = store.read().unwrap().get("t", b"n").unwrap().unwrap();
    assert_eq!(
        u64::from_be_bytes(n.try_into().unwrap()),
        100,
        "no lost updates"
    );
}

pub fn large_values_and_empty_keys(store: Arc<dyn Store>) {
    let big: Vec<u8> = (0..(1 << 20)).map(|i: u32| (i % 251) as u8).collect();
    put(&*store, "t", &[(b"", b""), (b"big", &big)]);
    let r = store.read().unwrap();
    assert_eq!(
        r.get("t", b"").unwrap(),
        Some(Vec::new()),
        "empty key and empty value are ordinary"
    );
    assert_eq!(r.get("t", b"big").unwrap().as_deref(), Some(big.as_slice()));
    assert_eq!(
        keys(&*r, "t", Included(b""), Excluded(b"a"), false),
        v(&[b""])
    );
}

/// `put_many` is `put` of each pair in order (a later pair replaces an earlier one, an
/// existing key is replaced), visible to its own transaction and, after commit, to readers;
/// a reserved table is refused and an empty batch writes nothing.
pub fn put_many_is_put_of_each_pair(store: Arc<dyn Store>) {
    put(&*store, "t", &[(b"b", b"old"), (b"z", b"kept")]);
    let mut w = store.write().unwrap();
    let pairs: [(&[u8], &[u8]); 4] = [(b"a", b"1"), (b"b", b"2"), (b"c", b"3"), (b"a", b"4")];
    w.put_many("t", &mut pairs.iter().copied()).unwrap();
    w.put_many("empty", &mut std::iter::empty()).unwrap();
    assert_eq!(w.get("t", b"a").unwrap().as_deref(), Some(&b"4"[..]));
    assert!(matches!(
        w.put_many("__tidemark_x", &mut pairs.iter().copied()),
        Err(StoreError::ReservedTable(_))
    ));
    w.commit().unwrap();
    let r = store.read().unwrap();
    let all: Vec<(Vec<u8>, Vec<u8>)> = r
        .range("t", Unbounded, Unbounded, false)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let want: Vec<(Vec<u8>, Vec<u8>)> = [("a", "4"), ("b", "2"), ("c", "3"), ("z", "kept")]
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    assert_eq!(all, want);
    assert_eq!(r.table_names().unwrap(), vec!["t".to_string()]);
}
