"""DynamoDB single-item APIs through boto3: PutItem/GetItem/DeleteItem values, key checks, size."""

import pytest
from tm_helpers import client_error, create_pk_sk_table

TABLE = "items"




@pytest.fixture
def table(ddb) -> str:
    return create_pk_sk_table(ddb, TABLE)


EVERY_TYPE = {
    "pk": {"S": "a"},
    "sk": {"N": "1"},
    "s": {"S": "text"},
    "n": {"N": "-12.5"},
    "b": {"B": b"\x00\x01"},
    "ss": {"SS": ["x", "y"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"a", b"b"]},
    "m": {"M": {"deep": {"L": [{"S": "v"}, {"N": "3"}]}}},
    "l": {"L": [{"BOOL": True}, {"NULL": True}]},
    "t": {"BOOL": False},
    "z": {"NULL": True},
}


def test_put_get_every_attribute_type(ddb, table):
    """PutItem stores all ten AttributeValue types and GetItem returns them unchanged
    (aws-behaviour.md §4.3 items: full AttributeValue types)."""
    ddb.put_item(TableName=table, Item=EVERY_TYPE)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]
    assert {k: v for k, v in got.items() if k not in ("ss", "ns", "bs")} == {
        k: v for k, v in EVERY_TYPE.items() if k not in ("ss", "ns", "bs")
    }
    for k in ("ss", "ns", "bs"):
        assert sorted(next(iter(got[k].values()))) == sorted(next(iter(EVERY_TYPE[k].values())))


def test_get_item_absent_has_no_item(ddb, table):
    """GetItem of an absent key succeeds with no `Item` member (§1.2: absent members are
    omitted)."""
    resp = ddb.get_item(TableName=table, Key={"pk": {"S": "none"}, "sk": {"N": "0"}})
    assert "Item" not in resp


def test_get_item_projection_expression(ddb, table):
    """ProjectionExpression with a name placeholder and a nested path returns only those
    attributes (§4.3 ProjectionExpression)."""
    ddb.put_item(TableName=table, Item=EVERY_TYPE)
    got = ddb.get_item(
        TableName=table,
        Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
        ProjectionExpression="#s, m.deep[1]",
        ExpressionAttributeNames={"#s": "s"},
    )["Item"]
    assert got == {"s": {"S": "text"}, "m": {"M": {"deep": {"L": [{"N": "3"}]}}}}


def test_put_item_return_values_all_old(ddb, table):
    """PutItem ReturnValues=ALL_OLD returns the replaced item (§4.3 ReturnValues)."""
    key = {"pk": {"S": "k"}, "sk": {"N": "2"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "old"}})
    resp = ddb.put_item(TableName=table, Item={**key, "v": {"S": "new"}}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {**key, "v": {"S": "old"}}


def test_delete_item_return_values(ddb, table):
    """DeleteItem removes the item and ReturnValues=ALL_OLD returns it (§4.3)."""
    key = {"pk": {"S": "d"}, "sk": {"N": "3"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"N": "1"}})
    resp = ddb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {**key, "v": {"N": "1"}}
    assert "Item" not in ddb.get_item(TableName=table, Key=key)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: d.put_item(TableName="missing", Item={"pk": {"S": "a"}}),
        lambda d: d.get_item(TableName="missing", Key={"pk": {"S": "a"}}),
        lambda d: d.delete_item(TableName="missing", Key={"pk": {"S": "a"}}),
        lambda d: d.update_item(TableName="missing", Key={"pk": {"S": "a"}}),
    ],
    ids=["PutItem", "GetItem", "DeleteItem", "UpdateItem"],
)
def test_item_apis_missing_table(ddb, call):
    """Item APIs on a missing table → ResourceNotFoundException with the short item-family
    message `Requested resource not found` (aws-behaviour.md Appendix A)."""
    err = client_error(lambda: call(ddb))
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found"


def test_get_item_key_schema_mismatch(ddb, table):
    """A Key with a missing or extra attribute → ValidationException `The provided key
    element does not match the schema` (§4.3 key type checks)."""
    for key in (
        {"pk": {"S": "a"}},
        {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "extra"}},
    ):
        err = client_error(lambda k=key: ddb.get_item(TableName=table, Key=k))
        assert err["Code"] == "ValidationException"
        assert err["Message"] == "The provided key element does not match the schema"


