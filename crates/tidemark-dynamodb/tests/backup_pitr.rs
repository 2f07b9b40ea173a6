//! Point-in-time recovery through the dispatcher: DescribeContinuousBackups (reference
//! §2.8), UpdateContinuousBackups (§2.9), RestoreTableToPointInTime and its error order
//! (§2.11), the recovery window, and SYSTEM backups on DeleteTable (§2.12).

mod common;

use std::collections::BTreeMap;

use common::Env;
use serde_json::{Value, json};

fn env() -> Env {
    let env = Env::new();
    env.engine.set_frozen(true).unwrap();
    env
}

fn now_s(env: &Env) -> f64 {
    env.engine.now().as_millisecond() as f64 / 1000.0
}

fn put(env: &Env, table: &str, pk: &str, v: i64) {
    env.ok(
        "PutItem",
        json!({"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"N": "0"}, "v": {"N": v.to_string()}}}),
    );
}

fn del(env: &Env, table: &str, pk: &str) {
    env.ok(
        "DeleteItem",
        json!({"TableName": table, "Key": {"pk": {"S": pk}, "sk": {"N": "0"}}}),
    );
}

fn contents(env: &Env, table: &str) -> BTreeMap<String, i64> {
    let out = env.ok("Scan", json!({"TableName": table}));
    out["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["pk"]["S"].as_str().unwrap().to_string(),
                i["v"]["N"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn enable(env: &Env, table: &str, days: Option<i32>) -> Value {
    let mut spec = json!({"PointInTimeRecoveryEnabled": true});
    if let Some(d) = days {
        spec["RecoveryPeriodInDays"] = json!(d);
    }
    env.ok(
        "UpdateContinuousBackups",
        json!({"TableName": table, "PointInTimeRecoverySpecification": spec}),
    )
}

fn restore_at(env: &Env, source: &str, target: &str, at: f64) -> BTreeMap<String, i64> {
    let out = env.ok(
        "RestoreTableToPointInTime",
        json!({"SourceTableName": source, "TargetTableName": target, "RestoreDateTime": at}),
    );
    let d = &out["TableDescription"];
    assert_eq!(d["TableStatus"], "CREATING");
    assert_eq!(d["RestoreSummary"]["RestoreDateTime"].as_f64().unwrap(), at);
    assert!(d["RestoreSummary"].get("SourceBackupArn").is_none());
    env.settle();
    contents(env, target)
}

#[test]
fn describe_and_update_continuous_backups() {
    let env = env();
    assert_eq!(
        env.err("DescribeContinuousBackups", json!({"TableName": "nope"})),
        (
            "TableNotFoundException".into(),
            "Table not found: nope".into()
        )
    );
    env.simple_table("tbl");
    let d = env.ok("DescribeContinuousBackups", json!({"TableName": "tbl"}));
    assert_eq!(
        d["ContinuousBackupsDescription"],
        json!({"ContinuousBackupsStatus": "ENABLED",
               "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}})
    );
    let t0 = now_s(&env);
    let on = enable(&env, "tbl", None);
    let p = &on["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"];
    assert_eq!(p["PointInTimeRecoveryStatus"], "ENABLED");
    assert_eq!(p["RecoveryPeriodInDays"], 35);
    assert_eq!(p["EarliestRestorableDateTime"].as_f64().unwrap(), t0);
    assert_eq!(p["LatestRestorableDateTime"].as_f64().unwrap(), t0);
    env.engine.advance(1000).unwrap();
    let d = env.ok("DescribeContinuousBackups", json!({"TableName": "tbl"}));
    let p = &d["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"];
    assert_eq!(p["EarliestRestorableDateTime"].as_f64().unwrap(), t0);
    // Latest trails now by 300 s.
    assert_eq!(p["LatestRestorableDateTime"].as_f64().unwrap(), t0 + 700.0);
    let seven = enable(&env, "tbl", Some(7));
    assert_eq!(
        seven["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"],
        7
    );
    assert_eq!(
        env.err(
            "UpdateContinuousBackups",
            json!({"TableName": "tbl", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": false, "RecoveryPeriodInDays": 35}})
        ),
        (
            "ValidationException".into(),
            "Invalid Request: Cannot specify RecoveryPeriodInDays when disabling point-in-time recovery.".into()
        )
    );
    assert_eq!(
        env.err(
            "UpdateContinuousBackups",
            json!({"TableName": "tbl", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true, "RecoveryPeriodInDays": 36}})
        )
        .0,
        "ValidationException"
    );
    let off = env.ok(
        "UpdateContinuousBackups",
        json!({"TableName": "tbl", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": false}}),
    );
    assert_eq!(
        off["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"],
        json!({"PointInTimeRecoveryStatus": "DISABLED"})
    );
    // Re-enabling starts a fresh window with the default period.
    let t1 = now_s(&env);
    let again = enable(&env, "tbl", None);
    let p = &again["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"];
    assert_eq!(p["EarliestRestorableDateTime"].as_f64().unwrap(), t1);
    assert_eq!(p["RecoveryPeriodInDays"], 35);
}

#[test]
fn restores_to_seconds_between_writes_equal_the_reference_state() {
    let env = env();
    env.simple_table("tbl");
    put(&env, "tbl", "base", 1);
    let t0 = now_s(&env);
    enable(&env, "tbl", None);
    // Reference model: the state after each write, with the time it was made.
    let mut reference: Vec<(f64, BTreeMap<String, i64>)> = Vec::new();
    let mut state = BTreeMap::from([("base".to_string(), 1)]);
    reference.push((t0, state.clone()));
    let script: [(&str, Option<i64>); 6] = [
        ("a", Some(1)),
        ("b", Some(2)),
        ("a", Some(3)),
        ("base", None),
        ("c", Some(4)),
        ("b", None),
    ];
    for (k, v) in script {
        env.engine.advance(10).unwrap();
        match v {
            Some(v) => {
                put(&env, "tbl", k, v);
                state.insert(k.to_string(), v);
            }
            None => {
                del(&env, "tbl", k);
                state.remove(k);
            }
        }
        reference.push((now_s(&env), state.clone()));
    }
    env.engine.advance(400).unwrap();
    for (i, (t, expected)) in reference.iter().enumerate() {
        // Exactly at the write and five seconds later (between two writes).
        for (j, at) in [*t, t + 5.0].into_iter().enumerate() {
            let got = restore_at(&env, "tbl", &format!("r{i}x{j}"), at);
            assert_eq!(&got, expected, "restore at {at} (step {i})");
        }
    }
    // The source is untouched and still logging.
    assert_eq!(contents(&env, "tbl"), state);
}

#[test]
fn restore_to_point_in_time_errors_in_order() {
    let env = env();
    env.simple_table("src");
    let call = |req: Value| env.err("RestoreTableToPointInTime", req);
    let both = call(
        json!({"SourceTableName": "src", "SourceTableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/src",
        "TargetTableName": "dst", "UseLatestRestorableTime": true}),
    );
    assert_eq!(both.0, "ValidationException");
    let neither = call(json!({"TargetTableName": "dst", "UseLatestRestorableTime": true}));
    assert_eq!(neither.0, "ValidationException");
    assert_eq!(
        call(json!({"SourceTableName": "src", "TargetTableName": "dst", "UseLatestRestorableTime": true, "RestoreDateTime": 1.0})),
        (
            "ValidationException".into(),
            "Invalid Request: Both RestoreDateTime and UseLatestRestorableTime cannot be set for point-in-time restore request.".into()
        )
    );
    assert_eq!(
        call(json!({"SourceTableName": "src", "TargetTableName": "dst"})),
        (
            "ValidationException".into(),
            "Invalid Request: Either one of RestoreDateTime or UseLatestRestorableTime must be specified, but not both".into()
        )
    );
    assert_eq!(
        call(
            json!({"SourceTableArn": "not-an-arn", "TargetTableName": "dst", "UseLatestRestorableTime": true})
        ),
        (
            "ValidationException".into(),
            "sourceTableArn is not a valid ARN".into()
        )
    );
    assert_eq!(
        call(
            json!({"SourceTableName": "nope", "TargetTableName": "dst", "UseLatestRestorableTime": true})
        ),
        (
            "TableNotFoundException".into(),
            "Table not found: nope".into()
        )
    );
    assert_eq!(
        call(
            json!({"SourceTableName": "src", "TargetTableName": "dst", "UseLatestRestorableTime": true})
        ),
        (
            "PointInTimeRecoveryUnavailableException".into(),
            "Point in time recovery is not enabled for table 'src'".into()
        )
    );
    env.engine
        .set_time("2031-01-01T00:00:00Z".parse().unwrap())
        .unwrap();
    enable(&env, "src", None);
    assert_eq!(
        call(json!({"SourceTableName": "src", "TargetTableName": "dst", "RestoreDateTime": 0.0})),
        (
            "InvalidRestoreTimeException".into(),
            "RestoreDateTime '1970-01-01T00:00:00Z' must be within EarliestRestorableDateTime '2031-01-01T00:00:00Z' and LatestRestorableDateTime '2031-01-01T00:00:00Z'".into()
        )
    );
    assert_eq!(
        call(
            json!({"SourceTableName": "src", "TargetTableName": "src", "UseLatestRestorableTime": true})
        ),
        (
            "TableAlreadyExistsException".into(),
            "Table already exists: src".into()
        )
    );
    // Right after enabling, the latest restorable time is the enable instant and works.
    let out = env.ok(
        "RestoreTableToPointInTime",
        json!({"SourceTableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/src", "TargetTableName": "dst", "UseLatestRestorableTime": true}),
    );
    assert_eq!(
        out["TableDescription"]["RestoreSummary"]["SourceTableArn"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/src"
    );
    assert_eq!(
        call(json!({"SourceTableName": "src", "TargetTableName": "dst", "UseLatestRestorableTime": true})).0,
        "TableInUseException"
    );
    env.settle();
    assert_eq!(env.status("dst"), "ACTIVE");
    // The restored table has PITR off.
    let d = env.ok("DescribeContinuousBackups", json!({"TableName": "dst"}));
    assert_eq!(
        d["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
        "DISABLED"
    );
}

#[test]
fn the_window_slides_and_old_history_folds_into_the_base() {
    let env = env();
    env.simple_table("tbl");
    enable(&env, "tbl", Some(1));
    put(&env, "tbl", "a", 1);
    env.engine.advance(3600).unwrap();
    put(&env, "tbl", "a", 2);
    put(&env, "tbl", "b", 1);
    // Two days later the window is the last day: Earliest = now - 1 day.
    env.engine.advance(2 * 86_400).unwrap();
    del(&env, "tbl", "b");
    let d = env.ok("DescribeContinuousBackups", json!({"TableName": "tbl"}));
    let p = &d["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"];
    let earliest = p["EarliestRestorableDateTime"].as_f64().unwrap();
    assert_eq!(earliest, now_s(&env) - 86_400.0);
    let before = env.err(
        "RestoreTableToPointInTime",
        json!({"SourceTableName": "tbl", "TargetTableName": "old", "RestoreDateTime": earliest - 1.0}),
    );
    assert_eq!(before.0, "InvalidRestoreTimeException");
    let got = restore_at(&env, "tbl", "atearliest", earliest);
    assert_eq!(got, BTreeMap::from([("a".into(), 2), ("b".into(), 1)]));
    env.engine.advance(301).unwrap();
    let latest = restore_at(&env, "tbl", "latest", now_s(&env) - 300.0);
    assert_eq!(latest, BTreeMap::from([("a".into(), 2)]));
}

#[test]
fn deleting_a_pitr_table_leaves_a_system_backup_for_35_days() {
    let env = env();
    env.simple_table("tbl");
    enable(&env, "tbl", None);
    put(&env, "tbl", "a", 1);
    put(&env, "tbl", "b", 2);
    env.simple_table("plain");
    env.ok("DeleteTable", json!({"TableName": "tbl"}));
    env.ok("DeleteTable", json!({"TableName": "plain"}));
    env.settle();
    // It appears 5 virtual seconds after the delete (AWS: ~5–10 s), not before.
    env.engine.advance(4).unwrap();
    let sys = env.ok("ListBackups", json!({"BackupType": "SYSTEM"}));
    assert_eq!(sys["BackupSummaries"], json!([]));
    env.engine.advance(1).unwrap();
    // Hidden from the default (USER) listing.
    assert_eq!(
        env.ok("ListBackups", json!({}))["BackupSummaries"],
        json!([])
    );
    let sys = env.ok("ListBackups", json!({"BackupType": "SYSTEM"}));
    let s = sys["BackupSummaries"].as_array().unwrap();
    assert_eq!(s.len(), 1, "only the PITR table gets one: {s:?}");
    let b = &s[0];
    assert_eq!(b["BackupName"], "tbl$DeletedTableBackup");
    assert_eq!(b["BackupType"], "SYSTEM");
    assert_eq!(b["BackupStatus"], "AVAILABLE");
    let arn = b["BackupArn"].as_str().unwrap().to_string();
    assert!(arn.ends_with("-00000000"), "{arn}");
    let created = b["BackupCreationDateTime"].as_f64().unwrap();
    assert_eq!(
        b["BackupExpiryDateTime"].as_f64().unwrap(),
        created + 35.0 * 86_400.0
    );
    // The periodic PITR pass that follows finds nothing left to back up.
    env.engine.advance(120).unwrap();
    let again = env.ok("ListBackups", json!({"BackupType": "SYSTEM"}));
    assert_eq!(again["BackupSummaries"].as_array().unwrap().len(), 1);
    let (code, msg) = env.err("DeleteBackup", json!({"BackupArn": arn}));
    assert_eq!(code, "ValidationException");
    assert!(
        msg.starts_with(&format!("User is not allowed to delete the system backup with arn {arn}. It will automatically expire on ")),
        "{msg}"
    );
    let d = env.ok("DescribeBackup", json!({"BackupArn": arn}));
    assert_eq!(
        d["BackupDescription"]["SourceTableFeatureDetails"],
        json!({})
    );
    env.ok(
        "RestoreTableFromBackup",
        json!({"TargetTableName": "back", "BackupArn": arn}),
    );
    env.settle();
    assert_eq!(
        contents(&env, "back"),
        BTreeMap::from([("a".into(), 1), ("b".into(), 2)])
    );
    env.engine.advance(35 * 86_400).unwrap();
    assert_eq!(
        env.ok("ListBackups", json!({"BackupType": "ALL"}))["BackupSummaries"],
        json!([])
    );
}

#[test]
fn no_system_backup_when_pitr_was_disabled_before_delete() {
    let env = env();
    env.simple_table("tbl");
    enable(&env, "tbl", None);
    env.ok(
        "UpdateContinuousBackups",
        json!({"TableName": "tbl", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": false}}),
    );
    env.ok("DeleteTable", json!({"TableName": "tbl"}));
    env.settle();
    env.engine.advance(600).unwrap();
    assert_eq!(
        env.ok("ListBackups", json!({"BackupType": "ALL"}))["BackupSummaries"],
        json!([])
    );
}
