//! PostgreSQL instances managed by tidemark: finding the binaries, a template data directory,
//! supervised servers (one per Redshift cluster), SQL for the glue, consistent dumps and restores.
//!
//! The API is synchronous: callers run it on blocking threads. Every wait has a timeout.
//!
//! ```no_run
//! use std::path::Path;
//! use tidemark_postgres::{Instance, InstanceConfig, PgBinaries, Template};
//!
//! # fn main() -> Result<(), tidemark_postgres::PgError> {
//! let bins = PgBinaries::discover(None)?; // --postgres-bin, $TIDEMARK_POSTGRES_BIN, …
//! let template = Template::ensure(&bins, Path::new("/var/lib/tidemark/pg"), "-- compat SQL")?;
//! let vol = Path::new("/var/lib/tidemark/redshift/volumes/c1");
//! let mut inst = Instance::start(&bins, InstanceConfig::new(vol.join("data"), vol.join("sock"), &template))?;
//! inst.ensure_login_role("awsuser", true)?;
//! inst.ensure_database("dev", "awsuser")?;
//! let _proxy_target = inst.socket_path(); // <sock>/.s.PGSQL.5432
//! let dump = inst.dump_cluster(Path::new("/tmp/snap-1"))?; // consistent as of this call
//! inst.ensure_running()?; // after a crash of the server
//! inst.stop()?;
//! # let _ = dump; Ok(()) }
//! ```

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
pub use dump::{
    BULK_LOAD_MIN_BYTES, ClusterDump, DATABASES_FILE, GLOBALS_FILE, HeldSnapshot,
    cluster_database_dir,
};
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
