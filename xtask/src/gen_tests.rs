//! Emits `tests/<svc>_constraints.rs`: for every operation, a minimal valid input (which must
//! reach the handler) and one case per constraint of each top-level input member (nested
//! members too for DynamoDB's backup/PITR and table-settings operations), each with the exact Coral message the
//! generator predicts. Prediction and formatting here are independent of the runtime's.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::gen_api::trait_name;
use crate::javaregex;
use crate::model::{Svc, lit};

/// DynamoDB operations whose nested input members are covered too (the item operations are
/// left out: their AttributeValue maps are recursive and validated by the service itself).
const NESTED_OPS: &[&str] = &[
    "CreateBackup",
    "DeleteBackup",
    "DescribeBackup",
    "DescribeContinuousBackups",
    "ListBackups",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "UpdateContinuousBackups",
    "CreateTable",
    "UpdateTable",
    "UpdateTimeToLive",
    "TagResource",
    "UntagResource",
];

/// Strings longer than this are written as `prefix + fill * n` instead of a literal.
const LONG: usize = 300;
const MARKER: &str = "@@LONG@@";

/// Candidate sample strings; the first that satisfies a shape's pattern and length wins
/// (repeated to reach `min`).
const CANDIDATES: &[&str] = &[
    "a",
    "abc",
    "0123456789abcdef",
    "123456789012",
    "01234567-89ab-cdef-0123-456789abcdef",
    ",",
    "example.com",
    "arn:aws:acm:us-east-1:123456789012:certificate/abc",
    "arn:aws:redshift:us-east-1:123456789012:integration:01234567-89ab-cdef-0123-456789abcdef",
    "arn:aws:s3:::bucket",
    "arn:aws:redshift:us-east-1:123456789012:namespace:abc-123",
];

#[derive(Clone)]
enum Step {
    Member(String),
    Index,
}

