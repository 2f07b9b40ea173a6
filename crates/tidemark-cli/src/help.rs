//! Help text generated from the model, laid out like the aws CLI v1 reference pages (the seed
//! pages): synopsis, options with their aws types, global options, and the output structure.
//! The models have their documentation stripped, so descriptions are not available.

use serde_json::Value;

use crate::args::{Arg, ArgKind};
use crate::globals::GLOBAL_OPTIONS;
use crate::model::{Model, members, shape_type, xform_name};

/// `aws <service> help`.
pub fn service_help(model: &Model) -> String {
    let mut out = format!("{}\n\nAVAILABLE COMMANDS\n\n", model.service);
    let mut names: Vec<String> = model
        .operation_names()
        .map(|n| xform_name(n, '-'))
        .collect();
    names.sort();
    if model.waiters().is_some_and(|w| !w.is_empty()) {
        names.push("wait".into());
    }
    for n in names {
        out.push_str(&format!("  o {n}\n\n"));
    }
    out
}

fn type_name(model: &Model, shape_name: &str) -> String {
    model
        .shape(shape_name)
        .map(|s| shape_type(s).to_string())
        .unwrap_or_else(|| "string".into())
}

/// `aws <service> <operation> help`.
pub fn operation_help(model: &Model, op_name: &str, table: &[Arg]) -> String {
    let mut out = format!(
        "{}\n\n{}\n\nSYNOPSIS\n\n  {}\n",
        model.service,
        xform_name(op_name, '-'),
        xform_name(op_name, '-')
    );
    for a in table {
        let line = match &a.kind {
            ArgKind::Bool { value: true, .. } => {
                let neg = format!("--no-{}", a.name);
                if a.required {
                    format!("--{} | {neg}", a.name)
                } else {
                    format!("[--{} | {neg}]", a.name)
                }
            }
            ArgKind::Bool { value: false, .. } => continue,
            ArgKind::Member { list: true, .. } => format!("--{} <value> [<value>...]", a.name),
            _ => format!("--{} <value>", a.name),
        };
        if a.required || matches!(a.kind, ArgKind::Bool { .. }) {
            out.push_str(&format!("{line}\n"));
        } else {
            out.push_str(&format!("[{line}]\n"));
        }
    }
    for g in GLOBAL_OPTIONS {
        let takes = !matches!(
            *g,
            "--debug" | "--no-verify-ssl" | "--no-paginate" | "--no-sign-request"
        );
        out.push_str(&if takes {
            format!("[{g} <value>]\n")
        } else {
            format!("[{g}]\n")
        });
    }
    out.push_str("\nOPTIONS\n\n");
    for a in table {
        let t = match &a.kind {
            ArgKind::Member { shape, .. } => type_name(model, shape),
            ArgKind::Bool { .. } => "boolean".into(),
            ArgKind::PageSize | ArgKind::MaxItems => "integer".into(),
            _ => "string".into(),
        };
        out.push_str(&format!("--{} ({t})\n\n", a.name));
    }
    if let Some(o) = model.operation(op_name).and_then(|o| model.output_shape(o)) {
        out.push_str("OUTPUT\n\n");
        let mut stack = Vec::new();
        describe(model, o, 0, &mut out, &mut stack);
    }
    out
}

fn describe(model: &Model, shape: &Value, depth: usize, out: &mut String, stack: &mut Vec<String>) {
    for (name, mref) in members(shape) {
        let sname = mref
            .get("shape")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Some(ms) = model.shape(&sname) else {
            continue;
        };
        out.push_str(&format!(
            "{}{name} -> ({})\n\n",
            "  ".repeat(depth),
            shape_type(ms)
        ));
        if stack.contains(&sname) || depth > 6 {
            continue;
        }
        stack.push(sname);
        match shape_type(ms) {
            "structure" => describe(model, ms, depth + 1, out, stack),
            "list" => {
                if let Some(inner) = ms.get("member").and_then(|r| model.resolve(r))
                    && shape_type(inner) == "structure"
                {
                    describe(model, inner, depth + 1, out, stack);
                }
            }
            _ => {}
        }
        stack.pop();
    }
}
