"""PutItem and GetItem throughput and latency, 1 and 32 concurrent clients, boto3 and wrk."""

from __future__ import annotations

from clients import (
    RawClient,
    boto_client,
    running,
    signed_headers,
    thread_load,
    wrk_available,
    wrk_load,
)
from registry import Goal, Metric, Settings, benchmark
from targets import Target

DATA_PLANE = "DynamoDB data plane issue"
TABLE = "bench"
PAYLOAD = "x" * 100  # every item: a ~10-byte key plus a 100-byte string attribute
PRELOADED = 1000  # items GetItem reads (uniformly, by key k<i>)
JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.0"}


def _duration(settings: Settings) -> float:
    return 1.0 if settings.quick else 4.0


def create_table(port: int) -> None:
    c = boto_client("dynamodb", port)
    c.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    c.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 0.1})


def count_items(port: int) -> int:
    raw, total, start = RawClient(port, "dynamodb"), 0, None
    while True:
        req = {"TableName": TABLE, "Select": "COUNT"}
        if start:
            req["ExclusiveStartKey"] = start
        page = raw.dynamodb("Scan", req)
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            raw.close()
            return total


def _rows(prefix: str, res: dict, client: str) -> dict:
    out = {f"{prefix}_{k}": res[k] for k in ("ops_s", "p50_ms", "p99_ms")}
    note = (
        f"{client}: {res['requests']:,} requests, {res['errors']} errors; CPU: server "
        f"{res['server_cores']:.2f} cores"
        + (f", Python client {res['client_cores']:.2f} cores" if "client_cores" in res else "")
    )
    # One Python process holds the GIL: ~1 core of client CPU is all boto3 threads can use.
    if res.get("client_cores", 0) > 0.6 and res["client_cores"] > 2 * res["server_cores"]:
        note += " — the boto3 client, not the server, is the bottleneck here"
    out[f"{prefix}_note"] = note
    out[f"{prefix}_ok"] = res["requests"] - res["errors"]
    return out


def _boto_pass(port: int, pid: int, n: int, op, settings: Settings) -> dict:
    clients = [boto_client("dynamodb", port) for _ in range(n)]
    # Warm-up: one request per client opens its connection and loads botocore's models.
    for i, c in enumerate(clients):
        op(c, i, -1)
    return thread_load(clients, op, _duration(settings), pid)


def _put_op(pass_id: str):
    """PutItem of a key unique to this pass, thread and iteration (warm-ups use n = -1)."""

    def put(client, idx: int, n: int) -> None:
        item = {"pk": {"S": f"{pass_id}-{idx}-{n}"}, "v": {"S": PAYLOAD}}
        client.put_item(TableName=TABLE, Item=item)

    return put


def _get(client, idx: int, n: int) -> None:
    key = f"k{(idx * 7919 + n * 104729) % PRELOADED}"
    if "Item" not in client.get_item(TableName=TABLE, Key={"pk": {"S": key}}):
        raise RuntimeError(f"GetItem {key}: no item")


def _wrk_headers(port: int, op: str) -> dict:
    headers = {**JSON_HEADERS, "X-Amz-Target": f"DynamoDB_20120810.{op}"}
    signed = signed_headers(port, "dynamodb", b"{}", headers)
    return {k: v for k, v in signed.items() if k.lower() != "content-length"}


