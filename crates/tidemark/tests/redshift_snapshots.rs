//! Redshift clusters and snapshots end to end with the AWS SDK for Rust over awsQuery:
//! CreateCluster → available, automated snapshots on the virtual clock (§3.3),
//! CopyClusterSnapshot as the seed page shows it (§3.10), sharing and a cross-account
//! restore that reaches RestoreStatus `completed` (§3.14, §3.18, §1.6), and §3.20 codes.

mod common;

use std::time::Duration;

use aws_sdk_redshift::error::ProvideErrorMetadata;
use common::Server;

const OWNER: &str = "111111111111";
const GRANTEE: &str = "222222222222";

async fn wait_for_cluster(
    rs: &aws_sdk_redshift::Client,
    id: &str,
    done: impl Fn(&aws_sdk_redshift::types::Cluster) -> bool,
) -> aws_sdk_redshift::types::Cluster {
    for _ in 0..100 {
        let out = rs
            .describe_clusters()
            .cluster_identifier(id)
            .send()
            .await
            .expect("describe");
        let c = out.clusters()[0].clone();
        if done(&c) {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cluster {id} did not settle");
}

#[tokio::test]
async fn snapshots_copy_share_and_restore_over_the_wire() {
    let server = Server::in_memory();
    let (status, body) = server.http(
        "POST",
        "/_tidemark/clock",
        &[("Content-Type", "application/json")],
        br#"{"freeze": true}"#,
    );
    assert_eq!(status, 200, "{body}");
    let rs = server.redshift(OWNER, "secret");
    let created = rs
        .create_cluster()
        .cluster_identifier("ExampleCluster")
        .node_type("dc2.large")
        .master_username("adminuser")
        .master_user_password("Passw0rd1")
        .send()
        .await
        .expect("create cluster");
    assert_eq!(
        created.cluster().and_then(|c| c.cluster_identifier()),
        Some("examplecluster")
    );
    let c = wait_for_cluster(&rs, "examplecluster", |c| {
        c.cluster_status() == Some("available")
    })
    .await;
    assert_eq!(c.endpoint().and_then(|e| e.port()), Some(5439));

    let err = rs
        .delete_cluster()
        .cluster_identifier("examplecluster")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterCombination"), "{err:?}");

    // Advance 8 hours of virtual time: a second automated snapshot is taken.
    let (status, body) = server.http(
        "POST",
        "/_tidemark/clock",
        &[("Content-Type", "application/json")],
        br#"{"advance_seconds": 28800}"#,
    );
    assert_eq!(status, 200, "{body}");
    let autos = rs
        .describe_cluster_snapshots()
        .snapshot_type("automated")
        .send()
        .await
        .expect("describe snapshots");
    let ids: Vec<&str> = autos
        .snapshots()
        .iter()
        .filter_map(|s| s.snapshot_identifier())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.iter().all(|i| i.starts_with("rs:examplecluster-")));

    let err = rs
        .delete_cluster_snapshot()
        .snapshot_identifier(ids[0])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidClusterSnapshotState"), "{err:?}");
    let err = rs
        .describe_cluster_snapshots()
        .snapshot_identifier("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ClusterSnapshotNotFound"), "{err:?}");

    let copy = rs
        .copy_cluster_snapshot()
        .source_snapshot_identifier(ids[0])
        .target_snapshot_identifier("my-saved-snapshot-copy")
        .send()
        .await
        .expect("copy");
    let s = copy.snapshot().expect("snapshot");
    assert_eq!(s.status(), Some("available"));
    assert_eq!(s.snapshot_type(), Some("manual"));
    assert_eq!(s.cluster_identifier(), Some("examplecluster"));
    assert_eq!(s.master_username(), Some("adminuser"));
    assert_eq!(s.db_name(), Some("dev"));
    assert_eq!(s.port(), Some(5439));
    assert!(s.total_backup_size_in_mega_bytes().is_some_and(|m| m > 0.0));

    let shared = rs
        .authorize_snapshot_access()
        .snapshot_identifier("my-saved-snapshot-copy")
        .account_with_restore_access(GRANTEE)
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        shared
            .snapshot()
            .map(|s| s.accounts_with_restore_access().len()),
        Some(1)
    );
    let err = rs
        .authorize_snapshot_access()
        .snapshot_identifier("my-saved-snapshot-copy")
        .account_with_restore_access(GRANTEE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AuthorizationAlreadyExists"), "{err:?}");

    let other = server.redshift(GRANTEE, "secret");
    let seen = other
        .describe_cluster_snapshots()
        .send()
        .await
        .expect("grantee describe");
    assert_eq!(seen.snapshots().len(), 1);
    assert!(
        seen.snapshots()[0]
            .accounts_with_restore_access()
            .is_empty()
    );
    other
        .restore_from_cluster_snapshot()
        .cluster_identifier("restored")
        .snapshot_identifier("my-saved-snapshot-copy")
        .owner_account(OWNER)
        .send()
        .await
        .expect("restore");
    let r = wait_for_cluster(&other, "restored", |c| {
        c.restore_status().and_then(|r| r.status()) == Some("completed")
    })
    .await;
    assert_eq!(r.cluster_status(), Some("available"));

    rs.revoke_snapshot_access()
        .snapshot_identifier("my-saved-snapshot-copy")
        .account_with_restore_access(GRANTEE)
        .send()
        .await
        .expect("revoke");
    let err = rs
        .revoke_snapshot_access()
        .snapshot_identifier("my-saved-snapshot-copy")
        .account_with_restore_access(GRANTEE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AuthorizationNotFound"), "{err:?}");
    let after = other
        .describe_cluster_snapshots()
        .owner_account(OWNER)
        .send()
        .await
        .expect("describe");
    assert!(
        after.snapshots().is_empty(),
        "revoked: the grantee no longer sees the owner's snapshot"
    );
    let own = other
        .describe_cluster_snapshots()
        .send()
        .await
        .expect("describe");
    assert!(
        own.snapshots()
            .iter()
            .all(|s| s.owner_account() == Some(GRANTEE)),
        "only its restored cluster's own snapshots"
    );

    rs.delete_cluster()
        .cluster_identifier("examplecluster")
        .final_cluster_snapshot_identifier("final")
        .send()
        .await
        .expect("delete");
    for _ in 0..100 {
        match rs
            .describe_clusters()
            .cluster_identifier("examplecluster")
            .send()
            .await
        {
            Err(e) if e.code() == Some("ClusterNotFound") => break,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let left = rs
        .describe_cluster_snapshots()
        .send()
        .await
        .expect("describe");
    let mut ids: Vec<&str> = left
        .snapshots()
        .iter()
        .filter_map(|s| s.snapshot_identifier())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec!["final", "my-saved-snapshot-copy"]);
}
