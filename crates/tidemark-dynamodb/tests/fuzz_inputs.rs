//! Property test: random, mostly malformed requests to the data-plane operations never panic
//! and never answer an internal error. Inputs mix well-formed and broken attribute values,
//! expressions made of random tokens, legacy parameters and wrong JSON types, against a table
//! with a GSI and an LSI that holds items.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::Env;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tidemark_model::{CommonError, DispatchError};

const OPS: [&str; 12] = [
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "UpdateTable",
    "UpdateTimeToLive",
];

const TOKENS: [&str; 52] = [
    "#a",
    "#b",
    "#zz",
    ":v",
    ":w",
    ":zz",
    "pk",
    "sk",
    "g",
    "l",
    "x",
    "a.b",
    "x[0]",
    "x[1].y",
    "[2]",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "(",
    ")",
    ",",
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "+",
    "-",
    "size",
    "contains",
    "begins_with",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "if_not_exists",
    "list_append",
    ".",
    "[",
    "]",
    "0",
    "99999999999999999999999",
    "",
    "\u{0}",
    "é",
    "#",
];

/// A JSON scalar of a random type.
fn junk() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-c0-9.eE+-]{0,6}".prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// An attribute value, often valid, sometimes broken (bad numbers, empty or duplicate sets,
/// unknown or several types, wrong JSON types), nested through M and L.
fn av() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        "[ab]{0,3}".prop_map(|s| json!({"S": s})),
        prop_oneof![
            Just("1".to_string()),
            Just("-0.50".to_string()),
            Just("1e126".to_string()),
            Just("1e-131".to_string()),
            Just("123456789012345678901234567890123456789".to_string()),
            Just("abc".to_string()),
            Just(String::new()),
            "[0-9]{1,3}".prop_map(|s| s),
        ]
        .prop_map(|n| json!({"N": n})),
        prop_oneof![Just("AAEC"), Just("!!"), Just(""), Just("AQ==")].prop_map(|b| json!({"B": b})),
        proptest::collection::vec("[ab]{0,2}", 0..3).prop_map(|v| json!({"SS": v})),
        proptest::collection::vec("[0-9x]{0,2}", 0..3).prop_map(|v| json!({"NS": v})),
        Just(json!({"BS": ["AQ==", "AQ=="]})),
        any::<bool>().prop_map(|b| json!({"NULL": b})),
        any::<bool>().prop_map(|b| json!({"BOOL": b})),
        junk().prop_map(|j| json!({"S": j})),
        Just(json!({"S": "a", "N": "1"})),
        Just(json!({"Q": "?"})),
        Just(json!({})),
        junk(),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(|v| json!({"L": v})),
            proptest::collection::btree_map("[xy]", inner, 0..3).prop_map(|m| json!({"M": m})),
        ]
    })
}

/// An item or key: usually with pk/sk, sometimes missing or mistyped parts.
fn item() -> impl Strategy<Value = Value> {
    (
        prop_oneof![3 => Just(json!({"S": "p"})), 1 => av()],
        prop_oneof![3 => (0i8..4).prop_map(|n| json!({"N": n.to_string()})), 1 => av()],
        proptest::collection::btree_map(
            prop_oneof![Just("x"), Just("g"), Just("l"), Just("a.b")],
            av(),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(pk, sk, rest, drop_sk)| {
            let mut m = Map::new();
            m.insert("pk".into(), pk);
            if !drop_sk {
                m.insert("sk".into(), sk);
            }
            for (k, v) in rest {
                m.insert(k.to_string(), v);
            }
            Value::Object(m)
        })
}

fn expression() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => junk(),
        6 => proptest::collection::vec(0..TOKENS.len(), 0..9).prop_map(|t| {
            Value::String(t.into_iter().map(|i| TOKENS[i]).collect::<Vec<_>>().join(" "))
        }),
    ]
}

