//! Parent-delta store (vault-format.md §2.6): a writer opened with a parent backup reads the
//! parent's records alongside the incoming ones and turns every incoming record equal to a
//! parent record into a reference to the parent's bytes; only the other records go through
//! chunking, hashing and compression. At `finish` the references are resolved through the
//! parent's own extents into extents of chunks, so the new manifest (version 2) names every
//! chunk it needs and does not depend on the parent manifest.

use crate::error::{Result, VaultError};
use crate::format::Extent;
use crate::id::{Id, ManifestId};
use crate::reader::ManifestReader;
use crate::vault::{Account, Vault, lock};
use std::collections::{HashMap, VecDeque};

/// Parent records compared one by one after the cursor before giving up on a record: a few
/// deleted records are skipped without hashing anything.
const LOOKAHEAD: usize = 16;
/// Consecutive unmatched records after which the hash window is searched: a longer run of
/// deleted (or reordered) parent records is found there.
const HASH_AFTER: u32 = 2;
/// After `m` consecutive unmatched records, the parent records up to `LOOKAHEAD + GROWTH × m`
/// past the cursor are hashed and searched. A run of `m` changed records is followed by the
/// parent record `m` past the cursor, so it is found as soon as the run ends, at a cost in
/// proportion to the run; a run of `d` deleted records costs about `d / GROWTH` incoming
/// records stored as new before the cursor finds its place again.
const GROWTH: u64 = 8;
/// The hash window never holds more than this many bytes of parent records (nor fewer than
/// `LOOKAHEAD + 1` records). Deleted runs longer than this are not resynchronised record by
/// record; chunk-level deduplication still applies to what follows.
const WINDOW_BYTES: u64 = 8 << 20;

/// One buffered parent record.
struct PRec {
    /// Offset of its frame (length prefix) in the parent's record stream.
    off: u64,
    len: u32,
    hash: u64,
}

