//! Wire protocols, driven by the model: awsJson 1.0 requests/responses (DynamoDB) and awsQuery
//! form requests with XML responses (Redshift). Ports botocore `serialize.py`
//! (`JSONSerializer`, `QuerySerializer`) and `parsers.py` (`JSONParser`, `QueryParser`) with the
//! aws CLI v1 choice of leaving timestamps exactly as received (`timestamp_parser=identity`).

use base64::Engine;
use serde_json::{Map, Value};

use crate::model::{Model, members, shape_type};
use crate::params::BLOB_MARKER;
use crate::xml::Node;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// An encoded request body plus its content type and extra headers.
pub struct WireRequest {
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// A service error as botocore reports it.
pub struct ServiceError {
    pub code: String,
    pub message: String,
}

fn blob_b64(v: &Value) -> String {
    match v {
        Value::Object(m) if m.contains_key(BLOB_MARKER) => {
            m[BLOB_MARKER].as_str().unwrap_or_default().to_string()
        }
        Value::String(s) => B64.encode(s.as_bytes()),
        other => B64.encode(other.to_string().as_bytes()),
    }
}

/// Parses a CLI timestamp (epoch seconds or ISO 8601) to (seconds, nanoseconds).
pub fn parse_timestamp(v: &Value) -> Option<jiff::Timestamp> {
    match v {
        Value::Number(n) => {
            let f = n.as_f64()?;
            jiff::Timestamp::from_microsecond((f * 1_000_000.0).round() as i64).ok()
        }
        Value::String(s) => {
            if let Some(f) = crate::pyfmt::py_float(s) {
                return jiff::Timestamp::from_microsecond((f * 1_000_000.0).round() as i64).ok();
            }
            if let Ok(t) = s.parse::<jiff::Timestamp>() {
                return Some(t);
            }
            if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
                return dt
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .ok()
                    .map(|z| z.timestamp());
            }
            s.parse::<jiff::civil::Date>()
                .ok()?
                .to_zoned(jiff::tz::TimeZone::UTC)
                .ok()
                .map(|z| z.timestamp())
        }
        _ => None,
    }
}

