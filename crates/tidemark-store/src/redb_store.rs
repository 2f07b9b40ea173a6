//! [`RedbStore`]: the store on redb, in a data directory or in memory.

use std::collections::VecDeque;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use redb::{
    Database, Durability, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, TableDefinition, TableError, TableHandle, WriteTransaction,
};

use crate::faults::{Faults, FaultyBackend};
use crate::group_commit::{GroupCommit, Slot, sync_redb};
use crate::segmented::SegmentedBackend;
use crate::wal::{self, Change, ChangeLog, WalFile};
use crate::{
    Entry, EntryIter, FORMAT_VERSION, ReadTxn, Reads, Store, StoreError, WriteTxn,
    check_table_name, range_is_empty,
};

/// The store file inside a data directory.
pub const CATALOG_FILE: &str = "catalog.redb";

/// The reserved table holding the format record.
const META_TABLE: &str = "__tidemark_meta";
const FORMAT_KEY: &[u8] = b"format_version";
/// The sequence of the last commit (a big-endian u64), written by every commit on disk: it
/// says where in the write-ahead log the state redb holds ends.
const SEQUENCE_KEY: &[u8] = b"wal_sequence";
/// The format version of stores written before the write-ahead log; opened and upgraded.
const FORMAT_WITHOUT_LOG: u32 = 1;

/// How many entries a write transaction's range reads per page (see [`WriteRange`]).
const WRITE_RANGE_PAGE: usize = 256;

type Bytes = &'static [u8];
type RawGuard<'a> = redb::AccessGuard<'a, &'static [u8]>;

fn def(name: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}

/// redb's page cache (read cache plus write buffer). redb's default is 1 GiB, which a large
/// table's scan (a backup) or load (a restore) fills, growing the process by as much; with
/// this cap the memory a long backup or restore takes no longer grows with the table. In
/// memory the cached pages are copies of the backend's own bytes, so a cap costs little
/// there either.
const CACHE_BYTES: usize = 64 << 20;

/// In memory, every this-many commits is a durable one, so redb can reuse the pages that
/// non-durable commits freed (it recycles them only at a durable commit). Not inside
/// [`crate::hold_durable_commits`]: the first commit after it is durable instead.
const MEMORY_DURABLE_EVERY: u64 = 64;

thread_local! {
    /// Set while this thread runs inside [`hold_durable_commits`].
    static HOLDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the in-memory store's periodic durable commit held off for the commits
/// this thread makes: they are all non-durable, and the first commit after the hold that
/// is due one (any thread's) is durable. A durable commit in memory writes redb's whole
/// write buffer into the backend (~25 ms after a few batches of a bulk load), a stall a
/// bulk load such as a restore would otherwise hit at random, about once per 64 commits.
/// The hold moves it to a later commit; it saves no work. No effect on disk, where each
/// commit's durability is the caller's business (see [`crate::defer_durability`]).
pub fn hold_durable_commits<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            HOLDING.with(|h| h.set(self.0));
        }
    }
    let _reset = Reset(HOLDING.with(|h| h.replace(true)));
    f()
}

/// The redb-backed store. On disk, `commit` returns once the commit is fsynced in the
/// write-ahead log (group commit: concurrent writers share one fsync, see
/// `group_commit.rs` and `wal.rs`). In memory, commits skip redb's durable-commit work,
/// which protects nothing there.
///
/// On disk, an I/O error (a full disk, EIO) puts the store in a fault: writes are refused
/// with [`StoreError::Unavailable`] while a background thread retries, with backoff, to make
/// the store whole again without a restart (see [`Inner::recover`]). [`Store::fault`] says
/// why meanwhile.
pub struct RedbStore {
    pub(crate) inner: Arc<Inner>,
}

/// What a [`RedbStore`] shares with its recovery thread and its pending commits.
pub(crate) struct Inner {
    /// The open database; `None` while a recovery has closed it and not yet reopened it.
    db: RwLock<Option<Arc<Database>>>,
    /// `None` for the in-memory backend.
    pub(crate) group: Option<GroupCommit>,
    /// Commits since the last durable one (in memory only): picks the periodic durable
    /// commit.
    memory_commits: std::sync::atomic::AtomicU64,
    /// The data directory (`None` in memory).
    dir: Option<PathBuf>,
    /// Injected write failures (tests only).
    faults: Option<Arc<Faults>>,
}

