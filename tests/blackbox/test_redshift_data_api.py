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
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from test_redshift_sql_clients import PASSWORD, USER, make_cluster, restore, snapshot
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


OTHER_ACCOUNT = "210987654321"


def other_account(endpoint: str):
    return boto3.client(
        "redshift-data", endpoint_url=endpoint, region_name=REGION,
        aws_access_key_id=OTHER_ACCOUNT, aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1}),
    )


def error_of(call, **kw) -> dict:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["Error"]


def catalog_fixture(rsd, cid: str) -> None:
    """Two schemas whose names differ in one character (so `_` in a pattern matters), a table,
    a view and a table whose name holds an underscore."""
    ok(rsd, cid, "CREATE SCHEMA sales")
    ok(rsd, cid, "CREATE SCHEMA salt")
    ok(rsd, cid, "CREATE TABLE sales.orders (id INT NOT NULL, amount DECIMAL(10, 2) DEFAULT 0, "
                              "note VARCHAR(20), placed TIMESTAMP)")
    ok(rsd, cid, "CREATE VIEW sales.big_orders AS SELECT * FROM sales.orders WHERE amount > 100")
    ok(rsd, cid, "CREATE TABLE sales.order_lines (order_id INT, qty SMALLINT)")
    ok(rsd, cid, "CREATE TABLE salt.grains (n BIGINT)")


def test_catalog_listings_read_the_real_catalog(redshift, rsd):
    """ListDatabases/ListSchemas/ListTables/DescribeTable answer from the cluster's catalog
    with `%`/`_` LIKE patterns and Redshift's table types (redshift-sql.md §5)."""
    cid = "data-catalog"
    make_cluster(redshift, cid)
    catalog_fixture(rsd, cid)
    ok(rsd, cid, "CREATE DATABASE analytics")
    base = {"ClusterIdentifier": cid, "DbUser": USER, "Database": DB}
    # tidemark's own maintenance database is not the cluster's.
    assert rsd.list_databases(**base)["Databases"] == ["analytics", "dev"]

    assert rsd.list_schemas(SchemaPattern="sal%", **base)["Schemas"] == ["sales", "salt"]
    assert rsd.list_schemas(SchemaPattern="sal_s", **base)["Schemas"] == ["sales"]
    every = rsd.list_schemas(**base)["Schemas"]
    assert {"public", "pg_catalog", "information_schema", "sales", "salt"} <= set(every)
    assert not [s for s in every if s.startswith(("pg_toast", "pg_temp_"))]
    # A schema created in another database is not in this one's catalog.
    assert rsd.list_schemas(ClusterIdentifier=cid, DbUser=USER, Database="analytics",
                            SchemaPattern="sal%")["Schemas"] == []

    tables = rsd.list_tables(SchemaPattern="sales", **base)["Tables"]
    assert tables == [
        {"name": "big_orders", "schema": "sales", "type": "VIEW"},
        {"name": "order_lines", "schema": "sales", "type": "TABLE"},
        {"name": "orders", "schema": "sales", "type": "TABLE"},
    ]
    assert rsd.list_tables(TablePattern="order_", **base)["Tables"] == [
        {"name": "orders", "schema": "sales", "type": "TABLE"}]
    assert [t["name"] for t in rsd.list_tables(SchemaPattern="sal%", TablePattern="%order%", **base)["Tables"]] == [
        "big_orders", "order_lines", "orders"]
    system = rsd.list_tables(SchemaPattern="information_schema", TablePattern="sql_features", **base)["Tables"]
    assert system == [{"name": "sql_features", "schema": "information_schema", "type": "SYSTEM TABLE"}]
    views = rsd.list_tables(SchemaPattern="information_schema", TablePattern="tables", **base)["Tables"]
    assert views == [{"name": "tables", "schema": "information_schema", "type": "SYSTEM VIEW"}]

    cols = rsd.describe_table(Schema="sales", Table="orders", **base)
    assert cols["TableName"] == "orders" and "NextToken" not in cols
    meta = {c["name"]: c for c in cols["ColumnList"]}
    assert [c["name"] for c in cols["ColumnList"]] == ["id", "amount", "note", "placed"]
    assert [c["typeName"] for c in cols["ColumnList"]] == ["int4", "numeric", "varchar", "timestamp"]
    assert meta["id"]["nullable"] == 0 and meta["note"]["nullable"] == 1
    assert (meta["amount"]["precision"], meta["amount"]["scale"]) == (10, 2)
    assert meta["amount"]["columnDefault"] == "0"
    assert meta["note"]["length"] == 20 and meta["note"]["isCaseSensitive"] is True
    assert meta["id"]["isSigned"] is True
    assert {(c["schemaName"], c["tableName"]) for c in cols["ColumnList"]} == {("sales", "orders")}
    # The same metadata a query of the table reports.
    d = ok(rsd, cid, "SELECT * FROM sales.orders")
    from_query = rsd.get_statement_result(Id=d["Id"])["ColumnMetadata"]
    assert [{k: c[k] for k in ("name", "typeName", "precision", "scale", "nullable", "length")}
            for c in from_query] == [
        {k: c[k] for k in ("name", "typeName", "precision", "scale", "nullable", "length")}
        for c in cols["ColumnList"]]
    # A view's columns; an unknown table has none.
    assert [c["name"] for c in rsd.describe_table(Schema="sales", Table="big_orders", **base)["ColumnList"]] == [
        "id", "amount", "note", "placed"]
    assert rsd.describe_table(Schema="sales", Table="nope", **base)["ColumnList"] == []
    # Without Schema, the table of that name in every schema.
    assert [c["tableName"] for c in rsd.describe_table(Table="grains", **base)["ColumnList"]] == ["grains"]


