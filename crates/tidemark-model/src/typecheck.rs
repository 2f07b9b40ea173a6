//! Model-driven JSON type check run before typed deserialization, so a wrong JSON type is
//! reported with the member it sits at (serde's own messages do not name the field).
//!
//! Messages follow Coral's `SerializationException` wording (`STRING_VALUE can not be
//! converted to a Boolean`), suffixed with the wire path of the member.

use crate::json_tree::{JsonView, Kind};
use crate::schema::{ServiceModel, ShapeId, ShapeKind};

/// The first type mismatch in `value` (a `&serde_json::Value` or a compact tree's node)
/// against `shape`, as a serialization message.
pub fn type_error<'a>(
    model: &ServiceModel,
    shape: ShapeId,
    value: impl JsonView<'a>,
) -> Option<String> {
    check(model, shape, value, "")
}

fn found(kind: Kind) -> &'static str {
    match kind {
        Kind::Null => "NULL_VALUE",
        Kind::Bool => "BOOLEAN_VALUE",
        Kind::Number => "NUMBER_VALUE",
        Kind::String => "STRING_VALUE",
        Kind::Array => "START_ARRAY",
        Kind::Object => "START_OBJECT",
    }
}

fn mismatch(kind: Kind, target: &str, path: &str) -> Option<String> {
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" (at '{path}')")
    };
    Some(match kind {
        Kind::Object => format!("Start of structure or map found where not expected{at}"),
        Kind::Array => format!("Start of list found where not expected{at}"),
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

fn check<'a, J: JsonView<'a>>(
    model: &ServiceModel,
    shape: ShapeId,
    v: J,
    path: &str,
) -> Option<String> {
    let kind = v.kind();
    if kind == Kind::Null {
        return None;
    }
    let expect = |want: Kind, target: &str| {
        (kind != want)
            .then(|| mismatch(kind, target, path))
            .flatten()
    };
    match &model.shape(shape).kind {
        ShapeKind::Structure { members, .. } => {
            if kind != Kind::Object {
                return mismatch(kind, "a Structure", path);
            }
            members.iter().find_map(|m| {
                v.get(m.name)
                    .and_then(|x| check(model, m.shape, x, &join(path, m.name)))
            })
        }
        ShapeKind::List { member, .. } => {
            if kind != Kind::Array {
                return mismatch(kind, "a List", path);
            }
            v.items()
                .enumerate()
                .find_map(|(i, x)| check(model, *member, x, &join(path, &(i + 1).to_string())))
        }
        ShapeKind::Map { value, .. } => {
            if kind != Kind::Object {
                return mismatch(kind, "a Map", path);
            }
            v.members()
                .find_map(|(k, x)| check(model, *value, x, &join(path, k)))
        }
        ShapeKind::String { .. } => expect(Kind::String, "a String"),
        ShapeKind::Blob { .. } => expect(Kind::String, "a Blob"),
        ShapeKind::Boolean => expect(Kind::Bool, "a Boolean"),
        ShapeKind::Timestamp => expect(Kind::Number, "a Timestamp"),
        ShapeKind::Integer { .. } => int_check(
            v,
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            "an Integer",
            path,
        ),
        ShapeKind::Long { .. } => int_check(v, i64::MIN, i64::MAX, "a Long", path),
        ShapeKind::Double { .. } => expect(Kind::Number, "a Double"),
    }
}

/// Integers must be whole numbers in range. Coral truncates fractions; the typed shapes
/// cannot hold them, so a fraction is reported rather than silently truncated.
fn int_check<'a>(
    v: impl JsonView<'a>,
    min: i64,
    max: i64,
    target: &str,
    path: &str,
) -> Option<String> {
    let Some(n) = v.as_number() else {
        return mismatch(v.kind(), target, path);
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