/// The first retry of a recovery comes this long after the fault, the next ones twice as
/// long each time up to [`LAST_RETRY`]: soon enough that a freed disk is used within about
/// a second, rarely enough that a disk that stays full costs nothing noticeable.
const FIRST_RETRY: Duration = Duration::from_millis(20);
const LAST_RETRY: Duration = Duration::from_secs(1);

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").finish_non_exhaustive()
    }
}

/// Opens (creating) redb's file in `dir`, with `faults` in front of its writes if given.
fn open_database(dir: &Path, faults: Option<&Arc<Faults>>) -> Result<Database, StoreError> {
    let path = dir.join(CATALOG_FILE);
    let open_error = |source| StoreError::Open {
        path: path.clone(),
        source,
    };
    let builder = {
        let mut b = Database::builder();
        b.set_cache_size(CACHE_BYTES);
        b
    };
    match faults {
        None => builder.create(&path),
        Some(faults) => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(redb::DatabaseError::from)
            .and_then(redb::backends::FileBackend::new)
            .and_then(|inner| {
                builder.create_with_backend(FaultyBackend {
                    inner,
                    faults: Arc::clone(faults),
                })
            }),
    }
    .map_err(open_error)
}

impl RedbStore {
    /// Opens (creating if missing) the store in `dir`, checking its format version.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_inner(dir.as_ref(), None)
    }

    /// [`RedbStore::open`] with `faults` injected into every write of the store's files.
    /// Only for tests of the recovery from I/O errors.
    #[doc(hidden)]
    pub fn open_with_faults(
        dir: impl AsRef<Path>,
        faults: Arc<Faults>,
    ) -> Result<Self, StoreError> {
        Self::open_inner(dir.as_ref(), Some(faults))
    }

    fn open_inner(dir: &Path, faults: Option<Arc<Faults>>) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
        let db = open_database(dir, faults.as_ref())?;
        check_format(&db, &dir.join(CATALOG_FILE))?;
        let (wal, log) = WalFile::open(dir, faults.clone())?;
        let last = replay(&db, &log)?;
        // Emptied before anything is appended: a torn record left at its end would hide
        // every record written after it from the next replay.
        wal.truncate()?;
        Ok(Self {
            inner: Arc::new(Inner {
                db: RwLock::new(Some(Arc::new(db))),
                group: Some(GroupCommit::new(wal, last)),
                memory_commits: Default::default(),
                dir: Some(dir.to_owned()),
                faults,
            }),
        })
    }

    /// A store that never touches disk (redb over [`SegmentedBackend`]).
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create_with_backend(SegmentedBackend::default())
            .map_err(|source| StoreError::Open {
                path: PathBuf::from("<memory>"),
                source,
            })?;
        check_format(&db, Path::new("<memory>"))?;
        Ok(Self {
            inner: Arc::new(Inner {
                db: RwLock::new(Some(Arc::new(db))),
                group: None,
                memory_commits: Default::default(),
                dir: None,
                faults: None,
            }),
        })
    }

    /// How many times the store has reopened its database after an I/O error. Only for
    /// tests of the recovery.
    #[doc(hidden)]
    pub fn reopens_for_tests(&self) -> u64 {
        self.inner.group.as_ref().map_or(0, GroupCommit::epoch)
    }

    /// Overwrites the recorded format version. Only for tests of the refusal path.
    #[doc(hidden)]
    pub fn force_format_version_for_tests(&self, raw: &[u8]) -> Result<(), StoreError> {
        let txn = self
            .inner
            .current_db()?
            .begin_write()
            .map_err(StoreError::backend("begin write"))?;
        write_format(txn, raw)
    }
}

