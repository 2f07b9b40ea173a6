//! Update-expression tests: parse-time checks and applying every clause. Messages cite their
//! source (dynalite = architect/dynalite `db/updateParser.pegjs` and `actions/updateItem.js`,
//! alternator = scylladb test/alternator).

use super::tests::{item, names};
use super::*;
use crate::attr::{AttributeValue, Item};
use proptest::prelude::*;

const VALUES: &str = r#"{":one":{"N":"1"},":two":{"N":"2"},":s":{"S":"x"},":l":{"L":[{"S":"z"}]},
    ":ss":{"SS":["b","c"]},":ns":{"NS":["5"]},":big":{"N":"9e125"},":m":{"M":{"k":{"S":"v"}}}}"#;

fn compile(expr: &str, n: &[(&str, &str)]) -> Result<UpdateExpr, String> {
    let (n, v) = (names(n), item(VALUES));
    let mut ctx = ExpressionContext::new((!n.is_empty()).then_some(&n), Some(&v)).unwrap();
    ctx.update(expr).map_err(|e| e.to_string())
}

/// Applies `expr` to the item given as JSON and returns the new item as JSON (or the error).
fn run(expr: &str, before: &str) -> Result<String, String> {
    let u = compile(expr, &[])?;
    let new = u.apply(&item(before)).map_err(|e| e.to_string())?;
    Ok(serde_json::to_string(&new).unwrap())
}

