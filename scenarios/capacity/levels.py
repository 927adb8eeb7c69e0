"""One capacity step's scenario: the user's scenario with the varied level set (pure).

What each ``--vary`` sets (docs/capacity.md):

``rate``
    ``load: {model: open, rate: LEVEL}``, arrivals per second whatever the responses do
    (open model, so a slowing target cannot slow the client and hide the knee);
``users``
    ``load: {model: closed, users: LEVEL}`` (think time as the scenario says);
``sessions``
    WebSocket sessions: ``websocket.sessions`` for a target without tenants, else the
    per-tenant sessions of ``tier`` (``websocket.sessions_per_tenant[tier]``);
``tenants``
    LEVEL tenants of ``tier`` (the only tier provisioned), each holding ``tenant_sessions``
    WebSocket sessions (its quota) and bringing the scenario's HTTP load as written for one
    tenant (``load.rate`` or ``load.users`` times LEVEL).

Stages are dropped (a step is one steady level) and the duration becomes warm-up + hold.
Everything else of the scenario (target, requests, SLO, limits) stays as written; the hard
duration cap becomes 2 x the step plus 60 s so that a slow step still ends by itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from foundation.errors import UsageError
from scenarios.spec import LoadedScenario, Scenario

__all__ = ["VARY", "HoldPolicy", "Vary", "event_rate", "scenario_at_level"]

Vary = Literal["rate", "users", "sessions", "tenants"]
VARY: tuple[Vary, ...] = ("rate", "users", "sessions", "tenants")


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    """How long a step holds its level: long enough for ``events`` judged events.

    When a step's event rate is known in advance (:func:`event_rate`: an open-model step)
    the hold is ``margin x events / rate`` seconds, clamped to ``[min_s, max_s]``; otherwise
    it is ``min_s``. The margin (20 %) covers arrivals lost at the edges of the judged window
    (the first ones fall in the warm-up, the last may not be sent before the workers stop),
    which would leave an objective one event short of its ``min_events``. A confirmation
    hold is ``confirm_factor`` times the step's hold.

    Example::

        HoldPolicy(events=200, min_s=5, max_s=60).hold_s(10.0)   # 24.0
    """

    events: int
    min_s: float
    max_s: float
    confirm_factor: float = 2.0
    margin: float = 1.2

    def hold_s(self, rate: float | None, *, confirm: bool = False) -> float:
        base = self.min_s
        if rate is not None and rate > 0:
            base = min(self.max_s, max(self.min_s, math.ceil(self.margin * self.events / rate)))
        return base * (self.confirm_factor if confirm else 1.0)


def event_rate(loaded: LoadedScenario, vary: Vary, level: float) -> float | None:
    """HTTP arrivals per second a step at ``level`` sends, when the open model fixes it:
    the level itself for ``rate``; ``load.rate x level`` for ``tenants``; else ``None``."""
    load = loaded.scenario.load
    if vary == "rate":
        return level
    if vary == "tenants" and load.model == "open" and load.rate is not None:
        return load.rate * max(1, round(level))
    return None


def scenario_at_level(
    loaded: LoadedScenario,
    vary: Vary,
    level: float,
    hold_s: float,
    *,
    tier: str | None = None,
    tenant_sessions: int | None = None,
) -> LoadedScenario:
    """``loaded`` with the level of ``vary`` set to ``level`` for one step of ``hold_s``."""
    s = loaded.scenario
    data: dict[str, Any] = s.model_dump(by_alias=True, exclude_unset=True)
    data.pop("stages", None)
    data["duration"] = s.warmup + hold_s
    limits = dict(data.get("limits") or {})
    limits["max_duration"] = 2 * (s.warmup + hold_s) + 60.0
    data["limits"] = limits
    if vary == "rate":
        data["load"] = _open_load(s, level)
    elif vary == "users":
        data["load"] = _closed_load(s, round(level))
    elif vary == "sessions":
        data["websocket"] = _sessions(s, round(level), tier)
    else:
        _tenants(data, s, round(level), tier, tenant_sessions)
    return loaded.replaced(data, f"--vary {vary} at level {level:g} does not fit")


def _open_load(s: Scenario, rate: float) -> dict[str, Any]:
    load = s.load.model_dump(by_alias=True, exclude_unset=True)
    for key in ("users", "think_time", "spawn_rate"):
        load.pop(key, None)
    load.update(model="open", rate=rate)
    return load


def _closed_load(s: Scenario, users: int) -> dict[str, Any]:
    load = s.load.model_dump(by_alias=True, exclude_unset=True)
    for key in ("rate", "arrival"):
        load.pop(key, None)
    load.update(model="closed", users=max(1, users))
    return load


def _ws_base(s: Scenario) -> dict[str, Any]:
    return {} if s.websocket is None else s.websocket.model_dump(by_alias=True, exclude_unset=True)


def _sessions(s: Scenario, n: int, tier: str | None) -> dict[str, Any]:
    ws = _ws_base(s)
    tiers = s.tiers()
    if not tiers:
        ws.pop("sessions_per_tenant", None)
        ws["sessions"] = max(1, n)
        return ws
    chosen = tier or (tiers[0] if len(tiers) == 1 else None)
    if chosen is None or chosen not in tiers:
        raise UsageError(
            f"--vary sessions on a scenario with tenants in {', '.join(tiers)} needs "
            "--tier naming one of them (the tier whose per-tenant sessions vary)"
        )
    per = dict(ws.get("sessions_per_tenant") or {})
    per[chosen] = max(1, n)
    ws["sessions_per_tenant"] = per
    ws.pop("sessions", None)
    return ws


def _tenants(data: dict[str, Any], s: Scenario, n: int, tier: str | None,
             tenant_sessions: int | None) -> None:
    if tier is None:
        raise UsageError("--vary tenants needs --tier (e.g. --tier enterprise)")
    if s.credentials or not s.is_reference_target():
        raise UsageError(
            "--vary tenants provisions tenants, so it needs the reference target "
            "(target: embedded, or a 'tenants:' section and its admin token)"
        )
    n = max(1, n)
    tenants = dict(data.get("tenants") or {})
    for t in ("starter", "team", "enterprise"):
        tenants.pop(t, None)
    tenants[tier] = n
    data["tenants"] = tenants
    data.pop("tier_weights", None)
    if tenant_sessions:
        ws = _ws_base(s)
        ws.pop("sessions", None)
        ws["sessions_per_tenant"] = {tier: tenant_sessions}
        data["websocket"] = ws
    elif s.websocket is not None:
        ws = _ws_base(s)
        ws["sessions_per_tenant"] = {
            t: v for t, v in (ws.get("sessions_per_tenant") or {}).items() if t == tier}
        data["websocket"] = ws
    load = s.load.model_dump(by_alias=True, exclude_unset=True)
    if s.load.model == "open" and s.load.rate is not None:
        load["rate"] = s.load.rate * n
    elif s.load.model == "closed" and s.load.users is not None:
        load["users"] = s.load.users * n
    data["load"] = load