/// Applies the write-ahead log's records after the state redb holds, in one durable commit;
/// returns the sequence of the last commit.
fn replay(db: &Database, log: &[u8]) -> Result<u64, StoreError> {
    let txn = db
        .begin_write()
        .map_err(StoreError::backend("begin write"))?;
    let after = read_meta(&txn, SEQUENCE_KEY, "read sequence")?
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map_or(0, u64::from_be_bytes);
    let records = wal::replayable(log, after);
    let Some(&(last, _)) = records.last() else {
        return Ok(after);
    };
    let mut w = RedbWrite {
        txn,
        log: ChangeLog::Off,
        store: None,
        noter: Noter {
            inner: Weak::new(),
            epoch: 0,
        },
        slot: None,
    };
    for (seq, payload) in records {
        for change in wal::changes(seq, payload)? {
            match change {
                Change::Put(table, key, value) => w.put(table, key, value)?,
                Change::Delete(table, key) => w.delete(table, key).map(drop)?,
                Change::DeleteRange(table, start, end) => {
                    w.delete_range(table, start, end).map(drop)?
                }
                Change::DeleteTable(table) => w.delete_table(table).map(drop)?,
            }
        }
    }
    write_sequence(&w.txn, last)?;
    commit(w.txn)?;
    Ok(last)
}

/// Records the format version in a fresh store, or checks the recorded one.
fn check_format(db: &Database, path: &Path) -> Result<(), StoreError> {
    let txn = db
        .begin_write()
        .map_err(StoreError::backend("begin write"))?;
    let found = read_meta(&txn, FORMAT_KEY, "read format")?;
    match found {
        Some(bytes) => {
            let supported = <[u8; 4]>::try_from(bytes.as_slice())
                .map(u32::from_be_bytes)
                .ok();
            if supported == Some(FORMAT_WITHOUT_LOG) {
                // The log is new in version 2; a version 1 store simply has none yet.
                // Recording 2 keeps older builds, which would ignore a log, out.
                return write_format(txn, &FORMAT_VERSION.to_be_bytes());
            }
            if supported != Some(FORMAT_VERSION) {
                let found =
                    supported.map_or_else(|| format!("<unreadable {bytes:?}>"), |v| v.to_string());
                return Err(StoreError::UnsupportedFormat {
                    path: path.to_owned(),
                    found,
                    supported: FORMAT_VERSION,
                });
            }
            // Nothing to change; dropping `txn` rolls back the (empty) transaction.
            Ok(())
        }
        None => {
            let others = txn
                .list_tables()
                .map_err(StoreError::backend("list tables"))?
                .any(|t| t.name() != META_TABLE);
            if others {
                return Err(StoreError::NotATidemarkStore {
                    path: path.to_owned(),
                });
            }
            write_format(txn, &FORMAT_VERSION.to_be_bytes())
        }
    }
}

impl Inner {
    /// The open database, or why there is none (a recovery is reopening it).
    pub(crate) fn current_db(&self) -> Result<Arc<Database>, StoreError> {
        let db = self.db.read().unwrap_or_else(|p| p.into_inner()).clone();
        db.ok_or_else(|| self.unavailable())
    }

    /// The error for a request the store cannot serve during a fault.
    fn unavailable(&self) -> StoreError {
        let reason = self.group.as_ref().and_then(GroupCommit::fault);
        StoreError::Unavailable {
            reason: reason.unwrap_or_else(|| "the store is being reopened".into()),
        }
    }

    /// Puts the store in a fault if `err` is an I/O error of the database of `epoch` (and
    /// starts the recovery); a no-op for other errors and for stores in memory.
    pub(crate) fn note_fault(self: &Arc<Self>, epoch: u64, err: &StoreError) {
        if let Some(group) = &self.group
            && err.is_io_fault()
            && group.fail(epoch, err.to_string())
        {
            self.spawn_recovery();
        }
    }

