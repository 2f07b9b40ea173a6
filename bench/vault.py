"""Vault store/read throughput against the machine limits measured in the same run
(`cargo run --release -p tidemark-vault --example vault_bench`; tidemark only)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from registry import Goal, Metric, Settings, benchmark
from targets import SCRATCH, Target

ROOT = Path(__file__).resolve().parent.parent
VAULT = "vault issue"
# 1 GiB takes ~1-2 min on this 2-core machine; BENCH_VAULT_MIB overrides (e.g. 512).
DEFAULT_MIB = int(os.environ.get("BENCH_VAULT_MIB", "1024"))


def run_example(mib: int) -> dict:
    SCRATCH.mkdir(parents=True, exist_ok=True)
    work = tempfile.mkdtemp(prefix="vault-", dir=SCRATCH)
    try:
        out = subprocess.run(
            [
                "cargo",
                "run",
                "--quiet",
                "--release",
                "-p",
                "tidemark-vault",
                "--example",
                "vault_bench",
                "--",
                "--mib",
                str(mib),
                "--dir",
                work,
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@benchmark(
    "vault",
    "Vault store and read throughput vs machine limits",
    "MB/s",
    "`cargo run --release -p tidemark-vault --example vault_bench -- --mib N --dir <scratch>`: "
    "stores N MiB of never-repeating DynamoDB-JSON-like records (zstd level 3) into a "
    "local-directory vault, stores the identical stream again, reads the first back; in the "
    "same process it measures the machine limits on the same data size: sequential disk write "
    "(with fsync) and read, single-core zstd compression and BLAKE3. Goals compare against the "
    "lowest (binding) limit, in logical MB/s (see the notes). MB = 10^6 bytes.",
    [
        Metric("store_mb_s", "store throughput", "MB/s", True),
        Metric("store_limit_mb_s", "binding limit for store (see notes)", "MB/s", True),
        Metric("store_pct", "store as % of its binding limit", "%", True),
        Metric(
            "store_pct_raw_disk", "store as % of raw disk write (not the goal's basis)", "%", True
        ),
        Metric("read_mb_s", "read throughput", "MB/s", True),
        Metric("read_limit_mb_s", "binding measured limit for read (see notes)", "MB/s", True),
        Metric("read_pct", "read as % of that limit", "%", True),
        Metric(
            "store_unchanged_mb_s",
            "re-store of the identical stream (all deduplicated)",
            "MB/s",
            True,
        ),
        Metric("unchanged_new_pct", "new bytes when re-storing an unchanged stream", "%", False),
        Metric("compression_ratio", "compression ratio (logical ÷ pack bytes)", "×", True),
        Metric("limit_disk_write_mb_s", "machine: disk write + fsync", "MB/s", info=True),
        Metric("limit_disk_read_mb_s", "machine: disk read (page cache)", "MB/s", info=True),
        Metric("limit_zstd_1core_mb_s", "machine: zstd level 3, 1 core", "MB/s", info=True),
        Metric("limit_blake3_1core_mb_s", "machine: BLAKE3, 1 core", "MB/s", info=True),
        Metric("mib", "data size", "MiB", info=True),
    ],
    higher_is_better=True,
    goals=(
        Goal("store_pct", ">=", 60.0, "store ≥ 60% of the binding limit", VAULT),
        Goal("read_pct", ">=", 60.0, "read ≥ 60% of the binding limit", VAULT),
        # No figure exists yet (see the notes), so the report says "not measured".
        Goal(
            "changed_1pct_new_pct", "<=", 3.0, "new bytes after changing 1% of records ≤ 3%", VAULT
        ),
    ),
    tidemark_only=True,
)
def vault(target: Target, settings: Settings) -> dict:
    mib = 64 if settings.quick else DEFAULT_MIB
    raw = run_example(mib)
    ratio = raw["compression_ratio"]
    # Limits in logical (uncompressed) MB/s: the disk only has to move the compressed packs,
    # so its limit scales by the compression ratio; zstd and BLAKE3 see every logical byte.
    # The vault used ~1 CPU second per second while storing, so the 1-core figures apply.
    store_limits = {
        "zstd, 1 core": raw["limit_zstd_1core_mb_s"],
        "BLAKE3, 1 core": raw["limit_blake3_1core_mb_s"],
        "disk write × compression": raw["limit_disk_write_mb_s"] * ratio,
    }
    read_limits = {
        "BLAKE3, 1 core": raw["limit_blake3_1core_mb_s"],
        "disk read × compression": raw["limit_disk_read_mb_s"] * ratio,
    }
    store_bind = min(store_limits, key=store_limits.get)
    read_bind = min(read_limits, key=read_limits.get)
    store_limit, read_limit = store_limits[store_bind], read_limits[read_bind]
    out = dict(raw)
    out.update(
        store_limit_mb_s=store_limit,
        store_pct=100.0 * raw["store_mb_s"] / store_limit,
        store_pct_raw_disk=100.0 * raw["store_mb_s"] / raw["limit_disk_write_mb_s"],
        read_limit_mb_s=read_limit,
        read_pct=100.0 * raw["read_mb_s"] / read_limit,
        # The example asserts an identical second stream stores 0 new bytes.
        unchanged_new_pct=0.0,
        plot_refs={f"limit:\n{store_bind}": store_limit},
        plot_goals=[[0.6 * store_limit, "goal 60% of limit"]],
        notes=[
            (
                f"{mib} MiB stored in {raw['store_secs']} s using {raw['store_cpu_secs']} CPU s "
                f"(~{raw['store_cpu_secs'] / max(raw['store_secs'], 1e-9):.1f} cores)"
            ),
            (
                "limits are in logical MB/s: store binds on the lowest of zstd (1 core), BLAKE3 "
                "(1 core) and disk write × compression ratio (only packs hit the disk) → "
                f"{store_bind} at {store_limit:,.0f} MB/s"
            ),
            (
                f"read binds on the lowest measured of BLAKE3 and disk read × ratio → {read_bind} "
                f"at {read_limit:,.0f} MB/s; the example does not measure zstd decompression, "
                "which is probably the true read limit, so this verdict is against an "
                "incomplete set of limits"
            ),
            (
                "the disk read limit re-reads a file just written, so it is the page cache, "
                "not the device; the vault read is measured the same way (packs just written)"
            ),
            (
                "not measured by the example (it is not part of bench/): new bytes after "
                "changing 1% of records (goal ≤ 3%) and the dedup ratio of that changed "
                "stream; only the unchanged-stream case (0 new bytes, asserted) is covered"
            ),
        ],
    )
    return out
