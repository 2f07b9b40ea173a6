//! A killed server is healed; an orphan from a `kill -9`'d tidemark is stopped; stale pid files.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tidemark_postgres::{Instance, InstanceConfig, RunAs};

mod common;
use common::{bins, instance, open_tempdir, scalar, template};

fn alive(pid: u32) -> bool {
    // A zombie has exited; only its parent's wait is missing.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill9(pid: u32) {
    let st = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(st.success());
}

#[test]
fn killed_server_is_restarted_with_committed_rows() {
    let mut inst = instance();
    inst.execute(
        "postgres",
        "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000)",
    )
    .expect("load");
    // A session is open when the postmaster dies (its backend must not block the restart).
    let mut open = inst.connect("postgres").expect("session");
    open.batch_execute("INSERT INTO t VALUES (1001)")
        .expect("committed insert");
    let pid = inst.pid().expect("running");
    kill9(pid);
    wait_until("the instance to notice", || !inst.is_running());
    assert!(
        inst.ensure_running().expect("restart"),
        "a restart happened"
    );
    assert!(
        !inst.ensure_running().expect("no-op"),
        "already running: nothing to do"
    );
    assert_ne!(inst.pid(), Some(pid));
    assert_eq!(scalar(&inst, "postgres", "SELECT count(*) FROM t"), "1001");
    assert_eq!(scalar(&inst, "postgres", "SELECT sum(id) FROM t"), "501501");
}

/// Starts postgres on `data` the way a dead tidemark would have left it: running, and not a
/// child of this process (the shell that started it exits at once).
fn start_orphan(data: &Path, sock: &Path) -> u32 {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "{} -D {} -k {} -p 5432 >/dev/null 2>&1 &",
            bins().program("postgres").display(),
            data.display(),
            sock.display()
        ))
        .current_dir("/");
    if let RunAs::Account { uid, gid, .. } = RunAs::detect().expect("account") {
        cmd.gid(gid).uid(uid);
    }
    assert!(cmd.status().expect("sh").success());
    let mut pid = 0;
    wait_until("the orphan to be ready", || {
        let text = std::fs::read_to_string(data.join("postmaster.pid")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() >= 8 && lines[7].trim() == "ready" {
            pid = lines[0].trim().parse().expect("pid");
            true
        } else {
            false
        }
    });
    pid
}

#[test]
fn orphan_of_a_dead_parent_is_stopped_before_start() {
    let dir = open_tempdir();
    let data = dir.path().join("data");
    let sock = dir.path().join("sock");
    let cfg = InstanceConfig::new(&data, &sock, template());
    let mut first = Instance::start(bins(), cfg.clone()).expect("first start");
    first
        .execute(
            "postgres",
            "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)",
        )
        .expect("write");
    first.stop().expect("stop");
    drop(first);

    let orphan = start_orphan(&data, &sock);
    assert!(alive(orphan));
    let inst = Instance::start(bins(), cfg).expect("start over the orphan");
    assert!(!alive(orphan), "the orphan was stopped");
    assert_eq!(scalar(&inst, "postgres", "SELECT sum(n) FROM kept"), "7");
}

#[test]
fn stale_pid_files_are_started_over_and_strangers_left_alone() {
    let dir = open_tempdir();
    let data = dir.path().join("data");
    let cfg = InstanceConfig::new(&data, dir.path().join("sock"), template());
    let mut inst = Instance::start(bins(), cfg.clone()).expect("first start");
    let pid = inst.pid().expect("pid");
    kill9(pid);
    wait_until("death", || !inst.is_running());
    drop(inst); // its child is already reaped: nothing left to stop
    assert!(
        data.join("postmaster.pid").exists(),
        "SIGKILL leaves the pid file"
    );
    let again = Instance::start(bins(), cfg.clone()).expect("start over a stale pid file");
    drop(again);

    // A live process that is not a postgres for this directory is never signalled.
    let mut stranger = Command::new("sleep").arg("30").spawn().expect("sleep");
    let pid_file = format!(
        "{}\n{}\n0\n5432\n/tmp\n\n0 0\nready\n",
        stranger.id(),
        data.display()
    );
    std::fs::write(data.join("postmaster.pid"), pid_file).expect("fake pid file");
    let started = Instance::start(bins(), cfg);
    assert!(alive(stranger.id()), "the stranger still runs");
    stranger.kill().expect("kill sleep");
    stranger.wait().expect("reap sleep");
    // As root, PostgreSQL (running as postgres) cannot signal root's process and starts over
    // the file; as another user it refuses, naming the pid file. Either way nothing hangs.
    if let Err(e) = started {
        assert!(e.to_string().contains("postmaster.pid"), "{e}");
    }
}
