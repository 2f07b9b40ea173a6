//! Manual snapshots: CreateClusterSnapshot (§3.9), CopyClusterSnapshot (§3.10 and the seed
//! page for `copy-cluster-snapshot`), DeleteClusterSnapshot (§3.11), ModifyClusterSnapshot
//! (§3.13), the batch operations (§3.12), the §3.19 fields and the §3.20 errors.

mod common;

use common::*;
use serde_json::json;

fn auto_id(h: &H, cluster: &str) -> String {
    h.snapshot_ids(
        OWNER,
        json!({"ClusterIdentifier": cluster, "SnapshotType": "automated"}),
    )[0]
    .clone()
}

#[test]
fn create_answers_creating_then_available_with_real_capture_sizes() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    let out = h.dispatch_only("CreateClusterSnapshot", json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "Snap-1", "Tags": [{"Key": "team", "Value": "a"}]}));
    let s = &out["Snapshot"];
    assert_eq!(s["SnapshotIdentifier"], "snap-1");
    assert_eq!(s["Status"], "creating");
    assert_eq!(s["SnapshotType"], "manual");
    assert_eq!(s["TotalBackupSizeInMegaBytes"], -1.0);
    assert_eq!(s["ActualIncrementalBackupSizeInMegaBytes"], -1.0);
    assert_eq!(s["BackupProgressInMegaBytes"], 0.0);
    assert_eq!(s["EstimatedSecondsToCompletion"], -1);
    assert!(s.get("SnapshotRetentionStartTime").is_none());
    assert_eq!(s["Tags"][0]["Key"], "team");
    assert_eq!(
        s["SnapshotArn"],
        "arn:aws:redshift:us-east-1:111111111111:snapshot:c1/snap-1"
    );
    h.engine.run_due().unwrap();
    let s = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "snap-1"}))[0];
    assert_eq!(s["Status"], "available");
    // The fresh volume holds exactly 256 KiB + two small files; every byte is new.
    let files = h
        .svc
        .volumes()
        .read_volume(
            &tidemark_redshift::Scope {
                account: OWNER.into(),
                region: "us-east-1".into(),
            },
            "c1",
        )
        .unwrap();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let mb = bytes as f64 / 1048576.0;
    assert_eq!(s["TotalBackupSizeInMegaBytes"].as_f64().unwrap(), mb);
    assert_eq!(
        s["ActualIncrementalBackupSizeInMegaBytes"]
            .as_f64()
            .unwrap(),
        mb
    );
    assert_eq!(s["BackupProgressInMegaBytes"].as_f64().unwrap(), mb);
    assert_eq!(s["EstimatedSecondsToCompletion"], 0);
    assert_eq!(s["SnapshotRetentionStartTime"], json!(t0().as_second()));
    for f in [
        "Port",
        "AvailabilityZone",
        "ClusterCreateTime",
        "MasterUsername",
        "ClusterVersion",
        "EngineFullVersion",
        "NodeType",
        "NumberOfNodes",
        "DBName",
        "VpcId",
        "Encrypted",
        "EncryptedWithHSM",
        "OwnerAccount",
        "RestorableNodeTypes",
        "EnhancedVpcRouting",
        "MaintenanceTrackName",
        "ElapsedTimeInSeconds",
        "CurrentBackupRateInMegaBytesPerSecond",
    ] {
        assert!(s.get(f).is_some(), "{f} missing");
    }
    assert_eq!(
        s["RestorableNodeTypes"],
        json!(["dc2.large", "dc2.8xlarge"])
    );
    // Nothing changed: the next capture stores no new bytes.
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "snap-2"}),
    );
    let s2 = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "snap-2"}))[0];
    assert_eq!(s2["ActualIncrementalBackupSizeInMegaBytes"], 0.0);
    assert_eq!(s2["TotalBackupSizeInMegaBytes"].as_f64().unwrap(), mb);
    // One changed file is exactly the increment.
    let scope = tidemark_redshift::Scope {
        account: OWNER.into(),
        region: "us-east-1".into(),
    };
    h.svc
        .volumes()
        .write_file(&scope, "c1", "base/dev/new_table", &vec![7u8; 1048576])
        .unwrap();
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "snap-3"}),
    );
    let s3 = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "snap-3"}))[0];
    assert_eq!(s3["ActualIncrementalBackupSizeInMegaBytes"], 1.0);
    assert_eq!(s3["TotalBackupSizeInMegaBytes"].as_f64().unwrap(), mb + 1.0);
}

