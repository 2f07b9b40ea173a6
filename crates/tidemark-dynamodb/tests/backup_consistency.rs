//! The backup consistency check of the backups issue: N backups taken while several writers
//! run PutItem, UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems; each backup
//! is restored and compared with a reference model's state at that backup's time marker —
//! exactly equal (every attribute of every item, and the GSI), every time.
//!
//! How the marker is made exact: writers hold a shared gate while a write is in flight and
//! until the model records it; CreateBackup runs under the exclusive gate, so at that instant
//! the model is exactly the committed state. The gate covers only the request: the backup
//! jobs copy (`settle`) while the writers keep writing, and the restores run under load too.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use common::Env;
use serde_json::{Value, json};

const WRITERS: u64 = 4;
const KEYS_PER_WRITER: u64 = 24;
const BACKUPS: usize = 8;

/// (pk, sk) → the item as DynamoDB JSON.
type Model = BTreeMap<(String, String), Value>;

fn key_of(item: &Value) -> (String, String) {
    (
        item["pk"]["S"].as_str().unwrap().to_string(),
        item["sk"]["N"].as_str().unwrap().to_string(),
    )
}

/// A small deterministic generator per writer (no external crate).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn full_item(w: u64, sk: u64, n: u64) -> Value {
    let mut item = json!({
        "pk": {"S": format!("w{w}")},
        "sk": {"N": sk.to_string()},
        "v": {"N": n.to_string()},
        "blob": {"S": format!("{n:x}-").repeat((n % 9 + 1) as usize)},
        "tags": {"SS": [format!("a{}", n % 3), format!("b{}", n % 5)]},
    });
    // About half the items are in the GSI.
    if n.is_multiple_of(2) {
        item["g"] = json!({"S": format!("g{}", n % 4)});
    }
    item
}

fn key(w: u64, sk: u64) -> Value {
    json!({"pk": {"S": format!("w{w}")}, "sk": {"N": sk.to_string()}})
}

/// One write of writer `w` against its own keys; returns how the model changes
/// (key → new item or None for a delete), after the server acknowledged it.
fn one_write(env: &Env, w: u64, rng: &mut Lcg, n: u64) -> Vec<((String, String), Option<Value>)> {
    let kid = |k: u64| (format!("w{w}"), k.to_string());
    let sk = rng.next(KEYS_PER_WRITER);
    match rng.next(5) {
        0 => {
            let item = full_item(w, sk, n);
            env.ok("PutItem", json!({"TableName": "live", "Item": item}));
            vec![(kid(sk), Some(item))]
        }
        1 => {
            let out = env.ok(
                "UpdateItem",
                json!({"TableName": "live", "Key": key(w, sk),
                    "UpdateExpression": "ADD v :one SET u = :n REMOVE g",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":n": {"S": format!("u{n}")}},
                    "ReturnValues": "ALL_NEW"}),
            );
            vec![(kid(sk), Some(out["Attributes"].clone()))]
        }
        2 => {
            env.ok(
                "DeleteItem",
                json!({"TableName": "live", "Key": key(w, sk)}),
            );
            vec![(kid(sk), None)]
        }
        3 => {
            // Distinct keys (BatchWriteItem refuses duplicates): sk, sk+1, sk+2 (mod).
            let ks: Vec<u64> = (0..3).map(|d| (sk + d) % KEYS_PER_WRITER).collect();
            let mut reqs = Vec::new();
            let mut effect = Vec::new();
            for (i, k) in ks.iter().enumerate() {
                if i == 1 {
                    reqs.push(json!({"DeleteRequest": {"Key": key(w, *k)}}));
                    effect.push((kid(*k), None));
                } else {
                    let item = full_item(w, *k, n + i as u64);
                    reqs.push(json!({"PutRequest": {"Item": item.clone()}}));
                    effect.push((kid(*k), Some(item)));
                }
            }
            let out = env.ok("BatchWriteItem", json!({"RequestItems": {"live": reqs}}));
            assert_eq!(out["UnprocessedItems"], json!({}));
            effect
        }
        _ => {
            let (a, b) = (sk, (sk + 5) % KEYS_PER_WRITER);
            let item = full_item(w, a, n);
            env.ok(
                "TransactWriteItems",
                json!({"TransactItems": [
                    {"Put": {"TableName": "live", "Item": item}},
                    {"Delete": {"TableName": "live", "Key": key(w, b)}}
                ]}),
            );
            vec![(kid(a), Some(item)), (kid(b), None)]
        }
    }
}

