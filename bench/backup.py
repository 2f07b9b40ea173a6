"""CreateBackup-to-AVAILABLE and RestoreTableFromBackup-to-ACTIVE wall times, backup
throughput against the vault's machine limit, and server memory while backing up and
restoring (streaming: growth must not depend on the table's size)."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path

from clients import RawClient, proc_cpu_seconds, running
from registry import Goal, Metric, Settings, benchmark
from targets import Target

BACKUPS = "DynamoDB backups issue"
TABLE = "bench_backup"
# Items are loaded with BatchWriteItem (25 per call) from this many client processes
# (processes, not threads: the client's JSON and SigV4 work would otherwise share one GIL).
LOADERS = 4
# moto loads ~1-2k items/s: 1M items would take the better part of an hour.
MOTO_MAX = 100_000
POLL_S = 0.005
SAMPLE_S = 0.05
DEADLINE_S = 1800.0


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


# Rows are fixed when the benchmark is registered, before run.py parses its flags, so the
# quick sizes are chosen from argv here (`--quick` is a smoke test: 1k and 10k items).
QUICK = "--quick" in sys.argv
SIZES = _sizes(
    os.environ.get(
        "BENCH_BACKUP_SIZES", "1000,10000" if QUICK else "10000,100000,1000000,3000000"
    )
)
# The memory verdict compares the two largest sizes (default: 1M and 3M). Both exceed the
# server's fixed-size buffers (redb's 64 MiB page cache, one 16 MiB vault pack), which a
# 100k-item table (~26 MB) does not fill, so 100k vs 1M compares a partly filled cache with
# a full one rather than showing whether memory grows with the table.
BIG, SMALL = SIZES[-1], SIZES[-2] if len(SIZES) > 1 else SIZES[-1]


def _label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def _item(i: int) -> dict:
    """~200 bytes (DynamoDB item size): string hash key, number range key, five attributes.
    Values vary per item (a multiplicative hash), so compression sees realistic entropy."""
    h = (i * 2654435761) % 2**32
    return {
        "pk": {"S": f"customer#{i // 20:07d}"},
        "sk": {"N": str(i)},
        "email": {"S": f"user{h:08x}@example{h % 97}.com"},
        "name": {"S": f"Customer {h % 100000:05d} {h:x}"},
        "note": {
            "S": f"order {h:08x}-{(h * 31) % 2**32:08x} shipped via carrier {h % 13} to "
            f"warehouse {h % 1013:04d}, dock {h % 7}, priority {h % 3}"
        },
        "total": {"N": f"{h % 100000}.{h % 100:02d}"},
        "tags": {"SS": [f"t{h % 7}", f"t{h % 11 + 7}", f"r{h % 5}"]},
        "active": {"BOOL": h % 3 == 0},
    }


def _load_part(args: tuple[int, int, int]) -> None:
    port, lo, hi = args
    raw = RawClient(port, "dynamodb")
    for start in range(lo, hi, 25):
        pending = {
            TABLE: [{"PutRequest": {"Item": _item(i)}} for i in range(start, min(start + 25, hi))]
        }
        while pending:
            pending = raw.dynamodb("BatchWriteItem", {"RequestItems": pending}).get(
                "UnprocessedItems"
            )
    raw.close()


def _load(port: int, size: int) -> float:
    """BatchWriteItem of `size` items from LOADERS processes; returns seconds taken."""
    step = -(-size // LOADERS)
    parts = [(port, lo, min(lo + step, size)) for lo in range(0, size, step)]
    began = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(len(parts)) as pool:
        pool.map(_load_part, parts)
    return time.perf_counter() - began


def _status_kib(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    except FileNotFoundError:
        pass
    return out


class MemSampler:
    """Samples VmRSS every SAMPLE_S seconds in a thread; `peak` is the largest sample (MiB)."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _status_kib(self.pid).get("VmRSS", 0) / 1024)
            self._stop.wait(SAMPLE_S)

    def __enter__(self) -> MemSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status_kib(self.pid).get("VmRSS", 0) / 1024)


def _rss_mib(pid: int) -> float:
    return _status_kib(pid).get("VmRSS", 0) / 1024


def _wait(what: str, check) -> None:
    began = time.perf_counter()
    while not check():
        if time.perf_counter() - began > DEADLINE_S:
            raise RuntimeError(f"{what} did not finish within {DEADLINE_S}s")
        time.sleep(POLL_S)


