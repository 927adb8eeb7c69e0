"""A small non-slogate HTTP + WebSocket server, served in a thread on 127.0.0.1.

It knows nothing of slogate: ``GET /ping`` answers ``pong``, ``GET /fail`` answers 503,
``/echo`` echoes WebSocket text frames. The runner must work against it exactly as against
any service a user points it at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests._servers import serve_in_thread


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
    with serve_in_thread(_app(), backlog=2048) as server:
        yield server.url
