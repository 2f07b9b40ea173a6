//! Property test: random put/update/delete/get/query/scan sequences against DynamoDbService
//! give the same answers as a BTreeMap reference model (items keyed by (pk, sk) in
//! DynamoDB's order), including ItemCount, paged queries and a sparse GSI maintained on
//! every write.

mod common;

use std::collections::BTreeMap;

use common::Env;
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    Put(u8, i8, u8),
    Add(u8, i8, u8),
    Delete(u8, i8),
    Get(u8, i8),
    Query(u8, i8, u8, bool),
    Scan(u8),
    IndexQuery(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let pk = 0u8..3;
    let sk = -4i8..5;
    prop_oneof![
        (pk.clone(), sk.clone(), any::<u8>()).prop_map(|(p, s, v)| Op::Put(p, s, v)),
        (pk.clone(), sk.clone(), 0u8..5).prop_map(|(p, s, v)| Op::Add(p, s, v)),
        (pk.clone(), sk.clone()).prop_map(|(p, s)| Op::Delete(p, s)),
        (pk.clone(), sk.clone()).prop_map(|(p, s)| Op::Get(p, s)),
        (pk, sk, 1u8..4, any::<bool>()).prop_map(|(p, s, l, f)| Op::Query(p, s, l, f)),
        (1u8..5).prop_map(Op::Scan),
        (0u8..2, 1u8..4).prop_map(|(g, l)| Op::IndexQuery(g, l)),
    ]
}

fn key(p: u8, s: i8) -> Value {
    json!({"pk": {"S": format!("p{p}")}, "sk": {"N": s.to_string()}})
}

/// Runs a paged Query (or Scan) to the end, collecting `(pk, sk, v)`.
fn drain(env: &Env, op: &str, mut input: Value) -> Vec<(String, i64, i64)> {
    let mut out = Vec::new();
    loop {
        let page = env.ok(op, input.clone());
        for i in page["Items"].as_array().unwrap() {
            out.push((
                i["pk"]["S"].as_str().unwrap().to_string(),
                i["sk"]["N"].as_str().unwrap().parse().unwrap(),
                i["v"]["N"].as_str().unwrap().parse().unwrap(),
            ));
        }
        match page.get("LastEvaluatedKey") {
            Some(k) => input["ExclusiveStartKey"] = k.clone(),
            None => return out,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn service_matches_a_btreemap(ops in proptest::collection::vec(op(), 1..40)) {
        let env = Env::new();
        env.table(json!({
            "TableName": "tbl",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}, {"AttributeName": "g", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST",
            "GlobalSecondaryIndexes": [{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}]
        }));
        // (pk, sk) → (v, g); `g` only when the put's v is not a multiple of 3 (sparse index).
        let mut model: BTreeMap<(String, i64), (i64, Option<String>)> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Put(p, s, v) => {
                    let mut item = key(p, s);
                    item["v"] = json!({"N": v.to_string()});
                    let g = (v % 3 != 0).then(|| format!("g{}", v % 2));
                    if let Some(g) = &g {
                        item["g"] = json!({"S": g});
                    }
                    env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
                    model.insert((format!("p{p}"), i64::from(s)), (i64::from(v), g));
                }
                Op::Add(p, s, v) => {
                    env.ok("UpdateItem", json!({"TableName": "tbl", "Key": key(p, s), "UpdateExpression": "ADD v :d", "ExpressionAttributeValues": {":d": {"N": v.to_string()}}}));
                    model.entry((format!("p{p}"), i64::from(s))).or_insert((0, None)).0 += i64::from(v);
                }
                Op::Delete(p, s) => {
                    env.ok("DeleteItem", json!({"TableName": "tbl", "Key": key(p, s)}));
                    model.remove(&(format!("p{p}"), i64::from(s)));
                }
                Op::Get(p, s) => {
                    let got = env.ok("GetItem", json!({"TableName": "tbl", "Key": key(p, s), "ConsistentRead": true}));
                    let want = model.get(&(format!("p{p}"), i64::from(s)));
                    let have = got.get("Item").map(|i| i["v"]["N"].as_str().unwrap().parse::<i64>().unwrap());
                    prop_assert_eq!(have, want.map(|w| w.0));
                }
                Op::Query(p, s, limit, forward) => {
                    let pk = format!("p{p}");
                    let got = drain(&env, "Query", json!({"TableName": "tbl", "KeyConditionExpression": "pk = :p AND sk >= :s", "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"N": s.to_string()}}, "Limit": limit, "ScanIndexForward": forward}));
                    let mut want: Vec<(String, i64, i64)> = model
                        .range((pk.clone(), i64::from(s))..(pk.clone(), i64::MAX))
                        .map(|((p, s), v)| (p.clone(), *s, v.0))
                        .collect();
                    if !forward {
                        want.reverse();
                    }
                    prop_assert_eq!(got, want);
                }
                Op::Scan(limit) => {
                    let got = drain(&env, "Scan", json!({"TableName": "tbl", "Limit": limit}));
                    let want: Vec<(String, i64, i64)> = model.iter().map(|((p, s), v)| (p.clone(), *s, v.0)).collect();
                    prop_assert_eq!(got, want);
                }
                Op::IndexQuery(g, limit) => {
                    let g = format!("g{g}");
                    let mut got = drain(&env, "Query", json!({"TableName": "tbl", "IndexName": "byG", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": g}}, "Limit": limit}));
                    got.sort();
                    let want: Vec<(String, i64, i64)> = model
                        .iter()
                        .filter(|(_, v)| v.1.as_deref() == Some(g.as_str()))
                        .map(|((p, s), v)| (p.clone(), *s, v.0))
                        .collect();
                    prop_assert_eq!(got, want);
                }
            }
        }
        let d = env.ok("DescribeTable", json!({"TableName": "tbl"}));
        prop_assert_eq!(d["Table"]["ItemCount"].as_u64().unwrap() as usize, model.len());
    }
}
