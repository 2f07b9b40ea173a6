#!/usr/bin/env bash
# Recreates models/dynamodb.json, models/redshift.json and models/redshift-data.json from a pinned
# botocore release.
#
# The files are botocore's service-2.json with every `documentation`/`documentationUrl` key
# removed, paginators-1.json's `pagination` object merged in as `x-paginators`, waiters-2.json's
# `waiters` object as `x-waiters` (redshift-data ships no waiters: none is added), and an `x-source` key recording origin and licence. The JSON is
# written with Python's json.dump(indent=1) and no trailing newline, which is how the committed
# files were produced, so a refresh of the same release reproduces them byte for byte.
#
# Usage: scripts/refresh-models.sh [VERSION]  (needs python3 and pip; network access to PyPI)
# VERSION defaults to the release the committed models come from (below); giving a newer one
# refreshes to it: then also move the pins in tests/blackbox/requirements.txt (boto3,
# botocore) and the version in models/README.md and README.md, run the codegen and commit.
# After a refresh run `cargo xtask codegen` and commit both the models and the generated code.
set -euo pipefail

BOTOCORE_VERSION="${1:-1.44.18}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 -m pip download --quiet --no-deps --only-binary=:all: \
  "botocore==${BOTOCORE_VERSION}" -d "$WORK/dl"
WHEEL="$(ls "$WORK"/dl/botocore-"${BOTOCORE_VERSION}"-*.whl)"

python3 - "$WHEEL" "$ROOT/models" "$BOTOCORE_VERSION" <<'PY'
import gzip
import json
import sys
import zipfile

wheel, out_dir, version = sys.argv[1], sys.argv[2], sys.argv[3]
SERVICES = {"dynamodb": "2012-08-10", "redshift": "2012-12-01", "redshift-data": "2019-12-20"}
NOTE = ("Derived from botocore service model with all documentation/documentationUrl keys "
        "removed; paginators-1.json and waiters-2.json merged in as x-paginators and x-waiters.")


def strip_docs(node):
    if isinstance(node, dict):
        return {k: strip_docs(v) for k, v in node.items()
                if k not in ("documentation", "documentationUrl")}
    if isinstance(node, list):
        return [strip_docs(v) for v in node]
    return node


with zipfile.ZipFile(wheel) as zf:
    names = set(zf.namelist())

    def load(path):
        # Recent botocore wheels ship some data files gzip-compressed (`*.json.gz`).
        if path in names:
            with zf.open(path) as f:
                return json.load(f)
        with zf.open(path + ".gz") as f:
            return json.loads(gzip.decompress(f.read()))

    for service, api_version in SERVICES.items():
        base = f"botocore/data/{service}/{api_version}/"
        model = strip_docs(load(base + "service-2.json"))
        model["x-paginators"] = load(base + "paginators-1.json")["pagination"]
        if base + "waiters-2.json" in names or base + "waiters-2.json.gz" in names:
            model["x-waiters"] = load(base + "waiters-2.json")["waiters"]
        model["x-source"] = {
            "package": "botocore",
            "version": version,
            "license": "Apache-2.0",
            "note": NOTE,
        }
        with open(f"{out_dir}/{service}.json", "w", encoding="utf-8") as f:
            json.dump(model, f, indent=1)
        print(f"wrote models/{service}.json")
PY
