//! A real PostgreSQL behind every Redshift cluster's Endpoint: the [`ClusterDatabase`] the
//! Redshift service drives. Each available cluster has an Endpoint listener (the
//! `tidemark-pgproxy` proxy, which authenticates the master user like Redshift and rewrites
//! Redshift SQL through `tidemark-redshift-sql`) and, once anything needs it, a PostgreSQL
//! instance (`tidemark-postgres`) whose data directory is copied from a template.
//!
//! The instance is made on first use (a connection, a snapshot of a changed database), not
//! when the cluster turns available: a cluster nobody connects to costs a listening socket,
//! and its database is the pristine one a fresh cluster has, which a snapshot records as
//! such. Snapshots are logical dumps taken from snapshots exported when the snapshot is
//! requested (see `dump.rs`).

mod attrs;
mod cluster;
mod data;
mod dump;
mod endpoint;
mod recent;
mod route;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tidemark_core::Timestamp;
use tidemark_postgres::{PgBinaries, RunAs, Template};
use tidemark_redshift::{
    ClusterDatabase, DbCluster, DbEndpoint, DbStart, Scope, TableSpec, TempLogin, VolumeFiles,
};

use cluster::{ClusterDb, Login};
pub use data::PgData;

/// Identifies a cluster: account, region, identifier.
type Key = (String, String, String);

fn key(scope: &Scope, id: &str) -> Key {
    (scope.account.clone(), scope.region.clone(), id.to_owned())
}

/// What every cluster's database shares: the binaries, the account they run as, the
/// template, where data directories live.
pub(crate) struct Shared {
    pub rt: tokio::runtime::Handle,
    /// The virtual clock's now (temporary credentials expire on it).
    pub now: Box<dyn Fn() -> Timestamp + Send + Sync>,
    /// The binaries, or why there are none (answered to clients on connect).
    pub bins: Result<(PgBinaries, RunAs), String>,
    /// `<root>/<account>/<region>/<cluster>/` holds one cluster's data directory.
    pub root: PathBuf,
    /// The Endpoints' TLS (a certificate generated under the root), offered to clients that
    /// ask for it, as Redshift does; `None` if it could not be made (plain text only).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Where template data directories are made (shared by every data directory when they
    /// live under /var/lib/tidemark).
    templates: PathBuf,
    template: Mutex<Option<PathBuf>>,
}

impl Shared {
    /// The template data directory, made on first use.
    pub fn template(&self) -> Result<(PgBinaries, RunAs, PathBuf), String> {
        let (bins, run_as) = self.bins.clone()?;
        let mut t = self.template.lock().map_err(|_| "template lock poisoned")?;
        if let Some(dir) = t.as_ref() {
            return Ok((bins, run_as, dir.clone()));
        }
        let dir = Template::ensure_as(
            &bins,
            &run_as,
            &self.templates,
            tidemark_redshift_sql::COMPAT_SQL,
        )
        .map_err(|e| e.to_string())?;
        *t = Some(dir.clone());
        Ok((bins, run_as, dir))
    }

    pub fn cluster_dir(&self, k: &Key) -> PathBuf {
        self.root.join(&k.0).join(&k.1).join(&k.2)
    }
}

/// Every cluster's database.
pub struct PgClusters {
    shared: Arc<Shared>,
    clusters: Mutex<HashMap<Key, Arc<ClusterDb>>>,
    /// With `--in-memory`: the temporary root, removed when the server ends.
    temp: Mutex<Option<tempfile::TempDir>>,
}

