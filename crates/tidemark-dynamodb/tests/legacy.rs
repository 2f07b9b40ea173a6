//! The legacy (pre-expression) parameters through the dispatcher: Expected with
//! ConditionalOperator, AttributesToGet, AttributeUpdates, KeyConditions, QueryFilter and
//! ScanFilter; each gives the answer its expression twin gives, and bad input gets
//! DynamoDB's message and changes nothing.

mod common;

use common::Env;
use serde_json::{Value, json};

/// `tbl` (pk S, sk N) holding pk=a, sk=1..=5 with n = sk*10, a tag set and a word.
fn env() -> Env {
    let env = Env::new();
    env.simple_table("tbl");
    for i in 1..=5 {
        env.ok(
            "PutItem",
            json!({"TableName": "tbl", "Item": {
                "pk": {"S": "a"}, "sk": {"N": i.to_string()}, "n": {"N": (i * 10).to_string()},
                "tags": {"SS": [format!("t{i}"), "all"]}, "word": {"S": format!("w{i}-x")}
            }}),
        );
    }
    env
}

fn key(sk: i32) -> Value {
    json!({"pk": {"S": "a"}, "sk": {"N": sk.to_string()}})
}

fn get(env: &Env, sk: i32) -> Value {
    env.ok("GetItem", json!({"TableName": "tbl", "Key": key(sk)}))["Item"].clone()
}

fn sks(out: &Value) -> Vec<i64> {
    out["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sk"]["N"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn expected_guards_writes_like_a_condition_expression() {
    let env = env();
    let put = |expected: Value, op: Option<&str>| {
        let mut input = json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "99"}}, "Expected": expected});
        if let Some(op) = op {
            input["ConditionalOperator"] = json!(op);
        }
        env.call("PutItem", input).map_err(common::describe_error)
    };
    let failed = |r: Result<Value, (String, String)>| {
        let (code, msg) = r.unwrap_err();
        assert_eq!(code, "ConditionalCheckFailedException");
        assert_eq!(msg, "The conditional request failed");
    };
    // Value alone means "equals"; Exists=false means "absent".
    failed(put(json!({"n": {"Value": {"N": "11"}}}), None));
    failed(put(json!({"n": {"Exists": false}}), None));
    failed(put(
        json!({"n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "10"}]}}),
        None,
    ));
    // Two comparisons are ANDed unless ConditionalOperator is OR.
    let two = json!({
        "n": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "10"}]},
        "word": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "nope"}]}
    });
    failed(put(two.clone(), None));
    failed(put(two.clone(), Some("AND")));
    assert_eq!(get(&env, 1)["n"], json!({"N": "10"}), "nothing changed");
    put(two, Some("OR")).unwrap();
    assert_eq!(get(&env, 1)["n"], json!({"N": "99"}));
    // Every operator once, each true of item 2 (n=20, tags {t2, all}, word "w2-x").
    let all = json!({
        "n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "15"}, {"N": "25"}]},
        "word": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "2-"}]},
        "tags": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "all"}]},
        "nope": {"ComparisonOperator": "NULL"},
        "sk": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "7"}, {"N": "2"}]},
        "pk": {"ComparisonOperator": "NOT_NULL"}
    });
    let del = |expected: Value| {
        env.call(
            "DeleteItem",
            json!({"TableName": "tbl", "Key": key(2), "Expected": expected, "ReturnValues": "ALL_OLD"}),
        )
        .map_err(common::describe_error)
    };
    failed(del(
        json!({"word": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "w2"}]}}),
    ));
    failed(del(
        json!({"n": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "20"}]}}),
    ));
    failed(del(
        json!({"n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "20"}]}}),
    ));
    let out = del(all).unwrap();
    assert_eq!(out["Attributes"]["n"], json!({"N": "20"}));
    assert!(
        env.ok("GetItem", json!({"TableName": "tbl", "Key": key(2)}))
            .get("Item")
            .is_none()
    );
    // A missing attribute is "not equal" and does "not contain".
    del(json!({"nope": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "1"}]}})).unwrap();
}

