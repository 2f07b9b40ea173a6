#!/usr/bin/env python3
"""Small-write latency on one table while big BatchWriteItems run on another
(docs/reliability.md, "Bounded memory per request"): starts `BINARY serve --in-memory` on a
free loopback port, sends ROUNDS BatchWriteItems of 25 items (each a list of N `{"N":"1"}`,
fresh keys every round) one after another from CONC clients, while one client loops small
PutItems (1 ms apart) on another table. Prints the small writes' p50/p99/max, and per batch
the longest small write that overlapped it (its stall). Loopback only, bounded by ROUNDS.

usage: batch-write-latency.py BINARY [N [ROUNDS [CONC]]]   (defaults: 20000 10 1)
"""
import http.client
import json
import re
import subprocess
import sys
import threading
import time

binary = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
conc = int(sys.argv[4]) if len(sys.argv) > 4 else 1
proc = subprocess.Popen([binary, "serve", "--in-memory", "--listen", "127.0.0.1:0"],
                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
for line in proc.stderr:
    m = re.search(r"listening on http://(\S+):(\d+)", line)
    if m:
        host, port = m.group(1), int(m.group(2))
        break
threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()


def call(conn, op, body):
    conn.request("POST", "/", body, {
        "X-Amz-Target": "DynamoDB_20120810." + op,
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Date": "20260101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/"
                         "dynamodb/aws4_request, SignedHeaders=host, Signature=00"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError(f"{op}: HTTP {r.status} {data[:200]!r}")


def connect():
    return http.client.HTTPConnection(host, port, timeout=600)


c = connect()
for table in ("big", "small"):
    call(c, "CreateTable", json.dumps({
        "TableName": table, "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST"}))
values = ",".join(['{"N":"1"}'] * n)


def batch_body(prefix):
    items = ",".join('{"PutRequest":{"Item":{"k":{"S":"%s-%d"},"v":{"L":[%s]}}}}'
                     % (prefix, i, values) for i in range(25))
    return ('{"RequestItems":{"big":[' + items + ']}}').encode()


batches = []  # (start, end)
lock = threading.Lock()


def big_client(who):
    conn = connect()
    for r in range(rounds):
        body = batch_body(f"{who}-{r}")
        t0 = time.perf_counter()
        call(conn, "BatchWriteItem", body)
        with lock:
            batches.append((t0, time.perf_counter()))


bigs = [threading.Thread(target=big_client, args=(i,)) for i in range(conc)]
for t in bigs:
    t.start()
small = []  # (start, end)
sc = connect()
while any(t.is_alive() for t in bigs):
    t0 = time.perf_counter()
    call(sc, "PutItem", json.dumps({"TableName": "small", "Item": {"k": {"S": str(len(small))}}}))
    small.append((t0, time.perf_counter()))
    time.sleep(0.001)
for t in bigs:
    t.join()
lat = sorted(b - a for a, b in small)
stalls = sorted(max([e - s for s, e in small if s < b1 and e > b0], default=0) for b0, b1 in batches)
btimes = sorted(b1 - b0 for b0, b1 in batches)
ms = lambda x: f"{x * 1000:.0f}"  # noqa: E731
print(f"batches: {len(batches)} x 25 items of {n} elements ({len(batch_body('x')) / 1e6:.1f} MB), "
      f"{conc} client(s), median {ms(btimes[len(btimes) // 2])} ms; small writes n={len(lat)} "
      f"p50={lat[len(lat) // 2] * 1000:.1f} ms p99={ms(lat[len(lat) * 99 // 100])} ms "
      f"max={ms(lat[-1])} ms; stall per batch median {ms(stalls[len(stalls) // 2])} ms, "
      f"max {ms(stalls[-1])} ms")
proc.terminate()
proc.wait(timeout=10)