impl PgClusters {
    /// Databases under `data_dir` (or a temporary directory with `None`), with the binaries
    /// found from `explicit` (`--postgres-bin`) and the usual places. Missing binaries are
    /// not an error here: clusters stay control-plane records and clients are told what to
    /// install.
    pub fn new(
        rt: tokio::runtime::Handle,
        now: Box<dyn Fn() -> Timestamp + Send + Sync>,
        data_dir: Option<&Path>,
        explicit: Option<&Path>,
    ) -> anyhow::Result<Arc<Self>> {
        let bins = PgBinaries::discover(explicit)
            .and_then(|b| Ok((b, RunAs::detect()?)))
            .map_err(|e| e.to_string());
        if let Err(e) = &bins {
            tracing::warn!("Redshift clusters will have no SQL endpoint: {e}");
        }
        let (root, temp) = match data_dir {
            Some(d) => {
                let root = pg_root(d, bins.as_ref().ok().map(|(_, r)| r));
                // A `kill -9` during a snapshot or restore leaves its dump half written;
                // nothing runs yet, so whatever is there now is such a leftover.
                let volumes = tidemark_redshift::DirVolumes::under_data_dir(d);
                for dir in [root.as_path(), volumes.root()] {
                    match dump::sweep_partial_dumps(dir) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            "removed {n} partial dump(s) a previous run left under {}",
                            dir.display()
                        ),
                        Err(e) => tracing::warn!("removing partial dumps: {e}"),
                    }
                }
                (root, None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("tidemark-redshift-")
                    .tempdir_in(std::env::temp_dir())?;
                (t.path().to_owned(), Some(t))
            }
        };
        let tls = match endpoint_tls(&root) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!("Redshift Endpoints will not offer TLS: {e}");
                None
            }
        };
        Ok(Arc::new(Self {
            shared: Arc::new(Shared {
                tls,
                rt,
                now,
                bins,
                templates: if root.starts_with(FALLBACK_ROOT) {
                    Path::new(FALLBACK_ROOT).join("templates")
                } else {
                    root.join("templates")
                },
                root,
                template: Mutex::new(None),
            }),
            clusters: Mutex::new(HashMap::new()),
            temp: Mutex::new(temp),
        }))
    }

    fn get(&self, k: &Key) -> Option<Arc<ClusterDb>> {
        self.clusters.lock().ok()?.get(k).cloned()
    }

    /// Cluster `id`'s database, which must have been started in this process.
    fn running(&self, scope: &Scope, id: &str) -> Result<Arc<ClusterDb>, String> {
        self.get(&key(scope, id))
            .ok_or_else(|| format!("cluster {id} has no database running"))
    }

    /// Stops every listener and instance and forgets every cluster's data (admin reset).
    pub fn reset(&self) -> Result<(), String> {
        let all: Vec<Arc<ClusterDb>> = match self.clusters.lock() {
            Ok(mut m) => m.drain().map(|(_, c)| c).collect(),
            Err(_) => return Err("cluster map lock poisoned".into()),
        };
        // In parallel: each server's shutdown waits on its own processes.
        std::thread::scope(|s| {
            let stops: Vec<_> = all.iter().map(|c| s.spawn(|| c.remove())).collect();
            stops
                .into_iter()
                .try_for_each(|h| h.join().unwrap_or_else(|_| Err("stopping panicked".into())))
        })
    }

    /// Stops every listener and instance, keeping their data (server shutdown).
    pub fn shutdown(&self) {
        let all: Vec<Arc<ClusterDb>> = match self.clusters.lock() {
            Ok(mut m) => m.drain().map(|(_, c)| c).collect(),
            Err(_) => return,
        };
        std::thread::scope(|s| {
            for c in &all {
                s.spawn(|| {
                    if let Err(e) = c.stop() {
                        tracing::warn!("stopping a cluster's database: {e}");
                    }
                });
            }
        });
        // With --in-memory the databases end with the process, like the rest of the state.
        if let Some(t) = self.temp.lock().ok().and_then(|mut t| t.take())
            && let Err(e) = t.close()
        {
            tracing::warn!("removing the temporary database directory: {e}");
        }
    }
}

/// A certificate for the Endpoints (made once under `root`, kept while it lasts), with ALPN
/// `postgresql`, which libpq 17 and later ask for.
fn endpoint_tls(root: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let files = tidemark_wire::tls::self_signed(&root.join("tls"), "localhost")?;
    let mut config = (*tidemark_wire::tls::server_config(&files.cert, &files.key)?).clone();
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(Arc::new(config))
}

/// Where databases go when the data directory is out of the `postgres` account's reach.
const FALLBACK_ROOT: &str = "/var/lib/tidemark/postgres";

/// Where data directories live under a data directory. PostgreSQL runs as `postgres` when
/// tidemark runs as root, and that account must be able to reach its directories: a data
/// directory under root's home (mode 700) is out of its reach, so then they go under
/// `/var/lib/tidemark/postgres/<hash of the data directory>` instead.
fn pg_root(data_dir: &Path, run_as: Option<&RunAs>) -> PathBuf {
    let natural = data_dir.join("redshift").join("postgres");
    let Some(RunAs::Account { uid, gid, .. }) = run_as else {
        return natural;
    };
    if reachable(&natural, *uid, *gid) {
        return natural;
    }
    let abs = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let digest = blake3::hash(abs.as_os_str().as_encoded_bytes()).to_hex();
    Path::new(FALLBACK_ROOT).join(&digest.as_str()[..16])
}

