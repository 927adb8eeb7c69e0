"""Resolve a validated scenario, plus the tenants it got, into the engines' plans.

Pure functions: same scenario and tenants in, same plans out; no clock, network or files.
How stages become levels is :mod:`scenarios.spec.profile`; this module only maps those levels
and the scenario's sections onto :class:`HttpPlan` and :class:`SwarmPlan` fields.

Mapping decisions (documented in docs/scenarios.md):

* HTTP users/arrivals follow the stages; WebSocket sessions do not: they open at
  ``websocket.connect_rate`` and are held for the whole duration, because the claim they test
  is "N sessions held stable", not a session-count curve.
* Reference target (embedded, or ``tenants:`` given): no request list, the HTTP engine's tier
  users run; without ``tier_weights`` the engine's default mix applies (starter 0.5, team
  0.3, enterprise 0.2, renormalised over the tiers that have tenants).
* ``spawn_rate`` defaults to the highest level, so a non-ramping stage reaches its level
  within about a second (ramps are explicit stages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scenarios.http.plan import HttpPlan, RequestSpec, Stage, TenantCredential
from scenarios.spec import LevelStep, Scenario, WebSocketSpec, expand_stages
from scenarios.swarm import SessionGroup, SwarmPlan

__all__ = ["Tenant", "build_http_plan", "build_swarm_plan", "http_levels", "ws_url"]


@dataclass(frozen=True, slots=True)
class Tenant:
    """A tenant the run may use: provisioned for it, or given in ``credentials:``."""

    tenant: str
    tier: str
    token: str
    role: str = "developer"
    admin_token: str | None = None


def http_levels(scenario: Scenario) -> tuple[LevelStep, ...]:
    """The HTTP level schedule (users or arrivals/s) over the scenario's duration."""
    default = scenario.load.rate if scenario.load.model == "open" else scenario.load.users
    return expand_stages(
        scenario.stages,
        default_level=None if default is None else float(default),
        duration_s=scenario.total_duration(),
    )


def build_http_plan(
    scenario: Scenario, base_url: str, tenants: Sequence[Tenant], *, allow_remote: bool = False
) -> HttpPlan | None:
    """The HTTP engine's plan, or None when the scenario has no HTTP load."""
    if not scenario.has_http_load():
        return None
    levels = http_levels(scenario)
    if not levels:
        return None
    load = scenario.load
    is_open = load.model == "open"
    stages = tuple(
        Stage(
            duration_s=s.duration_s,
            users=None if is_open else round(s.level),
            rate=s.level if is_open else None,
            ramp=s.ramp,
        )
        for s in levels
    )
    top = max(s.level for s in levels)
    weights: dict[str, Any] = {}
    if scenario.tier_weights:  # else the engine's own default mix applies
        weights["tier_weights"] = dict(scenario.tier_weights)
    return HttpPlan(
        base_url=base_url,
        model=load.model,
        stages=stages,
        arrival=load.arrival,
        requests=tuple(
            RequestSpec(
                name=r.name,
                method=r.method,
                path=r.path,
                weight=r.weight,
                headers=tuple(r.headers.items()),
                json_body=r.json_body,
                body=r.body,
                expect_status=r.expect_status,
            )
            for r in scenario.http
        ),
        tenants=tuple(TenantCredential(t.tenant, t.tier, t.token, t.role, t.admin_token) for t in tenants),
        think_time_s=load.think_time,
        processes=load.processes,
        spawn_rate=load.spawn_rate if load.spawn_rate is not None else max(1.0, top),
        request_timeout_s=load.request_timeout,
        allow_remote=allow_remote,
        **weights,
    )


def ws_url(scenario: Scenario, base_url: str) -> str:
    """``websocket.url``, or the target's URL with ws/wss scheme and ``websocket.path``."""
    assert scenario.websocket is not None
    if scenario.websocket.url is not None:
        return scenario.websocket.url
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, scenario.websocket.path, "", ""))


def _group(ws: WebSocketSpec, name: str, tier: str, tenant: str, token: str | None, n: int) -> SessionGroup:
    group = SessionGroup(
        name=name,
        tier=tier,
        tenant=tenant,
        token=token,
        sessions=n,
        prompt_interval_s=ws.prompt_interval,
        prompts_per_session=ws.prompts_per_session,
        jitter=ws.jitter,
        reconnect_delay_s=ws.reconnect_delay,
    )
    # the message default belongs to the swarm; override it only when the scenario says so
    return group if ws.message is None else replace(group, message=ws.message)


def build_swarm_plan(
    scenario: Scenario, base_url: str, tenants: Sequence[Tenant], *, allow_remote: bool = False
) -> SwarmPlan | None:
    """The swarm's plan (one session group per tenant), or None without a websocket section."""
    ws = scenario.websocket
    if ws is None:
        return None
    groups: list[SessionGroup] = []
    if ws.sessions:
        groups.append(_group(ws, "sessions", tier="", tenant="", token=None, n=ws.sessions))
    for t in tenants:
        n = ws.sessions_per_tenant.get(t.tier, 0)
        if n:
            groups.append(_group(ws, f"{t.tier}/{t.tenant}", t.tier, t.tenant, t.token, n))
    if not groups:
        return None
    return SwarmPlan(
        url=ws_url(scenario, base_url),
        groups=tuple(groups),
        duration_s=scenario.total_duration(),
        connect_rate=ws.connect_rate,
        shards=ws.shards,
        protocol=ws.protocol,
        source_addresses=ws.source_addresses,
        response_timeout_s=ws.response_timeout,
        allow_remote=allow_remote,
    )
