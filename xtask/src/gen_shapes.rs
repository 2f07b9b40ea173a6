//! Emits `<svc>_shapes.rs` (one serde struct per structure shape) and `<svc>_errors.rs` (one
//! error enum per operation holding exactly the model's exceptions, in model order).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use heck::ToSnakeCase;

use crate::model::{Svc, field_ident, lit};

/// Exception shapes without a message member get this synthetic one, so a handler's message
/// reaches the wire (`<Message>` in awsQuery error XML). All Redshift exceptions are empty
/// structures in the model.
pub const SYNTHETIC_MESSAGE: &str = "Message";

/// Structures reachable from `from` through structure-typed members only (no Vec/IndexMap in
/// between): a member pointing back into such a cycle must be boxed to give the type a size.
fn direct_struct_reach(svc: &Svc, from: &str, target: &str, seen: &mut BTreeSet<String>) -> bool {
    if !seen.insert(from.to_owned()) {
        return false;
    }
    for (_, m) in svc.members(from) {
        let t = m["shape"].as_str().unwrap_or("");
        if svc.kind(t) == "structure" && (t == target || direct_struct_reach(svc, t, target, seen))
        {
            return true;
        }
    }
    false
}

/// Shapes with a hand-written type instead of a generated struct: DynamoDB's `AttributeValue`
/// is a compact enum (`tidemark-model/src/attribute_value.rs`) because a request's decode
/// memory is mostly attribute values and the struct of ten `Option`s cost 232 bytes each.
fn hand_written(svc: &Svc, shape: &str) -> Option<&'static str> {
    (svc.name == "dynamodb" && shape == "AttributeValue")
        .then_some("crate::attribute_value::AttributeValue")
}

pub fn generate_shapes(svc: &Svc) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "//! Typed input, output and exception structures for `{}`.\n",
        svc.name
    );
    // Only models with map shapes use IndexMap (redshift-data has none).
    let has_maps = svc.json["shapes"]
        .as_object()
        .is_some_and(|m| m.values().any(|s| s["type"] == "map"));
    let _ = writeln!(
        o,
        "{}use serde::{{Deserialize, Serialize}};\n",
        if has_maps {
            "use indexmap::IndexMap;\n"
        } else {
            ""
        }
    );
    for name in svc.structures() {
        if let Some(path) = hand_written(svc, name) {
            let _ = writeln!(o, "pub use {path};\n");
            continue;
        }
        let _ = writeln!(
            o,
            "#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]\npub struct {} {{",
            svc.type_name(name)
        );
        let mut used = BTreeSet::new();
        let mut members: Vec<(String, String)> = svc
            .members(name)
            .into_iter()
            .map(|(n, m)| (n.clone(), m["shape"].as_str().unwrap_or("").to_owned()))
            .collect();
        let exception = svc.shape(name)["exception"].as_bool().unwrap_or(false);
        if exception && svc.message_member(name).is_none() {
            members.push((SYNTHETIC_MESSAGE.to_owned(), String::new()));
        }
        for (wire, target) in members {
            let mut ident = field_ident(&wire);
            while !used.insert(ident.clone()) {
                ident.push('_');
            }
            // The synthetic message member has no shape of its own; it is text.
            let mut ty = if svc.ids.contains_key(&target) {
                svc.rust_type(&target)
            } else {
                "String".to_owned()
            };
            if svc.kind(&target) == "structure"
                && (target == *name
                    || direct_struct_reach(svc, &target, name, &mut BTreeSet::new()))
            {
                ty = format!("Box<{ty}>");
            }
            let _ = writeln!(
                o,
                "    #[serde(rename = {}, skip_serializing_if = \"Option::is_none\", default)]\n    pub {ident}: Option<{ty}>,",
                lit(&wire)
            );
        }
        let _ = writeln!(o, "}}\n");
    }
    o
}

/// Rust field name of the member carrying an exception's message.
pub fn message_field(svc: &Svc, shape: &str) -> String {
    field_ident(
        &svc.message_member(shape)
            .unwrap_or_else(|| SYNTHETIC_MESSAGE.to_owned()),
    )
}

pub fn error_enum_name(op: &str) -> String {
    format!("{op}Error")
}

pub fn generate_errors(svc: &Svc) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "//! One error enum per `{}` operation, holding exactly the model's exceptions in model order.\n//! Operations without modeled errors get an uninhabited enum.\n",
        svc.name
    );
    let _ = writeln!(
        o,
        "use super::{}_shapes::*;\nuse crate::errors::{{ModeledError, OpError}};\nuse crate::schema::ErrorInfo;\n",
        svc.name
    );
    // Per exception shape: its wire identity, once.
    let exceptions: BTreeSet<&str> = svc.op_names.iter().flat_map(|op| svc.errors(op)).collect();
    for e in &exceptions {
        let (code, status, sender) = svc.error_info(e);
        let _ = writeln!(
            o,
            "impl {t} {{\n    pub const SHAPE: &'static str = {name};\n    pub const INFO: ErrorInfo = ErrorInfo {{ code: {code}, http_status: {status}, sender_fault: {sender} }};\n}}\n",
            t = svc.type_name(e),
            name = lit(e),
            code = lit(&code)
        );
    }
    for op in &svc.op_names {
        let en = error_enum_name(op);
        let errors = svc.errors(op);
        let _ = writeln!(o, "#[derive(Debug, Clone, PartialEq)]\npub enum {en} {{");
        for e in &errors {
            let _ = writeln!(o, "    {e}({}),", svc.type_name(e));
        }
        let _ = writeln!(o, "}}\n");
        if !errors.is_empty() {
            let _ = writeln!(o, "impl {en} {{");
            for e in &errors {
                let _ = writeln!(
                    o,
                    "    pub fn {f}(message: impl Into<String>) -> Self {{\n        Self::{e}({t} {{ {m}: Some(message.into()){rest} }})\n    }}",
                    f = field_ident(&e.to_snake_case()),
                    t = svc.type_name(e),
                    m = message_field(svc, e),
                    // Exceptions whose only member is the message need no struct update.
                    rest = if svc.members(e).len() > 1 {
                        ", ..Default::default()"
                    } else {
                        ""
                    }
                );
            }
            let _ = writeln!(o, "}}\n");
        }
        let arms = |body: &dyn Fn(&str) -> String| -> String {
            if errors.is_empty() {
                "match *self {}".to_owned()
            } else {
                let a: Vec<String> = errors.iter().map(|e| body(e)).collect();
                format!("match self {{ {} }}", a.join(" "))
            }
        };
        let _ = writeln!(
            o,
            "impl ModeledError for {en} {{\n    fn shape_name(&self) -> &'static str {{ {} }}\n    fn info(&self) -> ErrorInfo {{ {} }}\n    fn body(&self) -> serde_json::Value {{ {} }}\n}}\n",
            arms(&|e| format!("Self::{e}(_) => {}::SHAPE,", svc.type_name(e))),
            arms(&|e| format!("Self::{e}(_) => {}::INFO,", svc.type_name(e))),
            arms(&|e| format!("Self::{e}(x) => crate::errors::to_body(x),")),
        );
        let _ = writeln!(
            o,
            "impl From<{en}> for OpError<{en}> {{\n    fn from(e: {en}) -> Self {{\n        OpError::Modeled(e)\n    }}\n}}\n"
        );
    }
    o
}
