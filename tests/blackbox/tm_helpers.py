"""Helpers shared by the black-box tests: raw SigV4-signed HTTP, clock parsing, constants."""

from __future__ import annotations

import datetime as dt

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDTIDEMARKTEST0001"
SECRET_KEY = "tidemark-blackbox-secret-key-0000000000"
REGION = "us-east-1"
DDB_CONTENT_TYPE = "application/x-amz-json-1.0"
DDB_TARGET_PREFIX = "DynamoDB_20120810."
HTTP_TIMEOUT = 10


def signed_headers(
    endpoint: str, service: str, body: bytes, headers: dict[str, str]
) -> dict[str, str]:
    """SigV4-signs a POST to `endpoint`/ the way botocore would and returns all headers."""
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=dict(headers))
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, REGION).add_auth(req)
    return dict(req.headers.items())


def ddb_post(endpoint: str, operation: str, body: bytes, *, sign: bool = True) -> requests.Response:
    """Sends a raw awsJson1_0 DynamoDB request whose body is passed through untouched."""
    headers = {
        "Content-Type": DDB_CONTENT_TYPE,
        "X-Amz-Target": DDB_TARGET_PREFIX + operation,
    }
    if sign:
        headers = signed_headers(endpoint, "dynamodb", body, headers)
    return requests.post(endpoint + "/", data=body, headers=headers, timeout=HTTP_TIMEOUT)


def parse_rfc3339(text: str) -> dt.datetime:
    """Parses an RFC 3339 timestamp (Z or offset, any fraction) into an aware datetime."""
    parsed = dt.datetime.fromisoformat(text)
    assert parsed.tzinfo is not None, f"timestamp without offset: {text!r}"
    return parsed


def to_rfc3339(moment: dt.datetime) -> str:
    """Formats an aware datetime as RFC 3339 UTC with a Z suffix and no fraction."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def client_error(call) -> dict:
    """Runs `call`, which must raise botocore's ClientError; returns its `Error` dict."""
    import pytest
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]


def wait_until(predicate, what: str, timeout_s: float = 10.0):
    """Polls `predicate` every 50 ms until it returns something truthy, and returns it."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def expect(code: str, status: int, call, message: str | None = None, **kwargs) -> dict:
    """Runs `call(**kwargs)`, which must fail with `code` and HTTP `status` (and `message`,
    when given); returns the error."""
    import pytest
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        call(**kwargs)
    resp = info.value.response
    assert resp["Error"]["Code"] == code, resp
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == status, resp
    if message is not None:
        assert resp["Error"]["Message"] == message
    return resp["Error"]


def create_pk_sk_table(ddb, name: str) -> str:
    """Creates an on-demand table keyed pk (S) + sk (N) and waits until it is ACTIVE."""
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    wait_until(
        lambda: ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE",
        f"table {name} ACTIVE",
    )
    return name


def tidemark_binary():
    """The server binary under test: $TIDEMARK_BIN, else target/debug/tidemark."""
    import os
    from pathlib import Path

    import pytest

    path = Path(os.environ.get("TIDEMARK_BIN", "target/debug/tidemark"))
    if not path.is_absolute():
        path = Path(__file__).resolve().parents[2] / path
    if not path.is_file():
        pytest.fail(
            f"tidemark binary not found at {path}: run `cargo build -p tidemark` "
            "or set TIDEMARK_BIN",
            pytrace=False,
        )
    return path
