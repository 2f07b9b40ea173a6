#!/bin/bash
# Instructions a tidemark build executes per small PutItem (deterministic, unlike throughput
# on a shared machine): runs `BINARY serve --in-memory` under valgrind's callgrind, sends 200
# warm-up PutItems, zeroes the counters, sends N more on one keep-alive connection, dumps,
# and prints Ir ÷ N (every thread of the server counted). Loopback only; ~30 s.
#   bench/put_instructions.sh BINARY [N=1000] [PORT=18911]
# Per-function differences: callgrind_annotate --inclusive=no OUT.1 for two builds.
set -euo pipefail
BIN=$1; N=${2:-1000}; PORT=${3:-18911}
# `serve` re-executes itself to set this when it is unset (tidemark-wire/src/allocator.rs),
# which would leave valgrind behind; set here, it runs as is.
export MIMALLOC_PURGE_DELAY=${MIMALLOC_PURGE_DELAY:-0}
OUT=$(mktemp -d)/callgrind.out
PY=${PYTHON:-python3}
valgrind --tool=callgrind --callgrind-out-file="$OUT" "$BIN" serve --in-memory \
  --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
VP=$!
trap 'kill $VP 2>/dev/null || true' EXIT
client() {
  timeout 300 "$PY" - "$PORT" "$1" <<'PYEOF'
import http.client, json, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.connect()
        break
    except OSError:
        time.sleep(0.1)
H = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Date": "20260101T000000Z",
     "Authorization": "AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/dynamodb/"
                      "aws4_request, SignedHeaders=host, Signature=00"}
def call(op, body):
    c.request("POST", "/", json.dumps(body), {**H, "X-Amz-Target": "DynamoDB_20120810." + op})
    r = c.getresponse()
    d = r.read()
    assert r.status == 200, d
if n < 0:
    call("CreateTable", {"TableName": "bench", "BillingMode": "PAY_PER_REQUEST",
                         "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                         "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})
    n = -n
for i in range(n):
    call("PutItem", {"TableName": "bench", "Item": {"pk": {"S": f"w{i}-{time.time()}"},
                                                    "v": {"S": "x" * 100}}})
PYEOF
}
client -200
callgrind_control -z "$VP" >/dev/null 2>&1
client "$N"
callgrind_control -d "$VP" >/dev/null 2>&1
IR=$(callgrind_annotate "$OUT.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "$BIN: $((IR / N)) instructions per PutItem ($IR for $N; profile $OUT.1)"
