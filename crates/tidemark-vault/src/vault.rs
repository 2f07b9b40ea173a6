//! `Vault`: opening, the runtime bridge, per-account state, listing, deleting and statistics.

use crate::config::{VaultConfig, VaultOptions};
use crate::error::{Result, VaultError};
use crate::format::{self, Entry};
use crate::id::{AccountKeys, Id, ManifestId, validate_account};
use crate::store::{Store, keys};
use object_store::ObjectStore;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A vault opened on one backend. Cheap to clone; all methods block (see vault-format.md §9).
#[derive(Clone)]
pub struct Vault {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub opts: VaultOptions,
    pub config: VaultConfig,
    secret: [u8; 32],
    handle: tokio::runtime::Handle,
    owned_rt: Mutex<Option<tokio::runtime::Runtime>>,
    accounts: Mutex<HashMap<String, Arc<Account>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping a runtime may block; shutting down in the background never panics.
        if let Some(rt) = lock(&self.owned_rt).take() {
            rt.shutdown_background();
        }
    }
}

/// Where a chunk is stored.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Loc {
    pub pack: Id,
    pub entry: Entry,
}

#[derive(Default)]
pub(crate) struct IndexCache {
    pub loaded: HashSet<Id>,
    pub chunks: HashMap<Id, Loc>,
}

#[derive(Default)]
struct Usage {
    users: usize,
    gc: bool,
}

/// Per-account state shared by every writer, reader and gc of this `Vault`.
pub(crate) struct Account {
    pub name: String,
    pub keys: AccountKeys,
    pub gear: (Vec<u64>, Vec<u64>),
    pub index: Mutex<IndexCache>,
    usage: Mutex<Usage>,
    cond: Condvar,
}

/// Locks a mutex, recovering from poisoning: the protected data stays consistent because
/// every critical section here only inserts or counts.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Marks an account in use by a writer or reader; gc skips accounts in use.
pub(crate) struct UseGuard(pub Arc<Account>);

impl Drop for UseGuard {
    fn drop(&mut self) {
        lock(&self.0.usage).users -= 1;
        self.0.cond.notify_all();
    }
}

/// Marks an account being garbage-collected.
pub(crate) struct GcGuard(pub Arc<Account>);

impl Drop for GcGuard {
    fn drop(&mut self) {
        lock(&self.0.usage).gc = false;
        self.0.cond.notify_all();
    }
}

impl Account {
    pub fn begin_use(self: &Arc<Self>) -> UseGuard {
        let mut u = lock(&self.usage);
        while u.gc {
            u = self.cond.wait(u).unwrap_or_else(|p| p.into_inner());
        }
        u.users += 1;
        UseGuard(self.clone())
    }

    pub fn begin_gc(self: &Arc<Self>) -> Option<GcGuard> {
        let mut u = lock(&self.usage);
        if u.users > 0 || u.gc {
            return None;
        }
        u.gc = true;
        Some(GcGuard(self.clone()))
    }

    pub fn key(&self, kind: &str, id: &Id) -> String {
        keys::object(&self.name, kind, id)
    }
}

/// What `list` tells about one backup.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ManifestInfo {
    pub id: String,
    pub created: String,
    pub records: u64,
    pub logical_bytes: u64,
    pub meta: serde_json::Value,
}

/// The `meta` JSON stored in a manifest (vault-format.md §2.4).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ManifestMeta {
    pub account: String,
    pub created: String,
    pub records: u64,
    pub logical_bytes: u64,
    pub user: serde_json::Value,
    /// The backup this one was stored against (v2 manifests; informational only: the
    /// manifest names every chunk it needs and does not depend on the parent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// Vault-wide statistics.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct VaultStats {
    pub accounts: u64,
    pub manifests: u64,
    pub packs: u64,
    pub pack_bytes: u64,
    pub indexes: u64,
    pub unique_chunks: u64,
    pub unique_raw_bytes: u64,
    pub unique_stored_bytes: u64,
}

