//! [`StoreVolumes`]: the in-crate [`VolumeBackup`], keeping volume files, file blobs and
//! manifests as values in the catalog store (whole files per value: for the in-memory mode's
//! and tests' small volumes). Captures are real and file-level incremental: a file whose
//! exact bytes are already held by the scope is not stored (or counted) again.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tidemark_store::{Reads, Store, keys};

use crate::catalog::Scope;
use crate::volume::{
    CaptureResult, FileInfo, FileSink, Progress, VolumeBackup, VolumeFiles, check_name,
};

/// Volume files: key = scope ‖ cluster id ‖ file name; value = the file's bytes.
pub const VOLUMES_TABLE: &str = "redshift.volumes";
/// Captured file contents: key = scope ‖ blob id; value = bytes.
pub const BLOBS_TABLE: &str = "redshift.backup_blobs";
/// Manifests: key = scope ‖ manifest id; value = JSON [`Manifest`].
pub const MANIFESTS_TABLE: &str = "redshift.backup_manifests";

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

/// An in-memory sink for a store-kept file: the store holds whole values, and store
/// volumes are the in-memory mode's (small) volumes.
struct StoreSink {
    store: Arc<dyn Store>,
    key: Vec<u8>,
    buf: Vec<u8>,
}

impl Write for StoreSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl FileSink for StoreSink {
    fn commit(self: Box<Self>) -> Result<(), String> {
        let mut w = self.store.write().map_err(err)?;
        w.put(VOLUMES_TABLE, &self.key, &self.buf).map_err(err)?;
        w.commit().map_err(err)
    }
}

impl StoreVolumes {
    fn drop_in(
        w: &mut dyn tidemark_store::WriteTxn,
        scope: &Scope,
        cluster_id: &str,
    ) -> Result<(), String> {
        let prefix = volume_prefix(scope, cluster_id);
        let end = keys::prefix_end(&prefix);
        let end = end
            .as_deref()
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        w.delete_range(VOLUMES_TABLE, std::ops::Bound::Included(&prefix), end)
            .map(drop)
            .map_err(err)
    }
}

impl VolumeFiles for StoreVolumes {
    fn create_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String> {
        let mut w = self.store.write().map_err(err)?;
        Self::drop_in(&mut *w, scope, cluster_id)?;
        w.commit().map_err(err)
    }

    fn create_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
    ) -> Result<Box<dyn FileSink>, String> {
        check_name(name)?;
        Ok(Box::new(StoreSink {
            store: Arc::clone(&self.store),
            key: file_key(scope, cluster_id, name),
            buf: Vec::new(),
        }))
    }

    fn list_files(&self, scope: &Scope, cluster_id: &str) -> Result<Vec<FileInfo>, String> {
        Ok(
            read_files(&*self.store.read().map_err(err)?, scope, cluster_id)?
                .into_iter()
                .map(|(name, b)| FileInfo {
                    name,
                    bytes: b.len() as u64,
                })
                .collect(),
        )
    }

    fn open_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
    ) -> Result<Box<dyn Read + Send>, String> {
        let bytes = self
            .store
            .read()
            .map_err(err)?
            .get(VOLUMES_TABLE, &file_key(scope, cluster_id, name))
            .map_err(err)?
            .ok_or_else(|| format!("cluster {cluster_id} has no file {name}"))?;
        Ok(Box::new(std::io::Cursor::new(bytes)))
    }

    fn remove_file(&self, scope: &Scope, cluster_id: &str, name: &str) -> Result<(), String> {
        check_name(name)?;
        let mut w = self.store.write().map_err(err)?;
        w.delete(VOLUMES_TABLE, &file_key(scope, cluster_id, name))
            .map_err(err)?;
        w.commit().map_err(err)
    }

    fn drop_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String> {
        let mut w = self.store.write().map_err(err)?;
        Self::drop_in(&mut *w, scope, cluster_id)?;
        w.commit().map_err(err)
    }

    fn rename_volume(&self, scope: &Scope, from: &str, to: &str) -> Result<(), String> {
        let mut w = self.store.write().map_err(err)?;
        let files = read_files(&*w, scope, from)?;
        Self::drop_in(&mut *w, scope, to)?;
        for (name, bytes) in files {
            w.put(VOLUMES_TABLE, &file_key(scope, to, &name), &bytes)
                .map_err(err)?;
        }
        Self::drop_in(&mut *w, scope, from)?;
        w.commit().map_err(err)
    }

    fn volume_path(&self, _scope: &Scope, _cluster_id: &str) -> Option<PathBuf> {
        None
    }
}

impl VolumeBackup for StoreVolumes {
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
        let mut steps = Vec::new();
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
            steps.push(Progress {
                done_bytes: done,
                total_bytes: total,
            });
        }
        let raw = serde_json::to_vec(&manifest).map_err(err)?;
        w.put(MANIFESTS_TABLE, &scope.key(manifest_id), &raw)
            .map_err(err)?;
        w.commit().map_err(err)?;
        // Reported after the commit: a progress callback may write to the store itself.
        steps.into_iter().for_each(&mut *progress);
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
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, String> {
        let mut w = self.store.write().map_err(err)?;
        let raw = w
            .get(MANIFESTS_TABLE, &owner.key(manifest_id))
            .map_err(err)?
            .ok_or_else(|| format!("manifest {manifest_id} is missing"))?;
        let manifest: Manifest = serde_json::from_slice(&raw).map_err(err)?;
        let total = manifest.files.iter().map(|(_, _, len)| len).sum();
        Self::drop_in(&mut *w, target, cluster_id)?;
        let (mut restored, mut steps) = (0, Vec::new());
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
            steps.push(Progress {
                done_bytes: restored,
                total_bytes: total,
            });
        }
        w.commit().map_err(err)?;
        // Reported after the commit: a progress callback may write to the store itself.
        steps.into_iter().for_each(&mut *progress);
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
