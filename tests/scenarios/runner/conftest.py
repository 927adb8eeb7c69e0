"""A small non-slogate HTTP + WebSocket server, served in a thread on 127.0.0.1.

It knows nothing of slogate: ``GET /ping`` answers ``pong``, ``GET /fail`` answers 503,
``/echo`` echoes WebSocket text frames. The runner must work against it exactly as against
any service a user points it at.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


async def _ping(request: Request) -> PlainTextResponse:
    return PlainTextResponse("pong")


async def _fail(request: Request) -> PlainTextResponse:
    return PlainTextResponse("unavailable", status_code=503)


async def _echo(ws: WebSocket) -> None:
    await ws.accept()
    try:
        while True:
            await ws.send_text(await ws.receive_text())
    except WebSocketDisconnect:
        pass


def _app() -> Starlette:
    return Starlette(
        routes=[Route("/ping", _ping), Route("/fail", _fail), WebSocketRoute("/echo", _echo)]
    )


@pytest.fixture(scope="module")
def foreign_server() -> Iterator[str]:
    """Base URL of the server; the socket listens before the fixture returns."""
    sock = socket.create_server(("127.0.0.1", 0), backlog=2048)
    port = sock.getsockname()[1]
    config = uvicorn.Config(_app(), log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
