//! Runtime access to the botocore service models (`models/*.json`, with `x-paginators` and
//! `x-waiters` merged in), parsed lazily for the one service a command needs.
//!
//! The static tables of `tidemark-model` were not yet generated when this crate was written;
//! parsing the embedded JSON costs ~1 ms in release, well inside the 10 ms budget.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::CliError;

/// Every service the client serves: its command name (botocore's service name) and its
/// embedded model. Adding a service to the client is adding its line here; arguments,
/// protocol, signing, output, paginators and waiters all come from the model.
const MODELS: &[(&str, &str)] = &[
    ("dynamodb", include_str!("../../../models/dynamodb.json")),
    ("redshift", include_str!("../../../models/redshift.json")),
    (
        "redshift-data",
        include_str!("../../../models/redshift-data.json"),
    ),
];

/// The model file split at the top level; bodies stay unparsed (borrowed from the embedded
/// text) until a command needs them, which keeps start-up under a millisecond.
#[derive(serde::Deserialize)]
struct RawModel {
    metadata: Map<String, Value>,
    #[serde(borrow)]
    operations: BTreeMap<&'static str, &'static RawValue>,
    #[serde(borrow)]
    shapes: HashMap<&'static str, &'static RawValue>,
    #[serde(rename = "x-paginators", borrow, default)]
    paginators: Option<&'static RawValue>,
    #[serde(rename = "x-waiters", borrow, default)]
    waiters: Option<&'static RawValue>,
}

/// One service model, parsed lazily.
pub struct Model {
    pub service: String,
    raw: RawModel,
    /// Parsed shapes and operations. Values are leaked: a CLI process parses each at most
    /// once and they live until exit, which lets `shape()` hand out plain references.
    cache: RefCell<HashMap<(u8, &'static str), &'static Value>>,
    paginators: std::sync::OnceLock<Value>,
    waiters: std::sync::OnceLock<Value>,
}

/// botocore's `paginators-1.sdk-extras.json` (merged into the paginator model by botocore's
/// loader; the `x-paginators` of `models/*.json` come from `paginators-1.json` alone). Only
/// redshift-data has one: its result pages keep `ColumnMetadata` and `TotalNumRows` in the
/// full result. Remove once `scripts/refresh-models.sh` merges the extras itself.
const PAGINATOR_EXTRAS: &[(&str, &str, &[&str])] = &[
    (
        "redshift-data",
        "GetStatementResult",
        &["ColumnMetadata", "TotalNumRows"],
    ),
    (
        "redshift-data",
        "GetStatementResultV2",
        &["ColumnMetadata", "TotalNumRows", "ResultFormat"],
    ),
    ("redshift-data", "DescribeTable", &["TableName"]),
];

fn merge_sdk_extras(service: &str, paginators: &mut Value) {
    for (svc, op, keys) in PAGINATOR_EXTRAS {
        if *svc != service {
            continue;
        }
        if let Some(Value::Object(p)) = paginators.get_mut(*op) {
            p.entry("non_aggregate_keys")
                .or_insert_with(|| Value::from(keys.to_vec()));
        }
    }
}

/// Services this CLI knows, in `aws` order (the names of [`MODELS`]).
pub const SERVICES: &[&str] = &["dynamodb", "redshift", "redshift-data"];

impl Model {
    /// Loads the embedded model of `service` (one of [`SERVICES`]).
    pub fn load(service: &str) -> Result<Model, CliError> {
        let Some(&(_, text)) = MODELS.iter().find(|(name, _)| *name == service) else {
            return Err(CliError::Internal(format!(
                "no model for service {service}"
            )));
        };
        let raw: RawModel = serde_json::from_str(text)
            .map_err(|e| CliError::Internal(format!("embedded model is not valid: {e}")))?;
        Ok(Model {
            service: service.to_string(),
            raw,
            cache: RefCell::new(HashMap::new()),
            paginators: std::sync::OnceLock::new(),
            waiters: std::sync::OnceLock::new(),
        })
    }

    fn parsed(&self, kind: u8, name: &str) -> Option<&Value> {
        let (key, raw) = match kind {
            0 => self.raw.operations.get_key_value(name)?,
            _ => self.raw.shapes.get_key_value(name)?,
        };
        if let Some(v) = self.cache.borrow().get(&(kind, *key)) {
            return Some(*v);
        }
        let v: Value = serde_json::from_str(raw.get()).ok()?;
        let leaked: &'static Value = Box::leak(Box::new(v));
        self.cache.borrow_mut().insert((kind, *key), leaked);
        Some(leaked)
    }

    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.raw.metadata.get(key)?.as_str()
    }

    pub fn is_json_protocol(&self) -> bool {
        self.metadata("protocol") == Some("json")
    }

