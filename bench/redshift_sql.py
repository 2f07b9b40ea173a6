"""Redshift SQL benchmarks (issue #14): every cluster's Endpoint is a real PostgreSQL 15 behind
tidemark's proxy. Measured in one run, side by side with PostgreSQL's own tools on the same
instance (moto stores no data, so it is no peer here): (d) CreateCluster → first SQL answer,
(e) idle memory per cluster, (a) pgbench through the Endpoint vs straight to the socket,
(b) snapshot and restore of a database vs pg_basebackup / pg_dump / pg_restore, (c) new bytes
stored after appending 1% rows."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2

from clients import boto_client, proc_cpu_seconds
from registry import Goal, Metric, Settings, benchmark, percentile
from startup import start_and_wait
from targets import SCRATCH, Target, free_port, stop
from vault import binding_limits, run_example

ISSUE = "issue #14"
# Rows are fixed at registration, before run.py parses flags: --quick is read from argv here.
QUICK = "--quick" in sys.argv
DB_MIB = int(os.environ.get("BENCH_REDSHIFT_SQL_MIB", "32" if QUICK else "1024"))
PGBENCH_S = int(os.environ.get("BENCH_PGBENCH_SECONDS", "3" if QUICK else "10"))
PGBENCH_CLIENTS = int(os.environ.get("BENCH_PGBENCH_CLIENTS", "4"))
PGBENCH_THREADS = int(os.environ.get("BENCH_PGBENCH_THREADS", "2"))
# pgbench_accounts holds 100,000 rows per scale unit.
PGBENCH_SCALE = 1 if QUICK else 10
# Clusters timed after the first (which makes the template).
WARM_CLUSTERS = 3 if QUICK else 7
PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
MASTER, PASSWORD, DB = "admin", "Passw0rd1", "dev"
# The template's superuser, trusted on the instance's unix socket.
SUPERUSER = "rdsdb"
POLL_S = 0.005
DEADLINE_S = 1800.0
# Rows per INSERT … SELECT generate_series batch while loading (one transaction each).
BATCH_ROWS = 250_000
MIB = 1 << 20
MB = 1e6
# Which parts run (BENCH_REDSHIFT_SQL_PARTS, default all): "a" is pgbench; (b)–(e) always run.
PARTS = os.environ.get("BENCH_REDSHIFT_SQL_PARTS", "abcde")
# The vault's limits for (b) come from the vault benchmark's example, run in the same process
# tree right after (b) (BENCH_VAULT_SQL_MIB MiB; --quick 64).
VAULT_MIB = int(os.environ.get("BENCH_VAULT_SQL_MIB", "64" if QUICK else "1024"))

PEER = "PostgreSQL direct / pg_basebackup / pg_dump / pg_restore"


def _wait(check: Callable[[], object], what: str, deadline_s: float = DEADLINE_S):
    """Calls `check()` every POLL_S until it returns a true value; returns it."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(POLL_S)
    raise RuntimeError(f"{what} did not finish in {deadline_s:.0f} s")


