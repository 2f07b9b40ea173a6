//! `ManifestReader`: streams a backup's records back, checking every chunk's hash.

use crate::error::{Result, VaultError};
use crate::format::FLAG_ZSTD;
use crate::id::{Id, ManifestId};
use crate::store::keys;
use crate::vault::{Account, Loc, UseGuard, Vault, lock};
use std::sync::Arc;

/// Neighbouring blobs of one pack are fetched with one range read of at most this size.
const MAX_RANGE: u64 = 8 << 20;

/// Iterator over a backup's records. Yields `Err` once and then ends on any damage.
pub struct ManifestReader {
    vault: Vault,
    acct: Arc<Account>,
    _use: UseGuard,
    chunks: Vec<Id>,
    next: usize,
    data: Vec<u8>,
    pos: usize,
    records_left: u64,
    done: bool,
    /// Reused across chunks: creating a zstd context per chunk costs more than decoding it.
    dec: zstd::bulk::Decompressor<'static>,
}

impl Vault {
    /// Opens a backup of `account` for reading. Another account's id is not found.
    pub fn reader(&self, account: &str, id: &ManifestId) -> Result<ManifestReader> {
        let acct = self.account(account)?;
        let use_guard = acct.begin_use();
        let (meta, chunks) = self.block_on(self.load_manifest(&acct, id))?;
        self.block_on(self.refresh_index(&acct))?;
        Ok(ManifestReader {
            vault: self.clone(),
            acct,
            _use: use_guard,
            chunks,
            next: 0,
            data: Vec::new(),
            pos: 0,
            records_left: meta.records,
            done: false,
            dec: zstd::bulk::Decompressor::new()?,
        })
    }

    /// Reads a whole backup into memory.
    pub fn read_all(&self, account: &str, id: &ManifestId) -> Result<Vec<Vec<u8>>> {
        self.reader(account, id)?.collect()
    }
}

impl ManifestReader {
    fn locate(&self, chunk: &Id) -> Option<Loc> {
        lock(&self.acct.index).chunks.get(chunk).copied()
    }

    /// Fetches the next run of chunks (one range read) and appends their bytes to `data`.
    fn fetch(&mut self) -> Result<()> {
        for attempt in 0..2 {
            let first = self.chunks[self.next];
            let Some(loc) = self.locate(&first) else {
                if attempt == 0 {
                    self.vault.block_on(self.vault.refresh_index(&self.acct))?;
                    continue;
                }
                return Err(VaultError::Missing {
                    object: format!("chunk {first}"),
                    detail: "not listed in any index".into(),
                });
            };
            let mut run = vec![(first, loc)];
            let start = loc.entry.offset;
            let mut end = start + u64::from(loc.entry.stored_len);
            for c in &self.chunks[self.next + 1..] {
                match self.locate(c) {
                    Some(l)
                        if l.pack == loc.pack
                            && l.entry.offset == end
                            && end - start + u64::from(l.entry.stored_len) <= MAX_RANGE =>
                    {
                        end += u64::from(l.entry.stored_len);
                        run.push((*c, l));
                    }
                    _ => break,
                }
            }
            let key = self.acct.key(keys::PACKS, &loc.pack);
            let Some(bytes) = self
                .vault
                .block_on(self.vault.store().get_range(&key, start..end))?
            else {
                if attempt == 0 {
                    // gc may have repacked it: it writes the new index before deleting.
                    self.vault.block_on(self.vault.refresh_index(&self.acct))?;
                    continue;
                }
                return Err(VaultError::Missing {
                    object: key,
                    detail: "pack listed in the index does not exist".into(),
                });
            };
            if self.pos > 0 {
                self.data.drain(..self.pos);
                self.pos = 0;
            }
            for (id, l) in &run {
                let off = (l.entry.offset - start) as usize;
                let blob = bytes
                    .get(off..off + l.entry.stored_len as usize)
                    .ok_or_else(|| VaultError::corrupt(&key, "short range read"))?;
                let raw = decode_blob(&key, blob, l, &mut self.dec)?;
                if self.acct.keys.hash(&raw) != *id {
                    return Err(VaultError::corrupt(
                        &key,
                        format!("chunk {id} fails its hash"),
                    ));
                }
                self.data.extend_from_slice(&raw);
            }
            self.next += run.len();
            return Ok(());
        }
        Err(VaultError::Missing {
            object: format!("chunk {}", self.chunks[self.next]),
            detail: "not found after re-reading the index".into(),
        })
    }

    fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            let avail = &self.data[self.pos..];
            if avail.len() >= 4 {
                let mut l = [0u8; 4];
                l.copy_from_slice(&avail[..4]);
                let len = u32::from_le_bytes(l) as usize;
                if avail.len() >= 4 + len {
                    let rec = avail[4..4 + len].to_vec();
                    self.pos += 4 + len;
                    self.records_left = self.records_left.saturating_sub(1);
                    return Ok(Some(rec));
                }
            }
            if self.next < self.chunks.len() {
                self.fetch()?;
                continue;
            }
            if avail.is_empty() && self.records_left == 0 {
                return Ok(None);
            }
            return Err(VaultError::corrupt(
                format!("manifest of account {}", self.acct.name),
                "record stream ends early",
            ));
        }
    }
}

/// Decompresses (if needed) one blob and checks its length.
pub(crate) fn decode_blob(
    object: &str,
    blob: &[u8],
    loc: &Loc,
    dec: &mut zstd::bulk::Decompressor<'static>,
) -> Result<Vec<u8>> {
    let raw = if loc.entry.flags & FLAG_ZSTD != 0 {
        dec.decompress(blob, loc.entry.raw_len as usize)
            .map_err(|e| VaultError::corrupt(object, format!("chunk {}: {e}", loc.entry.chunk)))?
    } else {
        blob.to_vec()
    };
    if raw.len() != loc.entry.raw_len as usize {
        return Err(VaultError::corrupt(
            object,
            format!("chunk {} has wrong length", loc.entry.chunk),
        ));
    }
    Ok(raw)
}

impl Iterator for ManifestReader {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
