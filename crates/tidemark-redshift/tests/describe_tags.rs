//! DescribeClusterSnapshots filters, sorting and paging (§3.17, §1.5), tags on clusters and
//! snapshots (§3.15), and DescribeStorage (§4.2).

mod common;

use common::*;
use serde_json::json;

#[test]
fn filters_sorting_and_paging() {
    let h = H::new();
    h.create_cluster("a", json!({}));
    h.advance_hours(1);
    h.create_cluster("b", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    h.ok("CreateClusterSnapshot", json!({"ClusterIdentifier": "b", "SnapshotIdentifier": "b-1", "Tags": [{"Key": "env", "Value": "prod"}]}));
    h.advance_hours(1);
    h.ok("CreateClusterSnapshot", json!({"ClusterIdentifier": "a", "SnapshotIdentifier": "a-1", "Tags": [{"Key": "env", "Value": "dev"}]}));
    let auto = "rs:a-2040-01-01-00-00-00".to_owned();
    assert_eq!(
        h.snapshot_ids(OWNER, json!({})),
        vec![auto.clone(), "b-1".into(), "a-1".into()],
        "default: ascending create time"
    );
    assert_eq!(
        h.snapshot_ids(OWNER, json!({"ClusterIdentifier": "A"})),
        vec![auto.clone(), "a-1".into()]
    );
    assert_eq!(
        h.snapshot_ids(OWNER, json!({"SnapshotType": "manual"})),
        vec!["b-1".to_owned(), "a-1".into()]
    );
    assert_eq!(
        h.snapshot_ids(
            OWNER,
            json!({"StartTime": t0().as_second() + 3600, "EndTime": t0().as_second() + 3600})
        ),
        vec!["b-1".to_owned()],
        "both bounds inclusive"
    );
    assert_eq!(
        h.snapshot_ids(OWNER, json!({"TagKeys": ["env"], "TagValues": ["prod"]})),
        vec!["b-1".to_owned()]
    );
    assert_eq!(
        h.snapshot_ids(OWNER, json!({"TagValues": ["dev", "prod"]}))
            .len(),
        2
    );
    assert_eq!(
        h.snapshot_ids(
            OWNER,
            json!({"SortingEntities": [{"Attribute": "CREATE_TIME", "SortOrder": "DESC"}]})
        ),
        vec!["a-1".to_owned(), "b-1".into(), auto.clone()]
    );
    assert_eq!(h.snapshot_ids(OWNER, json!({"SortingEntities": [{"Attribute": "SOURCE_TYPE", "SortOrder": "DESC"}, {"Attribute": "CREATE_TIME"}]})), vec!["b-1".to_owned(), "a-1".into(), auto.clone()]);
    let e = h
        .call(
            "DescribeClusterSnapshots",
            json!({"SnapshotType": "weekly"}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    let e = h
        .call("DescribeClusterSnapshots", json!({"ClusterExists": true}))
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterCombination");
    h.ok(
        "DeleteCluster",
        json!({"ClusterIdentifier": "b", "SkipFinalClusterSnapshot": true}),
    );
    assert_eq!(
        h.snapshot_ids(OWNER, json!({"ClusterExists": false})),
        vec!["b-1".to_owned()],
        "orphaned snapshots"
    );
    assert_eq!(
        h.snapshot_ids(
            OWNER,
            json!({"ClusterIdentifier": "a", "ClusterExists": true})
        )
        .len(),
        2
    );
    assert!(
        h.snapshot_ids(
            OWNER,
            json!({"ClusterIdentifier": "a", "ClusterExists": false})
        )
        .is_empty()
    );
    // Paging: 25 manual snapshots in pages of 20.
    for i in 0..23 {
        h.ok(
            "CreateClusterSnapshot",
            json!({"ClusterIdentifier": "a", "SnapshotIdentifier": format!("p{i:02}")}),
        );
    }
    let first = h.ok("DescribeClusterSnapshots", json!({"MaxRecords": 20}));
    assert_eq!(first["Snapshots"].as_array().unwrap().len(), 20);
    let marker = first["Marker"].as_str().unwrap().to_owned();
    let second = h.ok(
        "DescribeClusterSnapshots",
        json!({"MaxRecords": 20, "Marker": marker}),
    );
    assert_eq!(second["Snapshots"].as_array().unwrap().len(), 6);
    assert!(second.get("Marker").is_none(), "no marker on the last page");
    let e = h
        .call("DescribeClusterSnapshots", json!({"MaxRecords": 19}))
        .unwrap_err();
    assert_eq!(message(&e), "MaxRecords must be between 20 and 100.");
    let e = h
        .call("DescribeClusterSnapshots", json!({"Marker": "garbage"}))
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
}

#[test]
fn tags_on_clusters_and_snapshots() {
    let h = H::new();
    h.create_cluster("c1", json!({"Tags": [{"Key": "team", "Value": "data"}]}));
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s1"}),
    );
    let carn = "arn:aws:redshift:us-east-1:111111111111:cluster:c1";
    let sarn = "arn:aws:redshift:us-east-1:111111111111:snapshot:c1/s1";
    h.ok("CreateTags", json!({"ResourceName": sarn, "Tags": [{"Key": "keep", "Value": "yes"}, {"Key": "tmp", "Value": "1"}]}));
    h.ok(
        "CreateTags",
        json!({"ResourceName": carn, "Tags": [{"Key": "team", "Value": "ml"}]}),
    );
    let c = &h.ok("DescribeClusters", json!({"ClusterIdentifier": "c1"}))["Clusters"][0];
    assert_eq!(
        c["Tags"],
        json!([{"Key": "team", "Value": "ml"}]),
        "upsert replaces the value"
    );
    h.ok(
        "DeleteTags",
        json!({"ResourceName": sarn, "TagKeys": ["tmp", "absent"]}),
    );
    let s = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "s1"}))[0];
    assert_eq!(s["Tags"], json!([{"Key": "keep", "Value": "yes"}]));
    let all = h.ok("DescribeTags", json!({}));
    let pairs: Vec<(String, String)> = all["TaggedResources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["ResourceType"].as_str().unwrap().to_owned(),
                t["Tag"]["Key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        vec![
            ("cluster".to_owned(), "team".to_owned()),
            ("snapshot".into(), "keep".into())
        ]
    );
    assert_eq!(
        h.ok("DescribeTags", json!({"ResourceType": "Snapshot"}))["TaggedResources"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        h.ok("DescribeTags", json!({"ResourceName": carn}))["TaggedResources"][0]["ResourceName"],
        carn
    );
    assert_eq!(
        h.ok("DescribeClusters", json!({"TagKeys": ["team"]}))["Clusters"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        h.ok("DescribeClusters", json!({"TagValues": ["data"]}))["Clusters"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let e = h
        .call(
            "DescribeTags",
            json!({"ResourceName": carn, "ResourceType": "cluster"}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterCombination");
    for op in ["CreateTags", "DeleteTags"] {
        let e = h.call(op, json!({"ResourceName": "arn:aws:redshift:us-east-1:111111111111:cluster:none", "Tags": [{"Key": "k", "Value": "v"}], "TagKeys": ["k"]})).unwrap_err();
        assert_eq!(modeled(&e), ("ResourceNotFoundFault", 404), "{op}");
    }
    let e = h
        .call_as(
            OTHER,
            "CreateTags",
            json!({"ResourceName": carn, "Tags": [{"Key": "k", "Value": "v"}]}),
        )
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("ResourceNotFoundFault", 404),
        "another account's resource"
    );
    let e = h
        .call(
            "CreateTags",
            json!({"ResourceName": carn, "Tags": [{"Key": "aws:x", "Value": "v"}]}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidTagFault", 400));
    let many: Vec<_> = (0..50)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    let e = h
        .call("CreateTags", json!({"ResourceName": carn, "Tags": many}))
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("TagLimitExceededFault", 400),
        "1 existing + 50 new > 50"
    );
}

#[test]
fn describe_storage_counts_each_capture_once() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 1}));
    let auto = h.snapshots(OWNER, json!({}))[0].clone();
    // A new cluster's volume is empty: its first automated snapshot holds nothing yet.
    assert_eq!(auto["TotalBackupSizeInMegaBytes"].as_f64(), Some(0.0));
    let scope = tidemark_redshift::Scope {
        account: OWNER.into(),
        region: "us-east-1".into(),
    };
    h.svc
        .volumes()
        .write_file(&scope, "c1", "dump/t1", &[7u8; 1 << 20])
        .unwrap();
    // The next automated snapshot (8 hours later) captures it.
    h.advance_hours(9);
    let autos = h.snapshots(OWNER, json!({"SnapshotType": "automated"}));
    let second = autos
        .iter()
        .find(|s| s["TotalBackupSizeInMegaBytes"].as_f64() == Some(1.0))
        .expect("an automated snapshot of the 1 MiB volume");
    let size = 1.0;
    h.ok("CopyClusterSnapshot", json!({"SourceSnapshotIdentifier": second["SnapshotIdentifier"], "TargetSnapshotIdentifier": "copy"}));
    let st = h.ok("DescribeStorage", serde_json::Value::Null);
    assert_eq!(
        st["TotalBackupSizeInMegaBytes"].as_f64().unwrap(),
        size,
        "a copy shares its source's data"
    );
    assert_eq!(
        st["TotalProvisionedStorageInMegaBytes"].as_f64().unwrap(),
        160.0 * 1024.0
    );
}
