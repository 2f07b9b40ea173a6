//! Property test: a random legacy filter (ScanFilter with ConditionalOperator) and a random
//! legacy write guard (Expected) give exactly the answers of the FilterExpression /
//! ConditionExpression written the documented way, over random items.

mod common;

use common::Env;
use proptest::prelude::*;
use serde_json::{Value, json};

const OPS: [&str; 13] = [
    "EQ",
    "NE",
    "LE",
    "LT",
    "GE",
    "GT",
    "NOT_NULL",
    "NULL",
    "CONTAINS",
    "NOT_CONTAINS",
    "BEGINS_WITH",
    "IN",
    "BETWEEN",
];

/// A scalar: a small number or a short string, so comparisons often hit.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u8..4).prop_map(|n| json!({"N": n.to_string()})),
        "[ab]{1,2}".prop_map(|s| json!({"S": s})),
    ]
}

/// An attribute of an item: a scalar, a string set, or absent.
fn attribute() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        scalar().prop_map(Some),
        proptest::collection::btree_set("[ab]{1,2}", 1..3)
            .prop_map(|s| Some(json!({"SS": s.into_iter().collect::<Vec<_>>()}))),
        Just(None),
    ]
}

/// One valid legacy comparison: operator and an argument list of its arity and types.
fn comparison() -> impl Strategy<Value = (&'static str, Vec<Value>)> {
    (0..OPS.len(), scalar(), scalar(), "[ab]{1,2}").prop_map(|(i, a, b, s)| {
        let op = OPS[i];
        let same_type = |b: Value| {
            if a.get("N").is_some() == b.get("N").is_some() {
                b
            } else {
                a.clone()
            }
        };
        let args = match op {
            "NOT_NULL" | "NULL" => vec![],
            "BEGINS_WITH" => vec![json!({"S": s})],
            "IN" => vec![a.clone(), same_type(b)],
            "BETWEEN" => {
                let b = same_type(b);
                let key = |v: &Value| match v.get("N") {
                    Some(n) => format!("{:0>3}", n.as_str().unwrap()),
                    None => v["S"].as_str().unwrap().to_string(),
                };
                if key(&a) <= key(&b) {
                    vec![a.clone(), b]
                } else {
                    vec![b, a.clone()]
                }
            }
            _ => vec![a.clone()],
        };
        (op, args)
    })
}

type Filter = Vec<(&'static str, (&'static str, Vec<Value>))>;

fn filter() -> impl Strategy<Value = (Filter, bool)> {
    (
        proptest::collection::vec((prop_oneof![Just("x"), Just("y")], comparison()), 1..3),
        any::<bool>(),
    )
        .prop_map(|(mut f, or)| {
            f.sort_by_key(|(name, _)| *name);
            f.dedup_by_key(|(name, _)| *name);
            (f, or)
        })
}

/// The legacy map and the equivalent expression with its placeholders.
fn both(f: &Filter, or: bool) -> (Value, String, Value, Value) {
    let mut legacy = serde_json::Map::new();
    let mut parts = Vec::new();
    let mut names = serde_json::Map::new();
    let mut values = serde_json::Map::new();
    for (n, (name, (op, args))) in f.iter().enumerate() {
        legacy.insert(
            name.to_string(),
            json!({"ComparisonOperator": op, "AttributeValueList": args}),
        );
        let attr = format!("#a{n}");
        names.insert(attr.clone(), json!(name));
        let vals: Vec<String> = args
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let k = format!(":v{n}_{i}");
                values.insert(k.clone(), v.clone());
                k
            })
            .collect();
        let cmp = |sym: &str| format!("{attr} {sym} {}", vals[0]);
        parts.push(match *op {
            "EQ" => cmp("="),
            "NE" => cmp("<>"),
            "LE" => cmp("<="),
            "LT" => cmp("<"),
            "GE" => cmp(">="),
            "GT" => cmp(">"),
            "NOT_NULL" => format!("attribute_exists({attr})"),
            "NULL" => format!("attribute_not_exists({attr})"),
            "CONTAINS" => format!("contains({attr}, {})", vals[0]),
            "NOT_CONTAINS" => format!("NOT contains({attr}, {})", vals[0]),
            "BEGINS_WITH" => format!("begins_with({attr}, {})", vals[0]),
            "IN" => format!("{attr} IN ({})", vals.join(", ")),
            "BETWEEN" => format!("{attr} BETWEEN {} AND {}", vals[0], vals[1]),
            other => unreachable!("{other}"),
        });
    }
    let joined = parts
        .iter()
        .map(|p| format!("({p})"))
        .collect::<Vec<_>>()
        .join(if or { " OR " } else { " AND " });
    (Value::Object(legacy), joined, json!(names), json!(values))
}