    /// [`Inner::note_fault`], passing the error on.
    fn noted(self: &Arc<Self>, epoch: u64) -> impl FnOnce(StoreError) -> StoreError + '_ {
        move |err| {
            self.note_fault(epoch, &err);
            err
        }
    }

    /// Starts the thread that retries [`Inner::recover`] with backoff until it succeeds or
    /// the store is dropped.
    fn spawn_recovery(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("tidemark-store-recovery".into())
            .spawn(move || {
                let mut delay = FIRST_RETRY;
                loop {
                    std::thread::sleep(delay);
                    let Some(inner) = weak.upgrade() else {
                        return;
                    };
                    if inner.recover().is_ok() {
                        return;
                    }
                    delay = (delay * 2).min(LAST_RETRY);
                }
            });
        if spawned.is_err()
            && let Some(group) = &self.group
        {
            group.recovery_not_running();
        }
    }

    /// Makes the store whole again after an I/O error, holding every flush and writer off.
    /// Nothing is tried until the log's disk takes data again ([`WalFile::probe`]). Then,
    /// if the open database still works (only the log failed), one durable commit covers
    /// every commit so far and the log is emptied; otherwise (redb refuses everything after
    /// an I/O error of its own) the database is closed and reopened and the log replayed over
    /// it, exactly as at start-up. Either way no acknowledged commit is lost: each one is in
    /// redb's durable state or in the log. Commits that were visible but never acknowledged
    /// may be lost, each whole or not at all. On failure the fault stays, naming the error.
    fn recover(self: &Arc<Self>) -> Result<(), StoreError> {
        let (Some(group), Some(dir)) = (&self.group, &self.dir) else {
            return Ok(());
        };
        let hold = group.hold_for_recovery();
        if let Err(e) = group.wal.probe() {
            // Still no room: leave the open database alone (it may still serve reads).
            group.still_failing(e.to_string());
            return Err(e);
        }
        let covered = group.last_committed(&hold);
        let old = self.db.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(db) = old
            && sync_redb(&db).and_then(|()| group.wal.truncate()).is_ok()
        {
            group.healed(&hold, covered);
            return Ok(());
        }
        let result = self.reopen(dir);
        match &result {
            Ok(last) => group.reopened(&hold, *last),
            Err(e) => group.still_failing(e.to_string()),
        }
        result.map(drop)
    }

    /// Closes the database and opens it again, replaying the log (see [`Inner::recover`]);
    /// returns the last commit the reopened database holds.
    fn reopen(&self, dir: &Path) -> Result<u64, StoreError> {
        let Some(group) = &self.group else {
            return Ok(0);
        };
        let old = self.db.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut old) = old {
            // redb releases the file (its locks) when the last handle drops; a read that
            // is cloning the handle right now holds it for microseconds. If it is still
            // shared after this, the open below fails and the next attempt tries again.
            for _ in 0..100 {
                match Arc::try_unwrap(old) {
                    Ok(db) => {
                        drop(db);
                        break;
                    }
                    Err(shared) => {
                        old = shared;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
        }
        let db = open_database(dir, self.faults.as_ref())?;
        check_format(&db, &dir.join(CATALOG_FILE))?;
        let log = group.wal.read_all()?;
        let last = replay(&db, &log)?;
        group.wal.truncate()?;
        *self.db.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(db));
        Ok(last)
    }
}

/// The value under `key` in the store's own meta table (`op` names the read in errors).
fn read_meta(
    txn: &WriteTransaction,
    key: &[u8],
    op: &'static str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let meta = txn
        .open_table(def(META_TABLE))
        .map_err(StoreError::backend("open meta table"))?;
    let value = meta.get(key).map_err(StoreError::backend(op))?;
    Ok(value.map(|v| v.value().to_vec()))
}

/// Sets `key` in the store's own meta table (`op` names the write in errors).
fn write_meta(
    txn: &WriteTransaction,
    key: &[u8],
    value: &[u8],
    op: &'static str,
) -> Result<(), StoreError> {
    let mut meta = txn
        .open_table(def(META_TABLE))
        .map_err(StoreError::backend("open meta table"))?;
    meta.insert(key, value).map_err(StoreError::backend(op))?;
    Ok(())
}

/// Records `raw` as the format version and commits durably.
fn write_format(txn: WriteTransaction, raw: &[u8]) -> Result<(), StoreError> {
    write_meta(&txn, FORMAT_KEY, raw, "write format")?;
    commit(txn)
}

/// Records `sequence` as the last commit in `txn`.
fn write_sequence(txn: &WriteTransaction, sequence: u64) -> Result<(), StoreError> {
    write_meta(txn, SEQUENCE_KEY, &sequence.to_be_bytes(), "write sequence")
}

fn commit(mut txn: WriteTransaction) -> Result<(), StoreError> {
    // Immediate is redb's default; set it anyway because our crash-safety promise rests on it.
    txn.set_durability(Durability::Immediate)
        .map_err(StoreError::backend("set durability"))?;
    txn.commit().map_err(StoreError::backend("commit"))
}

