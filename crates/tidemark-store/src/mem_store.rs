//! [`MemStore`]: a pure-Rust store on copy-on-write `BTreeMap`s, the reference model the
//! redb store is tested against.
//!
//! The committed state is an `Arc<Tables>`. A snapshot clones that `Arc`; a write
//! transaction works on a private copy of the table map whose tables are shared `Arc`s,
//! copied (whole) the first time the transaction writes to them, and commit swaps the new
//! map in. That gives the same snapshot isolation as redb, at the cost of copying each
//! written table once per transaction: fine for tests and small catalogs, which is what
//! this store is for.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::{
    EntryIter, ReadTxn, Reads, Store, StoreError, WriteTxn, check_table_name, range_is_empty,
};

type Table = BTreeMap<Vec<u8>, Vec<u8>>;
/// Invariant: no table in a committed map is empty (empty tables are dropped at commit).
type Tables = BTreeMap<String, Arc<Table>>;

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemStore {
    committed: Mutex<Arc<Tables>>,
    /// `true` while a write transaction is open. A flag plus condvar rather than a held
    /// `MutexGuard` so the transaction stays `Send`.
    writer_busy: Mutex<bool>,
    writer_free: Condvar,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        // A panic while holding these locks cannot leave them inconsistent: each holds a
        // value that is replaced whole.
        m.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemStore {
    fn read(&self) -> Result<Box<dyn ReadTxn>, StoreError> {
        let tables = Arc::clone(&Self::lock(&self.committed));
        Ok(Box::new(MemRead { tables }))
    }

    fn write(&self) -> Result<Box<dyn WriteTxn + '_>, StoreError> {
        let mut busy = Self::lock(&self.writer_busy);
        while *busy {
            busy = self
                .writer_free
                .wait(busy)
                .unwrap_or_else(|p| p.into_inner());
        }
        *busy = true;
        drop(busy);
        let tables = (**Self::lock(&self.committed)).clone();
        Ok(Box::new(MemWrite {
            store: self,
            tables,
        }))
    }
}

fn get_in(tables: &Tables, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
    check_table_name(table)?;
    Ok(tables.get(table).and_then(|t| t.get(key)).cloned())
}

fn range_in<'a>(
    tables: &'a Tables,
    table: &str,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
    reverse: bool,
) -> Result<EntryIter<'a>, StoreError> {
    check_table_name(table)?;
    let Some(t) = tables.get(table) else {
        return Ok(Box::new(std::iter::empty()));
    };
    if range_is_empty(start, end) {
        return Ok(Box::new(std::iter::empty()));
    }
    let r = t
        .range::<[u8], _>((start, end))
        .map(|(k, v)| Ok((k.clone(), v.clone())));
    if reverse {
        Ok(Box::new(r.rev()))
    } else {
        Ok(Box::new(r))
    }
}

fn names_in(tables: &Tables) -> Vec<String> {
    tables
        .iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(n, _)| n.clone())
        .collect()
}

struct MemRead {
    tables: Arc<Tables>,
}

impl Reads for MemRead {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        get_in(&self.tables, table, key)
    }

    fn range<'a>(
        &'a self,
        table: &str,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<EntryIter<'a>, StoreError> {
        range_in(&self.tables, table, start, end, reverse)
    }

    fn table_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(names_in(&self.tables))
    }
}

impl ReadTxn for MemRead {}

struct MemWrite<'s> {
    store: &'s MemStore,
    tables: Tables,
}

impl MemWrite<'_> {
    fn table_mut(&mut self, table: &str) -> Result<&mut Table, StoreError> {
        check_table_name(table)?;
        Ok(Arc::make_mut(
            self.tables.entry(table.to_owned()).or_default(),
        ))
    }
}

impl Drop for MemWrite<'_> {
    fn drop(&mut self) {
        // Runs on commit and on rollback alike: let the next writer in.
        *MemStore::lock(&self.store.writer_busy) = false;
        self.store.writer_free.notify_one();
    }
}

impl Reads for MemWrite<'_> {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        get_in(&self.tables, table, key)
    }

    fn range<'a>(
        &'a self,
        table: &str,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<EntryIter<'a>, StoreError> {
        range_in(&self.tables, table, start, end, reverse)
    }

    fn table_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(names_in(&self.tables))
    }
}

impl WriteTxn for MemWrite<'_> {
    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.table_mut(table)?.insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool, StoreError> {
        check_table_name(table)?;
        if !self.tables.get(table).is_some_and(|t| t.contains_key(key)) {
            return Ok(false);
        }
        Ok(self.table_mut(table)?.remove(key).is_some())
    }

    fn delete_range(
        &mut self,
        table: &str,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> Result<u64, StoreError> {
        check_table_name(table)?;
        if range_is_empty(start, end) || !self.tables.contains_key(table) {
            return Ok(0);
        }
        let t = self.table_mut(table)?;
        let doomed: Vec<Vec<u8>> = t
            .range::<[u8], _>((start, end))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &doomed {
            t.remove(k);
        }
        Ok(doomed.len() as u64)
    }

    fn delete_table(&mut self, table: &str) -> Result<bool, StoreError> {
        check_table_name(table)?;
        Ok(self.tables.remove(table).is_some_and(|t| !t.is_empty()))
    }

    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        let mut tables = std::mem::take(&mut self.tables);
        tables.retain(|_, t| !t.is_empty());
        *MemStore::lock(&self.store.committed) = Arc::new(tables);
        // `self` drops here and releases the writer flag, after the new state is visible.
        Ok(())
    }
}
