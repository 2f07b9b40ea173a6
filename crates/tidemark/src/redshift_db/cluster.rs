//! One cluster's database: its Endpoint listener, its PostgreSQL instance (made on first
//! use), its master login, and the snapshot marks waiting for their dumps.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, TryLockError};

use tidemark_postgres::{Instance, InstanceConfig};
use tidemark_redshift::{DbCluster, DbEndpoint, TempLogin};

use super::dump::Mark;
use super::recent::Recent;
use super::route::ClusterRoute;
use super::{Key, Shared, endpoint};

/// The master login the Endpoint accepts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Login {
    pub user: String,
    /// PostgreSQL's md5 verifier; empty when the password is managed elsewhere.
    pub md5: String,
    pub db_name: String,
}

impl Login {
    pub fn of(c: &DbCluster<'_>) -> Self {
        Self {
            user: c.master_username.to_owned(),
            md5: c.master_password_md5.to_owned(),
            db_name: c.db_name.to_owned(),
        }
    }
}

struct Listening {
    /// The port the cluster asked for (the bound one may differ when it was taken).
    requested: i32,
    endpoint: DbEndpoint,
    stop: tokio::sync::oneshot::Sender<()>,
}

/// Written into the cluster directory once the master role and database exist.
const INITIALIZED: &str = "initialized";

pub(crate) struct ClusterDb {
    pub shared: Arc<Shared>,
    key: Mutex<Key>,
    login: Mutex<Login>,
    /// Written only to start, heal or stop the server; dumps and restores read it for as long
    /// as they run, while new connections go by `socket`.
    instance: RwLock<Option<Instance>>,
    /// The running server's socket, for connections made while a dump holds `instance`.
    socket: Mutex<Option<PathBuf>>,
    paused: AtomicBool,
    /// Set while a restore loads a snapshot's dump into a fresh instance: the master user and
    /// database come from the dump then, not from initialization.
    pub loading: AtomicBool,
    listener: Mutex<Option<Listening>>,
    pub marks: Mutex<HashMap<String, Mark>>,
    /// Temporary logins by user name (GetClusterCredentials*); in memory only.
    temps: Mutex<HashMap<String, TempLogin>>,
    /// The statements the Endpoint sent, for STL_QUERY; written beside the data on stop.
    pub recent: Recent,
}

const POISONED: &str = "a cluster database lock was poisoned";

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, String> {
    m.lock().map_err(|_| POISONED.to_owned())
}

/// Removes a directory tree; a missing one is fine.
pub(crate) fn remove_dir(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", dir.display())),
    }
}

impl ClusterDb {
    pub fn new(shared: Arc<Shared>, key: Key, login: Login) -> Arc<Self> {
        Arc::new(Self {
            shared,
            key: Mutex::new(key),
            login: Mutex::new(login),
            instance: RwLock::new(None),
            socket: Mutex::new(None),
            paused: AtomicBool::new(false),
            loading: AtomicBool::new(false),
            listener: Mutex::new(None),
            marks: Mutex::new(HashMap::new()),
            temps: Mutex::new(HashMap::new()),
            recent: Recent::default(),
        })
    }

