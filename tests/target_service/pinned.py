"""Connections to a multi-worker target, pinned to the worker process that accepted them.

The workers share one listening socket, and which of them accepts a connection is up to the
kernel (and to which worker's event loop happens to run first): on a loaded machine one
worker can take every connection of a short burst. A test that needs something on *both*
workers therefore never counts on the spread; it opens connections until each of two
workers holds enough of them (bounded by a count of connections, not by a timer), asks
psutil which process accepted each one, and then speaks on connections of its choosing.

- ``Pinned(target).open(per_worker=n)``: open until two workers each hold ``n`` connections.
- ``pinned.take(worker)``: one of that worker's sockets (the caller closes it).
- ``HttpOn(target, sock)``: keep-alive HTTP/1.1 over such a socket (``http.client``, no pool).
- ``new_socket(target)``: a plain connection, wherever the kernel puts it.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from target_service.embedded import EmbeddedTarget

from ._pg_redis_fixtures import worker_serving

__all__ = ["HttpOn", "Pinned", "new_socket"]


def new_socket(target: EmbeddedTarget) -> socket.socket:
    parts = urlsplit(target.url)
    return socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=10)


@dataclass
class Pinned:
    """TCP connections to the target, grouped by the worker process that accepted them."""

    target: EmbeddedTarget
    by_worker: dict[int, list[socket.socket]] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(urlsplit(self.target.url).port or 0)

    def open(self, per_worker: int, *, max_connections: int = 200) -> None:
        """Open connections until two workers each hold ``per_worker`` of them."""
        pids = self.target.pids()
        for _ in range(max_connections):
            if len(self.by_worker) >= 2 and all(len(v) >= per_worker for v in self.by_worker.values()):
                break
            sock = new_socket(self.target)
            worker = self._accepted_by(pids, sock)
            held = self.by_worker.setdefault(worker, [])
            if len(held) < per_worker:
                held.append(sock)
            else:
                sock.close()
        counts = {w: len(s) for w, s in self.by_worker.items()}
        assert len(counts) >= 2 and min(counts.values()) >= per_worker, (
            f"could not place {per_worker} connection(s) on each of two workers in "
            f"{max_connections} tries: {counts}"
        )

    def _accepted_by(self, pids: list[int], sock: socket.socket) -> int:
        local_port = sock.getsockname()[1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            worker = worker_serving(pids, self.port, local_port)
            if worker is not None:
                return worker
            time.sleep(0.005)  # the kernel queued the connection; a worker accepts it soon
        raise AssertionError(f"no worker accepted the connection from port {local_port}")

    def workers(self) -> list[int]:
        return sorted(self.by_worker)

    def take(self, worker: int) -> socket.socket:
        return self.by_worker[worker].pop()

    def close(self) -> None:
        for socks in self.by_worker.values():
            for sock in socks:
                sock.close()
        self.by_worker.clear()


class HttpOn:
    """One keep-alive HTTP/1.1 connection over a pinned socket (http.client, no pool)."""

    def __init__(self, target: EmbeddedTarget, sock: socket.socket) -> None:
        parts = urlsplit(target.url)
        self._conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        self._conn.sock = sock

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        self._conn.request(method, path, body=payload, headers=all_headers)
        response = self._conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None

    def close(self) -> None:
        self._conn.close()
