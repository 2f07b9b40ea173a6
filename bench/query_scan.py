"""Query and Scan items per second over a table loaded with BatchWriteItem (read pass only)."""

from __future__ import annotations

import contextlib
import gc
import json
import statistics
import threading
import time

import orjson

from clients import RawClient, boto_client, running
from registry import Goal, Metric, Settings, benchmark
from targets import Target

DATA_PLANE = "DynamoDB data plane issue"
TABLE = "bench_qs"
PARTITIONS = 10  # hash keys p00..p09, each holding table_size / 10 range keys
SEGMENTS = 2  # the parallel Scan row: TotalSegments, one connection and thread each
# moto loads ~1-2k items/s and scans ~2.5k items/s: a 100k table would cost minutes per pass,
# so moto gets a 10k table (items/s is size-normalised; said in the report).
SIZES = {"moto": 10_000}
FULL_SIZE = 100_000


def _item(i: int) -> dict:
    return {
        "pk": {"S": f"p{i % PARTITIONS:02d}"},
        "sk": {"N": str(i)},
        "name": {"S": f"customer-{i:08d}"},
        "bio": {"S": "lorem ipsum dolor sit amet consectetur adipiscing elit sed do"},
        "price": {"N": f"{i % 9973}.{i % 100:02d}"},
        "active": {"BOOL": i % 3 == 0},
    }


