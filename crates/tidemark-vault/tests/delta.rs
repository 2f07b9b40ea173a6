//! Parent-delta stores (vault-format.md §2.6): records equal to the parent's are referenced,
//! not stored again; every kind of edit reads back byte for byte; children outlive their
//! parents; verify checks version 2 extents.

mod common;

use common::*;
use tidemark_vault::{ManifestId, ProblemKind, Vault, VaultOptions, backend_from_url};

const ACCT: &str = "123456789012";

fn assert_reads(v: &Vault, id: &ManifestId, recs: &[Vec<u8>]) {
    let got = v.read_all(ACCT, id).unwrap();
    assert_eq!(got.len(), recs.len(), "record count");
    for (i, (g, r)) in got.iter().zip(recs).enumerate() {
        assert_eq!(g, r, "record {i}");
    }
    // The borrowing reader too.
    let mut r = v.reader(ACCT, id).unwrap();
    let mut i = 0;
    while let Some(rec) = r.next_ref() {
        assert_eq!(rec.unwrap(), &recs[i][..], "record {i} (next_ref)");
        i += 1;
    }
    assert_eq!(i, recs.len());
}

/// 1 % of the records of a table-sized stream changed one at a time at random (the case
/// content-defined chunking alone handles worst): stored against the previous backup, at
/// most 3 % new bytes, and the manifest stays small.
#[test]
fn one_percent_random_change_with_parent_stores_under_three_percent() {
    let v = Vault::open(memory(), VaultOptions::default()).unwrap();
    let n = 100_000u64;
    let mut recs = records(n, 5);
    let (first, s1) = store_delta(&v, ACCT, None, &recs).unwrap();
    assert_eq!(s1.parent, None);
    assert_eq!(s1.manifest_extents, 0, "no parent: a version 1 manifest");
    let mut rng = Rng(42);
    let mut changed = 0;
    for (i, r) in recs.iter_mut().enumerate() {
        if rng.next().is_multiple_of(100) {
            *r = record(i as u64, 77);
            changed += 1;
        }
    }
    assert!(changed > 800, "{changed}");
    // Without the parent: most 16 KiB chunks hold a changed record.
    let (plain, sp) = store_delta(&v, ACCT, None, &recs).unwrap();
    let plain_ratio = sp.new_bytes as f64 / sp.logical_bytes as f64;
    assert!(plain_ratio > 0.3, "chunk-level only: {plain_ratio:.4}");
    v.delete(ACCT, &plain).unwrap();
    assert!(v.gc().unwrap().skipped.is_empty());
    let (second, s2) = store_delta(&v, ACCT, Some(&first), &recs).unwrap();
    let ratio = s2.new_bytes as f64 / s2.logical_bytes as f64;
    println!(
        "with parent: new/logical = {ratio:.4} ({} of {} bytes), manifest {} bytes, {} extents",
        s2.new_bytes, s2.logical_bytes, s2.manifest_bytes, s2.manifest_extents
    );
    assert_eq!(s2.parent, Some(first));
    assert_eq!(s2.parent_error, None);
    assert!(ratio <= 0.03, "new bytes {ratio:.4} of logical");
    assert!(s2.new_bytes > 0, "changes must be stored");
    assert_eq!(s2.reused_bytes + s2.new_bytes, s2.logical_bytes);
    // ~3 extents per changed record, 12 bytes each, plus the chunk table.
    assert!(
        s2.manifest_bytes < s2.logical_bytes / 100,
        "manifest {} bytes",
        s2.manifest_bytes
    );
    assert_reads(&v, &second, &recs);
    let r = v.verify(true).unwrap();
    assert!(r.ok, "{:?}", r.problems);
}