#[test]
fn create_errors() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    let e = h
        .call(
            "CreateClusterSnapshot",
            json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "bad--id"}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    let e = h
        .call(
            "CreateClusterSnapshot",
            json!({"ClusterIdentifier": "nope", "SnapshotIdentifier": "s"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterNotFound", 404));
    let e = h.call("CreateClusterSnapshot", json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s", "ManualSnapshotRetentionPeriod": 3654})).unwrap_err();
    assert_eq!(modeled(&e), ("InvalidRetentionPeriodFault", 400));
    let e = h.call("CreateClusterSnapshot", json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s", "Tags": [{"Key": "aws:x", "Value": "v"}]})).unwrap_err();
    assert_eq!(modeled(&e), ("InvalidTagFault", 400));
    let many: Vec<_> = (0..51)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    let e = h
        .call(
            "CreateClusterSnapshot",
            json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s", "Tags": many}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("TagLimitExceededFault", 400));
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s"}),
    );
    let e = h
        .call(
            "CreateClusterSnapshot",
            json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "S"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotAlreadyExists", 400));
    assert_eq!(
        message(&e),
        "Cannot create the snapshot because a snapshot with the identifier s already exists"
    );
}

#[test]
fn copy_follows_the_seed_page() {
    let h = H::new();
    h.create_cluster("examplecluster", json!({"MasterUsername": "adminuser"}));
    let src = auto_id(&h, "examplecluster");
    h.advance_hours(1);
    let out = h.ok("CopyClusterSnapshot", json!({"SourceSnapshotIdentifier": src, "TargetSnapshotIdentifier": "my-saved-snapshot-copy"}));
    let s = &out["Snapshot"];
    assert_eq!(s["Status"], "available");
    assert_eq!(s["SnapshotType"], "manual");
    assert_eq!(s["SnapshotIdentifier"], "my-saved-snapshot-copy");
    assert_eq!(s["ClusterIdentifier"], "examplecluster");
    assert_eq!(s["MasterUsername"], "adminuser");
    assert_eq!(s["DBName"], "dev");
    assert_eq!(s["Port"], 5439);
    assert_eq!(s["ClusterVersion"], "1.0");
    assert_eq!(
        s["SnapshotCreateTime"],
        json!(t0().as_second()),
        "the copy keeps the source's data time"
    );
    assert_eq!(s["ClusterCreateTime"], json!(t0().as_second()));
    assert_eq!(
        s["SnapshotRetentionStartTime"],
        json!(t0().as_second() + 3600)
    );
    assert_eq!(s["ManualSnapshotRetentionPeriod"], -1, "default -1");
    let source = &h.snapshots(OWNER, json!({"SnapshotIdentifier": src.clone()}))[0];
    assert_eq!(
        s["TotalBackupSizeInMegaBytes"],
        source["TotalBackupSizeInMegaBytes"]
    );
    // The copy outlives the source and the cluster, data included (no bytes copied: shared).
    h.ok(
        "DeleteCluster",
        json!({"ClusterIdentifier": "examplecluster", "SkipFinalClusterSnapshot": true}),
    );
    assert_eq!(
        h.snapshot_ids(OWNER, json!({})),
        vec!["my-saved-snapshot-copy".to_owned()]
    );
    h.ok(
        "RestoreFromClusterSnapshot",
        json!({"ClusterIdentifier": "back", "SnapshotIdentifier": "my-saved-snapshot-copy"}),
    );
    let c = &h.ok("DescribeClusters", json!({"ClusterIdentifier": "back"}))["Clusters"][0];
    assert_eq!(c["RestoreStatus"]["Status"], "completed");
}

#[test]
fn copy_errors() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    let src = auto_id(&h, "c1");
    let e = h
        .call(
            "CopyClusterSnapshot",
            json!({"SourceSnapshotIdentifier": "rs:missing", "TargetSnapshotIdentifier": "t"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    for bad in ["1t", "t-", "t--x", "", "t_x"] {
        let e = h
            .call(
                "CopyClusterSnapshot",
                json!({"SourceSnapshotIdentifier": src, "TargetSnapshotIdentifier": bad}),
            )
            .unwrap_err();
        assert_eq!(common(&e), "InvalidParameterValue", "{bad:?}");
    }
    let long = format!("a{}", "b".repeat(255));
    let e = h
        .call(
            "CopyClusterSnapshot",
            json!({"SourceSnapshotIdentifier": src, "TargetSnapshotIdentifier": long}),
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            tidemark_model::DispatchError::Invalid(_) | tidemark_model::DispatchError::Common(_)
        ),
        "256 chars is too long: {e:?}"
    );
    for bad in [0, -2, 3654] {
        let e = h.call("CopyClusterSnapshot", json!({"SourceSnapshotIdentifier": src, "TargetSnapshotIdentifier": "t", "ManualSnapshotRetentionPeriod": bad})).unwrap_err();
        assert_eq!(modeled(&e), ("InvalidRetentionPeriodFault", 400), "{bad}");
    }
    let e = h.call("CopyClusterSnapshot", json!({"SourceSnapshotIdentifier": src, "SourceSnapshotClusterIdentifier": "other", "TargetSnapshotIdentifier": "t"})).unwrap_err();
    assert_eq!(modeled(&e), ("ClusterNotFound", 404));
    h.create_cluster("c2", json!({}));
    let e = h.call("CopyClusterSnapshot", json!({"SourceSnapshotIdentifier": src, "SourceSnapshotClusterIdentifier": "c2", "TargetSnapshotIdentifier": "t"})).unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    let ok = h.ok("CopyClusterSnapshot", json!({"SourceSnapshotIdentifier": src, "SourceSnapshotClusterIdentifier": "c1", "TargetSnapshotIdentifier": "t", "ManualSnapshotRetentionPeriod": 3653}));
    assert_eq!(ok["Snapshot"]["ManualSnapshotRemainingDays"], 3653);
    let e = h
        .call(
            "CopyClusterSnapshot",
            json!({"SourceSnapshotIdentifier": src, "TargetSnapshotIdentifier": "T"}),
        )
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("ClusterSnapshotAlreadyExists", 400),
        "unique in the account, case-insensitively"
    );
    let e = h
        .call(
            "CopyClusterSnapshot",
            json!({"SourceSnapshotIdentifier": "t", "TargetSnapshotIdentifier": "t2"}),
        )
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("InvalidClusterSnapshotState", 400),
        "the source must be automated"
    );
}

#[test]
fn delete_and_batch_delete() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    let auto = auto_id(&h, "c1");
    let e = h
        .call("DeleteClusterSnapshot", json!({"SnapshotIdentifier": auto}))
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidClusterSnapshotState", 400));
    assert_eq!(
        message(&e),
        format!("Cannot delete the snapshot {auto} because only manual snapshots may be deleted")
    );
    let e = h
        .call(
            "DeleteClusterSnapshot",
            json!({"SnapshotIdentifier": "nope"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    assert_eq!(message(&e), "Snapshot nope not found.");
    h.dispatch_only(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "busy"}),
    );
    let e = h.dispatch_only_err(
        "DeleteClusterSnapshot",
        json!({"SnapshotIdentifier": "busy"}),
    );
    assert_eq!(
        modeled(&e),
        ("InvalidClusterSnapshotState", 400),
        "creating snapshots cannot be deleted"
    );
    h.engine.run_due().unwrap();
    let e = h
        .call(
            "DeleteClusterSnapshot",
            json!({"SnapshotIdentifier": "busy", "SnapshotClusterIdentifier": "c9"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    let out = h.ok(
        "DeleteClusterSnapshot",
        json!({"SnapshotIdentifier": "busy", "SnapshotClusterIdentifier": "c1"}),
    );
    assert_eq!(out["Snapshot"]["Status"], "deleted");
    assert_eq!(out["Snapshot"]["EstimatedSecondsToCompletion"], 0);
    let e = h
        .call(
            "DescribeClusterSnapshots",
            json!({"SnapshotIdentifier": "busy"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "a"}),
    );
    let out = h.ok("BatchDeleteClusterSnapshots", json!({"Identifiers": [{"SnapshotIdentifier": "a"}, {"SnapshotIdentifier": "missing"}, {"SnapshotIdentifier": auto}]}));
    assert_eq!(out["Resources"], json!(["a"]));
    assert_eq!(out["Errors"][0]["SnapshotIdentifier"], "missing");
    assert_eq!(out["Errors"][0]["FailureCode"], "ClusterSnapshotNotFound");
    assert_eq!(
        out["Errors"][0]["FailureReason"],
        "Snapshot missing not found."
    );
    assert_eq!(
        out["Errors"][1]["FailureCode"],
        "InvalidClusterSnapshotState"
    );
    let many: Vec<_> = (0..101)
        .map(|i| json!({"SnapshotIdentifier": format!("s{i}")}))
        .collect();
    let e = h
        .call("BatchDeleteClusterSnapshots", json!({"Identifiers": many}))
        .unwrap_err();
    assert_eq!(modeled(&e), ("BatchDeleteRequestSizeExceeded", 400));
}

#[test]
fn modify_and_batch_modify_retention() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    let auto = auto_id(&h, "c1");
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "m"}),
    );
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "n"}),
    );
    let out = h.ok(
        "ModifyClusterSnapshot",
        json!({"SnapshotIdentifier": "m", "ManualSnapshotRetentionPeriod": 10}),
    );
    assert_eq!(out["Snapshot"]["ManualSnapshotRetentionPeriod"], 10);
    assert_eq!(out["Snapshot"]["ManualSnapshotRemainingDays"], 10);
    let e = h
        .call(
            "ModifyClusterSnapshot",
            json!({"SnapshotIdentifier": auto, "ManualSnapshotRetentionPeriod": 10}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidClusterSnapshotState", 400));
    let e = h
        .call(
            "ModifyClusterSnapshot",
            json!({"SnapshotIdentifier": "m", "ManualSnapshotRetentionPeriod": 0}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidRetentionPeriodFault", 400));
    let e = h
        .call(
            "ModifyClusterSnapshot",
            json!({"SnapshotIdentifier": "zz", "ManualSnapshotRetentionPeriod": 5}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    h.advance_hours(72);
    let e = h
        .call(
            "ModifyClusterSnapshot",
            json!({"SnapshotIdentifier": "m", "ManualSnapshotRetentionPeriod": 2}),
        )
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("InvalidRetentionPeriodFault", 400),
        "expiry in the past needs Force"
    );
    let out = h.ok(
        "ModifyClusterSnapshot",
        json!({"SnapshotIdentifier": "m", "ManualSnapshotRetentionPeriod": 2, "Force": true}),
    );
    assert_eq!(out["Snapshot"]["Status"], "deleted");
    let auto = auto_id(&h, "c1");
    let out = h.ok(
        "BatchModifyClusterSnapshots",
        json!({"SnapshotIdentifierList": ["n", "zz", auto], "ManualSnapshotRetentionPeriod": 30}),
    );
    assert_eq!(out["Resources"], json!(["n"]));
    let codes: Vec<_> = out["Errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["FailureCode"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        codes,
        vec!["ClusterSnapshotNotFound", "InvalidClusterSnapshotState"]
    );
    let e = h
        .call(
            "BatchModifyClusterSnapshots",
            json!({"SnapshotIdentifierList": ["n"], "ManualSnapshotRetentionPeriod": -5}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidRetentionPeriodFault", 400));
    let ids: Vec<String> = (0..101).map(|i| format!("s{i}")).collect();
    let e = h
        .call(
            "BatchModifyClusterSnapshots",
            json!({"SnapshotIdentifierList": ids, "ManualSnapshotRetentionPeriod": 5}),
        )
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("BatchModifyClusterSnapshotsLimitExceededFault", 400)
    );
}
