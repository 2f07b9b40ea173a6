//! Bounded work per request (docs/reliability.md, "Bounded work per request"): no expression,
//! attribute value or legacy parameter can overflow a thread's stack or take quadratic time.
//! These run on the test thread, whose 2 MiB stack is the size of the server's tokio workers,
//! so each deep input here would abort the whole test binary on the old code.

mod common;

use common::Env;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn env() -> Env {
    let env = Env::new();
    env.simple_table("tbl");
    env
}

/// Generous for a debug build on two busy cores; the old code took from 29 s (release) to
/// minutes (debug) on the same inputs.
const QUICK: Duration = Duration::from_secs(5);

fn key() -> Value {
    json!({"pk": {"S": "a"}, "sk": {"N": "1"}})
}

fn parens(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "(".repeat(depth), ")".repeat(depth))
}

const TOO_DEEP: &str = "The expression has too many levels of nesting; nesting depth: 65";

/// The 905-byte, 449-deep condition that aborted the server (exit 134) on PutItem, Query and
/// Scan, with the table existing or not: now a ValidationException, and the next request works.
#[test]
fn deeply_parenthesised_conditions_are_refused_not_fatal() {
    let env = env();
    let deep = parens(449, "a = :v");
    let values = json!({":v": {"S": "x"}});
    let calls = [
        (
            "PutItem",
            "tbl",
            "ConditionExpression",
            json!({"Item": key(), "ConditionExpression": deep, "ExpressionAttributeValues": values}),
        ),
        (
            "PutItem",
            "missing",
            "ConditionExpression",
            json!({"Item": key(), "ConditionExpression": deep, "ExpressionAttributeValues": values}),
        ),
        (
            "Query",
            "tbl",
            "KeyConditionExpression",
            json!({"KeyConditionExpression": parens(445, "pk = :v"), "ExpressionAttributeValues": values}),
        ),
        (
            "Query",
            "tbl",
            "FilterExpression",
            json!({"KeyConditionExpression": "pk = :p", "FilterExpression": parens(445, "a = :v"),
                   "ExpressionAttributeValues": {":v": {"S": "x"}, ":p": {"S": "a"}}}),
        ),
        (
            "Scan",
            "tbl",
            "FilterExpression",
            json!({"FilterExpression": parens(446, "a = :v"), "ExpressionAttributeValues": values}),
        ),
        (
            "Scan",
            "missing",
            "FilterExpression",
            json!({"FilterExpression": parens(446, "a = :v"), "ExpressionAttributeValues": values}),
        ),
    ];
    for (op, table, member, mut input) in calls {
        input["TableName"] = json!(table);
        let started = Instant::now();
        let (code, message) = env.err(op, input);
        assert_eq!(code, "ValidationException", "{op} on {table}");
        assert_eq!(
            message,
            format!("Invalid {member}: {TOO_DEEP}"),
            "{op} on {table}"
        );
        assert!(started.elapsed() < QUICK, "{op}: {:?}", started.elapsed());
    }
    // Parenthesised operands and function calls nest through the same bound.
    let (_, message) = env.err(
        "Scan",
        json!({"TableName": "tbl", "FilterExpression": format!("{} = :v", parens(300, "a")),
               "ExpressionAttributeValues": values}),
    );
    assert_eq!(message, format!("Invalid FilterExpression: {TOO_DEEP}"));
    let (_, message) = env.err(
        "UpdateItem",
        json!({"TableName": "tbl", "Key": key(), "UpdateExpression": format!("SET a = {}", parens(300, ":v")),
               "ExpressionAttributeValues": values}),
    );
    assert_eq!(message, format!("Invalid UpdateExpression: {TOO_DEEP}"));
    // The dispatcher is still serving.
    env.ok("PutItem", json!({"TableName": "tbl", "Item": key()}));
}

/// MAX_NESTING at its boundary, with NOTs (each one a level, and `NOT NOT ...` recursed once
/// per NOT): 64 levels are evaluated, 65 refused.
#[test]
fn nesting_limit_boundary() {
    let env = env();
    env.ok("PutItem", json!({"TableName": "tbl", "Item": key()}));
    let scan = |depth: usize| {
        env.call(
            "Scan",
            json!({"TableName": "tbl", "FilterExpression": format!("{}pk = :v", "NOT ".repeat(depth)),
                   "ExpressionAttributeValues": {":v": {"S": "a"}}}),
        )
    };
    // An even number of NOTs keeps the item.
    assert_eq!(scan(64).expect("64 levels")["Count"], json!(1));
    let (code, message) = common::describe_error(scan(65).unwrap_err());
    assert_eq!(code, "ValidationException");
    assert_eq!(message, format!("Invalid FilterExpression: {TOO_DEEP}"));
    // Far beyond the bound (a 4 KB expression holds ~1,000 NOTs): the same answer, not a crash.
    let (_, message) = common::describe_error(scan(1000).unwrap_err());
    assert_eq!(message, format!("Invalid FilterExpression: {TOO_DEEP}"));
}

