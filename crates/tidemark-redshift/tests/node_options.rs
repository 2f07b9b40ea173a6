//! DescribeNodeConfigurationOptions (ActionType restore-cluster with a snapshot) and
//! DescribeClusterDbRevisions: what DR tooling reads before a restore.

mod common;

use common::*;
use serde_json::{Value, json};

fn options(out: &Value) -> Vec<(String, i64, f64)> {
    out["NodeConfigurationOptionList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["Mode"], "standard");
            (
                o["NodeType"].as_str().unwrap().to_owned(),
                o["NumberOfNodes"].as_i64().unwrap(),
                o["EstimatedDiskUtilizationPercent"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn restore_options_come_from_the_snapshot_size_and_filters_apply() {
    let h = H::new();
    h.create_cluster("c1", json!({"NumberOfNodes": 3}));
    let scope = tidemark_redshift::Scope {
        account: OWNER.into(),
        region: "us-east-1".into(),
    };
    // 200 MB of data: more than one node's worth would need 160 GB, so one node holds it.
    let big = vec![7u8; 200 * 1024 * 1024];
    h.svc
        .volumes()
        .write_file(&scope, "c1", "base/dev/big", &big)
        .unwrap();
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s1"}),
    );
    let size =
        h.snapshots(OWNER, json!({"SnapshotIdentifier": "s1"}))[0]["TotalBackupSizeInMegaBytes"]
            .as_f64()
            .unwrap();
    assert!(size >= 200.0, "{size}");
    let out = h.ok(
        "DescribeNodeConfigurationOptions",
        json!({"ActionType": "restore-cluster", "SnapshotIdentifier": "s1"}),
    );
    let opts = options(&out);
    let pct =
        |per_node_gb: f64, n: f64| (size / (per_node_gb * 1024.0 * n) * 10000.0).round() / 100.0;
    assert_eq!(
        opts,
        vec![
            ("dc2.large".into(), 1, pct(160.0, 1.0)),
            ("dc2.large".into(), 3, pct(160.0, 3.0)),
            ("dc2.8xlarge".into(), 1, pct(2560.0, 1.0)),
        ]
    );
    let filtered = h.ok(
        "DescribeNodeConfigurationOptions",
        json!({"ActionType": "restore-cluster", "SnapshotIdentifier": "s1", "Filters": [
            {"Name": "NodeType", "Operator": "eq", "Values": ["dc2.large"]},
            {"Name": "NumberOfNodes", "Operator": "gt", "Values": ["1"]}
        ]}),
    );
    assert_eq!(
        options(&filtered),
        vec![("dc2.large".into(), 3, pct(160.0, 3.0))]
    );
    let e = h
        .call(
            "DescribeNodeConfigurationOptions",
            json!({"ActionType": "restore-cluster", "SnapshotIdentifier": "s1", "Filters": [
                {"Name": "NumberOfNodes", "Operator": "between", "Values": ["1"]}
            ]}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    let e = h
        .call(
            "DescribeNodeConfigurationOptions",
            json!({"ActionType": "restore-cluster", "SnapshotIdentifier": "nope"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterSnapshotNotFound", 404));
    let e = h
        .call(
            "DescribeNodeConfigurationOptions",
            json!({"ActionType": "recommend-node-config", "ClusterIdentifier": "c1"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e).0, "UnsupportedOperation");
    assert!(message(&e).contains("recommend-node-config"));
    // Another account sees the options only once the snapshot is shared with it.
    let e = h
        .call_as(
            OTHER,
            "DescribeNodeConfigurationOptions",
            json!({"ActionType": "restore-cluster", "SnapshotIdentifier": "s1", "OwnerAccount": OWNER}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e).0, "AccessToSnapshotDenied");
    h.ok(
        "AuthorizeSnapshotAccess",
        json!({"SnapshotIdentifier": "s1", "AccountWithRestoreAccess": OTHER}),
    );
    let shared = h
        .call_as(
            OTHER,
            "DescribeNodeConfigurationOptions",
            json!({"ActionType": "restore-cluster", "SnapshotIdentifier": "s1", "OwnerAccount": OWNER}),
        )
        .unwrap();
    assert_eq!(options(&shared).len(), 3);
}

#[test]
fn db_revisions_list_every_cluster_with_no_pending_target() {
    let h = H::new();
    h.create_cluster("b1", json!({}));
    h.create_cluster("a1", json!({}));
    let out = h.ok("DescribeClusterDbRevisions", json!({}));
    let revs = out["ClusterDbRevisions"].as_array().unwrap();
    let ids: Vec<&str> = revs
        .iter()
        .map(|r| r["ClusterIdentifier"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a1", "b1"]);
    assert!(
        revs.iter()
            .all(|r| r["CurrentDatabaseRevision"] == "15503" && r["RevisionTargets"] == json!([]))
    );
    let one = h.ok(
        "DescribeClusterDbRevisions",
        json!({"ClusterIdentifier": "B1"}),
    );
    assert_eq!(one["ClusterDbRevisions"][0]["ClusterIdentifier"], "b1");
    let e = h
        .call(
            "DescribeClusterDbRevisions",
            json!({"ClusterIdentifier": "zz"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterNotFound", 404));
    let e = h
        .call("DescribeClusterDbRevisions", json!({"MaxRecords": 5}))
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
}
