"""Both seed pages' examples, run with aws CLI v1 and with tidemark against tidemark's own
server: the printed documents must be identical once the fields that name the resource each
call created (ARN, identifier, creation time) are set aside. The rest of the bytes —
keys, their order, indentation, types — must match exactly."""

from __future__ import annotations

import json
import re
import subprocess
import time

import boto3
import pytest
import requests


def _run(binary, args, env):
    return subprocess.run([str(binary), *args], capture_output=True, env=env, timeout=120)


def _client(service, endpoint):
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )


def _wait(predicate, what, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_create_backup_seed(binaries, cli_env, tidemark_endpoint) -> None:
    """`aws dynamodb create-backup --table-name MusicCollection --backup-name
    MusicCollectionBackup` (seed 002): same document from both clients, modulo the ARN and
    creation time that differ per call."""
    if tidemark_endpoint is None:
        pytest.skip("tidemark server binary not built")
    ddb = _client("dynamodb", tidemark_endpoint)
    if "MusicCollection" not in ddb.list_tables()["TableNames"]:
        ddb.create_table(
            TableName="MusicCollection",
            KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        _wait(lambda: ddb.describe_table(TableName="MusicCollection")["Table"]["TableStatus"] == "ACTIVE", "ACTIVE")
    args = ["dynamodb", "create-backup", "--table-name", "MusicCollection",
            "--backup-name", "MusicCollectionBackup", "--endpoint-url", tidemark_endpoint]
    out = {who: _run(binaries[who], args, cli_env) for who in ("aws", "tidemark")}
    for who, proc in out.items():
        assert proc.returncode == 0, (who, proc.stderr)
    norm = {
        who: re.sub(
            rb'("BackupArn": "[^"]*/backup/)\d{14}-[0-9a-f]{8}"|("BackupCreationDateTime": )[0-9.]+',
            lambda m: (m.group(1) or m.group(2)) + b"X",
            proc.stdout,
        )
        for who, proc in out.items()
    }
    assert norm["tidemark"] == norm["aws"]
    assert json.loads(out["tidemark"].stdout)["BackupDetails"]["BackupStatus"] == "CREATING"


def test_copy_cluster_snapshot_seed(binaries, cli_env, tidemark_endpoint) -> None:
    """`aws redshift copy-cluster-snapshot --source-snapshot-identifier <automated>
    --target-snapshot-identifier my-saved-snapshot-copy` (seed 000): same document from both
    clients, modulo the target identifier each call chose."""
    if tidemark_endpoint is None:
        pytest.skip("tidemark server binary not built")
    rs = _client("redshift", tidemark_endpoint)
    if not rs.describe_clusters()["Clusters"] or all(
        c["ClusterIdentifier"] != "seedcluster" for c in rs.describe_clusters()["Clusters"]
    ):
        rs.create_cluster(
            ClusterIdentifier="seedcluster", NodeType="dc2.large", MasterUsername="adminuser",
            MasterUserPassword="Passw0rd1", NumberOfNodes=2,
        )
    auto = _wait(
        lambda: [
            s for s in rs.describe_cluster_snapshots(ClusterIdentifier="seedcluster", SnapshotType="automated")["Snapshots"]
            if s["Status"] == "available"
        ],
        "an automated snapshot",
    )[0]["SnapshotIdentifier"]
    out = {}
    # SnapshotRetentionStartTime is "now": freeze the clock so both copies get the same.
    clock = f"{tidemark_endpoint}/_tidemark/clock"
    requests.post(clock, json={"freeze": True}, timeout=10).raise_for_status()
    for who in ("aws", "tidemark"):
        args = ["redshift", "copy-cluster-snapshot", "--source-snapshot-identifier", auto,
                "--target-snapshot-identifier", f"my-saved-snapshot-copy-{who[0]}",
                "--endpoint-url", tidemark_endpoint]
        out[who] = _run(binaries[who], args, cli_env)
        assert out[who].returncode == 0, (who, out[who].stderr)
    requests.post(clock, json={"freeze": False}, timeout=10).raise_for_status()
    norm = {who: re.sub(rb"my-saved-snapshot-copy-[at]", b"my-saved-snapshot-copy", p.stdout) for who, p in out.items()}
    assert norm["tidemark"] == norm["aws"]
    assert json.loads(out["tidemark"].stdout)["Snapshot"]["SnapshotType"] == "manual"
