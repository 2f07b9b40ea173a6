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

/// Permissive mode: a 12-digit access key selects that account. Account A's table and
/// cluster are invisible to account B (listing, describing, writing, deleting), and B may
/// reuse the same names for its own resources (reference §1.1, §1.4).
#[tokio::test]
async fn accounts_are_isolated() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
        ScalarAttributeType,
    };
    let server = Server::in_memory();
    let a = server.dynamodb("111111111111", "x");
    let b = server.dynamodb("222222222222", "x");
    let create = |c: &aws_sdk_dynamodb::Client| {
        c.create_table()
            .table_name("Shared")
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("valid definition"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("valid key"),
            )
            .billing_mode(BillingMode::PayPerRequest)
    };
    let made = create(&a).send().await.expect("A creates its table");
    let arn = made
        .table_description()
        .and_then(|d| d.table_arn())
        .unwrap_or_default()
        .to_owned();
    assert!(arn.contains(":111111111111:table/Shared"), "{arn}");
    assert_eq!(
        a.list_tables().send().await.expect("A lists").table_names(),
        ["Shared"]
    );
    assert!(
        b.list_tables()
            .send()
            .await
            .expect("B lists")
            .table_names()
            .is_empty()
    );
    let err = b
        .describe_table()
        .table_name("Shared")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let err = b
        .put_item()
        .table_name("Shared")
        .item("pk", AttributeValue::S("intruder".into()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let err = b
        .delete_table()
        .table_name("Shared")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let theirs = create(&b).send().await.expect("B may use the same name");
    let arn_b = theirs
        .table_description()
        .and_then(|d| d.table_arn())
        .unwrap_or_default();
    assert!(arn_b.contains(":222222222222:table/Shared"), "{arn_b}");

    let ra = server.redshift("111111111111", "x");
    let rb = server.redshift("222222222222", "x");
    ra.create_cluster()
        .cluster_identifier("only-a")
        .node_type("dc2.large")
        .master_username("adminuser")
        .master_user_password("Passw0rd1")
        .send()
        .await
        .expect("A creates a cluster");
    assert_eq!(
        ra.describe_clusters()
            .send()
            .await
            .expect("A describes")
            .clusters()
            .len(),
        1
    );
    assert!(
        rb.describe_clusters()
            .send()
            .await
            .expect("B describes")
            .clusters()
            .is_empty()
    );
    let err = rb
        .describe_clusters()
        .cluster_identifier("only-a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_redshift::error::ProvideErrorMetadata::code(&err),
        Some("ClusterNotFound")
    );
    let err = rb
        .delete_cluster()
        .cluster_identifier("only-a")
        .skip_final_cluster_snapshot(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_redshift::error::ProvideErrorMetadata::code(&err),
        Some("ClusterNotFound")
    );
}
