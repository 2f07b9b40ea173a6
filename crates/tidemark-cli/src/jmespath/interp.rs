//! jmespath.py 1.1's `TreeInterpreter` (`visitor.py`) over `serde_json::Value`, with Python's
//! semantics where they show: `1 == 1.0`, `1 == true` only inside containers, ordering
//! comparisons on numbers and strings only (a number against a string is Python's
//! `TypeError`), Python list indexing and slicing.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::error::JmesError;
use super::functions;
use super::parser::{Cmp, Node};

/// A value as Python holds it: bools are ints in arithmetic and equality.
pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Python `==` on JSON values (bool equals 1/0, int equals float, dicts by content).
pub fn py_eq(a: &Value, b: &Value) -> bool {
    let as_num = |v: &Value| match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Bool(_), Value::Number(_)) | (Value::Number(_), Value::Bool(_)) => {
            as_num(a) == as_num(b)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Python's type name, as `TypeError` messages show it.
pub fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python ordering of two numbers or two strings; `TypeError` text otherwise.
pub fn py_cmp(a: &Value, b: &Value, op: &str) -> Result<Ordering, JmesError> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Ok(match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
        }),
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => Err(JmesError::Python(format!(
            "'{op}' not supported between instances of '{}' and '{}'",
            py_type(a),
            py_type(b)
        ))),
    }
}

