//! [`VaultVolumes`]: cluster volumes whose snapshots live in the backup vault. The live
//! volume files are either real directories ([`DirVolumes`], with a data directory) or
//! values in the catalog store ([`StoreVolumes`], in-memory mode). A capture streams them
//! into the vault part by part (chunked, deduplicated against every earlier capture of the
//! account, compressed, hash-verified on read) with memory bounded by [`PART_BYTES`], so
//! sizes, progress and rates come from the real job; a restore streams the parts back into
//! files (temp file, fsync, rename).
//!
//! Record stream of one capture: for each file in name order, a JSON header record
//! `{"name": …, "len": …, "parts": N}` followed by N data records of at most
//! [`PART_BYTES`] each.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tidemark_store::Store;
use tidemark_vault::{ManifestId, Vault};

use crate::catalog::Scope;
use crate::dir_volumes::DirVolumes;
use crate::store_volumes::StoreVolumes;
use crate::volume::{CaptureResult, FileInfo, FileSink, Progress, VolumeBackup, VolumeFiles};

/// Capture name → vault manifest id: key = scope ‖ capture name; value = hex manifest id.
pub const VAULT_MANIFESTS_TABLE: &str = "redshift.vault_manifests";
/// Largest data record: keeps records well under the vault's limit and memory flat.
pub const PART_BYTES: usize = 1 << 20;

#[derive(Serialize, Deserialize)]
struct FileHeader {
    name: String,
    len: u64,
    parts: u64,
}

/// Volumes on disk or in the store, snapshots in the vault.
pub struct VaultVolumes {
    live: Box<dyn VolumeFiles>,
    store: Arc<dyn Store>,
    vault: Vault,
}

impl VaultVolumes {
    /// Live volumes in the store (in-memory mode).
    pub fn new(store: Arc<dyn Store>, vault: Vault) -> Self {
        Self {
            live: Box::new(StoreVolumes::new(Arc::clone(&store))),
            store,
            vault,
        }
    }

    /// Live volumes as directories under `<data_dir>/redshift/volumes` (see [`DirVolumes`]).
    pub fn on_disk(store: Arc<dyn Store>, vault: Vault, data_dir: &Path) -> Self {
        Self {
            live: Box::new(DirVolumes::under_data_dir(data_dir)),
            store,
            vault,
        }
    }

    /// Live volumes on disk when `data_dir` is given, else in the store.
    pub fn for_data_dir(store: Arc<dyn Store>, vault: Vault, data_dir: Option<&Path>) -> Self {
        match data_dir {
            Some(d) => Self::on_disk(store, vault, d),
            None => Self::new(store, vault),
        }
    }

    fn vault_id(&self, scope: &Scope, capture: &str) -> Result<ManifestId, String> {
        let txn = self.store.read().map_err(err)?;
        let raw = txn
            .get(VAULT_MANIFESTS_TABLE, &scope.key(capture))
            .map_err(err)?
            .ok_or_else(|| format!("no vault manifest for capture {capture}"))?;
        String::from_utf8(raw).map_err(err)?.parse().map_err(err)
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Fills `buf` from `r` as far as it goes; fewer bytes only at end of input.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl VolumeFiles for VaultVolumes {
    fn create_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String> {
        self.live.create_volume(scope, cluster_id)
    }
    fn create_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
    ) -> Result<Box<dyn FileSink>, String> {
        self.live.create_file(scope, cluster_id, name)
    }
    fn list_files(&self, scope: &Scope, cluster_id: &str) -> Result<Vec<FileInfo>, String> {
        self.live.list_files(scope, cluster_id)
    }
    fn open_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
    ) -> Result<Box<dyn Read + Send>, String> {
        self.live.open_file(scope, cluster_id, name)
    }
    fn remove_file(&self, scope: &Scope, cluster_id: &str, name: &str) -> Result<(), String> {
        self.live.remove_file(scope, cluster_id, name)
    }
    fn drop_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String> {
        self.live.drop_volume(scope, cluster_id)
    }
    fn rename_volume(&self, scope: &Scope, from: &str, to: &str) -> Result<(), String> {
        self.live.rename_volume(scope, from, to)
    }
    fn volume_path(&self, scope: &Scope, cluster_id: &str) -> Option<PathBuf> {
        self.live.volume_path(scope, cluster_id)
    }
}