@contextlib.contextmanager
def _server(target: Target) -> Iterator[tuple[int, int, Path]]:
    """tidemark --data-dir on a fresh directory the `postgres` account can traverse (mode
    755), so the clusters' databases and the template live under it (else tidemark falls back
    to /var/lib/tidemark/postgres, whose template outlives the run and would hide the cost of
    making it). Yields (port, pid, data_dir)."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="tidemark-sql-", dir=SCRATCH))
    data_dir.chmod(0o755)
    fixed = Target(
        target.name,
        [a.replace("{data_dir}", str(data_dir)) for a in target.argv_template],
        target.version,
    )
    proc, port, _ = start_and_wait(fixed)
    try:
        yield port, proc.pid, data_dir
    finally:
        stop(proc)
        _stop_strays(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def _stop_strays(data_dir: Path) -> None:
    """Stops any postgres still running on a data directory of ours (a tidemark that had to be
    killed leaves its instances running): by pid, only postmasters under `data_dir`."""
    strays = []
    for pid in _pids():
        argv = _cmdline(pid)
        at = argv.index("-D") + 1 if "-D" in argv else len(argv)
        if at < len(argv) and argv[at].startswith(f"{data_dir}/"):
            strays.append(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 10
    while strays and time.monotonic() < deadline:
        strays = [p for p in strays if Path(f"/proc/{p}").exists()]
        time.sleep(0.05)


# --- processes ----------------------------------------------------------------------------


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids.extend(int(k) for k in (task / "children").read_text().split())
    except OSError:
        pass
    return kids


def _postmaster(server_pid: int, cluster: str) -> tuple[int, str]:
    """The cluster's postmaster (`postgres -D …/<cluster>/pgdata -k <socket dir>`, a child of
    tidemark) and its socket directory."""
    for kid in _children(server_pid):
        argv = _cmdline(kid)
        if "-D" in argv and "-k" in argv:
            data = argv[argv.index("-D") + 1] if argv.index("-D") + 1 < len(argv) else ""
            if data.rstrip("/").endswith(f"/{cluster}/pgdata"):
                return kid, argv[argv.index("-k") + 1]
    raise RuntimeError(f"no postgres process for cluster {cluster} under tidemark pid {server_pid}")


def _kib(path: str, field: str) -> int | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _memory(postmaster: int) -> tuple[float, float | None, int]:
    """(RSS MiB, PSS MiB or None, processes) summed over the postmaster and its children."""
    rss = pss = 0
    pss_ok, procs, stack = True, 0, [postmaster]
    while stack:
        pid = stack.pop()
        got = _kib(f"/proc/{pid}/status", "VmRSS:")
        if got is None:
            continue
        procs += 1
        rss += got
        p = _kib(f"/proc/{pid}/smaps_rollup", "Pss:")
        if p is None:
            pss_ok = False
        else:
            pss += p
        stack.extend(_children(pid))
    return rss / 1024, (pss / 1024 if pss_ok else None), procs


# --- the Redshift API and the Endpoint ------------------------------------------------------


def _create(rs, cid: str) -> None:
    rs.create_cluster(
        ClusterIdentifier=cid,
        NodeType="dc2.large",
        MasterUsername=MASTER,
        MasterUserPassword=PASSWORD,
        ClusterType="single-node",
        DBName=DB,
    )


def _cluster(rs, cid: str) -> dict:
    return rs.describe_clusters(ClusterIdentifier=cid)["Clusters"][0]


def _endpoint(rs, cid: str) -> tuple[str, int] | None:
    c = _cluster(rs, cid)
    ep = c.get("Endpoint") or {}
    if c["ClusterStatus"] == "available" and ep.get("Address"):
        return ep["Address"], ep["Port"]
    return None


def _connect(ep: tuple[str, int]):
    return psycopg2.connect(
        host=ep[0],
        port=ep[1],
        user=MASTER,
        password=PASSWORD,
        dbname=DB,
        connect_timeout=30,
    )


def _first_answer(rs, cid: str) -> tuple[float, tuple[str, int]]:
    """CreateCluster, DescribeClusters every 5 ms until available with an Endpoint, then
    psycopg2 connects and `SELECT 1` answers: seconds from the call to the answer."""
    began = time.perf_counter()
    _create(rs, cid)
    ep = _wait(lambda: _endpoint(rs, cid), f"CreateCluster {cid}", 120)
    conn = _connect(ep)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            if cur.fetchone() != (1,):
                raise RuntimeError("SELECT 1 did not answer 1")
        took = time.perf_counter() - began
    finally:
        conn.close()
    return took, ep


def _delete(rs, cid: str) -> None:
    with contextlib.suppress(Exception):
        rs.delete_cluster(ClusterIdentifier=cid, SkipFinalClusterSnapshot=True)


def _gone(rs, cid: str) -> bool:
    try:
        _cluster(rs, cid)
    except rs.exceptions.ClusterNotFoundFault:
        return True
    return False


# --- pgbench --------------------------------------------------------------------------------

TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")
INSERT_SCRIPT = "\\set id random(1, 2000000000)\nINSERT INTO bench_ins (id, v) VALUES (:id, 'x');\n"


def _pgbench(
    conn: list[str], env: dict, workload: list[str], clients: int, threads: int, work: Path
) -> dict:
    """One pgbench run; TPS from its summary, latencies from its per-transaction log."""
    logs = work / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    argv = [
        str(PG_BIN / "pgbench"),
        "-n",
        "-c",
        str(clients),
        "-j",
        str(threads),
        "-T",
        str(PGBENCH_S),
        "--log",
        f"--log-prefix={logs}/tx",
        *conn,
        *workload,
        DB,
    ]
    out = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=PGBENCH_S + 120, check=False
    )
    found = TPS.search(out.stdout)
    if out.returncode != 0 or not found:
        raise RuntimeError(f"pgbench failed ({out.returncode}): {out.stderr[-500:]}")
    lat: list[float] = []
    for f in logs.iterdir():
        for line in f.read_text().splitlines():
            parts = line.split()
            # client_id transaction_no time_us script_no epoch epoch_us; failures are marked.
            if len(parts) >= 3 and parts[2].isdigit():
                lat.append(int(parts[2]) / 1000)
    shutil.rmtree(logs, ignore_errors=True)
    if not lat:
        raise RuntimeError("pgbench logged no transactions")
    return {"tps": float(found.group(1)), "lat": lat}


def _ab(runs: Callable[[str], dict], rounds: int = 2) -> dict[str, dict]:
    """Alternates Endpoint and direct runs (A B A B) so that load drifts hit both alike;
    returns per side the mean TPS and the merged latencies."""
    got: dict[str, list[dict]] = {"endpoint": [], "direct": []}
    for _ in range(rounds):
        for side in ("endpoint", "direct"):
            got[side].append(runs(side))
    return {
        side: {
            "tps": statistics.fmean(r["tps"] for r in rs),
            "tps_runs": [r["tps"] for r in rs],
            # tidemark's CPU (the proxy's, on the Endpoint side) per transaction, in µs.
            "cpu_us_per_tx": 1e6
            * sum(r.get("tidemark_cpu_s", 0.0) for r in rs)
            / max(1, sum(len(r["lat"]) for r in rs)),
            "lat": sorted(x for r in rs for x in r["lat"]),
        }
        for side, rs in got.items()
    }


# --- the loaded database --------------------------------------------------------------------

ORDERS_DDL = (
    "CREATE TABLE orders (id BIGINT NOT NULL, customer INTEGER ENCODE az64, "
    "amount DECIMAL(12,2), created TIMESTAMP, note VARCHAR(256) ENCODE zstd) "
    "DISTSTYLE KEY DISTKEY(customer) COMPOUND SORTKEY(id)"
)
# ~100 bytes of hex per row; every row differs. `%%` is psycopg2's escaped `%`.
ORDERS_INSERT = (
    "INSERT INTO orders SELECT g, (g * 7919) %% 100003, ((g * 31) %% 100000) / 100.0, "
    "TIMESTAMP '2026-01-01' + g * INTERVAL '1 second', "
    "md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) "
    "FROM generate_series(%s::bigint, %s::bigint) AS g"
)
CHECKSUM = (
    "SELECT count(*), sum(id), sum(amount), sum(hashtextextended(o::text, 0)::numeric) "
    "FROM orders o"
)


def _insert(conn, first: int, count: int) -> None:
    with conn.cursor() as cur:
        for lo in range(first, first + count, BATCH_ROWS):
            hi = min(first + count, lo + BATCH_ROWS) - 1
            cur.execute(ORDERS_INSERT, (lo, hi))
            conn.commit()


def _scalar(conn, sql: str):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


def _checksum(conn) -> tuple:
    with conn.cursor() as cur:
        cur.execute(CHECKSUM)
        row = cur.fetchone()
    conn.commit()
    return tuple(str(x) for x in row)


def _du_mib(path: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total / MIB


def _timed(argv: list[str], what: str, timeout: float = DEADLINE_S) -> float:
    began = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    took = time.perf_counter() - began
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed ({out.returncode}): {out.stderr[-500:]}")
    return took


def _snapshot(rs, sid: str, cid: str) -> tuple[float, dict]:
    began = time.perf_counter()
    rs.create_cluster_snapshot(SnapshotIdentifier=sid, ClusterIdentifier=cid)

    def done():
        snap = rs.describe_cluster_snapshots(SnapshotIdentifier=sid)["Snapshots"][0]
        if snap["Status"] == "failed":
            raise RuntimeError(f"snapshot {sid} failed")
        return snap if snap["Status"] == "available" else None

    snap = _wait(done, f"CreateClusterSnapshot {sid}")
    return time.perf_counter() - began, snap


def _restore(rs, sid: str, cid: str) -> tuple[float, dict, list[str]]:
    statuses: list[str] = []
    began = time.perf_counter()
    rs.restore_from_cluster_snapshot(ClusterIdentifier=cid, SnapshotIdentifier=sid)

    def done():
        c = _cluster(rs, cid)
        rst = (c.get("RestoreStatus") or {}).get("Status")
        if rst and (not statuses or statuses[-1] != rst):
            statuses.append(rst)
        ok = c["ClusterStatus"] == "available" and rst == "completed"
        return c if ok else None

    c = _wait(done, f"RestoreFromClusterSnapshot {cid}")
    return time.perf_counter() - began, c, statuses


# --- the benchmark --------------------------------------------------------------------------


@benchmark(
    "redshift_sql",
    "Redshift SQL Endpoint: first answer, memory, pgbench, snapshots of a database",
    "s",
    "One `tidemark serve --data-dir` (a fresh directory the `postgres` account can reach, so "
    "the template is made in this run), clusters made with boto3, SQL with psycopg2 and "
    "pgbench. The peer column is PostgreSQL itself, on the same instance behind the same "
    "cluster (moto stores no data). "
    "(d) CreateCluster → DescribeClusters every 5 ms until available → psycopg2 connects to "
    "the Endpoint → `SELECT 1` answered: the first cluster (which makes the template) alone, "
    f"then the median of {WARM_CLUSTERS} more (7; --quick 3). "
    "(e) Idle memory per cluster: RSS (and PSS from smaps_rollup, which shares "
    "shared_buffers fairly) summed over the cluster's postmaster and its children, ~2 s after "
    "its one connection closed; median over those clusters. "
    f"(a) pgbench -n, -c {PGBENCH_CLIENTS} -j {PGBENCH_THREADS} -T {PGBENCH_S} "
    "(BENCH_PGBENCH_CLIENTS/THREADS/SECONDS; simple query protocol), through the Endpoint "
    "(TCP in plain text, sslmode=disable; md5 login; every statement parsed by the Redshift "
    "rewriter) vs straight to the "
    "same instance's unix socket (as `rdsdb`, trust), alternated A B A B, on "
    f"`pgbench -i -s {PGBENCH_SCALE}` tables: -S (select-only) and a one-row INSERT script "
    "(each a commit, fsynced); latency percentiles from pgbench's per-transaction log, and a "
    "1-client -S run for the p50 overhead; then two -S runs through the Endpoint over TLS "
    "(sslmode=require), in a note. "
    f"(b) A {DB_MIB:,} MiB table (BENCH_REDSHIFT_SQL_MIB; --quick 32) created with Redshift DDL "
    "and loaded untimed through the Endpoint (INSERT … SELECT generate_series, 250k rows per "
    "transaction, ~100-byte distinct rows); timed: CreateClusterSnapshot → available, and "
    "RestoreFromClusterSnapshot → available + RestoreStatus completed; the restored "
    "database's row count, sums and a whole-row hash sum must equal the source's. Beside it, "
    "on the source instance's socket: `pg_basebackup -X stream -c fast` (plain, fsynced), "
    "`pg_dump -Fd -Z0` (what a snapshot runs) and `pg_restore` of that dump into a new "
    "database. MiB/s = database size (pg_database_size) ÷ wall time. (b)'s goal compares "
    "MB/s of the bytes the vault handles (the snapshot's TotalBackupSizeInMegaBytes, the dump, "
    "÷ wall time; MB = 10^6 bytes) with the vault's binding store and read limits, measured "
    "right after by the vault benchmark's example (`vault_bench --mib "
    f"{VAULT_MIB}`, BENCH_VAULT_SQL_MIB; see the vault section for what bounds them); "
    "`pg_dump` and `pg_restore` alone, on the same dump, bound it from the other side: a "
    "snapshot runs the one and a restore the other before or after the vault's part. "
    "(c) 1% more rows appended through the Endpoint, then a second snapshot: its "
    "ActualIncrementalBackupSizeInMegaBytes ÷ TotalBackupSizeInMegaBytes.",
    [
        Metric("tps_select", "pgbench -S throughput (Endpoint vs direct)", "tx/s", True),
        Metric("tps_select_pct", "Endpoint -S throughput as % of direct", "%", True),
        Metric("tps_insert", "pgbench one-row INSERT throughput", "tx/s", True),
        Metric("tps_insert_pct", "Endpoint INSERT throughput as % of direct", "%", True),
        Metric("p50_select_ms", f"-S p50 latency at {PGBENCH_CLIENTS} clients", "ms", False),
        Metric("p99_select_ms", f"-S p99 latency at {PGBENCH_CLIENTS} clients", "ms", False),
        Metric("p50_c1_ms", "-S p50 latency, 1 client", "ms", False),
        Metric("p50_overhead_us", "p50 overhead of the Endpoint, 1 client", "µs", False),
        Metric(
            "tcp_share_us",
            "of which TCP loopback alone (scratch PostgreSQL: TCP − unix socket p50)",
            "µs",
            info=True,
        ),
        Metric(
            "first_answer_s",
            "CreateCluster → first SELECT 1, median (template made)",
            "s",
            False,
        ),
        Metric(
            "first_cluster_s",
            "CreateCluster → first SELECT 1, first cluster (makes the template)",
            "s",
            False,
        ),
        Metric("idle_rss_mib", "idle RSS per cluster (postgres processes)", "MiB", False),
        Metric("idle_pss_mib", "idle PSS per cluster (postgres processes)", "MiB", False),
        Metric("idle_procs", "postgres processes per idle cluster", "processes", info=True),
        Metric("db_mib", "database size (pg_database_size)", "MiB", info=True),
        Metric("rows", "rows in the table", "rows", info=True),
        Metric("snapshot_s", "CreateClusterSnapshot → available, vs pg_basebackup", "s", False),
        Metric(
            "snapshot_vs_dump_s",
            "CreateClusterSnapshot → available, vs pg_dump -Fd -Z0",
            "s",
            False,
        ),
        Metric(
            "restore_s",
            "RestoreFromClusterSnapshot → available + completed, vs pg_restore",
            "s",
            False,
        ),
        Metric("snapshot_mb_s", "snapshot throughput, vs pg_basebackup", "MiB/s", True),
        Metric("restore_mb_s", "restore throughput, vs pg_restore", "MiB/s", True),
        Metric(
            "total_backup_mib",
            "snapshot TotalBackupSizeInMegaBytes, vs pg_basebackup output",
            "MiB",
            info=True,
        ),
        Metric("snapshot_dump_mb_s", "snapshot: dump MB ÷ wall time", "MB/s", True),
        Metric(
            "snapshot_limit_pct",
            "snapshot as % of the vault's store limit",
            "%",
            True,
        ),
        Metric("restore_dump_mb_s", "restore: dump MB ÷ wall time", "MB/s", True),
        Metric(
            "restore_limit_pct",
            "restore as % of the vault's read limit",
            "%",
            True,
        ),
        Metric("vault_store_limit", "vault's binding store limit", "MB/s", info=True),
        Metric("vault_read_limit", "vault's binding read limit", "MB/s", info=True),
        Metric(
            "pg_dump_limit_pct",
            "pg_dump -Fd -Z0 alone, as % of the vault's store limit",
            "%",
            info=True,
        ),
        Metric(
            "pg_restore_limit_pct",
            "pg_restore alone, as % of the vault's read limit",
            "%",
            info=True,
        ),
        Metric("snapshot2_s", "second snapshot (after +1% rows) → available", "s", False),
        Metric("incr_pct", "second snapshot's new bytes: Actual ÷ Total", "%", False),
    ],
    higher_is_better=False,
    goals=(
        Goal(
            "first_answer_s",
            "<=",
            1.0,
            "(d) CreateCluster → first SQL answer ≤ 1 s",
            ISSUE,
            target="tidemark-disk",
        ),
        Goal(
            "tps_select_pct",
            ">=",
            90.0,
            "(a) Endpoint -S throughput ≥ 90% of direct",
            ISSUE,
            target="tidemark-disk",
        ),
        Goal(
            "tps_insert_pct",
            ">=",
            90.0,
            "(a) Endpoint INSERT throughput ≥ 90% of direct",
            ISSUE,
            target="tidemark-disk",
        ),
        Goal(
            "p50_overhead_us",
            "<=",
            100.0,
            "(a) p50 latency overhead ≤ 0.1 ms (100 µs)",
            ISSUE,
            target="tidemark-disk",
        ),
        Goal(
            "snapshot_limit_pct",
            ">=",
            60.0,
            "(b) snapshot MB/s ≥ 60% of the vault's binding store limit",
            ISSUE,
            target="tidemark-disk",
        ),
        Goal(
            "restore_limit_pct",
            ">=",
            60.0,
            "(b) restore MB/s ≥ 60% of the vault's binding read limit",
            ISSUE,
            target="tidemark-disk",
        ),
        Goal(
            "incr_pct",
            "<=",
            3.0,
            "(c) after +1% rows the next snapshot stores ≤ 3% new bytes",
            ISSUE,
            target="tidemark-disk",
        ),
    ),
    targets=("tidemark-disk", "postgres"),
)
def redshift_sql(target: Target, settings: Settings) -> dict:
    res: dict = {"notes": []}
    peer: dict = {"notes": []}
    notes = res["notes"]
    with _server(target) as (port, pid, data_dir):
        rs = boto_client("redshift", port)
        made: list[str] = []
        work = Path(tempfile.mkdtemp(prefix="pg-peer-", dir=SCRATCH))
        # The scratch PostgreSQL of `_tcp_share` runs as `postgres` below it.
        work.chmod(0o755)
        try:
            _measure(rs, pid, made, work, res, peer, notes)
        except Exception as exc:  # noqa: BLE001 the parts measured before stay in the report
            traceback.print_exc()
            res["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            for cid in made:
                _delete(rs, cid)
            for cid in made:
                with contextlib.suppress(Exception):
                    _wait(lambda c=cid: _gone(rs, c), f"DeleteCluster {cid}", 60)
            shutil.rmtree(work, ignore_errors=True)
    res["peer"] = peer
    res["plot_title"] = "Redshift SQL Endpoint (issue #14)"
    res["plot_metrics"] = [
        "tps_select",
        "tps_insert",
        "p50_c1_ms",
        "first_answer_s",
        "snapshot_s",
        "restore_s",
    ]
    return res


def _measure(
    rs, pid: int, made: list[str], work: Path, res: dict, peer: dict, notes: list
) -> None:
    # (d) and (e)
    first_s, _ = _first_answer(rs, "sql-0")
    made.append("sql-0")
    warm, rss, pss, procs, eps = [], [], [], [], {}
    for i in range(1, WARM_CLUSTERS + 1):
        cid = f"sql-{i}"
        made.append(cid)
        took, eps[cid] = _first_answer(rs, cid)
        warm.append(took)
    time.sleep(2.0)
    for i in range(1, WARM_CLUSTERS + 1):
        r, p, n = _memory(_postmaster(pid, f"sql-{i}")[0])
        rss.append(r)
        pss.append(p)
        procs.append(n)
    res.update(
        {
            "first_cluster_s": first_s,
            "first_answer_s": statistics.median(warm),
            "first_answer_samples": warm,
            "idle_rss_mib": statistics.median(rss),
            "idle_pss_mib": statistics.median(pss) if all(x is not None for x in pss) else None,
            "idle_procs": statistics.median(procs),
        }
    )
    notes.append(
        f"(d) CreateCluster → SELECT 1: first cluster {first_s:.2f} s; then "
        + ", ".join(f"{x:.3f}" for x in warm)
        + " s"
    )
    # The other warm clusters are not needed any more; one stays for pgbench.
    for cid in made[:]:
        if cid not in ("sql-1",):
            _delete(rs, cid)
            made.remove(cid)

    if "a" in PARTS:
        _pgbench_rounds(rs, pid, made, work, res, peer, notes, eps["sql-1"])
    else:
        _delete(rs, "sql-1")
        made.remove("sql-1")
        notes.append("(a) not run (BENCH_REDSHIFT_SQL_PARTS)")

    # (b) and (c) on sql-data
    _data_rounds(rs, pid, made, work, res, peer, notes)


def _pgbench_rounds(rs, pid, made, work, res, peer, notes, ep) -> None:
    # (a) pgbench on sql-1
    _pm, sock = _postmaster(pid, "sql-1")
    init = subprocess.run(
        [
            str(PG_BIN / "pgbench"), "-i", "-q", "-s", str(PGBENCH_SCALE),
            "-h", sock, "-U", MASTER, DB,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if init.returncode != 0:
        raise RuntimeError(f"pgbench -i failed: {init.stderr[-500:]}")
    conn = _connect(ep)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE bench_ins (id BIGINT, v VARCHAR(16))")
    conn.commit()
    conn.close()
    script = work / "insert.sql"
    script.write_text(INSERT_SCRIPT)
    # Plain text, as the direct side's unix socket is: TLS (which the Endpoint offers and
    # pgbench's default sslmode=prefer would take) is measured on its own below.
    env_ep = {**os.environ, "PGPASSWORD": PASSWORD, "PGCONNECT_TIMEOUT": "30", "PGSSLMODE": "disable"}
    env_tls = {**env_ep, "PGSSLMODE": "require"}
    env_direct = {**os.environ, "PGCONNECT_TIMEOUT": "30"}
    sides = {
        "endpoint": (["-h", ep[0], "-p", str(ep[1]), "-U", MASTER], env_ep),
        "direct": (["-h", sock, "-p", "5432", "-U", SUPERUSER], env_direct),
        "endpoint-tls": (["-h", ep[0], "-p", str(ep[1]), "-U", MASTER], env_tls),
    }

    def runner(workload: list[str], clients: int, threads: int):
        def run(side: str) -> dict:
            cpu0 = proc_cpu_seconds(pid)
            got = _pgbench(sides[side][0], sides[side][1], workload, clients, threads, work)
            got["tidemark_cpu_s"] = proc_cpu_seconds(pid) - cpu0
            return got

        return run

    sel = _ab(runner(["-S"], PGBENCH_CLIENTS, PGBENCH_THREADS))
    ins = _ab(runner(["-f", str(script)], PGBENCH_CLIENTS, PGBENCH_THREADS))
    one = _ab(runner(["-S"], 1, 1))
    tls_run = runner(["-S"], PGBENCH_CLIENTS, PGBENCH_THREADS)
    tls = [tls_run("endpoint-tls") for _ in range(2)]
    p50 = {s: percentile(one[s]["lat"], 50) for s in one}
    res.update(
        {
            "tps_select": sel["endpoint"]["tps"],
            "tps_select_pct": 100 * sel["endpoint"]["tps"] / sel["direct"]["tps"],
            "tps_insert": ins["endpoint"]["tps"],
            "tps_insert_pct": 100 * ins["endpoint"]["tps"] / ins["direct"]["tps"],
            "p50_select_ms": percentile(sel["endpoint"]["lat"], 50),
            "p99_select_ms": percentile(sel["endpoint"]["lat"], 99),
            "p50_c1_ms": p50["endpoint"],
            "p50_overhead_us": 1000 * (p50["endpoint"] - p50["direct"]),
        }
    )
    peer.update(
        {
            "tps_select": sel["direct"]["tps"],
            "tps_insert": ins["direct"]["tps"],
            "p50_select_ms": percentile(sel["direct"]["lat"], 50),
            "p99_select_ms": percentile(sel["direct"]["lat"], 99),
            "p50_c1_ms": p50["direct"],
        }
    )
    for name, got in (("-S", sel), ("INSERT", ins), ("-S 1 client", one)):
        notes.append(
            f"(a) pgbench {name} TPS per run, Endpoint "
            + " / ".join(f"{x:,.0f}" for x in got["endpoint"]["tps_runs"])
            + ", direct "
            + " / ".join(f"{x:,.0f}" for x in got["direct"]["tps_runs"])
            + "; tidemark's CPU per Endpoint transaction "
            + f"{got['endpoint']['cpu_us_per_tx']:.0f} µs"
        )
    tls_tx = sum(len(r["lat"]) for r in tls)
    res["tps_select_tls"] = statistics.fmean(r["tps"] for r in tls)
    notes.append(
        "(a) pgbench -S over TLS (sslmode=require; the rows above are plain text, as the direct "
        "side is) TPS per run, Endpoint "
        + " / ".join(f"{r['tps']:,.0f}" for r in tls)
        + "; tidemark's CPU per transaction "
        + f"{1e6 * sum(r['tidemark_cpu_s'] for r in tls) / max(1, tls_tx):.0f} µs"
    )
    notes.append(
        "(a) the Endpoint path is TCP over loopback plus the proxy, the direct one a unix "
        "socket: the overhead includes TCP's cost"
    )
    _delete(rs, "sql-1")
    made.remove("sql-1")
    tcp = _tcp_share(work)
    res["tcp_share_us"] = 1000 * (
        percentile(tcp["endpoint"]["lat"], 50) - percentile(tcp["direct"]["lat"], 50)
    )
    notes.append(
        "(a) TCP's share: the same 1-client -S runs on a scratch PostgreSQL 15 (initdb, "
        "shared_buffers 8MB) over TCP loopback vs its unix socket, A B A B: p50 "
        f"{percentile(tcp['endpoint']['lat'], 50) * 1000:.0f} vs "
        f"{percentile(tcp['direct']['lat'], 50) * 1000:.0f} µs"
    )


def _tcp_share(work: Path) -> dict[str, dict]:
    """1-client pgbench -S over TCP loopback ("endpoint" side) vs the unix socket ("direct")
    of a scratch PostgreSQL: how much of the Endpoint's overhead TCP alone accounts for (the
    cluster's instance listens on its socket only)."""
    base = work / "tcp"
    base.mkdir()
    shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", free_port()
    who = {"user": "postgres", "group": "postgres", "cwd": base}
    init = subprocess.run(
        [str(PG_BIN / "initdb"), "--no-sync", "-A", "trust", "-U", SUPERUSER, "-D", str(data)],
        capture_output=True, text=True, timeout=120, check=False, **who,
    )
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {init.stderr[-500:]}")
    server = subprocess.Popen(
        [
            str(PG_BIN / "postgres"), "-D", str(data), "-k", str(base), "-p", str(port),
            "-c", "listen_addresses=127.0.0.1", "-c", "shared_buffers=8MB",
        ],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **who,
    )
    try:
        conn = ["-h", str(base), "-p", str(port), "-U", SUPERUSER]

        def ready():
            with contextlib.suppress(psycopg2.OperationalError):
                psycopg2.connect(
                    host=str(base), port=port, user=SUPERUSER, dbname="postgres",
                    connect_timeout=5,
                ).close()
                return True
            return server.poll() is not None and _fail("the scratch PostgreSQL exited")

        _wait(ready, "the scratch PostgreSQL", 60)
        _timed([str(PG_BIN / "createdb"), *conn, DB], "createdb", 120)
        _timed([str(PG_BIN / "pgbench"), "-i", "-q", "-s", "1", *conn, DB], "pgbench -i", 300)
        sides = {"endpoint": ["-h", "127.0.0.1", *conn[2:]], "direct": conn}
        return _ab(lambda side: _pgbench(sides[side], dict(os.environ), ["-S"], 1, 1, work))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def _fail(what: str):
    raise RuntimeError(what)


