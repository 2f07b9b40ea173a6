"""Registered but unimplemented benchmarks: the plan, kept visible; never run or reported.

To implement one: write the body (return `summarize(samples)` or a metrics dict), drop
`implemented=False`, and list its goals. run.py and report.py need no change.
"""

from __future__ import annotations

from registry import Settings, benchmark
from targets import Target


def _planned(target: Target, settings: Settings) -> dict:
    raise NotImplementedError("planned benchmark")


# (name, title, unit, higher_is_better, tidemark_only); empty: backup_restore moved to backup.py.
_PLANNED: list[tuple[str, str, str, bool, bool]] = []

for _name, _title, _unit, _higher, _only in _PLANNED:
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
