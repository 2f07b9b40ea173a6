//! Emits `<svc>_model.rs`: the static `ServiceModel` table (shapes, operations, paginators,
//! waiters) read by the wire codecs, the validator and the CLI.

use std::fmt::Write as _;

use serde_json::Value;

use crate::model::{Svc, lit};

fn opt_str(v: &Value) -> String {
    match v.as_str() {
        Some(s) => format!("Some({})", lit(s)),
        None => "None".into(),
    }
}

fn opt_i64(v: &Value) -> String {
    match v.as_i64() {
        Some(n) => format!("Some({n})"),
        None => "None".into(),
    }
}

fn opt_f64(v: &Value) -> String {
    match v.as_f64() {
        Some(n) => format!("Some({n:?})"),
        None => "None".into(),
    }
}

fn str_list(items: &[&str]) -> String {
    let parts: Vec<String> = items.iter().map(|s| lit(s)).collect();
    format!("&[{}]", parts.join(", "))
}

/// A paginator token key may be one string or a list of strings.
fn one_or_many(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

pub fn generate(svc: &Svc) -> String {
    let mut o = String::new();
    let meta = &svc.json["metadata"];
    let upper = svc.name.to_uppercase();
    let _ = writeln!(o, "//! Static model tables for `{}`.\n", svc.name);
    // Acceptors appear only in waiters, which redshift-data has none of.
    let has_waiters = svc.json["x-waiters"]
        .as_object()
        .is_some_and(|w| !w.is_empty());
    let _ = writeln!(
        o,
        "use crate::schema::{{{}ErrorInfo, Member, Operation, Paginator, Protocol, ServiceModel, Shape, ShapeKind, Waiter}};\n",
        if has_waiters { "Acceptor, " } else { "" }
    );
    let protocol = if svc.is_json {
        "Protocol::Json"
    } else {
        "Protocol::Query"
    };
    let signing = meta["signingName"]
        .as_str()
        .or(meta["endpointPrefix"].as_str())
        .unwrap_or("");
    let _ = writeln!(
        o,
        "pub static {upper}: ServiceModel = ServiceModel {{ name: {}, signing_name: {}, api_version: {}, protocol: {protocol}, target_prefix: {}, xml_namespace: {}, shapes: &SHAPES, operations: &OPERATIONS, paginators: &PAGINATORS, waiters: &WAITERS }};\n",
        // The service's own name (`redshift-data`), not the module name (`redshift_data`).
        lit(&svc.name.replace('_', "-")),
        lit(signing),
        lit(meta["apiVersion"].as_str().unwrap_or("")),
        opt_str(&meta["targetPrefix"]),
        opt_str(&meta["xmlNamespace"]),
    );
    // Shapes.
    let _ = writeln!(o, "static SHAPES: [Shape; {}] = [", svc.shape_names.len());
    for name in &svc.shape_names {
        let s = svc.shape(name);
        let error = if s["exception"].as_bool().unwrap_or(false) {
            let (code, status, sender) = svc.error_info(name);
            format!(
                "Some(ErrorInfo {{ code: {}, http_status: {status}, sender_fault: {sender} }})",
                lit(&code)
            )
        } else {
            "None".into()
        };
        let _ = writeln!(
            o,
            "    // {}\n    Shape {{ name: {}, kind: {}, error: {error} }},",
            svc.id(name),
            lit(name),
            kind(svc, name, s)
        );
    }
    let _ = writeln!(o, "];\n");
    // Operations.
    let _ = writeln!(
        o,
        "static OPERATIONS: [Operation; {}] = [",
        svc.op_names.len()
    );
    for op in &svc.op_names {
        let d = svc.op(op);
        let input = svc
            .input(op)
            .map_or("None".into(), |s| format!("Some({})", svc.id(s)));
        let output = svc
            .output(op)
            .map_or("None".into(), |s| format!("Some({})", svc.id(s)));
        let errors: Vec<String> = svc
            .errors(op)
            .iter()
            .map(|e| svc.id(e).to_string())
            .collect();
        let _ = writeln!(
            o,
            "    Operation {{ name: {}, input: {input}, output: {output}, result_wrapper: {}, errors: &[{}] }},",
            lit(op),
            opt_str(&d["output"]["resultWrapper"]),
            errors.join(", ")
        );
    }
    let _ = writeln!(o, "];\n");
    // Paginators, in model order.
    let pags = svc.json["x-paginators"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let _ = writeln!(o, "static PAGINATORS: [Paginator; {}] = [", pags.len());
    for (op, p) in &pags {
        let _ = writeln!(
            o,
            "    Paginator {{ operation: {}, input_token: {}, output_token: {}, limit_key: {}, result_key: {}, more_results: {} }},",
            lit(op),
            str_list(&one_or_many(&p["input_token"])),
            str_list(&one_or_many(&p["output_token"])),
            opt_str(&p["limit_key"]),
            str_list(&one_or_many(&p["result_key"])),
            opt_str(&p["more_results"]),
        );
    }
    let _ = writeln!(o, "];\n");
    // Waiters, in model order.
    let waiters = svc.json["x-waiters"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let _ = writeln!(o, "static WAITERS: [Waiter; {}] = [", waiters.len());
    for (name, w) in &waiters {
        let mut acc = Vec::new();
        for a in w["acceptors"].as_array().into_iter().flatten() {
            acc.push(format!(
                "Acceptor {{ state: {}, matcher: {}, argument: {}, expected: {} }}",
                lit(a["state"].as_str().unwrap_or("")),
                lit(a["matcher"].as_str().unwrap_or("")),
                opt_str(&a["argument"]),
                lit(&a["expected"].to_string()),
            ));
        }
        let _ = writeln!(
            o,
            "    Waiter {{ name: {}, operation: {}, delay: {}, max_attempts: {}, acceptors: &[{}] }},",
            lit(name),
            lit(w["operation"].as_str().unwrap_or("")),
            w["delay"].as_u64().unwrap_or(0),
            w["maxAttempts"].as_u64().unwrap_or(0),
            acc.join(", ")
        );
    }
    let _ = writeln!(o, "];");
    o
}

fn kind(svc: &Svc, name: &str, s: &Value) -> String {
    match svc.kind(name) {
        "structure" => {
            let members: Vec<String> = svc
                .members(name)
                .iter()
                .map(|(n, m)| {
                    format!(
                        "Member {{ name: {}, shape: {}, location_name: {}, idempotency_token: {} }}",
                        lit(n),
                        svc.id(m["shape"].as_str().unwrap_or("")),
                        opt_str(&m["locationName"]),
                        m["idempotencyToken"].as_bool().unwrap_or(false)
                    )
                })
                .collect();
            format!(
                "ShapeKind::Structure {{ members: &[{}], required: {}, union: {} }}",
                members.join(", "),
                str_list(&svc.required(name)),
                s["union"].as_bool().unwrap_or(false)
            )
        }
        "list" => format!(
            "ShapeKind::List {{ member: {}, member_location_name: {}, min: {}, max: {} }}",
            svc.id(s["member"]["shape"].as_str().unwrap_or("")),
            opt_str(&s["member"]["locationName"]),
            opt_i64(&s["min"]),
            opt_i64(&s["max"])
        ),
        "map" => format!(
            "ShapeKind::Map {{ key: {}, value: {}, min: {}, max: {} }}",
            svc.id(s["key"]["shape"].as_str().unwrap_or("")),
            svc.id(s["value"]["shape"].as_str().unwrap_or("")),
            opt_i64(&s["min"]),
            opt_i64(&s["max"])
        ),
        "string" => {
            let enums = s["enum"].as_array().map_or("None".into(), |e| {
                let v: Vec<&str> = e.iter().filter_map(Value::as_str).collect();
                format!("Some({})", str_list(&v))
            });
            format!(
                "ShapeKind::String {{ min: {}, max: {}, pattern: {}, enum_values: {enums}, sensitive: {} }}",
                opt_i64(&s["min"]),
                opt_i64(&s["max"]),
                opt_str(&s["pattern"]),
                s["sensitive"].as_bool().unwrap_or(false)
            )
        }
        "integer" => format!(
            "ShapeKind::Integer {{ min: {}, max: {} }}",
            opt_i64(&s["min"]),
            opt_i64(&s["max"])
        ),
        "long" => format!(
            "ShapeKind::Long {{ min: {}, max: {} }}",
            opt_i64(&s["min"]),
            opt_i64(&s["max"])
        ),
        "double" | "float" => {
            format!(
                "ShapeKind::Double {{ min: {}, max: {} }}",
                opt_f64(&s["min"]),
                opt_f64(&s["max"])
            )
        }
        "boolean" => "ShapeKind::Boolean".into(),
        "timestamp" => "ShapeKind::Timestamp".into(),
        "blob" => format!(
            "ShapeKind::Blob {{ min: {}, max: {} }}",
            opt_i64(&s["min"]),
            opt_i64(&s["max"])
        ),
        other => panic!("unsupported shape type {other} for {name}"),
    }
}
