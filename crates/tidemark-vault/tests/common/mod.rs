//! Shared test helpers: record generators, vault options, and a fault-injecting backend.
#![allow(dead_code)]

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tidemark_vault::{ChunkerParams, ManifestId, Vault, VaultOptions};

/// Deterministic xorshift generator (tests must be reproducible).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// A DynamoDB-item-like JSON record of roughly 100–400 bytes.
pub fn record(i: u64, salt: u64) -> Vec<u8> {
    let mut r = Rng(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt ^ 0x1234_5678);
    let pad = (r.next() % 250) as usize;
    let text: String = (0..pad)
        .map(|_| (b'a' + (r.next() % 26) as u8) as char)
        .collect();
    format!(
        r#"{{"pk":{{"S":"user#{i:08}"}},"sk":{{"N":"{}"}},"score":{{"N":"{}"}},"bio":{{"S":"{text}"}}}}"#,
        r.next() % 1000,
        r.next() % 100_000
    )
    .into_bytes()
}

pub fn records(n: u64, salt: u64) -> Vec<Vec<u8>> {
    (0..n).map(|i| record(i, salt)).collect()
}

/// Options for small test vaults: tiny chunks and packs so little data makes many objects.
pub fn small_opts() -> VaultOptions {
    VaultOptions {
        chunker: ChunkerParams {
            min_size: 512,
            avg_size: 2048,
            max_size: 8192,
            ..ChunkerParams::default()
        },
        pack_target_size: 32 * 1024,
        retries: 0,
        lock_stale_after: std::time::Duration::ZERO,
        ..VaultOptions::default()
    }
}

pub fn store(v: &Vault, account: &str, recs: &[Vec<u8>]) -> tidemark_vault::Result<ManifestId> {
    let mut w = v.writer(account, serde_json::json!({"n": recs.len()}), None)?;
    for r in recs {
        w.write_record(r)?;
    }
    Ok(w.finish()?.0)
}

/// Stores `recs` as a delta against `parent`; returns the id and the store's statistics.
pub fn store_delta(
    v: &Vault,
    account: &str,
    parent: Option<&ManifestId>,
    recs: &[Vec<u8>],
) -> tidemark_vault::Result<(ManifestId, tidemark_vault::StoreStats)> {
    let mut w =
        v.writer_with_parent(account, parent, serde_json::json!({"n": recs.len()}), None)?;
    for r in recs {
        w.write_record(r)?;
    }
    w.finish()
}

pub fn memory() -> Arc<dyn ObjectStore> {
    Arc::new(object_store::memory::InMemory::new())
}

/// A backend that dies: once `kill_after` operations have run, every later one fails,
/// as if the process had crashed at that point (nothing after it reaches the store).
#[derive(Debug)]
pub struct FaultStore {
    pub inner: Arc<dyn ObjectStore>,
    pub ops: AtomicU64,
    pub kill_after: AtomicU64,
    /// When set, every put fails as on a full disk while reads keep working.
    pub disk_full: std::sync::atomic::AtomicBool,
    /// The operation with this number fails once, as a transient error.
    pub fail_once_at: AtomicU64,
}

impl FaultStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Arc<FaultStore> {
        Arc::new(FaultStore {
            inner,
            ops: AtomicU64::new(0),
            kill_after: AtomicU64::new(u64::MAX),
            disk_full: std::sync::atomic::AtomicBool::new(false),
            fail_once_at: AtomicU64::new(u64::MAX),
        })
    }

    pub fn ops(&self) -> u64 {
        self.ops.load(Ordering::SeqCst)
    }

    /// Kills the store after `k` more operations.
    pub fn kill_in(&self, k: u64) {
        self.kill_after.store(self.ops() + k, Ordering::SeqCst);
    }

    fn tick(&self) -> object_store::Result<()> {
        let n = self.ops.fetch_add(1, Ordering::SeqCst);
        if n >= self.kill_after.load(Ordering::SeqCst)
            || n == self.fail_once_at.load(Ordering::SeqCst)
        {
            return Err(object_store::Error::Generic {
                store: "fault",
                source: "injected crash".into(),
            });
        }
        Ok(())
    }
}

impl fmt::Display for FaultStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for FaultStore {
    async fn put_opts(
        &self,
        l: &Path,
        p: PutPayload,
        o: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.tick()?;
        if self.disk_full.load(Ordering::SeqCst) {
            return Err(object_store::Error::Generic {
                store: "fault",
                source: Box::new(std::io::Error::from_raw_os_error(28)), // ENOSPC
            });
        }
        self.inner.put_opts(l, p, o).await
    }
    async fn put_multipart_opts(
        &self,
        l: &Path,
        o: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.tick()?;
        self.inner.put_multipart_opts(l, o).await
    }
    async fn get_opts(&self, l: &Path, o: GetOptions) -> object_store::Result<GetResult> {
        self.tick()?;
        self.inner.get_opts(l, o).await
    }
    async fn get_ranges(&self, l: &Path, r: &[Range<u64>]) -> object_store::Result<Vec<Bytes>> {
        self.tick()?;
        self.inner.get_ranges(l, r).await
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        if let Err(e) = self.tick() {
            return futures::stream::once(async move { Err(e) }).boxed();
        }
        self.inner.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        if let Err(e) = self.tick() {
            return futures::stream::once(async move { Err(e) }).boxed();
        }
        self.inner.list(prefix)
    }
    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        if let Err(e) = self.tick() {
            return futures::stream::once(async move { Err(e) }).boxed();
        }
        self.inner.list_with_offset(prefix, offset)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.tick()?;
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &Path, to: &Path, o: CopyOptions) -> object_store::Result<()> {
        self.tick()?;
        self.inner.copy_opts(from, to, o).await
    }
}
