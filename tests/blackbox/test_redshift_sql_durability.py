"""Nothing committed to a cluster's database is lost (issue #14): `kill -9` of tidemark while
a client writes, then a restart on the same data directory; and `kill -9` of the cluster's
PostgreSQL, which the Endpoint heals on the next connection; and each of the two during a
snapshot's dump, which fails the snapshot and loses nothing. Each runs its own server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import boto3
import psycopg2
import pytest
import requests
from tm_helpers import ACCESS_KEY, REGION, SECRET_KEY, tidemark_binary, wait_until

PASSWORD = "Passw0rd1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, log: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIDEMARK_")}
        self.proc = subprocess.Popen(
            [str(tidemark_binary()), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(data_dir)],
            stdin=subprocess.DEVNULL, stdout=open(log, "ab"), stderr=subprocess.STDOUT, env=env,
        )
        wait_until(self._healthy, "server healthy", timeout_s=60)
        self.redshift = boto3.client(
            "redshift", endpoint_url=self.url, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        )

    def _healthy(self) -> bool:
        try:
            return requests.get(self.url + "/_tidemark/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def cluster(self, cid: str) -> dict:
        """Creates a single-node cluster and returns its Endpoint once it is available."""
        self.redshift.create_cluster(
            ClusterIdentifier=cid, NodeType="dc2.large", ClusterType="single-node",
            MasterUsername="admin", MasterUserPassword=PASSWORD,
        )
        return endpoint_of(self.redshift, cid)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def endpoint_of(redshift, cid: str) -> dict:
    c = wait_until(
        lambda: (c := redshift.describe_clusters(ClusterIdentifier=cid)["Clusters"][0])
        and c["ClusterStatus"] == "available" and c,
        "cluster available", timeout_s=120,
    )
    return c["Endpoint"]


def connect(ep: dict):
    return psycopg2.connect(host=ep["Address"], port=ep["Port"], user="admin", password=PASSWORD,
                            dbname="dev", connect_timeout=30)


def postmasters_of(cluster: str) -> list[int]:
    """PostgreSQL servers (postmasters: `postgres -D <dir>`) on this cluster's data directory."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"postgres") and b"-D" in cmd:
            data_dir = cmd[cmd.index(b"-D") + 1]
            if data_dir.rstrip(b"/").endswith(f"/{cluster}/pgdata".encode()):
                out.append(int(pid))
    return out


def test_kill_9_of_tidemark_during_writes_loses_no_committed_transaction(tmp_path):
    server = Server(tmp_path / "data", tmp_path / "server.log")
    try:
        ep = server.cluster("durable")
        conn = connect(ep)
        conn.cursor().execute("CREATE TABLE acked (n INTEGER PRIMARY KEY)")
        conn.commit()
        acked: list[int] = []
        failed = threading.Event()

        def write() -> None:
            n = 0
            try:
                cur = conn.cursor()
                while True:
                    n += 1
                    cur.execute("INSERT INTO acked VALUES (%s)", (n,))
                    conn.commit()
                    acked.append(n)
            except psycopg2.Error:
                failed.set()

        t = threading.Thread(target=write)
        t.start()
        wait_until(lambda: len(acked) > 200, "writes under way", timeout_s=60)
        server.kill9()
        t.join(timeout=30)
        assert failed.is_set()
        orphans = postmasters_of("durable")
        assert len(orphans) == 1, orphans  # kill -9 of tidemark leaves its PostgreSQL running
        server = Server(tmp_path / "data", tmp_path / "server.log")
        ep = endpoint_of(server.redshift, "durable")
        assert ep["Port"] == 5439
        conn = connect(ep)
        cur = conn.cursor()
        cur.execute("SELECT n FROM acked")
        held = {r[0] for r in cur.fetchall()}
        assert set(acked) <= held, f"lost {len(set(acked) - held)} acknowledged rows"
        # The orphaned server the killed tidemark left was stopped, not run beside a new one.
        now = postmasters_of("durable")
        assert len(now) == 1 and now != orphans, (orphans, now)
        conn.close()
    finally:
        server.stop()


