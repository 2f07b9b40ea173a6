"""Redshift clusters hold real data (issue #14): each real client connects to a cluster's
Endpoint, creates and loads a table with Redshift DDL, the cluster is snapshotted, the data
changes, the snapshot is restored to a new cluster, and rows and sums are checked exactly."""

from __future__ import annotations

import decimal
import subprocess
import threading
import time
from collections.abc import Callable

import pytest
from tm_helpers import wait_until

PASSWORD = "Passw0rd1"
USER = "admin"

DDL = """
CREATE TABLE sales (
    id INTEGER IDENTITY(1, 1),
    region VARCHAR(32) NOT NULL ENCODE zstd,
    amount DECIMAL(12, 2) ENCODE az64,
    sold DATE
)
DISTSTYLE KEY DISTKEY (region)
COMPOUND SORTKEY (sold)
"""
ROWS = [("north", "10.50", "2026-01-01"), ("south", "20.25", "2026-01-02"), ("east", "0.01", "2026-01-03")]


def make_cluster(redshift, cid: str, **extra) -> dict:
    redshift.create_cluster(
        ClusterIdentifier=cid, NodeType="dc2.large", ClusterType="single-node",
        MasterUsername=USER, MasterUserPassword=PASSWORD, **extra,
    )
    return wait_available(redshift, cid)


def wait_available(redshift, cid: str) -> dict:
    return wait_until(
        lambda: (c := redshift.describe_clusters(ClusterIdentifier=cid)["Clusters"][0])
        and c["ClusterStatus"] == "available" and c,
        f"cluster {cid} available",
        timeout_s=120,
    )


def snapshot(redshift, cid: str, sid: str) -> dict:
    redshift.create_cluster_snapshot(ClusterIdentifier=cid, SnapshotIdentifier=sid)
    return wait_until(
        lambda: (s := redshift.describe_cluster_snapshots(SnapshotIdentifier=sid)["Snapshots"][0])
        and s["Status"] == "available" and s,
        f"snapshot {sid} available",
        timeout_s=120,
    )


def restore(redshift, sid: str, cid: str) -> dict:
    redshift.restore_from_cluster_snapshot(ClusterIdentifier=cid, SnapshotIdentifier=sid)
    c = wait_available(redshift, cid)
    assert c["RestoreStatus"]["Status"] == "completed"
    return c


# Each client: connect(endpoint) -> connection with .cursor(), .commit(), .close() (DB-API).
def _psycopg2(ep):
    import psycopg2

    return psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")


def _psycopg3(ep):
    import psycopg

    return psycopg.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")


def _pg8000(ep):
    import pg8000.dbapi

    return pg8000.dbapi.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, database="dev")


def _redshift_connector(ep):
    import redshift_connector

    return redshift_connector.connect(
        host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, database="dev", ssl=False
    )


CLIENTS: dict[str, Callable] = {
    "psycopg2": _psycopg2,
    "psycopg3": _psycopg3,
    "pg8000": _pg8000,
    "redshift_connector": _redshift_connector,
}


def totals(conn) -> tuple[int, decimal.Decimal]:
    cur = conn.cursor()
    cur.execute("SELECT COUNT(*), SUM(amount) FROM sales")
    count, total = cur.fetchone()
    conn.commit()
    return int(count), decimal.Decimal(total)


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_load_snapshot_change_restore_with_each_client(redshift, client):
    connect = CLIENTS[client]
    cid = f"src-{client.replace('_', '-')}"
    src = make_cluster(redshift, cid)
    assert src["Endpoint"]["Port"] == 5439
    conn = connect(src["Endpoint"])
    cur = conn.cursor()
    cur.execute(DDL)
    for region, amount, sold in ROWS:
        cur.execute(
            "INSERT INTO sales (region, amount, sold) VALUES (%s, %s, %s)", (region, amount, sold)
        )
    conn.commit()
    assert totals(conn) == (3, decimal.Decimal("30.76"))

    snap = snapshot(redshift, cid, f"{cid}-snap")
    assert snap["TotalBackupSizeInMegaBytes"] > 0

    cur = conn.cursor()
    cur.execute("DELETE FROM sales WHERE region = 'north'")
    cur.execute("INSERT INTO sales (region, amount, sold) VALUES ('west', 100.00, '2026-02-01')")
    conn.commit()
    assert totals(conn) == (3, decimal.Decimal("120.26"))

    restored = restore(redshift, f"{cid}-snap", f"{cid}-restored")
    assert restored["Endpoint"] != src["Endpoint"]
    rconn = connect(restored["Endpoint"])
    assert totals(rconn) == (3, decimal.Decimal("30.76"))
    cur = rconn.cursor()
    cur.execute("SELECT id, region, amount FROM sales ORDER BY id")
    rows = [(int(i), r, decimal.Decimal(a)) for i, r, a in cur.fetchall()]
    assert rows == [
        (1, "north", decimal.Decimal("10.50")),
        (2, "south", decimal.Decimal("20.25")),
        (3, "east", decimal.Decimal("0.01")),
    ]
    # The identity column carries on from the snapshot's sequence.
    cur.execute("INSERT INTO sales (region, amount) VALUES ('new', 1)")
    cur.execute("SELECT MAX(id) FROM sales")
    assert int(cur.fetchone()[0]) == 4
    rconn.commit()
    rconn.close()
    conn.close()


