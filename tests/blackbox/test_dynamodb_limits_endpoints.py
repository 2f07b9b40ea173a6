"""DynamoDB SDK plumbing through boto3: DescribeEndpoints, DescribeLimits, table limits."""

import time

from tm_helpers import client_error




def test_describe_endpoints_points_at_server(ddb, endpoint):
    """DescribeEndpoints answers the server's own host:port with a 1440-minute cache period
    (aws-behaviour.md §4.3 SDK plumbing)."""
    resp = ddb.describe_endpoints()
    assert resp["Endpoints"] == [
        {"Address": endpoint.removeprefix("http://"), "CachePeriodInMinutes": 1440}
    ]


def test_describe_limits_defaults(ddb):
    """DescribeLimits returns DynamoDB's default account and table capacity maxima
    (§4.3 SDK plumbing: account/table capacity maxima)."""
    resp = ddb.describe_limits()
    resp.pop("ResponseMetadata")
    assert resp == {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }


def _gsi(name: str) -> dict:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }


def test_create_table_more_than_20_gsis(ddb):
    """21 GSIs on CreateTable → ValidationException `One or more parameter values were
    invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20` (dynalite's
    createTable tests, recorded against DynamoDB, expect a ValidationException here)."""
    err = client_error(
        lambda: ddb.create_table(
            TableName="many",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[_gsi(f"idx{i}") for i in range(21)],
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the "
        "per-table limit of 20"
    )


def test_update_table_two_online_index_changes(ddb):
    """Creating two GSIs in one UpdateTable → LimitExceededException `Subscriber limit
    exceeded: Only 1 online index can be created or deleted simultaneously per table`
    (§4.3 GSI add/delete via UpdateTable)."""
    ddb.create_table(
        TableName="idx",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for _ in range(100):
        if ddb.describe_table(TableName="idx")["Table"]["TableStatus"] == "ACTIVE":
            break
        time.sleep(0.02)
    err = client_error(
        lambda: ddb.update_table(
            TableName="idx",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": _gsi("one")}, {"Create": _gsi("two")}],
        )
    )
    assert err["Code"] == "LimitExceededException"
    assert err["Message"] == (
        "Subscriber limit exceeded: Only 1 online index can be created or deleted "
        "simultaneously per table"
    )


def test_update_table_without_changes(ddb):
    """An UpdateTable that changes nothing → ValidationException listing what is required."""
    ddb.create_table(
        TableName="same",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for _ in range(100):
        if ddb.describe_table(TableName="same")["Table"]["TableStatus"] == "ACTIVE":
            break
        time.sleep(0.02)
    err = client_error(lambda: ddb.update_table(TableName="same"))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
    )