impl Inner {
    /// Commits a write transaction under the store's durability promise.
    fn commit_write(
        self: &Arc<Self>,
        mut txn: WriteTransaction,
        log: ChangeLog,
        epoch: u64,
        slot: Option<Slot<'_>>,
    ) -> Result<(), StoreError> {
        let (Some(group), Some(slot)) = (&self.group, slot) else {
            use std::sync::atomic::Ordering::Relaxed;
            // Commits are serialized (redb's single write slot), so load-then-store is exact.
            let since = self.memory_commits.load(Relaxed);
            let durable = since + 1 >= MEMORY_DURABLE_EVERY && !HOLDING.with(|h| h.get());
            let durability = if durable {
                self.memory_commits.store(0, Relaxed);
                Durability::Immediate
            } else {
                self.memory_commits.store(since + 1, Relaxed);
                Durability::None
            };
            txn.set_durability(durability)
                .map_err(StoreError::backend("set durability"))?;
            return txn.commit().map_err(StoreError::backend("commit"));
        };
        if group.fault().is_some() {
            // A fault began while this transaction ran: it changes nothing (dropping `txn`
            // rolls it back) rather than become visible with no way to make it durable.
            return Err(self.unavailable());
        }
        let ticket = if matches!(&log, ChangeLog::Recording(changes) if changes.is_empty()) {
            // Nothing changed: no commit, but the answer may rest on what the transaction
            // read, so it waits for every commit so far.
            drop(txn);
            group.last_ticket()
        } else {
            let sequence = group.next_sequence(&slot);
            write_sequence(&txn, sequence).map_err(self.noted(epoch))?;
            txn.set_durability(Durability::None)
                .map_err(StoreError::backend("set durability"))?;
            txn.commit()
                .map_err(StoreError::backend("commit"))
                .map_err(self.noted(epoch))?;
            group.committed(&slot, sequence, &log)
        };
        drop(slot);
        if crate::group_commit::defer(self, ticket) {
            return Ok(());
        }
        group.wait_durable(self, ticket)
    }
}

impl Store for RedbStore {
    fn read(&self) -> Result<Box<dyn ReadTxn>, StoreError> {
        let inner = &self.inner;
        let epoch = inner.group.as_ref().map_or(0, GroupCommit::epoch);
        let txn = inner
            .current_db()?
            .begin_read()
            .map_err(StoreError::backend("begin read"))
            .map_err(inner.noted(epoch))?;
        Ok(Box::new(RedbRead {
            txn,
            noter: Noter {
                inner: Arc::downgrade(inner),
                epoch,
            },
        }))
    }

    fn write(&self) -> Result<Box<dyn WriteTxn + '_>, StoreError> {
        let inner = &self.inner;
        let slot = inner.group.as_ref().map(GroupCommit::acquire_slot);
        let mut epoch = 0;
        if let Some(group) = &inner.group {
            if group.fault().is_some() {
                // Normally a recovery is already retrying; this restarts one whose thread
                // could not be started.
                if group.needs_recovery_thread() {
                    inner.spawn_recovery();
                }
                return Err(inner.unavailable());
            }
            // Holding the slot: no recovery can change the epoch until this commits.
            epoch = group.epoch();
        }
        let txn = inner
            .current_db()?
            .begin_write()
            .map_err(StoreError::backend("begin write"))
            .map_err(inner.noted(epoch))?;
        let log = match slot {
            Some(_) => ChangeLog::Recording(Vec::new()),
            None => ChangeLog::Off,
        };
        Ok(Box::new(RedbWrite {
            txn,
            log,
            store: Some(inner),
            noter: Noter {
                inner: Arc::downgrade(inner),
                epoch,
            },
            slot,
        }))
    }

    fn fault(&self) -> Option<String> {
        self.inner.group.as_ref().and_then(GroupCommit::fault)
    }
}

struct RedbRead {
    txn: ReadTransaction,
    noter: Noter,
}

/// Reports a read or write transaction's I/O errors to its store ([`Inner::note_fault`]),
/// so that a fault is noticed (and recovered from) whichever operation meets it first.
#[derive(Clone)]
struct Noter {
    /// Weak: a long read (a backup) does not keep a dropped store's database open.
    inner: Weak<Inner>,
    /// The epoch the transaction began in: errors of a replaced database are not news.
    epoch: u64,
}

