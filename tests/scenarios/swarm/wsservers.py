"""Real WebSocket servers on 127.0.0.1 for the swarm tests, each in its own thread and loop.

``SlogateServer`` speaks the reference target's session protocol (accepted, a few tokens,
done) and can be told, per tenant, to misbehave the ways a real target does: close with
4429 after N prompts, drop the TCP connection without a close frame, never answer, answer
with protocol errors or failed runs; bad tokens are closed with 4401 and some tokens are
refused at the HTTP handshake. It counts what it saw, so tests compare the swarm's samples
with the server's own tally instead of with the swarm's idea of itself.
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


@dataclass
class Behaviour:
    """How the test server treats each tenant (by the tenant its bearer token maps to)."""

    tokens: dict[str, str] = field(default_factory=dict)  # token -> tenant
    reject_http: set[str] = field(default_factory=set)  # tokens refused with HTTP 403
    tokens_per_reply: int = 3
    reply_delay_s: float = 0.0  # before "accepted"
    quota_after: dict[str, int] = field(default_factory=dict)  # tenant -> close 4429 after N
    drop_after: dict[str, int] = field(default_factory=dict)  # tenant -> abort after N
    silent: set[str] = field(default_factory=set)  # tenants whose prompts get no reply
    error_every: int = 0  # every k-th prompt of a session -> error rate_limited
    fail_every: int = 0  # every k-th prompt of a session -> done/failed
    signal_after_prompts: int = 0  # set ``SlogateServer.prompted`` once this many arrived
    ping_first: bool = False  # ping each client after the handshake and count the pongs
    fragment_replies: bool = False  # send every reply message in three fragments
    garbage: set[str] = field(default_factory=set)  # tenants answered with a broken frame


@dataclass
class Tally:
    """What the server saw; written by the server thread, read after the swarm ended."""

    connections: collections.Counter[str] = field(default_factory=collections.Counter)
    prompts: collections.Counter[str] = field(default_factory=collections.Counter)
    client_close_codes: collections.Counter[int | None] = field(default_factory=collections.Counter)
    pongs: int = 0


class ServerThread:
    """Run a websockets server on 127.0.0.1:<free port> in a background thread."""

    def __init__(
        self,
        handler: Callable[[ServerConnection], Awaitable[None]],
        process_request: Callable[[ServerConnection, Request], Response | None] | None = None,
    ) -> None:
        self._handler = handler
        self._process_request = process_request
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="ws-test-server", daemon=True)
        self.port = 0

    async def _serve(self) -> Server:
        return await serve(
            self._handler,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            compression=None,
            ping_interval=None,
        )

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            server = self._loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            self._loop.close()
            return
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test WebSocket server did not start within 10 s")
        if self._error is not None:
            raise RuntimeError("test WebSocket server failed to start") from self._error
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def url(self, path: str = "/v1/sessions/ws") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"


class SlogateServer:
    """The reference target's WebSocket protocol, with per-tenant fault behaviour."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.b = behaviour
        self.tally = Tally()
        self.prompted = threading.Event()
        self.thread = ServerThread(self._handle, self._process_request)

    def _token(self, headers: Headers) -> str | None:
        auth = headers.get("Authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        if self._token(request.headers) in self.b.reject_http:
            return ws.respond(HTTPStatus.FORBIDDEN, "forbidden\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        tenant = self.b.tokens.get(self._token(ws.request.headers) or "")
        if tenant is None:
            await ws.close(4401, "unauthorized")
            return
        self.tally.connections[tenant] += 1
        n = 0
        try:
            if self.b.ping_first:
                await asyncio.wait_for(await ws.ping(b"are you there"), 5.0)
                self.tally.pongs += 1
            async for raw in ws:
                n += 1
                self.tally.prompts[tenant] += 1
                if self.b.signal_after_prompts and (
                    self.tally.prompts.total() >= self.b.signal_after_prompts
                ):
                    self.prompted.set()
                if n > self.b.drop_after.get(tenant, 1 << 30):
                    assert ws.transport is not None
                    ws.transport.abort()  # no close frame: the client must see 1006
                    return
                if tenant in self.b.garbage:
                    assert ws.transport is not None
                    ws.transport.write(bytes([0xC1, 0x01]) + b"x")  # RSV1 set: no extension
                    continue
                if n > self.b.quota_after.get(tenant, 1 << 30):
                    await ws.close(4429, "session quota exceeded")
                    return
                if tenant not in self.b.silent:
                    await self._reply(ws, json.loads(raw), n)
        except ConnectionClosed:
            pass
        self.tally.client_close_codes[ws.close_code] += 1

    async def _send(self, ws: ServerConnection, text: str) -> None:
        if self.b.fragment_replies:
            third = max(1, len(text) // 3)
            await ws.send([text[:third], text[third : 2 * third], text[2 * third :]])
        else:
            await ws.send(text)

    async def _reply(self, ws: ServerConnection, msg: dict[str, Any], n: int) -> None:
        ref = msg.get("ref")
        if msg.get("type") != "prompt" or not isinstance(msg.get("prompt"), str):
            await self._send(ws, json.dumps({"type": "error", "error": "invalid_message", "ref": None}))
            return
        if self.b.error_every and n % self.b.error_every == 0:
            await self._send(
                ws,
                json.dumps(
                    {
                        "type": "error",
                        "error": "rate_limited",
                        "detail": "slow down",
                        "ref": ref,
                        "retry_after": 1.0,
                    }
                ),
            )
            return
        if self.b.reply_delay_s:
            await asyncio.sleep(self.b.reply_delay_s)
        run_id = f"run-{ref}"
        await self._send(ws, json.dumps({"type": "accepted", "run_id": run_id, "ref": ref}))
        for i in range(self.b.tokens_per_reply):
            await self._send(ws, json.dumps({"type": "token", "run_id": run_id, "index": i, "text": "x"}))
        failed = bool(self.b.fail_every and n % self.b.fail_every == 0)
        done = {
            "type": "done",
            "run_id": run_id,
            "status": "failed" if failed else "succeeded",
            "reason": "provider_unavailable" if failed else None,
            "tokens": self.b.tokens_per_reply,
        }
        await self._send(ws, json.dumps(done))


class EchoServer:
    """A plain echo server: no slogate protocol at all, like any foreign target."""

    def __init__(self) -> None:
        self.messages = 0
        self.thread = ServerThread(self._handle)

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            async for msg in ws:
                self.messages += 1
                await ws.send(msg)
        except ConnectionClosed:
            pass
