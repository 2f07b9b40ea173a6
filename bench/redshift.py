"""Redshift benchmarks: DescribeClusterSnapshots over 10,000 manual snapshots (paged with
MaxRecords=100), and snapshot/restore of a cluster volume of BENCH_REDSHIFT_MIB (default 1 GiB)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import statistics
import threading
import time
import urllib.request
from pathlib import Path

from clients import RawClient, boto_client, running
from registry import Metric, Settings, benchmark
from targets import Target

VERSION = "2012-12-01"
SNAPSHOTS = 10_000
CLUSTER = "bench-cluster"
MARKER = re.compile(rb"<Marker>([^<]*)</Marker>")
SNAPSHOT_ID = re.compile(rb"<SnapshotIdentifier>")


def _create(port: int, count: int) -> float:
    """CreateClusterSnapshot x count over two raw connections; returns seconds taken."""

    def part(lo: int, hi: int) -> None:
        raw = RawClient(port, "redshift")
        for i in range(lo, hi):
            raw.query_api(
                "CreateClusterSnapshot",
                VERSION,
                {"SnapshotIdentifier": f"snap-{i:05d}", "ClusterIdentifier": CLUSTER},
            )
        raw.close()

    began = time.perf_counter()
    half = count // 2
    threads = [threading.Thread(target=part, args=r) for r in ((0, half), (half, count))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


def _advance_clock(port: int, seconds: int) -> None:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/_tidemark/clock",
        data=json.dumps({"advance_seconds": seconds}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()


def _raw_listing(port: int) -> tuple[int, int, float]:
    """Pages through every snapshot; returns (snapshots, pages, seconds)."""
    raw, seen, pages, marker = RawClient(port, "redshift"), 0, 0, None
    began = time.perf_counter()
    while True:
        params = {"ClusterIdentifier": CLUSTER, "SnapshotType": "manual", "MaxRecords": "100"}
        if marker:
            params["Marker"] = marker
        body = raw.query_api("DescribeClusterSnapshots", VERSION, params)
        pages += 1
        seen += len(SNAPSHOT_ID.findall(body))
        found = MARKER.search(body)
        marker = found.group(1).decode() if found and found.group(1) else None
        if not marker:
            took = time.perf_counter() - began
            raw.close()
            return seen, pages, took


def _boto_listing(port: int) -> tuple[int, int, float]:
    client = boto_client("redshift", port)
    began = time.perf_counter()
    pages = client.get_paginator("describe_cluster_snapshots").paginate(
        ClusterIdentifier=CLUSTER, SnapshotType="manual", PaginationConfig={"PageSize": 100}
    )
    seen = n = 0
    statuses: set[str] = set()
    for page in pages:
        n += 1
        seen += len(page["Snapshots"])
        statuses.update(s["Status"] for s in page["Snapshots"])
    took = time.perf_counter() - began
    if statuses != {"available"}:
        raise RuntimeError(f"snapshot statuses {statuses}, expected all available")
    return seen, n, took


@benchmark(
    "redshift_snapshots",
    "DescribeClusterSnapshots over 10,000 snapshots",
    "s",
    f"One single-node cluster, {SNAPSHOTS:,} manual snapshots made with CreateClusterSnapshot "
    "over two raw connections (not timed; tidemark's virtual clock is then advanced 1 h so all "
    "are available). Timed: listing all of them with DescribeClusterSnapshots, MaxRecords=100, "
    "SnapshotType=manual (the cluster's automated snapshot is excluded), following Marker "
    "until it is absent; median of 3 listings. Two clients: boto3's "
    "paginator (parses every page's XML), and raw HTTP with a regex for Marker.",
    [
        Metric("list_raw_s", "list all snapshots, raw HTTP", "s", False),
        Metric("list_boto3_s", "list all snapshots, boto3 paginator", "s", False),
        Metric("per_100_raw_ms", "time per 100 snapshots listed, raw HTTP", "ms", False),
        Metric("pages", "pages (requests) to list all", "pages", info=True),
        Metric("listed", "snapshots listed", "snapshots", info=True),
        Metric(
            "create_per_s",
            "CreateClusterSnapshot rate while loading (not timed above)",
            "ops/s",
            True,
        ),
    ],
    higher_is_better=False,
)
def redshift_snapshots(target: Target, settings: Settings) -> dict:
    count = SNAPSHOTS // 10 if settings.quick else SNAPSHOTS
    passes = 1 if settings.quick else 3
    with running(target) as (port, _pid):
        boto_client("redshift", port).create_cluster(
            ClusterIdentifier=CLUSTER,
            NodeType="dc2.large",
            MasterUsername="admin",
            MasterUserPassword="Passw0rd1",
            ClusterType="single-node",
        )
        create_s = _create(port, count)
        if target.name.startswith("tidemark"):
            _advance_clock(port, 3600)
        raw_runs = [_raw_listing(port) for _ in range(passes)]
        boto_runs = [_boto_listing(port) for _ in range(passes)]
    seen, pages, _ = raw_runs[0]
    if seen != count or boto_runs[0][0] != count:
        raise RuntimeError(f"listed {seen} (raw) / {boto_runs[0][0]} (boto3), expected {count}")
    raw_s = statistics.median(r[2] for r in raw_runs)
    per_page_ms = raw_s / pages * 1000
    notes = [f"{count:,} snapshots listed in {pages} page(s), {per_page_ms:,.1f} ms per page (raw)"]
    if pages == 1 and count > 100:
        notes.append(
            "ignores MaxRecords: every snapshot comes back in one response with no Marker "
            "(so its time is one big request, not 100 pages)"
        )
    return {
        "list_raw_s": raw_s,
        "list_boto3_s": statistics.median(r[2] for r in boto_runs),
        "per_100_raw_ms": raw_s / (seen / 100) * 1000,
        "page_raw_ms": raw_s / pages * 1000,
        "pages": pages,
        "listed": seen,
        "create_per_s": count / create_s,
        "notes": notes,
    }


# --- redshift_volume: snapshot and restore of a cluster volume ------------------------------

VOLUME_CLUSTER = "vol-bench"
# Rows are fixed at registration, before run.py parses flags: --quick is read from argv here.
QUICK = "--quick" in sys.argv
VOLUME_MIB = int(os.environ.get("BENCH_REDSHIFT_MIB", "16" if QUICK else "1024"))
TABLES = 8
ROWS_PER_BLOCK = 8192
POLL_S = 0.02
DEADLINE_S = 1800.0


def _rows(first: int, count: int) -> bytes:
    """`count` pipe-separated order rows (~100 bytes: id, customer, e-mail, amount, timestamp,
    a random token). Random fields make every block distinct (no dedup) and keep compression
    realistic (zlib ~0.36 of the raw size)."""
    rnd = os.urandom(count * 12).hex()
    out = []
    for i in range(count):
        n = first + i
        h = rnd[i * 24 : (i + 1) * 24]
        out.append(
            f"{n:010d}|customer#{(n * 2654435761) % 1000003:07d}|user{h[:8]}@example{n % 97}.com|"
            f"{(n * 7919) % 100000 / 100:.2f}|2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}T"
            f"{n % 24:02d}:{n % 60:02d}:{(n * 13) % 60:02d}Z|{h[8:]}\n"
        )
    return "".join(out).encode()


def _fill(volume: Path, total_bytes: int) -> dict[str, str]:
    """Writes TABLES table files of table-like rows under base/dev/; returns name -> sha256."""
    hashes = {}
    per_table = total_bytes // TABLES
    row = 0
    for t in range(TABLES):
        name = f"base/dev/orders_{t:02d}"
        path = volume / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, written = hashlib.sha256(), 0
        with open(path, "wb") as f:
            while written < per_table:
                block = _rows(row, ROWS_PER_BLOCK)[: per_table - written]
                row += ROWS_PER_BLOCK
                f.write(block)
                digest.update(block)
                written += len(block)
        hashes[name] = digest.hexdigest()
    return hashes


def _hash_files(volume: Path, names) -> dict[str, str]:
    out = {}
    for name in names:
        digest = hashlib.sha256()
        with open(volume / name, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        out[name] = digest.hexdigest()
    return out


def _volume(port: int, cluster: str) -> dict:
    url = f"http://127.0.0.1:{port}/_tidemark/redshift/volume?cluster={cluster}"
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def _poll(check, what: str):
    """Calls `check()` every POLL_S until it returns a true value; returns it."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(POLL_S)
    raise RuntimeError(f"{what} did not finish in {DEADLINE_S:.0f} s")


