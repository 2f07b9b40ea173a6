//! The embedded transactional store behind tidemark's catalog: a small object-safe trait
//! ([`Store`]) with a redb implementation ([`RedbStore`]) and a pure-Rust twin ([`MemStore`]).
//!
//! # Model
//!
//! A store holds named tables; a table maps byte keys to byte values in byte order. Tables
//! are implicit: writing a key creates its table, and a table with no keys is
//! indistinguishable from a missing one (reading it yields nothing, never an error, and
//! [`Reads::table_names`] lists only non-empty tables). Names starting with
//! [`RESERVED_PREFIX`] are the store's own and refused.
//!
//! # Transactions
//!
//! * [`Store::read`] opens an MVCC snapshot ([`ReadTxn`]): it sees exactly the commits that
//!   finished before it was opened, never blocks writers and is never blocked by them. It is
//!   owned (`'static`) and `Send`, so a backup can stream a whole table from one consistent
//!   snapshot on its own thread while commits go on.
//! * [`Store::write`] opens the single write transaction ([`WriteTxn`]); a second caller
//!   waits until the first commits or drops. A write transaction sees its own writes. It
//!   becomes visible atomically on [`WriteTxn::commit`]; dropped without commit it is
//!   rolled back.
//!
//! # Durability
//!
//! [`RedbStore::open`]: when `commit` returns, the data is fsynced and survives `kill -9` or
//! power loss (tested by killing a child process with SIGKILL right after it reports
//! commits, and by copying the files after every commit, see `tests/durability.rs`).
//! Concurrent commits share one fsync (group commit, `group_commit.rs`): each commits to
//! redb non-durably and appends its changes to a write-ahead log (`wal.rs`); the first
//! waiter fsyncs the log for everyone, without holding redb's write slot, and now and then a
//! checkpoint commits redb durably and empties the log. A commit is therefore visible to
//! readers shortly before `commit` returns to its writer; it is acknowledged only once
//! durable. [`RedbStore::in_memory`] and [`MemStore`] keep nothing once dropped.
//!
//! # Faults
//!
//! On disk, an I/O error (a full disk, EIO) puts a [`RedbStore`] in a *fault*: write
//! transactions are refused with [`StoreError::Unavailable`], commits not yet durable fail
//! (never a false acknowledgement), reads go on while the database can still be read, and
//! [`Store::fault`] names the error. A background thread retries, with backoff, until the
//! files can be written again: a durable commit of the open database, or else reopening
//! it and replaying the log as at start-up. Then writes resume, with every acknowledged
//! commit kept, no restart needed (`tests/faults.rs`).
//!
//! # On-disk format
//!
//! `RedbStore::open(dir)` keeps everything in `<dir>/catalog.redb` plus the write-ahead log
//! `<dir>/catalog.wal`. The reserved table `__tidemark_meta` records `format_version` (a
//! big-endian u32, currently [`FORMAT_VERSION`]) and `wal_sequence`, the last commit redb
//! holds. Opening replays the log after that commit, upgrades a version 1 store (from before
//! the log) to 2, and refuses a newer or unknown version, and a redb file without that
//! record that already holds tables, with [`StoreError::UnsupportedFormat`] /
//! [`StoreError::NotATidemarkStore`].
//!
//! Keys for composite records are built with [`keys`], whose encodings sort bytewise in
//! the same order as the values they encode.

mod error;
mod faults;
mod group_commit;
pub mod keys;
mod mem_store;
mod redb_store;
mod segmented;
mod wal;

use std::ops::Bound;

pub use error::StoreError;
#[doc(hidden)]
pub use faults::{DISK_FULL, Faults, IO_ERROR};
pub use group_commit::{PendingDurability, defer_durability};
pub use mem_store::MemStore;
pub use redb_store::{RedbStore, hold_durable_commits};

/// The on-disk format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;

/// Table names starting with this are reserved for the store itself.
pub const RESERVED_PREFIX: &str = "__tidemark";

/// One key/value pair read from a table.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A stream of entries in key order (or reverse key order).
pub type EntryIter<'a> = Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send + 'a>;

/// A transactional key/value store with MVCC read snapshots. Object safe: services hold
/// `Arc<dyn Store>`.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Opens a read snapshot of everything committed so far. Never blocks on writers.
    fn read(&self) -> Result<Box<dyn ReadTxn>, StoreError>;

    /// Opens the write transaction, waiting while another one is open.
    fn write(&self) -> Result<Box<dyn WriteTxn + '_>, StoreError>;

    /// Why the store refuses writes right now (an I/O error such as a full disk, which it is
    /// retrying to recover from), or `None` when it is healthy.
    fn fault(&self) -> Option<String> {
        None
    }
}

/// Reading, shared by read snapshots and write transactions.
pub trait Reads {
    /// The value under `key`, or `None` (also when the table does not exist).
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// The entries with keys between `start` and `end`, in ascending key order or, with
    /// `reverse`, descending. An empty or inverted range yields nothing.
    fn range<'a>(
        &'a self,
        table: &str,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<EntryIter<'a>, StoreError>;

    /// The names of the tables holding at least one key, sorted.
    fn table_names(&self) -> Result<Vec<String>, StoreError>;

    /// The entries whose keys start with `prefix`, in key order.
    fn scan_prefix<'a>(&'a self, table: &str, prefix: &[u8]) -> Result<EntryIter<'a>, StoreError> {
        let end = keys::prefix_end(prefix);
        let end_bound = match &end {
            Some(e) => Bound::Excluded(e.as_slice()),
            None => Bound::Unbounded,
        };
        self.range(table, Bound::Included(prefix), end_bound, false)
    }
}

/// A read snapshot. Owned and `Send`: it may outlive the borrow of the store that opened it
/// and move to another thread (for a long streaming read such as a backup).
pub trait ReadTxn: Reads + Send {}

/// The write transaction. Dropping it without [`WriteTxn::commit`] rolls everything back.
pub trait WriteTxn: Reads + Send {
    /// Inserts or replaces the value under `key`, creating the table if needed.
    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError>;

    /// [`WriteTxn::put`] of every pair, in order, into one table (for bulk loads such as a
    /// restore: redb opens the table once instead of once per pair). Stops at the first
    /// error; what was put before it stays in the transaction.
    fn put_many(
        &mut self,
        table: &str,
        entries: &mut dyn Iterator<Item = (&[u8], &[u8])>,
    ) -> Result<(), StoreError> {
        for (key, value) in entries {
            self.put(table, key, value)?;
        }
        Ok(())
    }

    /// Removes `key`; returns whether it was present.
    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool, StoreError>;

    /// Removes every key between `start` and `end`; returns how many were removed.
    fn delete_range(
        &mut self,
        table: &str,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> Result<u64, StoreError>;

    /// Removes a whole table; returns whether it held any key.
    fn delete_table(&mut self, table: &str) -> Result<bool, StoreError>;

    /// Makes every change visible atomically (and, for a file store, durable) before
    /// returning.
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Refuses the store's own table names.
pub(crate) fn check_table_name(table: &str) -> Result<(), StoreError> {
    if table.starts_with(RESERVED_PREFIX) {
        return Err(StoreError::ReservedTable(table.to_owned()));
    }
    Ok(())
}

/// Whether `start..end` cannot contain any key. `BTreeMap::range` panics on such ranges,
/// so both implementations answer them with an empty result before touching the data.
pub(crate) fn range_is_empty(start: Bound<&[u8]>, end: Bound<&[u8]>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e))
        | (Bound::Excluded(s), Bound::Excluded(e)) => s >= e,
        _ => false,
    }
}
