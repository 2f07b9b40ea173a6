//! Cross-region snapshot copy: the copy settings (Enable/Disable/ModifySnapshotCopyRetentionPeriod
//! and `ClusterSnapshotCopyStatus`), snapshot copy grants in the destination region, and the
//! copies themselves on the virtual clock.

mod common;

use common::*;
use serde_json::{Value, json};
use tidemark_core::{AccountId, RequestContext};
use tidemark_model::DispatchError;
use tidemark_model::redshift::dispatch_redshift;

const DEST: &str = "us-west-2";

fn in_region(h: &H, region: &str, op: &str, input: Value) -> Result<Value, DispatchError> {
    let ctx = RequestContext::new(AccountId::parse(OWNER).unwrap(), region, "req-2");
    let out = dispatch_redshift(&*h.svc, &ctx, op, input);
    h.engine.run_due().unwrap();
    out
}

fn err(h: &H, op: &str, input: Value) -> ((&'static str, u16), String) {
    let e = h.call(op, input).expect_err("expected an error");
    (modeled(&e), message(&e))
}

fn copy_status(h: &H, id: &str) -> Value {
    h.ok("DescribeClusters", json!({"ClusterIdentifier": id}))["Clusters"][0]
        ["ClusterSnapshotCopyStatus"]
        .clone()
}

#[test]
fn enable_shows_the_status_with_aws_defaults_and_disable_removes_it() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    let out = h.ok(
        "EnableSnapshotCopy",
        json!({"ClusterIdentifier": "c1", "DestinationRegion": DEST}),
    );
    let want = json!({"DestinationRegion": DEST, "RetentionPeriod": 7, "ManualSnapshotRetentionPeriod": -1});
    assert_eq!(out["Cluster"]["ClusterSnapshotCopyStatus"], want);
    assert_eq!(copy_status(&h, "c1"), want);
    let out = h.ok("DisableSnapshotCopy", json!({"ClusterIdentifier": "c1"}));
    assert!(out["Cluster"].get("ClusterSnapshotCopyStatus").is_none());
    assert!(copy_status(&h, "c1").is_null());
    // Enabled again with explicit periods.
    h.ok(
        "EnableSnapshotCopy",
        json!({"ClusterIdentifier": "c1", "DestinationRegion": "eu-west-1", "RetentionPeriod": 35, "ManualSnapshotRetentionPeriod": 10}),
    );
    assert_eq!(
        copy_status(&h, "c1"),
        json!({"DestinationRegion": "eu-west-1", "RetentionPeriod": 35, "ManualSnapshotRetentionPeriod": 10})
    );
}

#[test]
fn enable_errors_are_aws_codes_and_change_nothing() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    let enable = |extra: Value| {
        let mut input = json!({"ClusterIdentifier": "c1", "DestinationRegion": DEST});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        input
    };
    assert_eq!(
        err(
            &h,
            "EnableSnapshotCopy",
            json!({"ClusterIdentifier": "nope", "DestinationRegion": DEST})
        ),
        (("ClusterNotFound", 404), "Cluster nope not found.".into())
    );
    assert_eq!(
        err(
            &h,
            "EnableSnapshotCopy",
            enable(json!({"DestinationRegion": "us-east-1"}))
        ),
        (
            ("UnknownSnapshotCopyRegionFault", 404),
            "Invalid region us-east-1".into()
        )
    );
    assert_eq!(
        err(
            &h,
            "EnableSnapshotCopy",
            enable(json!({"DestinationRegion": "moon-1"}))
        )
        .0,
        ("UnknownSnapshotCopyRegionFault", 404)
    );
    assert_eq!(
        err(
            &h,
            "EnableSnapshotCopy",
            enable(json!({"DestinationRegion": "cn-north-1"}))
        )
        .0,
        ("CopyToRegionDisabledFault", 400)
    );
    for bad in [0, 36, -1] {
        assert_eq!(
            err(
                &h,
                "EnableSnapshotCopy",
                enable(json!({"RetentionPeriod": bad}))
            )
            .0,
            ("InvalidRetentionPeriodFault", 400),
            "RetentionPeriod {bad}"
        );
    }
    for bad in [0, -2, 3654] {
        assert_eq!(
            err(
                &h,
                "EnableSnapshotCopy",
                enable(json!({"ManualSnapshotRetentionPeriod": bad}))
            )
            .0,
            ("InvalidRetentionPeriodFault", 400),
            "ManualSnapshotRetentionPeriod {bad}"
        );
    }
    assert_eq!(
        err(
            &h,
            "EnableSnapshotCopy",
            enable(json!({"SnapshotCopyGrantName": "g1"}))
        ),
        (
            ("SnapshotCopyGrantNotFoundFault", 400),
            "Snapshot copy grant not found: g1".into()
        )
    );
    assert!(
        copy_status(&h, "c1").is_null(),
        "no failed call enabled copy"
    );
    h.ok("EnableSnapshotCopy", enable(json!({})));
    assert_eq!(
        err(
            &h,
            "EnableSnapshotCopy",
            enable(json!({"DestinationRegion": "eu-west-1"}))
        ),
        (
            ("SnapshotCopyAlreadyEnabledFault", 400),
            "Snapshot Copy is already enabled on Cluster c1.".into()
        )
    );
    assert_eq!(copy_status(&h, "c1")["DestinationRegion"], DEST);
    // A paused cluster cannot change its copy settings.
    h.ok("PauseCluster", json!({"ClusterIdentifier": "c1"}));
    assert_eq!(
        err(
            &h,
            "DisableSnapshotCopy",
            json!({"ClusterIdentifier": "c1"})
        )
        .0,
        ("InvalidClusterState", 400)
    );
}

