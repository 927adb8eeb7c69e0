"""A small HTTP server with a known capacity, served in a thread on 127.0.0.1.

``GET /work`` holds one of ``SLOTS`` slots (an asyncio semaphore) for ``SERVICE_S`` seconds,
so the server completes at most ``SLOTS / SERVICE_S`` = 40 requests per second; beyond that,
requests queue and their latency grows without bound. ``GET /fail`` answers 500 at any load;
``GET /fast`` answers at once (a target that does not break at the loads tested here).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests._servers import serve_in_thread

SLOTS = 2
SERVICE_S = 0.05
CAPACITY = SLOTS / SERVICE_S  # 40 req/s


def _app() -> Starlette:
    slots: dict[str, asyncio.Semaphore] = {}

    async def work(request: Request) -> PlainTextResponse:
        sem = slots.setdefault("sem", asyncio.Semaphore(SLOTS))
        async with sem:
            await asyncio.sleep(SERVICE_S)
        return PlainTextResponse("done")

    async def fail(request: Request) -> PlainTextResponse:
        return PlainTextResponse("broken", status_code=500)

    async def fast(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/work", work), Route("/fail", fail), Route("/fast", fast),
                             Route("/healthz", fast)])


@pytest.fixture(scope="module")
def known_server() -> Iterator[str]:
    # backlog 2048: the search's top levels open hundreds of connections at once
    with serve_in_thread(_app(), backlog=2048) as server:
        yield server.url


SLO = """\
name: known
objectives:
  - name: availability
    sli: availability
    target: 99
    select: {kind: http}
  - name: p95
    sli: latency
    percentile: 95
    threshold_ms: 150
    corrected: true
    select: {kind: http}
"""


def write_scenario(tmp: Path, url: str, path: str, rate: float = 10.0) -> Path:
    (tmp / "slo.yaml").write_text(SLO)
    scenario = tmp / "scenario.yaml"
    scenario.write_text(
        f"target: {url}\nduration: 10s\nwarmup: 1s\nload: {{model: open, rate: {rate}}}\n"
        f"http: [{{name: {path.strip('/')}, path: {path}}}]\nslo: slo.yaml\n"
    )
    return scenario
