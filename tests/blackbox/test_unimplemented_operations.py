"""Operations tidemark does not implement fail loudly, with the service's own error code."""

import pytest
from botocore.exceptions import ClientError

# awscli v1's clidriver turns any service error into exit status 255 (v2 uses 254).
CLI_SERVICE_ERROR_EXIT = 255


def test_dynamodb_unknown_operation_boto3(ddb):
    """An operation the server does not serve answers HTTP 400
    `com.amazon.coral.service#UnknownOperationException`, and the message names the
    operation so users see what is missing (aws-behaviour.md §1.2 Errors)."""
    with pytest.raises(ClientError) as info:
        ddb.list_exports()
    err = info.value.response
    assert err["Error"]["Code"] == "UnknownOperationException"
    assert "ListExports" in err["Error"]["Message"]
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_dynamodb_unknown_operation_cli(aws_cli):
    """The CLI reports the service error on stderr and exits 255 (awscli v1 behaviour)."""
    result = aws_cli("dynamodb", "list-exports")
    assert result.returncode == CLI_SERVICE_ERROR_EXIT
    assert result.stdout == ""
    assert (
        "An error occurred (UnknownOperationException) when calling the ListExports operation: "
        in result.stderr
    )


def test_redshift_invalid_action_boto3(redshift):
    """An unserved awsQuery Action answers HTTP 400 `InvalidAction` naming the action
    (aws-behaviour.md §1.3: unknown Action → InvalidAction (400))."""
    with pytest.raises(ClientError) as info:
        redshift.describe_event_categories()
    err = info.value.response
    assert err["Error"]["Code"] == "InvalidAction"
    assert "DescribeEventCategories" in err["Error"]["Message"]
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_redshift_invalid_action_cli(aws_cli):
    """CLI prints `An error occurred (InvalidAction) when calling the DescribeEventCategories
    operation: …` on stderr and exits 255 (aws-behaviour.md §1.3)."""
    result = aws_cli("redshift", "describe-event-categories")
    assert result.returncode == CLI_SERVICE_ERROR_EXIT
    assert result.stdout == ""
    assert (
        "An error occurred (InvalidAction) when calling the DescribeEventCategories operation: "
        in result.stderr
    )
