"""Redshift tag and snapshot-schedule errors over the wire with boto3: CreateTags, DeleteTags,
DescribeTags, Create/Modify/DeleteSnapshotSchedule and ModifyClusterSnapshotSchedule, each code
with its HTTP status (aws-behaviour.md §3.15, §3.16, §3.20)."""

from tm_helpers import expect

PASSWORD = "Passw0rd1"



def test_tags_on_a_missing_resource_are_404(redshift):
    """§3.15, §3.20: ResourceNotFoundFault (404) from CreateTags, DeleteTags and DescribeTags."""
    redshift.create_cluster(
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="adminuser",
        MasterUserPassword=PASSWORD, Tags=[{"Key": "k", "Value": "v"}],
    )
    arn = next(
        r["ResourceName"] for r in redshift.describe_tags(ResourceType="cluster")["TaggedResources"]
    )
    ghost = arn.rsplit(":", 1)[0] + ":ghost"
    expect(
        "ResourceNotFoundFault", 404, redshift.create_tags,
        ResourceName=ghost, Tags=[{"Key": "k", "Value": "v"}],
    )
    expect("ResourceNotFoundFault", 404, redshift.delete_tags, ResourceName=ghost, TagKeys=["k"])
    expect(
        "ResourceNotFoundFault", 404, redshift.describe_tags,
        f"The specified resource {ghost} was not found.", ResourceName=ghost,
    )


def test_tag_validation_errors(redshift):
    """§3.15, §3.20: bad keys → InvalidTagFault (400); more than 50 tags →
    TagLimitExceededFault (400); malformed ARN / resource type, DescribeTags MaxRecords outside
    10–50 → InvalidParameterValue (400); ResourceName+ResourceType →
    InvalidParameterCombination (400)."""
    redshift.create_cluster(
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="adminuser",
        MasterUserPassword=PASSWORD, Tags=[{"Key": "k", "Value": "v"}],
    )
    arn = redshift.describe_tags(ResourceType="cluster")["TaggedResources"][0]["ResourceName"]
    expect(
        "InvalidTagFault", 400, redshift.create_tags,
        ResourceName=arn, Tags=[{"Key": "aws:owned", "Value": "v"}],
    )
    expect(
        "TagLimitExceededFault", 400, redshift.create_tags,
        ResourceName=arn, Tags=[{"Key": f"n{i}", "Value": "v"} for i in range(50)],
    )
    expect(
        "InvalidParameterValue", 400, redshift.create_tags,
        ResourceName="not-an-arn", Tags=[{"Key": "k", "Value": "v"}],
    )
    expect(
        "InvalidParameterValue", 400, redshift.describe_tags,
        "MaxRecords must be between 10 and 50.", MaxRecords=51,
    )
    expect("InvalidParameterValue", 400, redshift.describe_tags, ResourceType="table")
    expect(
        "InvalidParameterCombination", 400, redshift.describe_tags,
        ResourceName=arn, ResourceType="cluster",
    )


def test_snapshot_schedule_errors(redshift):
    """§3.16, §3.20: InvalidSchedule, ScheduleDefinitionTypeUnsupported,
    SnapshotScheduleAlreadyExists, SnapshotScheduleNotFound (all 400, the latter is 400 not
    404 in the model), InvalidClusterSnapshotScheduleState (400)."""
    expect(
        "InvalidSchedule", 400, redshift.create_snapshot_schedule,
        ScheduleIdentifier="s1", ScheduleDefinitions=["rate(25 hours)"],
    )
    expect(
        "ScheduleDefinitionTypeUnsupported", 400, redshift.create_snapshot_schedule,
        ScheduleIdentifier="s1", ScheduleDefinitions=["every day"],
    )
    redshift.create_snapshot_schedule(ScheduleIdentifier="s1", ScheduleDefinitions=["rate(12 hours)"])
    expect(
        "SnapshotScheduleAlreadyExists", 400, redshift.create_snapshot_schedule,
        ScheduleIdentifier="s1", ScheduleDefinitions=["rate(12 hours)"],
    )
    expect(
        "InvalidSchedule", 400, redshift.modify_snapshot_schedule,
        ScheduleIdentifier="s1", ScheduleDefinitions=["cron(0 25 * * ? *)"],
    )
    expect(
        "SnapshotScheduleNotFound", 400, redshift.modify_snapshot_schedule,
        ScheduleIdentifier="ghost", ScheduleDefinitions=["rate(12 hours)"],
    )
    expect("SnapshotScheduleNotFound", 400, redshift.delete_snapshot_schedule, ScheduleIdentifier="ghost")

    redshift.create_cluster(
        ClusterIdentifier="c1", NodeType="dc2.large", MasterUsername="adminuser",
        MasterUserPassword=PASSWORD,
    )
    expect(
        "ClusterNotFound", 404, redshift.modify_cluster_snapshot_schedule,
        ClusterIdentifier="ghost", ScheduleIdentifier="s1",
    )
    expect(
        "SnapshotScheduleNotFound", 400, redshift.modify_cluster_snapshot_schedule,
        ClusterIdentifier="c1", ScheduleIdentifier="ghost",
    )
    expect(
        "InvalidClusterSnapshotScheduleState", 400, redshift.modify_cluster_snapshot_schedule,
        ClusterIdentifier="c1", DisassociateSchedule=True,
    )
    expect(
        "InvalidParameterCombination", 400, redshift.modify_cluster_snapshot_schedule,
        ClusterIdentifier="c1",
    )
    redshift.modify_cluster_snapshot_schedule(ClusterIdentifier="c1", ScheduleIdentifier="s1")
    expect(
        "InvalidClusterSnapshotScheduleState", 400, redshift.delete_snapshot_schedule,
        ScheduleIdentifier="s1",
    )
