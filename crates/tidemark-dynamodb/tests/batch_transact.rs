//! BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems (reference §4.3
//! "batch" and "transactions").

mod common;

use common::Env;
use serde_json::json;

fn env() -> Env {
    let env = Env::new();
    env.simple_table("tbl");
    env
}

fn key(pk: &str, sk: i64) -> serde_json::Value {
    json!({"pk": {"S": pk}, "sk": {"N": sk.to_string()}})
}

#[test]
fn batch_write_then_batch_get() {
    let env = env();
    let puts: Vec<_> = (0..25)
        .map(|i| json!({"PutRequest": {"Item": key("a", i)}}))
        .collect();
    let out = env.ok("BatchWriteItem", json!({"RequestItems": {"tbl": puts}}));
    assert_eq!(out["UnprocessedItems"], json!({}));
    let keys: Vec<_> = (0..30).map(|i| key("a", i)).collect();
    let out = env.ok(
        "BatchGetItem",
        json!({"RequestItems": {"tbl": {"Keys": keys}}}),
    );
    assert_eq!(out["Responses"]["tbl"].as_array().unwrap().len(), 25);
    assert_eq!(out["UnprocessedKeys"], json!({}));
    let del = vec![json!({"DeleteRequest": {"Key": key("a", 0)}})];
    env.ok("BatchWriteItem", json!({"RequestItems": {"tbl": del}}));
    assert_eq!(
        env.ok("DescribeTable", json!({"TableName": "tbl"}))["Table"]["ItemCount"],
        24
    );
}

#[test]
fn batch_limits_and_duplicates() {
    let env = env();
    // Over 100 keys in one table is the model's length constraint; over 100 across
    // tables is DynamoDB's own check.
    env.simple_table("other");
    let keys: Vec<_> = (0..60).map(|i| key("a", i)).collect();
    assert_eq!(
        env.err(
            "BatchGetItem",
            json!({"RequestItems": {"tbl": {"Keys": keys}, "other": {"Keys": keys}}})
        )
        .1,
        "Too many items requested for the BatchGetItem call"
    );
    let dup = vec![
        json!({"PutRequest": {"Item": key("a", 1)}}),
        json!({"DeleteRequest": {"Key": key("a", 1)}}),
    ];
    assert_eq!(
        env.err("BatchWriteItem", json!({"RequestItems": {"tbl": dup}}))
            .1,
        "Provided list of item keys contains duplicates"
    );
}

#[test]
fn transaction_is_all_or_nothing_with_cancellation_reasons() {
    let env = env();
    env.ok(
        "PutItem",
        json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"N": "1"}}}),
    );
    let res = env.call("TransactWriteItems", json!({"TransactItems": [
        {"Put": {"TableName": "tbl", "Item": key("a", 2)}},
        {"Update": {"TableName": "tbl", "Key": key("a", 1), "UpdateExpression": "SET v = :v", "ConditionExpression": "v = :old", "ExpressionAttributeValues": {":v": {"N": "2"}, ":old": {"N": "9"}}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}
    ]}));
    match res {
        Err(tidemark_model::DispatchError::Modeled(m)) => {
            assert_eq!(m.shape, "TransactionCanceledException");
            assert_eq!(
                m.message().unwrap(),
                "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
            );
            assert_eq!(m.body["CancellationReasons"][0]["Code"], "None");
            assert_eq!(
                m.body["CancellationReasons"][1]["Item"]["v"],
                json!({"N": "1"})
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing was written.
    let got = env.ok("GetItem", json!({"TableName": "tbl", "Key": key("a", 2)}));
    assert!(got.get("Item").is_none());
    env.ok("TransactWriteItems", json!({"TransactItems": [
        {"Put": {"TableName": "tbl", "Item": key("a", 2)}},
        {"ConditionCheck": {"TableName": "tbl", "Key": key("a", 1), "ConditionExpression": "attribute_exists(v)"}},
        {"Delete": {"TableName": "tbl", "Key": key("a", 3)}}
    ]}));
    let out = env.ok(
        "TransactGetItems",
        json!({"TransactItems": [
            {"Get": {"TableName": "tbl", "Key": key("a", 2)}},
            {"Get": {"TableName": "tbl", "Key": key("a", 9)}}
        ]}),
    );
    assert_eq!(out["Responses"][0]["Item"]["pk"], json!({"S": "a"}));
    assert_eq!(out["Responses"][1], json!({}));
}

#[test]
fn transaction_refuses_two_actions_on_one_item() {
    let env = env();
    let (_, msg) = env.err(
        "TransactWriteItems",
        json!({"TransactItems": [
            {"Put": {"TableName": "tbl", "Item": key("a", 2)}},
            {"Delete": {"TableName": "tbl", "Key": key("a", 2)}}
        ]}),
    );
    assert_eq!(
        msg,
        "Transaction request cannot include multiple operations on one item"
    );
}

#[test]
fn client_request_token_makes_a_transaction_idempotent() {
    // The same token and items within 10 minutes apply once; other items with that token are
    // IdempotentParameterMismatchException.
    let env = env();
    let update = |v: &str| {
        json!({"ClientRequestToken": "tok-1", "TransactItems": [
            {"Update": {"TableName": "tbl", "Key": key("a", 1), "UpdateExpression": "ADD n :v", "ExpressionAttributeValues": {":v": {"N": v}}}}
        ]})
    };
    env.ok("TransactWriteItems", update("1"));
    env.ok("TransactWriteItems", update("1"));
    let got = env.ok("GetItem", json!({"TableName": "tbl", "Key": key("a", 1)}));
    assert_eq!(got["Item"]["n"], json!({"N": "1"}));
    assert_eq!(
        env.err("TransactWriteItems", update("2")).0,
        "IdempotentParameterMismatchException"
    );
    env.engine.advance(11 * 60).unwrap();
    env.ok("TransactWriteItems", update("1"));
    let got = env.ok("GetItem", json!({"TableName": "tbl", "Key": key("a", 1)}));
    assert_eq!(got["Item"]["n"], json!({"N": "2"}));
}