#[test]
fn set_creates_replaces_and_computes() {
    assert_eq!(run("SET a = :one", "{}").unwrap(), r#"{"a":{"N":"1"}}"#);
    assert_eq!(
        run(
            "SET a = :two, b = a + :one, c = a - :two",
            r#"{"a":{"N":"10"}}"#
        )
        .unwrap(),
        r#"{"a":{"N":"2"},"b":{"N":"11"},"c":{"N":"8"}}"#,
        "right-hand sides read the old item"
    );
    assert_eq!(
        run(
            "SET m.k = :s, m.fresh = :one",
            r#"{"m":{"M":{"k":{"N":"0"}}}}"#
        )
        .unwrap(),
        r#"{"m":{"M":{"k":{"S":"x"},"fresh":{"N":"1"}}}}"#
    );
    assert_eq!(
        run(
            "SET a = if_not_exists(a, :one), b = if_not_exists(c, :two)",
            r#"{"a":{"N":"7"}}"#
        )
        .unwrap(),
        r#"{"a":{"N":"7"},"b":{"N":"2"}}"#
    );
    assert_eq!(
        run("SET n = if_not_exists(n, :one) + :two", "{}").unwrap(),
        r#"{"n":{"N":"3"}}"#
    );
    // Parentheses around the whole value or around one operand.
    assert_eq!(
        run("SET a = (b + :one), c = (b) - :two", r#"{"b":{"N":"5"}}"#).unwrap(),
        r#"{"b":{"N":"5"},"a":{"N":"6"},"c":{"N":"3"}}"#
    );
}

#[test]
fn set_on_lists() {
    let list = r#"{"l":{"L":[{"S":"a"},{"S":"b"}]}}"#;
    assert_eq!(
        run("SET l[1] = :s", list).unwrap(),
        r#"{"l":{"L":[{"S":"a"},{"S":"x"}]}}"#
    );
    // An index past the end appends; several such SETs append in index order, whatever
    // their order in the expression (alternator test_nested_attribute_update_array_out_of_bounds).
    assert_eq!(
        run("SET l[9] = :s", list).unwrap(),
        r#"{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"x"}]}}"#
    );
    assert_eq!(
        run("SET l[84] = :one, l[37] = :two, l[17] = :s", list).unwrap(),
        r#"{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"x"},{"N":"2"},{"N":"1"}]}}"#
    );
    // REMOVE indexes refer to the old list even when mixed with SET (alternator
    // test_update_expression_nested_remove_list_item_original_number).
    let six = r#"{"a":{"L":[{"N":"2"},{"N":"3"},{"N":"4"},{"N":"5"},{"N":"6"},{"N":"7"}]}}"#;
    for expr in ["REMOVE a[1] SET a[3] = :big", "SET a[3] = :big REMOVE a[1]"] {
        assert_eq!(
            run(expr, six).unwrap(),
            format!(
                r#"{{"a":{{"L":[{{"N":"2"}},{{"N":"4"}},{{"N":"{}"}},{{"N":"6"}},{{"N":"7"}}]}}}}"#,
                crate::attr::Number::parse("9e125").unwrap()
            )
        );
    }
    assert_eq!(
        run("SET l = list_append(l, :l), k = list_append(:l, l)", list).unwrap(),
        r#"{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"z"}]},"k":{"L":[{"S":"z"},{"S":"a"},{"S":"b"}]}}"#
    );
}

#[test]
fn set_runtime_errors() {
    // dynalite actions/updateItem.js resolveValue / applyUpdateExpression.
    assert_eq!(
        run("SET a = b + :one", "{}").unwrap_err(),
        "The provided expression refers to an attribute that does not exist in the item"
    );
    assert_eq!(
        run("SET a = b + :one", r#"{"b":{"S":"x"}}"#).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        run("SET a = list_append(b, :l)", r#"{"b":{"N":"1"}}"#).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        run("SET a.b = :one", "{}").unwrap_err(),
        "The document path provided in the update expression is invalid for update"
    );
    assert_eq!(
        run("SET a[0] = :one", r#"{"a":{"M":{}}}"#).unwrap_err(),
        "The document path provided in the update expression is invalid for update"
    );
    // alternator test_update_expression_plus_overflow: out-of-range results are rejected.
    assert_eq!(
        run("SET a = :big + :big", "{}").unwrap_err(),
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    );
}

#[test]
fn remove_top_level_nested_and_list_indexes() {
    assert_eq!(
        run(
            "REMOVE a, m.k, nothing",
            r#"{"a":{"N":"1"},"b":{"N":"2"},"m":{"M":{"k":{"N":"1"},"j":{"N":"2"}}}}"#
        )
        .unwrap(),
        r#"{"b":{"N":"2"},"m":{"M":{"j":{"N":"2"}}}}"#
    );
    // Indexes refer to the list before the update, so removing several shifts nothing wrongly.
    let list = r#"{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"c"},{"S":"d"}]}}"#;
    assert_eq!(
        run("REMOVE l[0], l[2]", list).unwrap(),
        r#"{"l":{"L":[{"S":"b"},{"S":"d"}]}}"#
    );
    assert_eq!(run("REMOVE l[9]", list).unwrap(), list);
    // A missing leaf is ignored; a missing or non-container parent is an error
    // (alternator test_nested_attribute_remove_missing_leaf / update_bad_path_dot).
    let it = r#"{"a":{"M":{"x":{"N":"3"}}},"s":{"S":"hello"}}"#;
    assert_eq!(run("REMOVE a.y", it).unwrap(), it);
    for expr in ["REMOVE s.c", "REMOVE c.c", "REMOVE s[0]", "REMOVE a[0]"] {
        assert_eq!(
            run(expr, it).unwrap_err(),
            "The document path provided in the update expression is invalid for update",
            "{expr}"
        );
    }
}

#[test]
fn missing_item_ignores_nested_remove_but_not_nested_set() {
    // alternator test_nested_attribute_remove_from_missing_item (DynamoDB behaviour).
    let u = compile("REMOVE x.y, z[0] SET n = :one", &[]).unwrap();
    assert_eq!(
        serde_json::to_string(&u.apply_to_missing_item().unwrap()).unwrap(),
        r#"{"n":{"N":"1"}}"#
    );
    assert!(u.apply(&Item::new()).is_err());
    let set = compile("SET c.c = :one", &[]).unwrap();
    assert_eq!(
        set.apply_to_missing_item().unwrap_err().to_string(),
        "The document path provided in the update expression is invalid for update"
    );
}

#[test]
fn key_attributes_cannot_be_updated() {
    let u = compile("SET a = :one REMOVE pk", &[]).unwrap();
    assert_eq!(
        u.check_key_attributes(&["pk", "sk"])
            .unwrap_err()
            .to_string(),
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    );
    assert!(u.check_key_attributes(&["x"]).is_ok());
}

#[test]
fn add_numbers_and_sets() {
    assert_eq!(run("ADD n :two", "{}").unwrap(), r#"{"n":{"N":"2"}}"#);
    assert_eq!(
        run("ADD n :two", r#"{"n":{"N":"-5"}}"#).unwrap(),
        r#"{"n":{"N":"-3"}}"#
    );
    assert_eq!(run("ADD s :ss", "{}").unwrap(), r#"{"s":{"SS":["b","c"]}}"#);
    assert_eq!(
        run("ADD s :ss", r#"{"s":{"SS":["a","b"]}}"#).unwrap(),
        r#"{"s":{"SS":["a","b","c"]}}"#
    );
    assert_eq!(
        run("ADD s :ns", r#"{"s":{"SS":["a"]}}"#).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        run("ADD n :one", r#"{"n":{"S":"x"}}"#).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
}

#[test]
fn delete_from_sets() {
    assert_eq!(
        run("DELETE s :ss", r#"{"s":{"SS":["a","b","c"]}}"#).unwrap(),
        r#"{"s":{"SS":["a"]}}"#
    );
    // A set left empty removes the attribute.
    assert_eq!(
        run("DELETE s :ss", r#"{"s":{"SS":["b"]},"x":{"N":"1"}}"#).unwrap(),
        r#"{"x":{"N":"1"}}"#
    );
    assert_eq!(run("DELETE s :ss", "{}").unwrap(), "{}");
    assert_eq!(
        run("DELETE s :ss", r#"{"s":{"NS":["1"]}}"#).unwrap_err(),
        "An operand in the update expression has an incorrect data type"
    );
}

#[test]
fn parse_time_errors() {
    let cases = [
        // dynalite updateParser checkOperator / checkFunction / checkSection / checkPaths.
        (
            "ADD a :s",
            "Incorrect operand type for operator or function; operator: ADD, operand type: STRING",
        ),
        (
            "DELETE a :one",
            "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER",
        ),
        (
            "DELETE a :m",
            "Incorrect operand type for operator or function; operator: DELETE, operand type: MAP",
        ),
        (
            "SET a = :s + :one",
            "Incorrect operand type for operator or function; operator or function: +, operand type: S",
        ),
        (
            "SET a = list_append(:s, b)",
            "Incorrect operand type for operator or function; operator or function: list_append, operand type: S",
        ),
        (
            "SET a = if_not_exists(:one, b)",
            "Operator or function requires a document path; operator or function: if_not_exists",
        ),
        (
            "SET a = if_not_exists(a)",
            "Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: 1",
        ),
        ("SET a = foo(b)", "Invalid function name; function: foo"),
        ("SET a = size(b)", "Invalid function name; function: size"),
        // alternator test_update_expression_function_nesting.
        (
            "SET a = list_append(list_append(:l, :l), :l)",
            "The function is not allowed to be used this way in an expression; function: list_append",
        ),
        (
            "SET a = LIST_APPEND(:l, :l)",
            "Invalid function name; function: LIST_APPEND",
        ),
        (
            "SET c = if_not_exists(c, :one + :two)",
            "Syntax error; token: \"+\", near: \":one + :two\"",
        ),
        (
            "SET a[:one] = :two",
            "Syntax error; token: \":one\", near: \"[:one]\"",
        ),
        (
            "HELLO b = :one",
            "Syntax error; token: \"HELLO\", near: \"HELLO b\"",
        ),
        (
            "SET a = :one SET b = :two",
            "The \"SET\" section can only be used once in an update expression;",
        ),
        (
            "SET a = :one REMOVE a.b",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]",
        ),
        (
            "SET a[1] = :one REMOVE a.b",
            "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, b]",
        ),
        (
            "SET a = :one, a = :two",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]",
        ),
        (
            "REMOVE name",
            "Attribute name is a reserved keyword; reserved keyword: name",
        ),
        (
            "SET a = :nope",
            "An expression attribute value used in expression is not defined; attribute value: :nope",
        ),
        (
            "SET #x = :one",
            "An expression attribute name used in the document path is not defined; attribute name: #x",
        ),
        // alternator test_update_expression: names must start with a letter.
        (
            "SET _123 = :one",
            "Syntax error; token: \"_\", near: \"SET _123\"",
        ),
        (
            "SET a = :one + :two + :one",
            "Syntax error; token: \"+\", near: \":two + :one\"",
        ),
        ("a = :one", "Syntax error; token: \"a\", near: \"a =\""),
        (
            "SET a :one",
            "Syntax error; token: \":one\", near: \"a :one\"",
        ),
        ("", "The expression can not be empty;"),
        // nubo-db/dynamodb-conformance tier3/error-messages/updateItem.test.ts (real AWS).
        (
            "INVALID SYNTAX HERE",
            "Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\"",
        ),
    ];
    for (expr, detail) in cases {
        assert_eq!(
            compile(expr, &[]).map(|_| ()).unwrap_err(),
            format!("Invalid UpdateExpression: {detail}"),
            "{expr}"
        );
    }
    // Clauses in any order, each once, keywords in any case.
    assert!(compile("remove x add n :one set a = :s delete s :ss", &[]).is_ok());
    assert!(compile("SET #a = (:one + :two)", &[("#a", "a")]).is_ok());
}

#[test]
fn updated_projection_covers_every_action_path() {
    let u = compile("SET a.b = :one, c = :two REMOVE d ADD e :one", &[]).unwrap();
    let new = item(
        r#"{"a":{"M":{"b":{"N":"1"},"x":{"N":"0"}}},"c":{"N":"2"},"e":{"N":"1"},"z":{"N":"0"}}"#,
    );
    assert_eq!(
        serde_json::to_string(&u.updated_projection().apply(&new)).unwrap(),
        r#"{"a":{"M":{"b":{"N":"1"}}},"c":{"N":"2"},"e":{"N":"1"}}"#
    );
}

fn arb_value() -> impl Strategy<Value = AttributeValue> {
    let leaf = prop_oneof![
        "[a-zé]{0,6}".prop_map(AttributeValue::S),
        (any::<i64>(), -20i32..20)
            .prop_map(|(m, e)| AttributeValue::number(&format!("{m}e{e}"))
                .unwrap_or(AttributeValue::Null)),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(AttributeValue::B),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null),
        proptest::collection::btree_set("[a-z]{1,4}", 1..4)
            .prop_map(|s| AttributeValue::Ss(s.into_iter().collect())),
        proptest::collection::btree_set(any::<i32>(), 1..4).prop_map(|s| AttributeValue::Ns(
            s.into_iter()
                .map(|n| crate::attr::Number::from_i64(n.into()))
                .collect()
        )),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| AttributeValue::M(Box::new(m.into_iter().collect::<Item>()))),
        ]
    })
}

proptest! {
    /// SET then a GetItem-style projection returns exactly the value written, top-level and
    /// nested, and the value survives the DynamoDB JSON round trip.
    #[test]
    fn set_then_project_round_trips(v in arb_value()) {
        let values: Item = [(":v".to_string(), v.clone())].into_iter().collect();
        let n = names(&[("#a", "attr"), ("#k", "key")]);
        let mut ctx = ExpressionContext::new(Some(&n), Some(&values)).unwrap();
        let update = ctx.update("SET #a = :v, m.#k = :v").unwrap();
        let projection = ctx.projection("#a, m.#k").unwrap();
        prop_assert!(ctx.finish("ConditionExpression is null").is_ok());
        let before = item(r#"{"pk":{"S":"p"},"m":{"M":{"other":{"N":"1"}}}}"#);
        let after = update.apply(&before).unwrap();
        let got = projection.apply(&after);
        let json = serde_json::to_string(&got).unwrap();
        let back: Item = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back["attr"], &v);
        match &back["m"] {
            AttributeValue::M(m) => {
                prop_assert_eq!(m.len(), 1);
                prop_assert_eq!(&m["key"], &v);
            }
            other => prop_assert!(false, "m projected as {:?}", other),
        }
    }
}
