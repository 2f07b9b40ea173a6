//! The data behind snapshots: each cluster owns a small storage volume (a few named files),
//! and a snapshot is a captured manifest of that volume. [`VolumeBackup`] is the seam the
//! vault crate will fill; [`StoreVolumes`] is the in-crate default, keeping volumes, file
//! blobs and manifests in the catalog store. Captures are real and file-level incremental:
//! a file whose exact bytes are already held by the scope is not stored (or counted) again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tidemark_store::{Reads, Store, keys};

use crate::catalog::Scope;

/// Volume files: key = scope ‖ cluster id ‖ file name; value = the file's bytes.
pub const VOLUMES_TABLE: &str = "redshift.volumes";
/// Captured file contents: key = scope ‖ blob id; value = bytes.
pub const BLOBS_TABLE: &str = "redshift.backup_blobs";
/// Manifests: key = scope ‖ manifest id; value = JSON [`Manifest`].
pub const MANIFESTS_TABLE: &str = "redshift.backup_manifests";

/// Capture progress, reported after each file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub done_bytes: u64,
    pub total_bytes: u64,
}

/// What one capture did.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureResult {
    pub manifest_id: String,
    /// Bytes needed to restore the cluster from this manifest.
    pub total_bytes: u64,
    /// Bytes this capture stored that the scope did not already hold.
    pub new_bytes: u64,
    /// Wall time the capture took.
    pub elapsed: Duration,
}

/// Cluster volumes and their backups.
pub trait VolumeBackup: Send + Sync {
    /// Creates the initial volume of a new cluster.
    fn create_volume(&self, scope: &Scope, cluster_id: &str, db_name: &str) -> Result<(), String>;
    /// Writes (creates or replaces) one file of a cluster's volume.
    fn write_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), String>;
    /// The files of a cluster's volume, by name.
    fn read_volume(
        &self,
        scope: &Scope,
        cluster_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, String>;
    /// Removes a cluster's volume (its backups stay).
    fn drop_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String>;
    /// Captures the volume as manifest `manifest_id` (unique within `scope`).
    fn capture(
        &self,
        scope: &Scope,
        cluster_id: &str,
        manifest_id: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CaptureResult, String>;
    /// Writes the files of `owner`'s manifest as the volume of `cluster_id` in `target`
    /// (another account when the snapshot is shared). Returns the bytes restored.
    fn restore(
        &self,
        owner: &Scope,
        manifest_id: &str,
        target: &Scope,
        cluster_id: &str,
    ) -> Result<u64, String>;
    /// Forgets a manifest and any file contents no other manifest of `scope` uses.
    fn delete(&self, scope: &Scope, manifest_id: &str) -> Result<(), String>;
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Manifest {
    cluster: String,
    /// `(file name, blob id, length)` in name order.
    files: Vec<(String, String, u64)>,
}

/// The default [`VolumeBackup`]: everything lives in the catalog store.
#[derive(Debug)]
pub struct StoreVolumes {
    store: Arc<dyn Store>,
}

impl StoreVolumes {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn volume_prefix(scope: &Scope, cluster_id: &str) -> Vec<u8> {
    scope.key(cluster_id)
}

fn file_key(scope: &Scope, cluster_id: &str, name: &str) -> Vec<u8> {
    let mut k = volume_prefix(scope, cluster_id);
    keys::push_bytes(&mut k, name.as_bytes());
    k
}

/// Content id of a file: its length and a 64-bit FNV-1a digest. Equal ids are confirmed by
/// comparing bytes before a blob is shared, so a digest collision cannot corrupt data.
fn blob_id(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}-{}", bytes.len())
}

fn read_files(
    txn: &(impl Reads + ?Sized),
    scope: &Scope,
    cluster_id: &str,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let prefix = volume_prefix(scope, cluster_id);
    let mut out = Vec::new();
    for entry in txn.scan_prefix(VOLUMES_TABLE, &prefix).map_err(err)? {
        let (k, v) = entry.map_err(err)?;
        let name = keys::KeyReader::new(&k[prefix.len()..])
            .str()
            .map_err(err)?;
        out.push((name, v));
    }
    Ok(out)
}

/// Deterministic filler so a fresh cluster has a realistic, non-trivial volume.
fn filler(seed: &str, len: usize) -> Vec<u8> {
    let mut x = crate::rules::digest(&[seed]);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x & 0xff) as u8
        })
        .collect()
}

impl VolumeBackup for StoreVolumes {
    fn create_volume(&self, scope: &Scope, cluster_id: &str, db_name: &str) -> Result<(), String> {
        let mut w = self.store.write().map_err(err)?;
        let files: [(String, Vec<u8>); 3] = [
            ("PG_VERSION".into(), b"8.0.2\n".to_vec()),
            (
                format!("base/{db_name}/pg_catalog"),
                format!("database {db_name} of cluster {cluster_id}\n").into_bytes(),
            ),
            (
                format!("base/{db_name}/user_tables"),
                filler(cluster_id, 256 * 1024),
            ),
        ];
        for (name, bytes) in files {
            w.put(VOLUMES_TABLE, &file_key(scope, cluster_id, &name), &bytes)
                .map_err(err)?;
        }
        w.commit().map_err(err)
    }

