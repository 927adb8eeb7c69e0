"""Live WebSocket sessions: prompts in, tokens streamed out as the run produces them.

Protocol (JSON text frames), documented for clients in docs/target-service.md:

client -> ``{"type": "prompt", "prompt": str, "agent_id"?: str, "max_tokens"?: int, "ref"?: str}``
client -> ``{"type": "subscribe", "run_id": str, "ref"?: str}``  (follow a run created elsewhere)
server -> ``{"type": "accepted", "run_id", "ref"}``, then ``{"type": "token", "run_id", "index",
"text"}`` ..., then ``{"type": "done", "run_id", "status", "reason", "tokens"}``
server -> ``{"type": "error", "error": code, "detail", "ref", "retry_after"}`` (session stays open)

Close codes: 4401 unauthorized, 4403 forbidden, 4429 session quota exceeded, 4400 too many
invalid messages, 4408 idle timeout, 1013 the token could not be checked (database
unavailable); 1001/1012 when the server shuts down.
The handshake is always accepted before an auth or quota refusal so that the client gets
the documented close code and reason rather than a bare HTTP 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError
from sqlalchemy import select

from target_service.auth import Action, Principal, role_allows
from target_service.db.models import Run
from target_service.dependencies import authenticate
from target_service.errors import DatabaseUnavailable, ServiceError, Unauthorized
from target_service.orchestration.events import Event
from target_service.routers.runs import job_for, store_run
from target_service.schemas import RunCreate
from target_service.state import AppState

router = APIRouter(tags=["sessions"])

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_QUOTA = 4429
CLOSE_PROTOCOL = 4400
CLOSE_IDLE = 4408
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "Try Again Later"
_MAX_INVALID = 10
_FINAL = ("succeeded", "failed")


class PromptMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["prompt"]
    prompt: str = Field(min_length=1, max_length=8000)
    agent_id: str | None = Field(default=None, max_length=40)
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    ref: str | None = Field(default=None, max_length=100)


class SubscribeMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["subscribe"]
    run_id: str = Field(max_length=40)
    ref: str | None = Field(default=None, max_length=100)


class _Envelope(RootModel[Annotated[PromptMessage | SubscribeMessage, Field(discriminator="type")]]):
    """Any client message, told apart by its ``type``."""


@router.websocket("/v1/sessions/ws")
async def session_ws(websocket: WebSocket) -> None:
    state: AppState = websocket.app.state.services
    await websocket.accept()
    try:
        principal = await _authenticate(state, websocket)
    except ServiceError as exc:
        code = (
            CLOSE_UNAUTHORIZED
            if isinstance(exc, Unauthorized)
            else CLOSE_TRY_AGAIN
            if isinstance(exc, DatabaseUnavailable)  # the token could not be checked: not a refusal
            else CLOSE_FORBIDDEN
        )
        await _close(state, websocket, "-", code, exc.detail)
        return
    assert principal.tenant_id is not None and principal.tier is not None
    tier = principal.tier.value
    quota = state.settings.quotas[principal.tier]
    session_id = uuid.uuid4().hex
    if not await state.quota.try_open(principal.tenant_id, session_id, quota.max_sessions):
        reason = f"session quota exceeded: the {tier} tier allows {quota.max_sessions} concurrent sessions"
        await _close(state, websocket, tier, CLOSE_QUOTA, reason)
        return
    state.live_sessions[session_id] = principal.tenant_id
    state.metrics.ws_sessions.labels(tier).inc()
    session = _Session(state, websocket, principal)
    try:
        await session.serve()
    finally:
        await session.cancel_forwards()
        state.metrics.ws_sessions.labels(tier).dec()
        state.live_sessions.pop(session_id, None)
        with contextlib.suppress(Exception):
            await state.quota.release(principal.tenant_id, session_id)


async def _authenticate(state: AppState, websocket: WebSocket) -> Principal:
    principal = await authenticate(state, websocket.headers.get("authorization"))
    if principal.is_platform_admin or principal.tenant_id is None:
        raise Unauthorized("sessions need a tenant token, not the platform admin token")
    return principal


async def _close(state: AppState, websocket: WebSocket, tier: str, code: int, reason: str) -> None:
    state.metrics.ws_closes.labels(tier, str(code)).inc()
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason[:120])  # close reasons are <= 123 bytes


class _Session:
    """One client's session: reads messages, starts runs, forwards their events."""

    def __init__(self, state: AppState, websocket: WebSocket, principal: Principal) -> None:
        self.state = state
        self.ws = websocket
        self.principal = principal
        self.tier = principal.tier.value if principal.tier else "-"
        self.forwards: set[asyncio.Task[None]] = set()
        self.invalid = 0

    async def serve(self) -> None:
        idle = self.state.settings.ws_idle_timeout_s
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.receive_text(), timeout=idle)
            except TimeoutError:
                await _close(self.state, self.ws, self.tier, CLOSE_IDLE, "idle timeout")
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            received = time.perf_counter()
            try:
                message = _Envelope.model_validate_json(raw).root
            except ValidationError as exc:
                self.invalid += 1
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "message"
                await self.send_error("invalid_message", f"{where}: {first['msg']}", None)
                if self.invalid >= _MAX_INVALID:
                    await _close(self.state, self.ws, self.tier, CLOSE_PROTOCOL, "too many invalid messages")
                    return
                continue
            try:
                if isinstance(message, PromptMessage):
                    await self.prompt(message, received)
                else:
                    await self.subscribe(message)
            except ServiceError as exc:
                await self.send_error(exc.code, exc.detail, message.ref, exc.retry_after_s)

    async def prompt(self, message: PromptMessage, received: float) -> None:
        state, principal = self.state, self.principal
        assert principal.role is not None and principal.tier is not None
        assert principal.tenant_id is not None
        if not role_allows(principal.role, Action.RUN):
            raise _Refused("forbidden", f"role '{principal.role.value}' may not run prompts")
        quota = state.settings.quotas[principal.tier]
        wait = await state.limiter.acquire(f"tenant:{principal.tenant_id}", quota.requests_per_s, quota.burst)
        if wait > 0:
            raise _Refused("rate_limited", "tenant request rate above its tier quota", wait)
        slot = state.executor.reserve()
        body = RunCreate(prompt=message.prompt, agent_id=message.agent_id, max_tokens=message.max_tokens)
        try:
            async with state.db.tenant_session(principal.tenant_id) as db:
                run = await store_run(
                    db, principal, body, "ws", max_prompt_chars=state.settings.max_prompt_chars
                )
        except BaseException:
            slot.release()
            raise
        subscription = state.bus.subscribe_local(run.id)
        queue = await subscription.__aenter__()
        slot.submit(job_for(run, principal, state.executor.run_timeout_s))
        await self.send({"type": "accepted", "run_id": run.id, "ref": message.ref})
        self._forward(run.id, queue, subscription, received)

    async def subscribe(self, message: SubscribeMessage) -> None:
        state, principal = self.state, self.principal
        assert principal.tenant_id is not None
        async with state.db.tenant_session(principal.tenant_id) as db:
            run = await db.scalar(
                select(Run).where(Run.id == message.run_id, Run.tenant_id == principal.tenant_id)
            )
        if run is None:
            raise _Refused("not_found", f"run '{message.run_id}' not found")
        if run.status not in _FINAL and not (state.executor.is_local(run.id) or state.redis is not None):
            # The run may have ended while the read above was awaited (the executor stores the
            # end before it lets go of the run): read it again rather than report "done" with
            # a status that is no longer true.
            async with state.db.tenant_session(principal.tenant_id) as db:
                run = await db.scalar(
                    select(Run).where(Run.id == message.run_id, Run.tenant_id == principal.tenant_id)
                )
            if run is None:  # erased meanwhile (tenant deletion)
                raise _Refused("not_found", f"run '{message.run_id}' not found")
        if run.status in _FINAL or not (state.executor.is_local(run.id) or state.redis is not None):
            await self.send(
                {
                    "type": "done",
                    "run_id": run.id,
                    "status": run.status,
                    "reason": run.reason,
                    "tokens": run.tokens,
                    "ref": message.ref,
                }
            )
            return
        local = state.executor.is_local(run.id)
        subscription = state.bus.subscribe_local(run.id) if local else state.bus.subscribe_remote(run.id)
        queue = await subscription.__aenter__()
        if not local:
            # The run may have ended on its worker before the Redis subscription took effect,
            # and then its "done" was published to nobody. The executor stores the end before
            # it publishes, so a read now sees it; a duplicate "done" is dropped by _pump.
            async with state.db.tenant_session(principal.tenant_id) as db:
                ended = await db.scalar(
                    select(Run).where(
                        Run.id == run.id, Run.tenant_id == principal.tenant_id, Run.status.in_(_FINAL)
                    )
                )
            if ended is not None:
                queue.put_nowait(
                    {
                        "type": "done",
                        "run_id": ended.id,
                        "status": ended.status,
                        "reason": ended.reason,
                        "tokens": ended.tokens,
                    }
                )
        await self.send({"type": "accepted", "run_id": run.id, "ref": message.ref})
        self._forward(run.id, queue, subscription, time.perf_counter())

    def _forward(self, run_id: str, queue: asyncio.Queue[Event], subscription: Any, received: float) -> None:
        task = asyncio.create_task(self._pump(queue, subscription, received))
        self.forwards.add(task)
        task.add_done_callback(self.forwards.discard)

    async def _pump(self, queue: asyncio.Queue[Event], subscription: Any, received: float) -> None:
        latency = self.state.metrics.ws_latency
        first = True
        try:
            while True:
                event = await queue.get()
                if first and event["type"] in ("token", "done"):
                    latency.labels(self.tier, "first_token").observe(time.perf_counter() - received)
                    first = False
                await self.send(event)
                if event["type"] == "done":
                    latency.labels(self.tier, "complete").observe(time.perf_counter() - received)
                    return
        except (WebSocketDisconnect, RuntimeError, ConnectionError):
            return  # the client left; the run still finishes and is stored
        finally:
            await subscription.__aexit__(None, None, None)

    async def send(self, payload: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(payload, separators=(",", ":")))

    async def send_error(
        self, code: str, detail: str, ref: str | None, retry_after: float | None = None
    ) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, ConnectionError):
            await self.send(
                {"type": "error", "error": code, "detail": detail, "ref": ref, "retry_after": retry_after}
            )

    async def cancel_forwards(self) -> None:
        for task in list(self.forwards):
            task.cancel()
        if self.forwards:
            # asyncio.wait, not gather: if this handler is itself cancelled meanwhile (server
            # shutdown, anyio cancel scope), gather would re-raise a *child's* CancelledError,
            # which the caller's cancel scope does not recognise as its own and lets escape.
            await asyncio.wait(list(self.forwards))


class _Refused(ServiceError):
    """A prompt or subscription refused on a live session; sent as an error message."""

    def __init__(self, code: str, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail, retry_after_s=retry_after_s)
        self.code = code
