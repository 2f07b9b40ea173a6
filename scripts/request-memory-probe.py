#!/usr/bin/env python3
"""Measures what large DynamoDB bodies cost a tidemark server (docs/reliability.md,
"Bounded memory per request"): starts `BINARY serve --in-memory` on a free loopback port,
sends CONC copies of one large PutItem at once while a loop of small PutItems runs on another
table, and prints the server's peak RSS growth (VmHWM), its RSS afterwards, the answers, and
the small writes' latencies. Loopback only; bounded by CONC requests and their duration.

usage: request-memory-probe.py BINARY KIND N CONC [serve flags...]
KIND: null | s | n (a list of N such values), map (N map entries), ss (a string set of N),
      deep (N nested lists), str (one string of N bytes), batch (a BatchWriteItem of 25
      items, each a list of N `{"N":"1"}`; the others are PutItems)
"""
import http.client
import json
import re
import subprocess
import sys
import threading
import time

binary, kind, n, conc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
proc = subprocess.Popen([binary, "serve", "--in-memory", "--listen", "127.0.0.1:0", *sys.argv[5:]],
                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
for line in proc.stderr:
    m = re.search(r"listening on http://(\S+):(\d+)", line)
    if m:
        host, port = m.group(1), int(m.group(2))
        break
threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()


def mib(field):
    for line in open(f"/proc/{proc.pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024


def call(op, body):
    c = http.client.HTTPConnection(host, port, timeout=600)
    c.request("POST", "/", body, {
        "X-Amz-Target": "DynamoDB_20120810." + op,
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Date": "20260101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/"
                         "dynamodb/aws4_request, SignedHeaders=host, Signature=00"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data[:120]


for table in ("big", "small"):
    call("CreateTable", json.dumps({
        "TableName": table, "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST"}))
elem = {"null": '{"NULL":true}', "s": '{"S":"x"}', "n": '{"N":"1"}'}
head = '{"TableName":"big","Item":{"k":{"S":"a"},"v":'
if kind in elem:
    value = '{"L":[' + ",".join([elem[kind]] * n) + ']}'
elif kind == "map":
    value = '{"M":{' + ",".join(f'"{i:x}":{{"NULL":true}}' for i in range(n)) + '}}'
elif kind == "ss":
    value = '{"SS":[' + ",".join(f'"{i:x}"' for i in range(n)) + ']}'
elif kind == "deep":
    value = '{"L":[' * n + '{"NULL":true}' + ']}' * n
elif kind == "str":
    value = '{"S":"' + "x" * n + '"}'
op = "PutItem"
if kind == "batch":
    op = "BatchWriteItem"
    items = ",".join('{"PutRequest":{"Item":{"k":{"S":"%d"},"v":{"L":[%s]}}}}'
                     % (i, ",".join(['{"N":"1"}'] * n)) for i in range(25))
    body = ('{"RequestItems":{"big":[' + items + ']}}').encode()
else:
    body = (head + value + "}}").encode()

idle = mib("VmRSS")
answers = []
started = time.time()
bigs = [threading.Thread(target=lambda: answers.append(call(op, body))) for _ in range(conc)]
for t in bigs:
    t.start()
lat = []
while any(t.is_alive() for t in bigs):
    t1 = time.time()
    call("PutItem", json.dumps({"TableName": "small", "Item": {"k": {"S": str(len(lat))}}}))
    lat.append(time.time() - t1)
    time.sleep(0.01)
for t in bigs:
    t.join()
elapsed = time.time() - started
time.sleep(2)
lat.sort()
grown = mib("VmHWM") - idle
print(f"{kind} n={n} body={len(body) / 1e6:.1f} MB x{conc}: idle {idle:.0f} MiB, peak +{grown:.0f} MiB "
      f"({grown * 1048576 / len(body):.0f}x body), after {mib('VmRSS'):.0f} MiB, {elapsed:.1f} s; "
      f"small writes n={len(lat)} p50={lat[len(lat) // 2] * 1000:.0f} ms "
      f"p99={lat[len(lat) * 99 // 100] * 1000:.0f} ms max={lat[-1] * 1000:.0f} ms; "
      f"answers {sorted(set(answers))}")
proc.terminate()
proc.wait()
