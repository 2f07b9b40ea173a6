//! The automated snapshot engine and retention on the virtual clock (§3.3, §3.4, §3.16):
//! cadence, naming, expiry, purge on retention changes, manual retention countdown, and
//! snapshot schedules firing at their times.

mod common;

use common::*;
use serde_json::json;

fn name(cluster: &str, hours: i64) -> String {
    let t = t0()
        .checked_add(jiff::SignedDuration::from_hours(hours))
        .unwrap();
    format!("rs:{cluster}-{}", t.strftime("%Y-%m-%d-%H-%M-%S"))
}

fn automated(h: &H, cluster: &str) -> Vec<String> {
    h.snapshot_ids(
        OWNER,
        json!({"ClusterIdentifier": cluster, "SnapshotType": "automated"}),
    )
}

#[test]
fn retention_one_day_keeps_exactly_the_last_day_of_eight_hourly_snapshots() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 1}));
    assert_eq!(
        automated(&h, "c1"),
        vec![name("c1", 0)],
        "first automated snapshot as the cluster becomes available"
    );
    let mut now = 0;
    while now < 72 {
        h.advance_hours(4);
        now += 4;
        // Taken every 8 h; deleted once 24 h old; the newest always stays.
        let expected: Vec<String> = (0..=now)
            .step_by(8)
            .filter(|k| k + 24 > now)
            .map(|k| name("c1", k))
            .collect();
        assert_eq!(automated(&h, "c1"), expected, "at +{now}h");
    }
    let s = &h.snapshots(OWNER, json!({"SnapshotIdentifier": name("c1", 72)}))[0];
    assert_eq!(s["SnapshotType"], "automated");
    assert_eq!(s["Status"], "available");
    assert_eq!(s["SnapshotCreateTime"], json!(t0().as_second() + 72 * 3600));
    assert!(s.get("ManualSnapshotRetentionPeriod").is_none());
    let c = &h.ok("DescribeClusters", json!({"ClusterIdentifier": "c1"}))["Clusters"][0];
    assert_eq!(
        c["ExpectedNextSnapshotScheduleTime"],
        json!(t0().as_second() + 80 * 3600)
    );
}

#[test]
fn retention_changes_purge_at_once_and_zero_disables() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 3}));
    h.advance_hours(48);
    assert_eq!(automated(&h, "c1").len(), 7);
    h.ok(
        "ModifyCluster",
        json!({"ClusterIdentifier": "c1", "AutomatedSnapshotRetentionPeriod": 1}),
    );
    assert_eq!(
        automated(&h, "c1"),
        vec![name("c1", 32), name("c1", 40), name("c1", 48)]
    );
    h.ok(
        "ModifyCluster",
        json!({"ClusterIdentifier": "c1", "AutomatedSnapshotRetentionPeriod": 0}),
    );
    assert!(
        automated(&h, "c1").is_empty(),
        "retention 0 deletes every automated snapshot"
    );
    h.advance_hours(24);
    assert!(automated(&h, "c1").is_empty(), "and takes no new ones");
}

#[test]
fn manual_retention_counts_down_and_expires() {
    let h = H::new();
    h.create_cluster("c1", json!({"AutomatedSnapshotRetentionPeriod": 0}));
    h.ok("CreateClusterSnapshot", json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "keep2", "ManualSnapshotRetentionPeriod": 2}));
    h.ok(
        "CreateClusterSnapshot",
        json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "forever"}),
    );
    let days = |h: &H| {
        h.snapshots(OWNER, json!({"SnapshotIdentifier": "keep2"}))[0]["ManualSnapshotRemainingDays"]
            .clone()
    };
    assert_eq!(days(&h), 2);
    let s = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "keep2"}))[0];
    assert_eq!(s["SnapshotRetentionStartTime"], json!(t0().as_second()));
    h.advance_hours(4);
    assert_eq!(days(&h), 2, "ceil(44h / 24h)");
    h.advance_hours(20);
    assert_eq!(days(&h), 1);
    h.advance_hours(23);
    assert_eq!(days(&h), 1);
    h.advance_hours(1);
    assert_eq!(
        h.snapshot_ids(OWNER, json!({})),
        vec!["forever".to_owned()],
        "expired at start + 2 days"
    );
    let f = &h.snapshots(OWNER, json!({"SnapshotIdentifier": "forever"}))[0];
    assert!(
        f.get("ManualSnapshotRemainingDays").is_none(),
        "no countdown for -1"
    );
}

