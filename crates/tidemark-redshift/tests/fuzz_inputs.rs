//! Property test: random sequences of Redshift cluster and snapshot calls, with identifiers,
//! retention periods, accounts, schedules and markers drawn from small pools that mix valid
//! and invalid values, and the virtual clock moving in between, never panic and never answer
//! an internal error.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::{H, OTHER, OWNER};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tidemark_model::{CommonError, DispatchError};

const OPS: [&str; 25] = [
    "CreateCluster",
    "DeleteCluster",
    "ModifyCluster",
    "PauseCluster",
    "ResumeCluster",
    "DescribeClusters",
    "CreateClusterSnapshot",
    "DeleteClusterSnapshot",
    "CopyClusterSnapshot",
    "ModifyClusterSnapshot",
    "DescribeClusterSnapshots",
    "BatchDeleteClusterSnapshots",
    "BatchModifyClusterSnapshots",
    "AuthorizeSnapshotAccess",
    "RevokeSnapshotAccess",
    "RestoreFromClusterSnapshot",
    "CreateSnapshotSchedule",
    "ModifySnapshotSchedule",
    "DeleteSnapshotSchedule",
    "ModifyClusterSnapshotSchedule",
    "DescribeSnapshotSchedules",
    "CreateTags",
    "DeleteTags",
    "DescribeTags",
    "DescribeStorage",
];

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = Value> {
    (0..options.len()).prop_map(move |i| json!(options[i]))
}

fn id() -> impl Strategy<Value = Value> {
    pick(&[
        "c1",
        "c2",
        "s1",
        "s2",
        "rs:c1-2040-01-01-01-00-00",
        "",
        "-bad",
        "A--b",
        "x1",
    ])
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        pick(&["1", "7", "35"]).prop_map(|v| json!(v.as_str().unwrap().parse::<i64>().unwrap())),
        prop_oneof![
            Just(-2i64),
            Just(-1),
            Just(0),
            Just(36),
            Just(3653),
            Just(3654),
            Just(i64::from(i32::MAX))
        ]
        .prop_map(|n| json!(n)),
    ]
}

/// One member of a request, by a random index into the members these operations take.
fn member() -> impl Strategy<Value = (&'static str, Value)> {
    prop_oneof![
        id().prop_map(|v| ("ClusterIdentifier", v)),
        id().prop_map(|v| ("SnapshotIdentifier", v)),
        id().prop_map(|v| ("SourceSnapshotIdentifier", v)),
        id().prop_map(|v| ("TargetSnapshotIdentifier", v)),
        id().prop_map(|v| ("SnapshotClusterIdentifier", v)),
        id().prop_map(|v| ("NewClusterIdentifier", v)),
        id().prop_map(|v| ("FinalClusterSnapshotIdentifier", v)),
        any::<bool>().prop_map(|v| ("SkipFinalClusterSnapshot", json!(v))),
        number().prop_map(|v| ("ManualSnapshotRetentionPeriod", v)),
        number().prop_map(|v| ("AutomatedSnapshotRetentionPeriod", v)),
        number().prop_map(|v| ("FinalClusterSnapshotRetentionPeriod", v)),
        number().prop_map(|v| ("NumberOfNodes", v)),
        number().prop_map(|v| ("MaxRecords", v)),
        pick(&["single-node", "multi-node", "bogus"]).prop_map(|v| ("ClusterType", v)),
        pick(&["dc2.large", "ra3.xlplus", "nope.large"]).prop_map(|v| ("NodeType", v)),
        pick(&["222222222222", "111111111111", "all", "12"])
            .prop_map(|v| ("AccountWithRestoreAccess", v)),
        pick(&["manual", "automated", "other"]).prop_map(|v| ("SnapshotType", v)),
        pick(&["", "bogus", "eyJ4IjoxfQ=="]).prop_map(|v| ("Marker", v)),
        pick(&[
            "rate(12 hours)",
            "cron(0 12 * * ? *)",
            "rate(0 minutes)",
            "cron(bad)"
        ])
        .prop_map(|v| ("ScheduleDefinitions", json!([v]))),
        pick(&["sched1", "sched2", "Bad_Name"]).prop_map(|v| ("ScheduleIdentifier", v)),
        any::<bool>().prop_map(|v| ("DisassociateSchedule", json!(v))),
        any::<bool>().prop_map(|v| ("Force", json!(v))),
        any::<bool>().prop_map(|v| ("ClusterExists", json!(v))),
        pick(&[
            "2040-01-01T00:00:00Z",
            "2039-12-31T23:00:00Z",
            "2041-01-01T00:00:00Z"
        ])
        .prop_map(|v| ("StartTime", v)),
        pick(&["2040-01-01T00:00:00Z", "2040-02-01T00:00:00Z"]).prop_map(|v| ("EndTime", v)),
        id().prop_map(|v| ("SnapshotIdentifierList", json!([{"SnapshotIdentifier": v}]))),
        id().prop_map(|v| (
            "Identifiers",
            json!([{"SnapshotIdentifier": v}, {"SnapshotIdentifier": "s1"}])
        )),
        id().prop_map(|v| ("SnapshotIdentifierList", json!([v, "s1"]))),
        pick(&[
            "arn:aws:redshift:us-east-1:111111111111:cluster:c1",
            "arn:aws:redshift:us-east-1:111111111111:snapshot:c1/s1",
            "arn:bad"
        ])
        .prop_map(|v| ("ResourceName", v)),
        pick(&["k", "", "aws:x"]).prop_map(|v| ("Tags", json!([{"Key": v, "Value": "v"}]))),
        pick(&["k", "nope"]).prop_map(|v| ("TagKeys", json!([v]))),
        pick(&["cluster", "snapshot", "bogus"]).prop_map(|v| ("ResourceType", v)),
        pick(&["admin", "Passw0rd1", "bad"]).prop_map(|v| ("MasterUserPassword", v)),
        pick(&["Passw0rd1", ""])
            .prop_map(|v| ("MasterUsername", json!(if v == "" { "" } else { "admin" }))),
        pick(&["CREATE_TIME", "SOURCE_TYPE", "BOGUS"]).prop_map(|v| (
            "SortingEntities",
            json!([{"Attribute": v, "SortOrder": "DESC"}])
        )),
    ]
}

