//! `ManifestReader`: streams a backup's records back, checking every chunk's hash. Runs of
//! neighbouring chunks (one range read each) are fetched, decompressed and verified by worker
//! threads several runs ahead of the caller, who takes them back in manifest order. For a
//! version 2 manifest the caller then copies the extents out of the fetched chunks.

use crate::error::{Result, VaultError};
use crate::format::{Extent, FLAG_ZSTD};
use crate::id::{Id, ManifestId};
use crate::packer::worker_count;
use crate::store::keys;
use crate::vault::{Account, Loc, UseGuard, Vault, lock};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Cursor;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

/// Neighbouring blobs of one pack are fetched with one range read of at most this size.
/// Small enough that the runs in flight (~1.4 MiB raw each at compression ratio 5.5) are
/// still in the shared cache when the caller cuts records from them: with 1 MiB ranges the
/// caller's thread stalled on a cache miss for nearly every record header.
const MAX_RANGE: u64 = 256 << 10;

/// One range read: chunks `first..first + locs.len()` of the manifest, all in one pack.
struct Run {
    locs: Vec<(Id, Loc)>,
    start: u64,
    end: u64,
    first: usize,
}

/// A chunk fetched once serves every extent that uses it within this many extents; a
/// later use fetches it again (so a chunk used at both ends of a stream is not held).
const REUSE_SPAN: usize = 4096;
/// A version 2 stream is assembled from extents into buffers of about this size.
const ASSEMBLE: usize = 1 << 20;

/// The extents of a version 2 manifest, as the reader walks them.
struct Extents {
    /// The manifest's object key, for errors.
    manifest: String,
    /// Per extent: (fetch item, offset, length).
    ext: Vec<(u32, u32, u32)>,
    /// Per fetch item: the last extent that uses it.
    last_use: Vec<usize>,
    next: usize,
    /// Fetched runs still needed: first item, chunk start offsets, bytes, last use.
    live: Vec<LiveRun>,
    /// Fetch items `< loaded` have been taken back from the workers.
    loaded: usize,
}

struct LiveRun {
    first: usize,
    starts: Vec<usize>,
    data: Vec<u8>,
    last_use: usize,
}

/// Fetch items for a version 2 manifest: chunks in order of first use, each used by every
/// extent within `REUSE_SPAN` of its previous use. Neighbouring extents of one chunk (a
/// parent chunk around a changed record, a chunk of new records used by many changes) thus
/// share one fetch.
fn plan_extents(table: &[Id], extents: &[Extent], manifest: String) -> (Vec<Id>, Extents) {
    let mut fetch = Vec::new();
    let mut last_use = Vec::new();
    let mut ext = Vec::with_capacity(extents.len());
    let mut item_of: HashMap<u32, usize> = HashMap::new();
    for (k, e) in extents.iter().enumerate() {
        let item = match item_of.get(&e.chunk) {
            Some(&it) if k - last_use[it] <= REUSE_SPAN => it,
            _ => {
                fetch.push(table[e.chunk as usize]);
                last_use.push(k);
                item_of.insert(e.chunk, fetch.len() - 1);
                fetch.len() - 1
            }
        };
        last_use[item] = k;
        ext.push((item as u32, e.offset, e.len));
    }
    let x = Extents {
        manifest,
        ext,
        last_use,
        next: 0,
        live: Vec::new(),
        loaded: 0,
    };
    (fetch, x)
}

/// A run's outcome as a worker reports it.
enum Fetched {
    /// The raw bytes of the run's chunks, each verified against its id, and their lengths.
    Data(Vec<u8>, Vec<u32>),
    /// The chunks could not be located (pack gone, or not in the cached index): the caller
    /// re-reads the index and fetches them itself, in order.
    Retry { first: usize, count: usize },
}