def test_wrong_password_and_unknown_user_are_refused(redshift):
    import psycopg2

    ep = make_cluster(redshift, "authc")["Endpoint"]
    for user, password in ((USER, "wrong-Passw0rd"), ("nobody", PASSWORD)):
        with pytest.raises(psycopg2.OperationalError) as info:
            psycopg2.connect(host=ep["Address"], port=ep["Port"], user=user, password=password, dbname="dev")
        assert f'password authentication failed for user "{user}"' in str(info.value)
    # ModifyCluster changes the password the Endpoint takes.
    redshift.modify_cluster(ClusterIdentifier="authc", MasterUserPassword="NewPassw0rd1")
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")
    conn = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password="NewPassw0rd1", dbname="dev")
    assert conn.server_version == 80002
    assert conn.info.ssl_in_use  # libpq's default sslmode=prefer: the Endpoint offers TLS
    conn.close()
    plain = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password="NewPassw0rd1",
                             dbname="dev", sslmode="disable")
    assert not plain.info.ssl_in_use
    plain.close()


def test_psql_reports_redshift_and_round_trips_through_a_copied_snapshot(redshift, endpoint):
    """The seed's flow with psql: load, an automated snapshot, copy it, restore the copy."""
    import requests

    requests.post(f"{endpoint}/_tidemark/clock", json={"freeze": True}, timeout=10).raise_for_status()
    ep = make_cluster(redshift, "psqlc", DBName="sales")["Endpoint"]

    def psql(endpoint, sql: str) -> str:
        out = subprocess.run(
            ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", endpoint["Address"],
             "-p", str(endpoint["Port"]), "-U", USER, "-d", "sales", "-c", sql],
            env={"PGPASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    version = psql(ep, "SELECT version()")
    assert version.startswith("PostgreSQL 8.0.2 on i686-pc-linux-gnu") and "Redshift 1.0." in version
    psql(ep, "CREATE TABLE t (n BIGINT, label VARCHAR(MAX)) DISTSTYLE EVEN")
    psql(ep, "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 5000) g")
    # The next automated snapshot (8 hours on the virtual clock) holds the rows.
    requests.post(f"{endpoint}/_tidemark/clock", json={"advance_seconds": 8 * 3600 + 60},
                  timeout=120).raise_for_status()
    autos = wait_until(
        lambda: [s for s in redshift.describe_cluster_snapshots(
            ClusterIdentifier="psqlc", SnapshotType="automated")["Snapshots"]
            if s["Status"] == "available"],
        "automated snapshots", timeout_s=120,
    )
    latest = max(autos, key=lambda s: s["SnapshotCreateTime"])
    assert len(autos) == 2  # the first one, taken as the cluster became available, and this
    redshift.copy_cluster_snapshot(
        SourceSnapshotIdentifier=latest["SnapshotIdentifier"], TargetSnapshotIdentifier="psql-snap-copy"
    )
    psql(ep, "TRUNCATE t")
    restored = restore(redshift, "psql-snap-copy", "psqlr")
    assert psql(restored["Endpoint"], "SELECT COUNT(*), SUM(n) FROM t") == "5000|12502500"
    # Redshift's functions and views work in the restored database too.
    assert psql(restored["Endpoint"], "SELECT NVL(NULL, 'x'), LEN('abc')") == "x|3"
    assert psql(restored["Endpoint"], "SELECT \"column\", type FROM pg_table_def WHERE tablename = 't' ORDER BY 1") \
        == "label|character varying(65535)\nn|bigint"
    assert psql(ep, "SELECT COUNT(*) FROM t") == "0"


def test_sqlalchemy_redshift_introspects_tables_and_columns(redshift):
    import sqlalchemy as sa

    ep = make_cluster(redshift, "sqlac")["Endpoint"]
    engine = sa.create_engine(
        f"redshift+psycopg2://{USER}:{PASSWORD}@{ep['Address']}:{ep['Port']}/dev",
        # The dialect defaults to sslmode=verify-ca with Amazon's CA bundle, which cannot
        # verify a local certificate, and libpq verifies `require` too when a root file is
        # named: `prefer` takes the Endpoint's TLS without verifying it.
        connect_args={"sslmode": "prefer"},
    )
    with engine.begin() as conn:
        conn.execute(sa.text(DDL))
    inspector = sa.inspect(engine)
    assert "sales" in inspector.get_table_names(schema="public")
    columns = {c["name"]: c for c in inspector.get_columns("sales", schema="public")}
    assert set(columns) == {"id", "region", "amount", "sold"}
    assert columns["amount"]["type"].precision == 12
    assert columns["amount"]["type"].scale == 2
    assert columns["region"]["nullable"] is False
    engine.dispose()


def test_snapshot_holds_exactly_the_transactions_committed_before_the_request(redshift):
    """A writer commits numbered transactions while the snapshot is requested: everything
    committed before the request is in the restore, nothing that began committing after the
    request was answered is."""
    import psycopg2

    ep = make_cluster(redshift, "consist")["Endpoint"]
    setup = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")
    setup.cursor().execute("CREATE TABLE log (n INTEGER PRIMARY KEY)")
    setup.commit()
    commits: list[tuple[int, float, float]] = []  # (n, commit started, commit returned)
    stop = threading.Event()

    def writer() -> None:
        conn = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")
        cur = conn.cursor()
        n = 0
        while not stop.is_set():
            n += 1
            cur.execute("INSERT INTO log VALUES (%s)", (n,))
            started = time.monotonic()
            conn.commit()
            commits.append((n, started, time.monotonic()))
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    wait_until(lambda: len(commits) > 50, "writes under way")
    asked = time.monotonic()
    redshift.create_cluster_snapshot(ClusterIdentifier="consist", SnapshotIdentifier="mid")
    answered = time.monotonic()
    wait_until(lambda: len(commits) > 0 and commits[-1][1] > answered + 0.2, "writes after the request")
    stop.set()
    thread.join()
    wait_until(
        lambda: redshift.describe_cluster_snapshots(SnapshotIdentifier="mid")["Snapshots"][0]["Status"]
        == "available",
        "snapshot available",
        timeout_s=120,
    )
    rep = restore(redshift, "mid", "consistr")["Endpoint"]
    conn = psycopg2.connect(host=rep["Address"], port=rep["Port"], user=USER, password=PASSWORD, dbname="dev")
    cur = conn.cursor()
    cur.execute("SELECT n FROM log")
    held = {r[0] for r in cur.fetchall()}
    before = {n for n, _, returned in commits if returned < asked}
    after = {n for n, started, _ in commits if started > answered}
    assert before and after
    assert before <= held, sorted(before - held)[:10]
    assert not (after & held), sorted(after & held)[:10]
    conn.close()
    setup.close()


def test_get_cluster_credentials_gives_a_login_that_expires_on_the_virtual_clock(redshift, endpoint):
    import psycopg2
    import requests
    from tm_helpers import client_error

    ep = make_cluster(redshift, "tempc")["Endpoint"]
    master = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")
    master.autocommit = True
    master.cursor().execute("CREATE GROUP readers; CREATE TABLE t (n INT); GRANT SELECT ON t TO GROUP readers")
    master.cursor().execute("INSERT INTO t VALUES (7)")

    creds = redshift.get_cluster_credentials(
        ClusterIdentifier="tempc", DbUser="alice", AutoCreate=True, DbGroups=["readers"], DbName="dev"
    )
    assert creds["DbUser"] == "IAMA:alice"
    assert len(creds["DbPassword"]) >= 32
    conn = psycopg2.connect(
        host=ep["Address"], port=ep["Port"], user=creds["DbUser"], password=creds["DbPassword"], dbname="dev"
    )
    cur = conn.cursor()
    cur.execute("SELECT current_user, (SELECT n FROM t)")
    assert cur.fetchone() == ("alice", 7)  # a plain user, reading through its group
    conn.close()
    # Only the named database.
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=ep["Address"], port=ep["Port"], user=creds["DbUser"],
                         password=creds["DbPassword"], dbname="postgres")
    # Without AutoCreate the name is IAM:<user> and the user must exist.
    plain = redshift.get_cluster_credentials(ClusterIdentifier="tempc", DbUser="alice")
    assert plain["DbUser"] == "IAM:alice"
    psycopg2.connect(host=ep["Address"], port=ep["Port"], user=plain["DbUser"],
                     password=plain["DbPassword"], dbname="dev").close()
    ghost = redshift.get_cluster_credentials(ClusterIdentifier="tempc", DbUser="ghost")
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=ep["Address"], port=ep["Port"], user=ghost["DbUser"],
                         password=ghost["DbPassword"], dbname="dev")
    # Expired on the virtual clock: refused as a wrong password is.
    requests.post(f"{endpoint}/_tidemark/clock", json={"advance_seconds": 901}, timeout=30).raise_for_status()
    with pytest.raises(psycopg2.OperationalError) as info:
        psycopg2.connect(host=ep["Address"], port=ep["Port"], user=plain["DbUser"],
                         password=plain["DbPassword"], dbname="dev")
    assert 'password authentication failed for user "IAM:alice"' in str(info.value)

    err = client_error(lambda: redshift.get_cluster_credentials(ClusterIdentifier="nope", DbUser="alice"))
    assert err["Code"] == "ClusterNotFound"
    err = client_error(
        lambda: redshift.get_cluster_credentials(ClusterIdentifier="tempc", DbUser="alice", DurationSeconds=60)
    )
    assert err["Code"] == "InvalidParameterValue"

    iam = redshift.get_cluster_credentials_with_iam(ClusterIdentifier="tempc", DbName="dev")
    assert iam["DbUser"].startswith("IAM:")
    conn = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=iam["DbUser"],
                            password=iam["DbPassword"], dbname="dev")
    cur = conn.cursor()
    cur.execute("SELECT current_user")
    assert cur.fetchone()[0] == iam["DbUser"]
    conn.close()
    master.close()


