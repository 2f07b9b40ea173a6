//! jmespath.py 1.1's built-in functions (`functions.py`): the same signatures, type checks and
//! error texts, and Python's results (`sum` of ints is an int, `avg` a float, `ceil`/`floor`
//! ints, `to_string` ASCII-escaped compact JSON).

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::error::JmesError;
use super::interp::{py_cmp, py_eq, py_type, visit};
use super::parser::Node;

/// An evaluated argument: a value, or an expression reference (`&expr`).
enum Arg<'a> {
    Val(Value),
    Expref(&'a Node),
}

/// jmespath type of a Python value (`TYPES_MAP`).
fn jtype(a: &Arg<'_>) -> &'static str {
    match a {
        Arg::Expref(_) => "expref",
        Arg::Val(v) => match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        },
    }
}

fn py_list(items: &[&str]) -> String {
    let q: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    format!("[{}]", q.join(", "))
}

fn shown(a: &Arg<'_>) -> String {
    match a {
        Arg::Val(v) => crate::pyfmt::py_str(v),
        Arg::Expref(_) => "<jmespath.visitor._Expression object>".into(),
    }
}

/// One parameter's allowed types, as in `@signature({'types': [...]})`.
struct Spec {
    types: &'static [&'static str],
}

fn signature(name: &str) -> Option<(&'static [Spec], bool)> {
    const ANY: Spec = Spec { types: &[] };
    const NUMBER: Spec = Spec { types: &["number"] };
    const STRING: Spec = Spec { types: &["string"] };
    const ARRAY: Spec = Spec { types: &["array"] };
    const OBJECT: Spec = Spec { types: &["object"] };
    const EXPREF: Spec = Spec { types: &["expref"] };
    Some(match name {
        "abs" | "ceil" | "floor" => (&[NUMBER], false),
        "avg" | "sum" => (
            &[Spec {
                types: &["array-number"],
            }],
            false,
        ),
        "not_null" => (&[ANY], true),
        "to_array" | "to_string" | "to_number" | "type" => (&[ANY], false),
        "contains" => (
            &[
                Spec {
                    types: &["array", "string"],
                },
                ANY,
            ],
            false,
        ),
        "length" => (
            &[Spec {
                types: &["string", "array", "object"],
            }],
            false,
        ),
        "ends_with" | "starts_with" => (&[STRING, STRING], false),
        "reverse" => (
            &[Spec {
                types: &["array", "string"],
            }],
            false,
        ),
        "join" => (
            &[
                STRING,
                Spec {
                    types: &["array-string"],
                },
            ],
            false,
        ),
        "map" => (&[EXPREF, ARRAY], false),
        "max" | "min" => (
            &[Spec {
                types: &["array-number", "array-string"],
            }],
            false,
        ),
        "merge" => (&[OBJECT], true),
        "sort" => (
            &[Spec {
                types: &["array-string", "array-number"],
            }],
            false,
        ),
        "keys" | "values" => (&[OBJECT], false),
        "sort_by" | "min_by" | "max_by" => (&[ARRAY, EXPREF], false),
        _ => return None,
    })
}

/// `_type_check_single`, including the subtype checks of `array-…` types (whose errors,
/// as in jmespath.py, name the Python type of the element).
fn type_check(name: &str, a: &Arg<'_>, spec: &Spec) -> Result<(), JmesError> {
    if spec.types.is_empty() {
        return Ok(());
    }
    let actual = jtype(a);
    let expected = py_list(spec.types);
    let mut subtypes: Vec<&str> = Vec::new();
    let mut ok = false;
    for t in spec.types {
        let (base, sub) = match t.split_once('-') {
            Some((b, s)) => (b, Some(s)),
            None => (*t, None),
        };
        if base == actual {
            ok = true;
        }
        if let Some(s) = sub {
            subtypes.push(s);
        }
    }
    if !ok {
        return Err(JmesError::Type {
            function: name.into(),
            value: shown(a),
            expected,
            actual: actual.into(),
        });
    }
    let Arg::Val(Value::Array(items)) = a else {
        return Ok(());
    };
    let elem_type = |v: &Value| jtype(&Arg::Val(v.clone()));
    let err = |v: &Value| JmesError::Type {
        function: name.into(),
        value: crate::pyfmt::py_str(v),
        expected: expected.clone(),
        actual: py_type(v).into(),
    };
    match subtypes.len() {
        0 => Ok(()),
        1 => match items.iter().find(|v| elem_type(v) != subtypes[0]) {
            Some(v) => Err(err(v)),
            None => Ok(()),
        },
        _ => {
            let Some(first) = items.first() else {
                return Ok(());
            };
            let Some(allowed) = subtypes.iter().find(|s| **s == elem_type(first)) else {
                return Err(err(first));
            };
            match items.iter().find(|v| elem_type(v) != *allowed) {
                Some(v) => Err(err(v)),
                None => Ok(()),
            }
        }
    }
}

