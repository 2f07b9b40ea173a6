//! Template once and reused; start → SQL → stop; healing a killed server; long socket paths.

use std::time::Instant;

use std::os::unix::fs::PermissionsExt;

use tidemark_postgres::{Instance, InstanceConfig, MAX_SOCKET_PATH, PgError, RunAs, Template};

mod common;
use common::{SETUP_SQL, bins, instance, open_tempdir, scalar, template};

#[test]
fn template_is_built_once_and_reused() {
    let root = open_tempdir();
    let t0 = Instant::now();
    // Two callers at once: one builds, the other waits and gets the same directory.
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let r = root.path().to_owned();
            std::thread::spawn(move || Template::ensure(bins(), &r, SETUP_SQL))
        })
        .collect();
    let made: Vec<_> = racers
        .into_iter()
        .map(|h| h.join().expect("thread").expect("build"))
        .collect();
    let built = t0.elapsed();
    assert_eq!(made[0], made[1]);
    let a = made[0].clone();
    let marker = a.join("PG_VERSION");
    let before = std::fs::metadata(&marker)
        .and_then(|m| m.modified())
        .expect("stat");
    let t1 = Instant::now();
    let b = Template::ensure(bins(), root.path(), SETUP_SQL).expect("second call");
    let reused = t1.elapsed();
    assert_eq!(a, b);
    assert_eq!(
        std::fs::metadata(&marker)
            .and_then(|m| m.modified())
            .expect("stat"),
        before
    );
    eprintln!("template build {built:?}, reuse {reused:?}");
    assert!(reused.as_millis() < 50, "reuse took {reused:?}");
    // Nothing half-built or running is left behind.
    let names: Vec<_> = std::fs::read_dir(root.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
        .collect();
    assert_eq!(names, [Template::dir_name(bins(), SETUP_SQL)]);
    assert!(!a.join("postmaster.pid").exists());
    // Other setup SQL is another template (not built here: each build costs seconds).
    assert_ne!(
        Template::dir_name(bins(), "SELECT 1;"),
        Template::dir_name(bins(), SETUP_SQL)
    );
}

#[test]
fn start_sql_stop() {
    let mut inst = instance();
    assert!(inst.is_running());
    assert!(inst.socket_path().exists());
    // As root, the server runs as the service account with none of root's groups.
    let pid = inst.pid().expect("pid");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .expect("field present")
    };
    match RunAs::detect().expect("account") {
        RunAs::Account { uid, gid, .. } => {
            assert_eq!(field("Uid:"), vec![uid.to_string(); 4]);
            assert_eq!(field("Gid:"), vec![gid.to_string(); 4]);
            assert!(field("Groups:").is_empty(), "{:?}", field("Groups:"));
        }
        RunAs::Current => assert_ne!(field("Uid:")[0], "0"),
    }
    // The setup SQL ran in template1, so databases created later have it.
    inst.ensure_database("dev", "rdsdb").expect("create dev");
    inst.ensure_database("dev", "rdsdb").expect("idempotent");
    assert_eq!(scalar(&inst, "dev", "SELECT tidemark_probe()"), "42");
    inst.execute("dev", "CREATE TABLE t (id int primary key, v numeric(12,2)); INSERT INTO t VALUES (1, 10.50), (2, 0.25)")
        .expect("ddl and insert");
    assert_eq!(scalar(&inst, "dev", "SELECT sum(v) FROM t"), "10.75");
    inst.ensure_login_role("alice", false).expect("role");
    inst.ensure_login_role("alice", true)
        .expect("role again, now superuser");
    assert_eq!(
        scalar(
            &inst,
            "dev",
            "SELECT rolsuper FROM pg_roles WHERE rolname = 'alice'"
        ),
        "t"
    );
    assert_eq!(inst.databases().expect("list"), ["dev", "postgres"]);
    assert!(
        inst.database_sizes()
            .expect("sizes")
            .iter()
            .all(|(_, s)| *s > 1_000_000)
    );
    // Errors keep PostgreSQL's SQLSTATE.
    let err = inst
        .execute("dev", "SELECT * FROM missing")
        .expect_err("no such table");
    assert_eq!(err.sqlstate(), Some("42P01"), "{err}");

    inst.stop().expect("stop");
    assert!(!inst.is_running());
    let common::Running { inst, dir } = inst;
    drop(inst); // releases its claim on the data directory
    assert!(
        !dir.path().join("data/postmaster.pid").exists(),
        "clean shutdown"
    );
    // A new instance on the same data directory keeps the rows.
    let cfg = InstanceConfig::new(dir.path().join("data"), dir.path().join("sock"), template());
    let again = Instance::start(bins(), cfg).expect("restart");
    assert_eq!(scalar(&again, "dev", "SELECT count(*) FROM t"), "2");
}