fn put_items(env: &Env, items: &[(Option<Value>, Option<Value>)]) {
    for (i, (x, y)) in items.iter().enumerate() {
        let mut item = json!({"pk": {"S": "p"}, "sk": {"N": i.to_string()}});
        if let Some(x) = x {
            item["x"] = x.clone();
        }
        if let Some(y) = y {
            item["y"] = y.clone();
        }
        env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn scan_filter_equals_filter_expression(
        items in proptest::collection::vec((attribute(), attribute()), 1..8),
        (f, or) in filter(),
    ) {
        let env = Env::new();
        env.simple_table("tbl");
        put_items(&env, &items);
        let (legacy, expr, names, values) = both(&f, or);
        let mut input = json!({"TableName": "tbl", "ScanFilter": legacy});
        if f.len() > 1 {
            input["ConditionalOperator"] = json!(if or { "OR" } else { "AND" });
        }
        let by_legacy = env.ok("Scan", input);
        let mut input = json!({"TableName": "tbl", "FilterExpression": expr, "ExpressionAttributeNames": names});
        if values.as_object().is_some_and(|v| !v.is_empty()) {
            input["ExpressionAttributeValues"] = values;
        }
        let by_expression = env.ok("Scan", input);
        prop_assert_eq!(by_legacy, by_expression);
    }

    #[test]
    fn expected_equals_condition_expression(
        items in proptest::collection::vec((attribute(), attribute()), 1..4),
        (f, or) in filter(),
    ) {
        let env = Env::new();
        env.simple_table("tbl");
        put_items(&env, &items);
        let (legacy, expr, names, values) = both(&f, or);
        for sk in 0..items.len() {
            let key = json!({"pk": {"S": "p"}, "sk": {"N": sk.to_string()}});
            let mut guarded = json!({"TableName": "tbl", "Key": key, "Expected": legacy, "ReturnValues": "ALL_OLD"});
            if f.len() > 1 {
                guarded["ConditionalOperator"] = json!(if or { "OR" } else { "AND" });
            }
            let mut twin = json!({"TableName": "tbl", "Key": key, "ConditionExpression": expr, "ExpressionAttributeNames": names, "ReturnValues": "ALL_OLD"});
            if values.as_object().is_some_and(|v| !v.is_empty()) {
                twin["ExpressionAttributeValues"] = values.clone();
            }
            // Ask the twin first without changing anything (a failing condition changes
            // nothing), then delete for real with the legacy guard.
            let twin_says = env.call("DeleteItem", twin.clone()).map_err(common::describe_error);
            if twin_says.is_ok() {
                // Put the item back so both guards see the same item.
                let item = twin_says.as_ref().unwrap()["Attributes"].clone();
                env.ok("PutItem", json!({"TableName": "tbl", "Item": item}));
            }
            let legacy_says = env.call("DeleteItem", guarded).map_err(common::describe_error);
            prop_assert_eq!(legacy_says.is_ok(), twin_says.is_ok(), "sk {}", sk);
            if let (Err(a), Err(b)) = (&legacy_says, &twin_says) {
                prop_assert_eq!(a, b);
            }
        }
    }
}
