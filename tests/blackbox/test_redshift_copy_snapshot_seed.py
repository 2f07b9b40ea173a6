"""The copy-cluster-snapshot seed page, run with the real aws CLI v1 against an automated
snapshot that exists (issue: Redshift snapshots; aws-behaviour.md §3.3, §3.10, §3.19)."""

import json
import random
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg2
import requests
from test_redshift_sql_durability import Server
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


def test_seed_copy_then_restore_holds_the_datas_rows(aws_env, tmp_path):
    """The seed's round trip with real data: rows loaded through the Endpoint (psycopg2), the
    next automated snapshot takes them, the seed's `aws redshift copy-cluster-snapshot` (aws
    CLI v1) copies it, the data changes, and `aws redshift restore-from-cluster-snapshot` of
    the copy gives a cluster holding exactly the snapshot's rows. Runs its own server: the
    test moves the virtual clock by a whole snapshot cadence."""
    server = Server(tmp_path / "data", tmp_path / "server.log")
    exe = Path(sys.executable).parent / "aws"
    aws = str(exe) if exe.is_file() else shutil.which("aws")
    assert aws, "aws CLI v1 not found: run scripts/venv.sh"

    def cli(*args: str) -> dict:
        proc = subprocess.run(
            [aws, *args, "--endpoint-url", server.url], check=False, env=aws_env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    def available(cid: str) -> dict:
        return wait_until(
            lambda: (c := cli("redshift", "describe-clusters", "--cluster-identifier", cid)["Clusters"][0])
            and c["ClusterStatus"] == "available" and c,
            f"cluster {cid} available", timeout_s=120,
        )

    def connect(ep: dict):
        return psycopg2.connect(host=ep["Address"], port=ep["Port"], user="adminuser",
                                password="Passw0rd1", dbname="dev", connect_timeout=30)

    try:
        cli("redshift", "create-cluster", "--cluster-identifier", "ExampleCluster",
            "--node-type", "dc2.large", "--master-username", "adminuser",
            "--master-user-password", "Passw0rd1", "--number-of-nodes", "2")
        ep = available("examplecluster")["Endpoint"]
        rng = random.Random(14)
        rows = [(i, f"customer-{rng.randrange(1000)}", Decimal(rng.randrange(-10**8, 10**8)) / 100)
                for i in range(1, 5001)]
        conn = connect(ep)
        cur = conn.cursor()
        cur.execute("CREATE TABLE sales (id BIGINT IDENTITY(1,1), sale_id INTEGER NOT NULL, "
                    "customer VARCHAR(32), amount DECIMAL(12,2)) DISTKEY(sale_id) SORTKEY(sale_id)")
        cur.executemany("INSERT INTO sales (sale_id, customer, amount) VALUES (%s, %s, %s)", rows)
        conn.commit()
        # The first automated snapshot was taken when the cluster became available; the next
        # one (a cadence, 8 hours, later on the virtual clock) holds the rows.
        first = wait_until(
            lambda: cli("redshift", "describe-cluster-snapshots", "--cluster-identifier",
                        "examplecluster", "--snapshot-type", "automated")["Snapshots"],
            "the first automated snapshot", timeout_s=60,
        )
        assert len(first) == 1
        requests.post(f"{server.url}/_tidemark/clock", json={"advance_seconds": 8 * 3600},
                      timeout=10).raise_for_status()
        auto = wait_until(
            lambda: [s for s in cli("redshift", "describe-cluster-snapshots", "--cluster-identifier",
                                    "examplecluster", "--snapshot-type", "automated")["Snapshots"]
                     if s["Status"] == "available"
                     and s["SnapshotIdentifier"] != first[0]["SnapshotIdentifier"]],
            "an automated snapshot after the load", timeout_s=60,
        )
        [newest] = [s["SnapshotIdentifier"] for s in auto]
        copied = cli("redshift", "copy-cluster-snapshot", "--source-snapshot-identifier", newest,
                     "--target-snapshot-identifier", "my-saved-snapshot-copy")["Snapshot"]
        assert copied["Status"] == "available"
        # Changes after the snapshot are not in its restore.
        cur.execute("DELETE FROM sales WHERE sale_id <= 100")
        cur.execute("UPDATE sales SET amount = 0")
        conn.commit()
        conn.close()
        restored = cli("redshift", "restore-from-cluster-snapshot", "--cluster-identifier",
                       "restored-copy", "--snapshot-identifier", "my-saved-snapshot-copy")["Cluster"]
        assert restored["ClusterStatus"] == "creating"
        c = available("restored-copy")
        assert c["RestoreStatus"]["Status"] == "completed"
        rconn = connect(c["Endpoint"])
        rcur = rconn.cursor()
        rcur.execute("SELECT COUNT(*), SUM(amount), SUM(sale_id), MIN(id), MAX(id) FROM sales")
        assert rcur.fetchone() == (len(rows), sum(r[2] for r in rows), sum(r[0] for r in rows), 1, len(rows))
        rcur.execute("SELECT sale_id, customer, amount FROM sales ORDER BY sale_id")
        assert rcur.fetchall() == rows
        rconn.close()
    finally:
        server.stop()
