"""Shared client plumbing for the data-plane benchmarks: a running server, boto3 clients, a
raw pre-signed HTTP client, a boto3 thread pool load generator and a `wrk` driver."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from registry import percentile
from startup import start_and_wait
from targets import Target, stop

REGION = "us-east-1"
CREDS = Credentials("AKIDTIDEMARKBENCH001", "bench-secret")
CLK_TCK = os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def running(target: Target) -> Iterator[tuple[int, int]]:
    """A fresh server of `target`, answering requests; yields (port, pid)."""
    proc, port, _ = start_and_wait(target)
    try:
        yield port, proc.pid
    finally:
        stop(proc)


def proc_cpu_seconds(pid: int) -> float:
    """utime+stime of one process, in seconds (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def boto_client(service: str, port: int):
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=REGION,
        aws_access_key_id=CREDS.access_key,
        aws_secret_access_key=CREDS.secret_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, max_pool_connections=4),
    )


def signed_headers(port: int, service: str, body: bytes, headers: dict[str, str]) -> dict:
    """SigV4 headers for one POST / to the server (signature computed by botocore)."""
    req = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}/", data=body, headers=headers)
    SigV4Auth(CREDS, service, REGION).add_auth(req)
    return dict(req.headers.items())


class RawClient:
    """One persistent HTTP/1.1 connection; each request is SigV4-signed, bodies are plain
    `json.loads`/bytes. Much cheaper per request than boto3 (no model-driven (de)serialising)."""

    def __init__(self, port: int, service: str):
        self.port = port
        self.service = service
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        hdrs = signed_headers(self.port, self.service, body, headers)
        self.conn.request("POST", "/", body=body, headers=hdrs)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def dynamodb(self, op: str, payload: dict) -> dict:
        status, data = self.request(
            json.dumps(payload).encode(),
            {
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"DynamoDB_20120810.{op}",
            },
        )
        if status != 200:
            raise RuntimeError(f"{op} -> HTTP {status}: {data[:300]!r}")
        return json.loads(data)

    def query_api(self, action: str, version: str, params: dict[str, str]) -> bytes:
        form = {"Action": action, "Version": version, **params}
        status, data = self.request(
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        if status != 200:
            raise RuntimeError(f"{action} -> HTTP {status}: {data[:300]!r}")
        return data

    def close(self) -> None:
        self.conn.close()


def thread_load(
    clients: list, op: Callable[[object, int, int], None], duration: float, server_pid: int
) -> dict:
    """Runs `op(client, thread_index, n)` in a loop on one thread per client for `duration`
    seconds; returns throughput, latency percentiles (ms) and CPU use of client and server."""
    lat: list[list[float]] = [[] for _ in clients]
    errors = [0] * len(clients)
    barrier = threading.Barrier(len(clients) + 1)
    stop_at = [0.0]

    def worker(idx: int) -> None:
        client, mine = clients[idx], lat[idx]
        n = 0
        barrier.wait()
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at[0]:
                return
            try:
                op(client, idx, n)
            except Exception:  # noqa: BLE001 counted and reported, never silently dropped
                errors[idx] += 1
            mine.append(time.perf_counter() - t0)
            n += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(clients))]
    for t in threads:
        t.start()
    cpu_client0, cpu_server0 = time.process_time(), proc_cpu_seconds(server_pid)
    began = time.perf_counter()
    stop_at[0] = began + duration
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    cpu_client = time.process_time() - cpu_client0
    cpu_server = proc_cpu_seconds(server_pid) - cpu_server0
    ordered = sorted(x for per in lat for x in per)
    return {
        "ops_s": len(ordered) / wall,
        "p50_ms": percentile(ordered, 50) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
        "requests": len(ordered),
        "errors": sum(errors),
        "client_cores": cpu_client / wall,
        "server_cores": cpu_server / wall,
    }


WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_load(
    port: int, headers: dict[str, str], body_lua: str, conns: int, duration: float, pid: int
) -> dict:
    """Drives POST / with `wrk -t1 -c<conns>`; `body_lua` is a Lua expression (may use the
    per-thread counter `n`) evaluated for every request. The Authorization header is signed
    once: tidemark's permissive mode checks its form only, moto not at all."""
    hdr_lua = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    script = (
        "n = 0\n"
        f"local hdrs = {{ {hdr_lua} }}\n"
        "request = function()\n"
        "  n = n + 1\n"
        f"  return wrk.format('POST', '/', hdrs, {body_lua})\n"
        "end\n" + WRK_DONE
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        cpu0 = proc_cpu_seconds(pid)
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{conns}",
                f"-d{max(1, round(duration))}s",
                "-s",
                path,
                f"http://127.0.0.1:{port}/",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=duration + 60,
        )
        cpu = proc_cpu_seconds(pid) - cpu0
    finally:
        os.unlink(path)
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    wall = stats["duration_us"] / 1e6
    ok = stats["requests"] - stats["status_errors"]
    return {
        "ops_s": ok / wall,
        "p50_ms": stats["p50_us"] / 1000,
        "p99_ms": stats["p99_us"] / 1000,
        "requests": stats["requests"],
        "errors": stats["status_errors"] + stats["socket_errors"],
        "server_cores": cpu / wall,
    }
