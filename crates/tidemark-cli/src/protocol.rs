//! Request encoding, driven by the model: awsJson 1.0 bodies (DynamoDB) and awsQuery forms
//! (Redshift), a port of botocore `serialize.py` (`JSONSerializer`, `QuerySerializer`). The
//! tests also cover the decoding side in `response.rs`.

use base64::Engine;
use serde_json::{Map, Value};

use crate::model::{Model, shape_type};
use crate::params::BLOB_MARKER;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{decode, decode_error};
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