    /// Operation names in model (alphabetical) order.
    pub fn operation_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.raw.operations.keys().copied()
    }

    pub fn operation(&self, name: &str) -> Option<&Value> {
        self.parsed(0, name)
    }

    /// Finds the operation whose kebab-case CLI name is `cli_name`.
    pub fn operation_by_cli_name(&self, cli_name: &str) -> Option<(String, &Value)> {
        let name = self
            .operation_names()
            .find(|n| xform_name(n, '-') == cli_name)?;
        Some((name.to_string(), self.operation(name)?))
    }

    pub fn shape(&self, name: &str) -> Option<&Value> {
        self.parsed(1, name)
    }

    /// The shape a `{"shape": "X"}` reference points at.
    pub fn resolve<'a>(&'a self, reference: &Value) -> Option<&'a Value> {
        self.shape(reference.get("shape")?.as_str()?)
    }

    pub fn paginator(&self, op: &str) -> Option<&Value> {
        let all = self.paginators.get_or_init(|| {
            let mut all = self
                .raw
                .paginators
                .and_then(|r| serde_json::from_str(r.get()).ok())
                .unwrap_or(Value::Null);
            merge_sdk_extras(&self.service, &mut all);
            all
        });
        all.get(op)
    }

    pub fn waiters(&self) -> Option<&Map<String, Value>> {
        let all = self.waiters.get_or_init(|| {
            self.raw
                .waiters
                .and_then(|r| serde_json::from_str(r.get()).ok())
                .unwrap_or(Value::Null)
        });
        all.as_object()
    }

    /// Input shape of an operation (`None` for operations without input).
    pub fn input_shape(&self, op: &Value) -> Option<&Value> {
        self.resolve(op.get("input")?)
    }

    pub fn output_shape(&self, op: &Value) -> Option<&Value> {
        self.resolve(op.get("output")?)
    }
}

/// Type name of a shape (`structure`, `list`, `string`, ...).
pub fn shape_type(shape: &Value) -> &str {
    shape
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string")
}

/// Members of a structure shape in model order.
pub fn members(shape: &Value) -> impl Iterator<Item = (&String, &Value)> {
    shape
        .get("members")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.iter())
}

pub fn required(shape: &Value) -> Vec<&str> {
    shape
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Port of `botocore.utils.xform_name`: `ListBackups` -> `list-backups`, `TableARNs` -> `table-arns`.
pub fn xform_name(name: &str, sep: char) -> String {
    if name.contains(sep) {
        return name.to_string();
    }
    let mut chars: Vec<char> = name.chars().collect();
    // _special_case_transform = '[A-Z]{2,}s$': "FooARNs" -> "Foo" + sep + "arns".
    let n = chars.len();
    if n >= 3 && chars[n - 1] == 's' {
        let mut k = n - 1;
        while k > 0 && chars[k - 1].is_ascii_uppercase() {
            k -= 1;
        }
        if n - 1 - k >= 2 {
            let tail: String = chars[k..].iter().collect::<String>().to_lowercase();
            let mut s: Vec<char> = chars[..k].to_vec();
            s.push(sep);
            s.extend(tail.chars());
            chars = s;
        }
    }
    // _first_cap_regex '(.)([A-Z][a-z]+)': a separator before an upper letter followed by lower.
    let mut s1: Vec<char> = Vec::with_capacity(chars.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if i > 0
            && c.is_ascii_uppercase()
            && chars.get(i + 1).is_some_and(|d| d.is_ascii_lowercase())
        {
            s1.push(sep);
        }
        s1.push(c);
    }
    // _end_cap_regex '([a-z0-9])([A-Z])'.
    let mut out = String::with_capacity(s1.len() + 8);
    for (i, &c) in s1.iter().enumerate() {
        if i > 0
            && c.is_ascii_uppercase()
            && (s1[i - 1].is_ascii_lowercase() || s1[i - 1].is_ascii_digit())
        {
            out.push(sep);
        }
        out.push(c);
    }
    out.to_lowercase()
}

#[cfg(test)]
mod tests {
    #[test]
    fn redshift_data_results_keep_their_metadata() {
        let m = super::Model::load("redshift-data").expect("model");
        let p = m.paginator("GetStatementResult").expect("paginator");
        assert_eq!(
            p["non_aggregate_keys"],
            serde_json::json!(["ColumnMetadata", "TotalNumRows"])
        );
    }

    #[test]
    fn services_and_models_agree() {
        let names: Vec<&str> = super::MODELS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, super::SERVICES);
        for s in super::SERVICES {
            assert!(super::Model::load(s).is_ok(), "{s}");
        }
    }

    use super::*;

    #[test]
    fn xform_matches_botocore() {
        assert_eq!(xform_name("ListBackups", '-'), "list-backups");
        assert_eq!(xform_name("TableName", '-'), "table-name");
        assert_eq!(xform_name("SSESpecification", '-'), "sse-specification");
        assert_eq!(
            xform_name("ExclusiveStartTableName", '-'),
            "exclusive-start-table-name"
        );
        assert_eq!(
            xform_name("DescribeHsmClientCertificates", '-'),
            "describe-hsm-client-certificates"
        );
        assert_eq!(
            xform_name("VpcSecurityGroupIds", '-'),
            "vpc-security-group-ids"
        );
        assert_eq!(xform_name("TableARNs", '-'), "table-arns");
        assert_eq!(xform_name("DBName", '-'), "db-name");
    }

    #[test]
    fn models_load() {
        let m = Model::load("dynamodb").expect("dynamodb model");
        assert!(m.is_json_protocol());
        assert!(m.operation("CreateBackup").is_some());
        assert!(m.operation_by_cli_name("create-backup").is_some());
        let r = Model::load("redshift").expect("redshift model");
        assert!(!r.is_json_protocol());
        assert!(r.paginator("DescribeClusters").is_some());
    }
}
