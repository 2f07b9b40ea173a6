"""The Data API's results are bounded (issue #15): rows stream to a file while the statement
runs, so AWS's limits stop a statement as it crosses them -- a row over 64 KB ("Packet for query
is too large"), a result over 500 MB ("Database response exceeded size limit") -- and the
statement is FAILED with AWS's message, keeps no rows, and the server's memory never held the
result. Statements and their results answer after a restart on the same data directory, as
AWS keeps them 24 hours; a statement running when the server died is FAILED. Reference:
../shared/reference/redshift-sql.md §5; AWS's "Troubleshooting issues for Amazon Redshift Data
API"."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from test_redshift_data_api import all_records, ok, rsd, run  # noqa: F401 (rsd is a fixture)
from test_redshift_sql_clients import make_cluster
from test_redshift_sql_durability import Server
from tm_helpers import ACCESS_KEY, REGION, SECRET_KEY, wait_until

ROW_TOO_LARGE = "Packet for query is too large: a row exceeds 64 KB"
RESULT_TOO_LARGE = "Database response exceeded size limit of 500 MB"


def server_status(endpoint: str) -> dict[str, int]:
    """VmRSS and VmHWM (KiB) of the tidemark process listening on the endpoint's port."""
    needle = f"127.0.0.1:{urlparse(endpoint).port}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            if needle in cmd and b"serve" in cmd:
                lines = (proc / "status").read_text().splitlines()
                return {
                    k: int(v.split()[0])
                    for k, v in (line.split(":", 1) for line in lines)
                    if k in ("VmRSS", "VmHWM")
                }
        except OSError:
            continue
    pytest.fail(f"no tidemark process serves {endpoint}")


def test_a_row_over_64_kb_fails_the_statement_with_awss_message(redshift, rsd):
    cid = "data-wide-row"
    make_cluster(redshift, cid)
    d = run(rsd, cid, "SELECT 1 AS a, repeat('x', 65536) AS wide")
    assert d["Status"] == "FAILED" and d["Error"] == ROW_TOO_LARGE
    assert d["HasResultSet"] is False
    with pytest.raises(ClientError) as e:
        rsd.get_statement_result(Id=d["Id"])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    # A 20 MB row is dropped on the socket before the driver would hold it, with the same
    # answer.
    d = run(rsd, cid, "SELECT repeat('x', 20000000) AS huge")
    assert d["Status"] == "FAILED" and d["Error"] == ROW_TOO_LARGE
    # 64 KB of text in a row is allowed.
    d = ok(rsd, cid, "SELECT repeat('y', 65536) AS wide")
    records, _, _ = all_records(rsd, d["Id"])
    assert records == [[{"stringValue": "y" * 65536}]]


def test_a_result_over_500_mb_fails_without_the_server_holding_it(redshift, rsd, endpoint):
    cid = "data-huge-result"
    make_cluster(redshift, cid)
    # 9,000 rows of 60,000 bytes: 540 MB of text, each row under the 64 KB limit.
    d = run(rsd, cid, "SELECT k, repeat('z', 60000) FROM generate_series(1, 9000) AS s(k)")
    assert d["Status"] == "FAILED" and d["Error"] == RESULT_TOO_LARGE, d.get("Error")
    assert d["HasResultSet"] is False
    # Collected in memory, the result alone would take the server past 500 MiB.
    hwm_mib = server_status(endpoint)["VmHWM"] // 1024
    assert hwm_mib < 300, f"the server's peak memory reached {hwm_mib} MiB"
    # Just under the limit is a result, paged back from disk.
    d = ok(rsd, cid, "SELECT k, repeat('z', 60000) AS v FROM generate_series(1, 200) AS s(k)")
    assert d["ResultRows"] == 200 and d["ResultSize"] == 200 * 60000 + sum(
        len(str(k)) for k in range(1, 201)
    )
    records, _, pages = all_records(rsd, d["Id"])
    assert pages > 1
    assert [r[0]["longValue"] for r in records] == list(range(1, 201))
    assert all(r[1]["stringValue"] == "z" * 60000 for r in records)


def test_statements_and_results_answer_after_a_restart(tmp_path):
    data, log = tmp_path / "data", tmp_path / "server.log"
    server = Server(data, log)

    def client(s: Server):
        return boto3.client(
            "redshift-data", endpoint_url=s.url, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"total_max_attempts": 1}),
        )

    try:
        server.cluster("keep")
        api = client(server)
        done = ok(api, "keep", "SELECT k, 'v' || k AS v FROM generate_series(1, 30000) AS s(k)")
        before, meta, pages = all_records(api, done["Id"])
        assert pages > 1 and len(before) == 30000
        slow = api.execute_statement(
            ClusterIdentifier="keep", Database="dev", DbUser="admin", Sql="SELECT pg_sleep(30)"
        )["Id"]
        wait_until(
            lambda: api.describe_statement(Id=slow)["Status"] == "STARTED", "statement started"
        )
        server.kill9()
        server = Server(data, log)
        api = client(server)
        d = api.describe_statement(Id=done["Id"])
        assert (d["Status"], d["ResultRows"], d["ResultSize"]) == (
            "FINISHED", 30000, done["ResultSize"],
        )
        after, meta_after, _ = all_records(api, done["Id"])
        assert after == before and meta_after == meta
        d = api.describe_statement(Id=slow)
        assert d["Status"] == "FAILED" and "tidemark stopped while it was running" in d["Error"]
        listed = {s["Id"]: s["Status"] for s in api.list_statements()["Statements"]}
        assert listed == {done["Id"]: "FINISHED", slow: "FAILED"}
        # A clean stop keeps them as well.
        server.stop()
        server = Server(data, log)
        api = client(server)
        again, _, _ = all_records(api, done["Id"])
        assert again == before
    finally:
        server.stop()
