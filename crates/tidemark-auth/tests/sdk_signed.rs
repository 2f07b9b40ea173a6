//! Requests signed by the real SDK signer (`aws-sigv4`) verify, and each tampering is refused
//! with its exact error (reference §1.1).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use jiff::SignedDuration;
use tidemark_auth::{
    AuthError, AuthMode, CredentialsFile, RequestParts, Service, authenticate, canonical_form,
};
use tidemark_core::{Timestamp, wall_now};

const ALICE: &str = "AKIDALICE0000000001";
const ALICE_SECRET: &str = "alice-secret";
const DDB_HOST: &str = "dynamodb.us-east-1.amazonaws.com";
const RS_HOST: &str = "redshift.eu-west-1.amazonaws.com";

fn strict() -> AuthMode {
    AuthMode::Strict(Arc::new(
        CredentialsFile::parse(
            r#"
[[credential]]
access_key_id = "AKIDALICE0000000001"
secret_access_key = "alice-secret"
account_id = "111111111111"
name = "alice"

[[credential]]
access_key_id = "AKIDBOB00000000002"
secret_access_key = "bob-secret"
account_id = "222222222222"
name = "bob"
"#,
        )
        .unwrap(),
    ))
}

/// A request as the server would receive it.
#[derive(Clone, Debug)]
struct Wire {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Wire {
    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn set_header(&mut self, name: &str, value: &str) {
        let slot = self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .unwrap();
        slot.1 = value.to_string();
    }
}

fn system_time(t: Timestamp) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t.as_second()).unwrap())
}

struct Signer<'a> {
    akid: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    region: &'a str,
    service: &'a str,
    settings: SigningSettings,
}

impl<'a> Signer<'a> {
    fn new(service: &'a str, region: &'a str) -> Self {
        Self {
            akid: ALICE,
            secret: ALICE_SECRET,
            token: None,
            region,
            service,
            settings: SigningSettings::default(),
        }
    }

    fn presigned(mut self, expires: u64) -> Self {
        self.settings.signature_location = SignatureLocation::QueryParams;
        self.settings.expires_in = Some(Duration::from_secs(expires));
        self
    }

    /// Signs like the SDK does and returns what goes on the wire; the HTTP client adds `Host`.
    fn sign(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        at: Timestamp,
    ) -> Wire {
        let identity = Credentials::new(
            self.akid,
            self.secret,
            self.token.map(String::from),
            None,
            "test",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(system_time(at))
            .settings(self.settings.clone())
            .build()
            .unwrap()
            .into();
        let mut request = http::Request::builder().method(method).uri(uri);
        for (n, v) in headers {
            request = request.header(*n, *v);
        }
        let mut request = request.body(body.to_vec()).unwrap();
        let signable = SignableRequest::new(
            method,
            uri,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut request);
        let authority = request.uri().authority().unwrap().to_string();
        let mut wire_headers = vec![("Host".to_string(), authority)];
        for (n, v) in request.headers() {
            wire_headers.push((n.as_str().to_string(), v.to_str().unwrap().to_string()));
        }
        Wire {
            method: method.to_string(),
            path: request.uri().path().to_string(),
            query: request.uri().query().unwrap_or("").to_string(),
            headers: wire_headers,
            body: request.into_body(),
        }
    }
}

fn t0() -> Timestamp {
    "2026-11-22T01:00:00Z".parse().unwrap()
}

fn ddb_request(signer: &Signer<'_>, body: &[u8], at: Timestamp) -> Wire {
    signer.sign(
        "POST",
        &format!("https://{DDB_HOST}/"),
        &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.ListBackups"),
        ],
        body,
        at,
    )
}

fn redshift_form_request(signer: &Signer<'_>, body: &[u8], at: Timestamp) -> Wire {
    signer.sign(
        "POST",
        &format!("https://{RS_HOST}/"),
        &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        body,
        at,
    )
}

