//! Group commit for [`crate::RedbStore`] on disk: many writers' commits made durable by one
//! fsync of the write-ahead log (`wal.rs`), without holding redb's write slot.
//!
//! # Protocol
//!
//! A write transaction holds the store's *slot* (see [`GroupCommit::acquire_slot`]) from
//! its start until its commit is logged. Committing writes the transaction's sequence number
//! (the number of commits so far, plus one) into the meta table, commits to redb with
//! `Durability::None` (visible at once, not yet durable), then appends the transaction's
//! changes to the in-memory log tail as a record with that sequence, and releases the slot.
//! Sequences therefore follow commit order, and so do the records.
//!
//! The commit then waits until `durable >= sequence`. If no flush is running, the waiter
//! becomes the *leader*: it takes the log tail (every record up to the current sequence),
//! appends it to `catalog.wal` and fsyncs the file, then publishes `durable` and wakes every
//! waiter. Commits go on meanwhile: the leader holds neither the slot nor redb's write slot.
//!
//! A leader runs a *checkpoint* instead when the log file has grown past
//! [`wal::CHECKPOINT_BYTES`], when a commit was too large to log, or after a log write
//! failed: it takes the slot, commits an empty redb transaction with
//! `Durability::Immediate` (redb writes every page of the earlier non-durable commits and
//! fsyncs once), drops the log tail (redb now holds those commits durably) and empties the
//! log file.
//!
//! Invariant: `commit` returns `Ok` only after its record is fsynced in the log, behind
//! every earlier record (or after a checkpoint that followed it), so an acknowledged commit
//! survives `kill -9` and power loss exactly as with a per-commit fsync: opening the store
//! replays the log over what redb holds. What changes is *visibility*: a commit is visible
//! to readers (and to later writers) shortly before it is durable, as in most group-commit
//! databases. A later writer that read it is acknowledged only after its own, later flush,
//! which covers the earlier commit too (flushes are ordered).
//!
//! # Faults
//!
//! An I/O error (a full disk, EIO) in a flush, a checkpoint or redb itself puts the store in
//! a *fault* ([`GroupCommit::fail`]): the leader's caller gets the error, every waiter whose
//! commit is not durable yet gets [`StoreError::Unavailable`] (never a false
//! acknowledgement), and new write transactions are refused until a recovery
//! (`RedbStore`'s, in the background) has made the store whole again: either a checkpoint
//! on the open database succeeds (only the log had failed), or the database is reopened and
//! the log replayed exactly as at start-up. A reopen starts a new *epoch*: sequences restart
//! from what the reopened store holds, so a ticket is only compared within its epoch. A
//! commit whose flush failed may survive or not (it was never acknowledged), but whole or
//! not at all: a record is replayed entirely or not at all.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use redb::{Database, Durability};

use crate::StoreError;
use crate::redb_store::Inner;
use crate::wal::{self, ChangeLog, WalFile};

/// The durability bookkeeping shared by every write transaction of one store on disk.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    flushed: Condvar,
    /// Whether a write transaction (or a checkpoint, or a recovery) holds the slot.
    slot: Mutex<bool>,
    slot_free: Condvar,
    pub(crate) wal: WalFile,
    /// The current epoch (see the module docs), readable without the state lock (every
    /// read transaction records it); changed only under the state lock.
    epoch: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    /// Sequence of the last commit (set while its transaction still holds the slot).
    committed: u64,
    /// Every commit with a sequence at or below this is durable.
    durable: u64,
    /// A leader is running a flush (or a recovery is running).
    flushing: bool,
    /// The highest commit without a log record (too large to log): only a checkpoint makes
    /// it durable.
    unlogged: u64,
    /// A log write or truncation failed: the file may end in a torn record, so nothing more
    /// is appended until a checkpoint has emptied it.
    log_broken: bool,
    /// Records not yet written to the log file, in sequence order.
    tail: Vec<u8>,
    /// An emptied buffer kept for the next tail (saves reallocating it every flush).
    spare: Vec<u8>,
    /// Why the store stopped writing (an I/O error), until a recovery succeeds.
    fault: Option<String>,
    /// A recovery is scheduled or running.
    recovering: bool,
    /// The epoch before the current one, and what was durable in it when it ended.
    retired: Ticket,
}

