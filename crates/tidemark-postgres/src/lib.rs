//! PostgreSQL instances managed by tidemark: finding the binaries, a template data directory,
//! supervised servers (one per Redshift cluster), SQL for the glue, consistent dumps and restores.
//!
//! The API is synchronous: callers run it on blocking threads. Every wait has a timeout.

mod account;
mod admin;
mod conf;
mod discover;
mod dump;
mod error;
mod fsutil;
mod instance;
mod orphan;
mod proc;
mod server;
mod sockdir;
mod sql;
mod table_restore;
mod template;

pub use account::{RunAs, SERVICE_ACCOUNT};
pub use discover::{DiscoverEnv, MIN_MAJOR, PgBinaries};
pub use dump::{ClusterDump, DATABASES_FILE, GLOBALS_FILE, HeldSnapshot, cluster_database_dir};
pub use error::{NOT_FOUND_HINT, PgError, Result};
pub use instance::{Instance, InstanceConfig};
/// The client crate of [`Instance::connect`]'s connections.
pub use postgres;
pub use server::{LOG_FILE, SOCKET_NAME, log_path};
pub use sockdir::MAX_SOCKET_PATH;
pub use sql::{quote_ident, quote_literal};
pub use template::{SUPERUSER, Template};

/// The glue shares instances and snapshots between blocking threads.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Instance>();
    shareable::<PgBinaries>();
    const fn sendable<T: Send>() {}
    sendable::<HeldSnapshot>();
};