def test_restore_table_from_cluster_snapshot_brings_one_table_back_under_a_new_name(redshift):
    import psycopg2
    from tm_helpers import client_error

    ep = make_cluster(redshift, "tablec")["Endpoint"]
    conn = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2)) DISTKEY(id)")
    cur.execute("INSERT INTO orders SELECT g, g * 1.25 FROM generate_series(1, 1000) g")
    snapshot(redshift, "tablec", "tablec-snap")
    cur.execute("DELETE FROM orders WHERE id > 10")

    def run(**extra) -> dict:
        req = redshift.restore_table_from_cluster_snapshot(
            ClusterIdentifier="tablec", SnapshotIdentifier="tablec-snap",
            SourceDatabaseName="dev", SourceTableName="orders", **extra,
        )["TableRestoreStatus"]
        assert req["Status"] == "PENDING"
        return wait_until(
            lambda: (s := redshift.describe_table_restore_status(
                ClusterIdentifier="tablec", TableRestoreRequestId=req["TableRestoreRequestId"]
            )["TableRestoreStatusDetails"][0])
            and s["Status"] in ("SUCCEEDED", "FAILED") and s,
            "table restore finished", timeout_s=120,
        )

    done = run(NewTableName="orders_before")
    assert done["Status"] == "SUCCEEDED", done
    assert done["NewTableName"] == "orders_before" and done["TargetSchemaName"] == "public"
    cur.execute("SELECT COUNT(*), SUM(total) FROM orders_before")
    assert cur.fetchone() == (1000, decimal.Decimal("625625.00"))
    # The restored table keeps the source's distribution key (kept beside the dump).
    cur.execute('SELECT "column", distkey FROM pg_table_def WHERE tablename = %s ORDER BY "column"', ("orders_before",))
    assert cur.fetchall() == [("id", True), ("total", False)]
    cur.execute("SELECT COUNT(*) FROM orders")
    assert cur.fetchone()[0] == 10

    again = run(NewTableName="orders_before")
    assert again["Status"] == "FAILED" and "exists" in again["Message"], again
    missing = run(NewTableName="x", SourceSchemaName="nope")
    assert missing["Status"] == "FAILED", missing
    listed = redshift.describe_table_restore_status(ClusterIdentifier="tablec")["TableRestoreStatusDetails"]
    assert len(listed) == 3

    make_cluster(redshift, "otherc")
    err = client_error(lambda: redshift.restore_table_from_cluster_snapshot(
        ClusterIdentifier="otherc", SnapshotIdentifier="tablec-snap",
        SourceDatabaseName="dev", SourceTableName="orders", NewTableName="o",
    ))
    assert err["Code"] == "InvalidTableRestoreArgument"
    err = client_error(lambda: redshift.restore_table_from_cluster_snapshot(
        ClusterIdentifier="tablec", SnapshotIdentifier="nope",
        SourceDatabaseName="dev", SourceTableName="orders", NewTableName="o",
    ))
    assert err["Code"] == "ClusterSnapshotNotFound"
    conn.close()


