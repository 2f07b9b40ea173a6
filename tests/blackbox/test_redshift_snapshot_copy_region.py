"""Cross-region snapshot copy (issue #16): EnableSnapshotCopy / DisableSnapshotCopy /
ModifySnapshotCopyRetentionPeriod, snapshot copy grants in the destination region, and the
copies themselves — made on the virtual clock, visible only in the destination region,
expired by the copy retention, restorable there with their rows, and never left `creating`
by a `kill -9`. The region of each request comes from its SigV4 credential scope."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
from pathlib import Path

import boto3
import psycopg2
import pytest
import requests
from botocore.config import Config
from tm_helpers import ACCESS_KEY, REGION, SECRET_KEY, expect, tidemark_binary, wait_until

DEST = "us-west-2"
PASSWORD = "Passw0rd1"
HTTP_TIMEOUT = 10


def _client(endpoint: str, region: str):
    return boto3.client(
        "redshift", endpoint_url=endpoint, region_name=region,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def west(endpoint):
    return _client(endpoint, DEST)


def _clock(url: str, body: dict) -> None:
    requests.post(f"{url}/_tidemark/clock", json=body, timeout=HTTP_TIMEOUT).raise_for_status()


def make_cluster(redshift, cid: str, **extra) -> dict:
    redshift.create_cluster(
        ClusterIdentifier=cid, NodeType="dc2.large", ClusterType="single-node",
        MasterUsername="admin", MasterUserPassword=PASSWORD, **extra,
    )
    return wait_until(
        lambda: (c := redshift.describe_clusters(ClusterIdentifier=cid)["Clusters"][0])
        and c["ClusterStatus"] == "available" and c,
        f"cluster {cid} available", timeout_s=120,
    )


def snapshots(client, **filters) -> list[dict]:
    """The listing; a named snapshot that does not exist (yet) lists as nothing."""
    try:
        return client.describe_cluster_snapshots(**filters)["Snapshots"]
    except client.exceptions.ClusterSnapshotNotFoundFault:
        return []


def available(client, sid: str) -> dict:
    return wait_until(
        lambda: (s := snapshots(client, SnapshotIdentifier=sid)) and s[0]["Status"] == "available"
        and s[0],
        f"snapshot {sid} available", timeout_s=120,
    )


def test_cli_enable_copy_then_the_copy_appears_in_the_destination(aws_cli, redshift, endpoint):
    """The happy path with the aws CLI v1: enable, snapshot, the copy in us-west-2, disable."""
    _clock(endpoint, {"freeze": True})
    make_cluster(redshift, "dr1")
    out = aws_cli("redshift", "enable-snapshot-copy", "--cluster-identifier", "dr1",
                  "--destination-region", DEST, "--retention-period", "3")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Cluster"]["ClusterSnapshotCopyStatus"] == {
        "DestinationRegion": DEST, "RetentionPeriod": 3, "ManualSnapshotRetentionPeriod": -1,
    }
    out = aws_cli("redshift", "create-cluster-snapshot", "--cluster-identifier", "dr1",
                  "--snapshot-identifier", "before-change")
    assert out.returncode == 0, out.stderr
    available(redshift, "before-change")
    copy = wait_until(lambda: snapshots(_client(endpoint, DEST)), "the copy record")[0]
    assert copy["Status"] == "creating"
    _clock(endpoint, {"advance_seconds": 600})
    out = aws_cli("redshift", "describe-cluster-snapshots", "--region", DEST,
                  "--snapshot-identifier", "before-change")
    assert out.returncode == 0, out.stderr
    (copy,) = json.loads(out.stdout)["Snapshots"]
    assert copy["Status"] == "available"
    assert copy["SourceRegion"] == REGION
    assert copy["SnapshotType"] == "manual"
    assert copy["SnapshotArn"].startswith(f"arn:aws:redshift:{DEST}:")
    # Invisible from the source region: there only the source snapshot carries the name.
    (source,) = snapshots(redshift, SnapshotIdentifier="before-change")
    assert "SourceRegion" not in source
    out = aws_cli("redshift", "disable-snapshot-copy", "--cluster-identifier", "dr1")
    assert out.returncode == 0, out.stderr
    assert "ClusterSnapshotCopyStatus" not in json.loads(out.stdout)["Cluster"]
    out = aws_cli("redshift", "disable-snapshot-copy", "--cluster-identifier", "dr1")
    assert out.returncode == 255
    assert "(SnapshotCopyAlreadyDisabledFault)" in out.stderr, out.stderr


def test_copy_settings_errors(redshift, west, endpoint):
    make_cluster(redshift, "e1")
    expect("ClusterNotFound", 404, redshift.enable_snapshot_copy,
           ClusterIdentifier="nope", DestinationRegion=DEST)
    expect("UnknownSnapshotCopyRegionFault", 404, redshift.enable_snapshot_copy,
           "Invalid region us-east-1", ClusterIdentifier="e1", DestinationRegion=REGION)
    expect("UnknownSnapshotCopyRegionFault", 404, redshift.enable_snapshot_copy,
           ClusterIdentifier="e1", DestinationRegion="atlantis-1")
    expect("CopyToRegionDisabledFault", 400, redshift.enable_snapshot_copy,
           ClusterIdentifier="e1", DestinationRegion="cn-north-1")
    expect("InvalidRetentionPeriodFault", 400, redshift.enable_snapshot_copy,
           ClusterIdentifier="e1", DestinationRegion=DEST, RetentionPeriod=36)
    expect("InvalidRetentionPeriodFault", 400, redshift.enable_snapshot_copy,
           ClusterIdentifier="e1", DestinationRegion=DEST, ManualSnapshotRetentionPeriod=0)
    expect("SnapshotCopyGrantNotFoundFault", 400, redshift.enable_snapshot_copy,
           "Snapshot copy grant not found: nogrant",
           ClusterIdentifier="e1", DestinationRegion=DEST, SnapshotCopyGrantName="nogrant")
    expect("SnapshotCopyDisabledFault", 400, redshift.modify_snapshot_copy_retention_period,
           "Cannot modify retention period because snapshot copy is disabled on Cluster e1.",
           ClusterIdentifier="e1", RetentionPeriod=2)
    expect("SnapshotCopyAlreadyDisabledFault", 400, redshift.disable_snapshot_copy,
           "Snapshot Copy is already disabled on Cluster e1.", ClusterIdentifier="e1")
    assert "ClusterSnapshotCopyStatus" not in redshift.describe_clusters(
        ClusterIdentifier="e1")["Clusters"][0]
    redshift.enable_snapshot_copy(ClusterIdentifier="e1", DestinationRegion=DEST)
    expect("SnapshotCopyAlreadyEnabledFault", 400, redshift.enable_snapshot_copy,
           "Snapshot Copy is already enabled on Cluster e1.",
           ClusterIdentifier="e1", DestinationRegion="eu-west-1")
    expect("InvalidRetentionPeriodFault", 400, redshift.modify_snapshot_copy_retention_period,
           ClusterIdentifier="e1", RetentionPeriod=0)
    expect("InvalidRetentionPeriodFault", 400, redshift.modify_snapshot_copy_retention_period,
           ClusterIdentifier="e1", RetentionPeriod=3654, Manual=True)
    c = redshift.modify_snapshot_copy_retention_period(
        ClusterIdentifier="e1", RetentionPeriod=-1, Manual=True)["Cluster"]
    assert c["ClusterSnapshotCopyStatus"] == {
        "DestinationRegion": DEST, "RetentionPeriod": 7, "ManualSnapshotRetentionPeriod": -1,
    }
    # The status is part of every Cluster shape, e.g. the one PauseCluster answers.
    paused = redshift.pause_cluster(ClusterIdentifier="e1")["Cluster"]
    assert paused["ClusterSnapshotCopyStatus"]["DestinationRegion"] == DEST
    wait_until(lambda: redshift.describe_clusters(ClusterIdentifier="e1")["Clusters"][0][
        "ClusterStatus"] == "paused", "paused")
    expect("InvalidClusterState", 400, redshift.disable_snapshot_copy, ClusterIdentifier="e1")
    # A KMS-encrypted cluster needs a grant, which must exist in the destination region.
    make_cluster(redshift, "k1", Encrypted=True, KmsKeyId="arn:aws:kms:us-east-1:123456789012:key/k")
    expect("InvalidParameterValue", 400, redshift.enable_snapshot_copy,
           ClusterIdentifier="k1", DestinationRegion=DEST)
    redshift.create_snapshot_copy_grant(SnapshotCopyGrantName="east-grant")
    expect("SnapshotCopyGrantNotFoundFault", 400, redshift.enable_snapshot_copy,
           ClusterIdentifier="k1", DestinationRegion=DEST, SnapshotCopyGrantName="east-grant")
    west.create_snapshot_copy_grant(SnapshotCopyGrantName="west-grant")
    c = redshift.enable_snapshot_copy(ClusterIdentifier="k1", DestinationRegion=DEST,
                                      SnapshotCopyGrantName="west-grant")["Cluster"]
    assert c["ClusterSnapshotCopyStatus"]["SnapshotCopyGrantName"] == "west-grant"
    expect("InvalidSnapshotCopyGrantStateFault", 400, west.delete_snapshot_copy_grant,
           SnapshotCopyGrantName="west-grant")


def test_copy_grants_with_tags_filters_and_quota(west, redshift):
    made = west.create_snapshot_copy_grant(
        SnapshotCopyGrantName="g0", KmsKeyId="arn:aws:kms:us-west-2:123456789012:key/x",
        Tags=[{"Key": "env", "Value": "dr"}],
    )["SnapshotCopyGrant"]
    assert made == {"SnapshotCopyGrantName": "g0", "KmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/x",
                    "Tags": [{"Key": "env", "Value": "dr"}]}
    expect("SnapshotCopyGrantAlreadyExistsFault", 400, west.create_snapshot_copy_grant,
           "Cannot create the snapshot copy grant because a grant with the identifier 'g0' already exists",
           SnapshotCopyGrantName="g0")
    for i in range(1, 5):
        west.create_snapshot_copy_grant(SnapshotCopyGrantName=f"g{i}")
    expect("SnapshotCopyGrantQuotaExceededFault", 400, west.create_snapshot_copy_grant,
           SnapshotCopyGrantName="g5")
    names = [g["SnapshotCopyGrantName"] for g in west.describe_snapshot_copy_grants()["SnapshotCopyGrants"]]
    assert names == ["g0", "g1", "g2", "g3", "g4"]
    assert redshift.describe_snapshot_copy_grants()["SnapshotCopyGrants"] == [], "grants are regional"
    tagged = west.describe_snapshot_copy_grants(TagKeys=["env"])["SnapshotCopyGrants"]
    assert [g["SnapshotCopyGrantName"] for g in tagged] == ["g0"]
    expect("SnapshotCopyGrantNotFoundFault", 400, west.describe_snapshot_copy_grants,
           "Snapshot copy grant not found: g9", SnapshotCopyGrantName="g9")
    arn = west.describe_tags(ResourceType="snapshotcopygrant")["TaggedResources"][0]["ResourceName"]
    assert arn.startswith(f"arn:aws:redshift:{DEST}:") and arn.endswith(":snapshotcopygrant:g0")
    west.create_tags(ResourceName=arn, Tags=[{"Key": "team", "Value": "ops"}])
    tags = west.describe_snapshot_copy_grants(SnapshotCopyGrantName="g0")["SnapshotCopyGrants"][0]["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"env": "dr", "team": "ops"}
    west.delete_tags(ResourceName=arn, TagKeys=["env", "team"])
    assert west.describe_tags(ResourceName=arn)["TaggedResources"] == []
    west.delete_snapshot_copy_grant(SnapshotCopyGrantName="g0")
    expect("SnapshotCopyGrantNotFoundFault", 400, west.delete_snapshot_copy_grant,
           SnapshotCopyGrantName="g0")
    west.create_snapshot_copy_grant(SnapshotCopyGrantName="g5")


def test_automated_copies_follow_the_schedule_and_the_copy_retention(redshift, west, endpoint):
    _clock(endpoint, {"freeze": True})
    make_cluster(redshift, "auto1", AutomatedSnapshotRetentionPeriod=1)
    # The first automated snapshot finishes before copy is enabled, so it is not copied.
    wait_until(lambda: [s for s in snapshots(redshift, SnapshotType="automated")
                        if s["Status"] == "available"], "first automated snapshot")
    redshift.enable_snapshot_copy(ClusterIdentifier="auto1", DestinationRegion=DEST,
                                  RetentionPeriod=2)
    # Three 8-hour automated snapshots, each copied within the hour.
    for _ in range(3):
        _clock(endpoint, {"advance_seconds": 8 * 3600})
    _clock(endpoint, {"advance_seconds": 600})
    copies = snapshots(west, SnapshotType="automated")
    assert len(copies) == 3
    assert all(c["SourceRegion"] == REGION and c["Status"] == "available" for c in copies)
    assert all(c["SnapshotIdentifier"].startswith("rs:auto1-") for c in copies)
    assert snapshots(west, SnapshotType="manual") == []
    # Past two days only the copies younger than two days remain.
    _clock(endpoint, {"advance_seconds": 2 * 86400 - 600})
    kept = snapshots(west, SnapshotType="automated")
    assert len(kept) == 6, [c["SnapshotIdentifier"] for c in kept]
    oldest = min(c["SnapshotCreateTime"] for c in kept)
    newest = max(c["SnapshotCreateTime"] for c in kept)
    assert newest - oldest == dt.timedelta(hours=40)
    # Shortening to one day deletes the older copies at once.
    redshift.modify_snapshot_copy_retention_period(ClusterIdentifier="auto1", RetentionPeriod=1)
    assert len(snapshots(west, SnapshotType="automated")) == 3


def test_a_copy_restores_in_the_destination_with_its_rows_after_the_source_is_deleted(
    redshift, west, endpoint
):
    _clock(endpoint, {"freeze": True})
    ep = make_cluster(redshift, "rows1")["Endpoint"]
    conn = psycopg2.connect(host=ep["Address"], port=ep["Port"], user="admin", password=PASSWORD,
                            dbname="dev", connect_timeout=30)
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id INTEGER, name VARCHAR(20))")
    cur.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
    conn.commit()
    redshift.enable_snapshot_copy(ClusterIdentifier="rows1", DestinationRegion=DEST)
    redshift.create_cluster_snapshot(ClusterIdentifier="rows1", SnapshotIdentifier="rows1-s")
    available(redshift, "rows1-s")
    cur.execute("INSERT INTO t VALUES (3, 'after')")
    conn.commit()
    conn.close()
    wait_until(lambda: snapshots(west, SnapshotIdentifier="rows1-s"), "the copy record")
    _clock(endpoint, {"advance_seconds": 600})
    available(west, "rows1-s")
    redshift.delete_cluster(ClusterIdentifier="rows1", SkipFinalClusterSnapshot=True)
    wait_until(lambda: not [c for c in redshift.describe_clusters()["Clusters"]
                            if c["ClusterIdentifier"] == "rows1"], "source deleted", timeout_s=60)
    assert [s["SnapshotIdentifier"] for s in snapshots(west)] == ["rows1-s"]
    west.restore_from_cluster_snapshot(ClusterIdentifier="dr-rows", SnapshotIdentifier="rows1-s")
    c = make_ready(west, "dr-rows")
    assert c["RestoreStatus"]["Status"] == "completed"
    rconn = psycopg2.connect(host=c["Endpoint"]["Address"], port=c["Endpoint"]["Port"], user="admin",
                             password=PASSWORD, dbname="dev", connect_timeout=30)
    rcur = rconn.cursor()
    rcur.execute("SELECT id, name FROM t ORDER BY id")
    assert rcur.fetchall() == [(1, "one"), (2, "two")]
    rconn.close()


def make_ready(client, cid: str) -> dict:
    return wait_until(
        lambda: (c := client.describe_clusters(ClusterIdentifier=cid)["Clusters"][0])
        and c["ClusterStatus"] == "available" and c,
        f"cluster {cid} available", timeout_s=120,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDEMARK_")}
    proc = subprocess.Popen(
        [str(tidemark_binary()), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL, stdout=open(log, "ab"), stderr=subprocess.STDOUT, env=env,
    )

    def healthy() -> bool:
        try:
            return requests.get(url + "/_tidemark/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(healthy, "server healthy", timeout_s=60)
    return proc, url


def test_kill_9_during_a_copy_leaves_no_copy_stuck_in_creating(tmp_path, aws_env):
    """A copy is `creating` in the destination when tidemark is killed with SIGKILL; after a
    restart on the same data directory the persisted job finishes it."""
    data = tmp_path / "data"
    proc, url = _serve(data, tmp_path / "server.log")
    try:
        _clock(url, {"freeze": True})
        east, dest = _client(url, REGION), _client(url, DEST)
        make_cluster(east, "k9")
        east.enable_snapshot_copy(ClusterIdentifier="k9", DestinationRegion=DEST)
        east.create_cluster_snapshot(ClusterIdentifier="k9", SnapshotIdentifier="k9-s")
        available(east, "k9-s")
        copy = wait_until(lambda: snapshots(dest, SnapshotIdentifier="k9-s"), "copy record")[0]
        assert copy["Status"] == "creating"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc, url = _serve(data, tmp_path / "server.log")
        dest = _client(url, DEST)
        _clock(url, {"advance_seconds": 600})
        copy = available(dest, "k9-s")
        assert copy["SourceRegion"] == REGION
        assert copy["TotalBackupSizeInMegaBytes"] > 0
        east = _client(url, REGION)
        east.delete_cluster(ClusterIdentifier="k9", SkipFinalClusterSnapshot=True)
        wait_until(lambda: not [c for c in east.describe_clusters()["Clusters"]
                                if c["ClusterIdentifier"] == "k9"], "k9 deleted", timeout_s=60)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
