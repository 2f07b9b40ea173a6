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

    def met(self, value: float) -> bool:
        return value <= self.threshold if self.op == "<=" else value >= self.threshold


@dataclass(frozen=True)
class Metric:
    key: str
    label: str


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
    metrics: list[tuple[str, str]],
    *,
    higher_is_better: bool = False,
    goals: tuple[Goal, ...] = (),
    implemented: bool = True,
    tidemark_only: bool = False,
):
    """Registers `fn(target, settings) -> {metric_key: value, "samples": [...]}`."""

    def wrap(fn):
        BENCHMARKS.append(
            Benchmark(
                name=name,
                title=title,
                unit=unit,
                description=description,
                metrics=[Metric(k, label) for k, label in metrics],
                fn=fn,
                higher_is_better=higher_is_better,
                goals=list(goals),
                implemented=implemented,
                tidemark_only=tidemark_only,
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
