"""Servers under test (tidemark and moto_server): spawn on a port, process-tree RSS, teardown."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Fresh --data-dir directories live here (on the repo's disk, not a tmpfs, so fsync is real).
SCRATCH = Path(__file__).resolve().parent / "out" / "scratch"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Target:
    """A server binary the benchmarks start fresh for each measurement."""

    name: str
    # "{port}" is replaced by the listening port, "{data_dir}" by a fresh empty directory
    # (removed again by `stop`).
    argv_template: list[str]
    version: str

    def spawn(self, port: int) -> subprocess.Popen:
        data_dir = None
        if any("{data_dir}" in a for a in self.argv_template):
            SCRATCH.mkdir(parents=True, exist_ok=True)
            data_dir = tempfile.mkdtemp(prefix="tidemark-", dir=SCRATCH)
        argv = [
            a.replace("{port}", str(port)).replace("{data_dir}", data_dir or "")
            for a in self.argv_template
        ]
        # Output is discarded: a full pipe would stall the server and skew the timings.
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _DATA_DIRS[proc.pid] = data_dir
        return proc


# pid -> scratch data directory to remove once that server has stopped.
_DATA_DIRS: dict[int, str | None] = {}


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    data_dir = _DATA_DIRS.pop(proc.pid, None)
    if data_dir:
        shutil.rmtree(data_dir, ignore_errors=True)


def tidemark_target(binary: Path) -> Target:
    version = "unknown"
    try:
        out = subprocess.run(
            [str(binary), "--version"], check=False, capture_output=True, text=True, timeout=10
        )
        if out.returncode == 0 and out.stdout.strip():
            version = out.stdout.strip()
    except OSError:
        pass
    return Target(
        name="tidemark",
        argv_template=[str(binary), "serve", "--listen", "127.0.0.1:{port}", "--in-memory"],
        version=version,
    )


def tidemark_disk_target(binary: Path) -> Target:
    """tidemark with on-disk state (--data-dir): every commit is fsynced before the reply."""
    base = tidemark_target(binary)
    return Target(
        name="tidemark-disk",
        argv_template=[
            str(binary),
            "serve",
            "--listen",
            "127.0.0.1:{port}",
            "--data-dir",
            "{data_dir}",
        ],
        version=base.version,
    )


def moto_target(venv_bin: Path) -> Target:
    from importlib.metadata import version

    return Target(
        name="moto",
        argv_template=[str(venv_bin / "moto_server"), "-H", "127.0.0.1", "-p", "{port}"],
        version=f"moto_server {version('moto')}",
    )


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        for task in task_dir.iterdir():
            text = (task / "children").read_text().split()
            kids.extend(int(k) for k in text)
    except (FileNotFoundError, ProcessLookupError):
        pass
    return kids


def tree_rss_bytes(pid: int) -> int:
    """Sum of VmRSS over the process and all its descendants (moto may fork helpers)."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except FileNotFoundError:
            continue
        stack.extend(_children(current))
    return total
