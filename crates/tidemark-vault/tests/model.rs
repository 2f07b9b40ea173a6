//! Property test against a reference model: any sequence of stores (some as deltas against
//! a live backup), deletes and gcs leaves every live backup readable byte for byte, and
//! verify clean.

mod common;

use common::*;
use proptest::prelude::*;
use tidemark_vault::{ManifestId, Vault, backend_from_url};

const ACCT: &str = "123456789012";

#[derive(Clone, Debug)]
enum Op {
    /// Records drawn from a shared pool (so stores overlap), with some fresh ones.
    Store {
        start: u64,
        len: u64,
        salt: u64,
        /// Store against the live backup with this index (modulo their count), if any.
        parent: Option<usize>,
    },
    Delete(usize),
    Gc,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..300, 0u64..300, 0u64..3, proptest::option::of(any::<usize>()))
            .prop_map(|(start, len, salt, parent)| Op::Store { start, len, salt, parent }),
        2 => any::<usize>().prop_map(Op::Delete),
        1 => Just(Op::Gc),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn live_backups_read_back_identically(ops in proptest::collection::vec(op(), 1..12)) {
        let v = Vault::open(backend_from_url("memory://").unwrap(), small_opts()).unwrap();
        let mut model: Vec<(ManifestId, Vec<Vec<u8>>)> = Vec::new();
        for op in ops {
            match op {
                Op::Store { start, len, salt, parent } => {
                    let recs: Vec<Vec<u8>> = (start..start + len).map(|i| record(i, salt)).collect();
                    let parent = parent.filter(|_| !model.is_empty()).map(|i| model[i % model.len()].0);
                    let (id, s) = store_delta(&v, ACCT, parent.as_ref(), &recs).unwrap();
                    prop_assert_eq!(s.parent, parent);
                    prop_assert_eq!(s.parent_error, None);
                    model.push((id, recs));
                }
                Op::Delete(i) if !model.is_empty() => {
                    let (id, _) = model.remove(i % model.len());
                    // Identical content and meta give identical ids; delete every copy.
                    model.retain(|(m, _)| *m != id);
                    v.delete(ACCT, &id).unwrap();
                }
                Op::Delete(_) => {}
                Op::Gc => {
                    let g = v.gc().unwrap();
                    prop_assert!(g.skipped.is_empty(), "{:?}", g.skipped);
                }
            }
            for (id, recs) in &model {
                prop_assert_eq!(&v.read_all(ACCT, id).unwrap(), recs);
            }
        }
        let r = v.verify(true).unwrap();
        prop_assert!(r.ok, "{:?}", r.problems);
        prop_assert_eq!(v.list(ACCT).unwrap().len(), {
            let mut ids: Vec<_> = model.iter().map(|m| m.0).collect();
            ids.sort();
            ids.dedup();
            ids.len()
        });
    }
}
