//! A throwaway PostgreSQL 15 instance with COMPAT_SQL installed, shared by one test binary.
//!
//! initdb runs in a fresh directory under /tmp (root's home is out of the `postgres` account's
//! reach); when the tests run as root, PostgreSQL runs as `postgres` through
//! `CommandExt::uid/gid`. The server is started by a small `sh` wrapper that reads its stdin:
//! when the test process exits, however it exits, the pipe closes and the wrapper stops the
//! server and removes the directory, so no process or data outlives the tests.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls, SimpleQueryMessage};

const START_DEADLINE: Duration = Duration::from_secs(30);

pub struct Pg {
    socket_dir: PathBuf,
    /// Held open for the life of the test process; closing it stops the server.
    _stdin: Mutex<ChildStdin>,
    _wrapper: Mutex<Child>,
}

static PG: OnceLock<Result<Pg, String>> = OnceLock::new();

/// The shared instance (started on first use). Panics with the reason if it cannot start:
/// these tests exist to run against a real PostgreSQL, so a missing one is a failure.
pub fn pg() -> &'static Pg {
    match PG.get_or_init(start) {
        Ok(pg) => pg,
        Err(e) => panic!("cannot start PostgreSQL for the tests: {e}"),
    }
}

fn bin_dir() -> PathBuf {
    std::env::var_os("TIDEMARK_POSTGRES_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"))
}

/// uid and gid of the `postgres` account, when we are root and must not run the server as
/// ourselves.
fn run_as() -> Result<Option<(u32, u32)>, String> {
    let me = std::fs::metadata("/proc/self").map_err(|e| e.to_string())?;
    if std::os::unix::fs::MetadataExt::uid(&me) != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() > 3 && f[0] == "postgres" {
            let uid = f[2].parse().map_err(|_| "bad uid in /etc/passwd")?;
            let gid = f[3].parse().map_err(|_| "bad gid in /etc/passwd")?;
            return Ok(Some((uid, gid)));
        }
    }
    Err("running as root and there is no `postgres` account to run PostgreSQL".into())
}

fn command(program: &Path, who: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(program);
    if let Some((uid, gid)) = who {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

/// Waits for `child` with a deadline, killing it if it overruns.
fn wait_with_deadline(mut child: Child, what: &str, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(st) if st.success() => return Ok(()),
            Some(st) => return Err(format!("{what} failed: {st}")),
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what} did not finish within {limit:?}"));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn start() -> Result<Pg, String> {
    let who = run_as()?;
    let root = tempfile::Builder::new()
        .prefix("tidemark-rs-sql-")
        .tempdir_in("/tmp")
        .map_err(|e| e.to_string())?
        .keep(); // removed by the wrapper when the server stops
    let data = root.join("data");
    let sock = root.join("sock");
    for dir in [&data, &sock] {
        std::fs::create_dir(dir).map_err(|e| e.to_string())?;
    }
    if let Some((uid, gid)) = who {
        for dir in [&root, &data, &sock] {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
        }
    }
    let initdb = command(&bin_dir().join("initdb"), who)
        .args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .arg("-D")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("initdb: {e}"))?;
    wait_with_deadline(initdb, "initdb", START_DEADLINE)?;

    // The wrapper: start the server, wait for our stdin to close, stop it, clean up.
    let script = r#"
        "$1" -D "$2" -k "$3" -c listen_addresses= -c fsync=off -c shared_buffers=16MB \
             -c max_connections=50 -c timezone=UTC </dev/null >"$3/server.log" 2>&1 &
        pid=$!
        while read -r _; do :; done
        kill -INT "$pid"
        wait "$pid"
        rm -rf "$4"
    "#;
    let mut wrapper = command(Path::new("/bin/sh"), who)
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(bin_dir().join("postgres"))
        .arg(&data)
        .arg(&sock)
        .arg(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting postgres: {e}"))?;
    let stdin = wrapper.stdin.take().ok_or("no stdin pipe to the wrapper")?;
    let pg = Pg {
        socket_dir: sock.clone(),
        _stdin: Mutex::new(stdin),
        _wrapper: Mutex::new(wrapper),
    };
    let deadline = Instant::now() + START_DEADLINE;
    let mut client = loop {
        match pg.try_connect("template1") {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => {
                let log = std::fs::read_to_string(sock.join("server.log")).unwrap_or_default();
                return Err(format!(
                    "server not ready within {START_DEADLINE:?}: {e}\n{log}"
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    client
        .batch_execute(tidemark_redshift_sql::COMPAT_SQL)
        .map_err(|e| format!("COMPAT_SQL: {e:?}"))?;
    drop(client);
    Ok(pg)
}

impl Pg {
    fn try_connect(&self, db: &str) -> Result<Client, postgres::Error> {
        postgres::Config::new()
            .host_path(&self.socket_dir)
            .port(5432)
            .user("postgres")
            .dbname(db)
            .connect_timeout(Duration::from_secs(10))
            .connect(NoTls)
    }

    /// A new database cloned from template1 (so with COMPAT_SQL), and a session in it.
    pub fn fresh_db(&self, name: &str) -> Db {
        let mut admin = self
            .try_connect("postgres")
            .expect("connect to postgres db");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let client = self
            .try_connect(name)
            .expect("connect to the test database");
        Db { client }
    }
}

pub struct Db {
    pub client: Client,
}

impl Db {
    /// Runs Redshift SQL the way the Endpoint will: through `rewrite`, then PostgreSQL.
    pub fn run(&mut self, redshift_sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let sql = match tidemark_redshift_sql::rewrite(redshift_sql) {
            Ok(Some(s)) => s,
            Ok(None) => redshift_sql.to_string(),
            Err(e) => return Err(format!("rewrite refused: {e}")),
        };
        let msgs = self
            .client
            .simple_query(&sql)
            .map_err(|e| format!("{}: {:?}", sql, e.as_db_error().map(|d| d.message())))?;
        let mut rows = Vec::new();
        for m in msgs {
            if let SimpleQueryMessage::Row(r) = m {
                rows.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect());
            }
        }
        Ok(rows)
    }

    /// Runs statements that return nothing of interest; panics with the error otherwise.
    pub fn exec(&mut self, redshift_sql: &str) {
        if let Err(e) = self.run(redshift_sql) {
            panic!("{e}");
        }
    }

    /// The single value of a one-row, one-column query, as PostgreSQL's text.
    pub fn value(&mut self, redshift_sql: &str) -> Option<String> {
        let rows = self.run(redshift_sql).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), 1, "{redshift_sql}: {rows:?}");
        assert_eq!(rows[0].len(), 1, "{redshift_sql}: {rows:?}");
        rows[0][0].clone()
    }

    /// Shorthand: the value, which must not be NULL.
    pub fn text(&mut self, redshift_sql: &str) -> String {
        self.value(redshift_sql)
            .unwrap_or_else(|| panic!("{redshift_sql}: NULL"))
    }
}