/// DynamoDB's 300 operators per expression: comparisons, BETWEEN, IN and functions count, AND
/// and OR do not (DynamoDB refused `a<b and (a<b and ...)` at the 301st `<`).
#[test]
fn operator_limit_boundary() {
    let env = env();
    env.ok("PutItem", json!({"TableName": "tbl", "Item": key()}));
    let filter = |n: usize| {
        let parts: Vec<&str> = std::iter::repeat_n("pk = :v", n).collect();
        env.call(
            "Scan",
            json!({"TableName": "tbl", "FilterExpression": parts.join(" AND "),
                   "ExpressionAttributeValues": {":v": {"S": "a"}}}),
        )
    };
    assert_eq!(filter(300).expect("300 operators")["Count"], json!(1));
    let (code, message) = common::describe_error(filter(301).unwrap_err());
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Invalid FilterExpression: The expression contains too many operators; operator count: 301"
    );
    // Functions count too, in update expressions as well as `+`.
    let update = |n: usize| {
        let sets: Vec<String> = (0..n)
            .map(|i| format!("a{i} = if_not_exists(a{i}, :v)"))
            .collect();
        env.call(
            "UpdateItem",
            json!({"TableName": "tbl", "Key": key(), "UpdateExpression": format!("SET {}", sets.join(", ")),
                   "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        )
    };
    update(120).expect("120 functions");
    let sums: Vec<String> = (0..300).map(|i| format!("b{i}=:v+:v")).collect();
    let (_, message) = common::describe_error(
        env.call(
            "UpdateItem",
            json!({"TableName": "tbl", "Key": key(),
                   "UpdateExpression": format!("SET {},c=if_not_exists(c,:v)", sums.join(",")),
                   "ExpressionAttributeValues": {":v": {"N": "1"}}}),
        )
        .unwrap_err(),
    );
    assert_eq!(
        message,
        "Invalid UpdateExpression: The expression contains too many operators; operator count: 301"
    );
}

/// Document paths: 32 steps (the deepest an item nests) are accepted, 33 refused.
#[test]
fn document_path_limit_boundary() {
    let env = env();
    let path = |steps: usize| {
        let mut p = "a".to_string();
        for _ in 1..steps {
            p.push_str(".b");
        }
        p
    };
    env.ok(
        "GetItem",
        json!({"TableName": "tbl", "Key": key(), "ProjectionExpression": path(32)}),
    );
    let (code, message) = env.err(
        "GetItem",
        json!({"TableName": "tbl", "Key": key(), "ProjectionExpression": path(33)}),
    );
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33"
    );
}

/// Item nesting: 31 maps around a scalar (32 levels) are stored, 32 maps refused, in items and
/// in ExpressionAttributeValues alike.
#[test]
fn attribute_nesting_limit_boundary() {
    let env = env();
    let nest = |wraps: usize| {
        let mut v = json!({"S": "x"});
        for _ in 0..wraps {
            v = json!({"M": {"m": v}});
        }
        v
    };
    let mut item = key();
    item["deep"] = nest(31);
    env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
    let mut item = key();
    item["deep"] = nest(32);
    let message = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";
    let (code, got) = env.err("PutItem", json!({"TableName": "tbl", "Item": item}));
    assert_eq!(
        (code.as_str(), got.as_str()),
        ("ValidationException", message)
    );
    let (_, got) = env.err(
        "PutItem",
        json!({"TableName": "tbl", "Item": key(), "ConditionExpression": "a = :v",
               "ExpressionAttributeValues": {":v": nest(32)}}),
    );
    assert_eq!(
        got,
        format!("ExpressionAttributeValues contains invalid value: {message} for key :v")
    );
    // An update cannot build what a PutItem may not store: a 31-level value SET one level
    // down would make 33 levels (and a 32-step path plus such a value, 63).
    let update = |expression: &str| {
        env.call(
            "UpdateItem",
            json!({"TableName": "tbl", "Key": key(), "UpdateExpression": expression,
                   "ExpressionAttributeValues": {":v": nest(31)}}),
        )
    };
    update("SET top = :v").expect("32 levels");
    let (code, got) = common::describe_error(update("SET top.m = :v").unwrap_err());
    assert_eq!(
        (code.as_str(), got.as_str()),
        ("ValidationException", message)
    );
    let got = env.ok("GetItem", json!({"TableName": "tbl", "Key": key()}));
    assert_eq!(
        got["Item"]["top"],
        nest(31),
        "the refused update changed nothing"
    );
}

fn strings(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("s{i}")).collect()
}