impl Noter {
    fn note(&self, err: StoreError) -> StoreError {
        if let Some(inner) = self.inner.upgrade() {
            inner.note_fault(self.epoch, &err);
        }
        err
    }

    fn result<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        r.map_err(|e| self.note(e))
    }

    /// `iter` with each error noted.
    fn iter<'a>(&self, iter: EntryIter<'a>) -> EntryIter<'a> {
        let noter = self.clone();
        Box::new(iter.map(move |r| noter.result(r)))
    }
}

impl RedbRead {
    fn table(&self, table: &str) -> Result<Option<ReadOnlyTable<Bytes, Bytes>>, StoreError> {
        check_table_name(table)?;
        match self.txn.open_table(def(table)) {
            Ok(t) => Ok(Some(t)),
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(StoreError::backend("open table")(e)),
        }
    }
}

fn owned(r: Result<(RawGuard<'_>, RawGuard<'_>), redb::StorageError>) -> Result<Entry, StoreError> {
    let (k, v) = r.map_err(StoreError::backend("range"))?;
    Ok((k.value().to_vec(), v.value().to_vec()))
}

impl RedbRead {
    fn raw_get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(t) = self.table(table)? else {
            return Ok(None);
        };
        Ok(t.get(key)
            .map_err(StoreError::backend("get"))?
            .map(|v| v.value().to_vec()))
    }

    fn raw_range<'a>(
        &'a self,
        table: &str,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<EntryIter<'a>, StoreError> {
        let Some(t) = self.table(table)? else {
            return Ok(Box::new(std::iter::empty()));
        };
        if range_is_empty(start, end) {
            return Ok(Box::new(std::iter::empty()));
        }
        // `ReadOnlyTable::range` is `'static`: it holds the transaction's pages itself.
        let r = t
            .range::<&[u8]>((start, end))
            .map_err(StoreError::backend("range"))?;
        if reverse {
            Ok(Box::new(r.rev().map(owned)))
        } else {
            Ok(Box::new(r.map(owned)))
        }
    }

    fn raw_table_names(&self) -> Result<Vec<String>, StoreError> {
        let mut names = Vec::new();
        for handle in self
            .txn
            .list_tables()
            .map_err(StoreError::backend("list tables"))?
        {
            let name = handle.name();
            if name.starts_with(crate::RESERVED_PREFIX) {
                continue;
            }
            let t = self
                .txn
                .open_table(def(name))
                .map_err(StoreError::backend("open table"))?;
            if !t.is_empty().map_err(StoreError::backend("table length"))? {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }
}

impl ReadTxn for RedbRead {}

struct RedbWrite<'s> {
    /// Declared before `slot`: dropped (rolled back) before the slot is released.
    txn: WriteTransaction,
    /// The changes made so far, for the write-ahead log.
    log: ChangeLog,
    /// `None` for the replay at open, which commits the transaction itself.
    store: Option<&'s Arc<Inner>>,
    noter: Noter,
    /// The store's slot, held until the commit is logged (on disk only).
    slot: Option<Slot<'s>>,
}

impl RedbWrite<'_> {
    /// Opens `table` for writing (creating it). Reads in a write transaction also go
    /// through here; an empty table left behind is invisible by the store's model.
    fn table(
        &self,
        table: &str,
    ) -> Result<redb::Table<'_, &'static [u8], &'static [u8]>, StoreError> {
        check_table_name(table)?;
        self.txn
            .open_table(def(table))
            .map_err(StoreError::backend("open table"))
    }
}

