//! The compact tree against serde_json: same acceptance, same values.

use serde_json::Value;

use super::*;

/// The tree's value, or `None` where it refused; serde_json's likewise.
fn both(text: &str) -> (Option<Value>, Option<Value>) {
    let tree = Tree::parse(text.as_bytes())
        .ok()
        .map(|t| t.root(text.as_bytes()).map(JsonView::to_value));
    let std = serde_json::from_str::<Value>(text).ok();
    (tree.flatten(), std)
}

fn same(text: &str) {
    let (tree, std) = both(text);
    assert_eq!(tree, std, "{text:?}");
    if let (Some(t), Some(s)) = (tree, std) {
        assert_eq!(t.to_string(), s.to_string(), "{text:?}");
    }
}

/// Member order, duplicate keys (last value, first position), every number form, escapes
/// and surrogate pairs, nesting and whitespace read as `Value` reads them.
#[test]
fn reads_what_serde_json_reads() {
    for text in [
        r#"{"b":1,"a":{"S":"x"},"b":2,"c":[1,-2,3.5,1e3,18446744073709551615,null,true,false]}"#,
        r#"{"k":"\u00e9\n\"\/\b\f\r\t\\","m":{},"l":[],"x":{"a":1,"a":{"NULL":true}}}"#,
        r#"{"z":{"y":{"x":[[{"S":"deep"}]]}},"z":0}"#,
        r#"  {"a" : 1 }  "#,
        "\t{\r\n\"a\"\n:\t[ ]}\n",
        r#"{"\u0061":1,"a":2,"b":3}"#,
        r#"{"e":"😀 \ud83d\ude00 é","n":-0,"f":-0.0,"g":1E+2,"h":1e-400,"i":123456789012345678901234}"#,
        r#"{"big":-9223372036854775808,"u":18446744073709551616,"z":0.1e1}"#,
        r#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"a":10,"j":{"x":1,"x":[2]}}"#,
        r#"[1,2]"#,
        r#""s""#,
        "0",
        "null",
        r#"{"\u0000":"\u001f"}"#,
    ] {
        same(text);
    }
}

#[test]
fn refuses_what_serde_json_refuses() {
    for text in [
        r#"{"a":1"#,
        r#"{"a":1}x"#,
        r#"{"a":01}"#,
        r#"{"a":1.}"#,
        r#"{"a":.5}"#,
        r#"{"a":1e}"#,
        r#"{"a":-}"#,
        r#"{"a":+1}"#,
        r#"{"a":1e400}"#,
        r#"{"a":-1e400}"#,
        &format!(r#"{{"a":1{}}}"#, "0".repeat(400)),
        r#"{"a":tru}"#,
        r#"{"a":nul}"#,
        r#"{"a":[1,]}"#,
        r#"{"a":1,}"#,
        r#"{,}"#,
        r#"{"a" 1}"#,
        r#"{a:1}"#,
        r#"{"a":"\x"}"#,
        r#"{"a":"\u12"}"#,
        r#"{"a":"\ud83d"}"#,
        r#"{"a":"\ud83dx"}"#,
        r#"{"a":"\ud83d\u0041"}"#,
        r#"{"a":"\ude00"}"#,
        "{\"a\":\"tab\tin\"}",
        "{\"a\":\"nl\nin\"}",
        "\u{feff}{}",
        "",
        "   ",
        "{}{}",
        r#"{"a":[}"#,
        r#"{"a":{]}"#,
        r#"["a":1]"#,
    ] {
        let (tree, std) = both(text);
        assert!(std.is_none(), "serde_json accepts {text:?}");
        assert!(tree.is_none(), "tree accepts {text:?}");
    }
    assert_eq!(
        Tree::parse(b"{\"a\":\"\xff\"}").err(),
        Some(Refusal::Malformed)
    );
}

/// serde_json refuses the 128th level of nesting; so does the tree, without recursion.
#[test]
fn nesting_stops_where_serde_json_stops() {
    for depth in [1, 126, 127, 128, 129, 100_000] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        same(&text);
        let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        same(&objects);
    }
    let (tree, _) = both(&format!("{}{}", "[".repeat(127), "]".repeat(127)));
    assert!(tree.is_some());
}

#[test]
fn views_read_like_value() {
    let text = br#"{"a":[1,"x",{"k":null}],"d":{"x":1,"y":2,"x":3},"s":"a\"b"}"#;
    let tree = Tree::parse_object(text).unwrap();
    let root = tree.root(text).unwrap();
    let value: Value = serde_json::from_slice(text).unwrap();
    assert_eq!(root.kind(), Kind::Object);
    assert_eq!(root.len(), 3);
    let a = root.get("a").unwrap();
    assert_eq!(a.len(), 3);
    assert_eq!(
        a.items().map(JsonView::kind).collect::<Vec<_>>(),
        [Kind::Number, Kind::String, Kind::Object]
    );
    let d = root.get("d").unwrap();
    assert_eq!(d.len(), 2);
    let members: Vec<(&str, Value)> = d.members().map(|(k, v)| (k, v.to_value())).collect();
    assert_eq!(members, [("x", Value::from(3)), ("y", Value::from(2))]);
    assert_eq!(d.get("x").unwrap().as_f64(), Some(3.0));
    assert_eq!(root.get("s").unwrap().as_str(), Some("a\"b"));
    assert!(root.get("missing").is_none());
    assert!(a.get("0").is_none());
    assert_eq!(root.to_value(), value);
    // Another text is refused.
    assert!(tree.root(b"{}").is_none());
    assert_eq!(Tree::parse_object(b"[1]").err(), Some(Refusal::NotObject));
}

/// Twelve bytes per value or key: `{"S":"x"}` costs three nodes.
#[test]
fn nodes_are_small() {
    assert_eq!(size_of::<Node>(), 12);
    let list = format!("{{\"L\":[{}]}}", vec![r#"{"S":"x"}"#; 10_000].join(","));
    let tree = Tree::parse(list.as_bytes()).unwrap();
    assert_eq!(tree.nodes.len(), 3 + 3 * 10_000);
    assert!(tree.heap_bytes() <= 12 * (3 + 3 * 10_000) + 16);
}
