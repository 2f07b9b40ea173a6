//! RestoreTableFromBackup through the dispatcher (reference §2.10): the CREATING target with
//! its RestoreSummary, items and indexes restored, what is and is not carried over, the
//! overrides and their errors; plus a consistency test (§2.4 item 5): backups taken while
//! another thread writes each restore to exactly one state of the writer's history.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::Env;
use serde_json::{Value, json};

fn put(env: &Env, table: &str, pk: &str, sk: i64, extra: Value) {
    let mut item = json!({"pk": {"S": pk}, "sk": {"N": sk.to_string()}});
    for (k, v) in extra.as_object().unwrap() {
        item[k] = v.clone();
    }
    env.ok("PutItem", json!({"TableName": table, "Item": item}));
}

fn backup(env: &Env, table: &str, name: &str) -> String {
    let out = env.ok(
        "CreateBackup",
        json!({"TableName": table, "BackupName": name}),
    );
    out["BackupDetails"]["BackupArn"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every item of a table as (pk, sk) → item, via paged Scans.
fn scan_all(env: &Env, table: &str) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    let mut start: Option<Value> = None;
    loop {
        let mut req = json!({"TableName": table, "Limit": 7});
        if let Some(s) = &start {
            req["ExclusiveStartKey"] = s.clone();
        }
        let page = env.ok("Scan", req);
        for item in page["Items"].as_array().unwrap() {
            let k = (
                item["pk"]["S"].as_str().unwrap().to_string(),
                item["sk"]["N"].as_str().unwrap().to_string(),
            );
            out.insert(k, item.clone());
        }
        match page.get("LastEvaluatedKey") {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

fn indexed_table(env: &Env, name: &str) {
    env.table(json!({
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"}
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}],
        "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"},
        "Tags": [{"Key": "team", "Value": "a"}]
    }));
}

#[test]
fn restore_creates_the_table_with_items_and_indexes() {
    let env = Env::new();
    indexed_table(&env, "src");
    for i in 0..5 {
        put(
            &env,
            "src",
            "p",
            i,
            json!({"g": {"S": format!("g{}", i % 2)}}),
        );
    }
    let arn = backup(&env, "src", "bkp");
    env.settle();
    let out = env.ok(
        "RestoreTableFromBackup",
        json!({"TargetTableName": "dst", "BackupArn": arn}),
    );
    let d = &out["TableDescription"];
    assert_eq!(d["TableStatus"], "CREATING");
    assert_eq!(d["RestoreSummary"]["SourceBackupArn"], arn.as_str());
    assert_eq!(d["RestoreSummary"]["RestoreInProgress"], true);
    assert_eq!(
        d["RestoreSummary"]["SourceTableArn"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/src"
    );
    // While CREATING: DescribeTable shows the same RestoreSummary (§2.10); item APIs say
    // not found; the backup is in use.
    let during = env.ok("DescribeTable", json!({"TableName": "dst"}));
    assert_eq!(during["Table"]["TableStatus"], "CREATING");
    assert_eq!(during["Table"]["RestoreSummary"], d["RestoreSummary"]);
    assert_eq!(
        env.err(
            "GetItem",
            json!({"TableName": "dst", "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}}})
        )
        .0,
        "ResourceNotFoundException"
    );
    assert_eq!(
        env.err("DeleteBackup", json!({"BackupArn": arn})),
        (
            "BackupInUseException".into(),
            format!("Backup is being used to restore table: {arn}")
        )
    );
    assert_eq!(
        env.err(
            "RestoreTableFromBackup",
            json!({"TargetTableName": "dst2", "BackupArn": arn})
        ),
        (
            "BackupInUseException".into(),
            format!("Backup is being used to restore another table: {arn}")
        )
    );
    assert_eq!(
        env.err(
            "RestoreTableFromBackup",
            json!({"TargetTableName": "dst", "BackupArn": arn})
        )
        .0,
        "TableInUseException"
    );
    env.settle();
    assert_eq!(env.status("dst"), "ACTIVE");
    assert_eq!(scan_all(&env, "dst"), scan_all(&env, "src"));
    let q = env.ok(
        "Query",
        json!({"TableName": "dst", "IndexName": "byG", "KeyConditionExpression": "g = :g",
               "ExpressionAttributeValues": {":g": {"S": "g0"}}}),
    );
    assert_eq!(q["Count"], 3);
    let t = env.ok("DescribeTable", json!({"TableName": "dst"}));
    assert_eq!(t["Table"]["ItemCount"], 5);
    assert!(t["Table"].get("RestoreSummary").is_none());
    // Not carried over: streams, tags.
    assert!(t["Table"].get("StreamSpecification").is_none());
    let tags = env.ok(
        "ListTagsOfResource",
        json!({"ResourceArn": t["Table"]["TableArn"]}),
    );
    assert_eq!(tags["Tags"], json!([]));
    // Now free again.
    env.ok("DeleteBackup", json!({"BackupArn": arn}));
}

#[test]
fn restore_errors() {
    let env = Env::new();
    indexed_table(&env, "src");
    let arn = backup(&env, "src", "bkp");
    env.settle();
    assert_eq!(
        env.err(
            "RestoreTableFromBackup",
            json!({"TargetTableName": "src", "BackupArn": arn})
        ),
        (
            "TableAlreadyExistsException".into(),
            "Table already exists: src".into()
        )
    );
    let missing = format!("{}0", &arn[..arn.len() - 1]);
    let missing = if missing == arn {
        format!("{}1", &arn[..arn.len() - 1])
    } else {
        missing
    };
    assert_eq!(
        env.err(
            "RestoreTableFromBackup",
            json!({"TargetTableName": "new", "BackupArn": missing})
        ),
        (
            "BackupNotFoundException".into(),
            format!("Backup not found: {missing}")
        )
    );
    assert_eq!(
        env.err(
            "RestoreTableFromBackup",
            json!({"TargetTableName": "new", "BackupArn": "arn:aws:dynamodb:us-east-1:123456789012:table/src"})
        ),
        ("ValidationException".into(), "Invalid Backup ARN".into())
    );
    // Override rules.
    let with = |extra: Value| {
        let mut req = json!({"TargetTableName": "new", "BackupArn": arn});
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        env.err("RestoreTableFromBackup", req)
    };
    assert_eq!(
        with(json!({"ProvisionedThroughputOverride": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}})).1,
        "Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED"
    );
    assert_eq!(
        with(json!({"BillingModeOverride": "PROVISIONED"})).1,
        "Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED"
    );
    assert_eq!(
        with(json!({"GlobalSecondaryIndexOverride": [{"IndexName": "other",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}]})),
        (
            "ValidationException".into(),
            "Index other does not match a secondary index that existed in the source table and cannot be created during the restore operation".into()
        )
    );
    // Nothing was created by the failures.
    assert_eq!(
        env.err("DescribeTable", json!({"TableName": "new"})).0,
        "ResourceNotFoundException"
    );
}

#[test]
fn overrides_drop_rename_and_rebill() {
    let env = Env::new();
    indexed_table(&env, "src");
    put(&env, "src", "p", 1, json!({"g": {"S": "x"}}));
    let arn = backup(&env, "src", "bkp");
    env.settle();
    // An empty GSI list drops every GSI.
    env.ok(
        "RestoreTableFromBackup",
        json!({"TargetTableName": "nogsi", "BackupArn": arn, "GlobalSecondaryIndexOverride": []}),
    );
    env.settle();
    let t = env.ok("DescribeTable", json!({"TableName": "nogsi"}));
    assert!(t["Table"].get("GlobalSecondaryIndexes").is_none());
    assert_eq!(t["Table"]["ItemCount"], 1);
    // A matching entry may rename the index; billing switches to PROVISIONED.
    env.ok(
        "RestoreTableFromBackup",
        json!({"TargetTableName": "renamed", "BackupArn": arn,
               "BillingModeOverride": "PROVISIONED",
               "ProvisionedThroughputOverride": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
               "GlobalSecondaryIndexOverride": [{"IndexName": "byG2",
                   "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"},
                   "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 2}}]}),
    );
    env.settle();
    let t = &env.ok("DescribeTable", json!({"TableName": "renamed"}))["Table"];
    assert_eq!(t["ProvisionedThroughput"]["ReadCapacityUnits"], 3);
    assert_eq!(t["GlobalSecondaryIndexes"][0]["IndexName"], "byG2");
    assert_eq!(
        t["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["WriteCapacityUnits"],
        2
    );
    let q = env.ok(
        "Query",
        json!({"TableName": "renamed", "IndexName": "byG2", "KeyConditionExpression": "g = :g",
               "ExpressionAttributeValues": {":g": {"S": "x"}}}),
    );
    assert_eq!(q["Count"], 1);
}

#[test]
fn restoring_a_deleted_tables_backup_works() {
    let env = Env::new();
    indexed_table(&env, "gone");
    put(&env, "gone", "a", 1, json!({}));
    let arn = backup(&env, "gone", "last");
    env.settle();
    env.ok("DeleteTable", json!({"TableName": "gone"}));
    env.settle();
    env.ok(
        "RestoreTableFromBackup",
        json!({"TargetTableName": "gone", "BackupArn": arn}),
    );
    env.settle();
    assert_eq!(scan_all(&env, "gone").len(), 1);
}

/// One writer operation: put (pk, value) or delete pk.
#[derive(Clone, Debug)]
enum Op {
    Put(u32, u64),
    Delete(u32),
}

fn apply(state: &mut BTreeMap<u32, u64>, op: &Op) {
    match op {
        Op::Put(k, v) => {
            state.insert(*k, *v);
        }
        Op::Delete(k) => {
            state.remove(k);
        }
    }
}

#[test]
fn backups_under_concurrent_writes_restore_exactly_one_writer_state() {
    let env = Arc::new(Env::new());
    env.simple_table("live");
    let done: Arc<Mutex<Vec<Op>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (env, done, stop) = (env.clone(), done.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n: u64 = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) || n < 300 {
                n += 1;
                let k = (n * 7919 % 40) as u32;
                let op = if n.is_multiple_of(5) {
                    Op::Delete(k)
                } else {
                    Op::Put(k, n)
                };
                let key = json!({"pk": {"S": format!("k{k}")}, "sk": {"N": "0"}});
                match &op {
                    Op::Put(_, v) => {
                        let mut item = key.clone();
                        item["v"] = json!({"N": v.to_string()});
                        env.ok("PutItem", json!({"TableName": "live", "Item": item}));
                    }
                    Op::Delete(_) => {
                        env.ok("DeleteItem", json!({"TableName": "live", "Key": key}));
                    }
                }
                done.lock().unwrap().push(op);
                if n > 5000 {
                    break;
                }
            }
        })
    };
    let mut taken = Vec::new();
    for i in 0..6 {
        std::thread::sleep(std::time::Duration::from_millis(15));
        let before = done.lock().unwrap().len();
        let arn = backup(&env, "live", &format!("snap{i}"));
        let after = done.lock().unwrap().len();
        taken.push((arn, before, after));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.join().unwrap();
    env.settle();
    let ops = done.lock().unwrap().clone();
    // The writer really ran between the backups (otherwise this proves nothing).
    assert!(ops.len() >= 300);
    assert!(
        taken[5].1 > taken[0].2,
        "no writes between the first and last backup"
    );
    for (i, (arn, before, after)) in taken.iter().enumerate() {
        let target = format!("restored{i}");
        env.ok(
            "RestoreTableFromBackup",
            json!({"TargetTableName": target, "BackupArn": arn}),
        );
        env.settle();
        let got: BTreeMap<u32, u64> = scan_all(&env, &target)
            .into_values()
            .map(|item| {
                let k = item["pk"]["S"].as_str().unwrap()[1..].parse().unwrap();
                let v = item["v"]["N"].as_str().unwrap().parse().unwrap();
                (k, v)
            })
            .collect();
        // The snapshot was taken inside CreateBackup: after `before` writes had returned
        // and before `after + 1` had (one write may be in flight at either end).
        let mut state = BTreeMap::new();
        let lo = before.saturating_sub(1);
        for op in &ops[..lo] {
            apply(&mut state, op);
        }
        let mut matched = state == got;
        for op in &ops[lo..(*after + 1).min(ops.len())] {
            apply(&mut state, op);
            matched |= state == got;
        }
        assert!(
            matched,
            "backup {i} ({before}..{after}) matches no writer state"
        );
        let b = env.ok("DescribeBackup", json!({"BackupArn": arn}));
        assert_eq!(
            b["BackupDescription"]["SourceTableDetails"]["ItemCount"],
            got.len()
        );
    }
}

#[test]
fn at_most_50_restores_run_at_once_per_account() {
    // §2.10 / §2.13: LimitExceededException beyond 50 concurrent restores.
    let env = Env::new();
    env.engine.set_frozen(true).unwrap();
    env.simple_table("src");
    let mut arns = Vec::new();
    for i in 0..51 {
        if i == 50 {
            env.engine.advance(1).unwrap();
        }
        arns.push(backup(&env, "src", &format!("bk{i}")));
    }
    env.settle();
    for (i, arn) in arns.iter().take(50).enumerate() {
        env.ok(
            "RestoreTableFromBackup",
            json!({"TargetTableName": format!("dst{i}"), "BackupArn": arn}),
        );
    }
    let (code, _) = env.err(
        "RestoreTableFromBackup",
        json!({"TargetTableName": "dst50", "BackupArn": arns[50]}),
    );
    assert_eq!(code, "LimitExceededException");
    env.settle();
    env.ok(
        "RestoreTableFromBackup",
        json!({"TargetTableName": "dst50", "BackupArn": arns[50]}),
    );
}
