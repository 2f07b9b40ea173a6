"""DynamoDB ListTables on a fresh server: the first call every SDK and the CLI can make."""

import zlib

from tm_helpers import ddb_post


def test_boto3_list_tables_empty(ddb):
    """A fresh in-memory server has no tables: ListTables → `TableNames: []`
    (aws-behaviour.md §1.2: empty lists are still rendered; §4.3 data-plane subset)."""
    resp = ddb.list_tables()
    assert resp["TableNames"] == []
    assert "LastEvaluatedTableName" not in resp
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_cli_list_tables_exact_output(aws_cli):
    """aws CLI v1 prints the JSON document with 4-space indentation and exits 0
    (aws-cli-v1-transcripts.txt format; aws-behaviour.md §1.2 response shape)."""
    result = aws_cli("dynamodb", "list-tables")
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{\n    "TableNames": []\n}\n'


def test_raw_response_headers(endpoint):
    """Success responses carry x-amzn-RequestId, the awsJson1_0 content type, and an
    x-amz-crc32 that is either absent or the CRC-32 of the exact body: a wrong value
    makes botocore retry every call (aws-behaviour.md §1.1 request id, §1.2 Response)."""
    resp = ddb_post(endpoint, "ListTables", b"{}")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"TableNames": []}
    assert resp.headers.get("x-amzn-RequestId")
    assert resp.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    crc = resp.headers.get("x-amz-crc32")
    if crc is not None:
        assert int(crc) == zlib.crc32(resp.content)
