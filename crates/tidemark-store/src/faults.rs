//! Fault injection for tests: makes a store's file writes fail as a full disk (or a failing
//! one) does, so recovery is tested without root, a small filesystem or broken hardware.

use std::io;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

/// A switch shared by a store's files ([`crate::RedbStore::open_with_faults`]): while set to
/// an errno, every write, resize and fsync of `catalog.redb` and `catalog.wal` fails with it.
/// Reads are untouched, as on a full disk.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Faults {
    /// 0: no fault.
    errno: AtomicI32,
}

/// `ENOSPC` on Linux: what a full disk answers.
pub const DISK_FULL: i32 = 28;
/// `EIO` on Linux: what a failing disk answers.
pub const IO_ERROR: i32 = 5;

impl Faults {
    /// Makes every later write fail with `errno` (`None`: stop failing).
    pub fn fail_writes(&self, errno: Option<i32>) {
        self.errno.store(errno.unwrap_or(0), Ordering::SeqCst);
    }

    /// The injected error, if writes are failing now.
    pub(crate) fn check(&self) -> io::Result<()> {
        match self.errno.load(Ordering::SeqCst) {
            0 => Ok(()),
            errno => Err(io::Error::from_raw_os_error(errno)),
        }
    }
}

/// `None`-tolerant [`Faults::check`].
pub(crate) fn check(faults: Option<&Arc<Faults>>) -> io::Result<()> {
    faults.map_or(Ok(()), |f| f.check())
}

/// redb's file backend with [`Faults`] in front of its writes.
#[derive(Debug)]
pub(crate) struct FaultyBackend {
    pub(crate) inner: FileBackend,
    pub(crate) faults: Arc<Faults>,
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.faults.check()?;
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        self.faults.check()?;
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.faults.check()?;
        self.inner.write(offset, data)
    }

    fn close(&self) -> Result<(), io::Error> {
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}
