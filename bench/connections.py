"""Idle-connection flood against a running tidemark (docs/reliability.md, "Connections").

Opens N plain TCP connections that send nothing, then reports what GET /_tidemark/health
answers while they are open, when it answers 200 again, and when the server has closed
them all. Standard library only.

    python3 bench/connections.py --port 8787 --connections 2000
"""

import argparse
import socket
import time
import urllib.error
import urllib.request


def health(port):
    start = time.monotonic()
    try:
        code = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/_tidemark/health", timeout=10
        ).status
    except urllib.error.HTTPError as e:
        code = e.code
    except OSError as e:
        code = repr(e)
    return code, round(1000 * (time.monotonic() - start), 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8787)
    p.add_argument("--connections", type=int, default=2000)
    p.add_argument("--wait", type=float, default=90, help="seconds to wait for closes")
    a = p.parse_args()
    start = time.monotonic()
    held = [socket.create_connection(("127.0.0.1", a.port)) for _ in range(a.connections)]
    opened = time.monotonic() - start
    print(f"opened {a.connections} idle connections in {opened:.1f} s")
    time.sleep(1)
    code, ms = health(a.port)
    print(f"health while they are open: {code} in {ms} ms")
    while code != 200 and time.monotonic() - start < a.wait:
        time.sleep(0.5)
        code, ms = health(a.port)
    print(f"health {code} at {time.monotonic() - start:.1f} s")
    closed = 0
    for s in held:
        s.settimeout(max(0.1, a.wait - (time.monotonic() - start)))
        try:
            while s.recv(4096):
                pass
            closed += 1
        except OSError:
            pass
    print(f"{closed} of {a.connections} closed by the server by {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
