//! Scan and Query pages answered as JSON text (`dispatch_dynamodb_reply`: stored item JSON
//! spliced in verbatim) must be byte for byte what the typed path (`dispatch_dynamodb`:
//! decode, convert, serialize) answers, for items of every attribute type, with paging,
//! Limit, segments, indexes, capacity reporting, and the reshaping options that fall back.

mod common;

use common::Env;
use serde_json::{Value, json};
use tidemark_model::Encoded;
use tidemark_model::dynamodb::dispatch_dynamodb_reply;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STRINGS: &[&str] = &[
    "plain",
    "quote \" and backslash \\ and slash /",
    "controls \u{1} \u{8} \t \n \r \u{1f}",
    "unicode é ü 漢字 🦀 \u{2028} \u{2029}",
    "<html>&amp;</html>",
    " ",
];

/// Numbers as a client may send them; stored (and answered) in canonical form.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1.50",
    "0012",
    "-3.25e2",
    "1E-5",
    "99999999999999999999999999999999999999",
    "-0.000000000000000000000000000000000000001",
    "123456789.987654321",
    "1e125",
];

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn value(rng: &mut Rng, depth: u32) -> Value {
    let kinds = if depth >= 3 { 8 } else { 10 };
    match rng.below(kinds) {
        0 => json!({"S": STRINGS[rng.below(STRINGS.len() as u64) as usize]}),
        1 => json!({"N": NUMBERS[rng.below(NUMBERS.len() as u64) as usize]}),
        2 => {
            let bytes: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
            json!({"B": b64(&bytes)})
        }
        3 => {
            let n = 1 + rng.below(STRINGS.len() as u64) as usize;
            json!({"SS": STRINGS[..n]})
        }
        4 => {
            let n = 1 + rng.below(4) as usize;
            // Distinct numerically: "0" and "-0" are the same number, so skip "-0".
            let ns: Vec<&str> = NUMBERS
                .iter()
                .filter(|n| **n != "-0")
                .take(n)
                .copied()
                .collect();
            json!({"NS": ns})
        }
        5 => {
            let bs: Vec<String> = (0..1 + rng.below(3))
                .map(|i| b64(&[i as u8, rng.next() as u8, 0, 255]))
                .collect();
            json!({"BS": bs})
        }
        6 => json!({"NULL": true}),
        7 => json!({"BOOL": rng.below(2) == 1}),
        8 => {
            let m: serde_json::Map<String, Value> = (0..rng.below(4))
                .map(|i| (format!("k{i}\u{e9}"), value(rng, depth + 1)))
                .collect();
            json!({"M": m})
        }
        _ => {
            let l: Vec<Value> = (0..rng.below(4)).map(|_| value(rng, depth + 1)).collect();
            json!({"L": l})
        }
    }
}

fn seeded(items: usize) -> Env {
    let env = Env::new();
    env.table(json!({
        "TableName": "tbl",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "g", "AttributeType": "B"}, {"AttributeName": "l", "AttributeType": "S"}
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {"IndexName": "gAll", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "gInc", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a1"]}}
        ],
        "LocalSecondaryIndexes": [{"IndexName": "lKeys", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}]
    }));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..items {
        let mut item = serde_json::Map::new();
        item.insert("pk".into(), json!({"S": format!("p{}", i % 7)}));
        item.insert("sk".into(), json!({"N": format!("{}.{}", i, i % 3)}));
        if i % 3 != 0 {
            item.insert("g".into(), json!({"B": b64(&[(i % 5) as u8, 0])}));
        }
        if i % 2 == 0 {
            item.insert("l".into(), json!({"S": format!("l{}", i % 11)}));
        }
        for a in 0..rng.below(8) {
            item.insert(format!("a{a}"), value(&mut rng, 0));
        }
        env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
    }
    env
}

/// Runs `op` both ways; asserts identical bytes; returns the page and whether it was JSON text.
fn both(env: &Env, op: &str, input: &Value) -> (Value, bool) {
    let typed = env.ok(op, input.clone());
    let typed_text = serde_json::to_vec(&typed).unwrap();
    let reply = dispatch_dynamodb_reply(&*env.svc, &env.ctx, op, input.clone())
        .unwrap_or_else(|e| panic!("{op} failed: {e:?}"));
    let (text, raw) = match reply {
        Encoded::Json(t) => (t, true),
        Encoded::Value(v) => (serde_json::to_vec(&v).unwrap(), false),
    };
    assert_eq!(
        String::from_utf8_lossy(&text),
        String::from_utf8_lossy(&typed_text),
        "{op} {input}"
    );
    (typed, raw)
}