#[test]
fn expected_validation_uses_dynamodb_messages() {
    let env = env();
    let cases = [
        (
            json!({"n": {"Value": {"N": "1"}, "AttributeValueList": [{"N": "1"}]}}),
            "One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: n",
        ),
        (
            json!({"n": {"Exists": true, "ComparisonOperator": "EQ", "Value": {"N": "1"}}}),
            "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: n",
        ),
        (
            json!({"n": {"ComparisonOperator": "EQ"}}),
            "One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: n",
        ),
        (
            json!({"n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}]}}),
            "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator",
        ),
        (
            json!({"n": {"ComparisonOperator": "NULL", "Value": {"N": "1"}}}),
            "One or more parameter values were invalid: Invalid number of argument(s) for the NULL ComparisonOperator",
        ),
        (
            json!({"n": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}, {"S": "1"}]}}),
            "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type",
        ),
        (
            json!({"n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "5"}, {"N": "1"}]}}),
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
        ),
        (
            json!({"n": {"AttributeValueList": [{"N": "1"}]}}),
            "One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: n",
        ),
        (
            json!({"n": {}}),
            "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: n",
        ),
        (
            json!({"n": {"Exists": true}}),
            "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: n",
        ),
        (
            json!({"n": {"Exists": false, "Value": {"N": "1"}}}),
            "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: n",
        ),
        (
            json!({"n": {"Value": {"SS": []}}}),
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
    ];
    for (expected, want) in cases {
        let (code, msg) = env.err(
            "PutItem",
            json!({"TableName": "tbl", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "Expected": expected}),
        );
        assert_eq!((code.as_str(), msg.as_str()), ("ValidationException", want));
    }
    assert_eq!(get(&env, 1)["n"], json!({"N": "10"}), "nothing changed");
}

#[test]
fn legacy_and_expression_parameters_do_not_mix() {
    let env = env();
    let cases = [
        (
            "PutItem",
            json!({"Item": key(1), "Expected": {"n": {"Exists": false}}, "ConditionExpression": "attribute_not_exists(n)"}),
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            "UpdateItem",
            json!({"Key": key(1), "AttributeUpdates": {"n": {"Action": "DELETE"}}, "Expected": {"n": {"Exists": false}}, "UpdateExpression": "REMOVE n"}),
            "Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: {UpdateExpression}",
        ),
        (
            "GetItem",
            json!({"Key": key(1), "AttributesToGet": ["n"], "ProjectionExpression": "n"}),
            "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
        ),
        (
            "Query",
            json!({"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}, "QueryFilter": {"n": {"ComparisonOperator": "NULL"}}}),
            "Non-expression parameters: {QueryFilter} Expression parameters: {KeyConditionExpression}",
        ),
        (
            "Scan",
            json!({"ScanFilter": {"n": {"ComparisonOperator": "NULL"}}, "ConditionalOperator": "OR", "FilterExpression": "attribute_exists(n)"}),
            "Non-expression parameters: {ScanFilter, ConditionalOperator} Expression parameters: {FilterExpression}",
        ),
    ];
    for (op, mut input, tail) in cases {
        input["TableName"] = json!("tbl");
        let (code, msg) = env.err(op, input);
        assert_eq!(code, "ValidationException");
        assert_eq!(
            msg,
            format!(
                "Can not use both expression and non-expression parameters in the same request: {tail}"
            ),
            "{op}"
        );
    }
    // Values without an expression that takes them name those expressions.
    let values = json!({":v": {"N": "1"}});
    let cases = [
        (
            "PutItem",
            json!({"Item": key(1), "Expected": {"n": {"Exists": false}}}),
            "ConditionExpression is null",
        ),
        (
            "UpdateItem",
            json!({"Key": key(1), "AttributeUpdates": {"n": {"Action": "DELETE"}}}),
            "UpdateExpression and ConditionExpression are null",
        ),
        (
            "Query",
            json!({"KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}}}),
            "FilterExpression and KeyConditionExpression are null",
        ),
        ("Scan", json!({}), "FilterExpression is null"),
    ];
    for (op, mut input, tail) in cases {
        input["TableName"] = json!("tbl");
        input["ExpressionAttributeValues"] = values.clone();
        assert_eq!(
            env.err(op, input).1,
            format!(
                "ExpressionAttributeValues can only be specified when using expressions: {tail}"
            ),
            "{op}"
        );
    }
    // KeyConditions with a FilterExpression is allowed, as in DynamoDB.
    let out = env.ok(
        "Query",
        json!({"TableName": "tbl",
            "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
            "FilterExpression": "n > :n", "ExpressionAttributeValues": {":n": {"N": "30"}}}),
    );
    assert_eq!(sks(&out), vec![4, 5]);
}

#[test]
fn attributes_to_get_projects_top_level_names() {
    let env = env();
    env.ok(
        "PutItem",
        json!({"TableName": "tbl", "Item": {"pk": {"S": "b"}, "sk": {"N": "1"}, "a.b": {"S": "dotted"}, "a": {"M": {"b": {"S": "nested"}}}}}),
    );
    let bkey = json!({"pk": {"S": "b"}, "sk": {"N": "1"}});
    let out = env.ok(
        "GetItem",
        json!({"TableName": "tbl", "Key": bkey, "AttributesToGet": ["a.b", "missing"]}),
    );
    assert_eq!(out["Item"], json!({"a.b": {"S": "dotted"}}));
    let out = env.ok(
        "BatchGetItem",
        json!({"RequestItems": {"tbl": {"Keys": [key(1)], "AttributesToGet": ["n"]}}}),
    );
    assert_eq!(out["Responses"]["tbl"], json!([{"n": {"N": "10"}}]));
    let (_, msg) = env.err(
        "GetItem",
        json!({"TableName": "tbl", "Key": key(1), "AttributesToGet": ["n", "n"]}),
    );
    assert_eq!(
        msg,
        "One or more parameter values were invalid: Duplicate value in attribute name: n"
    );
    let out = env.ok(
        "Scan",
        json!({"TableName": "tbl", "AttributesToGet": ["sk"], "Limit": 2}),
    );
    assert_eq!(
        out["Items"],
        json!([{"sk": {"N": "1"}}, {"sk": {"N": "2"}}])
    );
    let (_, msg) = env.err(
        "Scan",
        json!({"TableName": "tbl", "AttributesToGet": ["sk"], "Select": "ALL_ATTRIBUTES"}),
    );
    assert_eq!(
        msg,
        "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES"
    );
}

#[test]
fn attribute_updates_put_add_and_delete() {
    let env = env();
    let update = |updates: Value, rv: &str| {
        env.call(
            "UpdateItem",
            json!({"TableName": "tbl", "Key": key(1), "AttributeUpdates": updates, "ReturnValues": rv}),
        )
        .map_err(common::describe_error)
    };
    let out = update(
        json!({
            "n": {"Action": "ADD", "Value": {"N": "5"}},
            "tags": {"Action": "ADD", "Value": {"SS": ["new", "all"]}},
            "word": {"Value": {"S": "replaced"}},
            "list": {"Action": "ADD", "Value": {"L": [{"S": "x"}]}},
            "count": {"Action": "ADD", "Value": {"N": "1"}}
        }),
        "UPDATED_NEW",
    )
    .unwrap();
    assert_eq!(
        out["Attributes"],
        json!({"n": {"N": "15"}, "tags": {"SS": ["t1", "all", "new"]}, "word": {"S": "replaced"},
               "list": {"L": [{"S": "x"}]}, "count": {"N": "1"}})
    );
    // ADD of a list appends; DELETE with a set removes members; DELETE alone removes.
    let out = update(
        json!({
            "list": {"Action": "ADD", "Value": {"L": [{"S": "y"}]}},
            "tags": {"Action": "DELETE", "Value": {"SS": ["t1", "all", "absent"]}},
            "word": {"Action": "DELETE"}
        }),
        "ALL_NEW",
    )
    .unwrap();
    let item = &out["Attributes"];
    assert_eq!(item["list"], json!({"L": [{"S": "x"}, {"S": "y"}]}));
    assert_eq!(item["tags"], json!({"SS": ["new"]}));
    assert!(item.get("word").is_none());
    // A missing item is created from the key, as with an UpdateExpression.
    let out = env.ok(
        "UpdateItem",
        json!({"TableName": "tbl", "Key": key(9), "AttributeUpdates": {"n": {"Action": "ADD", "Value": {"N": "2"}}}, "ReturnValues": "ALL_NEW"}),
    );
    assert_eq!(out["Attributes"]["n"], json!({"N": "2"}));
    // Errors, none of which changes the item.
    let before = get(&env, 1);
    let cases = [
        (
            json!({"n": {"Action": "ADD", "Value": {"SS": ["x"]}}}),
            "Type mismatch for attribute to update",
        ),
        (
            json!({"n": {"Action": "DELETE", "Value": {"NS": ["1"]}}}),
            "Type mismatch for attribute to update",
        ),
        (
            json!({"n": {"Action": "PUT"}}),
            "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified",
        ),
        (
            json!({"n": {"Action": "DELETE", "Value": {"N": "1"}}}),
            "One or more parameter values were invalid: DELETE action with value is not supported for the type N",
        ),
        (
            json!({"n": {"Action": "ADD", "Value": {"S": "x"}}}),
            "One or more parameter values were invalid: ADD action is not supported for the type S",
        ),
        (
            json!({"sk": {"Value": {"N": "2"}}}),
            "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key",
        ),
    ];
    for (updates, want) in cases {
        let (code, msg) = update(updates, "NONE").unwrap_err();
        assert_eq!((code.as_str(), msg.as_str()), ("ValidationException", want));
    }
    assert_eq!(get(&env, 1), before);
    // Expected guards AttributeUpdates too.
    let (code, _) = env.err(
        "UpdateItem",
        json!({"TableName": "tbl", "Key": key(1), "AttributeUpdates": {"n": {"Value": {"N": "0"}}}, "Expected": {"n": {"Value": {"N": "1"}}}}),
    );
    assert_eq!(code, "ConditionalCheckFailedException");
    assert_eq!(get(&env, 1), before);
}

#[test]
fn key_conditions_and_filters_query_like_expressions() {
    let env = env();
    let q = |conds: Value, extra: Value| {
        let mut input = json!({"TableName": "tbl", "KeyConditions": conds});
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        env.call("Query", input).map_err(common::describe_error)
    };
    let hash = json!({"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]});
    let with_range = |range: Value| json!({"pk": hash.clone(), "sk": range});
    assert_eq!(
        sks(&q(json!({"pk": hash.clone()}), json!({})).unwrap()),
        vec![1, 2, 3, 4, 5]
    );
    let cases = [
        (
            json!({"ComparisonOperator": "GT", "AttributeValueList": [{"N": "3"}]}),
            vec![4, 5],
        ),
        (
            json!({"ComparisonOperator": "LE", "AttributeValueList": [{"N": "2"}]}),
            vec![1, 2],
        ),
        (
            json!({"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "2"}, {"N": "4"}]}),
            vec![2, 3, 4],
        ),
        (
            json!({"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "3"}]}),
            vec![3],
        ),
    ];
    for (range, want) in cases {
        assert_eq!(
            sks(&q(with_range(range.clone()), json!({})).unwrap()),
            want,
            "{range}"
        );
    }
    let out = q(
        json!({"pk": hash.clone()}),
        json!({"ScanIndexForward": false, "Limit": 2,
               "QueryFilter": {"n": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "20"}]},
                               "word": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "nothing"}]}},
               "ConditionalOperator": "OR", "AttributesToGet": ["sk", "n"]}),
    )
    .unwrap();
    assert_eq!(
        out["Items"],
        json!([{"sk": {"N": "5"}, "n": {"N": "50"}}, {"sk": {"N": "4"}, "n": {"N": "40"}}])
    );
    assert_eq!(out["LastEvaluatedKey"], key(4));
    // Errors.
    let bad = |conds: Value, extra: Value| q(conds, extra).unwrap_err().1;
    assert_eq!(
        bad(
            json!({"sk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}}),
            json!({})
        ),
        "Query condition missed key schema element: pk"
    );
    assert_eq!(
        bad(
            with_range(json!({"ComparisonOperator": "NOT_NULL"})),
            json!({})
        ),
        "Attempted conditional constraint is not an indexable operation"
    );
    assert_eq!(
        bad(
            json!({"pk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "a"}]}}),
            json!({})
        ),
        "Query key condition not supported"
    );
    assert_eq!(
        bad(
            json!({"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}}),
            json!({})
        ),
        "One or more parameter values were invalid: Condition parameter type does not match schema type"
    );
    assert_eq!(
        bad(
            json!({"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}, {"S": "b"}]}}),
            json!({})
        ),
        "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"
    );
    assert_eq!(
        bad(
            json!({"pk": hash.clone()}),
            json!({"QueryFilter": {"sk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}}})
        ),
        "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk"
    );
    assert_eq!(
        bad(
            json!({"pk": hash.clone()}),
            json!({"QueryFilter": {"tags": {"ComparisonOperator": "GT", "AttributeValueList": [{"SS": ["x"]}]}}})
        ),
        "One or more parameter values were invalid: ComparisonOperator GT is not valid for SS AttributeValue type"
    );
    assert_eq!(
        bad(json!({}), json!({})),
        "Conditions can be of length 1 or 2 only"
    );
}

#[test]
fn scan_filter_matches_its_filter_expression_twin() {
    let env = env();
    let legacy = env.ok(
        "Scan",
        json!({"TableName": "tbl", "ScanFilter": {
            "tags": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "t3"}]},
            "n": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "20"}, {"N": "30"}, {"N": "40"}]}
        }}),
    );
    let expression = env.ok(
        "Scan",
        json!({"TableName": "tbl", "FilterExpression": "NOT contains(tags, :t) AND n IN (:a, :b, :c)",
            "ExpressionAttributeValues": {":t": {"S": "t3"}, ":a": {"N": "20"}, ":b": {"N": "30"}, ":c": {"N": "40"}}}),
    );
    assert_eq!(sks(&legacy), vec![2, 4]);
    assert_eq!(legacy, expression);
    let (_, msg) = env.err(
        "Scan",
        json!({"TableName": "tbl", "ScanFilter": {"word": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"N": "1"}]}}}),
    );
    assert_eq!(
        msg,
        "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"
    );
}
