//! The write-ahead log of a [`crate::RedbStore`] on disk (`<dir>/catalog.wal`).
//!
//! # Why
//!
//! redb makes a commit durable by writing its dirty pages and fsyncing while it holds the
//! database's single write slot, so no other commit can even start during that fsync. Every
//! commit here is instead committed to redb non-durably (visible at once) and its changes are
//! appended, as a log record, to this file; group commit fsyncs the file without touching
//! redb, so the next commits run while the previous ones are being made durable. Now and
//! then (when the log grows past [`CHECKPOINT_BYTES`], or a transaction was too large to
//! log) a *checkpoint* commits redb durably and empties the log.
//!
//! # Records
//!
//! A record is `[payload length u32][crc32 u32][sequence u64][payload]` (little endian); the
//! crc covers the sequence and the payload. The payload is the transaction's successful
//! changes, in order: `put`, `delete`, `delete_range` and `delete_table`. Each one assigns
//! keys without reading them ("blind" writes), so replaying a run of records over any state
//! that already holds some prefix of them gives the same result as over the state before the
//! first: a key's final value is set by the last change that covers it.
//!
//! Every commit writes its sequence number into the store's meta table in the same redb
//! transaction, so whatever state redb holds after a crash says which record it ends at.
//! Opening replays the records after that one, as long as their sequences are consecutive
//! and their crcs check: a torn tail (a record whose fsync never finished, never
//! acknowledged) ends the replay, and so does a missing sequence (a transaction too large to
//! log, durable only through a checkpoint that the crash prevented; nothing after it was
//! acknowledged either). Records at or below the recorded sequence (left from before a
//! checkpoint) are skipped.

use std::fs::File;
use std::io;
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::Path;

use std::sync::Arc;

use crate::StoreError;
use crate::faults::{self, Faults};

/// The log file inside a data directory.
pub const WAL_FILE: &str = "catalog.wal";

/// Past this many bytes of log, the next flush is a checkpoint (which empties the log).
/// A checkpoint stalls commits while redb writes the pages changed since the last one
/// (measured ~3 ms at this size under a PutItem load, ~55 ms at 16 MiB), so it is kept
/// small; it also bounds the replay after a crash.
pub(crate) const CHECKPOINT_BYTES: u64 = 512 << 10;

/// A transaction whose changes take more than this is not logged: it is made durable by a
/// checkpoint instead (bulk loads such as a restore's batches, which would otherwise be
/// written twice).
pub(crate) const MAX_RECORD_BYTES: usize = 256 << 10;

const HEADER: usize = 16;

/// How much a recovery writes to see whether the disk takes data again (see
/// [`WalFile::probe`]): a few checkpoints' worth of log pages.
const PROBE_BYTES: usize = 64 << 10;

const PUT: u8 = 1;
const DELETE: u8 = 2;
const DELETE_RANGE: u8 = 3;
const DELETE_TABLE: u8 = 4;

/// One logged change.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change<'a> {
    Put(&'a str, &'a [u8], &'a [u8]),
    Delete(&'a str, &'a [u8]),
    DeleteRange(&'a str, Bound<&'a [u8]>, Bound<&'a [u8]>),
    DeleteTable(&'a str),
}

/// A transaction's changes as they are made: encoded into a record payload, or given up
/// once too large (the transaction then needs a checkpoint).
#[derive(Debug)]
pub(crate) enum ChangeLog {
    /// Nothing is logged (a store without a log).
    Off,
    Recording(Vec<u8>),
    TooLarge,
}

impl ChangeLog {
    pub(crate) fn record(&mut self, change: &Change<'_>) {
        let Self::Recording(buf) = self else {
            return;
        };
        match change {
            Change::Put(table, key, value) => {
                buf.push(PUT);
                put_bytes(buf, table.as_bytes());
                put_bytes(buf, key);
                put_bytes(buf, value);
            }
            Change::Delete(table, key) => {
                buf.push(DELETE);
                put_bytes(buf, table.as_bytes());
                put_bytes(buf, key);
            }
            Change::DeleteRange(table, start, end) => {
                buf.push(DELETE_RANGE);
                put_bytes(buf, table.as_bytes());
                put_bound(buf, *start);
                put_bound(buf, *end);
            }
            Change::DeleteTable(table) => {
                buf.push(DELETE_TABLE);
                put_bytes(buf, table.as_bytes());
            }
        }
        if buf.len() > MAX_RECORD_BYTES {
            *self = Self::TooLarge;
        }
    }
}

fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    // Keys, values and table names are far below 4 GiB (redb's own limit is lower).
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(bytes);
}

fn put_bound(buf: &mut Vec<u8>, bound: Bound<&[u8]>) {
    match bound {
        Bound::Unbounded => buf.push(0),
        Bound::Included(b) => {
            buf.push(1);
            put_bytes(buf, b);
        }
        Bound::Excluded(b) => {
            buf.push(2);
            put_bytes(buf, b);
        }
    }
}

/// Appends one framed record to `out`.
pub(crate) fn append_record(out: &mut Vec<u8>, seq: u64, payload: &[u8]) {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&seq.to_le_bytes());
    crc.update(payload);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
}

