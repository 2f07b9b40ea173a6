"""Redshift Data API round trip (issue #15): ExecuteStatement → DescribeStatement until
FINISHED → the first GetStatementResult page, with boto3, for a small SELECT and a 10,000-row
one; beside it the same SELECT over psycopg2 straight to the cluster's Endpoint (the peer
column), and moto's redshift-data for the API round trip alone (moto runs no SQL: it answers
every statement FINISHED at once with the same canned rows)."""

from __future__ import annotations

import contextlib
import time

import psycopg2

from clients import boto_client
from registry import Metric, Settings, benchmark, percentile
from startup import start_and_wait
from targets import Target, stop

ISSUE = "issue #15"
MASTER, PASSWORD, DB = "admin", "Passw0rd1", "dev"
CLUSTER = "bench-data"
ROWS = 10_000
SMALL_SQL = "SELECT 1 AS one, 'x'::varchar AS ex"
BIG_SQL = "SELECT id, label, amount, placed FROM bench_rows ORDER BY id"
# DescribeStatement is polled this often: a client has to poll, and a shorter interval only
# moves work from the server's SQL to answering polls.
POLL_S = 0.002
DEADLINE_S = 120.0
# Runs per case beside settings.runs, the first ones not counted (connections, caches).
WARMUP = 3

PEER = "psycopg2 straight to the Endpoint"


def _wait(check, what: str, deadline_s: float = DEADLINE_S):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.02)
    raise RuntimeError(f"{what} did not finish in {deadline_s:.0f} s")


def _round_trip(rsd, sql: str, cluster: str, done: tuple[str, ...] = ("FINISHED",)) -> tuple[float, int]:
    """Seconds from ExecuteStatement to the first result page in hand, and its records;
    DescribeStatement is polled until its status is one of `done`."""
    began = time.perf_counter()
    sid = rsd.execute_statement(ClusterIdentifier=cluster, Database=DB, DbUser=MASTER, Sql=sql)["Id"]
    deadline = began + DEADLINE_S
    while True:
        status = rsd.describe_statement(Id=sid)
        if status["Status"] in done:
            break
        if status["Status"] in ("FAILED", "ABORTED"):
            raise RuntimeError(f"{sql!r}: {status['Status']} {status.get('Error')}")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{sql!r} not FINISHED after {DEADLINE_S} s")
        time.sleep(POLL_S)
    page = rsd.get_statement_result(Id=sid)
    return time.perf_counter() - began, len(page["Records"])


def _direct(conn, sql: str) -> tuple[float, int]:
    """Seconds for the same SELECT over an open psycopg2 connection, every row fetched."""
    began = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    return time.perf_counter() - began, len(rows)


def _direct_connect(ep: tuple[str, int], sql: str) -> tuple[float, int]:
    """As `_direct`, with the login in the time (the Data API logs in per statement)."""
    began = time.perf_counter()
    conn = psycopg2.connect(host=ep[0], port=ep[1], user=MASTER, password=PASSWORD, dbname=DB,
                            connect_timeout=30)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            rows = cur.fetchall()
    finally:
        conn.close()
    return time.perf_counter() - began, len(rows)


def _stats(samples: list[float], prefix: str, out: dict) -> None:
    ordered = sorted(s * 1000 for s in samples)
    out[f"{prefix}_p50_ms"] = percentile(ordered, 50)
    out[f"{prefix}_p95_ms"] = percentile(ordered, 95)
    out.setdefault("samples", {})[prefix] = [round(s * 1000, 3) for s in samples]


def _measure(runs: int, fn) -> tuple[list[float], int]:
    samples, records = [], 0
    for k in range(WARMUP + runs):
        seconds, records = fn()
        if k >= WARMUP:
            samples.append(seconds)
    return samples, records


