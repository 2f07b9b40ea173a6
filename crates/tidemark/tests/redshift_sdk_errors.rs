//! §3.20 error codes and HTTP statuses as the AWS SDK for Rust sees them over awsQuery: a
//! representative subset of the Redshift faults (404s, 400s, 406), read through
//! `ProvideErrorMetadata` and the raw response status.

mod common;

use std::time::Duration;

use aws_sdk_redshift::error::{ProvideErrorMetadata, SdkError};
use common::Server;

const OWNER: &str = "111111111111";
const GRANTEE: &str = "222222222222";

/// The wire code and HTTP status of a failed SDK call.
fn code_status<E: ProvideErrorMetadata, R>(
    r: Result<impl std::fmt::Debug, SdkError<E, R>>,
    raw_status: impl Fn(&SdkError<E, R>) -> Option<u16>,
) -> (String, u16) {
    let err = r.expect_err("the call must fail");
    let status = raw_status(&err).expect("a service error carries the raw response");
    (err.code().unwrap_or_default().to_owned(), status)
}

/// Expands to (code, status) for `$call.send().await`, which must fail.
macro_rules! fails {
    ($call:expr) => {
        code_status($call.send().await, |e| {
            e.raw_response().map(|r| r.status().as_u16())
        })
    };
}

async fn wait_until(rs: &aws_sdk_redshift::Client, id: &str, status: &str) {
    for _ in 0..200 {
        let out = rs
            .describe_clusters()
            .cluster_identifier(id)
            .send()
            .await
            .expect("describe");
        if out.clusters()[0].cluster_status() == Some(status) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cluster {id} never reached {status}");
}

async fn wait_snapshot(rs: &aws_sdk_redshift::Client, id: &str) {
    for _ in 0..200 {
        let out = rs
            .describe_cluster_snapshots()
            .snapshot_identifier(id)
            .send()
            .await
            .expect("describe snapshots");
        if out.snapshots()[0].status() == Some("available") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("snapshot {id} never became available");
}

#[tokio::test]
async fn redshift_faults_carry_their_code_and_status() {
    let server = Server::in_memory();
    let rs = server.redshift(OWNER, "secret");

    // §3.8 / §3.20: ClusterNotFound is 404.
    assert_eq!(
        fails!(rs.describe_clusters().cluster_identifier("ghost")),
        ("ClusterNotFound".into(), 404)
    );
    // §3.11 / §3.20: ClusterSnapshotNotFound is 404.
    assert_eq!(
        fails!(rs.delete_cluster_snapshot().snapshot_identifier("ghost")),
        ("ClusterSnapshotNotFound".into(), 404)
    );
    // §3.8 / §1.5: MaxRecords outside 20–100 is InvalidParameterValue 400.
    assert_eq!(
        fails!(rs.describe_clusters().max_records(101)),
        ("InvalidParameterValue".into(), 400)
    );
    // §3.5: a malformed identifier is InvalidParameterValue 400.
    assert_eq!(
        fails!(
            rs.create_cluster()
                .cluster_identifier("bad--id")
                .node_type("dc2.large")
                .master_username("adminuser")
                .master_user_password("Passw0rd1")
        ),
        ("InvalidParameterValue".into(), 400)
    );

    rs.create_cluster()
        .cluster_identifier("c1")
        .node_type("dc2.large")
        .master_username("adminuser")
        .master_user_password("Passw0rd1")
        .send()
        .await
        .expect("create cluster");
    wait_until(&rs, "c1", "available").await;

    // §3.6 rule 2: neither final-snapshot flag is InvalidParameterCombination 400.
    assert_eq!(
        fails!(rs.delete_cluster().cluster_identifier("c1")),
        ("InvalidParameterCombination".into(), 400)
    );
    // §3.9: InvalidRetentionPeriodFault keeps its shape name as the code, 400.
    assert_eq!(
        fails!(
            rs.create_cluster_snapshot()
                .cluster_identifier("c1")
                .snapshot_identifier("s1")
                .manual_snapshot_retention_period(0)
        ),
        ("InvalidRetentionPeriodFault".into(), 400)
    );
    rs.create_cluster_snapshot()
        .cluster_identifier("c1")
        .snapshot_identifier("s1")
        .send()
        .await
        .expect("create snapshot");
    // §3.9: ClusterSnapshotAlreadyExists is 400.
    assert_eq!(
        fails!(
            rs.create_cluster_snapshot()
                .cluster_identifier("c1")
                .snapshot_identifier("s1")
        ),
        ("ClusterSnapshotAlreadyExists".into(), 400)
    );
    wait_snapshot(&rs, "s1").await;
    // §3.10: copying a manual snapshot is InvalidClusterSnapshotState 400.
    assert_eq!(
        fails!(
            rs.copy_cluster_snapshot()
                .source_snapshot_identifier("s1")
                .target_snapshot_identifier("t1")
        ),
        ("InvalidClusterSnapshotState".into(), 400)
    );

    // §3.14: AuthorizationNotFound 404, AuthorizationAlreadyExists 400.
    assert_eq!(
        fails!(
            rs.revoke_snapshot_access()
                .snapshot_identifier("s1")
                .account_with_restore_access(GRANTEE)
        ),
        ("AuthorizationNotFound".into(), 404)
    );
    rs.authorize_snapshot_access()
        .snapshot_identifier("s1")
        .account_with_restore_access(GRANTEE)
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        fails!(
            rs.authorize_snapshot_access()
                .snapshot_identifier("s1")
                .account_with_restore_access(GRANTEE)
        ),
        ("AuthorizationAlreadyExists".into(), 400)
    );

    // §3.18: an incompatible node type is InvalidRestore with HTTP 406.
    assert_eq!(
        fails!(
            rs.restore_from_cluster_snapshot()
                .cluster_identifier("r1")
                .snapshot_identifier("s1")
                .node_type("ra3.4xlarge")
        ),
        ("InvalidRestore".into(), 406)
    );
    // §3.15: tags on a missing resource are ResourceNotFoundFault 404.
    assert_eq!(
        fails!(
            rs.describe_tags()
                .resource_name(format!("arn:aws:redshift:us-east-1:{OWNER}:cluster:ghost"))
        ),
        ("ResourceNotFoundFault".into(), 404)
    );
}

#[tokio::test]
async fn modeled_errors_map_to_typed_sdk_variants() {
    let server = Server::in_memory();
    let rs = server.redshift(OWNER, "secret");
    // The SDK maps the wire code back to the modelled exception (§1.3): the code must be the
    // model's `error.code`, not the shape name, for these to match.
    let err = rs
        .describe_clusters()
        .cluster_identifier("ghost")
        .send()
        .await
        .expect_err("no such cluster");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_cluster_not_found_fault()),
        "{err:?}"
    );
    let err = rs
        .describe_cluster_snapshots()
        .snapshot_identifier("ghost")
        .send()
        .await
        .expect_err("no such snapshot");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_cluster_snapshot_not_found_fault()),
        "{err:?}"
    );
    let err = rs
        .revoke_snapshot_access()
        .snapshot_identifier("ghost")
        .account_with_restore_access(GRANTEE)
        .send()
        .await
        .expect_err("no such snapshot");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_cluster_snapshot_not_found_fault()),
        "{err:?}"
    );
}
