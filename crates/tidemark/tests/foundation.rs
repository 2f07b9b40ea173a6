//! Black-box tests of the foundation with the AWS SDK for Rust over TCP (issue: foundation).

mod common;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use common::Server;

/// Reference §1.5/§4.3: ListTables on a fresh server answers an empty list and no cursor.
#[tokio::test]
async fn list_tables_is_empty_on_a_fresh_server() {
    let server = Server::in_memory();
    let out = server
        .dynamodb("AKIDEXAMPLE", "secret")
        .list_tables()
        .send()
        .await
        .expect("ListTables works");
    assert_eq!(out.table_names(), &[] as &[String]);
    assert!(out.last_evaluated_table_name().is_none());
}

/// Reference §3.8: DescribeClusters with no clusters is an empty list; a named missing
/// cluster is ClusterNotFound (404), which waiters rely on (§1.6).
#[tokio::test]
async fn describe_clusters_is_empty_and_missing_cluster_is_not_found() {
    let server = Server::in_memory();
    let rs = server.redshift("AKIDEXAMPLE", "secret");
    let out = rs
        .describe_clusters()
        .send()
        .await
        .expect("DescribeClusters works");
    assert!(out.clusters().is_empty());
    let err = rs
        .describe_clusters()
        .cluster_identifier("Nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ClusterNotFound"));
    assert_eq!(err.message(), Some("Cluster nope not found."));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
}

/// An operation tidemark does not implement yet answers a parseable AWS error naming it.
#[tokio::test]
async fn unimplemented_operations_answer_a_named_error() {
    let server = Server::in_memory();
    let err = server
        .dynamodb("AKIDEXAMPLE", "s")
        .list_exports()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UnknownOperationException"));
    assert!(
        err.message().unwrap_or_default().contains("ListExports"),
        "{err:?}"
    );
    let err = server
        .redshift("AKIDEXAMPLE", "s")
        .describe_event_categories()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidAction"));
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("DescribeEventCategories"),
        "{err:?}"
    );
}

/// Reference §1.2: constraint violations get Coral's exact ValidationException text. The
/// Rust SDK does not check lengths client-side, so the server's message is what users see.
#[tokio::test]
async fn constraint_violations_give_aws_validation_text() {
    let server = Server::in_memory();
    let err = server
        .dynamodb("AKIDEXAMPLE", "s")
        .describe_backup()
        .backup_arn("short")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some(
            "1 validation error detected: Value 'short' at 'backupArn' failed to satisfy constraint: Member must have length greater than or equal to 37"
        )
    );
}

/// Reference §1.2: malformed bodies and unsigned requests are the protocol's own 4xx errors.
#[test]
fn malformed_and_unsigned_requests_are_4xx_protocol_errors() {
    let server = Server::in_memory();
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";
    let headers = [
        ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Date", "20260101T000000Z"),
        ("Authorization", auth),
    ];
    let (status, body) = server.http("POST", "/", &headers, b"{not json");
    assert_eq!(status, 400);
    assert!(
        body.contains("com.amazon.coral.service#SerializationException"),
        "{body}"
    );
    let (status, body) = server.http("POST", "/", &headers[..2], b"{}");
    assert_eq!(status, 400);
    assert!(
        body.contains("MissingAuthenticationTokenException"),
        "{body}"
    );
    let (status, body) = server.http(
        "POST",
        "/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=DescribeClusters&Version=2012-12-01",
    );
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
    let (status, body) = server.http("GET", "/nothing-here", &[], b"");
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(body.starts_with("<ErrorResponse"), "{body}");
}