fn int_or_float(f: f64) -> Value {
    Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Python `a + b` on two numbers (int + int stays int).
fn add(a: &Value, b: &Value) -> Value {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) if !a.is_f64() && !b.is_f64() => match x.checked_add(y) {
            Some(s) => Value::from(s),
            None => int_or_float(x as f64 + y as f64),
        },
        _ => int_or_float(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)),
    }
}

/// Python `int` of an integral float (`math.ceil`/`math.floor` results).
fn to_int(f: f64) -> Value {
    if f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        int_or_float(f)
    }
}

/// `json.dumps(v, separators=(',', ':'))`: compact, ASCII only.
fn dumps_compact(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&crate::pyfmt::number_repr(n)),
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{08}' => out.push_str("\\b"),
                    '\u{0c}' => out.push_str("\\f"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut buf = [0u16; 2];
                        for u in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                dumps_compact(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                dumps_compact(&Value::String(k.clone()), out);
                out.push(':');
                dumps_compact(x, out);
            }
            out.push('}');
        }
    }
}

/// Evaluates `expref` on each element and checks the key types (`_create_key_func`).
fn keys(
    name: &str,
    expref: &Node,
    items: &[Value],
    allowed: &[&str],
) -> Result<Vec<Value>, JmesError> {
    items
        .iter()
        .map(|x| {
            let k = visit(expref, x)?;
            let t = jtype(&Arg::Val(k.clone()));
            if !allowed.contains(&t) {
                return Err(JmesError::Type {
                    function: name.into(),
                    value: crate::pyfmt::py_str(&k),
                    expected: py_list(allowed),
                    actual: t.into(),
                });
            }
            Ok(k)
        })
        .collect()
}

/// Python `min`/`max`: the first extreme element wins ties.
fn extreme(items: &[Value], keys: &[Value], want: Ordering, op: &str) -> Result<Value, JmesError> {
    let mut best = 0;
    for i in 1..items.len() {
        // max() keeps the current best unless the new key is strictly greater.
        let c = py_cmp(&keys[i], &keys[best], op)?;
        if c == want {
            best = i;
        }
    }
    Ok(items.get(best).cloned().unwrap_or(Value::Null))
}

