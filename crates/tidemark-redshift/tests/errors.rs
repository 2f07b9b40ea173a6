//! The remaining §3.20 codes this crate produces, each with its HTTP status, plus the
//! schedule expression forms of §3.16.

mod common;

use common::*;
use serde_json::json;
use tidemark_redshift::{ScheduleError, check_definitions, next_invocation};

#[test]
fn remaining_modeled_errors() {
    let h = H::new();
    h.create_cluster("c1", json!({}));
    h.dispatch_only("PauseCluster", json!({"ClusterIdentifier": "c1"}));
    let e = h.dispatch_only_err(
        "ModifyCluster",
        json!({"ClusterIdentifier": "c1", "AutomatedSnapshotRetentionPeriod": 3}),
    );
    assert_eq!(
        modeled(&e),
        ("InvalidClusterState", 400),
        "ModifyCluster needs an available cluster"
    );
    h.engine.run_due().unwrap();
    h.ok("ResumeCluster", json!({"ClusterIdentifier": "c1"}));
    h.dispatch_only(
        "DeleteCluster",
        json!({"ClusterIdentifier": "c1", "SkipFinalClusterSnapshot": true}),
    );
    let carn = "arn:aws:redshift:us-east-1:111111111111:cluster:c1";
    let e = h.dispatch_only_err(
        "CreateTags",
        json!({"ResourceName": carn, "Tags": [{"Key": "k", "Value": "v"}]}),
    );
    assert_eq!(
        modeled(&e),
        ("InvalidClusterState", 400),
        "no tagging while deleting"
    );
    h.engine.run_due().unwrap();
    let e = h
        .call("DescribeTags", json!({"ResourceName": carn}))
        .unwrap_err();
    assert_eq!(modeled(&e), ("ResourceNotFoundFault", 404));
    h.create_cluster("c2", json!({}));
    let e = h
        .call(
            "ModifyClusterSnapshotSchedule",
            json!({"ClusterIdentifier": "c2", "ScheduleIdentifier": "none"}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("SnapshotScheduleNotFound", 400));
    let e = h
        .call(
            "ModifyClusterSnapshotSchedule",
            json!({"ClusterIdentifier": "c2", "DisassociateSchedule": true}),
        )
        .unwrap_err();
    assert_eq!(modeled(&e), ("InvalidClusterSnapshotScheduleState", 400));
    let e = h
        .call(
            "ModifyClusterSnapshotSchedule",
            json!({"ClusterIdentifier": "c2"}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterCombination");
    let e = h
        .call(
            "DescribeClusters",
            json!({"ClusterIdentifier": "c2", "Marker": "tm1.00"}),
        )
        .unwrap_err();
    assert_eq!(common(&e), "InvalidParameterCombination");
    let e = h
        .call("DescribeTags", json!({"MaxRecords": 51}))
        .unwrap_err();
    assert_eq!(message(&e), "MaxRecords must be between 10 and 50.");
}

#[test]
fn schedule_expressions() {
    let t0 = t0(); // Sunday 2040-01-01 00:00 UTC
    let at = |h: i64| t0.as_second() + h * 3600;
    let next = |d: &str, after_h: i64| {
        let after = tidemark_core::Timestamp::from_second(at(after_h)).unwrap();
        next_invocation(&[d.to_owned()], after).map(|t| t.as_second())
    };
    assert_eq!(next("rate(12 hours)", 0), Some(at(12)));
    assert_eq!(next("rate(1 day)", 1), Some(at(24)));
    assert_eq!(next("cron(30 12 *)", 0), Some(at(12) + 1800), "short form");
    assert_eq!(
        next("cron(0 6 ? * MON *)", 0),
        Some(at(24 + 6)),
        "next Monday 06:00"
    );
    assert_eq!(next("cron(0 0/8 * * ? *)", 1), Some(at(8)));
    assert_eq!(
        next("cron(15 1 2 FEB ? 2040)", 0),
        Some(at(24 * 32 + 1) + 900)
    );
    assert_eq!(next("cron(0 0 1 1 ? 2039)", 0), None, "only in the past");
    assert!(matches!(
        check_definitions(&["rate(25 hours)".into()]),
        Err(ScheduleError::Invalid(_))
    ));
    assert!(matches!(
        check_definitions(&["cron(0 25 * * ? *)".into()]),
        Err(ScheduleError::Invalid(_))
    ));
    assert!(matches!(
        check_definitions(&["cron(0 1 * *)".into()]),
        Err(ScheduleError::Invalid(_))
    ));
    assert!(matches!(
        check_definitions(&[]),
        Err(ScheduleError::Invalid(_))
    ));
    assert!(matches!(
        check_definitions(&["every day".into()]),
        Err(ScheduleError::Unsupported(_))
    ));
    let both = ["rate(12 hours)".to_owned(), "cron(0 3 * * ? *)".to_owned()];
    assert_eq!(
        next_invocation(&both, t0).map(|t| t.as_second()),
        Some(at(3)),
        "earliest of several definitions"
    );
}
