"""DynamoDB on-demand backups, restores and point-in-time recovery through boto3
(aws-behaviour.md §2): every operation, ListBackups filter and error, with the virtual clock
(/_tidemark/clock) placing writes at known seconds."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from tm_helpers import HTTP_TIMEOUT, REGION, expect, parse_rfc3339, wait_until

ACCOUNT = "123456789012"
KEY = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
GSI = {
    "IndexName": "by_g",
    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "ALL"},
}
LSI = {
    "IndexName": "by_g_local",
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "g", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "KEYS_ONLY"},
}
BACKUP_ARN = re.compile(
    rf"^arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/(?P<table>[A-Za-z0-9_.-]+)"
    r"/backup/\d{14}-[0-9a-f]{8}$"
)


def _clock(endpoint: str, body: dict) -> dt.datetime:
    resp = requests.post(endpoint + "/_tidemark/clock", json=body, timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200, resp.text
    return parse_rfc3339(resp.json()["now"])


@pytest.fixture
def frozen(endpoint):
    """Freezes the virtual clock for the test (writes land at known seconds); unfreezes
    after. Yields a function advancing it by N seconds and answering the new time."""
    _clock(endpoint, {"freeze": True})
    yield lambda secs: _clock(endpoint, {"advance_seconds": secs})
    _clock(endpoint, {"freeze": False})


def _active(ddb, name: str) -> dict:
    return wait_until(
        lambda: (t := ddb.describe_table(TableName=name)["Table"])["TableStatus"] == "ACTIVE"
        and t,
        f"table {name} ACTIVE",
    )


def _table(ddb, name: str, indexes: bool = False) -> None:
    spec = dict(KEY)
    if indexes:
        spec["AttributeDefinitions"] = [
            *KEY["AttributeDefinitions"],
            {"AttributeName": "g", "AttributeType": "S"},
        ]
        spec["GlobalSecondaryIndexes"] = [GSI]
        spec["LocalSecondaryIndexes"] = [LSI]
    ddb.create_table(TableName=name, **spec)
    _active(ddb, name)


def _put(ddb, table: str, pk: str, sk: int, g: str = "x") -> None:
    ddb.put_item(
        TableName=table, Item={"pk": {"S": pk}, "sk": {"N": str(sk)}, "g": {"S": g}}
    )


def _items(ddb, table: str) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        for it in page["Items"]:
            out[(it["pk"]["S"], int(it["sk"]["N"]))] = it["g"]["S"]
    return out


def _available(ddb, arn: str) -> dict:
    return wait_until(
        lambda: (d := ddb.describe_backup(BackupArn=arn)["BackupDescription"])[
            "BackupDetails"
        ]["BackupStatus"]
        == "AVAILABLE"
        and d,
        f"backup {arn} AVAILABLE",
    )


def _backup(ddb, table: str, name: str) -> str:
    arn = ddb.create_backup(TableName=table, BackupName=name)["BackupDetails"]["BackupArn"]
    _available(ddb, arn)
    return arn


def test_backup_describe_list_delete(ddb):
    """CreateBackup answers CREATING with an AWS-form ARN, turns AVAILABLE with the source
    table's details and real size, lists under its table, and DeleteBackup answers DELETED
    after which it is gone (§2.3–§2.7)."""
    _table(ddb, "orders", indexes=True)
    for i in range(20):
        _put(ddb, "orders", f"p{i % 4}", i, g=f"g{i}")
    details = ddb.create_backup(TableName="orders", BackupName="nightly")["BackupDetails"]
    assert details["BackupStatus"] == "CREATING"
    assert details["BackupName"] == "nightly"
    assert details["BackupType"] == "USER"
    match = BACKUP_ARN.match(details["BackupArn"])
    assert match and match["table"] == "orders", details["BackupArn"]
    desc = _available(ddb, details["BackupArn"])
    assert desc["BackupDetails"]["BackupSizeBytes"] > 0
    src = desc["SourceTableDetails"]
    assert src["TableName"] == "orders"
    assert src["ItemCount"] == 20
    assert src["TableSizeBytes"] == desc["BackupDetails"]["BackupSizeBytes"]
    assert src["KeySchema"] == KEY["KeySchema"]
    assert src["BillingMode"] == "PAY_PER_REQUEST"
    feats = desc["SourceTableFeatureDetails"]
    assert [i["IndexName"] for i in feats["GlobalSecondaryIndexes"]] == ["by_g"]
    assert [i["IndexName"] for i in feats["LocalSecondaryIndexes"]] == ["by_g_local"]

    listed = ddb.list_backups(TableName="orders")["BackupSummaries"]
    assert [b["BackupArn"] for b in listed] == [details["BackupArn"]]
    assert listed[0]["BackupStatus"] == "AVAILABLE"

    gone = ddb.delete_backup(BackupArn=details["BackupArn"])["BackupDescription"]
    assert gone["BackupDetails"]["BackupStatus"] == "DELETED"
    msg = f"Backup not found: {details['BackupArn']}"
    expect("BackupNotFoundException", 400, ddb.describe_backup, msg, BackupArn=details["BackupArn"])
    expect("BackupNotFoundException", 400, ddb.delete_backup, msg, BackupArn=details["BackupArn"])
    assert ddb.list_backups()["BackupSummaries"] == []


def test_create_backup_by_arn_and_errors(ddb, ddb_unvalidated):
    """The table may be named by ARN; a missing table is TableNotFoundException; a bad
    BackupName is a Coral ValidationException; a malformed backup ARN is refused (§2.3, §2.5)."""
    expect(
        "TableNotFoundException",
        400,
        ddb.create_backup,
        "Table not found: nope",
        TableName="nope",
        BackupName="bkp",
    )
    _table(ddb, "young")
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/young"
    a = ddb.create_backup(TableName=arn, BackupName="same")["BackupDetails"]["BackupArn"]
    b = ddb.create_backup(TableName=arn, BackupName="same")["BackupDetails"]["BackupArn"]
    assert a != b and BACKUP_ARN.match(a)["table"] == "young"
    err = expect(
        "ValidationException",
        400,
        ddb_unvalidated.create_backup,
        TableName="young",
        BackupName="a b",
    )
    assert "at 'backupName' failed to satisfy constraint" in err["Message"], err
    expect(
        "ValidationException",
        400,
        ddb.describe_backup,
        "Invalid Backup ARN",
        BackupArn=arn + "/stream/2020-01-01T00:00:00.000",
    )
    missing = arn + "/backup/01923773966715-00abcdef"
    expect(
        "BackupNotFoundException",
        400,
        ddb.describe_backup,
        f"Backup not found: {missing}",
        BackupArn=missing,
    )


def test_list_backups_filters_and_paging(ddb, frozen):
    """ListBackups: TableName filter, TimeRangeLowerBound inclusive and TimeRangeUpperBound
    exclusive, ascending order, Limit/ExclusiveStartBackupArn paging with
    LastEvaluatedBackupArn only while more remain (§2.6)."""
    _table(ddb, "alpha")
    _table(ddb, "beta")
    made = []
    for i, table in enumerate(["alpha", "beta", "alpha", "beta"]):
        made.append((table, _backup(ddb, table, f"bkp{i}")))
        frozen(10)
    arns = [arn for _, arn in made]
    everything = ddb.list_backups()["BackupSummaries"]
    assert [b["BackupArn"] for b in everything] == arns
    assert "LastEvaluatedBackupArn" not in ddb.list_backups()
    times = [b["BackupCreationDateTime"] for b in everything]
    assert times == sorted(times) and len(set(times)) == 4

    alpha = ddb.list_backups(TableName="alpha")["BackupSummaries"]
    assert [b["BackupArn"] for b in alpha] == [arns[0], arns[2]]
    window = ddb.list_backups(TimeRangeLowerBound=times[1], TimeRangeUpperBound=times[3])
    assert [b["BackupArn"] for b in window["BackupSummaries"]] == [arns[1], arns[2]]

    seen, start = [], None
    while True:
        kwargs = {"Limit": 3}
        if start:
            kwargs["ExclusiveStartBackupArn"] = start
        page = ddb.list_backups(**kwargs)
        seen += [b["BackupArn"] for b in page["BackupSummaries"]]
        start = page.get("LastEvaluatedBackupArn")
        if not start:
            break
        assert start == seen[-1]
    assert seen == arns
    assert ddb.list_backups(BackupType="USER")["BackupSummaries"] == everything
    assert ddb.list_backups(BackupType="SYSTEM")["BackupSummaries"] == []


def test_restore_from_backup_brings_items_and_indexes_back(ddb):
    """RestoreTableFromBackup: CREATING with a RestoreSummary, then ACTIVE with exactly the
    backed-up items and the indexes; writes after the backup are not in it; an empty
    GlobalSecondaryIndexOverride drops the GSIs (§2.9)."""
    _table(ddb, "src", indexes=True)
    for i in range(30):
        _put(ddb, "src", f"p{i % 3}", i, g=f"g{i % 5}")
    expected = _items(ddb, "src")
    arn = _backup(ddb, "src", "snap")
    _put(ddb, "src", "late", 99)

    out = ddb.restore_table_from_backup(TargetTableName="copy", BackupArn=arn)
    desc = out["TableDescription"]
    assert desc["TableStatus"] == "CREATING"
    summary = desc["RestoreSummary"]
    assert summary["SourceBackupArn"] == arn
    assert summary["SourceTableArn"] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/src"
    assert summary["RestoreInProgress"] is True
    table = _active(ddb, "copy")
    assert _items(ddb, "copy") == expected
    assert table["ItemCount"] == 30
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by_g"]
    assert [i["IndexName"] for i in table["LocalSecondaryIndexes"]] == ["by_g_local"]
    by_g = ddb.query(
        TableName="copy",
        IndexName="by_g",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g0"}},
    )
    assert by_g["Count"] == sum(1 for g in expected.values() if g == "g0")

    ddb.restore_table_from_backup(
        TargetTableName="noidx", BackupArn=arn, GlobalSecondaryIndexOverride=[]
    )
    assert "GlobalSecondaryIndexes" not in _active(ddb, "noidx")
    assert _items(ddb, "noidx") == expected


def test_restore_from_backup_errors(ddb):
    """TableAlreadyExistsException for an existing target, BackupNotFoundException for an
    unknown backup, and override rules; nothing is created by a failed restore (§2.9)."""
    _table(ddb, "src", indexes=True)
    arn = _backup(ddb, "src", "bkp")
    expect(
        "TableAlreadyExistsException",
        400,
        ddb.restore_table_from_backup,
        "Table already exists: src",
        TargetTableName="src",
        BackupArn=arn,
    )
    missing = arn[:-1] + ("1" if arn[-1] == "0" else "0")
    expect(
        "BackupNotFoundException",
        400,
        ddb.restore_table_from_backup,
        f"Backup not found: {missing}",
        TargetTableName="new",
        BackupArn=missing,
    )
    expect(
        "ValidationException",
        400,
        ddb.restore_table_from_backup,
        "Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED",
        TargetTableName="new",
        BackupArn=arn,
        BillingModeOverride="PROVISIONED",
    )
    expect(
        "ResourceNotFoundException",
        400,
        ddb.describe_table,
        "Requested resource not found: Table: new not found",
        TableName="new",
    )


def test_point_in_time_recovery_restores_each_second(ddb, frozen):
    """UpdateContinuousBackups/DescribeContinuousBackups with bounds moving with the virtual
    clock; RestoreTableToPointInTime to a second between two writes equals the state then,
    UseLatestRestorableTime the state now (§2.8, §2.11)."""
    _table(ddb, "ledger")
    on = ddb.update_continuous_backups(
        TableName="ledger",
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": 7,
        },
    )["ContinuousBackupsDescription"]
    pitr = on["PointInTimeRecoveryDescription"]
    assert on["ContinuousBackupsStatus"] == "ENABLED"
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["RecoveryPeriodInDays"] == 7
    # Writes at T, T+10 and T+20; t1 and t2 are seconds between them.
    _put(ddb, "ledger", "a", 1, g="first")
    t1 = frozen(5)
    frozen(5)
    _put(ddb, "ledger", "a", 1, g="second")
    _put(ddb, "ledger", "b", 2, g="new")
    t2 = frozen(5)
    frozen(5)
    ddb.delete_item(TableName="ledger", Key={"pk": {"S": "b"}, "sk": {"N": "2"}})
    # LatestRestorableDateTime lags the clock by 5 minutes (§2.8).
    now = frozen(400)

    desc = ddb.describe_continuous_backups(TableName="ledger")["ContinuousBackupsDescription"]
    bounds = desc["PointInTimeRecoveryDescription"]
    earliest = bounds["EarliestRestorableDateTime"]
    latest = bounds["LatestRestorableDateTime"]
    assert earliest < t1 <= latest
    # (DynamoDB's timestamps carry milliseconds; the admin clock microseconds.)
    assert abs(now - latest - dt.timedelta(seconds=300)) < dt.timedelta(milliseconds=1)

    ddb.restore_table_to_point_in_time(
        SourceTableName="ledger", TargetTableName="at_t1", RestoreDateTime=t1
    )
    ddb.restore_table_to_point_in_time(
        SourceTableArn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ledger",
        TargetTableName="at_t2",
        RestoreDateTime=t2,
    )
    ddb.restore_table_to_point_in_time(
        SourceTableName="ledger", TargetTableName="latest", UseLatestRestorableTime=True
    )
    for name in ("at_t1", "at_t2", "latest"):
        _active(ddb, name)
    assert _items(ddb, "at_t1") == {("a", 1): "first"}
    assert _items(ddb, "at_t2") == {("a", 1): "second", ("b", 2): "new"}
    assert _items(ddb, "latest") == {("a", 1): "second"}
    # Restored tables do not inherit PITR.
    restored = ddb.describe_continuous_backups(TableName="at_t1")["ContinuousBackupsDescription"]
    assert restored["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"

    later = frozen(3600)
    moved = ddb.describe_continuous_backups(TableName="ledger")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    assert moved["EarliestRestorableDateTime"] == earliest
    assert moved["LatestRestorableDateTime"] > latest
    lag = later - moved["LatestRestorableDateTime"]
    assert abs(lag - dt.timedelta(seconds=300)) < dt.timedelta(milliseconds=1)


def test_point_in_time_errors_in_order(ddb, frozen):
    """RestoreTableToPointInTime errors in AWS's order: TableNotFound, then
    PointInTimeRecoveryUnavailable, InvalidRestoreTime quoting both bounds, then
    TableAlreadyExists (§2.11)."""
    expect(
        "TableNotFoundException",
        400,
        ddb.restore_table_to_point_in_time,
        "Table not found: nope",
        SourceTableName="nope",
        TargetTableName="dst",
        UseLatestRestorableTime=True,
    )
    _table(ddb, "src")
    expect(
        "PointInTimeRecoveryUnavailableException",
        400,
        ddb.restore_table_to_point_in_time,
        "Point in time recovery is not enabled for table 'src'",
        SourceTableName="src",
        TargetTableName="dst",
        UseLatestRestorableTime=True,
    )
    ddb.update_continuous_backups(
        TableName="src",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    bounds = ddb.describe_continuous_backups(TableName="src")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"
    ]
    fmt = "%Y-%m-%dT%H:%M:%SZ"

    def z(t: dt.datetime) -> str:
        return t.astimezone(dt.UTC).strftime(fmt)

    err = expect(
        "InvalidRestoreTimeException",
        400,
        ddb.restore_table_to_point_in_time,
        SourceTableName="src",
        TargetTableName="dst",
        RestoreDateTime=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    )
    assert err["Message"] == (
        f"RestoreDateTime '1970-01-01T00:00:00Z' must be within EarliestRestorableDateTime "
        f"'{z(bounds['EarliestRestorableDateTime'])}' and LatestRestorableDateTime "
        f"'{z(bounds['LatestRestorableDateTime'])}'"
    )
    expect(
        "TableAlreadyExistsException",
        400,
        ddb.restore_table_to_point_in_time,
        "Table already exists: src",
        SourceTableName="src",
        TargetTableName="src",
        UseLatestRestorableTime=True,
    )
    expect(
        "TableNotFoundException",
        400,
        ddb.update_continuous_backups,
        TableName="nope",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )


def test_deleting_a_pitr_table_leaves_a_hidden_system_backup(ddb, frozen):
    """DeleteTable on a PITR-enabled table creates `<table>$DeletedTableBackup` (SYSTEM),
    hidden from a default ListBackups, not deletable by the user, restorable, and expiring
    35 days later on the virtual clock (§2.12)."""
    _table(ddb, "gone")
    ddb.update_continuous_backups(
        TableName="gone",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    _put(ddb, "gone", "a", 1, g="kept")
    ddb.delete_table(TableName="gone")
    frozen(5)
    assert ddb.list_backups()["BackupSummaries"] == []
    system = ddb.list_backups(BackupType="SYSTEM")["BackupSummaries"]
    assert len(system) == 1
    sys_backup = system[0]
    assert sys_backup["BackupName"] == "gone$DeletedTableBackup"
    assert sys_backup["BackupType"] == "SYSTEM"
    assert sys_backup["BackupArn"].endswith("-00000000")
    assert sys_backup["BackupExpiryDateTime"] - sys_backup[
        "BackupCreationDateTime"
    ] == dt.timedelta(days=35)
    assert ddb.list_backups(BackupType="ALL")["BackupSummaries"] == system
    err = expect("ValidationException", 400, ddb.delete_backup, BackupArn=sys_backup["BackupArn"])
    assert err["Message"].startswith(
        f"User is not allowed to delete the system backup with arn {sys_backup['BackupArn']}."
    ), err
    ddb.restore_table_from_backup(TargetTableName="back", BackupArn=sys_backup["BackupArn"])
    _active(ddb, "back")
    assert _items(ddb, "back") == {("a", 1): "kept"}
    frozen(35 * 86_400)
    assert ddb.list_backups(BackupType="ALL")["BackupSummaries"] == []
