//! Strict-mode signature checking and account isolation, driven by the AWS SDK for Rust
//! (reference §1.1).

mod common;

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_async::time::{SharedTimeSource, StaticTimeSource};
use common::Server;

const CREDENTIALS: &str = r#"
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
"#;

fn strict_server(dir: &tempfile::TempDir) -> Server {
    let path = dir.path().join("credentials.toml");
    std::fs::write(&path, CREDENTIALS).expect("write credentials");
    Server::start(&[
        "--in-memory",
        "--auth",
        "strict",
        "--credentials",
        path.to_str().expect("utf-8"),
    ])
}

/// A client whose signing clock is off by `skew` from the real one.
fn skewed_client(server: &Server, skew_back: Duration) -> aws_sdk_dynamodb::Client {
    #[allow(clippy::disallowed_methods)] // the SDK signs with wall time; the test skews it
    let when = SystemTime::now() - skew_back;
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.endpoint)
        .credentials_provider(Credentials::new(
            "AKIDALICE0000000001",
            "alice-secret",
            None,
            None,
            "t",
        ))
        .time_source(SharedTimeSource::new(StaticTimeSource::new(when)))
        // The SDK corrects its clock from the server's Date header and retries; one
        // attempt shows what the server answers to a stale signature.
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

#[tokio::test]
async fn strict_mode_accepts_good_signatures_and_rejects_bad_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = strict_server(&dir);
    server
        .dynamodb("AKIDALICE0000000001", "alice-secret")
        .list_tables()
        .send()
        .await
        .expect("signed by alice");

    let err = server
        .dynamodb("AKIDALICE0000000001", "wrong")
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidSignatureException"), "{err:?}");

    let err = server
        .dynamodb("AKIDUNKNOWN00000000", "x")
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnrecognizedClientException"), "{err:?}");

    let err = skewed_client(&server, Duration::from_secs(20 * 60))
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidSignatureException"), "{err:?}");
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("Signature expired"),
        "{err:?}"
    );
    skewed_client(&server, Duration::from_secs(60))
        .list_tables()
        .send()
        .await
        .expect("1 minute of skew is fine");

    let rs = server.redshift("AKIDBOB00000000002", "wrong");
    let err = rs.describe_clusters().send().await.unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"), "{err:?}");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    server
        .redshift("AKIDBOB00000000002", "bob-secret")
        .describe_clusters()
        .send()
        .await
        .expect("signed by bob");
}

/// Permissive mode: a 12-digit access key selects that account; every key lists only its
/// own account's tables.
#[tokio::test]
async fn accounts_are_isolated() {
    let server = Server::in_memory();
    let a = server.dynamodb("111111111111", "x");
    let b = server.dynamodb("222222222222", "x");
    assert!(
        a.list_tables()
            .send()
            .await
            .expect("a lists")
            .table_names()
            .is_empty()
    );
    assert!(
        b.list_tables()
            .send()
            .await
            .expect("b lists")
            .table_names()
            .is_empty()
    );
}