def test_kill_9_of_the_clusters_postgres_heals_on_the_next_connection(tmp_path):
    server = Server(tmp_path / "data", tmp_path / "server.log")
    try:
        ep = server.cluster("heals")
        conn = connect(ep)
        cur = conn.cursor()
        cur.execute("CREATE TABLE t (n INTEGER)")
        cur.execute("INSERT INTO t SELECT generate_series(1, 1000)")
        conn.commit()
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
        postmaster = _ppid(backend)
        # The whole server dies at once, as in a crash: the postmaster and every child.
        children = [
            int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == postmaster
        ]
        for pid in [postmaster, *children]:
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(psycopg2.Error):
            cur.execute("SELECT 1")
        conn2 = wait_until(lambda: _try_connect(ep), "a new connection after the crash", timeout_s=60)
        cur2 = conn2.cursor()
        cur2.execute("SELECT COUNT(*), SUM(n) FROM t")
        assert cur2.fetchone() == (1000, 500500)
        conn2.close()
    finally:
        server.stop()


def _ppid(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(next(l.split()[1] for l in status.splitlines() if l.startswith("PPid:")))


def _try_connect(ep):
    try:
        return connect(ep)
    except psycopg2.OperationalError:
        return None


# --- kill -9 during a snapshot ------------------------------------------------------------
#
# A table big enough that the snapshot's pg_dump runs for a while (~0.5 s here) lets the test
# kill in the middle of it: it polls for the pg_dump child and kills as soon as it appears.
BIG_ROWS = 200_000


class Writer:
    """Commits numbered single-row transactions to `acked` until stopped or its connection
    dies; `commits` holds (n, commit started, commit returned) for each acknowledged one."""

    def __init__(self, ep: dict, first: int):
        self.conn = connect(ep)
        self.commits: list[tuple[int, float, float]] = []
        self.stop = threading.Event()
        self.died = threading.Event()
        self.next = first
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            cur = self.conn.cursor()
            while not self.stop.is_set():
                n = self.next
                self.next += 1
                cur.execute("INSERT INTO acked VALUES (%s)", (n,))
                started = time.monotonic()
                self.conn.commit()
                self.commits.append((n, started, time.monotonic()))
        except psycopg2.Error:
            self.died.set()

    def join(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        try:
            self.conn.close()
        except psycopg2.Error:
            pass


def _load(ep: dict) -> None:
    conn = connect(ep)
    cur = conn.cursor()
    cur.execute("CREATE TABLE acked (n INTEGER PRIMARY KEY)")
    cur.execute("CREATE TABLE big (id INTEGER, pad VARCHAR(200))")
    cur.execute("INSERT INTO big SELECT g, repeat('x', 150) || g FROM generate_series(1, %s) g", (BIG_ROWS,))
    conn.commit()
    conn.close()


def _children_named(parent: int, name: bytes) -> list[int]:
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and _ppid(int(pid)) == parent:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(name):
                out.append(int(pid))
    return out


def _snapshot_status(redshift, sid: str) -> str:
    return redshift.describe_cluster_snapshots(SnapshotIdentifier=sid)["Snapshots"][0]["Status"]


def _settled(redshift, sid: str) -> str:
    """The snapshot's status once it is no longer `creating`."""
    return wait_until(
        lambda: (s := _snapshot_status(redshift, sid)) != "creating" and s,
        f"snapshot {sid} to leave creating", timeout_s=60,
    )


def _check_after_the_kill(server: Server, cid: str, ep: dict, acked: set[int], killed: str) -> None:
    """Every acknowledged row is there, the killed snapshot settled, the cluster takes writes
    again, and a new snapshot taken while a writer commits restores exactly the rows
    committed before its request."""
    conn = wait_until(lambda: _try_connect(ep), "a connection after the kill", timeout_s=60)
    cur = conn.cursor()
    cur.execute("SELECT n FROM acked")
    held = {r[0] for r in cur.fetchall()}
    assert acked <= held, f"lost {len(acked - held)} acknowledged rows"
    cur.execute("SELECT COUNT(*), SUM(id) FROM big")
    assert cur.fetchone() == (BIG_ROWS, BIG_ROWS * (BIG_ROWS + 1) // 2)
    # The snapshot's point in time died with the kill, so it cannot be completed as of its
    # request: it turns `failed`, never stays `creating`, and restoring it is refused.
    assert _settled(server.redshift, killed) == "failed"
    with pytest.raises(server.redshift.exceptions.InvalidClusterSnapshotStateFault):
        server.redshift.restore_from_cluster_snapshot(ClusterIdentifier=cid + "-bad", SnapshotIdentifier=killed)
    # The big table goes so the next snapshot and its restore stay quick.
    cur.execute("DROP TABLE big")
    conn.commit()
    conn.close()
    writer = Writer(ep, first=max(held, default=0) + 1)
    wait_until(lambda: len(writer.commits) > 30, "writes under way again", timeout_s=30)
    asked = time.monotonic()
    server.redshift.create_cluster_snapshot(ClusterIdentifier=cid, SnapshotIdentifier=cid + "-after")
    answered = time.monotonic()
    wait_until(lambda: writer.commits[-1][1] > answered + 0.2, "writes after the request", timeout_s=30)
    writer.join()
    assert not writer.died.is_set()
    assert _settled(server.redshift, cid + "-after") == "available"
    server.redshift.restore_from_cluster_snapshot(ClusterIdentifier=cid + "-r", SnapshotIdentifier=cid + "-after")
    rconn = connect(endpoint_of(server.redshift, cid + "-r"))
    rcur = rconn.cursor()
    rcur.execute("SELECT n FROM acked")
    restored = {r[0] for r in rcur.fetchall()}
    before = held | {n for n, _, returned in writer.commits if returned < asked}
    after = {n for n, started, _ in writer.commits if started > answered}
    assert after
    assert before <= restored, sorted(before - restored)[:10]
    assert not (after & restored), sorted(after & restored)[:10]
    rconn.close()


def _partial_dumps(data_dir: Path, cid: str) -> list[Path]:
    """Dumps being written (or left half written) inside cluster `cid`'s volume."""
    return [p for p in data_dir.rglob(".tidemark-tmp-dump") if p.parent.name == cid]


def test_kill_9_of_tidemark_during_a_snapshot(tmp_path):
    server = Server(tmp_path / "data", tmp_path / "server.log")
    try:
        ep = server.cluster("snapkill")
        _load(ep)
        writer = Writer(ep, first=1)
        wait_until(lambda: len(writer.commits) > 50, "writes under way", timeout_s=30)
        server.redshift.create_cluster_snapshot(ClusterIdentifier="snapkill", SnapshotIdentifier="killed")
        wait_until(lambda: _children_named(server.proc.pid, b"pg_dump"), "pg_dump running", timeout_s=30)
        server.kill9()
        writer.join()
        assert writer.died.is_set()
        acked = {n for n, _, _ in writer.commits}
        # The dump was being written inside the cluster's volume under a temporary name.
        assert _partial_dumps(tmp_path / "data", "snapkill"), "no partial dump to clean up"
        server = Server(tmp_path / "data", tmp_path / "server.log")
        assert not _partial_dumps(tmp_path / "data", "snapkill"), "the restart removed the partial dump"
        ep = endpoint_of(server.redshift, "snapkill")
        _check_after_the_kill(server, "snapkill", ep, acked, "killed")
    finally:
        server.stop()


def test_kill_9_of_the_clusters_postgres_during_a_snapshot(tmp_path):
    server = Server(tmp_path / "data", tmp_path / "server.log")
    try:
        ep = server.cluster("pgkill")
        _load(ep)
        writer = Writer(ep, first=1)
        wait_until(lambda: len(writer.commits) > 50, "writes under way", timeout_s=30)
        server.redshift.create_cluster_snapshot(ClusterIdentifier="pgkill", SnapshotIdentifier="killed")
        wait_until(lambda: _children_named(server.proc.pid, b"pg_dump"), "pg_dump running", timeout_s=30)
        [postmaster] = postmasters_of("pgkill")
        children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == postmaster]
        for pid in [postmaster, *children]:
            os.kill(pid, signal.SIGKILL)
        wait_until(writer.died.is_set, "the writer to see the crash", timeout_s=30)
        writer.join()
        acked = {n for n, _, _ in writer.commits}
        _check_after_the_kill(server, "pgkill", ep, acked, "killed")
        assert not _partial_dumps(tmp_path / "data", "pgkill"), "the failed dump was removed"
    finally:
        server.stop()
