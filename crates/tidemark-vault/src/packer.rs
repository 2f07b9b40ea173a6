//! The store pipeline behind a `ManifestWriter`. The caller's thread frames records and cuts
//! chunks (FastCDC must see the stream in order); whole batches of cut chunks go to a pool of
//! hash workers that hash (BLAKE3), claim new chunks for this store and compress them (zstd);
//! one pack thread puts the results back in stream order, builds packs and uploads them with
//! a few uploads in flight. Only after every pack upload has finished does `finish` return,
//! so the writer can then write the index and the manifest (vault-format.md §4).

use crate::error::{Result, VaultError};
use crate::format::{FLAG_ZSTD, PackBuilder, PackEntries};
use crate::id::Id;
use crate::store::{Store, keys};
use crate::vault::{Account, lock};
use bytes::Bytes;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

/// A run of cut chunks: `data[cuts[i-1]..cuts[i]]` is chunk i of the batch (cuts[-1] = 0).
pub(crate) struct Batch {
    pub data: Vec<u8>,
    pub cuts: Vec<usize>,
}

/// A batch after hashing and compression.
struct Done {
    seq: u64,
    ids: Vec<Id>,
    /// Stored blobs of the chunks this store claimed, concatenated in `new` order.
    blobs: Vec<u8>,
    new: Vec<NewBlob>,
    reused_bytes: u64,
    new_bytes: u64,
}

struct NewBlob {
    id: Id,
    stored_len: u32,
    raw_len: u32,
    flags: u32,
}

/// What the pipeline produced: the chunk list in stream order, every pack it uploaded, and
/// byte counts.
#[derive(Default)]
pub(crate) struct PackerOutput {
    pub chunks: Vec<Id>,
    pub packs: Vec<PackEntries>,
    pub stored_bytes: u64,
    pub new_chunks: u64,
    pub new_bytes: u64,
    pub reused_bytes: u64,
    batches: u64,
}

/// The caller's side of the pipeline.
pub(crate) struct PackWorker {
    tx: Option<SyncSender<(u64, Batch)>>,
    recycled: Receiver<Vec<u8>>,
    packer: Option<std::thread::JoinHandle<Result<PackerOutput>>>,
    abort: Arc<AtomicBool>,
    next_seq: u64,
}

/// Shared state of the hash workers.
struct Shared {
    acct: Arc<Account>,
    level: i32,
    /// Chunks claimed by this store: the first worker to insert one compresses it.
    claimed: Mutex<HashSet<Id>>,
    abort: Arc<AtomicBool>,
    /// Blob buffers the pack thread has copied into packs, for the workers to fill again.
    /// Without it every batch's blobs are a fresh allocation freed on another thread, and
    /// the allocator's thread-local free lists let the process grow with the backup.
    blob_pool: Mutex<Vec<Vec<u8>>>,
}

/// A pack buffer's size: the target, the blob that crosses it (≤ the largest chunk), and the
/// footer (52 bytes per blob: 1 MiB covers blobs averaging ≥ 832 bytes). A buffer that had to
/// grow would be copied into one twice as large, leaving the old one for the allocator.
fn pack_capacity(target: u64) -> usize {
    target as usize + (target as usize / 16) + (256 << 10)
}

/// How many hash workers a store uses: one per core, at least two so hashing and compression
/// overlap the caller's chunking even on small machines.
pub(crate) fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
}