def _measure(target: Target, settings: Settings, op: str) -> dict:
    results: dict = {"notes": []}
    with running(target) as (port, pid):
        create_table(port)
        if op == "put":
            fn = None
            body_lua = (
                f'\'{{"TableName":"{TABLE}","Item":{{"pk":{{"S":"w\' .. n .. '
                f'\'"}},"v":{{"S":"{PAYLOAD}"}}}}}}\''
            )
        else:
            raw = RawClient(port, "dynamodb")
            for start in range(0, PRELOADED, 25):
                items = [
                    {"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "v": {"S": PAYLOAD}}}}
                    for i in range(start, min(start + 25, PRELOADED))
                ]
                raw.dynamodb("BatchWriteItem", {"RequestItems": {TABLE: items}})
            raw.close()
            fn = _get
            body_lua = (
                f'\'{{"TableName":"{TABLE}","Key":{{"pk":{{"S":"k\' .. '
                f"(n * 7919 % {PRELOADED}) .. '\"}}}}}}'"
            )
        for prefix, n in (("c1", 1), ("c32", 32)):
            res = _boto_pass(port, pid, n, fn or _put_op(prefix), settings)
            results.update(_rows(prefix, res, f"boto3, {n} thread(s)"))
        if wrk_available():
            api = "PutItem" if op == "put" else "GetItem"
            res = wrk_load(port, _wrk_headers(port, api), body_lua, 32, _duration(settings), pid)
            results.update(_rows("wrk32", res, "wrk -t1 -c32"))
        else:
            results["notes"].append("wrk not installed (apt-get install wrk): wrk rows skipped")
        if op == "put":
            # The writes must really have landed: every successful PutItem made a new item.
            # (Requests still in flight when a pass ends may add a few more.)
            stored = count_items(port)
            ok = sum(results.get(f"{p}_ok", 0) for p in ("c1", "c32", "wrk32")) + 33
            results["notes"].append(
                f"check: table holds {stored:,} items after {ok:,} successful PutItem calls "
                "(each a new key, 33 of them warm-ups)"
            )
            if stored < ok:
                raise RuntimeError(f"only {stored} items stored after {ok} successful PutItem")
    for prefix in ("c1", "c32", "wrk32"):
        results.pop(f"{prefix}_ok", None)
        note = results.pop(f"{prefix}_note", None)
        if note:
            results["notes"].append(note)
    return results


def _metrics() -> list[Metric]:
    rows = []
    for prefix, label in (
        ("wrk32", "32 connections, wrk"),
        ("c32", "32 clients, boto3 threads"),
        ("c1", "1 client, boto3"),
    ):
        rows += [
            Metric(f"{prefix}_ops_s", f"throughput, {label}", "ops/s", True),
            Metric(f"{prefix}_p50_ms", f"p50 latency, {label}", "ms", False),
            Metric(f"{prefix}_p99_ms", f"p99 latency, {label}", "ms", False),
        ]
    return rows


HOW = (
    "Table with a string hash key; items of ~110 bytes. Each pass runs {d} s against a fresh "
    "server: 1 and 32 boto3 clients (one per Python thread, latency measured around each "
    "call, so it includes boto3's own ~1 ms per call), then `wrk -t1 -c32` (C load generator, "
    "persistent connections, one pre-signed Authorization header; tidemark's permissive auth "
    "checks its form, moto ignores it). "
)


@benchmark(
    "put_item",
    "PutItem throughput and latency",
    "ops/s",
    HOW.format(d=4)
    + "Every PutItem writes a new key. `tidemark-disk` is `serve --data-dir` (redb plus its "
    "write-ahead log; no PutItem is answered before its commit is fsynced in the log, "
    "concurrent ones share an fsync: group commit; a checkpoint every 512 KiB of log stalls "
    "writes for a few ms, which shows in p99); `tidemark` is `--in-memory`.",
    _metrics(),
    higher_is_better=True,
    goals=(
        Goal("wrk32_ops_s", ">=", 30.0, "PutItem ≥ 30× moto, in memory", DATA_PLANE, True),
        Goal(
            "wrk32_ops_s",
            ">=",
            30.0,
            "PutItem ≥ 30× moto, on disk",
            DATA_PLANE,
            True,
            "tidemark-disk",
        ),
        Goal("c32_ops_s", ">=", 30.0, "PutItem ≥ 30× moto, boto3 clients", DATA_PLANE, True),
    ),
    targets=("tidemark", "tidemark-disk", "moto"),
)
def put_item(target: Target, settings: Settings) -> dict:
    return _measure(target, settings, "put")


@benchmark(
    "get_item",
    "GetItem throughput and latency",
    "ops/s",
    HOW.format(d=4) + f"GetItem reads {PRELOADED} preloaded items by key; `--in-memory`.",
    _metrics(),
    higher_is_better=True,
)
def get_item(target: Target, settings: Settings) -> dict:
    return _measure(target, settings, "get")
