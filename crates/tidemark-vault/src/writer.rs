//! `ManifestWriter`: frames records, cuts chunks, deduplicates, packs, then writes the index
//! and the manifest, in that order (vault-format.md §4). With a parent backup, records equal
//! to the parent's are referenced instead (`delta.rs`, vault-format.md §2.6).

use crate::delta::{Delta, ExtentBuilder, Parent, Piece};
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
    /// Chunks cut by this store (with a parent: from the records not found in it).
    pub chunks: u64,
    pub new_chunks: u64,
    /// Uncompressed bytes of chunks this store added.
    pub new_bytes: u64,
    /// Bytes written to packs for those chunks (after compression).
    pub stored_bytes: u64,
    /// Logical bytes found already in the vault (or earlier in this store), including
    /// `parent_bytes`.
    pub reused_bytes: u64,
    pub duration_secs: f64,
    /// The parent backup the store compared against, if one was given and could be opened.
    pub parent: Option<ManifestId>,
    /// Logical bytes (framed records) found equal in the parent and referenced, not stored.
    pub parent_bytes: u64,
    /// Why a given parent was not used, or stopped being used part-way (the store itself
    /// succeeded: records not matched are stored normally).
    pub parent_error: Option<String>,
    /// Entries of the manifest's chunk table (version 2) or chunk list (version 1).
    pub manifest_chunks: u64,
    /// Extents of a version 2 manifest (0 for version 1).
    pub manifest_extents: u64,
    /// Size of the manifest object written.
    pub manifest_bytes: u64,
}

/// What a finished store writes as the manifest body.
enum Body<'a> {
    V1(&'a [Id]),
    V2(&'a ExtentBuilder),
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
    /// The parent named in a version 2 manifest's meta.
    user_meta_parent: Option<ManifestId>,
    /// Set when the writer has a usable parent backup.
    delta: Option<Delta>,
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
        self.writer_with_parent(account, None, meta, expected_bytes)
    }

    /// Starts a backup for `account` stored as a delta against `parent`, an earlier backup
    /// of the same account (typically the previous backup of the same table). Records equal
    /// to the parent's records (compared byte for byte, in order, resynchronising after
    /// inserted, deleted or moved records) are not stored again: the new manifest (version
    /// 2) refers to the parent's chunks for them. The result does not depend on the parent
    /// manifest: deleting the parent later (and gc) leaves this backup readable.
    ///
    /// The parent is read in full while the records are written. If it cannot be opened
    /// (not found in this account, damaged), the store proceeds without it and
    /// `StoreStats::parent_error` says why; if it fails part-way, the records not matched
    /// by then are stored normally. The parent never makes the store fail. `None` is
    /// exactly `writer`.
    pub fn writer_with_parent(
        &self,
        account: &str,
        parent: Option<&ManifestId>,
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
        let mut stats = StoreStats::default();
        let delta = parent.and_then(|id| match Parent::open(self, &acct, id) {
            Ok(p) => {
                stats.parent = Some(*id);
                Some(Delta::new(p))
            }
            Err(e) => {
                stats.parent_error = Some(format!("parent {id} not used: {e}"));
                None
            }
        });
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
            stats,
            progress: ProgressHandle::new(expected_bytes),
            failed: false,
            user_meta_parent: None,
            delta,
        })
    }
}

impl ManifestWriter {
    /// Appends one record.
    pub fn write_record(&mut self, record: &[u8]) -> Result<()> {
        self.check()?;
        let len =
            u32::try_from(record.len()).map_err(|_| VaultError::RecordTooLarge(record.len()))?;
        let framed = 4 + u64::from(len);
        if let Some(d) = self.delta.as_mut() {
            if let Some(start) = d.parent.find(record) {
                d.push(Piece::Parent { start, len: framed });
                d.parent_bytes += framed;
                self.stats.records += 1;
                self.stats.logical_bytes += framed;
                self.progress.add(framed);
                if self.stats.records.is_multiple_of(4096) {
                    self.guard(|w| w.keep_lock())?;
                }
                return Ok(());
            }
            d.push(Piece::New {
                start: d.new_off,
                len: framed,
            });
            d.new_off += framed;
        }
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
        let id = match self.delta.take() {
            None => self.guard(|w| w.commit(out.packs, Body::V1(&out.chunks)))?,
            Some(mut d) => {
                if let Some(e) = d.parent.error.take() {
                    self.stats.parent_error = Some(e);
                }
                self.stats.reused_bytes += d.parent_bytes;
                self.stats.parent_bytes = d.parent_bytes;
                let parent = d.parent.id;
                let ext = self.guard(|_| d.resolve(&out.chunks))?;
                drop(d); // stops the parent's reader
                self.user_meta_parent = Some(parent);
                self.guard(|w| w.commit(out.packs, Body::V2(&ext)))?
            }
        };
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
        if let Some(d) = self.delta.as_mut() {
            let mut at = 0;
            for &c in &cuts {
                d.new_lens.push((c - at) as u32);
                at = c;
            }
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
        self.keep_lock()
    }

    /// Keeps the lock live during a long store (vault-format.md §2.5).
    fn keep_lock(&mut self) -> Result<()> {
        if self.last_refresh.elapsed() > std::time::Duration::from_secs(60) {
            self.last_refresh = std::time::Instant::now();
            if let Some(lock) = self.lock.as_mut() {
                self.vault.block_on(lock.refresh(self.vault.store()))?;
            }
        }
        Ok(())
    }

    /// Index after packs, manifest after index: each is durable before the next starts.
    fn commit(&mut self, packs: Vec<PackEntries>, body: Body) -> Result<ManifestId> {
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
            parent: self.user_meta_parent.map(|p| p.to_string()),
        };
        let meta = serde_json::to_vec(&meta).map_err(|e| VaultError::Config(e.to_string()))?;
        let bytes = match body {
            Body::V1(chunks) => {
                self.stats.manifest_chunks = chunks.len() as u64;
                format::encode_manifest(&meta, chunks)
            }
            Body::V2(e) => {
                self.stats.manifest_chunks = e.table.len() as u64;
                self.stats.manifest_extents = e.extents.len() as u64;
                format::encode_manifest_v2(&meta, &e.table, &e.extents)
            }
        };
        self.stats.manifest_bytes = bytes.len() as u64;
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
