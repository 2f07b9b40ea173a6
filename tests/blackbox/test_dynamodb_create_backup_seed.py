"""The create-backup seed page, run with the real aws CLI v1 (issue: DynamoDB backups;
aws-behaviour.md §2.4, §1.4 ARN form, Appendix B)."""

import json
import re

import requests
from tm_helpers import wait_until



def _music_collection(ddb):
    ddb.create_table(
        TableName="MusicCollection",
        AttributeDefinitions=[
            {"AttributeName": "Artist", "AttributeType": "S"},
            {"AttributeName": "SongTitle", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "Artist", "KeyType": "HASH"},
            {"AttributeName": "SongTitle", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    wait_until(
        lambda: ddb.describe_table(TableName="MusicCollection")["Table"]["TableStatus"] == "ACTIVE",
        "table ACTIVE",
    )
    for i in range(25):
        ddb.put_item(
            TableName="MusicCollection",
            Item={"Artist": {"S": f"Artist {i % 5}"}, "SongTitle": {"S": f"Song {i}"}},
        )


def test_seed_create_backup_prints_the_documented_shape(aws_cli, ddb, endpoint):
    """Seed example: `aws dynamodb create-backup --table-name MusicCollection --backup-name
    MusicCollectionBackup` prints BackupDetails with status CREATING, type USER, an ARN of
    the form table/<T>/backup/<14-digit ms>-<8 hex>, and the creation time as epoch seconds
    with milliseconds; the backup then becomes AVAILABLE with its real size."""
    requests.post(f"{endpoint}/_tidemark/clock", json={"freeze": True}, timeout=10).raise_for_status()
    _music_collection(ddb)
    out = aws_cli(
        "dynamodb", "create-backup",
        "--table-name", "MusicCollection",
        "--backup-name", "MusicCollectionBackup",
    )
    assert out.returncode == 0, out.stderr
    assert list(json.loads(out.stdout)) == ["BackupDetails"]
    details = json.loads(out.stdout)["BackupDetails"]
    assert re.fullmatch(
        r"arn:aws:dynamodb:us-east-1:123456789012:table/MusicCollection/backup/0\d{13}-[0-9a-f]{8}",
        details["BackupArn"],
    ), details["BackupArn"]
    assert details["BackupName"] == "MusicCollectionBackup"
    assert details["BackupStatus"] == "CREATING"
    assert details["BackupType"] == "USER"
    assert isinstance(details["BackupCreationDateTime"], (int, float))
    assert re.search(r'"BackupCreationDateTime": \d+(\.\d{1,3})?\n', out.stdout), out.stdout
    millis = int(details["BackupArn"].rsplit("/", 1)[1].split("-")[0])
    assert millis == round(details["BackupCreationDateTime"] * 1000)

    described = wait_until(
        lambda: (
            d := ddb.describe_backup(BackupArn=details["BackupArn"])["BackupDescription"][
                "BackupDetails"
            ]
        )["BackupStatus"]
        == "AVAILABLE"
        and d,
        "backup AVAILABLE",
    )
    assert described["BackupSizeBytes"] > 0

    again = aws_cli("dynamodb", "create-backup", "--table-name", "Nope", "--backup-name", "backup1")
    assert again.returncode == 255
    assert "An error occurred (TableNotFoundException) when calling the CreateBackup operation" in again.stderr
