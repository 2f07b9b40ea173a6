//! The pack worker: a thread that compresses a writer's new chunks into packs and uploads
//! them, so chunking and hashing (caller thread) overlap with compression (this thread).

use crate::error::{Result, VaultError};
use crate::format::{FLAG_ZSTD, PackBuilder, PackEntries};
use crate::id::Id;
use crate::store::{Store, keys};
use crate::vault::Account;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use tokio::task::JoinHandle;

/// Pack uploads allowed in flight while compression goes on.
const MAX_UPLOADS_IN_FLIGHT: usize = 2;
/// New chunks queued for the worker (~4 MiB at the default chunk size).
const QUEUE: usize = 256;

/// What the worker produced: every pack it uploaded, and the bytes stored.
pub(crate) struct PackerOutput {
    pub packs: Vec<PackEntries>,
    pub stored_bytes: u64,
}

/// The caller's side of the worker.
pub(crate) struct PackWorker {
    tx: Option<SyncSender<(Id, Vec<u8>)>>,
    thread: Option<std::thread::JoinHandle<Result<PackerOutput>>>,
    abort: Arc<AtomicBool>,
}

struct Packer {
    store: Store,
    handle: tokio::runtime::Handle,
    acct: Arc<Account>,
    target: u64,
    compressor: zstd::bulk::Compressor<'static>,
    pack: PackBuilder,
    out: PackerOutput,
    uploads: VecDeque<JoinHandle<Result<()>>>,
}

impl PackWorker {
    pub fn start(
        store: Store,
        handle: tokio::runtime::Handle,
        acct: Arc<Account>,
        target: u64,
        level: i32,
    ) -> Result<PackWorker> {
        let (tx, rx) = sync_channel(QUEUE);
        let abort = Arc::new(AtomicBool::new(false));
        let packer = Packer {
            store,
            handle,
            acct,
            target,
            compressor: zstd::bulk::Compressor::new(level)?,
            pack: PackBuilder::new(),
            out: PackerOutput {
                packs: Vec::new(),
                stored_bytes: 0,
            },
            uploads: VecDeque::new(),
        };
        let stop = abort.clone();
        let thread = std::thread::Builder::new()
            .name("tidemark-vault-pack".into())
            .spawn(move || packer.run(rx, &stop))?;
        Ok(PackWorker {
            tx: Some(tx),
            thread: Some(thread),
            abort,
        })
    }

    /// Queues a new chunk. If the worker has stopped, returns the error that stopped it.
    pub fn send(&mut self, id: Id, data: Vec<u8>) -> Result<()> {
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send((id, data)).is_ok());
        if sent {
            return Ok(());
        }
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(VaultError::Config("pack worker stopped early".into())),
        }
    }

    /// Flushes the last pack, waits for every upload, and returns what was written.
    pub fn finish(mut self) -> Result<PackerOutput> {
        self.join()
    }

    fn join(&mut self) -> Result<PackerOutput> {
        self.tx = None; // closing the queue tells the worker to flush and stop
        let thread = self
            .thread
            .take()
            .ok_or_else(|| VaultError::Config("pack worker already joined".into()))?;
        thread
            .join()
            .map_err(|_| VaultError::Io(std::io::Error::other("pack worker panicked")))?
    }
}

impl Drop for PackWorker {
    fn drop(&mut self) {
        // An abandoned store: the worker stops without flushing its partial pack.
        self.abort.store(true, Ordering::SeqCst);
    }
}

impl Packer {
    fn run(mut self, rx: Receiver<(Id, Vec<u8>)>, abort: &AtomicBool) -> Result<PackerOutput> {
        for (id, data) in rx {
            self.add(id, &data)?;
        }
        if abort.load(Ordering::SeqCst) {
            return Err(VaultError::Config("store abandoned".into()));
        }
        self.flush()?;
        self.wait(0)?;
        Ok(self.out)
    }

    fn add(&mut self, id: Id, data: &[u8]) -> Result<()> {
        let compressed = self.compressor.compress(data)?;
        let (blob, flags) = if compressed.len() < data.len() {
            (&compressed[..], FLAG_ZSTD)
        } else {
            (data, 0)
        };
        self.pack.add(id, blob, data.len() as u32, flags);
        self.out.stored_bytes += blob.len() as u64;
        if self.pack.buf.len() as u64 >= self.target {
            self.flush()?;
        }
        Ok(())
    }

    /// Seals the current pack and uploads it in the background.
    fn flush(&mut self) -> Result<()> {
        if self.pack.is_empty() {
            return Ok(());
        }
        let (bytes, entries) = std::mem::take(&mut self.pack).finish();
        let id = self.acct.keys.hash(&bytes);
        self.out.packs.push(PackEntries {
            pack: id,
            pack_len: bytes.len() as u64,
            entries,
        });
        let store = self.store.clone();
        let key = self.acct.key(keys::PACKS, &id);
        let data = Bytes::from(bytes);
        let task = self
            .handle
            .spawn(async move { store.put_create(&key, data).await });
        self.uploads.push_back(task);
        self.wait(MAX_UPLOADS_IN_FLIGHT)
    }

    fn wait(&mut self, keep: usize) -> Result<()> {
        while self.uploads.len() > keep {
            let Some(task) = self.uploads.pop_front() else {
                break;
            };
            self.handle
                .block_on(task)
                .map_err(|e| VaultError::Io(std::io::Error::other(e)))??;
        }
        Ok(())
    }
}
