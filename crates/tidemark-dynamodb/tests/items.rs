//! PutItem/GetItem/UpdateItem/DeleteItem through the dispatcher: conditions, return values,
//! consumed capacity, the 400 KB limit, key checks and expression errors (reference §4.3).

mod common;

use common::Env;
use serde_json::json;

fn env() -> Env {
    let env = Env::new();
    env.simple_table("tbl");
    env
}

#[test]
fn put_then_get_round_trips_every_type() {
    let env = env();
    let item = json!({
        "pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "-12.50"}, "b": {"B": "AAEC"},
        "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AQ=="]},
        "m": {"M": {"k": {"BOOL": true}}}, "l": {"L": [{"NULL": true}, {"S": "z"}]}
    });
    env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
    let got = env.ok(
        "GetItem",
        json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}),
    );
    assert_eq!(got["Item"]["n"], json!({"N": "-12.5"}));
    assert_eq!(got["Item"]["b"], json!({"B": "AAEC"}));
    assert_eq!(got["Item"]["m"], json!({"M": {"k": {"BOOL": true}}}));
    assert_eq!(got["Item"]["l"], json!({"L": [{"NULL": true}, {"S": "z"}]}));
    // A missing item: no Item member at all.
    let none = env.ok(
        "GetItem",
        json!({"TableName": "tbl", "Key": {"pk": {"S": "b"}, "sk": {"N": "1"}}}),
    );
    assert!(none.get("Item").is_none());
}

#[test]
fn key_checks_use_dynamodb_messages() {
    let env = env();
    assert_eq!(
        env.err(
            "GetItem",
            json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}}})
        )
        .1,
        "The provided key element does not match the schema"
    );
    assert_eq!(
        env.err(
            "PutItem",
            json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}}})
        )
        .1,
        "One or more parameter values were invalid: Missing the key sk in the item"
    );
    assert_eq!(
        env.err(
            "PutItem",
            json!({"TableName": "tbl", "Item": {"pk": {"N": "1"}, "sk": {"N": "1"}}})
        )
        .1,
        "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
    );
}

#[test]
fn item_size_limit_is_400_kb() {
    // Exactly 409600 bytes is accepted, one more byte is refused (reference: MAX_ITEM_BYTES).
    let env = env();
    let overhead = "pk".len() + 1 + "sk".len() + 2 + "v".len();
    let ok = "x".repeat(409_600 - overhead);
    env.ok(
        "PutItem",
        json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": ok}}}),
    );
    let big = "x".repeat(409_601 - overhead);
    assert_eq!(
        env.err(
            "PutItem",
            json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": big}}})
        )
        .1,
        "Item size has exceeded the maximum allowed size"
    );
}

