"""The scenario file, as pydantic models: the trust boundary between a hand-written YAML file
and the runner.

Every model is frozen and forbids unknown fields, so a typo (``duraton: 30s``) is an error
naming its line instead of a silently ignored setting. Cross-field rules (an open model needs
a rate, a ramp needs ``to`` ...) live in ``model_validator``s here, so a file that loads is a
file the runner can execute. Field-by-field documentation for users: ``docs/scenarios.md``.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from foundation.durations import Duration
from foundation.yamlfile import FieldValueError
from scenarios.spec.faults import FaultModel, check_faults
from scenarios.spec.units import ByteSize

__all__ = [
    "REFERENCE_TIERS",
    "Credential",
    "DistributedSpec",
    "EmbeddedOptions",
    "Limits",
    "LoadSpec",
    "RequestModel",
    "Scenario",
    "StageModel",
    "TenantMix",
    "WebSocketSpec",
]

REFERENCE_TIERS: tuple[str, ...] = ("starter", "team", "enterprise")
"""Tiers of the reference target, in the order they are shown and provisioned."""

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_KIND_FIELDS: dict[str, frozenset[str]] = {
    # which optional fields each stage kind accepts; anything else set is a mistake
    "ramp": frozenset({"to"}),
    "steady": frozenset({"level"}),
    "soak": frozenset({"level"}),
    "step": frozenset({"from_", "to", "steps"}),
    "spike": frozenset({"level", "factor", "hold"}),
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class RequestModel(_Model):
    """One HTTP request of a foreign target's traffic mix (``http:`` list)."""

    name: str = Field(min_length=1)
    method: str = "GET"
    path: str
    weight: float = Field(default=1.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    expect_status: tuple[int, ...] = ()

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        upper = value.upper()
        if upper not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(sorted(_METHODS))}")
        return upper

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("path must start with '/' (it is joined to the target URL)")
        return value

    @field_validator("expect_status", mode="before")
    @classmethod
    def _one_status(cls, value: object) -> object:
        return (value,) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _one_body(self) -> RequestModel:
        if self.json_body is not None and self.body is not None:
            raise ValueError("give either json or body, not both")
        return self


class StageModel(_Model):
    """One load-profile stage; ``level``/``to``/``from`` are users (closed) or req/s (open)."""

    kind: Literal["ramp", "steady", "step", "spike", "soak"]
    duration: Duration = Field(gt=0)
    level: float | None = Field(default=None, ge=0)
    to: float | None = Field(default=None, ge=0)
    from_: float | None = Field(default=None, ge=0, alias="from")
    steps: int | None = Field(default=None, ge=1, le=1000)
    factor: float | None = Field(default=None, gt=0)
    hold: Duration | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> StageModel:
        allowed = _KIND_FIELDS[self.kind]
        extra = sorted(
            f.rstrip("_") for f in self.model_fields_set - {"kind", "duration"} - allowed
        )
        if extra:
            raise FieldValueError(
                (extra[0],),
                f"a {self.kind} stage does not take {', '.join(extra)} "
                f"(it takes {', '.join(sorted(f.rstrip('_') for f in allowed))})",
            )
        if self.kind in ("ramp", "step") and self.to is None:
            raise ValueError(f"a {self.kind} stage needs 'to' (the level it ends at)")
        if self.kind in ("steady", "soak") and self.level is None:
            raise ValueError(f"a {self.kind} stage needs 'level'")
        if self.hold is not None and self.hold >= self.duration:
            raise FieldValueError(
                ("hold",), "a spike's hold must be shorter than the stage's duration"
            )
        return self


class LoadSpec(_Model):
    """How load is generated: closed (users with think time) or open (arrivals per second)."""

    model: Literal["open", "closed"] = "closed"
    rate: float | None = Field(default=None, gt=0)
    users: int | None = Field(default=None, ge=1)
    arrival: Literal["constant", "poisson"] = "constant"
    think_time: tuple[Duration, Duration] = (1.0, 2.0)
    processes: int = Field(default=1, ge=1, le=64)
    spawn_rate: float | None = Field(default=None, gt=0)
    request_timeout: Duration = Field(default=30.0, gt=0)

    @field_validator("think_time", mode="before")
    @classmethod
    def _think_pair(cls, value: object) -> object:
        return value if isinstance(value, list | tuple) else (value, value)

    @model_validator(mode="after")
    def _model_fields(self) -> LoadSpec:
        lo, hi = self.think_time
        if lo > hi:
            raise FieldValueError(
                ("think_time",), "think_time is [min, max]: min must not exceed max"
            )
        if self.model == "open":
            wrong = self.model_fields_set & {"users", "think_time", "spawn_rate"}
            if wrong:
                raise FieldValueError(
                    (sorted(wrong)[0],),
                    f"an open model has no {', '.join(sorted(wrong))}: it sends 'rate' "
                    "requests per second whatever the responses do (use model: closed)"
                )
        else:
            wrong = self.model_fields_set & {"rate", "arrival"}
            if wrong:
                raise FieldValueError(
                    (sorted(wrong)[0],),
                    f"a closed model has no {', '.join(sorted(wrong))}: it runs 'users' "
                    "users with think time (use model: open for arrivals per second)"
                )
        return self