def test_catalog_paging_follows_next_token_and_refuses_bad_ones(redshift, rsd):
    """MaxResults pages (0-1000) with NextToken until it is absent; boto3's paginators work;
    a forged token or out-of-range MaxResults is a ValidationException."""
    cid = "data-catalog-pages"
    make_cluster(redshift, cid)
    ok(rsd, cid, "CREATE SCHEMA paged")
    for k in range(7):
        ok(rsd, cid, f"CREATE TABLE paged.t{k} (a INT, b INT, c INT)")
    base = {"ClusterIdentifier": cid, "DbUser": USER, "Database": DB}
    names, token, pages = [], None, 0
    while True:
        page = rsd.list_tables(SchemaPattern="paged", MaxResults=3, **base, **({"NextToken": token} if token else {}))
        assert len(page["Tables"]) <= 3
        names += [t["name"] for t in page["Tables"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"t{k}" for k in range(7)] and pages == 3
    paginated = [t["name"] for p in rsd.get_paginator("list_tables").paginate(
        SchemaPattern="paged", PaginationConfig={"PageSize": 2}, **base) for t in p["Tables"]]
    assert paginated == names
    cols = [c["name"] for p in rsd.get_paginator("describe_table").paginate(
        Schema="paged", Table="t0", PaginationConfig={"PageSize": 1}, **base) for c in p["ColumnList"]]
    assert cols == ["a", "b", "c"]
    schemas = [s for p in rsd.get_paginator("list_schemas").paginate(
        PaginationConfig={"PageSize": 1}, **base) for s in p["Schemas"]]
    assert schemas == rsd.list_schemas(**base)["Schemas"]

    unchecked = boto3.client(
        "redshift-data", endpoint_url=rsd.meta.endpoint_url, region_name=REGION,
        config=Config(retries={"total_max_attempts": 1}, parameter_validation=False),
    )
    err = error_of(rsd.list_tables, NextToken="forged", **base)
    assert err["Code"] == "ValidationException"
    schema_token = rsd.list_schemas(MaxResults=1, **base)["NextToken"]
    assert error_of(rsd.list_tables, NextToken=schema_token, **base)["Code"] == "ValidationException"
    assert error_of(unchecked.list_tables, MaxResults=1001, **base)["Code"] == "ValidationException"
    assert error_of(unchecked.list_schemas, ClusterIdentifier=cid, DbUser=USER)["Code"] == "ValidationException"


def test_catalog_of_another_account_is_out_of_reach(redshift, rsd, endpoint):
    """A second account names the same cluster and sees nothing: AWS's answer for a cluster
    not in the caller's account."""
    cid = "data-catalog-private"
    make_cluster(redshift, cid)
    catalog_fixture(rsd, cid)
    other = other_account(endpoint)
    base = {"ClusterIdentifier": cid, "DbUser": USER, "Database": DB}
    for call in (other.list_databases, other.list_schemas, other.list_tables, other.describe_table):
        err = error_of(call, **base)
        assert (err["Code"], err["Message"]) == ("ValidationException",
                                                 "Redshift endpoint doesn't exist in this region.")


def register_secret(endpoint: str, name: str, value: dict | str, **extra) -> str:
    body = {"Name": name, "SecretString": value if isinstance(value, str) else json.dumps(value), **extra}
    resp = requests.post(endpoint + "/_tidemark/redshift-data/secrets", json=body, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()["ARN"]


def test_secret_arn_runs_as_the_secrets_user_after_checking_its_password(redshift, rsd, endpoint):
    """SecretArn (name or ARN) runs statements and catalog reads as the secret's user once
    its password matches the cluster's login; a wrong password fails the statement as
    PostgreSQL does; unknown or incomplete secrets are ValidationExceptions."""
    cid = "data-secret"
    make_cluster(redshift, cid)
    arn = register_secret(endpoint, "rs/admin", {"username": USER, "password": PASSWORD,
                                                 "engine": "redshift", "dbClusterIdentifier": cid})
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:rs/admin-")
    listed = requests.get(endpoint + "/_tidemark/redshift-data/secrets", timeout=10).json()
    assert listed == {"Secrets": [{"Name": "rs/admin", "ARN": arn}]}

    out = rsd.execute_statement(ClusterIdentifier=cid, Database=DB, SecretArn=arn,
                                Sql="SELECT current_user::varchar")
    assert out["SecretArn"] == arn and "DbUser" not in out
    d = wait_done(rsd, out["Id"])
    assert d["Status"] == "FINISHED", d.get("Error")
    assert rsd.get_statement_result(Id=d["Id"])["Records"] == [[{"stringValue": USER}]]
    # By name too, and for the catalog reads.
    ok_by_name = wait_done(rsd, rsd.execute_statement(ClusterIdentifier=cid, Database=DB, SecretArn="rs/admin",
                                                      Sql="CREATE TABLE via_secret (a INT)")["Id"])
    assert ok_by_name["Status"] == "FINISHED", ok_by_name.get("Error")
    assert rsd.list_tables(ClusterIdentifier=cid, Database=DB, SecretArn=arn, TablePattern="via_secret")[
        "Tables"] == [{"name": "via_secret", "schema": "public", "type": "TABLE"}]

    wrong = register_secret(endpoint, "rs/wrong", {"username": USER, "password": "not-it"})
    d = wait_done(rsd, rsd.execute_statement(ClusterIdentifier=cid, Database=DB, SecretArn=wrong,
                                             Sql="DROP TABLE via_secret")["Id"])
    assert d["Status"] == "FAILED"
    assert d["Error"] == f'FATAL: password authentication failed for user "{USER}"'
    assert rsd.list_tables(ClusterIdentifier=cid, Database=DB, DbUser=USER, TablePattern="via_secret")["Tables"]
    err = error_of(rsd.list_databases, ClusterIdentifier=cid, Database=DB, SecretArn=wrong)
    assert err["Code"] == "DatabaseConnectionException" and "password authentication failed" in err["Message"]

    err = error_of(rsd.execute_statement, ClusterIdentifier=cid, Database=DB, Sql="SELECT 1",
                   SecretArn="arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf")
    assert err["Code"] == "ValidationException"
    no_password = register_secret(endpoint, "rs/half", {"username": USER})
    err = error_of(rsd.execute_statement, ClusterIdentifier=cid, Database=DB, Sql="SELECT 1", SecretArn=no_password)
    assert (err["Code"], err["Message"]) == ("ValidationException", "username and password in secret cannot be empty")
    elsewhere = register_secret(endpoint, "rs/other-cluster", {"username": USER, "password": PASSWORD,
                                                               "dbClusterIdentifier": "another"})
    err = error_of(rsd.execute_statement, ClusterIdentifier=cid, Database=DB, Sql="SELECT 1", SecretArn=elsewhere)
    assert err["Code"] == "ValidationException"
    err = error_of(rsd.execute_statement, ClusterIdentifier=cid, Database=DB, Sql="SELECT 1",
                   SecretArn=arn, DbUser=USER)
    assert err["Code"] == "ValidationException"
    # Another account cannot use this account's secret, even by its full ARN.
    err = error_of(other_account(endpoint).execute_statement, ClusterIdentifier=cid, Database=DB,
                   Sql="SELECT 1", SecretArn=arn)
    assert err["Code"] == "ValidationException"

    resp = requests.delete(endpoint + "/_tidemark/redshift-data/secrets", params={"secret": arn}, timeout=10)
    assert resp.status_code == 200 and resp.json() == {"Deleted": arn}
    err = error_of(rsd.execute_statement, ClusterIdentifier=cid, Database=DB, Sql="SELECT 1", SecretArn=arn)
    assert err["Code"] == "ValidationException"
    bad = requests.post(endpoint + "/_tidemark/redshift-data/secrets", json={"Name": "has space",
                                                                           "SecretString": "{}"}, timeout=10)
    assert bad.status_code == 400


def test_workgroup_names_a_serverless_workgroup_that_does_not_exist(redshift, rsd):
    """tidemark serves no Redshift Serverless: every workgroup is one that does not exist, and
    the answer is AWS's for that, on every operation that takes WorkgroupName."""
    for call, extra in ((rsd.execute_statement, {"Sql": "SELECT 1"}),
                        (rsd.batch_execute_statement, {"Sqls": ["SELECT 1"]}),
                        (rsd.list_databases, {}), (rsd.list_schemas, {}), (rsd.list_tables, {}),
                        (rsd.describe_table, {"Table": "t"})):
        err = error_of(call, WorkgroupName="wg-nope", Database=DB, **extra)
        assert (err["Code"], err["Message"]) == ("ValidationException",
                                                 "Redshift endpoint doesn't exist in this region.")
    assert rsd.list_statements()["Statements"] == []


def test_aws_cli_catalog_and_secret_arn(redshift, aws_cli, endpoint, rsd):
    """The aws CLI v1's list-databases, list-schemas, list-tables and describe-table, with
    --secret-arn, print what the API answers."""
    cid = "data-cli-catalog"
    make_cluster(redshift, cid)
    catalog_fixture(rsd, cid)
    arn = register_secret(endpoint, "cli/admin", {"username": USER, "password": PASSWORD})
    auth = ["--cluster-identifier", cid, "--database", DB, "--secret-arn", arn]

    def cli(*args: str) -> dict:
        out = aws_cli("redshift-data", *args, *auth)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    assert cli("list-databases")["Databases"] == ["dev"]
    assert cli("list-schemas", "--schema-pattern", "sal_s")["Schemas"] == ["sales"]
    assert [t["name"] for t in cli("list-tables", "--schema-pattern", "sales", "--table-pattern", "order%")[
        "Tables"]] == ["order_lines", "orders"]
    cols = cli("describe-table", "--schema", "sales", "--table", "order_lines")
    assert cols["TableName"] == "order_lines"
    assert [(c["name"], c["typeName"]) for c in cols["ColumnList"]] == [("order_id", "int4"), ("qty", "int2")]
    # The CLI follows NextToken itself: a page size of 1 still lists every schema.
    paged = aws_cli("redshift-data", "list-tables", "--schema-pattern", "sales", "--page-size", "1", *auth)
    assert paged.returncode == 0, paged.stderr
    assert [t["name"] for t in json.loads(paged.stdout)["Tables"]] == ["big_orders", "order_lines", "orders"]
