"""DynamoDB BatchWriteItem and BatchGetItem through boto3: multi-table batches and their limits."""

import time

import pytest
from tm_helpers import client_error




@pytest.fixture
def tables(ddb) -> tuple[str, str]:
    for name in ("batch1", "batch2"):
        ddb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    for name in ("batch1", "batch2"):
        for _ in range(100):
            if ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE":
                break
            time.sleep(0.02)
    return ("batch1", "batch2")


def _puts(n: int, prefix: str = "k") -> list[dict]:
    return [
        {"PutRequest": {"Item": {"pk": {"S": f"{prefix}{i}"}, "v": {"N": str(i)}}}}
        for i in range(n)
    ]


def test_batch_write_then_batch_get(ddb, tables):
    """BatchWriteItem puts and deletes across two tables with empty UnprocessedItems;
    BatchGetItem returns the surviving items per table with ProjectionExpression and empty
    UnprocessedKeys (§4.3 batch)."""
    resp = ddb.batch_write_item(
        RequestItems={
            "batch1": _puts(5),
            "batch2": _puts(2) + [{"DeleteRequest": {"Key": {"pk": {"S": "absent"}}}}],
        }
    )
    assert resp["UnprocessedItems"] == {}
    ddb.batch_write_item(RequestItems={"batch1": [{"DeleteRequest": {"Key": {"pk": {"S": "k0"}}}}]})
    got = ddb.batch_get_item(
        RequestItems={
            "batch1": {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(3)], "ProjectionExpression": "v"},
            "batch2": {"Keys": [{"pk": {"S": "k1"}}], "ConsistentRead": True},
        }
    )
    assert got["UnprocessedKeys"] == {}
    assert sorted(i["v"]["N"] for i in got["Responses"]["batch1"]) == ["1", "2"]
    assert all(set(i) == {"v"} for i in got["Responses"]["batch1"])
    assert got["Responses"]["batch2"] == [{"pk": {"S": "k1"}, "v": {"N": "1"}}]


def test_batch_write_missing_table(ddb):
    """A batch naming a missing table → ResourceNotFoundException `Requested resource not
    found` (Appendix A)."""
    err = client_error(lambda: ddb.batch_write_item(RequestItems={"nope": _puts(1)}))
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found"


def test_batch_get_missing_table(ddb):
    """BatchGetItem naming a missing table → ResourceNotFoundException (Appendix A)."""
    err = client_error(
        lambda: ddb.batch_get_item(RequestItems={"nope": {"Keys": [{"pk": {"S": "a"}}]}})
    )
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found"


def test_batch_write_more_than_25_across_tables(ddb, tables):
    """Over 25 requests in total (each table within 25) → `Too many items requested for the
    BatchWriteItem call` (§4.3 BatchWriteItem ≤25 requests)."""
    err = client_error(lambda: ddb.batch_write_item(RequestItems={"batch1": _puts(13), "batch2": _puts(13)}))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "Too many items requested for the BatchWriteItem call"


def test_batch_write_more_than_25_in_one_table(ddb, tables):
    """26 requests for one table is rejected as a ValidationException (§4.3 ≤25). Real
    DynamoDB words this as the Coral map-value constraint (`... at 'requestItems' failed to
    satisfy constraint: Map value must satisfy constraint: [Member must have length less than
    or equal to 25, ...]`, with Java object names in the value), so only the code and the
    rule are pinned."""
    err = client_error(lambda: ddb.batch_write_item(RequestItems={"batch1": _puts(26)}))
    assert err["Code"] == "ValidationException"


def test_batch_get_more_than_100_keys_across_tables(ddb, tables):
    """Over 100 keys in total (each table within 100) → `Too many items requested for the
    BatchGetItem call` (§4.3 BatchGetItem ≤100 keys)."""
    keys = [{"pk": {"S": f"k{i}"}} for i in range(51)]
    err = client_error(
        lambda: ddb.batch_get_item(
            RequestItems={"batch1": {"Keys": keys}, "batch2": {"Keys": keys[:50]}}
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "Too many items requested for the BatchGetItem call"


def test_batch_get_more_than_100_keys_one_table(ddb, tables):
    """101 keys for one table break the model's Keys max of 100: Coral message at
    `requestItems.batch1.member.keys` (§1.2 Validation message format)."""
    keys = [{"pk": {"S": f"k{i}"}} for i in range(101)]
    err = client_error(lambda: ddb.batch_get_item(RequestItems={"batch1": {"Keys": keys}}))
    assert err["Code"] == "ValidationException"
    assert err["Message"].startswith("1 validation error detected: Value '[{pk=AttributeValue(")
    assert err["Message"].endswith("Member must have length less than or equal to 100")


def test_batch_write_duplicate_keys(ddb, tables):
    """Two requests for one key in a batch → `Provided list of item keys contains
    duplicates` (DynamoDB BatchWriteItem rule)."""
    err = client_error(lambda: ddb.batch_write_item(RequestItems={"batch1": _puts(1) + _puts(1)}))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "Provided list of item keys contains duplicates"


def test_batch_write_key_schema_mismatch(ddb, tables):
    """A DeleteRequest key with the wrong attributes → `The provided key element does not
    match the schema`, and nothing in the batch is applied."""
    err = client_error(
        lambda: ddb.batch_write_item(
            RequestItems={"batch1": _puts(1) + [{"DeleteRequest": {"Key": {"x": {"S": "a"}}}}]}
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "The provided key element does not match the schema"
    assert "Item" not in ddb.get_item(TableName="batch1", Key={"pk": {"S": "k0"}})
