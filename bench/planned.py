"""Registered but unimplemented benchmarks: the plan, kept visible; never run or reported.

To implement one: write the body (return `summarize(samples)` or a metrics dict), drop
`implemented=False`, and list its goals. run.py and report.py need no change.
"""

from __future__ import annotations

from registry import Settings, benchmark
from targets import Target


def _planned(target: Target, settings: Settings) -> dict:
    raise NotImplementedError("planned benchmark")


for _name, _title, _unit, _higher, _only in [
    ("put_get_1_client", "PutItem/GetItem throughput, 1 client", "ops/s", True, False),
    ("put_get_32_clients", "PutItem/GetItem throughput, 32 clients", "ops/s", True, False),
    ("query_scan", "Query/Scan items per second", "items/s", True, False),
    ("backup_restore", "CreateBackup + RestoreTableFromBackup wall time", "ms", False, False),
    (
        "cli_invocation",
        "CLI wall time per invocation (tidemark CLI vs aws CLI v1)",
        "ms",
        False,
        False,
    ),
    # cargo run --release -p tidemark-vault --example vault_bench
    ("vault_throughput", "Vault chunk+hash+compress throughput", "MB/s", True, True),
]:
    benchmark(
        _name,
        _title,
        _unit,
        "planned",
        [("median", "median")],
        higher_is_better=_higher,
        implemented=False,
        tidemark_only=_only,
    )(_planned)
