//! Cluster lifecycle: CreateCluster (§3.5), DescribeClusters (§3.8), ModifyCluster (§3.7),
//! DeleteCluster (§3.6), Pause/Resume (§3.2), and their §3.20 error codes.

mod common;

use common::*;
use serde_json::json;

#[test]
fn create_returns_creating_then_available_with_endpoint_and_defaults() {
    let h = H::new();
    let out = h.create_cluster("MyCluster", json!({}));
    let c = &out["Cluster"];
    assert_eq!(
        c["ClusterIdentifier"], "mycluster",
        "identifiers are stored lower-cased (§1.4)"
    );
    assert_eq!(c["ClusterStatus"], "creating");
    assert!(
        c.get("Endpoint").is_none(),
        "no endpoint while creating (§3.2)"
    );
    assert_eq!(c["AutomatedSnapshotRetentionPeriod"], 1);
    assert_eq!(c["ManualSnapshotRetentionPeriod"], -1);
    assert!(
        c["ClusterNamespaceArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:redshift:us-east-1:111111111111:namespace:")
    );
    let d = h.ok(
        "DescribeClusters",
        json!({"ClusterIdentifier": "MYCLUSTER"}),
    );
    let c = &d["Clusters"][0];
    assert_eq!(c["ClusterStatus"], "available");
    assert_eq!(c["ClusterAvailabilityStatus"], "Available");
    assert_eq!(c["Endpoint"]["Port"], 5439);
    assert!(
        c["Endpoint"]["Address"]
            .as_str()
            .unwrap()
            .starts_with("mycluster.")
    );
    assert_eq!(c["ClusterCreateTime"], json!(t0().as_second()));
    assert_eq!(c["ClusterNodes"][0]["NodeRole"], "SHARED");
}

#[test]
fn create_rejects_bad_parameters_with_the_right_codes() {
    let h = H::new();
    for bad in ["1abc", "a--b", "abc-", "a_b"] {
        let e = h.call("CreateCluster", json!({"ClusterIdentifier": bad, "NodeType": "dc2.large", "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1"})).unwrap_err();
        assert_eq!(common(&e), "InvalidParameterValue", "{bad}");
    }
    let e = h.call("CreateCluster", json!({"ClusterIdentifier": "c", "NodeType": "dc2.large", "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1", "ManualSnapshotRetentionPeriod": 0})).unwrap_err();
    assert_eq!(modeled(&e), ("InvalidRetentionPeriodFault", 400));
    let e = h.call("CreateCluster", json!({"ClusterIdentifier": "c", "NodeType": "dc2.large", "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1", "AutomatedSnapshotRetentionPeriod": 36})).unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    let e = h.call("CreateCluster", json!({"ClusterIdentifier": "c", "NodeType": "ra3.xlplus", "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1", "AutomatedSnapshotRetentionPeriod": 0})).unwrap_err();
    assert_eq!(
        common(&e),
        "InvalidParameterValue",
        "ra3 cannot disable automated snapshots (§3.3)"
    );
    let e = h.call("CreateCluster", json!({"ClusterIdentifier": "c", "NodeType": "dc2.large", "MasterUsername": "admin", "MasterUserPassword": "short"})).unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    let e = h.call("CreateCluster", json!({"ClusterIdentifier": "c", "NodeType": "dc2.large", "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1", "SnapshotScheduleIdentifier": "nope"})).unwrap_err();
    assert_eq!(modeled(&e), ("SnapshotScheduleNotFound", 400));
    h.create_cluster("c", json!({}));
    let e = h.call("CreateCluster", json!({"ClusterIdentifier": "C", "NodeType": "dc2.large", "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1"})).unwrap_err();
    assert_eq!(modeled(&e), ("ClusterAlreadyExists", 400));
}

