"""Redshift sharing and restore errors over the wire with boto3: AuthorizeSnapshotAccess,
RevokeSnapshotAccess and RestoreFromClusterSnapshot, each code with its HTTP status, including
the cross-account ones (aws-behaviour.md §3.14, §3.18, §3.20). A 12-digit access key selects
that account on the server."""


import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from tm_helpers import REGION
from tm_helpers import expect, wait_until

PASSWORD = "Passw0rd1"
GRANTEE = "222222222222"
STRANGER = "333333333333"




def client_for(endpoint: str, account: str):
    return boto3.client(
        "redshift",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=account,
        aws_secret_access_key="any-secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def snap(redshift) -> dict:
    """An available dc2.large cluster `c1` and its available manual snapshot `snap-1`."""
    redshift.create_cluster(
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="adminuser",
        MasterUserPassword=PASSWORD,
    )
    wait_until(
        lambda: redshift.describe_clusters(ClusterIdentifier="c1")["Clusters"][0]["ClusterStatus"]
        == "available",
        "cluster available",
    )
    redshift.create_cluster_snapshot(SnapshotIdentifier="snap-1", ClusterIdentifier="c1")
    return wait_until(
        lambda: [
            s
            for s in redshift.describe_cluster_snapshots(SnapshotIdentifier="snap-1")["Snapshots"]
            if s["Status"] == "available"
        ],
        "snapshot available",
    )[0]


def test_authorize_errors(redshift, endpoint, snap):
    """§3.14, §3.20: missing snapshot → ClusterSnapshotNotFound 404; repeat grant →
    AuthorizationAlreadyExists 400; more than 20 accounts → AuthorizationQuotaExceeded 400;
    automated snapshot → InvalidClusterSnapshotState 400; malformed account →
    InvalidParameterValue 400; a grantee cannot re-share → ClusterSnapshotNotFound 404."""
    expect(
        "ClusterSnapshotNotFound", 404, redshift.authorize_snapshot_access,
        SnapshotIdentifier="ghost", AccountWithRestoreAccess=GRANTEE,
    )
    redshift.authorize_snapshot_access(SnapshotIdentifier="snap-1", AccountWithRestoreAccess=GRANTEE)
    expect(
        "AuthorizationAlreadyExists", 400, redshift.authorize_snapshot_access,
        SnapshotIdentifier="snap-1", AccountWithRestoreAccess=GRANTEE,
    )
    expect(
        "InvalidParameterValue", 400, redshift.authorize_snapshot_access,
        SnapshotIdentifier="snap-1", AccountWithRestoreAccess="12345",
    )
    for i in range(19):
        redshift.authorize_snapshot_access(
            SnapshotIdentifier="snap-1", AccountWithRestoreAccess=f"4000000000{i:02d}"
        )
    expect(
        "AuthorizationQuotaExceeded", 400, redshift.authorize_snapshot_access,
        SnapshotIdentifier="snap-1", AccountWithRestoreAccess=STRANGER,
    )
    auto = wait_until(
        lambda: [
            s["SnapshotIdentifier"]
            for s in redshift.describe_cluster_snapshots(SnapshotType="automated")["Snapshots"]
            if s["Status"] == "available"
        ],
        "automated snapshot",
    )[0]
    expect(
        "InvalidClusterSnapshotState", 400, redshift.authorize_snapshot_access,
        SnapshotIdentifier=auto, AccountWithRestoreAccess=GRANTEE,
    )
    grantee = client_for(endpoint, GRANTEE)
    expect(
        "ClusterSnapshotNotFound", 404, grantee.authorize_snapshot_access,
        SnapshotArn=snap["SnapshotArn"], AccountWithRestoreAccess=STRANGER,
    )


def test_revoke_errors(redshift, endpoint, snap):
    """§3.14, §3.20: revoking an account never granted → AuthorizationNotFound (404); missing
    snapshot → ClusterSnapshotNotFound (404); a grantee revoking → AccessToSnapshotDenied (400)."""
    expect(
        "AuthorizationNotFound", 404, redshift.revoke_snapshot_access,
        SnapshotIdentifier="snap-1", AccountWithRestoreAccess=GRANTEE,
    )
    expect(
        "ClusterSnapshotNotFound", 404, redshift.revoke_snapshot_access,
        SnapshotIdentifier="ghost", AccountWithRestoreAccess=GRANTEE,
    )
    redshift.authorize_snapshot_access(SnapshotIdentifier="snap-1", AccountWithRestoreAccess=GRANTEE)
    grantee = client_for(endpoint, GRANTEE)
    expect(
        "AccessToSnapshotDenied", 400, grantee.revoke_snapshot_access,
        SnapshotArn=snap["SnapshotArn"], AccountWithRestoreAccess=GRANTEE,
    )
    redshift.revoke_snapshot_access(SnapshotIdentifier="snap-1", AccountWithRestoreAccess=GRANTEE)
    expect(
        "AuthorizationNotFound", 404, redshift.revoke_snapshot_access,
        SnapshotIdentifier="snap-1", AccountWithRestoreAccess=GRANTEE,
    )


def test_restore_errors(redshift, endpoint, snap):
    """§3.18, §3.20: missing snapshot → ClusterSnapshotNotFound 404; target exists →
    ClusterAlreadyExists 400; incompatible node type → InvalidRestore **406**; unknown schedule →
    SnapshotScheduleNotFound 400; bad target id → InvalidParameterValue 400; id+ARN →
    InvalidParameterCombination 400; a stranger's restore → AccessToSnapshotDenied 400."""
    expect(
        "ClusterSnapshotNotFound", 404, redshift.restore_from_cluster_snapshot,
        "Snapshot ghost not found.", ClusterIdentifier="r1", SnapshotIdentifier="ghost",
    )
    expect(
        "ClusterAlreadyExists", 400, redshift.restore_from_cluster_snapshot,
        ClusterIdentifier="c1", SnapshotIdentifier="snap-1",
    )
    expect(
        "InvalidRestore", 406, redshift.restore_from_cluster_snapshot,
        ClusterIdentifier="r1", SnapshotIdentifier="snap-1", NodeType="ra3.4xlarge",
    )
    expect(
        "SnapshotScheduleNotFound", 400, redshift.restore_from_cluster_snapshot,
        ClusterIdentifier="r1", SnapshotIdentifier="snap-1",
        SnapshotScheduleIdentifier="no-such-schedule",
    )
    expect(
        "InvalidParameterValue", 400, redshift.restore_from_cluster_snapshot,
        ClusterIdentifier="r--1", SnapshotIdentifier="snap-1",
    )
    expect(
        "InvalidParameterCombination", 400, redshift.restore_from_cluster_snapshot,
        ClusterIdentifier="r1", SnapshotIdentifier="snap-1", SnapshotArn=snap["SnapshotArn"],
    )
    stranger = client_for(endpoint, STRANGER)
    expect(
        "AccessToSnapshotDenied", 400, stranger.restore_from_cluster_snapshot,
        ClusterIdentifier="r1", SnapshotIdentifier="snap-1", OwnerAccount=snap["OwnerAccount"],
    )
    assert [c["ClusterIdentifier"] for c in redshift.describe_clusters()["Clusters"]] == ["c1"]


def test_restore_of_a_snapshot_still_creating(redshift):
    """§3.18, §3.20: a snapshot that is not `available` → InvalidClusterSnapshotState (400).
    The final snapshot of a deleting cluster reads `final snapshot` until the cluster is gone,
    so the restore is only asserted while that state is visible."""
    redshift.create_cluster(
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="adminuser",
        MasterUserPassword=PASSWORD,
    )
    wait_until(
        lambda: redshift.describe_clusters(ClusterIdentifier="c1")["Clusters"][0]["ClusterStatus"]
        == "available",
        "cluster available",
    )
    out = redshift.create_cluster_snapshot(SnapshotIdentifier="young", ClusterIdentifier="c1")
    assert out["Snapshot"]["Status"] == "creating"
    try:
        redshift.restore_from_cluster_snapshot(ClusterIdentifier="r1", SnapshotIdentifier="young")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidClusterSnapshotState", e.response
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    else:
        # The capture job won the race; the snapshot must then really be available.
        status = redshift.describe_cluster_snapshots(SnapshotIdentifier="young")["Snapshots"][0]
        assert status["Status"] == "available"
