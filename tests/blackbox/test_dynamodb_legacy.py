"""The legacy (pre-expression) DynamoDB parameters through boto3, as older code still sends
them: Expected + ConditionalOperator, AttributeUpdates, AttributesToGet, KeyConditions,
QueryFilter and ScanFilter, with DynamoDB's errors."""

import json
from decimal import Decimal

import pytest

from tm_helpers import create_pk_sk_table, expect

TABLE = "legacy"


@pytest.fixture
def table(ddb, boto_session, endpoint):
    create_pk_sk_table(ddb, TABLE)
    t = boto_session.resource("dynamodb", endpoint_url=endpoint).Table(TABLE)
    with t.batch_writer() as w:
        for i in range(1, 6):
            w.put_item(Item={"pk": "a", "sk": i, "n": i * 10, "word": f"w{i}"})
    return t


def test_resource_table_with_legacy_parameters(table):
    """A boto3 Table used the pre-2014 way: KeyConditions with QueryFilter and
    AttributesToGet, AttributeUpdates, Expected and ScanFilter."""
    out = table.query(
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": ["a"]},
            "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [2, 4]},
        },
        QueryFilter={"n": {"ComparisonOperator": "GT", "AttributeValueList": [20]}},
        AttributesToGet=["sk", "n"],
        ScanIndexForward=False,
    )
    assert out["Items"] == [{"sk": Decimal(4), "n": Decimal(40)}, {"sk": Decimal(3), "n": Decimal(30)}]
    assert out["ScannedCount"] == 3

    out = table.update_item(
        Key={"pk": "a", "sk": 1},
        AttributeUpdates={
            "n": {"Action": "ADD", "Value": 5},
            "tags": {"Action": "ADD", "Value": {"x", "y"}},
            "word": {"Action": "DELETE"},
        },
        Expected={"n": {"Value": 10}, "word": {"Exists": True, "Value": "w1"}},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {"pk": "a", "sk": Decimal(1), "n": Decimal(15), "tags": {"x", "y"}}

    out = table.scan(
        ScanFilter={
            "word": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": ["w5"]},
            "tags": {"ComparisonOperator": "CONTAINS", "AttributeValueList": ["x"]},
        },
        ConditionalOperator="OR",
        AttributesToGet=["sk"],
    )
    assert sorted(i["sk"] for i in out["Items"]) == [1, 5]


def test_expected_failure_and_errors(ddb, table):
    key = {"pk": {"S": "a"}, "sk": {"N": "2"}}
    expect(
        "ConditionalCheckFailedException",
        400,
        ddb.delete_item,
        "The conditional request failed",
        TableName=TABLE,
        Key=key,
        Expected={"n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "20"}]}},
    )
    assert "Item" in ddb.get_item(TableName=TABLE, Key=key)
    expect(
        "ValidationException",
        400,
        ddb.put_item,
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        TableName=TABLE,
        Item=key,
        Expected={"n": {"Exists": False}},
        ConditionExpression="attribute_not_exists(n)",
    )
    expect(
        "ValidationException",
        400,
        ddb.put_item,
        "One or more parameter values were invalid: Value must be provided when Exists is true "
        "for Attribute: n",
        TableName=TABLE,
        Item=key,
        Expected={"n": {"Exists": True}},
    )
    expect(
        "ValidationException",
        400,
        ddb.query,
        "Attempted conditional constraint is not an indexable operation",
        TableName=TABLE,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
            "sk": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "1"}]},
        },
    )
    expect(
        "ValidationException",
        400,
        ddb.update_item,
        "Type mismatch for attribute to update",
        TableName=TABLE,
        Key=key,
        AttributeUpdates={"word": {"Action": "ADD", "Value": {"N": "1"}}},
    )
    assert ddb.get_item(TableName=TABLE, Key=key)["Item"]["word"] == {"S": "w2"}


def test_aws_cli_query_with_key_conditions(aws_cli, table):
    """The aws CLI passes KeyConditions through as JSON."""
    res = aws_cli(
        "dynamodb",
        "query",
        "--table-name",
        TABLE,
        "--key-conditions",
        '{"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},'
        ' "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "4"}]}}',
        "--attributes-to-get",
        "sk",
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["Items"] == [{"sk": {"N": "4"}}, {"sk": {"N": "5"}}]
    assert out["Count"] == 2
