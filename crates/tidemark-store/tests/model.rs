//! Random operation sequences give identical results on every store implementation (the
//! redb stores checked against the `MemStore` model, as redb itself is fuzzed against a
//! `BTreeMap`).

use std::ops::Bound;
use std::sync::Arc;

use proptest::prelude::*;
use tidemark_store::{MemStore, RedbStore, Store};

#[derive(Clone, Debug)]
enum Op {
    Put(usize, Vec<u8>, Vec<u8>),
    Delete(usize, Vec<u8>),
    DeleteRange(usize, Bound<Vec<u8>>, Bound<Vec<u8>>),
    DeleteTable(usize),
    /// Ends the current write transaction: commit (`true`) or drop.
    End(bool),
    /// Opens a snapshot now, to be read at the end.
    Snapshot,
    Range(usize, Bound<Vec<u8>>, Bound<Vec<u8>>, bool),
    Get(usize, Vec<u8>),
}

const TABLES: [&str; 2] = ["a", "b"];

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(vec![0u8, 1, 2, 0xFF]), 0..3)
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        key().prop_map(Bound::Included),
        key().prop_map(Bound::Excluded)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, key(), key()).prop_map(|(t, k, v)| Op::Put(t, k, v)),
        2 => (0..2usize, key()).prop_map(|(t, k)| Op::Delete(t, k)),
        1 => (0..2usize, bound(), bound()).prop_map(|(t, s, e)| Op::DeleteRange(t, s, e)),
        1 => (0..2usize).prop_map(Op::DeleteTable),
        2 => any::<bool>().prop_map(Op::End),
        1 => Just(Op::Snapshot),
        2 => (0..2usize, bound(), bound(), any::<bool>()).prop_map(|(t, s, e, r)| Op::Range(t, s, e, r)),
        2 => (0..2usize, key()).prop_map(|(t, k)| Op::Get(t, k)),
    ]
}

fn b(x: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    x.as_ref().map(Vec::as_slice)
}

/// Runs `ops` and returns a transcript of everything observable.
fn transcript(store: &dyn Store, ops: &[Op]) -> Vec<String> {
    let mut out = Vec::new();
    let mut snapshots = Vec::new();
    let mut w = Some(store.write().unwrap());
    for op in ops {
        let txn = w.as_mut().unwrap();
        match op {
            Op::Put(t, k, v) => txn.put(TABLES[*t], k, v).unwrap(),
            Op::Delete(t, k) => {
                out.push(format!("delete {:?}", txn.delete(TABLES[*t], k).unwrap()))
            }
            Op::DeleteRange(t, s, e) => out.push(format!(
                "delrange {}",
                txn.delete_range(TABLES[*t], b(s), b(e)).unwrap()
            )),
            Op::DeleteTable(t) => out.push(format!(
                "deltable {}",
                txn.delete_table(TABLES[*t]).unwrap()
            )),
            Op::End(commit) => {
                let txn = w.take().unwrap();
                if *commit {
                    txn.commit().unwrap();
                } else {
                    drop(txn);
                }
                w = Some(store.write().unwrap());
            }
            Op::Snapshot => snapshots.push(store.read().unwrap()),
            Op::Range(t, s, e, r) => {
                let items: Vec<_> = txn
                    .range(TABLES[*t], b(s), b(e), *r)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                out.push(format!("range {items:?}"));
            }
            Op::Get(t, k) => out.push(format!("get {:?}", txn.get(TABLES[*t], k).unwrap())),
        }
    }
    out.push(format!(
        "tables in txn {:?}",
        w.as_ref().unwrap().table_names().unwrap()
    ));
    w.take().unwrap().commit().unwrap();
    snapshots.push(store.read().unwrap());
    for s in &snapshots {
        for t in TABLES {
            let items: Vec<_> = s
                .range(t, Bound::Unbounded, Bound::Unbounded, false)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            out.push(format!("snapshot {t} {items:?}"));
        }
        out.push(format!("snapshot tables {:?}", s.table_names().unwrap()));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn every_store_behaves_like_the_model(ops in prop::collection::vec(op(), 0..40)) {
        let model = transcript(&MemStore::new(), &ops);
        let redb_mem: Arc<dyn Store> = Arc::new(RedbStore::in_memory().unwrap());
        prop_assert_eq!(&transcript(&*redb_mem, &ops), &model);
    }
}