impl RedbWrite<'_> {
    fn raw_get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.table(table)?;
        Ok(t.get(key)
            .map_err(StoreError::backend("get"))?
            .map(|v| v.value().to_vec()))
    }

    fn raw_range<'a>(
        &'a self,
        table: &str,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<EntryIter<'a>, StoreError> {
        check_table_name(table)?;
        if range_is_empty(start, end) {
            return Ok(Box::new(std::iter::empty()));
        }
        Ok(Box::new(WriteRange {
            write: self,
            table: table.to_owned(),
            lower: start.map(<[u8]>::to_vec),
            upper: end.map(<[u8]>::to_vec),
            reverse,
            page: VecDeque::new(),
            exhausted: false,
        }))
    }

    fn raw_table_names(&self) -> Result<Vec<String>, StoreError> {
        let handles: Vec<String> = self
            .txn
            .list_tables()
            .map_err(StoreError::backend("list tables"))?
            .map(|h| h.name().to_owned())
            .filter(|n| !n.starts_with(crate::RESERVED_PREFIX))
            .collect();
        let mut names = Vec::new();
        for name in handles {
            let t = self
                .txn
                .open_table(def(&name))
                .map_err(StoreError::backend("open table"))?;
            if !t.is_empty().map_err(StoreError::backend("table length"))? {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}

impl RedbWrite<'_> {
    fn raw_put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let mut t = self.table(table)?;
        t.insert(key, value).map_err(StoreError::backend("put"))?;
        drop(t);
        self.log.record(&Change::Put(table, key, value));
        Ok(())
    }

    fn raw_put_many(
        &mut self,
        table: &str,
        entries: &mut dyn Iterator<Item = (&[u8], &[u8])>,
    ) -> Result<(), StoreError> {
        // `table` borrows the transaction, not the log.
        check_table_name(table)?;
        let mut t = self
            .txn
            .open_table(def(table))
            .map_err(StoreError::backend("open table"))?;
        for (key, value) in entries {
            t.insert(key, value).map_err(StoreError::backend("put"))?;
            self.log.record(&Change::Put(table, key, value));
        }
        Ok(())
    }

    fn raw_delete(&mut self, table: &str, key: &[u8]) -> Result<bool, StoreError> {
        let mut t = self.table(table)?;
        let removed = t
            .remove(key)
            .map_err(StoreError::backend("delete"))?
            .is_some();
        drop(t);
        if removed {
            self.log.record(&Change::Delete(table, key));
        }
        Ok(removed)
    }

    fn raw_delete_range(
        &mut self,
        table: &str,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> Result<u64, StoreError> {
        check_table_name(table)?;
        if range_is_empty(start, end) {
            return Ok(0);
        }
        let mut t = self.table(table)?;
        let mut removed = 0u64;
        t.retain_in::<&[u8], _>((start, end), |_, _| {
            removed += 1;
            false
        })
        .map_err(StoreError::backend("delete range"))?;
        drop(t);
        if removed > 0 {
            self.log.record(&Change::DeleteRange(table, start, end));
        }
        Ok(removed)
    }

    fn raw_delete_table(&mut self, table: &str) -> Result<bool, StoreError> {
        check_table_name(table)?;
        let had_keys = match self.txn.open_table(def(table)) {
            Ok(t) => !t.is_empty().map_err(StoreError::backend("table length"))?,
            Err(e) => return Err(StoreError::backend("open table")(e)),
        };
        self.txn
            .delete_table(def(table))
            .map_err(StoreError::backend("delete table"))?;
        if had_keys {
            self.log.record(&Change::DeleteTable(table));
        }
        Ok(had_keys)
    }
}

/// Reads through a read or a write transaction: the raw read, with any I/O error it meets
/// noted as the store's fault (so the store heals instead of failing on).
macro_rules! reads_noting_faults {
    ($t:ty) => {
        impl Reads for $t {
            fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
                self.noter.result(self.raw_get(table, key))
            }

            fn range<'a>(
                &'a self,
                table: &str,
                start: Bound<&[u8]>,
                end: Bound<&[u8]>,
                reverse: bool,
            ) -> Result<EntryIter<'a>, StoreError> {
                let iter = self
                    .noter
                    .result(self.raw_range(table, start, end, reverse))?;
                Ok(self.noter.iter(iter))
            }

            fn table_names(&self) -> Result<Vec<String>, StoreError> {
                self.noter.result(self.raw_table_names())
            }
        }
    };
}

