"""A/B throughput of two tidemark builds on this machine: PutItem (wrk, in memory and on disk),
BatchWriteItem loading and paginated Scan, with the two binaries alternated run by run
(A B A B …) so that the machine's drifting load falls on both alike. Prints every run, then
per metric the median of each binary and the ratio B ÷ A (with the median of the per-round
ratios). Used for issue #21's "the hardening costs ≤ 5%" check (docs/reliability.md).

    bench/ab.py --build cd85f8a HEAD            # builds both revisions (release), then runs
    bench/ab.py --bin-a OLD/tidemark --bin-b NEW/tidemark [--rounds 5] [--seconds 4]

`--build` makes a git worktree per revision under bench/out/ab/<rev>/src and builds it with
its own target directory (`nice -n 10 cargo build --release -p tidemark`; ~10-25 min each on
2 shared cores). Loopback only; every server is a fresh process, stopped after its run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clients import running, wrk_available, wrk_load  # noqa: E402
from dynamo import TABLE as PUT_TABLE  # noqa: E402
from dynamo import PAYLOAD, _wrk_headers, create_table  # noqa: E402
from query_scan import TABLE as SCAN_TABLE  # noqa: E402
from query_scan import _load, _raw_pass  # noqa: E402
from clients import boto_client  # noqa: E402
from targets import Target, tidemark_disk_target, tidemark_target  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out" / "ab"
SCAN_ITEMS = 20_000
SCAN_PASSES = 5

METRICS = (
    ("put_mem", "PutItem ops/s, wrk -c32, --in-memory"),
    ("put_disk", "PutItem ops/s, wrk -c32, --data-dir"),
    ("put_mem_cpu", "server CPU µs per PutItem, --in-memory (lower is better)"),
    ("put_disk_cpu", "server CPU µs per PutItem, --data-dir (lower is better)"),
    ("load", f"BatchWriteItem items/s, {SCAN_ITEMS:,} items, 2 connections, --in-memory"),
    ("scan_server", "Scan items/s, server side (raw client, wait only), --in-memory"),
    ("scan_raw", "Scan items/s, raw client incl. JSON decode, --in-memory"),
)


def build(rev: str) -> Path:
    """A release binary of `rev` (git revision), built in its own worktree and target dir."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    base = OUT / sha
    src, target = base / "src", base / "target"
    if not src.exists():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(src), sha], check=True
        )
    subprocess.run(
        ["nice", "-n", "10", "cargo", "build", "--release", "-p", "tidemark", "--bin", "tidemark"],
        cwd=src, check=True,
        env={**__import__("os").environ, "CARGO_TARGET_DIR": str(target), "CARGO_INCREMENTAL": "0"},
    )
    return target / "release" / "tidemark"


def put_rate(target: Target, seconds: float) -> tuple[float, float]:
    """PutItem ops/s and the server's CPU microseconds per PutItem."""
    with running(target) as (port, pid):
        create_table(port)
        body_lua = (
            f'\'{{"TableName":"{PUT_TABLE}","Item":{{"pk":{{"S":"w\' .. n .. '
            f'\'"}},"v":{{"S":"{PAYLOAD}"}}}}}}\''
        )
        res = wrk_load(port, _wrk_headers(port, "PutItem"), body_lua, 32, seconds, pid)
        if res["errors"]:
            raise RuntimeError(f"{target.name}: {res['errors']} PutItem errors")
        return res["ops_s"], res["server_cores"] / res["ops_s"] * 1e6


def load_and_scan(target: Target) -> dict[str, float]:
    with running(target) as (port, _pid):
        boto_client("dynamodb", port).create_table(
            TableName=SCAN_TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        load_s = _load(port, SCAN_ITEMS)
        waits: list[float] = []
        totals: list[float] = []
        for _ in range(SCAN_PASSES):
            began = time.perf_counter()
            got = _raw_pass(port, {"TableName": SCAN_TABLE}, "Scan", waits)
            totals.append(time.perf_counter() - began)
            if got != SCAN_ITEMS:
                raise RuntimeError(f"Scan read {got} items, expected {SCAN_ITEMS}")
        return {
            "load": SCAN_ITEMS / load_s,
            "scan_server": SCAN_ITEMS / statistics.median(waits),
            "scan_raw": SCAN_ITEMS / statistics.median(totals),
        }


def one_run(binary: Path, seconds: float, only: set[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    if "put" in only:
        out["put_mem"], out["put_mem_cpu"] = put_rate(tidemark_target(binary), seconds)
    if "put_disk" in only:
        out["put_disk"], out["put_disk_cpu"] = put_rate(tidemark_disk_target(binary), seconds)
    if "scan" in only:
        out.update(load_and_scan(tidemark_target(binary)))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--bin-a", type=Path)
    p.add_argument("--bin-b", type=Path)
    p.add_argument("--build", nargs=2, metavar=("REV_A", "REV_B"))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=4.0, help="wrk duration per PutItem run")
    p.add_argument(
        "--only", default="put,put_disk,scan",
        help="comma-separated groups: put (in memory), put_disk, scan (BatchWriteItem load + Scan)",
    )
    args = p.parse_args()
    if not wrk_available():
        sys.exit("wrk is not on PATH (apt-get install wrk)")
    if args.build:
        a, b = build(args.build[0]), build(args.build[1])
    elif args.bin_a and args.bin_b:
        a, b = args.bin_a, args.bin_b
    else:
        sys.exit("give --build REV_A REV_B or --bin-a and --bin-b")
    print(f"A = {a}\nB = {b}\nrounds = {args.rounds}, order A B per round", flush=True)
    runs: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
    for r in range(args.rounds):
        for label, binary in (("A", a), ("B", b)):
            res = one_run(binary, args.seconds, set(args.only.split(",")))
            runs[label].append(res)
            cells = "  ".join(f"{k}={res[k]:,.0f}" for k, _ in METRICS if k in res)
            print(f"round {r + 1} {label}: {cells}", flush=True)
    print()
    print("| metric | A median | B median | B ÷ A | median of per-round B ÷ A |")
    print("|---|---:|---:|---:|---:|")
    for key, label in METRICS:
        if key not in runs["A"][0]:
            continue
        ma = statistics.median(x[key] for x in runs["A"])
        mb = statistics.median(x[key] for x in runs["B"])
        paired = statistics.median(
            rb[key] / ra[key] for ra, rb in zip(runs["A"], runs["B"], strict=True)
        )
        print(f"| {label} | {ma:,.0f} | {mb:,.0f} | {mb / ma:.3f} | {paired:.3f} |")


if __name__ == "__main__":
    main()
