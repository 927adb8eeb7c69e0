"""The floor for the swarm benchmark: the least an asyncio WebSocket client can spend per message.

Each session is a bare ``asyncio.Protocol`` on uvloop that, once its opening handshake is
answered, sends one masked text frame every ``--interval`` seconds from a loop
timer and counts every reply. It parses nothing, records nothing, keeps no deadlines and
checks no protocol rules: what it costs per message is the kernel's socket work and the
event loop's wake-ups, which every client on this machine pays. Its CPU per message is
therefore the lower bound for the swarm, and ``Locust / floor`` the largest ratio any
asyncio client could show at that rate (``benchmarks/swarm_vs_locust_ws.py``).

Not a load generator: it exists to be measured. Prints ``{"bench": 1, ...}`` once a second
like ``locust_ws_user.py`` and stops by itself after ``--duration`` seconds.

``python benchmarks/ws_floor_client.py --url ws://127.0.0.1:PORT/ --sessions 1000
--interval 1.0 --duration 30``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import uvloop
from websockets.uri import parse_uri

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenarios.loopback import is_loopback_literal
from scenarios.swarm.wire import OP_TEXT, encode_frame, handshake_request

_CONNECT_BATCH = 100  # connects in flight at once during the ramp


class _FloorSession(asyncio.Protocol):
    __slots__ = ("_counter", "_on_open", "_request", "open", "transport")

    def __init__(self, request: bytes, counter: list[int], on_open: Callable[[], None]) -> None:
        self._request = request
        self._counter = counter
        self._on_open = on_open
        self.open = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self._request)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        if self.open:
            self._counter[0] += 1
        elif b"\r\n\r\n" in data:
            self.open = True
            self._on_open()


async def _run(url: str, sessions: int, interval: float, duration: float, message: bytes) -> None:
    loop = asyncio.get_running_loop()
    uri = parse_uri(url)
    request, _ = handshake_request(uri, ())
    counter = [0]
    held: list[_FloorSession] = []
    stop_at = time.monotonic() + duration
    opened = [0]
    all_open = asyncio.Event()

    def on_open() -> None:
        opened[0] += 1
        if opened[0] == sessions:
            all_open.set()

    async def connect() -> None:
        _, proto = await loop.create_connection(
            lambda: _FloorSession(request, counter, on_open), uri.host, uri.port
        )
        held.append(proto)

    for i in range(0, sessions, _CONNECT_BATCH):
        await asyncio.gather(*(connect() for _ in range(min(_CONNECT_BATCH, sessions - i))))
    await asyncio.wait_for(all_open.wait(), timeout=max(0.0, stop_at - time.monotonic()))
    gc.freeze()

    def send(s: _FloorSession, when: float) -> None:
        assert s.transport is not None
        s.transport.write(encode_frame(OP_TEXT, message))  # a fresh mask key, as RFC 6455 asks
        loop.call_at(when + interval, send, s, when + interval)

    now = loop.time()
    for s in held:
        when = now + interval * random.random()
        loop.call_at(when, send, s, when)
    while time.monotonic() < stop_at:
        line = {"bench": 1, "t": time.time(), "messages": counter[0], "users": len(held)}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        await asyncio.sleep(1.0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--sessions", type=int, required=True)
    p.add_argument("--interval", type=float, required=True, help="seconds between messages")
    p.add_argument("--duration", type=float, required=True, help="stop after this many seconds")
    p.add_argument("--message", default="Summarise the quarterly report in three sentences.")
    args = p.parse_args()
    host = parse_uri(args.url).host
    if not is_loopback_literal(host):
        print(f"ws_floor_client: refusing non-loopback target {host}", file=sys.stderr)
        return 2
    uvloop.run(_run(args.url, args.sessions, args.interval, args.duration, args.message.encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
