"""WebSocket sessions held against the reference target (part of ``target_throughput.py``).

A client process of its own (``websockets`` on uvloop, pinned to CPU 0) opens sessions level
by level (1,000 then 2,000 by default) spread over several tenants; at each level the parent
reads the server's RSS and its ``slogate_ws_sessions`` gauge, then the client sends a few
prompts one at a time and times prompt -> first token and prompt -> done. Talks to the
parent with JSON lines on stdout and "go" lines on stdin.

    python benchmarks/target_ws_sessions.py   # the client; started by target_throughput.py
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from target_service.embedded import EmbeddedTarget

__all__ = ["WsLevel", "measure_ws", "metric"]

CLIENT_CPU = 0
PROMPTS_PER_LEVEL = 10


@dataclass(frozen=True, slots=True)
class WsLevel:
    config: str
    sessions: int
    open_s: float
    server_sessions_gauge: float
    server_rss_per_session_kb: float
    client_rss_per_session_kb: float
    first_token_ms: list[float]
    done_ms: list[float]
    dropped: int


def metric(target: EmbeddedTarget, name: str, **labels: str) -> float:
    """Sum of the samples called ``name`` (with these label values) on ``/metrics``."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(target.url + "/metrics", timeout=30).text
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def _rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += psutil.Process(pid).memory_info().rss
    return total


def ws_client() -> None:
    """Child process: open sessions level by level, answer the parent on stdin/stdout."""
    import uvloop

    spec = json.loads(sys.stdin.readline())
    uvloop.run(_ws_client(spec))


async def _ws_client(spec: dict[str, Any]) -> None:
    from websockets.asyncio.client import ClientConnection, connect

    loop = asyncio.get_running_loop()
    sessions: list[ClientConnection] = []
    gate = asyncio.Semaphore(100)  # handshakes in flight at once

    async def open_one(i: int) -> ClientConnection:
        token = spec["tokens"][i % len(spec["tokens"])]
        async with gate:
            return await connect(
                spec["url"] + "/v1/sessions/ws",
                compression="deflate" if spec["compression"] else None,
                additional_headers={"Authorization": f"Bearer {token}"},
                ping_interval=None,
                open_timeout=60,
                proxy=None,
            )

    _say({"event": "ready", "client_rss": psutil.Process().memory_info().rss})
    for level in spec["levels"]:
        gc.unfreeze()
        started = time.perf_counter()
        sessions += await asyncio.gather(*(open_one(i) for i in range(len(sessions), level)))
        open_s = time.perf_counter() - started
        gc.collect()
        gc.freeze()  # long-lived session objects out of the collector's way (PERFORMANCE-NOTES)
        rss = psutil.Process().memory_info().rss
        _say({"event": "opened", "sessions": len(sessions), "open_s": open_s, "client_rss": rss})
        await loop.run_in_executor(None, sys.stdin.readline)  # parent measured the server
        first: list[float] = []
        done: list[float] = []
        for k in range(PROMPTS_PER_LEVEL):
            ws = sessions[(k * 97) % len(sessions)]
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "prompt", "prompt": f"benchmark prompt {k}"}))
            while True:
                event = json.loads(await ws.recv())
                if event["type"] == "token" and len(first) == len(done):
                    first.append((time.perf_counter() - sent) * 1000)
                elif event["type"] == "done":
                    done.append((time.perf_counter() - sent) * 1000)
                    break
                elif event["type"] == "error":
                    raise RuntimeError(event)
        dropped = sum(1 for ws in sessions if ws.close_code is not None)
        _say({"event": "prompts", "first_token_ms": first, "done_ms": done, "dropped": dropped})
    await asyncio.gather(*(ws.close() for ws in sessions), return_exceptions=True)


def _say(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def measure_ws(
    config: str, target: EmbeddedTarget, tokens: list[str], levels: list[int], *, compression: bool = True
) -> list[WsLevel]:
    """Hold ``levels`` sessions in turn; ``compression``: offer permessage-deflate, as
    browsers do (the server then keeps a zlib context per session)."""
    server_pids = target.pids()
    baseline = _rss(server_pids)
    proc = subprocess.Popen(
        [sys.executable, __file__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    os.sched_setaffinity(proc.pid, {CLIENT_CPU})
    assert proc.stdin is not None and proc.stdout is not None
    spec = {"url": target.ws_url, "tokens": tokens, "levels": levels, "compression": compression}
    proc.stdin.write(json.dumps(spec) + "\n")
    proc.stdin.flush()
    out = []
    try:
        client_base = json.loads(proc.stdout.readline())["client_rss"]
        for _ in levels:
            opened = json.loads(proc.stdout.readline())
            gauge = metric(target, "slogate_ws_sessions")
            server_rss = _rss(server_pids)
            proc.stdin.write("go\n")
            proc.stdin.flush()
            prompts = json.loads(proc.stdout.readline())
            n = opened["sessions"]
            out.append(
                WsLevel(
                    config=config,
                    sessions=n,
                    open_s=opened["open_s"],
                    server_sessions_gauge=gauge,
                    server_rss_per_session_kb=(server_rss - baseline) / n / 1024,
                    client_rss_per_session_kb=(opened["client_rss"] - client_base) / n / 1024,
                    first_token_ms=prompts["first_token_ms"],
                    done_ms=prompts["done_ms"],
                    dropped=prompts["dropped"],
                )
            )
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return out


if __name__ == "__main__":
    ws_client()
