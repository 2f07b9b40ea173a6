//! `authorize_admin`: only a valid signature by a credential marked `admin = true` opens the
//! admin API of a strict server, and a signed admin call cannot be replayed with another
//! body, path or method (the admin-API rules in docs/reliability.md).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use tidemark_auth::{AdminDenied, AuthError, CredentialsFile, RequestParts, authorize_admin};
use tidemark_core::{Timestamp, wall_now};

const FILE: &str = r#"
[[credential]]
access_key_id = "AKIDALICE0000000001"
secret_access_key = "alice-secret"
account_id = "111111111111"
name = "alice"

[[credential]]
access_key_id = "AKIDOPS000000000003"
secret_access_key = "ops-secret"
account_id = "111111111111"
name = "ops"
admin = true
"#;

struct Wire {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Wire {
    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: "",
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// Signs `method path` with `body` as the tidemark client does (service `tidemark`).
fn signed(akid: &str, secret: &str, method: &str, path: &str, body: &[u8]) -> Wire {
    let identity = Credentials::new(akid, secret, None, None, "test").into();
    let now = wall_now();
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(now.as_second()).unwrap());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("tidemark")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let uri = format!("http://127.0.0.1:8787{path}");
    let headers = [("content-type", "application/json")];
    let signable = SignableRequest::new(
        method,
        &uri,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut wire_headers = vec![
        ("Host".to_string(), "127.0.0.1:8787".to_string()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    for (k, v) in instructions.headers() {
        wire_headers.push((k.to_string(), v.to_string()));
    }
    Wire {
        method: method.to_string(),
        path: path.to_string(),
        headers: wire_headers,
        body: body.to_vec(),
    }
}

fn check(w: &Wire) -> Result<String, AdminDenied> {
    let file = CredentialsFile::parse(FILE).unwrap();
    authorize_admin(&file, &w.parts(), wall_now()).map(|id| id.principal)
}

const BODY: &[u8] = br#"{"advance_seconds":60}"#;

#[test]
fn the_admin_credential_is_accepted() {
    let w = signed(
        "AKIDOPS000000000003",
        "ops-secret",
        "POST",
        "/_tidemark/clock",
        BODY,
    );
    assert_eq!(check(&w), Ok("ops".to_string()));
}

#[test]
fn unsigned_non_admin_and_bad_signatures_are_refused() {
    let mut unsigned = signed(
        "AKIDOPS000000000003",
        "ops-secret",
        "GET",
        "/_tidemark/clock",
        b"",
    );
    unsigned
        .headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
    assert_eq!(check(&unsigned), Err(AdminDenied::NoSignature));

    let alice = signed(
        "AKIDALICE0000000001",
        "alice-secret",
        "POST",
        "/_tidemark/reset",
        b"",
    );
    let err = check(&alice).unwrap_err();
    assert!(matches!(err, AdminDenied::NotAdmin { .. }), "{err:?}");
    assert_eq!(err.code(), "AccessDenied");
    assert!(err.to_string().contains("admin = true"), "{err}");

    let wrong = signed(
        "AKIDOPS000000000003",
        "guess",
        "POST",
        "/_tidemark/reset",
        b"",
    );
    let err = check(&wrong).unwrap_err();
    assert!(
        matches!(
            err,
            AdminDenied::BadSignature(AuthError::SignatureMismatch { .. })
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "SignatureDoesNotMatch");

    let unknown = signed("AKIDNOBODY000000000", "x", "POST", "/_tidemark/reset", b"");
    let err = check(&unknown).unwrap_err();
    assert_eq!(err.code(), "InvalidClientTokenId", "{err:?}");
}

#[test]
fn a_signed_admin_call_cannot_be_replayed_with_another_body_path_or_method() {
    let good = signed(
        "AKIDOPS000000000003",
        "ops-secret",
        "POST",
        "/_tidemark/clock",
        BODY,
    );
    let mut body = signed(
        "AKIDOPS000000000003",
        "ops-secret",
        "POST",
        "/_tidemark/clock",
        BODY,
    );
    body.body = br#"{"advance_seconds":315360000}"#.to_vec();
    assert!(matches!(check(&body), Err(AdminDenied::BadSignature(_))));
    let mut path = signed(
        "AKIDOPS000000000003",
        "ops-secret",
        "POST",
        "/_tidemark/clock",
        BODY,
    );
    path.path = "/_tidemark/reset".into();
    assert!(matches!(check(&path), Err(AdminDenied::BadSignature(_))));
    let mut method = signed(
        "AKIDOPS000000000003",
        "ops-secret",
        "GET",
        "/_tidemark/clock",
        b"",
    );
    method.method = "POST".into();
    assert!(matches!(check(&method), Err(AdminDenied::BadSignature(_))));
    assert!(check(&good).is_ok());
}

#[test]
fn a_stale_admin_signature_is_refused() {
    let file = CredentialsFile::parse(FILE).unwrap();
    let w = signed(
        "AKIDOPS000000000003",
        "ops-secret",
        "GET",
        "/_tidemark/clock",
        b"",
    );
    let later: Timestamp = wall_now()
        .checked_add(jiff::SignedDuration::from_mins(20))
        .unwrap();
    let err = authorize_admin(&file, &w.parts(), later).unwrap_err();
    assert!(
        matches!(err, AdminDenied::BadSignature(AuthError::Expired { .. })),
        "{err:?}"
    );
}
