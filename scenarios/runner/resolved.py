"""The "fully resolved scenario" kept in run.json: what was asked, and what the engines ran.

Secrets never reach the record: tokens given in the scenario are replaced by ``"***"`` and
provisioned tokens are not written at all, so a run record can be attached to a ticket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scenarios.spec import Scenario

if TYPE_CHECKING:
    from scenarios.http.plan import HttpPlan
    from scenarios.swarm import SwarmPlan

__all__ = ["resolved_scenario"]

_SECRET_KEYS = frozenset({"token", "admin_token"})


def resolved_scenario(
    scenario: Scenario,
    http_plan: HttpPlan | None,
    swarm_plan: SwarmPlan | None,
    cap_s: float,
) -> dict[str, Any]:
    """The scenario as validated (defaults filled in), plus the plans derived from it."""
    data = scenario.model_dump(mode="json", by_alias=True)
    for cred in data.get("credentials", []):
        for key in _SECRET_KEYS & cred.keys():
            if cred[key] is not None:
                cred[key] = "***"
    data["resolved"] = {
        "planned_duration_s": scenario.total_duration(),
        "max_duration_s": cap_s,
        "http": None if http_plan is None else _http(http_plan),
        "websocket": None if swarm_plan is None else _swarm(swarm_plan),
    }
    return data


def _http(plan: HttpPlan) -> dict[str, Any]:
    return {
        "model": plan.model,
        "arrival": plan.arrival,
        "stages": [
            {"duration_s": s.duration_s, "users": s.users, "rate": s.rate, "ramp": s.ramp}
            for s in plan.stages
        ],
        "tier_weights": dict(plan.tier_weights),
        "tenants": len(plan.tenants),
        "requests": [r.name for r in plan.requests],
        "processes": plan.processes,
    }


def _swarm(plan: SwarmPlan) -> dict[str, Any]:
    return {
        "url": plan.url,
        "protocol": plan.protocol,
        "sessions": sum(g.sessions for g in plan.groups),
        "groups": [
            {"name": g.name, "tier": g.tier, "tenant": g.tenant, "sessions": g.sessions} for g in plan.groups
        ],
        "connect_rate": plan.connect_rate,
        "shards": plan.shards,
    }
