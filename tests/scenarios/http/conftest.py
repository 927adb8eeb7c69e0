"""Fixtures for the HTTP load tests: a real server on 127.0.0.1 in its own process.

This file must not import ``locust``: it is loaded by the main pytest process too, and
Locust's gevent monkey-patching would break other rooms' threaded servers. Tests that need
Locust in-process live in ``in_locust/`` and run in a child pytest (see
``test_http_in_locust.py``).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SERVER_SCRIPT = Path(__file__).with_name("http_testserver.py")


@dataclass
class LiveServer:
    url: str
    proc: subprocess.Popen[bytes]

    def control(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def counts(self) -> dict[str, int]:
        return dict(self.control("/_count")["counts"])

    def peak(self) -> int:
        return int(self.control("/_count")["peak"])

    def stall_after(self, requests: int, seconds: float) -> None:
        """Freeze for ``seconds`` from the arrival of the ``requests``-th load request."""
        self.control(f"/_stall?after={requests}&s={seconds!r}", method="POST")

    def stall_window(self) -> tuple[float, float]:
        start, end = self.control("/_count")["stall"]
        return float(start), float(end)


def start_test_server() -> LiveServer:
    """Bind 127.0.0.1:0 here and hand the listening socket to uvicorn: no readiness wait."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), "--fd", str(sock.fileno())],
        pass_fds=(sock.fileno(),),
    )
    sock.close()  # the child holds its own copy
    return LiveServer(url=f"http://127.0.0.1:{port}", proc=proc)


@pytest.fixture
def http_server() -> Iterator[LiveServer]:
    server = start_test_server()
    try:
        yield server
    finally:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