#[test]
fn kms_clusters_need_a_grant_that_exists_in_the_destination() {
    let h = H::new();
    h.create_cluster(
        "k1",
        json!({"KmsKeyId": "arn:aws:kms:us-east-1:111111111111:key/abc"}),
    );
    let e = h
        .call(
            "EnableSnapshotCopy",
            json!({"ClusterIdentifier": "k1", "DestinationRegion": DEST}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    // A grant made in the source region is not one of the destination's.
    h.ok(
        "CreateSnapshotCopyGrant",
        json!({"SnapshotCopyGrantName": "g1"}),
    );
    assert_eq!(
        err(
            &h,
            "EnableSnapshotCopy",
            json!({"ClusterIdentifier": "k1", "DestinationRegion": DEST, "SnapshotCopyGrantName": "g1"})
        )
        .0,
        ("SnapshotCopyGrantNotFoundFault", 400)
    );
    in_region(
        &h,
        DEST,
        "CreateSnapshotCopyGrant",
        json!({"SnapshotCopyGrantName": "G2"}),
    )
    .unwrap();
    h.ok(
        "EnableSnapshotCopy",
        json!({"ClusterIdentifier": "k1", "DestinationRegion": DEST, "SnapshotCopyGrantName": "G2"}),
    );
    assert_eq!(copy_status(&h, "k1")["SnapshotCopyGrantName"], "g2");
    // The grant is in use: it cannot be deleted until copy is disabled.
    let e = in_region(
        &h,
        DEST,
        "DeleteSnapshotCopyGrant",
        json!({"SnapshotCopyGrantName": "g2"}),
    )
    .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidSnapshotCopyGrantStateFault", 400));
    h.ok("DisableSnapshotCopy", json!({"ClusterIdentifier": "k1"}));
    in_region(
        &h,
        DEST,
        "DeleteSnapshotCopyGrant",
        json!({"SnapshotCopyGrantName": "g2"}),
    )
    .unwrap();
}

#[test]
fn disable_and_modify_errors() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    assert_eq!(
        err(
            &h,
            "DisableSnapshotCopy",
            json!({"ClusterIdentifier": "c1"})
        ),
        (
            ("SnapshotCopyAlreadyDisabledFault", 400),
            "Snapshot Copy is already disabled on Cluster c1.".into()
        )
    );
    assert_eq!(
        err(
            &h,
            "DisableSnapshotCopy",
            json!({"ClusterIdentifier": "zz"})
        )
        .0,
        ("ClusterNotFound", 404)
    );
    assert_eq!(
        err(
            &h,
            "ModifySnapshotCopyRetentionPeriod",
            json!({"ClusterIdentifier": "c1", "RetentionPeriod": 3})
        ),
        (
            ("SnapshotCopyDisabledFault", 400),
            "Cannot modify retention period because snapshot copy is disabled on Cluster c1."
                .into()
        )
    );
    assert_eq!(
        err(
            &h,
            "ModifySnapshotCopyRetentionPeriod",
            json!({"ClusterIdentifier": "zz", "RetentionPeriod": 3})
        )
        .0,
        ("ClusterNotFound", 404)
    );
    h.ok(
        "EnableSnapshotCopy",
        json!({"ClusterIdentifier": "c1", "DestinationRegion": DEST}),
    );
    for (days, manual) in [
        (0, false),
        (36, false),
        (-1, false),
        (0, true),
        (3654, true),
    ] {
        assert_eq!(
            err(
                &h,
                "ModifySnapshotCopyRetentionPeriod",
                json!({"ClusterIdentifier": "c1", "RetentionPeriod": days, "Manual": manual})
            )
            .0,
            ("InvalidRetentionPeriodFault", 400),
            "{days} manual={manual}"
        );
    }
    assert_eq!(copy_status(&h, "c1")["RetentionPeriod"], 7);
    let out = h.ok(
        "ModifySnapshotCopyRetentionPeriod",
        json!({"ClusterIdentifier": "c1", "RetentionPeriod": 3}),
    );
    assert_eq!(
        out["Cluster"]["ClusterSnapshotCopyStatus"]["RetentionPeriod"],
        3
    );
    h.ok(
        "ModifySnapshotCopyRetentionPeriod",
        json!({"ClusterIdentifier": "c1", "RetentionPeriod": -1, "Manual": true}),
    );
    h.ok(
        "ModifySnapshotCopyRetentionPeriod",
        json!({"ClusterIdentifier": "c1", "RetentionPeriod": 3653, "Manual": true}),
    );
    assert_eq!(
        copy_status(&h, "c1"),
        json!({"DestinationRegion": DEST, "RetentionPeriod": 3, "ManualSnapshotRetentionPeriod": 3653})
    );
}

#[test]
fn copy_grants_live_in_their_region_with_tags_filters_paging_and_a_quota() {
    let h = H::new();
    let g = h.ok(
        "CreateSnapshotCopyGrant",
        json!({"SnapshotCopyGrantName": "g0", "KmsKeyId": "key-1", "Tags": [{"Key": "env", "Value": "dr"}]}),
    );
    assert_eq!(
        g["SnapshotCopyGrant"],
        json!({"SnapshotCopyGrantName": "g0", "KmsKeyId": "key-1", "Tags": [{"Key": "env", "Value": "dr"}]})
    );
    assert_eq!(
        err(&h, "CreateSnapshotCopyGrant", json!({"SnapshotCopyGrantName": "g0"})),
        (
            ("SnapshotCopyGrantAlreadyExistsFault", 400),
            "Cannot create the snapshot copy grant because a grant with the identifier 'g0' already exists".into()
        )
    );
    let e = h
        .call(
            "CreateSnapshotCopyGrant",
            json!({"SnapshotCopyGrantName": "bad--name"}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    for i in 1..5 {
        h.ok(
            "CreateSnapshotCopyGrant",
            json!({"SnapshotCopyGrantName": format!("g{i}")}),
        );
    }
    assert_eq!(
        err(
            &h,
            "CreateSnapshotCopyGrant",
            json!({"SnapshotCopyGrantName": "g5"})
        )
        .0,
        ("SnapshotCopyGrantQuotaExceededFault", 400)
    );
    // Another region has its own grants and quota.
    in_region(
        &h,
        DEST,
        "CreateSnapshotCopyGrant",
        json!({"SnapshotCopyGrantName": "g5"}),
    )
    .unwrap();
    let names = |out: &Value| -> Vec<String> {
        out["SnapshotCopyGrants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["SnapshotCopyGrantName"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = h.ok("DescribeSnapshotCopyGrants", json!({}));
    assert_eq!(names(&all), ["g0", "g1", "g2", "g3", "g4"]);
    assert!(all.get("Marker").is_none());
    let west = in_region(&h, DEST, "DescribeSnapshotCopyGrants", json!({})).unwrap();
    assert_eq!(names(&west), ["g5"]);
    let tagged = h.ok("DescribeSnapshotCopyGrants", json!({"TagKeys": ["env"]}));
    assert_eq!(names(&tagged), ["g0"]);
    let tagged = h.ok("DescribeSnapshotCopyGrants", json!({"TagValues": ["prod"]}));
    assert!(names(&tagged).is_empty());
    let one = h.ok(
        "DescribeSnapshotCopyGrants",
        json!({"SnapshotCopyGrantName": "g3"}),
    );
    assert_eq!(names(&one), ["g3"]);
    assert_eq!(
        err(
            &h,
            "DescribeSnapshotCopyGrants",
            json!({"SnapshotCopyGrantName": "g5"})
        ),
        (
            ("SnapshotCopyGrantNotFoundFault", 400),
            "Snapshot copy grant not found: g5".into()
        )
    );
    let e = h
        .call("DescribeSnapshotCopyGrants", json!({"MaxRecords": 19}))
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
    // Tags through the grant's ARN.
    let arn = "arn:aws:redshift:us-east-1:111111111111:snapshotcopygrant:g1";
    h.ok(
        "CreateTags",
        json!({"ResourceName": arn, "Tags": [{"Key": "team", "Value": "a"}]}),
    );
    let t = h.ok("DescribeTags", json!({"ResourceType": "snapshotcopygrant"}));
    let arns: Vec<&str> = t["TaggedResources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ResourceName"].as_str().unwrap())
        .collect();
    assert_eq!(arns.len(), 2);
    assert!(arns.contains(&arn));
    h.ok(
        "DeleteTags",
        json!({"ResourceName": arn, "TagKeys": ["team"]}),
    );
    let t = h.ok("DescribeTags", json!({"ResourceName": arn}));
    assert!(t["TaggedResources"].as_array().unwrap().is_empty());
    // Deleting frees quota.
    h.ok(
        "DeleteSnapshotCopyGrant",
        json!({"SnapshotCopyGrantName": "g0"}),
    );
    assert_eq!(
        err(
            &h,
            "DeleteSnapshotCopyGrant",
            json!({"SnapshotCopyGrantName": "g0"})
        )
        .0,
        ("SnapshotCopyGrantNotFoundFault", 400)
    );
    h.ok(
        "CreateSnapshotCopyGrant",
        json!({"SnapshotCopyGrantName": "g9"}),
    );
}

#[test]
fn describe_grants_resumes_after_a_marker() {
    let h = H::new();
    // The quota (5 per region) keeps every listing within one page (MaxRecords is at least
    // 20), so a marker is only ever a resumption point; this one names the grant p1.
    for i in 0..5 {
        h.ok(
            "CreateSnapshotCopyGrant",
            json!({"SnapshotCopyGrantName": format!("p{i}")}),
        );
    }
    let page = h.ok("DescribeSnapshotCopyGrants", json!({"MaxRecords": 20}));
    assert_eq!(page["SnapshotCopyGrants"].as_array().unwrap().len(), 5);
    assert!(page.get("Marker").is_none());
    let rest = h.ok("DescribeSnapshotCopyGrants", json!({"Marker": "tm1.7031"}));
    let names: Vec<&str> = rest["SnapshotCopyGrants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["SnapshotCopyGrantName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p2", "p3", "p4"]);
    let e = h
        .call("DescribeSnapshotCopyGrants", json!({"Marker": "nonsense"}))
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterValue");
}

fn scope(region: &str) -> tidemark_redshift::Scope {
    tidemark_redshift::Scope {
        account: OWNER.into(),
        region: region.into(),
    }
}

fn snaps_in(h: &H, region: &str, input: Value) -> Vec<Value> {
    in_region(h, region, "DescribeClusterSnapshots", input).unwrap()["Snapshots"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Sorted identifiers (automated names sort by time).
fn ids(snaps: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = snaps
        .iter()
        .map(|s| s["SnapshotIdentifier"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn auto_name(cluster: &str, hours: i64) -> String {
    let t = t0()
        .checked_add(jiff::SignedDuration::from_hours(hours))
        .unwrap();
    format!("rs:{cluster}-{}", t.strftime("%Y-%m-%d-%H-%M-%S"))
}

#[test]
fn new_snapshots_are_copied_to_the_destination_and_expire_by_the_copy_retention() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 1}));
    h.ok(
        "EnableSnapshotCopy",
        json!({"ClusterIdentifier": "c1", "DestinationRegion": DEST, "RetentionPeriod": 2, "ManualSnapshotRetentionPeriod": 5}),
    );
    assert!(
        snaps_in(&h, DEST, json!({})).is_empty(),
        "snapshots taken before copy was enabled are not copied"
    );
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "m1"}),
    );
    let dest = snaps_in(&h, DEST, json!({}));
    assert_eq!(ids(&dest), ["m1"]);
    let m1 = &dest[0];
    assert_eq!(m1["Status"], "creating");
    assert_eq!(m1["SourceRegion"], "us-east-1");
    assert_eq!(m1["SnapshotType"], "manual");
    assert_eq!(m1["ClusterIdentifier"], "c1");
    assert_eq!(m1["ManualSnapshotRetentionPeriod"], 5);
    assert_eq!(
        m1["SnapshotArn"],
        "arn:aws:redshift:us-west-2:111111111111:snapshot:c1/m1"
    );
    // The source region sees only its own snapshots, none with a SourceRegion.
    let src = h.snapshots(OWNER, json!({}));
    let mut src_ids = ids(&src);
    src_ids.sort();
    assert_eq!(src_ids, ["m1".to_owned(), auto_name("c1", 0)]);
    assert!(src.iter().all(|s| s.get("SourceRegion").is_none()));
    h.advance_hours(1);
    let m1 = &snaps_in(&h, DEST, json!({"SnapshotIdentifier": "m1"}))[0];
    assert_eq!(m1["Status"], "available");
    let source_m1 = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "m1"}))[0];
    assert_eq!(
        m1["TotalBackupSizeInMegaBytes"],
        source_m1["TotalBackupSizeInMegaBytes"]
    );
    assert_eq!(m1["ManualSnapshotRemainingDays"], 5);
    // The next automated snapshot (t0 + 8 h) is copied as an automated snapshot.
    h.advance_hours(7);
    let autos = snaps_in(&h, DEST, json!({"SnapshotType": "automated"}));
    assert_eq!(ids(&autos), [auto_name("c1", 8)]);
    assert_eq!(autos[0]["SourceRegion"], "us-east-1");
    assert!(autos[0].get("ManualSnapshotRetentionPeriod").is_none());
    h.advance_hours(1);
    let autos = snaps_in(&h, DEST, json!({"SnapshotType": "automated"}));
    assert_eq!(autos[0]["Status"], "available");
    assert_eq!(
        autos[0]["SnapshotCreateTime"],
        json!(t0().as_second() + 8 * 3600),
        "its own create time: when the copy started"
    );
    // Two days of copy retention: the source keeps 1 day of automated snapshots, the
    // destination 2.
    h.advance_hours(40);
    let autos = ids(&snaps_in(&h, DEST, json!({"SnapshotType": "automated"})));
    let want: Vec<String> = (1..=6).map(|k| auto_name("c1", k * 8)).collect();
    assert_eq!(autos, want, "at +49h");
    assert_eq!(
        h.snapshot_ids(OWNER, json!({"SnapshotType": "automated"}))
            .len(),
        3
    );
    // The manual copy goes after its 5 days; the source manual snapshot stays (-1).
    h.advance_hours(5 * 24);
    assert!(snaps_in(&h, DEST, json!({"SnapshotType": "manual"})).is_empty());
    assert_eq!(
        h.snapshot_ids(OWNER, json!({"SnapshotType": "manual"})),
        ["m1"]
    );
}