/// A cheap 64-bit hash for the resynchronisation map (equality is always checked by bytes).
fn fast_hash(b: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = b.len() as u64;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(a)).wrapping_mul(K);
    }
    for &t in words.remainder() {
        h = (h.rotate_left(5) ^ u64::from(t)).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

/// The parent backup as the writer sees it: its extents, and a window of its records from
/// the cursor onward.
pub(crate) struct Parent {
    pub id: ManifestId,
    /// `None` once the parent's stream is exhausted or failed.
    reader: Option<ManifestReader>,
    /// The parent's stream as extents of chunks; `starts[i]` is where extent i begins.
    table: Vec<Id>,
    extents: Vec<Extent>,
    starts: Vec<u64>,
    /// Framed parent bytes from stream offset `base` on.
    buf: Vec<u8>,
    base: u64,
    /// Buffered records; the front is the cursor, whose absolute index is `front`.
    recs: VecDeque<PRec>,
    front: u64,
    end_off: u64,
    /// Hash → absolute record index, for records in `[front, hashed)`.
    map: HashMap<u64, u64>,
    hashed: u64,
    misses: u32,
    /// Why the parent stopped being read part-way (its records read so far stay usable).
    pub error: Option<String>,
}

impl Parent {
    /// Opens `id` of the writer's account. Any error means: store without a parent.
    pub fn open(vault: &Vault, acct: &Account, id: &ManifestId) -> Result<Parent> {
        let (meta, body) = vault.block_on(vault.load_manifest(acct, id))?;
        let (table, extents) = match body.extents {
            Some(e) => (body.chunks, e),
            None => {
                // Version 1: every chunk whole; its length comes from the index.
                let cache = lock(&acct.index);
                let mut ext = Vec::with_capacity(body.chunks.len());
                for (i, c) in body.chunks.iter().enumerate() {
                    let loc = cache.chunks.get(c).ok_or_else(|| VaultError::Missing {
                        object: format!("chunk {c}"),
                        detail: "parent chunk not listed in any index".into(),
                    })?;
                    ext.push(Extent {
                        chunk: i as u32,
                        offset: 0,
                        len: loc.entry.raw_len,
                    });
                }
                (body.chunks, ext)
            }
        };
        let mut starts = Vec::with_capacity(extents.len() + 1);
        let mut at = 0u64;
        for e in &extents {
            starts.push(at);
            at += u64::from(e.len);
        }
        starts.push(at);
        if at != meta.logical_bytes {
            return Err(VaultError::corrupt(
                format!("parent manifest {id}"),
                format!("extents hold {at} bytes, meta says {}", meta.logical_bytes),
            ));
        }
        let reader = vault.reader(&acct.name, id)?;
        Ok(Parent {
            id: *id,
            reader: Some(reader),
            table,
            extents,
            starts,
            buf: Vec::new(),
            base: 0,
            recs: VecDeque::new(),
            front: 0,
            end_off: 0,
            map: HashMap::new(),
            hashed: 0,
            misses: 0,
            error: None,
        })
    }

    /// Reads one more parent record into the window; false when there are no more.
    fn pull(&mut self) -> bool {
        let Some(r) = self.reader.as_mut() else {
            return false;
        };
        match r.next_ref() {
            Some(Ok(rec)) => {
                let len = rec.len() as u32; // the parent framed it in a u32
                self.buf.extend_from_slice(&len.to_le_bytes());
                self.buf.extend_from_slice(rec);
                self.recs.push_back(PRec {
                    off: self.end_off,
                    len,
                    hash: 0,
                });
                self.end_off += 4 + u64::from(len);
                true
            }
            Some(Err(e)) => {
                self.error = Some(format!("parent {} read part-way: {e}", self.id));
                self.reader = None;
                false
            }
            None => {
                self.reader = None;
                false
            }
        }
    }

    fn bytes(&self, j: usize) -> &[u8] {
        let r = &self.recs[j];
        let at = (r.off - self.base) as usize + 4;
        &self.buf[at..at + r.len as usize]
    }

    fn eq(&self, j: usize, rec: &[u8]) -> bool {
        self.recs[j].len as usize == rec.len() && self.bytes(j) == rec
    }

    /// Finds `rec` among the parent's records at or after the cursor. On a match the cursor
    /// moves past it (skipping the parent records before it) and the frame's offset in the
    /// parent stream is returned.
    pub fn find(&mut self, rec: &[u8]) -> Option<u64> {
        while self.recs.len() <= LOOKAHEAD && self.pull() {}
        for j in 0..self.recs.len().min(LOOKAHEAD + 1) {
            if self.eq(j, rec) {
                return Some(self.take(j));
            }
        }
        self.misses = self.misses.saturating_add(1);
        if self.misses < HASH_AFTER {
            return None;
        }
        let ahead = LOOKAHEAD as u64 + GROWTH * u64::from(self.misses);
        while (self.recs.len() as u64) < ahead
            && self.end_off - self.recs.front().map_or(self.end_off, |r| r.off) < WINDOW_BYTES
            && self.pull()
        {}
        self.hashed = self.hashed.max(self.front);
        let upto = self.front + (self.recs.len() as u64).min(ahead);
        while self.hashed < upto {
            let j = (self.hashed - self.front) as usize;
            let h = fast_hash(self.bytes(j));
            self.recs[j].hash = h;
            self.map.insert(h, self.hashed);
            self.hashed += 1;
        }
        let idx = *self.map.get(&fast_hash(rec))?;
        let j = idx.checked_sub(self.front)? as usize;
        if j < self.recs.len() && self.eq(j, rec) {
            return Some(self.take(j));
        }
        None
    }

    /// Moves the cursor past record `j` (dropping the `j` records before it); returns its
    /// frame's offset.
    fn take(&mut self, j: usize) -> u64 {
        let mut off = 0;
        for _ in 0..=j {
            let Some(r) = self.recs.pop_front() else {
                break;
            };
            if self.front < self.hashed && self.map.get(&r.hash) == Some(&self.front) {
                self.map.remove(&r.hash);
            }
            self.front += 1;
            off = r.off;
        }
        self.misses = 0;
        if self.front >= self.hashed && !self.map.is_empty() {
            self.map.clear(); // entries of duplicate records left behind
        }
        // Drop consumed bytes once they are most of the buffer.
        let keep_from = self.recs.front().map_or(self.end_off, |r| r.off);
        let dead = (keep_from - self.base) as usize;
        if dead >= (1 << 20) && dead * 2 >= self.buf.len() {
            self.buf.drain(..dead);
            self.base = keep_from;
        }
        off
    }

    /// Appends extents for the parent stream range `[start, start + len)`.
    pub fn resolve(&self, mut start: u64, len: u64, out: &mut ExtentBuilder) -> Result<()> {
        let end = start + len;
        let mut i = self
            .starts
            .partition_point(|&s| s <= start)
            .saturating_sub(1);
        while start < end {
            let e = self.extents.get(i).ok_or_else(|| {
                VaultError::corrupt(
                    format!("parent manifest {}", self.id),
                    "a reused range lies past the parent's extents",
                )
            })?;
            let within = start - self.starts[i];
            let take = (end - start).min(u64::from(e.len) - within);
            out.push(
                self.table[e.chunk as usize],
                e.offset + within as u32,
                take as u32,
            );
            start += take;
            i += 1;
        }
        Ok(())
    }
}

/// Builds a version 2 manifest's chunk table and extents, merging an extent into the
/// previous one when it continues it in the same chunk.
#[derive(Default)]
pub(crate) struct ExtentBuilder {
    pub table: Vec<Id>,
    index: HashMap<Id, u32>,
    pub extents: Vec<Extent>,
}

impl ExtentBuilder {
    pub fn push(&mut self, chunk: Id, offset: u32, len: u32) {
        if len == 0 {
            return;
        }
        let table = &mut self.table;
        let ci = *self.index.entry(chunk).or_insert_with(|| {
            table.push(chunk);
            (table.len() - 1) as u32
        });
        if let Some(last) = self.extents.last_mut()
            && last.chunk == ci
            && u64::from(last.offset) + u64::from(last.len) == u64::from(offset)
        {
            last.len += len;
            return;
        }
        self.extents.push(Extent {
            chunk: ci,
            offset,
            len,
        });
    }
}

/// Where the bytes of the new backup's stream come from, in order.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Piece {
    /// `[start, start + len)` of the parent's record stream.
    Parent { start: u64, len: u64 },
    /// `[start, start + len)` of the stream of records not found in the parent (the one
    /// that is chunked and packed).
    New { start: u64, len: u64 },
}

