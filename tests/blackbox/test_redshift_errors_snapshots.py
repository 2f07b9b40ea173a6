"""Redshift snapshot-operation errors over the wire with boto3: CreateClusterSnapshot,
CopyClusterSnapshot, DeleteClusterSnapshot, ModifyClusterSnapshot, DescribeClusterSnapshots and
the batch forms, each code with its HTTP status (aws-behaviour.md §3.9–§3.13, §3.17, §3.20)."""


import pytest
import requests
from tm_helpers import expect, wait_until

PASSWORD = "Passw0rd1"




@pytest.fixture
def cluster(redshift, endpoint) -> str:
    """An available dc2.large cluster `c1` with a manual snapshot `manual-1` (available) and its
    first automated snapshot (available); the clock is frozen so nothing expires."""
    requests.post(f"{endpoint}/_tidemark/clock", json={"freeze": True}, timeout=10).raise_for_status()
    redshift.create_cluster(
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="adminuser",
        MasterUserPassword=PASSWORD,
    )
    wait_until(
        lambda: redshift.describe_clusters(ClusterIdentifier="c1")["Clusters"][0]["ClusterStatus"]
        == "available",
        "cluster available",
    )
    redshift.create_cluster_snapshot(SnapshotIdentifier="manual-1", ClusterIdentifier="c1")
    wait_until(
        lambda: redshift.describe_cluster_snapshots(SnapshotIdentifier="manual-1")["Snapshots"][0][
            "Status"
        ]
        == "available",
        "manual snapshot available",
    )
    return "c1"


def automated_id(redshift) -> str:
    return wait_until(
        lambda: [
            s["SnapshotIdentifier"]
            for s in redshift.describe_cluster_snapshots(
                ClusterIdentifier="c1", SnapshotType="automated"
            )["Snapshots"]
            if s["Status"] == "available"
        ],
        "an available automated snapshot",
    )[0]


def test_create_cluster_snapshot_errors(redshift, cluster):
    """§3.9, §3.20: ClusterNotFound 404; ClusterSnapshotAlreadyExists 400 (template);
    InvalidRetentionPeriodFault 400; InvalidParameterValue 400 for a bad id; InvalidTagFault /
    TagLimitExceededFault 400; InvalidClusterState 400 for a cluster that is not available."""
    expect(
        "ClusterNotFound", 404, redshift.create_cluster_snapshot, "Cluster ghost not found.",
        SnapshotIdentifier="s1", ClusterIdentifier="ghost",
    )
    expect(
        "ClusterSnapshotAlreadyExists", 400, redshift.create_cluster_snapshot,
        "Cannot create the snapshot because a snapshot with the identifier manual-1 already exists",
        SnapshotIdentifier="manual-1", ClusterIdentifier=cluster,
    )
    expect(
        "InvalidRetentionPeriodFault", 400, redshift.create_cluster_snapshot,
        SnapshotIdentifier="s1", ClusterIdentifier=cluster, ManualSnapshotRetentionPeriod=3654,
    )
    expect(
        "InvalidParameterValue", 400, redshift.create_cluster_snapshot,
        SnapshotIdentifier="-bad", ClusterIdentifier=cluster,
    )
    expect(
        "InvalidTagFault", 400, redshift.create_cluster_snapshot,
        SnapshotIdentifier="s1", ClusterIdentifier=cluster, Tags=[{"Key": "aws:x", "Value": "v"}],
    )
    expect(
        "TagLimitExceededFault", 400, redshift.create_cluster_snapshot,
        SnapshotIdentifier="s1", ClusterIdentifier=cluster,
        Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)],
    )
    automated_id(redshift)  # the first automated snapshot must finish before a pause (§3.6)
    redshift.pause_cluster(ClusterIdentifier=cluster)
    expect(
        "InvalidClusterState", 400, redshift.create_cluster_snapshot,
        SnapshotIdentifier="s1", ClusterIdentifier=cluster,
    )


def test_copy_cluster_snapshot_errors(redshift, cluster):
    """§3.10, §3.20: source missing → ClusterSnapshotNotFound 404; source manual →
    InvalidClusterSnapshotState 400; target taken → ClusterSnapshotAlreadyExists 400; bad
    retention → InvalidRetentionPeriodFault 400; source cluster named but unknown →
    ClusterNotFound 404."""
    auto = automated_id(redshift)
    expect(
        "ClusterSnapshotNotFound", 404, redshift.copy_cluster_snapshot, "Snapshot ghost not found.",
        SourceSnapshotIdentifier="ghost", TargetSnapshotIdentifier="t1",
    )
    expect(
        "InvalidClusterSnapshotState", 400, redshift.copy_cluster_snapshot,
        SourceSnapshotIdentifier="manual-1", TargetSnapshotIdentifier="t1",
    )
    expect(
        "ClusterSnapshotAlreadyExists", 400, redshift.copy_cluster_snapshot,
        SourceSnapshotIdentifier=auto, TargetSnapshotIdentifier="manual-1",
    )
    expect(
        "InvalidRetentionPeriodFault", 400, redshift.copy_cluster_snapshot,
        SourceSnapshotIdentifier=auto, TargetSnapshotIdentifier="t1",
        ManualSnapshotRetentionPeriod=0,
    )
    expect(
        "ClusterNotFound", 404, redshift.copy_cluster_snapshot,
        SourceSnapshotIdentifier=auto, SourceSnapshotClusterIdentifier="ghost",
        TargetSnapshotIdentifier="t1",
    )


