//! The operation side of the strict matrix: one row per operation on every resource type the
//! server holds today (DynamoDB tables, items, backups, PITR, TTL, tags; Redshift clusters,
//! snapshots, schedules, tags, sharing), each aimed at the owner's real resources, with the
//! answer AWS gives another account (and the owner in another region) for the same request.

use super::wire::{Plain, form};

/// The region the owner's resources live in.
pub const REGION: &str = "us-east-1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Svc {
    DynamoDb,
    Redshift,
}

impl Svc {
    pub fn signing_name(self) -> &'static str {
        match self {
            Self::DynamoDb => "dynamodb",
            Self::Redshift => "redshift",
        }
    }

    pub fn other(self) -> Self {
        match self {
            Self::DynamoDb => Self::Redshift,
            Self::Redshift => Self::DynamoDb,
        }
    }
}

/// What a correctly signed request from someone who does not own the resources gets.
#[derive(Clone, Debug)]
pub enum Expect {
    /// 200, and the body mentions none of these strings (lists show nothing of the owner's).
    Ok { hides: Vec<String> },
    /// 200, and the body mentions all of `shows` and none of `hides` (a snapshot shared with
    /// the caller, without the owner's list of grantees).
    Shows {
        shows: Vec<String>,
        hides: Vec<String>,
    },
    /// 200 with this per-item failure code (Redshift's batch operations).
    ItemError(&'static str),
    /// Refused with this code (DynamoDB: the `__type` suffix) and HTTP status.
    Error { code: &'static str, status: u16 },
}

fn ok(hides: &[&str]) -> Expect {
    Expect::Ok {
        hides: hides.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn shows(shows: &[&str], hides: &[&str]) -> Expect {
    let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    Expect::Shows {
        shows: own(shows),
        hides: own(hides),
    }
}

fn err(code: &'static str, status: u16) -> Expect {
    Expect::Error { code, status }
}

/// The owner's resources, named in the requests.
pub struct Fixture {
    pub owner_account: &'static str,
    pub table: &'static str,
    pub table_arn: String,
    pub backup_arn: String,
    pub cluster: &'static str,
    pub cluster_arn: String,
    pub snapshot: &'static str,
    pub snapshot_arn: String,
    pub schedule: &'static str,
    pub schedule_arn: String,
}

/// One operation aimed at the owner's resources.
pub struct Op {
    pub svc: Svc,
    pub resource: &'static str,
    pub action: &'static str,
    /// DynamoDB: the JSON body; Redshift: the form pairs after `Action` and `Version`.
    input: Input,
    /// Accepting it changes nothing, so the matrix may also send it validly as the owner.
    pub read_only: bool,
    /// The answer to another account.
    pub foreign: Expect,
    /// The answer to the owner signing for another region (regions are separate namespaces).
    pub other_region: Expect,
    /// The answer to the account the owner's snapshot is shared with (reference §3.14): like
    /// any other account's, except that it sees and may restore that snapshot.
    pub grantee: Expect,
}

enum Input {
    Json(String),
    Form(Vec<(String, String)>),
}

impl Op {
    /// The request, as a header-signed POST or, when `presigned`, as Redshift's GET with the
    /// parameters in the query string (DynamoDB stays a POST with the body).
    pub fn plain(&self, presigned: bool) -> Plain {
        match &self.input {
            Input::Json(body) => Plain {
                method: "POST",
                query: String::new(),
                headers: vec![
                    (
                        "content-type".to_owned(),
                        "application/x-amz-json-1.0".to_owned(),
                    ),
                    (
                        "x-amz-target".to_owned(),
                        format!("DynamoDB_20120810.{}", self.action),
                    ),
                ],
                body: body.clone().into_bytes(),
            },
            Input::Form(pairs) => {
                let mut all = vec![
                    ("Action".to_owned(), self.action.to_owned()),
                    ("Version".to_owned(), "2012-12-01".to_owned()),
                ];
                all.extend(pairs.iter().cloned());
                let params = form(&all);
                if presigned {
                    Plain {
                        method: "GET",
                        query: params,
                        headers: Vec::new(),
                        body: Vec::new(),
                    }
                } else {
                    Plain {
                        method: "POST",
                        query: String::new(),
                        headers: vec![(
                            "content-type".to_owned(),
                            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
                        )],
                        body: params.into_bytes(),
                    }
                }
            }
        }
    }
}

fn ddb(
    resource: &'static str,
    action: &'static str,
    body: String,
    read_only: bool,
    foreign: Expect,
) -> Op {
    Op {
        svc: Svc::DynamoDb,
        resource,
        action,
        input: Input::Json(body),
        read_only,
        other_region: foreign.clone(),
        grantee: foreign.clone(),
        foreign,
    }
}

fn rs(
    resource: &'static str,
    action: &'static str,
    pairs: &[(&str, &str)],
    read_only: bool,
    foreign: Expect,
) -> Op {
    Op {
        svc: Svc::Redshift,
        resource,
        action,
        input: Input::Form(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        read_only,
        other_region: foreign.clone(),
        grantee: foreign.clone(),
        foreign,
    }
}

impl Op {
    fn in_other_region(mut self, e: Expect) -> Self {
        self.other_region = e;
        self
    }

    fn for_grantee(mut self, e: Expect) -> Self {
        self.grantee = e;
        self
    }
}

/// Every DynamoDB operation on the owner's table, items, backup, PITR, TTL and tags.
pub fn dynamodb_ops(f: &Fixture) -> Vec<Op> {
    let t = f.table;
    let key = r#"{"pk":{"S":"a"},"sk":{"N":"1"}}"#;
    // DescribeTable/items/TTL/tags answer ResourceNotFoundException; the backup and PITR
    // family TableNotFoundException (reference §2.3, Appendix A).
    let rnf = || err("ResourceNotFoundException", 400);
    let tnf = || err("TableNotFoundException", 400);
    // AWS answers a well-formed ARN of another account with AccessDeniedException `Access is
    // denied` (reference §2.5, §2.6, §2.10, Appendix A: observed for backup ARNs; tidemark
    // gives table ARNs the same answer, the reference recording none). The owner's own ARN
    // in another region names nothing there: the backup is not found (§2.5), a table ARN is
    // invalid. RestoreTableToPointInTime's SourceTableArn is the exception: AWS answers
    // another account's with a ValidationException (§2.11 step 1, observed).
    let denied = || err("AccessDeniedException", 400);
    let backup_nf = || err("BackupNotFoundException", 400);
    let invalid_arn = || err("ValidationException", 400);
    vec![
        ddb("table", "ListTables", "{}".into(), true, ok(&[t])),
        ddb(
            "table",
            "CreateTable",
            r#"{"TableName":"intruder","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#.into(),
            false,
            ok(&[f.owner_account]),
        )
        .in_other_region(ok(&[REGION])),
        ddb("table", "DescribeTable", format!(r#"{{"TableName":"{t}"}}"#), true, rnf()),
        ddb(
            "table",
            "UpdateTable",
            format!(r#"{{"TableName":"{t}","DeletionProtectionEnabled":true}}"#),
            false,
            rnf(),
        ),
        ddb("table", "DeleteTable", format!(r#"{{"TableName":"{t}"}}"#), false, rnf()),
        ddb(
            "item",
            "PutItem",
            format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"sk":{{"N":"1"}},"v":{{"S":"forged"}}}}}}"#),
            false,
            rnf(),
        ),
        ddb("item", "GetItem", format!(r#"{{"TableName":"{t}","Key":{key}}}"#), true, rnf()),
        ddb(
            "item",
            "UpdateItem",
            format!(r#"{{"TableName":"{t}","Key":{key},"UpdateExpression":"SET v = :v","ExpressionAttributeValues":{{":v":{{"S":"forged"}}}}}}"#),
            false,
            rnf(),
        ),
        ddb("item", "DeleteItem", format!(r#"{{"TableName":"{t}","Key":{key}}}"#), false, rnf()),
        ddb(
            "item",
            "Query",
            format!(r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"a"}}}}}}"#),
            true,
            rnf(),
        ),
        ddb("item", "Scan", format!(r#"{{"TableName":"{t}"}}"#), true, rnf()),
        ddb(
            "item",
            "BatchGetItem",
            format!(r#"{{"RequestItems":{{"{t}":{{"Keys":[{key}]}}}}}}"#),
            true,
            rnf(),
        ),
        ddb(
            "item",
            "BatchWriteItem",
            format!(r#"{{"RequestItems":{{"{t}":[{{"DeleteRequest":{{"Key":{key}}}}}]}}}}"#),
            false,
            rnf(),
        ),
        ddb(
            "item",
            "TransactGetItems",
            format!(r#"{{"TransactItems":[{{"Get":{{"TableName":"{t}","Key":{key}}}}}]}}"#),
            true,
            rnf(),
        ),
        ddb(
            "item",
            "TransactWriteItems",
            format!(r#"{{"TransactItems":[{{"Delete":{{"TableName":"{t}","Key":{key}}}}}]}}"#),
            false,
            rnf(),
        ),
        ddb(
            "backup",
            "CreateBackup",
            format!(r#"{{"TableName":"{t}","BackupName":"forged"}}"#),
            false,
            tnf(),
        ),
        ddb("backup", "ListBackups", "{}".into(), true, ok(&[&f.backup_arn])),
        ddb(
            "backup",
            "DescribeBackup",
            format!(r#"{{"BackupArn":"{}"}}"#, f.backup_arn),
            true,
            denied(),
        )
        .in_other_region(backup_nf()),
        ddb(
            "backup",
            "DeleteBackup",
            format!(r#"{{"BackupArn":"{}"}}"#, f.backup_arn),
            false,
            denied(),
        )
        .in_other_region(backup_nf()),
        ddb(
            "backup",
            "RestoreTableFromBackup",
            format!(r#"{{"TargetTableName":"stolen","BackupArn":"{}"}}"#, f.backup_arn),
            false,
            denied(),
        )
        .in_other_region(backup_nf()),
        ddb(
            "pitr",
            "DescribeContinuousBackups",
            format!(r#"{{"TableName":"{t}"}}"#),
            true,
            tnf(),
        ),
        ddb(
            "pitr",
            "UpdateContinuousBackups",
            format!(r#"{{"TableName":"{t}","PointInTimeRecoverySpecification":{{"PointInTimeRecoveryEnabled":false}}}}"#),
            false,
            tnf(),
        ),
        ddb(
            "pitr",
            "RestoreTableToPointInTime",
            format!(r#"{{"SourceTableName":"{t}","TargetTableName":"stolen-pitr","UseLatestRestorableTime":true}}"#),
            false,
            tnf(),
        ),
        // The owner's table named by its ARN, where a name is accepted.
        ddb(
            "table",
            "DescribeTable",
            format!(r#"{{"TableName":"{}"}}"#, f.table_arn),
            true,
            denied(),
        )
        .in_other_region(invalid_arn()),
        ddb(
            "item",
            "GetItem",
            format!(r#"{{"TableName":"{}","Key":{key}}}"#, f.table_arn),
            true,
            denied(),
        )
        .in_other_region(invalid_arn()),
        ddb(
            "item",
            "PutItem",
            format!(r#"{{"TableName":"{}","Item":{{"pk":{{"S":"a"}},"sk":{{"N":"1"}},"v":{{"S":"forged"}}}}}}"#, f.table_arn),
            false,
            denied(),
        )
        .in_other_region(invalid_arn()),
        ddb(
            "backup",
            "CreateBackup",
            format!(r#"{{"TableName":"{}","BackupName":"forged"}}"#, f.table_arn),
            false,
            denied(),
        )
        .in_other_region(invalid_arn()),
        ddb(
            "pitr",
            "RestoreTableToPointInTime",
            format!(r#"{{"SourceTableArn":"{}","TargetTableName":"stolen-pitr","UseLatestRestorableTime":true}}"#, f.table_arn),
            false,
            invalid_arn(),
        ),
        ddb("ttl", "DescribeTimeToLive", format!(r#"{{"TableName":"{t}"}}"#), true, rnf()),
        ddb(
            "ttl",
            "UpdateTimeToLive",
            format!(r#"{{"TableName":"{t}","TimeToLiveSpecification":{{"Enabled":false,"AttributeName":"exp"}}}}"#),
            false,
            rnf(),
        ),
        // ListBackups' cursor and table filter take ARNs too; another account's cursor was
        // a 500 InternalServerError before AccessDeniedException could be said.
        ddb(
            "backup",
            "ListBackups",
            format!(r#"{{"ExclusiveStartBackupArn":"{}"}}"#, f.backup_arn),
            true,
            denied(),
        )
        .in_other_region(ok(&[&f.backup_arn])),
        ddb(
            "backup",
            "ListBackups",
            format!(r#"{{"TableName":"{}"}}"#, f.table_arn),
            true,
            denied(),
        )
        .in_other_region(invalid_arn()),
        ddb(
            "tags",
            "TagResource",
            format!(r#"{{"ResourceArn":"{}","Tags":[{{"Key":"owner","Value":"mallory"}}]}}"#, f.table_arn),
            false,
            denied(),
        )
        .in_other_region(invalid_arn()),
        ddb(
            "tags",
            "UntagResource",
            format!(r#"{{"ResourceArn":"{}","TagKeys":["team"]}}"#, f.table_arn),
            false,
            denied(),
        )
        .in_other_region(invalid_arn()),
        ddb(
            "tags",
            "ListTagsOfResource",
            format!(r#"{{"ResourceArn":"{}"}}"#, f.table_arn),
            true,
            denied(),
        )
        .in_other_region(invalid_arn()),
    ]
}

/// Every Redshift operation on the owner's cluster, snapshot, schedule, tags and sharing.
pub fn redshift_ops(f: &Fixture) -> Vec<Op> {
    let (c, s, sc) = (f.cluster, f.snapshot, f.schedule);
    let cnf = || err("ClusterNotFound", 404);
    let snf = || err("ClusterSnapshotNotFound", 404);
    let schnf = || err("SnapshotScheduleNotFound", 400);
    let res_nf = || err("ResourceNotFoundFault", 404);
    // The grantee sees the shared snapshot, but only the owner sees whom it is shared with.
    let shared = || {
        shows(
            &[&format!("<SnapshotIdentifier>{s}</SnapshotIdentifier>")],
            &["<AccountId>333333333333</AccountId>"],
        )
    };
    let restored = |id: &str| {
        shows(
            &[&format!("<ClusterIdentifier>{id}</ClusterIdentifier>")],
            &[],
        )
    };
    // Only the owner may revoke (reference §3.14).
    let not_owner = || err("AccessToSnapshotDenied", 400);
    vec![
        rs("cluster", "DescribeClusters", &[], true, ok(&[c])),
        rs(
            "cluster",
            "DescribeClusters",
            &[("ClusterIdentifier", c)],
            true,
            cnf(),
        ),
        rs(
            "cluster",
            "CreateCluster",
            &[
                ("ClusterIdentifier", "intruder"),
                ("NodeType", "dc2.large"),
                ("MasterUsername", "adminuser"),
                ("MasterUserPassword", "Passw0rd1"),
            ],
            false,
            ok(&[f.owner_account]),
        )
        .in_other_region(ok(&[REGION])),
        rs(
            "cluster",
            "ModifyCluster",
            &[
                ("ClusterIdentifier", c),
                ("AutomatedSnapshotRetentionPeriod", "7"),
            ],
            false,
            cnf(),
        ),
        rs(
            "cluster",
            "PauseCluster",
            &[("ClusterIdentifier", c)],
            false,
            cnf(),
        ),
        rs(
            "cluster",
            "ResumeCluster",
            &[("ClusterIdentifier", c)],
            false,
            cnf(),
        ),
        rs(
            "cluster",
            "DeleteCluster",
            &[
                ("ClusterIdentifier", c),
                ("SkipFinalClusterSnapshot", "true"),
            ],
            false,
            cnf(),
        ),
        rs(
            "snapshot",
            "CreateClusterSnapshot",
            &[
                ("ClusterIdentifier", c),
                ("SnapshotIdentifier", "forged-snap"),
            ],
            false,
            cnf(),
        ),
        rs("snapshot", "DescribeClusterSnapshots", &[], true, ok(&[s])).for_grantee(shared()),
        rs(
            "snapshot",
            "DescribeClusterSnapshots",
            &[("SnapshotIdentifier", s)],
            true,
            snf(),
        )
        .for_grantee(shared()),
        rs(
            "snapshot",
            "ModifyClusterSnapshot",
            &[
                ("SnapshotIdentifier", s),
                ("ManualSnapshotRetentionPeriod", "10"),
            ],
            false,
            snf(),
        ),
        rs(
            "snapshot",
            "CopyClusterSnapshot",
            &[
                ("SourceSnapshotIdentifier", s),
                ("TargetSnapshotIdentifier", "stolen-copy"),
            ],
            false,
            snf(),
        ),
        rs(
            "snapshot",
            "DeleteClusterSnapshot",
            &[("SnapshotIdentifier", s)],
            false,
            snf(),
        ),
        rs(
            "snapshot",
            "BatchDeleteClusterSnapshots",
            &[(
                "Identifiers.DeleteClusterSnapshotMessage.1.SnapshotIdentifier",
                s,
            )],
            false,
            Expect::ItemError("ClusterSnapshotNotFound"),
        ),
        rs(
            "snapshot",
            "BatchModifyClusterSnapshots",
            &[
                ("SnapshotIdentifierList.String.1", s),
                ("ManualSnapshotRetentionPeriod", "10"),
            ],
            false,
            Expect::ItemError("ClusterSnapshotNotFound"),
        ),
        rs(
            "snapshot",
            "RestoreFromClusterSnapshot",
            &[("ClusterIdentifier", "stolen"), ("SnapshotIdentifier", s)],
            false,
            snf(),
        ),
        rs(
            "sharing",
            "RestoreFromClusterSnapshot",
            &[
                ("ClusterIdentifier", "stolen"),
                ("SnapshotIdentifier", s),
                ("OwnerAccount", f.owner_account),
            ],
            false,
            // Naming the owner of a snapshot not shared with the caller (reference §3.18).
            err("AccessToSnapshotDenied", 400),
        )
        // The owner's own account, but the snapshot lives in another region.
        .in_other_region(snf())
        .for_grantee(restored("stolen")),
        // The owner's snapshot named by its ARN.
        rs(
            "snapshot",
            "DescribeClusterSnapshots",
            &[("SnapshotArn", &f.snapshot_arn)],
            true,
            snf(),
        )
        .for_grantee(shared()),
        rs(
            "sharing",
            "RestoreFromClusterSnapshot",
            &[
                ("ClusterIdentifier", "stolen-by-arn"),
                ("SnapshotArn", &f.snapshot_arn),
            ],
            false,
            err("AccessToSnapshotDenied", 400),
        )
        .in_other_region(snf())
        .for_grantee(restored("stolen-by-arn")),
        rs(
            "sharing",
            "AuthorizeSnapshotAccess",
            &[
                ("SnapshotArn", &f.snapshot_arn),
                ("AccountWithRestoreAccess", "444444444444"),
            ],
            false,
            snf(),
        ),
        rs(
            "sharing",
            "RevokeSnapshotAccess",
            &[
                ("SnapshotArn", &f.snapshot_arn),
                ("AccountWithRestoreAccess", "333333333333"),
            ],
            false,
            snf(),
        )
        .for_grantee(not_owner()),
        rs(
            "sharing",
            "DescribeClusterSnapshots",
            &[("OwnerAccount", f.owner_account)],
            true,
            ok(&[s]),
        )
        .for_grantee(shared()),
        rs(
            "sharing",
            "AuthorizeSnapshotAccess",
            &[
                ("SnapshotIdentifier", s),
                ("AccountWithRestoreAccess", "444444444444"),
            ],
            false,
            snf(),
        ),
        rs(
            "sharing",
            "RevokeSnapshotAccess",
            &[
                ("SnapshotIdentifier", s),
                ("AccountWithRestoreAccess", "333333333333"),
            ],
            false,
            snf(),
        )
        .for_grantee(not_owner()),
        rs(
            "schedule",
            "CreateSnapshotSchedule",
            &[
                ("ScheduleIdentifier", "intruder-sched"),
                ("ScheduleDefinitions.ScheduleDefinition.1", "rate(12 hours)"),
            ],
            false,
            ok(&[f.owner_account]),
        )
        .in_other_region(ok(&[REGION])),
        rs(
            "schedule",
            "DescribeSnapshotSchedules",
            &[],
            true,
            ok(&[sc]),
        ),
        rs(
            "schedule",
            "DescribeSnapshotSchedules",
            &[("ScheduleIdentifier", sc)],
            true,
            ok(&[sc]),
        ),
        rs(
            "schedule",
            "ModifySnapshotSchedule",
            &[
                ("ScheduleIdentifier", sc),
                ("ScheduleDefinitions.ScheduleDefinition.1", "rate(6 hours)"),
            ],
            false,
            schnf(),
        ),
        rs(
            "schedule",
            "ModifyClusterSnapshotSchedule",
            &[("ClusterIdentifier", c), ("ScheduleIdentifier", sc)],
            false,
            cnf(),
        ),
        rs(
            "schedule",
            "DeleteSnapshotSchedule",
            &[("ScheduleIdentifier", sc)],
            false,
            schnf(),
        ),
        rs("tags", "DescribeTags", &[], true, ok(&["team"])),
        rs(
            "tags",
            "DescribeTags",
            &[("ResourceName", &f.cluster_arn)],
            true,
            res_nf(),
        ),
        rs(
            "tags",
            "CreateTags",
            &[
                ("ResourceName", &f.cluster_arn),
                ("Tags.Tag.1.Key", "owner"),
                ("Tags.Tag.1.Value", "mallory"),
            ],
            false,
            res_nf(),
        ),
        rs(
            "tags",
            "CreateTags",
            &[
                ("ResourceName", &f.snapshot_arn),
                ("Tags.Tag.1.Key", "owner"),
                ("Tags.Tag.1.Value", "mallory"),
            ],
            false,
            res_nf(),
        ),
        rs(
            "tags",
            "CreateTags",
            &[
                ("ResourceName", &f.schedule_arn),
                ("Tags.Tag.1.Key", "owner"),
                ("Tags.Tag.1.Value", "mallory"),
            ],
            false,
            res_nf(),
        ),
        rs(
            "tags",
            "DeleteTags",
            &[
                ("ResourceName", &f.cluster_arn),
                ("TagKeys.TagKey.1", "team"),
            ],
            false,
            res_nf(),
        ),
    ]
}
