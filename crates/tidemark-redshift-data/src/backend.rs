//! The seam between the Data API and the clusters' databases: connect as a user to a
//! database of a cluster, run one statement, cancel it. The binary implements it over each
//! cluster's PostgreSQL; tests implement it in memory.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Which database a statement runs in, and as whom.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    pub account: String,
    pub region: String,
    pub cluster: String,
    pub database: String,
    pub user: String,
    /// The password from the request's secret (`SecretArn`): the backend checks it against
    /// the cluster's login before connecting. `None` for `DbUser`, which AWS trusts on the
    /// strength of the caller's IAM permission (`redshift:GetClusterCredentials`). Never
    /// written to the statements' journal: a statement read back after a restart has finished
    /// (or failed) and needs no login.
    #[serde(skip)]
    pub password: Option<Password>,
}

/// A password that never appears in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Why no session could be opened before any SQL ran.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// No cluster of that name in the account and region.
    #[error("cluster {0} not found")]
    NoCluster(String),
    /// The cluster exists but takes no connections (its status is given).
    #[error("cluster {cluster} is not available (status {status})")]
    Unavailable { cluster: String, status: String },
    /// The database refused the login (no such user or database, a wrong password):
    /// PostgreSQL's message.
    #[error("{0}")]
    Refused(String),
}

/// How a value is carried in the `Field` union (AWS's mapping by type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueKind {
    /// int2/int4/int8 (and oid): `longValue`.
    Long,
    /// float4/float8: `doubleValue`.
    Double,
    /// bool: `booleanValue`.
    Boolean,
    /// bytea and varbyte: `blobValue`.
    Blob,
    /// Everything else (numeric, dates, times, character types…): `stringValue`.
    String,
}

/// One result column, with the catalog facts `ColumnMetadata` reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// PostgreSQL's type name (`int4`, `varchar`, `numeric`, `timestamptz`…), as Redshift's.
    pub type_name: String,
    pub kind: Option<ValueKind>,
    pub precision: i32,
    pub scale: i32,
    pub length: i32,
    /// 0 no nulls, 1 nullable, 2 unknown (JDBC's `columnNullable` values, which AWS uses).
    pub nullable: i32,
    pub signed: bool,
    pub case_sensitive: bool,
    pub currency: bool,
    pub schema: String,
    pub table: String,
    pub default: Option<String>,
}

/// What one statement gave back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// `Some` when the statement returns rows (even zero of them).
    pub columns: Option<Vec<Column>>,
    /// Each value as PostgreSQL's text form; `None` is SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// Rows inserted, updated, deleted or copied, when the statement reports a count.
    pub affected: Option<u64>,
}

/// A SQL failure, reported as the statement's `Error`.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{message}")]
pub struct SqlFailure {
    /// PostgreSQL's SQLSTATE (`57014` when cancelled).
    pub sqlstate: String,
    pub message: String,
}

/// What a statement streamed into a [`RowSink`] reports once it ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// `Some` when the statement returns rows (even zero of them).
    pub columns: Option<Vec<Column>>,
    /// Rows inserted, updated, deleted or copied, when the statement reports a count.
    pub affected: Option<u64>,
}

/// Where a statement's rows go while the statement runs, one row at a time, so that no
/// result is ever held whole in memory.
pub trait RowSink {
    /// Called once, before any row, when the statement returns rows.
    fn columns(&mut self, columns: &[Column]) -> Result<(), SqlFailure>;
    /// One row, each value as PostgreSQL's text form (`None` is SQL NULL). An error stops
    /// the statement: the backend cancels it, reads nothing more into memory, and the error
    /// becomes the statement's failure.
    fn row(&mut self, values: &[Option<&str>]) -> Result<(), SqlFailure>;
}

/// Cancels whatever the session is running (PostgreSQL's cancel request); callable from any
/// thread while `run` blocks.
pub type CancelHandle = Box<dyn Fn() + Send + Sync>;

/// One open connection, as one user in one database.
pub trait SqlSession: Send {
    /// The backend's process id (`RedshiftPid`).
    fn pid(&self) -> i64;
    /// Runs one statement; `sql` is Redshift SQL with parameters already bound.
    /// Runs one statement and collects its rows: for small internal queries (`BEGIN`, the
    /// catalog); users' statements go through [`SqlSession::run_into`].
    fn run(&mut self, sql: &str) -> Result<Outcome, SqlFailure>;
    /// Runs one statement, handing its rows to `sink` as they arrive. The default collects
    /// them with [`SqlSession::run`] first, which suits in-memory test backends only; the
    /// PostgreSQL backend streams them.
    fn run_into(&mut self, sql: &str, sink: &mut dyn RowSink) -> Result<Summary, SqlFailure> {
        let o = self.run(sql)?;
        if let Some(c) = &o.columns {
            sink.columns(c)?;
            for r in &o.rows {
                let values: Vec<Option<&str>> = r.iter().map(Option::as_deref).collect();
                sink.row(&values)?;
            }
        }
        Ok(Summary {
            columns: o.columns,
            affected: o.affected,
        })
    }
    /// A way to cancel the statement `run` or `run_into` is executing.
    fn cancel_handle(&self) -> CancelHandle;
}

/// The clusters' databases.
pub trait SqlBackend: Send + Sync {
    /// Checks that the cluster exists and takes connections, without connecting (the API
    /// answers this synchronously; the login itself happens when the statement runs).
    fn check(&self, account: &str, region: &str, cluster: &str) -> Result<(), ConnectError>;
    /// Opens a session. With `target.password` the password is checked first, against the
    /// same logins the cluster's Endpoint accepts; a wrong one is `Refused` with PostgreSQL's
    /// `password authentication failed` message.
    fn connect(&self, target: &Target) -> Result<Box<dyn SqlSession>, ConnectError>;
}
