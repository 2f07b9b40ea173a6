"""DynamoDB TransactWriteItems and TransactGetItems through boto3: atomicity and cancellation."""

import time

import pytest
from botocore.exceptions import ClientError

TABLE = "txn"


def _error(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response


@pytest.fixture
def table(ddb) -> str:
    ddb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for _ in range(100):
        if ddb.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE":
            ddb.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
            ddb.put_item(TableName=TABLE, Item={"pk": {"S": "gone"}})
            return TABLE
        time.sleep(0.02)
    raise AssertionError("table never became ACTIVE")


def test_transact_write_all_kinds_then_get(ddb, table):
    """TransactWriteItems applies ConditionCheck, Put, Update and Delete together and
    TransactGetItems reads the results in request order (§4.3 transactions)."""
    ddb.transact_write_items(
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": {"S": "a"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}, "n": {"N": "2"}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "c"}},
                    "UpdateExpression": "SET n = :v",
                    "ExpressionAttributeValues": {":v": {"N": "3"}},
                }
            },
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "gone"}}}},
        ]
    )
    got = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": {"pk": {"S": k}}}} for k in ("c", "b", "gone")
        ]
    )["Responses"]
    assert got[0]["Item"] == {"pk": {"S": "c"}, "n": {"N": "3"}}
    assert got[1]["Item"] == {"pk": {"S": "b"}, "n": {"N": "2"}}
    assert got[2] == {}


def test_transaction_canceled_reasons_and_item(ddb, table):
    """A failed condition cancels the whole transaction: TransactionCanceledException whose
    message lists each reason code in order and whose CancellationReasons carry the old Item
    when ReturnValuesOnConditionCheckFailure=ALL_OLD; nothing is written (§4.3)."""
    resp = _error(
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "a"}},
                        "UpdateExpression": "SET n = :v",
                        "ConditionExpression": "n = :v",
                        "ExpressionAttributeValues": {":v": {"N": "9"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    )
    assert resp["Error"]["Code"] == "TransactionCanceledException"
    assert resp["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, ConditionalCheckFailed]"
    )
    reasons = resp["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ConditionalCheckFailed"
    assert reasons[1]["Message"] == "The conditional request failed"
    assert reasons[1]["Item"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "new"}})


def test_transact_write_missing_table(ddb):
    """A transaction naming a missing table → ResourceNotFoundException `Requested resource
    not found` (Appendix A)."""
    resp = _error(
        lambda: ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "nope", "Item": {"pk": {"S": "a"}}}}]
        )
    )
    assert resp["Error"]["Code"] == "ResourceNotFoundException"
    assert resp["Error"]["Message"] == "Requested resource not found"


def test_transact_get_missing_table(ddb):
    """TransactGetItems naming a missing table → ResourceNotFoundException (Appendix A)."""
    resp = _error(
        lambda: ddb.transact_get_items(
            TransactItems=[{"Get": {"TableName": "nope", "Key": {"pk": {"S": "a"}}}}]
        )
    )
    assert resp["Error"]["Code"] == "ResourceNotFoundException"
    assert resp["Error"]["Message"] == "Requested resource not found"


def test_transact_write_same_item_twice(ddb, table):
    """Two actions on one item → ValidationException `Transaction request cannot include
    multiple operations on one item`."""
    resp = _error(
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}}}},
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "a"}}}},
            ]
        )
    )
    assert resp["Error"]["Code"] == "ValidationException"
    assert resp["Error"]["Message"] == (
        "Transaction request cannot include multiple operations on one item"
    )


def test_transact_write_more_than_100(ddb, table):
    """More than 100 actions is a ValidationException naming the 100 limit (§4.3 ≤100).
    Real DynamoDB uses the full Coral form (`1 validation error detected: Value '[...]' at
    'transactItems' failed to satisfy constraint: ...`); only the rule text is pinned."""
    items = [{"Put": {"TableName": table, "Item": {"pk": {"S": f"k{i}"}}}} for i in range(101)]
    resp = _error(lambda: ddb.transact_write_items(TransactItems=items))
    assert resp["Error"]["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 100" in resp["Error"]["Message"]


def test_transact_item_missing_key(ddb, table):
    """An item without its key inside a transaction is rejected up front with the plain
    ValidationException `... Missing the key pk in the item` (not a cancellation)."""
    resp = _error(
        lambda: ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": {"x": {"S": "a"}}}}]
        )
    )
    assert resp["Error"]["Code"] == "ValidationException"
    assert resp["Error"]["Message"] == (
        "One or more parameter values were invalid: Missing the key pk in the item"
    )


def test_transact_get_key_schema_mismatch(ddb, table):
    """A Get whose key does not fit the schema → `The provided key element does not match
    the schema`."""
    resp = _error(
        lambda: ddb.transact_get_items(
            TransactItems=[{"Get": {"TableName": table, "Key": {"x": {"S": "a"}}}}]
        )
    )
    assert resp["Error"]["Code"] == "ValidationException"
    assert resp["Error"]["Message"] == "The provided key element does not match the schema"