fn legacy_condition() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("EQ"),
            Just("NE"),
            Just("BETWEEN"),
            Just("IN"),
            Just("NULL"),
            Just("BEGINS_WITH"),
            Just("CONTAINS"),
            Just("GT"),
            Just("BOGUS")
        ],
        proptest::collection::vec(av(), 0..3),
        proptest::option::of(av()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(op, list, value, exists)| {
            let mut c = json!({"ComparisonOperator": op, "AttributeValueList": list});
            if let Some(v) = value {
                c["Value"] = v;
            }
            if let Some(e) = exists {
                c["Exists"] = json!(e);
            }
            c
        })
}

/// One call: an operation and a body holding what the operation requires (so most requests
/// get past the model's checks) plus a random selection of the members the data-plane
/// operations take.
fn call() -> impl Strategy<Value = (&'static str, Value)> {
    let members = proptest::collection::btree_map(
        0usize..30,
        (item(), expression(), av(), legacy_condition(), junk()),
        0..5,
    );
    (
        0..OPS.len(),
        item(),
        expression(),
        members,
        prop_oneof![5 => Just(true), 1 => Just(false)],
    )
        .prop_map(|(op, it, ex, members, good_table)| {
            let op = OPS[op];
            let mut o = Map::new();
            o.insert(
                "TableName".into(),
                json!(if good_table { "tbl" } else { "zz" }),
            );
            match op {
                "PutItem" => {
                    o.insert("Item".into(), it);
                }
                "GetItem" | "UpdateItem" | "DeleteItem" => {
                    o.insert("Key".into(), it);
                }
                "BatchGetItem" => {
                    o.insert(
                        "RequestItems".into(),
                        json!({"tbl": {"Keys": [it], "ProjectionExpression": ex}}),
                    );
                }
                "BatchWriteItem" => {
                    o.insert(
                        "RequestItems".into(),
                        json!({"tbl": [{"PutRequest": {"Item": it.clone()}}, {"DeleteRequest": {"Key": it}}]}),
                    );
                }
                "TransactWriteItems" => {
                    o.insert("TransactItems".into(), json!([
                        {"Put": {"TableName": "tbl", "Item": it, "ConditionExpression": ex}},
                        {"Update": {"TableName": "tbl", "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}}, "UpdateExpression": ex}},
                    ]));
                }
                "TransactGetItems" => {
                    o.insert(
                        "TransactItems".into(),
                        json!([{"Get": {"TableName": "tbl", "Key": it, "ProjectionExpression": ex}}]),
                    );
                }
                "UpdateTimeToLive" => {
                    o.insert(
                        "TimeToLiveSpecification".into(),
                        json!({"Enabled": true, "AttributeName": ex}),
                    );
                }
                "Query" => {
                    o.insert("KeyConditionExpression".into(), ex);
                }
                _ => {}
            }
            let body = members_into(o, members);
            (op, body)
        })
}

type Member = (Value, Value, Value, Value, Value);

fn members_into(
    mut o: Map<String, Value>,
    members: std::collections::BTreeMap<usize, Member>,
) -> Value {
    for (k, (it, ex, v, lc, j)) in members {
        let (name, value) = match k {
            0 => ("Item", it),
            1 => ("Key", it),
            2 => ("ConditionExpression", ex),
            3 => ("UpdateExpression", ex),
            4 => ("ProjectionExpression", ex),
            5 => ("FilterExpression", ex),
            6 => ("KeyConditionExpression", ex),
            7 => (
                "ExpressionAttributeNames",
                json!({"#a": "x", "#b": "pk", "#zz": j.as_str().unwrap_or("g")}),
            ),
            8 => (
                "ExpressionAttributeValues",
                json!({":v": v, ":w": {"N": "1"}}),
            ),
            9 => ("Expected", json!({"x": lc})),
            10 => ("AttributeUpdates", json!({"x": {"Action": j, "Value": v}})),
            11 => (
                "KeyConditions",
                json!({"pk": lc, "sk": {"ComparisonOperator": "GT", "AttributeValueList": [v]}}),
            ),
            12 => ("ScanFilter", json!({"x": lc})),
            13 => ("QueryFilter", json!({"x": lc})),
            14 => (
                "AttributesToGet",
                json!(["x", "a.b", j.as_str().unwrap_or("x")]),
            ),
            15 => ("ConditionalOperator", json!("OR")),
            16 => (
                "ReturnValues",
                json!(
                    ["ALL_OLD", "ALL_NEW", "UPDATED_OLD", "NONE", "bogus"]
                        [it.to_string().len() % 5]
                ),
            ),
            17 => ("Limit", j.as_i64().map_or(json!(2), |n| json!(n % 5))),
            18 => ("ExclusiveStartKey", it),
            19 => (
                "Select",
                json!(
                    [
                        "COUNT",
                        "SPECIFIC_ATTRIBUTES",
                        "ALL_PROJECTED_ATTRIBUTES",
                        "ALL_ATTRIBUTES"
                    ][it.to_string().len() % 4]
                ),
            ),
            20 => (
                "IndexName",
                json!(["byG", "byL", "nope"][it.to_string().len() % 3]),
            ),
            21 => ("Segment", j.as_i64().map_or(json!(0), |n| json!(n % 3))),
            22 => (
                "TotalSegments",
                j.as_i64().map_or(json!(2), |n| json!(n % 4)),
            ),
            23 => ("ScanIndexForward", json!(j.is_null())),
            24 => (
                "RequestItems",
                json!({"tbl": {"Keys": [it.clone()], "ProjectionExpression": ex}, "zz": [{"PutRequest": {"Item": it}}, {"DeleteRequest": {"Key": v}}]}),
            ),
            25 => (
                "TransactItems",
                json!([{"Put": {"TableName": "tbl", "Item": it, "ConditionExpression": ex}}, {"Update": {"TableName": "tbl", "Key": v, "UpdateExpression": "SET x = :v", "ExpressionAttributeValues": {":v": v}}}, {"Get": {"TableName": "tbl", "Key": it}}]),
            ),
            26 => ("ReturnValuesOnConditionCheckFailure", json!("ALL_OLD")),
            27 => (
                "GlobalSecondaryIndexUpdates",
                json!([{"Delete": {"IndexName": j}}]),
            ),
            28 => (
                "TimeToLiveSpecification",
                json!({"Enabled": j, "AttributeName": "x"}),
            ),
            _ => ("ReturnConsumedCapacity", json!("INDEXES")),
        };
        o.insert(name.into(), value);
    }
    Value::Object(o)
}

fn env() -> Env {
    let env = Env::new();
    env.table(json!({
        "TableName": "tbl",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"}, {"AttributeName": "l", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}}],
        "LocalSecondaryIndexes": [{"IndexName": "byL", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}]
    }));
    for i in 0..4 {
        env.ok("PutItem", json!({"TableName": "tbl", "Item": {"pk": {"S": "p"}, "sk": {"N": i.to_string()}, "g": {"S": "g"}, "l": {"N": "1"},
            "x": {"L": [{"M": {"y": {"SS": ["a"]}}}, {"N": "2"}]}, "a.b": {"S": "dot"}}}));
    }
    env
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_never_panic_or_fail_internally(
        calls in proptest::collection::vec(call(), 1..8),
    ) {
        let env = env();
        for (op, body) in calls {
            let result = catch_unwind(AssertUnwindSafe(|| env.call(op, body.clone())));
            let Ok(result) = result else {
                panic!("{op} panicked on {body}");
            };
            match result {
                Err(DispatchError::Common(CommonError::Internal(e))) => {
                    panic!("{op} failed internally ({e}) on {body}")
                }
                Err(DispatchError::Modeled(m)) if m.shape == "InternalServerError" => {
                    panic!("{op} answered InternalServerError on {body}")
                }
                _ => {}
            }
        }
        // The table still answers a plain read afterwards.
        env.ok("Scan", json!({"TableName": "tbl", "Limit": 1}));
    }
}
