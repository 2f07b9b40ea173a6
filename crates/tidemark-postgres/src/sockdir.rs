//! Unix socket directories: short enough for `sun_path`, private to the server's account.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::account::{RunAs, absolute};
use crate::error::{PgError, Result};
use crate::server::SOCKET_NAME;

/// `sun_path` holds 108 bytes on Linux, including the terminating NUL.
#[cfg(target_os = "linux")]
pub const MAX_SOCKET_PATH: usize = 107;
/// `sun_path` holds 104 bytes on macOS and the BSDs, including the terminating NUL.
#[cfg(not(target_os = "linux"))]
pub const MAX_SOCKET_PATH: usize = 103;

/// Where short socket directories go when the natural place is too deep.
const SHORT_ROOT: &str = "/tmp";

/// A socket directory; one of ours under /tmp is removed when dropped.
#[derive(Debug)]
pub(crate) struct SocketDir {
    path: PathBuf,
    scratch: bool,
}

impl SocketDir {
    /// `requested` if `<requested>/.s.PGSQL.5432` fits in `sun_path`, otherwise
    /// `/tmp/tidemark-pg-<hash of requested>` (stable, so a restarted tidemark finds the same
    /// one). Created mode 0700 and owned by the server's account.
    pub(crate) fn for_instance(requested: &Path, run_as: &RunAs) -> Result<Self> {
        let requested = absolute(requested)?;
        let (path, scratch) = if fits(&requested) {
            (requested, false)
        } else {
            let hex = blake3::hash(requested.as_os_str().as_bytes()).to_hex();
            // Removed when the instance is dropped (it is made again at the next start), so
            // /tmp does not collect one per cluster ever created.
            (
                PathBuf::from(SHORT_ROOT).join(format!("tidemark-pg-{}", &hex[..16])),
                true,
            )
        };
        prepare(&path, run_as)?;
        Ok(SocketDir { path, scratch })
    }

    /// A private directory for a short-lived server (the template's), removed on drop.
    pub(crate) fn scratch(run_as: &RunAs) -> Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            PathBuf::from(SHORT_ROOT).join(format!("tidemark-pg-s{}-{n}", std::process::id()));
        if path.exists() {
            let _ = std::fs::remove_dir_all(&path);
        }
        prepare(&path, run_as)?;
        Ok(SocketDir {
            path,
            scratch: true,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        if self.scratch {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn fits(dir: &Path) -> bool {
    dir.join(SOCKET_NAME).as_os_str().len() <= MAX_SOCKET_PATH
}

/// Creates the directory private to the account; an existing one in a shared place such as
/// /tmp must already belong to that account, or someone else could be listening there.
fn prepare(path: &Path, run_as: &RunAs) -> Result<()> {
    if let Ok(m) = std::fs::symlink_metadata(path)
        && (!m.is_dir() || (m.uid() != run_as.uid() && m.uid() != nix::unistd::geteuid().as_raw()))
    {
        return Err(PgError::io(
            "socket directory is not a directory of ours",
            path,
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        ));
    }
    run_as.check_reachable(path)?;
    run_as.private_dir(path)
}
