"""Redshift cluster-operation errors over the wire with boto3: every code the service emits for
CreateCluster, DescribeClusters, ModifyCluster, DeleteCluster, PauseCluster and ResumeCluster,
with its HTTP status (aws-behaviour.md §3.20, §1.3) and the §3.20 message templates."""

import time

import pytest
from tm_helpers import expect

PASSWORD = "Passw0rd1"
BAD_ID_MESSAGE = (
    "The parameter {} is not a valid identifier. Identifiers must begin with a letter; must "
    "contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain "
    "two consecutive hyphens."
)



def cluster_status(redshift, cid: str) -> str:
    return redshift.describe_clusters(ClusterIdentifier=cid)["Clusters"][0]["ClusterStatus"]


def wait_status(redshift, cid: str, wanted: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cluster_status(redshift, cid) == wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"cluster {cid} never reached {wanted}")


def wait_idle(redshift, cid: str, timeout_s: float = 10.0) -> None:
    """Waits until the first automated snapshot of `cid` exists and no snapshot is still being
    taken (that snapshot starts in its own job just after the cluster becomes available, and a
    snapshot in progress blocks pause, §3.3, §3.6 rule 4)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        snaps = redshift.describe_cluster_snapshots(ClusterIdentifier=cid)["Snapshots"]
        automated = [s for s in snaps if s["SnapshotType"] == "automated"]
        if automated and all(s["Status"] == "available" for s in snaps):
            return
        time.sleep(0.05)
    raise AssertionError(f"a snapshot of {cid} never finished")


def make_cluster(redshift, cid: str, **extra) -> None:
    redshift.create_cluster(
        ClusterIdentifier=cid,
        NodeType="dc2.large",
        MasterUsername="adminuser",
        MasterUserPassword=PASSWORD,
        **extra,
    )
    wait_status(redshift, cid, "available")


def test_cluster_not_found_is_404_on_every_cluster_operation(redshift):
    """§3.6 rule 1, §3.7, §3.8, §3.20: ClusterNotFound (404), `Cluster <id> not found.`."""
    message = "Cluster ghost not found."
    expect("ClusterNotFound", 404, redshift.describe_clusters, message, ClusterIdentifier="ghost")
    expect(
        "ClusterNotFound", 404, redshift.delete_cluster, message,
        ClusterIdentifier="ghost", SkipFinalClusterSnapshot=True,
    )
    expect(
        "ClusterNotFound", 404, redshift.modify_cluster, message,
        ClusterIdentifier="ghost", ManualSnapshotRetentionPeriod=5,
    )
    expect("ClusterNotFound", 404, redshift.pause_cluster, message, ClusterIdentifier="ghost")
    expect("ClusterNotFound", 404, redshift.resume_cluster, message, ClusterIdentifier="ghost")


def test_cluster_already_exists_on_create_and_rename(redshift):
    """§3.5 (unique id) and §3.7 (NewClusterIdentifier collision): ClusterAlreadyExists (400)."""
    make_cluster(redshift, "c1")
    make_cluster(redshift, "c2")
    expect(
        "ClusterAlreadyExists", 400, redshift.create_cluster,
        ClusterIdentifier="C1", NodeType="dc2.large", MasterUsername="adminuser",
        MasterUserPassword=PASSWORD,
    )
    expect(
        "ClusterAlreadyExists", 400, redshift.modify_cluster,
        ClusterIdentifier="c1", NewClusterIdentifier="c2",
    )


def test_invalid_cluster_state_for_pause_resume_and_modify(redshift):
    """§3.2, §3.7, §3.20: InvalidClusterState (400) when the cluster is not in the state the
    operation needs (resume of an available cluster, pause/modify of a paused one)."""
    make_cluster(redshift, "c1")
    expect(
        "InvalidClusterState", 400, redshift.resume_cluster,
        "You can't resume cluster c1 while its status is available.", ClusterIdentifier="c1",
    )
    wait_idle(redshift, "c1")
    redshift.pause_cluster(ClusterIdentifier="c1")
    wait_status(redshift, "c1", "paused")
    expect(
        "InvalidClusterState", 400, redshift.pause_cluster,
        "You can't pause cluster c1 while its status is paused.", ClusterIdentifier="c1",
    )
    expect(
        "InvalidClusterState", 400, redshift.modify_cluster,
        ClusterIdentifier="c1", AutomatedSnapshotRetentionPeriod=3,
    )


def test_delete_cluster_final_snapshot_flag_combinations(redshift):
    """§3.6 rule 2: InvalidParameterCombination (400) without either flag (§3.20 template) and
    with both; checked before anything changes (the cluster stays available)."""
    make_cluster(redshift, "c1")
    expect(
        "InvalidParameterCombination", 400, redshift.delete_cluster,
        "FinalClusterSnapshotIdentifier is required unless SkipFinalClusterSnapshot is specified.",
        ClusterIdentifier="c1",
    )
    expect(
        "InvalidParameterCombination", 400, redshift.delete_cluster,
        ClusterIdentifier="c1", SkipFinalClusterSnapshot=True,
        FinalClusterSnapshotIdentifier="final",
    )
    assert cluster_status(redshift, "c1") == "available"


def test_delete_cluster_final_snapshot_checks(redshift):
    """§3.6 rule 3: bad final id → InvalidParameterValue, id in use →
    ClusterSnapshotAlreadyExists, bad retention → InvalidRetentionPeriodFault (all 400)."""
    make_cluster(redshift, "c1")
    redshift.create_cluster_snapshot(SnapshotIdentifier="taken", ClusterIdentifier="c1")
    expect(
        "InvalidParameterValue", 400, redshift.delete_cluster,
        BAD_ID_MESSAGE.format("FinalClusterSnapshotIdentifier"),
        ClusterIdentifier="c1", FinalClusterSnapshotIdentifier="bad--id",
    )
    expect(
        "ClusterSnapshotAlreadyExists", 400, redshift.delete_cluster,
        "Cannot create the snapshot because a snapshot with the identifier taken already exists",
        ClusterIdentifier="c1", FinalClusterSnapshotIdentifier="taken",
    )
    expect(
        "InvalidRetentionPeriodFault", 400, redshift.delete_cluster,
        ClusterIdentifier="c1", FinalClusterSnapshotIdentifier="final",
        FinalClusterSnapshotRetentionPeriod=0,
    )


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"ClusterIdentifier": "1starts-with-digit"}, "InvalidParameterValue"),
        ({"ClusterIdentifier": "ends-with-hyphen-"}, "InvalidParameterValue"),
        ({"NodeType": "m5.large"}, "InvalidParameterValue"),
        ({"NumberOfNodes": 101}, "InvalidParameterValue"),
        ({"AutomatedSnapshotRetentionPeriod": 36}, "InvalidParameterValue"),
        ({"ManualSnapshotRetentionPeriod": 0}, "InvalidRetentionPeriodFault"),
        ({"ManualSnapshotRetentionPeriod": 3654}, "InvalidRetentionPeriodFault"),
        ({"Tags": [{"Key": "aws:reserved", "Value": "v"}]}, "InvalidTagFault"),
        (
            {"Tags": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]},
            "TagLimitExceededFault",
        ),
        ({"SnapshotScheduleIdentifier": "no-such-schedule"}, "SnapshotScheduleNotFound"),
        ({"ManageMasterPassword": True}, "InvalidParameterCombination"),
    ],
)
def test_create_cluster_rejections_are_400(redshift, extra, code):
    """§3.5 parameter rules and §3.20: each bad CreateCluster input fails with its code and
    HTTP 400, and nothing is created."""
    params = {
        "ClusterIdentifier": "c1",
        "NodeType": "dc2.large",
        "MasterUsername": "adminuser",
        "MasterUserPassword": PASSWORD,
    }
    params.update(extra)
    expect(code, 400, redshift.create_cluster, **params)
    assert redshift.describe_clusters()["Clusters"] == []


def test_create_cluster_bad_identifier_message(redshift):
    """§3.5 / §3.20 template for a malformed ClusterIdentifier (InvalidParameterValue 400)."""
    expect(
        "InvalidParameterValue", 400, redshift.create_cluster,
        BAD_ID_MESSAGE.format("ClusterIdentifier"),
        ClusterIdentifier="two--hyphens", NodeType="dc2.large", MasterUsername="adminuser",
        MasterUserPassword=PASSWORD,
    )


def test_create_cluster_without_password_is_missing_parameter(redshift):
    """§3.5: one of MasterUserPassword / ManageMasterPassword is needed → MissingParameter (400)."""
    expect(
        "MissingParameter", 400, redshift.create_cluster,
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="adminuser",
    )


@pytest.mark.parametrize("max_records", [19, 101, 0])
def test_describe_clusters_max_records_out_of_range(redshift, max_records):
    """§3.8, §1.5, §3.20 template: MaxRecords outside 20–100 → InvalidParameterValue (400)."""
    expect(
        "InvalidParameterValue", 400, redshift.describe_clusters,
        "MaxRecords must be between 20 and 100.", MaxRecords=max_records,
    )


def test_describe_clusters_marker_errors(redshift):
    """§3.8: Marker together with ClusterIdentifier → InvalidParameterCombination; a marker the
    service never issued → InvalidParameterValue (both 400)."""
    make_cluster(redshift, "c1")
    expect(
        "InvalidParameterCombination", 400, redshift.describe_clusters,
        ClusterIdentifier="c1", Marker="anything",
    )
    expect("InvalidParameterValue", 400, redshift.describe_clusters, Marker="not-a-marker")


def test_modify_cluster_retention_errors(redshift):
    """§3.7: ManualSnapshotRetentionPeriod invalid → InvalidRetentionPeriodFault;
    AutomatedSnapshotRetentionPeriod out of 0–35 → InvalidParameterValue (both 400)."""
    make_cluster(redshift, "c1")
    expect(
        "InvalidRetentionPeriodFault", 400, redshift.modify_cluster,
        "Invalid manual snapshot retention period -2. The value must be either -1 or an "
        "integer between 1 and 3,653.",
        ClusterIdentifier="c1", ManualSnapshotRetentionPeriod=-2,
    )
    expect(
        "InvalidParameterValue", 400, redshift.modify_cluster,
        ClusterIdentifier="c1", AutomatedSnapshotRetentionPeriod=36,
    )
