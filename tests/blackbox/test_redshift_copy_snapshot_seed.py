"""The copy-cluster-snapshot seed page, run with the real aws CLI v1 against an automated
snapshot that exists (issue: Redshift snapshots; aws-behaviour.md §3.3, §3.10, §3.19)."""

import json

import requests
from tm_helpers import wait_until



def test_seed_copy_of_an_automated_snapshot(aws_cli, redshift, endpoint):
    """Seed example: `aws redshift copy-cluster-snapshot --source-snapshot-identifier <an
    automated snapshot> --target-snapshot-identifier my-saved-snapshot-copy` prints a manual
    snapshot of the source cluster with the source's create time (§3.10), and the copy is
    then listed as manual while the source stays automated."""
    requests.post(f"{endpoint}/_tidemark/clock", json={"freeze": True}, timeout=10).raise_for_status()
    made = aws_cli(
        "redshift", "create-cluster", "--cluster-identifier", "ExampleCluster",
        "--node-type", "dc2.large", "--master-username", "adminuser",
        "--master-user-password", "Passw0rd1", "--number-of-nodes", "2",
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["Cluster"]["ClusterIdentifier"] == "examplecluster"
    wait_until(
        lambda: redshift.describe_clusters(ClusterIdentifier="examplecluster")["Clusters"][0][
            "ClusterStatus"
        ]
        == "available",
        "cluster available",
    )
    auto = wait_until(
        lambda: [
            s
            for s in redshift.describe_cluster_snapshots(
                ClusterIdentifier="examplecluster", SnapshotType="automated"
            )["Snapshots"]
            if s["Status"] == "available"
        ],
        "the first automated snapshot",
    )[0]
    assert auto["SnapshotIdentifier"].startswith("rs:examplecluster-")

    copied = aws_cli(
        "redshift", "copy-cluster-snapshot",
        "--source-snapshot-identifier", auto["SnapshotIdentifier"],
        "--target-snapshot-identifier", "my-saved-snapshot-copy",
    )
    assert copied.returncode == 0, copied.stderr
    snap = json.loads(copied.stdout)["Snapshot"]
    assert snap["SnapshotIdentifier"] == "my-saved-snapshot-copy"
    assert snap["ClusterIdentifier"] == "examplecluster"
    assert snap["SnapshotType"] == "manual"
    assert snap["MasterUsername"] == "adminuser"
    assert snap["Port"] == 5439
    assert snap["NumberOfNodes"] == 2
    assert snap["NodeType"] == "dc2.large"
    assert snap["SnapshotCreateTime"] == auto["SnapshotCreateTime"].strftime(
        "%Y-%m-%dT%H:%M:%S.%f"
    )[:-3] + "Z"
    assert snap["ManualSnapshotRetentionPeriod"] == -1

    again = aws_cli(
        "redshift", "copy-cluster-snapshot",
        "--source-snapshot-identifier", auto["SnapshotIdentifier"],
        "--target-snapshot-identifier", "my-saved-snapshot-copy",
    )
    assert again.returncode == 255
    assert "An error occurred (ClusterSnapshotAlreadyExists) when calling the CopyClusterSnapshot operation" in again.stderr

    bad = aws_cli(
        "redshift", "copy-cluster-snapshot",
        "--source-snapshot-identifier", "my-saved-snapshot-copy",
        "--target-snapshot-identifier", "copy-of-a-manual",
    )
    assert bad.returncode == 255
    assert "(InvalidClusterSnapshotState)" in bad.stderr, bad.stderr