/// Every item of a table (or of one of its indexes), via small Scan pages.
fn scan_all(env: &Env, table: &str, index: Option<&str>) -> Model {
    let mut out = Model::new();
    let mut start: Option<Value> = None;
    loop {
        let mut req = json!({"TableName": table, "Limit": 17});
        if let Some(i) = index {
            req["IndexName"] = json!(i);
        }
        if let Some(s) = &start {
            req["ExclusiveStartKey"] = s.clone();
        }
        let page = env.ok("Scan", req);
        for item in page["Items"].as_array().unwrap() {
            assert!(out.insert(key_of(item), item.clone()).is_none());
        }
        match page.get("LastEvaluatedKey") {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

fn active(env: &Env, table: &str) -> bool {
    env.ok("DescribeTable", json!({"TableName": table}))["Table"]["TableStatus"] == "ACTIVE"
}

#[test]
fn backups_under_concurrent_writers_equal_the_model_at_each_marker() {
    let env = Arc::new(Env::new());
    env.table(json!({
        "TableName": "live",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"}
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}]
    }));
    let model = Arc::new(Mutex::new(Model::new()));
    let gate = Arc::new(RwLock::new(()));
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (env, model, gate, stop, writes) = (
                env.clone(),
                model.clone(),
                gate.clone(),
                stop.clone(),
                writes.clone(),
            );
            std::thread::spawn(move || {
                let mut rng = Lcg(w + 1);
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    // Shared gate: held from before the request until the model has it.
                    let _in_flight = gate.read().unwrap();
                    let effect = one_write(&env, w, &mut rng, n);
                    let mut m = model.lock().unwrap();
                    for (k, v) in effect {
                        match v {
                            Some(item) => m.insert(k, item),
                            None => m.remove(&k),
                        };
                    }
                    writes.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Backups, each at an exact marker; their copies run while the writers go on.
    let mut taken: Vec<(String, Model, u64)> = Vec::new();
    for i in 0..BACKUPS {
        let before = writes.load(Ordering::SeqCst);
        while writes.load(Ordering::SeqCst) < before + 40 {
            std::thread::yield_now();
        }
        let (arn, expected) = {
            let _marker = gate.write().unwrap();
            let out = env.ok(
                "CreateBackup",
                json!({"TableName": "live", "BackupName": format!("snap{i}")}),
            );
            let arn = out["BackupDetails"]["BackupArn"]
                .as_str()
                .unwrap()
                .to_string();
            (arn, model.lock().unwrap().clone())
        };
        let at = writes.load(Ordering::SeqCst);
        env.settle(); // the copy, concurrent with the writers
        taken.push((arn, expected, at));
    }

    // Restores run under write load too; each must equal its backup's model exactly.
    for (i, (arn, expected, _)) in taken.iter().enumerate() {
        let target = format!("restored{i}");
        env.ok(
            "RestoreTableFromBackup",
            json!({"TargetTableName": target, "BackupArn": arn}),
        );
        while !active(&env, &target) {
            env.settle();
        }
        let got = scan_all(&env, &target, None);
        assert!(
            &got == expected,
            "backup {i}: restored table differs from the model at its marker \
             ({} items vs {} expected)",
            got.len(),
            expected.len()
        );
        let in_index: Model = expected
            .iter()
            .filter(|(_, item)| item.get("g").is_some())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(
            scan_all(&env, &target, Some("byG")),
            in_index,
            "backup {i}: restored GSI"
        );
        let d = env.ok("DescribeBackup", json!({"BackupArn": arn}));
        let details = &d["BackupDescription"];
        assert_eq!(details["BackupDetails"]["BackupStatus"], "AVAILABLE");
        assert_eq!(
            details["SourceTableDetails"]["ItemCount"],
            expected.len(),
            "backup {i}: ItemCount"
        );
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }

    // The test is only meaningful if the states differ from backup to backup and the
    // writers were busy while the copies and restores ran.
    let total = writes.load(Ordering::SeqCst);
    for pair in taken.windows(2) {
        assert_ne!(pair[0].1, pair[1].1, "no writes between two backups");
    }
    assert!(
        total > taken.last().unwrap().2 + 40,
        "writers idle during the restores"
    );
    assert!(taken.iter().all(|(_, m, _)| !m.is_empty()));
}
