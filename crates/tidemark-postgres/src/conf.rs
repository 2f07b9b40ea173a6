//! The `postgresql.conf` settings every tidemark instance runs with.

/// Bumped whenever the meaning of what is hashed into a template's name changes.
pub(crate) const CONF_VERSION: u32 = 1;

/// `initdb` options besides `-D` and `-U`. WAL segments of 4 MB instead of 16 MB: a new
/// instance copies the template's current segment, and 12 MB less to copy is a third of the
/// template; 4 MB still keeps segment switches rare under bulk loads.
pub(crate) const INITDB_ARGS: [&str; 7] = [
    "--no-sync",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--locale=C",
    "--wal-segsize=4",
];

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
min_wal_size = 16MB
max_wal_senders = 2
max_replication_slots = 2
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 1
# No logical replication: one process (its launcher) less per idle cluster.
max_logical_replication_workers = 0
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