/// What a commit waits for: its sequence, in the epoch it committed in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ticket {
    epoch: u64,
    seq: u64,
}

/// The store's slot, held by one write transaction (or checkpoint) at a time; released on
/// drop. A plain `MutexGuard` cannot be held by a `Send` transaction.
#[derive(Debug)]
pub(crate) struct Slot<'a>(&'a GroupCommit);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.slot.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.0.slot_free.notify_one();
    }
}

/// Held by a recovery: no flush runs and no write transaction is open (see
/// [`GroupCommit::hold_for_recovery`]). Lets flushes run again when dropped.
pub(crate) struct RecoveryHold<'a> {
    group: &'a GroupCommit,
    _slot: Slot<'a>,
}

impl Drop for RecoveryHold<'_> {
    fn drop(&mut self) {
        self.group.lock().flushing = false;
        self.group.flushed.notify_all();
    }
}

impl GroupCommit {
    /// Bookkeeping over `wal`, for a store whose last commit (durable) is `committed`.
    pub(crate) fn new(wal: WalFile, committed: u64) -> Self {
        Self {
            state: Mutex::new(State {
                committed,
                durable: committed,
                ..State::default()
            }),
            flushed: Condvar::new(),
            slot: Mutex::new(false),
            slot_free: Condvar::new(),
            wal,
            epoch: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is updated in whole steps; a panic cannot leave it half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the slot and takes it.
    pub(crate) fn acquire_slot(&self) -> Slot<'_> {
        let mut busy = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        while *busy {
            busy = self.slot_free.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        *busy = true;
        Slot(self)
    }

    /// The current epoch.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Why the store refuses writes, if it does.
    pub(crate) fn fault(&self) -> Option<String> {
        self.lock().fault.clone()
    }

    /// Puts the store in a fault for `reason`, unless `epoch` has already ended (an error
    /// from a database that a recovery has since replaced). Wakes every waiter, which then
    /// fails unless its commit is durable. Returns whether the caller must start a recovery
    /// (none is scheduled yet).
    pub(crate) fn fail(&self, epoch: u64, reason: String) -> bool {
        let mut s = self.lock();
        if epoch != self.epoch() {
            return false;
        }
        // The first cause is the one to report; what follows is usually its consequence.
        s.fault.get_or_insert(reason);
        self.flushed.notify_all();
        !std::mem::replace(&mut s.recovering, true)
    }

    /// Records that a recovery attempt failed with `reason` (the fault stays; the cause
    /// reported becomes the latest one, which may have changed).
    pub(crate) fn still_failing(&self, reason: String) {
        self.lock().fault = Some(reason);
    }

    /// Records that no recovery is running after all (its thread could not start): the next
    /// write attempt starts one.
    pub(crate) fn recovery_not_running(&self) {
        self.lock().recovering = false;
    }

    /// Whether a fault waits for a recovery that nobody runs; if so, the caller must start
    /// one (and this records that one is running).
    pub(crate) fn needs_recovery_thread(&self) -> bool {
        let mut s = self.lock();
        s.fault.is_some() && !std::mem::replace(&mut s.recovering, true)
    }

    /// Waits until no flush runs, then holds off flushes and write transactions until the
    /// returned hold is dropped. Lock order as a checkpoint's: the flush, then the slot.
    pub(crate) fn hold_for_recovery(&self) -> RecoveryHold<'_> {
        let mut s = self.lock();
        while s.flushing {
            s = self.flushed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.flushing = true;
        drop(s);
        RecoveryHold {
            group: self,
            _slot: self.acquire_slot(),
        }
    }

    /// The sequence of the last commit (call holding a recovery hold).
    pub(crate) fn last_committed(&self, _hold: &RecoveryHold<'_>) -> u64 {
        self.lock().committed
    }

    /// A recovery made every commit up to `covered` durable in the open database (and
    /// emptied the log): the fault is over, in the same epoch.
    pub(crate) fn healed(&self, _hold: &RecoveryHold<'_>, covered: u64) {
        let mut s = self.lock();
        s.durable = s.durable.max(covered);
        s.tail.clear();
        s.log_broken = false;
        s.fault = None;
        s.recovering = false;
    }

    /// A recovery reopened the database, which now holds every commit up to `last` durably
    /// (the log replayed and emptied): the fault is over, and a new epoch starts.
    pub(crate) fn reopened(&self, _hold: &RecoveryHold<'_>, last: u64) {
        let mut s = self.lock();
        let epoch = self.epoch();
        s.retired = Ticket {
            epoch,
            seq: s.durable,
        };
        self.epoch.store(epoch + 1, Ordering::Release);
        s.committed = last;
        s.durable = last;
        s.unlogged = 0;
        s.tail.clear();
        s.log_broken = false;
        s.fault = None;
        s.recovering = false;
    }

    /// The sequence the next commit gets (call holding the slot).
    pub(crate) fn next_sequence(&self, _slot: &Slot<'_>) -> u64 {
        self.lock().committed + 1
    }

    /// The ticket of the last commit: a transaction that changed nothing waits for this
    /// one, since it may have read it.
    pub(crate) fn last_ticket(&self) -> Ticket {
        let seq = self.lock().committed;
        Ticket {
            epoch: self.epoch(),
            seq,
        }
    }

    /// Records the redb commit of `sequence` (call holding the slot, right after the commit)
    /// and queues its changes for the log; returns its ticket.
    pub(crate) fn committed(&self, _slot: &Slot<'_>, sequence: u64, log: &ChangeLog) -> Ticket {
        let mut s = self.lock();
        s.committed = sequence;
        match log {
            ChangeLog::Recording(changes)
                if self.wal.len() + (s.tail.len() + changes.len()) as u64
                    <= wal::CHECKPOINT_BYTES =>
            {
                wal::append_record(&mut s.tail, sequence, changes);
            }
            // Too large to log, or the log is due a checkpoint anyway (which will cover
            // this commit and every logged one before it): drop the tail rather than keep
            // records no flush will write. Bounds the tail when commits outrun the flushes
            // (a restore's batches, which wait only for the last one).
            _ => {
                s.tail.clear();
                s.unlogged = sequence;
            }
        }
        Ticket {
            epoch: self.epoch(),
            seq: sequence,
        }
    }

    /// Blocks until the commit with `ticket` is durable, leading a flush if none is running.
    /// Fails if the store is in a fault (or the ticket's epoch ended) before that.
    pub(crate) fn wait_durable(
        &self,
        inner: &Arc<Inner>,
        ticket: Ticket,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        loop {
            if ticket.epoch != self.epoch() {
                // Its epoch ended in a fault: acknowledged only if it was durable by then.
                if ticket.epoch == s.retired.epoch && ticket.seq <= s.retired.seq {
                    return Ok(());
                }
                return Err(StoreError::Unavailable {
                    reason: s
                        .fault
                        .clone()
                        .unwrap_or_else(|| "the store was reopened after an I/O error".into()),
                });
            }
            if s.durable >= ticket.seq {
                return Ok(());
            }
            if let Some(reason) = &s.fault {
                return Err(StoreError::Unavailable {
                    reason: reason.clone(),
                });
            }
            if s.flushing {
                s = self.flushed.wait(s).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            s.flushing = true;
            drop(s);
            let result = inner.current_db().and_then(|db| self.flush(&db));
            if let Err(e) = &result {
                // Before the flush is over, so no waiter takes the lead meanwhile.
                inner.note_fault(ticket.epoch, e);
            }
            s = self.lock();
            s.flushing = false;
            if let Ok(covered) = result {
                s.durable = s.durable.max(covered);
            }
            self.flushed.notify_all();
            // On failure this caller reports it; the others fail too if it was a fault,
            // or retry with a new leader.
            result?;
        }
    }

    /// Makes every commit so far durable (log append, or checkpoint); returns the sequence
    /// it covers. Only the leader runs this.
    fn flush(&self, db: &Database) -> Result<u64, StoreError> {
        let (mut records, covered) = {
            let mut s = self.lock();
            let checkpoint = s.log_broken
                || s.unlogged > s.durable
                || self.wal.len() + s.tail.len() as u64 > wal::CHECKPOINT_BYTES;
            if checkpoint {
                drop(s);
                return self.checkpoint(db);
            }
            let spare = std::mem::take(&mut s.spare);
            (std::mem::replace(&mut s.tail, spare), s.committed)
        };
        let written = if records.is_empty() {
            Ok(())
        } else {
            self.wal.append_durably(&records)
        };
        records.clear();
        let mut s = self.lock();
        s.spare = records;
        if written.is_err() {
            s.log_broken = true;
        }
        written.map(|()| covered)
    }

    /// Commits redb durably and empties the log; returns the sequence it covers.
    fn checkpoint(&self, db: &Database) -> Result<u64, StoreError> {
        let slot = self.acquire_slot();
        let covered = self.lock().committed;
        sync_redb(db)?;
        // Every record in the tail is at or below `covered` (we hold the slot), now durable
        // in redb itself.
        self.lock().tail.clear();
        drop(slot);
        // Only a leader appends, so nothing is written between the commit and this. If it
        // fails, the old records (all at or below `covered`) stay, skipped by a replay, and
        // the next flush checkpoints again rather than append after a possibly torn record.
        let truncated = self.wal.truncate();
        self.lock().log_broken = truncated.is_err();
        Ok(covered)
    }
}

/// Commits an empty transaction durably: redb writes every page of the earlier non-durable
/// commits and fsyncs once.
pub(crate) fn sync_redb(db: &Database) -> Result<(), StoreError> {
    let mut txn = db
        .begin_write()
        .map_err(StoreError::backend("begin write"))?;
    txn.set_durability(Durability::Immediate)
        .map_err(StoreError::backend("set durability"))?;
    txn.commit().map_err(StoreError::backend("commit"))
}

/// Commits whose durability wait was deferred (see [`defer_durability`]).
type Deferred = Vec<(Arc<Inner>, Ticket)>;

thread_local! {
    /// `Some` while this thread runs inside [`defer_durability`].
    static DEFERRED: RefCell<Option<Deferred>> = const { RefCell::new(None) };
}

/// Called by a commit after its non-durable commit: inside [`defer_durability`] records the
/// ticket and returns `true` (the commit returns at once); otherwise returns `false`.
pub(crate) fn defer(inner: &Arc<Inner>, ticket: Ticket) -> bool {
    DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(list) => {
            list.push((Arc::clone(inner), ticket));
            true
        }
        None => false,
    })
}

/// Runs `f` with every [`crate::RedbStore`] commit on this thread returning as soon as the
/// commit is visible, *before* it is durable; the returned [`PendingDurability`] is what must
/// be waited for before anyone is told those commits happened.
///
/// This lets one thread execute many writes back to back while another thread waits for the
/// fsync that covers them (group commit without a thread per waiting writer). Callers must
/// not acknowledge the result of `f` until [`PendingDurability::wait`] returned `Ok`.
/// Stores without durable commits (in memory) never defer.
pub fn defer_durability<R>(f: impl FnOnce() -> R) -> (R, PendingDurability) {
    let outer = DEFERRED.with(|d| d.borrow_mut().replace(Vec::new()));
    // Restores the outer scope even if `f` panics, so a later commit on this thread cannot
    // be silently deferred by a scope that no longer exists.
    struct Restore(Option<Option<Deferred>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(outer) = self.0.take() {
                DEFERRED.with(|d| *d.borrow_mut() = outer);
            }
        }
    }
    let restore = Restore(Some(outer));
    let result = f();
    let mine = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
    drop(restore);
    (result, PendingDurability { waits: mine })
}

