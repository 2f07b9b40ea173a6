//! `ManifestWriter`: frames records, cuts chunks, deduplicates, packs, then writes the index
//! and the manifest, in that order (vault-format.md §4).

use crate::error::{Result, VaultError};
use crate::format::{self, PackEntries};
use crate::id::{Id, ManifestId};
use crate::lock::{self, LockKind, LockObject};
use crate::packer::{Batch, PackWorker};
use crate::progress::{Progress, ProgressHandle};
use crate::store::keys;
use crate::vault::{Account, Loc, ManifestMeta, UseGuard, Vault, lock as mlock};
use serde::Serialize;
use std::sync::Arc;

/// What one store did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StoreStats {
    pub records: u64,
    /// Bytes of the framed record stream (records plus 4-byte length prefixes).
    pub logical_bytes: u64,
    pub chunks: u64,
    pub new_chunks: u64,
    /// Uncompressed bytes of chunks this store added.
    pub new_bytes: u64,
    /// Bytes written to packs for those chunks (after compression).
    pub stored_bytes: u64,
    /// Logical bytes found already in the vault (or earlier in this store).
    pub reused_bytes: u64,
    pub duration_secs: f64,
}

/// Writes one backup. Call `write_record` for each record, then `finish`. Dropping it
/// unfinished leaves only unreferenced data, which `gc` reclaims.
pub struct ManifestWriter {
    vault: Vault,
    acct: Arc<Account>,
    _use: UseGuard,
    lock: Option<LockObject>,
    user_meta: serde_json::Value,
    worker: Option<PackWorker>,
    min: usize,
    avg: usize,
    max: usize,
    masks: (u64, u64),
    /// Framed records not yet handed to the pipeline; chunks are cut from its start.
    buf: Vec<u8>,
    /// `buf` is cut and sent once it holds this many bytes (at least 4 × `max`).
    batch: usize,
    last_refresh: std::time::Instant,
    stats: StoreStats,
    progress: ProgressHandle,
    failed: bool,
}

impl Vault {
    /// Starts a backup for `account`. `meta` is kept in the manifest; `expected_bytes`
    /// (the caller's estimate of the record bytes) feeds the progress estimate.
    pub fn writer(
        &self,
        account: &str,
        meta: serde_json::Value,
        expected_bytes: Option<u64>,
    ) -> Result<ManifestWriter> {
        let acct = self.account(account)?;
        let use_guard = acct.begin_use();
        let stale = self.inner.opts.lock_stale_after;
        let lock = self.block_on(lock::acquire(
            self.store(),
            account,
            LockKind::Shared,
            stale,
        ))?;
        // Only after holding the lock is the index listing safe to deduplicate against.
        if let Err(e) = self.block_on(self.refresh_index(&acct)) {
            let _ = self.block_on(lock.release(self.store()));
            return Err(e);
        }
        let ch = &self.inner.config.chunker;
        let level = match ch.normalization {
            0 => fastcdc::v2020::Normalization::Level0,
            1 => fastcdc::v2020::Normalization::Level1,
            2 => fastcdc::v2020::Normalization::Level2,
            _ => fastcdc::v2020::Normalization::Level3,
        };
        let masks = fastcdc::v2020::select_masks(ch.avg_size as usize, level);
        // ~128 chunks per batch keeps the hash workers busy with little hand-over cost, and
        // the tail carried to the next batch (< max) small next to it.
        let batch = (128 * ch.avg_size as usize).max(4 * ch.max_size as usize);
        let worker = PackWorker::start(
            self.store().clone(),
            self.handle().clone(),
            acct.clone(),
            self.inner.config.pack_target_size,
            self.inner.opts.zstd_level,
        )?;
        Ok(ManifestWriter {
            vault: self.clone(),
            acct,
            _use: use_guard,
            lock: Some(lock),
            user_meta: meta,
            worker: Some(worker),
            min: ch.min_size as usize,
            avg: ch.avg_size as usize,
            max: ch.max_size as usize,
            masks,
            buf: Vec::with_capacity(batch + (64 << 10)),
            batch,
            last_refresh: std::time::Instant::now(),
            stats: StoreStats::default(),
            progress: ProgressHandle::new(expected_bytes),
            failed: false,
        })
    }
}

impl ManifestWriter {
    /// Appends one record.
    pub fn write_record(&mut self, record: &[u8]) -> Result<()> {
        self.check()?;
        let len =
            u32::try_from(record.len()).map_err(|_| VaultError::RecordTooLarge(record.len()))?;
        self.buf.extend_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(record);
        self.stats.records += 1;
        self.stats.logical_bytes += 4 + u64::from(len);
        self.progress.add(4 + u64::from(len));
        if self.buf.len() >= self.batch {
            self.guard(|w| w.cut(false))?;
        }
        Ok(())
    }

    /// Progress so far.
    pub fn progress(&self) -> Progress {
        self.progress.get()
    }

    /// A handle another thread can poll while this writer runs.
    pub fn progress_handle(&self) -> ProgressHandle {
        self.progress.clone()
    }

