//! RestoreFromClusterSnapshot (§3.18): configuration from the snapshot with overrides,
//! RestoreStatus ends `completed` (ClusterRestored waiter, §1.6), data restored byte for
//! byte, and the §3.20 errors.

mod common;

use common::*;
use serde_json::json;

#[test]
fn restore_copies_configuration_and_data() {
    let h = H::new();
    h.create_cluster(
        "src",
        json!({"NumberOfNodes": 2, "DBName": "sales", "AutomatedSnapshotRetentionPeriod": 4}),
    );
    let scope = tidemark_redshift::Scope {
        account: OWNER.into(),
        region: "us-east-1".into(),
    };
    h.svc
        .volumes()
        .write_file(&scope, "src", "base/sales/t1", b"rows")
        .unwrap();
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "src", "SnapshotIdentifier": "s"}),
    );
    h.svc
        .volumes()
        .write_file(&scope, "src", "base/sales/t1", b"changed later")
        .unwrap();
    let out = h.dispatch_only("RestoreFromClusterSnapshot", json!({"ClusterIdentifier": "dst", "SnapshotIdentifier": "S", "Port": 5500, "NodeType": "dc2.8xlarge"}));
    assert_eq!(out["Cluster"]["ClusterStatus"], "creating");
    assert!(out["Cluster"].get("RestoreStatus").is_none());
    h.engine.run_due().unwrap();
    let c = &h.ok("DescribeClusters", json!({"ClusterIdentifier": "dst"}))["Clusters"][0];
    assert_eq!(c["ClusterStatus"], "available");
    assert_eq!(c["RestoreStatus"]["Status"], "completed");
    assert_eq!(c["RestoreStatus"]["EstimatedTimeToCompletionInSeconds"], 0);
    assert_eq!(c["NodeType"], "dc2.8xlarge");
    assert_eq!(c["NumberOfNodes"], 2);
    assert_eq!(c["DBName"], "sales");
    assert_eq!(c["Endpoint"]["Port"], 5500);
    assert_eq!(c["AutomatedSnapshotRetentionPeriod"], 4);
    let files = h.svc.volumes().read_volume(&scope, "dst").unwrap();
    assert!(
        files
            .iter()
            .any(|(n, b)| n == "base/sales/t1" && b == b"rows"),
        "data as of the snapshot"
    );
}

#[test]
fn restore_errors() {
    let h = H::new();
    h.create_cluster("src", json!({}));
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "src", "SnapshotIdentifier": "s"}),
    );
    let e = h
        .call(
            "RestoreFromClusterSnapshot",
            json!({"ClusterIdentifier": "d", "SnapshotIdentifier": "none"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    let e = h
        .call(
            "RestoreFromClusterSnapshot",
            json!({"ClusterIdentifier": "src", "SnapshotIdentifier": "s"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterAlreadyExists", 400));
    let e = h
        .call(
            "RestoreFromClusterSnapshot",
            json!({"ClusterIdentifier": "d", "SnapshotIdentifier": "s", "NodeType": "ra3.4xlarge"}),
        )
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("InvalidRestore", 406),
        "dc2 restores only into dc2"
    );
    let e = h
        .call(
            "RestoreFromClusterSnapshot",
            json!({"ClusterIdentifier": "d--x", "SnapshotIdentifier": "s"}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    let e = h.call("RestoreFromClusterSnapshot", json!({"ClusterIdentifier": "d", "SnapshotIdentifier": "s", "SnapshotArn": "arn:aws:redshift:us-east-1:111111111111:snapshot:src/s"})).unwrap_err();
    assert_eq!(common(&e), "InvalidParameterCombination");
    let e = h.call("RestoreFromClusterSnapshot", json!({"ClusterIdentifier": "d", "SnapshotIdentifier": "s", "SnapshotScheduleIdentifier": "nope"})).unwrap_err();
    assert_eq!(modeled(&e), ("SnapshotScheduleNotFound", 400));
    h.dispatch_only(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "src", "SnapshotIdentifier": "pending"}),
    );
    let e = h.dispatch_only_err(
        "RestoreFromClusterSnapshot",
        json!({"ClusterIdentifier": "d", "SnapshotIdentifier": "pending"}),
    );
    assert_eq!(modeled(&e), ("InvalidClusterSnapshotState", 400));
}