/// A call: an operation with the members a valid call would carry most of the time, plus
/// random extra members, and hours to advance the clock by afterwards.
fn call() -> impl Strategy<Value = (&'static str, Value, i64)> {
    (
        0..OPS.len(),
        proptest::collection::vec(member(), 0..6),
        any::<bool>(),
        prop_oneof![4 => Just(0i64), 1 => 1i64..30],
    )
        .prop_map(|(op, members, base, hours)| {
            let op = OPS[op];
            let mut o = Map::new();
            if base {
                let defaults = json!({
                    "ClusterIdentifier": "c1", "NodeType": "dc2.large", "MasterUsername": "admin",
                    "MasterUserPassword": "Passw0rd1", "SnapshotIdentifier": "s1",
                    "SourceSnapshotIdentifier": "s1", "TargetSnapshotIdentifier": "s2",
                    "AccountWithRestoreAccess": OTHER, "ScheduleIdentifier": "sched1",
                    "ScheduleDefinitions": ["rate(12 hours)"], "SkipFinalClusterSnapshot": true,
                    "ResourceName": "arn:aws:redshift:us-east-1:111111111111:cluster:c1",
                    "Tags": [{"Key": "k", "Value": "v"}], "TagKeys": ["k"],
                    "Identifiers": [{"SnapshotIdentifier": "s1"}], "SnapshotIdentifierList": ["s1"]
                });
                o.extend(defaults.as_object().unwrap().clone());
            }
            for (k, v) in members {
                o.insert(k.to_string(), v);
            }
            (op, Value::Object(o), hours)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn random_calls_never_panic_or_fail_internally(
        calls in proptest::collection::vec(call(), 1..14),
    ) {
        // A cluster with a manual snapshot to start from, so most calls find what they name.
        let h = H::new();
        h.create_cluster("c1", json!({}));
        h.ok("CreateClusterSnapshot", json!({"ClusterIdentifier": "c1", "SnapshotIdentifier": "s1"}));
        for (op, body, hours) in calls {
            let account = if body.to_string().len() % 7 == 0 { OTHER } else { OWNER };
            let result = catch_unwind(AssertUnwindSafe(|| h.call_as(account, op, body.clone())));
            let Ok(result) = result else {
                panic!("{op} panicked on {body}");
            };
            if let Err(DispatchError::Common(CommonError::Internal(e))) = &result {
                panic!("{op} failed internally ({e}) on {body}");
            }
            if let Err(DispatchError::Modeled(m)) = &result {
                prop_assert!(m.info.http_status < 500, "{} answered {} on {}", op, m.shape, body);
            }
            if hours > 0 {
                h.advance_hours(hours);
            }
        }
        // The service still answers afterwards.
        h.ok("DescribeClusters", json!({}));
        h.ok("DescribeClusterSnapshots", json!({}));
    }
}