impl PackWorker {
    pub fn start(
        store: Store,
        handle: tokio::runtime::Handle,
        acct: Arc<Account>,
        target: u64,
        level: i32,
    ) -> Result<PackWorker> {
        let workers = worker_count();
        let (tx, rx) = sync_channel::<(u64, Batch)>(workers * 2);
        let (done_tx, done_rx) = sync_channel::<Result<Done>>(workers * 2);
        let (recycle_tx, recycled) = channel();
        let abort = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            acct: acct.clone(),
            level,
            claimed: Mutex::new(HashSet::new()),
            abort: abort.clone(),
            blob_pool: Mutex::new(Vec::new()),
        });
        let shared_for_packer = shared.clone();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..workers {
            let (rx, done_tx, recycle_tx, shared) = (
                rx.clone(),
                done_tx.clone(),
                recycle_tx.clone(),
                shared.clone(),
            );
            std::thread::Builder::new()
                .name("tidemark-vault-hash".into())
                .spawn(move || hash_worker(&rx, &done_tx, &recycle_tx, &shared))?;
        }
        drop(done_tx);
        let packer = Packer {
            shared: shared_for_packer,
            store,
            handle,
            acct,
            target,
            pack: PackBuilder::with_capacity(pack_capacity(target)),
            out: PackerOutput::default(),
            uploads: VecDeque::new(),
            spare: Vec::new(),
        };
        let stop = abort.clone();
        let packer = std::thread::Builder::new()
            .name("tidemark-vault-pack".into())
            .spawn(move || packer.run(done_rx, &stop))?;
        Ok(PackWorker {
            tx: Some(tx),
            recycled,
            packer: Some(packer),
            abort,
            next_seq: 0,
        })
    }

    /// A buffer for the next batch: one a worker has finished with, or a new one.
    pub fn buffer(&self, capacity: usize) -> Vec<u8> {
        match self.recycled.try_recv() {
            Ok(mut b) => {
                b.clear();
                b.reserve(capacity);
                b
            }
            Err(_) => Vec::with_capacity(capacity),
        }
    }

    /// Queues a batch of cut chunks. If the pipeline has stopped, returns its error.
    pub fn send(&mut self, batch: Batch) -> Result<()> {
        let seq = self.next_seq;
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send((seq, batch)).is_ok());
        if sent {
            self.next_seq += 1;
            return Ok(());
        }
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(VaultError::Config("pack worker stopped early".into())),
        }
    }

    /// Flushes the last pack, waits for every upload, and returns what was written.
    pub fn finish(mut self) -> Result<PackerOutput> {
        let out = self.join()?;
        if out.batches != self.next_seq {
            // Only a panicked hash worker loses a batch without reporting an error.
            return Err(VaultError::Io(std::io::Error::other(
                "a hash worker stopped without finishing its batch",
            )));
        }
        Ok(out)
    }

    fn join(&mut self) -> Result<PackerOutput> {
        self.tx = None; // closing the queue lets the workers, then the pack thread, finish
        let thread = self
            .packer
            .take()
            .ok_or_else(|| VaultError::Config("pack worker already joined".into()))?;
        thread
            .join()
            .map_err(|_| VaultError::Io(std::io::Error::other("pack worker panicked")))?
    }
}

impl Drop for PackWorker {
    fn drop(&mut self) {
        // An abandoned store: workers skip queued batches and the pack thread stops without
        // flushing its partial pack.
        self.abort.store(true, Ordering::SeqCst);
    }
}

fn hash_worker(
    rx: &Mutex<Receiver<(u64, Batch)>>,
    done: &SyncSender<Result<Done>>,
    recycle: &Sender<Vec<u8>>,
    shared: &Shared,
) {
    let mut z = match zstd::bulk::Compressor::new(shared.level) {
        Ok(z) => z,
        Err(e) => {
            let _ = done.send(Err(e.into()));
            return;
        }
    };
    loop {
        // The lock is held only while waiting for the next batch.
        let next = lock(rx).recv();
        let Ok((seq, batch)) = next else { return };
        if shared.abort.load(Ordering::SeqCst) {
            return;
        }
        let r = process(seq, &batch, shared, &mut z);
        let failed = r.is_err();
        if done.send(r).is_err() || failed {
            return;
        }
        let _ = recycle.send(batch.data);
    }
}

/// Hashes every chunk of a batch, claims the ones neither the vault nor this store has, and
/// compresses those (a blob is stored raw when zstd does not make it smaller).
fn process(
    seq: u64,
    batch: &Batch,
    shared: &Shared,
    z: &mut zstd::bulk::Compressor<'static>,
) -> Result<Done> {
    let mut ids = Vec::with_capacity(batch.cuts.len());
    let mut start = 0usize;
    for &end in &batch.cuts {
        ids.push(shared.acct.keys.hash(&batch.data[start..end]));
        start = end;
    }
    let mut claimed = vec![false; ids.len()];
    {
        // Lock order: index, then claims (nothing else takes both).
        let cache = lock(&shared.acct.index);
        let mut mine = lock(&shared.claimed);
        for (c, id) in claimed.iter_mut().zip(&ids) {
            *c = !cache.chunks.contains_key(id) && mine.insert(*id);
        }
    }
    let mut blobs = lock(&shared.blob_pool).pop().unwrap_or_default();
    blobs.clear();
    let mut out = Done {
        seq,
        ids,
        blobs,
        new: Vec::new(),
        reused_bytes: 0,
        new_bytes: 0,
    };
    let mut start = 0usize;
    for (i, &end) in batch.cuts.iter().enumerate() {
        let raw = &batch.data[start..end];
        start = end;
        if !claimed[i] {
            out.reused_bytes += raw.len() as u64;
            continue;
        }
        out.new_bytes += raw.len() as u64;
        let at = out.blobs.len();
        out.blobs.reserve(zstd::compress_bound(raw.len()));
        let mut cur = Cursor::new(&mut out.blobs);
        cur.set_position(at as u64);
        let n = z.compress_to_buffer(raw, &mut cur)?;
        let (stored_len, flags) = if n < raw.len() {
            (n, FLAG_ZSTD)
        } else {
            out.blobs.truncate(at);
            out.blobs.extend_from_slice(raw);
            (raw.len(), 0)
        };
        out.new.push(NewBlob {
            id: out.ids[i],
            stored_len: stored_len as u32,
            raw_len: raw.len() as u32,
            flags,
        });
    }
    Ok(out)
}

