//! Damaged vaults: verify names the damaged object and the backups it affects, and reading
//! an affected backup fails instead of returning wrong data.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use tidemark_vault::{ManifestId, ProblemKind, Vault, backend_from_url};

const ACCT: &str = "210987654321";

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    vault: Vault,
    a: ManifestId,
    b: ManifestId,
    a_packs: Vec<PathBuf>,
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Two backups with disjoint data, so each pack belongs to exactly one of them.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("vault");
    let url = format!("file://{}", root.display());
    let vault = Vault::open(backend_from_url(&url).unwrap(), small_opts()).unwrap();
    let a = store(&vault, ACCT, &records(200, 1)).unwrap();
    let packs = root.join("accounts").join(ACCT).join("packs");
    let a_packs = files(&packs);
    let b = store(&vault, ACCT, &records(200, 2)).unwrap();
    assert!(files(&packs).len() > a_packs.len());
    Fixture {
        _dir: dir,
        root,
        vault,
        a,
        b,
        a_packs,
    }
}

fn key(f: &Fixture, p: &Path) -> String {
    p.strip_prefix(&f.root)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

fn label(id: &ManifestId) -> String {
    format!("{ACCT}/{id}")
}

#[test]
fn flipped_byte_in_a_pack_is_named_with_the_backup_it_breaks() {
    let f = fixture();
    let pack = &f.a_packs[0];
    let mut bytes = std::fs::read(pack).unwrap();
    bytes[40] ^= 0x01; // inside the first blob
    std::fs::write(pack, bytes).unwrap();
    assert!(
        f.vault.verify(false).unwrap().ok,
        "structure is intact, only bytes changed"
    );
    let r = f.vault.verify(true).unwrap();
    assert!(!r.ok);
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    let p = &r.problems[0];
    assert_eq!(p.object, key(&f, pack));
    assert_eq!(p.kind, ProblemKind::Corrupt);
    assert!(p.detail.contains("fail their hash"), "{}", p.detail);
    assert_eq!(p.affected_manifests, vec![label(&f.a)]);
    let err = f.vault.read_all(ACCT, &f.a).unwrap_err().to_string();
    assert!(err.contains(&key(&f, pack)), "{err}");
    assert_eq!(f.vault.read_all(ACCT, &f.b).unwrap(), records(200, 2));
}

#[test]
fn missing_pack_is_named_with_the_backup_it_breaks() {
    let f = fixture();
    let pack = &f.a_packs[f.a_packs.len() - 1];
    std::fs::remove_file(pack).unwrap();
    let r = f.vault.verify(false).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].object, key(&f, pack));
    assert_eq!(r.problems[0].kind, ProblemKind::Missing);
    assert_eq!(r.problems[0].affected_manifests, vec![label(&f.a)]);
    assert!(f.vault.read_all(ACCT, &f.a).is_err());
    assert_eq!(f.vault.read_all(ACCT, &f.b).unwrap(), records(200, 2));
}

#[test]
fn missing_index_entries_name_the_backups_that_need_them() {
    let f = fixture();
    let index_dir = f.root.join("accounts").join(ACCT).join("index");
    let indexes = files(&index_dir);
    assert_eq!(indexes.len(), 2, "one index per store");
    // Remove the index written by the first store (the one not naming b's packs).
    let a_pack_name = f.a_packs[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let a_id = tidemark_vault::Id::from_hex(&a_pack_name).unwrap();
    let victim = indexes
        .iter()
        .find(|p| {
            let b = std::fs::read(p).unwrap();
            b.windows(32).any(|w| w == a_id.0)
        })
        .unwrap();
    std::fs::remove_file(victim).unwrap();
    let vault = Vault::open(
        backend_from_url(&format!("file://{}", f.root.display())).unwrap(),
        small_opts(),
    )
    .unwrap();
    let r = vault.verify(true).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    let p = &r.problems[0];
    assert_eq!(p.kind, ProblemKind::MissingIndexEntry);
    assert_eq!(p.object, format!("accounts/{ACCT}/index"));
    assert_eq!(p.affected_manifests, vec![label(&f.a)]);
    assert_eq!(r.unreferenced_packs.len(), f.a_packs.len());
    assert!(vault.read_all(ACCT, &f.a).is_err());
    // gc must not delete the unindexed packs: they still hold a's data.
    let g = vault.gc().unwrap();
    assert_eq!(g.skipped.len(), 1, "{g:?}");
    assert!(f.a_packs.iter().all(|p| p.exists()));
    assert_eq!(vault.read_all(ACCT, &f.b).unwrap(), records(200, 2));
}

#[test]
fn flipped_byte_in_a_manifest_is_named() {
    let f = fixture();
    let m = f
        .root
        .join("accounts")
        .join(ACCT)
        .join("manifests")
        .join(f.b.to_string());
    let mut bytes = std::fs::read(&m).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    std::fs::write(&m, bytes).unwrap();
    let r = f.vault.verify(false).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].object, key(&f, &m));
    assert_eq!(r.problems[0].kind, ProblemKind::Corrupt);
    assert_eq!(r.problems[0].affected_manifests, vec![label(&f.b)]);
    assert!(f.vault.read_all(ACCT, &f.b).is_err());
    // gc refuses to guess what a damaged manifest needs.
    let g = f.vault.gc().unwrap();
    assert_eq!(g.skipped.len(), 1, "{g:?}");
    assert_eq!(f.vault.read_all(ACCT, &f.a).unwrap(), records(200, 1));
}