    /// Writes the remaining data, the index and the manifest; returns the backup's id.
    pub fn finish(mut self) -> Result<(ManifestId, StoreStats)> {
        self.check()?;
        self.guard(|w| w.cut(true))?;
        let worker = self.worker.take();
        let out = worker
            .ok_or_else(|| VaultError::Config("writer has no pack worker".into()))?
            .finish();
        let out = self.guard(|_| out)?;
        self.stats.stored_bytes = out.stored_bytes;
        self.stats.chunks = out.chunks.len() as u64;
        self.stats.new_chunks = out.new_chunks;
        self.stats.new_bytes = out.new_bytes;
        self.stats.reused_bytes = out.reused_bytes;
        let id = self.guard(|w| w.commit(out.packs, &out.chunks))?;
        self.stats.duration_secs = self.progress.get().elapsed_secs;
        if let Some(lock) = self.lock.take() {
            self.vault.block_on(lock.release(self.vault.store()))?;
        }
        Ok((id, self.stats.clone()))
    }

    fn check(&self) -> Result<()> {
        if self.failed {
            return Err(VaultError::Config("writer already failed".into()));
        }
        Ok(())
    }

    /// A writer that failed once refuses further work: its stream would be incomplete.
    fn guard<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let r = f(self);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Cuts chunks from the buffer and hands them to the pipeline as one batch. Unless
    /// `last`, a cut is made only with `max` bytes available, so every boundary equals the
    /// one a streaming chunker would find; the uncut tail starts the next buffer.
    fn cut(&mut self, last: bool) -> Result<()> {
        let (ms, ml) = self.masks;
        let (g, gl) = &self.acct.gear;
        let mut cuts = Vec::with_capacity(2 * self.buf.len() / self.avg + 1);
        let mut pos = 0usize;
        while pos < self.buf.len() && (last || self.buf.len() - pos >= self.max) {
            let window = &self.buf[pos..self.buf.len().min(pos + self.max)];
            let (_, n) = fastcdc::v2020::cut_gear(
                window,
                self.min,
                self.avg,
                self.max,
                ms,
                ml,
                ms << 1,
                ml << 1,
                g,
                gl,
            );
            pos += n;
            cuts.push(pos);
        }
        if cuts.is_empty() {
            return Ok(());
        }
        let worker = self
            .worker
            .as_mut()
            .ok_or_else(|| VaultError::Config("writer has no pack worker".into()))?;
        let mut next = worker.buffer(self.batch + (64 << 10));
        next.extend_from_slice(&self.buf[pos..]);
        let mut data = std::mem::replace(&mut self.buf, next);
        data.truncate(pos);
        worker.send(Batch { data, cuts })?;
        // Keep the lock live during a long store (vault-format.md §2.5).
        if self.last_refresh.elapsed() > std::time::Duration::from_secs(60) {
            self.last_refresh = std::time::Instant::now();
            if let Some(lock) = self.lock.as_mut() {
                self.vault.block_on(lock.refresh(self.vault.store()))?;
            }
        }
        Ok(())
    }

    /// Index after packs, manifest after index: each is durable before the next starts.
    fn commit(&mut self, packs: Vec<PackEntries>, chunks: &[Id]) -> Result<ManifestId> {
        let store = self.vault.store();
        let mut index_id = None;
        if !packs.is_empty() {
            let bytes = format::encode_index(&packs);
            let id = self.acct.keys.hash(&bytes);
            let key = self.acct.key(keys::INDEX, &id);
            self.vault.block_on(store.put_create(&key, bytes.into()))?;
            index_id = Some(id);
        }
        let meta = ManifestMeta {
            account: self.acct.name.clone(),
            created: tidemark_core::wall_now().to_string(),
            records: self.stats.records,
            logical_bytes: self.stats.logical_bytes,
            user: std::mem::take(&mut self.user_meta),
        };
        let meta = serde_json::to_vec(&meta).map_err(|e| VaultError::Config(e.to_string()))?;
        let bytes = format::encode_manifest(&meta, chunks);
        let id = self.acct.keys.hash(&bytes);
        let key = self.acct.key(keys::MANIFESTS, &id);
        self.vault.block_on(store.put_create(&key, bytes.into()))?;
        let mut cache = mlock(&self.acct.index);
        for p in &packs {
            for e in &p.entries {
                cache.chunks.insert(
                    e.chunk,
                    Loc {
                        pack: p.pack,
                        entry: *e,
                    },
                );
            }
        }
        if let Some(id) = index_id {
            cache.loaded.insert(id);
        }
        Ok(ManifestId(id))
    }
}

impl Drop for ManifestWriter {
    fn drop(&mut self) {
        // An abandoned writer releases its lock (if that fails, the lock goes stale). Its
        // uploaded packs stay unreferenced until gc.
        if let Some(lock) = self.lock.take() {
            let store = self.vault.store().clone();
            let release = async move {
                let _ = lock.release(&store).await;
            };
            if tokio::runtime::Handle::try_current().is_ok() {
                self.vault.handle().spawn(release); // cannot block inside a runtime
            } else {
                self.vault.block_on(release);
            }
        }
    }
}