impl VolumeBackup for VaultVolumes {
    fn capture(
        &self,
        scope: &Scope,
        cluster_id: &str,
        manifest_id: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CaptureResult, String> {
        let files = self.live.list_files(scope, cluster_id)?;
        let total: u64 = files.iter().map(|f| f.bytes).sum();
        let meta = serde_json::json!({"service": "redshift", "region": scope.region, "cluster": cluster_id, "capture": manifest_id, "bytes": total});
        let mut w = self
            .vault
            .writer(&scope.account, meta, Some(total))
            .map_err(err)?;
        let mut done = 0u64;
        let mut buf = vec![0u8; PART_BYTES];
        progress(Progress {
            done_bytes: 0,
            total_bytes: total,
        });
        for f in &files {
            let parts = f.bytes.div_ceil(PART_BYTES as u64);
            let header = FileHeader {
                name: f.name.clone(),
                len: f.bytes,
                parts,
            };
            w.write_record(&serde_json::to_vec(&header).map_err(err)?)
                .map_err(err)?;
            // Exactly the listed length is captured: a file that shrank meanwhile is an
            // error (the header is already written); growth after listing is not captured.
            let mut file = self
                .live
                .open_file(scope, cluster_id, &f.name)?
                .take(f.bytes);
            let mut left = f.bytes;
            for _ in 0..parts {
                let want = usize::try_from(left.min(PART_BYTES as u64)).unwrap_or(PART_BYTES);
                let got = read_full(&mut file, &mut buf[..want]).map_err(err)?;
                if got != want {
                    return Err(format!(
                        "file {} shrank while it was being captured",
                        f.name
                    ));
                }
                w.write_record(&buf[..got]).map_err(err)?;
                left -= got as u64;
                done += got as u64;
                progress(Progress {
                    done_bytes: done,
                    total_bytes: total,
                });
            }
        }
        let (id, stats) = w.finish().map_err(err)?;
        let mut txn = self.store.write().map_err(err)?;
        txn.put(
            VAULT_MANIFESTS_TABLE,
            &scope.key(manifest_id),
            id.to_string().as_bytes(),
        )
        .map_err(err)?;
        txn.commit().map_err(err)?;
        Ok(CaptureResult {
            manifest_id: manifest_id.to_owned(),
            total_bytes: total,
            // The vault also counts the files' header records, which are ours, not the
            // cluster's data: as in AWS, Actual never exceeds Total.
            new_bytes: stats.new_bytes.min(total),
            elapsed: Duration::from_secs_f64(stats.duration_secs.max(0.0)),
        })
    }

    fn restore(
        &self,
        owner: &Scope,
        manifest_id: &str,
        target: &Scope,
        cluster_id: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, String> {
        let id = self.vault_id(owner, manifest_id)?;
        let mut records = self.vault.reader(&owner.account, &id).map_err(err)?;
        // The restore replaces the whole volume: nothing of a stale one may survive.
        self.live.drop_volume(target, cluster_id)?;
        let mut restored = 0u64;
        while let Some(header) = records.next() {
            let header: FileHeader = serde_json::from_slice(&header.map_err(err)?).map_err(err)?;
            let mut sink = self.live.create_file(target, cluster_id, &header.name)?;
            let mut written = 0u64;
            for _ in 0..header.parts {
                let part = records
                    .next()
                    .ok_or("capture ends inside a file")?
                    .map_err(err)?;
                sink.write_all(&part).map_err(err)?;
                written += part.len() as u64;
                restored += part.len() as u64;
                progress(Progress {
                    done_bytes: restored,
                    total_bytes: 0,
                });
            }
            if written != header.len {
                return Err(format!(
                    "file {} restored {written} bytes, expected {}",
                    header.name, header.len
                ));
            }
            sink.commit()?;
        }
        Ok(restored)
    }
    fn delete(&self, scope: &Scope, manifest_id: &str) -> Result<(), String> {
        // Drop our reference first, then the vault's manifest: a crash in between leaves
        // an unreferenced manifest, never a reference to a missing one. Space comes back
        // on the vault's next gc.
        let id = self.vault_id(scope, manifest_id)?;
        let mut txn = self.store.write().map_err(err)?;
        txn.delete(VAULT_MANIFESTS_TABLE, &scope.key(manifest_id))
            .map_err(err)?;
        txn.commit().map_err(err)?;
        self.vault.delete(&scope.account, &id).map_err(err)
    }
}