def test_stl_query_shows_recent_statements_of_every_session(redshift):
    """STL_QUERY lists the statements the Endpoint ran, finished ones included, numbered in
    order, from every session; it keeps the last 1,000."""
    import datetime as dt

    import psycopg2

    ep = make_cluster(redshift, "stlq")["Endpoint"]
    began = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    a = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")
    b = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")
    a.autocommit = b.autocommit = True
    ca, cb = a.cursor(), b.cursor()
    ca.execute("CREATE TABLE stlq_t (n INTEGER) DISTKEY(n)")
    for i in range(3):
        ca.execute("INSERT INTO stlq_t VALUES (%s)", (i,))
    cb.execute("SELECT COUNT(*) FROM stlq_t")
    assert cb.fetchone() == (3,)
    ca.execute("SELECT query, querytxt, starttime FROM stl_query WHERE querytxt LIKE '%%stlq_t%%' ORDER BY query")
    rows = ca.fetchall()
    ended = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    texts = [r[1].rstrip() for r in rows]
    # The CREATE TABLE is recorded as sent to PostgreSQL (after the DISTKEY rewrite).
    assert texts[0].startswith("CREATE TABLE stlq_t (n INTEGER)"), texts
    assert texts[1:] == [
        "INSERT INTO stlq_t VALUES (0)", "INSERT INTO stlq_t VALUES (1)", "INSERT INTO stlq_t VALUES (2)",
        "SELECT COUNT(*) FROM stlq_t",
    ]
    queries = [r[0] for r in rows]
    assert queries == sorted(queries) and len(set(queries)) == len(queries)
    assert all(began - dt.timedelta(seconds=1) <= r[2] <= ended for r in rows), (began, rows, ended)
    # Bounded: after 1,000 more statements the oldest are gone and the view holds 1,000.
    for i in range(1000):
        cb.execute(f"SELECT {i} AS filler")
    ca.execute("SELECT COUNT(*), SUM(CASE WHEN querytxt LIKE '%%stlq_t%%' THEN 1 ELSE 0 END), MAX(query) FROM stl_query")
    count, old, newest = ca.fetchone()
    assert (count, old) == (1000, 0)
    assert newest > queries[-1] + 1000
    a.close()
    b.close()


