//! awsQuery request decoding: flat `Name.member.1.Key=v` pairs to a JSON value shaped by the
//! model, with scalars typed (integers, booleans, timestamps as epoch seconds) so the same
//! validation and dispatch path serves both protocols.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};
use tidemark_model::schema::{ServiceModel, ShapeId, ShapeKind};

/// A parameter that could not be read as its model type. Rendered as `InvalidParameterValue`.
#[derive(Debug, PartialEq, Eq)]
pub struct QueryError(pub String);

/// The decoded pairs of one request, keyed by their full dotted name.
pub struct QueryParams {
    pairs: BTreeMap<String, String>,
}

impl QueryParams {
    /// Parses an `application/x-www-form-urlencoded` body or a raw query string. A name
    /// that repeats keeps its last value.
    pub fn parse(raw: &[u8]) -> Self {
        let pairs = form_urlencoded::parse(raw)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.get(name).map(String::as_str)
    }

    /// Decodes the structure `shape` from the parameters at the top level.
    pub fn decode(&self, model: &ServiceModel, shape: ShapeId) -> Result<Value, QueryError> {
        Ok(self
            .decode_shape(model, shape, "")?
            .unwrap_or_else(|| Value::Object(Map::new())))
    }

    /// True when some parameter is `prefix` itself or lies below it.
    fn has_prefix(&self, prefix: &str) -> bool {
        let dotted = format!("{prefix}.");
        self.pairs
            .range(prefix.to_owned()..)
            .next()
            .is_some_and(|(k, _)| k == prefix || k.starts_with(&dotted))
    }

    /// Indexes `i` for which some key starts with `<prefix>.<i>`, ascending (gaps tolerated).
    fn indexes(&self, prefix: &str) -> Vec<u64> {
        let dotted = format!("{prefix}.");
        let mut out: Vec<u64> = self
            .pairs
            .range(dotted.clone()..)
            .take_while(|(k, _)| k.starts_with(&dotted))
            .filter_map(|(k, _)| k[dotted.len()..].split('.').next()?.parse().ok())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    fn decode_shape(
        &self,
        model: &ServiceModel,
        shape: ShapeId,
        prefix: &str,
    ) -> Result<Option<Value>, QueryError> {
        let join = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            }
        };
        match &model.shape(shape).kind {
            ShapeKind::Structure { members, .. } => {
                let mut obj = Map::new();
                for m in *members {
                    let key = join(m.location_name.unwrap_or(m.name));
                    if let Some(v) = self.decode_shape(model, m.shape, &key)? {
                        obj.insert(m.name.to_owned(), v);
                    }
                }
                if obj.is_empty() && !prefix.is_empty() && !self.has_prefix(prefix) {
                    return Ok(None);
                }
                Ok(Some(Value::Object(obj)))
            }
            ShapeKind::List {
                member,
                member_location_name,
                ..
            } => {
                if self.get(prefix) == Some("") {
                    return Ok(Some(Value::Array(Vec::new())));
                }
                let item_name = member_location_name.unwrap_or("member");
                let mut base = join(item_name);
                let mut idx = self.indexes(&base);
                if idx.is_empty() && item_name != "member" {
                    // Lenient: some clients send `.member.N` whatever the model says.
                    base = join("member");
                    idx = self.indexes(&base);
                }
                if idx.is_empty() {
                    return Ok(None);
                }
                let mut items = Vec::with_capacity(idx.len());
                for i in idx {
                    if let Some(v) = self.decode_shape(model, *member, &format!("{base}.{i}"))? {
                        items.push(v);
                    }
                }
                Ok(Some(Value::Array(items)))
            }
            ShapeKind::Map { value, .. } => {
                let base = join("entry");
                let idx = self.indexes(&base);
                if idx.is_empty() {
                    return Ok(None);
                }
                let mut obj = Map::new();
                for i in idx {
                    let entry = format!("{base}.{i}");
                    let Some(k) = self.get(&format!("{entry}.key")) else {
                        continue;
                    };
                    if let Some(v) = self.decode_shape(model, *value, &format!("{entry}.value"))? {
                        obj.insert(k.to_owned(), v);
                    }
                }
                Ok(Some(Value::Object(obj)))
            }
            scalar => match self.get(prefix) {
                None => Ok(None),
                Some(raw) => scalar_value(scalar, raw, prefix).map(Some),
            },
        }
    }
}

fn invalid(raw: &str, name: &str, what: &str) -> QueryError {
    QueryError(format!(
        "Invalid value '{raw}' for parameter {name}: expected {what}."
    ))
}

fn scalar_value(kind: &ShapeKind, raw: &str, name: &str) -> Result<Value, QueryError> {
    Ok(match kind {
        ShapeKind::String { .. } => Value::String(raw.to_owned()),
        ShapeKind::Integer { .. } => {
            let n: i32 = raw
                .trim()
                .parse()
                .map_err(|_| invalid(raw, name, "an integer"))?;
            Value::Number(n.into())
        }
        ShapeKind::Long { .. } => {
            let n: i64 = raw
                .trim()
                .parse()
                .map_err(|_| invalid(raw, name, "a long"))?;
            Value::Number(n.into())
        }
        ShapeKind::Double { .. } => {
            let f: f64 = raw
                .trim()
                .parse()
                .map_err(|_| invalid(raw, name, "a number"))?;
            Number::from_f64(f)
                .map(Value::Number)
                .ok_or_else(|| invalid(raw, name, "a finite number"))?
        }
        ShapeKind::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(invalid(raw, name, "true or false")),
        },
        ShapeKind::Timestamp => {
            let secs =
                parse_timestamp(raw).ok_or_else(|| invalid(raw, name, "an ISO 8601 timestamp"))?;
            Number::from_f64(secs)
                .map(Value::Number)
                .ok_or_else(|| invalid(raw, name, "a timestamp"))?
        }
        ShapeKind::Blob { .. } => Value::String(raw.to_owned()),
        ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. } => {
            return Err(invalid(raw, name, "a structured value"));
        }
    })
}

