"""Redshift cluster volumes through the admin route, and the live progress of snapshot and
restore jobs seen with boto3 (issue: Redshift snapshots; aws-behaviour.md §3.18, §3.19).

The session server runs --in-memory, so volumes live in the store and are filled with
`PUT /_tidemark/redshift/volume`; the data is big enough (48 MiB) that pollers see the
jobs running."""

import math
import os
import time

import requests
from tm_helpers import HTTP_TIMEOUT, wait_until

ACCOUNT = "123456789012"  # permissive mode's account for a non-numeric access key
FILES = 3
FILE_BYTES = 16 << 20  # under the 17 MiB body limit


def _volume(endpoint, cluster, **params):
    resp = requests.get(
        f"{endpoint}/_tidemark/redshift/volume",
        params={"cluster": cluster, **params},
        timeout=HTTP_TIMEOUT,
    )
    return resp.status_code, resp.json()


def _cluster(redshift, cid):
    return redshift.describe_clusters(ClusterIdentifier=cid)["Clusters"][0]


def _make_cluster(redshift, cid):
    redshift.create_cluster(
        ClusterIdentifier=cid,
        NodeType="dc2.large",
        MasterUsername="admin",
        MasterUserPassword="Passw0rd1",
        DBName="sales",
    )
    wait_until(lambda: _cluster(redshift, cid)["ClusterStatus"] == "available", "cluster available")


def test_admin_route_lists_and_fills_a_volume(redshift, endpoint):
    _make_cluster(redshift, "vol-a")
    status, v = _volume(endpoint, "VOL-A", account=ACCOUNT, region="us-east-1")
    assert status == 200, v
    assert v["path"] is None, "in-memory volumes live in the store"
    # The first automated snapshot (taken as the cluster became available) wrote the
    # database's file: a cluster nobody has connected to holds a pristine database.
    assert [f["name"] for f in v["files"]] == [
        "PG_VERSION", "base/sales/pg_catalog", "base/sales/user_tables", "tidemark-db.json"
    ]
    assert v["total_bytes"] == sum(f["bytes"] for f in v["files"])
    put = requests.put(
        f"{endpoint}/_tidemark/redshift/volume",
        params={"cluster": "vol-a", "name": "base/sales/orders"},
        data=b"1|widget|9.99\n" * 1000,
        timeout=HTTP_TIMEOUT,
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"name": "base/sales/orders", "bytes": 14000}
    _, v2 = _volume(endpoint, "vol-a")
    assert v2["total_bytes"] == v["total_bytes"] + 14000
    assert _volume(endpoint, "missing")[0] == 404
    assert _volume(endpoint, "vol-a", account="111111111111")[0] == 404, "another account's"
    bad = requests.put(
        f"{endpoint}/_tidemark/redshift/volume",
        params={"cluster": "vol-a", "name": "../escape"},
        data=b"x",
        timeout=HTTP_TIMEOUT,
    )
    assert bad.status_code == 400, bad.text


def test_snapshot_and_restore_report_progress_then_complete(redshift, endpoint):
    _make_cluster(redshift, "vol-src")
    names = set()
    for i in range(FILES):
        data = os.urandom(FILE_BYTES)
        name = f"base/sales/t{i}"
        names.add(name)
        put = requests.put(
            f"{endpoint}/_tidemark/redshift/volume",
            params={"cluster": "vol-src", "name": name},
            data=data,
            timeout=60,
        )
        assert put.status_code == 200, put.text
    _, vol = _volume(endpoint, "vol-src")
    total = vol["total_bytes"]

    redshift.create_cluster_snapshot(ClusterIdentifier="vol-src", SnapshotIdentifier="vol-snap")
    seen = []

    def snapshot_available():
        s = redshift.describe_cluster_snapshots(SnapshotIdentifier="vol-snap")["Snapshots"][0]
        seen.append(s)
        return s if s["Status"] == "available" else None

    snap = wait_until(snapshot_available, "snapshot available", timeout_s=120)
    for s in seen[:-1]:
        assert s["Status"] == "creating"
        assert 0 <= s["BackupProgressInMegaBytes"] <= total / 2**20
        assert s["EstimatedSecondsToCompletion"] >= -1
    assert snap["TotalBackupSizeInMegaBytes"] == total / 2**20
    assert snap["EstimatedSecondsToCompletion"] == 0
    assert snap["ElapsedTimeInSeconds"] >= 0

    out = redshift.restore_from_cluster_snapshot(
        ClusterIdentifier="vol-dst", SnapshotIdentifier="vol-snap"
    )
    assert out["Cluster"]["ClusterStatus"] == "creating"
    assert "RestoreStatus" not in out["Cluster"]
    views = []

    def restored():
        c = _cluster(redshift, "vol-dst")
        views.append(c)
        done = c.get("RestoreStatus", {}).get("Status") == "completed"
        return c if done else None

    # Polled every 5 ms (not wait_until's 50 ms) so even a fast restore is seen running.
    deadline = time.monotonic() + 120
    while not (final := restored()):
        assert time.monotonic() < deadline, "restore did not complete"
        time.sleep(0.005)
    order = ["starting", "restoring", "completed"]
    statuses = [v["RestoreStatus"]["Status"] for v in views if "RestoreStatus" in v]
    assert statuses == sorted(statuses, key=order.index), statuses
    assert "restoring" in statuses, f"the restore job was never seen running: {statuses}"
    size_mb = math.ceil(total / 2**20)
    for v in views[:-1]:
        assert v["ClusterStatus"] == "creating", "available only once the data is in place"
        r = v["RestoreStatus"]
        assert r["SnapshotSizeInMegaBytes"] == size_mb
        assert 0 <= r["ProgressInMegaBytes"] <= size_mb
        assert r["EstimatedTimeToCompletionInSeconds"] >= -1
    r = final["RestoreStatus"]
    assert final["ClusterStatus"] == "available"
    assert r["ProgressInMegaBytes"] == size_mb
    assert r["EstimatedTimeToCompletionInSeconds"] == 0
    assert r["CurrentRestoreRateInMegaBytesPerSecond"] >= 0
    _, back = _volume(endpoint, "vol-dst")
    assert back["files"] == vol["files"]
    assert back["total_bytes"] == total
    # Same names and sizes (byte identity is checked on disk by the Rust tests and bench).
    assert {f["name"] for f in back["files"]} >= names
