//! Client-side parameter validation, a port of botocore `validate.py` `ParamValidator`
//! (required members, Python types, `min` length and range; unknown keys), with its messages.

use serde_json::{Map, Value};

use crate::model::{Model, members, required, shape_type};
use crate::pyfmt::py_str;

fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Number(n) if n.is_f64() => "<class 'float'>",
        Value::Number(_) => "<class 'int'>",
        Value::String(_) => "<class 'str'>",
        Value::Array(_) => "<class 'list'>",
        Value::Object(_) => "<class 'dict'>",
    }
}

fn type_error(errors: &mut Vec<String>, name: &str, v: &Value, valid: &str) {
    errors.push(format!(
        "Invalid type for parameter {name}, value: {}, type: {}, valid types: {valid}",
        py_str(v),
        py_type(v)
    ));
}

/// Validates `params` against the input shape of `op_name`; `Err` holds the full message.
pub fn validate(model: &Model, op_name: &str, params: &Map<String, Value>) -> Result<(), String> {
    let Some(shape) = model.operation(op_name).and_then(|o| model.input_shape(o)) else {
        return Ok(());
    };
    validate_shape(model, shape, params)
}

/// Validates `value` against any structure shape (the Stubber also checks stub responses).
pub fn validate_shape(
    model: &Model,
    shape: &Value,
    params: &Map<String, Value>,
) -> Result<(), String> {
    let mut errors = Vec::new();
    check(
        model,
        shape,
        &Value::Object(params.clone()),
        "",
        &mut errors,
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "Parameter validation failed:\n{}",
            errors.join("\n")
        ))
    }
}

fn check(model: &Model, shape: &Value, v: &Value, name: &str, errors: &mut Vec<String>) {
    let min = shape.get("min").and_then(Value::as_f64);
    match shape_type(shape) {
        "structure" => {
            let Value::Object(obj) = v else {
                return type_error(errors, name, v, "<class 'dict'>");
            };
            if obj.contains_key(crate::params::BLOB_MARKER) {
                return type_error(errors, name, v, "<class 'dict'>");
            }
            // botocore `_validate_structure`: a tagged union holds exactly one member.
            if shape.get("union").and_then(Value::as_bool) == Some(true) {
                let loc = if name.is_empty() { "input" } else { name };
                let names: Vec<&str> = members(shape).map(|(n, _)| n.as_str()).collect();
                if obj.is_empty() {
                    errors.push(format!(
                        "Must set one of the following keys for tagged unionstructure {loc}: {}.",
                        names.join(", ")
                    ));
                } else if obj.len() > 1 {
                    errors.push(format!(
                        "Invalid number of parameters set for tagged union structure {loc}. Can only set one of the following keys: {}.",
                        names.join(", ")
                    ));
                }
            }
            for r in required(shape) {
                if !obj.contains_key(r) {
                    let loc = if name.is_empty() {
                        "input".to_string()
                    } else {
                        name.to_string()
                    };
                    errors.push(format!("Missing required parameter in {loc}: \"{r}\""));
                }
            }
            let names: Vec<&String> = members(shape).map(|(n, _)| n).collect();
            for (k, val) in obj {
                let child = if name.is_empty() {
                    k.clone()
                } else {
                    format!("{name}.{k}")
                };
                match shape
                    .get("members")
                    .and_then(|m| m.get(k))
                    .and_then(|r| model.resolve(r))
                {
                    Some(ms) => check(model, ms, val, &child, errors),
                    None => {
                        let loc = if name.is_empty() {
                            "input".to_string()
                        } else {
                            name.to_string()
                        };
                        errors.push(format!(
                            "Unknown parameter in {loc}: \"{k}\", must be one of: {}",
                            names
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
            }
        }
        "list" => {
            let Value::Array(items) = v else {
                return type_error(errors, name, v, "<class 'list'>, <class 'tuple'>");
            };
            if let Some(m) = min.filter(|m| (items.len() as f64) < *m) {
                errors.push(format!(
                    "Invalid length for parameter {name}, value: {}, valid min length: {m}",
                    items.len()
                ));
            }
            if let Some(ms) = shape.get("member").and_then(|r| model.resolve(r)) {
                for (i, item) in items.iter().enumerate() {
                    check(model, ms, item, &format!("{name}[{i}]"), errors);
                }
            }
        }
        "map" => {
            let Value::Object(obj) = v else {
                return type_error(errors, name, v, "<class 'dict'>");
            };
            if let Some(vs) = shape.get("value").and_then(|r| model.resolve(r)) {
                for (k, item) in obj {
                    check(model, vs, item, &format!("{name}.{k}"), errors);
                }
            }
        }
        "string" => {
            let Value::String(s) = v else {
                return type_error(errors, name, v, "<class 'str'>");
            };
            if let Some(m) = min.filter(|m| (s.chars().count() as f64) < *m) {
                errors.push(format!(
                    "Invalid length for parameter {name}, value: {}, valid min length: {m}",
                    s.chars().count()
                ));
            }
        }
        "integer" | "long" => {
            let ok = matches!(v, Value::Bool(_)) || v.as_i64().is_some() || v.as_u64().is_some();
            if !ok {
                return type_error(errors, name, v, "<class 'int'>");
            }
            if let (Some(m), Some(x)) = (min, v.as_f64())
                && x < m
            {
                errors.push(format!(
                    "Invalid value for parameter {name}, value: {}, valid min value: {m}",
                    py_str(v)
                ));
            }
        }
        "float" | "double" => {
            if !v.is_number() && !v.is_boolean() {
                return type_error(
                    errors,
                    name,
                    v,
                    "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>",
                );
            }
            if let (Some(m), Some(x)) = (min, v.as_f64())
                && x < m
            {
                errors.push(format!(
                    "Invalid value for parameter {name}, value: {}, valid min value: {m}",
                    py_str(v)
                ));
            }
        }
        "boolean" if !v.is_boolean() => {
            type_error(errors, name, v, "<class 'bool'>");
        }
        "blob" => {
            let ok = v.is_string()
                || v.as_object()
                    .is_some_and(|o| o.contains_key(crate::params::BLOB_MARKER));
            if !ok {
                type_error(
                    errors,
                    name,
                    v,
                    "<class 'bytes'>, <class 'bytearray'>, file-like object",
                );
            }
        }
        "timestamp" if crate::protocol::parse_timestamp(v).is_none() => {
            type_error(
                errors,
                name,
                v,
                "<class 'datetime.datetime'>, timestamp string",
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_like_botocore() {
        let m = Model::load("dynamodb").unwrap();
        let p = json!({"TableName": "", "Limit": 0});
        let e = validate(&m, "ListBackups", p.as_object().unwrap()).unwrap_err();
        assert_eq!(
            e,
            "Parameter validation failed:\nInvalid length for parameter TableName, value: 0, valid min length: 1\nInvalid value for parameter Limit, value: 0, valid min value: 1"
        );
        let e = validate(
            &m,
            "CreateBackup",
            json!({"TableName": "abc"}).as_object().unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "Parameter validation failed:\nMissing required parameter in input: \"BackupName\""
        );
    }
}
