//! The parallel store and read pipelines: stream order, in-store deduplication, records that
//! span runs and batches, the borrowing reader, and readers dropped half-way.

mod common;

use common::*;
use tidemark_vault::Vault;

const ACCT: &str = "123456789012";

/// Small and large records mixed: some span many chunks, runs and batches.
fn mixed(n: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut r = record(i, 9);
            if i % 97 == 5 {
                // ~300 KiB: larger than a batch (128 × 2 KiB) and than a pack (32 KiB).
                let fill = record(i, 10);
                while r.len() < 300 << 10 {
                    r.extend_from_slice(&fill);
                }
            }
            if i % 31 == 0 {
                r.clear(); // empty records are records too
            }
            r
        })
        .collect()
}

#[test]
fn records_come_back_in_order_through_both_readers() {
    let v = Vault::open(memory(), small_opts()).unwrap();
    let recs = mixed(3000);
    let id = store(&v, ACCT, &recs).unwrap();
    assert_eq!(v.read_all(ACCT, &id).unwrap(), recs);
    let mut r = v.reader(ACCT, &id).unwrap();
    let mut i = 0;
    while let Some(rec) = r.next_ref() {
        assert_eq!(rec.unwrap(), &recs[i][..], "record {i}");
        i += 1;
    }
    assert_eq!(i, recs.len());
}

#[test]
fn a_chunk_repeated_within_one_store_is_stored_once() {
    let v = Vault::open(memory(), small_opts()).unwrap();
    // The same 40 KiB block of records five times: every chunk of copies 2..5 deduplicates
    // against copy 1, whichever worker hashes it first.
    let block = records(150, 4);
    let mut recs = Vec::new();
    for _ in 0..5 {
        recs.extend(block.iter().cloned());
    }
    let mut w = v.writer(ACCT, serde_json::json!({}), None).unwrap();
    recs.iter().for_each(|r| w.write_record(r).unwrap());
    let (id, stats) = w.finish().unwrap();
    assert_eq!(stats.new_bytes + stats.reused_bytes, stats.logical_bytes);
    assert!(
        stats.new_bytes < stats.logical_bytes / 3,
        "repeats must deduplicate: {stats:?}"
    );
    let (_, again) = {
        let mut w = v.writer(ACCT, serde_json::json!({}), None).unwrap();
        recs.iter().for_each(|r| w.write_record(r).unwrap());
        w.finish().unwrap()
    };
    assert_eq!(again.new_bytes, 0);
    assert_eq!(v.read_all(ACCT, &id).unwrap(), recs);
    assert!(v.verify(true).unwrap().ok);
}

#[test]
fn a_reader_dropped_half_way_releases_the_account() {
    let v = Vault::open(memory(), small_opts()).unwrap();
    let recs = mixed(2000);
    let id = store(&v, ACCT, &recs).unwrap();
    let mut r = v.reader(ACCT, &id).unwrap();
    for _ in 0..10 {
        r.next().unwrap().unwrap();
    }
    drop(r);
    // gc skips accounts in use: it must run now, and the backup still reads back.
    let report = v.gc().unwrap();
    assert!(report.skipped.is_empty(), "{report:?}");
    assert_eq!(v.read_all(ACCT, &id).unwrap(), recs);
}
