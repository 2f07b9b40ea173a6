//! Query and Scan through the dispatcher: key conditions as range scans, order, Limit and
//! LastEvaluatedKey paging, Select COUNT, filters, GSI/LSI projections and sparse indexes,
//! parallel scan segments (reference §4.3 "reads").

mod common;

use common::Env;
use serde_json::{Value, json};

fn seeded() -> Env {
    let env = Env::new();
    env.table(json!({
        "TableName": "tbl",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "S"}, {"AttributeName": "l", "AttributeType": "S"}
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "LocalSecondaryIndexes": [{"IndexName": "byL", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}]
    }));
    for pk in ["a", "b"] {
        for sk in [-5, 0, 1, 2, 10, 100] {
            let mut item = json!({"pk": {"S": pk}, "sk": {"N": sk.to_string()}, "v": {"N": (sk * 2).to_string()}});
            if sk % 2 == 0 {
                item["g"] = json!({"S": "even"});
            }
            item["l"] = json!({"S": format!("L{}", 200 - sk)});
            env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
        }
    }
    env
}

fn sks(out: &Value) -> Vec<String> {
    out["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sk"]["N"].as_str().unwrap().to_string())
        .collect()
}

fn q(env: &Env, kce: &str, values: Value, extra: Value) -> Value {
    let mut input = json!({"TableName": "tbl", "KeyConditionExpression": kce, "ExpressionAttributeValues": values});
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    env.ok("Query", input)
}

#[test]
fn key_conditions_select_ranges_in_numeric_order() {
    let env = seeded();
    let a = json!({":p": {"S": "a"}});
    assert_eq!(
        sks(&q(&env, "pk = :p", a.clone(), json!({}))),
        ["-5", "0", "1", "2", "10", "100"]
    );
    let v = json!({":p": {"S": "a"}, ":x": {"N": "1"}});
    assert_eq!(
        sks(&q(&env, "pk = :p AND sk > :x", v.clone(), json!({}))),
        ["2", "10", "100"]
    );
    assert_eq!(
        sks(&q(&env, "pk = :p AND sk >= :x", v.clone(), json!({}))),
        ["1", "2", "10", "100"]
    );
    assert_eq!(
        sks(&q(&env, "pk = :p AND sk < :x", v.clone(), json!({}))),
        ["-5", "0"]
    );
    assert_eq!(
        sks(&q(&env, "pk = :p AND sk <= :x", v.clone(), json!({}))),
        ["-5", "0", "1"]
    );
    assert_eq!(sks(&q(&env, "pk = :p AND sk = :x", v, json!({}))), ["1"]);
    let b = json!({":p": {"S": "a"}, ":lo": {"N": "0"}, ":hi": {"N": "10"}});
    assert_eq!(
        sks(&q(
            &env,
            "pk = :p AND sk BETWEEN :lo AND :hi",
            b.clone(),
            json!({})
        )),
        ["0", "1", "2", "10"]
    );
    assert_eq!(
        sks(&q(
            &env,
            "pk = :p AND sk BETWEEN :lo AND :hi",
            b,
            json!({"ScanIndexForward": false})
        )),
        ["10", "2", "1", "0"]
    );
}

#[test]
fn limit_pages_with_last_evaluated_key() {
    let env = seeded();
    let a = json!({":p": {"S": "a"}});
    let mut seen = Vec::new();
    let mut start: Option<Value> = None;
    let mut pages = 0;
    loop {
        let mut extra = json!({"Limit": 4});
        if let Some(s) = &start {
            extra["ExclusiveStartKey"] = s.clone();
        }
        let out = q(&env, "pk = :p", a.clone(), extra);
        pages += 1;
        seen.extend(sks(&out));
        match out.get("LastEvaluatedKey") {
            Some(k) => start = Some(k.clone()),
            None => break,
        }
    }
    assert_eq!(seen, ["-5", "0", "1", "2", "10", "100"]);
    assert_eq!(pages, 2);
}

#[test]
fn filter_and_count() {
    let env = seeded();
    let out = q(
        &env,
        "pk = :p",
        json!({":p": {"S": "b"}, ":v": {"N": "4"}}),
        json!({"FilterExpression": "v >= :v"}),
    );
    assert_eq!(out["Count"], 3);
    assert_eq!(out["ScannedCount"], 6);
    let out = q(
        &env,
        "pk = :p",
        json!({":p": {"S": "b"}}),
        json!({"Select": "COUNT"}),
    );
    assert_eq!(out["Count"], 6);
    assert!(out.get("Items").is_none());
}