/// `_is_false`: the empty string, list and object, null and false.
pub fn is_false(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn is_actual_number(v: &Value) -> bool {
    matches!(v, Value::Number(_))
}

/// `_equals`: Python `==`, except that 0 and 1 never equal a boolean at the top level.
fn equals(x: &Value, y: &Value) -> bool {
    let special = |n: &Value, other: &Value| {
        is_actual_number(n) && num(n).is_some_and(|f| f == 0.0 || f == 1.0) && other.is_boolean()
    };
    if special(x, y) || special(y, x) {
        return false;
    }
    py_eq(x, y)
}

/// Python `slice.indices` then list slicing.
fn slice(list: &[Value], parts: &[Option<i64>; 3]) -> Result<Vec<Value>, JmesError> {
    let len = list.len() as i64;
    let step = parts[2].unwrap_or(1);
    if step == 0 {
        return Err(JmesError::Python("slice step cannot be zero".into()));
    }
    let clamp = |v: Option<i64>, default: i64| -> i64 {
        match v {
            None => default,
            Some(i) if i < 0 => {
                let j = i.saturating_add(len);
                if j < 0 {
                    if step < 0 { -1 } else { 0 }
                } else {
                    j
                }
            }
            Some(i) if i >= len => {
                if step < 0 {
                    len - 1
                } else {
                    len
                }
            }
            Some(i) => i,
        }
    };
    let (start, stop) = if step > 0 {
        (clamp(parts[0], 0), clamp(parts[1], len))
    } else {
        (clamp(parts[0], len - 1), clamp(parts[1], -1))
    };
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        if let Some(v) = usize::try_from(i).ok().and_then(|u| list.get(u)) {
            out.push(v.clone());
        }
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(out)
}

/// Evaluates `node` against `value`.
pub fn visit(node: &Node, value: &Value) -> Result<Value, JmesError> {
    Ok(match node {
        Node::Identity | Node::Current => value.clone(),
        Node::Field(name) => match value {
            Value::Object(m) => m.get(name).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Node::Literal(v) => v.clone(),
        Node::Subexpression(children) | Node::IndexExpression(children) => {
            let mut result = value.clone();
            for c in children {
                result = visit(c, &result)?;
            }
            result
        }
        Node::Pipe(l, r) => visit(r, &visit(l, value)?)?,
        Node::Index(i) => match value {
            Value::Array(a) => {
                let idx = if *i < 0 {
                    i.checked_add(a.len() as i64)
                } else {
                    Some(*i)
                };
                idx.and_then(|j| usize::try_from(j).ok())
                    .and_then(|j| a.get(j))
                    .cloned()
                    .unwrap_or(Value::Null)
            }
            _ => Value::Null,
        },
        Node::Slice(parts) => match value {
            Value::Array(a) => Value::Array(slice(a, parts)?),
            _ => Value::Null,
        },
        Node::Comparator(op, l, r) => {
            let left = visit(l, value)?;
            let right = visit(r, value)?;
            match op {
                Cmp::Eq => Value::Bool(equals(&left, &right)),
                Cmp::Ne => Value::Bool(!equals(&left, &right)),
                _ => {
                    let comparable = |v: &Value| matches!(v, Value::Number(_) | Value::String(_));
                    if !(comparable(&left) && comparable(&right)) {
                        return Ok(Value::Null);
                    }
                    let (sym, want): (&str, fn(Ordering) -> bool) = match op {
                        Cmp::Lt => ("<", |o| o == Ordering::Less),
                        Cmp::Gt => (">", |o| o == Ordering::Greater),
                        Cmp::Lte => ("<=", |o| o != Ordering::Greater),
                        _ => (">=", |o| o != Ordering::Less),
                    };
                    // NaN cannot occur: JSON numbers are finite.
                    Value::Bool(want(py_cmp(&left, &right, sym)?))
                }
            }
        }
        // jmespath.py yields an `_Expression` object here, which aws's JSON encoder then
        // refuses; JSON cannot hold it, so the refusal comes now.
        Node::Expref(_) => {
            return Err(JmesError::Python(
                "Encountered unrecognized type in JSON encoder.".into(),
            ));
        }
        Node::Function(name, args) => functions::call(name, args, value)?,
        Node::FilterProjection(l, r, cond) => {
            let Value::Array(base) = visit(l, value)? else {
                return Ok(Value::Null);
            };
            let mut out = Vec::new();
            for el in &base {
                if !is_false(&visit(cond, el)?) {
                    let cur = visit(r, el)?;
                    if !cur.is_null() {
                        out.push(cur);
                    }
                }
            }
            Value::Array(out)
        }
        Node::Flatten(inner) => {
            let Value::Array(base) = visit(inner, value)? else {
                return Ok(Value::Null);
            };
            let mut out = Vec::with_capacity(base.len());
            for el in base {
                match el {
                    Value::Array(a) => out.extend(a),
                    other => out.push(other),
                }
            }
            Value::Array(out)
        }
        Node::MultiSelectDict(pairs) => {
            if value.is_null() {
                return Ok(Value::Null);
            }
            let mut m = Map::new();
            for (k, n) in pairs {
                m.insert(k.clone(), visit(n, value)?);
            }
            Value::Object(m)
        }
        Node::MultiSelectList(items) => {
            if value.is_null() {
                return Ok(Value::Null);
            }
            Value::Array(
                items
                    .iter()
                    .map(|n| visit(n, value))
                    .collect::<Result<_, _>>()?,
            )
        }
        Node::Or(l, r) => {
            let m = visit(l, value)?;
            if is_false(&m) { visit(r, value)? } else { m }
        }
        Node::And(l, r) => {
            let m = visit(l, value)?;
            if is_false(&m) { m } else { visit(r, value)? }
        }
        Node::Not(inner) => {
            let v = visit(inner, value)?;
            // Python `not v`, except that `!0` is false (0 is not special in JMESPath).
            Value::Bool(match &v {
                Value::Number(_) => false,
                other => is_false(other),
            })
        }
        Node::Projection(l, r) => {
            let Value::Array(base) = visit(l, value)? else {
                return Ok(Value::Null);
            };
            project(&base, r)?
        }
        Node::ValueProjection(l, r) => {
            let Value::Object(base) = visit(l, value)? else {
                return Ok(Value::Null);
            };
            let vals: Vec<Value> = base.into_iter().map(|(_, v)| v).collect();
            project(&vals, r)?
        }
    })
}

fn project(base: &[Value], rhs: &Node) -> Result<Value, JmesError> {
    let mut out = Vec::new();
    for el in base {
        let cur = visit(rhs, el)?;
        if !cur.is_null() {
            out.push(cur);
        }
    }
    Ok(Value::Array(out))
}
