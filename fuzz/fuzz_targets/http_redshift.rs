//! Any awsQuery request to Redshift: a form body (`Action=…&Version=2012-12-01&…`), or, when
//! the input starts with `?`, the same as a GET query string. Exercises the form decoder, the
//! model-driven un-flattener (`Tags.Tag.N.Key`), validation and every handler.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tidemark_fuzz::Harness;

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| Harness::new(tidemark_auth::AuthMode::Permissive))
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    let builder = Request::builder()
        .header("x-amz-date", "20260101T000000Z")
        .header("authorization", tidemark_fuzz::auth_header("redshift"));
    let req = match data.strip_prefix(b"?") {
        Some(query) => {
            let Ok(q) = std::str::from_utf8(query) else {
                return;
            };
            builder
                .method("GET")
                .uri(format!("/?{q}"))
                .body(Body::empty())
        }
        None => builder
            .method("POST")
            .uri("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(data.to_vec())),
    };
    let Ok(req) = req else {
        return;
    };
    let (status, body) = h.send(req);
    tidemark_fuzz::check_status(status, &body);
    h.settle();
});
