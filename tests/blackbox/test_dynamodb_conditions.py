"""DynamoDB UpdateItem and condition/expression handling through boto3, with exact errors."""

import time

import pytest
from botocore.exceptions import ClientError

TABLE = "cond"
KEY = {"pk": {"S": "k"}}


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
            ddb.put_item(
                TableName=TABLE,
                Item={**KEY, "n": {"N": "5"}, "tags": {"SS": ["a", "b"]}, "old": {"S": "x"}},
            )
            return TABLE
        time.sleep(0.02)
    raise AssertionError("table never became ACTIVE")


def test_update_item_set_remove_add_delete(ddb, table):
    """UpdateItem applies SET (with if_not_exists and arithmetic), REMOVE, ADD and DELETE in
    one expression and ReturnValues=ALL_NEW shows the result (§4.3 UpdateExpression)."""
    resp = ddb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression=(
            "SET n = n + :one, fresh = if_not_exists(fresh, :f) REMOVE #o "
            "ADD cnt :one DELETE tags :a"
        ),
        ExpressionAttributeNames={"#o": "old"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":f": {"S": "new"}, ":a": {"SS": ["a"]}},
        ReturnValues="ALL_NEW",
    )
    assert resp["Attributes"] == {
        **KEY,
        "n": {"N": "6"},
        "fresh": {"S": "new"},
        "cnt": {"N": "1"},
        "tags": {"SS": ["b"]},
    }


def test_update_item_upserts_and_updated_new(ddb, table):
    """UpdateItem on an absent key creates the item; ReturnValues=UPDATED_NEW returns only
    the touched attributes (§4.3 ReturnValues)."""
    resp = ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "new"}},
        UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"L": [{"N": "1"}]}},
        ReturnValues="UPDATED_NEW",
    )
    assert resp["Attributes"] == {"a": {"L": [{"N": "1"}]}}
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "new"}})["Item"]["a"] == {
        "L": [{"N": "1"}]
    }


