"""Runs every implemented benchmark against tidemark and moto_server; writes results and report.

Usage (normally via bench/run.sh, which prepares the venv and the release build):
    python bench/run.py [--runs N] [--quick] [--only NAME,...] [--targets tidemark,moto]
                        [--tidemark-bin PATH] [--report-only]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from importlib.metadata import version
from pathlib import Path

import backup  # noqa: F401  (registers backup_restore)
import cli  # noqa: F401  (registers cli_invocation)
import dynamo  # noqa: F401  (registers put_item, get_item)
import planned  # noqa: F401  (registers the placeholders)
import query_scan  # noqa: F401  (registers query_scan)
import redshift  # noqa: F401  (registers redshift_snapshots)
import redshift_data  # noqa: F401  (registers redshift_data)
import redshift_sql  # noqa: F401  (registers redshift_sql)
import startup  # noqa: F401  (registers cold_start and idle_rss)
import vault  # noqa: F401  (registers vault)
from registry import BENCHMARKS, Settings
from report import render_markdown, render_png, splice_sections
from targets import moto_target, tidemark_disk_target, tidemark_target

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DOCS = ROOT / "docs"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_facts() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in _read("/proc/cpuinfo").splitlines()
            if ln.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in _read("/proc/meminfo").splitlines()
            if ln.startswith("MemTotal")
        ),
        "unknown",
    )
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "mem_total": mem,
        "kernel": platform.release(),
        "loadavg": " ".join(_read("/proc/loadavg").split()[:3]) or "unknown",
    }


def _cmd_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=25, help="cold starts per target (default 25)")
    parser.add_argument("--quick", action="store_true", help="5 runs: a smoke test of the harness")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument(
        "--targets", default="tidemark,moto", help="tidemark also measures tidemark-disk"
    )
    parser.add_argument("--tidemark-bin", default=str(ROOT / "target" / "release" / "tidemark"))
    parser.add_argument("--report-only", action="store_true", help="re-render from results.json")
    parser.add_argument(
        "--scratch",
        default="",
        help="write results.json, benchmarks.md and .png into this directory instead of "
        "bench/out and docs/ (for partial runs that must not replace the published report)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="with --only: replace just these benchmarks in the existing results.json (the "
        "others keep their numbers; the report says when each merged section was measured)",
    )
    args = parser.parse_args()

    out, docs = (Path(args.scratch), Path(args.scratch)) if args.scratch else (OUT, DOCS)
    out.mkdir(parents=True, exist_ok=True)
    docs.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    if args.merge and not results_path.is_file():
        return splice(args, out, docs)
    if args.report_only:
        results = json.loads(results_path.read_text())
    else:
        results = run(args)
        if args.merge and results_path.is_file():
            merged = json.loads(results_path.read_text())
            for name, entry in results["benchmarks"].items():
                entry["measured_separately"] = {
                    "at": results["generated_at"],
                    "loadavg": results["machine"]["loadavg"],
                    "tidemark": results["versions"]["tidemark"],
                }
                merged["benchmarks"][name] = entry
            results = merged
        results_path.write_text(json.dumps(results, indent=2) + "\n")
    render_png(results, docs / "benchmarks.png")
    (docs / "benchmarks.md").write_text(render_markdown(results, "benchmarks.png"))
    print(f"wrote {results_path}, {docs / 'benchmarks.md'}, {docs / 'benchmarks.png'}")
    return 0


def splice(args: argparse.Namespace, out: Path, docs: Path) -> int:
    """--merge without the raw results of the other benchmarks (bench/out is not committed):
    the measured sections replace theirs in the published benchmarks.md, each with its own
    plot; their raw results go beside results.json, never into it (a later --merge into a
    results.json holding only them would drop every other section from the report)."""
    if args.report_only:
        # Re-renders the spliced sections from their raw results (--only names them).
        raw = out / f"results-{args.only.replace(',', '-')}.json"
        results = json.loads(raw.read_text())
    else:
        results = run(args)
        for entry in results["benchmarks"].values():
            entry["measured_separately"] = {
                "at": results["generated_at"],
                "loadavg": results["machine"]["loadavg"],
                "tidemark": results["versions"]["tidemark"],
            }
        names = "-".join(results["benchmarks"]) or "none"
        raw = out / f"results-{names}.json"
        raw.write_text(json.dumps(results, indent=2) + "\n")
    names = "-".join(results["benchmarks"]) or "none"
    png = docs / f"benchmarks-{names}.png"
    render_png(results, png)
    md = docs / "benchmarks.md"
    md.write_text(splice_sections(md.read_text() if md.is_file() else "", results, png.name))
    print(f"wrote {raw}, {md} (spliced), {png}")
    return 0


def run(args: argparse.Namespace) -> dict:
    settings = Settings(runs=5 if args.quick else args.runs, quick=args.quick)
    wanted = set(filter(None, args.only.split(",")))
    tm_bin = Path(args.tidemark_bin)
    targets = []
    for name in args.targets.split(","):
        if name == "tidemark":
            if tm_bin.is_file():
                targets.append(tidemark_target(tm_bin))
                targets.append(tidemark_disk_target(tm_bin))
            else:
                print(f"warning: {tm_bin} missing; tidemark not measured", file=sys.stderr)
        elif name == "moto":
            targets.append(moto_target(Path(sys.executable).parent))
        else:
            raise SystemExit(f"unknown target {name!r}")
    by_name = {t.name: t for t in targets}
    results = {
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_facts(),
        "versions": {
            "tidemark": by_name["tidemark"].version if "tidemark" in by_name else "not built",
            "rustc": _cmd_version(["rustc", "--version"]),
            "moto": version("moto"),
            "python": platform.python_version(),
            "boto3": version("boto3"),
            "awscli": version("awscli"),
            "wrk": _cmd_version(["wrk", "--version"]).split(" Copyright")[0]
            if shutil.which("wrk")
            else "wrk not installed",
        },
        "settings": {"runs": settings.runs},
        "benchmarks": {},
        "planned": [b.title for b in BENCHMARKS if not b.implemented],
    }
    for bench in BENCHMARKS:
        if not bench.implemented or (wanted and bench.name not in wanted):
            continue
        entry = {
            "title": bench.title,
            "unit": bench.unit,
            "description": bench.description,
            "higher_is_better": bench.higher_is_better,
            "metrics": [
                [m.key, m.label, m.unit, m.higher_is_better, m.info] for m in bench.metrics
            ],
            "targets": list(bench.targets),
            "goals": [g.__dict__ for g in bench.goals],
            "results": {},
        }
        for target in targets:
            if target.name not in bench.targets:
                continue
            began = time.monotonic()
            try:
                got = bench.fn(target, settings)
                # A benchmark that measures PostgreSQL's own tools beside tidemark in the same
                # run returns that column as "peer".
                if "peer" in got:
                    entry["results"]["postgres"] = got.pop("peer")
                entry["results"][target.name] = got
            except Exception as exc:  # noqa: BLE001 one broken target must not lose the other's numbers
                traceback.print_exc()
                entry["results"][target.name] = {"error": f"{type(exc).__name__}: {exc}"}
            took = time.monotonic() - began
            summary = {m[0]: entry["results"][target.name].get(m[0]) for m in entry["metrics"]}
            print(f"{bench.name:12} {target.name:9} {took:6.1f}s  {summary}", file=sys.stderr)
        results["benchmarks"][bench.name] = entry
    return results


if __name__ == "__main__":
    sys.exit(main())