def test_delete_item_key_type_mismatch(ddb, table):
    """A key attribute of the wrong type in a Key also reads as a schema mismatch (§4.3)."""
    err = client_error(
        lambda: ddb.delete_item(TableName=table, Key={"pk": {"N": "1"}, "sk": {"N": "1"}})
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "The provided key element does not match the schema"


def test_put_item_missing_key(ddb, table):
    """An item without its range key → `One or more parameter values were invalid: Missing
    the key sk in the item` (§4.3 key checks)."""
    err = client_error(lambda: ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "One or more parameter values were invalid: Missing the key sk in the item"
    )


def test_put_item_key_type_mismatch(ddb, table):
    """A key attribute of the wrong type in an item → `Type mismatch for key sk expected: N
    actual: S` (§4.3 key type checks)."""
    err = client_error(
        lambda: ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "1"}})
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "One or more parameter values were invalid: Type mismatch for key sk expected: N "
        "actual: S"
    )


def test_put_item_empty_string_key(ddb, table):
    """An empty string as a key value is rejected with the 'are not valid' wording (§4.3)."""
    err = client_error(lambda: ddb.put_item(TableName=table, Item={"pk": {"S": ""}, "sk": {"N": "1"}}))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: pk"
    )


def test_put_item_too_large(ddb, table):
    """Items over 400 KB → `Item size has exceeded the maximum allowed size` (§4.3 400 KB
    item limit); one just under the limit is accepted."""
    key = {"pk": {"S": "big"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=table, Item={**key, "d": {"S": "x" * (400 * 1024 - 20)}})
    err = client_error(
        lambda: ddb.put_item(TableName=table, Item={**key, "d": {"S": "x" * (400 * 1024)}})
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "Item size has exceeded the maximum allowed size"


def test_put_item_invalid_number(ddb, table):
    """A non-numeric N → `The parameter cannot be converted to a numeric value: abc`
    (§4.3 full AttributeValue types)."""
    err = client_error(
        lambda: ddb.put_item(
            TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "abc"}}
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "The parameter cannot be converted to a numeric value: abc"


def test_put_item_empty_set(ddb, table):
    """An empty string set is rejected (§4.3 full AttributeValue types)."""
    err = client_error(
        lambda: ddb.put_item(
            TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "ss": {"SS": []}}
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "One or more parameter values were invalid: An string set  may not be empty"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"UpdateExpression": "REMOVE a, b.c"},
        {"UpdateExpression": "DELETE s :v", "ExpressionAttributeValues": {":v": {"SS": ["x"]}}},
        {"AttributeUpdates": {"a": {"Action": "DELETE"}}},
        {"AttributeUpdates": {"s": {"Action": "DELETE", "Value": {"SS": ["x"]}}}},
    ],
    ids=["remove", "delete-members", "legacy-delete", "legacy-delete-members"],
)
def test_update_item_that_only_deletes_does_not_create_the_item(ddb, table, kwargs):
    """UpdateItem whose actions only remove (REMOVE, DELETE) on an item that does not exist
    writes nothing: DynamoDB does not create a key-only item (issue #18; alternator
    scylladb#5862 observed the same on DynamoDB), though it still answers 200, ALL_NEW has no
    Attributes and the write is charged."""
    key = {"pk": {"S": "ghost"}, "sk": {"N": "1"}}
    out = ddb.update_item(
        TableName=table, Key=key, ReturnValues="ALL_NEW", ReturnConsumedCapacity="TOTAL", **kwargs
    )
    assert "Attributes" not in out
    assert out["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert "Item" not in ddb.get_item(TableName=table, Key=key, ConsistentRead=True)
    assert ddb.scan(TableName=table)["Count"] == 0


def test_update_item_with_no_actions_or_a_set_creates_the_item(ddb, table):
    """The counterpart: an update with no actions creates the key-only item, and one that also
    SETs something creates it with that attribute (DynamoDB's upsert)."""
    k1 = {"pk": {"S": "bare"}, "sk": {"N": "1"}}
    ddb.update_item(TableName=table, Key=k1)
    assert ddb.get_item(TableName=table, Key=k1)["Item"] == k1
    k2 = {"pk": {"S": "mixed"}, "sk": {"N": "1"}}
    ddb.update_item(
        TableName=table, Key=k2, UpdateExpression="SET x = :x REMOVE a",
        ExpressionAttributeValues={":x": {"S": "1"}},
    )
    assert ddb.get_item(TableName=table, Key=k2)["Item"] == {**k2, "x": {"S": "1"}}
