//! A supervised PostgreSQL instance: a copy of the template run as tidemark's direct child.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use postgres::Client;

use crate::account::{RunAs, absolute};
use crate::discover::PgBinaries;
use crate::error::{PgError, Result};
use crate::fsutil::{copy_tree, fsync_path, fsync_tree, is_missing_or_empty};
use crate::server::{self, SOCKET_NAME};
use crate::sockdir::SocketDir;
use crate::{orphan, sql};

/// Where an instance lives and how long its waits may take.
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    /// The data directory (the cluster's volume): a PostgreSQL data directory, or missing or
    /// empty, in which case the template is copied into it.
    pub data_dir: PathBuf,
    /// Where the server's unix socket goes; replaced by a short directory under /tmp when the
    /// socket path would exceed 107 bytes.
    pub socket_dir: PathBuf,
    /// A template from [`crate::Template::ensure`].
    pub template: PathBuf,
    /// How long to wait for the server to accept connections (crash recovery happens here).
    pub start_timeout: Duration,
    /// How long a fast shutdown may take before SIGKILL.
    pub stop_timeout: Duration,
    /// Bound on each `pg_dump`/`pg_restore`/`pg_dumpall` run and each connection attempt.
    pub tool_timeout: Duration,
    /// Bound on connecting to the server.
    pub connect_timeout: Duration,
    /// `statement_timeout` of the connections this crate opens (`None`: unbounded).
    pub statement_timeout: Option<Duration>,
    /// Dumps at least this big are restored under bulk-load settings
    /// ([`Instance::restore_cluster_bulk`]); default [`crate::BULK_LOAD_MIN_BYTES`].
    pub bulk_load_min_bytes: u64,
}

impl InstanceConfig {
    /// A configuration with default timeouts (start 60 s, stop 30 s, tools 1 h, connect 10 s,
    /// statements 10 min) and bulk loads from 64 MiB.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        socket_dir: impl Into<PathBuf>,
        template: impl Into<PathBuf>,
    ) -> Self {
        InstanceConfig {
            data_dir: data_dir.into(),
            socket_dir: socket_dir.into(),
            template: template.into(),
            start_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(30),
            tool_timeout: Duration::from_secs(3600),
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Some(Duration::from_secs(600)),
            bulk_load_min_bytes: crate::BULK_LOAD_MIN_BYTES,
        }
    }
}

/// A running (or stopped) PostgreSQL server on one data directory. Dropping it stops it.
#[derive(Debug)]
pub struct Instance {
    pub(crate) bins: PgBinaries,
    pub(crate) run_as: RunAs,
    pub(crate) cfg: InstanceConfig,
    socket: SocketDir,
    child: Option<Child>,
    /// `-c name=value` settings the server runs with over `postgresql.conf` (a bulk load's).
    pub(crate) settings: &'static [&'static str],
    // Last: released after Drop has stopped the server.
    _claim: Claim,
}

impl Instance {
    /// Prepares the data directory (copying the template into a missing or empty one), stops
    /// an orphaned server left on it, and starts `postgres` as a direct child; returns once it
    /// accepts connections.
    pub fn start(bins: &PgBinaries, cfg: InstanceConfig) -> Result<Self> {
        Self::start_as(bins, RunAs::detect()?, cfg)
    }

    /// [`Instance::start`] with an explicit account.
    pub fn start_as(bins: &PgBinaries, run_as: RunAs, mut cfg: InstanceConfig) -> Result<Self> {
        cfg.data_dir = absolute(&cfg.data_dir)?;
        cfg.template = absolute(&cfg.template)?;
        let claim = Claim::new(&cfg.data_dir)?;
        run_as.check_reachable(&cfg.data_dir)?;
        prepare_data_dir(bins, &run_as, &cfg.data_dir, &cfg.template)?;
        let socket = SocketDir::for_instance(&cfg.socket_dir, &run_as)?;
        let mut inst = Instance {
            bins: bins.clone(),
            run_as,
            cfg,
            socket,
            child: None,
            settings: &[],
            _claim: claim,
        };
        inst.launch()?;
        Ok(inst)
    }

    fn launch(&mut self) -> Result<()> {
        orphan::stop_orphan(&self.cfg.data_dir)?;
        let child = server::start(
            &self.bins,
            &self.run_as,
            &self.cfg.data_dir,
            self.socket.path(),
            self.settings,
            self.cfg.start_timeout,
        )?;
        self.child = Some(child);
        Ok(())
    }