#[test]
fn gsi_is_sparse_and_keys_only() {
    let env = seeded();
    let out = q(
        &env,
        "g = :g",
        json!({":g": {"S": "even"}}),
        json!({"IndexName": "byG"}),
    );
    assert_eq!(out["Count"], 8);
    let first = &out["Items"][0];
    assert!(
        first.get("v").is_none(),
        "KEYS_ONLY projects only keys: {first}"
    );
    assert!(first.get("pk").is_some() && first.get("g").is_some());
    let (_, msg) = env.err("Query", json!({"TableName": "tbl", "IndexName": "byG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "even"}}, "ConsistentRead": true}));
    assert_eq!(
        msg,
        "Consistent reads are not supported on global secondary indexes"
    );
    let (_, msg) = env.err("Query", json!({"TableName": "tbl", "IndexName": "nope", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "even"}}}));
    assert_eq!(msg, "The table does not have the specified index: nope");
}

#[test]
fn lsi_orders_by_its_range_key_and_fetches_unprojected_attributes() {
    let env = seeded();
    let out = q(
        &env,
        "pk = :p",
        json!({":p": {"S": "a"}}),
        json!({"IndexName": "byL", "Select": "ALL_ATTRIBUTES"}),
    );
    // l = "L{200 - sk}" sorts as strings: L100 < L190 < L198 < L199 < L200 < L205.
    assert_eq!(sks(&out), ["100", "10", "2", "1", "0", "-5"]);
    assert!(out["Items"][0].get("v").is_some());
}

#[test]
fn key_condition_errors() {
    let env = seeded();
    let (_, msg) = env.err("Query", json!({"TableName": "tbl", "KeyConditionExpression": "sk = :x", "ExpressionAttributeValues": {":x": {"N": "1"}}}));
    assert_eq!(msg, "Query condition missed key schema element: pk");
    let (_, msg) = env.err("Query", json!({"TableName": "tbl", "KeyConditionExpression": "pk = :p", "FilterExpression": "sk > :x", "ExpressionAttributeValues": {":p": {"S": "a"}, ":x": {"N": "1"}}}));
    assert_eq!(
        msg,
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    );
}

#[test]
fn scan_segments_partition_the_table() {
    let env = seeded();
    let all = env.ok("Scan", json!({"TableName": "tbl"}));
    assert_eq!(all["Count"], 12);
    let mut total = 0;
    for seg in 0..3 {
        let out = env.ok(
            "Scan",
            json!({"TableName": "tbl", "Segment": seg, "TotalSegments": 3}),
        );
        total += out["Count"].as_i64().unwrap();
    }
    assert_eq!(total, 12);
    let (_, msg) = env.err(
        "Scan",
        json!({"TableName": "tbl", "Segment": 3, "TotalSegments": 3}),
    );
    assert_eq!(
        msg,
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 3 is not less than TotalSegments: 3"
    );
    let out = env.ok("Scan", json!({"TableName": "tbl", "IndexName": "byG"}));
    assert_eq!(out["Count"], 8);
}

#[test]
fn one_megabyte_page_limit() {
    let env = Env::new();
    env.simple_table("big");
    let blob = "x".repeat(300_000);
    for i in 0..5 {
        env.ok("PutItem", json!({"TableName": "big", "Item": {"pk": {"S": "p"}, "sk": {"N": i.to_string()}, "v": {"S": blob}}}));
    }
    let out = env.ok("Scan", json!({"TableName": "big"}));
    // 300 KB items: the page stops once 1 MB was read, after the 4th item.
    assert_eq!(out["Count"], 4);
    assert!(out.get("LastEvaluatedKey").is_some());
}

#[test]
fn item_collection_metrics_for_tables_with_an_lsi() {
    // ReturnItemCollectionMetrics=SIZE reports the partition key of the item collection.
    let env = seeded();
    let out = env.ok("PutItem", json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "7"}}, "ReturnItemCollectionMetrics": "SIZE"}));
    assert_eq!(
        out["ItemCollectionMetrics"]["ItemCollectionKey"],
        json!({"pk": {"S": "a"}})
    );
    assert_eq!(
        out["ItemCollectionMetrics"]["SizeEstimateRangeGB"],
        json!([0.0, 1.0])
    );
}

#[test]
fn consumed_capacity_per_index() {
    // ReturnConsumedCapacity=INDEXES splits a write between the table and each index whose
    // entry changed; TOTAL is their sum.
    let env = seeded();
    let out = env.ok("PutItem", json!({"TableName": "tbl", "Item": {"pk": {"S": "c"}, "sk": {"N": "1"}, "g": {"S": "x"}, "l": {"S": "y"}}, "ReturnConsumedCapacity": "INDEXES"}));
    let c = &out["ConsumedCapacity"];
    assert_eq!(c["CapacityUnits"], 3.0);
    assert_eq!(c["Table"]["CapacityUnits"], 1.0);
    assert_eq!(c["GlobalSecondaryIndexes"]["byG"]["CapacityUnits"], 1.0);
    assert_eq!(c["LocalSecondaryIndexes"]["byL"]["CapacityUnits"], 1.0);
    // A query on the GSI is charged to the index.
    let q = env.ok("Query", json!({"TableName": "tbl", "IndexName": "byG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "x"}}, "ReturnConsumedCapacity": "INDEXES"}));
    assert_eq!(
        q["ConsumedCapacity"]["GlobalSecondaryIndexes"]["byG"]["CapacityUnits"],
        0.5
    );
}