fn sorted(items: Vec<Value>, keys: Vec<Value>) -> Result<Vec<Value>, JmesError> {
    let mut pairs: Vec<(Value, Value)> = keys.into_iter().zip(items).collect();
    let mut err = None;
    // Stable, like Python's `sorted`.
    pairs.sort_by(|a, b| match py_cmp(&a.0, &b.0, "<") {
        Ok(o) => o,
        Err(e) => {
            err.get_or_insert(e);
            Ordering::Equal
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(pairs.into_iter().map(|(_, v)| v).collect()),
    }
}

/// `Functions.call_function`.
pub fn call(name: &str, nodes: &[Node], current: &Value) -> Result<Value, JmesError> {
    let mut args = Vec::with_capacity(nodes.len());
    for n in nodes {
        args.push(match n {
            Node::Expref(inner) => Arg::Expref(inner),
            other => Arg::Val(visit(other, current)?),
        });
    }
    let Some((sig, variadic)) = signature(name) else {
        return Err(JmesError::UnknownFunction(name.into()));
    };
    if (variadic && args.len() < sig.len()) || (!variadic && args.len() != sig.len()) {
        return Err(JmesError::Arity {
            expected: sig.len(),
            actual: args.len(),
            name: name.into(),
            variadic,
        });
    }
    for (a, spec) in args.iter().zip(sig) {
        type_check(name, a, spec)?;
    }
    let val = |i: usize| match args.get(i) {
        Some(Arg::Val(v)) => v.clone(),
        _ => Value::Null,
    };
    let expref = |i: usize| match args.get(i) {
        Some(Arg::Expref(n)) => Some(*n),
        _ => None,
    };
    let arr = |i: usize| match val(i) {
        Value::Array(a) => a,
        _ => Vec::new(),
    };
    Ok(match name {
        "abs" => match val(0) {
            Value::Number(n) if n.is_f64() => int_or_float(n.as_f64().unwrap_or(0.0).abs()),
            Value::Number(n) => n
                .as_i64()
                .and_then(i64::checked_abs)
                .map(Value::from)
                .unwrap_or(Value::Number(n)),
            other => other,
        },
        "avg" => {
            let a = arr(0);
            if a.is_empty() {
                Value::Null
            } else {
                let total = a.iter().fold(Value::from(0), |acc, x| add(&acc, x));
                int_or_float(total.as_f64().unwrap_or(0.0) / a.len() as f64)
            }
        }
        "sum" => arr(0).iter().fold(Value::from(0), |acc, x| add(&acc, x)),
        "ceil" | "floor" => match val(0) {
            Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or(0.0);
                to_int(if name == "ceil" { f.ceil() } else { f.floor() })
            }
            other => other,
        },
        "not_null" => args
            .iter()
            .find_map(|a| match a {
                Arg::Val(v) if !v.is_null() => Some(v.clone()),
                _ => None,
            })
            .unwrap_or(Value::Null),
        "to_array" => match val(0) {
            Value::Array(a) => Value::Array(a),
            other => Value::Array(vec![other]),
        },
        "to_string" => match val(0) {
            Value::String(s) => Value::String(s),
            other => {
                let mut s = String::new();
                dumps_compact(&other, &mut s);
                Value::String(s)
            }
        },
        "to_number" => match val(0) {
            Value::Number(n) => Value::Number(n),
            Value::String(s) => match crate::pyfmt::py_int(&s) {
                Some(i) => Value::from(i),
                None => crate::pyfmt::py_float(&s)
                    .map(int_or_float)
                    .unwrap_or(Value::Null),
            },
            _ => Value::Null,
        },
        "contains" => {
            let search = val(1);
            match val(0) {
                Value::String(s) => match &search {
                    Value::String(t) => Value::Bool(s.contains(t.as_str())),
                    other => {
                        return Err(JmesError::Python(format!(
                            "'in <string>' requires string as left operand, not {}",
                            py_type(other)
                        )));
                    }
                },
                Value::Array(a) => Value::Bool(a.iter().any(|x| py_eq(x, &search))),
                _ => Value::Bool(false),
            }
        }
        "length" => match val(0) {
            Value::String(s) => Value::from(s.chars().count()),
            Value::Array(a) => Value::from(a.len()),
            Value::Object(o) => Value::from(o.len()),
            _ => Value::Null,
        },
        "ends_with" | "starts_with" => {
            let (Value::String(s), Value::String(t)) = (val(0), val(1)) else {
                return Ok(Value::Null);
            };
            Value::Bool(if name == "ends_with" {
                s.ends_with(&t)
            } else {
                s.starts_with(&t)
            })
        }
        "reverse" => match val(0) {
            Value::String(s) => Value::String(s.chars().rev().collect()),
            Value::Array(mut a) => {
                a.reverse();
                Value::Array(a)
            }
            other => other,
        },
        "join" => {
            let sep = val(0);
            let parts: Vec<String> = arr(1)
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect();
            Value::String(parts.join(sep.as_str().unwrap_or_default()))
        }
        "map" => {
            let Some(e) = expref(0) else {
                return Ok(Value::Null);
            };
            Value::Array(
                arr(1)
                    .iter()
                    .map(|x| visit(e, x))
                    .collect::<Result<_, _>>()?,
            )
        }
        "max" | "min" => {
            let a = arr(0);
            if a.is_empty() {
                Value::Null
            } else if name == "max" {
                extreme(&a, &a, Ordering::Greater, ">")?
            } else {
                extreme(&a, &a, Ordering::Less, "<")?
            }
        }
        "merge" => {
            // Only the first argument is type-checked (the signature has one entry); a later
            // non-object fails in Python's `dict.update`.
            let mut m = Map::new();
            for a in &args {
                match a {
                    Arg::Val(Value::Object(o)) => {
                        for (k, v) in o {
                            m.insert(k.clone(), v.clone());
                        }
                    }
                    Arg::Val(v @ (Value::Null | Value::Bool(_) | Value::Number(_))) => {
                        return Err(JmesError::Python(format!(
                            "'{}' object is not iterable",
                            py_type(v)
                        )));
                    }
                    Arg::Val(Value::String(s)) if s.is_empty() => {}
                    Arg::Val(Value::Array(l)) if l.is_empty() => {}
                    _ => {
                        return Err(JmesError::Python(
                            "dictionary update sequence element #0 has the wrong length".into(),
                        ));
                    }
                }
            }
            Value::Object(m)
        }
        "sort" => {
            let a = arr(0);
            Value::Array(sorted(a.clone(), a)?)
        }
        "keys" => match val(0) {
            Value::Object(o) => Value::Array(o.keys().cloned().map(Value::String).collect()),
            _ => Value::Null,
        },
        "values" => match val(0) {
            Value::Object(o) => Value::Array(o.values().cloned().collect()),
            _ => Value::Null,
        },
        "type" => Value::String(jtype(&Arg::Val(val(0))).into()),
        "sort_by" => {
            let a = arr(0);
            let Some(e) = expref(1) else {
                return Ok(Value::Null);
            };
            if a.is_empty() {
                return Ok(Value::Array(a));
            }
            // The first element's key decides the one type every key must have.
            let first = visit(e, &a[0])?;
            let required = jtype(&Arg::Val(first.clone()));
            if !matches!(required, "number" | "string") {
                return Err(JmesError::Type {
                    function: "sort_by".into(),
                    value: crate::pyfmt::py_str(&a[0]),
                    expected: py_list(&["string", "number"]),
                    actual: required.into(),
                });
            }
            let k = keys("sort_by", e, &a, &[required])?;
            Value::Array(sorted(a, k)?)
        }
        _ => {
            // min_by / max_by
            let a = arr(0);
            let Some(e) = expref(1) else {
                return Ok(Value::Null);
            };
            if a.is_empty() {
                return Ok(Value::Null);
            }
            let k = keys(name, e, &a, &["number", "string"])?;
            if name == "max_by" {
                extreme(&a, &k, Ordering::Greater, ">")?
            } else {
                extreme(&a, &k, Ordering::Less, "<")?
            }
        }
    })
}