def _one_size(port: int, pid: int, size: int) -> dict:
    raw = RawClient(port, "dynamodb")
    raw.dynamodb(
        "CreateTable",
        {
            "TableName": TABLE,
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    _wait("CreateTable", lambda: raw.dynamodb("DescribeTable", {"TableName": TABLE})["Table"][
        "TableStatus"
    ] == "ACTIVE")
    rss_before = _rss_mib(pid)
    load_s = _load(port, size)
    time.sleep(0.5)  # let the allocator settle before the "after load" figure
    rss_loaded = _rss_mib(pid)

    cpu0 = proc_cpu_seconds(pid)
    with MemSampler(pid) as backup_mem:
        began = time.perf_counter()
        arn = raw.dynamodb("CreateBackup", {"TableName": TABLE, "BackupName": "bench"})[
            "BackupDetails"
        ]["BackupArn"]
        desc: dict = {}

        def available() -> bool:
            desc.update(raw.dynamodb("DescribeBackup", {"BackupArn": arn})["BackupDescription"])
            return desc["BackupDetails"]["BackupStatus"] == "AVAILABLE"

        _wait("CreateBackup", available)
        backup_s = time.perf_counter() - began
    backup_cpu = proc_cpu_seconds(pid) - cpu0
    backup_bytes = desc["BackupDetails"].get("BackupSizeBytes", 0)
    rss_restore0 = _rss_mib(pid)

    cpu0 = proc_cpu_seconds(pid)
    with MemSampler(pid) as restore_mem:
        began = time.perf_counter()
        raw.dynamodb("RestoreTableFromBackup", {"TargetTableName": "restored", "BackupArn": arn})
        _wait("RestoreTableFromBackup", lambda: raw.dynamodb(
            "DescribeTable", {"TableName": "restored"}
        )["Table"]["TableStatus"] == "ACTIVE")
        restore_s = time.perf_counter() - began
    restore_cpu = proc_cpu_seconds(pid) - cpu0
    hwm = _status_kib(pid).get("VmHWM", 0) / 1024
    count = raw.dynamodb("DescribeTable", {"TableName": "restored"})["Table"].get("ItemCount")
    raw.close()
    if count is not None and count != size:
        raise RuntimeError(f"restored table holds {count} items, expected {size}")
    return {
        "load_s": load_s,
        "backup_s": backup_s,
        "restore_s": restore_s,
        "backup_cpu_s": backup_cpu,
        "restore_cpu_s": restore_cpu,
        "backup_bytes": backup_bytes,
        "backup_mb_s": backup_bytes / 1e6 / backup_s if backup_bytes else None,
        "items_per_s": size / backup_s,
        "rss_before": rss_before,
        "rss_loaded": rss_loaded,
        "backup_peak": backup_mem.peak,
        "backup_growth": backup_mem.peak - rss_loaded,
        "restore_peak": restore_mem.peak,
        "restore_growth": restore_mem.peak - rss_restore0,
        "hwm": hwm,
    }


def _run_vault_example(mib: int) -> dict:
    """bench/vault.py's example, from the prebuilt release binary when there is one."""
    import vault

    return vault.run_example(mib, prefer_prebuilt=True)


_VAULT_LIMIT: dict = {}


def _vault_limit(quick: bool) -> dict:
    """The vault's binding store limit on this machine (bench/vault.py's measurement, run
    once per invocation on a smaller stream)."""
    if not _VAULT_LIMIT:
        try:
            raw = _run_vault_example(64 if quick else 256)
            # Newer examples measure the whole store pipeline (chunk, hash, compress) on all
            # cores; older ones only single-core zstd and BLAKE3.
            cpu = raw.get("limit_store_stages_all_cores_mb_s") or min(
                raw["limit_zstd_1core_mb_s"], raw["limit_blake3_1core_mb_s"]
            )
            _VAULT_LIMIT.update(
                cpu=cpu,
                disk=min(cpu, raw["limit_disk_write_mb_s"] * raw["compression_ratio"]),
                raw=raw,
            )
        except Exception as exc:  # noqa: BLE001 the limit is context; the timings stand alone
            _VAULT_LIMIT["error"] = f"{type(exc).__name__}: {exc}"
    return _VAULT_LIMIT


def _metrics() -> list[Metric]:
    rows = []
    for n in SIZES:
        lab = _label(n)
        rows += [
            Metric(f"backup_s@{lab}", f"CreateBackup → AVAILABLE, {lab} items", "s", False),
            Metric(
                f"restore_s@{lab}", f"RestoreTableFromBackup → ACTIVE, {lab} items", "s", False
            ),
        ]
    for n in SIZES:
        lab = _label(n)
        rows.append(Metric(f"backup_mb_s@{lab}", f"backup throughput, {lab} items", "MB/s", True))
    rows += [
        Metric("mem_scaling", f"RSS growth {_label(BIG)} ÷ {_label(SMALL)} (worst of the two)",
               "×", False),
        Metric("limit_mb_s", "vault's binding store limit (see notes)", "MB/s", info=True),
        Metric("backup_pct_limit", f"backup at {_label(BIG)} as % of that limit", "%", True),
    ]
    for n in SIZES:
        lab = _label(n)
        rows += [
            Metric(f"backup_growth_mib@{lab}", f"RSS growth during backup, {lab}", "MiB", False),
            Metric(f"restore_growth_mib@{lab}", f"RSS growth during restore, {lab}", "MiB", False),
        ]
    rows += [
        Metric(f"rss_before_mib@{_label(BIG)}", f"RSS before load ({_label(BIG)} run)", "MiB",
               info=True),
        Metric(f"rss_loaded_mib@{_label(BIG)}", f"RSS after load ({_label(BIG)})", "MiB",
               info=True),
        Metric(f"backup_peak_mib@{_label(BIG)}", f"peak RSS during {_label(BIG)} backup", "MiB",
               info=True),
        Metric(f"restore_peak_mib@{_label(BIG)}", f"peak RSS during {_label(BIG)} restore",
               "MiB", info=True),
        Metric(f"hwm_mib@{_label(BIG)}", f"VmHWM at the end of the {_label(BIG)} run", "MiB",
               info=True),
    ]
    rows += [Metric(f"load_s@{_label(n)}", f"load time, {_label(n)} items (not counted)", "s",
                    info=True) for n in SIZES]
    return rows


GOAL_SIZE = 100_000 if 100_000 in SIZES else SIZES[-1]


@benchmark(
    "backup_restore",
    "CreateBackup and RestoreTableFromBackup: wall time, throughput, memory",
    "s",
    "One fresh server per table size. A `pk` (S) / `sk` (N) table is loaded with "
    f"BatchWriteItem (25 items per call, {LOADERS} client processes; load time shown, not "
    "counted) with items of ~200 bytes (DynamoDB item size; eight attributes, values vary per "
    "item). Timed: CreateBackup until DescribeBackup (polled every 5 ms) says AVAILABLE, then "
    "RestoreTableFromBackup to a new table until DescribeTable says ACTIVE. Throughput is "
    "BackupSizeBytes ÷ backup time, against the vault's binding store limit measured by "
    "bench/vault.py's example in the same run. Memory: the server's VmRSS sampled every 50 ms "
    "(/proc/<pid>/status); growth = peak during the operation − RSS just before it. "
    f"moto: sizes up to {_label(MOTO_MAX)} only (it loads ~1-2k items/s). One run per size. "
    f"Sizes: BENCH_BACKUP_SIZES (default 10k,100k,1M,3M; --quick 1k,10k). MB = 10^6 bytes. "
    "The memory verdict compares the two largest sizes: both exceed the server's fixed-size "
    "buffers (redb's 64 MiB page cache, one 16 MiB vault pack), which a 100k-item table does "
    "not fill (its growth rows are shown too).",
    _metrics(),
    goals=(
        Goal(f"backup_s@{_label(GOAL_SIZE)}", ">=", 20.0,
             f"CreateBackup→AVAILABLE ≥ 20× faster than moto at {_label(GOAL_SIZE)} items",
             BACKUPS, True),
        Goal(f"restore_s@{_label(GOAL_SIZE)}", ">=", 20.0,
             f"restore→ACTIVE ≥ 20× faster than moto at {_label(GOAL_SIZE)} items",
             BACKUPS, True),
        Goal(f"backup_s@{_label(GOAL_SIZE)}", ">=", 20.0,
             f"CreateBackup→AVAILABLE ≥ 20× faster than moto at {_label(GOAL_SIZE)}, on disk",
             BACKUPS, True, "tidemark-disk"),
        Goal(f"restore_s@{_label(GOAL_SIZE)}", ">=", 20.0,
             f"restore→ACTIVE ≥ 20× faster than moto at {_label(GOAL_SIZE)}, on disk", BACKUPS,
             True, "tidemark-disk"),
        Goal("mem_scaling", "<=", 2.0,
             f"on disk, RSS growth during backup and restore at {_label(BIG)} ≤ 2× that at "
             f"{_label(SMALL)} (floored at 16 MiB): memory does not grow with the table",
             BACKUPS, False, "tidemark-disk"),
    ),
    targets=("tidemark", "tidemark-disk", "moto"),
)
def backup_restore(target: Target, settings: Settings) -> dict:
    out: dict = {}
    per_size: dict[str, dict] = {}
    for size in SIZES:
        if target.name == "moto" and size > MOTO_MAX:
            continue
        with running(target) as (port, pid):
            r = _one_size(port, pid, size)
        lab = _label(size)
        per_size[lab] = r
        out[f"backup_s@{lab}"] = r["backup_s"]
        out[f"restore_s@{lab}"] = r["restore_s"]
        out[f"backup_mb_s@{lab}"] = r["backup_mb_s"]
        out[f"backup_growth_mib@{lab}"] = r["backup_growth"]
        out[f"restore_growth_mib@{lab}"] = r["restore_growth"]
        out[f"load_s@{lab}"] = r["load_s"]
        if size == BIG:
            out[f"rss_before_mib@{lab}"] = r["rss_before"]
            out[f"rss_loaded_mib@{lab}"] = r["rss_loaded"]
            out[f"backup_peak_mib@{lab}"] = r["backup_peak"]
            out[f"restore_peak_mib@{lab}"] = r["restore_peak"]
            out[f"hwm_mib@{lab}"] = r["hwm"]
        print(f"  backup_restore {target.name} {lab}: {r}", file=sys.stderr)
    out["per_size"] = per_size
    notes = []
    if target.name == "tidemark":
        # Said once (the notes are per target): it holds for every column.
        notes.append(
            f"every target's completion is polled every {POLL_S * 1000:.0f} ms (DescribeBackup, "
            "DescribeTable): a time is late by at most that plus one request round trip, which "
            "matters for the smallest tables only"
        )
    big, small = _label(BIG), _label(SMALL)
    if big in per_size and small in per_size and big != small:
        # Growth of the larger run over the smaller one's, the latter floored at 16 MiB so a
        # few MiB of allocator noise on a tiny baseline does not decide the verdict.
        out["mem_scaling"] = max(
            per_size[big][k] / max(per_size[small][k], 16.0)
            for k in ("backup_growth", "restore_growth")
        )
        notes.append(
            f"memory scaling {big} vs {small}: backup growth {per_size[big]['backup_growth']:.1f} "
            f"vs {per_size[small]['backup_growth']:.1f} MiB, restore growth "
            f"{per_size[big]['restore_growth']:.1f} vs {per_size[small]['restore_growth']:.1f} MiB"
        )
    if target.name.startswith("tidemark"):
        lim = _vault_limit(settings.quick)
        if "error" in lim:
            notes.append(f"vault limit not measured: {lim['error']}")
        else:
            key = "disk" if target.name == "tidemark-disk" else "cpu"
            out["limit_mb_s"] = lim[key]
            mb_s = out.get(f"backup_mb_s@{big}")
            if mb_s:
                out["backup_pct_limit"] = 100.0 * mb_s / lim[key]
            raw = lim["raw"]
            stages = raw.get("limit_store_stages_all_cores_mb_s")
            notes.append(
                "vault limit = min("
                + (
                    f"store stages (FastCDC+BLAKE3+zstd), all cores {stages:.0f}"
                    if stages
                    else f"zstd 1 core {raw['limit_zstd_1core_mb_s']:.0f}, BLAKE3 1 core "
                    f"{raw['limit_blake3_1core_mb_s']:.0f}"
                )
                + (
                    f", disk write {raw['limit_disk_write_mb_s']:.0f} × compression "
                    f"{raw['compression_ratio']:.1f}"
                    if key == "disk"
                    else ""
                )
                + ") MB/s of vault records; the backup's MB/s counts DynamoDB item bytes "
                "(BackupSizeBytes), which are fewer than the stored item JSON, so the "
                "percentage understates the vault's load"
            )
    if target.name == "moto":
        # moto's BackupSizeBytes is not the table's size (a few bytes), so no MB/s.
        for lab in per_size:
            out[f"backup_mb_s@{lab}"] = None
        notes.append(
            "moto reports a BackupSizeBytes unrelated to the data "
            f"({next(iter(per_size.values()))['backup_bytes']} bytes), so its MB/s is not shown"
        )
    if target.name == "tidemark":
        notes.append(
            "--in-memory uses a memory:// vault, so its RSS growth during a backup includes "
            "the stored (compressed) backup itself; tidemark --data-dir writes to a file vault"
        )
    out["notes"] = notes
    return out
