"""DescribeClusterSnapshots paging over the wire with boto3 (aws-behaviour.md §1.5, §3.17): the
paginator walks every page in create-time-then-identifier order; a snapshot deleted or created
between pages neither repeats nor shifts the rest (the marker is a position, not an offset); a
garbled marker, or one reused with other filters, is InvalidParameterValue 400."""

import requests
from tm_helpers import expect, wait_until

PASSWORD = "Passw0rd1"


def _cluster_with_snapshots(redshift, endpoint, count: int) -> list[str]:
    requests.post(f"{endpoint}/_tidemark/clock", json={"freeze": True}, timeout=10).raise_for_status()
    redshift.create_cluster(
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="adminuser",
        MasterUserPassword=PASSWORD, AutomatedSnapshotRetentionPeriod=0,
    )
    wait_until(
        lambda: redshift.describe_clusters(ClusterIdentifier="c1")["Clusters"][0]["ClusterStatus"]
        == "available",
        "cluster available",
    )
    ids = [f"snap-{i * 10:03d}" for i in range(count)]
    for snap in ids:
        redshift.create_cluster_snapshot(SnapshotIdentifier=snap, ClusterIdentifier="c1")
    return ids


def _page(redshift, **kwargs) -> tuple[list[str], str | None]:
    resp = redshift.describe_cluster_snapshots(SnapshotType="manual", MaxRecords=20, **kwargs)
    return [s["SnapshotIdentifier"] for s in resp["Snapshots"]], resp.get("Marker")


def test_paginator_lists_every_snapshot_once_in_order(redshift, endpoint):
    ids = _cluster_with_snapshots(redshift, endpoint, 45)
    pages = list(
        redshift.get_paginator("describe_cluster_snapshots").paginate(
            ClusterIdentifier="c1", SnapshotType="manual", PaginationConfig={"PageSize": 20}
        )
    )
    assert [len(p["Snapshots"]) for p in pages] == [20, 20, 5]
    # The clock is frozen, so every create time ties and the identifier orders them.
    assert [s["SnapshotIdentifier"] for p in pages for s in p["Snapshots"]] == ids
    assert "Marker" not in pages[-1]


def test_writes_between_pages_do_not_shift_the_listing(redshift, endpoint):
    ids = _cluster_with_snapshots(redshift, endpoint, 45)
    first, marker = _page(redshift)
    assert first == ids[:20] and marker
    redshift.delete_cluster_snapshot(SnapshotIdentifier="snap-050")  # already listed
    redshift.delete_cluster_snapshot(SnapshotIdentifier="snap-060")  # already listed
    redshift.delete_cluster_snapshot(SnapshotIdentifier="snap-250")  # not yet listed
    redshift.create_cluster_snapshot(SnapshotIdentifier="snap-055", ClusterIdentifier="c1")
    redshift.create_cluster_snapshot(SnapshotIdentifier="snap-255", ClusterIdentifier="c1")
    rest = []
    while marker:
        page, marker = _page(redshift, Marker=marker)
        rest += page
    expected = sorted([s for s in ids[20:] if s != "snap-250"] + ["snap-255"])
    assert rest == expected


def test_bad_and_foreign_markers(redshift, endpoint):
    _cluster_with_snapshots(redshift, endpoint, 25)
    _, marker = _page(redshift)
    for bad in ("garbage", marker[:-2], marker + "00", "tm1.3230"):
        expect(
            "InvalidParameterValue", 400, redshift.describe_cluster_snapshots,
            SnapshotType="manual", Marker=bad,
        )
    # A marker continues only the listing it came from.
    expect(
        "InvalidParameterValue", 400, redshift.describe_cluster_snapshots,
        SnapshotType="automated", Marker=marker,
    )
    # The page size may change between pages.
    resp = redshift.describe_cluster_snapshots(SnapshotType="manual", MaxRecords=100, Marker=marker)
    assert len(resp["Snapshots"]) == 5 and "Marker" not in resp
