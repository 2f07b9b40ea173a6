//! Emits `<svc>_api.rs`: the service trait (every method defaults to `NotImplemented`) and the
//! JSON dispatcher that decodes, validates, calls and encodes.

use std::fmt::Write as _;

use heck::ToSnakeCase;

use crate::gen_shapes::error_enum_name;
use crate::model::{Svc, field_ident, lit};

pub fn trait_name(svc: &Svc) -> &'static str {
    match svc.name.as_str() {
        "dynamodb" => "DynamoDbApi",
        "redshift_data" => "RedshiftDataApi",
        _ => "RedshiftApi",
    }
}

/// Operations whose trait also has a `<op>_reply` method that may answer with JSON text the
/// service wrote itself (a Scan or Query page copies stored item JSON verbatim), dispatched by
/// `dispatch_<svc>_reply`.
fn reply_ops(svc: &Svc) -> &'static [&'static str] {
    if svc.name == "dynamodb" {
        &["Query", "Scan"]
    } else {
        &[]
    }
}

pub fn generate(svc: &Svc) -> String {
    let mut o = String::new();
    let tn = trait_name(svc);
    let upper = svc.name.to_uppercase();
    let _ = writeln!(
        o,
        "//! The `{}` service trait and its dispatcher.\n",
        svc.name
    );
    let _ = writeln!(
        o,
        "use tidemark_core::RequestContext;\n\nuse super::{n}_errors::*;\nuse super::{n}_model::{upper};\nuse super::{n}_shapes::*;\nuse crate::dispatch::{{decode_input, encode_output{reply_use}}};\nuse crate::errors::{{CommonError, DispatchError, OpError}};\n",
        n = svc.name,
        reply_use = if reply_ops(svc).is_empty() {
            ""
        } else {
            ", encode_reply, Encoded, Reply"
        }
    );
    let _ = writeln!(
        o,
        "/// One method per operation; each defaults to `CommonError::NotImplemented`. Operations\n/// without input take no input argument; operations without output return `()`.\npub trait {tn}: Send + Sync {{"
    );
    for op in &svc.op_names {
        let m = field_ident(&op.to_snake_case());
        let input = svc
            .input(op)
            .map(|i| format!(", input: {}", svc.type_name(i)))
            .unwrap_or_default();
        let output = svc
            .output(op)
            .map_or("()".to_owned(), |s| svc.type_name(s).to_owned());
        let used = if svc.input(op).is_some() {
            "(ctx, input)"
        } else {
            "ctx"
        };
        let _ = writeln!(
            o,
            "    fn {m}(&self, ctx: &RequestContext{input}) -> Result<{output}, OpError<{e}>> {{\n        let _ = {used};\n        Err(OpError::Common(CommonError::NotImplemented({name})))\n    }}\n",
            e = error_enum_name(op),
            name = lit(op)
        );
        if reply_ops(svc).contains(&op.as_str()) {
            let _ = writeln!(
                o,
                "    /// Like [`Self::{m}`], but may answer with the JSON text of exactly what its output\n    /// would serialize to (see [`Reply`]). Defaults to the typed method.\n    fn {m}_reply(&self, ctx: &RequestContext{input}) -> Result<Reply<{output}>, OpError<{e}>> {{\n        self.{m}(ctx, input).map(Reply::Typed)\n    }}\n",
                e = error_enum_name(op),
            );
        }
    }
    let _ = writeln!(o, "}}\n");
    let _ = writeln!(
        o,
        "/// Runs `operation` with a JSON input (wire member names as keys; `null` = no body).\npub fn dispatch_{n}(api: &dyn {tn}, ctx: &RequestContext, operation: &str, input: serde_json::Value) -> Result<serde_json::Value, DispatchError> {{\n    prepare_{n}(operation, input)?(api, ctx)\n}}\n",
        n = svc.name
    );
    let _ = writeln!(
        o,
        "/// An operation whose input is decoded and validated, ready to run (see [`prepare_{n}`]).\npub type Prepared{tn} = Box<dyn FnOnce(&dyn {tn}, &RequestContext) -> Result<serde_json::Value, DispatchError> + Send>;\n\n/// The first half of [`dispatch_{n}`]: decodes and validates `operation`'s input (every\n/// input error is raised here), returning the call that runs it. Lets a caller decode on one\n/// thread and run on another.\npub fn prepare_{n}(operation: &str, input: serde_json::Value) -> Result<Prepared{tn}, DispatchError> {{\n    match operation {{",
        n = svc.name
    );
    for op in &svc.op_names {
        let m = field_ident(&op.to_snake_case());
        let (decode, call) = match svc.input(op) {
            Some(i) => (
                format!(
                    "let input: {} = decode_input(&{upper}, {}, input)?;",
                    svc.type_name(i),
                    svc.id(i)
                ),
                format!("api.{m}(ctx, input)?"),
            ),
            None => ("let _ = input;".to_owned(), format!("api.{m}(ctx)?")),
        };
        let body = if svc.output(op).is_some() {
            format!("let out = {call};\n                encode_output(&out)")
        } else {
            format!(
                "{call};\n                Ok(serde_json::Value::Object(serde_json::Map::new()))"
            )
        };
        let _ = writeln!(
            o,
            "        {} => {{\n            {decode}\n            Ok(Box::new(move |api, ctx| {{\n                {body}\n            }}))\n        }}",
            lit(op)
        );
    }
    let _ = writeln!(
        o,
        "        _ => Err(DispatchError::UnknownOperation(operation.to_owned())),\n    }}\n}}\n"
    );
    if !reply_ops(svc).is_empty() {
        let _ = writeln!(
            o,
            "/// Like [`dispatch_{n}`], but calls the `*_reply` method of the operations that have one, so\n/// their answer may be JSON text written by the service; every other operation's body is a\n/// JSON value.\npub fn dispatch_{n}_reply(api: &dyn {tn}, ctx: &RequestContext, operation: &str, input: serde_json::Value) -> Result<Encoded, DispatchError> {{\n    match operation {{",
            n = svc.name
        );
        for op in reply_ops(svc) {
            let m = field_ident(&op.to_snake_case());
            let i = svc.input(op).expect("reply operations take an input");
            let _ = writeln!(
                o,
                "        {} => {{\n            let input: {} = decode_input(&{upper}, {}, input)?;\n            encode_reply(api.{m}_reply(ctx, input)?)\n        }}",
                lit(op),
                svc.type_name(i),
                svc.id(i)
            );
        }
        let _ = writeln!(
            o,
            "        _ => dispatch_{n}(api, ctx, operation, input).map(Encoded::Value),\n    }}\n}}\n",
            n = svc.name
        );
    }
    let _ = writeln!(
        o,
        "/// Whether `api` implements `operation`: calls it with an all-default input, skipping\n/// validation, and checks the answer is not `NotImplemented`. For the compatibility table's\n/// test; the call may change state, so probe a throwaway service.\npub fn implements_{n}(api: &dyn {tn}, ctx: &RequestContext, operation: &str) -> bool {{\n    match operation {{",
        n = svc.name
    );
    for op in &svc.op_names {
        let m = field_ident(&op.to_snake_case());
        let args = if svc.input(op).is_some() {
            "ctx, Default::default()"
        } else {
            "ctx"
        };
        let _ = writeln!(
            o,
            "        {} => !matches!(api.{m}({args}), Err(OpError::Common(CommonError::NotImplemented(_)))),",
            lit(op)
        );
    }
    let _ = writeln!(o, "        _ => false,\n    }}\n}}");
    o
}
