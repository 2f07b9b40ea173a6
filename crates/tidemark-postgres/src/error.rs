//! The one error type of this crate: every failure names what went wrong and where.

use std::path::PathBuf;
use std::time::Duration;

/// The message shown when no usable PostgreSQL is found; it names what to install.
pub const NOT_FOUND_HINT: &str = "PostgreSQL server binaries (13 or newer) not found: install them \
     (Debian/Ubuntu: apt install postgresql; macOS: brew install postgresql@17) or pass --postgres-bin DIR";

/// Failures of discovery, instance management, SQL, dumps and restores.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// No directory with the required binaries (or none new enough) was found.
    #[error("{NOT_FOUND_HINT}{}", if .tried.is_empty() { String::new() } else { format!(" (looked in: {})", .tried) })]
    NotFound {
        /// What was looked at and why it was rejected, for the log.
        tried: String,
    },
    /// An explicitly named directory (`--postgres-bin`, `$TIDEMARK_POSTGRES_BIN`) is unusable.
    #[error("{source_name} names {dir}, which is not usable: {reason}")]
    ExplicitDirUnusable {
        /// Where the directory came from.
        source_name: &'static str,
        /// The directory.
        dir: PathBuf,
        /// Why it was rejected.
        reason: String,
    },
    /// The `postgres` account needed to run the server as root does not exist.
    #[error(
        "running as root, and PostgreSQL refuses to run as root, but the account `{0}` to run it as does not exist (create it: useradd --system {0})"
    )]
    NoServiceAccount(String),
    /// A directory on the way to a data or socket directory is closed to the service account.
    #[error("{path} is not reachable by the account `{account}` that runs PostgreSQL: {reason}")]
    Unreachable {
        /// The directory.
        path: PathBuf,
        /// The account.
        account: String,
        /// Mode and owner found.
        reason: String,
    },
    /// A filesystem operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On what.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A PostgreSQL program could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A PostgreSQL program ran and failed.
    #[error("{program} failed ({status}): {stderr}")]
    ToolFailed {
        /// The program.
        program: String,
        /// Its exit status.
        status: String,
        /// The tail of its standard error.
        stderr: String,
    },
    /// A PostgreSQL program did not finish in time and was killed.
    #[error("{program} did not finish within {timeout:?} and was killed; stderr: {stderr}")]
    ToolTimeout {
        /// The program.
        program: String,
        /// The limit.
        timeout: Duration,
        /// The tail of its standard error.
        stderr: String,
    },
    /// The server did not become ready, or died while starting.
    #[error("PostgreSQL in {data_dir} {what}; server log tail:\n{log_tail}")]
    StartFailed {
        /// The data directory.
        data_dir: PathBuf,
        /// What happened ("exited with …", "was not ready within …").
        what: String,
        /// The last lines of the server log.
        log_tail: String,
    },
    /// A data directory is not empty and does not hold a PostgreSQL cluster.
    #[error("{0} is neither empty nor a PostgreSQL data directory")]
    NotADataDir(PathBuf),
    /// A data directory was made by another PostgreSQL major version.
    #[error("{path} holds a PostgreSQL {found} cluster but the binaries are version {expected}")]
    VersionMismatch {
        /// The data directory.
        path: PathBuf,
        /// Its `PG_VERSION`.
        found: String,
        /// The binaries' major version.
        expected: u32,
    },
    /// Another `Instance` of this process manages the data directory.
    #[error("{0} is already used by a running instance")]
    InUse(PathBuf),
    /// The instance is not running (stopped, or died and not restarted).
    #[error("PostgreSQL in {0} is not running")]
    NotRunning(PathBuf),
    /// An old server for this data directory could not be stopped.
    #[error("an orphaned PostgreSQL (pid {pid}) still runs on {data_dir} after SIGKILL")]
    OrphanSurvived {
        /// Its process id.
        pid: i32,
        /// The data directory.
        data_dir: PathBuf,
    },
    /// A SQL statement or connection failed; PostgreSQL's own message (with SQLSTATE) is kept.
    #[error("SQL on database {db}: {source}")]
    Sql {
        /// The database.
        db: String,
        /// The driver's error.
        source: postgres::Error,
    },
    /// A name given to the API cannot be a PostgreSQL identifier.
    #[error("invalid name {0:?}: 1 to 63 bytes, no NUL")]
    InvalidName(String),
    /// PostgreSQL answered something it never should.
    #[error("unexpected answer from PostgreSQL: {0}")]
    Unexpected(String),
    /// The table to restore into already exists.
    #[error("table {schema}.{table} already exists in database {db}")]
    TargetExists {
        /// The database.
        db: String,
        /// The schema.
        schema: String,
        /// The table.
        table: String,
    },
    /// The schema to restore into does not exist.
    #[error("schema {schema} does not exist in database {db}")]
    SchemaMissing {
        /// The database.
        db: String,
        /// The schema.
        schema: String,
    },
    /// The dump does not hold the table asked for.
    #[error("the dump in {dump} holds no table {schema}.{table}")]
    TableNotInDump {
        /// The dump directory.
        dump: PathBuf,
        /// The schema.
        schema: String,
        /// The table.
        table: String,
    },
}

impl PgError {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PgError::Io {
            what,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn sql(db: &str, source: postgres::Error) -> Self {
        PgError::Sql {
            db: db.to_owned(),
            source,
        }
    }

    /// The SQLSTATE of a failed statement, when PostgreSQL gave one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            PgError::Sql { source, .. } => source.code().map(|c| c.code()),
            _ => None,
        }
    }
}

/// Result with [`PgError`].
pub type Result<T, E = PgError> = std::result::Result<T, E>;