struct Packer {
    shared: Arc<Shared>,
    store: Store,
    handle: tokio::runtime::Handle,
    acct: Arc<Account>,
    target: u64,
    pack: PackBuilder,
    out: PackerOutput,
    /// Uploads in flight, each with a handle on its bytes to take the buffer back after.
    uploads: VecDeque<(JoinHandle<Result<()>>, Bytes)>,
    /// Buffers of uploaded packs, reused for the next packs: a long store allocates its
    /// pack buffers once instead of once per pack (freed 16 MiB buffers are not always
    /// handed back to the system at once, so the process would grow with the backup).
    spare: Vec<Vec<u8>>,
}

impl Packer {
    fn run(mut self, rx: Receiver<Result<Done>>, abort: &AtomicBool) -> Result<PackerOutput> {
        // Batches finish out of order; packs and the chunk list follow stream order so a
        // reader finds neighbouring chunks next to each other.
        let mut waiting = BTreeMap::new();
        for done in rx {
            let done = done?;
            waiting.insert(done.seq, done);
            while let Some(d) = waiting.remove(&self.out.batches) {
                self.add(d)?;
                self.out.batches += 1;
            }
        }
        if abort.load(Ordering::SeqCst) {
            return Err(VaultError::Config("store abandoned".into()));
        }
        self.flush()?;
        self.wait(0)?;
        Ok(self.out)
    }

    fn add(&mut self, d: Done) -> Result<()> {
        self.out.chunks.extend_from_slice(&d.ids);
        self.out.new_chunks += d.new.len() as u64;
        self.out.new_bytes += d.new_bytes;
        self.out.reused_bytes += d.reused_bytes;
        let mut at = 0usize;
        for b in &d.new {
            let blob = &d.blobs[at..at + b.stored_len as usize];
            at += b.stored_len as usize;
            self.pack.add(b.id, blob, b.raw_len, b.flags);
            self.out.stored_bytes += u64::from(b.stored_len);
            if self.pack.buf.len() as u64 >= self.target {
                self.flush()?;
            }
        }
        let mut pool = lock(&self.shared.blob_pool);
        // Enough for every batch the pipeline holds at once (queued, in work, done).
        if pool.len() < 4 * worker_count() + 4 {
            pool.push(d.blobs);
        }
        Ok(())
    }

    /// Seals the current pack and uploads it in the background.
    fn flush(&mut self) -> Result<()> {
        if self.pack.is_empty() {
            return Ok(());
        }
        let sealed = PackBuilder {
            buf: Vec::new(),
            entries: Vec::new(),
        };
        let (bytes, entries) = std::mem::replace(&mut self.pack, sealed).finish();
        let id = self.acct.keys.hash(&bytes);
        self.out.packs.push(PackEntries {
            pack: id,
            pack_len: bytes.len() as u64,
            entries,
        });
        let store = self.store.clone();
        let key = self.acct.key(keys::PACKS, &id);
        let data = Bytes::from(bytes);
        let upload = data.clone();
        let task = self
            .handle
            .spawn(async move { store.put_create(&key, upload).await });
        self.uploads.push_back((task, data));
        self.wait(self.store.uploads_in_flight)?;
        self.pack = match self.spare.pop() {
            Some(buf) => PackBuilder::reusing(buf),
            None => PackBuilder::with_capacity(pack_capacity(self.target)),
        };
        Ok(())
    }

    fn wait(&mut self, keep: usize) -> Result<()> {
        while self.uploads.len() > keep {
            let Some((task, data)) = self.uploads.pop_front() else {
                break;
            };
            self.handle
                .block_on(task)
                .map_err(|e| VaultError::Io(std::io::Error::other(e)))??;
            // The backend has dropped its copy (an in-memory backend keeps it: no reuse).
            if let Ok(buf) = data.try_into_mut() {
                self.spare.push(buf.into());
            }
        }
        Ok(())
    }
}