/// Whether `uid`/`gid` may traverse every existing ancestor of `dir`.
fn reachable(dir: &Path, uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    abs.ancestors().skip(1).all(|anc| {
        let Ok(m) = std::fs::metadata(anc) else {
            return true;
        };
        let mode = m.permissions().mode();
        let bit = if m.uid() == uid {
            0o100
        } else if m.gid() == gid {
            0o010
        } else {
            0o001
        };
        mode & bit != 0
    })
}

impl ClusterDatabase for PgClusters {
    fn start(
        &self,
        c: &DbCluster<'_>,
        how: DbStart,
        volumes: &dyn VolumeFiles,
    ) -> Result<Option<DbEndpoint>, String> {
        let k = key(c.scope, c.id);
        let db = match self.get(&k) {
            Some(db) => db,
            None => {
                let db = ClusterDb::new(Arc::clone(&self.shared), k.clone(), Login::of(c));
                self.clusters
                    .lock()
                    .map_err(|_| "cluster map lock poisoned")?
                    .insert(k, Arc::clone(&db));
                db
            }
        };
        db.set_login(Login::of(c));
        match how {
            DbStart::Fresh => db.discard_data()?,
            DbStart::FromVolume => db.load(c.scope, c.id, volumes)?,
            DbStart::Existing => db.resume()?,
        }
        db.listen(c.port).map(Some)
    }

    fn stop(&self, scope: &Scope, id: &str) -> Result<(), String> {
        match self.get(&key(scope, id)) {
            Some(db) => db.stop(),
            None => Ok(()),
        }
    }

    fn remove(&self, scope: &Scope, id: &str) -> Result<(), String> {
        let k = key(scope, id);
        let db = self
            .clusters
            .lock()
            .map_err(|_| "cluster map lock poisoned")?
            .remove(&k);
        match db {
            Some(db) => db.remove(),
            // Never started in this process (e.g. deleted before the server restarted it):
            // its data directory may still be there.
            None => cluster::remove_dir(&self.shared.cluster_dir(&k)),
        }
    }

    fn mark(&self, scope: &Scope, id: &str, snapshot: &str) -> Result<(), String> {
        let db = self.running(scope, id)?;
        db.mark(snapshot)
    }

    fn dump(
        &self,
        scope: &Scope,
        id: &str,
        snapshot: &str,
        volumes: &dyn VolumeFiles,
    ) -> Result<(), String> {
        let db = self.running(scope, id)?;
        db.dump(snapshot, scope, id, volumes)
    }

    fn unmark(&self, scope: &Scope, id: &str, snapshot: &str) {
        if let Some(db) = self.get(&key(scope, id)) {
            db.unmark(snapshot);
        }
    }

    fn rename(&self, scope: &Scope, from: &str, to: &str) -> Result<(), String> {
        let (old, new) = (key(scope, from), key(scope, to));
        let db = self
            .clusters
            .lock()
            .map_err(|_| "cluster map lock poisoned")?
            .remove(&old);
        let Some(db) = db else {
            return Ok(());
        };
        db.rename(new.clone())?;
        self.clusters
            .lock()
            .map_err(|_| "cluster map lock poisoned")?
            .insert(new, db);
        Ok(())
    }

    fn update(&self, c: &DbCluster<'_>) -> Result<Option<DbEndpoint>, String> {
        let Some(db) = self.get(&key(c.scope, c.id)) else {
            return Ok(None);
        };
        db.set_login(Login::of(c));
        db.listen(c.port).map(Some)
    }

    fn holds_data(&self) -> bool {
        true
    }

    fn grant_temporary(&self, scope: &Scope, id: &str, login: TempLogin) -> Result<(), String> {
        let db = self.running(scope, id)?;
        db.grant_temporary(login)
    }

    fn restore_table(
        &self,
        scope: &Scope,
        id: &str,
        files: &str,
        table: &TableSpec,
        volumes: &dyn VolumeFiles,
    ) -> Result<(), String> {
        let db = self.running(scope, id)?;
        db.restore_table(scope, files, table, volumes)
    }
}
