"""Waiters that end on their first attempt, compared with aws CLI v1 against a stub server:
success, a terminal failure acceptor, and an unexpected service error."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

CLUSTER_XML = (
    '<DescribeClustersResponse xmlns="http://redshift.amazonaws.com/doc/2012-12-01/">'
    "<DescribeClustersResult><Clusters><Cluster><ClusterIdentifier>{id}</ClusterIdentifier>"
    "<ClusterStatus>{status}</ClusterStatus></Cluster></Clusters></DescribeClustersResult>"
    "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeClustersResponse>"
)


class Stub(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _send(self, code: int, ctype: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        target = self.headers.get("X-Amz-Target", "")
        if target.endswith(".DescribeTable"):
            name = json.loads(body)["TableName"]
            if name == "denied":
                err = {"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException", "message": "nope"}
                return self._send(400, "application/x-amz-json-1.0", json.dumps(err).encode())
            table = {"Table": {"TableName": name, "TableStatus": "ACTIVE"}}
            return self._send(200, "application/x-amz-json-1.0", json.dumps(table).encode())
        ident = body.split("ClusterIdentifier=")[1].split("&")[0]
        status = "deleting" if ident == "doomed" else "available"
        self._send(200, "text/xml", CLUSTER_XML.format(id=ident, status=status).encode())


@pytest.fixture()
def stub() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(
    "args",
    [
        ["dynamodb", "wait", "table-exists", "--table-name", "ok"],
        ["dynamodb", "wait", "table-exists", "--table-name", "denied"],
        ["redshift", "wait", "cluster-available", "--cluster-identifier", "c1"],
        ["redshift", "wait", "cluster-available", "--cluster-identifier", "doomed"],
        ["dynamodb", "wait", "table-exist", "--table-name", "ok"],
    ],
)
def test_waiter_like_aws(binaries, cli_env, stub, args) -> None:
    out = {}
    for who in ("aws", "tidemark"):
        out[who] = subprocess.run([str(binaries[who]), *args, "--endpoint-url", stub], capture_output=True, env=cli_env, timeout=120)
    a, t = out["aws"], out["tidemark"]
    assert t.stdout == a.stdout
    last = lambda e: ([ln for ln in e.splitlines() if ln.strip()] or [b""])[-1]  # noqa: E731
    assert last(t.stderr) == last(a.stderr)
    assert t.returncode == a.returncode