/// The records of a log, in file order, up to the first torn or corrupt one.
pub(crate) fn records(log: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut rest = log;
    std::iter::from_fn(move || {
        let header = rest.get(..HEADER)?;
        let len = u32::from_le_bytes(header[0..4].try_into().ok()?) as usize;
        let crc = u32::from_le_bytes(header[4..8].try_into().ok()?);
        let seq = u64::from_le_bytes(header[8..16].try_into().ok()?);
        let payload = rest.get(HEADER..HEADER.checked_add(len)?)?;
        let mut check = crc32fast::Hasher::new();
        check.update(&seq.to_le_bytes());
        check.update(payload);
        if check.finalize() != crc {
            return None;
        }
        rest = &rest[HEADER + len..];
        Some((seq, payload))
    })
}

/// The records to replay over a state that ends at record `after`: those with the
/// sequences right after it, consecutive, skipping older ones left from before a checkpoint.
pub(crate) fn replayable(log: &[u8], after: u64) -> Vec<(u64, &[u8])> {
    let mut next = after + 1;
    let mut out = Vec::new();
    for (seq, payload) in records(log) {
        if seq <= after {
            continue;
        }
        if seq != next {
            break;
        }
        out.push((seq, payload));
        next += 1;
    }
    out
}

/// The changes of one record's payload; `Err` if it does not decode (a record whose crc
/// checked but that this build cannot read: refuse rather than guess).
pub(crate) fn changes(seq: u64, payload: &[u8]) -> Result<Vec<Change<'_>>, StoreError> {
    let bad = || StoreError::LogRecord { seq };
    let mut r = Reader(payload);
    let mut out = Vec::new();
    while let Some(tag) = r.byte() {
        let table = std::str::from_utf8(r.bytes().ok_or_else(bad)?).map_err(|_| bad())?;
        out.push(match tag {
            PUT => Change::Put(
                table,
                r.bytes().ok_or_else(bad)?,
                r.bytes().ok_or_else(bad)?,
            ),
            DELETE => Change::Delete(table, r.bytes().ok_or_else(bad)?),
            DELETE_RANGE => Change::DeleteRange(
                table,
                r.bound().ok_or_else(bad)?,
                r.bound().ok_or_else(bad)?,
            ),
            DELETE_TABLE => Change::DeleteTable(table),
            _ => return Err(bad()),
        });
    }
    Ok(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(self.0.get(..4)?.try_into().ok()?) as usize;
        let out = self.0.get(4..4usize.checked_add(len)?)?;
        self.0 = &self.0[4 + len..];
        Some(out)
    }

    fn bound(&mut self) -> Option<Bound<&'a [u8]>> {
        match self.byte()? {
            0 => Some(Bound::Unbounded),
            1 => Some(Bound::Included(self.bytes()?)),
            2 => Some(Bound::Excluded(self.bytes()?)),
            _ => None,
        }
    }
}

/// The open log file. Only the group-commit leader writes it (one at a time).
#[derive(Debug)]
pub(crate) struct WalFile {
    file: File,
    /// Bytes written so far (where the next record goes).
    len: std::sync::atomic::AtomicU64,
    /// Injected write failures (tests only).
    faults: Option<Arc<Faults>>,
}

impl WalFile {
    /// Opens (creating) the log and reads all of it.
    pub(crate) fn open(
        dir: &Path,
        faults: Option<Arc<Faults>>,
    ) -> Result<(Self, Vec<u8>), StoreError> {
        let path = dir.join(WAL_FILE);
        let io = StoreError::log("open");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // The file's directory entry must survive power loss too, or a new log could vanish
        // with the records in it.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::log("sync its directory"))?;
        let wal = Self {
            file,
            len: std::sync::atomic::AtomicU64::new(0),
            faults,
        };
        let content = wal.read_all()?;
        Ok((wal, content))
    }

