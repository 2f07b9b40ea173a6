//! Any awsJson request to DynamoDB: `<Operation>\n<body>`. Exercises routing, the JSON
//! decoder, the model's type checks and constraints, the expression language and every
//! handler, against a table with indexes and items.
#![no_main]

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let h = tidemark_fuzz::dynamodb();
    let (op, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    // Deleting the one table would leave the rest of the run nothing to reach.
    let Ok(op) = std::str::from_utf8(op) else {
        return;
    };
    if op == "DeleteTable" {
        return;
    }
    let Ok(req) = Request::builder()
        .method("POST")
        .uri("/")
        .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-date", "20260101T000000Z")
        .header("authorization", tidemark_fuzz::auth_header("dynamodb"))
        .body(Body::from(body.to_vec()))
    else {
        return;
    };
    let (status, body) = h.send(req);
    tidemark_fuzz::check_status(status, &body);
    h.settle();
});
