//! Deduplication across backups, and isolation between accounts.

mod common;

use common::*;
use futures::TryStreamExt;
use tidemark_vault::{Vault, VaultError, VaultOptions, backend_from_url};

/// A table-sized stream with 1 % of its records changed (in five clustered runs, as
/// updates to a key range are) stores at most 3 % new bytes with the default chunker.
#[test]
fn one_percent_changed_stores_under_three_percent() {
    let v = Vault::open(
        backend_from_url("memory://").unwrap(),
        VaultOptions::default(),
    )
    .unwrap();
    let n = 100_000u64;
    let mut recs = records(n, 5);
    let (_, first) = {
        let mut w = v
            .writer("123456789012", serde_json::json!({}), None)
            .unwrap();
        for r in &recs {
            w.write_record(r).unwrap();
        }
        w.finish().unwrap()
    };
    assert_eq!(first.reused_bytes, 0);
    let changed = n / 100;
    for run in 0..5 {
        let start = run * (n / 5) + 1234;
        for i in start..start + changed / 5 {
            recs[i as usize] = record(i, 77);
        }
    }
    let mut w = v
        .writer("123456789012", serde_json::json!({}), None)
        .unwrap();
    for r in &recs {
        w.write_record(r).unwrap();
    }
    let (id, second) = w.finish().unwrap();
    let ratio = second.new_bytes as f64 / second.logical_bytes as f64;
    println!(
        "new/logical = {ratio:.4} ({} of {} bytes)",
        second.new_bytes, second.logical_bytes
    );
    assert!(ratio <= 0.03, "new bytes {ratio:.4} of logical");
    assert!(second.new_bytes > 0, "changes must be stored");
    assert_eq!(v.read_all("123456789012", &id).unwrap(), recs);
}

#[test]
fn identical_data_in_two_accounts_shares_nothing() {
    let backend = memory();
    let v = Vault::open(backend.clone(), small_opts()).unwrap();
    let recs = records(500, 3);
    let (a, b) = ("111111111111", "222222222222");
    let mut w = v.writer(a, serde_json::json!({}), None).unwrap();
    recs.iter().for_each(|r| w.write_record(r).unwrap());
    let (ida, sa) = w.finish().unwrap();
    let mut w = v.writer(b, serde_json::json!({}), None).unwrap();
    recs.iter().for_each(|r| w.write_record(r).unwrap());
    let (idb, sb) = w.finish().unwrap();
    // B's statistics do not reveal that A holds the same data.
    assert_eq!(sb.reused_bytes, 0);
    assert_eq!(sa.new_bytes, sb.new_bytes);
    assert_ne!(ida, idb);
    // No object name is shared between the two namespaces.
    let names = |acct: &str| -> std::collections::BTreeSet<String> {
        ["packs", "index", "manifests"]
            .iter()
            .flat_map(|k| {
                let dir = object_store::path::Path::from(format!("accounts/{acct}/{k}"));
                let metas: Vec<object_store::ObjectMeta> =
                    futures::executor::block_on(backend.list(Some(&dir)).try_collect()).unwrap();
                metas
                    .into_iter()
                    .map(|m| m.location.filename().unwrap().to_string())
            })
            .collect()
    };
    let (na, nb) = (names(a), names(b));
    assert!(!na.is_empty() && na.is_disjoint(&nb));
    // Each account reads only its own backups.
    assert!(matches!(
        v.reader(b, &ida),
        Err(VaultError::ManifestNotFound { .. })
    ));
    assert!(matches!(
        v.reader(a, &idb),
        Err(VaultError::ManifestNotFound { .. })
    ));
    assert_eq!(v.list(a).unwrap().len(), 1);
    assert_eq!(v.read_all(b, &idb).unwrap(), recs);
    assert!(matches!(
        v.writer("../x", serde_json::json!({}), None),
        Err(VaultError::InvalidAccount(_))
    ));
}
