//! Lock objects that keep gc and writers of different processes apart (vault-format.md §5).

use crate::error::{Result, VaultError};
use crate::store::{Store, keys};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LockKind {
    Shared,
    Exclusive,
}

#[derive(Debug, Serialize, Deserialize)]
struct LockBody {
    kind: LockKind,
    created: String,
    refreshed: String,
    pid: u32,
}

/// A lock object this process holds; `release` deletes it (a crash leaves it to go stale).
pub struct LockObject {
    key: String,
    kind: LockKind,
    created: String,
    last_refresh: std::time::Instant,
}

fn body(kind: LockKind, created: &str) -> Vec<u8> {
    let b = LockBody {
        kind,
        created: created.to_string(),
        refreshed: tidemark_core::wall_now().to_string(),
        pid: std::process::id(),
    };
    serde_json::to_vec(&b).unwrap_or_default()
}

/// Creates a lock, then backs off if a conflicting live lock exists: shared conflicts with
/// exclusive; exclusive conflicts with any other lock.
pub async fn acquire(
    store: &Store,
    account: &str,
    kind: LockKind,
    stale_after: Duration,
) -> Result<LockObject> {
    let name: [u8; 16] = rand::random();
    let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("{}/{name}", keys::dir(account, keys::LOCKS));
    let created = tidemark_core::wall_now().to_string();
    store
        .put_overwrite(&key, body(kind, &created).into())
        .await?;
    let lock = LockObject {
        key,
        kind,
        created,
        last_refresh: std::time::Instant::now(),
    };
    for (other, _) in store.list(&keys::dir(account, keys::LOCKS)).await? {
        if other == name {
            continue;
        }
        let Some(b) = store
            .get(&format!("{}/{other}", keys::dir(account, keys::LOCKS)))
            .await?
        else {
            continue;
        };
        let Ok(b) = serde_json::from_slice::<LockBody>(&b) else {
            continue; // unreadable lock: treat as stale rather than wedge the vault
        };
        let conflict = kind == LockKind::Exclusive || b.kind == LockKind::Exclusive;
        if conflict && !is_stale(&b.refreshed, stale_after) {
            lock.release(store).await?;
            return Err(VaultError::Locked {
                account: account.to_string(),
                detail: format!(
                    "{:?} lock held by pid {} since {}",
                    b.kind, b.pid, b.created
                ),
            });
        }
    }
    Ok(lock)
}

fn is_stale(refreshed: &str, stale_after: Duration) -> bool {
    let Ok(t) = refreshed.parse::<tidemark_core::Timestamp>() else {
        return true;
    };
    let age = tidemark_core::wall_now().duration_since(t);
    age.as_secs_f64() > stale_after.as_secs_f64()
}

impl LockObject {
    /// Rewrites the lock so it stays live during a long store (at most every 5 minutes).
    pub async fn refresh(&mut self, store: &Store) -> Result<()> {
        if self.last_refresh.elapsed() < Duration::from_secs(300) {
            return Ok(());
        }
        store
            .put_overwrite(&self.key, body(self.kind, &self.created).into())
            .await?;
        self.last_refresh = std::time::Instant::now();
        Ok(())
    }

    pub async fn release(self, store: &Store) -> Result<()> {
        store.delete(&self.key).await
    }
}
