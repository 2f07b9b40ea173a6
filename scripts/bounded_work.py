#!/usr/bin/env python3
"""Times the hostile inputs of docs/reliability.md ("Bounded work per request") against a
running server: `scripts/bounded_work.py [http://127.0.0.1:8787/]`, with
`tidemark serve --in-memory` listening there. Creates the table `tbl`. Standard library only."""
import sys
ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8787/"
import urllib.request, json, time, base64
AUTH="AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000"
def call(op, body, label=None):
    data=json.dumps(body).encode()
    req=urllib.request.Request(ENDPOINT, data=data, headers={"X-Amz-Target":"DynamoDB_20120810."+op,"Content-Type":"application/x-amz-json-1.0","X-Amz-Date":"20260101T000000Z","Authorization":AUTH})
    t=time.time()
    try:
        r=urllib.request.urlopen(req, timeout=300); st=r.status; b=r.read()
    except urllib.error.HTTPError as e: st=e.code; b=e.read()
    dt=time.time()-t
    if label: print("%-55s %s %6.3fs %s" % (label, st, dt, b[:90]))
    return st,b
d=lambda n,s: "("*n+s+")"*n
call("CreateTable",{"TableName":"tbl","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"},"CreateTable")
time.sleep(1)
V={":v":{"S":"x"}}
call("PutItem",{"TableName":"tbl","Item":{"pk":{"S":"a"}},"ConditionExpression":d(449,"a = :v"),"ExpressionAttributeValues":V},"PutItem, 449-deep ConditionExpression")
call("Query",{"TableName":"tbl","KeyConditionExpression":d(445,"pk = :v"),"ExpressionAttributeValues":V},"Query, 445-deep KeyConditionExpression")
call("Scan",{"TableName":"tbl","FilterExpression":d(446,"a = :v"),"ExpressionAttributeValues":V},"Scan, 446-deep FilterExpression")
n=200000
call("PutItem",{"TableName":"tbl","Item":{"pk":{"S":"a"},"s":{"SS":["s%d"%i for i in range(n)]}}},"PutItem, 200,000-member SS, no duplicate")
call("PutItem",{"TableName":"tbl","Item":{"pk":{"S":"a"},"s":{"SS":["s%d"%i for i in range(n)]+["s0"]}}},"PutItem, 200,000-member SS + duplicate")
call("PutItem",{"TableName":"tbl","Item":{"pk":{"S":"a"},"s":{"NS":[str(i) for i in range(n)]}}},"PutItem, 200,000-member NS")
call("PutItem",{"TableName":"tbl","Item":{"pk":{"S":"a"},"s":{"BS":[base64.b64encode(i.to_bytes(4,'big')).decode() for i in range(n)]}}},"PutItem, 200,000-member BS")
reqs=[{"PutRequest":{"Item":{"pk":{"S":"b%d"%i},"s":{"SS":["s%d"%j for j in range(40000)]}}}} for i in range(25)]
call("BatchWriteItem",{"RequestItems":{"tbl":reqs}},"BatchWriteItem, 25 items x 40,000-member SS")
call("UpdateItem",{"TableName":"tbl","Key":{"pk":{"S":"b0"}},"UpdateExpression":"ADD s :v","ExpressionAttributeValues":{":v":{"SS":["s%d"%j for j in range(20000,60000)]}}},"UpdateItem, ADD 40,000 to a 40,000-member SS")
call("PutItem",{"TableName":"tbl","Item":{"pk":{"S":"c"}},"Expected":{"a%d"%i:{"Exists":False} for i in range(50000)}},"PutItem, 50,000 Expected entries")
call("GetItem",{"TableName":"tbl","Key":{"pk":{"S":"c"}},"AttributesToGet":["a%d"%i for i in range(100000)]},"GetItem, 100,000 AttributesToGet")
call("ListTables",{},"ListTables afterwards")
