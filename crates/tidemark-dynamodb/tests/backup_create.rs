//! On-demand backups through the dispatcher: CreateBackup (reference §2.4 and the seed
//! `aws dynamodb create-backup` example), DescribeBackup (§2.5), DeleteBackup (§2.6),
//! ListBackups (§2.7), and the errors of Appendix A.

mod common;

use common::Env;
use serde_json::{Value, json};

/// An env whose clock is frozen at 2030-12-17T21:39:26.715Z (the seed's time of day; the
/// virtual clock cannot move back to the seed's 2019).
fn env() -> Env {
    let env = Env::new();
    let t: jiff::Timestamp = "2030-12-17T21:39:26.715Z".parse().unwrap();
    env.engine.set_time(t).unwrap();
    env.engine.set_frozen(true).unwrap();
    env
}

fn put(env: &Env, table: &str, pk: &str, sk: i64, v: &str) {
    env.ok(
        "PutItem",
        json!({"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"N": sk.to_string()}, "v": {"S": v}}}),
    );
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

#[test]
fn create_backup_answers_like_the_seed_then_becomes_available() {
    // Seed 002: create-backup --table-name MusicCollection --backup-name MusicCollectionBackup.
    let env = env();
    env.simple_table("MusicCollection");
    let out = env.ok(
        "CreateBackup",
        json!({"TableName": "MusicCollection", "BackupName": "MusicCollectionBackup"}),
    );
    let d = &out["BackupDetails"];
    let arn = d["BackupArn"].as_str().unwrap();
    let prefix =
        "arn:aws:dynamodb:us-east-1:123456789012:table/MusicCollection/backup/01923773966715-";
    assert!(arn.starts_with(prefix), "{arn}");
    let suffix = &arn[prefix.len()..];
    assert_eq!(suffix.len(), 8);
    assert!(
        suffix
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(d["BackupName"], "MusicCollectionBackup");
    assert_eq!(d["BackupSizeBytes"], 0);
    assert_eq!(d["BackupStatus"], "CREATING");
    assert_eq!(d["BackupType"], "USER");
    assert_eq!(
        d["BackupCreationDateTime"].as_f64().unwrap(),
        1923773966.715
    );
    assert!(d.get("BackupExpiryDateTime").is_none());
    // Exactly the six members of the seed's output.
    assert_eq!(d.as_object().unwrap().len(), 6);
    env.settle();
    let desc = env.ok("DescribeBackup", json!({"BackupArn": arn}));
    let b = &desc["BackupDescription"];
    assert_eq!(b["BackupDetails"]["BackupStatus"], "AVAILABLE");
    assert_eq!(
        b["BackupDetails"]["BackupCreationDateTime"]
            .as_f64()
            .unwrap(),
        1923773966.715
    );
    assert_eq!(b["SourceTableDetails"]["TableName"], "MusicCollection");
    assert_eq!(b["SourceTableDetails"]["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        b["SourceTableDetails"]["ProvisionedThroughput"],
        json!({"ReadCapacityUnits": 0, "WriteCapacityUnits": 0})
    );
    assert_eq!(b["SourceTableFeatureDetails"], json!({}));
}

#[test]
fn backup_size_is_the_sum_of_item_sizes_at_the_request() {
    let env = env();
    env.simple_table("tbl");
    put(&env, "tbl", "a", 1, "xyz");
    put(&env, "tbl", "b", 2, "hello");
    let table = env.ok("DescribeTable", json!({"TableName": "tbl"}));
    let size = table["Table"]["TableSizeBytes"].as_i64().unwrap();
    assert!(size > 0);
    let out = env.ok(
        "CreateBackup",
        json!({"TableName": "tbl", "BackupName": "bk1"}),
    );
    // The response (still CREATING) already carries the real size.
    assert_eq!(out["BackupDetails"]["BackupStatus"], "CREATING");
    assert_eq!(out["BackupDetails"]["BackupSizeBytes"], size);
    let arn = out["BackupDetails"]["BackupArn"]
        .as_str()
        .unwrap()
        .to_string();
    // Written after the request: not in the backup.
    put(&env, "tbl", "c", 3, "late");
    env.settle();
    let b = env.ok("DescribeBackup", json!({"BackupArn": arn}));
    assert_eq!(
        b["BackupDescription"]["BackupDetails"]["BackupSizeBytes"],
        size
    );
    assert_eq!(b["BackupDescription"]["SourceTableDetails"]["ItemCount"], 2);
    assert_eq!(
        b["BackupDescription"]["SourceTableDetails"]["TableSizeBytes"],
        size
    );
}

#[test]
fn source_details_record_indexes_streams_sse_and_ttl() {
    let env = env();
    env.table(json!({
        "TableName": "rich",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "S"}
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
        "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}}],
        "LocalSecondaryIndexes": [{"IndexName": "byL", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"},
        "SSESpecification": {"Enabled": true}
    }));
    env.ok(
        "UpdateTimeToLive",
        json!({"TableName": "rich", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
    );
    let arn = backup(&env, "rich", "full");
    env.settle();
    let b = env.ok("DescribeBackup", json!({"BackupArn": arn}));
    let src = &b["BackupDescription"]["SourceTableDetails"];
    assert_eq!(src["BillingMode"], "PROVISIONED");
    assert_eq!(
        src["ProvisionedThroughput"],
        json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})
    );
    let f = &b["BackupDescription"]["SourceTableFeatureDetails"];
    assert_eq!(f["GlobalSecondaryIndexes"][0]["IndexName"], "byG");
    assert_eq!(
        f["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"],
        json!({"ReadCapacityUnits": 2, "WriteCapacityUnits": 3})
    );
    assert_eq!(f["LocalSecondaryIndexes"][0]["IndexName"], "byL");
    assert_eq!(
        f["StreamDescription"],
        json!({"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"})
    );
    assert_eq!(f["SSEDescription"]["Status"], "ENABLED");
    assert_eq!(f["TimeToLiveDescription"]["AttributeName"], "exp");
}

#[test]
fn create_backup_errors() {
    let env = env();
    // §2.3: missing and CREATING tables both answer TableNotFoundException.
    assert_eq!(
        env.err(
            "CreateBackup",
            json!({"TableName": "nope", "BackupName": "bkp"})
        ),
        (
            "TableNotFoundException".into(),
            "Table not found: nope".into()
        )
    );
    env.ok(
        "CreateTable",
        json!({"TableName": "young", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}),
    );
    assert_eq!(
        env.err(
            "CreateBackup",
            json!({"TableName": "young", "BackupName": "bkp"})
        ),
        (
            "TableNotFoundException".into(),
            "Table not found: young".into()
        )
    );
    env.settle();
    // Name constraints (3–255, [a-zA-Z0-9_.-]+) are Coral validation errors.
    assert_eq!(
        env.err(
            "CreateBackup",
            json!({"TableName": "young", "BackupName": "ab"})
        )
        .0,
        "ValidationException"
    );
    assert_eq!(
        env.err(
            "CreateBackup",
            json!({"TableName": "young", "BackupName": "a b c"})
        )
        .0,
        "ValidationException"
    );
    // The table may be given by ARN; names are not unique.
    let by_arn = json!({"TableName": "arn:aws:dynamodb:us-east-1:123456789012:table/young", "BackupName": "same"});
    let a = env.ok("CreateBackup", by_arn.clone());
    let b = env.ok("CreateBackup", by_arn);
    assert_ne!(
        a["BackupDetails"]["BackupArn"],
        b["BackupDetails"]["BackupArn"]
    );
    let other_region = json!({"TableName": "arn:aws:dynamodb:eu-west-1:123456789012:table/young", "BackupName": "x12"});
    assert_eq!(
        env.err("CreateBackup", other_region).0,
        "ValidationException"
    );
}

#[test]
fn more_than_50_create_backup_calls_in_a_second_are_limited() {
    // §2.4 item 7 / §2.13: LimitExceededException above 50 calls per second per account.
    let env = env();
    env.simple_table("tbl");
    // 50 succeed within the frozen second; the 51st is refused until the clock moves.
    for i in 0..50 {
        backup(&env, "tbl", &format!("b{i:03}"));
    }
    let (code, _) = env.err(
        "CreateBackup",
        json!({"TableName": "tbl", "BackupName": "b050"}),
    );
    assert_eq!(code, "LimitExceededException");
    env.engine.advance(1).unwrap();
    backup(&env, "tbl", "after");
}

#[test]
fn delete_backup_answers_deleted_and_the_backup_is_gone() {
    let env = env();
    env.simple_table("tbl");
    put(&env, "tbl", "a", 1, "x");
    let arn = backup(&env, "tbl", "doomed");
    // Still CREATING (its job has not run): in use.
    assert_eq!(
        env.err("DeleteBackup", json!({"BackupArn": arn})).0,
        "BackupInUseException"
    );
    env.settle();
    let out = env.ok("DeleteBackup", json!({"BackupArn": arn}));
    let d = &out["BackupDescription"];
    assert_eq!(d["BackupDetails"]["BackupStatus"], "DELETED");
    assert_eq!(d["SourceTableDetails"]["TableName"], "tbl");
    let gone = (
        "BackupNotFoundException".to_string(),
        format!("Backup not found: {arn}"),
    );
    assert_eq!(env.err("DescribeBackup", json!({"BackupArn": arn})), gone);
    assert_eq!(env.err("DeleteBackup", json!({"BackupArn": arn})), gone);
    let list = env.ok("ListBackups", json!({}));
    assert_eq!(list["BackupSummaries"], json!([]));
}

#[test]
fn describe_backup_validates_the_arn() {
    let env = env();
    env.simple_table("tbl");
    let table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tbl";
    assert_eq!(
        env.err(
            "DescribeBackup",
            json!({"BackupArn": format!("{table_arn}/stream/2020-01-01T00:00:00.000")})
        ),
        ("ValidationException".into(), "Invalid Backup ARN".into())
    );
    let missing = format!("{table_arn}/backup/01923773966715-00abcdef");
    assert_eq!(
        env.err("DescribeBackup", json!({"BackupArn": missing})),
        (
            "BackupNotFoundException".into(),
            format!("Backup not found: {missing}")
        )
    );
}

fn names(v: &Value) -> Vec<String> {
    v["BackupSummaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["BackupName"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_backups_filters_orders_and_pages() {
    let env = env();
    env.simple_table("tbl1");
    env.simple_table("tbl2");
    let start = env.engine.now().as_millisecond() as f64 / 1000.0;
    let mut arns = Vec::new();
    for (i, table) in ["tbl1", "tbl2", "tbl1", "tbl2", "tbl1"].iter().enumerate() {
        arns.push(backup(&env, table, &format!("nm{i}")));
        env.engine.advance(10).unwrap();
    }
    env.settle();
    assert_eq!(
        names(&env.ok("ListBackups", json!({}))),
        ["nm0", "nm1", "nm2", "nm3", "nm4"]
    );
    assert_eq!(
        names(&env.ok("ListBackups", json!({"TableName": "tbl1"}))),
        ["nm0", "nm2", "nm4"]
    );
    // Lower bound inclusive, upper bound exclusive (ms precision).
    let r = env.ok(
        "ListBackups",
        json!({"TimeRangeLowerBound": start + 10.0, "TimeRangeUpperBound": start + 30.0}),
    );
    assert_eq!(names(&r), ["nm1", "nm2"]);
    assert_eq!(
        env.err(
            "ListBackups",
            json!({"TimeRangeLowerBound": start + 10.0, "TimeRangeUpperBound": start})
        ),
        (
            "ValidationException".into(),
            "Time range lower bound must be less than or equal to upper bound".into()
        )
    );
    // Pages of two; LastEvaluatedBackupArn only while more remain.
    let p1 = env.ok("ListBackups", json!({"Limit": 2}));
    assert_eq!(names(&p1), ["nm0", "nm1"]);
    assert_eq!(p1["LastEvaluatedBackupArn"], arns[1].as_str());
    let p2 = env.ok(
        "ListBackups",
        json!({"Limit": 2, "ExclusiveStartBackupArn": arns[1]}),
    );
    assert_eq!(names(&p2), ["nm2", "nm3"]);
    let p3 = env.ok(
        "ListBackups",
        json!({"Limit": 2, "ExclusiveStartBackupArn": arns[3]}),
    );
    assert_eq!(names(&p3), ["nm4"]);
    assert!(p3.get("LastEvaluatedBackupArn").is_none());
    let exact = env.ok("ListBackups", json!({"Limit": 5}));
    assert!(exact.get("LastEvaluatedBackupArn").is_none());
    // Summaries carry the table identity; USER is the default type; SYSTEM lists none here.
    let s = &env.ok("ListBackups", json!({"TableName": "tbl2"}))["BackupSummaries"][0];
    assert_eq!(
        s["TableArn"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/tbl2"
    );
    assert_eq!(s["BackupType"], "USER");
    assert_eq!(s["BackupStatus"], "AVAILABLE");
    assert_eq!(
        names(&env.ok("ListBackups", json!({"BackupType": "SYSTEM"}))).len(),
        0
    );
    assert_eq!(
        names(&env.ok("ListBackups", json!({"BackupType": "ALL"}))).len(),
        5
    );
    assert_eq!(
        env.err("ListBackups", json!({"BackupType": "user"})).0,
        "ValidationException"
    );
    // A table that never existed: an empty list.
    assert_eq!(
        names(&env.ok("ListBackups", json!({"TableName": "never"}))).len(),
        0
    );
}

#[test]
fn backups_survive_delete_table_and_belong_to_the_name() {
    // §2.12: USER backups survive DeleteTable; a re-created table's backups list together.
    let env = env();
    env.simple_table("tbl");
    let first = backup(&env, "tbl", "one");
    env.settle();
    env.ok("DeleteTable", json!({"TableName": "tbl"}));
    env.settle();
    env.simple_table("tbl");
    backup(&env, "tbl", "two");
    env.settle();
    let list = env.ok("ListBackups", json!({"TableName": "tbl"}));
    let s = list["BackupSummaries"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0]["TableArn"], s[1]["TableArn"]);
    assert_ne!(s[0]["TableId"], s[1]["TableId"]);
    let d = env.ok("DescribeBackup", json!({"BackupArn": first}));
    assert_eq!(
        d["BackupDescription"]["BackupDetails"]["BackupStatus"],
        "AVAILABLE"
    );
}

/// A second service over the same store, as after a restart (the first one's in-process
/// state — parked snapshots — is lost).
fn restarted(env: &Env) -> Env {
    let store = env.engine.store().clone();
    let engine = std::sync::Arc::new(tidemark_jobs::Engine::open(store.clone()).unwrap());
    let svc = tidemark_dynamodb::DynamoDbService::new(store, engine.clone());
    engine.recover().unwrap();
    Env {
        svc,
        engine,
        ctx: env.ctx.clone(),
    }
}

#[test]
fn a_backup_interrupted_by_a_restart_is_discarded_not_left_creating() {
    // The request-time snapshot lives in memory only: after a restart the job finds none
    // and removes the backup (no FAILED status exists, §2.2) instead of copying later data.
    let env = env();
    env.simple_table("tbl");
    put(&env, "tbl", "a", 1, "x");
    let arn = backup(&env, "tbl", "interrupted");
    let env2 = restarted(&env);
    env2.settle();
    assert_eq!(
        env2.err("DescribeBackup", json!({"BackupArn": arn})).0,
        "BackupNotFoundException"
    );
    let failed = env2
        .engine
        .list(&tidemark_jobs::JobFilter {
            kind: Some("dynamodb.backup.create".into()),
            state: Some(tidemark_jobs::JobState::Failed),
        })
        .unwrap();
    assert_eq!(failed.len(), 1);
    // A new backup on the restarted service works.
    let again = backup(&env2, "tbl", "after-restart");
    env2.settle();
    let d = env2.ok("DescribeBackup", json!({"BackupArn": again}));
    assert_eq!(
        d["BackupDescription"]["BackupDetails"]["BackupStatus"],
        "AVAILABLE"
    );
}

#[test]
fn pitr_keeps_logging_after_a_restart() {
    // The change log's clock is registered again for every PITR table at startup.
    let env = env();
    env.simple_table("tbl");
    env.ok(
        "UpdateContinuousBackups",
        json!({"TableName": "tbl", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    );
    let env2 = restarted(&env);
    put(&env2, "tbl", "a", 1, "x");
    env2.engine.advance(301).unwrap();
    env2.ok(
        "RestoreTableToPointInTime",
        json!({"SourceTableName": "tbl", "TargetTableName": "copy", "UseLatestRestorableTime": true}),
    );
    env2.settle();
    let scan = env2.ok("Scan", json!({"TableName": "copy"}));
    assert_eq!(scan["Count"], 1);
}
