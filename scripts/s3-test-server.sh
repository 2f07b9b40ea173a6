#!/usr/bin/env bash
# Starts s3s-fs (an S3-compatible server that verifies SigV4) on loopback for the vault's
# S3 conformance test, installing it first if missing. Prints shell exports; use as
#   eval "$(scripts/s3-test-server.sh [port])"
#   cargo test -p tidemark-vault --test conformance
#   kill "$TIDEMARK_TEST_S3_PID"
set -euo pipefail

PORT="${1:-${TIDEMARK_TEST_S3_PORT:-9014}}"
VERSION=0.14.1   # 0.15+ needs Rust 1.96
BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"
BIN="$BIN_DIR/s3s-fs"
BUCKET=tidemark-test
ACCESS_KEY=tidemarktest
SECRET_KEY=tidemarktestsecret

if ! "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "installing s3s-fs $VERSION into $BIN_DIR (takes a few minutes)" >&2
  cargo install s3s-fs --version "$VERSION" --features binary --locked >&2
fi

ROOT="$(mktemp -d "${TMPDIR:-/tmp}/tidemark-s3.XXXXXX")"
mkdir -p "$ROOT/$BUCKET"   # s3s-fs serves each top-level directory as a bucket
LOG="$ROOT.log"
"$BIN" --host 127.0.0.1 --port "$PORT" --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" \
  "$ROOT" >"$LOG" 2>&1 &
PID=$!

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    break
  fi
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "s3s-fs exited; log follows" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.1
done

echo "s3s-fs pid $PID serving $ROOT at http://127.0.0.1:$PORT (log $LOG)" >&2
cat <<EXPORTS
export TIDEMARK_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT
export TIDEMARK_TEST_S3_BUCKET=$BUCKET
export TIDEMARK_TEST_S3_ACCESS_KEY=$ACCESS_KEY
export TIDEMARK_TEST_S3_SECRET_KEY=$SECRET_KEY
export TIDEMARK_TEST_S3_PID=$PID
EXPORTS