/// Iterator over a backup's records. Yields `Err` once and then ends on any damage.
pub struct ManifestReader {
    vault: Vault,
    acct: Arc<Account>,
    _use: UseGuard,
    /// The chunks to fetch, in order (version 1: the manifest's chunk list).
    chunks: Vec<Id>,
    /// Version 2: the extents the stream is assembled from.
    extents: Option<Extents>,
    /// `(first chunk, count)` of each run handed out and not yet taken back, in order.
    planned: VecDeque<(usize, usize)>,
    /// Next chunk to plan into a run.
    next: usize,
    /// Runs handed out (sequence numbers `0..sent`) and taken back (`0..taken`).
    sent: u64,
    taken: u64,
    window: u64,
    ready: BTreeMap<u64, Result<Fetched>>,
    jobs: Option<Sender<(u64, Run)>>,
    results: Receiver<(u64, Result<Fetched>)>,
    recycle: Sender<Vec<u8>>,
    data: Vec<u8>,
    pos: usize,
    /// A record that spans two runs is assembled here.
    scratch: Vec<u8>,
    /// Version 2: the buffer the next piece of the stream is assembled in.
    scratch_out: Vec<u8>,
    records_left: u64,
    done: bool,
    /// For the caller's own (slow-path) fetches.
    dec: zstd::bulk::Decompressor<'static>,
}

impl Vault {
    /// Opens a backup of `account` for reading. Another account's id is not found.
    pub fn reader(&self, account: &str, id: &ManifestId) -> Result<ManifestReader> {
        let acct = self.account(account)?;
        let use_guard = acct.begin_use();
        let (meta, body) = self.block_on(self.load_manifest(&acct, id))?;
        let (chunks, extents) = match &body.extents {
            None => (body.chunks, None),
            Some(ext) => {
                let key = acct.key(keys::MANIFESTS, &id.0);
                let (fetch, x) = plan_extents(&body.chunks, ext, key);
                (fetch, Some(x))
            }
        };
        self.block_on(self.refresh_index(&acct))?;
        let workers = worker_count();
        let (jobs, job_rx) = channel::<(u64, Run)>();
        let (res_tx, results) = channel();
        let (recycle, recycled) = channel::<Vec<u8>>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let recycled = Arc::new(Mutex::new(recycled));
        for _ in 0..workers {
            let (vault, acct, job_rx, res_tx, recycled) = (
                self.clone(),
                acct.clone(),
                job_rx.clone(),
                res_tx.clone(),
                recycled.clone(),
            );
            std::thread::Builder::new()
                .name("tidemark-vault-read".into())
                .spawn(move || read_worker(&vault, &acct, &job_rx, &res_tx, &recycled))?;
        }
        let mut r = ManifestReader {
            vault: self.clone(),
            acct,
            _use: use_guard,
            chunks,
            extents,
            planned: VecDeque::new(),
            next: 0,
            sent: 0,
            taken: 0,
            window: 2 * workers as u64 + 2,
            ready: BTreeMap::new(),
            jobs: Some(jobs),
            results,
            recycle,
            data: Vec::new(),
            pos: 0,
            scratch: Vec::new(),
            scratch_out: Vec::new(),
            records_left: meta.records,
            done: false,
            dec: zstd::bulk::Decompressor::new()?,
        };
        r.plan();
        Ok(r)
    }

    /// Reads a whole backup into memory.
    pub fn read_all(&self, account: &str, id: &ManifestId) -> Result<Vec<Vec<u8>>> {
        self.reader(account, id)?.collect()
    }
}

fn read_worker(
    vault: &Vault,
    acct: &Account,
    jobs: &Mutex<Receiver<(u64, Run)>>,
    results: &Sender<(u64, Result<Fetched>)>,
    recycled: &Mutex<Receiver<Vec<u8>>>,
) {
    let mut dec = match zstd::bulk::Decompressor::new() {
        Ok(d) => d,
        Err(e) => {
            let _ = results.send((0, Err(e.into())));
            return;
        }
    };
    loop {
        // The lock is held only while waiting for the next job.
        let job = lock(jobs).recv();
        let Ok((seq, run)) = job else { return };
        let out = lock(recycled).try_recv().unwrap_or_default();
        let r = fetch_run(vault, acct, &run, &mut dec, out);
        if results.send((seq, r)).is_err() {
            return; // the reader is gone
        }
    }
}

