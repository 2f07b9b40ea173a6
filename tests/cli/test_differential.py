"""Differential corpus: every line of corpus.txt runs with aws CLI v1 and with tidemark against
the same server state; stdout, the last stderr line and the exit code must match."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def load_corpus() -> list[tuple[str, str]]:
    cases = []
    for line in (HERE / "corpus.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        server, _, args = line.partition(":")
        cases.append((server.strip(), args.strip()))
    return cases


CORPUS = load_corpus()


def run(binary: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(binary), *args], capture_output=True, env=env, cwd=HERE, timeout=120)


def last_line(stderr: bytes) -> bytes:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else b""


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 40
    joined = " ".join(a for _, a in CORPUS)
    for needle in ("dynamodb", "redshift", "--output text", "--output table", "--query"):
        assert needle in joined


@pytest.mark.parametrize(("server", "args"), CORPUS, ids=[f"{s}:{a}" for s, a in CORPUS])
def test_same_as_aws(server, args, binaries, cli_env, moto_endpoint, tidemark_endpoint) -> None:
    if server == "moto":
        endpoint = moto_endpoint
    elif server == "tidemark":
        if tidemark_endpoint is None:
            pytest.skip("tidemark server binary not built")
        endpoint = tidemark_endpoint
    else:
        # No server: errors must happen before any request; a dead port proves it.
        endpoint = "http://127.0.0.1:9"
    results = {}
    for who in ("aws", "tidemark"):
        # `{endpoint}` places --endpoint-url's value where the line says (before the service,
        # say); otherwise `--endpoint-url <url>` is appended after everything.
        line = args.replace("{who}", who[0])
        if "{endpoint}" in line:
            argv = shlex.split(line.replace("{endpoint}", endpoint))
        else:
            argv = shlex.split(line) + ["--endpoint-url", endpoint]
        results[who] = run(binaries[who], argv, cli_env)
    a, t = results["aws"], results["tidemark"]
    assert t.stdout.decode() == a.stdout.decode()
    assert last_line(t.stderr).decode() == last_line(a.stderr).decode()
    assert t.returncode == a.returncode
