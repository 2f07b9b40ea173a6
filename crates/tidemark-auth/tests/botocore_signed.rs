//! Requests signed by botocore (the aws CLI v1 signer) verify in strict mode.
//!
//! Fixtures in `tests/fixtures/botocore/` were captured from the real botocore 1.43.11 client
//! pipeline by `generate.py` there, at 2026-11-22T01:00:00Z with key `AKIDALICE0000000001`.
//! They pin the cases where signers differ most: form bodies with `+` and `%2B`, non-ASCII,
//! and a presigned awsQuery GET whose values botocore encodes with `%20`.

mod raw_http;

use std::path::Path;
use std::sync::Arc;

use jiff::SignedDuration;
use raw_http::parse_request;
use tidemark_auth::{AuthError, AuthMode, CredentialsFile, authenticate};
use tidemark_core::Timestamp;

fn fixture(name: &str) -> raw_http::Parsed {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/botocore")
        .join(format!("{name}.txt"));
    parse_request(&std::fs::read_to_string(path).unwrap())
}

fn strict() -> AuthMode {
    AuthMode::Strict(Arc::new(
        CredentialsFile::parse(
            "[[credential]]\naccess_key_id = \"AKIDALICE0000000001\"\nsecret_access_key = \"alice-secret\"\naccount_id = \"111111111111\"\nname = \"alice\"\n",
        )
        .unwrap(),
    ))
}

fn signed_at() -> Timestamp {
    "2026-11-22T01:00:00Z".parse().unwrap()
}

#[test]
fn botocore_requests_verify() {
    for (name, region, service) in [
        ("dynamodb-list-backups", "us-east-1", "dynamodb"),
        (
            "redshift-describe-cluster-snapshots",
            "eu-west-1",
            "redshift",
        ),
        (
            "redshift-presigned-describe-clusters",
            "eu-west-1",
            "redshift",
        ),
    ] {
        let req = fixture(name);
        let id = authenticate(&strict(), &req.parts(), signed_at())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(id.account.as_str(), "111111111111", "{name}");
        assert_eq!((id.region.as_str(), id.service.as_str()), (region, service));
        assert_eq!(id.principal, "alice");
    }
}

#[test]
fn botocore_requests_refuse_tampering() {
    let mut req = fixture("redshift-describe-cluster-snapshots");
    // '+' (a space) and '%2B' (a plus) are different values once the form is decoded, but
    // the body hash is what is signed here, so any byte change must fail.
    req.body = String::from_utf8(req.body)
        .unwrap()
        .replacen("snap+one", "snap%2Bone", 1)
        .into_bytes();
    assert!(matches!(
        authenticate(&strict(), &req.parts(), signed_at()),
        Err(AuthError::SignatureMismatch { .. })
    ));

    let mut req = fixture("redshift-presigned-describe-clusters");
    req.query = req.query.replace("my%20cluster%2B1", "my%20cluster%201");
    assert!(matches!(
        authenticate(&strict(), &req.parts(), signed_at()),
        Err(AuthError::SignatureMismatch { .. })
    ));

    let req = fixture("redshift-presigned-describe-clusters");
    let after = signed_at() + SignedDuration::from_secs(301);
    assert_eq!(
        authenticate(&strict(), &req.parts(), after),
        Err(AuthError::PresignExpired)
    );
}