/// One range read, then every blob decoded into `out` and checked against its id.
fn fetch_run(
    vault: &Vault,
    acct: &Account,
    run: &Run,
    dec: &mut zstd::bulk::Decompressor<'static>,
    mut out: Vec<u8>,
) -> Result<Fetched> {
    let Some(&(_, first)) = run.locs.first() else {
        return Ok(Fetched::Data(out, Vec::new()));
    };
    let key = acct.key(keys::PACKS, &first.pack);
    let Some(bytes) = vault.block_on(vault.store().get_range(&key, run.start..run.end))? else {
        return Ok(Fetched::Retry {
            first: run.first,
            count: run.locs.len(),
        });
    };
    out.clear();
    out.reserve(run.locs.iter().map(|(_, l)| l.entry.raw_len as usize).sum());
    let mut lens = Vec::with_capacity(run.locs.len());
    for (id, l) in &run.locs {
        let off = (l.entry.offset - run.start) as usize;
        let blob = bytes
            .get(off..off + l.entry.stored_len as usize)
            .ok_or_else(|| VaultError::corrupt(&key, "short range read"))?;
        let at = out.len();
        decode_into(&key, blob, l, dec, &mut out)?;
        if acct.keys.hash(&out[at..]) != *id {
            return Err(VaultError::corrupt(
                &key,
                format!("chunk {id} fails its hash"),
            ));
        }
        lens.push(l.entry.raw_len);
    }
    Ok(Fetched::Data(out, lens))
}

impl ManifestReader {
    /// Hands runs to the workers until `window` are outstanding or the manifest is planned.
    fn plan(&mut self) {
        while self.next < self.chunks.len() && self.sent - self.taken < self.window {
            let seq = self.sent;
            self.sent += 1;
            let first = self.next;
            let run = {
                let cache = lock(&self.acct.index);
                let Some(loc) = cache.chunks.get(&self.chunks[first]).copied() else {
                    drop(cache);
                    self.next += 1;
                    self.ready
                        .insert(seq, Ok(Fetched::Retry { first, count: 1 }));
                    self.planned.push_back((first, 1));
                    continue;
                };
                let mut run = Run {
                    locs: vec![(self.chunks[first], loc)],
                    start: loc.entry.offset,
                    end: loc.entry.offset + u64::from(loc.entry.stored_len),
                    first,
                };
                for c in &self.chunks[first + 1..] {
                    match cache.chunks.get(c) {
                        Some(l)
                            if l.pack == loc.pack
                                && l.entry.offset == run.end
                                && run.end - run.start + u64::from(l.entry.stored_len)
                                    <= MAX_RANGE =>
                        {
                            run.end += u64::from(l.entry.stored_len);
                            run.locs.push((*c, *l));
                        }
                        _ => break,
                    }
                }
                run
            };
            self.next += run.locs.len();
            self.planned.push_back((first, run.locs.len()));
            let sent = self
                .jobs
                .as_ref()
                .is_some_and(|j| j.send((seq, run)).is_ok());
            if !sent {
                let e = VaultError::Io(std::io::Error::other("read workers stopped"));
                self.ready.insert(seq, Err(e));
            }
        }
    }

    /// Replaces `data` with the next run's bytes (version 1) or the next assembled piece of
    /// the stream (version 2); `Ok(false)` when there are no more.
    fn load_next(&mut self) -> Result<bool> {
        if self.extents.is_some() {
            return self.assemble();
        }
        let Some((bytes, _, _)) = self.take_run()? else {
            return Ok(false);
        };
        let old = std::mem::replace(&mut self.data, bytes);
        self.pos = 0;
        let _ = self.recycle.send(old);
        self.plan();
        Ok(true)
    }

    /// Copies the next extents (about `ASSEMBLE` bytes) into `data`, taking runs back from
    /// the workers as the extents need them and dropping runs no extent needs any more.
    fn assemble(&mut self) -> Result<bool> {
        let mut x = self.extents.take().ok_or_else(|| self.ends_early())?;
        let r = self.assemble_with(&mut x);
        self.extents = Some(x);
        r
    }

