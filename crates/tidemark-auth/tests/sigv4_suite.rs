//! The official AWS SigV4 test-suite vectors, verified by the strict authenticator.
//!
//! Fixtures: `tests/fixtures/aws-signing-test-suite/v4` (see its README for provenance: the
//! `aws-signing-test-suite/v4` directory of the `aws-sigv4` crate, from `awslabs/aws-c-auth`).
//! Each case's signed request (header form and, where present, presigned query form) is fed
//! to the verifier as received; the canonical request and string to sign it rebuilds must
//! equal the published ones byte for byte, and strict authentication must succeed.

mod raw_http;

use std::path::{Path, PathBuf};

use raw_http::parse_request;
use std::sync::Arc;

use tidemark_auth::canonical::canonical_uri;
use tidemark_auth::{AuthError, AuthMode, CredentialsFile, authenticate, canonical_form};
use tidemark_core::Timestamp;

const SUITE_TIME: &str = "2015-08-30T12:36:00Z";

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-signing-test-suite/v4")
}

fn suite_mode() -> AuthMode {
    AuthMode::Strict(Arc::new(
        CredentialsFile::parse(
            r#"
[[credential]]
access_key_id = "AKIDEXAMPLE"
secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
account_id = "111122223333"
name = "suite"
"#,
        )
        .unwrap(),
    ))
}

fn read(case: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(case.join(file)).ok()
}

/// Checks one form (`header` or `query`) of one case; returns false when the case has none.
fn check_form(case: &Path, form: &str, mode: &AuthMode, now: Timestamp) -> bool {
    let Some(signed) = read(case, &format!("{form}-signed-request.txt")) else {
        return false;
    };
    let name = case.file_name().unwrap().to_string_lossy();
    let req = parse_request(&signed);
    let computed = canonical_form(&req.parts()).unwrap_or_else(|e| panic!("{name} {form}: {e}"));
    let creq = read(case, &format!("{form}-canonical-request.txt")).unwrap();
    assert_eq!(
        computed.canonical_request, creq,
        "{name} {form}: canonical request"
    );
    let sts = read(case, &format!("{form}-string-to-sign.txt")).unwrap();
    assert_eq!(
        computed.string_to_sign, sts,
        "{name} {form}: string to sign"
    );
    let identity = authenticate(mode, &req.parts(), now)
        .unwrap_or_else(|e| panic!("{name} {form}: strict authentication failed: {e}"));
    assert_eq!(identity.account.as_str(), "111122223333");
    assert_eq!(identity.region, "us-east-1");
    assert_eq!(identity.service, "service");
    assert_eq!(identity.principal, "suite");
    // Sanity: the published signature is the one the request carries.
    let signature = read(case, &format!("{form}-signature.txt")).unwrap();
    assert!(
        signed.contains(signature.trim()),
        "{name} {form}: signature file"
    );
    true
}

#[test]
fn suite_vectors_verify_in_strict_mode() {
    let mode = suite_mode();
    let now: Timestamp = SUITE_TIME.parse().unwrap();
    let mut header_cases = 0;
    let mut query_cases = 0;
    let mut cases: Vec<PathBuf> = std::fs::read_dir(suite_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("double-")
        })
        .collect();
    cases.sort();
    for case in &cases {
        assert!(
            check_form(case, "header", &mode, now),
            "{case:?} has no header form"
        );
        header_cases += 1;
        if check_form(case, "query", &mode, now) {
            query_cases += 1;
        }
    }
    // Guards against a fixture directory that silently lost its cases.
    assert_eq!(header_cases, 31);
    assert_eq!(query_cases, 30);
}

#[test]
fn suite_double_encoding_cases_canonicalise_the_path_twice() {
    for case in ["double-encode-path", "double-url-encode"] {
        let dir = suite_dir().join(case);
        let req = parse_request(&read(&dir, "header-signed-request.txt").unwrap());
        let creq = read(&dir, "header-canonical-request.txt").unwrap();
        let expected_uri = creq.lines().nth(1).unwrap();
        assert_eq!(canonical_uri(&req.path), expected_uri, "{case}");
    }
}

#[test]
fn a_suite_vector_tampered_or_late_is_refused() {
    let mode = suite_mode();
    let now: Timestamp = SUITE_TIME.parse().unwrap();
    let case = suite_dir().join("post-x-www-form-urlencoded");
    let mut req = parse_request(&read(&case, "header-signed-request.txt").unwrap());
    req.body = b"Param1=value2".to_vec();
    assert!(matches!(
        authenticate(&mode, &req.parts(), now),
        Err(AuthError::PayloadHashMismatch)
    ));

    // The presigned form is valid for X-Amz-Expires = 3600 s, then expires.
    let req = parse_request(&read(&case, "query-signed-request.txt").unwrap());
    let late_ok = now + jiff::SignedDuration::from_secs(3600);
    assert!(authenticate(&mode, &req.parts(), late_ok).is_ok());
    let too_late = now + jiff::SignedDuration::from_secs(3601);
    assert_eq!(
        authenticate(&mode, &req.parts(), too_late),
        Err(AuthError::PresignExpired)
    );
}
