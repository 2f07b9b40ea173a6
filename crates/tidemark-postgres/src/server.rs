//! One postmaster as a direct child: spawn, wait until ready, stop (SIGINT, then SIGKILL).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::account::RunAs;
use crate::discover::PgBinaries;
use crate::error::{PgError, Result};
use crate::fsutil::tail;
use crate::proc::wait_timeout;

/// The server's stderr, in its data directory.
pub const LOG_FILE: &str = "tidemark-server.log";
/// A log larger than this is moved aside (once) when the server starts, bounding its growth.
const LOG_ROTATE_BYTES: u64 = 8 << 20;
/// How much of the log an error message quotes.
const LOG_TAIL_BYTES: u64 = 3000;
/// The port number in the socket's name; every instance has its own socket directory.
pub const SOCKET_NAME: &str = ".s.PGSQL.5432";

/// The path of the server log of a data directory.
pub fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join(LOG_FILE)
}

/// Starts `postgres -D data_dir -k socket_dir` as a direct child (not through `pg_ctl`), so
/// its death is seen by `try_wait`, and waits until it accepts connections.
/// `settings` are `name=value` pairs passed as `-c`, over `postgresql.conf`.
pub(crate) fn start(
    bins: &PgBinaries,
    run_as: &RunAs,
    data_dir: &Path,
    socket_dir: &Path,
    settings: &[&str],
    timeout: Duration,
) -> Result<Child> {
    let deadline = Instant::now() + timeout;
    loop {
        // Only what this attempt logged explains its failure.
        let (mut child, log_from) = spawn(bins, run_as, data_dir, socket_dir, settings)?;
        match wait_ready(&mut child, data_dir, socket_dir, deadline)? {
            Ready::Yes => return Ok(child),
            Ready::Exited(status) => {
                let log_tail = tail(&log_path(data_dir), LOG_TAIL_BYTES, log_from);
                // After a postmaster is SIGKILLed its backends notice within milliseconds and
                // exit; until they do, the shared memory they hold blocks a new server. Retry.
                if log_tail.contains("pre-existing shared memory block")
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                return Err(PgError::StartFailed {
                    data_dir: data_dir.to_owned(),
                    what: format!("exited while starting ({status})"),
                    log_tail,
                });
            }
            Ready::TimedOut => {
                let _ = stop(&mut child, Duration::from_secs(5));
                return Err(PgError::StartFailed {
                    data_dir: data_dir.to_owned(),
                    what: format!("was not ready within {timeout:?}"),
                    log_tail: tail(&log_path(data_dir), LOG_TAIL_BYTES, log_from),
                });
            }
        }
    }
}

/// Spawns the postmaster with its output appended to the log; returns the child and the
/// log's length before it started.
fn spawn(
    bins: &PgBinaries,
    run_as: &RunAs,
    data_dir: &Path,
    socket_dir: &Path,
    settings: &[&str],
) -> Result<(Child, u64)> {
    let log = log_path(data_dir);
    if std::fs::metadata(&log).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let _ = std::fs::rename(&log, data_dir.join(format!("{LOG_FILE}.old")));
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| PgError::io("open server log", &log, e))?;
    run_as.chown(&log)?;
    let log_from = file
        .metadata()
        .map_err(|e| PgError::io("stat server log", &log, e))?
        .len();
    let err = file
        .try_clone()
        .map_err(|e| PgError::io("open server log", &log, e))?;
    let program = bins.program("postgres");
    let mut cmd = Command::new(&program);
    cmd.arg("-D")
        .arg(data_dir)
        .arg("-k")
        .arg(socket_dir)
        .args(["-p", "5432"])
        .args(settings.iter().flat_map(|kv| ["-c", kv]))
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err);
    run_as.apply(&mut cmd);
    let child = cmd
        .spawn()
        .map_err(|source| PgError::Spawn { program, source })?;
    Ok((child, log_from))
}

enum Ready {
    Yes,
    Exited(std::process::ExitStatus),
    TimedOut,
}

/// Ready means what `pg_ctl` checks: `postmaster.pid` names our child and its status line
/// (line 8, PostgreSQL 10+) says `ready`; plus the socket file exists.
fn wait_ready(
    child: &mut Child,
    data_dir: &Path,
    socket_dir: &Path,
    deadline: Instant,
) -> Result<Ready> {
    let want = child.id().to_string();
    let sock = socket_dir.join(SOCKET_NAME);
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| PgError::io("waiting for postgres", data_dir, e))?
        {
            return Ok(Ready::Exited(status));
        }
        if let Some(pf) = PidFile::read(data_dir)
            && pf.pid.to_string() == want
            && pf.status.as_deref() == Some("ready")
            && sock.exists()
        {
            return Ok(Ready::Yes);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(Ready::TimedOut);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Fast shutdown (SIGINT: abort sessions, checkpoint, exit), then SIGKILL if it has not exited
/// within `timeout`. Always reaps the child.
pub(crate) fn stop(child: &mut Child, timeout: Duration) -> Result<()> {
    if child
        .try_wait()
        .map_err(|e| PgError::io("waiting for postgres", "", e))?
        .is_some()
    {
        return Ok(());
    }
    let pid = Pid::from_raw(child.id() as i32);
    let _ = kill(pid, Signal::SIGINT);
    if wait_timeout(child, timeout)?.is_some() {
        return Ok(());
    }
    tracing::warn!(
        pid = child.id(),
        "postgres ignored fast shutdown; killing it"
    );
    let _ = child.kill();
    wait_timeout(child, Duration::from_secs(10))?;
    Ok(())
}

/// The fields of `postmaster.pid` tidemark uses.
#[derive(Debug)]
pub(crate) struct PidFile {
    pub pid: i32,
    pub data_dir: PathBuf,
    pub status: Option<String>,
}

impl PidFile {
    pub(crate) fn read(data_dir: &Path) -> Option<PidFile> {
        // The file is tiny; a bigger one is not PostgreSQL's and is ignored.
        let text = std::fs::read(data_dir.join("postmaster.pid")).ok()?;
        if text.len() > 4096 {
            return None;
        }
        let text = String::from_utf8_lossy(&text);
        let mut lines = text.lines();
        let pid = lines.next()?.trim().parse().ok()?;
        let dir = PathBuf::from(lines.next()?);
        let status = lines.nth(5).map(|s| s.trim().to_owned());
        Some(PidFile {
            pid,
            data_dir: dir,
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::PidFile;

    #[test]
    fn pid_files_of_any_shape_are_read_or_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write =
            |text: &[u8]| std::fs::write(dir.path().join("postmaster.pid"), text).expect("write");
        write(b"4242\n/data/x\n1700000000\n5432\n/tmp\n\n  5432001    0\nready   \n");
        let pf = PidFile::read(dir.path()).expect("a real one");
        assert_eq!((pf.pid, pf.status.as_deref()), (4242, Some("ready")));
        assert_eq!(pf.data_dir, std::path::Path::new("/data/x"));
        write(b"4242\n/data/x\n");
        assert_eq!(PidFile::read(dir.path()).expect("short").status, None);
        for junk in [
            &b""[..],
            b"\n",
            b"abc\n/x\n",
            b"\xff\xfe\n\x00",
            &[b'1'; 10_000][..],
        ] {
            write(junk);
            assert!(PidFile::read(dir.path()).is_none(), "{junk:?}");
        }
    }
}
