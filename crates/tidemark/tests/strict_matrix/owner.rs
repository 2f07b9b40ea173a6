//! The owner's side of the strict matrix: one resource of every type, set up with the SDK,
//! and a fingerprint of everything the owner can observe of them, which no refused or
//! foreign request may change.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue, PointInTimeRecoverySpecification, Tag, TimeToLiveSpecification,
};

use crate::OWNER;
use crate::common::{self, Server};
use crate::ops::{Fixture, REGION};

/// What the owner can observe of its resources; equal before and after the attacks.
pub async fn fingerprint(server: &Server) -> String {
    let d = server.dynamodb(OWNER.akid, OWNER.secret);
    let r = server.redshift(OWNER.akid, OWNER.secret);
    let mut out = Vec::new();
    let tables = d.list_tables().send().await.expect("ListTables");
    out.push(format!("tables {:?}", tables.table_names()));
    let table = d
        .describe_table()
        .table_name("ledger")
        .send()
        .await
        .expect("DescribeTable");
    let t = table.table().expect("table");
    out.push(format!(
        "ledger {:?} protected={:?}",
        t.table_status(),
        t.deletion_protection_enabled()
    ));
    let scan = d.scan().table_name("ledger").send().await.expect("Scan");
    let mut items: Vec<String> = scan
        .items()
        .iter()
        .map(|i| {
            format!(
                "{:?}",
                i.iter().collect::<std::collections::BTreeMap<_, _>>()
            )
        })
        .collect();
    items.sort();
    out.push(format!("items {items:?}"));
    let backups = d.list_backups().send().await.expect("ListBackups");
    let arns: Vec<_> = backups
        .backup_summaries()
        .iter()
        .map(|b| (b.backup_arn().unwrap_or_default(), b.backup_status()))
        .collect();
    out.push(format!("backups {arns:?}"));
    let pitr = d
        .describe_continuous_backups()
        .table_name("ledger")
        .send()
        .await
        .expect("DescribeContinuousBackups");
    out.push(format!(
        "pitr {:?}",
        pitr.continuous_backups_description()
            .and_then(|c| c.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
    ));
    let ttl = d
        .describe_time_to_live()
        .table_name("ledger")
        .send()
        .await
        .expect("DescribeTimeToLive");
    out.push(format!("ttl {:?}", ttl.time_to_live_description()));
    let tags = d
        .list_tags_of_resource()
        .resource_arn(t.table_arn().unwrap_or_default())
        .send()
        .await
        .expect("ListTagsOfResource");
    out.push(format!("table tags {:?}", tags.tags()));

    let clusters = r
        .describe_clusters()
        .send()
        .await
        .expect("DescribeClusters");
    for c in clusters.clusters() {
        out.push(format!(
            "cluster {:?} {:?} retention={:?} schedule={:?}",
            c.cluster_identifier(),
            c.cluster_status(),
            c.automated_snapshot_retention_period(),
            c.snapshot_schedule_identifier()
        ));
    }
    let snaps = r
        .describe_cluster_snapshots()
        .snapshot_type("manual")
        .send()
        .await
        .expect("DescribeClusterSnapshots");
    for s in snaps.snapshots() {
        out.push(format!(
            "snapshot {:?} {:?} retention={:?} shared={:?}",
            s.snapshot_identifier(),
            s.status(),
            s.manual_snapshot_retention_period(),
            s.accounts_with_restore_access()
        ));
    }
    let schedules = r
        .describe_snapshot_schedules()
        .send()
        .await
        .expect("DescribeSnapshotSchedules");
    for s in schedules.snapshot_schedules() {
        out.push(format!(
            "schedule {:?} {:?}",
            s.schedule_identifier(),
            s.schedule_definitions()
        ));
    }
    let tags = r.describe_tags().send().await.expect("DescribeTags");
    for t in tags.tagged_resources() {
        out.push(format!("rs tag {:?} {:?}", t.resource_name(), t.tag()));
    }
    out.join("\n")
}

async fn settle<T>(mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(v) = probe().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("state did not settle");
}

/// The owner's resources: one of each type, each in the state its operations act on.
pub async fn owner_resources(server: &Server) -> Fixture {
    let d = server.dynamodb(OWNER.akid, OWNER.secret);
    common::create_pk_sk_table(&d, "ledger").await;
    d.put_item()
        .table_name("ledger")
        .item("pk", AttributeValue::S("a".into()))
        .item("sk", AttributeValue::N("1".into()))
        .item("v", AttributeValue::S("original".into()))
        .send()
        .await
        .expect("PutItem");
    d.update_continuous_backups()
        .table_name("ledger")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .expect("valid spec"),
        )
        .send()
        .await
        .expect("enable PITR");
    d.update_time_to_live()
        .table_name("ledger")
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("exp")
                .build()
                .expect("valid spec"),
        )
        .send()
        .await
        .expect("enable TTL");
    let table_arn = d
        .describe_table()
        .table_name("ledger")
        .send()
        .await
        .expect("DescribeTable")
        .table()
        .and_then(|t| t.table_arn())
        .expect("table ARN")
        .to_owned();
    d.tag_resource()
        .resource_arn(&table_arn)
        .tags(
            Tag::builder()
                .key("team")
                .value("blue")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("TagResource");
    let backup_arn = d
        .create_backup()
        .table_name("ledger")
        .backup_name("nightly")
        .send()
        .await
        .expect("CreateBackup")
        .backup_details()
        .map(|b| b.backup_arn().to_owned())
        .expect("backup ARN");
    common::wait_backup_available(&d, &backup_arn, Duration::from_secs(20)).await;

    let r = server.redshift(OWNER.akid, OWNER.secret);
    r.create_cluster()
        .cluster_identifier("vault-a")
        .node_type("dc2.large")
        .master_username("adminuser")
        .master_user_password("Passw0rd1")
        .send()
        .await
        .expect("CreateCluster");
    settle(async || {
        let out = r
            .describe_clusters()
            .cluster_identifier("vault-a")
            .send()
            .await
            .ok()?;
        (out.clusters()[0].cluster_status() == Some("available")).then_some(())
    })
    .await;
    let cluster_arn = format!("arn:aws:redshift:{REGION}:111111111111:cluster:vault-a");
    r.create_tags()
        .resource_name(&cluster_arn)
        .tags(
            aws_sdk_redshift::types::Tag::builder()
                .key("team")
                .value("blue")
                .build(),
        )
        .send()
        .await
        .expect("CreateTags");
    r.create_cluster_snapshot()
        .cluster_identifier("vault-a")
        .snapshot_identifier("snap-a")
        .send()
        .await
        .expect("CreateClusterSnapshot");
    settle(async || {
        let out = r
            .describe_cluster_snapshots()
            .snapshot_identifier("snap-a")
            .send()
            .await
            .ok()?;
        (out.snapshots()[0].status() == Some("available")).then_some(())
    })
    .await;
    r.authorize_snapshot_access()
        .snapshot_identifier("snap-a")
        .account_with_restore_access("333333333333")
        .send()
        .await
        .expect("AuthorizeSnapshotAccess to a third account");
    r.create_snapshot_schedule()
        .schedule_identifier("sched-a")
        .schedule_definitions("rate(12 hours)")
        .send()
        .await
        .expect("CreateSnapshotSchedule");
    Fixture {
        owner_account: "111111111111",
        table: "ledger",
        table_arn,
        backup_arn,
        cluster: "vault-a",
        cluster_arn,
        snapshot: "snap-a",
        snapshot_arn: format!("arn:aws:redshift:{REGION}:111111111111:snapshot:vault-a/snap-a"),
        schedule: "sched-a",
        schedule_arn: format!("arn:aws:redshift:{REGION}:111111111111:snapshotschedule:sched-a"),
    }
}