fn iso8601(t: jiff::Timestamp) -> String {
    if t.subsec_microsecond() > 0 {
        t.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
    } else {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// Serializes awsJson input: model-typed conversion of blobs and timestamps.
fn json_value(model: &Model, shape: &Value, v: &Value) -> Value {
    match (shape_type(shape), v) {
        ("structure", Value::Object(obj)) => {
            let mut out = Map::new();
            for (k, val) in obj {
                let mshape = shape
                    .get("members")
                    .and_then(|m| m.get(k))
                    .and_then(|r| model.resolve(r));
                let name = shape
                    .get("members")
                    .and_then(|m| m.get(k))
                    .and_then(|r| r.get("locationName"))
                    .and_then(Value::as_str)
                    .unwrap_or(k);
                out.insert(
                    name.to_string(),
                    match mshape {
                        Some(s) => json_value(model, s, val),
                        None => val.clone(),
                    },
                );
            }
            Value::Object(out)
        }
        ("list", Value::Array(items)) => match shape.get("member").and_then(|r| model.resolve(r)) {
            Some(m) => Value::Array(items.iter().map(|i| json_value(model, m, i)).collect()),
            None => v.clone(),
        },
        ("map", Value::Object(obj)) => match shape.get("value").and_then(|r| model.resolve(r)) {
            Some(m) => Value::Object(
                obj.iter()
                    .map(|(k, i)| (k.clone(), json_value(model, m, i)))
                    .collect(),
            ),
            None => v.clone(),
        },
        ("blob", _) => Value::String(blob_b64(v)),
        ("timestamp", _) => match parse_timestamp(v) {
            Some(t) => Value::from(t.as_second()),
            None => v.clone(),
        },
        _ => v.clone(),
    }
}

/// Builds the request for operation `op_name`.
pub fn encode(model: &Model, op_name: &str, params: &Map<String, Value>) -> WireRequest {
    let op = model.operation(op_name);
    let input = op.and_then(|o| model.input_shape(o));
    if model.is_json_protocol() {
        let body = match input {
            Some(shape) => json_value(model, shape, &Value::Object(params.clone())),
            None => Value::Object(Map::new()),
        };
        let version = model.metadata("jsonVersion").unwrap_or("1.0");
        let target = format!(
            "{}.{op_name}",
            model.metadata("targetPrefix").unwrap_or_default()
        );
        WireRequest {
            body: serde_json::to_vec(&body).unwrap_or_default(),
            headers: vec![
                (
                    "Content-Type".into(),
                    format!("application/x-amz-json-{version}"),
                ),
                ("X-Amz-Target".into(), target),
            ],
        }
    } else {
        let mut pairs: Vec<(String, String)> = vec![
            ("Action".into(), op_name.into()),
            (
                "Version".into(),
                model.metadata("apiVersion").unwrap_or_default().into(),
            ),
        ];
        if let Some(shape) = input {
            query_serialize(model, &mut pairs, &Value::Object(params.clone()), shape, "");
        }
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
            .collect::<Vec<_>>()
            .join("&");
        WireRequest {
            body: body.into_bytes(),
            headers: vec![(
                "Content-Type".into(),
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            )],
        }
    }
}

/// `quote(s, safe='-_.~')`.
pub fn pct(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => crate::pyfmt::number_repr(n),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn query_serialize(
    model: &Model,
    out: &mut Vec<(String, String)>,
    v: &Value,
    shape: &Value,
    prefix: &str,
) {
    match shape_type(shape) {
        "structure" => {
            let Value::Object(obj) = v else { return };
            for (k, val) in obj {
                let Some(mref) = shape.get("members").and_then(|m| m.get(k)) else {
                    continue;
                };
                let Some(mshape) = model.resolve(mref) else {
                    continue;
                };
                let name = mref
                    .get("locationName")
                    .and_then(Value::as_str)
                    .unwrap_or(k);
                let p = if prefix.is_empty() {
                    name.to_string()
                } else {
                    format!("{prefix}.{name}")
                };
                query_serialize(model, out, val, mshape, &p);
            }
        }
        "list" => {
            let items = match v {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            if items.is_empty() {
                out.push((prefix.to_string(), String::new()));
                return;
            }
            let Some(mref) = shape.get("member") else {
                return;
            };
            let Some(mshape) = model.resolve(mref) else {
                return;
            };
            let list_prefix = if shape.get("flattened").and_then(Value::as_bool) == Some(true) {
                match mref.get("locationName").and_then(Value::as_str) {
                    Some(n) => {
                        let mut parts: Vec<&str> = prefix.split('.').collect();
                        parts.pop();
                        parts.push(n);
                        parts.join(".")
                    }
                    None => prefix.to_string(),
                }
            } else {
                format!(
                    "{prefix}.{}",
                    mref.get("locationName")
                        .and_then(Value::as_str)
                        .unwrap_or("member")
                )
            };
            for (i, item) in items.iter().enumerate() {
                query_serialize(
                    model,
                    out,
                    item,
                    mshape,
                    &format!("{list_prefix}.{}", i + 1),
                );
            }
        }
        "map" => {
            let Value::Object(obj) = v else { return };
            let full = if shape.get("flattened").and_then(Value::as_bool) == Some(true) {
                prefix.to_string()
            } else {
                format!("{prefix}.entry")
            };
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
            let vshape = shape.get("value").and_then(|r| model.resolve(r));
            for (i, (k, val)) in obj.iter().enumerate() {
                out.push((format!("{full}.{}.{kname}", i + 1), k.clone()));
                if let Some(vs) = vshape {
                    query_serialize(model, out, val, vs, &format!("{full}.{}.{vname}", i + 1));
                }
            }
        }
        "blob" => out.push((prefix.to_string(), blob_b64(v))),
        "timestamp" => out.push((
            prefix.to_string(),
            parse_timestamp(v)
                .map(iso8601)
                .unwrap_or_else(|| scalar_text(v)),
        )),
        "boolean" => out.push((
            prefix.to_string(),
            if v.as_bool().unwrap_or(false) {
                "true"
            } else {
                "false"
            }
            .into(),
        )),
        _ => out.push((prefix.to_string(), scalar_text(v))),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_encoding_uses_model_list_names() {
        let m = Model::load("redshift").unwrap();
        let p = json!({"ResourceName": "arn:x", "Tags": [{"Key": "k", "Value": "v w"}]});
        let r = encode(&m, "CreateTags", p.as_object().unwrap());
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "Action=CreateTags&Version=2012-12-01&ResourceName=arn%3Ax&Tags.Tag.1.Key=k&Tags.Tag.1.Value=v%20w"
        );
        let p = json!({"TagKeys": []});
        let r = encode(&m, "DescribeClusters", p.as_object().unwrap());
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "Action=DescribeClusters&Version=2012-12-01&TagKeys="
        );
    }

    #[test]
    fn xml_decoding_types_and_order() {
        let m = Model::load("redshift").unwrap();
        let body = br#"<DescribeClustersResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/"><DescribeClustersResult><Clusters><Cluster><NumberOfNodes>2</NumberOfNodes><ClusterIdentifier>c1</ClusterIdentifier><Encrypted>false</Encrypted><ClusterCreateTime>2019-12-26T19:15:48.359Z</ClusterCreateTime></Cluster></Clusters></DescribeClustersResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></DescribeClustersResponse>"#;
        let v = decode(&m, "DescribeClusters", body).unwrap();
        assert_eq!(
            crate::pyfmt::json_dumps(&v),
            crate::pyfmt::json_dumps(
                &json!({"Clusters": [{"ClusterIdentifier": "c1", "ClusterCreateTime": "2019-12-26T19:15:48.359Z", "NumberOfNodes": 2, "Encrypted": false}]})
            )
        );
        let e = decode_error(&m, 404, b"<ErrorResponse><Error><Type>Sender</Type><Code>ClusterNotFound</Code><Message>Cluster nope not found.</Message></Error></ErrorResponse>");
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ClusterNotFound", "Cluster nope not found.")
        );
    }

    #[test]
    fn json_decoding_drops_unknown_and_orders_by_model() {
        let m = Model::load("dynamodb").unwrap();
        let v = decode(
            &m,
            "ListTables",
            br#"{"LastEvaluatedTableName":"b","TableNames":["a","b"],"Junk":1}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"TableNames": ["a", "b"], "LastEvaluatedTableName": "b"})
        );
        let e = decode_error(&m, 400, br#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#);
        assert_eq!(e.code, "ResourceNotFoundException");
    }
}