/// Edits of every kind against one parent; each child reads back exactly.
#[test]
fn insertions_deletions_reordering_and_replacement_read_back() {
    let v = Vault::open(memory(), small_opts()).unwrap();
    let base = records(3000, 1);
    let (parent, _) = store_delta(&v, ACCT, None, &base).unwrap();
    let fresh = |i: u64| record(i + 100_000, 9);
    let mut cases: Vec<(&str, Vec<Vec<u8>>, f64)> = Vec::new();
    // Scattered single insertions, and one long inserted run.
    let mut ins = base.clone();
    for k in (0..3000).step_by(97).rev() {
        ins.insert(k, fresh(k as u64));
    }
    let long: Vec<Vec<u8>> = (0..2000).map(fresh).collect();
    ins.splice(1500..1500, long);
    cases.push(("insertions", ins, 0.99));
    // Scattered single deletions, a short run, and a long run (beyond the lookahead).
    let mut del = base.clone();
    del.drain(2000..2600);
    del.drain(700..705);
    for k in (0..del.len()).step_by(53).rev() {
        del.remove(k);
    }
    // Resynchronising after the 600 deleted records costs ~600 / 8 incoming records stored
    // as new (the hashed distance grows by 8 records per unmatched record).
    cases.push(("deletions", del, 0.95));
    // Blocks moved around, and a few records swapped. The parent cursor only moves
    // forward, so the block moved to the end is not found record by record (the rotated
    // stream starts 1234 records in); chunk-level deduplication still finds most of it.
    let mut re = base.clone();
    re.rotate_left(1234);
    re.swap(10, 20);
    re[100..200].reverse();
    cases.push(("reordering", re, 0.5));
    // Records duplicated (the same record twice in a row, and a repeated block).
    let mut dup = base.clone();
    dup.insert(10, base[10].clone());
    let block = base[50..80].to_vec();
    dup.splice(400..400, block);
    cases.push(("duplicates", dup, 0.95));
    // Nothing in common.
    cases.push(("different", records(2500, 2), 0.0));
    cases.push(("empty", Vec::new(), 0.0));
    // A stream that is a prefix, and one that extends the parent.
    cases.push(("prefix", base[..1000].to_vec(), 0.99));
    let mut ext = base.clone();
    ext.extend((0..500).map(fresh));
    cases.push(("extended", ext, 0.99));
    let in_base: std::collections::HashSet<&Vec<u8>> = base.iter().collect();
    for (name, recs, min_reuse) in cases {
        let (id, s) = store_delta(&v, ACCT, Some(&parent), &recs).unwrap();
        assert_eq!(s.parent_error, None, "{name}");
        assert_eq!(s.records, recs.len() as u64, "{name}");
        // Of the bytes of records that are in the parent, the share found there.
        let reusable: u64 = recs
            .iter()
            .filter(|r| in_base.contains(r))
            .map(|r| r.len() as u64 + 4)
            .sum();
        let reuse = s.parent_bytes as f64 / reusable.max(1) as f64;
        println!("{name}: {reuse:.3} of the reusable bytes referenced from the parent");
        assert!(s.parent_bytes <= reusable, "{name}");
        assert!(reuse >= min_reuse, "{name}: only {reuse:.3} reused");
        // New bytes: the records not in the parent, plus little more (whatever the parent
        // cursor missed, chunk-level deduplication mostly catches).
        let fresh = s.logical_bytes - reusable;
        assert!(s.new_bytes <= fresh + s.logical_bytes / 5, "{name}: {s:?}");
        assert_reads(&v, &id, &recs);
    }
    let r = v.verify(true).unwrap();
    assert!(r.ok, "{:?}", r.problems);
}

/// Redshift stores ~1 MiB records: far larger than a chunk (and here than a pack).
#[test]
fn records_larger_than_a_chunk() {
    let v = Vault::open(memory(), small_opts()).unwrap();
    let big = |i: u64, salt: u64| -> Vec<u8> {
        let mut r = Vec::new();
        let mut k = 0;
        while r.len() < (200 << 10) + (i as usize % 7) * 1000 {
            r.extend_from_slice(&record(i * 1000 + k, salt));
            k += 1;
        }
        r
    };
    let base: Vec<Vec<u8>> = (0..30).map(|i| big(i, 1)).collect();
    let (parent, _) = store_delta(&v, ACCT, None, &base).unwrap();
    let mut recs = base.clone();
    recs[3] = big(3, 2);
    recs.remove(10);
    recs.insert(20, big(99, 3));
    recs.push(Vec::new());
    let (id, s) = store_delta(&v, ACCT, Some(&parent), &recs).unwrap();
    assert!(
        s.parent_bytes as f64 > 0.85 * s.logical_bytes as f64,
        "{s:?}"
    );
    assert_reads(&v, &id, &recs);
    // And a child of that child.
    recs.swap(0, 5);
    let (id2, _) = store_delta(&v, ACCT, Some(&id), &recs).unwrap();
    assert_reads(&v, &id2, &recs);
    assert!(v.verify(true).unwrap().ok);
}