#[test]
fn shorter_copy_retention_deletes_older_automated_copies_at_once_and_manual_applies_to_new_copies()
{
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 1}));
    h.ok(
        "EnableSnapshotCopy",
        json!({"ClusterIdentifier": "c1", "DestinationRegion": DEST, "RetentionPeriod": 5}),
    );
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "m1"}),
    );
    h.advance_hours(72);
    assert_eq!(
        snaps_in(&h, DEST, json!({"SnapshotType": "automated"})).len(),
        9,
        "+8h … +72h"
    );
    h.ok(
        "ModifySnapshotCopyRetentionPeriod",
        json!({"ClusterIdentifier": "c1", "RetentionPeriod": 1}),
    );
    let left = ids(&snaps_in(&h, DEST, json!({"SnapshotType": "automated"})));
    assert_eq!(
        left,
        [
            auto_name("c1", 56),
            auto_name("c1", 64),
            auto_name("c1", 72)
        ],
        "copies older than one day are gone"
    );
    // Manual: existing copies keep their period, new ones get the new one.
    h.ok(
        "ModifySnapshotCopyRetentionPeriod",
        json!({"ClusterIdentifier": "c1", "RetentionPeriod": 2, "Manual": true}),
    );
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "m2"}),
    );
    h.advance_hours(1);
    let manual = snaps_in(&h, DEST, json!({"SnapshotType": "manual"}));
    let period = |id: &str| {
        manual
            .iter()
            .find(|s| s["SnapshotIdentifier"] == id)
            .unwrap()["ManualSnapshotRetentionPeriod"]
            .clone()
    };
    assert_eq!(period("m1"), -1);
    assert_eq!(period("m2"), 2);
    // Disabled: no more copies, existing ones stay.
    h.ok("DisableSnapshotCopy", json!({"ClusterIdentifier": "c1"}));
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "m3"}),
    );
    h.advance_hours(1);
    let manual = ids(&snaps_in(&h, DEST, json!({"SnapshotType": "manual"})));
    assert_eq!(manual, ["m1", "m2"]);
}