def test_delete_cluster_snapshot_errors(redshift, cluster):
    """§3.11, §3.20: missing → ClusterSnapshotNotFound 404 (`Snapshot <id> not found.`);
    automated → InvalidClusterSnapshotState 400 (template); a deleted snapshot is gone."""
    auto = automated_id(redshift)
    expect(
        "ClusterSnapshotNotFound", 404, redshift.delete_cluster_snapshot,
        "Snapshot ghost not found.", SnapshotIdentifier="ghost",
    )
    expect(
        "InvalidClusterSnapshotState", 400, redshift.delete_cluster_snapshot,
        f"Cannot delete the snapshot {auto} because only manual snapshots may be deleted",
        SnapshotIdentifier=auto,
    )
    redshift.delete_cluster_snapshot(SnapshotIdentifier="manual-1")
    expect(
        "ClusterSnapshotNotFound", 404, redshift.delete_cluster_snapshot,
        SnapshotIdentifier="manual-1",
    )


def test_modify_cluster_snapshot_errors(redshift, cluster):
    """§3.13, §3.20: missing → ClusterSnapshotNotFound 404; bad retention →
    InvalidRetentionPeriodFault 400; retention on an automated snapshot →
    InvalidClusterSnapshotState 400."""
    auto = automated_id(redshift)
    expect(
        "ClusterSnapshotNotFound", 404, redshift.modify_cluster_snapshot,
        SnapshotIdentifier="ghost", ManualSnapshotRetentionPeriod=5,
    )
    expect(
        "InvalidRetentionPeriodFault", 400, redshift.modify_cluster_snapshot,
        SnapshotIdentifier="manual-1", ManualSnapshotRetentionPeriod=-5,
    )
    expect(
        "InvalidClusterSnapshotState", 400, redshift.modify_cluster_snapshot,
        SnapshotIdentifier=auto, ManualSnapshotRetentionPeriod=5,
    )


def test_describe_cluster_snapshots_errors(redshift, cluster):
    """§3.17, §3.20: unknown SnapshotIdentifier / SnapshotArn → ClusterSnapshotNotFound 404;
    MaxRecords outside 20–100, bad SnapshotType, bad sort attribute → InvalidParameterValue 400;
    SnapshotIdentifier+SnapshotArn → InvalidParameterCombination 400."""
    expect(
        "ClusterSnapshotNotFound", 404, redshift.describe_cluster_snapshots,
        "Snapshot ghost not found.", SnapshotIdentifier="ghost",
    )
    arn = redshift.describe_cluster_snapshots(SnapshotIdentifier="manual-1")["Snapshots"][0][
        "SnapshotArn"
    ]
    expect(
        "ClusterSnapshotNotFound", 404, redshift.describe_cluster_snapshots,
        SnapshotArn=arn.replace("manual-1", "ghost"),
    )
    for bad in (19, 101):
        expect(
            "InvalidParameterValue", 400, redshift.describe_cluster_snapshots,
            "MaxRecords must be between 20 and 100.", MaxRecords=bad,
        )
    expect("InvalidParameterValue", 400, redshift.describe_cluster_snapshots, SnapshotType="weekly")
    expect(
        "InvalidParameterValue", 400, redshift.describe_cluster_snapshots,
        SortingEntities=[{"Attribute": "NAME", "SortOrder": "ASC"}],
    )
    expect(
        "InvalidParameterCombination", 400, redshift.describe_cluster_snapshots,
        SnapshotIdentifier="manual-1", SnapshotArn=arn,
    )


def test_batch_limits_and_per_item_errors(redshift, cluster):
    """§3.12, §3.20: more than 100 entries → BatchDeleteRequestSizeExceeded /
    BatchModifyClusterSnapshotsLimitExceededFault (400); bad retention →
    InvalidRetentionPeriodFault (400); per-snapshot failures are reported in `Errors` with the
    single-operation codes instead of failing the call."""
    expect(
        "BatchDeleteRequestSizeExceeded", 400, redshift.batch_delete_cluster_snapshots,
        Identifiers=[{"SnapshotIdentifier": f"s{i}"} for i in range(101)],
    )
    expect(
        "BatchModifyClusterSnapshotsLimitExceededFault", 400,
        redshift.batch_modify_cluster_snapshots,
        SnapshotIdentifierList=[f"s{i}" for i in range(101)], ManualSnapshotRetentionPeriod=5,
    )
    expect(
        "InvalidRetentionPeriodFault", 400, redshift.batch_modify_cluster_snapshots,
        SnapshotIdentifierList=["manual-1"], ManualSnapshotRetentionPeriod=0,
    )
    auto = automated_id(redshift)
    out = redshift.batch_delete_cluster_snapshots(
        Identifiers=[{"SnapshotIdentifier": "ghost"}, {"SnapshotIdentifier": auto}]
    )
    codes = {e["SnapshotIdentifier"]: e["FailureCode"] for e in out["Errors"]}
    assert codes == {"ghost": "ClusterSnapshotNotFound", auto: "InvalidClusterSnapshotState"}
    assert out.get("Resources", []) == []
