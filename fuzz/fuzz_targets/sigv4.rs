//! SigV4 verification of arbitrary requests: `METHOD\nPATH\nQUERY\nName: value\n…\n\nBODY`.
//! Exercises the Authorization header and presigned-query parsers, canonicalisation
//! (percent-decoding, header folding, query sorting), the strict verifier and the admin
//! API's check.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use tidemark_auth::{AuthMode, CredentialsFile, RequestParts};

fn file() -> &'static Arc<CredentialsFile> {
    static F: OnceLock<Arc<CredentialsFile>> = OnceLock::new();
    F.get_or_init(|| {
        let file = CredentialsFile::parse(
            "[[credential]]\naccess_key_id = \"AKIDEXAMPLE\"\n\
             secret_access_key = \"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\"\n\
             account_id = \"123456789012\"\nname = \"fuzz\"\nadmin = true\n",
        )
        .expect("the fixed credentials file parses");
        Arc::new(file)
    })
}

fn strict() -> &'static AuthMode {
    static M: OnceLock<AuthMode> = OnceLock::new();
    M.get_or_init(|| AuthMode::Strict(file().clone()))
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n');
    let method = lines.next().unwrap_or_default();
    let path = lines.next().unwrap_or_default();
    let query = lines.next().unwrap_or_default();
    let headers: Vec<(String, String)> = lines
        .map(|l| match l.split_once(':') {
            Some((k, v)) => (k.to_owned(), v.trim_start().to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect();
    let req = RequestParts {
        method,
        path,
        query,
        headers: &headers,
        body,
    };
    let now: tidemark_core::Timestamp = "2026-01-01T00:00:00Z"
        .parse()
        .expect("a fixed RFC 3339 time");
    let _ = tidemark_auth::authenticate(strict(), &req, now);
    let _ = tidemark_auth::authenticate(&AuthMode::Permissive, &req, now);
    let _ = tidemark_auth::canonical_form(&req);
    let _ = tidemark_auth::authorize_admin(file(), &req, now);
});