#[test]
fn dynamodb_json_post_verifies() {
    let wire = ddb_request(
        &Signer::new("dynamodb", "us-east-1"),
        br#"{"TableName":"orders"}"#,
        t0(),
    );
    let id = authenticate(&strict(), &wire.parts(), t0()).unwrap();
    assert_eq!(id.access_key_id, ALICE);
    assert_eq!(id.account.as_str(), "111111111111");
    assert_eq!(id.region, "us-east-1");
    assert_eq!(id.service, "dynamodb");
    assert_eq!(id.principal, "alice");
    assert!(id.check_service(Service::DynamoDb).is_ok());
    let err = id.check_service(Service::Redshift).unwrap_err();
    assert_eq!(
        err.wire(Service::Redshift),
        (
            "SignatureDoesNotMatch",
            403,
            "Credential should be scoped to correct service: 'redshift'. ".to_string()
        )
    );
    assert_eq!(
        err.wire(Service::DynamoDb).0,
        "com.amazon.coral.service#InvalidSignatureException"
    );
}

#[test]
fn redshift_form_post_verifies_with_the_real_wall_clock() {
    let now = wall_now();
    let wire = redshift_form_request(
        &Signer::new("redshift", "eu-west-1"),
        b"Action=DescribeClusters&Version=2012-12-01&ClusterIdentifier=my-cluster",
        now,
    );
    let id = authenticate(&strict(), &wire.parts(), wall_now()).unwrap();
    assert_eq!(
        (id.region.as_str(), id.service.as_str()),
        ("eu-west-1", "redshift")
    );
}

