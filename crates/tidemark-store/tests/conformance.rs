//! Runs the shared store conformance suite against every implementation.

mod suite;

use std::sync::Arc;

use tidemark_store::{MemStore, RedbStore, Store};

/// A store plus whatever must outlive it (the temporary directory of a file store).
struct Fixture {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

fn mem() -> Fixture {
    Fixture {
        store: Arc::new(MemStore::new()),
        _dir: None,
    }
}

fn redb_memory() -> Fixture {
    Fixture {
        store: Arc::new(RedbStore::in_memory().unwrap()),
        _dir: None,
    }
}

fn redb_file() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RedbStore::open(dir.path().join("data")).unwrap());
    Fixture {
        store,
        _dir: Some(dir),
    }
}

macro_rules! conformance {
    ($name:ident, $make:path, [$($case:ident),* $(,)?]) => {
        mod $name {
            $(
                #[test]
                fn $case() {
                    let f = $make();
                    super::suite::$case(std::sync::Arc::clone(&f.store));
                }
            )*
        }
    };
    ($($name:ident => $make:path),* $(,)?) => {
        $(conformance!($name, $make, [
            get_put_delete,
            reserved_names_are_refused,
            range_bounds_and_reverse,
            write_txn_reads_its_own_writes_across_pages,
            delete_range_and_tables,
            snapshot_isolation,
            rollback_on_drop,
            long_reader_does_not_block_writers,
            writers_are_serialized,
            large_values_and_empty_keys,
            put_many_is_put_of_each_pair,
        ]);)*
    };
}

conformance!(mem_store => super::mem, redb_in_memory => super::redb_memory, redb_file => super::redb_file);
