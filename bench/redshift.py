"""Redshift benchmarks: DescribeClusterSnapshots over 10,000 manual snapshots (paged with
MaxRecords=100). Snapshot and restore of a cluster's data are measured through SQL in
redshift_sql.py (b)."""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
import urllib.request

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
