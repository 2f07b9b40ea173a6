"""DynamoDB Query and Scan through boto3: key conditions, paging, filters, segments, errors."""

import pytest
from tm_helpers import client_error, create_pk_sk_table

TABLE = "qscan"




@pytest.fixture
def table(ddb) -> str:
    create_pk_sk_table(ddb, TABLE)
    for pk in ("a", "b"):
        for sk in range(10):
            ddb.put_item(
                TableName=TABLE,
                Item={"pk": {"S": pk}, "sk": {"N": str(sk)}, "even": {"BOOL": sk % 2 == 0}},
            )
    return TABLE


def test_query_between_descending(ddb, table):
    """Query with `pk = :p AND sk BETWEEN :lo AND :hi`, ScanIndexForward=false returns the
    range in descending sort-key order (§4.3 reads: key conditions, ScanIndexForward)."""
    resp = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
        ExpressionAttributeValues={":p": {"S": "a"}, ":lo": {"N": "3"}, ":hi": {"N": "5"}},
        ScanIndexForward=False,
    )
    assert [i["sk"]["N"] for i in resp["Items"]] == ["5", "4", "3"]
    assert resp["Count"] == 3
    assert resp["ScannedCount"] == 3


def test_query_pages_with_limit(ddb, table):
    """Limit pages the result and LastEvaluatedKey/ExclusiveStartKey resume it (§1.5, §4.3)."""
    seen: list[str] = []
    start = None
    for _ in range(10):
        kwargs = {"ExclusiveStartKey": start} if start else {}
        resp = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "b"}},
            Limit=4,
            **kwargs,
        )
        seen += [i["sk"]["N"] for i in resp["Items"]]
        start = resp.get("LastEvaluatedKey")
        if start is None:
            break
        assert start == {"pk": {"S": "b"}, "sk": {"N": seen[-1]}}
    assert seen == [str(i) for i in range(10)]


def test_query_filter_and_count(ddb, table):
    """FilterExpression applies after the key condition: Count counts matches, ScannedCount
    counts evaluated items; Select=COUNT returns no Items (§4.3 FilterExpression, Select)."""
    resp = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p AND sk < :s",
        FilterExpression="even = :t",
        ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"N": "6"}, ":t": {"BOOL": True}},
        Select="COUNT",
    )
    assert resp["Count"] == 3
    assert resp["ScannedCount"] == 6
    assert "Items" not in resp


def test_query_missing_table(ddb):
    """Query on a missing table → ResourceNotFoundException `Requested resource not found`
    (Appendix A)."""
    err = client_error(
        lambda: ddb.query(
            TableName="nope",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "a"}},
        )
    )
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found"


def test_query_missing_hash_key_condition(ddb, table):
    """A key condition on the sort key only → `Query condition missed key schema element:
    pk` (§4.3 key conditions)."""
    err = client_error(
        lambda: ddb.query(
            TableName=table,
            KeyConditionExpression="sk = :s",
            ExpressionAttributeValues={":s": {"N": "1"}},
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "Query condition missed key schema element: pk"


def test_query_without_key_condition(ddb, table):
    """A Query without KeyConditionExpression/KeyConditions is refused with DynamoDB's
    `Either the KeyConditions or KeyConditionExpression parameter must be specified`."""
    err = client_error(lambda: ddb.query(TableName=table))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
        "the request."
    )


def test_query_invalid_key_operator(ddb, table):
    """`<>` is not a key-condition operator → `Invalid operator used in
    KeyConditionExpression: <>`."""
    err = client_error(
        lambda: ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p AND sk <> :s",
            ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"N": "1"}},
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "Invalid operator used in KeyConditionExpression: <>"


def test_scan_all_and_filter(ddb, table):
    """Scan returns every item; a FilterExpression narrows Count but not ScannedCount (§4.3)."""
    assert ddb.scan(TableName=table)["Count"] == 20
    resp = ddb.scan(
        TableName=table,
        FilterExpression="sk >= :s",
        ExpressionAttributeValues={":s": {"N": "8"}},
    )
    assert resp["Count"] == 4
    assert resp["ScannedCount"] == 20


def test_scan_parallel_segments_partition_items(ddb, table):
    """Segment/TotalSegments split a Scan into disjoint parts whose union is the table
    (§4.3 parallel Scan)."""
    parts = [
        {
            (i["pk"]["S"], i["sk"]["N"])
            for i in ddb.scan(TableName=table, Segment=s, TotalSegments=3)["Items"]
        }
        for s in range(3)
    ]
    union = set().union(*parts)
    assert len(union) == 20
    assert sum(len(p) for p in parts) == 20


def test_scan_missing_table(ddb):
    """Scan on a missing table → ResourceNotFoundException `Requested resource not found`."""
    err = client_error(lambda: ddb.scan(TableName="nope"))
    assert err["Code"] == "ResourceNotFoundException"
    assert err["Message"] == "Requested resource not found"


def test_scan_segment_without_total(ddb, table):
    """Segment without TotalSegments is a ValidationException (§4.3 parallel Scan)."""
    err = client_error(lambda: ddb.scan(TableName=table, Segment=1))
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "The TotalSegments parameter is required but was not present in the request when "
        "Segment parameter is present"
    )


def test_query_unknown_index(ddb, table):
    """IndexName naming no index → ValidationException `The table does not have the
    specified index: <name>` (§4.3 IndexName)."""
    err = client_error(
        lambda: ddb.query(
            TableName=table,
            IndexName="nope",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "a"}},
        )
    )
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "The table does not have the specified index: nope"
