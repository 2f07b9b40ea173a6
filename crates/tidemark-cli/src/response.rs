//! Response decoding driven by the model, a port of botocore `parsers.py` (`JSONParser`,
//! `QueryParser`): structure members in model order, unknown keys dropped, scalars typed as
//! Python would hold them, and timestamps left exactly as received (aws CLI v1 installs an
//! identity timestamp parser).

use serde_json::{Map, Value};

use crate::model::{Model, members, shape_type};
use crate::protocol::ServiceError;
use crate::xml::Node;

/// Parses a JSON body by shape: structure members in model order, unknown keys dropped.
pub fn parse_json(model: &Model, shape: &Value, v: &Value) -> Value {
    match (shape_type(shape), v) {
        ("structure", Value::Object(obj)) => {
            let mut out = Map::new();
            for (name, mref) in members(shape) {
                let wire = mref
                    .get("locationName")
                    .and_then(Value::as_str)
                    .unwrap_or(name);
                if let Some(raw) = obj.get(wire).filter(|x| !x.is_null()) {
                    let parsed = match model.resolve(mref) {
                        Some(s) => parse_json(model, s, raw),
                        None => raw.clone(),
                    };
                    out.insert(name.clone(), parsed);
                }
            }
            Value::Object(out)
        }
        ("list", Value::Array(items)) => match shape.get("member").and_then(|r| model.resolve(r)) {
            Some(m) => Value::Array(items.iter().map(|i| parse_json(model, m, i)).collect()),
            None => v.clone(),
        },
        ("map", Value::Object(obj)) => match shape.get("value").and_then(|r| model.resolve(r)) {
            Some(m) => Value::Object(
                obj.iter()
                    .map(|(k, i)| (k.clone(), parse_json(model, m, i)))
                    .collect(),
            ),
            None => v.clone(),
        },
        _ => v.clone(),
    }
}

/// Parses an XML node by shape (botocore `QueryParser`); scalars typed as Python would hold them.
pub fn parse_xml(model: &Model, shape: &Value, node: &Node) -> Value {
    match shape_type(shape) {
        "structure" => {
            let mut out = Map::new();
            for (name, mref) in members(shape) {
                let Some(mshape) = model.resolve(mref) else {
                    continue;
                };
                let flattened = mshape.get("flattened").and_then(Value::as_bool) == Some(true);
                let xml_name = if shape_type(mshape) == "list" && flattened {
                    mshape
                        .get("member")
                        .and_then(|m| m.get("locationName"))
                        .and_then(Value::as_str)
                        .or(mref.get("locationName").and_then(Value::as_str))
                        .unwrap_or(name)
                } else {
                    mref.get("locationName")
                        .and_then(Value::as_str)
                        .unwrap_or(name)
                };
                if flattened && shape_type(mshape) == "list" {
                    let items: Vec<&Node> =
                        node.children.iter().filter(|c| c.tag == xml_name).collect();
                    if !items.is_empty() {
                        let ms = mshape.get("member").and_then(|r| model.resolve(r));
                        out.insert(
                            name.clone(),
                            Value::Array(
                                items
                                    .iter()
                                    .map(|n| {
                                        ms.map(|s| parse_xml(model, s, n)).unwrap_or(Value::Null)
                                    })
                                    .collect(),
                            ),
                        );
                    }
                } else if let Some(child) = node.children.iter().find(|c| c.tag == xml_name) {
                    out.insert(name.clone(), parse_xml(model, mshape, child));
                }
            }
            Value::Object(out)
        }
        "list" => {
            let mref = shape.get("member");
            let item_name = mref
                .and_then(|m| m.get("locationName"))
                .and_then(Value::as_str)
                .unwrap_or("member");
            let ms = mref.and_then(|r| model.resolve(r));
            Value::Array(
                node.children
                    .iter()
                    .filter(|c| c.tag == item_name)
                    .map(|c| ms.map(|s| parse_xml(model, s, c)).unwrap_or(Value::Null))
                    .collect(),
            )
        }
        "map" => {
            let kname = shape
                .get("key")
                .and_then(|k| k.get("locationName"))
                .and_then(Value::as_str)
                .unwrap_or("key");
            let vname = shape
                .get("value")
                .and_then(|k| k.get("locationName"))
                .and_then(Value::as_str)
                .unwrap_or("value");
            let vs = shape.get("value").and_then(|r| model.resolve(r));
            let mut out = Map::new();
            for entry in node.children.iter().filter(|c| c.tag == "entry") {
                let k = entry
                    .children
                    .iter()
                    .find(|c| c.tag == kname)
                    .map(|c| c.text.clone())
                    .unwrap_or_default();
                let v = entry
                    .children
                    .iter()
                    .find(|c| c.tag == vname)
                    .and_then(|c| vs.map(|s| parse_xml(model, s, c)))
                    .unwrap_or(Value::Null);
                out.insert(k, v);
            }
            Value::Object(out)
        }
        "integer" | "long" => crate::pyfmt::py_int(&node.text)
            .map(Value::from)
            .unwrap_or(Value::String(node.text.clone())),
        "float" | "double" => crate::pyfmt::py_float(&node.text)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::String(node.text.clone())),
        "boolean" => Value::Bool(node.text == "true"),
        _ => Value::String(node.text.clone()),
    }
}

/// Decodes a successful response body into the parsed output (without ResponseMetadata).
pub fn decode(model: &Model, op_name: &str, body: &[u8]) -> Result<Value, String> {
    let op = model.operation(op_name);
    let Some(out_shape) = op.and_then(|o| model.output_shape(o)) else {
        return Ok(Value::Object(Map::new()));
    };
    if model.is_json_protocol() {
        if body.is_empty() {
            return Ok(Value::Object(Map::new()));
        }
        // botocore `_parse_body_as_json`: a body that is not JSON becomes {"message": body}.
        let v: Value = serde_json::from_slice(body)
            .unwrap_or_else(|_| serde_json::json!({ "message": String::from_utf8_lossy(body) }));
        Ok(parse_json(model, out_shape, &v))
    } else {
        let root = crate::xml::parse(body)?;
        let wrapper = op
            .and_then(|o| o.get("output"))
            .and_then(|o| o.get("resultWrapper"))
            .and_then(Value::as_str);
        let node = match wrapper {
            Some(w) => root.children.iter().find(|c| c.tag == w),
            None => Some(&root),
        };
        Ok(node
            .map(|n| parse_xml(model, out_shape, n))
            .unwrap_or(Value::Object(Map::new())))
    }
}

/// Extracts the error code and message from an error response body.
pub fn decode_error(model: &Model, status: u16, body: &[u8]) -> ServiceError {
    let fallback = || ServiceError {
        code: status.to_string(),
        message: String::new(),
    };
    if model.is_json_protocol() {
        let v = serde_json::from_slice::<Value>(body)
            .unwrap_or_else(|_| serde_json::json!({ "message": String::from_utf8_lossy(body) }));
        let code = v
            .get("__type")
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
        let message = v
            .get("message")
            .or_else(|| v.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        ServiceError {
            code: code.unwrap_or_else(|| status.to_string()),
            message,
        }
    } else {
        let Ok(root) = crate::xml::parse(body) else {
            return fallback();
        };
        let err = root.find("Error").unwrap_or(&root);
        let code = err
            .children
            .iter()
            .find(|c| c.tag == "Code")
            .map(|c| c.text.clone())
            .unwrap_or_else(|| status.to_string());
        let message = err
            .children
            .iter()
            .find(|c| c.tag == "Message")
            .map(|c| c.text.clone())
            .unwrap_or_default();
        ServiceError { code, message }
    }
}
