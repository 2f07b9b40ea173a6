"""DynamoDB TTL settings and table tags through boto3: Update/DescribeTimeToLive, Tag/Untag/List."""

import time

import pytest
from tm_helpers import client_error

TABLE = "ttl_tags"




@pytest.fixture
def arn(ddb) -> str:
    ddb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "team", "Value": "data"}],
    )
    for _ in range(100):
        table = ddb.describe_table(TableName=TABLE)["Table"]
        if table["TableStatus"] == "ACTIVE":
            return table["TableArn"]
        time.sleep(0.02)
    raise AssertionError("table never became ACTIVE")


def test_ttl_enable_and_describe(ddb, arn):
    """TTL starts DISABLED; UpdateTimeToLive echoes the specification and DescribeTimeToLive
    then names the attribute with status ENABLED (or ENABLING) (§4.3 settings that restores
    drop)."""
    assert ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    spec = {"Enabled": True, "AttributeName": "expires"}
    out = ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=spec)
    assert out["TimeToLiveSpecification"] == spec
    desc = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert desc["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
    assert desc["AttributeName"] == "expires"


def test_ttl_already_enabled(ddb, arn):
    """Enabling TTL twice → ValidationException `TimeToLive is already enabled`."""
    spec = {"Enabled": True, "AttributeName": "expires"}
    ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=spec)
    err = client_error(lambda: ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=spec))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "TimeToLive is already enabled"


def test_ttl_already_disabled(ddb, arn):
    """Disabling TTL that is off → ValidationException `TimeToLive is already disabled`."""
    err = client_error(
        lambda: ddb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": False, "AttributeName": "e"}
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "TimeToLive is already disabled"


def test_ttl_one_change_per_hour(ddb, arn):
    """A second UpdateTimeToLive within the hour → ValidationException `Time to live has been
    modified multiple times within a fixed interval`, and TTL stays as it was."""
    spec = {"Enabled": True, "AttributeName": "expires"}
    ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=spec)
    err = client_error(
        lambda: ddb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={**spec, "Enabled": False}
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "Time to live has been modified multiple times within a fixed interval"
    desc = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert desc == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


@pytest.mark.parametrize("op", ["update", "describe"])
def test_ttl_missing_table(ddb, op):
    """TTL calls on a missing table → ResourceNotFoundException with the table-family
    message `Requested resource not found: Table: <name> not found` (Appendix A)."""
    calls = {
        "update": lambda: ddb.update_time_to_live(
            TableName="nope", TimeToLiveSpecification={"Enabled": True, "AttributeName": "e"}
        ),
        "describe": lambda: ddb.describe_time_to_live(TableName="nope"),
    }
    err = client_error(calls[op])
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found: Table: nope not found"


def test_tag_untag_list(ddb, arn):
    """CreateTable tags are listed; TagResource adds and overwrites by key; UntagResource
    removes (absent keys are fine) (§4.3 settings that restores drop)."""
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "data"}]
    ddb.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "team", "Value": "core"}, {"Key": "env", "Value": "dev"}]
    )
    tags = {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"team": "core", "env": "dev"}
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team", "never-set"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]


@pytest.mark.parametrize("op", ["tag", "untag", "list"])
def test_tags_missing_table(ddb, arn, op):
    """Tag calls on the ARN of a missing table → ResourceNotFoundException naming the ARN
    (Appendix A). Real DynamoDB has been captured writing `ResourcArn` (sic) in this text
    (turbot/steampipe-plugin-aws#1516) while newer emulator notes quote `ResourceArn`; both
    spellings are accepted here and the rest of the message is pinned."""
    missing = arn.replace(f":table/{TABLE}", ":table/missing")
    calls = {
        "tag": lambda: ddb.tag_resource(ResourceArn=missing, Tags=[{"Key": "a", "Value": "b"}]),
        "untag": lambda: ddb.untag_resource(ResourceArn=missing, TagKeys=["a"]),
        "list": lambda: ddb.list_tags_of_resource(ResourceArn=missing),
    }
    err = client_error(calls[op])
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] in (
        f"Requested resource not found: ResourceArn: {missing} not found",
        f"Requested resource not found: ResourcArn: {missing} not found",
    )


def test_tag_limit_exceeded(ddb, arn):
    """More than 50 tags on a table → LimitExceededException (DynamoDB tag quota: 50 per
    resource); the table keeps its old tags."""
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    err = client_error(lambda: ddb.tag_resource(ResourceArn=arn, Tags=tags))
    assert err["Code"] == "LimitExceededException"
    assert err["Message"] == "The number of tags for the resource exceeds the limit of 50"
    assert len(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == 1