struct Case {
    op: String,
    what: String,
    input: Value,
    expected: String,
    long: Option<(String, char, usize)>,
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

fn join(base: &str, next: &str) -> String {
    if base.is_empty() {
        next.to_owned()
    } else {
        format!("{base}.{next}")
    }
}

fn pattern_ok(svc: &Svc, shape: &str, s: &str) -> bool {
    match svc.shape(shape)["pattern"].as_str() {
        None => true,
        Some(p) => javaregex::compile(p).is_some_and(|re| re.is_match(s)),
    }
}

/// Constraint texts a string breaks, in Coral order: pattern, min, max, enum.
fn string_rules(svc: &Svc, shape: &str, s: &str) -> Vec<String> {
    let d = svc.shape(shape);
    let mut r = Vec::new();
    if !pattern_ok(svc, shape, s) {
        r.push(format!(
            "Member must satisfy regular expression pattern: {}",
            d["pattern"].as_str().unwrap_or("")
        ));
    }
    let len = utf16_len(s) as i64;
    if let Some(min) = d["min"].as_i64().filter(|m| len < *m) {
        r.push(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if let Some(max) = d["max"].as_i64().filter(|m| len > *m) {
        r.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    if let Some(values) = d["enum"].as_array() {
        let v: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        if !v.contains(&s) {
            r.push(format!(
                "Member must satisfy enum value set: [{}]",
                v.join(", ")
            ));
        }
    }
    r
}

fn sample_string(svc: &Svc, shape: &str) -> Option<String> {
    let d = svc.shape(shape);
    if let Some(first) = d["enum"]
        .as_array()
        .and_then(|e| e.first())
        .and_then(Value::as_str)
    {
        return Some(first.to_owned());
    }
    let min = d["min"].as_i64().unwrap_or(0).max(1) as usize;
    CANDIDATES.iter().find_map(|c| {
        let mut s = c.to_string();
        while s.len() < min {
            s.push_str(c);
        }
        string_rules(svc, shape, &s).is_empty().then_some(s)
    })
}

/// A minimal valid value: required members only, `min` list/map entries.
fn sample(svc: &Svc, shape: &str, depth: usize) -> Option<Value> {
    if depth > 12 {
        return None;
    }
    let d = svc.shape(shape);
    Some(match svc.kind(shape) {
        "structure" => {
            let mut o = Map::new();
            for (name, m) in svc.members(shape) {
                if svc.required(shape).contains(&name.as_str()) {
                    o.insert(name.clone(), sample(svc, m["shape"].as_str()?, depth + 1)?);
                }
            }
            Value::Object(o)
        }
        "list" => {
            let n = d["min"].as_u64().unwrap_or(0);
            let item = sample(svc, d["member"]["shape"].as_str()?, depth + 1)?;
            Value::Array((0..n).map(|_| item.clone()).collect())
        }
        "map" => {
            let n = d["min"].as_u64().unwrap_or(0);
            let key = sample_string(svc, d["key"]["shape"].as_str()?)?;
            let val = sample(svc, d["value"]["shape"].as_str()?, depth + 1)?;
            let mut o = Map::new();
            for i in 0..n {
                o.insert(
                    if i == 0 {
                        key.clone()
                    } else {
                        format!("{key}{i}")
                    },
                    val.clone(),
                );
            }
            Value::Object(o)
        }
        "string" => Value::String(sample_string(svc, shape)?),
        "integer" | "long" => {
            let v = d["min"].as_i64().unwrap_or(1).max(1);
            Value::from(d["max"].as_i64().map_or(v, |m| v.min(m)))
        }
        "double" | "float" => Value::from(d["min"].as_f64().unwrap_or(1.0)),
        "boolean" => Value::Bool(false),
        "timestamp" => Value::from(1_700_000_000),
        "blob" => Value::String("YQ==".into()),
        _ => return None,
    })
}

/// Coral-style `toString` of a value: independent of the runtime's renderer.
fn render(svc: &Svc, shape: &str, v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => {
            let m = svc.shape(shape)["member"]["shape"].as_str().unwrap_or("");
            format!(
                "[{}]",
                a.iter()
                    .map(|x| render(svc, m, x))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Object(o) if svc.kind(shape) == "map" => {
            let m = svc.shape(shape)["value"]["shape"].as_str().unwrap_or("");
            let parts: Vec<String> = o
                .iter()
                .map(|(k, x)| format!("{k}={}", render(svc, m, x)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Object(o) => {
            let parts: Vec<String> = svc
                .members(shape)
                .iter()
                .map(|(n, m)| {
                    let t = m["shape"].as_str().unwrap_or("");
                    let val = o
                        .get(n.as_str())
                        .map_or("null".into(), |x| render(svc, t, x));
                    format!("{}={val}", lower_first(n))
                })
                .collect();
            format!("{shape}({})", parts.join(", "))
        }
    }
}

fn message(items: &[String]) -> String {
    let noun = if items.len() == 1 { "error" } else { "errors" };
    format!(
        "{} validation {noun} detected: {}",
        items.len(),
        items.join("; ")
    )
}

fn item(value: Option<&str>, path: &str, constraint: &str) -> String {
    let v = value.map_or("null".to_owned(), |v| format!("'{v}'"));
    format!("Value {v} at '{path}' failed to satisfy constraint: {constraint}")
}

fn at_mut<'a>(v: &'a mut Value, steps: &[Step]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in steps {
        cur = match s {
            Step::Member(m) => cur.get_mut(m.as_str())?,
            Step::Index => cur.get_mut(0)?,
        };
    }
    Some(cur)
}

fn with_member(base: &Value, parent: &[Step], name: &str, value: Option<Value>) -> Option<Value> {
    let mut v = base.clone();
    let obj = at_mut(&mut v, parent)?.as_object_mut()?;
    match value {
        Some(x) => obj.insert(name.to_owned(), x),
        None => obj.remove(name),
    };
    Some(v)
}

struct Ctx<'a> {
    svc: &'a Svc,
    op: &'a str,
    nested: bool,
    out: Vec<Case>,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        what: String,
        input: Option<Value>,
        items: Vec<String>,
        long: Option<(String, char, usize)>,
    ) {
        if let (Some(input), false) = (input, items.is_empty()) {
            self.out.push(Case {
                op: self.op.to_owned(),
                what,
                input,
                expected: message(&items),
                long,
            });
        }
    }

    fn structure(
        &mut self,
        shape: &str,
        base: &Value,
        steps: &[Step],
        coral: &str,
        wire: &str,
        depth: usize,
    ) {
        let svc = self.svc;
        for (name, m) in svc.members(shape) {
            let target = m["shape"].as_str().unwrap_or("");
            let path = join(coral, &lower_first(name));
            let wpath = join(wire, name);
            let d = svc.shape(target);
            if svc.required(shape).contains(&name.as_str()) {
                let input = with_member(base, steps, name, None);
                self.push(
                    format!("{wpath} required"),
                    input,
                    vec![item(None, &path, "Member must not be null")],
                    None,
                );
            }
            let mut set = |what: &str, v: Value, items: Vec<String>, long| {
                let input = with_member(base, steps, name, Some(v));
                self.push(format!("{wpath} {what}"), input, items, long);
            };
            match svc.kind(target) {
                "string" => {
                    let Some(s) = sample_string(svc, target) else {
                        continue;
                    };
                    let mut values: Vec<(&str, String)> = Vec::new();
                    if let Some(min) = d["min"].as_u64().filter(|m| *m > 0) {
                        values.push(("min length", s.chars().take(min as usize - 1).collect()));
                    }
                    // A 2^31-character string cannot reach a server; such maxima are untestable.
                    if let Some(max) = d["max"].as_u64().filter(|m| *m <= 1_000_000) {
                        let fill = s.chars().last().unwrap_or('a');
                        let mut long = s.clone();
                        let have = long.chars().count();
                        long.extend(std::iter::repeat_n(
                            fill,
                            (max as usize + 1).saturating_sub(have),
                        ));
                        values.push(("max length", long));
                    }
                    if d["pattern"].is_string() {
                        let bad = ['!', '~', ' ', '\n'].iter().find_map(|c| {
                            let mut t: String = c.to_string();
                            t.extend(s.chars().skip(1));
                            (!pattern_ok(svc, target, &t)).then_some(t)
                        });
                        if let Some(t) = bad {
                            values.push(("pattern", t));
                        }
                    }
                    if d["enum"].is_array() {
                        values.push(("enum", "NOT_AN_ENUM_VALUE".into()));
                    }
                    for (what, v) in values {
                        let rules = string_rules(svc, target, &v);
                        if v.len() > LONG {
                            let prefix: String = s.clone();
                            let fill = s.chars().last().unwrap_or('a');
                            let n = v.chars().count() - prefix.chars().count();
                            let items =
                                rules.iter().map(|r| item(Some(MARKER), &path, r)).collect();
                            set(
                                what,
                                Value::String(MARKER.into()),
                                items,
                                Some((prefix, fill, n)),
                            );
                        } else {
                            let items = rules.iter().map(|r| item(Some(&v), &path, r)).collect();
                            set(what, Value::String(v), items, None);
                        }
                    }
                }
                "integer" | "long" => {
                    if let Some(min) = d["min"].as_i64().and_then(|m| m.checked_sub(1)) {
                        let c = format!(
                            "Member must have value greater than or equal to {}",
                            min + 1
                        );
                        set(
                            "min value",
                            Value::from(min),
                            vec![item(Some(&min.to_string()), &path, &c)],
                            None,
                        );
                    }
                    if let Some(max) = d["max"].as_i64().and_then(|m| m.checked_add(1)) {
                        let c = format!("Member must have value less than or equal to {}", max - 1);
                        set(
                            "max value",
                            Value::from(max),
                            vec![item(Some(&max.to_string()), &path, &c)],
                            None,
                        );
                    }
                }
                "list" | "map" => {
                    let is_list = svc.kind(target) == "list";
                    if let Some(min) = d["min"].as_u64().filter(|m| *m > 0) {
                        let empty = if is_list {
                            Value::Array(vec![])
                        } else {
                            Value::Object(Map::new())
                        };
                        let c = format!("Member must have length greater than or equal to {min}");
                        let r = render(svc, target, &empty);
                        set("min length", empty, vec![item(Some(&r), &path, &c)], None);
                    }
                    if let Some(max) = d["max"].as_u64().filter(|m| *m < 200) {
                        let v = if is_list {
                            sample(svc, d["member"]["shape"].as_str().unwrap_or(""), 0)
                                .map(|e| Value::Array((0..=max).map(|_| e.clone()).collect()))
                        } else {
                            let key_shape = d["key"]["shape"].as_str().unwrap_or("");
                            let key = sample_string(svc, key_shape);
                            let val = sample(svc, d["value"]["shape"].as_str().unwrap_or(""), 0);
                            key.zip(val).and_then(|(k, x)| {
                                let keys: Vec<String> =
                                    (0..=max).map(|i| format!("{k}{i}")).collect();
                                // Skip when the synthesized keys themselves break key constraints.
                                keys.iter()
                                    .all(|k| string_rules(svc, key_shape, k).is_empty())
                                    .then(|| {
                                        Value::Object(
                                            keys.into_iter().map(|k| (k, x.clone())).collect(),
                                        )
                                    })
                            })
                        };
                        if let Some(v) = v {
                            let c = format!("Member must have length less than or equal to {max}");
                            let r = render(svc, target, &v);
                            set("max length", v, vec![item(Some(&r), &path, &c)], None);
                        }
                    }
                }
                _ => {}
            }
            if !self.nested || depth >= 3 {
                continue;
            }
            let mut sub_steps = steps.to_vec();
            sub_steps.push(Step::Member(name.clone()));
            match svc.kind(target) {
                "structure" => {
                    let Some(parent) = sample(svc, target, 0) else {
                        continue;
                    };
                    if let Some(b) = with_member(base, steps, name, Some(parent)) {
                        self.structure(target, &b, &sub_steps, &path, &wpath, depth + 1);
                    }
                }
                "list" => {
                    let elem = d["member"]["shape"].as_str().unwrap_or("");
                    if svc.kind(elem) != "structure" {
                        continue;
                    }
                    let Some(e) = sample(svc, elem, 0) else {
                        continue;
                    };
                    let n = d["min"].as_u64().unwrap_or(1).max(1);
                    let list = Value::Array((0..n).map(|_| e.clone()).collect());
                    if let Some(b) = with_member(base, steps, name, Some(list)) {
                        sub_steps.push(Step::Index);
                        let p = format!("{path}.1.member");
                        self.structure(elem, &b, &sub_steps, &p, &format!("{wpath}.1"), depth + 1);
                    }
                }
                _ => {}
            }
        }
    }
}

pub fn generate(svc: &Svc) -> String {
    let mut minimal = Vec::new();
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for op in &svc.op_names {
        let Some(input) = svc.input(op) else { continue };
        let Some(base) = sample(svc, input, 0) else {
            skipped.push(op.clone());
            continue;
        };
        let nested = svc.is_json && NESTED_OPS.contains(&op.as_str());
        let mut ctx = Ctx {
            svc,
            op,
            nested,
            out: Vec::new(),
        };
        ctx.structure(input, &base, &[], "", "", 0);
        cases.extend(ctx.out);
        minimal.push((op.clone(), base));
    }
    let n = &svc.name;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "//! Generated constraint tests for `{n}`: {} minimal inputs, {} violation cases.\n",
        minimal.len(),
        cases.len()
    );
    if !skipped.is_empty() {
        let _ = writeln!(
            o,
            "// No sample input could be built for: {}.\n",
            skipped.join(", ")
        );
    }
    let _ = writeln!(
        o,
        "use tidemark_model::{n}::{{{t}, dispatch_{n}}};\nuse tidemark_model::{{CommonError, DispatchError, RequestContext, coral_message}};\n\nstruct Unimplemented;\nimpl {t} for Unimplemented {{}}\n",
        t = trait_name(svc)
    );
    let _ = writeln!(
        o,
        "struct Case {{ op: &'static str, what: &'static str, input: &'static str, expected: &'static str, long: Option<(&'static str, char, usize)> }}\n"
    );
    let _ = writeln!(o, "const MINIMAL: &[(&str, &str)] = &[");
    for (op, v) in &minimal {
        let _ = writeln!(o, "    ({}, {}),", lit(op), lit(&v.to_string()));
    }
    let _ = writeln!(o, "];\n\nconst CASES: &[Case] = &[");
    for c in &cases {
        let long = c.long.as_ref().map_or("None".into(), |(p, f, k)| {
            format!("Some(({}, {f:?}, {k}))", lit(p))
        });
        let _ = writeln!(
            o,
            "    Case {{ op: {}, what: {}, input: {}, expected: {}, long: {long} }},",
            lit(&c.op),
            lit(&c.what),
            lit(&c.input.to_string()),
            lit(&c.expected)
        );
    }
    let _ = writeln!(o, "];\n");
    let _ = write!(
        o,
        r#"fn ctx() -> RequestContext {{
    RequestContext::new(tidemark_core::AccountId::default_account(), "us-east-1", "test-request")
}}

/// Every minimal input passes decoding and validation and reaches the (default) handler.
#[test]
fn minimal_inputs_reach_the_handler() {{
    let mut failures = Vec::new();
    for (op, input) in MINIMAL {{
        let value: serde_json::Value = serde_json::from_str(input).unwrap();
        match dispatch_{n}(&Unimplemented, &ctx(), op, value) {{
            Err(DispatchError::Common(CommonError::NotImplemented(name))) if name == *op => {{}}
            other => failures.push(format!("{{op}}: {{other:?}}")),
        }}
    }}
    assert!(failures.is_empty(), "{{}}", failures.join("\n"));
}}

/// Each model constraint, broken alone, yields exactly the predicted Coral message.
#[test]
fn every_constraint_violation_has_the_coral_message() {{
    let mut failures = Vec::new();
    for case in CASES {{
        let (input, expected) = match case.long {{
            Some((prefix, fill, n)) => {{
                let long = format!("{{prefix}}{{}}", fill.to_string().repeat(n));
                let json = serde_json::to_string(&long).unwrap();
                (case.input.replace("\"@@LONG@@\"", &json), case.expected.replace("@@LONG@@", &long))
            }}
            None => (case.input.to_owned(), case.expected.to_owned()),
        }};
        let value: serde_json::Value = serde_json::from_str(&input).unwrap();
        match dispatch_{n}(&Unimplemented, &ctx(), case.op, value) {{
            Err(DispatchError::Invalid(v)) if coral_message(&v) == expected => {{}}
            Err(DispatchError::Invalid(v)) => failures.push(format!(
                "{{}} {{}}:\n  expected {{expected}}\n  got      {{}}",
                case.op,
                case.what,
                coral_message(&v)
            )),
            other => failures.push(format!("{{}} {{}}: {{other:?}}", case.op, case.what)),
        }}
    }}
    assert!(failures.is_empty(), "{{}} of {{}} cases failed:\n{{}}", failures.len(), CASES.len(), failures.join("\n"));
}}
"#
    );
    o
}
