//! `tidemark serve`: opens the store, the job engine and the services, then serves HTTP
//! until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use tidemark_auth::{AuthMode, CredentialsFile};
use tidemark_jobs::Engine;
use tidemark_redshift::VaultVolumes;
use tidemark_store::{MemStore, RedbStore, Store};
use tidemark_vault::{Vault, VaultOptions, backend_from_url, pack_uploads_in_flight_for_url};
use tidemark_wire::{Admin, AdminCall, ClockChange, ClockView, Services};

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
    /// Keep everything in memory; nothing touches disk and nothing survives exit.
    #[arg(long)]
    in_memory: bool,
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
    /// Memory (MiB) that concurrent large DynamoDB requests may take while decoding; past it
    /// they queue briefly, then get a retryable 503.
    #[arg(long, default_value_t = 512, env = "TIDEMARK_DECODE_BUDGET_MIB",
          value_parser = clap::value_parser!(u32).range(1..))]
    decode_budget_mib: u32,
    /// Use the pure in-memory store instead of redb's in-memory backend (with --in-memory).
    #[arg(long, hide = true, requires = "in_memory")]
    mem_store: bool,
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

/// What the service-specific admin routes (`backup_admin`, `redshift_admin`) may use.
pub struct AdminContext {
    pub engine: Arc<Engine>,
    pub store: Arc<dyn Store>,
    pub dynamodb: Arc<tidemark_dynamodb::DynamoDbService>,
    pub redshift: Arc<tidemark_redshift::RedshiftService>,
    /// The data directory; `None` with `--in-memory`.
    pub data_dir: Option<PathBuf>,
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

    fn reset(&self) -> Result<(), String> {
        let mut txn = self.ctx.store.write().map_err(|e| e.to_string())?;
        for table in txn.table_names().map_err(|e| e.to_string())? {
            txn.delete_table(&table).map_err(|e| e.to_string())?;
        }
        txn.commit().map_err(|e| e.to_string())?;
        self.ctx.engine.reset().map_err(|e| e.to_string())?;
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
            .or_else(|| crate::redshift_admin::route(&self.ctx, call))
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
    let redshift =
        tidemark_redshift::RedshiftService::with_volumes(store.clone(), engine.clone(), volumes);
    engine.recover()?;
    let data_dir = (!args.in_memory).then(|| {
        args.data_dir
            .clone()
            .unwrap_or_else(tidemark_core::default_data_dir)
    });
    let admin = Arc::new(AppAdmin {
        ctx: AdminContext {
            engine: engine.clone(),
            store: store.clone(),
            dynamodb: dynamodb.clone(),
            redshift: redshift.clone(),
            data_dir,
        },
    });
    let services = Arc::new(Services {
        dynamodb,
        redshift,
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
        eprintln!("tidemark listening on http://{addr}");
        tidemark_wire::serve(listener, services, shutdown_signal()).await?;
        drop(background);
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
