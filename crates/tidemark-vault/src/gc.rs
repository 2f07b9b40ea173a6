//! Garbage collection: drop unreferenced chunks, repack sparse packs (vault-format.md §4).

use crate::error::{Result, VaultError};
use crate::format::{self, Entry, PackBuilder, PackEntries};
use crate::id::Id;
use crate::lock::{self, LockKind};
use crate::reader::decode_blob;
use crate::store::keys;
use crate::vault::{Account, IndexCache, Loc, Vault, lock as mlock};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What a gc run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GcReport {
    pub accounts: u64,
    /// Accounts left alone, with the reason (in use, locked, unreadable metadata).
    pub skipped: Vec<String>,
    pub live_manifests: u64,
    pub live_chunks: u64,
    pub packs_deleted: u64,
    pub packs_repacked: u64,
    pub packs_written: u64,
    pub indexes_replaced: u64,
    pub bytes_deleted: u64,
    pub bytes_written: u64,
}

impl Vault {
    /// Collects garbage in every account not in use.
    pub fn gc(&self) -> Result<GcReport> {
        let mut report = GcReport::default();
        for name in self.block_on(self.account_names())? {
            let acct = self.account(&name)?;
            let Some(_guard) = acct.begin_gc() else {
                report
                    .skipped
                    .push(format!("{name}: in use by this process"));
                continue;
            };
            let stale = self.inner.opts.lock_stale_after;
            let lk = match self.block_on(lock::acquire(
                self.store(),
                &name,
                LockKind::Exclusive,
                stale,
            )) {
                Ok(l) => l,
                Err(VaultError::Locked { detail, .. }) => {
                    report.skipped.push(format!("{name}: {detail}"));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let r = self.block_on(self.gc_account(&acct, &mut report));
            // Whatever happened, the cache may name deleted packs: rebuild on next use.
            *mlock(&acct.index) = IndexCache::default();
            self.block_on(lk.release(self.store()))?;
            match r {
                Ok(()) => report.accounts += 1,
                Err(e @ (VaultError::Corrupt { .. } | VaultError::Missing { .. })) => {
                    report.skipped.push(format!("{name}: {e}; run verify"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    async fn gc_account(&self, acct: &Account, report: &mut GcReport) -> Result<()> {
        let store = self.store();
        let name = &acct.name;
        // 1. Live chunks. An unreadable manifest stops gc: we could not know what is live.
        let mut live: HashSet<Id> = HashSet::new();
        for id in self.manifest_ids(name).await? {
            // Version 2: the chunk table names every chunk the extents use.
            let chunks = match self.load_manifest(acct, &id).await {
                Ok((_, body)) => body.chunks,
                Err(VaultError::ManifestNotFound { .. }) => continue, // deleted meanwhile
                Err(e) => return Err(e),
            };
            live.extend(chunks);
            report.live_manifests += 1;
        }
        // 2. Indexes; an unreadable one stops gc (its packs would look unreferenced).
        let mut old_indexes = Vec::new();
        let mut packs: BTreeMap<Id, PackEntries> = BTreeMap::new();
        for (n, _) in store.list(&keys::dir(name, keys::INDEX)).await? {
            let Some(id) = Id::from_hex(&n) else { continue };
            for p in self.load_index(acct, &id).await? {
                packs.entry(p.pack).or_insert(p);
            }
            old_indexes.push(id);
        }
        // A live chunk in no index means a lost index: its packs would look unreferenced
        // and be deleted, destroying the data a repair could still recover. Stop instead.
        let indexed_chunks: HashSet<Id> = packs
            .values()
            .flat_map(|p| p.entries.iter().map(|e| e.chunk))
            .collect();
        if let Some(c) = live.iter().find(|c| !indexed_chunks.contains(c)) {
            return Err(VaultError::Missing {
                object: keys::dir(name, keys::INDEX),
                detail: format!("live chunk {c} is in no index"),
            });
        }
        let listed: HashMap<Id, u64> = store
            .list(&keys::dir(name, keys::PACKS))
            .await?
            .into_iter()
            .filter_map(|(n, size)| Some((Id::from_hex(&n)?, size)))
            .collect();
        // 3. Classify packs. Missing packs stay in the index so verify keeps reporting them.
        let mut keep: Vec<PackEntries> = Vec::new();
        let mut repack: Vec<PackEntries> = Vec::new();
        let mut delete: Vec<Id> = Vec::new();
        for p in packs.into_values() {
            let total: u64 = p.entries.iter().map(|e| u64::from(e.stored_len)).sum();
            let live_bytes: u64 = p
                .entries
                .iter()
                .filter(|e| live.contains(&e.chunk))
                .map(|e| u64::from(e.stored_len))
                .sum();
            let dead = total.saturating_sub(live_bytes) as f64 / total.max(1) as f64;
            if !listed.contains_key(&p.pack) {
                keep.push(p);
            } else if live_bytes == 0 {
                delete.push(p.pack);
            } else if dead > self.inner.opts.gc_repack_dead_fraction {
                repack.push(p);
            } else {
                keep.push(p);
            }
        }
        let mut covered: HashSet<Id> = keep
            .iter()
            .flat_map(|p| p.entries.iter().map(|e| e.chunk))
            .collect();
        // Packs listed but in no index: leftovers of crashed stores or gcs.
        let indexed: HashSet<Id> = keep
            .iter()
            .chain(&repack)
            .map(|p| p.pack)
            .chain(delete.iter().copied())
            .collect();
        delete.extend(listed.keys().filter(|p| !indexed.contains(p)));
        // 4. Copy live, uncovered blobs of sparse packs into new packs (data before index).
        let mut builder = PackBuilder::new();
        let mut dec = zstd::bulk::Decompressor::new()?;
        let mut new_packs: Vec<PackEntries> = Vec::new();
        for p in repack {
            let key = acct.key(keys::PACKS, &p.pack);
            let bytes = store.get(&key).await?.ok_or_else(|| VaultError::Missing {
                object: key.clone(),
                detail: "pack vanished during gc".into(),
            })?;
            for e in p.entries.iter().filter(|e| live.contains(&e.chunk)) {
                if !covered.insert(e.chunk) {
                    continue;
                }
                let blob = slice(&key, &bytes, e)?;
                let raw = decode_blob(
                    &key,
                    blob,
                    &Loc {
                        pack: p.pack,
                        entry: *e,
                    },
                    &mut dec,
                )?;
                if acct.keys.hash(&raw) != e.chunk {
                    return Err(VaultError::corrupt(
                        &key,
                        format!("chunk {} fails its hash", e.chunk),
                    ));
                }
                builder.add(e.chunk, blob, e.raw_len, e.flags);
                if builder.buf.len() as u64 >= self.inner.config.pack_target_size {
                    new_packs.push(
                        self.upload(acct, std::mem::take(&mut builder), report)
                            .await?,
                    );
                }
            }
            delete.push(p.pack);
            report.packs_repacked += 1;
        }
        if !builder.is_empty() {
            new_packs.push(self.upload(acct, builder, report).await?);
        }
        report.live_chunks += covered.len() as u64;
        if delete.is_empty() && new_packs.is_empty() && old_indexes.len() <= 1 {
            return Ok(()); // nothing to reclaim or merge
        }
        // 5. One index for everything kept, then drop old indexes, then the data.
        let mut all: Vec<PackEntries> = keep.into_iter().chain(new_packs).collect();
        all.sort_by_key(|p| p.pack);
        let mut new_index = None;
        if !all.is_empty() {
            let bytes = format::encode_index(&all);
            let id = acct.keys.hash(&bytes);
            store
                .put_create(&acct.key(keys::INDEX, &id), bytes.into())
                .await?;
            new_index = Some(id);
        }
        for id in old_indexes.iter().filter(|i| Some(**i) != new_index) {
            store.delete(&acct.key(keys::INDEX, id)).await?;
            report.indexes_replaced += 1;
        }
        // Pack names are content hashes: a pack this gc wrote may have the name of a
        // leftover of a crashed earlier gc, and must not be deleted as that leftover.
        let written: HashSet<Id> = all.iter().map(|p| p.pack).collect();
        for p in delete.into_iter().filter(|p| !written.contains(p)) {
            store.delete(&acct.key(keys::PACKS, &p)).await?;
            report.packs_deleted += 1;
            report.bytes_deleted += listed.get(&p).copied().unwrap_or(0);
        }
        Ok(())
    }

    async fn upload(
        &self,
        acct: &Account,
        b: PackBuilder,
        report: &mut GcReport,
    ) -> Result<PackEntries> {
        let (bytes, entries) = b.finish();
        let id = acct.keys.hash(&bytes);
        let len = bytes.len() as u64;
        self.store()
            .put_create(&acct.key(keys::PACKS, &id), bytes.into())
            .await?;
        report.packs_written += 1;
        report.bytes_written += len;
        Ok(PackEntries {
            pack: id,
            pack_len: len,
            entries,
        })
    }
}

pub(crate) fn slice<'a>(key: &str, pack: &'a [u8], e: &Entry) -> Result<&'a [u8]> {
    let start = e.offset as usize;
    pack.get(start..start + e.stored_len as usize)
        .ok_or_else(|| VaultError::corrupt(key, format!("chunk {} lies outside the pack", e.chunk)))
}
