//! The `postgresql.conf` settings every tidemark instance runs with.

/// Bumped whenever [`SETTINGS`] changes meaning, so that templates are rebuilt.
pub(crate) const CONF_VERSION: u32 = 1;

/// Appended to the `postgresql.conf` written by `initdb` (later lines win).
///
/// Sized for many small clusters on a laptop; durability stays PostgreSQL's default because
/// a committed row must survive a crash of the server or the machine.
pub(crate) const SETTINGS: &str = "
# --- tidemark: a small server reached only through its unix socket (the Endpoint proxy) ---
listen_addresses = ''
port = 5432
unix_socket_permissions = 0700
max_connections = 30
superuser_reserved_connections = 3
shared_buffers = 8MB
huge_pages = off
max_wal_size = 128MB
min_wal_size = 32MB
max_wal_senders = 2
max_replication_slots = 2
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 1
fsync = on
synchronous_commit = on
full_page_writes = on
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] '
datestyle = 'iso, mdy'
";