def test_distkey_sortkey_and_encodings_survive_snapshot_and_restore(redshift):
    """Redshift's table attributes are not PostgreSQL's (they live beside its catalog), yet a
    restored cluster shows them in PG_TABLE_DEF and SVV_TABLE_INFO as the source did, and
    attributes changed after the snapshot are not in its restore."""
    import psycopg2

    ep = make_cluster(redshift, "attrs")["Endpoint"]
    conn = psycopg2.connect(host=ep["Address"], port=ep["Port"], user=USER, password=PASSWORD, dbname="dev")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(DDL)
    cur.execute("CREATE SCHEMA mart")
    cur.execute("CREATE TABLE mart.events (at TIMESTAMP, kind VARCHAR(16) ENCODE bytedict, n BIGINT) "
                "DISTSTYLE ALL INTERLEAVED SORTKEY (at, kind)")
    cur.execute("CREATE TABLE plain (x INTEGER)")
    cur.execute("INSERT INTO sales (region, amount, sold) VALUES ('north', 1.50, '2026-01-01')")
    cur.execute("INSERT INTO mart.events VALUES ('2026-01-01 00:00:00', 'click', 1)")
    cur.execute("SET search_path TO public, mart")
    table_def = ('SELECT schemaname, tablename, "column", trim(encoding), distkey, sortkey FROM pg_table_def '
                 "WHERE tablename IN ('sales', 'events', 'plain') ORDER BY 1, 2, 3")
    info = 'SELECT schema, "table", diststyle, sortkey1, sortkey_num, encoded FROM svv_table_info ORDER BY 1, 2'
    cur.execute(table_def)
    before_def = cur.fetchall()
    cur.execute(info)
    before_info = cur.fetchall()
    assert ("public", "sales", "region", "zstd", True, 0) in before_def
    assert ("mart", "events", "at", "none", False, 1) in before_def
    assert ("mart", "events", "ALL", "INTERLEAVED", 2, "Y") in before_info, before_info
    snapshot(redshift, "attrs", "attrs-snap")
    # Changed after the snapshot: the restore has the attributes as of the snapshot.
    cur.execute("ALTER TABLE sales ALTER DISTSTYLE EVEN")
    cur.execute("ALTER TABLE plain ALTER DISTKEY x")
    conn.close()

    rep = restore(redshift, "attrs-snap", "attrsr")["Endpoint"]
    rconn = psycopg2.connect(host=rep["Address"], port=rep["Port"], user=USER, password=PASSWORD, dbname="dev")
    rcur = rconn.cursor()
    rcur.execute("SET search_path TO public, mart")
    rcur.execute(table_def)
    assert rcur.fetchall() == before_def
    rcur.execute(info)
    assert rcur.fetchall() == before_info
    # Users' own listings do not show where the attributes are kept.
    rcur.execute("SELECT COUNT(*) FROM svv_tables WHERE table_name LIKE '%%attr%%'")
    assert rcur.fetchone() == (0,)
    rcur.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                 "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")
    assert rcur.fetchall() == [("mart.events",), ("public.plain",), ("public.sales",)]
    rconn.close()