@pytest.mark.parametrize("op", ["put", "update", "delete"])
def test_condition_failed_returns_old_item(ddb, table, op):
    """A false ConditionExpression → ConditionalCheckFailedException `The conditional
    request failed`; with ReturnValuesOnConditionCheckFailure=ALL_OLD the body carries the
    current Item (§4.3 ConditionalCheckFailedException)."""
    common = {
        "TableName": table,
        "ConditionExpression": "n = :v",
        "ExpressionAttributeValues": {":v": {"N": "99"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    calls = {
        "put": lambda: ddb.put_item(Item=KEY, **common),
        "update": lambda: ddb.update_item(Key=KEY, UpdateExpression="REMOVE n", **common),
        "delete": lambda: ddb.delete_item(Key=KEY, **common),
    }
    resp = _error(calls[op])
    assert resp["Error"]["Code"] == "ConditionalCheckFailedException"
    assert resp["Error"]["Message"] == "The conditional request failed"
    assert resp["Item"]["n"] == {"N": "5"}
    assert ddb.get_item(TableName=table, Key=KEY)["Item"]["n"] == {"N": "5"}


def test_condition_failed_without_item_by_default(ddb, table):
    """Without ReturnValuesOnConditionCheckFailure the exception has no Item (§4.3)."""
    resp = _error(
        lambda: ddb.put_item(
            TableName=table, Item=KEY, ConditionExpression="attribute_not_exists(pk)"
        )
    )
    assert resp["Error"]["Code"] == "ConditionalCheckFailedException"
    assert "Item" not in resp


def test_condition_passes(ddb, table):
    """A true condition with functions (attribute_exists, begins_with, size, contains)
    lets the write through (§4.3 ConditionExpression)."""
    ddb.delete_item(
        TableName=table,
        Key=KEY,
        ConditionExpression=(
            "attribute_exists(n) AND begins_with(#o, :x) AND size(tags) = :two "
            "AND contains(tags, :a)"
        ),
        ExpressionAttributeNames={"#o": "old"},
        ExpressionAttributeValues={":x": {"S": "x"}, ":two": {"N": "2"}, ":a": {"S": "a"}},
    )
    assert "Item" not in ddb.get_item(TableName=table, Key=KEY)


def _validation(resp: dict) -> str:
    assert resp["Error"]["Code"] == "ValidationException", resp["Error"]
    return resp["Error"]["Message"]


def test_unused_expression_attribute_value(ddb, table):
    """A value placeholder no expression uses → `Value provided in ExpressionAttributeValues
    unused in expressions: keys: {:u}` (§1.2 semantic validation)."""
    msg = _validation(
        _error(
            lambda: ddb.update_item(
                TableName=table,
                Key=KEY,
                UpdateExpression="SET a = :v",
                ExpressionAttributeValues={":v": {"S": "1"}, ":u": {"S": "2"}},
            )
        )
    )
    assert msg == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}"


def test_unused_expression_attribute_name(ddb, table):
    """A name placeholder no expression uses → `Value provided in ExpressionAttributeNames
    unused in expressions: keys: {#u}`."""
    msg = _validation(
        _error(
            lambda: ddb.get_item(
                TableName=table,
                Key=KEY,
                ProjectionExpression="n",
                ExpressionAttributeNames={"#u": "x"},
            )
        )
    )
    assert msg == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#u}"


def test_undefined_expression_attribute_value(ddb, table):
    """A `:value` missing from ExpressionAttributeValues → `Invalid ConditionExpression: An
    expression attribute value used in expression is not defined; attribute value: :v`."""
    msg = _validation(
        _error(lambda: ddb.delete_item(TableName=table, Key=KEY, ConditionExpression="n = :v"))
    )
    assert msg == (
        "Invalid ConditionExpression: An expression attribute value used in expression is "
        "not defined; attribute value: :v"
    )


def test_undefined_expression_attribute_name(ddb, table):
    """A `#name` missing from ExpressionAttributeNames → `Invalid UpdateExpression: An
    expression attribute name used in the document path is not defined; attribute name: #n`."""
    msg = _validation(
        _error(
            lambda: ddb.update_item(
                TableName=table,
                Key=KEY,
                UpdateExpression="SET #n = :v",
                ExpressionAttributeValues={":v": {"S": "1"}},
            )
        )
    )
    assert msg == (
        "Invalid UpdateExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #n"
    )


def test_expression_syntax_error(ddb, table):
    """A malformed expression → `Invalid ConditionExpression: Syntax error; token: "<EOF>",
    near: "= "`-style text naming the offending token and its neighbours."""
    msg = _validation(
        _error(
            lambda: ddb.put_item(
                TableName=table,
                Item=KEY,
                ConditionExpression="n = = :v",
                ExpressionAttributeValues={":v": {"N": "1"}},
            )
        )
    )
    assert msg == 'Invalid ConditionExpression: Syntax error; token: "=", near: "= = :v"'


def test_reserved_word_in_expression(ddb, table):
    """A reserved word used as a bare attribute name → `Invalid UpdateExpression: Attribute
    name is a reserved keyword; reserved keyword: name` (DynamoDB's reserved-word list)."""
    msg = _validation(
        _error(
            lambda: ddb.update_item(
                TableName=table,
                Key=KEY,
                UpdateExpression="SET name = :v",
                ExpressionAttributeValues={":v": {"S": "1"}},
            )
        )
    )
    assert msg == (
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"
    )


def test_update_key_attribute_refused(ddb, table):
    """SET on a key attribute → `One or more parameter values were invalid: Cannot update
    attribute pk. This attribute is part of the key`."""
    msg = _validation(
        _error(
            lambda: ddb.update_item(
                TableName=table,
                Key=KEY,
                UpdateExpression="SET pk = :v",
                ExpressionAttributeValues={":v": {"S": "other"}},
            )
        )
    )
    assert msg == (
        "One or more parameter values were invalid: Cannot update attribute pk. "
        "This attribute is part of the key"
    )


def test_update_wrong_operand_type(ddb, table):
    """Arithmetic on a string attribute → `An operand in the update expression has an
    incorrect data type`."""
    msg = _validation(
        _error(
            lambda: ddb.update_item(
                TableName=table,
                Key=KEY,
                UpdateExpression="SET #o = #o + :one",
                ExpressionAttributeNames={"#o": "old"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        )
    )
    assert msg == "An operand in the update expression has an incorrect data type"


def test_update_item_too_large(ddb, table):
    """An update that grows the item past 400 KB → `Item size to update has exceeded the
    maximum allowed size` (§4.3 400 KB item limit)."""
    msg = _validation(
        _error(
            lambda: ddb.update_item(
                TableName=table,
                Key=KEY,
                UpdateExpression="SET big = :b",
                ExpressionAttributeValues={":b": {"S": "x" * (401 * 1024)}},
            )
        )
    )
    assert msg == "Item size to update has exceeded the maximum allowed size"