    fn write_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), String> {
        let mut w = self.store.write().map_err(err)?;
        w.put(VOLUMES_TABLE, &file_key(scope, cluster_id, name), bytes)
            .map_err(err)?;
        w.commit().map_err(err)
    }

    fn read_volume(
        &self,
        scope: &Scope,
        cluster_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        read_files(&*self.store.read().map_err(err)?, scope, cluster_id)
    }

    fn drop_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String> {
        let mut w = self.store.write().map_err(err)?;
        let prefix = volume_prefix(scope, cluster_id);
        let end = keys::prefix_end(&prefix);
        let end = end
            .as_deref()
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        w.delete_range(VOLUMES_TABLE, std::ops::Bound::Included(&prefix), end)
            .map_err(err)?;
        w.commit().map_err(err)
    }

    fn capture(
        &self,
        scope: &Scope,
        cluster_id: &str,
        manifest_id: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CaptureResult, String> {
        let started = Instant::now();
        let mut w = self.store.write().map_err(err)?;
        let files = read_files(&*w, scope, cluster_id)?;
        let total: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
        let mut manifest = Manifest {
            cluster: cluster_id.to_owned(),
            files: Vec::new(),
        };
        let (mut done, mut new_bytes) = (0u64, 0u64);
        for (name, bytes) in files {
            let mut id = blob_id(&bytes);
            let key = scope.key(&id);
            match w.get(BLOBS_TABLE, &key).map_err(err)? {
                Some(held) if held == bytes => {}
                Some(_) => {
                    // Digest collision with different bytes: store under a distinct id.
                    id = format!("{id}-{manifest_id}-{name}");
                    w.put(BLOBS_TABLE, &scope.key(&id), &bytes).map_err(err)?;
                    new_bytes += bytes.len() as u64;
                }
                None => {
                    w.put(BLOBS_TABLE, &key, &bytes).map_err(err)?;
                    new_bytes += bytes.len() as u64;
                }
            }
            done += bytes.len() as u64;
            manifest.files.push((name, id, bytes.len() as u64));
            progress(Progress {
                done_bytes: done,
                total_bytes: total,
            });
        }
        let raw = serde_json::to_vec(&manifest).map_err(err)?;
        w.put(MANIFESTS_TABLE, &scope.key(manifest_id), &raw)
            .map_err(err)?;
        w.commit().map_err(err)?;
        Ok(CaptureResult {
            manifest_id: manifest_id.to_owned(),
            total_bytes: total,
            new_bytes,
            elapsed: started.elapsed(),
        })
    }

    fn restore(
        &self,
        owner: &Scope,
        manifest_id: &str,
        target: &Scope,
        cluster_id: &str,
    ) -> Result<u64, String> {
        let mut w = self.store.write().map_err(err)?;
        let raw = w
            .get(MANIFESTS_TABLE, &owner.key(manifest_id))
            .map_err(err)?
            .ok_or_else(|| format!("manifest {manifest_id} is missing"))?;
        let manifest: Manifest = serde_json::from_slice(&raw).map_err(err)?;
        let mut restored = 0;
        for (name, id, len) in &manifest.files {
            let bytes = w
                .get(BLOBS_TABLE, &owner.key(id))
                .map_err(err)?
                .ok_or_else(|| format!("blob {id} of manifest {manifest_id} is missing"))?;
            if bytes.len() as u64 != *len {
                return Err(format!(
                    "blob {id} has {} bytes, manifest says {len}",
                    bytes.len()
                ));
            }
            w.put(VOLUMES_TABLE, &file_key(target, cluster_id, name), &bytes)
                .map_err(err)?;
            restored += len;
        }
        w.commit().map_err(err)?;
        Ok(restored)
    }

    fn delete(&self, scope: &Scope, manifest_id: &str) -> Result<(), String> {
        let mut w = self.store.write().map_err(err)?;
        let Some(raw) = w
            .get(MANIFESTS_TABLE, &scope.key(manifest_id))
            .map_err(err)?
        else {
            return Ok(());
        };
        let gone: Manifest = serde_json::from_slice(&raw).map_err(err)?;
        w.delete(MANIFESTS_TABLE, &scope.key(manifest_id))
            .map_err(err)?;
        let mut in_use = std::collections::BTreeSet::new();
        for entry in w
            .scan_prefix(MANIFESTS_TABLE, &scope.prefix())
            .map_err(err)?
        {
            let (_, raw) = entry.map_err(err)?;
            let m: Manifest = serde_json::from_slice(&raw).map_err(err)?;
            in_use.extend(m.files.into_iter().map(|(_, id, _)| id));
        }
        for (_, id, _) in gone.files {
            if !in_use.contains(&id) {
                w.delete(BLOBS_TABLE, &scope.key(&id)).map_err(err)?;
            }
        }
        w.commit().map_err(err)
    }
}