#[test]
fn a_copy_restores_in_the_destination_with_its_data_after_the_source_cluster_is_gone() {
    let h = H::new();
    h.create_cluster("c1", json!({"DBName": "sales"}));
    h.svc
        .volumes()
        .write_file(&scope("us-east-1"), "c1", "base/sales/t1", b"rows")
        .unwrap();
    h.ok(
        "EnableSnapshotCopy",
        json!({"ClusterIdentifier": "c1", "DestinationRegion": DEST}),
    );
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "m1"}),
    );
    h.advance_hours(1);
    h.ok(
        "DeleteCluster",
        json!({"ClusterIdentifier": "c1", "SkipFinalClusterSnapshot": true}),
    );
    h.advance_hours(1);
    assert_eq!(
        ids(&snaps_in(&h, DEST, json!({}))),
        ["m1"],
        "deleting the source cluster leaves its copies"
    );
    in_region(
        &h,
        DEST,
        "RestoreFromClusterSnapshot",
        json!({"ClusterIdentifier": "r1", "SnapshotIdentifier": "m1"}),
    )
    .unwrap();
    h.advance_hours(1);
    let c = &in_region(
        &h,
        DEST,
        "DescribeClusters",
        json!({"ClusterIdentifier": "r1"}),
    )
    .unwrap()["Clusters"][0];
    assert_eq!(c["ClusterStatus"], "available");
    assert_eq!(c["RestoreStatus"]["Status"], "completed");
    assert_eq!(c["DBName"], "sales");
    assert!(c.get("ClusterSnapshotCopyStatus").is_none());
    let files = h.svc.volumes().read_volume(&scope(DEST), "r1").unwrap();
    assert!(
        files
            .iter()
            .any(|(n, b)| n == "base/sales/t1" && b == b"rows"),
        "the copy holds the data"
    );
}

