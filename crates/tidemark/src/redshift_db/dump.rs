//! Snapshots of a cluster's database. When a snapshot is requested, every database of the
//! cluster exports a PostgreSQL snapshot (a `REPEATABLE READ` transaction kept open), so the
//! snapshot holds exactly the transactions committed before the request however long its
//! job waits; the job then `pg_dump`s each database from its exported snapshot (directory
//! format, uncompressed: one file per table, rows in physical order, which the vault's
//! content-defined chunking dedupes against earlier snapshots) and puts the files in the
//! cluster's volume, which the volume capture stores in the vault. A volume that is a
//! directory gets the dump written inside it under a temporary name and renamed into place
//! (the bytes are written once, never copied); an in-store volume gets the files copied in.
//! A restore writes the files back and `pg_restore`s them into a fresh instance, straight
//! from the volume directory when there is one. A dump left half written by a `kill -9` is
//! removed when the server starts ([`sweep_partial_dumps`]). Redshift's table attributes,
//! which `pg_dump` leaves out, travel in a file beside the dump (`attrs.rs`). A base backup was not used: it
//! is consistent only as of its end, not as of the request. The marks live in memory: a
//! manual snapshot whose job had not run when the server stopped fails rather than capture
//! a later state.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use tidemark_postgres::HeldSnapshot;
use tidemark_redshift::{Scope, TEMP_PREFIX, TableSpec, VolumeFiles};

use super::cluster::{ClusterDb, mark_initialized, remove_dir};

/// The volume file that says what the rest of the volume is.
pub const DB_FILE: &str = "tidemark-db.json";
/// Where the dump's files go in the volume.
const DUMP_DIR: &str = "dump";
/// Where a dump is written when the volume is not a directory, in the cluster's directory
/// (`staging-<volume>` for a table restore's copy of a snapshot's dump).
const STAGING: &str = "staging";

/// Where a dump is written inside a directory volume before it is renamed to [`DUMP_DIR`]:
/// hidden from the volume's listings (and so from captures) by its prefix.
fn partial_dump_dir(volume: &Path) -> PathBuf {
    volume.join(format!("{TEMP_PREFIX}{DUMP_DIR}"))
}

/// A snapshot's point in time.
pub(crate) enum Mark {
    /// The cluster's database was never made: it is the pristine database of a new cluster.
    Pristine,
    /// One exported snapshot per database.
    Held(Vec<HeldSnapshot>),
}

#[derive(Serialize, Deserialize)]
struct DbFile {
    format: u32,
    /// No dump: the database is a new cluster's (master user and database only).
    pristine: bool,
    /// The PostgreSQL major version that wrote the dump.
    #[serde(default)]
    postgres_major: Option<u32>,
}

