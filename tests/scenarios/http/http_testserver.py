"""A small non-slogate HTTP server for the HTTP load tests (Starlette on uvicorn).

Run as a script with a listening socket inherited from the test (``--fd N``), so the test
never waits for the server to bind: connections queue in the kernel until uvicorn accepts.

Load routes: ``/ping``, ``/delay?ms=N``, ``/status/{code}`` (429 carries ``Retry-After: 2``),
``/echo`` (method, body, auth and content type back as JSON), and a fake of the reference
target's API (``/v1/runs``, ``/v1/agents``, ``/v1/audit``, ``/healthz``; tokens starting
``admin-`` are tenant admins). Control routes start with ``/_`` and are not counted:
``/_count`` (requests per ``METHOD path``, peak concurrency, last stall window),
``POST /_stall?at=EPOCH&s=S`` or ``?after=N&s=S`` (the stall starts when the N-th load
request arrives): every load request arriving in the window waits until it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import socket
import time
from collections import Counter
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

COUNTS: Counter[str] = Counter()
STATE: dict[str, float] = {
    "in_flight": 0,
    "peak": 0,
    "seen": 0,
    "stall_from": 0.0,
    "stall_to": 0.0,
    "stall_after": -1,
    "stall_s": 0.0,
}
RUNS: dict[str, dict[str, Any]] = {}
RUN_IDS = itertools.count(1)


async def ping(request: Request) -> Response:
    return PlainTextResponse("pong")


async def delay(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get("ms", "0")) / 1000.0)
    return PlainTextResponse("ok")


async def status(request: Request) -> Response:
    code = int(request.path_params["code"])
    headers = {"Retry-After": "2"} if code == 429 else {}
    return PlainTextResponse(f"status {code}", status_code=code, headers=headers)


async def echo(request: Request) -> Response:
    body = (await request.body()).decode()
    return JSONResponse(
        {
            "method": request.method,
            "body": body,
            "authorization": request.headers.get("authorization"),
            "content_type": request.headers.get("content-type"),
        }
    )


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


async def runs(request: Request) -> Response:
    if _token(request) is None:
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    if request.method == "POST":
        body = await request.json()
        run_id = f"run-{next(RUN_IDS)}"
        RUNS[run_id] = {"id": run_id, "status": "queued", "prompt": body["prompt"], "polls": 0}
        return JSONResponse({"id": run_id, "status": "queued"}, status_code=202)
    items = list(RUNS.values())[-20:]
    cursor = None if request.query_params.get("cursor") else "page-2"
    return JSONResponse({"items": items, "next_cursor": cursor})


async def run(request: Request) -> Response:
    found = RUNS.get(request.path_params["run_id"])
    if found is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    found["polls"] += 1  # queued -> running -> succeeded over two polls
    found["status"] = "running" if found["polls"] == 1 else "succeeded"
    return JSONResponse(found)


async def agents(request: Request) -> Response:
    if _token(request) is None:
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    if request.method == "POST":
        body = await request.json()
        return JSONResponse({"id": "agent-1", **body}, status_code=201)
    return JSONResponse({"items": [], "next_cursor": None})


async def audit(request: Request) -> Response:
    token = _token(request) or ""
    if not token.startswith("admin-"):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    return JSONResponse({"items": [], "next_cursor": None})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def count(request: Request) -> Response:
    return JSONResponse(
        {
            "counts": dict(COUNTS),
            "peak": STATE["peak"],
            "stall": [STATE["stall_from"], STATE["stall_to"]],
        }
    )


async def stall(request: Request) -> Response:
    """Stall at ``at`` (epoch), or when the ``after``-th load request arrives, for ``s``."""
    seconds = float(request.query_params["s"])
    if "after" in request.query_params:
        STATE["stall_after"], STATE["stall_s"] = int(request.query_params["after"]), seconds
    else:
        at = float(request.query_params["at"])
        STATE["stall_from"], STATE["stall_to"] = at, at + seconds
    return JSONResponse({"ok": True})


class Counting:
    """ASGI middleware: count load requests, track concurrency, apply the stall window."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_"):
            await self.app(scope, receive, send)
            return
        COUNTS[f"{scope['method']} {scope['path']}"] += 1
        STATE["seen"] += 1
        now = time.time()
        if STATE["seen"] == STATE["stall_after"]:
            STATE["stall_from"], STATE["stall_to"] = now, now + STATE["stall_s"]
        if STATE["stall_from"] <= now < STATE["stall_to"]:
            await asyncio.sleep(STATE["stall_to"] - now)
        STATE["in_flight"] += 1
        STATE["peak"] = max(STATE["peak"], STATE["in_flight"])
        try:
            await self.app(scope, receive, send)
        finally:
            STATE["in_flight"] -= 1


app = Counting(
    Starlette(
        routes=[
            Route("/ping", ping),
            Route("/delay", delay),
            Route("/status/{code:int}", status, methods=["GET", "POST"]),
            Route("/echo", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/v1/runs", runs, methods=["GET", "POST"]),
            Route("/v1/runs/{run_id}", run),
            Route("/v1/agents", agents, methods=["GET", "POST"]),
            Route("/v1/audit", audit),
            Route("/healthz", healthz),
            Route("/_count", count),
            Route("/_stall", stall, methods=["POST"]),
        ]
    )
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    args = parser.parse_args()
    # socket(fileno=) detects AF_INET; uvicorn's own --fd assumes AF_UNIX, so asyncio would
    # skip TCP_NODELAY and Nagle + delayed ACK would add ~40 ms to every response
    sock = socket.socket(fileno=args.fd)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
