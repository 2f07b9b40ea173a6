//! Tests for attribute values: JSON form, validation messages, numbers, sizes, key order.

use super::*;
use proptest::prelude::*;

fn n(s: &str) -> Number {
    Number::parse(s).unwrap()
}

fn validate_json(text: &str) -> Result<AttributeValue, AttrError> {
    serde_json::from_str::<RawAttributeValue>(text)
        .unwrap()
        .validate()
}

#[test]
fn canonical_number_text() {
    // DynamoDB returns numbers in plain canonical form: 00042→42, -0→0, 1.5E2→150, 1.0→1
    // (ExtendDB/extenddb PR #7, "verified against real DynamoDB"; dynalite: Big(n).toFixed()).
    for (input, want) in [
        ("1.50", "1.5"),
        ("01", "1"),
        ("1e3", "1000"),
        ("-0", "0"),
        ("+3", "3"),
        (".123", "0.123"),
        ("0001.23", "1.23"),
        ("1e+5", "100000"),
        ("0e1000", "0"),
        ("-17.4E37", "-174000000000000000000000000000000000000"),
        ("1e-3", "0.001"),
        ("-0.0500", "-0.05"),
        ("100", "100"),
    ] {
        assert_eq!(n(input).to_string(), want, "input {input}");
    }
}

#[test]
fn invalid_numbers_rejected_with_dynamodb_messages() {
    // Messages: dynalite getItem tests ("empty/invalid numbers in Key"); syntax cases from
    // alternator test_number.py::test_invalid_numbers.
    assert_eq!(
        Number::parse("").unwrap_err().to_string(),
        "The parameter cannot be converted to a numeric value"
    );
    for bad in [
        "NaN",
        "Infinity",
        "-Infinity",
        "dog",
        " 1",
        "1 ",
        "1e",
        ".",
        "1..2",
        "--1",
        "1e5.5",
    ] {
        assert_eq!(
            Number::parse(bad).unwrap_err().to_string(),
            format!("The parameter cannot be converted to a numeric value: {bad}"),
        );
    }
    assert_eq!(
        Number::parse("123456789012345678901234567890123456789").unwrap_err(),
        NumberError::TooManyDigits
    );
    assert_eq!(
        NumberError::TooManyDigits.to_string(),
        "Attempting to store more than 38 significant digits in a Number"
    );
    assert_eq!(Number::parse("-1e126").unwrap_err(), NumberError::Overflow);
    assert_eq!(Number::parse("11e125").unwrap_err(), NumberError::Overflow);
    assert_eq!(Number::parse("1e-131").unwrap_err(), NumberError::Underflow);
    assert_eq!(
        Number::parse("0.9e-130").unwrap_err(),
        NumberError::Underflow
    );
    // Allowed extremes (alternator test_number_magnitude_allowed / precision_allowed).
    for ok in [
        "9.99999999e125",
        "1e-130",
        "-1e125",
        "3.1415926535897932384626433832795028841",
        "31415926535897932384626433832795028841e30",
        "1.0000000000000000000000000000000000000000000",
    ] {
        assert!(Number::parse(ok).is_ok(), "{ok}");
    }
}

#[test]
fn number_compare_and_arithmetic_are_exact() {
    assert!(n("1.5") > n("1.25"));
    assert!(n("-1.5") < n("-1.25"));
    assert!(n("-1") < n("0"));
    assert!(n("1e10") > n("9999999999"));
    assert_eq!(n("1.0"), n("1"));
    // alternator test_update_expression_plus_precision.
    assert_eq!(
        n("1")
            .checked_add(&n("10000000000000000000000"))
            .unwrap()
            .to_string(),
        "10000000000000000000001"
    );
    assert_eq!(
        n("10000000000000000000000")
            .checked_sub(&n("1"))
            .unwrap()
            .to_string(),
        "9999999999999999999999"
    );
    assert_eq!(n("0.1").checked_add(&n("0.2")).unwrap(), n("0.3"));
    assert_eq!(n("5").checked_sub(&n("5")).unwrap(), Number::ZERO);
    assert_eq!(n("-2.5").checked_add(&n("1")).unwrap(), n("-1.5"));
    // Imprecise and out-of-range results are overflow errors (alternator
    // test_update_expression_plus_imprecise / plus_overflow).
    assert_eq!(
        n("1e50").checked_add(&n("1")).unwrap_err(),
        NumberError::Overflow
    );
    assert_eq!(
        n("9e125").checked_add(&n("9e125")).unwrap_err(),
        NumberError::Overflow
    );
    // An aligned operand wider than i128 whose exact result still fits.
    let big = n("1.7e38");
    let almost = n("-99999999999999999999999999999999999999");
    assert_eq!(
        big.checked_add(&almost).unwrap().to_string(),
        "70000000000000000000000000000000000001"
    );
}

