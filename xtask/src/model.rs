//! The botocore JSON model as the generator sees it: shapes in name order (their index is the
//! runtime `ShapeId`), operations in name order, and the Rust names chosen for each.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToSnakeCase;
use serde_json::Value;

pub struct Svc {
    /// Module name: `dynamodb`, `redshift` or `redshift_data` (the model file stem with `_` for `-`).
    pub name: String,
    pub json: Value,
    /// Shape names in byte order; index = ShapeId.
    pub shape_names: Vec<String>,
    pub ids: BTreeMap<String, usize>,
    /// Operation names in byte order.
    pub op_names: Vec<String>,
    /// Rust type name per structure shape (differs only for prelude collisions).
    pub type_names: BTreeMap<String, String>,
    pub is_json: bool,
}

/// Names the generated code uses unqualified; a structure with one of these names gets a
/// `Shape` suffix so it cannot shadow them (glob imports of the module shadow the prelude).
const RESERVED: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "Default",
    "Clone",
    "Debug",
    "PartialEq",
    "Serialize",
    "Deserialize",
    "IndexMap",
    "Timestamp",
    "Blob",
    "Value",
    "ErrorInfo",
    "ModeledError",
    "OpError",
    "CommonError",
    "DispatchError",
    "RequestContext",
    "Self",
    "Send",
    "Sync",
    "From",
    "Into",
    "Iterator",
    "ToString",
    "Copy",
    "Eq",
    "Ord",
];

impl Svc {
    pub fn load(name: &str, text: &str) -> Result<Svc, String> {
        let json: Value = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        let shapes = json["shapes"].as_object().ok_or("model has no shapes")?;
        let shape_names: Vec<String> = shapes
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let ids = shape_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let ops = json["operations"]
            .as_object()
            .ok_or("model has no operations")?;
        let op_names: Vec<String> = ops
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut type_names = BTreeMap::new();
        for (n, s) in shapes {
            if s["type"] == "structure" {
                let t = if RESERVED.contains(&n.as_str()) {
                    format!("{n}Shape")
                } else {
                    n.clone()
                };
                type_names.insert(n.clone(), t);
            }
        }
        let is_json = json["metadata"]["protocol"] == "json";
        let svc = Svc {
            name: name.to_owned(),
            json,
            shape_names,
            ids,
            op_names,
            type_names,
            is_json,
        };
        svc.check_names()?;
        Ok(svc)
    }

    fn check_names(&self) -> Result<(), String> {
        let structs: BTreeSet<&String> = self.type_names.values().collect();
        for op in &self.op_names {
            let e = format!("{op}Error");
            if structs.contains(&e) {
                return Err(format!("error enum {e} collides with a structure shape"));
            }
        }
        Ok(())
    }

    pub fn shape(&self, name: &str) -> &Value {
        &self.json["shapes"][name]
    }

    pub fn op(&self, name: &str) -> &Value {
        &self.json["operations"][name]
    }

    pub fn id(&self, name: &str) -> usize {
        self.ids[name]
    }

    pub fn kind(&self, name: &str) -> &str {
        self.shape(name)["type"].as_str().unwrap_or("")
    }

    /// Structure shapes in id order.
    pub fn structures(&self) -> impl Iterator<Item = &String> {
        self.shape_names
            .iter()
            .filter(|n| self.kind(n) == "structure")
    }

    /// Members of a structure in model order: (wire name, member JSON).
    pub fn members(&self, shape: &str) -> Vec<(&String, &Value)> {
        self.shape(shape)["members"]
            .as_object()
            .map(|m| m.iter().collect())
            .unwrap_or_default()
    }

    pub fn required(&self, shape: &str) -> Vec<&str> {
        self.shape(shape)["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    pub fn input(&self, op: &str) -> Option<&str> {
        self.op(op)["input"]["shape"].as_str()
    }

    pub fn output(&self, op: &str) -> Option<&str> {
        self.op(op)["output"]["shape"].as_str()
    }

    pub fn errors(&self, op: &str) -> Vec<&str> {
        self.op(op)["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["shape"].as_str()).collect())
            .unwrap_or_default()
    }

    pub fn type_name(&self, structure: &str) -> &str {
        &self.type_names[structure]
    }

    /// The Rust type for a shape used as a member.
    pub fn rust_type(&self, shape: &str) -> String {
        let s = self.shape(shape);
        match self.kind(shape) {
            "structure" => self.type_name(shape).to_owned(),
            "list" => format!(
                "Vec<{}>",
                self.rust_type(s["member"]["shape"].as_str().unwrap_or(""))
            ),
            "map" => format!(
                "IndexMap<String, {}>",
                self.rust_type(s["value"]["shape"].as_str().unwrap_or(""))
            ),
            "string" => "String".into(),
            "integer" => "i32".into(),
            "long" => "i64".into(),
            "double" | "float" => "f64".into(),
            "boolean" => "bool".into(),
            "timestamp" => "crate::Timestamp".into(),
            "blob" => "crate::Blob".into(),
            other => panic!("unsupported shape type {other} for {shape}"),
        }
    }

    /// `(code, status, sender_fault)` for an exception shape.
    pub fn error_info(&self, shape: &str) -> (String, u16, bool) {
        let s = self.shape(shape);
        let fault = s["fault"].as_bool().unwrap_or(false);
        let default_status = if fault { 500 } else { 400 };
        let status = s["error"]["httpStatusCode"]
            .as_u64()
            .map_or(default_status, |v| v as u16);
        if self.is_json {
            (shape.to_owned(), status, !fault)
        } else {
            let code = s["error"]["code"].as_str().unwrap_or(shape).to_owned();
            let sender = s["error"]["senderFault"].as_bool().unwrap_or(!fault);
            (code, status, sender)
        }
    }

    /// The member holding an exception's message (`message` or `Message`), if the model has one.
    pub fn message_member(&self, shape: &str) -> Option<String> {
        self.members(shape)
            .into_iter()
            .map(|(n, _)| n.clone())
            .find(|n| n == "message" || n == "Message")
    }
}

pub const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// snake_case Rust identifier for a wire name (raw identifier for keywords).
pub fn field_ident(wire: &str) -> String {
    let s = wire.to_snake_case();
    match s.as_str() {
        "self" | "super" | "crate" => format!("{s}_"),
        _ if KEYWORDS.contains(&s.as_str()) => format!("r#{s}"),
        _ => s,
    }
}

/// Rust string literal for arbitrary text.
pub fn lit(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_snake_case_and_keyword_safe() {
        assert_eq!(field_ident("SSESpecification"), "sse_specification");
        assert_eq!(field_ident("DBName"), "db_name");
        assert_eq!(field_ident("Type"), "r#type");
        assert_eq!(field_ident("Self"), "self_");
    }

    #[test]
    fn query_errors_use_the_model_code_and_status() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../models/redshift.json"
        ))
        .unwrap();
        let svc = Svc::load("redshift", &text).unwrap();
        assert_eq!(
            svc.error_info("ClusterNotFoundFault"),
            ("ClusterNotFound".to_owned(), 404, true)
        );
        assert_eq!(svc.error_info("InvalidRestoreFault").1, 406);
    }
}