#[test]
fn presigned_get_with_awkward_query_values_verifies() {
    // Spaces, '+', '/', '=' and non-ASCII in values; the SDK percent-encodes them once and the
    // verifier must decode and re-encode them exactly as the signer did.
    let signer = Signer::new("redshift", "eu-west-1").presigned(300);
    let uri = format!(
        "https://{RS_HOST}/?Action=DescribeClusterSnapshots&Version=2012-12-01&SnapshotIdentifier=snap%20one&Marker=a%2Bb%2Fc%3D&TagValues.member.1=%C3%A9t%C3%A9"
    );
    let wire = signer.sign("GET", &uri, &[], b"", t0());
    assert!(wire.query.contains("X-Amz-Signature="));
    assert!(
        wire.headers
            .iter()
            .all(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
    );
    let id = authenticate(&strict(), &wire.parts(), t0()).unwrap();
    assert_eq!(id.account.as_str(), "111111111111");

    // Valid until X-Amz-Date + X-Amz-Expires, then RequestExpired.
    let later = t0() + SignedDuration::from_secs(300);
    assert!(authenticate(&strict(), &wire.parts(), later).is_ok());
    let err = authenticate(
        &strict(),
        &wire.parts(),
        later + SignedDuration::from_secs(1),
    )
    .unwrap_err();
    assert_eq!(err, AuthError::PresignExpired);
    assert_eq!(err.wire(Service::Redshift).0, "RequestExpired");

    // A changed query parameter breaks the signature.
    let mut tampered = wire.clone();
    tampered.query = tampered.query.replace("snap%20one", "snap%20two");
    assert!(matches!(
        authenticate(&strict(), &tampered.parts(), t0()),
        Err(AuthError::SignatureMismatch { .. })
    ));
}

#[test]
fn raw_plus_in_a_signed_query_means_space_as_in_aws_sigv4() {
    // aws-sigv4 reads the query with form rules ('+' is a space) before re-encoding it, so a
    // raw '+' is signed as %20; the verifier agrees, and also agrees with the server's own
    // form decoding of the query.
    let uri = format!("https://{RS_HOST}/?Action=DescribeClusters&Marker=a+b");
    let wire = Signer::new("redshift", "eu-west-1").sign("GET", &uri, &[], b"", t0());
    assert!(wire.query.contains("Marker=a+b"));
    assert!(authenticate(&strict(), &wire.parts(), t0()).is_ok());
    let creq = canonical_form(&wire.parts()).unwrap().canonical_request;
    assert!(
        creq.lines().nth(2).unwrap().contains("Marker=a%20b"),
        "{creq}"
    );
}

#[test]
fn encoded_path_is_double_encoded_like_the_sdk() {
    let uri = format!("https://{RS_HOST}/a%20b/./c/");
    let wire = Signer::new("redshift", "eu-west-1").sign("GET", &uri, &[], b"", t0());
    assert!(authenticate(&strict(), &wire.parts(), t0()).is_ok());
    let creq = canonical_form(&wire.parts()).unwrap().canonical_request;
    assert_eq!(creq.lines().nth(1).unwrap(), "/a%2520b/c/");
}

#[test]
fn session_token_and_content_sha256_header_are_accepted() {
    let mut signer = Signer::new("dynamodb", "us-east-1");
    signer.token = Some("FwoGZXIvYXdzEXAMPLETOKEN+/=");
    signer.settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let wire = ddb_request(&signer, b"{}", t0());
    assert!(
        wire.headers
            .iter()
            .any(|(n, _)| n == "x-amz-security-token")
    );
    assert!(
        wire.headers
            .iter()
            .any(|(n, _)| n == "x-amz-content-sha256")
    );
    assert!(authenticate(&strict(), &wire.parts(), t0()).is_ok());

    // The signed hash still matches the header, but not the body any more.
    let mut tampered = wire.clone();
    tampered.body = b"{\"x\":1}".to_vec();
    let err = authenticate(&strict(), &tampered.parts(), t0()).unwrap_err();
    assert_eq!(err, AuthError::PayloadHashMismatch);
    assert_eq!(
        err.wire(Service::DynamoDb).0,
        "com.amazon.coral.service#InvalidSignatureException"
    );
}

#[test]
fn tampering_is_refused_with_exact_errors() {
    let signer = Signer::new("dynamodb", "us-east-1");
    let wire = ddb_request(&signer, br#"{"TableName":"orders"}"#, t0());
    let mode = strict();
    let expect_mismatch = |w: &Wire| match authenticate(&mode, &w.parts(), t0()) {
        Err(e @ AuthError::SignatureMismatch { .. }) => {
            let (code, status, msg) = e.wire(Service::DynamoDb);
            assert_eq!(code, "com.amazon.coral.service#InvalidSignatureException");
            assert_eq!(status, 400);
            assert_eq!(
                msg,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            );
            let (code, status, _) = e.wire(Service::Redshift);
            assert_eq!((code, status), ("SignatureDoesNotMatch", 403));
        }
        other => panic!("expected SignatureMismatch, got {other:?}"),
    };

    let mut body = wire.clone();
    body.body = br#"{"TableName":"other"}"#.to_vec();
    expect_mismatch(&body);

    let mut target = wire.clone();
    target.set_header("x-amz-target", "DynamoDB_20120810.DeleteBackup");
    expect_mismatch(&target);

    let mut date = wire.clone();
    date.set_header("x-amz-date", "20261122T010100Z");
    expect_mismatch(&date);

    let mut wrong_secret = Signer::new("dynamodb", "us-east-1");
    wrong_secret.secret = "not-alice-secret";
    expect_mismatch(&ddb_request(&wrong_secret, b"{}", t0()));

    // An unsigned header may change freely.
    let mut unsigned = wire.clone();
    unsigned
        .headers
        .push(("User-Agent".into(), "curl/8".into()));
    assert!(authenticate(&mode, &unsigned.parts(), t0()).is_ok());

    let mut stranger = Signer::new("dynamodb", "us-east-1");
    stranger.akid = "AKIDSTRANGER0000000";
    let err = authenticate(&mode, &ddb_request(&stranger, b"{}", t0()).parts(), t0()).unwrap_err();
    assert_eq!(
        err.wire(Service::DynamoDb),
        (
            "com.amazon.coral.service#UnrecognizedClientException",
            400,
            "The security token included in the request is invalid.".to_string()
        )
    );
    assert_eq!(err.wire(Service::Redshift).0, "InvalidClientTokenId");
    assert_eq!(err.wire(Service::Redshift).1, 403);
}

#[test]
fn skew_over_fifteen_minutes_is_refused_both_ways() {
    let signed_at: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
    let wire = ddb_request(&Signer::new("dynamodb", "us-east-1"), b"{}", signed_at);
    let mode = strict();
    let at = |secs: i64| signed_at + SignedDuration::from_secs(secs);
    assert!(authenticate(&mode, &wire.parts(), at(900)).is_ok());
    assert!(authenticate(&mode, &wire.parts(), at(-900)).is_ok());

    let err = authenticate(&mode, &wire.parts(), at(1800)).unwrap_err();
    assert_eq!(
        err.wire(Service::DynamoDb),
        (
            "com.amazon.coral.service#InvalidSignatureException",
            400,
            "Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z (20240101T003000Z - 15 min.)".to_string()
        )
    );
    assert_eq!(err.wire(Service::Redshift).0, "RequestExpired");
    assert_eq!(err.wire(Service::Redshift).1, 400);

    let err = authenticate(&mode, &wire.parts(), at(-1800)).unwrap_err();
    assert_eq!(
        err.wire(Service::DynamoDb).2,
        "Signature not yet current: 20240101T000000Z is still later than 20231231T234500Z (20231231T233000Z + 15 min.)"
    );
    assert_eq!(err.wire(Service::Redshift).0, "RequestExpired");

    // Permissive mode does not judge time.
    assert!(authenticate(&AuthMode::Permissive, &wire.parts(), at(86_400)).is_ok());
}

#[test]
fn permissive_mode_selects_accounts_by_access_key() {
    let mut numeric = Signer::new("dynamodb", "us-east-1");
    numeric.akid = "333333333333";
    let id = authenticate(
        &AuthMode::Permissive,
        &ddb_request(&numeric, b"{}", t0()).parts(),
        t0(),
    )
    .unwrap();
    assert_eq!(id.account.as_str(), "333333333333");
    assert_eq!(id.principal, "333333333333");

    // Any other key — including one from the credentials file — selects the default account.
    let wire = ddb_request(&Signer::new("dynamodb", "us-east-1"), b"{}", t0());
    let id = authenticate(&AuthMode::Permissive, &wire.parts(), t0()).unwrap();
    assert_eq!(id.account.as_str(), "123456789012");
    assert_eq!(id.principal, ALICE);

    let mut short = Signer::new("dynamodb", "us-east-1");
    short.akid = "12345678901";
    let id = authenticate(
        &AuthMode::Permissive,
        &ddb_request(&short, b"{}", t0()).parts(),
        t0(),
    )
    .unwrap();
    assert_eq!(id.account.as_str(), "123456789012");

    // Signatures are not checked...
    let mut garbage = wire.clone();
    garbage.body = b"tampered".to_vec();
    assert!(authenticate(&AuthMode::Permissive, &garbage.parts(), t0()).is_ok());

    // ...but the request must still be well-formed SigV4.
    let mut malformed = wire.clone();
    malformed.set_header(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=333333333333/20261122/us-east-1/dynamodb/aws4_request, Signature=00",
    );
    let err = authenticate(&AuthMode::Permissive, &malformed.parts(), t0()).unwrap_err();
    assert!(matches!(err, AuthError::IncompleteSignature(_)));
    assert_eq!(
        err.wire(Service::DynamoDb).0,
        "com.amazon.coral.service#IncompleteSignatureException"
    );
    assert_eq!(err.wire(Service::Redshift).0, "IncompleteSignature");
    assert_eq!(err.wire(Service::Redshift).1, 400);
}

#[test]
fn unsigned_requests_are_refused_in_both_modes() {
    let unsigned = Wire {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: vec![
            ("Host".into(), DDB_HOST.into()),
            (
                "X-Amz-Target".into(),
                "DynamoDB_20120810.ListBackups".into(),
            ),
        ],
        body: b"{}".to_vec(),
    };
    for mode in [strict(), AuthMode::Permissive] {
        let err = authenticate(&mode, &unsigned.parts(), t0()).unwrap_err();
        assert_eq!(err, AuthError::MissingAuthentication);
        assert_eq!(
            err.wire(Service::DynamoDb),
            (
                "com.amazon.coral.service#MissingAuthenticationTokenException",
                400,
                "Request is missing Authentication Token".to_string()
            )
        );
        assert_eq!(err.wire(Service::Redshift).0, "MissingAuthenticationToken");
        assert_eq!(err.wire(Service::Redshift).1, 403);
    }
}