#[test]
fn long_socket_dir_gets_a_short_one() {
    let dir = open_tempdir();
    let deep = dir.path().join("x".repeat(60)).join("y".repeat(60));
    let cfg = InstanceConfig::new(dir.path().join("data"), &deep, template());
    let inst = Instance::start(bins(), cfg).expect("start with a deep socket dir");
    let sock = inst.socket_path();
    assert!(
        sock.as_os_str().len() <= MAX_SOCKET_PATH,
        "{}",
        sock.display()
    );
    assert!(
        sock.to_string_lossy().starts_with("/tmp/tidemark-pg-"),
        "{}",
        sock.display()
    );
    assert_eq!(scalar(&inst, "postgres", "SELECT 1"), "1");
    let parent = sock.parent().expect("socket has a directory").to_owned();
    drop(inst);
    assert!(
        !parent.exists(),
        "the short socket dir is removed with the instance"
    );
}

#[test]
fn a_data_dir_has_one_instance_and_a_stopped_one_answers_not_running() {
    let mut inst = instance();
    let cfg = InstanceConfig::new(inst.data_dir(), inst.dir.path().join("sock2"), template());
    match Instance::start(bins(), cfg) {
        Err(PgError::InUse(d)) => assert_eq!(d, inst.data_dir()),
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(inst.is_running(), "the first instance was not touched");
    inst.stop().expect("stop");
    match inst.query("postgres", "SELECT 1") {
        Err(PgError::NotRunning(_)) => {}
        other => panic!("expected NotRunning, got {other:?}"),
    }
}

#[test]
fn closed_parent_directories_are_reported_for_the_service_account() {
    let dir = open_tempdir();
    let closed = dir.path().join("closed");
    std::fs::create_dir(&closed).expect("mkdir");
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let cfg = InstanceConfig::new(closed.join("data"), dir.path().join("sock"), template());
    let started = Instance::start(bins(), cfg);
    match RunAs::detect().expect("account") {
        // As root the server runs as `postgres`, which cannot enter a root-owned 0700 dir.
        RunAs::Account { .. } => match started {
            Err(PgError::Unreachable { path, .. }) => assert_eq!(path, closed),
            other => panic!("expected Unreachable, got {other:?}"),
        },
        // As anyone else the server runs as that user, who owns the directory.
        RunAs::Current => assert!(started.is_ok()),
    }
}

#[test]
fn a_server_that_cannot_start_fails_fast_with_its_log() {
    let dir = open_tempdir();
    let data = dir.path().join("data");
    let cfg = InstanceConfig::new(&data, dir.path().join("sock"), template());
    drop(Instance::start(bins(), cfg.clone()).expect("first start"));
    let conf = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).expect("read conf");
    text.push_str("\nshared_buffers = banana\n");
    std::fs::write(&conf, text).expect("write conf");
    let t0 = std::time::Instant::now();
    match Instance::start(bins(), cfg) {
        Err(PgError::StartFailed { what, log_tail, .. }) => {
            assert!(what.contains("exited"), "{what}");
            assert!(log_tail.contains("shared_buffers"), "{log_tail}");
        }
        other => panic!("expected StartFailed, got {other:?}"),
    }
    assert!(t0.elapsed().as_secs() < 10, "took {:?}", t0.elapsed());

    // A directory with other files is never taken for a data directory.
    let stray = dir.path().join("stray");
    std::fs::create_dir(&stray).expect("mkdir");
    std::fs::write(stray.join("notes.txt"), "mine").expect("write");
    let cfg = InstanceConfig::new(&stray, dir.path().join("sock"), template());
    assert!(matches!(
        Instance::start(bins(), cfg),
        Err(PgError::NotADataDir(_))
    ));
    // A data directory of another major version is refused, not started or overwritten.
    let old = dir.path().join("old");
    std::fs::create_dir(&old).expect("mkdir");
    std::fs::write(old.join("PG_VERSION"), "9.6\n").expect("write");
    let cfg = InstanceConfig::new(&old, dir.path().join("sock"), template());
    match Instance::start(bins(), cfg) {
        Err(PgError::VersionMismatch { found, .. }) => assert_eq!(found, "9.6"),
        other => panic!("expected VersionMismatch, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(stray.join("notes.txt")).expect("kept"),
        "mine"
    );
}

#[test]
fn half_made_copies_of_dead_processes_are_cleaned_up() {
    let dir = open_tempdir();
    let stale = dir.path().join(".data.copy-999999999");
    std::fs::create_dir(&stale).expect("mkdir");
    std::fs::write(stale.join("PG_VERSION"), "15\n").expect("write");
    let cfg = InstanceConfig::new(dir.path().join("data"), dir.path().join("sock"), template());
    let inst = Instance::start(bins(), cfg).expect("start");
    assert!(!stale.exists(), "the dead copy was removed");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".copy-")), "{names:?}");
    drop(inst);
}

#[test]
fn a_spare_copy_renamed_into_place_starts_without_copying() {
    let dir = open_tempdir();
    let spare = dir.path().join("spare");
    Template::copy_into(bins(), template(), &spare).expect("spare copy");
    assert!(spare.join("PG_VERSION").is_file());
    let data = dir.path().join("cluster-1");
    std::fs::rename(&spare, &data).expect("take the spare");
    let cfg = InstanceConfig::new(&data, dir.path().join("sock"), template());
    let inst = Instance::start(bins(), cfg).expect("start on the spare");
    assert_eq!(scalar(&inst, "postgres", "SELECT 1"), "1");
}