/// Pages through `input` to the end, checking every page; returns (items, pages, raw pages).
fn all_pages(env: &Env, op: &str, input: Value) -> (usize, usize, usize) {
    let (mut items, mut pages, mut raw_pages) = (0, 0, 0);
    let mut req = input;
    loop {
        let (page, raw) = both(env, op, &req);
        items += page["Count"].as_u64().unwrap() as usize;
        pages += 1;
        raw_pages += usize::from(raw);
        match page.get("LastEvaluatedKey") {
            Some(k) => req["ExclusiveStartKey"] = k.clone(),
            None => return (items, pages, raw_pages),
        }
    }
}

const ITEMS: usize = 300;

#[test]
fn scan_pages_are_identical_and_raw() {
    let env = seeded(ITEMS);
    for extra in [
        json!({}),
        json!({"Limit": 7}),
        json!({"Limit": 1, "ReturnConsumedCapacity": "TOTAL"}),
        json!({"Limit": 50, "ReturnConsumedCapacity": "INDEXES", "ConsistentRead": true}),
    ] {
        let mut req = json!({"TableName": "tbl"});
        req.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (items, pages, raw) = all_pages(&env, "Scan", req.clone());
        assert_eq!(items, ITEMS, "{req}");
        assert_eq!(raw, pages, "every unprojected page goes out raw: {req}");
    }
}

#[test]
fn segmented_scans_cover_the_table_once() {
    let env = seeded(ITEMS);
    let mut total = 0;
    for seg in 0..3 {
        let req = json!({"TableName": "tbl", "Segment": seg, "TotalSegments": 3, "Limit": 13});
        let (items, pages, raw) = all_pages(&env, "Scan", req);
        assert_eq!(raw, pages);
        total += items;
    }
    assert_eq!(total, ITEMS);
}

#[test]
fn index_scans_and_queries_are_identical() {
    let env = seeded(ITEMS);
    // GSIs on a binary key (sparse: every third item lacks `g`), ALL and INCLUDE projections.
    let (items, pages, raw) = all_pages(
        &env,
        "Scan",
        json!({"TableName": "tbl", "IndexName": "gAll", "Limit": 9}),
    );
    assert_eq!(items, ITEMS - ITEMS.div_ceil(3));
    assert_eq!(raw, pages);
    let (_, pages, raw) = all_pages(
        &env,
        "Scan",
        json!({"TableName": "tbl", "IndexName": "gInc", "ReturnConsumedCapacity": "INDEXES"}),
    );
    assert_eq!(raw, pages);
    let (items, pages, raw) = all_pages(
        &env,
        "Query",
        json!({"TableName": "tbl", "IndexName": "gInc", "Limit": 4, "ScanIndexForward": false,
               "KeyConditionExpression": "g = :g AND sk > :s",
               "ExpressionAttributeValues": {":g": {"B": b64(&[1, 0])}, ":s": {"N": "10"}}}),
    );
    assert!(items > 0);
    assert_eq!(raw, pages);
    // An LSI read of all attributes fetches from the table: the typed path, same answer.
    let (items, _, raw) = all_pages(
        &env,
        "Query",
        json!({"TableName": "tbl", "IndexName": "lKeys", "Select": "ALL_ATTRIBUTES",
               "KeyConditionExpression": "pk = :p", "Limit": 5,
               "ExpressionAttributeValues": {":p": {"S": "p2"}}}),
    );
    assert!(items > 0);
    assert_eq!(raw, 0, "fetched items are decoded");
    let (_, pages, raw) = all_pages(
        &env,
        "Query",
        json!({"TableName": "tbl", "IndexName": "lKeys", "KeyConditionExpression": "pk = :p",
               "ExpressionAttributeValues": {":p": {"S": "p2"}}}),
    );
    assert_eq!(raw, pages);
}

#[test]
fn queries_with_ranges_limits_and_reverse_order_are_identical() {
    let env = seeded(ITEMS);
    for (cond, vals) in [
        ("pk = :p", json!({":p": {"S": "p3"}})),
        (
            "pk = :p AND sk BETWEEN :a AND :b",
            json!({":p": {"S": "p3"}, ":a": {"N": "10"}, ":b": {"N": "200.5"}}),
        ),
        (
            "pk = :p AND sk < :a",
            json!({":p": {"S": "p0"}, ":a": {"N": "100"}}),
        ),
        ("pk = :p", json!({":p": {"S": "nobody"}})),
    ] {
        for (limit, forward) in [(None, true), (Some(3), false), (Some(1), true)] {
            let mut req = json!({"TableName": "tbl", "KeyConditionExpression": cond,
                                 "ExpressionAttributeValues": vals, "ScanIndexForward": forward,
                                 "ReturnConsumedCapacity": "TOTAL"});
            if let Some(l) = limit {
                req["Limit"] = json!(l);
            }
            let (_, pages, raw) = all_pages(&env, "Query", req);
            assert_eq!(raw, pages);
        }
    }
}

