"""Snapshot and restore jobs of a cluster holding real rows, seen through boto3 while they run
and checked through the Endpoint with psycopg2 afterwards (issue #14; aws-behaviour.md §3.18,
§3.19): sizes come from the database's dump, progress from the running jobs, and the
restored cluster holds exactly the rows the snapshot was taken of.

The data (~48 MiB of distinct rows) is big enough that pollers see the jobs running."""

import math
import time

import psycopg2
from tm_helpers import wait_until

USER, PASSWORD, DB = "admin", "Passw0rd1", "sales"
ROWS = 400_000  # ~120 bytes each: ~48 MiB in the table, ~45 MiB dumped
MIB = 1 << 20


def _cluster(redshift, cid):
    return redshift.describe_clusters(ClusterIdentifier=cid)["Clusters"][0]


def _make_cluster(redshift, cid):
    redshift.create_cluster(
        ClusterIdentifier=cid,
        NodeType="dc2.large",
        MasterUsername=USER,
        MasterUserPassword=PASSWORD,
        DBName=DB,
    )
    return wait_until(
        lambda: (c := _cluster(redshift, cid))["ClusterStatus"] == "available" and c,
        "cluster available",
        timeout_s=60,
    )


def _connect(cluster):
    ep = cluster["Endpoint"]
    return psycopg2.connect(
        host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname=DB,
        connect_timeout=30,
    )


def _totals(conn):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*), SUM(id), SUM(amount), SUM(hashtext(note)::bigint) FROM orders"
        )
        got = cur.fetchone()
    conn.commit()
    return got


def _snapshot(redshift, cid, sid, seen=None):
    redshift.create_cluster_snapshot(ClusterIdentifier=cid, SnapshotIdentifier=sid)

    def available():
        s = redshift.describe_cluster_snapshots(SnapshotIdentifier=sid)["Snapshots"][0]
        if seen is not None:
            seen.append(s)
        return s if s["Status"] == "available" else None

    return wait_until(available, f"snapshot {sid} available", timeout_s=120)


def test_snapshot_and_restore_carry_the_rows_and_report_progress(redshift):
    source = _make_cluster(redshift, "prog-src")
    # Nobody has connected: the snapshot records a pristine database, a few bytes.
    empty = _snapshot(redshift, "prog-src", "prog-empty")
    assert 0 < empty["TotalBackupSizeInMegaBytes"] < 0.01, empty

    conn = _connect(source)
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE orders (id BIGINT, region VARCHAR(16), amount DECIMAL(12, 2), "
            "note VARCHAR(100)) DISTKEY (id) SORTKEY (id)"
        )
        cur.execute(
            "INSERT INTO orders SELECT g, 'r' || (g % 7), (g % 100000) / 100.0, "
            "md5(g::text) || md5((g * 31)::text) || md5((g * 17)::text) "
            f"FROM generate_series(1, {ROWS}) g"
        )
    conn.commit()
    before = _totals(conn)
    assert before[0] == ROWS

    seen = []
    snap = _snapshot(redshift, "prog-src", "prog-snap", seen)
    total = snap["TotalBackupSizeInMegaBytes"]
    # The dump holds every row's bytes (the notes alone are 96 bytes a row).
    assert total > ROWS * 96 / MIB, snap
    for s in seen[:-1]:
        assert s["Status"] == "creating"
        assert 0 <= s["BackupProgressInMegaBytes"] <= total
        assert s["EstimatedSecondsToCompletion"] >= -1
    assert snap["EstimatedSecondsToCompletion"] == 0
    assert snap["ElapsedTimeInSeconds"] >= 0
    assert snap["ActualIncrementalBackupSizeInMegaBytes"] <= total

    # Changes after the snapshot stay out of the restore.
    with conn.cursor() as cur:
        cur.execute("DELETE FROM orders WHERE id % 2 = 0")
        cur.execute("UPDATE orders SET amount = amount + 1")
    conn.commit()
    assert _totals(conn) != before
    conn.close()

    out = redshift.restore_from_cluster_snapshot(
        ClusterIdentifier="prog-dst", SnapshotIdentifier="prog-snap"
    )
    assert out["Cluster"]["ClusterStatus"] == "creating"
    assert "RestoreStatus" not in out["Cluster"]
    views = []

    def restored():
        c = _cluster(redshift, "prog-dst")
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
    size_mb = math.ceil(total)
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

    back = _connect(final)
    assert _totals(back) == before, "the restore holds exactly the snapshot's rows"
    back.close()
