"""The HTTP load plan: what one :func:`~scenarios.http.launcher.start_http_load` call drives.

Plain frozen data, validated in ``__post_init__`` and carried to the Locust worker processes
as one JSON file, so the runner (which must never import ``locust``) and the workers agree on
every number. This module also holds the pure arithmetic that splits a plan between ``K``
independent worker processes: worker ``i`` gets ``1/K`` of the users (remainder to the first
ones) and ``1/K`` of the arrival rate, so the sum over workers is exactly the plan.

Example::

    plan = HttpPlan(
        base_url="http://127.0.0.1:9000",
        model="open",
        stages=(Stage(duration_s=30, rate=50),),
        requests=(RequestSpec(name="ping", method="GET", path="/ping"),),
    )
    handle = start_http_load(plan, run_dir, first_worker=0)
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from foundation.errors import ConfigError

__all__ = [
    "METHODS",
    "TIERS",
    "HttpPlan",
    "RequestSpec",
    "Stage",
    "TenantCredential",
    "split_count",
]

TIERS: Final = ("starter", "team", "enterprise")
METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
DEFAULT_TIER_WEIGHTS: Final = {"starter": 0.5, "team": 0.3, "enterprise": 0.2}
PLAN_SCHEMA_VERSION: Final = 1


def _finite(value: float, at: str, *, positive: bool = False) -> None:
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        need = "a finite number > 0" if positive else "a finite number >= 0"
        raise ConfigError(f"must be {need}, got {value!r}", field=at)


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One request of a foreign target's request list.

    ``expect_status`` empty means any 2xx/3xx is ok (Locust's own check: 2xx, and
    redirects, which are followed); otherwise only the listed codes are.
    ``name`` is what samples are grouped by (e.g. ``ping`` or ``GET /items/{id}``).
    """

    name: str
    method: str
    path: str
    weight: float = 1.0
    headers: tuple[tuple[str, str], ...] = ()
    json_body: Any = None
    body: str | None = None
    expect_status: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        at = f"http[{self.name}]"
        if not self.name:
            raise ConfigError("needs a non-empty name", field="http[].name")
        if self.method.upper() not in METHODS:
            raise ConfigError(
                f"unknown method {self.method!r}; use one of {', '.join(sorted(METHODS))}",
                field=f"{at}.method",
            )
        if not self.path.startswith("/"):
            raise ConfigError(f"must start with '/', got {self.path!r}", field=f"{at}.path")
        _finite(self.weight, f"{at}.weight", positive=True)
        if self.json_body is not None and self.body is not None:
            raise ConfigError("give either json or body, not both", field=f"{at}.body")
        for code in self.expect_status:
            if not 100 <= code <= 599:
                raise ConfigError(f"not an HTTP status: {code}", field=f"{at}.expect_status")

    def is_expected(self, status: int) -> bool:
        """Whether a response with ``status`` counts as ok for this request."""
        if self.expect_status:
            return status in self.expect_status
        return 200 <= status < 400


