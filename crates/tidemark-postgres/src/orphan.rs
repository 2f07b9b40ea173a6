//! Stopping a postmaster left running on a data directory by a tidemark that was `kill -9`'d.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{PgError, Result};
use crate::server::PidFile;

/// How long an orphan gets to exit after SIGQUIT, then after SIGKILL.
const QUIT_GRACE: Duration = Duration::from_secs(5);

/// If `data_dir/postmaster.pid` names a live postgres serving `data_dir`, stops it (SIGQUIT:
/// immediate shutdown, the postmaster stops its backends first; then SIGKILL) and waits for it
/// to exit. Returns its pid if there was one. A stale pid file (dead process, or a pid reused by
/// something else) is left for PostgreSQL, which starts over it.
pub(crate) fn stop_orphan(data_dir: &Path) -> Result<Option<i32>> {
    let Some(pf) = PidFile::read(data_dir) else {
        return Ok(None);
    };
    if pf.pid <= 0 || !is_alive(pf.pid) || !serves(pf.pid, &pf.data_dir, data_dir) {
        return Ok(None);
    }
    tracing::warn!(pid = pf.pid, data_dir = %data_dir.display(), "stopping an orphaned postgres");
    let pid = Pid::from_raw(pf.pid);
    let _ = kill(pid, Signal::SIGQUIT);
    if wait_gone(pf.pid, QUIT_GRACE) {
        return Ok(Some(pf.pid));
    }
    let _ = kill(pid, Signal::SIGKILL);
    if wait_gone(pf.pid, QUIT_GRACE) {
        return Ok(Some(pf.pid));
    }
    Err(PgError::OrphanSurvived {
        pid: pf.pid,
        data_dir: data_dir.to_owned(),
    })
}

/// Alive and not a zombie (a zombie has exited; only its parent's `wait` is missing).
pub(crate) fn is_alive(pid: i32) -> bool {
    if kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses, which may itself hold ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state != "Z" && state != "X"),
        Err(_) => true, // no /proc (macOS): kill(0) is all we have
    }
}

/// Whether `pid` is a postgres for `data_dir`: the pid file must name this directory, and on
/// Linux the process's command line must be a postgres one (pids get reused).
fn serves(pid: i32, pidfile_dir: &Path, data_dir: &Path) -> bool {
    let same_dir = match (pidfile_dir.canonicalize(), data_dir.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => pidfile_dir == data_dir,
    };
    if !same_dir {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => cmdline
            .split(|b| *b == 0)
            .next()
            .map(|argv0| String::from_utf8_lossy(argv0).into_owned())
            .is_some_and(|argv0| {
                let base = argv0.rsplit('/').next().unwrap_or(&argv0);
                base.starts_with("postgres") || base.starts_with("postmaster")
            }),
        Err(_) => true,
    }
}

fn wait_gone(pid: i32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !is_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    !is_alive(pid)
}