/// The delta state of a writer with a parent.
pub(crate) struct Delta {
    pub parent: Parent,
    pub pieces: Vec<Piece>,
    /// Bytes of the new-record stream so far.
    pub new_off: u64,
    /// Raw lengths of the new-record stream's chunks, in order, as they are cut.
    pub new_lens: Vec<u32>,
    /// Logical bytes referenced from the parent.
    pub parent_bytes: u64,
}

impl Delta {
    pub fn new(parent: Parent) -> Delta {
        Delta {
            parent,
            pieces: Vec::new(),
            new_off: 0,
            new_lens: Vec::new(),
            parent_bytes: 0,
        }
    }

    pub fn push(&mut self, p: Piece) {
        match (self.pieces.last_mut(), p) {
            (Some(Piece::Parent { start, len }), Piece::Parent { start: s, len: l })
                if *start + *len == s =>
            {
                *len += l;
            }
            (Some(Piece::New { start, len }), Piece::New { start: s, len: l })
                if *start + *len == s =>
            {
                *len += l;
            }
            _ => self.pieces.push(p),
        }
    }

    /// The new manifest's chunk table and extents, given the ids of the new-record
    /// stream's chunks (in the order of `new_lens`).
    pub fn resolve(&self, new_ids: &[Id]) -> Result<ExtentBuilder> {
        if new_ids.len() != self.new_lens.len() {
            return Err(VaultError::Io(std::io::Error::other(format!(
                "store pipeline returned {} chunks for {} cut",
                new_ids.len(),
                self.new_lens.len()
            ))));
        }
        let mut new_starts = Vec::with_capacity(self.new_lens.len() + 1);
        let mut at = 0u64;
        for l in &self.new_lens {
            new_starts.push(at);
            at += u64::from(*l);
        }
        new_starts.push(at);
        let mut out = ExtentBuilder::default();
        for p in &self.pieces {
            match *p {
                Piece::Parent { start, len } => self.parent.resolve(start, len, &mut out)?,
                Piece::New { mut start, len } => {
                    let end = start + len;
                    let mut i = new_starts
                        .partition_point(|&s| s <= start)
                        .saturating_sub(1);
                    while start < end {
                        let (Some(id), Some(&cl)) = (new_ids.get(i), self.new_lens.get(i)) else {
                            return Err(VaultError::Io(std::io::Error::other(
                                "new records lie past the chunks cut from them",
                            )));
                        };
                        let within = start - new_starts[i];
                        let take = (end - start).min(u64::from(cl) - within);
                        out.push(*id, within as u32, take as u32);
                        start += take;
                        i += 1;
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extents_merge_only_when_contiguous_in_one_chunk() {
        let mut b = ExtentBuilder::default();
        b.push(Id([1; 32]), 0, 10);
        b.push(Id([1; 32]), 10, 5);
        b.push(Id([1; 32]), 20, 5);
        b.push(Id([2; 32]), 0, 7);
        b.push(Id([1; 32]), 25, 1);
        b.push(Id([2; 32]), 0, 0);
        assert_eq!(b.table, vec![Id([1; 32]), Id([2; 32])]);
        let e: Vec<(u32, u32, u32)> = b
            .extents
            .iter()
            .map(|e| (e.chunk, e.offset, e.len))
            .collect();
        assert_eq!(e, vec![(0, 0, 15), (0, 20, 5), (1, 0, 7), (0, 25, 1)]);
    }

    #[test]
    fn hash_differs_for_near_records() {
        assert_ne!(fast_hash(b"abcdefghi"), fast_hash(b"abcdefghj"));
        assert_ne!(fast_hash(b""), fast_hash(b"\0"));
    }
}
