//! The Redshift Endpoint: a PostgreSQL protocol v3 proxy that authenticates clients like
//! Redshift (md5), opens a trust connection to the cluster's PostgreSQL over its unix socket,
//! rewrites the SQL of `Query` and `Parse` messages through a [`Route`], and relays every other
//! byte unchanged in both directions.
//!
//! ```no_run
//! use std::{path::PathBuf, sync::Arc};
//! use tidemark_pgproxy::{BackendError, Limits, Login, LoginError, Route, SqlError, md5_verifier};
//!
//! struct Cluster;
//! impl Route for Cluster {
//!     fn login(&self, user: &str, database: &str) -> Result<Login, LoginError> {
//!         if user != "awsuser" {
//!             return Err(LoginError::UnknownUser);
//!         }
//!         Ok(Login {
//!             md5_verifier: md5_verifier("awsuser", "Passw0rd"),
//!             backend_user: "awsuser".into(),
//!             backend_database: database.into(),
//!         })
//!     }
//!     fn backend(&self) -> Result<PathBuf, BackendError> {
//!         Ok("/tmp/cluster-1/.s.PGSQL.5432".into())
//!     }
//!     fn rewrite(&self, _sql: &str) -> Result<Option<String>, SqlError> {
//!         Ok(None)
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5439").await?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let shutdown = async move {
//!     let _ = stopped.await;
//! };
//! tokio::spawn(tidemark_pgproxy::serve(listener, Arc::new(Cluster), Limits::default(), shutdown));
//! // … later: stop.send(()) closes the listener and every session.
//! # drop(stop);
//! # Ok(())
//! # }
//! ```

mod auth;
mod cancel;
mod relay;
mod rewrite;
mod server;
mod session;
mod startup;
mod threads;
mod wire;

use std::path::PathBuf;
use std::time::Duration;

pub use auth::md5_verifier;
pub use server::{serve, serve_tls};

/// What the proxy asks of the cluster it fronts. Methods are called on blocking threads except
/// [`Route::rewrite`] and [`Route::executed`], which run in the connection's relay (its own
/// thread, or its task on the async runtime) and should be quick (a parse of one statement).
pub trait Route: Send + Sync + 'static {
    /// Resolves a login (user and database names as the client sent them) to the credential to
    /// check and the backend role and database. The database is not checked here: PostgreSQL
    /// reports an unknown one itself (`3D000`) once the password is right, as Redshift does.
    fn login(&self, user: &str, database: &str) -> Result<Login, LoginError>;
    /// The path of the backend's unix socket file (`…/.s.PGSQL.<port>`); may start or heal the
    /// instance, so it may be slow.
    fn backend(&self) -> Result<PathBuf, BackendError>;
    /// Rewrites one client SQL string (a simple `Query` or a `Parse`). `Ok(None)` passes it
    /// through unchanged; an error is raised by PostgreSQL itself with its SQLSTATE.
    fn rewrite(&self, sql: &str) -> Result<Option<String>, SqlError>;
    /// Statement log hook: called with the SQL text sent to PostgreSQL, before it runs.
    fn executed(&self, _sql: &str) {}
}

/// A resolved login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// `"md5" + hex(md5(password + user))`, as PostgreSQL stores it (see [`md5_verifier`]).
    pub md5_verifier: String,
    /// The PostgreSQL role the session runs as.
    pub backend_user: String,
    /// The PostgreSQL database the session connects to.
    pub backend_database: String,
}

/// Why a login cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Answered exactly as a wrong password is, so user names cannot be probed.
    #[error("no such user")]
    UnknownUser,
    /// The cluster cannot take logins now (e.g. it is paused); sent to the client as 57P03.
    #[error("{0}")]
    Unavailable(String),
}

/// Why the backend cannot be reached; sent to the client as 57P03 with this message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(pub String);

/// A rewrite failure, raised to the client by PostgreSQL with this SQLSTATE and message.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{sqlstate}: {message}")]
pub struct SqlError {
    /// Five characters of `[0-9A-Z]`; anything else is sent as `XX000`.
    pub sqlstate: String,
    pub message: String,
}

/// Bounds on what a client may make the proxy hold or wait for.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sessions at once per listener; more are refused with 53300 as PostgreSQL does.
    pub max_connections: usize,
    /// From accept to `ReadyForQuery` (client and backend startup, authentication).
    pub startup_timeout: Duration,
    /// Largest startup packet (PostgreSQL's own limit is 10,000 bytes).
    pub max_startup_packet: usize,
    /// Most parameters in a `StartupMessage`.
    pub max_startup_parameters: usize,
    /// Largest `Query`/`Parse` message buffered for rewriting (Redshift's statement limit is 16 MB);
    /// a larger one is discarded as it streams in and answered with 54000.
    pub max_statement_bytes: usize,
    /// Bytes of statements too large for a session's 64 KiB read buffer that all sessions of a
    /// listener may hold at once; a statement that would pass it is answered 53200.
    pub max_buffered_statement_bytes: usize,
    /// Plain-TCP sessions at once per listener relayed on two threads of their own (the
    /// cheapest round trip); the rest, and TLS sessions, are relayed on the async runtime.
    pub max_threaded_sessions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 500,
            startup_timeout: Duration::from_secs(30),
            max_startup_packet: 10_000,
            max_startup_parameters: 64,
            max_statement_bytes: 16 << 20,
            max_buffered_statement_bytes: 256 << 20,
            // A cluster's clients are a test's few connections; 128 threads is a small cost.
            max_threaded_sessions: 64,
        }
    }
}

/// The `server_version` reported to clients: Redshift's.
pub const SERVER_VERSION: &str = "8.0.2";
/// `server_protocol_version` reported to Redshift drivers. `redshift_connector` reads values of
/// 1 and 2 as "RowDescription carries Redshift's extended column metadata", which PostgreSQL does
/// not send, so we report 0 (its `BASE_SERVER`): plain PostgreSQL messages.
pub const SERVER_PROTOCOL_VERSION: &str = "0";