#[test]
fn attribute_value_json_round_trip() {
    let text = r#"{"s":{"S":"x"},"n":{"N":"12"},"b":{"B":"AQI="},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2.5"]},"bs":{"BS":["AQ=="]},"m":{"M":{"k":{"NULL":true}}},"l":{"L":[{"BOOL":false},{"N":"-3"}]}}"#;
    let item = parse_item_json(text).unwrap();
    assert_eq!(item["b"], AttributeValue::B(vec![1, 2]));
    assert_eq!(serde_json::to_string(&item).unwrap(), text);
    let back: Item = serde_json::from_str(text).unwrap();
    assert_eq!(back, item);
}

#[test]
fn attribute_value_validation_messages() {
    // Source: dynalite getItem tests "invalid values in Key" (prefix included in full text).
    let cases = [
        (
            "{}",
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            r#"{"S":"a","BOOL":true}"#,
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
        ),
        (
            r#"{"SS":[]}"#,
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            r#"{"NS":[]}"#,
            "One or more parameter values were invalid: An number set  may not be empty",
        ),
        (
            r#"{"BS":[]}"#,
            "One or more parameter values were invalid: Binary sets should not be empty",
        ),
        (
            r#"{"SS":["a","a"]}"#,
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
        ),
        (
            r#"{"BS":["Yg==","Yg=="]}"#,
            "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.",
        ),
        (
            r#"{"NS":["1","1.0"]}"#,
            "Input collection contains duplicates",
        ),
        (
            r#"{"NS":["1","b"]}"#,
            "The parameter cannot be converted to a numeric value: b",
        ),
        (
            r#"{"S":"a","N":"b"}"#,
            "The parameter cannot be converted to a numeric value: b",
        ),
        (
            r#"{"M":{"x":{}}}"#,
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            r#"{"L":[{"SS":[]}]}"#,
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
    ];
    for (json, msg) in cases {
        assert_eq!(validate_json(json).unwrap_err().to_string(), msg, "{json}");
    }
    // Wrong JSON types are structural (SerializationException) errors.
    assert!(serde_json::from_str::<RawAttributeValue>(r#"{"N":123}"#).is_err());
    assert!(serde_json::from_str::<RawAttributeValue>(r#"{"B":"!!"}"#).is_err());
    // NULL:false is now accepted and normalised to NULL:true (nubo-db/dynamodb-conformance,
    // tier3/error-messages/putItem.test.ts, captured 2026-06-08).
    assert_eq!(
        validate_json(r#"{"NULL":false}"#).unwrap(),
        AttributeValue::Null
    );
    // Empty strings are allowed in non-key attributes.
    assert_eq!(
        validate_json(r#"{"S":""}"#).unwrap(),
        AttributeValue::S(String::new())
    );
}

#[test]
fn nesting_is_limited_to_32_levels() {
    let nest = |levels: usize| {
        format!(
            "{}{}{}",
            r#"{"L":["#.repeat(levels),
            r#"{"S":"x"}"#,
            "]}".repeat(levels)
        )
    };
    // 31 lists around a scalar are 32 levels: accepted; one more is refused (the AWS capture
    // cited at MAX_NESTING_DEPTH).
    assert!(validate_json(&nest(31)).is_ok());
    assert_eq!(
        validate_json(&nest(32)).unwrap_err().to_string(),
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
    );
}

#[test]
fn sets_compare_without_order() {
    let a = validate_json(r#"{"SS":["a","b"]}"#).unwrap();
    let b = validate_json(r#"{"SS":["b","a"]}"#).unwrap();
    let c = validate_json(r#"{"SS":["a","c"]}"#).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn number_sizes_match_dynamodb_captures() {
    // The 23 literals measured byte-exactly against eu-west-2 (nubo-db/dynamodb-conformance
    // src/item-size.ts CAPTURED_NUMBER_BYTES).
    for (literal, bytes) in [
        ("0", 1),
        ("1", 2),
        ("12", 2),
        ("123", 3),
        ("1234", 3),
        ("12345678901234567890123456789012345678", 20),
        ("0042", 2),
        ("100", 2),
        ("1010", 3),
        ("0.0000001", 2),
        ("1E125", 2),
        ("1E-100", 2),
        ("1.5", 3),
        ("15", 2),
        ("1.2", 3),
        ("1.200", 3),
        ("1.234", 4),
        ("3.14159", 5),
        ("123456", 4),
        ("100.5", 4),
        ("0.15", 2),
        ("-42", 3),
        ("-0", 1),
    ] {
        assert_eq!(n(literal).storage_size(), bytes, "{literal}");
    }
}

#[test]
fn item_size_follows_documented_rules() {
    let item = parse_item_json(
        r#"{"ab":{"S":"héllo"},"n":{"N":"123.45"},"z":{"BOOL":true},"l":{"L":[{"NULL":true},{"S":"x"}]},"m":{"M":{"k":{"N":"1"}}}}"#,
    )
    .unwrap();
    // ab: 2 + 6 (é is 2 bytes); n: 1 + (123.45 → 1 + 2 + 1 = 4); z: 1 + 1;
    // l: 1 + 3 + (1+1) + (1+1); m: 1 + 3 + (1 + 1 + 2).
    // m's nested 1 costs 2 (captured rule), so m: 1 + 3 + (1 + 1 + 2).
    assert_eq!(item_size(&item), 8 + 5 + 2 + 8 + 8);
}

#[test]
fn key_encoding_orders_strings_and_binaries_bytewise() {
    let enc = |s: &str| encode_key_part(&AttributeValue::S(s.into())).unwrap();
    let mut words = vec!["b", "a", "ab", "", "a\u{0}", "a\u{1}", "é", "Z"];
    words.sort_by_key(|w| w.as_bytes().to_vec());
    let mut by_enc = words.clone();
    by_enc.sort_by_key(|w| enc(w));
    assert_eq!(words, by_enc);
    assert!(encode_key_part(&AttributeValue::Bool(true)).is_none());
}

proptest! {
    #[test]
    fn key_encoding_order_equals_numeric_order(
        a in (any::<i64>(), -40i32..40), b in (any::<i64>(), -40i32..40)
    ) {
        let mk = |(m, e): (i64, i32)| Number::parse(&format!("{m}e{e}")).unwrap();
        let (x, y) = (mk(a), mk(b));
        let ex = encode_key_part(&AttributeValue::N(x)).unwrap();
        let ey = encode_key_part(&AttributeValue::N(y)).unwrap();
        prop_assert_eq!(x.cmp(&y), ex.cmp(&ey));
        // Composite (hash ++ range) keys still order by hash first.
        let hx = [ex.clone(), encode_key_part(&AttributeValue::S("z".into())).unwrap()].concat();
        let hy = [ey.clone(), encode_key_part(&AttributeValue::S("a".into())).unwrap()].concat();
        if x != y {
            prop_assert_eq!(x.cmp(&y), hx.cmp(&hy));
        }
    }

    #[test]
    fn key_encoding_orders_random_binaries_bytewise(
        a in proptest::collection::vec(any::<u8>(), 0..8),
        b in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let ea = encode_key_part(&AttributeValue::B(a.clone())).unwrap();
        let eb = encode_key_part(&AttributeValue::B(b.clone())).unwrap();
        prop_assert_eq!(a.cmp(&b), ea.cmp(&eb));
    }

    /// Ordering (scientific exponent, then digits) agrees with the sign of the exact
    /// difference (digit-vector arithmetic), two independent code paths.
    #[test]
    fn number_order_agrees_with_subtraction(
        a in (any::<i64>(), -6i32..6), b in (any::<i64>(), -6i32..6)
    ) {
        let mk = |(m, e): (i64, i32)| Number::parse(&format!("{m}e{e}")).unwrap();
        let (x, y) = (mk(a), mk(b));
        let d = x.checked_sub(&y).unwrap();
        let sign = if d.is_zero() {
            std::cmp::Ordering::Equal
        } else if d.is_negative() {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        };
        prop_assert_eq!(x.cmp(&y), sign);
    }

    #[test]
    fn number_text_round_trips(m in any::<i64>(), e in -60i32..60) {
        let x = Number::parse(&format!("{m}e{e}")).unwrap();
        prop_assert_eq!(Number::parse(&x.to_string()).unwrap(), x);
    }

    #[test]
    fn number_addition_matches_i128(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
        let sum = Number::from_i64(a).checked_add(&Number::from_i64(b)).unwrap();
        prop_assert_eq!(sum.to_string(), (i128::from(a) + i128::from(b)).to_string());
        let diff = Number::from_i64(a).checked_sub(&Number::from_i64(b)).unwrap();
        prop_assert_eq!(diff.to_string(), (i128::from(a) - i128::from(b)).to_string());
    }
}

/// Values are 32 bytes (the number's mantissa is split so that it aligns to 8; the map is
/// boxed), and numbers keep every digit at the extremes of DynamoDB's range.
#[test]
fn values_stay_small_and_numbers_exact() {
    assert_eq!(std::mem::size_of::<Number>(), 24);
    assert_eq!(std::mem::size_of::<AttributeValue>(), 32);
    for text in [
        "0",
        "-1",
        "1",
        "99999999999999999999999999999999999999",
        "-99999999999999999999999999999999999999",
        "18446744073709551616",
        "-18446744073709551617",
        "9.9999999999999999999999999999999999999E+125",
        "-1E-130",
    ] {
        let v = n(text);
        assert_eq!(n(&v.to_string()), v, "{text}");
        assert_eq!(v.is_negative(), text.starts_with('-'), "{text}");
    }
    assert!(n("-18446744073709551617") < n("-18446744073709551616"));
    assert!(n("18446744073709551616") > n("18446744073709551615"));
    assert_eq!(
        format!("{:?}", n("-5")),
        "Number { mantissa: -5, exponent: 0 }"
    );
}
