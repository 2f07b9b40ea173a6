"""CLI wall time per invocation: `tidemark dynamodb list-tables` against aws CLI v1's
`aws dynamodb list-tables`, paired (alternating) against the same tidemark server in one
run. Each sample is one whole process, spawn to exit, with stdout captured."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from registry import Goal, Metric, Settings, benchmark
from startup import start_and_wait
from targets import Target, stop

CLI_ISSUE = "aws-compatible client issue"


def _time_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, check=False, timeout=60)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or b"TableNames" not in proc.stdout:
        raise RuntimeError(f"{argv[0]} failed: {proc.returncode} {proc.stderr[-300:]!r}")
    return elapsed * 1000.0


@benchmark(
    "cli_invocation",
    "CLI wall time per invocation (tidemark CLI vs aws CLI v1)",
    "ms",
    "`dynamodb list-tables --endpoint-url …` as a whole process, spawn to exit, the two "
    "clients alternating against one tidemark server. The tidemark client is a release build "
    "(the server's binary, or the `tmcli` example named by TIDEMARK_BENCH_CLI_BIN).",
    [
        Metric("tidemark_median", "tidemark CLI median", unit="ms", higher_is_better=False),
        Metric("aws_median", "aws CLI v1 median", unit="ms", higher_is_better=False),
        Metric("speedup", "aws / tidemark (median)", unit="×", higher_is_better=True),
    ],
    goals=(
        Goal("tidemark_median", "<=", 10.0, "tidemark CLI median ≤ 10 ms", CLI_ISSUE),
        Goal("speedup", ">=", 30.0, "at least 30× faster than aws CLI v1", CLI_ISSUE),
    ),
    tidemark_only=True,
)
def cli_invocation(target: Target, settings: Settings) -> dict:
    # The client measured is the server's own binary (`tidemark dynamodb …`), unless
    # TIDEMARK_BENCH_CLI_BIN names another build of the client (e.g. the release `tmcli`
    # example, which runs the same `tidemark_cli::run`).
    binary = Path(os.environ.get("TIDEMARK_BENCH_CLI_BIN") or target.argv_template[0])
    aws = Path(sys.executable).parent / "aws"
    proc, port, _ = start_and_wait(target)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        env = dict(
            os.environ,
            AWS_ACCESS_KEY_ID="123456789012",
            AWS_SECRET_ACCESS_KEY="x",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        )
        args = ["dynamodb", "list-tables", "--endpoint-url", endpoint]
        runs = 5 if settings.quick else max(10, settings.runs)
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(_time_once([str(binary), *args], env))
            theirs.append(_time_once([str(aws), *args], env))
    finally:
        stop(proc)
    t, a = statistics.median(ours), statistics.median(theirs)
    return {
        "tidemark_median": t,
        "aws_median": a,
        "speedup": a / t,
        "samples": {"tidemark": ours, "aws": theirs},
    }