/// A 200,000-member set took 29 s (release) in the pairwise duplicate check while every other
/// write waited. With or without a duplicate, SS, NS and BS now answer at once.
#[test]
fn huge_sets_are_checked_in_linear_time() {
    let env = env();
    let n = 200_000;
    let mut ss = strings(n);
    let ns: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let bs: Vec<String> = (0..n as u32)
        .map(|i| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(i.to_be_bytes())
        })
        .collect();
    for (ty, members) in [("SS", ss.clone()), ("NS", ns), ("BS", bs)] {
        let mut item = key();
        item["set"] = json!({ ty: members });
        let started = Instant::now();
        let (code, message) = env.err("PutItem", json!({"TableName": "tbl", "Item": item}));
        assert_eq!(code, "ValidationException");
        // 200,000 distinct members make an item far over 400 KB.
        assert_eq!(
            message, "Item size has exceeded the maximum allowed size",
            "{ty}"
        );
        assert!(started.elapsed() < QUICK, "{ty}: {:?}", started.elapsed());
    }
    // A duplicate at the very end: found, and the message still lists the set as sent.
    ss.push("s0".to_string());
    let mut item = key();
    item["set"] = json!({ "SS": ss });
    let started = Instant::now();
    let (_, message) = env.err("PutItem", json!({"TableName": "tbl", "Item": item}));
    assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
    assert!(
        message.starts_with(
            "One or more parameter values were invalid: Input collection [s0, s1, s2,"
        ),
        "{}",
        &message[..100]
    );
    assert!(
        message.ends_with("s199999, s0] contains duplicates."),
        "{}",
        &message[message.len() - 100..]
    );
}

/// The batch below stores 5 MB, which alone takes ~5 s in a debug build on two loaded cores, so
/// its bound is looser than `QUICK`, yet far below the old quadratic check's minutes.
const QUICK_BATCH: Duration = Duration::from_secs(30);

/// The valid BatchWriteItem of 25 items with 40,000-member sets took 39 s (release).
#[test]
fn batch_of_large_sets_is_quick() {
    let env = env();
    let requests: Vec<Value> = (0..25)
        .map(|i| {
            json!({"PutRequest": {"Item": {
                "pk": {"S": "a"}, "sk": {"N": i.to_string()}, "set": {"SS": strings(40_000)}
            }}})
        })
        .collect();
    let started = Instant::now();
    let out = env.ok("BatchWriteItem", json!({"RequestItems": {"tbl": requests}}));
    assert!(started.elapsed() < QUICK_BATCH, "{:?}", started.elapsed());
    assert_eq!(out["UnprocessedItems"], json!({}));
}

/// ADD and DELETE of large sets, and `=` between large sets, are linear too (each was a
/// pairwise scan: 40,000 × 40,000 comparisons).
#[test]
fn set_updates_and_comparisons_are_linear() {
    let env = env();
    let first = strings(40_000);
    let second: Vec<String> = (20_000..60_000).map(|i| format!("s{i}")).collect();
    let mut item = key();
    item["set"] = json!({ "SS": first });
    env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
    let started = Instant::now();
    let out = env.ok(
        "UpdateItem",
        json!({"TableName": "tbl", "Key": key(), "UpdateExpression": "ADD #s :v",
               "ExpressionAttributeNames": {"#s": "set"},
               "ExpressionAttributeValues": {":v": {"SS": second}}, "ReturnValues": "UPDATED_NEW"}),
    );
    assert_eq!(
        out["Attributes"]["set"]["SS"].as_array().unwrap().len(),
        60_000
    );
    let reversed: Vec<String> = (0..60_000).rev().map(|i| format!("s{i}")).collect();
    env.ok(
        "UpdateItem",
        json!({"TableName": "tbl", "Key": key(), "UpdateExpression": "DELETE #s :v",
               "ConditionExpression": "#s = :all",
               "ExpressionAttributeNames": {"#s": "set"},
               "ExpressionAttributeValues": {":v": {"SS": strings(30_000)}, ":all": {"SS": reversed}}}),
    );
    let got = env.ok("GetItem", json!({"TableName": "tbl", "Key": key()}));
    assert_eq!(got["Item"]["set"]["SS"].as_array().unwrap().len(), 30_000);
    assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
}

/// Legacy parameters have no length limits: 50,000 `Expected` entries were joined into a
/// 50,000-deep chain whose evaluation overflowed the stack, and 100,000 `AttributesToGet`
/// names were checked pairwise.
#[test]
fn long_legacy_parameters_are_bounded() {
    let env = env();
    env.ok("PutItem", json!({"TableName": "tbl", "Item": key()}));
    let expected: serde_json::Map<String, Value> = (0..50_000)
        .map(|i| (format!("a{i}"), json!({"Exists": false})))
        .collect();
    let started = Instant::now();
    env.ok(
        "PutItem",
        json!({"TableName": "tbl", "Item": key(), "Expected": expected}),
    );
    let names: Vec<String> = (0..100_000).map(|i| format!("a{i}")).collect();
    let got = env.ok(
        "GetItem",
        json!({"TableName": "tbl", "Key": key(), "AttributesToGet": names}),
    );
    assert!(got["Item"].is_null() || got["Item"] == json!({}), "{got}");
    let mut names: Vec<String> = (0..100_000).map(|i| format!("a{i}")).collect();
    names.push("a5".to_string());
    let (_, message) = env.err(
        "GetItem",
        json!({"TableName": "tbl", "Key": key(), "AttributesToGet": names}),
    );
    assert_eq!(
        message,
        "One or more parameter values were invalid: Duplicate value in attribute name: a5"
    );
    assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
}
