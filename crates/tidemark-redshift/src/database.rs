//! The database behind each cluster's Endpoint: the [`ClusterDatabase`] seam the service
//! calls as clusters become available, pause, resume, move, get snapshotted, restored and
//! deleted. The real implementation (a PostgreSQL server per cluster behind a Redshift
//! wire-protocol proxy) lives in the `tidemark` crate; [`NoDatabase`] keeps clusters as
//! control-plane records with their volume files only (the crate's tests and embedders).

use crate::catalog::Scope;
use crate::volume::VolumeFiles;

/// What the database layer needs to know about one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbCluster<'a> {
    pub scope: &'a Scope,
    pub id: &'a str,
    /// The Endpoint port the cluster asks for (CreateCluster/ModifyCluster `Port`).
    pub port: i32,
    pub master_username: &'a str,
    /// `md5` + hex(md5(password + user)), PostgreSQL's md5 verifier; never the password.
    pub master_password_md5: &'a str,
    pub db_name: &'a str,
}

/// How a cluster's database comes to be when the cluster turns available.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbStart {
    /// A new cluster: a fresh database named `db_name` owned by the master user.
    Fresh,
    /// A restored cluster: the database is loaded from the cluster's (just restored) volume.
    FromVolume,
    /// An existing cluster (resume, server start): its database as it was.
    Existing,
}

/// Where clients reach a cluster's database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbEndpoint {
    pub address: String,
    pub port: i32,
}

/// Temporary database credentials (GetClusterCredentials, GetClusterCredentialsWithIAM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TempLogin {
    /// The user name the client logs in with (`IAM:alice`, `IAMA:alice`).
    pub login_user: String,
    /// md5 verifier of the generated password for `login_user`.
    pub password_md5: String,
    /// The database role the session runs as.
    pub role: String,
    /// The only database it may log in to; `None`: any.
    pub database: Option<String>,
    /// Refused after this instant of the virtual clock.
    pub expires: tidemark_core::Timestamp,
    /// Create `role` at login if it does not exist.
    pub auto_create: bool,
    /// Groups (roles) `role` joins at login.
    pub groups: Vec<String>,
}

/// One table to bring back from a snapshot (RestoreTableFromClusterSnapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    pub source_database: String,
    pub source_schema: String,
    pub source_table: String,
    pub target_database: String,
    pub target_schema: String,
    pub new_table: String,
}

/// The database of every cluster. Methods run on job threads and may take seconds (a dump,
/// a load); each returns an error message for the job to record.
pub trait ClusterDatabase: Send + Sync {
    /// Brings the cluster's database up (and its Endpoint listener) and says where it is
    /// (`None`: no database, the record's own host and port stay).
    fn start(
        &self,
        cluster: &DbCluster<'_>,
        how: DbStart,
        volumes: &dyn VolumeFiles,
    ) -> Result<Option<DbEndpoint>, String>;
    /// Stops the database and its listener (pause), keeping its data.
    fn stop(&self, scope: &Scope, id: &str) -> Result<(), String>;
    /// Stops the database and removes its data (delete).
    fn remove(&self, scope: &Scope, id: &str) -> Result<(), String>;
    /// Fixes the point in time snapshot `snapshot` will hold (called when it is requested):
    /// every transaction committed before this call is in it, none committed after.
    fn mark(&self, scope: &Scope, id: &str, snapshot: &str) -> Result<(), String>;
    /// Writes the database as of `snapshot`'s mark into the cluster's volume, replacing the
    /// volume's files, so that the volume capture stores it. Fails if the mark is gone (a
    /// restart since the request) rather than capture a later state.
    fn dump(
        &self,
        scope: &Scope,
        id: &str,
        snapshot: &str,
        volumes: &dyn VolumeFiles,
    ) -> Result<(), String>;
    /// Forgets a mark whose snapshot will not be taken.
    fn unmark(&self, scope: &Scope, id: &str, snapshot: &str);
    /// The cluster was renamed (ModifyCluster NewClusterIdentifier).
    fn rename(&self, scope: &Scope, from: &str, to: &str) -> Result<(), String>;
    /// The master password, the port or the database's settings changed (ModifyCluster);
    /// returns the Endpoint as it is now.
    fn update(&self, cluster: &DbCluster<'_>) -> Result<Option<DbEndpoint>, String>;
    /// Whether snapshots hold a database dump (so a capture must call [`Self::dump`]).
    fn holds_data(&self) -> bool;
    /// Lets `login` log in to cluster `id` until it expires.
    fn grant_temporary(&self, scope: &Scope, id: &str, login: TempLogin) -> Result<(), String>;
    /// Restores one table of the snapshot whose files are in volume `files` (of `scope`)
    /// into cluster `id`'s database under its new name; fails if the target exists or the
    /// snapshot has no such table.
    fn restore_table(
        &self,
        scope: &Scope,
        id: &str,
        files: &str,
        table: &TableSpec,
        volumes: &dyn VolumeFiles,
    ) -> Result<(), String>;
}

/// No database: clusters are control-plane records and snapshots capture whatever the
/// cluster's volume holds. The Endpoint is the record's host and port.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDatabase;

impl ClusterDatabase for NoDatabase {
    fn start(
        &self,
        _cluster: &DbCluster<'_>,
        _how: DbStart,
        _volumes: &dyn VolumeFiles,
    ) -> Result<Option<DbEndpoint>, String> {
        Ok(None)
    }
    fn stop(&self, _scope: &Scope, _id: &str) -> Result<(), String> {
        Ok(())
    }
    fn remove(&self, _scope: &Scope, _id: &str) -> Result<(), String> {
        Ok(())
    }
    fn mark(&self, _scope: &Scope, _id: &str, _snapshot: &str) -> Result<(), String> {
        Ok(())
    }
    fn dump(
        &self,
        _scope: &Scope,
        _id: &str,
        _snapshot: &str,
        _volumes: &dyn VolumeFiles,
    ) -> Result<(), String> {
        Ok(())
    }
    fn unmark(&self, _scope: &Scope, _id: &str, _snapshot: &str) {}
    fn rename(&self, _scope: &Scope, _from: &str, _to: &str) -> Result<(), String> {
        Ok(())
    }
    fn update(&self, _cluster: &DbCluster<'_>) -> Result<Option<DbEndpoint>, String> {
        Ok(None)
    }
    fn holds_data(&self) -> bool {
        false
    }
    fn grant_temporary(&self, _scope: &Scope, _id: &str, _login: TempLogin) -> Result<(), String> {
        Ok(())
    }
    fn restore_table(
        &self,
        _scope: &Scope,
        _id: &str,
        _files: &str,
        _table: &TableSpec,
        _volumes: &dyn VolumeFiles,
    ) -> Result<(), String> {
        Err("clusters have no database engine here".into())
    }
}

/// PostgreSQL's md5 password verifier: `md5` + hex(md5(password + user)).
pub fn md5_verifier(user: &str, password: &str) -> String {
    use md5::{Digest, Md5};
    let digest = Md5::digest([password.as_bytes(), user.as_bytes()].concat());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("md5{hex}")
}