#[test]
fn condition_failure_returns_the_old_item_when_asked() {
    let env = env();
    let item = json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"N": "1"}});
    env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
    let (code, msg) = env.err(
        "PutItem",
        json!({"TableName": "tbl", "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}),
    );
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "ConditionalCheckFailedException",
            "The conditional request failed"
        )
    );
    match env.call("PutItem", json!({"TableName": "tbl", "Item": item, "ConditionExpression": "attribute_not_exists(pk)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})) {
        Err(tidemark_model::DispatchError::Modeled(m)) => assert_eq!(m.body["Item"]["v"], json!({"N": "1"})),
        other => panic!("{other:?}"),
    }
}

#[test]
fn update_item_expressions_and_return_values() {
    let env = env();
    let key = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
    // Upsert: the item is created with its key.
    let out = env.ok("UpdateItem", json!({"TableName": "tbl", "Key": key, "UpdateExpression": "SET #c = :one, tags = :t", "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": {":one": {"N": "1"}, ":t": {"SS": ["a"]}}, "ReturnValues": "ALL_NEW"}));
    assert_eq!(out["Attributes"]["pk"], json!({"S": "a"}));
    assert_eq!(out["Attributes"]["count"], json!({"N": "1"}));
    let out = env.ok("UpdateItem", json!({"TableName": "tbl", "Key": key, "UpdateExpression": "ADD #c :one, tags :t2", "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": {":one": {"N": "4"}, ":t2": {"SS": ["b"]}}, "ReturnValues": "UPDATED_NEW"}));
    assert_eq!(
        out["Attributes"],
        json!({"count": {"N": "5"}, "tags": {"SS": ["a", "b"]}})
    );
    let out = env.ok("UpdateItem", json!({"TableName": "tbl", "Key": key, "UpdateExpression": "REMOVE tags", "ReturnValues": "UPDATED_OLD"}));
    assert_eq!(out["Attributes"], json!({"tags": {"SS": ["a", "b"]}}));
    assert_eq!(
        env.err("UpdateItem", json!({"TableName": "tbl", "Key": key, "UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": {":v": {"S": "b"}}})).1,
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    );
    let (code, _) = env.err("UpdateItem", json!({"TableName": "tbl", "Key": key, "UpdateExpression": "SET v = :v", "ConditionExpression": "#c > :ten", "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": {":v": {"S": "b"}, ":ten": {"N": "10"}}}));
    assert_eq!(code, "ConditionalCheckFailedException");
}

#[test]
fn expression_errors_reach_the_client() {
    let env = env();
    let key = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
    assert_eq!(
        env.err(
            "UpdateItem",
            json!({"TableName": "tbl", "Key": key, "UpdateExpression": "SET a = :v"})
        )
        .1,
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v"
    );
    assert_eq!(
        env.err("GetItem", json!({"TableName": "tbl", "Key": key, "ProjectionExpression": "a", "ExpressionAttributeNames": {"#x": "x"}})).1,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"
    );
    assert_eq!(
        env.err("PutItem", json!({"TableName": "tbl", "Item": key, "ConditionExpression": "size = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}})).1,
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: size"
    );
}

#[test]
fn delete_and_return_values_and_capacity() {
    let env = env();
    let key = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
    let item = json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "x".repeat(3000)}});
    let out = env.ok(
        "PutItem",
        json!({"TableName": "tbl", "Item": item, "ReturnConsumedCapacity": "TOTAL"}),
    );
    // 3 KB item: 3 write units.
    assert_eq!(
        out["ConsumedCapacity"],
        json!({"TableName": "tbl", "CapacityUnits": 3.0})
    );
    let got = env.ok(
        "GetItem",
        json!({"TableName": "tbl", "Key": key, "ReturnConsumedCapacity": "TOTAL"}),
    );
    // Eventually consistent read of ≤ 4 KB: half a unit.
    assert_eq!(got["ConsumedCapacity"]["CapacityUnits"], 0.5);
    let got = env.ok("GetItem", json!({"TableName": "tbl", "Key": key, "ConsistentRead": true, "ReturnConsumedCapacity": "TOTAL"}));
    assert_eq!(got["ConsumedCapacity"]["CapacityUnits"], 1.0);
    assert_eq!(
        env.err(
            "DeleteItem",
            json!({"TableName": "tbl", "Key": key, "ReturnValues": "ALL_NEW"})
        )
        .1,
        "ReturnValues can only be ALL_OLD or NONE"
    );
    let out = env.ok(
        "DeleteItem",
        json!({"TableName": "tbl", "Key": key, "ReturnValues": "ALL_OLD"}),
    );
    assert_eq!(out["Attributes"]["pk"], json!({"S": "a"}));
    let d = env.ok("DescribeTable", json!({"TableName": "tbl"}));
    assert_eq!(d["Table"]["ItemCount"], 0);
    assert_eq!(d["Table"]["TableSizeBytes"], 0);
}

#[test]
fn counters_follow_writes() {
    let env = env();
    for i in 0..3 {
        env.ok("PutItem", json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": i.to_string()}, "v": {"S": "abc"}}}));
    }
    let d = env.ok("DescribeTable", json!({"TableName": "tbl"}));
    assert_eq!(d["Table"]["ItemCount"], 3);
    // pk(2)+1 byte, sk(2)+1 byte number, v(1)+3 bytes = 10 bytes each... computed by item_size.
    assert!(d["Table"]["TableSizeBytes"].as_i64().unwrap() > 0);
}

#[test]
fn table_arn_is_accepted_as_table_name() {
    // Since 2024 the item APIs accept a table ARN in TableName.
    let env = env();
    let arn = "arn:aws:dynamodb:us-east-1:123456789012:table/tbl";
    env.ok(
        "PutItem",
        json!({"TableName": arn, "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}),
    );
    let got = env.ok(
        "GetItem",
        json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}),
    );
    assert!(got.get("Item").is_some());
}

#[test]
fn secondary_index_keys_must_have_the_index_type() {
    // A write whose GSI key attribute has the wrong type is refused, not left out of the index.
    let env = Env::new();
    env.table(json!({
        "TableName": "gsi_tbl",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "gk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [{"IndexName": "byGk", "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}]
    }));
    assert_eq!(
        env.err(
            "PutItem",
            json!({"TableName": "gsi_tbl", "Item": {"pk": {"S": "a"}, "gk": {"N": "1"}}})
        )
        .1,
        "One or more parameter values were invalid: Type mismatch for Index Key gk Expected: S Actual: N IndexName: byGk"
    );
    assert_eq!(
        env.err("UpdateItem", json!({"TableName": "gsi_tbl", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET gk = :e", "ExpressionAttributeValues": {":e": {"S": ""}}})).1,
        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: byGk, IndexKey: gk"
    );
}
