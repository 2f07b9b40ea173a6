"""Server-side model constraint checks produce DynamoDB's exact Coral validation text."""

import json

import pytest
from botocore.exceptions import ClientError
from tm_helpers import ddb_post

SHORT_ARN_MESSAGE = (
    "1 validation error detected: Value 'short' at 'backupArn' failed to satisfy "
    "constraint: Member must have length greater than or equal to 37"
)


def _validation_error(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response


def test_describe_backup_arn_too_short(ddb_unvalidated):
    """BackupArn has min length 37 in the model; the server must reject a shorter one with
    `ValidationException` and the Coral message (aws-behaviour.md §1.2 Validation message
    format; §2.5 DescribeBackup). botocore checks min length too, so validation is off here."""
    err = _validation_error(lambda: ddb_unvalidated.describe_backup(BackupArn="short"))
    assert err["Error"]["Code"] == "ValidationException"
    assert err["Error"]["Message"] == SHORT_ARN_MESSAGE
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_describe_backup_arn_too_short_raw(endpoint):
    """Same check without any SDK: the wire body uses the coral.validate namespace
    (aws-behaviour.md §1.2 Namespaces: `com.amazon.coral.validate#ValidationException`)."""
    resp = ddb_post(endpoint, "DescribeBackup", json.dumps({"BackupArn": "short"}).encode())
    assert resp.status_code == 400
    body = resp.json()
    assert body["__type"] == "com.amazon.coral.validate#ValidationException"
    assert (body.get("message") or body.get("Message")) == SHORT_ARN_MESSAGE


def test_pitr_recovery_period_above_35(ddb_unvalidated):
    """RecoveryPeriodInDays is 1..35; 36 gives the quoted-number Coral message with the
    lowerCamelCase dotted path (aws-behaviour.md §1.2 Validation message format; §2.9)."""
    err = _validation_error(
        lambda: ddb_unvalidated.update_continuous_backups(
            TableName="tbl",
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True,
                "RecoveryPeriodInDays": 36,
            },
        )
    )
    assert err["Error"]["Code"] == "ValidationException"
    assert err["Error"]["Message"] == (
        "1 validation error detected: Value '36' at "
        "'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy "
        "constraint: Member must have value less than or equal to 35"
    )


def test_cli_reaches_server_validation(aws_cli):
    """With client-side validation off (config `parameter_validation = false`), aws CLI v1
    shows the server's exact message on stderr and exits 255 (aws-behaviour.md §1.2 note:
    server messages are what the CLI shows once botocore stops checking)."""
    result = aws_cli(
        "dynamodb", "describe-backup", "--backup-arn", "short", "--profile", "novalidate"
    )
    assert result.returncode == 255
    assert result.stdout == ""
    assert (
        "An error occurred (ValidationException) when calling the DescribeBackup operation: "
        + SHORT_ARN_MESSAGE
    ) in result.stderr


def test_cli_client_side_validation_still_blocks_by_default(aws_cli):
    """Guards the test above: with the default profile botocore rejects the short ARN
    before sending (exit 255, ParamValidation text), so the profile is what makes the
    difference."""
    result = aws_cli("dynamodb", "describe-backup", "--backup-arn", "short")
    assert result.returncode == 255
    assert "Parameter validation failed" in result.stderr
    assert "ValidationException" not in result.stderr
