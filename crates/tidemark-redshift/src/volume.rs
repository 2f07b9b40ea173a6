//! Cluster volumes: each cluster owns a storage volume of named files holding its databases,
//! and a snapshot is a captured manifest of that volume. [`VolumeFiles`] is the live
//! volume (streamed per file, so a volume may be far larger than memory), [`VolumeBackup`]
//! adds capture, restore and deletion of manifests. Implementations: [`crate::StoreVolumes`]
//! (all in the catalog store; the crate's default and test backend), [`crate::DirVolumes`]
//! (real directories) and [`crate::VaultVolumes`] (either of those live, snapshots in the
//! vault).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::catalog::Scope;

/// Prefix of in-progress writes of directory volumes; never part of a volume file name.
pub const TEMP_PREFIX: &str = ".tidemark-tmp-";

/// Accepts a volume file name or says why not: `/`-separated plain components (no empty,
/// `.` or `..` component, no `\` or NUL, none starting with [`TEMP_PREFIX`]), so every
/// backend holds the same names and a directory volume never escapes its directory.
pub fn check_name(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.contains(['\\', '\0'])
        || name
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == ".." || c.starts_with(TEMP_PREFIX));
    if bad {
        return Err(format!("invalid volume file name {name:?}"));
    }
    Ok(())
}

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

/// One file of a cluster volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    /// `/`-separated path inside the volume, e.g. `dump/globals.sql`.
    pub name: String,
    pub bytes: u64,
}

/// A volume file being written: bytes go in through [`std::io::Write`]; nothing is visible
/// under the file's name until [`FileSink::commit`] (on disk: temp file, fsync, rename).
/// Dropping a sink without committing abandons the write.
pub trait FileSink: Write + Send {
    fn commit(self: Box<Self>) -> Result<(), String>;
}

/// The live files of cluster volumes. Every method streams or works per file, so a volume
/// may be far larger than memory; only [`VolumeFiles::read_volume`] loads whole files.
pub trait VolumeFiles: Send + Sync {
    /// Creates the empty volume of a new cluster (replacing any stale one of that id). Its
    /// files come from the database layer when a snapshot is taken (`ClusterDatabase::dump`).
    fn create_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String>;
    /// Starts writing (creating or replacing) one file of a cluster's volume.
    fn create_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
    ) -> Result<Box<dyn FileSink>, String>;
    /// The files of a cluster's volume in name order (empty when it has none).
    fn list_files(&self, scope: &Scope, cluster_id: &str) -> Result<Vec<FileInfo>, String>;
    /// Opens one file for streaming reads.
    fn open_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
    ) -> Result<Box<dyn Read + Send>, String>;
    /// Removes one file of a cluster's volume (a missing one is fine).
    fn remove_file(&self, scope: &Scope, cluster_id: &str, name: &str) -> Result<(), String>;
    /// Removes a cluster's volume (its backups stay).
    fn drop_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String>;
    /// Moves a volume to a new cluster id (ModifyCluster rename).
    fn rename_volume(&self, scope: &Scope, from: &str, to: &str) -> Result<(), String>;
    /// Where the volume lives on disk; `None` for volumes kept in the store.
    fn volume_path(&self, scope: &Scope, cluster_id: &str) -> Option<PathBuf>;

    /// Writes (creates or replaces) one whole file.
    fn write_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), String> {
        let mut sink = self.create_file(scope, cluster_id, name)?;
        sink.write_all(bytes).map_err(err)?;
        sink.commit()
    }

    /// Every file with its bytes, in name order. Whole files in memory: for tests and small
    /// volumes only; captures and restores stream instead.
    fn read_volume(
        &self,
        scope: &Scope,
        cluster_id: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut out = Vec::new();
        for f in self.list_files(scope, cluster_id)? {
            let mut bytes = Vec::new();
            self.open_file(scope, cluster_id, &f.name)?
                .read_to_end(&mut bytes)
                .map_err(err)?;
            out.push((f.name, bytes));
        }
        Ok(out)
    }
}

/// Cluster volumes and their backups.
pub trait VolumeBackup: VolumeFiles {
    /// Captures the volume as manifest `manifest_id` (unique within `scope`), reporting
    /// progress as data is stored.
    fn capture(
        &self,
        scope: &Scope,
        cluster_id: &str,
        manifest_id: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<CaptureResult, String>;
    /// Replaces the volume of `cluster_id` in `target` with the files of `owner`'s manifest
    /// (another account when the snapshot is shared), reporting progress as data lands
    /// (`total_bytes` 0 when the backend cannot know it in advance). Returns the bytes
    /// restored.
    fn restore(
        &self,
        owner: &Scope,
        manifest_id: &str,
        target: &Scope,
        cluster_id: &str,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, String>;
    /// Forgets a manifest and any file contents no other manifest of `scope` uses.
    fn delete(&self, scope: &Scope, manifest_id: &str) -> Result<(), String>;
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}
