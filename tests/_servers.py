"""A real uvicorn server in a thread on 127.0.0.1, for every suite that needs one.

``serve_in_thread(app)`` binds a fresh socket on port 0 itself and hands it to uvicorn, so
the port is the kernel's pick and is listening before uvicorn starts: no "find a free port,
close it, bind it again" race with the other test processes (pytest-xdist) or anything else
on the machine. It returns once the app's lifespan start-up has run, and on exit stops the
server (lifespan shutdown included) and checks that its thread ended. httpx's
``tests/conftest.py::serve_in_thread`` is the model.

Example::

    with serve_in_thread(app, backlog=2048) as server:
        httpx.get(server.url + "/ping")
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

__all__ = ["LiveServer", "serve_in_thread"]


@dataclass(frozen=True, slots=True)
class LiveServer:
    """A running server: ``url`` (http://127.0.0.1:PORT) and ``ws_url`` (ws://127.0.0.1:PORT)."""

    url: str
    ws_url: str


class _ThreadServer(uvicorn.Server):
    """uvicorn.Server that signals a threading.Event once it listens (no polling)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@contextmanager
def serve_in_thread(
    app: ASGIApp, *, backlog: int = 1024, startup_timeout_s: float = 15.0
) -> Iterator[LiveServer]:
    """Serve ``app`` on a new 127.0.0.1 socket in a thread; stop it (lifespan included) on exit.

    ``backlog`` is the listen queue: a load test that opens hundreds of connections at once
    needs more than the kernel's usual 128 or they are refused before the server sees them.
    Signal handlers are only installed by uvicorn in the main thread, so none are here.
    """
    sock = socket.create_server(("127.0.0.1", 0), backlog=backlog)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="on")
    server = _ThreadServer(config)

    def run() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            server.ready.set()  # a failed start-up must not leave the caller waiting

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        if not server.ready.wait(startup_timeout_s) or not server.started:
            raise RuntimeError(f"test server on port {port} did not start in {startup_timeout_s}s")
        yield LiveServer(url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        assert not thread.is_alive(), "test server thread did not stop"