#[test]
fn schedules_replace_the_default_cadence() {
    let h = H::new();
    let s = h.ok("CreateSnapshotSchedule", json!({"ScheduleIdentifier": "twice", "ScheduleDefinitions": ["cron(0 3,15 * * ? *)"], "NextInvocations": 3}));
    let inv: Vec<i64> = s["NextInvocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(
        inv,
        vec![3, 15, 27]
            .into_iter()
            .map(|h| t0().as_second() + h * 3600)
            .collect::<Vec<_>>()
    );
    h.create_cluster(
        "c1",
        json!({"SnapshotScheduleIdentifier": "twice", "AutomatedSnapshotRetentionPeriod": 1}),
    );
    h.advance_hours(20);
    assert_eq!(
        automated(&h, "c1"),
        vec![name("c1", 0), name("c1", 3), name("c1", 15)]
    );
    // Switch a second cluster from the default cadence to a 6-hour rate.
    h.create_cluster("c2", json!({}));
    h.ok(
        "CreateSnapshotSchedule",
        json!({"ScheduleIdentifier": "six", "ScheduleDefinitions": ["rate(6 hours)"]}),
    );
    h.ok(
        "ModifyClusterSnapshotSchedule",
        json!({"ClusterIdentifier": "c2", "ScheduleIdentifier": "six"}),
    );
    h.advance_hours(12);
    assert_eq!(
        automated(&h, "c2"),
        vec![name("c2", 20), name("c2", 24), name("c2", 30)]
    );
    let d = h.ok(
        "DescribeSnapshotSchedules",
        json!({"ClusterIdentifier": "c2"}),
    );
    assert_eq!(d["SnapshotSchedules"][0]["ScheduleIdentifier"], "six");
    assert_eq!(d["SnapshotSchedules"][0]["AssociatedClusterCount"], 1);
    let e = h
        .call(
            "DeleteSnapshotSchedule",
            json!({"ScheduleIdentifier": "six"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidClusterSnapshotScheduleState", 400));
    h.ok(
        "ModifySnapshotSchedule",
        json!({"ScheduleIdentifier": "six", "ScheduleDefinitions": ["rate(12 hours)"]}),
    );
    h.advance_hours(12);
    assert_eq!(automated(&h, "c2").last().unwrap(), &name("c2", 36));
    h.ok(
        "ModifyClusterSnapshotSchedule",
        json!({"ClusterIdentifier": "c2", "DisassociateSchedule": true}),
    );
    h.ok(
        "DeleteSnapshotSchedule",
        json!({"ScheduleIdentifier": "six"}),
    );
}

#[test]
fn schedule_errors() {
    let h = H::new();
    let e = h
        .call(
            "CreateSnapshotSchedule",
            json!({"ScheduleIdentifier": "x", "ScheduleDefinitions": ["rate(30 minutes)"]}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidSchedule", 400));
    let e = h
        .call(
            "CreateSnapshotSchedule",
            json!({"ScheduleIdentifier": "x", "ScheduleDefinitions": ["cron(0,30 * * * ? *)"]}),
        )
        .unwrap_err();
    assert_eq!(
        modeled(&e),
        ("InvalidSchedule", 400),
        "two snapshots in one hour"
    );
    let e = h
        .call(
            "CreateSnapshotSchedule",
            json!({"ScheduleIdentifier": "x", "ScheduleDefinitions": ["at(2040-01-01T00:00:00)"]}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ScheduleDefinitionTypeUnsupported", 400));
    h.ok(
        "CreateSnapshotSchedule",
        json!({"ScheduleIdentifier": "x", "ScheduleDefinitions": ["rate(1 hour)"]}),
    );
    let e = h
        .call(
            "CreateSnapshotSchedule",
            json!({"ScheduleIdentifier": "x", "ScheduleDefinitions": ["rate(1 hour)"]}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("SnapshotScheduleAlreadyExists", 400));
    let e = h
        .call(
            "ModifySnapshotSchedule",
            json!({"ScheduleIdentifier": "nope", "ScheduleDefinitions": ["rate(1 hour)"]}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("SnapshotScheduleNotFound", 400));
    let e = h
        .call(
            "DeleteSnapshotSchedule",
            json!({"ScheduleIdentifier": "nope"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("SnapshotScheduleNotFound", 400));
    let e = h
        .call(
            "ModifyClusterSnapshotSchedule",
            json!({"ClusterIdentifier": "nope", "ScheduleIdentifier": "x"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("ClusterNotFound", 404));
}
