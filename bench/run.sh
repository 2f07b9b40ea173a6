#!/usr/bin/env bash
# Side-by-side benchmarks, tidemark vs moto_server: prepares the venv and a release build, then
# runs bench/run.py, which writes bench/out/results.json, docs/benchmarks.md and docs/benchmarks.png.
# Arguments pass through to run.py (e.g. --quick, --only cold_start, --targets moto).
# Set BENCH_SKIP_BUILD=1 to benchmark an existing target/release/tidemark as is.
# Optional: `wrk` on PATH (Debian: apt-get install wrk) adds the C load-generator rows;
# BENCH_VAULT_MIB (default 1024) sizes the vault run; BENCH_REDSHIFT_MIB (default 1024) the
# Redshift cluster volume; BENCH_REDSHIFT_SQL_MIB (default 1024) the database of the Redshift SQL
# benchmark, which needs PostgreSQL 15 (BENCH_PG_BIN, default /usr/lib/postgresql/15/bin).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$("$root/scripts/venv.sh")"
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$root" && cargo build --release -p tidemark)
  # The vault benchmark runs this example with `cargo run`; building it here keeps the
  # compile out of the benchmark's time budget.
  (cd "$root" && cargo build --release -p tidemark-vault --example vault_bench)
fi
cd "$root/bench"
exec "$venv/bin/python" run.py "$@"
