//! Group commit for [`crate::RedbStore`]: many writers' commits made durable by one fsync.
//!
//! # Protocol
//!
//! A write transaction commits with redb's `Durability::None` (visible at once, not yet
//! fsynced) and takes a ticket: the number of non-durable commits so far, counted while
//! the commit still... (see [`GroupCommit::committed`] for the exact ordering argument).
//! It then waits until `durable >= ticket`. If no flush is running, the waiter becomes the
//! *leader*: it opens an empty write transaction (which waits for redb's single write slot,
//! so every commit counted before it is already finished), reads the commit counter, and
//! commits that empty transaction with `Durability::Immediate`. redb's durable commit
//! flushes every page written by the earlier non-durable commits and fsyncs once, so all
//! counted commits are now durable: the leader publishes `durable = counter` and wakes every
//! waiter. Writers that arrived during the flush are covered by the next leader.
//!
//! Invariant: `commit` returns `Ok` only after a durable commit that started after this
//! transaction's commit finished, so an acknowledged commit survives `kill -9` and power loss
//! exactly as with a per-commit fsync. What changes is *visibility*: a commit is visible to
//! readers (and to later writers) a few hundred microseconds before it is durable, as in
//! most group-commit databases. A later writer that read it is acknowledged only after its
//! own, later flush, which covers the earlier commit too (flushes are ordered).
//!
//! If the flush fails, the leader's caller gets the error; the other waiters retry with a
//! new leader and get their own answer (error or success). A commit whose flush failed stays
//! visible but unacknowledged: the caller saw an error and cannot assume either outcome.

use std::cell::RefCell;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use redb::{Database, Durability};

use crate::StoreError;

/// The durability bookkeeping shared by every write transaction of one store.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    flushed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Non-durable commits finished so far. Incremented right after a commit returns, so
    /// when a leader (holding redb's write slot) reads it, every counted commit finished
    /// before the leader's transaction began and is covered by its flush.
    committed: u64,
    /// Every commit with a ticket at or below this is durable.
    durable: u64,
    /// A leader is running a durable commit.
    flushing: bool,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is three integers updated together; a panic cannot leave it half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one finished non-durable commit; returns its ticket.
    pub(crate) fn committed(&self) -> u64 {
        let mut s = self.lock();
        s.committed += 1;
        s.committed
    }

    /// Blocks until the commit with `ticket` is durable, leading a flush if none is running.
    pub(crate) fn wait_durable(&self, db: &Database, ticket: u64) -> Result<(), StoreError> {
        let mut s = self.lock();
        loop {
            if s.durable >= ticket {
                return Ok(());
            }
            if s.flushing {
                s = self.flushed.wait(s).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            s.flushing = true;
            drop(s);
            let result = self.flush(db);
            s = self.lock();
            s.flushing = false;
            if let Ok(covered) = result {
                s.durable = s.durable.max(covered);
            }
            self.flushed.notify_all();
            // On failure this caller reports it; the others retry with a new leader.
            result?;
        }
    }

    /// One durable (fsynced) empty commit; returns the ticket it covers.
    fn flush(&self, db: &Database) -> Result<u64, StoreError> {
        let mut txn = db
            .begin_write()
            .map_err(StoreError::backend("begin write"))?;
        // We hold redb's write slot: every commit counted so far has finished.
        let covered = self.lock().committed;
        txn.set_durability(Durability::Immediate)
            .map_err(StoreError::backend("set durability"))?;
        txn.commit().map_err(StoreError::backend("commit"))?;
        Ok(covered)
    }
}

/// Commits whose durability wait was deferred (see [`defer_durability`]).
type Deferred = Vec<(Arc<Database>, Arc<GroupCommit>, u64)>;

thread_local! {
    /// `Some` while this thread runs inside [`defer_durability`].
    static DEFERRED: RefCell<Option<Deferred>> = const { RefCell::new(None) };
}

/// Called by a commit after its non-durable commit: inside [`defer_durability`] records the
/// ticket and returns `true` (the commit returns at once); otherwise returns `false`.
pub(crate) fn defer(db: &Arc<Database>, group: &Arc<GroupCommit>, ticket: u64) -> bool {
    DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(list) => {
            list.push((Arc::clone(db), Arc::clone(group), ticket));
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
    /// store up to the highest ticket). Errors if a flush failed.
    pub fn wait(self) -> Result<(), StoreError> {
        let mut highest: Vec<(Arc<Database>, Arc<GroupCommit>, u64)> = Vec::new();
        for (db, group, ticket) in self.waits {
            match highest.iter_mut().find(|(_, g, _)| Arc::ptr_eq(g, &group)) {
                Some(entry) => entry.2 = entry.2.max(ticket),
                None => highest.push((db, group, ticket)),
            }
        }
        for (db, group, ticket) in highest {
            group.wait_durable(&db, ticket)?;
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
        let group = store.group.clone().unwrap();
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
            let group = store.group.as_ref().unwrap();
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
