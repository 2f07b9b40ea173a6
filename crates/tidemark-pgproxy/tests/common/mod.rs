//! Test harness: a throwaway PostgreSQL 15 per test (copied from a template made once per
//! machine), run as `postgres` when the tests run as root, and the proxy in front of it.
#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tidemark_pgproxy::{BackendError, Limits, Login, LoginError, Route, SqlError, md5_verifier};

pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
pub const USER: &str = "awsuser";
pub const PASSWORD: &str = "Secret-Passw0rd";

/// `(uid, gid)` to run PostgreSQL as: the `postgres` account when we are root.
fn run_as() -> Option<(u32, u32)> {
    let id = |flag: &str, who: Option<&str>| -> Option<u32> {
        let out = Command::new("id").arg(flag).args(who).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    if id("-u", None)? != 0 {
        return None;
    }
    Some((id("-u", Some("postgres"))?, id("-g", Some("postgres"))?))
}

fn as_pg(cmd: &mut Command) -> &mut Command {
    if let Some((uid, gid)) = run_as() {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn chown_pg(path: &Path) {
    if let Some((uid, gid)) = run_as() {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to postgres");
    }
}

/// A template data directory with the `dev` database and the `awsuser` role, made once per
/// machine (atomically, by rename) and copied for each test.
fn template() -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let path = PathBuf::from("/tmp/tidemark-pgproxy-test-template-v1");
    if path.join("PG_VERSION").exists() {
        return path;
    }
    let work = tempfile::Builder::new()
        .prefix("tidemark-pgproxy-tpl")
        .tempdir_in("/tmp")
        .expect("tempdir");
    chown_pg(work.path());
    let data = work.path().join("data");
    let st = as_pg(
        Command::new(format!("{PG_BIN}/initdb"))
            .args([
                "--no-sync",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "-U",
                "postgres",
                "-D",
            ])
            .arg(&data),
    )
    .stdout(Stdio::null())
    .status()
    .expect("initdb runs");
    assert!(st.success(), "initdb failed");
    {
        let pg = Pg::start_in(work.path(), &data);
        pg.psql_direct("CREATE DATABASE dev");
        pg.psql_direct(&format!("CREATE ROLE {USER} SUPERUSER LOGIN"));
    }
    // Another test process may have installed one meanwhile; either copy will do.
    if std::fs::rename(&data, &path).is_err() {
        assert!(
            path.join("PG_VERSION").exists(),
            "could not install the template at {}",
            path.display()
        );
    }
    path
}

/// A running PostgreSQL, stopped (fast shutdown) on drop.
pub struct Pg {
    child: Child,
    pub sockdir: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Pg {
    pub fn start() -> Pg {
        let tpl = template();
        let dir = tempfile::Builder::new()
            .prefix("tidemark-pgproxy-pg")
            .tempdir_in("/tmp")
            .expect("tempdir");
        chown_pg(dir.path());
        let data = dir.path().join("data");
        let st = as_pg(Command::new("cp").arg("-a").arg(&tpl).arg(&data))
            .status()
            .expect("cp runs");
        assert!(st.success(), "copying the template failed");
        let mut pg = Pg::start_in(dir.path(), &data);
        pg._dir = Some(dir);
        pg
    }

    fn start_in(dir: &Path, data: &Path) -> Pg {
        let sockdir = dir.join("sock");
        std::fs::create_dir_all(&sockdir).expect("socket dir");
        chown_pg(&sockdir);
        let child = as_pg(
            Command::new(format!("{PG_BIN}/postgres"))
                .arg("-D")
                .arg(data)
                .arg("-k")
                .arg(&sockdir)
                .args([
                    "-c",
                    "listen_addresses=",
                    "-c",
                    "shared_buffers=8MB",
                    "-c",
                    "max_connections=40",
                    "-c",
                    "fsync=off",
                ]),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("postgres starts");
        let pg = Pg {
            child,
            sockdir,
            _dir: None,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = Command::new(format!("{PG_BIN}/pg_isready"))
                .arg("-q")
                .arg("-h")
                .arg(&pg.sockdir)
                .status();
            if ok.map(|s| s.success()).unwrap_or(false) {
                return pg;
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not start within 20 s"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn socket(&self) -> PathBuf {
        self.sockdir.join(".s.PGSQL.5432")
    }

    /// Runs SQL straight on the instance (no proxy) as `postgres`, database `dev` once it exists.
    pub fn psql_direct(&self, sql: &str) -> String {
        let db = if sql.starts_with("CREATE DATABASE") || sql.starts_with("CREATE ROLE") {
            "postgres"
        } else {
            "dev"
        };
        let out = Command::new("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "postgres",
                "-d",
                db,
                "-h",
            ])
            .arg(&self.sockdir)
            .args(["-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        // SIGINT = fast shutdown; fall back to SIGKILL after 10 s.
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Rewriter = dyn Fn(&str) -> Result<Option<String>, SqlError> + Send + Sync;

/// A route to one instance: user `awsuser` with `PASSWORD`, any rewrite the test gives.
pub struct TestRoute {
    socket: PathBuf,
    rewriter: Box<Rewriter>,
    pub executed: Mutex<Vec<String>>,
}

impl Route for TestRoute {
    fn login(&self, user: &str, database: &str) -> Result<Login, LoginError> {
        if user != USER {
            return Err(LoginError::UnknownUser);
        }
        Ok(Login {
            md5_verifier: md5_verifier(USER, PASSWORD),
            backend_user: USER.into(),
            backend_database: database.into(),
        })
    }
    fn backend(&self) -> Result<PathBuf, BackendError> {
        Ok(self.socket.clone())
    }
    fn rewrite(&self, sql: &str) -> Result<Option<String>, SqlError> {
        (self.rewriter)(sql)
    }
    fn executed(&self, sql: &str) {
        self.executed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sql.to_owned());
    }
}

/// A proxy serving on a free loopback port until dropped.
pub struct Proxy {
    pub port: u16,
    pub route: Arc<TestRoute>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Proxy {
    pub async fn start(pg: &Pg, limits: Limits, rewriter: Box<Rewriter>) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let route = Arc::new(TestRoute {
            socket: pg.socket(),
            rewriter,
            executed: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let r: Arc<dyn Route> = route.clone();
        tokio::spawn(tidemark_pgproxy::serve(listener, r, limits, async move {
            let _ = stopped.await;
        }));
        Proxy {
            port,
            route,
            stop: Some(stop),
        }
    }

    /// A proxy offering TLS with a fresh self-signed certificate for `localhost`.
    pub async fn tls(pg: &Pg) -> Proxy {
        let cert =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .expect("server config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let route = Arc::new(TestRoute {
            socket: pg.socket(),
            rewriter: Box::new(|_| Ok(None)),
            executed: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let r: Arc<dyn Route> = route.clone();
        tokio::spawn(tidemark_pgproxy::serve_tls(
            listener,
            r,
            Limits::default(),
            Arc::new(config),
            async move {
                let _ = stopped.await;
            },
        ));
        Proxy {
            port,
            route,
            stop: Some(stop),
        }
    }

    pub async fn plain(pg: &Pg) -> Proxy {
        Proxy::start(pg, Limits::default(), Box::new(|_| Ok(None))).await
    }

    /// Runs psql through the proxy; returns (success, stdout, stderr).
    pub async fn psql(
        &self,
        user: &str,
        password: &str,
        db: &str,
        sql: &str,
    ) -> (bool, String, String) {
        self.psql_ssl(user, password, db, sql, "prefer").await
    }

    /// psql with the given `sslmode`.
    pub async fn psql_ssl(
        &self,
        user: &str,
        password: &str,
        db: &str,
        sql: &str,
        sslmode: &str,
    ) -> (bool, String, String) {
        let out = tokio::process::Command::new("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
            ])
            .arg(self.port.to_string())
            .args(["-U", user, "-d", db, "-c", sql])
            .env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "10")
            .env("PGSSLMODE", sslmode)
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(30), out)
            .await
            .expect("psql finished in 30 s")
            .expect("psql runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn conn_string(&self, password: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user={USER} password={password} dbname=dev connect_timeout=10",
            self.port
        )
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
