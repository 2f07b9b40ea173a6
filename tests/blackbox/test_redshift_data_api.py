"""The Redshift Data API (issue #15): statements sent with boto3 and the aws CLI v1 run on the
cluster's real PostgreSQL; results come back with AWS's Field mapping and paging; SQL errors
are FAILED statements, not API errors; a batch is one transaction; a session keeps its
temporary tables; a snapshot restored to a new cluster answers the same queries.
Reference: ../shared/reference/redshift-sql.md §5."""

from __future__ import annotations

import datetime as dt
import json
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from test_redshift_sql_clients import USER, make_cluster, restore, snapshot
from tm_helpers import REGION, SECRET_KEY

DB = "dev"
ROWS = 10_000


@pytest.fixture(scope="session")
def rsd(boto_session, endpoint):
    return boto_session.client(
        "redshift-data", endpoint_url=endpoint, config=Config(retries={"total_max_attempts": 1})
    )


def run(rsd, cid: str, sql: str, **extra) -> dict:
    """Executes and waits for a final status; returns DescribeStatement's answer."""
    sid = rsd.execute_statement(ClusterIdentifier=cid, Database=DB, DbUser=USER, Sql=sql, **extra)["Id"]
    return wait_done(rsd, sid)


def wait_done(rsd, sid: str, timeout_s: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        d = rsd.describe_statement(Id=sid)
        if d["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            return d
        time.sleep(0.05)
    pytest.fail(f"statement {sid} still {d['Status']} after {timeout_s}s")


def ok(rsd, cid: str, sql: str, **extra) -> dict:
    d = run(rsd, cid, sql, **extra)
    assert d["Status"] == "FINISHED", d.get("Error")
    return d


def all_records(rsd, sid: str) -> tuple[list, list, int]:
    """Every page of a result: (records, column metadata, pages)."""
    records, token, pages = [], None, 0
    while True:
        page = rsd.get_statement_result(Id=sid, **({"NextToken": token} if token else {}))
        pages += 1
        assert page["TotalNumRows"] >= len(page["Records"])
        records += page["Records"]
        token = page.get("NextToken")
        if not token:
            return records, page["ColumnMetadata"], pages


TYPES_DDL = """
CREATE TABLE t (
    i2 SMALLINT, i4 INTEGER NOT NULL, i8 BIGINT, n DECIMAL(12, 2), r REAL, d DOUBLE PRECISION,
    b BOOLEAN, c CHAR(4), v VARCHAR(32), day DATE, ts TIMESTAMP, tz TIMESTAMPTZ
) DISTSTYLE EVEN SORTKEY (i4)
"""
# Row k (1-based): every column a function of k; every 7th row is all NULLs but i4.
TYPES_INSERT = """
INSERT INTO t
SELECT CASE WHEN k % 7 = 0 THEN NULL ELSE (k % 30000) - 15000 END,
       k,
       CASE WHEN k % 7 = 0 THEN NULL ELSE k::bigint * 1000000007 END,
       CASE WHEN k % 7 = 0 THEN NULL ELSE (k * 1.25)::decimal(12, 2) END,
       CASE WHEN k % 7 = 0 THEN NULL ELSE k::real / 4 END,
       CASE WHEN k % 7 = 0 THEN NULL ELSE k::float8 / 8 END,
       CASE WHEN k % 7 = 0 THEN NULL ELSE k % 2 = 0 END,
       CASE WHEN k % 7 = 0 THEN NULL ELSE chr(97 + k % 26) END,
       CASE WHEN k % 7 = 0 THEN NULL ELSE 'row ' || k END,
       CASE WHEN k % 7 = 0 THEN NULL ELSE DATE '2026-01-01' + k END,
       CASE WHEN k % 7 = 0 THEN NULL ELSE TIMESTAMP '2026-01-01 00:00:00' + k * INTERVAL '1 minute' END,
       CASE WHEN k % 7 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-01-01 00:00:00+00' + k * INTERVAL '1 second' END
FROM generate_series(1, :n) AS s(k)
"""


def expected_row(k: int) -> list[dict]:
    if k % 7 == 0:
        return [{"isNull": True}, {"longValue": k}] + [{"isNull": True}] * 10
    day = dt.date(2026, 1, 1) + dt.timedelta(days=k)
    ts = dt.datetime(2026, 1, 1) + dt.timedelta(minutes=k)
    tz = dt.datetime(2026, 1, 1) + dt.timedelta(seconds=k)
    return [
        {"longValue": (k % 30000) - 15000},
        {"longValue": k},
        {"longValue": k * 1000000007},
        {"stringValue": f"{k * 1.25:.2f}"},
        {"doubleValue": k / 4},
        {"doubleValue": k / 8},
        {"booleanValue": k % 2 == 0},
        {"stringValue": chr(97 + k % 26).ljust(4)},
        {"stringValue": f"row {k}"},
        {"stringValue": day.isoformat()},
        {"stringValue": ts.strftime("%Y-%m-%d %H:%M:%S")},
        {"stringValue": tz.strftime("%Y-%m-%d %H:%M:%S") + "+00"},
    ]


def test_execute_describe_and_page_every_type_exactly(redshift, rsd):
    cid = "data-types"
    make_cluster(redshift, cid)
    ddl = ok(rsd, cid, TYPES_DDL)
    assert ddl["HasResultSet"] is False and ddl["ResultRows"] == -1
    assert ddl["QueryString"] == TYPES_DDL and ddl["RedshiftPid"] > 0
    assert ddl["Duration"] > 0 and ddl["UpdatedAt"] >= ddl["CreatedAt"]
    ins = ok(rsd, cid, TYPES_INSERT, Parameters=[{"name": "n", "value": str(ROWS)}])
    assert ins["ResultRows"] == ROWS and ins["QueryParameters"] == [{"name": "n", "value": str(ROWS)}]

    sel = ok(rsd, cid, "SELECT * FROM t ORDER BY i4")
    assert sel["HasResultSet"] is True and sel["ResultRows"] == ROWS and sel["ResultSize"] > 0
    records, meta, pages = all_records(rsd, sel["Id"])
    assert pages > 1, "10,000 rows fit one page: paging is not exercised"
    assert len(records) == ROWS
    for k, row in enumerate(records, start=1):
        assert row == expected_row(k), f"row {k}"
    assert [m["typeName"] for m in meta] == [
        "int2", "int4", "int8", "numeric", "float4", "float8",
        "bool", "bpchar", "varchar", "date", "timestamp", "timestamptz",
    ]
    by_name = {m["name"]: m for m in meta}
    assert (by_name["n"]["precision"], by_name["n"]["scale"]) == (12, 2)
    assert by_name["v"]["length"] == 32 and by_name["v"]["isCaseSensitive"] is True
    assert by_name["i4"]["nullable"] == 0 and by_name["i2"]["nullable"] == 1
    assert by_name["i8"]["isSigned"] is True and by_name["i8"]["tableName"] == "t"
    assert by_name["i8"]["schemaName"] == "public"


def test_sql_error_is_a_failed_statement_with_postgres_message(redshift, rsd):
    cid = "data-fail"
    make_cluster(redshift, cid)
    d = run(rsd, cid, "SELECT * FROM no_such_table")
    assert d["Status"] == "FAILED"
    assert 'relation "no_such_table" does not exist' in d["Error"]
    with pytest.raises(ClientError) as e:
        rsd.get_statement_result(Id=d["Id"])
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_batch_in_a_transaction_rolls_back_on_failure(redshift, rsd):
    cid = "data-batch"
    make_cluster(redshift, cid)
    ok(rsd, cid, "CREATE TABLE b (v INT)")
    sid = rsd.batch_execute_statement(
        ClusterIdentifier=cid, Database=DB, DbUser=USER,
        Sqls=["INSERT INTO b VALUES (1)", "INSERT INTO b VALUES (2)", "INSERT INTO b VALUES ('x')",
              "INSERT INTO b VALUES (4)"],
    )["Id"]
    d = wait_done(rsd, sid)
    assert d["Status"] == "FAILED"
    subs = d["SubStatements"]
    assert [s["Id"] for s in subs] == [f"{sid}:{n}" for n in range(1, 5)]
    assert [s["Status"] for s in subs] == ["FINISHED", "FINISHED", "FAILED", "ABORTED"]
    assert "invalid input syntax for type integer" in subs[2]["Error"]
    count = ok(rsd, cid, "SELECT COUNT(*) AS n FROM b")
    assert rsd.get_statement_result(Id=count["Id"])["Records"] == [[{"longValue": 0}]]

    # A batch that succeeds commits every part; each part's result has its own id.
    sid = rsd.batch_execute_statement(
        ClusterIdentifier=cid, Database=DB, DbUser=USER,
        Sqls=["INSERT INTO b VALUES (1), (2)", "SELECT SUM(v) FROM b"],
    )["Id"]
    d = wait_done(rsd, sid)
    assert d["Status"] == "FINISHED" and d["SubStatements"][0]["ResultRows"] == 2
    assert rsd.get_statement_result(Id=f"{sid}:2")["Records"] == [[{"longValue": 3}]]
    assert rsd.describe_statement(Id=f"{sid}:2")["QueryString"] == "SELECT SUM(v) FROM b"


def test_session_keeps_temporary_tables(redshift, rsd):
    cid = "data-session"
    make_cluster(redshift, cid)
    first = rsd.execute_statement(
        ClusterIdentifier=cid, Database=DB, DbUser=USER, SessionKeepAliveSeconds=300,
        Sql="CREATE TEMP TABLE scratch AS SELECT 41 AS v",
    )
    session = first["SessionId"]
    assert wait_done(rsd, first["Id"])["Status"] == "FINISHED"
    listed = rsd.list_sessions()["Sessions"]
    assert [s["SessionId"] for s in listed] == [session]
    second = rsd.execute_statement(SessionId=session, Sql="SELECT v + 1 FROM scratch")
    assert wait_done(rsd, second["Id"])["Status"] == "FINISHED"
    assert rsd.get_statement_result(Id=second["Id"])["Records"] == [[{"longValue": 42}]]
    # Without the session the temporary table is not there.
    assert run(rsd, cid, "SELECT v FROM scratch")["Status"] == "FAILED"


def test_client_token_statement_name_and_listing(redshift, rsd):
    cid = "data-list"
    make_cluster(redshift, cid)
    a = rsd.execute_statement(ClusterIdentifier=cid, Database=DB, DbUser=USER, Sql="SELECT 1",
                              ClientToken="tok-1", StatementName="nightly-a")
    again = rsd.execute_statement(ClusterIdentifier=cid, Database=DB, DbUser=USER, Sql="SELECT 1",
                                  ClientToken="tok-1", StatementName="nightly-a")
    assert again["Id"] == a["Id"]
    b = rsd.execute_statement(ClusterIdentifier=cid, Database=DB, DbUser=USER, Sql="SELECT 2",
                              StatementName="other")
    wait_done(rsd, a["Id"])
    wait_done(rsd, b["Id"])
    listed = rsd.list_statements(StatementName="nightly")["Statements"]
    assert [s["Id"] for s in listed] == [a["Id"]]
    both = rsd.list_statements()["Statements"]
    assert [s["Id"] for s in both] == [b["Id"], a["Id"]]  # newest first
    first = rsd.list_statements(MaxResults=1)
    assert [s["Id"] for s in first["Statements"]] == [b["Id"]]
    rest = rsd.list_statements(MaxResults=1, NextToken=first["NextToken"])
    assert [s["Id"] for s in rest["Statements"]] == [a["Id"]] and "NextToken" not in rest


def test_statements_are_private_to_their_account(redshift, rsd, endpoint):
    cid = "data-private"
    make_cluster(redshift, cid)
    d = ok(rsd, cid, "SELECT 1")
    other = boto3.client(
        "redshift-data", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id="210987654321", aws_secret_access_key=SECRET_KEY,
    )
    with pytest.raises(ClientError) as e:
        other.describe_statement(Id=d["Id"])
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert other.list_statements()["Statements"] == []
    # Nor can it reach this account's cluster.
    with pytest.raises(ClientError) as e:
        other.execute_statement(ClusterIdentifier=cid, Database=DB, DbUser=USER, Sql="SELECT 1")
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_bad_requests_get_aws_errors_and_change_nothing(redshift, rsd):
    cid = "data-bad"
    make_cluster(redshift, cid)

    def code(call, **kw) -> str:
        with pytest.raises(ClientError) as e:
            call(**kw)
        return e.value.response["Error"]["Code"]

    base = {"ClusterIdentifier": cid, "Database": DB, "DbUser": USER}
    assert code(rsd.execute_statement, Sql="SELECT '" + "x" * 102_400 + "'", **base) == "ValidationException"
    assert code(rsd.execute_statement, Sql="SELECT :a", **base) == "ValidationException"
    assert code(rsd.execute_statement, Sql="SELECT 1", ClusterIdentifier="nope", Database=DB,
                DbUser=USER) == "ValidationException"
    assert code(rsd.describe_statement, Id="00000000-0000-0000-0000-000000000000") == "ResourceNotFoundException"
    assert rsd.list_statements()["Statements"] == []


def test_snapshot_restore_and_query_the_restored_cluster(redshift, rsd):
    ok_src = "data-src"
    make_cluster(redshift, ok_src)
    ok(rsd, ok_src, "CREATE TABLE kept (id INT, amount DECIMAL(10, 2))")
    ok(rsd, ok_src, "INSERT INTO kept SELECT k, k * 0.5 FROM generate_series(1, 1000) k")
    snapshot(redshift, ok_src, "data-snap")
    ok(rsd, ok_src, "DELETE FROM kept")
    restore(redshift, "data-snap", "data-dst")
    d = ok(rsd, "data-dst", "SELECT COUNT(*), SUM(amount) FROM kept")
    assert rsd.get_statement_result(Id=d["Id"])["Records"] == [[{"longValue": 1000}, {"stringValue": "250250.00"}]]
    d = ok(rsd, ok_src, "SELECT COUNT(*) FROM kept")
    assert rsd.get_statement_result(Id=d["Id"])["Records"] == [[{"longValue": 0}]]


def test_aws_cli_execute_describe_get_result(redshift, aws_cli):
    cid = "data-cli"
    make_cluster(redshift, cid)
    out = aws_cli("redshift-data", "execute-statement", "--cluster-identifier", cid, "--database", DB,
                  "--db-user", USER, "--sql", "SELECT 7 AS seven, 'x'::varchar AS ex")
    assert out.returncode == 0, out.stderr
    sid = json.loads(out.stdout)["Id"]
    deadline = time.monotonic() + 60
    while True:
        desc = aws_cli("redshift-data", "describe-statement", "--id", sid)
        assert desc.returncode == 0, desc.stderr
        status = json.loads(desc.stdout)["Status"]
        if status == "FINISHED" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == "FINISHED"
    res = aws_cli("redshift-data", "get-statement-result", "--id", sid)
    assert res.returncode == 0, res.stderr
    body = json.loads(res.stdout)
    assert body["Records"] == [[{"longValue": 7}, {"stringValue": "x"}]]
    assert [m["name"] for m in body["ColumnMetadata"]] == ["seven", "ex"]
