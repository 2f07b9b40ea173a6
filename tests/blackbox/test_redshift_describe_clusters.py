"""Redshift DescribeClusters on a fresh server: awsQuery request, XML response."""


def test_boto3_describe_clusters_empty(redshift):
    """No clusters yet: DescribeClusters → `Clusters: []`, which needs the empty list
    element `<Clusters/>` in the XML result (aws-behaviour.md §1.3 Response, §3.8)."""
    resp = redshift.describe_clusters()
    assert resp["Clusters"] == []
    assert "Marker" not in resp
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["ResponseMetadata"]["RequestId"]


def test_cli_describe_clusters_exact_output(aws_cli):
    """aws CLI v1 prints the empty Clusters list exactly like against real AWS
    (aws-behaviour.md §3.8; aws-cli-v1-transcripts.txt format)."""
    result = aws_cli("redshift", "describe-clusters")
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{\n    "Clusters": []\n}\n'
