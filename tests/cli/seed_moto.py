"""Seeds a moto_server with the DynamoDB and Redshift state the differential corpus reads."""

import sys

import boto3


def seed(endpoint: str) -> None:
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    d = boto3.client("dynamodb", **kw)
    for t in ["Cli", "Music", "Émoji", "Zeta"]:
        d.create_table(
            TableName=t,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    d.put_item(
        TableName="Cli",
        Item={
            "id": {"S": "1"},
            "n": {"N": "1.50"},
            "b": {"B": b"\x00\x01"},
            "l": {"L": [{"S": "ü"}, {"BOOL": True}]},
            "m": {"M": {"z": {"NULL": True}, "a": {"SS": ["x", "y"]}}},
        },
    )
    d.create_backup(TableName="Cli", BackupName="first")
    r = boto3.client("redshift", **kw)
    r.create_cluster(
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="admin", MasterUserPassword="Passw0rd!",
        NumberOfNodes=2, Tags=[{"Key": "env", "Value": "dev"}],
    )
    r.create_cluster(
        ClusterIdentifier="c2", NodeType="ra3.xlplus", MasterUsername="admin", MasterUserPassword="Passw0rd!",
        ClusterType="single-node",
    )
    r.create_cluster_snapshot(SnapshotIdentifier="s1", ClusterIdentifier="c1")


def seed_tidemark(endpoint: str) -> None:
    """The subset of the moto state that tidemark's own server implements so far."""
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    d = boto3.client("dynamodb", **kw)
    for t in ["Cli", "Music"]:
        d.create_table(
            TableName=t,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    d.put_item(TableName="Cli", Item={"id": {"S": "1"}, "n": {"N": "1.50"}, "l": {"L": [{"S": "ü"}, {"BOOL": True}]}})
    r = boto3.client("redshift", **kw)
    r.create_cluster(
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="admin", MasterUserPassword="Passw0rd!",
        NumberOfNodes=2,
    )


if __name__ == "__main__":
    seed(sys.argv[1])