class TenantMix(_Model):
    """Tenants to provision per tier through the reference target's admin API."""

    starter: int = Field(default=0, ge=0, le=10_000)
    team: int = Field(default=0, ge=0, le=10_000)
    enterprise: int = Field(default=0, ge=0, le=10_000)
    admin_token_env: str = "SLOGATE_ADMIN_TOKEN"

    def counts(self) -> dict[str, int]:
        """Tier -> tenants, reference tier order, tiers with zero tenants left out."""
        return {t: getattr(self, t) for t in REFERENCE_TIERS if getattr(self, t) > 0}


class Credential(_Model):
    """A tenant credential given for a foreign target (no provisioning)."""

    tenant: str = Field(min_length=1)
    tier: str = Field(min_length=1)
    token: str | None = None
    token_env: str | None = None
    role: str = "developer"
    admin_token: str | None = None
    admin_token_env: str | None = None

    @model_validator(mode="after")
    def _one_token(self) -> Credential:
        if (self.token is None) == (self.token_env is None):
            raise ValueError("give exactly one of token or token_env")
        if self.admin_token is not None and self.admin_token_env is not None:
            raise FieldValueError(
                ("admin_token_env",),"give at most one of admin_token or admin_token_env")
        return self


class WebSocketSpec(_Model):
    """Long-lived WebSocket sessions held for the whole run (the swarm)."""

    path: str = "/v1/sessions/ws"
    url: str | None = None
    protocol: Literal["slogate", "echo"] = "slogate"
    sessions_per_tenant: dict[str, int] = Field(default_factory=dict)
    sessions: int = Field(default=0, ge=0, le=1_000_000)
    prompt_interval: Duration = Field(default=5.0, gt=0)
    prompts_per_session: int | None = Field(default=None, ge=0)
    message: str | None = None
    jitter: float = Field(default=0.1, ge=0, lt=1)
    connect_rate: float = Field(default=200.0, gt=0)
    shards: int = Field(default=1, ge=1, le=64)
    response_timeout: Duration = Field(default=30.0, gt=0)
    source_addresses: tuple[str, ...] = ()
    reconnect_delay: Duration | None = None  # None: a dropped session stays down

    @field_validator("sessions_per_tenant")
    @classmethod
    def _non_negative(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [tier for tier, n in value.items() if n < 0]
        if bad:
            raise ValueError(f"sessions must be >= 0 (tier {bad[0]})")
        return value

    @field_validator("url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("ws", "wss"):
            raise ValueError("url must start with ws:// or wss://")
        return value

    @field_validator("source_addresses")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for addr in value:
            try:
                ipaddress.ip_address(addr)
            except ValueError:
                raise ValueError(f"{addr!r} is not an IP address") from None
        return value


class Limits(_Model):
    """Hard limits that end a run whatever the scenario says."""

    max_duration: Duration | None = Field(default=None, gt=0)
    disk_budget: ByteSize = Field(default=1024**3, gt=0)
    stop_timeout: Duration = Field(default=15.0, gt=0)


class EmbeddedOptions(_Model):
    """How to start the embedded reference target (``target: embedded``)."""

    workers: int = Field(default=1, ge=1, le=16)
    database: Literal["sqlite", "owned-postgres"] = "sqlite"
    # shared quotas across workers; without a database number (redis://127.0.0.1:6379) the
    # run claims one of its own, flushed at start and end (scenarios/runner/redis_db.py)
    redis: str | None = None

    @field_validator("redis")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss"):
            raise ValueError("redis must be a redis:// URL, e.g. redis://127.0.0.1:6379")
        return value

    @model_validator(mode="after")
    def _workers_share(self) -> EmbeddedOptions:
        if self.workers > 1 and self.redis is None:
            raise FieldValueError(
                ("redis",),
                f"{self.workers} workers need redis (a redis:// URL): without it each worker "
                "keeps its own quotas",
            )
        return self


class DistributedSpec(_Model):
    """Generate the load from other machines (``slogate worker``) through Locust's
    master/worker engine; each worker host runs ``load.processes`` HTTP processes and
    ``websocket.shards`` shards, so the run's totals are split over ``expect_workers`` hosts."""

    expect_workers: int = Field(ge=1, le=256)
    bind: str = "*"  # address the master listens on for workers; "*" = every interface
    port: int = Field(default=5557, ge=0, le=65535)  # Locust's default master port
    join_timeout: Duration = Field(default=120.0, gt=0)


class Scenario(_Model):
    """A whole scenario file. Load with :func:`scenarios.spec.load_scenario`.

    Example (the smallest useful file)::

        target: http://127.0.0.1:9000
        duration: 30s
        load: {model: open, rate: 50}
        http: [{name: ping, method: GET, path: /ping}]
    """

    name: str | None = None
    description: str = ""
    target: str = "embedded"
    duration: Duration | None = Field(default=None, gt=0)
    warmup: Duration = 0.0
    load: LoadSpec = Field(default_factory=LoadSpec)
    stages: tuple[StageModel, ...] = ()
    tenants: TenantMix | None = None
    credentials: tuple[Credential, ...] = ()
    tier_weights: dict[str, float] = Field(default_factory=dict)
    http: tuple[RequestModel, ...] = ()
    websocket: WebSocketSpec | None = None
    slo: str | None = None
    limits: Limits = Field(default_factory=Limits)
    embedded: EmbeddedOptions = Field(default_factory=EmbeddedOptions)
    isolation_probe: bool = False  # scenarios/isolation/: every {id} route tried cross-tenant
    distributed: DistributedSpec | None = None
    faults: tuple[FaultModel, ...] = ()
    health_path: str | None = Field(default=None, pattern=r"^/")  # prober GET path; reference: /readyz

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if value == "embedded":
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("target must be 'embedded' or an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("tier_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [tier for tier, w in value.items() if w < 0]
        if bad:
            raise ValueError(f"weights must be >= 0 (tier {bad[0]})")
        if value and sum(value.values()) <= 0:
            raise ValueError("at least one tier weight must be > 0")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Scenario:
        if self.duration is None and not self.stages:
            raise ValueError("give a duration, or stages (whose durations add up to it)")
        if self.warmup >= self.total_duration():
            raise FieldValueError(("warmup",), "warmup must be shorter than the run's duration")
        if self.credentials and (self.tenants is not None or self.target == "embedded"):
            raise FieldValueError(
                ("credentials",),
                "credentials are for a foreign target; the reference target's tenants are "
                "provisioned from 'tenants'"
            )
        _check_tiers(self)
        _check_http_load(self)
        check_faults(self)
        return self

    def total_duration(self) -> float:
        """Seconds of load: ``duration`` if given, else the stages' sum."""
        if self.duration is not None:
            return self.duration
        return sum(s.duration for s in self.stages)

    def is_reference_target(self) -> bool:
        """True when the target is the reference service (its tier users apply)."""
        return self.target == "embedded" or self.tenants is not None

    def tiers(self) -> tuple[str, ...]:
        """Tiers that have tenants (provisioned or given), in a stable order."""
        if self.credentials:
            return tuple(dict.fromkeys(c.tier for c in self.credentials))
        if self.tenants is not None:
            return tuple(self.tenants.counts())
        return ()

    def has_http_load(self) -> bool:
        """Whether any HTTP load runs: requests to send (or tier users) and a level > 0."""
        has_level = bool(self.stages) or self.load.rate is not None or self.load.users is not None
        return has_level and (bool(self.http) or self.is_reference_target())


def _check_tiers(s: Scenario) -> None:
    tiers = set(s.tiers())
    unknown = sorted(set(s.tier_weights) - tiers)
    if unknown:
        raise FieldValueError(
            ("tier_weights", unknown[0]), "this tier has no tenants (see tenants/credentials)"
        )
    ws = s.websocket
    if ws is not None:
        missing = sorted(t for t, n in ws.sessions_per_tenant.items() if n and t not in tiers)
        if missing:
            raise FieldValueError(
                ("websocket", "sessions_per_tenant", missing[0]),
                "this tier has no tenants (see tenants/credentials)",
            )
        if ws.sessions and tiers:
            raise FieldValueError(
                ("websocket", "sessions"),
                "with tenants, say sessions_per_tenant (sessions is for a target without tenants)",
            )
        if not ws.sessions and not any(ws.sessions_per_tenant.values()):
            raise FieldValueError(("websocket",), "give sessions or sessions_per_tenant")


def _check_http_load(s: Scenario) -> None:
    if s.http and not (s.stages or s.load.rate or s.load.users):
        what = "rate" if s.load.model == "open" else "users"
        raise FieldValueError(
            ("load",), f"http requests are given but load has no {what} and there are no stages"
        )
    if not s.has_http_load() and s.websocket is None:
        raise ValueError(
            "the scenario generates no load: give http requests with a load level, "
            "or a websocket section"
        )
    if s.stages and s.load.model == "closed":
        for i, stage in enumerate(s.stages):
            for key, value in (("level", stage.level), ("to", stage.to), ("from", stage.from_)):
                if value is not None and value != int(value):
                    raise FieldValueError(
                        ("stages", i, key), f"a closed model counts whole users, got {value}"
                    )
