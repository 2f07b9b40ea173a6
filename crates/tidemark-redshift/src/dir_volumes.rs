//! [`DirVolumes`]: cluster volumes as real directories. Layout under the data directory:
//!
//! ```text
//! <data-dir>/redshift/volumes/<account>/<region>/<cluster-id>/   one cluster's volume
//!     tidemark-db.json, dump/…    the database as of the last snapshot (written by the
//!                                 database layer; empty for a cluster never snapshotted)
//! ```
//!
//! A file name is its `/`-separated path inside the volume directory (`base/dev/t1`);
//! each component must be a plain name (no `.`/`..`, no `\`, no NUL) and must not start
//! with [`TEMP_PREFIX`], which marks files being written: a write goes to a hidden temp file
//! beside its target, is fsynced, renamed over the target and the directory fsynced, so a
//! crash leaves either the old or the new file, never a torn one. Listings skip temp files.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::catalog::Scope;
use crate::volume::{FileInfo, FileSink, TEMP_PREFIX, VolumeFiles, check_name};

/// Cluster volumes kept as directories under one root (`<data-dir>/redshift/volumes`).
#[derive(Debug, Clone)]
pub struct DirVolumes {
    root: PathBuf,
}

fn io_err(what: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", what.display())
}

/// Accepts an account, region or cluster id as one path component.
fn check_component(c: &str) -> Result<&str, String> {
    if c.is_empty() || c == "." || c == ".." || c.contains(['/', '\\', '\0']) {
        return Err(format!("invalid volume path component {c:?}"));
    }
    Ok(c)
}

/// Makes `dir`'s entries durable (a rename or unlink inside it).
fn sync_dir(dir: &Path) -> Result<(), String> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

impl DirVolumes {
    /// Volumes under `root`, created on first use.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The conventional root inside a data directory.
    pub fn under_data_dir(data_dir: &Path) -> Self {
        Self::new(data_dir.join("redshift").join("volumes"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, scope: &Scope, cluster_id: &str) -> Result<PathBuf, String> {
        Ok(self
            .root
            .join(check_component(&scope.account)?)
            .join(check_component(&scope.region)?)
            .join(check_component(cluster_id)?))
    }

    fn file(&self, scope: &Scope, cluster_id: &str, name: &str) -> Result<PathBuf, String> {
        check_name(name)?;
        let mut p = self.dir(scope, cluster_id)?;
        p.extend(name.split('/'));
        Ok(p)
    }

    fn remove_dir(dir: &Path) -> Result<(), String> {
        match fs::remove_dir_all(dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(dir)(e)),
        }
    }
}

/// A file being written: a temp file beside the target, renamed over it on commit.
struct DirSink {
    out: BufWriter<File>,
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Write for DirSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.out.write(bytes)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl FileSink for DirSink {
    fn commit(mut self: Box<Self>) -> Result<(), String> {
        self.out.flush().map_err(io_err(&self.tmp))?;
        self.out.get_ref().sync_all().map_err(io_err(&self.tmp))?;
        fs::rename(&self.tmp, &self.target).map_err(io_err(&self.target))?;
        self.committed = true;
        match self.target.parent() {
            Some(dir) => sync_dir(dir),
            None => Ok(()),
        }
    }
}

impl Drop for DirSink {
    fn drop(&mut self) {
        if !self.committed {
            // An abandoned write leaves nothing behind; failure only leaves a hidden temp
            // file that listings skip and the next write of the same name replaces.
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<FileInfo>) -> Result<(), String> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let full = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry.file_type().map_err(io_err(&entry.path()))?;
        if kind.is_dir() {
            walk(&entry.path(), &full, out)?;
        } else if kind.is_file() {
            let bytes = entry.metadata().map_err(io_err(&entry.path()))?.len();
            out.push(FileInfo { name: full, bytes });
        }
    }
    Ok(())
}

impl VolumeFiles for DirVolumes {
    fn create_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String> {
        // A directory of the same id can outlive its cluster (a store reset): start clean.
        self.drop_volume(scope, cluster_id)?;
        let dir = self.dir(scope, cluster_id)?;
        fs::create_dir_all(&dir).map_err(io_err(&dir))
    }

    fn create_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
    ) -> Result<Box<dyn FileSink>, String> {
        let target = self.file(scope, cluster_id, name)?;
        let parent = target
            .parent()
            .ok_or_else(|| format!("volume file {name:?} has no directory"))?;
        fs::create_dir_all(parent).map_err(io_err(parent))?;
        let base = name.rsplit('/').next().unwrap_or(name);
        let tmp = parent.join(format!("{TEMP_PREFIX}{base}"));
        let file = File::create(&tmp).map_err(io_err(&tmp))?;
        Ok(Box::new(DirSink {
            out: BufWriter::with_capacity(1 << 20, file),
            tmp,
            target,
            committed: false,
        }))
    }

    fn list_files(&self, scope: &Scope, cluster_id: &str) -> Result<Vec<FileInfo>, String> {
        let mut out = Vec::new();
        walk(&self.dir(scope, cluster_id)?, "", &mut out)?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn open_file(
        &self,
        scope: &Scope,
        cluster_id: &str,
        name: &str,
    ) -> Result<Box<dyn Read + Send>, String> {
        let p = self.file(scope, cluster_id, name)?;
        Ok(Box::new(File::open(&p).map_err(io_err(&p))?))
    }

    fn remove_file(&self, scope: &Scope, cluster_id: &str, name: &str) -> Result<(), String> {
        let path = self.file(scope, cluster_id, name)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(&path)(e)),
        }
        match path.parent() {
            Some(dir) => sync_dir(dir),
            None => Ok(()),
        }
    }

    fn drop_volume(&self, scope: &Scope, cluster_id: &str) -> Result<(), String> {
        Self::remove_dir(&self.dir(scope, cluster_id)?)
    }

    fn rename_volume(&self, scope: &Scope, from: &str, to: &str) -> Result<(), String> {
        let (src, dst) = (self.dir(scope, from)?, self.dir(scope, to)?);
        Self::remove_dir(&dst)?;
        match fs::rename(&src, &dst) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(&src)(e)),
        }
        match dst.parent() {
            Some(dir) => sync_dir(dir),
            None => Ok(()),
        }
    }

    fn volume_path(&self, scope: &Scope, cluster_id: &str) -> Option<PathBuf> {
        self.dir(scope, cluster_id).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        // check_name lives in volume.rs; both backends use it.
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            "../x",
            "a/./b",
            ".tidemark-tmp-x",
            "a\\b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["PG_VERSION", "base/dev/t1", "a.b/c-d"] {
            assert!(check_name(good).is_ok(), "{good:?} refused");
        }
        assert!(check_component("..").is_err());
    }
}
