//! Table lifecycle through the dispatcher: CreateTable validation and messages, CREATING →
//! ACTIVE by the settle job, DescribeTable fields, UpdateTable, DeleteTable and deletion
//! protection (reference §4.3, Appendix A).

mod common;

use common::Env;
use serde_json::json;

fn keyed(name: &str) -> serde_json::Value {
    json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    })
}

#[test]
fn create_answers_creating_then_the_job_makes_it_active() {
    // AWS: CreateTable returns TableStatus CREATING; DescribeTable later shows ACTIVE.
    let env = Env::new();
    let out = env.ok("CreateTable", keyed("tbl1"));
    let d = &out["TableDescription"];
    assert_eq!(d["TableStatus"], "CREATING");
    assert_eq!(
        d["TableArn"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/tbl1"
    );
    assert_eq!(d["TableId"].as_str().unwrap().len(), 36);
    assert_eq!(d["ItemCount"], 0);
    assert_eq!(d["ProvisionedThroughput"]["ReadCapacityUnits"], 5);
    assert_eq!(env.status("tbl1"), "CREATING");
    env.settle();
    assert_eq!(env.status("tbl1"), "ACTIVE");
    let list = env.ok("ListTables", json!({}));
    assert_eq!(list["TableNames"], json!(["tbl1"]));
}

#[test]
fn duplicate_and_missing_tables_use_dynamodb_codes() {
    let env = Env::new();
    env.table(keyed("tbl"));
    assert_eq!(
        env.err("CreateTable", keyed("tbl")),
        (
            "ResourceInUseException".into(),
            "Table already exists: tbl".into()
        )
    );
    assert_eq!(
        env.err("DescribeTable", json!({"TableName": "nope"})),
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found: Table: nope not found".into()
        )
    );
    // Item APIs on a missing table: ResourceNotFoundException without the table name.
    assert_eq!(
        env.err(
            "GetItem",
            json!({"TableName": "nope", "Key": {"id": {"S": "a"}}})
        ),
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found".into()
        )
    );
}

#[test]
fn tables_are_private_to_their_account() {
    let env = Env::new();
    env.table(keyed("tbl"));
    let other = env.other_account();
    let e = env
        .call_as(&other, "DescribeTable", json!({"TableName": "tbl"}))
        .unwrap_err();
    assert_eq!(common::describe_error(e).0, "ResourceNotFoundException");
    let l = env.call_as(&other, "ListTables", json!({})).unwrap();
    assert_eq!(l["TableNames"], json!([]));
}

#[test]
fn key_schema_and_billing_validation_messages() {
    let env = Env::new();
    let mut bad = keyed("tbl");
    bad["KeySchema"] = json!([{"AttributeName": "id", "KeyType": "RANGE"}]);
    assert_eq!(
        env.err("CreateTable", bad).1,
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    );
    let mut bad = keyed("tbl");
    bad["KeySchema"] = json!([{"AttributeName": "other", "KeyType": "HASH"}]);
    assert!(
        env.err("CreateTable", bad)
            .1
            .contains("Some index key attributes are not defined in AttributeDefinitions")
    );
    let mut bad = keyed("tbl");
    bad["AttributeDefinitions"] = json!([{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "x", "AttributeType": "S"}]);
    assert_eq!(
        env.err("CreateTable", bad).1,
        "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
    );
    let mut bad = keyed("tbl");
    bad.as_object_mut().unwrap().remove("ProvisionedThroughput");
    assert_eq!(
        env.err("CreateTable", bad).1,
        "No provisioned throughput specified for the table"
    );
    let mut bad = keyed("tbl");
    bad["BillingMode"] = json!("PAY_PER_REQUEST");
    assert_eq!(
        env.err("CreateTable", bad).1,
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
    );
    assert_eq!(env.ok("ListTables", json!({}))["TableNames"], json!([]));
}

