//! `--generate-cli-skeleton input|output`, ported from awscli v1
//! `awscli/customizations/generatecliskeleton.py` and botocore `utils.ArgumentGenerator`.
//!
//! Deviation: for string enums botocore picks `random.choice(enum)`; we pick the first value so
//! output is reproducible.
//!
//! [`generate_fitted`] is tidemark's own: where aws's member-name sample breaks the model's
//! limits (a name shorter than a string's `min`, `0` under an integer's `min`, one list item
//! under a list's `min`, a tagged union with every member set, a blob left out), aws fails
//! with "Parameter validation failed"; the fitted sample keeps aws's values wherever they fit
//! and bends only the ones that do not.

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
    build(model, shape_name, &mut stack, "", use_member_names, false)
}

/// A member-name sample like aws's, with every value fitted to the model's constraints
/// (`min`/`max` lengths, sizes and values, enums, tagged unions, blobs).
pub fn generate_fitted(model: &Model, shape_name: &str, time: &str) -> Value {
    let mut stack = Vec::new();
    TIME.with(|t| *t.borrow_mut() = time.to_string());
    build(model, shape_name, &mut stack, "", true, true)
}

fn limit(shape: &Value, key: &str) -> Option<f64> {
    shape.get(key).and_then(Value::as_f64)
}

/// `text` repeated or cut to a length within the shape's `min`/`max` (in characters).
fn fit_len(text: &str, shape: &Value) -> String {
    let base: Vec<char> = if text.is_empty() {
        vec!['x']
    } else {
        text.chars().collect()
    };
    let min = limit(shape, "min").unwrap_or(0.0).max(0.0) as usize;
    let max = limit(shape, "max").map(|m| m.max(0.0) as usize);
    let mut want = base.len().max(min);
    if let Some(m) = max {
        want = want.min(m);
    }
    // Bounded by the model's own limits (at most a few thousand characters).
    base.iter().cycle().take(want).collect()
}

/// A number within the shape's `min`/`max`, as close to 0 as allowed.
fn fit_number(shape: &Value) -> f64 {
    let mut v: f64 = 0.0;
    if let Some(m) = limit(shape, "min") {
        v = v.max(m);
    }
    if let Some(m) = limit(shape, "max") {
        v = v.min(m);
    }
    v
}

/// How many list items or map entries a fitted sample has (1 unless the model says more).
fn fit_count(shape: &Value) -> usize {
    let min = limit(shape, "min").unwrap_or(1.0).max(1.0) as usize;
    match limit(shape, "max") {
        Some(m) if (m as usize) < min => m as usize,
        _ => min.min(16),
    }
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
    fit: bool,
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
                let union = fit && shape.get("union").and_then(Value::as_bool) == Some(true);
                for (mname, mref) in members(shape) {
                    let s = mref
                        .get("shape")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    m.insert(mname.clone(), build(model, s, stack, mname, names, fit));
                    // A tagged union holds exactly one member: the first.
                    if union {
                        break;
                    }
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
            let item = build(model, s, stack, n, names, fit);
            let count = if fit { fit_count(shape) } else { 1 };
            Value::Array(vec![item; count])
        }
        "map" => {
            let s = shape
                .get("value")
                .and_then(|m| m.get("shape"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut m = Map::new();
            let value = build(model, s, stack, "", names, fit);
            if fit {
                let key_shape = shape
                    .get("key")
                    .and_then(|k| k.get("shape"))
                    .and_then(Value::as_str)
                    .and_then(|k| model.shape(k));
                for i in 0..fit_count(shape) {
                    let key = if i == 0 {
                        "KeyName".to_string()
                    } else {
                        format!("KeyName{}", i + 1)
                    };
                    let key = key_shape.map_or(key.clone(), |k| fit_string(&key, k));
                    m.insert(key, value.clone());
                }
            } else {
                m.insert("KeyName".into(), value);
            }
            Value::Object(m)
        }
        "string" if fit => Value::String(fit_string(name, shape)),
        "integer" | "long" if fit => Value::from(fit_number(shape) as i64),
        "float" | "double" if fit => serde_json::Number::from_f64(fit_number(shape))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        // botocore has no sample for blobs (None breaks the model); a blob prints base64.
        "blob" if fit => {
            use base64::Engine as _;
            let raw = fit_len(name, shape);
            Value::String(base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()))
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

/// A fitted string: the first enum value, else `name` fitted to the length limits.
fn fit_string(name: &str, shape: &Value) -> String {
    match shape
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
        .and_then(Value::as_str)
    {
        Some(first) => first.to_string(),
        None => fit_len(name, shape),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// aws's member-name sample of CreateBackup's output breaks `BackupArn`'s `min` of 37
    /// (aws fails); the fitted one passes botocore's validation and keeps fitting values.
    #[test]
    fn fitted_output_passes_validation() {
        let m = Model::load("dynamodb").unwrap();
        let op = m.operation("CreateBackup").unwrap();
        let name = op["output"]["shape"].as_str().unwrap();
        let shape = m.output_shape(op).unwrap();
        let aws = generate_with_time(&m, name, true, "1970-01-01T00:00:00");
        let Value::Object(aws) = aws else { panic!() };
        assert!(crate::validate::validate_shape(&m, shape, &aws).is_err());
        let fitted = generate_fitted(&m, name, "1970-01-01T00:00:00");
        let Value::Object(obj) = &fitted else {
            panic!()
        };
        assert!(crate::validate::validate_shape(&m, shape, obj).is_ok());
        let details = &fitted["BackupDetails"];
        assert_eq!(details["BackupName"], "BackupName");
        assert_eq!(details["BackupArn"].as_str().map(str::len), Some(37));
        assert_eq!(details["BackupStatus"], "CREATING");
    }

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