def _tidemark(port: int, runs: int, res: dict, peer: dict) -> None:
    rs = boto_client("redshift", port)
    rsd = boto_client("redshift-data", port)
    rs.create_cluster(ClusterIdentifier=CLUSTER, NodeType="dc2.large", MasterUsername=MASTER,
                      MasterUserPassword=PASSWORD, ClusterType="single-node", DBName=DB)

    def endpoint():
        c = rs.describe_clusters(ClusterIdentifier=CLUSTER)["Clusters"][0]
        ep = c.get("Endpoint") or {}
        return c["ClusterStatus"] == "available" and ep.get("Address") and (ep["Address"], ep["Port"])

    ep = _wait(endpoint, "CreateCluster")
    conn = psycopg2.connect(host=ep[0], port=ep[1], user=MASTER, password=PASSWORD, dbname=DB,
                            connect_timeout=30)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE bench_rows (id INT NOT NULL, label VARCHAR(40), "
                        "amount DECIMAL(12, 2), placed TIMESTAMP)")
            cur.execute(f"INSERT INTO bench_rows SELECT k, 'row ' || k, k * 1.25, "
                        f"TIMESTAMP '2026-01-01' + k * INTERVAL '1 minute' "
                        f"FROM generate_series(1, {ROWS}) AS s(k)")
        for case, sql in (("small", SMALL_SQL), ("big", BIG_SQL)):
            api, records = _measure(runs, lambda sql=sql: _round_trip(rsd, sql, CLUSTER))
            _stats(api, case, res)
            res[f"{case}_first_page_records"] = records
            direct, _ = _measure(runs, lambda sql=sql: _direct(conn, sql))
            _stats(direct, case, peer)
            login, _ = _measure(runs, lambda sql=sql: _direct_connect(ep, sql))
            _stats(login, f"{case}_login", peer)
            for p in ("p50", "p95"):
                res[f"{case}_{p}_x_direct"] = res[f"{case}_{p}_ms"] / peer[f"{case}_{p}_ms"]
        # The peer column shows the direct times in the Data API's rows; the login variant
        # goes to the notes.
        res["notes"] = [
            f"psycopg2 with a new login per query (the Data API logs in per statement): "
            f"small p50 {peer['small_login_p50_ms']:.2f} ms, 10,000 rows p50 "
            f"{peer['big_login_p50_ms']:.2f} ms."
        ]
    finally:
        conn.close()
        with contextlib.suppress(Exception):
            rs.delete_cluster(ClusterIdentifier=CLUSTER, SkipFinalClusterSnapshot=True)


def _moto(port: int, runs: int, res: dict) -> None:
    rsd = boto_client("redshift-data", port)
    for case, sql in (("small", SMALL_SQL), ("big", BIG_SQL)):
        # moto's statements stay STARTED (it never runs them), and GetStatementResult answers
        # anyway: one DescribeStatement is the poll.
        api, records = _measure(runs, lambda sql=sql: _round_trip(rsd, sql, CLUSTER, ("STARTED",)))
        _stats(api, case, res)
        res[f"{case}_first_page_records"] = records
    res["notes"] = [
        f"moto runs no SQL: its statements stay STARTED, and GetStatementResult returns the same "
        f"{res['big_first_page_records']} canned rows whatever the SQL, so its times are the bare "
        "API round trip (ExecuteStatement, one DescribeStatement, GetStatementResult)."
    ]


@benchmark(
    "redshift_data",
    "Redshift Data API: ExecuteStatement → FINISHED → first result page",
    "ms",
    "One `tidemark serve --in-memory`, one single-node cluster; a 10,000-row table "
    "(INT NOT NULL, VARCHAR(40), DECIMAL(12,2), TIMESTAMP) loaded untimed over the Endpoint. "
    "Timed with boto3: ExecuteStatement (DbUser) → DescribeStatement every 2 ms until "
    "FINISHED → GetStatementResult's first page in hand, for `SELECT 1 AS one, 'x'::varchar` "
    f"and for `SELECT … FROM bench_rows ORDER BY id` ({ROWS:,} rows; the first page holds "
    "the rows under tidemark's 1 MiB page cut). p50/p95 of N runs after 3 warm-up runs. "
    "Peer column: the same SELECT over one open psycopg2 connection straight to the "
    "cluster's Endpoint (execute + fetchall; a variant with a new login per query is in the "
    "notes, since the Data API logs in per statement). `× direct` rows: Data API time ÷ "
    "direct time (lower is better). moto: the same boto3 calls, but moto's redshift-data runs "
    "no SQL: its statements stay STARTED (one DescribeStatement is the poll) and "
    "GetStatementResult returns the same canned rows whatever the SQL, so its column is the "
    "bare API round trip, not a query.",
    [
        Metric("small_p50_ms", "small SELECT, p50", "ms", False),
        Metric("small_p95_ms", "small SELECT, p95", "ms", False),
        Metric("big_p50_ms", f"{ROWS:,}-row SELECT, p50", "ms", False),
        Metric("big_p95_ms", f"{ROWS:,}-row SELECT, p95", "ms", False),
        Metric("small_p50_x_direct", "small SELECT p50, × direct", "×", info=True),
        Metric("big_p50_x_direct", f"{ROWS:,}-row SELECT p50, × direct", "×", info=True),
        Metric("big_first_page_records", f"records on the first page ({ROWS:,}-row SELECT)",
               "records", info=True),
    ],
    # "postgres" is the peer column the tidemark run returns, not a server of its own.
    targets=("tidemark", "moto", "postgres"),
)
def redshift_data(target: Target, settings: Settings) -> dict:
    runs = max(settings.runs, 5)
    res: dict = {}
    peer: dict = {}
    proc, port, _ = start_and_wait(target)
    try:
        if target.name == "moto":
            _moto(port, runs, res)
        else:
            _tidemark(port, runs, res, peer)
            res["peer"] = peer
    finally:
        stop(proc)
    res["plot_title"] = "Redshift Data API round trip (issue #15)"
    res["plot_metrics"] = ["small_p50_ms", "big_p50_ms"]
    return res