    /// Reads the whole log (for a replay: at open, or when the store reopens after an I/O
    /// error), and takes its length as where the next record goes.
    pub(crate) fn read_all(&self) -> Result<Vec<u8>, StoreError> {
        // Read at offset 0 rather than from the file's cursor, which a first read left at
        // the end; nothing else writes the file meanwhile (the caller holds every writer off).
        let content = self
            .file
            .metadata()
            .and_then(|m| {
                let mut content = vec![0; usize::try_from(m.len()).map_err(io::Error::other)?];
                self.file.read_exact_at(&mut content, 0)?;
                Ok(content)
            })
            .map_err(StoreError::log("read"))?;
        self.len
            .store(content.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(content)
    }

    pub(crate) fn len(&self) -> u64 {
        self.len.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Appends `bytes` and fsyncs (data only: the size is part of what `fdatasync` flushes).
    pub(crate) fn append_durably(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let at = self.len();
        faults::check(self.faults.as_ref())
            .and_then(|()| self.file.write_all_at(bytes, at))
            .and_then(|()| self.file.sync_data())
            .map_err(StoreError::log("append"))?;
        self.len.store(
            at + bytes.len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        Ok(())
    }

    /// Whether the log's disk takes data again (after an I/O error): writes
    /// [`PROBE_BYTES`] of zeros past the last record, fsyncs them and cuts them off again,
    /// with anything a failed append left there. Lets a recovery wait for a freed disk
    /// without trying redb's own durable commit, whose failure would stop redb serving even
    /// reads until it is reopened.
    pub(crate) fn probe(&self) -> Result<(), StoreError> {
        let at = self.len();
        let written = faults::check(self.faults.as_ref())
            .and_then(|()| self.file.write_all_at(&vec![0; PROBE_BYTES], at))
            .and_then(|()| self.file.sync_data());
        let cut = self.file.set_len(at);
        written
            .and(cut)
            .map_err(StoreError::log("probe for free space"))
    }

    /// Empties the log (after a checkpoint made every record in it redundant). Not fsynced:
    /// records left by a lost truncation are older than the checkpoint and skipped.
    pub(crate) fn truncate(&self) -> Result<(), StoreError> {
        faults::check(self.faults.as_ref())
            .and_then(|()| self.file.set_len(0))
            .map_err(StoreError::log("truncate"))?;
        self.len.store(0, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(changes: &[Change<'_>]) -> Vec<u8> {
        let mut log = ChangeLog::Recording(Vec::new());
        for c in changes {
            log.record(c);
        }
        match log {
            ChangeLog::Recording(p) => p,
            other => panic!("not recording: {other:?}"),
        }
    }

    #[test]
    fn changes_round_trip() {
        let all = [
            Change::Put("t", b"k", b"v"),
            Change::Put("tab\u{e9}", b"", b""),
            Change::Delete("t", b"k"),
            Change::DeleteRange("t", Bound::Included(b"a"), Bound::Excluded(b"z")),
            Change::DeleteRange("u", Bound::Unbounded, Bound::Included(b"\x00")),
            Change::DeleteTable("t"),
        ];
        let p = payload(&all);
        assert_eq!(changes(1, &p).unwrap(), all);
        assert!(
            changes(1, &p[..p.len() - 1]).is_err(),
            "a cut payload is refused"
        );
        assert!(
            changes(1, &[9, 0, 0, 0, 0]).is_err(),
            "an unknown tag is refused"
        );
    }

    #[test]
    fn a_torn_or_corrupt_record_ends_the_log() {
        let mut log = Vec::new();
        for seq in 1..=3 {
            append_record(&mut log, seq, &payload(&[Change::Put("t", b"k", b"v")]));
        }
        let whole = log.len();
        assert_eq!(records(&log).count(), 3);
        assert_eq!(records(&log[..whole - 1]).count(), 2, "torn tail");
        let mut flipped = log.clone();
        flipped[whole / 2] ^= 1;
        assert_eq!(records(&flipped).count(), 1, "corrupt middle record");
        assert_eq!(records(&[]).count(), 0);
        assert_eq!(records(&[1, 2, 3]).count(), 0);
    }

    #[test]
    fn replay_takes_consecutive_records_after_the_state() {
        let p = payload(&[Change::Delete("t", b"k")]);
        let mut log = Vec::new();
        for seq in [4, 5, 6, 7, 9, 10] {
            append_record(&mut log, seq, &p);
        }
        let seqs = |after| -> Vec<u64> { replayable(&log, after).iter().map(|r| r.0).collect() };
        assert_eq!(seqs(3), [4, 5, 6, 7], "stops at the missing 8");
        assert_eq!(seqs(5), [6, 7], "skips what the state holds");
        assert_eq!(seqs(7), Vec::<u64>::new(), "8 missing: nothing after it");
        assert_eq!(seqs(8), [9, 10]);
        assert_eq!(seqs(1), Vec::<u64>::new(), "2 and 3 missing");
    }

    #[test]
    fn an_oversized_transaction_is_not_logged() {
        let big = vec![0u8; MAX_RECORD_BYTES / 2];
        let mut log = ChangeLog::Recording(Vec::new());
        log.record(&Change::Put("t", b"a", &big));
        assert!(matches!(log, ChangeLog::Recording(_)));
        log.record(&Change::Put("t", b"b", &big));
        assert!(matches!(log, ChangeLog::TooLarge));
        log.record(&Change::Delete("t", b"a"));
        assert!(matches!(log, ChangeLog::TooLarge), "stays given up");
    }
}
