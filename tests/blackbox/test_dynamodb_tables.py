"""DynamoDB table lifecycle through boto3: Create/Describe/List/Update/DeleteTable, errors."""

import time

import pytest
from botocore.exceptions import ClientError
from tm_helpers import client_error

KEY = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _active(ddb, name: str) -> dict:
    for _ in range(100):
        table = ddb.describe_table(TableName=name)["Table"]
        if table["TableStatus"] == "ACTIVE":
            return table
        time.sleep(0.02)
    raise AssertionError(f"{name} never became ACTIVE")




def test_create_table_creating_then_active(ddb):
    """CreateTable answers CREATING and a background job makes the table ACTIVE; the
    description carries the key schema, ARN and on-demand billing (aws-behaviour.md §4.3
    table lifecycle: CREATING→ACTIVE)."""
    desc = ddb.create_table(TableName="tbl1", **KEY)["TableDescription"]
    assert desc["TableStatus"] == "CREATING"
    account = desc["TableArn"].split(":")[4]
    assert desc["TableArn"] == f"arn:aws:dynamodb:us-east-1:{account}:table/tbl1"
    table = _active(ddb, "tbl1")
    assert table["KeySchema"] == KEY["KeySchema"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["ItemCount"] == 0


def test_create_table_duplicate_is_resource_in_use(ddb):
    """Creating an existing table → ResourceInUseException `Table already exists: <name>`
    (aws-behaviour.md §4.3: ResourceInUseException for duplicates)."""
    ddb.create_table(TableName="dup", **KEY)
    err = client_error(lambda: ddb.create_table(TableName="dup", **KEY))
    assert err["Code"] == "ResourceInUseException"
    assert err["Message"] == "Table already exists: dup"


def test_create_table_key_not_in_attribute_definitions(ddb):
    """A key attribute missing from AttributeDefinitions is a ValidationException with
    DynamoDB's `Some index key attributes are not defined` text (aws-behaviour.md §1.2
    semantic validation)."""
    err = client_error(
        lambda: ddb.create_table(
            TableName="bad",
            AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "One or more parameter values were invalid: Some index key attributes are not "
        "defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [x]"
    )


def test_create_table_name_pattern_server_side(ddb_unvalidated):
    """Table names must match [a-zA-Z0-9_.-]+ and be ≥3 long; with client validation off
    the server answers with the Coral message (aws-behaviour.md §1.2 Validation message
    format)."""
    err = client_error(lambda: ddb_unvalidated.create_table(TableName="a!", **KEY))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "2 validation errors detected: Value 'a!' at 'tableName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
        "Value 'a!' at 'tableName' failed to satisfy constraint: Member must have length "
        "greater than or equal to 3"
    )
    assert "a!" not in ddb_unvalidated.list_tables()["TableNames"]


def test_describe_table_missing(ddb):
    """DescribeTable on a missing table → ResourceNotFoundException (HTTP 400)
    `Requested resource not found: Table: <name> not found` (aws-behaviour.md Appendix A)."""
    with pytest.raises(ClientError) as info:
        ddb.describe_table(TableName="nope")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    err = info.value.response["Error"]
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found: Table: nope not found"


def test_list_tables_sorted_and_paginated(ddb):
    """ListTables returns names in order, pages with Limit and LastEvaluatedTableName, and
    resumes after ExclusiveStartTableName (aws-behaviour.md §1.5 Pagination)."""
    for name in ("ccc", "aaa", "bbb"):
        ddb.create_table(TableName=name, **KEY)
    first = ddb.list_tables(Limit=2)
    assert first["TableNames"] == ["aaa", "bbb"]
    assert first["LastEvaluatedTableName"] == "bbb"
    second = ddb.list_tables(ExclusiveStartTableName="bbb")
    assert second["TableNames"] == ["ccc"]
    assert "LastEvaluatedTableName" not in second


def test_list_tables_limit_above_100_server_side(ddb_unvalidated):
    """Limit is 1..100 in the model; 101 gives the Coral `less than or equal to 100` message
    (aws-behaviour.md §1.2 Validation message format)."""
    err = client_error(lambda: ddb_unvalidated.list_tables(Limit=101))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 100"
    )


def test_update_table_billing_and_protection(ddb):
    """UpdateTable switches billing to PROVISIONED and turns on deletion protection; the table
    passes through UPDATING back to ACTIVE (aws-behaviour.md §4.3 table lifecycle)."""
    ddb.create_table(TableName="upd", **KEY)
    _active(ddb, "upd")
    desc = ddb.update_table(
        TableName="upd",
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
        DeletionProtectionEnabled=True,
    )["TableDescription"]
    assert desc["TableStatus"] in ("UPDATING", "ACTIVE")
    table = _active(ddb, "upd")
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    assert table["DeletionProtectionEnabled"] is True


def test_warm_throughput_default_and_raised(ddb):
    """DescribeTable reports WarmThroughput: 12,000/4,000 for a new on-demand table, raised
    by UpdateTable's WarmThroughput (a half left out is kept)."""
    ddb.create_table(TableName="warm", **KEY)
    assert _active(ddb, "warm")["WarmThroughput"] == {
        "ReadUnitsPerSecond": 12000,
        "WriteUnitsPerSecond": 4000,
        "Status": "ACTIVE",
    }
    ddb.update_table(TableName="warm", WarmThroughput={"ReadUnitsPerSecond": 25000})
    assert _active(ddb, "warm")["WarmThroughput"] == {
        "ReadUnitsPerSecond": 25000,
        "WriteUnitsPerSecond": 4000,
        "Status": "ACTIVE",
    }


def test_update_table_missing(ddb):
    """UpdateTable on a missing table → ResourceNotFoundException with the table-family
    message (aws-behaviour.md Appendix A)."""
    err = client_error(lambda: ddb.update_table(TableName="nope", DeletionProtectionEnabled=True))
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found: Table: nope not found"


def test_delete_table_then_gone(ddb):
    """DeleteTable answers DELETING and the table disappears (aws-behaviour.md §4.3
    DELETING→gone)."""
    ddb.create_table(TableName="gone", **KEY)
    _active(ddb, "gone")
    desc = ddb.delete_table(TableName="gone")["TableDescription"]
    assert desc["TableStatus"] == "DELETING"
    for _ in range(100):
        if "gone" not in ddb.list_tables()["TableNames"]:
            break
        time.sleep(0.02)
    assert "gone" not in ddb.list_tables()["TableNames"]
    err = client_error(lambda: ddb.describe_table(TableName="gone"))
    assert err["Code"] == "ResourceNotFoundException"


def test_delete_table_missing(ddb):
    """DeleteTable on a missing table → ResourceNotFoundException
    `Requested resource not found: Table: <name> not found` (Appendix A)."""
    err = client_error(lambda: ddb.delete_table(TableName="nope"))
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found: Table: nope not found"


def test_delete_protected_table(ddb):
    """Deletion protection blocks DeleteTable with a ValidationException naming the fix
    (§4.3 DeletionProtectionEnabled)."""
    ddb.create_table(TableName="safe", DeletionProtectionEnabled=True, **KEY)
    _active(ddb, "safe")
    err = client_error(lambda: ddb.delete_table(TableName="safe"))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "Resource cannot be deleted as it is currently protected against deletion. "
        "Disable deletion protection first."
    )