def test_psql_describes_tables_and_functions(redshift):
    """psql's `\\d table`, `\\d+ table` and `\\df`: psql 15 sends its oldest catalog queries to a
    server reporting 8.0.2, which read columns PostgreSQL 12 removed; they work."""
    ep = make_cluster(redshift, "psqld")["Endpoint"]

    def psql(*cmds: str) -> str:
        out = subprocess.run(
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", ep["Address"], "-p", str(ep["Port"]),
             "-U", USER, "-d", "dev", *[a for c in cmds for a in ("-c", c)]],
            env={"PGPASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    psql("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20) DEFAULT 'x' NOT NULL) DISTKEY(id)",
         "CREATE TABLE child (t_id INTEGER REFERENCES t (id))")
    described = psql("\\d t")
    assert 'Table "public.t"' in described
    assert "id     | integer               |           | not null |" in described, described
    assert "name   | character varying(20) |           | not null | 'x'::character varying" in described, described
    assert '"t_pkey" PRIMARY KEY, btree (id)' in described
    assert 'TABLE "child" CONSTRAINT "child_t_id_fkey" FOREIGN KEY (t_id) REFERENCES t(id)' in described
    assert "Has OIDs" not in psql("\\d+ t")
    functions = psql("\\df len")
    assert " len " in functions and "| func" in functions, functions
    assert "median" in psql("\\df median") and "| agg" in psql("\\df median")