    pub fn login(&self) -> Login {
        self.login.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn set_login(&self, login: Login) {
        if let Ok(mut l) = self.login.lock() {
            *l = login;
        }
    }

    pub fn grant_temporary(&self, login: TempLogin) -> Result<(), String> {
        let now = (self.shared.now)();
        let mut temps = lock(&self.temps)?;
        // Expired logins go as new ones come, so the map stays as small as what is live.
        temps.retain(|_, t| t.expires > now);
        temps.insert(login.login_user.clone(), login);
        Ok(())
    }

    /// The live temporary login of `user`, if any.
    pub fn temporary(&self, user: &str) -> Option<TempLogin> {
        let now = (self.shared.now)();
        let temps = self.temps.lock().ok()?;
        temps.get(user).filter(|t| t.expires > now).cloned()
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// `<root>/<account>/<region>/<cluster>/`.
    pub fn dir(&self) -> Result<PathBuf, String> {
        Ok(self.shared.cluster_dir(&lock(&self.key)?.clone()))
    }

    /// The PostgreSQL data directory.
    pub fn pgdata(&self) -> Result<PathBuf, String> {
        Ok(self.dir()?.join("pgdata"))
    }

    /// Whether the database was ever made (else it is a fresh cluster's pristine one).
    pub fn materialized(&self) -> Result<bool, String> {
        Ok(self.dir()?.join(INITIALIZED).is_file())
    }

    /// The running instance's socket, starting (or healing) it first: a fresh cluster's
    /// database is made here, from the template, with its master user and database.
    pub fn ensure_instance(&self) -> Result<PathBuf, String> {
        if self.is_paused() {
            return Err("the cluster is paused".into());
        }
        let mut inst = match self.instance.try_write() {
            Ok(guard) => guard,
            // A dump or restore is reading the instance: it is running, so is its socket.
            Err(TryLockError::WouldBlock) => {
                // The socket's guard must end before waiting for `instance`: whoever holds
                // `instance` takes the socket lock to publish the socket (a guard in the
                // match scrutinee would live through the wait and deadlock two first
                // connections).
                let running = lock(&self.socket)?.clone();
                match running {
                    Some(socket) => return Ok(socket),
                    None => self.instance.write().map_err(|_| POISONED)?,
                }
            }
            Err(TryLockError::Poisoned(_)) => return Err(POISONED.into()),
        };
        if let Some(i) = inst.as_mut() {
            i.ensure_running().map_err(|e| e.to_string())?;
            return Ok(i.socket_path());
        }
        let (bins, run_as, template) = self.shared.template()?;
        let dir = self.dir()?;
        let cfg = InstanceConfig::new(self.pgdata()?, dir.join("run"), template);
        let started = Instance::start_as(&bins, run_as, cfg).map_err(|e| e.to_string())?;
        if !dir.join(INITIALIZED).is_file() && !self.loading.load(Ordering::SeqCst) {
            let login = self.login();
            if !login.user.is_empty() {
                started
                    .ensure_login_role(&login.user, true)
                    .map_err(|e| e.to_string())?;
                started
                    .ensure_database(&login.db_name, &login.user)
                    .map_err(|e| e.to_string())?;
            }
            mark_initialized(&dir)?;
        }
        let socket = started.socket_path();
        *inst = Some(started);
        *lock(&self.socket)? = Some(socket.clone());
        Ok(socket)
    }

    /// Runs `f` on the running instance (started if needed).
    pub fn with_instance<T>(
        &self,
        f: impl FnOnce(&Instance) -> Result<T, String>,
    ) -> Result<T, String> {
        self.ensure_instance()?;
        let inst = self.instance.read().map_err(|_| POISONED)?;
        let i = inst
            .as_ref()
            .ok_or("the cluster's database is not running")?;
        f(i)
    }

    /// Runs `f` on the running instance (started if needed) with exclusive access, for work
    /// that restarts the server (a restore's bulk load). New connections meanwhile get the
    /// socket and may find the server restarting: the cluster is not available yet then.
    pub fn with_instance_mut<T>(
        &self,
        f: impl FnOnce(&mut Instance) -> Result<T, String>,
    ) -> Result<T, String> {
        self.ensure_instance()?;
        let mut inst = self.instance.write().map_err(|_| POISONED)?;
        let i = inst
            .as_mut()
            .ok_or("the cluster's database is not running")?;
        f(i)
    }

    /// A new cluster: whatever an older cluster of the same name left is gone.
    pub fn discard_data(&self) -> Result<(), String> {
        self.stop_instance()?;
        remove_dir(&self.dir()?)
    }

    /// Server start or ResumeCluster: a database that was made is started now (which also
    /// stops any server a killed tidemark left running on it).
    pub fn resume(&self) -> Result<(), String> {
        self.paused.store(false, Ordering::SeqCst);
        if self.materialized()? {
            // STL_QUERY's history as the last stop left it (a no-op for a pause's resume,
            // whose history never left memory).
            self.recent.restore(&self.pgdata()?);
            self.ensure_instance()?;
        }
        Ok(())
    }

    fn stop_instance(&self) -> Result<(), String> {
        *lock(&self.socket)? = None;
        let taken = self.instance.write().map_err(|_| POISONED)?.take();
        if let Some(mut i) = taken {
            i.stop().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn stop_listener(&self) -> Result<(), String> {
        if let Some(l) = lock(&self.listener)?.take() {
            // The listener task may already be gone (runtime shutting down): nothing to stop.
            let _ = l.stop.send(());
        }
        Ok(())
    }

    /// PauseCluster and server shutdown: no Endpoint, no server; the data stays.
    pub fn stop(&self) -> Result<(), String> {
        self.paused.store(true, Ordering::SeqCst);
        self.stop_listener()?;
        // STL_QUERY's history goes with the data, so a server restart keeps it.
        let pgdata = self.pgdata()?;
        if self.materialized()?
            && pgdata.is_dir()
            && let Err(e) = self.recent.publish(&pgdata)
        {
            tracing::warn!("writing STL_QUERY's history: {e}");
        }
        self.stop_instance()
    }

    /// DeleteCluster and reset: stopped, and its data gone.
    pub fn remove(&self) -> Result<(), String> {
        self.stop()?;
        if let Ok(mut m) = self.marks.lock() {
            m.clear();
        }
        remove_dir(&self.dir()?)
    }

    /// ModifyCluster NewClusterIdentifier: the server stops, its directory moves, and the
    /// Endpoint moves to the new identifier's address (as a rename reboots a cluster).
    pub fn rename(self: &Arc<Self>, to: Key) -> Result<(), String> {
        let requested = lock(&self.listener)?.as_ref().map(|l| l.requested);
        self.stop_listener()?;
        self.stop_instance()?;
        let from = self.dir()?;
        let dest = self.shared.cluster_dir(&to);
        if from.exists() {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("creating {}: {e}", parent.display()))?;
            }
            remove_dir(&dest)?;
            std::fs::rename(&from, &dest)
                .map_err(|e| format!("moving {} to {}: {e}", from.display(), dest.display()))?;
        }
        *lock(&self.key)? = to;
        if let Some(port) = requested {
            self.listen(port)?;
        }
        Ok(())
    }

    /// Makes sure the Endpoint listens for port `port` (rebinding when the cluster asked for
    /// another one) and says where.
    pub fn listen(self: &Arc<Self>, port: i32) -> Result<DbEndpoint, String> {
        self.paused.store(false, Ordering::SeqCst);
        let mut listening = lock(&self.listener)?;
        if let Some(l) = listening.as_ref()
            && l.requested == port
            && !l.stop.is_closed()
        {
            return Ok(l.endpoint.clone());
        }
        if let Some(old) = listening.take() {
            let _ = old.stop.send(());
        }
        let ip = {
            let k = lock(&self.key)?;
            endpoint::loopback_for(&k.0, &k.1, &k.2)
        };
        let std_listener =
            endpoint::bind(ip, port).map_err(|e| format!("binding the Endpoint: {e}"))?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| format!("binding the Endpoint: {e}"))?;
        let addr = std_listener
            .local_addr()
            .map_err(|e| format!("binding the Endpoint: {e}"))?;
        let listener = {
            let _guard = self.shared.rt.enter();
            tokio::net::TcpListener::from_std(std_listener)
                .map_err(|e| format!("binding the Endpoint: {e}"))?
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let route = Arc::new(ClusterRoute::new(Arc::downgrade(self)));
        let shutdown = async move {
            let _ = stopped.await;
        };
        let limits = tidemark_pgproxy::Limits::default();
        match self.shared.tls.clone() {
            Some(tls) => self.shared.rt.spawn(tidemark_pgproxy::serve_tls(
                listener, route, limits, tls, shutdown,
            )),
            None => self
                .shared
                .rt
                .spawn(tidemark_pgproxy::serve(listener, route, limits, shutdown)),
        };
        let endpoint = DbEndpoint {
            address: addr.ip().to_string(),
            port: i32::from(addr.port()),
        };
        *listening = Some(Listening {
            requested: port,
            endpoint: endpoint.clone(),
            stop,
        });
        Ok(endpoint)
    }
}

/// Records, durably, that the master role and database exist.
pub(crate) fn mark_initialized(dir: &Path) -> Result<(), String> {
    let path = dir.join(INITIALIZED);
    std::fs::write(&path, b"1\n")
        .and_then(|()| std::fs::File::open(&path)?.sync_all())
        .and_then(|()| std::fs::File::open(dir)?.sync_all())
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

impl Drop for ClusterDb {
    fn drop(&mut self) {
        if let Ok(Some(l)) = self.listener.get_mut().map(Option::take) {
            let _ = l.stop.send(());
        }
    }
}