#[test]
fn delete_needs_a_final_snapshot_decision_and_keeps_the_final_snapshot() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    let e = h
        .call("DeleteCluster", json!({"ClusterIdentifier": "c1"}))
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterCombination");
    assert_eq!(
        message(&e),
        "FinalClusterSnapshotIdentifier is required unless SkipFinalClusterSnapshot is specified."
    );
    let e = h.call("DeleteCluster", json!({"ClusterIdentifier": "c1", "SkipFinalClusterSnapshot": true, "FinalClusterSnapshotIdentifier": "f"})).unwrap_err();
    assert_eq!(common(&e), "InvalidParameterCombination");
    let e = h
        .call(
            "DeleteCluster",
            json!({"ClusterIdentifier": "nope", "SkipFinalClusterSnapshot": true}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterNotFound", 404));
    assert_eq!(message(&e), "Cluster nope not found.");
    let e = h.call("DeleteCluster", json!({"ClusterIdentifier": "c1", "FinalClusterSnapshotIdentifier": "final", "FinalClusterSnapshotRetentionPeriod": 0})).unwrap_err();
    assert_eq!(modeled(&e), ("InvalidRetentionPeriodFault", 400));
    assert_eq!(
        h.snapshot_ids(OWNER, json!({"SnapshotType": "automated"}))
            .len(),
        1
    );
    let out = h.dispatch_only(
        "DeleteCluster",
        json!({"ClusterIdentifier": "c1", "FinalClusterSnapshotIdentifier": "Final-1"}),
    );
    assert_eq!(out["Cluster"]["ClusterStatus"], "final-snapshot");
    h.engine.run_due().unwrap();
    let e = h
        .call("DescribeClusters", json!({"ClusterIdentifier": "c1"}))
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("ClusterNotFound", 404),
        "ClusterDeleted waiter needs 404 (§1.6)"
    );
    let snaps = h.snapshots(OWNER, json!({}));
    assert_eq!(
        snaps.len(),
        1,
        "automated snapshots go with the cluster, the final one stays"
    );
    assert_eq!(snaps[0]["SnapshotIdentifier"], "final-1");
    assert_eq!(snaps[0]["SnapshotType"], "manual");
    assert_eq!(snaps[0]["Status"], "available");
    assert_eq!(snaps[0]["ManualSnapshotRetentionPeriod"], -1);
    // The final snapshot id is now taken.
    h.create_cluster("c2", json!({}));
    let e = h
        .call(
            "DeleteCluster",
            json!({"ClusterIdentifier": "c2", "FinalClusterSnapshotIdentifier": "final-1"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotAlreadyExists", 400));
}

#[test]
fn delete_while_a_snapshot_is_being_taken_is_invalid_cluster_state() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    h.dispatch_only(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s1"}),
    );
    let e = h.dispatch_only_err(
        "DeleteCluster",
        json!({"ClusterIdentifier": "c1", "SkipFinalClusterSnapshot": true}),
    );
    assert_eq!(modeled(&e), ("InvalidClusterState", 400));
    assert_eq!(
        message(&e),
        "There is an operation running on the Cluster. Please try to delete it at a later time."
    );
    h.engine.run_due().unwrap();
    h.ok(
        "DeleteCluster",
        json!({"ClusterIdentifier": "c1", "SkipFinalClusterSnapshot": true}),
    );
    assert_eq!(
        h.snapshot_ids(OWNER, json!({})),
        vec!["s1".to_owned()],
        "manual snapshots survive deletion"
    );
}

#[test]
fn pause_and_resume_go_through_their_states() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    let out = h.dispatch_only("PauseCluster", json!({"ClusterIdentifier": "c1"}));
    assert_eq!(out["Cluster"]["ClusterStatus"], "pausing");
    h.engine.run_due().unwrap();
    assert_eq!(
        h.ok("DescribeClusters", json!({}))["Clusters"][0]["ClusterStatus"],
        "paused"
    );
    let e = h
        .call("PauseCluster", json!({"ClusterIdentifier": "c1"}))
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidClusterState", 400));
    let e = h
        .call(
            "CreateClusterSnapshot",
            json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidClusterState", 400));
    h.ok("ResumeCluster", json!({"ClusterIdentifier": "c1"}));
    assert_eq!(
        h.ok("DescribeClusters", json!({}))["Clusters"][0]["ClusterStatus"],
        "available"
    );
    let e = h
        .call("ResumeCluster", json!({"ClusterIdentifier": "nope"}))
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterNotFound", 404));
}

#[test]
fn modify_cluster_retention_fields() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    let out = h.ok("ModifyCluster", json!({"ClusterIdentifier": "c1", "AutomatedSnapshotRetentionPeriod": 5, "ManualSnapshotRetentionPeriod": 7}));
    assert_eq!(out["Cluster"]["AutomatedSnapshotRetentionPeriod"], 5);
    assert_eq!(out["Cluster"]["ManualSnapshotRetentionPeriod"], 7);
    let e = h
        .call(
            "ModifyCluster",
            json!({"ClusterIdentifier": "c1", "ManualSnapshotRetentionPeriod": 3654}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidRetentionPeriodFault", 400));
    let e = h
        .call(
            "ModifyCluster",
            json!({"ClusterIdentifier": "zz", "AutomatedSnapshotRetentionPeriod": 2}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterNotFound", 404));
    // New manual snapshots take the cluster default (§3.9).
    let s = h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "m1"}),
    );
    assert_eq!(s["Snapshot"]["ManualSnapshotRetentionPeriod"], 7);
    h.create_cluster("c2", json!({}));
    let e = h
        .call(
            "ModifyCluster",
            json!({"ClusterIdentifier": "c1", "NewClusterIdentifier": "c2"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterAlreadyExists", 400));
}
