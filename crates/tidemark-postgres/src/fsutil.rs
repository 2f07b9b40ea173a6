//! Directory copies preserving modes, recursive fsync, and reading a file's tail.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::account::RunAs;
use crate::error::{PgError, Result};

/// Files of a stopped data directory that a copy must not carry: the lock of a server that
/// ran there, its command line, and tidemark's server log.
pub(crate) const NOT_COPIED: [&str; 3] =
    ["postmaster.pid", "postmaster.opts", crate::server::LOG_FILE];

/// Copies the tree `from` into the (existing, empty) directory `to`, preserving permission
/// bits and giving everything to `owner`. Only regular files and directories occur in a data
/// directory made by `initdb` without `--waldir`; anything else is refused rather than guessed.
pub(crate) fn copy_tree(from: &Path, to: &Path, owner: &RunAs) -> Result<()> {
    let mut stack = vec![(from.to_owned(), to.to_owned())];
    while let Some((src, dst)) = stack.pop() {
        let entries = fs::read_dir(&src).map_err(|e| PgError::io("read directory", &src, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| PgError::io("read directory", &src, e))?;
            let name = entry.file_name();
            if src == from && NOT_COPIED.iter().any(|n| name == *n) {
                continue;
            }
            let s = entry.path();
            let d = dst.join(&name);
            let ft = entry.file_type().map_err(|e| PgError::io("stat", &s, e))?;
            if ft.is_dir() {
                let mode = fs::metadata(&s)
                    .map_err(|e| PgError::io("stat", &s, e))?
                    .permissions()
                    .mode();
                fs::create_dir(&d).map_err(|e| PgError::io("create directory", &d, e))?;
                fs::set_permissions(&d, fs::Permissions::from_mode(mode))
                    .map_err(|e| PgError::io("chmod", &d, e))?;
                owner.chown(&d)?;
                stack.push((s, d));
            } else if ft.is_file() {
                copy_file(&s, &d, owner)?;
            } else {
                return Err(PgError::io(
                    "copy (not a file or directory)",
                    &s,
                    std::io::Error::from(std::io::ErrorKind::InvalidInput),
                ));
            }
        }
    }
    Ok(())
}

/// Copies one file with its permission bits, owned by `owner`: created with its mode and
/// chowned through the open handle, and its bytes moved by `io::copy` (copy_file_range on
/// Linux, reflinks where the filesystem has them); empty files (a sixth of a data directory)
/// need no copy at all.
fn copy_file(src: &Path, dst: &Path, owner: &RunAs) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut from = fs::File::open(src).map_err(|e| PgError::io("open", src, e))?;
    let meta = from.metadata().map_err(|e| PgError::io("stat", src, e))?;
    let mode = meta.permissions().mode() & 0o7777;
    let mut to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(dst)
        .map_err(|e| PgError::io("create", dst, e))?;
    // The umask may have cleared bits of `mode`.
    if to.metadata().map(|m| m.permissions().mode() & 0o7777).ok() != Some(mode) {
        to.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| PgError::io("chmod", dst, e))?;
    }
    owner.fchown(&to, dst)?;
    if meta.len() > 0 {
        std::io::copy(&mut from, &mut to).map_err(|e| PgError::io("copy", src, e))?;
    }
    Ok(())
}

/// fsyncs every file and directory under `root` (and `root`), so that a tree written without
/// syncing (`initdb --no-sync`, a copy) is durable before it is renamed into place.
///
/// On Linux this is one `syncfs(2)` of the filesystem holding `root`: a data directory has
/// about a thousand small files, and fsyncing each costs 2–5 ms on our CI disks (seconds per
/// copy), while one filesystem sync flushes them all in one journal commit.
#[cfg(target_os = "linux")]
pub(crate) fn fsync_tree(root: &Path) -> Result<()> {
    let dir = fs::File::open(root).map_err(|e| PgError::io("open", root, e))?;
    nix::unistd::syncfs(&dir).map_err(|e| PgError::io("syncfs", root, e.into()))
}

/// fsyncs every file and directory under `root` (and `root`), one by one.
#[cfg(not(target_os = "linux"))]
pub(crate) fn fsync_tree(root: &Path) -> Result<()> {
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| PgError::io("read directory", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| PgError::io("read directory", &dir, e))?;
            let p = entry.path();
            let ft = entry.file_type().map_err(|e| PgError::io("stat", &p, e))?;
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                fsync_path(&p)?;
            }
        }
        fsync_path(&dir)?;
    }
    Ok(())
}

/// fsyncs one file or directory (directories are opened read-only, which Linux allows).
pub(crate) fn fsync_path(p: &Path) -> Result<()> {
    fs::File::open(p)
        .and_then(|f| f.sync_all())
        .map_err(|e| PgError::io("fsync", p, e))
}

/// The last `max` bytes of a file written at or after offset `from`, as text (empty if it
/// cannot be read).
pub(crate) fn tail(p: &Path, max: u64, from: u64) -> String {
    let Ok(mut f) = fs::File::open(p) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(max).max(from)));
    let mut buf = Vec::new();
    let _ = f.take(max).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).trim_end().to_owned()
}

/// Whether `dir` is missing or an empty directory.
pub(crate) fn is_missing_or_empty(dir: &Path) -> Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(PgError::io("read directory", dir, e)),
    }
}

/// Removes the entries `<prefix><pid>` of `dir` whose process is gone: work directories of a
/// tidemark that died mid-way. A postgres still running on one (started by that tidemark) is
/// stopped first.
pub(crate) fn remove_stale_siblings(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 != std::process::id() && !crate::orphan::is_alive(pid) {
            let path = e.path();
            if let Err(err) = crate::orphan::stop_orphan(&path) {
                tracing::warn!("leaving {}: {err}", path.display());
                continue;
            }
            let _ = fs::remove_dir_all(&path);
        }
    }
}
