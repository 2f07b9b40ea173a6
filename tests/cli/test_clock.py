"""`tidemark clock ...` against a stub of the admin API (GET/POST /_tidemark/clock): request
bodies, printed output, and refusals."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class ClockStub(BaseHTTPRequestHandler):
    state = {"now": "2026-01-01T00:00:00Z", "frozen": False}
    seen: list[dict] = []

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        assert self.path == "/_tidemark/clock"
        self._send(200, self.state)

    def do_POST(self) -> None:
        assert self.path == "/_tidemark/clock"
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(body)
        if len(body) != 1:
            return self._send(400, {"error": "exactly one of advance_seconds, set, freeze"})
        if "advance_seconds" in body and body["advance_seconds"] < 0:
            return self._send(400, {"error": "cannot move the clock backwards"})
        if "freeze" in body:
            self.state["frozen"] = body["freeze"]
        if "set" in body:
            self.state["now"] = body["set"]
        self._send(200, self.state)


@pytest.fixture()
def stub() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ClockStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ClockStub.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def clock(binaries, endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binaries["tidemark"]), "clock", *args, "--endpoint-url", endpoint],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )


def test_clock_commands(binaries, stub) -> None:
    r = clock(binaries, stub, "show")
    assert (r.returncode, r.stdout) == (0, "2026-01-01T00:00:00Z\n")
    assert clock(binaries, stub, "advance", "36d").returncode == 0
    assert clock(binaries, stub, "advance", "8h").returncode == 0
    assert clock(binaries, stub, "freeze").stdout == "2026-01-01T00:00:00Z (frozen)\n"
    assert clock(binaries, stub, "unfreeze").returncode == 0
    assert clock(binaries, stub, "set", "2027-02-03T04:05:06Z").stdout == "2027-02-03T04:05:06Z\n"
    assert ClockStub.seen == [
        {"advance_seconds": 36 * 86400},
        {"advance_seconds": 8 * 3600},
        {"freeze": True},
        {"freeze": False},
        {"set": "2027-02-03T04:05:06Z"},
    ]


def test_clock_refusals(binaries, stub) -> None:
    r = clock(binaries, stub, "advance", "-1h")
    assert r.returncode == 255
    assert "cannot move the clock backwards" in r.stderr
    r = clock(binaries, stub, "advance", "8x")
    assert r.returncode == 255 and "invalid duration" in r.stderr
    r = clock(binaries, stub, "set", "yesterday")
    assert r.returncode == 255 and "RFC 3339" in r.stderr
    assert ClockStub.seen == [{"advance_seconds": -3600}]