def _data_rounds(rs, pid, made, work, res, peer, notes) -> None:
    _took, ep = _first_answer(rs, "sql-data")
    made.append("sql-data")
    conn = _connect(ep)
    with conn.cursor() as cur:
        cur.execute(ORDERS_DDL)
    conn.commit()
    began = time.perf_counter()
    probe = 100_000
    _insert(conn, 1, probe)
    table_mib = _scalar(conn, "SELECT pg_total_relation_size('orders')") / MIB
    rows = max(probe, round(probe * DB_MIB / table_mib))
    _insert(conn, probe + 1, rows - probe)
    db_mib = _scalar(conn, "SELECT pg_database_size(current_database())") / MIB
    conn.commit()
    source = _checksum(conn)
    notes.append(
        f"(b) {rows:,} rows, {db_mib:,.0f} MiB database loaded through the Endpoint in "
        f"{time.perf_counter() - began:.0f} s (untimed)"
    )
    snap_s, snap = _snapshot(rs, "sql-snap-1", "sql-data")
    made.append("sql-restored")
    restore_s, restored, statuses = _restore(rs, "sql-snap-1", "sql-restored")
    back = _connect(_endpoint(rs, "sql-restored"))
    copy = _checksum(back)
    back.close()
    if copy != source:
        raise RuntimeError(f"restored database differs: {copy} != {source}")
    notes.append(
        f"(b) restored: count, sum(id), sum(amount), whole-row hash sum equal the source's "
        f"({source[0]} rows); RestoreStatus seen: {' → '.join(statuses)}"
    )
    _delete(rs, "sql-restored")
    made.remove("sql-restored")

    # PostgreSQL's own tools on the source instance, as its superuser over the socket.
    _pm, sock = _postmaster(pid, "sql-data")
    bb = work / "basebackup"
    bb_s = _timed(
        [
            str(PG_BIN / "pg_basebackup"), "-h", sock, "-U", SUPERUSER,
            "-X", "stream", "-c", "fast", "-D", str(bb),
        ],
        "pg_basebackup",
    )
    bb_mib = _du_mib(bb)
    shutil.rmtree(bb, ignore_errors=True)
    dump = work / "dump"
    dump_s = _timed(
        [str(PG_BIN / "pg_dump"), "-h", sock, "-U", SUPERUSER, "-Fd", "-Z0", "-f", str(dump), DB],
        "pg_dump",
    )
    dump_mib = _du_mib(dump)
    _timed([str(PG_BIN / "createdb"), "-h", sock, "-U", SUPERUSER, "peer_restore"], "createdb", 120)
    # The new database comes from template1, which has the cluster's event triggers already;
    # restoring them again would fail, so they are left out of the list (as tidemark does).
    listing = subprocess.run(
        [str(PG_BIN / "pg_restore"), "-l", str(dump)],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    toc = work / "restore.list"
    toc.write_text("".join(l + "\n" for l in listing.splitlines() if " EVENT TRIGGER " not in l))
    pr_s = _timed(
        [
            str(PG_BIN / "pg_restore"), "-h", sock, "-U", SUPERUSER, "-d", "peer_restore",
            "-L", str(toc), str(dump),
        ],
        "pg_restore",
    )
    _timed([str(PG_BIN / "dropdb"), "-h", sock, "-U", SUPERUSER, "peer_restore"], "dropdb", 300)
    shutil.rmtree(dump, ignore_errors=True)
    notes.append(
        f"(b) pg_basebackup wrote {bb_mib:,.0f} MiB, pg_dump -Fd -Z0 {dump_mib:,.0f} MiB"
    )

    # (c) 1% more rows, then a second snapshot.
    _insert(conn, rows + 1, max(1, rows // 100))
    conn.close()
    snap2_s, snap2 = _snapshot(rs, "sql-snap-2", "sql-data")
    total2 = snap2.get("TotalBackupSizeInMegaBytes") or 0.0
    actual2 = snap2.get("ActualIncrementalBackupSizeInMegaBytes")

    # The vault's limits on this machine now, and (b) against them.
    store_bind, store_limit, read_bind, read_limit = binding_limits(
        run_example(VAULT_MIB, prefer_prebuilt=True)
    )
    dump_mb = (snap.get("TotalBackupSizeInMegaBytes") or 0.0) * MIB / MB
    peer_dump_mb = dump_mib * MIB / MB
    res.update(
        {
            "snapshot_dump_mb_s": dump_mb / snap_s,
            "snapshot_limit_pct": 100 * dump_mb / snap_s / store_limit,
            "restore_dump_mb_s": dump_mb / restore_s,
            "restore_limit_pct": 100 * dump_mb / restore_s / read_limit,
            "vault_store_limit": store_limit,
            "vault_read_limit": read_limit,
            "pg_dump_limit_pct": 100 * peer_dump_mb / dump_s / store_limit,
            "pg_restore_limit_pct": 100 * peer_dump_mb / pr_s / read_limit,
        }
    )
    peer.update(
        {"snapshot_dump_mb_s": peer_dump_mb / dump_s, "restore_dump_mb_s": peer_dump_mb / pr_s}
    )
    notes.append(
        f"(b) vault limits ({VAULT_MIB} MiB run): store {store_limit:,.0f} MB/s ({store_bind}), "
        f"read {read_limit:,.0f} MB/s ({read_bind}); the peer column of the dump MB/s rows is "
        f"pg_dump -Fd -Z0 ({peer_dump_mb / dump_s:,.0f} MB/s of dump) and pg_restore "
        f"({peer_dump_mb / pr_s:,.0f} MB/s) alone"
    )
    res.update(
        {
            "db_mib": db_mib,
            "rows": rows,
            "snapshot_s": snap_s,
            "snapshot_vs_dump_s": snap_s,
            "restore_s": restore_s,
            "snapshot_mb_s": db_mib / snap_s,
            "restore_mb_s": db_mib / restore_s,
            "total_backup_mib": snap.get("TotalBackupSizeInMegaBytes"),
            "snapshot2_s": snap2_s,
            "incr_pct": 100 * actual2 / total2 if actual2 is not None and total2 else None,
        }
    )
    peer.update(
        {
            "db_mib": db_mib,
            "snapshot_s": bb_s,
            "snapshot_vs_dump_s": dump_s,
            "restore_s": pr_s,
            "snapshot_mb_s": db_mib / bb_s,
            "restore_mb_s": db_mib / pr_s,
            "total_backup_mib": bb_mib,
        }
    )
    notes.append(
        "(b) first snapshot: TotalBackupSizeInMegaBytes "
        f"{_mb(snap.get('TotalBackupSizeInMegaBytes'))}, "
        f"ActualIncrementalBackupSizeInMegaBytes "
        f"{_mb(snap.get('ActualIncrementalBackupSizeInMegaBytes'))}, server ElapsedTimeInSeconds "
        f"{snap.get('ElapsedTimeInSeconds')}; restore ElapsedTimeInSeconds "
        f"{(restored.get('RestoreStatus') or {}).get('ElapsedTimeInSeconds')}"
    )
    notes.append(
        f"(c) second snapshot: TotalBackupSizeInMegaBytes {_mb(total2)}, "
        f"ActualIncrementalBackupSizeInMegaBytes {_mb(actual2)}"
    )


def _mb(x) -> str:
    return "n/a" if x is None else f"{x:,.1f}"