    fn assemble_with(&mut self, x: &mut Extents) -> Result<bool> {
        if x.next == x.ext.len() {
            return Ok(false);
        }
        let mut out = std::mem::take(&mut self.scratch_out);
        out.clear();
        while x.next < x.ext.len() && out.len() < ASSEMBLE {
            let (item, off, len) = x.ext[x.next];
            let item = item as usize;
            while item >= x.loaded {
                let next = x.next;
                for dead in x.live.extract_if(.., |r| r.last_use < next) {
                    let _ = self.recycle.send(dead.data);
                }
                let Some((data, lens, (first, count))) = self.take_run()? else {
                    return Err(self.ends_early());
                };
                let mut starts = Vec::with_capacity(count + 1);
                let mut at = 0usize;
                starts.push(0);
                for l in &lens {
                    at += *l as usize;
                    starts.push(at);
                }
                if lens.len() != count || at != data.len() {
                    return Err(VaultError::Io(std::io::Error::other(
                        "a fetched run does not hold its chunks",
                    )));
                }
                let last_use = x.last_use[first..first + count]
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0);
                x.loaded = first + count;
                x.live.push(LiveRun {
                    first,
                    starts,
                    data,
                    last_use,
                });
            }
            let run = x
                .live
                .iter()
                .find(|r| r.first <= item && item < r.first + r.starts.len() - 1)
                .ok_or_else(|| self.ends_early())?;
            let (cs, ce) = (
                run.starts[item - run.first],
                run.starts[item - run.first + 1],
            );
            let (s, e) = (cs + off as usize, cs + off as usize + len as usize);
            if e > ce {
                return Err(VaultError::corrupt(
                    &x.manifest,
                    format!(
                        "extent {} (offset {off}, length {len}) lies past the end of its \
                         {}-byte chunk",
                        x.next,
                        ce - cs
                    ),
                ));
            }
            out.extend_from_slice(&run.data[s..e]);
            x.next += 1;
        }
        self.scratch_out = std::mem::replace(&mut self.data, out);
        self.pos = 0;
        Ok(true)
    }

    /// The next run's bytes, chunk lengths and `(first chunk, count)`, in order.
    #[allow(clippy::type_complexity)]
    fn take_run(&mut self) -> Result<Option<(Vec<u8>, Vec<u32>, (usize, usize))>> {
        self.plan();
        if self.taken == self.sent {
            return Ok(None);
        }
        let seq = self.taken;
        let r = loop {
            if let Some(r) = self.ready.remove(&seq) {
                break r;
            }
            match self.results.recv() {
                Ok((s, r)) => {
                    self.ready.insert(s, r);
                }
                Err(_) => {
                    break Err(VaultError::Io(std::io::Error::other(
                        "read workers stopped",
                    )));
                }
            }
        };
        self.taken += 1;
        let span = self.planned.pop_front().unwrap_or((0, 0));
        let (bytes, lens) = match r? {
            Fetched::Data(b, l) => (b, l),
            Fetched::Retry { first, count } => self.fetch_slow(first, count)?,
        };
        self.plan();
        Ok(Some((bytes, lens, span)))
    }

    fn locate(&self, chunk: &Id) -> Option<Loc> {
        lock(&self.acct.index).chunks.get(chunk).copied()
    }

    /// Fetches chunks one at a time, re-reading the index once when a chunk is not listed or
    /// its pack is gone (gc may have repacked it: it writes the new index before deleting).
    fn fetch_slow(&mut self, first: usize, count: usize) -> Result<(Vec<u8>, Vec<u32>)> {
        let mut out = Vec::new();
        let mut lens = Vec::new();
        for i in first..first + count {
            let id = self.chunks[i];
            let mut fetched = false;
            for attempt in 0..2 {
                if attempt == 1 {
                    self.vault.block_on(self.vault.refresh_index(&self.acct))?;
                }
                let Some(loc) = self.locate(&id) else {
                    continue;
                };
                let run = Run {
                    locs: vec![(id, loc)],
                    start: loc.entry.offset,
                    end: loc.entry.offset + u64::from(loc.entry.stored_len),
                    first: i,
                };
                let got = fetch_run(&self.vault, &self.acct, &run, &mut self.dec, Vec::new())?;
                if let Fetched::Data(b, l) = got {
                    out.extend_from_slice(&b);
                    lens.extend(l);
                    fetched = true;
                    break;
                }
            }
            if !fetched {
                return Err(match self.locate(&id) {
                    None => VaultError::Missing {
                        object: format!("chunk {id}"),
                        detail: "not listed in any index".into(),
                    },
                    Some(loc) => VaultError::Missing {
                        object: self.acct.key(keys::PACKS, &loc.pack),
                        detail: "pack listed in the index does not exist".into(),
                    },
                });
            }
        }
        Ok((out, lens))
    }

    /// Copies the next `out.len()` bytes of the stream into `out`, across runs.
    fn fill(&mut self, out: &mut [u8]) -> Result<()> {
        let mut got = 0;
        while got < out.len() {
            if self.pos == self.data.len() && !self.load_next()? {
                return Err(self.ends_early());
            }
            let n = (out.len() - got).min(self.data.len() - self.pos);
            out[got..got + n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            got += n;
            self.pos += n;
        }
        Ok(())
    }

    fn ends_early(&self) -> VaultError {
        VaultError::corrupt(
            format!("manifest of account {}", self.acct.name),
            "record stream ends early",
        )
    }

    /// Where the next record is: `Some(Some(start))` = `data[start..pos]`, `Some(None)` =
    /// in `scratch`, `None` = the stream ended.
    fn advance(&mut self) -> Result<Option<Option<usize>>> {
        loop {
            let avail = self.data.len() - self.pos;
            if avail >= 4 {
                let mut l = [0u8; 4];
                l.copy_from_slice(&self.data[self.pos..self.pos + 4]);
                let len = u32::from_le_bytes(l) as usize;
                if avail >= 4 + len {
                    let start = self.pos + 4;
                    self.pos = start + len;
                    self.records_left = self.records_left.saturating_sub(1);
                    return Ok(Some(Some(start)));
                }
            }
            if avail == 0 {
                if self.load_next()? {
                    continue;
                }
                if self.records_left == 0 {
                    return Ok(None);
                }
                return Err(self.ends_early());
            }
            // The record continues in the next run: assemble it.
            let mut l = [0u8; 4];
            self.fill(&mut l)?;
            let mut rec = std::mem::take(&mut self.scratch);
            rec.clear();
            rec.resize(u32::from_le_bytes(l) as usize, 0);
            let r = self.fill(&mut rec);
            self.scratch = rec;
            r?;
            self.records_left = self.records_left.saturating_sub(1);
            return Ok(Some(None));
        }
    }

    /// The next record, borrowed until the next call: unlike `next`, no allocation per
    /// record. Yields `Err` once and then `None` on any damage.
    pub fn next_ref(&mut self) -> Option<Result<&[u8]>> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(Some(start))) => Some(Ok(&self.data[start..self.pos])),
            Ok(Some(None)) => Some(Ok(&self.scratch)),
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

