"""Startup benchmarks: cold start to the first answered DynamoDB request, and idle RSS."""

from __future__ import annotations

import socket
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from registry import Goal, Settings, benchmark, summarize
from targets import Target, free_port, stop, tree_rss_bytes

FOUNDATION = "foundation issue"
# Give up on one cold start after this long: moto takes ~1 s, tidemark should take ms.
START_DEADLINE_S = 30.0
POLL_INTERVAL_S = 0.001


def signed_list_tables(port: int) -> bytes:
    """A complete HTTP/1.1 ListTables request, SigV4-signed by botocore for this port.

    Signing happens before the clock starts; servers in permissive mode only check that the
    Authorization header is well formed, and moto does not check it at all.
    """
    url = f"http://127.0.0.1:{port}/"
    body = b"{}"
    req = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
        },
    )
    SigV4Auth(
        Credentials("AKIDTIDEMARKBENCH001", "bench-secret"), "dynamodb", "us-east-1"
    ).add_auth(req)
    lines = [b"POST / HTTP/1.1", f"Host: 127.0.0.1:{port}".encode()]
    lines += [f"{k}: {v}".encode() for k, v in req.headers.items()]
    lines += [f"Content-Length: {len(body)}".encode(), b"Connection: close", b"", body]
    return b"\r\n".join(lines)


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before headers")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while length is None or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, body


def list_tables_once(port: int, request: bytes) -> bool:
    """One attempt: True only for a 200 answer carrying TableNames."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(request)
            status, body = _read_response(sock)
    except OSError:
        return False
    return status == 200 and b'"TableNames"' in body


def start_and_wait(target: Target) -> tuple[object, int, float]:
    """Spawns the target and polls ListTables every ~1 ms; returns (proc, port, seconds)."""
    port = free_port()
    request = signed_list_tables(port)
    start = time.perf_counter()
    proc = target.spawn(port)
    while True:
        if list_tables_once(port, request):
            return proc, port, time.perf_counter() - start
        if proc.poll() is not None:
            raise RuntimeError(f"{target.name} exited with {proc.returncode} before answering")
        if time.perf_counter() - start > START_DEADLINE_S:
            stop(proc)
            raise RuntimeError(f"{target.name} did not answer within {START_DEADLINE_S}s")
        time.sleep(POLL_INTERVAL_S)


@benchmark(
    "cold_start",
    "Cold start to first answered DynamoDB request",
    "ms",
    "Process spawn until a signed ListTables over a fresh TCP connection returns 200; the "
    "client retries the connection every ~1 ms. A new server process per run.",
    [("median", "median"), ("p90", "p90"), ("min", "min"), ("max", "max")],
    goals=(Goal("median", "<=", 20.0, "median cold start ≤ 20 ms", FOUNDATION),),
)
def cold_start(target: Target, settings: Settings) -> dict:
    samples = []
    for _ in range(settings.runs):
        proc, _port, seconds = start_and_wait(target)
        stop(proc)
        samples.append(seconds * 1000.0)
    return summarize(samples)


@benchmark(
    "idle_rss",
    "Idle resident memory after start and one request",
    "MB",
    "VmRSS summed over the server's process tree, read 1 s after the first answered "
    "ListTables (MB = 10^6 bytes).",
    [("median", "median"), ("max", "max")],
    goals=(Goal("median", "<=", 20.0, "idle RSS ≤ 20 MB", FOUNDATION),),
)
def idle_rss(target: Target, settings: Settings) -> dict:
    samples = []
    for _ in range(max(3, settings.runs // 4)):
        proc, _port, _seconds = start_and_wait(target)
        time.sleep(1.0)
        samples.append(tree_rss_bytes(proc.pid) / 1e6)
        stop(proc)
    return summarize(samples)
