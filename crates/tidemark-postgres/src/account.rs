//! The account PostgreSQL runs as: the current user, or `postgres` when tidemark runs as root.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{PgError, Result};

/// The account name looked up when running as root.
pub const SERVICE_ACCOUNT: &str = "postgres";

/// Who PostgreSQL's server processes (and `initdb`) run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    /// Not root: run as ourselves.
    Current,
    /// Root: switch to this unprivileged account in the child.
    Account {
        /// Its name, for messages.
        name: String,
        /// Its user id.
        uid: u32,
        /// Its primary group id.
        gid: u32,
    },
}

impl RunAs {
    /// `postgres` when the effective uid is 0 (PostgreSQL refuses to run as root), else the
    /// current user.
    pub fn detect() -> Result<Self> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(RunAs::Current);
        }
        Self::account(SERVICE_ACCOUNT)
    }

    /// A named account, looked up through the system's user database (NSS).
    pub fn account(name: &str) -> Result<Self> {
        match nix::unistd::User::from_name(name) {
            Ok(Some(u)) => Ok(RunAs::Account {
                name: name.to_owned(),
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
            }),
            _ => Err(PgError::NoServiceAccount(name.to_owned())),
        }
    }

    /// Makes `cmd` run as this account. With a uid set, std's child setup also calls
    /// `setgroups(0)` before `setuid` (it drops root's supplementary groups whenever it has
    /// the privilege to), so the server keeps no group of root's.
    pub(crate) fn apply(&self, cmd: &mut Command) {
        if let RunAs::Account { uid, gid, .. } = self {
            cmd.gid(*gid).uid(*uid);
        }
        // The child may not be able to read our working directory (e.g. /root).
        cmd.current_dir("/");
    }

    /// Gives `path` to the account (no-op for [`RunAs::Current`]).
    pub(crate) fn chown(&self, path: &Path) -> Result<()> {
        if let RunAs::Account { uid, gid, .. } = self {
            std::os::unix::fs::chown(path, Some(*uid), Some(*gid))
                .map_err(|e| PgError::io("chown", path, e))?;
        }
        Ok(())
    }

    /// Gives the open file `f` (at `path`, for messages) to the account.
    pub(crate) fn fchown(&self, f: &std::fs::File, path: &Path) -> Result<()> {
        if let RunAs::Account { uid, gid, .. } = self {
            std::os::unix::fs::fchown(f, Some(*uid), Some(*gid))
                .map_err(|e| PgError::io("chown", path, e))?;
        }
        Ok(())
    }

    /// Creates `dir` (and parents) and makes it a private directory of the account: mode
    /// 0700, owned by it. PostgreSQL insists on 0700 (or 0750) for data directories.
    pub(crate) fn private_dir(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| PgError::io("create directory", dir, e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| PgError::io("chmod", dir, e))?;
        self.chown(dir)
    }

    /// Checks that the account can traverse every ancestor of `dir`, so that a data directory
    /// under a closed home (`/root` is 0700) fails with a clear message, not PostgreSQL's.
    pub(crate) fn check_reachable(&self, dir: &Path) -> Result<()> {
        let RunAs::Account { name, uid, gid } = self else {
            return Ok(());
        };
        let abs = absolute(dir)?;
        for anc in abs.ancestors().skip(1) {
            let Ok(m) = std::fs::metadata(anc) else {
                continue; // not made yet: it will be created (by root) below a checked parent
            };
            let mode = m.permissions().mode();
            let bit = if m.uid() == *uid {
                0o100
            } else if m.gid() == *gid {
                0o010
            } else {
                0o001
            };
            if mode & bit == 0 {
                return Err(PgError::Unreachable {
                    path: anc.to_owned(),
                    account: name.clone(),
                    reason: format!(
                        "mode {:o}, owner uid {} gid {}; put the data directory elsewhere or allow traversal (chmod o+x)",
                        mode & 0o7777,
                        m.uid(),
                        m.gid()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The uid files made for PostgreSQL belong to.
    pub(crate) fn uid(&self) -> u32 {
        match self {
            RunAs::Account { uid, .. } => *uid,
            RunAs::Current => nix::unistd::geteuid().as_raw(),
        }
    }
}

/// `path` made absolute against the current directory (without resolving links).
pub(crate) fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| PgError::io("resolve path", path, e))
}
