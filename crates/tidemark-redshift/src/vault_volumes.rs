//! [`VaultVolumes`]: cluster volumes whose snapshots live in the backup vault. The live
//! volume files stay in the catalog store (as with [`StoreVolumes`]); a capture streams
//! them into the vault (chunked, deduplicated against every earlier capture of the account,
//! compressed, hash-verified on read), so sizes and rates come from the vault's own
//! statistics and progress.
//!
//! Record stream of one capture: for each file in name order, a JSON header record
//! `{"name": …, "len": …, "parts": N}` followed by N data records of at most
//! [`PART_BYTES`] each.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tidemark_store::Store;
use tidemark_vault::{ManifestId, Vault};

use crate::catalog::Scope;
use crate::volume::{CaptureResult, Progress, StoreVolumes, VolumeBackup};

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

/// Volumes in the store, snapshots in the vault.
pub struct VaultVolumes {
    live: StoreVolumes,
    store: Arc<dyn Store>,
    vault: Vault,
}

impl VaultVolumes {
    pub fn new(store: Arc<dyn Store>, vault: Vault) -> Self {
        Self {
            live: StoreVolumes::new(Arc::clone(&store)),
            store,
            vault,
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

impl VolumeBackup for VaultVolumes {
    fn create_volume(&self, scope: &Scope, cluster_id: &str, db_name: &str) -> Result<(), String> {
        self.live.create_volume(scope, cluster_id, db_name)
    }

    fn write_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), String> {
        self.live.write_file(scope, cluster_id, name, bytes)
    }

    fn read_volume(
        &self,
        scope: &Scope,
        cluster_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        self.live.read_volume(scope, cluster_id)
    }

    fn drop_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String> {
        self.live.drop_volume(scope, cluster_id)
    }

    fn capture(
        &self,
        scope: &Scope,
        cluster_id: &str,
        manifest_id: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CaptureResult, String> {
        let files = self.live.read_volume(scope, cluster_id)?;
        let total: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
        let meta = serde_json::json!({"service": "redshift", "region": scope.region, "cluster": cluster_id, "capture": manifest_id});
        let mut w = self
            .vault
            .writer(&scope.account, meta, Some(total))
            .map_err(err)?;
        let mut done = 0u64;
        for (name, bytes) in &files {
            let parts = bytes.len().div_ceil(PART_BYTES) as u64;
            let header = FileHeader {
                name: name.clone(),
                len: bytes.len() as u64,
                parts,
            };
            w.write_record(&serde_json::to_vec(&header).map_err(err)?)
                .map_err(err)?;
            for part in bytes.chunks(PART_BYTES) {
                w.write_record(part).map_err(err)?;
                done += part.len() as u64;
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
            new_bytes: stats.new_bytes.min(stats.logical_bytes),
            elapsed: Duration::from_secs_f64(stats.duration_secs.max(0.0)),
        })
    }

    fn restore(
        &self,
        owner: &Scope,
        manifest_id: &str,
        target: &Scope,
        cluster_id: &str,
    ) -> Result<u64, String> {
        let id = self.vault_id(owner, manifest_id)?;
        let mut records = self.vault.reader(&owner.account, &id).map_err(err)?;
        let mut restored = 0u64;
        while let Some(header) = records.next() {
            let header: FileHeader = serde_json::from_slice(&header.map_err(err)?).map_err(err)?;
            let mut bytes = Vec::with_capacity(usize::try_from(header.len).unwrap_or(0));
            for _ in 0..header.parts {
                let part = records
                    .next()
                    .ok_or("capture ends inside a file")?
                    .map_err(err)?;
                bytes.extend_from_slice(&part);
            }
            if bytes.len() as u64 != header.len {
                return Err(format!(
                    "file {} restored {} bytes, expected {}",
                    header.name,
                    bytes.len(),
                    header.len
                ));
            }
            restored += header.len;
            self.live
                .write_file(target, cluster_id, &header.name, &bytes)?;
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