/// RFC 3339 with or without fraction, `Z` or an offset; a bare date; or epoch seconds.
fn parse_timestamp(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond() as f64 / 1000.0);
    }
    if let Ok(dt) = raw.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_millisecond() as f64 / 1000.0);
    }
    if let Ok(d) = raw.parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_millisecond() as f64 / 1000.0);
    }
    raw.parse::<f64>().ok().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_model::schema::ServiceModel;

    fn redshift() -> &'static ServiceModel {
        &tidemark_model::redshift::REDSHIFT
    }

    fn decode(op: &str, body: &str) -> Result<Value, QueryError> {
        let model = redshift();
        let input = model
            .operation(op)
            .and_then(|o| o.input)
            .expect("operation has input");
        QueryParams::parse(body.as_bytes()).decode(model, input)
    }

    #[test]
    fn lists_use_the_model_member_names() {
        // Reference §1.3: Tags.Tag.N.Key, TagKeys.TagKey.N.
        let v = decode(
            "CreateTags",
            "Action=CreateTags&ResourceName=arn&Tags.Tag.1.Key=k1&Tags.Tag.1.Value=v1&Tags.Tag.2.Key=k2",
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"ResourceName": "arn", "Tags": [{"Key": "k1", "Value": "v1"}, {"Key": "k2"}]})
        );
    }

    #[test]
    fn empty_list_is_the_bare_prefix() {
        let v = decode("DescribeTags", "TagKeys=&ResourceName=x").unwrap();
        assert_eq!(v, serde_json::json!({"ResourceName": "x", "TagKeys": []}));
    }

    #[test]
    fn member_fallback_and_gaps_are_tolerated() {
        let v = decode("DescribeTags", "TagKeys.member.3=c&TagKeys.member.1=a").unwrap();
        assert_eq!(v, serde_json::json!({"TagKeys": ["a", "c"]}));
    }

    #[test]
    fn scalars_are_typed_and_bad_ones_named() {
        let v = decode(
            "CopyClusterSnapshot",
            "SourceSnapshotIdentifier=rs%3Ac-2024&TargetSnapshotIdentifier=t&ManualSnapshotRetentionPeriod=7",
        )
        .unwrap();
        assert_eq!(v["ManualSnapshotRetentionPeriod"], serde_json::json!(7));
        assert_eq!(
            v["SourceSnapshotIdentifier"],
            serde_json::json!("rs:c-2024")
        );
        let err = decode("DescribeClusters", "MaxRecords=abc").unwrap_err();
        assert!(err.0.contains("MaxRecords"), "{}", err.0);
        let v = decode(
            "DescribeClusterSnapshots",
            "StartTime=2024-01-02T03%3A04%3A05.123000Z",
        )
        .unwrap();
        assert_eq!(v["StartTime"], serde_json::json!(1704164645.123));
    }

    /// Bounded work (docs/reliability.md): indexes are never used as lengths, so a huge one
    /// allocates one element, and one that is not a u64 is ignored like any unknown name.
    #[test]
    fn huge_indexes_allocate_nothing() {
        let v = decode("DescribeTags", "TagKeys.member.999999999999=x").unwrap();
        assert_eq!(v, serde_json::json!({"TagKeys": ["x"]}));
        let v = decode(
            "DescribeTags",
            "TagKeys.member.99999999999999999999999999=x&ResourceName=r",
        )
        .unwrap();
        assert_eq!(v, serde_json::json!({"ResourceName": "r"}));
    }

    /// Decoding walks the model (no Redshift input shape nests deeper than 7), so deep or
    /// repeated names cost one map lookup each: 200,000 members, 200,000 repeats of one name
    /// and 10,000 names of 1,000 segments decode in linear time.
    #[test]
    fn many_deep_and_repeated_names_decode_in_linear_time() {
        let mut body = String::from("Action=DescribeTags");
        for i in 1..=200_000 {
            body.push_str(&format!("&TagKeys.member.{i}=k{i}"));
        }
        for i in 0..200_000 {
            body.push_str(&format!("&ResourceName=r{i}"));
        }
        let deep = "a.".repeat(1_000);
        for i in 0..10_000 {
            body.push_str(&format!("&TagKeys.member.1.{deep}{i}=x"));
        }
        let started = std::time::Instant::now();
        let v = decode("DescribeTags", &body).unwrap();
        // Generous for a debug build on two busy cores; this takes well under a second.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(v["TagKeys"].as_array().map(Vec::len), Some(200_000));
        assert_eq!(v["ResourceName"], serde_json::json!("r199999"));
    }
}