#[test]
fn reshaped_pages_fall_back_to_the_typed_path() {
    let env = seeded(ITEMS);
    let (_, _, raw) = all_pages(
        &env,
        "Scan",
        json!({"TableName": "tbl", "ProjectionExpression": "pk, a1, a2", "Limit": 40}),
    );
    assert_eq!(raw, 0, "projected");
    let (items, _, raw) = all_pages(
        &env,
        "Scan",
        json!({"TableName": "tbl", "Select": "COUNT", "Limit": 40}),
    );
    assert_eq!((items, raw), (ITEMS, 0), "count only");
    // A filter drops items but keeps the survivors' stored form: still raw, still identical.
    let (items, pages, raw) = all_pages(
        &env,
        "Scan",
        json!({"TableName": "tbl", "FilterExpression": "attribute_exists(a0)", "Limit": 25}),
    );
    assert!(items > 0 && items < ITEMS);
    assert_eq!(raw, pages);
}

#[test]
fn pages_stop_at_one_megabyte_at_the_same_item() {
    let env = seeded(0);
    let mut rng = Rng(7);
    for i in 0..60 {
        let big: String = "é漢x".repeat(6_000 + (i % 7) * 1_000);
        let bytes: Vec<u8> = (0..20_000 + i * 97).map(|_| rng.next() as u8).collect();
        let item = json!({"pk": {"S": format!("p{}", i % 2)}, "sk": {"N": i.to_string()},
                          "big": {"S": big}, "bin": {"B": b64(&bytes)},
                          "nested": value(&mut rng, 0), "n": {"N": NUMBERS[i % NUMBERS.len()]},
                          "g": {"B": b64(&[(i % 3) as u8])}, "l": {"S": format!("l{}", i % 4)}});
        env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
    }
    for req in [
        json!({"TableName": "tbl", "ReturnConsumedCapacity": "TOTAL"}),
        json!({"TableName": "tbl", "Segment": 1, "TotalSegments": 2, "ReturnConsumedCapacity": "TOTAL"}),
        json!({"TableName": "tbl", "IndexName": "gAll", "ReturnConsumedCapacity": "INDEXES"}),
        json!({"TableName": "tbl", "IndexName": "gAll", "ReturnConsumedCapacity": "TOTAL",
               "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"B": "AQ=="}}}),
        json!({"TableName": "tbl", "KeyConditionExpression": "pk = :p AND sk >= :s",
               "ExpressionAttributeValues": {":p": {"S": "p1"}, ":s": {"N": "3"}},
               "ReturnConsumedCapacity": "TOTAL"}),
    ] {
        let op = if req.get("KeyConditionExpression").is_some() {
            "Query"
        } else {
            "Scan"
        };
        let (items, pages, raw) = all_pages(&env, op, req.clone());
        assert!(items > 0, "{req}");
        assert!(pages > 1, "several 1 MB pages: {req}");
        assert_eq!(raw, pages);
    }
}

#[test]
fn segments_of_number_and_binary_hash_keys_match_the_typed_path() {
    for ty in ["N", "B"] {
        let env = Env::new();
        env.table(json!({
            "TableName": "tbl",
            "AttributeDefinitions": [{"AttributeName": "h", "AttributeType": ty}],
            "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        }));
        let mut rng = Rng(99);
        let count = 150;
        for i in 0..count {
            let h = if ty == "N" {
                json!({"N": format!("{}e{}", i as i64 - 75, i % 9)})
            } else {
                json!({"B": b64(&[i as u8, 0, (i * 7) as u8])})
            };
            let item = json!({"h": h, "v": value(&mut rng, 0)});
            env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
        }
        let mut total = 0;
        for seg in 0..4 {
            let req = json!({"TableName": "tbl", "Segment": seg, "TotalSegments": 4, "Limit": 11});
            let (items, pages, raw) = all_pages(&env, "Scan", req);
            assert_eq!(raw, pages);
            assert!(items > 0, "segment {seg} of {ty} keys is empty");
            total += items;
        }
        assert_eq!(total, count, "{ty}");
    }
}