#[test]
fn indexes_are_described_with_status_arn_and_projection() {
    let env = Env::new();
    env.table(json!({
        "TableName": "idx",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"}, {"AttributeName": "l", "AttributeType": "N"}
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "LocalSecondaryIndexes": [{"IndexName": "byL", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}}],
        "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"},
        "SSESpecification": {"Enabled": true},
        "TableClass": "STANDARD_INFREQUENT_ACCESS",
        "Tags": [{"Key": "team", "Value": "a"}]
    }));
    let t = env.ok("DescribeTable", json!({"TableName": "idx"}))["Table"].clone();
    let g = &t["GlobalSecondaryIndexes"][0];
    assert_eq!(g["IndexStatus"], "ACTIVE");
    assert_eq!(
        g["IndexArn"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/idx/index/byG"
    );
    assert_eq!(g["Projection"]["ProjectionType"], "KEYS_ONLY");
    assert_eq!(
        t["LocalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"],
        json!(["x"])
    );
    assert_eq!(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(t["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
    assert!(
        t["LatestStreamArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:dynamodb:us-east-1:123456789012:table/idx/stream/")
    );
    assert_eq!(t["SSEDescription"]["Status"], "ENABLED");
    assert_eq!(
        t["TableClassSummary"]["TableClass"],
        "STANDARD_INFREQUENT_ACCESS"
    );
    let arn = t["TableArn"].as_str().unwrap();
    let tags = env.ok("ListTagsOfResource", json!({"ResourceArn": arn}));
    assert_eq!(tags["Tags"], json!([{"Key": "team", "Value": "a"}]));
}

#[test]
fn lsi_needs_a_table_range_key() {
    let env = Env::new();
    let mut bad = keyed("tbl");
    bad["AttributeDefinitions"] = json!([{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "l", "AttributeType": "S"}]);
    bad["LocalSecondaryIndexes"] = json!([{"IndexName": "byL", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}}]);
    assert_eq!(
        env.err("CreateTable", bad).1,
        "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"
    );
}

#[test]
fn update_table_goes_through_updating_and_changes_throughput() {
    let env = Env::new();
    env.table(keyed("tbl"));
    let out = env.ok("UpdateTable", json!({"TableName": "tbl", "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 5}}));
    assert_eq!(out["TableDescription"]["TableStatus"], "UPDATING");
    assert_eq!(
        out["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"],
        10
    );
    assert!(out["TableDescription"]["ProvisionedThroughput"]["LastIncreaseDateTime"].is_number());
    // A second change while UPDATING is refused.
    let (code, msg) = env.err(
        "UpdateTable",
        json!({"TableName": "tbl", "BillingMode": "PAY_PER_REQUEST"}),
    );
    assert_eq!(code, "ResourceInUseException");
    assert_eq!(
        msg,
        "Attempt to change a resource which is still in use: Table is being updated: tbl"
    );
    env.settle();
    assert_eq!(env.status("tbl"), "ACTIVE");
    let (_, msg) = env.err("UpdateTable", json!({"TableName": "tbl", "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 5}}));
    assert!(
        msg.starts_with("The provided throughput for the table will not change")
            || msg.starts_with("The provisioned throughput for the table will not change")
    );
    env.ok(
        "UpdateTable",
        json!({"TableName": "tbl", "BillingMode": "PAY_PER_REQUEST"}),
    );
    env.settle();
    let d = env.ok("DescribeTable", json!({"TableName": "tbl"}));
    assert_eq!(
        d["Table"]["BillingModeSummary"]["BillingMode"],
        "PAY_PER_REQUEST"
    );
}

#[test]
fn gsi_added_by_update_table_is_backfilled() {
    let env = Env::new();
    env.simple_table("tbl");
    env.ok("PutItem", json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "color": {"S": "red"}}}));
    env.ok(
        "PutItem",
        json!({"TableName": "tbl", "Item": {"pk": {"S": "b"}, "sk": {"N": "1"}}}),
    );
    let out = env.ok("UpdateTable", json!({
        "TableName": "tbl",
        "AttributeDefinitions": [{"AttributeName": "color", "AttributeType": "S"}],
        "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "byColor", "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}}]
    }));
    assert_eq!(
        out["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"],
        "CREATING"
    );
    env.settle();
    let d = env.ok("DescribeTable", json!({"TableName": "tbl"}));
    assert_eq!(
        d["Table"]["GlobalSecondaryIndexes"][0]["IndexStatus"],
        "ACTIVE"
    );
    assert_eq!(d["Table"]["GlobalSecondaryIndexes"][0]["ItemCount"], 1);
    let q = env.ok("Query", json!({"TableName": "tbl", "IndexName": "byColor", "KeyConditionExpression": "color = :c", "ExpressionAttributeValues": {":c": {"S": "red"}}}));
    assert_eq!(q["Count"], 1);
    // Delete it again.
    env.ok("UpdateTable", json!({"TableName": "tbl", "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "byColor"}}]}));
    env.settle();
    let d = env.ok("DescribeTable", json!({"TableName": "tbl"}));
    assert!(d["Table"].get("GlobalSecondaryIndexes").is_none());
}

#[test]
fn delete_respects_deletion_protection_then_removes_the_table() {
    let env = Env::new();
    let mut input = keyed("tbl");
    input["DeletionProtectionEnabled"] = json!(true);
    env.table(input);
    assert_eq!(
        env.err("DeleteTable", json!({"TableName": "tbl"})),
        (
            "ValidationException".into(),
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.".into()
        )
    );
    let out = env.ok(
        "UpdateTable",
        json!({"TableName": "tbl", "DeletionProtectionEnabled": false}),
    );
    assert_eq!(out["TableDescription"]["TableStatus"], "ACTIVE");
    env.ok(
        "PutItem",
        json!({"TableName": "tbl", "Item": {"id": {"S": "x"}}}),
    );
    let out = env.ok("DeleteTable", json!({"TableName": "tbl"}));
    assert_eq!(out["TableDescription"]["TableStatus"], "DELETING");
    assert_eq!(out["TableDescription"]["ItemCount"], 1);
    env.settle();
    assert_eq!(
        env.err("DescribeTable", json!({"TableName": "tbl"})).0,
        "ResourceNotFoundException"
    );
    // A new incarnation starts empty.
    env.table(keyed("tbl"));
    let s = env.ok("Scan", json!({"TableName": "tbl"}));
    assert_eq!(s["Count"], 0);
}

#[test]
fn describe_limits_and_endpoints() {
    let env = Env::new();
    let l = env.ok("DescribeLimits", json!({}));
    assert_eq!(l["TableMaxReadCapacityUnits"], 40000);
    let e = env.ok("DescribeEndpoints", json!({}));
    assert_eq!(e["Endpoints"][0]["CachePeriodInMinutes"], 1440);
}

/// Warm throughput (DescribeTable `WarmThroughput`, per GSI too): new tables and GSIs start
/// at 12,000/4,000 read/write units per second, a requested or higher provisioned value
/// raises it, and it never falls.
#[test]
fn warm_throughput_starts_at_the_default_rises_and_never_falls() {
    let env = Env::new();
    let warm = |name: &str| {
        env.ok("DescribeTable", json!({"TableName": name}))["Table"]["WarmThroughput"].clone()
    };
    let out = env.ok("CreateTable", keyed("prov"));
    assert_eq!(
        out["TableDescription"]["WarmThroughput"],
        json!({"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "CREATING"})
    );
    env.settle();
    assert_eq!(
        warm("prov"),
        json!({"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"})
    );
    // Provisioned throughput above the warm value raises it; lowering it again does not.
    let update = |pt: serde_json::Value| {
        env.ok(
            "UpdateTable",
            json!({"TableName": "prov", "ProvisionedThroughput": pt}),
        );
        env.settle();
    };
    update(json!({"ReadCapacityUnits": 20000, "WriteCapacityUnits": 5}));
    update(json!({"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}));
    assert_eq!(
        warm("prov"),
        json!({"ReadUnitsPerSecond": 20000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"})
    );
    // Requested values, on the table and on a GSI, at creation and by UpdateTable.
    env.ok(
        "CreateTable",
        json!({
            "TableName": "odt",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "WarmThroughput": {"ReadUnitsPerSecond": 30000, "WriteUnitsPerSecond": 10000},
            "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"}}]
        }),
    );
    env.settle();
    assert_eq!(
        warm("odt"),
        json!({"ReadUnitsPerSecond": 30000, "WriteUnitsPerSecond": 10000, "Status": "ACTIVE"})
    );
    let gsi_warm = || {
        env.ok("DescribeTable", json!({"TableName": "odt"}))["Table"]["GlobalSecondaryIndexes"][0]
            ["WarmThroughput"]
            .clone()
    };
    assert_eq!(
        gsi_warm(),
        json!({"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"})
    );
    env.ok(
        "UpdateTable",
        json!({"TableName": "odt", "WarmThroughput": {"WriteUnitsPerSecond": 15000},
            "GlobalSecondaryIndexUpdates": [{"Update": {"IndexName": "byG", "WarmThroughput": {"ReadUnitsPerSecond": 50000}}}]}),
    );
    env.settle();
    assert_eq!(
        warm("odt"),
        json!({"ReadUnitsPerSecond": 30000, "WriteUnitsPerSecond": 15000, "Status": "ACTIVE"})
    );
    assert_eq!(
        gsi_warm(),
        json!({"ReadUnitsPerSecond": 50000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"})
    );
    // A lower value changes nothing.
    env.ok(
        "UpdateTable",
        json!({"TableName": "odt", "WarmThroughput": {"ReadUnitsPerSecond": 13000}}),
    );
    env.settle();
    assert_eq!(warm("odt")["ReadUnitsPerSecond"], 30000);
    // Backups do not record warm throughput: a restored table starts at the default.
    let arn = env.ok(
        "CreateBackup",
        json!({"TableName": "odt", "BackupName": "bak"}),
    )["BackupDetails"]["BackupArn"]
        .clone();
    env.settle();
    env.ok(
        "RestoreTableFromBackup",
        json!({"TargetTableName": "odt2", "BackupArn": arn}),
    );
    env.settle();
    assert_eq!(
        warm("odt2"),
        json!({"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"})
    );
}
