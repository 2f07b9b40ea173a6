//! Backend access: URL parsing, object keys, and a small retry layer over `object_store`.

use crate::error::{Result, VaultError};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

/// Opens a backend: `file:///dir`, `s3://bucket/prefix` (AWS_* env vars), or `memory://`.
pub fn backend_from_url(url: &str) -> Result<Arc<dyn ObjectStore>> {
    if url == "memory://" || url == "memory:" {
        return Ok(Arc::new(object_store::memory::InMemory::new()));
    }
    if let Some(dir) = url.strip_prefix("file://") {
        if dir.is_empty() {
            return Err(VaultError::Config(format!("no directory in {url}")));
        }
        std::fs::create_dir_all(dir)?;
        // fsync: a put must be durable before the next one (vault-format.md §4).
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| VaultError::Config(format!("{url}: {e}")))?
            .with_fsync(true);
        return Ok(Arc::new(fs));
    }
    if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(VaultError::Config(format!("no bucket in {url}")));
        }
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_allow_http(true)
            .build()
            .map_err(|e| VaultError::Config(format!("{url}: {e}")))?;
        let prefix = prefix.trim_matches('/');
        if prefix.is_empty() {
            return Ok(Arc::new(s3));
        }
        return Ok(Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)));
    }
    Err(VaultError::Config(format!(
        "unsupported vault URL {url:?} (use file://, s3:// or memory://)"
    )))
}

/// Object keys of the layout in vault-format.md §2.
pub mod keys {
    use crate::id::Id;

    pub const CONFIG: &str = "config";
    pub fn dir(account: &str, kind: &str) -> String {
        format!("accounts/{account}/{kind}")
    }
    pub fn object(account: &str, kind: &str, id: &Id) -> String {
        format!("accounts/{account}/{kind}/{}", id.to_hex())
    }
    pub const PACKS: &str = "packs";
    pub const INDEX: &str = "index";
    pub const MANIFESTS: &str = "manifests";
    pub const LOCKS: &str = "locks";
}

/// The backend plus retry policy; cheap to clone into upload tasks.
#[derive(Clone, Debug)]
pub struct Store {
    pub inner: Arc<dyn ObjectStore>,
    pub retries: u32,
    /// `VaultOptions::pack_uploads_in_flight`.
    pub uploads_in_flight: usize,
}

/// Errors that retrying cannot fix.
fn permanent(e: &object_store::Error) -> bool {
    use object_store::Error as E;
    matches!(
        e,
        E::NotFound { .. }
            | E::AlreadyExists { .. }
            | E::Precondition { .. }
            | E::InvalidPath { .. }
            | E::NotSupported { .. }
            | E::NotImplemented { .. }
            | E::NotModified { .. }
            | E::PermissionDenied { .. }
            | E::Unauthenticated { .. }
            | E::UnknownConfigurationKey { .. }
    )
}

impl Store {
    async fn retry<T, F, Fut>(&self, op: &'static str, key: &str, mut f: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = object_store::Result<T>>,
    {
        let mut attempt = 0;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if !permanent(&e) && attempt < self.retries => {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                    attempt += 1;
                }
                Err(source) => {
                    return Err(VaultError::Backend {
                        op,
                        key: key.to_string(),
                        source,
                    });
                }
            }
        }
    }

    /// Writes an immutable object; an existing object of that name counts as success
    /// (names are content hashes, so it holds the same bytes).
    pub async fn put_create(&self, key: &str, data: Bytes) -> Result<()> {
        let path = Path::from(key);
        let r = self
            .retry("put", key, || {
                let opts = PutOptions::from(PutMode::Create);
                self.inner
                    .put_opts(&path, PutPayload::from_bytes(data.clone()), opts)
            })
            .await;
        match r {
            Err(VaultError::Backend {
                source: object_store::Error::AlreadyExists { .. },
                ..
            }) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Writes a mutable object (locks only).
    pub async fn put_overwrite(&self, key: &str, data: Bytes) -> Result<()> {
        let path = Path::from(key);
        self.retry("put", key, || {
            self.inner.put_opts(
                &path,
                PutPayload::from_bytes(data.clone()),
                PutOptions::default(),
            )
        })
        .await
        .map(|_| ())
    }

    /// Reads an object; `Ok(None)` if it does not exist.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        let path = Path::from(key);
        let r = self
            .retry("get", key, || async {
                self.inner.get(&path).await?.bytes().await
            })
            .await;
        not_found_to_none(r)
    }

    pub async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Option<Bytes>> {
        let path = Path::from(key);
        let r = self
            .retry("get_range", key, || {
                self.inner.get_range(&path, range.clone())
            })
            .await;
        not_found_to_none(r)
    }

    /// Deletes an object; deleting a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<()> {
        let path = Path::from(key);
        not_found_to_none(self.retry("delete", key, || self.inner.delete(&path)).await).map(|_| ())
    }

    /// Lists (recursively) the objects under `prefix`: (last path segment, size).
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>> {
        let path = Path::from(prefix);
        let metas: Vec<object_store::ObjectMeta> = self
            .retry("list", prefix, || {
                self.inner.list(Some(&path)).try_collect()
            })
            .await?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let name = m.location.filename()?.to_string();
                Some((name, m.size))
            })
            .collect())
    }

    /// Lists the immediate sub-directories of `prefix`.
    pub async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>> {
        let path = Path::from(prefix);
        let r = self
            .retry("list", prefix, || {
                self.inner.list_with_delimiter(Some(&path))
            })
            .await?;
        Ok(r.common_prefixes
            .into_iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .collect())
    }
}

fn not_found_to_none<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(VaultError::Backend {
            source: object_store::Error::NotFound { .. },
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}