def _load(port: int, size: int) -> float:
    """BatchWriteItem of `size` items from two connections; returns seconds taken."""

    def part(lo: int, hi: int) -> None:
        raw = RawClient(port, "dynamodb")
        for start in range(lo, hi, 25):
            pending = {
                TABLE: [
                    {"PutRequest": {"Item": _item(i)}} for i in range(start, min(start + 25, hi))
                ]
            }
            while pending:
                pending = raw.dynamodb("BatchWriteItem", {"RequestItems": pending}).get(
                    "UnprocessedItems"
                )
        raw.close()

    began = time.perf_counter()
    half = size // 2
    threads = [threading.Thread(target=part, args=r) for r in ((0, half), (half, size))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


@contextlib.contextmanager
def _gc_paused():
    """Pauses Python's cyclic garbage collector (restoring its state after). A decoded page
    is a tree of ~20 fresh dicts and strings per item with no cycles, yet allocating them
    triggers collections that re-walk every live object: with the collector on, decoding a
    1 MB page costs ~3x as much (measured: orjson 5.3 vs 1.8 µs per item)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _raw_pass(port: int, request: dict, op: str, server_time: list[float]) -> int:
    """One paginated pass; appends the seconds spent waiting for responses (request sent to
    last body byte read, i.e. excluding the client's JSON decoding) to `server_time`."""
    with _gc_paused():
        return _raw_pages(port, request, op, server_time)


def _raw_pages(port: int, request: dict, op: str, server_time: list[float]) -> int:
    raw, total, start, waited = RawClient(port, "dynamodb"), 0, None, 0.0
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{op}",
    }
    while True:
        req = dict(request, ExclusiveStartKey=start) if start else request
        began = time.perf_counter()
        status, data = raw.request(json.dumps(req).encode(), headers)
        waited += time.perf_counter() - began
        if status != 200:
            raise RuntimeError(f"{op} -> HTTP {status}: {data[:300]!r}")
        # orjson: the fastest full decode available to a Python client (every page is
        # decoded into dicts and lists, as json.loads would, ~1.5-2x quicker).
        page = orjson.loads(data)
        total += len(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            raw.close()
            server_time.append(waited)
            return total


def _parallel_pass(port: int, request: dict) -> int:
    """A parallel Scan: `SEGMENTS` threads, each paging through its own segment on its own
    connection with `_raw_pass`; returns the items of all segments."""
    counts = [0] * SEGMENTS
    waits: list[list[float]] = [[] for _ in range(SEGMENTS)]
    errors: list[BaseException] = []

    def one(seg: int) -> None:
        try:
            req = dict(request, Segment=seg, TotalSegments=SEGMENTS)
            counts[seg] = _raw_pass(port, req, "Scan", waits[seg])
        except BaseException as e:  # noqa: BLE001 re-raised below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(SEGMENTS)]
    with _gc_paused():
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return sum(counts)


def _boto_pass(port: int, request: dict, op: str) -> int:
    client = boto_client("dynamodb", port)
    pages = client.get_paginator(op.lower()).paginate(**request)
    return sum(len(p["Items"]) for p in pages)


def _rate(passes: int, fn, expected: int) -> float:
    rates = []
    for _ in range(passes):
        began = time.perf_counter()
        got = fn()
        took = time.perf_counter() - began
        if got != expected:
            raise RuntimeError(f"read {got} items, expected {expected}")
        rates.append(got / took)
    return statistics.median(rates)


@benchmark(
    "query_scan",
    "Scan and Query items per second",
    "items/s",
    f"Table of {FULL_SIZE:,} items (~190 bytes of JSON each; moto: {SIZES['moto']:,} items, "
    "since loading and scanning 100k on moto costs minutes) loaded with BatchWriteItem "
    "(not timed). Timed: a full paginated Scan (1 MB pages), and a paginated Query of one "
    f"hash key holding 1/{PARTITIONS} of the table (range keys ascending); median of 3 passes. "
    "Two clients: boto3's paginator, and raw HTTP (pre-signed per page, persistent "
    "connection, every page fully decoded into dicts with `orjson.loads`, the fastest Python "
    "JSON decoder, with Python's cyclic garbage collector paused during the pass, since a "
    "decoded page has no cycles), because boto3's response parsing caps the rate it can see. "
    "`server side only` divides by the time spent waiting for responses (send to last body "
    "byte), leaving out the client's decoding. `parallel` is a full Scan in "
    f"{SEGMENTS} segments (TotalSegments={SEGMENTS}), each on its own connection and thread, "
    "so one segment's decoding overlaps the other's wait; same client and same request for "
    "both servers.",
    [
        Metric("scan_raw", "Scan, raw HTTP client", "items/s", True),
        Metric("scan_boto3", "Scan, boto3 paginator", "items/s", True),
        Metric(
            "scan_parallel",
            f"Scan in {SEGMENTS} parallel segments, raw HTTP client",
            "items/s",
            True,
        ),
        Metric(
            "scan_server", "Scan, server side only (raw client minus JSON decode)", "items/s", True
        ),
        Metric("query_raw", "Query one hash key, raw HTTP client", "items/s", True),
        Metric("query_boto3", "Query one hash key, boto3 paginator", "items/s", True),
        Metric("query_server", "Query, server side only", "items/s", True),
        Metric("table_items", "items in the table", "items", info=True),
        Metric("load_s", "BatchWriteItem load time (not part of the rate)", "s", info=True),
    ],
    higher_is_better=True,
    goals=(
        Goal("scan_raw", ">=", 100.0, "Scan ≥ 100× moto (raw client)", DATA_PLANE, True),
        Goal("scan_boto3", ">=", 100.0, "Scan ≥ 100× moto (boto3)", DATA_PLANE, True),
    ),
)
def query_scan(target: Target, settings: Settings) -> dict:
    size = SIZES.get(target.name, FULL_SIZE)
    if settings.quick:
        size //= 10
    passes = 1 if settings.quick else 3
    with running(target) as (port, _pid):
        boto_client("dynamodb", port).create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        load_s = _load(port, size)
        scan = {"TableName": TABLE}
        query = {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p03"}},
        }
        per_key = size // PARTITIONS
        scan_wait: list[float] = []
        query_wait: list[float] = []
        out = {
            "scan_raw": _rate(passes, lambda: _raw_pass(port, scan, "Scan", scan_wait), size),
            "scan_boto3": _rate(passes, lambda: _boto_pass(port, scan, "Scan"), size),
            "scan_parallel": _rate(passes, lambda: _parallel_pass(port, scan), size),
            "query_raw": _rate(
                passes, lambda: _raw_pass(port, query, "Query", query_wait), per_key
            ),
            "query_boto3": _rate(passes, lambda: _boto_pass(port, query, "Query"), per_key),
            "scan_server": size / statistics.median(scan_wait),
            "query_server": per_key / statistics.median(query_wait),
            "table_items": size,
            "load_s": load_s,
        }
    out["notes"] = [f"{size:,}-item table, Query reads {per_key:,} items per pass"]
    return out