fn bad(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

impl ClusterDb {
    /// Fixes snapshot `snapshot`'s point in time: now.
    pub fn mark(&self, snapshot: &str) -> Result<(), String> {
        let mark = if self.materialized()? {
            Mark::Held(self.with_instance(|i| {
                i.export_all_snapshots()
                    .map_err(|e| bad("exporting snapshots", e))
            })?)
        } else {
            Mark::Pristine
        };
        self.marks
            .lock()
            .map_err(|_| "marks lock poisoned")?
            .insert(snapshot.to_owned(), mark);
        Ok(())
    }

    pub fn unmark(&self, snapshot: &str) {
        if let Ok(mut m) = self.marks.lock() {
            m.remove(snapshot);
        }
    }

    /// Writes the database as of `snapshot`'s mark into the cluster's volume.
    pub fn dump(
        &self,
        snapshot: &str,
        scope: &Scope,
        id: &str,
        volumes: &dyn VolumeFiles,
    ) -> Result<(), String> {
        let mark = self
            .marks
            .lock()
            .map_err(|_| "marks lock poisoned")?
            .remove(snapshot)
            .ok_or_else(|| {
                "the snapshot's point in time was lost (the server restarted before its data \
                 was taken)"
                    .to_owned()
            })?;
        let volume = volumes.volume_path(scope, id);
        let staging = match &volume {
            Some(v) => partial_dump_dir(v),
            None => self.dir()?.join(STAGING),
        };
        remove_dir(&staging)?;
        let result = match mark {
            Mark::Pristine => write_volume(
                &DbFile {
                    format: 1,
                    pristine: true,
                    postgres_major: None,
                },
                None,
                scope,
                id,
                volumes,
            ),
            Mark::Held(snaps) => {
                let major = self.shared.bins.as_ref().ok().map(|(b, _)| b.major());
                let info = DbFile {
                    format: 1,
                    pristine: false,
                    postgres_major: major,
                };
                self.with_instance(|i| {
                    let attrs = super::attrs::read(i, &snaps)?;
                    if let Some(parent) = staging.parent() {
                        std::fs::create_dir_all(parent)
                            .map_err(|e| bad("creating the dump's directory", e))?;
                    }
                    i.dump_snapshots(snaps, &staging)
                        .map_err(|e| bad("dumping the database", e))?;
                    super::attrs::write(&staging, &attrs)
                })
                .and_then(|_| match &volume {
                    Some(v) => place_dump(&info, &staging, v, scope, id, volumes),
                    None => write_volume(&info, Some(&staging), scope, id, volumes),
                })
            }
        };
        remove_dir(&staging)?;
        result
    }

    /// RestoreFromClusterSnapshot: the cluster's database becomes the one in its (restored)
    /// volume. A volume without a dump (a snapshot of a cluster nobody changed, or taken
    /// before clusters had databases) gives a new cluster's pristine database.
    pub fn load(&self, scope: &Scope, id: &str, volumes: &dyn VolumeFiles) -> Result<(), String> {
        self.discard_data()?;
        let staging = self.dir()?.join(STAGING);
        let Some(dump) = stage(volumes, scope, id, &staging)? else {
            return Ok(());
        };
        self.loading.store(true, Ordering::SeqCst);
        let restored = self.with_instance_mut(|i| {
            i.restore_cluster_bulk(&dump)
                .map_err(|e| bad("restoring the database", e))?;
            super::attrs::apply_all(i, &dump)
        });
        self.loading.store(false, Ordering::SeqCst);
        remove_dir(&staging)?;
        restored?;
        mark_initialized(&self.dir()?)
    }
}

/// Where the dump in volume `id` can be read: the volume's own `dump/` directory when the
/// volume is a directory, else a copy in `staging` (replaced). `None` when the volume holds
/// no dump (a pristine database, or no database file at all).
fn stage(
    volumes: &dyn VolumeFiles,
    scope: &Scope,
    id: &str,
    staging: &Path,
) -> Result<Option<PathBuf>, String> {
    let files = volumes.list_files(scope, id)?;
    if !files.iter().any(|f| f.name == DB_FILE) {
        return Ok(None);
    }
    let mut text = String::new();
    volumes
        .open_file(scope, id, DB_FILE)?
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| bad("reading the snapshot's database file", e))?;
    let info: DbFile =
        serde_json::from_str(&text).map_err(|e| bad("the snapshot's database file", e))?;
    if info.pristine {
        return Ok(None);
    }
    if let Some(v) = volumes.volume_path(scope, id) {
        return Ok(Some(v.join(DUMP_DIR)));
    }
    remove_dir(staging)?;
    let prefix = format!("{DUMP_DIR}/");
    for f in files.iter().filter(|f| f.name.starts_with(&prefix)) {
        let rel = &f.name[prefix.len()..];
        let path: PathBuf = staging.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| bad("staging the dump", e))?;
        }
        let mut out = std::fs::File::create(&path).map_err(|e| bad("staging the dump", e))?;
        std::io::copy(&mut volumes.open_file(scope, id, &f.name)?, &mut out)
            .map_err(|e| bad("staging the dump", e))?;
    }
    Ok(Some(staging.to_owned()))
}

impl ClusterDb {
    /// RestoreTableFromClusterSnapshot: one table of the dump in volume `files` into this
    /// cluster's database under its new name.
    pub fn restore_table(
        &self,
        scope: &Scope,
        files: &str,
        t: &TableSpec,
        volumes: &dyn VolumeFiles,
    ) -> Result<(), String> {
        let staging = self.dir()?.join(format!("{STAGING}-{files}"));
        let Some(whole) = stage(volumes, scope, files, &staging)? else {
            remove_dir(&staging)?;
            return Err(format!(
                "Table {}.{} does not exist in database {} of the snapshot.",
                t.source_schema, t.source_table, t.source_database
            ));
        };
        let dump = tidemark_postgres::cluster_database_dir(&whole, &t.source_database);
        let result = if dump.is_dir() {
            self.with_instance(|i| {
                i.restore_table(
                    &t.target_database,
                    &dump,
                    &t.source_schema,
                    &t.source_table,
                    &t.target_schema,
                    &t.new_table,
                )
                .map_err(|e| e.to_string())?;
                super::attrs::apply_renamed(
                    i,
                    &whole,
                    (&t.source_database, &t.source_schema, &t.source_table),
                    (&t.target_database, &t.target_schema, &t.new_table),
                )
            })
        } else {
            Err(format!(
                "Database {} does not exist in the snapshot.",
                t.source_database
            ))
        };
        remove_dir(&staging)?;
        result
    }
}

