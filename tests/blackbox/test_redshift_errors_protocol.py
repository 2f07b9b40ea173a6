"""Redshift query-protocol common errors (aws-behaviour.md §1.3, §3.20 non-modelled codes):
MissingParameter through a boto3 client with client-side validation off, and
MissingAction / InvalidAction / InvalidParameterValue (bad integer) through raw signed POSTs,
each with its HTTP status and the awsQuery <ErrorResponse> shape."""

import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from tm_helpers import HTTP_TIMEOUT, signed_headers

NS = {"rs": "http://redshift.amazonaws.com/doc/2012-12-01/"}


@pytest.fixture
def unvalidated(boto_session, endpoint):
    """A Redshift client that sends requests botocore would refuse (missing required members)."""
    return boto_session.client(
        "redshift",
        endpoint_url=endpoint,
        config=Config(
            parameter_validation=False, retries={"total_max_attempts": 1, "mode": "standard"}
        ),
    )


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("delete_cluster", {"SkipFinalClusterSnapshot": True}),
        ("create_cluster_snapshot", {"ClusterIdentifier": "c1"}),
        ("delete_cluster_snapshot", {}),
        ("copy_cluster_snapshot", {"TargetSnapshotIdentifier": "t1"}),
        ("create_cluster", {"ClusterIdentifier": "c1", "MasterUsername": "adminuser"}),
        ("create_tags", {"Tags": [{"Key": "k", "Value": "v"}]}),
        ("authorize_snapshot_access", {"SnapshotIdentifier": "s1"}),
    ],
)
def test_missing_required_parameter(unvalidated, operation, kwargs):
    """§1.3, §3.20: a required member absent → MissingParameter (400)."""
    with pytest.raises(ClientError) as info:
        getattr(unvalidated, operation)(**kwargs)
    resp = info.value.response
    assert resp["Error"]["Code"] == "MissingParameter", resp
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400


def _post(endpoint: str, body: str) -> requests.Response:
    data = body.encode()
    headers = signed_headers(
        endpoint,
        "redshift",
        data,
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    return requests.post(endpoint + "/", data=data, headers=headers, timeout=HTTP_TIMEOUT)


def _code(resp: requests.Response) -> str:
    root = ET.fromstring(resp.content)
    assert root.tag == "{%s}ErrorResponse" % NS["rs"], resp.text
    assert root.find("rs:Error/rs:Type", NS).text == "Sender"
    assert root.find("rs:RequestId", NS) is not None, "RequestId is a sibling of Error"
    return root.find("rs:Error/rs:Code", NS).text


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("Version=2012-12-01", "MissingAction"),
        ("Action=NoSuchOperation&Version=2012-12-01", "InvalidAction"),
        ("Action=DescribeClusters&Version=2012-12-01&MaxRecords=abc", "InvalidParameterValue"),
        ("Action=DescribeClusters&Version=2012-12-01&MaxRecords=5", "InvalidParameterValue"),
        ("Action=DeleteClusterSnapshot&Version=2012-12-01", "MissingParameter"),
    ],
)
def test_raw_query_errors(endpoint, body, code):
    """§1.3: protocol-level failures are 400 with the common code in an <ErrorResponse>."""
    resp = _post(endpoint, body)
    assert resp.status_code == 400, resp.text
    assert _code(resp) == code


def test_cluster_not_found_raw_shape(endpoint):
    """§1.3 captured error shape: 404, Sender, `Cluster <id> not found.`."""
    resp = _post(endpoint, "Action=DescribeClusters&Version=2012-12-01&ClusterIdentifier=ghost")
    assert resp.status_code == 404
    assert _code(resp) == "ClusterNotFound"
    root = ET.fromstring(resp.content)
    assert root.find("rs:Error/rs:Message", NS).text == "Cluster ghost not found."
