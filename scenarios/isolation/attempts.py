"""What the isolation probe tries: every route that takes an object id, with another tenant's.

Pure: ids in, attempts out. The table ``HTTP_ROUTES`` names every ``{id}`` operation of the
reference target (``tests/scenarios/test_isolation_probe.py`` fails when the target's
OpenAPI document grows one the table lacks), plus the two routes that take an id in the
body (``POST /v1/runs`` with an ``agent_id``) or in a WebSocket message (``subscribe`` to a
run, a ``prompt`` naming an agent).

Sample names follow docs/reports.md (``isolation: METHOD /route``) so readiness claim 7
counts them: GET reads, POST/PATCH/DELETE writes. A WebSocket ``subscribe`` is named
``isolation: GET /v1/sessions/ws subscribe`` (the session is opened by a GET and only reads);
a ``prompt`` naming a foreign agent is ``isolation: WS prompt /v1/sessions/ws``, a write
attempt the claim counts in its total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "HTTP_ROUTES",
    "REFUSED",
    "Attempt",
    "VictimIds",
    "attempts_for",
    "ws_status",
]

REFUSED: Final = frozenset({401, 403, 404})
"""What a cross-tenant attempt must get (claim 7); 2xx/3xx is a leak, the rest inconclusive."""

WS_ROUTE: Final = "/v1/sessions/ws"


@dataclass(frozen=True, slots=True)
class VictimIds:
    """One tenant's ids, read through its own admin token during the load."""

    tenant: str  # the tenant's name in the run (samples' ``tenant`` column)
    tenant_id: str
    runs: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    audit_events: int = 0  # audit rows read (their targets fed the lists above)

    def count(self) -> int:
        return 1 + len(self.runs) + len(self.agents) + len(self.tokens)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One cross-tenant request: HTTP (``method``, ``path``, ``body``) or a WebSocket message."""

    name: str
    method: str  # HTTP method, or "WS"
    path: str
    body: dict[str, Any] | None = None
    message: dict[str, Any] | None = field(default=None)

    @property
    def is_ws(self) -> bool:
        return self.message is not None


def _tenant(v: VictimIds) -> Iterator[tuple[str, dict[str, Any] | None]]:
    yield f"/v1/tenants/{v.tenant_id}", None


def _tokens_create(v: VictimIds) -> Iterator[tuple[str, dict[str, Any] | None]]:
    yield f"/v1/tenants/{v.tenant_id}/tokens", {"role": "admin"}


def _tokens(v: VictimIds) -> Iterator[tuple[str, dict[str, Any] | None]]:
    yield f"/v1/tenants/{v.tenant_id}/tokens", None


def _token(v: VictimIds) -> Iterator[tuple[str, dict[str, Any] | None]]:
    for token in v.tokens:
        yield f"/v1/tenants/{v.tenant_id}/tokens/{token}", None


def _export(v: VictimIds) -> Iterator[tuple[str, dict[str, Any] | None]]:
    yield f"/v1/tenants/{v.tenant_id}/export", None


def _run(v: VictimIds) -> Iterator[tuple[str, dict[str, Any] | None]]:
    for run in v.runs:
        yield f"/v1/runs/{run}", None


def _agent(body: dict[str, Any] | None) -> Callable[[VictimIds], Iterator[tuple[str, dict[str, Any] | None]]]:
    def paths(v: VictimIds) -> Iterator[tuple[str, dict[str, Any] | None]]:
        for agent in v.agents:
            yield f"/v1/agents/{agent}", body

    return paths


def _run_with_agent(v: VictimIds) -> Iterator[tuple[str, dict[str, Any] | None]]:
    for agent in v.agents:
        yield "/v1/runs", {"prompt": "isolation probe", "agent_id": agent, "max_tokens": 1}


HTTP_ROUTES: Final[
    dict[tuple[str, str], Callable[[VictimIds], Iterator[tuple[str, dict[str, Any] | None]]]]
] = {
    ("GET", "/v1/tenants/{tenant_id}"): _tenant,
    ("DELETE", "/v1/tenants/{tenant_id}"): _tenant,
    ("POST", "/v1/tenants/{tenant_id}/tokens"): _tokens_create,
    ("GET", "/v1/tenants/{tenant_id}/tokens"): _tokens,
    ("DELETE", "/v1/tenants/{tenant_id}/tokens/{token_id}"): _token,
    ("GET", "/v1/tenants/{tenant_id}/export"): _export,
    ("GET", "/v1/runs/{run_id}"): _run,
    ("GET", "/v1/agents/{agent_id}"): _agent(None),
    ("PATCH", "/v1/agents/{agent_id}"): _agent({"name": "isolation probe"}),
    ("DELETE", "/v1/agents/{agent_id}"): _agent(None),
    ("POST", "/v1/runs"): _run_with_agent,  # the agent id travels in the body
}
"""Every route that names an object, and how to fill it with a victim's ids."""


def attempts_for(victim: VictimIds) -> list[Attempt]:
    """Every HTTP and WebSocket attempt on ``victim``'s ids (the same for every attacker)."""
    out: list[Attempt] = []
    for (method, template), fill in HTTP_ROUTES.items():
        for path, body in fill(victim):
            out.append(Attempt(f"isolation: {method} {template}", method, path, body))
    for run in victim.runs:
        out.append(
            Attempt(
                f"isolation: GET {WS_ROUTE} subscribe",
                "WS",
                WS_ROUTE,
                message={"type": "subscribe", "run_id": run},
            )
        )
    for agent in victim.agents:
        out.append(
            Attempt(
                f"isolation: WS prompt {WS_ROUTE}",
                "WS",
                WS_ROUTE,
                message={"type": "prompt", "prompt": "isolation probe", "agent_id": agent, "max_tokens": 1},
            )
        )
    return out


_WS_ERRORS: Final = {"not_found": 404, "forbidden": 403, "unauthorized": 401, "rate_limited": 429}


def ws_status(frame: dict[str, Any]) -> int:
    """An HTTP-like status for the first answer to a probe message.

    ``error`` frames map by code (``not_found`` -> 404, ``rate_limited`` -> 429, others 400);
    ``accepted``/``token``/``done`` mean the server acted on another tenant's id: 200, a leak.
    """
    kind = frame.get("type")
    if kind == "error":
        return _WS_ERRORS.get(str(frame.get("error")), 400)
    if kind in ("accepted", "token", "done"):
        return 200
    return 0
