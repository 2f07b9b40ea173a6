"""Benchmark registry: one decorated function per benchmark, with goals and display metadata."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from targets import Target


@dataclass(frozen=True)
class Goal:
    """A published target for tidemark, e.g. median cold start <= 20 ms (from an issue)."""

    metric: str
    op: str  # "<=" or ">="
    threshold: float
    label: str
    source: str
    # True: `threshold` is a multiple of moto's value of the same metric in the same run
    # (e.g. >= 30 means "at least 30x moto"), compared as tidemark-advantage.
    vs_moto: bool = False
    # Which result column the goal judges ("tidemark" or "tidemark-disk").
    target: str = "tidemark"

    def met(self, value: float) -> bool:
        return value <= self.threshold if self.op == "<=" else value >= self.threshold


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    # Per-row overrides of the benchmark's unit and direction (a throughput table may also
    # carry latency rows).
    unit: str | None = None
    higher_is_better: bool | None = None
    # Context rows (sizes, counts): shown without a direction arrow or a ratio.
    info: bool = False


@dataclass
class Benchmark:
    name: str
    title: str
    unit: str
    description: str
    # Metrics shown in the table, in order; the first one is the one plotted.
    metrics: list[Metric]
    fn: Callable[[Target, Settings], dict]
    higher_is_better: bool = False
    goals: list[Goal] = field(default_factory=list)
    # Unimplemented placeholders stay registered (so the plan is visible) but never run or report.
    implemented: bool = True
    # Benchmarks of tidemark internals (e.g. the vault) have no moto counterpart.
    tidemark_only: bool = False
    # Result columns this benchmark measures; "tidemark-disk" is tidemark with --data-dir.
    targets: tuple[str, ...] = ("tidemark", "moto")


@dataclass
class Settings:
    runs: int
    quick: bool


BENCHMARKS: list[Benchmark] = []


def benchmark(
    name: str,
    title: str,
    unit: str,
    description: str,
    metrics: list[tuple[str, str] | Metric],
    *,
    higher_is_better: bool = False,
    goals: tuple[Goal, ...] = (),
    implemented: bool = True,
    tidemark_only: bool = False,
    targets: tuple[str, ...] | None = None,
):
    """Registers `fn(target, settings) -> {metric_key: value, "samples": [...]}`."""

    def wrap(fn):
        BENCHMARKS.append(
            Benchmark(
                name=name,
                title=title,
                unit=unit,
                description=description,
                metrics=[m if isinstance(m, Metric) else Metric(*m) for m in metrics],
                fn=fn,
                higher_is_better=higher_is_better,
                goals=list(goals),
                implemented=implemented,
                tidemark_only=tidemark_only,
                targets=targets or (("tidemark",) if tidemark_only else ("tidemark", "moto")),
            )
        )
        return fn

    return wrap


def summarize(samples: list[float]) -> dict:
    """median/p90/min/max/mean of a sample list, plus the raw samples for results.json."""
    ordered = sorted(samples)
    if len(ordered) >= 2:
        p90 = statistics.quantiles(ordered, n=10, method="inclusive")[8]
    else:
        p90 = ordered[0]
    return {
        "median": statistics.median(ordered),
        "p90": p90,
        "min": ordered[0],
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
        "n": len(ordered),
        "samples": samples,
    }


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (pct in 0..100)."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]