/// Backup n is stored against backup n - 1; every backup reads back, and deleting the
/// older ones (then gc) leaves the newest readable and the vault clean.
#[test]
fn chains_survive_deleting_their_ancestors() {
    let v = Vault::open(memory(), small_opts()).unwrap();
    let mut recs = records(2000, 1);
    let mut chain: Vec<(ManifestId, Vec<Vec<u8>>)> = Vec::new();
    let mut rng = Rng(7);
    for g in 0..6u64 {
        let parent = chain.last().map(|c| c.0);
        let (id, s) = store_delta(&v, ACCT, parent.as_ref(), &recs).unwrap();
        if g > 0 {
            assert!(
                s.new_bytes * 5 < s.logical_bytes,
                "generation {g}: {} new of {}",
                s.new_bytes,
                s.logical_bytes
            );
        }
        chain.push((id, recs.clone()));
        // Next generation: change, delete and insert a few records.
        for _ in 0..20 {
            let k = (rng.next() % recs.len() as u64) as usize;
            recs[k] = record(rng.next(), 3);
        }
        let k = (rng.next() % recs.len() as u64) as usize;
        recs.remove(k);
        recs.insert(k / 2, record(rng.next(), 4));
    }
    for (id, r) in &chain {
        assert_reads(&v, id, r);
    }
    // Delete every ancestor, in the middle first.
    let (last, last_recs) = chain.pop().unwrap();
    for (id, _) in chain.iter().rev().skip(1).chain(chain.iter().rev().take(1)) {
        v.delete(ACCT, id).unwrap();
        let g = v.gc().unwrap();
        assert!(g.skipped.is_empty(), "{:?}", g.skipped);
        assert_reads(&v, &last, &last_recs);
    }
    let g = v.gc().unwrap();
    assert!(g.skipped.is_empty());
    let r = v.verify(true).unwrap();
    assert!(r.ok, "{:?}", r.problems);
    assert!(r.unreferenced_packs.is_empty());
    assert_eq!(v.list(ACCT).unwrap().len(), 1);
    // The survivor is still a usable parent.
    let (next, s) = store_delta(&v, ACCT, Some(&last), &last_recs).unwrap();
    assert_eq!(s.new_bytes, 0);
    assert_eq!(s.parent_bytes, s.logical_bytes);
    assert_reads(&v, &next, &last_recs);
}

