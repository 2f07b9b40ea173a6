#!/usr/bin/env bash
# Measures how soon a server heals after a full disk (docs/reliability.md, "Faults heal").
# Usage (root, to mount a tmpfs): scripts/disk-full-heal.sh FULL_SECONDS [BIN]
# Starts BIN (default target/debug/tidemark) on a 48 MiB tmpfs, fills the disk with dd,
# writes 8 KiB PutItems until they fail, keeps the disk full FULL_SECONDS, frees it, and
# prints the milliseconds until GET /_tidemark/health answers 200 again.
set -u
BIN=${2:-target/debug/tidemark}
M=$(mktemp -d)
mount -t tmpfs -o size=48m tmpfs "$M"
"$BIN" serve --listen 127.0.0.1:18787 --data-dir "$M/data" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; umount -l "$M"; rmdir "$M"' EXIT
sleep 0.5
A='AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00'
d() {
    curl -s -o /dev/null -w '%{http_code}' -XPOST localhost:18787/ \
        -H "X-Amz-Target: DynamoDB_20120810.$1" -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Date: 20260101T000000Z' -H "Authorization: $A" -d "$2"
}
health() { curl -s -o /dev/null -w '%{http_code}' localhost:18787/_tidemark/health; }
d CreateTable '{"TableName":"heal","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}' >/dev/null
sleep 0.5
P=$(printf 'x%.0s' $(seq 8192))
dd if=/dev/zero of="$M/filler" bs=4k 2>/dev/null
i=0
while [ "$(d PutItem "{\"TableName\":\"heal\",\"Item\":{\"pk\":{\"S\":\"k$i\"},\"v\":{\"S\":\"$P\"}}}")" = 200 ]; do
    i=$((i + 1))
done
# The store's checkpoint may free some log space: take it too.
dd if=/dev/zero of="$M/filler2" bs=4k 2>/dev/null
echo "writes failed after $i more; health: $(curl -s localhost:18787/_tidemark/health)"
sleep "$1"
rm "$M/filler" "$M/filler2"
t0=$(date +%s%N)
until [ "$(health)" = 200 ]; do sleep 0.005; done
t1=$(date +%s%N)
echo "full for $1 s: healthy $(((t1 - t0) / 1000000)) ms after the space was freed;" \
    "PutItem then: $(d PutItem '{"TableName":"heal","Item":{"pk":{"S":"after"}}}')"