/// Makes the dump written at `partial` (inside directory volume `volume`) the volume's dump:
/// the database file goes first, so that a crash in between leaves a volume without one
/// (read as "no snapshot data", and the interrupted snapshot fails anyway), never a database
/// file over a half-replaced dump.
fn place_dump(
    info: &DbFile,
    partial: &Path,
    volume: &Path,
    scope: &Scope,
    id: &str,
    volumes: &dyn VolumeFiles,
) -> Result<(), String> {
    volumes.remove_file(scope, id, DB_FILE)?;
    let dest = volume.join(DUMP_DIR);
    remove_dir(&dest)?;
    std::fs::rename(partial, &dest).map_err(|e| bad("placing the dump in the volume", e))?;
    std::fs::File::open(volume)
        .and_then(|d| d.sync_all())
        .map_err(|e| bad("syncing the volume directory", e))?;
    let json = serde_json::to_vec(info).map_err(|e| bad("encoding", e))?;
    volumes.write_file(scope, id, DB_FILE, &json)
}

/// Removes what a `kill -9` left half done under `root` (a volumes root or the databases'
/// root, laid out `<account>/<region>/<cluster>/`): partial dumps inside directory volumes
/// and the staging copies of dumps in cluster directories. Called at start-up, before any
/// job runs, so nothing is writing there. Returns how many it removed.
pub(crate) fn sweep_partial_dumps(root: &Path) -> Result<usize, String> {
    let partial = format!("{TEMP_PREFIX}{DUMP_DIR}");
    let staging_copy = format!("{STAGING}-");
    let mut removed = 0;
    // Three fixed levels, so the walk is bounded whatever else lives under the root.
    // Accounts are 12 digits; the root's other directories (templates, TLS) are not swept.
    let accounts = subdirs(root)?.into_iter().filter(|d| {
        d.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit()))
    });
    for account in accounts {
        for region in subdirs(&account)? {
            for cluster in subdirs(&region)? {
                for entry in subdirs(&cluster)? {
                    let Some(name) = entry.file_name().and_then(|n| n.to_str()) else {
                        continue;
                    };
                    if name == partial || name == STAGING || name.starts_with(&staging_copy) {
                        remove_dir(&entry)?;
                        removed += 1;
                    }
                }
            }
        }
    }
    Ok(removed)
}

/// The directories directly under `dir` (none if it does not exist); symlinks are not
/// followed, so the sweep never leaves the root.
fn subdirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("listing {}: {e}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("listing {}: {e}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(entry.path());
        }
    }
    Ok(out)
}

/// Replaces the volume's files with `info` and the dump under `staging`.
fn write_volume(
    info: &DbFile,
    staging: Option<&Path>,
    scope: &Scope,
    id: &str,
    volumes: &dyn VolumeFiles,
) -> Result<(), String> {
    // Only this layer's files are replaced: anything else in the volume stays.
    for f in volumes.list_files(scope, id)? {
        if f.name == DB_FILE || f.name.starts_with(&format!("{DUMP_DIR}/")) {
            volumes.remove_file(scope, id, &f.name)?;
        }
    }
    if let Some(dir) = staging {
        let mut files = Vec::new();
        walk(dir, dir, &mut files)?;
        files.sort();
        for (rel, path) in files {
            let mut sink = volumes.create_file(scope, id, &format!("{DUMP_DIR}/{rel}"))?;
            let mut src = std::fs::File::open(&path).map_err(|e| bad("reading the dump", e))?;
            std::io::copy(&mut src, &mut sink).map_err(|e| bad("storing the dump", e))?;
            sink.commit()?;
        }
    }
    let json = serde_json::to_vec(info).map_err(|e| bad("encoding", e))?;
    volumes.write_file(scope, id, DB_FILE, &json)
}

/// Every file under `dir`, as (`/`-separated path relative to `root`, path).
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| bad("listing the dump", e))? {
        let entry = entry.map_err(|e| bad("listing the dump", e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| bad("listing the dump", e))?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)
                .map_err(|e| bad("listing the dump", e))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
    Ok(())
}