/// Commits that are visible but not yet known durable (from [`defer_durability`]).
#[must_use = "the deferred commits are not durable until `wait` returns Ok"]
#[derive(Default)]
pub struct PendingDurability {
    waits: Deferred,
}

impl std::fmt::Debug for PendingDurability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingDurability")
            .field("commits", &self.waits.len())
            .finish()
    }
}

impl PendingDurability {
    /// Whether nothing waits (no commit, or only commits that were durable already).
    pub fn is_empty(&self) -> bool {
        self.waits.is_empty()
    }

    /// Adds `other`'s commits to this set.
    pub fn merge(&mut self, other: PendingDurability) {
        self.waits.extend(other.waits);
    }

    /// Blocks until every commit in the set is durable (one flush covers all commits of a
    /// store's epoch up to the highest ticket). Errors if a flush failed or the store is in
    /// a fault.
    pub fn wait(self) -> Result<(), StoreError> {
        let mut highest: Deferred = Vec::new();
        for (inner, ticket) in self.waits {
            match highest
                .iter_mut()
                .find(|(i, t)| Arc::ptr_eq(i, &inner) && t.epoch == ticket.epoch)
            {
                Some(entry) => entry.1.seq = entry.1.seq.max(ticket.seq),
                None => highest.push((inner, ticket)),
            }
        }
        for (inner, ticket) in highest {
            if let Some(group) = &inner.group {
                group.wait_durable(&inner, ticket)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{RedbStore, Store};

    /// Many threads committing at once all get acknowledged, each sees its own write, and
    /// everything is there after reopening (the last flush covered every commit).
    /// Inside `defer_durability` a commit returns before its flush; `wait` then makes it
    /// durable. Outside, commits wait for themselves again.
    #[test]
    fn deferred_commits_become_durable_on_wait() {
        let tmp = tempfile::tempdir().unwrap();
        let store = RedbStore::open(tmp.path()).unwrap();
        let group = store.inner.group.as_ref().unwrap();
        let ((), pending) = crate::defer_durability(|| {
            for i in 0u8..5 {
                let mut w = store.write().unwrap();
                w.put("t", &[i], b"v").unwrap();
                w.commit().unwrap();
            }
        });
        assert_eq!(format!("{pending:?}"), "PendingDurability { commits: 5 }");
        {
            let s = group.lock();
            assert_eq!(s.committed, 5);
            assert_eq!(s.durable, 0, "nothing was flushed inside the scope");
        }
        pending.wait().unwrap();
        assert_eq!(group.lock().durable, 5);
        let mut w = store.write().unwrap();
        w.put("t", &[9], b"v").unwrap();
        w.commit().unwrap();
        assert_eq!(
            group.lock().durable,
            6,
            "outside the scope a commit waits for its flush"
        );
        let ((), none) = crate::defer_durability(|| ());
        assert!(none.is_empty());
    }

    #[test]
    fn concurrent_commits_are_all_durable_after_reopen() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let store = RedbStore::open(tmp.path()).unwrap();
            std::thread::scope(|scope| {
                for t in 0u32..8 {
                    let store = &store;
                    scope.spawn(move || {
                        for i in 0u32..40 {
                            let key = [t.to_be_bytes(), i.to_be_bytes()].concat();
                            let mut w = store.write().unwrap();
                            w.put("t", &key, b"v").unwrap();
                            w.commit().unwrap();
                            assert_eq!(
                                store.read().unwrap().get("t", &key).unwrap(),
                                Some(b"v".to_vec())
                            );
                        }
                    });
                }
            });
            let group = store.inner.group.as_ref().unwrap();
            let s = group.lock();
            assert_eq!(s.committed, 320);
            assert_eq!(
                s.durable, 320,
                "every acknowledged commit is covered by a flush"
            );
        }
        let store = RedbStore::open(tmp.path()).unwrap();
        let r = store.read().unwrap();
        assert_eq!(
            r.range(
                "t",
                std::ops::Bound::Unbounded,
                std::ops::Bound::Unbounded,
                false
            )
            .unwrap()
            .count(),
            320
        );
    }
}
