"""The control plane: is the target there, and give it the tenants the scenario needs.

httpx is right here and wrong on the load path (PERFORMANCE-NOTES.md): a handful of calls
before the run, each timed. Tenant provisioning time is itself a readiness claim (DESIGN.md
claim 11, "tenant provisioning < 2 min"), so every tenant's time is kept for run.json.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from foundation.errors import TargetError

__all__ = ["ProvisionedTenant", "Provisioning", "check_reachable", "provision_tenants"]


def check_reachable(base_url: str, probe_paths: Sequence[str], *, timeout_s: float = 5.0) -> str:
    """Return the first probe path the target answers (any HTTP status counts as an answer).

    A foreign target may have no ``/healthz``; a 404 still proves something is listening.
    Raises :class:`TargetError` in one sentence when nothing answers.
    """
    last_error = "no probe path"
    with httpx.Client(base_url=base_url, timeout=timeout_s) as client:
        for path in probe_paths:
            try:
                client.get(path)
            except httpx.HTTPError as exc:
                last_error = _short(exc)
                continue
            return path
    raise TargetError(f"target {base_url} is unreachable ({last_error}); start it, or check --target")


def _short(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__


@dataclass(frozen=True, slots=True)
class ProvisionedTenant:
    """A tenant created for this run, with a developer token and a tenant-admin token."""

    tenant_id: str
    name: str
    tier: str
    token: str
    admin_token: str
    seconds: float  # tenant creation plus its tokens, wall clock


@dataclass(frozen=True, slots=True)
class Provisioning:
    tenants: tuple[ProvisionedTenant, ...]
    seconds: float  # all tenants, wall clock

    def summary(self) -> dict[str, Any]:
        """What run.json keeps (no tokens): counts per tier and timings."""
        per = [t.seconds for t in self.tenants]
        tiers: dict[str, int] = {}
        for t in self.tenants:
            tiers[t.tier] = tiers.get(t.tier, 0) + 1
        return {
            "tenants": len(self.tenants),
            "per_tier": tiers,
            "total_s": round(self.seconds, 4),
            "per_tenant_median_s": round(statistics.median(per), 4) if per else None,
            "per_tenant_max_s": round(max(per), 4) if per else None,
        }


def provision_tenants(
    base_url: str,
    admin_token: str,
    counts: Mapping[str, int],
    *,
    prefix: str,
    timeout_s: float = 30.0,
) -> Provisioning:
    """Create ``counts[tier]`` tenants per tier and two tokens each, through the admin API.

    ``POST /v1/tenants`` then ``POST /v1/tenants/{id}/tokens`` for roles ``developer`` and
    ``admin``. Tenant names start with ``prefix`` (the run id) so runs never collide.
    """
    started = time.perf_counter()
    made: list[ProvisionedTenant] = []
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=base_url, timeout=timeout_s, headers=headers) as client:
        for tier, n in counts.items():
            for i in range(n):
                made.append(_one_tenant(client, f"{prefix}-{tier}-{i}", tier))
    return Provisioning(tuple(made), time.perf_counter() - started)


def _one_tenant(client: httpx.Client, name: str, tier: str) -> ProvisionedTenant:
    t0 = time.perf_counter()
    tenant = _post(client, "/v1/tenants", {"name": name, "tier": tier})
    tenant_id = str(tenant["id"])
    developer = _post(client, f"/v1/tenants/{tenant_id}/tokens", {"role": "developer"})
    admin = _post(client, f"/v1/tenants/{tenant_id}/tokens", {"role": "admin"})
    return ProvisionedTenant(
        tenant_id=tenant_id,
        name=name,
        tier=tier,
        token=str(developer["token"]),
        admin_token=str(admin["token"]),
        seconds=time.perf_counter() - t0,
    )


def _post(client: httpx.Client, path: str, body: dict[str, str]) -> dict[str, Any]:
    try:
        response = client.post(path, json=body)
    except httpx.HTTPError as exc:
        raise TargetError(f"provisioning failed: POST {path}: {_short(exc)}") from exc
    if response.status_code != 201:
        hint = " (check the admin token)" if response.status_code in (401, 403) else ""
        raise TargetError(
            f"provisioning failed: POST {path} answered {response.status_code}: {response.text[:200]}{hint}"
        )
    data = response.json()
    if not isinstance(data, dict):
        raise TargetError(f"provisioning failed: POST {path} answered {data!r}, not an object")
    return data
