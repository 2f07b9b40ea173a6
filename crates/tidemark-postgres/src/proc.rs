//! Running PostgreSQL's command-line tools with a deadline and bounded captured output.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{PgError, Result};

/// At most this much of a tool's standard output is kept (versions, listings, `--bindir`).
const STDOUT_CAP: usize = 4 << 20;
/// At most this much of the end of a tool's standard error is kept for error messages.
const STDERR_TAIL: usize = 16 << 10;

/// What a finished tool printed.
pub(crate) struct ToolOutput {
    pub stdout: String,
}

/// Runs `cmd` to completion within `timeout`; a non-zero exit or a timeout is an error
/// carrying the tail of its standard error. Output is read on threads so a chatty tool can
/// never block on a full pipe.
pub(crate) fn run_tool(mut cmd: Command, timeout: Duration) -> Result<ToolOutput> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| PgError::Spawn {
        program: program.clone().into(),
        source,
    })?;
    let out = child
        .stdout
        .take()
        .map(|s| thread::spawn(move || read_head(s, STDOUT_CAP)));
    let err = child
        .stderr
        .take()
        .map(|s| thread::spawn(move || read_tail(s, STDERR_TAIL)));
    let status = wait_timeout(&mut child, timeout)?;
    let status = match status {
        Some(s) => s,
        None => {
            // The deadline passed: kill it, then reap it so no zombie is left behind.
            let _ = child.kill();
            let _ = wait_timeout(&mut child, Duration::from_secs(10));
            // A grandchild may still hold the pipe open: take the output only if the reader
            // is done soon, never wait on it.
            let stderr = join_within(err, Duration::from_secs(1));
            return Err(PgError::ToolTimeout {
                program,
                timeout,
                stderr,
            });
        }
    };
    let stdout = join(out);
    let stderr = join(err);
    if !status.success() {
        return Err(PgError::ToolFailed {
            program,
            status: status.to_string(),
            stderr,
        });
    }
    Ok(ToolOutput { stdout })
}

fn join(h: Option<thread::JoinHandle<String>>) -> String {
    // A reader thread only panics if the allocator does; an empty string then is harmless.
    h.and_then(|h| h.join().ok()).unwrap_or_default()
}

fn join_within(h: Option<thread::JoinHandle<String>>, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    match h {
        Some(h) => {
            while !h.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
            if h.is_finished() {
                h.join().unwrap_or_default()
            } else {
                "(output unavailable: still held open by a subprocess)".into()
            }
        }
        None => String::new(),
    }
}

fn read_head(mut r: impl Read, cap: usize) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

fn read_tail(mut r: impl Read, cap: usize) -> String {
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > 2 * cap {
            kept.drain(..kept.len() - cap);
        }
    }
    if kept.len() > cap {
        kept.drain(..kept.len() - cap);
    }
    String::from_utf8_lossy(&kept).trim_end().to_owned()
}

/// Waits for `child` to exit for at most `timeout`; `None` if it is still running.
pub(crate) fn wait_timeout(child: &mut Child, timeout: Duration) -> Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Some(status)),
            Ok(None) => {}
            Err(e) => return Err(PgError::io("waiting for child process", "", e)),
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_failure() {
        let mut ok = Command::new("sh");
        ok.args(["-c", "echo hello; echo warn >&2"]);
        let out = run_tool(ok, Duration::from_secs(10)).expect("sh runs");
        assert_eq!(out.stdout, "hello\n");

        let mut bad = Command::new("sh");
        bad.args(["-c", "echo boom >&2; exit 3"]);
        match run_tool(bad, Duration::from_secs(10)) {
            Err(PgError::ToolFailed { stderr, .. }) => assert_eq!(stderr, "boom"),
            other => panic!("expected ToolFailed, got {:?}", other.map(|o| o.stdout)),
        }
    }

    #[test]
    fn kills_on_timeout() {
        let mut slow = Command::new("sleep");
        slow.arg("30");
        let t0 = Instant::now();
        let r = run_tool(slow, Duration::from_millis(200));
        assert!(matches!(r, Err(PgError::ToolTimeout { .. })));
        assert!(t0.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_grandchild_holding_the_pipe_does_not_stall_a_timeout() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 5 & sleep 30"]);
        let t0 = Instant::now();
        let r = run_tool(cmd, Duration::from_millis(200));
        assert!(matches!(r, Err(PgError::ToolTimeout { .. })));
        assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    }

    #[test]
    fn tail_keeps_the_end() {
        let data = vec![b'a'; 100_000];
        let mut with_end = data.clone();
        with_end.extend_from_slice(b"END");
        let t = read_tail(&with_end[..], 10);
        assert_eq!(t.len(), 10);
        assert!(t.ends_with("END"));
    }
}
