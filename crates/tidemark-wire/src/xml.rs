//! awsQuery response encoding: a JSON value shaped by the model rendered as AWS's XML
//! (`<OpResponse><OpResult>…</OpResult><ResponseMetadata>…`), and the `<ErrorResponse>` form.

use std::fmt::Write as _;

use quick_xml::escape::escape;
use serde_json::Value;
use tidemark_model::schema::{Operation, ServiceModel, ShapeId, ShapeKind};

/// The XML body of a successful response to `op`.
pub fn success(model: &ServiceModel, op: &Operation, output: &Value, request_id: &str) -> String {
    let ns = model.xml_namespace.unwrap_or_default();
    let mut out = String::with_capacity(512);
    let _ = write!(out, "<{}Response xmlns=\"{}\">", op.name, escape(ns));
    if let Some(shape) = op.output {
        let wrapper = op
            .result_wrapper
            .map_or_else(|| format!("{}Result", op.name), str::to_owned);
        out.push('<');
        out.push_str(&wrapper);
        out.push('>');
        if let Value::Object(_) = output {
            members(model, shape, output, &mut out);
        }
        out.push_str("</");
        out.push_str(&wrapper);
        out.push('>');
    }
    let _ = write!(
        out,
        "<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{}Response>",
        escape(request_id),
        op.name
    );
    out
}

/// The XML body of an error response.
pub fn error(
    model: &ServiceModel,
    sender: bool,
    code: &str,
    message: &str,
    request_id: &str,
) -> String {
    format!(
        "<ErrorResponse xmlns=\"{}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(model.xml_namespace.unwrap_or_default()),
        if sender { "Sender" } else { "Receiver" },
        escape(code),
        escape(message),
        escape(request_id)
    )
}

/// The children of a structure, in model order; absent members are omitted.
fn members(model: &ServiceModel, shape: ShapeId, value: &Value, out: &mut String) {
    for m in model.shape(shape).members() {
        if let Some(v) = value.get(m.name).filter(|v| !v.is_null()) {
            element(model, m.shape, m.location_name.unwrap_or(m.name), v, out);
        }
    }
}

fn element(model: &ServiceModel, shape: ShapeId, name: &str, value: &Value, out: &mut String) {
    let empty = match value {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    if empty {
        let _ = write!(out, "<{name}/>");
        return;
    }
    let _ = write!(out, "<{name}>");
    match &model.shape(shape).kind {
        ShapeKind::Structure { .. } => members(model, shape, value, out),
        ShapeKind::List {
            member,
            member_location_name,
            ..
        } => {
            let item = member_location_name.unwrap_or("member");
            for v in value.as_array().into_iter().flatten() {
                element(model, *member, item, v, out);
            }
        }
        ShapeKind::Map { value: vshape, .. } => {
            for (k, v) in value.as_object().into_iter().flatten() {
                let _ = write!(out, "<entry><key>{}</key>", escape(k.as_str()));
                element(model, *vshape, "value", v, out);
                out.push_str("</entry>");
            }
        }
        ShapeKind::Timestamp => out.push_str(&iso_millis(value)),
        ShapeKind::Double { .. } => out.push_str(&double(value)),
        _ => match value {
            Value::String(s) => out.push_str(&escape(s.as_str())),
            other => out.push_str(&other.to_string()),
        },
    }
    let _ = write!(out, "</{name}>");
}

/// Doubles always carry a decimal point, as AWS renders them (`41.0`).
fn double(value: &Value) -> String {
    match value.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.1}"),
        Some(f) => f.to_string(),
        None => value.to_string(),
    }
}

/// Epoch seconds rendered as ISO 8601 UTC with milliseconds: `2019-12-26T19:15:48.359Z`.
fn iso_millis(value: &Value) -> String {
    let ms = value
        .as_f64()
        .map(|s| (s * 1000.0).round() as i64)
        .unwrap_or_default();
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_structs_and_empties_render_as_aws_does() {
        let model = &tidemark_model::redshift::REDSHIFT;
        let op = model.operation("DescribeClusters").unwrap();
        let xml = success(model, op, &json!({"Clusters": []}), "rid");
        assert_eq!(
            xml,
            "<DescribeClustersResponse xmlns=\"http://redshift.amazonaws.com/doc/2012-12-01/\"><DescribeClustersResult><Clusters/></DescribeClustersResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DescribeClustersResponse>"
        );
        let op = model.operation("DescribeTags").unwrap();
        let xml = success(
            model,
            op,
            &json!({"TaggedResources": [{"Tag": {"Key": "a&b", "Value": "<v>"}, "ResourceName": "n"}]}),
            "r",
        );
        assert!(
            xml.contains("<TaggedResources><TaggedResource><Tag><Key>a&amp;b</Key><Value>&lt;v&gt;</Value></Tag><ResourceName>n</ResourceName></TaggedResource></TaggedResources>"),
            "{xml}"
        );
    }

    #[test]
    fn operations_without_output_have_no_result_element() {
        let model = &tidemark_model::redshift::REDSHIFT;
        let op = model.operation("CreateTags").unwrap();
        assert_eq!(
            success(model, op, &json!({}), "r"),
            "<CreateTagsResponse xmlns=\"http://redshift.amazonaws.com/doc/2012-12-01/\"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></CreateTagsResponse>"
        );
    }

    #[test]
    fn scalars_render_with_aws_formats() {
        assert_eq!(
            iso_millis(&json!(1577387748.359)),
            "2019-12-26T19:15:48.359Z"
        );
        assert_eq!(double(&json!(41)), "41.0");
        assert_eq!(double(&json!(25.5354)), "25.5354");
    }

    #[test]
    fn errors_carry_type_code_and_sibling_request_id() {
        let x = error(
            &tidemark_model::redshift::REDSHIFT,
            true,
            "ClusterNotFound",
            "Cluster a not found.",
            "id",
        );
        assert_eq!(
            x,
            "<ErrorResponse xmlns=\"http://redshift.amazonaws.com/doc/2012-12-01/\"><Error><Type>Sender</Type><Code>ClusterNotFound</Code><Message>Cluster a not found.</Message></Error><RequestId>id</RequestId></ErrorResponse>"
        );
    }
}
