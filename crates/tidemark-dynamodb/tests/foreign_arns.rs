//! Another account's ARN. AWS answers a well-formed backup ARN of another account with
//! `AccessDeniedException` `Access is denied`, checked after the ARN's form and before any
//! lookup (reference §2.5, §2.6, §2.10, Appendix A, observed); tidemark gives the same answer
//! for every member that takes a table ARN, where the reference records no answer, except
//! RestoreTableToPointInTime's `SourceTableArn`, which AWS refuses with a ValidationException
//! (§2.11 step 1, observed). Whatever the answer, nothing of the owner's changes.

mod common;

use common::Env;
use serde_json::{Value, json};

const OWNER_TABLE_ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/tbl";

/// The owner's table `tbl` with an item, a tag, TTL on `exp`, PITR on, and one backup (its ARN).
fn owner() -> (Env, String) {
    let env = Env::new();
    env.simple_table("tbl");
    env.ok(
        "PutItem",
        json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "mine"}}}),
    );
    env.ok(
        "TagResource",
        json!({"ResourceArn": OWNER_TABLE_ARN, "Tags": [{"Key": "team", "Value": "owner"}]}),
    );
    env.ok(
        "UpdateTimeToLive",
        json!({"TableName": "tbl", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
    );
    env.ok(
        "UpdateContinuousBackups",
        json!({"TableName": "tbl", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    );
    let out = env.ok(
        "CreateBackup",
        json!({"TableName": "tbl", "BackupName": "nightly"}),
    );
    env.settle();
    let arn = out["BackupDetails"]["BackupArn"]
        .as_str()
        .unwrap()
        .to_owned();
    (env, arn)
}

/// `(code, message)` the other account gets.
fn as_other(env: &Env, op: &str, input: Value) -> (String, String) {
    match env.call_as(&env.other_account(), op, input) {
        Ok(v) => panic!("{op} unexpectedly succeeded for another account: {v}"),
        Err(e) => common::describe_error(e),
    }
}

fn denied() -> (String, String) {
    ("AccessDeniedException".into(), "Access is denied".into())
}

/// What the owner can see of its own resources, to show that refused calls changed nothing.
fn owner_view(env: &Env, backup_arn: &str) -> Value {
    json!({
        "table": env.ok("DescribeTable", json!({"TableName": "tbl"}))["Table"]["DeletionProtectionEnabled"],
        "items": env.ok("Scan", json!({"TableName": "tbl"}))["Items"],
        "tags": env.ok("ListTagsOfResource", json!({"ResourceArn": OWNER_TABLE_ARN}))["Tags"],
        "ttl": env.ok("DescribeTimeToLive", json!({"TableName": "tbl"})),
        "pitr": env.ok("DescribeContinuousBackups", json!({"TableName": "tbl"}))
            ["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
        "backups": env.ok("ListBackups", json!({}))["BackupSummaries"],
        "backup": env.ok("DescribeBackup", json!({"BackupArn": backup_arn}))["BackupDescription"],
    })
}

#[test]
fn another_accounts_backup_arn_is_access_denied() {
    let (env, arn) = owner();
    let before = owner_view(&env, &arn);
    assert_eq!(
        before["backup"]["BackupDetails"]["BackupStatus"],
        "AVAILABLE"
    );
    for (op, input) in [
        ("DescribeBackup", json!({"BackupArn": arn})),
        ("DeleteBackup", json!({"BackupArn": arn})),
        (
            "RestoreTableFromBackup",
            json!({"TargetTableName": "stolen", "BackupArn": arn}),
        ),
        // The cursor was a 500 InternalServerError before: ListBackups declares no
        // BackupNotFoundException.
        ("ListBackups", json!({"ExclusiveStartBackupArn": arn})),
    ] {
        assert_eq!(as_other(&env, op, input), denied(), "{op}");
    }
    // A backup that does not exist in the other account is denied just the same: the answer
    // says nothing about whether it exists.
    let missing = arn
        .replace("/backup/", "/backup/9")
        .replace("tbl", "nothere");
    assert_eq!(
        as_other(&env, "DescribeBackup", json!({"BackupArn": missing})),
        denied()
    );
    assert_eq!(owner_view(&env, &arn), before);
    let theirs = env
        .call_as(&env.other_account(), "ListTables", json!({}))
        .unwrap();
    assert_eq!(theirs["TableNames"], json!([]));
}

#[test]
fn another_accounts_table_arn_is_access_denied_wherever_a_table_arn_is_taken() {
    let (env, arn) = owner();
    let before = owner_view(&env, &arn);
    let t = OWNER_TABLE_ARN;
    let key = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
    let item = json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "forged"}});
    for (op, input) in [
        ("DescribeTable", json!({"TableName": t})),
        (
            "UpdateTable",
            json!({"TableName": t, "DeletionProtectionEnabled": true}),
        ),
        ("DeleteTable", json!({"TableName": t})),
        ("PutItem", json!({"TableName": t, "Item": item})),
        ("GetItem", json!({"TableName": t, "Key": key})),
        (
            "UpdateItem",
            json!({"TableName": t, "Key": key, "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "forged"}}}),
        ),
        ("DeleteItem", json!({"TableName": t, "Key": key})),
        (
            "Query",
            json!({"TableName": t, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}),
        ),
        ("Scan", json!({"TableName": t})),
        (
            "BatchGetItem",
            json!({"RequestItems": {t: {"Keys": [key]}}}),
        ),
        (
            "BatchWriteItem",
            json!({"RequestItems": {t: [{"DeleteRequest": {"Key": key}}]}}),
        ),
        (
            "TransactGetItems",
            json!({"TransactItems": [{"Get": {"TableName": t, "Key": key}}]}),
        ),
        (
            "TransactWriteItems",
            json!({"TransactItems": [{"Delete": {"TableName": t, "Key": key}}]}),
        ),
        (
            "CreateBackup",
            json!({"TableName": t, "BackupName": "forged"}),
        ),
        ("ListBackups", json!({"TableName": t})),
        ("DescribeContinuousBackups", json!({"TableName": t})),
        (
            "UpdateContinuousBackups",
            json!({"TableName": t, "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": false}}),
        ),
        ("DescribeTimeToLive", json!({"TableName": t})),
        (
            "UpdateTimeToLive",
            json!({"TableName": t, "TimeToLiveSpecification": {"Enabled": false, "AttributeName": "exp"}}),
        ),
        (
            "TagResource",
            json!({"ResourceArn": t, "Tags": [{"Key": "team", "Value": "mallory"}]}),
        ),
        (
            "UntagResource",
            json!({"ResourceArn": t, "TagKeys": ["team"]}),
        ),
        ("ListTagsOfResource", json!({"ResourceArn": t})),
    ] {
        assert_eq!(as_other(&env, op, input), denied(), "{op}");
    }
    // A table that exists nowhere is denied too: existence is never looked at.
    assert_eq!(
        as_other(
            &env,
            "DescribeTable",
            json!({"TableName": "arn:aws:dynamodb:us-east-1:123456789012:table/nothere"})
        ),
        denied()
    );
    assert_eq!(owner_view(&env, &arn), before);
}

#[test]
fn a_malformed_arn_is_still_a_validation_error_first() {
    let (env, arn) = owner();
    let validation = |m: &str| ("ValidationException".to_owned(), m.to_owned());
    // Table ARNs: an account that is not 12 digits, no table name, an index ARN.
    for bad in [
        "arn:aws:dynamodb:us-east-1:12345678901:table/tbl",
        "arn:aws:dynamodb:us-east-1:123456789012:table/",
        "arn:aws:dynamodb:us-east-1:123456789012:table/tbl/index/i",
        "arn:aws:s3:us-east-1:123456789012:table/tbl",
    ] {
        assert_eq!(
            as_other(&env, "DescribeTable", json!({"TableName": bad})),
            validation(&format!("Invalid TableArn: {bad}")),
            "{bad}"
        );
        assert_eq!(
            as_other(&env, "ListTagsOfResource", json!({"ResourceArn": bad})),
            validation(&format!("Invalid TableArn: {bad}")),
            "{bad}"
        );
    }
    // Backup ARNs: another account's table ARN given as one; an account that is not 12 digits.
    assert_eq!(
        as_other(
            &env,
            "DescribeBackup",
            json!({"BackupArn": OWNER_TABLE_ARN})
        ),
        validation("Invalid Backup ARN")
    );
    let bad_account = arn.replace("123456789012", "12345678901x");
    assert_eq!(
        as_other(&env, "DeleteBackup", json!({"BackupArn": bad_account})),
        validation("BackupArn is not valid")
    );
    // The caller's own table ARN for another region: regions are separate namespaces.
    let own_elsewhere = "arn:aws:dynamodb:eu-west-1:210987654321:table/tbl";
    assert_eq!(
        as_other(&env, "DescribeTable", json!({"TableName": own_elsewhere})),
        validation(&format!("Invalid TableArn: {own_elsewhere}"))
    );
}

#[test]
fn point_in_time_restore_refuses_another_accounts_source_arn_as_a_validation_error() {
    // §2.11 step 1 [O]: "other account's ARN → ValidationException (account mismatch)".
    let (env, arn) = owner();
    let before = owner_view(&env, &arn);
    let (code, message) = as_other(
        &env,
        "RestoreTableToPointInTime",
        json!({"SourceTableArn": OWNER_TABLE_ARN, "TargetTableName": "stolen", "UseLatestRestorableTime": true}),
    );
    assert_eq!(code, "ValidationException");
    assert!(message.contains("does not match"), "{message}");
    assert_eq!(owner_view(&env, &arn), before);
}
