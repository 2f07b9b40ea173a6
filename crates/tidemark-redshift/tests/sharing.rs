//! Sharing between accounts (§3.14) and restoring a shared snapshot (§3.18): the grantee
//! sees and restores it, cannot delete or copy it, loses it on revoke; nobody else sees it;
//! only the owner sees AccountsWithRestoreAccess.

mod common;

use common::*;
use serde_json::json;

fn setup() -> H {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    let scope = tidemark_redshift::Scope {
        account: OWNER.into(),
        region: "us-east-1".into(),
    };
    h.svc
        .volumes()
        .write_file(&scope, "c1", "base/dev/orders", b"order-1,order-2")
        .unwrap();
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "shared"}),
    );
    h
}

#[test]
fn grantee_sees_and_restores_then_loses_access_on_revoke() {
    let h = setup();
    assert!(h.snapshots(OTHER, json!({})).is_empty(), "not shared yet");
    let out = h.ok(
        "AuthorizeSnapshotAccess",
        json!({"SnapshotIdentifier": "shared", "AccountWithRestoreAccess": OTHER}),
    );
    assert_eq!(
        out["Snapshot"]["AccountsWithRestoreAccess"],
        json!([{"AccountId": OTHER}])
    );
    let seen = h.snapshots(OTHER, json!({}));
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["OwnerAccount"], OWNER);
    assert!(
        seen[0].get("AccountsWithRestoreAccess").is_none(),
        "only the owner sees the share list"
    );
    assert_eq!(h.snapshots(OTHER, json!({"OwnerAccount": OWNER})).len(), 1);
    assert!(
        h.snapshots(OTHER, json!({"OwnerAccount": OTHER}))
            .is_empty()
    );
    assert!(
        h.snapshots(OTHER, json!({"TagKeys": ["x"]})).is_empty(),
        "tag filters never return others' snapshots"
    );
    assert!(
        h.snapshots(THIRD, json!({})).is_empty(),
        "nobody else sees it"
    );
    // The grantee cannot delete, copy or share it.
    let e = h
        .call_as(
            OTHER,
            "DeleteClusterSnapshot",
            json!({"SnapshotIdentifier": "shared"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    let e = h
        .call_as(
            OTHER,
            "CopyClusterSnapshot",
            json!({"SourceSnapshotIdentifier": "shared", "TargetSnapshotIdentifier": "mine"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    let e = h
        .call_as(
            OTHER,
            "RevokeSnapshotAccess",
            json!({"SnapshotIdentifier": "shared", "AccountWithRestoreAccess": OTHER}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("AccessToSnapshotDenied", 400));
    // Restore by OwnerAccount: the grantee gets the owner's data in its own account.
    h.call_as(
        OTHER,
        "RestoreFromClusterSnapshot",
        json!({"ClusterIdentifier": "copy", "SnapshotIdentifier": "shared", "OwnerAccount": OWNER}),
    )
    .unwrap();
    let c = &h
        .call_as(
            OTHER,
            "DescribeClusters",
            json!({"ClusterIdentifier": "copy"}),
        )
        .unwrap()["Clusters"][0];
    assert_eq!(c["ClusterStatus"], "available");
    assert_eq!(c["RestoreStatus"]["Status"], "completed");
    let other = tidemark_redshift::Scope {
        account: OTHER.into(),
        region: "us-east-1".into(),
    };
    let files = h.svc.volumes().read_volume(&other, "copy").unwrap();
    assert!(
        files
            .iter()
            .any(|(n, b)| n == "base/dev/orders" && b == b"order-1,order-2"),
        "restored bytes equal the captured ones"
    );
    let e = h.call_as(THIRD, "RestoreFromClusterSnapshot", json!({"ClusterIdentifier": "x", "SnapshotIdentifier": "shared", "OwnerAccount": OWNER})).unwrap_err();
    assert_eq!(modeled(&e), ("AccessToSnapshotDenied", 400));
    // A shared snapshot cannot be deleted by its owner either.
    let e = h
        .call(
            "DeleteClusterSnapshot",
            json!({"SnapshotIdentifier": "shared"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidClusterSnapshotState", 400));
    let out = h.ok(
        "RevokeSnapshotAccess",
        json!({"SnapshotIdentifier": "shared", "AccountWithRestoreAccess": OTHER}),
    );
    assert!(out["Snapshot"].get("AccountsWithRestoreAccess").is_none());
    assert!(h.snapshots(OTHER, json!({})).is_empty(), "revoked");
    let arn = "arn:aws:redshift:us-east-1:111111111111:snapshot:c1/shared";
    let e = h
        .call_as(
            OTHER,
            "RestoreFromClusterSnapshot",
            json!({"ClusterIdentifier": "y", "SnapshotArn": arn}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("AccessToSnapshotDenied", 400));
    h.ok(
        "DeleteClusterSnapshot",
        json!({"SnapshotIdentifier": "shared"}),
    );
}

#[test]
fn sharing_errors() {
    let h = setup();
    let auto_cluster = h.create_cluster("c2", json!({}));
    assert_eq!(auto_cluster["Cluster"]["ClusterIdentifier"], "c2");
    let auto = h.snapshot_ids(OWNER, json!({"ClusterIdentifier": "c2"}))[0].clone();
    let e = h
        .call(
            "AuthorizeSnapshotAccess",
            json!({"SnapshotIdentifier": auto, "AccountWithRestoreAccess": OTHER}),
        )
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("InvalidClusterSnapshotState", 400),
        "automated snapshots cannot be shared"
    );
    let e = h
        .call(
            "AuthorizeSnapshotAccess",
            json!({"SnapshotIdentifier": "nope", "AccountWithRestoreAccess": OTHER}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    let e = h
        .call(
            "AuthorizeSnapshotAccess",
            json!({"SnapshotIdentifier": "shared", "AccountWithRestoreAccess": OWNER}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    h.ok(
        "AuthorizeSnapshotAccess",
        json!({"SnapshotIdentifier": "shared", "AccountWithRestoreAccess": OTHER}),
    );
    let e = h
        .call(
            "AuthorizeSnapshotAccess",
            json!({"SnapshotIdentifier": "shared", "AccountWithRestoreAccess": OTHER}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("AuthorizationAlreadyExists", 400));
    let e = h
        .call(
            "RevokeSnapshotAccess",
            json!({"SnapshotIdentifier": "shared", "AccountWithRestoreAccess": THIRD}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("AuthorizationNotFound", 404));
    for i in 1..20 {
        h.ok("AuthorizeSnapshotAccess", json!({"SnapshotIdentifier": "shared", "AccountWithRestoreAccess": format!("{:012}", 500 + i)}));
    }
    let e = h.call("AuthorizeSnapshotAccess", json!({"SnapshotArn": "arn:aws:redshift:us-east-1:111111111111:snapshot:c1/shared", "AccountWithRestoreAccess": "999999999999"})).unwrap_err();
    assert_eq!(
        modeled(&e),
        ("AuthorizationQuotaExceeded", 400),
        "at most 20 accounts"
    );
    let e = h
        .call(
            "RevokeSnapshotAccess",
            json!({"SnapshotIdentifier": "nope", "AccountWithRestoreAccess": OTHER}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
}
