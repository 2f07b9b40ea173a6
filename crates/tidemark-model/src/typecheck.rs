//! Model-driven JSON type check run before typed deserialization, so a wrong JSON type is
//! reported with the member it sits at (serde's own messages do not name the field).
//!
//! Messages follow Coral's `SerializationException` wording (`STRING_VALUE can not be
//! converted to a Boolean`), suffixed with the wire path of the member.

use serde_json::Value;

use crate::schema::{ServiceModel, ShapeId, ShapeKind};

/// The first type mismatch in `value` against `shape`, as a serialization message.
pub fn type_error(model: &ServiceModel, shape: ShapeId, value: &Value) -> Option<String> {
    check(model, shape, value, "")
}

fn found(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL_VALUE",
        Value::Bool(_) => "BOOLEAN_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn mismatch(v: &Value, target: &str, path: &str) -> Option<String> {
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" (at '{path}')")
    };
    Some(match v {
        Value::Object(_) => format!("Start of structure or map found where not expected{at}"),
        Value::Array(_) => format!("Start of list found where not expected{at}"),
        other => format!("{} can not be converted to {target}{at}", found(other)),
    })
}

fn join(base: &str, next: &str) -> String {
    if base.is_empty() {
        next.to_owned()
    } else {
        format!("{base}.{next}")
    }
}

fn check(model: &ServiceModel, shape: ShapeId, v: &Value, path: &str) -> Option<String> {
    if v.is_null() {
        return None;
    }
    match &model.shape(shape).kind {
        ShapeKind::Structure { members, .. } => {
            let Some(obj) = v.as_object() else {
                return mismatch(v, "a Structure", path);
            };
            members.iter().find_map(|m| {
                obj.get(m.name)
                    .and_then(|x| check(model, m.shape, x, &join(path, m.name)))
            })
        }
        ShapeKind::List { member, .. } => {
            let Some(items) = v.as_array() else {
                return mismatch(v, "a List", path);
            };
            items
                .iter()
                .enumerate()
                .find_map(|(i, x)| check(model, *member, x, &join(path, &(i + 1).to_string())))
        }
        ShapeKind::Map { value, .. } => {
            let Some(obj) = v.as_object() else {
                return mismatch(v, "a Map", path);
            };
            obj.iter()
                .find_map(|(k, x)| check(model, *value, x, &join(path, k)))
        }
        ShapeKind::String { .. } => (!v.is_string())
            .then(|| mismatch(v, "a String", path))
            .flatten(),
        ShapeKind::Blob { .. } => (!v.is_string())
            .then(|| mismatch(v, "a Blob", path))
            .flatten(),
        ShapeKind::Boolean => (!v.is_boolean())
            .then(|| mismatch(v, "a Boolean", path))
            .flatten(),
        ShapeKind::Timestamp => (!v.is_number())
            .then(|| mismatch(v, "a Timestamp", path))
            .flatten(),
        ShapeKind::Integer { .. } => int_check(
            v,
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            "an Integer",
            path,
        ),
        ShapeKind::Long { .. } => int_check(v, i64::MIN, i64::MAX, "a Long", path),
        ShapeKind::Double { .. } => (!v.is_number())
            .then(|| mismatch(v, "a Double", path))
            .flatten(),
    }
}

/// Integers must be whole numbers in range. Coral truncates fractions; the typed shapes
/// cannot hold them, so a fraction is reported rather than silently truncated.
fn int_check(v: &Value, min: i64, max: i64, target: &str, path: &str) -> Option<String> {
    let Value::Number(n) = v else {
        return mismatch(v, target, path);
    };
    match n.as_i64() {
        Some(i) if (min..=max).contains(&i) => None,
        _ => {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" (at '{path}')")
            };
            Some(format!(
                "NUMBER_VALUE {n} can not be converted to {target}{at}"
            ))
        }
    }
}