impl Vault {
    /// Opens the vault on `backend`, creating `config` if the vault is new.
    pub fn open(backend: Arc<dyn ObjectStore>, opts: VaultOptions) -> Result<Vault> {
        let (handle, owned) = match &opts.runtime {
            Some(h) => (h.clone(), None),
            None => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("tidemark-vault")
                    .enable_all()
                    .build()?;
                (rt.handle().clone(), Some(rt))
            }
        };
        let store = Store {
            inner: backend,
            retries: opts.retries,
            uploads_in_flight: opts.pack_uploads_in_flight,
        };
        let config = handle.block_on(load_or_create_config(&store, &opts))?;
        let secret = config.secret_bytes()?;
        Ok(Vault {
            inner: Arc::new(Inner {
                store,
                opts,
                config,
                secret,
                handle,
                owned_rt: Mutex::new(owned),
                accounts: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The stored configuration (chunker parameters, pack size).
    pub fn config(&self) -> &VaultConfig {
        &self.inner.config
    }

    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.inner.handle.block_on(f)
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.inner.handle
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn account(&self, name: &str) -> Result<Arc<Account>> {
        validate_account(name)?;
        let mut map = lock(&self.inner.accounts);
        if let Some(a) = map.get(name) {
            return Ok(a.clone());
        }
        let keys = AccountKeys::derive(&self.inner.secret, name);
        let (g, gl) = fastcdc::v2020::get_gear_with_seed(keys.gear_seed);
        let a = Arc::new(Account {
            name: name.to_string(),
            keys,
            gear: (g.into_owned(), gl.into_owned()),
            index: Mutex::new(IndexCache::default()),
            usage: Mutex::new(Usage::default()),
            cond: Condvar::new(),
        });
        map.insert(name.to_string(), a.clone());
        Ok(a)
    }

    /// Accounts present in the backend.
    pub(crate) async fn account_names(&self) -> Result<Vec<String>> {
        let mut names = self.store().list_dirs("accounts").await?;
        names.retain(|n| validate_account(n).is_ok());
        names.sort();
        Ok(names)
    }

    /// Brings the account's chunk cache up to date with the stored indexes. If an index it
    /// had loaded is gone (gc ran), the cache is rebuilt so nothing points at deleted packs.
    /// Unreadable indexes are skipped here; `verify` reports them.
    pub(crate) async fn refresh_index(&self, acct: &Account) -> Result<()> {
        let listed: HashSet<Id> = self
            .store()
            .list(&keys::dir(&acct.name, keys::INDEX))
            .await?
            .into_iter()
            .filter_map(|(n, _)| Id::from_hex(&n))
            .collect();
        let missing: Vec<Id> = {
            let mut cache = lock(&acct.index);
            if !cache.loaded.is_subset(&listed) {
                *cache = IndexCache::default();
            }
            listed.difference(&cache.loaded).copied().collect()
        };
        for id in missing {
            let Ok(packs) = self.load_index(acct, &id).await else {
                continue;
            };
            let mut cache = lock(&acct.index);
            for p in packs {
                for e in p.entries {
                    cache.chunks.insert(
                        e.chunk,
                        Loc {
                            pack: p.pack,
                            entry: e,
                        },
                    );
                }
            }
            cache.loaded.insert(id);
        }
        Ok(())
    }

    /// Reads an index and checks that its bytes match its name.
    pub(crate) async fn load_index(
        &self,
        acct: &Account,
        id: &Id,
    ) -> Result<Vec<format::PackEntries>> {
        let key = acct.key(keys::INDEX, id);
        let bytes = self
            .store()
            .get(&key)
            .await?
            .ok_or_else(|| VaultError::Missing {
                object: key.clone(),
                detail: "index vanished".into(),
            })?;
        if acct.keys.hash(&bytes) != *id {
            return Err(VaultError::corrupt(key, "content does not match its id"));
        }
        format::decode_index(&key, &bytes)
    }

    /// Reads a manifest, checking its id; returns its meta and body (the chunk list of a
    /// version 1 manifest, the chunk table and extents of a version 2 one).
    pub(crate) async fn load_manifest(
        &self,
        acct: &Account,
        id: &ManifestId,
    ) -> Result<(ManifestMeta, format::Manifest)> {
        let key = acct.key(keys::MANIFESTS, &id.0);
        let bytes = self
            .store()
            .get(&key)
            .await?
            .ok_or_else(|| VaultError::ManifestNotFound {
                account: acct.name.clone(),
                id: id.to_string(),
            })?;
        if acct.keys.hash(&bytes) != id.0 {
            return Err(VaultError::corrupt(key, "content does not match its id"));
        }
        let body = format::decode_manifest(&key, &bytes)?;
        let meta = serde_json::from_slice(&body.meta)
            .map_err(|e| VaultError::corrupt(&key, e.to_string()))?;
        Ok((meta, body))
    }

    pub(crate) async fn manifest_ids(&self, account: &str) -> Result<Vec<ManifestId>> {
        let list = self
            .store()
            .list(&keys::dir(account, keys::MANIFESTS))
            .await?;
        Ok(list
            .into_iter()
            .filter_map(|(n, _)| Id::from_hex(&n).map(ManifestId))
            .collect())
    }

    /// The account's backups, oldest first. Reads only each manifest's header and meta.
    pub fn list(&self, account: &str) -> Result<Vec<ManifestInfo>> {
        let acct = self.account(account)?;
        self.block_on(async {
            let mut out = Vec::new();
            for id in self.manifest_ids(account).await? {
                let key = acct.key(keys::MANIFESTS, &id.0);
                let Some(head) = self
                    .store()
                    .get_range(&key, 0..format::MANIFEST_HEADER_LEN as u64)
                    .await?
                else {
                    continue; // deleted while listing
                };
                let len = format::manifest_meta_len(&key, &head)? as u64;
                let h = format::MANIFEST_HEADER_LEN as u64;
                let meta = self.store().get_range(&key, h..h + len).await?;
                let Some(meta) = meta else { continue };
                let meta: ManifestMeta = serde_json::from_slice(&meta)
                    .map_err(|e| VaultError::corrupt(&key, e.to_string()))?;
                out.push(ManifestInfo {
                    id: id.to_string(),
                    created: meta.created,
                    records: meta.records,
                    logical_bytes: meta.logical_bytes,
                    meta: meta.user,
                });
            }
            // RFC 3339 strings with varying fraction digits do not sort as text.
            let ts = |m: &ManifestInfo| m.created.parse::<tidemark_core::Timestamp>().ok();
            out.sort_by(|a, b| (ts(a), &a.id).cmp(&(ts(b), &b.id)));
            Ok(out)
        })
    }

    /// Deletes a backup's manifest. Its data is reclaimed by `gc`.
    pub fn delete(&self, account: &str, id: &ManifestId) -> Result<()> {
        let acct = self.account(account)?;
        let key = acct.key(keys::MANIFESTS, &id.0);
        self.block_on(async {
            if self.store().get_range(&key, 0..1).await?.is_none() {
                return Err(VaultError::ManifestNotFound {
                    account: account.to_string(),
                    id: id.to_string(),
                });
            }
            self.store().delete(&key).await
        })
    }

    /// Counts objects and unique chunks over all accounts.
    pub fn stats(&self) -> Result<VaultStats> {
        self.block_on(async {
            let mut s = VaultStats::default();
            for name in self.account_names().await? {
                let acct = self.account(&name)?;
                s.accounts += 1;
                s.manifests += self.manifest_ids(&name).await?.len() as u64;
                let packs = self.store().list(&keys::dir(&name, keys::PACKS)).await?;
                s.packs += packs.len() as u64;
                s.pack_bytes += packs.iter().map(|p| p.1).sum::<u64>();
                let mut seen = HashSet::new();
                for (n, _) in self.store().list(&keys::dir(&name, keys::INDEX)).await? {
                    let Some(id) = Id::from_hex(&n) else { continue };
                    s.indexes += 1;
                    // Damaged indexes are verify's business; stats counts what it can read.
                    let Ok(packs) = self.load_index(&acct, &id).await else {
                        continue;
                    };
                    for p in packs {
                        for e in p.entries {
                            if seen.insert(e.chunk) {
                                s.unique_raw_bytes += u64::from(e.raw_len);
                                s.unique_stored_bytes += u64::from(e.stored_len);
                            }
                        }
                    }
                }
                s.unique_chunks += seen.len() as u64;
            }
            Ok(s)
        })
    }
}

async fn load_or_create_config(store: &Store, opts: &VaultOptions) -> Result<VaultConfig> {
    if let Some(bytes) = store.get(keys::CONFIG).await? {
        return VaultConfig::parse(&bytes);
    }
    if !opts.create_if_missing {
        return Err(VaultError::Config(format!(
            "no vault here (no config object in {})",
            store.inner
        )));
    }
    let fresh = VaultConfig::new(opts.chunker.clone(), opts.zstd_level, opts.pack_target_size);
    let json = serde_json::to_vec_pretty(&fresh).map_err(|e| VaultError::Config(e.to_string()))?;
    // Create-only: if another process created the vault first, its config wins.
    store.put_create(keys::CONFIG, json.into()).await?;
    let bytes = store
        .get(keys::CONFIG)
        .await?
        .ok_or_else(|| VaultError::Missing {
            object: keys::CONFIG.into(),
            detail: "config vanished after creation".into(),
        })?;
    VaultConfig::parse(&bytes)
}
