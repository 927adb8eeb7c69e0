"""Pure ASGI middleware: request metrics, body size limit (faults: :mod:`target_service.faults`).

Pure ASGI (not BaseHTTPMiddleware) because it sits on every request of a load-test target:
no extra task per request, and streaming responses pass straight through.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from target_service.errors import PayloadTooLarge
from target_service.metrics import ServiceMetrics

__all__ = ["BodyLimitMiddleware", "MetricsMiddleware", "route_template"]


def route_template(scope: Scope) -> str:
    """The matched route's template (bounded label values), or ``unmatched``."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class MetricsMiddleware:
    """Counts and times every HTTP request by route template, method, status, tier, tenant."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            principal = scope.get("state", {}).get("principal")
            tier = principal.tier.value if principal is not None and principal.tier else "-"
            tenant = self.metrics.tenant_label(
                getattr(principal, "tenant_id", None), getattr(principal, "tenant_seq", None)
            )
            labels = (route_template(scope), scope["method"], str(status), tier, tenant)
            self.metrics.http_requests.labels(*labels).inc()
            self.metrics.http_duration.labels(*labels).observe(time.perf_counter() - started)


class BodyLimitMiddleware:
    """413 for bodies over the limit, by header or by counting what actually arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await _reject(send, self.max_bytes)
                    return
        seen = 0
        started = False
        exceeded = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise PayloadTooLarge(_too_large(self.max_bytes))
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if replaced:
                return
            if exceeded and not started:
                # The app caught the error while reading the body (FastAPI turns any failure
                # there into "400 There was an error parsing the body"): answer the 413 that
                # says what was wrong instead, and drop the app's own response.
                if message["type"] == "http.response.start":
                    started = replaced = True
                    await _reject(send, self.max_bytes)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except PayloadTooLarge:
            if not started:
                await _reject(send, self.max_bytes)


def _too_large(limit: int) -> str:
    return f"request body larger than {limit} bytes"


async def _reject(send: Send, limit: int) -> None:
    body: dict[str, Any] = {"error": "payload_too_large", "detail": _too_large(limit)}
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