    /// Stops the server (fast shutdown: its checkpoint makes everything durable) and starts
    /// it again with `settings` over `postgresql.conf`.
    pub(crate) fn relaunch_with(&mut self, settings: &'static [&'static str]) -> Result<()> {
        self.stop()?;
        self.settings = settings;
        self.launch()
    }

    /// The unix socket the proxy connects to (`<socket dir>/.s.PGSQL.5432`).
    pub fn socket_path(&self) -> PathBuf {
        self.socket.path().join(SOCKET_NAME)
    }

    /// The directory holding the socket (what libpq calls the host).
    pub fn socket_dir(&self) -> &Path {
        self.socket.path()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.cfg.data_dir
    }

    /// The postmaster's pid while it runs.
    pub fn pid(&mut self) -> Option<u32> {
        self.is_running()
            .then(|| self.child.as_ref().map(Child::id))
            .flatten()
    }

    /// Whether the postmaster is alive (reaps it if it died).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Restarts the server if it died (PostgreSQL replays its WAL: committed rows survive),
    /// or starts it again after [`Instance::stop`] (resume after pause). Returns whether it
    /// had to start one.
    pub fn ensure_running(&mut self) -> Result<bool> {
        if self.is_running() {
            return Ok(false);
        }
        if let Some(mut dead) = self.child.take() {
            let _ = dead.wait(); // it exited (try_wait said so): reaping cannot block
        }
        self.launch()?;
        Ok(true)
    }

    /// Fast shutdown, then SIGKILL after `stop_timeout`. Idempotent.
    pub fn stop(&mut self) -> Result<()> {
        match self.child.take() {
            Some(mut c) => server::stop(&mut c, self.cfg.stop_timeout),
            None => Ok(()),
        }
    }

    /// A new connection to `db` as the superuser, with the configured `statement_timeout`.
    pub fn connect(&self, db: &str) -> Result<Client> {
        sql::check_name(db)?;
        if self.child.is_none() || !self.socket_path().exists() {
            return Err(PgError::NotRunning(self.cfg.data_dir.clone()));
        }
        sql::connect(
            self.socket.path(),
            db,
            self.cfg.connect_timeout,
            self.cfg.statement_timeout,
        )
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(data_dir = %self.cfg.data_dir.display(), "stopping postgres: {e}");
        }
    }
}

/// This process's claim on a data directory. The orphan check stops any live postgres on a
/// data directory, which must never be a sibling `Instance`'s server.
#[derive(Debug)]
struct Claim(PathBuf);

static CLAIMED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

impl Claim {
    fn new(data_dir: &Path) -> Result<Self> {
        let mut claimed = CLAIMED.lock().unwrap_or_else(PoisonError::into_inner);
        if !claimed.insert(data_dir.to_owned()) {
            return Err(PgError::InUse(data_dir.to_owned()));
        }
        Ok(Claim(data_dir.to_owned()))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        CLAIMED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}

/// Makes `data_dir` a data directory of `bins`' major version, copying the template if needed.
/// The copy goes to a sibling and is renamed into place after an fsync, so a crash leaves
/// either no data directory or a complete one.
pub(crate) fn prepare_data_dir(
    bins: &PgBinaries,
    run_as: &RunAs,
    data_dir: &Path,
    template: &Path,
) -> Result<()> {
    let version_file = data_dir.join("PG_VERSION");
    if version_file.is_file() {
        let found =
            fs::read_to_string(&version_file).map_err(|e| PgError::io("read", &version_file, e))?;
        let found = found.trim();
        if found != bins.major().to_string() {
            return Err(PgError::VersionMismatch {
                path: data_dir.to_owned(),
                found: found.to_owned(),
                expected: bins.major(),
            });
        }
        // A copy made by root must still belong to the account (e.g. after a restore by hand).
        return run_as.private_dir(data_dir);
    }
    if !is_missing_or_empty(data_dir)? {
        return Err(PgError::NotADataDir(data_dir.to_owned()));
    }
    let tpl_version = fs::read_to_string(template.join("PG_VERSION"))
        .map_err(|e| PgError::io("read template", template, e))?;
    if tpl_version.trim() != bins.major().to_string() {
        return Err(PgError::VersionMismatch {
            path: template.to_owned(),
            found: tpl_version.trim().to_owned(),
            expected: bins.major(),
        });
    }
    let parent = data_dir
        .parent()
        .ok_or_else(|| PgError::NotADataDir(data_dir.to_owned()))?;
    fs::create_dir_all(parent).map_err(|e| PgError::io("create directory", parent, e))?;
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::fsutil::remove_stale_siblings(parent, &format!(".{name}.copy-"));
    let tmp = parent.join(format!(".{name}.copy-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| PgError::io("remove", &tmp, e))?;
    }
    run_as.private_dir(&tmp)?;
    let copied = copy_tree(template, &tmp, run_as).and_then(|()| fsync_tree(&tmp));
    if let Err(e) = copied {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    // rename(2) replaces an empty directory, so an empty data_dir is handled too.
    if let Err(e) = fs::rename(&tmp, data_dir) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(PgError::io("rename data directory into place", data_dir, e));
    }
    fsync_path(parent)
}