reads_noting_faults!(RedbRead);
reads_noting_faults!(RedbWrite<'_>);

impl WriteTxn for RedbWrite<'_> {
    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let r = self.raw_put(table, key, value);
        self.noter.result(r)
    }

    fn put_many(
        &mut self,
        table: &str,
        entries: &mut dyn Iterator<Item = (&[u8], &[u8])>,
    ) -> Result<(), StoreError> {
        let r = self.raw_put_many(table, entries);
        self.noter.result(r)
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool, StoreError> {
        let r = self.raw_delete(table, key);
        self.noter.result(r)
    }

    fn delete_range(
        &mut self,
        table: &str,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> Result<u64, StoreError> {
        let r = self.raw_delete_range(table, start, end);
        self.noter.result(r)
    }

    fn delete_table(&mut self, table: &str) -> Result<bool, StoreError> {
        let r = self.raw_delete_table(table);
        self.noter.result(r)
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let RedbWrite {
            txn,
            log,
            store,
            noter,
            slot,
        } = *self;
        match store {
            Some(store) => store.commit_write(txn, log, noter.epoch, slot),
            // Only the replay makes a write without a store, and it commits by itself.
            None => commit(txn),
        }
    }
}

/// A range over a write transaction, read a page at a time. redb's `Table` borrows the
/// transaction and its `Range` borrows the table, so a lazy iterator cannot hold both;
/// instead each page reopens the table and resumes after the last key returned. The
/// iterator borrows the transaction immutably, so no write can happen while it lives.
struct WriteRange<'a> {
    write: &'a RedbWrite<'a>,
    table: String,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    reverse: bool,
    page: VecDeque<Entry>,
    exhausted: bool,
}

impl WriteRange<'_> {
    fn refill(&mut self) -> Result<(), StoreError> {
        let t = self.write.table(&self.table)?;
        let bounds = (
            self.lower.as_ref().map(Vec::as_slice),
            self.upper.as_ref().map(Vec::as_slice),
        );
        if range_is_empty(bounds.0, bounds.1) {
            self.exhausted = true;
            return Ok(());
        }
        let r = t
            .range::<&[u8]>(bounds)
            .map_err(StoreError::backend("range"))?;
        let iter: Box<dyn Iterator<Item = _>> = if self.reverse {
            Box::new(r.rev())
        } else {
            Box::new(r)
        };
        for item in iter.take(WRITE_RANGE_PAGE) {
            self.page.push_back(owned(item)?);
        }
        match self.page.back() {
            None => self.exhausted = true,
            Some((last, _)) if self.page.len() == WRITE_RANGE_PAGE => {
                if self.reverse {
                    self.upper = Bound::Excluded(last.clone());
                } else {
                    self.lower = Bound::Excluded(last.clone());
                }
            }
            Some(_) => self.exhausted = true,
        }
        Ok(())
    }
}

impl Iterator for WriteRange<'_> {
    type Item = Result<Entry, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.page.is_empty()
            && !self.exhausted
            && let Err(e) = self.refill()
        {
            self.exhausted = true;
            return Some(Err(e));
        }
        self.page.pop_front().map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;

    use super::*;

    fn put(store: &RedbStore, i: u32) {
        let mut w = store.write().unwrap();
        w.put("t", &i.to_be_bytes(), b"v").unwrap();
        w.commit().unwrap();
    }

    /// In memory, commits inside `hold_durable_commits` are never the periodic durable one
    /// (the count of commits since the last durable one keeps growing through the hold); the
    /// first commit after the hold is durable, and every commit stays visible.
    #[test]
    fn held_commits_postpone_the_periodic_durable_commit() {
        let store = RedbStore::in_memory().unwrap();
        let n = 2 * MEMORY_DURABLE_EVERY as u32;
        hold_durable_commits(|| (0..n).for_each(|i| put(&store, i)));
        assert!(store.inner.memory_commits.load(Relaxed) >= u64::from(n));
        put(&store, n);
        assert_eq!(store.inner.memory_commits.load(Relaxed), 0);
        for i in 1..=MEMORY_DURABLE_EVERY as u32 {
            assert_eq!(store.inner.memory_commits.load(Relaxed), u64::from(i) - 1);
            put(&store, n + i);
        }
        // The 64th commit since the durable one is durable again.
        assert_eq!(store.inner.memory_commits.load(Relaxed), 0);
        let r = store.read().unwrap();
        assert_eq!(
            r.scan_prefix("t", b"").unwrap().count() as u64,
            u64::from(n) + 1 + MEMORY_DURABLE_EVERY
        );
        // The hold is scoped: nested holds restore the outer state.
        hold_durable_commits(|| hold_durable_commits(|| ()));
        assert!(!HOLDING.with(|h| h.get()));
    }
}