/// Decompresses (if needed) one blob, appending it to `out`, and checks its length.
pub(crate) fn decode_into(
    object: &str,
    blob: &[u8],
    loc: &Loc,
    dec: &mut zstd::bulk::Decompressor<'static>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let at = out.len();
    let raw_len = loc.entry.raw_len as usize;
    if loc.entry.flags & FLAG_ZSTD != 0 {
        out.reserve(raw_len);
        let mut cur = Cursor::new(&mut *out);
        cur.set_position(at as u64);
        dec.decompress_to_buffer(blob, &mut cur)
            .map_err(|e| VaultError::corrupt(object, format!("chunk {}: {e}", loc.entry.chunk)))?;
    } else {
        out.extend_from_slice(blob);
    }
    if out.len() - at != raw_len {
        out.truncate(at);
        return Err(VaultError::corrupt(
            object,
            format!("chunk {} has wrong length", loc.entry.chunk),
        ));
    }
    Ok(())
}

/// Decompresses (if needed) one blob and checks its length.
pub(crate) fn decode_blob(
    object: &str,
    blob: &[u8],
    loc: &Loc,
    dec: &mut zstd::bulk::Decompressor<'static>,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    decode_into(object, blob, loc, dec, &mut out)?;
    Ok(out)
}

impl Iterator for ManifestReader {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_ref().map(|r| r.map(<[u8]>::to_vec))
    }
}
