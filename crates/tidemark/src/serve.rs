//! `tidemark serve`: opens the store, the job engine and the services, then serves HTTP
//! until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use tidemark_auth::{AuthMode, CredentialsFile};
use tidemark_jobs::Engine;
use tidemark_redshift::VaultVolumes;
use tidemark_store::{MemStore, RedbStore, Store};
use tidemark_vault::{Vault, VaultOptions, backend_from_url, pack_uploads_in_flight_for_url};
use tidemark_wire::{Admin, AdminCall, ClockChange, ClockView, ConnectionLimits, Services};

/// The default listen address (documented in the README).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AuthKind {
    /// Verify every signature against the credentials file.
    Strict,
    /// Accept any well-formed SigV4 request; a 12-digit access key selects that account.
    Permissive,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN, env = "TIDEMARK_LISTEN")]
    listen: SocketAddr,
    /// Where state lives (created if missing). Default: $XDG_DATA_HOME/tidemark or ~/.local/share/tidemark.
    #[arg(long, env = "TIDEMARK_DATA_DIR", conflicts_with = "in_memory")]
    data_dir: Option<PathBuf>,
    /// Keep everything in memory; nothing survives exit. (Redshift clusters' PostgreSQL
    /// databases then live in a temporary directory, removed at exit.)
    #[arg(long)]
    in_memory: bool,
    /// Directory holding the PostgreSQL server binaries (13 or newer) run behind Redshift
    /// cluster Endpoints. Default: $TIDEMARK_POSTGRES_BIN, `pg_config --bindir`, PATH, the
    /// newest /usr/lib/postgresql/*/bin.
    #[arg(long, value_name = "DIR")]
    postgres_bin: Option<PathBuf>,
    /// Signature checking. Default: permissive on a loopback address, strict elsewhere.
    #[arg(long, value_enum, env = "TIDEMARK_AUTH")]
    auth: Option<AuthKind>,
    /// TOML file mapping access keys to secrets, accounts and names (required by strict).
    #[arg(long, env = "TIDEMARK_CREDENTIALS")]
    credentials: Option<PathBuf>,
    /// Where backups and snapshots are stored: file:///DIR, s3://bucket/prefix (endpoint and
    /// keys from the AWS_* environment variables) or memory://. Default: <data-dir>/vault,
    /// or memory:// with --in-memory.
    #[arg(long, env = "TIDEMARK_VAULT")]
    vault: Option<String>,
    /// The only directory admin calls may name (backup export and import): relative paths
    /// are taken under it, absolute ones must resolve inside it. Created on first use.
    /// Default: <data-dir>/exchange; with --in-memory, the default data directory's
    /// exchange (never a shared temp directory, where another user could plant symlinks).
    #[arg(long, env = "TIDEMARK_EXCHANGE_DIR")]
    exchange_dir: Option<PathBuf>,
    /// Memory (MiB) that concurrent large DynamoDB requests may take while decoding; past it
    /// they queue briefly, then get a retryable 503.
    #[arg(long, default_value_t = 512, env = "TIDEMARK_DECODE_BUDGET_MIB",
          value_parser = clap::value_parser!(u32).range(1..))]
    decode_budget_mib: u32,
    /// Use the pure in-memory store instead of redb's in-memory backend (with --in-memory).
    #[arg(long, hide = true, requires = "in_memory")]
    mem_store: bool,
    #[command(flatten)]
    connections: ConnectionArgs,
}

/// How connections are limited and secured (documented in the README's `serve` table).
#[derive(Args, Debug)]
pub struct ConnectionArgs {
    /// Seconds a client has to send a request's header (and to finish a TLS handshake).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
    header_timeout: Duration,
    /// Seconds a kept-alive connection may wait for its next request, or leave a response unread.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
    idle_timeout: Duration,
    /// Seconds a request body gets, plus one per --body-min-rate bytes received.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
    body_timeout: Duration,
    /// Bytes per second a request body must average after --body-timeout.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024)]
    body_min_rate: u64,
    /// Connections served at once; more are answered 503. Default: 4096, or fewer if the
    /// descriptor limit needs it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: Option<u32>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls"
    )]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a generated certificate (under <data-dir>/tls, or a temporary
    /// directory with --in-memory); clients trust its ca.pem.
    #[arg(long, value_enum)]
    tls: Option<TlsKind>,
    /// The host name the generated certificate is for (127.0.0.1 is always included).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "localhost",
        requires = "tls"
    )]
    tls_hostname: String,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TlsKind {
    /// Generate a certificate authority and a server certificate signed by it.
    SelfSigned,
}

fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

/// Descriptors kept free of connections for the store, the vault's files and the runtime.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The default connection cap: 4096, or what the descriptor limit leaves room for.
const DEFAULT_MAX_CONNECTIONS: u32 = 4096;

/// Raises the soft descriptor limit to the hard one (the default soft limit of 1,024 is
/// what made ~1,100 connections exhaust the server) and returns the soft limit now in force.
fn raise_descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let before = rlimit::getrlimit(rlimit::Resource::NOFILE).ok();
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(soft) => {
                let (was, hard) = before.unwrap_or((soft, soft));
                tracing::info!("descriptor limit: soft {soft} (was {was}), hard {hard}");
                Some(soft)
            }
            Err(e) => {
                tracing::warn!("could not raise the descriptor limit: {e}");
                before.map(|(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    None
}

fn connection_limits(args: &ConnectionArgs, descriptors: Option<u64>) -> ConnectionLimits {
    let room = descriptors.map(|soft| soft.saturating_sub(RESERVED_DESCRIPTORS).max(16));
    let max_connections = match (args.max_connections, room) {
        (Some(n), Some(room)) if u64::from(n) > room => {
            tracing::warn!(
                "--max-connections {n} exceeds what the descriptor limit leaves room for \
                 ({room}); accepting will back off when descriptors run out"
            );
            n
        }
        (Some(n), _) => n,
        (None, Some(room)) => DEFAULT_MAX_CONNECTIONS.min(u32::try_from(room).unwrap_or(u32::MAX)),
        (None, None) => DEFAULT_MAX_CONNECTIONS,
    };
    tracing::info!("serving at most {max_connections} connections at once");
    ConnectionLimits {
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        body_timeout: args.body_timeout,
        body_min_rate: args.body_min_rate,
        max_connections,
    }
}

/// Where `--tls self-signed` puts its files with `--in-memory`: one directory per process.
fn in_memory_tls_dir() -> PathBuf {
    std::env::temp_dir().join(format!("tidemark-tls-{}", std::process::id()))
}

/// The HTTPS configuration, if asked for; says where a generated CA certificate is.
fn tls_config(args: &ServeArgs) -> anyhow::Result<Option<Arc<tidemark_wire::tls::ServerConfig>>> {
    let c = &args.connections;
    if let (Some(cert), Some(key)) = (&c.tls_cert, &c.tls_key) {
        return Ok(Some(tidemark_wire::tls::server_config(cert, key)?));
    }
    let Some(TlsKind::SelfSigned) = c.tls else {
        return Ok(None);
    };
    let dir = if args.in_memory {
        in_memory_tls_dir()
    } else {
        args.data_dir
            .clone()
            .unwrap_or_else(tidemark_core::default_data_dir)
            .join("tls")
    };
    let files = tidemark_wire::tls::self_signed(&dir, &c.tls_hostname)?;
    eprintln!(
        "tidemark TLS certificate authority: {} (aws --ca-bundle, boto3 verify=)",
        files.ca.display()
    );
    tracing::info!(
        "TLS certificate {} and key {} for {}",
        files.cert.display(),
        files.key.display(),
        c.tls_hostname
    );
    Ok(Some(tidemark_wire::tls::server_config(
        &files.cert,
        &files.key,
    )?))
}

fn auth_mode(args: &ServeArgs) -> anyhow::Result<AuthMode> {
    let kind = match args.auth {
        Some(k) => k,
        None if args.listen.ip().is_loopback() => AuthKind::Permissive,
        None if args.credentials.is_some() => AuthKind::Strict,
        None => bail!(
            "refusing to listen on non-loopback address {} without signature checks: \
             pass --credentials FILE (strict) or --auth permissive explicitly",
            args.listen
        ),
    };
    Ok(match kind {
        AuthKind::Permissive => AuthMode::Permissive,
        AuthKind::Strict => {
            let path = args
                .credentials
                .as_ref()
                .context("--auth strict needs --credentials FILE")?;
            let file = CredentialsFile::load(path)
                .with_context(|| format!("reading {}", path.display()))?;
            AuthMode::Strict(Arc::new(file))
        }
    })
}

fn open_store(args: &ServeArgs) -> anyhow::Result<Arc<dyn Store>> {
    if args.in_memory {
        if args.mem_store {
            return Ok(Arc::new(MemStore::new()));
        }
        return Ok(Arc::new(RedbStore::in_memory()?));
    }
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(tidemark_core::default_data_dir);
    let store = RedbStore::open(&dir)
        .with_context(|| format!("opening data directory {}", dir.display()))?;
    Ok(Arc::new(store))
}

fn vault_url(args: &ServeArgs) -> String {
    if let Some(url) = &args.vault {
        return url.clone();
    }
    if args.in_memory {
        return "memory://".to_owned();
    }
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(tidemark_core::default_data_dir);
    format!("file://{}", dir.join("vault").display())
}

fn open_vault(args: &ServeArgs, runtime: &tokio::runtime::Runtime) -> anyhow::Result<Vault> {
    let url = vault_url(args);
    if let Some(dir) = url.strip_prefix("file://") {
        std::fs::create_dir_all(dir).with_context(|| format!("creating vault directory {dir}"))?;
    }
    let backend = backend_from_url(&url).with_context(|| format!("vault {url}"))?;
    let opts = VaultOptions {
        runtime: Some(runtime.handle().clone()),
        pack_uploads_in_flight: pack_uploads_in_flight_for_url(&url),
        ..VaultOptions::default()
    };
    Vault::open(backend, opts).with_context(|| format!("opening vault {url}"))
}

/// What the service-specific admin routes (`backup_admin`, `redshift_data_admin`) and reset
/// may use.
pub struct AdminContext {
    pub engine: Arc<Engine>,
    pub store: Arc<dyn Store>,
    pub dynamodb: Arc<tidemark_dynamodb::DynamoDbService>,
    /// The PostgreSQL databases behind the clusters' Endpoints.
    pub databases: Arc<crate::redshift_db::PgClusters>,
    /// The Data API's statements and sessions.
    pub redshift_data: Arc<tidemark_redshift_data::RedshiftDataService>,
    /// The data directory; `None` with `--in-memory`.
    pub data_dir: Option<PathBuf>,
    /// Where backup export and import may read and write (`--exchange-dir`).
    pub exchange: crate::confine::Root,
}

/// The admin API over the job engine and the store.
struct AppAdmin {
    ctx: AdminContext,
}

impl Admin for AppAdmin {
    fn clock(&self) -> ClockView {
        let clock = self.ctx.engine.clock();
        ClockView {
            now: clock.now(),
            frozen: clock.is_frozen(),
        }
    }

    fn change_clock(&self, change: ClockChange) -> Result<ClockView, String> {
        match change {
            ClockChange::Advance(s) => self.ctx.engine.advance(s).map(drop),
            ClockChange::Set(t) => self.ctx.engine.set_time(t).map(drop),
            ClockChange::Freeze(f) => self.ctx.engine.set_frozen(f),
        }
        .map_err(|e| e.to_string())?;
        Ok(self.clock())
    }

    fn unhealthy(&self) -> Option<String> {
        // The store's fault is a mutex read, never a wait on the disk.
        let fault = self.ctx.store.fault()?;
        Some(format!("store: {fault}; retrying"))
    }

    fn reset(&self) -> Result<(), String> {
        let mut txn = self.ctx.store.write().map_err(|e| e.to_string())?;
        for table in txn.table_names().map_err(|e| e.to_string())? {
            txn.delete_table(&table).map_err(|e| e.to_string())?;
        }
        txn.commit().map_err(|e| e.to_string())?;
        self.ctx.engine.reset().map_err(|e| e.to_string())?;
        // Before the databases stop: sessions close their connections first.
        self.ctx.redshift_data.reset();
        self.ctx.databases.reset()?;
        // Cluster volumes live beside the store; their clusters are gone now.
        if let Some(dir) = &self.ctx.data_dir {
            let root = tidemark_redshift::DirVolumes::under_data_dir(dir);
            match std::fs::remove_dir_all(root.root()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("removing {}: {e}", root.root().display())),
            }
        }
        Ok(())
    }

    fn extension(
        &self,
        call: &AdminCall,
    ) -> Option<Result<(tidemark_wire::StatusCode, serde_json::Value), String>> {
        crate::backup_admin::route(&self.ctx, call)
            .or_else(|| crate::redshift_data_admin::route(&self.ctx, call))
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TIDEMARK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let auth = auth_mode(&args)?;
    let descriptors = raise_descriptor_limit();
    let limits = connection_limits(&args.connections, descriptors);
    let tls = tls_config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let store = open_store(&args)?;
    let vault = open_vault(&args, &runtime)?;
    let engine = Arc::new(Engine::open(store.clone())?);
    let dynamodb = tidemark_dynamodb::DynamoDbService::with_vault(
        store.clone(),
        engine.clone(),
        Arc::new(vault.clone()),
    );
    let endpoint_owner = dynamodb.clone();
    // Cluster volumes are directories under the data dir (in the store with --in-memory).
    let volume_dir = (!args.in_memory).then(|| {
        args.data_dir
            .clone()
            .unwrap_or_else(tidemark_core::default_data_dir)
    });
    let volumes = Arc::new(VaultVolumes::for_data_dir(
        store.clone(),
        vault.clone(),
        volume_dir.as_deref(),
    ));
    let clock_engine = engine.clone();
    let databases = crate::redshift_db::PgClusters::new(
        runtime.handle().clone(),
        Box::new(move || clock_engine.now()),
        volume_dir.as_deref(),
        args.postgres_bin.as_deref(),
    )?;
    let redshift = tidemark_redshift::RedshiftService::with_database(
        store.clone(),
        engine.clone(),
        volumes,
        databases.clone(),
    );
    engine.recover()?;
    if let Err(e) = redshift.start_databases() {
        tracing::warn!("starting the Redshift clusters' databases: {e}");
    }
    let data_dir = (!args.in_memory).then(|| {
        args.data_dir
            .clone()
            .unwrap_or_else(tidemark_core::default_data_dir)
    });
    let exchange = crate::confine::Root::new(args.exchange_dir.clone().unwrap_or_else(|| {
        data_dir
            .clone()
            .unwrap_or_else(tidemark_core::default_data_dir)
            .join("exchange")
    }));
    let data_clock = engine.clone();
    let data_backend = crate::redshift_db::PgData::new(databases.clone(), redshift.clone());
    // The Data API's statements and result files live in the data directory (and so answer
    // after a restart), or in a private temporary directory with --in-memory.
    let redshift_data = match &data_dir {
        Some(dir) => {
            let results = dir.join("redshift-data");
            tidemark_redshift_data::RedshiftDataService::with_results_dir(
                data_backend,
                Box::new(move || data_clock.now()),
                &results,
            )
            .with_context(|| format!("opening the Data API's results in {}", results.display()))?
        }
        None => tidemark_redshift_data::RedshiftDataService::new(
            data_backend,
            Box::new(move || data_clock.now()),
        ),
    };
    if let Some(dir) = &data_dir {
        let file = dir.join(tidemark_redshift_data::SECRETS_FILE);
        redshift_data
            .open_secrets(&file)
            .with_context(|| format!("loading the Data API's secrets from {}", file.display()))?;
    }
    let admin = Arc::new(AppAdmin {
        ctx: AdminContext {
            engine: engine.clone(),
            store: store.clone(),
            dynamodb: dynamodb.clone(),
            databases: databases.clone(),
            redshift_data: redshift_data.clone(),
            data_dir,
            exchange,
        },
    });
    let services = Arc::new(Services {
        dynamodb,
        redshift,
        redshift_data,
        admin,
        auth,
        max_body: tidemark_wire::DEFAULT_MAX_BODY,
        decode_budget: tidemark_wire::json::DecodeBudget::new(
            args.decode_budget_mib as usize * 1024 * 1024,
            tidemark_wire::json::budget::QUEUE_WAIT,
        ),
    });

    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr()?;
        // DescribeEndpoints names the address actually bound (port 0 becomes a real port).
        endpoint_owner.set_endpoint_address(addr.to_string());
        let background = engine.spawn_background()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        eprintln!("tidemark listening on {scheme}://{addr}");
        tidemark_wire::serve(listener, services, limits, tls, shutdown_signal()).await?;
        drop(background);
        // Stop every cluster's PostgreSQL (their data stays for the next start).
        let stopping = databases.clone();
        tokio::task::spawn_blocking(move || stopping.shutdown()).await?;
        // With --in-memory the generated certificate lived in a temporary directory; like
        // the rest of the state it ends with the process. Failing to remove it is harmless.
        if args.in_memory && matches!(args.connections.tls, Some(TlsKind::SelfSigned)) {
            let _ = std::fs::remove_dir_all(in_memory_tls_dir());
        }
        anyhow::Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
