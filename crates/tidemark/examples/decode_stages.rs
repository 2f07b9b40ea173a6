//! Peak memory of each decode stage of one large DynamoDB body, in one process
//! (docs/reliability.md, "Bounded memory per request"): the checked tree, the typed input,
//! then the service's own value. Each stage's figure is the peak RSS (VmHWM, reset between
//! stages through /proc/self/clear_refs) over the RSS with the body already in memory.
//!
//! usage: cargo run --example decode_stages -- KIND N
//! KIND as in scripts/request-memory-probe.py: null | s | map | batch.

use std::time::Instant;

use tidemark_model::dispatch::{Document, decode_input, with_document};
use tidemark_model::dynamodb::{BatchWriteItemInput, DYNAMODB, PutItemInput};

fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets VmHWM to the current RSS (Linux 4.0+).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn body(kind: &str, n: usize) -> String {
    let repeat = |elem: &str| vec![elem; n].join(",");
    let head = r#"{"TableName":"big","Item":{"k":{"S":"a"},"v":"#;
    match kind {
        "null" => format!(r#"{head}{{"L":[{}]}}}}}}"#, repeat(r#"{"NULL":true}"#)),
        "s" => format!(r#"{head}{{"L":[{}]}}}}}}"#, repeat(r#"{"S":"x"}"#)),
        "map" => {
            let entries: Vec<String> = (0..n)
                .map(|i| format!(r#""{i:x}":{{"NULL":true}}"#))
                .collect();
            format!(r#"{head}{{"M":{{{}}}}}}}}}"#, entries.join(","))
        }
        "batch" => {
            let items: Vec<String> = (0..25)
                .map(|i| {
                    format!(
                        r#"{{"PutRequest":{{"Item":{{"k":{{"S":"{i}"}},"v":{{"L":[{}]}}}}}}}}"#,
                        repeat(r#"{"N":"1"}"#)
                    )
                })
                .collect();
            format!(r#"{{"RequestItems":{{"big":[{}]}}}}"#, items.join(","))
        }
        other => panic!("unknown KIND {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (kind, n) = match args.as_slice() {
        [_, kind, n] => (kind.clone(), n.parse::<usize>().expect("N is a count")),
        _ => panic!("usage: decode_stages KIND N"),
    };
    // The server's allocator (mimalloc, declared in tidemark-wire), as in the server.
    let _ = tidemark_wire::json::estimated_cost(b"{}");
    let text = body(&kind, n).into_bytes();
    let len = text.len() as f64 / 1048576.0;
    let copy = text.clone();
    let base = status_mib("VmRSS:");
    let report = |stage: &str, started: Instant| {
        let peak = status_mib("VmHWM:") - base;
        println!(
            "{kind} {n} ({len:.1} MiB): {stage}: peak +{peak:.0} MiB ({:.1}x body), now +{:.0} MiB, {:.2} s",
            peak / len,
            status_mib("VmRSS:") - base,
            started.elapsed().as_secs_f64()
        );
    };

    reset_peak();
    let t = Instant::now();
    // The body stays in memory (as the server's does) in `text`; the document reads a copy
    // made before the baseline was taken.
    let doc = Document::parse(copy).expect("a JSON object");
    report(
        &format!(
            "checked tree ({:.1} MiB)",
            doc.tree_bytes() as f64 / 1048576.0
        ),
        t,
    );

    let op = if kind == "batch" {
        "BatchWriteItem"
    } else {
        "PutItem"
    };
    let shape = DYNAMODB
        .operation(op)
        .and_then(|o| o.input)
        .expect("the model has the operation");
    reset_peak();
    let t = Instant::now();
    let items: Vec<_> = with_document(doc, || {
        if kind == "batch" {
            let input: BatchWriteItemInput =
                decode_input(&DYNAMODB, shape, serde_json::Value::Null).expect("valid input");
            input
                .request_items
                .into_iter()
                .flat_map(|m| m.into_values().flatten())
                .filter_map(|w| w.put_request.and_then(|p| p.item))
                .collect()
        } else {
            let input: PutItemInput =
                decode_input(&DYNAMODB, shape, serde_json::Value::Null).expect("valid input");
            input.item.into_iter().collect()
        }
    });
    report("tree, then typed input", t);

    reset_peak();
    let t = Instant::now();
    let converted: Vec<_> = items
        .into_iter()
        .map(|item| tidemark_dynamodb::convert::item_from_model(item).expect("valid item"))
        .collect();
    report("conversion to the service's value", t);
    drop(converted);
    drop(text);
    std::thread::sleep(std::time::Duration::from_millis(50));
    println!(
        "{kind} {n}: after dropping everything: +{:.0} MiB",
        status_mib("VmRSS:") - base
    );
}
