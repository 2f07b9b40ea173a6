"""`tidemark redshift-data <op>` against aws CLI v1 on tidemark's own server, with SQL run on
a real cluster (the seeded `c1`, a real PostgreSQL behind it): each client executes the same
statement; statement ids differ, so execute-statement and describe-statement are compared on
the fields that do not carry them, and get-statement-result (records, column metadata, row
count) is compared whole, in json, text and table output. Skipped when the tidemark server
binary is not built (as the `tidemark:` corpus lines are)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import boto3
import pytest

HERE = Path(__file__).resolve().parent
SQL = "SELECT 1 AS one, 'x' AS s, 2.5::float8 AS f, NULL::int AS n, true AS b UNION ALL SELECT 2, 'ü', -1, 7, false ORDER BY 1"
USER = "admin"


def _run(binary: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(binary), *args], capture_output=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def cluster(tidemark_endpoint) -> str:
    if tidemark_endpoint is None:
        pytest.skip("tidemark server binary not built")
    rs = boto3.client(
        "redshift", endpoint_url=tidemark_endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if rs.describe_clusters(ClusterIdentifier="c1")["Clusters"][0]["ClusterStatus"] == "available":
            return "c1"
        time.sleep(0.2)
    pytest.fail("cluster c1 never became available")


def _execute(who: str, binaries, cli_env, endpoint: str) -> tuple[str, subprocess.CompletedProcess[bytes]]:
    args = [
        "redshift-data", "execute-statement", "--cluster-identifier", "c1", "--database", "dev",
        "--db-user", USER, "--sql", SQL, "--endpoint-url", endpoint,
    ]
    r = _run(binaries[who], args, cli_env)
    assert r.returncode == 0, r.stderr.decode()
    sid = json.loads(r.stdout)["Id"]
    for _ in range(600):
        d = _run(binaries[who], ["redshift-data", "describe-statement", "--id", sid, "--endpoint-url", endpoint, "--query", "Status", "--output", "text"], cli_env)
        if d.stdout.strip() in (b"FINISHED", b"FAILED", b"ABORTED"):
            break
        time.sleep(0.1)
    return sid, r


def test_execute_describe_and_results_match_aws(cluster, binaries, cli_env, tidemark_endpoint) -> None:
    ids, executed = {}, {}
    for who in ("aws", "tidemark"):
        ids[who], executed[who] = _execute(who, binaries, cli_env, tidemark_endpoint)
    # Same shape of answer: every key but the id and the creation time is the same.
    a, t = (json.loads(executed[w].stdout) for w in ("aws", "tidemark"))
    assert list(a) == list(t)
    assert {k: v for k, v in a.items() if k not in ("Id", "CreatedAt")} == {
        k: v for k, v in t.items() if k not in ("Id", "CreatedAt")
    }

    cases = [
        ["describe-statement", "--query", "[Status, HasResultSet, ResultRows, QueryString, ClusterIdentifier, Database, DbUser]"],
        ["describe-statement", "--query", "{s: Status, rows: ResultRows}", "--output", "table"],
        ["describe-statement", "--output", "text", "--query", "[Status, ResultRows]"],
        ["get-statement-result"],
        ["get-statement-result", "--output", "text"],
        ["get-statement-result", "--output", "table"],
        ["get-statement-result", "--query", "Records[].[ [0].longValue, [1].stringValue ]"],
        ["get-statement-result", "--query", "ColumnMetadata[].name", "--output", "text"],
        ["get-statement-result-v2"],
    ]
    for case in cases:
        out = {}
        for who in ("aws", "tidemark"):
            out[who] = _run(binaries[who], ["redshift-data", case[0], "--id", ids[who], *case[1:], "--endpoint-url", tidemark_endpoint], cli_env)
        a, t = out["aws"], out["tidemark"]
        assert (t.stdout.decode(), t.returncode) == (a.stdout.decode(), a.returncode), case
        assert t.stderr.decode().strip().splitlines()[-1:] == a.stderr.decode().strip().splitlines()[-1:], case


def test_errors_and_lists_match_aws(cluster, binaries, cli_env, tidemark_endpoint) -> None:
    cases = [
        ["describe-statement", "--id", "00000000-0000-0000-0000-000000000000"],
        ["get-statement-result", "--id", "nope"],
        ["execute-statement", "--cluster-identifier", "c1", "--database", "dev"],
        ["execute-statement", "--sql", "select 1", "--database", "dev", "--cluster-identifier", "c1", "--workgroup-name", "w", "--db-user", USER],
        ["list-databases", "--cluster-identifier", "c1", "--database", "dev", "--db-user", USER],
        ["cancel-statement", "--id", "00000000-0000-0000-0000-000000000000"],
        ["describe-statement", "--generate-cli-skeleton"],
        ["list-statements", "--generate-cli-skeleton", "output", "--output", "table"],
        ["bogus-op"],
    ]
    for case in cases:
        out = {}
        for who in ("aws", "tidemark"):
            out[who] = _run(binaries[who], ["redshift-data", *case, "--endpoint-url", tidemark_endpoint], cli_env)
        a, t = out["aws"], out["tidemark"]
        assert (t.stdout.decode(), t.returncode) == (a.stdout.decode(), a.returncode), case
        assert t.stderr.decode().strip().splitlines()[-1:] == a.stderr.decode().strip().splitlines()[-1:], case