@benchmark(
    "redshift_volume",
    f"Redshift snapshot and restore of a {VOLUME_MIB:,} MiB cluster volume",
    "s",
    "One fresh server, one single-node cluster. tidemark-disk: the cluster's volume directory "
    "(found with GET /_tidemark/redshift/volume) is filled, untimed, with "
    f"{VOLUME_MIB:,} MiB (BENCH_REDSHIFT_MIB; --quick 16) of pipe-separated order rows in "
    f"{TABLES} table files (~100-byte rows with random tokens: no dedup, zlib ratio ~0.36). "
    "Timed: CreateClusterSnapshot until DescribeClusterSnapshots (polled every 20 ms) says "
    "available, then RestoreFromClusterSnapshot to a new cluster until DescribeClusters shows "
    "ClusterStatus available and RestoreStatus completed; the restored files must hash-equal "
    "the originals (sha256). MB/s = MiB of volume ÷ wall time. The server's own "
    "figures (snapshot ElapsedTimeInSeconds and rate, RestoreStatus rate) are shown beside. "
    "moto: the same API calls and waits, but moto stores no data (a snapshot is metadata "
    "only), so its times are for bookkeeping, not for moving data, and it has no MB/s.",
    [
        Metric("snapshot_s", "CreateClusterSnapshot → available", "s", False),
        Metric("restore_s", "RestoreFromClusterSnapshot → available + completed", "s", False),
        Metric("snapshot_mb_s", "snapshot throughput", "MiB/s", True),
        Metric("restore_mb_s", "restore throughput", "MiB/s", True),
        Metric("volume_mib", "volume size", "MiB", info=True),
        Metric("stored_mib", "snapshot's ActualIncrementalBackupSizeInMegaBytes", "MiB", info=True),
        Metric("server_backup_rate", "server-reported backup rate", "MiB/s", info=True),
        Metric("server_restore_rate", "server-reported restore rate", "MiB/s", info=True),
        Metric("live_polls", "polls that saw a job in progress with progress > 0", "polls", info=True),
    ],
    targets=("tidemark-disk", "moto"),
)
def redshift_volume(target: Target, settings: Settings) -> dict:
    total = VOLUME_MIB << 20
    notes: list[str] = []
    with running(target) as (port, _pid):
        rs = boto_client("redshift", port)
        rs.create_cluster(
            ClusterIdentifier=VOLUME_CLUSTER,
            NodeType="dc2.large",
            MasterUsername="admin",
            MasterUserPassword="Passw0rd1",
            ClusterType="single-node",
            DBName="dev",
        )

        def cluster(cid: str) -> dict:
            return rs.describe_clusters(ClusterIdentifier=cid)["Clusters"][0]

        _poll(lambda: cluster(VOLUME_CLUSTER)["ClusterStatus"] == "available", "CreateCluster")
        tidemark = target.name.startswith("tidemark")
        hashes: dict[str, str] = {}
        if tidemark:
            vol = _volume(port, VOLUME_CLUSTER)
            began = time.perf_counter()
            hashes = _fill(Path(vol["path"]), total)
            notes.append(f"volume filled in {time.perf_counter() - began:.1f} s (untimed)")
        live = 0

        def snapshot_done():
            nonlocal live
            snap = rs.describe_cluster_snapshots(SnapshotIdentifier="vol-snap")["Snapshots"][0]
            if snap["Status"] == "creating" and snap.get("BackupProgressInMegaBytes", 0) > 0:
                live += 1
            return snap if snap["Status"] == "available" else None

        began = time.perf_counter()
        rs.create_cluster_snapshot(SnapshotIdentifier="vol-snap", ClusterIdentifier=VOLUME_CLUSTER)
        snap = _poll(snapshot_done, "CreateClusterSnapshot")
        snapshot_s = time.perf_counter() - began

        statuses: list[str] = []

        def restore_done():
            nonlocal live
            c = cluster("vol-restored")
            rst = c.get("RestoreStatus") or {}
            if rst.get("Status") and (not statuses or statuses[-1] != rst["Status"]):
                statuses.append(rst["Status"])
            if rst.get("Status") == "restoring" and rst.get("ProgressInMegaBytes", 0) > 0:
                live += 1
            restored = rst.get("Status") == "completed" or not tidemark
            return c if c["ClusterStatus"] == "available" and restored else None

        began = time.perf_counter()
        rs.restore_from_cluster_snapshot(
            ClusterIdentifier="vol-restored", SnapshotIdentifier="vol-snap"
        )
        restored = _poll(restore_done, "RestoreFromClusterSnapshot")
        restore_s = time.perf_counter() - began
        if tidemark:
            vol = _volume(port, "vol-restored")
            back = _hash_files(Path(vol["path"]), hashes)
            if back != hashes:
                raise RuntimeError("restored files differ from the originals")
            notes.append(f"restored files hash-equal; RestoreStatus seen: {' → '.join(statuses)}")
    result = {
        "snapshot_s": snapshot_s,
        "restore_s": restore_s,
        "live_polls": live,
        "notes": notes,
    }
    if tidemark:
        rst = restored.get("RestoreStatus") or {}
        result.update(
            {
                "snapshot_mb_s": VOLUME_MIB / snapshot_s,
                "restore_mb_s": VOLUME_MIB / restore_s,
                "volume_mib": total / (1 << 20),
                "stored_mib": snap.get("ActualIncrementalBackupSizeInMegaBytes"),
                "server_backup_rate": snap.get("CurrentBackupRateInMegaBytesPerSecond"),
                "server_restore_rate": rst.get("CurrentRestoreRateInMegaBytesPerSecond"),
            }
        )
        notes.append(
            f"server: snapshot ElapsedTimeInSeconds {snap.get('ElapsedTimeInSeconds')}, "
            f"TotalBackupSizeInMegaBytes {snap.get('TotalBackupSizeInMegaBytes', 0):,.1f}; "
            f"restore ElapsedTimeInSeconds {rst.get('ElapsedTimeInSeconds')}"
        )
    else:
        notes.append("moto keeps no volume data: the snapshot and restore move no bytes")
    return result