#[test]
fn a_local_cluster_of_the_same_name_in_the_destination_leaves_copies_alone() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 1}));
    h.ok(
        "EnableSnapshotCopy",
        json!({"ClusterIdentifier": "c1", "DestinationRegion": DEST, "RetentionPeriod": 3}),
    );
    // An hour later, so the two clusters' automated snapshots have different names.
    h.advance_hours(1);
    in_region(
        &h,
        DEST,
        "CreateCluster",
        json!({"ClusterIdentifier": "c1", "NodeType": "dc2.large", "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1", "AutomatedSnapshotRetentionPeriod": 1}),
    )
    .unwrap();
    h.advance_hours(47);
    let dest = snaps_in(&h, DEST, json!({"SnapshotType": "automated"}));
    let copies = dest
        .iter()
        .filter(|s| s.get("SourceRegion").is_some())
        .count();
    let local = dest.len() - copies;
    assert_eq!(copies, 6, "+8h … +48h, kept 3 days");
    assert_eq!(local, 3, "the local cluster keeps its own 1 day");
    in_region(
        &h,
        DEST,
        "DeleteCluster",
        json!({"ClusterIdentifier": "c1", "SkipFinalClusterSnapshot": true}),
    )
    .unwrap();
    h.advance_hours(1);
    let dest = snaps_in(&h, DEST, json!({"SnapshotType": "automated"}));
    assert_eq!(dest.len(), 6);
    assert!(dest.iter().all(|s| s["SourceRegion"] == "us-east-1"));
}
