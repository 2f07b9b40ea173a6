//! `--generate-cli-skeleton input|output`, ported from awscli v1
//! `awscli/customizations/generatecliskeleton.py` and botocore `utils.ArgumentGenerator`.
//!
//! Deviation: for string enums botocore picks `random.choice(enum)`; we pick the first value so
//! output is reproducible.

use serde_json::{Map, Value};

use crate::model::{Model, members, shape_type};

/// `ArgumentGenerator(use_member_names).generate_skeleton(shape)`.
pub fn generate(model: &Model, shape_name: &str, use_member_names: bool) -> Value {
    generate_with_time(model, shape_name, use_member_names, "1970-01-01T00:00:00")
}

/// Like [`generate`], with the text a `datetime(1970, 1, 1)` prints as: `isoformat()` in JSON,
/// `str()` (`1970-01-01 00:00:00`) in text and table output.
pub fn generate_with_time(
    model: &Model,
    shape_name: &str,
    use_member_names: bool,
    time: &str,
) -> Value {
    let mut stack = Vec::new();
    TIME.with(|t| *t.borrow_mut() = time.to_string());
    build(model, shape_name, &mut stack, "", use_member_names)
}

thread_local! {
    static TIME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn build(
    model: &Model,
    shape_name: &str,
    stack: &mut Vec<String>,
    name: &str,
    names: bool,
) -> Value {
    let Some(shape) = model.shape(shape_name) else {
        return Value::Null;
    };
    stack.push(shape_name.to_string());
    let v = match shape_type(shape) {
        "structure" => {
            if stack.iter().filter(|s| *s == shape_name).count() > 1 {
                Value::Object(Map::new())
            } else {
                let mut m = Map::new();
                for (mname, mref) in members(shape) {
                    let s = mref
                        .get("shape")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    m.insert(mname.clone(), build(model, s, stack, mname, names));
                }
                Value::Object(m)
            }
        }
        "list" => {
            let s = shape
                .get("member")
                .and_then(|m| m.get("shape"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let n = if names { s } else { "" };
            Value::Array(vec![build(model, s, stack, n, names)])
        }
        "map" => {
            let s = shape
                .get("value")
                .and_then(|m| m.get("shape"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut m = Map::new();
            m.insert("KeyName".into(), build(model, s, stack, "", names));
            Value::Object(m)
        }
        "string" => {
            if names {
                Value::String(name.to_string())
            } else if let Some(first) = shape
                .get("enum")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
            {
                first.clone()
            } else {
                Value::String(String::new())
            }
        }
        "integer" | "long" => Value::from(0),
        "float" | "double" => serde_json::Number::from_f64(0.0)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        "boolean" => Value::Bool(true),
        // datetime(1970, 1, 1) through awscli's json_encoder (isoformat).
        "timestamp" => Value::String(TIME.with(|t| t.borrow().clone())),
        _ => Value::Null,
    };
    stack.pop();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_skeleton_matches_transcript() {
        let m = Model::load("redshift").unwrap();
        let op = m.operation("CopyClusterSnapshot").unwrap();
        let s = op["input"]["shape"].as_str().unwrap();
        assert_eq!(
            crate::pyfmt::json_dumps(&generate(&m, s, false)),
            "{\n    \"SourceSnapshotIdentifier\": \"\",\n    \"SourceSnapshotClusterIdentifier\": \"\",\n    \"TargetSnapshotIdentifier\": \"\",\n    \"ManualSnapshotRetentionPeriod\": 0\n}"
        );
    }
}
