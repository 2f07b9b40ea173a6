//! Heavy BatchWriteItems do not hold up small writes to other tables (docs/reliability.md,
//! "Bounded memory per request"): a batch's items are checked and encoded before it takes
//! the store's one write transaction, which every writer of every table waits for.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Env;
use serde_json::{Value, json};
use tidemark_store::RedbStore;

/// Batches sent one after another; each counts as one observation.
const ROUNDS: usize = 7;
/// List elements per item: 25 items of ~50 KB of JSON each, a 1.3 MB batch.
const ELEMENTS: usize = 5_000;

struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// While big batches are written to one table, a loop of small PutItems on another table
/// never waits long for the write transaction. Per batch, the longest small write that
/// overlapped it is its stall; the median stall over the batches (so that one
/// descheduling of a loaded machine does not decide) must stay under a tenth of the
/// median batch's own time. Before, each batch encoded its items inside the transaction
/// and the small write waited for about half of the batch's time (debug build); now the
/// transaction only stores bytes.
#[test]
fn big_batches_do_not_stall_small_writes_to_other_tables() {
    // The store `serve --in-memory` uses; on disk it only adds the log's fsyncs.
    let store = RedbStore::in_memory().expect("an in-memory redb store");
    let env = Env::with_store(Arc::new(store));
    env.simple_table("big");
    env.simple_table("small");
    let list = Value::Array(vec![json!({"N": "1"}); ELEMENTS]);
    let done = AtomicBool::new(false);
    // (start, end) of every small write.
    let small: Mutex<Vec<(Instant, Instant)>> = Mutex::new(Vec::new());
    let mut batches: Vec<(Instant, Instant)> = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0u64;
            while !done.load(Ordering::Relaxed) {
                let item = json!({"pk": {"S": "s"}, "sk": {"N": i.to_string()}});
                let started = Instant::now();
                env.ok("PutItem", json!({"TableName": "small", "Item": item}));
                small.lock().unwrap().push((started, Instant::now()));
                i += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        // Stops the small writes however this thread leaves the scope (a failed batch too).
        let _stop = Stop(&done);
        for round in 0..ROUNDS {
            let puts: Vec<Value> = (0..25)
                .map(|i| {
                    json!({"PutRequest": {"Item": {
                        "pk": {"S": format!("b{round}")}, "sk": {"N": i.to_string()},
                        "v": {"L": list.clone()},
                    }}})
                })
                .collect();
            let input = json!({"RequestItems": {"big": puts}});
            let started = Instant::now();
            let out = env.ok("BatchWriteItem", input);
            batches.push((started, Instant::now()));
            assert_eq!(out["UnprocessedItems"], json!({}));
        }
    });
    let small = small.into_inner().unwrap();
    let stalls: Vec<Duration> = batches
        .iter()
        .map(|(b0, b1)| {
            small
                .iter()
                .filter(|(s0, s1)| s0 < b1 && s1 > b0)
                .map(|(s0, s1)| *s1 - *s0)
                .max()
                .unwrap_or(Duration::ZERO)
        })
        .collect();
    let batch_times: Vec<Duration> = batches.iter().map(|(b0, b1)| *b1 - *b0).collect();
    let (stall, batch) = (median(stalls.clone()), median(batch_times.clone()));
    eprintln!(
        "{} small writes; batch times {batch_times:?}; longest small write per batch {stalls:?}",
        small.len()
    );
    assert!(
        stall * 10 < batch,
        "small writes waited {stall:?} (median over batches) for batches of {batch:?}"
    );
    // Every batch was written whole.
    let d = env.ok("DescribeTable", json!({"TableName": "big"}));
    assert_eq!(d["Table"]["ItemCount"], json!(ROUNDS * 25));
}
