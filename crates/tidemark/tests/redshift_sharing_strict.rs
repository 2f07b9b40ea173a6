//! Snapshot sharing between two verified identities in strict mode (reference §3.14): the
//! grantee, identified only by its signed credentials, sees and restores the shared
//! snapshot, cannot delete, copy, modify or re-share it, and loses it on revoke; a third
//! account never sees it; only the owner sees AccountsWithRestoreAccess.

mod common;

use std::time::Duration;

use aws_sdk_redshift::error::ProvideErrorMetadata;
use common::Server;

const CREDENTIALS: &str = r#"
[[credential]]
access_key_id = "AKIDOWNER0000000001"
secret_access_key = "owner-secret"
account_id = "111111111111"
name = "owner"

[[credential]]
access_key_id = "AKIDGRANTEE00000002"
secret_access_key = "grantee-secret"
account_id = "222222222222"
name = "grantee"

[[credential]]
access_key_id = "AKIDSTRANGER0000003"
secret_access_key = "stranger-secret"
account_id = "333333333333"
name = "stranger"
"#;

async fn settle<T>(mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = probe().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("state did not settle");
}

#[tokio::test]
async fn sharing_is_real_between_verified_accounts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = dir.path().join("credentials.toml");
    std::fs::write(&creds, CREDENTIALS).expect("write credentials");
    let server = Server::start(&[
        "--in-memory",
        "--auth",
        "strict",
        "--credentials",
        creds.to_str().expect("utf-8"),
    ]);
    let owner = server.redshift("AKIDOWNER0000000001", "owner-secret");
    let grantee = server.redshift("AKIDGRANTEE00000002", "grantee-secret");
    let stranger = server.redshift("AKIDSTRANGER0000003", "stranger-secret");

    owner
        .create_cluster()
        .cluster_identifier("src")
        .node_type("dc2.large")
        .master_username("adminuser")
        .master_user_password("Passw0rd1")
        .send()
        .await
        .expect("create cluster");
    settle(async || {
        let out = owner
            .describe_clusters()
            .cluster_identifier("src")
            .send()
            .await
            .ok()?;
        (out.clusters()[0].cluster_status() == Some("available")).then_some(())
    })
    .await;
    owner
        .create_cluster_snapshot()
        .cluster_identifier("src")
        .snapshot_identifier("shared-snap")
        .send()
        .await
        .expect("snapshot");
    settle(async || {
        let out = owner
            .describe_cluster_snapshots()
            .snapshot_identifier("shared-snap")
            .send()
            .await
            .ok()?;
        (out.snapshots()[0].status() == Some("available")).then_some(())
    })
    .await;

    // A wrong secret for the grantee's key is refused before anything is looked at.
    let forged = server.redshift("AKIDGRANTEE00000002", "not-the-secret");
    let err = forged
        .describe_cluster_snapshots()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));

    // Before the grant nobody else sees it.
    let err = grantee
        .restore_from_cluster_snapshot()
        .cluster_identifier("stolen")
        .snapshot_identifier("shared-snap")
        .owner_account("111111111111")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.code(),
            Some("ClusterSnapshotNotFound") | Some("AccessToSnapshotDenied")
        ),
        "{err:?}"
    );

    owner
        .authorize_snapshot_access()
        .snapshot_identifier("shared-snap")
        .account_with_restore_access("222222222222")
        .send()
        .await
        .expect("authorize");

    let seen = grantee
        .describe_cluster_snapshots()
        .owner_account("111111111111")
        .send()
        .await
        .expect("grantee describes");
    let snap = seen
        .snapshots()
        .iter()
        .find(|s| s.snapshot_identifier() == Some("shared-snap"))
        .expect("grantee sees the shared snapshot");
    assert!(
        snap.accounts_with_restore_access().is_empty(),
        "only the owner sees who has access"
    );
    let own_view = owner
        .describe_cluster_snapshots()
        .snapshot_identifier("shared-snap")
        .send()
        .await
        .expect("owner describes");
    let accts: Vec<_> = own_view.snapshots()[0]
        .accounts_with_restore_access()
        .iter()
        .filter_map(|a| a.account_id())
        .collect();
    assert_eq!(accts, ["222222222222"]);
    let strangers_view = stranger
        .describe_cluster_snapshots()
        .send()
        .await
        .expect("stranger describes");
    assert!(
        strangers_view.snapshots().is_empty(),
        "a third account never sees it"
    );

    // Forbidden to the grantee: delete, copy, modify, re-share.
    let err = grantee
        .delete_cluster_snapshot()
        .snapshot_identifier("shared-snap")
        .snapshot_cluster_identifier("src")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ClusterSnapshotNotFound"), "{err:?}");
    let err = grantee
        .copy_cluster_snapshot()
        .source_snapshot_identifier("shared-snap")
        .target_snapshot_identifier("mine")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ClusterSnapshotNotFound"), "{err:?}");
    let err = grantee
        .authorize_snapshot_access()
        .snapshot_identifier("shared-snap")
        .account_with_restore_access("333333333333")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ClusterSnapshotNotFound"), "{err:?}");
    // The owner cannot delete a snapshot while it is shared (reference §3.14).
    let err = owner
        .delete_cluster_snapshot()
        .snapshot_identifier("shared-snap")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidClusterSnapshotState"), "{err:?}");

    // The grantee restores it into its own account.
    grantee
        .restore_from_cluster_snapshot()
        .cluster_identifier("restored")
        .snapshot_identifier("shared-snap")
        .owner_account("111111111111")
        .send()
        .await
        .expect("grantee restores");
    settle(async || {
        let out = grantee
            .describe_clusters()
            .cluster_identifier("restored")
            .send()
            .await
            .ok()?;
        (out.clusters()[0].restore_status().and_then(|r| r.status()) == Some("completed"))
            .then_some(())
    })
    .await;
    assert!(
        owner
            .describe_clusters()
            .cluster_identifier("restored")
            .send()
            .await
            .is_err(),
        "the restore lives in the grantee's account"
    );

    owner
        .revoke_snapshot_access()
        .snapshot_identifier("shared-snap")
        .account_with_restore_access("222222222222")
        .send()
        .await
        .expect("revoke");
    let after = grantee
        .describe_cluster_snapshots()
        .owner_account("111111111111")
        .send()
        .await
        .expect("grantee describes");
    assert!(
        after
            .snapshots()
            .iter()
            .all(|s| s.snapshot_identifier() != Some("shared-snap")),
        "revoked: gone for the grantee"
    );
    owner
        .delete_cluster_snapshot()
        .snapshot_identifier("shared-snap")
        .send()
        .await
        .expect("unshared: the owner may delete it");
}