@dataclass(frozen=True, slots=True)
class TenantCredential:
    """A provisioned tenant a tier user acts as: its bearer ``token`` and that token's role.

    ``admin_token`` is a tenant-admin token for the audit reads of enterprise users; when it
    is ``None`` and ``role`` is not ``admin``, users read their run list instead.
    """

    tenant: str
    tier: str
    token: str
    role: str
    admin_token: str | None = None


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of the load profile.

    Closed model reads ``users``, open model reads ``rate`` (arrivals per second, whole plan).
    ``ramp=True`` moves linearly from the previous stage's value (0 before the first stage)
    to this one over the stage; ``ramp=False`` steps to it at the start of the stage.
    """

    duration_s: float
    users: int | None = None
    rate: float | None = None
    ramp: bool = False


def _tier_weights_default() -> dict[str, float]:
    return dict(DEFAULT_TIER_WEIGHTS)


@dataclass(frozen=True, slots=True)
class HttpPlan:
    """Everything the HTTP workers need; see the module docstring for an example.

    ``requests`` non-empty means a foreign target driven from that request list; empty means
    the reference target's tier users, one tenant from ``tenants`` per user (round robin
    within its tier). ``tier_weights`` is the share of users (closed) or arrivals (open) per
    tier, renormalised over the tiers that have tenants.

    ``pool_size`` is the number of open-model users per worker (``None``: enough for the
    peak rate with ``open_headroom_s`` of latency each, see :meth:`open_pool_size`).
    ``slip_threshold_s``: an open-model send later than this counts as a schedule slip.
    """

    base_url: str
    model: Literal["open", "closed"]
    stages: tuple[Stage, ...]
    arrival: Literal["constant", "poisson"] = "constant"
    requests: tuple[RequestSpec, ...] = ()
    tenants: tuple[TenantCredential, ...] = ()
    tier_weights: dict[str, float] = field(default_factory=_tier_weights_default)
    think_time_s: tuple[float, float] = (0.5, 1.5)
    processes: int = 1
    spawn_rate: float = 50.0
    request_timeout_s: float = 30.0
    seed: int | None = None
    pool_size: int | None = None
    open_headroom_s: float = 2.0
    max_pool_size: int = 2000
    slip_threshold_s: float = 0.010
    allow_remote: bool = False

    def __post_init__(self) -> None:
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(
                f"must be an http(s) URL like http://127.0.0.1:8000, got {self.base_url!r}",
                field="target",
            )
        if self.model not in ("open", "closed"):
            raise ConfigError(f"must be 'open' or 'closed', got {self.model!r}", field="load.model")
        if self.arrival not in ("constant", "poisson"):
            raise ConfigError(
                f"must be 'constant' or 'poisson', got {self.arrival!r}", field="load.arrival"
            )
        if not self.stages:
            raise ConfigError("needs at least one stage", field="load.stages")
        key = "rate" if self.model == "open" else "users"
        for i, stage in enumerate(self.stages):
            _finite(stage.duration_s, f"load.stages[{i}].duration", positive=True)
            value = getattr(stage, key)
            if value is None:
                raise ConfigError(
                    f"the {self.model} model needs '{key}' in every stage", field=f"load.stages[{i}]"
                )
            _finite(float(value), f"load.stages[{i}].{key}")
        self._check_numbers()
        if not self.requests:
            self._check_tenants()

    def _check_numbers(self) -> None:
        lo, hi = self.think_time_s
        _finite(lo, "load.think_time")
        _finite(hi, "load.think_time")
        if lo > hi:
            raise ConfigError(f"min {lo} is above max {hi}", field="load.think_time")
        if self.processes < 1:
            raise ConfigError(f"must be >= 1, got {self.processes}", field="load.processes")
        _finite(self.spawn_rate, "load.spawn_rate", positive=True)
        _finite(self.request_timeout_s, "http_timeout", positive=True)
        _finite(self.slip_threshold_s, "load.slip_threshold", positive=True)
        _finite(self.open_headroom_s, "load.open_headroom", positive=True)
        if self.pool_size is not None and self.pool_size < 1:
            raise ConfigError(f"must be >= 1, got {self.pool_size}", field="load.pool_size")
        for tier, weight in self.tier_weights.items():
            _finite(weight, f"tiers.{tier}.weight")

    def _check_tenants(self) -> None:
        if not self.tenants:
            raise ConfigError(
                "tier users need tenant credentials; give an 'http' request list for a "
                "foreign target, or tenants for the reference target",
                field="tenants",
            )
        for t in self.tenants:
            if t.tier not in TIERS:
                raise ConfigError(
                    f"unknown tier {t.tier!r} for tenant {t.tenant!r}; use one of {', '.join(TIERS)}",
                    field="tenants",
                )
        if sum(self.tier_weights.get(t, 0.0) for t in self.tiers()) <= 0:
            raise ConfigError(
                f"every tier with tenants ({', '.join(self.tiers())}) has weight 0",
                field="tiers",
            )

    # ----- derived values (pure) -------------------------------------------------------

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.stages)

    def tiers(self) -> tuple[str, ...]:
        """Tiers that have at least one tenant, in :data:`TIERS` order."""
        present = {t.tier for t in self.tenants}
        return tuple(t for t in TIERS if t in present)

    def group_shares(self) -> dict[str, float]:
        """Share of users/arrivals per user group: tier name, or ``""`` for a request list."""
        if self.requests:
            return {"": 1.0}
        weights = {t: self.tier_weights.get(t, 0.0) for t in self.tiers()}
        total = sum(weights.values())
        return {t: w / total for t, w in weights.items() if w > 0}

    def peak_rate(self) -> float:
        return max((s.rate or 0.0) for s in self.stages)

    def open_pool_size(self, group_share: float) -> int:
        """Open-model users one worker runs for a group: peak arrivals x headroom, capped.

        Each user sends one request at a time, so a pool of ``rate x L`` users keeps up while
        responses take up to ``L`` seconds; beyond that sends slip (counted, and corrected).
        """
        if self.pool_size is not None:
            return max(1, round(self.pool_size * group_share))
        rate = self.peak_rate() * group_share / self.processes
        return min(self.max_pool_size, math.ceil(rate * self.open_headroom_s) + 2)

    def worker_stages(self, index: int) -> tuple[Stage, ...]:
        """Stages of worker ``index`` of :attr:`processes`: users split, rate divided."""
        k = self.processes
        return tuple(
            Stage(
                duration_s=s.duration_s,
                users=None if s.users is None else split_count(s.users, k, index),
                rate=None if s.rate is None else s.rate / k,
                ramp=s.ramp,
            )
            for s in self.stages
        )

    # ----- JSON ------------------------------------------------------------------------

    def to_json(self) -> str:
        data = asdict(self)
        data["schema_version"] = PLAN_SCHEMA_VERSION
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> HttpPlan:
        data: dict[str, Any] = json.loads(text)
        version = data.pop("schema_version", None)
        if version != PLAN_SCHEMA_VERSION:
            raise ConfigError(
                f"HTTP plan schema_version {version!r} is not {PLAN_SCHEMA_VERSION}; "
                "regenerate the plan with this slogate version",
                field="schema_version",
            )
        data["stages"] = tuple(Stage(**s) for s in data["stages"])
        data["requests"] = tuple(
            RequestSpec(
                **{
                    **r,
                    "headers": tuple((str(k), str(v)) for k, v in r["headers"]),
                    "expect_status": tuple(r["expect_status"]),
                }
            )
            for r in data["requests"]
        )
        data["tenants"] = tuple(TenantCredential(**t) for t in data["tenants"])
        data["think_time_s"] = tuple(data["think_time_s"])
        return cls(**data)


def split_count(total: int, parts: int, index: int) -> int:
    """Part ``index`` of ``total`` split into ``parts`` near-equal integers (sum is exact)."""
    base, extra = divmod(total, parts)
    return base + (1 if index < extra else 0)
