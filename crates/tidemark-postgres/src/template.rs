//! The template data directory: `initdb` and the setup SQL once, then copied per instance.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::account::{RunAs, absolute};
use crate::conf::{CONF_VERSION, INITDB_ARGS, SETTINGS};
use crate::discover::PgBinaries;
use crate::error::{PgError, Result};
use crate::fsutil::{fsync_path, fsync_tree};
use crate::proc::run_tool;
use crate::server::{self, log_path};
use crate::sockdir::SocketDir;
use crate::sql;

/// Redshift's internal superuser; the bootstrap superuser of every instance.
pub const SUPERUSER: &str = "rdsdb";

/// initdb takes about a second; a generous bound for slow disks.
const INITDB_TIMEOUT: Duration = Duration::from_secs(300);
/// Starting and stopping the template's short-lived server.
const SERVER_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds and finds template data directories.
pub struct Template;

impl Template {
    /// Makes (once) and returns `<root>/template-<major>-<hash>`, where the hash covers
    /// `setup_sql`, tidemark's server settings and initdb options. Crash-safe and idempotent: the directory is
    /// built under a temporary name, fsynced and renamed, so it either exists complete or not
    /// at all; concurrent builders race harmlessly (the loser discards its copy).
    /// `setup_sql`'s objects belong in `pg_catalog`: `pg_dump` leaves those out, so restored
    /// databases (made from `template1`) get them from the template, not twice; only event
    /// triggers, which `pg_dump` keeps, are skipped on restore when the template has them.
    pub fn ensure(bins: &PgBinaries, root: &Path, setup_sql: &str) -> Result<PathBuf> {
        Self::ensure_as(bins, &RunAs::detect()?, root, setup_sql)
    }

    /// [`Template::ensure`] with an explicit account.
    pub fn ensure_as(
        bins: &PgBinaries,
        run_as: &RunAs,
        root: &Path,
        setup_sql: &str,
    ) -> Result<PathBuf> {
        let root = absolute(root)?;
        let name = Self::dir_name(bins, setup_sql);
        let done = root.join(&name);
        if done.join("PG_VERSION").is_file() {
            return Ok(done);
        }
        // One build at a time in this process: a second caller waits and then finds the
        // template made. Other processes build in their own temporary directories.
        static BUILDING: Mutex<()> = Mutex::new(());
        let _one = BUILDING.lock().unwrap_or_else(PoisonError::into_inner);
        if done.join("PG_VERSION").is_file() {
            return Ok(done);
        }
        fs::create_dir_all(&root).map_err(|e| PgError::io("create directory", &root, e))?;
        run_as.check_reachable(&root.join("x"))?;
        remove_stale_builds(&root, &name);
        let tmp = root.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| PgError::io("remove", &tmp, e))?;
        }
        let built = build(bins, run_as, &tmp, setup_sql);
        if let Err(e) = built {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        match fs::rename(&tmp, &done) {
            Ok(()) => {}
            Err(_) if done.join("PG_VERSION").is_file() => {
                let _ = fs::remove_dir_all(&tmp);
                return Ok(done);
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(PgError::io("rename template into place", &done, e));
            }
        }
        fsync_path(&root)?;
        Ok(done)
    }

    /// Copies `template` into `data_dir` (missing or empty) the way [`crate::Instance::start`]
    /// does, without starting anything: a caller can keep spare copies made ahead of time and
    /// rename one into place when a cluster is created, taking the copy (about a thousand file
    /// creations, which can cost seconds on a busy disk) off the request's path. The spare
    /// must be on the same filesystem as its destination for the rename.
    pub fn copy_into(bins: &PgBinaries, template: &Path, data_dir: &Path) -> Result<()> {
        let run_as = RunAs::detect()?;
        let data_dir = absolute(data_dir)?;
        run_as.check_reachable(&data_dir)?;
        crate::instance::prepare_data_dir(bins, &run_as, &data_dir, &absolute(template)?)
    }

    /// `template-<major>-<first 12 hex digits of a hash of the settings, the initdb options
    /// and the setup SQL>`.
    pub fn dir_name(bins: &PgBinaries, setup_sql: &str) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&CONF_VERSION.to_le_bytes());
        h.update(SETTINGS.as_bytes());
        for a in INITDB_ARGS {
            h.update(a.as_bytes());
            h.update(b"\0");
        }
        h.update(setup_sql.as_bytes());
        let hex = h.finalize().to_hex();
        format!("template-{}-{}", bins.major(), &hex[..12])
    }
}

fn build(bins: &PgBinaries, run_as: &RunAs, dir: &Path, setup_sql: &str) -> Result<()> {
    run_as.private_dir(dir)?;
    let mut initdb = Command::new(bins.program("initdb"));
    initdb
        .arg("-D")
        .arg(dir)
        .args(INITDB_ARGS)
        .args(["-U", SUPERUSER]);
    run_as.apply(&mut initdb);
    run_tool(initdb, INITDB_TIMEOUT)?;

    let conf = dir.join("postgresql.conf");
    let mut text = fs::read_to_string(&conf).map_err(|e| PgError::io("read", &conf, e))?;
    text.push_str(SETTINGS);
    fs::write(&conf, text).map_err(|e| PgError::io("write", &conf, e))?;

    let sock = SocketDir::scratch(run_as)?;
    let mut child = server::start(bins, run_as, dir, sock.path(), &[], SERVER_TIMEOUT)?;
    let ran = sql::connect(sock.path(), "template1", SERVER_TIMEOUT, None).and_then(|mut c| {
        c.batch_execute(setup_sql)
            .map_err(|e| PgError::sql("template1", e))
    });
    server::stop(&mut child, SERVER_TIMEOUT)?;
    ran?;
    // A clean shutdown removes postmaster.pid; if it is still there the stop was not clean and
    // the template would need crash recovery in every copy.
    if dir.join("postmaster.pid").exists() {
        return Err(PgError::StartFailed {
            data_dir: dir.to_owned(),
            what: "did not shut down cleanly".into(),
            log_tail: crate::fsutil::tail(&log_path(dir), 3000, 0),
        });
    }
    let _ = fs::remove_file(log_path(dir));
    // initdb ran with --no-sync: make everything durable before the rename publishes it.
    fsync_tree(dir)
}

/// Removes half-built templates left by a builder that died (its pid is gone).
fn remove_stale_builds(root: &Path, name: &str) {
    crate::fsutil::remove_stale_siblings(root, &format!(".{name}.tmp-"));
}
