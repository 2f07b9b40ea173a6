"""Framework-level rejections that happen before any operation runs."""

import requests
from tm_helpers import DDB_CONTENT_TYPE, HTTP_TIMEOUT, ddb_post


def test_non_json_body_is_serialization_exception(endpoint):
    """A signed DynamoDB request whose body is not JSON → 400 with `__type` ending in
    `SerializationException` (aws-behaviour.md §1.2: empty or non-JSON body)."""
    resp = ddb_post(endpoint, "ListTables", b"{not json")
    assert resp.status_code == 400
    assert resp.json()["__type"].endswith("#SerializationException")


def test_bad_base64_blob_is_serialization_exception(endpoint):
    """A `B` value that is not base64 → 400 SerializationException with the JSON layer's
    message, before the table is even looked up."""
    body = b'{"TableName": "nope", "Key": {"k": {"B": "AB!C"}}}'
    resp = ddb_post(endpoint, "GetItem", body)
    assert resp.status_code == 400
    out = resp.json()
    assert out["__type"].endswith("#SerializationException")
    # The coral layer writes this error's text as `Message` (botocore reads either case).
    assert out["Message"] == "'AB!C' can not be converted to a Blob: Invalid Base64 character: '!'"


def test_unsigned_request_is_missing_authentication_token(endpoint):
    """A DynamoDB request with no Authorization header at all → 400
    `MissingAuthenticationTokenException` (aws-behaviour.md §1.1 SigV4 failure codes)."""
    resp = requests.post(
        endpoint + "/",
        data=b"{}",
        headers={
            "Content-Type": DDB_CONTENT_TYPE,
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
        },
        timeout=HTTP_TIMEOUT,
    )
    assert resp.status_code == 400
    assert resp.json()["__type"].endswith("#MissingAuthenticationTokenException")


def test_unsigned_helper_really_omits_authorization(endpoint):
    """Guards the test above: the raw helper without signing sends no Authorization, so the
    server answers the same framework error through either path."""
    resp = ddb_post(endpoint, "ListTables", b"{}", sign=False)
    assert "Authorization" not in resp.request.headers
    assert resp.status_code == 400
    assert resp.json()["__type"].endswith("#MissingAuthenticationTokenException")
