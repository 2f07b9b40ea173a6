//! The proxy-issued `BackendKeyData` of each live session and the backend's key behind it, so a
//! `CancelRequest` arriving on a fresh connection can be passed to the right backend.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use subtle::ConstantTimeEq;
use tokio::io::AsyncWriteExt;

/// Where a session's cancel requests go.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    key: i32,
    backend_pid: i32,
    backend_key: i32,
    socket: PathBuf,
}

/// Live sessions by the process id we gave them.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    sessions: Mutex<HashMap<i32, Target>>,
}

/// Removes its session from the registry when the session ends.
pub(crate) struct Registration {
    registry: Arc<Registry>,
    pid: i32,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.pid);
    }
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Target>> {
        // The map stays consistent whatever a panicking holder did (single inserts and removes).
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Issues a fresh (pid, key) for a session whose backend has `backend_pid`/`backend_key`.
    pub(crate) fn register(
        self: &Arc<Self>,
        backend_pid: i32,
        backend_key: i32,
        socket: PathBuf,
    ) -> (Registration, i32, i32) {
        let key: i32 = rand::random();
        let mut map = self.lock();
        let pid = loop {
            // Positive, like a real process id.
            let pid = rand::random::<i32>() & 0x7fff_ffff;
            if pid != 0 && !map.contains_key(&pid) {
                break pid;
            }
        };
        map.insert(
            pid,
            Target {
                key,
                backend_pid,
                backend_key,
                socket,
            },
        );
        (
            Registration {
                registry: Arc::clone(self),
                pid,
            },
            pid,
            key,
        )
    }

    /// Forwards a cancel request to the backend if (pid, key) names a live session. As in
    /// PostgreSQL, nothing is answered either way.
    pub(crate) async fn cancel(&self, pid: i32, key: i32) {
        let target = self.lock().get(&pid).cloned();
        let Some(t) = target else { return };
        if !bool::from(t.key.to_be_bytes().ct_eq(&key.to_be_bytes())) {
            return;
        }
        let send = async {
            let mut s = tokio::net::UnixStream::connect(&t.socket).await?;
            s.write_all(&crate::wire::cancel_request(t.backend_pid, t.backend_key))
                .await?;
            s.shutdown().await
        };
        match tokio::time::timeout(Duration::from_secs(5), send).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!("forwarding a cancel request failed: {e}"),
            Err(_) => tracing::debug!("forwarding a cancel request timed out"),
        }
    }
}
