//! Parser and evaluator tests for condition, projection and key-condition expressions. Each
//! pinned message names its source (dynalite = architect/dynalite grammars and validation tests,
//! alternator = scylladb test/alternator, recorded against DynamoDB).

use super::*;
use crate::attr::{AttrType, AttributeValue, Item, parse_item_json};
use indexmap::IndexMap;

pub(crate) fn item(json: &str) -> Item {
    if json.is_empty() {
        return Item::new();
    }
    parse_item_json(json).unwrap()
}

pub(crate) fn names(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Compiles a condition with the given placeholders and runs `finish()`; errors as text.
fn compile(expr: &str, n: &[(&str, &str)], values: &str) -> Result<ConditionExpr, String> {
    let (n, v) = (names(n), item(values));
    let mut ctx =
        ExpressionContext::new((!n.is_empty()).then_some(&n), (!v.is_empty()).then_some(&v))
            .map_err(|e| e.to_string())?;
    let c = ctx.condition(expr).map_err(|e| e.to_string())?;
    ctx.finish("ConditionExpression is null")
        .map_err(|e| e.to_string())?;
    Ok(c)
}

fn err(expr: &str, n: &[(&str, &str)], values: &str) -> String {
    compile(expr, n, values).unwrap_err()
}

/// Evaluates `expr` (values `:one`=1, `:two`=2, `:s`="ab", `:b`=0x0102 available) on an item.
fn holds(expr: &str, item_json: &str) -> bool {
    let v = item(r#"{":one":{"N":"1"},":two":{"N":"2"},":s":{"S":"ab"},":b":{"B":"AQI="}}"#);
    let mut ctx = ExpressionContext::new(None, Some(&v)).unwrap();
    ctx.condition(expr).unwrap().evaluate(&item(item_json))
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_and() {
    let it = r#"{"a":{"N":"1"},"b":{"N":"0"},"c":{"N":"0"}}"#;
    assert!(holds("a = :one OR b = :one AND c = :two", it));
    assert!(!holds("(a = :one OR b = :one) AND c = :two", it));
    assert!(holds("NOT b = :one AND a = :one", it));
    assert!(!holds("NOT (b = :two OR a = :one)", it));
    assert!(
        holds("a = :one and not b = :one", it),
        "keywords are case-insensitive"
    );
}

#[test]
fn comparators_on_numbers_strings_binaries() {
    let it = r#"{"n":{"N":"1.5"},"s":{"S":"abc"},"b":{"B":"AQID"}}"#;
    assert!(holds(
        "n > :one AND n < :two AND n >= :one AND n <= :two AND n <> :one",
        it
    ));
    assert!(holds("s > :s AND s >= :s AND NOT s < :s", it));
    assert!(holds("b > :b", it));
    // Different types never order and are unequal, without error.
    assert!(!holds("s > :one", it));
    assert!(!holds("s = :one", it));
    assert!(holds("s <> :one", it));
    // An absent attribute is unequal to everything and orders with nothing.
    assert!(!holds("absent = :one", it));
    assert!(holds("absent <> :one", it));
    assert!(!holds("absent < :one", it));
}

#[test]
fn between_and_in() {
    let it = r#"{"n":{"N":"2"},"s":{"S":"ab"}}"#;
    assert!(holds("n BETWEEN :one AND :two", it));
    assert!(!holds("n BETWEEN :one AND :one", it));
    assert!(!holds("s BETWEEN :one AND :two", it));
    assert!(holds("n IN (:one, :two)", it));
    assert!(holds("s IN (:one, :s)", it));
    assert!(!holds("n IN (:one)", it));
    assert!(!holds("absent IN (:one)", it));
}

#[test]
fn functions_evaluate_like_dynamodb() {
    let it = r#"{"s":{"S":"abcd"},"b":{"B":"AQID"},"ss":{"SS":["ab","x"]},"ns":{"NS":["1","3"]},
        "l":{"L":[{"N":"2"},{"S":"ab"}]},"m":{"M":{"k":{"NULL":true},"j":{"BOOL":true}}},"n":{"N":"7"}}"#;
    assert!(holds(
        "attribute_exists(m.k) AND attribute_not_exists(m.z)",
        it
    ));
    assert!(holds(
        "attribute_exists(l[1]) AND attribute_not_exists(l[2])",
        it
    ));
    assert!(holds("begins_with(s, :s) AND begins_with(b, :b)", it));
    assert!(!holds("begins_with(n, :s)", it));
    assert!(holds(
        "contains(s, :s) AND contains(ss, :s) AND contains(l, :two)",
        it
    ));
    assert!(holds(
        "contains(ns, :one) AND contains(l, :s) AND NOT contains(ss, :one)",
        it
    ));
    assert!(!holds("contains(n, :one)", it));
    assert!(holds(
        "size(s) > :two AND size(l) = :two AND size(m) = :two",
        it
    ));
    assert!(holds("size(ss) = :two AND size(b) > :two", it));
    // size of a number has no value: every comparison with it is false.
    assert!(!holds("size(n) > :one", it));
    assert!(!holds("size(n) <= :one", it));
}

#[test]
fn size_counts_utf16_code_units_for_strings() {
    // ExtendDB/extenddb PR #67, verified against AWS: size("é𝄞") = 3.
    let v = item(r#"{":three":{"N":"3"}}"#);
    let mut ctx = ExpressionContext::new(None, Some(&v)).unwrap();
    let c = ctx.condition("size(s) = :three").unwrap();
    assert!(c.evaluate(&item(r#"{"s":{"S":"é𝄞"}}"#)));
}

#[test]
fn expressions_over_4096_bytes_are_rejected() {
    let long = format!("a = :v OR {}", vec!["a = :v"; 700].join(" OR "));
    let e = compile(&long, &[], r#"{":v":{"N":"1"}}"#)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        e,
        format!(
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: {}",
            long.len()
        )
    );
}

#[test]
fn attribute_type_checks_the_stored_type() {
    let v = item(r#"{":t":{"S":"SS"},":u":{"S":"N"}}"#);
    let mut ctx = ExpressionContext::new(None, Some(&v)).unwrap();
    let c = ctx
        .condition("attribute_type(a, :t) AND NOT attribute_type(a, :u)")
        .unwrap();
    assert!(c.evaluate(&item(r#"{"a":{"SS":["x"]}}"#)));
    assert!(!c.evaluate(&item(r#"{"a":{"N":"1"}}"#)));
    assert!(ctx.finish("ConditionExpression is null").is_ok());
}

#[test]
fn document_paths_with_names_and_indexes() {
    let c = compile(
        "#a.b[1].#c = :v",
        &[("#a", "name"), ("#c", "c")],
        r#"{":v":{"S":"x"}}"#,
    )
    .unwrap();
    assert!(c.evaluate(&item(
        r#"{"name":{"M":{"b":{"L":[{"NULL":true},{"M":{"c":{"S":"x"}}}]}}}}"#
    )));
    assert!(!c.evaluate(&item(r#"{"name":{"M":{"b":{"S":"x"}}}}"#)));
}

#[test]
fn reserved_words_must_be_substituted() {
    // dynalite conditionParser: checkReserved; word shown as written.
    assert_eq!(
        err("name = :v", &[], r#"{":v":{"S":"x"}}"#),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"
    );
    assert_eq!(
        err("a.Status = :v", &[], r#"{":v":{"S":"x"}}"#),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Status"
    );
    assert!(compile("#n = :v", &[("#n", "name")], r#"{":v":{"S":"x"}}"#).is_ok());
}

#[test]
fn syntax_errors_use_token_and_near() {
    // DynamoDB Local quoted in a public test: token "<EOF>", near "foo".
    assert_eq!(
        err("foo", &[], ""),
        r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "foo""#
    );
    assert_eq!(
        err("a = :v AND  ", &[], r#"{":v":{"N":"1"}}"#),
        r#"Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND""#
    );
    assert_eq!(
        err("a == :v", &[], r#"{":v":{"N":"1"}}"#),
        r#"Invalid ConditionExpression: Syntax error; token: "=", near: "== :v""#
    );
    assert_eq!(
        err("a = :v)", &[], r#"{":v":{"N":"1"}}"#),
        r#"Invalid ConditionExpression: Syntax error; token: ")", near: ":v)""#
    );
    assert!(
        err("a IN ()", &[], "")
            .starts_with("Invalid ConditionExpression: Syntax error; token: \")\"")
    );
}

#[test]
fn empty_and_filter_kind_messages() {
    // dynalite getItem tests: "Invalid ProjectionExpression: The expression can not be empty;".
    assert_eq!(
        err("", &[], ""),
        "Invalid ConditionExpression: The expression can not be empty;"
    );
    let mut ctx = ExpressionContext::new(None, None).unwrap();
    assert_eq!(
        ctx.filter("a <").unwrap_err().to_string(),
        r#"Invalid FilterExpression: Syntax error; token: "<EOF>", near: "<""#
    );
}

#[test]
fn undefined_and_unused_placeholders() {
    // Messages: dynalite parsers (undefined) and tests / AWS issue threads (unused).
    assert_eq!(
        err("#n = :v", &[], r#"{":v":{"N":"1"}}"#),
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #n"
    );
    assert_eq!(
        err("a = :v", &[], r#"{":w":{"N":"1"}}"#),
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v"
    );
    assert_eq!(
        err(
            "a = :v",
            &[],
            r#"{":v":{"N":"1"},":a":{"N":"1"},":b":{"N":"1"}}"#
        ),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a, :b}"
    );
    assert_eq!(
        err("a = :v", &[("#a", "x")], r#"{":v":{"N":"1"}}"#),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}"
    );
    // Usage is tracked across all expressions of the request.
    let (n, v) = (
        names(&[("#p", "p")]),
        item(r#"{":v":{"N":"1"},":w":{"N":"2"}}"#),
    );
    let mut ctx = ExpressionContext::new(Some(&n), Some(&v)).unwrap();
    ctx.condition("a = :v").unwrap();
    ctx.update("SET b = :w").unwrap();
    ctx.projection("#p").unwrap();
    assert!(ctx.finish("ConditionExpression is null").is_ok());
}

#[test]
fn placeholder_maps_are_checked() {
    // dynalite getItem tests.
    let empty = IndexMap::new();
    assert_eq!(
        ExpressionContext::new(Some(&empty), None)
            .unwrap_err()
            .to_string(),
        "ExpressionAttributeNames must not be empty"
    );
    let bad = names(&[("a", "a")]);
    assert_eq!(
        ExpressionContext::new(Some(&bad), None)
            .unwrap_err()
            .to_string(),
        r#"ExpressionAttributeNames contains invalid key: Syntax error; key: "a""#
    );
    let n = names(&[("#a", "a")]);
    let ctx = ExpressionContext::new(Some(&n), None).unwrap();
    assert_eq!(
        ctx.finish("ConditionExpression is null")
            .unwrap_err()
            .to_string(),
        "ExpressionAttributeNames can only be specified when using expressions"
    );
    let raw: IndexMap<String, crate::attr::RawAttributeValue> =
        serde_json::from_str(r#"{":v":{"NS":[]}}"#).unwrap();
    assert_eq!(
        validate_attribute_values(raw).unwrap_err().to_string(),
        "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An number set  may not be empty for key :v"
    );
}

#[test]
fn function_misuse_and_operand_errors() {
    // dynalite conditionParser checkFunction / checkMisusedFunction messages.
    let v = r#"{":v":{"N":"1"},":s":{"S":"x"},":t":{"S":"XX"}}"#;
    let cases = [
        ("foo(a)", "Invalid function name; function: foo"),
        (
            "size(a)",
            "The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "attribute_exists(a) = :v",
            "The function is not allowed to be used this way in an expression; function: attribute_exists",
        ),
        (
            "attribute_exists(a, b)",
            "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2",
        ),
        (
            "attribute_exists(:v)",
            "Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "begins_with(a, :v)",
            "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ),
        (
            "size(:v) = :v",
            "Incorrect operand type for operator or function; operator or function: size, operand type: N",
        ),
        (
            "attribute_type(a, :t)",
            "Invalid attribute type name found; type: XX, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            "attribute_type(a, :v)",
            "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N",
        ),
        (
            "a = a",
            "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]",
        ),
        ("((a = :v))", "The expression has redundant parentheses;"),
        // nubo-db/dynamodb-conformance tier3/error-messages/putItem.test.ts.
        (
            "((attribute_exists(a)))",
            "The expression has redundant parentheses;",
        ),
        (
            "a BETWEEN :v AND :s",
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}",
        ),
    ];
    for (expr, detail) in cases {
        let got = compile(expr, &[], v).map(|_| ()).unwrap_err();
        assert_eq!(
            got,
            format!("Invalid ConditionExpression: {detail}"),
            "{expr}"
        );
    }
    let order = compile(
        "a BETWEEN :b AND :a",
        &[],
        r#"{":a":{"N":"1"},":b":{"N":"2"}}"#,
    );
    assert!(order.unwrap_err().contains("requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}"));
    // Parenthesised operands and single groups are fine.
    assert!(compile("(a) = :v AND (b = :v)", &[], r#"{":v":{"N":"1"}}"#).is_ok());
}

/// `a IN (:v0, …)` with `n` listed values, all defined.
fn in_list(n: usize) -> Result<ConditionExpr, String> {
    let keys: Vec<String> = (0..n).map(|i| format!(":v{i}")).collect();
    let values: Vec<String> = keys
        .iter()
        .map(|k| format!(r#""{k}":{{"N":"1"}}"#))
        .collect();
    compile(
        &format!("a IN ({})", keys.join(", ")),
        &[],
        &format!("{{{}}}", values.join(",")),
    )
}

#[test]
fn in_allows_100_operands_including_the_left_one() {
    // alternator test_update_condition_in: 99 listed values work.
    assert!(in_list(99).is_ok());
    assert!(
        in_list(100)
            .unwrap_err()
            .ends_with("number of operands: 101")
    );
}

#[test]
fn ordering_a_literal_of_an_unordered_type_is_an_error() {
    // alternator test_update_condition_lt/le/gt/between: a literal list is a
    // ValidationException, an item attribute of that type just compares false.
    let v = r#"{":l":{"L":[{"N":"1"}]},":m":{"L":[{"N":"2"}]}}"#;
    for expr in ["a < :l", ":l <= a", "a BETWEEN :l AND :m"] {
        let e = compile(expr, &[], v).map(|_| ()).unwrap_err();
        assert!(
            e.starts_with(
                "Invalid ConditionExpression: Incorrect operand type for operator or function;"
            ),
            "{expr}: {e}"
        );
        assert!(e.ends_with("operand type: L"), "{expr}: {e}");
    }
    assert!(compile("a = :l OR a <> :m", &[], v).is_ok());
    assert!(!holds("x < :one", r#"{"x":{"L":[]}}"#));
}

#[test]
fn update_functions_are_not_allowed_in_conditions() {
    // alternator test_update_condition_other_funcs: "not allowed", not "invalid function".
    let v = r#"{":v":{"N":"5"}}"#;
    for (expr, f) in [
        ("if_not_exists(a, a) = :v", "if_not_exists"),
        ("list_append(a, a) = :v", "list_append"),
    ] {
        assert_eq!(
            compile(expr, &[], v).map(|_| ()).unwrap_err(),
            format!(
                "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: {f}"
            )
        );
    }
    assert_eq!(
        compile("dog(a) = :v", &[], v).map(|_| ()).unwrap_err(),
        "Invalid ConditionExpression: Invalid function name; function: dog"
    );
}

fn projection(expr: &str, n: &[(&str, &str)]) -> Result<ProjectionExpr, String> {
    let n = names(n);
    let mut ctx = ExpressionContext::new((!n.is_empty()).then_some(&n), None).unwrap();
    ctx.projection(expr).map_err(|e| e.to_string())
}

#[test]
fn projection_shapes_result_like_dynamodb() {
    let it = item(
        r#"{"a":{"S":"x"},"b":{"M":{"c":{"N":"1"},"d":{"N":"2"}}},"l":{"L":[{"S":"l0"},{"S":"l1"},{"S":"l2"}]},"z":{"N":"9"}}"#,
    );
    let p = projection("l[2], a, b.c, l[0], absent, b.nope, l[7]", &[]).unwrap();
    let got = serde_json::to_string(&p.apply(&it)).unwrap();
    assert_eq!(
        got,
        r#"{"l":{"L":[{"S":"l0"},{"S":"l2"}]},"a":{"S":"x"},"b":{"M":{"c":{"N":"1"}}}}"#
    );
    assert_eq!(
        p.top_level_names().collect::<Vec<_>>(),
        ["l", "a", "b", "absent"]
    );
    // A projected nested part that does not exist leaves the parent out entirely.
    let q = projection("b.nope", &[]).unwrap();
    assert!(q.apply(&it).is_empty());
}

#[test]
fn projection_into_key_attributes_is_rejected() {
    // dynalite getItem tests "non-scalar key access" / "non-scalar index access".
    let p = projection("#a.b.c, x", &[("#a", "a")]).unwrap();
    assert_eq!(
        p.check_key_paths(&["a"], &[]).unwrap_err().to_string(),
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: a"
    );
    let q = projection("d[0]", &[]).unwrap();
    assert_eq!(
        q.check_key_paths(&["a", "b"], &["d"])
            .unwrap_err()
            .to_string(),
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: d"
    );
    assert!(
        projection("a, d", &[])
            .unwrap()
            .check_key_paths(&["a"], &["d"])
            .is_ok()
    );
}

#[test]
fn projection_errors() {
    // dynalite getItem validation tests (recorded against DynamoDB).
    assert_eq!(
        projection("b[1], b.a, #a.b, a", &[("#a", "a")]).unwrap_err(),
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]"
    );
    assert_eq!(
        projection("a, #a[1]", &[("#a", "a")]).unwrap_err(),
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, [1]]"
    );
    assert_eq!(
        projection("a.b, #a[1], #b", &[("#a", "a"), ("#b", "[3]")]).unwrap_err(),
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"
    );
    for bad in [
        "whatever(stuff)",
        ":a",
        "abort,",
        "a,,b",
        "a..b",
        "a[b]",
        "(a)",
        "a-b",
    ] {
        assert!(
            projection(bad, &[])
                .unwrap_err()
                .starts_with("Invalid ProjectionExpression: Syntax error; "),
            "{bad}"
        );
    }
    assert_eq!(
        projection("a.abORt", &[]).unwrap_err(),
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: abORt"
    );
    assert_eq!(
        projection("a,b,a,#a", &[]).unwrap_err(),
        "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #a"
    );
}

const SCHEMA: KeySchema<'static> = KeySchema {
    hash: KeyAttr {
        name: "pk",
        ty: AttrType::S,
    },
    range: Some(KeyAttr {
        name: "sk",
        ty: AttrType::N,
    }),
};

fn key_cond(expr: &str) -> Result<KeyCondition, String> {
    let v = item(r#"{":p":{"S":"h"},":a":{"N":"1"},":b":{"N":"5"},":s":{"S":"x"}}"#);
    let mut ctx = ExpressionContext::new(None, Some(&v)).unwrap();
    ctx.key_condition(expr, &SCHEMA).map_err(|e| e.to_string())
}

#[test]
fn key_conditions_are_typed() {
    let k = key_cond("pk = :p AND sk BETWEEN :a AND :b").unwrap();
    assert_eq!(k.hash, ("pk".to_string(), AttributeValue::S("h".into())));
    let (name, range) = k.range.unwrap();
    assert_eq!(name, "sk");
    assert!(range.matches(&AttributeValue::number("3").unwrap()));
    assert!(!range.matches(&AttributeValue::number("6").unwrap()));
    let k = key_cond(":b > sk AND :p = pk").unwrap();
    let (_, range) = k.range.unwrap();
    assert_eq!(
        range,
        RangeCondition::Compare(CmpOp::Lt, AttributeValue::number("5").unwrap())
    );
    assert!(key_cond("pk = :p").unwrap().range.is_none());
    // Real DynamoDB accepts doubled parentheses in key conditions (nubo-db/dynamodb-conformance
    // tier1/query/keyConditionParens.test.ts).
    assert!(key_cond("((pk = :p)) AND ((sk = :a))").is_ok());
    assert!(key_cond("(pk = :p AND sk = :a)").is_ok());
}

#[test]
fn key_condition_errors() {
    // moto / AWS issue threads quote these texts.
    let cases = [
        ("sk = :a", "Query condition missed key schema element: pk"),
        ("pk < :p", "Query key condition not supported"),
        (
            "pk = :p OR sk = :a",
            "Invalid operator used in KeyConditionExpression: OR",
        ),
        (
            "pk = :p AND sk <> :a",
            "Invalid operator used in KeyConditionExpression: <>",
        ),
        (
            "pk = :p AND extra = :a",
            "Query condition missed key schema element: sk",
        ),
        (
            "pk = :p AND sk = :a AND sk = :b",
            "Conditions can be of length 1 or 2 only",
        ),
        (
            "pk = :p AND pk = :p",
            "KeyConditionExpressions must only contain one condition per key",
        ),
        (
            "pk = :a",
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
        (
            "pk = :p AND sk = :s",
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
        (
            "pk = :p AND begins_with(sk, :a)",
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        ),
    ];
    for (expr, msg) in cases {
        assert_eq!(key_cond(expr).unwrap_err(), msg, "{expr}");
    }
}