/// A parent that cannot be used never fails the store.
#[test]
fn unusable_parents_fall_back_to_a_normal_store() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("vault");
    let v = Vault::open(
        backend_from_url(&format!("file://{}", root.display())).unwrap(),
        small_opts(),
    )
    .unwrap();
    let recs = records(800, 1);
    let pack_names = |root: &std::path::Path| -> std::collections::BTreeSet<std::path::PathBuf> {
        let packs = root.join("accounts").join(ACCT).join("packs");
        std::fs::read_dir(&packs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    };
    // The parent's first half is stored first, so the packs written after it hold only
    // the parent's second half.
    store_delta(&v, ACCT, None, &recs[..400]).unwrap();
    let first_half = pack_names(&root);
    let (parent, _) = store_delta(&v, ACCT, None, &recs).unwrap();
    // Unknown id; another account's backup.
    let nowhere: ManifestId = "ab".repeat(32).parse().unwrap();
    let (other, _) = store_delta(&v, "999999999999", None, &recs).unwrap();
    for bad in [nowhere, other] {
        let (id, s) = store_delta(&v, ACCT, Some(&bad), &recs).unwrap();
        assert_eq!(s.parent, None);
        let e = s.parent_error.unwrap();
        assert!(e.contains("not found"), "{e}");
        assert_eq!(s.parent_bytes, 0);
        assert_reads(&v, &id, &recs);
    }
    // A parent whose second half is damaged: the records matched before the damage are
    // referenced, the rest are stored normally, and the store succeeds.
    let mut changed = recs.clone();
    changed[5] = record(5, 99);
    for p in pack_names(&root).difference(&first_half) {
        let mut b = std::fs::read(p).unwrap();
        b[20] ^= 0x40; // inside the first blob
        std::fs::write(p, b).unwrap();
    }
    let (_, s) = store_delta(&v, ACCT, Some(&parent), &changed).unwrap();
    assert_eq!(s.parent, Some(parent));
    let e = s.parent_error.clone().expect("the parent fails while read");
    assert!(e.contains("read part-way"), "{e}");
    assert!(
        s.parent_bytes > 0,
        "records before the damage are referenced"
    );
    assert!(s.parent_bytes < s.logical_bytes / 2 + 4096, "{s:?}");
    assert_eq!(s.records, changed.len() as u64);
    // A damaged parent manifest: not used at all.
    let m = root
        .join("accounts")
        .join(ACCT)
        .join("manifests")
        .join(parent.to_string());
    let mut b = std::fs::read(&m).unwrap();
    let last = b.len() - 1;
    b[last] ^= 1;
    std::fs::write(&m, b).unwrap();
    let (_, s) = store_delta(&v, ACCT, Some(&parent), &changed).unwrap();
    assert_eq!(s.parent, None);
    assert!(s.parent_error.unwrap().contains("does not match its id"));
}

/// Damage to a version 2 manifest's extents is named by verify, with the backup.
#[test]
fn verify_names_an_extent_past_its_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("vault");
    let url = format!("file://{}", root.display());
    let v = Vault::open(backend_from_url(&url).unwrap(), small_opts()).unwrap();
    let mut recs = records(600, 1);
    let (parent, _) = store_delta(&v, ACCT, None, &recs).unwrap();
    recs[300] = record(300, 2);
    let (child, _) = store_delta(&v, ACCT, Some(&parent), &recs).unwrap();
    assert!(v.verify(true).unwrap().ok);
    // Rewrite the child's last extent to reach past its chunk, under the right name.
    let manifests = root.join("accounts").join(ACCT).join("manifests");
    let old = manifests.join(child.to_string());
    let mut bytes = std::fs::read(&old).unwrap();
    let n = bytes.len();
    bytes[n - 4..].copy_from_slice(&1_000_000u32.to_le_bytes());
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("config")).unwrap()).unwrap();
    let secret_hex = config["secret"].as_str().unwrap();
    let mut material: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&secret_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    material.extend_from_slice(ACCT.as_bytes());
    let key = blake3::derive_key("tidemark-vault v1 account key", &material);
    let bad_id = blake3::keyed_hash(&key, &bytes).to_hex().to_string();
    std::fs::remove_file(&old).unwrap();
    std::fs::write(manifests.join(&bad_id), &bytes).unwrap();
    let bad: ManifestId = bad_id.parse().unwrap();
    let r = v.verify(false).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    let p = &r.problems[0];
    assert_eq!(p.kind, ProblemKind::Corrupt);
    assert_eq!(p.object, format!("accounts/{ACCT}/manifests/{bad_id}"));
    assert!(p.detail.contains("past the end"), "{}", p.detail);
    assert_eq!(p.affected_manifests, vec![format!("{ACCT}/{bad}")]);
    // Reading it fails instead of returning wrong records; the parent is unaffected.
    let err = v.read_all(ACCT, &bad).unwrap_err().to_string();
    assert!(err.contains("past the end"), "{err}");
    assert_eq!(v.read_all(ACCT, &parent).unwrap(), records(600, 1));
}

#[test]
fn writers_and_readers_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<tidemark_vault::ManifestWriter>();
    send::<tidemark_vault::ManifestReader>();
}
